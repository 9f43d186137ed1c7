"""``python -m hipcoach``: the same command as the ``hipcoach`` script, in a real process."""

from __future__ import annotations

import subprocess
import sys

from clirunner import invoke
from conftest import EXAMPLES


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hipcoach", *args], capture_output=True, text=True,
                          timeout=300)


def test_python_m_hipcoach_plans_as_the_script_does():
    desk = str(EXAMPLES / "desk_runner.yaml")
    done = run("plan", desk, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert done.stdout == invoke("plan", desk, "--format", "json").stdout


def test_python_m_hipcoach_names_itself_in_usage_and_errors():
    done = run("plan", "--no-such-option")
    assert done.returncode == 2
    assert "Usage: python -m hipcoach plan" in done.stderr
    assert "--no-such-option" in done.stderr.splitlines()[-1]
