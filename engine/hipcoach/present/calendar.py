"""The programme as an iCalendar file (RFC 5545) that phones and calendar apps import.

**One all-day event per date** with hip work: a run day's before-run and after-run blocks are
one entry in the day view, not several, and the event lists every slot's exercises in the order
of the day. Written by hand, so the package needs nothing to make it, and byte for byte the same
for the same journal:

- ``UID`` is the date and a digest of the journal's identity (its version, answers and start
  date), not of its check-ins or later weeks: when a check-in changes the weeks ahead, the
  re-exported file updates those days' events instead of adding a second copy of each.
- ``DTSTAMP`` is the start date at midnight UTC rather than the clock's time, which would make
  every export differ.
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


def programme_ics(journal: Mapping[str, Any], describe: Describe, labels: Labels) -> str:
    """The journal's sessions as a calendar: an all-day ``VEVENT`` per date, its ``SUMMARY``
    naming the week, phase and slots, its ``DESCRIPTION`` each slot's exercises with their
    doses."""
    identity = _identity(journal)
    stamp = f"{_compact(day(journal['start']))}T000000Z"
    names: dict[tuple[str, int], str] = {}

    def name(exercise: str, step: int) -> str:
        if (exercise, step) not in names:
            names[exercise, step] = str(describe(exercise, step)["name"])
        return names[exercise, step]

    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:Hip programme"]
    if labels.provenance is not None:  # extension properties: which hipcoach and rules made it
        lines += [f"X-HIPCOACH-VERSION:{escape(labels.provenance.version)}",
                  f"X-HIPCOACH-FINGERPRINT:{labels.provenance.fingerprint}"]
    for entry in days(journal, labels):
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_compact(entry.date)}-{identity}@hipcoach",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{_compact(entry.date)}",
            f"DTEND;VALUE=DATE:{_compact(entry.date + datetime.timedelta(days=1))}",
            f"SUMMARY:{escape(summary(entry, labels))}",
            f"DESCRIPTION:{escape(_description(entry, name, labels))}",
            "TRANSP:TRANSPARENT",  # hip work does not make the day busy
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


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
