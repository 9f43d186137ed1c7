"""Forward chaining: each layer's conclusions are facts that fire the next layer in durable_rules."""

from __future__ import annotations

import pytest
import yaml

from hipcoach import Planner, normalise
from hipcoach.planning.assemble import choose
from hipcoach.reasoning.facts import answer_facts
from hipcoach.reasoning.inference import Derivation, Engine


def derive(planner: Planner, **raw) -> Derivation:
    answers = normalise(raw, planner.kb)
    rules = planner.engine.rules
    requirements = [r for r in planner.rulebase.layer("plan") if r.conclusion == "require"]

    def pick(d: Derivation):
        return choose(d, planner.kb, requirements, answers["minutes"], 8, rules)

    derivation, _ = planner.engine.derive(answers, pick, trace=True)
    return derivation


def fired(derivation: Derivation) -> list[dict]:
    return [e for e in derivation.events if e["event"] == "fire"]


def event(derivation: Derivation, rule: str) -> dict:
    found = [e for e in fired(derivation) if e["rule"] == rule]
    assert found, f"{rule} did not fire; fired: {[e['rule'] for e in fired(derivation)]}"
    return found[0]


def test_answers_become_one_fact_each_and_list_items_one_fact_per_item():
    facts = answer_facts({"knee_pain": "front", "equipment": ["ball", "mat"], "red_flags": []})
    assert facts == [{"t": "answer", "knee_pain": "front"}, {"t": "answer", "equipment": "ball"},
                     {"t": "answer", "equipment": "mat"}]


def test_symptom_fact_fires_cause_rule_in_durable(planner):
    d = derive(planner, knee_pain="front", strength_sessions_per_week=2,
               mobility_sessions_per_week=2, sitting_hours=2)
    symptom = event(d, "symptom.runners_knee.front_knee_pain")
    cause = event(d, "cause.weak_glutes.runners_knee")
    assert symptom["seq"] < cause["seq"]
    # the cause rule matched the symptom *fact* that was asserted after the symptom layer settled
    assert list(cause["matched"].values()) == [{"t": "symptom", "name": "runners_knee", "cf": 0.8}]
    asserted = next(e for e in d.events if e["event"] == "assert"
                    and e["fact"]["id"] == "runners_knee")
    assert symptom["seq"] < asserted["seq"] < cause["seq"]
    assert asserted["from"] == [symptom["seq"]]


def test_cause_fact_fires_candidate_rule_and_candidate_fires_schedule(planner):
    d = derive(planner, low_back="tight", equipment=["doorway"], sitting_hours=2,
               strength_sessions_per_week=2, mobility_sessions_per_week=2)
    cause = event(d, "cause.tight_hip_flexors.low_back")
    proposal = event(d, "candidate.tight_hip_flexors.stretch")
    assert cause["seq"] < proposal["seq"]
    assert proposal["matched"]["cause_0_0"]["name"] == "tight_hip_flexors"
    schedules = [e for e in fired(d) if e["rule"].startswith("schedule.")]
    selects = [e for e in d.events if e["event"] == "select"]
    assert schedules and selects
    # items are asserted after the plan step chose them, and only chosen items are scheduled
    assert max(e["seq"] for e in selects) < min(e["seq"] for e in schedules)
    assert {e["concludes"][0]["id"] for e in schedules} == {e["exercise"] for e in selects}


def test_a_layer_settles_before_its_conclusions_fire_the_next(planner):
    d = derive(planner, knee_pain="outside", squat_difficulty=True, sitting_hours=8)
    for kind in ("symptom", "cause", "candidate"):
        last_evidence = max(e["seq"] for e in fired(d)
                            if any(c["kind"] == kind for c in e["concludes"]))
        first_use = min(e["seq"] for e in fired(d)
                        if any(f["t"] == kind for f in e["matched"].values()))
        assert last_evidence < first_use, kind


def test_certainty_before_and_after_each_firing_chain_to_the_final_value(planner):
    d = derive(planner, knee_pain="front", squat_difficulty=True, low_back="tight")
    running: dict = {}
    for e in fired(d):
        for c in e["concludes"]:
            if "cf_after" in c:
                assert c["cf_before"] == running.get((c["kind"], c["id"]), 0.0)
                running[(c["kind"], c["id"])] = c["cf_after"]
    for kind in ("symptom", "cause", "candidate"):
        for ident, conclusion in d.conclusions[kind].items():
            assert running[(kind, ident)] == pytest.approx(conclusion.cf, abs=1e-3)


def test_tracing_off_records_no_events_and_changes_nothing(planner):
    answers = {"knee_pain": "front", "equipment": ["ball"]}
    plain, quiet = planner.run(answers)
    traced, loud = planner.run(answers, trace=True)
    assert quiet.events == [] and loud.events
    assert plain == traced


def test_evidence_for_one_cause_combines_mycin_style(planner):
    d = derive(planner, knee_pain="front", strength_sessions_per_week=0, weekly_km=20,
               mobility_sessions_per_week=1, sitting_hours=2)
    weak = d.conclusions["cause"]["weak_glutes"]
    assert sorted(s.rule for s in weak.support) == ["cause.weak_glutes.no_strength",
                                                    "cause.weak_glutes.runners_knee"]
    # 0.7 x 0.8 = 0.56 from the symptom; 0.3 from the habit; 0.56 + 0.3 - 0.56 x 0.3
    assert weak.cf == pytest.approx(0.692)


def test_rule_needing_two_symptoms_fires_only_with_both(planner):
    both = derive(planner, knee_pain="front", squat_difficulty=True)
    one = derive(planner, knee_pain="front", squat_difficulty=False)
    assert "poor_mechanics" in both.conclusions["cause"]
    assert "poor_mechanics" not in one.conclusions["cause"]


def test_missing_equipment_excludes_through_a_join(planner):
    without = derive(planner, low_back="tight", equipment=[])
    with_doorway = derive(planner, low_back="tight", equipment=["doorway"])
    support = without.exclusions["doorway_hip_flexor_stretch"][0]
    assert support.rule == "exclude.missing_equipment"
    assert ("requires", "doorway_hip_flexor_stretch", "doorway") in \
        {(p.kind, p.id, p.value) for p in support.premises}
    assert "doorway_hip_flexor_stretch" not in with_doorway.exclusions


def test_red_flag_refers_and_stops_the_chain(planner):
    d = derive(planner, knee_pain="front", red_flags=["swelling"])
    assert d.refer
    assert d.referral_reasons == ["swelling"]
    assert all(not conclusions for conclusions in d.conclusions.values())


def test_answers_no_rule_uses_are_unconsumed_facts(planner):
    d = derive(planner)
    assert {"t": "answer", "age": 35} in d.unconsumed


def test_symptom_below_threshold_is_not_passed_on(data_copy):
    knowledge, rules = data_copy
    path = rules / "symptoms.yaml"
    data = yaml.safe_load(path.read_text())
    data["threshold"] = 0.85
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    planner = Planner(knowledge, rules)
    d = derive(planner, knee_pain="front")
    assert "runners_knee" in d.below_threshold["symptom"]
    assert "runners_knee" not in d.conclusions["symptom"]
    assert all(e["rule"] != "cause.weak_glutes.runners_knee" for e in fired(d))
    withheld = [e for e in d.events if e["event"] == "withhold"]
    assert [(e["fact"]["id"], e["threshold"]) for e in withheld] == [("runners_knee", 0.85)]


def test_rules_are_data_an_edited_cf_changes_the_result(data_copy):
    knowledge, rules = data_copy
    path = rules / "symptoms.yaml"
    data = yaml.safe_load(path.read_text())
    for rule in data["rules"]:
        if rule["id"] == "symptom.runners_knee.front_knee_pain":
            rule["cf"] = 0.5
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    d = derive(Planner(knowledge, rules), knee_pain="front")
    assert d.conclusions["symptom"]["runners_knee"].cf == pytest.approx(0.5)


def test_two_engines_on_the_same_files_share_one_registration(planner):
    again = Engine(planner.kb, planner.rulebase)
    assert again.ruleset is planner.engine.ruleset
