"""A runner's answers: reading them from a file, checking them, filling defaults, skip logic.

The questionnaire in the knowledge base is the single definition of every answer id, its type,
its allowed values and its default; this module only applies it.

Contradictory answers (a pain level with no pain site, or a site with no pain level) are not
refused here and never guessed away: the answers are kept as given, and the rules name the
contradiction in the plan and plan cautiously (``rules/advice.yaml`` and
``rules/candidates.yaml``). Every entry point (``plan``, ``ask``, ``score``, a programme's start
and check-ins) plans through :func:`normalise` or :func:`complete` and the same rules, so each
applies that one policy alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from ..errors import AnswersError
from .knowledge import KnowledgeBase, Question
from .ops import holds
from .schema import parse_yaml, read_limited

Answers = dict[str, Any]


def read_answers(source: Path | TextIO | BinaryIO, name: str | None = None) -> Mapping[str, Any]:
    """Parse an answers document (JSON or YAML; JSON is a subset of YAML) from a path or stream,
    within the size and nesting limits of :func:`~hipcoach.kb.schema.parse_yaml`."""
    label = name or str(source)
    try:
        text = read_limited(source)
    except ValueError as exc:
        raise AnswersError(None, None, f"{label}: {exc}") from None
    try:
        data = parse_yaml(text)
    except ValueError as exc:
        raise AnswersError(None, None, f"{label}: not valid JSON or YAML: {exc}") from None
    if data is None:
        raise AnswersError(None, None, f"{label}: is empty; expected a mapping of answer ids to values")
    if not isinstance(data, Mapping):
        raise AnswersError(None, None,
                           f"{label}: expected a mapping of answer ids to values, got {type(data).__name__}")
    return data


def normalise(raw: Mapping[str, Any], kb: KnowledgeBase) -> Answers:
    """Check ``raw`` against the questionnaire and return complete, canonical answers.

    Unknown keys are errors (a typo must not silently fall back to a default); a ``null`` value
    means "not answered" and takes the default. The result holds every question, in
    questionnaire order, so equal answers always serialise identically.
    """
    unknown = sorted((key for key in raw if key not in kb.questions), key=str)
    if unknown:
        raise AnswersError(str(unknown[0]), raw[unknown[0]],
                           f"unknown answer id; known ids: {', '.join(kb.questions)}")
    return complete({key: question.coerce(raw[key]) for key, question in kb.questions.items()
                     if raw.get(key) is not None}, kb)


def complete(checked: Mapping[str, Any], kb: KnowledgeBase) -> Answers:
    """Answers already checked by ``Question.coerce``, with the defaults filled in, in
    questionnaire order."""
    answers: Answers = {}
    for question in kb.questions.values():
        value = checked.get(question.id)
        if value is None:  # a copy: callers may change their answers, never the questionnaire
            answers[question.id] = list(question.default) if isinstance(question.default, list) \
                else question.default
        else:
            answers[question.id] = value
    return answers


def should_ask(question: Question, answers: Mapping[str, Any]) -> bool:
    """Skip logic: a question with ``ask_if_any`` is asked only when one condition holds."""
    if not question.ask_if_any:
        return True
    return any(answers.get(cond.answer) is not None
               and holds(cond.op, answers[cond.answer], cond.value) for cond in question.ask_if_any)


def dumps(answers: Mapping[str, Any]) -> str:
    """Answers as canonical JSON: the form ``ask --save`` writes and tests compare."""
    return json.dumps(dict(answers), indent=2, ensure_ascii=False) + "\n"
