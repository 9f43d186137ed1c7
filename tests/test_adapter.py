"""The durable_rules adapter: registration, sessions, de-duplication, errors, firing order."""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys

import pytest

from hipcoach.errors import EngineError
from hipcoach.reasoning.durable import adapter

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


def test_lower_pri_fires_first_within_one_assertion():
    fired: list = []
    with adapter.Session(adapter.register(RULES), record(fired)) as session:
        session.assert_facts([{"t": "x", "n": 7}])
    assert [rule for rule, _ in fired] == ["early", "late"]


def test_one_batch_fires_in_the_order_of_one_fact_at_a_time():
    """The C engine runs a batch's matches by pri across all its facts; the adapter hands them
    on fact by fact (by the newest fact each matched), as asserting one fact per call would."""
    fired: list = []
    with adapter.Session(adapter.register(RULES), record(fired)) as session:
        session.assert_facts([{"t": "x", "n": 7}, {"t": "y", "n": 7}, {"t": "x", "n": 3},
                              {"t": "y", "n": 3}])
    assert [(rule, sorted(f["n"] for f in m.values())) for rule, m in fired] == [
        ("early", [7]), ("late", [7]), ("join", [7, 7]), ("late", [3]), ("join", [3, 3])]


def test_a_session_in_which_nothing_fires_is_deleted_safely():
    """durable_rules crashed deleting a session in which no action had started; the adapter
    starts its own release action first. Each round takes a new ruleset's first session."""
    for n in range(3):
        rules = {f"pair_{n}": {"all": [{"a": {"$and": [{"t": "x"}, {"n": n}]}}, {"b": {"t": "y"}}],
                               "pri": 1}}
        fired: list = []
        with adapter.Session(adapter.register(rules), record(fired)) as session:
            session.assert_facts([{"t": "y", "n": n}])  # consumed (pattern b), fires nothing
        assert fired == [] and session.unconsumed == []


def test_sessions_do_not_nest():
    ruleset = adapter.register(RULES)
    with adapter.Session(ruleset, record([])):
        with pytest.raises(EngineError, match="do not nest"):
            with adapter.Session(ruleset, record([])):
                pass
    fired: list = []
    with adapter.Session(ruleset, record(fired)) as session:
        session.assert_facts([{"t": "x", "n": 2}])
    assert len(fired) == 1


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
    import json

    ruleset = adapter.register(RULES)
    sent: list[dict] = []
    real = adapter._engine.assert_facts

    def spy(handle, facts):
        sent.extend(json.loads(facts))
        return real(handle, facts)

    monkeypatch.setattr(adapter._engine, "assert_facts", spy)
    with adapter.Session(ruleset, record([])) as session:
        session.assert_facts([{"t": "x", "n": n} for n in range(50)])
    ids = [fact["id"] for fact in sent]
    assert len(ids) == 50 and len(set(ids)) == 50
    assert all(f["n"] == n for n, f in enumerate(sent))


def test_engine_refusals_are_engine_errors(monkeypatch):
    def refuse(handle, facts):
        raise adapter._engine.error("Could not assert facts, error code: 304")

    monkeypatch.setattr(adapter._engine, "assert_facts", refuse)
    with pytest.raises(EngineError, match="error code: 304"):
        with adapter.Session(adapter.register(RULES), record([])) as session:
            session.assert_facts([{"t": "x", "n": 2}])


class _Unloadable(importlib.abc.MetaPathFinder):
    """Makes ``import durable_rules_engine`` fail as the extension does when it cannot load."""

    def __init__(self, message: str) -> None:
        self.message = message

    def find_spec(self, name, path, target=None):
        if name == "durable_rules_engine":
            raise ImportError(self.message)
        return None


def _import_adapter_afresh(monkeypatch, message: str) -> None:
    monkeypatch.delitem(sys.modules, "durable_rules_engine", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_Unloadable(message), *sys.meta_path])
    spec = importlib.util.spec_from_file_location("hipcoach.reasoning.durable._adapter_afresh",
                                                  adapter.__file__)
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_durable_rules_built_without_the_313_fix_says_how_to_rebuild_it(monkeypatch):
    unfixed = ("/env/site-packages/durable_rules_engine.cpython-313-x86_64-linux-gnu.so: "
               "undefined symbol: PyEval_CallObject")
    with pytest.raises(ImportError, match="compiled without the fix") as raised:
        _import_adapter_afresh(monkeypatch, unfixed)
    assert "python tools/build_durable.py && python -m pip install --force-reinstall" in str(raised.value)
    assert str(raised.value.__cause__) == unfixed
    # any other failure to import it is left as it is
    with pytest.raises(ImportError, match=r"^No module named 'durable_rules_engine'$"):
        _import_adapter_afresh(monkeypatch, "No module named 'durable_rules_engine'")
