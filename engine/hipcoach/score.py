"""Batch scoring: a survey export in, every respondent's plan (and a summary) out.

The pipeline streams: pandas reads the export in chunks; each row is mapped to answers and
checked; rows with identical raw cells share one translation, and rows with identical
normalised answers share one engine evaluation, whose output rows are rendered once
(:mod:`.profiles`). Both caches are bounded (least recently used profiles are evaluated again if
they come back), and outputs are written as the rows go, to temporary files renamed into place
at the end: memory stays flat however many rows there are, and a failed run leaves nothing
half-written. Every row is either scored or rejected with its reasons: rows in = scored +
rejected, always.
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from operator import itemgetter
from pathlib import Path
from typing import Any, TextIO

from .answers import complete
from .atomic import AtomicFiles
from .csvsafe import row_text
from .errors import SurveyError
from .mapping import Mapping, Translator, load_mapping, plain_mapping
from .plan import Planner
from .profiles import ID_SLOT, ITEM_COLUMNS, PLAN_COLUMNS, Rendered, render, render_many, start_worker
from .survey import detect, header, read_head, rows

ERROR_COLUMNS = ("row", "respondent_id", "column", "value", "problem")
#: Below this many new profiles in a chunk, worker processes cost more than they save.
PARALLEL_MIN = 64
#: Profiles (and raw rows) remembered at most: enough for the answers that recur.
CACHE_SIZE = 10_000
COUNTED = ("symptoms", "causes", "exercises", "categories")


@dataclass
class Options:
    mapping: Path | None = None
    layout: str | None = None
    jobs: int = 1
    traces: bool = False
    encoding: str = "utf-8-sig"
    dedupe: bool = True


@dataclass
class Tally:
    rows_in: int = 0
    scored: int = 0
    rejected: int = 0
    ids: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    profiles: set[int] = field(default_factory=set)  # hashes of distinct profiles
    status: Counter[str] = field(default_factory=Counter)
    counts: dict[str, Counter[str]] = field(default_factory=lambda: {k: Counter() for k in COUNTED})

    def count(self, rows_of: dict[Any, tuple[Rendered, int]]) -> None:
        """Add a chunk's scored rows, grouped by profile (one counter update per profile)."""
        for profile, (rendered, many) in rows_of.items():
            self.scored += many
            self.profiles.add(hash(profile))
            self.status[rendered.status] += many
            for name in COUNTED:
                counter = self.counts[name]
                for value in set(getattr(rendered, name)):
                    counter[value] += many


class _Cache(OrderedDict):  # type: ignore[type-arg]
    """A dict that forgets its least recently used entries beyond ``CACHE_SIZE``."""

    def get(self, key: object, default: object = None) -> object:
        if key in self:
            self.move_to_end(key)
            return self[key]
        return default

    def __setitem__(self, key: object, value: object) -> None:
        super().__setitem__(key, value)
        if len(self) > CACHE_SIZE:
            self.popitem(last=False)


@dataclass(frozen=True)
class Prepared:
    """What a survey's header rows say: layout, columns, mapping and the warnings on them."""

    layout: str
    columns: tuple[str, ...]
    mapping: Mapping
    index: dict[str, int]
    extra: tuple[str, ...]


def prepare(survey: Path, planner: Planner, options: Options) -> Prepared:
    """Read the header rows, settle the layout and mapping, and check they fit each other."""
    head = read_head(survey, options.encoding)
    mapping = load_mapping(options.mapping, planner.kb) if options.mapping else None
    layout = options.layout or (mapping.layout if mapping else None) or \
        detect(head, set(planner.kb.questions))
    cols = header(head, layout)
    if mapping is None:
        if layout != "plain":
            raise SurveyError(f"a {layout} export needs a mapping of its columns to answers: "
                              f"write a starter with `hipcoach mapping init {survey}`, edit it, "
                              f"and pass it with --mapping")
        mapping = plain_mapping(cols.columns, planner.kb)
    index = {name: i for i, name in enumerate(cols.columns)}
    if mapping.respondent_id not in index:
        raise SurveyError(f"{survey}: no respondent id column {mapping.respondent_id!r}; columns "
                          f"are: {', '.join(cols.columns[:12])}{' ...' if len(cols.columns) > 12 else ''}")
    missing = [c.name for c in mapping.columns if c.name not in index]
    if missing:
        raise SurveyError(f"{survey}: the mapping names column(s) the export does not have: "
                          f"{', '.join(repr(m) for m in missing)}")
    used = {c.name for c in mapping.columns} | {mapping.respondent_id} | set(mapping.ignore)
    extra = tuple(name for name in cols.columns if name not in used)
    return Prepared(layout, cols.columns, mapping, index, extra)


class _Profiles:
    """Distinct answer profiles and their rendered output, evaluated once each."""

    def __init__(self, planner: Planner, options: Options, knowledge: Path | None,
                 rules: Path | None) -> None:
        self.planner = planner
        self.traces = options.traces
        self.rendered = _Cache()
        self.pool: ProcessPoolExecutor | None = None
        if options.jobs > 1:
            self.pool = ProcessPoolExecutor(options.jobs, mp_context=get_context("spawn"),
                                            initializer=start_worker, initargs=(knowledge, rules))
            self.jobs = options.jobs

    def fill(self, wanted: dict[Any, dict[str, Any]]) -> dict[Any, Rendered]:
        """The rendered output for every profile in ``wanted`` (key -> answers), evaluating
        those not remembered."""
        found: dict[Any, Rendered] = {}
        new = []
        for key, answers in wanted.items():
            cached = self.rendered.get(key)
            if cached is None:
                new.append((key, answers))
            else:
                found[key] = cached
        if self.pool is not None and len(new) >= PARALLEL_MIN:
            size = max(1, len(new) // (self.jobs * 4))
            batches = [new[i:i + size] for i in range(0, len(new), size)]
            results = [pair for result in self.pool.map(render_many, batches,
                                                        [self.traces] * len(batches))
                       for pair in result]
        else:
            results = [(key, render(self.planner, answers, self.traces)) for key, answers in new]
        for key, rendered in results:
            self.rendered[key] = rendered
            found[key] = rendered
        return found

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def score(survey: Path, out: Path | None, planner: Planner, options: Options,
          knowledge: Path | None = None, rules: Path | None = None,
          progress: Callable[[int], None] | None = None, stdout: TextIO | None = None,
          report: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Score every respondent in ``survey``; write the outputs to folder ``out`` (or the plans
    table to ``stdout`` when ``out`` is None, each rejected row then going to ``report``) and
    return the summary."""
    prepared = prepare(survey, planner, options)
    targets = ["plans.csv", "plan_items.csv", "errors.csv", "summary.json"]
    if options.traces:
        targets.append("traces.jsonl")
    profiles = _Profiles(planner, options, knowledge, rules)
    tally = Tally()
    try:
        if out is None:
            assert stdout is not None
            _run(survey, prepared, planner, options, profiles, tally, progress,
                 plans=stdout, items=None, errors=None, traces=None, report=report)
            return _summary(survey, prepared, tally)
        out.mkdir(parents=True, exist_ok=True)
        with AtomicFiles(*(out / name for name in targets)) as streams:
            plans, items, errors, summary_file = streams[:4]
            traces = streams[4] if options.traces else None
            _run(survey, prepared, planner, options, profiles, tally, progress,
                 plans=plans, items=items, errors=errors, traces=traces)
            summary = _summary(survey, prepared, tally)
            summary_file.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        return summary
    finally:
        profiles.close()


def _run(survey: Path, prepared: Prepared, planner: Planner, options: Options,
         profiles: _Profiles, tally: Tally, progress: Callable[[int], None] | None,
         plans: TextIO, items: TextIO | None, errors: TextIO | None, traces: TextIO | None,
         report: Callable[[str], None] | None = None) -> None:
    plans.write(row_text(PLAN_COLUMNS))
    if items is not None:
        items.write(row_text(ITEM_COLUMNS))
    if errors is not None:
        errors.write(row_text(ERROR_COLUMNS))
    fields = _profile_fields(planner)
    id_column = prepared.index[prepared.mapping.respondent_id]
    mapped = sorted({prepared.index[c.name] for c in prepared.mapping.columns})
    # the cells answers come from: a tuple, or one cell for one column (either serves as a key)
    pick_mapped = itemgetter(*mapped) if mapped else (lambda cells: ())
    translated = _Cache()
    translator = Translator(prepared.mapping, prepared.index, planner.kb)
    width = len(prepared.columns)
    for batch, bad in rows(survey, prepared.layout, width, options.encoding, progress):
        problems: list[tuple[int, str, list[tuple[str, str, str]]]] = [
            (record.line, record.cells[id_column].strip() if len(record.cells) > id_column else "",
             [("", "", f"malformed record: {record.problem}")]) for record in bad]
        wanted: dict[Any, dict[str, Any]] = {}
        keyed: list[tuple[int, str, Any, Any]] = []
        for number, cells in batch:
            ident = cells[id_column].strip()
            raw_key = pick_mapped(cells)
            entry = translated.get(raw_key)
            if entry is None:
                entry = translated[raw_key] = _translate(translator, planner, cells, fields,
                                                         options.traces)
            profile, key, payload = entry
            if profile is not None and not ident:
                profile, payload = None, [(prepared.mapping.respondent_id, "", "empty respondent id")]
            if profile is None:
                problems.append((number, ident, payload))
                continue
            if not options.dedupe:  # every row evaluated on its own
                key = (number, key)
            wanted[key] = payload
            keyed.append((number, ident, profile, key))
        tally.rows_in += len(bad) + len(batch)
        tally.rejected += len(problems)
        if errors is not None:
            for number, ident, payload in sorted(problems, key=lambda p: p[0]):
                for column, value, problem in payload:
                    errors.write(row_text([number, ident, column, value, problem]))
        elif report is not None:
            for number, ident, payload in sorted(problems, key=lambda p: p[0]):
                report(f"row {number} ({ident or 'no id'}): "
                       + "; ".join(f"{c or 'record'}: {problem}" for c, _, problem in payload))
        rendered_now = profiles.fill(wanted)
        rows_of: dict[Any, tuple[Rendered, int]] = {}
        plan_lines, item_lines, trace_lines = [], [], []
        for number, ident, profile, key in keyed:
            rendered = rendered_now[key]
            seen = rows_of.get(profile)
            rows_of[profile] = (rendered, seen[1] + 1 if seen else 1)
            if ident in tally.ids:
                tally.duplicates.setdefault(ident, [tally.ids[ident]]).append(number)
            else:
                tally.ids[ident] = number
            id_cell = row_text([ident])[:-1]
            plan_lines.append(id_cell + rendered.plan_tail)
            if items is not None:
                item_lines.extend(id_cell + tail for tail in rendered.item_tails)
            if traces is not None and rendered.trace is not None:
                trace_lines.append('{"respondent":' + json.dumps(ident, ensure_ascii=False) + ","
                                   + rendered.trace[len(ID_SLOT):])
        tally.count(rows_of)
        plans.write("".join(plan_lines))
        if items is not None:
            items.write("".join(item_lines))
        if traces is not None:
            traces.write("".join(trace_lines))


def _profile_fields(planner: Planner) -> set[str]:
    """Answer ids that can change a plan: those the rules test, and ``minutes``, the budget the
    plan step reads itself. Other answers (age, say) never reach a plan, so respondents who
    differ only there share a profile."""
    return {field for rule in planner.rulebase.rules for field in rule.answers_used} | {"minutes"}


def _translate(translator: Translator, planner: Planner, cells: tuple[str, ...],
               fields: set[str], traces: bool) -> tuple[Any, Any, Any]:
    """``(profile, evaluation key, answers)`` for a good row; ``(None, None, problems)`` for a
    bad one. The key is the profile, unless a trace (which shows every answer) is wanted."""
    raw, problems = translator.row(cells)
    if problems:
        return None, None, problems
    answers = complete(raw, planner.kb)
    relevant = {k: v for k, v in answers.items() if k in fields}
    profile = _frozen(relevant)
    if traces:
        return profile, _frozen(answers), answers
    return profile, profile, relevant


def _frozen(answers: dict[str, Any]) -> tuple:
    """A hashable, order-free form of answers: equal answers give equal keys."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in answers.items()))


def _summary(survey: Path, prepared: Prepared, tally: Tally) -> dict[str, Any]:
    def ordered(counter: Counter[str]) -> dict[str, int]:
        return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))

    return {
        "survey": survey.name,
        "format": prepared.layout,
        "rows_in": tally.rows_in,
        "scored": tally.scored,
        "rejected": tally.rejected,
        "accounted": tally.rows_in == tally.scored + tally.rejected,
        "distinct_profiles": len(tally.profiles),
        "duplicate_ids": {ident: rows for ident, rows in sorted(tally.duplicates.items())},
        "extra_columns": list(prepared.extra),
        "status": ordered(tally.status),
        **{name: ordered(tally.counts[name]) for name in COUNTED},
    }
