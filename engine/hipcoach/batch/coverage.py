"""Which answers a survey must carry before its rows may be scored, and what the user assumes
for those it lacks.

An answer with no column takes its default for everyone. For most answers that only makes a plan
less personal; for an answer a triage rule reads (red flags, pain level), it gives a full plan to
someone who should see a clinician instead. So a survey without a column for every such answer
is refused, unless the user says, answer by answer, what to assume (``--assume ANSWER=VALUE``).
The answers are read off the triage rules, never listed here, so a red flag added to the rules
is required at once.
"""

from __future__ import annotations

from typing import Any

from ..errors import AnswersError, SurveyError
from ..kb.checks import literals
from ..kb.knowledge import KnowledgeBase
from ..kb.rulefile import RuleBase
from ..present.explain import value_text
from .mapping import Mapping


def triage_needs(rulebase: RuleBase, kb: KnowledgeBase) -> dict[str, frozenset[str]]:
    """Each answer a triage rule reads, in questionnaire order, with the choices of a list
    answer that the rules test (empty for other answers)."""
    tested: dict[str, set[str]] = {}
    for rule in rulebase.layer("triage"):
        for pattern in rule.patterns:
            if pattern.fact != "answer":
                continue
            for test in pattern.tests:
                values = tested.setdefault(test.field, set())
                if kb.questions[test.field].type == "multi":
                    values.update(str(v) for v in literals(test))
    return {answer: frozenset(tested[answer]) for answer in kb.questions if answer in tested}


def missing(mapping: Mapping, needs: dict[str, frozenset[str]], kb: KnowledgeBase
            ) -> dict[str, tuple[str, ...]]:
    """The needed answers the mapping gives no column for: ``answer -> ()`` when it has none at
    all, or ``answer -> choices`` when its tick boxes come one column per option and the
    columns of those tested choices are missing."""
    whole = {c.answer for c in mapping.columns if c.item is None}
    items: dict[str, set[str]] = {}
    for column in mapping.columns:
        if column.item is not None:
            items.setdefault(column.answer, set()).add(column.item)
    result: dict[str, tuple[str, ...]] = {}
    for answer, choices in needs.items():
        if answer in whole:
            continue
        if answer not in items:
            result[answer] = ()
            continue
        lacking = tuple(v for v in kb.questions[answer].values
                        if v in choices and v not in items[answer])
        if lacking:
            result[answer] = lacking
    return result


def parse_assumption(text: str, kb: KnowledgeBase) -> tuple[str, Any]:
    """``ANSWER=VALUE`` as ``(answer id, checked value)``; an empty VALUE is an empty list for
    a list answer (nobody ticked anything)."""
    answer, equals, value = text.partition("=")
    answer = answer.strip()
    if not equals or not answer:
        raise AnswersError(None, text, f"{text!r} is not ANSWER=VALUE (for example red_flags=)")
    question = kb.questions.get(answer)
    if question is None:
        raise AnswersError(answer, value, "unknown answer id")
    return answer, question.coerce(value.strip())


def check_assumptions(assumed: dict[str, Any], mapping: Mapping, needs: dict[str, frozenset[str]],
                      kb: KnowledgeBase) -> None:
    """Refuse an assumption for an answer the survey has a column for: the respondents' own
    answers must never be overridden (a list answer whose tested choices are partly missing may
    be assumed: the assumption fills in only what the columns cannot say)."""
    gaps = missing(mapping, needs, kb)
    for answer in assumed:
        columns = [c.name for c in mapping.columns if c.answer == answer]
        if columns and answer not in gaps:
            raise SurveyError(f"--assume {answer}: the survey has a column for it "
                              f"({columns[0]!r}); --assume is only for answers it lacks")


def refusal(survey: str, gaps: dict[str, tuple[str, ...]], kb: KnowledgeBase) -> SurveyError:
    """The error for a survey that cannot be triaged, naming what is missing and the way out."""
    named = []
    for answer, choices in gaps.items():
        what = f"{answer} ({kb.questions[answer].prompt!r})"
        if choices:
            what += f": no column for the choice(s) {', '.join(choices)}"
        named.append(what)
    first = next(iter(gaps))
    example = value_text(kb.questions[first].default)
    example = "" if example == "[]" else example
    return SurveyError(
        f"{survey}: no column for answer(s) the triage rules read: {'; '.join(named)}. Scored "
        f"without them, people who should see a clinician first would get an exercise plan. "
        f"Add the column(s) (and map them with --mapping), or, only if the survey never asked, "
        f"say what to assume with --assume ANSWER=VALUE (for example --assume {first}={example})")


def apply(raw: dict[str, Any], assumed: dict[str, Any], kb: KnowledgeBase) -> dict[str, Any]:
    """A row's answers with the assumptions filled in: an assumed list answer is united with
    the ticks the row's columns do give."""
    if not assumed:
        return raw
    result = dict(raw)
    for answer, value in assumed.items():
        if answer not in result:
            result[answer] = value
        elif kb.questions[answer].type == "multi":
            merged = set(result[answer]) | set(value)
            result[answer] = [v for v in kb.questions[answer].values if v in merged]
    return result
