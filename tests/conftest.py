"""Shared fixtures: one planner per test session (rulesets register once per process)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from hipcoach import Planner
from hipcoach.kb.bundled import knowledge_dir, rules_dir
from hipcoach.kb.knowledge import load_knowledge
from hipcoach.kb.rulefile import load_rules

# every run of the suite (and each command it starts) keeps its cached bases to itself
CACHE = os.environ["HIPCOACH_CACHE_DIR"] = tempfile.mkdtemp(prefix="hipcoach-test-cache-")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(CACHE, ignore_errors=True)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _triage_defaults() -> dict[str, Any]:
    kb = load_knowledge(knowledge_dir())
    read = {field for rule in load_rules(rules_dir(), kb).layer("triage") for field in rule.answers_used}
    return {q.id: q.default for q in kb.questions.values() if q.id in read}


#: The questionnaire's default of every answer the triage rules read: what a small test survey
#: without those columns must --assume to be scored at all.
TRIAGE_DEFAULTS = _triage_defaults()


def assume_args(header: str) -> list[str]:
    """``--assume ANSWER=DEFAULT`` for each triage answer a plain survey header lacks."""
    columns = header.strip().split(",")
    return [arg for answer, value in TRIAGE_DEFAULTS.items() if answer not in columns
            for arg in ("--assume", f"{answer}={';'.join(value) if isinstance(value, list) else value}")]


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
