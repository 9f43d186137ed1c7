"""The one module that talks to durable_rules: it drives durable_rules' C engine directly.

durable_rules is a C matcher (the ``durable_rules_engine`` extension: alpha tests, joins,
negation, agenda by ``pri``) inside a Python host (``durable.engine``). The host costs about
three times what the matching does: it encodes every fact and the session state to JSON and
decodes them again around every action, and builds a closure and a promise per firing. hipcoach
needs none of that (its actions only record what matched), so this module makes the same C calls
the host makes, in the same order, and keeps only the matching in durable_rules:

1. ``create_ruleset`` once per distinct compiled content (the registry is global).
2. Per :meth:`Session.assert_facts` call, one ``assert_facts`` of the new facts (each fact's JSON
   text is encoded once per process, with an id of its own).
3. ``start_action_for_state``, then ``complete_and_start_action`` until it returns nothing, as
   the host's ``do_actions`` does: the C engine hands over the matches one by one, lowest ``pri``
   first. Each match arrives as a JSON message; the same message is parsed once (fact ids are
   process-wide and the sid is constant, so a survey repeats few distinct messages).
4. The firings are put back into the order they would have had with one ``assert_fact`` per fact
   (what the host-based adapter did): stably by the newest fact each firing matched; within one
   fact, the C engine's own order (``pri``, then rule, then match) is kept. Then the listener
   runs for each, in that order.

The known traps, and how they stay handled:

* Asserting a fact identical to one already in the session raises: :class:`Session`
  de-duplicates before asserting, and gives every distinct fact its own id (without one,
  durable_rules identifies a fact by a hash of its content, and two different facts that hash
  alike were refused as already observed).
* A fact no rule consumes makes durable_rules' own host raise; a batched assert only says that
  *some* fact went unconsumed. Whether a fact is consumed depends on its content alone (on the
  alpha tests, never on other facts), so durable_rules is asked once per distinct fact, in a
  scratch session, and unconsumed facts are recorded, not asserted and not an error.
* durable_rules' host swallows exceptions inside actions into the session state. Here the
  listener runs outside the C engine; its failure becomes :class:`~hipcoach.errors.EngineError`
  naming the rule, as do refusals by the C engine.
* Rulesets live in a global registry and can't be redefined: one registration per distinct
  compiled content per process (the registry of this module is keyed by that content).
* At most 1024 open sessions per ruleset: one sid per evaluation, its state deleted when the
  evaluation ends. Evaluations run one at a time, so the sid string is the same every time; if a
  delete ever fails, that sid is abandoned. A session that never received a fact has no state
  to delete; one in which no rule fired first fires the adapter's own release rule, because
  deleting a state in which no action ever started crashes the process (see ``_RELEASE_RULE``).
* Not thread-safe: sessions are serialised by a process-wide lock (parallelise with processes),
  and do not nest.
* Its host's background timer threads, which could run actions after a call returned, never
  exist: the host is not used.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from operator import itemgetter
from typing import Any

from ...errors import EngineError

try:
    import durable_rules_engine as _engine
except ImportError as exc:
    # durable-rules compiled from its published source on Python 3.13 or later: the extension
    # builds, then cannot load (tools/build_durable.py makes the one fix it needs)
    if "PyEval_CallObject" not in str(exc):
        raise
    raise ImportError(
        "durable-rules was compiled without the fix this Python needs (its published source calls "
        "PyEval_CallObject, which Python 3.13 removed). Rebuild it, from hipcoach's source folder: "
        "python tools/build_durable.py && python -m pip install --force-reinstall --no-deps "
        "--find-links wheels durable-rules==2.0.28") from exc

Fact = dict[str, Any]
#: Called for every firing with the rule id and the facts it matched, by pattern alias. The
#: matched facts are shared with later firings of the same match: a listener reads them and
#: copies what it keeps.
Listener = Callable[[str, dict[str, Fact]], None]
#: A parsed match: rule id, the matched facts by alias (without session fields), their ids.
_Match = tuple[str, dict[str, Fact], tuple[str, ...]]
#: What is known of a distinct fact: its de-duplication key, and its id and JSON text (with id
#: and sid), or None for both if no rule's alpha tests accept it.
_Known = tuple[tuple[tuple[str, Any], ...], str | None, str | None]

#: Entries each memo (known facts, parsed matches) may hold; a full memo stops
#: growing and is emptied when the next session opens, so memory stays flat in long batches.
MEMO_LIMIT = 50_000
#: Fields durable_rules adds to or needs on a fact; listeners never see them.
_SESSION_FIELDS = ("sid", "id", "$s")
_PROBE_SID = "probe"
#: durable_rules leaves a new session's action context uninitialised until an action starts,
#: and deleting the session frees it: a session in which no rule fired crashed the process when
#: deleted. Every ruleset therefore gets one rule of the adapter's own, fired on a fact with
#: this field (no hipcoach fact has it) to start an action before such a session is deleted.
_RELEASE_RULE, _RELEASE_FIELD = "hipcoach$release", "hipcoach_release"
# durable_rules' C engine codes (rules.h), as its host's Ruleset._handle_result reads them
_NOT_HANDLED, _OBSERVED = 1, 2

_lock = threading.RLock()
_registered: dict[str, Ruleset] = {}
_open = False
_sessions = 0  # opened so far in this process
_sid = "1"
_spare_sids = itertools.count(2)
#: fact ids are unique in the process, so an id never stands for two facts in one session
_ids = itertools.count(1)


def _steady_malloc() -> None:
    """Keep glibc from mapping and unmapping memory for every session's state pools.

    Each durable_rules session allocates large blocks and frees them when its state is deleted;
    glibc serves blocks above its mmap threshold with a fresh mapping each time. A fixed high
    threshold and trim threshold keep those blocks in the heap for the next session: measured,
    the C engine's share of a plan dropped from about 0.4 ms to 0.15 ms. Done when a second
    session opens, so a process that evaluates once (``hipcoach plan``) never loads ctypes.
    """
    import ctypes  # here, not at the top: see above

    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library's symbols are the process's own
    except (OSError, AttributeError):  # not glibc
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 * 1024 * 1024)
    mallopt(m_trim_threshold, 64 * 1024 * 1024)


class Ruleset:
    """A ruleset registered with durable_rules' C engine, once per distinct compiled content."""

    __slots__ = ("definition", "facts", "handle", "matches", "name", "rule_ids")

    def __init__(self, name: str, rule_ids: tuple[str, ...], definition: str, handle: int) -> None:
        self.name = name
        self.rule_ids = rule_ids
        #: the JSON text durable_rules compiled
        self.definition = definition
        #: durable_rules' handle for it
        self.handle = handle
        #: repr of a fact (exact: tells 1 from 1.0 from True) -> what is known of it
        self.facts: dict[str, _Known] = {}
        #: a match message as durable_rules wrote it -> its parsed form
        self.matches: dict[str, _Match] = {}


def register(definitions: Mapping[str, Mapping[str, Any]]) -> Ruleset:
    """Register compiled rule definitions once per process and return the handle.

    ``definitions`` maps rule id to a durable_rules rule definition without its action: every
    rule's action is "tell the session's listener what matched".
    """
    payload = json.dumps(definitions, sort_keys=True, ensure_ascii=False)
    with _lock:
        if payload in _registered:
            return _registered[payload]
        name = f"hipcoach_{len(_registered) + 1}"
        # the text durable_rules' host would hand over: the rules in their order, as given
        rules = {rule_id: dict(rule) for rule_id, rule in definitions.items()}
        definition = json.dumps(rules, ensure_ascii=False)
        # The release rule goes last with the highest pri, so every other rule keeps its place
        # in the C engine's agenda (it orders rules by pri, then by definition order).
        last = max((rule.get("pri", 0) for rule in rules.values()), default=0)
        release = {_RELEASE_RULE: {"all": [{"m": {_RELEASE_FIELD: 1}}], "pri": last}}
        try:
            handle = _engine.create_ruleset(
                name, json.dumps({**rules, **release}, ensure_ascii=False))
        except _engine.error as exc:
            raise EngineError(f"durable_rules refused the compiled rules: {exc}") from exc
        ruleset = Ruleset(name, tuple(definitions), definition, handle)
        _registered[payload] = ruleset
        return ruleset


def _learn(ruleset: Ruleset, new: dict[str, Fact]) -> dict[str, _Known]:
    """What is known of each new fact (``new`` maps its repr to it).

    Whether a rule accepts a fact is asked of durable_rules itself, once per distinct fact (the
    answer depends on the fact's content only, never on other facts): the new facts go one by
    one, each with an id of its own, into one scratch session, released when all are asked.
    """
    learned: dict[str, _Known] = {}
    try:
        for number, (exact, fact) in enumerate(new.items()):
            probe = json.dumps({**fact, "id": f"probe{number}", "sid": _PROBE_SID}, ensure_ascii=False)
            try:
                code, _ = _engine.assert_fact(ruleset.handle, probe)
            except _engine.error as exc:
                raise EngineError(f"durable_rules refused the fact {fact}: {exc}") from exc
            # the key the host-based adapter de-duplicated by: key order, and 1, 1.0 and True, alike
            key = tuple(sorted(fact.items()))  # facts hold scalars only
            entry: _Known = (key, None, None)
            if code != _NOT_HANDLED:
                fact_id = f"f{next(_ids)}"
                entry = (key, fact_id,
                         json.dumps({**fact, "id": fact_id, "sid": _sid}, ensure_ascii=False))
            learned[exact] = entry
            if len(ruleset.facts) < MEMO_LIMIT:
                ruleset.facts[exact] = entry
    finally:
        if new:
            try:
                _release(ruleset, _PROBE_SID)
            except _engine.error as exc:
                raise EngineError(f"durable_rules could not release its scratch session: {exc}") from exc
    return learned


def _release(ruleset: Ruleset, sid: str) -> None:
    """Delete session ``sid``, which has received a fact, after starting an action in it (see
    ``_RELEASE_RULE``): with an action started its action context is set, so deleting is safe."""
    release = json.dumps({_RELEASE_FIELD: 1, "id": _RELEASE_RULE, "sid": sid})
    _, state = _engine.assert_fact(ruleset.handle, release)
    _engine.start_action_for_state(ruleset.handle, state)
    _engine.delete_state(ruleset.handle, sid)


def _parse(message: str) -> _Match:
    """One match message of the C engine: ``{rule: {alias: fact, ...}}``."""
    rule_id, match = next(iter(json.loads(message).items()))  # as the host reads it: the first
    if not isinstance(match, dict):
        raise EngineError(f"rule {rule_id} fired on a batch of matches (count or cap), "
                          "which hipcoach does not use")
    matched = {alias: {key: value for key, value in fact.items() if key not in _SESSION_FIELDS}
               for alias, fact in sorted(match.items())}
    return rule_id, matched, tuple(fact["id"] for fact in match.values())


def _trim(ruleset: Ruleset) -> None:
    """Empty any memo that filled up, between sessions (never during one)."""
    for memo in (ruleset.facts, ruleset.matches):
        if len(memo) >= MEMO_LIMIT:
            memo.clear()


class Session:
    """One evaluation in its own durable_rules session, opened and deleted around a ``with``."""

    def __init__(self, ruleset: Ruleset, listener: Listener) -> None:
        self.ruleset = ruleset
        self.listener = listener
        #: facts no rule consumes, in the order they were asserted
        self.unconsumed: list[Fact] = []
        self._seen: set[tuple[tuple[str, Any], ...]] = set()
        self._position: dict[str, int] = {}  # fact id -> its place in this session
        self._received = False
        self._started = False  # an action was started in the C engine (see _release)

    def __enter__(self) -> Session:
        global _open, _sessions
        _lock.acquire()
        if _open:
            _lock.release()
            raise EngineError("durable_rules sessions do not nest: finish one evaluation first")
        _open = True
        _sessions += 1
        if _sessions == 2:
            _steady_malloc()
        _trim(self.ruleset)
        return self

    def __exit__(self, *exc: object) -> None:
        global _open, _sid
        try:
            if self._received:
                try:
                    if self._started:
                        _engine.delete_state(self.ruleset.handle, _sid)
                    else:
                        _release(self.ruleset, _sid)
                except _engine.error as error:
                    # that sid may still hold this evaluation's facts: never use it again
                    _sid = str(next(_spare_sids))
                    for ruleset in _registered.values():  # their texts name the old sid
                        ruleset.facts.clear()
                    raise EngineError(
                        f"durable_rules could not delete a session: {error}") from error
        finally:
            _open = False
            _lock.release()

    def assert_facts(self, facts: Iterable[Fact]) -> None:
        """Assert each new fact; rules fire (and :attr:`listener` runs) before this returns."""
        assert _open, "assert_facts outside its with-block"
        known = self.ruleset.facts
        seen = self._seen
        position = self._position
        batch: list[str] = []
        facts = list(facts)
        exacts = [repr(fact) for fact in facts]
        new = {exact: fact for exact, fact in zip(exacts, facts) if exact not in known}
        learned = _learn(self.ruleset, new) if new else {}
        for fact, exact in zip(facts, exacts):
            key, fact_id, text = known.get(exact) or learned[exact]
            if key in seen:
                continue
            seen.add(key)
            if fact_id is None or text is None:
                self.unconsumed.append(dict(fact))
                continue
            position[fact_id] = len(position)
            batch.append(text)
        if batch:
            self._fire("[" + ",".join(batch) + "]")

    def _fire(self, batch: str) -> None:
        """Assert ``batch`` (a JSON list), take every match the C engine makes, then hand them
        to the listener in one-fact-at-a-time order."""
        handle = self.ruleset.handle
        matches = self.ruleset.matches
        position = self._position
        firings: list[tuple[int, _Match]] = []
        try:
            code, state = _engine.assert_facts(handle, batch)
            self._received = True
            if code == _OBSERVED:
                raise EngineError("durable_rules saw a fact twice despite de-duplication")
            if code == _NOT_HANDLED:
                raise EngineError("durable_rules consumed no rule for a fact it had accepted alone")
            started = _engine.start_action_for_state(handle, state)
            message = None
            if started is not None:
                self._started = True
                message = started[1]
            while message is not None:
                match = matches.get(message)
                if match is None:
                    match = _parse(message)
                    if len(matches) < MEMO_LIMIT:
                        matches[message] = match
                firings.append((max(map(position.__getitem__, match[2])), match))
                message = _engine.complete_and_start_action(handle, state)
        except _engine.error as exc:
            raise EngineError(f"durable_rules failed: {exc}") from exc
        firings.sort(key=itemgetter(0))  # stable: the C engine's order within each fact stays
        for _, (rule_id, matched, _ids) in firings:
            try:
                self.listener(rule_id, matched)
            except Exception as exc:
                raise EngineError(f"rule {rule_id} failed: {type(exc).__name__}: {exc}") from exc
