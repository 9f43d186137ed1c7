"""The records of a survey export file, whatever wrote it: CSV in any common dialect, or .xlsx.

Forms tools and spreadsheets write the same table in many ways: comma-, semicolon- (Excel in
much of Europe) or tab-delimited (Qualtrics' TSV), UTF-8 with or without a byte-order mark,
UTF-16 with one, or an Excel workbook (Microsoft Forms' default download). This module settles
which (:func:`settle`) and yields the records in it (:func:`records`), each numbered as a
spreadsheet numbers its rows, so the rest of the pipeline sees one thing: rows of text cells.

Excel writes (and reads) a first line ``sep=;`` naming the delimiter; it is honoured and is not
a record (Excel does not show it either).

A record that cannot be parsed as written (a stray quote inside a cell) comes with a problem
instead of stopping the batch. A quote that never closes swallows the rest of the file: nothing
after it can be trusted, so it refuses the whole file, naming the line where it opened.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..errors import SurveyError

DELIMITERS = (",", ";", "\t")
#: What a delimiter is called in messages.
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
#: Enough text to tell the delimiter from the first records.
SNIFF_CHARS = 64 * 1024
#: A quoted cell longer than this is taken for a quote that never closes.
RUNAWAY_CHARS = 64 * 2**20
DEFAULT_ENCODING = "utf-8-sig"
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls, .doc and friends


@dataclass(frozen=True)
class Dialect:
    """How one export file is written: what :func:`records` needs to read it."""

    kind: str  # "csv" or "xlsx"
    encoding: str = DEFAULT_ENCODING
    delimiter: str = ","
    sheet: str | None = None
    #: whether the file starts with Excel's ``sep=X`` line, skipped when reading records
    sep_line: bool = False


@dataclass(frozen=True)
class Record:
    """One record: its row as a spreadsheet shows it (the first record is 1), its cells, and
    why it cannot be read as written, if it cannot."""

    number: int
    cells: tuple[str, ...]
    problem: str | None = None


def settle(path: Path, encoding: str = DEFAULT_ENCODING, delimiter: str | None = None,
           sheet: str | None = None) -> Dialect:
    """The dialect of ``path``: a workbook, or CSV with its encoding and delimiter (detected from
    the first records unless ``delimiter`` is given). Refuses a file that is neither."""
    start = _start(path)
    if start.startswith(ZIP_MAGIC):
        return Dialect("xlsx", encoding, ",", sheet)
    if sheet is not None:
        raise SurveyError(f"{path}: --sheet applies to .xlsx workbooks; this file is text")
    if start.startswith(OLE2_MAGIC):
        raise SurveyError(f"{path}: is an old-style Excel (.xls) or other binary file, which "
                          f"hipcoach does not read; save it as .xlsx or CSV (UTF-8) first")
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if encoding == DEFAULT_ENCODING:
            encoding = "utf-16"  # the byte-order mark says so; Qualtrics' TSV export is UTF-16
    elif _binary(start):
        raise SurveyError(f"{path}: not a CSV file (it holds binary data)")
    named = _sep_line(path, encoding)
    if named is not None and delimiter is not None and named != delimiter:
        raise SurveyError(f"{path}: its first line, sep={named}, says the delimiter is "
                          f"{DELIMITER_NAMES.get(named, repr(named))}, but --delimiter gives "
                          f"{delimiter!r}; leave --delimiter out, or remove the sep= line")
    if delimiter is None:
        delimiter = named or _sniff(_sample(path, encoding))
    return Dialect("csv", encoding, delimiter, sep_line=named is not None)


SEP_LINE = re.compile(r"^\ufeff?sep=(.)\r?\n?$")


def _sep_line(path: Path, encoding: str) -> str | None:
    """The delimiter named by Excel's ``sep=X`` first line, or None when there is none."""
    with _open(path, encoding) as stream:
        try:
            first = stream.readline(64)
        except UnicodeDecodeError:
            raise _not_encoded(path, encoding) from None
    match = SEP_LINE.match(first)
    return match.group(1) if match else None


def _start(path: Path) -> bytes:
    try:
        with open(path, "rb") as stream:
            return stream.read(4096)
    except OSError as exc:
        raise SurveyError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _binary(start: bytes) -> bool:
    """Binary data, not text: a NUL in the header line, or a control byte that no text export
    holds (a NUL in a later record is that record's problem, not the file's: a cell can carry
    one, and the rest of the file is still worth scoring)."""
    if b"\x00" in start.split(b"\n", 1)[0]:
        return True
    return any(byte < 32 and byte not in b"\x00\t\n\r\f" for byte in start)


def delimiter_hint(path: Path, dialect: Dialect) -> str:
    """A sentence for an unreadable header when the file looks split by another delimiter than
    the one it was read with (so the fix is --delimiter, not --format); else ''."""
    if dialect.kind != "csv":
        return ""
    try:
        likely = _sniff(_sample(path, dialect.encoding))
    except SurveyError:
        return ""
    if likely == dialect.delimiter:
        return ""
    return (f"the file looks {DELIMITER_NAMES[likely]}-delimited, but was read as "
            f"{DELIMITER_NAMES.get(dialect.delimiter, repr(dialect.delimiter))}-delimited: pass "
            f"--delimiter {likely!r}, or leave --delimiter out to detect it")


def _sample(path: Path, encoding: str) -> str:
    with _open(path, encoding) as stream:
        try:
            if _sep_line(path, encoding) is not None:
                stream.readline()
            text = stream.read(SNIFF_CHARS)
        except UnicodeDecodeError:
            raise _not_encoded(path, encoding) from None
        if stream.read(1):  # cut at a record boundary, as far as one can tell
            text = text[:text.rfind("\n") + 1] or text
    return text


def _sniff(sample: str) -> str:
    """The delimiter under which the header is widest and the records agree with it.

    ``csv.Sniffer`` guesses from character frequencies and is easily misled by punctuation
    inside quoted labels; parsing the first records under each candidate and keeping the one
    that gives a consistent table is slower but right on every export we have seen.
    """
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        widths = []
        try:
            for row in csv.reader(sample.splitlines(), delimiter=delimiter):
                if any(cell.strip() for cell in row):
                    widths.append(len(row))
                if len(widths) == 50:
                    break
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        agree = sum(width == widths[0] for width in widths) / len(widths)
        score = (agree, widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _open(path: Path, encoding: str) -> TextIO:
    try:
        return open(path, encoding=encoding, newline="")
    except OSError as exc:
        raise SurveyError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _not_encoded(path: Path, encoding: str) -> SurveyError:
    return SurveyError(f"{path}: not {encoding} text; export the survey as UTF-8 CSV, or pass "
                       f"--encoding (for example latin-1)")


def records(path: Path, dialect: Dialect) -> Iterator[Record]:
    """Every record of the file in order, blank ones included (a spreadsheet numbers them too)."""
    if dialect.kind == "xlsx":
        yield from _workbook_records(path, dialect.sheet)
    else:
        yield from _csv_records(path, dialect)


def _csv_records(path: Path, dialect: Dialect) -> Iterator[Record]:
    # The limit is process-wide; raising it is harmless, and cells between the per-cell limit
    # (checked by the caller, so one record is rejected) and this one are read whole.
    csv.field_size_limit(max(csv.field_size_limit(), RUNAWAY_CHARS))
    with _open(path, dialect.encoding) as stream:
        skipped = 0
        if dialect.sep_line:
            stream.readline()
            skipped = 1
        reader = csv.reader(stream, delimiter=dialect.delimiter, strict=True)
        number = 0
        while True:
            opened = reader.line_num + 1 + skipped  # the line this record starts on
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise _not_encoded(path, dialect.encoding) from None
            except csv.Error as exc:
                number += 1
                problem = str(exc)
                if problem.startswith(("unexpected end of data", "field larger than")):
                    raise SurveyError(
                        f"{path}: line {opened}: a quote opens here and never closes, so the "
                        f"rest of the file is inside one cell; fix the quote and score again"
                    ) from None
                yield Record(number, (), f"cannot be read as CSV: {problem} (a stray quote "
                                         f"inside a cell?)")
                continue
            number += 1
            if number == 1 and cells and cells[0].startswith("\ufeff"):
                cells[0] = cells[0][1:]  # a byte-order mark the encoding did not consume
            yield Record(number, tuple(cells))


def _workbook_records(path: Path, sheet: str | None) -> Iterator[Record]:
    """Rows of one worksheet, read with openpyxl in read-only mode (it streams, and its rows
    keep their spreadsheet numbers), cell values as the text a CSV export would hold."""
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - a declared dependency
        raise SurveyError(f"{path}: reading .xlsx needs openpyxl (pip install openpyxl)") from None
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike: not a workbook we can read
        raise SurveyError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: "
                          f"{exc}); save it as .xlsx or CSV (UTF-8) again") from None
    try:
        names = book.sheetnames
        if sheet is None:
            if not names:
                raise SurveyError(f"{path}: the workbook has no sheets")
            sheet = names[0]
        elif sheet not in names:
            raise SurveyError(f"{path}: no sheet {sheet!r}; sheets: "
                              f"{', '.join(repr(n) for n in names)}")
        for number, row in enumerate(book[sheet].iter_rows(values_only=True), start=1):
            yield Record(number, tuple(cell_text(value) for value in row))
    finally:
        book.close()


def cell_text(value: Any) -> str:
    """A workbook cell as the text a CSV export of it holds: whole numbers without '.0',
    dates in ISO form, nothing for an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)
