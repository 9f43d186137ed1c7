"""``hipcoach score`` and ``hipcoach mapping init``, driven through click's CliRunner (and once
through a pseudo-terminal, for the progress bar)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import forms
from clirunner import failed as failed_with
from clirunner import invoke, ok, one_line
from conftest import EXAMPLES, assume_args
from hipcoach.batch.mapping import load_mapping
from hipcoach.batch.survey import header, read_head
from hipcoach.trace.tracefile import read_traces

SURVEYS = EXAMPLES / "surveys"
LAYOUTS = ("plain", "google", "surveymonkey", "qualtrics")
OUTPUTS = ["datapackage.json", "errors.csv", "findings.csv", "plan_items.csv", "plans.csv",
           "summary.json"]








def words(text: str) -> str:
    return " ".join(text.split())


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def mapping_args(layout: str) -> list[Any]:
    return [] if layout == "plain" else ["--mapping", SURVEYS / f"{layout}_mapping.yaml"]


def table(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def plans(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


# --- help --------------------------------------------------------------------------------------

def test_the_new_commands_are_listed() -> None:
    text = ok(invoke("--help")).stdout
    assert "score" in text and "mapping" in text


@pytest.mark.parametrize("command,needles", [
    (["score"], ["Score every respondent of a survey export", "plans.csv", "plan_items.csv",
                 "errors.csv", "summary.json", "--mapping", "--format", "--jobs", "--dask ADDRESS",
                 "--dask-timeout", "--traces",
                 "--no-dedupe", "--quiet", "--encoding", "--assume", "--delimiter", "--sheet",
                 "qualtrics|surveymonkey|typeform|microsoft|google|limesurvey|redcap|kobo|jotform|plain",
                 "or - to print the plans table"]),
    (["mapping"], ["Survey mappings", "init"]),
    (["mapping", "init"], ["starter mapping", "every column", "--format", "--output",
                           "--encoding"]),
])
def test_every_new_command_has_help(command: list[str], needles: list[str]) -> None:
    text = words(ok(invoke(*command, "--help")).stdout)
    for needle in needles:
        assert needle in text, needle


def test_every_score_option_has_help_text() -> None:
    from hipcoach.cli.score_cli import init, score

    for command in (score, init):
        for param in command.params:
            if param.param_type_name == "option":
                assert getattr(param, "help", None), (command.name, param.name)


# --- writing a folder --------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layout_scores_from_the_command_line(tmp_path: Path, layout: str) -> None:
    out = tmp_path / "out"
    result = ok(invoke("score", SURVEYS / f"{layout}.csv", *mapping_args(layout), "-o", out))
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS
    assert result.stdout == ""
    # no progress bar without a terminal, but the one-line summary (after a warning naming any
    # answer added to the questionnaire since the shipped export was made)
    *warnings, summary = result.stderr.splitlines()
    assert summary == f"scored 6 of 6 rows (6 distinct answer profiles) into {out}"
    assert all(line.startswith("warning: no column for ") for line in warnings), warnings
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["format"] == layout


def test_the_layouts_agree_from_the_command_line(tmp_path: Path) -> None:
    tables = {}
    for layout in LAYOUTS:
        ok(invoke("score", SURVEYS / f"{layout}.csv", *mapping_args(layout), "--format", layout,
                  "-o", tmp_path / layout))
        tables[layout] = [{k: v for k, v in row.items() if k != "respondent_id"}
                          for row in plans(tmp_path / layout / "plans.csv")]
    assert tables["google"] == tables["plain"] == tables["surveymonkey"] == tables["qualtrics"]


def test_the_output_folder_is_created(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    ok(invoke("score", SURVEYS / "plain.csv", "-o", out, "-q"))
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS


def test_traces_file_and_trace_show_per_respondent(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok(invoke("score", SURVEYS / "google.csv", *mapping_args("google"), "--traces", "-o", out))
    traces = out / "traces.jsonl"
    records = list(read_traces(traces))
    assert [r["respondent"] for r in records] == [
        f"{n}@example.org" for n in ("ana", "ben", "cho", "dev", "eli", "fay")]
    assert len(traces.read_text(encoding="utf-8").splitlines()) == 6
    shown = ok(invoke("trace", "show", traces, "--respondent", "ben@example.org")).stdout
    assert "for ben@example.org (status: plan)" in shown
    referred = ok(invoke("trace", "show", traces, "--respondent", "cho@example.org")).stdout
    assert "(status: refer)" in referred
    failed(invoke("trace", "show", traces), "--respondent")


def test_traces_need_a_folder(tmp_path: Path) -> None:
    result = invoke("score", SURVEYS / "plain.csv", "--traces", "-o", "-")
    assert result.exit_code == 2
    assert "--traces needs an output folder" in result.stderr


def test_no_dedupe_and_jobs_change_nothing(tmp_path: Path) -> None:
    runs = {"default": [], "no-dedupe": ["--no-dedupe"], "jobs": ["--jobs", "2"]}
    for name, extra in runs.items():
        ok(invoke("score", SURVEYS / "qualtrics.csv", *mapping_args("qualtrics"), *extra, "-q",
                  "-o", tmp_path / name))
    for name in OUTPUTS:
        contents = {(tmp_path / run / name).read_bytes() for run in runs}
        assert len(contents) == 1, name


@pytest.mark.parametrize("jobs", ["0", "-1", "x"])
def test_jobs_must_be_a_positive_number(jobs: str) -> None:
    assert invoke("score", SURVEYS / "plain.csv", "--jobs", jobs, "-o", "-").exit_code == 2


def test_an_unknown_format_is_a_usage_error() -> None:
    result = invoke("score", SURVEYS / "plain.csv", "--format", "excel", "-o", "-")
    assert result.exit_code == 2 and "excel" in result.stderr


# --- stdout, --quiet, warnings -----------------------------------------------------------------

def test_dash_prints_the_plans_table_on_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = forms.plain_export(tmp_path / "plain.csv")
    ok(invoke("score", plain, "-o", tmp_path / "out", "-q"))
    monkeypatch.chdir(tmp_path)
    result = ok(invoke("score", plain, "-o", "-"))
    assert result.stdout == (tmp_path / "out" / "plans.csv").read_text(encoding="utf-8")
    assert result.stderr == "scored 6 of 6 rows (6 distinct answer profiles)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "plain.csv"]  # no '-' folder, no files


MESSY = ("respondent_id,knee_pain,notes,minutes,red_flags,pain_level\n"
         "r1,front,hi,20,,3\n"
         "r1,none,,20,,\n"
         "r2,none,,200,,\n"
         "r3,none,,20,,\n")


def test_quiet_prints_nothing_on_stderr(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", MESSY)
    assume = assume_args(MESSY.split("\n", 1)[0])
    result = ok(invoke("score", survey, *assume, "--format", "plain", "-q", "-o", tmp_path / "out"))
    assert result.stderr == "" and result.stdout == ""
    result = ok(invoke("score", survey, *assume, "--format", "plain", "--quiet", "-o", "-"))
    # the rejected row has no errors.csv to go to: it is reported, --quiet or not
    assert result.stderr == "rejected: row 4 (r2): minutes: minutes: '200' is not an answer: "\
                            "must be between 5 and 90\n"
    assert len(result.stdout.splitlines()) == 4


def test_extra_columns_rejections_and_duplicates_are_reported_once(tmp_path: Path, kb) -> None:  # type: ignore[no-untyped-def]
    survey = write(tmp_path / "s.csv", MESSY)
    out = tmp_path / "out"
    result = ok(invoke("score", survey, *assume_args(MESSY.split("\n", 1)[0]), "--format", "plain",
                       "-o", out))
    lines = result.stderr.splitlines()
    assert lines[0] == "warning: ignoring 1 column(s) the mapping does not use: notes"
    assert lines[1].startswith("warning: no column for 8 answer(s), so everyone gets the "
                               "default: weekly_km=20, squat_difficulty=false,")
    assert lines[2:] == [f"scored 3 of 4 rows, 1 rejected, 1 duplicate id(s), assuming age=35, "
                         f"hip_pain=none, low_back=none (2 distinct answer profiles) into {out}"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["extra_columns"] == ["notes"]
    assert summary["duplicate_ids"] == {"r1": [2, 3]}


@pytest.mark.slow
def test_a_progress_bar_on_a_terminal_only(tmp_path: Path) -> None:
    pty = pytest.importorskip("pty")
    code = "import sys; from hipcoach.cli import cli; sys.exit(cli(prog_name='hipcoach'))"

    def stderr_on_a_tty(*extra: str) -> str:
        try:
            master, slave = pty.openpty()
        except OSError as exc:  # no pseudo-terminals here
            pytest.skip(f"cannot open a pseudo-terminal: {exc}")
        try:
            done = subprocess.run([sys.executable, "-c", code, "score", str(SURVEYS / "plain.csv"),
                                   "-o", str(tmp_path / "out"), *extra], stderr=slave,
                                  stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=300)
        finally:
            os.close(slave)
        data = b""
        try:
            while chunk := os.read(master, 65536):
                data += chunk
        except OSError:  # EIO once the terminal's other end is closed and drained
            pass
        os.close(master)
        assert done.returncode == 0, data
        return data.decode("utf-8", "replace")

    shown = stderr_on_a_tty()
    assert "scoring" in shown and "100%" in shown
    assert "6 rows" in shown and "rows/s" in shown  # rows scored, with the rate
    assert "scored 6 of 6 rows" in shown
    assert stderr_on_a_tty("--quiet") == ""


# --- a file that can't be read at all: one clear error, exit 1 ---------------------------------

@pytest.mark.parametrize("data,needles", [
    (b"", ["s.csv", "is empty"]),
    (b"\n\r\n\n", ["s.csv", "is empty"]),
    (b"\x00\x00\x00\x01respondent_id\n", ["s.csv", "not a CSV file"]),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", ["s.csv", "not a CSV file (it holds binary data)"]),
    ("respondent_id,knee_pain\nZoé,front\n".encode("latin-1"), ["s.csv", "--encoding"]),
    (b"a,b,c\n1,2,3\n", ["cannot tell which tool exported", "pass --format"]),
])
def test_an_unreadable_survey(tmp_path: Path, data: bytes, needles: list[str]) -> None:
    survey = write(tmp_path / "s.csv", data)
    failed(invoke("score", survey, "-o", tmp_path / "out"), *needles)
    assert not (tmp_path / "out").exists()


def test_latin1_with_the_encoding_option(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,knee_pain,red_flags,pain_level\nZoé,front,,2\n"
                   .encode("latin-1"))
    result = ok(invoke("score", survey, *assume_args("respondent_id,knee_pain,red_flags,pain_level"),
                       "--encoding", "latin-1", "-o", "-", "-q"))
    assert result.stdout.splitlines()[1].startswith("Zoé,plan,")


def test_a_header_only_file_exits_1_saying_there_is_nothing_to_score(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,knee_pain,red_flags,pain_level\n")
    failed(invoke("score", survey, *assume_args("respondent_id,knee_pain,red_flags,pain_level"),
                  "-o", tmp_path / "out", "-q"),
           "scored 0 of 0 rows: the export holds no responses")
    assert json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["rows_in"] == 0


@pytest.mark.parametrize("layout", ["google", "surveymonkey", "qualtrics"])
def test_an_export_whose_options_differ_points_at_mapping_init(tmp_path: Path, layout: str) -> None:
    """The example forms ask for sitting hours in bands: without a mapping every row is
    rejected (exit 1 with one line, nothing scored from a default), and the hint says how to
    map them."""
    result = invoke("score", SURVEYS / f"{layout}.csv", "-o", tmp_path / "out")
    failed_with(result, 1, "scored 0 of 6 rows: every row was rejected; see errors.csv")
    assert "hint: 6 row(s) were rejected for column" in result.stderr
    assert "hipcoach mapping init" in result.stderr and "--mapping" in result.stderr
    assert len(table(tmp_path / "out" / "errors.csv")) == 6  # what to read is there


def test_a_mapping_whose_id_column_is_missing(tmp_path: Path) -> None:
    text = (SURVEYS / "qualtrics_mapping.yaml").read_text(encoding="utf-8")
    mapping = write(tmp_path / "m.yaml", text.replace('respondent_id: "ResponseId"',
                                                      'respondent_id: "Response ID"'))
    failed(invoke("score", SURVEYS / "qualtrics.csv", "--mapping", mapping, "-o",
                  tmp_path / "out"), "no respondent id column 'Response ID'")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("spec,problem", [
    ("answer: knee_size", "'answer' is 'knee_size'"),
    ('answer: knee_pain\n    values: {"Kneecap": kneecap}', "value 'Kneecap' maps to 'kneecap'"),
    ("answer: minutes\n    item: mat", "'item' 'mat' must be one of the choices of list answer"),
])
def test_a_bad_mapping_names_the_file_and_column(tmp_path: Path, spec: str, problem: str) -> None:
    mapping = write(tmp_path / "m.yaml", "respondent_id: Email address\ncolumns:\n"
                                         f'  "How old are you?":\n    {spec}\n')
    failed(invoke("score", SURVEYS / "google.csv", "--mapping", mapping, "-o", tmp_path / "o"),
           str(mapping), "column 'How old are you?'", problem)


def test_an_output_path_that_is_a_file(tmp_path: Path) -> None:
    target = write(tmp_path / "taken", "x")
    failed(invoke("score", forms.plain_export(tmp_path / "plain.csv"), "-o", target), "cannot write to")
    assert target.read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize("command", [["score", "-o", "-"], ["mapping", "init"]])
def test_an_unknown_encoding_is_one_clear_error(command: list[str]) -> None:
    result = invoke(*command, SURVEYS / "plain.csv", "--encoding", "utf8x")
    assert isinstance(result.exception, SystemExit) and result.exit_code in (1, 2)
    assert "utf8x" in result.stderr


# --- mapping init ------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_mapping_init_lists_every_column(layout: str, kb) -> None:  # type: ignore[no-untyped-def]
    result = ok(invoke("mapping", "init", SURVEYS / f"{layout}.csv"))
    data = yaml.safe_load(result.stdout)
    columns = header(read_head(SURVEYS / f"{layout}.csv", "utf-8-sig"), layout).columns
    assert data["format"] == layout  # detected
    assert sorted(list(data["columns"]) + list(data["ignore"])) == sorted(columns)
    if layout == "plain":
        assert data["respondent_id"] == "respondent_id"
    else:
        shipped = load_mapping(SURVEYS / f"{layout}_mapping.yaml", kb)
        assert data["respondent_id"] == shipped.respondent_id
    # every answer the export has a column for is guessed (an answer added since has none)
    fed = set(columns) & set(kb.questions) if layout == "plain" else {c.answer for c in shipped.columns}
    assert {spec["answer"] for spec in data["columns"].values()} == fed


def test_mapping_init_guesses_answers_from_the_question_text() -> None:
    data = yaml.safe_load(ok(invoke("mapping", "init", SURVEYS / "qualtrics.csv")).stdout)
    guessed = {name: spec["answer"] for name, spec in data["columns"].items()}
    assert guessed == {f"Q{i}": answer for i, answer in enumerate(
        ["age", "weekly_km", "red_flags", "knee_pain", "hip_pain", "low_back", "pain_level",
         "squat_difficulty", "getting_up_difficulty", "sitting_hours",
         "strength_sessions_per_week", "mobility_sessions_per_week", "recent_load_increase",
         "equipment", "minutes"], start=1)}
    assert data["columns"]["Q6"]["values"] == {"Fine, no problems": "none",
                                               "Tight or stiff": "tight",
                                               "Aching or painful": "pain"}


def test_mapping_init_writes_a_file_with_output(tmp_path: Path, kb) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "starter.yaml"
    result = ok(invoke("mapping", "init", forms.plain_export(tmp_path / "plain.csv"), "-o", target))
    assert result.stdout == "" and result.stderr == f"wrote {target}\n"
    mapping = load_mapping(target, kb)  # the plain starter loads as written
    assert mapping.layout == "plain" and mapping.respondent_id == "respondent_id"
    assert {c.name for c in mapping.columns} == set(kb.questions)


def test_mapping_init_honours_format(tmp_path: Path) -> None:
    export = (SURVEYS / "google.csv").read_text(encoding="utf-8").replace("Timestamp,", "When,", 1)
    survey = write(tmp_path / "s.csv", export)
    failed(invoke("mapping", "init", survey), "pass --format")
    data = yaml.safe_load(ok(invoke("mapping", "init", survey, "--format", "google")).stdout)
    assert data["format"] == "google" and data["columns"]["How old are you?"]["answer"] == "age"


def test_mapping_init_on_an_unreadable_file(tmp_path: Path) -> None:
    failed(invoke("mapping", "init", write(tmp_path / "s.csv", b"")), "is empty")


def test_the_plain_starter_scores_like_no_mapping(tmp_path: Path) -> None:
    starter = tmp_path / "starter.yaml"
    ok(invoke("mapping", "init", SURVEYS / "plain.csv", "-o", starter))
    ok(invoke("score", SURVEYS / "plain.csv", "-o", tmp_path / "a", "-q"))
    ok(invoke("score", SURVEYS / "plain.csv", "--mapping", starter, "-o", tmp_path / "b", "-q"))
    assert plans(tmp_path / "a" / "plans.csv") == plans(tmp_path / "b" / "plans.csv")


def failed(result, *needles: str) -> str:  # type: ignore[no-untyped-def]
    """A clean exit 1 with one 'Error: ...' line holding every needle; returns that line."""
    one_line(result)
    return "Error: " + failed_with(result, 1, *needles)


# --- mapping init writes what score accepts --------------------------------------------------

@pytest.mark.parametrize("name", [*(path.name for path in sorted(SURVEYS.glob("*.csv"))),
                                  "trailing_comma.csv"])
def test_mapping_init_writes_a_mapping_score_accepts(tmp_path: Path, name: str) -> None:
    """Every example export, and a header ending in a comma (an empty column, as a spreadsheet
    that once had another column writes): the starter mapping scores every row."""
    if name == "trailing_comma.csv":
        lines = (SURVEYS / "plain.csv").read_text(encoding="utf-8").splitlines()
        survey = write(tmp_path / name, "".join(line + ",\n" for line in lines))
    else:
        survey = SURVEYS / name
    mapping = tmp_path / "mapping.yaml"
    ok(invoke("mapping", "init", survey, "-o", mapping))
    out = tmp_path / "out"
    ok(invoke("score", survey, "--mapping", mapping, "-o", out, "-q"))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scored"] == summary["rows_in"] == 6


# --- missing is not a value ------------------------------------------------------------------

def test_a_blank_pain_level_for_a_runner_in_pain_rejects_the_row(tmp_path: Path) -> None:
    """pain_level is a triage answer: scored as 0, a runner at 9/10 would get exercises. Where
    the questionnaire's skip logic says it was not asked (no pain anywhere), the blank is right
    and takes the default. A blank pain site is a blank triage answer: rejected too."""
    survey = write(tmp_path / "s.csv",
                   "respondent_id,knee_pain,hip_pain,low_back,pain_level,red_flags,age,weekly_km\n"
                   "knee,front,none,none,,,30,20\nhip,none,back,none,,,30,20\n"
                   "back,none,none,pain,,,30,20\nfine,none,none,none,,,30,\n"
                   "said,front,none,none,9,,30,20\nblank_site,,,,,,30,20\n")
    out = tmp_path / "out"
    result = ok(invoke("score", survey, "-o", out))
    assert "scored 2 of 6 rows, 4 rejected" in result.stderr
    assert [row["respondent_id"] for row in table(out / "plans.csv")] == ["fine", "said"]
    errors = {row["respondent_id"]: row for row in table(out / "errors.csv")}
    assert set(errors) == {"knee", "hip", "back", "blank_site"}
    assert errors["blank_site"]["column"] == "knee_pain"
    assert errors["blank_site"]["problem"].startswith("knee_pain is blank: the triage rules need it")
    assert errors["knee"]["column"] == "pain_level"
    assert errors["knee"]["problem"].startswith(
        "pain_level is blank for a respondent whose knee_pain is front: the triage rules need it")
    assert "hip_pain is back" in errors["hip"]["problem"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["rejected_by_reason"] == {"a blank answer triage needs": 4}
    # the policy for other blanks: the default, counted per answer where it was asked
    assert summary["defaulted_rows"]["weekly_km"] == 1  # fine: asked of everyone
    assert summary["defaulted_rows"]["minutes"] == 2  # no column: both scored rows
    assert "pain_level" not in summary["defaulted_rows"]


def test_a_blank_pain_level_is_reported_with_o_dash_too(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,knee_pain,pain_level,red_flags\n"
                                       "a,front,,\nb,none,,\n")
    assume = assume_args("respondent_id,knee_pain,pain_level,red_flags")
    result = ok(invoke("score", survey, *assume, "-o", "-", "-q"))
    assert result.stderr.startswith("rejected: row 2 (a): pain_level: pain_level is blank")
    assert len(result.stdout.splitlines()) == 2  # the header and b


def test_an_assumed_answer_is_never_counted_as_defaulted(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,knee_pain,red_flags\na,none,\n")
    out = tmp_path / "out"
    others = assume_args("respondent_id,knee_pain,red_flags,pain_level")  # age, hip, back
    ok(invoke("score", survey, "--assume", "pain_level=0", *others, "-o", out, "-q"))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["assumed"] == {"pain_level": 0, "age": 35, "hip_pain": "none",
                                  "low_back": "none"}
    assert "pain_level" not in summary["defaulted_rows"] and summary["scored"] == 1


def test_every_row_rejected_exits_1_and_writes_the_errors(tmp_path: Path) -> None:
    survey = write(tmp_path / "s.csv", "respondent_id,knee_pain,pain_level,red_flags\n"
                                       "a,front,,\nb,sideways,3,\n")
    out = tmp_path / "out"
    failed(invoke("score", survey, *assume_args("respondent_id,knee_pain,pain_level,red_flags"),
                  "-o", out, "-q"),
           "scored 0 of 2 rows: every row was rejected; see errors.csv")
    assert len(table(out / "errors.csv")) == 2 and table(out / "plans.csv") == []


# --- worker processes ----------------------------------------------------------------------------

def varied(path: Path, count: int) -> Path:
    """``count`` respondents, nearly each a profile of its own: enough work for --jobs."""
    import random

    rng = random.Random(5)
    lines = ["respondent_id,age,weekly_km,sitting_hours,knee_pain,hip_pain,low_back,pain_level,"
             "red_flags,minutes"]
    for n in range(count):
        lines.append(f"r{n},{rng.randint(12, 100)},{rng.randint(0, 120)},{rng.randint(0, 24)},"
                     f"{rng.choice(['none', 'front', 'outside'])},{rng.choice(['none', 'outside'])},"
                     f"{rng.choice(['none', 'pain'])},{rng.randint(0, 7)},,{rng.randint(5, 90)}")
    return write(path, "\n".join(lines) + "\n")


def children(pid: int) -> set[int]:
    """The worker processes ``pid`` started (not multiprocessing's resource tracker)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        for child in map(int, text.split()):
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in command:
                found.add(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition: Any, seconds: float = 120.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def score_in_background(tmp_path: Path) -> tuple[subprocess.Popen[str], set[int]]:
    survey = varied(tmp_path / "varied.csv", 30_000)
    code = "import sys; from hipcoach.cli import cli; sys.exit(cli())"
    process = subprocess.Popen([sys.executable, "-c", code, "score", str(survey), "-o",
                                str(tmp_path / "out"), "--jobs", "2", "-q"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.DEVNULL)
    workers: set[int] = set()

    def started() -> bool:
        workers.update(children(process.pid))
        return len(workers) >= 2 or process.poll() is not None

    assert wait_for(started), "no worker processes started"
    assert process.poll() is None, process.communicate()
    return process, set(workers)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_dying_worker_ends_the_run_with_one_line(tmp_path: Path) -> None:
    """Before: a 42-line BrokenProcessPool traceback."""
    import signal

    process, workers = score_in_background(tmp_path)
    os.kill(min(workers), signal.SIGKILL)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr
    (line,) = stderr.strip().splitlines()
    assert line.startswith("Error: a worker process died while scoring")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_workers_do_not_outlive_a_killed_run(tmp_path: Path) -> None:
    import signal

    process, workers = score_in_background(tmp_path)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert wait_for(lambda: not any(alive(pid) for pid in workers)), "workers live on"
