"""Starting a programme and checking in: the calendar, each decision moving items along their
ladders, contradictory check-ins refused, and the same inputs giving the same journal."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hipcoach.errors import ProgrammeError
from hipcoach.programme.journal import dumps
from hipcoach.programme.programme import Checkin, current_steps

#: Kneecap pain with a band and a mat: strength work with ladders (clamshell -> banded).
RUNNER = {"knee_pain": "front", "low_back": "tight", "pain_level": 3, "squat_difficulty": True,
          "equipment": ["mat", "resistance_band"], "minutes": 25}
RUN_DAYS = ("mon", "wed", "sat")


@pytest.fixture
def journal(programme):
    return programme.start(RUNNER, "2026-03-02", 6, RUN_DAYS)[1]


def checkin(programme, journal, date, pain=2, morning="same", sessions=None, flags=()):
    """Check in on ``date``; sessions default to every planned one."""
    if sessions is None:
        last = journal["checkins"][-1]["date"] if journal["checkins"] else None
        sessions = len(programme.planned_dates(journal, last, date))
    return programme.checkin(journal, Checkin(date, pain, morning, sessions, tuple(flags)))


def days(journal):
    return [day for week in journal["programme"] for day in week["days"]]


def test_start_lays_the_plan_on_the_calendar_at_step_zero(programme, planner, journal):
    plan = planner.plan(RUNNER)
    assert [w["week"] for w in journal["programme"]] == [1, 2, 3, 4, 5, 6]
    assert [w["phase"] for w in journal["programme"]] == ["control"] * 2 + ["load"] * 2 + ["single_leg"] * 2
    planned = {item["exercise"] for item in plan["items"]}
    assert set(programme.exercises(journal)) == planned
    assert all(item["step"] == 0 for day in days(journal) for item in day["items"])
    assert journal["start"] == "2026-03-02" and journal["run_days"] == list(RUN_DAYS)
    assert journal["checkins"] == []


def test_each_item_stays_in_its_plan_slot(planner, journal):
    slot_of = {item["exercise"]: item["when"] for item in planner.plan(RUNNER)["items"]}
    for day in days(journal):
        assert all(slot_of[item["exercise"]] == day["slot"] for item in day["items"])
        if day["slot"] in ("before_run", "after_run"):
            assert dt.date.fromisoformat(day["date"]).strftime("%a").lower() in RUN_DAYS


def test_strength_days_follow_the_phases(journal):
    per_week = [len({d["date"] for d in w["days"] if d["slot"] == "strength_days"})
                for w in journal["programme"]]
    assert per_week == [2, 2, 3, 3, 3, 3]


def test_a_strength_dose_carries_the_phase_note(journal):
    first = next(d for d in journal["programme"][0]["days"] if d["slot"] == "strength_days")
    late = next(d for d in journal["programme"][5]["days"] if d["slot"] == "strength_days")
    assert "weeks 1-2" in first["items"][0]["dose"]
    assert "weeks 5-6" in late["items"][0]["dose"]


def test_a_referral_starts_no_programme(programme):
    plan, journal = programme.start({"red_flags": ["swelling"]}, "2026-03-02", 6, RUN_DAYS)
    assert plan["status"] == "refer" and journal is None


@pytest.mark.parametrize(("kwargs", "problem"), [
    ({"start": "2026-02-30"}, "start 2026-02-30: not a date"),
    ({"weeks": 0}, "weeks 0: a programme runs 1 to 12 weeks"),
    ({"weeks": 13}, "weeks 13"),
    ({"run_days": ()}, "name your run days"),
])
def test_a_programme_that_cannot_start_is_one_error(programme, kwargs, problem):
    args = {"start": "2026-03-02", "weeks": 6, "run_days": RUN_DAYS, **kwargs}
    with pytest.raises(ProgrammeError, match=problem):
        programme.start(RUNNER, **args)


def test_a_runner_who_is_not_running_needs_no_run_days(programme):
    journal = programme.start({**RUNNER, "weekly_km": 0}, "2026-03-02", 2, ())[1]
    assert {d["slot"] for d in days(journal)} <= {"strength_days", "daily"}


def test_progress_moves_the_remaining_days_one_step_up(programme, journal):
    updated, result, _ = checkin(programme, journal, "2026-03-08")
    assert result["decision"] == "progress"
    moves = {m["exercise"]: (m["from"], m["to"]) for m in result["items"]}
    assert moves["clamshell"] == (0, 1)  # the band is there
    for day in days(updated):
        for item in day["items"]:
            if item["exercise"] == "clamshell":
                assert item["step"] == (0 if day["date"] <= "2026-03-08" else 1)
    banded = next(i for d in days(updated) if d["date"] > "2026-03-08" for i in d["items"]
                  if i["exercise"] == "clamshell")
    assert banded["dose"].startswith("2 × 12 each side")
    assert updated["checkins"][-1]["decision"] == "progress"
    assert journal["checkins"] == []  # the journal handed in is left as it was


def test_a_rung_needing_equipment_the_runner_lacks_is_stepped_over(programme):
    journal = programme.start({**RUNNER, "equipment": ["mat"]}, "2026-03-02", 6, RUN_DAYS)[1]
    _, result, _ = checkin(programme, journal, "2026-03-08")
    moves = {m["exercise"]: (m["from"], m["to"]) for m in result["items"]}
    assert moves["clamshell"] == (0, 2)  # past the banded clamshell, to side-lying abduction
    assert programme.describe("clamshell", 2)["name"].startswith("Side-lying leg raise")
    assert not [b for b in result["because"] if b["exercise"] == "clamshell"]


def test_hold_changes_nothing_and_regress_moves_down(programme, journal):
    held, result, _ = checkin(programme, journal, "2026-03-08", pain=4)
    assert result["decision"] == "hold"
    assert all(m["from"] == m["to"] for m in result["items"])
    assert held["programme"] == journal["programme"]
    up = checkin(programme, journal, "2026-03-08")[0]
    down, result, _ = checkin(programme, up, "2026-03-15", morning="worse")
    assert result["decision"] == "regress"
    assert current_steps(down)["clamshell"] == 0


def test_too_few_sessions_hold(programme, journal):
    _, result, _ = checkin(programme, journal, "2026-03-08", sessions=1)
    assert result["decision"] == "hold"
    assert [b["rule"] for b in result["because"]] == ["progress.hold.too_few_sessions"]
    assert result["because"][0]["from"][0]["thirds_done"] == 0


def test_pain_rising_twice_to_above_five_refers_and_ends_the_programme(programme, journal):
    j, _, _ = checkin(programme, journal, "2026-03-08", pain=2)
    j, _, _ = checkin(programme, j, "2026-03-15", pain=4)
    j, result, _ = checkin(programme, j, "2026-03-22", pain=6)
    assert result["decision"] == "refer"
    assert [b["rule"] for b in result["because"]] == ["progress.refer.pain_rising"]
    assert [p["date"] for p in result["because"][0]["from"]] == ["2026-03-08", "2026-03-15", "2026-03-22"]
    assert max(d["date"] for d in days(j)) <= "2026-03-22"
    with pytest.raises(ProgrammeError, match="ended with a referral on 2026-03-22"):
        checkin(programme, j, "2026-03-29")


def test_no_improvement_after_three_check_ins_refers(programme, journal):
    j = journal
    for date, pain in (("2026-03-08", 5), ("2026-03-15", 4), ("2026-03-22", 5)):
        j, result, _ = checkin(programme, j, date, pain=pain)
    assert result["decision"] == "refer"
    assert [b["rule"] for b in result["because"]] == ["progress.refer.no_improvement"]


def test_a_red_flag_refers(programme, journal):
    _, result, _ = checkin(programme, journal, "2026-03-08", pain=0, flags=["night_or_rest_pain"])
    assert result["decision"] == "refer"
    assert result["because"][0]["from"] == [{"triage": "night_or_rest_pain", "urgency": "soon"}]
    assert result["urgency"] == "soon" and result["reasons"][0]["rule"] == "triage.night_or_rest_pain"
    assert result["items"] == [] and result["paused"] == []


def test_each_reason_carries_rule_rationale_source_and_values(programme, journal):
    _, result, _ = checkin(programme, journal, "2026-03-08", pain=3, morning="better")
    reason = result["because"][0]
    assert reason["rule"] == "progress.progress.comfortable" and reason["exercise"] is None
    assert reason["rationale"] and "2009" in reason["source"]
    assert reason["from"] == [{"checkin": 0, "date": "2026-03-08", "pain_during": 3,
                               "next_morning": "better", "thirds_done": 3, "days": 7, "rise": 0}]


@pytest.mark.parametrize(("report", "problem"), [
    (Checkin("2026-03-01", 2, "same", 0), "the programme starts on 2026-03-02"),
    (Checkin("2026-03-08", 11, "same", 1), "pain_during 11: pain is rated 0 to 10"),
    (Checkin("2026-03-08", -1, "same", 1), "pain_during -1"),
    (Checkin("2026-03-08", 2, "same", 99), "sessions 99"),
    (Checkin("2026-03-08", 2, "same", -1), "sessions -1"),
    (Checkin("2026-03-08", 2, "same", 1, ("headache",)), "red_flags headache: not a red flag"),
    (Checkin("2026-03-08", 2, "meh", 1), "next_morning meh"),
    (Checkin("8 March", 2, "same", 1), "date 8 March: not a date"),
    (Checkin("2026-04-13", 2, "same", 1), "date 2026-04-13: the programme's last week ended on "
     "2026-04-12; start the next programme with `hipcoach programme start"),
])
def test_a_check_in_that_contradicts_the_journal_is_refused(programme, journal, report, problem):
    before = dumps(journal)
    with pytest.raises(ProgrammeError, match=problem.replace("(", r"\(").replace("'", "'")):
        programme.checkin(journal, report)
    assert dumps(journal) == before


def test_a_check_in_before_or_on_the_last_one_is_refused(programme, journal):
    j = checkin(programme, journal, "2026-03-08")[0]
    for date in ("2026-03-08", "2026-03-05"):
        with pytest.raises(ProgrammeError, match="the last check-in was on 2026-03-08"):
            checkin(programme, j, date, sessions=0)


def test_sessions_count_the_days_with_hip_work_since_the_last_check_in(programme, journal):
    dated = {d["date"] for d in days(journal) if "2026-03-02" <= d["date"] <= "2026-03-08"}
    assert len(programme.planned_dates(journal, None, "2026-03-08")) == len(dated)
    with pytest.raises(ProgrammeError, match=f"{len(dated)} sessions were planned from the start"):
        programme.checkin(journal, Checkin("2026-03-08", 2, "same", len(dated) + 1))


def test_the_same_inputs_give_byte_identical_journals_and_results(programme):
    def run():
        j = programme.start(RUNNER, "2026-03-02", 6, RUN_DAYS)[1]
        j, result, _ = checkin(programme, j, "2026-03-08")
        return dumps(j), json.dumps(result)

    assert run() == run()


def test_no_day_ever_holds_more_than_the_minutes(programme):
    tight = {**RUNNER, "minutes": 10, "weekly_km": 0}  # one daily block, strength on top
    j = programme.start(tight, "2026-03-02", 6, ())[1]
    for week in range(1, 6):
        date = (dt.date(2026, 3, 2) + dt.timedelta(days=7 * week - 1)).isoformat()
        j, _, _ = checkin(programme, j, date)
        assert max(programme.day_minutes(days(j)).values()) <= 10
    assert any(b["rule"] == "progress.item.no_time" for c in j["checkins"] for b in c["because"])


def test_describe_names_an_item_at_its_rung(programme):
    assert programme.describe("glute_bridge", 0)["name"] == "Glute bridge"
    bridge = programme.describe("glute_bridge", 1)
    assert set(bridge) == {"name", "steps", "cautions", "category"}
    assert bridge["name"] == "Single-leg glute bridge" and bridge["category"] == "strength"
    assert programme.describe("side_plank", -1)["name"] == "Side plank from the knees"
    with pytest.raises(ProgrammeError, match="no step 5"):
        programme.describe("glute_bridge", 5)


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda j: j["answers"].update(minutes=500), "answer 'minutes' = 500"),
    (lambda j: j["programme"][0]["days"][0].update(date="2026-02-31"), "not a date: write YYYY-MM-DD"),
    (lambda j: j["programme"][0]["days"][0]["items"][0].update(step=9), "has no step 9"),
    (lambda j: j["programme"][0]["days"][0]["items"][0].update(exercise="moonwalk"), "'moonwalk'"),
    (lambda j: j["programme"][0]["days"][0].update(slot="lunch"), "unknown slot 'lunch'"),
    (lambda j: j.update(run_days=["someday"]), "run_days"),
    (lambda j: j.update(weeks=7), "weeks 1 to 7"),
])
def test_a_journal_edited_into_nonsense_is_one_error(programme, journal, tmp_path, edit, problem):
    path = tmp_path / "j.json"
    edit(journal)
    path.write_text(json.dumps(journal), encoding="utf-8")
    with pytest.raises(ProgrammeError, match="not a journal this programme can use") as caught:
        programme.load(path)
    assert problem in str(caught.value)


def test_answers_left_out_of_a_journal_take_their_defaults(programme, journal, tmp_path):
    path = tmp_path / "j.json"
    del journal["answers"]["minutes"]
    path.write_text(json.dumps(journal), encoding="utf-8")
    loaded = programme.load(path)
    assert loaded["answers"]["minutes"] == programme.planner.kb.questions["minutes"].default
    assert programme.checkin(loaded, Checkin("2026-03-08", 2, "same", 1))[1]["decision"] == "hold"


# ------------------------------------------------------------------ one triage at every check-in

FLAG_IDS = ["swelling", "locking_or_giving_way", "numbness_or_tingling", "night_or_rest_pain",
            "fever_or_unwell", "recent_fall_or_trauma", "bladder_or_bowel_change",
            "pain_on_hopping_or_landing", "cancer_history_or_weight_loss"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flags=st.lists(st.sampled_from(FLAG_IDS), unique=True), pain=st.integers(0, 10),
       morning=st.sampled_from(["better", "same", "worse"]))
def test_a_check_in_refers_exactly_as_a_plan_does_for_the_same_answers(programme, planner, journal,
                                                                      flags, pain, morning):
    plan = planner.plan({**RUNNER, "red_flags": flags, "pain_level": pain})
    updated, result, _ = checkin(programme, journal, "2026-03-08", pain=pain, morning=morning,
                                 flags=flags)
    if plan["status"] == "refer":
        assert result["decision"] == "refer"
        assert result["urgency"] == plan["urgency"]
        urgency = next(u for u in planner.rulebase.urgencies if u.id == plan["urgency"])
        heading, advice = urgency.during()  # the same urgency, worded for a programme under way
        assert result["referral"] == {"heading": heading, "advice": advice}
        assert result["reasons"] == plan["reasons"]
        assert result["advice"] == [advice]
        assert updated["checkins"][-1]["urgency"] == plan["urgency"]
        assert max(d["date"] for d in days(updated)) <= "2026-03-08"
    else:
        assert result["decision"] != "refer" and result["urgency"] is None
        assert result["reasons"] == [] and result["referral"] is None


def test_a_check_in_is_triaged_by_the_triage_rules_not_a_copy(programme, journal):
    _, result, verdict = checkin(programme, journal, "2026-03-08", flags=["pain_on_hopping_or_landing"])
    assert result["urgency"] == "same_day"
    assert result["referral"]["heading"] == "See a doctor today"
    assert "Stop running and stop the programme" in result["advice"][0]
    assert [f.rule for f in verdict.because] == ["progress.refer.triage"]
    assert verdict.because[0].matched["triage_0_0"]["reason"] == "pain_on_hopping_or_landing"


@pytest.mark.parametrize("pain", [8, 9, 10])
def test_severe_pain_at_a_check_in_refers_as_a_plan_does(programme, planner, journal, pain):
    _, result, _ = checkin(programme, journal, "2026-03-08", pain=pain, morning="worse")
    assert result["decision"] == "refer"
    assert result["urgency"] == planner.plan({**RUNNER, "pain_level": pain})["urgency"]
    assert [r["rule"] for r in result["reasons"]] == ["triage.severe_pain"]


def test_a_referral_on_the_trend_has_an_urgency_and_plain_reasons(programme, journal):
    j = journal
    for date, pain in (("2026-03-08", 2), ("2026-03-15", 4), ("2026-03-22", 6)):
        j, result, _ = checkin(programme, j, date, pain=pain)
    assert result["urgency"] == "soon" and result["referral"]["heading"] == "Stop and see a clinician"
    assert [r["rule"] for r in result["reasons"]] == ["progress.refer.pain_rising"]
    assert "emergency" not in result["advice"][0].lower()


# ---------------------------------------------------------------------- the pain-monitoring model

def sequence(programme, journal, reports, start="2026-03-08", every=7):
    """Check in ``reports`` of (pain, morning, share of sessions done), a week apart."""
    results = []
    date = dt.date.fromisoformat(start)
    for pain, morning, share in reports:
        last = journal["checkins"][-1]["date"] if journal["checkins"] else None
        planned = len(programme.planned_dates(journal, last, date.isoformat()))
        journal, result, _ = programme.checkin(
            journal, Checkin(date.isoformat(), pain, morning, round(share * planned)))
        results.append(result)
        date += dt.timedelta(days=every)
    return journal, results


def test_pain_creeping_up_week_on_week_holds_then_eases_off(programme, journal):
    _, results = sequence(programme, journal, [(2, "same", 1), (3, "same", 1), (4, "same", 1),
                                               (5, "same", 1)])
    assert [r["decision"] for r in results] == ["progress", "progress", "regress", "regress"]
    assert "progress.regress.pain_rising" in [b["rule"] for b in results[2]["because"]]
    _, results = sequence(programme, journal, [(0, "same", 1), (2, "same", 1)])
    assert [r["decision"] for r in results] == ["progress", "hold"]
    assert [b["rule"] for b in results[1]["because"]] == ["progress.hold.pain_jumped"]


def test_a_regress_that_moves_nothing_says_so(programme, journal):
    _, result, _ = checkin(programme, journal, "2026-03-08", pain=6)
    assert result["decision"] == "regress"
    assert all(m["from"] == m["to"] for m in result["items"])
    assert result["advice"] == [programme.rules.decision("regress").unmoved]
    assert "easier version from the next session" not in result["advice"][0]


def test_a_progress_that_moves_something_says_the_usual(programme, journal):
    _, result, _ = checkin(programme, journal, "2026-03-08")
    assert any(m["from"] != m["to"] for m in result["items"])
    assert result["advice"] == [programme.rules.decision("progress").advice]


def test_a_flare_leaves_out_what_the_candidate_rules_exclude_until_pain_settles(programme, journal):
    flared, result, _ = checkin(programme, journal, "2026-03-08", pain=6, morning="worse")
    assert [p["exercise"] for p in result["paused"]] == ["toy_soldiers"]
    # in the plan's own words: the demand the check-in's pain rules out, and why
    strong = programme.planner.engine.rules["rule_out.strong_pain"]
    [reason] = result["paused"][0]["reasons"]
    assert reason.startswith("it asks for ") and reason.endswith(f"left out for you: {strong.rationale}")
    for day in days(flared):
        for item in day["items"]:
            assert item["paused"] == (item["exercise"] == "toy_soldiers" and day["date"] > "2026-03-08")
    still, result, _ = checkin(programme, flared, "2026-03-15", pain=6)
    assert [p["exercise"] for p in result["paused"]] == ["toy_soldiers"] and result["resumed"] == []
    settled, result, _ = checkin(programme, still, "2026-03-22", pain=2, morning="better")
    assert result["paused"] == [] and result["resumed"] == ["toy_soldiers"]
    assert not any(i["paused"] for d in days(settled) for i in d["items"] if d["date"] > "2026-03-22")


def test_the_exclusions_are_the_candidate_layers_own(programme, journal, tmp_path):
    """An exclusion added to rules/candidates.yaml reaches the programme with no other change."""
    import shutil

    from hipcoach.kb.bundled import knowledge_dir, rules_dir
    from hipcoach.programme.programme import Programme

    rules = tmp_path / "rules"
    shutil.copytree(rules_dir(), rules)
    text = (rules / "candidates.yaml").read_text(encoding="utf-8")
    (rules / "candidates.yaml").write_text(text + """
  - id: exclude.stretch_with_pain_test
    when:
      - answer: {pain_level: {gte: 5}}
    then: {exclude: [ninety_ninety_stretch]}
    rationale: "A test exclusion."
    source: physio_practice
""", encoding="utf-8")
    other = Programme(knowledge_dir(), rules)
    started = other.start(RUNNER, "2026-03-02", 6, RUN_DAYS)[1]
    _, result, _ = checkin(other, started, "2026-03-08", pain=5)
    assert [p["exercise"] for p in result["paused"]] == ["ninety_ninety_stretch"]
    _, result, _ = checkin(programme, journal, "2026-03-08", pain=5)
    assert result["paused"] == []


# ------------------------------------------------------------------ progressions that progress

def top(programme, journal):
    return {ex: programme.rungs.rung(ex, step).id for ex, step in current_steps(journal).items()}


def test_steady_progress_reaches_the_top_of_each_chain(programme, journal):
    done, results = sequence(programme, journal, [(2, "same", 1)] * 8, every=5)
    assert [r["decision"] for r in results] == ["progress"] * 8
    reached = top(programme, done)
    assert reached["quads_isometric"] == "high_step_down"  # isometric -> wall squat -> step-downs
    assert reached["clamshell"] == "side_plank_leg_lift"  # clamshell -> abduction -> side plank
    # by week 3 the knee work is weight-bearing
    done, _ = sequence(programme, journal, [(2, "same", 1)] * 2)
    week3 = next(d for d in done["programme"][2]["days"] if d["slot"] == "strength_days")
    knee = next(i for i in week3["items"] if i["exercise"] == "quads_isometric")
    assert programme.rungs.rung("quads_isometric", knee["step"]).id == "shallow_wall_squat"


def test_two_items_of_one_chain_never_share_a_version(programme):
    # (no trouble getting up: that rules out the floor, where both items of this chain are done)
    outer = {"knee_pain": "outside", "pain_level": 3, "squat_difficulty": True, "minutes": 20}
    journal = programme.start(outer, "2026-03-02", 6, RUN_DAYS)[1]
    assert {"clamshell", "side_plank"} <= set(programme.exercises(journal))  # one chain, two items
    reports = [(1, "better", 1)] * 5 + [(6, "same", 1)] + [(1, "better", 1)] * 2
    journal, results = sequence(programme, journal, reports, start="2026-03-07", every=5)
    for day in days(journal):
        versions = [programme.rungs.rung(i["exercise"], i["step"]).id for i in day["items"]]
        assert len(versions) == len(set(versions))
    assert "progress.item.next_taken" in [b["rule"] for r in results for b in r["because"]]


def test_a_check_in_says_exactly_what_moved(programme, journal):
    from hipcoach.cli.programme_cli import _wording
    from hipcoach.present.programme import render_checkin

    _, result, _ = checkin(programme, journal, "2026-03-08")
    text = render_checkin(result, programme.describe, _wording(programme), "text")
    assert "Clamshell -> Clamshell with a band (one step harder)" in text
    _, result, _ = checkin(programme, journal, "2026-03-08", pain=4)
    text = render_checkin(result, programme.describe, _wording(programme), "text")
    assert "harder version" not in text and "stays as it is" in text


def test_no_phase_heading_names_work_the_runner_is_not_doing(programme):
    for phase in programme.knowledge.phases:
        assert "single-leg" not in phase.name.lower() and "loaded" not in phase.name.lower()


def test_idle_weeks_hold_and_a_long_gap_is_one_check_in(programme, journal):
    j, results = sequence(programme, journal, [(2, "same", 0), (2, "same", 0)])
    assert [r["decision"] for r in results] == ["hold", "hold"]
    assert current_steps(j) == current_steps(journal)
    j, results = sequence(programme, j, [(2, "same", 1)], start="2026-04-05")
    assert results[0]["decision"] == "progress"


def test_a_phase_note_never_contradicts_the_dose_it_is_added_to(programme):
    """The note goes on every exercise of its category: it names no sets, reps or kind of move."""
    import re

    for phase in programme.knowledge.phases:
        for cue in phase.cues.values():
            assert not re.search(r"\bsets? of\b|\d+ sets|feet planted|single-leg|loaded", cue), cue


def test_the_last_check_in_announces_no_change_for_sessions_that_will_not_happen(programme, journal):
    from hipcoach.cli.programme_cli import _wording
    from hipcoach.present.programme import render_checkin

    _, results = sequence(programme, journal, [(2, "same", 1)] * 6)
    last = results[-1]
    assert [r["last"] for r in results] == [False] * 5 + [True]
    assert all(m["from"] == m["to"] for m in last["items"])
    assert last["advice"] == [programme.rules.last_checkin]
    text = render_checkin(last, programme.describe, _wording(programme), "text")
    assert "From the next session" not in text and "Where you got to:" in text
    assert "hipcoach programme start" in text


def test_a_dose_for_several_times_a_day_is_not_reached_in_a_block_done_with_runs(programme, journal):
    done, results = sequence(programme, journal, [(2, "same", 1)] * 4)
    slots = {d["slot"] for d in days(done) for i in d["items"] if i["exercise"] == "ninety_ninety_stretch"}
    assert slots <= {"before_run", "after_run"}  # guards the test: the stretch goes with runs
    assert programme.rungs.rung("ninety_ninety_stretch", current_steps(done)["ninety_ninety_stretch"]
                                ).per_day == 1
    assert "progress.item.not_with_runs" in [b["rule"] for r in results for b in r["because"]]


#: Kneecap pain and outer-hip tendon pain: the candidate rules rule out single-leg stance.
OUTER_HIP = {"knee_pain": "front", "hip_pain": "outside", "pain_level": 2, "minutes": 30,
             "equipment": ["mat", "resistance_band"]}


def test_low_pain_never_reaches_a_version_whose_demand_the_answers_rule_out(programme):
    journal = programme.start(OUTER_HIP, "2026-03-02", 6, RUN_DAYS)[1]
    results = []
    for week in range(8):
        date = (dt.date(2026, 3, 8) + dt.timedelta(days=5 * week)).isoformat()
        journal, result, _ = checkin(programme, journal, date, pain=1)
        results.append(result)
    reached = {programme.rungs.rung(item["exercise"], item["step"]).id
               for day in days(journal) for item in day["items"]}
    assert "shallow_wall_squat" in programme.exercises(journal)
    assert "deeper_wall_squat" in reached  # the ladder still climbs as far as it may
    assert not reached & {"low_step_down", "high_step_down"}  # single-leg stance
    held = [b["rationale"] for r in results for b in r["because"]
            if b["exercise"] == "shallow_wall_squat"]
    assert "The harder versions ask for a movement your answers leave out for now, so this one stays." in held
