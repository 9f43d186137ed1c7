"""Strength days on the calendar: never two days running, away from the day before the hard
run where the week allows; dates and run days read strictly."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

import pytest

from hipcoach.errors import ProgrammeError
from hipcoach.programme.layout import (
    day_slots,
    hard_run_day,
    parse_date,
    parse_run_days,
    strength_dates,
    weekday,
)

MONDAY = dt.date(2026, 3, 2)


def test_run_days_are_read_in_week_order_in_any_case_and_spelling():
    assert parse_run_days("sat, Mon,wednesday,mon") == ("mon", "wed", "sat")
    assert parse_run_days("") == ()


@pytest.mark.parametrize("text", ["mon,funday", "m", "1", "mon;wed"])
def test_a_day_that_is_no_day_is_one_error(text):
    with pytest.raises(ProgrammeError, match="not a day"):
        parse_run_days(text)


@pytest.mark.parametrize("text", ["2026-02-30", "2026-3-2", "tomorrow", "", "2026-03-02T10:00"])
def test_a_date_must_be_a_real_yyyy_mm_dd(text):
    with pytest.raises(ProgrammeError, match=r"^start .* not a date"):
        parse_date(text, "start")


def test_the_hard_run_is_the_last_run_day_of_the_week():
    assert hard_run_day(("mon", "wed", "sat")) == "sat"
    assert hard_run_day(()) is None


@pytest.mark.parametrize("start", [MONDAY + dt.timedelta(days=n) for n in range(7)])
@pytest.mark.parametrize("run_days", [(), ("sun",), ("mon", "wed", "sat"), ("tue", "thu", "sat", "sun"),
                                      ("mon", "tue", "wed", "thu", "fri", "sat", "sun")])
@pytest.mark.parametrize("per_week", [(2, 2, 3, 3, 3, 3), (3,) * 6, (1, 3, 1, 3, 1, 3)])
def test_strength_days_are_never_two_days_running(start, run_days, per_week):
    dates = strength_dates(start, 6, lambda w: per_week[w - 1], run_days)
    assert len(dates) == sum(per_week)
    assert all((b - a).days >= 2 for a, b in pairwise(dates))
    for week in range(6):
        first = start + dt.timedelta(days=7 * week)
        inside = [d for d in dates if first <= d < first + dt.timedelta(days=7)]
        assert len(inside) == per_week[week]


def test_strength_days_avoid_the_day_before_the_hard_run_and_run_days():
    dates = strength_dates(MONDAY, 6, lambda w: 3, ("mon", "wed", "sat"))
    days = {weekday(d) for d in dates}
    assert "fri" not in days  # the day before Saturday's hard run
    assert not days & {"mon", "wed", "sat"}  # three rest days fit: tue, thu, sun


def test_the_same_inputs_give_the_same_strength_days():
    one = strength_dates(MONDAY, 6, lambda w: 2, ("tue", "sat"))
    assert one == strength_dates(MONDAY, 6, lambda w: 2, ("tue", "sat"))


def test_a_day_holds_run_blocks_on_run_days_and_strength_on_strength_days():
    slots = ["before_run", "after_run", "strength_days", "daily"]
    assert day_slots(MONDAY, slots, ("mon",), set()) == ["before_run", "after_run", "daily"]
    assert day_slots(MONDAY, slots, ("tue",), {MONDAY}) == ["strength_days", "daily"]
