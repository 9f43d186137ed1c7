"""``hipcoach kb check`` and ``hipcoach kb show``, driven through click's CliRunner."""

from __future__ import annotations

import json

import click
import pytest

from clirunner import failed, invoke, ok, words
from hipcoach.cli.kb_cli import kb as kb_group
from test_knowledge import drop_key, edit
from test_rulefile import set_when

SEVERE = "triage.severe_pain"


# ------------------------------------------------------------------------------------ check

def test_check_passes_on_the_bundled_data(kb, rulebase):
    result = ok(invoke("kb", "check"))
    *cautions, last = result.stdout.splitlines()
    assert last.startswith(f"knowledge base and rules OK: {len(kb.symptoms)} symptoms, "
                           f"{len(kb.causes)} causes, {len(kb.exercises)} exercises, "
                           f"{len(rulebase.rules)} rules")
    assert all(", caution] " in line for line in cautions)  # listed, and the check passes
    assert last.endswith(f"; {len(cautions)} caution(s) to look at" if cautions else " rules")


def test_check_fails_naming_a_planted_defect(data_copy):
    knowledge, rules = data_copy
    edit(rules / "triage.yaml", set_when(SEVERE, {"answer": {"pain_level": {"gte": 11}}}))
    result = invoke("kb", "check", "--kb", knowledge, "--rules", rules)
    assert result.exit_code == 1, result.output
    *found, last = [line for line in result.stdout.splitlines() if ", caution] " not in line]
    assert found == [
        f"{rules / 'triage.yaml'}: {SEVERE}: [never_fires] can never fire: no allowed answer has "
        f"pain_level gte 11 (allowed: 0 to 10)"]
    assert last.startswith("1 problem(s) found")


def test_check_reports_a_load_error_as_a_finding(data_copy):
    knowledge, rules = data_copy
    edit(knowledge / "exercises.yaml", drop_key("exercises", "toy_soldiers", "source"))
    result = invoke("kb", "check", "--kb", knowledge, "--rules", rules)
    assert result.exit_code == 1, result.output
    first, last = result.stdout.splitlines()
    assert first.startswith(f"{knowledge / 'exercises.yaml'}: 'toy_soldiers' (exercises[")
    assert first.endswith(": [load] missing required key 'source'")
    assert last == "1 problem(s) found"


# ------------------------------------------------------------------------------------- show

def test_show_summary_lists_counts_and_every_id_with_its_name(kb, rulebase):
    out = ok(invoke("kb", "show")).stdout
    assert out.splitlines()[0].startswith(f"{len(kb.symptoms)} symptoms, {len(kb.causes)} causes")
    for group in (kb.symptoms, kb.causes, kb.exercises):
        for ident, entry in group.items():
            assert any(line.split()[:1] == [ident] and entry.name in line
                       for line in out.splitlines()), ident
    for heading in ("Symptoms", "Causes", "Exercises", "Sources", "Questions", "Rules"):
        assert f"\n{heading} (" in out
    listed = {line.split()[0] for line in out.split("\nRules (")[1].splitlines()[1:]}
    assert listed == set(rulebase.by_id())


def test_show_an_exercise(kb):
    out = ok(invoke("kb", "show", "toy_soldiers")).stdout
    lines = out.splitlines()
    assert lines[0] == "exercise toy_soldiers"
    assert f"  name: {kb.exercises['toy_soldiers'].name}" in lines
    assert "  category: dynamic" in lines
    assert "  when: before_run" in lines
    mentioned = lines[lines.index("  mentioned_by:") + 1:]
    assert "    - candidate.maintenance" in mentioned
    # cautions are its movement demands, which rule_out rules rule out by name
    assert "  demands: ballistic, single_leg_unsupported, single_leg_stance" in lines
    assert "    - candidate.weak_glutes.strength" not in mentioned


def test_show_a_rule():
    out = ok(invoke("kb", "show", "cause.weak_glutes.itbs")).stdout
    lines = out.splitlines()
    assert lines[0] == "rule cause.weak_glutes.itbs"
    assert "  when: symptom name eq itbs" in lines
    assert "  then: cause weak_glutes" in lines
    assert "  cf: 0.7" in lines


def test_show_unknown_id_fails_naming_it_with_a_hint():
    message = failed(invoke("kb", "show", "nonsense"), 1)
    assert message == "no entry has id 'nonsense'; run `hipcoach kb show` to list every id"


def test_show_misspelt_id_suggests_close_matches():
    message = failed(invoke("kb", "show", "toy_soldier"), 1)
    assert message == "no entry has id 'toy_soldier'; did you mean toy_soldiers?"


def test_show_id_of_another_kind_than_asked_fails():
    message = failed(invoke("kb", "show", "toy_soldiers", "--kind", "cause"), 1)
    assert message.startswith("no cause has id 'toy_soldiers'")


def test_show_id_shared_by_two_kinds_shows_the_first_and_names_the_other():
    result = ok(invoke("kb", "show", "low_back"))
    assert result.stdout.startswith("symptom low_back\n")
    assert "use --kind question" in result.stderr
    result = ok(invoke("kb", "show", "low_back", "--kind", "question"))
    assert result.stdout.startswith("question low_back\n")
    assert "symptom.low_back.tight" in result.stdout


def test_show_json_whole_knowledge_base(kb, rulebase):
    result = ok(invoke("kb", "show", "--format", "json"))
    data = json.loads(result.stdout)
    assert list(data) == ["symptoms", "causes", "exercises", "rules"]
    assert [e["id"] for e in data["symptoms"]] == list(kb.symptoms)
    assert [e["id"] for e in data["causes"]] == list(kb.causes)
    assert [e["id"] for e in data["exercises"]] == list(kb.exercises)
    assert [e["id"] for e in data["rules"]] == [r.id for r in rulebase.rules]
    assert "–" in result.stdout  # ensure_ascii off: names keep their dashes
    assert ok(invoke("kb", "show", "--format", "json")).stdout == result.stdout


def test_show_json_rule_in_the_shape_of_its_file():
    data = json.loads(ok(invoke("kb", "show", "exclude.missing_equipment", "--format", "json")).stdout)
    assert data["kind"] == "rule" and data["layer"] == "candidates"
    assert data["then"] == {"exclude": "cand.exercise"}
    assert data["when"][1] == {"fact": "requires", "alias": "need", "negated": False,
                               "tests": [{"field": "exercise", "op": "ref", "value": "cand.exercise"}]}
    assert data["when"][2]["negated"] is True
    assert data["mentioned_by"] == []


def test_show_json_one_entry_with_kind_and_mentions(kb):
    data = json.loads(ok(invoke("kb", "show", "overuse", "--format", "json")).stdout)
    assert data["kind"] == "cause" and data["id"] == "overuse"
    assert data["name"] == kb.causes["overuse"].name
    assert data["mentioned_by"] == ["cause.overuse.recent_load_increase", "cause.overuse.high_volume",
                                    "cause.overuse.painful_running", "candidate.overuse.smr",
                                    "candidate.overuse.recovery_stretch"]


def test_show_on_broken_data_fails_with_one_line(data_copy):
    knowledge, rules = data_copy
    edit(knowledge / "exercises.yaml", drop_key("exercises", "toy_soldiers", "source"))
    message = failed(invoke("kb", "show", "--kb", knowledge, "--rules", rules), 1)
    assert "missing required key 'source'" in message


# ------------------------------------------------------------------------------------- help

@pytest.mark.parametrize("name", sorted(kb_group.commands))
def test_every_kb_command_has_help(name):
    command = kb_group.commands[name]
    assert (command.help or "").strip(), f"kb {name} has no help"
    result = ok(invoke("kb", name, "--help"))
    assert result.stdout.startswith(f"Usage: hipcoach kb {name} ")
    assert words(command.help) in words(result.stdout)
    for param in command.params:
        if isinstance(param, click.Option):
            assert (param.help or "").strip(), f"kb {name} {param.opts} has no help"


def test_kb_group_lists_check_and_show():
    out = ok(invoke("kb", "--help")).stdout
    assert set(kb_group.commands) == {"check", "show", "test"}
    assert "  check " in out and "  show " in out and "  test " in out
