"""Plans as a runner reads them (text, Markdown, a printable HTML handout) and as tools read them
(JSON).

Text, Markdown and the handout are written for the runner: plain words, certainty as "likely" or
"possible", no rule ids and no engine words. Those stay in the JSON, in ``--explain`` and in
traces.
"""

from __future__ import annotations

import json
from typing import Any

from .explain import explain_plan
from .labels import Labels
from .words import (
    NOT_A_DIAGNOSIS,
    Plan,
    amount,
    lower_first,
    made_by,
    referral_words,
    serves_text,
    worded,
)

FORMATS = ("text", "json", "markdown", "html")
#: Drop kinds a runner is shown one by one; the rest are counted.
SHOWN_DROPS = ("equipment", "caution", "budget")


def render(plan: Plan, fmt: str = "text", explain: bool = False, brief: bool = False,
           labels: Labels | None = None) -> str:
    """``plan`` in ``fmt``; ``explain`` adds every derivation chain (text and Markdown), and
    ``brief`` gives each exercise one line instead of its steps and cautions. JSON and the HTML
    handout are whole by design and ignore both: a printed handout always carries the steps.
    The handout needs the ``labels`` of the knowledge and rule base the plan came from."""
    if fmt == "json":
        return to_json(plan)
    if fmt == "html":
        from .handout import plan_html  # here: jinja2 loads only when a handout is asked for

        if labels is None:
            raise ValueError("an HTML handout needs the labels of its knowledge and rule base")
        return plan_html(plan, labels)
    page = _Page(fmt == "markdown")
    if plan["status"] == "refer":
        _referral(plan, page)
    else:
        _plan(plan, page, brief)
    if explain:
        chains = explain_plan(plan)
        title = "Why a referral" if plan["status"] == "refer" else "How this plan was derived"
        page.heading(title)
        page.lines += ["```", *chains, "```"] if page.markdown else chains
    made = made_by(plan)
    if made:
        if page.lines and page.lines[-1] != "":
            page.lines.append("")
        page.lines.append(f"_{made}_" if page.markdown else made)
    return "\n".join(page.lines).rstrip("\n") + "\n"


def to_json(plan: Plan) -> str:
    """The canonical JSON form: stable key order from the builder, two-space indent."""
    return json.dumps(plan, indent=2, ensure_ascii=False) + "\n"


class _Page:
    """Lines of text or Markdown, with the few shapes a plan needs."""

    def __init__(self, markdown: bool) -> None:
        self.markdown = markdown
        self.lines: list[str] = []

    def title(self, text: str) -> None:
        self.lines += [f"# {text}" if self.markdown else text, ""]

    def heading(self, text: str, detail: str = "") -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")
        if self.markdown:
            self.lines += [f"## {text}" + (f" ({detail})" if detail else ""), ""]
        else:
            self.lines += [text.upper() + (f"  ({detail})" if detail else ""), ""]

    def para(self, text: str) -> None:
        self.lines += [text, ""]

    def bullet(self, text: str) -> None:
        self.lines.append(f"- {text}" if self.markdown else f"  * {text}")

    def detail(self, text: str) -> None:
        """A line under the last bullet: a step, a caution, the cue."""
        self.lines.append(f"  - {text}" if self.markdown else f"      {text}")

    def end_list(self) -> None:
        self.lines.append("")


def render_referral(report: Plan, markdown: bool = False) -> str:
    """A referral as a plan shows it (its ``referral`` heading first, its ``reasons``, then the
    closing advice), for any report shaped so: a plan, or a programme check-in."""
    page = _Page(markdown)
    _referral(report, page)
    return "\n".join(page.lines).rstrip("\n") + "\n"


def _referral(plan: Plan, page: _Page) -> None:
    words = referral_words(plan)
    page.title(words.heading)
    page.para(words.intro)
    for reason in words.reasons:
        page.bullet(reason)
    page.end_list()
    page.para(words.advice)


def _plan(plan: Plan, page: _Page, brief: bool) -> None:
    state = "balanced" if plan["balanced"] else "not fully balanced"
    page.title(f"Your hip plan: {plan['total_minutes']} of your {plan['budget_minutes']} minutes "
               f"a day, {state}")
    page.para(NOT_A_DIAGNOSIS)
    page.para(f"What your answers point to: {worded(plan['symptoms'])}.")
    page.para(f"What may be behind it: {worded(plan['causes'])}.")
    if plan["advice"]:
        page.heading("Advice")
        for advice in plan["advice"]:
            page.bullet(advice["text"])
        page.end_list()
    causes = {c["id"]: c["name"] for c in plan["causes"]}
    items = {item["exercise"]: item for item in plan["items"]}
    for block in plan["schedule"]:
        page.heading(block["label"], f"{block['minutes']} min; {block['frequency']}")
        for exercise in block["exercises"]:
            _exercise(page, items[exercise], causes, brief)
        page.end_list()
    _notes(plan, page)


def _exercise(page: _Page, item: dict[str, Any], causes: dict[str, str], brief: bool) -> None:
    serves = serves_text(item, causes)
    head = f"{item['name']}: {amount(item)}"
    page.bullet(f"**{head}**" if page.markdown else head)
    if not brief:
        for number, step in enumerate(item["steps"], start=1):
            page.detail(f"{number}. {step}")
        for caution in item["cautions"]:
            page.detail(f"Take care: {lower_first(caution)}")
    page.detail(f"Cue: {item['cue']}")
    page.detail(f"Why: for {serves}")


def _notes(plan: Plan, page: _Page) -> None:
    if plan["notes"]:
        page.heading("Could not balance the plan")
        for note in plan["notes"]:
            page.bullet(note)
        page.end_list()
    if plan["capped"]:
        page.para(f"This plan stops at {plan['max_items']} exercises, the most it gives at once so "
                  f"the routine stays doable; it takes {plan['total_minutes']} of your "
                  f"{plan['budget_minutes']} minutes.")
    # A runner needs to know what was ruled out or cut for time; candidates that merely did not
    # make the cut are counted, and listed in --format json.
    shown = [d for d in plan["dropped"] if d["kind"] in SHOWN_DROPS]
    if shown:
        page.heading("Left out")
        for drop in shown:
            page.bullet(f"{drop['name']}: {drop['reason']}")
        page.end_list()
    others = len(plan["dropped"]) - len(shown)
    if others:
        page.para(f"{others} more suitable exercise{'s' if others > 1 else ''} did not make this "
                  f"plan (a variant was chosen, or the plan was full); --format json lists them.")
