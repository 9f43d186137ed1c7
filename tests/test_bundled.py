"""The bundled data: found in a checkout, and declared so that a wheel carries it."""

from __future__ import annotations

import tomllib

from conftest import ROOT
from hipcoach.kb.bundled import knowledge_dir, rules_dir


def test_checkout_reads_the_top_level_folders():
    assert knowledge_dir() == ROOT / "knowledge"
    assert rules_dir() == ROOT / "rules"


def test_wheel_declares_every_data_file():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = config["package-dir"]
    for package, folder in (("hipcoach.knowledge_files", "knowledge"), ("hipcoach.rule_files", "rules")):
        assert mapping[package] == folder and package in config["packages"]
        assert config["package-data"][package] == ["*.yaml"]
        files = {p.name for p in (ROOT / folder).iterdir() if p.is_file()}
        assert files and all(name.endswith(".yaml") for name in files), files
