"""The former, host-based way of driving durable_rules, kept only as a reference for tests and
benchmarks: the adapter now calls durable_rules' C engine directly (see ``hipcoach.reasoning.durable.adapter``) and
must give byte-identical plans and traces to this path.

It asserts one fact at a time through ``durable.engine.Host``, whose closures and promises run an
action per firing; :class:`HostSession` is a drop-in for ``hipcoach.reasoning.durable.adapter.Session``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from durable import engine as durable

from hipcoach.errors import EngineError
from hipcoach.reasoning.durable.adapter import Fact, Listener, Ruleset


class _QuietHost(durable.Host):
    """A durable_rules host without the background dispatch and timer threads."""

    def _run(self) -> None:
        return None


_host = _QuietHost()
_registered: set[str] = set()
_sessions = iter(range(1, 10**9))


class HostSession:
    """One evaluation through durable_rules' host: one fact per call, an action per firing."""

    def __init__(self, ruleset: Ruleset, listener: Listener) -> None:
        self.ruleset = ruleset
        self.listener = listener
        self.unconsumed: list[Fact] = []
        self.errors: list[tuple[str, BaseException]] = []
        self._seen: set[tuple[tuple[str, Any], ...]] = set()
        self._sid = str(next(_sessions))
        if ruleset.name not in _registered:
            rules = json.loads(ruleset.definition)
            actions = {rule_id: {**rule, "run": self._action(rule_id)}
                       for rule_id, rule in rules.items()}
            _host.register_rulesets({ruleset.name: actions})
            _registered.add(ruleset.name)

    _current: HostSession | None = None

    @staticmethod
    def _action(rule_id: str):
        def run(c: Any) -> None:
            session = HostSession._current
            assert session is not None
            try:
                matched = {alias: {k: v for k, v in fact.items() if k not in ("sid", "id", "$s")}
                           for alias, fact in sorted(c._m.items())}
                session.listener(rule_id, matched)
            except BaseException as exc:
                session.errors.append((rule_id, exc))

        return run

    def __enter__(self) -> HostSession:
        HostSession._current = self
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            _host.delete_state(self.ruleset.name, self._sid)
        finally:
            HostSession._current = None

    def assert_facts(self, facts: Iterable[Fact]) -> None:
        for fact in facts:
            key = tuple(sorted(fact.items()))
            if key in self._seen:
                continue
            self._seen.add(key)
            try:
                _host.assert_fact(self.ruleset.name,
                                  {**fact, "id": f"f{len(self._seen)}", "sid": self._sid})
            except durable.MessageNotHandledException:
                self.unconsumed.append(dict(fact))
            if self.errors:
                rule_id, error = self.errors[0]
                raise EngineError(f"rule {rule_id} failed: {type(error).__name__}: {error}")
