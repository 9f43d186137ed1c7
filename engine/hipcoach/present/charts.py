"""Bar charts as inline SVG, drawn with matplotlib when a survey report is made.

The SVG is the same byte for byte for the same figures: no date in its metadata, a fixed salt
for the ids matplotlib generates, and text kept as text (``svg.fonttype: none``), so the page
carries real words a screen reader and a PDF can read. Labels are never read as mathematics
(a club called ``$5k`` stays ``$5k``). matplotlib is imported here only, and only when a report
is drawn (it is the ``report`` extra).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, cast

#: One colour per series, dark enough for text beside it and distinct in greyscale print.
COLOURS = ("#1d4e6e", "#d08c2f", "#6c9a3b", "#a33b3b", "#7a5c99", "#3b8a8a", "#8a8a8a")
STYLE: dict[str, Any] = {"svg.hashsalt": "hipcoach", "svg.fonttype": "none", "text.parse_math": False,
         "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"],
         "font.size": 9.0, "axes.spines.top": False, "axes.spines.right": False}


def bars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], unit: str,
         stacked: bool = False, title: str = "", description: str = "") -> str:
    """A horizontal bar chart of ``series`` (name, one value per label) over ``labels``, side by
    side or ``stacked``, as one ``<svg>`` element whose ``<title>`` and ``<desc>`` say what it
    shows."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    with matplotlib.rc_context(cast(Any, STYLE)):
        height = 0.9 + 0.3 * len(labels) * (1 if stacked else max(1, len(series)) ** 0.6)
        figure = Figure(figsize=(7.0, height))
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        thickness = 0.8 if stacked else 0.8 / max(1, len(series))
        left = [0.0] * len(labels)
        for number, (name, values) in enumerate(series):
            colour = COLOURS[number % len(COLOURS)]
            if stacked:
                axes.barh(positions, values, height=thickness, left=left, label=name,
                          color=colour)
                left = [a + b for a, b in zip(left, values)]
            else:
                offset = (number - (len(series) - 1) / 2) * thickness
                axes.barh([p + offset for p in positions], values, height=thickness, label=name,
                          color=colour)
        axes.set_yticks(positions, [_short(label) for label in labels])
        axes.invert_yaxis()
        axes.set_xlabel(unit)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(series) > 1:
            axes.legend(loc="lower right", frameon=False, fontsize=8)
        # fixed margins, from the longest label, instead of a layout pass that draws it twice
        longest = max((len(_short(label)) for label in labels), default=1)
        figure.subplots_adjust(left=min(0.5, 0.03 + longest * 0.0095), right=0.98,
                               bottom=0.45 / height + 0.05, top=1 - 0.12 / height)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    head = svg.index(">") + 1
    return (svg[:head].replace("<svg ", '<svg role="img" ', 1) + f"<title>{_xml(title)}</title>"
            f"<desc>{_xml(description)}</desc>" + svg[head:]).rstrip("\n")


def _short(label: str, most: int = 38) -> str:
    return label if len(label) <= most else label[:most - 1] + "…"


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
