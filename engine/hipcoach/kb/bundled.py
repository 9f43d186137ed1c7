"""Where the bundled knowledge and rule files are.

An installed wheel carries them as ``hipcoach/knowledge_files`` and ``hipcoach/rule_files`` (see
``pyproject.toml``); a source checkout or an editable install reads the top-level
``knowledge/`` and ``rules/`` folders directly, so an edit there takes effect at once.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent.parent  # the hipcoach package folder


def _folder(installed: str, checkout: str) -> Path:
    for folder in (_HERE / installed, _HERE.parent.parent / checkout):
        if (folder / f"{'sources' if checkout == 'knowledge' else 'plan'}.yaml").is_file():
            return folder
    raise FileNotFoundError(f"hipcoach's bundled {checkout}/ files are missing: reinstall hipcoach, "
                            f"or pass --kb/--rules")


def knowledge_dir() -> Path:
    return _folder("knowledge_files", "knowledge")


def rules_dir() -> Path:
    return _folder("rule_files", "rules")
