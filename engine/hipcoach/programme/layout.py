"""Laying a plan on a calendar: which days are strength days, and what each day holds.

Strength work needs a day's recovery, so strength days are never two days running, across the
end of a week too. Where the week allows, they also avoid the day before the hard run (the last
run day of the week: a long or fast run usually closes the running week) and run days, in that
order. Warm-up and cool-down blocks go on run days, the daily block on every day. Everything
is deterministic: the same plan, start and run days give the same calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from itertools import combinations, pairwise

from ..errors import ProgrammeError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The plan's slots (``rules/plan.yaml``) a calendar treats specially: the run blocks go on run
#: days, strength on strength days; any other slot is done every day.
RUN_SLOTS = ("before_run", "after_run")
STRENGTH_SLOT = "strength_days"
#: What a strength day costs, by what else is on it: the day before the hard run most, the hard
#: run itself next, any other run day a little (strength suits easy-run and rest days).
_BEFORE_HARD, _HARD, _RUN = 4, 2, 1


def parse_date(text: str, field: str) -> dt.date:
    """A ``YYYY-MM-DD`` date, or a one-line error naming the ``field`` it was given for."""
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else _bad_date(text, field)
    except ValueError:
        return _bad_date(text, field)


def _bad_date(text: str, field: str) -> dt.date:
    raise ProgrammeError("not a date: write YYYY-MM-DD, such as 2026-03-02", field, text)


_DAY_NAMES = dict(zip(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                       "sunday"), WEEKDAYS))


def parse_run_days(text: str) -> tuple[str, ...]:
    """``"mon,wed,sat"`` (or full day names, any case, repeats ignored) as weekday ids in week
    order; an empty text is no run days."""
    days = set()
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        day = part if part in WEEKDAYS else _DAY_NAMES.get(part)
        if day is None:
            raise ProgrammeError("not a day; write days such as mon,wed,sat", "run_days",
                                 part)
        days.add(day)
    return tuple(day for day in WEEKDAYS if day in days)


def weekday(date: dt.date) -> str:
    return WEEKDAYS[date.weekday()]


def hard_run_day(run_days: Sequence[str]) -> str | None:
    """The last run day of the week (Monday first), taken as the week's hard run."""
    return run_days[-1] if run_days else None


def strength_dates(start: dt.date, weeks: int, per_week: Callable[[int], int],
                   run_days: Sequence[str]) -> list[dt.date]:
    """The strength days of every week (week 1 starts on ``start``), ``per_week(week)`` of them,
    never two days running."""
    hard = hard_run_day(run_days)
    before_hard = WEEKDAYS[(WEEKDAYS.index(hard) - 1) % 7] if hard else None

    def cost(date: dt.date) -> int:
        day = weekday(date)
        return (_BEFORE_HARD if day == before_hard else 0) + (_HARD if day == hard else 0) + \
            (_RUN if day in run_days else 0)

    chosen: list[dt.date] = []
    for week in range(1, weeks + 1):
        days = [start + dt.timedelta(days=7 * (week - 1) + offset) for offset in range(7)]
        wanted = per_week(week)
        best: tuple[tuple[int, int, list[dt.date]], tuple[dt.date, ...]] | None = None
        for picked in combinations(days, wanted):
            dates = list(chosen[-1:]) + list(picked)
            gaps = [(b - a).days for a, b in pairwise(dates)]
            if any(gap < 2 for gap in gaps):
                continue
            inner = [(b - a).days for a, b in pairwise(picked)]
            key = (sum(map(cost, picked)), -min(inner, default=7), list(picked))
            if best is None or key < best[0]:
                best = (key, picked)
        if best is None:  # per_week is at most 3: some choice always fits a week of seven days
            raise ProgrammeError(f"cannot fit {wanted} strength days into week {week} without "
                                 "two days running")
        chosen.extend(best[1])
    return chosen


def day_slots(date: dt.date, slots: Iterable[str], run_days: Sequence[str],
              strength: set[dt.date]) -> list[str]:
    """The plan's slots that ``date`` holds, in the plan's order."""
    held = []
    for slot in slots:
        if slot in RUN_SLOTS:
            if weekday(date) in run_days:
                held.append(slot)
        elif slot == STRENGTH_SLOT:
            if date in strength:
                held.append(slot)
        else:
            held.append(slot)
    return held
