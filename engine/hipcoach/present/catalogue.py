"""The knowledge base and rules as people browse them (``hipcoach kb show``): each entry as
JSON-ready data, a rule in the shape of its file, the rules that mention an entry, and the same
in words for reading."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..kb.checks import concluded, literals
from ..kb.knowledge import KnowledgeBase
from ..kb.rulefile import Pattern, Ref, Requirement, Rule, RuleBase

#: Kinds of entry `kb show ID` looks up, in the order a clash of ids is resolved.
KINDS = ("exercise", "cause", "symptom", "rule", "source", "question", "advice")
#: The kinds the whole-KB JSON lists, under their plural keys.
LISTED = ("symptom", "cause", "exercise", "rule")
#: Which conclusions and which pattern fields name an entry of a kind.
_CONCLUSION_KIND = {"propose": "exercise", "exclude": "exercise", "cause": "cause", "symptom": "symptom",
                    "advise": "advice"}
_FIELD_KIND = {("candidate", "exercise"): "exercise", ("item", "exercise"): "exercise",
               ("requires", "exercise"): "exercise", ("cause", "name"): "cause",
               ("symptom", "name"): "symptom"}


def counts(kb: KnowledgeBase, rulebase: RuleBase) -> str:
    return (f"{len(kb.symptoms)} symptoms, {len(kb.causes)} causes, {len(kb.exercises)} exercises, "
            f"{len(rulebase.rules)} rules")


def by_kind(kb: KnowledgeBase, rulebase: RuleBase) -> dict[str, dict[str, Any]]:
    return {"exercise": kb.exercises, "cause": kb.causes, "symptom": kb.symptoms,
            "rule": rulebase.by_id(), "source": kb.sources, "question": kb.questions,
            "advice": kb.advice}


def mentions(rule: Rule, kind: str, ident: str) -> bool:
    """Whether ``rule`` names ``ident`` (of ``kind``) in its patterns, conclusion or source."""
    if kind == "source":
        return rule.source == ident
    if kind == "question":
        return ident in rule.answers_used
    if _CONCLUSION_KIND.get(rule.conclusion) == kind and ident in concluded(rule):
        return True
    return any(_FIELD_KIND.get((p.fact, t.field)) == kind and ident in literals(t)
               for p in rule.patterns for t in p.tests)


def entry_data(kind: str, item: Any) -> dict[str, Any]:
    """An entry as JSON-ready data: its fields; a rule in the shape of its file."""
    if kind != "rule":
        return _plain(item)
    return {"id": item.id, "layer": item.layer, "file": Path(item.file).name,
            "when": [_pattern(p) for p in item.patterns],
            "then": {item.conclusion: _plain(item.target)}, "cf": item.cf,
            "rationale": item.rationale, "source": item.source, "priority": item.priority}


def _pattern(pattern: Pattern) -> dict[str, Any]:
    return {"fact": pattern.fact, "alias": pattern.alias, "negated": pattern.negated,
            "tests": [{"field": t.field, "op": t.op, "value": _plain(t.value)} for t in pattern.tests]}


def _plain(value: Any) -> Any:
    if isinstance(value, Ref):
        return f"{value.alias}.{value.field}"
    if isinstance(value, Requirement):
        plain = list(value.categories)
        return {"category": plain, "targets": list(value.targets)} if value.targets else plain
    if hasattr(value, "_asdict"):  # an entry (a named tuple): its fields by name
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def summary(kb: KnowledgeBase, rulebase: RuleBase, catalogue: dict[str, dict[str, Any]]) -> str:
    """Counts, then each kind's ids with a name to recognise them by."""
    label: dict[str, Callable[[Any], str]] = {
        "symptom": lambda s: s.name, "cause": lambda c: c.name,
        "exercise": lambda e: f"{e.name} ({kb.vocabulary.label(e.category)})",
        "rule": lambda r: f"{r.layer}: {r.conclusion} {_text(_plain(r.target))}",
        "source": lambda s: s.citation, "question": lambda q: q.prompt,
        "advice": lambda a: a.text if len(a.text) <= 70 else a.text[:69] + "…",
    }
    lines = [f"{counts(kb, rulebase)}, {len(kb.sources)} sources, {len(kb.questions)} questions"]
    for kind in ("symptom", "cause", "exercise", "advice", "source", "question", "rule"):
        entries = catalogue[kind]
        width = max((len(i) for i in entries), default=0)
        title = "Advice" if kind == "advice" else f"{kind.capitalize()}s"
        lines += ["", f"{title} ({len(entries)})"]
        lines += [f"  {i.ljust(width)}  {label[kind](item)}" for i, item in entries.items()]
    return "\n".join(lines)


def entry_text(entry: dict[str, Any]) -> str:
    lines = [f"{entry['kind']} {entry['id']}"]
    for key, value in entry.items():
        if key in ("kind", "id"):
            continue
        if entry["kind"] == "rule" and key == "when":
            value = [_pattern_text(p) for p in value]
        if isinstance(value, list) and len(_text(value)) > 70:
            lines.append(f"  {key}:")
            lines += [f"    - {_text(item)}" for item in value]
        else:
            lines.append(f"  {key}: {_text(value)}")
    return "\n".join(lines)


def _pattern_text(pattern: dict[str, Any]) -> str:
    """``[no] FACT FIELD OP VALUE, ... [as ALIAS]``; aliases the loader made up are left out."""
    tests = ", ".join(f"{t['field']} {t['op']} {_text(t['value'])}" for t in pattern["tests"])
    fact, alias = pattern["fact"], pattern["alias"]
    named = "" if re.fullmatch(rf"{fact}_\d+_\d+", alias) else f" as {alias}"
    return f"{'no ' if pattern['negated'] else ''}{fact} {tests or 'any'}{named}"


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_text(v)}" for k, v in value.items())
    if value is None:
        return "-"
    return str(value).lower() if isinstance(value, bool) else str(value)
