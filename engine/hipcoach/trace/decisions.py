"""How a programme check-in was decided, read back from its trace (``checkin --trace``): the
programme's decision, or one exercise's, down to the check-in values and ladder steps each
deciding rule matched, with the rule's rationale and source, as ``trace how`` gives for plans."""

from __future__ import annotations

from typing import Any

from ..kb.knowledge import KnowledgeBase
from ..kb.rulefile import PROGRESS, ProgressRules
from ..reasoning.facts import kind_of
from .tracefile import Record, fact_text

#: What ``trace how`` takes, in a check-in trace, for the programme's own decision.
PROGRAMME = "decision"


def is_checkin(record: Record) -> bool:
    """Whether ``record`` traces a check-in (its events are the progress layer's)."""
    return any(event.get("layer") == PROGRESS for event in record["events"])


def how_decided(record: Record, conclusion: str, rules: ProgressRules, kb: KnowledgeBase) -> list[str]:
    """The lines of ``trace how`` for ``conclusion``: :data:`PROGRAMME`, or an exercise of the
    programme. Raises KeyError for anything else."""
    by_id = rules.by_id()
    decided = next((e for e in record["events"] if e["event"] == "assert"
                    and e["fact"]["kind"] == "decision"), None)
    if decided is None:
        raise KeyError(conclusion)
    decision = decided["fact"]["id"]
    fires = {event["seq"]: event for event in _fires(record)}
    if conclusion == PROGRAMME:
        lines = [f"decision {decision} for the programme ({rules.decision(decision).label})"]
        for seq in decided["from"]:
            lines += _firing(fires[seq], by_id, kb)
        outweighed = [e for e in fires.values() if _step_exercise(e) is None
                      and e["seq"] not in decided["from"]]
        for event in outweighed:
            lines.append(f"  outweighed: {event['rule']} (would {_decides(event)})")
        return lines
    own = [event for event in fires.values() if _step_exercise(event) == conclusion]
    if not own:
        if conclusion not in {item["exercise"] for item in record["plan"].get("items", [])}:
            raise KeyError(conclusion)
        return [f"{conclusion}: {decision}, as the programme (no item rule decided otherwise)"]
    mine = _decides(own[0])
    lines = [f"{conclusion}: {mine}, not the programme's {decision}" if mine != decision
             else f"{conclusion}: {mine}, by a rule for this item"]
    for event in own:
        lines += _firing(event, by_id, kb)
    return lines


def _fires(record: Record) -> list[dict[str, Any]]:
    return [e for e in record["events"] if e["event"] == "fire" and e.get("layer") == PROGRESS]


def _step_exercise(event: dict[str, Any]) -> str | None:
    return next((fact["exercise"] for fact in event["matched"].values() if kind_of(fact) == "step"),
                None)


def _decides(event: dict[str, Any]) -> str:
    return ", ".join(str(c["id"]) for c in event["concludes"] if c.get("kind") == "decide")


def _firing(event: dict[str, Any], by_id: dict[str, Any], kb: KnowledgeBase) -> list[str]:
    rule = by_id.get(event["rule"])
    rationale = rule.rationale if rule is not None else "(a rule not in these rule files)"
    lines = [f"  <- {event['rule']}: {rationale}"]
    if rule is not None:
        lines.append(f"     source: {kb.citation(rule.source)}")
    lines += [f"     <- {fact_text(fact)}" for fact in event["matched"].values()]
    return lines
