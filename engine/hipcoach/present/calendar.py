"""The programme as an iCalendar file (RFC 5545) that phones and calendar apps import.

**One all-day event per date** with hip work: a run day's before-run and after-run blocks are
one entry in the day view, not several, and the event lists every slot's exercises in the order
of the day. Written by hand, so the package needs nothing to make it, and byte for byte the same
for the same journal:

- ``UID`` is the date and a digest of the journal's identity (its version, answers and start
  date), not of its check-ins or later weeks: when a check-in changes the weeks ahead, the
  re-exported file updates those days' events instead of adding a second copy of each.
- ``SEQUENCE`` counts the check-ins (and re-plans) before the event's day that changed the
  days after them, and ``DTSTAMP`` is the date of the latest of them (the start date before
  any), at midnight UTC: both come from the journal, never the clock, so the same journal gives
  the same file, and an event a check-in changed carries a higher ``SEQUENCE`` and a later
  ``DTSTAMP``, which is what calendar apps need to take the update.
- Each week ends with an all-day check-in event, and ``remind`` (hour, minute) adds a
  ``VALARM`` at that time of the event's day to every event.
- Lines end in CRLF and are folded at 75 octets (never inside a UTF-8 character); text values
  escape backslash, ``;``, ``,`` and newlines.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from .journal import Day, Describe, days
from .labels import Labels, day

PRODID = "-//hipcoach//hip programme//EN"
LINE_OCTETS = 75
#: Control characters TEXT may not hold (RFC 5545 3.3.11 allows none but the tab).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def programme_ics(journal: Mapping[str, Any], describe: Describe, labels: Labels,
                  remind: tuple[int, int] | None = None) -> str:
    """The journal's sessions as a calendar: an all-day ``VEVENT`` per date, its ``SUMMARY``
    naming the week, phase and slots, its ``DESCRIPTION`` each slot's exercises with their
    doses; a check-in event at the end of each week; a reminder on each at ``remind``."""
    identity = _identity(journal)
    changes = sorted([c["date"] for c in journal.get("checkins", []) if c.get("changed")] +
                     [r["date"] for r in journal.get("replans", [])])
    names: dict[tuple[str, int], str] = {}

    def name(exercise: str, step: int) -> str:
        if (exercise, step) not in names:
            names[exercise, step] = str(describe(exercise, step)["name"])
        return names[exercise, step]

    def stamped(date: datetime.date) -> list[str]:
        before = [c for c in changes if c < date.isoformat()]
        stamp = day(before[-1]) if before else day(journal["start"])
        return [f"DTSTAMP:{_compact(stamp)}T000000Z", f"SEQUENCE:{len(before)}"]

    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:Hip programme"]
    if labels.provenance is not None:  # extension properties: which hipcoach and rules made it
        lines += [f"X-HIPCOACH-VERSION:{escape(labels.provenance.version)}",
                  f"X-HIPCOACH-FINGERPRINT:{labels.provenance.fingerprint}"]
    events: list[tuple[datetime.date, int, list[str]]] = []
    for entry in days(journal, labels):
        events.append((entry.date, 0, [
            f"UID:{_compact(entry.date)}-{identity}@hipcoach",
            *stamped(entry.date),
            *_all_day(entry.date),
            f"SUMMARY:{escape(summary(entry, labels))}",
            f"DESCRIPTION:{escape(_description(entry, name, labels))}",
            "TRANSP:TRANSPARENT",  # hip work does not make the day busy
        ]))
    for week, date in _checkin_days(journal):
        events.append((date, 1, [
            f"UID:checkin-{_compact(date)}-{identity}@hipcoach",
            f"DTSTAMP:{_compact(day(journal['start']))}T000000Z", "SEQUENCE:0",
            *_all_day(date),
            f"SUMMARY:{escape(f'Hip programme: check in (end of week {week})')}",
            f"DESCRIPTION:{escape(CHECKIN_HOWTO)}",
            "TRANSP:TRANSPARENT",
        ]))
    for _, _, event in sorted(events, key=lambda e: (e[0], e[1])):
        lines += ["BEGIN:VEVENT", *event, *_alarm(remind), "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


#: What a check-in event tells the runner to do.
CHECKIN_HOWTO = ("How did the hip work go this week? Check in: hipcoach programme checkin "
                 "JOURNAL --pain-during 0-10 --next-morning better|same|worse --sessions N "
                 "(add --red-flag ID for any warning sign).")


def _checkin_days(journal: Mapping[str, Any]) -> list[tuple[int, datetime.date]]:
    """The last day of each week shown, while the programme goes on (not after a referral)."""
    start = day(journal["start"])
    checkins = journal.get("checkins", [])
    ended = checkins[-1]["date"] if checkins and checkins[-1]["decision"] == "refer" else None
    found = []
    for week in journal["programme"]:
        date = start + datetime.timedelta(weeks=week["week"], days=-1)
        if ended is None or date.isoformat() <= ended:
            found.append((int(week["week"]), date))
    return found


def _all_day(date: datetime.date) -> list[str]:
    return [f"DTSTART;VALUE=DATE:{_compact(date)}",
            f"DTEND;VALUE=DATE:{_compact(date + datetime.timedelta(days=1))}"]


def _alarm(remind: tuple[int, int] | None) -> list[str]:
    """A reminder at ``remind`` (hour, minute) of the event's day: an all-day event starts at
    midnight, so the trigger is that long after its start."""
    if remind is None:
        return []
    hour, minute = remind
    return ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Hip programme",
            f"TRIGGER;RELATED=START:PT{hour}H{minute}M", "END:VALARM"]


def parse_remind(text: str) -> tuple[int, int]:
    """``HH:MM`` (24-hour) as (hour, minute); anything else is a ValueError saying what to
    write."""
    hour, sep, minute = text.partition(":")
    if sep and hour.isdigit() and minute.isdigit() and len(minute) == 2 and len(hour) <= 2 \
            and int(hour) < 24 and int(minute) < 60:
        return int(hour), int(minute)
    raise ValueError("write a time of day as HH:MM, such as 07:30")


def summary(entry: Day, labels: Labels) -> str:
    """"Hip work: Before every run + After every run (week 2, Build)": what the day holds
    first, since a phone shows only the start of a title."""
    slots = " + ".join(labels.slot_label(s.slot) for s in entry.sessions)
    return f"Hip work: {slots} (week {entry.week}, {entry.phase})"


def _description(entry: Day, name: Callable[[str, int], str], labels: Labels) -> str:
    parts = []
    for session in entry.sessions:
        parts.append(f"{labels.slot_label(session.slot)}:")
        parts += [f"- {name(str(i['exercise']), int(i['step']))}: {i['dose']}"
                  for i in session.items]
    return "\n".join(parts)


def _identity(journal: Mapping[str, Any]) -> str:
    """A digest of what makes a journal this runner's programme, and not its progress."""
    key = {"version": journal.get("version"), "answers": journal.get("answers"),
           "start": journal["start"]}
    text = json.dumps(key, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _compact(date: datetime.date) -> str:
    return f"{date.year:04d}{date.month:02d}{date.day:02d}"


def escape(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, each line break
    as ``\\n``, other control characters dropped."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return _CONTROL.sub("", text)


def fold(line: str) -> str:
    """``line`` folded (RFC 5545 3.1): at most 75 octets a line, each continuation starting with
    a space, and never splitting a UTF-8 character."""
    data = line.encode("utf-8")
    parts: list[str] = []
    start, limit = 0, LINE_OCTETS
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a continuation byte: back up to the character's start
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        start, limit = end, LINE_OCTETS - 1  # the leading space counts
    parts.append(data[start:].decode("utf-8"))
    return "\r\n ".join(parts)
