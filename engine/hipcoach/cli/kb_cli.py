"""``hipcoach kb``: check the knowledge base and rules, and look up what is in them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..kb.bundled import knowledge_dir, rules_dir
from ..kb.checks import check, concluded, literals
from ..kb.knowledge import KnowledgeBase, load_knowledge
from ..kb.rulefile import Pattern, Ref, Requirement, Rule, RuleBase, load_rules
from .options import engine_options, suggestion

#: Kinds of entry `kb show ID` looks up, in the order a clash of ids is resolved.
KINDS = ("exercise", "cause", "symptom", "rule", "source", "question", "advice")
#: The kinds the whole-KB JSON lists, under their plural keys.
LISTED = ("symptom", "cause", "exercise", "rule")
#: Which conclusions and which pattern fields name an entry of a kind.
_CONCLUSION_KIND = {"propose": "exercise", "exclude": "exercise", "cause": "cause", "symptom": "symptom",
                    "advise": "advice"}
_FIELD_KIND = {("candidate", "exercise"): "exercise", ("item", "exercise"): "exercise",
               ("requires", "exercise"): "exercise", ("cause", "name"): "cause",
               ("symptom", "name"): "symptom"}


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
    click.echo(f"knowledge base and rules OK: {_counts(*_load(knowledge, rules))}{noted}")


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
    catalogue = _catalogue(knowledge, rulebase)
    if ident is None:
        whole = {f"{k}s": [_entry(k, item) for item in catalogue[k].values()] for k in LISTED}
        click.echo(_json(whole) if fmt == "json" else _summary(knowledge, rulebase, catalogue))
        return
    kinds = [k for k in ((kind,) if kind else KINDS) if ident in catalogue[k]]
    if not kinds:
        raise _unknown(ident, kind, catalogue)
    for other in kinds[1:]:
        click.echo(f"note: {ident!r} is also a {other} id; use --kind {other} to see it", err=True)
    entry = {"kind": kinds[0], **_entry(kinds[0], catalogue[kinds[0]][ident]),
             "mentioned_by": [r.id for r in rulebase.rules if _mentions(r, kinds[0], ident)]}
    click.echo(_json(entry) if fmt == "json" else _entry_text(entry))


def _folders(kb: Path | None, rules: Path | None) -> tuple[Path, Path]:
    try:
        return kb or knowledge_dir(), rules or rules_dir()
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc


def _load(knowledge: Path, rules: Path) -> tuple[KnowledgeBase, RuleBase]:
    kb = load_knowledge(knowledge)
    return kb, load_rules(rules, kb)


def _counts(kb: KnowledgeBase, rulebase: RuleBase) -> str:
    return (f"{len(kb.symptoms)} symptoms, {len(kb.causes)} causes, {len(kb.exercises)} exercises, "
            f"{len(rulebase.rules)} rules")


def _catalogue(kb: KnowledgeBase, rulebase: RuleBase) -> dict[str, dict[str, Any]]:
    return {"exercise": kb.exercises, "cause": kb.causes, "symptom": kb.symptoms,
            "rule": rulebase.by_id(), "source": kb.sources, "question": kb.questions,
            "advice": kb.advice}


def _mentions(rule: Rule, kind: str, ident: str) -> bool:
    """Whether ``rule`` names ``ident`` (of ``kind``) in its patterns, conclusion or source."""
    if kind == "source":
        return rule.source == ident
    if kind == "question":
        return ident in rule.answers_used
    if _CONCLUSION_KIND.get(rule.conclusion) == kind and ident in concluded(rule):
        return True
    return any(_FIELD_KIND.get((p.fact, t.field)) == kind and ident in literals(t)
               for p in rule.patterns for t in p.tests)


def _unknown(ident: str, kind: str | None, catalogue: dict[str, dict[str, Any]]) -> click.ClickException:
    ids = sorted({i for k, entries in catalogue.items() if kind in (None, k) for i in entries})
    hint = suggestion(ident, ids, "run `hipcoach kb show` to list every id")
    return click.ClickException(f"no {kind or 'entry'} has id {ident!r}; {hint}")


# ------------------------------------------------------------------------------ entries as data

def _entry(kind: str, item: Any) -> dict[str, Any]:
    """An entry as JSON-ready data: its fields; a rule in the shape of its file."""
    if kind != "rule":
        return _plain(item)
    return {"id": item.id, "layer": item.layer, "file": Path(item.file).name,
            "when": [_pattern(p) for p in item.patterns],
            "then": {item.conclusion: _plain(item.target)}, "cf": item.cf,
            "rationale": item.rationale, "source": item.source, "priority": item.priority}


def _pattern(pattern: Pattern) -> dict[str, Any]:
    return {"fact": pattern.fact, "alias": pattern.alias, "negated": pattern.negated,
            "tests": [{"field": t.field, "op": t.op, "value": _plain(t.value)} for t in pattern.tests]}


def _plain(value: Any) -> Any:
    if isinstance(value, Ref):
        return f"{value.alias}.{value.field}"
    if isinstance(value, Requirement):
        plain = list(value.categories)
        return {"category": plain, "targets": list(value.targets)} if value.targets else plain
    if hasattr(value, "_asdict"):  # an entry (a named tuple): its fields by name
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


# ------------------------------------------------------------------------------------ text

def _summary(kb: KnowledgeBase, rulebase: RuleBase, catalogue: dict[str, dict[str, Any]]) -> str:
    """Counts, then each kind's ids with a name to recognise them by."""
    label: dict[str, Callable[[Any], str]] = {
        "symptom": lambda s: s.name, "cause": lambda c: c.name,
        "exercise": lambda e: f"{e.name} ({kb.vocabulary.label(e.category)})",
        "rule": lambda r: f"{r.layer}: {r.conclusion} {_text(_plain(r.target))}",
        "source": lambda s: s.citation, "question": lambda q: q.prompt,
        "advice": lambda a: a.text if len(a.text) <= 70 else a.text[:69] + "…",
    }
    lines = [f"{_counts(kb, rulebase)}, {len(kb.sources)} sources, {len(kb.questions)} questions"]
    for kind in ("symptom", "cause", "exercise", "advice", "source", "question", "rule"):
        entries = catalogue[kind]
        width = max((len(i) for i in entries), default=0)
        title = "Advice" if kind == "advice" else f"{kind.capitalize()}s"
        lines += ["", f"{title} ({len(entries)})"]
        lines += [f"  {i.ljust(width)}  {label[kind](item)}" for i, item in entries.items()]
    return "\n".join(lines)


def _entry_text(entry: dict[str, Any]) -> str:
    lines = [f"{entry['kind']} {entry['id']}"]
    for key, value in entry.items():
        if key in ("kind", "id"):
            continue
        if entry["kind"] == "rule" and key == "when":
            value = [_pattern_text(p) for p in value]
        if isinstance(value, list) and len(_text(value)) > 70:
            lines.append(f"  {key}:")
            lines += [f"    - {_text(item)}" for item in value]
        else:
            lines.append(f"  {key}: {_text(value)}")
    return "\n".join(lines)


def _pattern_text(pattern: dict[str, Any]) -> str:
    """``[no] FACT FIELD OP VALUE, ... [as ALIAS]``; aliases the loader made up are left out."""
    tests = ", ".join(f"{t['field']} {t['op']} {_text(t['value'])}" for t in pattern["tests"])
    fact, alias = pattern["fact"], pattern["alias"]
    named = "" if re.fullmatch(rf"{fact}_\d+_\d+", alias) else f" as {alias}"
    return f"{'no ' if pattern['negated'] else ''}{fact} {tests or 'any'}{named}"


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_text(v)}" for k, v in value.items())
    if value is None:
        return "-"
    return str(value).lower() if isinstance(value, bool) else str(value)
