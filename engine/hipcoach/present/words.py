"""A plan's parts in the words a runner reads, shared by the text and Markdown pages
(:mod:`.render`) and the printed handout (:mod:`.handout`): doses with their sides, certainty in
words, what an exercise is for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..kb.provenance import Provenance

Plan = Mapping[str, Any]  # a plan as built (formats.Plan) or read back from JSON
SIDES = {"each": "each side", "both": "both sides together", "alternate": "alternating sides"}
NOT_A_DIAGNOSIS = ("This is general guidance from your answers, not a diagnosis. Stop any "
                   "exercise that causes sharp pain.")


def dose_text(item: dict[str, Any]) -> str:
    """Dose and sides, without saying "each side" twice when the dose already says it."""
    sides = SIDES.get(item["sides"], item["sides"])
    if any(word in item["dose"].lower() for word in ("side", "leg", "alternat", "both")):
        return item["dose"]
    return f"{item['dose']}, {sides}"


def worded(entries: list[dict[str, Any]]) -> str:
    """"likely runner's knee; possible tight hip flexors": certainty in words, not numbers."""
    return "; ".join(f"{e['certainty']} {e['name'][0].lower()}{e['name'][1:]}"
                     for e in entries) or "nothing in particular"


def amount(item: dict[str, Any]) -> str:
    """"2 x 15, each side, about 3 min": what an exercise asks for, and its time in a day."""
    a_day = " a day" if item.get("per_day", 1) > 1 else ""
    return f"{dose_text(item)}, about {item['minutes']} min{a_day}"


def serves_text(item: dict[str, Any], causes: dict[str, str]) -> str:
    """The causes an item is for, in words (``causes`` maps cause ids to names)."""
    return ", ".join(causes.get(c, c).lower() for c in item["serves"]) or "general hip maintenance"


def lower_first(text: str) -> str:
    """"Keep the back tall" -> "keep the back tall", but "IT band" stays as it is."""
    return text[0].lower() + text[1:] if text[1:2].islower() else text


def made_by(plan: Plan) -> str | None:
    """The page's last line, saying which hipcoach and rule base made the plan (None for a plan
    read back from a file written before plans carried it)."""
    made = Provenance.read(plan.get("provenance"))
    return made.footer() if made else None


class Referral(NamedTuple):
    """A referral in the words every renderer uses: the heading (its urgency), the line before
    the reasons, the reasons and the closing advice."""

    heading: str
    intro: str
    reasons: list[str]
    advice: str


def referral_words(plan: Plan) -> Referral:
    """What a runner reads for a referral, from the plan alone."""
    referral = plan.get("referral") or {}
    return Referral(referral.get("heading", "See a clinician first"),
                    "hipcoach will not suggest exercises, because:",
                    [reason["message"] for reason in plan["reasons"]],
                    referral.get("advice", "Please see a physiotherapist, sports doctor or GP "
                                           "before starting any self-treatment."))
