"""Scoring on a Dask cluster (``hipcoach score --dask``): the same bytes as a local run.

One LocalCluster of two worker processes with one thread each, on the loopback interface and
without a dashboard, is started for the whole module (a cluster takes seconds to start); the
tests that need a cluster of their own (--dask local, a scheduler that goes away) start one.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

distributed = pytest.importorskip(
    "distributed", reason="Dask is not installed (pip install 'hipcoach[dask]')")

import hipcoach.batch.score as score_module  # noqa: E402
from clirunner import failed, invoke, ok  # noqa: E402
from hipcoach import Planner  # noqa: E402
from hipcoach.batch.cluster import Cluster, PlannerPlugin, local_cluster  # noqa: E402
from hipcoach.batch.score import Options  # noqa: E402
from hipcoach.batch.survey import rows as survey_rows  # noqa: E402
from hipcoach.errors import ClusterError  # noqa: E402
from test_score import (  # noqa: E402
    BAD_AND_DUPLICATE_ROWS,
    LAYOUTS,
    OUTPUTS,
    SURVEYS,
    generated_survey,
    options_for,
    outputs,
    records,
    run,
    write,
)

#: Each test here takes seconds: `make test-fast` leaves them out.
pytestmark = pytest.mark.slow

WITH_TRACES = OUTPUTS + ("traces.jsonl",)


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    with local_cluster(2) as cluster:
        yield cluster.scheduler_address


def varied_survey(path: Path, count: int) -> Path:
    """``count`` respondents with answers drawn at random: nearly every one a profile of its own."""
    rng = random.Random(11)
    kit = ["foam_roller", "resistance_band", "ball", "table", "doorway", "mat"]
    lines = ["respondent_id,age,weekly_km,sitting_hours,knee_pain,hip_pain,low_back,pain_level,"
             "squat_difficulty,strength_sessions_per_week,red_flags,equipment,minutes"]
    for n in range(count):
        lines.append(",".join(str(cell) for cell in (
            f"v{n:05d}", rng.randint(18, 80), rng.randint(0, 80), rng.randint(0, 12),
            rng.choice(["none", "front", "outside", "other"]),
            rng.choice(["none", "front", "outside", "back"]), rng.choice(["none", "tight", "pain"]),
            rng.randint(0, 9), rng.choice(["yes", "no"]), rng.randint(0, 3),
            "swelling" if rng.random() < 0.03 else "",
            ";".join(item for item in kit if rng.random() < 0.4), rng.randint(5, 60))))
    return write(path, "\n".join(lines) + "\n")


def on_cluster(options: Options, address: str) -> Options:
    return dataclasses.replace(options, dask=address)


def only_on_the_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, a profile evaluated in this process fails the test."""
    def here(*_: Any) -> None:
        raise AssertionError("a profile was evaluated in this process, not on the cluster")

    monkeypatch.setattr(score_module, "render", here)


# --- the same bytes as --jobs 1 ----------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_examples_score_byte_identically(tmp_path: Path, planner: Planner, address: str,
                                             layout: str, monkeypatch: pytest.MonkeyPatch) -> None:
    survey, options = SURVEYS / f"{layout}.csv", options_for(layout)
    run(planner, survey, tmp_path / "one", options)
    only_on_the_cluster(monkeypatch)
    run(planner, survey, tmp_path / "dask", on_cluster(options, address))
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "one")


def test_thousands_of_distinct_profiles_in_many_chunks(tmp_path: Path, planner: Planner,
                                                       address: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    survey = varied_survey(tmp_path / "varied.csv", 2000)
    one = run(planner, survey, tmp_path / "one", Options())
    assert one["distinct_profiles"] > 1500
    # many chunks in flight at once: they must still be written in input order
    monkeypatch.setattr(score_module, "rows", functools.partial(survey_rows, chunk_rows=250))
    only_on_the_cluster(monkeypatch)
    scored: list[int] = []
    two = run(planner, survey, tmp_path / "dask", Options(dask=address), progress=scored.append)
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "one")
    assert two == one and sum(scored) == 2000 and len(scored) == 8


def test_traces_are_byte_identical(tmp_path: Path, planner: Planner, address: str) -> None:
    survey = generated_survey(tmp_path / "g.csv")
    run(planner, survey, tmp_path / "one", Options(traces=True))
    run(planner, survey, tmp_path / "dask", Options(traces=True, dask=address))
    assert outputs(tmp_path / "dask", WITH_TRACES) == outputs(tmp_path / "one", WITH_TRACES)


def test_rejected_rows_still_go_to_errors_csv(tmp_path: Path, planner: Planner,
                                              address: str) -> None:
    survey = generated_survey(tmp_path / "g.csv", BAD_AND_DUPLICATE_ROWS)
    run(planner, survey, tmp_path / "one", Options())
    summary = run(planner, survey, tmp_path / "dask", Options(dask=address))
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "one")
    assert summary["rejected"] == 4
    assert {row[1] for row in records(tmp_path / "dask" / "errors.csv")[1:]} == \
        {"bad1", "bad2", "", "bad3"}


def test_the_workers_score_with_the_rules_of_the_run(tmp_path: Path, planner: Planner,
                                                     address: str, data_copy) -> None:  # type: ignore[no-untyped-def]
    """Edited rules (--rules) reach the workers, whose own installed files are the bundled ones."""
    knowledge, rules = data_copy
    causes = rules / "causes.yaml"
    text = causes.read_text(encoding="utf-8")
    assert "    cf: 0.7\n" in text
    causes.write_text(text.replace("    cf: 0.7\n", "    cf: 0.35\n", 1), encoding="utf-8")
    edited = Planner(knowledge, rules)
    survey = generated_survey(tmp_path / "g.csv")
    run(edited, survey, tmp_path / "one", Options(), knowledge=knowledge, rules=rules)
    run(edited, survey, tmp_path / "dask", Options(dask=address), knowledge=knowledge, rules=rules)
    run(planner, survey, tmp_path / "bundled", Options())
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "one")
    assert outputs(tmp_path / "dask")["plans.csv"] != outputs(tmp_path / "bundled")["plans.csv"]


# --- the command line --------------------------------------------------------------------------

def test_dask_local_from_the_command_line(tmp_path: Path) -> None:
    plain = ok(invoke("score", SURVEYS / "google.csv", "--mapping",
                      SURVEYS / "google_mapping.yaml", "-o", tmp_path / "one"))
    local = ok(invoke("score", SURVEYS / "google.csv", "--mapping",
                      SURVEYS / "google_mapping.yaml", "-o", tmp_path / "dask", "--dask", "local",
                      "--jobs", "2"))
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "one")
    assert local.stderr == plain.stderr.replace(str(tmp_path / "one"), str(tmp_path / "dask"))
    assert local.stdout == ""


def test_a_scheduler_address_from_the_command_line_quietly(tmp_path: Path, address: str) -> None:
    result = ok(invoke("score", SURVEYS / "plain.csv", "-o", tmp_path / "dask", "--dask", address,
                       "-q"))
    assert result.stderr == result.stdout == ""
    ok(invoke("score", SURVEYS / "plain.csv", "-o", tmp_path / "one", "-q"))
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "one")


def test_an_unreachable_scheduler_is_one_error_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    line = failed(invoke("score", SURVEYS / "plain.csv", "-o", out, "--dask", "tcp://127.0.0.1:1",
                         "--dask-timeout", "1"), 1, "tcp://127.0.0.1:1")
    assert "Dask" in line
    assert not out.exists()


@pytest.mark.parametrize("service", ["a web server", "a silent listener"])
def test_a_service_that_is_not_a_scheduler_fails_within_the_timeout(tmp_path: Path,
                                                                    service: str) -> None:
    """It accepts the connection but never answers as a Dask scheduler: before, the run hung
    for ever (a silent listener) or died with 'Maximum allowed dimension exceeded' and a
    traceback (an HTTP server)."""
    import http.server
    import socket
    import threading

    if service == "a web server":
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                 http.server.SimpleHTTPRequestHandler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port, stop = server.server_address[1], server.shutdown
    else:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port, stop = listener.getsockname()[1], listener.close
    try:
        failed(invoke("score", SURVEYS / "plain.csv", "-o", tmp_path / "out", "--dask",
                      f"tcp://127.0.0.1:{port}", "--dask-timeout", "2"), 1,
               f"no Dask scheduler answered at tcp://127.0.0.1:{port}")
    finally:
        stop()
    assert not (tmp_path / "out").exists()


def test_a_malformed_address_is_one_error(tmp_path: Path) -> None:
    failed(invoke("score", SURVEYS / "plain.csv", "-o", tmp_path / "out", "--dask", "nowhere"),
           1, "'nowhere' is not a Dask scheduler's address", "tcp://HOST:8786")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args,needle", [
    (["--dask", "tcp://127.0.0.1:1", "--jobs", "2"], "drop --jobs"),
    (["--dask-timeout", "5"], "--dask-timeout needs --dask"),
])
def test_options_that_do_not_go_together(tmp_path: Path, args: list[str], needle: str) -> None:
    result = invoke("score", SURVEYS / "plain.csv", "-o", tmp_path / "out", *args)
    assert result.exit_code == 2 and needle in result.stderr
    assert not (tmp_path / "out").exists()


def test_without_dask_installed_it_says_how_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    monkeypatch.delitem(sys.modules, "hipcoach.batch.cluster")
    failed(invoke("score", SURVEYS / "plain.csv", "-o", tmp_path / "out", "--dask", "local"),
           1, "pip install 'hipcoach[dask]'")
    assert not (tmp_path / "out").exists()


def test_scoring_without_dask_never_imports_it(tmp_path: Path) -> None:
    """Dask is an optional extra, and costs start-up time: only --dask loads it."""
    code = ("import sys; from click.testing import CliRunner; from hipcoach.cli import cli; "
            "result = CliRunner().invoke(cli, ['score', sys.argv[1], '-o', sys.argv[2], '-q', "
            "'--jobs', '2']); assert result.exit_code == 0, result.output; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    done = subprocess.run([sys.executable, "-c", code, str(SURVEYS / "plain.csv"),
                           str(tmp_path / "out")], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"


# --- failures on the cluster ------------------------------------------------------------------

def test_a_lost_scheduler_is_one_error_and_leaves_no_outputs(
        tmp_path: Path, planner: Planner, monkeypatch: pytest.MonkeyPatch) -> None:
    survey = varied_survey(tmp_path / "varied.csv", 600)
    monkeypatch.setattr(score_module, "rows", functools.partial(survey_rows, chunk_rows=100))
    out = tmp_path / "out"
    with local_cluster(1) as cluster:

        def stop_the_scheduler(_: int) -> None:
            cluster.close()

        with pytest.raises(ClusterError, match=r"the Dask cluster at tcp://127\.0\.0\.1"):
            run(planner, survey, out, Options(dask=cluster.scheduler_address, dask_timeout=1),
                progress=stop_the_scheduler)
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_failing_task_names_the_worker(planner: Planner, address: str) -> None:
    cluster = Cluster(address, planner, None, None)
    try:
        assert [key for key, _ in cluster.submit([("a", {}), ("b", {"minutes": 30})],
                                                 False).result()] == ["a", "b"]
        with pytest.raises(ClusterError, match=r"Dask worker tcp://127\.0\.0\.1:\d+: .*minutes"):
            cluster.submit([("c", {"minutes": 999})], False).result()
    finally:
        cluster.close()


def fake_worker(threads: int = 1) -> Any:
    return SimpleNamespace(address="tcp://10.0.0.9:4000", state=SimpleNamespace(nthreads=threads))


def test_the_plugin_builds_a_planner_from_the_files_it_carries(planner: Planner,
                                                               data_copy) -> None:  # type: ignore[no-untyped-def]
    knowledge, rules = data_copy
    edited = rules / "plan.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    ours = Planner(knowledge, rules)
    plugin = PlannerPlugin(ours, knowledge, rules)
    plugin.setup(fake_worker())
    assert plugin.planner is not None
    assert plugin.planner.rulebase.digest == ours.rulebase.digest != planner.rulebase.digest
    assert plugin.planner.provenance == ours.provenance != planner.provenance


@pytest.mark.parametrize("change,needle", [
    ({"fingerprint": "0" * 64}, "other contents"),
    ({"version": "0.0.1"}, "has hipcoach"),
])
def test_a_worker_that_would_score_differently_refuses(planner: Planner, change: dict[str, Any],
                                                       needle: str) -> None:
    plugin = PlannerPlugin(planner, None, None)
    plugin.provenance = plugin.provenance._replace(**change)
    with pytest.raises(ClusterError, match=needle):
        plugin.setup(fake_worker())
    assert plugin.planner is None


def test_a_worker_with_several_threads_refuses(planner: Planner) -> None:
    with pytest.raises(ClusterError, match=r"runs 4 threads.*--nthreads 1"):
        PlannerPlugin(planner, None, None).setup(fake_worker(threads=4))
