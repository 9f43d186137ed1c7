"""Static checks of a knowledge base and its rules: what ``hipcoach kb check`` reports.

The loaders already reject what breaks the schema (unknown ids, missing sources, duplicate ids);
a load error is reported as the single finding. The checks here find what loads but can never
work: entries no answers can reach, rules no answers can fire, causes answered by one kind of
exercise only, requirements a runner without equipment can never meet, questions no rule reads,
sources nobody cites, movement demands no exercise makes or no rule rules out, exercises whose
cue or steps show a demand they do not declare, requirements one rule_out rule leaves no
exercise for. The programme's
ladders, phases and progress rules are checked by loading
them (a ladder that goes round in a circle, changes category, names a missing variant or a rung
without its equipment fails to load, and that is the finding).
Rules compared with each other (duplicates, subsumed and conflicting rules, requirements no
budget holds) are :mod:`.verify`'s findings, reported here with the rest.
Nothing here runs the engine: it reasons over the rules and the answer vocabulary alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataFileError
from .knowledge import PROGRAMME_FILES, KnowledgeBase, Question, load_knowledge
from .ladders import LADDERS, Rung, load_programme_knowledge
from .ops import holds
from .rulefile import PROGRESS, Pattern, Requirement, Rule, RuleBase, Test, load_progress_rules, load_rules
from .verify import verify

#: What each kind of conclusion asserts, as the fact type later patterns match.
ASSERTS = {"symptom": "symptom", "cause": "cause", "propose": "candidate"}
#: Derived facts a pattern can match, and the derived ids they carry (an item is a chosen candidate).
DERIVED = {"symptom": "symptom", "cause": "cause", "candidate": "candidate", "item": "candidate"}
#: The layer whose threshold a derived fact's certainty has cleared.
LAYER_OF = {"symptom": "symptoms", "cause": "causes", "candidate": "candidates"}
#: A balanced answer to a cause offers at least this many categories of exercise.
MIN_CATEGORIES = 2
@dataclass(frozen=True)
class Finding:
    """One problem, named by the file and the entry (id or position) to fix."""

    check: str
    file: str
    entry: str | None
    message: str
    #: "error" (``kb check`` fails) or "caution" (listed, and the check passes)
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}: {self.entry}" if self.entry else self.file
        tag = self.check if self.severity == "error" else f"{self.check}, caution"
        return f"{where}: [{tag}] {self.message}"


@dataclass(frozen=True)
class _Context:
    kb: KnowledgeBase
    rulebase: RuleBase
    knowledge: Path
    reach: dict[str, set[str]]
    blocked: dict[str, str]  # rule id -> why it can never fire
    programme_sources: frozenset[str]  # cited by the ladders, phases and progress rules
    rungs: tuple[Rung, ...]  # the ladders' versions that are not exercises

    def file(self, name: str) -> str:
        return str(self.knowledge / name)

    def fires(self, rule: Rule) -> bool:
        return rule.id not in self.blocked


def check(knowledge: Path, rules: Path) -> list[Finding]:
    """Every finding for the knowledge folder and rules folder, sorted by file and entry."""
    try:
        kb = load_knowledge(knowledge)
        rulebase = load_rules(rules, kb)
        programme_sources, rungs = _programme_sources(Path(knowledge), Path(rules), kb)
    except DataFileError as exc:
        return [Finding("load", exc.file, exc.entry, exc.problem)]
    reach = reachable(kb, rulebase)
    blocked = {rule.id: reason for rule in rulebase.rules
               if (reason := blocker(rule, kb, rulebase, reach)) is not None}
    ctx = _Context(kb, rulebase, Path(knowledge), reach, blocked, programme_sources, rungs)
    findings = [finding for run in (_unreachable, _never_fires, _category_coverage,
                                    _no_equipment_requirements, _unread_questions,
                                    _uncited_sources, _verified, _idle_demands,
                                    _undeclared_demands, _requirements_emptied)
                for finding in run(ctx)]
    return sorted(findings, key=lambda f: (f.file, f.entry or ""))  # stable: check order kept


def _programme_sources(knowledge: Path, rules: Path,
                       kb: KnowledgeBase) -> tuple[frozenset[str], tuple[Rung, ...]]:
    """Load the programme's files, which check the ladders (no circles, one category, variants
    that exist, equipment and demands stated), the phases and the progress rules; the sources
    they cite, and the ladders' versions that are not exercises. A folder for plans only,
    without them, has none."""
    cited: set[str] = set()
    rungs: dict[str, Rung] = {}
    if any((knowledge / name).exists() for name in PROGRAMME_FILES):
        loaded = load_programme_knowledge(knowledge, kb)
        cited |= loaded.sources
        rungs = {rung.id: rung for ladder in loaded.ladders.values() for rung in ladder.rungs
                 if rung.id not in kb.exercises}
    if (rules / f"{PROGRESS}.yaml").exists():
        cited |= {rule.source for rule in load_progress_rules(rules, kb).rules}
    return frozenset(cited), tuple(rungs[ident] for ident in sorted(rungs))


# ------------------------------------------------------------------------------ reachability

def reachable(kb: KnowledgeBase, rulebase: RuleBase) -> dict[str, set[str]]:
    """The symptom, cause and candidate ids some answers can lead to, as a fixpoint.

    Answer facts always exist, so a rule fires for some answers when its answer tests can hold
    and each derived fact it needs is itself reachable; its conclusion is then reachable too.
    """
    reach: dict[str, set[str]] = {kind: set() for kind in ASSERTS.values()}
    changed = True
    while changed:
        changed = False
        for rule in rulebase.rules:
            kind = ASSERTS.get(rule.conclusion)
            if kind is None or blocker(rule, kb, rulebase, reach) is not None:
                continue
            new = set(concluded(rule)) - reach[kind]
            reach[kind] |= new
            changed = changed or bool(new)
    return reach


def blocker(rule: Rule, kb: KnowledgeBase, rulebase: RuleBase,
            reach: dict[str, set[str]]) -> str | None:
    """Why ``rule`` can never fire, or None when some answers can make it fire.

    Negated patterns never block: a fact can always be absent. Tests that join on another
    pattern (``ref``) are taken as able to hold.
    """
    patterns = [p for p in rule.patterns if not p.negated]
    for field, tests in _answer_groups(patterns, kb):
        question = kb.questions[field]
        if not _can_hold(tests, _answer_values(question, tests)):
            return _answer_reason(question, tests)
    for pattern in patterns:
        if pattern.fact in DERIVED and not _derived_can_hold(pattern, kb, rulebase, reach):
            return f"no {pattern.fact} the rules can derive has {_describe(pattern.tests)}"
    return None


def concluded(rule: Rule) -> tuple[str, ...]:
    """The ids a rule concludes (none for an ``exclude`` of the matched exercise)."""
    if rule.target_is_ref:
        return ()
    if isinstance(rule.target, Requirement):
        return rule.target.categories
    return rule.target if isinstance(rule.target, tuple) else (rule.target,)


def literals(test: Test) -> tuple[Any, ...]:
    """The values an ``eq`` or ``in`` test names."""
    return {"eq": (test.value,), "in": test.value}.get(test.op, ())


def _answer_groups(patterns: list[Pattern], kb: KnowledgeBase) -> Iterator[tuple[str, list[Test]]]:
    """Answer tests that one fact must pass together.

    A single-valued answer is one fact, so all tests on it in a rule must hold at once; a
    list answer (equipment, red flags) is one fact per item, so each test stands alone.
    """
    single: dict[str, list[Test]] = {}
    for test in (t for p in patterns if p.fact == "answer" for t in p.tests if t.op != "ref"):
        if kb.questions[test.field].type == "multi":
            yield test.field, [test]
        else:
            single.setdefault(test.field, []).append(test)
    yield from single.items()


def _answer_values(question: Question, tests: list[Test]) -> Iterable[Any]:
    """Enough allowed values of ``question`` to decide whether ``tests`` can all hold."""
    if question.type == "bool":
        return (False, True)
    if question.type in ("choice", "multi"):
        return question.values
    assert question.min is not None and question.max is not None  # a number question has both
    return _points(question.min, question.max, question.type == "int", tests)


def _points(low: float, high: float, integer: bool, tests: list[Test]) -> list[float]:
    """Numbers in [low, high] that decide any conjunction of comparisons with the tests' constants.

    Between two neighbouring constants every comparison has the same outcome, so the constants
    themselves and one number inside each gap between them are enough.
    """
    constants = {low, high}
    for test in tests:
        constants.update(test.value if test.op == "in" else (test.value,))
    points = sorted(c for c in constants if low <= c <= high)
    for a, b in zip(list(points), points[1:]):
        inside = math.floor(a) + 1 if integer else (a + b) / 2
        if inside < b:
            points.append(inside)
    return [p for p in points if not integer or float(p).is_integer()]


def _can_hold(tests: list[Test], values: Iterable[Any]) -> bool:
    return any(all(holds(t.op, value, t.value) for t in tests) for value in values)


def _derived_can_hold(pattern: Pattern, kb: KnowledgeBase, rulebase: RuleBase,
                      reach: dict[str, set[str]]) -> bool:
    """Some reachable derived fact passes the pattern's tests.

    A certainty is at least its layer's threshold (weaker conclusions are never asserted) and
    at most 1; the other fields are the fact's id and, for exercises, their category and slot.
    """
    tests = [t for t in pattern.tests if t.op != "ref"]
    certainty = [t for t in tests if t.field == "cf"]
    if certainty:
        low = rulebase.thresholds[LAYER_OF[pattern.fact]]
        if not _can_hold(certainty, _points(low, 1.0, False, certainty)):
            return False
    others = [t for t in tests if t.field != "cf"]
    return any(all(holds(t.op, _field(kb, ident, t.field), t.value) for t in others)
               for ident in sorted(reach[DERIVED[pattern.fact]]))


def _field(kb: KnowledgeBase, ident: str, field: str) -> Any:
    """A derived fact's field: its id (``name``/``exercise``) or an attribute of its exercise."""
    return ident if field in ("name", "exercise") else getattr(kb.exercises[ident], field)


def _answer_reason(question: Question, tests: list[Test]) -> str:
    if question.type in ("int", "number"):
        allowed = f"{question.min:g} to {question.max:g}"
    else:
        allowed = "true or false" if question.type == "bool" else ", ".join(question.values)
    if len(tests) == 1:
        return f"no allowed answer has {_describe(tests)} (allowed: {allowed})"
    return f"{_describe(tests)} cannot all hold for the one {question.id} answer (allowed: {allowed})"


def _describe(tests: Iterable[Test]) -> str:
    shown = [(t, list(t.value) if t.op == "in" else t.value) for t in tests]
    return " and ".join(f"{t.field} {t.op} {value!r}" for t, value in shown) or "any fields"


# ---------------------------------------------------------------------------------- checks

def _unreachable(ctx: _Context) -> Iterator[Finding]:
    """Entries no answers can lead to are dead weight, and usually a rule someone forgot."""
    kinds = (("symptom", "symptoms.yaml", ctx.kb.symptoms, "no rule that can fire concludes it"),
             ("cause", "causes.yaml", ctx.kb.causes, "no rule that can fire concludes it"),
             ("candidate", "exercises.yaml", ctx.kb.exercises,
              "no rule that can fire proposes it, so no plan can include it"))
    for kind, name, known, message in kinds:
        for ident in known:
            if ident not in ctx.reach[kind]:
                yield Finding("unreachable", ctx.file(name), ident, message)


def _never_fires(ctx: _Context) -> Iterator[Finding]:
    """A rule no answers can fire is a typo in a value, a bound or an id: it silently does nothing."""
    for rule in ctx.rulebase.rules:
        if not ctx.fires(rule):
            yield Finding("never_fires", rule.file, rule.id, f"can never fire: {ctx.blocked[rule.id]}")


def _category_coverage(ctx: _Context) -> Iterator[Finding]:
    """A cause met by one kind of exercise only gets an unbalanced answer (all stretching, say)."""
    served: dict[str, set[str]] = {}
    for rule in ctx.rulebase.rules:
        if rule.conclusion != "propose" or not ctx.fires(rule):
            continue
        for cause in _causes_matched(rule):
            served.setdefault(cause, set()).update(ctx.kb.exercises[e].category for e in rule.target)
    for cause in ctx.kb.causes:
        categories = served.get(cause, set())
        if cause not in ctx.reach["cause"]:
            continue  # already reported as unreachable
        if not categories:
            message = "served by no exercise: no propose rule that can fire matches this cause"
        elif len(categories) < MIN_CATEGORIES:
            labels = " and ".join(ctx.kb.vocabulary.label(c) for c in sorted(categories))
            message = (f"served only by {labels} exercises; a balanced answer to a cause needs "
                       f"at least {MIN_CATEGORIES} categories")
        else:
            continue
        yield Finding("category_coverage", ctx.file("causes.yaml"), cause, message)


def _causes_matched(rule: Rule) -> set[str]:
    return {name for p in rule.patterns if p.fact == "cause" and not p.negated
            for t in p.tests if t.field == "name" for name in literals(t)}


def _no_equipment_requirements(ctx: _Context) -> Iterator[Finding]:
    """Every plan says it works with no equipment: each requirement must be met by bare floor work."""
    free = [ctx.kb.exercises[e] for e in ctx.reach["candidate"] if not ctx.kb.exercises[e].equipment]
    for rule in ctx.rulebase.layer("plan"):
        if rule.conclusion == "require" and ctx.fires(rule) and not any(
                rule.target.met_by(ex.category, ex.targets) for ex in free):
            wanted = " or ".join(ctx.kb.vocabulary.label(c) for c in rule.target.categories)
            yield Finding("category_coverage", rule.file, rule.id,
                          f"no {wanted} exercise that needs no equipment can be proposed, so a "
                          f"runner with no equipment can never get a balanced plan")


def _unread_questions(ctx: _Context) -> Iterator[Finding]:
    """A question no rule reads costs the runner an answer and changes nothing: use it or drop it."""
    read = {field for rule in ctx.rulebase.rules for field in rule.answers_used}
    for question in ctx.kb.questions.values():
        if question.id not in read:
            yield Finding("unread_question", ctx.file("questionnaire.yaml"), question.id,
                          "no rule reads this answer: use it in a rule or stop asking it")


def _verified(ctx: _Context) -> Iterator[Finding]:
    """Duplicate, subsumed and conflicting rules, and requirements no budget holds (:mod:`.verify`)."""
    fires = {rule.id for rule in ctx.rulebase.rules if ctx.fires(rule)}
    for issue in verify(ctx.kb, ctx.rulebase, fires, ctx.reach["candidate"]):
        yield Finding(issue.check, issue.rule.file, issue.rule.id, issue.message, issue.severity)


def _uncited_sources(ctx: _Context) -> Iterator[Finding]:
    """An uncited source is stale, or the entries it backs cite the wrong one."""
    kb = ctx.kb
    cited = {entry.source for group in (kb.exercises, kb.causes, kb.symptoms, kb.advice)
             for entry in group.values()}
    cited |= {rule.source for rule in ctx.rulebase.rules} | ctx.programme_sources
    for ident in kb.sources:
        if ident not in cited:
            yield Finding("sources", ctx.file("sources.yaml"), ident,
                          "cited by no exercise, cause, symptom, advice or rule")


def _idle_demands(ctx: _Context) -> Iterator[Finding]:
    """A demand no exercise makes protects no one; a demand no rule can rule out is a caution
    someone declared and nothing acts on."""
    made = {demand for ex in ctx.kb.exercises.values() for demand in ex.demands}
    ruled = {demand for rule in ctx.rulebase.rules if rule.conclusion == "rule_out" and ctx.fires(rule)
             for demand in rule.target}
    for demand in ctx.kb.vocabulary.demands:
        if demand not in made:
            yield Finding("demands", ctx.file("vocabulary.yaml"), demand,
                          "no exercise makes this demand: declare it in exercises.yaml or drop it")
        elif demand not in ruled:
            yield Finding("demands", ctx.file("vocabulary.yaml"), demand,
                          "no rule that can fire rules this demand out: add a rule_out rule or drop it")


def _undeclared_demands(ctx: _Context) -> Iterator[Finding]:
    """An exercise, or a version of one on a ladder, whose own words show a demand it does not
    declare slips past every exclusion of that demand (vocabulary.yaml ``demand_cues``)."""
    versions = [("exercises.yaml", ex.id, (ex.cue, *ex.steps), ex.demands)
                for ex in ctx.kb.exercises.values()]
    versions += [(LADDERS, rung.id, rung.steps, rung.demands) for rung in ctx.rungs]
    for file, ident, words, declared in versions:
        text = " ".join(words).lower()
        for demand, phrases in ctx.kb.vocabulary.demand_cues.items():
            said = next((p for p in phrases if p in text), None)
            if said is not None and demand not in declared:
                yield Finding("demands", ctx.file(file), ident,
                              f"its cue or steps say {said!r} but it does not declare the demand "
                              f"{demand}: add it to 'demands'")


def _requirements_emptied(ctx: _Context) -> Iterator[Finding]:
    """A requirement every proposable exercise of which makes a demand one rule_out rule rules
    out goes unmet for every runner that rule fires for: the base needs an exercise without it."""
    proposable = [ctx.kb.exercises[e] for e in sorted(ctx.reach["candidate"])]
    ruling = [r for r in ctx.rulebase.layer("candidates") if r.conclusion == "rule_out" and ctx.fires(r)]
    for rule in ctx.rulebase.layer("plan"):
        if rule.conclusion != "require" or not ctx.fires(rule):
            continue
        meeting = [ex for ex in proposable if rule.target.met_by(ex.category, ex.targets)]
        for out in ruling:
            if meeting and all(set(ex.demands) & set(out.target) for ex in meeting):
                yield Finding("demands", rule.file, rule.id,
                              f"every exercise that can meet it makes a demand {out.id} rules out "
                              f"({', '.join(out.target)}): add one that makes none of them")
