"""Every error hipcoach raises on purpose.

One base class, so the CLI can turn any of them into a one-line message, and a subclass for each
kind of trouble, so callers (and tests) can tell a bad knowledge file from a bad answer.
"""

from __future__ import annotations

from typing import Any


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


class AnswersError(HipcoachError):
    """A runner's answers are malformed, or a value is unknown or out of range."""

    def __init__(self, key: str | None, value: Any, problem: str) -> None:
        self.key = key
        self.value = value
        self.problem = problem
        if key is None:
            super().__init__(problem)
        else:
            super().__init__(f"answer {key!r} = {value!r}: {problem}")


class EngineError(HipcoachError):
    """The rule engine failed while evaluating: a rule action raised, or the engine refused a fact."""


class TraceError(HipcoachError):
    """A trace file is unreadable, or does not hold what was asked of it."""


class SurveyError(HipcoachError):
    """A survey export or its mapping cannot be used at all (not CSV, no id column, ...)."""


class MappingError(DataFileError):
    """A survey mapping file is invalid."""
