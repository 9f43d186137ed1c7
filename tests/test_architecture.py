"""The package's import contracts, checked on the source itself (and run by ``make lint``):

- every layer imports only from the layers below it (errors → formats → atomic → kb → reasoning
  → planning → programme → present → trace → batch → web → cli), and inside a layer only from the
  modules declared before it in :data:`ORDER` (so, for instance, survey → mapping → coverage →
  scores in batch, and the trace file below how/why-not in trace);
- nothing inside the package imports the package root (``from hipcoach import Planner``): the
  root re-exports the public API from every layer, so importing it from a layer imports all;
- no module imports itself round a cycle, lazily (inside a function) or not;
- no dynamic imports (``importlib.import_module``, ``__import__``) except the command line's
  table of commands, whose modules are checked as if imported;
- third-party packages stay in their part: durable_rules only in the durable backend, click only
  in the command line, pandas and Dask in batch scoring at most, jinja2 in the HTML handout and the web pages,
  Starlette and uvicorn in the web pages alone, pyarrow in the Parquet tables.
"""

from __future__ import annotations

import ast
import functools
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "engine" / "hipcoach"
#: Bottom to top. A module may import from its own layer and the layers before it.
LAYERS = ("errors", "formats", "atomic", "kb", "reasoning", "planning", "programme", "present", "trace",
          "batch", "web", "cli", "__main__")
#: Each layer's modules, bottom to top (``__init__`` is the layer's package). A module may
#: import only the modules of its layer declared before it.
ORDER = {
    "kb": ("__init__", "schema", "ops", "bundled", "provenance", "knowledge", "answers", "ladders",
           "rulefile", "cache", "verify", "checks"),
    "reasoning": ("__init__", "certainty", "facts", "durable.__init__", "durable.adapter",
                  "durable.conditions", "inference", "progress"),
    "planning": ("__init__", "assemble", "planner"),
    "programme": ("__init__", "journal", "layout", "rungs", "programme"),
    "present": ("__init__", "labels", "words", "explain", "form", "graph", "catalogue", "traces",
                "journal", "calendar", "handout", "charts", "report", "render", "programme"),
    "trace": ("__init__", "tracefile", "whynot", "decisions", "scenarios"),
    "batch": ("__init__", "keys", "csvsafe", "records", "survey", "mapping", "coverage", "coding",
              "findings", "profiles", "tables", "report", "outputs", "ledger", "cluster", "score", "diff"),
    "web": ("__init__", "engine", "guard", "questions", "why", "app", "server"),
    # the root group imports its commands (from its table, when one runs), so it comes last
    "cli": ("options", "kb_cli", "plan_cli", "programme_cli", "questionnaire_cli", "score_cli",
            "trace_cli", "diff_cli", "serve_cli", "__init__"),
}
#: Third-party packages only one part of the package may import.
CONFINED = {"durable": "reasoning.durable", "durable_rules_engine": "reasoning.durable",
            "click": "cli", "pandas": "batch", "openpyxl": "batch",
            "jinja2": ("present.handout", "web"), "dask": "batch", "distributed": "batch",
            "starlette": "web", "uvicorn": "web", "multipart": "web", "python_multipart": "web",
            # the Parquet tables, an optional extra imported in one place
            "pyarrow": "batch.outputs"}
#: The modules that may import by name at run time, and the module-level table of the names
#: (relative to the module's package) they import.
DYNAMIC = {"cli": "COMMANDS"}
#: Call names that import a module from a string.
IMPORTERS = ("import_module", "__import__")


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def dotted(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


@functools.cache
def names() -> dict[str, Path]:
    return {dotted(path): path for path in modules()}


def imports(path: Path, source: str | None = None) -> list[tuple[str, int]]:
    """Every name ``path`` imports (absolute) with its line, at the top or inside a function:
    ``import a.b`` gives ``a.b``, ``from a import b`` gives ``a.b`` (a module or a name in one)."""
    here = dotted(path).split(".") if dotted(path) else []
    package = here if path.name == "__init__.py" else here[:-1]
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
                module = "hipcoach." + name if name else "hipcoach"
            else:
                module = node.module or ""
            found += [(f"{module}.{alias.name}", node.lineno) for alias in node.names]
    return found


def resolve(imported: str, known: dict[str, Path]) -> str | None:
    """The in-package module an import names (``hipcoach.kb.schema.Entry`` -> ``kb.schema``),
    ``""`` for the package root, or None for anything outside the package."""
    if imported != "hipcoach" and not imported.startswith("hipcoach."):
        return None
    name = imported[len("hipcoach."):] if imported != "hipcoach" else ""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name


def dynamic_targets(path: Path, source: str | None = None) -> tuple[list[int], list[str]]:
    """The lines where ``path`` imports from a string, and the modules its :data:`DYNAMIC` table
    names (absolute), if it has one."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):  # the importers themselves, however named
            imported = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [f"{node.module}.{a.name}" for a in node.names]
            if any(name in ("importlib", "importlib.util") or name.startswith("importlib.util.")
                   or name.startswith("importlib.import_module") for name in imported):
                lines.append(node.lineno)
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in IMPORTERS:
                lines.append(node.lineno)
    table = DYNAMIC.get(dotted(path))
    targets: list[str] = []
    for node in tree.body:
        if table and isinstance(node, ast.Assign) and any(getattr(t, "id", "") == table for t in node.targets):
            package = dotted(path) if path.name == "__init__.py" else dotted(path).rpartition(".")[0]
            targets = [f"hipcoach.{package}.{value}" for value in ast.literal_eval(node.value).values()]
    return lines, targets


@functools.cache
def graph() -> dict[str, set[tuple[str, int]]]:
    """Each module's in-package imports (module, line), dynamic ones included."""
    known = names()
    edges: dict[str, set[tuple[str, int]]] = {}
    for name, path in known.items():
        found = imports(path) + [(target, 0) for target in dynamic_targets(path)[1]]
        edges[name] = {(target, line) for imported, line in found
                       if (target := resolve(imported, known)) and target != name}
    return edges


def layer(name: str) -> int:
    """The layer index of an in-package module path (``kb.schema`` -> kb's index)."""
    return LAYERS.index(name.split(".")[0]) if name else len(LAYERS)


def place(name: str) -> tuple[str, str]:
    """A module's layer and its name inside it as :data:`ORDER` writes it."""
    path = names()[name]
    head, _, rest = name.partition(".")
    inner = rest + ".__init__" if path.name == "__init__.py" and rest else rest or "__init__"
    return head, inner


def test_every_module_belongs_to_a_layer():
    for path in modules():
        name = dotted(path)
        if name:
            assert name.split(".")[0] in LAYERS, f"{name}: add its folder to LAYERS"


def test_every_module_of_a_layer_has_its_place_in_the_layer():
    for name in names():
        if name and (names()[name].parent != PACKAGE):
            head, inner = place(name)
            assert inner in ORDER.get(head, ()), f"{name}: declare it in ORDER[{head!r}]"
    for head, order in ORDER.items():
        for inner in order:
            file = PACKAGE / head / (inner.replace(".", "/") + ".py")
            assert file.exists(), f"ORDER[{head!r}] names {inner}, which is no module"


@pytest.mark.parametrize("path", modules(), ids=dotted)
def test_layers_import_downwards_only(path):
    name = dotted(path)
    if not name:  # the package's __init__ re-exports the public API from every layer
        return
    for target, line in sorted(graph()[name]):
        assert layer(target) <= layer(name), f"{name}:{line} imports {target}, a layer above it"


@pytest.mark.parametrize("path", [p for p in modules() if p.parent != PACKAGE], ids=dotted)
def test_inside_a_layer_modules_import_only_those_declared_before_them(path):
    name = dotted(path)
    head, inner = place(name)
    order = ORDER[head]
    for target, line in sorted(graph()[name]):
        if target.split(".")[0] == head and target != head:
            _, target_inner = place(target)
            assert order.index(target_inner) < order.index(inner), \
                f"{name}:{line} imports {target}, declared after it in ORDER[{head!r}]"


@pytest.mark.parametrize("path", [p for p in modules() if dotted(p)], ids=dotted)
def test_nothing_inside_imports_the_package_root(path):
    for imported, line in imports(path):
        assert resolve(imported, names()) != "", \
            f"{dotted(path)}:{line} imports the hipcoach package itself; import the module that defines it"


def test_no_module_imports_itself_round_a_cycle():
    edges = {name: {target for target, _ in found} for name, found in graph().items()}
    try:
        tuple(TopologicalSorter(edges).static_order())
    except CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


@pytest.mark.parametrize("path", modules(), ids=dotted)
def test_no_dynamic_imports_but_the_declared_ones(path):
    lines, targets = dynamic_targets(path)
    name = dotted(path)
    if name in DYNAMIC:
        assert targets, f"{name}: its table {DYNAMIC[name]} of modules imported by name is gone"
        assert all(resolve(t, names()) == t[len("hipcoach."):] for t in targets), targets
        return
    assert not lines, f"{name}:{lines[0]} imports a module from a string, which no contract can check"


@pytest.mark.parametrize("path", modules(), ids=dotted)
def test_third_party_packages_stay_in_their_part(path):
    name = dotted(path)
    for imported, line in imports(path):
        top = imported.split(".")[0]
        if top in CONFINED:
            parts = CONFINED[top] if isinstance(CONFINED[top], tuple) else (CONFINED[top],)
            assert name.startswith(parts), \
                f"{name}:{line} imports {top}, which belongs in " + " or ".join(f"hipcoach.{p}" for p in parts)


# ------------------------------------------------------------ the checker's own guards

def test_the_checker_sees_relative_imports():
    """Guards the contract tests: they must resolve the package's relative imports."""
    found = {resolve(imported, names()) for imported, _ in imports(PACKAGE / "planning" / "planner.py")}
    assert {"kb.answers", "reasoning.inference", "formats", "planning.assemble"} <= found


@pytest.mark.parametrize("source", ["from hipcoach import Planner\n", "from .. import Planner\n",
                                    "import hipcoach\n", "def f():\n    from .. import plan\n"])
def test_the_checker_sees_an_import_of_the_package_root(source):
    known = names()
    found = [resolve(imported, known) for imported, _ in imports(PACKAGE / "kb" / "checks.py", source)]
    assert "" in found and not {"kb.Planner", "Planner"} & set(map(str, found))


def test_the_checker_tells_a_module_of_the_root_from_the_root():
    known = names()
    found = {resolve(imported, known) for imported, _ in
             imports(PACKAGE / "kb" / "checks.py", "from .. import formats\n")}
    assert "formats" in found


@pytest.mark.parametrize("source", ["import importlib\nimportlib.import_module('hipcoach.cli')\n",
                                    "from importlib import import_module as load\nload('x')\n",
                                    "def f():\n    from importlib import import_module\n",
                                    "import importlib.util\n",
                                    "__import__('hipcoach.batch')\n"])
def test_the_checker_sees_a_dynamic_import(source):
    lines, _ = dynamic_targets(PACKAGE / "kb" / "checks.py", source)
    assert lines


def test_the_checker_leaves_importlib_metadata_alone():
    assert dynamic_targets(PACKAGE / "kb" / "checks.py",
                           "from importlib.metadata import version\nimport importlib.metadata\n") == ([], [])


def test_the_checker_reads_the_command_table():
    _, targets = dynamic_targets(PACKAGE / "cli" / "__init__.py")
    assert "hipcoach.cli.score_cli" in targets and "hipcoach.cli.trace_cli" in targets
