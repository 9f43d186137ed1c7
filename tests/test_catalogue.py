"""present/catalogue.py: the knowledge base and rules as `kb show` gives them, as data and words."""

from __future__ import annotations

from hipcoach.present.catalogue import KINDS, by_kind, entry_data, entry_text, mentions, summary


def test_every_kind_is_catalogued(kb, rulebase):
    assert set(by_kind(kb, rulebase)) == set(KINDS)


def test_a_rule_as_data_has_the_shape_of_its_file(rulebase):
    rule = rulebase.by_id()["symptom.poor_squat.reported"]
    data = entry_data("rule", rule)
    assert data["then"] == {"symptom": "poor_squat"} and data["file"] == "symptoms.yaml"
    assert [t["field"] for t in data["when"][0]["tests"]] == ["squat_difficulty"]


def test_the_rules_that_mention_a_question_read_it(rulebase):
    named = [r.id for r in rulebase.rules if mentions(r, "question", "squat_difficulty")]
    assert "symptom.poor_squat.reported" in named
    assert all("squat_difficulty" in rulebase.by_id()[r].answers_used for r in named)


def test_an_entry_in_words_leaves_out_made_up_aliases(rulebase):
    rule = rulebase.by_id()["symptom.poor_squat.reported"]
    text = entry_text({"kind": "rule", **entry_data("rule", rule)})
    assert text.startswith("rule symptom.poor_squat.reported\n")
    assert "  when: answer squat_difficulty eq true\n" in text


def test_the_summary_counts_each_kind(kb, rulebase):
    text = summary(kb, rulebase, by_kind(kb, rulebase))
    assert f"Exercises ({len(kb.exercises)})" in text and f"{len(kb.questions)} questions" in text
