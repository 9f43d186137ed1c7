"""Byte-identical plans and traces for 300 stored answer sets (``tests/golden``): any change to
what the engine derives, chooses or writes shows up here. Refactors and speed work must keep it
green; a change meant to alter plans regenerates the digests with ``make golden``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from golden.make_golden import ANSWERS, DIGESTS, SURVEY_DIGESTS, digests, survey_digests

SETS = [json.loads(line) for line in ANSWERS.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
def test_stored_answer_sets_still_give_byte_identical_plans_and_traces(planner):
    expected = json.loads(DIGESTS.read_text(encoding="utf-8"))
    got = digests(planner, SETS)
    assert len(got) == len(expected) == len(SETS) >= 300
    changed = [i for i, (a, b) in enumerate(zip(got, expected)) if a != b]
    assert not changed, (f"{len(changed)} of {len(SETS)} answer sets changed, first "
                         f"{SETS[changed[0]]}; run `make golden` only if that was intended")


@pytest.mark.slow
def test_the_stored_sets_cover_plans_referrals_and_every_urgency(planner):
    plans = [planner.plan(answers) for answers in SETS]
    statuses = {p["status"] for p in plans}
    assert statuses == {"plan", "refer"}
    assert {p["urgency"] for p in plans if p["status"] == "refer"} == {"emergency", "same_day", "soon"}
    assert Path(ANSWERS).stat().st_size > 0


def test_example_surveys_still_score_to_byte_identical_files(planner, tmp_path):
    expected = json.loads(SURVEY_DIGESTS.read_text(encoding="utf-8"))
    got = survey_digests(planner, tmp_path)
    assert set(got) == set(expected) and len(got) >= 4
    for survey, files in expected.items():
        changed = [name for name in files if got[survey][name] != files[name]]
        assert not changed, f"{survey}: {changed} changed; run `make golden` only if intended"
