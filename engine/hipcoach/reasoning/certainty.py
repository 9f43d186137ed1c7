"""Certainty factors, MYCIN style.

A rule's conclusion gets ``cf(rule) * min(cf(premises))``; two pieces of evidence for the same
conclusion combine as ``cf1 + cf2 - cf1 * cf2``, which is order-free, never exceeds 1 and grows
with every independent confirmation. Only positive evidence is used: a rule that argues against
a conclusion is written as an exclusion instead.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Digits kept in reports; enough to tell rules apart, few enough to hide float noise.
PRECISION = 3


def combine(first: float, second: float) -> float:
    """Combine two positive certainty factors for the same conclusion."""
    if not (0.0 <= first <= 1.0 and 0.0 <= second <= 1.0):
        bad = first if not 0.0 <= first <= 1.0 else second
        raise ValueError(f"certainty factor {bad!r} is outside [0, 1]")
    # max(): floating point can put 1 + b - b a hair below 1; evidence must never lower certainty
    return max(first, second, first + second - first * second)


def combine_all(cfs: Iterable[float]) -> float:
    """Fold :func:`combine` over ``cfs``; no evidence is certainty 0."""
    total = 0.0
    for cf in cfs:
        total = combine(total, cf)
    return total


def conclude(rule_cf: float, premise_cfs: Iterable[float]) -> float:
    """The certainty a rule lends its conclusion: its own cf times its weakest premise."""
    return rule_cf * min(premise_cfs, default=1.0)


def rounded(cf: float) -> float:
    return round(cf, PRECISION)
