"""``hipcoach diff``: what an edit of the rules changes in real runners' plans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..batch.survey import LAYOUTS
from ..errors import AnswersError, SurveyError
from ..kb.bundled import knowledge_dir, rules_dir
from ..planning.planner import Planner
from .options import engine_options, load_planner
from .score_cli import DELIMITER, ENCODING, SHEET


@click.command()
@click.argument("source", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--old-kb", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Knowledge-base folder of the old base (default: the bundled one).")
@click.option("--old-rules", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Rules folder of the old base (default: the bundled one).")
@click.option("--mapping", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="For a survey export: its mapping, as `hipcoach score` takes it.")
@click.option("--layout", "layout", type=click.Choice(LAYOUTS), default=None,
              help="For a survey export: which tool exported it, as `score --format` takes it "
                   "(detected when unambiguous).")
@click.option("--assume", "assume", multiple=True, metavar="ANSWER=VALUE",
              help="For a survey export: give everyone this answer, as `hipcoach score` does.")
@ENCODING
@DELIMITER
@SHEET
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="Report a symptom's or cause's certainty when it moves by at least this.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True, help="text is for reading; json is for other tools.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Also write every change as a row of FILE (CSV): respondent, "
                                   "what, item, old, new.")
@engine_options
def diff(source: Path | None, old_kb: Path | None, old_rules: Path | None, mapping: Path | None,
         layout: str | None, assume: tuple[str, ...], encoding: str, delimiter: str | None,
         sheet: str | None, threshold: float, fmt: str, csv_file: Path | None, kb: Path | None,
         rules: Path | None) -> None:
    """Compare the plans of two rule bases for the same respondents; exit 1 if any changed.

    The old base is the bundled one (or --old-kb/--old-rules), the new one --kb/--rules.
    SOURCE is a folder of answer files (JSON or YAML, each a respondent), a survey export
    (any layout `hipcoach score` reads, with its options), or, left out, the bundled scenario
    files' answers. For each respondent that changed: status, urgency, exercises in and out,
    certainty moves of at least --threshold, advice in and out, and the rules that fired under
    one base only. Exit 0 when nothing changed, so it can guard a CI job.
    """
    from ..atomic import write_atomic  # only this command needs them
    from ..batch import diff as compare
    from ..batch.csvsafe import row_text

    if kb is None and rules is None and old_kb is None and old_rules is None:
        raise click.UsageError("give the new base with --kb and/or --rules (the old one is the "
                               "bundled base, or --old-kb/--old-rules)")
    old = load_planner(old_kb or knowledge_dir(), old_rules or rules_dir())
    new = load_planner(kb, rules)
    if source is not None and source.is_file():
        options = _survey_options(old, mapping, layout, assume, encoding, delimiter, sheet)
        try:
            before = compare.survey_traces(source, old, options)
            after = compare.survey_traces(source, new, options)
        except SurveyError as exc:  # score's layout option is --format; here it is --layout
            raise click.ClickException(str(exc).replace("--format", "--layout")) from exc
    else:
        answers = _answers(source, old)
        before = list(compare.traced(old, answers, strict=True))
        after = list(compare.traced(new, answers))
    report = compare.Report(old.provenance, new.provenance,
                            tuple(compare.pair(before, after, threshold)))
    if csv_file is not None:
        try:
            write_atomic(csv_file, lambda stream: stream.writelines(row_text(r) for r in report.rows()))
        except OSError as exc:
            raise click.ClickException(f"cannot write {csv_file}: {exc.strerror or exc}") from exc
    if fmt == "json":
        click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(report.text(), nl=False)
    if report.changed:
        raise SystemExit(1)


def _answers(source: Path | None, planner: Planner) -> list[tuple[str, Any, int | None]]:
    """(respondent, answers, minutes) from an answers folder or the bundled scenarios."""
    from ..batch.diff import folder_answers

    if source is not None:
        found: list[tuple[str, Any, int | None]] = [
            (name, answers, None) for name, answers in folder_answers(source)]
        if not found:
            raise click.ClickException(f"{source}: no answer files (*.json, *.yaml) in this folder")
        return found
    from ..kb.knowledge import SCENARIOS
    from ..trace.scenarios import load_scenarios, scenario_files

    return [(s.id, s.answers, s.minutes)
            for path in scenario_files([knowledge_dir() / SCENARIOS])
            for s in load_scenarios(path, planner)]


def _survey_options(planner: Planner, mapping: Path | None, layout: str | None,
                    assume: tuple[str, ...], encoding: str, delimiter: str | None,
                    sheet: str | None) -> Any:
    from ..batch.coverage import parse_assumption
    from ..batch.score import Options

    assumed: dict[str, Any] = {}
    for text in assume:
        try:
            answer, value = parse_assumption(text, planner.kb)
        except AnswersError as exc:
            raise click.BadParameter(str(exc), param_hint="--assume") from exc
        assumed[answer] = value
    return Options(mapping, layout, encoding=encoding, assume=assumed,
                   delimiter={"tab": "\t"}.get(delimiter or "", delimiter), sheet=sheet)
