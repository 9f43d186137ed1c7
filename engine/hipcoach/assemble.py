"""Choosing the plan's exercises from the eligible candidates.

The plan rules say what a balanced plan needs (``require``, with a priority); the runner says how
many minutes a session may take. This step chooses, in order:

1. for each requirement, most important first, the best eligible exercise of those categories
   that still fits the time left;
2. then, while time and ``max_items`` allow, more exercises, preferring one that serves a cause no
   chosen exercise serves yet (so no muscle group gets a second exercise while a cause waits).

"Best" is: adds the most certainty for causes not yet served, adds a category the plan lacks,
higher certainty overall, adds muscle groups not yet worked, shorter, then id (so ties break the
same way every time). Every eligible
exercise left out, and every requirement that could not be met, is reported with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def causes_served(candidate: Candidate) -> set[str]:
    return {p.id for s in candidate.support for p in s.premises if p.kind == "cause"}


class _Chooser:
    def __init__(self, kb: KnowledgeBase, derivation: Derivation, budget: float, max_items: int) -> None:
        self.kb = kb
        self.budget = budget
        self.left = budget
        self.max_items = max_items
        self.chosen: list[Pick] = []
        self.served: set[str] = set()
        self.muscles: set[str] = set()
        self.categories: set[str] = set()
        cands = derivation.conclusions["candidate"]
        self.eligible = [c for c in cands.values() if c.id not in derivation.exclusions]
        self.causes = {cause for c in self.eligible for cause in causes_served(c)}

    def ex(self, candidate: Candidate) -> Exercise:
        return self.kb.exercises[candidate.id]

    def family(self, exercise_id: str) -> str:
        return self.kb.exercises[exercise_id].variant_of or exercise_id

    def taken(self, candidate: Candidate) -> Pick | None:
        """The chosen exercise that rules this one out: itself, or a variant of the same move."""
        return next((p for p in self.chosen if self.family(p.exercise) == self.family(candidate.id)),
                    None)

    def gain(self, candidate: Candidate) -> float:
        """Certainty the candidate adds for causes not yet served (cause-free support counts)."""
        return combine_all(s.cf for s in candidate.support
                           if not {p.id for p in s.premises if p.kind == "cause"} <= self.served
                           or not any(p.kind == "cause" for p in s.premises))

    def rank(self, candidate: Candidate) -> tuple:
        ex = self.ex(candidate)
        return (-round(self.gain(candidate), 6), ex.category in self.categories,
                -round(candidate.cf, 6), -len(set(ex.targets) - self.muscles), ex.minutes, ex.id)

    def take(self, candidate: Candidate, rule: str | None, reason: str) -> None:
        ex = self.ex(candidate)
        self.chosen.append(Pick(ex.id, rule, reason))
        self.left -= ex.minutes
        self.served |= causes_served(candidate)
        self.muscles |= set(ex.targets)
        self.categories.add(ex.category)

    def open_options(self, categories: tuple[str, ...] | None = None) -> list[Candidate]:
        return [c for c in self.eligible if self.taken(c) is None
                and (categories is None or self.ex(c).category in categories)]

    def meet(self, rule: Rule, unmet: list[str], drops: dict[str, Drop]) -> None:
        categories = rule.target
        wanted = " or ".join(categories)
        if any(self.kb.exercises[p.exercise].category in categories for p in self.chosen):
            return
        options = self.open_options(categories)
        if not options:
            unmet.append(f"no {wanted} exercise is possible with these answers and this equipment "
                         f"(needed by {rule.id})")
            return
        fitting = [c for c in options if self.ex(c).minutes <= self.left]
        if not fitting:
            best = min(options, key=self.rank)
            unmet.append(f"no time left for a {wanted} exercise: the shortest needs "
                         f"{_fmt(min(self.ex(c).minutes for c in options))} min, "
                         f"{_fmt(self.left)} of {_fmt(self.budget)} min remain (needed by {rule.id})")
            drops.setdefault(best.id, Drop(best.id, f"dropped for time: needs {_fmt(self.ex(best).minutes)} "
                                                   f"min, only {_fmt(self.left)} min remained", rule.id))
            return
        best = min(fitting, key=self.rank)
        self.take(best, rule.id, f"the plan needs a {wanted} exercise ({rule.rationale})")

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
        minutes = self.ex(candidate).minutes
        if minutes > self.left:
            return (f"no time left: needs {_fmt(minutes)} min, {_fmt(self.left)} of "
                    f"{_fmt(self.budget)} min remained")
        return f"the plan already holds the most exercises it takes ({self.max_items})"


def _excluded(support: Support, rules: dict[str, Rule]) -> str:
    needs = [p.value for p in support.premises if p.kind == "requires"]
    detail = f" (needs: {', '.join(needs)})" if needs else ""
    return f"excluded: {rules[support.rule].rationale}{detail}"


def choose(derivation: Derivation, kb: KnowledgeBase, requirements: list[Rule], budget: float,
           max_items: int, rules: dict[str, Rule]) -> Selection:
    """Pick the plan's exercises; see the module docstring for the order and the tie-breaks."""
    chooser = _Chooser(kb, derivation, budget, max_items)
    unmet: list[str] = []
    drops: dict[str, Drop] = {}
    for rule in sorted(requirements, key=lambda r: (r.priority, r.order)):
        chooser.meet(rule, unmet, drops)
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
