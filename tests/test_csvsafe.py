"""CSV cells that are safe to open in a spreadsheet (hipcoach.batch.csvsafe)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hipcoach.batch.csvsafe import TRIGGERS, neutralise, row_text


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "=1+1", "+1", "-2", "@x", "@SUM(A1:A2)",
                                  "\tx", "\rx", "=", "-", "+", "@"])
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["", "r01", "a=b", "1+1", "x-2", "mail@example.org", "'=x",
                                  " =x", "\n=x", "plan", "foam_roller;mat"])
def test_harmless_text_is_unchanged(cell: str) -> None:
    assert neutralise(cell) == cell


@pytest.mark.parametrize("value", [-2, -0.5, 0, 17.5, True, None])
def test_non_text_values_are_unchanged(value: object) -> None:
    assert neutralise(value) is value


def test_the_triggers_are_the_ones_spreadsheets_run() -> None:
    assert set(TRIGGERS) == {"=", "+", "-", "@", "\t", "\r"}


def test_row_text_is_one_newline_terminated_record() -> None:
    assert row_text(["a", 1, 17.5, "b"]) == "a,1,17.5,b\n"
    assert row_text([]) == "\n"


def test_row_text_neutralises_every_cell() -> None:
    text = row_text(["=1+1", "ok", "+1", "-2", "@x", "\tx"])
    assert parse(text) == [["'=1+1", "ok", "'+1", "'-2", "'@x", "'\tx"]]


def test_row_text_quotes_commas_quotes_and_newlines() -> None:
    text = row_text(["a,b", 'say "hi"', "two\nlines", "=a,b"])
    assert text == '"a,b","say ""hi""","two\nlines","\'=a,b"\n'
    assert parse(text) == [["a,b", 'say "hi"', "two\nlines", "'=a,b"]]




def test_a_leading_carriage_return_cell_round_trips_neutralised() -> None:
    assert parse(row_text(["\r=x", "y"])) == [["'\r=x", "y"]]


def test_a_carriage_return_inside_a_cell_stays_in_one_record() -> None:
    assert parse(row_text(["x\r=1+2", "plan"])) == [["x\r=1+2", "plan"]]


@given(st.lists(st.text(st.characters(exclude_characters="\r"), max_size=12), max_size=6))
def test_row_text_round_trips_and_no_cell_starts_with_a_trigger(cells: list[str]) -> None:
    # carriage returns inside cells are covered by the tests above
    text = row_text(cells)
    assert text.endswith("\n")
    parsed = parse(text)
    if cells:
        assert parsed == [[neutralise(cell) for cell in cells]]
        assert not any(cell.startswith(TRIGGERS) for cell in parsed[0])
