"""The check-in benchmark runs (its figure is printed by `python benchmarks/programme_bench.py`,
never asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import programme_bench


def test_checkin_seconds_returns_a_wall_time():
    # the figure itself is the benchmark's to print: tests never judge a time
    assert isinstance(programme_bench.checkin_seconds(rounds=3), float)
