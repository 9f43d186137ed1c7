"""present/traces.py: why-not answers and coverage reports in words, from their JSON."""

from __future__ import annotations

from hipcoach.present.traces import coverage_text, why_not_text


def answer(kind: str, **lists: list[dict[str, str]]) -> dict[str, object]:
    return {"exercise": "clamshell", "kind": kind, "reasons": ["it was dropped for time"],
            "changes": [], "lifts": [], "chosen_for": [], **lists}


def test_an_exercise_in_the_plan_is_told_with_its_reasons_only():
    assert why_not_text(answer("in_plan")) == "clamshell: in plan\n  - it was dropped for time"


def test_changes_lifts_and_other_runners_each_have_their_heading():
    text = why_not_text(answer("not_chosen", changes=[{"text": "15 minutes a day"}],
                               lifts=[{"text": "a mat"}], chosen_for=[{"text": "knee pain: front"}]))
    assert text.splitlines() == [
        "clamshell: not chosen", "  - it was dropped for time",
        "Changes you could make that bring it into the plan (each checked by re-planning):",
        "  * 15 minutes a day",
        "Changes you could make that end its exclusion (it then competes for a place):", "  * a mat",
        "It would be chosen for a runner whose answers differ like this:", "  * knee pain: front"]


def test_no_change_of_your_own_is_said_so():
    assert "No change of equipment or time brings it into the plan." in why_not_text(answer("not_chosen"))


def test_coverage_lists_rules_in_order_and_what_never_happened():
    report = {"traces": 2, "status": {"plan": 1, "refer": 1},
              "rules": [{"rule": "a", "fired": 3, "traces": 2}, {"rule": "b", "fired": 0, "traces": 0}],
              "never_fired": ["b"], "never_chosen": [], "unknown_rules": ["old.rule"]}
    lines = coverage_text(report).splitlines()
    assert lines[0] == "2 traces (plan: 1, refer: 1)"
    assert lines[2].split() == ["a", "3", "2"] and lines[3].split() == ["b", "0", "0"]
    assert lines[4:] == ["never fired (1): b", "never chosen (0): -", "fired but not in these rules: old.rule"]
