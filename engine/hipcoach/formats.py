"""The public JSON formats, typed once: the plan, the trace line, a scoring run's summary, and a
programme's journal and check-in.

These TypedDicts are the one definition of each format. The code that builds a plan or a trace is
typed against them, and :func:`json_schema` turns them into the JSON Schema that
``hipcoach schema`` prints and the tests check real output against, so the documentation, the
code and the checks cannot drift apart.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, TypedDict, Union

DropKind = Literal["equipment", "caution", "budget", "plan_full", "variant"]
UnmetKind = Literal["no_time", "impossible"]

# ------------------------------------------------------------------------------ provenance

class Provenance(TypedDict):
    """Which hipcoach and which knowledge and rule base made an output
    (:class:`hipcoach.kb.provenance.Provenance`, as JSON)."""

    hipcoach: str
    fingerprint: str  # SHA-256 of the knowledge and rule files, hex


# --------------------------------------------------------------------------- premises ("from")

class AnswerPremise(TypedDict):
    answer: str
    value: Any
class SymptomPremise(TypedDict):
    symptom: str
    confidence: float
class CausePremise(TypedDict):
    cause: str
    confidence: float
class CandidatePremise(TypedDict):
    exercise: str
    confidence: float
class RequiresPremise(TypedDict):
    requires: str
    exercise: str
class ItemPremise(TypedDict):
    item: str
    category: str
class DemandPremise(TypedDict):
    demand: str
    exercise: str
class RuledOutPremise(TypedDict):
    ruled_out: str
Premise = (AnswerPremise | SymptomPremise | CausePremise | CandidatePremise | RequiresPremise
           | ItemPremise | DemandPremise | RuledOutPremise)
#: What a firing behind a symptom, a cause or a proposed exercise can rest on: only facts
#: asserted before its layer settles (``kb.rulefile.ASSERTED``), so explaining one always ends.
SymptomEvidence = AnswerPremise | RequiresPremise
CauseEvidence = AnswerPremise | RequiresPremise | SymptomPremise
ExerciseEvidence = AnswerPremise | RequiresPremise | SymptomPremise | CausePremise

#: One rule firing behind a conclusion.
Support = TypedDict("Support", {"rule": str, "confidence": float, "rationale": str, "source": str,
                                "from": list[Premise]})
SymptomSupport = TypedDict("SymptomSupport", {"rule": str, "confidence": float, "rationale": str,
                                              "source": str, "from": list[SymptomEvidence]})
CauseSupport = TypedDict("CauseSupport", {"rule": str, "confidence": float, "rationale": str,
                                          "source": str, "from": list[CauseEvidence]})
ExerciseSupport = TypedDict("ExerciseSupport", {"rule": str, "confidence": float, "rationale": str,
                                                "source": str, "from": list[ExerciseEvidence]})


# ------------------------------------------------------------------------------------ the plan

class Concept(TypedDict):
    id: str
    name: str
    confidence: float
    certainty: str


class SymptomConcept(Concept):
    because: list[SymptomSupport]


class CauseConcept(Concept):
    because: list[CauseSupport]


Reason = TypedDict("Reason", {"id": str, "urgency": str | None, "message": str, "rule": str,
                              "source": str, "from": list[Premise]})


class Referral(TypedDict):
    heading: str
    advice: str


class Advice(TypedDict):
    id: str
    text: str
    rule: str
    source: str
    because: list[Support]


class Chosen(TypedDict):
    rule: str | None
    reason: str


class Item(TypedDict):
    exercise: str
    name: str
    category: str
    targets: list[str]
    equipment: list[str]
    dose: str
    minutes: float
    per_day: int
    sides: str
    when: str
    cue: str
    steps: list[str]
    cautions: list[str]
    confidence: float
    serves: list[str]
    because: list[ExerciseSupport]
    chosen: Chosen
    scheduled_by: str | None
    source: str


class Unmet(TypedDict):
    rule: str
    kind: UnmetKind
    reason: str


class Dropped(TypedDict):
    exercise: str
    name: str
    kind: DropKind
    reason: str
    rule: str | None


class Block(TypedDict):
    slot: str
    label: str
    frequency: str
    exercises: list[str]
    minutes: float


class Plan(TypedDict):
    status: Literal["plan", "refer"]
    urgency: str | None  # an id from the triage rules' urgencies
    referral: Referral | None
    reasons: list[Reason]
    symptoms: list[SymptomConcept]
    causes: list[CauseConcept]
    advice: list[Advice]
    items: list[Item]
    total_minutes: float
    budget_minutes: int
    balanced: bool
    notes: list[str]
    unmet: list[Unmet]
    max_items: int
    capped: bool
    dropped: list[Dropped]
    schedule: list[Block]
    provenance: Provenance


# ------------------------------------------------------------------------------ the trace line

class FireEvent(TypedDict):
    seq: int
    event: Literal["fire"]
    rule: str
    layer: str
    matched: dict[str, dict[str, Any]]
    concludes: list[dict[str, Any]]


class Fact(TypedDict):
    kind: str
    id: str
    cf: float


AssertEvent = TypedDict("AssertEvent", {"seq": int, "event": Literal["assert"], "layer": str,
                                        "fact": Fact, "from": list[int]})
WithholdEvent = TypedDict("WithholdEvent", {"seq": int, "event": Literal["withhold"], "layer": str,
                                            "fact": Fact, "threshold": float, "from": list[int]})


class SelectEvent(TypedDict):
    seq: int
    event: Literal["select"]
    layer: Literal["plan"]
    exercise: str
    rule: str | None
    reason: str


class UnmetEvent(TypedDict):
    seq: int
    event: Literal["unmet"]
    layer: Literal["plan"]
    rule: str
    kind: UnmetKind
    reason: str


class DropEvent(TypedDict):
    seq: int
    event: Literal["drop"]
    layer: Literal["plan"]
    exercise: str
    rule: str | None
    kind: DropKind
    reason: str


Event = FireEvent | AssertEvent | WithholdEvent | SelectEvent | UnmetEvent | DropEvent


class TraceLine(TypedDict):
    respondent: str | None
    answers: dict[str, Any]
    status: Literal["plan", "refer"]
    events: list[Event]
    unconsumed: list[dict[str, Any]]
    plan: Plan


# --------------------------------------------------------------------- a scoring run's summary

class SurveyFile(TypedDict):
    """The survey export a run read, so a result can be matched to its exact input."""

    bytes: int
    sha256: str


class MappingFile(TypedDict):
    name: str
    sha256: str


class ScoreOptions(TypedDict):
    """The options of a run that change its results (``assumed`` lists the --assume answers);
    not how many processes computed them, nor whether repeated answers were planned once or
    traces kept, which change no result."""

    mapping: MappingFile | None  # the --mapping file; None: built from the columns
    layout: str | None  # as asked (None: detected; ``format`` says what was used)
    encoding: str
    delimiter: str | None  # None: detected
    decimal: str | None  # the decimal mark; None: a comma where the delimiter is not one
    sheet: str | None


class Summary(TypedDict):
    survey: str
    input: SurveyFile
    options: ScoreOptions
    provenance: Provenance
    format: str
    rows_in: int
    scored: int
    rejected: int
    accounted: bool  # rows_in == scored + rejected
    distinct_profiles: int
    duplicate_ids: dict[str, list[int]]  # respondent id -> the rows it appears on
    extra_columns: list[str]
    rejected_by_column: dict[str, int]
    rejected_by_reason: dict[str, int]  # rows, by the first reason each was rejected for
    assumed: dict[str, Any]  # --assume ANSWER=VALUE, as checked answers
    defaulted: list[str]  # answers no column feeds: everyone gets the default
    #: answer -> scored rows that took its default where the questionnaire asked it of them
    #: (a blank cell, or no column)
    defaulted_rows: dict[str, int]
    status: dict[str, int]
    symptoms: dict[str, int]
    causes: dict[str, int]
    exercises: dict[str, int]
    categories: dict[str, int]


# ---------------------------------------------------------------------------- the programme

NextMorning = Literal["better", "same", "worse"]
Decision = Literal["refer", "regress", "hold", "progress"]


class CheckinPremise(TypedDict):
    """A check-in a progress rule matched: ``checkin`` is how many check-ins before the latest
    it is (0: the latest)."""

    checkin: int
    date: str
    pain_during: int
    next_morning: NextMorning
    thirds_done: int  # sessions done since the check-in before, in whole thirds of those planned
    days: int  # days since the check-in before (the start counts as the day before it)
    rise: int  # pain during exercise minus that of the check-in before (0 for the first)
class TriagePremise(TypedDict):
    """A referral the triage rules concluded from what the check-in reported."""

    triage: str  # the triage layer's reason id
    urgency: str
class DecisionPremise(TypedDict):
    decision: Decision
class StepPremise(TypedDict):
    exercise: str
    step: int
    next: str  # ok, end, equipment, time or taken
    prev: str
ProgressPremise = CheckinPremise | TriagePremise | DecisionPremise | StepPremise

#: One progress rule firing behind a decision; ``exercise`` names the item it decided for alone,
#: or is None for the whole programme.
ProgressSupport = TypedDict("ProgressSupport", {
    "rule": str, "decision": Decision, "exercise": str | None, "rationale": str, "source": str,
    "from": list[ProgressPremise]})


class JournalItem(TypedDict):
    exercise: str  # the exercise of the plan, whose ladder the item climbs
    dose: str  # the dose of the rung in the week's phase
    step: int  # the rung: 0 the plan's own exercise, 1 one harder, -1 one easier
    paused: bool  # left out for now: the candidate rules exclude it at the last check-in's pain


class JournalDay(TypedDict):
    date: str
    slot: str
    items: list[JournalItem]


class JournalWeek(TypedDict):
    week: int
    phase: str
    days: list[JournalDay]


class JournalCheckin(TypedDict):
    date: str
    pain_during: int
    next_morning: NextMorning
    sessions: int
    red_flags: list[str]
    decision: Decision
    urgency: str | None  # a referral's: the most urgent of its reasons
    changed: bool  # whether it changed any day after it (calendar events carry a SEQUENCE)
    because: list[ProgressSupport]


class JournalProvenance(TypedDict):
    """Which hipcoach and which knowledge and rule base made (or last re-planned) a journal."""

    hipcoach: str
    fingerprint: str


class Replan(TypedDict):
    """The remaining weeks re-planned under another knowledge and rule base (``--replan``)."""

    date: str
    previous: JournalProvenance


class Journal(TypedDict):
    version: int
    provenance: JournalProvenance
    answers: dict[str, Any]
    start: str
    weeks: int
    run_days: list[str]
    programme: list[JournalWeek]
    checkins: list[JournalCheckin]
    replans: list[Replan]


#: One item's rung before and after a check-in.
Move = TypedDict("Move", {"exercise": str, "from": int, "to": int})


class Paused(TypedDict):
    """An item the candidate rules leave out at the check-in's pain, and the rules' reasons."""

    exercise: str
    step: int
    reasons: list[str]


class CheckinResult(TypedDict):
    decision: Decision
    urgency: str | None  # a referral's, as in a plan: emergency, same_day or soon
    referral: Referral | None  # what the runner reads first and last, as in a plan
    reasons: list[Reason]  # a referral's reasons, most urgent first, as in a plan
    items: list[Move]
    paused: list[Paused]  # left out from the next session until the rules allow them again
    resumed: list[str]  # back from the next session: the rules allow them again
    last: bool  # nothing is planned after this check-in: the programme is over
    because: list[ProgressSupport]
    advice: list[str]


FORMATS: dict[str, Any] = {"plan": Plan, "trace": TraceLine, "summary": Summary,
                           "journal": Journal, "checkin": CheckinResult}


# ------------------------------------------------------------------------------- JSON Schema

def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of format ``name``, built from its TypedDict: every key
    required, no other keys allowed."""
    root = FORMATS[name]
    definitions: dict[str, Any] = {}
    body = _schema(root, definitions)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"hipcoach {name}", **body, "$defs": dict(sorted(definitions.items()))}


def _schema(kind: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    if kind is Any:
        return {}
    if typing.is_typeddict(kind):
        name = kind.__name__
        if name not in definitions:
            definitions[name] = {}  # placeholder: a type may refer to itself
            hints = typing.get_type_hints(kind)
            definitions[name] = {
                "type": "object", "additionalProperties": False, "required": list(hints),
                "properties": {key: _schema(hint, definitions) for key, hint in hints.items()}}
        return {"$ref": f"#/$defs/{name}"}
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema(arg, definitions) for arg in args]}
    if origin is list:
        return {"type": "array", "items": _schema(args[0], definitions)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(args[1], definitions)}
    simple = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}
    return {"type": simple[kind]}


# ------------------------------------------------------------------------- checking a value

def problem(value: Any, kind: Any, where: str = "") -> str | None:
    """What in ``value`` (read from JSON) breaks the format ``kind``, or None: the same rules as
    :func:`json_schema` (every key required, no other keys), so a file a tool or a person edited
    is checked before any of it is used."""
    here = where or "the top level"
    if kind is Any:
        return None
    if typing.is_typeddict(kind):
        if not isinstance(value, dict):
            return f"{here} must be an object"
        hints = typing.get_type_hints(kind)
        missing = [key for key in hints if key not in value]
        extra = sorted(str(key) for key in value if key not in hints)
        if missing or extra:
            return f"{here}: " + "; ".join(
                ([f"missing {', '.join(missing)}"] if missing else []) +
                ([f"unknown {', '.join(extra[:5])}"] if extra else []))
        for key, hint in hints.items():
            found = problem(value[key], hint, f"{where}.{key}" if where else key)
            if found:
                return found
        return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is Literal:
        return None if value in args and type(value) is type(args[0]) else \
            f"{here} must be one of {', '.join(map(str, args))}"
    if origin in (Union, types.UnionType):
        problems = [problem(value, arg, where) for arg in args]
        if None in problems:
            return None
        if isinstance(value, dict) and all(typing.is_typeddict(arg) for arg in args):
            return _object_problem(value, [typing.get_type_hints(arg) for arg in args], problems, where)
        return problems[0]
    if origin is list:
        if not isinstance(value, list):
            return f"{here} must be a list"
        return next((p for index, item in enumerate(value)
                     if (p := problem(item, args[0], f"{where}[{index}]"))), None)
    if origin is dict:
        if not isinstance(value, dict):
            return f"{here} must be an object"
        return next((p for key, item in value.items()
                     if (p := problem(item, args[1], f"{where}.{key}"))), None)
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    return None if ok else f"{here} must be {_schema(kind, {})['type']}"


def _object_problem(value: dict[Any, Any], kinds: list[dict[str, Any]], problems: list[str | None],
                    where: str) -> str | None:
    """What is wrong with an object that fits none of the object formats ``kinds``: told as the
    one its tag names (a key each gives a literal, like an event's ``event``), or as the one with
    its keys, or the one it lacks keys of; otherwise the formats it could have been."""
    tags = [key for key in kinds[0] if all(typing.get_origin(k.get(key)) is Literal for k in kinds)]
    if tags:
        key = tags[0]
        named = [p for k, p in zip(kinds, problems) if value.get(key) in typing.get_args(k[key])]
        if named:
            return named[0]
        allowed = dict.fromkeys(tag for k in kinds for tag in typing.get_args(k[key]))
        return f"{f'{where}.{key}' if where else key} must be one of {', '.join(map(str, allowed))}"
    keyed = [p for k, p in zip(kinds, problems) if set(value) == set(k)]
    lacking = [p for k, p in zip(kinds, problems) if set(value) < set(k)]
    if keyed or lacking:
        return (keyed or lacking)[0]
    return f"{where or 'the top level'} must have the keys of one of: " + \
        "; ".join(", ".join(k) for k in kinds)
