"""The ``hipcoach`` command line: a thin layer that turns library errors into one-line messages."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .answers import dumps, normalise, read_answers, should_ask
from .errors import AnswersError, HipcoachError
from .knowledge import Question
from .clitools import engine_options, load_planner, output_options
from .plan import Planner
from .render import render
from .trace import write_traces


def _emit(planner: Planner, answers: dict[str, Any], fmt: str, minutes: int | None,
          explain: bool, trace_file: Path | None = None) -> None:
    try:
        if trace_file is None:
            plan = planner.plan(answers, minutes)
        else:
            record = planner.trace(answers, minutes)
            plan = record["plan"]
    except AnswersError as exc:
        if minutes is not None and exc.key == "minutes":  # the option, not the file, was wrong
            raise click.ClickException(f"--minutes {minutes}: {exc.problem}") from exc
        raise click.ClickException(str(exc)) from exc
    except HipcoachError as exc:
        raise click.ClickException(str(exc)) from exc
    if trace_file is not None:
        try:
            write_traces(trace_file, [record])
        except OSError as exc:
            raise click.ClickException(f"cannot write the trace to {trace_file}: {exc}") from exc
    click.echo(render(plan, fmt, explain), nl=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hipcoach")
def cli() -> None:
    """hipcoach: turn a runner's symptoms into a balanced hip-care plan that says why.

    Answer the questionnaire with `hipcoach ask`, or write the answers to a JSON or YAML file
    and run `hipcoach plan FILE`. Red flags end in advice to see a clinician, not exercises.
    """


@cli.command()
@click.argument("answers", type=click.File("r", encoding="utf-8"))
@output_options
@click.option("--trace", "trace_file", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the full rule trace as JSON Lines, for `hipcoach trace ...`.")
@engine_options
def plan(answers: Any, fmt: str, minutes: int | None, explain: bool, trace_file: Path | None,
         kb: Path | None, rules: Path | None) -> None:
    """Print the plan for the answers in ANSWERS (a JSON or YAML file, or - for stdin).

    ANSWERS maps answer ids to values, for example {"knee_pain": "front", "minutes": 20};
    missing answers take their defaults (`hipcoach ask` lists them).
    """
    planner = load_planner(kb, rules)
    name = "<stdin>" if answers.name == "<stdin>" else answers.name
    try:
        raw = read_answers(answers, name)
    except HipcoachError as exc:
        raise click.ClickException(str(exc)) from exc
    _emit(planner, dict(raw), fmt, minutes, explain, trace_file)


@cli.command()
@click.option("--save", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the answers to this JSON file, for `hipcoach plan` later.")
@output_options
@engine_options
def ask(save: Path | None, fmt: str, minutes: int | None, explain: bool, kb: Path | None,
        rules: Path | None) -> None:
    """Answer the questionnaire interactively, then print the plan.

    Press Enter to accept the default shown in brackets. Questions that do not apply (such as
    pain level when nothing hurts) are skipped.
    """
    planner = load_planner(kb, rules)
    if save is not None and not save.parent.is_dir():  # fail before the questions, not after
        raise click.ClickException(f"cannot save answers to {save}: folder {save.parent} does not exist")
    answers: dict[str, Any] = {}
    for question in planner.kb.questions.values():
        if should_ask(question, answers):
            answers[question.id] = _prompt(question)
    answers = normalise(answers, planner.kb)
    if save is not None:
        try:
            save.write_text(dumps(answers), encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot save answers to {save}: {exc}") from exc
        click.echo(f"Answers saved to {save}", err=True)
    click.echo("", err=True)
    _emit(planner, answers, fmt, minutes, explain)


def _prompt(question: Question) -> Any:
    """Ask one question until the answer is valid; choices may be typed by value or number."""
    click.echo(f"\n{question.prompt}", err=True)
    click.echo(f"  {question.help}", err=True)
    for number, choice in enumerate(question.choices, start=1):
        click.echo(f"  {number}. {choice.label} [{choice.value}]", err=True)
    if question.type == "multi":
        click.echo("  (type numbers or values separated by commas; Enter for none)", err=True)
    elif question.type in ("int", "number"):
        click.echo(f"  ({question.min:g} to {question.max:g})", err=True)

    def convert(text: Any) -> Any:
        try:
            return question.coerce(_by_number(question, text))
        except AnswersError as exc:
            raise click.UsageError(exc.problem) from exc

    default = question.default
    shown = ", ".join(default) if isinstance(default, list) else default
    if question.type == "bool":
        shown = "yes" if default else "no"
    return click.prompt("  answer", default=str(shown) if shown != "" else "",
                        value_proc=convert, err=True, show_default=True)


def _by_number(question: Question, text: Any) -> Any:
    """Map typed choice numbers ("2" or "1, 3") to their values; leave anything else alone."""
    if question.type not in ("choice", "multi") or not isinstance(text, str):
        return text
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    values = [question.choices[int(p) - 1].value if p.isdigit() and 0 < int(p) <= len(question.choices)
              else p for p in parts]
    return values if question.type == "multi" else (values[0] if values else "")


from .trace_cli import trace  # noqa: E402  (registered after cli is defined)

cli.add_command(trace)

from .kb_cli import kb  # noqa: E402  (registered after cli is defined)
from .score_cli import mapping, score  # noqa: E402
from .questionnaire_cli import questionnaire  # noqa: E402

cli.add_command(kb)
cli.add_command(score)
cli.add_command(mapping)
cli.add_command(questionnaire)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(cli(prog_name="hipcoach"))
