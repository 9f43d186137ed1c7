"""Rule traces: writing and reading them, picking one, filtering its events, and coverage.

A trace is one JSON object per evaluation (``Planner.trace``): the answers, every event in order
(rule firings with the facts they matched and what they concluded, certainty before and after;
facts the engine asserted or withheld between layers; the plan step's picks and drops), and the
plan. A file holds one trace per line (JSON Lines), so a batch can be streamed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, TextIO

from ..atomic import write_atomic
from ..errors import TraceError
from ..kb.knowledge import KnowledgeBase
from ..kb.rulefile import ProgressRules, RuleBase
from ..kb.schema import unreadable
from ..reasoning.facts import TYPE_FIELD, answer_of, fields_of, kind_of

Record = dict[str, Any]
KEYS = ("respondent", "answers", "status", "events", "plan")


def dump(record: Mapping[str, Any]) -> str:
    """One trace as one JSON line (keys in builder order, so output is byte-stable)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_traces(path: Path, records: Iterable[Mapping[str, Any]]) -> None:
    """Write ``records`` as JSON Lines, whole or not at all."""

    def write(stream: TextIO) -> None:
        for record in records:
            stream.write(dump(record))

    write_atomic(path, write)


#: The longest trace line read, in bytes; a traced evaluation takes about 50 kB.
MAX_LINE = 16 * 1024 * 1024


def read_traces(path: Path) -> Iterator[Record]:
    """Stream the traces in ``path``; a line that is not UTF-8, not JSON, or not a trace of the
    shape the ``trace`` commands read is an error naming the file and line."""
    try:
        stream = open(path, "rb")  # noqa: SIM115 (a with-block below; opening errors are told apart)
    except OSError as exc:
        raise TraceError(f"{path}: {unreadable(exc)}") from None
    with stream:
        number = 0
        while True:
            try:
                raw = stream.readline(MAX_LINE + 1)
            except OSError as exc:
                raise TraceError(f"{path}: {unreadable(exc)}") from None
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE:
                raise TraceError(f"{path}:{number}: line longer than {MAX_LINE // 1024 // 1024} MB; "
                                 f"not a hipcoach trace")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise TraceError(f"{path}:{number}: not UTF-8 text (byte {raw[exc.start]:#04x}); "
                                 f"not a hipcoach trace") from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TraceError(f"{path}:{number}: not a JSON trace line: {exc.msg}") from None
            except (ValueError, RecursionError) as exc:  # a 5,000-digit number; nesting too deep
                problem = "nested too deep" if isinstance(exc, RecursionError) else \
                    str(exc).split(";")[0].split(":")[0]
                raise TraceError(f"{path}:{number}: not a JSON trace line: {problem}") from None
            if not isinstance(record, dict) or any(key not in record for key in KEYS):
                raise TraceError(f"{path}:{number}: not a hipcoach trace "
                                 f"(needs keys {', '.join(KEYS)}); write one with --trace")
            wrong = shape_problem(record)
            if wrong is not None:
                raise TraceError(f"{path}:{number}: not a hipcoach trace: {wrong}")
            yield record


# A trace's shape, as far as the ``trace`` commands read it, in a small language: a type or a
# tuple of types is an isinstance test, a dict lists required keys, a one-item list is a list
# of such items, and a function returns the shape that fits the value it is given.
Shape = Any
_NUMBER = (int, float)
_TEXT_OR_NONE = (str, type(None))


def _premise(value: Any) -> Shape:
    """A fact a firing matched, as the plan records it: an answer, a derived fact with its
    certainty, an exercise's equipment, or a plan item."""
    if isinstance(value, dict):
        for key, shape in (("answer", {"answer": str, "value": object}),
                           ("symptom", {"symptom": str, "confidence": _NUMBER}),
                           ("cause", {"cause": str, "confidence": _NUMBER}),
                           ("requires", {"exercise": str, "requires": str}),
                           ("demand", {"exercise": str, "demand": str}),
                           ("ruled_out", {"ruled_out": str}),
                           ("item", {"item": str, "category": str})):
            if key in value:
                return shape
    return {"exercise": str, "confidence": _NUMBER}


def _support(*derived: str) -> Shape:
    """A firing behind a conclusion, whose premises may be derived facts of ``derived`` kinds
    only: a symptom rests on answers, a cause on symptoms, so explaining one ends."""
    def premise(value: Any) -> Shape:
        if isinstance(value, dict) and any(k in value for k in ("symptom", "cause") if k not in derived):
            return _Refuse("rests on a derived fact of its own layer or a later one")
        return _premise(value)
    return {"rule": str, "confidence": _NUMBER, "rationale": str, "source": str, "from": [premise]}


class _Refuse:
    """A shape no value has; its text says why."""

    def __init__(self, why: str) -> None:
        self.why = why


def _fact(value: Any) -> Shape:
    """A matched fact: its type under ``TYPE_FIELD``; an answer fact also holds the answer."""
    if isinstance(value, dict) and kind_of(value) == "answer" and len(value) < 2:
        return _Refuse("names no answer")
    return {TYPE_FIELD: str}


def _conclusion(value: Any) -> Shape:
    if not isinstance(value, dict):
        return {"kind": str}
    if "cf_after" in value:
        return {"kind": str, "id": str, "cf": _NUMBER, "cf_before": _NUMBER, "cf_after": _NUMBER}
    if value.get("kind") == "require":
        return {"kind": str, "categories": [str]}
    if value.get("kind") == "schedule":
        return {"kind": str, "id": str, "slot": str}
    return {"kind": str, "id": str}


_EVENTS: dict[str, Shape] = {
    "fire": {"seq": int, "rule": str, "layer": str, "matched": {str: _fact},
             "concludes": [_conclusion]},
    "assert": {"seq": int, "layer": str, "fact": {"kind": str, "id": str, "cf": _NUMBER},
               "from": [int]},
    "withhold": {"seq": int, "layer": str, "fact": {"kind": str, "id": str, "cf": _NUMBER},
                 "from": [int], "threshold": _NUMBER},
    "select": {"seq": int, "exercise": str, "reason": str, "rule": _TEXT_OR_NONE},
    "drop": {"seq": int, "exercise": str, "reason": str, "rule": _TEXT_OR_NONE},
    "unmet": {"seq": int, "reason": str},
}


def _event(value: Any) -> Shape:
    kind = value.get("event") if isinstance(value, dict) else None
    if isinstance(kind, str) and kind in _EVENTS:
        return _EVENTS[kind]
    return {"event": _Refuse(f"must be one of {', '.join(_EVENTS)}")}


_CONCEPT = {"id": str, "name": str, "confidence": _NUMBER}
RECORD_SHAPE: Shape = {
    "answers": {str: object},
    "status": str,
    "events": [_event],
    "plan": {
        "status": str,
        "reasons": [{"id": str, "message": str, "rule": str, "source": str, "from": [_premise]}],
        "symptoms": [{**_CONCEPT, "because": [_support()]}],
        "causes": [{**_CONCEPT, "because": [_support("symptom")]}],
        "items": [{"exercise": str, "name": str, "category": str, "when": str,
                   "confidence": _NUMBER, "because": [_support("symptom", "cause")],
                   "chosen": {"rule": _TEXT_OR_NONE, "reason": str}}],
        "dropped": [{"exercise": str, "reason": str}],
    },
}


def shape_problem(record: Record) -> str | None:
    """What in ``record`` is not the shape of a hipcoach trace, or None: checked once on
    reading, so the commands can index into a record without guarding every step."""
    return _problem(record, RECORD_SHAPE, "")


def _problem(value: Any, shape: Shape, where: str) -> str | None:
    if isinstance(shape, _Refuse):
        return f"{where or 'the line'} {shape.why}"
    if callable(shape) and not isinstance(shape, type):
        return _problem(value, shape(value), where)
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{where} must be a list, not {_kind(value)}"
        for index, item in enumerate(value):
            problem = _problem(item, shape[0], f"{where}[{index}]")
            if problem is not None:
                return problem
        return None
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{where or 'the line'} must be an object, not {_kind(value)}"
        if str in shape:  # any keys, each value of one shape
            for key, item in value.items():
                problem = _problem(item, shape[str], f"{where}.{key}" if where else key)
                if problem is not None:
                    return problem
            return None
        for key, item_shape in shape.items():
            inner = f"{where}.{key}" if where else key
            if key not in value:
                return f"{where or 'the line'} has no {key!r}"
            problem = _problem(value[key], item_shape, inner)
            if problem is not None:
                return problem
        return None
    if not isinstance(value, shape) or (isinstance(value, bool) and shape in (int, _NUMBER)):
        return f"{where} must be {_kind_of(shape)}, not {_kind(value)}"
    return None


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false",
            type(None): "null"}.get(type(value), "a number")


def _kind_of(shape: Any) -> str:
    names = {str: "a string", int: "a whole number", float: "a number", type(None): "null",
             object: "anything", dict: "an object", list: "a list"}
    kinds = shape if isinstance(shape, tuple) else (shape,)
    if kinds == _NUMBER:
        return "a number"
    return " or ".join(names.get(kind, kind.__name__) for kind in kinds)


def pick(path: Path, respondent: str | None = None) -> Record:
    """The one trace in ``path``, or the one for ``respondent`` in a batch file."""
    ids: list[str] = []
    found: Record | None = None
    for record in read_traces(path):
        ident = str(record["respondent"]) if record["respondent"] is not None else None
        if respondent is not None and ident == respondent:
            return record
        ids.append(ident or "(none)")
        found = found or record
    if found is None:
        raise TraceError(f"{path}: holds no traces")
    if respondent is not None:
        raise TraceError(f"{path}: no trace for respondent {respondent!r}; "
                         f"respondents: {', '.join(ids[:10])}{' ...' if len(ids) > 10 else ''}")
    if len(ids) > 1:
        raise TraceError(f"{path}: holds {len(ids)} traces; choose one with --respondent "
                         f"(respondents: {', '.join(ids[:10])}{' ...' if len(ids) > 10 else ''})")
    return found


def filter_events(record: Record, rule: str | None = None, layer: str | None = None,
                  fact: str | None = None) -> list[dict[str, Any]]:
    """Events of one trace: ``rule`` is a glob or prefix of rule ids (``cause.*``), ``layer``
    a layer name, ``fact`` text that must occur in the facts the event matched or concluded."""
    result = []
    for event in record["events"]:
        name = event.get("rule") or ""
        if rule and not (fnmatchcase(name, rule) or name.startswith(rule)):
            continue
        if layer and event.get("layer") != layer:
            continue
        if fact:
            parts = [event.get(key) for key in ("matched", "concludes", "fact", "exercise")]
            if fact not in json.dumps(parts, ensure_ascii=False):
                continue
        result.append(event)
    return result


def describe(event: dict[str, Any]) -> str:
    """One event for ``trace show``: a firing takes three lines (rule; facts matched; what it
    concluded), every other event one."""
    seq, kind = event["seq"], event["event"]
    if kind == "fire":
        matched = "; ".join(fact_text(fact) for fact in event["matched"].values())
        concludes = "; ".join(_conclusion_text(c) for c in event["concludes"])
        return f"{seq:>4} fire     {event['layer']:<10} {event['rule']}\n" \
               f"          matched {matched}\n          => {concludes}"
    if kind in ("assert", "withhold"):
        fact = event["fact"]
        extra = f" (below threshold {event['threshold']})" if kind == "withhold" else ""
        return f"{seq:>4} {kind:<8} {event['layer']:<10} {fact['kind']} {fact['id']} " \
               f"cf {fact['cf']}{extra} from firings {', '.join(map(str, event['from']))}"
    if kind == "unmet":
        return f"{seq:>4} unmet    plan       {event['reason']}"
    by = f" [{event['rule']}]" if event.get("rule") else ""
    return f"{seq:>4} {kind:<8} plan       {event['exercise']}{by}: {event['reason']}"


def fact_text(fact: dict[str, Any]) -> str:
    """A matched fact in one line: ``checkin back=0, pain_during=2, ...``."""
    kind = kind_of(fact)
    if kind == "answer":
        key, value = answer_of(fact)
        return f"answer {key}={json.dumps(value, ensure_ascii=False)}"
    body = ", ".join(f"{k}={v}" for k, v in fields_of(fact).items())
    return f"{kind} {body}"


def _conclusion_text(conclusion: dict[str, Any]) -> str:
    kind = conclusion["kind"]
    if "cf_after" in conclusion:
        return (f"{kind} {conclusion['id']} +{conclusion['cf']} "
                f"({conclusion['cf_before']} -> {conclusion['cf_after']})")
    if kind == "require":
        muscles = conclusion.get("targets")
        working = f" working {' or '.join(muscles)}" if muscles else ""
        return f"require {' or '.join(conclusion['categories'])}{working}"
    if kind == "schedule":
        return f"schedule {conclusion['id']} in {conclusion['slot']}"
    return f"{kind} {conclusion['id']}"


def coverage(records: Iterable[Record], rulebase: RuleBase, kb: KnowledgeBase,
             progress: ProgressRules | None = None) -> dict[str, Any]:
    """Over a batch: how often each rule fired, which never fired, which exercises were never
    chosen. Rules and exercises are listed in file order, so reports diff cleanly. The
    ``progress`` rules are listed too when the batch holds check-in traces (a progress rule
    fired), and left out of a batch of plans, where they cannot fire."""
    fired: Counter[str] = Counter()
    traces_with: Counter[str] = Counter()
    chosen: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    count = 0
    for record in records:
        count += 1
        statuses[record["status"]] += 1
        rules_fired = [e["rule"] for e in record["events"] if e["event"] == "fire"]
        fired.update(rules_fired)
        traces_with.update(set(rules_fired))
        chosen.update(item["exercise"] for item in record["plan"]["items"])
    rules = [rule.id for rule in rulebase.rules]
    if progress is not None and any(rule.id in fired for rule in progress.rules):
        rules += [rule.id for rule in progress.rules]
    return {
        "traces": count,
        "status": dict(sorted(statuses.items())),
        "rules": [{"rule": rule, "fired": fired[rule], "traces": traces_with[rule]} for rule in rules],
        "never_fired": [rule for rule in rules if not fired[rule]],
        "unknown_rules": sorted(set(fired) - set(rules)),
        "exercises": [{"exercise": ex, "chosen": chosen[ex]} for ex in kb.exercises],
        "never_chosen": [ex for ex in kb.exercises if not chosen[ex]],
    }
