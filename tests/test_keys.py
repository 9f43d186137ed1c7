"""Evaluation keys: respondents who share a class must get the same batch rows, and respondents
whose answers a rule tells apart must not share one."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hipcoach.batch.keys import Profiler
from hipcoach.batch.profiles import render
from hipcoach.kb.answers import complete
from hipcoach.kb.ops import holds
from test_properties import _PLANNER, answers

_PROFILER = Profiler(_PLANNER.rulebase, _PLANNER.kb)


def keys(**given_answers):
    return _PROFILER.keys(complete(given_answers, _PLANNER.kb))


def test_numbers_the_rules_only_compare_are_classed_by_the_comparisons():
    assert set(_PROFILER.compared) >= {"age", "weekly_km", "sitting_hours", "pain_level"}
    profile_20, class_20 = keys(age=20)
    profile_30, class_30 = keys(age=30)
    assert profile_20 != profile_30 and class_20 == class_30
    assert keys(age=64)[1] != keys(age=65)[1]


def test_answers_the_planner_reads_itself_stay_exact():
    """Minutes set the budget and equipment is matched by reference: no class can stand in."""
    assert "minutes" not in _PROFILER.compared and "equipment" not in _PROFILER.compared
    assert keys(minutes=15)[1] != keys(minutes=16)[1]
    assert keys(equipment=["mat"])[1] != keys(equipment=[])[1]


def test_answers_no_rule_reads_are_not_in_either_key():
    read = {t.field for r in _PLANNER.rulebase.rules for p in r.patterns if p.fact == "answer"
            for t in p.tests}
    assert set(_PROFILER.fields) == read | {"minutes", "equipment"}


@st.composite
def same_class(draw):
    """An answer set, and another that differs only in numbers the rules compare, each moved
    to another value of the same class."""
    first = complete(draw(answers()), _PLANNER.kb)
    second = dict(first)
    for field, tests in _PROFILER.compared.items():
        question = _PLANNER.kb.questions[field]
        outcome = [holds(op, first[field], target) for op, target in tests]
        alike = [v for v in range(int(question.min), int(question.max) + 1)
                 if [holds(op, v, target) for op, target in tests] == outcome]
        if alike:
            second[field] = draw(st.sampled_from(alike))
    return first, second


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(same_class())
@pytest.mark.slow
def test_respondents_of_one_class_get_the_same_batch_rows(pair):
    first, second = pair
    assert _PROFILER.keys(first)[1] == _PROFILER.keys(second)[1]
    assert render(_PLANNER, _PROFILER.relevant(first), False) == \
        render(_PLANNER, _PROFILER.relevant(second), False)
