"""What in a respondent's answers can change their rows of a batch's output, and so which
respondents can share one engine evaluation.

A plan depends on the answers only through the rules' tests and the answers the planner reads
itself (``PLANNER_QUESTIONS``). Answers no rule tests never reach a plan. A number the rules only
compare with constants (``age >= 65``) reaches it only through those comparisons' outcomes: a
runner of 30 and one of 40 fire the same rules, so their plans differ only in the answer values
quoted under ``because``, which the batch tables do not show. Two respondents whose answers agree
on everything else and fall in the same class of every such number therefore get the same rows
in ``plans.csv`` and ``plan_items.csv``: one evaluation serves both. A trace shows every answer,
so a traced run keys on the exact answers instead (see ``score._translate``).
"""

from __future__ import annotations

from typing import Any

from ..kb.knowledge import PLANNER_QUESTIONS, KnowledgeBase
from ..kb.ops import ORDERING, holds
from ..kb.rulefile import Ref, RuleBase

#: Question types whose answers are numbers.
NUMERIC = ("int", "number")


class Profiler:
    """Builds the two keys of a checked answer set: its *profile* (the answers that can change
    a plan, exactly as given: what ``distinct_profiles`` counts) and its *class* (the profile
    with every number the rules only compare replaced by the outcomes of those comparisons:
    what the evaluation is shared by)."""

    def __init__(self, rulebase: RuleBase, kb: KnowledgeBase) -> None:
        tests: dict[str, list[tuple[str, Any]]] = {}
        exact: set[str] = set(PLANNER_QUESTIONS)
        for rule in rulebase.rules:
            for pattern in rule.patterns:
                if pattern.fact != "answer":
                    continue
                for test in pattern.tests:
                    tests.setdefault(test.field, []).append((test.op, test.value))
                    if isinstance(test.value, Ref) or test.op not in (*ORDERING, "eq", "ne"):
                        exact.add(test.field)
        #: answer ids that can change a plan, in a fixed order
        self.fields = tuple(sorted(set(tests) | set(PLANNER_QUESTIONS)))
        #: numeric answer -> the distinct comparisons the rules make of it
        self.compared = {
            field: tuple(sorted(set(found), key=repr)) for field, found in tests.items()
            if field not in exact and kb.questions[field].type in NUMERIC}

    def keys(self, answers: dict[str, Any]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """``(profile, class)`` of complete, checked ``answers``: hashable, equal for equal
        answers whatever their order."""
        profile = tuple(_hashable(answers[field]) for field in self.fields)
        if not self.compared:
            return profile, profile
        compared = self.compared
        return profile, tuple(
            tuple(holds(op, value, target) for op, target in compared[field])
            if field in compared else value
            for field, value in zip(self.fields, profile))

    def relevant(self, answers: dict[str, Any]) -> dict[str, Any]:
        """The answers that can change a plan: what one evaluation of a class needs."""
        return {field: answers[field] for field in self.fields}


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
