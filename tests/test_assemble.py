"""hipcoach.planning.assemble, the plan step, on a tiny knowledge base of its own (``tests/fixtures/tiny``):
a handful of exercises and rules built so that every branch of the choice is easy to reach,
whatever the bundled data happens to exercise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hipcoach import Planner

TINY = Path(__file__).resolve().parent / "fixtures" / "tiny"


@pytest.fixture(scope="module")
def tiny() -> Planner:
    return Planner(TINY / "knowledge", TINY / "rules")


def chosen(plan: dict[str, Any]) -> dict[str, str | None]:
    return {item["exercise"]: item["chosen"]["rule"] for item in plan["items"]}


def drops(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["exercise"]: d for d in plan["dropped"]}


def test_a_requirement_naming_muscles_takes_an_exercise_that_works_them(tiny):
    plan = tiny.plan({"pain": "knee"})
    assert chosen(plan)["side_lift"] == "plan.require.abductors"
    # the general strength requirement is already met by it, so it chooses nothing of its own
    assert "plan.require.strength" not in chosen(plan).values()


def test_without_the_symptom_the_general_requirement_picks_the_best_strength_exercise(tiny):
    plan = tiny.plan({"pain": "none"})
    assert chosen(plan)["bridge"] == "plan.require.strength"
    assert "side_lift" not in chosen(plan)  # nothing proposes it without weak hips


def test_a_requirement_no_exercise_can_meet_is_unmet_as_impossible(tiny):
    plan = tiny.plan({"pain": "none", "equipment": []})
    assert plan["unmet"] == [{"rule": "plan.require.smr", "kind": "impossible", "reason":
                              "no self-massage exercise is possible with these answers and this "
                              "equipment. Self-massage gives way first."}]
    assert plan["notes"] == [plan["unmet"][0]["reason"]] and not plan["balanced"]
    assert drops(plan)["roll"] == {"exercise": "roll", "name": "Roll", "kind": "equipment",
                                   "reason": "needs a roller, which you don't have",
                                   "rule": "exclude.missing_equipment"}


def test_with_the_equipment_the_same_requirement_is_met(tiny):
    plan = tiny.plan({"pain": "none", "equipment": ["roller"]})
    assert chosen(plan)["roll"] == "plan.require.smr" and plan["balanced"]


def test_no_time_for_the_first_requirement_drops_its_best_option_for_the_budget(tiny):
    plan = tiny.plan({"pain": "knee", "minutes": 1})
    unmet = {u["rule"]: u for u in plan["unmet"]}
    assert unmet["plan.require.abductors"]["kind"] == "no_time"
    assert unmet["plan.require.abductors"]["reason"].startswith(
        "no time left for a strength exercise working the hip abductors: the shortest needs 4 min, "
        "and 1 of your 1 min remained.")
    assert drops(plan)["side_lift"]["kind"] == "budget"
    assert drops(plan)["side_lift"]["rule"] == "plan.require.abductors"


def test_the_least_important_requirement_gives_way_first(tiny):
    plan = tiny.plan({"pain": "knee", "minutes": 5, "equipment": ["roller"]})
    assert set(chosen(plan)) == {"side_lift", "short_stretch"}
    assert [u["rule"] for u in plan["unmet"]] == ["plan.require.smr"]
    assert plan["total_minutes"] == 5


def test_only_one_variant_of_a_move_is_taken(tiny):
    plan = tiny.plan({"pain": "knee", "minutes": 30, "equipment": ["roller"]})
    assert "short_stretch" in chosen(plan)
    assert drops(plan)["long_stretch"]["kind"] == "variant"
    assert drops(plan)["long_stretch"]["reason"] == ("a variant of the same move is already in the "
                                                     "plan (Short stretch)")


def test_an_exercise_done_twice_a_day_needs_its_minutes_twice(tiny):
    plan = tiny.plan({"pain": "knee", "minutes": 10})
    assert drops(plan)["twice_stretch"]["reason"].startswith("no time left: it needs 4 min")


def test_the_plan_stops_at_max_items_and_says_it_was_capped(tiny):
    plan = tiny.plan({"pain": "knee", "minutes": 30, "equipment": ["roller"]})
    assert len(plan["items"]) == plan["max_items"] == 4
    assert plan["capped"] and plan["total_minutes"] < 30
    assert {d["kind"] for d in plan["dropped"]} >= {"plan_full"}


def test_a_plan_with_room_to_spare_is_not_capped(tiny):
    plan = tiny.plan({"pain": "none", "minutes": 6, "equipment": ["roller"]})
    assert not plan["capped"] and len(plan["items"]) < plan["max_items"]


def test_a_caution_is_dropped_with_its_rationale(tiny):
    plan = tiny.plan({"pain": "knee", "minutes": 30})
    assert drops(plan)["squat"] == {"exercise": "squat", "name": "Squat", "kind": "caution",
                                    "reason": "Squats hurt an aching knee.",
                                    "rule": "exclude.squat_with_knee_pain"}


def test_spare_time_is_filled_by_rank_and_says_why(tiny):
    plan = tiny.plan({"pain": "knee", "minutes": 10})
    fill = [i for i in plan["items"] if i["chosen"]["rule"] is None]
    assert fill and fill[0]["chosen"]["reason"] in (
        "adds work for a cause already served, in time that was left over",
        "works on stiff hips, which no chosen exercise works on yet")


@pytest.mark.parametrize("answers", [{"pain": "knee"}, {"pain": "none", "minutes": 3},
                                     {"pain": "knee", "minutes": 30, "equipment": ["roller"]}])
def test_the_choice_is_deterministic(tiny, answers):
    assert tiny.plan(answers) == tiny.plan(answers) == Planner(TINY / "knowledge",
                                                               TINY / "rules").plan(answers)


def test_a_referral_chooses_nothing_and_carries_the_rule_s_urgency(tiny):
    plan = tiny.plan({"flag": True, "pain": "knee"})
    assert plan["status"] == "refer" and plan["items"] == [] and plan["urgency"] == "later"
    assert plan["referral"] == {"heading": "Go later", "advice": "See someone soon."}


def test_every_layer_chains_into_the_next(tiny):
    record = tiny.trace({"pain": "knee", "minutes": 10})
    layers = [e["layer"] for e in record["events"] if e["event"] == "fire"]
    for layer in ("symptoms", "causes", "candidates", "plan", "advice"):
        assert layer in layers, layer
    assert [a["id"] for a in record["plan"]["advice"]] == ["go_easy"]
    assert record["plan"]["advice"][0]["because"][0]["from"] == [
        {"symptom": "knee_ache", "confidence": 0.8}]
