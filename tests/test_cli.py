"""The ``hipcoach`` command line, driven through click's CliRunner.

Installed click is 8.2+: ``CliRunner`` always keeps the streams apart, so ``result.stdout`` is what
the program printed, ``result.stderr`` its prompts and error messages, and ``result.output`` both,
interleaved as a terminal would show them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import Result

from clirunner import commands, failed, invoke, ok, one_line, words
from conftest import EXAMPLES
from hipcoach.cli import cli
from hipcoach.kb.answers import should_ask

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
DESK = EXAMPLES / "desk_runner.yaml"
RED_FLAG = EXAMPLES / "red_flag.yaml"
ITEM_KEYS = {"exercise", "name", "category", "targets", "equipment", "dose", "minutes", "sides",
             "when", "because"}
PLAN_KEYS = {"status", "reasons", "symptoms", "causes", "items", "total_minutes", "dropped",
             "schedule"}








def plan_json(*args: Any, input: str | None = None) -> dict[str, Any]:
    return json.loads(ok(invoke("plan", *args, "--format", "json", input=input)).stdout)






def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def example(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------- version, help


def test_version_prints_the_package_version():
    result = ok(invoke("--version"))
    assert result.stdout.strip() == f"hipcoach, version {version('hipcoach')}"


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_group_help_lists_every_command(flag):
    result = ok(invoke(flag))
    assert result.stdout.startswith("Usage: ")
    assert result.stdout.startswith("Usage: hipcoach ")
    assert words(cli.help) in words(result.stdout)
    for name in commands(cli):
        assert f"  {name} " in result.stdout


def test_there_are_commands():
    assert {"plan", "ask"} <= set(commands(cli))


@pytest.mark.parametrize("name", sorted(commands(cli)))
def test_every_command_has_help(name):
    command = commands(cli)[name]
    assert (command.help or "").strip(), f"command {name!r} has no docstring/help"
    assert command.get_short_help_str().strip()
    result = ok(invoke(name, "--help"))
    assert result.stdout.startswith("Usage: ")
    assert result.stdout.startswith(f"Usage: hipcoach {name} ")
    assert words(command.help) in words(result.stdout)


def _with_options(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    """Every command at any depth that has options of its own (a group without options has
    nothing to check, and a test over it could not fail)."""
    found: dict[str, click.Command] = {}
    for name, command in commands(group).items():
        if isinstance(command, click.Group):
            found |= _with_options(command, f"{prefix}{name} ")
        if any(isinstance(p, click.Option) for p in command.params):
            found[prefix + name] = command
    return found


OPTIONED = _with_options(cli)


def test_the_option_help_check_reaches_subcommands():
    assert {"plan", "score", "trace why-not", "kb check", "mapping init"} <= set(OPTIONED)


@pytest.mark.parametrize("name", sorted(OPTIONED))
def test_every_option_has_help(name):
    missing = [p.opts for p in OPTIONED[name].params
               if isinstance(p, click.Option) and not (p.help or "").strip()]
    assert missing == [], f"{name}: options without help text"


# -------------------------------------------------------------------------------- plan: formats


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_plan_text_for_every_example(path):
    result = ok(invoke("plan", path))
    data = plan_json(path)
    if data["status"] == "plan":
        assert result.stdout.startswith(f"Your hip plan: {data['total_minutes']} of your "
                                        f"{data['budget_minutes']} minutes a day")
        for block in data["schedule"]:
            assert block["label"].upper() in result.stdout
        for item in data["items"]:
            assert f"  * {item['name']}: " in result.stdout
    else:
        assert result.stdout.startswith(data["referral"]["heading"] + "\n")


def test_desk_runner_text_has_the_schedule_headings():
    out = ok(invoke("plan", DESK)).stdout
    for heading in ("BEFORE EVERY RUN", "AFTER EVERY RUN", "STRENGTH DAYS"):
        assert heading in out
    assert out.index("BEFORE EVERY RUN") < out.index("AFTER EVERY RUN") < out.index("STRENGTH DAYS")


def test_plan_text_is_the_default_format():
    assert ok(invoke("plan", DESK)).stdout == ok(invoke("plan", DESK, "--format", "text")).stdout


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_plan_json_has_the_public_keys(path):
    data = plan_json(path)
    assert set(data) >= PLAN_KEYS
    assert data["status"] in ("plan", "refer")
    for item in data["items"]:
        assert set(item) >= ITEM_KEYS, sorted(ITEM_KEYS - set(item))
        assert item["because"], item["exercise"]
    assert data["total_minutes"] == pytest.approx(sum(item["minutes"] for item in data["items"]))
    scheduled = [ex for block in data["schedule"] for ex in block["exercises"]]
    assert sorted(scheduled) == sorted(item["exercise"] for item in data["items"])


def test_plan_json_for_a_planning_example_has_items():
    data = plan_json(DESK)
    assert data["status"] == "plan"
    assert data["items"]
    assert data["reasons"] == []
    assert 0 < data["total_minutes"] <= data["budget_minutes"] == example(DESK)["minutes"]


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_plan_markdown_starts_with_a_heading(path):
    out = ok(invoke("plan", path, "--format", "markdown")).stdout
    assert out.startswith("# ")
    assert "\n## " in out or plan_json(path)["status"] == "refer"


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_plan_explain_adds_the_derivation(path):
    plain = ok(invoke("plan", path)).stdout
    out = ok(invoke("plan", path, "--explain")).stdout
    body, footer = plain.rstrip("\n").rsplit("\n\n", 1)
    assert out.startswith(body) and out.endswith("\n\n" + footer + "\n")
    heading = "WHY A REFERRAL" if "refer" in path.stem or "red_flag" in path.stem else \
        "HOW THIS PLAN WAS DERIVED"
    assert heading in out and heading not in plain
    data = plan_json(path)
    rules = {support["rule"] for item in data["items"] for support in item["because"]}
    rules |= {reason["rule"] for reason in data["reasons"]}
    assert rules
    for rule in rules:
        assert rule in out
    assert "<- answer " in out


def test_explain_names_the_answers_behind_the_plan():
    out = ok(invoke("plan", DESK, "--explain")).stdout
    assert "<- answer knee_pain = front" in out
    assert "<- answer low_back = tight" in out
    assert "<- symptom.runners_knee.front_knee_pain" in out


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_plan_html_is_the_printable_handout(path, planner):
    from hipcoach.present.handout import plan_html
    from journals import LABELS

    result = ok(invoke("plan", path, "--format", "html"))
    assert result.stdout.startswith("<!DOCTYPE html>\n") and result.stdout.endswith("</html>\n")
    assert result.stdout == plan_html(planner.plan(example(path)), LABELS)
    data = plan_json(path)
    for item in data["items"]:
        assert f"<h3>{item['name']}</h3>" in result.stdout
    if data["status"] == "refer":
        assert data["referral"]["heading"] in result.stdout and 'class="box"' not in result.stdout
    else:
        assert result.stdout.count('<section class="week">') == 6


def test_plan_html_words_slots_and_categories_as_the_edited_files_do(data_copy):
    knowledge, rules = data_copy
    plan_file = rules / "plan.yaml"
    plan_file.write_text(plan_file.read_text(encoding="utf-8").replace(
        'label: "Before every run"', 'label: "Before each run, warmed up"'), encoding="utf-8")
    vocabulary = knowledge / "vocabulary.yaml"
    text = vocabulary.read_text(encoding="utf-8")
    assert "  smr: self-massage\n" in text
    vocabulary.write_text(text.replace("  smr: self-massage\n", "  smr: rolling and massage\n"),
                          encoding="utf-8")
    page = ok(invoke("plan", EXAMPLES / "desk_runner.yaml", "--format", "html", "--kb", knowledge,
                     "--rules", rules)).stdout
    assert "Before each run, warmed up" in page and "Before every run" not in page
    assert "rolling and massage" in page


def test_plan_html_ignores_brief_and_explain():
    whole = ok(invoke("plan", DESK, "--format", "html")).stdout
    assert ok(invoke("plan", DESK, "--format", "html", "--brief", "--explain")).stdout == whole
    assert "<- answer" not in whole


def test_plan_help_offers_the_html_handout():
    out = words(ok(invoke("plan", "--help")).stdout)
    assert "[text|json|markdown|html]" in out and "html is a printable handout" in out


def test_explain_with_json_is_still_plain_json():
    result = ok(invoke("plan", DESK, "--format", "json", "--explain"))
    assert json.loads(result.stdout) == plan_json(DESK)


def test_red_flag_example_refers_without_exercises():
    data = plan_json(RED_FLAG)
    assert data["status"] == "refer"
    assert data["items"] == [] and data["schedule"] == [] and data["total_minutes"] == 0
    assert {reason["id"] for reason in data["reasons"]} == set(example(RED_FLAG)["red_flags"])
    for reason in data["reasons"]:
        assert reason["message"].strip()


def test_red_flag_text_tells_the_runner_to_see_a_clinician():
    out = ok(invoke("plan", RED_FLAG)).stdout
    assert out.startswith("See a physiotherapist or doctor before you start\n")
    assert "physiotherapist, sports doctor or GP" in out
    for reason in plan_json(RED_FLAG)["reasons"]:
        assert f"  * {reason['message']}" in out
    assert "BEFORE EVERY RUN" not in out and "cue:" not in out


def test_red_flag_explain_names_the_red_flag_answers():
    out = ok(invoke("plan", RED_FLAG, "--explain")).stdout
    assert "<- answer red_flags = swelling" in out
    assert "<- answer red_flags = locking_or_giving_way" in out


# ------------------------------------------------------------------------------------------ stdin


def test_plan_reads_json_from_stdin():
    answers = example(DESK)
    assert plan_json("-", input=json.dumps(answers)) == plan_json(DESK)


def test_plan_reads_yaml_from_stdin():
    assert plan_json("-", input=DESK.read_text(encoding="utf-8")) == plan_json(DESK)


def test_plan_text_from_stdin():
    out = ok(invoke("plan", "-", input='{"knee_pain": "outside"}')).stdout
    assert out.startswith("Your hip plan: ")


def test_empty_stdin_names_stdin():
    message = failed(invoke("plan", "-", input=""), 1)
    assert "<stdin>" in message and "empty" in message


# ---------------------------------------------------------------------------------------- minutes


@pytest.mark.parametrize("minutes", [5, 10, 40, 90])
def test_minutes_option_overrides_the_answer(minutes):
    data = plan_json(DESK, "--minutes", minutes)
    assert data["budget_minutes"] == minutes
    assert data["total_minutes"] <= minutes


def test_minutes_option_changes_the_text_header():
    out = ok(invoke("plan", DESK, "--minutes", 12)).stdout
    assert out.splitlines()[0].startswith("Your hip plan: ")
    assert " of your 12 minutes a day" in out.splitlines()[0]


@pytest.mark.parametrize("minutes", [3, 4, 91, 0, -5])
def test_minutes_option_out_of_range_is_a_one_line_error(minutes):
    result = invoke("plan", DESK, "--minutes", minutes)
    message = failed(result, 1)
    one_line(result)
    assert "minutes" in message
    assert "5" in message and "90" in message


def test_minutes_option_must_be_an_integer():
    result = invoke("plan", DESK, "--minutes", "ten")
    failed(result, 2)
    assert "--minutes" in result.stderr


# ---------------------------------------------------------------------------------------- errors


def test_missing_file_is_bad_input_not_a_usage_error(tmp_path):
    result = invoke("plan", tmp_path / "nope.yaml")
    message = failed(result, 1)
    one_line(result)
    assert message == f"{tmp_path / 'nope.yaml'}: file not found"


def test_directory_instead_of_file_is_bad_input_not_a_usage_error(tmp_path):
    result = invoke("plan", tmp_path)
    assert failed(result, 1) == f"{tmp_path}: is a folder, not a file"
    one_line(result)


@pytest.mark.parametrize("text", ['{"knee_pain": "front"', "knee_pain: [front\n", "a: b: c\n"],
                         ids=["json", "yaml-flow", "yaml-mapping"])
def test_invalid_document_exits_1_naming_the_file(tmp_path, text):
    path = write(tmp_path / "broken.json", text)
    message = failed(invoke("plan", path), 1)
    assert str(path) in message
    assert "not valid JSON or YAML" in message


def test_invalid_document_message_is_one_line(tmp_path):
    result = invoke("plan", write(tmp_path / "broken.json", '{"knee_pain": "front"'))
    one_line(result)


@pytest.mark.parametrize("text, kind", [("- knee_pain\n- front\n", "list"),
                                        ('"front"\n', "str"), ("42\n", "int")])
def test_a_document_that_is_not_a_mapping_exits_1(tmp_path, text, kind):
    path = write(tmp_path / "answers.yaml", text)
    result = invoke("plan", path)
    message = failed(result, 1)
    one_line(result)
    assert str(path) in message
    assert "expected a mapping" in message and kind in message


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"], ids=["empty", "blank", "comment"])
def test_empty_file_exits_1(tmp_path, text):
    path = write(tmp_path / "answers.yaml", text)
    result = invoke("plan", path)
    message = failed(result, 1)
    one_line(result)
    assert str(path) in message and "empty" in message


def test_unknown_answer_key_exits_1_naming_the_key(tmp_path):
    result = invoke("plan", write(tmp_path / "a.yaml", "kne_pain: front\n"))
    message = failed(result, 1)
    one_line(result)
    assert "'kne_pain'" in message
    assert "unknown answer id" in message
    assert "knee_pain" in message  # the list of known ids helps spot the typo


@pytest.mark.parametrize("text, key, value", [("age: 200\n", "age", "200"),
                                              ("pain_level: 11\n", "pain_level", "11"),
                                              ("weekly_km: -1\n", "weekly_km", "-1"),
                                              ("minutes: 4\n", "minutes", "4")])
def test_out_of_range_value_exits_1_naming_key_and_value(tmp_path, text, key, value):
    result = invoke("plan", write(tmp_path / "a.yaml", text))
    message = failed(result, 1)
    one_line(result)
    assert f"'{key}'" in message and value in message
    assert "must be between" in message


def test_bad_choice_exits_1_listing_the_choices(tmp_path):
    result = invoke("plan", write(tmp_path / "a.yaml", "knee_pain: sideways\n"))
    message = failed(result, 1)
    one_line(result)
    assert "'knee_pain'" in message and "sideways" in message
    assert "none, front, outside, other" in message


def test_bad_multi_choice_exits_1_naming_the_item(tmp_path):
    result = invoke("plan", write(tmp_path / "a.yaml", "equipment: [foam_roller, kettlebell]\n"))
    message = failed(result, 1)
    one_line(result)
    assert "'equipment'" in message and "'kettlebell'" in message
    assert "foam_roller" in message


@pytest.mark.parametrize("text, key", [("age: thirty\n", "age"), ("age: 30.5\n", "age"),
                                       ("squat_difficulty: maybe\n", "squat_difficulty"),
                                       ("equipment: {a: 1}\n", "equipment")])
def test_wrongly_typed_value_exits_1(tmp_path, text, key):
    result = invoke("plan", write(tmp_path / "a.yaml", text))
    message = failed(result, 1)
    one_line(result)
    assert f"'{key}'" in message


@pytest.mark.parametrize("text", ["1: 2\n", "true: 1\n"])
def test_non_string_key_is_an_unknown_answer_id(tmp_path, text):
    result = invoke("plan", write(tmp_path / "a.yaml", text))
    message = failed(result, 1)
    assert "unknown answer id" in message


@pytest.mark.parametrize("text", ["age: inf\n", "age: .inf\n", '{"minutes": "-inf"}'])
def test_infinite_integer_answer_is_out_of_range(tmp_path, text):
    result = invoke("plan", write(tmp_path / "a.yaml", text))
    message = failed(result, 1)
    assert "must be between" in message


def test_infinite_number_answer_is_out_of_range(tmp_path):
    message = failed(invoke("plan", write(tmp_path / "a.yaml", "weekly_km: inf\n")), 1)
    assert "'weekly_km'" in message and "must be between" in message


def test_unknown_format_is_a_usage_error():
    result = invoke("plan", DESK, "--format", "xml")
    message = failed(result, 2)
    assert "--format" in message and "'xml'" in message


def test_kb_folder_must_exist(tmp_path):
    failed(invoke("plan", DESK, "--kb", tmp_path / "missing"), 2)


def _plant_category(knowledge: Path, category: str) -> tuple[Path, str]:
    """Give the first exercise ``category``; return the file and that exercise's id."""
    path = knowledge / "exercises.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    first = data["exercises"][0]
    first["category"] = category
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, first["id"]


def test_kb_with_a_planted_defect_names_the_file_and_entry(data_copy):
    knowledge, _ = data_copy
    path, entry = _plant_category(knowledge, "yoga")
    result = invoke("plan", DESK, "--kb", knowledge)
    message = failed(result, 1)
    one_line(result)
    assert str(path) in message
    assert entry in message
    assert "'yoga'" in message and "category" in message


def test_kb_copy_without_defects_gives_the_same_plan(data_copy):
    knowledge, rules = data_copy
    assert plan_json(DESK, "--kb", knowledge, "--rules", rules) == plan_json(DESK)


def test_rules_with_a_broken_rule_names_the_file_and_rule(data_copy):
    _, rules = data_copy
    path = rules / "symptoms.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    first = data["rules"][0]
    first["then"] = {"symptom": "no_such_symptom"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = invoke("plan", DESK, "--rules", rules)
    message = failed(result, 1)
    one_line(result)
    assert str(path) in message
    assert first["id"] in message and "no_such_symptom" in message


def test_rules_with_invalid_yaml_exits_1_naming_the_file(data_copy):
    _, rules = data_copy
    path = rules / "symptoms.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  - [\n", encoding="utf-8")
    message = failed(invoke("plan", DESK, "--rules", rules), 1)
    assert str(path) in message and "not valid YAML" in message


def test_rules_with_invalid_yaml_is_one_line(data_copy):
    _, rules = data_copy
    path = rules / "symptoms.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  - [\n", encoding="utf-8")
    one_line(invoke("plan", DESK, "--rules", rules))


def test_errors_go_to_stderr_not_stdout(tmp_path):
    result = invoke("plan", write(tmp_path / "a.yaml", "age: 200\n"))
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")


# ---------------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("fmt", ["json", "text", "markdown", "html"])
@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_same_answers_give_byte_identical_output(path, fmt):
    first = ok(invoke("plan", path, "--format", fmt, "--explain")).stdout_bytes
    second = ok(invoke("plan", path, "--format", fmt, "--explain")).stdout_bytes
    assert first == second


@pytest.mark.parametrize("fmt", ["json", "text"])
@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_json_and_yaml_answers_give_identical_plans(tmp_path, path, fmt):
    as_json = write(tmp_path / "answers.json", json.dumps(example(path), indent=1))
    assert ok(invoke("plan", as_json, "--format", fmt)).stdout == \
        ok(invoke("plan", path, "--format", fmt)).stdout


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_key_order_in_the_answers_does_not_matter(tmp_path, path):
    answers = example(path)
    reordered = dict(reversed(list(answers.items())))
    assert list(reordered) != list(answers)
    other = write(tmp_path / "reordered.yaml", yaml.safe_dump(reordered, sort_keys=False))
    assert ok(invoke("plan", other, "--format", "json")).stdout == \
        ok(invoke("plan", path, "--format", "json")).stdout


def test_equivalent_spellings_give_identical_plans(tmp_path):
    """Text forms a spreadsheet would write normalise to the same answers."""
    canonical = write(tmp_path / "a.json", json.dumps(
        {"age": 40, "squat_difficulty": True, "equipment": ["foam_roller", "mat"]}))
    spelled = write(tmp_path / "b.yaml",
                    'age: "40"\nsquat_difficulty: "yes"\nequipment: "mat; foam_roller"\n')
    assert plan_json(spelled) == plan_json(canonical)


# ------------------------------------------------------------------------------------------ ask


def ask_script(kb, values: Mapping[str, Any] | None = None,
               typed: Mapping[str, list[str]] | None = None) -> tuple[str, list[str]]:
    """The lines to type into ``hipcoach ask``, walking the questionnaire as the command does.

    ``values`` are the answers to give (canonical values; anything not named is Enter, the
    default); ``typed`` overrides the lines typed for a question (e.g. an invalid line, then a
    valid one). Returns the input text and the ids of the questions that will be asked.
    """
    values = dict(values or {})
    typed = dict(typed or {})
    lines: list[str] = []
    asked: list[str] = []
    state: dict[str, Any] = {}
    for question in kb.questions.values():
        if not should_ask(question, state):
            continue
        asked.append(question.id)
        value = values.get(question.id, question.default)
        state[question.id] = value
        if question.id in typed:
            lines.extend(typed[question.id])
        elif question.id not in values:
            lines.append("")
        elif isinstance(value, bool):
            lines.append("yes" if value else "no")
        elif isinstance(value, list):
            lines.append(", ".join(value))
        else:
            lines.append(str(value))
    return "\n".join(lines) + "\n", asked


def ask(kb, *args: Any, values=None, typed=None) -> Result:
    text, _ = ask_script(kb, values, typed)
    return invoke("ask", *args, input=text)


def number_of(kb, question_id: str, value: str) -> str:
    return str(kb.questions[question_id].values.index(value) + 1)


def test_ask_with_every_default_gives_the_default_plan(kb):
    result = ok(ask(kb, "--format", "json"))
    assert json.loads(result.stdout) == plan_json("-", input="{}")


def test_ask_prints_a_text_plan_by_default(kb):
    result = ok(ask(kb))
    assert result.stdout.startswith("Your hip plan: ")
    assert "How old are you?" not in result.stdout  # prompts go to stderr


def test_ask_shows_every_question_that_applies(kb):
    text, asked = ask_script(kb)
    result = ok(invoke("ask", input=text))
    for question_id in asked:
        assert kb.questions[question_id].prompt in result.stderr


def test_ask_skips_pain_level_when_nothing_hurts(kb):
    prompt = kb.questions["pain_level"].prompt
    _, asked = ask_script(kb)
    assert "pain_level" not in asked
    result = ok(ask(kb))
    assert prompt not in result.output


def test_ask_asks_pain_level_when_the_knee_hurts(kb):
    prompt = kb.questions["pain_level"].prompt
    _, asked = ask_script(kb, {"knee_pain": "front", "pain_level": 6})
    assert "pain_level" in asked
    result = ok(ask(kb, "--format", "json", values={"knee_pain": "front", "pain_level": 6}))
    assert prompt in result.stderr
    assert json.loads(result.stdout) == plan_json("-", input='{"knee_pain": "front", "pain_level": 6}')


def test_ask_skips_load_increase_for_a_runner_not_running(kb, tmp_path):
    prompt = kb.questions["recent_load_increase"].prompt
    saved = tmp_path / "a.json"
    result = ok(ask(kb, "--save", saved, values={"weekly_km": 0}))
    assert prompt not in result.output
    assert json.loads(saved.read_text(encoding="utf-8"))["recent_load_increase"] is False


def test_ask_reprompts_after_text_for_a_number(kb, tmp_path):
    saved = tmp_path / "a.json"
    result = ok(ask(kb, "--save", saved, typed={"age": ["abc", "40"]}))
    assert "Error: must be a whole number between 12 and 100" in result.stderr
    assert result.stderr.count(kb.questions["age"].prompt) == 1  # same question, asked again
    assert json.loads(saved.read_text(encoding="utf-8"))["age"] == 40


def test_ask_reprompt_for_out_of_range_names_the_range(kb, tmp_path):
    saved = tmp_path / "a.json"
    result = ok(ask(kb, "--save", saved, typed={"age": ["5", "101", "40"]}))
    assert result.stderr.count("Error: must be between 12 and 100") == 2
    assert json.loads(saved.read_text(encoding="utf-8"))["age"] == 40


def test_ask_reprompt_for_a_bad_choice_lists_the_choices(kb, tmp_path):
    saved = tmp_path / "a.json"
    result = ok(ask(kb, "--save", saved, values={"knee_pain": "front"},
                    typed={"knee_pain": ["sideways", "9", "front"]}))
    assert result.stderr.count("Error: 'sideways' is not one of the choices: type one number "
                               "from 1 to 4") == 1
    assert result.stderr.count("Error: '9' is not one of the choices: type one number "
                               "from 1 to 4") == 1
    assert json.loads(saved.read_text(encoding="utf-8"))["knee_pain"] == "front"


def test_ask_reprompt_for_a_bad_yes_no(kb, tmp_path):
    saved = tmp_path / "a.json"
    result = ok(ask(kb, "--save", saved, values={"squat_difficulty": True},
                    typed={"squat_difficulty": ["perhaps", "y"]}))
    assert "Error: type yes or no" in result.stderr
    assert json.loads(saved.read_text(encoding="utf-8"))["squat_difficulty"] is True


@pytest.mark.parametrize("how", ["number", "value"])
def test_ask_takes_a_choice_by_number_or_value(kb, tmp_path, how):
    saved = tmp_path / "a.json"
    line = number_of(kb, "knee_pain", "outside") if how == "number" else "outside"
    ok(ask(kb, "--save", saved, values={"knee_pain": "outside"}, typed={"knee_pain": [line]}))
    assert json.loads(saved.read_text(encoding="utf-8"))["knee_pain"] == "outside"


def test_ask_takes_multi_answers_by_comma_separated_numbers(kb, tmp_path):
    saved = tmp_path / "a.json"
    wanted = ["foam_roller", "mat"]
    line = ",".join(number_of(kb, "equipment", value) for value in reversed(wanted))
    ok(ask(kb, "--save", saved, values={"equipment": wanted}, typed={"equipment": [line]}))
    assert json.loads(saved.read_text(encoding="utf-8"))["equipment"] == wanted


def test_ask_takes_multi_answers_by_mixed_numbers_and_values(kb, tmp_path):
    saved = tmp_path / "a.json"
    wanted = ["foam_roller", "ball"]
    line = f"ball, {number_of(kb, 'equipment', 'foam_roller')}"
    ok(ask(kb, "--save", saved, values={"equipment": wanted}, typed={"equipment": [line]}))
    assert json.loads(saved.read_text(encoding="utf-8"))["equipment"] == wanted


def test_ask_reprompt_for_a_bad_multi_item(kb, tmp_path):
    saved = tmp_path / "a.json"
    result = ok(ask(kb, "--save", saved, values={"equipment": ["mat"]},
                    typed={"equipment": ["mat, kettlebell", "mat"]}))
    assert ("Error: 'kettlebell' is not one of the choices: type numbers from 1 to 6"
            in result.stderr)
    assert json.loads(saved.read_text(encoding="utf-8"))["equipment"] == ["mat"]


def test_ask_save_writes_answers_that_plan_reproduces(kb, tmp_path):
    saved = tmp_path / "answers.json"
    values = {"knee_pain": "front", "pain_level": 4, "low_back": "tight",
              "squat_difficulty": True, "equipment": ["foam_roller", "mat"], "minutes": 25}
    result = ok(ask(kb, "--save", saved, "--format", "json", values=values))
    assert f"Answers saved to {saved}" in result.stderr
    stored = json.loads(saved.read_text(encoding="utf-8"))
    assert list(stored) == list(kb.questions)  # complete, in questionnaire order
    assert {key: stored[key] for key in values} == values
    assert plan_json(saved) == json.loads(result.stdout)
    assert ok(invoke("plan", saved, "--format", "json")).stdout == result.stdout


def test_ask_with_every_answer_of_an_example_matches_plan(kb, tmp_path):
    """Typing the desk runner's answers gives the same plan as the example file."""
    values = example(DESK)
    result = ok(ask(kb, "--format", "json", values=values))
    assert result.stdout == ok(invoke("plan", DESK, "--format", "json")).stdout


def test_ask_minutes_option_overrides_the_typed_answer(kb):
    data = json.loads(ok(ask(kb, "--format", "json", "--minutes", 10,
                             values={"minutes": 40})).stdout)
    assert data["budget_minutes"] == 10 and data["total_minutes"] <= 10


def test_ask_with_a_red_flag_refers(kb):
    flag = kb.questions["red_flags"].values[0]
    result = ok(ask(kb, "--format", "json", values={"red_flags": [flag]},
                    typed={"red_flags": [number_of(kb, "red_flags", flag)]}))
    data = json.loads(result.stdout)
    assert data["status"] == "refer"
    assert [reason["id"] for reason in data["reasons"]] == [flag]
    assert data["items"] == []


def test_ask_with_a_red_flag_text_says_see_a_clinician(kb):
    result = ok(ask(kb, values={"red_flags": ["swelling"]}))
    assert result.stdout.startswith("See a physiotherapist or doctor before you start\n")


def test_ask_save_to_an_impossible_path_is_a_one_line_error(kb, tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "a.json"
    result = ask(kb, "--save", target)
    assert result.exit_code == 1
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert f"Error: cannot save answers to {target}" in result.stderr
    assert result.stdout == ""


def test_ask_stopped_early_aborts_without_a_traceback():
    result = invoke("ask", input="40\n")  # input ends after the first question
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.endswith("\nStopped: nothing was saved and no plan was made.\n")
    assert "Aborted!" not in result.stderr
    assert result.stdout == ""


def test_ask_reprompts_after_infinity_for_an_integer(kb):
    result = ask(kb, typed={"age": ["inf", "40"]})
    assert result.exception is None, repr(result.exception)
    assert "Error: must be between 12 and 100" in result.stderr


def test_ask_stops_at_the_first_red_flag_and_shows_the_referral(kb):
    flag = number_of(kb, "red_flags", "bladder_or_bowel_change")
    result = ask(kb, typed={"red_flags": [flag]})
    ok(result)
    assert result.stdout.startswith("Emergency: go to an emergency department now\n")
    at, total = list(kb.questions).index("red_flags") + 1, len(kb.questions)
    assert f"Question {at} of {total}: {kb.questions['red_flags'].prompt}" in result.stderr
    assert f"Question {at + 1} of" not in result.stderr


def test_ask_stops_after_a_pain_level_that_refers(kb):
    values = {"knee_pain": "front", "pain_level": 9}
    result = ok(ask(kb, "--format", "json", values=values))
    assert json.loads(result.stdout)["reasons"][0]["id"] == "severe_pain"
    asked = [line for line in result.stderr.splitlines() if line.startswith("Question ")]
    assert asked[-1].endswith(kb.questions["pain_level"].prompt)


def test_ask_numbers_each_question_out_of_the_whole_questionnaire(kb):
    result = ok(ask(kb))
    total = len(kb.questions)
    assert f"Question 1 of {total}: {kb.questions['age'].prompt}" in result.stderr
    assert f"Question {total} of {total}: {kb.questions['minutes'].prompt}" in result.stderr


def test_ask_with_minutes_option_does_not_ask_for_minutes(kb):
    result = ok(ask(kb, "--minutes", 12, "--format", "json"))
    assert kb.questions["minutes"].prompt not in result.stderr
    assert f"of {len(kb.questions) - 1}: " in result.stderr
    assert json.loads(result.stdout)["budget_minutes"] == 12


@pytest.mark.parametrize("args", [("--minutes", 3), ("--minutes", 500)])
def test_ask_refuses_bad_minutes_before_the_first_question(args):
    result = invoke("ask", *args, input="40\n")
    message = failed(result, 1, "--minutes")
    assert "between 5 and 90" in message
    assert "Question 1" not in result.stderr


def test_ask_refuses_saving_to_a_folder_before_the_first_question(tmp_path):
    result = invoke("ask", "--save", tmp_path, input="40\n")
    assert result.exit_code == 2 and "is a directory" in result.stderr  # a usage error
    assert "Question 1" not in result.stderr


@pytest.mark.parametrize("line", ["FRONT", "Front", "around or behind the KNEECAP"])
def test_ask_takes_choices_in_any_case_by_value_or_label(kb, tmp_path, line):
    saved = tmp_path / "a.json"
    ok(ask(kb, "--save", saved, values={"knee_pain": "front"}, typed={"knee_pain": [line]}))
    assert json.loads(saved.read_text(encoding="utf-8"))["knee_pain"] == "front"


@pytest.mark.parametrize("line", ["1 6", "1,6", "1, 6", "6 1", "Foam_Roller mat"])
def test_ask_takes_multi_answers_separated_by_spaces_or_commas(kb, tmp_path, line):
    saved = tmp_path / "a.json"
    ok(ask(kb, "--save", saved, values={"equipment": ["foam_roller", "mat"]},
           typed={"equipment": [line]}))
    assert json.loads(saved.read_text(encoding="utf-8"))["equipment"] == ["foam_roller", "mat"]


def test_ask_interrupted_says_nothing_was_saved(kb, tmp_path, monkeypatch):
    import hipcoach.cli.plan_cli as cli_module

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise click.Abort()  # what click.prompt raises on Ctrl-C

    monkeypatch.setattr(cli_module, "_prompt", interrupted)
    saved = tmp_path / "a.json"
    result = invoke("ask", "--save", saved)
    assert result.exit_code == 1 and not saved.exists()
    assert result.stderr.strip().splitlines() == ["Stopped: nothing was saved and no plan was made."]


def test_an_alias_bomb_is_one_line_not_a_crash(tmp_path):
    """A 300-byte "billion laughs" answers file once took gigabytes and ended in a traceback."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    path = write(tmp_path / "bomb.yaml", "\n".join(lines) + "\nequipment: *a8\n")
    result = invoke("plan", path)
    message = failed(result, 1, str(path), "aliases expanded")
    one_line(result)
    assert len(message) < 200


def test_a_huge_answer_value_is_shown_as_a_short_excerpt(tmp_path):
    result = invoke("plan", write(tmp_path / "a.json", '{"knee_pain": "' + "x" * 100_000 + '"}'))
    message = failed(result, 1, "'knee_pain'", "must be one of")
    assert len(message) < 300


def test_plan_loads_only_what_planning_needs():
    """Start-up: `hipcoach plan` must not import batch scoring, traces or the knowledge-base
    tools (the root group loads a command's module only when it runs)."""
    code = ("import sys; from hipcoach.cli import cli\n"
            "try:\n    cli(['plan', sys.argv[1]], prog_name='hipcoach')\nexcept SystemExit:\n    pass\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('hipcoach.'))))")
    result = subprocess.run([sys.executable, "-c", code, str(DESK)], capture_output=True,
                            text=True, check=True)
    loaded = set(result.stdout.strip().splitlines()[-1].split())
    assert "hipcoach.cli.plan_cli" in loaded
    assert not {m for m in loaded if m.startswith(("hipcoach.batch", "hipcoach.trace",
                                                   "hipcoach.cli.kb_cli", "hipcoach.kb.checks"))}


def test_ask_save_is_whole_or_nothing(kb, tmp_path, monkeypatch):
    """A write that fails half-way leaves the old answers file as it was, never a 0-byte one."""
    saved = tmp_path / "a.json"
    saved.write_text('{"age": 40}\n', encoding="utf-8")
    import hipcoach.atomic as atomic

    def broken(path, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", broken)
    result = ask(kb, "--save", saved)
    assert result.exit_code == 1 and "cannot save answers" in result.stderr
    assert saved.read_text(encoding="utf-8") == '{"age": 40}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
