"""The questionnaire as web form pages, and posted fields back to answers.

Everything comes from the questionnaire (``knowledge/questionnaire.yaml``, the one definition
`ask`, `questionnaire` and `score` use): the questions, their labels, help, defaults and
ranges, and the skip logic (:func:`hipcoach.kb.answers.should_ask`, the function `ask` uses).
The questions triage reads come first, so no other question is asked before triage has its
answers: those that decide a referral on their own (a triage rule reads them and nothing else)
and depend on no other answer on a step of their own, so red flags are asked before anything
else; then the other triage questions whose skip logic reads only triage answers; then the rest,
each group in questionnaire order.

Without JavaScript the form is answered step by step: a new step starts wherever a question's
skip logic reads an answer of the step being filled in, so the server always knows, when it
shows a question, whether it applies. With JavaScript the steps up to the next triage question
are shown on one page and hidden or shown as the runner answers (:func:`Steps.page`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import AnswersError, excerpt
from ..kb.answers import should_ask
from ..kb.knowledge import Question
from ..present.form import options

#: What a posted true/false question sends, in the order the form shows them.
BOOL_VALUES = ("yes", "no")
#: The longest value one field may hold, in characters (the longest answer is a choice id).
MAX_FIELD_CHARS = 200


class FormError(ValueError):
    """A posted form the server cannot use; ``field`` names the field at fault."""

    def __init__(self, field: str | None, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class Field:
    """One question as a form shows it."""

    question: Question
    choices: tuple[tuple[str, str], ...]  # (value, label) of each radio button or checkbox
    value: Any  # what is filled in or ticked: the answer so far, else the default (or None)

    @property
    def id(self) -> str:
        return self.question.id

    @property
    def widget(self) -> str:
        """``number``, ``radio`` (one answer) or ``checkbox`` (any number)."""
        return {"int": "number", "number": "number", "multi": "checkbox"}.get(self.question.type,
                                                                              "radio")

    @property
    def step(self) -> str:
        """The number input's step: whole numbers, or any."""
        return "1" if self.question.type == "int" else "any"

    def checked(self, value: str) -> bool:
        if isinstance(self.value, list):
            return value in self.value
        return value == shown(self.question, self.value)

    @property
    def ask_if_any(self) -> str:
        """The skip logic as JSON, for the page's script (empty: always asked)."""
        return json.dumps([{"answer": c.answer, "op": c.op, "value": c.value}
                           for c in self.question.ask_if_any]) if self.question.ask_if_any else ""


def shown(question: Question, value: Any) -> str:
    """An answer as a form field holds it."""
    if question.type == "bool":
        return BOOL_VALUES[0] if value else BOOL_VALUES[1]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def hidden(question: Question, value: Any) -> list[str]:
    """The hidden fields that carry an earlier answer to the next step: a list question sends an
    empty marker first, so ticking none is still an answer."""
    if question.type == "multi":
        return [""] + list(value)
    return [shown(question, value)]


class Steps:
    """The questionnaire's pages, in asking order."""

    def __init__(self, questions: Mapping[str, Question], triage: frozenset[str],
                 decisive: frozenset[str]) -> None:
        """``triage``: the answers triage rules read; ``decisive``: those some triage rule
        reads on their own."""
        self.questions = questions
        self.triage = triage
        self.decisive = decisive
        first = [q for q in questions.values() if q.id in decisive and not q.ask_if_any]
        screened = [q for q in questions.values() if q not in first and q.id in triage
                    and all(c.answer in triage for c in q.ask_if_any)]
        self.steps: list[list[Question]] = [first] if first else []
        for question in screened + [q for q in questions.values()
                                    if q not in first and q not in screened]:
            here = {q.id for q in self.steps[-1]} if self.steps else set()
            reads = {c.answer for c in question.ask_if_any}
            starts = (not self.steps or self.steps[-1] is first or reads & here
                      or (self.steps[-1][-1].id in triage and question.id not in triage))
            if starts:
                self.steps.append([question])
            else:
                self.steps[-1].append(question)

    def next(self, answers: Mapping[str, Any]) -> int | None:
        """The first step with a question that applies and is not answered yet; none when the
        questionnaire is done."""
        for number, step in enumerate(self.steps):
            if any(q.id not in answers and should_ask(q, answers) for q in step):
                return number
        return None

    def page(self, number: int, answers: Mapping[str, Any]) -> tuple[list[Field], list[Field]]:
        """The fields of step ``number`` (those that apply), and the fields of the steps after
        it up to the next triage question, which the page's script shows when they apply.
        Once a page holds a triage question, only further triage questions join it, and none
        once it holds an answer that decides a referral on its own: triage answers are checked
        before anything else is asked."""
        now = [self.field(q, answers) for q in self.steps[number]
               if q.id not in answers and should_ask(q, answers)]
        later: list[Field] = []
        alone = any(q.id in self.decisive for q in self.steps[number])
        triaged = any(q.id in self.triage for q in self.steps[number])
        for step in [] if alone else self.steps[number + 1:]:
            if triaged and not all(q.id in self.triage for q in step):
                break
            triaged = triaged or any(q.id in self.triage for q in step)
            later += [self.field(q, answers) for q in step if q.id not in answers]
        return now, later

    def field(self, question: Question, answers: Mapping[str, Any]) -> Field:
        if question.type == "bool":
            choices = tuple(zip(BOOL_VALUES, options(question)))
        else:
            choices = tuple(zip(question.values, options(question)))
        # a triage question starts blank: its answer decides a referral, so it is never
        # taken from a default the runner did not see to change
        start = None if question.id in self.triage and question.type != "multi" else question.default
        return Field(question, choices, answers.get(question.id, start))

    def carried(self, answers: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        """The hidden fields (name, value, the question's type) that carry ``answers`` to the
        next page."""
        return [(key, value, self.questions[key].type) for key, answer in answers.items()
                for value in hidden(self.questions[key], answer)]


def parse(fields: Sequence[tuple[str, str]], questions: Mapping[str, Question],
          controls: Sequence[str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Posted ``(name, value)`` pairs as checked answers (in questionnaire order) and the
    values of the ``controls`` (fields that are not answers, such as the CSRF token).

    A field that is neither an answer id nor a control, a value over
    :data:`MAX_FIELD_CHARS`, a blank or repeated one-answer field and a value the question does
    not allow are each a :class:`FormError` naming the field."""
    raw: dict[str, list[str]] = {}
    control: dict[str, list[str]] = {}
    for name, text in fields:
        if len(text) > MAX_FIELD_CHARS and name not in controls:
            raise FormError(name[:40], f"longer than {MAX_FIELD_CHARS} characters")
        if name in controls:
            control.setdefault(name, []).append(text)
        elif name in questions:
            raw.setdefault(name, []).append(text)
        else:
            raise FormError(name[:40], "unknown field; the fields are the answer ids: "
                                       + ", ".join(questions))
    answers: dict[str, Any] = {}
    for key, question in questions.items():
        if key not in raw:
            continue
        values = raw[key]
        if question.type == "multi":
            value: Any = [v for v in values if v != ""]
        elif len(values) > 1:
            raise FormError(key, "sent more than once; this question takes one answer")
        elif values[0].strip() == "":
            raise FormError(key, "is blank: answer the question, or leave the field out")
        else:
            value = values[0]
        try:
            answers[key] = question.coerce(value)
        except AnswersError as exc:
            raise FormError(key, f"{excerpt(value)} is not allowed: {exc.problem}") from None
    return answers, control
