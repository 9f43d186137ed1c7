"""What a rule verifier finds in rules that each load and fire: rules that say the same thing twice,
rules another makes redundant, rules that work against each other, and plan requirements that
can never all be met in the time a runner can give.

Everything here compares rules by what their premises *mean*, not by their ids or their text: a
premise ``pain_level gte 6`` is narrower than ``pain_level gte 5`` because every answer that
passes the first passes the second. Rule B is **narrower** than rule A when every answer and
derived fact that makes B fire makes A fire too (:meth:`Premises.narrower`). Then:

- **duplicate** (error): A and B are each narrower than the other and conclude the same. With
  certainty combination (symptoms, causes, proposals) the same evidence counts twice.
- **subsumed** (caution): B is strictly narrower than A with the same conclusion, or both have the
  same premises and share part of their conclusions (two proposals naming one exercise): wherever
  B fires, A has already said it. For a certainty that combines, A's evidence counts twice; a
  rule meant as extra evidence should test only what A does not.
- **conflict** (error): an exclusion fires whenever a proposal does (its premises are the same or
  broader), so what it proposes can never be chosen; or a rule of a later layer fires only where
  a triage rule refers the runner, so it can never take effect (a referral and a plan step
  that can never both hold).
- **requirements_over_budget** (error): ``require`` rules that can fire together ask for more
  than any plan can hold within the questionnaire's largest ``minutes`` answer (or the plan's
  ``max_items``), even with the quickest exercises the rules can propose.

Patterns that join on another pattern (``ref``) are compared as written: two rules match them
alike only when they join alike. An exclusion of a matched candidate is the exception: it is
compared per exercise, with its joins on knowledge facts (equipment, demands) read from the
knowledge base and a joined fact a rule concludes (a ruled-out demand) standing for that rule's
premises. Nothing here runs the engine.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from .knowledge import KnowledgeBase, Question
from .ops import holds
from .rulefile import FACT_FIELDS, Pattern, Ref, Requirement, Rule, RuleBase, Test

#: Conclusions whose certainty combines (cf1 + cf2 - cf1*cf2) when several rules conclude them.
COMBINES = ("symptom", "cause", "propose")
#: The answer that sets a runner's daily budget, in minutes.
MINUTES = "minutes"
#: Require rules that can fire together checked together at most: a group that fits is checked
#: once, whole; the subsets of one that does not are searched.
MAX_TOGETHER = 16
#: Require rules searched subset by subset for the smallest groups that cannot all be met.
SEARCHED = 4
#: A whole-number question with at most this many values is checked at every value.
WHOLE_RANGE = 1000


class Issue(NamedTuple):
    """One verifier finding, before it is worded as a :class:`.checks.Finding`."""

    check: str
    severity: str  # "error" or "caution"
    rule: Rule
    message: str


class _Other:
    """A value no literal equals: stands for every value a test does not name."""

    def __repr__(self) -> str:
        return "<other>"


OTHER = _Other()


def _sample(tests: Iterable[Test], numeric: bool) -> list[Any]:
    """Values that decide any conjunction of ``tests`` on one field: for numbers the constants and
    a point in each gap (and beyond the ends); otherwise the named literals and one other value."""
    constants: set[Any] = set()
    for test in tests:
        constants.update(test.value if test.op == "in" else (test.value,))
    if not numeric:
        return [*sorted(constants, key=repr), OTHER]
    points = sorted(float(c) for c in constants if isinstance(c, (int, float)) and not isinstance(c, bool))
    if not points:
        return [0.0]
    gaps = [(a + b) / 2 for a, b in itertools.pairwise(points)]
    return [points[0] - 1, *points, *gaps, points[-1] + 1]


def _sat(tests: Iterable[Test], values: Iterable[Any]) -> frozenset[Any]:
    tests = tuple(tests)
    return frozenset(v for v in values if all(holds(t.op, v, t.value) for t in tests))


def _key(pattern: Pattern, patterns: dict[str, Pattern]) -> tuple[Any, ...]:
    """A pattern as written, without its alias; a join names what it joins on the same way."""
    def value(test: Test) -> Any:
        if isinstance(test.value, Ref):
            other = patterns.get(test.value.alias)
            inner = () if other is None else _key(other, {})
            return ("ref", inner, test.value.field)
        return repr(test.value)

    return (pattern.fact, pattern.negated,
            tuple(sorted((t.field, t.op, value(t)) for t in pattern.tests)))


def _is_join(test: Test) -> bool:
    return isinstance(test.value, Ref)


class Premises:
    """What must hold for a rule to fire, in a form rules can be compared by."""

    def __init__(self, rule: Rule, kb: KnowledgeBase, skip: Pattern | None = None) -> None:
        named = {p.alias: p for p in rule.patterns}
        self.kb = kb
        self.single: dict[str, list[Test]] = {}  # single-valued answer -> tests all on one fact
        self.items: list[tuple[str, Test]] = []  # list answers: one fact per item, tests alone
        self.derived: list[tuple[str, dict[str, list[Test]]]] = []  # (fact, field -> tests)
        self.written: set[tuple[Any, ...]] = set()  # negated patterns and joins, as written
        for pattern in rule.patterns:
            if pattern is skip:
                continue
            if pattern.negated or any(_is_join(t) for t in pattern.tests):
                self.written.add(_key(pattern, named))
                continue
            if pattern.fact == "answer":
                for test in pattern.tests:
                    if kb.questions[test.field].type == "multi":
                        self.items.append((test.field, test))
                    else:
                        self.single.setdefault(test.field, []).append(test)
                continue
            fields: dict[str, list[Test]] = {}
            for test in pattern.tests:
                fields.setdefault(test.field, []).append(test)
            self.derived.append((pattern.fact, fields))

    def narrower(self, other: Premises) -> bool:
        """Whether everything that makes these premises hold makes ``other``'s hold too."""
        if not other.written <= self.written:
            return False
        for field, tests in other.single.items():
            mine = self.single.get(field)
            if mine is None or not self._within(field, mine, tests):
                return False
        for field, test in other.items:
            if not any(f == field and self._within(field, [t], [test]) for f, t in self.items):
                return False
        return all(any(fact == theirs_fact and _fields_within(mine, theirs)
                       for fact, mine in self.derived)
                   for theirs_fact, theirs in other.derived)

    def _within(self, field: str, narrow: list[Test], broad: list[Test]) -> bool:
        values = _allowed(self.kb.questions[field], [*narrow, *broad])
        return _sat(narrow, values) <= _sat(broad, values)

    def compatible(self, other: Premises) -> bool:
        """Whether some runner can meet both sets of premises at once (as far as answers and
        negations tell: derived facts are taken as able to hold together)."""
        for field in set(self.single) & set(other.single):
            tests = [*self.single[field], *other.single[field]]
            if not _sat(tests, _allowed(self.kb.questions[field], tests)):
                return False
        positive = {_key(Pattern(f, "", tuple(t for ts in fields.values() for t in ts)), {})
                    for f, fields in self.derived}
        theirs = {_key(Pattern(f, "", tuple(t for ts in fields.values() for t in ts)), {})
                  for f, fields in other.derived}
        negated = {(k[0], False, k[2]) for k in self.written | other.written if k[1]}
        return not (negated & (positive | theirs))

    def budget(self) -> float:
        """The largest minutes answer these premises allow (0: none)."""
        tests = self.single.get(MINUTES, [])
        return max(_sat(tests, _allowed(self.kb.questions[MINUTES], tests)), default=0)


def _allowed(question: Question, tests: list[Test]) -> list[Any]:
    """Enough allowed answers of ``question`` to decide any conjunction of ``tests`` on it: every
    choice, both truth values, every whole number of a small range, or the tests' constants and
    the points between them inside the range."""
    if question.type == "bool":
        return [False, True]
    if question.type in ("choice", "multi"):
        return list(question.values)
    low, high = question.min, question.max
    assert low is not None and high is not None  # a number question has both
    if question.type == "int" and high - low <= WHOLE_RANGE:
        return list(range(int(low), int(high) + 1))
    return sorted({v for v in _sample(tests, True) if low <= v <= high} | {low, high})


def _fields_within(narrow: dict[str, list[Test]], broad: dict[str, list[Test]]) -> bool:
    for field, tests in broad.items():
        mine = narrow.get(field, [])
        values = _sample([*mine, *tests], field == "cf")
        if not _sat(mine, values) <= _sat(tests, values):
            return False
    return True


def conclusion(rule: Rule) -> tuple[Any, frozenset[Any]]:
    """What a rule concludes, as (kind, the ids it concludes): two rules conclude the same when
    the kind is equal and the ids overlap."""
    target = rule.target
    if isinstance(target, Ref):
        named = {p.alias: p for p in rule.patterns}
        return (rule.conclusion, frozenset({("ref", _key(named[target.alias], {}))}))
    if isinstance(target, (Requirement, str)):
        kind: Any = (rule.conclusion, rule.urgency) if rule.conclusion == "refer" else rule.conclusion
        return (kind, frozenset({target}))
    return (rule.conclusion, frozenset(target))


def _same(a: Rule, b: Rule) -> frozenset[Any]:
    kind_a, ids_a = conclusion(a)
    kind_b, ids_b = conclusion(b)
    return ids_a & ids_b if kind_a == kind_b else frozenset()


def _named(ids: Iterable[Any]) -> str:
    shown = [i if isinstance(i, str) else "the matched exercise" if isinstance(i, tuple)
             else _requirement(i) for i in ids]
    return ", ".join(sorted(shown))


def _requirement(req: Requirement) -> str:
    wanted = " or ".join(req.categories)
    return f"{wanted} for {' or '.join(req.targets)}" if req.targets else wanted


def _where(rule: Rule) -> str:
    return f"{rule.id} ({rule.file})"


# ------------------------------------------------------------------------------------ checks

def verify(kb: KnowledgeBase, rulebase: RuleBase, fires: set[str],
           candidates: Iterable[str]) -> Iterator[Issue]:
    """Every verifier issue among the rules in ``fires`` (those some answers can fire);
    ``candidates`` are the exercises the rules can propose."""
    rules = [rule for rule in rulebase.rules if rule.id in fires]
    premises = {rule.id: Premises(rule, kb) for rule in rules}
    yield from _redundant(rules, premises)
    yield from _excluded_proposals(rules, premises, kb)
    yield from _after_referral(rules, premises)
    yield from _over_budget(rules, premises, kb, rulebase, set(candidates))


def _redundant(rules: list[Rule], premises: dict[str, Premises]) -> Iterator[Issue]:
    for a, b in itertools.combinations(rules, 2):
        if a.layer != b.layer:
            continue
        same = _same(a, b)
        if not same:
            continue
        a_in_b, b_in_a = premises[a.id].narrower(premises[b.id]), premises[b.id].narrower(premises[a.id])
        twice = (" With certainty combination the same evidence is counted twice."
                 if a.conclusion in COMBINES else "")
        if a_in_b and b_in_a and conclusion(a) == conclusion(b):
            yield Issue("duplicate", "error", b,
                        f"the same premises and the same conclusion ({_named(same)}) as "
                        f"{_where(a)}.{twice} Remove one of them.")
        elif a_in_b and b_in_a:
            counted = (f" {_named(same)} counts the same evidence twice" if a.conclusion in COMBINES
                       else " One of them adds nothing there")
            yield Issue("subsumed", "caution", b,
                        f"the same premises as {_where(a)}, and both conclude {_named(same)}."
                        f"{counted}: name it in one rule only.")
        elif a_in_b or b_in_a:
            broad, narrow = (b, a) if a_in_b else (a, b)
            counted = (f" Its certainty adds to {broad.id}'s, so that evidence is counted twice: "
                       f"test only what {broad.id} does not" if narrow.conclusion in COMBINES
                       else " It adds nothing")
            yield Issue("subsumed", "caution", narrow,
                        f"fires only where {_where(broad)} fires too, with the same conclusion "
                        f"({_named(same)}).{counted}.")


#: Fact types the knowledge base holds before any rule fires, as the rows the engine asserts
#: (``reasoning.facts.knowledge_facts``): an exclusion that joins them is compared per row.
KNOWLEDGE_ROWS = {
    "requires": lambda ex: [{"exercise": ex.id, "item": item} for item in ex.equipment],
    "demands": lambda ex: [{"exercise": ex.id, "demand": demand} for demand in ex.demands],
}
#: One-field derived facts asserted whenever any one rule concluding them fires (no certainty
#: to combine), and that conclusion: a pattern on one stands for the premises of such a rule.
CONCLUDED_BY = {"ruled_out": "rule_out"}


def _bound(test: Test, binding: dict[str, dict[str, Any]]) -> Test:
    """``test`` with a join on an already bound fact replaced by that fact's value."""
    ref = test.value
    if isinstance(ref, Ref) and ref.alias in binding:
        return Test(test.field, "eq", binding[ref.alias][ref.field])
    return test


def _matches(row: dict[str, Any], tests: Iterable[Test]) -> bool:
    return all(not isinstance(t.value, Ref) and holds(t.op, row[t.field], t.value) for t in tests)


class _Case(NamedTuple):
    """One way an exclusion rules exercises out: the ids, what else must hold, and the rule
    whose conclusion a joined fact stands for (None if none)."""

    ids: frozenset[str]
    premises: Premises
    via: Rule | None


def _cases(exclusion: Rule, rules: list[Rule], premises: dict[str, Premises],
           kb: KnowledgeBase) -> Iterator[_Case]:
    """Every way ``exclusion`` rules exercises out. An exclusion of listed ids is one case. One
    that rules out a matched candidate is taken per exercise: its joins on knowledge facts are
    replaced by the rows that exercise has, and a joined fact a rule concludes (a ruled-out
    demand) by that rule's premises, one case per such rule."""
    if not isinstance(exclusion.target, Ref):
        yield _Case(frozenset(exclusion.target), premises[exclusion.id], None)
        return
    candidate = next(p for p in exclusion.patterns if p.alias == exclusion.target.alias)
    tests = [t for t in candidate.tests if not _is_join(t) and t.field != "cf"]
    for ex in kb.exercises.values():
        row = {"exercise": ex.id, "category": ex.category}
        if _matches(row, tests):
            for patterns, via in _ground(list(exclusion.patterns), {candidate.alias: row}, ex,
                                         rules, kb):
                rest = [p for p in patterns if p is not candidate]
                yield _Case(frozenset({ex.id}), Premises(exclusion._replace(patterns=tuple(rest)), kb),
                            via)


def _ground(patterns: list[Pattern], binding: dict[str, dict[str, Any]], ex: Any,
            rules: list[Rule], kb: KnowledgeBase) -> Iterator[tuple[list[Pattern], Rule | None]]:
    """``patterns`` with the knowledge facts of ``ex`` joined in and each joined fact a rule
    concludes replaced by that rule's patterns (one result per choice of rows and rules)."""
    if not patterns:
        yield [], None
        return
    first_, later = patterns[0], patterns[1:]
    pattern = first_._replace(tests=tuple(_bound(t, binding) for t in first_.tests))
    if first_.alias in binding:  # the candidate itself
        for done, via in _ground(later, binding, ex, rules, kb):
            yield [first_, *done], via
        return
    if pattern.fact in KNOWLEDGE_ROWS:
        rows = [r for r in KNOWLEDGE_ROWS[pattern.fact](ex) if _matches(r, pattern.tests)]
        if pattern.negated:
            if not rows:
                yield from _ground(later, binding, ex, rules, kb)
            return
        for row in rows:
            yield from _ground(later, {**binding, first_.alias: row}, ex, rules, kb)
        return
    concluded = CONCLUDED_BY.get(pattern.fact)
    if concluded is None or pattern.negated or any(_is_join(t) for t in pattern.tests):
        for done, via in _ground(later, binding, ex, rules, kb):
            yield [pattern, *done], via
        return
    fields: tuple[str, ...] = FACT_FIELDS[pattern.fact] or ()
    field = fields[0]  # the one field, which the conclusion's ids fill
    for rule in (r for r in rules if r.conclusion == concluded):
        if any(_matches({field: value}, pattern.tests) for value in rule.target):
            for done, via in _ground(later, binding, ex, rules, kb):
                yield [*rule.patterns, *done], via or rule


def _excluded_proposals(rules: list[Rule], premises: dict[str, Premises],
                        kb: KnowledgeBase) -> Iterator[Issue]:
    """A proposal an exclusion cancels wherever it fires. A case is compared alone: where the
    proposal is cancelled only by several rules between them, nothing is said."""
    proposals = [r for r in rules if r.conclusion == "propose"]
    for exclusion in (r for r in rules if r.conclusion == "exclude"):
        cases = list(_cases(exclusion, rules, premises, kb))
        for proposal in proposals:
            cancelled = [(case.ids & set(proposal.target), case.via) for case in cases
                         if case.ids & set(proposal.target)
                         and premises[proposal.id].narrower(case.premises)]
            if not cancelled:
                continue
            both = frozenset().union(*(ids for ids, _ in cancelled))
            vias = sorted({_where(via) for _, via in cancelled if via is not None})
            through = f"; what it joins is concluded by {', '.join(vias)}" if vias else ""
            yield Issue("conflict", "error", proposal,
                        f"proposes {_named(both)}, which {_where(exclusion)} excludes "
                        f"whenever this rule fires (its premises are the same or broader"
                        f"{through}): the proposal can never be chosen.")


def _after_referral(rules: list[Rule], premises: dict[str, Premises]) -> Iterator[Issue]:
    referrals = [r for r in rules if r.conclusion == "refer"]
    for rule in rules:
        if rule.layer == "triage":
            continue
        for referral in referrals:
            if premises[rule.id].narrower(premises[referral.id]):
                yield Issue("conflict", "error", rule,
                            f"fires only where {_where(referral)} refers the runner to a "
                            f"clinician, and a referral gives no plan: the two can never both "
                            f"hold, so this rule never takes effect.")
                break


def _over_budget(rules: list[Rule], premises: dict[str, Premises], kb: KnowledgeBase,
                 rulebase: RuleBase, candidates: set[str]) -> Iterator[Issue]:
    question = kb.questions.get(MINUTES)
    if question is None or question.max is None:
        return
    exercises = [kb.exercises[e] for e in sorted(candidates)]
    # one that can never be met alone is left out: kb check's other findings say so
    requires = [r for r in rules if r.conclusion == "require" and _cheapest((r,), exercises)]
    found: list[frozenset[str]] = []
    told = False
    for clique in _together(requires, premises):
        if len(clique) > MAX_TOGETHER:  # say what is not covered rather than take minutes
            if not told:
                yield Issue("requirements_over_budget", "caution", clique[MAX_TOGETHER],
                            f"only the first {MAX_TOGETHER} require rules that can fire together are "
                            f"checked together for the minutes they need; this one and the "
                            f"{len(clique) - MAX_TOGETHER - 1} after it are not")
                told = True
            clique = clique[:MAX_TOGETHER]
        if _fits(clique, premises, exercises, rulebase):
            continue  # every smaller group of them fits too
        # the smallest groups that do not fit name the rules to change; beyond SEARCHED rules a
        # group the size of the clique is named whole (the search would grow as 2^n)
        sizes = [*range(2, min(len(clique), SEARCHED) + 1)]
        before = len(found)
        for group in (g for size in sizes for g in itertools.combinations(clique, size)):
            ids = frozenset(r.id for r in group)
            if any(done <= ids for done in found) or _fits(group, premises, exercises, rulebase):
                continue  # a smaller group already says it, or they fit
            found.append(ids)
            yield _over(group, premises, exercises, rulebase)
        if len(found) == before and len(clique) > SEARCHED:
            found.append(frozenset(r.id for r in clique))
            yield _over(clique, premises, exercises, rulebase)


def _over(group: tuple[Rule, ...], premises: dict[str, Premises], exercises: list[Any],
          rulebase: RuleBase) -> Issue:
    """The finding for ``group``, require rules that can fire together but never all be met."""
    budget = min(premises[r.id].budget() for r in group)
    minutes, items = _cheapest(group, exercises) or (0.0, 0)
    others = ", ".join(_where(r) for r in group[:-1])
    limit = (f"{minutes:g} minutes a day, more than the {budget:g} the questionnaire "
             f"allows" if minutes > budget else
             f"{items} exercises, more than the plan's max_items ({rulebase.max_items})")
    return Issue("requirements_over_budget", "error", group[-1],
                 f"can fire together with {others}, and meeting them all takes at least "
                 f"{limit}: such a plan can never be balanced. Share an exercise between "
                 f"them, or let one give way.")


def _together(requires: list[Rule], premises: dict[str, Premises]) -> Iterator[tuple[Rule, ...]]:
    """Each largest group of ``requires`` that can all fire at once (every two compatible), in
    rule order: requirements that exclude each other are never in one group."""
    order = {r.id: n for n, r in enumerate(requires)}
    near = {r.id: {s.id for s in requires if s is not r and premises[r.id].compatible(premises[s.id])}
            for r in requires}
    by_id = {r.id: r for r in requires}

    def grow(chosen: list[str], left: set[str], done: set[str]) -> Iterator[tuple[Rule, ...]]:
        if not left and not done:
            if len(chosen) > 1:
                yield tuple(by_id[i] for i in sorted(chosen, key=order.__getitem__))
            return
        for ident in sorted(left, key=order.__getitem__):
            yield from grow([*chosen, ident], left & near[ident], done & near[ident])
            left = left - {ident}
            done = done | {ident}

    yield from grow([], set(by_id), set())


def _fits(group: tuple[Rule, ...], premises: dict[str, Premises], exercises: list[Any],
          rulebase: RuleBase) -> bool:
    """Whether the quickest way to meet every requirement of ``group`` fits the minutes they
    all allow and the plan's ``max_items`` (if it does, so does every smaller group of them)."""
    cheapest = _cheapest(group, exercises)
    if cheapest is None:
        return True
    minutes, items = cheapest
    return minutes <= min(premises[r.id].budget() for r in group) and items <= rulebase.max_items


def _cheapest(group: tuple[Rule, ...], exercises: list[Any]) -> tuple[float, int] | None:
    """The fewest minutes (and, separately, the fewest exercises) that meet every requirement
    in ``group``, one exercise may meet several; None when one cannot be met at all."""
    # rules asking the same of the plan are met by the same exercises: one bit for each
    targets = list(dict.fromkeys(rule.target for rule in group))
    full = (1 << len(targets)) - 1
    covers = []
    for ex in exercises:
        mask = sum(1 << i for i, target in enumerate(targets) if target.met_by(ex.category, ex.targets))
        if mask:
            covers.append((mask, float(ex.day_minutes)))
    if not covers or any(not any(m & (1 << i) for m, _ in covers) for i in range(len(targets))):
        return None
    inf = float("inf")
    minutes = [inf] * (full + 1)
    count = [inf] * (full + 1)
    minutes[0] = count[0] = 0
    for mask in range(1, full + 1):
        for cover, cost in covers:
            if cover & mask:
                rest = mask & ~cover
                minutes[mask] = min(minutes[mask], minutes[rest] + cost)
                count[mask] = min(count[mask], count[rest] + 1)
    return minutes[full], int(count[full])
