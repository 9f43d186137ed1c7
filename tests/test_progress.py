"""The progress layer in durable_rules: each decision, its precedence, and the item rules."""

from __future__ import annotations

import pytest

from hipcoach.errors import RuleError
from hipcoach.kb.rulefile import DECISIONS, load_progress_rules
from hipcoach.reasoning.progress import ProgressEngine

STEPS = [("glute_bridge", 0, "ok", "end"), ("side_plank", 1, "end", "ok"),
         ("clamshell", 0, "equipment", "end")]


def decide(programme, readings, referrals=(), steps=STEPS):
    return programme.engine.decide(readings, list(referrals), steps)


@pytest.mark.parametrize(("readings", "decision", "rules"), [
    ([(2, "same", 2, 7)], "progress", ["progress.progress.comfortable"]),
    ([(3, "better", 3, 7)], "progress", ["progress.progress.comfortable"]),
    ([(4, "same", 3, 7)], "hold", ["progress.hold.moderate_pain"]),
    ([(5, "better", 3, 7)], "hold", ["progress.hold.moderate_pain"]),
    ([(1, "same", 1, 7)], "hold", ["progress.hold.too_few_sessions"]),
    ([(6, "same", 3, 7)], "regress", ["progress.regress.pain"]),
    ([(2, "worse", 3, 7)], "regress", ["progress.regress.worse_next_morning"]),
    ([(7, "worse", 0, 7)], "regress", ["progress.regress.pain", "progress.regress.worse_next_morning"]),
    ([(2, "same", 3, 7), (4, "same", 3, 7), (6, "same", 3, 7)], "refer", ["progress.refer.pain_rising"]),
    ([(5, "same", 3, 7), (4, "same", 3, 7), (5, "same", 3, 7)], "refer", ["progress.refer.no_improvement"]),
    ([(1, "same", 3, 7), (3, "same", 3, 7)], "hold", ["progress.hold.pain_jumped"]),
    ([(1, "same", 3, 7), (2, "same", 3, 7)], "progress", ["progress.progress.comfortable"]),
    ([(1, "same", 3, 7), (2, "same", 3, 7), (3, "same", 3, 7)], "progress",
     ["progress.progress.comfortable"]),  # a one-point wobble within 0-3/10 is no trend
    ([(2, "same", 3, 7), (3, "same", 3, 7), (4, "same", 3, 7)], "regress", ["progress.regress.pain_rising"]),
    ([(0, "same", 3, 7), (2, "same", 3, 7), (3, "same", 3, 7), (4, "same", 3, 7)], "regress",
     ["progress.regress.pain_rising"]),
])
def test_each_decision_and_the_rules_behind_it(programme, readings, decision, rules):
    verdict = decide(programme, readings)
    assert verdict.decision == decision
    assert [f.rule for f in verdict.because] == rules


def test_a_triage_referral_refers_whatever_the_pain(programme):
    verdict = decide(programme, [(0, "better", 3, 7)], [("swelling", "soon")])
    assert verdict.decision == "refer"
    assert [f.rule for f in verdict.because] == ["progress.refer.triage"]
    assert verdict.because[0].matched["triage_0_0"] == {"t": "triage", "reason": "swelling",
                                                        "urgency": "soon"}


def test_refer_beats_regress_beats_hold_beats_progress(programme):
    assert list(DECISIONS) == [d.id for d in programme.rules.decisions]
    rising = [(3, "same", 3, 7), (5, "same", 3, 7), (8, "worse", 1, 7)]  # refer, regress x2, hold fire
    verdict = decide(programme, rising)
    fired = {e["concludes"][0]["id"] for e in verdict.events if e["event"] == "fire"}
    assert {"refer", "regress", "hold"} <= fired
    assert verdict.decision == "refer"
    assert decide(programme, [(6, "same", 0, 7)]).decision == "regress"  # regress and hold fired


def test_pain_falling_or_not_above_five_is_no_referral(programme):
    assert decide(programme, [(2, "same", 3, 7), (3, "same", 3, 7), (5, "same", 3, 7)]).decision == "regress"
    assert decide(programme, [(6, "same", 3, 7), (5, "same", 3, 7), (4, "same", 3, 7)]).decision == "hold"
    # only the latest three count: an old high reading is forgotten
    assert decide(programme, [(9, "same", 3, 7), (5, "same", 3, 7), (4, "same", 3, 7), (4, "same", 3, 7)]
                  ).decision == "hold"


def test_items_that_cannot_move_up_are_held_with_their_own_rule(programme):
    verdict = decide(programme, [(1, "same", 3, 7)])
    assert verdict.decision == "progress"
    assert verdict.decision_for("glute_bridge") == "progress"
    assert verdict.items["side_plank"][0] == "hold"
    assert [f.rule for f in verdict.items["side_plank"][1]] == ["progress.item.top_of_ladder"]
    assert [f.rule for f in verdict.items["clamshell"][1]] == ["progress.item.needs_equipment"]


def test_items_already_easiest_are_held_on_a_regress(programme):
    verdict = decide(programme, [(7, "same", 3, 7)])
    assert verdict.decision == "regress"
    assert verdict.decision_for("side_plank") == "regress"
    assert verdict.items["glute_bridge"][0] == "hold"
    assert [f.rule for f in verdict.items["glute_bridge"][1]] == ["progress.item.easiest_already"]


def test_a_hold_moves_no_item(programme):
    verdict = decide(programme, [(4, "same", 3, 7)])
    assert verdict.items == {}


def test_the_verdict_records_trace_events(programme):
    verdict = decide(programme, [(1, "same", 3, 7)], steps=[("glute_bridge", 1, "ok", "ok")])
    kinds = [e["event"] for e in verdict.events]
    assert kinds[0] == "fire" and "assert" in kinds
    assert [e["seq"] for e in verdict.events] == list(range(1, len(kinds) + 1))
    assert any(f.get("next") == "ok" for f in verdict.unconsumed)  # no rule needs a step that can move both ways


def _progress_file(tmp_path, text):
    (tmp_path / "progress.yaml").write_text(text, encoding="utf-8")
    return tmp_path


HEAD = """layer: progress
decisions:
  - {id: refer, label: a, advice: b}
  - {id: regress, label: a, advice: b}
  - {id: hold, label: a, advice: b}
  - {id: progress, label: a, advice: b}
rules:
"""


@pytest.mark.parametrize(("rule", "problem"), [
    ("- {id: x, when: [{fact: decision, where: {kind: progress}}], then: {decide: hold}, rationale: r, source: physio_practice}",
     "must also match a step"),
    ("- {id: x, when: [{fact: checkin, where: {back: 0}}], then: {decide: stop}, rationale: r, source: physio_practice}",
     "'decide' takes one of refer, regress, hold, progress"),
    ("- {id: x, when: [{answer: {knee_pain: front}}], then: {decide: hold}, rationale: r, source: physio_practice}",
     "'answer' facts are never asserted for the progress layer's rules"),
    ("- {id: x, when: [{fact: checkin, where: {next_morning: awful}}], then: {decide: hold}, rationale: r, source: physio_practice}",
     "'awful' is unknown"),
    ("- {id: x, when: [{fact: red_flag, where: {flag: headache}}], then: {decide: refer}, rationale: r, source: physio_practice}",
     "unknown fact type 'red_flag'"),
    ("- {id: x, when: [{fact: checkin, where: {pain_during: {gt: {ref: nobody.pain_during}}}}], then: {decide: hold}, rationale: r, source: physio_practice}",
     "names no earlier"),
])
def test_a_bad_progress_rule_fails_naming_the_rule_and_problem(tmp_path, kb, rule, problem):
    folder = _progress_file(tmp_path, HEAD + "  " + rule + "\n")
    with pytest.raises(RuleError) as caught:
        load_progress_rules(folder, kb)
    assert "x" in (caught.value.entry or "") and problem in caught.value.problem


def test_decisions_must_be_listed_strongest_first(tmp_path, kb):
    text = HEAD.replace("{id: refer, label: a, advice: b}\n  - {id: regress",
                        "{id: regress, label: a, advice: b}\n  - {id: refer") + "  []\n"
    folder = _progress_file(tmp_path, text.replace("rules:\n  []", "rules: []"))
    with pytest.raises(RuleError, match="in that order"):
        load_progress_rules(folder, kb)


def test_the_progress_rules_register_once_per_process(programme):
    again = ProgressEngine(programme.rules)
    assert again.ruleset is programme.engine.ruleset


def test_a_check_in_within_five_days_of_the_last_holds(programme):
    verdict = decide(programme, [(1, "better", 3, 4)])
    assert verdict.decision == "hold"
    assert "progress.hold.too_soon" in [f.rule for f in verdict.because]
    assert decide(programme, [(1, "better", 3, 5)]).decision == "progress"
    assert decide(programme, [(7, "same", 3, 2)]).decision == "regress"  # easing off needs no wait
