"""Reading a check-in's decisions back from its trace (trace/decisions.py)."""

from __future__ import annotations

import pytest

from hipcoach.kb.bundled import rules_dir
from hipcoach.kb.rulefile import load_progress_rules
from hipcoach.trace.decisions import PROGRAMME, how_decided, is_checkin

FIRE = {"seq": 1, "event": "fire", "rule": "progress.hold.moderate_pain", "layer": "progress",
        "matched": {"now": {"t": "checkin", "back": 0, "pain_during": 4, "next_morning": "same",
                            "thirds_done": 3}},
        "concludes": [{"kind": "decide", "id": "hold"}]}
DECIDED = {"seq": 2, "event": "assert", "layer": "progress",
           "fact": {"kind": "decision", "id": "hold", "cf": 1.0}, "from": [1]}
ITEM = {"seq": 3, "event": "fire", "rule": "progress.item.top_of_ladder", "layer": "progress",
        "matched": {"d": {"t": "decision", "kind": "hold"},
                    "s": {"t": "step", "exercise": "clamshell", "step": 1, "next": "end", "prev": "ok"}},
        "concludes": [{"kind": "decide", "id": "hold"}]}


def record(*events):
    return {"respondent": "checkin", "answers": {}, "status": "plan", "events": list(events),
            "unconsumed": [], "plan": {"items": [{"exercise": "glute_bridge"}, {"exercise": "clamshell"}]}}


@pytest.fixture(scope="module")
def progress(kb):
    return load_progress_rules(rules_dir(), kb)


def test_a_checkin_trace_is_told_from_a_plan_trace():
    assert is_checkin(record(FIRE, DECIDED))
    assert not is_checkin(record({"seq": 1, "event": "fire", "rule": "cause.x", "layer": "causes",
                                  "matched": {}, "concludes": []}))


def test_the_programme_decision_names_its_rule_rationale_source_and_values(progress, kb):
    lines = how_decided(record(FIRE, DECIDED), PROGRAMME, progress, kb)
    assert lines[0] == "decision hold for the programme (Keep going as you are)"
    assert lines[1].startswith("  <- progress.hold.moderate_pain: Pain of 4-5/10")
    assert lines[2].startswith("     source: ") and "pain_during=4" in lines[3]


def test_an_item_follows_the_programme_unless_an_item_rule_decided(progress, kb):
    trace = record(FIRE, DECIDED, ITEM)
    assert how_decided(trace, "glute_bridge", progress, kb) == [
        "glute_bridge: hold, as the programme (no item rule decided otherwise)"]
    own = how_decided(trace, "clamshell", progress, kb)
    assert own[0] == "clamshell: hold, by a rule for this item"
    assert any("step exercise=clamshell" in line for line in own)


@pytest.mark.parametrize("conclusion", ["no_such_exercise", "cause.x"])
def test_anything_else_is_a_key_error(progress, kb, conclusion):
    with pytest.raises(KeyError):
        how_decided(record(FIRE, DECIDED), conclusion, progress, kb)


def test_a_trace_without_a_decision_explains_nothing(progress, kb):
    with pytest.raises(KeyError):
        how_decided(record(FIRE), PROGRAMME, progress, kb)
