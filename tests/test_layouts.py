"""Real exports as the tools write them, from a form built from the questionnaire: each scores
with no mapping to the plans of its plain twin (examples/surveys/plain.csv)."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest

import forms
from clirunner import failed as failed_with
from clirunner import invoke, ok, words
from conftest import EXAMPLES, assume_args

SURVEYS = EXAMPLES / "surveys"


def failed(code: int, result, *needles: str) -> str:  # type: ignore[no-untyped-def]
    return failed_with(result, code, *needles)


def table(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def without_id(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k != "respondent_id"} for row in rows]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("plain")
    ok(invoke("score", forms.PLAIN, "-o", out, "-q"))
    return out


@pytest.mark.parametrize("name", forms.ALL)
def test_each_layout_scores_with_no_mapping_like_its_plain_twin(tmp_path: Path, reference: Path,
                                                                name: str) -> None:
    survey, layout, ids = forms.write_export(tmp_path, name)
    out = tmp_path / "out"
    result = ok(invoke("score", survey, "-o", out))
    assert result.stderr.endswith(f"scored 6 of 6 rows (6 distinct answer profiles) into {out}\n")
    assert "warning" not in result.stderr  # every column known: answers and the tool's own
    plans = table(out / "plans.csv")
    assert [row["respondent_id"] for row in plans] == ids  # the tool's own id column
    assert without_id(plans) == without_id(table(reference / "plans.csv"))
    assert without_id(table(out / "plan_items.csv")) == \
        without_id(table(reference / "plan_items.csv"))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["format"] == layout  # detected from the header rows
    assert summary["rows_in"] == summary["scored"] + summary["rejected"] == 6
    assert summary["assumed"] == {} and summary["defaulted"] == []


def test_the_fixtures_are_written_as_the_tools_write_them(tmp_path: Path) -> None:
    """So the test above means something: quoting, joiners and encodings differ."""
    text = {name: forms.write_export(tmp_path, name)[0].read_bytes() for name in forms.ALL}
    assert text["google_download"].startswith(b'"Timestamp","Email address","How old')
    assert b'"Foam roller;Exercise or yoga mat"' in text["google_download"]
    assert b'"Foam roller, Exercise or yoga mat"' in text["google_sheet"]
    assert b"Firm ball, such as a lacrosse or massage ball, Resistance band" in text["google_sheet"]
    assert b"Foam roller;Exercise or yoga mat;" in text["microsoft"]
    assert text["qualtrics_tsv"].startswith(b"\xff\xfe") and b"\t\x00" in text["qualtrics_tsv"]
    assert b";" in text["european_excel"].split(b"\r\n")[0]
    assert text["microsoft_xlsx"].startswith(b"PK\x03\x04")


def test_typeform_scores_completed_responses_and_rejects_partial_ones(tmp_path: Path,
                                                                     reference: Path) -> None:
    data, _ids = forms.typeform(partial=True)
    survey = tmp_path / "typeform.csv"
    survey.write_text(data, encoding="utf-8")
    out = tmp_path / "out"
    result = ok(invoke("score", survey, "-o", out))
    assert "scored 6 of 7 rows, 1 rejected" in result.stderr
    assert without_id(table(out / "plans.csv")) == without_id(table(reference / "plans.csv"))
    (error,) = table(out / "errors.csv")
    assert (error["row"], error["respondent_id"], error["column"], error["value"]) == \
        ("4", "tfpartial", "Response Type", "partial")
    assert "only completed responses are scored" in error["problem"]


def test_a_mapping_for_one_tick_separator_reads_the_other(tmp_path: Path) -> None:
    """google_mapping.yaml says ', ' (the linked sheet); Google's own CSV download joins
    with ';'. Both give the same plans."""
    from hipcoach.batch.mapping import split_ticks

    with open(SURVEYS / "google.csv", encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    kit = rows[0].index("Which of these do you have to hand?")
    labels = [c.label for c in forms.KB.questions["equipment"].choices]
    assert any(", " in row[kit] for row in rows[1:])
    for row in rows[1:]:
        row[kit] = ";".join(split_ticks(row[kit], labels, ", "))
    survey = tmp_path / "download.csv"
    survey.write_text(forms.to_csv(rows, quoting=csv.QUOTE_ALL), encoding="utf-8")
    mapping = SURVEYS / "google_mapping.yaml"
    ok(invoke("score", SURVEYS / "google.csv", "--mapping", mapping, "-o", tmp_path / "a", "-q"))
    ok(invoke("score", survey, "--mapping", mapping, "-o", tmp_path / "b", "-q"))
    assert (tmp_path / "a" / "plans.csv").read_bytes() == (tmp_path / "b" / "plans.csv").read_bytes()


# --- Excel --------------------------------------------------------------------------------------

def test_sheet_picks_the_worksheet(tmp_path: Path, reference: Path) -> None:
    survey = tmp_path / "book.xlsx"
    forms.microsoft_xlsx(survey, sheet="Responses", first="Notes")
    failed(1, invoke("score", survey, "-o", tmp_path / "a"), "cannot tell which tool exported")
    ok(invoke("score", survey, "--sheet", "Responses", "-o", tmp_path / "b", "-q"))
    assert without_id(table(tmp_path / "b" / "plans.csv")) == \
        without_id(table(reference / "plans.csv"))
    failed(1, invoke("score", survey, "--sheet", "Answers", "-o", tmp_path / "c"),
           "no sheet 'Answers'", "'Notes', 'Responses'")


def test_sheet_on_a_csv_file_is_an_error(tmp_path: Path) -> None:
    failed(1, invoke("score", forms.PLAIN, "--sheet", "Sheet1", "-o", tmp_path / "o"),
           "--sheet applies to .xlsx workbooks")


@pytest.mark.parametrize("data,needle", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old-style Excel (.xls)"),
    (b"PK\x03\x04" + b"\x00" * 100, "not a readable .xlsx workbook"),
])
def test_xls_and_broken_workbooks_are_clear_errors(tmp_path: Path, data: bytes, needle: str) -> None:
    survey = tmp_path / "export.xls"
    survey.write_bytes(data)
    failed(1, invoke("score", survey, "-o", tmp_path / "o"), needle)
    assert not (tmp_path / "o").exists()


def test_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    survey = tmp_path / "export.xlsx"
    with zipfile.ZipFile(survey, "w") as archive:
        archive.writestr("hello.txt", "hi")
    failed(1, invoke("score", survey, "-o", tmp_path / "o"), "not a readable .xlsx workbook")


# --- delimiters and encodings ------------------------------------------------------------------

def test_a_forced_wrong_delimiter_suggests_the_delimiter_not_the_format(tmp_path: Path) -> None:
    survey, _, _ = forms.write_export(tmp_path, "european_excel")
    message = failed(1, invoke("score", survey, "--encoding", "cp1252", "--delimiter", ",",
                            "-o", tmp_path / "o"), "--delimiter ';'")
    assert "--format" not in message


@pytest.mark.parametrize("given", ["tab", "\\t", "\t"])
def test_delimiter_tab_spellings(tmp_path: Path, reference: Path, given: str) -> None:
    survey, _, _ = forms.write_export(tmp_path, "qualtrics_tsv")
    ok(invoke("score", survey, "--delimiter", given, "--encoding", "utf-16", "-o", tmp_path / "o",
              "-q"))
    assert without_id(table(tmp_path / "o" / "plans.csv")) == \
        without_id(table(reference / "plans.csv"))


@pytest.mark.parametrize("given", ["ab", '"', "x"])
def test_a_delimiter_must_be_one_punctuation_character(given: str) -> None:
    result = invoke("score", forms.PLAIN, "--delimiter", given, "-o", "-")
    assert result.exit_code == 2 and "is not a delimiter" in result.stderr


def test_help_names_the_new_options() -> None:
    text = words(ok(invoke("score", "--help")).stdout)
    for needle in ("--assume ANSWER=VALUE", "--delimiter CHAR", "--sheet NAME", ".xlsx",
                   "google|microsoft|typeform|surveymonkey|qualtrics|plain"):
        assert needle in text, needle


def test_an_answer_id_header_takes_labels_as_well_as_values(tmp_path: Path, planner) -> None:  # type: ignore[no-untyped-def]
    survey = tmp_path / "s.csv"
    survey.write_text("respondent_id,red_flags,pain_level,knee_pain,equipment\n"
                      "r1,,3,AROUND OR BEHIND THE KNEECAP,\"Foam roller, mat\"\n"
                      "r2,Swelling in or around the knee or hip,,none,\n", encoding="utf-8")
    assume = assume_args("respondent_id,red_flags,pain_level,knee_pain,equipment")
    plans = list(csv.DictReader(ok(invoke("score", survey, *assume, "-o", "-", "-q")).stdout.splitlines()))
    expected = planner.plan({"knee_pain": "front", "pain_level": 3,
                             "equipment": ["foam_roller", "mat"]})
    assert plans[0]["exercises"] == ";".join(i["exercise"] for i in expected["items"])
    assert (plans[1]["status"], plans[1]["referral_reasons"]) == ("refer", "swelling")
