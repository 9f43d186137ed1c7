"""Benchmarks: prints figures and ratios; asserts nothing (tests never time things).

* CLI start-up: wall time of `hipcoach plan` on the demo answers next to `python -c pass`.
* Engine: plans per second in one process, for the demo runner and for a spread of runners,
  without and with rule tracing (the cost of capturing every firing).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "desk_runner.yaml"
HIPCOACH = Path(sys.executable).parent / "hipcoach"


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


def main() -> None:
    from hipcoach import Planner, read_answers

    python = wall([sys.executable, "-c", "pass"])
    cli = wall([str(HIPCOACH), "plan", str(DEMO)])
    imports = wall([sys.executable, "-c", "import hipcoach.cli"])
    print(f"python -c pass            {python * 1000:8.1f} ms")
    print(f"python -c 'import cli'    {imports * 1000:8.1f} ms   ({imports / python:.1f}x python)")
    print(f"hipcoach plan demo        {cli * 1000:8.1f} ms   ({cli / python:.1f}x python)")

    start = time.perf_counter()
    planner = Planner()
    print(f"load + compile + register {(time.perf_counter() - start) * 1000:8.1f} ms")
    demo = dict(read_answers(DEMO))
    spread = [demo, {**demo, "knee_pain": "outside", "equipment": []},
              {**demo, "low_back": "none", "minutes": 10}, {"red_flags": ["swelling"]}, {}]
    one = plans_per_second(planner.plan, [demo])
    many = plans_per_second(planner.plan, spread)
    traced = plans_per_second(planner.trace, spread)
    print(f"engine, demo runner       {one:8.1f} plans/s ({1000 / one:.2f} ms a plan)")
    print(f"engine, 5 mixed runners   {many:8.1f} plans/s ({1000 / many:.2f} ms a plan)")
    print(f"  ... with tracing        {traced:8.1f} plans/s ({many / traced:.2f}x the time)")
    print(f"pandas imported on the plan path: {'pandas' in sys.modules}")


if __name__ == "__main__":
    main()
