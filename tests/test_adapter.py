"""The durable_rules adapter: registration, sessions, de-duplication, errors, trace order."""

from __future__ import annotations

import pytest

from hipcoach import adapter
from hipcoach.errors import EngineError

RULES = {
    "late": {"all": [{"a": {"$and": [{"t": "x"}, {"$gte": {"n": 1}}]}}], "pri": 2},
    "early": {"all": [{"a": {"$and": [{"t": "x"}, {"$gte": {"n": 5}}]}}], "pri": 1},
    "join": {"all": [{"a": {"t": "x"}}, {"b": {"$and": [{"t": "y"}, {"n": {"a": "n"}}]}}], "pri": 3},
}


def record(into: list):
    return lambda rule, matched: into.append((rule, matched))


def test_register_is_idempotent_and_content_addressed():
    first = adapter.register(RULES)
    assert adapter.register(dict(RULES)) is first
    other = adapter.register({"late": RULES["late"]})
    assert other.name != first.name
    assert first.rule_ids == ("late", "early", "join")


def test_firing_hands_matched_facts_without_session_fields():
    fired: list = []
    with adapter.Session(adapter.register(RULES), record(fired)) as session:
        session.assert_facts([{"t": "x", "n": 2}])
    assert fired == [("late", {"a": {"t": "x", "n": 2}})]
    assert [f.rule for f in session.firings] == ["late"]


def test_lower_pri_fires_first_within_one_assertion():
    fired: list = []
    with adapter.Session(adapter.register(RULES), record(fired)) as session:
        session.assert_facts([{"t": "x", "n": 7}])
    assert [rule for rule, _ in fired] == ["early", "late"]
    assert [f.seq for f in session.firings] == [1, 2]


def test_join_across_facts_uses_references():
    fired: list = []
    with adapter.Session(adapter.register(RULES), record(fired)) as session:
        session.assert_facts([{"t": "x", "n": 3}, {"t": "y", "n": 4}, {"t": "y", "n": 3}])
    joins = [m for rule, m in fired if rule == "join"]
    assert joins == [{"a": {"t": "x", "n": 3}, "b": {"t": "y", "n": 3}}]


def test_identical_fact_is_asserted_once_without_error():
    fired: list = []
    with adapter.Session(adapter.register(RULES), record(fired)) as session:
        session.assert_facts([{"t": "x", "n": 2}])
        session.assert_facts([{"n": 2, "t": "x"}])  # same fact, other key order
    assert len(fired) == 1


def test_fact_no_rule_consumes_is_recorded_not_raised():
    with adapter.Session(adapter.register(RULES), record([])) as session:
        session.assert_facts([{"t": "z", "n": 1}])
    assert session.unconsumed == [{"t": "z", "n": 1}]


def test_error_inside_an_action_is_raised_as_engine_error_naming_the_rule():
    def explode(rule, matched):
        raise ValueError("boom")

    with pytest.raises(EngineError, match=r"rule late failed: ValueError: boom"):
        with adapter.Session(adapter.register(RULES), explode) as session:
            session.assert_facts([{"t": "x", "n": 2}])
    # the failed session was closed: a new one works and starts clean
    fired: list = []
    with adapter.Session(adapter.register(RULES), record(fired)) as session:
        session.assert_facts([{"t": "x", "n": 2}])
    assert len(fired) == 1


def test_sessions_are_deleted_so_more_than_1024_evaluations_work():
    ruleset = adapter.register(RULES)
    for _ in range(1100):
        fired: list = []
        with adapter.Session(ruleset, record(fired)) as session:
            session.assert_facts([{"t": "x", "n": 2}])
        assert len(fired) == 1


def test_sessions_do_not_share_facts():
    ruleset = adapter.register(RULES)
    with adapter.Session(ruleset, record([])) as session:
        session.assert_facts([{"t": "x", "n": 3}])
    fired: list = []
    with adapter.Session(ruleset, record(fired)) as session:
        session.assert_facts([{"t": "y", "n": 3}])
    assert fired == []


def test_bad_definition_is_an_engine_error():
    with pytest.raises(EngineError, match="refused"):
        adapter.register({"bad": {"all": [{"a": {"$nonsense": {"n": 1}}}]}})


def test_only_the_adapter_imports_durable_rules():
    from pathlib import Path

    package = Path(adapter.__file__).parent
    importers = sorted(p.name for p in package.glob("*.py")
                       if any(line.lstrip().startswith(("import durable", "from durable"))
                              for line in p.read_text().splitlines()))
    assert importers == ["adapter.py"]


def test_every_fact_gets_its_own_id_so_content_hashes_cannot_collide(monkeypatch):
    """Without an id durable_rules identifies a fact by a hash of its content; two different
    facts of one session hashing alike were refused as already observed (seen in a 100,000-row
    batch). The adapter therefore sends every fact with an id unique in its session."""
    ruleset = adapter.register(RULES)
    sent: list[dict] = []
    real = adapter._durable.Host.assert_fact

    def spy(self, name, fact, complete=None):
        sent.append(fact)
        return real(self, name, fact, complete)

    monkeypatch.setattr(adapter._durable.Host, "assert_fact", spy)
    with adapter.Session(ruleset, record([])) as session:
        session.assert_facts([{"t": "x", "n": n} for n in range(50)])
    ids = [fact["id"] for fact in sent]
    assert len(ids) == 50 and len(set(ids)) == 50
    assert all(f["n"] == n for n, f in enumerate(sent))
