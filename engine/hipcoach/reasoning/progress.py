"""The progress layer: a check-in in, the programme's decision (and any item's own) out.

The latest check-ins, and the referrals the triage layer concluded from what the latest one
reported (its red flags and pain, run through ``rules/triage.yaml`` by the planner), are asserted
as facts and the progress rules fire in
durable_rules, through the same adapter as the plan's layers. The strongest decision that fired
is the programme's (refer, then regress, hold, progress: the order of ``decisions`` in
``rules/progress.yaml``). That decision and each item's place on its ladder are then asserted,
so rules can decide differently for one item: a move up the ladder that its top, the runner's
equipment or minutes do not allow. Nothing here knows a pain figure or an exercise; all of
that is in the rule and knowledge files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import EngineError
from ..kb.rulefile import ProgressRules
from .durable import adapter
from .durable.conditions import compile_ruleset
from .facts import checkin_facts, decision_fact, kind_of, step_facts, triage_facts

#: How many check-ins the rules see: the latest and the two before it.
HISTORY = 3


@dataclass(frozen=True)
class Firing:
    """One progress rule that fired: what it decided, on which facts (by pattern alias)."""

    rule: str
    decision: str
    matched: dict[str, dict[str, Any]]
    seq: int

    @property
    def exercise(self) -> str | None:
        """The item the firing decided for, or None for a decision on the whole programme."""
        return next((f["exercise"] for f in self.matched.values() if kind_of(f) == "step"), None)


@dataclass
class Verdict:
    """What the rules decided at one check-in, with every firing behind it in order."""

    decision: str
    because: list[Firing]  # the firings that decided it for the whole programme
    items: dict[str, tuple[str, list[Firing]]] = field(default_factory=dict)  # where it differs
    events: list[dict[str, Any]] = field(default_factory=list)
    unconsumed: list[dict[str, Any]] = field(default_factory=list)  # facts no rule matches

    def decision_for(self, exercise: str) -> str:
        return self.items[exercise][0] if exercise in self.items else self.decision


class ProgressEngine:
    """The progress rules, compiled and registered with durable_rules once per process."""

    def __init__(self, rules: ProgressRules) -> None:
        self.rules = rules
        self.by_id = rules.by_id()
        self.order = [d.id for d in rules.decisions]  # strongest first
        self.ruleset = adapter.register(compile_ruleset(rules))

    def decide(self, readings: Sequence[tuple[int, str, int, int]],
               referrals: Sequence[tuple[str, str]],
               steps: Sequence[tuple[str, int, str, str]]) -> Verdict:
        """Decide on the latest of ``readings`` (``(pain_during, next_morning, thirds_done,
        days)``,
        oldest first, every one so far: the last :data:`HISTORY` are asserted, each with its rise
        since the one before), the triage referrals ``(reason,
        urgency)`` concluded from it, and the items' ``(exercise, step, next, prev)``."""
        firings: list[Firing] = []
        events: list[dict[str, Any]] = []

        def on_fire(rule_id: str, matched: dict[str, dict[str, Any]]) -> None:
            decision = self.by_id[rule_id].target
            firing = Firing(rule_id, decision, matched, len(events) + 1)
            firings.append(firing)
            events.append({"seq": firing.seq, "event": "fire", "rule": rule_id, "layer": "progress",
                           "matched": matched, "concludes": [{"kind": "decide", "id": decision}]})

        with adapter.Session(self.ruleset, on_fire) as session:
            session.assert_facts(checkin_facts(readings, HISTORY) + triage_facts(referrals))
            overall = list(firings)
            if not overall:
                raise EngineError("no progress rule fired for this check-in: rules/progress.yaml "
                                  "must decide every case")
            decision = min((f.decision for f in overall), key=self.order.index)
            because = [f for f in overall if f.decision == decision]
            events.append({"seq": len(events) + 1, "event": "assert", "layer": "progress",
                           "fact": {"kind": "decision", "id": decision, "cf": 1.0},
                           "from": [f.seq for f in because]})
            session.assert_facts([decision_fact(decision)] + step_facts(steps))
            unconsumed = list(session.unconsumed)
        verdict = Verdict(decision, because, events=events, unconsumed=unconsumed)
        by_item: dict[str, list[Firing]] = {}
        for firing in firings[len(overall):]:
            exercise = firing.exercise
            assert exercise is not None  # the rule file's checks: item rules match a step
            by_item.setdefault(exercise, []).append(firing)
        for exercise, found in by_item.items():
            strongest = min((f.decision for f in found), key=self.order.index)
            verdict.items[exercise] = (strongest, [f for f in found if f.decision == strongest])
        return verdict
