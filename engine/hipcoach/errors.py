"""Every error hipcoach raises on purpose.

One base class, so the CLI can turn any of them into a one-line message, and a subclass for each
kind of trouble, so callers (and tests) can tell a bad knowledge file from a bad answer.
"""

from __future__ import annotations

import reprlib
from typing import Any

#: The longest excerpt of a value an error message shows.
EXCERPT_CHARS = 80
_EXCERPT = reprlib.Repr()
_EXCERPT.maxstring = _EXCERPT.maxother = _EXCERPT.maxlong = EXCERPT_CHARS
_EXCERPT.maxlist = _EXCERPT.maxtuple = _EXCERPT.maxset = _EXCERPT.maxdict = 6
_EXCERPT.maxlevel = 3


def excerpt(value: Any) -> str:
    """``repr(value)`` cut to a short excerpt, for echoing a bad value in an error message.

    A hostile or broken file can hold a value of a megabyte, or a structure that expands to
    billions of items through YAML aliases: a message must show enough to find it, never the
    whole of it, and must not walk all of it to do so.
    """
    text = _EXCERPT.repr(value)
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 3] + "..."


class HipcoachError(Exception):
    """Base class of all hipcoach errors."""


class DataFileError(HipcoachError):
    """A knowledge or rule file is unreadable or breaks the schema.

    The message always names the file, the entry (by id or position) and the problem, so the
    person editing the file can go straight to the line to fix.
    """

    def __init__(self, file: str, entry: str | None, problem: str) -> None:
        self.file = file
        self.entry = entry
        self.problem = problem
        where = f"{file}: {entry}" if entry else file
        super().__init__(f"{where}: {problem}")


class KnowledgeError(DataFileError):
    """A knowledge-base file (``knowledge/``) is invalid."""


class RuleError(DataFileError):
    """A rule file (``rules/``) is invalid."""


class ScenarioError(DataFileError):
    """A scenario file (``hipcoach kb test``) is invalid."""


class AnswersError(HipcoachError):
    """A runner's answers are malformed, or a value is unknown or out of range."""

    def __init__(self, key: str | None, value: Any, problem: str) -> None:
        self.key = key
        self.value = value
        self.problem = problem
        if key is None:
            super().__init__(problem)
        else:
            super().__init__(f"answer {excerpt(key)} = {excerpt(value)}: {problem}")


class EngineError(HipcoachError):
    """The rule engine failed while evaluating: a rule action raised, or the engine refused a fact."""


class TraceError(HipcoachError):
    """A trace file is unreadable, or does not hold what was asked of it."""


class SurveyError(HipcoachError):
    """A survey export or its mapping cannot be used at all (not CSV, no id column, ...)."""


class ColumnError(SurveyError):
    """A column named for carrying through or grouping by that the export cannot give.
    ``option`` says which: ``keep`` or ``group_by``."""

    def __init__(self, message: str, column: str, option: str) -> None:
        super().__init__(message)
        self.column, self.option = column, option


class ExtraError(HipcoachError):
    """An output asked for needs an optional extra that is not installed (``extra``: its name
    in ``pip install 'hipcoach[extra]'``)."""

    def __init__(self, message: str, extra: str) -> None:
        super().__init__(message)
        self.extra = extra


class MappingError(DataFileError):
    """A survey mapping file is invalid."""


class ProgrammeError(HipcoachError):
    """A programme cannot start, or a check-in or journal contradicts what the programme holds.

    ``field`` names what was wrong in the library's words (a check-in's ``pain_during``, a
    programme's ``start``), with the ``value`` given, so a caller such as the CLI can say it in
    its own (``--pain-during``); None when the trouble is not one value's."""

    def __init__(self, problem: str, field: str | None = None, value: Any = None) -> None:
        self.problem = problem
        self.field = field
        self.value = value
        super().__init__(problem if field is None else f"{field} {_shown(value)}: {problem}")


def _shown(value: Any) -> str:
    """A value as an error shows it beside its field: plain text for a string, short."""
    text = value if isinstance(value, str) else excerpt(value)
    return text if len(text) <= 40 else text[:37] + "..."


class ClusterError(HipcoachError):
    """Scoring on a Dask cluster cannot start or go on: Dask is not installed, the scheduler
    cannot be reached or was lost, no worker joined, or a worker failed or would score with
    other code or other files than this process."""


class OutputError(HipcoachError):
    """An output folder that cannot be replaced as a whole (a file, the current folder, or one
    holding folders of its own)."""


class WorkerError(HipcoachError):
    """A worker process of ``score --jobs`` died (killed, or out of memory) during the run."""
