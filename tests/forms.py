"""Exports of a form built from the questionnaire, written as each forms tool writes them.

Every fixture is made from one plain twin (examples/surveys/plain.csv: answer ids as headers,
answer values as cells), so they stay in step with the questionnaire and with each other: the
prompts become the question titles, the labels the options, booleans Yes/No, numbers numbers.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import EXAMPLES
from hipcoach.kb.bundled import knowledge_dir
from hipcoach.kb.knowledge import KnowledgeBase, Question, load_knowledge

PLAIN = EXAMPLES / "surveys" / "plain.csv"
KB: KnowledgeBase = load_knowledge(knowledge_dir())


def twin() -> list[dict[str, str]]:
    """The plain twin's rows: respondent_id plus one cell per answer id of the questionnaire;
    an answer the twin has no column for (one added since) is answered with its default."""
    with open(PLAIN, encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    return [{"respondent_id": row["respondent_id"],
             **{q.id: row[q.id] if q.id in row else plain_cell(q.default) for q in KB.questions.values()}}
            for row in rows]


def plain_cell(value: Any) -> str:
    """An answer as the plain twin writes it: yes/no, numbers as numbers, ticks joined with ';'."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


def labels(question: Question, cell: str) -> list[str]:
    """A plain list cell ("foam_roller;mat") as the labels a respondent ticked."""
    by_value = {choice.value: choice.label for choice in question.choices}
    return [by_value[v] for v in cell.split(";") if v]


def shown(question: Question, cell: str, joiner: str = ", ") -> str:
    """A plain cell as a form shows the answer: a label, Yes/No, ticked labels joined."""
    if not cell:
        return ""
    if question.type == "bool":
        return "Yes" if cell.lower() in ("yes", "true", "1") else "No"
    if question.type == "choice":
        return next(c.label for c in question.choices if c.value == cell)
    if question.type == "multi":
        return joiner.join(labels(question, cell))
    return cell


def prompts() -> list[str]:
    return [question.prompt for question in KB.questions.values()]


def answers_row(row: dict[str, str], joiner: str, trailing: str = "") -> list[str]:
    cells = []
    for question in KB.questions.values():
        cell = shown(question, row[question.id], joiner)
        if question.type == "multi" and cell:
            cell += trailing
        cells.append(cell)
    return cells


def plain_export(path: Path) -> Path:
    """The plain twin written as a plain export at ``path``, with a column for every answer of the
    questionnaire as it is now (examples/surveys/plain.csv has those it had when it was made)."""
    rows = [["respondent_id", *KB.questions]] + [list(row.values()) for row in twin()]
    path.write_text(to_csv(rows), encoding="utf-8")
    return path


def to_csv(rows: list[list[Any]], delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


# --- one writer per layout: (file text or bytes, ids the tool gives the six respondents) --------

def google_download() -> tuple[str, list[str]]:
    """Google Forms' 'Download responses (.csv)': every field quoted, ticks joined with ';'."""
    ids = [f"{row['respondent_id']}@example.org" for row in twin()]
    rows: list[list[Any]] = [["Timestamp", "Email address", *prompts()]]
    for n, (ident, row) in enumerate(zip(ids, twin())):
        rows.append([f"2026/11/0{n + 1} 7:5{n}:43 PM GMT+1", ident, *answers_row(row, ";")])
    return to_csv(rows, quoting=csv.QUOTE_ALL), ids


def google_sheet() -> tuple[str, list[str]]:
    """The linked Google Sheet downloaded as CSV: quoted only where needed, ticks joined with
    ', ' (and one label, the ball's, holds a comma itself), a Username column."""
    ids = [f"{row['respondent_id']}@club.example" for row in twin()]
    rows: list[list[Any]] = [["Timestamp", "Username", *prompts()]]
    for n, (ident, row) in enumerate(zip(ids, twin())):
        rows.append([f"04/11/2026 19:5{n}:43", ident, *answers_row(row, ", ")])
    return to_csv(rows), ids


def microsoft_rows() -> tuple[list[list[Any]], list[str]]:
    ids = [str(n) for n in range(1, 7)]
    rows: list[list[Any]] = [["ID", "Start time", "Completion time", "Email", "Name", *prompts()]]
    for ident, row in zip(ids, twin()):
        rows.append([ident, "11/4/26 19:50:01", "11/4/26 19:52:43", "anonymous", "",
                     *answers_row(row, ";", trailing=";")])
    return rows, ids


def microsoft() -> tuple[str, list[str]]:
    """Microsoft Forms as CSV: ID, Start time, Completion time, Email, Name; ticks 'a;b;'."""
    rows, ids = microsoft_rows()
    return to_csv(rows), ids


def microsoft_xlsx(path: Path, sheet: str = "Sheet1", first: str | None = None) -> list[str]:
    """Microsoft Forms' default download, an .xlsx workbook; numbers stored as numbers.
    ``first`` puts another sheet before the responses."""
    from openpyxl import Workbook

    rows, ids = microsoft_rows()
    book = Workbook()
    if first is not None:
        book.active.title = first
        book.active.append(["not", "the", "responses"])
        responses = book.create_sheet(sheet)
    else:
        responses = book.active
        responses.title = sheet
    numbers = {i for i, q in enumerate(KB.questions.values(), start=5) if q.type in ("int", "number")}
    for r, row in enumerate(rows):
        cells: list[Any] = list(row)
        if r:
            cells[0] = int(cells[0])
            for i in numbers:
                if cells[i] != "":
                    value = float(cells[i])
                    cells[i] = int(value) if value.is_integer() else value
        responses.append(cells)
    book.save(path)
    return ids


def typeform(partial: bool = False) -> tuple[str, list[str]]:
    """Typeform: '#' first, one column per option of a tick-box question (headed by the label,
    holding the label when ticked), then Response Type, the dates and Network ID."""
    ids = [f"tf{n}x9k2" for n in range(1, 7)]
    head: list[str] = ["#"]
    for question in KB.questions.values():
        head += [c.label for c in question.choices] if question.type == "multi" else [question.prompt]
    head += ["Response Type", "Start Date (UTC)", "Stage Date (UTC)", "Submit Date (UTC)",
             "Network ID"]
    rows: list[list[Any]] = [head]
    for ident, row in zip(ids, twin()):
        cells = [ident]
        cells += option_columns(row)
        cells += ["completed", "2026-11-04 18:50:01", "2026-11-04 18:52:43",
                  "2026-11-04 18:52:43", "a1b2c3"]
        rows.append(cells)
    if partial:  # left half-way: Typeform exports it, marked partial
        cells = ["tfpartial"] + [""] * (len(head) - 6) + [
            "partial", "2026-11-04 18:50:01", "2026-11-04 18:51:00", "", "d4e5f6"]
        cells[1] = "44"
        rows.insert(3, cells)
        ids.insert(2, "tfpartial")
    assert all(len(r) == len(head) for r in rows)
    return to_csv(rows), ids


def option_columns(row: dict[str, Any]) -> list[str]:
    """One respondent's cells where each tick-box option has a column of its own (Typeform,
    SurveyMonkey): the option's label when ticked, else empty."""
    cells: list[str] = []
    for question in KB.questions.values():
        if question.type == "multi":
            ticked = labels(question, row[question.id])
            cells += [c.label if c.label in ticked else "" for c in question.choices]
        else:
            cells.append(shown(question, row[question.id]))
    return cells


def surveymonkey() -> tuple[str, list[str]]:
    """SurveyMonkey: two header rows, one column per option of a tick-box question."""
    ids = [f"1141000{n:04d}" for n in range(6)]
    top = ["Respondent ID", "Collector ID"]
    sub = ["", ""]
    for question in KB.questions.values():
        if question.type == "multi":
            top += [question.prompt] + [""] * (len(question.choices) - 1)
            sub += [c.label for c in question.choices]
        else:
            top.append(question.prompt)
            sub.append("Response" if question.choices or question.type == "bool"
                       else "Open-Ended Response")
    rows: list[list[Any]] = [top, sub]
    for ident, row in zip(ids, twin()):
        cells = [ident, "432100001"]
        cells += option_columns(row)
        rows.append(cells)
    return to_csv(rows), ids


def qualtrics_rows() -> tuple[list[list[Any]], list[str]]:
    ids = [f"R_{n}aBcDeFg" for n in range(1, 7)]
    questions = list(KB.questions.values())
    rows: list[list[Any]] = [
        ["StartDate", "Finished", "ResponseId", *(f"Q{i}" for i in range(1, len(questions) + 1))],
        ["Start Date", "Finished", "Response ID", *prompts()],
        ['{"ImportId":"startDate"}', '{"ImportId":"finished"}', '{"ImportId":"_recordId"}',
         *(f'{{"ImportId":"QID{i}"}}' for i in range(1, len(questions) + 1))]]
    for ident, row in zip(ids, twin()):
        rows.append(["2026-11-04 18:50:01", "True", ident, *answers_row(row, ",")])
    return rows, ids


def qualtrics() -> tuple[str, list[str]]:
    rows, ids = qualtrics_rows()
    return to_csv(rows), ids


def qualtrics_tsv() -> tuple[bytes, list[str]]:
    """Qualtrics' TSV export: tab-delimited UTF-16 with a byte-order mark."""
    rows, ids = qualtrics_rows()
    return codecs.BOM_UTF16_LE + to_csv(rows, delimiter="\t").encode("utf-16-le"), ids


def european_excel() -> tuple[bytes, list[str]]:
    """A plain export saved by Excel in much of Europe: ';'-delimited, cp1252, prompts as
    headers, ticks joined with ', '."""
    ids = [row["respondent_id"] for row in twin()]
    rows: list[list[Any]] = [["respondent_id", *prompts()]]
    for ident, row in zip(ids, twin()):
        rows.append([ident, *answers_row(row, ", ")])
    return to_csv(rows, delimiter=";").encode("cp1252"), ids


def redcap_raw(incomplete: bool = False) -> tuple[str, list[str]]:
    """REDCap's 'CSV / Microsoft Excel (raw data)' export of a project whose variable names are
    the answer ids and whose choice codes are the answer values: a record id first, the survey
    identifier and timestamp, one ``field___code`` column per checkbox option holding 1 or 0,
    yes/no fields as 1/0, and the instrument's ``<instrument>_complete`` status (2: Complete).
    (The layout as described by the "Guide to REDCap exported files", sections "Instrument status
    variable" and "Checkbox fields", https://www.scribd.com/document/378243716, and REDCap's
    checkbox sub-variables, https://bdeveer.github.io/REDCap_KB_RAG/RC-BL-04_Branching-Logic-Structured-Fields-and-Checkboxes/.)"""
    ids = [str(n) for n in range(1, 7)]
    head = ["record_id", "redcap_survey_identifier", "hip_survey_timestamp"]
    for question in KB.questions.values():
        head += [f"{question.id}___{c.value}" for c in question.choices] \
            if question.type == "multi" else [question.id]
    head.append("hip_survey_complete")
    rows: list[list[Any]] = [head]
    for ident, row in zip(ids, twin()):
        cells: list[Any] = [ident, "", "2026-11-04 18:52:43"]
        for question in KB.questions.values():
            cell = row[question.id]
            if question.type == "multi":
                ticked = cell.split(";")
                cells += ["1" if c.value in ticked else "0" for c in question.choices]
            elif question.type == "bool":
                cells.append("1" if cell.lower() in ("yes", "true", "1") else "0")
            else:
                cells.append(cell)
        rows.append(cells + ["2"])
    if incomplete:  # started, not finished: REDCap exports it with status 0 (Incomplete)
        cells = ["7", "", "[not completed]"] + ["0"] * (len(head) - 4) + ["0"]
        cells[3] = "44"
        rows.append(cells)
        ids.append("7")
    return to_csv(rows), ids


def redcap_labels(incomplete: bool = False) -> tuple[str, list[str]]:
    """REDCap's 'CSV / Microsoft Excel (labels)' export: the fields' labels as headers,
    ``Label (choice=Option)`` per checkbox option holding Checked or Unchecked, choices as their
    labels, yes/no as Yes/No, and the instrument's ``Complete?`` status by its label."""
    ids = [str(n) for n in range(1, 7)]
    head = ["Record ID", "Survey Identifier", "Survey Timestamp"]
    for question in KB.questions.values():
        head += [f"{question.prompt} (choice={c.label})" for c in question.choices] \
            if question.type == "multi" else [question.prompt]
    head.append("Complete?")
    rows: list[list[Any]] = [head]
    for ident, row in zip(ids, twin()):
        cells: list[Any] = [ident, "", "2026-11-04 18:52:43"]
        for question in KB.questions.values():
            if question.type == "multi":
                ticked = row[question.id].split(";")
                cells += ["Checked" if c.value in ticked else "Unchecked" for c in question.choices]
            else:
                cells.append(shown(question, row[question.id]))
        rows.append(cells + ["Complete"])
    if incomplete:
        cells = ["7", "", "[not completed]"] + ["Unchecked"] * (len(head) - 4) + ["Incomplete"]
        cells[3] = "44"
        rows.append(cells)
        ids.append("7")
    return to_csv(rows), ids


KOBO_TAIL = ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
             "_submitted_by", "__version__", "_tags", "_index"]


def kobo(not_approved: bool = False) -> tuple[str, list[str]]:
    """KoboToolbox's CSV export with 'XML values and headers', groups kept ('group/question',
    separator '/') and select-multiple questions 'both' ways: the summary column of
    space-joined choice names and a ``group/question/choice`` column per option holding 1 or 0
    (the export settings KoboToolbox's export API takes: lang _xml, group_sep '/', multi_sel
    'both', fields separated by ';' by default; as documented for its R client,
    https://rdrr.io/cran/KoboconnectR/man/kobo_export_create.html); yes/no questions are a
    select-one of yes/no; then Kobo's own ``_id``, ``_uuid``, ``_submission_time``, ... columns."""
    ids = [f"5d0c{n}e8a-7b1f-4c3e-9a2d-0f1e2d3c4b5a" for n in range(1, 7)]
    head = ["start", "end"]
    for question in KB.questions.values():
        head.append(f"runner/{question.id}")
        if question.type == "multi":
            head += [f"runner/{question.id}/{c.value}" for c in question.choices]
    head += KOBO_TAIL
    rows: list[list[Any]] = [head]
    for n, (ident, row) in enumerate(zip(ids, twin())):
        cells: list[Any] = ["2026-11-04T18:50:01.000+01:00", "2026-11-04T18:52:43.000+01:00"]
        for question in KB.questions.values():
            cell = row[question.id]
            if question.type == "multi":
                ticked = [v for v in cell.split(";") if v]
                cells.append(" ".join(ticked))
                cells += ["1" if c.value in ticked else "0" for c in question.choices]
            elif question.type == "bool":
                cells.append("yes" if cell.lower() in ("yes", "true", "1") else "no")
            else:
                cells.append(cell)
        cells += [str(1000 + n), ident, "2026-11-04T17:52:44", "", "[]", "submitted_via_web",
                  "", "vAbC123", "[]", str(n + 1)]
        rows.append(cells)
    if not_approved:  # a submission a reviewer marked not approved
        bad = list(rows[1])
        bad[head.index("_uuid")] = "0bad0bad-0000-4000-8000-000000000000"
        bad[head.index("_validation_status")] = "validation_status_not_approved"
        rows.append(bad)
        ids.append(bad[head.index("_uuid")])
    return to_csv(rows, delimiter=";"), ids


def limesurvey(unfinished: bool = False) -> tuple[str, list[str]]:
    """LimeSurvey's response export with 'full question text' headings and 'full answers'
    (its export_responses with heading type full and response type long): Response ID, Date
    submitted (empty for a response never submitted), Last page, Start language, Seed, then the
    questions, a multiple-choice question one ``Question [Option]`` column per option holding
    Yes or nothing. (LimeSurvey's RemoteControl export_responses: sHeadingType code, full or
    abbreviated; sCompletionStatus complete, incomplete or all;
    https://rdrr.io/github/mbonoli/funcionesMBO/src/R/ls_get_responses.R.)"""
    ids = [str(n) for n in range(1, 7)]
    head = ["Response ID", "Date submitted", "Last page", "Start language", "Seed"]
    for question in KB.questions.values():
        head += [f"{question.prompt} [{c.label}]" for c in question.choices] \
            if question.type == "multi" else [question.prompt]
    rows: list[list[Any]] = [head]
    for ident, row in zip(ids, twin()):
        cells: list[Any] = [ident, "2026-11-04 18:52:43", "3", "en", "123456"]
        for question in KB.questions.values():
            if question.type == "multi":
                ticked = row[question.id].split(";")
                cells += ["Yes" if c.value in ticked else "" for c in question.choices]
            else:
                cells.append(shown(question, row[question.id]))
        rows.append(cells)
    if unfinished:
        cells = ["7", "", "1", "en", "654321"] + [""] * (len(head) - 5)
        cells[5] = "44"
        rows.append(cells)
        ids.append("7")
    return to_csv(rows), ids


def jotform() -> tuple[str, list[str]]:
    """Jotform's CSV download of the submissions table: Submission Date first, the questions,
    each ticked option of a checkbox question on a line of its own in one cell, then the
    Submission IP and Submission ID columns (Jotform's "How to Download Form Submissions to
    Excel/CSV/PDF", linked from https://www.jotform.com/answers/224879; the column order and the
    one-label-a-line cells are as we understand that download, not checked against a real one)."""
    ids = [f"58{n}1234567890123456" for n in range(1, 7)]
    rows: list[list[Any]] = [["Submission Date", *prompts(), "Submission IP", "Submission ID"]]
    for ident, row in zip(ids, twin()):
        rows.append(["Nov 4, 2026", *answers_row(row, "\n"), "203.0.113.7", ident])
    return to_csv(rows), ids


TEXT_LAYOUTS: dict[str, tuple[str, Callable[[], tuple[Any, list[str]]]]] = {
    # name: (layout detected, writer)
    "google_download": ("google", google_download),
    "google_sheet": ("google", google_sheet),
    "microsoft": ("microsoft", microsoft),
    "typeform": ("typeform", typeform),
    "surveymonkey": ("surveymonkey", surveymonkey),
    "qualtrics": ("qualtrics", qualtrics),
    "qualtrics_tsv": ("qualtrics", qualtrics_tsv),
    "european_excel": ("plain", european_excel),
    "redcap_raw": ("redcap", redcap_raw),
    "redcap_labels": ("redcap", redcap_labels),
    "kobo": ("kobo", kobo),
    "limesurvey": ("limesurvey", limesurvey),
    "jotform": ("jotform", jotform),
}


def write_export(folder: Path, name: str) -> tuple[Path, str, list[str]]:
    """Write the ``name`` fixture into ``folder``: (its path, its layout, its respondent ids)."""
    if name == "microsoft_xlsx":
        path = folder / "microsoft.xlsx"
        return path, "microsoft", microsoft_xlsx(path)
    layout, writer = TEXT_LAYOUTS[name]
    data, ids = writer()
    path = folder / f"{name}.csv"
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path, layout, ids


ALL = (*TEXT_LAYOUTS, "microsoft_xlsx")
