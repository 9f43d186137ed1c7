"""Plans as a runner reads them (text, Markdown) and as tools read them (JSON)."""

from __future__ import annotations

import json
from typing import Any

from .explain import explain_plan

Plan = dict[str, Any]
FORMATS = ("text", "json", "markdown")
SIDES = {"each": "each side", "both": "both sides together", "alternate": "alternating sides"}
CLINICIAN = ("Please see a physiotherapist, sports doctor or GP before starting any self-treatment; "
             "bring this list with you.")


def render(plan: Plan, fmt: str = "text", explain: bool = False) -> str:
    """``plan`` in ``fmt``; ``explain`` adds every derivation chain (text and Markdown)."""
    if fmt == "json":
        return to_json(plan)
    markdown = fmt == "markdown"
    lines = _referral(plan, markdown) if plan["status"] == "refer" else _plan(plan, markdown)
    if explain:
        chains = explain_plan(plan)
        title = "Why a referral" if plan["status"] == "refer" else "How this plan was derived"
        lines += ["", f"## {title}" if markdown else title.upper(), ""]
        lines += ["```", *chains, "```"] if markdown else chains
    return "\n".join(lines) + "\n"


def to_json(plan: Plan) -> str:
    """The canonical JSON form: stable key order from the builder, two-space indent."""
    return json.dumps(plan, indent=2, ensure_ascii=False) + "\n"


def _heading(text: str, markdown: bool, level: int = 2, detail: str = "") -> list[str]:
    if markdown:
        return ["#" * level + " " + text + (f" ({detail})" if detail else ""), ""]
    return [text.upper() + (f"  ({detail})" if detail else ""), ""]


def _dose(item: dict[str, Any]) -> str:
    """Dose and sides, without saying "each side" twice when the dose already says it."""
    sides = SIDES.get(item["sides"], item["sides"])
    if any(word in item["dose"].lower() for word in ("side", "leg", "alternat", "both")):
        return item["dose"]
    return f"{item['dose']}, {sides}"


def _referral(plan: Plan, markdown: bool) -> list[str]:
    lines = _heading("See a clinician first", markdown, 1)
    lines.append("hipcoach will not suggest exercises, because:")
    for reason in plan["reasons"]:
        lines.append(f"- {reason['message']}" if markdown else f"  * {reason['message']}")
    lines += ["", CLINICIAN]
    return lines


def _names(entries: list[dict[str, Any]]) -> str:
    return ", ".join(f"{e['name']} ({round(e['confidence'] * 100)}%)" for e in entries) or "none"


def _plan(plan: Plan, markdown: bool) -> list[str]:
    state = "balanced" if plan["balanced"] else "not fully balanced"
    lines = _heading(f"Your hip plan: {plan['total_minutes']} of {plan['budget_minutes']} minutes, "
                     f"{state}", markdown, 1) if markdown else \
        [f"Your hip plan: {plan['total_minutes']} of {plan['budget_minutes']} minutes, {state}", ""]
    lines.append(f"What your answers point to: {_names(plan['symptoms'])}")
    lines.append(f"Likely causes: {_names(plan['causes'])}")
    causes = {c["id"]: c["name"] for c in plan["causes"]}
    items = {item["exercise"]: item for item in plan["items"]}
    for block in plan["schedule"]:
        lines.append("")
        lines += _heading(block["label"], markdown,
                          detail=f"{block['minutes']} min; {block['frequency']}")
        for exercise in block["exercises"]:
            item = items[exercise]
            serves = ", ".join(causes.get(c, c).lower() for c in item["serves"]) or \
                "general hip maintenance"
            head = f"{item['name']}: {_dose(item)}, about {item['minutes']} min"
            if markdown:
                lines += [f"- **{head}**", f"  - Cue: {item['cue']}", f"  - Why: for {serves}"]
            else:
                lines += [f"  * {head}", f"      cue: {item['cue']}", f"      why: for {serves}"]
    if plan["notes"]:
        lines += [""] + _heading("Could not balance the plan", markdown)
        lines += [f"- {note}" if markdown else f"  * {note}" for note in plan["notes"]]
    # A runner needs to know what was ruled out or cut for time; candidates that merely did not
    # make the cut are counted, and listed in --format json.
    shown = [d for d in plan["dropped"] if d["reason"].startswith(("excluded", "no time"))]
    if shown:
        lines += [""] + _heading("Left out", markdown)
        lines += [(f"- {d['name']}: {d['reason']}" if markdown else f"  * {d['name']}: {d['reason']}")
                  for d in shown]
    others = len(plan["dropped"]) - len(shown)
    if others:
        lines += ["", f"{others} more suitable exercise{'s' if others > 1 else ''} did not make this "
                      f"plan (a variant was chosen, or the plan was full); --format json lists them."]
    lines += ["", "Stop any exercise that causes sharp pain, and see a clinician if pain lasts "
                  "more than two weeks or gets worse."]
    return lines
