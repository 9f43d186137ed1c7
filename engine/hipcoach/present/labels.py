"""Words a runner reads for the ids and dates a plan or a programme journal carries.

A journal names schedule slots and categories by id only, and its dates as ``YYYY-MM-DD``. The
labels come from the bundled rule and knowledge files, so the handout and the calendar say
"Before every run" exactly as the plan does. Dates are worded here rather than with
``strftime``, whose day and month names follow the process locale: the same journal must give
the same bytes on every machine.
"""

from __future__ import annotations

import datetime
import functools

from ..errors import KnowledgeError, RuleError
from ..kb.bundled import knowledge_dir, rules_dir
from ..kb.schema import load_yaml

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@functools.cache
def _slots() -> dict[str, str]:
    """Slot id -> label, in the plan's slot order (which is also the order of a day)."""
    data = load_yaml(rules_dir() / "plan.yaml", RuleError)
    return {slot["id"]: slot["label"] for slot in data.get("slots", [])}


@functools.cache
def _categories() -> dict[str, str]:
    data = load_yaml(knowledge_dir() / "vocabulary.yaml", KnowledgeError)
    labels: dict[str, str] = data.get("category_labels", {})
    return labels


def slot_label(slot: str) -> str:
    """"before_run" -> "Before every run"; a slot the bundled rules do not know is shown by its
    id in words rather than refused: a journal may come from an edited rule set."""
    return _slots().get(slot, slot.replace("_", " ").capitalize())


def slot_order(slot: str) -> int:
    """Where ``slot`` falls in a day: the plan's slot order, unknown slots last."""
    order = list(_slots())
    return order.index(slot) if slot in order else len(order)


def category_label(category: str) -> str:
    """"smr" -> "self-massage"."""
    return _categories().get(category, category.replace("_", " "))


def day(text: str) -> datetime.date:
    """A journal date (``YYYY-MM-DD``)."""
    return datetime.date.fromisoformat(text)


def short_date(date: datetime.date) -> str:
    """"Mon 5 Jan": a log column heading."""
    return f"{DAYS[date.weekday()]} {date.day} {MONTHS[date.month - 1]}"


def column_date(date: datetime.date) -> tuple[str, str]:
    """("Mon", "5 Jan"): a log column's heading, on two lines to keep the column narrow."""
    return DAYS[date.weekday()], f"{date.day} {MONTHS[date.month - 1]}"


def long_date(date: datetime.date) -> str:
    """"Monday 5 Jan 2026"."""
    return f"{WEEKDAYS[date.weekday()]} {date.day} {MONTHS[date.month - 1]} {date.year}"
