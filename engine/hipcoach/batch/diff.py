"""What changing the rules does to real runners: the plans of two rule bases, compared person by
person.

The same respondents are planned under an *old* and a *new* knowledge and rule base: the answer
files of a folder, every row of a survey export (read exactly as ``hipcoach score`` reads it,
with the same options), or the answers of scenario files. For each respondent, a
:class:`Change` says what moved: the status and urgency, exercises in and out, symptom and
cause certainties that moved by at least a threshold (one that appears or disappears moves
from or to 0), advice in and out, and which rules fired under one base only (the why).

Both planners live in this process: durable_rules keeps its rulesets in a global registry, and
the adapter registers one per distinct compiled content, so two different rule bases are two
rulesets, evaluated one at a time.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AnswersError
from ..kb.answers import read_answers
from ..kb.provenance import Provenance
from ..planning.planner import Planner
from ..trace.tracefile import read_traces

Record = Mapping[str, Any]  # a trace line
#: Certainty moves smaller than this are not reported by default.
THRESHOLD = 0.05
#: Answer files an answers folder may hold.
ANSWER_FILES = ("*.json", "*.yaml", "*.yml")
#: What a change can be in, in the order a summary counts them.
KINDS = ("status", "urgency", "exercises", "certainty", "advice")
#: A respondent one base planned and the other rejected, in the status column.
REJECTED = "rejected"
CSV_COLUMNS = ("respondent", "what", "item", "old", "new")


@dataclass(frozen=True)
class Change:
    """How one respondent's plan differs between the old base and the new."""

    respondent: str
    status: tuple[str, str] | None
    urgency: tuple[str | None, str | None] | None
    exercises_in: tuple[str, ...]
    exercises_out: tuple[str, ...]
    certainty: tuple[tuple[str, float, float], ...]  # (symptom or cause id, old, new)
    advice_in: tuple[str, ...]
    advice_out: tuple[str, ...]
    rules_old_only: tuple[str, ...]  # fired under the old base only
    rules_new_only: tuple[str, ...]

    @property
    def kinds(self) -> tuple[str, ...]:
        """What changed, as :data:`KINDS`; empty when the plan is the same."""
        moved = {"status": self.status is not None, "urgency": self.urgency is not None,
                 "exercises": bool(self.exercises_in or self.exercises_out),
                 "certainty": bool(self.certainty),
                 "advice": bool(self.advice_in or self.advice_out)}
        return tuple(kind for kind in KINDS if moved[kind])

    def rows(self) -> Iterator[tuple[str, str, str, str, str]]:
        """The change as rows of the changes table (:data:`CSV_COLUMNS`)."""
        who = self.respondent
        if self.status:
            yield who, "status", "", self.status[0], self.status[1]
        if self.urgency:
            yield who, "urgency", "", self.urgency[0] or "", self.urgency[1] or ""
        yield from ((who, "exercise", e, "", "in") for e in self.exercises_in)
        yield from ((who, "exercise", e, "in", "") for e in self.exercises_out)
        yield from ((who, "certainty", i, f"{old:g}", f"{new:g}") for i, old, new in self.certainty)
        yield from ((who, "advice", a, "", "in") for a in self.advice_in)
        yield from ((who, "advice", a, "in", "") for a in self.advice_out)
        yield from ((who, "rule", r, "fired", "") for r in self.rules_old_only)
        yield from ((who, "rule", r, "", "fired") for r in self.rules_new_only)

    def as_json(self) -> dict[str, Any]:
        return {"respondent": self.respondent, "changed": list(self.kinds),
                "status": list(self.status) if self.status else None,
                "urgency": list(self.urgency) if self.urgency else None,
                "exercises": {"in": list(self.exercises_in), "out": list(self.exercises_out)},
                "certainty": [{"id": i, "old": old, "new": new} for i, old, new in self.certainty],
                "advice": {"in": list(self.advice_in), "out": list(self.advice_out)},
                "rules": {"old_only": list(self.rules_old_only),
                          "new_only": list(self.rules_new_only)}}

    def line(self) -> str:
        """One line for the text summary."""
        parts = []
        if self.status:
            parts.append(f"status {self.status[0]} -> {self.status[1]}")
        if self.urgency:
            parts.append(f"urgency {self.urgency[0] or 'none'} -> {self.urgency[1] or 'none'}")
        if self.exercises_in or self.exercises_out:
            parts.append("exercises " + " ".join([*(f"+{e}" for e in self.exercises_in),
                                                   *(f"-{e}" for e in self.exercises_out)]))
        parts += [f"{i} {old:g} -> {new:g}" for i, old, new in self.certainty]
        if self.advice_in or self.advice_out:
            parts.append("advice " + " ".join([*(f"+{a}" for a in self.advice_in),
                                               *(f"-{a}" for a in self.advice_out)]))
        if self.rules_old_only or self.rules_new_only:
            parts.append("rules " + " ".join([*(f"+{r}" for r in self.rules_new_only),
                                              *(f"-{r}" for r in self.rules_old_only)]))
        return f"{self.respondent}: " + "; ".join(parts)


def compare(respondent: str, a: Side, b: Side, threshold: float = THRESHOLD) -> Change:
    """How respondent's plan ``b`` under the new base differs from ``a`` under the old."""
    certainty = []
    for ident in sorted(set(a.certainty) | set(b.certainty)):
        before, after = a.certainty.get(ident, 0.0), b.certainty.get(ident, 0.0)
        if abs(after - before) >= threshold and before != after:
            certainty.append((ident, before, after))
    return Change(
        respondent,
        (a.status, b.status) if a.status != b.status else None,
        (a.urgency, b.urgency) if a.urgency != b.urgency else None,
        _only(b.exercises, a.exercises), _only(a.exercises, b.exercises), tuple(certainty),
        _only(b.advice, a.advice), _only(a.advice, b.advice),
        _only(a.rules, b.rules), _only(b.rules, a.rules))


class Side:
    """What a trace line says, as far as a change is told (a rejected respondent: None), kept
    instead of the line itself, so a big survey's traces need not be held in memory."""

    def __init__(self, record: Record | None) -> None:
        plan = record["plan"] if record is not None else None
        self.status: str = plan["status"] if plan else REJECTED
        self.urgency: str | None = plan["urgency"] if plan else None
        self.exercises = [item["exercise"] for item in plan["items"]] if plan else []
        self.advice = [advice["id"] for advice in plan["advice"]] if plan else []
        self.certainty: dict[str, float] = {c["id"]: c["confidence"] for kind in ("symptoms", "causes")
                                            for c in (plan[kind] if plan else [])}
        self.rules = list(dict.fromkeys(e["rule"] for e in (record or {}).get("events", [])
                                        if e["event"] == "fire"))


def _only(these: list[str], other: list[str]) -> tuple[str, ...]:
    return tuple(x for x in these if x not in other)


# ----------------------------------------------------------------------------- respondents

def answer_files(folder: Path) -> list[Path]:
    """The answer files of ``folder`` (JSON or YAML), in name order."""
    return sorted({p for pattern in ANSWER_FILES for p in folder.glob(pattern) if p.is_file()})


def folder_answers(folder: Path) -> list[tuple[str, Mapping[str, Any]]]:
    """(respondent, answers) for each answer file of ``folder``, named by its file name."""
    found = []
    for path in answer_files(folder):
        try:
            found.append((path.name, read_answers(path)))
        except AnswersError as exc:
            raise AnswersError(exc.key, exc.value, f"{path}: {exc.problem}") from None
    return found


def traced(planner: Planner, answers: Iterable[tuple[str, Mapping[str, Any], int | None]],
           strict: bool = False) -> Iterator[tuple[str, Side]]:
    """Each respondent's trace line under ``planner``. Answers the base refuses are rejected
    (None), or with ``strict`` (the old base, which the answers were written for) an error
    naming the respondent: bad input is never counted as unchanged."""
    for respondent, given, minutes in answers:
        try:
            record = planner.trace(given, minutes, respondent=respondent)
        except AnswersError as exc:
            if strict:
                raise AnswersError(exc.key, exc.value, f"{respondent}: {exc.problem}") from None
            yield respondent, Side(None)
            continue
        yield respondent, Side(record)


def survey_traces(survey: Path, planner: Planner, options: Any) -> list[tuple[str, Side]]:
    """Every scored row of ``survey`` under ``planner``, as ``score --traces`` writes it (the same
    layouts, mapping and options), keyed by respondent id and, for an id seen again, its count."""
    from dataclasses import replace

    from .score import score

    with tempfile.TemporaryDirectory(prefix="hipcoach-diff-") as folder:
        score(survey, Path(folder), planner, replace(options, traces=True, jobs=1, dask=None))
        seen: Counter[str] = Counter()
        found: list[tuple[str, Side]] = []
        for record in read_traces(Path(folder) / "traces.jsonl"):
            ident = str(record["respondent"])
            seen[ident] += 1
            found.append((ident if seen[ident] == 1 else f"{ident}#{seen[ident]}", Side(record)))
        return found


def pair(old: list[tuple[str, Side]], new: list[tuple[str, Side]],
         threshold: float = THRESHOLD) -> list[Change]:
    """The change of every respondent either side holds, in the old side's order (respondents
    only one side scored come last, as rejected on the other)."""
    theirs = dict(new)
    mine = dict(old)
    rejected = Side(None)
    changes = [compare(who, side, theirs.get(who, rejected), threshold) for who, side in old]
    changes += [compare(who, rejected, side, threshold) for who, side in new if who not in mine]
    return changes


# ---------------------------------------------------------------------------------- report

@dataclass(frozen=True)
class Report:
    """Every respondent's change, and which bases were compared."""

    old: Provenance  # which base made the old plans, and the new
    new: Provenance
    changes: tuple[Change, ...]

    @property
    def changed(self) -> list[Change]:
        return [c for c in self.changes if c.kinds]

    def counts(self) -> dict[str, int]:
        """How many respondents changed in each kind of way."""
        return {kind: sum(kind in c.kinds for c in self.changes) for kind in KINDS}

    def as_json(self) -> dict[str, Any]:
        return {"old": self.old.as_json(), "new": self.new.as_json(), "respondents": len(self.changes),
                "changed": len(self.changed), "counts": self.counts(),
                "changes": [c.as_json() for c in self.changed]}

    def text(self) -> str:
        lines = [f"{len(self.changed)} of {len(self.changes)} respondent(s) changed",
                 f"  old: {self.old.describe()}", f"  new: {self.new.describe()}"]
        counts = self.counts()
        if self.changed:
            lines.append("  in: " + ", ".join(f"{kind} {counts[kind]}" for kind in KINDS
                                              if counts[kind]))
        lines += [change.line() for change in self.changed]
        return "\n".join(lines) + "\n"

    def rows(self) -> Iterator[tuple[str, ...]]:
        yield CSV_COLUMNS
        for change in self.changed:
            yield from change.rows()
