"""Certainty factors: MYCIN-style combination of positive evidence."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hipcoach.reasoning.certainty import PRECISION, combine, combine_all, conclude, rounded

cfs = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
# Float noise allowed in properties that are exact only in real arithmetic.
EPS = 1e-12


# --------------------------------------------------------------------------- known values

@pytest.mark.parametrize(("first", "second", "expected"), [
    (0.6, 0.5, 0.8),
    (0.5, 0.5, 0.75),
    (0.8, 0.4, 0.88),
    (0.3, 0.0, 0.3),
    (0.0, 0.0, 0.0),
    (0.7, 1.0, 1.0),
])
def test_combine_known_values(first, second, expected):
    assert combine(first, second) == pytest.approx(expected)


def test_combine_all_of_nothing_is_zero():
    assert combine_all([]) == 0.0


def test_combine_all_of_one_value_is_that_value():
    assert combine_all([0.42]) == pytest.approx(0.42)


def test_combine_all_folds_in_order_free_way():
    # 0.6 + 0.5 -> 0.8; 0.8 + 0.5 -> 0.9
    assert combine_all([0.6, 0.5, 0.5]) == pytest.approx(0.9)
    assert combine_all([0.5, 0.5, 0.6]) == pytest.approx(0.9)


def test_combine_all_accepts_a_generator():
    assert combine_all(cf for cf in (0.6, 0.5)) == pytest.approx(0.8)


def test_conclude_is_rule_cf_times_weakest_premise():
    assert conclude(0.8, [0.5, 0.9]) == pytest.approx(0.4)


def test_conclude_without_premises_is_the_rule_cf():
    # answers count as certain, so a rule on answers only lends its own cf
    assert conclude(0.7, []) == pytest.approx(0.7)


def test_rounded_keeps_precision_digits():
    assert PRECISION == 3
    assert rounded(0.123456) == 0.123
    assert rounded(0.8 + 1e-15) == 0.8


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("bad", [-0.01, 1.01, 2.0, -1.0, math.inf, math.nan])
def test_combine_rejects_cf_outside_unit_interval_first(bad):
    with pytest.raises(ValueError, match="outside"):
        combine(bad, 0.5)


@pytest.mark.parametrize("bad", [-0.01, 1.01, math.nan])
def test_combine_rejects_cf_outside_unit_interval_second(bad):
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        combine(0.5, bad)


def test_combine_all_rejects_a_bad_cf_anywhere():
    with pytest.raises(ValueError, match=r"1\.5"):
        combine_all([0.2, 0.3, 1.5])


# --------------------------------------------------------------------------- properties

@given(cfs, cfs)
def test_combine_is_commutative(a, b):
    assert combine(a, b) == combine(b, a)


@given(cfs, cfs, cfs)
def test_combine_is_associative(a, b, c):
    assert combine(combine(a, b), c) == pytest.approx(combine(a, combine(b, c)), abs=EPS)


@given(cfs, cfs)
def test_combine_stays_in_unit_interval(a, b):
    assert 0.0 <= combine(a, b) <= 1.0


@given(cfs, cfs)
def test_combine_is_at_least_the_stronger_evidence(a, b):
    assert combine(a, b) >= max(a, b) - EPS


@given(cfs)
def test_combine_with_zero_is_identity(a):
    assert combine(a, 0.0) == a
    assert combine(0.0, a) == a


@given(cfs)
def test_combine_with_certainty_is_certainty_approximately(a):
    assert combine(a, 1.0) == pytest.approx(1.0, abs=EPS)


def test_certain_evidence_stays_exactly_certain():
    assert combine(1.0, 0.38) >= 1.0
    assert combine(0.38, 1.0) >= 1.0


@given(st.lists(cfs, max_size=8))
def test_combine_all_stays_in_unit_interval_and_never_raises(values):
    total = combine_all(values)
    assert 0.0 <= total <= 1.0
    if values:
        assert total >= max(values) - EPS


@given(st.lists(cfs, min_size=1, max_size=6))
def test_combine_all_does_not_depend_on_order(values):
    assert combine_all(values) == pytest.approx(combine_all(reversed(values)), abs=EPS)


@given(cfs, st.lists(cfs, min_size=1, max_size=5))
def test_conclude_never_exceeds_rule_cf_or_weakest_premise(rule_cf, premises):
    result = conclude(rule_cf, premises)
    assert result <= rule_cf + EPS
    assert result <= min(premises) + EPS
    assert result == pytest.approx(rule_cf * min(premises))
