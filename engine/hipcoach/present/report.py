"""A scored survey's report as one self-contained, printable HTML page.

The page is the handouts' (:mod:`.handout`): inline CSS, no scripts, and a Content-Security-
Policy that forbids every request; its charts are inline SVG drawn when it is made
(:mod:`.charts`), each with a title, a description and the table of the numbers it shows.
Everything from the survey (ids, group names) goes through jinja2's autoescape.
"""

from __future__ import annotations

from typing import Any, Protocol

from markupsafe import Markup

from . import charts
from .handout import _page as page  # one template environment for every page


class _Chart(Protocol):
    title: str
    alt: str
    bars: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    unit: str
    stacked: bool


def report_html(figures: Any) -> str:
    """The page of ``figures`` (a :class:`hipcoach.batch.report.Figures`)."""
    sections = [{"id": s.id, "heading": s.heading, "intro": s.intro, "tables": s.tables,
                 "charts": [_drawn(chart) for chart in s.charts]} for s in figures.sections]
    # the run's table names hipcoach and the rule base in full, so the page needs no footer
    return page("report.html.j2", made_by=None, title=figures.title, run=figures.run,
                notices=figures.notices, contacts=figures.contacts, group=figures.group,
                sections=sections, fewer=figures.fewer)


def _drawn(chart: _Chart) -> dict[str, Any]:
    svg = charts.bars(chart.bars, chart.series, chart.unit, chart.stacked, chart.title, chart.alt)
    return {"title": chart.title, "alt": chart.alt, "svg": Markup(svg)}
