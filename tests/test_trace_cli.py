"""``hipcoach plan --trace`` and the ``hipcoach trace ...`` commands, through click's CliRunner.

``result.stdout`` is what a command printed, ``result.stderr`` its error message (click 8.2+
keeps the two apart).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from clirunner import commands, failed, invoke, ok, one_line, words
from conftest import EXAMPLES
from hipcoach.cli import cli
from hipcoach.cli.trace_cli import trace as trace_group
from hipcoach.trace.tracefile import dump, read_traces, write_traces

DESK = EXAMPLES / "desk_runner.yaml"
ITB = EXAMPLES / "itb_trail_runner.yaml"
RED_FLAG = EXAMPLES / "red_flag.yaml"












def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def traced(tmp_path_factory) -> dict[str, Path]:
    """Trace files written by `plan --trace` for each persona."""
    folder = tmp_path_factory.mktemp("traces")
    files = {}
    for path in (DESK, ITB, RED_FLAG):
        target = folder / f"{path.stem}.jsonl"
        ok(invoke("plan", path, "--trace", target))
        files[path.stem] = target
    return files


@pytest.fixture
def batch(tmp_path, planner) -> Path:
    """A hand-built batch file of two respondents."""
    path = tmp_path / "batch.jsonl"
    write_traces(path, [planner.trace(load(DESK), respondent="alice"),
                        planner.trace(load(ITB), respondent="bob")])
    return path


# ------------------------------------------------------------------------------ plan --trace


def test_plan_trace_writes_one_json_line_and_still_prints_the_plan(tmp_path):
    target = tmp_path / "t.jsonl"
    traced = ok(invoke("plan", DESK, "--trace", target))
    plain = ok(invoke("plan", DESK))
    assert traced.stdout == plain.stdout
    assert traced.stdout.startswith("Your hip plan: ")
    text = target.read_text(encoding="utf-8")
    assert text.endswith("\n") and text.count("\n") == 1
    assert json.loads(text)["status"] == "plan"


def test_plan_trace_with_json_format_prints_the_traced_plan(tmp_path):
    target = tmp_path / "t.jsonl"
    result = ok(invoke("plan", ITB, "--trace", target, "--format", "json"))
    (record,) = read_traces(target)
    assert json.loads(result.stdout) == record["plan"]


def test_plan_trace_file_round_trips_through_read_traces(traced, planner):
    (record,) = list(read_traces(traced["desk_runner"]))
    expected = planner.trace(load(DESK))
    assert record == expected
    assert traced["desk_runner"].read_text(encoding="utf-8") == dump(expected)
    assert record["respondent"] is None


def test_plan_trace_honours_minutes_override(tmp_path):
    target = tmp_path / "t.jsonl"
    ok(invoke("plan", DESK, "--minutes", "10", "--trace", target))
    (record,) = read_traces(target)
    assert record["answers"]["minutes"] == 10
    assert record["plan"]["budget_minutes"] == 10


def test_plan_trace_of_a_referral(traced):
    (record,) = read_traces(traced["red_flag"])
    assert record["status"] == "refer"
    assert not any(e["event"] == "select" for e in record["events"])


def test_plan_trace_into_a_missing_folder_is_a_one_line_error(tmp_path):
    target = tmp_path / "no" / "such" / "t.jsonl"
    message = failed(invoke("plan", DESK, "--trace", target), 1)
    assert str(target) in message
    one_line(invoke("plan", DESK, "--trace", target))


def test_plan_trace_is_overwritten_not_appended(tmp_path):
    target = tmp_path / "t.jsonl"
    ok(invoke("plan", DESK, "--trace", target))
    ok(invoke("plan", ITB, "--trace", target))
    records = list(read_traces(target))
    assert len(records) == 1 and records[0]["answers"]["knee_pain"] == "outside"


# ------------------------------------------------------------------------------ help


def test_trace_group_is_registered_with_help():
    assert "trace" in commands(cli)
    result = ok(invoke("trace", "--help"))
    assert words(trace_group.help) in words(result.stdout)
    for name in trace_group.commands:
        assert f"  {name} " in result.stdout


def test_trace_has_the_five_subcommands():
    assert set(trace_group.commands) == {"show", "how", "why-not", "graph", "coverage"}


@pytest.mark.parametrize("name", sorted(trace_group.commands))
def test_every_trace_subcommand_has_help(name):
    command = trace_group.commands[name]
    assert (command.help or "").strip()
    result = ok(invoke("trace", name, "--help"))
    assert result.stdout.startswith(f"Usage: hipcoach trace {name} ")
    assert words(command.help) in words(result.stdout)


def test_plan_help_mentions_trace():
    assert "--trace" in ok(invoke("plan", "--help")).stdout


# ------------------------------------------------------------------------------ trace show


def test_show_text_lists_every_event(traced):
    result = ok(invoke("trace", "show", traced["desk_runner"]))
    (record,) = read_traces(traced["desk_runner"])
    lines = result.stdout.splitlines()
    n = len(record["events"])
    assert lines[0] == f"{n} of {n} events (status: plan)"
    seq_lines = [line for line in lines[1:] if not line.startswith("     ")]
    assert [int(line.split()[0]) for line in seq_lines] == list(range(1, n + 1))


def test_show_text_filtered_by_rule(traced):
    result = ok(invoke("trace", "show", traced["desk_runner"], "--rule", "cause.*"))
    lines = result.stdout.splitlines()
    assert lines[0].startswith("18 of ")
    heads = [line for line in lines[1:] if " fire " in line]
    assert len(heads) == 18 and all(line.split()[3].startswith("cause.") for line in heads)


def test_show_json_filtered_by_rule(traced):
    events = json.loads(ok(invoke("trace", "show", traced["desk_runner"], "--rule", "cause.*",
                                  "--format", "json")).stdout)
    assert len(events) == 18
    assert all(e["event"] == "fire" and e["rule"].startswith("cause.") for e in events)


def test_show_filtered_by_rule_prefix(traced):
    events = json.loads(ok(invoke("trace", "show", traced["red_flag"], "--rule", "triage",
                                  "--format", "json")).stdout)
    assert [e["rule"] for e in events] == ["triage.swelling", "triage.locking_or_giving_way"]
    text = ok(invoke("trace", "show", traced["red_flag"], "--rule", "triage")).stdout
    assert text.splitlines()[0].endswith("events (status: refer)")
    assert "=> refer swelling" in text


def test_show_filtered_by_layer(traced):
    events = json.loads(ok(invoke("trace", "show", traced["desk_runner"], "--layer", "symptoms",
                                  "--format", "json")).stdout)
    assert events and all(e["layer"] == "symptoms" for e in events)
    assert {e["event"] for e in events} == {"fire", "assert"}
    text = ok(invoke("trace", "show", traced["desk_runner"], "--layer", "symptoms")).stdout
    assert text.splitlines()[0].startswith(f"{len(events)} of ")


def test_show_rejects_an_unknown_layer(traced):
    result = invoke("trace", "show", traced["desk_runner"], "--layer", "nonsense")
    assert result.exit_code == 2
    assert "nonsense" in result.stderr


def test_show_filtered_by_fact(traced):
    events = json.loads(ok(invoke("trace", "show", traced["desk_runner"], "--fact", "runners_knee",
                                  "--format", "json")).stdout)
    assert events
    assert all("runners_knee" in json.dumps(e) for e in events)
    assert any(e["event"] == "assert" for e in events)
    text = ok(invoke("trace", "show", traced["desk_runner"], "--fact", "runners_knee")).stdout
    assert "symptom runners_knee" in text
    assert "cause.overuse.recent_load_increase" not in text


def test_show_filters_combine(traced):
    events = json.loads(ok(invoke("trace", "show", traced["desk_runner"], "--rule", "cause.*",
                                  "--fact", "runners_knee", "--format", "json")).stdout)
    assert [e["rule"] for e in events] == [
        "cause.weak_glutes.runners_knee", "cause.weak_quads.runners_knee",
        "cause.tight_hip_flexors.runners_knee",
        "cause.poor_mechanics.knee_and_squat"]


def test_show_filter_that_matches_nothing(traced):
    result = ok(invoke("trace", "show", traced["desk_runner"], "--rule", "nope"))
    assert result.stdout.splitlines()[0].startswith("0 of ")
    assert len(result.stdout.splitlines()) == 1
    assert json.loads(ok(invoke("trace", "show", traced["desk_runner"], "--rule", "nope",
                                "--format", "json")).stdout) == []


# ------------------------------------------------------------------------------ --respondent


def test_show_picks_a_respondent_in_a_batch(batch):
    result = ok(invoke("trace", "show", batch, "--respondent", "bob", "--fact", "itbs"))
    assert " for bob " in result.stdout.splitlines()[0]
    assert "symptom itbs" in result.stdout


def test_batch_without_respondent_is_an_error_listing_them(batch):
    message = failed(invoke("trace", "show", batch), 1)
    assert "holds 2 traces" in message and "--respondent" in message
    assert "alice, bob" in message


def test_unknown_respondent_is_an_error_listing_them(batch):
    message = failed(invoke("trace", "show", batch, "--respondent", "carol"), 1)
    assert "'carol'" in message and "alice, bob" in message


@pytest.mark.parametrize("command", [["how", "weak_glutes"], ["why-not", "clamshell"], ["graph"]])
def test_every_single_trace_command_takes_a_respondent(batch, command):
    failed(invoke("trace", command[0], batch, *command[1:]), 1)
    ok(invoke("trace", command[0], batch, *command[1:], "--respondent", "alice"))


def test_how_uses_the_chosen_respondents_plan(batch):
    bob = ok(invoke("trace", "how", batch, "itbs", "--respondent", "bob")).stdout
    assert bob.startswith("symptom ")
    message = failed(invoke("trace", "how", batch, "itbs", "--respondent", "alice"), 1)
    assert "'itbs'" in message


# ------------------------------------------------------------------------------ trace how


def test_how_for_a_cause(traced):
    result = ok(invoke("trace", "how", traced["desk_runner"], "overuse"))
    lines = result.stdout.splitlines()
    assert lines[0] == "cause Overuse [overuse] (82%)"
    assert "  <- cause.overuse.recent_load_increase (adds 70%): " in result.stdout
    assert "     <- answer recent_load_increase = true" in lines
    assert sum("source: " in line for line in lines) == 2


def test_how_for_an_exercise(traced):
    result = ok(invoke("trace", "how", traced["desk_runner"], "clamshell"))
    lines = result.stdout.splitlines()
    assert lines[0] == "Clamshell [clamshell] (96%)"
    assert "  chosen by plan.require.hip_strength_for_kneecap: " in result.stdout
    assert lines[-1] == "  scheduled strength_days by schedule.strength_days"
    assert any(line.strip() == "<- answer knee_pain = front" for line in lines)


def test_how_for_a_referral_reason(traced):
    result = ok(invoke("trace", "how", traced["red_flag"], "swelling"))
    assert result.stdout.startswith("referral swelling <- triage.swelling: ")
    assert "<- answer red_flags = swelling" in result.stdout


def test_how_unknown_conclusion_suggests_the_closest(traced):
    result = invoke("trace", "how", traced["desk_runner"], "overus")
    message = failed(result, 1)
    one_line(result)
    assert message == "'overus' is not a conclusion in this trace; did you mean overuse?"


def test_how_unknown_conclusion_without_a_close_match(traced):
    message = failed(invoke("trace", "how", traced["desk_runner"], "zzzzzz"), 1)
    assert message == "'zzzzzz' is not a conclusion in this trace"


def test_how_of_a_dropped_exercise_is_not_a_conclusion(traced):
    message = failed(invoke("trace", "how", traced["desk_runner"], "chair_pose_squats"), 1)
    assert message.startswith("'chair_pose_squats' is not a conclusion in this trace")


# ------------------------------------------------------------------------------ trace why-not


def test_why_not_text_for_an_excluded_exercise(traced):
    result = ok(invoke("trace", "why-not", traced["desk_runner"], "chair_pose_squats"))
    lines = result.stdout.splitlines()
    assert lines[0] == "chair_pose_squats: caution"
    assert lines[1].startswith("  - excluded by exclude.ruled_out_demand as a caution: it makes "
                               "the demand deep_knee_flexion, which rule_out.kneecap_pain")
    # a caution is not lifted by equipment or time, and more pain is never offered as a way in
    assert "No change of equipment or time brings it into the plan." in lines
    assert not any("pain_level" in line for line in lines[2:])


def test_why_not_names_every_exclusion_that_fired(traced):
    result = ok(invoke("trace", "why-not", traced["desk_runner"], "doorway_hip_flexor_stretch"))
    lines = result.stdout.splitlines()
    assert lines[0] == "doorway_hip_flexor_stretch: equipment"
    assert lines[2].startswith("  - it would also be excluded by exclude.ruled_out_demand")


def test_why_not_text_with_changes_that_bring_it_in(tmp_path):
    answers = tmp_path / "knees_fine.json"
    answers.write_text(json.dumps({**load(DESK), "knee_pain": "none"}), encoding="utf-8")
    trace = tmp_path / "t.jsonl"
    ok(invoke("plan", answers, "--trace", trace))
    result = ok(invoke("trace", "why-not", trace, "doorway_hip_flexor_stretch"))
    lines = result.stdout.splitlines()
    assert lines[0] == "doorway_hip_flexor_stretch: equipment"
    assert "Changes you could make that bring it into the plan (each checked by re-planning):" in lines
    assert '  * equipment: ["foam_roller", "mat"] -> ["foam_roller", "mat", "doorway"]' in lines


def test_why_not_json_for_an_excluded_exercise(traced, planner):
    result = ok(invoke("trace", "why-not", traced["desk_runner"], "chair_pose_squats",
                       "--format", "json"))
    data = json.loads(result.stdout)
    assert data["exercise"] == "chair_pose_squats" and data["kind"] == "caution"
    assert data["changes"] == []
    (record,) = read_traces(traced["desk_runner"])
    for lift in data["lifts"]:  # each really ends the exclusion
        plan = planner.plan({**record["answers"], **lift["answers"]})
        drop = next(d for d in plan["dropped"] if d["exercise"] == "chair_pose_squats")
        assert drop["kind"] not in ("equipment", "caution")


def test_why_not_for_an_exercise_in_the_plan(traced):
    result = ok(invoke("trace", "why-not", traced["desk_runner"], "clamshell"))
    assert result.stdout.splitlines() == [
        "clamshell: in plan", "  - clamshell is in the plan; `trace how` shows why"]


def test_why_not_in_a_referral(traced):
    result = ok(invoke("trace", "why-not", traced["red_flag"], "side_plank"))
    lines = result.stdout.splitlines()
    assert lines[0] == "side_plank: referral"
    assert len(lines) == 3 and all("referred to a clinician" in line for line in lines[1:])


def test_why_not_unknown_exercise_is_an_error(traced):
    result = invoke("trace", "why-not", traced["desk_runner"], "clamshel")
    message = failed(result, 1)
    one_line(result)
    assert message.startswith("'clamshel' is not an exercise")
    assert message.endswith("did you mean clamshell?")


def test_why_not_with_edited_rules(tmp_path, data_copy):
    _, rules = data_copy
    path = rules / "candidates.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for rule in doc["rules"]:
        if "propose" in rule["then"]:
            rule["then"]["propose"] = [x for x in rule["then"]["propose"] if x != "clamshell"]
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    trace_file = tmp_path / "edited.jsonl"
    ok(invoke("plan", DESK, "--rules", rules, "--trace", trace_file))
    data = json.loads(ok(invoke("trace", "why-not", trace_file, "clamshell", "--rules", rules,
                                "--format", "json")).stdout)
    assert data["kind"] == "not_proposed"


# ------------------------------------------------------------------------------ trace graph


def test_graph_dot_by_default(traced):
    result = ok(invoke("trace", "graph", traced["desk_runner"]))
    assert result.stdout.startswith("digraph hipcoach {\n")
    assert result.stdout.endswith("}\n")
    assert "exercise_clamshell" in result.stdout


def test_graph_dot_parses(traced):
    pydot = pytest.importorskip("pydot")
    text = ok(invoke("trace", "graph", traced["itb_trail_runner"], "--format", "dot")).stdout
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        (graph,) = pydot.graph_from_dot_data(text)
    assert graph.get_edges()


def test_graph_mermaid(traced):
    result = ok(invoke("trace", "graph", traced["desk_runner"], "--format", "mermaid"))
    lines = result.stdout.splitlines()
    assert lines[0] == "flowchart LR"
    assert '  answer_knee_pain_front -->|"symptom.runners_knee.front_knee_pain (0.8)"| ' \
           'symptom_runners_knee' in lines


def test_graph_of_a_referral(traced):
    text = ok(invoke("trace", "graph", traced["red_flag"], "--format", "mermaid")).stdout
    assert '  referral_swelling{{"swelling"}}' in text.splitlines()


def test_graph_rejects_an_unknown_format(traced):
    result = invoke("trace", "graph", traced["desk_runner"], "--format", "svg")
    assert result.exit_code == 2 and "svg" in result.stderr


# ------------------------------------------------------------------------------ trace coverage


@pytest.fixture
def coverage_batch(tmp_path, planner) -> Path:
    path = tmp_path / "cov.jsonl"
    write_traces(path, [planner.trace(load(p), respondent=p.stem) for p in (DESK, ITB, RED_FLAG)])
    return path


def test_coverage_text(coverage_batch, rulebase):
    result = ok(invoke("trace", "coverage", coverage_batch))
    lines = result.stdout.splitlines()
    assert lines[0] == "3 traces (plan: 2, refer: 1)"
    assert lines[1].split() == ["rule", "firings", "traces"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:2 + len(rulebase.rules)]}
    assert list(rows) == [rule.id for rule in rulebase.rules]
    assert rows["plan.require.strength"] == ["3", "3"]
    assert rows["triage.swelling"] == ["1", "1"]
    assert rows["triage.severe_pain"] == ["0", "0"]
    assert any(line.startswith("never fired (") and "triage.severe_pain" in line for line in lines)
    assert any(line.startswith("never chosen (") for line in lines)


def test_coverage_json(coverage_batch, planner):
    data = json.loads(ok(invoke("trace", "coverage", coverage_batch, "--format", "json")).stdout)
    assert data["traces"] == 3 and data["status"] == {"plan": 2, "refer": 1}
    records = list(read_traces(coverage_batch))
    for row in data["rules"]:
        firings = sum(1 for r in records for e in r["events"]
                      if e["event"] == "fire" and e["rule"] == row["rule"])
        assert row["fired"] == firings, row["rule"]
    chosen = {i["exercise"] for r in records for i in r["plan"]["items"]}
    assert data["never_chosen"] == [ex for ex in planner.kb.exercises if ex not in chosen]
    assert data["unknown_rules"] == []


def test_coverage_of_a_non_trace_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_text('{"knee_pain": "front"}\n', encoding="utf-8")
    result = invoke("trace", "coverage", path)
    message = failed(result, 1)
    one_line(result)
    assert message.startswith(f"{path}:1: not a hipcoach trace")


# ------------------------------------------------------------------------------ bad files


@pytest.mark.parametrize("command", [["show"], ["how", "overuse"], ["why-not", "clamshell"],
                                     ["graph"], ["coverage"]])
def test_an_answers_yaml_is_a_one_line_error_naming_the_line(command):
    result = invoke("trace", command[0], DESK, *command[1:])
    message = failed(result, 1)
    one_line(result)
    assert message.startswith(f"{DESK}:1: not a JSON trace line")


def test_a_bad_line_later_in_a_trace_file_is_named(tmp_path, traced):
    path = tmp_path / "bad.jsonl"
    path.write_text(traced["desk_runner"].read_text(encoding="utf-8") + "[1]\n", encoding="utf-8")
    message = failed(invoke("trace", "coverage", path), 1)
    assert message.startswith(f"{path}:2: not a hipcoach trace")


@pytest.mark.parametrize("command", [["show"], ["how", "overuse"], ["why-not", "clamshell"],
                                     ["graph"], ["coverage"]])
def test_a_missing_trace_file_is_bad_input_not_a_usage_error(tmp_path, command):
    path = tmp_path / "absent.jsonl"
    result = invoke("trace", command[0], path, *command[1:])
    assert failed(result, 1) == f"{path}: file not found"
    one_line(result)


def test_an_empty_trace_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("", encoding="utf-8")
    message = failed(invoke("trace", "show", path), 1)
    assert message == f"{path}: holds no traces"
