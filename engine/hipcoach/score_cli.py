"""``hipcoach score`` and ``hipcoach mapping init``: survey exports in, plans for everyone out."""

from __future__ import annotations

import codecs
import sys
from pathlib import Path

import click

from .atomic import write_atomic
from .clitools import engine_options, input_file, load_planner, unwritable
from .errors import HipcoachError
from .survey import LAYOUTS

SURVEY = click.argument("survey", type=click.Path(path_type=Path), callback=input_file)
LAYOUT = click.option("--format", "layout", type=click.Choice(LAYOUTS), default=None,
                      help="Which tool exported the survey (how many header rows it has). "
                           "Detected when unambiguous.")
ENCODING = click.option("--encoding", default="utf-8-sig", show_default=True,
                        help="Text encoding of the export (utf-8-sig also reads plain UTF-8).")


@click.command()
@SURVEY
@click.option("-o", "--out", "out", required=True, metavar="DIR",
              help="Folder for plans.csv, plan_items.csv, errors.csv and summary.json "
                   "(created if needed), or - to print the plans table only.")
@click.option("--mapping", type=click.Path(path_type=Path), callback=input_file,
              help="YAML mapping of the export's columns and values to answers "
                   "(not needed for a plain export whose headers are answer ids).")
@LAYOUT
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes for evaluating distinct answer profiles.")
@click.option("--traces", is_flag=True, help="Also write every respondent's rule trace to "
                                             "traces.jsonl (for `hipcoach trace ...`).")
@click.option("--no-dedupe", is_flag=True,
              help="Evaluate every row on its own instead of once per distinct profile (slower; "
                   "the output is the same).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary line.")
@ENCODING
@engine_options
def score(survey: Path, out: str, mapping: Path | None, layout: str | None, jobs: int,
          traces: bool, no_dedupe: bool, quiet: bool, encoding: str, kb: Path | None,
          rules: Path | None) -> None:
    """Score every respondent of a survey export (CSV) into a plan.

    Writes, whole or not at all: plans.csv (one row per respondent, input order),
    plan_items.csv (one row per respondent and exercise), errors.csv (one row per problem of a
    rejected respondent) and summary.json (counts; rows in = scored + rejected). One bad row
    never stops the batch.
    """
    from .score import Options, prepare  # pandas loads only for this command
    from .score import score as run

    if out == "-" and traces:
        raise click.UsageError("--traces needs an output folder, not -o -")
    _check_encoding(encoding)
    planner = load_planner(kb, rules)
    options = Options(mapping, layout, jobs, traces, encoding, dedupe=not no_dedupe)
    try:
        prepared = prepare(survey, planner, options)
    except HipcoachError as exc:
        raise click.ClickException(str(exc)) from exc
    if prepared.extra and not quiet:
        click.echo(f"warning: ignoring {len(prepared.extra)} column(s) the mapping does not use: "
                   f"{', '.join(prepared.extra[:8])}{' ...' if len(prepared.extra) > 8 else ''}",
                   err=True)
    show_bar = not quiet and sys.stderr.isatty()
    size = survey.stat().st_size
    target = None if out == "-" else Path(out)
    try:
        with click.progressbar(length=size, label="scoring", file=sys.stderr,
                               hidden=not show_bar) as bar:
            summary = run(survey, target, planner, options, kb, rules,
                          progress=bar.update if show_bar else None, stdout=sys.stdout,
                          report=None if quiet else lambda line: click.echo(line, err=True))
    except HipcoachError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot write to {out}: {exc.strerror or exc}") from exc
    if not quiet:
        where = "" if target is None else f" into {target}"
        rejected = f", {summary['rejected']} rejected" if summary["rejected"] else ""
        dupes = f", {len(summary['duplicate_ids'])} duplicate id(s)" if summary["duplicate_ids"] else ""
        click.echo(f"scored {summary['scored']} of {summary['rows_in']} rows{rejected}{dupes}"
                   f" ({summary['distinct_profiles']} distinct answer profiles){where}", err=True)


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
@engine_options
def init(survey: Path, layout: str | None, output: Path | None, encoding: str, kb: Path | None,
         rules: Path | None) -> None:
    """Write a starter mapping for SURVEY listing every column, with guessed answers and values
    to check and complete."""
    from .mapping import starter
    from .survey import detect, header, read_head, rows

    _check_encoding(encoding)
    planner = load_planner(kb, rules)
    try:
        head = read_head(survey, encoding)
        layout = layout or detect(head, set(planner.kb.questions))
        cols = header(head, layout)
        samples: list[set[str]] = [set() for _ in cols.columns]
        for batch, _ in rows(survey, layout, len(cols.columns), encoding, chunk_rows=500):
            for _, cells in batch:
                for seen, cell in zip(samples, cells):
                    if cell.strip() and len(seen) < 40:
                        seen.add(cell.strip())
            break
    except HipcoachError as exc:
        raise click.ClickException(str(exc)) from exc
    text = starter(cols.columns, cols.texts, layout, samples, planner.kb)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            write_atomic(output, lambda stream: stream.write(text))
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {unwritable(exc, output)}") from exc
        click.echo(f"wrote {output}", err=True)
