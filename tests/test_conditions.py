"""Compiling checked rules into durable_rules' JSON condition language."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from hipcoach import load_knowledge, load_rules
from hipcoach.kb.bundled import knowledge_dir, rules_dir
from hipcoach.kb.rulefile import LAYERS, Pattern, Ref, Rule
from hipcoach.kb.rulefile import Test as FieldTest  # not named Test*: pytest would try to collect it
from hipcoach.reasoning.durable.conditions import compile_pattern, compile_rule, compile_ruleset
from hipcoach.reasoning.facts import TYPE_FIELD


@pytest.fixture(scope="module")
def bundled_kb():
    return load_knowledge(knowledge_dir())


@pytest.fixture(scope="module")
def bundled_rules(bundled_kb):
    return load_rules(rules_dir(), bundled_kb)


def make_rule(*patterns: Pattern, layer: str = "symptoms", conclusion: str = "symptom",
              target: Any = "low_back") -> Rule:
    return Rule(id="r", layer=layer, file=f"{layer}.yaml", patterns=patterns, conclusion=conclusion,
                target=target, cf=1.0, rationale="x", source="physio_practice", priority=0, order=0)


def answer(alias: str, field: str, op: str, value: Any, negated: bool = False) -> Pattern:
    return Pattern("answer", alias, (FieldTest(field, op, value),), negated)


# =========================================================================== compile_pattern

def test_type_field_is_t():
    assert TYPE_FIELD == "t"


def test_equality_pattern():
    assert compile_pattern(answer("a", "knee_pain", "eq", "front")) == {
        "$and": [{"t": "answer"}, {"$ex": {"knee_pain": 1}}, {"knee_pain": "front"}]}


def test_equality_with_boolean_keeps_the_boolean():
    compiled = compile_pattern(answer("a", "squat_difficulty", "eq", True))
    assert compiled["$and"][2] == {"squat_difficulty": True}


def test_gte_pattern():
    assert compile_pattern(answer("a", "pain_level", "gte", 6)) == {
        "$and": [{"t": "answer"}, {"$ex": {"pain_level": 1}}, {"$gte": {"pain_level": 6}}]}


@pytest.mark.parametrize(("op", "dr_op"), [("gt", "$gt"), ("gte", "$gte"), ("lt", "$lt"), ("lte", "$lte"),
                                           ("ne", "$neq")])
def test_comparison_operators_map_to_durable_rules_names(op, dr_op):
    compiled = compile_pattern(answer("a", "weekly_km", op, 30))
    assert compiled["$and"][2] == {dr_op: {"weekly_km": 30}}


def test_ne_pattern_is_guarded_by_an_existence_test():
    # durable_rules lets a fact without the field match $neq; every answer is its own fact.
    terms = compile_pattern(answer("a", "knee_pain", "ne", "none"))["$and"]
    assert terms == [{"t": "answer"}, {"$ex": {"knee_pain": 1}}, {"$neq": {"knee_pain": "none"}}]
    assert terms.index({"$ex": {"knee_pain": 1}}) < terms.index({"$neq": {"knee_pain": "none"}})


def test_in_pattern_becomes_or_of_equalities():
    pattern = Pattern("item", "i", (FieldTest("category", "in", ("dynamic", "mobility")),))
    assert compile_pattern(pattern) == {"$and": [
        {"t": "item"}, {"$ex": {"category": 1}},
        {"$or": [{"category": "dynamic"}, {"category": "mobility"}]}]}


def test_ref_pattern_points_at_alias_field():
    pattern = Pattern("requires", "need", (FieldTest("exercise", "ref", Ref("cand", "exercise")),))
    assert compile_pattern(pattern) == {"$and": [
        {"t": "requires"}, {"$ex": {"exercise": 1}}, {"exercise": {"cand": "exercise"}}]}


def test_pattern_without_tests_matches_on_type_only():
    assert compile_pattern(Pattern("candidate", "cand", ())) == {"$and": [{"t": "candidate"}]}


def test_several_tests_each_get_existence_test_in_order():
    pattern = Pattern("item", "i", (FieldTest("category", "eq", "stretch"), FieldTest("when", "eq", "any")))
    assert compile_pattern(pattern)["$and"] == [
        {"t": "item"}, {"$ex": {"category": 1}}, {"category": "stretch"},
        {"$ex": {"when": 1}}, {"when": "any"}]


# =========================================================================== compile_rule

def test_rule_lists_patterns_under_their_aliases_in_order():
    rule = make_rule(answer("first", "knee_pain", "eq", "front"), answer("second", "pain_level", "gte", 4))
    compiled = compile_rule(rule)
    assert [next(iter(p)) for p in compiled["all"]] == ["first", "second"]
    assert compiled["all"][1]["second"] == compile_pattern(rule.patterns[1])


def test_negated_pattern_key_is_alias_dollar_not():
    rule = make_rule(answer("a", "minutes", "gte", 5), answer("b", "knee_pain", "eq", "front", negated=True))
    compiled = compile_rule(rule)
    assert list(compiled["all"][0]) == ["a"]
    assert list(compiled["all"][1]) == ["b$not"]
    assert compiled["all"][1]["b$not"] == compile_pattern(rule.patterns[1])


@pytest.mark.parametrize("layer", LAYERS)
def test_pri_is_layer_position_starting_at_one(layer):
    rule = make_rule(answer("a", "minutes", "gte", 5), layer=layer)
    assert compile_rule(rule)["pri"] == LAYERS.index(layer) + 1


def test_pri_orders_layers_triage_first_plan_last():
    pris = [compile_rule(make_rule(answer("a", "minutes", "gte", 5), layer=layer))["pri"] for layer in LAYERS]
    assert pris == sorted(pris) == [1, 2, 3, 4, 5, 6]


def test_rule_priority_field_does_not_change_pri():
    low = make_rule(answer("a", "minutes", "gte", 5), layer="plan")
    high = low._replace(priority=-7)
    assert compile_rule(low)["pri"] == compile_rule(high)["pri"] == 5


def test_compiled_rule_has_only_all_and_pri():
    assert set(compile_rule(make_rule(answer("a", "minutes", "gte", 5)))) == {"all", "pri"}


# =========================================================================== bundled rules

def test_every_bundled_rule_compiles_to_json_serialisable_dicts(bundled_rules):
    ruleset = compile_ruleset(bundled_rules)
    assert list(ruleset) == [rule.id for rule in bundled_rules.rules]
    text = json.dumps(ruleset, sort_keys=True)
    assert json.loads(text) == ruleset


def test_every_bundled_rule_compiles_one_entry_per_pattern(bundled_rules):
    for rule in bundled_rules.rules:
        compiled = compile_rule(rule)
        assert compiled["pri"] == LAYERS.index(rule.layer) + 1, rule.id
        assert len(compiled["all"]) == len(rule.patterns), rule.id
        for pattern, entry in zip(rule.patterns, compiled["all"]):
            (key, body), = entry.items()
            assert key == (f"{pattern.alias}$not" if pattern.negated else pattern.alias), rule.id
            assert body["$and"][0] == {"t": pattern.fact}, rule.id
            assert len(body["$and"]) == 1 + 2 * len(pattern.tests), rule.id
            assert [body["$and"][1 + 2 * i] for i in range(len(pattern.tests))] == [
                {"$ex": {t.field: 1}} for t in pattern.tests], rule.id


def test_bundled_aliases_are_unique_within_each_rule(bundled_rules):
    for rule in bundled_rules.rules:
        keys = [next(iter(entry)) for entry in compile_rule(rule)["all"]]
        assert len(keys) == len(set(keys)), rule.id


def test_missing_equipment_rule_compiles_exactly(bundled_rules):
    rule = bundled_rules.by_id()["exclude.missing_equipment"]
    assert compile_rule(rule) == {"all": [
        {"cand": {"$and": [{"t": "candidate"}]}},
        {"need": {"$and": [{"t": "requires"}, {"$ex": {"exercise": 1}}, {"exercise": {"cand": "exercise"}}]}},
        {"answer_2_0$not": {"$and": [{"t": "answer"}, {"$ex": {"equipment": 1}},
                                     {"equipment": {"need": "item"}}]}},
    ], "pri": 4}


def test_two_answer_shorthand_compiles_to_two_answer_facts(bundled_rules):
    rule = bundled_rules.by_id()["rule_out.loaded_hip_flexion_with_front_hip_pain"]
    assert compile_rule(rule) == {"all": [
        {"answer_0_0": {"$and": [{"t": "answer"}, {"$ex": {"hip_pain": 1}}, {"hip_pain": "front"}]}},
        {"answer_0_1": {"$and": [{"t": "answer"}, {"$ex": {"pain_level": 1}}, {"$gte": {"pain_level": 5}}]}},
    ], "pri": 4}


def test_symptom_shorthand_compiles_to_name_equality(bundled_rules):
    rule = bundled_rules.by_id()["cause.weak_glutes.runners_knee"]
    assert compile_rule(rule) == {"all": [
        {"symptom_0_0": {"$and": [{"t": "symptom"}, {"$ex": {"name": 1}}, {"name": "runners_knee"}]}},
    ], "pri": 3}


def test_in_from_rule_file_compiles_to_or(bundled_rules):
    rule = bundled_rules.by_id()["schedule.warm_up_before_run"]
    body = compile_rule(rule)["all"][0]["item_0_0"]
    assert body["$and"][2] == {"$or": [{"category": "dynamic"}, {"category": "mobility"}]}
    assert compile_rule(rule)["pri"] == 5


def test_ne_written_in_a_rule_file_compiles_with_existence_test(data_copy, bundled_kb):
    _, rules = data_copy
    path = rules / "symptoms.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["rules"].append({"id": "symptom.low_back.any", "when": [{"answer": {"low_back": {"ne": "none"}}, "as": "back"}],
                          "then": {"symptom": "low_back"}, "cf": 0.3, "rationale": "planted",
                          "source": "physio_practice"})
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    rule = load_rules(rules, bundled_kb).by_id()["symptom.low_back.any"]
    assert compile_rule(rule) == {"all": [
        {"back": {"$and": [{"t": "answer"}, {"$ex": {"low_back": 1}}, {"$neq": {"low_back": "none"}}]}},
    ], "pri": 2}


def test_an_ordering_test_against_an_earlier_fact_compiles_to_a_durable_join():
    earlier = Pattern("checkin", "before", (FieldTest("back", "eq", 1),))
    now = Pattern("checkin", "now", (FieldTest("back", "eq", 0),
                                     FieldTest("pain_during", "gt", Ref("before", "pain_during")),
                                     FieldTest("pain_during", "gte", 6)))
    compiled = compile_rule(make_rule(earlier, now, layer="progress", conclusion="decide",
                                      target="refer"))
    terms = compiled["all"][1]["now"]["$and"]
    assert {"$gt": {"pain_during": {"before": "pain_during"}}} in terms
    assert {"$gte": {"pain_during": 6}} in terms
    assert compiled["pri"] == len(LAYERS) + 1  # after every plan layer, in a ruleset of its own
