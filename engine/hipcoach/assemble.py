"""Choosing the plan's exercises from the eligible candidates.

The plan rules say what a balanced plan needs (``require``, with a priority); the runner says how
many minutes a session may take. This step chooses, in order:

1. for each requirement, most important first, the best eligible exercise of those categories
   that still fits the time left, while leaving room for the shortest option of the requirements
   after it (if nothing fits with all that room kept, the less important ones give way);
2. then, while time and ``max_items`` allow, more exercises, preferring one that serves a cause no
   chosen exercise serves yet (so no muscle group gets a second exercise while a cause waits).

"Best" is: adds the most certainty for causes not yet served, is of a category the plan has
fewest of, has higher certainty overall, adds muscle groups not yet worked, is shorter, then id
(so ties break the same way every time). Every eligible
exercise left out, and every requirement that could not be met, is reported with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from .certainty import combine_all
from .inference import Conclusion, Derivation, Support
from .knowledge import Exercise, KnowledgeBase
from .rulefile import Rule

Candidate = Conclusion


@dataclass(frozen=True)
class Pick:
    exercise: str
    rule: str | None  # the requirement it meets, or None when it fills spare time
    reason: str


@dataclass(frozen=True)
class Drop:
    exercise: str
    reason: str
    rule: str | None = None


@dataclass(frozen=True)
class Selection:
    picks: tuple[Pick, ...]
    dropped: tuple[Drop, ...]
    unmet: tuple[str, ...]

    @property
    def exercise_ids(self) -> tuple[str, ...]:
        return tuple(pick.exercise for pick in self.picks)

    def events(self) -> list[dict[str, object]]:
        """The decisions as trace events: each pick, each unmet requirement, each drop."""
        return ([{"event": "select", "layer": "plan", "exercise": p.exercise, "rule": p.rule,
                  "reason": p.reason} for p in self.picks]
                + [{"event": "unmet", "layer": "plan", "reason": note} for note in self.unmet]
                + [{"event": "drop", "layer": "plan", "exercise": d.exercise, "rule": d.rule,
                    "reason": d.reason} for d in self.dropped])


def causes_served(candidate: Candidate) -> set[str]:
    return {p.id for s in candidate.support for p in s.premises if p.kind == "cause"}


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
        cands = derivation.conclusions["candidate"]
        self.eligible = [c for c in cands.values() if c.id not in derivation.exclusions]
        self.causes = {cause for c in self.eligible for cause in causes_served(c)}

    def ex(self, candidate: Candidate) -> Exercise:
        return self.kb.exercises[candidate.id]

    def family(self, exercise_id: str) -> str:
        return self.kb.exercises[exercise_id].variant_of or exercise_id

    def taken(self, candidate: Candidate) -> Pick | None:
        """The chosen exercise that rules this one out: itself, or a variant of the same move."""
        return self.families.get(self.family(candidate.id))

    def gain(self, candidate: Candidate) -> float:
        """Certainty the candidate adds for causes no chosen exercise serves yet."""
        return combine_all(s.cf for s in candidate.support
                           if {p.id for p in s.premises if p.kind == "cause"} - self.served)

    def rank(self, candidate: Candidate) -> tuple:
        ex = self.ex(candidate)
        return (-round(self.gain(candidate), 6), self.categories.count(ex.category),
                -round(candidate.cf, 6), -len(set(ex.targets) - self.muscles), ex.minutes, ex.id)

    def take(self, candidate: Candidate, rule: str | None, reason: str) -> None:
        ex = self.ex(candidate)
        pick = Pick(ex.id, rule, reason)
        self.chosen.append(pick)
        self.families[self.family(ex.id)] = pick
        self.left -= ex.minutes
        self.served |= causes_served(candidate)
        self.muscles |= set(ex.targets)
        self.categories.append(ex.category)

    def open_options(self, categories: tuple[str, ...] | None = None) -> list[Candidate]:
        return [c for c in self.eligible if self.taken(c) is None
                and (categories is None or self.ex(c).category in categories)]

    def has(self, categories: tuple[str, ...]) -> bool:
        return any(self.kb.exercises[p.exercise].category in categories for p in self.chosen)

    def cheapest(self, categories: tuple[str, ...]) -> float:
        """Minutes the shortest open option of these categories needs (0 when there is none)."""
        return min((self.ex(c).minutes for c in self.open_options(categories)), default=0)

    def meet(self, rule: Rule, later: list[Rule], unmet: list[str], drops: dict[str, Drop]) -> None:
        """Meet one requirement, keeping room for the shortest option of later requirements.

        When keeping room for all of them leaves nothing that fits, the sets of later
        requirements to keep room for are tried in order of importance (all; all but the least
        important; ...; none), so a less important one gives way before a more important one.
        """
        categories = rule.target
        wanted = " or ".join(self.kb.vocabulary.label(c) for c in categories)
        if self.has(categories):
            return
        options = self.open_options(categories)
        if not options:
            unmet.append(f"no {wanted} exercise is possible with these answers and this equipment "
                         f"(required by {rule.id})")
            return
        needs = [self.cheapest(r.target) for r in later if not self.has(r.target)]
        fitting: list[Candidate] = []
        for keep in product((True, False), repeat=len(needs)):
            room = self.left - sum(need for need, kept in zip(needs, keep) if kept)
            fitting = [c for c in options if self.ex(c).minutes <= room]
            if fitting:
                break
        if not fitting:
            best = min(options, key=self.rank)
            unmet.append(f"no time left for a {wanted} exercise: the shortest needs "
                         f"{_fmt(min(self.ex(c).minutes for c in options))} min, "
                         f"{_fmt(self.left)} of {_fmt(self.budget)} min remained (required by {rule.id})")
            drops.setdefault(best.id, Drop(best.id, self.no_time(best), rule.id))
            return
        best = min(fitting, key=self.rank)
        self.take(best, rule.id, f"the plan needs a {wanted} exercise: {rule.rationale}")

    def fill(self) -> None:
        while len(self.chosen) < self.max_items:
            fitting = [c for c in self.open_options() if self.ex(c).minutes <= self.left]
            if not fitting:
                return
            best = min(fitting, key=self.rank)
            new = sorted(causes_served(best) - self.served)
            reason = (f"serves {', '.join(new)}, which no chosen exercise serves yet" if new
                      else "adds work for a cause already served, in time that was left over")
            self.take(best, None, reason)

    def drop_reason(self, candidate: Candidate) -> str:
        other = self.taken(candidate)
        if other is not None:
            return f"a variant of the same move is already in the plan ({other.exercise})"
        if self.ex(candidate).minutes > self.left:
            return self.no_time(candidate)
        return f"plan full: it already holds the most exercises it takes ({self.max_items})"

    def no_time(self, candidate: Candidate) -> str:
        return (f"no time left: needs {_fmt(self.ex(candidate).minutes)} min, {_fmt(self.left)} of "
                f"{_fmt(self.budget)} min remained")


def _excluded(support: Support, rules: dict[str, Rule]) -> str:
    needs = [p.value for p in support.premises if p.kind == "requires"]
    detail = f" (needs: {', '.join(needs)})" if needs else ""
    return f"excluded by {support.rule}: {rules[support.rule].rationale}{detail}"


def choose(derivation: Derivation, kb: KnowledgeBase, requirements: list[Rule], budget: float,
           max_items: int, rules: dict[str, Rule]) -> Selection:
    """Pick the plan's exercises; see the module docstring for the order and the tie-breaks."""
    chooser = _Chooser(kb, derivation, budget, max_items)
    unmet: list[str] = []
    drops: dict[str, Drop] = {}
    ordered = sorted(requirements, key=lambda r: (r.priority, r.order))
    for index, rule in enumerate(ordered):
        chooser.meet(rule, ordered[index + 1:], unmet, drops)
    chooser.fill()
    chosen_ids = {p.exercise for p in chooser.chosen}
    for exercise, supports in derivation.exclusions.items():
        if exercise in derivation.conclusions["candidate"]:
            drops[exercise] = Drop(exercise, _excluded(supports[0], rules), supports[0].rule)
    for candidate in chooser.eligible:
        if candidate.id not in chosen_ids and candidate.id not in drops:
            drops[candidate.id] = Drop(candidate.id, chooser.drop_reason(candidate))
    ordered = tuple(drops[c] for c in derivation.conclusions["candidate"] if c in drops)
    return Selection(tuple(chooser.chosen), ordered, tuple(unmet))


def _fmt(minutes: float) -> str:
    return f"{minutes:g}"
