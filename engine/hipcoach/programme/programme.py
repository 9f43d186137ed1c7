"""The programme: start one from a plan, and adapt it at every check-in.

``start`` plans with the :class:`~hipcoach.planning.planner.Planner`, then lays the plan's
blocks on a calendar (:mod:`.layout`), every item at step 0 of its ladder. ``checkin`` checks the
check-in against the journal, hands it to the progress rules (:mod:`hipcoach.reasoning.progress`)
with each item's place on its ladder, and moves the items of the days after the check-in one
rung up or down as decided. A day never holds more than the runner's minutes: a move that would
break that is refused before the rules decide (the item's ``next``/``prev`` says ``time``).
Nothing here writes a file; the journal module does.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from .. import formats
from ..errors import AnswersError, ProgrammeError
from ..formats import CheckinResult, Journal, JournalCheckin, JournalWeek, Plan, ProgressSupport
from ..kb.answers import normalise
from ..kb.bundled import knowledge_dir, rules_dir
from ..kb.ladders import load_programme_knowledge
from ..kb.rulefile import NEXT_MORNING, load_progress_rules
from ..planning.planner import Planner
from ..reasoning.facts import kind_of
from ..reasoning.progress import HISTORY, Firing, ProgressEngine, Verdict
from .journal import VERSION, read_journal
from .layout import RUN_SLOTS, WEEKDAYS, day_slots, parse_date, strength_dates
from .rungs import Description, Rungs

#: The longest programme, in weeks.
MAX_WEEKS = 12
#: A day's minutes are compared with this much slack for rounding (doses such as 2.5 minutes).
_EPSILON = 1e-9


@dataclass(frozen=True)
class Checkin:
    """A check-in as the runner reports it, before it is checked against the journal."""

    date: str
    pain_during: int
    next_morning: str
    sessions: int
    red_flags: tuple[str, ...] = ()


class Programme:
    """The planner, the ladders and phases, and the progress rules, loaded and checked once."""

    def __init__(self, knowledge: Path | None = None, rules: Path | None = None) -> None:
        self.planner = Planner(knowledge, rules)
        kb = self.planner.kb
        self.knowledge = load_programme_knowledge(knowledge or knowledge_dir(), kb)
        self.rules = load_progress_rules(rules or rules_dir(), kb)
        self.engine = ProgressEngine(self.rules)
        self.rungs = Rungs(kb, self.knowledge)
        self.slots = [slot.id for slot in self.planner.rulebase.slots]

    def load(self, path: Path | BinaryIO, name: str | None = None) -> Journal:
        """The journal in ``path`` (or a stream called ``name``), checked against its format and
        against this knowledge base (its answers, dates, run days, slots, and each item's
        exercise and step), so a journal edited by hand is one clear error, never a crash
        half-way through a command."""
        if name is None:
            name = str(path)
        journal = read_journal(path, name)
        try:
            # answers left out take their defaults, as in an answers file
            journal["answers"] = dict(normalise(journal["answers"], self.planner.kb))
            dates = [journal["start"]] + [c["date"] for c in journal["checkins"]]
            for week in journal["programme"]:
                for day in week["days"]:
                    dates.append(day["date"])
                    if day["slot"] not in self.slots:
                        raise ProgrammeError(f"unknown slot {day['slot'][:40]!r}")
                    for item in day["items"]:
                        self.rungs.rung(item["exercise"], item["step"])
            for date in dates:
                parse_date(date, "date")
            if [w["week"] for w in journal["programme"]] != list(range(1, journal["weeks"] + 1)):
                raise ProgrammeError(f"'programme' must hold weeks 1 to {journal['weeks']} in order")
            if not set(journal["run_days"]) <= set(WEEKDAYS):
                raise ProgrammeError("run_days must be weekday ids such as mon")
        except (AnswersError, ProgrammeError) as exc:
            raise ProgrammeError(f"{name}: not a journal this programme can use: {exc}") from None
        return journal

    def describe(self, exercise: str, step: int) -> Description:
        """``{name, steps, cautions, category}`` of an item at a step, for any renderer."""
        return self.rungs.describe(exercise, step)

    # ------------------------------------------------------------------------------ start

    def start(self, raw_answers: Mapping[str, Any], start: str, weeks: int,
              run_days: Sequence[str]) -> tuple[Plan, Journal | None]:
        """The plan, and the journal of a new programme; no journal for a referral."""
        if not 1 <= weeks <= MAX_WEEKS:
            raise ProgrammeError(f"--weeks {weeks}: a programme runs 1 to {MAX_WEEKS} weeks")
        first = parse_date(start, "--start")
        if first > dt.date.max - dt.timedelta(weeks=weeks):
            raise ProgrammeError(f"--start {first}: a programme of {weeks} weeks would end after "
                                 "the last date there is")
        answers = normalise(raw_answers, self.planner.kb)
        plan = self.planner.plan(answers)
        if plan["status"] == "refer":
            return plan, None
        blocks = {block["slot"]: block["exercises"] for block in plan["schedule"]}
        if not run_days and any(slot in blocks for slot in RUN_SLOTS):
            raise ProgrammeError("the plan has blocks before or after runs: name your run days "
                                 "with --run-days, such as mon,wed,sat")
        strength = set(strength_dates(first, weeks, lambda w: self.knowledge.phase(w).strength_days,
                                      run_days))
        programme: list[JournalWeek] = []
        for week in range(1, weeks + 1):
            phase = self.knowledge.phase(week)
            days = []
            for offset in range(7):
                date = first + dt.timedelta(days=7 * (week - 1) + offset)
                for slot in day_slots(date, self.slots, run_days, strength):
                    if slot in blocks:
                        days.append({"date": date.isoformat(), "slot": slot, "items": [
                            {"exercise": ex, "dose": self.rungs.dose(ex, 0, phase), "step": 0}
                            for ex in blocks[slot]]})
            programme.append({"week": week, "phase": phase.id,
                              "days": cast(list[formats.JournalDay], days)})
        journal: Journal = {"version": VERSION, "answers": dict(answers), "start": first.isoformat(),
                            "weeks": weeks, "run_days": list(run_days), "programme": programme,
                            "checkins": []}
        self._check_fits(journal)
        return plan, journal

    # ---------------------------------------------------------------------------- check-in

    def checkin(self, journal: Journal, report: Checkin) -> tuple[Journal, CheckinResult, Verdict]:
        """The journal after ``report``, what was decided, and the rules' verdict (for traces).
        ``journal`` itself is left as it was."""
        date = self._check(journal, report)
        journal = copy.deepcopy(journal)
        history = journal["checkins"]
        dates = [c["date"] for c in history] + [date.isoformat()]
        reports: list[tuple[int, str, int]] = [
            (c["pain_during"], c["next_morning"], c["sessions"]) for c in history]
        reports.append((report.pain_during, report.next_morning, report.sessions))
        readings = [(pain, morning, self._thirds(journal, dates[i - 1] if i else None, dates[i], done))
                    for i, (pain, morning, done) in enumerate(reports)][-HISTORY:]
        order = [ex for ex in self.exercises(journal) if len(self.knowledge.ladders[ex].rungs) > 1]
        steps = {ex: step for ex, step in current_steps(journal).items() if ex in order}
        future = [day for week in journal["programme"] for day in week["days"]
                  if day["date"] > date.isoformat()]
        equipment = journal["answers"].get("equipment", [])
        budget = journal["answers"]["minutes"]
        up = self._reach(order, steps, future, 1, equipment, budget)
        down = self._reach(order, steps, future, -1, equipment, budget)
        verdict = self.engine.decide(readings, report.red_flags,
                                     [(ex, steps[ex], up[ex], down[ex]) for ex in order])
        moved = dict(steps)
        for ex in order:
            decision = verdict.decision_for(ex)
            if decision == "progress":
                moved[ex] = steps[ex] + 1
            elif decision == "regress":
                moved[ex] = steps[ex] - 1
        self._apply(journal, date, moved, verdict.decision == "refer")
        recent = dates[-HISTORY:]
        because = [self._support(firing, recent) for firing in verdict.because] + [
            self._support(firing, recent) for ex in order if ex in verdict.items
            for firing in verdict.items[ex][1]]
        record: JournalCheckin = {
            "date": date.isoformat(), "pain_during": report.pain_during,
            "next_morning": cast(formats.NextMorning, report.next_morning),
            "sessions": report.sessions, "red_flags": list(report.red_flags),
            "decision": cast(formats.Decision, verdict.decision), "because": because}
        history.append(record)
        self._check_fits(journal)
        result: CheckinResult = {
            "decision": record["decision"],
            "items": [{"exercise": ex, "from": steps[ex], "to": moved[ex]} for ex in order],
            "because": because,
            "advice": [self.rules.decision(verdict.decision).advice]}
        return journal, result, verdict

    def exercises(self, journal: Journal) -> list[str]:
        """The programme's exercises, in the order they first appear."""
        seen: dict[str, None] = {}
        for week in journal["programme"]:
            for day in week["days"]:
                for item in day["items"]:
                    seen.setdefault(item["exercise"], None)
        return list(seen)

    def planned_dates(self, journal: Journal, after: str | None, until: str) -> list[str]:
        """The days with hip work from the day after ``after`` (or the start) up to ``until``."""
        return sorted({day["date"] for week in journal["programme"] for day in week["days"]
                       if (after is None or day["date"] > after) and day["date"] <= until})

    def _check(self, journal: Journal, report: Checkin) -> dt.date:
        """The check-in's date, once the check-in is known not to contradict the journal."""
        history = journal["checkins"]
        if history and history[-1]["decision"] == "refer":
            raise ProgrammeError(f"the programme ended with a referral on {history[-1]['date']}: "
                                 "see a clinician before starting again")
        date = parse_date(report.date, "--date")
        if date.isoformat() < journal["start"]:
            raise ProgrammeError(f"--date {date}: the programme starts on {journal['start']}")
        if history and date.isoformat() <= history[-1]["date"]:
            raise ProgrammeError(f"--date {date}: the last check-in was on {history[-1]['date']}; "
                                 "a check-in must come after it")
        if not 0 <= report.pain_during <= 10:
            raise ProgrammeError(f"--pain-during {report.pain_during}: pain is rated 0 to 10")
        if report.next_morning not in NEXT_MORNING:
            raise ProgrammeError(f"--next-morning {report.next_morning!r}: one of "
                                 f"{', '.join(NEXT_MORNING)}")
        known = self.planner.kb.questions["red_flags"].values
        for flag in report.red_flags:
            if flag not in known:
                raise ProgrammeError(f"--red-flag {flag[:40]!r} is not a red flag; the ids are "
                                     f"{', '.join(known)}")
        planned = len(self.planned_dates(journal, history[-1]["date"] if history else None,
                                         date.isoformat()))
        if not 0 <= report.sessions <= planned:
            since = f"the check-in of {history[-1]['date']}" if history else "the start"
            raise ProgrammeError(f"--sessions {report.sessions}: {planned} sessions were planned "
                                 f"from {since} to {date}")
        return date

    def _thirds(self, journal: Journal, after: str | None, until: str, sessions: int) -> int:
        """Sessions done from the day after ``after`` to ``until``, in whole thirds of those
        planned (3 when none were planned: nothing was missed)."""
        planned = len(self.planned_dates(journal, after, until))
        return 3 if planned == 0 else min(3, 3 * sessions // planned)

    def _reach(self, order: Sequence[str], steps: Mapping[str, int],
               future: Sequence[formats.JournalDay], direction: int, equipment: Collection[str],
               budget: float) -> dict[str, str]:
        """For each item in ``order``, whether it can move one rung in ``direction``: ``ok``,
        ``end``, ``equipment`` or ``time``. Items are tried in order, each move kept when it
        fits, so all the moves found ``ok`` fit together."""
        trial = dict(steps)
        reach = {}
        for ex in order:
            why = self.rungs.reach(ex, trial[ex] + direction, equipment)
            if why == "ok":
                trial[ex] += direction
                if not self._fits_days(future, trial, budget):
                    trial[ex] -= direction
                    why = "time"
            reach[ex] = why
        return reach

    def _fits_days(self, days: Sequence[formats.JournalDay], steps: Mapping[str, int],
                   budget: float) -> bool:
        return all(total <= budget + _EPSILON
                   for total in self.day_minutes(days, steps).values())

    def day_minutes(self, days: Sequence[formats.JournalDay],
                    steps: Mapping[str, int] | None = None) -> dict[str, float]:
        """Each date's minutes of hip work, with every item at its step in ``days`` or, when
        given, at ``steps``."""
        totals: dict[str, float] = {}
        for day in days:
            for item in day["items"]:
                step = steps.get(item["exercise"], item["step"]) if steps is not None else item["step"]
                minutes = self.rungs.rung(item["exercise"], step).day_minutes
                totals[day["date"]] = totals.get(day["date"], 0.0) + minutes
        return totals

    def _check_fits(self, journal: Journal) -> None:
        """A last guard: no day of the journal holds more than the runner's minutes."""
        days = [day for week in journal["programme"] for day in week["days"]]
        budget = journal["answers"]["minutes"]
        for date, total in self.day_minutes(days).items():
            if total > budget + _EPSILON:
                raise ProgrammeError(f"{date} would take {total:g} minutes, more than the "
                                     f"{budget} a day allowed")

    def _apply(self, journal: Journal, date: dt.date, steps: Mapping[str, int],
               refer: bool) -> None:
        """Move the items of the days after ``date`` to ``steps`` (an item without a ladder is
        not in it and stays); a referral ends the programme there."""
        after = date.isoformat()
        for week in journal["programme"]:
            phase = self.knowledge.phase(week["week"])
            if refer:
                week["days"] = [day for day in week["days"] if day["date"] <= after]
                continue
            for day in week["days"]:
                if day["date"] > after:
                    for item in day["items"]:
                        ex = item["exercise"]
                        if ex in steps:
                            item["step"] = steps[ex]
                            item["dose"] = self.rungs.dose(ex, steps[ex], phase)

    def _support(self, firing: Firing, dates: Sequence[str]) -> ProgressSupport:
        rule = self.engine.by_id[firing.rule]
        facts = [firing.matched[p.alias] for p in rule.patterns
                 if not p.negated and p.alias in firing.matched]
        return {"rule": rule.id, "decision": cast(formats.Decision, firing.decision),
                "exercise": firing.exercise, "rationale": rule.rationale,
                "source": self.planner.kb.citation(rule.source),
                "from": [_premise(fact, dates) for fact in facts]}

    def trace(self, journal: Journal, verdict: Verdict, date: str) -> formats.TraceLine:
        """A check-in's trace line, in the format the ``trace`` commands read: the progress
        firings as events, and the plan the programme was made from."""
        plan = self.planner.plan(journal["answers"])
        return {"respondent": f"checkin {date}", "answers": journal["answers"],
                "status": "refer" if verdict.decision == "refer" else "plan",
                "events": cast(list[formats.Event], verdict.events),
                "unconsumed": verdict.unconsumed, "plan": plan}


def current_steps(journal: Journal) -> dict[str, int]:
    """Each item's step now: the step of its latest day in the calendar (every day after the
    last check-in holds the same)."""
    steps: dict[str, int] = {}
    for week in journal["programme"]:
        for day in week["days"]:
            for item in day["items"]:
                steps[item["exercise"]] = item["step"]
    return steps


def _premise(fact: Mapping[str, Any], dates: Sequence[str]) -> formats.ProgressPremise:
    """A matched fact as a decision's ``from`` shows it; a check-in with its date."""
    kind = kind_of(fact)
    if kind == "checkin":
        back = fact["back"]
        return {"checkin": back, "date": dates[len(dates) - 1 - back],
                "pain_during": fact["pain_during"], "next_morning": fact["next_morning"],
                "thirds_done": fact["thirds_done"]}
    if kind == "red_flag":
        return {"red_flag": fact["flag"]}
    if kind == "decision":
        return {"decision": fact["kind"]}
    return {"exercise": fact["exercise"], "step": fact["step"], "next": fact["next"],
            "prev": fact["prev"]}

