"""``hipcoach score`` and ``hipcoach mapping init``: survey exports in, plans for everyone out."""

from __future__ import annotations

import codecs
import os
import sys
import time
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from ..atomic import write_atomic
from ..batch.survey import LAYOUTS
from ..errors import AnswersError, ColumnError
from ..present.explain import value_text
from .options import engine_options, input_file, load_planner, suggestion, unwritable

SURVEY = click.argument("survey", type=click.Path(path_type=Path), callback=input_file)
LAYOUT = click.option("--format", "layout", type=click.Choice(list(LAYOUTS)), default=None,
                      help="Which tool exported the survey (its header rows and id column). "
                           "Detected when unambiguous.")
ENCODING = click.option("--encoding", default="utf-8-sig", show_default=True,
                        help="Text encoding of a CSV export (utf-8-sig also reads plain UTF-8; "
                             "UTF-16 with a byte-order mark is detected).")
DELIMITER = click.option("--delimiter", default=None, metavar="CHAR",
                         help="Field delimiter of a CSV export: ',', ';', 'tab' or another "
                              "single character. Detected from the first records if not given.")
DECIMAL = click.option("--decimal", type=click.Choice([".", ","]), default=None,
                       help="Decimal mark of numbers in a CSV export (6.5 or 6,5). Default: a "
                            "comma is one where the delimiter is not (';' or tab), else refused.")
SHEET = click.option("--sheet", default=None, metavar="NAME",
                     help="Worksheet of an .xlsx export to read (default: the first).")
#: Rejected rows printed one per line with -o -; beyond this, a count.
REPORT_MAX = 10


def _delimiter(value: str | None) -> str | None:
    if value is None:
        return None
    value = {"tab": "\t", "\\t": "\t"}.get(value.lower(), value)
    if len(value) != 1 or value in "\"\r\n" or value.isalnum():
        raise click.BadParameter(f"{value!r} is not a delimiter: give one character such as ',', "
                                 f"';' or 'tab'", param_hint="--delimiter")
    return value


@click.command()
@SURVEY
@click.option("-o", "--out", "out", required=True, metavar="DIR",
              help="Folder for plans.csv, plan_items.csv, errors.csv and summary.json "
                   "(created if needed), or - to print the plans table only.")
@click.option("--mapping", type=click.Path(path_type=Path), callback=input_file,
              help="YAML mapping of the export's columns and values to answers (not needed "
                   "for a form built from `hipcoach questionnaire`, nor a plain export).")
@LAYOUT
@click.option("--assume", "assume", multiple=True, metavar="ANSWER=VALUE",
              help="Give everyone this answer, for an answer the survey has no column for "
                   "(repeatable; e.g. --assume red_flags= when it never asked about red flags). "
                   "Recorded in summary.json.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes for evaluating distinct answer profiles; with --dask local, "
                   "the cluster's workers (default there: one per CPU core).")
@click.option("--dask", "dask", default=None, metavar="ADDRESS",
              help="Evaluate the profiles on a Dask cluster: a scheduler's address such as "
                   "tcp://10.0.0.5:8786 (its workers, one thread each, need hipcoach installed; "
                   "--jobs does not apply), or 'local' for worker processes on this machine "
                   "started for the run. Needs pip install 'hipcoach[dask]'.")
@click.option("--dask-timeout", type=click.FloatRange(min=0, min_open=True), default=30.0,
              show_default=True, metavar="SECONDS",
              help="With --dask: how long to wait for the scheduler, and for its first worker.")
@click.option("--traces", is_flag=True, help="Also write every respondent's rule trace to "
                                             "traces.jsonl (for `hipcoach trace ...`).")
@click.option("--no-dedupe", is_flag=True,
              help="Evaluate every row on its own instead of once per distinct profile (slower; "
                   "the output is the same).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, summary line or warnings "
                                                  "(rejected rows are still reported with -o -).")
@ENCODING
@DELIMITER
@DECIMAL
@SHEET
@click.option("--report", "make_report", is_flag=True,
              help="Also write report.html: the run, who to contact first, findings, what was "
                   "prescribed and dropped, and rule coverage, with charts; one printable page "
                   "that makes no requests.")
@click.option("--keep", "keep", multiple=True, metavar="COLUMN",
              help="Carry this export column (club, sex, team ...) into plans.csv, after "
                   "respondent_id (repeatable).")
@click.option("--group-by", "group_by", default=None, metavar="COLUMN",
              help="Break the report's counts and charts down by this column (kept in plans.csv "
                   "too); a column or answer with numbers is grouped in the bands the rules tell "
                   "apart. Groups of fewer than 5 respondents are shown without figures.")
@click.option("--no-small-cell-rule", "no_small_cell", is_flag=True,
              help="With --group-by: show the figures of groups of fewer than 5 respondents too "
                   "(for a coach's own club, not for publishing).")
@click.option("--parquet", "parquet", is_flag=True,
              help="Also write each table as Parquet (plans.parquet ...). Needs pip install "
                   "'hipcoach[parquet]'.")
@engine_options
def score(survey: Path, out: str, mapping: Path | None, layout: str | None,
          assume: tuple[str, ...], jobs: int, dask: str | None, dask_timeout: float,
          traces: bool, no_dedupe: bool, quiet: bool,
          encoding: str, delimiter: str | None, decimal: str | None, sheet: str | None,
          make_report: bool, keep: tuple[str, ...], group_by: str | None, no_small_cell: bool,
          parquet: bool,
          kb: Path | None, rules: Path | None) -> None:
    """Score every respondent of a survey export (CSV or .xlsx) into a plan.

    Writes, whole or not at all: plans.csv (one row per respondent, input order),
    plan_items.csv (one row per respondent and exercise), errors.csv (one row per problem of a
    rejected respondent), summary.json (counts; rows in = scored + rejected), findings.csv (one
    row per respondent and finding) and datapackage.json (every file's columns, for R, pandas
    or frictionless), with report.html and Parquet tables when asked for. One bad row
    never stops the batch. A survey with no column for an answer the triage rules read is
    refused, unless you --assume its value.
    """
    from ..batch.coding import NOT_ALLOWED  # only this command needs them
    from ..batch.coverage import parse_assumption
    from ..batch.outputs import require
    from ..batch.score import Options, check_columns, prepare
    from ..batch.score import score as run
    from ..batch.survey import count_rows

    if out == "-" and traces:
        raise click.UsageError("--traces needs an output folder, not -o -")
    for flag, given in (("--report", make_report), ("--parquet", parquet)):
        if out == "-" and given:
            raise click.UsageError(f"{flag} needs an output folder, not -o -")
    if no_small_cell and group_by is None:
        raise click.UsageError("--no-small-cell-rule needs --group-by")
    jobs = _workers(jobs, dask)
    _check_encoding(encoding)
    planner = load_planner(kb, rules)
    assumed: dict[str, Any] = {}
    for text in assume:
        try:
            answer, value = parse_assumption(text, planner.kb)
        except AnswersError as exc:
            hint = suggestion(exc.key, list(planner.kb.questions)) if exc.key and \
                exc.key not in planner.kb.questions else ""
            raise click.BadParameter(f"{exc}{'; ' + hint if hint else ''}",
                                     param_hint="--assume") from exc
        assumed[answer] = value
    options = Options(mapping, layout, jobs, traces, encoding, dedupe=not no_dedupe,
                      assume=assumed, delimiter=_delimiter(delimiter), sheet=sheet, dask=dask,
                      dask_timeout=dask_timeout, keep=keep, group_by=group_by, report=make_report,
                      parquet=parquet, small_cell=not no_small_cell, decimal=decimal)
    require(options)
    prepared = prepare(survey, planner, options)
    try:
        kept = check_columns(options, prepared, planner).kept
    except ColumnError as exc:
        hint = suggestion(exc.column, list(prepared.columns))
        raise click.BadParameter(f"{exc}; {hint}" if hint and exc.column not in prepared.index
                                 else str(exc), param_hint=f"--{exc.option.replace('_', '-')}") from exc
    if not quiet:
        ignored = [name for name in prepared.extra if name not in kept]
        if ignored:
            click.echo(f"warning: ignoring {len(ignored)} column(s) the mapping does not "
                       f"use: {', '.join(ignored[:8])}{' ...' if len(ignored) > 8 else ''}",
                       err=True)
        if prepared.defaulted:
            click.echo(f"warning: no column for {len(prepared.defaulted)} answer(s), so everyone "
                       f"gets the default: " + ", ".join(
                           f"{a}={value_text(planner.kb.questions[a].default)}"
                           for a in prepared.defaulted), err=True)
    target = None if out == "-" else Path(out)
    reported = [0]  # rows reported: only the first few are printed, however many there are

    def report(line: str) -> None:
        reported[0] += 1
        if reported[0] <= REPORT_MAX:
            click.echo(f"rejected: {line}", err=True)

    show_bar = not quiet and sys.stderr.isatty()
    try:
        total = count_rows(survey, prepared.layout, prepared.dialect) if show_bar else 0
        with _Progress(total, show_bar) as bar:
            summary = run(survey, target, planner, options, kb, rules,
                          progress=bar.update if show_bar else None, stdout=sys.stdout,
                          report=report, prepared=prepared)
    except OSError as exc:
        raise click.ClickException(f"cannot write to {out}: {exc.strerror or exc}") from exc
    if reported[0] > REPORT_MAX:
        click.echo(f"rejected: ... and {reported[0] - REPORT_MAX} more row(s); "
                   f"score into a folder (-o DIR) for all of them in errors.csv", err=True)
    if not quiet and mapping is None and NOT_ALLOWED in summary["rejected_by_reason"]:
        # a form that is the questionnaire's in all but some wording: say how to map it
        worst = next(iter(summary["rejected_by_column"].items()), None)
        if worst and worst[0] in prepared.index and worst[1] * 2 >= summary["rows_in"]:
            click.echo(f"hint: {worst[1]} row(s) were rejected for column {worst[0]!r}; if the "
                       f"form words its options differently from `hipcoach questionnaire`, "
                       f"write a mapping with `hipcoach mapping init {survey}` and pass it with "
                       f"--mapping", err=True)
    if not quiet and summary["scored"]:
        where = "" if target is None else f" into {target}"
        rejected = f", {summary['rejected']} rejected" if summary["rejected"] else ""
        dupes = f", {len(summary['duplicate_ids'])} duplicate id(s)" if summary["duplicate_ids"] else ""
        assumed_text = ", assuming " + ", ".join(
            f"{answer}={value_text(value)}" for answer, value in summary["assumed"].items()) \
            if summary["assumed"] else ""
        click.echo(f"scored {summary['scored']} of {summary['rows_in']} rows{rejected}{dupes}"
                   f"{assumed_text} ({summary['distinct_profiles']} distinct answer profiles)"
                   f"{where}", err=True)
    if not summary["scored"]:
        why = ("every row was rejected; see " + ("errors.csv" if target else "the rows above")
               if summary["rows_in"] else "the export holds no responses")
        raise click.ClickException(f"scored 0 of {summary['rows_in']} rows: {why}")


def _workers(jobs: int, dask: str | None) -> int:
    """What --jobs means next to --dask: the worker processes of a local cluster (one per CPU
    core unless given); a remote cluster has the workers it has, so --jobs there is a mistake."""
    given = {name for name in ("jobs", "dask_timeout")
             if click.get_current_context().get_parameter_source(name) is not ParameterSource.DEFAULT}
    if dask is None:
        if "dask_timeout" in given:
            raise click.UsageError("--dask-timeout needs --dask")
        return jobs
    if dask == "local":
        return jobs if "jobs" in given else os.cpu_count() or 1
    if "jobs" in given:
        raise click.UsageError(f"--jobs sets worker processes on this machine; the cluster at "
                               f"{dask} scores with the workers it has: drop --jobs, or use "
                               f"--dask local")
    return jobs


class _Progress:
    """A progress bar of rows scored (not rows read), with rows per second and an ETA; nothing
    at all when hidden."""

    def __init__(self, total: int, shown: bool) -> None:
        self.done = 0
        self.started = time.monotonic()
        self.bar = click.progressbar(length=max(total, 1), label="scoring", file=sys.stderr,
                                     hidden=not shown, show_eta=True, show_percent=True,
                                     item_show_func=lambda rate: rate)

    def __enter__(self) -> _Progress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.__exit__(*exc)

    def update(self, rows: int) -> None:
        self.done += rows
        seconds = max(time.monotonic() - self.started, 1e-6)
        self.bar.update(rows, f"{self.done:,} rows, {self.done / seconds:,.0f} rows/s")


def _check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise click.BadParameter(f"unknown encoding {encoding!r} (try utf-8-sig, latin-1 or "
                                 f"cp1252)", param_hint="--encoding") from None


@click.group()
def mapping() -> None:
    """Survey mappings: which export column holds which answer."""


@mapping.command()
@SURVEY
@LAYOUT
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write the mapping here (whole or not at all) instead of printing it.")
@ENCODING
@DELIMITER
@SHEET
@engine_options
def init(survey: Path, layout: str | None, output: Path | None, encoding: str,
         delimiter: str | None, sheet: str | None, kb: Path | None, rules: Path | None) -> None:
    """Write a starter mapping for SURVEY listing every column, with guessed answers and values
    to check and complete. (A form built from `hipcoach questionnaire` needs none.)"""
    from ..batch.mapping import question_texts, starter
    from ..batch.records import settle
    from ..batch.survey import detect, header, read_head, rows

    _check_encoding(encoding)
    planner = load_planner(kb, rules)
    dialect = settle(survey, encoding, _delimiter(delimiter), sheet)
    head = read_head(survey, dialect=dialect)
    layout = layout or detect(head, set(planner.kb.questions), question_texts(planner.kb))
    cols = header(head, layout)
    samples: list[set[str]] = [set() for _ in cols.columns]
    for batch, _ in rows(survey, layout, len(cols.columns), chunk_rows=500, dialect=dialect):
        for _, cells in batch:
            for seen, cell in zip(samples, cells):
                if cell.strip() and len(seen) < 40:
                    seen.add(cell.strip())
        break
    text = starter(cols.columns, cols.texts, layout, samples, planner.kb)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            write_atomic(output, lambda stream: stream.write(text))
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {unwritable(exc, output)}") from exc
        click.echo(f"wrote {output}", err=True)
