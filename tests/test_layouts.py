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
    assert error["problem"] == "a partial response: Response Type is 'partial'; only 'completed' is scored"


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
                   "qualtrics|surveymonkey|typeform|microsoft|google|limesurvey|redcap|kobo|jotform|plain"):
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


# --- finished responses only -------------------------------------------------------------------

def qualtrics_with(finished: str, status: str) -> str:
    """The Qualtrics fixture with its Status column, and the third respondent's Finished and
    Status cells replaced (a numeric export writes Finished 1/0 and Status 0/1/2...)."""
    rows, _ = forms.qualtrics_rows()
    rows[0].insert(1, "Status")
    rows[1].insert(1, "Response Type")
    rows[2].insert(1, '{"ImportId":"status"}')
    for row in rows[3:]:
        row.insert(1, "IP Address")
    rows[5][1], rows[5][2] = status, finished
    return forms.to_csv(rows)


@pytest.mark.parametrize("name,writer,row,column,value,why", [
    ("redcap_raw", lambda: forms.redcap_raw(incomplete=True), "8", "hip_survey_complete", "0",
     "an incomplete record (its form is not marked Complete)"),
    ("redcap_labels", lambda: forms.redcap_labels(incomplete=True), "8", "Complete?", "Incomplete",
     "an incomplete record (its form is not marked Complete)"),
    ("limesurvey", lambda: forms.limesurvey(unfinished=True), "8", "Date submitted", "",
     "an unfinished response (never submitted)"),
    ("kobo", lambda: forms.kobo(not_approved=True), "8", "_validation_status",
     "validation_status_not_approved", "a submission marked not approved"),
    ("qualtrics_unfinished", lambda: (qualtrics_with("False", "IP Address"), []), "6", "Finished",
     "False", "an unfinished response"),
    ("qualtrics_unfinished_numeric", lambda: (qualtrics_with("0", "0"), []), "6", "Finished", "0",
     "an unfinished response"),
    ("qualtrics_preview", lambda: (qualtrics_with("True", "Survey Preview"), []), "6", "Status",
     "Survey Preview", "a preview, test or spam response"),
    ("qualtrics_test_numeric", lambda: (qualtrics_with("1", "2"), []), "6", "Status", "2",
     "a preview, test or spam response"),
])
def test_only_finished_real_responses_are_scored(tmp_path: Path, name: str, writer, row: str,  # type: ignore[no-untyped-def]
                                                 column: str, value: str, why: str) -> None:
    """Each layout's own marker of an unfinished or test response rejects the row, with the
    reason, and summary.json counts it; the other respondents are scored as usual."""
    data, _ids = writer()
    survey = tmp_path / f"{name}.csv"
    survey.write_text(data, encoding="utf-8")
    out = tmp_path / "out"
    result = ok(invoke("score", survey, "-o", out))
    (error,) = table(out / "errors.csv")
    assert (error["row"], error["column"], error["value"]) == (row, column, value)
    assert error["problem"].startswith(f"{why}: {column} is {value!r}; ")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["rejected"] == 1 and summary["rejected_by_reason"] == {why: 1}
    assert summary["scored"] == len(table(out / "plans.csv")) == (6 if name == "limesurvey"
                                                                   or "redcap" in name
                                                                   or name == "kobo" else 5)
    assert "scored" in result.stderr


def test_a_note_row_under_the_data_is_not_a_respondent(tmp_path: Path, reference: Path) -> None:
    """Exports and hand-kept sheets end with notes and totals: 'Responses: 6' in the first
    column, every other cell empty. It is rejected, never scored from defaults."""
    data, _ids = forms.google_sheet()
    survey = tmp_path / "sheet.csv"
    width = len(next(csv.reader(data.splitlines())))
    survey.write_text(data + "Responses: 6" + "," * (width - 1) + "\r\n", encoding="utf-8")
    out = tmp_path / "out"
    ok(invoke("score", survey, "-o", out, "-q"))
    assert without_id(table(out / "plans.csv")) == without_id(table(reference / "plans.csv"))
    (error,) = table(out / "errors.csv")
    assert error["row"] == "8" and error["problem"].startswith("no answers at all")


# --- tick boxes in every shape -------------------------------------------------------------------

FLAG = "Do any of these apply to you at the moment?"


@pytest.mark.parametrize("ticked,unticked", [("1", "0"), ("Checked", "Unchecked"),
                                             ("TRUE", "FALSE"), ("Yes", ""), ("Yes", "No"),
                                             ("Swelling in or around the knee or hip", "")])
def test_a_column_per_option_reads_not_ticked_as_not_ticked(tmp_path: Path, ticked: str,
                                                           unticked: str) -> None:
    """With the 'item' mapping the README shows, 0 (REDCap raw, Kobo), Unchecked (REDCap
    labels) and FALSE used to count as ticked: every respondent referred."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "format: plain\nrespondent_id: respondent_id\ncolumns:\n"
        f'  "{FLAG} | Swelling": {{answer: red_flags, item: swelling}}\n'
        f'  "{FLAG} | Fever": {{answer: red_flags, item: fever_or_unwell}}\n'
        "  pain_level: pain_level\n", encoding="utf-8")
    survey = tmp_path / "s.csv"
    survey.write_text(f'respondent_id,"{FLAG} | Swelling","{FLAG} | Fever",pain_level\n'
                      f'a,{unticked},{unticked},3\nb,"{ticked}",{unticked},3\n', encoding="utf-8")
    out = tmp_path / "out"
    # the other red flags were never asked: say so (the ticks given are still read)
    ok(invoke("score", survey, "--mapping", mapping, "--assume", "red_flags=",
              *assume_args("respondent_id,red_flags,pain_level"), "-o", out, "-q"))
    assert [(row["respondent_id"], row["status"], row["referral_reasons"])
            for row in table(out / "plans.csv")] == [("a", "plan", ""),
                                                     ("b", "refer", "swelling")]


def test_a_tick_cell_that_is_neither_is_rejected_quoting_it(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("format: plain\nrespondent_id: respondent_id\ncolumns:\n"
                       "  swelling: {answer: red_flags, item: swelling}\n  pain_level: pain_level\n",
                       encoding="utf-8")
    survey = tmp_path / "s.csv"
    survey.write_text("respondent_id,swelling,pain_level\na,maybe,3\nb,0,3\n", encoding="utf-8")
    out = tmp_path / "out"
    ok(invoke("score", survey, "--mapping", mapping, "--assume", "red_flags=",
              *assume_args("respondent_id,red_flags,pain_level"), "-o", out, "-q"))
    (error,) = table(out / "errors.csv")
    assert (error["respondent_id"], error["value"]) == ("a", "maybe")
    assert error["problem"].startswith("red_flags: 'maybe' is neither ticked nor not ticked")
    assert "1 or 0, Checked or Unchecked" in error["problem"]


def test_none_of_these_maps_to_nothing_ticked(tmp_path: Path) -> None:
    """A required tick-box question's explicit 'none of these' option: {label: []}."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "format: plain\nrespondent_id: respondent_id\ncolumns:\n"
        "  flags:\n    answer: red_flags\n    separator: ';'\n"
        '    values: {"None of these apply to me": [], "Swelling": swelling}\n'
        "  pain_level: pain_level\n", encoding="utf-8")
    survey = tmp_path / "s.csv"
    survey.write_text("respondent_id,flags,pain_level\na,None of these apply to me,3\n"
                      "b,Swelling,3\n", encoding="utf-8")
    out = tmp_path / "out"
    ok(invoke("score", survey, "--mapping", mapping, *assume_args("respondent_id,red_flags,pain_level"),
              "-o", out, "-q"))
    assert [row["status"] for row in table(out / "plans.csv")] == ["plan", "refer"]


def test_jotform_labels_one_a_line_stay_whole(tmp_path: Path) -> None:
    """Jotform puts each ticked label on a line of its own; labels hold commas and spaces, so a
    split at either would give 'Firm ball' and 'such as a lacrosse or massage ball'."""
    data, _ids = forms.jotform()
    assert "Firm ball, such as a lacrosse or massage ball\nResistance band" in data
    survey = tmp_path / "jotform.csv"
    survey.write_text(data, encoding="utf-8")
    out = tmp_path / "out"
    ok(invoke("score", survey, "-o", out, "-q"))
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["rejected"] == 0


def test_space_and_line_separators_match_whole_labels_longest_first() -> None:
    from hipcoach.batch.mapping import split_ticks

    labels = ["Foam roller", "Foam roller (long)", "Exercise or yoga mat"]
    assert split_ticks("Foam roller (long)\nExercise or yoga mat", labels, "\n") == \
        ["Foam roller (long)", "Exercise or yoga mat"]
    assert split_ticks("Foam roller Exercise or yoga mat", labels, " ") == \
        ["Foam roller", "Exercise or yoga mat"]
    assert split_ticks("foam_roller mat", ["foam_roller", "mat"], " ") == ["foam_roller", "mat"]


# --- Excel's leftovers ---------------------------------------------------------------------------

def test_excels_sep_line_is_honoured(tmp_path: Path, reference: Path) -> None:
    data, _ids = forms.european_excel()
    survey = tmp_path / "excel.csv"
    survey.write_bytes(b"sep=;\r\n" + data)
    for args in ([], ["--delimiter", ";"]):
        out = tmp_path / f"out{len(args)}"
        ok(invoke("score", survey, "--encoding", "cp1252", *args, "-o", out, "-q"))
        assert without_id(table(out / "plans.csv")) == without_id(table(reference / "plans.csv"))
    out = tmp_path / "refused"
    failed(1, invoke("score", survey, "--encoding", "cp1252", "--delimiter", ",", "-o", out),
           "sep=;", "--delimiter gives ','")
    assert not out.exists()


def test_decimal_commas_where_they_are_unambiguous(tmp_path: Path) -> None:
    head = "respondent_id;pain_level;knee_pain;sitting_hours;red_flags\n"
    assume = assume_args(head.replace(";", ","))
    survey = tmp_path / "s.csv"
    survey.write_text(head + "a;3;front;6,5;\nb;3;front;6.5;\n", encoding="utf-8")
    out = tmp_path / "out"
    ok(invoke("score", survey, *assume, "-o", out, "-q"))
    plans = table(out / "plans.csv")
    assert len(plans) == 2 and without_id(plans[:1]) == without_id(plans[1:])
    # in a comma-delimited file a quoted "6,5" is refused unless --decimal says so, never 65
    comma = tmp_path / "c.csv"
    comma.write_text(head.replace(";", ",") + 'a,3,front,"6,5",\n', encoding="utf-8")
    failed(1, invoke("score", comma, *assume, "-o", tmp_path / "c"), "scored 0 of 1 rows")
    (error,) = table(tmp_path / "c" / "errors.csv")
    assert error["problem"].startswith("sitting_hours: '6,5' is not an answer")
    ok(invoke("score", comma, *assume, "--decimal", ",", "-o", tmp_path / "d", "-q"))
    assert without_id(table(tmp_path / "d" / "plans.csv")) == without_id(plans[:1])
    # a thousands separator is never read as a decimal one
    thousands = tmp_path / "t.csv"
    thousands.write_text(head + "a;3;front;1.000,5;\n", encoding="utf-8")
    failed(1, invoke("score", thousands, *assume, "-o", tmp_path / "t"), "scored 0 of 1 rows")


def test_typographic_apostrophes_match_the_plain_labels(tmp_path: Path) -> None:
    """A cp1252 file saved by Word or Excel writes a typographic apostrophe (U+2019) for the
    label's plain one."""
    label = next(c.label for c in forms.KB.questions["red_flags"].choices if "'" in c.label)
    survey = tmp_path / "s.csv"
    curly = label.replace("'", "\u2019")
    text = (f'respondent_id,{FLAG},"Where do you feel knee pain, if anywhere?",pain_level\n'
            f'a,"{curly}",No knee pain,\n')
    survey.write_bytes(text.encode("cp1252"))
    out = tmp_path / "out"
    ok(invoke("score", survey, "--encoding", "cp1252",
              *assume_args("respondent_id,red_flags,knee_pain,pain_level"), "-o", out, "-q"))
    (plan,) = table(out / "plans.csv")
    assert plan["status"] == "refer"
