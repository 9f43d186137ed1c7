"""The cache of checked knowledge and rule bases: used only for exactly the same bytes."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from hipcoach.errors import KnowledgeError
from hipcoach.kb import cache
from hipcoach.kb.knowledge import load_knowledge
from hipcoach.kb.rulefile import load_rules


@pytest.fixture
def folder(tmp_path: Path, monkeypatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(where))
    return where


def cached_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("bases-*.pickle"))


def test_a_second_load_comes_from_the_cache_and_equals_a_fresh_one(folder, data_copy, monkeypatch):
    knowledge, rules = data_copy
    first = cache.load_bases(knowledge, rules)
    assert len(cached_files(folder)) == 1

    def no_loading(*args):
        raise AssertionError("loaded although cached")

    monkeypatch.setattr(cache, "load_knowledge", no_loading)
    again = cache.load_bases(knowledge, rules)
    fresh_kb = load_knowledge(knowledge)
    assert again[0] == first[0] == fresh_kb
    assert again[1] == first[1] == load_rules(rules, fresh_kb)


def test_an_edit_to_any_file_loads_and_checks_afresh(folder, data_copy):
    knowledge, rules = data_copy
    cache.load_bases(knowledge, rules)
    path = knowledge / "exercises.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name:", "name: ", 1), encoding="utf-8")
    edited = cache.load_bases(knowledge, rules)
    assert edited[0] == load_knowledge(knowledge)
    assert len(cached_files(folder)) == 2
    path.write_text("exercises: [{id: broken}]\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"exercises\.yaml"):
        cache.load_bases(knowledge, rules)


def test_a_new_file_in_a_folder_is_not_hidden_by_the_cache(folder, data_copy):
    knowledge, rules = data_copy
    cache.load_bases(knowledge, rules)
    (rules / "extra.yaml").write_text("rules: []\n", encoding="utf-8")
    with pytest.raises(Exception, match="unknown file"):
        cache.load_bases(knowledge, rules)


@pytest.mark.parametrize("damage", [b"", b"not a pickle", pickle.dumps(("other", "shape"))])
def test_a_damaged_cache_file_is_ignored_and_replaced(folder, data_copy, damage):
    knowledge, rules = data_copy
    expected = cache.load_bases(knowledge, rules)
    [path] = cached_files(folder)
    path.write_bytes(damage)
    assert cache.load_bases(knowledge, rules) == expected
    assert path.read_bytes() != damage


def test_a_cache_file_others_may_write_is_never_unpickled(folder, data_copy, monkeypatch):
    knowledge, rules = data_copy
    cache.load_bases(knowledge, rules)
    [path] = cached_files(folder)
    os.chmod(path, 0o666)
    monkeypatch.setattr(cache.pickle, "load", lambda stream: pytest.fail("unpickled"))
    kb, _ = cache.load_bases(knowledge, rules)
    assert kb == load_knowledge(knowledge)


def test_caching_off_or_unwritable_still_loads(tmp_path, data_copy, monkeypatch):
    knowledge, rules = data_copy
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    assert cache.cache_dir() is None
    assert cache.load_bases(knowledge, rules)[0] == load_knowledge(knowledge)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocked / "cache"))
    assert cache.load_bases(knowledge, rules)[0] == load_knowledge(knowledge)


def test_the_folder_keeps_a_few_bases_and_is_private(folder, data_copy, monkeypatch):
    knowledge, rules = data_copy
    monkeypatch.setattr(cache, "KEEP", 2)
    path = knowledge / "exercises.yaml"
    text = path.read_text(encoding="utf-8")
    for n in range(4):
        path.write_text(text + f"\n# edit {n}\n", encoding="utf-8")
        cache.load_bases(knowledge, rules)
    assert len(cached_files(folder)) == 2
    assert folder.stat().st_mode & 0o777 == 0o700
    assert not list(folder.glob(".bases-*"))  # no temporary files left


def test_default_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "hipcoach"


def test_a_folder_made_for_one_run_is_not_cached(folder, data_copy):
    knowledge, rules = data_copy
    assert cache.load_bases(knowledge, rules, cached=False)[0] == load_knowledge(knowledge)
    assert cached_files(folder) == []
