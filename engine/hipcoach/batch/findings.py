"""What one answer profile's plan says, kept for the survey's tidy tables and its report.

Batch scoring renders each distinct profile once (:mod:`.profiles`); beside its CSV rows it keeps
an :class:`Outcome`: the referral and its reasons, the symptoms and causes with their certainty,
the advice, what the plan gave and dropped, and which rules fired. The report adds outcomes up
over the respondents who share them, and ``findings.csv`` holds one record per respondent and
finding. Worker processes import this module, so it stays free of pandas.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..formats import Plan
from ..kb.knowledge import KnowledgeBase
from .csvsafe import row_text

FINDING_COLUMNS = ("respondent_id", "kind", "id", "confidence", "certainty", "urgency")
#: The kinds of finding, in the order a respondent's findings are listed.
FINDING_KINDS = ("referral", "symptom", "cause", "advice")


@dataclass(frozen=True)
class Concluded:
    """A symptom or cause the rules concluded, with its certainty."""

    id: str
    confidence: float
    certainty: str


@dataclass(frozen=True)
class Reason:
    """One reason for a referral: the triage rule's target, its urgency and its plain words."""

    id: str
    urgency: str | None
    message: str


@dataclass(frozen=True)
class Drop:
    """An exercise the plan left out: why (a ``DropKind``), and the equipment it lacked."""

    exercise: str
    kind: str
    lacking: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    status: str
    urgency: str | None
    reasons: tuple[Reason, ...]
    symptoms: tuple[Concluded, ...]
    causes: tuple[Concluded, ...]
    advice: tuple[str, ...]
    exercises: tuple[str, ...]
    categories: tuple[str, ...]
    minutes: float
    budget: float
    balanced: bool
    dropped: tuple[Drop, ...]
    fired: tuple[str, ...]


def outcome(plan: Plan, fired: Iterable[str], answers: dict[str, Any],
            kb: KnowledgeBase) -> Outcome:
    """The :class:`Outcome` of ``plan``, made for ``answers`` by firing the rules ``fired``."""
    owned = set(answers.get("equipment") or ())

    def concluded(concepts: list[Any]) -> tuple[Concluded, ...]:
        return tuple(Concluded(c["id"], c["confidence"], c["certainty"]) for c in concepts)

    return Outcome(
        plan["status"], plan["urgency"],
        tuple(Reason(r["id"], r["urgency"], r["message"]) for r in plan["reasons"]),
        concluded(plan["symptoms"]), concluded(plan["causes"]),
        tuple(a["id"] for a in plan["advice"]),
        tuple(i["exercise"] for i in plan["items"]), tuple(i["category"] for i in plan["items"]),
        plan["total_minutes"], plan["budget_minutes"], plan["balanced"],
        tuple(Drop(d["exercise"], d["kind"],
                   tuple(e for e in kb.exercises[d["exercise"]].equipment if e not in owned)
                   if d["kind"] == "equipment" else ())
              for d in plan["dropped"]),
        tuple(sorted(set(fired))))


def finding_tails(found: Outcome) -> tuple[str, ...]:
    """``findings.csv`` records of one outcome, each after its respondent id cell: referral
    reasons (with their urgency), then symptoms and causes (with confidence and certainty),
    then advice."""
    rows: list[list[Any]] = [["", "referral", r.id, "", "", r.urgency or ""] for r in found.reasons]
    rows += [["", "symptom", s.id, s.confidence, s.certainty, ""] for s in found.symptoms]
    rows += [["", "cause", c.id, c.confidence, c.certainty, ""] for c in found.causes]
    rows += [["", "advice", a, "", "", ""] for a in found.advice]
    return tuple(row_text(row) for row in rows)
