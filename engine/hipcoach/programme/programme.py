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
from ..kb.provenance import SHORT
from ..kb.rulefile import NEXT_MORNING, load_progress_rules
from ..planning.assemble import excluded as excluded_as
from ..planning.assemble import ruled_out_reason
from ..planning.planner import Planner
from ..reasoning.facts import kind_of
from ..reasoning.inference import Support
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

    @property
    def provenance(self) -> formats.JournalProvenance:
        """This knowledge and rule base, as a journal records it."""
        made = self.planner.provenance
        return {"hipcoach": made.version, "fingerprint": made.fingerprint}

    def load(self, path: Path | BinaryIO, name: str | None = None, replan: bool = False) -> Journal:
        """The journal in ``path`` (or a stream called ``name``), checked against its format and
        against this knowledge base (its answers, dates, run days, slots, each item's exercise
        and step, and every stored check-in's values), so a journal edited by hand is one clear
        error, never a crash half-way through a command. A journal made with another knowledge
        and rule base is refused unless ``replan`` (then :meth:`replan` must re-plan it before
        it is used)."""
        if name is None:
            name = str(path)
        journal = read_journal(path, name)
        made = journal["provenance"]
        other = made["fingerprint"] != self.provenance["fingerprint"]
        if other and not replan:
            raise ProgrammeError(
                f"{name} was made with other knowledge and rules ({made['fingerprint'][:SHORT]}, "
                f"hipcoach {made['hipcoach'][:20]}) than these "
                f"({self.provenance['fingerprint'][:SHORT]}): check in with --replan to re-plan "
                "the remaining weeks under these, or use the --kb and --rules it was made with")
        try:
            # answers left out take their defaults, as in an answers file
            journal["answers"] = dict(normalise(journal["answers"], self.planner.kb))
            dates = [journal["start"]] + [c["date"] for c in journal["checkins"]] + \
                [r["date"] for r in journal["replans"]]
            for week in journal["programme"]:
                for day in week["days"]:
                    dates.append(day["date"])
                    if day["slot"] not in self.slots:
                        raise ProgrammeError(f"unknown slot {day['slot'][:40]!r}")
                    for item in day["items"]:
                        if not other:
                            self.rungs.rung(item["exercise"], item["step"])
            for date in dates:
                parse_date(date, "date")
            if not 1 <= journal["weeks"] <= MAX_WEEKS or \
                    [w["week"] for w in journal["programme"]] != list(range(1, journal["weeks"] + 1)):
                raise ProgrammeError(f"'programme' must hold weeks 1 to {journal['weeks']} in "
                                     f"order, at most {MAX_WEEKS}")
            if not set(journal["run_days"]) <= set(WEEKDAYS):
                raise ProgrammeError("run_days must be weekday ids such as mon")
            self._check_history(journal)
        except (AnswersError, ProgrammeError) as exc:
            raise ProgrammeError(f"{name}: not a journal this programme can use: {exc}") from None
        return journal

    def _check_history(self, journal: Journal) -> None:
        """Every stored check-in within what a check-in may report (the same checks as a new
        one): a person may have edited the file."""
        checked: Journal = {**journal, "checkins": []}
        for number, stored in enumerate(journal["checkins"], start=1):
            if checked["checkins"] and checked["checkins"][-1]["decision"] == "refer":
                raise ProgrammeError(f"check-in {number} comes after a referral")
            report = Checkin(stored["date"], stored["pain_during"], stored["next_morning"],
                             stored["sessions"], tuple(stored["red_flags"]))
            try:
                self._check(checked, report)
                referral = self.triaged(journal, report)["urgency"]
                if referral is not None and stored["decision"] != "refer":
                    raise ProgrammeError("the triage rules refer on what it reports, but it is "
                                         f"recorded as {stored['decision']!r}")
            except ProgrammeError as exc:
                raise ProgrammeError(f"stored check-in {number} ({stored['date'][:10]}): "
                                     f"{exc}") from None
            checked["checkins"].append(stored)

    def triaged(self, journal: Journal, report: Checkin) -> Plan:
        """The plan the planner's rules give for what ``report`` says, as answers."""
        return self.planner.plan(_answers_at(journal, report))

    def triage(self, journal: Journal) -> Plan | None:
        """The referral the journal's answers get from the triage rules now, or None: a journal
        is triaged again at every reading, since its answers may have been edited."""
        plan = self.planner.plan(journal["answers"])
        return plan if plan["status"] == "refer" else None

    def replan(self, journal: Journal, date: str) -> Journal:
        """``journal`` re-planned under this knowledge and rule base from the day after
        ``date``: the plan made again from its answers and laid on the same calendar, each
        exercise kept at its step where its ladder here has that step. Days up to ``date`` stay
        as they were where this base still knows their items. Recorded in ``replans``."""
        after = parse_date(date, "date").isoformat()
        _, fresh = self.start(journal["answers"], journal["start"], journal["weeks"],
                              journal["run_days"])
        if fresh is None:
            raise ProgrammeError("the journal's answers get a referral under these rules: see a "
                                 "clinician before starting again")
        past = {(day["date"], day["slot"]): day for week in journal["programme"]
                for day in week["days"] if day["date"] <= after and self._known(day)}
        for steps in (current_steps(journal), {}):  # the steps reached, else afresh
            laid = copy.deepcopy(fresh)
            for week in laid["programme"]:
                phase = self.knowledge.phase(week["week"])
                days = []
                for day in week["days"]:
                    if day["date"] <= after:
                        days.append(past.get((day["date"], day["slot"]), day))
                        continue
                    for item in day["items"]:
                        step = steps.get(item["exercise"], 0)
                        item["step"] = step if self.rungs.has(item["exercise"], step) else 0
                        item["dose"] = self.rungs.dose(item["exercise"], item["step"], phase)
                    days.append(day)
                week["days"] = days
            if self._fits_days([d for w in laid["programme"] for d in w["days"]
                                if d["date"] > after], {}, laid["answers"]["minutes"]):
                break
        laid["checkins"] = journal["checkins"]
        laid["replans"] = journal["replans"] + [{"date": after, "previous": journal["provenance"]}]
        return laid

    def _known(self, day: formats.JournalDay) -> bool:
        return all(self.rungs.has(item["exercise"], item["step"]) for item in day["items"])

    def describe(self, exercise: str, step: int) -> Description:
        """``{name, steps, cautions, category}`` of an item at a step, for any renderer."""
        return self.rungs.describe(exercise, step)

    # ------------------------------------------------------------------------------ start

    def start(self, raw_answers: Mapping[str, Any], start: str, weeks: int,
              run_days: Sequence[str]) -> tuple[Plan, Journal | None]:
        """The plan, and the journal of a new programme; no journal for a referral."""
        if not 1 <= weeks <= MAX_WEEKS:
            raise ProgrammeError(f"a programme runs 1 to {MAX_WEEKS} weeks", "weeks", weeks)
        first = parse_date(start, "start")
        if first > dt.date.max - dt.timedelta(weeks=weeks):
            raise ProgrammeError(f"a programme of {weeks} weeks would end after the last date "
                                 "there is", "start", first.isoformat())
        answers = normalise(raw_answers, self.planner.kb)
        plan = self.planner.plan(answers)
        if plan["status"] == "refer":
            return plan, None
        blocks = {block["slot"]: block["exercises"] for block in plan["schedule"]}
        if not run_days and any(slot in blocks for slot in RUN_SLOTS):
            raise ProgrammeError("the plan has blocks before or after runs: name your run days, "
                                 "such as mon,wed,sat", "run_days", "")
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
                            {"exercise": ex, "dose": self.rungs.dose(ex, 0, phase), "step": 0,
                             "paused": False} for ex in blocks[slot]]})
            programme.append({"week": week, "phase": phase.id,
                              "days": cast(list[formats.JournalDay], days)})
        journal: Journal = {"version": VERSION, "provenance": self.provenance,
                            "answers": dict(answers), "start": first.isoformat(), "weeks": weeks,
                            "run_days": list(run_days), "programme": programme, "checkins": [],
                            "replans": []}
        self._check_fits(journal)
        return plan, journal

    # ---------------------------------------------------------------------------- check-in

    def checkin(self, journal: Journal, report: Checkin) -> tuple[Journal, CheckinResult, Verdict]:
        """The journal after ``report``, what was decided, and the rules' verdict (for traces).
        ``journal`` itself is left as it was.

        What the check-in reports runs through the planner's own rules first, as answers: its
        red flags as ``red_flags`` and its pain as ``pain_level``. The triage layer's
        referrals are asserted for the progress rules (the referral reads as a plan's), and
        the candidate layer's exclusions at that pain leave the programme until a check-in at
        which the same rules keep them."""
        date = self._check(journal, report)
        journal = copy.deepcopy(journal)
        history = journal["checkins"]
        dates = [c["date"] for c in history] + [date.isoformat()]
        reports: list[tuple[int, str, int]] = [
            (c["pain_during"], c["next_morning"], c["sessions"]) for c in history]
        reports.append((report.pain_during, report.next_morning, report.sessions))
        readings = [(pain, morning, self._thirds(journal, dates[i - 1] if i else None, dates[i], done),
                     self._days(journal, dates[i - 1] if i else None, dates[i]))
                    for i, (pain, morning, done) in enumerate(reports)]
        at_pain, derivation = self.planner.run(_answers_at(journal, report))
        state = current_state(journal)
        steps = {ex: step for ex, (step, _) in state.items()}
        rules, kb = self.planner.engine.rules, self.planner.kb
        excluded = {ex: [excluded_as(version, s, derivation, rules, kb).reason
                         for version, s in self._exclusions(derivation.exclusions, ex, steps[ex])]
                    or [ruled_out_reason(demand, derivation, rules, kb)
                        for demand in self.rungs.rung(ex, steps[ex]).demands
                        if demand in derivation.ruled_out]
                    for ex in state}
        paused = {ex: why for ex, why in excluded.items() if why}
        order = [ex for ex in state
                 if len(self.knowledge.ladders[ex].rungs) > 1 and ex not in paused]
        future = [day for week in journal["programme"] for day in week["days"]
                  if day["date"] > date.isoformat()]
        equipment = journal["answers"].get("equipment", [])
        budget = journal["answers"]["minutes"]
        ruled_out = set(derivation.ruled_out)
        up = self._reach(order, steps, future, 1, equipment, ruled_out, budget)
        down = self._reach(order, steps, future, -1, equipment, ruled_out, budget)
        referrals = [(r["id"], str(r["urgency"])) for r in at_pain["reasons"]]
        verdict = self.engine.decide(readings, referrals,
                                     [(ex, steps[ex], up[ex][0], down[ex][0]) for ex in order])
        moved = dict(steps)
        last = not future
        for ex in order if not last else ():
            decision = verdict.decision_for(ex)
            if decision in ("progress", "regress"):
                moved[ex] = (up if decision == "progress" else down)[ex][1]
        refer = verdict.decision == "refer"
        before = copy.deepcopy(future)
        self._apply(journal, date, moved, set(paused), refer)
        recent = dates[-HISTORY:]
        because = [self._support(firing, recent) for firing in verdict.because] + [
            self._support(firing, recent) for ex in order if ex in verdict.items
            for firing in verdict.items[ex][1]]
        reasons = self._reasons(at_pain, verdict) if refer else []
        urgency = reasons[0]["urgency"] if reasons else None
        changed = [day for week in journal["programme"] for day in week["days"]
                   if day["date"] > date.isoformat()] != before
        record: JournalCheckin = {
            "date": date.isoformat(), "pain_during": report.pain_during,
            "next_morning": cast(formats.NextMorning, report.next_morning),
            "sessions": report.sessions, "red_flags": list(report.red_flags),
            "decision": cast(formats.Decision, verdict.decision), "urgency": urgency,
            "changed": changed, "because": because}
        history.append(record)
        self._check_fits(journal)
        shown = [] if refer else [ex for ex in state if ex not in paused]  # moved or not
        result: CheckinResult = {
            "decision": record["decision"], "urgency": urgency,
            "referral": self._referral(at_pain, verdict) if refer else None,
            "reasons": reasons,
            "items": [{"exercise": ex, "from": steps[ex], "to": moved[ex]} for ex in shown],
            "paused": [] if refer else [{"exercise": ex, "step": steps[ex], "reasons": why}
                                        for ex, why in paused.items()],
            "resumed": [] if refer else [ex for ex, (_, was) in state.items()
                                         if was and ex not in paused],
            "last": last,
            "because": because,
            "advice": [self._advice(verdict.decision, steps, moved, at_pain, verdict, last)]}
        return journal, result, verdict

    def _exclusions(self, exclusions: Mapping[str, Sequence[Support]], exercise: str,
                    step: int) -> list[tuple[str, Support]]:
        """The candidate layer's exclusions of an item, each with the exercise it excludes: its
        own, or the version it is at when that is an exercise of its own."""
        rung = self.rungs.rung(exercise, step).id
        versions = [exercise] + ([rung] if rung != exercise else [])
        return [(version, s) for version in versions for s in exclusions.get(version, [])]

    def _reasons(self, at_pain: Plan, verdict: Verdict) -> list[formats.Reason]:
        """A referral's reasons, most urgent first: the triage rules' (as the plan for the
        check-in's answers gives them), then the progress rules' that refer on the trend, at
        the least urgent level."""
        least = self.planner.rulebase.urgencies[-1].id
        own: list[formats.Reason] = [
            {"id": f.rule, "urgency": least, "message": self.engine.by_id[f.rule].rationale,
             "rule": f.rule, "source": self.planner.kb.citation(self.engine.by_id[f.rule].source),
             "from": []}
            for f in verdict.because if not any(kind_of(m) == "triage" for m in f.matched.values())]
        return list(at_pain["reasons"]) + own

    def _referral(self, at_pain: Plan, verdict: Verdict) -> formats.Referral:
        """What a referred runner reads first and last: the triage urgency's words for a
        programme under way when triage referred (``rules/triage.yaml``), else the progress
        rules' own."""
        found = next((u for u in self.planner.rulebase.urgencies if u.id == at_pain["urgency"]),
                     None)
        if found is not None:
            heading, advice = found.during()
            return {"heading": heading, "advice": advice}
        refer = self.rules.decision(verdict.decision)
        return {"heading": refer.label, "advice": refer.advice}

    def _advice(self, decision: str, steps: Mapping[str, int], moved: Mapping[str, int],
                at_pain: Plan, verdict: Verdict, last: bool) -> str:
        if decision == "refer":
            return self._referral(at_pain, verdict)["advice"]
        if last:
            return self.rules.last_checkin
        found = self.rules.decision(decision)
        if found.unmoved is not None and moved == steps:
            return found.unmoved
        return found.advice

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
        date = parse_date(report.date, "date")
        if date.isoformat() < journal["start"]:
            raise ProgrammeError(f"the programme starts on {journal['start']}", "date",
                                 date.isoformat())
        last = self.last_day(journal)
        if date > last:
            raise ProgrammeError(
                f"the programme's last week ended on {last}; start the next programme with "
                "`hipcoach programme start ANSWERS --journal NEW.json`", "date", date.isoformat())
        if history and date.isoformat() <= history[-1]["date"]:
            raise ProgrammeError(f"the last check-in was on {history[-1]['date']}; a check-in "
                                 "must come after it", "date", date.isoformat())
        if not _is_int(report.pain_during) or not 0 <= report.pain_during <= 10:
            raise ProgrammeError("pain is rated 0 to 10", "pain_during", report.pain_during)
        if report.next_morning not in NEXT_MORNING:
            raise ProgrammeError(f"one of {', '.join(NEXT_MORNING)}", "next_morning",
                                 report.next_morning)
        known = self.planner.kb.questions["red_flags"].values
        for flag in report.red_flags:
            if flag not in known:
                raise ProgrammeError(f"not a red flag; the ids are {', '.join(known)}",
                                     "red_flags", flag)
        if len(set(report.red_flags)) != len(report.red_flags):
            raise ProgrammeError("names a red flag twice", "red_flags", ",".join(report.red_flags))
        planned = len(self.planned_dates(journal, history[-1]["date"] if history else None,
                                         date.isoformat()))
        if not _is_int(report.sessions) or not 0 <= report.sessions <= planned:
            since = f"the check-in of {history[-1]['date']}" if history else "the start"
            raise ProgrammeError(f"{planned} sessions were planned from {since} to {date}",
                                 "sessions", report.sessions)
        return date

    def last_day(self, journal: Journal) -> dt.date:
        """The last day of the programme's last week."""
        return dt.date.fromisoformat(journal["start"]) + dt.timedelta(weeks=journal["weeks"],
                                                                      days=-1)

    def _days(self, journal: Journal, after: str | None, until: str) -> int:
        """Days from ``after`` (or the day before the start) to ``until``: how long the steps
        of the check-in before had been in use."""
        since = dt.date.fromisoformat(after or journal["start"]) - \
            (dt.timedelta(0) if after else dt.timedelta(days=1))
        return (dt.date.fromisoformat(until) - since).days

    def _thirds(self, journal: Journal, after: str | None, until: str, sessions: int) -> int:
        """Sessions done from the day after ``after`` to ``until``, in whole thirds of those
        planned (3 when none were planned: nothing was missed)."""
        planned = len(self.planned_dates(journal, after, until))
        return 3 if planned == 0 else min(3, 3 * sessions // planned)

    def _reach(self, order: Sequence[str], steps: Mapping[str, int],
               future: Sequence[formats.JournalDay], direction: int, equipment: Collection[str],
               ruled_out: Collection[str], budget: float) -> dict[str, tuple[str, int]]:
        """For each item in ``order``, whether it can move along its ladder in ``direction``,
        and to which step: ``ok``, or why not (``end``, ``equipment``, ``demand``, ``time``,
        ``taken``). A rung that needs equipment the runner lacks, or makes a demand in
        ``ruled_out`` (the candidate rules' ``ruled_out`` facts for the runner's answers at the
        check-in's pain), is stepped over to the next that fits; a
        rung another item of the programme is at is not taken, nor one dosed several times a day
        for an item done before or after runs (``slot``). Items are tried in order, each
        move kept when it fits, so all the moves found ``ok`` fit together."""
        trial = dict(steps)
        reach: dict[str, tuple[str, int]] = {}
        with_runs = {item["exercise"] for day in future if day["slot"] in RUN_SLOTS
                     for item in day["items"]}
        for ex in order:
            step, why = trial[ex] + direction, "end"
            while (found := self.rungs.reach(ex, step, equipment, ruled_out)) in ("equipment",
                                                                                  "demand"):
                step, why = step + direction, found
            if found == "ok":
                taken = {self.rungs.rung(other, at).id for other, at in trial.items() if other != ex}
                if self.rungs.rung(ex, step).id in taken:
                    found = "taken"
                elif ex in with_runs and self.rungs.rung(ex, step).per_day > 1:
                    found = "slot"  # a dose for several times a day, in a block done with a run
                else:
                    trial[ex], was = step, trial[ex]
                    if not self._fits_days(future, trial, budget):
                        trial[ex], found = was, "time"
            reach[ex] = (found if found != "end" else why, step if found == "ok" else trial[ex])
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
               paused: Collection[str], refer: bool) -> None:
        """Move the items of the days after ``date`` to ``steps`` (an item without a ladder is
        not in it and stays), and pause those in ``paused`` (the others play again); a referral
        ends the programme there."""
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
                        item["paused"] = ex in paused

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
    return {ex: step for ex, (step, _) in current_state(journal).items()}


def current_state(journal: Journal) -> dict[str, tuple[int, bool]]:
    """Each item's step and whether it is paused now, in the order items first appear: as its
    latest day in the calendar has them (every day after the last check-in holds the same)."""
    state: dict[str, tuple[int, bool]] = {}
    for week in journal["programme"]:
        for day in week["days"]:
            for item in day["items"]:
                state[item["exercise"]] = (item["step"], item["paused"])
    return state


def _answers_at(journal: Journal, report: Checkin) -> dict[str, Any]:
    """The journal's answers as a check-in reports them now: its red flags are the
    ``red_flags`` answer and its pain during exercise the ``pain_level`` answer."""
    return {**journal["answers"], "red_flags": list(report.red_flags),
            "pain_level": report.pain_during}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _premise(fact: Mapping[str, Any], dates: Sequence[str]) -> formats.ProgressPremise:
    """A matched fact as a decision's ``from`` shows it; a check-in with its date."""
    kind = kind_of(fact)
    if kind == "checkin":
        back = fact["back"]
        return {"checkin": back, "date": dates[len(dates) - 1 - back],
                "pain_during": fact["pain_during"], "next_morning": fact["next_morning"],
                "thirds_done": fact["thirds_done"], "days": fact["days"], "rise": fact["rise"]}
    if kind == "triage":
        return {"triage": fact["reason"], "urgency": fact["urgency"]}
    if kind == "decision":
        return {"decision": fact["kind"]}
    return {"exercise": fact["exercise"], "step": fact["step"], "next": fact["next"],
            "prev": fact["prev"]}

