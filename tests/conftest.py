"""Shared fixtures: one planner per test session (rulesets register once per process)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from hipcoach import Planner
from hipcoach.kb.bundled import knowledge_dir, rules_dir

# every run of the suite (and each command it starts) keeps its cached bases to itself
CACHE = os.environ["HIPCOACH_CACHE_DIR"] = tempfile.mkdtemp(prefix="hipcoach-test-cache-")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(CACHE, ignore_errors=True)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def planner() -> Planner:
    return Planner()


@pytest.fixture(scope="session")
def kb(planner: Planner):
    return planner.kb


@pytest.fixture(scope="session")
def rulebase(planner: Planner):
    return planner.rulebase


@pytest.fixture
def data_copy(tmp_path: Path) -> tuple[Path, Path]:
    """Editable copies of the bundled knowledge and rules folders, for planting defects."""
    knowledge = tmp_path / "knowledge"
    rules = tmp_path / "rules"
    shutil.copytree(knowledge_dir(), knowledge)
    shutil.copytree(rules_dir(), rules)
    return knowledge, rules


@pytest.fixture(scope="session")
def programme():
    """The bundled programme knowledge and progress rules, loaded once."""
    from hipcoach.programme.programme import Programme

    return Programme()
