"""Properties of any programme under any valid sequence of check-ins: nothing crashes, no day
holds more than the runner's minutes, strength days are never two days running, and a red flag
always ends in a referral that ends the programme."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hipcoach.errors import ProgrammeError
from hipcoach.programme.programme import Checkin

RUNNERS = [
    {"knee_pain": "front", "low_back": "tight", "pain_level": 3, "squat_difficulty": True,
     "equipment": ["mat", "resistance_band"], "minutes": 25},
    {"hip_pain": "outside", "knee_pain": "outside", "pain_level": 4, "equipment": [], "minutes": 10},
    {"low_back": "tight", "sitting_hours": 10, "weekly_km": 0, "equipment": ["foam_roller"],
     "minutes": 8},
    {"getting_up_difficulty": True, "age": 70, "equipment": ["resistance_band", "ball"], "minutes": 40},
]
RUN_DAYS = [("mon", "wed", "sat"), ("tue", "thu", "sun"), ("sat",), ("mon", "tue", "wed", "thu", "fri")]
FLAGS = ["swelling", "night_or_rest_pain", "bladder_or_bowel_change"]

reports = st.lists(st.tuples(
    st.integers(1, 14),  # days since the last check-in
    st.integers(0, 10),  # pain during
    st.sampled_from(["better", "same", "worse"]),
    st.floats(0, 1),  # share of the planned sessions done
    st.one_of(st.just([]), st.just([]), st.lists(st.sampled_from(FLAGS), min_size=1, max_size=2,
                                                 unique=True)),
), min_size=1, max_size=8)


def _strength_dates(journal):
    return sorted({day["date"] for week in journal["programme"] for day in week["days"]
                   if day["slot"] == "strength_days"})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runner=st.sampled_from(RUNNERS), run_days=st.sampled_from(RUN_DAYS),
       start=st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)), weeks=st.integers(1, 8),
       sequence=reports)
def test_any_valid_checkins_keep_the_programme_sound(programme, runner, run_days, start, weeks,
                                                      sequence):
    journal = programme.start(runner, start.isoformat(), weeks, run_days)[1]
    assert journal is not None
    strength = _strength_dates(journal)
    budget = journal["answers"]["minutes"]
    date = start
    for gap, pain, morning, share, flags in sequence:
        date += dt.timedelta(days=gap)
        last = journal["checkins"][-1]["date"] if journal["checkins"] else None
        planned = len(programme.planned_dates(journal, last, date.isoformat()))
        report = Checkin(date.isoformat(), pain, morning, round(share * planned), tuple(flags))
        if date > programme.last_day(journal):
            with pytest.raises(ProgrammeError, match="start the next programme"):
                programme.checkin(journal, report)
            break
        before = [day for week in journal["programme"] for day in week["days"]]
        journal, result, _ = programme.checkin(journal, report)
        days = [day for week in journal["programme"] for day in week["days"]]
        assert max(programme.day_minutes(days).values(), default=0) <= budget + 1e-9
        now = _strength_dates(journal)
        assert now == [d for d in strength if d in now]  # a check-in never adds a strength day
        assert all((dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days >= 2
                   for a, b in pairwise(now))
        if flags:
            assert result["decision"] == "refer"
            assert all(day["date"] <= date.isoformat() for day in days)
        if result["decision"] == "refer":
            break
        for move in result["items"]:  # one rung, or past rungs needing what the runner lacks
            way = 1 if move["to"] > move["from"] else -1
            for step in range(move["from"] + way, move["to"], way):
                rung = programme.rungs.rung(move["exercise"], step)
                assert not set(rung.equipment) <= set(journal["answers"]["equipment"])
        assert before is not None
