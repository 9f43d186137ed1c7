"""hipcoach.present.calendar: a programme journal as an iCalendar file (RFC 5545).

The file is read back with the ``icalendar`` package, the parser many calendar tools use, and its
raw bytes are checked for what a parser forgives: CRLF line ends, folding at 75 octets, escaping.
"""

from __future__ import annotations

import copy
import datetime
from typing import Any

import icalendar
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from conftest import EXAMPLES
from hipcoach.present.calendar import escape, fold, programme_ics
from journals import CHECKINS, LABELS, describe_from, journal_from

DESK = yaml.safe_load((EXAMPLES / "desk_runner.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def describe(kb):
    return describe_from(kb)


@pytest.fixture(scope="module")
def journal(planner) -> dict[str, Any]:
    return journal_from(planner.plan(DESK), DESK)


@pytest.fixture(scope="module")
def ics(journal, describe) -> str:
    return programme_ics(journal, describe, LABELS)


def events(text: str) -> list[icalendar.Event]:
    """The sessions' events (not the weekly check-in events)."""
    return [e for e in icalendar.Calendar.from_ical(text).walk("VEVENT")
            if not str(e["UID"]).startswith("checkin-")]


def checkin_events(text: str) -> list[icalendar.Event]:
    return [e for e in icalendar.Calendar.from_ical(text).walk("VEVENT")
            if str(e["UID"]).startswith("checkin-")]


def dates(journal: dict[str, Any]) -> list[str]:
    return sorted({d["date"] for week in journal["programme"] for d in week["days"]})


def test_the_calendar_parses_with_its_required_properties(ics):
    calendar = icalendar.Calendar.from_ical(ics)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"] == "-//hipcoach//hip programme//EN"
    for event in events(ics):
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION"):
            assert prop in event, prop


def test_one_all_day_event_per_date_in_date_order(ics, journal):
    found = events(ics)
    assert [e.decoded("DTSTART").isoformat() for e in found] == dates(journal)
    for event in found:
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert type(start) is datetime.date and end == start + datetime.timedelta(days=1)
        assert event["TRANSP"] == "TRANSPARENT"


def test_an_event_names_the_session_and_lists_exercises_with_doses(ics, journal, describe):
    by_date = {e.decoded("DTSTART").isoformat(): e for e in events(ics)}
    week = journal["programme"][2]
    for date in sorted({d["date"] for d in week["days"]}):
        sessions = [d for d in week["days"] if d["date"] == date]
        event = by_date[date]
        labels = " + ".join(LABELS.slot_label(s["slot"]) for s in sessions)
        assert str(event["SUMMARY"]) == f"Hip work: {labels} (week 3, {week['phase']})"
        expected = []
        for session in sessions:
            expected.append(f"{LABELS.slot_label(session['slot'])}:")
            expected += [f"- {describe(i['exercise'], i['step'])['name']}: {i['dose']}"
                         for i in session["items"]]
        assert str(event["DESCRIPTION"]) == "\n".join(expected)


def test_a_date_listed_twice_is_one_event_with_both_slots(journal, describe):
    twice = copy.deepcopy(journal)
    first = twice["programme"][0]["days"][0]
    twice["programme"][0]["days"].append({**first, "slot": "daily"})
    twice["programme"][0]["days"].insert(0, {**first, "slot": "daily", "items": first["items"][:1]})
    found = events(programme_ics(twice, describe, LABELS))
    assert len(found) == len(dates(journal))
    summary = str(found[0]["SUMMARY"])
    assert summary.startswith("Hip work: Before every run + After every run + Every day (week 1")
    description = str(found[0]["DESCRIPTION"])
    daily = description[description.index("Every day:"):]
    assert daily.count("\n- ") == len(first["items"]) + 1  # both entries' items, merged


def test_lines_end_in_crlf_and_fold_at_75_octets(ics):
    assert ics.endswith("END:VCALENDAR\r\n")
    assert ics.count("\n") == ics.count("\r\n") and "\r\r" not in ics
    lines = ics.split("\r\n")[:-1]
    assert max(len(line.encode("utf-8")) for line in lines) <= 75
    assert any(line.startswith(" ") for line in lines), "guards the test: some line is folded"
    assert any(len(line.encode("utf-8")) == 75 for line in lines)


def test_the_same_journal_gives_the_same_bytes(journal, describe, ics):
    assert programme_ics(copy.deepcopy(journal), describe, LABELS) == ics
    first = events(ics)[0]
    assert first["DTSTAMP"].to_ical() == b"20260105T000000Z"  # the start date, not the clock


def test_uids_are_stable_across_check_ins_and_unique_per_date(journal, describe, ics):
    uids = [str(e["UID"]) for e in events(ics)]
    assert len(set(uids)) == len(uids)
    assert all(uid.startswith(date.replace("-", "")) for uid, date in zip(uids, dates(journal)))
    # a later check-in, or a change to the weeks ahead, updates those events rather than adding more
    later = copy.deepcopy(journal)
    later["checkins"] = CHECKINS + [{**CHECKINS[0], "date": "2026-01-25", "decision": "ease off"}]
    later["programme"][5]["phase"] = "Ease off"
    assert [str(e["UID"]) for e in events(programme_ics(later, describe, LABELS))] == uids
    # another runner's programme, or a restart, is another calendar
    other = {**journal, "answers": {**journal["answers"], "minutes": 10}}
    assert not set(uids) & {str(e["UID"]) for e in events(programme_ics(other, describe, LABELS))}
    restarted = {**journal, "start": "2026-03-02"}
    assert not set(uids) & {str(e["UID"]) for e in events(programme_ics(restarted, describe, LABELS))}


def test_text_values_are_escaped_and_read_back_whole(journal, describe):
    tricky = 'Back\\slash; semi, comma\nnew line\r\nand CRLF – dash × times "quotes" <b>'
    hostile = copy.deepcopy(journal)
    hostile["programme"][0]["phase"] = tricky
    hostile["programme"][0]["days"][0]["items"][0]["dose"] = tricky

    def named(exercise: str, step: int) -> dict[str, Any]:
        return {**describe(exercise, step), "name": tricky}

    text = programme_ics(hostile, named, LABELS)
    event = events(text)[0]
    read_back = tricky.replace("\r\n", "\n")
    assert read_back in str(event["SUMMARY"])
    assert f"- {read_back}: {read_back}" in str(event["DESCRIPTION"])
    assert "SUMMARY:Hip work: Before every run + After every run (week 1\\, Back\\\\slash\\; semi\\, comma\\nnew" \
        in text.replace("\r\n ", "")


def test_escape_follows_rfc_5545():
    assert escape("a,b;c\\d\ne\r\nf\rg") == "a\\,b\\;c\\\\d\\ne\\nf\\ng"
    assert escape("tab\tstays, bell\x07 goes") == "tab\tstays\\, bell goes"


@given(st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=400))
def test_folding_keeps_every_line_within_75_octets_and_every_character_whole(text):
    line = "DESCRIPTION:" + text
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode("utf-8")) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert "".join([parts[0]] + [part[1:] for part in parts[1:]]) == line


def test_folding_never_splits_a_multibyte_character():
    line = "SUMMARY:" + "×" * 60  # two octets each: a split would fall inside one
    parts = fold(line).split("\r\n")
    assert len(parts) > 1
    for part in parts:
        part.encode("utf-8").decode("utf-8")
        assert len(part.encode("utf-8")) <= 75


def _by_date(text: str) -> dict[str, icalendar.Event]:
    return {e.decoded("DTSTART").isoformat(): e for e in events(text)}


def test_a_check_in_that_changes_an_event_raises_its_sequence_and_stamp(programme):
    from hipcoach.programme.programme import Checkin

    runner = {"knee_pain": "front", "pain_level": 3, "equipment": ["mat", "resistance_band"],
              "minutes": 25}
    journal = programme.start(runner, "2026-03-02", 6, ("mon", "wed", "sat"))[1]
    before = _by_date(programme_ics(journal, programme.describe, LABELS))
    assert {int(e["SEQUENCE"]) for e in before.values()} == {0}
    planned = len(programme.planned_dates(journal, None, "2026-03-08"))
    moved = programme.checkin(journal, Checkin("2026-03-08", 2, "same", planned))[0]
    assert moved["checkins"][-1]["changed"] is True
    text = programme_ics(moved, programme.describe, LABELS)
    assert text == programme_ics(copy.deepcopy(moved), programme.describe, LABELS)  # no clock
    after = _by_date(text)
    for date, event in after.items():
        if date > "2026-03-08":
            assert int(event["SEQUENCE"]) == 1 and event["DTSTAMP"].to_ical() == b"20260308T000000Z"
            assert event["UID"] == before[date]["UID"]
        else:
            assert event.to_ical() == before[date].to_ical()
    planned = len(programme.planned_dates(moved, "2026-03-08", "2026-03-15"))
    held = programme.checkin(moved, Checkin("2026-03-15", 4, "same", planned))[0]
    assert held["checkins"][-1]["changed"] is False  # a hold changes no event
    assert _by_date(programme_ics(held, programme.describe, LABELS)).keys() == after.keys()
    assert all(e["SEQUENCE"] == after[d]["SEQUENCE"]
               for d, e in _by_date(programme_ics(held, programme.describe, LABELS)).items())


def test_each_week_ends_with_a_check_in_event_and_reminders_are_optional(journal, describe):
    plain = programme_ics(journal, describe, LABELS)
    assert "VALARM" not in plain
    found = checkin_events(plain)
    assert [e.decoded("DTSTART").isoformat() for e in found] == [
        (datetime.date(2026, 1, 4) + datetime.timedelta(weeks=w)).isoformat() for w in range(1, 7)]
    assert "hipcoach programme checkin" in str(found[0]["DESCRIPTION"])
    reminded = icalendar.Calendar.from_ical(programme_ics(journal, describe, LABELS, (18, 5)))
    for event in reminded.walk("VEVENT"):
        (alarm,) = event.walk("VALARM")
        assert alarm["ACTION"] == "DISPLAY"
        assert alarm.decoded("TRIGGER") == datetime.timedelta(hours=18, minutes=5)
