"""``hipcoach questionnaire``: the form to build, and a form built from it scores unmapped."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import forms
from clirunner import invoke, ok

KB = forms.KB


def test_text_lists_every_question_in_order_with_type_and_options() -> None:
    text = ok(invoke("questionnaire")).stdout
    positions = [text.index(f"{n}. {q.prompt}") for n, q in enumerate(KB.questions.values(), 1)]
    assert positions == sorted(positions)
    for question in KB.questions.values():
        for choice in question.choices:
            assert f"   - {choice.label}\n" in text
    assert "   - Yes\n   - No\n" in text
    assert "type: short answer, a whole number, from 0 to 10" in text
    assert "type: checkboxes" in text


def test_skip_logic_is_in_words() -> None:
    text = ok(invoke("questionnaire")).stdout
    pain = text[text.index("On a scale of 0 to 10"):]
    pain = pain[:pain.index("\n\n")]
    assert ("Show only if the answer to question 4 ('Where do you feel knee pain, if anywhere?') "
            "is not 'No knee pain', or the answer to question 5") in pain
    load = text[text.index("Have you increased your running"):]
    assert "is more than 0" in load[:load.index("\n\n")]


def test_markdown_and_json() -> None:
    markdown = ok(invoke("questionnaire", "--format", "markdown")).stdout
    assert markdown.startswith("# The hipcoach questionnaire as a form\n")
    assert "## 1. How old are you?" in markdown and "- option: Foam roller" in markdown
    data = json.loads(ok(invoke("questionnaire", "--format", "json")).stdout)
    assert [q["answer"] for q in data["questions"]] == list(KB.questions)
    pain = next(q for q in data["questions"] if q["answer"] == "pain_level")
    assert pain["show_if_any"][0] == {"answer": "knee_pain", "op": "ne", "value": "none"}
    assert (pain["min"], pain["max"]) == (0, 10)


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_the_output_is_the_same_every_time(fmt: str) -> None:
    assert ok(invoke("questionnaire", "--format", fmt)).stdout == \
        ok(invoke("questionnaire", "--format", fmt)).stdout


def test_a_form_built_from_the_json_scores_with_no_mapping(tmp_path: Path, planner) -> None:  # type: ignore[no-untyped-def]
    """A club's form: titles and options copied from the output (in capitals, with stray
    spaces, as people type them), pain level left blank where the skip logic hides it (no pain
    anywhere: a blank pain level of a runner in pain is rejected, see test_score_cli)."""
    questions = json.loads(ok(invoke("questionnaire", "--format", "json")).stdout)["questions"]
    head = ["Timestamp", "Email address"] + [f"  {q['title'].upper()} " for q in questions]
    pick = {q["answer"]: q["options"] for q in questions}
    row = {"age": "40", "weekly_km": "30", "red_flags": "", "knee_pain": pick["knee_pain"][0],
           "hip_pain": pick["hip_pain"][0], "low_back": pick["low_back"][0], "pain_level": "",
           "squat_difficulty": "yes", "getting_up_difficulty": "No", "sitting_hours": "9",
           "strength_sessions_per_week": "0", "mobility_sessions_per_week": "1",
           "recent_load_increase": "No", "equipment": "; ".join(pick["equipment"][:2]).lower(),
           "minutes": "20"}
    survey = tmp_path / "club.csv"
    # an answer this club's row leaves out (one added to the questionnaire since) is its default
    row |= {q.id: forms.shown(q, forms.plain_cell(q.default)) for q in planner.kb.questions.values()
            if q.id not in row}
    with open(survey, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(head)
        writer.writerow(["2026/11/04 7:51:43 PM GMT+1", "ana@example.org",
                         *(row[q["answer"]] for q in questions)])
    result = ok(invoke("score", survey, "-o", "-", "--format", "google"))
    ((plan),) = list(csv.DictReader(result.stdout.splitlines()))
    answers = {"age": 40, "weekly_km": 30, "knee_pain": "none", "hip_pain": "none",
               "low_back": "none", "squat_difficulty": True, "sitting_hours": 9,
               "mobility_sessions_per_week": 1, "equipment": ["foam_roller", "resistance_band"],
               "minutes": 20}
    expected = planner.plan(answers)
    assert plan["status"] == expected["status"]
    assert plan["exercises"] == ";".join(i["exercise"] for i in expected["items"])
