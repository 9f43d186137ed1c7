"""Survey exports: header layouts, detection and reading rows (hipcoach.batch.survey)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from conftest import EXAMPLES
from hipcoach.batch.survey import LAYOUTS, detect, header, read_head, rows
from hipcoach.errors import SurveyError

SURVEYS = EXAMPLES / "surveys"
ENC = "utf-8-sig"
EXAMPLE_LAYOUTS = ("google", "surveymonkey", "qualtrics", "plain")  # with a file in examples/


@pytest.fixture(scope="module")
def answer_ids(kb) -> set[str]:  # type: ignore[no-untyped-def]
    return set(kb.questions)


def write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def all_rows(path: Path, layout: str, width: int, **kw):  # type: ignore[no-untyped-def]
    good, bad = [], []
    for batch, bad_records in rows(path, layout, width, ENC, **kw):
        good.extend(batch)
        bad.extend(bad_records)
    return good, bad


# --- read_head ---------------------------------------------------------------------------------

def test_read_head_returns_at_most_three_records_skipping_blank_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "\n,,\na,b\n\nc,d\ne,f\ng,h\n")
    assert read_head(path, ENC) == [["a", "b"], ["c", "d"], ["e", "f"]]


def test_read_head_strips_a_bom_and_reads_windows_line_endings(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", b"\xef\xbb\xbfrespondent_id,age\r\nr1,30\r\n")
    assert read_head(path, ENC) == [["respondent_id", "age"], ["r1", "30"]]


def test_read_head_of_a_short_file(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "respondent_id,age\n")
    assert read_head(path, ENC) == [["respondent_id", "age"]]


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\r\n,,,\r\n", b" , \n"])
def test_read_head_of_an_empty_file_is_one_clear_error(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path / "empty.csv", data)
    with pytest.raises(SurveyError, match=r"empty\.csv: is empty"):
        read_head(path, ENC)


def test_read_head_of_binary_data(tmp_path: Path) -> None:
    path = write(tmp_path / "b.csv", b"PK\x00\x01\x02respondent_id\x00\nr1\x00\n")
    with pytest.raises(SurveyError, match=r"b\.csv: not a CSV file"):
        read_head(path, ENC)


def test_read_head_of_latin1_text_asks_for_an_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "l.csv", "respondent_id,age\nZoé,30\n".encode("latin-1"))
    with pytest.raises(SurveyError, match=r"l.csv: not utf-8-sig text.*--encoding"):
        read_head(path, ENC)
    assert read_head(path, "latin-1")[1] == ["Zoé", "30"]


# --- detect ------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", EXAMPLE_LAYOUTS)
def test_each_example_export_is_detected(layout: str, answer_ids: set[str]) -> None:
    head = read_head(SURVEYS / f"{layout}.csv", ENC)
    assert detect(head, answer_ids) == layout


@pytest.mark.parametrize("first", [
    ["a", "b", "c"],
    ["Email address", "How old are you?"],  # Google without its Timestamp column
    ["age", "knee_pain"],  # answer ids but no respondent_id
])
def test_an_ambiguous_header_asks_for_format(first: list[str], answer_ids: set[str]) -> None:
    with pytest.raises(SurveyError, match=r"pass --format \(qualtrics, surveymonkey, typeform, "
                                          r"microsoft, google, limesurvey, redcap, kobo, "
                                          r"jotform, plain\)"):
        detect([first, ["1"] * len(first)], answer_ids)


def test_surveymonkey_is_detected_by_its_response_subheader(answer_ids: set[str]) -> None:
    head = [["Respondent", "How old are you?"], ["", "Open-Ended Response"], ["1", "30"]]
    assert detect(head, answer_ids) == "surveymonkey"


def test_qualtrics_is_detected_by_its_import_id_row(answer_ids: set[str]) -> None:
    head = [["ResponseId", "Q1"], ["Response ID", "How old are you?"],
            ['{"ImportId":"_recordId"}', '{"ImportId":"QID1"}']]
    assert detect(head, answer_ids) == "qualtrics"


# --- header ------------------------------------------------------------------------------------

def test_plain_and_google_headers_are_the_first_row(answer_ids: set[str]) -> None:
    head = [[" Timestamp ", "Email address"], ["t", "e"]]
    assert header(head, "google").columns == ("Timestamp", "Email address")
    assert header(head, "plain").columns == ("Timestamp", "Email address")


def test_surveymonkey_columns_are_question_or_question_and_option() -> None:
    head = read_head(SURVEYS / "surveymonkey.csv", ENC)
    cols = header(head, "surveymonkey")
    assert cols.columns[0] == "Respondent ID"
    assert "How old are you?" in cols.columns  # "Open-Ended Response": the whole answer
    assert "Where do you feel knee pain, if anywhere?" in cols.columns  # "Response"
    # a multi-choice question's name spans its option columns (merged cells export empty)
    equipment = [c for c in cols.columns if c.startswith("Which of these do you have to hand?")]
    assert equipment == [f"Which of these do you have to hand? | {label}" for label in (
        "Foam roller", "Resistance band (loop or long band)",
        "Firm ball, such as a lacrosse or massage ball",
        "Sturdy table, desk, bench or sofa arm at about thigh height",
        "A doorway with room to kneel in it", "Exercise or yoga mat")]
    assert len(set(cols.columns)) == len(cols.columns)
    assert cols.texts == cols.columns


def test_qualtrics_columns_are_the_ids_and_texts_the_question_row() -> None:
    cols = header(read_head(SURVEYS / "qualtrics.csv", ENC), "qualtrics")
    assert cols.columns[8:11] == ("ResponseId", "Q1", "Q2")
    assert cols.texts[9] == "How old are you?"
    assert len(cols.texts) == len(cols.columns)


@pytest.mark.parametrize("layout", ["surveymonkey", "qualtrics"])
def test_too_few_rows_for_the_layout_is_an_error(layout: str) -> None:
    with pytest.raises(SurveyError, match=f"a {layout} export has {LAYOUTS[layout].header_rows} header rows"):
        header([["a", "b"]], layout)


# --- rows --------------------------------------------------------------------------------------

def test_rows_number_records_as_a_spreadsheet_does_and_skip_blank_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "respondent_id,age\nr1,30\n\n,\nr2,40\n")
    good, bad = all_rows(path, "plain", 2)
    assert good == [(2, ("r1", "30")), (5, ("r2", "40"))]
    assert bad == []


def test_rows_skip_each_layouts_header_rows() -> None:
    for layout in EXAMPLE_LAYOUTS:
        path = SURVEYS / f"{layout}.csv"
        width = len(read_head(path, ENC)[0])
        good, bad = all_rows(path, layout, width)
        assert [number for number, _ in good] == [LAYOUTS[layout].header_rows + i for i in range(1, 7)]
        assert all(len(cells) == width for _, cells in good)
        assert bad == []


def test_rows_handle_bom_crlf_and_quoted_newlines(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv",
                 b'\xef\xbb\xbfrespondent_id,notes,age\r\nr1,"line one\r\nline two",30\r\n'
                 b'r2,"a, ""b""",40\r\n')
    good, _ = all_rows(path, "plain", 3)
    assert [cells[0] for _, cells in good] == ["r1", "r2"]
    assert good[0][1][1].splitlines() == ["line one", "line two"]
    assert good[1] == (3, ("r2", 'a, "b"', "40"))


def test_rows_keep_cells_as_text(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "respondent_id,age,x\n007,30.0,NA\nnan,,null\n")
    good, _ = all_rows(path, "plain", 3)
    assert [cells for _, cells in good] == [("007", "30.0", "NA"), ("nan", "", "null")]


def test_short_records_are_bad_not_padded(tmp_path: Path) -> None:
    """Padding a short record would score its respondent from defaults."""
    path = write(tmp_path / "s.csv", "respondent_id,age,knee_pain\nr1\nr2,30\nr3,40,front\n")
    good, bad = all_rows(path, "plain", 3)
    assert [cells for _, cells in good] == [("r3", "40", "front")]
    assert [(b.line, b.problem, b.cells) for b in bad] == [
        (2, "record has 1 fields, the header has 3", ("r1",)),
        (3, "record has 2 fields, the header has 3", ("r2", "30"))]


def test_a_record_with_too_many_fields_is_reported_not_fatal(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "respondent_id,age\nr1,30\nr2,40,extra\nr3,50\nr4,1,2,3\n")
    good, bad = all_rows(path, "plain", 2)
    assert [cells[0] for _, cells in good] == ["r1", "r3"]
    assert [(b.line, b.problem) for b in bad] == [(3, "record has 3 fields, the header has 2"),
                                                  (5, "record has 4 fields, the header has 2")]


def test_row_numbers_after_a_malformed_record_stay_right(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "respondent_id,age\nr1,30\nr2,40,extra\nr3,50\n")
    good, bad = all_rows(path, "plain", 2)
    assert [b.line for b in bad] == [3]
    assert good == [(2, ("r1", "30")), (4, ("r3", "50"))]


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 1000])
def test_chunking_does_not_change_what_is_read(tmp_path: Path, chunk_rows: int) -> None:
    lines = ["respondent_id,age"] + [f"r{i},{20 + i}" if i % 4 else "" for i in range(1, 12)]
    path = write(tmp_path / "s.csv", "\n".join(lines) + "\n")
    good, bad = all_rows(path, "plain", 2, chunk_rows=chunk_rows)
    expected = [(i + 1, (f"r{i}", str(20 + i))) for i in range(1, 12) if i % 4]
    assert good == expected and bad == []


def test_rows_of_latin1_text_is_one_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path / "l.csv", "respondent_id,age\nZoé,30\n".encode("latin-1"))
    with pytest.raises(SurveyError, match=r"l.csv: not utf-8-sig text.*--encoding"):
        all_rows(path, "plain", 2)


def test_examples_are_really_in_their_layout() -> None:
    """The example exports are what each tool writes: checked so the other tests mean something."""
    with open(SURVEYS / "google.csv", encoding=ENC, newline="") as stream:
        google = list(csv.reader(stream))
    assert google[0][0] == "Timestamp"
    assert any(", " in cell for row in google[1:] for cell in row)
    with open(SURVEYS / "qualtrics.csv", encoding=ENC, newline="") as stream:
        qualtrics = list(csv.reader(stream))
    assert all(cell.startswith('{"ImportId"') for cell in qualtrics[2])
    assert (SURVEYS / "plain.csv").read_bytes().count(b"\r\n") == 7


# --- dialects: delimiters, encodings, workbooks ------------------------------------------------

@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_detected(tmp_path: Path, delimiter: str) -> None:
    from hipcoach.batch.records import settle

    text = delimiter.join(["respondent_id", "equipment", "knee_pain"]) + "\n" + \
        delimiter.join(["r1", '"foam_roller;mat, ball"', "front"]) + "\n"
    path = write(tmp_path / "s.csv", text)
    assert settle(path).delimiter == delimiter
    assert read_head(path)[1] == ["r1", "foam_roller;mat, ball", "front"]


def test_utf16_with_a_bom_is_detected(tmp_path: Path) -> None:
    from hipcoach.batch.records import settle

    path = write(tmp_path / "s.tsv", "\ufeffrespondent_id\tage\nZoé\t30\n".encode("utf-16"))
    assert settle(path).encoding == "utf-16" and settle(path).delimiter == "\t"
    assert read_head(path) == [["respondent_id", "age"], ["Zoé", "30"]]
    assert read_head(path, "utf-16") == [["respondent_id", "age"], ["Zoé", "30"]]


def test_workbook_cells_read_as_a_csv_export_holds_them() -> None:
    import datetime

    from hipcoach.batch.records import cell_text

    assert [cell_text(v) for v in (None, 7, 7.0, 7.5, True, "x",
                                   datetime.datetime(2026, 11, 4, 19, 51, 43))] == \
        ["", "7", "7", "7.5", "true", "x", "2026-11-04 19:51:43"]


def test_a_nul_in_a_data_record_is_that_records_problem(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "respondent_id,age\nr1,3\x000\nr2,40\n")
    good, bad = all_rows(path, "plain", 2)
    assert good == [(3, ("r2", "40"))]
    assert [(b.line, b.problem) for b in bad] == [
        (2, "field 2 holds a NUL byte (binary data, or the wrong --encoding)")]


@pytest.mark.parametrize("layout,first", [
    ("microsoft", ["ID", "Start time", "Completion time", "Email", "Name", "How old are you?"]),
    ("typeform", ["#", "How old are you?", "Response Type", "Start Date (UTC)",
                  "Submit Date (UTC)", "Network ID"]),
    ("google", ["Timestamp", "Username", "How old are you?"]),
])
def test_new_layouts_are_detected(layout: str, first: list[str], answer_ids: set[str]) -> None:
    assert detect([first, ["1"] * len(first)], answer_ids) == layout


def test_a_header_naming_a_column_twice_is_refused() -> None:
    with pytest.raises(SurveyError, match="'age'"):
        header([["respondent_id", "age", "knee_pain", "age", "", ""]], "plain")
