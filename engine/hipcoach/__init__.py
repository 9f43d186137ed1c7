"""hipcoach: a runner's symptoms in, a balanced hip-care plan that says why out."""

from __future__ import annotations

from typing import Any

from .errors import AnswersError, DataFileError, EngineError, HipcoachError, KnowledgeError, RuleError
from .formats import Plan
from .kb.answers import normalise, read_answers
from .kb.knowledge import KnowledgeBase, load_knowledge
from .kb.rulefile import RuleBase, load_rules
from .planning.planner import Planner, plan
from .reasoning.certainty import combine


def __getattr__(name: str) -> Any:
    """``__version__`` on first use: importlib.metadata costs ~30 ms of start-up otherwise."""
    if name == "__version__":
        from .kb.provenance import version

        return version()
    raise AttributeError(f"module 'hipcoach' has no attribute {name!r}")

__all__ = [
    "AnswersError", "DataFileError", "EngineError", "HipcoachError", "KnowledgeBase",
    "KnowledgeError", "Plan", "Planner", "RuleBase", "RuleError", "__version__", "combine",
    "load_knowledge", "load_rules", "normalise", "plan", "read_answers",
]
