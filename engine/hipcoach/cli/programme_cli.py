"""``hipcoach programme``: start a six-week programme from the answers, check in, and look back."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from ..atomic import locked
from ..errors import ProgrammeError
from ..formats import Journal
from ..kb.answers import read_answers
from ..present.calendar import parse_remind
from ..present.labels import Labels
from ..present.programme import (
    CHECKIN_FORMATS,
    SHOW_FORMATS,
    Wording,
    render_checkin,
    render_history,
    render_weeks,
)
from ..present.render import render
from ..programme.journal import write_journal
from ..programme.layout import parse_run_days
from ..programme.programme import MAX_WEEKS, Checkin, Programme
from .options import engine_options, input_file, unwritable

#: A journal to read: a missing file or a folder is bad input (exit 1), not a usage error.
JOURNAL = click.Path(path_type=Path)
#: The option that gives each value the programme names in its errors.
OPTIONS = {"pain_during": "--pain-during", "next_morning": "--next-morning",
           "sessions": "--sessions", "red_flags": "--red-flag", "date": "--date",
           "start": "--start", "weeks": "--weeks", "run_days": "--run-days"}


@contextmanager
def _as_options() -> Iterator[None]:
    """The programme's errors about one value, said with the option that gave it."""
    try:
        yield
    except ProgrammeError as exc:
        if exc.field not in OPTIONS:
            raise
        shown = str(exc.value) if exc.value not in (None, "") else ""
        raise click.ClickException(
            f"{OPTIONS[exc.field]}{' ' + shown[:40] if shown else ''}: {exc.problem}") from exc


def _referred(prog: Programme, journal: Journal) -> bool:
    """Print the referral the journal's answers get now, if any (a journal is triaged again
    whenever it is read: its answers may have been edited)."""
    plan = prog.triage(journal)
    if plan is None:
        return False
    click.echo("The answers in this journal now get a referral, so the programme is not shown "
               "and no check-in is recorded.", err=True)
    click.echo(render(plan, "text"), nl=False)
    return True


def _wording(programme: Programme) -> Wording:
    return Wording(
        labels=Labels.of(programme.planner.kb, programme.planner.rulebase,
                         programme.planner.provenance),
        phases={p.id: (p.name, p.focus) for p in programme.knowledge.phases},
        decisions={d.id: d.label for d in programme.rules.decisions},
        flags={c.value: c.label for c in programme.planner.kb.questions["red_flags"].choices})


@click.group()
def programme() -> None:
    """A six-week programme that adapts: start it, check in every week or so, look back.

    `start` lays your plan on a calendar and writes a journal file; `checkin` reports how the
    last sessions went, and the rules move each exercise one step up or down its ladder, keep
    it, or tell you to see a clinician; `show` and `history` read the journal.
    """


@programme.command()
@click.argument("answers", type=click.Path(allow_dash=True, path_type=str))
@click.option("--journal", "journal_file", type=click.Path(dir_okay=False, path_type=Path),
              required=True,
              help="The journal file to write (JSON); later commands read it.")
@click.option("--weeks", type=click.IntRange(1, MAX_WEEKS), default=6, show_default=True,
              help="How many weeks the programme runs.")
@click.option("--start", "start_date", default=None, metavar="YYYY-MM-DD",
              help="The first day of week 1 (default: today).")
@click.option("--run-days", default="mon,wed,sat", show_default=True,
              help="The days you run, such as mon,wed,sat. The last run day of the week is taken "
                   "as the hard (long or fast) run: strength days avoid the day before it.")
@click.option("--force", is_flag=True, help="Replace an existing journal.")
@engine_options
def start(answers: str, journal_file: Path, weeks: int, start_date: str | None, run_days: str,
          force: bool, kb: Path | None, rules: Path | None) -> None:
    """Plan from ANSWERS (a JSON or YAML file, or - for stdin), lay the plan on a calendar and
    write the journal; print week 1.

    Strength days are never two days running, and avoid the day before the hard run where the
    week allows. A warning sign in the answers prints the referral instead, exits with 1 and
    writes no journal.
    """
    if journal_file.exists() and not force:
        raise click.ClickException(f"{journal_file} exists: use --force to replace it, or "
                                   "another --journal")
    with _as_options():
        days = parse_run_days(run_days)
    prog = Programme(kb, rules)
    raw = read_answers(sys.stdin.buffer, "<stdin>") if answers == "-" else read_answers(Path(answers))
    with _as_options():
        plan, journal = prog.start(dict(raw), start_date or dt.date.today().isoformat(), weeks,
                                   days)
    if journal is None:
        click.echo(render(plan, "text"), nl=False)
        raise click.ClickException("no programme started: see a clinician first")
    write_journal(journal_file, journal)
    click.echo(f"Journal written to {journal_file}", err=True)
    click.echo(render_weeks(journal, prog.describe, _wording(prog), "text", 1), nl=False)


@programme.command()
@click.argument("journal_file", type=JOURNAL, callback=input_file)
@click.option("--week", type=int, default=None, help="Only this week.")
@click.option("--format", "fmt", type=click.Choice(SHOW_FORMATS), default="text",
              show_default=True,
              help="text and markdown are for runners; html is a handout to print (dose by week, "
                   "a tick-box log); ics is a calendar file with a day's session per event and a "
                   "check-in event each week, for a phone or calendar app; json is the journal.")
@click.option("--remind", default=None, metavar="HH:MM",
              help="With --format ics: a reminder at this time on the day of each event.")
@engine_options
def show(journal_file: Path, week: int | None, fmt: str, remind: str | None, kb: Path | None,
         rules: Path | None) -> None:
    """Print the programme in JOURNAL_FILE, every week or one.

    Save a handout or calendar with a redirect: `hipcoach programme show me.json --format ics >
    hips.ics`, then open the file on your phone or import it into a calendar. After a check-in,
    import it again: the events it changed carry a higher SEQUENCE, so the app updates them.
    A journal made with other knowledge and rules is refused (check in with --replan), and
    answers that now get a referral print the referral instead.
    """
    alarm = None
    if remind is not None:
        if fmt != "ics":
            raise click.UsageError("--remind goes with --format ics")
        try:
            alarm = parse_remind(remind)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--remind") from exc
    prog = Programme(kb, rules)
    journal = prog.load(journal_file)
    if _referred(prog, journal):
        return
    if week is not None and not 1 <= week <= journal["weeks"]:
        raise click.ClickException(f"--week {week}: the programme has weeks 1 to {journal['weeks']}")
    click.echo(render_weeks(journal, prog.describe, _wording(prog), fmt, week, alarm), nl=False)


@programme.command()
@click.argument("journal_file", type=JOURNAL, callback=input_file)
@click.option("--pain-during", type=int, required=True,
              help="The worst pain during the exercises since the last check-in, 0 to 10.")
@click.option("--next-morning", type=click.Choice(["better", "same", "worse"]), required=True,
              help="How you felt the morning after exercising, compared with before.")
@click.option("--sessions", type=int, required=True,
              help="Days of hip work done since the last check-in (or the start).")
@click.option("--red-flag", "red_flags", multiple=True, metavar="ID",
              help="A warning sign you have now (repeat for several), as the questionnaire "
                   "names them, such as swelling.")
@click.option("--date", "date", default=None, metavar="YYYY-MM-DD",
              help="The day of the check-in (default: today).")
@click.option("--replan", is_flag=True,
              help="The journal was made with other knowledge and rules: re-plan the weeks "
                   "after this check-in under these (exercises keep the steps they reached "
                   "where the new ladders have them), record that in the journal, then check "
                   "in.")
@click.option("--format", "fmt", type=click.Choice(CHECKIN_FORMATS), default="text",
              show_default=True, help="text is for runners; json is for other tools.")
@click.option("--trace", "trace_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the rule trace as JSON Lines, for `hipcoach trace ...`.")
@engine_options
def checkin(journal_file: Path, pain_during: int, next_morning: str, sessions: int,
            red_flags: tuple[str, ...], date: str | None, replan: bool, fmt: str,
            trace_file: Path | None, kb: Path | None, rules: Path | None) -> None:
    """Report how the sessions since the last check-in went; print the decision and why, and
    move the remaining weeks' exercises up or down their ladders in JOURNAL_FILE.

    A red flag, or pain at the level at which `hipcoach plan` refers, goes through the same
    triage rules as a plan and ends the programme with the same referral (exit 0, as `plan`).
    Otherwise pain up to 3/10, no worse the next morning and at least two thirds of the
    sessions done moves up a step; 4-5/10, pain higher than at the last check-in or too few
    sessions holds; more than 5/10, worse the next morning or pain rising at two check-ins
    running eases off a step; pain rising to above 5/10 or no improvement over three
    check-ins refers. Exercises the plan's rules leave out at the reported pain are left out
    until a check-in's pain allows them. A check-in that contradicts the journal changes
    nothing. Two check-ins at once on one journal take turns.
    """
    prog = Programme(kb, rules)
    with locked(journal_file):  # from reading the journal to replacing it
        journal = prog.load(journal_file, replan=replan)
        if _referred(prog, journal):
            return
        report = Checkin(date or dt.date.today().isoformat(), pain_during, next_morning,
                         sessions, tuple(dict.fromkeys(red_flags)))
        with _as_options():
            if journal["provenance"]["fingerprint"] != prog.provenance["fingerprint"]:
                journal = prog.replan(journal, report.date)
            updated, result, verdict = prog.checkin(journal, report)
        if trace_file is not None:
            from ..trace.tracefile import write_traces  # here: a plain check-in never loads traces

            try:
                write_traces(trace_file,
                             [prog.trace(updated, verdict, updated["checkins"][-1]["date"])])
            except OSError as exc:
                raise click.ClickException(f"cannot write the trace to {trace_file}: "
                                           f"{unwritable(exc, trace_file)}") from exc
        write_journal(journal_file, updated)
    ended = ": the programme ends here" if result["decision"] == "refer" else ""
    click.echo(f"Check-in recorded in {journal_file}{ended}", err=True)
    click.echo(render_checkin(result, prog.describe, _wording(prog), fmt), nl=False)


@programme.command()
@click.argument("journal_file", type=JOURNAL, callback=input_file)
@click.option("--format", "fmt", type=click.Choice(CHECKIN_FORMATS), default="text",
              show_default=True, help="text is for runners, with a chart; json is for other tools.")
@engine_options
def history(journal_file: Path, fmt: str, kb: Path | None, rules: Path | None) -> None:
    """Every check-in in JOURNAL_FILE with its decision, and the pain trend as a chart."""
    prog = Programme(kb, rules)
    journal = prog.load(journal_file)
    click.echo(render_history(journal, _wording(prog), fmt), nl=False)
