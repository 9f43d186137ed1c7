"""The ladders as a programme uses them: the rung of an item at a step, its dose in a phase,
whether it can move, and how to describe it to a runner or a handout."""

from __future__ import annotations

from collections.abc import Collection
from typing import TypedDict

from ..errors import ProgrammeError
from ..kb.knowledge import KnowledgeBase
from ..kb.ladders import Phase, ProgrammeKnowledge, Rung


class Description(TypedDict):
    """What a runner needs to do an item at a step; what ``describe`` returns for renderers."""

    name: str
    steps: list[str]
    cautions: list[str]
    category: str


class Rungs:
    """Every exercise's ladder, read by (exercise, step)."""

    def __init__(self, kb: KnowledgeBase, knowledge: ProgrammeKnowledge) -> None:
        self.kb = kb
        self.knowledge = knowledge

    def rung(self, exercise: str, step: int) -> Rung:
        """The version of ``exercise`` at ``step``; a step off its ladder is an error (a journal
        edited by hand, or written with other ladders)."""
        ladder = self.knowledge.ladders.get(exercise)
        rung = ladder.at(step) if ladder is not None else None
        if rung is None:
            raise ProgrammeError(f"{exercise!r} has no step {step} on its ladder "
                                 "(knowledge/ladders.yaml)")
        return rung

    def dose(self, exercise: str, step: int, phase: Phase) -> str:
        """The rung's dose as the runner reads it in ``phase``: with the phase's note for the
        category, when it has one."""
        rung = self.rung(exercise, step)
        cue = phase.cues.get(rung.category)
        return f"{rung.dose} ({cue})" if cue else rung.dose

    def has(self, exercise: str, step: int) -> bool:
        """Whether ``exercise`` has a rung at ``step`` here (a journal written with other
        ladders may name one that is gone)."""
        ladder = self.knowledge.ladders.get(exercise)
        return ladder is not None and ladder.at(step) is not None

    def reach(self, exercise: str, step: int, equipment: Collection[str],
              ruled_out: Collection[str]) -> str:
        """Whether ``step`` can be used: ``ok``, ``end`` (past the end of the ladder),
        ``equipment`` (the rung needs something the runner did not list) or ``demand`` (the
        rung makes a movement demand in ``ruled_out``, the demands the runner's answers rule
        out)."""
        ladder = self.knowledge.ladders.get(exercise)
        rung = ladder.at(step) if ladder is not None else None
        if rung is None:
            return "end"
        if not set(rung.equipment) <= set(equipment):
            return "equipment"
        return "demand" if set(rung.demands) & set(ruled_out) else "ok"

    def describe(self, exercise: str, step: int) -> Description:
        """``{name, steps, cautions, category}`` of ``exercise`` at ``step``: the function
        handed to renderers (text, HTML handout, calendar)."""
        rung = self.rung(exercise, step)
        return {"name": rung.name, "steps": list(rung.steps), "cautions": list(rung.cautions),
                "category": rung.category}
