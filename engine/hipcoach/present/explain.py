"""Derivation chains, read from a plan: why a symptom, cause or exercise is there.

Everything needed is in the plan dict itself (each conclusion's ``because`` names the rules, their
rationale and the facts they matched), so a saved JSON plan can be explained later without the
engine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

Plan = Mapping[str, Any]  # a plan as built (formats.Plan) or read back from JSON


def _pct(confidence: float) -> str:
    return f"{round(confidence * 100)}%"


def value_text(value: Any) -> str:
    """An answer value as people read it: text as is, anything else as JSON (true, [], 7)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def premise_text(premise: dict[str, Any], plan: Plan) -> str:
    """One matched fact in words: ``knee_pain = front`` or ``cause Tight hip flexors (64%)``."""
    if "answer" in premise:
        return f"answer {premise['answer']} = {value_text(premise['value'])}"
    for kind in ("symptom", "cause"):
        if kind in premise:
            name = next((c["name"] for c in plan[kind + "s"] if c["id"] == premise[kind]),
                        premise[kind])
            return f"{kind} {name} ({_pct(premise['confidence'])})"
    if "requires" in premise:
        return f"{premise['exercise']} needs {premise['requires']}"
    if "demand" in premise:
        return f"{premise['exercise']} makes the demand {premise['demand']}"
    if "ruled_out" in premise:
        return f"demand {premise['ruled_out']} ruled out"
    if "item" in premise:
        return f"plan item {premise['item']} ({premise['category']})"
    return f"candidate {premise['exercise']} ({_pct(premise['confidence'])})"


def chain(because: list[dict[str, Any]], plan: Plan, depth: int = 1,
          sources: bool = False) -> list[str]:
    """The support tree under a conclusion, down to the answers, as indented lines; with
    ``sources``, each rule's source follows it."""
    lines = []
    pad = "  " * depth
    for support in because:
        lines.append(f"{pad}<- {support['rule']} (adds {_pct(support['confidence'])}): "
                     f"{support['rationale']}")
        if sources:
            lines.append(f"{pad}   source: {support['source']}")
        for premise in support["from"]:
            lines.append(f"{pad}   <- {premise_text(premise, plan)}")
            for kind in ("symptom", "cause"):
                if kind in premise:
                    found = next((c for c in plan[kind + "s"] if c["id"] == premise[kind]), None)
                    if found is not None:
                        lines.extend(chain(found["because"], plan, depth + 3, sources))
    return lines


def explain_item(item: dict[str, Any], plan: Plan, sources: bool = False) -> list[str]:
    lines = [f"{item['name']} [{item['exercise']}] ({_pct(item['confidence'])})"]
    lines.extend(chain(item["because"], plan, sources=sources))
    chosen = item["chosen"]
    by = f" by {chosen['rule']}" if chosen["rule"] else ""
    lines.append(f"  chosen{by}: {chosen['reason']}")
    if item.get("scheduled_by"):
        lines.append(f"  scheduled {item['when']} by {item['scheduled_by']}")
    return lines


def explain_plan(plan: Plan) -> list[str]:
    """Every item's chain, then every cause's, for ``--explain``."""
    if plan["status"] == "refer":
        lines = ["Why a referral:"]
        for reason in plan["reasons"]:
            lines.append(f"  {reason['id']} <- {reason['rule']}: {reason['message']}")
            lines.extend(f"     <- {premise_text(p, plan)}" for p in reason["from"])
        return lines
    lines = ["Why each exercise:"]
    for item in plan["items"]:
        lines.extend("  " + line for line in explain_item(item, plan))
    return lines


def how(plan: Plan, conclusion: str) -> list[str]:
    """The derivation tree of a symptom, cause, plan item or referral reason, with sources."""
    for kind in ("symptom", "cause"):
        for entry in plan[kind + "s"]:
            if entry["id"] == conclusion:
                return [f"{kind} {entry['name']} [{entry['id']}] ({_pct(entry['confidence'])})",
                        *chain(entry["because"], plan, sources=True)]
    for item in plan["items"]:
        if item["exercise"] == conclusion:
            return explain_item(item, plan, sources=True)
    for reason in plan["reasons"]:
        if reason["id"] == conclusion:
            return [f"referral {reason['id']} <- {reason['rule']}: {reason['message']}",
                    f"   source: {reason['source']}",
                    *(f"   <- {premise_text(p, plan)}" for p in reason["from"])]
    raise KeyError(conclusion)
