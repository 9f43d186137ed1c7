"""Evaluating distinct answer profiles on a Dask cluster, for surveys too big for one machine.

The unit of work is the one ``--jobs`` sends to its worker processes: a batch of distinct
profiles (bigger here, :data:`BATCH_MAX`), rendered by :func:`.profiles.render_all`. Reading,
translating and writing stay in this process, so the outputs are the same bytes as a local
run, in input order, written whole or not at all.

durable_rules keeps its rulesets in process-global state and is not thread-safe, so each worker
must be a process with one thread. Each worker builds one planner when it joins, in the
:class:`PlannerPlugin`'s ``setup``, and every task only evaluates. The plugin carries the
texts of the knowledge and rule files this process uses, so a remote worker scores with exactly
these rules, not with whatever files it has installed; a worker whose hipcoach differs from
this one's, or that reads the files into other contents, fails the run loudly instead.

This module imports ``distributed``; :mod:`.score` imports it only when a cluster is asked for.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import secrets
import tempfile
import threading
from pathlib import Path
from typing import Any

from distributed import Client, Future, LocalCluster, Worker, WorkerPlugin, get_worker
from distributed.client import FutureCancelledError
from distributed.comm.addressing import get_address_host_port
from distributed.comm.core import CommClosedError
from distributed.utils import silence_logging_cmgr

from ..errors import ClusterError, HipcoachError
from ..kb.bundled import knowledge_dir, rules_dir
from ..kb.provenance import version
from ..planning.planner import Planner
from .profiles import Rendered, render_all

#: The address that asks for a cluster of worker processes on this machine, for this run only.
LOCAL = "local"
#: Profiles a Dask worker is sent at once. A Dask task costs tens of milliseconds more than a
#: local worker process's call (the scheduler's round trip, one fetch per result), so batches
#: are bigger than :data:`.score.BATCH_MAX`: 256 profiles took a varied 20,000-row survey from
#: 19 s to 13 s with two local workers.
BATCH_MAX = 256
Batch = list[tuple[Any, dict[str, Any]]]


class PlannerPlugin(WorkerPlugin):
    """Sent to every worker (and to workers that join later): the knowledge and rule files'
    bytes (every file the fingerprint covers), and this process's provenance: hipcoach's version
    and the fingerprint. ``setup`` checks the worker can score exactly as this process would,
    then builds the planner the tasks use."""

    def __init__(self, planner: Planner, knowledge: Path | None, rules: Path | None) -> None:
        knowledge, rules = knowledge or knowledge_dir(), rules or rules_dir()
        self.files = {part: {path.name: path.read_bytes() for path in sorted(folder.glob("*.yaml"))}
                      for part, folder in (("knowledge", knowledge), ("rules", rules))}
        self.provenance = planner.provenance
        self.planner: Planner | None = None

    def setup(self, worker: Worker) -> None:
        where = f"Dask worker {worker.address}"
        if worker.state.nthreads != 1:
            raise ClusterError(f"{where} runs {worker.state.nthreads} threads; the rule engine "
                               f"needs one thread per worker process: start workers with "
                               f"--nthreads 1")
        if version() != self.provenance.version:
            raise ClusterError(f"{where} has hipcoach {version()}, this machine "
                               f"{self.provenance.version}: install the same version everywhere")
        with tempfile.TemporaryDirectory(prefix="hipcoach-") as folder:
            for part, texts in self.files.items():
                (Path(folder) / part).mkdir()
                for name, data in texts.items():
                    (Path(folder) / part / name).write_bytes(data)
            try:
                # a folder of this run only: caching it would push out bases used again
                planner = Planner(Path(folder) / "knowledge", Path(folder) / "rules", cached=False)
            except HipcoachError as exc:  # its own class may not survive the trip back
                raise ClusterError(f"{where} cannot load the rules sent to it: {exc}") from None
            made = planner.provenance  # while the files are there to read
        if made != self.provenance:
            raise ClusterError(f"{where} reads the knowledge and rule files sent to it into "
                               f"other contents: install the same hipcoach everywhere")
        self.planner = planner


def _render(name: str, batch: bytes, traces: bool) -> list[tuple[Any, Rendered]]:
    """A task: render the pickled ``batch`` with the planner the worker built for plugin
    ``name``. The batch travels pickled, opaque to Dask, which would otherwise walk every
    answer of every profile looking for tasks inside (a third of the client's time)."""
    worker = get_worker()
    plugin = worker.plugins.get(name)
    if not isinstance(plugin, PlannerPlugin) or plugin.planner is None:
        raise ClusterError(f"Dask worker {worker.address} has no planner for this run")
    try:
        return render_all(plugin.planner, pickle.loads(batch), traces)
    except HipcoachError as exc:
        raise ClusterError(f"Dask worker {worker.address}: {exc}") from None


class _Pending:
    """One batch on its way back from the cluster; a failure to get it is a :class:`ClusterError`."""

    def __init__(self, future: Future, address: str) -> None:  # type: ignore[type-arg]
        self.future, self.address = future, address

    def done(self) -> bool:
        return bool(self.future.done())

    def result(self) -> list[tuple[Any, Rendered]]:
        try:
            rendered: list[tuple[Any, Rendered]] = self.future.result()
        except ClusterError:
            raise
        except Exception as exc:
            raise _failed(self.address, exc) from None
        return rendered


def local_cluster(workers: int) -> LocalCluster:
    """``workers`` worker processes of one thread each on this machine, reachable on the
    loopback interface only, with no dashboard and no log lines."""
    # the scheduler serves its health and metrics pages even without a dashboard, on port 8787
    # unless told otherwise (and warns on stderr when that is taken): any free loopback port
    return LocalCluster(n_workers=workers, processes=True, threads_per_worker=1, host="127.0.0.1",
                        dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                        silence_logs=logging.CRITICAL)


class Cluster:
    """A Dask cluster ready to evaluate profiles: connected, with at least one worker, and
    every worker holding a planner for this run's files. ``address`` is a scheduler's address
    or :data:`LOCAL` (``jobs`` worker processes on this machine, one thread each, started for
    this run and stopped after it). ``timeout`` bounds the wait for the scheduler and for its
    first worker, in seconds."""

    def __init__(self, address: str, planner: Planner, knowledge: Path | None,
                 rules: Path | None, jobs: int = 1, timeout: float = 30.0) -> None:
        self.address = address
        self.local: LocalCluster | None = None
        self.client: Client | None = None
        self.plugged = False
        self.batch_max = BATCH_MAX
        # every failure becomes one ClusterError: Dask's log lines about it would only repeat it
        self.quiet = contextlib.ExitStack()
        self.quiet.enter_context(silence_logging_cmgr(logging.CRITICAL))
        # one plugin per run: a run that ends takes its own planners away, never another's
        self.name = f"hipcoach-{planner.provenance.short}-{secrets.token_hex(4)}"
        try:
            if address == LOCAL:
                self.local = local_cluster(jobs)
                address = self.address = self.local.scheduler_address
            else:
                try:
                    get_address_host_port(address)
                except ValueError as exc:
                    raise ClusterError(f"{address!r} is not a Dask scheduler's address ({exc}): "
                                       f"give one such as tcp://HOST:8786, or {LOCAL}") from None
            self.client = _connect(address, timeout)
            try:
                self.client.wait_for_workers(1, timeout=timeout)
            except TimeoutError:
                raise ClusterError(f"no worker joined the Dask scheduler at {address} within "
                                   f"{timeout:g} s") from None
            self.plugged = True  # from here on, the scheduler may hold the plugin
            self.client.register_plugin(PlannerPlugin(planner, knowledge, rules), name=self.name)
            self.size = max(1, sum(self.client.nthreads().values()))
        except BaseException as exc:
            self.close()
            if isinstance(exc, ClusterError) or not isinstance(exc, Exception):
                raise
            raise ClusterError(f"cannot score on the Dask cluster at {self.address}: "
                               f"{_reason(exc)}") from None

    def submit(self, batch: Batch, traces: bool) -> _Pending:
        assert self.client is not None
        try:
            future = self.client.submit(_render, self.name, pickle.dumps(batch), traces,
                                        pure=False)
        except Exception as exc:  # a client that lost its scheduler takes no more work
            raise _failed(self.address, exc) from None
        return _Pending(future, self.address)

    def close(self) -> None:
        """Take this run's plugin off the workers and disconnect; stop a local cluster. By now
        the outputs are written or discarded, so a teardown that times out is no error of the
        run, and must not hide the error that ended it."""
        try:
            if self.client is not None:
                if self.plugged:
                    with contextlib.suppress(Exception):  # a lost scheduler took it with it
                        self.client.unregister_worker_plugin(self.name)
                with contextlib.suppress(OSError):  # TimeoutError is one
                    self.client.close()
            if self.local is not None:
                with contextlib.suppress(OSError):
                    self.local.close()
        finally:
            self.quiet.close()


def _connect(address: str, timeout: float) -> Client:
    """A client of the scheduler at ``address``, within ``timeout`` seconds whatever listens
    there. Dask's own timeout covers the connection, not the greeting after it: a service that
    accepts the connection and never answers as a scheduler (a silent listener, a web server)
    would hold it for ever, so the attempt runs on a thread of its own and is given up on."""
    found: list[Client] = []
    failed: list[BaseException] = []

    def attempt() -> None:
        try:
            found.append(Client(address, timeout=timeout, set_as_default=False))
        except BaseException as exc:  # handed to the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=attempt, name="hipcoach-dask-connect", daemon=True)
    thread.start()
    thread.join(timeout)
    if failed:
        raise ClusterError(f"no Dask scheduler answered at {address}: {_reason(failed[0])} (is "
                           f"a Dask scheduler listening there, and not another service?)")
    if not found:
        raise ClusterError(f"no Dask scheduler answered at {address} within {timeout:g} s: "
                           f"something accepts connections there but does not speak as a "
                           f"Dask scheduler (another service on that port?), or the scheduler "
                           f"is too busy; check the address, or raise --dask-timeout")
    return found[0]


def _failed(address: str, exc: BaseException) -> ClusterError:
    return ClusterError(f"scoring on the Dask cluster at {address} failed: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    """What went wrong, in one line: Dask's own message (without a task's key), or the kind of
    error when it has none."""
    if isinstance(exc, CommClosedError | FutureCancelledError):
        text = getattr(exc, "msg", None) or "the scheduler, or the connection to it, was lost"
    else:
        text = str(exc)
    return " ".join(text.split()) or type(exc).__name__
