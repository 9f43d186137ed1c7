"""The one module that talks to durable_rules.

Everything durable_rules-specific lives here, including the workarounds for its known traps:

* Its host starts two background timer threads that also dispatch pending actions, so a call
  could return before its actions ran (and a crash was seen when a session was deleted while
  they ran). We use no timers, so :class:`_QuietHost` never starts those threads: every action
  runs inside the call that caused it, in this thread.
* Asserting a fact identical to one already in the session raises (and inside an action is
  silently swallowed): :class:`Session` de-duplicates before asserting, gives every fact its own
  id (so two different facts can never be taken for one), and facts are only asserted here, at
  top level, never from inside an action.
* A fact that no rule consumes raises at top level: it is recorded as unconsumed, not an error.
* Exceptions inside actions are swallowed into the session state: every action is wrapped, the
  error recorded, and :class:`~hipcoach.errors.EngineError` raised once the call returns.
* Rulesets live in a global registry and can't be redefined: one registration per distinct
  compiled content per process, under a name derived from that content.
* At most 1024 open sessions per ruleset: one sid per evaluation, deleted in ``finally``.
* Not thread-safe: sessions are serialised by a process-wide lock (parallelise with processes).
* There is no built-in trace: the action wrapper records every firing, in order.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from durable import engine as _durable

from .errors import EngineError

Fact = dict[str, Any]
#: Called for every firing with the rule id and the facts it matched, by pattern alias.
Listener = Callable[[str, dict[str, Fact]], None]


class _QuietHost(_durable.Host):
    """A durable_rules host without the background dispatch and timer threads."""

    def _run(self) -> None:  # overrides the thread starter on purpose
        return None


_lock = threading.RLock()
_host: _QuietHost | None = None
_registered: dict[str, Ruleset] = {}
_active: Session | None = None
_sids = itertools.count(1)


@dataclass(frozen=True)
class Firing:
    """One rule firing as the action wrapper saw it."""

    seq: int
    rule: str
    matched: dict[str, Fact]


@dataclass(frozen=True)
class Ruleset:
    """A ruleset registered with durable_rules under a content-derived name."""

    name: str
    rule_ids: tuple[str, ...]


def register(definitions: Mapping[str, Mapping[str, Any]]) -> Ruleset:
    """Register compiled rule definitions once per process and return the handle.

    ``definitions`` maps rule id to a durable_rules rule definition without its action; the
    action is added here, so no caller ever handles durable_rules' callables.
    """
    payload = json.dumps(definitions, sort_keys=True, ensure_ascii=False)
    name = "hipcoach_" + hashlib.sha256(payload.encode()).hexdigest()[:16]
    with _lock:
        if name in _registered:
            return _registered[name]
        global _host
        if _host is None:
            _host = _QuietHost()
        full = {rule_id: {**json.loads(json.dumps(dict(rule))), "run": _action(rule_id)}
                for rule_id, rule in definitions.items()}
        try:
            _host.register_rulesets({name: full})
        except Exception as exc:  # durable_rules raises bare Exception on bad definitions
            raise EngineError(f"durable_rules refused the compiled rules: {exc}") from exc
        ruleset = Ruleset(name, tuple(definitions))
        _registered[name] = ruleset
        return ruleset


def _action(rule_id: str) -> Callable[[Any], None]:
    """The action durable_rules runs for ``rule_id``: hand the match to the open session."""

    def run(c: Any) -> None:
        session = _active
        if session is None:  # cannot happen while sessions hold the lock; keep it loud
            raise RuntimeError(f"rule {rule_id} fired outside a session")
        try:
            # c._m maps each pattern alias to the fact it matched
            matched = {alias: _strip(fact) for alias, fact in sorted(c._m.items())}
            session._fired(rule_id, matched)
        except BaseException as exc:  # recorded, re-raised as EngineError after the call
            session.errors.append((rule_id, exc))

    return run


def _strip(fact: Mapping[str, Any]) -> Fact:
    return {key: value for key, value in fact.items() if key not in ("sid", "id", "$s")}


@dataclass
class Session:
    """One evaluation: its own durable_rules sid, opened and deleted around a ``with`` block."""

    ruleset: Ruleset
    listener: Listener
    firings: list[Firing] = field(default_factory=list)
    unconsumed: list[Fact] = field(default_factory=list)
    errors: list[tuple[str, BaseException]] = field(default_factory=list)
    _seen: set[tuple[Any, ...]] = field(default_factory=set)
    _sid: str = ""

    def __enter__(self) -> Session:
        global _active
        _lock.acquire()
        self._sid = str(next(_sids))
        _active = self
        return self

    def __exit__(self, *exc: object) -> None:
        global _active
        try:
            assert _host is not None
            _host.delete_state(self.ruleset.name, self._sid)
        finally:
            _active = None
            _lock.release()

    def assert_facts(self, facts: Iterable[Fact]) -> None:
        """Assert each new fact; rules fire (and :attr:`listener` runs) before this returns."""
        assert _host is not None and _active is self, "assert_facts outside its with-block"
        for fact in facts:
            key = tuple(sorted(fact.items()))  # facts hold scalars only
            if key in self._seen:
                continue
            self._seen.add(key)
            # An explicit id per fact: without one, durable_rules identifies a fact by a hash of
            # its content, and two different facts of one session that happen to hash alike are
            # refused as "already observed" (seen about once in 50,000 evaluations).
            try:
                _host.assert_fact(self.ruleset.name,
                                  {**fact, "id": f"f{len(self._seen)}", "sid": self._sid})
            except _durable.MessageNotHandledException:
                self.unconsumed.append(dict(fact))
            except _durable.MessageObservedException as exc:
                raise EngineError(f"durable_rules saw fact twice despite de-duplication: {fact}") from exc
            if self.errors:  # stop at the first failed action; its fact's firings are incomplete
                self._raise_errors()
        self._raise_errors()

    def _fired(self, rule_id: str, matched: dict[str, Fact]) -> None:
        self.firings.append(Firing(len(self.firings) + 1, rule_id, matched))
        self.listener(rule_id, matched)

    def _raise_errors(self) -> None:
        state = _host.get_state(self.ruleset.name, self._sid) if _host else {}
        if "exception" in state:
            self.errors.append(("?", RuntimeError(str(state["exception"]))))
        if self.errors:
            rule_id, exc = self.errors[0]
            raise EngineError(f"rule {rule_id} failed: {type(exc).__name__}: {exc}") from exc
