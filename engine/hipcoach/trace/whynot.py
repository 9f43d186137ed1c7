"""WHY NOT: why an exercise is missing from a traced plan, and which answer changes bring it in.

The reason is read from the trace (the plan step's drops, the exclusions that fired, the facts the
engine withheld for low certainty, the causes that were never derived). The answer changes are
found by asking the rules: every answer test in the rule base suggests values, and each
suggested change is re-planned to see whether the exercise then makes the plan. Only changes that
were verified that way are reported.

Changes are split by whom they are for. Answers the questionnaire marks ``why_not: yours``
(equipment, time) are **changes you could make**; any other answer describes **the runner it
would be chosen for**. A question's ``why_not`` also keeps changes that would mean more pain, a
worse symptom or a red flag from ever being offered, and a change that ends in a referral is
never offered either.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import AnswersError
from ..kb.knowledge import Question
from ..kb.ops import holds
from ..kb.rulefile import Pattern, Rule, Test
from ..planning.planner import Planner
from ..present.explain import value_text
from ..reasoning.facts import answer_of, kind_of

#: Re-plans tried at most per question; each takes a few milliseconds.
MAX_TRIALS = 400
MAX_CHANGES = 5
#: More minutes tried one at a time past the exercise's own time (then the most allowed): other
#: requirements may claim the first few.
MINUTES_STEPS = 10
#: A question's ``why_not`` word for answers the runner can change today.
YOURS = "yours"


@dataclass
class WhyNot:
    exercise: str
    kind: str  # in_plan, referral, equipment, caution, budget, plan_full, variant,
    #            low_confidence, no_cause, not_proposed
    reasons: list[str]
    changes: list[dict[str, Any]] = field(default_factory=list)  # yours: bring it into the plan
    chosen_for: list[dict[str, Any]] = field(default_factory=list)  # other answers that would
    lifts: list[dict[str, Any]] = field(default_factory=list)  # yours: end its exclusion only

    def to_json(self) -> dict[str, Any]:
        return {"exercise": self.exercise, "kind": self.kind, "reasons": self.reasons,
                "changes": self.changes, "chosen_for": self.chosen_for, "lifts": self.lifts}


def why_not(record: dict[str, Any], exercise: str, planner: Planner) -> WhyNot:
    """Explain why ``exercise`` is not in the traced plan; ``planner`` must hold the same rules."""
    plan = record["plan"]
    if exercise in {item["exercise"] for item in plan["items"]}:
        return WhyNot(exercise, "in_plan", [f"{exercise} is in the plan; `trace how` shows why"])
    if plan["status"] == "refer":
        reasons = [f"the runner was referred to a clinician ({r['id']}, rule {r['rule']}), "
                   "so no exercise was chosen" for r in plan["reasons"]]
        return WhyNot(exercise, "referral", reasons)
    result = _diagnose(record, exercise, planner)
    found, lifted = _changes(record, exercise, planner)
    yours = {q.id for q in planner.kb.questions.values() if q.why_not == YOURS}
    result.changes = _minimal([c for c in found if set(c["answers"]) <= yours])
    result.chosen_for = _minimal([c for c in found if not set(c["answers"]) <= yours])
    if result.kind in ("equipment", "caution"):
        result.lifts = _minimal([c for c in lifted if set(c["answers"]) <= yours])
    return result


def _diagnose(record: dict[str, Any], exercise: str, planner: Planner) -> WhyNot:
    result = _main_reason(record, exercise, planner)
    # other exclusions may also have fired: each is a reason of its own
    main = next((d.get("rule") for d in record["plan"]["dropped"] if d["exercise"] == exercise
                 and result.kind in ("equipment", "caution")), None)
    for event in record["events"]:
        if event["event"] == "fire" and event["rule"] != main and any(
                c["kind"] == "exclude" and c["id"] == exercise for c in event["concludes"]):
            result.reasons.append(f"it would also be excluded by {event['rule']}: "
                                  f"{planner.engine.rules[event['rule']].rationale}")
    return result


def _main_reason(record: dict[str, Any], exercise: str, planner: Planner) -> WhyNot:
    plan, events = record["plan"], record["events"]
    dropped = next((d for d in plan["dropped"] if d["exercise"] == exercise), None)
    if dropped is not None:
        kind = dropped["kind"]
        exclusion = next((e for e in events if e["event"] == "fire" and e["rule"] == dropped["rule"]
                          and any(c["kind"] == "exclude" and c["id"] == exercise
                                  for c in e["concludes"])), None)
        if kind == "equipment" and exclusion is not None:
            needs = [f["item"] for f in exclusion["matched"].values() if kind_of(f) == "requires"]
            return WhyNot(exercise, kind, [
                f"excluded by {exclusion['rule']}: it needs {', '.join(needs)}, which is not "
                f"among the runner's equipment ({_equipment(record)})"])
        demands = [] if exclusion is None else [
            f["demand"] for f in exclusion["matched"].values() if kind_of(f) == "demands"]
        if kind == "caution" and exclusion is not None and demands:  # what the answers rule out
            ruling = [e for e in events if e["event"] == "fire" and any(
                c["kind"] == "ruled_out" and c["id"] == demands[0] for c in e["concludes"])]
            return WhyNot(exercise, kind, [
                f"excluded by {exclusion['rule']} as a caution: it makes the demand {demands[0]}, "
                f"which {e['rule']} ruled out because of "
                f"{_answers_text(list(e['matched'].values()))}: "
                f"{planner.engine.rules[e['rule']].rationale}" for e in ruling])
        if kind == "caution" and exclusion is not None:
            answers = _answers_text(list(exclusion["matched"].values()))
            return WhyNot(exercise, kind, [
                f"excluded by {exclusion['rule']} as a caution, because of {answers}: "
                f"{planner.engine.rules[exclusion['rule']].rationale}"])
        by = f" (for {dropped['rule']})" if dropped.get("rule") else ""
        return WhyNot(exercise, kind, [f"the plan step dropped it{by}: {dropped['reason']}"])
    withheld = {(e["fact"]["kind"], e["fact"]["id"]): e for e in events if e["event"] == "withhold"}
    if ("candidate", exercise) in withheld:
        event = withheld[("candidate", exercise)]
        return WhyNot(exercise, "low_confidence", [
            f"it was proposed, but its certainty {event['fact']['cf']} stayed below the "
            f"candidates threshold {event['threshold']}"])
    proposers = [r for r in planner.rulebase.layer("candidates")
                 if r.conclusion == "propose" and exercise in r.target]
    if not proposers:
        return WhyNot(exercise, "not_proposed", [
            f"no rule proposes {exercise}: add it to a propose rule in rules/candidates.yaml"])
    derived = {c["id"]: c["confidence"] for c in plan["causes"]}
    reasons, low = [], False
    for rule in proposers:
        for pattern in _positive(rule, "cause"):
            cause = _tested(pattern, "name")
            if cause in derived:
                reasons.append(f"{rule.id} needs cause {cause}, derived at {derived[cause]}, "
                               f"but its other conditions did not hold")
            elif ("cause", cause) in withheld:
                low = True
                event = withheld[("cause", cause)]
                reasons.append(f"{rule.id} needs cause {cause}, whose certainty "
                               f"{event['fact']['cf']} stayed below the causes threshold "
                               f"{event['threshold']}")
            else:
                reasons.append(f"{rule.id} needs cause {cause}, which no rule concluded "
                               f"from these answers")
        if not _positive(rule, "cause"):
            reasons.append(f"{rule.id} did not fire: {_answers_needed(rule)}")
    return WhyNot(exercise, "low_confidence" if low else "no_cause", reasons)


def _positive(rule: Rule, fact: str) -> list[Pattern]:
    return [p for p in rule.patterns if p.fact == fact and not p.negated]


def _tested(pattern: Pattern, name: str) -> Any:
    return next((t.value for t in pattern.tests if t.field == name and t.op == "eq"), None)


def _answers_needed(rule: Rule) -> str:
    tests = [f"{t.field} {t.op} {t.value}" for p in _positive(rule, "answer") for t in p.tests]
    return "needs " + " and ".join(tests) if tests else "its conditions did not hold"


def _answers_text(facts: list[dict[str, Any]]) -> str:
    pairs = [answer_of(f) for f in facts if kind_of(f) == "answer"]
    return ", ".join(f"{k} = {v}" for k, v in pairs) or "the facts it matched"


def _equipment(record: dict[str, Any]) -> str:
    owned = record["answers"].get("equipment") or []
    return ", ".join(owned) if owned else "none"


def _changes(record: dict[str, Any], exercise: str, planner: Planner
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Answer changes, smallest first, that were re-planned and bring ``exercise`` into the plan;
    and those that only end its exclusion (it is then a candidate that lost on time or balance)."""
    answers = record["answers"]
    trials = _suggestions(answers, exercise, planner)
    found: list[dict[str, Any]] = []
    lifted: list[dict[str, Any]] = []
    seen: set[str] = set()
    for change in trials[:MAX_TRIALS]:
        key = json.dumps(change, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        try:
            plan = planner.plan({**answers, **change})
        except AnswersError:
            continue
        entry = {"answers": change, "text": ", ".join(
            f"{k}: {value_text(answers.get(k))} -> {value_text(v)}" for k, v in change.items())}
        if plan["status"] != "plan":
            continue
        if exercise in {i["exercise"] for i in plan["items"]}:
            found.append(entry)
        elif any(d["exercise"] == exercise and d["kind"] not in ("equipment", "caution")
                 for d in plan["dropped"]):
            lifted.append(entry)
    return found, lifted


def _minimal(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Smallest first; a change containing a smaller one that works adds nothing, and of the
    changes that only add time, the least time is enough."""
    changes = sorted(changes, key=lambda c: (len(c["answers"]), c["answers"].get("minutes", 0),
                                             json.dumps(c["answers"], sort_keys=True)))
    minimal: list[dict[str, Any]] = []
    for change in changes:
        if any(c["answers"].items() <= change["answers"].items() for c in minimal):
            continue
        if set(change["answers"]) == {"minutes"} and any(set(c["answers"]) == {"minutes"}
                                                         for c in minimal):
            continue
        minimal.append(change)
    return minimal[:MAX_CHANGES]


def _suggestions(answers: dict[str, Any], exercise: str, planner: Planner) -> list[dict[str, Any]]:
    """Candidate changes: the rules' own answer tests (alone, and all of one rule's together),
    the exercise's equipment, and more minutes."""
    questions = planner.kb.questions
    ex = planner.kb.exercises[exercise]
    changes: list[dict[str, Any]] = []
    if ex.equipment:
        owned = list(answers.get("equipment") or [])
        changes.append({"equipment": owned + [i for i in ex.equipment if i not in owned]})
    most = int(questions["minutes"].max or answers["minutes"])
    first = answers["minutes"] + math.ceil(ex.day_minutes)
    for minutes in [*range(first, min(most, first + MINUTES_STEPS) + 1), most]:
        if minutes > answers["minutes"]:
            changes.append({"minutes": minutes})
    for rule in planner.rulebase.rules:
        if rule.layer == "triage":
            continue
        # an exclusion of this exercise is lifted by answers that make its tests fail
        lift = ((rule.conclusion == "exclude" and (rule.target_is_ref or exercise in rule.target))
                or (rule.conclusion == "rule_out" and bool(set(rule.target) & set(ex.demands))))
        together: dict[str, Any] = {}
        for pattern in rule.patterns:
            if pattern.fact != "answer":
                continue
            for test in pattern.tests:
                values = _satisfying(questions[test.field], test, answers, pattern.negated != lift)
                for value in values:
                    changes.append({test.field: value})
                if values:
                    together[test.field] = values[0]
        if len(together) > 1:
            changes.append(together)
    if answers["minutes"] < most:  # the same changes again with all the time there is
        changes += [{**change, "minutes": most} for change in changes if "minutes" not in change]
    safe = []
    for change in changes:
        change = {k: v for k, v in change.items() if answers.get(k) != v}
        if change and all(_may_offer(questions[k], answers.get(k), v) for k, v in change.items()):
            safe.append(change)
    return safe


def _may_offer(question: Question, current: Any, value: Any) -> bool:
    """Whether why-not may show this change: never more pain, a worse symptom or a red flag."""
    rule = question.why_not
    if rule == "never":
        return False
    if rule == "lower":
        return isinstance(current, (int, float)) and value < current
    if isinstance(rule, tuple):
        return value in rule
    return True


def _satisfying(question: Question, test: Test, answers: dict[str, Any], negated: bool) -> list[Any]:
    """Values of ``question`` for which ``test`` holds (or, for a negated pattern, fails)."""
    if test.op == "ref":
        return []
    if question.type == "multi":
        if test.op != "eq":
            return []
        owned = list(answers.get(question.id) or [])
        if negated:
            return [[v for v in owned if v != test.value]] if test.value in owned else []
        return [] if test.value in owned else [owned + [test.value]]
    if question.type in ("choice", "bool"):
        domain: list[Any] = list(question.values) if question.type == "choice" else [True, False]
    else:
        low, high = question.min or 0, question.max or 0  # number questions always have both
        step = 1
        value = test.value if test.op != "in" else None
        domain = sorted({v for v in (low, high, value, (value or 0) - step, (value or 0) + step)
                         if v is not None and low <= v <= high})
    passing = [v for v in domain if holds(test.op, v, test.value) != negated]
    return [v for v in passing if v != answers.get(question.id)][:2]
