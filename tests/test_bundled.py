"""The bundled data: found in a checkout, and declared so that a wheel carries it."""

from __future__ import annotations

import fnmatch
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
        declared = config["package-data"][package]
        assert declared == (["*.yaml", "scenarios/*.yaml"] if folder == "knowledge" else ["*.yaml"])
        files = {p.relative_to(ROOT / folder).as_posix() for p in (ROOT / folder).rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts}
        assert files and all(any(fnmatch.fnmatch(name, pattern) for pattern in declared)
                             for name in files), files

