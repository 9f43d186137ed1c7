"""The ``hipcoach`` command line: a thin layer that turns library errors into one-line messages."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import click

from ..errors import HipcoachError

#: Each command, and the module of this package that defines it under that name. A command's
#: module is imported only when the command runs (or a help page lists it): `hipcoach plan`
#: never pays for batch scoring, traces or the knowledge-base tools.
COMMANDS = {"ask": "plan_cli", "diff": "diff_cli", "kb": "kb_cli", "mapping": "score_cli", "plan": "plan_cli",
            "programme": "programme_cli", "questionnaire": "questionnaire_cli", "schema": "plan_cli",
            "score": "score_cli", "serve": "serve_cli", "trace": "trace_cli"}


class _Commands(click.Group):
    """The root group, and the one place library errors become one-line messages: every command
    below it, however deep, raises :class:`HipcoachError` and the user sees ``Error: ...``, exit 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        command: click.Command = getattr(import_module(f"{__name__}.{COMMANDS[cmd_name]}"), cmd_name)
        return command

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
