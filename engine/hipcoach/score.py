"""Batch scoring: a survey export in, every respondent's plan (and a summary) out.

The pipeline streams: pandas reads the export in chunks; each row is mapped to answers and
checked; rows with identical raw cells share one translation, and rows with identical
normalised answers share one engine evaluation, whose output rows are rendered once
(:mod:`.profiles`). Outputs are written as the rows go, to temporary files renamed into place at
the end, so memory holds the distinct profiles, not the rows, and a failed run leaves nothing
half-written. Every row is either scored or rejected with its reasons: rows in = scored +
rejected, always.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TextIO

from .answers import normalise
from .atomic import AtomicFiles
from .csvsafe import row_text
from .errors import AnswersError, SurveyError
from .mapping import Mapping, load_mapping, plain_mapping, translate
from .plan import Planner
from .profiles import ID_SLOT, ITEM_COLUMNS, PLAN_COLUMNS, Rendered, render, render_many, \
    start_worker
from .survey import LAYOUTS, detect, header, read_head, rows

ERROR_COLUMNS = ("row", "respondent_id", "column", "value", "problem")
#: Below this many new profiles in a chunk, worker processes cost more than they save.
PARALLEL_MIN = 64


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
    per_profile: Counter[str] = field(default_factory=Counter)


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
        self.rendered: dict[str, Rendered] = {}
        self.pool: ProcessPoolExecutor | None = None
        if options.jobs > 1:
            self.pool = ProcessPoolExecutor(options.jobs, mp_context=get_context("spawn"),
                                            initializer=start_worker, initargs=(knowledge, rules))
            self.jobs = options.jobs

    def fill(self, wanted: dict[str, dict[str, Any]]) -> None:
        """Evaluate the profiles in ``wanted`` (key -> answers) not evaluated before."""
        new = [(key, answers) for key, answers in wanted.items() if key not in self.rendered]
        if self.pool is not None and len(new) >= PARALLEL_MIN:
            size = max(1, len(new) // (self.jobs * 4))
            batches = [new[i:i + size] for i in range(0, len(new), size)]
            for result in self.pool.map(render_many, batches, [self.traces] * len(batches)):
                self.rendered.update(result)
        else:
            for key, answers in new:
                self.rendered[key] = render(self.planner, answers, self.traces)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def score(survey: Path, out: Path | None, planner: Planner, options: Options,
          knowledge: Path | None = None, rules: Path | None = None,
          progress: Callable[[int], None] | None = None, stdout: TextIO | None = None
          ) -> dict[str, Any]:
    """Score every respondent in ``survey``; write the outputs to folder ``out`` (or the plans
    table to ``stdout`` when ``out`` is None) and return the summary."""
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
                 plans=stdout, items=None, errors=None, traces=None)
            return _summary(survey, prepared, profiles, tally)
        out.mkdir(parents=True, exist_ok=True)
        with AtomicFiles(*(out / name for name in targets)) as streams:
            plans, items, errors, summary_file = streams[:4]
            traces = streams[4] if options.traces else None
            _run(survey, prepared, planner, options, profiles, tally, progress,
                 plans=plans, items=items, errors=errors, traces=traces)
            summary = _summary(survey, prepared, profiles, tally)
            summary_file.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        return summary
    finally:
        profiles.close()


def _run(survey: Path, prepared: Prepared, planner: Planner, options: Options,
         profiles: _Profiles, tally: Tally, progress: Callable[[int], None] | None,
         plans: TextIO, items: TextIO | None, errors: TextIO | None, traces: TextIO | None) -> None:
    plans.write(row_text(PLAN_COLUMNS))
    if items is not None:
        items.write(row_text(ITEM_COLUMNS))
    if errors is not None:
        errors.write(row_text(ERROR_COLUMNS))
    keys_used = _profile_fields(planner, options)
    id_column = prepared.index[prepared.mapping.respondent_id]
    mapped = sorted({prepared.index[c.name] for c in prepared.mapping.columns})
    translated: dict[tuple[str, ...], tuple[str | None, Any]] = {}
    width = len(prepared.columns)
    for batch, bad in rows(survey, prepared.layout, width, options.encoding, progress):
        for record in bad:
            tally.rows_in += 1
            tally.rejected += 1
            if errors is not None:
                errors.write(row_text([f"line {record.line}", "", "", "",
                                       f"malformed record: {record.problem}"]))
        wanted: dict[str, dict[str, Any]] = {}
        keyed: list[tuple[int, str, str | None, Any]] = []
        for number, cells in batch:
            tally.rows_in += 1
            ident = cells[id_column].strip()
            raw_key = tuple(cells[i] for i in mapped) if options.dedupe else (str(number),)
            entry = translated.get(raw_key) if options.dedupe else None
            if entry is None:
                entry = _translate(prepared, planner, cells, keys_used)
                if options.dedupe:
                    translated[raw_key] = entry
            key, payload = entry
            if key is not None and not ident:
                key, payload = None, [(prepared.mapping.respondent_id, "", "empty respondent id")]
            if key is not None:
                wanted[key] = payload
            keyed.append((number, ident, key, payload))
        profiles.fill(wanted)
        for number, ident, key, payload in keyed:
            if key is None:
                tally.rejected += 1
                if errors is not None:
                    for column, value, problem in payload:
                        errors.write(row_text([number, ident, column, value, problem]))
                continue
            tally.scored += 1
            tally.per_profile[key] += 1
            if ident in tally.ids:
                tally.duplicates.setdefault(ident, [tally.ids[ident]]).append(number)
            else:
                tally.ids[ident] = number
            rendered = profiles.rendered[key]
            id_cell = row_text([ident])[:-1]
            plans.write(id_cell + rendered.plan_tail)
            if items is not None:
                for tail in rendered.item_tails:
                    items.write(id_cell + tail)
            if traces is not None and rendered.trace is not None:
                traces.write('{"respondent":' + json.dumps(ident, ensure_ascii=False) + ","
                             + rendered.trace[len(ID_SLOT):])


def _profile_fields(planner: Planner, options: Options) -> set[str] | None:
    """Answer ids a profile key needs. Plans only ever show answers the rules test, so other
    answers (age, say) need not split profiles; a trace shows all answers, so then all count."""
    if options.traces or not options.dedupe:
        return None
    return {field for rule in planner.rulebase.rules for field in rule.answers_used}


def _translate(prepared: Prepared, planner: Planner, cells: tuple[str, ...],
               fields: set[str] | None) -> tuple[str | None, Any]:
    """``(profile key, answers)`` for a good row, ``(None, problems)`` for a bad one."""
    raw, problems = translate(prepared.mapping, prepared.index, cells, planner.kb)
    if problems:
        return None, problems
    try:
        answers = normalise(raw, planner.kb)
    except AnswersError as exc:  # defensive: translate already checked each answer
        return None, [("", str(exc.value), str(exc))]
    if fields is not None:
        answers = {k: v for k, v in answers.items() if k in fields}
    return json.dumps(answers, sort_keys=True, ensure_ascii=False), answers


def _summary(survey: Path, prepared: Prepared, profiles: _Profiles, tally: Tally) -> dict[str, Any]:
    counts: dict[str, Counter[str]] = {k: Counter() for k in
                                       ("status", "symptoms", "causes", "exercises", "categories")}
    for key, rows_with in tally.per_profile.items():
        rendered = profiles.rendered[key]
        counts["status"][rendered.status] += rows_with
        for name in ("symptoms", "causes", "exercises", "categories"):
            for value in set(getattr(rendered, name)):
                counts[name][value] += rows_with
    return {
        "survey": survey.name,
        "format": prepared.layout,
        "rows_in": tally.rows_in,
        "scored": tally.scored,
        "rejected": tally.rejected,
        "accounted": tally.rows_in == tally.scored + tally.rejected,
        "distinct_profiles": len(tally.per_profile),
        "duplicate_ids": {ident: rows for ident, rows in sorted(tally.duplicates.items())},
        "extra_columns": list(prepared.extra),
        **{name: dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))
           for name, counter in counts.items()},
    }


