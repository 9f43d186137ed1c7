"""`hipcoach programme`: start, show, checkin and history as a runner uses them, and the errors a
runner can make, each one line with the journal untouched."""

from __future__ import annotations

import json

import pytest

from clirunner import commands, failed, invoke, ok
from conftest import EXAMPLES
from hipcoach.cli import cli

DESK = EXAMPLES / "desk_runner.yaml"


@pytest.fixture
def journal(tmp_path):
    path = tmp_path / "j.json"
    ok(invoke("programme", "start", DESK, "--journal", path, "--start", "2026-03-02"))
    return path


def test_every_programme_command_has_help():
    group = commands(cli)["programme"]
    names = set(commands(group))
    assert names == {"start", "show", "checkin", "history"}
    for name in names:
        result = ok(invoke("programme", name, "--help"))
        assert result.stdout.startswith(f"Usage: hipcoach programme {name} ")
    assert "hard" in ok(invoke("programme", "start", "--help")).stdout  # which run is the hard one


def test_start_writes_the_journal_and_prints_week_one(tmp_path):
    path = tmp_path / "j.json"
    result = ok(invoke("programme", "start", DESK, "--journal", path, "--start", "2026-03-02"))
    assert result.stdout.startswith("WEEK 1 OF 6: LOW LOAD AND CONTROL")
    assert "WEEK 2" not in result.stdout
    assert "Mon 02 Mar 2026" in result.stdout and "Clamshell" in result.stdout
    assert "Journal written to" in result.stderr
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data) == ["version", "provenance", "answers", "start", "weeks", "run_days",
                          "programme", "checkins", "replans"]


def test_start_options_shape_the_calendar(tmp_path):
    path = tmp_path / "j.json"
    ok(invoke("programme", "start", DESK, "--journal", path, "--start", "2026-03-04", "--weeks", "3",
              "--run-days", "tue,sun"))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["weeks"] == 3 and data["run_days"] == ["tue", "sun"] and data["start"] == "2026-03-04"
    assert len(data["programme"]) == 3


def test_a_red_flag_prints_the_referral_exits_1_and_writes_nothing(tmp_path):
    path = tmp_path / "j.json"
    result = invoke("programme", "start", EXAMPLES / "red_flag.yaml", "--journal", path,
                    "--start", "2026-03-02")
    assert result.exit_code == 1
    assert "See a physiotherapist or doctor" in result.stdout
    assert "Error: no programme started" in result.stderr
    assert not path.exists()


def test_start_refuses_an_existing_journal_unless_forced(journal):
    before = journal.read_bytes()
    failed(invoke("programme", "start", DESK, "--journal", journal, "--start", "2026-03-09"), 1,
           "exists", "--force")
    assert journal.read_bytes() == before
    ok(invoke("programme", "start", DESK, "--journal", journal, "--start", "2026-03-09", "--force"))
    assert json.loads(journal.read_text(encoding="utf-8"))["start"] == "2026-03-09"


@pytest.mark.parametrize(("args", "needle"), [
    (["--start", "2026-02-30"], "not a date: write YYYY-MM-DD"),
    (["--start", "yesterday"], "not a date: write YYYY-MM-DD"),
    (["--run-days", "mon,someday"], "not a day"),
])
def test_start_with_bad_values_is_one_error_and_no_journal(tmp_path, args, needle):
    path = tmp_path / "j.json"
    failed(invoke("programme", "start", DESK, "--journal", path, *args), 1, needle)
    assert not path.exists()


def test_start_with_missing_answers_is_bad_input(tmp_path):
    failed(invoke("programme", "start", tmp_path / "none.yaml", "--journal", tmp_path / "j.json",
                  "--start", "2026-03-02"), 1, "file not found")


def test_weeks_out_of_range_is_a_usage_error(tmp_path):
    result = invoke("programme", "start", DESK, "--journal", tmp_path / "j.json", "--weeks", "40")
    assert result.exit_code == 2


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_show_prints_every_week_or_one(journal, fmt):
    everything = ok(invoke("programme", "show", journal, "--format", fmt)).stdout
    third = ok(invoke("programme", "show", journal, "--week", "3", "--format", fmt)).stdout
    if fmt == "json":
        assert json.loads(everything) == json.loads(journal.read_text(encoding="utf-8"))
        assert json.loads(third)["week"] == 3
    else:
        heading = "## Week 3 of 6" if fmt == "markdown" else "WEEK 3 OF 6"
        assert heading in everything and heading in third
        assert ("Week 1 of 6" in third) is False and ("WEEK 1 OF 6" in third) is False


def test_show_as_a_calendar_file_has_an_event_per_day_of_hip_work(journal):
    icalendar = pytest.importorskip("icalendar")
    data = json.loads(journal.read_text(encoding="utf-8"))
    dated = {day["date"] for week in data["programme"] for day in week["days"]}
    text = ok(invoke("programme", "show", journal, "--format", "ics")).stdout
    events = [e for e in icalendar.Calendar.from_ical(text).walk("VEVENT")
              if not str(e["UID"]).startswith("checkin-")]
    assert sorted(e.decoded("DTSTART").isoformat() for e in events) == sorted(dated)
    week_two = {day["date"] for day in data["programme"][1]["days"]}
    text = ok(invoke("programme", "show", journal, "--week", "2", "--format", "ics")).stdout
    assert {e.decoded("DTSTART").isoformat() for e in icalendar.Calendar.from_ical(text)
            .walk("VEVENT") if not str(e["UID"]).startswith("checkin-")} == week_two


def test_show_as_a_handout_names_every_exercise_and_week(journal):
    data = json.loads(journal.read_text(encoding="utf-8"))
    page = ok(invoke("programme", "show", journal, "--format", "html")).stdout
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    names = {item["exercise"] for week in data["programme"] for day in week["days"]
             for item in day["items"]}
    from hipcoach.kb.bundled import knowledge_dir
    from hipcoach.kb.knowledge import load_knowledge

    kb = load_knowledge(knowledge_dir())
    for exercise in names:
        assert kb.exercises[exercise].name.replace("'", "&#39;") in page
    one = ok(invoke("programme", "show", journal, "--week", "4", "--format", "html")).stdout
    assert "Week 4" in one and "Week 5" not in one


def test_show_a_week_beyond_the_programme_is_one_error(journal):
    failed(invoke("programme", "show", journal, "--week", "7"), 1, "weeks 1 to 6")


def test_checkin_prints_the_decision_and_updates_the_journal(journal):
    result = ok(invoke("programme", "checkin", journal, "--pain-during", "2", "--next-morning", "same",
                       "--sessions", "5", "--date", "2026-03-08"))
    assert result.stdout.startswith("Decision: Move up one step")
    assert "Why:" in result.stdout and "progress.progress" not in result.stdout  # no rule ids
    data = json.loads(journal.read_text(encoding="utf-8"))
    assert [c["decision"] for c in data["checkins"]] == ["progress"]


def test_checkin_json_has_the_public_shape(journal):
    result = ok(invoke("programme", "checkin", journal, "--pain-during", "7", "--next-morning", "worse",
                       "--sessions", "5", "--date", "2026-03-08", "--format", "json"))
    data = json.loads(result.stdout)
    assert list(data) == ["decision", "urgency", "referral", "reasons", "items", "paused",
                          "resumed", "last", "because", "advice"]
    assert data["decision"] == "regress"
    assert all(set(m) == {"exercise", "from", "to"} for m in data["items"])
    assert {b["rule"] for b in data["because"]} >= {"progress.regress.pain",
                                                     "progress.regress.worse_next_morning"}


@pytest.mark.parametrize(("args", "needle"), [
    (["--pain-during", "11"], "pain is rated 0 to 10"),
    (["--sessions", "40"], "sessions were planned"),
    (["--red-flag", "toothache"], "not a red flag"),
    (["--date", "2026-02-01"], "the programme starts on 2026-03-02"),
    (["--date", "March"], "not a date: write YYYY-MM-DD"),
])
def test_a_contradictory_checkin_is_one_error_and_leaves_the_journal(journal, args, needle):
    before = journal.read_bytes()
    base = {"--pain-during": "2", "--sessions": "3", "--date": "2026-03-08"}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    flat = [part for pair in base.items() for part in pair]
    failed(invoke("programme", "checkin", journal, "--next-morning", "same", *flat), 1, needle)
    assert journal.read_bytes() == before


def test_a_checkin_before_the_last_is_refused(journal):
    ok(invoke("programme", "checkin", journal, "--pain-during", "2", "--next-morning", "same",
              "--sessions", "5", "--date", "2026-03-08"))
    before = journal.read_bytes()
    failed(invoke("programme", "checkin", journal, "--pain-during", "2", "--next-morning", "same",
                  "--sessions", "1", "--date", "2026-03-07"), 1, "the last check-in was on 2026-03-08")
    assert journal.read_bytes() == before


def test_a_missing_or_broken_journal_is_one_error(tmp_path):
    failed(invoke("programme", "show", tmp_path / "none.json"), 1, "file not found")
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 2}', encoding="utf-8")
    for command in (["show", bad], ["history", bad],
                    ["checkin", bad, "--pain-during", "1", "--next-morning", "same", "--sessions", "0"]):
        failed(invoke("programme", *command), 1, "not a hipcoach journal")


def test_history_lists_every_checkin_and_charts_the_pain(journal):
    assert "No check-ins yet" in ok(invoke("programme", "history", journal)).stdout
    for date, pain in (("2026-03-08", 2), ("2026-03-15", 4)):
        ok(invoke("programme", "checkin", journal, "--pain-during", pain, "--next-morning", "same",
                  "--sessions", "4", "--date", date))
    text = ok(invoke("programme", "history", journal)).stdout
    assert "2026-03-08  pain  2/10" in text and "Keep going as you are" in text
    assert "2026-03-15   4 |########" in text
    data = json.loads(ok(invoke("programme", "history", journal, "--format", "json")).stdout)
    assert data["pain"] == [{"date": "2026-03-08", "pain_during": 2}, {"date": "2026-03-15", "pain_during": 4}]
    assert [c["decision"] for c in data["checkins"]] == ["progress", "hold"]


def test_a_checkin_trace_works_with_the_trace_commands(journal, tmp_path):
    trace = tmp_path / "t.jsonl"
    ok(invoke("programme", "checkin", journal, "--pain-during", "1", "--next-morning", "better",
              "--sessions", "5", "--date", "2026-03-08", "--trace", trace))
    shown = ok(invoke("trace", "show", trace)).stdout
    assert "progress.progress.comfortable" in shown and "decide progress" in shown
    assert "decide progress" in ok(invoke("trace", "show", trace, "--layer", "progress")).stdout
    assert ok(invoke("trace", "coverage", trace)).stdout


def test_trace_how_explains_a_checkins_decisions_down_to_the_values(journal, tmp_path):
    trace = tmp_path / "t.jsonl"
    ok(invoke("programme", "checkin", journal, "--pain-during", "6", "--next-morning", "worse",
              "--sessions", "5", "--date", "2026-03-08", "--trace", trace))
    programme = ok(invoke("trace", "how", trace, "decision")).stdout
    assert programme.startswith("decision regress for the programme (Ease off one step)")
    assert "progress.regress.pain: Pain above 5/10" in programme
    assert "progress.regress.worse_next_morning" in programme
    assert "pain_during=6" in programme and "source: " in programme
    data = json.loads(journal.read_text(encoding="utf-8"))
    items = {item["exercise"] for week in data["programme"] for day in week["days"]
             for item in day["items"]}
    for exercise in items:
        lines = ok(invoke("trace", "how", trace, exercise)).stdout
        assert lines.startswith(f"{exercise}: ")
        if "not the programme's" in lines:  # an item rule decided for it alone
            assert f"step exercise={exercise}" in lines and "<- progress.item." in lines
        else:
            assert "regress, as the programme" in lines
    failed(invoke("trace", "how", trace, "no_such_thing"), 1, "not a decision in this check-in")


def test_the_journal_and_checkin_schemas_are_printed(journal):
    for name in ("journal", "checkin"):
        schema = json.loads(ok(invoke("schema", name)).stdout)
        assert schema["title"] == f"hipcoach {name}"


def test_coverage_of_checkin_traces_counts_the_progress_rules(journal, tmp_path):
    trace = tmp_path / "t.jsonl"
    ok(invoke("programme", "checkin", journal, "--pain-during", "1", "--next-morning", "better",
              "--sessions", "5", "--date", "2026-03-08", "--trace", trace))
    report = json.loads(ok(invoke("trace", "coverage", trace, "--format", "json")).stdout)
    fired = {row["rule"]: row["fired"] for row in report["rules"]}
    assert fired["progress.progress.comfortable"] == 1 and fired["progress.regress.pain"] == 0
    assert report["unknown_rules"] == []


def test_a_folder_as_journal_is_bad_input(tmp_path):
    for command in (["show"], ["history"]):
        failed(invoke("programme", *command, tmp_path), 1, "is a folder")


def test_a_start_at_the_end_of_time_is_one_error(tmp_path):
    failed(invoke("programme", "start", DESK, "--journal", tmp_path / "j.json", "--start", "9999-12-25"),
           1, "would end after the last date there is")


def test_start_reads_answers_from_stdin_and_a_repeated_red_flag_counts_once(tmp_path):
    path = tmp_path / "j.json"
    ok(invoke("programme", "start", "-", "--journal", path, "--start", "2026-03-02",
              input=DESK.read_text(encoding="utf-8")))
    ok(invoke("programme", "checkin", path, "--pain-during", "1", "--next-morning", "same",
              "--sessions", "1", "--date", "2026-03-03", "--red-flag", "swelling", "--red-flag", "swelling"))
    assert json.loads(path.read_text(encoding="utf-8"))["checkins"][0]["red_flags"] == ["swelling"]


# --------------------------------------------------------------------- safety at every check-in

CHECKIN = ("--next-morning", "same", "--sessions", "5", "--date", "2026-03-08")


@pytest.mark.parametrize(("flags", "heading"), [
    (["bladder_or_bowel_change"], "Emergency: go to an emergency department now"),
    (["fever_or_unwell", "swelling"], "See a doctor today"),
    (["pain_on_hopping_or_landing"], "See a doctor today"),
    (["swelling"], "Stop the programme and see a physiotherapist or doctor"),
])
def test_a_check_in_referral_reads_and_exits_as_a_plan_referral(journal, tmp_path, flags, heading):
    answers = tmp_path / "a.json"
    desk = json.loads(json.dumps(__import__("yaml").safe_load(DESK.read_text(encoding="utf-8"))))
    answers.write_text(json.dumps({**desk, "red_flags": flags, "pain_level": 1}), encoding="utf-8")
    plan = invoke("plan", answers)
    args = [a for flag in flags for a in ("--red-flag", flag)]
    result = invoke("programme", "checkin", journal, "--pain-during", "1", *CHECKIN, *args)
    assert result.exit_code == plan.exit_code == 0
    assert result.stdout.splitlines()[0] == heading
    reasons = [line for line in plan.stdout.splitlines() if line.startswith("  * ")]
    assert reasons and [line for line in result.stdout.splitlines()
                        if line.startswith("  * ")] == reasons  # the triage rules' own words
    assert "before you start" not in result.stdout and "before starting" not in result.stdout
    assert "programme" in result.stdout.splitlines()[-1]
    assert result.stderr == f"Check-in recorded in {journal}: the programme ends here\n"
    assert "_" not in result.stdout  # no engine ids
    data = json.loads(ok(invoke("programme", "history", journal, "--format", "json")).stdout)
    assert data["checkins"][-1]["decision"] == "refer"
    if "emergency" not in heading.lower():
        assert "emergency" not in result.stdout.lower()


def test_a_check_in_without_red_flags_says_nothing_about_them(journal):
    text = ok(invoke("programme", "checkin", journal, "--pain-during", "2", *CHECKIN)).stdout
    assert "red flag" not in text.lower() and "emergency" not in text.lower()


@pytest.mark.parametrize(("args", "needle"), [
    (["--pain-during", "11", *CHECKIN], "--pain-during 11: pain is rated 0 to 10"),
    (["--pain-during", "2", "--next-morning", "same", "--sessions", "99", "--date", "2026-03-08"],
     "--sessions 99: 5 sessions were planned"),
    (["--pain-during", "2", "--next-morning", "same", "--sessions", "1", "--date", "2026-04-13"],
     "--date 2026-04-13: the programme's last week ended on 2026-04-12; start the next programme "
     "with `hipcoach programme start"),
])
def test_check_in_errors_name_the_option(journal, args, needle):
    before = journal.read_bytes()
    failed(invoke("programme", "checkin", journal, *args), 1, needle)
    assert journal.read_bytes() == before


def edited(journal, change):
    data = json.loads(journal.read_text(encoding="utf-8"))
    change(data)
    journal.write_text(json.dumps(data), encoding="utf-8")


def test_a_journal_whose_answers_now_hold_a_red_flag_gives_the_referral(journal):
    edited(journal, lambda d: d["answers"].update(red_flags=["fever_or_unwell"]))
    before = journal.read_bytes()
    shown = ok(invoke("programme", "show", journal))
    assert shown.stdout.startswith("See a doctor today") and "Clamshell" not in shown.stdout
    checked = ok(invoke("programme", "checkin", journal, "--pain-during", "1", *CHECKIN))
    assert checked.stdout.startswith("See a doctor today") and "Decision" not in checked.stdout
    assert journal.read_bytes() == before  # nothing recorded


@pytest.mark.parametrize(("change", "needle"), [
    (lambda c: c.update(pain_during=50), "pain_during 50: pain is rated 0 to 10"),
    (lambda c: c.update(sessions=-7), "sessions -7"),
    (lambda c: c.update(date="2031-01-01"), "the programme's last week ended on 2026-04-12"),
    (lambda c: c.update(red_flags=["toothache"]), "red_flags toothache: not a red flag"),
])
def test_a_stored_check_in_out_of_range_is_refused(journal, change, needle):
    ok(invoke("programme", "checkin", journal, "--pain-during", "2", *CHECKIN))
    edited(journal, lambda d: change(d["checkins"][0]))
    for command in (["history", journal], ["show", journal]):
        failed(invoke("programme", *command), 1, "stored check-in 1", needle)


def test_a_journal_made_with_other_rules_is_refused_then_replanned(journal, tmp_path):
    import shutil

    from hipcoach.kb.bundled import knowledge_dir, rules_dir

    kb, rules = tmp_path / "kb", tmp_path / "rules"
    shutil.copytree(knowledge_dir(), kb)
    shutil.copytree(rules_dir(), rules)
    ladders = (kb / "ladders.yaml").read_text(encoding="utf-8")
    (kb / "ladders.yaml").write_text(ladders.replace(  # an inserted rung on the stretch's ladder
        "  - id: ninety_ninety_stretch\n    harder: ninety_ninety_3x30",
        "  - id: ninety_ninety_stretch\n    harder: ninety_ninety_2x45\n    source: physio_practice\n"
        "  - id: ninety_ninety_2x45\n    harder: ninety_ninety_3x30").replace(
        "rungs:\n", "rungs:\n  - id: ninety_ninety_2x45\n    dose_of: ninety_ninety_stretch\n"
        "    dose: \"45 s × 2, each side\"\n    minutes: 3\n    source: physio_practice\n", 1),
        encoding="utf-8")
    ok(invoke("programme", "checkin", journal, "--pain-during", "2", *CHECKIN))
    before = journal.read_bytes()
    other = ["--kb", kb, "--rules", rules]
    for command in (["show", journal, *other],
                    ["checkin", journal, "--pain-during", "2", "--next-morning", "same",
                     "--sessions", "5", "--date", "2026-03-15", *other]):
        error = failed(invoke("programme", *command), 1, "other knowledge and rules", "--replan")
        assert "\n" not in error
    assert journal.read_bytes() == before
    ok(invoke("programme", "checkin", journal, "--pain-during", "2", "--next-morning", "same",
              "--sessions", "5", "--date", "2026-03-15", "--replan", *other))
    data = json.loads(journal.read_text(encoding="utf-8"))
    assert [r["date"] for r in data["replans"]] == ["2026-03-15"]
    assert data["replans"][0]["previous"]["fingerprint"] != data["provenance"]["fingerprint"]
    assert len(data["checkins"]) == 2
    ok(invoke("programme", "show", journal, *other))
    failed(invoke("programme", "show", journal), 1, "other knowledge and rules")


def test_show_ics_reminds_and_carries_a_weekly_check_in(journal):
    text = ok(invoke("programme", "show", journal, "--format", "ics", "--remind", "07:30")).stdout
    assert text.count("BEGIN:VALARM") == text.count("BEGIN:VEVENT")
    assert "TRIGGER;RELATED=START:PT7H30M" in text
    assert text.count("UID:checkin-") == 6
    for bad in ("7.30", "25:00", "07:60", "soon"):
        result = invoke("programme", "show", journal, "--format", "ics", "--remind", bad)
        assert result.exit_code == 2 and "HH:MM" in result.stderr
    assert invoke("programme", "show", journal, "--remind", "07:30").exit_code == 2


def test_fifty_pairs_of_simultaneous_check_ins_lose_none(tmp_path):
    """Two `programme checkin` processes on one journal, fifty times: each is recorded or
    refused with exit 1 (never both "succeed" with one lost)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    hipcoach = str(Path(sys.executable).parent / "hipcoach")
    first = tmp_path / "first.json"
    ok(invoke("programme", "start", DESK, "--journal", first, "--start", "2026-03-02"))
    pairs = []
    for number in range(50):
        path = tmp_path / f"j{number}.json"
        shutil.copy(first, path)
        procs = [subprocess.Popen([hipcoach, "programme", "checkin", str(path), "--pain-during",
                                   "2", "--next-morning", "same", "--sessions", "0", "--date",
                                   date, "--format", "json"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for date in ("2026-03-04", "2026-03-05")]
        pairs.append((path, procs))
        if len(pairs) % 10 == 0 or number == 49:  # ten pairs at a time
            for path, procs in pairs:
                codes = {p.args[-3]: p.wait() for p in procs}
                assert set(codes.values()) <= {0, 1}, [p.stderr.read() for p in procs]
                recorded = [c["date"] for c in json.loads(path.read_text(encoding="utf-8"))["checkins"]]
                assert sorted(recorded) == sorted(d for d, code in codes.items() if code == 0)
                for proc in procs:
                    error = proc.stderr.read()
                    if proc.returncode == 1:
                        assert error.startswith("Error: ") and error.count("\n") == 1
                    proc.stdout.close()
                    proc.stderr.close()
            pairs = []


def test_history_names_a_warning_sign_in_plain_words(journal):
    ok(invoke("programme", "checkin", journal, "--pain-during", "2", *CHECKIN,
              "--red-flag", "pain_on_hopping_or_landing"))
    text = ok(invoke("programme", "history", journal)).stdout
    assert "warning sign: Deep groin, hip or shin pain when you hop" in text
    assert "pain_on_hopping" not in text


def test_a_move_past_a_version_the_runner_lacks_equipment_for_says_so(journal):
    text = ok(invoke("programme", "checkin", journal, "--pain-during", "2", *CHECKIN)).stdout
    assert ("Clamshell -> Side-lying leg raise (hip abduction) (one step harder, past the version "
            "in between, which needs equipment you did not list)") in text


def test_a_stored_check_in_whose_red_flag_was_not_a_referral_is_refused(journal):
    ok(invoke("programme", "checkin", journal, "--pain-during", "2", *CHECKIN))
    edited(journal, lambda d: d["checkins"][0].update(red_flags=["swelling"]))
    failed(invoke("programme", "show", journal), 1, "stored check-in 1",
           "the triage rules refer on what it reports")


@pytest.mark.parametrize("fmt", ["ics", "html"])
def test_the_calendar_and_handout_name_phases_in_words(journal, fmt):
    text = ok(invoke("programme", "show", journal, "--format", fmt)).stdout
    for ident in ("single_leg", "\\, load)", "(load)", "\\, control)", "(control)"):
        assert ident not in text.replace("\r\n ", ""), ident
    assert "Low load and control" in text.replace("\r\n ", "")
