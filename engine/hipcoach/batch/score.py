"""Batch scoring: a survey export in, every respondent's plan (and a summary) out.

The pipeline streams: the export is read in chunks; each row is mapped to answers and
checked; rows with identical raw cells share one translation, and rows with identical
normalised answers share one engine evaluation, whose output rows are rendered once
(:mod:`.profiles`). Both caches are bounded (least recently used profiles are evaluated again if
they come back), and outputs are written as the rows go, to temporary files renamed into place
at the end: memory stays flat however many rows there are, and a failed run leaves nothing
half-written. Every row is either scored or rejected with its reasons: rows in = scored +
rejected, always.

With ``jobs`` above 1, distinct profiles go to worker processes in small batches as soon as a
chunk is read, and the chunks are written in input order as their profiles come back: reading,
translating and writing overlap the evaluation instead of waiting for it. With ``dask`` (a
scheduler's address, or ``"local"``), the same batches go to the workers of a Dask cluster
(:mod:`.cluster`) from the first profile on; everything else stays in this process.

A survey that cannot be triaged (no column for an answer a triage rule reads) is refused before
any row is read, unless the user assumes a value for it (:mod:`.coverage`).
"""

from __future__ import annotations

import json
import os
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np
import numpy.typing as npt

from ..atomic import FolderSet
from ..errors import ClusterError, SurveyError, WorkerError
from ..formats import MappingFile, ScoreOptions, Summary
from ..planning.planner import Planner
from . import coverage
from .coding import MALFORMED, Chunk, Coder, Problem, shown
from .csvsafe import cell_texts, row_text
from .findings import FINDING_COLUMNS
from .keys import Profiler
from .ledger import Ledger
from .mapping import Mapping, Translator, form_mapping, load_mapping, question_texts
from .outputs import finish, require
from .profiles import ID_SLOT, ITEM_COLUMNS, PLAN_COLUMNS, Rendered, render, render_many, start_worker
from .records import DEFAULT_ENCODING, Dialect, delimiter_hint, settle
from .report import Collector, Extras
from .survey import LAYOUTS, Marker, detect, header, read_head, rows

ERROR_COLUMNS = ("row", "respondent_id", "column", "value", "problem")
OUTPUT_NAMES = ("plans.csv", "plan_items.csv", "errors.csv", "summary.json", "findings.csv",
                "datapackage.json")
TRACES_NAME = "traces.jsonl"
REPORT_NAME = "report.html"
#: the Parquet copy of each table (--parquet)
PARQUET_NAMES = tuple(name.replace(".csv", ".parquet") for name in OUTPUT_NAMES if name.endswith(".csv"))
#: Until a chunk brings this many new profiles, starting worker processes costs more than it saves.
PARALLEL_MIN = 64
#: Profiles a worker process is sent at once: small enough to keep every worker busy to the end.
BATCH_MAX = 32
#: Chunks read ahead of the one being written, per worker.
AHEAD_PER_JOB = 4
#: Profiles (and raw rows) remembered at most: enough for the answers that recur.
CACHE_SIZE = 10_000
COUNTED = ("symptoms", "causes", "exercises", "categories")


@dataclass
class Options:
    mapping: Path | None = None
    layout: str | None = None
    jobs: int = 1
    traces: bool = False
    encoding: str = DEFAULT_ENCODING
    dedupe: bool = True
    #: answer -> value for answers the survey has no column for, given by the user
    assume: dict[str, Any] = field(default_factory=dict)
    delimiter: str | None = None  # None: detected
    sheet: str | None = None  # an .xlsx workbook's sheet; None: the first
    #: a Dask scheduler's address, or "local" for a cluster of ``jobs`` processes started for
    #: the run; None: this machine only (``jobs`` processes)
    dask: str | None = None
    #: seconds to wait for the Dask scheduler, and for its first worker
    dask_timeout: float = 30.0
    #: export columns carried into plans.csv, and the one the report is broken down by
    keep: tuple[str, ...] = ()
    group_by: str | None = None
    #: also write report.html; Parquet copies of the tables; groups under 5 shown without figures
    report: bool = False
    parquet: bool = False
    small_cell: bool = True
    #: the decimal mark of number cells: "," or "."; None: a comma where the delimiter is not one
    decimal: str | None = None


@dataclass
class Tally:
    rows_in: int = 0
    scored: int = 0
    rejected: int = 0
    #: every scored row's id and profile, in bounded memory
    ledger: Ledger = field(default_factory=Ledger)
    status: Counter[str] = field(default_factory=Counter)
    rejected_by_column: Counter[str] = field(default_factory=Counter)  # rows, not problems
    rejected_by_reason: Counter[str] = field(default_factory=Counter)  # rows, by first reason
    defaulted: Counter[str] = field(default_factory=Counter)  # answer -> rows given its default
    counts: dict[str, Counter[str]] = field(default_factory=lambda: {k: Counter() for k in COUNTED})

    def count(self, rendered: Rendered, many: int) -> None:
        """Add ``many`` scored rows that share ``rendered`` (one counter update for them all)."""
        self.scored += many
        self.status[rendered.status] += many
        for name in COUNTED:
            counter = self.counts[name]
            for value in set(getattr(rendered, name)):
                counter[value] += many


class _Cache(OrderedDict[Any, Rendered]):
    """A dict that forgets its least recently used entries beyond ``CACHE_SIZE``."""

    def get(self, key: Any, default: Rendered | None = None) -> Rendered | None:  # type: ignore[override]
        if key in self:
            self.move_to_end(key)
            return self[key]
        return default

    def __setitem__(self, key: Any, value: Rendered) -> None:
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
    dialect: Dialect = field(default_factory=lambda: Dialect("csv"))
    #: answers no column feeds and nobody assumed: everyone gets their default
    defaulted: tuple[str, ...] = ()
    assumed: dict[str, Any] = field(default_factory=dict)
    #: (column index, marker, column name): the tool's marks of a finished, real response
    markers: tuple[tuple[int, Marker, str], ...] = ()
    #: answers the triage rules read: a blank one, where the question applied, rejects the row
    needed: tuple[str, ...] = ()
    #: whether a number cell may write its decimals after a comma ("6,5")
    decimal_comma: bool = False


def prepare(survey: Path, planner: Planner, options: Options) -> Prepared:
    """Read the header rows, settle the layout and mapping, and check they fit each other and
    that every row can be triaged."""
    kb = planner.kb
    dialect = settle(survey, options.encoding, options.delimiter, options.sheet)
    head = read_head(survey, dialect=dialect)
    mapping = load_mapping(options.mapping, kb) if options.mapping else None
    try:
        layout = options.layout or (mapping.layout if mapping else None) or \
            detect(head, set(kb.questions), question_texts(kb))
    except SurveyError as exc:
        hint = delimiter_hint(survey, dialect) if options.delimiter else ""
        raise SurveyError(f"{survey}: {hint}" if hint else str(exc)) from None
    cols = header(head, layout)
    if mapping is None:
        mapping = form_mapping(cols, kb)
    index = {name: i for i, name in enumerate(cols.columns)}
    if mapping.respondent_id not in index:
        raise SurveyError(f"{survey}: no respondent id column {mapping.respondent_id!r}; columns "
                          f"are: {', '.join(cols.columns[:12])}{' ...' if len(cols.columns) > 12 else ''}")
    absent = [c.name for c in mapping.columns if c.name not in index]
    if absent:
        raise SurveyError(f"{survey}: the mapping names column(s) the export does not have: "
                          f"{', '.join(repr(m) for m in absent)}")
    needs = coverage.triage_needs(planner.rulebase, kb)
    coverage.check_assumptions(options.assume, mapping, needs, kb)
    gaps = {answer: choices for answer, choices in coverage.missing(mapping, needs, kb).items()
            if answer not in options.assume}
    if gaps:
        raise coverage.refusal(str(survey), gaps, kb)
    used = {c.name for c in mapping.columns} | {mapping.respondent_id} | set(mapping.ignore)
    extra = tuple(name for name in cols.columns if name and name not in used)
    fed = {c.answer for c in mapping.columns} | set(options.assume)
    defaulted = tuple(answer for answer in kb.questions if answer not in fed)
    markers = tuple((index[name], marker, name) for marker in LAYOUTS[layout].markers
                    for name in marker.columns(cols.columns))
    decimal_comma = options.decimal == "," or (
        options.decimal is None and dialect.kind == "csv" and dialect.delimiter != ",")
    return Prepared(layout, cols.columns, mapping, index, extra, dialect, defaulted,
                    dict(options.assume), markers, tuple(needs), decimal_comma)


def check_columns(options: Options, prepared: Prepared, planner: Planner) -> Extras:
    """The columns ``options`` carries through and groups by, found in the export."""
    return Extras.of(options.keep, options.group_by, prepared.columns, prepared.mapping,
                     planner.kb, planner.rulebase)


class _Pending(Protocol):
    """A batch of profiles being rendered elsewhere."""

    def done(self) -> bool: ...

    def result(self) -> list[tuple[Any, Rendered]]: ...


class _Workers(Protocol):
    """Where batches of profiles are rendered: worker processes here, or a Dask cluster."""

    size: int
    #: the most profiles sent at once: few enough to keep every worker busy to the end, enough
    #: to pay for what sending one batch costs
    batch_max: int

    def submit(self, batch: list[tuple[Any, dict[str, Any]]], traces: bool) -> _Pending: ...

    def close(self) -> None: ...


class _Processes:
    """``size`` worker processes on this machine, each with a planner of its own."""

    def __init__(self, size: int, knowledge: Path | None, rules: Path | None) -> None:
        self.size, self.batch_max = size, BATCH_MAX
        self.executor = ProcessPoolExecutor(size, mp_context=get_context("spawn"),
                                            initializer=start_worker,
                                            initargs=(knowledge, rules, os.getpid()))

    def submit(self, batch: list[tuple[Any, dict[str, Any]]], traces: bool) -> _Pending:
        try:
            future: Future[list[tuple[Any, Rendered]]] = self.executor.submit(render_many, batch,
                                                                              traces)
        except BrokenProcessPool:
            raise _died() from None
        return _Worked(future)

    def close(self) -> None:
        self.executor.shutdown(cancel_futures=True)


def _died() -> WorkerError:
    return WorkerError("a worker process died while scoring (killed, or out of memory): the run "
                       "is stopped and no outputs were written; score again, perhaps with "
                       "fewer --jobs")


class _Worked:
    """A batch in a worker process: its result, or one error if the process died."""

    def __init__(self, future: Future[list[tuple[Any, Rendered]]]) -> None:
        self.future = future

    def done(self) -> bool:
        return self.future.done()

    def result(self) -> list[tuple[Any, Rendered]]:
        try:
            return self.future.result()
        except BrokenProcessPool:
            raise _died() from None


@dataclass
class _Ticket:
    """One chunk's profiles: those already rendered, and the evaluations still to wait for."""

    found: dict[Any, Rendered]
    waiting: list[_Pending]


class _Profiles:
    """Distinct answer profiles and their rendered output, evaluated once each: in this process,
    or, once a chunk brings enough new ones, in ``jobs`` worker processes; or, given a cluster
    (``workers``), all of them there."""

    def __init__(self, planner: Planner, options: Options, knowledge: Path | None,
                 rules: Path | None, workers: _Workers | None = None) -> None:
        self.planner = planner
        self.traces = options.traces
        self.jobs = workers.size if workers is not None else options.jobs
        self.knowledge, self.rules = knowledge, rules
        self.rendered = _Cache()
        self.pool = workers
        self.inflight: dict[Any, _Pending] = {}

    def submit(self, wanted: dict[Any, dict[str, Any]]) -> _Ticket:
        """Start rendering every profile in ``wanted`` (key -> answers) not already rendered or
        on its way; returns what to :meth:`collect`."""
        found: dict[Any, Rendered] = {}
        waiting: dict[int, _Pending] = {}
        new = []
        for key, answers in wanted.items():
            cached = self.rendered.get(key)
            if cached is not None:
                found[key] = cached
            elif key in self.inflight:
                future = self.inflight[key]
                waiting[id(future)] = future
            else:
                new.append((key, answers))
        if new and self.pool is None and self.jobs > 1 and len(new) >= PARALLEL_MIN:
            self.pool = _Processes(self.jobs, self.knowledge, self.rules)
        if self.pool is None:
            for key, answers in new:
                found[key] = self.rendered[key] = render(self.planner, answers, self.traces)
        else:
            size = max(1, min(self.pool.batch_max, len(new) // (self.jobs * 2)))
            for start in range(0, len(new), size):
                batch = new[start:start + size]
                future = self.pool.submit(batch, self.traces)
                for key, _ in batch:
                    self.inflight[key] = future
                waiting[id(future)] = future
        return _Ticket(found, list(waiting.values()))

    @staticmethod
    def ready(ticket: _Ticket) -> bool:
        return all(future.done() for future in ticket.waiting)

    def collect(self, ticket: _Ticket) -> dict[Any, Rendered]:
        """The rendered output of every profile of the ticket, waiting for the workers."""
        for future in ticket.waiting:
            for key, rendered in future.result():
                if self.inflight.get(key) is future:
                    del self.inflight[key]
                    self.rendered[key] = rendered
                ticket.found.setdefault(key, rendered)
        ticket.waiting = []
        return ticket.found

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


def score(survey: Path, out: Path | None, planner: Planner, options: Options,
          knowledge: Path | None = None, rules: Path | None = None,
          progress: Callable[[int], None] | None = None, stdout: TextIO | None = None,
          report: Callable[[str], None] | None = None,
          prepared: Prepared | None = None) -> Summary:
    """Score every respondent in ``survey``; write the outputs to folder ``out`` (or the plans
    table to ``stdout`` when ``out`` is None, each rejected row then going to ``report``) and
    return the summary. ``progress`` is told how many rows were scored or rejected, chunk by
    chunk, as they are written."""
    require(options)
    prepared = prepared or prepare(survey, planner, options)
    extras = check_columns(options, prepared, planner)
    collector = Collector(extras)
    # a cluster that cannot be reached fails the run before anything is written
    profiles = _Profiles(planner, options, knowledge, rules,
                         _cluster(planner, options, knowledge, rules) if options.dask else None)
    tally = Tally()
    try:
        if out is None:
            assert stdout is not None
            _run(survey, prepared, planner, options, profiles, tally, progress,
                 plans=stdout, items=None, errors=None, traces=None, report=report,
                 extras=extras, collector=collector)
            return _summary(survey, prepared, tally, planner, options)
        optional = {TRACES_NAME: options.traces, REPORT_NAME: options.report,
                    **dict.fromkeys(PARQUET_NAMES, options.parquet)}
        targets = list(OUTPUT_NAMES) + [name for name, wanted in optional.items() if wanted]
        # the whole set is written into a fresh hidden folder and swapped in; a trace file (a
        # report, Parquet tables) from an earlier run would describe other results, so a run
        # without them does not carry them over. Each file is open for reading too: the Parquet
        # copies read their table back.
        with FolderSet(out, OUTPUT_NAMES + tuple(optional)) as folder, ExitStack() as files:
            streams = [files.enter_context(open(folder / name, "w+", encoding="utf-8", newline=""))
                       for name in targets]
            plans, items, errors, summary_file, findings = streams[:5]
            traces = streams[targets.index(TRACES_NAME)] if options.traces else None
            _run(survey, prepared, planner, options, profiles, tally, progress,
                 plans=plans, items=items, errors=errors, traces=traces, findings=findings,
                 extras=extras, collector=collector)
            summary = _summary(survey, prepared, tally, planner, options)
            summary_file.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
            finish(dict(zip(targets, streams)), summary, planner, options, extras, collector)
        return summary
    finally:
        profiles.close()
        tally.ledger.close()


def _run(survey: Path, prepared: Prepared, planner: Planner, options: Options,
         profiles: _Profiles, tally: Tally, progress: Callable[[int], None] | None,
         plans: TextIO, items: TextIO | None, errors: TextIO | None, traces: TextIO | None,
         report: Callable[[str], None] | None = None, findings: TextIO | None = None,
         extras: Extras | None = None, collector: Collector | None = None) -> None:
    extras = extras or Extras()
    plans.write(row_text(PLAN_COLUMNS[:1] + extras.kept + PLAN_COLUMNS[1:]))
    if findings is not None:
        findings.write(row_text(FINDING_COLUMNS))
    if items is not None:
        items.write(row_text(ITEM_COLUMNS))
    if errors is not None:
        errors.write(row_text(ERROR_COLUMNS))
    id_column = prepared.index[prepared.mapping.respondent_id]
    coder = Coder(Translator(prepared.mapping, prepared.index, planner.kb, prepared.decimal_comma),
                  Profiler(planner.rulebase, planner.kb), planner.kb, prepared.assumed,
                  (id_column, prepared.mapping.respondent_id),
                  key="row" if not options.dedupe else "exact" if options.traces else "class",
                  full=options.traces, markers=prepared.markers, needed=prepared.needed)

    def read(batch: list[tuple[int, tuple[str, ...]]], bad: list[Any]) -> Chunk:
        problems: list[Problem] = [
            Problem(record.line, shown(record.cells[id_column].strip())
                    if len(record.cells) > id_column else "",
                    [("", "", f"malformed record: {record.problem}")], MALFORMED)
            for record in bad]
        chunk = coder.chunk(batch, problems, len(bad) + len(batch))
        if extras.kept:
            at = {number: cells for number, cells in batch}
            chunk.kept = [tuple(at[n][p] for p in extras.positions) for n in chunk.numbers.tolist()]
        return chunk

    def write(chunk: Chunk, rendered_now: dict[Any, Rendered]) -> None:
        tally.rows_in += chunk.rows_in
        tally.rejected += len(chunk.problems)
        ordered = sorted(chunk.problems, key=lambda p: p.row)
        for rejection in ordered:
            tally.rejected_by_column.update({column or "(record)" for column, _, _ in rejection.cells})
            tally.rejected_by_reason[rejection.reason] += 1
        tally.defaulted.update(chunk.defaulted)
        if errors is not None:
            for number, ident, payload, _ in ordered:
                for column, value, problem in payload:
                    errors.write(row_text([number, ident, column, shown(value), problem]))
        elif report is not None:
            for number, ident, payload, _ in ordered:
                report(f"row {number} ({ident or 'no id'}): "
                       + "; ".join(f"{c or 'record'}: {problem}" for c, _, problem in payload))
        tally.ledger.add(chunk.ids.tolist(), chunk.numbers.tolist(), chunk.profiles)
        done = [rendered_now[key] for key in chunk.keys]
        for rendered, many in zip(done, np.bincount(chunk.group, minlength=len(done)).tolist()):
            tally.count(rendered, many)
        id_cells = cell_texts(chunk.ids)
        tails = _objects([r.plan_tail for r in done])[chunk.group]
        if extras.kept:
            tails = _objects([row_text(("",) + kept)[:-1] for kept in chunk.kept]) + tails
        plans.write("".join((id_cells + tails).tolist()))
        if items is not None:
            items.write("".join(_item_lines(id_cells, chunk.group, [r.item_tails for r in done]).tolist()))
        if findings is not None:
            findings.write("".join(_item_lines(id_cells, chunk.group,
                                               [r.finding_tails for r in done]).tolist()))
        if collector is not None:
            collector.add(chunk, done)
        if traces is not None:
            traces.write("".join(
                '{"respondent":' + json.dumps(ident, ensure_ascii=False) + "," + trace[len(ID_SLOT):]
                for ident, trace in zip(chunk.ids.tolist(),
                                        (done[g].trace or "" for g in chunk.group.tolist()))))
        if progress is not None:
            progress(chunk.rows_in)

    ahead = max(1, profiles.jobs * AHEAD_PER_JOB)
    pending: deque[tuple[Chunk, _Ticket]] = deque()
    for batch, bad in rows(survey, prepared.layout, len(prepared.columns), dialect=prepared.dialect):
        chunk = read(batch, bad)
        pending.append((chunk, profiles.submit(chunk.wanted)))
        chunk.wanted = {}  # submitted: the answers are not needed again
        # write, in input order, every chunk whose profiles are back; wait only when too far ahead
        while pending and (len(pending) > ahead or profiles.ready(pending[0][1])):
            done, ticket = pending.popleft()
            write(done, profiles.collect(ticket))
    while pending:
        done, ticket = pending.popleft()
        write(done, profiles.collect(ticket))


def _cluster(planner: Planner, options: Options, knowledge: Path | None,
             rules: Path | None) -> _Workers:
    """The Dask cluster ``options.dask`` names, ready to score; Dask is an optional extra."""
    assert options.dask is not None
    try:
        from .cluster import Cluster
    except ImportError as exc:
        if exc.name not in ("distributed", "dask"):
            raise
        raise ClusterError("scoring on a Dask cluster needs Dask: pip install 'hipcoach[dask]'") \
            from None
    return Cluster(options.dask, planner, knowledge, rules, options.jobs, options.dask_timeout)


def _objects(texts: list[str]) -> npt.NDArray[np.object_]:
    array = np.empty(len(texts), dtype=object)
    array[:] = texts
    return array


def _item_lines(id_cells: npt.NDArray[np.object_], group: npt.NDArray[np.int64],
                done: list[tuple[str, ...]]) -> npt.NDArray[np.object_]:
    """Every scored row's records of a long table (plan_items.csv, findings.csv), in row order:
    each row's id cell in front of each of its group's records, without a Python loop over rows."""
    counts = np.asarray([len(r) for r in done], np.int64)
    tails = _objects([tail for r in done for tail in r])
    starts = np.cumsum(counts) - counts
    per_row = counts[group]
    total = int(per_row.sum())
    # the k-th item of a row is its group's start + k
    offsets = np.arange(total) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    picked = tails[np.repeat(starts[group], per_row) + offsets] if total else tails[:0]
    return np.repeat(id_cells, per_row) + picked


def _sha256(path: Path) -> str:
    """The SHA-256 of the file at ``path``, read a megabyte at a time."""
    import hashlib  # only when a run ends

    sha = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            sha.update(block)
    return sha.hexdigest()


def _options(options: Options) -> ScoreOptions:
    """The options that change a run's results: the summary is the same bytes whatever
    ``--jobs``, ``--dask``, ``--no-dedupe`` or ``--traces`` did (they change no result)."""
    mapping: MappingFile | None = None
    if options.mapping is not None:
        mapping = {"name": options.mapping.name, "sha256": _sha256(options.mapping)}
    return {"mapping": mapping, "layout": options.layout, "encoding": options.encoding,
            "delimiter": options.delimiter, "decimal": options.decimal, "sheet": options.sheet}


def _summary(survey: Path, prepared: Prepared, tally: Tally, planner: Planner,
             options: Options) -> Summary:
    def ordered(counter: Counter[str]) -> dict[str, int]:
        return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))

    return {
        "survey": survey.name,
        "input": {"bytes": survey.stat().st_size, "sha256": _sha256(survey)},
        "options": _options(options),
        "provenance": planner.provenance.as_json(),
        "format": prepared.layout,
        "rows_in": tally.rows_in,
        "scored": tally.scored,
        "rejected": tally.rejected,
        "accounted": tally.rows_in == tally.scored + tally.rejected,
        "distinct_profiles": tally.ledger.distinct_profiles(),
        "duplicate_ids": tally.ledger.duplicates(),
        "extra_columns": list(prepared.extra),
        "rejected_by_column": ordered(tally.rejected_by_column),
        "assumed": prepared.assumed,
        "defaulted": list(prepared.defaulted),
        "defaulted_rows": dict(sorted(tally.defaulted.items())),
        "rejected_by_reason": ordered(tally.rejected_by_reason),
        "status": ordered(tally.status),
        "symptoms": ordered(tally.counts["symptoms"]),
        "causes": ordered(tally.counts["causes"]),
        "exercises": ordered(tally.counts["exercises"]),
        "categories": ordered(tally.counts["categories"]),
    }
