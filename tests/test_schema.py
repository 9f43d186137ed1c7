"""Reading YAML and JSON within limits (hipcoach.kb.schema): alias bombs, deep nesting, huge files and
values the constructors refuse all end in one short ``ValueError``, before anything is built."""

from __future__ import annotations

import io
import resource
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hipcoach.batch.mapping import load_mapping
from hipcoach.errors import EXCERPT_CHARS, DataFileError, KnowledgeError, MappingError, RuleError, excerpt
from hipcoach.kb.bundled import knowledge_dir, rules_dir
from hipcoach.kb.knowledge import load_knowledge
from hipcoach.kb.rulefile import load_rules
from hipcoach.kb.schema import MAX_BYTES, MAX_DEPTH, MAX_VALUES, load_yaml, parse_yaml, read_limited


def bomb(levels: int = 9, key: str = "equipment") -> str:
    """A "billion laughs" document: ``levels`` lists of nine aliases each, 9**levels values in
    all, in a few hundred bytes."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]")
    lines.append(f"{key}: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def nested(depth: int) -> str:
    return "x: " + "[" * depth + "]" * depth + "\n"


# ------------------------------------------------------------------------------------- limits

def test_an_alias_bomb_is_refused_quickly_without_building_it() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError, match=rf"^more than {MAX_VALUES:,} values \(aliases expanded\) "
                                         r"at line \d+$"):
        parse_yaml(bomb())
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 50_000  # the bomb itself would take gigabytes


def test_aliases_within_the_limit_still_work() -> None:
    assert parse_yaml("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}
    assert parse_yaml(bomb(levels=3))["equipment"][0][0] == ["lol"] * 9  # 729 values


def test_a_merge_key_counts_what_it_copies() -> None:
    base = "base: &b {" + ", ".join(f"k{i}: {i}" for i in range(500)) + "}\n"
    text = base + "".join(f"m{i}: {{<<: *b}}\n" for i in range(250))
    with pytest.raises(ValueError, match="aliases expanded"):
        parse_yaml(text)


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^alias \*x refers to a value that holds it at line 1$"):
        parse_yaml("a: &x [1, *x]\n")


def test_nesting_is_limited() -> None:
    assert parse_yaml(nested(MAX_DEPTH - 1)) is not None
    with pytest.raises(ValueError, match=rf"^nested more than {MAX_DEPTH} levels deep at line 1$"):
        parse_yaml(nested(MAX_DEPTH))


def test_nesting_through_an_alias_counts_the_aliased_levels() -> None:
    inner = "[" * 10 + "]" * 10
    text = f"a: &a {inner}\nb: {'[' * (MAX_DEPTH - 10)}*a{']' * (MAX_DEPTH - 10)}\n"
    with pytest.raises(ValueError, match="nested more than"):
        parse_yaml(text)


def test_json_is_held_to_the_same_limits() -> None:
    with pytest.raises(ValueError, match="nested more than"):
        parse_yaml('{"x": ' + "[" * 200 + "]" * 200 + "}")
    with pytest.raises(ValueError, match="larger than"):
        parse_yaml('{"x": "' + "y" * MAX_BYTES + '"}')


@pytest.mark.parametrize("text, problem", [
    ("age: 2024-13-45\n", "a value cannot be read: month must be in 1..12"),
    ("age: " + "9" * 5000 + "\n", "a value cannot be read: Exceeds the limit (4300 digits)"),
])
def test_values_the_constructors_refuse_are_one_line(text: str, problem: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_yaml(text)
    assert str(info.value).startswith(problem)
    assert "\n" not in str(info.value) and "set_int_max_str_digits" not in str(info.value)


def test_a_duplicate_key_shows_an_excerpt_of_it() -> None:
    key = "k" * 5000
    with pytest.raises(ValueError) as info:
        parse_yaml(f"{key}: 1\n{key}: 2\n")
    assert len(str(info.value)) < 200


# ------------------------------------------------------------------------------------- reading

def test_read_limited_refuses_a_file_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(ValueError, match=r"^larger than 1024 kB$"):
        read_limited(path)
    assert read_limited(path, limit=MAX_BYTES + 1).startswith("#")


@pytest.mark.parametrize("make, problem", [
    (lambda p: p, "file not found"),
    (lambda p: p.mkdir() or p, "is a folder, not a file"),
    (lambda p: p.write_bytes(b"a: \xff\n") and p, "cannot read: not UTF-8 text (byte 0xff at offset 3)"),
])
def test_read_limited_problems_are_short_and_do_not_repeat_the_name(
        tmp_path: Path, make: Callable[[Path], Path], problem: str) -> None:
    with pytest.raises(ValueError) as info:
        read_limited(make(tmp_path / "answers.yaml"))
    assert str(info.value) == problem


def test_read_limited_reads_streams_too() -> None:
    assert read_limited(io.BytesIO("zoë".encode())) == "zoë"
    assert read_limited(io.StringIO("zoë")) == "zoë"
    with pytest.raises(ValueError, match="not UTF-8"):
        read_limited(io.BytesIO(b"\xc3"))
    with pytest.raises(ValueError, match="larger than"):
        read_limited(io.BytesIO(b"x" * 11), limit=10)


# ----------------------------------------------------------------------------------- excerpts

@pytest.mark.parametrize("value", ["x" * 10_000, list(range(10_000)), {str(i): i for i in range(10_000)},
                                   10 ** 3000, [[[[[[["deep"]]]]]]]])
def test_an_excerpt_is_short(value: Any) -> None:
    assert len(excerpt(value)) <= EXCERPT_CHARS


def test_an_excerpt_of_a_shared_structure_does_not_walk_it() -> None:
    value: Any = ["lol"] * 9
    for _ in range(12):  # 9**13 items when walked
        value = [value] * 9
    assert len(excerpt(value)) <= EXCERPT_CHARS


def test_an_excerpt_of_a_small_value_is_its_repr() -> None:
    assert excerpt("front") == "'front'"
    assert excerpt(["mat", 3, None, True]) == "['mat', 3, None, True]"


# ------------------------------------------------------------ every loader goes through here

def _copy(tmp_path: Path) -> tuple[Path, Path]:
    knowledge, rules = tmp_path / "knowledge", tmp_path / "rules"
    shutil.copytree(knowledge_dir(), knowledge)
    shutil.copytree(rules_dir(), rules)
    return knowledge, rules


@pytest.mark.parametrize("where, error", [("knowledge/exercises.yaml", KnowledgeError),
                                          ("rules/causes.yaml", RuleError),
                                          ("map.yaml", MappingError)])
@pytest.mark.parametrize("text, problem", [(bomb(key="junk"), "aliases expanded"),
                                           (nested(MAX_DEPTH + 5), "nested more than"),
                                           ("# " + "x" * MAX_BYTES, "larger than 1024 kB")])
def test_every_data_file_is_read_within_the_limits(tmp_path: Path, where: str, error: type,
                                                   text: str, problem: str) -> None:
    knowledge, rules = _copy(tmp_path)
    path = tmp_path / where
    path.write_text(text, encoding="utf-8")
    with pytest.raises(error) as info:
        if where == "map.yaml":
            load_mapping(path, load_knowledge(knowledge))
        else:
            load_rules(rules, load_knowledge(knowledge))
    assert isinstance(info.value, DataFileError)
    assert info.value.file == str(path) and problem in info.value.problem
    assert len(str(info.value)) < 300


def test_load_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: &x [*x]\n", encoding="utf-8")
    with pytest.raises(RuleError, match=r"x\.yaml: not valid YAML: alias \*x refers"):
        load_yaml(path, RuleError)


@pytest.mark.parametrize("plant", [
    lambda data: data["exercises"][0].update(name=["x" * 100] * 2000),
    lambda data: data["exercises"][0].update(minutes="9" * 5000),
    lambda data: data["exercises"][0].update(category="c" * 5000),
    lambda data: data["exercises"][0].update({"k" * 5000: 1, 7: 2}),
])
def test_knowledge_errors_show_only_an_excerpt_of_a_huge_value(tmp_path: Path,
                                                               plant: Callable[[Any], None]) -> None:
    import yaml

    knowledge, _ = _copy(tmp_path)
    path = knowledge / "exercises.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    plant(data)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(knowledge)
    assert len(str(info.value)) < 400, str(info.value)[:500]
