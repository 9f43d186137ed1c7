"""The journal: a programme and its check-ins in one JSON file, written whole or not at all.

Everything a later command needs is in it (the answers, the calendar with each item's rung and
dose, every check-in with its decision and reasons, and the provenance of the knowledge and rule
base that made it), so ``show``, ``checkin`` and ``history`` read it alone. A command that
reads and then replaces it holds :func:`hipcoach.atomic.locked` on it in between. It is
checked against its format (``formats.Journal``) on reading: a file edited
by hand or cut short is one clear error, never a half-read programme.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import BinaryIO

from .. import formats
from ..atomic import write_atomic
from ..errors import ProgrammeError
from ..formats import Journal
from ..kb.schema import read_limited

#: 2: the journal records the knowledge and rule base that made it, re-plans, each item's
#: pause and each check-in's urgency and whether it changed the days after it.
VERSION = 2


def dumps(journal: Journal) -> str:
    """The canonical text: keys in builder order, two-space indent, so output is byte-stable."""
    return json.dumps(journal, indent=2, ensure_ascii=False) + "\n"


def write_journal(path: Path, journal: Journal) -> None:
    """Replace ``path`` with ``journal``: a failure at any point leaves the old file as it was."""
    text = dumps(journal)
    try:
        write_atomic(path, lambda stream: stream.write(text))
    except OSError as exc:
        raise ProgrammeError(f"cannot write the journal {path}: {exc.strerror or exc}") from exc


def read_journal(path: Path | BinaryIO, name: str | None = None) -> Journal:
    """The journal in ``path`` (or a stream, such as an uploaded file, called ``name``), checked;
    anything else is one error naming the file."""
    if name is None:
        name = str(path)
    try:
        text = read_limited(path if not isinstance(path, str | Path) else Path(path))
    except ValueError as exc:
        raise ProgrammeError(f"{name}: {exc}") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ProgrammeError(f"{name}: not a hipcoach journal (not JSON); start one with "
                             "`hipcoach programme start`") from None
    if isinstance(data, dict) and data.get("version") == 1:
        raise ProgrammeError(f"{name} was written by an older hipcoach, before journals recorded "
                             "the rules that made them; start a new programme with `hipcoach "
                             "programme start`")
    wrong = formats.problem(data, Journal)
    if wrong is None and data["version"] != VERSION:
        wrong = f"version {data['version']!r} is not {VERSION}"
    if wrong is not None:
        raise ProgrammeError(f"{name}: not a hipcoach journal: {wrong}")
    journal: Journal = data
    return journal
