"""A runner's answers: reading, checking, defaults, canonical form and skip logic."""

from __future__ import annotations

import io
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hipcoach import AnswersError, HipcoachError, load_knowledge
from hipcoach.kb.answers import dumps, normalise, read_answers, should_ask
from hipcoach.kb.bundled import knowledge_dir
from hipcoach.kb.knowledge import FALSE_WORDS, TRUE_WORDS, Question

# Module level (not a fixture) so hypothesis strategies can be built from it.
KB = load_knowledge(knowledge_dir())
EQUIPMENT = list(KB.questions["equipment"].values)


@pytest.fixture(scope="module")
def kb():
    return KB


# =========================================================================== normalise

def test_empty_answers_take_every_default(kb):
    answers = normalise({}, kb)
    assert answers == {q.id: q.default for q in kb.questions.values()}


def test_bundled_defaults_are_the_documented_ones(kb):
    answers = normalise({}, kb)
    assert answers["age"] == 35
    assert answers["knee_pain"] == "none"
    assert answers["equipment"] == []
    assert answers["squat_difficulty"] is False
    assert answers["minutes"] == 20


def test_output_keys_follow_questionnaire_order_not_input_order(kb):
    raw = {"minutes": 30, "equipment": ["mat"], "age": 40}
    assert list(normalise(raw, kb)) == list(kb.questions)
    assert list(normalise(dict(reversed(list(raw.items()))), kb)) == list(kb.questions)


def test_given_answers_override_defaults_and_others_keep_theirs(kb):
    answers = normalise({"age": 50, "knee_pain": "front"}, kb)
    assert answers["age"] == 50
    assert answers["knee_pain"] == "front"
    assert answers["hip_pain"] == kb.questions["hip_pain"].default


def test_none_means_default(kb):
    answers = normalise({"age": None, "equipment": None, "knee_pain": None}, kb)
    assert answers == normalise({}, kb)


def test_input_mapping_is_not_modified(kb):
    raw = {"equipment": "mat;ball", "age": "40"}
    normalise(raw, kb)
    assert raw == {"equipment": "mat;ball", "age": "40"}


def test_unknown_key_is_an_error_naming_the_key(kb):
    with pytest.raises(AnswersError, match=r"answer 'agee' = 30: unknown answer id; known ids: age, weekly_km") as info:
        normalise({"agee": 30}, kb)
    assert info.value.key == "agee"
    assert info.value.value == 30


def test_unknown_key_is_reported_even_among_valid_ones(kb):
    with pytest.raises(AnswersError, match="'knee_pian'"):
        normalise({"age": 30, "knee_pian": "front", "minutes": 20}, kb)


def test_unknown_non_string_key_is_an_answers_error(kb):
    # a YAML answers file can have a numeric key
    with pytest.raises(AnswersError, match=r"^answer '7' = 'x': unknown answer id") as info:
        normalise({7: "x"}, kb)
    assert info.value.key == "7"


def test_answers_error_is_a_hipcoach_error(kb):
    with pytest.raises(HipcoachError):
        normalise({"age": "old"}, kb)


# --------------------------------------------------------------------------- numbers

@pytest.mark.parametrize(("key", "value", "low", "high"), [
    ("age", 150, "12", "100"),
    ("age", 11, "12", "100"),
    ("pain_level", 11, "0", "10"),
    ("weekly_km", -1, "0", "300"),
    ("weekly_km", 300.5, "0", "300"),
    ("minutes", 4, "5", "90"),
    ("sitting_hours", "25", "0", "24"),
])
def test_out_of_range_number_names_key_value_and_range(kb, key, value, low, high):
    with pytest.raises(AnswersError) as info:
        normalise({key: value}, kb)
    err = info.value
    assert str(err) == f"answer {key!r} = {value!r}: must be between {low} and {high}"
    assert (err.key, err.value) == (key, value)


@pytest.mark.parametrize(("key", "value"), [("age", 12), ("age", 100), ("pain_level", 0),
                                            ("weekly_km", 300), ("minutes", 5)])
def test_range_bounds_are_inclusive(kb, key, value):
    assert normalise({key: value}, kb)[key] == value


@pytest.mark.parametrize("value", [30.5, "30.5", 7.25])
def test_int_question_rejects_fractions(kb, value):
    with pytest.raises(AnswersError, match=r"answer 'age' = .*: must be a whole number"):
        normalise({"age": value}, kb)


@pytest.mark.parametrize(("value", "expected"), [(40, 40), (40.0, 40), ("40", 40), (" 40 ", 40), ("40.0", 40)])
def test_int_question_accepts_whole_numbers_in_any_form(kb, value, expected):
    result = normalise({"age": value}, kb)["age"]
    assert result == expected and type(result) is int


@pytest.mark.parametrize("value", ["forty", "", "12a", [40], {"n": 1}])
def test_number_question_rejects_non_numbers(kb, value):
    with pytest.raises(AnswersError, match=r"must be a number"):
        normalise({"weekly_km": value}, kb)


@pytest.mark.parametrize("value", [True, False])
def test_number_question_rejects_booleans(kb, value):
    with pytest.raises(AnswersError, match=r"'age' = (True|False): must be a whole number.*, not true/false$"):
        normalise({"age": value}, kb)


@pytest.mark.parametrize("value", [math.nan, "nan"])
def test_number_question_rejects_nan(kb, value):
    with pytest.raises(AnswersError, match=r"'weekly_km' = .*: must be a number"):
        normalise({"weekly_km": value}, kb)


@pytest.mark.parametrize("value", [math.inf, "inf", "-inf"])
def test_float_question_rejects_infinity(kb, value):
    with pytest.raises(AnswersError, match=r"'weekly_km' = .*between 0 and 300$"):
        normalise({"weekly_km": value}, kb)


@pytest.mark.parametrize("value", [math.inf, "inf", "1e400", -math.inf])
def test_int_question_rejects_infinity_with_answers_error(kb, value):
    # int(inf) would raise OverflowError: it must be reported as a bad answer instead
    with pytest.raises(AnswersError, match=r"'age' = .*between 12 and 100"):
        normalise({"age": value}, kb)


def test_number_question_keeps_fractions_and_stores_whole_numbers_as_int(kb):
    assert normalise({"weekly_km": "12.5"}, kb)["weekly_km"] == 12.5
    whole = normalise({"weekly_km": 7.0}, kb)["weekly_km"]
    assert whole == 7 and type(whole) is int


def test_same_answers_as_text_or_native_values_normalise_identically(kb):
    text = {"age": "40", "weekly_km": "25.0", "squat_difficulty": "yes", "equipment": "mat, ball"}
    native = {"age": 40, "weekly_km": 25, "squat_difficulty": True, "equipment": ["ball", "mat"]}
    assert dumps(normalise(text, kb)) == dumps(normalise(native, kb))


# --------------------------------------------------------------------------- booleans

@pytest.mark.parametrize(("value", "expected"), [
    ("yes", True), ("no", False), ("1", True), ("0", False), (True, True), (False, False),
    ("true", True), ("FALSE", False), (" Yes ", True), ("y", True), ("n", False), (1, True), (0, False),
])
def test_bool_parsing(kb, value, expected):
    assert normalise({"squat_difficulty": value}, kb)["squat_difficulty"] is expected


@pytest.mark.parametrize("value", ["maybe", "yess", 2, -1, 0.5, ["yes"]])
def test_bool_rejects_other_values(kb, value):
    with pytest.raises(AnswersError, match=r"'squat_difficulty' = .*: must be true or false \(yes/no, 1/0 also accepted\)"):
        normalise({"squat_difficulty": value}, kb)


def test_bool_words_do_not_overlap():
    assert not set(TRUE_WORDS) & set(FALSE_WORDS)


# --------------------------------------------------------------------------- choices

def test_choice_accepts_a_listed_value(kb):
    assert normalise({"hip_pain": "outside"}, kb)["hip_pain"] == "outside"


@pytest.mark.parametrize("value", ["elbow", "Front", 1, ["front"]])
def test_choice_rejects_unknown_value_listing_allowed_ones(kb, value):
    with pytest.raises(AnswersError, match=r"must be one of: none, front, outside, other$") as info:
        normalise({"knee_pain": value}, kb)
    assert info.value.key == "knee_pain"


@pytest.mark.parametrize("value", [
    ["mat", "ball"], ("mat", "ball"), "mat;ball", "mat, ball", "mat,ball", " mat ; ball ", "ball;mat",
    ["ball", "mat", "ball"], "mat;ball;mat",
])
def test_multi_accepts_lists_and_separated_text_in_canonical_order(kb, value):
    assert normalise({"equipment": value}, kb)["equipment"] == ["ball", "mat"]


def test_multi_canonical_order_is_questionnaire_order(kb):
    result = normalise({"equipment": list(reversed(EQUIPMENT))}, kb)["equipment"]
    assert result == EQUIPMENT


@pytest.mark.parametrize("value", [[], "", " ; "])
def test_multi_empty_forms_mean_none_ticked(kb, value):
    assert normalise({"equipment": value}, kb)["equipment"] == []


def test_multi_single_value_text(kb):
    assert normalise({"red_flags": "swelling"}, kb)["red_flags"] == ["swelling"]


def test_multi_rejects_unknown_value_listing_allowed_ones(kb):
    with pytest.raises(AnswersError, match=r"'kettlebell' is not allowed; allowed: foam_roller, resistance_band, ball"):
        normalise({"equipment": ["mat", "kettlebell"]}, kb)


@pytest.mark.parametrize("value", [5, True, {"mat": 1}, ["mat", 3]])
def test_multi_rejects_non_lists(kb, value):
    with pytest.raises(AnswersError, match=r"'equipment' = .*: must be a list of choices"):
        normalise({"equipment": value}, kb)


def test_defaults_are_not_shared_with_the_knowledge_base():
    kb = load_knowledge(knowledge_dir())  # a private copy: this test may corrupt it
    answers = normalise({}, kb)
    answers["equipment"].append("mat")
    assert normalise({}, kb)["equipment"] == []


# =========================================================================== read_answers

def test_read_answers_json_file(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"age": 40, "equipment": ["mat"]}), encoding="utf-8")
    assert read_answers(path) == {"age": 40, "equipment": ["mat"]}


def test_read_answers_yaml_file(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("age: 40\nequipment: [mat]\nsquat_difficulty: yes\n", encoding="utf-8")
    assert read_answers(path) == {"age": 40, "equipment": ["mat"], "squat_difficulty": True}


def test_read_answers_json_and_yaml_give_same_plan_input(tmp_path, kb):
    as_json = tmp_path / "a.json"
    as_json.write_text('{"knee_pain": "front", "weekly_km": 30, "equipment": "mat;ball"}', encoding="utf-8")
    as_yaml = tmp_path / "a.yaml"
    as_yaml.write_text("knee_pain: front\nweekly_km: 30\nequipment:\n  - ball\n  - mat\n", encoding="utf-8")
    assert normalise(read_answers(as_json), kb) == normalise(read_answers(as_yaml), kb)


def test_read_answers_from_a_stream_uses_the_given_name():
    assert read_answers(io.StringIO('{"age": 41}'), name="<stdin>") == {"age": 41}
    with pytest.raises(AnswersError, match=r"^<stdin>: is empty"):
        read_answers(io.StringIO(""), name="<stdin>")


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n", "null\n"])
def test_read_answers_empty_file(tmp_path, text):
    path = tmp_path / "empty.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AnswersError, match=r"empty\.yaml: is empty; expected a mapping of answer ids to values") as info:
        read_answers(path)
    assert info.value.key is None


@pytest.mark.parametrize(("text", "kind"), [("- age\n- 40\n", "list"), ('["age", 40]', "list"),
                                            ("40\n", "int"), ('"text"', "str")])
def test_read_answers_rejects_non_mapping(tmp_path, text, kind):
    path = tmp_path / "a.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AnswersError, match=rf"a\.json: expected a mapping of answer ids to values, got {kind}$"):
        read_answers(path)


@pytest.mark.parametrize("text", ['{"age": 40,', "age: [40\n", "age: 1\n  bad: : indent\n"])
def test_read_answers_rejects_invalid_syntax(tmp_path, text):
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AnswersError, match=r"broken\.json: not valid JSON or YAML: "):
        read_answers(path)


def test_read_answers_missing_file(tmp_path):
    with pytest.raises(AnswersError, match=r"nope\.yaml: file not found$"):
        read_answers(tmp_path / "nope.yaml")


def test_read_answers_undecodable_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("age: 40 # caf\xe9\n".encode("latin-1"))
    with pytest.raises(AnswersError, match=r"latin1\.yaml: cannot read"):
        read_answers(path)


def test_dumps_is_canonical_json(kb):
    text = dumps(normalise({"equipment": "mat;ball"}, kb))
    assert text.endswith("\n")
    assert json.loads(text) == normalise({"equipment": ["ball", "mat"]}, kb)
    assert list(json.loads(text)) == list(kb.questions)


# =========================================================================== skip logic

def test_question_without_skip_logic_is_always_asked(kb):
    assert should_ask(kb.questions["age"], {})
    assert should_ask(kb.questions["equipment"], normalise({}, kb))


def test_pain_level_not_asked_without_any_pain(kb):
    assert not should_ask(kb.questions["pain_level"], normalise({}, kb))


@pytest.mark.parametrize(("key", "value"), [("knee_pain", "front"), ("knee_pain", "other"),
                                            ("hip_pain", "back"), ("low_back", "tight")])
def test_pain_level_asked_when_any_pain_reported(kb, key, value):
    assert should_ask(kb.questions["pain_level"], normalise({key: value}, kb))


def test_pain_level_not_asked_before_pain_questions_are_answered(kb):
    assert not should_ask(kb.questions["pain_level"], {})


@pytest.mark.parametrize(("km", "asked"), [(0, False), (0.5, True), (5, True), (300, True)])
def test_recent_load_increase_asked_only_for_someone_running(kb, km, asked):
    assert should_ask(kb.questions["recent_load_increase"], normalise({"weekly_km": km}, kb)) is asked


def test_skip_comparison_with_wrong_type_is_false_not_an_error(kb):
    assert should_ask(kb.questions["recent_load_increase"], {"weekly_km": "lots"}) is False


# =========================================================================== properties

def _question_values(q: Question) -> st.SearchStrategy:
    """Valid raw values for ``q``, in native and text forms."""
    if q.type == "bool":
        words = [w for w in TRUE_WORDS + FALSE_WORDS if w]
        return st.booleans() | st.sampled_from([0, 1]) | st.sampled_from(words + [w.upper() for w in words])
    if q.type == "int":
        ints = st.integers(int(q.min), int(q.max))
        return ints | ints.map(str) | ints.map(float)
    if q.type == "number":
        floats = st.floats(q.min, q.max, allow_nan=False, allow_infinity=False)
        ints = st.integers(math.ceil(q.min), math.floor(q.max))
        return floats | floats.map(repr) | ints
    if q.type == "choice":
        return st.sampled_from(q.values)
    picks = st.lists(st.sampled_from(q.values), max_size=len(q.values) + 2)
    return picks | picks.map(";".join) | picks.map(", ".join)


ANSWERS = st.fixed_dictionaries(
    {}, optional={q.id: st.none() | _question_values(q) for q in KB.questions.values()})


@given(ANSWERS)
@pytest.mark.slow
def test_normalise_accepts_every_valid_answer_set_and_is_idempotent(raw):
    once = normalise(raw, KB)
    assert normalise(once, KB) == once
    assert dumps(normalise(once, KB)) == dumps(once)


@given(ANSWERS)
@pytest.mark.slow
def test_normalised_answers_are_complete_ordered_and_canonical(raw):
    answers = normalise(raw, KB)
    assert list(answers) == list(KB.questions)
    for question in KB.questions.values():
        value = answers[question.id]
        assert question.coerce(value) == value
        if question.type == "bool":
            assert type(value) is bool
        elif question.type == "int":
            assert type(value) is int and question.min <= value <= question.max
        elif question.type == "multi":
            assert value == [v for v in question.values if v in value]
        if raw.get(question.id) is None:
            assert value == question.default
