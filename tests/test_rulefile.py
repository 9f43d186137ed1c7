"""Rule files: the bundled rules load, cross-reference the knowledge base and reach everything;
planted defects fail on load with an error naming the file and the rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hipcoach import DataFileError, RuleError, load_knowledge, load_rules
from hipcoach.kb.bundled import knowledge_dir, rules_dir
from hipcoach.kb.rulefile import CONCLUSIONS, LAYERS, Pattern, Ref, Rule, RuleBase


@pytest.fixture(scope="module")
def bundled_kb():
    return load_knowledge(knowledge_dir())


@pytest.fixture(scope="module")
def bundled_rules(bundled_kb) -> RuleBase:
    return load_rules(rules_dir(), bundled_kb)


def raw(layer: str) -> Any:
    return yaml.safe_load((rules_dir() / f"{layer}.yaml").read_text(encoding="utf-8"))


def names(pattern: Pattern, field: str) -> set[str]:
    """The values a pattern's eq/in test on ``field`` accepts."""
    result: set[str] = set()
    for test in pattern.tests:
        if test.field == field and test.op == "eq":
            result.add(test.value)
        elif test.field == field and test.op == "in":
            result.update(test.value)
    return result


def answer_test_can_hold(kb, field: str, op: str, value: Any) -> bool:
    """Whether some valid answer to question ``field`` passes ``field op value``."""
    question = kb.questions[field]
    if op == "ref":
        return True
    if question.type in ("int", "number"):
        low, high = question.min, question.max
        checks = {"eq": lambda: low <= value <= high, "ne": lambda: True,
                  "gt": lambda: value < high, "gte": lambda: value <= high,
                  "lt": lambda: value > low, "lte": lambda: value >= low,
                  "in": lambda: any(low <= v <= high for v in value)}
        return checks[op]()
    return True  # choice/bool/multi literals are checked against the question on load


# =========================================================================== bundled rules

def test_bundled_rules_load_in_layer_order(bundled_rules):
    assert bundled_rules.rules
    layers = [rule.layer for rule in bundled_rules.rules]
    assert sorted(layers, key=LAYERS.index) == layers
    assert set(layers) == set(LAYERS)


def test_every_rule_from_the_files_is_loaded_with_its_file(bundled_rules):
    expected = [(layer, r["id"]) for layer in LAYERS for r in raw(layer)["rules"]]
    assert [(rule.layer, rule.id) for rule in bundled_rules.rules] == expected
    for rule in bundled_rules.rules:
        assert Path(rule.file).name == f"{rule.layer}.yaml"
    assert [rule.order for rule in bundled_rules.rules] == list(range(len(bundled_rules.rules)))


def test_rule_ids_are_unique(bundled_rules):
    ids = [rule.id for rule in bundled_rules.rules]
    assert len(ids) == len(set(ids)) == len(bundled_rules.by_id())


def test_thresholds_slots_and_max_items(bundled_rules):
    assert set(bundled_rules.thresholds) == set(LAYERS)
    assert all(0 <= t < 1 for t in bundled_rules.thresholds.values())
    assert bundled_rules.thresholds["symptoms"] == 0.2
    assert bundled_rules.thresholds["triage"] == 0.0  # not given: defaults to 0
    assert [s.id for s in bundled_rules.slots] == ["before_run", "after_run", "strength_days", "daily"]
    assert bundled_rules.max_items == 8


def test_layer_conclusions_are_allowed_kinds(bundled_rules):
    for rule in bundled_rules.rules:
        assert rule.conclusion in CONCLUSIONS[rule.layer], rule.id


def test_every_rule_source_exists(bundled_rules, bundled_kb):
    for rule in bundled_rules.rules:
        assert rule.source in bundled_kb.sources, rule.id


def test_every_rule_has_a_rationale_and_valid_cf(bundled_rules):
    for rule in bundled_rules.rules:
        assert rule.rationale.strip(), rule.id
        assert 0 < rule.cf <= 1, rule.id


def test_cf_defaults_to_one(bundled_rules):
    assert bundled_rules.by_id()["triage.swelling"].cf == 1.0


def test_every_cause_is_concluded_by_a_causes_rule(bundled_rules, bundled_kb):
    concluded = {rule.target for rule in bundled_rules.layer("causes")}
    assert concluded == set(bundled_kb.causes)


def test_every_symptom_is_concluded_by_a_symptoms_rule(bundled_rules, bundled_kb):
    concluded = {rule.target for rule in bundled_rules.layer("symptoms")}
    assert concluded == set(bundled_kb.symptoms)


def test_every_symptom_feeds_some_cause_rule(bundled_rules, bundled_kb):
    used = set()
    for rule in bundled_rules.layer("causes"):
        for pattern in rule.patterns:
            if pattern.fact == "symptom" and not pattern.negated:
                used |= names(pattern, "name")
    assert used == set(bundled_kb.symptoms)


def test_every_exercise_is_proposed_by_a_candidates_rule(bundled_rules, bundled_kb):
    proposed = set()
    for rule in bundled_rules.layer("candidates"):
        if rule.conclusion == "propose":
            proposed.update(rule.target)
    assert proposed == set(bundled_kb.exercises)


def test_every_triage_rule_refers_with_a_reason(bundled_rules):
    for rule in bundled_rules.layer("triage"):
        assert rule.conclusion == "refer" and isinstance(rule.target, str) and rule.target


def test_every_red_flag_choice_triggers_a_triage_rule(bundled_rules, bundled_kb):
    flagged = set()
    for rule in bundled_rules.layer("triage"):
        for pattern in rule.patterns:
            flagged |= {t.value for t in pattern.tests if t.field == "red_flags" and t.op == "eq"}
    assert flagged == set(bundled_kb.questions["red_flags"].values)


def test_every_answer_test_in_the_rules_can_hold(bundled_rules, bundled_kb):
    for rule in bundled_rules.rules:
        for pattern in rule.patterns:
            if pattern.fact == "answer":
                for test in pattern.tests:
                    assert answer_test_can_hold(bundled_kb, test.field, test.op, test.value), rule.id


def test_answer_test_helper_spots_impossible_tests(bundled_kb):
    assert answer_test_can_hold(bundled_kb, "pain_level", "gte", 10)
    assert not answer_test_can_hold(bundled_kb, "pain_level", "gte", 11)
    assert not answer_test_can_hold(bundled_kb, "minutes", "lt", 5)
    assert not answer_test_can_hold(bundled_kb, "age", "in", (5, 101))
    assert answer_test_can_hold(bundled_kb, "age", "in", (5, 40))


def _reachable(rulebase: RuleBase, kb) -> tuple[set[str], set[str], set[str]]:
    """Walk answers -> symptoms -> causes -> proposed exercises.

    A rule fires for some answers if each of its answer tests can hold and every symptom or
    cause it matches is itself reachable.
    """
    symptoms: set[str] = set()
    causes: set[str] = set()
    exercises: set[str] = set()

    def can_fire(rule: Rule) -> bool:
        for pattern in rule.patterns:
            if pattern.negated:
                continue  # an absent fact can always be absent
            if pattern.fact == "answer":
                if not all(answer_test_can_hold(kb, t.field, t.op, t.value) for t in pattern.tests):
                    return False
            elif pattern.fact == "symptom":
                if not names(pattern, "name") & symptoms:
                    return False
            elif pattern.fact == "cause":
                if not names(pattern, "name") & causes:
                    return False
            else:
                return False
        return True

    changed = True
    while changed:
        before = (len(symptoms), len(causes), len(exercises))
        for rule in rulebase.rules:
            if not can_fire(rule):
                continue
            if rule.conclusion == "symptom":
                symptoms.add(rule.target)
            elif rule.conclusion == "cause":
                causes.add(rule.target)
            elif rule.conclusion == "propose":
                exercises.update(rule.target)
        changed = before != (len(symptoms), len(causes), len(exercises))
    return symptoms, causes, exercises


def test_every_symptom_is_reachable_from_answers(bundled_rules, bundled_kb):
    symptoms, _, _ = _reachable(bundled_rules, bundled_kb)
    assert symptoms == set(bundled_kb.symptoms)


def test_every_cause_is_reachable_from_answers(bundled_rules, bundled_kb):
    _, causes, _ = _reachable(bundled_rules, bundled_kb)
    assert causes == set(bundled_kb.causes)


def test_every_exercise_is_reachable_from_a_cause_or_maintenance(bundled_rules, bundled_kb):
    _, _, exercises = _reachable(bundled_rules, bundled_kb)
    assert exercises == set(bundled_kb.exercises)


def test_reachability_walk_detects_an_unreachable_cause(bundled_rules, bundled_kb):
    # Guard on the walk itself: with its only answer-based rule gone, `overuse` must drop out.
    kept = tuple(rule for rule in bundled_rules.rules
                 if not (rule.conclusion == "cause" and rule.target == "overuse"))
    trimmed = RuleBase(kept, bundled_rules.thresholds, bundled_rules.slots,
                       bundled_rules.max_items, bundled_rules.digest)
    _, causes, _ = _reachable(trimmed, bundled_kb)
    assert "overuse" not in causes and causes


def test_multi_key_answer_shorthand_becomes_one_pattern_per_answer(bundled_rules):
    rule = bundled_rules.by_id()["rule_out.loaded_hip_flexion_with_front_hip_pain"]
    assert [p.fact for p in rule.patterns] == ["answer", "answer"]
    assert rule.answers_used == ("hip_pain", "pain_level")
    assert len({p.alias for p in rule.patterns}) == 2


def test_exclude_by_ref_targets_the_matched_exercise(bundled_rules):
    rule = bundled_rules.by_id()["exclude.missing_equipment"]
    assert rule.target_is_ref and rule.target == Ref("cand", "exercise")
    assert [p.negated for p in rule.patterns] == [False, False, True]
    assert rule.patterns[2].tests[0].value == Ref("need", "item")


def test_symptom_shorthand_tests_the_name(bundled_rules):
    rule = bundled_rules.by_id()["cause.poor_mechanics.knee_and_squat"]
    assert [(p.fact, names(p, "name")) for p in rule.patterns] == [
        ("symptom", {"runners_knee"}), ("symptom", {"poor_squat"})]


def test_digest_changes_when_a_rule_file_changes(data_copy, bundled_kb, bundled_rules):
    _, rules = data_copy
    assert load_rules(rules, bundled_kb).digest == bundled_rules.digest
    edit(rules / "symptoms.yaml", set_field("symptom.low_back.tight", "cf", 0.7))
    changed = load_rules(rules, bundled_kb)
    assert changed.digest != bundled_rules.digest
    assert changed.by_id()["symptom.low_back.tight"].cf == 0.7


# =========================================================================== planted defects

def edit(path: Path, change: Callable[[Any], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def rule_in(data: Any, ident: str) -> dict:
    return next(rule for rule in data["rules"] if rule["id"] == ident)


def set_field(ident: str, key: str, value: Any) -> Callable[[Any], None]:
    return lambda data: rule_in(data, ident).__setitem__(key, value)


def drop_field(ident: str, key: str) -> Callable[[Any], None]:
    return lambda data: rule_in(data, ident).pop(key)


def set_when(ident: str, *patterns: Any) -> Callable[[Any], None]:
    return set_field(ident, "when", list(patterns))


def expect_rule_error(rules: Path, kb, layer: str, entry: str, problem: str) -> RuleError:
    with pytest.raises(RuleError) as info:
        load_rules(rules, kb)
    err = info.value
    assert err.file == str(rules / f"{layer}.yaml")
    assert err.entry is not None and re.match(rf"'{re.escape(entry)}' \(rules\[\d+\]\)$|{re.escape(entry)}$",
                                              err.entry), err.entry
    assert re.search(problem, err.problem), err.problem
    assert str(err) == f"{err.file}: {err.entry}: {err.problem}"
    return err


def add_rule(rule: dict) -> Callable[[Any], None]:
    return lambda data: data["rules"].append(rule)


def new_rule(ident: str, when: list, then: dict, **extra: Any) -> dict:
    return {"id": ident, "when": when, "then": then, "rationale": "planted", "source": "physio_practice",
            **extra}


KNEE = "symptom.runners_knee.front_knee_pain"  # symptoms.yaml: answer {knee_pain: front}
SQUAT = "cause.tight_hip_flexors.poor_squat"  # causes.yaml: symptom poor_squat

DEFECTS = {
    # id: (layer, change, rule id named, problem regex)
    "unknown_answer_id": (
        "symptoms", set_when(KNEE, {"answer": {"knee_payn": "front"}}),
        KNEE, r"when\[1\]: unknown answer id 'knee_payn'"),
    "choice_value_not_allowed": (
        "symptoms", set_when(KNEE, {"answer": {"knee_pain": "elbow"}}),
        KNEE, r"when\[1\]: knee_pain is never 'elbow'; values: none, front, outside, other"),
    "in_value_not_allowed": (
        "symptoms", set_when(KNEE, {"answer": {"knee_pain": {"in": ["front", "elbow"]}}}),
        KNEE, r"knee_pain is never 'elbow'"),
    "multi_value_not_allowed": (
        "triage", set_when("triage.swelling", {"answer": {"red_flags": "swollen"}}),
        "triage.swelling", r"red_flags is never 'swollen'"),
    "number_compared_to_choice_answer": (
        "symptoms", set_when(KNEE, {"answer": {"knee_pain": {"gte": 3}}}),
        KNEE, r"knee_pain is never 3"),
    "gte_with_a_string_on_a_choice_answer": (
        "symptoms", set_when(KNEE, {"answer": {"knee_pain": {"gte": "front"}}}),
        KNEE, r"knee_pain: gte needs a number, got 'front'"),
    "string_compared_to_number_answer": (
        "causes", set_when("cause.prolonged_sitting.six_hours", {"answer": {"sitting_hours": {"gte": "six"}}}),
        "cause.prolonged_sitting.six_hours", r"sitting_hours is a number, not 'six'"),
    "non_bool_for_bool_answer": (
        "symptoms", set_when("symptom.poor_squat.reported", {"answer": {"squat_difficulty": "yes"}}),
        "symptom.poor_squat.reported", r"squat_difficulty is true or false, not 'yes'"),
    "unknown_op": (
        "causes", set_when("cause.overuse.high_volume", {"answer": {"weekly_km": {"above": 60}}}),
        "cause.overuse.high_volume", r"weekly_km: write \{op: value\} with op one of eq, ne"),
    "unknown_symptom_in_pattern": (
        "causes", set_when(SQUAT, {"symptom": "poor_squats"}),
        SQUAT, r"symptom name 'poor_squats' is unknown"),
    "unknown_fact_field": (
        "causes", set_when(SQUAT, {"symptom": {"label": "poor_squat"}}),
        SQUAT, r"a symptom fact has fields name, cf, not 'label'"),
    "unknown_shorthand": (
        "causes", set_when(SQUAT, {"symptoms": "poor_squat"}),
        SQUAT, r"when\[1\] must be one of answer, no_answer, symptom"),
    "unknown_symptom_in_then": (
        "symptoms", set_field(KNEE, "then", {"symptom": "runners_knees"}),
        KNEE, r"symptom 'runners_knees' is not in .*symptoms\.yaml"),
    "unknown_cause_in_then": (
        "causes", set_field(SQUAT, "then", {"cause": "tight_hip_flexor"}),
        SQUAT, r"cause 'tight_hip_flexor' is not in .*causes\.yaml"),
    "unknown_exercise_in_propose": (
        "candidates", set_field("candidate.weak_glutes.strength", "then", {"propose": ["clamshell", "glute_bridges"]}),
        "candidate.weak_glutes.strength", r"propose: unknown exercise 'glute_bridges'"),
    "unknown_exercise_in_exclude": (
        "candidates", set_field("exclude.warm_up_drills_when_not_running", "then", {"exclude": ["bouncing_lunge"]}),
        "exclude.warm_up_drills_when_not_running", r"exclude: unknown exercise 'bouncing_lunge'"),
    "unknown_demand_in_rule_out": (
        "candidates", set_field("rule_out.kneecap_pain", "then", {"rule_out": ["deep_knee_bend"]}),
        "rule_out.kneecap_pain", r"rule_out: unknown demand 'deep_knee_bend'"),
    "rule_out_not_a_list": (
        "candidates", set_field("rule_out.kneecap_pain", "then", {"rule_out": "deep_knee_flexion"}),
        "rule_out.kneecap_pain", r"'rule_out' must be a non-empty list of demand ids"),
    "unknown_category_in_require": (
        "plan", set_field("plan.require.strength", "then", {"require": ["cardio"]}),
        "plan.require.strength", r"require: unknown category 'cardio'"),
    "empty_propose": (
        "candidates", set_field("candidate.weak_glutes.strength", "then", {"propose": []}),
        "candidate.weak_glutes.strength", r"'propose' must be a non-empty list of ids"),
    "cause_concluded_in_symptoms_layer": (
        "symptoms", set_field(KNEE, "then", {"cause": "weak_glutes"}),
        KNEE, r"a symptoms rule concludes one of symptom, not 'cause'"),
    "propose_in_causes_layer": (
        "causes", set_field(SQUAT, "then", {"propose": ["clamshell"]}),
        SQUAT, r"a causes rule concludes one of cause, not 'propose'"),
    "two_conclusions": (
        "symptoms", set_field(KNEE, "then", {"symptom": "runners_knee", "cause": "weak_glutes"}),
        KNEE, r"'then' must hold exactly one conclusion"),
    "alias_s": (
        "causes", set_when(SQUAT, {"symptom": "poor_squat", "as": "s"}),
        SQUAT, r"when\[1\]: alias 's' must be an identifier other than 's'"),
    "alias_underscore": (
        "causes", set_when(SQUAT, {"symptom": "poor_squat", "as": "_x"}),
        SQUAT, r"alias '_x' must be an identifier"),
    "alias_not_identifier": (
        "causes", set_when(SQUAT, {"symptom": "poor_squat", "as": "my alias"}),
        SQUAT, r"alias 'my alias' must be an identifier"),
    "alias_used_twice": (
        "causes", set_when(SQUAT, {"symptom": "poor_squat", "as": "x"}, {"symptom": "runners_knee", "as": "x"}),
        SQUAT, r"when\[2\]: alias 'x' is used twice"),
    "ref_to_unknown_alias": (
        "candidates",
        lambda d: rule_in(d, "exclude.missing_equipment")["when"][1]["where"].__setitem__(
            "exercise", {"ref": "cnd.exercise"}),
        "exclude.missing_equipment", r"ref 'cnd\.exercise' names no earlier, non-negated pattern"),
    "ref_to_unknown_field": (
        "candidates",
        lambda d: rule_in(d, "exclude.missing_equipment")["when"][2]["no_answer"].__setitem__(
            "equipment", {"ref": "need.colour"}),
        "exclude.missing_equipment", r"ref 'need\.colour': pattern 'need' has no field 'colour'"),
    "ref_without_field": (
        "candidates",
        lambda d: rule_in(d, "exclude.missing_equipment")["then"].__setitem__("exclude", {"ref": "cand"}),
        "exclude.missing_equipment", r"ref must be 'ALIAS\.FIELD', got 'cand'"),
    "cf_zero": (
        "symptoms", set_field(KNEE, "cf", 0), KNEE, r"'cf' must be in \(0, 1\], got 0"),
    "cf_above_one": (
        "symptoms", set_field(KNEE, "cf", 1.5), KNEE, r"'cf' must be in \(0, 1\], got 1\.5"),
    "cf_negative": (
        "symptoms", set_field(KNEE, "cf", -0.2), KNEE, r"'cf' must be in \(0, 1\], got -0\.2"),
    "cf_text": (
        "symptoms", set_field(KNEE, "cf", "high"), KNEE, r"'cf' must be a number, got 'high'"),
    "cf_bool": (
        "symptoms", set_field(KNEE, "cf", True), KNEE, r"'cf' must be a number, got True"),
    "missing_rationale": (
        "causes", drop_field(SQUAT, "rationale"), SQUAT, r"missing required key 'rationale'"),
    "empty_rationale": (
        "causes", set_field(SQUAT, "rationale", " "), SQUAT, r"'rationale' must not be empty"),
    "missing_source": (
        "causes", drop_field(SQUAT, "source"), SQUAT, r"missing required key 'source'"),
    "unknown_source": (
        "causes", set_field(SQUAT, "source", "blog"), SQUAT, r"source 'blog' is not in .*sources\.yaml"),
    "misspelt_rule_key": (
        "causes", lambda d: rule_in(d, SQUAT).__setitem__("rationle", rule_in(d, SQUAT).pop("rationale")),
        SQUAT, r"unknown key\(s\) rationle"),
    "unknown_schedule_slot": (
        "plan", set_field("schedule.strength_days", "then", {"schedule": "weekends"}),
        "schedule.strength_days", r"schedule slot 'weekends' is not among plan\.yaml slots: after_run, before_run"),
    "schedule_without_item_pattern": (
        "plan", set_when("schedule.strength_days", {"answer": {"minutes": {"gte": 5}}}),
        "schedule.strength_days", r"a schedule rule must match an 'item' pattern"),
    "empty_when": (
        "causes", set_when(SQUAT), SQUAT, r"'when' must hold at least one pattern"),
    "when_not_a_list": (
        "causes", set_field(SQUAT, "when", {"symptom": "poor_squat"}), SQUAT, r"'when' must be a list of patterns"),
    "only_negated_patterns": (
        "causes", set_when(SQUAT, {"no_answer": {"knee_pain": "front"}}),
        SQUAT, r"'when' needs at least one pattern that is not negated"),
    "priority_not_whole": (
        "plan", set_field("plan.require.strength", "priority", 1.5),
        "plan.require.strength", r"'priority' must be a whole number"),
    "duplicate_id_in_one_file": (
        "causes", lambda d: d["rules"].append(dict(rule_in(d, SQUAT))),
        SQUAT, r"duplicate id"),
    "duplicate_id_across_files": (
        "causes", add_rule(new_rule(KNEE, [{"symptom": "runners_knee"}], {"cause": "weak_glutes"})),
        KNEE, r"rule id 'symptom\.runners_knee\.front_knee_pain' is also used in .*symptoms\.yaml"),
}


@pytest.mark.parametrize("name", list(DEFECTS))
def test_planted_rule_defect_is_reported_with_file_and_rule_id(data_copy, bundled_kb, name):
    _, rules = data_copy
    layer, change, entry, problem = DEFECTS[name]
    edit(rules / f"{layer}.yaml", change)
    expect_rule_error(rules, bundled_kb, layer, entry, problem)


def test_wrong_layer_header_is_reported(data_copy, bundled_kb):
    _, rules = data_copy
    edit(rules / "symptoms.yaml", lambda d: d.__setitem__("layer", "causes"))
    err = expect_rule_error(rules, bundled_kb, "symptoms", "file", r"'layer' must be 'symptoms' in symptoms\.yaml")
    assert err.entry == "file"


def test_missing_layer_header_is_reported(data_copy, bundled_kb):
    _, rules = data_copy
    edit(rules / "triage.yaml", lambda d: d.pop("layer"))
    expect_rule_error(rules, bundled_kb, "triage", "file", r"missing required key 'layer'")


@pytest.mark.parametrize("threshold", [1, 1.5, -0.1])
def test_threshold_out_of_range_is_reported(data_copy, bundled_kb, threshold):
    _, rules = data_copy
    edit(rules / "causes.yaml", lambda d: d.__setitem__("threshold", threshold))
    expect_rule_error(rules, bundled_kb, "causes", "file", r"'threshold' must be in \[0, 1\)")


def test_slots_outside_plan_file_are_reported(data_copy, bundled_kb):
    _, rules = data_copy
    edit(rules / "candidates.yaml", lambda d: d.__setitem__("max_items", 3))
    expect_rule_error(rules, bundled_kb, "candidates", "file", r"'slots' and 'max_items' belong in plan\.yaml")


def test_max_items_below_one_is_reported(data_copy, bundled_kb):
    _, rules = data_copy
    edit(rules / "plan.yaml", lambda d: d.__setitem__("max_items", 0))
    expect_rule_error(rules, bundled_kb, "plan", "file", r"'max_items' must be at least 1")


def test_misspelt_file_key_is_reported(data_copy, bundled_kb):
    _, rules = data_copy
    edit(rules / "symptoms.yaml", lambda d: d.__setitem__("treshold", 0.2))
    expect_rule_error(rules, bundled_kb, "symptoms", "file", r"unknown key\(s\) treshold")


def test_invalid_yaml_rule_file_is_reported(data_copy, bundled_kb):
    _, rules = data_copy
    (rules / "causes.yaml").write_text("layer: causes\nrules:\n  - id: [broken\n", encoding="utf-8")
    with pytest.raises(RuleError, match=r"causes\.yaml: not valid YAML") as info:
        load_rules(rules, bundled_kb)
    assert info.value.entry is None and info.value.file == str(rules / "causes.yaml")


def test_missing_rule_file_is_reported(data_copy, bundled_kb):
    _, rules = data_copy
    (rules / "plan.yaml").unlink()
    with pytest.raises(RuleError, match=r"plan\.yaml: file not found$") as info:
        load_rules(rules, bundled_kb)
    assert info.value.file == str(rules / "plan.yaml") and info.value.entry is None


def test_rule_error_attributes_and_hierarchy(data_copy, bundled_kb):
    _, rules = data_copy
    edit(rules / "symptoms.yaml", set_field(KNEE, "cf", 2))
    with pytest.raises(DataFileError) as info:
        load_rules(rules, bundled_kb)
    err = info.value
    assert isinstance(err, RuleError)
    assert err.file == str(rules / "symptoms.yaml")
    assert re.fullmatch(rf"'{re.escape(KNEE)}' \(rules\[\d+\]\)", err.entry)
    assert err.problem == "'cf' must be in (0, 1], got 2"


def test_rules_are_checked_against_the_given_knowledge(data_copy):
    # Renaming a cause in the knowledge copy breaks the bundled rules that conclude it.
    knowledge, rules = data_copy
    edit(knowledge / "causes.yaml",
         lambda d: next(c for c in d["causes"] if c["id"] == "overuse").__setitem__("id", "over_use"))
    with pytest.raises(RuleError, match=r"cause 'overuse' is not in .*causes\.yaml"):
        load_rules(rules, load_knowledge(knowledge))


def test_a_valid_new_rule_loads(data_copy, bundled_kb):
    _, rules = data_copy
    edit(rules / "symptoms.yaml", add_rule(new_rule(
        "symptom.low_back.planted", [{"answer": {"low_back": {"ne": "none"}, "age": {"gte": 50}}}],
        {"symptom": "low_back"}, cf=0.25)))
    rule = load_rules(rules, bundled_kb).by_id()["symptom.low_back.planted"]
    assert rule.cf == 0.25 and rule.answers_used == ("low_back", "age")
    assert [(t.field, t.op, t.value) for p in rule.patterns for t in p.tests] == [
        ("low_back", "ne", "none"), ("age", "gte", 50)]


@pytest.mark.parametrize(("layer", "ident", "then"), [
    ("symptoms", KNEE, {"symptom": ["runners_knee"]}),
    ("causes", SQUAT, {"cause": {"name": "weak_glutes"}}),
    ("plan", "schedule.strength_days", {"schedule": ["strength_days"]}),
])
def test_list_target_for_single_id_conclusion_is_a_rule_error(data_copy, bundled_kb, layer, ident, then):
    _, rules = data_copy
    edit(rules / f"{layer}.yaml", set_field(ident, "then", then))
    expect_rule_error(rules, bundled_kb, layer, ident, r".")


# ====================================================== rules that would fire too late to count

TOO_LATE = {
    # name: (layer, planted when, then, the fact named, whose)
    "cause_from_a_cause": ("causes", [{"cause": "weak_glutes"}], {"cause": "tight_hip_flexors"},
                           "cause", "this layer's own conclusions"),
    "symptom_from_a_symptom": ("symptoms", [{"symptom": "runners_knee"}], {"symptom": "poor_squat"},
                               "symptom", "this layer's own conclusions"),
    "symptom_from_a_cause": ("symptoms", [{"cause": "weak_glutes"}], {"symptom": "poor_squat"},
                             "cause", "from the causes layer"),
    "propose_from_a_candidate": ("candidates", [{"candidate": {"exercise": "clamshell"}}],
                                 {"propose": ["glute_bridge"]}, "candidate",
                                 "this layer's own conclusions"),
    "exclude_from_a_plan_item": ("candidates", [{"item": {"exercise": "clamshell"}}],
                                 {"exclude": ["glute_bridge"]}, "item", "from the plan layer"),
    "require_from_a_plan_item": ("plan", [{"item": {"category": "strength"}}], {"require": ["stretch"]},
                                 "item", "this layer's own conclusions"),
    "negated_cause_in_a_cause_rule": ("causes", [{"answer": {"knee_pain": "front"}},
                                                 {"fact": "cause", "where": {"name": "weak_glutes"},
                                                  "not": True}],
                                      {"cause": "tight_hip_flexors"}, "cause",
                                      "this layer's own conclusions"),
}


@pytest.mark.parametrize("name", list(TOO_LATE))
def test_a_rule_matching_facts_asserted_after_its_conclusion_is_used_is_refused(
        data_copy, bundled_kb, name):
    """The engine asserts a layer's facts only once the layer has settled: such a rule would
    fire after its evidence was combined, and be silently ignored."""
    _, rules = data_copy
    layer, when, then, fact, whose = TOO_LATE[name]
    edit(rules / f"{layer}.yaml", add_rule(new_rule("planted.too_late", when, then)))
    index = len(when)
    expect_rule_error(rules, bundled_kb, layer, "planted.too_late",
                      rf"^when\[{index}\]: {fact} facts are {re.escape(whose)}, asserted only after "
                      rf"'{next(iter(then))}' conclusions are used, so this rule would fire too late")


@pytest.mark.parametrize("layer, when, then", [
    ("candidates", [{"candidate": {"exercise": "clamshell"}}], {"exclude": ["glute_bridge"]}),
    ("plan", [{"item": {"category": "strength"}}], {"schedule": "daily"}),
    ("candidates", [{"cause": "weak_glutes"}], {"propose": ["glute_bridge"]}),
    ("plan", [{"candidate": {"exercise": "clamshell"}}], {"require": ["stretch"]}),
    ("triage", [{"symptom": "runners_knee"}], {"refer": "planted"}),
])
def test_rules_matching_facts_asserted_in_time_still_load(data_copy, bundled_kb, layer, when, then):
    _, rules = data_copy
    rule = new_rule("planted.in_time", when, then)
    if layer == "triage":
        rule["urgency"] = "soon"
    edit(rules / f"{layer}.yaml", add_rule(rule))
    assert "planted.in_time" in load_rules(rules, bundled_kb).by_id()


def test_the_bundled_candidate_and_item_patterns_are_in_time(bundled_rules):
    """exclude.missing_equipment matches candidates, schedule rules match plan items: both are
    asserted before those conclusions are used."""
    rules = bundled_rules.by_id()
    assert any(p.fact == "candidate" for p in rules["exclude.missing_equipment"].patterns)
    assert any(p.fact == "item" for r in bundled_rules.layer("plan") if r.conclusion == "schedule"
               for p in r.patterns)


@pytest.mark.parametrize("name", ["extra.yaml", "cause.yaml", "README.md", "old"])
def test_an_unknown_file_in_the_rules_folder_is_refused(data_copy, bundled_kb, name):
    _, rules = data_copy
    (rules / name).mkdir() if name == "old" else (rules / name).write_text("rules: []\n", encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rules(rules, bundled_kb)
    assert info.value.file == str(rules / name) and info.value.entry is None
    assert info.value.problem == ("unknown file in the rules folder, so never read; the files are "
                                  "advice.yaml, candidates.yaml, causes.yaml, plan.yaml, progress.yaml, "
                                  "symptoms.yaml, triage.yaml")


def test_hidden_and_packaging_files_in_the_rules_folder_are_not_data(data_copy, bundled_kb):
    _, rules = data_copy
    for name in (".causes.yaml.swp", "__init__.py"):
        (rules / name).write_text("", encoding="utf-8")
    (rules / "__pycache__").mkdir()
    assert load_rules(rules, bundled_kb).rules


@pytest.mark.parametrize("layer", LAYERS)
def test_an_unknown_top_level_key_in_a_rule_file_is_refused(data_copy, bundled_kb, layer):
    _, rules = data_copy
    edit(rules / f"{layer}.yaml", lambda data: data.__setitem__("rulez", []))
    with pytest.raises(RuleError, match=r": file: unknown key\(s\) rulez; allowed: ") as info:
        load_rules(rules, bundled_kb)
    assert info.value.file == str(rules / f"{layer}.yaml")
