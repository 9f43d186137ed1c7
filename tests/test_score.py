"""Batch scoring, through the library (hipcoach.score.score).

The example exports in examples/surveys/ hold the same six respondents in each layout; the plain
one is the reference, turned into answers with hipcoach.answers.normalise and planned one by one
with Planner.plan to give the expected rows.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import itertools
import json
import os
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hipcoach.batch.score as score_module
from conftest import EXAMPLES, TRIAGE_DEFAULTS
from hipcoach import Planner
from hipcoach.batch.csvsafe import TRIGGERS
from hipcoach.batch.profiles import ITEM_COLUMNS, PLAN_COLUMNS
from hipcoach.batch.score import ERROR_COLUMNS, PARALLEL_MIN, Options, score
from hipcoach.batch.survey import rows as survey_rows
from hipcoach.errors import SurveyError
from hipcoach.kb.answers import normalise
from hipcoach.trace.tracefile import read_traces

SURVEYS = EXAMPLES / "surveys"
LAYOUTS = ("plain", "google", "surveymonkey", "qualtrics")
IDS = {
    "plain": ["r01", "r02", "r03", "r04", "r05", "r06"],
    "google": [f"{n}@example.org" for n in ("ana", "ben", "cho", "dev", "eli", "fay")],
    "surveymonkey": [f"1141000000{i}" for i in range(6)],
    "qualtrics": [f"R_R0{i}x7Qa" for i in range(1, 7)],
}
OUTPUTS = ("plans.csv", "plan_items.csv", "errors.csv", "summary.json", "findings.csv",
           "datapackage.json")


# --- helpers -----------------------------------------------------------------------------------

def options_for(layout: str, **kw: Any) -> Options:
    mapping = None if layout == "plain" else SURVEYS / f"{layout}_mapping.yaml"
    return Options(mapping=mapping, **kw)


def assumptions(survey: Path) -> dict[str, Any]:
    """What a user must --assume to score a small plain survey of these tests, most of which lack
    columns for answers the triage rules read: the questionnaire's default for each (nobody
    ticked a red flag, nobody is in pain, nobody is under 16)."""
    first = survey.read_bytes().split(b"\n", 1)[0].decode("latin-1").strip()
    return {answer: value for answer, value in TRIAGE_DEFAULTS.items()
            if answer not in first.split(",")}


def run(planner: Planner, survey: Path, out: Path, options: Options | None = None,
        **kw: Any) -> dict[str, Any]:
    options = options or Options()
    if options.mapping is None and not options.assume:
        options = dataclasses.replace(options, assume=assumptions(survey))
    return score(survey, out, planner, options, **kw)


def table(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def records(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


def outputs(folder: Path, names: tuple[str, ...] = OUTPUTS) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in names}


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def plain_answers(kb) -> list[tuple[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """(respondent id, normalised answers) for each row of examples/surveys/plain.csv."""
    result = []
    for row in table(SURVEYS / "plain.csv"):
        ident = row.pop("respondent_id")
        raw = {key: value for key, value in row.items() if value != ""}
        result.append((ident, normalise(raw, kb)))
    return result


def expected_plan_row(plan: dict[str, Any]) -> dict[str, str]:
    """What plans.csv should say (after the id) for ``plan``, written from the issue's list."""
    return {
        "status": plan["status"],
        "referral_reasons": ";".join(r["id"] for r in plan["reasons"]),
        "symptoms": ";".join(s["id"] for s in plan["symptoms"]),
        "causes": ";".join(f"{c['id']}:{c['confidence']}" for c in plan["causes"]),
        "exercises": ";".join(i["exercise"] for i in plan["items"]),
        "total_minutes": str(plan["total_minutes"]),
        "balanced": str(plan["balanced"]).lower(),
    }


def without_id(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k != "respondent_id"} for row in rows]


def cells_of_every_csv(folder: Path) -> list[str]:
    return [cell for name in ("plans.csv", "plan_items.csv", "errors.csv")
            for record in records(folder / name) for cell in record]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def generated_survey(path: Path, extra_rows: list[str] = ()) -> Path:  # type: ignore[assignment]
    """~200 respondents with distinct answers, plus ``extra_rows``."""
    lines = ["respondent_id,age,knee_pain,hip_pain,low_back,minutes,squat_difficulty,equipment,"
             "sitting_hours,red_flags"]
    kit = ["", "foam_roller;mat", "ball", "resistance_band;table;doorway"]
    product = itertools.product(["none", "front", "outside", "other"],
                                ["none", "front", "outside", "back"], ["none", "tight", "pain"],
                                [10, 25, 40, 60])
    for i, (knee, hip, back, minutes) in enumerate(product):
        flags = "swelling" if i % 17 == 0 else ""
        lines.append(f"g{i:03d},{20 + i % 50},{knee},{hip},{back},{minutes},"
                     f"{'yes' if i % 3 == 0 else 'no'},{kit[i % 4]},{i % 13},{flags}")
    lines.extend(extra_rows)
    return write(path, "\n".join(lines) + "\n")


# --- each export layout round-trips its example ------------------------------------------------

@pytest.fixture(scope="module")
def example_runs(tmp_path_factory, planner: Planner) -> dict[str, tuple[Path, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    runs = {}
    for layout in LAYOUTS:
        out = tmp_path_factory.mktemp(layout)
        summary = run(planner, SURVEYS / f"{layout}.csv", out, options_for(layout))
        runs[layout] = (out, summary)
    return runs


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layout_gives_the_plan_of_each_respondents_answers(
        example_runs, planner: Planner, layout: str) -> None:  # type: ignore[no-untyped-def]
    out, summary = example_runs[layout]
    plans = table(out / "plans.csv")
    assert [row["respondent_id"] for row in plans] == IDS[layout]  # input order
    expected = [expected_plan_row(planner.plan(answers)) for _, answers in plain_answers(planner.kb)]
    assert without_id(plans) == expected
    assert summary["format"] == layout
    assert (summary["rows_in"], summary["scored"], summary["rejected"]) == (6, 6, 0)
    assert summary["accounted"] is True
    assert records(out / "errors.csv") == [list(ERROR_COLUMNS)]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layout_writes_the_plan_items(example_runs, planner: Planner, layout: str) -> None:  # type: ignore[no-untyped-def]
    out, _ = example_runs[layout]
    items = table(out / "plan_items.csv")
    assert list(items[0]) == list(ITEM_COLUMNS)
    expected = []
    for ident, answers in zip(IDS[layout], (a for _, a in plain_answers(planner.kb))):
        plan = planner.plan(answers)
        causes = {c["id"]: c["name"] for c in plan["causes"]}
        for order, item in enumerate(plan["items"], start=1):
            expected.append({
                "respondent_id": ident, "order": str(order), "exercise": item["exercise"],
                "name": item["name"], "category": item["category"], "when": item["when"],
                "dose": item["dose"], "minutes": str(item["minutes"]), "sides": item["sides"],
                "why": ", ".join(causes[c] for c in item["serves"]) or "general hip maintenance"})
    assert items == expected


def test_the_four_layouts_give_identical_outputs_apart_from_the_id(example_runs) -> None:  # type: ignore[no-untyped-def]
    reference = example_runs["plain"][0]
    for layout in LAYOUTS[1:]:
        out = example_runs[layout][0]
        assert without_id(table(out / "plans.csv")) == without_id(table(reference / "plans.csv"))
        assert without_id(table(out / "plan_items.csv")) == \
            without_id(table(reference / "plan_items.csv"))
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        ref_summary = json.loads((reference / "summary.json").read_text(encoding="utf-8"))
        for key in ("rows_in", "scored", "rejected", "status", "symptoms", "causes", "exercises",
                    "categories", "distinct_profiles"):
            assert summary[key] == ref_summary[key], (layout, key)


def test_the_examples_cover_a_referral_and_a_shared_profile(example_runs) -> None:  # type: ignore[no-untyped-def]
    """So the round trips above test something: r03 is referred, r01 and r06 get one plan."""
    plans = table(example_runs["plain"][0] / "plans.csv")
    assert plans[2]["status"] == "refer" and plans[2]["referral_reasons"] == "swelling"
    assert without_id([plans[0]]) == without_id([plans[5]])
    assert len({tuple(row.values()) for row in without_id(plans)}) == 5


@pytest.mark.parametrize("layout", LAYOUTS)
def test_summary_counts_equal_the_counts_in_plans_csv(example_runs, layout: str) -> None:  # type: ignore[no-untyped-def]
    out, summary = example_runs[layout]
    plans = table(out / "plans.csv")
    expect: dict[str, Counter[str]] = {k: Counter() for k in ("status", "symptoms", "causes",
                                                              "exercises")}
    for row in plans:
        expect["status"][row["status"]] += 1
        for name in ("symptoms", "causes", "exercises"):
            ids = {part.split(":")[0] for part in row[name].split(";") if part}
            expect[name].update(ids)
    for name, counter in expect.items():
        assert summary[name] == dict(counter), name
    on_disk = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert on_disk == summary


def test_plan_columns_are_the_issues() -> None:
    assert PLAN_COLUMNS[:6] == ("respondent_id", "status", "referral_reasons", "symptoms",
                                "causes", "exercises")
    assert "total_minutes" in PLAN_COLUMNS
    assert {"category", "dose", "minutes", "why"} <= set(ITEM_COLUMNS)
    assert ERROR_COLUMNS == ("row", "respondent_id", "column", "value", "problem")


# --- layout detection and the mapping's format key ---------------------------------------------

@pytest.mark.parametrize("layout", ["google", "surveymonkey", "qualtrics"])
def test_layout_is_detected_when_the_mapping_has_no_format_key(tmp_path: Path, planner: Planner,
                                                               layout: str) -> None:
    text = (SURVEYS / f"{layout}_mapping.yaml").read_text(encoding="utf-8")
    assert f"format: {layout}\n" in text
    mapping = write(tmp_path / "m.yaml", text.replace(f"format: {layout}\n", ""))
    summary = run(planner, SURVEYS / f"{layout}.csv", tmp_path / "out", Options(mapping=mapping))
    assert summary["format"] == layout and summary["scored"] == 6


def undetectable_google(tmp_path: Path) -> Path:
    """google.csv with its Timestamp column renamed: nothing in the header says Google."""
    text = (SURVEYS / "google.csv").read_text(encoding="utf-8")
    assert text.startswith("Timestamp,")
    return write(tmp_path / "export.csv", "Submitted," + text[len("Timestamp,"):])


def test_the_mapping_format_key_settles_an_undetectable_layout(tmp_path: Path,
                                                               planner: Planner) -> None:
    survey = undetectable_google(tmp_path)
    text = (SURVEYS / "google_mapping.yaml").read_text(encoding="utf-8")
    with_format = write(tmp_path / "with.yaml", text.replace('"Timestamp"', '"Submitted"'))
    summary = run(planner, survey, tmp_path / "a", Options(mapping=with_format))
    assert summary["format"] == "google" and summary["scored"] == 6

    without = write(tmp_path / "without.yaml",
                    text.replace('"Timestamp"', '"Submitted"').replace("format: google\n", ""))
    with pytest.raises(SurveyError, match="pass --format"):
        run(planner, survey, tmp_path / "b", Options(mapping=without))
    summary = run(planner, survey, tmp_path / "c", Options(mapping=without, layout="google"))
    assert summary["format"] == "google" and summary["scored"] == 6
    assert (tmp_path / "a" / "plans.csv").read_bytes() == (tmp_path / "c" / "plans.csv").read_bytes()


def test_an_example_export_without_a_mapping_is_read_by_the_questionnaires_wording(
        tmp_path: Path, planner: Planner) -> None:
    """The example forms use the questionnaire's prompts, but ask for sitting hours in bands the
    questionnaire does not have: with no mapping every row is rejected, naming that column,
    never scored from a default."""
    for layout in ("google", "surveymonkey", "qualtrics"):
        summary = score(SURVEYS / f"{layout}.csv", tmp_path / layout, planner, Options())
        assert (summary["rows_in"], summary["scored"], summary["rejected"]) == (6, 0, 6)
        errors = table(tmp_path / layout / "errors.csv")
        assert {e["problem"] for e in errors} == {
            f"sitting_hours: {e['value']!r} is not an answer: must be a number between 0 and 24"
            for e in errors}
        assert {e["value"] for e in errors} >= {"6 to 8 hours", "Less than 4 hours"}


def test_a_mapping_whose_id_column_is_missing_is_an_error(tmp_path: Path, planner: Planner) -> None:
    text = (SURVEYS / "google_mapping.yaml").read_text(encoding="utf-8")
    mapping = write(tmp_path / "m.yaml", text.replace('"Email address"', '"E-mail"'))
    with pytest.raises(SurveyError, match="no respondent id column 'E-mail'"):
        run(planner, SURVEYS / "google.csv", tmp_path / "out", Options(mapping=mapping))
    assert not (tmp_path / "out").exists()


def test_a_mapping_naming_a_column_the_export_lacks_is_an_error(tmp_path: Path,
                                                                planner: Planner) -> None:
    text = (SURVEYS / "google_mapping.yaml").read_text(encoding="utf-8")
    mapping = write(tmp_path / "m.yaml", text.replace('"How old are you?"', '"Your age?"'))
    with pytest.raises(SurveyError, match="does not have: 'Your age\\?'"):
        run(planner, SURVEYS / "google.csv", tmp_path / "out", Options(mapping=mapping))


# --- bad input: one bad row never stops the batch ----------------------------------------------

MIXED = ("respondent_id,knee_pain,pain_level,minutes,squat_difficulty\n"
         "g1,front,3,20,yes\n"                 # 2: good
         "\n"                                  # 3: blank
         "b1,front,3,200,no\n"                 # 4: minutes out of range
         "b2,sideways,3,20,maybe\n"            # 5: two bad cells: one respondent, two errors
         ",front,3,20,no\n"                    # 6: empty id
         "g2,outside,2,15,0\n"                 # 7: good
         "   \n"                               # 8: blank
         "g3,front,3,20,yes\n"                 # 9: good, same answers as g1
         "b3,none,0,20,no,surprise\n")         # 10: malformed: too many fields


def test_mixed_good_and_bad_rows_are_all_accounted_for(tmp_path: Path, planner: Planner) -> None:
    summary = run(planner, write(tmp_path / "mixed.csv", MIXED), tmp_path / "out")
    assert summary["rows_in"] == 7  # blank lines are not rows
    assert (summary["scored"], summary["rejected"]) == (3, 4)
    assert summary["rows_in"] == summary["scored"] + summary["rejected"]
    assert summary["accounted"] is True
    assert [row["respondent_id"] for row in table(tmp_path / "out" / "plans.csv")] == \
        ["g1", "g2", "g3"]
    errors = table(tmp_path / "out" / "errors.csv")
    by_row = {(e["row"], e["respondent_id"], e["column"], e["value"]): e["problem"]
              for e in errors}
    assert by_row.pop(("4", "b1", "minutes", "200")) == \
        "minutes: '200' is not an answer: must be between 5 and 90"
    assert by_row.pop(("5", "b2", "knee_pain", "sideways")).startswith(
        "knee_pain: 'sideways' is not an answer: must be one of: none, front, outside, other")
    assert by_row.pop(("5", "b2", "squat_difficulty", "maybe")).startswith(
        "squat_difficulty: 'maybe' is not an answer: must be true or false")
    assert by_row.pop(("6", "", "respondent_id", "")) == "empty respondent id"
    ((where, ident, _column, _value), problem), = by_row.items()
    assert where == "10" and problem == "malformed record: record has 6 fields, the header has 5"
    assert ident == "b3"  # read back from the record's own line
    # one rejected respondent per bad record, however many errors it has
    assert len({e["row"] for e in errors}) == summary["rejected"]


CELLS = {"respondent_id": ["r1", "r2", "r3", "", " ", "=x"],
         "knee_pain": ["front", "none", "sideways", ""],
         "minutes": ["20", "5", "91", "ten", ""],
         "equipment": ["mat", "mat;ball", "skis", ""]}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(
    st.just(None),  # a blank line
    st.tuples(*(st.sampled_from(v) for v in CELLS.values()),
              st.lists(st.sampled_from(["x", "y"]), max_size=2))), max_size=25))
def test_rows_in_is_always_scored_plus_rejected(planner: Planner, lines: list[Any]) -> None:
    text = ",".join(CELLS) + "\n"
    for line in lines:
        text += "\n" if line is None else ",".join([*line[:4], *line[4]]) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        survey = write(Path(folder) / "s.csv", text)
        summary = run(planner, survey, Path(folder) / "out")
        plans = table(Path(folder) / "out" / "plans.csv")
        errors = table(Path(folder) / "out" / "errors.csv")
    records_in = sum(1 for line in lines if line is not None and any(
        cell.strip() for cell in [*line[:4], *line[4]]))
    assert summary["rows_in"] == records_in
    assert summary["rows_in"] == summary["scored"] + summary["rejected"]
    assert summary["accounted"] is True
    assert len(plans) == summary["scored"]
    assert len({e["row"] for e in errors}) == summary["rejected"]
    assert sum(summary["status"].values()) == summary["scored"]


def test_a_blank_record_wider_than_the_header_is_a_blank_line(tmp_path: Path,
                                                              planner: Planner) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,knee_pain\nr1,front\n,,,,\nr2,none\n")
    summary = run(planner, survey, tmp_path / "out")
    assert (summary["rows_in"], summary["scored"], summary["rejected"]) == (2, 2, 0)


def test_the_summary_file_says_the_same(tmp_path: Path, planner: Planner) -> None:
    summary = run(planner, write(tmp_path / "mixed.csv", MIXED), tmp_path / "out")
    on_disk = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert on_disk == summary
    assert on_disk["survey"] == "mixed.csv" and on_disk["format"] == "plain"


def test_errors_are_listed_in_input_order(tmp_path: Path, planner: Planner) -> None:
    run(planner, write(tmp_path / "mixed.csv", MIXED), tmp_path / "out")
    numbers = [int("".join(ch for ch in e["row"] if ch.isdigit()))
               for e in table(tmp_path / "out" / "errors.csv")]
    assert numbers == sorted(numbers)


def test_row_numbers_after_a_malformed_record(tmp_path: Path, planner: Planner) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,knee_pain\n"
                                       "r1,front\n"
                                       "r2,none,extra,more\n"
                                       "r3,sideways\n")
    run(planner, survey, tmp_path / "out")
    errors = table(tmp_path / "out" / "errors.csv")
    assert [(e["respondent_id"], e["row"]) for e in errors] == [("r2", "3"), ("r3", "4")]


def test_bom_crlf_and_a_quoted_newline(tmp_path: Path, planner: Planner) -> None:
    survey = write(tmp_path / "s.csv",
                   b"\xef\xbb\xbfrespondent_id,knee_pain,equipment\r\n"
                   b'r1,front,"foam_roller;\r\nmat"\r\n'
                   b'"r\r\n2",none,\r\n'
                   b"\r\n"
                   b"r3,outside,ball\r\n")
    summary = run(planner, survey, tmp_path / "out")
    assert (summary["rows_in"], summary["scored"]) == (3, 3)
    plans = table(tmp_path / "out" / "plans.csv")
    assert [row["respondent_id"] for row in plans] == ["r1", "r\r\n2", "r3"]
    expected = [planner.plan({"knee_pain": "front", "equipment": ["foam_roller", "mat"]}),
                planner.plan({"knee_pain": "none"}), planner.plan({"knee_pain": "outside",
                                                                   "equipment": ["ball"]})]
    assert without_id(plans) == [expected_plan_row(p) for p in expected]
    assert summary["extra_columns"] == []


def test_a_row_with_no_answers_is_rejected_not_given_a_default_plan(tmp_path: Path,
                                                                     planner: Planner) -> None:
    """A submission with every question blank used to get a full plan made of defaults. The row
    beside it answers only what triage reads (a blank triage answer rejects a row of its own)."""
    names = [q for q in planner.kb.questions]
    triage = {"age": "34", "knee_pain": "none", "hip_pain": "none", "low_back": "none",
              "pain_level": "0", "red_flags": ""}
    assert set(triage) == set(TRIAGE_DEFAULTS)
    survey = write(tmp_path / "s.csv", "respondent_id," + ",".join(names) + "\n"
                   "r1" + "," * len(names) + "\n"
                   "r2," + ",".join(triage.get(name, "") for name in names) + "\n")
    summary = run(planner, survey, tmp_path / "out")
    assert [row["respondent_id"] for row in table(tmp_path / "out" / "plans.csv")] == ["r2"]
    (error,) = table(tmp_path / "out" / "errors.csv")
    assert (error["row"], error["respondent_id"]) == ("2", "r1")
    assert error["problem"].startswith("no answers at all")
    assert summary["rejected_by_reason"] == {"no answers at all": 1}


def test_plain_spellings_give_the_same_plan(tmp_path: Path, planner: Planner) -> None:
    header = "respondent_id,squat_difficulty,recent_load_increase,equipment,red_flags\n"
    rows = ["a,true,false,foam_roller;mat,",
            "b,yes,no,\"foam_roller,mat\",",
            "c,1,0,\"mat, foam_roller\",",
            "d,Yes,NO,mat;foam_roller;mat,"]
    summary = run(planner, write(tmp_path / "s.csv", header + "\n".join(rows) + "\n"),
                  tmp_path / "out")
    assert summary["scored"] == 4 and summary["distinct_profiles"] == 1
    plans = without_id(table(tmp_path / "out" / "plans.csv"))
    expected = expected_plan_row(planner.plan({"squat_difficulty": True,
                                               "recent_load_increase": False,
                                               "equipment": ["foam_roller", "mat"]}))
    assert plans == [expected] * 4


def test_duplicate_ids_are_both_kept_and_reported(tmp_path: Path, planner: Planner) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,knee_pain\n"
                                       "r1,front\nr2,none\nr1,outside\n\nr3,none\nr1,front\nr2,x\n")
    summary = run(planner, survey, tmp_path / "out")
    plans = table(tmp_path / "out" / "plans.csv")
    assert [(p["respondent_id"], p["symptoms"]) for p in plans][:3] == [
        ("r1", "runners_knee"), ("r2", ""), ("r1", "itbs")]
    assert [p["respondent_id"] for p in plans] == ["r1", "r2", "r1", "r3", "r1"]
    # rows as numbered in the file (the header is row 1); a rejected row is not a duplicate
    assert summary["duplicate_ids"] == {"r1": [2, 4, 7]}
    assert summary["scored"] == 5 and summary["rejected"] == 1


def test_extra_columns_are_ignored_and_listed_once(tmp_path: Path, planner: Planner) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,knee_pain,notes,shoe size\n"
                                       "r1,front,=oops,44\nr2,none,hello,\n")
    summary = run(planner, survey, tmp_path / "out", Options(layout="plain"))
    assert summary["extra_columns"] == ["notes", "shoe size"]
    assert summary["scored"] == 2
    expected = [expected_plan_row(planner.plan({"knee_pain": "front"})),
                expected_plan_row(planner.plan({"knee_pain": "none"}))]
    assert without_id(table(tmp_path / "out" / "plans.csv")) == expected


def test_a_file_with_only_a_header_scores_nobody(tmp_path: Path, planner: Planner) -> None:
    summary = run(planner, write(tmp_path / "s.csv", "respondent_id,knee_pain\r\n"),
                  tmp_path / "out")
    assert (summary["rows_in"], summary["scored"], summary["rejected"]) == (0, 0, 0)
    assert summary["accounted"] is True
    assert records(tmp_path / "out" / "plans.csv") == [list(PLAN_COLUMNS)]
    assert records(tmp_path / "out" / "plan_items.csv") == [list(ITEM_COLUMNS)]


@pytest.mark.parametrize("data,problem", [
    (b"", "is empty"),
    (b"\r\n\r\n", "is empty"),
    (b"\x00\x01\x02respondent_id\x00\n", "not a CSV file"),
    (bytes(range(256)) * 4, r"not a CSV file \(it holds binary data\)"),
    ("respondent_id,knee_pain\nZoé,front\n".encode("latin-1"), "--encoding"),
    (b"knee_pain,minutes\nfront,20\n", "pass --format"),
])
def test_an_unreadable_file_is_one_clear_error(tmp_path: Path, planner: Planner, data: bytes,
                                               problem: str) -> None:
    with pytest.raises(SurveyError, match=problem) as caught:
        run(planner, write(tmp_path / "s.csv", data), tmp_path / "out")
    assert "s.csv" in str(caught.value) or "--format" in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_latin1_reads_with_the_encoding_option(tmp_path: Path, planner: Planner) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,knee_pain\nZoé,front\n".encode("latin-1"))
    run(planner, survey, tmp_path / "out", Options(encoding="latin-1"))
    assert [r["respondent_id"] for r in table(tmp_path / "out" / "plans.csv")] == ["Zoé"]


def test_no_id_column_in_a_plain_export(tmp_path: Path, planner: Planner) -> None:
    survey = write(tmp_path / "s.csv", "knee_pain,minutes\nfront,20\n")
    with pytest.raises(SurveyError, match="no respondent id column 'respondent_id'"):
        run(planner, survey, tmp_path / "out", Options(layout="plain"))


# --- safe for spreadsheets ---------------------------------------------------------------------

NASTY = ["=cmd|' /C calc'!A0", "+1", "-2", "@x", "=HYPERLINK(\"http://x\")"]


def test_formula_ids_are_neutralised_in_every_csv(tmp_path: Path, planner: Planner) -> None:
    lines = ["respondent_id,knee_pain,minutes"]
    for ident in NASTY:
        quoted = '"' + ident.replace('"', '""') + '"'
        lines.append(f"{quoted},front,20")  # scored: plans.csv and plan_items.csv
        lines.append(f"{quoted},front,=1+1")  # rejected: errors.csv, value neutralised too
    summary = run(planner, write(tmp_path / "s.csv", "\n".join(lines) + "\n"), tmp_path / "out")
    assert (summary["scored"], summary["rejected"]) == (5, 5)
    out = tmp_path / "out"
    assert [r["respondent_id"] for r in table(out / "plans.csv")] == ["'" + i for i in NASTY]
    assert {r["respondent_id"] for r in table(out / "plan_items.csv")} == {"'" + i for i in NASTY}
    errors = table(out / "errors.csv")
    assert [r["respondent_id"] for r in errors] == ["'" + i for i in NASTY]
    assert {r["value"] for r in errors} == {"'=1+1"}
    assert not any(cell.startswith(TRIGGERS) for cell in cells_of_every_csv(out))
    # the summary is JSON, not a spreadsheet: ids stay as they are there
    assert summary["duplicate_ids"] == {}


def test_tab_and_carriage_return_ids_are_not_left_starting_a_cell(tmp_path: Path,
                                                                  planner: Planner) -> None:
    survey = write(tmp_path / "s.csv", 'respondent_id,knee_pain\n"\tx",front\n"\r=y",none\n'
                                       '"\t=z",ankle\n')
    summary = run(planner, survey, tmp_path / "out")
    assert summary["rows_in"] == 3
    assert not any(cell.startswith(TRIGGERS) for cell in cells_of_every_csv(tmp_path / "out"))


def test_a_carriage_return_inside_an_id_cannot_smuggle_a_formula(tmp_path: Path,
                                                                 planner: Planner) -> None:
    survey = write(tmp_path / "s.csv", 'respondent_id,knee_pain\n"x\r=1+2",front\n'
                                       '"y\r@SUM(1)",ankle\n')
    run(planner, survey, tmp_path / "out")
    out = tmp_path / "out"
    assert len(records(out / "plans.csv")) == 2
    assert len(records(out / "errors.csv")) == 2
    assert not any(cell.startswith(TRIGGERS) for cell in cells_of_every_csv(out))


def test_stdout_table_is_neutralised_too(tmp_path: Path, planner: Planner) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,knee_pain\n\"=1+1\",front\n")
    stream = io.StringIO()
    score(survey, None, planner, Options(assume=assumptions(survey)), stdout=stream)
    assert list(csv.reader(io.StringIO(stream.getvalue())))[1][0] == "'=1+1"


# --- every file whole or not at all ------------------------------------------------------------

def fail_on_third(monkeypatch: pytest.MonkeyPatch, target: str) -> list[int]:
    calls: list[int] = []
    real = getattr(score_module, target)

    def flaky(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("engine fell over")
        return real(*args, **kw)

    monkeypatch.setattr(score_module, target, flaky)
    return calls


def test_a_failure_half_way_leaves_the_old_outputs_untouched(
        tmp_path: Path, planner: Planner, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    run(planner, SURVEYS / "plain.csv", out, Options(traces=True))
    before = outputs(out, OUTPUTS + ("traces.jsonl",))
    calls = fail_on_third(monkeypatch, "render")
    with pytest.raises(RuntimeError, match="engine fell over"):
        run(planner, generated_survey(tmp_path / "g.csv"), out, Options(traces=True))
    assert len(calls) == 3
    assert outputs(out, OUTPUTS + ("traces.jsonl",)) == before
    assert leftovers(out) == []
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS + ("traces.jsonl",))


def test_a_failure_half_way_into_a_new_folder_writes_no_output(
        tmp_path: Path, planner: Planner, monkeypatch: pytest.MonkeyPatch) -> None:
    fail_on_third(monkeypatch, "render")
    out = tmp_path / "new"
    with pytest.raises(RuntimeError):
        run(planner, SURVEYS / "plain.csv", out)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no hidden folder either


def test_an_unreadable_row_late_in_the_file_leaves_old_outputs(tmp_path: Path,
                                                               planner: Planner) -> None:
    out = tmp_path / "out"
    run(planner, SURVEYS / "plain.csv", out)
    before = outputs(out)
    lines = ["respondent_id,knee_pain,minutes"] + \
        [f"r{i},front,{5 + i % 80}" for i in range(30_000)] + ["Zoé,front,20"]
    survey = write(tmp_path / "late.csv", ("\n".join(lines) + "\n").encode("latin-1"))
    with pytest.raises(SurveyError, match="--encoding"):
        run(planner, survey, out)
    assert outputs(out) == before
    assert leftovers(out) == []


# --- de-duplication and worker processes change nothing ----------------------------------------

BAD_AND_DUPLICATE_ROWS = ["g000,20,none,none,none,10,yes,,0,",  # duplicate of the first
                          "dup1,99,front,front,tight,25,no,ball,4,",  # differs in age only ...
                          "dup2,98,front,front,tight,25,no,ball,4,",  # ... from this one
                          "bad1,30,front,none,none,500,no,,3,",
                          "bad2,30,knee,none,none,25,no,skis,3,",
                          ",30,front,none,none,25,no,,3,",
                          "bad3,30,front,none,none,25,no,,3,,,"]


@pytest.mark.slow
def test_no_dedupe_gives_the_same_outputs(tmp_path: Path, planner: Planner) -> None:
    survey = generated_survey(tmp_path / "g.csv", BAD_AND_DUPLICATE_ROWS)
    a = run(planner, survey, tmp_path / "a")
    b = run(planner, survey, tmp_path / "b", Options(dedupe=False))
    for name in ("plans.csv", "plan_items.csv", "errors.csv", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert a == b
    assert a["rejected"] == 4 and a["accounted"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_no_dedupe_on_the_examples(tmp_path: Path, planner: Planner, layout: str) -> None:
    survey = SURVEYS / f"{layout}.csv"
    run(planner, survey, tmp_path / "a", options_for(layout))
    run(planner, survey, tmp_path / "b", options_for(layout, dedupe=False))
    assert outputs(tmp_path / "a") == outputs(tmp_path / "b")


def test_dedupe_evaluates_each_distinct_profile_once(
        tmp_path: Path, planner: Planner, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    real = score_module.render
    monkeypatch.setattr(score_module, "render",
                        lambda p, answers, traces: calls.append(answers) or real(p, answers, traces))
    rows = "\n".join(f"r{i},front,{'yes' if i % 2 else 'no'},{30 + i % 2}" for i in range(40))
    survey = write(tmp_path / "s.csv", "respondent_id,knee_pain,squat_difficulty,age\n" + rows)
    summary = run(planner, survey, tmp_path / "out")
    assert summary["scored"] == 40
    assert len(calls) == 2  # 40 rows, two distinct answer profiles
    assert summary["distinct_profiles"] == 2


def test_no_dedupe_evaluates_every_row(tmp_path: Path, planner: Planner,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = score_module.render
    monkeypatch.setattr(score_module, "render",
                        lambda *args: calls.append(1) or real(*args))
    survey = write(tmp_path / "s.csv", "respondent_id,knee_pain,age\n"
                                       "r1,front,30\nr2,front,30\nr3,front,30\n")
    run(planner, survey, tmp_path / "out", Options(dedupe=False))
    assert len(calls) == 3


def test_dedupe_keeps_answers_the_plan_step_reads(tmp_path: Path, data_copy) -> None:  # type: ignore[no-untyped-def]
    knowledge, rules = data_copy
    for path in rules.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"answer: \{minutes: \{gte: \d+\}\}", "answer: {age: {gte: 12}}", text),
                        encoding="utf-8")
    custom = Planner(knowledge, rules)
    assert "minutes" not in {f for rule in custom.rulebase.rules for f in rule.answers_used}
    survey = write(tmp_path / "s.csv", "respondent_id,knee_pain,minutes\na,front,10\nb,front,40\n")
    score(survey, tmp_path / "a", custom, Options(assume=assumptions(survey)), knowledge, rules)
    score(survey, tmp_path / "b", custom, Options(dedupe=False, assume=assumptions(survey)),
          knowledge, rules)
    short = table(tmp_path / "b" / "plans.csv")[0]
    assert float(short["total_minutes"]) <= 10  # without de-duplication the plan fits
    assert (tmp_path / "a" / "plans.csv").read_bytes() == (tmp_path / "b" / "plans.csv").read_bytes()


class SpyPool(score_module.ProcessPoolExecutor):  # type: ignore[misc, name-defined]
    maps = 0  # batches of profiles sent to the workers

    def submit(self, *args: Any, **kw: Any) -> Any:  # type: ignore[override]
        SpyPool.maps += 1
        return super().submit(*args, **kw)


@pytest.mark.slow
def test_jobs_2_gives_byte_identical_outputs(tmp_path: Path, planner: Planner,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    survey = generated_survey(tmp_path / "g.csv", BAD_AND_DUPLICATE_ROWS)
    one = run(planner, survey, tmp_path / "one", Options(jobs=1))
    assert one["distinct_profiles"] >= PARALLEL_MIN  # enough new profiles for the pool
    SpyPool.maps = 0
    monkeypatch.setattr(score_module, "ProcessPoolExecutor", SpyPool)
    two = run(planner, survey, tmp_path / "two", Options(jobs=2))
    assert SpyPool.maps >= 1  # the worker processes really did the evaluating
    assert outputs(tmp_path / "one") == outputs(tmp_path / "two")
    assert one == two


@pytest.mark.slow
def test_jobs_2_with_traces_gives_byte_identical_traces(tmp_path: Path, planner: Planner) -> None:
    survey = generated_survey(tmp_path / "g.csv")
    run(planner, survey, tmp_path / "one", Options(jobs=1, traces=True))
    run(planner, survey, tmp_path / "two", Options(jobs=2, traces=True))
    names = OUTPUTS + ("traces.jsonl",)
    assert outputs(tmp_path / "one", names) == outputs(tmp_path / "two", names)


def test_jobs_2_below_the_pool_threshold_still_works(tmp_path: Path, planner: Planner) -> None:
    run(planner, SURVEYS / "plain.csv", tmp_path / "one")
    run(planner, SURVEYS / "plain.csv", tmp_path / "two", Options(jobs=2))
    assert outputs(tmp_path / "one") == outputs(tmp_path / "two")


@pytest.mark.parametrize("chunk_rows,cache_size", [(5, None), (1, None), (7, 3), (1000, 2)])
@pytest.mark.slow
def test_small_chunks_and_a_small_cache_change_nothing(
        tmp_path: Path, planner: Planner, monkeypatch: pytest.MonkeyPatch, chunk_rows: int,
        cache_size: int | None) -> None:
    """Streaming: rows read in chunks, and only so many profiles remembered, give the same files
    (duplicates across chunks, malformed records and blank lines included)."""
    survey = generated_survey(tmp_path / "g.csv", BAD_AND_DUPLICATE_ROWS + ["", "g001,1,2"])
    run(planner, survey, tmp_path / "a", Options(traces=True))
    monkeypatch.setattr(score_module, "rows", functools.partial(survey_rows, chunk_rows=chunk_rows))
    if cache_size is not None:
        if not hasattr(score_module, "CACHE_SIZE"):
            pytest.skip("this version of hipcoach.batch.score has no bounded cache")
        monkeypatch.setattr(score_module, "CACHE_SIZE", cache_size)
    run(planner, survey, tmp_path / "b", Options(traces=True))
    names = ("plans.csv", "plan_items.csv", "summary.json", "traces.jsonl")
    assert outputs(tmp_path / "a", names) == outputs(tmp_path / "b", names)
    # where a malformed record's error lands depends on the chunks (see the xfail below)
    a, b = (sorted(records(tmp_path / x / "errors.csv")) for x in "ab")
    assert a == b


# --- traces and the stdout table ---------------------------------------------------------------

def test_traces_one_line_per_scored_respondent(tmp_path: Path, planner: Planner) -> None:
    survey = write(tmp_path / "s.csv", (SURVEYS / "plain.csv").read_text(encoding="utf-8")
                   + "r07,30,20,,ankle,none,none,0,no,no,5,0,0,no,,20\nr01,34,35,,front,none,"
                   "tight,4,yes,no,7,0,0,yes,foam_roller;mat,25\n")
    summary = run(planner, survey, tmp_path / "out", Options(traces=True))
    assert (summary["scored"], summary["rejected"]) == (7, 1)
    traces = list(read_traces(tmp_path / "out" / "traces.jsonl"))
    assert [t["respondent"] for t in traces] == ["r01", "r02", "r03", "r04", "r05", "r06", "r01"]
    answers = [a for _, a in plain_answers(planner.kb)]
    for trace, expected in zip(traces, answers + [answers[0]]):
        assert trace["answers"] == expected  # every answer, age included
        assert trace["plan"] == json.loads(json.dumps(planner.plan(expected)))
        assert trace["status"] == trace["plan"]["status"]
    lines = (tmp_path / "out" / "traces.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 7


@pytest.mark.slow
def test_traces_do_not_change_the_other_outputs(tmp_path: Path, planner: Planner) -> None:
    survey = generated_survey(tmp_path / "g.csv", BAD_AND_DUPLICATE_ROWS)
    a = run(planner, survey, tmp_path / "a")
    b = run(planner, survey, tmp_path / "b", Options(traces=True))
    for name in ("plans.csv", "plan_items.csv", "errors.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    a.pop("distinct_profiles"), b.pop("distinct_profiles")
    assert a == b
    assert not (tmp_path / "a" / "traces.jsonl").exists()


def test_stdout_gets_the_plans_table_and_no_files(tmp_path: Path, planner: Planner,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run(planner, SURVEYS / "plain.csv", tmp_path / "out")
    stream = io.StringIO()
    summary = score(SURVEYS / "plain.csv", None, planner, Options(), stdout=stream)
    assert stream.getvalue() == (tmp_path / "out" / "plans.csv").read_text(encoding="utf-8")
    assert summary["scored"] == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_progress_counts_rows_as_they_are_scored_not_as_they_are_read(
        tmp_path: Path, planner: Planner, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real = score_module.render
    monkeypatch.setattr(score_module, "render",
                        lambda *args: events.append("evaluate") or real(*args))
    monkeypatch.setattr(score_module, "rows", functools.partial(survey_rows, chunk_rows=50))
    survey = generated_survey(tmp_path / "g.csv", BAD_AND_DUPLICATE_ROWS)
    counts: list[int] = []
    summary = run(planner, survey, tmp_path / "out",
                  progress=lambda n: counts.append(n) or events.append("progress"))
    assert sum(counts) == summary["rows_in"] and len(counts) == -(-summary["rows_in"] // 50)
    # each chunk is counted once its rows are evaluated and written, not when it is read
    first = events.index("progress")
    assert 0 < first < len(events) - 1 and events[:first] == ["evaluate"] * first
    assert events[-1] == "progress"


# --- the output set, swapped in whole --------------------------------------------------------

def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_run_dying_at_the_swap_leaves_the_old_set_whole(tmp_path: Path, planner: Planner,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, a kill between two renames left a new plans.csv beside an old summary.json. Now
    the set is one folder swapped in by one exchange: killed just before it, the old set is
    whole; the hidden new one is removed by the next run."""
    import hipcoach.atomic as atomic

    out = tmp_path / "out"
    run(planner, SURVEYS / "plain.csv", out)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    before = outputs(out)
    def killed(a: Path, b: Path) -> bool:
        raise KeyboardInterrupt  # the process dies just before the swap

    monkeypatch.setattr(atomic, "_exchange", killed)
    with pytest.raises(KeyboardInterrupt):
        run(planner, SURVEYS / "google.csv", out, Options(mapping=SURVEYS / "google_mapping.yaml"))
    assert outputs(out) == before and hidden(tmp_path) == []
    monkeypatch.undo()
    run(planner, SURVEYS / "google.csv", out, Options(mapping=SURVEYS / "google_mapping.yaml"))
    assert outputs(out) != before
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"  # carried over
    assert hidden(tmp_path) == [] and hidden(out) == []


def test_without_an_atomic_exchange_a_death_between_renames_is_never_a_mixed_set(
        tmp_path: Path, planner: Planner, monkeypatch: pytest.MonkeyPatch) -> None:
    import hipcoach.atomic as atomic

    out = tmp_path / "out"
    run(planner, SURVEYS / "plain.csv", out)
    before = outputs(out)
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    real = os.rename
    calls: list[int] = []

    def dies_second(a: Any, b: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed between the two renames
        real(a, b)

    monkeypatch.setattr(atomic.os, "rename", dies_second)
    with pytest.raises(KeyboardInterrupt):
        run(planner, SURVEYS / "google.csv", out, Options(mapping=SURVEYS / "google_mapping.yaml"))
    assert not out.exists()  # no folder for a moment: never a mix of two runs
    monkeypatch.setattr(atomic.os, "rename", real)
    with pytest.raises(RuntimeError):  # the next run puts the old set back before it fails
        fail_on_third(monkeypatch, "render")
        run(planner, SURVEYS / "google.csv", out, Options(mapping=SURVEYS / "google_mapping.yaml"))
    assert outputs(out) == before and hidden(tmp_path) == []


def test_a_full_disk_leaves_no_hidden_files_and_the_old_set(tmp_path: Path, planner: Planner,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    out = tmp_path / "out"
    run(planner, SURVEYS / "plain.csv", out)
    before = outputs(out)

    def full(*args: Any, **kw: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(score_module, "_summary", full)
    with pytest.raises(OSError, match="No space left"):
        run(planner, SURVEYS / "plain.csv", out)
    assert outputs(out) == before and hidden(tmp_path) == [] and hidden(out) == []


@pytest.mark.parametrize("inside", ["a folder", "the current folder"])
def test_an_output_folder_holding_folders_is_refused_before_any_writing(
        tmp_path: Path, planner: Planner, monkeypatch: pytest.MonkeyPatch, inside: str) -> None:
    from hipcoach.errors import OutputError

    out = tmp_path / "out"
    (out / "keep").mkdir(parents=True)
    if inside == "the current folder":
        (out / "keep").rmdir()
        monkeypatch.chdir(out)
    with pytest.raises(OutputError, match="replace their folder as a whole"):
        run(planner, SURVEYS / "plain.csv", out)
    assert sorted(p.name for p in out.iterdir()) == ([] if inside != "a folder" else ["keep"])
    assert hidden(tmp_path) == []
