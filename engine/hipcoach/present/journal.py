"""The programme journal as both programme renderers walk it: day by day, slot by slot.

The journal (written by ``hipcoach programme``) is a plain JSON dict::

    {version, provenance, answers, start, weeks, run_days,
     programme: [{week, phase, days: [{date, slot, items: [{exercise, dose, step, paused}]}]}],
     checkins: [{date, pain_during, next_morning, sessions, red_flags, decision, urgency,
                 changed, because}],
     replans: [{date, previous}]}

It lists one entry per (date, slot). The handout's log and the calendar both need a date's
slots together and in the order of a day, so that grouping lives here once.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .labels import Labels, day

#: ``describe(exercise_id, step)`` -> ``{"name", "steps", "cautions", "category"}``: what an
#: exercise is at one rung of its ladder, supplied by the programme code.
Describe = Callable[[str, int], Mapping[str, Any]]


@dataclass(frozen=True)
class Session:
    """One slot's exercises on one date: ``items`` are the journal's ``{exercise, dose, step}``."""

    slot: str
    items: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Day:
    date: datetime.date
    week: int
    phase: str
    sessions: tuple[Session, ...]


def days(journal: Mapping[str, Any], labels: Labels) -> list[Day]:
    """Every date with hip work, in date order, with its slots in the order of a day. A date or a
    slot the journal lists twice is merged, so a day is one calendar event and one log column.
    Items paused at a check-in are left out, and so is a slot (or a date) left with none."""
    found: dict[datetime.date, tuple[int, str, dict[str, list[Mapping[str, Any]]]]] = {}
    for week in journal["programme"]:
        for entry in week["days"]:
            items = [item for item in entry["items"] if not item.get("paused")]
            if not items:
                continue
            date = day(entry["date"])
            _, _, slots = found.setdefault(date, (week["week"], str(week["phase"]), {}))
            slots.setdefault(entry["slot"], []).extend(items)
    return [Day(date, number, phase,
                tuple(Session(slot, tuple(items))
                      for slot, items in sorted(slots.items(), key=lambda s: labels.slot_order(s[0]))))
            for date, (number, phase, slots) in sorted(found.items())]
