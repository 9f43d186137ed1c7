"""The ``hipcoach`` command line: a thin layer that turns library errors into one-line messages."""

from __future__ import annotations

from typing import Any

import click

from ..errors import HipcoachError
from .kb_cli import kb
from .plan_cli import ask, plan, schema
from .questionnaire_cli import questionnaire
from .score_cli import mapping, score
from .trace_cli import trace


class _Commands(click.Group):
    """The root group, and the one place library errors become one-line messages: every command
    below it, however deep, raises :class:`HipcoachError` and the user sees ``Error: ...``, exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HipcoachError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hipcoach")
def cli() -> None:
    """hipcoach: turn a runner's symptoms into a balanced hip-care plan that says why.

    Answer the questionnaire with `hipcoach ask`, or write the answers to a JSON or YAML file
    and run `hipcoach plan FILE`. Red flags end in advice to see a clinician, not exercises.
    """


for command in (plan, ask, trace, kb, score, mapping, questionnaire, schema):
    cli.add_command(command)
