"""Property tests over random valid answers: never crash, always a referral or a sound plan."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hipcoach import Planner
from hipcoach.kb.knowledge import Question

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
@pytest.mark.slow
def test_always_a_referral_or_a_sound_plan(raw):
    plan = _PLANNER.plan(raw)
    growing_pain = raw.get("age", 35) < 16 and (
        raw.get("knee_pain", "none") != "none" or raw.get("hip_pain", "none") != "none"
        or raw.get("low_back") == "pain")
    if plan["status"] == "refer":
        assert plan["reasons"] and plan["items"] == []
        assert raw.get("red_flags") or raw.get("pain_level", 0) >= 8 or growing_pain
        return
    assert not raw.get("red_flags") and raw.get("pain_level", 0) < 8 and not growing_pain
    budget = raw.get("minutes", 20)
    assert plan["budget_minutes"] == budget
    assert plan["total_minutes"] <= budget
    assert plan["balanced"] or plan["notes"], "an unbalanced plan must say why"
    if plan["balanced"]:
        cats = {item["category"] for item in plan["items"]}
        # with IT-band, outer-hip or kneecap pain and under 15 minutes, the condition's strength
        # work takes the time and no stretch is asked for (README, Clinical basis: Time)
        core_first = bool({s["id"] for s in plan["symptoms"]}
                          & {"itbs", "outer_hip_tendon_pain", "runners_knee"}) and budget < 15
        assert ({"strength", "smr"} if core_first else {"stretch", "strength", "smr"}) <= cats
    owned = set(raw.get("equipment", []))
    dropped = {d["exercise"] for d in plan["dropped"]}
    for item in plan["items"]:
        assert set(item["equipment"]) <= owned
        assert item["exercise"] not in dropped
        assert item["because"] and item["when"] in {s["slot"] for s in plan["schedule"]}


@SETTINGS
@given(answers())
@pytest.mark.slow
def test_same_answers_give_the_same_json(raw):
    first = json.dumps(_PLANNER.plan(raw), sort_keys=False)
    assert json.dumps(_PLANNER.plan(dict(raw)), sort_keys=False) == first


@SETTINGS
@given(answers())
@pytest.mark.slow
def test_clinical_invariants_hold_for_any_answers(raw):
    """What a physio would check first, for any runner: urgency on every referral, the most urgent
    leading; no ballistic moves from 65 or with kneecap pain; no run blocks for a non-runner; hip
    abductor strength with outer knee or hip pain whenever the plan has room for any strength;
    pain monitoring advice on every plan."""
    plan = _PLANNER.plan(raw)
    if plan["status"] == "refer":
        order = [u.id for u in _PLANNER.rulebase.urgencies]
        assert plan["urgency"] == min((r["urgency"] for r in plan["reasons"]), key=order.index)
        assert plan["reasons"][0]["urgency"] == plan["urgency"]
        return
    chosen = {item["exercise"] for item in plan["items"]}
    if raw.get("age", 35) >= 65:
        assert not chosen & {"bouncing_lunges", "toy_soldiers", "chair_pose_squats"}
    if raw.get("knee_pain") == "front":
        assert not chosen & {"bouncing_lunges", "chair_pose_squats"}
    if raw.get("weekly_km", 20) == 0:
        assert not {b["slot"] for b in plan["schedule"]} & {"before_run", "after_run"}
    strength = [i for i in plan["items"] if i["category"] == "strength"]
    if "outside" in (raw.get("knee_pain"), raw.get("hip_pain")) and strength:
        assert any("hip_abductors" in i["targets"] for i in strength)
    assert [a["id"] for a in plan["advice"]][-2:] == ["pain_monitoring", "see_clinician_if_persists"]
    assert ("ease_running_load" in [a["id"] for a in plan["advice"]]) == \
        bool(raw.get("recent_load_increase", False))
