"""The printable handout: a plan, or a programme journal, as one self-contained HTML page.

A runner prints it and keeps it by the mat: the advice first, each exercise with its steps,
cautions and dose, the weekly schedule, then a tick-box log for each week. The page carries its
own CSS and a Content-Security-Policy that forbids every request, so it looks the same offline,
from a mail attachment or from a file on a phone, and never calls out. Every text from the
answers, the knowledge base or a journal goes through jinja2's autoescape.

This module imports jinja2 at the top; :func:`.render.render` imports this module only when a
handout is asked for, so ``hipcoach plan`` in text pays nothing for it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

import jinja2

from .journal import Day, Describe, days
from .labels import DAYS, WEEKDAYS, Labels, column_date, day, long_date, short_date
from .words import (
    NOT_A_DIAGNOSIS,
    Plan,
    amount,
    lower_first,
    made_by,
    referral_words,
    serves_text,
    worded,
)

#: Printed log weeks on one sheet of A4 or Letter: two fit with room to write.
WEEKS_PER_SHEET = 2
#: The pain-monitoring model every plan's advice carries, next to the log's pain rows.
PAIN_GUIDE = ("Rate the worst pain (0–10) during and the next morning: up to 3 is fine, 4–5 only "
              "if it has settled by the next morning.")


@functools.cache
def environment(package: str = "hipcoach.present") -> jinja2.Environment:
    """The one way hipcoach's pages are templated: ``package``'s ``templates/``, every value
    escaped, an undefined name an error (the handout's, and the web pages' with their package)."""
    return jinja2.Environment(loader=jinja2.PackageLoader(package, "templates"),
                              autoescape=jinja2.select_autoescape(default=True,
                                                                  default_for_string=True),
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True)


def _page(template: str, **context: Any) -> str:
    html = environment().get_template(template).render(not_a_diagnosis=NOT_A_DIAGNOSIS, **context)
    return html.rstrip("\n") + "\n"


# ------------------------------------------------------------------------------------ the plan

def plan_html(plan: Plan, labels: Labels, weeks: int = 6) -> str:
    """The plan's handout, with a tick-box log for ``weeks`` weeks; a referral is the referral
    alone, printed large, and no exercises."""
    if plan["status"] == "refer":
        words = referral_words(plan)
        return _page("referral.html.j2", made_by=made_by(plan), title=words.heading, referral=words)
    causes = {c["id"]: c["name"] for c in plan["causes"]}
    items = {item["exercise"]: item for item in plan["items"]}
    blocks = [{"label": block["label"], "frequency": block["frequency"],
               "minutes": block["minutes"],
               "exercises": [items[e] for e in block["exercises"]]} for block in plan["schedule"]]
    state = "balanced" if plan["balanced"] else "not fully balanced"
    log = [{"title": f"Week {number}", "subtitle": "", "columns": [(d, "") for d in DAYS],
            "groups": [{"label": block["label"],
                        "rows": [{"name": item["name"], "dose": item["dose"],
                                  "cells": [item.get("per_day", 1)] * len(DAYS)}
                                 for item in block["exercises"]]}
                       for block in blocks]}
           for number in range(1, weeks + 1)]
    return _page(
        "plan.html.j2", made_by=made_by(plan),
        title=f"Your hip plan: {plan['total_minutes']} of your {plan['budget_minutes']} minutes "
              f"a day, {state}",
        points_to=worded(plan["symptoms"]), behind=worded(plan["causes"]),
        advice=[advice["text"] for advice in plan["advice"]],
        blocks=[{**block, "exercises": [_plan_card(item, causes, labels)
                                        for item in block["exercises"]]}
                for block in blocks],
        notes=plan["notes"],
        left_out=[f"{d['name']}: {d['reason']}" for d in plan["dropped"]
                  if d["kind"] in ("equipment", "caution", "budget")],
        sheets=_sheets(log), log_help="The log on the following pages: tick a box each time you "
        "do the exercise; on a day with two boxes, the dose is done twice. " + PAIN_GUIDE)


def _plan_card(item: Mapping[str, Any], causes: dict[str, str], labels: Labels) -> dict[str, Any]:
    return {"name": item["name"], "category": labels.category_label(item["category"]),
            "dose": amount(dict(item)), "doses": [], "cue": item["cue"], "steps": item["steps"],
            "cautions": [lower_first(c) for c in item["cautions"]],
            "why": f"For {serves_text(dict(item), causes)}."}


def _sheets(log: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The log's weeks, a printed sheet's worth at a time."""
    return [log[start:start + WEEKS_PER_SHEET] for start in range(0, len(log), WEEKS_PER_SHEET)]


# ------------------------------------------------------------------------------- the programme

def programme_html(journal: Mapping[str, Any], describe: Describe, labels: Labels) -> str:
    """The programme's handout: each exercise at each rung with its steps, cautions and its dose
    week by week, a tick-box log per week over the journal's actual dated sessions, and the
    check-ins so far."""
    described = _Described(describe)
    dated = days(journal, labels)
    cards: dict[tuple[str, int], dict[str, Any]] = {}
    for entry in dated:
        for session in entry.sessions:
            for item in session.items:
                card = cards.setdefault(_key(item), {"weeks": {}})
                week = card["weeks"].setdefault(entry.week, {"phase": entry.phase, "doses": [],
                                                             "slots": []})
                _add(week["doses"], str(item["dose"]))
                _add(week["slots"], labels.slot_label(session.slot))
    exercises = []
    for (exercise, step), card in cards.items():
        about = described(exercise, step)
        exercises.append({
            "name": about["name"], "category": labels.category_label(str(about["category"])),
            "dose": "", "cue": "", "why": "", "steps": list(about["steps"]),
            "cautions": [lower_first(c) for c in about["cautions"]],
            "doses": _dose_rows(card["weeks"])})
    log = [_programme_week(week, [d for d in dated if d.week == week["week"]], described, labels)
           for week in journal["programme"]]
    weeks = journal.get("weeks", len(journal["programme"]))
    return _page(
        "programme.html.j2", made_by=labels.provenance.footer() if labels.provenance else None,
        title=f"Your {weeks}-week hip programme",
        start=long_date(day(journal["start"])), run_days=_run_days(journal.get("run_days")),
        exercises=exercises, sheets=_sheets(log),
        checkins=[{key: _cell(checkin.get(key)) if key != "date" else short_date(day(checkin[key]))
                   for key in ("date", "pain_during", "next_morning", "sessions", "red_flags",
                               "decision", "because")} for checkin in journal.get("checkins", [])],
        log_help="Tick a box for each session you do; grey cells are not planned that day. "
        + PAIN_GUIDE)


def _dose_rows(weeks: dict[int, dict[str, Any]]) -> list[dict[str, str]]:
    """An exercise's dose week by week, consecutive weeks with the same dose and slots as one
    row ("Weeks 1 to 4" as printed), so a dose that never changes is one line, not six."""
    runs: list[tuple[list[int], list[str], dict[str, str]]] = []
    for number, week in weeks.items():
        row = {"dose": "; ".join(week["doses"]), "when": ", ".join(week["slots"])}
        if runs and runs[-1][2] == row and runs[-1][0][-1] == number - 1:
            runs[-1][0].append(number)
            runs[-1][1].append(week["phase"])
        else:
            runs.append(([number], [week["phase"]], row))
    rows = []
    for numbers, phases, row in runs:
        span = f"Week {numbers[0]}" if len(numbers) == 1 else f"Weeks {numbers[0]}–{numbers[-1]}"
        phase = f" ({phases[0]})" if len(set(phases)) == 1 else ""
        rows.append({"week": span + phase, **row})
    return rows


class _Described:
    """``describe`` asked once per exercise and rung."""

    def __init__(self, describe: Describe) -> None:
        self.describe = describe
        self.seen: dict[tuple[str, int], Mapping[str, Any]] = {}

    def __call__(self, exercise: str, step: int) -> Mapping[str, Any]:
        if (exercise, step) not in self.seen:
            self.seen[exercise, step] = self.describe(exercise, step)
        return self.seen[exercise, step]


def _key(item: Mapping[str, Any]) -> tuple[str, int]:
    return str(item["exercise"]), int(item["step"])


def _add(values: list[str], value: str) -> None:
    """Append unless already there: a week's doses and slots in first-seen order."""
    if value not in values:
        values.append(value)


def _programme_week(week: Mapping[str, Any], dated: list[Day], described: _Described,
                    labels: Labels) -> dict[str, Any]:
    """One week of the log: a column per date with sessions, rows grouped by slot."""
    groups: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}
    for column, entry in enumerate(dated):
        for session in entry.sessions:
            rows = groups.setdefault(session.slot, {})
            for item in session.items:
                row = rows.setdefault(_key(item), {"name": described(*_key(item))["name"],
                                                   "doses": [], "cells": [0] * len(dated)})
                _add(row["doses"], str(item["dose"]))
                row["cells"][column] += 1
    return {"title": f"Week {week['week']}", "subtitle": str(week["phase"]),
            "columns": [column_date(entry.date) for entry in dated],
            "groups": [{"label": labels.slot_label(slot),
                        "rows": [{"name": row["name"], "dose": "; ".join(row["doses"]),
                                  "cells": row["cells"]} for row in rows.values()]}
                       for slot, rows in sorted(groups.items(),
                                                 key=lambda g: labels.slot_order(g[0]))]}


def _run_days(value: Any) -> str:
    """Run days as the journal holds them: weekday numbers (Monday is 0) or names."""
    if not value:
        return "none set"
    names = value if isinstance(value, list) else [value]
    return ", ".join(WEEKDAYS[v] if isinstance(v, int) and 0 <= v < 7 else str(v) for v in names)


def _cell(value: Any) -> str:
    """A check-in value in a table cell."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Iterable) and not isinstance(value, str):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)
