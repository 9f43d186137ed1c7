"""Property tests over random valid answers: never crash, always a referral or a sound plan."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hipcoach import Planner
from hipcoach.knowledge import Question

_PLANNER = Planner()  # one per process: building it registers the ruleset


def value_for(question: Question) -> st.SearchStrategy:
    if question.type == "bool":
        return st.booleans()
    if question.type == "int":
        return st.integers(int(question.min), int(question.max))
    if question.type == "number":
        return st.floats(question.min, question.max, allow_nan=False).map(lambda x: round(x, 1))
    if question.type == "choice":
        return st.sampled_from(question.values)
    return st.lists(st.sampled_from(question.values), unique=True, max_size=len(question.values))


def answers() -> st.SearchStrategy:
    """Any subset of the questions, each with a valid value; red flags kept rare so most plan."""
    fields = {}
    for question in _PLANNER.kb.questions.values():
        strategy = value_for(question)
        if question.id == "red_flags":
            strategy = st.one_of(st.just([]), st.just([]), st.just([]), strategy)
        fields[question.id] = st.one_of(st.none(), strategy)
    return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not None})


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(answers())
def test_always_a_referral_or_a_sound_plan(raw):
    plan = _PLANNER.plan(raw)
    if plan["status"] == "refer":
        assert plan["reasons"] and plan["items"] == []
        assert raw.get("red_flags") or raw.get("pain_level", 0) >= 8
        return
    assert not raw.get("red_flags") and raw.get("pain_level", 0) < 8
    budget = raw.get("minutes", 20)
    assert plan["budget_minutes"] == budget
    assert plan["total_minutes"] <= budget
    assert plan["balanced"] or plan["notes"], "an unbalanced plan must say why"
    if plan["balanced"]:
        cats = {item["category"] for item in plan["items"]}
        assert {"stretch", "strength", "smr"} <= cats
    owned = set(raw.get("equipment", []))
    dropped = {d["exercise"] for d in plan["dropped"]}
    for item in plan["items"]:
        assert set(item["equipment"]) <= owned
        assert item["exercise"] not in dropped
        assert item["because"] and item["when"] in {s["slot"] for s in plan["schedule"]}


@SETTINGS
@given(answers())
def test_same_answers_give_the_same_json(raw):
    first = json.dumps(_PLANNER.plan(raw), sort_keys=False)
    assert json.dumps(_PLANNER.plan(dict(raw)), sort_keys=False) == first
