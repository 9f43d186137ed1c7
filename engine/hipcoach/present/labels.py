"""Words a runner reads for the ids and dates a plan or a programme journal carries.

A journal names schedule slots and categories by id only, and its dates as ``YYYY-MM-DD``. The
labels come from the loaded rule and knowledge bases (:class:`Labels`), so the handout and the
calendar say "Before every run" exactly as the plan does, for the bundled files or an edited
``--kb``/``--rules`` folder alike. Dates are worded here rather than with ``strftime``, whose day
and month names follow the process locale: the same journal must give the same bytes on every
machine.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import NamedTuple

from ..kb.knowledge import KnowledgeBase
from ..kb.provenance import Provenance
from ..kb.rulefile import RuleBase

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Labels(NamedTuple):
    """The words for the slot and category ids a plan or a journal carries, and the
    provenance of the base they come from."""

    slots: Mapping[str, str]  # slot id -> label, in the plan's slot order (the order of a day)
    categories: Mapping[str, str]
    #: which hipcoach and rule base the words come from, for a page's footer; None: not said
    provenance: Provenance | None = None

    @classmethod
    def of(cls, kb: KnowledgeBase, rulebase: RuleBase,
           provenance: Provenance | None = None) -> Labels:
        return cls({slot.id: slot.label for slot in rulebase.slots},
                   dict(kb.vocabulary.category_labels), provenance)

    def slot_label(self, slot: str) -> str:
        """"before_run" -> "Before every run"; a slot the rules do not know is shown by its id in
        words rather than refused: a journal may come from an edited rule set."""
        return self.slots.get(slot, slot.replace("_", " ").capitalize())

    def slot_order(self, slot: str) -> int:
        """Where ``slot`` falls in a day: the plan's slot order, unknown slots last."""
        order = list(self.slots)
        return order.index(slot) if slot in order else len(order)

    def category_label(self, category: str) -> str:
        """"smr" -> "self-massage"."""
        return self.categories.get(category, category.replace("_", " "))


def day(text: str) -> datetime.date:
    """A journal date (``YYYY-MM-DD``)."""
    return datetime.date.fromisoformat(text)


def short_date(date: datetime.date) -> str:
    """"Mon 5 Jan": a log column heading."""
    return f"{DAYS[date.weekday()]} {date.day} {MONTHS[date.month - 1]}"


def column_date(date: datetime.date) -> tuple[str, str]:
    """("Mon", "5 Jan"): a log column's heading, on two lines to keep the column narrow."""
    return DAYS[date.weekday()], f"{date.day} {MONTHS[date.month - 1]}"


def dated(date: datetime.date) -> str:
    """"Mon 05 Jan 2026": a day heading of the programme in text."""
    return f"{DAYS[date.weekday()]} {date.day:02d} {MONTHS[date.month - 1]} {date.year}"


def long_date(date: datetime.date) -> str:
    """"Monday 5 Jan 2026"."""
    return f"{WEEKDAYS[date.weekday()]} {date.day} {MONTHS[date.month - 1]} {date.year}"
