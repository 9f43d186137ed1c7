"""Running the CLI in tests, and the checks every command family's tests share."""

from __future__ import annotations

from typing import Any

import click
from click.testing import CliRunner, Result

from hipcoach.cli import cli


def invoke(*args: Any, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args], input=input, prog_name="hipcoach")


def words(text: str) -> str:
    """``text`` with all runs of whitespace as one space (help text is wrapped to the terminal)."""
    return " ".join(text.split())


def ok(result: Result) -> Result:
    """Assert a clean success, showing what went wrong otherwise."""
    assert result.exception is None, result.output
    assert result.exit_code == 0, result.output
    return result


def failed(result: Result, code: int, *needles: str) -> str:
    """Assert a deliberate failure with ``code``: no traceback, no stdout, exactly one error line,
    holding every needle. Returns the error line (without the ``Error: `` prefix).
    """
    assert result.exit_code == code, result.output
    # a crash would leave the real exception here instead of click's SystemExit
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0][len("Error: "):]


def one_line(result: Result) -> None:
    """A one-line message: stderr is the single ``Error: ...`` line and nothing else."""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def commands(group: click.Group) -> dict[str, click.Command]:
    """A group's commands by name, as the command line finds them (the root group loads its
    commands' modules only when asked)."""
    ctx = click.Context(group)
    found = {name: group.get_command(ctx, name) for name in group.list_commands(ctx)}
    return {name: command for name, command in found.items() if command is not None}
