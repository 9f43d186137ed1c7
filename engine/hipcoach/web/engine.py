"""The engine behind the pages: one planner in a process of its own, asked one thing at a time.

durable_rules is not thread-safe, so every evaluation of one server process goes through one
:class:`EngineProcess`: a child process that builds the programme (and with it the planner) once
at start-up and answers requests one after another over a pipe. The server process sends a
request from a single thread (:attr:`EngineProcess.executor`), so two evaluations never run at
once. When the child dies or stops answering, the request that was waiting is told so
(:class:`EngineLost`, a 503 page) and a new child is started for the next one: a crash in the
engine never hangs a request nor takes the web server down with it.

What the child sends back is plain data (plans, journals, texts); errors in the runner's input
come back as :class:`Refused` with their message, since library errors do not pickle.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ..errors import AnswersError, HipcoachError, ProgrammeError
from ..kb.answers import dumps, normalise
from ..kb.knowledge import Question
from ..present.labels import Labels
from ..present.programme import Wording, render_checkin, render_weeks
from ..programme.journal import dumps as journal_text
from ..programme.programme import Checkin, Programme

log = logging.getLogger("hipcoach.web.engine")

#: The longest one evaluation may take before the child is taken for hung, in seconds (a plan
#: takes a few milliseconds, a programme start well under a second).
TIMEOUT = 30.0
#: How long the child may take to load and check the knowledge and rule files.
START_TIMEOUT = 120.0
#: What an uploaded journal is called in error messages.
JOURNAL_NAME = "the journal file"


class EngineLost(Exception):
    """The engine process died or stopped answering; a new one is being started."""


class Refused(Exception):
    """The engine refused the input; ``field`` is the answer id, or the programme's name of the
    value, at fault, when one is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class About:
    """What the pages need to know of the loaded knowledge and rule base."""

    questions: Mapping[str, Question]
    triage: frozenset[str]  # the answers triage rules read
    decisive: frozenset[str]  # the answers some triage rule reads on their own
    labels: Labels
    decisions: Mapping[str, str]
    made_by: str  # the one footer every page a runner reads ends with (kb.provenance)


# ------------------------------------------------------------------------------- the child

class _Work:
    """The child's side: the programme, loaded once, and one method per request kind."""

    def __init__(self, knowledge: Path | None, rules: Path | None) -> None:
        self.programme = Programme(knowledge, rules)
        planner = self.programme.planner
        self.wording = Wording(
            labels=Labels.of(planner.kb, planner.rulebase),
            phases={p.id: (p.name, p.focus) for p in self.programme.knowledge.phases},
            decisions={d.id: d.label for d in self.programme.rules.decisions})

    def about(self) -> About:
        planner = self.programme.planner
        provenance = planner.provenance
        triage = planner.rulebase.layer("triage")
        return About(dict(planner.kb.questions),
                     frozenset(f for rule in triage for f in rule.answers_used),
                     frozenset(f for rule in triage if len(rule.answers_used) == 1
                               for f in rule.answers_used),
                     self.wording.labels, dict(self.wording.decisions), provenance.footer())

    def plan(self, answers: Mapping[str, Any]) -> Any:
        return self.programme.planner.plan(answers)

    def answers(self, answers: Mapping[str, Any]) -> str:
        """The answers as ``ask --save`` writes them: every question, defaults filled in."""
        return dumps(normalise(answers, self.programme.planner.kb))

    def start(self, answers: Mapping[str, Any], start: str, weeks: int,
              run_days: list[str]) -> tuple[Any, str | None]:
        """The plan and the new journal's text (none for a referral)."""
        plan, journal = self.programme.start(answers, start, weeks, run_days)
        return plan, None if journal is None else journal_text(journal)

    def show(self, journal: bytes, fmt: str) -> str:
        """An uploaded journal, checked, as a handout (html), a calendar (ics) or itself (json)."""
        loaded = self.programme.load(io.BytesIO(journal), JOURNAL_NAME)
        if fmt == "json":
            return journal_text(loaded)
        return render_weeks(loaded, self.programme.describe, self.wording, fmt)

    def checkin(self, journal: bytes, report: Checkin) -> tuple[str, Any, str]:
        """The updated journal's text, the check-in's result and its words for the runner."""
        loaded = self.programme.load(io.BytesIO(journal), JOURNAL_NAME)
        updated, result, _ = self.programme.checkin(loaded, report)
        return (journal_text(updated), result,
                render_checkin(result, self.programme.describe, self.wording, "text"))


def _child(connection: Connection, knowledge: Path | None, rules: Path | None) -> None:
    """The engine process: load, say so, then answer requests until the pipe closes."""
    try:
        work = _Work(knowledge, rules)
        connection.send(("ready", work.about()))
    except HipcoachError as exc:
        connection.send(("failed", str(exc)))
        return
    methods: dict[str, Callable[..., Any]] = {"plan": work.plan, "answers": work.answers,
                                              "start": work.start,
                                              "show": work.show, "checkin": work.checkin}
    while True:
        try:
            kind, args = connection.recv()
        except (EOFError, OSError):
            return
        try:
            connection.send(("ok", methods[kind](*args)))
        except AnswersError as exc:
            connection.send(("refused", (str(exc), exc.key)))
        except ProgrammeError as exc:
            connection.send(("refused", (str(exc), exc.field)))
        except HipcoachError as exc:
            connection.send(("refused", (str(exc), None)))


# ------------------------------------------------------------------------------ the parent

class EngineProcess:
    """The server process's handle on its engine process."""

    def __init__(self, knowledge: Path | None = None, rules: Path | None = None,
                 timeout: float = TIMEOUT) -> None:
        self.folders = (knowledge, rules)
        self.timeout = timeout
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hipcoach-engine")
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._connection: Connection | None = None
        self.about = self._start()

    @property
    def pid(self) -> int | None:
        """The engine process's id (for tests and the log)."""
        return None if self._process is None else int(self._process.pid)

    def _start(self) -> About:
        """Start the child and wait until it has loaded the files; a bad file is one
        :class:`~hipcoach.errors.HipcoachError` with the loader's message."""
        ours, theirs = self._context.Pipe()
        process = self._context.Process(target=_child, args=(theirs, *self.folders),
                                        name="hipcoach-engine", daemon=True)
        process.start()
        theirs.close()
        self._process, self._connection = process, ours
        status, value = self._receive(START_TIMEOUT)
        if status == "failed":
            self.close()
            raise HipcoachError(value)
        log.info("engine process %s ready", process.pid)
        about: About = value
        return about

    def _receive(self, timeout: float) -> tuple[str, Any]:
        assert self._connection is not None and self._process is not None
        deadline = time.monotonic() + timeout
        while not self._connection.poll(0.05):
            if not self._process.is_alive():
                raise EngineLost("the engine process stopped")
            if time.monotonic() > deadline:
                raise EngineLost("the engine process did not answer in time")
        try:
            message: tuple[str, Any] = self._connection.recv()
        except (EOFError, OSError):
            raise EngineLost("the engine process stopped") from None
        return message

    def call(self, kind: str, *args: Any) -> Any:
        """Run one request in the engine process and wait for it (from :attr:`executor` only)."""
        if self._process is None or not self._process.is_alive():
            self._restart()
        assert self._connection is not None
        try:
            self._connection.send((kind, args))
            status, value = self._receive(self.timeout)
        except (EngineLost, OSError) as exc:
            log.warning("engine process %s lost (%s); starting another", self.pid,
                        type(exc).__name__)
            self._stop()
            self.executor.submit(self._restart)  # before any request queued after this one
            raise EngineLost(str(exc)) from None
        if status == "refused":
            raise Refused(*value)
        return value

    def _restart(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        self._stop()
        self.about = self._start()

    def _stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join(5)
        self._process = self._connection = None

    def close(self) -> None:
        """Stop the engine process and the sending thread."""
        self._stop()
        self.executor.shutdown(wait=False, cancel_futures=True)
