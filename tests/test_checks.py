"""Static checks (``hipcoach.kb.checks``): the bundled data passes, and each kind of defect planted
in a copy of it is found, named by its check, file and entry."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from hipcoach.kb.bundled import knowledge_dir, rules_dir
from hipcoach.kb.checks import Finding, check
from test_knowledge import drop_key, duplicate, edit, set_key
from test_rulefile import rule_in, set_when

KNEE = "symptom.runners_knee.front_knee_pain"  # symptoms.yaml: answer {knee_pain: front}
SEVERE = "triage.severe_pain"  # triage.yaml: answer {pain_level: {gte: 8}}


def only(findings: list[Finding], check_name: str, file: Path, entry: str) -> Finding:
    """The one finding of ``check_name`` on ``entry`` of ``file``; fails showing all otherwise."""
    found = [f for f in findings if (f.check, f.file, f.entry) == (check_name, str(file), entry)]
    assert len(found) == 1, "\n".join(map(str, findings))
    return found[0]


def drop_rules(predicate: Any):
    return lambda data: data.__setitem__("rules", [r for r in data["rules"] if not predicate(r)])


def unpropose(exercise: str):
    def change(data: Any) -> None:
        for rule in data["rules"]:
            if "propose" in rule["then"]:
                rule["then"]["propose"] = [e for e in rule["then"]["propose"] if e != exercise]
    return change


# ------------------------------------------------------------------------------- the real data

def errors(knowledge, rules):
    """The findings that fail the check (cautions are listed but pass)."""
    return [finding for finding in check(knowledge, rules) if finding.severity == "error"]


def test_bundled_data_has_no_findings():
    assert errors(knowledge_dir(), rules_dir()) == []


def test_finding_prints_file_entry_check_and_message():
    assert str(Finding("sources", "k/sources.yaml", "x", "cited by no one")) == \
        "k/sources.yaml: x: [sources] cited by no one"
    assert str(Finding("load", "k/sources.yaml", None, "file not found")) == \
        "k/sources.yaml: [load] file not found"


# ------------------------------------------------------------------------------- load errors

LOAD_DEFECTS = {
    # name: (folder, file, change, entry id, problem)
    "unknown_id_in_a_rule": (
        "rules", "candidates.yaml",
        lambda d: rule_in(d, "candidate.weak_glutes.strength")["then"].__setitem__(
            "propose", ["clamshell", "glute_bridges"]),
        "candidate.weak_glutes.strength", "propose: unknown exercise 'glute_bridges'"),
    "exercise_without_a_source": (
        "knowledge", "exercises.yaml", drop_key("exercises", "toy_soldiers", "source"),
        "toy_soldiers", "missing required key 'source'"),
    "duplicate_exercise_id": (
        "knowledge", "exercises.yaml", duplicate("exercises", "clamshell"),
        "clamshell", "duplicate id 'clamshell'"),
    "rule_id_duplicated_across_two_files": (
        "rules", "causes.yaml", lambda d: rule_in(d, "cause.weak_glutes.itbs").__setitem__("id", KNEE),
        KNEE, f"rule id {KNEE!r} is also used in {{rules}}/symptoms.yaml"),
}


@pytest.mark.parametrize("name", list(LOAD_DEFECTS))
def test_defect_the_loader_rejects_is_the_one_load_finding(data_copy, name):
    knowledge, rules = data_copy
    folder, file, change, entry, problem = LOAD_DEFECTS[name]
    path = (knowledge if folder == "knowledge" else rules) / file
    edit(path, change)
    [finding] = check(knowledge, rules)
    assert (finding.check, finding.file) == ("load", str(path))
    assert re.fullmatch(rf"'{re.escape(entry)}' \((rules|exercises)\[\d+\]\)", finding.entry), finding.entry
    assert finding.message == problem.format(rules=rules)


# ------------------------------------------------------------------------------- unreachable

def test_cause_no_rule_concludes_is_unreachable(data_copy):
    knowledge, rules = data_copy
    edit(rules / "causes.yaml", drop_rules(lambda r: r["then"] == {"cause": "overuse"}))
    findings = check(knowledge, rules)
    only(findings, "unreachable", knowledge / "causes.yaml", "overuse")
    # the rules that propose for it can no longer fire either
    blocked = only(findings, "never_fires", rules / "candidates.yaml", "candidate.overuse.smr")
    assert "no cause the rules can derive has name eq 'overuse'" in blocked.message
    # and exercises only it proposed are never proposed
    only(findings, "unreachable", knowledge / "exercises.yaml", "foam_roll_hamstrings")
    assert not [f for f in findings if f.check == "category_coverage"]  # not reported twice


def test_cause_whose_rules_cannot_fire_is_unreachable(data_copy):
    knowledge, rules = data_copy
    edit(rules / "causes.yaml", drop_rules(lambda r: r["then"] == {"cause": "overuse"}
                                           and r["id"] != "cause.overuse.high_volume"))
    edit(rules / "causes.yaml", set_when("cause.overuse.high_volume", {"answer": {"weekly_km": {"gt": 300}}}))
    findings = check(knowledge, rules)
    only(findings, "unreachable", knowledge / "causes.yaml", "overuse")
    only(findings, "never_fires", rules / "causes.yaml", "cause.overuse.high_volume")


def test_exercise_no_rule_proposes_is_unreachable(data_copy):
    knowledge, rules = data_copy
    edit(rules / "candidates.yaml", unpropose("clamshell"))
    finding = only(check(knowledge, rules), "unreachable", knowledge / "exercises.yaml", "clamshell")
    assert "no plan can include it" in finding.message


def test_symptom_no_rule_concludes_is_unreachable(data_copy):
    knowledge, rules = data_copy
    edit(rules / "symptoms.yaml", drop_rules(lambda r: r["then"] == {"symptom": "itbs"}))
    findings = check(knowledge, rules)
    only(findings, "unreachable", knowledge / "symptoms.yaml", "itbs")
    only(findings, "never_fires", rules / "causes.yaml", "cause.tight_lateral_hip.itbs")


# ------------------------------------------------------------------------------- never fires

@pytest.mark.parametrize("test, shown", [
    ({"gte": 11}, "pain_level gte 11"),
    ({"lt": 0}, "pain_level lt 0"),
    ({"gt": 10}, "pain_level gt 10"),
    ({"eq": 12}, "pain_level eq 12"),
    ({"in": [11, 12]}, "pain_level in [11, 12]"),
])
def test_answer_test_no_allowed_value_passes_never_fires(data_copy, test, shown):
    knowledge, rules = data_copy
    edit(rules / "triage.yaml", set_when(SEVERE, {"answer": {"pain_level": test}}))
    finding = only(check(knowledge, rules), "never_fires", rules / "triage.yaml", SEVERE)
    assert finding.message == (f"can never fire: no allowed answer has {shown} (allowed: 0 to 10)")


@pytest.mark.parametrize("test", [{"gte": 10}, {"lte": 0}, {"gt": 9.5}, {"in": [3, 11]}, {"ne": 10}])
def test_answer_test_some_allowed_value_passes_is_fine(data_copy, test):
    knowledge, rules = data_copy
    edit(rules / "triage.yaml", set_when(SEVERE, {"answer": {"pain_level": test}}))
    found = errors(knowledge, rules)
    # a referral at pain 0 rightly leaves the rules for pain 0 no effect (the verifier says so,
    # naming the referral); nothing else is wrong with an answer test some answer passes
    assert [f for f in found if not (f.check == "conflict" and f"where {SEVERE} (" in f.message)] == []


def test_whole_number_answer_between_two_numbers_with_no_whole_number_never_fires(data_copy):
    knowledge, rules = data_copy
    edit(rules / "triage.yaml", set_when(SEVERE, {"answer": {"pain_level": {"gt": 7}}},
                                         {"answer": {"pain_level": {"lt": 8}}}))
    only(check(knowledge, rules), "never_fires", rules / "triage.yaml", SEVERE)
    edit(rules / "triage.yaml", set_when(SEVERE, {"answer": {"sitting_hours": {"gt": 7}}},
                                         {"answer": {"sitting_hours": {"lt": 8}}}))
    assert errors(knowledge, rules) == []  # a number answer can be 7.5


def test_two_different_values_of_one_choice_answer_never_fire(data_copy):
    knowledge, rules = data_copy
    edit(rules / "symptoms.yaml", set_when(KNEE, {"answer": {"knee_pain": "front"}},
                                           {"answer": {"knee_pain": "outside"}}))
    finding = only(check(knowledge, rules), "never_fires", rules / "symptoms.yaml", KNEE)
    assert "knee_pain eq 'front' and knee_pain eq 'outside' cannot all hold" in finding.message


def test_contradictory_bounds_on_one_number_answer_never_fire(data_copy):
    knowledge, rules = data_copy
    edit(rules / "triage.yaml", set_when(SEVERE, {"answer": {"pain_level": {"gte": 8}}},
                                         {"answer": {"pain_level": {"lte": 3}}}))
    finding = only(check(knowledge, rules), "never_fires", rules / "triage.yaml", SEVERE)
    assert "pain_level gte 8 and pain_level lte 3 cannot all hold" in finding.message


def test_two_values_of_a_list_answer_are_not_contradictory(data_copy):
    knowledge, rules = data_copy
    edit(rules / "candidates.yaml", set_when("candidate.maintenance", {"answer": {"equipment": "mat"}},
                                             {"answer": {"equipment": "foam_roller"}}))
    assert errors(knowledge, rules) == []


def test_negated_pattern_never_blocks_a_rule(data_copy):
    knowledge, rules = data_copy  # "no answer pain_level >= 11" always holds
    edit(rules / "triage.yaml", set_when(SEVERE, {"answer": {"pain_level": {"gte": 8}}},
                                         {"no_answer": {"pain_level": {"gte": 11}}}))
    assert errors(knowledge, rules) == []


def test_ne_on_a_choice_with_a_single_value_never_fires(data_copy):
    knowledge, rules = data_copy
    question = {"id": "surface", "prompt": "Where do you run?", "type": "choice",
                "choices": [{"value": "road", "label": "Road"}], "default": "road", "help": "Where."}
    edit(knowledge / "questionnaire.yaml", lambda d: d["questions"].append(question))
    edit(rules / "triage.yaml", set_when(SEVERE, {"answer": {"surface": {"ne": "road"}}}))
    finding = only(check(knowledge, rules), "never_fires", rules / "triage.yaml", SEVERE)
    assert "surface ne 'road'" in finding.message and "(allowed: road)" in finding.message


def test_certainty_above_one_never_fires(data_copy):
    knowledge, rules = data_copy
    edit(rules / "candidates.yaml", set_when("candidate.weak_glutes.dynamic",
                                             {"cause": {"name": "weak_glutes", "cf": {"gt": 1}}}))
    finding = only(check(knowledge, rules), "never_fires", rules / "candidates.yaml",
                   "candidate.weak_glutes.dynamic")
    assert "cf gt 1" in finding.message


def test_certainty_literal_above_one_is_a_load_finding(data_copy):
    knowledge, rules = data_copy
    edit(rules / "candidates.yaml", set_when("candidate.weak_glutes.dynamic",
                                             {"cause": {"name": "weak_glutes", "cf": {"gte": 1.5}}}))
    [finding] = check(knowledge, rules)
    assert (finding.check, finding.file) == ("load", str(rules / "candidates.yaml"))
    assert finding.entry.startswith("'candidate.weak_glutes.dynamic'")


def test_certainty_below_the_layer_threshold_never_fires(data_copy):
    knowledge, rules = data_copy  # causes.yaml threshold is 0.2: weaker causes are never asserted
    edit(rules / "candidates.yaml", set_when("candidate.weak_glutes.dynamic",
                                             {"cause": {"name": "weak_glutes", "cf": {"lt": 0.2}}}))
    only(check(knowledge, rules), "never_fires", rules / "candidates.yaml", "candidate.weak_glutes.dynamic")
    edit(rules / "candidates.yaml", set_when("candidate.weak_glutes.dynamic",
                                             {"cause": {"name": "weak_glutes", "cf": {"lt": 0.3}}}))
    assert errors(knowledge, rules) == []


def test_item_pattern_no_exercise_matches_never_fires(data_copy):
    knowledge, rules = data_copy  # no dynamic exercise is done after a run
    edit(rules / "plan.yaml", set_when("schedule.anytime_stretch",
                                       {"item": {"category": "dynamic", "when": "after_run"}}))
    only(check(knowledge, rules), "never_fires", rules / "plan.yaml", "schedule.anytime_stretch")


# ------------------------------------------------------------------------- category coverage

def test_cause_served_in_one_category_only(data_copy):
    knowledge, rules = data_copy
    edit(rules / "candidates.yaml", drop_rules(lambda r: r["id"] == "candidate.weak_glutes.dynamic"))
    finding = only(check(knowledge, rules), "category_coverage", knowledge / "causes.yaml", "weak_glutes")
    assert finding.message == ("served only by strength exercises; a balanced answer to a cause "
                               "needs at least 2 categories")


def test_cause_served_by_no_exercise(data_copy):
    knowledge, rules = data_copy
    edit(rules / "candidates.yaml", drop_rules(lambda r: r["id"].startswith("candidate.")
                                               and "weak_glutes" in str(r["when"])))
    finding = only(check(knowledge, rules), "category_coverage", knowledge / "causes.yaml", "weak_glutes")
    assert finding.message.startswith("served by no exercise")


def test_required_category_without_a_no_equipment_exercise(data_copy):
    knowledge, rules = data_copy

    def equip_stretches(data: Any) -> None:
        for exercise in data["exercises"]:
            if exercise["category"] == "stretch":
                exercise["equipment"] = sorted(set(exercise["equipment"]) | {"mat"})
    edit(knowledge / "exercises.yaml", equip_stretches)
    findings = errors(knowledge, rules)
    for rule in ("plan.require.stretch", "plan.require.stretch_after_core_work"):
        finding = only(findings, "category_coverage", rules / "plan.yaml", rule)
        assert "no stretch exercise that needs no equipment" in finding.message
    assert len(findings) == 2


def test_requirement_of_several_categories_needs_one_of_them_without_equipment(data_copy):
    knowledge, rules = data_copy  # plan.require.warm_up: dynamic or mobility
    edit(knowledge / "exercises.yaml", set_key("exercises", "lunge_hip_rotations", "equipment", ["mat"]))
    assert errors(knowledge, rules) == []


# ---------------------------------------------------------------------------------- sources

ORPHAN = {"id": "orphan_article", "title": "An article", "publisher": "Somebody"}


def add_orphan_source(knowledge: Path) -> None:
    edit(knowledge / "sources.yaml", lambda d: d["sources"].append(dict(ORPHAN)))


def test_source_nobody_cites(data_copy):
    knowledge, rules = data_copy
    add_orphan_source(knowledge)
    [finding] = errors(knowledge, rules)
    assert (finding.check, finding.file, finding.entry) == (
        "sources", str(knowledge / "sources.yaml"), "orphan_article")
    assert finding.message == "cited by no exercise, cause, symptom, advice or rule"


@pytest.mark.parametrize("folder, file, change", [
    ("knowledge", "exercises.yaml", set_key("exercises", "toy_soldiers", "source", "orphan_article")),
    ("knowledge", "causes.yaml", set_key("causes", "overuse", "source", "orphan_article")),
    ("knowledge", "symptoms.yaml", set_key("symptoms", "itbs", "source", "orphan_article")),
    ("rules", "triage.yaml", lambda d: rule_in(d, SEVERE).__setitem__("source", "orphan_article")),
])
def test_source_cited_by_any_entry_or_rule_is_cited(data_copy, folder, file, change):
    knowledge, rules = data_copy
    add_orphan_source(knowledge)
    edit((knowledge if folder == "knowledge" else rules) / file, change)
    assert errors(knowledge, rules) == []


# ---------------------------------------------------------------------------------- order

def test_findings_are_sorted_by_file_and_entry_and_repeatable(data_copy):
    knowledge, rules = data_copy
    edit(rules / "causes.yaml", drop_rules(lambda r: r["then"] == {"cause": "overuse"}))
    add_orphan_source(knowledge)
    findings = check(knowledge, rules)
    assert len({f.check for f in findings if f.severity == "error"}) == 3
    assert [(f.file, f.entry) for f in findings] == sorted((f.file, f.entry or "") for f in findings)
    assert check(knowledge, rules) == findings


# ------------------------------------------------------------------------------ unread questions


def test_a_question_no_rule_reads_is_reported(data_copy):
    knowledge, rules = data_copy
    edit(knowledge / "questionnaire.yaml", lambda data: data["questions"].insert(1, {
        "id": "shoe_size", "prompt": "What is your shoe size?", "type": "int", "min": 30,
        "max": 50, "default": 42, "help": "EU sizes."}))
    finding = only(check(knowledge, rules), "unread_question", knowledge / "questionnaire.yaml",
                   "shoe_size")
    assert finding.message == "no rule reads this answer: use it in a rule or stop asking it"


def test_a_demand_no_rule_rules_out_is_reported(data_copy):
    knowledge, rules = data_copy
    edit(rules / "candidates.yaml", drop_rules(lambda r: r["id"] == "rule_out.getting_up_difficulty"))
    finding = only(check(knowledge, rules), "demands", knowledge / "vocabulary.yaml", "floor_transfer")
    assert "no rule that can fire rules this demand out" in finding.message


def test_a_demand_no_exercise_makes_is_reported(data_copy):
    knowledge, rules = data_copy
    path = knowledge / "vocabulary.yaml"
    last = '  loaded_hip_flexion: "lifting the thigh against resistance"\n'
    path.write_text(path.read_text(encoding="utf-8").replace(last, last + '  hopping: "hopping"\n'),
                    encoding="utf-8")
    finding = only(check(knowledge, rules), "demands", path, "hopping")
    assert "no exercise makes this demand" in finding.message


def test_an_exercise_whose_steps_show_an_undeclared_demand_is_reported(data_copy):
    knowledge, rules = data_copy
    edit(knowledge / "exercises.yaml", set_key("exercises", "doorway_hip_flexor_stretch", "demands",
                                               ["floor_transfer"]))
    finding = only(check(knowledge, rules), "demands", knowledge / "exercises.yaml",
                   "doorway_hip_flexor_stretch")
    assert "say 'kneel' but it does not declare the demand kneeling" in finding.message


def test_a_ladder_rung_whose_steps_show_an_undeclared_demand_is_reported(data_copy):
    knowledge, rules = data_copy
    edit(knowledge / "ladders.yaml", set_key("rungs", "low_step_down", "demands", []))
    finding = only(check(knowledge, rules), "demands", knowledge / "ladders.yaml", "low_step_down")
    assert "say 'free heel' but it does not declare the demand single_leg_stance" in finding.message


def test_a_requirement_one_rule_out_leaves_no_exercise_for_is_reported(data_copy):
    knowledge, rules = data_copy
    edit(knowledge / "exercises.yaml", set_key("exercises", "wall_ball_release_glutes", "demands",
                                               ["floor_transfer"]))
    finding = only(check(knowledge, rules), "demands", rules / "plan.yaml", "plan.require.smr")
    assert "rule_out.getting_up_difficulty rules out (floor_transfer)" in finding.message


def test_age_is_read_by_a_rule_once_more(data_copy):
    """Age was asked and never used; the rule that uses it is what keeps kb check quiet."""
    knowledge, rules = data_copy
    for layer in ("triage", "symptoms", "causes", "candidates", "plan", "advice"):
        edit(rules / f"{layer}.yaml", drop_rules(lambda r: "'age'" in str(r["when"])))
    only(check(knowledge, rules), "unread_question", knowledge / "questionnaire.yaml", "age")


# --------------------------------------------------------- defects the loader now refuses too

@pytest.mark.parametrize("plant, file, entry, message", [
    (lambda k, r: edit(r / "causes.yaml", lambda d: d["rules"].append(
        {"id": "cause.loop", "when": [{"cause": "weak_glutes"}], "then": {"cause": "overuse"},
         "rationale": "x", "source": "physio_practice"})),
     "rules/causes.yaml", "'cause.loop' (rules[",
     "when[1]: cause facts are this layer's own conclusions, asserted only after 'cause' "
     "conclusions are used, so this rule would fire too late and be ignored"),
    (lambda k, r: (r / "more_rules.yaml").write_text("rules: []\n", encoding="utf-8"),
     "rules/more_rules.yaml", None, "unknown file in the rules folder, so never read"),
    (lambda k, r: edit(k / "causes.yaml", lambda d: d.__setitem__("cuases", [])),
     "knowledge/causes.yaml", "file", "unknown key(s) cuases; allowed: causes"),
    (lambda k, r: edit(k / "exercises.yaml",
                       set_key("exercises", "clamshell", "variant_of", "clamshell")),
     "knowledge/exercises.yaml", "'clamshell' (exercises[", "variant_of names the exercise itself"),
])
def test_kb_check_reports_what_the_engine_would_ignore_or_loop_on(data_copy, plant, file, entry,
                                                                   message):
    knowledge, rules = data_copy
    plant(knowledge, rules)
    [finding] = check(knowledge, rules)
    assert finding.check == "load"
    assert finding.file == str(knowledge.parent / file)
    assert (finding.entry is None) if entry is None else finding.entry.startswith(entry)
    assert finding.message.startswith(message)
