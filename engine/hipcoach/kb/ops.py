"""The one operator language of the data files: rule tests (``rules/*.yaml``) and skip logic
(``knowledge/questionnaire.yaml``) name the same operators, and everything that evaluates,
checks, compiles or words them starts from here."""

from __future__ import annotations

from typing import Any

#: Operators that order numbers.
ORDERING = ("gt", "gte", "lt", "lte")
#: Operators that compare one value with another: what skip logic may use.
COMPARISONS = ("eq", "ne", *ORDERING)
#: What a rule test may use besides: membership in a list, and a join on an earlier pattern.
RULE_OPS = (*COMPARISONS, "in", "ref")


def holds(op: str, value: Any, target: Any) -> bool:
    """Whether ``value OP target`` holds, for the ops rule tests and skip logic share; an
    ordering test on something that is not a number never holds."""
    if op == "eq":
        return bool(value == target)
    if op == "ne":
        return bool(value != target)
    if op == "in":
        return value in target
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return {"gt": value > target, "gte": value >= target, "lt": value < target,
            "lte": value <= target}[op]
