"""Pieces every command family shares: option decorators and loading the planner."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..kb.schema import unreadable
from ..planning.planner import Planner
from ..present.render import FORMATS


def suggestion(name: str, known: list[str], fallback: str = "") -> str:
    """"did you mean ...?" with the known names closest to ``name``, or ``fallback``."""
    close = difflib.get_close_matches(name, known, n=3)
    return f"did you mean {', '.join(close)}?" if close else fallback


def unknown(name: str, what: str, known: list[str]) -> click.ClickException:
    """The one-line error for a name that is not ``what``, suggesting the closest known names."""
    hint = suggestion(name, known)
    return click.ClickException(f"{name!r} is not {what}{'; ' + hint if hint else ''}")


def input_file(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Click callback for an input file: one that is missing, a folder or unreadable is bad
    input (exit 1 with one line, as the README promises), not a usage error (exit 2)."""
    if value is None or str(value) == "-":
        return value
    try:
        with open(value, "rb"):
            pass
    except OSError as exc:
        raise click.ClickException(f"{value}: {unreadable(exc)}") from None
    return value


def unwritable(exc: OSError, path: Path) -> str:
    """Why ``path`` could not be written, in words: the folder is missing, is a file, is a
    folder itself, or may not be written to."""
    if isinstance(exc, FileNotFoundError):
        return f"folder {path.parent} does not exist"
    if isinstance(exc, NotADirectoryError):
        return f"{path.parent} is not a folder"
    if isinstance(exc, IsADirectoryError):
        return "it is a folder"
    return exc.strerror or str(exc)


def load_planner(kb: Path | None, rules: Path | None) -> Planner:
    """The planner on the bundled or given data; a bad file becomes a one-line error."""
    return Planner(kb, rules)


def engine_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--kb`` and ``--rules``: run on an edited copy of the knowledge base or rules."""

    @click.option("--kb", "kb", type=click.Path(file_okay=False, exists=True, path_type=Path),
                  help="Knowledge-base folder to use instead of the bundled one.")
    @click.option("--rules", "rules", type=click.Path(file_okay=False, exists=True, path_type=Path),
                  help="Rules folder to use instead of the bundled one.")
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """How the plan is shown, and the minutes-a-day override."""

    @click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                  help="text and markdown are for runners, html is a printable handout for them "
                       "(with steps and a tick-box log; it ignores --brief and --explain); json "
                       "is for other tools.")
    @click.option("--minutes", type=int, default=None,
                  help="The most a day's hip work may take, in minutes (5-90); overrides the "
                       "'minutes' answer.")
    @click.option("--explain", is_flag=True,
                  help="Add the full chain behind every choice, down to the answers.")
    @click.option("--brief", is_flag=True,
                  help="One line per exercise, without its steps and cautions.")
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper
