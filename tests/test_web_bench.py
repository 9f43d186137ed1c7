"""The web benchmark runs (its figures are printed by `make bench`, never asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import web_bench
import yaml


def test_plan_page_figures_returns_a_rate_and_latencies():
    answers = yaml.safe_load(web_bench.DEMO.read_text(encoding="utf-8"))
    figures = web_bench.plan_page_figures(1, answers, requests=6, clients=2)
    # the figures themselves are the benchmark's to print: tests never judge a time
    assert set(figures) == {"per_second", "median", "p99"}
    assert all(isinstance(v, float) and v > 0 for v in figures.values())
