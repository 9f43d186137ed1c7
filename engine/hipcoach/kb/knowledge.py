"""The knowledge base: exercises, causes, symptoms, sources, vocabularies and the questionnaire.

Loaded from the YAML files in ``knowledge/`` and checked on load, each problem reported with the
file and the entry. The engine treats every entry as data; nothing here knows about a specific
exercise or cause.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import AnswersError, KnowledgeError, excerpt
from .ops import COMPARISONS
from .schema import Entry, entries, load_yaml, unknown_files

FILES = ("sources.yaml", "vocabulary.yaml", "exercises.yaml", "causes.yaml", "symptoms.yaml",
         "questionnaire.yaml", "advice.yaml")
#: The files a programme adds (see :mod:`.ladders`): plans never read them, so they are not part
#: of the digest, and a folder used for plans only may leave them out.
PROGRAMME_FILES = ("ladders.yaml", "phases.yaml")
#: The folder of scenario files (``hipcoach kb test``): expectations of the rules, never read
#: by a plan, and not part of the fingerprint.
SCENARIOS = "scenarios"
#: The top-level list each file holds (vocabulary.yaml is a mapping of its own).
LISTS = {"sources.yaml": "sources", "exercises.yaml": "exercises", "causes.yaml": "causes",
         "symptoms.yaml": "symptoms", "questionnaire.yaml": "questions", "advice.yaml": "advice"}
QUESTION_TYPES = ("int", "number", "bool", "choice", "multi")
#: A question's ``why_not`` word: ``yours`` (the runner can change it today), ``never`` and
#: ``lower`` (only lower numbers); a list names the only values why-not may show.
WHY_NOT_WORDS = ("yours", "never", "lower")


class Source(NamedTuple):
    id: str
    title: str
    publisher: str

    @property
    def citation(self) -> str:
        return f"{self.title} ({self.publisher})"


class Vocabulary(NamedTuple):
    categories: tuple[str, ...]
    muscles: tuple[str, ...]
    when: tuple[str, ...]
    sides: tuple[str, ...]
    category_labels: dict[str, str]
    equipment_names: dict[str, str]
    certainty_words: tuple[tuple[float, str], ...]  # (min, word), highest min first
    #: the movement demands an exercise can make, each with the plain words a runner reads
    demands: dict[str, str]
    #: demand -> phrases of a cue or step that show an exercise makes it (for `kb check`)
    demand_cues: dict[str, tuple[str, ...]]

    def label(self, category: str) -> str:
        return self.category_labels[category]

    def demand_words(self, demand: str) -> str:
        """"deep knee bending under body weight": a demand as a runner reads it."""
        return self.demands[demand]

    def equipment_name(self, item: str) -> str:
        return self.equipment_names[item]

    def certainty_word(self, cf: float) -> str:
        """"likely" or "possible": a runner reads words, not percentages."""
        return next(word for low, word in self.certainty_words if cf >= low)


class Exercise(NamedTuple):
    id: str
    name: str
    category: str
    targets: tuple[str, ...]
    equipment: tuple[str, ...]
    dose: str
    minutes: float
    sides: str
    when: str
    cue: str
    steps: tuple[str, ...]
    cautions: tuple[str, ...]
    source: str
    variant_of: str | None = None
    per_day: int = 1
    #: the movement demands it makes (vocabulary.yaml `demands`); rules rule demands out
    demands: tuple[str, ...] = ()

    @property
    def day_minutes(self) -> float:
        """The time the exercise takes in a day: every bout of a dose done several times a day."""
        return self.minutes * self.per_day


class Concept(NamedTuple):
    """A cause or a symptom: named, described, sourced."""

    id: str
    name: str
    description: str
    source: str


class Choice(NamedTuple):
    value: str
    label: str


class SkipCondition(NamedTuple):
    """``{answer: ID, OP: VALUE}``: part of a question's skip logic."""

    answer: str
    op: str
    value: Any


class Question(NamedTuple):
    id: str
    prompt: str
    type: str
    default: Any
    help: str
    choices: tuple[Choice, ...] = ()
    min: float | None = None
    max: float | None = None
    ask_if_any: tuple[SkipCondition, ...] = ()
    why_not: str | tuple[Any, ...] | None = None  # see WHY_NOT_WORDS; None: any value

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)

    def coerce(self, value: Any) -> Any:
        """Check ``value`` against this question and return it in canonical form.

        Text forms are accepted where a person or a spreadsheet would write them ("7", "yes",
        "foam_roller;ball"), so that a JSON file, a YAML file and a typed prompt all normalise to
        the same answers and so give the same plan.
        """
        kind = self.type
        if kind == "bool":
            return _as_bool(self.id, value)
        if kind in ("int", "number"):
            allowed = f"between {_fmt(self.min)} and {_fmt(self.max)}"
            number = _as_number(self.id, value, integer=kind == "int", allowed=allowed)
            assert self.min is not None and self.max is not None  # a number question has both
            if not self.min <= number <= self.max:
                raise AnswersError(self.id, value, f"must be {allowed}")
            return number
        allowed = ", ".join(self.values)
        if kind == "choice":
            if not isinstance(value, str) or value not in self.values:
                hint = " (YAML reads an unquoted yes/no as true/false)" if isinstance(value, bool) else ""
                raise AnswersError(self.id, value, f"must be one of: {allowed}{hint}")
            return value
        items = _as_list(self.id, value)
        for item in items:
            if item not in self.values:
                raise AnswersError(self.id, value, f"{excerpt(item)} is not allowed; allowed: {allowed}")
        # canonical: questionnaire order, no repeats, so ["ball", "mat", "ball"] == ["mat", "ball"]
        return [choice for choice in self.values if choice in items]


class Advice(NamedTuple):
    """A piece of advice a plan can give; rules in ``rules/advice.yaml`` decide who gets it."""

    id: str
    text: str
    source: str


class KnowledgeBase(NamedTuple):
    sources: dict[str, Source]
    vocabulary: Vocabulary
    exercises: dict[str, Exercise]
    causes: dict[str, Concept]
    symptoms: dict[str, Concept]
    questions: dict[str, Question]
    advice: dict[str, Advice]
    digest: str

    def citation(self, source_id: str) -> str:
        return self.sources[source_id].citation


def load_knowledge(directory: Path) -> KnowledgeBase:
    """Load and check every knowledge file in ``directory``."""
    directory = Path(directory)
    unknown_files(directory, FILES + PROGRAMME_FILES + (SCENARIOS,), KnowledgeError, "knowledge")
    raw = {name: load_yaml(directory / name, KnowledgeError) for name in FILES}
    path = {name: str(directory / name) for name in FILES}
    for name, key in LISTS.items():  # only the list: any other top-level key is a mistake
        if isinstance(raw[name], dict):
            Entry(raw[name], path[name], "file", KnowledgeError).only({key})

    sources = {e.data["id"]: _source(e) for e in entries(raw["sources.yaml"], "sources",
                                                          path["sources.yaml"], KnowledgeError)}
    questions = _questions(raw["questionnaire.yaml"], path["questionnaire.yaml"])
    for needed, why in PLANNER_QUESTIONS.items():
        if needed not in questions:
            raise KnowledgeError(path["questionnaire.yaml"], None, f"no {needed!r} question: {why}")
    equipment = questions["equipment"].values
    vocabulary = _vocabulary(raw["vocabulary.yaml"], path["vocabulary.yaml"], equipment)
    exercise_entries = entries(raw["exercises.yaml"], "exercises", path["exercises.yaml"],
                               KnowledgeError)
    exercises = {e.data["id"]: _exercise(e, vocabulary, equipment, sources)
                 for e in exercise_entries}
    for entry in exercise_entries:
        parent = exercises[entry.data["id"]].variant_of
        if parent is not None and parent not in exercises:
            entry.fail(f"variant_of names unknown exercise {excerpt(parent)}")
    for entry in exercise_entries:
        _check_variants(entry, exercises)
    causes = {e.data["id"]: _concept(e, sources)
              for e in entries(raw["causes.yaml"], "causes", path["causes.yaml"], KnowledgeError)}
    symptoms = {e.data["id"]: _concept(e, sources)
                for e in entries(raw["symptoms.yaml"], "symptoms", path["symptoms.yaml"], KnowledgeError)}
    clash = sorted(set(causes) & set(symptoms))
    if clash:
        raise KnowledgeError(path["causes.yaml"], clash[0], "id is used by a symptom as well")
    advice = {e.data["id"]: _advice(e, sources)
              for e in entries(raw["advice.yaml"], "advice", path["advice.yaml"], KnowledgeError)}
    return KnowledgeBase(sources, vocabulary, exercises, causes, symptoms, questions, advice,
                         digest=_digest(directory))


#: Questions the planner itself reads, and why.
PLANNER_QUESTIONS = {
    "equipment": "exercises' equipment is checked against it",
    "minutes": "the plan's time budget comes from it",
}


def _check_variants(entry: Entry, exercises: dict[str, Exercise]) -> None:
    """``variant_of`` must lead to a move that is no one's variant, never back to the start:
    the plan step follows it to tell two versions of one move apart."""
    ident = entry.data["id"]
    chain = [ident]
    parent = exercises[ident].variant_of
    while parent is not None and parent not in chain:
        chain.append(parent)
        parent = exercises[parent].variant_of
    if parent == ident:
        if len(chain) == 1:
            entry.fail("variant_of names the exercise itself")
        entry.fail(f"variant_of forms a cycle: {' -> '.join(chain + [ident])}")


def _digest(directory: Path) -> str:
    """A hash of the files' bytes: the engine registers one compiled ruleset per distinct content."""
    import hashlib  # only when loading: a cached base skips this (and the import's cost)

    sha = hashlib.sha256()
    for name in FILES:
        sha.update(name.encode())
        sha.update((directory / name).read_bytes())
    return sha.hexdigest()


TRUE_WORDS = ("true", "yes", "y", "1")
FALSE_WORDS = ("false", "no", "n", "0", "")


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise AnswersError(key, value, "must be true or false (yes/no, 1/0 also accepted)")


def _as_number(key: str, value: Any, integer: bool, allowed: str) -> int | float:
    what = f"a whole number {allowed}" if integer else f"a number {allowed}"
    original = value
    if isinstance(value, bool):
        raise AnswersError(key, value, f"must be {what}, not true/false")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise AnswersError(key, original, f"must be {what}") from None
    if not isinstance(value, (int, float)) or math.isnan(value):
        raise AnswersError(key, original, f"must be {what}")
    if math.isinf(value):
        raise AnswersError(key, original, f"must be {allowed}")
    if integer:
        if float(value) != int(value):
            raise AnswersError(key, original, f"must be {what}")
        return int(value)
    # whole numbers are stored as int so 7 and 7.0 give byte-identical plans
    return int(value) if float(value).is_integer() else float(value)


def split_choices(text: str) -> list[str]:
    """Several choices typed or written as one string: ``"foam_roller; ball"``, ``"1, 6"`` or
    ``"1 6"``. Choice values and numbers hold no spaces, commas or semicolons, so any of them
    separates. (Survey tick-box cells hold labels, which may contain commas: the batch reader
    splits those against the labels it knows.)"""
    return [part for part in re.split(r"[,;\s]+", text) if part]


def _as_list(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return split_choices(value)
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return list(value)
    raise AnswersError(key, value, "must be a list of choices")


def _fmt(number: float | None) -> str:
    return f"{number:g}" if number is not None else "?"


def _source_ref(entry: Entry, sources: dict[str, Source]) -> str:
    source = entry.text("source")
    if source not in sources:
        entry.fail(f"source {excerpt(source)} is not in sources.yaml")
    return source


def _source(entry: Entry) -> Source:
    entry.only({"id", "title", "publisher", "seed"})
    entry.text("seed", None)
    return Source(entry.data["id"], entry.text("title"), entry.text("publisher"))


def _vocabulary(data: Any, file: str, equipment: tuple[str, ...]) -> Vocabulary:
    entry = Entry(data, file, "vocabulary", KnowledgeError)
    entry.only({"categories", "muscles", "when", "sides", "category_labels", "equipment_names",
                "certainty_words", "demands", "demand_cues"})
    lists = {key: entry.strings(key) for key in ("categories", "muscles", "when", "sides")}
    for key, values in lists.items():
        if not values or len(set(values)) != len(values):
            entry.fail(f"{excerpt(key)} must be a non-empty list without repeats")
    labels = entry.get("category_labels", dict, what="a mapping of category to label")
    if set(labels) != set(lists["categories"]) or not all(
            isinstance(v, str) and v.strip() for v in labels.values()):
        entry.fail("'category_labels' must give a non-empty label to exactly the categories")
    names = entry.get("equipment_names", dict, what="a mapping of equipment to a name")
    if set(names) != set(equipment) or not all(isinstance(v, str) and v.strip()
                                               for v in names.values()):
        entry.fail("'equipment_names' must give a non-empty name to exactly the choices of the "
                   f"'equipment' question: {', '.join(equipment)}")
    words: list[tuple[float, str]] = []
    for index, raw in enumerate(entry.get("certainty_words", list, what="a list of {min, word}"), 1):
        sub = Entry(raw, file, f"certainty_words[{index}]", KnowledgeError)
        sub.only({"min", "word"})
        low = sub.number("min")
        if not 0 <= low <= 1 or (words and low >= words[-1][0]):
            sub.fail(f"'min' must be in [0, 1] and below the one before it, got {low!r}")
        words.append((float(low), sub.text("word")))
    if not words or words[-1][0] != 0:
        entry.fail("'certainty_words' must end with an entry of min 0, so every certainty has a word")
    demands = entry.get("demands", dict, {}, "a mapping of demand id to the words a runner reads")
    for demand, words_of in demands.items():
        if not isinstance(demand, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", demand):
            entry.fail(f"'demands': {excerpt(demand)} must be a lower_snake_case id")
        if not isinstance(words_of, str) or not words_of.strip():
            entry.fail(f"'demands': {demand} needs the plain words a runner reads")
    cues = entry.get("demand_cues", dict, {}, "a mapping of demand id to a list of phrases")
    for demand, phrases in cues.items():
        if demand not in demands:
            entry.fail(f"'demand_cues': {excerpt(demand)} is not one of the 'demands'")
        if not isinstance(phrases, list) or not phrases or not all(
                isinstance(p, str) and p.strip() and p == p.lower() for p in phrases):
            entry.fail(f"'demand_cues': {demand} needs a non-empty list of lower-case phrases")
    return Vocabulary(categories=tuple(lists["categories"]), muscles=tuple(lists["muscles"]),
                      when=tuple(lists["when"]), sides=tuple(lists["sides"]),
                      category_labels=dict(labels), equipment_names=dict(names),
                      certainty_words=tuple(words), demands=dict(demands),
                      demand_cues={d: tuple(p) for d, p in cues.items()})


def _exercise(entry: Entry, vocab: Vocabulary, equipment: tuple[str, ...],
              sources: dict[str, Source]) -> Exercise:
    entry.only({"id", "name", "category", "targets", "equipment", "dose", "minutes", "sides", "when",
                "cue", "steps", "cautions", "source", "variant_of", "per_day", "demands"})
    per_day = entry.get("per_day", int, 1, "a whole number")
    if not 1 <= per_day <= 6:
        entry.fail(f"'per_day' must be a whole number from 1 to 6, got {per_day!r}")
    targets = entry.choices("targets", vocab.muscles)
    if not targets:
        entry.fail("'targets' must name at least one muscle group")
    minutes = entry.number("minutes")
    if not 0 < minutes <= 30:
        entry.fail(f"'minutes' must be more than 0 and at most 30, got {excerpt(minutes)}")
    steps = entry.strings("steps")
    if not steps:
        entry.fail("'steps' must hold at least one step")
    if vocab.demands and not entry.has("demands"):  # a base with cautions declares them all
        entry.fail("missing required key 'demands': list the movement demands it makes "
                   f"({', '.join(vocab.demands)}), or [] for none")
    demands = entry.choices("demands", vocab.demands, [])
    if len(set(demands)) != len(demands):
        entry.fail("'demands' lists a demand twice")
    return Exercise(
        id=entry.data["id"],
        name=entry.text("name"),
        category=entry.choice("category", vocab.categories),
        targets=tuple(targets),
        equipment=tuple(entry.choices("equipment", equipment)),
        dose=entry.text("dose"),
        minutes=minutes,
        sides=entry.choice("sides", vocab.sides),
        when=entry.choice("when", vocab.when),
        cue=entry.text("cue"),
        steps=tuple(steps),
        cautions=tuple(entry.strings("cautions", [])),
        source=_source_ref(entry, sources),
        variant_of=entry.get("variant_of", str, None),
        per_day=per_day,
        demands=tuple(demands),
    )


def _advice(entry: Entry, sources: dict[str, Source]) -> Advice:
    entry.only({"id", "text", "source"})
    return Advice(entry.data["id"], entry.text("text"), _source_ref(entry, sources))


def _concept(entry: Entry, sources: dict[str, Source]) -> Concept:
    entry.only({"id", "name", "description", "source"})
    return Concept(entry.data["id"], entry.text("name"), entry.text("description"),
                   _source_ref(entry, sources))


def _questions(data: Any, file: str) -> dict[str, Question]:
    items = entries(data, "questions", file, KnowledgeError)
    ids = [e.data["id"] for e in items]
    questions: dict[str, Question] = {}
    for entry in items:
        question = _question(entry, ids)
        questions[question.id] = question
    for entry in items:  # skip-logic values must be values the named question can take
        for index, cond in enumerate(questions[entry.data["id"]].ask_if_any, start=1):
            target = questions[cond.answer]
            numeric = target.type in ("int", "number")
            try:
                if cond.op not in ("eq", "ne") and not numeric:
                    raise AnswersError(cond.answer, cond.value, f"{cond.op} needs a number question")
                target.coerce(cond.value)
            except AnswersError as exc:
                entry.fail(f"ask_if_any[{index}]: {cond.answer} {cond.op} {excerpt(cond.value)}: "
                           f"{exc.problem}")
    return questions


def _question(entry: Entry, ids: list[str]) -> Question:
    entry.only({"id", "prompt", "type", "choices", "min", "max", "default", "help", "ask_if_any",
                "why_not"})
    kind = entry.choice("type", QUESTION_TYPES)
    choices: tuple[Choice, ...] = ()
    low = high = None
    if kind in ("choice", "multi"):
        raw = entry.get("choices", list, what="a list of {value, label}")
        parsed = []
        for index, item in enumerate(raw, start=1):
            sub = Entry(item, entry.file, f"{entry.label} choices[{index}]", entry.error)
            sub.only({"value", "label"})
            parsed.append(Choice(sub.text("value"), sub.text("label")))
        if not parsed or len({c.value for c in parsed}) != len(parsed):
            entry.fail("'choices' must be non-empty with distinct values")
        choices = tuple(parsed)
    elif kind in ("int", "number"):
        low, high = entry.number("min"), entry.number("max")
        if low > high:
            entry.fail(f"'min' {low} is above 'max' {high}")
    skips = []
    for index, cond in enumerate(entry.get("ask_if_any", list, []), start=1):
        sub = Entry(cond, entry.file, f"{entry.label} ask_if_any[{index}]", entry.error)
        ops = [key for key in cond if key != "answer"] if isinstance(cond, dict) else []
        if len(ops) != 1 or ops[0] not in COMPARISONS:
            sub.fail(f"must be {{answer: ID, OP: VALUE}} with OP one of {', '.join(COMPARISONS)}")
        target = sub.text("answer")
        if target not in ids or target == entry.data["id"]:
            sub.fail(f"'answer' names unknown or self question {excerpt(target)}")
        skips.append(SkipCondition(target, ops[0], cond[ops[0]]))
    question = Question(
        id=entry.data["id"], prompt=entry.text("prompt"), type=kind, default=None,
        help=entry.text("help"), choices=choices, min=low, max=high, ask_if_any=tuple(skips))
    why_not = entry.get("why_not", (str, list), None, "yours, never, lower or a list of values")
    if isinstance(why_not, str) and why_not not in WHY_NOT_WORDS:
        entry.fail(f"'why_not' is {why_not!r}; allowed: {', '.join(WHY_NOT_WORDS)} or a list of values")
    if why_not == "lower" and kind not in ("int", "number"):
        entry.fail("'why_not: lower' needs a number question")
    if isinstance(why_not, list):
        try:
            why_not = tuple(question.coerce(value) for value in why_not)
        except AnswersError as exc:
            entry.fail(f"bad 'why_not' value: {exc.problem}")
    question = question._replace(why_not=why_not)
    if "default" not in entry.data:
        entry.fail("missing required key 'default'")
    try:
        default = question.coerce(entry.data["default"])
    except AnswersError as exc:
        entry.fail(f"bad 'default': {exc.problem}")
    return question._replace(default=default)
