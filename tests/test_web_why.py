"""hipcoach.web.why: an exercise's reasons in a runner's words, down to the answers."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from hipcoach.web.why import Reason, answered, why

PERSONAS = sorted((ROOT / "tests" / "personas").glob("*.json"))


def leaves(tree: list[Reason] | tuple[Reason, ...]) -> list[str]:
    found = []
    for reason in tree:
        found += leaves(reason.under) if reason.under else [reason.text]
    return found


def texts(tree) -> list[str]:
    return [t for r in tree for t in [r.text, *texts(r.under)]]


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.stem)
def test_every_reason_ends_at_an_answer_and_names_no_rule(planner, persona):
    plan = planner.plan(json.loads(persona.read_text(encoding="utf-8")))
    rules = {s["rule"] for item in plan["items"] for s in item["because"]}
    rules |= {s["rule"] for kind in ("symptoms", "causes") for c in plan[kind] for s in c["because"]}
    for item in plan["items"]:
        tree = why(item, plan, planner.kb.questions)
        assert tree and all(leaf.startswith("You answered “") for leaf in leaves(tree))
        assert not any(rule in text for text in texts(tree) for rule in rules)


def test_answers_are_shown_as_the_form_shows_them(kb):
    questions = kb.questions
    assert answered(questions["knee_pain"], "front") == "Around or behind the kneecap"
    assert answered(questions["squat_difficulty"], True) == "Yes"
    assert answered(questions["equipment"], ["mat", "ball"]) == \
        "Exercise or yoga mat; Firm ball, such as a lacrosse or massage ball"
    assert answered(questions["equipment"], []) == "none of them"
    assert answered(questions["sitting_hours"], 9.0) == "9"


def test_a_cause_reads_with_its_certainty_word(planner):
    plan = planner.plan({"knee_pain": "front", "sitting_hours": 10})
    tree = why(plan["items"][0], plan, planner.kb.questions)
    words = texts(tree)
    assert any(t.startswith(("Likely: ", "Possible: ")) for t in words)


def test_the_tree_as_html_is_nested_lists_with_every_text_escaped():
    from hipcoach.web.why import html

    tree = [Reason("<script>alert(1)</script>", (Reason("You answered “x” with: a & b"),))]
    assert str(html(tree)) == ('<ul class="reasons"><li>&lt;script&gt;alert(1)&lt;/script&gt;'
                               '<ul class="reasons"><li>You answered “x” with: a &amp; b</li></ul>'
                               '</li></ul>')
