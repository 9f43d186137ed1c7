"""A programme as a runner reads it (text, Markdown) and as tools read it (JSON): its weeks, a
check-in's decision, and the history of check-ins with the pain trend.

As with plans, text and Markdown speak to the runner: names, doses and reasons in words, no rule
ids (those are in the JSON and the journal). ``describe(exercise, step)`` names an item at its
rung, so these functions need nothing of the knowledge base beyond it and a few labels.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..formats import CheckinResult, Journal, JournalWeek
from .journal import Describe
from .labels import Labels, dated
from .render import render_referral
from .words import lower_first

#: The formats each command offers: ``html`` is the printable handout (:mod:`.handout`), ``ics``
#: the sessions as an iCalendar file for a phone or calendar app (:mod:`.calendar`).
SHOW_FORMATS = ("text", "markdown", "json", "html", "ics")
CHECKIN_FORMATS = ("text", "json")
#: Width of the pain chart's bar for 10/10.
CHART_WIDTH = 20
#: What a day shows for an item the rules leave out at the last check-in's pain.
PAUSED = "left out for now (the pain at the last check-in); a check-in brings it back when it allows"


@dataclass(frozen=True)
class Wording:
    """The words a runner reads: the slot and category labels, the phases (name, focus), the
    decisions and the red flags (the questionnaire's labels)."""

    labels: Labels
    phases: Mapping[str, tuple[str, str]]
    decisions: Mapping[str, str]
    flags: Mapping[str, str] = field(default_factory=dict)


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def render_weeks(journal: Journal, describe: Describe, wording: Wording, fmt: str,
                 week: int | None = None, remind: tuple[int, int] | None = None) -> str:
    """The programme's weeks (or only ``week``) in ``fmt``; ``remind`` (hour, minute) adds a
    reminder at that time to each calendar event."""
    weeks = [w for w in journal["programme"] if week is None or w["week"] == week]
    if fmt == "json":
        return to_json(weeks[0] if week is not None else journal)
    # the handout and the calendar show each week's phase by its name, never its id
    named = [{**w, "phase": wording.phases.get(w["phase"], (w["phase"], ""))[0]} for w in weeks]
    if fmt == "html":
        from .handout import programme_html  # here: jinja2 loads only for a handout

        return programme_html({**journal, "programme": named}, describe, wording.labels)
    if fmt == "ics":
        from .calendar import programme_ics

        return programme_ics({**journal, "programme": named}, describe, wording.labels, remind)
    markdown = fmt == "markdown"
    lines: list[str] = []
    for entry in weeks:
        lines += _week(entry, journal["weeks"], describe, wording, markdown)
    return "\n".join(lines).rstrip("\n") + "\n"


def _week(week: JournalWeek, total: int, describe: Describe, wording: Wording,
          markdown: bool) -> list[str]:
    name, focus = wording.phases.get(week["phase"], (week["phase"], ""))
    title = f"Week {week['week']} of {total}: {name}"
    lines = [f"## {title}" if markdown else title.upper(), ""]
    if focus:
        lines += [focus, ""]
    if not week["days"]:
        return lines + ["Nothing planned: the programme has ended.", ""]
    last_date = None
    for day in week["days"]:
        if day["date"] != last_date:
            last_date = day["date"]
            when = dated(dt.date.fromisoformat(day["date"]))
            lines += [f"### {when}" if markdown else when, ""] if markdown else [when]
        label = wording.labels.slots.get(day["slot"], day["slot"])
        lines.append(f"**{label}**" if markdown else f"  {label}")
        for item in day["items"]:
            named = describe(item["exercise"], item["step"])["name"]
            dose = PAUSED if item["paused"] else item["dose"]
            lines.append(f"- {named}: {dose}" if markdown else f"    * {named}: {dose}")
        if markdown:
            lines.append("")
    return lines + [""]


def render_checkin(result: CheckinResult, describe: Describe, wording: Wording, fmt: str) -> str:
    """A check-in's decision, why, what changes and what to do; a referral reads as a plan's
    referral does (the most urgent action first), nothing else."""
    if fmt == "json":
        return to_json(result)
    if result["decision"] == "refer":
        return render_referral(result)
    decision = result["decision"]
    lines = [f"Decision: {wording.decisions.get(decision, decision)}", "", "Why:"]
    for support in result["because"]:
        who = f"{describe(support['exercise'], _step_of(support))['name']}: " \
            if support["exercise"] else ""
        rationale = support["rationale"]
        lines.append(f"  * {who}{lower_first(rationale) if who else rationale}")
        readings = [_reading(p) for p in support["from"] if "checkin" in p]
        if readings:
            lines.append(f"      (from {'; '.join(readings)})")
    for paused in result["paused"]:
        name = describe(paused["exercise"], paused["step"])["name"]
        lines += [f"  * {name}: {lower_first(why)}" for why in paused["reasons"]]
    moves = result["items"]
    if result["last"]:
        lines += ["", "Where you got to:"]
        lines += [f"  * {describe(m['exercise'], m['from'])['name']}" for m in moves]
        return "\n".join(lines + ["", *result["advice"]]) + "\n"
    if moves or result["paused"] or result["resumed"]:
        lines += ["", "From the next session:"]
    for move in moves:
        before, after = move["from"], move["to"]
        old = describe(move["exercise"], before)["name"]
        new = describe(move["exercise"], after)["name"]
        way = "harder" if after > before else "easier"
        if before == after:
            lines.append(f"  * {old}: stays as it is")
        elif new == old:  # a step of a dose ladder
            lines.append(f"  * {old}: one step {way} (the dose){_skipped(after - before)}")
        else:
            lines.append(f"  * {old} -> {new} (one step {way}{_skipped(after - before)})")
    for paused in result["paused"]:
        name = describe(paused["exercise"], paused["step"])["name"]
        lines.append(f"  * {name}: left out until a check-in's pain allows it again")
    for exercise in result["resumed"]:
        step = next((m["to"] for m in moves if m["exercise"] == exercise), 0)
        lines.append(f"  * {describe(exercise, step)['name']}: back in the programme")
    lines += ["", *result["advice"]]
    return "\n".join(lines) + "\n"


def _skipped(steps: int) -> str:
    """What a move past versions the runner's equipment rules out says about them."""
    count = abs(steps) - 1
    if count == 0:
        return ""
    if count == 1:
        return ", past the version in between, which needs equipment you did not list"
    return f", past {count} versions in between, which need equipment you did not list"


def _step_of(support: Mapping[str, Any]) -> int:
    return next(p["step"] for p in support["from"] if "step" in p)


def _reading(premise: Mapping[str, Any]) -> str:
    """A check-in a decision rests on, in words."""
    sessions = {0: "under a third", 1: "a third or more", 2: "two thirds or more", 3: "all"}
    return (f"check-in of {premise['date']}: pain {premise['pain_during']}/10, "
            f"{premise['next_morning']} the next morning, "
            f"{sessions.get(premise['thirds_done'], '?')} of the sessions done")


def render_history(journal: Journal, wording: Wording, fmt: str) -> str:
    """Every check-in with its decision, and the pain trend as a chart of bars."""
    checkins = journal["checkins"]
    if fmt == "json":
        return to_json({"start": journal["start"], "checkins": checkins,
                        "pain": [{"date": c["date"], "pain_during": c["pain_during"]}
                                 for c in checkins]})
    if not checkins:
        return f"No check-ins yet since the start on {journal['start']}.\n"
    lines = ["CHECK-INS", ""]
    for c in checkins:
        lines.append(f"  {c['date']}  pain {c['pain_during']:>2}/10, {c['next_morning']} the next "
                     f"morning, {c['sessions']} sessions: "
                     f"{wording.decisions.get(c['decision'], c['decision'])}")
        lines += [f"      warning sign: {wording.flags.get(flag, flag)}" for flag in c["red_flags"]]
    lines += ["", "PAIN DURING EXERCISE (0-10; up to 3 is fine, above 5 means ease off)", ""]
    lines += _chart([(c["date"], c["pain_during"]) for c in checkins])
    return "\n".join(lines) + "\n"


def _chart(points: Sequence[tuple[str, int]]) -> list[str]:
    """One bar per check-in, two characters a point, over a scale marking 3 and 5."""
    step = CHART_WIDTH // 10
    rows = [f"  {date}  {pain:>2} |{'#' * (pain * step)}" for date, pain in points]
    scale = [" "] * (CHART_WIDTH + 2)
    for mark in (0, 3, 5, 10):
        for offset, char in enumerate(str(mark)):
            scale[mark * step + offset] = char
    return rows + [f"  {'':10}     +{'-' * CHART_WIDTH}", f"  {'':10}     {''.join(scale).rstrip()}"]
