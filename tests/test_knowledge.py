"""The knowledge base: the bundled files load and hang together; planted defects fail on load
with an error naming the file, the entry and the problem."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import hipcoach
from hipcoach import DataFileError, HipcoachError, KnowledgeError, load_knowledge
from hipcoach.kb.bundled import knowledge_dir
from hipcoach.kb.knowledge import FILES, QUESTION_TYPES

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"

#: Titles of the seed articles the knowledge base is written from.
SEED_TITLES = (
    "2 Stretches to Help Improve Hip Mobility",
    "3 Quick Hip Exercises For Runners",
    "Loosen Up Your Hips",
    "Simple Tips for Sore Hips",
    "Lateral Hip & Low Back Stretch for Runners",
)


@pytest.fixture(scope="module")
def bundled_kb() -> hipcoach.KnowledgeBase:
    return load_knowledge(knowledge_dir())


def raw(name: str) -> Any:
    return yaml.safe_load((knowledge_dir() / name).read_text(encoding="utf-8"))


# =========================================================================== bundled data

def test_bundled_knowledge_loads_with_content(bundled_kb):
    assert len(bundled_kb.exercises) >= 10
    assert bundled_kb.causes and bundled_kb.symptoms and bundled_kb.sources
    assert "equipment" in bundled_kb.questions
    assert re.fullmatch(r"[0-9a-f]{64}", bundled_kb.digest)


def test_loading_twice_gives_equal_knowledge_and_digest(bundled_kb):
    again = load_knowledge(knowledge_dir())
    assert again == bundled_kb
    assert again.digest == bundled_kb.digest


def test_every_entry_of_each_file_is_loaded(bundled_kb):
    assert list(bundled_kb.exercises) == [e["id"] for e in raw("exercises.yaml")["exercises"]]
    assert list(bundled_kb.causes) == [e["id"] for e in raw("causes.yaml")["causes"]]
    assert list(bundled_kb.symptoms) == [e["id"] for e in raw("symptoms.yaml")["symptoms"]]
    assert list(bundled_kb.sources) == [e["id"] for e in raw("sources.yaml")["sources"]]
    assert list(bundled_kb.questions) == [q["id"] for q in raw("questionnaire.yaml")["questions"]]


def test_exercise_category_targets_when_sides_are_in_vocabulary(bundled_kb):
    vocab = bundled_kb.vocabulary
    for ex in bundled_kb.exercises.values():
        assert ex.category in vocab.categories, ex.id
        assert ex.targets and set(ex.targets) <= set(vocab.muscles), ex.id
        assert ex.when in vocab.when, ex.id
        assert ex.sides in vocab.sides, ex.id


def test_every_category_has_at_least_one_exercise(bundled_kb):
    used = {ex.category for ex in bundled_kb.exercises.values()}
    assert used == set(bundled_kb.vocabulary.categories)


def test_exercise_equipment_is_from_equipment_question(bundled_kb):
    allowed = set(bundled_kb.questions["equipment"].values)
    for ex in bundled_kb.exercises.values():
        assert set(ex.equipment) <= allowed, ex.id
        assert len(set(ex.equipment)) == len(ex.equipment), ex.id


def test_every_source_reference_exists(bundled_kb):
    cited = [ex.source for ex in bundled_kb.exercises.values()]
    cited += [c.source for c in bundled_kb.causes.values()]
    cited += [s.source for s in bundled_kb.symptoms.values()]
    assert set(cited) <= set(bundled_kb.sources)


def test_every_variant_of_names_another_existing_exercise(bundled_kb):
    variants = [ex for ex in bundled_kb.exercises.values() if ex.variant_of is not None]
    assert variants, "the bundled data has variants; this test must check some"
    for ex in variants:
        assert ex.variant_of in bundled_kb.exercises, ex.id
        assert ex.variant_of != ex.id
        assert bundled_kb.exercises[ex.variant_of].category == ex.category, ex.id


def test_every_exercise_has_steps_cue_dose_and_positive_minutes(bundled_kb):
    for ex in bundled_kb.exercises.values():
        assert 3 <= len(ex.steps) <= 7, ex.id
        assert all(step.strip() for step in ex.steps), ex.id
        assert ex.cue.strip() and ex.dose.strip() and ex.name.strip(), ex.id
        assert 0 < ex.minutes <= 30, ex.id
        assert len(ex.cautions) <= 3, ex.id


def test_causes_and_symptoms_have_name_and_description(bundled_kb):
    for concept in [*bundled_kb.causes.values(), *bundled_kb.symptoms.values()]:
        assert concept.name.strip() and concept.description.strip(), concept.id
    assert not set(bundled_kb.causes) & set(bundled_kb.symptoms)


def test_every_source_has_title_and_publisher(bundled_kb):
    for source in bundled_kb.sources.values():
        assert source.title.strip() and source.publisher.strip(), source.id
        assert source.citation == f"{source.title} ({source.publisher})"


def test_kb_citation_looks_up_source(bundled_kb):
    assert bundled_kb.citation("spibelt_sore_hips") == "Simple Tips for Sore Hips (SPIbelt blog)"


@pytest.mark.parametrize("title", SEED_TITLES)
def test_seed_article_title_appears_in_sources(bundled_kb, title):
    assert title in {s.title for s in bundled_kb.sources.values()}


def test_each_seed_file_is_cited_by_exactly_one_source():
    seeds = [s["seed"] for s in raw("sources.yaml")["sources"] if "seed" in s]
    assert len(seeds) == len(SEED_TITLES)
    assert len(set(seeds)) == len(seeds)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed articles folder not present in this checkout")
def test_seed_source_title_occurs_in_its_seed_article():
    for source in raw("sources.yaml")["sources"]:
        if "seed" in source:
            text = (SEEDS / source["seed"]).read_text(encoding="utf-8")
            assert source["title"] in text, source["id"]


def test_question_defaults_are_valid_for_their_question(bundled_kb):
    for q in bundled_kb.questions.values():
        assert q.type in QUESTION_TYPES
        assert q.coerce(q.default) == q.default, q.id
        if q.type in ("int", "number"):
            assert q.min <= q.default <= q.max, q.id


def test_skip_logic_names_earlier_questions(bundled_kb):
    order = list(bundled_kb.questions)
    for q in bundled_kb.questions.values():
        for cond in q.ask_if_any:
            assert order.index(cond.answer) < order.index(q.id), q.id


# =========================================================================== planted defects

def edit(path: Path, change: Callable[[Any], None]) -> None:
    """Load a YAML file, let ``change`` mutate it in place, write it back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def item(data: Any, key: str, ident: str) -> dict:
    return next(entry for entry in data[key] if entry["id"] == ident)


def set_key(key: str, ident: str, field: str, value: Any) -> Callable[[Any], None]:
    return lambda data: item(data, key, ident).__setitem__(field, value)


def drop_key(key: str, ident: str, field: str) -> Callable[[Any], None]:
    return lambda data: item(data, key, ident).pop(field)


def rename_key(key: str, ident: str, old: str, new: str) -> Callable[[Any], None]:
    def change(data):
        entry = item(data, key, ident)
        entry[new] = entry.pop(old)
    return change


def duplicate(key: str, ident: str) -> Callable[[Any], None]:
    return lambda data: data[key].append(dict(item(data, key, ident)))


def expect_error(directory: Path, file: str, entry_id: str | None, problem: str) -> KnowledgeError:
    """Loading must fail naming ``file``, the entry ``entry_id`` and a problem matching ``problem``."""
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(directory)
    err = info.value
    assert err.file == str(directory / file)
    if entry_id is None:
        assert err.entry is None
    else:
        assert err.entry is not None and f"'{entry_id}'" in err.entry
    assert re.search(problem, err.problem), err.problem
    message = str(err)
    assert message.startswith(err.file)
    assert (err.entry or "") in message and err.problem in message
    return err


DEFECTS = {
    # id: (file, change, entry id named, problem regex)
    "unknown_category": (
        "exercises.yaml", set_key("exercises", "glute_bridge", "category", "cardio"),
        "glute_bridge", r"'category' is 'cardio'; allowed: stretch, strength"),
    "unknown_muscle": (
        "exercises.yaml", set_key("exercises", "clamshell", "targets", ["glutes", "calves"]),
        "clamshell", r"'targets' has 'calves'; allowed: hip_flexors"),
    "no_muscle": (
        "exercises.yaml", set_key("exercises", "clamshell", "targets", []),
        "clamshell", r"'targets' must name at least one muscle group"),
    "unknown_when": (
        "exercises.yaml", set_key("exercises", "side_plank", "when", "bedtime"),
        "side_plank", r"'when' is 'bedtime'"),
    "unknown_sides": (
        "exercises.yaml", set_key("exercises", "side_plank", "sides", "left"),
        "side_plank", r"'sides' is 'left'"),
    "unknown_equipment": (
        "exercises.yaml", set_key("exercises", "foam_roll_quads", "equipment", ["kettlebell"]),
        "foam_roll_quads", r"'equipment' has 'kettlebell'; allowed: foam_roller"),
    "unknown_demand": (
        "exercises.yaml", set_key("exercises", "glute_bridge", "demands", ["crawling"]),
        "glute_bridge", r"'demands' has 'crawling'; allowed: deep_knee_flexion"),
    "undeclared_demands": (
        "exercises.yaml", drop_key("exercises", "glute_bridge", "demands"),
        "glute_bridge", r"missing required key 'demands': list the movement demands it makes"),
    "demand_twice": (
        "exercises.yaml", set_key("exercises", "glute_bridge", "demands",
                                  ["floor_transfer", "floor_transfer"]),
        "glute_bridge", r"'demands' lists a demand twice"),
    "equipment_not_a_list": (
        "exercises.yaml", set_key("exercises", "foam_roll_quads", "equipment", "foam_roller"),
        "foam_roll_quads", r"'equipment' must be a list of strings"),
    "unknown_source_exercise": (
        "exercises.yaml", set_key("exercises", "glute_bridge", "source", "wikipedia"),
        "glute_bridge", r"source 'wikipedia' is not in sources\.yaml"),
    "unknown_source_cause": (
        "causes.yaml", set_key("causes", "overuse", "source", "wikipedia"),
        "overuse", r"source 'wikipedia' is not in sources\.yaml"),
    "unknown_source_symptom": (
        "symptoms.yaml", set_key("symptoms", "itbs", "source", "wikipedia"),
        "itbs", r"source 'wikipedia' is not in sources\.yaml"),
    "duplicate_exercise_id": (
        "exercises.yaml", duplicate("exercises", "glute_bridge"),
        "glute_bridge", r"duplicate id 'glute_bridge'"),
    "duplicate_source_id": (
        "sources.yaml", duplicate("sources", "physio_practice"),
        "physio_practice", r"duplicate id 'physio_practice'"),
    "duplicate_question_id": (
        "questionnaire.yaml", duplicate("questions", "age"),
        "age", r"duplicate id 'age'"),
    "missing_cue": (
        "exercises.yaml", drop_key("exercises", "toy_soldiers", "cue"),
        "toy_soldiers", r"missing required key 'cue'"),
    "missing_steps": (
        "exercises.yaml", drop_key("exercises", "toy_soldiers", "steps"),
        "toy_soldiers", r"missing required key 'steps'"),
    "empty_steps": (
        "exercises.yaml", set_key("exercises", "toy_soldiers", "steps", []),
        "toy_soldiers", r"'steps' must hold at least one step"),
    "empty_dose": (
        "exercises.yaml", set_key("exercises", "toy_soldiers", "dose", "   "),
        "toy_soldiers", r"'dose' must not be empty"),
    "missing_description": (
        "causes.yaml", drop_key("causes", "overuse", "description"),
        "overuse", r"missing required key 'description'"),
    "missing_publisher": (
        "sources.yaml", drop_key("sources", "physio_practice", "publisher"),
        "physio_practice", r"missing required key 'publisher'"),
    "misspelt_exercise_key": (
        "exercises.yaml", rename_key("exercises", "clamshell", "cautions", "caution"),
        "clamshell", r"unknown key\(s\) caution; allowed: "),
    "misspelt_cause_key": (
        "causes.yaml", rename_key("causes", "overuse", "description", "descripton"),
        "overuse", r"unknown key\(s\) descripton"),
    "misspelt_question_key": (
        "questionnaire.yaml", rename_key("questions", "age", "help", "hlep"),
        "age", r"unknown key\(s\) hlep"),
    "variant_of_unknown": (
        "exercises.yaml", set_key("exercises", "ball_release_glutes", "variant_of", "foam_roll_glute"),
        "ball_release_glutes", r"variant_of names unknown exercise 'foam_roll_glute'"),
    "variant_of_not_text": (
        "exercises.yaml", set_key("exercises", "ball_release_glutes", "variant_of", 3),
        "ball_release_glutes", r"'variant_of' must be str"),
    "question_default_above_max": (
        "questionnaire.yaml", set_key("questions", "pain_level", "default", 11),
        "pain_level", r"bad 'default': must be between 0 and 10"),
    "question_default_below_min": (
        "questionnaire.yaml", set_key("questions", "age", "default", 5),
        "age", r"bad 'default': must be between 12 and 100"),
    "question_default_unknown_choice": (
        "questionnaire.yaml", set_key("questions", "knee_pain", "default", "elbow"),
        "knee_pain", r"bad 'default': must be one of: none, front, outside, other"),
    "question_default_missing": (
        "questionnaire.yaml", drop_key("questions", "minutes", "default"),
        "minutes", r"missing required key 'default'"),
    "question_unknown_type": (
        "questionnaire.yaml", set_key("questions", "age", "type", "integer"),
        "age", r"'type' is 'integer'; allowed: int, number, bool, choice, multi"),
    "question_min_above_max": (
        "questionnaire.yaml", set_key("questions", "age", "min", 200),
        "age", r"'min' 200 is above 'max' 100"),
    "skip_logic_unknown_question": (
        "questionnaire.yaml",
        lambda d: item(d, "questions", "pain_level")["ask_if_any"][0].__setitem__("answer", "knee_pian"),
        "pain_level", r"'answer' names unknown or self question 'knee_pian'"),
    "skip_logic_self_reference": (
        "questionnaire.yaml",
        lambda d: item(d, "questions", "pain_level")["ask_if_any"][0].__setitem__("answer", "pain_level"),
        "pain_level", r"'answer' names unknown or self question 'pain_level'"),
    "skip_logic_unknown_op": (
        "questionnaire.yaml",
        set_key("questions", "recent_load_increase", "ask_if_any", [{"answer": "weekly_km", "above": 0}]),
        "recent_load_increase", r"must be \{answer: ID, OP: VALUE\} with OP one of eq, ne"),
}


@pytest.mark.parametrize("name", list(DEFECTS))
def test_planted_defect_is_reported_with_file_entry_and_problem(data_copy, name):
    knowledge, _ = data_copy
    file, change, entry_id, problem = DEFECTS[name]
    edit(knowledge / file, change)
    expect_error(knowledge, file, entry_id, problem)


@pytest.mark.parametrize("minutes", [0, -2, 31, 45.5, "five", True, None])
def test_bad_minutes_is_reported(data_copy, minutes):
    knowledge, _ = data_copy
    edit(knowledge / "exercises.yaml", set_key("exercises", "glute_bridge", "minutes", minutes))
    err = expect_error(knowledge, "exercises.yaml", "glute_bridge", r"'minutes' must be")
    if isinstance(minutes, (int, float)) and not isinstance(minutes, bool):
        assert "more than 0 and at most 30" in err.problem
        assert repr(minutes) in err.problem


def test_missing_minutes_is_reported(data_copy):
    knowledge, _ = data_copy
    edit(knowledge / "exercises.yaml", drop_key("exercises", "glute_bridge", "minutes"))
    expect_error(knowledge, "exercises.yaml", "glute_bridge", r"missing required key 'minutes'")


def test_vocabulary_with_repeated_value_is_rejected(data_copy):
    knowledge, _ = data_copy
    edit(knowledge / "vocabulary.yaml", lambda d: d["muscles"].append("glutes"))
    with pytest.raises(KnowledgeError, match=r"vocabulary\.yaml: vocabulary: 'muscles' must be a non-empty list without repeats") as info:
        load_knowledge(knowledge)
    assert info.value.entry == "vocabulary"


def test_invalid_yaml_text_names_the_file(data_copy):
    knowledge, _ = data_copy
    (knowledge / "exercises.yaml").write_text("exercises:\n  - id: [unclosed\n    name: x\n", encoding="utf-8")
    expect_error(knowledge, "exercises.yaml", None, r"^not valid YAML: ")


@pytest.mark.parametrize("name", FILES)
def test_missing_file_is_reported(data_copy, name):
    knowledge, _ = data_copy
    (knowledge / name).unlink()
    expect_error(knowledge, name, None, r"^file not found$")


def test_file_without_its_top_level_list_is_reported(data_copy):
    knowledge, _ = data_copy
    (knowledge / "causes.yaml").write_text("- id: overuse\n", encoding="utf-8")
    expect_error(knowledge, "causes.yaml", None, r"must be a mapping with a top-level 'causes' list")


def test_entry_that_is_not_a_mapping_is_labelled_by_position(data_copy):
    knowledge, _ = data_copy
    edit(knowledge / "symptoms.yaml", lambda d: d["symptoms"].insert(1, "just text"))
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(knowledge)
    assert info.value.entry == "symptoms[2]"
    assert info.value.problem == "must be a mapping, got str"


def test_id_used_by_a_cause_and_a_symptom_is_rejected(data_copy):
    knowledge, _ = data_copy
    edit(knowledge / "symptoms.yaml", set_key("symptoms", "hip_stiffness", "id", "overuse"))
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(knowledge)
    assert info.value.file == str(knowledge / "causes.yaml")
    assert info.value.entry == "overuse"
    assert info.value.problem == "id is used by a symptom as well"


def test_questionnaire_without_equipment_question_is_rejected(data_copy):
    knowledge, _ = data_copy
    edit(knowledge / "questionnaire.yaml",
         lambda d: d.__setitem__("questions", [q for q in d["questions"] if q["id"] != "equipment"]))
    expect_error(knowledge, "questionnaire.yaml", None, r"no 'equipment' question")


def test_knowledge_error_attributes_and_hierarchy(data_copy):
    knowledge, _ = data_copy
    edit(knowledge / "exercises.yaml", set_key("exercises", "glute_bridge", "category", "cardio"))
    with pytest.raises(HipcoachError) as info:
        load_knowledge(knowledge)
    err = info.value
    assert isinstance(err, KnowledgeError) and isinstance(err, DataFileError)
    assert err.file == str(knowledge / "exercises.yaml")
    assert re.fullmatch(r"'glute_bridge' \(exercises\[\d+\]\)", err.entry)
    assert err.problem.startswith("'category' is 'cardio'; allowed: ")
    assert str(err) == f"{err.file}: {err.entry}: {err.problem}"


def test_editing_a_copy_changes_the_digest(data_copy, bundled_kb):
    knowledge, _ = data_copy
    assert load_knowledge(knowledge).digest == bundled_kb.digest
    edit(knowledge / "exercises.yaml", set_key("exercises", "glute_bridge", "dose", "3 x 12"))
    changed = load_knowledge(knowledge)
    assert changed.digest != bundled_kb.digest
    assert changed.exercises["glute_bridge"].dose == "3 x 12"


def test_skip_logic_value_is_checked_against_its_question(data_copy):
    knowledge, _ = data_copy
    edit(knowledge / "questionnaire.yaml",
         lambda d: item(d, "questions", "pain_level")["ask_if_any"][0].__setitem__("ne", "nonee"))
    expect_error(knowledge, "questionnaire.yaml", "pain_level", r"nonee")


# ================================================================== files, keys and variants

@pytest.mark.parametrize("name", ["exercise.yaml", "stretches.yaml", "notes.txt"])
def test_an_unknown_file_in_the_knowledge_folder_is_refused(data_copy, name):
    knowledge, _ = data_copy
    (knowledge / name).write_text("exercises: []\n", encoding="utf-8")
    err = expect_error(knowledge, name, None, r"^unknown file in the knowledge folder, so never read; "
                                              r"the files are advice\.yaml, causes\.yaml, exercises\.yaml, ")
    assert "vocabulary.yaml" in err.problem


@pytest.mark.parametrize("name", [n for n in FILES if n != "vocabulary.yaml"])
def test_an_unknown_top_level_key_in_a_knowledge_file_is_refused(data_copy, name):
    knowledge, _ = data_copy
    edit(knowledge / name, lambda data: data.__setitem__("exercise", []))
    with pytest.raises(KnowledgeError, match=r": file: unknown key\(s\) exercise; allowed: ") as info:
        load_knowledge(knowledge)
    assert info.value.file == str(knowledge / name) and info.value.entry == "file"


def test_a_variant_of_itself_is_refused(data_copy):
    knowledge, _ = data_copy
    edit(knowledge / "exercises.yaml", set_key("exercises", "clamshell", "variant_of", "clamshell"))
    expect_error(knowledge, "exercises.yaml", "clamshell", r"^variant_of names the exercise itself$")


def test_a_cycle_of_variants_is_refused(data_copy):
    knowledge, _ = data_copy
    edit(knowledge / "exercises.yaml",
         set_key("exercises", "foam_roll_glutes", "variant_of", "ball_release_glutes"))
    err = expect_error(knowledge, "exercises.yaml", "foam_roll_glutes", r"^variant_of forms a cycle: ")
    assert err.problem == ("variant_of forms a cycle: foam_roll_glutes -> ball_release_glutes -> "
                           "foam_roll_glutes")
