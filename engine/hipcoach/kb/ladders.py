"""Ladders and phases: the knowledge a programme adapts with (``knowledge/ladders.yaml`` and
``knowledge/phases.yaml``).

A ladder is an exercise with its easier and harder versions in order. The versions that are not
exercises (``rungs``) are never planned: they are reached only along a ladder, so adding one
cannot change any plan. Both files are checked on load, each problem naming the file, the entry
and what is wrong: a link to nothing, a ladder that goes round in a circle or changes category,
a rung without its equipment or its movement demands, phases with gaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import KnowledgeError, excerpt
from .knowledge import PROGRAMME_FILES, Exercise, KnowledgeBase
from .schema import Entry, entries, load_yaml

LADDERS, PHASES = PROGRAMME_FILES
#: Strength sessions a week a phase may ask for: more than three cannot avoid two days running.
MAX_STRENGTH_DAYS = 3


@dataclass(frozen=True)
class Rung:
    """One version of a move at one dose: an exercise of the knowledge base, or a rung of
    ``ladders.yaml``."""

    id: str
    name: str
    category: str
    equipment: tuple[str, ...]
    dose: str
    minutes: float
    per_day: int
    steps: tuple[str, ...]
    cautions: tuple[str, ...]
    source: str
    #: the movement demands it makes (vocabulary.yaml `demands`): the programme never moves an
    #: item onto a version whose demand the runner's answers rule out
    demands: tuple[str, ...] = ()

    @property
    def day_minutes(self) -> float:
        return self.minutes * self.per_day


@dataclass(frozen=True)
class Ladder:
    """An exercise's versions, easiest first; ``origin`` is the exercise's own place (step 0)."""

    exercise: str
    rungs: tuple[Rung, ...]
    origin: int

    def at(self, step: int) -> Rung | None:
        """The rung ``step`` places from the exercise (negative: easier), or None past an end."""
        index = self.origin + step
        return self.rungs[index] if 0 <= index < len(self.rungs) else None


@dataclass(frozen=True)
class Phase:
    id: str
    name: str
    first: int
    last: int
    strength_days: int
    focus: str
    cues: dict[str, str]
    source: str


@dataclass(frozen=True)
class ProgrammeKnowledge:
    """Every exercise's ladder (a single rung when it has no variants) and the phases."""

    ladders: dict[str, Ladder]
    phases: tuple[Phase, ...]
    sources: frozenset[str]  # every source the two files cite, for `kb check`

    def phase(self, week: int) -> Phase:
        """The phase of ``week`` (1-based); weeks after the last phase keep the last one."""
        return next((p for p in self.phases if p.first <= week <= p.last), self.phases[-1])


def load_programme_knowledge(directory: Path, kb: KnowledgeBase) -> ProgrammeKnowledge:
    """Load and check ``ladders.yaml`` and ``phases.yaml`` in ``directory`` against ``kb``."""
    directory = Path(directory)
    cited: set[str] = set()
    ladders = _ladders(directory / LADDERS, kb, cited)
    phases = _phases(directory / PHASES, kb)
    cited |= {phase.source for phase in phases}
    return ProgrammeKnowledge(ladders, phases, frozenset(cited))


def _rung_of(exercise: Exercise) -> Rung:
    return Rung(exercise.id, exercise.name, exercise.category, exercise.equipment, exercise.dose,
                exercise.minutes, exercise.per_day, exercise.steps, exercise.cautions,
                exercise.source, exercise.demands)


def _ladders(path: Path, kb: KnowledgeBase, cited: set[str]) -> dict[str, Ladder]:
    data = load_yaml(path, KnowledgeError)
    file = str(path)
    Entry(data, file, "file", KnowledgeError).only({"rungs", "links"})
    nodes = {ident: _rung_of(exercise) for ident, exercise in kb.exercises.items()}
    for entry in entries(data, "rungs", file, KnowledgeError):
        if entry.data["id"] in nodes:
            entry.fail("id is an exercise's id; a rung needs an id of its own")
        nodes[entry.data["id"]] = _rung(entry, kb)
        cited.add(nodes[entry.data["id"]].source)
    harder: dict[str, str] = {}
    easier: dict[str, str] = {}
    link_entries = entries(data, "links", file, KnowledgeError)
    for entry in link_entries:
        entry.only({"id", "easier", "harder", "source"})
        cited.add(_source(entry, kb))
        ident = entry.data["id"]
        if ident not in nodes:
            entry.fail(f"{excerpt(ident)} is neither an exercise nor a rung")
        if not entry.has("easier") and not entry.has("harder"):
            entry.fail("name an 'easier' or a 'harder' variant, or both")
        for key in ("easier", "harder"):
            other = entry.text(key, None)
            if other is None:
                continue
            if other not in nodes:
                entry.fail(f"{key} variant {excerpt(other)} is neither an exercise nor a rung")
            if other == ident:
                entry.fail(f"{key} variant is the entry itself")
            low, high = (other, ident) if key == "easier" else (ident, other)
            if nodes[low].category != nodes[high].category:
                entry.fail(f"{key} variant {other} is {nodes[other].category}, not "
                           f"{nodes[ident].category}: a ladder keeps to one category")
            for table, start, end, word in ((harder, low, high, "harder"), (easier, high, low, "easier")):
                if table.get(start, end) != end:
                    entry.fail(f"{start} gets two {word} variants: {table[start]} and {end}")
                table[start] = end
    for entry in link_entries:
        _check_cycle(entry, harder)
    return {ident: _ladder(ident, nodes, harder, easier) for ident in kb.exercises}


def _check_cycle(entry: Entry, harder: dict[str, str]) -> None:
    chain = [entry.data["id"]]
    while chain[-1] in harder:
        chain.append(harder[chain[-1]])
        if chain[-1] == chain[0]:
            entry.fail(f"the ladder goes round in a circle: {' -> '.join(chain)}")
        if chain[-1] in chain[:-1]:
            return  # a circle further up, reported at its own entry


def _ladder(exercise: str, nodes: dict[str, Rung], harder: dict[str, str],
            easier: dict[str, str]) -> Ladder:
    below: list[str] = []
    while (below[-1] if below else exercise) in easier:
        below.append(easier[below[-1] if below else exercise])
    above: list[str] = []
    while (above[-1] if above else exercise) in harder:
        above.append(harder[above[-1] if above else exercise])
    order = list(reversed(below)) + [exercise] + above
    return Ladder(exercise, tuple(nodes[ident] for ident in order), len(below))


def _rung(entry: Entry, kb: KnowledgeBase) -> Rung:
    entry.only({"id", "dose_of", "name", "category", "equipment", "dose", "minutes", "per_day",
                "steps", "cautions", "source", "demands"})
    base_id = entry.text("dose_of", None)
    base: Exercise | None = None
    if base_id is not None:
        if base_id not in kb.exercises:
            entry.fail(f"dose_of names unknown exercise {excerpt(base_id)}")
        base = kb.exercises[base_id]
    minutes = entry.number("minutes")
    if not 0 < minutes <= 30:
        entry.fail(f"'minutes' must be more than 0 and at most 30, got {excerpt(minutes)}")
    per_day = entry.get("per_day", int, 1, "a whole number")
    if not 1 <= per_day <= 6:
        entry.fail(f"'per_day' must be a whole number from 1 to 6, got {per_day!r}")
    equipment_choices = kb.questions["equipment"].values

    def inherited(key: str, read: Any) -> Any:
        if base is None or entry.has(key):
            return read()
        return getattr(base, key)

    demand_choices = kb.vocabulary.demands
    if base is None and demand_choices and not entry.has("demands"):
        entry.fail("missing required key 'demands': list the movement demands it makes "
                   f"({', '.join(demand_choices)}), or [] for none")
    demands = inherited("demands", lambda: tuple(entry.choices("demands", demand_choices, [])))
    if len(set(demands)) != len(demands):
        entry.fail("'demands' lists a demand twice")
    steps = inherited("steps", lambda: tuple(entry.strings("steps")))
    if not steps:
        entry.fail("'steps' must hold at least one step")
    return Rung(
        id=entry.data["id"],
        name=inherited("name", lambda: entry.text("name")),
        category=inherited("category", lambda: entry.choice("category", kb.vocabulary.categories)),
        equipment=inherited("equipment", lambda: tuple(entry.choices("equipment", equipment_choices))),
        dose=entry.text("dose"),
        minutes=minutes,
        per_day=per_day,
        steps=steps,
        cautions=inherited("cautions", lambda: tuple(entry.strings("cautions", []))),
        source=_source(entry, kb),
        demands=demands,
    )


def _source(entry: Entry, kb: KnowledgeBase) -> str:
    source = entry.text("source")
    if source not in kb.sources:
        entry.fail(f"source {excerpt(source)} is not in sources.yaml")
    return source


def _phases(path: Path, kb: KnowledgeBase) -> tuple[Phase, ...]:
    data = load_yaml(path, KnowledgeError)
    file = str(path)
    Entry(data, file, "file", KnowledgeError).only({"phases"})
    phases: list[Phase] = []
    for entry in entries(data, "phases", file, KnowledgeError):
        entry.only({"id", "name", "weeks", "strength_days", "focus", "cues", "source"})
        weeks = entry.get("weeks", list, what="[first, last]")
        if len(weeks) != 2 or not all(isinstance(w, int) and not isinstance(w, bool) for w in weeks):
            entry.fail(f"'weeks' must be [first, last], two whole numbers, got {excerpt(weeks)}")
        first, last = weeks
        expected = phases[-1].last + 1 if phases else 1
        if first != expected or last < first:
            entry.fail(f"'weeks' must start at week {expected} and not end before it starts, "
                       f"got {excerpt(weeks)}")
        days = entry.get("strength_days", int, what="a whole number")
        if not 1 <= days <= MAX_STRENGTH_DAYS:
            entry.fail(f"'strength_days' must be 1 to {MAX_STRENGTH_DAYS} (never two days running), "
                       f"got {days!r}")
        cues = entry.get("cues", dict, {}, "a mapping of category to a short note")
        for category, cue in cues.items():
            if category not in kb.vocabulary.categories or not isinstance(cue, str) or not cue.strip():
                entry.fail(f"'cues' maps categories ({', '.join(kb.vocabulary.categories)}) to "
                           f"non-empty notes, not {excerpt(category)}: {excerpt(cue)}")
        phases.append(Phase(entry.data["id"], entry.text("name"), first, last, days,
                            entry.text("focus"), dict(cues), _source(entry, kb)))
    if not phases:
        raise KnowledgeError(file, None, "'phases' must list at least one phase")
    return tuple(phases)
