"""A scored survey for its coach and its researcher: the extra columns carried through
(``--keep``), the groups the report is broken down by (``--group-by``), and the figures of
``report.html``.

Scoring hands each written chunk to a :class:`Collector`, which counts every distinct plan
outcome (:class:`.findings.Outcome`) once per group with how many respondents share it, and
keeps the referred respondents' ids. :func:`figures` adds those counts up into the report's
tables; :mod:`hipcoach.present.report` draws them. The counts are made from the same rendered
outcomes as the CSV rows, so the page and the tables cannot disagree.

Groups smaller than ``SMALL_CELL`` respondents are shown as "fewer than 5", with none of their
figures (the small-cell rule of survey reporting), unless the run turns the rule off.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ColumnError
from ..formats import Summary
from ..kb.knowledge import KnowledgeBase, Question
from ..kb.provenance import Provenance
from ..kb.rulefile import RuleBase
from .coding import Chunk
from .findings import Outcome
from .keys import NUMERIC, Profiler
from .mapping import Mapping, Translator
from .profiles import PLAN_COLUMNS, Rendered

#: Groups with fewer respondents than this are shown without figures.
SMALL_CELL = 5
FEWER = f"fewer than {SMALL_CELL}"
NOT_ANSWERED = "not answered"
#: An exercise the plan left out, in the coach's words.
DROP_WORDS = {"equipment": "needs equipment they don't have", "caution": "a caution applies to them",
              "budget": "no time left in their minutes", "plan_full": "the plan was already full",
              "variant": "another variant of it was chosen"}


# ------------------------------------------------------------------------------ the columns

@dataclass(frozen=True)
class Extras:
    """The export's columns carried into plans.csv, and the one the report groups by."""

    kept: tuple[str, ...] = ()
    positions: tuple[int, ...] = ()
    #: the grouping column's place in ``kept``, and what turns its cell into a group's name
    group_at: int | None = None
    band: Callable[[str], str] | None = None
    #: the groups' names in their order, where they have one (a numeric answer's bands)
    order: tuple[str, ...] = ()

    @property
    def group(self) -> str | None:
        return None if self.group_at is None else self.kept[self.group_at]

    @classmethod
    def of(cls, keep: tuple[str, ...], group_by: str | None, columns: tuple[str, ...],
           mapping: Mapping, kb: KnowledgeBase, rulebase: RuleBase) -> Extras:
        """Resolve ``keep`` and ``group_by`` (export column names, or the id of an answer one
        column feeds) against the export's ``columns``."""
        index = {name: i for i, name in enumerate(columns)}
        named = {_column(name, index, mapping, "keep"): "keep" for name in keep}
        grouped = None if group_by is None else _column(group_by, index, mapping, "group_by")
        if grouped is not None:
            named.setdefault(grouped, "group_by")
        for name, option in named.items():
            if name in PLAN_COLUMNS:
                raise ColumnError(f"cannot carry column {name!r} into plans.csv: it has a column "
                                  f"of that name already", name, option)
        kept = tuple(named)
        positions = tuple(index[name] for name in kept)
        if grouped is None:
            return cls(kept, positions)
        feeds = [c for c in mapping.columns if c.name == grouped]
        question = kb.questions[feeds[0].answer] if feeds else None
        tests = Profiler(rulebase, kb).compared.get(question.id) \
            if question is not None and question.type in NUMERIC else None
        if question is None or not tests:
            return cls(kept, positions, kept.index(grouped), _plain)
        translator, bands = Translator(mapping, index, kb), Bands(question, tests)
        position, column = index[grouped], feeds[0]

        def band(text: str) -> str:
            value, problem = translator.cell(position, column, text)
            return NOT_ANSWERED if value is None or problem else bands.label(value)

        return cls(kept, positions, kept.index(grouped), band, tuple(bands.labels))


def _column(name: str, index: dict[str, int], mapping: Mapping, option: str) -> str:
    if name in index:
        return name
    feeding = [c.name for c in mapping.columns if c.answer == name]
    if len(feeding) == 1:
        return feeding[0]
    shown = ", ".join(repr(c) for c in list(index)[:12]) + (" ..." if len(index) > 12 else "")
    raise ColumnError(f"the export has no column {name!r}; its columns are: {shown}", name,
                      option)


def _plain(text: str) -> str:
    return text.strip() or NOT_ANSWERED


class Bands:
    """A numeric answer's bands: the ranges the rules tell apart (``age >= 65`` makes 12 to 64 and
    65 to 100), each named by its range."""

    def __init__(self, question: Question, tests: tuple[tuple[str, Any], ...]) -> None:
        cuts: set[tuple[float, int]] = set()  # (t, 0): a band starts at t; (t, 1): just above t
        for op, target in tests:
            if op in ("gte", "lt"):
                cuts.add((target, 0))
            elif op in ("gt", "lte"):
                cuts.add((target, 1))
            else:  # eq, ne: t is a band of its own
                cuts |= {(target, 0), (target, 1)}
        # cuts every answer passes (at or below the minimum) or none does (above the maximum)
        # make no band
        low_end, high_end = question.min, question.max
        self.cuts = sorted(cut for cut in cuts
                           if (low_end is None or cut > (low_end, 0))
                           and (high_end is None or cut < (high_end, 1)))
        self.whole = question.type == "int"
        low: tuple[float | None, int] = (question.min, 0)
        bounds = [low] + list(self.cuts) + [(None, 0)]
        self.labels = [self._name(bounds[i], bounds[i + 1], question.max)
                       for i in range(len(bounds) - 1)]

    def label(self, value: float) -> str:
        """The band of ``value``: past every cut (t, 0) with t <= value and (t, 1) with t < value."""
        return self.labels[bisect.bisect_left(self.cuts, (value, 1))]

    def _name(self, start: tuple[float | None, int], end: tuple[float | None, int],
              top: float | None) -> str:
        """A band's name from the cuts around it: ``(t, 0)`` starts at t, ``(t, 1)`` just above
        t; the first band starts at the question's minimum, the last ends at its maximum."""
        (low, above), (high, upto) = start, end
        if self.whole:
            first = None if low is None else int(low) + above
            last = (None if top is None else int(top)) if high is None else int(high) - 1 + upto
            if first is None:
                return f"up to {last}"
            if last is None:
                return f"{first} or more"
            return str(first) if first == last else f"{first}–{last}"
        if low is not None and low == high and upto and not above:
            return _num(low)
        lower = None if low is None else (f"over {_num(low)}" if above else _num(low))
        ceiling = top if high is None else high
        upper = None if ceiling is None else (_num(ceiling) if upto or high is None
                                              else f"under {_num(ceiling)}")
        if lower is None:
            return f"up to {upper}"
        return f"{lower} or more" if upper is None else f"{lower} to {upper}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# --------------------------------------------------------------------------------- the counts

@dataclass
class Collector:
    """Each distinct outcome, how many respondents of each group share it, and who was referred."""

    extras: Extras = field(default_factory=Extras)
    outcomes: list[Outcome] = field(default_factory=list)
    index: dict[Outcome, int] = field(default_factory=dict)
    #: (group, outcome number) -> respondents; the group is None when not grouped
    weights: Counter[tuple[str | None, int]] = field(default_factory=Counter)
    #: (respondent id, row number, outcome number, group) of every referred respondent
    referred: list[tuple[str, int, int, str | None]] = field(default_factory=list)
    _labels: dict[str, str] = field(default_factory=dict)

    def add(self, chunk: Chunk, done: list[Rendered]) -> None:
        """Count a written chunk: ``done[g]`` is what its group ``g`` of rows was given."""
        if not len(chunk.group):
            return
        codes = [self._intern(r.outcome) for r in done]
        per_row = np.asarray(codes, np.int64)[chunk.group]
        at = self.extras.group_at
        if at is None:
            labels: list[str | None] = [None] * len(per_row)
            counts = np.bincount(per_row)
            for code in np.flatnonzero(counts).tolist():
                self.weights[(None, code)] += int(counts[code])
        else:
            labels = [self._label(kept[at]) for kept in chunk.kept]
            self.weights.update(zip(labels, per_row.tolist()))
        referring = [code for code in set(codes) if self.outcomes[code].status == "refer"]
        for row in np.flatnonzero(np.isin(per_row, referring)).tolist():
            self.referred.append((str(chunk.ids[row]), int(chunk.numbers[row]), int(per_row[row]),
                                  labels[row]))

    def _intern(self, found: Outcome) -> int:
        code = self.index.get(found)
        if code is None:
            code = self.index[found] = len(self.outcomes)
            self.outcomes.append(found)
        return code

    def _label(self, text: str) -> str:
        label = self._labels.get(text)
        if label is None:
            assert self.extras.band is not None
            label = self._labels[text] = self.extras.band(text)
        return label


# -------------------------------------------------------------------------------- the figures

@dataclass(frozen=True)
class Table:
    """Numbers behind a chart, or a list: ``rows`` are ``(key, cells)``; the key is the id a
    row counts (for readers and tests), the cells what is shown."""

    id: str
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[Any, ...]], ...]


@dataclass(frozen=True)
class Chart:
    """A bar chart: ``bars`` are the category labels, ``series`` ``(name, values)`` drawn
    side by side, or stacked when ``stacked``; ``alt`` says in words what it shows."""

    title: str
    alt: str
    bars: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    unit: str
    stacked: bool = False


@dataclass(frozen=True)
class Section:
    id: str
    heading: str
    intro: str
    charts: tuple[Chart, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Contact:
    """The referred respondents of one urgency, by their reasons: ``groups`` are ``(reasons,
    respondents)``, the commonest reasons first, each respondent ``(id, row, group)`` in row
    order; so a survey with thousands of referrals still prints one line per few respondents."""

    urgency: str
    heading: str
    count: int
    groups: tuple[tuple[tuple[str, ...], tuple[tuple[str, int, str | None], ...]], ...]


@dataclass(frozen=True)
class Figures:
    title: str
    run: tuple[tuple[str, str], ...]
    notices: tuple[str, ...]
    contacts: tuple[Contact, ...]
    group: str | None
    sections: tuple[Section, ...]
    #: what a cell of a group too small to show holds
    fewer: str = FEWER


def figures(summary: Summary, collector: Collector, kb: KnowledgeBase,
            rulebase: RuleBase, provenance: Provenance, small_cell: bool = True) -> Figures:
    """The report's figures from a run's ``summary`` and what ``collector`` counted."""
    outcomes = collector.outcomes
    total: Counter[int] = Counter()
    for (_, code), many in collector.weights.items():
        total[code] += many
    scored = sum(total.values())
    assert scored == summary["scored"], (scored, summary["scored"])
    plans = sum(n for code, n in total.items() if outcomes[code].status == "plan")

    def count(pick: Callable[[Outcome], Any], codes: Counter[int] | None = None) -> Counter[Any]:
        found: Counter[Any] = Counter()
        for code, many in (codes or total).items():
            for key in set(pick(outcomes[code])):
                found[key] += many
        return found

    def share(n: int, of: int) -> str:
        return f"{100 * n / of:.1f}%" if of else "–"

    notices = []
    if not summary["scored"]:
        notices.append(f"No respondent could be scored: all {summary['rows_in']} rows were "
                       f"rejected. errors.csv says what is wrong with each; the counts below are "
                       f"empty." if summary["rows_in"] else "The survey has no rows to score.")
    run = (("Survey", f"{summary['survey']} ({summary['format']} export)"),
           ("Rows in", str(summary["rows_in"])),
           ("Scored", str(summary["scored"])),
           ("Rejected", str(summary["rejected"]) + (" (" + ", ".join(
               f"{n} for {column}" for column, n in summary["rejected_by_column"].items()) + ")"
               if summary["rejected_by_column"] else "")),
           ("Plans", f"{plans}"), ("Referred to a clinician", str(scored - plans)),
           ("Duplicate respondent ids", str(len(summary["duplicate_ids"]))),
           ("Assumed for everyone", ", ".join(f"{a}={v!r}" for a, v in summary["assumed"].items())
            or "nothing"),
           ("Defaults for everyone (no column)", ", ".join(summary["defaulted"]) or "none"),
           ("Distinct answer profiles", str(summary["distinct_profiles"])),
           ("Made by", f"hipcoach {provenance.version}"),
           ("Knowledge and rule base", provenance.fingerprint))

    urgencies = [(u.id, u.heading) for u in rulebase.urgencies]
    contacts = []
    for urgency, heading in urgencies + [(None, "Referred (no urgency given)")]:
        by_reasons: dict[tuple[str, ...], list[tuple[str, int, str | None]]] = {}
        for ident, row, code, group in sorted(collector.referred, key=lambda r: r[1]):
            if outcomes[code].urgency == urgency:
                reasons = tuple(dict.fromkeys(r.message for r in outcomes[code].reasons))
                by_reasons.setdefault(reasons, []).append((ident, row, group))
        if by_reasons:
            groups = tuple((reasons, tuple(people)) for reasons, people in
                           sorted(by_reasons.items(), key=lambda kv: (-len(kv[1]), kv[0])))
            contacts.append(Contact(urgency or "none", heading,
                                    sum(len(people) for _, people in groups), groups))

    sections = [_findings_section(kind, count, kb, scored, share)
                for kind in ("symptoms", "causes")]
    sections.append(_given_section(outcomes, total, count, kb, plans, share))
    sections.append(_coverage_section(outcomes, total, rulebase, kb))
    if collector.extras.group is not None:
        sections.insert(0, _group_section(collector, kb, small_cell, share))
    return Figures(f"Survey report: {summary['survey']}", run, tuple(notices), tuple(contacts),
                   collector.extras.group, tuple(sections))


def _findings_section(kind: str, count: Callable[..., Counter[Any]], kb: KnowledgeBase,
                      scored: int, share: Callable[[int, int], str]) -> Section:
    known = kb.symptoms if kind == "symptoms" else kb.causes
    words = tuple(dict.fromkeys(word for _, word in kb.vocabulary.certainty_words))
    found = count(lambda o: [c.id for c in getattr(o, kind)])
    by_word = count(lambda o: [(c.id, c.certainty) for c in getattr(o, kind)])
    ordered = sorted(found, key=lambda k: (-found[k], k))
    table = Table(kind, f"Respondents with each of the {kind}, by how certain the rules are",
                  ("", "Respondents", "Share of scored") + tuple(w.capitalize() for w in words),
                  tuple((key, (known[key].name, found[key], share(found[key], scored))
                         + tuple(by_word[(key, w)] for w in words)) for key in ordered))
    chart = Chart(f"{kind.capitalize()} by prevalence and certainty",
                  f"Bar chart of the respondents with each of the {kind}, most common first, each "
                  f"bar split by how certain the rules are; the table below gives the numbers.",
                  tuple(known[k].name for k in ordered),
                  tuple((w, tuple(float(by_word[(k, w)]) for k in ordered)) for w in words),
                  "respondents", stacked=True)
    heading = "What the respondents report" if kind == "symptoms" else "What lies behind it"
    intro = ("The symptoms the rules concluded from the answers, most common first."
             if kind == "symptoms" else "The likely causes the rules concluded, most common first.")
    return Section(kind, heading, intro, (chart,) if ordered else (), (table,))


def _given_section(outcomes: list[Outcome], total: Counter[int],
                   count: Callable[..., Counter[Any]], kb: KnowledgeBase, plans: int,
                   share: Callable[[int, int], str]) -> Section:
    categories = count(lambda o: o.categories)
    exercises = count(lambda o: o.exercises)
    planned = Counter({code: n for code, n in total.items() if outcomes[code].status == "plan"})
    balanced = sum(n for code, n in planned.items() if outcomes[code].balanced)
    by_budget: dict[float, list[float]] = {}
    for code, n in planned.items():
        entry = by_budget.setdefault(outcomes[code].budget, [0, 0.0])
        entry[0] += n
        entry[1] += n * outcomes[code].minutes
    budgets = sorted(by_budget)
    used = sum(v[1] for v in by_budget.values())
    offered = sum(b * by_budget[b][0] for b in budgets)
    cats = sorted(categories, key=lambda k: (-categories[k], k))
    dropped = count(lambda o: [(d.exercise, d.kind) for d in o.dropped], planned)
    reasons = count(lambda o: [d.kind for d in o.dropped], planned)
    unlock = count(lambda o: [e for d in o.dropped for e in d.lacking], planned)
    unlocks = sorted(unlock, key=lambda k: (-unlock[k], k))
    charts = []
    if cats:
        charts.append(Chart("Exercise categories prescribed",
                            "Bar chart of the plans with at least one exercise of each category; "
                            "the table below gives the numbers.",
                            tuple(kb.vocabulary.label(c) for c in cats),
                            (("plans", tuple(float(categories[c]) for c in cats)),), "plans"))
    if budgets:
        charts.append(Chart("Minutes used against minutes offered",
                            "Bar chart, for each daily time budget the respondents gave, of the "
                            "minutes offered beside the average minutes their plans use; the table "
                            "below gives the numbers.",
                            tuple(f"{_num(b)} min" for b in budgets),
                            (("offered", tuple(float(b) for b in budgets)),
                             ("used (average)", tuple(round(by_budget[b][1] / by_budget[b][0], 1)
                                                      for b in budgets))), "minutes a day"))
    if unlocks:
        charts.append(Chart("Equipment that would unlock the most",
                            "Bar chart of the plans that left out an exercise for want of each "
                            "piece of equipment; the table below gives the numbers.",
                            tuple(kb.vocabulary.equipment_name(e) for e in unlocks),
                            (("plans", tuple(float(unlock[e]) for e in unlocks)),), "plans"))
    tables = (
        Table("balance", "Plans and their balance", ("", "Plans", "Share of plans"),
              (("plans", ("Plans made", plans, share(plans, plans))),
               ("balanced", ("Balanced (every balance rule met)", balanced, share(balanced, plans))),
               ("minutes", ("Minutes a day used / offered, all plans",
                            f"{_num(round(used, 1))} / {_num(offered)}",
                            share(round(used), round(offered)) if offered else "–")))),
        Table("categories", "Plans with at least one exercise of each category",
              ("", "Plans", "Share of plans"),
              tuple((c, (kb.vocabulary.label(c), categories[c], share(categories[c], plans)))
                    for c in cats)),
        Table("minutes", "Minutes a day offered and used, by the time budget given",
              ("Budget", "Plans", "Average minutes used"),
              tuple((_num(b), (f"{_num(b)} min", by_budget[b][0],
                               _num(round(by_budget[b][1] / by_budget[b][0], 1))))
                    for b in budgets)),
        Table("exercises", "Plans with each exercise", ("", "Category", "Plans", "Share of plans"),
              tuple((e, (kb.exercises[e].name, kb.vocabulary.label(kb.exercises[e].category),
                         exercises[e], share(exercises[e], plans)))
                    for e in sorted(exercises, key=lambda k: (-exercises[k], k)))),
        Table("dropped_by_reason", "Plans that left out at least one exercise, by why",
              ("Why", "Plans", "Share of plans"),
              tuple((kind, (DROP_WORDS.get(kind, kind), reasons[kind], share(reasons[kind], plans)))
                    for kind in sorted(reasons, key=lambda k: (-reasons[k], k)))),
        Table("dropped", "Exercises left out of plans, and why", ("", "Why", "Plans"),
              tuple((f"{e}:{kind}", (kb.exercises[e].name, DROP_WORDS.get(kind, kind),
                                      dropped[(e, kind)]))
                    for e, kind in sorted(dropped, key=lambda k: (-dropped[k], k)))),
        Table("equipment", "Plans that left out an exercise for want of each piece of equipment",
              ("", "Plans"), tuple((e, (kb.vocabulary.equipment_name(e), unlock[e]))
                                   for e in unlocks)),
    )
    return Section("given", "What they were given",
                   "The exercises prescribed, the time they take against the time offered, the "
                   "share of balanced plans, and what was left out and why.", tuple(charts), tables)


def _coverage_section(outcomes: list[Outcome], total: Counter[int], rulebase: RuleBase,
                      kb: KnowledgeBase) -> Section:
    fired: Counter[str] = Counter()
    chosen: set[str] = set()
    for code, n in total.items():
        fired.update(dict.fromkeys(outcomes[code].fired, n))
        chosen |= set(outcomes[code].exercises)
    never = [rule for rule in rulebase.rules if not fired[rule.id]]
    return Section("coverage", "Rule coverage (for the knowledge engineer)",
                   f"{len(rulebase.rules) - len(never)} of the {len(rulebase.rules)} rules fired for "
                   f"at least one respondent of this survey; {len(never)} never did. Rules that "
                   f"never fire on real surveys are worth a second look.",
                   tables=(Table("never_fired", "Rules that never fired on this survey",
                                 ("Rule", "Layer"),
                                 tuple((r.id, (r.id, r.layer)) for r in never)),
                           Table("never_chosen", "Exercises no plan chose", ("Exercise",),
                                 tuple((e, (kb.exercises[e].name,)) for e in kb.exercises
                                       if e not in chosen))))


def _group_section(collector: Collector, kb: KnowledgeBase, small_cell: bool,
                   share: Callable[[int, int], str]) -> Section:
    outcomes, group = collector.outcomes, collector.extras.group
    per_group: dict[str, Counter[int]] = {}
    for (label, code), many in collector.weights.items():
        per_group.setdefault(str(label), Counter())[code] += many
    rank = {label: i for i, label in enumerate(collector.extras.order)}
    labels = sorted(per_group, key=lambda g: (g == NOT_ANSWERED, rank.get(g, len(rank)), g))
    sizes = {g: sum(per_group[g].values()) for g in labels}
    masked = {g for g in labels if small_cell and sizes[g] < SMALL_CELL}
    shown = [g for g in labels if g not in masked]

    def counted(pick: Callable[[Outcome], Any], g: str) -> Counter[Any]:
        found: Counter[Any] = Counter()
        for code, many in per_group[g].items():
            for key in set(pick(outcomes[code])):
                found[key] += many
        return found

    def cell(n: int, g: str) -> str:
        return FEWER if g in masked else f"{n} ({share(n, sizes[g])})"

    overview = []
    for g in labels:
        plans = sum(n for c, n in per_group[g].items() if outcomes[c].status == "plan")
        balanced = sum(n for c, n in per_group[g].items()
                       if outcomes[c].status == "plan" and outcomes[c].balanced)
        overview.append((g, (g, FEWER if g in masked else sizes[g],
                             cell(sizes[g] - plans, g), cell(plans, g),
                             FEWER if g in masked else share(balanced, plans))))
    tables = [Table("groups", f"Respondents by {group}",
                    (str(group), "Respondents", "Referred", "Plans", "Balanced share of plans"),
                    tuple(overview))]
    charts = []
    for kind, known in (("symptoms", kb.symptoms), ("causes", kb.causes)):
        def ids(found: Outcome, kind: str = kind) -> list[str]:
            return [c.id for c in getattr(found, kind)]

        counts = {g: counted(ids, g) for g in labels}
        everyone: Counter[str] = Counter()
        for g in labels:
            everyone.update(counts[g])
        keys = sorted(everyone, key=lambda k: (-everyone[k], k))
        tables.append(Table(f"{kind}_by_group", f"Respondents with each of the {kind}, by {group}",
                            ("",) + tuple(labels),
                            tuple((k, (known[k].name,) + tuple(cell(counts[g][k], g) for g in labels))
                                  for k in keys)))
        if keys and shown:
            charts.append(Chart(f"{kind.capitalize()} by {group}",
                                f"Bar chart of the share of each {group} group with each of the "
                                f"{kind}"
                                + (f"; groups of {FEWER} respondents are left out" if masked else "")
                                + "; the table below gives the numbers.",
                                tuple(known[k].name for k in keys),
                                tuple((g, tuple(round(100 * counts[g][k] / sizes[g], 1)
                                                for k in keys)) for g in shown),
                                "% of the group"))
    categories = {g: counted(lambda found: found.categories, g) for g in labels}
    named = sorted({c for g in labels for c in categories[g]})
    tables.append(Table("categories_by_group", f"Plans with at least one exercise of each "
                                               f"category, by {group}", ("",) + tuple(labels),
                        tuple((c, (kb.vocabulary.label(c),) + tuple(cell(categories[g][c], g)
                                                                      for g in labels))
                              for c in named)))
    note = (f" Groups of {FEWER} respondents are shown as \u201c{FEWER}\u201d, without figures."
            if masked else "")
    return Section("groups", f"By {group}",
                   f"The counts broken down by {group} ({len(labels)} groups).{note}",
                   tuple(charts), tuple(tables))
