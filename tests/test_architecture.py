"""The package's import contracts, checked on the source itself: durable_rules only in the
durable backend, click only in the command line, pandas and Dask in batch scoring at most, jinja2
in the HTML handout alone, pyarrow in the Parquet tables, and every layer importing only from
layers below it (answers → facts → engine → conclusions → plan → programme → renderers;
survey → mapping → profiles → scores; trace → how/why-not/graph)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "engine" / "hipcoach"
#: Bottom to top. A module may import from its own layer and the layers before it.
LAYERS = ("errors", "formats", "atomic", "kb", "reasoning", "planning", "programme", "present", "trace",
          "batch", "cli")
#: Third-party packages only one part of the package may import.
CONFINED = {"durable": "reasoning.durable", "durable_rules_engine": "reasoning.durable",
            "click": "cli", "pandas": "batch", "openpyxl": "batch", "jinja2": "present.handout",
            "dask": "batch", "distributed": "batch",
            # the Parquet tables, an optional extra imported in one place
            "pyarrow": "batch.outputs"}


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def dotted(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


def imports(path: Path) -> list[tuple[str, int]]:
    """Every module ``path`` imports (absolute names, ``hipcoach.`` stripped) with its line."""
    here = dotted(path).split(".") if dotted(path) else []
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
                found += [("hipcoach." + name if name else "hipcoach", node.lineno)]
                if node.module is None:  # from . import x
                    found += [("hipcoach." + ".".join(base + [a.name]), node.lineno)
                              for a in node.names]
            else:
                found.append((node.module or "", node.lineno))
    return found


def layer(name: str) -> int:
    """The layer index of an in-package module path (``kb.schema`` -> kb's index)."""
    return LAYERS.index(name.split(".")[0]) if name else len(LAYERS)


def test_every_module_belongs_to_a_layer():
    for path in modules():
        name = dotted(path)
        if name:
            assert name.split(".")[0] in LAYERS, f"{name}: add its folder to LAYERS"


@pytest.mark.parametrize("path", modules(), ids=dotted)
def test_layers_import_downwards_only(path):
    name = dotted(path)
    if not name:  # the package's __init__ re-exports the public API from every layer
        return
    for imported, line in imports(path):
        if imported.startswith("hipcoach.") and imported != "hipcoach":
            target = imported[len("hipcoach."):]
            assert layer(target) <= layer(name), \
                f"{name}:{line} imports {target}, a layer above it"


@pytest.mark.parametrize("path", modules(), ids=dotted)
def test_third_party_packages_stay_in_their_part(path):
    name = dotted(path)
    for imported, line in imports(path):
        top = imported.split(".")[0]
        if top in CONFINED:
            assert name.startswith(CONFINED[top]), \
                f"{name}:{line} imports {top}, which belongs in hipcoach.{CONFINED[top]}"


def test_the_checker_sees_relative_imports():
    """Guards the contract tests: they must resolve the package's relative imports."""
    found = dict(imports(PACKAGE / "planning" / "planner.py"))
    assert "hipcoach.kb.answers" in found and "hipcoach.reasoning.inference" in found
    assert "hipcoach.formats" in found
