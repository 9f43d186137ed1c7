"""The README's answers table is the questionnaire's (knowledge/questionnaire.yaml): every answer
once, with its type, what it allows and its default, so adding an answer there means adding a
row here."""

from __future__ import annotations

import re
from typing import Any

from conftest import ROOT

README = ROOT / "README.md"
#: How the table words each kind of answer (before any ``: detail`` or ``, detail``).
TYPE_WORDS = {"int": "whole number", "number": "number", "bool": "true/false", "choice": "choice",
              "multi": "list"}


def answers_table() -> dict[str, tuple[str, str, str]]:
    """The rows of the table under "### Answers": id -> (type, allowed, default)."""
    section = README.read_text(encoding="utf-8").split("### Answers", 1)[1]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        found = re.fullmatch(r"`(\w+)`", cells[0]) if line.startswith("|") else None
        if found:
            rows[found[1]] = (cells[1], cells[2], cells[3])
        elif rows and not line.startswith("|"):
            break
    return rows


def _number(value: Any) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def expected(question: Any) -> tuple[str, str, str]:
    if question.type in ("choice", "multi"):
        allowed = ", ".join(f"`{value}`" for value in question.values)
    elif question.type in ("int", "number"):
        allowed = f"{_number(question.min)}–{_number(question.max)}"
    else:
        allowed = ""
    default = question.default
    if isinstance(default, bool):
        shown = str(default).lower()
    elif isinstance(default, list):
        shown = f"`{default}`" if not default else ", ".join(f"`{d}`" for d in default)
    elif isinstance(default, str):
        shown = f"`{default}`"
    else:
        shown = _number(default)
    return TYPE_WORDS[question.type], allowed, shown


def test_the_answers_table_lists_every_answer_of_the_questionnaire_once(kb):
    assert sorted(answers_table()) == sorted(kb.questions)


def test_each_row_says_what_the_questionnaire_says(kb):
    for ident, (kind, allowed, default) in answers_table().items():
        want_kind, want_allowed, want_default = expected(kb.questions[ident])
        assert re.split(r"[:,]", kind)[0] == want_kind, ident
        assert (allowed, default) == (want_allowed, want_default), ident
