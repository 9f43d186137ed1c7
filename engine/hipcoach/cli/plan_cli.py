"""The runner's commands: ``plan`` (answers from a file), ``ask`` (the questionnaire,
interactively) and ``schema`` (the JSON formats)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from ..atomic import write_atomic
from ..errors import AnswersError
from ..formats import FORMATS, json_schema
from ..kb.answers import dumps, normalise, read_answers, should_ask
from ..kb.knowledge import Question, split_choices
from ..planning.planner import Planner
from ..present.labels import Labels
from ..present.render import render
from .options import engine_options, load_planner, output_options


def _emit(planner: Planner, answers: dict[str, Any], fmt: str, minutes: int | None,
          explain: bool, brief: bool, trace_file: Path | None = None) -> None:
    try:
        if trace_file is None:
            plan = planner.plan(answers, minutes)
        else:
            record = planner.trace(answers, minutes)
            plan = record["plan"]
    except AnswersError as exc:
        if minutes is not None and exc.key == "minutes":  # the option, not the file, was wrong
            raise click.ClickException(f"--minutes {minutes}: {exc.problem}") from exc
        raise  # the root group turns it into the one-line message
    if trace_file is not None:
        from ..trace.tracefile import write_traces  # here: a plain plan never loads traces

        try:
            write_traces(trace_file, [record])
        except OSError as exc:
            raise click.ClickException(f"cannot write the trace to {trace_file}: {exc}") from exc
    labels = Labels.of(planner.kb, planner.rulebase) if fmt == "html" else None
    click.echo(render(plan, fmt, explain, brief, labels), nl=False)


@click.command()
@click.argument("answers", type=click.Path(allow_dash=True, path_type=str))
@output_options
@click.option("--trace", "trace_file", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the full rule trace as JSON Lines, for `hipcoach trace ...`.")
@engine_options
def plan(answers: str, fmt: str, minutes: int | None, explain: bool, brief: bool,
         trace_file: Path | None, kb: Path | None, rules: Path | None) -> None:
    """Print the plan for the answers in ANSWERS (a JSON or YAML file, or - for stdin).

    ANSWERS maps answer ids to values, for example {"knee_pain": "front", "minutes": 20};
    missing answers take their defaults (`hipcoach ask` lists them).
    """
    planner = load_planner(kb, rules)
    # a missing or unreadable file is bad input (exit 1), not a usage error
    raw = read_answers(sys.stdin.buffer, "<stdin>") if answers == "-" else read_answers(Path(answers))
    _emit(planner, dict(raw), fmt, minutes, explain, brief, trace_file)


@click.command()
@click.option("--save", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the answers to this JSON file, for `hipcoach plan` later.")
@output_options
@engine_options
def ask(save: Path | None, fmt: str, minutes: int | None, explain: bool, brief: bool,
        kb: Path | None, rules: Path | None) -> None:
    """Answer the questionnaire interactively, then print the plan.

    Press Enter to accept the default shown in brackets. Questions that do not apply (such as
    pain level when nothing hurts) are skipped, and a warning sign ends the questions at once
    with advice on whom to see. With --minutes, that question is not asked.
    """
    planner = load_planner(kb, rules)
    answers: dict[str, Any] = {}
    _check_before_asking(planner, save, minutes, answers)
    questions = [q for q in planner.kb.questions.values() if q.id not in answers]
    triage = {field for rule in planner.rulebase.layer("triage") for field in rule.answers_used}
    try:
        for number, question in enumerate(questions, start=1):
            if not should_ask(question, answers):
                continue
            answers[question.id] = _prompt(question, number, len(questions))
            if question.id in triage and planner.plan(answers)["status"] == "refer":
                break  # a warning sign: the remaining questions cannot change the advice
    except click.Abort:
        click.echo("\nStopped: nothing was saved and no plan was made.", err=True)
        sys.exit(1)
    answers = normalise(answers, planner.kb)
    if save is not None:
        try:
            text = dumps(answers)
            write_atomic(save, lambda stream: stream.write(text))  # whole or not at all
        except OSError as exc:
            raise click.ClickException(f"cannot save answers to {save}: {exc}") from exc
        click.echo(f"Answers saved to {save}", err=True)
    click.echo("", err=True)
    _emit(planner, answers, fmt, None, explain, brief)


def _check_before_asking(planner: Planner, save: Path | None, minutes: int | None,
                         answers: dict[str, Any]) -> None:
    """Refuse a bad --save or --minutes before the first question, not after the last one;
    a good --minutes becomes the answer to that question."""
    if save is not None:
        if not save.parent.is_dir():
            raise click.ClickException(f"cannot save answers to {save}: folder {save.parent} "
                                       "does not exist")
        if not os.access(save.parent, os.W_OK) or (save.exists() and not os.access(save, os.W_OK)):
            raise click.ClickException(f"cannot save answers to {save}: not writable")
    if minutes is not None:
        try:
            answers["minutes"] = planner.kb.questions["minutes"].coerce(minutes)
        except AnswersError as exc:
            raise click.ClickException(f"--minutes {minutes}: {exc.problem}") from exc


def _prompt(question: Question, number: int, total: int) -> Any:
    """Ask one question until the answer is valid; choices may be typed by number or value."""
    click.echo(f"\nQuestion {number} of {total}: {question.prompt}", err=True)
    click.echo(f"  {question.help}", err=True)
    for index, choice in enumerate(question.choices, start=1):
        click.echo(f"  {index}. {choice.label}", err=True)
    if question.type == "multi":
        click.echo("  (type the numbers that apply, such as 1 3 or 1,3; Enter for none)", err=True)
    elif question.type == "choice":
        click.echo(f"  (type a number from 1 to {len(question.choices)})", err=True)
    elif question.type == "bool":
        click.echo("  (yes or no)", err=True)
    else:
        click.echo(f"  ({question.min:g} to {question.max:g})", err=True)

    def convert(text: Any) -> Any:
        try:
            return question.coerce(_by_number(question, text))
        except AnswersError as exc:
            raise click.UsageError(_retry_hint(question, exc)) from exc

    default = question.default
    if question.type == "bool":
        shown = "yes" if default else "no"
    elif question.type in ("choice", "multi"):
        chosen = default if isinstance(default, list) else [default]
        shown = " ".join(str(question.values.index(v) + 1) for v in chosen)
    else:
        shown = f"{default:g}"
    return click.prompt("  answer", default=shown, value_proc=convert, err=True, show_default=True)


def _by_number(question: Question, text: Any) -> Any:
    """Typed choices to values: by number ("2", "1 3", "1,3", "1, 3"), or by value or label in any
    case. Anything else is passed on for the question to reject."""
    if question.type not in ("choice", "multi") or not isinstance(text, str):
        return text
    parts = split_choices(text) if question.type == "multi" or text.strip().isdigit() else [text.strip()]
    by_word = {word.lower(): c.value for c in question.choices for word in (c.value, c.label)}
    values = []
    for part in parts:
        if part.isdigit() and 0 < int(part) <= len(question.choices):
            values.append(question.choices[int(part) - 1].value)
        else:
            values.append(by_word.get(part.lower(), part))
    return values if question.type == "multi" else (values[0] if values else "")


def _retry_hint(question: Question, error: AnswersError) -> str:
    """What to type instead, in the numbers the prompt offered."""
    count = len(question.choices)
    if question.type == "choice":
        return f"{error.value!r} is not one of the choices: type one number from 1 to {count}"
    if question.type == "multi":
        typed = error.value if isinstance(error.value, list) else [error.value]
        wrong = ", ".join(repr(v) for v in typed if v not in question.values)
        return (f"{wrong} is not one of the choices: type numbers from 1 to {count}, separated by "
                "spaces or commas, or Enter for none")
    if question.type == "bool":
        return "type yes or no"
    return error.problem


@click.command()
@click.argument("name", type=click.Choice(sorted(FORMATS)))
def schema(name: str) -> None:
    """Print the JSON Schema of a format: plan (`plan --format json`), trace (one line of a
    trace file) or summary (a scoring run's summary.json)."""
    click.echo(json.dumps(json_schema(name), indent=2, ensure_ascii=False))
