"""A programme journal built from a plan, a ``describe`` callback from the knowledge base and the
labels: what the programme commands hand the programme renderers, for their tests."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from hipcoach.kb.bundled import knowledge_dir, rules_dir
from hipcoach.kb.cache import load_bases
from hipcoach.kb.knowledge import KnowledgeBase
from hipcoach.present.labels import Labels

START = datetime.date(2026, 1, 5)  # a Monday
PHASES = ("Settle in", "Settle in", "Build", "Build", "Load", "Load")
RUN_DAYS = (0, 2, 5)  # Monday, Wednesday, Saturday
STRENGTH_DAYS = (1, 4)  # Tuesday, Friday
CHECKINS = [
    {"date": "2026-01-11", "pain_during": 2, "next_morning": 1, "sessions": 9, "red_flags": [],
     "decision": "progress", "because": "Pain stayed at 3/10 or less and settled by the next morning."},
    {"date": "2026-01-18", "pain_during": 4, "next_morning": 2, "sessions": 8, "red_flags": [],
     "decision": "hold", "because": ["Pain reached 4/10", "it settled by the next morning"]},
]


#: The bundled knowledge and rule base's labels, as the programme commands hand them over.
LABELS = Labels.of(*load_bases(knowledge_dir(), rules_dir()))


def describe_from(kb: KnowledgeBase):
    """``describe(exercise, step)``: the exercise as the knowledge base has it, its rung in the
    name from step 2 on (the bundled exercises have no ladders)."""
    def describe(exercise: str, step: int) -> dict[str, Any]:
        ex = kb.exercises[exercise]
        return {"name": ex.name if step == 1 else f"{ex.name} (level {step})",
                "steps": list(ex.steps), "cautions": list(ex.cautions), "category": ex.category}
    return describe


def journal_from(plan: Mapping[str, Any], answers: Mapping[str, Any], weeks: int = 6,
                 checkins: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Six weeks of the plan's blocks on dates: run blocks on run days, strength on strength
    days, the daily block every day; strength moves up a rung and a set every two weeks."""
    items = {item["exercise"]: item for item in plan["items"]}
    programme = []
    for week in range(weeks):
        entries = []
        for offset in range(7):
            date = START + datetime.timedelta(days=7 * week + offset)
            for block in plan["schedule"]:
                slot = block["slot"]
                if ((slot in ("before_run", "after_run") and date.weekday() not in RUN_DAYS)
                        or (slot == "strength_days" and date.weekday() not in STRENGTH_DAYS)):
                    continue
                entries.append({"date": date.isoformat(), "slot": slot,
                                "items": [_item(items[e], week) for e in block["exercises"]]})
        programme.append({"week": week + 1, "phase": PHASES[week % len(PHASES)], "days": entries})
    return {"version": 1, "answers": dict(answers), "start": START.isoformat(), "weeks": weeks,
            "run_days": list(RUN_DAYS), "programme": programme,
            "checkins": CHECKINS if checkins is None else checkins}


def _item(item: Mapping[str, Any], week: int) -> dict[str, Any]:
    if item["category"] != "strength":
        return {"exercise": item["exercise"], "dose": item["dose"], "step": 1}
    rung = 1 + week // 2
    dose = item["dose"] if rung == 1 else f"{item['dose']}, plus {rung - 1} more set{'s' if rung > 2 else ''}"
    return {"exercise": item["exercise"], "dose": dose, "step": rung}
