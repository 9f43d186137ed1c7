"""Survey mappings: which export column holds which answer, and what its values mean.

A mapping is a YAML file a coach or researcher edits for their own form:

.. code-block:: yaml

    format: google                      # google, surveymonkey, qualtrics or plain
    respondent_id: "Email address"      # the column that identifies a respondent
    columns:
      "How old are you?": age           # shorthand: the column holds the answer as is
      "Where does your knee hurt?":
        answer: knee_pain
        values: {"Around or behind the kneecap": front, "No knee pain": none}
      "What do you have at home?":
        answer: equipment
        separator: ", "                 # several choices in one cell
        values: {"Foam roller": foam_roller}
      "What do you have at home? | Mat":  # SurveyMonkey: one column per option
        answer: equipment
        item: mat                        # a non-empty cell adds this item
    ignore: [Timestamp]                 # columns known and deliberately unused

Unmapped cell values are passed on as they are, so ``yes``/``no``, numbers and the answer values
themselves work without a ``values`` entry. Several columns may feed one list answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import AnswersError, MappingError, excerpt
from .knowledge import KnowledgeBase, Question
from .schema import Entry, load_yaml
from .survey import LAYOUTS

PLAIN_ID = "respondent_id"


@dataclass(frozen=True)
class Column:
    name: str
    answer: str
    values: dict[str, Any] = field(default_factory=dict)
    separator: str | None = None
    item: str | None = None


@dataclass(frozen=True)
class Mapping:
    layout: str | None
    respondent_id: str
    columns: tuple[Column, ...]
    ignore: tuple[str, ...] = ()


def plain_mapping(columns: tuple[str, ...], kb: KnowledgeBase) -> Mapping:
    """The implicit mapping of a plain export: headers are answer ids."""
    mapped = tuple(Column(name, name, separator=None) for name in columns if name in kb.questions)
    return Mapping("plain", PLAIN_ID, mapped)


def load_mapping(path: Path, kb: KnowledgeBase) -> Mapping:
    """Load and check a mapping file; errors name the file and the column."""
    data = load_yaml(Path(path), MappingError)
    head = Entry(data, str(path), "mapping", MappingError)
    head.only({"format", "respondent_id", "columns", "ignore"})
    layout = head.choice("format", LAYOUTS, None)
    ident = head.text("respondent_id")
    raw_columns = head.get("columns", dict, what="a mapping of column name to answer")
    columns = []
    for name, spec in raw_columns.items():
        label = f"column {excerpt(name)}"
        if isinstance(spec, str):
            spec = {"answer": spec}
        entry = Entry(spec, str(path), label, MappingError)
        entry.only({"answer", "values", "separator", "item"})
        answer = entry.choice("answer", list(kb.questions))
        question = kb.questions[answer]
        values = entry.get("values", dict, {}, "a mapping of survey value to answer value")
        for shown, value in values.items():
            if isinstance(shown, bool) or shown is None:
                entry.fail(f"survey value {excerpt(shown)}: quote it (YAML reads an unquoted Yes/No/On/"
                           f"Off/null as true/false/null), e.g. \"Yes\": true")
            _check(entry, question, shown, value)
        item = entry.get("item", str, None)
        if item is not None and (question.type != "multi" or item not in question.values):
            entry.fail(f"'item' {excerpt(item)} must be one of the choices of list answer {excerpt(answer)}")
        separator = entry.get("separator", str, None)
        if separator is not None and question.type != "multi":
            entry.fail(f"'separator' only applies to list answers, not {answer!r}")
        columns.append(Column(str(name), answer, {str(k): v for k, v in values.items()},
                              separator, item))
    ignore = tuple(head.strings("ignore", []))
    return Mapping(layout, ident, tuple(columns), ignore)


def _check(entry: Entry, question: Question, shown: Any, value: Any) -> None:
    try:
        question.coerce([value] if question.type == "multi" else value)
    except AnswersError as exc:
        entry.fail(f"value {excerpt(shown)} maps to {excerpt(value)}: {exc.problem}")


class Translator:
    """Turns export rows into checked answers, translating each distinct cell of a column once
    (a survey repeats the same few cell values in every column, row after row)."""

    #: Cell translations remembered at most before the cache starts afresh.
    LIMIT = 200_000

    def __init__(self, mapping: Mapping, index: dict[str, int], kb: KnowledgeBase) -> None:
        self.kb = kb
        self.columns = [(index[column.name], column) for column in mapping.columns]
        self.cache: dict[tuple[int, str], tuple[Any, str | None]] = {}

    def row(self, cells: tuple[str, ...]) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
        """One row's checked answers, and its problems as ``(column, value, problem)``: every
        bad cell of the row is reported, not just the first."""
        raw: dict[str, Any] = {}
        problems = []
        for position, column in self.columns:
            text = cells[position]
            key = (position, text)
            found = self.cache.get(key)
            if found is None:
                if len(self.cache) >= self.LIMIT:
                    self.cache.clear()
                found = self.cache[key] = self._cell(column, text.strip())
            value, problem = found
            if problem is not None:
                problems.append((column.name, text.strip(), problem))
            elif value is not None:
                question = self.kb.questions[column.answer]
                if question.type == "multi" and column.answer in raw:  # several columns, one list
                    merged = set(raw[column.answer]) | set(value)
                    value = [choice for choice in question.values if choice in merged]
                raw[column.answer] = value
        return raw, problems

    def _cell(self, column: Column, cell: str) -> tuple[Any, str | None]:
        """``(answer value, None)``, ``(None, None)`` for an empty cell, or ``(None, problem)``."""
        if not cell:
            return None, None
        question = self.kb.questions[column.answer]
        if column.item is not None:
            value: Any = [column.item]
        elif question.type == "multi":
            parts = _split(cell, column.separator, column.values) if column.separator else [cell]
            value = [column.values.get(part.strip(), part.strip()) for part in parts if part.strip()]
            if not column.separator and len(value) == 1 and isinstance(value[0], str) \
                    and value[0] not in question.values:
                value = value[0]  # let the answer parser split "a;b" or "a, b"
        else:
            value = column.values.get(cell, cell)
        try:
            return question.coerce(value), None
        except AnswersError as exc:
            return None, f"{column.answer}: {exc.problem}"


def translate(mapping: Mapping, index: dict[str, int], cells: tuple[str, ...], kb: KnowledgeBase
              ) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """One row's checked answers and problems (see :meth:`Translator.row`)."""
    return Translator(mapping, index, kb).row(cells)


def _split(cell: str, separator: str, known: dict[str, Any]) -> list[str]:
    """Split a multi-choice cell, keeping together a known label that holds the separator.

    Google Forms joins ticked boxes with ", ", and labels often contain a comma themselves
    ("Firm ball, such as a lacrosse ball"); parts are re-joined while they are the start of a
    label the mapping knows.
    """
    parts = cell.split(separator)
    result: list[str] = []
    index = 0
    while index < len(parts):
        current = parts[index]
        index += 1
        while current.strip() not in known and index < len(parts) and any(
                label.startswith(current + separator) for label in known):
            current += separator + parts[index]
            index += 1
        result.append(current)
    return result


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


#: How each layout joins several ticked choices in one cell (SurveyMonkey uses one column each).
JOINERS = {"google": ", ", "qualtrics": ",", "plain": None, "surveymonkey": None}


def starter(columns: tuple[str, ...], texts: tuple[str, ...], layout: str, samples: list[set[str]],
            kb: KnowledgeBase) -> str:
    """A starter mapping (YAML text) listing every column, with guesses marked for review.

    The question of each column is guessed from its text (the part before " | " for a
    SurveyMonkey option column, whose option then becomes ``item``); sample cells of list
    answers are split into choices; number answers given as text ("6 to 8 hours") get a
    ``values`` list to complete.
    """
    import json

    def q(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    lines = ["# Starter mapping written by `hipcoach mapping init`: check every line marked",
             "# 'guessed' or 'TODO', then run",
             "# `hipcoach score SURVEY.csv --mapping THIS_FILE -o OUT`.",
             f"# Answer ids: {', '.join(kb.questions)}",
             f"format: {layout}",
             f"respondent_id: {q(_guess_id(columns))}  # TODO: check",
             "columns:"]
    unused = []  # every other column, the respondent id's included, is listed as ignored
    for name, text, seen in zip(columns, texts, samples):
        question_text, _, option = text.partition(" | ") if layout == "surveymonkey" else (text, "", "")
        guess = _guess_question(name, question_text, kb)
        if guess is None:
            unused.append(name)
            continue
        question = kb.questions[guess]
        lines += [f"  {q(name)}:", f"    answer: {guess}"]
        if layout == "plain":
            continue  # a plain export holds answer values as they are
        if question.type == "multi" and option:
            lines.append(f"    item: {_guess_value(option, question)}")
            continue
        values = sorted(seen)
        joiner = JOINERS[layout] if question.type == "multi" else None
        if joiner:
            lines.append(f"    separator: {q(joiner)}")
            labels = {choice.label: choice.value for choice in question.choices}
            values = sorted({part.strip() for cell in seen for part in _split(cell, joiner, labels)})
        if question.type in ("int", "number"):
            values = [v for v in values if not _is_number_text(v)]
        if question.type == "bool":
            values = [v for v in values if v.lower() not in ("yes", "no", "true", "false", "1", "0")]
        if values:
            lines.append("    values:  # survey value: answer value")
            for value in values[:30]:
                lines.append(f"      {q(value)}: {_guess_value(value, question)}")
    lines.append("ignore:  # columns no answer comes from" if unused else "ignore: []")
    lines.extend(f"  - {q(name)}" for name in unused)
    return "\n".join(lines) + "\n"


def _guess_question(name: str, text: str, kb: KnowledgeBase) -> str | None:
    import difflib

    if name in kb.questions:
        return name
    prompts = {question.prompt.lower(): question.id for question in kb.questions.values()}
    if text.lower() in prompts:
        return prompts[text.lower()]
    close = difflib.get_close_matches(text.lower(), list(prompts), n=1, cutoff=0.6)
    return prompts[close[0]] if close else None


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _guess_id(columns: tuple[str, ...]) -> str:
    for wanted in (PLAIN_ID, "ResponseId", "Respondent ID", "Email address", "Email Address"):
        if wanted in columns:
            return wanted
    return columns[0] if columns else PLAIN_ID


def _guess_value(value: str, question: Question) -> str:
    import difflib

    if question.type == "bool":
        return "true  # TODO: true or false?"
    if question.type in ("int", "number"):
        return f"null  # TODO: a number from {question.min:g} to {question.max:g}"
    labels = {choice.label.lower(): choice.value for choice in question.choices}
    labels.update({choice.value: choice.value for choice in question.choices})
    if value.lower() in labels:
        return labels[value.lower()]
    close = difflib.get_close_matches(value.lower(), list(labels), n=1, cutoff=0.5)
    return f"{labels[close[0]]}  # guessed" if close else "null  # TODO: which value?"
