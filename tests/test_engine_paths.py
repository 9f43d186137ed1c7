"""The adapter drives durable_rules' C engine directly, asserts a layer's facts in one batch and
memoises what it parses. None of that may change a plan or a trace: these tests compare, byte for
byte, the adapter with and without its memos, and the adapter against the former path through
durable_rules' own host (``host_reference.py``), over generated answer sets (``test_golden.py``
holds the stored ones)."""

from __future__ import annotations

import random

import pytest

import host_reference
from golden.make_golden import digests, value
from hipcoach import Planner
from hipcoach.errors import EngineError
from hipcoach.reasoning import inference
from hipcoach.reasoning.durable import adapter
from host_reference import HostSession

#: Each test here takes seconds: `make test-fast` leaves them out.
pytestmark = pytest.mark.slow

COUNT = 400


@pytest.fixture(scope="module")
def answer_sets(planner: Planner) -> list[dict]:
    rng = random.Random(7_2026)
    questions = list(planner.kb.questions.values())
    return [{q.id: value(q, rng) for q in questions if rng.random() < 0.75} for _ in range(COUNT)]


def _forget(planner: Planner) -> None:
    planner.engine.ruleset.facts.clear()
    planner.engine.ruleset.matches.clear()
    planner.engine.premises.clear()


def test_memos_change_nothing(planner: Planner, answer_sets: list[dict], monkeypatch) -> None:
    with_memos = digests(planner, answer_sets)
    again = digests(planner, answer_sets)  # now every fact and match comes from the memos
    monkeypatch.setattr(adapter, "MEMO_LIMIT", 0)
    monkeypatch.setattr(inference, "PREMISES_KEPT", 0)  # each firing's premises read afresh
    _forget(planner)
    without = digests(planner, answer_sets)
    monkeypatch.undo()
    assert not planner.engine.ruleset.matches  # nothing was kept while the memos were off
    assert with_memos == again == without


def test_direct_engine_matches_durable_rules_host(planner: Planner, answer_sets: list[dict],
                                                  monkeypatch) -> None:
    direct = digests(planner, answer_sets)
    monkeypatch.setattr(adapter, "Session", HostSession)
    through_host = digests(planner, answer_sets)
    assert planner.engine.ruleset.name in host_reference._registered
    changed = [i for i, (a, b) in enumerate(zip(direct, through_host)) if a != b]
    assert not changed, f"{len(changed)} answer sets differ, first {answer_sets[changed[0]]}"


def test_memos_stay_bounded(planner: Planner, answer_sets: list[dict], monkeypatch) -> None:
    monkeypatch.setattr(adapter, "MEMO_LIMIT", 50)
    monkeypatch.setattr(inference, "PREMISES_KEPT", 50)
    _forget(planner)
    for answers in answer_sets[:60]:
        planner.plan(answers)
    assert len(planner.engine.ruleset.facts) <= 50
    assert len(planner.engine.ruleset.matches) <= 50
    assert len(planner.engine.premises) <= 50


def test_a_failing_action_is_an_engine_error_and_the_next_plan_works(planner: Planner,
                                                                     monkeypatch) -> None:

    def fail(self, rule_id, matched):
        raise KeyError("no such thing")

    with monkeypatch.context() as patch:
        patch.setattr(inference._Collector, "on_fire", fail)
        with pytest.raises(EngineError, match=r"rule \S+ failed: KeyError"):
            planner.plan({"knee_pain": "front"})
    assert planner.plan({"knee_pain": "front"})["status"] == "plan"
