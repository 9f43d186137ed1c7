"""Benchmark of a programme check-in: the median wall time of one in-process check-in (checking
it against the journal, the progress rules in durable_rules, moving the remaining weeks' items
and re-checking every day's minutes), on a six-week programme for the demo runner. Writing the
journal is left out: it is file I/O, not reasoning. Asserts nothing (tests never time things).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from hipcoach.kb.answers import read_answers
from hipcoach.programme.programme import Checkin, Programme

DEMO = Path(__file__).resolve().parent.parent / "examples" / "desk_runner.yaml"
#: Timed check-ins; the first few warm the ruleset's memo of facts and matches.
ROUNDS, WARM_UP = 200, 10


def checkin_seconds(rounds: int = ROUNDS) -> float:
    """The median wall time, in seconds, of one check-in after a week of a new programme."""
    programme = Programme()
    journal = programme.start(dict(read_answers(DEMO)), "2026-03-02", 6, ("mon", "wed", "sat"))[1]
    assert journal is not None  # the demo runner has no red flag
    report = Checkin("2026-03-08", 2, "same", len(programme.planned_dates(journal, None, "2026-03-08")))
    for _ in range(WARM_UP):
        programme.checkin(journal, report)
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        programme.checkin(journal, report)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


if __name__ == "__main__":
    print(f"one check-in: {checkin_seconds() * 1000:.2f} ms (median of {ROUNDS})")
