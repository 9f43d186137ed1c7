"""A chunk of survey rows turned into codes, column by column, so the work per row is done by
pandas and numpy and the Python work is per distinct value.

Each distinct cell of a column is translated and checked once (:class:`.mapping.Translator`),
and its answer's final value (united with other columns that feed the answer, an assumed value
and the question's default filled in) gets a code that stays the same for the whole run. A row
is then a vector of codes, one per answer: rows whose evaluation keys are equal (:mod:`.keys`)
form one group, evaluated once, and the outputs are mapped back to rows by group number.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..kb.answers import complete
from ..kb.knowledge import KnowledgeBase
from ..kb.ops import holds
from ..present.explain import value_text
from . import coverage
from .keys import Profiler
from .mapping import Column, Translator
from .survey import Marker


class Problem(NamedTuple):
    """A rejected row: its number, its respondent id, its problems as ``(column, value,
    problem)`` and the reason it is counted under in summary.json."""

    row: int
    ident: str
    cells: list[tuple[str, str, str]]
    reason: str


#: The reasons a row is rejected for, as summary.json counts them (and a layout's markers').
NO_ANSWERS = "no answers at all"
NOT_ALLOWED = "a value the questionnaire does not allow"
TRIAGE_BLANK = "a blank answer triage needs"
NO_ID = "an empty respondent id"
MALFORMED = "a malformed record"
Codes = npt.NDArray[np.int64]
#: A rejected row's cell is shown at most this long in errors.csv and messages.
VALUE_SHOWN = 200


@dataclass
class Chunk:
    """One chunk of rows in codes: its rejected rows, and for its scored rows (in input order)
    their numbers, ids and group; ``keys[g]`` is group ``g``'s evaluation key and ``wanted``
    the answers each key is evaluated from."""

    rows_in: int
    problems: list[Problem]
    numbers: npt.NDArray[np.int64]
    ids: npt.NDArray[np.object_]
    group: Codes
    keys: list[Any]
    wanted: dict[Any, dict[str, Any]]
    profiles: set[tuple[int, ...]] = field(default_factory=set)
    #: each scored row's cells of the columns carried through (``--keep``), when there are any
    kept: list[tuple[str, ...]] = field(default_factory=list)
    #: answer -> scored rows that took its default where the question applied to them
    defaulted: Counter[str] = field(default_factory=Counter)


class Coder:
    """Codes chunks of one survey's rows. ``key`` says what an evaluation is shared by:
    ``"class"`` (the answers' classes, the default), ``"exact"`` (every answer exactly, for
    traces, which quote them all) or ``"row"`` (nothing: every row evaluated on its own)."""

    def __init__(self, translator: Translator, profiler: Profiler, kb: KnowledgeBase,
                 assumed: dict[str, Any], id_column: tuple[int, str], key: str = "class",
                 full: bool = False, markers: tuple[tuple[int, Marker, str], ...] = (),
                 needed: tuple[str, ...] = ()) -> None:
        self.translator, self.profiler, self.kb = translator, profiler, kb
        self.assumed, self.key = assumed, key
        self.id_column, self.id_name = id_column
        #: whether an evaluation gets every answer (a trace quotes them all) or only those
        #: that can change a plan
        self.full = full
        #: (column index, marker, column name): the tool's marks of a finished, real response
        self.markers = markers
        self.feeds: dict[str, list[tuple[int, Column]]] = {}
        for position, column in translator.columns:
            self.feeds.setdefault(column.answer, []).append((position, column))
        #: answers the triage rules read whose blank, where the question applied, rejects the
        #: row (a list answer's blank is "nothing ticked", an answer in itself)
        self.needed = tuple(answer for answer in needed if answer in self.feeds
                            and kb.questions[answer].type != "multi")
        #: answers whose blank (or missing column) takes the default, counted as defaulted
        self.defaultable = tuple(
            answer for answer in kb.questions if answer not in assumed
            and answer not in self.needed
            and not (answer in self.feeds and kb.questions[answer].type == "multi"))
        #: every answer, coded: its final value for a row with no cell for it (the default)
        self.answers = tuple(kb.questions)
        self.codes: dict[str, dict[Any, int]] = {a: {} for a in self.answers}
        self.values: dict[str, list[Any]] = {a: [] for a in self.answers}
        self.classes: dict[str, dict[Any, int]] = {a: {} for a in self.answers}
        self.class_of: dict[str, list[int]] = {a: [] for a in self.answers}
        #: (column index, cell text) -> the code of the answer it gives, -1 for a bad cell
        self.cell_codes: dict[tuple[int, str], int] = {}
        self.keyed = profiler.fields if key == "class" else self.answers

    def chunk(self, batch: list[tuple[int, tuple[str, ...]]], problems: list[Problem],
              rows_in: int) -> Chunk:
        """Code ``batch``; rows rejected on the way are added to ``problems``."""
        count = len(batch)
        if not count:
            return Chunk(rows_in, problems, np.zeros(0, np.int64), np.zeros(0, object),
                         np.zeros(0, np.int64), [], {})
        numbers = np.fromiter((number for number, _ in batch), np.int64, count)
        columns = list(zip(*(cells for _, cells in batch)))
        rejected = np.zeros(count, bool)
        ids = _array(tuple(text.strip() for text in columns[self.id_column]))
        for position, marker, name in self.markers:
            cells, uniques = _factorize(columns[position])
            fails = ~np.fromiter((marker.holds(text) for text in uniques), bool,
                                 len(uniques))[cells] & ~rejected
            for row in np.flatnonzero(fails):
                value = columns[position][row]
                problems.append(Problem(int(numbers[row]), shown(ids[row]),
                                        [(name, shown(value.strip()), marker.problem(name, value))],
                                        marker.why))
            rejected |= fails
        value_codes: dict[str, Codes] = {}
        bad = np.zeros(count, bool)
        for answer in self.answers:
            value_codes[answer] = self._answer(answer, columns, count, bad)
        given = {answer: self._given(answer, columns, count) for answer in self.answers}
        nothing = ~np.stack([given[a] for a in self.feeds]).any(axis=0) if self.feeds \
            else np.ones(count, bool)
        nothing &= ~rejected
        for row in np.flatnonzero(nothing):
            problems.append(Problem(int(numbers[row]), shown(ids[row]), [
                ("", "", "no answers at all: an empty response, or a row that is not a "
                         "response (a note or a total)")], NO_ANSWERS))
        rejected |= nothing
        for row in np.flatnonzero(bad & ~rejected):
            _, found = self.translator.row(batch[row][1])
            problems.append(Problem(int(numbers[row]), ids[row], [
                (column, shown(value), problem) for column, value, problem in found], NOT_ALLOWED))
        rejected |= bad
        applies = {answer: self._applies(answer, value_codes, count) for answer in self.answers}
        for answer in self.needed:
            blank = np.flatnonzero(~given[answer] & applies[answer] & ~rejected)
            for row in blank:
                problems.append(Problem(int(numbers[row]), ids[row], [
                    (self.feeds[answer][0][1].name, "",
                     self._needed_problem(answer, value_codes, int(row)))], TRIAGE_BLANK))
            rejected[blank] = True
        empty = (ids == "") & ~rejected
        for row in np.flatnonzero(empty):
            problems.append(Problem(int(numbers[row]), "", [
                (self.id_name, "", "empty respondent id")], NO_ID))
        good = np.flatnonzero(~(rejected | empty))
        defaulted = Counter({answer: int(np.count_nonzero(~given[answer][good]
                                                          & applies[answer][good]))
                             for answer in self.defaultable})
        profile = np.column_stack([value_codes[a][good] for a in self.profiler.fields]) \
            if len(good) else np.zeros((0, len(self.profiler.fields)), np.int64)
        if self.key == "row":
            keyed = np.column_stack([numbers[good], profile]) if len(good) else profile
        else:
            keyed = np.column_stack([
                (np.asarray(self.class_of[a], np.int64)[value_codes[a][good]]
                 if self.key == "class" else value_codes[a][good]) for a in self.keyed]) \
                if len(good) else np.zeros((0, len(self.keyed)), np.int64)
        distinct, first, group = _groups(keyed)
        keys: list[Any] = []
        wanted: dict[Any, dict[str, Any]] = {}
        for row_key, row in zip(distinct, first):
            key = tuple(row_key.tolist())
            keys.append(key)
            source = good[row]
            wanted[key] = {a: self.values[a][value_codes[a][source]] for a in
                           (self.answers if self.full else self.profiler.fields)}
        profiles = {tuple(p) for p in np.unique(profile, axis=0).tolist()} if len(good) else set()
        return Chunk(rows_in, problems, numbers[good], ids[good], group, keys, wanted, profiles,
                     defaulted=+defaulted)

    def _given(self, answer: str, columns: list[tuple[str, ...]], count: int) -> npt.NDArray[np.bool_]:
        """Which rows give ``answer`` at all: a cell that is not blank, or a ticked box (an
        assumed answer counts as given)."""
        if answer in self.assumed:
            return np.ones(count, bool)
        mask = np.zeros(count, bool)
        for position, column in self.feeds.get(answer, []):
            cells, uniques = _factorize(columns[position])
            mask |= np.fromiter((self.translator.gives(column, text) for text in uniques), bool,
                                len(uniques))[cells]
        return mask

    def _applies(self, answer: str, value_codes: dict[str, Codes], count: int
                 ) -> npt.NDArray[np.bool_]:
        """Which rows the questionnaire asks ``answer`` of, by its skip logic and their other
        answers (as scored: given, assumed or defaulted)."""
        question = self.kb.questions[answer]
        if not question.ask_if_any:
            return np.ones(count, bool)
        mask = np.zeros(count, bool)
        for cond in question.ask_if_any:
            values = self.values[cond.answer]
            # one more, False, for the code -1 of a bad cell (its row is rejected anyway)
            holding = np.fromiter((*(holds(cond.op, value, cond.value) for value in values),
                                   False), bool, len(values) + 1)
            mask |= holding[value_codes[cond.answer]]
        return mask

    def _needed_problem(self, answer: str, value_codes: dict[str, Codes], row: int) -> str:
        """Why a blank ``answer`` rejects row ``row``: the triage rules read it, and the
        questionnaire asks it of this respondent (naming the answer that made it apply)."""
        question = self.kb.questions[answer]
        because = ""
        for cond in question.ask_if_any:
            value = self.values[cond.answer][int(value_codes[cond.answer][row])]
            if holds(cond.op, value, cond.value):
                because = f" for a respondent whose {cond.answer} is {value_text(value)}"
                break
        return (f"{answer} is blank{because}: the triage rules need it to tell who should "
                f"see a clinician first, so the row is not scored from a default")

    def _answer(self, answer: str, columns: list[tuple[str, ...]], count: int,
                bad: npt.NDArray[np.bool_]) -> Codes:
        """Each row's code of ``answer``'s final value; rows with a bad cell are marked in
        ``bad`` (their code is then meaningless)."""
        feeds = self.feeds.get(answer, [])
        if not feeds:
            return np.full(count, self._code(answer, None), np.int64)
        if len(feeds) == 1:  # the common case: one column, one code per distinct cell
            position, column = feeds[0]
            cells, uniques = _factorize(columns[position])
            memo = self.cell_codes
            found = []
            for text in uniques:
                code = memo.get((position, text))
                if code is None:
                    if len(memo) >= Translator.LIMIT:
                        memo.clear()
                    value, problem = self.translator.cell(position, column, text)
                    code = memo[(position, text)] = -1 if problem else self._code(answer, value)
                found.append(code)
            codes = np.asarray(found, np.int64)[cells]
            bad |= codes < 0
            return codes
        per_column = []
        for position, column in feeds:
            cells, uniques = _factorize(columns[position])
            translated = [self.translator.cell(position, column, text) for text in uniques]
            flawed = np.fromiter((p is not None for _, p in translated), bool, len(translated))
            bad |= flawed[cells]
            per_column.append((cells, [value for value, _ in translated]))
        combos, _, group = _groups(np.column_stack([cells for cells, _ in per_column]))
        merged_codes = []
        for combo in combos.tolist():
            merged = None
            for (_, values), index in zip(per_column, combo):
                if values[index] is not None:
                    merged = self.translator.merge(answer, merged, values[index])
            merged_codes.append(self._code(answer, merged))
        return np.asarray(merged_codes, np.int64)[group]

    def _code(self, answer: str, value: Any) -> int:
        """The run-wide code of ``answer``'s final value when its columns give ``value``."""
        final = complete(coverage.apply({answer: value} if value is not None else {},
                                        {answer: self.assumed[answer]} if answer in self.assumed
                                        else {}, self.kb), self.kb)[answer]
        hashable = tuple(final) if isinstance(final, list) else final
        codes = self.codes[answer]
        code = codes.get(hashable)
        if code is None:
            code = codes[hashable] = len(codes)
            self.values[answer].append(final)
            tests = self.profiler.compared.get(answer)
            kind = tuple(holds(op, final, target) for op, target in tests) if tests else hashable
            self.class_of[answer].append(self.classes[answer].setdefault(kind, len(self.classes[answer])))
        return code


def _array(cells: tuple[str, ...]) -> npt.NDArray[np.object_]:
    return np.array(cells, dtype=object)


def _factorize(cells: tuple[str, ...]) -> tuple[Codes, list[str]]:
    """Each cell's index into the column's distinct texts, and those texts."""
    codes, uniques = pd.factorize(_array(cells))
    return codes.astype(np.int64), list(uniques)


def _groups(keys: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], Codes]:
    """The distinct rows of ``keys``, the first row index of each, and each row's group."""
    if len(keys) == 0:
        return keys, np.zeros(0, np.int64), np.zeros(0, np.int64)
    distinct, first, group = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return distinct, first, group.reshape(-1).astype(np.int64)


def shown(value: str) -> str:
    """``value`` cut to ``VALUE_SHOWN`` characters, for errors.csv and messages."""
    return value if len(value) <= VALUE_SHOWN else value[:VALUE_SHOWN] + "..."
