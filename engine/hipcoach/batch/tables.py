"""The tables a scoring run writes, described once: each file's columns with their type, allowed
values and meaning.

``datapackage.json`` (a Frictionless data package, so R, pandas or ``frictionless validate``
read the outputs without prose) and the Parquet copies of the tables are both made from these
descriptions, so the two cannot disagree with each other or with the CSV files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..kb.knowledge import KnowledgeBase
from ..kb.provenance import Provenance
from ..kb.rulefile import RuleBase
from .findings import FINDING_COLUMNS, FINDING_KINDS
from .profiles import ITEM_COLUMNS, PLAN_COLUMNS


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # a Table Schema type: string, integer, number or boolean
    description: str
    enum: tuple[str, ...] | None = None

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"name": self.name, "type": self.type,
                                 "description": self.description}
        if self.enum is not None:
            found["constraints"] = {"enum": list(self.enum)}
        return found


@dataclass(frozen=True)
class Table:
    path: str
    title: str
    fields: tuple[Field, ...]

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[0]


def tables(kb: KnowledgeBase, rulebase: RuleBase, kept: tuple[str, ...] = ()) -> tuple[Table, ...]:
    """Every table of a run, in the order they are listed; ``kept`` are the export's columns
    carried into plans.csv (``--keep``), after the respondent id."""
    vocabulary = kb.vocabulary
    respondent = Field("respondent_id", "string", "The respondent's id, as in the survey export.")
    certainty = tuple(dict.fromkeys(word for _, word in vocabulary.certainty_words))
    urgencies = tuple(u.id for u in rulebase.urgencies)
    plan_fields = {
        "status": Field("status", "string", "plan: an exercise plan was made; refer: the "
                        "respondent must see a clinician first, and got no plan.", ("plan", "refer")),
        "referral_reasons": Field("referral_reasons", "string", "The warning signs behind a "
                                  "referral (ids, ';'-separated; one row each in findings.csv)."),
        "symptoms": Field("symptoms", "string", "The symptoms concluded, most certain first (ids, "
                          "';'-separated; with their certainty in findings.csv)."),
        "causes": Field("causes", "string", "The likely causes as id:confidence, most certain "
                        "first, ';'-separated (one row each in findings.csv)."),
        "exercises": Field("exercises", "string", "The plan's exercises in schedule order (ids, "
                           "';'-separated; one row each in plan_items.csv)."),
        "total_minutes": Field("total_minutes", "number", "Minutes a day the plan takes."),
        "balanced": Field("balanced", "boolean", "Whether the plan meets every balance rule "
                          "(false for a referral)."),
    }
    assert tuple(plan_fields) == PLAN_COLUMNS[1:]
    item_fields = {
        "order": Field("order", "integer", "The exercise's place in the respondent's plan, from 1."),
        "exercise": Field("exercise", "string", "The exercise's id.", tuple(kb.exercises)),
        "name": Field("name", "string", "The exercise's name."),
        "category": Field("category", "string", "The exercise's category.", vocabulary.categories),
        "when": Field("when", "string", "When in the day it is done (a schedule slot).",
                      tuple(slot.id for slot in rulebase.slots)),
        "dose": Field("dose", "string", "Sets, repetitions or hold times, in words."),
        "minutes": Field("minutes", "number", "Minutes a day it takes."),
        "sides": Field("sides", "string", "Which side or sides it is done on.", vocabulary.sides),
        "why": Field("why", "string", "The causes it serves, in words."),
    }
    assert tuple(item_fields) == ITEM_COLUMNS[1:]
    finding_fields = {
        "kind": Field("kind", "string", "referral: a warning sign behind a referral; symptom or "
                      "cause: a conclusion of the rules; advice: advice given with the plan.",
                      FINDING_KINDS),
        "id": Field("id", "string", "The warning sign's, symptom's, cause's or advice's id."),
        "confidence": Field("confidence", "number", "The rules' certainty factor (0 to 1) of a "
                            "symptom or cause; empty for referrals and advice."),
        "certainty": Field("certainty", "string", "The certainty in words, as a runner reads it; "
                           "empty for referrals and advice.", certainty),
        "urgency": Field("urgency", "string", "How soon a referred respondent must be seen; "
                         "empty for other findings.", urgencies),
    }
    assert tuple(finding_fields) == FINDING_COLUMNS[1:]
    error_fields = (
        Field("row", "integer", "The record's row number in the export (its first line is 1)."),
        Field("respondent_id", "string", "The respondent's id, if the row has one."),
        Field("column", "string", "The export column with the problem; empty for the record as "
                                  "a whole."),
        Field("value", "string", "The cell as written (cut to 200 characters)."),
        Field("problem", "string", "What is wrong, and how to fix it."),
    )
    kept_fields = tuple(Field(name, "string", f"The export's column {name!r}, as written "
                                              f"(--keep).") for name in kept)
    return (
        Table("plans.csv", "One row per scored respondent, in input order.",
              (respondent,) + kept_fields + tuple(plan_fields.values())),
        Table("plan_items.csv", "One row per scored respondent and exercise of their plan.",
              (respondent,) + tuple(item_fields.values())),
        Table("findings.csv", "One row per scored respondent and finding.",
              (respondent,) + tuple(finding_fields.values())),
        Table("errors.csv", "One row per problem of a rejected row (a rejected respondent has no "
                            "row in the other tables).", error_fields),
    )


def datapackage(survey: str, provenance: Provenance, described: tuple[Table, ...],
                others: tuple[tuple[str, str, str], ...]) -> str:
    """``datapackage.json``: a Frictionless data package of ``described`` (CSV tables) and
    ``others`` (``(path, media type, description)`` of the run's other files)."""
    resources: list[dict[str, Any]] = [
        {"name": table.name, "path": table.path, "profile": "tabular-data-resource",
         "format": "csv", "mediatype": "text/csv", "encoding": "utf-8", "title": table.title,
         "dialect": {"delimiter": ",", "quoteChar": '"', "header": True},
         "schema": {"fields": [f.as_json() for f in table.fields], "missingValues": [""]}}
        for table in described]
    # a JSON Lines file is read as text (one JSON record a line), not as a table
    resources += [{"name": path.replace(".", "-"), "path": path, "mediatype": mediatype,
                   "format": path.rsplit(".", 1)[1], "title": title,
                   **({"type": "text"} if path.endswith(".jsonl") else {})}
                  for path, mediatype, title in others]
    package = {"profile": "data-package", "name": "hipcoach-scores",
               "title": f"hipcoach scores of {survey}",
               "description": f"Every respondent of {survey} scored by {provenance.describe()}.",
               "hipcoach": provenance.as_json(), "resources": resources}
    return json.dumps(package, indent=2, ensure_ascii=False) + "\n"
