"""``hipcoach kb``: check the knowledge base and rules, and look up what is in them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..kb.bundled import knowledge_dir, rules_dir
from ..kb.checks import check
from ..kb.knowledge import KnowledgeBase, load_knowledge
from ..kb.rulefile import RuleBase, load_rules
from ..present.catalogue import KINDS, LISTED, by_kind, counts, entry_data, entry_text, mentions, summary
from .options import engine_options, suggestion


@click.group()
def kb() -> None:
    """Check and browse the knowledge base and the rules."""


@kb.command("check")
@engine_options
def check_command(kb: Path | None, rules: Path | None) -> None:
    """Check the knowledge base and rules for defects; exit 1 if there are any.

    Reports, each with its file and entry: load errors (unknown ids, missing sources, duplicate
    ids), symptoms, causes and exercises no answers can reach, rules that can never fire,
    causes served by fewer than two categories of exercise, requirements a runner with no
    equipment cannot meet, questions no rule reads, sources nobody cites; and, comparing rules
    by what their premises mean: duplicate rules, conflicts (an exclusion that always cancels a
    proposal, a rule that fires only where triage refers) and require rules that can fire
    together but never all fit in the questionnaire's minutes. Cautions (a rule subsumed by
    another, whose evidence then counts twice) are listed and do not fail the check.
    """
    knowledge, rules = _folders(kb, rules)
    findings = check(knowledge, rules)
    for finding in findings:
        click.echo(str(finding))
    errors = sum(finding.severity == "error" for finding in findings)
    cautions = len(findings) - errors
    noted = f"; {cautions} caution(s) to look at" if cautions else ""
    if errors:
        click.echo(f"{errors} problem(s) found{noted}")
        raise SystemExit(1)
    click.echo(f"knowledge base and rules OK: {counts(*_load(knowledge, rules))}{noted}")


@kb.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATH]...")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Also write the results as JUnit XML to FILE, for CI systems.")
@engine_options
def test_command(paths: tuple[Path, ...], junit_file: Path | None, kb: Path | None,
                 rules: Path | None) -> None:
    """Run scenario files: answers in, and what the plan must show; exit 1 if any fails.

    PATH is a scenario file or a folder of them (its *.yaml files); without PATH, the project's
    own scenarios (knowledge/scenarios/ of the bundled knowledge base) are run, against
    --kb/--rules when given. Each failure prints the scenario, what was expected, what came,
    and the explanation that decides it. The README's "Scenario tests" section shows the format.
    """
    from ..atomic import write_atomic  # here: only kb test loads the planner and the scenarios
    from ..kb.knowledge import SCENARIOS
    from ..trace.scenarios import Result, junit, run_all
    from .options import load_planner

    planner = load_planner(kb, rules)

    def each(result: Result) -> None:
        if not result.passed:
            click.echo("\n".join(result.report()))

    results = run_all(paths or (knowledge_dir() / SCENARIOS,), planner, each)
    if junit_file is not None:
        try:
            write_atomic(junit_file, lambda stream: stream.write(junit(results)))
        except OSError as exc:
            raise click.ClickException(f"cannot write {junit_file}: {exc}") from exc
    if not results:
        where = ", ".join(map(str, paths)) if paths else "the bundled scenarios folder"
        raise click.ClickException(f"no scenarios in {where}: a scenario file lists them under "
                                   f"'scenarios:'")
    failed = sum(not r.passed for r in results)
    click.echo(f"{len(results)} scenario(s): {len(results) - failed} passed, {failed} failed "
               f"({planner.provenance.describe()})")
    if failed:
        raise SystemExit(1)


@kb.command()
@click.argument("ident", metavar="[ID]", required=False)
@click.option("--kind", type=click.Choice(KINDS),
              help="The kind of entry ID names, where ids of two kinds are the same.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True, help="text is for reading; json is for other tools.")
@engine_options
def show(ident: str | None, kind: str | None, fmt: str, kb: Path | None, rules: Path | None) -> None:
    """Print the entry with id ID, or without ID a summary of the whole knowledge base.

    ID may name an exercise, cause, symptom, rule, source or question; the rules that mention
    it are listed too.
    """
    knowledge, rulebase = _load(*_folders(kb, rules))
    catalogue = by_kind(knowledge, rulebase)
    if ident is None:
        whole = {f"{k}s": [entry_data(k, item) for item in catalogue[k].values()] for k in LISTED}
        click.echo(_json(whole) if fmt == "json" else summary(knowledge, rulebase, catalogue))
        return
    kinds = [k for k in ((kind,) if kind else KINDS) if ident in catalogue[k]]
    if not kinds:
        raise _unknown(ident, kind, catalogue)
    for other in kinds[1:]:
        click.echo(f"note: {ident!r} is also a {other} id; use --kind {other} to see it", err=True)
    entry = {"kind": kinds[0], **entry_data(kinds[0], catalogue[kinds[0]][ident]),
             "mentioned_by": [r.id for r in rulebase.rules if mentions(r, kinds[0], ident)]}
    click.echo(_json(entry) if fmt == "json" else entry_text(entry))


def _folders(kb: Path | None, rules: Path | None) -> tuple[Path, Path]:
    try:
        return kb or knowledge_dir(), rules or rules_dir()
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc


def _load(knowledge: Path, rules: Path) -> tuple[KnowledgeBase, RuleBase]:
    kb = load_knowledge(knowledge)
    return kb, load_rules(rules, kb)


def _unknown(ident: str, kind: str | None, catalogue: dict[str, dict[str, Any]]) -> click.ClickException:
    ids = sorted({i for k, entries in catalogue.items() if kind in (None, k) for i in entries})
    hint = suggestion(ident, ids, "run `hipcoach kb show` to list every id")
    return click.ClickException(f"no {kind or 'entry'} has id {ident!r}; {hint}")


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


