"""Timing `hipcoach score --dask local`, for the benchmark to print next to --jobs 1 and 2.

The run is timed whole, in a child process, as a user would see it: starting the local cluster
and its workers (and each worker building its planner) is part of the price of --dask.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HIPCOACH = Path(sys.executable).parent / "hipcoach"


def dask_local_seconds(survey: Path, out: Path) -> float:
    """Wall seconds of `hipcoach score SURVEY -o OUT -q --dask local` (needs the dask extra)."""
    start = time.perf_counter()
    subprocess.run([str(HIPCOACH), "score", str(survey), "-o", str(out), "-q", "--dask", "local"],
                   check=True, capture_output=True)
    return time.perf_counter() - start
