"""One answer profile's plan, rendered once as the CSV rows (and trace line) of a respondent.

Batch scoring evaluates each distinct set of normalised answers once and reuses the rendered
text for every respondent who gave them. This module is what worker processes import, so it
stays free of pandas.
"""

from __future__ import annotations

import os
import threading
import time
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


def start_worker(knowledge: Path | None, rules: Path | None, parent: int | None = None) -> None:
    """Process-pool initializer: one planner (one ruleset registration) per process, and a
    watch on ``parent``, the process of the run: a worker whose run was killed (and so could
    not stop it), even while the worker was still starting, ends itself instead of living on."""
    global _planner
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent,), name="hipcoach-parent-watch",
                         daemon=True).start()
    _planner = Planner(knowledge, rules)


#: How often, in seconds, a worker checks that the run that started it is still there.
PARENT_CHECK = 0.5


def _end_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK)
    os._exit(1)  # the parent is gone: nobody will ever read what this process would return


def render_all(planner: Planner, batch: list[tuple[Any, dict[str, Any]]],
               traces: bool) -> list[tuple[Any, Rendered]]:
    """Render each ``(key, answers)`` of ``batch``: the unit of work a worker is sent."""
    return [(key, render(planner, answers, traces)) for key, answers in batch]


def render_many(batch: list[tuple[Any, dict[str, Any]]], traces: bool) -> list[tuple[Any, Rendered]]:
    assert _planner is not None, "start_worker was not run in this process"
    return render_all(_planner, batch, traces)
