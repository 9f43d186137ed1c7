"""Properties of any programme under any valid sequence of check-ins: nothing crashes, no day
holds more than the runner's minutes, strength days are never two days running, a red flag
always ends in a referral that ends the programme, and no week ever holds a version making a
movement demand the runner's answers rule out."""

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


def _ruled_out(programme, journal, pain):
    """The demands the candidate rules rule out for the journal's answers at ``pain``."""
    _, derivation = programme.planner.run({**journal["answers"], "pain_level": pain})
    return derivation.ruled_out


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
        ruled_out = set(_ruled_out(programme, journal, pain))
        for move in result["items"]:  # one rung, or past rungs needing what the runner lacks
            way = 1 if move["to"] > move["from"] else -1  # or making a ruled-out demand
            for step in range(move["from"] + way, move["to"], way):
                rung = programme.rungs.rung(move["exercise"], step)
                assert (not set(rung.equipment) <= set(journal["answers"]["equipment"])
                        or set(rung.demands) & ruled_out)
        assert before is not None


#: Answers for the property below, drawn field by field: sites of pain, age and getting up from
#: the floor are what the candidate rules rule demands out on.
answers = st.fixed_dictionaries({
    "knee_pain": st.sampled_from(["none", "front", "outside", "other"]),
    "hip_pain": st.sampled_from(["none", "front", "outside", "back"]),
    "low_back": st.sampled_from(["none", "tight", "pain"]),
    "pain_level": st.integers(0, 5),
    "minutes": st.integers(10, 40),
    "equipment": st.lists(st.sampled_from(["mat", "resistance_band", "foam_roller", "ball",
                                           "table", "doorway"]), unique=True),
    "age": st.integers(16, 80),
    "getting_up_difficulty": st.booleans(),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=answers, checkins=st.lists(st.tuples(
    st.integers(5, 8),  # days since the last check-in
    st.sampled_from([0, 1, 2, 2, 3, 3, 4, 5, 7, 9]),  # pain during: mostly low, so items climb
), min_size=1, max_size=8))
def test_no_week_ever_holds_a_version_making_a_ruled_out_demand(programme, raw, checkins):
    try:
        journal = programme.start(raw, "2026-03-02", 6, ("mon", "wed", "sat"))[1]
    except ProgrammeError:
        return  # answers no programme can be laid for: nothing to progress
    if journal is None:
        return  # a referral
    date, pain = dt.date(2026, 3, 2), journal["answers"]["pain_level"]

    def held() -> list[tuple[str, int]]:
        """The items still to come, not paused, at a version making a demand ruled out at the
        latest pain."""
        out = set(_ruled_out(programme, journal, pain))
        return [(item["exercise"], item["step"]) for week in journal["programme"]
                for day in week["days"] if day["date"] > date.isoformat()
                for item in day["items"] if not item["paused"]
                and set(programme.rungs.rung(item["exercise"], item["step"]).demands) & out]

    assert held() == []
    for gap, pain_during in checkins:
        date += dt.timedelta(days=gap)
        if date > programme.last_day(journal):
            break
        last = journal["checkins"][-1]["date"] if journal["checkins"] else None
        planned = len(programme.planned_dates(journal, last, date.isoformat()))
        journal, result, _ = programme.checkin(journal, Checkin(date.isoformat(), pain_during,
                                                                "same", planned))
        if result["decision"] == "refer":
            break
        pain = pain_during
        assert held() == []
