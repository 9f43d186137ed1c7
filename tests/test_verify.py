"""The verifier's checks (``hipcoach.kb.verify``) through ``kb check``: a duplicated, a subsumed and
a conflicting rule planted in a copy of the bundled rules are each found, naming both rules and
their files; the bundled base passes. The rules planted are built from whatever the bundled files
hold (their first rule of a kind), never from a rule id written here."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from clirunner import invoke, ok
from hipcoach.kb.checks import check
from hipcoach.kb.verify import Premises
from test_knowledge import edit


def rules_of(path: Path) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    return rules


def first(path: Path, conclusion: str, answers_only: bool = False) -> dict[str, Any]:
    """The file's first rule concluding ``conclusion`` (with answer patterns only, if asked)."""
    return next(r for r in rules_of(path) if conclusion in r["then"]
                and (not answers_only or all(set(p) == {"answer"} for p in r["when"])))


def plant(path: Path, rule: dict[str, Any]) -> None:
    edit(path, lambda data: data["rules"].append(rule))


def kb_check(knowledge: Path, rules: Path):  # type: ignore[no-untyped-def]
    return invoke("kb", "check", "--kb", knowledge, "--rules", rules)


def lines_of(result: Any, check_name: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if f"[{check_name}" in line]


def test_the_bundled_base_passes_with_no_duplicates_or_conflicts():
    result = ok(invoke("kb", "check"))
    for name in ("duplicate", "conflict", "requirements_over_budget"):
        assert not lines_of(result, name)


def test_a_rule_copied_under_a_new_id_is_a_duplicate_naming_both(data_copy):
    knowledge, rules = data_copy
    path = rules / "causes.yaml"
    original = first(path, "cause")
    plant(path, {**copy.deepcopy(original), "id": "copied.rule"})
    result = kb_check(knowledge, rules)
    assert result.exit_code == 1, result.output
    [line] = lines_of(result, "duplicate")
    assert line.startswith(f"{path}: copied.rule: [duplicate] ")
    assert f"{original['id']} ({path})" in line and "counted twice" in line
    assert "problem(s) found" in result.stdout.splitlines()[-1]


def test_the_same_premises_written_otherwise_are_still_a_duplicate(data_copy):
    knowledge, rules = data_copy
    path = rules / "triage.yaml"
    original = first(path, "refer", answers_only=True)
    [pattern] = original["when"][:1]
    (answer, test), = pattern["answer"].items()
    # {red_flags: swelling} and {red_flags: {in: [swelling]}} admit the same answers
    value = test if not isinstance(test, dict) else None
    if value is None:
        return  # the first referral's test is not a plain value: nothing to rewrite
    rewritten = {**copy.deepcopy(original), "id": "rewritten.rule",
                 "when": [{"answer": {answer: {"in": [value]}}}, *original["when"][1:]]}
    plant(path, rewritten)
    [line] = lines_of(kb_check(knowledge, rules), "duplicate")
    assert "rewritten.rule" in line and original["id"] in line


def test_a_rule_with_more_premises_and_the_same_conclusion_is_a_subsumed_caution(data_copy):
    knowledge, rules = data_copy
    path = rules / "causes.yaml"
    original = first(path, "cause")
    narrower = {**copy.deepcopy(original), "id": "narrower.rule",
                "when": [*original["when"], {"answer": {"weekly_km": {"gte": 40}}}]}
    plant(path, narrower)
    result = ok(kb_check(knowledge, rules))  # a caution: listed, and the check passes
    [line] = [x for x in lines_of(result, "subsumed") if "narrower.rule" in x]
    assert line.startswith(f"{path}: narrower.rule: [subsumed, caution] fires only where "
                           f"{original['id']} ({path}) fires too")
    assert "counted twice" in line
    assert "caution(s) to look at" in result.stdout.splitlines()[-1]


def ruled_out_exercise(path: Path, kb: Any) -> tuple[dict[str, Any], str]:
    """The file's first rule_out rule on answers only, and an exercise making a demand it rules out."""
    return next((r, e.id) for r in rules_of(path) if "rule_out" in r["then"]
                and all(set(p) == {"answer"} for p in r["when"])
                for e in kb.exercises.values() if set(e.demands) & set(r["then"]["rule_out"]))


def test_a_proposal_its_exclusion_always_cancels_is_a_conflict(data_copy, kb):
    """The bundled exclusions are generic: one joins each candidate with the demands it makes
    and the demands rule_out rules conclude. A proposal made only where a rule_out rule fires,
    of an exercise making a demand that rule rules out, can never be chosen."""
    knowledge, rules = data_copy
    path = rules / "candidates.yaml"
    exclusion = next(r for r in rules_of(path) if "exclude" in r["then"]
                     and any(p.get("fact") == "ruled_out" for p in r["when"]))
    rule_out, exercise = ruled_out_exercise(path, kb)
    proposal = first(path, "propose")
    plant(path, {**copy.deepcopy(proposal), "id": "conflicting.rule",
                 "when": [*proposal["when"], *rule_out["when"]], "then": {"propose": [exercise]}})
    result = kb_check(knowledge, rules)
    assert result.exit_code == 1, result.output
    [line] = [x for x in lines_of(result, "conflict") if "conflicting.rule" in x]
    assert f"proposes {exercise}, which {exclusion['id']} ({path}) excludes" in line
    assert f"concluded by {rule_out['id']} ({path})" in line


def test_a_proposal_an_exclusion_cancels_only_sometimes_is_no_conflict(data_copy, kb):
    knowledge, rules = data_copy
    path = rules / "candidates.yaml"
    _, exercise = ruled_out_exercise(path, kb)
    proposal = first(path, "propose")
    plant(path, {**copy.deepcopy(proposal), "id": "sometimes.rule",
                 "then": {"propose": [exercise]}})  # not only where the demand is ruled out
    assert not [x for x in lines_of(kb_check(knowledge, rules), "conflict") if "sometimes.rule" in x]


def test_a_plan_step_that_holds_only_when_the_runner_is_referred_is_a_conflict(data_copy):
    knowledge, rules = data_copy
    referral = first(rules / "triage.yaml", "refer", answers_only=True)
    requirement = first(rules / "plan.yaml", "require")
    plant(rules / "plan.yaml", {**copy.deepcopy(requirement), "id": "never.applies",
                                "when": copy.deepcopy(referral["when"])})
    result = kb_check(knowledge, rules)
    assert result.exit_code == 1, result.output
    [line] = lines_of(result, "conflict")
    assert line.startswith(f"{rules / 'plan.yaml'}: never.applies: [conflict] fires only where "
                           f"{referral['id']} ({rules / 'triage.yaml'}) refers")


def test_requirements_that_never_fit_the_minutes_together_are_an_error(data_copy, kb):
    knowledge, rules = data_copy
    short = kb.questions["minutes"].min
    categories = sorted({e.category for e in kb.exercises.values()})
    quickest = {c: min(e.day_minutes for e in kb.exercises.values() if e.category == c)
                for c in categories}
    wanted = sorted(categories, key=lambda c: -quickest[c])[:3]
    assert sum(quickest[c] for c in wanted) > short  # else the plant below proves nothing
    source = first(rules / "plan.yaml", "require")["source"]
    for number, category in enumerate(wanted):
        plant(rules / "plan.yaml", {
            "id": f"short.require.{number}", "when": [{"answer": {"minutes": {"lte": short}}}],
            "then": {"require": [category]}, "priority": 0, "rationale": "x", "source": source})
    result = kb_check(knowledge, rules)
    assert result.exit_code == 1, result.output
    found = lines_of(result, "requirements_over_budget")
    assert found and all("short.require." in line for line in found)
    assert f"more than the {short:g} the questionnaire allows" in found[0]


def test_requirements_that_exclude_each_other_are_never_checked_together(data_copy, kb):
    knowledge, rules = data_copy
    source = first(rules / "plan.yaml", "require")["source"]
    categories = sorted({e.category for e in kb.exercises.values()})
    for number, category in enumerate(categories * 2):
        bound = {"lte": 5} if number % 2 else {"gte": 80}  # never both
        plant(rules / "plan.yaml", {
            "id": f"apart.{number}", "when": [{"answer": {"minutes": bound}}],
            "then": {"require": [category]}, "priority": 0, "rationale": "x", "source": source})
    found = [f for f in check(knowledge, rules) if f.check == "requirements_over_budget"]
    assert all(f.entry and f.entry.startswith("apart.") for f in found)
    assert not [f for f in found if f.entry and int(f.entry.split(".")[1]) % 2 == 0]


def test_narrower_compares_what_premises_admit(kb, rulebase):
    from hipcoach.kb.rulefile import Pattern, Rule, Test

    def rule(*tests: Test) -> Rule:
        return Rule("r", "causes", "f", (Pattern("answer", "a", tests),), "cause", "x", 1.0, "", "",
                    0, 0)

    wide, tight = (Premises(rule(Test("pain_level", "gte", n)), kb) for n in (5, 6))
    assert tight.narrower(wide) and not wide.narrower(tight)
    listed = Premises(rule(Test("knee_pain", "in", ("front", "outside"))), kb)
    front = Premises(rule(Test("knee_pain", "eq", "front")), kb)
    assert front.narrower(listed) and not listed.narrower(front)


# --------------------------------------------------------------------------- properties

OPS = ("gt", "gte", "lt", "lte", "eq", "ne")


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(OPS), st.integers(0, 10), st.sampled_from(OPS), st.integers(0, 10))
def test_narrower_agrees_with_every_allowed_answer(kb, op_a, a, op_b, b):
    """B is narrower than A exactly when every pain level 0 to 10 that passes B passes A."""
    from hipcoach.kb.ops import holds
    from hipcoach.kb.rulefile import Pattern, Rule, Test

    def premises(op: str, value: int) -> Premises:
        rule = Rule("r", "causes", "f", (Pattern("answer", "a", (Test("pain_level", op, value),)),),
                    "cause", "x", 1.0, "", "", 0, 0)
        return Premises(rule, kb)

    passes_a = {v for v in range(11) if holds(op_a, v, a)}
    passes_b = {v for v in range(11) if holds(op_b, v, b)}
    assert premises(op_b, b).narrower(premises(op_a, a)) == (passes_b <= passes_a)


@pytest.mark.slow  # about a minute: kb check over 17 planted require rules that can all fire at once
def test_more_require_rules_than_are_checked_together_is_a_caution(data_copy):
    from hipcoach.kb.verify import MAX_TOGETHER

    knowledge, rules = data_copy
    model = first(rules / "plan.yaml", "require")
    for number in range(MAX_TOGETHER + 1):
        plant(rules / "plan.yaml", {**copy.deepcopy(model), "id": f"many.{number}",
                                    "when": [{"answer": {"minutes": {"gte": 5 + number}}}]})
    found = [f for f in check(knowledge, rules) if f.check == "requirements_over_budget"
             and f.severity == "caution"]
    assert len(found) == 1 and f"only the first {MAX_TOGETHER} require rules" in found[0].message
