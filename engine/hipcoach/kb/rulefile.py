"""Rule files: loading, checking and the Rule model.

A rule file holds the rules of one layer. Rules are checked on load against the knowledge base,
so a rule that names an unknown answer, value, symptom, cause, exercise or category fails with the
file and the rule id, before any runner is evaluated. The progress layer (a programme's
check-ins) is written the same way but loaded as a rule base of its own
(:func:`load_progress_rules`): its facts are check-ins, never a runner's answers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from ..errors import RuleError, excerpt
from .knowledge import KnowledgeBase
from .ops import ORDERING, RULE_OPS
from .schema import Entry, entries, load_yaml, unknown_files

#: Layers in firing order; each is one file ``rules/<layer>.yaml``.
LAYERS = ("triage", "symptoms", "causes", "candidates", "plan", "advice")
#: The layer a programme's check-ins run through, in ``rules/progress.yaml``: a rule base of its
#: own (:func:`load_progress_rules`), so plans, their traces and their digests never change.
PROGRESS = "progress"
ALL_LAYERS = LAYERS + (PROGRESS,)
#: What a rule of each layer may conclude.
CONCLUSIONS = {
    "triage": ("refer",),
    "symptoms": ("symptom",),
    "causes": ("cause",),
    "candidates": ("propose", "exclude", "rule_out"),
    "plan": ("require", "schedule"),
    "advice": ("advise",),
    PROGRESS: ("decide",),
}
#: What a progress rule may decide, strongest first: when several fire, the strongest wins.
DECISIONS = ("refer", "regress", "hold", "progress")
#: How the runner felt the morning after exercise, as a check-in reports it.
NEXT_MORNING = ("better", "same", "worse")
#: Whether an item can move one rung: ``ok``, or why not (the ladder ends there, the rung needs
#: equipment the runner lacks, it would take a day past the runner's minutes, another item of
#: the programme is already that version, it is done several times a day and the item's block
#: is tied to runs, or it makes a movement demand the runner's answers rule out).
STEP_ENDS = ("ok", "end", "equipment", "time", "taken", "slot", "demand")
#: Fact types a pattern can match, and the fields each carries. (Not `id`: durable_rules takes a
#: fact's `id` as its identity.)
FACT_FIELDS = {
    "answer": None,  # one field, named after the answer id
    "symptom": ("name", "cf"),
    "cause": ("name", "cf"),
    "candidate": ("exercise", "category", "cf"),
    "requires": ("exercise", "item"),
    # a movement demand an exercise makes, and a demand the runner's answers rule out
    "demands": ("exercise", "demand"),
    "ruled_out": ("demand",),
    "item": ("exercise", "category", "when"),
    # the progress layer's facts (see reasoning.facts): a check-in `back` check-ins before the
    # latest (0 is the latest), a referral the triage rules concluded from the latest (its
    # reason and urgency), the programme's decision, and one item's place on its ladder
    "checkin": ("back", "pain_during", "next_morning", "thirds_done", "days", "rise"),
    "triage": ("reason", "urgency"),
    "decision": ("kind",),
    "step": ("exercise", "step", "next", "prev"),
}
#: The fact types only progress rules match, and progress rules match no others.
PROGRESS_FACTS = ("checkin", "triage", "decision", "step")
T = TypeVar("T")
#: The layer whose conclusions each kind of derived fact is.
FACT_LAYER = {"symptom": "symptoms", "cause": "causes", "candidate": "candidates",
              "ruled_out": "candidates", "item": "plan"}
#: When the engine asserts each kind of fact (see ``Engine.derive`` in :mod:`..reasoning.inference`):
#: answers and equipment first, then each layer's conclusions once that layer has settled, then
#: the chosen plan items. The demands a runner's answers rule out are asserted with the
#: candidates, so one exclusion rule can join the two.
ASSERTED = {"answer": 0, "requires": 0, "demands": 0, "symptom": 1, "cause": 2, "candidate": 3,
            "ruled_out": 3, "item": 4}
#: When the engine uses each kind of conclusion: a layer's evidence is combined just before its
#: facts are asserted, exclusions and requirements when the plan is chosen, schedules and
#: referrals when the plan is reported. A rule can only count if every fact it matches is
#: asserted before its conclusion is used: a cause rule that matches a cause, say, would fire
#: after the causes were combined, and its evidence would be silently dropped.
USED = {"symptom": 1, "cause": 2, "propose": 3, "rule_out": 3, "exclude": 4, "require": 4,
        "schedule": 5, "refer": 5, "advise": 5}
SHORTHANDS = ("answer", "no_answer", "symptom", "cause", "candidate", "item")


class Ref:
    """A field of the fact an earlier pattern matched: ``{ref: ALIAS.FIELD}`` in a rule file.
    (A class of its own, not a named tuple: a rule's target is a tuple of ids or one of these.)"""

    __slots__ = ("alias", "field")

    def __init__(self, alias: str, field: str) -> None:
        self.alias = alias
        self.field = field

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ref) and (self.alias, self.field) == (other.alias, other.field)

    def __hash__(self) -> int:
        return hash((Ref, self.alias, self.field))

    def __repr__(self) -> str:
        return f"Ref(alias={self.alias!r}, field={self.field!r})"


class Test(NamedTuple):
    """One field test inside a pattern: ``field OP value``; for ``ref``, value is a :class:`Ref`."""

    field: str
    op: str
    value: Any


class Pattern(NamedTuple):
    """One fact the rule needs (or, negated, must not find)."""

    fact: str
    alias: str
    tests: tuple[Test, ...]
    negated: bool = False


class Requirement:
    """What a ``require`` rule asks of the plan: an exercise of one of ``categories`` that, when
    ``targets`` is not empty, also works at least one of those muscle groups. (Not a named
    tuple, for the reason :class:`Ref` is not.)"""

    __slots__ = ("categories", "targets")

    def __init__(self, categories: tuple[str, ...], targets: tuple[str, ...] = ()) -> None:
        self.categories = categories
        self.targets = targets

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Requirement)
                and (self.categories, self.targets) == (other.categories, other.targets))

    def __hash__(self) -> int:
        return hash((Requirement, self.categories, self.targets))

    def __repr__(self) -> str:
        return f"Requirement(categories={self.categories!r}, targets={self.targets!r})"

    def met_by(self, category: str, muscles: tuple[str, ...]) -> bool:
        return category in self.categories and (not self.targets or bool(set(muscles) & set(self.targets)))


class Urgency(NamedTuple):
    """How soon a referred runner must be seen; ``heading`` leads the referral and ``advice``
    closes it."""

    id: str
    heading: str
    advice: str
    #: the same urgency worded for a runner part-way through a programme (optional: the
    #: heading and advice above otherwise)
    during_heading: str | None = None
    during_advice: str | None = None

    def during(self) -> tuple[str, str]:
        """The heading and advice for a referral at a programme's check-in."""
        return self.during_heading or self.heading, self.during_advice or self.advice


class Rule(NamedTuple):
    id: str
    layer: str
    file: str
    patterns: tuple[Pattern, ...]
    conclusion: str
    target: Any  # an id, a tuple of ids, or a Ref for an `exclude` of the matched exercise
    cf: float
    rationale: str
    source: str
    priority: int
    order: int
    urgency: str | None = None  # triage rules only

    @property
    def target_is_ref(self) -> bool:
        """An ``exclude`` whose target is the exercise a pattern matched, not a fixed list."""
        return isinstance(self.target, Ref)

    @property
    def answers_used(self) -> tuple[str, ...]:
        """Answer ids this rule tests, in pattern order: the static part of a WHY."""
        return tuple(t.field for p in self.patterns if p.fact == "answer" for t in p.tests)


class Slot(NamedTuple):
    id: str
    label: str
    frequency: str


class Decision(NamedTuple):
    """One kind of check-in decision: what the runner reads as its heading, and what to do;
    ``unmoved`` is what to do instead when the decision moves an item and none could move."""

    id: str
    label: str
    advice: str
    unmoved: str | None = None


class ProgressRules(NamedTuple):
    """The progress layer: its rules and its decisions, strongest first."""

    rules: tuple[Rule, ...]
    decisions: tuple[Decision, ...]
    digest: str
    #: what a check-in after which nothing more is planned says instead of any move
    last_checkin: str = ""

    def by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}

    def decision(self, ident: str) -> Decision:
        return next(d for d in self.decisions if d.id == ident)


class RuleBase(NamedTuple):
    rules: tuple[Rule, ...]
    thresholds: dict[str, float]
    slots: tuple[Slot, ...]
    max_items: int
    digest: str
    urgencies: tuple[Urgency, ...] = ()

    def layer(self, name: str) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.layer == name)

    def by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}


def load_rules(directory: Path, kb: KnowledgeBase) -> RuleBase:
    """Load every layer file from ``directory`` and check it against ``kb``."""
    import hashlib  # only when loading: a cached base skips this (and the import's cost)

    directory = Path(directory)
    rules: list[Rule] = []
    thresholds: dict[str, float] = {}
    slots: tuple[Slot, ...] = ()
    urgencies: tuple[Urgency, ...] = ()
    max_items = 0
    sha = hashlib.sha256()
    seen: dict[str, str] = {}
    unknown_files(directory, [f"{layer}.yaml" for layer in ALL_LAYERS], RuleError, "rules")
    for layer in LAYERS:
        path = directory / f"{layer}.yaml"
        data = load_yaml(path, RuleError)
        sha.update(path.read_bytes())
        head = Entry(data, str(path), "file", RuleError)
        head.only({"layer", "threshold", "rules", "slots", "max_items", "urgencies"})
        if head.text("layer") != layer:
            head.fail(f"'layer' must be {layer!r} in {path.name}")
        threshold = head.number("threshold", 0.0)
        if not 0 <= threshold < 1:
            head.fail(f"'threshold' must be in [0, 1), got {excerpt(threshold)}")
        thresholds[layer] = float(threshold)
        if layer == "plan":
            slots = _slots(head)
            max_items = head.get("max_items", int, what="a whole number")
            if max_items < 1:
                head.fail("'max_items' must be at least 1")
        elif head.has("slots") or head.has("max_items"):
            head.fail("'slots' and 'max_items' belong in plan.yaml")
        if layer == "triage":
            urgencies = _urgencies(head)
        elif head.has("urgencies"):
            head.fail("'urgencies' belongs in triage.yaml")
        context = _Context(kb, {s.id for s in slots}, {u.id for u in urgencies})
        for entry in entries(data, "rules", str(path), RuleError):
            rule = _rule(entry, layer, context, len(rules))
            if rule.id in seen:
                entry.fail(f"rule id {excerpt(rule.id)} is also used in {seen[rule.id]}")
            seen[rule.id] = str(path)
            rules.append(rule)
    return RuleBase(tuple(rules), thresholds, slots, max_items, sha.hexdigest(), urgencies)


def load_progress_rules(directory: Path, kb: KnowledgeBase) -> ProgressRules:
    """Load and check ``progress.yaml`` in ``directory`` against ``kb``."""
    path = Path(directory) / f"{PROGRESS}.yaml"
    data = load_yaml(path, RuleError)
    head = Entry(data, str(path), "file", RuleError)
    head.only({"layer", "decisions", "last_checkin", "rules"})
    if head.text("layer") != PROGRESS:
        head.fail(f"'layer' must be {PROGRESS!r} in {path.name}")
    decisions = _named_texts(head, "decisions", Decision, ("label", "advice"),
                             f"every decision, strongest first: {', '.join(DECISIONS)}",
                             optional=("unmoved",))
    if tuple(d.id for d in decisions) != DECISIONS:
        head.fail(f"'decisions' must list {', '.join(DECISIONS)}, in that order (strongest first)")
    context = _Context(kb, set(), set())
    rules = tuple(_rule(entry, PROGRESS, context, order)
                  for order, entry in enumerate(entries(data, "rules", str(path), RuleError)))
    import hashlib  # only when loading, as in load_rules

    return ProgressRules(rules, decisions, hashlib.sha256(path.read_bytes()).hexdigest(),
                         head.text("last_checkin"))


class _Context(NamedTuple):
    """What a rule is checked against besides the knowledge base: the plan's slots and the
    triage urgencies."""

    kb: KnowledgeBase
    slots: set[str]
    urgencies: set[str]


def _urgencies(head: Entry) -> tuple[Urgency, ...]:
    return _named_texts(head, "urgencies", Urgency, ("heading", "advice"),
                        "at least one urgency, most urgent first",
                        optional=("during_heading", "during_advice"))


def _slots(head: Entry) -> tuple[Slot, ...]:
    return _named_texts(head, "slots", Slot, ("label", "frequency"), "at least one schedule slot")


def _named_texts(head: Entry, key: str, kind: Callable[..., T], fields: tuple[str, ...],
                 what: str, optional: tuple[str, ...] = ()) -> tuple[T, ...]:
    """The non-empty list under ``key`` of a rule file's head, each entry an id and text fields
    (``optional`` ones may be left out)."""
    result = []
    for entry in entries(head.data, key, head.file, RuleError):
        entry.only({"id", *fields, *optional})
        result.append(kind(entry.data["id"], *(entry.text(field) for field in fields),
                           *(entry.text(field, None) for field in optional)))
    if not result:
        head.fail(f"{key!r} must list {what}")
    return tuple(result)


def _rule(entry: Entry, layer: str, context: _Context, order: int) -> Rule:
    kb = context.kb
    entry.only({"id", "when", "then", "cf", "rationale", "source", "priority", "urgency"})
    urgency = entry.get("urgency", str, None)
    if layer == "triage" and urgency not in context.urgencies:
        entry.fail(f"'urgency' must be one of {', '.join(sorted(context.urgencies))}, got {excerpt(urgency)}")
    if layer != "triage" and urgency is not None:
        entry.fail("'urgency' belongs to triage rules only")
    cf = entry.number("cf", 1.0)
    if not 0 < cf <= 1:
        entry.fail(f"'cf' must be in (0, 1], got {excerpt(cf)}")
    source = entry.text("source")
    if source not in kb.sources:
        entry.fail(f"source {excerpt(source)} is not in the knowledge base's sources.yaml")
    raw_when = entry.get("when", list, what="a list of patterns")
    if not raw_when:
        entry.fail("'when' must hold at least one pattern")
    patterns: list[Pattern] = []
    places: list[str] = []  # each pattern's `when[N]`, for errors found once the conclusion is known
    for index, raw in enumerate(raw_when):
        found = _patterns(entry, raw, index, kb, patterns, layer)
        patterns.extend(found)
        places.extend([f"when[{index + 1}]"] * len(found))
    if all(p.negated for p in patterns):
        entry.fail("'when' needs at least one pattern that is not negated")
    then = entry.get("then", dict, what="a mapping with one conclusion")
    if len(then) != 1:
        entry.fail(f"'then' must hold exactly one conclusion, got {excerpt(sorted(map(str, then)))}")
    conclusion, target = next(iter(then.items()))
    if conclusion not in CONCLUSIONS[layer]:
        entry.fail(f"a {layer} rule concludes one of {', '.join(CONCLUSIONS[layer])}, "
                   f"not {excerpt(conclusion)}")
    if layer == PROGRESS:
        _check_progress_timing(entry, patterns, places)
    else:
        _check_timing(entry, layer, conclusion, patterns, places)
    target = _target(entry, conclusion, target, kb, context.slots, patterns)
    priority = entry.get("priority", int, 0, "a whole number")
    return Rule(entry.data["id"], layer, entry.file, tuple(patterns), conclusion, target, float(cf),
                entry.text("rationale"), source, priority, order, urgency)


def _check_timing(entry: Entry, layer: str, conclusion: str, patterns: list[Pattern],
                  places: list[str]) -> None:
    """Refuse a pattern on facts the engine asserts only after it has used this rule's
    conclusion (:data:`ASSERTED`, :data:`USED`): the rule would fire too late to count."""
    for pattern, where in zip(patterns, places):
        if ASSERTED[pattern.fact] < USED[conclusion]:
            continue
        source = FACT_LAYER[pattern.fact]
        whose = "this layer's own conclusions" if source == layer else f"from the {source} layer"
        entry.fail(f"{where}: {pattern.fact} facts are {whose}, asserted only after {conclusion!r} "
                   f"conclusions are used, so this rule would fire too late and be ignored")


def _check_progress_timing(entry: Entry, patterns: list[Pattern], places: list[str]) -> None:
    """The programme's decision is made on the check-ins and red flags; only then are the
    decision and each item's step asserted, for rules that decide one item differently. A rule
    on the decision that matches no step would fire after the decision was used."""
    matches = {p.fact for p in patterns if not p.negated}
    if "step" in matches:
        return
    for pattern, where in zip(patterns, places):
        if pattern.fact in ("decision", "step"):
            entry.fail(f"{where}: {pattern.fact} facts are asserted only after the programme's "
                       "decision is made, so a rule matching one must also match a step (and "
                       "decides for that item)")


def _target(entry: Entry, conclusion: str, target: Any, kb: KnowledgeBase, slots: set[str],
            patterns: list[Pattern]) -> Any:
    known: Mapping[str, Any]
    single = ("refer", "symptom", "cause", "schedule", "advise", "decide")
    if conclusion in single and not isinstance(target, str):
        entry.fail(f"'{conclusion}' takes a single id, got {excerpt(target)}")
    if conclusion == "refer":
        if not isinstance(target, str) or not target.strip():
            entry.fail("'refer' must be a short reason id")
        return target
    if conclusion == "decide":
        if target not in DECISIONS:
            entry.fail(f"'decide' takes one of {', '.join(DECISIONS)}, not {excerpt(target)}")
        return target
    if conclusion in ("symptom", "cause"):
        known = kb.symptoms if conclusion == "symptom" else kb.causes
        if target not in known:
            entry.fail(f"{conclusion} {excerpt(target)} is not in the knowledge base's {conclusion}s.yaml")
        return target
    if conclusion == "advise":
        if target not in kb.advice:
            entry.fail(f"advice {excerpt(target)} is not in the knowledge base's advice.yaml")
        return target
    if conclusion == "require":
        return _requirement(entry, target, kb)
    if conclusion == "rule_out":
        demands = target if isinstance(target, list) else None
        if not demands or not all(isinstance(d, str) for d in demands):
            entry.fail("'rule_out' must be a non-empty list of demand ids")
        for demand in demands:
            if demand not in kb.vocabulary.demands:
                entry.fail(f"rule_out: unknown demand {excerpt(demand)}; known: "
                           f"{', '.join(kb.vocabulary.demands)}")
        return tuple(demands)
    if conclusion == "schedule":
        if target not in slots:
            entry.fail(f"schedule slot {excerpt(target)} is not among plan.yaml slots: "
                       f"{', '.join(sorted(slots))}")
        if not any(p.fact == "item" and not p.negated for p in patterns):
            entry.fail("a schedule rule must match an 'item' pattern")
        return target
    if conclusion == "exclude" and isinstance(target, Mapping):
        ref = _ref(entry, target.get("ref"), patterns) if set(target) == {"ref"} else None
        if ref is None or ref.field != "exercise":
            entry.fail("'exclude' takes a list of exercise ids or {ref: ALIAS.exercise}")
        return ref
    names = target if isinstance(target, list) else None
    if not names or not all(isinstance(n, str) for n in names):
        entry.fail(f"'{conclusion}' must be a non-empty list of ids")
    for name in names:
        if name not in kb.exercises:
            entry.fail(f"{conclusion}: unknown exercise {excerpt(name)}")
    return tuple(names)


def _requirement(entry: Entry, target: Any, kb: KnowledgeBase) -> Requirement:
    """``[categories]`` or ``{category: [categories], targets: [muscle groups]}``."""
    if isinstance(target, Mapping):
        if not set(target) <= {"category", "targets"} or "category" not in target:
            entry.fail("'require' takes a list of categories or {category: [...], targets: [...]}")
        categories, muscles = target["category"], target.get("targets", [])
    else:
        categories, muscles = target, []
    for what, names, known in (("category", categories, kb.vocabulary.categories),
                               ("muscle group", muscles, kb.vocabulary.muscles)):
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            entry.fail(f"require: the {what} list must be a list of ids, got {excerpt(names)}")
        for name in names:
            if name not in known:
                entry.fail(f"require: unknown {what} {excerpt(name)}")
    if not categories:
        entry.fail("require: name at least one category")
    return Requirement(tuple(categories), tuple(muscles))


def _patterns(entry: Entry, raw: Any, index: int, kb: KnowledgeBase,
              earlier: list[Pattern], layer: str) -> list[Pattern]:
    """Expand one ``when`` item: shorthands become the general form, and a multi-key answer
    shorthand becomes one pattern per answer (each answer is its own fact)."""
    where = f"when[{index + 1}]"
    if not isinstance(raw, Mapping):
        entry.fail(f"{where} must be a mapping")
    keys = set(raw) - {"as"}
    if "fact" in raw:
        if not keys <= {"fact", "where", "not"}:
            entry.fail(f"{where}: the general form takes fact, where, as, not")
        fact, tests, negated = raw["fact"], raw.get("where", {}), bool(raw.get("not", False))
    elif len(keys) == 1 and next(iter(keys)) in SHORTHANDS:
        fact = next(iter(keys))
        tests, negated = raw[fact], fact == "no_answer"
        fact = "answer" if fact == "no_answer" else fact
        if fact in ("symptom", "cause") and isinstance(tests, str):
            tests = {"name": tests}
    else:
        entry.fail(f"{where} must be one of {', '.join(SHORTHANDS)} or {{fact: ..., where: ...}}")
    if fact not in FACT_FIELDS:
        entry.fail(f"{where}: unknown fact type {excerpt(fact)}; known: {', '.join(FACT_FIELDS)}")
    if (fact in PROGRESS_FACTS) != (layer == PROGRESS):
        owner = "the progress layer's" if layer == PROGRESS else f"the {layer} layer's"
        entry.fail(f"{where}: {excerpt(fact)} facts are never asserted for {owner} rules")
    if not isinstance(tests, Mapping):
        entry.fail(f"{where}: the tests must be a mapping of field to value or {{op: value}}")
    alias = raw.get("as")
    if fact == "answer":
        if not tests:
            entry.fail(f"{where}: an answer pattern must test at least one answer")
        if alias is not None and len(tests) > 1:
            entry.fail(f"{where}: 'as' needs a single-answer pattern")
        items = [{key: value} for key, value in tests.items()]
    else:
        items = [dict(tests)]
    result: list[Pattern] = []
    for number, item in enumerate(items):
        name = alias or f"{fact}_{index}_{number}"
        _check_alias(entry, where, name, earlier + result)
        parsed = tuple(test for key, value in item.items()
                       for test in _tests(entry, where, fact, key, value, kb, earlier + result))
        result.append(Pattern(fact, name, parsed, negated))
    return result


def _check_alias(entry: Entry, where: str, alias: Any, earlier: list[Pattern]) -> None:
    # `s` would make durable_rules hand the action the session state instead of the fact.
    if not isinstance(alias, str) or not alias.isidentifier() or alias == "s" or alias.startswith("_"):
        entry.fail(f"{where}: alias {excerpt(alias)} must be an identifier other than 's', "
                   f"not starting with '_'")
    if any(p.alias == alias for p in earlier):
        entry.fail(f"{where}: alias {excerpt(alias)} is used twice")


def _tests(entry: Entry, where: str, fact: str, key: Any, value: Any, kb: KnowledgeBase,
           earlier: list[Pattern]) -> list[Test]:
    """A field's tests: one, or several ordering tests that must all hold, such as
    ``{gt: {ref: before.pain_during}, gte: 6}`` (durable_rules matches each fact to one pattern
    only, so two tests on one field of one fact must share a pattern)."""
    if isinstance(value, Mapping) and len(value) > 1 and set(value) <= set(ORDERING):
        return [_test(entry, where, fact, key, {op: operand}, kb, earlier)
                for op, operand in value.items()]
    return [_test(entry, where, fact, key, value, kb, earlier)]


def _test(entry: Entry, where: str, fact: str, key: Any, value: Any, kb: KnowledgeBase,
          earlier: list[Pattern]) -> Test:
    fields = FACT_FIELDS[fact]
    if fact == "answer":
        if key not in kb.questions:
            entry.fail(f"{where}: unknown answer id {excerpt(key)}")
    elif key not in (fields or ()):
        entry.fail(f"{where}: a {fact} fact has fields {', '.join(fields or ())}, not {excerpt(key)}")
    if isinstance(value, Mapping):
        if len(value) != 1 or next(iter(value)) not in RULE_OPS:
            entry.fail(f"{where}: {key}: write {{op: value}} with op one of {', '.join(RULE_OPS)}")
        op, operand = next(iter(value.items()))
    else:
        op, operand = "eq", value
    if op == "ref":
        return Test(key, op, _ref(entry, operand, earlier))
    if op in ORDERING and isinstance(operand, Mapping) and set(operand) == {"ref"}:
        # a comparison with a field of an earlier pattern: {gt: {ref: ALIAS.FIELD}}
        return Test(key, op, _ref(entry, operand["ref"], earlier))
    if op == "in":
        if not isinstance(operand, list) or not operand:
            entry.fail(f"{where}: {key}: 'in' takes a non-empty list")
        for item in operand:
            _value(entry, where, fact, key, item, kb)
        return Test(key, op, tuple(operand))
    _value(entry, where, fact, key, operand, kb)
    if op in ORDERING and not _is_number(operand):
        entry.fail(f"{where}: {key}: {op} needs a number, got {excerpt(operand)}")
    return Test(key, op, operand)


def _value(entry: Entry, where: str, fact: str, key: str, value: Any, kb: KnowledgeBase) -> None:
    """Check a literal against the vocabulary it will be compared with."""
    if isinstance(value, (Mapping, list)):
        entry.fail(f"{where}: {key}: expected a single value, got {excerpt(value)}")
    if fact == "answer":
        question = kb.questions[key]
        if question.type in ("choice", "multi") and value not in question.values:
            entry.fail(f"{where}: {key} is never {excerpt(value)}; values: {', '.join(question.values)}")
        if question.type == "bool" and not isinstance(value, bool):
            entry.fail(f"{where}: {key} is true or false, not {excerpt(value)}")
        if question.type in ("int", "number") and not _is_number(value):
            entry.fail(f"{where}: {key} is a number, not {excerpt(value)}")
        return
    vocabularies: dict[tuple[str, str], Collection[Any]] = {
        ("symptom", "name"): kb.symptoms, ("cause", "name"): kb.causes,
        ("candidate", "exercise"): kb.exercises, ("item", "exercise"): kb.exercises,
        ("requires", "exercise"): kb.exercises,
        ("demands", "exercise"): kb.exercises, ("demands", "demand"): kb.vocabulary.demands,
        ("ruled_out", "demand"): kb.vocabulary.demands,
        ("candidate", "category"): kb.vocabulary.categories, ("item", "category"): kb.vocabulary.categories,
        ("item", "when"): kb.vocabulary.when,
        ("requires", "item"): kb.questions["equipment"].values,
        ("checkin", "next_morning"): NEXT_MORNING,
        ("decision", "kind"): DECISIONS, ("step", "exercise"): kb.exercises,
        ("step", "next"): STEP_ENDS, ("step", "prev"): STEP_ENDS,
    }
    vocab = vocabularies.get((fact, key))
    if vocab is not None and value not in vocab:
        entry.fail(f"{where}: {fact} {key} {excerpt(value)} is unknown")
    if key == "cf" and not (_is_number(value) and 0 <= value <= 1):
        entry.fail(f"{where}: cf is compared with numbers in [0, 1], not {excerpt(value)}")


def _values(kb: KnowledgeBase, question: str) -> tuple[str, ...]:
    """A choice question's values, or none when the questionnaire does not ask it."""
    return kb.questions[question].values if question in kb.questions else ()


def _ref(entry: Entry, operand: Any, earlier: list[Pattern]) -> Ref:
    if not isinstance(operand, str) or operand.count(".") != 1:
        entry.fail(f"ref must be 'ALIAS.FIELD', got {excerpt(operand)}")
    alias, field = operand.split(".")
    target = next((p for p in earlier if p.alias == alias and not p.negated), None)
    if target is None:
        entry.fail(f"ref {excerpt(operand)} names no earlier, non-negated pattern")
    fields = FACT_FIELDS[target.fact]
    if (fields is None and field not in [t.field for t in target.tests]) or (fields and field not in fields):
        entry.fail(f"ref {excerpt(operand)}: pattern {excerpt(alias)} has no field {excerpt(field)}")
    return Ref(alias, field)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
