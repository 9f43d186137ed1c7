"""A programme as the runner reads it: weeks, a check-in's decision, the history and its chart."""

from __future__ import annotations

import json

import pytest

from hipcoach.present.labels import Labels
from hipcoach.present.programme import Wording, render_checkin, render_history, render_weeks
from hipcoach.programme.programme import Checkin

WORDING = Wording(labels=Labels(slots={"strength_days": "Strength days",
                                       "after_run": "After every run"}, categories={}),
                  phases={"control": ("Low load", "Go slowly.")},
                  decisions={"progress": "Move up one step", "hold": "Keep going"})


def describe(exercise, step):
    return {"name": f"{exercise}@{step}", "steps": [], "cautions": [], "category": "strength"}


@pytest.fixture
def journal(programme):
    return programme.start({"knee_pain": "front", "equipment": ["mat", "resistance_band"]},
                           "2026-03-02", 2, ("mon", "wed", "sat"))[1]


def test_text_weeks_name_the_phase_day_slot_item_and_dose(journal):
    text = render_weeks(journal, describe, WORDING, "text", 1)
    assert text.startswith("WEEK 1 OF 2: LOW LOAD\n\nGo slowly.\n")
    assert "Tue 03 Mar 2026\n  Strength days\n    * clamshell@0: 2 × 15 each side (weeks 1-2" in text
    assert "WEEK 2" not in text


def test_markdown_weeks_use_headings(journal):
    text = render_weeks(journal, describe, WORDING, "markdown")
    assert text.startswith("## Week 1 of 2: Low load")
    assert "### Tue 03 Mar 2026" in text and "**Strength days**" in text and "## Week 2 of 2" in text


def test_json_weeks_are_the_journal_or_one_week(journal):
    assert json.loads(render_weeks(journal, describe, WORDING, "json")) == journal
    assert json.loads(render_weeks(journal, describe, WORDING, "json", 2)) == journal["programme"][1]


def test_a_checkin_reads_as_decision_reasons_moves_and_advice(programme, journal):
    result = programme.checkin(journal, Checkin("2026-03-08", 1, "better", 5))[1]
    text = render_checkin(result, describe, WORDING, "text")
    lines = text.splitlines()
    assert lines[0] == "Decision: Move up one step"
    assert "(from check-in of 2026-03-08: pain 1/10, better the next morning, all of the sessions done)" in text
    assert "  * clamshell@0 -> clamshell@1 (one step harder)" in lines
    assert lines[-1] == result["advice"][0]
    assert json.loads(render_checkin(result, describe, WORDING, "json")) == result


def test_history_charts_two_characters_a_point(programme, journal):
    j = programme.checkin(journal, Checkin("2026-03-08", 3, "same", 5))[0]
    j = programme.checkin(j, Checkin("2026-03-12", 10, "same", 2))[0]
    text = render_history(j, WORDING, "text")
    assert "  2026-03-08   3 |######\n" in text
    assert "  2026-03-12  10 |####################\n" in text
    assert text.rstrip().endswith("0     3   5         10")
    assert render_history(journal, WORDING, "text") == "No check-ins yet since the start on 2026-03-02.\n"


def test_a_referral_names_the_warning_sign_and_lists_no_moves(programme, journal):
    result = programme.checkin(journal, Checkin("2026-03-08", 1, "better", 5, ("swelling",)))[1]
    text = render_checkin(result, describe, WORDING, "text")
    assert text.startswith("Stop the programme and see a physiotherapist or doctor\n")
    assert "Swelling in or around a joint" in text and "swelling" not in text.replace("Swelling", "")
    assert "From the next session" not in text and "emergency" not in text
