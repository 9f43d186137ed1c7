"""Survey exports: their header layouts, and reading their rows in chunks with pandas.

Forms tools export differently: Google Forms writes one header row of question texts (with a
``Timestamp`` column first); SurveyMonkey writes two (the question, then the sub-answer, with
one column per option of a multiple-choice question); Qualtrics writes three (column ids,
question texts, and an ``{"ImportId": ...}`` row). A plain CSV has one header row of answer ids.
This module turns each into one list of column names and an iterator of data rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import SurveyError

LAYOUTS = ("google", "surveymonkey", "qualtrics", "plain")
HEADER_ROWS = {"google": 1, "surveymonkey": 2, "qualtrics": 3, "plain": 1}
#: SurveyMonkey's second header row says this for a column holding the whole answer.
MONKEY_WHOLE = ("", "response", "open-ended response")
CHUNK_ROWS = 20_000


@dataclass(frozen=True)
class Header:
    layout: str
    columns: tuple[str, ...]  # the names a mapping refers to
    texts: tuple[str, ...]  # what each column asks, for `mapping init`


def read_head(path: Path, encoding: str) -> list[list[str]]:
    """The first three records of the file (fewer if it is shorter)."""
    _check_text(path)
    try:
        with open(path, encoding=encoding, newline="") as stream:
            reader = csv.reader(stream)
            rows = []
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                rows.append(row)
                if len(rows) == 3:
                    break
    except UnicodeDecodeError:
        raise SurveyError(f"{path}: not {encoding} text; export the survey as UTF-8 CSV, or pass "
                          f"--encoding (for example latin-1)") from None
    except csv.Error as exc:
        raise SurveyError(f"{path}: not a readable CSV file: {exc}") from None
    except OSError as exc:
        raise SurveyError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not rows:
        raise SurveyError(f"{path}: is empty; expected a header row and one row per respondent")
    return rows


def _check_text(path: Path) -> None:
    """Refuse a spreadsheet or other binary file before trying to decode it as text."""
    try:
        with open(path, "rb") as stream:
            start = stream.read(4096)
    except OSError as exc:
        raise SurveyError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if start.startswith(b"PK\x03\x04") or start.startswith(b"\xd0\xcf\x11\xe0"):
        raise SurveyError(f"{path}: is a spreadsheet (Excel or similar), not CSV; export or "
                          f"'save as' CSV (UTF-8) first")
    if b"\x00" in start:
        raise SurveyError(f"{path}: not a CSV file (it holds binary data)")


def detect(head: list[list[str]], answer_ids: set[str]) -> str:
    """The layout of an export, when the headers leave no doubt; else a SurveyError."""
    first = [cell.strip() for cell in head[0]]
    if len(head) >= 3 and any(cell.strip().startswith('{"ImportId"') for cell in head[2]):
        return "qualtrics"
    if "Respondent ID" in first or (len(head) >= 2 and any(
            cell.strip().lower() in ("response", "open-ended response") for cell in head[1])):
        return "surveymonkey"
    if first and first[0] == "Timestamp":
        return "google"
    named = [cell for cell in first if cell != "respondent_id"]
    if "respondent_id" in first and sum(cell in answer_ids for cell in named) * 2 >= len(named):
        return "plain"  # mostly answer ids; the rest are extra columns, warned about later
    raise SurveyError("cannot tell which tool exported this survey from its header rows; "
                      f"pass --format ({', '.join(LAYOUTS)})")


def header(head: list[list[str]], layout: str) -> Header:
    """Column names for ``layout``: the header cell (Google, plain), 'question | option'
    (SurveyMonkey, where a question's name spans its option columns), or the column id
    (Qualtrics)."""
    if len(head) < HEADER_ROWS[layout]:
        raise SurveyError(f"a {layout} export has {HEADER_ROWS[layout]} header rows; this file "
                          f"has {len(head)} rows in all")
    first = [cell.strip() for cell in head[0]]
    if layout in ("google", "plain"):
        return Header(layout, tuple(first), tuple(first))
    if layout == "qualtrics":
        texts = [cell.strip() for cell in head[1]] + [""] * len(first)
        return Header(layout, tuple(first), tuple(texts[:len(first)]))
    names, texts, question = [], [], ""
    subs = [cell.strip() for cell in head[1]] + [""] * len(first)
    for cell, sub in zip(first, subs):
        question = cell or question  # merged question cells export empty after the first
        name = question if sub.lower() in MONKEY_WHOLE else f"{question} | {sub}"
        names.append(name)
        texts.append(name)
    return Header(layout, tuple(names), tuple(texts))


class _Counting(io.RawIOBase):
    """A binary reader that reports how many bytes have been read, for the progress bar."""

    def __init__(self, raw: IO[bytes], progress: Callable[[int], None]) -> None:
        self.raw = raw
        self.progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.raw.readinto(buffer)
        if count:
            self.progress(count)
        return count or 0


@dataclass(frozen=True)
class BadRecord:
    """A record pandas could not split into the header's columns (too many fields)."""

    line: int
    problem: str
    cells: tuple[str, ...] = ()  # the record as the csv module reads it, for its id


class _Lines:
    """Reads given lines of a file, in ascending order, without holding the file in memory:
    pandas names a malformed record only by its line, and we want to see what it holds."""

    def __init__(self, path: Path, encoding: str) -> None:
        self.stream = open(path, encoding=encoding, newline="")  # noqa: SIM115 (closed by close())
        self.number = 0
        self.text = ""

    def cells(self, line: int) -> tuple[str, ...]:
        while self.number < line:
            self.text = self.stream.readline()
            self.number += 1
            if not self.text:
                return ()
        return tuple(next(csv.reader([self.text]), []))

    def close(self) -> None:
        self.stream.close()


def rows(path: Path, layout: str, width: int, encoding: str,
         progress: Callable[[int], None] | None = None, chunk_rows: int = CHUNK_ROWS
         ) -> Iterator[tuple[list[tuple[int, tuple[str, ...]]], list[BadRecord]]]:
    """Yield chunks of ``(row_number, cells)`` data rows (each ``width`` strings), with the
    malformed records pandas skipped in that chunk.

    Row numbers count records as a spreadsheet shows them (the first header row is 1; pandas
    reports a malformed record by its line, which is its record number unless an earlier cell
    held a line break); blank records are skipped and never returned. pandas parses (quoted
    newlines, Windows line ends, a UTF-8 BOM with ``utf-8-sig``); a record with more fields
    than the header is reported, by its line, instead of stopping the batch.
    """
    import warnings

    import pandas as pd  # only batch scoring pays for pandas

    skip = HEADER_ROWS[layout]
    lines = _Lines(path, encoding)
    with open(path, "rb") as raw:
        stream: IO[bytes] = raw
        if progress is not None:
            stream = io.BufferedReader(_Counting(raw, progress))
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", pd.errors.ParserWarning)
                reader = pd.read_csv(stream, header=None, dtype=str, keep_default_na=False,
                                     skip_blank_lines=False, names=range(width), index_col=False,
                                     chunksize=chunk_rows, encoding=encoding, engine="c",
                                     on_bad_lines="warn")
                number, headers_left = 0, skip
                skipped: list[int] = []  # lines of malformed records pandas left out, ascending
                for frame in reader:
                    bad = [b for w in caught if issubclass(w.category, pd.errors.ParserWarning)
                           for b in _bad_record(str(w.message))]
                    caught.clear()
                    skipped.extend(b.line for b in bad)
                    bad = [BadRecord(b.line, b.problem, lines.cells(b.line)) for b in bad]
                    # a record of empty fields only (",,,,," from a spreadsheet) is a blank line
                    bad = [b for b in bad if any(cell.strip() for cell in b.cells)]
                    batch = []
                    # one bulk conversion: iterating pandas' string arrays cell by cell is slow
                    for values in frame.to_numpy(dtype=object, na_value="").tolist():
                        number += 1
                        # a record pandas skipped still had its number: step over it
                        while number in skipped:
                            number += 1
                        cells = tuple(values)
                        if not any(cell.strip() for cell in cells):
                            continue
                        if headers_left:
                            headers_left -= 1
                            continue
                        batch.append((number, cells))
                    yield batch, bad
        except UnicodeDecodeError:
            raise SurveyError(f"{path}: not {encoding} text; export the survey as UTF-8 CSV, or "
                              f"pass --encoding (for example latin-1)") from None
        except pd.errors.ParserError as exc:
            raise SurveyError(f"{path}: not a readable CSV file: {' '.join(str(exc).split())}") from None
        finally:
            lines.close()


def _bad_record(message: str) -> list[BadRecord]:
    """pandas reports skipped records as 'Skipping line N: expected A fields, saw B' lines."""
    found = []
    for line in message.splitlines():
        line = line.strip().strip("b'\"")
        if line.startswith("Skipping line"):
            head, _, problem = line.partition(":")
            found.append(BadRecord(int(head.split()[-1]), problem.strip()))
    return found
