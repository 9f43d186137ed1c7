"""The mistakes real exports and real users make: each is refused with a message that names it,
or its row rejected with the reason, never scored into a silently wrong plan."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forms
from clirunner import failed as failed_with
from clirunner import invoke, ok
from conftest import EXAMPLES, assume_args
from hipcoach.atomic import AtomicFiles

SURVEYS = EXAMPLES / "surveys"
TRIAGED = "respondent_id,knee_pain,red_flags,pain_level\n"
#: what a TRIAGED survey must --assume: the other answers the triage rules read
ASSUME = assume_args(TRIAGED)
#: the pain sites the triage rules read, assumed where a test assumes only the rest
NO_PAIN = ["--assume", "knee_pain=none", "--assume", "hip_pain=none", "--assume", "low_back=none"]


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def failed(result, *needles: str) -> str:  # type: ignore[no-untyped-def]
    return failed_with(result, 1, *needles)


def table(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def summary_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


# --- a survey that cannot be triaged -----------------------------------------------------------

def test_a_survey_without_triage_columns_is_refused_naming_them(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,age\nr1,30\nr2,40\n")
    message = failed(invoke("score", survey, "-o", tmp_path / "out"),
                     "no column for answer(s) the triage rules read", "red_flags", "pain_level",
                     "--assume ANSWER=VALUE")
    assert "--format" not in message
    assert not (tmp_path / "out").exists()


def test_only_the_missing_triage_answer_is_named(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,red_flags\nr1,swelling\n")
    message = failed(invoke("score", survey, "-o", "-"), "pain_level")
    assert "red_flags (" not in message


def test_assume_opts_in_and_is_recorded(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,age\nr1,30\nr2,30\n")
    out = tmp_path / "out"
    result = ok(invoke("score", survey, "--assume", "red_flags=", "--assume", "pain_level=0",
                       *NO_PAIN, "-o", out))
    assert "scored 2 of 2 rows, assuming red_flags=[], pain_level=0, knee_pain=none, " \
           "hip_pain=none, low_back=none (1 distinct answer profiles)" in result.stderr
    summary = summary_of(out)
    assert summary["assumed"] == {"red_flags": [], "pain_level": 0, "knee_pain": "none",
                                  "hip_pain": "none", "low_back": "none"}
    assert summary["scored"] == 2


def test_an_assumed_red_flag_refers_everyone(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,age\nr1,30\n")
    result = ok(invoke("score", survey, "--assume", "red_flags=swelling", "--assume",
                       "pain_level=0", *NO_PAIN, "-o", "-", "-q"))
    assert table_text(result.stdout)[0]["status"] == "refer"


def table_text(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(text.splitlines()))


def test_assume_is_refused_for_an_answer_the_survey_has(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", TRIAGED + "r1,front,,3\n")
    failed(invoke("score", survey, *ASSUME, "--assume", "red_flags=", "-o", "-"),
           "--assume red_flags: the survey has a column for it")


@pytest.mark.parametrize("given,needle", [("red_flag=", "did you mean red_flags"),
                                          ("pain_level=11", "must be between 0 and 10"),
                                          ("red_flags", "is not ANSWER=VALUE")])
def test_a_bad_assumption_is_a_usage_error(given: str, needle: str) -> None:
    result = invoke("score", forms.PLAIN, "--assume", given, "-o", "-")
    assert result.exit_code == 2 and needle in result.stderr, result.stderr


def test_the_triage_answers_come_from_the_rules(tmp_path: Path, data_copy) -> None:  # type: ignore[no-untyped-def]
    """A new triage rule, on a new answer or a new red flag, is required at once."""
    knowledge, rules = data_copy
    questionnaire = knowledge / "questionnaire.yaml"
    text = questionnaire.read_text(encoding="utf-8")
    anchor = '      - {value: bladder_or_bowel_change,'
    questionnaire.write_text(text.replace(anchor, '      - {value: pain_on_hopping, label: '
                                                  '"Pain when you hop or land"}\n' + anchor),
                             encoding="utf-8")
    triage = rules / "triage.yaml"
    triage.write_text(triage.read_text(encoding="utf-8") + """
  - id: triage.pain_on_hopping
    when:
      - answer: {red_flags: pain_on_hopping}
    then: {refer: pain_on_hopping}
    urgency: same_day
    rationale: "Pain on hopping can mean a stress fracture."
    source: physio_practice

  - id: triage.sitting
    when:
      - answer: {sitting_hours: {gte: 23}}
    then: {refer: sitting}
    urgency: soon
    rationale: "Test rule."
    source: physio_practice
""", encoding="utf-8")
    engine = ["--kb", knowledge, "--rules", rules]
    plain = write(tmp_path / "s.csv", TRIAGED + "r1,front,,3\n")
    failed(invoke("score", plain, *engine, "-o", "-"), "sitting_hours")
    # SurveyMonkey's one column per option, made before the new red flag existed
    monkey, _ = forms.surveymonkey()
    survey = write(tmp_path / "monkey.csv", monkey)
    failed(invoke("score", survey, *engine, "-o", "-"), "red_flags",
           "no column for the choice(s) pain_on_hopping")
    ok(invoke("score", survey, *engine, "--assume", "red_flags=", "-o", "-", "-q"))


# --- headers and mappings ----------------------------------------------------------------------

def test_a_duplicated_header_is_refused_naming_it(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,knee_pain,red_flags,pain_level,knee_pain\n"
                                       "r1,front,,3,none\n")
    failed(invoke("score", survey, "-o", "-"), "'knee_pain'", "more than one column")


def test_a_mapping_sending_two_columns_to_one_answer_is_refused(tmp_path: Path) -> None:
    text = (SURVEYS / "google_mapping.yaml").read_text(encoding="utf-8")
    text = text.replace('''  "At most how many minutes a day can you give to hip care?":
    answer: minutes''', '''  "At most how many minutes a day can you give to hip care?":
    answer: minutes
  "How old are you?":
    answer: minutes''')
    text = text.replace('''  "How old are you?":
    answer: age
''', "", 1)
    mapping = write(tmp_path / "m.yaml", text)
    failed(invoke("score", SURVEYS / "google.csv", "--mapping", mapping, "-o", "-"),
           "two columns to answer 'minutes'",
           "'At most how many minutes a day can you give to hip care?'", "'How old are you?'")


def test_a_header_and_its_prompt_both_present_is_refused(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,age,How old are you?,red_flags,pain_level\n"
                                       "r1,30,31,,\n")
    failed(invoke("score", survey, "-o", "-"), "two columns to answer 'age'", "'age'",
           "'How old are you?'")


# --- records that are not one respondent's row -------------------------------------------------

def test_a_short_record_is_rejected_not_scored_from_defaults(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", TRIAGED + "r1,front,,3\nr2,front\nr3,none,,\n")
    out = tmp_path / "out"
    ok(invoke("score", survey, *ASSUME, "-o", out, "-q"))
    assert [row["respondent_id"] for row in table(out / "plans.csv")] == ["r1", "r3"]
    (error,) = table(out / "errors.csv")
    assert (error["row"], error["respondent_id"]) == ("3", "r2")
    assert error["problem"] == "malformed record: record has 2 fields, the header has 4"
    summary = summary_of(out)
    assert (summary["rows_in"], summary["scored"], summary["rejected"]) == (3, 2, 1)


def test_an_oversized_cell_and_a_nul_byte_reject_their_record_only(tmp_path: Path) -> None:
    big = "x" * (129 * 1024)
    survey = write(tmp_path / "s.csv", TRIAGED + f'r1,front,,3\nr2,"{big}",,3\n'
                                                 "r3,fr\x00ont,,3\nr4,none,,\n")
    out = tmp_path / "out"
    ok(invoke("score", survey, *ASSUME, "-o", out, "-q"))
    assert [row["respondent_id"] for row in table(out / "plans.csv")] == ["r1", "r4"]
    errors = table(out / "errors.csv")
    assert [(e["row"], e["respondent_id"]) for e in errors] == [("3", "r2"), ("4", "r3")]
    assert "129 KiB of text, over the 128 KiB" in errors[0]["problem"]
    assert "NUL byte" in errors[1]["problem"]
    assert all(len(e["value"]) < 1000 for e in errors)
    summary = summary_of(out)
    assert summary["rows_in"] == summary["scored"] + summary["rejected"] == 4


def test_a_quote_that_never_closes_is_refused_at_the_line_it_opens(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", TRIAGED + 'r1,front,,3\n"r\n2",none,,\nr3,"front,,3\n'
                                                 "r4,none,,\nr5,none,,\n")
    failed(invoke("score", survey, *ASSUME, "-o", tmp_path / "out"), "line 5:",
           "a quote opens here and never closes")
    assert not (tmp_path / "out").exists()  # nothing written, not even in part


def test_a_stray_quote_inside_a_cell_rejects_that_record(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", TRIAGED + 'r1,front,,3\nr2,"front"x,,3\nr3,none,,\n')
    out = tmp_path / "out"
    ok(invoke("score", survey, *ASSUME, "-o", out, "-q"))
    assert [row["respondent_id"] for row in table(out / "plans.csv")] == ["r1", "r3"]
    (error,) = table(out / "errors.csv")
    assert error["row"] == "3" and "stray quote" in error["problem"]


# --- rejections reach the user with -o - -------------------------------------------------------

def test_quiet_stdout_still_reports_rejected_rows(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", TRIAGED + "r1,front,,3\nr2,ankle,,3\nr3,front\n")
    result = ok(invoke("score", survey, *ASSUME, "-o", "-", "--quiet"))
    assert result.stderr.splitlines() == [
        "rejected: row 3 (r2): knee_pain: knee_pain: 'ankle' is not an answer: must be one of: "
        "none, front, outside, other",
        "rejected: row 4 (r3): record: malformed record: record has 2 fields, the header has 4"]


def test_many_rejected_rows_are_counted_after_the_first_few(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", TRIAGED + "ok,front,,3\n"
                   + "".join(f"r{i},ankle,,3\n" for i in range(25)))
    lines = ok(invoke("score", survey, *ASSUME, "-o", "-", "-q")).stderr.splitlines()
    assert len(lines) == 11 and lines[-1].startswith("rejected: ... and 15 more row(s)")


# --- leftovers of earlier runs -----------------------------------------------------------------

def test_a_run_without_traces_removes_a_stale_trace_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok(invoke("score", forms.PLAIN, "--traces", "-o", out, "-q"))
    assert (out / "traces.jsonl").exists()
    ok(invoke("score", forms.PLAIN, "-o", out, "-q"))
    assert sorted(p.name for p in out.iterdir()) == ["datapackage.json", "errors.csv", "findings.csv",
                                                     "plan_items.csv", "plans.csv", "summary.json"]


def test_a_failed_run_keeps_the_old_trace_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok(invoke("score", forms.PLAIN, "--traces", "-o", out, "-q"))
    before = (out / "traces.jsonl").read_bytes()
    survey = write(tmp_path / "s.csv", TRIAGED + 'r1,"front,,3\n')
    failed(invoke("score", survey, *ASSUME, "-o", out), "never closes")
    assert (out / "traces.jsonl").read_bytes() == before


def test_temporary_files_of_a_killed_run_are_removed_by_the_next(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    streams = AtomicFiles(out / "plans.csv", out / "traces.jsonl").__enter__()  # never committed
    for stream in streams:
        stream.close()
    left = sorted(p.name for p in out.iterdir())
    assert len(left) == 2 and all(n.startswith(".") and n.endswith(".tmp") for n in left)
    (out / ".notes.txt.keep.tmp").write_text("someone else's", encoding="utf-8")
    ok(invoke("score", forms.PLAIN, "-o", out, "-q"))
    assert sorted(p.name for p in out.iterdir()) == [".notes.txt.keep.tmp", "datapackage.json",
                                                     "errors.csv", "findings.csv",
                                                     "plan_items.csv", "plans.csv",
                                                     "summary.json"]


# --- whatever the records, every one is accounted for ------------------------------------------

CELL = st.sampled_from(["front", "none", "ankle", "", "3", "12", "swelling", "x\x00y",
                        '"quoted, comma"', "mat;ball"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(CELL, min_size=0, max_size=6), max_size=20),
       st.sampled_from([",", ";", "\t"]))
@pytest.mark.slow
def test_rows_in_is_scored_plus_rejected_whatever_the_field_counts(records: list[list[str]],
                                                                   delimiter: str) -> None:
    head = ["respondent_id", "knee_pain", "red_flags", "pain_level"]
    lines = [delimiter.join(head)]
    for n, cells in enumerate(records):
        lines.append(delimiter.join([f"r{n}", *cells]))
    with tempfile.TemporaryDirectory() as folder:
        survey = write(Path(folder) / "s.csv", "\n".join(lines) + "\n")
        result = invoke("score", survey, *ASSUME, "--delimiter", delimiter, "-o",
                        Path(folder) / "out", "-q")
        summary = summary_of(Path(folder) / "out")
        # a run that scores nobody says so with exit 1, after writing the outputs that say why
        assert result.exit_code == (0 if summary["scored"] else 1), result.output
        plans = table(Path(folder) / "out" / "plans.csv")
    assert summary["rows_in"] == len(records)
    assert summary["rows_in"] == summary["scored"] + summary["rejected"]
    assert len(plans) == summary["scored"]
    # a record is scored only when it has exactly the header's fields
    for row in plans:
        n = int(row["respondent_id"][1:])
        assert len(records[n]) + 1 == len(head)
