"""Rule traces: writing and reading them, picking one, filtering its events, and coverage.

A trace is one JSON object per evaluation (``Planner.trace``): the answers, every event in order
(rule firings with the facts they matched and what they concluded, certainty before and after;
facts the engine asserted or withheld between layers; the plan step's picks and drops), and the
plan. A file holds one trace per line (JSON Lines), so a batch can be streamed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, TextIO

from .atomic import write_atomic
from .errors import TraceError
from .knowledge import KnowledgeBase
from .rulefile import RuleBase

Record = dict[str, Any]
KEYS = ("respondent", "answers", "status", "events", "plan")


def dump(record: Record) -> str:
    """One trace as one JSON line (keys in builder order, so output is byte-stable)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_traces(path: Path, records: Iterable[Record]) -> None:
    """Write ``records`` as JSON Lines, whole or not at all."""

    def write(stream: TextIO) -> None:
        for record in records:
            stream.write(dump(record))

    write_atomic(path, write)


def read_traces(path: Path) -> Iterator[Record]:
    """Stream the traces in ``path``; a bad line is an error naming the file and line."""
    try:
        stream = open(path, encoding="utf-8")
    except OSError as exc:
        raise TraceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TraceError(f"{path}:{number}: not a JSON trace line: {exc.msg}") from None
            if not isinstance(record, dict) or any(key not in record for key in KEYS):
                raise TraceError(f"{path}:{number}: not a hipcoach trace "
                                 f"(needs keys {', '.join(KEYS)}); write one with --trace")
            yield record


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
        matched = "; ".join(_fact_text(fact) for fact in event["matched"].values())
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


def _fact_text(fact: dict[str, Any]) -> str:
    kind = fact.get("t")
    if kind == "answer":
        key, value = next((k, v) for k, v in fact.items() if k != "t")
        return f"answer {key}={json.dumps(value, ensure_ascii=False)}"
    body = ", ".join(f"{k}={v}" for k, v in fact.items() if k != "t")
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


def coverage(records: Iterable[Record], rulebase: RuleBase, kb: KnowledgeBase) -> dict[str, Any]:
    """Over a batch: how often each rule fired, which never fired, which exercises were never
    chosen. Rules and exercises are listed in file order, so reports diff cleanly."""
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
    return {
        "traces": count,
        "status": dict(sorted(statuses.items())),
        "rules": [{"rule": rule, "fired": fired[rule], "traces": traces_with[rule]} for rule in rules],
        "never_fired": [rule for rule in rules if not fired[rule]],
        "unknown_rules": sorted(set(fired) - set(rules)),
        "exercises": [{"exercise": ex, "chosen": chosen[ex]} for ex in kb.exercises],
        "never_chosen": [ex for ex in kb.exercises if not chosen[ex]],
    }
