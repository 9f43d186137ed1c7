"""Facts: how answers, knowledge and each layer's conclusions are encoded for the rule engine,
and read back from a firing or a trace. The one home of the encoding; the field names a rule
pattern may test are declared with the rule files (``kb.rulefile.FACT_FIELDS``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..kb.answers import Answers
from ..kb.knowledge import Exercise, KnowledgeBase
from ..kb.rulefile import FACT_FIELDS

Fact = dict[str, Any]
#: The field every fact carries to say what it is.
TYPE_FIELD = "t"
#: Certainties are asserted rounded, so equal evidence gives byte-equal facts.
CF_DIGITS = 6


def kind_of(fact: Mapping[str, Any]) -> Any:
    """A fact's type (``answer``, ``symptom``, ...), or None for something that is no fact."""
    return fact.get(TYPE_FIELD)


def answer_of(fact: Mapping[str, Any]) -> tuple[str, Any]:
    """An answer fact's answer id and value."""
    (key, value), = ((k, v) for k, v in fact.items() if k != TYPE_FIELD)
    return key, value


def fields_of(fact: Mapping[str, Any]) -> dict[str, Any]:
    """A fact's fields without its type."""
    return {k: v for k, v in fact.items() if k != TYPE_FIELD}


def fact_problem(fact: Mapping[str, Any]) -> str | None:
    """What makes ``fact`` (a matched fact read back from a trace) no fact of this encoding, or
    None: its type must be known, an answer fact holds one answer, any other fact its fields."""
    kind = kind_of(fact)
    if not isinstance(kind, str) or kind not in FACT_FIELDS:
        return f"has no known fact type {TYPE_FIELD!r} ({', '.join(FACT_FIELDS)})"
    fields, found = FACT_FIELDS[kind], fields_of(fact)
    if fields is None:
        return None if len(found) == 1 else "names no answer" if not found else "names several answers"
    return None if set(found) == set(fields) else f"is a {kind} fact, whose fields are {', '.join(fields)}"


def answer_facts(answers: Answers) -> list[Fact]:
    """Each answer as its own fact; a list answer as one fact per chosen item."""
    return [{TYPE_FIELD: "answer", key: item} for key, value in answers.items()
            for item in (value if isinstance(value, list) else [value])]


def knowledge_facts(kb: KnowledgeBase) -> list[Fact]:
    """What each exercise needs and the movement demands it makes, for rules that filter
    candidates by the runner's equipment and by the demands their answers rule out."""
    return ([{TYPE_FIELD: "requires", "exercise": ex.id, "item": item}
             for ex in kb.exercises.values() for item in ex.equipment]
            + [{TYPE_FIELD: "demands", "exercise": ex.id, "demand": demand}
               for ex in kb.exercises.values() for demand in ex.demands])


def ruled_out_facts(demands: Iterable[str]) -> list[Fact]:
    """The movement demands the runner's answers rule out."""
    return [{TYPE_FIELD: "ruled_out", "demand": demand} for demand in demands]


def concept_facts(kind: str, certainties: Iterable[tuple[str, float]]) -> list[Fact]:
    """Symptoms or causes that cleared their layer's threshold."""
    return [{TYPE_FIELD: kind, "name": ident, "cf": round(cf, CF_DIGITS)} for ident, cf in certainties]


def candidate_facts(kb: KnowledgeBase, certainties: Iterable[tuple[str, float]]) -> list[Fact]:
    """Exercises proposed with enough certainty, with their category for the plan rules."""
    return [{TYPE_FIELD: "candidate", "exercise": ident, "category": kb.exercises[ident].category,
             "cf": round(cf, CF_DIGITS)} for ident, cf in certainties]


def item_facts(exercises: Iterable[Exercise]) -> list[Fact]:
    """The exercises the plan step chose, for the schedule and advice rules."""
    return [{TYPE_FIELD: "item", "exercise": ex.id, "category": ex.category, "when": ex.when}
            for ex in exercises]


# ------------------------------------------------------------------- a programme's check-ins

def checkin_facts(readings: Sequence[tuple[int, str, int, int]], kept: int) -> list[Fact]:
    """The latest ``kept`` of every check-in so far, oldest first, each ``(pain_during,
    next_morning, thirds_done, days)``: the last is ``back`` 0, the one before it 1, and so on;
    ``rise`` is the pain's change since the check-in before (0 for the first: none before it)."""
    last = len(readings) - 1
    return [{TYPE_FIELD: "checkin", "back": last - index, "pain_during": pain,
             "next_morning": morning, "thirds_done": thirds, "days": days,
             "rise": pain - readings[index - 1][0] if index else 0}
            for index, (pain, morning, thirds, days) in enumerate(readings)][-kept:]


def triage_facts(referrals: Iterable[tuple[str, str]]) -> list[Fact]:
    """The referrals the triage rules concluded from the latest check-in, each ``(reason,
    urgency)``."""
    return [{TYPE_FIELD: "triage", "reason": reason, "urgency": urgency}
            for reason, urgency in referrals]


def decision_fact(kind: str) -> Fact:
    """The programme's decision, for rules that decide one item differently."""
    return {TYPE_FIELD: "decision", "kind": kind}


def step_facts(steps: Iterable[tuple[str, int, str, str]]) -> list[Fact]:
    """Each item's ``(exercise, step, next, prev)``: its rung, and whether it can move up or down
    (``ok``) or why not."""
    return [{TYPE_FIELD: "step", "exercise": exercise, "step": step, "next": up, "prev": down}
            for exercise, step, up, down in steps]
