"""``hipcoach questionnaire``: print the form to build, so its export scores with no mapping."""

from __future__ import annotations

from pathlib import Path

import click

from ..present.form import FORMATS, render_form
from .options import engine_options, load_planner


@click.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text to read, markdown to share, json for other tools.")
@engine_options
def questionnaire(fmt: str, kb: Path | None, rules: Path | None) -> None:
    """Print the form to build in Google Forms, Microsoft Forms, Typeform, SurveyMonkey or
    Qualtrics: each question in order, its type, its options and when to show it.

    Built with these titles and options, the form's export is scored by `hipcoach score` with no
    mapping.
    """
    planner = load_planner(kb, rules)
    click.echo(render_form(planner.kb, fmt), nl=False)
