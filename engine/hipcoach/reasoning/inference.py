"""Forward chaining, layer by layer, in durable_rules.

The answers (and the equipment each exercise needs) go in as facts. Rules fire in durable_rules;
each firing is turned into evidence here. When a layer has quiesced, its evidence is combined
into conclusions (MYCIN certainty), and the conclusions that clear the layer's threshold are
asserted as facts, which fire the next layer's rules: answers → symptoms → causes → candidate
exercises (with the movement demands the answers rule out, and the exclusions) → plan items
(and their schedule) → advice. Nothing here knows a
specific symptom, cause or exercise: all of that is in the rule and knowledge files.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, TypeVar

from ..kb.answers import Answers
from ..kb.knowledge import KnowledgeBase
from ..kb.rulefile import Rule, RuleBase
from .certainty import combine, conclude, rounded
from .durable import adapter
from .durable.conditions import compile_ruleset
from .facts import (
    answer_facts,
    answer_of,
    candidate_facts,
    concept_facts,
    item_facts,
    kind_of,
    knowledge_facts,
    ruled_out_facts,
)

DERIVED = ("symptom", "cause", "candidate")


class Chosen(Protocol):
    """What the plan step hands back: the exercises it put in the plan, in plan order, and its
    decisions as trace events."""

    @property
    def exercise_ids(self) -> tuple[str, ...]: ...

    def events(self) -> list[dict[str, Any]]: ...


Selection = TypeVar("Selection", bound=Chosen)


class Premise(NamedTuple):
    """A fact a firing matched: an answer (id, value) or a derived fact (id, certainty)."""

    kind: str
    id: str
    value: Any

    @property
    def cf(self) -> float:
        return float(self.value) if self.kind in DERIVED else 1.0


class Support(NamedTuple):
    """One firing's contribution to a conclusion; ``seq`` is the firing's place in the trace."""

    rule: str
    cf: float
    premises: tuple[Premise, ...]
    seq: int = 0


class Conclusion(NamedTuple):
    """A combined conclusion: its certainty and every firing that lent it some."""

    kind: str
    id: str
    cf: float
    support: list[Support]


class Derivation:
    """Everything the rules concluded for one runner, with the evidence behind each conclusion."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self.referrals: list[Support] = []
        self.referral_reasons: list[str] = []
        self.conclusions: dict[str, dict[str, Conclusion]] = {kind: {} for kind in DERIVED}
        self.below_threshold: dict[str, dict[str, Conclusion]] = {kind: {} for kind in DERIVED}
        self.exclusions: dict[str, list[Support]] = {}
        #: movement demand -> the firings that ruled it out, in first-firing order
        self.ruled_out: dict[str, list[Support]] = {}
        self.requirements: list[tuple[Rule, Support]] = []
        self.advice: dict[str, list[Support]] = {}  # in first-firing order
        self.slots: dict[str, list[tuple[str, Support]]] = {}
        self.events: list[dict[str, Any]] = []  # only when tracing
        self.unconsumed: list[dict[str, Any]] = []
        #: every rule that fired, traced or not (what a survey's rule coverage counts)
        self.fired: set[str] = set()

    @property
    def refer(self) -> bool:
        return bool(self.referrals)


#: Matches whose premises are remembered at most: as many as the adapter remembers matches.
PREMISES_KEPT = adapter.MEMO_LIMIT


class _Collector:
    """Turns firings into evidence (the listener the adapter calls for every firing), and, when
    tracing, records every firing and every engine step as a JSON-ready event."""

    def __init__(self, rules: dict[str, Rule], derivation: Derivation, trace: bool,
                 premises: dict[int, tuple[dict[str, Any], tuple[Premise, ...], float]]) -> None:
        self.rules = rules
        self.out = derivation
        self.trace = trace
        #: ``id(matched)`` -> (matched, its premises, the firing's certainty): the adapter hands
        #: the same matched facts for the same match, in every evaluation, and keeping them here
        #: keeps their ids from being reused
        self.premises = premises
        self.seq = 0
        self.evidence: dict[str, dict[str, list[Support]]] = {k: defaultdict(list) for k in DERIVED}
        self.running: dict[str, dict[str, float]] = {k: defaultdict(float) for k in DERIVED}

    def record(self, event: dict[str, Any]) -> None:
        if self.trace:
            self.out.events.append({"seq": self.seq, **event})

    def on_fire(self, rule_id: str, matched: dict[str, dict[str, Any]]) -> None:
        rule = self.rules[rule_id]
        self.seq += 1
        self.out.fired.add(rule_id)
        known = self.premises.get(id(matched))
        if known is None:
            premises = tuple(_premise(fact) for fact in matched.values())
            cf = conclude(rule.cf, [p.cf for p in premises if p.kind in DERIVED])
            if len(self.premises) >= PREMISES_KEPT:
                self.premises.clear()
            self.premises[id(matched)] = (matched, premises, cf)
        else:
            _, premises, cf = known
        support = Support(rule.id, cf, premises, self.seq)
        concludes: list[dict[str, Any]] = []
        trace = self.trace  # what each firing concluded is built only for the trace
        if rule.conclusion == "refer":
            self.out.referrals.append(support)
            if rule.target not in self.out.referral_reasons:
                self.out.referral_reasons.append(rule.target)
            if trace:
                concludes.append({"kind": "refer", "id": rule.target})
        elif rule.conclusion in ("symptom", "cause", "propose"):
            kind = "candidate" if rule.conclusion == "propose" else rule.conclusion
            for ident in (rule.target if kind == "candidate" else (rule.target,)):
                self.evidence[kind][ident].append(support)
                before = self.running[kind][ident]
                after = self.running[kind][ident] = combine(before, support.cf)
                if trace:
                    concludes.append({"kind": kind, "id": ident, "cf": rounded(support.cf),
                                      "cf_before": rounded(before), "cf_after": rounded(after)})
        elif rule.conclusion == "exclude":
            if rule.target_is_ref:
                targets = [matched[rule.target.alias][rule.target.field]]
            else:
                targets = list(rule.target)
            for exercise in targets:
                self.out.exclusions.setdefault(exercise, []).append(support)
                if trace:
                    concludes.append({"kind": "exclude", "id": exercise})
        elif rule.conclusion == "rule_out":
            for demand in rule.target:
                self.out.ruled_out.setdefault(demand, []).append(support)
                if trace:
                    concludes.append({"kind": "ruled_out", "id": demand})
        elif rule.conclusion == "require":
            self.out.requirements.append((rule, support))
            if trace:
                requirement = {"kind": "require", "categories": list(rule.target.categories)}
                if rule.target.targets:
                    requirement["targets"] = list(rule.target.targets)
                concludes.append(requirement)
        elif rule.conclusion == "advise":
            self.out.advice.setdefault(rule.target, []).append(support)
            if trace:
                concludes.append({"kind": "advise", "id": rule.target})
        else:  # schedule
            item = next(p for p in premises if p.kind == "item")
            self.out.slots.setdefault(item.id, []).append((rule.target, support))
            if trace:
                concludes.append({"kind": "schedule", "id": item.id, "slot": rule.target})
        if trace:
            self.record({"event": "fire", "rule": rule.id, "layer": rule.layer,
                         "matched": {alias: dict(fact) for alias, fact in matched.items()},
                         "concludes": concludes})

    def settle(self, kind: str, layer: str, threshold: float) -> list[Conclusion]:
        """Combine a layer's evidence; return (in first-evidence order) what clears ``threshold``.
        The combined certainty is the running one :meth:`on_fire` kept, folded in the same order."""
        passed = []
        running = self.running[kind]
        for ident, supports in self.evidence[kind].items():
            if ident in self.out.conclusions[kind]:
                continue
            conclusion = Conclusion(kind, ident, running[ident], list(supports))
            self.seq += 1
            cleared = conclusion.cf >= threshold
            if cleared:
                self.out.conclusions[kind][ident] = conclusion
                passed.append(conclusion)
            else:
                self.out.below_threshold[kind][ident] = conclusion
            if self.trace:
                fact = {"kind": kind, "id": ident, "cf": rounded(conclusion.cf)}
                evidence = [s.seq for s in supports]
                if cleared:
                    self.record({"event": "assert", "layer": layer, "fact": fact, "from": evidence})
                else:
                    self.record({"event": "withhold", "layer": layer, "fact": fact,
                                 "threshold": threshold, "from": evidence})
        return passed

    def ruled_out(self) -> list[str]:
        """The demands ruled out, recorded as facts asserted with the candidates."""
        for demand, supports in self.out.ruled_out.items():
            self.seq += 1
            self.record({"event": "assert", "layer": "candidates",
                         "fact": {"kind": "ruled_out", "id": demand, "cf": 1.0},
                         "from": [s.seq for s in supports]})
        return list(self.out.ruled_out)

    def chosen(self, selection: Chosen) -> None:
        """Record the plan step's decisions between the candidate and schedule firings."""
        for event in selection.events():
            self.seq += 1
            self.record(event)


def _premise(fact: dict[str, Any]) -> Premise:
    kind = kind_of(fact)
    if kind == "answer":
        key, value = answer_of(fact)
        return Premise("answer", key, value)
    if kind in ("symptom", "cause"):
        return Premise(kind, fact["name"], fact["cf"])
    if kind == "candidate":
        return Premise(kind, fact["exercise"], fact["cf"])
    if kind == "requires":
        return Premise(kind, fact["exercise"], fact["item"])
    if kind == "demands":
        return Premise(kind, fact["exercise"], fact["demand"])
    if kind == "ruled_out":
        return Premise(kind, fact["demand"], True)
    return Premise(kind, fact["exercise"], fact["category"])


class Engine:
    """A knowledge base and rule base, compiled and registered with durable_rules once."""

    def __init__(self, kb: KnowledgeBase, rulebase: RuleBase) -> None:
        self.kb = kb
        self.rulebase = rulebase
        self.rules = rulebase.by_id()
        self.ruleset = adapter.register(compile_ruleset(rulebase))
        self.knowledge_facts = knowledge_facts(kb)  # the same for every runner
        self.premises: dict[int, tuple[dict[str, Any], tuple[Premise, ...], float]] = {}

    def derive(self, answers: Answers, choose: Callable[[Derivation], Selection],
               trace: bool = False) -> tuple[Derivation, Selection | None]:
        """Run every layer for ``answers``; ``choose`` picks the plan items from the eligible
        candidates (see :mod:`hipcoach.planning.assemble`) and its result is returned alongside. With
        ``trace``, ``Derivation.events`` records every firing and engine step in order."""
        out = Derivation(answers)
        collector = _Collector(self.rules, out, trace, self.premises)
        thresholds = self.rulebase.thresholds
        chosen = None
        with adapter.Session(self.ruleset, collector.on_fire) as session:
            session.assert_facts(answer_facts(answers) + self.knowledge_facts)
            if not out.refer:
                for kind, layer in (("symptom", "symptoms"), ("cause", "causes")):
                    passed = collector.settle(kind, layer, thresholds[layer])
                    session.assert_facts(concept_facts(kind, ((c.id, c.cf) for c in passed)))
                passed = collector.settle("candidate", "candidates", thresholds["candidates"])
                session.assert_facts(candidate_facts(self.kb, ((c.id, c.cf) for c in passed))
                                     + ruled_out_facts(collector.ruled_out()))
                chosen = choose(out)
                collector.chosen(chosen)
                session.assert_facts(item_facts(self.kb.exercises[i] for i in chosen.exercise_ids))
            out.unconsumed = list(session.unconsumed)
        return out, chosen
