"""Benchmarks: prints figures and ratios; asserts nothing (tests never time things).

* CLI start-up: wall time of `hipcoach plan` on the demo answers next to `python -c pass`, both
  from a normal (non-editable) install of this tree in a throw-away virtual environment (an
  editable install adds its own import hook to every start, `python -c pass` included).
* Engine: plans per second in one process, for the demo runner and for a spread of runners,
  without and with rule tracing (the cost of capturing every firing), next to the figures from
  before the adapter drove durable_rules' C engine directly (``BEFORE``) and to that former
  path through durable_rules' host measured in the same run (``tests/host_reference.py``).
* A programme check-in in process (the progress rules and moving the remaining weeks' items).
* `hipcoach serve`: the plan page over loopback with 20 concurrent clients, 1 and 2 workers:
  pages per second, median and 99th-percentile latency, next to plans per second in process
  (``web_bench.py``).
* Batch scoring, each survey scored by `hipcoach score` in a child process, with --jobs 1,
  --jobs 2 and --dask local (a local Dask cluster of one worker per core, its start included):
  rows per second and the ratio of the wall time to the I/O floor (a pandas read of
  the same CSV plus a write of a plans.csv-sized table). A *varied* survey of 100,000 rows
  (nearly every respondent a profile of their own) next to its rows per second before scoring
  by codes (``VARIED_BEFORE``); a *club-like* one of 100,000 rows repeating 500 answer sets (with
  their own ids and ages); peak memory at 50,000 and 100,000 rows, to show it stays flat; and
  10,000 rows of independent random answers, the worst case.
* Last, each goal of the speed work next to this run's figure: met, or missed and by how much.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from dask_bench import dask_local_seconds
from programme_bench import checkin_seconds
from web_bench import report as web_report

if TYPE_CHECKING:
    from hipcoach import Planner

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "desk_runner.yaml"
HIPCOACH = Path(sys.executable).parent / "hipcoach"
#: Plans per second in process before the adapter drove durable_rules' C engine directly (one
#: fact per call through durable_rules' host, commit e94e320), measured on the development
#: machine (2 cores, Python 3.11) with this script's engine section, medians of six runs.
BEFORE = {"demo": 295.0, "mixed": 417.0, "traced": 398.0}
#: Rows per second of `hipcoach score` on the varied 100,000-row survey before that, same machine.
VARIED_BEFORE = 380.0


def wall(command: list[str], repeat: int = 7) -> float:
    """Median wall-clock seconds of ``command`` over ``repeat`` runs (one warm-up run first)."""
    subprocess.run(command, check=True, capture_output=True)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plans_per_second(run, answers: list[dict], seconds: float = 2.0) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        run(answers[count % len(answers)])
        count += 1
    return count / (time.perf_counter() - start)


HEADER = ["respondent_id", "age", "weekly_km", "sitting_hours", "knee_pain", "hip_pain",
          "low_back", "pain_level", "squat_difficulty", "getting_up_difficulty",
          "strength_sessions_per_week", "mobility_sessions_per_week", "recent_load_increase",
          "red_flags", "equipment", "minutes"]
#: Equipment as runners report it: a few common kits, not arbitrary subsets.
KITS = [("", 30), ("foam_roller", 20), ("foam_roller;mat", 20), ("mat", 10),
        ("resistance_band;mat", 8), ("foam_roller;resistance_band;mat;ball", 7), ("ball;doorway", 5)]


def pick(rng: random.Random, options: list[tuple[object, int]]) -> object:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


def club_row(rng: random.Random, n: int) -> list[object]:
    """One respondent of a club survey: form buckets for numbers, most runners pain-free, one
    main complaint for the rest, equipment from common kits."""
    knee, hip, back, pain = "none", "none", pick(rng, [("none", 75), ("tight", 25)]), 0
    if rng.random() < 0.4:
        complaint = pick(rng, [("knee_front", 35), ("knee_outside", 20), ("back", 25), ("hip", 20)])
        pain = pick(rng, [(3, 30), (4, 30), (5, 25), (6, 15)])
        if complaint == "knee_front":
            knee = "front"
        elif complaint == "knee_outside":
            knee = "outside"
        elif complaint == "back":
            back = pick(rng, [("tight", 60), ("pain", 40)])
        else:
            hip = pick(rng, [("front", 50), ("outside", 35), ("back", 15)])
    return [f"resp-{n:06d}", rng.randint(18, 70), pick(rng, [(10, 20), (20, 35), (30, 25), (50, 15), (70, 5)]),
            pick(rng, [(2, 25), (5, 30), (7, 30), (10, 15)]), knee, hip, back, pain,
            pick(rng, [("yes", 15), ("no", 85)]), pick(rng, [("yes", 5), ("no", 95)]),
            pick(rng, [(0, 60), (1, 25), (2, 15)]), pick(rng, [(0, 70), (1, 30)]),
            pick(rng, [("yes", 20), ("no", 80)]), "swelling" if rng.random() < 0.02 else "",
            pick(rng, KITS), pick(rng, [(10, 25), (15, 35), (20, 30), (30, 10)])]


def random_row(rng: random.Random, n: int) -> list[object]:
    """A respondent with every answer drawn independently: the worst case for de-duplication."""
    equipment = ["foam_roller", "resistance_band", "ball", "table", "doorway", "mat"]
    return [f"resp-{n:06d}", rng.randint(18, 70), rng.randint(0, 80), rng.randint(0, 12),
            rng.choice(["none", "front", "outside", "other"]),
            rng.choice(["none", "front", "outside", "back"]), rng.choice(["none", "tight", "pain"]),
            rng.randint(0, 7), rng.choice(["yes", "no"]), rng.choice(["yes", "no"]),
            rng.randint(0, 3), rng.randint(0, 3), rng.choice(["yes", "no"]), "",
            ";".join(e for e in equipment if rng.random() < 0.4), rng.randint(5, 40)]


def make_survey(path: Path, rows: int, row=club_row, seed: int = 7, distinct: int = 0) -> None:
    """A plain-layout export of ``rows`` generated respondents; with ``distinct``, every
    respondent repeats one of that many answer sets (with their own id and age)."""
    rng = random.Random(seed)
    pool = [row(rng, n) for n in range(distinct)]
    with open(path, "w", newline="", encoding="utf-8") as stream:
        out = csv.writer(stream)
        out.writerow(HEADER)
        for n in range(rows):
            cells = list(rng.choice(pool)) if pool else row(rng, n)
            cells[0], cells[1] = f"resp-{n:06d}", rng.randint(18, 70)
            out.writerow(cells)


def io_floor(path: Path, rows: int) -> float:
    """Seconds for pandas to read ``path`` and write a plans.csv-sized table."""
    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    table = pd.DataFrame({"respondent_id": frame["respondent_id"], "status": "plan",
                          "referral_reasons": "", "symptoms": "runners_knee;low_back",
                          "causes": "weak_glutes:0.692;tight_hip_flexors:0.64;overuse:0.4",
                          "exercises": "toy_soldiers;ninety_ninety_stretch;foam_roll_glutes;"
                                       "side_plank;glute_bridge;lunge_hip_rotations",
                          "total_minutes": 17.5, "balanced": "true"})
    with tempfile.TemporaryDirectory() as folder:
        table.to_csv(Path(folder) / "plans.csv", index=False)
    assert len(table) == rows
    return time.perf_counter() - start


def score_child(path: Path, out: Path, *extra: str) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of `hipcoach score` in its own process."""
    command = [str(HIPCOACH), "score", str(path), "-o", str(out), "-q", *extra]
    start = time.perf_counter()
    # a fresh interpreter per measurement, so ru_maxrss of children is this run's peak
    probe = subprocess.run([sys.executable, "-c", (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"), *command],
        check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    return seconds, int(probe.stdout.strip()) / 1024


def rate(rows: int, seconds: float, floor: float) -> str:
    return f"{seconds:7.2f} s {rows / seconds:9.0f} rows/s ({seconds / floor:6.1f}x the I/O floor)"


def bench_scoring(goals: dict[str, float]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        varied, half, club = base / "varied_100k.csv", base / "varied_50k.csv", base / "club_100k.csv"
        worst = base / "random_10k.csv"
        make_survey(varied, 100_000)
        make_survey(half, 50_000)
        make_survey(club, 100_000, distinct=500)
        make_survey(worst, 10_000, random_row)
        floor = min(io_floor(varied, 100_000) for _ in range(3))
        print(f"pandas read + plans.csv write of 100,000 rows (the I/O floor) {floor:.2f} s")
        for name, survey in (("varied", varied), ("club-like", club)):
            one, peak = score_child(survey, base / f"{name}1")
            two, _ = score_child(survey, base / f"{name}2", "--jobs", "2")
            on_dask = dask_local_seconds(survey, base / f"{name}dask")
            summary = json.loads((base / f"{name}1" / "summary.json").read_text())
            print(f"{name} survey: 100,000 rows, {summary['distinct_profiles']:,} distinct profiles, "
                  f"peak {peak:.0f} MiB")
            print(f"  --jobs 1  {rate(100_000, one, floor)}")
            print(f"  --jobs 2  {rate(100_000, two, floor)}   ({one / two:.2f}x --jobs 1)")
            print(f"  --dask local (2 workers, cluster start-up included) {rate(100_000, on_dask, floor)}"
                  f"   ({one / on_dask:.2f}x --jobs 1)")
            goals[f"{name} rows/s --jobs 2"] = 100_000 / two
            goals[f"{name} --jobs 2 speed-up"] = one / two
            if name == "varied":
                print(f"  --jobs 2 against {VARIED_BEFORE:.0f} rows/s before scoring by codes: "
                      f"{100_000 / two / VARIED_BEFORE:.1f}x")
                _, peak_half = score_child(half, base / "half")
                print(f"  peak memory {peak:.0f} MiB at 100k rows, {peak_half:.0f} MiB at 50k rows "
                      f"({peak / peak_half:.2f}x for 2x the rows)")
        worst_one, _ = score_child(worst, base / "worst1")
        worst_two, _ = score_child(worst, base / "worst2", "--jobs", "2")
        print(f"worst case, 10,000 rows of independent random answers: {10_000 / worst_one:.0f} "
              f"rows/s, --jobs 2: {10_000 / worst_two:.0f} rows/s")


def normal_install(folder: Path) -> Path:
    """A throw-away virtual environment with hipcoach installed from this tree the normal way
    (a wheel, not editable), finding its dependencies in this one; returns its python."""
    source, env = folder / "source", folder / "env"
    for name in ("engine", "rules", "knowledge"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip",
                    str(env)], check=True)
    python = env / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--ignore-installed", "--prefix", str(env), str(source)], check=True,
                   capture_output=True)
    return python


def host_path_figures(planner: Planner, demo: dict, spread: list[dict]) -> dict[str, float]:
    """The same figures through durable_rules' host, one fact per call (the former adapter's
    path), in this run: the fairest ratio on a busy machine. It shares today's collector and
    malloc settings, so it runs faster than ``BEFORE``."""
    from hipcoach.reasoning.durable import adapter

    sys.path.insert(0, str(ROOT / "tests"))
    from host_reference import HostSession

    direct = adapter.Session
    adapter.Session = HostSession  # type: ignore[misc, assignment]
    try:
        return {"demo": plans_per_second(planner.plan, [demo]),
                "mixed": plans_per_second(planner.plan, spread),
                "traced": plans_per_second(planner.trace, spread)}
    finally:
        adapter.Session = direct  # type: ignore[misc]


def main() -> None:
    from hipcoach import Planner, read_answers

    with tempfile.TemporaryDirectory() as folder:
        installed = normal_install(Path(folder))
        python = wall([str(installed), "-c", "pass"], repeat=15)
        cli = wall([str(installed), str(installed.parent / "hipcoach"), "plan", str(DEMO)], repeat=15)
    print("start-up, from a normal install:")
    print(f"python -c pass            {python * 1000:8.1f} ms")
    print(f"hipcoach plan demo        {cli * 1000:8.1f} ms   ({cli / python:.1f}x python)")
    goals = {"start-up": cli / python}

    start = time.perf_counter()
    planner = Planner()
    print(f"load + compile + register {(time.perf_counter() - start) * 1000:8.1f} ms")
    demo = dict(read_answers(DEMO))
    spread = [demo, {**demo, "knee_pain": "outside", "equipment": []},
              {**demo, "low_back": "none", "minutes": 10}, {"red_flags": ["swelling"]}, {}]
    now = {"demo": plans_per_second(planner.plan, [demo]),
           "mixed": plans_per_second(planner.plan, spread),
           "traced": plans_per_second(planner.trace, spread)}
    host = host_path_figures(planner, demo, spread)
    labels = {"demo": "engine, demo runner      ", "mixed": "engine, 5 mixed runners  ",
              "traced": "  ... with tracing       "}
    for key, label in labels.items():
        print(f"{label} {now[key]:8.1f} plans/s ({1000 / now[key]:.2f} ms a plan)   "
              f"before {BEFORE[key]:6.1f}: {now[key] / BEFORE[key]:.2f}x   "
              f"via the host now {host[key]:6.1f}: {now[key] / host[key]:.2f}x")
    print(f"tracing costs {now['mixed'] / now['traced']:.2f}x the time")
    print(f"pandas imported on the plan path: {'pandas' in sys.modules}")
    print(f"programme check-in, in process: {checkin_seconds() * 1000:.2f} ms")
    web_report(now["demo"], demo)
    goals.update({f"in process, {key}": now[key] / BEFORE[key] for key in BEFORE})
    bench_scoring(goals)
    print_goals(goals)


#: The goals, each as (figure, at least or at most, target).
GOALS = [("in process, demo", ">=", 3.0), ("in process, mixed", ">=", 3.0),
         ("in process, traced", ">=", 3.0), ("varied rows/s --jobs 2", ">=", 5 * VARIED_BEFORE),
         ("varied --jobs 2 speed-up", ">=", 1.7), ("club-like rows/s --jobs 2", ">=", 20_000),
         ("start-up", "<=", 8.0)]


def print_goals(goals: dict[str, float]) -> None:
    """Each goal next to this run's figure, and by how much it is met or missed."""
    print("goals:")
    for name, sense, target in GOALS:
        figure = goals[name]
        met = figure >= target if sense == ">=" else figure <= target
        print(f"  {name:28s} {figure:10.2f}  goal {sense} {target:g}: "
              f"{'met' if met else 'MISSED'} ({figure / target:.2f} of the goal)")


if __name__ == "__main__":
    main()
