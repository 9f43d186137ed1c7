"""Survey exports: their header layouts, and their data rows in chunks.

Forms tools export differently. Each layout is one entry of :data:`LAYOUTS` (a :class:`Layout`):
how its header rows are told apart from other tools', how many there are and how they name
the columns, the tool's own respondent id and bookkeeping columns, how it joins ticked boxes in
one cell, and the markers of a response that is not a finished, real one (an unfinished
Qualtrics response, a Qualtrics preview, a LimeSurvey response with no ``submitdate``, an
incomplete REDCap record). Adding a layout is adding an entry.

Google Forms writes one header row of question texts with a ``Timestamp`` column first;
Microsoft Forms starts with ``ID``, ``Start time`` and ``Completion time``; Typeform starts with
``#`` and ends with its ``Response Type``, dates and ``Network ID``; SurveyMonkey writes two
header rows (the question, then the sub-answer, with one column per option of a multiple-choice
question); Qualtrics writes three (column ids, question texts, and an ``{"ImportId": ...}``
row). REDCap's raw export names columns by field name (``field___code`` for each option of a
checkbox field, holding ``1``/``0``) and its label export by label (``Label (choice=Option)``,
``Checked``/``Unchecked``), each ending an instrument with its ``..._complete`` status.
KoboToolbox (ODK) names columns ``group/question`` (and ``group/question/option`` for each
option of a select-multiple, holding ``1``/``0``, beside the summary column of space-joined
codes) and adds ``_uuid``, ``_submission_time`` and other ``_`` columns. LimeSurvey starts with
``id``, ``submitdate`` (empty for an unfinished response), ``lastpage`` and ``startlanguage``
(``Response ID``, ``Date submitted``, ... with full headings), one column per option of a
multiple-choice question, ``Question [Option]``. Jotform starts with ``Submission Date`` and puts
each ticked option on a line of its own in one cell. A plain CSV has one header row of answer
ids. This module turns each into one list of column names and an iterator of checked data rows.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Callable, Iterator, Set
from dataclasses import dataclass
from pathlib import Path

from ..errors import SurveyError
from .records import DEFAULT_ENCODING, DELIMITER_NAMES, Dialect, records, settle

#: The header rows of an export, as read: up to three records of cells.
Head = list[list[str]]


@dataclass(frozen=True)
class Marker:
    """A tool column saying whether a row is a finished, real response.

    ``column`` is the column's name or a glob (REDCap names the status of each instrument
    ``<instrument>_complete``). A row is a response when its cell (trimmed, in any case) is one
    of ``only`` (if given), is none of ``never``, and is not empty if ``filled``."""

    column: str
    why: str  # what a row failing it is, for errors.csv: "an unfinished response"
    only: frozenset[str] = frozenset()
    never: frozenset[str] = frozenset()
    filled: bool = False

    def columns(self, names: tuple[str, ...]) -> list[str]:
        return [name for name in names if fnmatch.fnmatchcase(name, self.column)]

    def holds(self, cell: str) -> bool:
        text = cell.strip().lower()
        if self.filled and not text:
            return False
        if self.only and text not in self.only:
            return False
        return text not in self.never

    def problem(self, column: str, cell: str) -> str:
        wanted = (f"only {' or '.join(repr(v) for v in sorted(self.only))} is scored"
                  if self.only else "it is empty" if self.filled and not cell.strip()
                  else f"{' and '.join(repr(v) for v in sorted(self.never))} are never scored")
        return f"{self.why}: {column} is {cell.strip()!r}; {wanted}"


def _words(*values: str) -> frozenset[str]:
    return frozenset(value.lower() for value in values)


def _cell_names(head: Head) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Column names and texts from one header row of names."""
    first = tuple(cell.strip() for cell in head[0])
    return first, first


def _spanned_names(head: Head) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """SurveyMonkey: 'question | option', where a question's name spans its option columns."""
    names, question = [], ""
    first = [cell.strip() for cell in head[0]]
    subs = [cell.strip() for cell in head[1]] + [""] * len(first)
    for cell, sub in zip(first, subs):
        question = cell or question  # merged question cells export empty after the first
        names.append(question if sub.lower() in MONKEY_WHOLE else f"{question} | {sub}")
    return tuple(names), tuple(names)


def _id_row_names(head: Head) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Qualtrics: the column ids name the columns, the second row says what each asks."""
    first = tuple(cell.strip() for cell in head[0])
    texts = [cell.strip() for cell in head[1]] + [""] * len(first)
    return first, tuple(texts[:len(first)])


def _first(head: Head) -> list[str]:
    return [cell.strip() for cell in head[0]]


#: SurveyMonkey's second header row says this for a column holding the whole answer.
MONKEY_WHOLE = ("", "response", "open-ended response")
#: REDCap's checkbox columns: ``field___code`` (raw) or ``Label (choice=Option)`` (labels).
REDCAP_OPTION = re.compile(r"^[a-z][a-z0-9_]*___[A-Za-z0-9_-]+$")
REDCAP_LABEL_OPTION = re.compile(r"^(?P<question>.+) \(choice=(?P<option>.+)\)$", re.DOTALL)
#: LimeSurvey's multiple-choice columns: ``Question [Option]``.
LIME_OPTION = re.compile(r"^(?P<question>.+?) ?\[(?P<option>[^\[\]]+)\]$", re.DOTALL)


def _qualtrics(head: Head) -> bool:
    return len(head) >= 3 and any(cell.strip().startswith('{"ImportId"') for cell in head[2])


def _surveymonkey(head: Head) -> bool:
    return "Respondent ID" in _first(head) or (len(head) >= 2 and any(
        cell.strip().lower() in ("response", "open-ended response") for cell in head[1]))


def _typeform(head: Head) -> bool:
    first = _first(head)
    return bool(first) and first[0] == "#" and bool({"Network ID", "Submit Date (UTC)"} & set(first))


def _microsoft(head: Head) -> bool:
    return _first(head)[:3] == ["ID", "Start time", "Completion time"]


def _google(head: Head) -> bool:
    first = _first(head)
    return bool(first) and first[0] == "Timestamp"


def _limesurvey(head: Head) -> bool:
    first = _first(head)
    return first[:2] in (["id", "submitdate"], ["Response ID", "Date submitted"])


def _redcap(head: Head) -> bool:
    first = _first(head)
    if first[:1] == ["record_id"] or "redcap_survey_identifier" in first:
        return any(cell.endswith("_complete") for cell in first)
    return first[:1] == ["Record ID"] and "Complete?" in first


def _kobo(head: Head) -> bool:
    first = set(_first(head))
    return {"_uuid", "_submission_time"} <= first


def _jotform(head: Head) -> bool:
    first = _first(head)
    return bool(first) and first[0] == "Submission Date"


@dataclass(frozen=True)
class Layout:
    """One tool's export: everything the rest of the pipeline needs to know about it."""

    name: str
    tool: str  # the tool and export, for people
    #: whether a head of header rows is this tool's beyond doubt (None: never detected by it)
    detect: Callable[[Head], bool] | None
    #: the tool's own respondent id columns, the first one present being used
    ids: tuple[str, ...]
    #: columns the tool adds of its own: known, and never an answer
    tool_columns: tuple[str, ...] = ()
    header_rows: int = 1
    names: Callable[[Head], tuple[tuple[str, ...], tuple[str, ...]]] = _cell_names
    #: the markers of a finished, real response (rows failing one are rejected)
    markers: tuple[Marker, ...] = ()
    #: how it joins several ticks in one cell (None: one column per option)
    joiner: str | None = None
    #: tool columns matched by glob, such as REDCap's ``*_complete``
    tool_globs: tuple[str, ...] = ()

    def known(self, column: str) -> bool:
        """Whether ``column`` is one of the tool's own."""
        return column in self.tool_columns or any(
            fnmatch.fnmatchcase(column, glob) for glob in self.tool_globs)


_QUALTRICS_TESTS = _words("Survey Preview", "Survey Test", "Spam", "Preview Spam",
                          "Imported Spam", "Offline Survey Preview", "1", "2", "8", "9", "12", "17")

#: Every layout, in the order they are tried when detecting one.
LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (
    Layout("qualtrics", "Qualtrics, three header rows: column ids, questions, "
                        "{\"ImportId\": ...}; CSV or its UTF-16 TSV", _qualtrics,
           ("ResponseId",),
           ("StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
            "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
            "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
            "DistributionChannel", "UserLanguage"),
           header_rows=3, names=_id_row_names, joiner=",",
           markers=(Marker("Finished", "an unfinished response", only=_words("true", "1")),
                    Marker("Status", "a preview, test or spam response",
                           never=_QUALTRICS_TESTS))),
    Layout("surveymonkey", "SurveyMonkey, two header rows: question and option", _surveymonkey,
           ("Respondent ID",),
           ("Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address",
            "Email Address", "First Name", "Last Name", "Custom Data 1"),
           header_rows=2, names=_spanned_names),
    Layout("typeform", "Typeform CSV", _typeform, ("#",),
           ("#", "Response Type", "Start Date (UTC)", "Stage Date (UTC)", "Submit Date (UTC)",
            "Network ID", "Tags", "Ending"), joiner=", ",
           markers=(Marker("Response Type", "a partial response", only=_words("completed")),
                    Marker("Submit Date (UTC)", "a partial response (never submitted)",
                           filled=True))),
    Layout("microsoft", "Microsoft Forms, .xlsx (its default) or CSV", _microsoft, ("ID",),
           ("ID", "Start time", "Completion time", "Email", "Name", "Last modified time",
            "Total points", "Quiz feedback"), joiner=";"),
    Layout("google", "Google Forms' CSV download, or its linked Google Sheet as CSV", _google,
           ("Email address", "Email Address", "Username", "Timestamp"),
           ("Timestamp", "Email address", "Email Address", "Username", "Score"), joiner=", "),
    Layout("limesurvey", "LimeSurvey CSV, question codes or full question texts as headings",
           _limesurvey, ("id", "Response ID"),
           ("id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp",
            "ipaddr", "refurl", "token", "Response ID", "Date submitted", "Last page",
            "Start language", "Seed", "Date started", "Date last action", "IP address",
            "Referrer URL", "Access code", "Token"),
           markers=(Marker("submitdate", "an unfinished response (never submitted)", filled=True),
                    Marker("Date submitted", "an unfinished response (never submitted)",
                           filled=True))),
    Layout("redcap", "REDCap CSV, raw or with labels", _redcap, ("record_id", "Record ID"),
           ("record_id", "redcap_survey_identifier", "Record ID", "Survey Identifier",
            "Survey Timestamp", "Complete?", "redcap_event_name", "Event Name",
            "redcap_repeat_instrument", "redcap_repeat_instance", "Repeat Instrument",
            "Repeat Instance", "redcap_data_access_group", "Data Access Group"),
           tool_globs=("*_complete", "*_timestamp"),
           markers=(Marker("*_complete", "an incomplete record (its form is not marked Complete)",
                           only=_words("2")),
                    Marker("Complete?", "an incomplete record (its form is not marked Complete)",
                           only=_words("Complete")))),
    Layout("kobo", "KoboToolbox or ODK CSV, XML names or labels as headers", _kobo, ("_uuid",),
           ("start", "end", "today", "deviceid", "username", "audit", "_id", "_uuid",
            "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by",
            "__version__", "_tags", "_index", "meta/instanceID", "meta/rootUuid",
            "meta/deprecatedID", "formhub/uuid"), joiner=" ",
           markers=(Marker("_validation_status", "a submission marked not approved",
                           never=_words("validation_status_not_approved", "Not Approved")),)),
    Layout("jotform", "Jotform CSV or Excel download", _jotform,
           ("Submission ID", "Submission Date"),
           ("Submission Date", "Submission ID", "Submission IP", "Last Update Date",
            "Submission Edit URL"), joiner="\n"),
    Layout("plain", "a table you make: answer ids (or prompts) as headers", None,
           ("respondent_id",), ("respondent_id",)),
)}
#: A cell longer than this is a pasted document or a broken export, not an answer.
CELL_LIMIT = 128 * 1024
CHUNK_ROWS = 5_000


def split_option(name: str) -> tuple[str, str] | None:
    """A one-column-per-option column's ``(question, option)``, as the tools name them:
    ``question | option`` (SurveyMonkey), ``Question [Option]`` (LimeSurvey), ``Label
    (choice=Option)`` (REDCap labels), ``field___code`` (REDCap raw), ``group/question/option``
    (KoboToolbox); None for a column of any other name."""
    asked, bar, option = name.rpartition(" | ")
    if bar and asked and option:
        return asked, option
    for pattern in (REDCAP_LABEL_OPTION, LIME_OPTION):
        match = pattern.match(name)
        if match:
            return match["question"].strip(), match["option"].strip()
    if REDCAP_OPTION.match(name):
        asked, _, option = name.rpartition("___")
        return asked, option
    asked, slash, option = name.rpartition("/")
    if slash and asked and option:
        return asked, option
    return None


@dataclass(frozen=True)
class Header:
    layout: str
    columns: tuple[str, ...]  # the names a mapping refers to
    texts: tuple[str, ...]  # what each column asks, for `mapping init` and question matching


def read_head(path: Path, encoding: str = DEFAULT_ENCODING, delimiter: str | None = None,
              sheet: str | None = None, dialect: Dialect | None = None) -> Head:
    """The first three non-blank records of the file (fewer if it is shorter)."""
    dialect = dialect or settle(path, encoding, delimiter, sheet)
    head: Head = []
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


def detect(head: Head, answer_ids: Set[str], prompts: Set[str] = frozenset()) -> str:
    """The layout of an export, when the headers leave no doubt; else a SurveyError.

    ``prompts`` (lower-cased question texts) let a plain export carry the questions' own
    wording as headers."""
    for layout in LAYOUTS.values():
        if layout.detect is not None and layout.detect(head):
            return layout.name
    first = _first(head)
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


def header(head: Head, layout: str) -> Header:
    """Column names for ``layout`` (see :attr:`Layout.names`). Two columns of one name are
    refused: either could be the answer."""
    rows_needed = LAYOUTS[layout].header_rows
    if len(head) < rows_needed:
        raise SurveyError(f"a {layout} export has {rows_needed} header rows; this file "
                          f"has {len(head)} rows in all")
    columns, texts = LAYOUTS[layout].names(head)
    result = Header(layout, columns, texts)
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
    return max(0, count - LAYOUTS[layout].header_rows)


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
    headers_left = LAYOUTS[layout].header_rows
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
