"""Choosing the plan's exercises from the eligible candidates.

The plan rules say what a balanced plan needs (``require``, with a priority); the runner says how
many minutes a day the hip work may take. This step chooses, in order:

1. for each requirement, most important first, the best eligible exercise that meets it (of its
   categories and, where it names muscle groups, working one of them) and still fits the time
   left, while leaving room for the shortest option of the requirements after it (if nothing
   fits with all that room kept, the less important ones give way);
2. then, while time and ``max_items`` allow, more exercises, preferring one that serves a cause no
   chosen exercise serves yet (so no muscle group gets a second exercise while a cause waits).

"Best" is: adds the most certainty for causes not yet served, is of a category the plan has
fewest of, has higher certainty overall, adds muscle groups not yet worked, is shorter, then id
(so ties break the same way every time). Every eligible
exercise left out, and every requirement that could not be met, is reported with a ``kind`` and a
reason written for the runner (no rule ids: those stay in the ``rule`` fields). Time is counted
per day: an exercise done several times a day takes its minutes each time.
"""

from __future__ import annotations

from itertools import product
from typing import Any, NamedTuple

from ..formats import DropKind, UnmetKind
from ..kb.knowledge import Exercise, KnowledgeBase
from ..kb.rulefile import Requirement, Rule
from ..reasoning.certainty import combine_all
from ..reasoning.inference import Conclusion, Derivation, Support

Candidate = Conclusion


class Pick(NamedTuple):
    exercise: str
    rule: str | None  # the requirement it meets, or None when it fills spare time
    reason: str


class Drop(NamedTuple):
    exercise: str
    kind: DropKind
    reason: str
    rule: str | None = None


class Unmet(NamedTuple):
    """A requirement the plan could not meet: ``impossible`` (no exercise can meet it with these
    answers and this equipment) or ``no_time``."""

    rule: str
    kind: UnmetKind
    reason: str


class Selection(NamedTuple):
    picks: tuple[Pick, ...]
    dropped: tuple[Drop, ...]
    unmet: tuple[Unmet, ...]
    capped: bool = False  # stopped at max_items with time and exercises left

    @property
    def exercise_ids(self) -> tuple[str, ...]:
        return tuple(pick.exercise for pick in self.picks)

    def events(self) -> list[dict[str, Any]]:
        """The decisions as trace events: each pick, each unmet requirement, each drop."""
        return ([{"event": "select", "layer": "plan", "exercise": p.exercise, "rule": p.rule,
                  "reason": p.reason} for p in self.picks]
                + [{"event": "unmet", "layer": "plan", "rule": u.rule, "kind": u.kind,
                    "reason": u.reason} for u in self.unmet]
                + [{"event": "drop", "layer": "plan", "exercise": d.exercise, "rule": d.rule,
                    "kind": d.kind, "reason": d.reason} for d in self.dropped])


def causes_served(candidate: Candidate) -> set[str]:
    return {p.id for s in candidate.support for p in s.premises if p.kind == "cause"}


class _Option(NamedTuple):
    """What the chooser reads of one eligible candidate, worked out once per plan: ranking and
    re-checking options is the plan step's inner loop."""

    candidate: Candidate
    exercise: Exercise
    minutes: float
    family: str
    serves: frozenset[str]
    #: (certainty, causes) of each firing that proposed it
    supports: tuple[tuple[float, frozenset[str]], ...]
    targets: frozenset[str]
    rounded_cf: float  # the candidate's certainty as ranking compares it


class _Chooser:
    def __init__(self, kb: KnowledgeBase, derivation: Derivation, budget: float, max_items: int) -> None:
        self.kb = kb
        self.budget = budget
        self.left = budget
        self.max_items = max_items
        self.chosen: list[Pick] = []
        self.families: dict[str, Pick] = {}  # move family -> the pick that took it
        self.served: set[str] = set()
        self.muscles: set[str] = set()
        self.categories: list[str] = []  # one entry per chosen exercise
        self.capped = False
        cands = derivation.conclusions["candidate"]
        self.eligible = [c for c in cands.values() if c.id not in derivation.exclusions]
        self.options = {c.id: self._option(c) for c in self.eligible}
        self.meeting: dict[Requirement, list[_Option]] = {}  # requirement -> options meeting it

    def _option(self, candidate: Candidate) -> _Option:
        ex = self.kb.exercises[candidate.id]
        supports = tuple((s.cf, frozenset(p.id for p in s.premises if p.kind == "cause"))
                         for s in candidate.support)
        return _Option(candidate, ex, ex.day_minutes, self.family(ex.id),
                       frozenset().union(*(causes for _, causes in supports)), supports,
                       frozenset(ex.targets), round(candidate.cf, 6))

    def ex(self, candidate: Candidate) -> Exercise:
        return self.kb.exercises[candidate.id]

    def family(self, exercise_id: str) -> str:
        return self.kb.exercises[exercise_id].variant_of or exercise_id

    def taken(self, candidate: Candidate) -> Pick | None:
        """The chosen exercise that rules this one out: itself, or a variant of the same move."""
        return self.families.get(self.family(candidate.id))

    def gain(self, option: _Option) -> float:
        """Certainty the option adds for causes no chosen exercise serves yet."""
        served = self.served
        return combine_all(cf for cf, causes in option.supports if not causes <= served)

    def rank(self, option: _Option) -> tuple[float, int, float, int, float, str]:
        ex = option.exercise
        return (-round(self.gain(option), 6), self.categories.count(ex.category), -option.rounded_cf,
                -len(option.targets - self.muscles), option.minutes, ex.id)

    def take(self, option: _Option, rule: str | None, reason: str) -> None:
        ex = option.exercise
        pick = Pick(ex.id, rule, reason)
        self.chosen.append(pick)
        self.families[option.family] = pick
        self.left -= option.minutes
        self.served |= option.serves
        self.muscles |= option.targets
        self.categories.append(ex.category)

    def meets(self, exercise: Exercise, requirement: Requirement | None) -> bool:
        return requirement is None or requirement.met_by(exercise.category, exercise.targets)

    def open_options(self, requirement: Requirement | None = None) -> list[_Option]:
        if requirement is None:
            return [o for o in self.options.values() if o.family not in self.families]
        meeting = self.meeting.get(requirement)
        if meeting is None:
            meeting = self.meeting[requirement] = [o for o in self.options.values()
                                                   if self.meets(o.exercise, requirement)]
        return [o for o in meeting if o.family not in self.families]

    def has(self, requirement: Requirement) -> bool:
        return any(self.meets(self.kb.exercises[p.exercise], requirement) for p in self.chosen)

    def cheapest(self, requirement: Requirement) -> float:
        """Minutes the shortest open option meeting ``requirement`` needs (0 when there is none)."""
        return min((o.minutes for o in self.open_options(requirement)), default=0)

    def wanted(self, requirement: Requirement) -> str:
        """"strength exercise working the hip abductors": the requirement in a runner's words."""
        kinds = " or ".join(self.kb.vocabulary.label(c) for c in requirement.categories)
        muscles = " or ".join(m.replace("_", " ") for m in requirement.targets)
        return f"{kinds} exercise" + (f" working the {muscles}" if muscles else "")

    def meet(self, rule: Rule, later: list[Rule], unmet: list[Unmet], drops: dict[str, Drop]) -> None:
        """Meet one requirement, keeping room for the shortest option of later requirements.

        When keeping room for all of them leaves nothing that fits, the sets of later
        requirements to keep room for are tried in order of importance (all; all but the least
        important; ...; none), so a less important one gives way before a more important one.
        """
        requirement: Requirement = rule.target
        wanted = self.wanted(requirement)
        if self.has(requirement):
            return
        options = self.open_options(requirement)
        if not options:
            unmet.append(Unmet(rule.id, "impossible", f"no {wanted} is possible with these answers "
                               f"and this equipment. {rule.rationale}"))
            return
        needs = [self.cheapest(r.target) for r in later if not self.has(r.target)]
        fitting: list[_Option] = []
        for keep in product((True, False), repeat=len(needs)):
            room = self.left - sum(need for need, kept in zip(needs, keep) if kept)
            fitting = [o for o in options if o.minutes <= room]
            if fitting:
                break
        if not fitting:
            best = min(options, key=self.rank)
            shortest = min(o.minutes for o in options)
            unmet.append(Unmet(rule.id, "no_time", f"no time left for a {wanted}: the shortest needs "
                               f"{_fmt(shortest)} min, and {_fmt(self.left)} of your "
                               f"{_fmt(self.budget)} min remained. {rule.rationale}"))
            drops.setdefault(best.exercise.id, Drop(best.exercise.id, "budget",
                                                    self.no_time(best.candidate), rule.id))
            return
        best = min(fitting, key=self.rank)
        self.take(best, rule.id, f"the plan needs a {wanted}: {rule.rationale}")

    def fill(self) -> None:
        while True:
            fitting = [o for o in self.open_options() if o.minutes <= self.left]
            if not fitting:
                return
            if len(self.chosen) >= self.max_items:
                self.capped = True
                return
            best = min(fitting, key=self.rank)
            new = sorted(self.kb.causes[c].name.lower() for c in best.serves - self.served)
            reason = (f"works on {', '.join(new)}, which no chosen exercise works on yet" if new
                      else "adds work for a cause already served, in time that was left over")
            self.take(best, None, reason)

    def drop(self, candidate: Candidate) -> Drop:
        other = self.taken(candidate)
        if other is not None:
            name = self.kb.exercises[other.exercise].name
            return Drop(candidate.id, "variant",
                        f"a variant of the same move is already in the plan ({name})")
        if self.ex(candidate).day_minutes > self.left:
            return Drop(candidate.id, "budget", self.no_time(candidate))
        return Drop(candidate.id, "plan_full",
                    f"the plan already holds the most exercises it gives at once ({self.max_items})")

    def no_time(self, candidate: Candidate) -> str:
        return (f"no time left: it needs {_fmt(self.ex(candidate).day_minutes)} min, and "
                f"{_fmt(self.left)} of your {_fmt(self.budget)} min remained")


def excluded(exercise: str, support: Support, derivation: Derivation, rules: dict[str, Rule],
              kb: KnowledgeBase) -> Drop:
    """An exclusion as the runner reads it: the missing equipment, the movement demand the
    runner's answers rule out and why, or the caution's rationale (the plan's and the
    programme's one wording)."""
    needs = [p.value for p in support.premises if p.kind == "requires"]
    if needs:
        names = " and ".join(kb.vocabulary.equipment_name(item) for item in needs)
        return Drop(exercise, "equipment", f"needs {names}, which you don't have", support.rule)
    demands = [p.value for p in support.premises if p.kind == "demands"]
    if demands:
        return Drop(exercise, "caution", ruled_out_reason(demands[0], derivation, rules, kb),
                    support.rule)
    return Drop(exercise, "caution", rules[support.rule].rationale, support.rule)


def ruled_out_reason(demand: str, derivation: Derivation, rules: dict[str, Rule],
                     kb: KnowledgeBase) -> str:
    """Why a version making ``demand``, which the runner's answers rule out, is left out, in
    the words a runner reads (the plan's and the programme's one wording)."""
    why = rules[derivation.ruled_out[demand][0].rule].rationale
    return f"it asks for {kb.vocabulary.demand_words(demand)}, which is left out for you: {why}"


def choose(derivation: Derivation, kb: KnowledgeBase, requirements: list[Rule], budget: float,
           max_items: int, rules: dict[str, Rule]) -> Selection:
    """Pick the plan's exercises; see the module docstring for the order and the tie-breaks."""
    chooser = _Chooser(kb, derivation, budget, max_items)
    unmet: list[Unmet] = []
    drops: dict[str, Drop] = {}
    ordered = sorted(requirements, key=lambda r: (r.priority, r.order))
    for index, rule in enumerate(ordered):
        chooser.meet(rule, ordered[index + 1:], unmet, drops)
    chooser.fill()
    chosen_ids = {p.exercise for p in chooser.chosen}
    for exercise, supports in derivation.exclusions.items():
        if exercise in derivation.conclusions["candidate"]:
            drops[exercise] = excluded(exercise, supports[0], derivation, rules, kb)
    for candidate in chooser.eligible:
        if candidate.id not in chosen_ids and candidate.id not in drops:
            drops[candidate.id] = chooser.drop(candidate)
    dropped = tuple(drops[c] for c in derivation.conclusions["candidate"] if c in drops)
    return Selection(tuple(chooser.chosen), dropped, tuple(unmet), chooser.capped)


def _fmt(minutes: float) -> str:
    return f"{minutes:g}"
