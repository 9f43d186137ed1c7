"""The form a club builds from the questionnaire, as text, Markdown or JSON.

A form whose question titles are the questionnaire's prompts and whose options are its labels is
scored with no mapping at all (:func:`hipcoach.batch.mapping.form_mapping`). This module writes out
exactly what to type into a forms tool: each question in order, the kind of question to create,
its options, and when to show it (the skip logic, in words, as forms tools call it branching).
"""

from __future__ import annotations

import json
from typing import Any

from ..kb.knowledge import KnowledgeBase, Question, SkipCondition

FORMATS = ("text", "markdown", "json")
#: The forms-tool question to create for each answer type.
KINDS = {
    "int": "short answer, a whole number",
    "number": "short answer, a number",
    "bool": "multiple choice, one answer: Yes or No",
    "choice": "multiple choice, one answer",
    "multi": "checkboxes, any number of answers (ticking none is an answer)",
}
OPS = {"eq": "is", "ne": "is not", "gt": "is more than", "gte": "is at least",
       "lt": "is less than", "lte": "is at most"}


def options(question: Question) -> list[str]:
    """What the respondent picks from, as the form shows it."""
    if question.type == "bool":
        return ["Yes", "No"]
    return [choice.label for choice in question.choices]


def _shown(question: Question, value: Any) -> str:
    if question.type == "bool":
        return "Yes" if value else "No"
    for choice in question.choices:
        if choice.value == value:
            return repr(choice.label)
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def condition_text(condition: SkipCondition, kb: KnowledgeBase) -> str:
    """One skip-logic condition in words, naming the question by its number and prompt."""
    target = kb.questions[condition.answer]
    number = list(kb.questions).index(condition.answer) + 1
    return (f"the answer to question {number} ({target.prompt!r}) {OPS[condition.op]} "
            f"{_shown(target, condition.value)}")


def show_if(question: Question, kb: KnowledgeBase) -> str:
    """When to show the question: always, or when any of its conditions holds."""
    if not question.ask_if_any:
        return ""
    return "Show only if " + ", or ".join(condition_text(c, kb) for c in question.ask_if_any) + \
        "; left blank otherwise."


def _range(question: Question) -> str:
    if question.type in ("int", "number"):
        return f"from {question.min:g} to {question.max:g}"
    return ""


def render_form(kb: KnowledgeBase, fmt: str = "text") -> str:
    """The whole form in ``fmt``; the same questionnaire always gives the same text."""
    questions = list(kb.questions.values())
    if fmt == "json":
        return json.dumps({"questions": [{
            "number": number, "answer": q.id, "title": q.prompt, "description": q.help,
            "type": q.type, "form_question": KINDS[q.type], "options": options(q),
            "min": q.min, "max": q.max,
            "show_if_any": [{"answer": c.answer, "op": c.op, "value": c.value}
                            for c in q.ask_if_any],
            "show_if_text": show_if(q, kb)} for number, q in enumerate(questions, start=1)]},
            indent=2, ensure_ascii=False) + "\n"
    markdown = fmt == "markdown"
    lines = ["# The hipcoach questionnaire as a form" if markdown else "THE HIPCOACH QUESTIONNAIRE AS A FORM",
             "",
             "Use each title and option exactly as written (case and extra spaces do not matter), "
             "in this order: the export then scores with `hipcoach score EXPORT -o OUT` and no "
             "mapping. Add an email or id question if your tool does not record one.", ""]
    for number, question in enumerate(questions, start=1):
        kind = KINDS[question.type] + (f", {_range(question)}" if _range(question) else "")
        if markdown:
            lines += [f"## {number}. {question.prompt}", "", f"- type: {kind}",
                      f"- description: {question.help}", f"- answer id: `{question.id}`"]
            lines += [f"- option: {label}" for label in options(question)]
            if question.ask_if_any:
                lines.append(f"- {show_if(question, kb)}")
        else:
            lines += [f"{number}. {question.prompt}", f"   type: {kind}",
                      f"   description: {question.help}", f"   answer id: {question.id}"]
            lines += [f"   - {label}" for label in options(question)]
            if question.ask_if_any:
                lines.append(f"   {show_if(question, kb)}")
        lines.append("")
    return "\n".join(lines[:-1]) + "\n"
