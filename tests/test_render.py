"""hipcoach.present.render: plans as a runner reads them (text, Markdown) and as tools read them (JSON)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from conftest import EXAMPLES
from hipcoach.present.labels import Labels
from hipcoach.present.render import FORMATS, render

DESK = yaml.safe_load((EXAMPLES / "desk_runner.yaml").read_text(encoding="utf-8"))
ITB = yaml.safe_load((EXAMPLES / "itb_trail_runner.yaml").read_text(encoding="utf-8"))
RED_FLAG = yaml.safe_load((EXAMPLES / "red_flag.yaml").read_text(encoding="utf-8"))
ALL_EQUIPMENT = ["foam_roller", "resistance_band", "ball", "table", "doorway", "mat"]

# A spread of runners, for properties that must hold for every plan.
ANSWER_SETS = {
    "defaults": {},
    "desk": DESK,
    "itb": ITB,
    "desk_5_min": {**DESK, "minutes": 5},
    "no_equipment_5_min": {"minutes": 5, "equipment": []},
    "all_equipment_90_min": {"equipment": ALL_EQUIPMENT, "minutes": 90, "hip_pain": "front",
                             "low_back": "pain", "pain_level": 3},
    "foam_roller_regular_trainer": {"strength_sessions_per_week": 3,
                                    "mobility_sessions_per_week": 3,
                                    "equipment": ["foam_roller"], "minutes": 90},
}


@pytest.fixture(scope="module")
def desk_plan(planner) -> dict[str, Any]:
    return planner.plan(DESK)


@pytest.fixture(scope="module")
def referral(planner) -> dict[str, Any]:
    plan = planner.plan(RED_FLAG)
    assert plan["status"] == "refer"
    return plan


@pytest.fixture(scope="module", params=sorted(ANSWER_SETS))
def any_plan(request, planner) -> dict[str, Any]:
    plan = planner.plan(ANSWER_SETS[request.param])
    assert plan["status"] == "plan"
    return plan


def heading(block: dict[str, Any]) -> str:
    return f"{block['label'].upper()}  ({block['minutes']} min; {block['frequency']})"


def shown_drops(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The drops a runner is shown: ruled out, or cut for time (the rest are only counted)."""
    return [d for d in plan["dropped"] if d["kind"] in ("equipment", "caution", "budget")]


def item_head(item: dict[str, Any]) -> str:
    return f"  * {item['name']}: "


# ------------------------------------------------------------------------------------------ text


def test_text_is_the_default_format(desk_plan):
    assert render(desk_plan) == render(desk_plan, "text")


def test_every_format_ends_with_one_newline(desk_plan, referral, kb, rulebase):
    labels = Labels.of(kb, rulebase)
    for plan in (desk_plan, referral):
        for fmt in FORMATS:
            out = render(plan, fmt, labels=labels)
            assert out.endswith("\n") and not out.endswith("\n\n"), fmt


def test_a_handout_without_its_labels_is_refused(desk_plan):
    with pytest.raises(ValueError, match="needs the labels"):
        render(desk_plan, "html")


def test_text_header_states_minutes_and_balance(any_plan):
    first = render(any_plan).splitlines()[0]
    state = "balanced" if any_plan["balanced"] else "not fully balanced"
    assert first == (f"Your hip plan: {any_plan['total_minutes']} of your "
                     f"{any_plan['budget_minutes']} minutes a day, {state}")


def test_text_words_symptoms_and_causes_by_certainty_not_numbers(desk_plan):
    out = render(desk_plan)
    for entry in desk_plan["symptoms"] + desk_plan["causes"]:
        name = entry["name"][0].lower() + entry["name"][1:]
        assert f"{entry['certainty']} {name}" in out
    assert {e["certainty"] for e in desk_plan["causes"]} == {"likely", "possible"}
    assert "%" not in render(desk_plan) and "%" not in render(desk_plan, "markdown")


def test_text_says_once_that_it_is_not_a_diagnosis(any_plan):
    for fmt in ("text", "markdown"):
        assert render(any_plan, fmt).count("not a diagnosis") == 1


def test_text_shows_no_rule_ids_or_engine_words(any_plan, rulebase):
    for fmt in ("text", "markdown"):
        out = render(any_plan, fmt)
        for rule in rulebase.rules:
            assert rule.id not in out, (fmt, rule.id)
        for word in ("answer minutes", "exclude.", "require", "cf ", "candidate"):
            assert word not in out, (fmt, word)


def test_advice_comes_before_the_exercises(any_plan):
    lines = render(any_plan).splitlines()
    first_block = lines.index(heading(any_plan["schedule"][0]))
    advice = lines.index("ADVICE")
    assert advice < first_block
    for entry in any_plan["advice"]:
        assert lines.index(f"  * {entry['text']}") < first_block


def test_every_plan_carries_pain_monitoring_and_see_a_clinician_advice(any_plan):
    ids = [a["id"] for a in any_plan["advice"]]
    assert "pain_monitoring" in ids and "see_clinician_if_persists" in ids
    for entry in any_plan["advice"]:
        assert entry["rule"] and entry["source"] and entry["because"]


def test_text_headings_follow_slot_order(any_plan, rulebase):
    lines = render(any_plan).splitlines()
    positions = [lines.index(heading(block)) for block in any_plan["schedule"]]
    assert positions == sorted(positions)
    slot_order = [slot.id for slot in rulebase.slots]
    slots = [block["slot"] for block in any_plan["schedule"]]
    assert slots == sorted(slots, key=slot_order.index)


def test_desk_plan_has_before_after_and_strength_slots(desk_plan):
    lines = render(desk_plan).splitlines()
    found = [line.split("  (")[0] for line in lines if line.split("  (")[0] in
             ("BEFORE EVERY RUN", "AFTER EVERY RUN", "STRENGTH DAYS")]
    assert found == ["BEFORE EVERY RUN", "AFTER EVERY RUN", "STRENGTH DAYS"]


def test_text_puts_each_item_under_its_own_slot(any_plan):
    lines = render(any_plan).splitlines()
    items = {item["exercise"]: item for item in any_plan["items"]}
    for block in any_plan["schedule"]:
        start = lines.index(heading(block)) + 1
        # the section runs to the next line that is not indented: a heading or the closing line
        end = next(i for i in range(start, len(lines)) if lines[i] and not lines[i].startswith(" "))
        shown = [ex for line in lines[start:end] for ex, item in items.items()
                 if line.startswith(item_head(item))]
        assert shown == block["exercises"]
        assert all(items[ex]["when"] == block["slot"] for ex in shown)


def test_text_block_minutes_add_up(any_plan):
    items = {item["exercise"]: item for item in any_plan["items"]}
    for block in any_plan["schedule"]:
        assert block["minutes"] == pytest.approx(sum(items[ex]["minutes"] for ex in block["exercises"]))


def test_brief_item_line_shows_name_dose_minutes_cue_and_why(any_plan):
    lines = render(any_plan, brief=True).splitlines()
    for item in any_plan["items"]:
        index = next(i for i, line in enumerate(lines) if line.startswith(item_head(item)))
        head, cue, why = lines[index:index + 3]
        assert item["dose"] in head
        a_day = " a day" if item["per_day"] > 1 else ""
        assert head.endswith(f", about {item['minutes']} min{a_day}")
        assert cue == f"      Cue: {item['cue']}"
        assert why.startswith("      Why: for ")
        assert len(why) > len("      Why: for ")


def test_full_text_shows_each_exercise_s_steps_and_cautions(any_plan):
    lines = render(any_plan).splitlines()
    for item in any_plan["items"]:
        index = next(i for i, line in enumerate(lines) if line.startswith(item_head(item)))
        steps = lines[index + 1:index + 1 + len(item["steps"])]
        assert steps == [f"      {n}. {s}" for n, s in enumerate(item["steps"], start=1)]
        after = lines[index + 1 + len(item["steps"]):]
        for caution in item["cautions"]:
            assert any(line.startswith("      Take care: ") and line.endswith(caution[1:])
                       for line in after[:len(item["cautions"])]), caution


def test_brief_is_shorter_and_has_no_steps(desk_plan):
    full, brief = render(desk_plan), render(desk_plan, brief=True)
    assert len(brief) < len(full)
    assert "Take care:" not in brief and "      1. " not in brief


def test_text_why_line_names_the_causes_served(desk_plan):
    lines = render(desk_plan, brief=True).splitlines()
    names = {cause["id"]: cause["name"].lower() for cause in desk_plan["causes"]}
    for item in desk_plan["items"]:
        index = next(i for i, line in enumerate(lines) if line.startswith(item_head(item)))
        why = lines[index + 2]
        for cause in item["serves"]:
            assert names[cause] in why


def test_text_why_line_for_an_item_serving_no_cause(desk_plan):
    plan = copy.deepcopy(desk_plan)
    plan["items"][0]["serves"] = []
    lines = render(plan, brief=True).splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(item_head(plan["items"][0])))
    assert lines[index + 2] == "      Why: for general hip maintenance"


def test_sides_are_never_said_twice(any_plan):
    out = render(any_plan) + render(any_plan, "markdown")
    assert "each side, each side" not in out
    for item in any_plan["items"]:
        head = next(line for line in out.splitlines() if line.startswith(item_head(item)))
        assert head.count("each side") <= 1, head
        assert head.count("alternat") <= 1, head


def test_sides_are_added_when_the_dose_does_not_say_them(desk_plan):
    plan = copy.deepcopy(desk_plan)
    item = plan["items"][0]
    item.update(dose="2 × 12", sides="each")
    assert f"{item_head(item)}2 × 12, each side, about" in render(plan)
    item.update(sides="both")
    assert f"{item_head(item)}2 × 12, both sides together, about" in render(plan)
    item.update(dose="2 × 12 each side")
    assert f"{item_head(item)}2 × 12 each side, about" in render(plan)


def test_per_leg_doses_do_not_get_each_side_appended(desk_plan, kb):
    per_leg = [ex for ex in kb.exercises.values() if "per leg" in ex.dose]
    assert per_leg
    plan = copy.deepcopy(desk_plan)
    item = plan["items"][0]
    exercise = per_leg[0]
    item.update(name=exercise.name, dose=exercise.dose, sides=exercise.sides)
    head = next(line for line in render(plan).splitlines() if line.startswith(item_head(item)))
    assert "each side" not in head, head


def test_text_lists_dropped_exercises_with_reasons(desk_plan):
    out = render(desk_plan)
    assert shown_drops(desk_plan)
    section = out[out.index("LEFT OUT"):]
    for dropped in shown_drops(desk_plan):
        assert f"  * {dropped['name']}: {dropped['reason']}" in section


def test_text_counts_the_drops_it_does_not_list(desk_plan):
    others = len(desk_plan["dropped"]) - len(shown_drops(desk_plan))
    assert others > 0
    assert f"{others} more suitable exercises did not make this plan" in render(desk_plan)


def test_text_has_no_left_out_section_when_nothing_was_dropped(desk_plan):
    plan = copy.deepcopy(desk_plan)
    plan["dropped"] = []
    assert "LEFT OUT" not in render(plan)


def test_text_names_missing_equipment_in_plain_words(planner):
    plan = planner.plan({**DESK, "equipment": []})
    out = render(plan)
    assert "  * Foam roll – glutes: needs a foam roller, which you don't have" in out
    assert "missing_equipment" not in out and "foam_roller" not in out


def test_text_says_when_the_plan_stops_at_its_most_exercises(planner):
    plan = planner.plan({**DESK, "minutes": 90})
    assert plan["capped"] and len(plan["items"]) == plan["max_items"]
    assert (f"This plan stops at {plan['max_items']} exercises, the most it gives at once so the "
            f"routine stays doable; it takes {plan['total_minutes']} of your 90 minutes.") in render(plan)
    assert "stops at" not in render(planner.plan({**DESK, "minutes": 10}))


# ------------------------------------------------------------------------------ balance and notes


def test_notes_appear_exactly_when_the_plan_is_not_balanced(any_plan):
    out = render(any_plan)
    md = render(any_plan, "markdown")
    if any_plan["balanced"]:
        assert any_plan["notes"] == []
        assert "COULD NOT BALANCE THE PLAN" not in out
        assert "## Could not balance the plan" not in md
    else:
        assert any_plan["notes"]
        assert "COULD NOT BALANCE THE PLAN" in out
        assert "## Could not balance the plan" in md
        for note in any_plan["notes"]:
            assert f"  * {note}" in out
            assert f"- {note}" in md


def test_a_five_minute_plan_with_no_equipment_is_consistent(planner):
    plan = planner.plan({"minutes": 5, "equipment": []})
    assert plan["total_minutes"] <= 5
    out = render(plan)
    assert ("not fully balanced" in out.splitlines()[0]) == (not plan["balanced"])
    assert ("COULD NOT BALANCE THE PLAN" in out) == (not plan["balanced"])


def test_at_least_one_sample_runner_gets_an_unbalanced_plan(planner):
    """Guards the consistency test above against only ever seeing balanced plans."""
    assert any(not planner.plan(answers)["balanced"] for answers in ANSWER_SETS.values())


def test_notes_are_printed_for_a_plan_marked_unbalanced(desk_plan):
    plan = copy.deepcopy(desk_plan)
    plan.update(balanced=False, notes=["no time left for a stretch exercise"])
    plan["unmet"] = [{"rule": "plan.require.stretch", "kind": "no_time", "reason": plan["notes"][0]}]
    out = render(plan)
    assert "not fully balanced" in out.splitlines()[0]
    section = out[out.index("COULD NOT BALANCE THE PLAN"):]
    assert "  * no time left for a stretch exercise" in section


# -------------------------------------------------------------------------------------- markdown


def test_markdown_uses_headings_and_bullets(any_plan):
    lines = render(any_plan, "markdown").splitlines()
    assert lines[0].startswith("# Your hip plan: ")
    for block in any_plan["schedule"]:
        assert f"## {block['label']} ({block['minutes']} min; {block['frequency']})" in lines
    brief = render(any_plan, "markdown", brief=True).splitlines()
    for item in any_plan["items"]:
        index = next(i for i, line in enumerate(brief) if line.startswith(f"- **{item['name']}: "))
        assert brief[index].endswith("**")
        assert brief[index + 1] == f"  - Cue: {item['cue']}"
        assert brief[index + 2].startswith("  - Why: for ")
        index = next(i for i, line in enumerate(lines) if line.startswith(f"- **{item['name']}: "))
        assert lines[index + 1] == f"  - 1. {item['steps'][0]}"
    assert not any(line.startswith("  * ") for line in lines)
    assert not any(line.isupper() for line in lines if line.strip())


def test_markdown_lists_dropped_exercises_as_bullets(desk_plan):
    md = render(desk_plan, "markdown")
    assert "## Left out" in md
    for dropped in shown_drops(desk_plan):
        assert f"- {dropped['name']}: {dropped['reason']}" in md


# ------------------------------------------------------------------------------------------- json


def test_json_round_trips(any_plan):
    assert json.loads(render(any_plan, "json")) == any_plan


def test_json_round_trips_a_referral(referral):
    assert json.loads(render(referral, "json")) == referral


def test_json_keeps_unicode_and_indents(desk_plan):
    out = render(desk_plan, "json")
    assert "\\u" not in out
    assert out.startswith('{\n  "status": "plan",')


def test_json_ignores_explain(desk_plan):
    assert render(desk_plan, "json", explain=True) == render(desk_plan, "json")


# -------------------------------------------------------------------------------------- referral


def test_referral_leads_with_its_urgency_and_closes_with_matching_advice(referral):
    lines = render(referral).splitlines()
    assert referral["urgency"] == "soon"
    assert lines[0] == referral["referral"]["heading"] == "See a physiotherapist or doctor before you start"
    assert render(referral, "markdown").splitlines()[0] == f"# {referral['referral']['heading']}"
    assert lines[-1].startswith("Made by hipcoach ")  # the page's footer, then
    assert lines[-3] == referral["referral"]["advice"]  # the last words a runner reads


def test_an_emergency_never_ends_with_routine_advice(planner):
    plan = planner.plan({"red_flags": ["bladder_or_bowel_change", "swelling"]})
    assert plan["urgency"] == "emergency"
    assert plan["reasons"][0]["id"] == "bladder_or_bowel_change"  # most urgent first
    for fmt in ("text", "markdown"):
        out = render(plan, fmt)
        assert out.splitlines()[0].lstrip("# ") == "Emergency: go to an emergency department now"
        assert "emergency department" in out.splitlines()[-3]
        assert "physiotherapist" not in out


def test_referral_lists_every_reason(referral):
    assert len(referral["reasons"]) == len(RED_FLAG["red_flags"])
    out = render(referral)
    md = render(referral, "markdown")
    for reason in referral["reasons"]:
        assert f"  * {reason['message']}" in out
        assert f"- {reason['message']}" in md
    assert referral["referral"]["advice"] in out and referral["referral"]["advice"] in md


def test_referral_shows_no_plan_parts(referral):
    out = render(referral)
    for absent in ("Your hip plan", "Cue:", "Why:", "LEFT OUT", "COULD NOT BALANCE", "ADVICE"):
        assert absent not in out


# --------------------------------------------------------------------------------------- explain


def test_explain_is_off_by_default(desk_plan):
    out = render(desk_plan)
    assert "<-" not in out and "HOW THIS PLAN WAS DERIVED" not in out


def test_explain_appends_to_the_plain_rendering(desk_plan):
    plain = render(desk_plan)
    explained = render(desk_plan, explain=True)
    body, footer = plain.rstrip("\n").rsplit("\n\n", 1)
    assert explained.startswith(body + "\n\nHOW THIS PLAN WAS DERIVED\n")
    assert explained.endswith("\n\n" + footer + "\n") and footer.startswith("Made by hipcoach ")


def _explain_blocks(plan: dict[str, Any]) -> dict[str, list[str]]:
    """The explain text cut into one block of lines per item."""
    lines = render(plan, explain=True).splitlines()
    lines = lines[lines.index("HOW THIS PLAN WAS DERIVED"):]
    starts = {item["exercise"]: lines.index(f"  {item['name']} [{item['exercise']}] "
                                            f"({round(item['confidence'] * 100)}%)")
              for item in plan["items"]}
    order = sorted(starts.values()) + [len(lines)]
    return {ex: lines[start:order[order.index(start) + 1]] for ex, start in starts.items()}


def test_explain_chains_reach_an_answer_for_every_item(any_plan):
    for exercise, block in _explain_blocks(any_plan).items():
        arrows = [line for line in block if line.lstrip().startswith("<- ")]
        assert arrows, exercise
        assert any(line.lstrip().startswith("<- answer ") for line in arrows), exercise


def test_explain_names_every_supporting_rule(any_plan):
    blocks = _explain_blocks(any_plan)
    for item in any_plan["items"]:
        text = "\n".join(blocks[item["exercise"]])
        for support in item["because"]:
            assert f"<- {support['rule']} (adds " in text
        assert "  chosen" in text


def test_explain_shows_answer_values(desk_plan):
    out = render(desk_plan, explain=True)
    assert "<- answer knee_pain = front" in out
    assert f"<- answer minutes = {DESK['minutes']}" in out


def test_markdown_explain_is_a_fenced_section(desk_plan):
    md = render(desk_plan, "markdown", explain=True)
    tail = md[md.index("## How this plan was derived"):].splitlines()
    assert tail[2] == "```" and tail[-3] == "```" and tail[-1].startswith("_Made by hipcoach ")
    assert any("<- answer " in line for line in tail)


def test_referral_explain_reaches_the_red_flag_answers(referral):
    out = render(referral, explain=True)
    assert "Why a referral:" in out
    for reason in referral["reasons"]:
        assert f"  {reason['id']} <- {reason['rule']}: {reason['message']}" in out
    for flag in RED_FLAG["red_flags"]:
        assert f"<- answer red_flags = {flag}" in out
