"""Benchmark of `hipcoach serve`: the plan page over loopback, next to plans per second in
process, whose ratio is the server's overhead (HTTP, the form, the engine process's pipe, the
page's template).

For 1 and 2 workers, `hipcoach serve` is started on a free loopback port; CLIENTS threads, each
with its own keep-alive connection, post the demo runner's whole questionnaire to /answers (the
plan page) until REQUESTS pages have come back. Printed: pages per second, the median and 99th
percentile latency. Asserts nothing (tests never time things).
"""

from __future__ import annotations

import http.client
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "desk_runner.yaml"
HIPCOACH = Path(sys.executable).parent / "hipcoach"
CLIENTS, REQUESTS = 20, 1000
WARM_UP = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _body(answers: dict[str, Any], csrf: str) -> bytes:
    pairs = [("_csrf", csrf)]
    for key, value in answers.items():
        if isinstance(value, bool):
            pairs.append((key, "yes" if value else "no"))
        elif isinstance(value, list):
            pairs += [(key, "")] + [(key, str(v)) for v in value]
        else:
            pairs.append((key, str(value)))
    return urllib.parse.urlencode(pairs).encode()


class _Server:
    """`hipcoach serve --workers N` on a free port, for a ``with`` block."""

    def __init__(self, workers: int) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen([str(HIPCOACH), "serve", "--port", str(self.port),
                                         "--workers", str(workers)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def __enter__(self) -> _Server:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                self.connection().request("GET", "/")
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("hipcoach serve did not start")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(30)

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)


def _session(server: _Server) -> tuple[http.client.HTTPConnection, dict[str, str]]:
    """A connection with its CSRF cookie, and the headers of a plan page's POST."""
    connection = server.connection()
    connection.request("GET", "/")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("set-cookie", "").split(";")[0]
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page)
    assert csrf is not None
    return connection, {"cookie": cookie, "content-type": "application/x-www-form-urlencoded",
                        "x-csrf": csrf.group(1)}


def plan_page_figures(workers: int, answers: dict[str, Any], requests: int = REQUESTS,
                      clients: int = CLIENTS) -> dict[str, float]:
    """Pages per second, and the median and 99th-percentile latency in seconds."""
    latencies: list[float] = []
    lock = threading.Lock()
    left = [requests]
    with _Server(workers) as server:
        sessions = [_session(server) for _ in range(clients)]
        bodies = [_body(answers, headers.pop("x-csrf")) for _, headers in sessions]

        def client(index: int) -> None:
            connection, headers = sessions[index]
            while True:
                with lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
                began = time.perf_counter()
                _post(connection, headers, bodies[index])
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)

        for index in range(WARM_UP):  # warm every worker's templates and engine
            connection, headers = sessions[index % clients]
            _post(connection, headers, bodies[index % clients])
        began = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
    latencies.sort()
    return {"per_second": len(latencies) / wall, "median": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


def _post(connection: http.client.HTTPConnection, headers: dict[str, str], body: bytes) -> None:
    try:
        connection.request("POST", "/answers", body=body, headers=headers)
        response = connection.getresponse()
    except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
        connection.close()  # the server closed an idle keep-alive connection: open another
        connection.request("POST", "/answers", body=body, headers=headers)
        response = connection.getresponse()
    page = response.read()
    if response.status != 200 or b"Your hip plan" not in page:
        raise RuntimeError(f"the plan page failed: {response.status}")


def report(in_process: float, answers: dict[str, Any]) -> None:
    """Print the figures for 1 and 2 workers next to ``in_process`` plans per second."""
    print(f"hipcoach serve, the demo runner's plan page over loopback, {CLIENTS} concurrent "
          f"clients, {REQUESTS} pages each run:")
    print(f"  in process (no server)   {in_process:8.1f} plans/s")
    for workers in (1, 2):
        figures = plan_page_figures(workers, answers)
        print(f"  --workers {workers}              {figures['per_second']:8.1f} pages/s   "
              f"median {figures['median'] * 1000:6.1f} ms   p99 {figures['p99'] * 1000:6.1f} ms   "
              f"(a page costs {in_process / figures['per_second']:.2f}x a plan in process)")


def main() -> None:
    from hipcoach import Planner, read_answers

    answers = dict(read_answers(DEMO))
    planner = Planner()
    for _ in range(50):
        planner.plan(answers)
    count, began = 0, time.perf_counter()
    while time.perf_counter() - began < 2.0:
        planner.plan(answers)
        count += 1
    report(count / (time.perf_counter() - began), answers)


if __name__ == "__main__":
    main()
