"""Rule traces: capture (``Planner.trace``) and the trace module (write, read, pick, filter,
describe, coverage).

The trace is checked against the plan it produced: every firing the plan cites is in the trace,
every certainty the trace reports is the one the plan shows, and the plan step's picks and drops
are the plan's items and dropped exercises.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import EXAMPLES
from hipcoach import Planner, normalise
from hipcoach.errors import TraceError
from hipcoach.reasoning.certainty import combine
from hipcoach.trace.tracefile import coverage, describe, dump, filter_events, pick, read_traces, write_traces

DESK = EXAMPLES / "desk_runner.yaml"
ITB = EXAMPLES / "itb_trail_runner.yaml"
RED_FLAG = EXAMPLES / "red_flag.yaml"
RECORD_KEYS = ["respondent", "answers", "status", "events", "unconsumed", "plan"]
EVENT_KINDS = {"fire", "assert", "withhold", "select", "drop", "unmet"}
DERIVED_FACTS = ("symptom", "cause", "candidate")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# Varied answers: the personas, plus runners that reach the engine steps they do not.
NO_SIGNS = {"sitting_hours": 2, "strength_sessions_per_week": 2, "mobility_sessions_per_week": 2}
# hip_pain back -> low_back_pain 0.4 -> weak_glutes 0.4 x 0.4 = 0.16, below the causes threshold
# 0.2 (and no other sign of weak glutes)
WITHHOLDS_A_CAUSE = {"hip_pain": "back", "pain_level": 2, **NO_SIGNS}
# 5 minutes cannot hold strength, stretch, self-massage and a warm-up: a requirement goes unmet
SHORT_ON_TIME = {"knee_pain": "front", "low_back": "tight", "minutes": 5}
HIGH_PAIN = {"knee_pain": "front", "hip_pain": "front", "pain_level": 6, "equipment": ["mat"]}

ANSWER_SETS = {
    "desk": load(DESK),
    "itb": load(ITB),
    "red_flag": load(RED_FLAG),
    "no_signs": NO_SIGNS,
    "withholds_a_cause": WITHHOLDS_A_CAUSE,
    "short_on_time": SHORT_ON_TIME,
    "high_pain": HIGH_PAIN,
}
PLANNED = [name for name in ANSWER_SETS if name != "red_flag"]


@pytest.fixture(scope="module")
def traces(planner: Planner) -> dict[str, dict[str, Any]]:
    return {name: planner.trace(answers, respondent=name) for name, answers in ANSWER_SETS.items()}


def fires(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in record["events"] if e["event"] == "fire"]


def of_kind(record: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in record["events"] if e["event"] == kind]


def concluded(event: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, id) of every conclusion of a fire event that carries an id."""
    return {(c["kind"], c["id"]) for c in event["concludes"] if "id" in c}


def certainty_steps(record: dict[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Per derived (kind, id): its fire events' conclusions, in firing order."""
    steps: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for event in fires(record):
        for c in event["concludes"]:
            if "cf_after" in c:
                steps.setdefault((c["kind"], c["id"]), []).append(c)
    return steps


# ------------------------------------------------------------------------------ the record


def test_record_has_exactly_the_documented_keys_in_order(traces):
    for name, record in traces.items():
        assert list(record) == RECORD_KEYS, name


def test_record_holds_the_normalised_answers_that_started_it(planner, kb):
    raw = load(DESK)
    record = planner.trace(raw)
    assert record["answers"] == normalise(raw, kb)
    assert record["answers"]["knee_pain"] == "front" and record["answers"]["minutes"] == 25


def test_record_answers_include_defaults_and_the_minutes_override(planner, kb):
    record = planner.trace({"knee_pain": "outside"}, minutes=12)
    assert record["answers"]["minutes"] == 12
    assert record["answers"]["knee_pain"] == "outside"
    # every question is there, with its default when it was not answered
    assert set(record["answers"]) == set(kb.questions)


def test_respondent_is_none_unless_given(planner):
    assert planner.trace(NO_SIGNS)["respondent"] is None
    assert planner.trace(NO_SIGNS, respondent="r-17")["respondent"] == "r-17"


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_traced_plan_is_the_untraced_plan(planner, traces, name):
    record = traces[name]
    assert record["plan"] == planner.plan(ANSWER_SETS[name])
    assert record["status"] == record["plan"]["status"]


def test_status_is_refer_only_for_the_red_flag_runner(traces):
    assert {name: r["status"] for name, r in traces.items()} == {
        name: ("refer" if name == "red_flag" else "plan") for name in ANSWER_SETS}


def test_record_is_json_ready(traces):
    for record in traces.values():
        assert json.loads(json.dumps(record)) == record


# ------------------------------------------------------------------------------ sequence


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_seq_numbers_are_1_to_n_without_gaps(traces, name):
    events = traces[name]["events"]
    assert events, name
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def test_every_event_kind_is_known_and_all_occur_in_the_batch(traces):
    seen = {e["event"] for record in traces.values() for e in record["events"]}
    assert seen == EVENT_KINDS


def test_fire_events_carry_rule_layer_matched_and_concludes(traces, rulebase):
    rules = rulebase.by_id()
    for record in traces.values():
        for event in fires(record):
            assert set(event) == {"seq", "event", "rule", "layer", "matched", "concludes"}
            assert event["layer"] == rules[event["rule"]].layer
            assert event["matched"] and event["concludes"]
            assert all("t" in fact for fact in event["matched"].values())


def test_withheld_cause_and_unmet_requirement_are_recorded(traces, rulebase):
    withheld = of_kind(traces["withholds_a_cause"], "withhold")
    assert [(e["fact"]["kind"], e["fact"]["id"], e["fact"]["cf"]) for e in withheld] == [
        ("cause", "weak_glutes", 0.16)]
    assert withheld[0]["threshold"] == rulebase.thresholds["causes"]
    unmet = of_kind(traces["short_on_time"], "unmet")
    assert unmet and all(e["reason"] in traces["short_on_time"]["plan"]["notes"] for e in unmet)
    assert len(unmet) == len(traces["short_on_time"]["plan"]["notes"])


# ------------------------------------------------------------------------------ cross-check with the plan


@pytest.mark.parametrize("name", PLANNED)
def test_every_because_rule_fired_for_that_conclusion(traces, name):
    record = traces[name]
    plan = record["plan"]
    entries = [("symptom", s["id"], s["because"]) for s in plan["symptoms"]]
    entries += [("cause", c["id"], c["because"]) for c in plan["causes"]]
    entries += [("candidate", i["exercise"], i["because"]) for i in plan["items"]]
    assert entries
    for kind, ident, because in entries:
        firing = [e for e in fires(record) if (kind, ident) in concluded(e)]
        # the same rules, in the same order, as the plan's because list
        assert [e["rule"] for e in firing] == [b["rule"] for b in because], (kind, ident)
        for event, support in zip(firing, because):
            step = next(c for c in event["concludes"] if (c["kind"], c["id"]) == (kind, ident))
            assert step["cf"] == support["confidence"], (kind, ident, event["rule"])


def test_referral_reasons_are_triage_firings(traces):
    record = traces["red_flag"]
    reasons = record["plan"]["reasons"]
    assert [r["id"] for r in reasons] == ["swelling", "locking_or_giving_way"]
    for reason in reasons:
        event = next(e for e in fires(record) if e["rule"] == reason["rule"])
        assert event["layer"] == "triage"
        assert event["concludes"] == [{"kind": "refer", "id": reason["id"]}]


@pytest.mark.parametrize("name", PLANNED)
def test_assert_events_point_to_every_firing_that_concluded_the_fact(traces, name):
    record = traces[name]
    by_seq = {e["seq"]: e for e in record["events"]}
    settled = of_kind(record, "assert") + of_kind(record, "withhold")
    assert settled
    for event in settled:
        key = (event["fact"]["kind"], event["fact"]["id"])
        assert event["from"], event
        for seq in event["from"]:
            source = by_seq[seq]
            assert source["event"] == "fire" and seq < event["seq"], (event, seq)
            assert key in concluded(source), (event, source["rule"])
        # and no firing for that fact is missing from `from`
        assert event["from"] == [e["seq"] for e in fires(record)
                                 if key in concluded(e) and e["seq"] < event["seq"]]


@pytest.mark.parametrize("name", PLANNED)
def test_asserted_symptoms_and_causes_are_the_plans(traces, name):
    record = traces[name]
    asserted = {(e["fact"]["kind"], e["fact"]["id"]) for e in of_kind(record, "assert")}
    plan = record["plan"]
    assert {i for k, i in asserted if k == "symptom"} == {s["id"] for s in plan["symptoms"]}
    assert {i for k, i in asserted if k == "cause"} == {c["id"] for c in plan["causes"]}
    assert {i["exercise"] for i in plan["items"]} <= {i for k, i in asserted if k == "candidate"}


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_cf_before_is_the_previous_cf_after_for_the_same_conclusion(traces, name):
    for key, steps in certainty_steps(traces[name]).items():
        assert steps[0]["cf_before"] == 0.0, key
        for previous, step in itertools.pairwise(steps):
            assert step["cf_before"] == previous["cf_after"], key


@pytest.mark.parametrize("name", list(ANSWER_SETS))
def test_cf_after_is_the_running_combination(traces, rulebase, name):
    """Recompute each firing's certainty (rule cf x weakest derived premise it matched) and the
    running MYCIN combination, and compare with what the trace reports."""
    rules = rulebase.by_id()
    running: dict[tuple[str, str], float] = {}
    checked = 0
    for event in fires(traces[name]):
        premises = [f["cf"] for f in event["matched"].values() if f["t"] in DERIVED_FACTS]
        lent = rules[event["rule"]].cf * min(premises, default=1.0)
        for c in event["concludes"]:
            if "cf_after" not in c:
                continue
            key = (c["kind"], c["id"])
            before = running.get(key, 0.0)
            running[key] = combine(before, lent)
            assert (c["cf"], c["cf_before"], c["cf_after"]) == (
                round(lent, 3), round(before, 3), round(running[key], 3)), (event["rule"], key)
            checked += 1
    assert checked


@pytest.mark.parametrize("name", PLANNED)
def test_final_cf_after_is_the_plans_confidence(traces, name):
    record = traces[name]
    final = {key: steps[-1]["cf_after"] for key, steps in certainty_steps(record).items()}
    plan = record["plan"]
    for kind in ("symptom", "cause"):
        for entry in plan[kind + "s"]:
            assert final[(kind, entry["id"])] == entry["confidence"], (kind, entry["id"])
    for item in plan["items"]:
        assert final[("candidate", item["exercise"])] == item["confidence"], item["exercise"]
    for event in of_kind(record, "assert") + of_kind(record, "withhold"):
        fact = event["fact"]
        if fact["kind"] in DERIVED_FACTS:  # ruled-out demands are certain, never combined
            assert final[(fact["kind"], fact["id"])] == fact["cf"], fact


def test_desk_runner_overuse_combines_as_the_readme_says(traces):
    steps = certainty_steps(traces["desk"])[("cause", "overuse")]
    assert [(s["cf"], s["cf_before"], s["cf_after"]) for s in steps] == [
        (0.4, 0.0, 0.4), (0.7, 0.4, 0.82)]


@pytest.mark.parametrize("name", PLANNED)
def test_select_events_are_the_plan_items(traces, name):
    record = traces[name]
    plan = record["plan"]
    selects = of_kind(record, "select")
    assert {e["exercise"] for e in selects} == {i["exercise"] for i in plan["items"]}
    assert len(selects) == len(plan["items"])
    chosen = {i["exercise"]: i["chosen"] for i in plan["items"]}
    for event in selects:
        assert {"rule": event["rule"], "reason": event["reason"]} == chosen[event["exercise"]]


@pytest.mark.parametrize("name", PLANNED)
def test_drop_events_are_the_plans_dropped_exercises(traces, name):
    record = traces[name]
    drops = of_kind(record, "drop")
    assert [(e["exercise"], e["reason"], e["rule"]) for e in drops] == [
        (d["exercise"], d["reason"], d["rule"]) for d in record["plan"]["dropped"]]


def test_some_plans_drop_exercises(traces):
    assert of_kind(traces["desk"], "drop") and of_kind(traces["short_on_time"], "drop")


@pytest.mark.parametrize("name", PLANNED)
def test_schedule_firings_match_the_items_slots(traces, name):
    record = traces[name]
    for item in record["plan"]["items"]:
        if item["scheduled_by"] is None:
            continue
        assert any(e["rule"] == item["scheduled_by"]
                   and {"kind": "schedule", "id": item["exercise"], "slot": item["when"]}
                   in e["concludes"] for e in fires(record)), item["exercise"]


@pytest.mark.parametrize("name", PLANNED)
def test_plan_step_events_come_after_candidates_and_before_schedules(traces, name):
    events = traces[name]["events"]
    kinds = [e["event"] for e in events]
    first_pick = min(i for i, k in enumerate(kinds) if k in ("select", "drop", "unmet"))
    last_pick = max(i for i, k in enumerate(kinds) if k in ("select", "drop", "unmet"))
    candidate_asserts = [i for i, e in enumerate(events)
                         if e["event"] == "assert" and e["fact"]["kind"] == "candidate"]
    schedules = [i for i, e in enumerate(events)
                 if e["event"] == "fire" and e["rule"].startswith("schedule.")]
    assert max(candidate_asserts) < first_pick
    assert schedules and last_pick < min(schedules)


def test_referral_trace_fires_only_triage_and_answer_rules(traces, rulebase):
    record = traces["red_flag"]
    rules = rulebase.by_id()
    fired = fires(record)
    assert fired
    for event in fired:
        rule = rules[event["rule"]]
        assert all(p.fact == "answer" for p in rule.patterns), event["rule"]
        assert all(fact["t"] == "answer" for fact in event["matched"].values())
    assert {"triage.swelling", "triage.locking_or_giving_way"} <= {e["rule"] for e in fired}
    # the engine stopped after the answers: nothing settled, nothing chosen
    assert [e for e in record["events"] if e["event"] != "fire"] == []
    assert record["plan"]["items"] == [] and record["plan"]["dropped"] == []


def test_rules_that_need_derived_facts_fire_in_a_plan_trace(traces, rulebase):
    rules = rulebase.by_id()
    derived = [e for e in fires(traces["desk"])
               if any(p.fact != "answer" for p in rules[e["rule"]].patterns)]
    assert {rules[e["rule"]].layer for e in derived} == {"causes", "candidates", "plan", "advice"}


# ------------------------------------------------------------------------------ determinism


@pytest.mark.parametrize("name", ["desk", "itb", "red_flag"])
def test_same_answers_give_byte_identical_traces(planner, name):
    answers = ANSWER_SETS[name]
    first = dump(planner.trace(answers))
    assert dump(planner.trace(answers)) == first
    assert dump(Planner().trace(answers)) == first


def test_dump_is_one_compact_line(traces):
    line = dump(traces["desk"])
    assert line.endswith("\n") and line.count("\n") == 1
    assert json.loads(line) == traces["desk"]
    assert ", " not in line[:40] and '": ' not in line[:40]


def test_dump_keeps_non_ascii_text(traces):
    line = dump(traces["desk"])
    assert "\\u" not in line
    assert "–" in line  # an en dash in an exercise name ("Foam roll – glutes")


# ------------------------------------------------------------------------------ files


def test_write_and_read_traces_round_trip_several_records(tmp_path, traces):
    path = tmp_path / "batch.jsonl"
    records = list(traces.values())
    write_traces(path, records)
    assert path.read_text(encoding="utf-8").count("\n") == len(records)
    assert list(read_traces(path)) == records
    assert path.read_text(encoding="utf-8") == "".join(dump(r) for r in records)


def test_write_traces_accepts_a_generator(tmp_path, planner):
    path = tmp_path / "gen.jsonl"
    write_traces(path, (planner.trace(a, respondent=n) for n, a in [("a", NO_SIGNS), ("b", {})]))
    assert [r["respondent"] for r in read_traces(path)] == ["a", "b"]


def test_read_traces_skips_blank_lines(tmp_path, traces):
    path = tmp_path / "blanks.jsonl"
    path.write_text("\n" + dump(traces["desk"]) + "\n  \n" + dump(traces["itb"]), encoding="utf-8")
    assert [r["respondent"] for r in read_traces(path)] == ["desk", "itb"]


def test_read_traces_names_file_and_line_of_a_bad_json_line(tmp_path, traces):
    path = tmp_path / "bad.jsonl"
    path.write_text(dump(traces["desk"]) + "\n" + "{not json\n", encoding="utf-8")
    with pytest.raises(TraceError) as error:
        list(read_traces(path))
    message = str(error.value)
    assert message.startswith(f"{path}:3: ")
    assert "not a JSON trace line" in message


@pytest.mark.parametrize("line", ['{"answers": {}, "plan": {}}', "[1, 2]", '"text"', "42"])
def test_read_traces_names_file_and_line_of_json_that_is_not_a_trace(tmp_path, traces, line):
    path = tmp_path / "other.jsonl"
    path.write_text(dump(traces["desk"]) + line + "\n", encoding="utf-8")
    with pytest.raises(TraceError) as error:
        list(read_traces(path))
    message = str(error.value)
    assert message.startswith(f"{path}:2: not a hipcoach trace")
    assert "respondent, answers, status, events, unconsumed, plan" in message


def test_read_traces_yields_good_records_before_a_bad_line(tmp_path, traces):
    path = tmp_path / "partial.jsonl"
    path.write_text(dump(traces["desk"]) + "oops\n", encoding="utf-8")
    stream = read_traces(path)
    assert next(stream)["respondent"] == "desk"
    with pytest.raises(TraceError, match=r":2: "):
        next(stream)


def test_read_traces_of_a_missing_file_names_it(tmp_path):
    path = tmp_path / "absent.jsonl"
    with pytest.raises(TraceError) as error:
        list(read_traces(path))
    assert str(error.value) == f"{path}: file not found"


# ------------------------------------------------------------------------------ pick


@pytest.fixture
def batch(tmp_path, traces) -> Path:
    path = tmp_path / "batch.jsonl"
    write_traces(path, [traces["desk"], traces["itb"], traces["red_flag"]])
    return path


def test_pick_returns_the_single_record_without_a_respondent(tmp_path, planner):
    path = tmp_path / "one.jsonl"
    record = planner.trace(load(DESK))
    write_traces(path, [record])
    assert pick(path) == record


def test_pick_finds_a_respondent_in_a_batch(batch, traces):
    assert pick(batch, "itb") == traces["itb"]
    assert pick(batch, "red_flag")["status"] == "refer"


def test_pick_in_a_batch_without_a_respondent_lists_them(batch):
    with pytest.raises(TraceError) as error:
        pick(batch)
    message = str(error.value)
    assert "holds 3 traces" in message and "--respondent" in message
    assert "desk, itb, red_flag" in message


def test_pick_unknown_respondent_names_it_and_lists_the_known(batch):
    with pytest.raises(TraceError) as error:
        pick(batch, "nobody")
    message = str(error.value)
    assert "'nobody'" in message
    assert "respondents: desk, itb, red_flag" in message


def test_pick_in_an_empty_file_says_so(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("", encoding="utf-8")
    with pytest.raises(TraceError, match="holds no traces"):
        pick(path)


# ------------------------------------------------------------------------------ filter_events


def test_filter_by_rule_glob(traces):
    record = traces["desk"]
    events = filter_events(record, rule="cause.*")
    expected = [e for e in fires(record) if e["rule"].startswith("cause.")]
    assert events == expected
    assert len(events) == 18  # 9 from answers, 9 from symptoms (see the desk runner's trace)


def test_filter_by_rule_glob_in_the_middle(traces):
    record = traces["desk"]
    events = filter_events(record, rule="*.weak_glutes.*")
    assert events and all(".weak_glutes." in e["rule"] for e in events)
    assert {e["rule"] for e in events} == {
        "cause.weak_glutes.no_strength", "cause.weak_glutes.runners_knee",
        "cause.weak_glutes.low_back", "cause.weak_glutes.poor_squat",
        "candidate.weak_glutes.strength", "candidate.weak_glutes.abductors",
        "candidate.weak_glutes.dynamic"}


def test_filter_by_rule_prefix(traces):
    record = traces["red_flag"]
    events = filter_events(record, rule="triage")
    assert [e["rule"] for e in events] == ["triage.swelling", "triage.locking_or_giving_way"]


def test_filter_by_layer(traces):
    record = traces["desk"]
    events = filter_events(record, layer="causes")
    assert events == [e for e in record["events"] if e.get("layer") == "causes"]
    assert {e["event"] for e in events} == {"fire", "assert"}
    assert all(e["layer"] == "causes" for e in events)


def test_filter_by_plan_layer_keeps_the_plan_steps_events(traces):
    record = traces["desk"]
    events = filter_events(record, layer="plan")
    shown_as_plan = [e for e in record["events"] if describe(e).split()[2] == "plan"]
    assert events == shown_as_plan


def test_filter_by_fact_text(traces):
    record = traces["desk"]
    events = filter_events(record, fact="runners_knee")
    assert events
    for event in events:
        parts = [event.get(k) for k in ("matched", "concludes", "fact", "exercise")]
        assert "runners_knee" in json.dumps(parts)
    seqs = {e["seq"] for e in events}
    knee = next(e for e in fires(record) if e["rule"] == "symptom.runners_knee.front_knee_pain")
    assert knee["seq"] in seqs  # concludes it
    assert any(e["event"] == "assert" for e in events)  # asserts it
    assert any(e["rule"] == "cause.weak_glutes.runners_knee" for e in events if "rule" in e)
    overuse = next(e for e in fires(record) if e["rule"] == "cause.overuse.recent_load_increase")
    assert overuse["seq"] not in seqs


def test_filter_by_fact_matches_an_exercise_of_plan_step_events(traces):
    record = traces["desk"]
    events = filter_events(record, fact="chair_pose_squats")
    kinds = {e["event"] for e in events}
    assert {"fire", "assert", "drop"} <= kinds


def test_filters_combine(traces):
    record = traces["desk"]
    events = filter_events(record, rule="cause.*", layer="causes", fact="runners_knee")
    assert [e["rule"] for e in events] == [
        "cause.weak_glutes.runners_knee", "cause.weak_quads.runners_knee",
        "cause.tight_hip_flexors.runners_knee", "cause.poor_mechanics.knee_and_squat"]


def test_no_filter_returns_every_event(traces):
    record = traces["itb"]
    assert filter_events(record) == record["events"]


def test_filter_that_matches_nothing_returns_nothing(traces):
    assert filter_events(traces["desk"], rule="nope.*") == []
    assert filter_events(traces["desk"], fact="no_such_fact_anywhere") == []


# ------------------------------------------------------------------------------ describe


def first(record: dict[str, Any], kind: str, **where: Any) -> dict[str, Any]:
    return next(e for e in record["events"] if e["event"] == kind
                and all(e.get(k) == v for k, v in where.items()))


def test_describe_fire_event(traces):
    event = first(traces["desk"], "fire", rule="cause.overuse.recent_load_increase")
    lines = describe(event).splitlines()
    assert len(lines) == 3
    assert lines[0].split() == [str(event["seq"]), "fire", "causes",
                                "cause.overuse.recent_load_increase"]
    assert lines[1].strip() == "matched answer recent_load_increase=true"
    assert lines[2].strip() == "=> cause overuse +0.7 (0.4 -> 0.82)"


def test_describe_fire_event_with_derived_and_string_facts(traces):
    record = traces["desk"]
    squat = describe(first(record, "fire", rule="cause.poor_mechanics.knee_and_squat")).splitlines()
    assert squat[1].strip() == ("matched symptom name=runners_knee, cf=0.8; "
                                "symptom name=poor_squat, cf=0.9")
    knee = describe(first(record, "fire", rule="symptom.runners_knee.front_knee_pain")).splitlines()
    assert knee[1].strip() == 'matched answer knee_pain="front"'


def test_describe_fire_event_of_each_conclusion_kind(traces):
    record = traces["desk"]
    require = describe(first(record, "fire", rule="plan.require.warm_up")).splitlines()[2]
    assert require.strip() == "=> require dynamic or mobility"
    ruled_out = describe(first(record, "fire", rule="rule_out.kneecap_pain")).splitlines()[2]
    assert ruled_out.strip() == "=> ruled_out deep_knee_flexion"
    exclude = describe(first(record, "fire", rule="exclude.ruled_out_demand",
                             concludes=[{"kind": "exclude", "id": "chair_pose_squats"}]))
    assert exclude.splitlines()[2].strip() == "=> exclude chair_pose_squats"
    schedule = describe(first(record, "fire", rule="schedule.strength_days")).splitlines()[2]
    assert schedule.strip() == "=> schedule clamshell in strength_days"
    refer = describe(first(traces["red_flag"], "fire", rule="triage.swelling")).splitlines()[2]
    assert refer.strip() == "=> refer swelling"
    propose = describe(first(record, "fire", rule="candidate.overuse.recovery_stretch"))
    assert propose.splitlines()[2].strip() == "=> candidate reclining_bound_angle +0.41 (0.0 -> 0.41)"


def test_describe_assert_event(traces):
    event = first(traces["desk"], "assert", layer="causes")
    line = describe(event)
    fact = event["fact"]
    assert "\n" not in line
    assert line.split()[:3] == [str(event["seq"]), "assert", "causes"]
    assert f"cause {fact['id']} cf {fact['cf']}" in line
    assert line.endswith("from firings " + ", ".join(map(str, event["from"])))


def test_describe_withhold_event(traces):
    event = first(traces["withholds_a_cause"], "withhold")
    line = describe(event)
    assert line.split()[:3] == [str(event["seq"]), "withhold", "causes"]
    assert "cause weak_glutes cf 0.16 (below threshold 0.2)" in line


def test_describe_select_event(traces):
    event = first(traces["desk"], "select", exercise="clamshell")
    line = describe(event)
    assert line.split()[:4] == [str(event["seq"]), "select", "plan", "clamshell"]
    assert ("[plan.require.hip_strength_for_kneecap]: the plan needs a strength exercise working "
            "the hip abductors or hip rotators") in line


def test_describe_select_event_that_fills_spare_time_names_no_rule(traces):
    event = next(e for e in of_kind(traces["desk"], "select") if e["rule"] is None)
    line = describe(event)
    assert "[" not in line
    assert line.endswith(f"{event['exercise']}: {event['reason']}")


def test_describe_drop_event(traces):
    event = first(traces["desk"], "drop", exercise="chair_pose_squats")
    line = describe(event)
    assert line.split()[:4] == [str(event["seq"]), "drop", "plan", "chair_pose_squats"]
    assert "[exclude.ruled_out_demand]: it asks for bending the knee deeply" in line


def test_describe_unmet_event(traces):
    event = first(traces["short_on_time"], "unmet")
    assert describe(event) == f"{event['seq']:>4} unmet    plan       {event['reason']}"


def test_describe_renders_every_event_of_a_batch(traces):
    for record in traces.values():
        for event in record["events"]:
            text = describe(event)
            assert text.splitlines()[0].split()[0] == str(event["seq"])
            assert event["event"] in text.splitlines()[0]


# ------------------------------------------------------------------------------ coverage


@pytest.fixture(scope="module")
def small_batch(traces) -> list[dict[str, Any]]:
    return [traces[n] for n in ("desk", "itb", "red_flag", "no_signs", "high_pain")]


def test_coverage_counts_firings_per_rule(small_batch, rulebase, kb):
    report = coverage(small_batch, rulebase, kb)
    manual = Counter(e["rule"] for r in small_batch for e in r["events"] if e["event"] == "fire")
    assert [row["rule"] for row in report["rules"]] == [rule.id for rule in rulebase.rules]
    assert {row["rule"]: row["fired"] for row in report["rules"]} == {
        rule.id: manual[rule.id] for rule in rulebase.rules}
    # a rule that fires once per item fires several times in one trace
    rows = {row["rule"]: row for row in report["rules"]}
    assert rows["schedule.cool_down_after_run"]["fired"] > rows["schedule.cool_down_after_run"]["traces"]


def test_coverage_counts_traces_in_which_a_rule_fired(small_batch, rulebase, kb):
    report = coverage(small_batch, rulebase, kb)
    for row in report["rules"]:
        expected = sum(1 for r in small_batch
                       if any(e["event"] == "fire" and e["rule"] == row["rule"] for e in r["events"]))
        assert row["traces"] == expected, row["rule"]
    rows = {row["rule"]: row for row in report["rules"]}
    assert rows["plan.require.strength"]["traces"] == len(small_batch)
    assert rows["triage.swelling"] == {"rule": "triage.swelling", "fired": 1, "traces": 1}


def test_coverage_never_fired_is_exactly_the_rules_with_zero(small_batch, rulebase, kb):
    report = coverage(small_batch, rulebase, kb)
    fired = {e["rule"] for r in small_batch for e in r["events"] if e["event"] == "fire"}
    assert report["never_fired"] == [rule.id for rule in rulebase.rules if rule.id not in fired]
    assert report["never_fired"] == [row["rule"] for row in report["rules"] if row["fired"] == 0]
    assert "triage.severe_pain" in report["never_fired"]
    assert "triage.swelling" not in report["never_fired"]


def test_coverage_never_chosen_is_exactly_the_exercises_in_no_plan(small_batch, rulebase, kb):
    report = coverage(small_batch, rulebase, kb)
    chosen = Counter(i["exercise"] for r in small_batch for i in r["plan"]["items"])
    assert report["exercises"] == [{"exercise": ex, "chosen": chosen[ex]} for ex in kb.exercises]
    assert report["never_chosen"] == [ex for ex in kb.exercises if ex not in chosen]
    assert report["never_chosen"] and len(report["never_chosen"]) < len(kb.exercises)


def test_coverage_counts_traces_and_statuses(small_batch, rulebase, kb):
    report = coverage(iter(small_batch), rulebase, kb)  # a stream is enough
    assert report["traces"] == 5
    assert report["status"] == {"plan": 4, "refer": 1}
    assert report["unknown_rules"] == []


def test_coverage_reports_rules_that_fired_but_are_not_in_the_rule_base(traces, rulebase, kb):
    record = json.loads(json.dumps(traces["no_signs"]))
    record["events"][0]["rule"] = "cause.retired_rule"
    report = coverage([record], rulebase, kb)
    assert report["unknown_rules"] == ["cause.retired_rule"]


def test_coverage_of_no_traces(rulebase, kb):
    report = coverage([], rulebase, kb)
    assert report["traces"] == 0 and report["status"] == {}
    assert report["never_fired"] == [rule.id for rule in rulebase.rules]
    assert report["never_chosen"] == list(kb.exercises)
