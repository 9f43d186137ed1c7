"""hipcoach: a runner's symptoms in, a balanced hip-care plan that says why out."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .answers import normalise, read_answers
from .certainty import combine
from .errors import (AnswersError, DataFileError, EngineError, HipcoachError, KnowledgeError,
                     RuleError)
from .knowledge import KnowledgeBase, load_knowledge
from .plan import Plan, Planner, plan
from .rulefile import RuleBase, load_rules

try:
    __version__ = version("hipcoach")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = [
    "AnswersError", "DataFileError", "EngineError", "HipcoachError", "KnowledgeBase",
    "KnowledgeError", "Plan", "Planner", "RuleBase", "RuleError", "__version__", "combine",
    "load_knowledge", "load_rules", "normalise", "plan", "read_answers",
]
