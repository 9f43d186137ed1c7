"""``explain.how``: derivation trees of symptoms, causes, plan items and referral reasons, read
from a traced plan, and ``premise_text``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import EXAMPLES
from hipcoach.present.explain import how, premise_text

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
RED_FLAG = EXAMPLES / "red_flag.yaml"
ANSWER_LINE = re.compile(r"<- answer (\w+) = (.+)$")
RULE_LINE = re.compile(r"^(\s*)<- ([\w.]+) \(adds \d+%\): ")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def conclusions(plan: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, id, entry) of every symptom, cause and item of a plan."""
    found = [("symptom", s["id"], s) for s in plan["symptoms"]]
    found += [("cause", c["id"], c) for c in plan["causes"]]
    found += [("item", i["exercise"], i) for i in plan["items"]]
    return found


def answer_lines(lines: list[str]) -> list[tuple[str, str]]:
    return [m.groups() for line in lines if (m := ANSWER_LINE.search(line))]


def assert_answers_hold(pairs: list[tuple[str, str]], answers: dict[str, Any]) -> None:
    """Every ``answer X = V`` line shows an answer the runner really gave (or defaulted to)."""
    assert pairs, "the tree reaches no answer"
    for key, value in pairs:
        assert key in answers, key
        given = answers[key]
        if isinstance(given, list):
            assert value in given, (key, value, given)
        else:
            assert value == shown(given), (key, value, given)


@pytest.fixture(scope="module")
def records(planner) -> dict[str, dict[str, Any]]:
    return {path.stem: planner.trace(load(path)) for path in EXAMPLE_FILES}


def test_there_are_persona_examples_with_plans_and_a_referral(records):
    assert {r["status"] for r in records.values()} == {"plan", "refer"}
    assert len(records) >= 3


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLE_FILES])
def test_how_first_line_names_each_conclusion(records, name):
    plan = records[name]["plan"]
    for kind, ident, entry in conclusions(plan):
        first = how(plan, ident)[0]
        pct = f"({round(entry['confidence'] * 100)}%)"
        if kind == "item":
            assert first == f"{entry['name']} [{ident}] {pct}"
        else:
            assert first == f"{kind} {entry['name']} [{ident}] {pct}"
    for reason in plan["reasons"]:
        first = how(plan, reason["id"])[0]
        assert first == f"referral {reason['id']} <- {reason['rule']}: {reason['message']}"


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLE_FILES if p != RED_FLAG])
def test_how_gives_a_source_line_for_each_rule(records, name):
    plan = records[name]["plan"]
    citations = {s["rule"]: s["source"] for _, _, e in conclusions(plan) for s in e["because"]}
    for _, ident, entry in conclusions(plan):
        lines = how(plan, ident)
        rule_lines = [(i, m) for i, line in enumerate(lines) if (m := RULE_LINE.match(line))]
        assert rule_lines, ident
        # each of the conclusion's own rules is in the tree
        assert [m.group(2) for _, m in rule_lines if len(m.group(1)) == 2] == [
            s["rule"] for s in entry["because"]]
        # every rule line, at every depth, is followed by its source
        for index, match in rule_lines:
            pad = " " * len(match.group(1))
            assert lines[index + 1] == f"{pad}   source: {citations[match.group(2)]}", ident
        assert sum("source: " in line for line in lines) == len(rule_lines)


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLE_FILES])
def test_how_reaches_the_runners_answers(records, name):
    record = records[name]
    plan = record["plan"]
    targets = [ident for _, ident, _ in conclusions(plan)] + [r["id"] for r in plan["reasons"]]
    assert targets
    for ident in targets:
        assert_answers_hold(answer_lines(how(plan, ident)), record["answers"])


def test_how_of_a_cause_goes_through_its_symptoms(records):
    plan = records["desk_runner"]["plan"]
    lines = how(plan, "weak_glutes")
    text = "\n".join(lines)
    assert "<- symptom Runner's knee (patellofemoral pain) (80%)" in text
    assert "<- symptom.runners_knee.front_knee_pain (adds 80%)" in text
    assert ("knee_pain", "front") in answer_lines(lines)
    # the symptom's chain is nested under the cause rule that matched it
    cause_rule = next(i for i, line in enumerate(lines) if "<- cause.weak_glutes.runners_knee" in line)
    symptom_rule = next(i for i, line in enumerate(lines)
                        if "<- symptom.runners_knee.front_knee_pain" in line)
    assert symptom_rule > cause_rule
    assert len(lines[symptom_rule]) - len(lines[symptom_rule].lstrip()) > \
        len(lines[cause_rule]) - len(lines[cause_rule].lstrip())


def test_how_of_an_item_says_how_it_was_chosen_and_scheduled(records):
    plan = records["desk_runner"]["plan"]
    item = next(i for i in plan["items"] if i["exercise"] == "clamshell")
    lines = how(plan, "clamshell")
    assert lines[-2] == f"  chosen by {item['chosen']['rule']}: {item['chosen']['reason']}"
    assert lines[-1] == f"  scheduled {item['when']} by {item['scheduled_by']}"


def test_how_of_an_item_that_filled_spare_time_has_no_chosen_rule(records):
    plan = records["desk_runner"]["plan"]
    item = next(i for i in plan["items"] if i["chosen"]["rule"] is None)
    chosen = [line for line in how(plan, item["exercise"]) if line.startswith("  chosen")]
    assert chosen == [f"  chosen: {item['chosen']['reason']}"]


def test_how_of_a_referral_reason_lists_the_red_flag_answer(records):
    record = records["red_flag"]
    lines = how(record["plan"], "swelling")
    assert lines[0].startswith("referral swelling <- triage.swelling: ")
    assert answer_lines(lines) == [("red_flags", "swelling")]
    assert "   <- answer red_flags = swelling" in lines[1:]


def test_how_of_a_referral_reason_gives_the_triage_rules_source(records):
    lines = how(records["red_flag"]["plan"], "swelling")
    assert any(line.strip().startswith("source: ") for line in lines)


@pytest.mark.parametrize("conclusion", ["no_such_thing", "", "chair_pose_squats", "Overuse"])
def test_how_of_an_unknown_conclusion_is_a_key_error(records, conclusion):
    # chair_pose_squats is excluded for the desk runner; ids are case-sensitive
    with pytest.raises(KeyError) as error:
        how(records["desk_runner"]["plan"], conclusion)
    assert error.value.args == (conclusion,)


def test_how_of_an_exercise_in_a_referral_is_a_key_error(records):
    with pytest.raises(KeyError):
        how(records["red_flag"]["plan"], "side_plank")


def test_how_reads_a_saved_plan_without_the_engine(records):
    plan = json.loads(json.dumps(records["itb_trail_runner"]["plan"]))
    assert how(plan, "itbs") == how(records["itb_trail_runner"]["plan"], "itbs")


# ------------------------------------------------------------------------------ premise_text


@pytest.mark.parametrize("value, text", [
    (True, "answer squat_difficulty = true"),
    (False, "answer squat_difficulty = false"),
])
def test_premise_text_shows_booleans_as_json(value, text):
    assert premise_text({"answer": "squat_difficulty", "value": value}, {}) == text


@pytest.mark.parametrize("key, value, text", [
    ("pain_level", 4, "answer pain_level = 4"),
    ("sitting_hours", 9.5, "answer sitting_hours = 9.5"),
    ("knee_pain", "front", "answer knee_pain = front"),
    ("equipment", "foam_roller", "answer equipment = foam_roller"),
])
def test_premise_text_shows_numbers_as_json_and_strings_bare(key, value, text):
    assert premise_text({"answer": key, "value": value}, {}) == text


def test_premise_text_never_shows_python_literals():
    text = premise_text({"answer": "recent_load_increase", "value": True}, {})
    assert "True" not in text and text.endswith("= true")
    assert premise_text({"answer": "x", "value": None}, {}).endswith("= null")


def test_premise_text_names_derived_facts_from_the_plan(records):
    plan = records["desk_runner"]["plan"]
    assert premise_text({"symptom": "runners_knee", "confidence": 0.8}, plan) == \
        "symptom Runner's knee (patellofemoral pain) (80%)"
    assert premise_text({"cause": "tight_hip_flexors", "confidence": 0.939}, plan) == \
        "cause Tight hip flexors (94%)"


def test_premise_text_falls_back_to_the_id_of_an_unknown_derived_fact():
    plan = {"symptoms": [], "causes": []}
    assert premise_text({"cause": "mystery", "confidence": 0.25}, plan) == "cause mystery (25%)"


def test_premise_text_of_requires_item_and_candidate_facts():
    assert premise_text({"requires": "doorway", "exercise": "doorway_hip_flexor_stretch"}, {}) == \
        "doorway_hip_flexor_stretch needs doorway"
    assert premise_text({"item": "side_plank", "category": "strength"}, {}) == \
        "plan item side_plank (strength)"
    assert premise_text({"exercise": "clamshell", "confidence": 0.855}, {}) == \
        "candidate clamshell (86%)"
