"""hipcoach.formats: the typed plan and trace formats, and their JSON Schemas checked against
real output."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given

from clirunner import invoke, ok
from conftest import EXAMPLES
from hipcoach.formats import FORMATS, Journal, json_schema, problem
from test_properties import _PLANNER, SETTINGS, answers

PERSONAS = Path(__file__).resolve().parent / "personas"
RUNNERS = sorted(EXAMPLES.glob("*.yaml")) + sorted(PERSONAS.glob("*.json"))


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


VALIDATORS = {name: _validator(name) for name in FORMATS}


def validator(name: str) -> jsonschema.Draft202012Validator:
    return VALIDATORS[name]


def as_json(data: Any) -> Any:
    return json.loads(json.dumps(data))


@pytest.mark.parametrize("path", RUNNERS, ids=lambda p: p.stem)
def test_every_example_trace_and_plan_match_their_schemas(planner, path):
    record = as_json(planner.trace(yaml.safe_load(path.read_text(encoding="utf-8"))))
    validator("trace").validate(record)
    validator("plan").validate(record["plan"])


@SETTINGS
@given(answers())
@pytest.mark.slow
def test_any_trace_and_its_plan_match_their_schemas(raw):
    record = as_json(_PLANNER.trace(raw))
    validator("trace").validate(record)
    validator("plan").validate(record["plan"])


def test_the_schema_rejects_an_unknown_key_and_a_wrong_type(planner):
    plan = as_json(planner.plan({}))
    extra = copy.deepcopy(plan)
    extra["items"][0]["colour"] = "red"
    wrong = copy.deepcopy(plan)
    wrong["dropped"][0]["kind"] = "tired"
    missing = copy.deepcopy(plan)
    del missing["advice"]
    for bad in (extra, wrong, missing):
        with pytest.raises(jsonschema.ValidationError):
            validator("plan").validate(bad)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_schema_command_prints_the_schema(name):
    result = ok(invoke("schema", name))
    assert json.loads(result.stdout) == json_schema(name)


def test_schema_command_names_the_formats_on_a_bad_name():
    result = invoke("schema", "pizza")
    assert result.exit_code == 2 and "'plan'" in result.stderr


@pytest.mark.parametrize("survey", sorted((EXAMPLES / "surveys").glob("*.csv")), ids=lambda p: p.stem)
def test_every_example_survey_summary_matches_its_schema(tmp_path, survey):
    mapping = survey.with_name(f"{survey.stem}_mapping.yaml")
    args = ["score", survey, "-o", tmp_path, "--traces", "--quiet"]
    args += ["--mapping", mapping] if mapping.exists() else []
    ok(invoke(*args))
    validator("summary").validate(json.loads((tmp_path / "summary.json").read_text(encoding="utf-8")))
    for line in (tmp_path / "traces.jsonl").read_text(encoding="utf-8").splitlines():
        validator("trace").validate(json.loads(line))


def test_a_journal_and_a_checkin_match_their_schemas(programme):
    from hipcoach.programme.programme import Checkin

    journal = programme.start({"knee_pain": "front", "equipment": ["mat"]}, "2026-03-02", 6,
                              ("mon", "wed", "sat"))[1]
    journal, result, _ = programme.checkin(journal, Checkin("2026-03-08", 2, "same", 5, ("swelling",)))
    validator("journal").validate(json.loads(json.dumps(journal)))
    validator("checkin").validate(json.loads(json.dumps(result)))
    assert problem(journal, Journal) is None


@pytest.mark.parametrize(("value", "found"), [
    ({"checkin": 0}, "missing date, pain_during, next_morning, thirds_done"),
    ({"triage": 3, "urgency": "soon"}, "triage must be string"),
    ({"decision": "maybe"}, "must be one of refer, regress, hold, progress"),
])
def test_problem_says_where_a_value_breaks_its_format(value, found):
    from hipcoach.formats import ProgressPremise

    assert found in (problem(value, ProgressPremise) or "")


def test_problem_tells_integers_from_booleans_and_refuses_unknown_keys():
    from hipcoach.formats import JournalItem

    assert problem({"exercise": "x", "dose": "d", "step": 1, "paused": False}, JournalItem) is None
    assert problem({"exercise": "x", "dose": "d", "step": True, "paused": False}, JournalItem) == "step must be integer"
    assert "unknown extra" in problem({"exercise": "x", "dose": "d", "step": 1, "paused": False, "extra": 0}, JournalItem)
