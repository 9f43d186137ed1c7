"""Survey mappings: which export column holds which answer, and what its values mean.

A mapping is a YAML file a coach or researcher edits for their own form:

.. code-block:: yaml

    format: google                      # a layout: google, redcap, kobo, ... or plain
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
        item: mat                        # a ticked cell adds this item
      "Do any of these apply to you?":
        answer: red_flags
        values: {"None of these apply to me": []}   # an explicit "none of these"
    ignore: [Timestamp]                 # columns known and deliberately unused

A column per option (``item``) reads ticks as the tools write them: ``1``, ``Checked``,
``TRUE``, ``Yes``, ``Y``, ``X`` or the option's own label or value for ticked; empty, ``0``,
``Unchecked``, ``FALSE``, ``No`` or ``N`` for not ticked; its ``values`` may add words of the
form's own (``{"Ja": true, "Nein": false}``). A cell that is neither is a problem of the row,
never a tick.

Unmapped cell values are passed on as they are, so ``yes``/``no``, numbers and the answer values
themselves work without a ``values`` entry; a value that matches a ``values`` entry only in
case is mapped too. Several columns may feed one list answer, but one column at most may feed
any other answer: with two, either could hold the respondent's real answer.

Tick boxes joined in one cell are split on the known labels first (the longest first), so a
label holding the separator stays whole, and on ``separator``, ``;`` or ``,`` between them:
Google's CSV download joins with ``;``, its linked sheet with ``, ``, Microsoft Forms with ``;``
and a trailing ``;``, Jotform puts each on a line of its own and KoboToolbox joins codes with a
space, and a mapping written for one reads the others. Labels are compared in any case, with
typographic apostrophes and quotes (U+2019, U+201C, ...) as their plain forms.

A form built from the questionnaire itself needs no mapping file at all (:func:`form_mapping`):
its headers are the questions' prompts and its cells the choices' labels or values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AnswersError, MappingError, SurveyError, excerpt
from ..kb.knowledge import KnowledgeBase, Question
from ..kb.schema import Entry, load_yaml
from .survey import LAYOUTS, Header, split_option

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


#: Typographic quotes as their plain forms, one character for one (positions stay as they were).
PLAIN_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                              "\u2032": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
                              "\u201f": '"', "\u2033": '"'})


def fold(text: str) -> str:
    """``text`` in lower case with typographic quotes as plain ones, same length."""
    return text.translate(PLAIN_QUOTES).lower()


def _plain_text(text: str) -> str:
    """A header or label as a person reads it: case, runs of spaces and typographic quotes do
    not matter."""
    return fold(" ".join(text.split()))


def question_texts(kb: KnowledgeBase) -> set[str]:
    """The questions' prompts as :func:`form_mapping` matches headers against them."""
    return {_plain_text(question.prompt) for question in kb.questions.values()}


def form_mapping(cols: Header, kb: KnowledgeBase) -> Mapping:
    """The mapping of a form built from the questionnaire, read off its headers.

    A column is an answer's when its header (or, for Qualtrics, its question text; for
    KoboToolbox, its last ``/`` part) is the answer id, or the question's prompt (trimmed, in any
    case); its cells may hold the choices' labels or values, ``Yes``/``No`` or numbers. A
    tick-box question exported one column per option is recognised by the tool's naming of
    them (:func:`.survey.split_option`: 'prompt | label', 'Prompt [Label]', 'Prompt
    (choice=Label)', 'answer___value', 'group/answer/value') or by the label alone (Typeform),
    when no other list question has that label. The respondent id is the tool's own id column.
    Columns matching nothing are left over, and reported as extra.
    """
    layout = LAYOUTS[cols.layout]
    prompts = {_plain_text(q.prompt): q for q in kb.questions.values()}
    labels: dict[str, list[tuple[Question, str]]] = {}
    for question in kb.questions.values():
        if question.type == "multi":
            for choice in question.choices:
                labels.setdefault(_plain_text(choice.label), []).append((question, choice.value))

    def asked(text: str) -> Question | None:
        return kb.questions.get(text) or prompts.get(_plain_text(text)) or \
            kb.questions.get(text.rpartition("/")[2])

    ident = next((name for name in layout.ids if name in cols.columns), layout.ids[0])
    columns = []
    for name, text in zip(cols.columns, cols.texts):
        if name == ident or layout.known(name):
            continue
        named = asked(name) or asked(text)
        if named is not None:  # values as in plain.csv, or the labels the form showed
            values = {choice.label: choice.value for choice in named.choices}
            columns.append(Column(name, named.id, values))
            continue
        parts = split_option(text)
        parent = asked(parts[0]) if parts else None
        if parts and parent is not None and parent.type == "multi":
            options = {_plain_text(c.label): c.value for c in parent.choices}
            options.update({c.value.lower(): c.value for c in parent.choices})
            item = options.get(_plain_text(parts[1]))
            if item is not None:
                columns.append(Column(name, parent.id, item=item))
            continue
        owners = labels.get(_plain_text(text), [])
        if len(owners) == 1:
            owner, item = owners[0]
            columns.append(Column(name, owner.id, item=item))
    one_column_each(columns, kb, lambda problem: SurveyError(f"the header {problem}"))
    ignore = tuple(name for name in cols.columns if layout.known(name))
    return Mapping(cols.layout, ident, tuple(columns), ignore)


def one_column_each(columns: list[Column], kb: KnowledgeBase,
                    error: Any) -> None:
    """Refuse two columns feeding one answer that is not a list: either could hold the real
    answer, and taking one silently is a wrong plan for some respondents. (Several columns may
    feed one list answer; their ticks are united.) ``error`` makes the exception to raise."""
    seen: dict[str, str] = {}
    for column in columns:
        if kb.questions[column.answer].type == "multi":
            continue
        if column.answer in seen:
            raise error(f"sends two columns to answer {column.answer!r}: "
                        f"{seen[column.answer]!r} and {column.name!r}; keep one of them")
        seen[column.answer] = column.name


def load_mapping(path: Path, kb: KnowledgeBase) -> Mapping:
    """Load and check a mapping file; errors name the file and the column."""
    data = load_yaml(Path(path), MappingError)
    head = Entry(data, str(path), "mapping", MappingError)
    head.only({"format", "respondent_id", "columns", "ignore"})
    layout = head.choice("format", list(LAYOUTS), None)
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
            if "item" not in spec:
                _check(entry, question, shown, value)
        item = entry.get("item", str, None)
        if item is not None and (question.type != "multi" or item not in question.values):
            entry.fail(f"'item' {excerpt(item)} must be one of the choices of list answer {excerpt(answer)}")
        if item is not None:
            for shown, value in values.items():
                if not isinstance(value, bool):
                    entry.fail(f"survey value {excerpt(shown)} maps to {excerpt(value)}: in a "
                               f"column per option, values say ticked (true) or not (false)")
        separator = entry.get("separator", str, None)
        if separator is not None and question.type != "multi":
            entry.fail(f"'separator' only applies to list answers, not {answer!r}")
        columns.append(Column(str(name), answer, {str(k): v for k, v in values.items()},
                              separator, item))
    one_column_each(columns, kb, lambda problem: MappingError(str(path), None, problem))
    ignore = tuple(head.strings("ignore", []))
    return Mapping(layout, ident, tuple(columns), ignore)


def _check(entry: Entry, question: Question, shown: Any, value: Any) -> None:
    """A survey value's answer value must be one the question allows: for a list answer, one
    choice, or a list of them (``[]`` for a "none of these" option)."""
    try:
        question.coerce([value] if question.type == "multi" and not isinstance(value, list)
                        else value)
    except AnswersError as exc:
        entry.fail(f"value {excerpt(shown)} maps to {excerpt(value)}: {exc.problem}")


#: How the tools write a ticked and a not-ticked box in a column of its own (in any case).
TICKED = frozenset({"1", "checked", "true", "yes", "y", "x", "\u2713", "\u2714", "selected"})
NOT_TICKED = frozenset({"", "0", "unchecked", "false", "no", "n", "not selected"})
#: A decimal comma in a number cell: digits, one comma, digits (never a thousands separator).
DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


class Translator:
    """Turns export rows into checked answers, translating each distinct cell of a column once
    (a survey repeats the same few cell values in every column, row after row).

    ``decimal_comma``: a number cell such as ``6,5`` is six and a half (the export's delimiter
    is not a comma, or the user said so); otherwise it is refused, never read as 65."""

    #: Cell translations remembered at most before the cache starts afresh.
    LIMIT = 200_000

    def __init__(self, mapping: Mapping, index: dict[str, int], kb: KnowledgeBase,
                 decimal_comma: bool = False) -> None:
        self.kb = kb
        self.decimal_comma = decimal_comma
        self.columns = [(index[column.name], column) for column in mapping.columns]
        self.cache: dict[tuple[int, str], tuple[Any, str | None]] = {}
        #: each column's values by their folded form, for cells that differ only in case
        self.folded = {column.name: {_plain_text(k): v for k, v in column.values.items()}
                       for column in mapping.columns}
        #: each option column's words for ticked (True) and not ticked (False)
        self.ticks = {column.name: self._ticks(column, kb) for column in mapping.columns
                      if column.item is not None}

    @staticmethod
    def _ticks(column: Column, kb: KnowledgeBase) -> dict[str, bool]:
        ticks = dict.fromkeys(NOT_TICKED, False)
        ticks.update(dict.fromkeys(TICKED, True))
        assert column.item is not None
        choice = next(c for c in kb.questions[column.answer].choices if c.value == column.item)
        parts = split_option(column.name)
        for text in (choice.label, choice.value, column.name, *(parts[1:] if parts else ())):
            ticks[_plain_text(text)] = True  # the tools that write the option's own label
        ticks.update({_plain_text(k): bool(v) for k, v in column.values.items()})
        return ticks

    def gives(self, column: Column, text: str) -> bool:
        """Whether a cell gives its answer at all: not blank, or, in a column per option,
        ticked (a box left unticked says nothing by itself)."""
        if column.item is not None:
            return self.ticks[column.name].get(_plain_text(text)) is True
        return bool(text.strip())

    def row(self, cells: tuple[str, ...]) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
        """One row's checked answers, and its problems as ``(column, value, problem)``: every
        bad cell of the row is reported, not just the first."""
        raw: dict[str, Any] = {}
        problems = []
        for position, column in self.columns:
            text = cells[position]
            value, problem = self.cell(position, column, text)
            if problem is not None:
                problems.append((column.name, text.strip(), problem))
            elif value is not None:
                raw[column.answer] = self.merge(column.answer, raw.get(column.answer), value)
        return raw, problems

    def cell(self, position: int, column: Column, text: str) -> tuple[Any, str | None]:
        """One cell's ``(answer value, problem)``, translated once per distinct text."""
        key = (position, text)
        found = self.cache.get(key)
        if found is None:
            if len(self.cache) >= self.LIMIT:
                self.cache.clear()
            found = self.cache[key] = self._cell(column, text.strip())
        return found

    def merge(self, answer: str, earlier: Any, value: Any) -> Any:
        """``value`` of a column for ``answer``, united with what ``earlier`` columns gave it:
        several columns may feed one list answer (a tick-box column per option)."""
        question = self.kb.questions[answer]
        if earlier is None or question.type != "multi":
            return value
        merged = set(earlier) | set(value)
        return [choice for choice in question.values if choice in merged]

    def _cell(self, column: Column, cell: str) -> tuple[Any, str | None]:
        """``(answer value, None)``, ``(None, None)`` for an empty cell, or ``(None, problem)``."""
        question = self.kb.questions[column.answer]
        if column.item is not None:
            ticked = self.ticks[column.name].get(_plain_text(cell))
            if ticked is None:
                return None, (f"{column.answer}: {excerpt(cell)} is neither ticked nor not "
                              f"ticked for {column.item!r}; allowed: 1 or 0, Checked or "
                              f"Unchecked, TRUE or FALSE, Yes or No (or empty), or the "
                              f"option's own label")
            return [column.item] if ticked else [], None
        if not cell:
            return None, None
        if question.type == "multi":
            parts = split_ticks(cell, [*column.values, *(c.label for c in question.choices),
                                       *question.values], column.separator) \
                if column.separator or column.values else [cell]
            value: Any = []
            for part in parts:
                mapped = self._value(column, part.strip())
                value.extend(mapped if isinstance(mapped, list) else [mapped])
            if not column.separator and len(value) == 1 and isinstance(value[0], str) \
                    and value[0] not in question.values:
                value = value[0]  # let the answer parser split "a;b" or "a, b"
        else:
            value = self._value(column, cell)
            if question.type in ("int", "number") and isinstance(value, str) \
                    and self.decimal_comma and DECIMAL_COMMA.match(value):
                value = value.replace(",", ".")
        try:
            return question.coerce(value), None
        except AnswersError as exc:
            return None, f"{column.answer}: {excerpt(cell)} is not an answer: {exc.problem}"

    def _value(self, column: Column, text: str) -> Any:
        if text in column.values:
            return column.values[text]
        return self.folded[column.name].get(_plain_text(text), text)


def translate(mapping: Mapping, index: dict[str, int], cells: tuple[str, ...], kb: KnowledgeBase
              ) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """One row's checked answers and problems (see :meth:`Translator.row`)."""
    return Translator(mapping, index, kb).row(cells)


#: What forms tools put between ticked boxes in one cell, besides a mapping's own separator.
TICK_SEPARATORS = (";", ",")


def split_ticks(cell: str, known: Iterable[str], separator: str | None = None) -> list[str]:
    """Split a cell of ticked boxes into its labels, keeping a known label whole even when it
    holds a separator ("Firm ball, such as a lacrosse ball") or spaces.

    Known labels (in any case, typographic quotes as plain ones) are matched first, longest
    first, where they end at a separator, a line break or the end of the cell; other text runs
    to the next separator (``separator``, ``;`` or ``,``; a line break always separates).
    Separators and spaces between labels are skipped, so ``"a;b;"``, ``"a, b"`` and ``"a,b"``
    all split alike: one mapping reads every tool's way of joining ticks, Jotform's one label
    a line and KoboToolbox's space-joined codes included.
    """
    spaced = separator is not None and separator.strip() == ""
    separators = tuple(dict.fromkeys([*([separator] if separator and not spaced else []),
                                      *TICK_SEPARATORS, "\n"]))
    lower = fold(cell)
    labels = sorted({fold(label.strip()) for label in known if label.strip()},
                    key=len, reverse=True) if len(lower) == len(cell) else []

    def at_separator(position: int) -> bool:
        if position >= len(cell) or (spaced and cell[position].isspace()):
            return True
        rest = cell[position:].lstrip(" \t")
        return not rest or rest.startswith(separators)

    parts: list[str] = []
    position = 0
    while position < len(cell):
        skipped = position
        while position < len(cell) and (cell[position].isspace() or cell.startswith(separators, position)):
            position += next((len(s) for s in separators if cell.startswith(s, position)), 1)
        if position >= len(cell):
            break
        found = next((label for label in labels if lower.startswith(label, position)
                      and at_separator(position + len(label))), None)
        if found is not None:
            end = position + len(found)
        else:
            ends = [cell.find(s, position) for s in separators]
            if spaced:
                ends += [position + index for index, char in enumerate(cell[position:])
                         if char.isspace()][:1]
            end = min((e for e in ends if e > position), default=len(cell))
        parts.append(cell[position:end].strip())
        position = max(end, skipped + 1)
    return parts


def _split(cell: str, separator: str, known: dict[str, Any]) -> list[str]:
    """:func:`split_ticks` with one mapping column's separator and labels."""
    return split_ticks(cell, known, separator)


def starter(columns: tuple[str, ...], texts: tuple[str, ...], layout: str, samples: list[set[str]],
            kb: KnowledgeBase) -> str:
    """A starter mapping (YAML text) listing every column, with guesses marked for review.

    The question of each column is found from its text (the part before " | " for a
    SurveyMonkey option column, whose option then becomes ``item``), and marked 'guessed' unless
    the text is the question's own prompt. A choice question lists every label of the
    questionnaire, seen in the data or not, then any other value seen, marked 'guessed' or
    'TODO'; number answers given as text ("6 to 8 hours") get a ``values`` list to complete.
    """
    import json

    def q(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    ident, known_id = _guess_id(columns, layout)
    lines = ["# Starter mapping written by `hipcoach mapping init`: check every line marked",
             "# 'guessed' or 'TODO', then run",
             "# `hipcoach score SURVEY.csv --mapping THIS_FILE -o OUT`.",
             f"# Answer ids: {', '.join(kb.questions)}",
             f"format: {layout}",
             f"respondent_id: {q(ident)}" + ("" if known_id else "  # TODO: check"),
             "columns:"]
    unused = []  # every other column, the respondent id's included, is listed as ignored
    for name, text, seen in zip(columns, texts, samples):
        if not name:
            continue  # a column with no header (a trailing delimiter): nothing to map or ignore
        if name == ident or LAYOUTS[layout].known(name):
            unused.append(name)
            continue
        guess, exact = _guess_question(name, text, kb)
        option, item = "", None
        parts = split_option(text)
        if parts is not None and not exact:
            parent, sure = _guess_question(parts[0].rpartition("/")[2], parts[0], kb)
            if parent is not None and kb.questions[parent].type == "multi":
                guess, exact, option = parent, sure, parts[1]
                item = _guess_item(option, kb.questions[parent])
        if option and item is None and guess is not None:  # the option is a code of the tool's
            lines += [f"  # {q(name)}:  # TODO: which choice of {guess} does it tick?",
                      f"  #   answer: {guess}", "  #   item: ...  # one of: "
                      + ", ".join(kb.questions[guess].values)]
            continue
        if guess is None:
            unused.append(name)
            continue
        question = kb.questions[guess]
        lines += [f"  {q(name)}:", f"    answer: {guess}" + ("" if exact else "  # guessed")]
        if layout == "plain" and name == guess:
            continue  # an answer id as header: the cells hold answer values as they are
        if item is not None:
            lines.append(f"    item: {item}")
            continue
        joiner = LAYOUTS[layout].joiner if question.type == "multi" else None
        values = sorted(seen)
        if question.type == "multi":
            if joiner:
                lines.append(f"    separator: {q(joiner)}")
            labels = {choice.label: choice.value for choice in question.choices}
            values = sorted({part.strip() for cell in seen
                             for part in split_ticks(cell, labels, joiner)})
        if question.type in ("int", "number"):
            values = [v for v in values if not _is_number_text(v)]
        if question.type == "bool":
            values = [v for v in values if v.lower() not in ("yes", "no", "true", "false", "1", "0")]
        known = {choice.label.lower() for choice in question.choices} | set(question.values)
        values = [v for v in values if v.lower() not in known]
        if question.choices or values:
            lines.append("    values:  # survey value: answer value")
        for choice in question.choices:
            lines.append(f"      {q(choice.label)}: {choice.value}")
        for value in values[:30]:
            guess = _guess_value(value, question)
            lines.append(f"      {q(value)}: {guess}" if guess is not None else
                         f"      # {q(value)}: ...  # TODO: which value? (left out until then)")
    lines.append("ignore:  # columns no answer comes from" if unused else "ignore: []")
    lines.extend(f"  - {q(name)}" for name in unused)
    return "\n".join(lines) + "\n"


def _guess_question(name: str, text: str, kb: KnowledgeBase) -> tuple[str | None, bool]:
    """The answer a column holds, and whether that is certain (its header is the answer id or
    the question's prompt) rather than guessed from a similar wording."""
    import difflib

    if name in kb.questions:
        return name, True
    prompts = {_plain_text(question.prompt): question.id for question in kb.questions.values()}
    if _plain_text(text) in prompts:
        return prompts[_plain_text(text)], True
    close = difflib.get_close_matches(_plain_text(text), list(prompts), n=1, cutoff=0.6)
    return (prompts[close[0]], False) if close else (None, False)


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _guess_id(columns: tuple[str, ...], layout: str) -> tuple[str, bool]:
    """The respondent id column, and whether it is the tool's own (else a guess to check)."""
    for wanted in LAYOUTS[layout].ids:
        if wanted in columns:
            return wanted, True
    for wanted in (PLAIN_ID, "ResponseId", "Respondent ID", "Email address", "Email Address"):
        if wanted in columns:
            return wanted, False
    return (columns[0] if columns else PLAIN_ID), False


def _guess_item(option: str, question: Question) -> str | None:
    """The choice of list ``question`` an option column ticks: the one whose label or value it
    names (in any case), or a close label; None when nothing is close (the column is then left
    for the user to map)."""
    import difflib

    labels = {_plain_text(choice.label): choice.value for choice in question.choices}
    labels.update({choice.value: choice.value for choice in question.choices})
    if _plain_text(option) in labels:
        return labels[_plain_text(option)]
    close = difflib.get_close_matches(_plain_text(option), list(labels), n=1, cutoff=0.6)
    return f"{labels[close[0]]}  # guessed" if close else None


def _guess_value(value: str, question: Question) -> str | None:
    """The answer value a survey value most likely means, marked 'guessed' or 'TODO' for
    review; None when there is no guess that ``score`` would accept (the line is then written
    as a comment to complete)."""
    import difflib

    if question.type == "bool":
        return "true  # TODO: true or false?"
    if question.type in ("int", "number"):
        assert question.min is not None and question.max is not None  # a number question has both
        numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", value)]
        if not numbers:
            return None
        guess = min(max(sum(numbers[:2]) / len(numbers[:2]), question.min), question.max)
        if question.type == "int":
            guess = round(guess)
        return f"{guess:g}  # TODO: check (a number from {question.min:g} to {question.max:g})"
    labels = {choice.label.lower(): choice.value for choice in question.choices}
    labels.update({choice.value: choice.value for choice in question.choices})
    if value.lower() in labels:
        return labels[value.lower()]
    close = difflib.get_close_matches(value.lower(), list(labels), n=1, cutoff=0.5)
    return f"{labels[close[0]]}  # guessed" if close else None
