"""Scenario files (``hipcoach.trace.scenarios``) through ``hipcoach kb test``: the project's own
scenarios pass on the bundled base, a planted rule change makes one fail with what was expected,
what came and why, JUnit XML for CI, and a bad file is one error naming file and scenario."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from clirunner import failed, invoke, ok
from hipcoach.kb.bundled import knowledge_dir
from test_knowledge import edit


def write(path: Path, scenarios: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"scenarios": scenarios}, sort_keys=False), encoding="utf-8")
    return path


def a_red_flag_rule(rules: Path) -> dict[str, Any]:
    """The first triage rule that refers on one red flag alone, read from the rules folder."""
    data = yaml.safe_load((rules / "triage.yaml").read_text(encoding="utf-8"))
    return next(r for r in data["rules"] if r["when"] and set(r["when"][0]) == {"answer"}
                and set(r["when"][0]["answer"]) == {"red_flags"} and len(r["when"]) == 1)


def flag_scenario(rule: dict[str, Any]) -> dict[str, Any]:
    flag = rule["when"][0]["answer"]["red_flags"]
    return {"id": "flag_is_referred", "says": "This red flag is referred with its urgency.",
            "answers": {"red_flags": [flag], "pain_level": 2},
            "expect": {"status": "refer", "urgency": rule["urgency"], "reasons": [rule["then"]["refer"]],
                       "exercises": {"absent": ["clamshell"]}}}


def test_the_projects_own_scenarios_pass_on_the_bundled_base(planner):
    result = ok(invoke("kb", "test"))
    *failures, last = result.stdout.splitlines()
    assert failures == []
    count = sum(len(yaml.safe_load(p.read_text(encoding="utf-8"))["scenarios"])
                for p in (knowledge_dir() / "scenarios").glob("*.yaml"))
    assert count >= 15
    assert last == (f"{count} scenario(s): {count} passed, 0 failed "
                    f"({planner.provenance.describe()})")


def test_every_red_flag_has_a_scenario_with_its_urgency(rulebase):
    """The shipped scenarios cover each triage referral, at the urgency its rule gives."""
    expected: dict[str, set[str]] = {}
    for path in (knowledge_dir() / "scenarios").glob("*.yaml"):
        for scenario in yaml.safe_load(path.read_text(encoding="utf-8"))["scenarios"]:
            expect = scenario.get("expect", {})
            for reason in expect.get("reasons", []) if isinstance(expect.get("reasons"), list) else []:
                expected.setdefault(reason, set()).add(expect.get("urgency"))
    for rule in rulebase.layer("triage"):
        assert rule.urgency in expected.get(rule.target, set()), rule.target


def test_a_planted_urgency_change_fails_its_scenario_saying_why(data_copy, tmp_path):
    knowledge, rules = data_copy
    rule = a_red_flag_rule(rules)
    scenario = write(tmp_path / "flag.yaml", [flag_scenario(rule)])
    ok(invoke("kb", "test", scenario, "--kb", knowledge, "--rules", rules))
    urgencies = [u["id"] for u in yaml.safe_load((rules / "triage.yaml").read_text(encoding="utf-8"))["urgencies"]]
    other = next(u for u in urgencies if u != rule["urgency"])
    edit(rules / "triage.yaml", lambda d: next(r for r in d["rules"] if r["id"] == rule["id"])
         .__setitem__("urgency", other))
    result = invoke("kb", "test", scenario, "--kb", knowledge, "--rules", rules)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"FAIL flag_is_referred ({scenario})"
    assert "  This red flag is referred with its urgency." in lines
    assert f"  expected: urgency {rule['urgency']}" in lines
    assert f"  got:      urgency {other}" in lines
    because = lines[lines.index("  because:") + 1]
    assert because.startswith(f"    referral {rule['then']['refer']} <- {rule['id']}: ")
    assert lines[-1].startswith("1 scenario(s): 0 passed, 1 failed")


def test_the_bundled_scenarios_catch_a_dropped_exclusion(data_copy):
    knowledge, rules = data_copy
    edit(rules / "candidates.yaml", lambda d: d.__setitem__(
        "rules", [r for r in d["rules"] if "exclude" not in r["then"]]))
    result = invoke("kb", "test", "--kb", knowledge, "--rules", rules)
    assert result.exit_code == 1, result.output
    assert "FAIL " in result.stdout and "expected: exercises exclude " in result.stdout


def test_a_missing_exercise_is_explained_by_why_not(tmp_path, planner):
    answers = {"red_flags": [], "pain_level": 0, "minutes": 5}
    chosen = {item["exercise"] for item in planner.plan(answers)["items"]}
    missing = next(e for e in planner.kb.exercises if e not in chosen)
    scenario = write(tmp_path / "s.yaml", [{"id": "wants_it", "answers": answers,
                                            "expect": {"exercises": [missing]}}])
    result = invoke("kb", "test", scenario)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert f"  expected: exercises include {missing}" in lines
    assert any(line.startswith("    why not: ") for line in lines)


def test_junit_xml_lists_every_scenario_and_its_failures(data_copy, tmp_path):
    _, rules = data_copy
    rule = a_red_flag_rule(rules)
    passing = flag_scenario(rule)
    failing = {**flag_scenario(rule), "id": "wrong_status", "expect": {"status": "plan"}}
    scenario = write(tmp_path / "flags.yaml", [passing, failing])
    report = tmp_path / "junit.xml"
    result = invoke("kb", "test", scenario, "--junit", report)
    assert result.exit_code == 1
    root = ET.parse(report).getroot()
    assert (root.tag, root.get("tests"), root.get("failures")) == ("testsuites", "2", "1")
    [suite] = root
    cases = {case.get("name"): case for case in suite}
    assert set(cases) == {"flag_is_referred", "wrong_status"}
    assert cases["flag_is_referred"].find("failure") is None
    failure = cases["wrong_status"].find("failure")
    assert failure is not None and failure.get("message") == "expected status plan, got status refer"
    assert "because:" in (failure.text or "")


@pytest.mark.parametrize("scenario, needle", [
    ({"id": "x", "answers": {"knee_pian": "front"}, "expect": {"status": "plan"}}, "unknown answer id"),
    ({"id": "x", "answers": {"pain_level": 11}, "expect": {"status": "plan"}}, "pain_level"),
    ({"id": "x", "answers": {}, "expect": {"exercises": ["no_such_move"]}}, "unknown id 'no_such_move'"),
    ({"id": "x", "answers": {}, "expect": {"stauts": "plan"}}, "stauts"),
    ({"id": "x", "answers": {}, "expect": {"certainty": {"itbs": {"at_least": 2}}}}, "0 to 1"),
    ({"id": "x", "answers": {}, "expect": {}}, "at least one expectation"),
    ({"id": "x", "answers": {}, "expect": {"urgency": "whenever"}}, "urgency"),
])
def test_a_bad_scenario_is_one_error_naming_file_and_scenario(tmp_path, scenario, needle):
    path = write(tmp_path / "bad.yaml", [scenario])
    failed(invoke("kb", "test", path), 1, str(path), "'x'", needle)


def test_a_folder_runs_each_of_its_files_and_a_missing_path_is_a_usage_error(tmp_path, data_copy):
    _, rules = data_copy
    rule = a_red_flag_rule(rules)
    write(tmp_path / "a.yaml", [flag_scenario(rule)])
    write(tmp_path / "b.yaml", [{**flag_scenario(rule), "id": "again"}])
    assert ok(invoke("kb", "test", tmp_path)).stdout.startswith("2 scenario(s): 2 passed")
    assert invoke("kb", "test", tmp_path / "nothing.yaml").exit_code == 2


def test_the_knowledge_folder_allows_its_scenarios_folder_and_nothing_else(data_copy):
    knowledge, rules = data_copy
    assert (knowledge / "scenarios").is_dir()
    ok(invoke("kb", "check", "--kb", knowledge, "--rules", rules))
    (knowledge / "notes").mkdir()
    result = invoke("kb", "check", "--kb", knowledge, "--rules", rules)
    assert result.exit_code == 1 and "unknown file in the knowledge folder" in result.stdout


def test_a_check_in_expectation_fails_when_the_progress_rules_change(data_copy):
    knowledge, rules = data_copy

    def never_progress(data: Any) -> None:
        for rule in data["rules"]:
            if rule["then"] == {"decide": "progress"}:
                rule["then"] = {"decide": "hold"}
    edit(rules / "progress.yaml", never_progress)
    result = invoke("kb", "test", knowledge / "scenarios", "--kb", knowledge, "--rules", rules)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    at = lines.index("  expected: decision progress")
    assert lines[at - 1].startswith("  at check-in ") and lines[at + 1] == "  got:      decision hold"


@pytest.mark.parametrize("checkin, needle", [
    ({"date": "2026-03-08", "pain_during": 1, "next_morning": "better", "sessions": "some"},
     "'all'"),
    ({"date": "2026-03-08", "pain_during": 1, "next_morning": "better", "sessions": 2,
      "expect": {"up": ["no_such_move"]}}, "unknown exercise"),
    ({"date": "2026-03-08", "pain_during": 1, "next_morning": "better", "sessions": 2,
      "expect": {"decision": "jump"}}, "decision"),
])
def test_a_bad_check_in_is_one_error_naming_the_scenario(tmp_path, checkin, needle):
    path = write(tmp_path / "bad.yaml", [{
        "id": "x", "answers": {"red_flags": []}, "expect": {"status": "plan"},
        "programme": {"start": "2026-03-02", "run_days": ["tue"]}, "checkins": [checkin]}])
    failed(invoke("kb", "test", path), 1, str(path), "'x'", needle)


def test_a_refused_check_in_is_a_failure_not_a_crash(tmp_path):
    path = write(tmp_path / "early.yaml", [{
        "id": "before_the_start", "answers": {"red_flags": [], "knee_pain": "front"},
        "programme": {"start": "2026-03-02", "run_days": ["tue"]},
        "checkins": [{"date": "2026-03-01", "pain_during": 1, "next_morning": "better",
                      "sessions": 0, "expect": {"decision": "progress"}}]}])
    result = invoke("kb", "test", path)
    assert result.exit_code == 1
    # the programme's error names the check-in's own key (`date`), not a command-line flag
    assert "  got:      refused: date 2026-03-01: the programme starts on 2026-03-02" in result.stdout


def test_a_file_without_scenarios_says_so(tmp_path):
    path = write(tmp_path / "empty.yaml", [])
    failed(invoke("kb", "test", path), 1, "no scenarios in", str(path))
