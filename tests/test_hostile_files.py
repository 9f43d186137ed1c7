"""Hostile and broken input files, through the CLI: every command that reads a file answers a
bad one with exit 1 and one line naming the file (and the line, where it applies), never a
traceback, and writes its output whole or not at all."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clirunner import failed, invoke, ok, one_line
from conftest import EXAMPLES
from hipcoach import Planner
from hipcoach.batch.mapping import load_mapping
from hipcoach.cli import cli
from hipcoach.errors import HipcoachError
from hipcoach.kb.bundled import knowledge_dir, rules_dir
from hipcoach.kb.knowledge import FILES, load_knowledge
from hipcoach.kb.rulefile import LAYERS, load_rules
from hipcoach.trace.tracefile import dump, read_traces

DESK = EXAMPLES / "desk_runner.yaml"
PLAIN = EXAMPLES / "surveys" / "plain.csv"
#: Every trace command, with the arguments it needs after the trace file.
TRACE_COMMANDS = [["show"], ["how", "prolonged_sitting"], ["why-not", "clamshell"], ["graph"], ["coverage"]]


@pytest.fixture(scope="module")
def record(planner: Planner) -> dict[str, Any]:
    return planner.trace({"knee_pain": "front", "sitting_hours": 9, "low_back": "tight"})


def trace_command(command: list[str], path: Path) -> list[Any]:
    return ["trace", command[0], path, *command[1:]]


# ------------------------------------------------------------------------- trace files

@pytest.mark.parametrize("command", TRACE_COMMANDS)
def test_a_trace_that_is_not_utf8_names_file_and_line(tmp_path: Path, record: dict[str, Any],
                                                      command: list[str]) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(dump(record).encode() + b'{"respondent": "Zo\xeb"}\n')
    result = invoke(*trace_command(command, path))
    message = failed(result, 1)
    one_line(result)
    assert message.startswith(f"{path}:2: not UTF-8 text (byte 0xeb)")


@pytest.mark.parametrize("command", TRACE_COMMANDS)
@pytest.mark.parametrize("content, problem", [
    (b"\x00\x01\x02binary\n", ":1: not a JSON trace line"),
    (b"[" * 100_000 + b"\n", ":1: not a JSON trace line: nested too deep"),
    (b'{"respondent": ' + b"9" * 5000 + b"}\n", ":1: not a JSON trace line: Exceeds the limit"),
    (b'{"a": 1}\n', ":1: not a hipcoach trace (needs keys"),
])
def test_a_trace_that_is_not_json_lines_is_one_line(tmp_path: Path, command: list[str],
                                                     content: bytes, problem: str) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(content)
    result = invoke(*trace_command(command, path))
    message = failed(result, 1)
    one_line(result)
    assert message.startswith(f"{path}{problem}"), message


def _set(record: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(record))
    target = copy
    for step in path[:-1]:
        target = target[step]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copy


WRONG_SHAPES = [
    (["events"], {"a": 1}, "events must be a list"),
    (["events", 0], "fire", "events[0] must be an object"),
    (["events", 0, "event"], "explode", "events[0].event must be one of fire, assert, withhold, select, unmet, drop"),
    (["events", 0, "concludes"], KeyError, "events[0]: missing concludes"),
    (["events", 0, "matched", "x"], {"t": "answer"}, "events[0].matched.x names no answer"),
    (["events", 0, "seq"], "1", "events[0].seq must be integer"),
    (["plan"], [], "plan must be an object"),
    (["plan", "items"], None, "plan.items must be a list"),
    (["plan", "items", 0, "because", 0, "from"], [{"cause": "x"}],
     "plan.items[0].because[0].from[0]: missing confidence"),
    (["plan", "causes", 0, "because", 0, "from"], [{"cause": "x", "confidence": 1}],
     "from[0] must have the keys of one of: answer, value; requires, exercise; symptom, confidence"),
    (["plan", "causes", 0, "confidence"], True, "plan.causes[0].confidence must be number"),
    (["status"], 3, "status must be one of plan, refer"),
    (["answers"], [], "answers must be an object"),
    # what `hipcoach schema trace` refuses, the trace commands refuse
    (["plan", "status"], "maybe", "plan.status must be one of plan, refer"),
    (["plan", "items", 0, "dose"], KeyError, "plan.items[0]: missing dose"),
    (["plan", "items", 0, "because", 0, "from"], [{"item": "x", "category": "mobility"}],
     "from[0] must have the keys of one of: answer, value; requires, exercise; symptom, confidence; "
     "cause, confidence"),
    (["events", 0, "matched", "x"], {"t": "symptom", "name": "x"}, "events[0].matched.x is a symptom fact"),
    (["events", 0, "matched", "x"], {"t": "mood", "x": 1}, "events[0].matched.x has no known fact type"),
    (["provenance"], {}, "the top level: unknown provenance"),
]


@pytest.mark.parametrize("command", TRACE_COMMANDS)
@pytest.mark.parametrize("where, value, problem", WRONG_SHAPES,
                         ids=[".".join(map(str, w[0])) for w in WRONG_SHAPES])
def test_a_trace_of_the_wrong_shape_is_one_line_naming_what(tmp_path: Path, record: dict[str, Any],
                                                            command: list[str], where: list[Any],
                                                            value: Any, problem: str) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(dump(record) + dump(_set(record, where, value)), encoding="utf-8")
    result = invoke(*trace_command(command, path), *(["--respondent", "x"] if command != ["coverage"]
                                                     else []))
    message = failed(result, 1)
    one_line(result)
    assert message.startswith(f"{path}:2: not a hipcoach trace: "), message
    assert problem in message, message


@pytest.mark.parametrize("where, value, problem", [w for w in WRONG_SHAPES if "matched" not in w[0]],
                         ids=[".".join(map(str, w[0])) for w in WRONG_SHAPES if "matched" not in w[0]])
def test_the_published_trace_schema_refuses_each_wrong_shape_too(record: dict[str, Any], where: list[Any],
                                                                 value: Any, problem: str) -> None:
    """One definition: what the trace commands refuse, `hipcoach schema trace` refuses (the facts
    a firing matched are the encoding's, checked by reasoning.facts, and the schema leaves open)."""
    schema = json.loads(invoke("schema", "trace").output)
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(json.loads(json.dumps(record)))
    assert not validator.is_valid(_set(record, where, value))


def test_a_cycle_of_causes_in_a_crafted_trace_cannot_loop(tmp_path: Path, record: dict[str, Any]) -> None:
    cause = record["plan"]["causes"][0]
    looped = _set(record, ["plan", "causes", 0, "because", 0, "from"],
                  [{"cause": cause["id"], "confidence": 0.5}])
    path = tmp_path / "t.jsonl"
    path.write_text(dump(looped), encoding="utf-8")
    failed(invoke("trace", "how", path, cause["id"]), 1, "must have the keys of one of")


def test_why_not_on_a_trace_whose_answers_no_longer_fit_is_one_line(tmp_path: Path,
                                                                     record: dict[str, Any]) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(dump(_set(record, ["answers", "minutes"], 500)), encoding="utf-8")
    result = invoke("trace", "why-not", path, "clamshell")
    failed(result, 1, str(path), "the trace's answers cannot be planned again", "'minutes'")
    one_line(result)


def test_a_trace_file_that_is_a_folder(tmp_path: Path) -> None:
    for command in TRACE_COMMANDS:
        assert failed(invoke(*trace_command(command, tmp_path)), 1) == f"{tmp_path}: is a folder, not a file"


def test_a_good_trace_still_reads(tmp_path: Path, record: dict[str, Any]) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(dump(record), encoding="utf-8")
    for command in TRACE_COMMANDS:
        ok(invoke(*trace_command(command, path)))


# ---------------------------------------------------------------------- plan and score inputs

@pytest.mark.parametrize("args", [["plan", "{}"], ["score", "{}", "-o", "-"], ["mapping", "init", "{}"],
                                  ["score", str(PLAIN), "--mapping", "{}", "-o", "-"]])
@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_a_missing_input_or_a_folder_is_exit_1_and_one_line(tmp_path: Path, args: list[str],
                                                            kind: str) -> None:
    target = tmp_path / "absent.csv" if kind == "missing" else tmp_path
    result = invoke(*[str(target) if a == "{}" else a for a in args])
    problem = "file not found" if kind == "missing" else "is a folder, not a file"
    assert failed(result, 1) == f"{target}: {problem}"
    one_line(result)


# ---------------------------------------------------------------------- mapping init -o

def test_mapping_init_into_a_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "map.yaml"
    result = invoke("mapping", "init", PLAIN, "-o", target)
    assert failed(result, 1) == f"cannot write {target}: folder {target.parent} does not exist"
    one_line(result)


def test_mapping_init_under_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    target = blocker / "map.yaml"
    result = invoke("mapping", "init", PLAIN, "-o", target)
    assert failed(result, 1) == f"cannot write {target}: {blocker} is not a folder"
    assert blocker.read_text(encoding="utf-8") == "x"


def test_mapping_init_onto_a_folder(tmp_path: Path) -> None:
    result = invoke("mapping", "init", PLAIN, "-o", tmp_path)
    assert failed(result, 1) == f"cannot write {tmp_path}: it is a folder"


def test_mapping_init_into_a_read_only_folder_leaves_the_old_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run as root, which writes anywhere, so the refusal a read-only folder gives any
    other user is simulated where the file is created."""
    target = tmp_path / "map.yaml"
    target.write_text("old\n", encoding="utf-8")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    result = invoke("mapping", "init", PLAIN, "-o", target)
    assert failed(result, 1) == f"cannot write {target}: Permission denied"
    assert target.read_text(encoding="utf-8") == "old\n"


def test_mapping_init_written_whole_or_not_at_all(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "map.yaml"
    target.write_text("old\n", encoding="utf-8")

    def fail(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    failed(invoke("mapping", "init", PLAIN, "-o", target), 1, "No space left on device")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["map.yaml"]


def test_mapping_init_still_writes(tmp_path: Path) -> None:
    target = tmp_path / "map.yaml"
    ok(invoke("mapping", "init", PLAIN, "-o", target))
    assert "respondent_id" in target.read_text(encoding="utf-8")


# =============================================================================== properties
#
# Generated bytes, generated YAML and JSON documents, and bundled files with one part swapped for
# a generated value, thrown at every loader, directly and through the CLI: the answer is always
# a HipcoachError (the CLI: exit 1 and one short line), never a traceback.

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
#: An error line holds a path, a short excerpt and at most a list of allowed names.
LONGEST_ERROR = 1000

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=30), st.sampled_from(["front", "none", "mat", "yes", "", "-1",
                                                            "clamshell", "weak_glutes", "answer"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


@st.composite
def documents(draw: Any) -> bytes:
    """Bytes that are anything from noise to a well-formed YAML or JSON document."""
    kind = draw(st.sampled_from(["bytes", "text", "json", "yaml"]))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    if kind == "text":
        return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    value = draw(VALUES)
    text = json.dumps(value) if kind == "json" else yaml.safe_dump(value, allow_unicode=True)
    return text.encode("utf-8")


def swap(data: Any, draw: Any) -> Any:
    """``data`` with one node, picked at random, replaced by a generated value or removed."""
    if not isinstance(data, (dict, list)) or not data or draw(st.integers(0, 3)) == 0:
        return draw(VALUES)
    copy = list(data) if isinstance(data, list) else dict(data)
    key = draw(st.sampled_from(range(len(copy)) if isinstance(copy, list) else sorted(copy, key=str)))
    if draw(st.integers(0, 5)) == 0:
        del copy[key]
    else:
        copy[key] = swap(copy[key], draw)
    return copy


@st.composite
def swapped(draw: Any, original: Any) -> bytes:
    return yaml.safe_dump(swap(original, draw), allow_unicode=True).encode("utf-8")


def one_error_line(result: Any) -> None:
    """Success, or a deliberate failure: exit 1 and one short line, never a traceback."""
    if result.exit_code == 0:
        return
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert len(lines[0]) < LONGEST_ERROR, lines[0][:300]


def fuzz_dir(tmp_path_factory: Any, name: str) -> Path:
    return Path(tmp_path_factory.mktemp(name, numbered=True))


# --- answers -----------------------------------------------------------------------------

@FUZZ
@given(content=st.one_of(documents(), swapped({"knee_pain": "front", "equipment": ["mat"],
                                                "minutes": 20, "red_flags": []})))
def test_any_answers_file_plans_or_is_one_line(tmp_path_factory: Any, content: bytes) -> None:
    path = fuzz_dir(tmp_path_factory, "answers") / "answers.yaml"
    path.write_bytes(content)
    one_error_line(invoke("plan", path))


@FUZZ
@given(content=documents())
def test_any_answers_on_stdin_plans_or_is_one_line(content: bytes) -> None:
    one_error_line(CliRunner().invoke(cli, ["plan", "-"], input=content))


# --- mapping -----------------------------------------------------------------------------

MAPPING = yaml.safe_load((EXAMPLES / "surveys" / "google_mapping.yaml").read_text(encoding="utf-8"))


@FUZZ
@given(content=st.one_of(documents(), swapped(MAPPING)))
def test_any_mapping_loads_or_is_a_mapping_error(tmp_path_factory: Any, kb: Any, content: bytes) -> None:
    path = fuzz_dir(tmp_path_factory, "mapping") / "map.yaml"
    path.write_bytes(content)
    try:
        load_mapping(path, kb)
    except HipcoachError as exc:
        assert str(exc).startswith(str(path)) and len(str(exc)) < LONGEST_ERROR
    one_error_line(invoke("score", EXAMPLES / "surveys" / "google.csv", "--mapping", path, "-o", "-",
                          "-q"))


# --- knowledge and rules folders ---------------------------------------------------------

def _bundled(folder: Path, names: Any) -> dict[str, Any]:
    return {name: yaml.safe_load((folder / name).read_text(encoding="utf-8")) for name in names}


KNOWLEDGE = _bundled(knowledge_dir(), FILES)
RULES = _bundled(rules_dir(), [f"{layer}.yaml" for layer in LAYERS])


@st.composite
def data_folder(draw: Any, files: dict[str, Any]) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(files)))
    return name, draw(st.one_of(documents(), swapped(files[name]), swapped(files[name])))


@FUZZ
@given(change=data_folder(KNOWLEDGE))
@pytest.mark.slow
def test_any_knowledge_folder_loads_or_is_one_line(tmp_path_factory: Any, change: tuple[str, bytes]) -> None:
    folder = fuzz_dir(tmp_path_factory, "kb") / "knowledge"
    shutil.copytree(knowledge_dir(), folder)
    (folder / change[0]).write_bytes(change[1])
    try:
        load_rules(rules_dir(), load_knowledge(folder))
    except HipcoachError as exc:
        assert len(str(exc)) < LONGEST_ERROR
    one_error_line(invoke("plan", DESK, "--kb", folder))


@FUZZ
@given(change=data_folder(RULES))
@pytest.mark.slow
def test_any_rules_folder_loads_or_is_one_line(tmp_path_factory: Any, kb: Any,
                                               change: tuple[str, bytes]) -> None:
    folder = fuzz_dir(tmp_path_factory, "rules") / "rules"
    shutil.copytree(rules_dir(), folder)
    (folder / change[0]).write_bytes(change[1])
    try:
        load_rules(folder, kb)
    except HipcoachError as exc:
        assert len(str(exc)) < LONGEST_ERROR
    one_error_line(invoke("plan", DESK, "--rules", folder))


# --- trace files ---------------------------------------------------------------------------

_TRACE = Planner().trace({"knee_pain": "front", "sitting_hours": 9, "low_back": "tight",
                          "equipment": ["mat"]})


@FUZZ
@given(content=st.one_of(documents(), st.builds(lambda d: json.dumps(d).encode(), VALUES),
                         swapped(_TRACE).map(lambda b: json.dumps(yaml.safe_load(b)).encode()
                                             + b"\n")),
       command=st.sampled_from(TRACE_COMMANDS))
@pytest.mark.slow
def test_any_trace_file_reads_or_is_one_line(tmp_path_factory: Any, content: bytes,
                                             command: list[str]) -> None:
    path = fuzz_dir(tmp_path_factory, "trace") / "t.jsonl"
    path.write_bytes(content)
    try:
        list(read_traces(path))
    except HipcoachError as exc:
        assert str(exc).startswith(str(path)) and len(str(exc)) < LONGEST_ERROR
    one_error_line(invoke(*trace_command(command, path)))
