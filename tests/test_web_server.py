"""hipcoach.web.server for real: `hipcoach serve --workers 2` on a free loopback port, its
process tree, a worker killed and replaced, an engine process killed and replaced, and a log
that holds no answers."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

HIPCOACH = Path(sys.executable).parent / "hipcoach"
PROC = Path("/proc")
pytestmark = pytest.mark.skipif(not (PROC / "self").exists(),
                                reason="reads the process tree from /proc (Linux)")


def _children(pid: int) -> list[int]:
    found = []
    for task in (PROC / str(pid) / "task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int) -> tuple[int, str, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/?secret-query=1")
    response = connection.getresponse()
    return response.status, response.read().decode(), response.getheader("set-cookie", "")


def _plan(port: int) -> int:
    _, page, cookie = _get(port)
    token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode([("_csrf", token), ("red_flags", ""), ("knee_pain", "outside"),
                                   ("age", "58")]).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/download/plan", body=body, headers={
        "cookie": cookie.split(";")[0], "content-type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    return response.status


def _wait(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def served(tmp_path):
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as stream:
        process = subprocess.Popen([str(HIPCOACH), "serve", "--port", str(port), "--workers", "2"],
                                   stdout=stream, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        def ready() -> bool:
            workers = _children(process.pid)
            engines = [e for w in workers for e in _children(w)]
            return len(engines) >= 2 and _get(port)[0] == 200

        _wait(ready, "two workers with their engines")
        yield process, port, log
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_each_worker_has_one_engine_and_a_dead_one_is_replaced(served):
    process, port, log = served
    workers = [w for w in _children(process.pid) if _children(w)]
    assert len(workers) == 2 and all(len(_children(w)) == 1 for w in workers)
    engine = _children(workers[0])[0]
    os.kill(engine, signal.SIGKILL)
    for _ in range(6):  # whichever worker takes them, every request is answered
        assert _plan(port) == 200
    os.kill(workers[1], signal.SIGKILL)
    _wait(lambda: len([w for w in _children(process.pid) if _children(w)]) == 2
          and workers[1] not in _children(process.pid), "a new worker")
    for _ in range(4):
        assert _plan(port) == 200
    text = log.read_text()
    assert "secret-query" not in text and "outside" not in text and "58" not in text.split()
    assert "GET / 200" in text and "POST /download/plan 200" in text
