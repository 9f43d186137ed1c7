"""``hipcoach diff`` (``hipcoach.batch.diff``): two rule bases over the same respondents. Over
every example survey, what it reports is checked against an independent computation: the
``plans.csv`` that ``hipcoach score`` writes under each base, compared row by row here."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from clirunner import failed, invoke, ok
from conftest import EXAMPLES
from test_knowledge import edit

SURVEYS = sorted((EXAMPLES / "surveys").glob("*.csv"))


def plant_changes(rules: Path) -> None:
    """A rule edit that changes statuses, exercises and certainties: every exclusion dropped, a
    referral for pain of 5 or more, and the first cause rule's certainty lowered."""
    edit(rules / "candidates.yaml", lambda d: d.__setitem__(
        "rules", [r for r in d["rules"] if "exclude" not in r["then"]]))

    def refer_pain(data: Any) -> None:
        model = next(r for r in data["rules"] if "refer" in r["then"])
        data["rules"].append({**model, "id": "planted.pain_from_5",
                              "when": [{"answer": {"pain_level": {"gte": 5}}}],
                              "then": {"refer": "planted_pain"}})
    edit(rules / "triage.yaml", refer_pain)

    def lower(data: Any) -> None:
        first = next(r for r in data["rules"] if "cause" in r["then"])
        first["cf"] = round(first.get("cf", 1.0) / 2, 2)
    edit(rules / "causes.yaml", lower)


def mapping_of(survey: Path) -> list[Any]:
    mapping = survey.with_name(f"{survey.stem}_mapping.yaml")
    return ["--mapping", mapping] if mapping.exists() else []


def scored(survey: Path, out: Path, *base: Any) -> dict[str, dict[str, str]]:
    """plans.csv of ``hipcoach score`` as respondent -> row (an id seen again gets ``#n``)."""
    ok(invoke("score", survey, *mapping_of(survey), "-o", out, "-q", *base))
    seen: Counter[str] = Counter()
    rows = {}
    with open(out / "plans.csv", encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            ident = row["respondent_id"]
            seen[ident] += 1
            rows[ident if seen[ident] == 1 else f"{ident}#{seen[ident]}"] = row
    return rows


def causes(row: dict[str, str]) -> dict[str, float]:
    return {name: float(cf) for name, cf in (part.split(":") for part in row["causes"].split(";") if part)}


@pytest.mark.parametrize("survey", SURVEYS, ids=lambda p: p.stem)
def test_diff_over_a_survey_matches_scoring_it_under_each_base(survey, data_copy, tmp_path):
    knowledge, rules = data_copy
    plant_changes(rules)
    new = ["--kb", knowledge, "--rules", rules]
    old_rows = scored(survey, tmp_path / "old")
    new_rows = scored(survey, tmp_path / "new", *new)
    result = invoke("diff", survey, *mapping_of(survey), *new, "--format", "json",
                    "--csv", tmp_path / "changes.csv")
    report = json.loads(result.stdout)
    by = {c["respondent"]: c for c in report["changes"]}

    def changed_in(kind: str) -> set[str]:
        return {who for who, c in by.items() if kind in c["changed"]}

    assert set(old_rows) == set(new_rows)
    assert report["respondents"] == len(old_rows)
    status = {who for who in old_rows if old_rows[who]["status"] != new_rows[who]["status"]}
    exercises = {who for who in old_rows
                 if set(old_rows[who]["exercises"].split(";")) != set(new_rows[who]["exercises"].split(";"))}
    assert changed_in("status") == status and status  # the planted referral moves someone
    assert changed_in("exercises") == exercises
    for who, change in by.items():
        for move in change["certainty"]:
            if move["id"] in causes(old_rows[who]) or move["id"] in causes(new_rows[who]):
                assert causes(old_rows[who]).get(move["id"], 0.0) == move["old"]
                assert causes(new_rows[who]).get(move["id"], 0.0) == move["new"]
        if change["status"]:
            assert change["status"] == [old_rows[who]["status"], new_rows[who]["status"]]
    moved = {who for who in old_rows if any(
        abs(causes(old_rows[who]).get(c, 0.0) - causes(new_rows[who]).get(c, 0.0)) >= 0.05
        for c in set(causes(old_rows[who])) | set(causes(new_rows[who])))}
    assert moved <= changed_in("certainty")
    assert report["changed"] == len(by) and result.exit_code == 1
    with open(tmp_path / "changes.csv", encoding="utf-8", newline="") as stream:
        table = list(csv.reader(stream))
    assert table[0] == ["respondent", "what", "item", "old", "new"]
    assert {row[0] for row in table[1:] if row[1] == "status"} == status
    assert all(row[0] in by for row in table[1:])


def test_the_same_base_twice_changes_nothing_and_exits_0(data_copy):
    knowledge, rules = data_copy
    survey = EXAMPLES / "surveys" / "plain.csv"
    result = ok(invoke("diff", survey, "--kb", knowledge, "--rules", rules))
    lines = result.stdout.splitlines()
    assert lines[0].startswith("0 of ") and lines[0].endswith(" respondent(s) changed")
    assert lines[1] == lines[2].replace("new:", "old:")  # the same fingerprint, wherever it lies


def test_an_answers_folder_names_each_file_and_neutralises_formulas(data_copy, tmp_path):
    knowledge, rules = data_copy
    plant_changes(rules)
    folder = tmp_path / "answers"
    folder.mkdir()
    for example in EXAMPLES.glob("*.yaml"):
        shutil.copy(example, folder / example.name)
    shutil.copy(EXAMPLES / "desk_runner.yaml", folder / "=cmd.yaml")
    result = invoke("diff", folder, "--kb", knowledge, "--rules", rules, "--csv", tmp_path / "c.csv")
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[0].endswith(f"of {len(list(folder.iterdir()))} respondent(s) changed")
    assert any(line.startswith("desk_runner.yaml: ") for line in result.stdout.splitlines())
    text = (tmp_path / "c.csv").read_text(encoding="utf-8")
    assert "\n'=cmd.yaml," in text and "\n=cmd" not in text


def test_without_a_source_the_bundled_scenarios_are_compared(data_copy):
    knowledge, rules = data_copy
    plant_changes(rules)
    result = invoke("diff", "--kb", knowledge, "--rules", rules, "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    ids = {s["id"] for p in (knowledge / "scenarios").glob("*.yaml")
           for s in yaml.safe_load(p.read_text(encoding="utf-8"))["scenarios"]}
    assert report["respondents"] == len(ids)
    assert {c["respondent"] for c in report["changes"]} <= ids and report["changes"]
    assert any("planted.pain_from_5" in c["rules"]["new_only"] for c in report["changes"])


def test_a_new_base_is_required_and_an_empty_folder_is_bad_input(tmp_path, data_copy):
    _, rules = data_copy
    result = invoke("diff", EXAMPLES / "surveys" / "plain.csv")
    assert result.exit_code == 2 and "--kb" in result.output
    failed(invoke("diff", tmp_path, "--rules", rules), 1, "no answer files")


def test_an_answer_file_the_old_base_refuses_is_an_error_not_a_no_change(tmp_path, data_copy):
    _, rules = data_copy
    (tmp_path / "bad.json").write_text('{"knee_pian": "front"}', encoding="utf-8")
    failed(invoke("diff", tmp_path, "--rules", rules), 1, "bad.json", "knee_pian")


@settings(max_examples=60, deadline=None)
@given(st.integers(5, 90), st.integers(0, 10), st.sampled_from(["none", "front", "outside"]),
       st.integers(1, 40))
def test_a_change_read_backwards_swaps_old_and_new(planner, minutes, pain, knee, more):
    from hipcoach.batch.diff import Side, compare

    answers = {"red_flags": [], "pain_level": pain, "knee_pain": knee, "minutes": minutes}
    a = Side(planner.trace(answers))
    b = Side(planner.trace({**answers, "minutes": min(90, minutes + more)}))
    assert not compare("x", a, a).kinds
    forth, back = compare("x", a, b), compare("x", b, a)
    assert (forth.exercises_in, forth.exercises_out) == (back.exercises_out, back.exercises_in)
    assert [(i, new, old) for i, old, new in forth.certainty] == list(back.certainty)
    assert forth.kinds == back.kinds


def test_a_survey_of_no_known_layout_names_this_commands_option(tmp_path, data_copy):
    _, rules = data_copy
    survey = tmp_path / "x.csv"
    survey.write_text("a,b\n1,2\n", encoding="utf-8")
    line = failed(invoke("diff", survey, "--rules", rules), 1, "--layout")
    assert "--format" not in line
