"""Scenario tests as data: what a physio expects of the rules, written as YAML, checked by planning.

A scenario file holds a list of scenarios; each gives a runner's answers (and, optionally, the
minutes) and what the plan must show::

    scenarios:
      - id: kneecap_pain_never_gets_deep_knee_bends
        says: "Kneecap pain gets hip and thigh strength, never a deep single-leg knee bend."
        answers: {knee_pain: front, pain_level: 3}
        expect:
          status: plan
          symptoms: {present: [runners_knee]}
          exercises: {absent: [chair_pose_squats, bouncing_lunges]}
          categories: {present: [strength]}
          certainty: {runners_knee: {at_least: 0.5}}
          within_budget: true

``expect`` may hold ``status`` (plan or refer), ``urgency``, ``certainty`` (a symptom or cause
id mapped to ``at_least``/``at_most``), ``within_budget`` (true: the plan's minutes fit the
runner's), and, each as ``{present: [...], absent: [...]}`` (a bare list means present):
``reasons`` (referral reasons), ``symptoms``, ``causes``, ``exercises``, ``categories``,
``targets`` (muscle groups the exercises work) and ``advice``.

A scenario may also start a programme from its plan and report check-ins in turn, each with
what its decision and item moves must be::

        programme: {start: 2026-03-02, weeks: 6, run_days: [tue, sat]}
        checkins:
          - {date: 2026-03-08, pain_during: 1, next_morning: better, sessions: all,
             expect: {decision: progress}}
          - {date: 2026-03-15, pain_during: 7, next_morning: worse, sessions: 2,
             expect: {decision: regress, up: []}}

``sessions: all`` is every session planned since the check-in before. A check-in's ``expect``
may hold ``decision`` (refer, regress, hold or progress) and ``up``, ``down`` and ``kept``: the
exercises that must move one rung up, one down, or stay (an empty list: none may).

Every expectation is a :class:`Expectation`: it says what was expected, what came, and when it
fails, the explanation that decides it: the ``how`` chain of what came (:func:`..present.explain.how`)
or the ``why-not`` reasons of what did not (:func:`.whynot.why_not`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date as _date
from pathlib import Path
from typing import Any

from ..errors import AnswersError, ScenarioError, excerpt
from ..kb.answers import normalise
from ..kb.schema import Entry, entries, load_yaml
from ..planning.planner import Planner
from ..present.explain import chain, how, value_text
from .whynot import why_not

Record = Mapping[str, Any]  # a trace line: {answers, events, plan, ...}
#: The kinds of id ``present``/``absent`` may list, and what each is read from in a plan.
LISTED = ("reasons", "symptoms", "causes", "exercises", "categories", "targets", "advice")
EXPECT_KEYS = ("status", "urgency", "certainty", "within_budget", *LISTED)


def ids_in(plan: Record, kind: str) -> list[str]:
    """The ids of ``kind`` (one of :data:`LISTED`) a plan shows, in its order."""
    if kind in ("reasons", "symptoms", "causes", "advice"):
        return [entry["id"] for entry in plan[kind]]
    if kind == "exercises":
        return [item["exercise"] for item in plan["items"]]
    if kind == "categories":
        return _unique(item["category"] for item in plan["items"])
    return _unique(target for item in plan["items"] for target in item["targets"])


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


class Expectation:
    """One thing a scenario expects of its plan."""

    def expected(self) -> str:
        raise NotImplementedError

    def got(self, plan: Record) -> str:
        raise NotImplementedError

    def holds(self, plan: Record) -> bool:
        raise NotImplementedError

    def explain(self, record: Record, planner: Planner) -> list[str]:
        """The chain that decides it, for a failure."""
        return _referral_chain(record["plan"])


def _referral_chain(plan: Record) -> list[str]:
    return [line for reason in plan["reasons"] for line in how(plan, reason["id"])]


@dataclass(frozen=True)
class Status(Expectation):
    value: str

    def expected(self) -> str:
        return f"status {self.value}"

    def got(self, plan: Record) -> str:
        return f"status {plan['status']}"

    def holds(self, plan: Record) -> bool:
        return bool(plan["status"] == self.value)

    def explain(self, record: Record, planner: Planner) -> list[str]:
        if record["plan"]["status"] == "refer":
            return _referral_chain(record["plan"])
        return ["no triage rule referred these answers"]


@dataclass(frozen=True)
class Urgency(Expectation):
    value: str

    def expected(self) -> str:
        return f"urgency {self.value}"

    def got(self, plan: Record) -> str:
        return f"urgency {plan['urgency'] or 'none (not referred)'}"

    def holds(self, plan: Record) -> bool:
        return bool(plan["urgency"] == self.value)


@dataclass(frozen=True)
class Listed(Expectation):
    """An id of one kind present in (or, with ``present`` false, absent from) the plan."""

    kind: str
    ident: str
    present: bool

    def expected(self) -> str:
        return f"{self.kind} {'include' if self.present else 'exclude'} {self.ident}"

    def got(self, plan: Record) -> str:
        found = ids_in(plan, self.kind)
        return f"{self.kind}: {', '.join(found) if found else 'none'}"

    def holds(self, plan: Record) -> bool:
        return (self.ident in ids_in(plan, self.kind)) == self.present

    def explain(self, record: Record, planner: Planner) -> list[str]:
        plan = record["plan"]
        if plan["status"] == "refer" and self.kind != "reasons":
            return ["the runner was referred, so no plan was made:", *_referral_chain(plan)]
        if not self.present:  # it came: how
            return self._how(plan)
        if self.kind == "exercises":  # it did not come: why not
            return ["why not: " + reason for reason in why_not(dict(record), self.ident, planner).reasons]
        if self.kind in ("categories", "targets"):
            return [f"no chosen exercise has {self.ident}; the plan's notes: "
                    f"{'; '.join(plan['notes']) or 'none'}"]
        return self._withheld(record)

    def _how(self, plan: Record) -> list[str]:
        if self.kind in ("reasons", "symptoms", "causes", "exercises"):
            return how(plan, self.ident)
        if self.kind == "advice":
            advice = next(a for a in plan["advice"] if a["id"] == self.ident)
            return [f"advice {self.ident}", *chain(advice["because"], plan)]
        field = "category" if self.kind == "categories" else "targets"
        return [line for item in plan["items"]
                if self.ident == item[field] or self.ident in item[field]
                for line in how(plan, item["exercise"])]

    def _withheld(self, record: Record) -> list[str]:
        fact = {"symptoms": "symptom", "causes": "cause", "reasons": "refer",
                "advice": "advice"}[self.kind]
        for event in record["events"]:
            if event["event"] == "withhold" and event["fact"]["id"] == self.ident:
                return [f"{fact} {self.ident} was concluded at certainty {event['fact']['cf']}, "
                        f"below the threshold {event['threshold']}"]
        return [f"no rule concluding {fact} {self.ident} fired for these answers"]


@dataclass(frozen=True)
class Certainty(Expectation):
    ident: str
    bound: str  # at_least or at_most
    value: float

    def _of(self, plan: Record) -> float | None:
        return next((c["confidence"] for kind in ("symptoms", "causes") for c in plan[kind]
                     if c["id"] == self.ident), None)

    def expected(self) -> str:
        return f"certainty of {self.ident} {self.bound.replace('_', ' ')} {self.value:g}"

    def got(self, plan: Record) -> str:
        found = self._of(plan)
        return f"{self.ident} {'not concluded' if found is None else f'at {found:g}'}"

    def holds(self, plan: Record) -> bool:
        found = self._of(plan)
        if found is None:
            return self.bound == "at_most"
        return found >= self.value if self.bound == "at_least" else found <= self.value

    def explain(self, record: Record, planner: Planner) -> list[str]:
        plan = record["plan"]
        if self._of(plan) is None:
            kind = "symptoms" if self.ident in planner.kb.symptoms else "causes"
            return Listed(kind, self.ident, True).explain(record, planner)
        return how(plan, self.ident)


@dataclass(frozen=True)
class WithinBudget(Expectation):
    def expected(self) -> str:
        return "the plan's minutes within the runner's"

    def got(self, plan: Record) -> str:
        return f"{plan['total_minutes']} of {plan['budget_minutes']} minutes"

    def holds(self, plan: Record) -> bool:
        return bool(plan["total_minutes"] <= plan["budget_minutes"])

    def explain(self, record: Record, planner: Planner) -> list[str]:
        return [f"{item['exercise']}: {item['minutes']} min" for item in record["plan"]["items"]]


# ------------------------------------------------------------------------------ check-ins

@dataclass(frozen=True)
class CheckinExpectation:
    """One thing a check-in's result must show: its decision, or which items moved how."""

    what: str  # "decision", or a move: "up", "down", "kept"
    value: Any  # the decision, or the exercises that must move so

    def expected(self) -> str:
        if self.what == "decision":
            return f"decision {self.value}"
        return f"{self.what}: {', '.join(self.value) or 'none'}"

    def _moved(self, result: Record) -> list[str]:
        step = {"up": 1, "down": -1, "kept": 0}[self.what]
        return [m["exercise"] for m in result["items"] if m["to"] - m["from"] == step]

    def got(self, result: Record) -> str:
        if self.what == "decision":
            return f"decision {result['decision']}"
        return f"{self.what}: {', '.join(self._moved(result)) or 'none'}"

    def holds(self, result: Record) -> bool:
        if self.what == "decision":
            return bool(result["decision"] == self.value)
        moved = self._moved(result)
        return set(self.value) <= set(moved) if self.value else not moved

    def explain(self, result: Record) -> list[str]:
        return [f"<- {s['rule']} ({s['decision']}{' for ' + s['exercise'] if s['exercise'] else ''})"
                f": {s['rationale']}" for s in result["because"]] or ["no progress rule fired"]


@dataclass(frozen=True)
class CheckinStep:
    """A check-in a scenario reports; ``sessions`` None means every session planned."""

    date: str
    pain_during: int
    next_morning: str
    sessions: int | None
    red_flags: tuple[str, ...]
    expectations: tuple[CheckinExpectation, ...]


@dataclass(frozen=True)
class ProgrammeRun:
    start: str
    weeks: int
    run_days: tuple[str, ...]
    checkins: tuple[CheckinStep, ...]


@dataclass(frozen=True)
class Scenario:
    id: str
    file: str
    says: str
    answers: Mapping[str, Any]
    minutes: int | None
    expectations: tuple[Expectation, ...]
    programme: ProgrammeRun | None = None


@dataclass(frozen=True)
class Failure:
    expected: str
    got: str
    explanation: tuple[str, ...]
    at: str = ""  # the check-in it is of, or "" for the plan


@dataclass(frozen=True)
class Result:
    scenario: Scenario
    failures: tuple[Failure, ...]

    @property
    def passed(self) -> bool:
        return not self.failures

    def report(self) -> list[str]:
        """A failure in words: the scenario, each expectation with what came, and why."""
        s = self.scenario
        lines = [f"FAIL {s.id} ({s.file})", f"  {s.says}" if s.says else "",
                 f"  answers: {', '.join(f'{k}={value_text(v)}' for k, v in s.answers.items()) or 'none'}"
                 + (f"; minutes {s.minutes}" if s.minutes is not None else "")]
        for failure in self.failures:
            lines += [f"  at check-in {failure.at}" if failure.at else "",
                      f"  expected: {failure.expected}", f"  got:      {failure.got}",
                      "  because:", *(f"    {line}" for line in failure.explanation)]
        return [line for line in lines if line]


# ----------------------------------------------------------------------------------- files

def scenario_files(paths: Iterable[Path]) -> list[Path]:
    """The scenario files under ``paths`` (a folder gives its ``*.yaml`` files, in name order)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(path.glob("*.yaml"))
        elif path.is_file():
            found.append(path)
        else:
            raise ScenarioError(str(path), None, "no such scenario file or folder")
    return found


def load_scenarios(path: Path, planner: Planner) -> list[Scenario]:
    """Every scenario in ``path``, checked against the planner's questionnaire and ids: an
    unknown answer, id or key is an error naming the file and the scenario."""
    data = load_yaml(path, ScenarioError)
    Entry(data, str(path), "file", ScenarioError).only({"scenarios"})
    found = []
    for entry in entries(data, "scenarios", str(path), ScenarioError):
        entry.only({"id", "says", "answers", "minutes", "expect", "programme", "checkins"})
        answers = entry.get("answers", dict, {}, "a mapping of answer ids to values")
        minutes = entry.get("minutes", int, None, "a whole number")
        try:
            normalise({**answers, **({"minutes": minutes} if minutes is not None else {})},
                      planner.kb)
        except AnswersError as exc:
            entry.fail(f"answers: {exc}")
        expect = Entry(entry.get("expect", dict, {}, "a mapping of expectations"),
                       str(path), f"{entry.label}: expect", ScenarioError)
        expectations = tuple(_expectations(expect, planner))
        programme = _programme(entry, planner)
        if not expectations and not (programme and any(c.expectations for c in programme.checkins)):
            entry.fail("'expect' (or a check-in's) must hold at least one expectation")
        found.append(Scenario(entry.text("id"), str(path), entry.get("says", str, ""), answers,
                              minutes, expectations, programme))
    return found


def _programme(entry: Entry, planner: Planner) -> ProgrammeRun | None:
    if not entry.has("programme"):
        if entry.has("checkins"):
            entry.fail("'checkins' need a 'programme' to check in to")
        return None
    head = Entry(entry.get("programme", dict, what="{start, weeks, run_days}"), entry.file,
                 f"{entry.label}: programme", ScenarioError)
    head.only({"start", "weeks", "run_days"})
    start = head.get("start", (str, _date), what="a date, YYYY-MM-DD")
    steps = []
    for index, raw in enumerate(entry.get("checkins", list, [], "a list of check-ins"), start=1):
        item = Entry(raw, entry.file, f"{entry.label}: checkins[{index}]", ScenarioError)
        item.only({"date", "pain_during", "next_morning", "sessions", "red_flags", "expect"})
        sessions = item.get("sessions", (int, str), what="a whole number or 'all'")
        if isinstance(sessions, str) and sessions != "all":
            item.fail(f"sessions: a whole number or 'all', got {excerpt(sessions)}")
        expect = Entry(item.get("expect", dict, {}, "a mapping of expectations"), entry.file,
                       f"{item.label}: expect", ScenarioError)
        expect.only({"decision", "up", "down", "kept"})
        checks = []
        if expect.has("decision"):
            checks.append(CheckinExpectation("decision", expect.choice(
                "decision", ("refer", "regress", "hold", "progress"))))
        for move in ("up", "down", "kept"):
            if expect.has(move):
                ids = expect.strings(move)
                unknown = [i for i in ids if i not in planner.kb.exercises]
                if unknown:
                    expect.fail(f"{move}: unknown exercise {excerpt(unknown[0])}")
                checks.append(CheckinExpectation(move, tuple(ids)))
        steps.append(CheckinStep(str(item.get("date", (str, _date), what="a date, YYYY-MM-DD")),
                                 int(item.number("pain_during")), item.text("next_morning"),
                                 None if sessions == "all" else int(sessions),
                                 tuple(item.strings("red_flags", [])), tuple(checks)))
    return ProgrammeRun(str(start), int(head.get("weeks", int, 6, "a whole number")),
                        tuple(head.strings("run_days", [])), tuple(steps))


def _expectations(expect: Entry, planner: Planner) -> Iterator[Expectation]:
    expect.only(EXPECT_KEYS)
    known = _known(planner)
    if expect.has("status"):
        yield Status(expect.choice("status", ("plan", "refer")))
    if expect.has("urgency"):
        yield Urgency(expect.choice("urgency", [u.id for u in planner.rulebase.urgencies]))
    for kind in LISTED:
        if not expect.has(kind):
            continue
        value = expect.data[kind]
        lists = {"present": value} if isinstance(value, list) else value
        if not isinstance(lists, Mapping) or not set(lists) <= {"present", "absent"}:
            expect.fail(f"{kind}: write a list of ids, or {{present: [...], absent: [...]}}")
        for word, ids in lists.items():
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                expect.fail(f"{kind}.{word} must be a list of ids, got {excerpt(ids)}")
            for ident in ids:
                if ident not in known[kind]:
                    expect.fail(f"{kind}: unknown id {excerpt(ident)}")
                yield Listed(kind, ident, word == "present")
    if expect.has("certainty"):
        bounds = expect.get("certainty", dict, what="a mapping of ids to {at_least|at_most: n}")
        for ident, bound in bounds.items():
            if ident not in planner.kb.symptoms and ident not in planner.kb.causes:
                expect.fail(f"certainty: {excerpt(ident)} is no symptom or cause id")
            if not isinstance(bound, Mapping) or not bound or not set(bound) <= {"at_least", "at_most"}:
                expect.fail(f"certainty: {ident}: write {{at_least: n}} and/or {{at_most: n}}")
            for word, value in bound.items():
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                    expect.fail(f"certainty: {ident}: {word} takes a number from 0 to 1")
                yield Certainty(ident, word, float(value))
    if expect.has("within_budget") and expect.get("within_budget", bool, what="true or false"):
        yield WithinBudget()


def _known(planner: Planner) -> dict[str, Any]:
    kb = planner.kb
    reasons = {r.target for r in planner.rulebase.layer("triage") if isinstance(r.target, str)}
    return {"reasons": reasons, "symptoms": kb.symptoms, "causes": kb.causes,
            "exercises": kb.exercises, "categories": kb.vocabulary.categories,
            "targets": kb.vocabulary.muscles, "advice": kb.advice}


# ------------------------------------------------------------------------------------- runs

def run(scenario: Scenario, planner: Planner) -> Result:
    """Plan the scenario's answers and check each expectation, then its check-ins, if any."""
    record = planner.trace(scenario.answers, scenario.minutes, respondent=scenario.id)
    plan = record["plan"]
    failures = [Failure(e.expected(), e.got(plan), tuple(e.explain(record, planner)))
                for e in scenario.expectations if not e.holds(plan)]
    if scenario.programme is not None:
        failures += _check_ins(scenario, planner)
    return Result(scenario, tuple(failures))


def _check_ins(scenario: Scenario, planner: Planner) -> list[Failure]:
    """Start the scenario's programme and report its check-ins in turn."""
    from ..errors import ProgrammeError
    from ..programme.programme import Checkin, Programme

    run_ = scenario.programme
    assert run_ is not None
    programme = Programme(*planner.folders)
    answers = {**scenario.answers, **({"minutes": scenario.minutes} if scenario.minutes else {})}
    try:
        _, journal = programme.start(answers, run_.start, run_.weeks, run_.run_days)
    except ProgrammeError as exc:
        return [Failure("a programme", f"none: {exc}", ())]
    if journal is None:
        return [Failure("a programme", "none: the runner was referred", ())]
    failures: list[Failure] = []
    for step in run_.checkins:
        history = journal["checkins"]
        sessions = step.sessions if step.sessions is not None else len(programme.planned_dates(
            journal, history[-1]["date"] if history else None, step.date))
        try:
            journal, result, _ = programme.checkin(journal, Checkin(
                step.date, step.pain_during, step.next_morning, sessions, step.red_flags))
        except ProgrammeError as exc:
            return [*failures, Failure("the check-in to be taken", f"refused: {exc}", (), step.date)]
        failures += [Failure(e.expected(), e.got(result), tuple(e.explain(result)), step.date)
                     for e in step.expectations if not e.holds(result)]
    return failures


def run_all(paths: Iterable[Path], planner: Planner,
            each: Callable[[Result], None] | None = None) -> list[Result]:
    """Every scenario of every file under ``paths``; ``each`` is told each result as it comes."""
    results = []
    for path in scenario_files(paths):
        for scenario in load_scenarios(path, planner):
            result = run(scenario, planner)
            if each is not None:
                each(result)
            results.append(result)
    return results


def junit(results: list[Result]) -> str:
    """The results as JUnit XML, one test suite per scenario file, for CI systems."""
    from xml.sax.saxutils import quoteattr

    files = _unique(r.scenario.file for r in results)
    failed = sum(not r.passed for r in results)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<testsuites name="hipcoach kb test" tests="{len(results)}" failures="{failed}">']
    for file in files:
        mine = [r for r in results if r.scenario.file == file]
        lines.append(f'  <testsuite name={quoteattr(Path(file).name)} tests="{len(mine)}" '
                     f'failures="{sum(not r.passed for r in mine)}">')
        for result in mine:
            name = quoteattr(result.scenario.id)
            where = quoteattr(Path(file).stem)
            if result.passed:
                lines.append(f"    <testcase classname={where} name={name}/>")
                continue
            summary = "; ".join(f"expected {f.expected}, got {f.got}" for f in result.failures)
            body = "\n".join(result.report())
            lines += [f"    <testcase classname={where} name={name}>",
                      f"      <failure message={quoteattr(summary)}>{_text(body)}</failure>",
                      "    </testcase>"]
        lines.append("  </testsuite>")
    lines.append("</testsuites>")
    return "\n".join(lines) + "\n"


def _text(value: str) -> str:
    from xml.sax.saxutils import escape

    return escape(value)
