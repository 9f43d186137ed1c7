"""An exercise's "why" in a runner's words: the reasons behind it, each resting on what the
runner answered, read from the plan's ``because`` chains (as :mod:`hipcoach.present.explain`
reads them for ``--explain``) with the questionnaire's prompts and labels in place of answer
ids, and "likely" or "possible" in place of percentages. No rule id appears."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from markupsafe import Markup, escape

from ..kb.knowledge import Question
from ..present.explain import premise_text
from ..present.form import options


class Reason(NamedTuple):
    """One line of the tree and the reasons under it."""

    text: str
    under: tuple[Reason, ...] = ()


def answered(question: Question, value: Any) -> str:
    """An answer as the form showed it: the choice's label, Yes or No, or the number."""
    if question.type == "bool":
        return options(question)[0 if value else 1]
    labels = dict(zip(question.values, (c.label for c in question.choices)))
    if question.type == "multi":
        return "; ".join(labels.get(v, str(v)) for v in value) or "none of them"
    if question.type == "choice":
        return labels.get(value, str(value))
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def why(item: Mapping[str, Any], plan: Mapping[str, Any],
        questions: Mapping[str, Question]) -> list[Reason]:
    """The reasons an exercise is in the plan, down to the answers."""
    return [_support(s, plan, questions) for s in item["because"]]


def _support(support: Mapping[str, Any], plan: Mapping[str, Any],
             questions: Mapping[str, Question]) -> Reason:
    return Reason(support["rationale"],
                  tuple(_premise(p, plan, questions) for p in support["from"]))


def _premise(premise: Mapping[str, Any], plan: Mapping[str, Any],
             questions: Mapping[str, Question]) -> Reason:
    if "answer" in premise and premise["answer"] in questions:
        question = questions[premise["answer"]]
        return Reason(f"You answered “{question.prompt}” with: "
                      f"{answered(question, premise['value'])}")
    for kind in ("symptom", "cause"):
        if kind in premise:
            found = next((c for c in plan[kind + "s"] if c["id"] == premise[kind]), None)
            if found is not None:
                return Reason(f"{found['certainty'].capitalize()}: {_lower(found['name'])}",
                              tuple(_support(s, plan, questions) for s in found["because"]))
    return Reason(premise_text(dict(premise), plan))


def _lower(name: str) -> str:
    return name[0].lower() + name[1:] if name[1:2].islower() else name


def html(tree: list[Reason] | tuple[Reason, ...]) -> Markup:
    """The tree as nested lists, every text escaped (one pass in Python: a template macro
    called once per reason costs a plan page more than the plan itself)."""
    items = "".join(f"<li>{escape(r.text)}{html(r.under) if r.under else ''}</li>" for r in tree)
    return Markup(f'<ul class="reasons">{items}</ul>')
