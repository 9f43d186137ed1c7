"""``hipcoach trace ...``: read rule traces written by ``plan --trace`` or ``score --traces``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import HipcoachError
from ..kb.answers import normalise
from ..kb.bundled import rules_dir
from ..kb.rulefile import ALL_LAYERS, PROGRESS, load_progress_rules
from ..present.explain import how as how_tree
from ..present.graph import FORMATS as GRAPH_FORMATS
from ..present.graph import render_graph
from ..present.traces import coverage_text, why_not_text
from ..trace.decisions import PROGRAMME, how_decided, is_checkin
from ..trace.tracefile import coverage as coverage_report
from ..trace.tracefile import describe, filter_events, pick, read_traces
from ..trace.whynot import why_not as explain_why_not
from .options import engine_options, input_file, load_planner, unknown

TRACE = click.argument("trace_file", metavar="TRACE", type=click.Path(path_type=Path),
                       callback=input_file)
RESPONDENT = click.option("--respondent", metavar="ID",
                          help="In a batch trace file, the respondent whose trace to use.")


@click.group()
def trace() -> None:
    """Inspect rule traces: what fired, in which order, and why an exercise is in or out.

    Write a trace with `hipcoach plan ANSWERS --trace FILE`, or of a programme check-in with
    `hipcoach programme checkin JOURNAL ... --trace FILE`.
    """


@trace.command()
@TRACE
@RESPONDENT
@click.option("--rule", help="Only events of rules matching this glob or prefix (e.g. 'cause.*'): "
                              "their firings, and the plan step's picks and drops for them.")
@click.option("--layer", type=click.Choice(ALL_LAYERS),
              help="Only events of this layer.")
@click.option("--fact", help="Only events whose facts mention this text (e.g. 'runners_knee').")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for reading; json for the events as stored.")
def show(trace_file: Path, respondent: str | None, rule: str | None, layer: str | None,
         fact: str | None, fmt: str) -> None:
    """Print the events of a trace in firing order, optionally filtered."""
    record = pick(trace_file, respondent)
    events = filter_events(record, rule, layer, fact)
    if fmt == "json":
        click.echo(json.dumps(events, indent=2, ensure_ascii=False))
        return
    who = f" for {record['respondent']}" if record["respondent"] is not None else ""
    click.echo(f"{len(events)} of {len(record['events'])} events{who} (status: {record['status']})")
    for event in events:
        click.echo(describe(event))


@trace.command()
@TRACE
@click.argument("conclusion")
@RESPONDENT
@engine_options
def how(trace_file: Path, conclusion: str, respondent: str | None, kb: Path | None,
        rules: Path | None) -> None:
    """Show how CONCLUSION (a symptom, cause, plan exercise or referral reason) was derived,
    down to the answers, with each rule's rationale, source and certainty.

    In a check-in's trace (`programme checkin --trace`), CONCLUSION is `decision` for the
    programme's decision, or an exercise for its own, down to the check-in values.
    """
    record = pick(trace_file, respondent)
    if is_checkin(record):
        planner = load_planner(kb, rules)
        progress = load_progress_rules(rules or rules_dir(), planner.kb)
        try:
            lines = how_decided(record, conclusion, progress, planner.kb)
        except KeyError:
            items = [i["exercise"] for i in record["plan"].get("items", [])]
            raise unknown(conclusion, "a decision in this check-in's trace",
                          [PROGRAMME, *items]) from None
        click.echo("\n".join(lines))
        return
    plan = record["plan"]
    try:
        lines = how_tree(plan, conclusion)
    except KeyError:
        known = [s["id"] for s in plan["symptoms"]] + [c["id"] for c in plan["causes"]] + \
            [i["exercise"] for i in plan["items"]] + [r["id"] for r in plan["reasons"]]
        raise unknown(conclusion, "a conclusion in this trace", known) from None
    click.echo("\n".join(lines))


@trace.command("why-not")
@TRACE
@click.argument("exercise")
@RESPONDENT
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for reading; json with kind, reasons, changes, chosen_for and lifts.")
@engine_options
def why_not(trace_file: Path, exercise: str, respondent: str | None, fmt: str, kb: Path | None,
            rules: Path | None) -> None:
    """Explain why EXERCISE is not in the plan, and which answer changes would bring it in.

    Changes are checked by planning again, so use the same --kb/--rules as the trace.
    """
    record = pick(trace_file, respondent)
    planner = load_planner(kb, rules)
    if exercise not in planner.kb.exercises:
        raise unknown(exercise, "an exercise in the knowledge base", list(planner.kb.exercises))
    try:  # the changes are checked by re-planning from the trace's answers, so they must fit
        record = {**record, "answers": normalise(record["answers"], planner.kb)}
        result = explain_why_not(record, exercise, planner)
    except HipcoachError as exc:
        raise click.ClickException(f"{trace_file}: the trace's answers cannot be planned again: "
                                   f"{exc}") from exc
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    click.echo(why_not_text(result.to_json()))


@trace.command()
@TRACE
@RESPONDENT
@click.option("--format", "fmt", type=click.Choice(GRAPH_FORMATS), default="dot", show_default=True,
              help="Graphviz DOT or a Mermaid flowchart.")
def graph(trace_file: Path, respondent: str | None, fmt: str) -> None:
    """Print the derivation as a graph: answers -> symptoms -> causes -> exercises, each edge
    labelled with its rule id and certainty."""
    click.echo(render_graph(pick(trace_file, respondent)["plan"], fmt), nl=False)


@trace.command()
@click.argument("traces", metavar="TRACES.jsonl", type=click.Path(path_type=Path),
                callback=input_file)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for reading; json for the counts.")
@engine_options
def coverage(traces: Path, fmt: str, kb: Path | None, rules: Path | None) -> None:
    """Over a batch of traces: how often each rule fired, which rules never fired, and which
    exercises were never chosen."""
    planner = load_planner(kb, rules)
    folder = rules or rules_dir()
    progress = load_progress_rules(folder, planner.kb) if (folder / f"{PROGRESS}.yaml").exists() else None
    report = coverage_report(read_traces(traces), planner.rulebase, planner.kb, progress)
    if fmt == "json":
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    click.echo(coverage_text(report))
