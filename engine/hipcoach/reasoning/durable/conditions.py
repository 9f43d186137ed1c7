"""Compile checked rules into durable_rules' own condition language (its JSON ruleset form).

The compiled conditions are what the engine matches on: a rule fires only when durable_rules finds
facts that satisfy them, so nothing here evaluates a condition itself. Kept free of any
durable_rules import so the compiled form can be shown and tested without the engine.
"""

from __future__ import annotations

from typing import Any

from ...kb.ops import ORDERING
from ...kb.rulefile import ALL_LAYERS, Pattern, ProgressRules, Ref, Rule, RuleBase, Test
from ..facts import TYPE_FIELD

#: durable_rules' name for each operator that is not plain equality (``in`` becomes ``$or``).
_OPS = {"ne": "$neq", **{op: f"${op}" for op in ORDERING}}


def compile_rule(rule: Rule) -> dict[str, Any]:
    """One rule as a durable_rules rule definition (without its action)."""
    patterns = []
    for pattern in rule.patterns:
        key = f"{pattern.alias}$not" if pattern.negated else pattern.alias
        patterns.append({key: compile_pattern(pattern)})
    # durable_rules fires lower `pri` first: layers fire in order within one assertion.
    return {"all": patterns, "pri": ALL_LAYERS.index(rule.layer) + 1}


def compile_ruleset(rulebase: RuleBase | ProgressRules) -> dict[str, dict[str, Any]]:
    """Every rule, keyed by rule id, in file order."""
    return {rule.id: compile_rule(rule) for rule in rulebase.rules}


def compile_pattern(pattern: Pattern) -> dict[str, Any]:
    terms: list[dict[str, Any]] = [{TYPE_FIELD: pattern.fact}]
    for test in pattern.tests:
        # An explicit existence test first: durable_rules treats a missing field as matching
        # `$neq`, and every answer is its own fact with a single named field.
        terms.append({"$ex": {test.field: 1}})
        terms.append(_term(test))
    return {"$and": terms}


def _term(test: Test) -> dict[str, Any]:
    if test.op == "ref":
        return {test.field: {test.value.alias: test.value.field}}
    if test.op == "in":
        return {"$or": [{test.field: value} for value in test.value]}
    if test.op == "eq":
        return {test.field: test.value}
    if isinstance(test.value, Ref):  # compared with a field of an earlier pattern's fact
        return {_OPS[test.op]: {test.field: {test.value.alias: test.value.field}}}
    return {_OPS[test.op]: {test.field: test.value}}
