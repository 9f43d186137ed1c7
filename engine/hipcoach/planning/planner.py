"""The planner: answers in, a balanced, explained plan (as a JSON-ready dict) out.

This module only assembles the report from what the rules concluded (:mod:`..reasoning.inference`) and what
the plan step chose (:mod:`.assemble`); the shape of the dict is the public JSON plan format.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from .. import formats
from ..formats import Plan
from ..kb.answers import normalise
from ..kb.bundled import knowledge_dir, rules_dir
from ..kb.cache import load_bases
from ..kb.knowledge import KnowledgeBase
from ..kb.provenance import Provenance
from ..kb.rulefile import RuleBase
from ..reasoning.certainty import rounded
from ..reasoning.inference import Derivation, Engine, Premise, Support
from .assemble import Selection, causes_served, choose


class Planner:
    """Loads (and checks) a knowledge base and rule base once, then plans for any answers.
    What was checked is kept between runs for exactly the same files (:mod:`..kb.cache`), unless
    ``cached`` is false (for folders made for one run)."""

    def __init__(self, knowledge: Path | None = None, rules: Path | None = None,
                 cached: bool = True) -> None:
        self.folders = (Path(knowledge or knowledge_dir()), Path(rules or rules_dir()))
        bases = load_bases(*self.folders, cached)
        self.kb: KnowledgeBase = bases[0]
        self.rulebase: RuleBase = bases[1]
        self.engine = Engine(self.kb, self.rulebase)
        self.requirements = [r for r in self.rulebase.layer("plan") if r.conclusion == "require"]
        self._provenance: Provenance | None = None

    @property
    def provenance(self) -> Provenance:
        """hipcoach's version and the fingerprint of the files this planner was loaded from
        (computed on first use, then kept)."""
        if self._provenance is None:
            self._provenance = Provenance.of(*self.folders)
        return self._provenance

    def plan(self, raw_answers: Mapping[str, Any], minutes: int | None = None) -> Plan:
        """Plan for ``raw_answers``; ``minutes`` overrides the answer of that name."""
        return self.run(raw_answers, minutes)[0]

    def trace(self, raw_answers: Mapping[str, Any], minutes: int | None = None,
              respondent: str | None = None) -> formats.TraceLine:
        """The plan together with the full rule trace that produced it, as one JSON-ready record:
        ``{respondent, answers, status, events, unconsumed, plan}``."""
        plan, derivation = self.run(raw_answers, minutes, trace=True)
        return {"respondent": respondent, "answers": derivation.answers, "status": plan["status"],
                "events": cast(list[formats.Event], derivation.events),
                "unconsumed": derivation.unconsumed, "plan": plan}

    def run(self, raw_answers: Mapping[str, Any], minutes: int | None = None,
            trace: bool = False) -> tuple[Plan, Derivation]:
        """The plan and the derivation behind it (with trace events when ``trace``)."""
        if minutes is not None:
            raw_answers = {**raw_answers, "minutes": minutes}
        answers = normalise(raw_answers, self.kb)

        def pick(derivation: Derivation) -> Selection:
            fired = {rule.id for rule, _ in derivation.requirements}
            wanted = [rule for rule in self.requirements if rule.id in fired]
            return choose(derivation, self.kb, wanted, answers["minutes"], self.rulebase.max_items,
                          self.engine.rules)

        derivation, selection = self.engine.derive(answers, pick, trace)
        return _Report(self, derivation, selection).build(), derivation


class _Report:
    def __init__(self, planner: Planner, derivation: Derivation, selection: Selection | None) -> None:
        self.kb = planner.kb
        self.rulebase = planner.rulebase
        self.rules = planner.engine.rules
        self.provenance = planner.provenance.as_json()
        self.d = derivation
        self.sel = selection

    def build(self) -> Plan:
        budget = self.d.answers["minutes"]
        max_items = self.rulebase.max_items
        if self.d.refer or self.sel is None:
            reasons = self.reasons()
            urgency = reasons[0]["urgency"] if reasons else None  # most urgent first
            return {"status": "refer", "urgency": urgency, "referral": self.referral(urgency),
                    "reasons": reasons,
                    "symptoms": [], "causes": [], "advice": [], "items": [], "total_minutes": 0,
                    "budget_minutes": budget, "balanced": False,
                    "notes": ["Self-treatment is not advised until a clinician has seen you."],
                    "unmet": [], "max_items": max_items, "capped": False, "dropped": [],
                    "schedule": [], "provenance": self.provenance}
        items = self.items()
        return {
            "status": "plan",
            "urgency": None,
            "referral": None,
            "reasons": [],
            "symptoms": cast(list[formats.SymptomConcept], self.concepts("symptom")),
            "causes": cast(list[formats.CauseConcept], self.concepts("cause")),
            "advice": self.advice(),
            "items": items,
            "total_minutes": _num(sum(item["minutes"] for item in items)),
            "budget_minutes": budget,
            "balanced": not self.sel.unmet,
            "notes": [u.reason for u in self.sel.unmet],
            "unmet": [{"rule": u.rule, "kind": u.kind, "reason": u.reason} for u in self.sel.unmet],
            "max_items": max_items,
            "capped": self.sel.capped,
            "dropped": [{"exercise": d.exercise, "name": self.kb.exercises[d.exercise].name,
                         "kind": d.kind, "reason": d.reason, "rule": d.rule}
                        for d in self.sel.dropped],
            "schedule": self.schedule(items),
            "provenance": self.provenance,
        }

    def referral(self, urgency: str | None) -> formats.Referral | None:
        """What the runner reads first and last in a referral: where to go, and how soon."""
        found = next((u for u in self.rulebase.urgencies if u.id == urgency), None)
        return None if found is None else {"heading": found.heading, "advice": found.advice}

    def advice(self) -> list[formats.Advice]:
        """The advice the rules gave, in the order of the knowledge base's advice file."""
        return [{"id": advice.id, "text": advice.text, "rule": self.d.advice[advice.id][0].rule,
                 "source": self.kb.citation(advice.source),
                 "because": [self.support(s) for s in self.d.advice[advice.id]]}
                for advice in self.kb.advice.values() if advice.id in self.d.advice]

    def support(self, support: Support) -> formats.Support:
        rule = self.rules[support.rule]
        return {"rule": rule.id, "confidence": rounded(support.cf), "rationale": rule.rationale,
                "source": self.kb.citation(rule.source),
                "from": [premise_json(p) for p in support.premises]}

    def reasons(self) -> list[formats.Reason]:
        """The referral's reasons, most urgent first (then in firing order)."""
        reasons: list[formats.Reason] = []
        for support in self.d.referrals:
            rule = self.rules[support.rule]
            reasons.append({"id": rule.target, "urgency": rule.urgency, "message": rule.rationale,
                            "rule": rule.id, "source": self.kb.citation(rule.source),
                            "from": [premise_json(p) for p in support.premises]})
        order = [u.id for u in self.rulebase.urgencies]
        return sorted(reasons, key=lambda r: order.index(r["urgency"]) if r["urgency"] in order
                      else len(order))

    def concepts(self, kind: str) -> list[dict[str, Any]]:
        """The symptoms or causes concluded, surest first. What their firings rest on is narrower
        than any premise (``formats.SymptomEvidence``, ``CauseEvidence``): the rule loader refuses
        a rule that matches a fact asserted after its layer settles."""
        known = self.kb.symptoms if kind == "symptom" else self.kb.causes
        ordered = sorted(self.d.conclusions[kind].values(), key=lambda c: (-rounded(c.cf), c.id))
        return [{"id": c.id, "name": known[c.id].name, "confidence": rounded(c.cf),
                 "certainty": self.kb.vocabulary.certainty_word(rounded(c.cf)),
                 "because": [self.support(s) for s in c.support]} for c in ordered]

    def slot_of(self, exercise: str) -> tuple[str, str | None]:
        """The winning schedule rule for an item: lowest priority, then earliest in the file."""
        options = self.d.slots.get(exercise, [])
        if not options:
            return self.rulebase.slots[-1].id, None
        slot, support = min(options, key=lambda o: (self.rules[o[1].rule].priority,
                                                    self.rules[o[1].rule].order))
        return slot, support.rule

    def items(self) -> list[formats.Item]:
        assert self.sel is not None
        slot_order = [slot.id for slot in self.rulebase.slots]
        candidates = self.d.conclusions["candidate"]
        rows: list[tuple[int, int, formats.Item]] = []
        for index, pick in enumerate(self.sel.picks):
            ex = self.kb.exercises[pick.exercise]
            candidate = candidates[ex.id]
            slot, scheduled_by = self.slot_of(ex.id)
            rows.append((slot_order.index(slot), index, {
                "exercise": ex.id, "name": ex.name, "category": ex.category,
                "targets": list(ex.targets), "equipment": list(ex.equipment), "dose": ex.dose,
                "minutes": _num(ex.day_minutes), "per_day": ex.per_day, "sides": ex.sides,
                "when": slot, "cue": ex.cue, "steps": list(ex.steps), "cautions": list(ex.cautions),
                "confidence": rounded(candidate.cf), "serves": sorted(causes_served(candidate)),
                "because": cast(list[formats.ExerciseSupport],
                                [self.support(s) for s in candidate.support]),
                "chosen": {"rule": pick.rule, "reason": pick.reason},
                "scheduled_by": scheduled_by, "source": self.kb.citation(ex.source),
            }))
        return [row for _, _, row in sorted(rows, key=lambda r: (r[0], r[1]))]

    def schedule(self, items: list[formats.Item]) -> list[formats.Block]:
        blocks: list[formats.Block] = []
        for slot in self.rulebase.slots:
            chosen = [item for item in items if item["when"] == slot.id]
            if chosen:
                blocks.append({"slot": slot.id, "label": slot.label, "frequency": slot.frequency,
                               "exercises": [item["exercise"] for item in chosen],
                               "minutes": _num(sum(item["minutes"] for item in chosen))})
        return blocks


def premise_json(premise: Premise) -> formats.Premise:
    """A premise as the plan's ``from`` lists show it: answers with values, facts with certainty."""
    if premise.kind == "answer":
        return {"answer": premise.id, "value": premise.value}
    if premise.kind == "symptom":
        return {"symptom": premise.id, "confidence": rounded(premise.cf)}
    if premise.kind == "cause":
        return {"cause": premise.id, "confidence": rounded(premise.cf)}
    if premise.kind == "candidate":
        return {"exercise": premise.id, "confidence": rounded(premise.cf)}
    if premise.kind == "requires":
        return {"requires": premise.value, "exercise": premise.id}
    if premise.kind == "demands":
        return {"demand": premise.value, "exercise": premise.id}
    if premise.kind == "ruled_out":
        return {"ruled_out": premise.id}
    return {"item": premise.id, "category": premise.value}


def _num(value: float) -> int | float:
    """Whole numbers as int, so JSON shows 12 rather than 12.0."""
    return int(value) if float(value).is_integer() else round(float(value), 2)


def plan(raw_answers: Mapping[str, Any], minutes: int | None = None) -> Plan:
    """Plan with the bundled knowledge base and rules (a convenience for scripts)."""
    return Planner().plan(raw_answers, minutes)
