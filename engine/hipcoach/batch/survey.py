"""Survey exports: their header layouts, and their data rows in chunks.

Forms tools export differently. Google Forms writes one header row of question texts with a
``Timestamp`` column first; Microsoft Forms starts with ``ID``, ``Start time`` and
``Completion time``; Typeform starts with ``#`` and ends with its ``Response Type``, dates and
``Network ID``; SurveyMonkey writes two header rows (the question, then the sub-answer, with one
column per option of a multiple-choice question); Qualtrics writes three (column ids, question
texts, and an ``{"ImportId": ...}`` row). A plain CSV has one header row of answer ids. This
module turns each into one list of column names and an iterator of checked data rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import SurveyError
from .records import DEFAULT_ENCODING, DELIMITER_NAMES, Dialect, records, settle

LAYOUTS = ("google", "microsoft", "typeform", "surveymonkey", "qualtrics", "plain")
HEADER_ROWS = {"google": 1, "microsoft": 1, "typeform": 1, "surveymonkey": 2, "qualtrics": 3,
               "plain": 1}
#: Each tool's own respondent id column, the first one present being used.
ID_COLUMNS = {"google": ("Email address", "Email Address", "Username", "Timestamp"),
              "microsoft": ("ID",), "typeform": ("#",), "surveymonkey": ("Respondent ID",),
              "qualtrics": ("ResponseId",), "plain": ("respondent_id",)}
#: Columns each tool adds of its own: known, and never an answer.
TOOL_COLUMNS = {
    "google": ("Timestamp", "Email address", "Email Address", "Username", "Score"),
    "microsoft": ("ID", "Start time", "Completion time", "Email", "Name", "Last modified time",
                  "Total points", "Quiz feedback"),
    "typeform": ("#", "Response Type", "Start Date (UTC)", "Stage Date (UTC)",
                 "Submit Date (UTC)", "Network ID", "Tags", "Ending"),
    "surveymonkey": ("Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address",
                     "Email Address", "First Name", "Last Name", "Custom Data 1"),
    "qualtrics": ("StartDate", "EndDate", "Status", "IPAddress", "Progress",
                  "Duration (in seconds)", "Finished", "RecordedDate", "ResponseId",
                  "RecipientLastName", "RecipientFirstName", "RecipientEmail",
                  "ExternalReference", "LocationLatitude", "LocationLongitude",
                  "DistributionChannel", "UserLanguage"),
    "plain": ("respondent_id",),
}
#: Only responses whose column holds this value are complete; the others are rejected.
COMPLETE = {"typeform": ("Response Type", "completed")}
#: SurveyMonkey's second header row says this for a column holding the whole answer.
MONKEY_WHOLE = ("", "response", "open-ended response")
#: A cell longer than this is a pasted document or a broken export, not an answer.
CELL_LIMIT = 128 * 1024
CHUNK_ROWS = 5_000


@dataclass(frozen=True)
class Header:
    layout: str
    columns: tuple[str, ...]  # the names a mapping refers to
    texts: tuple[str, ...]  # what each column asks, for `mapping init` and question matching


def read_head(path: Path, encoding: str = DEFAULT_ENCODING, delimiter: str | None = None,
              sheet: str | None = None, dialect: Dialect | None = None) -> list[list[str]]:
    """The first three non-blank records of the file (fewer if it is shorter)."""
    dialect = dialect or settle(path, encoding, delimiter, sheet)
    head = []
    for record in records(path, dialect):
        if record.problem is not None:
            if not head:
                raise SurveyError(f"{path}: header row {record.number} {record.problem}")
            break  # a bad data record: rejected with the rows, not a header problem
        if any(cell.strip() for cell in record.cells):
            head.append(list(record.cells))
            if len(head) == 3:
                break
    if not head:
        raise SurveyError(f"{path}: is empty; expected a header row and one row per respondent")
    return head


def detect(head: list[list[str]], answer_ids: set[str], prompts: set[str] = frozenset()) -> str:
    """The layout of an export, when the headers leave no doubt; else a SurveyError.

    ``prompts`` (lower-cased question texts) let a plain export carry the questions' own
    wording as headers."""
    first = [cell.strip() for cell in head[0]]
    if len(head) >= 3 and any(cell.strip().startswith('{"ImportId"') for cell in head[2]):
        return "qualtrics"
    if "Respondent ID" in first or (len(head) >= 2 and any(
            cell.strip().lower() in ("response", "open-ended response") for cell in head[1])):
        return "surveymonkey"
    if first and first[0] == "#" and {"Network ID", "Submit Date (UTC)"} & set(first):
        return "typeform"
    if first[:3] == ["ID", "Start time", "Completion time"]:
        return "microsoft"
    if first and first[0] == "Timestamp":
        return "google"
    named = [cell for cell in first if cell != "respondent_id"]
    known = sum(cell in answer_ids or cell.lower() in prompts for cell in named)
    if "respondent_id" in first and known * 2 >= len(named):
        return "plain"  # mostly answers; the rest are extra columns, warned about later
    if len(first) == 1 and any(d in first[0] for d in DELIMITER_NAMES):
        used = next(d for d in DELIMITER_NAMES if d in first[0])
        raise SurveyError(f"the header row is one column holding {DELIMITER_NAMES[used]}s: pass "
                          f"--delimiter {used!r} (the file is not split on the delimiter given)")
    raise SurveyError("cannot tell which tool exported this survey from its header rows; "
                      f"pass --format ({', '.join(LAYOUTS)})")


def header(head: list[list[str]], layout: str) -> Header:
    """Column names for ``layout``: the header cell (Google, Microsoft, Typeform, plain),
    'question | option' (SurveyMonkey, where a question's name spans its option columns), or the
    column id (Qualtrics). Two columns of one name are refused: either could be the answer."""
    if len(head) < HEADER_ROWS[layout]:
        raise SurveyError(f"a {layout} export has {HEADER_ROWS[layout]} header rows; this file "
                          f"has {len(head)} rows in all")
    first = [cell.strip() for cell in head[0]]
    if layout == "qualtrics":
        texts = [cell.strip() for cell in head[1]] + [""] * len(first)
        result = Header(layout, tuple(first), tuple(texts[:len(first)]))
    elif layout == "surveymonkey":
        names, question = [], ""
        subs = [cell.strip() for cell in head[1]] + [""] * len(first)
        for cell, sub in zip(first, subs):
            question = cell or question  # merged question cells export empty after the first
            names.append(question if sub.lower() in MONKEY_WHOLE else f"{question} | {sub}")
        result = Header(layout, tuple(names), tuple(names))
    else:
        result = Header(layout, tuple(first), tuple(first))
    twice = [name for name, count in Counter(result.columns).items() if count > 1 and name]
    if twice:
        raise SurveyError(f"the header has {len(twice)} name(s) on more than one column: "
                          f"{', '.join(repr(name) for name in twice)}; rename or remove the "
                          f"extra column(s), since either could hold the answer")
    return result


@dataclass(frozen=True)
class BadRecord:
    """A record that cannot be one respondent's row: the wrong number of fields, an oversized
    cell, a NUL byte, or a stray quote."""

    line: int  # its row number, as a spreadsheet shows it
    problem: str
    cells: tuple[str, ...] = ()  # what could be read of it, for its id


def count_rows(path: Path, layout: str, dialect: Dialect) -> int:
    """How many data records (not blank, not header) the file holds: the progress bar's goal."""
    count = 0
    for record in records(path, dialect):
        if any(cell.strip() for cell in record.cells) or record.problem:
            count += 1
    return max(0, count - HEADER_ROWS[layout])


def rows(path: Path, layout: str, width: int, encoding: str = DEFAULT_ENCODING,
         chunk_rows: int = CHUNK_ROWS, delimiter: str | None = None, sheet: str | None = None,
         dialect: Dialect | None = None
         ) -> Iterator[tuple[list[tuple[int, tuple[str, ...]]], list[BadRecord]]]:
    """Yield chunks of ``(row_number, cells)`` data rows (each exactly ``width`` strings), with
    the records of that chunk that cannot be a respondent's row.

    Row numbers count records as a spreadsheet shows them (the first header row is 1). Blank
    records (empty fields only, however many) are skipped and never returned. A record with
    fewer or more fields than the header is bad: padding it would score a respondent from
    defaults, and trimming it would drop what they said.
    """
    dialect = dialect or settle(path, encoding, delimiter, sheet)
    headers_left = HEADER_ROWS[layout]
    batch: list[tuple[int, tuple[str, ...]]] = []
    bad: list[BadRecord] = []
    for record in records(path, dialect):
        cells = record.cells
        if record.problem is None and not any(cell.strip() for cell in cells):
            continue
        if headers_left:
            headers_left -= 1
            continue
        problem = record.problem or _problem(cells, width)
        if problem is None:
            batch.append((record.number, cells))
        else:
            bad.append(BadRecord(record.number, problem, cells))
        if len(batch) + len(bad) >= chunk_rows:
            yield batch, bad
            batch, bad = [], []
    if batch or bad:
        yield batch, bad


def _problem(cells: tuple[str, ...], width: int) -> str | None:
    if len(cells) != width:
        return f"record has {len(cells)} fields, the header has {width}"
    if max(map(len, cells), default=0) <= CELL_LIMIT and "\x00" not in "".join(cells):
        return None  # the common case, checked in C
    for position, cell in enumerate(cells, start=1):
        if len(cell) > CELL_LIMIT:
            return (f"field {position} holds {len(cell) // 1024} KiB of text, over the "
                    f"{CELL_LIMIT // 1024} KiB a cell may hold")
        if "\x00" in cell:
            return f"field {position} holds a NUL byte (binary data, or the wrong --encoding)"
    return None
