"""One answer profile's plan, rendered once as the CSV rows (and trace line) of a respondent.

Batch scoring evaluates each distinct set of normalised answers once and reuses the rendered
text for every respondent who gave them. This module is what worker processes import, so it
stays free of pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..planning.planner import Planner
from ..trace.tracefile import dump
from .csvsafe import row_text
from .findings import Outcome, finding_tails, outcome

PLAN_COLUMNS = ("respondent_id", "status", "referral_reasons", "symptoms", "causes", "exercises",
                "total_minutes", "balanced")
ITEM_COLUMNS = ("respondent_id", "order", "exercise", "name", "category", "when", "dose",
                "minutes", "sides", "why")
#: Stands for the respondent id in a cached trace line until a row fills it in.
ID_SLOT = '{"respondent":null,'


@dataclass(frozen=True)
class Rendered:
    plan_tail: str  # the plans.csv record after its id cell, ",..." and newline
    item_tails: tuple[str, ...]  # one plan_items.csv record each, after the id cell
    status: str
    symptoms: tuple[str, ...]
    causes: tuple[str, ...]
    exercises: tuple[str, ...]
    categories: tuple[str, ...]
    trace: str | None  # the trace line, starting with ID_SLOT
    outcome: Outcome  # what the plan says, for the report
    finding_tails: tuple[str, ...]  # one findings.csv record each, after the id cell


def render(planner: Planner, answers: dict[str, Any], traces: bool) -> Rendered:
    """Plan ``answers`` and render every per-respondent output for them."""
    if traces:
        record = planner.trace(answers)
        plan = record["plan"]
        fired: set[str] = {e["rule"] for e in record["events"] if e["event"] == "fire"}
        line = dump(record)
        assert line.startswith(ID_SLOT)
    else:
        plan, derivation = planner.run(answers)
        fired, line = derivation.fired, None
    causes = {c["id"]: c["name"] for c in plan["causes"]}
    plan_row = ["", plan["status"], ";".join(r["id"] for r in plan["reasons"]),
                ";".join(s["id"] for s in plan["symptoms"]),
                ";".join(f"{c['id']}:{c['confidence']}" for c in plan["causes"]),
                ";".join(i["exercise"] for i in plan["items"]),
                plan["total_minutes"], str(plan["balanced"]).lower()]
    found = outcome(plan, fired, answers, planner.kb)
    items = []
    for order, item in enumerate(plan["items"], start=1):
        why = ", ".join(causes.get(c, c) for c in item["serves"]) or "general hip maintenance"
        items.append(row_text(["", order, item["exercise"], item["name"], item["category"],
                               item["when"], item["dose"], item["minutes"], item["sides"], why]))
    return Rendered(row_text(plan_row), tuple(items), plan["status"],
                    tuple(s["id"] for s in plan["symptoms"]), tuple(causes),
                    tuple(i["exercise"] for i in plan["items"]),
                    tuple(i["category"] for i in plan["items"]), line, found,
                    finding_tails(found))


# --- worker processes -------------------------------------------------------------------------
_planner: Planner | None = None


def start_worker(knowledge: Path | None, rules: Path | None) -> None:
    """Process-pool initializer: one planner (one ruleset registration) per process."""
    global _planner
    _planner = Planner(knowledge, rules)


def render_all(planner: Planner, batch: list[tuple[Any, dict[str, Any]]],
               traces: bool) -> list[tuple[Any, Rendered]]:
    """Render each ``(key, answers)`` of ``batch``: the unit of work a worker is sent."""
    return [(key, render(planner, answers, traces)) for key, answers in batch]


def render_many(batch: list[tuple[Any, dict[str, Any]]], traces: bool) -> list[tuple[Any, Rendered]]:
    assert _planner is not None, "start_worker was not run in this process"
    return render_all(_planner, batch, traces)
