"""``graph``: a traced plan's derivation as Graphviz DOT and as a Mermaid flowchart.

The expected nodes and edges are computed here from the plan's ``because`` lists (one node per
answer, symptom, cause and exercise in the chains; one edge per premise of each supporting
firing, labelled "rule (cf)") and compared with what the renderers print. DOT is parsed with
pydot when it is installed; a structural check runs either way.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import EXAMPLES
from hipcoach.present.graph import FORMATS, SHAPES, edges, render_graph, to_dot, to_mermaid

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
PLANNED = [p.stem for p in EXAMPLE_FILES if p.stem != "red_flag"]
MERMAID_EDGE = re.compile(r'^  \w+ -->\|"[^"]+"\| \w+$')
MERMAID_NODE = re.compile(r'^  (\w+)(\[/"|\(\["|\["|\[\["|\{\{")([^"]*)("/\]|"\]\)|"\]|"\]\]|"\}\})$')
DOT_NODE = re.compile(r'^  (\w+) \[label="((?:[^"\\]|\\.)*)", shape=(\w+)\];$')
DOT_EDGE = re.compile(r'^  (\w+) -> (\w+) \[label="((?:[^"\\]|\\.)*)"\];$')


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def plans(planner) -> dict[str, dict[str, Any]]:
    return {path.stem: planner.trace(load(path))["plan"] for path in EXAMPLE_FILES}


def label_of(premise: dict[str, Any]) -> tuple[str, str]:
    """(kind, label) of the node a premise of a ``from`` list is drawn as."""
    if "answer" in premise:
        value = premise["value"]
        return "answer", f"{premise['answer']}={value if isinstance(value, str) else json.dumps(value)}"
    for kind in ("symptom", "cause"):
        if kind in premise:
            return kind, premise[kind]
    return "exercise", premise.get("exercise") or premise.get("item")


def expected(plan: dict[str, Any]) -> tuple[set[tuple[str, str]], Counter]:
    """Nodes as (kind, label) and edges as (source label, target label, edge label), from the plan."""
    targets = [(("symptom", s["id"]), s["because"]) for s in plan["symptoms"]]
    targets += [(("cause", c["id"]), c["because"]) for c in plan["causes"]]
    targets += [(("exercise", i["exercise"]), i["because"]) for i in plan["items"]]
    targets += [(("referral", r["id"]), [{"rule": r["rule"], "confidence": 1.0, "from": r["from"]}])
                for r in plan["reasons"]]
    nodes: set[tuple[str, str]] = set()
    found: Counter = Counter()
    for target, because in targets:
        for support in because:
            for premise in support["from"]:
                source = label_of(premise)
                nodes |= {source, target}
                found[(source, target, f"{support['rule']} ({support['confidence']})")] += 1
    return nodes, found


def unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse_dot(text: str) -> tuple[dict[str, tuple[str, str]], Counter]:
    """A structural reading of our DOT: node key -> (shape, label); edges as label triples."""
    lines = text.splitlines()
    assert lines[:3] == ["digraph hipcoach {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    assert lines[-1] == "}" and text.endswith("}\n")
    nodes: dict[str, tuple[str, str]] = {}
    found: Counter = Counter()
    for line in lines[3:-1]:
        if (m := DOT_NODE.match(line)):
            assert m.group(1) not in nodes, f"node declared twice: {line}"
            nodes[m.group(1)] = (m.group(3), unquote(m.group(2)))
        elif (m := DOT_EDGE.match(line)):
            found[(m.group(1), m.group(2), unquote(m.group(3)))] += 1
        else:
            pytest.fail(f"unexpected DOT line: {line!r}")
    return nodes, found


def as_labels(nodes: dict[str, tuple[str, str]], shape_kind: dict[str, str],
              found: Counter) -> Counter:
    result: Counter = Counter()
    for (src, dst, label), count in found.items():
        s_shape, s_label = nodes[src]
        d_shape, d_label = nodes[dst]
        result[((shape_kind[s_shape], s_label), (shape_kind[d_shape], d_label), label)] += count
    return result


SHAPE_KIND = {shape: kind for kind, shape in SHAPES.items()}


def test_each_node_kind_has_its_own_shape():
    assert len(SHAPE_KIND) == len(SHAPES) == 5


# ------------------------------------------------------------------------------ DOT


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLE_FILES])
def test_dot_has_one_node_per_fact_and_one_edge_per_premise(plans, name):
    plan = plans[name]
    nodes, found = parse_dot(to_dot(plan))
    want_nodes, want_edges = expected(plan)
    assert {(SHAPE_KIND[shape], label) for shape, label in nodes.values()} == want_nodes
    assert len(nodes) == len(want_nodes)  # no fact drawn twice
    assert as_labels(nodes, SHAPE_KIND, found) == want_edges
    assert sum(found.values()) == sum(want_edges.values())


@pytest.mark.filterwarnings("ignore::DeprecationWarning:pydot")  # pydot 4 on pyparsing 3.3
@pytest.mark.parametrize("name", [p.stem for p in EXAMPLE_FILES])
def test_dot_parses_with_pydot(plans, name):
    pydot = pytest.importorskip("pydot")
    plan = plans[name]
    graphs = pydot.graph_from_dot_data(to_dot(plan))
    assert graphs is not None and len(graphs) == 1
    graph = graphs[0]
    assert graph.get_type() == "digraph"
    nodes = {n.get_name(): (n.get_shape(), n.get_label().strip('"')) for n in graph.get_nodes()
             if n.get_name() not in ("node", "edge", "graph")}
    found = Counter((e.get_source(), e.get_destination(), e.get_label().strip('"'))
                    for e in graph.get_edges())
    want_nodes, want_edges = expected(plan)
    assert {(SHAPE_KIND[shape], label) for shape, label in nodes.values()} == want_nodes
    assert as_labels(nodes, SHAPE_KIND, found) == want_edges


@pytest.mark.parametrize("name", PLANNED)
def test_every_plan_exercise_is_a_node(plans, name):
    plan = plans[name]
    nodes, _ = parse_dot(to_dot(plan))
    exercises = {label for shape, label in nodes.values() if shape == SHAPES["exercise"]}
    assert exercises == {item["exercise"] for item in plan["items"]}
    assert exercises


@pytest.mark.parametrize("name", PLANNED)
def test_dot_edges_are_labelled_rule_and_certainty(plans, name):
    _, found = parse_dot(to_dot(plans[name]))
    assert found
    for _, _, label in found:
        assert re.fullmatch(r"[a-z_]+(\.[a-z0-9_]+)+ \((0(\.\d{1,3})?|1\.0)\)", label), label


def test_dot_desk_runner_edge_example(plans):
    text = to_dot(plans["desk_runner"])
    assert ('  answer_knee_pain_front -> symptom_runners_knee '
            '[label="symptom.runners_knee.front_knee_pain (0.8)"];') in text.splitlines()
    assert '  answer_squat_difficulty_true [label="squat_difficulty=true", shape=note];' in text


def test_dot_nodes_come_grouped_by_kind(plans):
    nodes, _ = parse_dot(to_dot(plans["desk_runner"]))
    order = [SHAPE_KIND[shape] for shape, _ in nodes.values()]
    kinds = list(SHAPES)
    assert order == sorted(order, key=kinds.index)


def test_dot_escapes_quotes_in_labels():
    plan = {"symptoms": [], "causes": [], "items": [], "reasons": [
        {"id": "odd", "rule": "triage.odd", "from": [{"answer": "note", "value": 'say "hi"'}]}]}
    text = to_dot(plan)
    assert 'label="note=say \\"hi\\""' in text
    nodes, _ = parse_dot(text)
    assert ("note", 'note=say "hi"') in nodes.values()


# ------------------------------------------------------------------------------ Mermaid


def parse_mermaid(text: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str, str]]]:
    lines = text.splitlines()
    assert lines[0] == "flowchart LR" and text.endswith("\n")
    nodes: dict[str, tuple[str, str]] = {}
    found: list[tuple[str, str, str]] = []
    for line in lines[1:]:
        if "-->" in line:
            assert MERMAID_EDGE.match(line), line
            m = re.match(r'^  (\w+) -->\|"([^"]+)"\| (\w+)$', line)
            found.append((m.group(1), m.group(3), m.group(2)))
        else:
            m = MERMAID_NODE.match(line)
            assert m, f"not a node declaration: {line!r}"
            assert m.group(1) not in nodes, f"node declared twice: {line}"
            nodes[m.group(1)] = (m.group(2), m.group(3))
    return nodes, found


BRACKET_KIND = {'[/"': "answer", '(["': "symptom", '["': "cause", '[["': "exercise",
                '{{"': "referral"}


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLE_FILES])
def test_mermaid_is_a_flowchart_with_declared_nodes_and_labelled_edges(plans, name):
    plan = plans[name]
    text = to_mermaid(plan)
    nodes, found = parse_mermaid(text)
    assert found
    for source, target, _ in found:
        assert source in nodes and target in nodes
    # every declared node is used, and nodes are declared before any edge
    used = {n for s, t, _ in found for n in (s, t)}
    assert used == set(nodes)
    lines = text.splitlines()
    first_edge = next(i for i, line in enumerate(lines) if "-->" in line)
    assert all("-->" in line for line in lines[first_edge:])
    assert all("-->" not in line for line in lines[1:first_edge])


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLE_FILES])
def test_mermaid_matches_the_plans_chains(plans, name):
    plan = plans[name]
    nodes, found = parse_mermaid(to_mermaid(plan))
    want_nodes, want_edges = expected(plan)
    got_nodes = {(BRACKET_KIND[bracket], label) for bracket, label in nodes.values()}
    assert got_nodes == want_nodes
    got_edges = Counter()
    for source, target, label in found:
        s, t = nodes[source], nodes[target]
        got_edges[((BRACKET_KIND[s[0]], s[1]), (BRACKET_KIND[t[0]], t[1]), label)] += 1
    assert got_edges == want_edges


def test_mermaid_and_dot_draw_the_same_graph(plans):
    for plan in plans.values():
        dot_nodes, dot_edges = parse_dot(to_dot(plan))
        mm_nodes, mm_edges = parse_mermaid(to_mermaid(plan))
        assert set(dot_nodes) == set(mm_nodes)
        assert Counter(dot_edges.elements()) == Counter(mm_edges)


def test_mermaid_replaces_quotes_in_labels():
    plan = {"symptoms": [], "causes": [], "items": [], "reasons": [
        {"id": "odd", "rule": "triage.odd", "from": [{"answer": "note", "value": 'say "hi"'}]}]}
    text = to_mermaid(plan)
    assert '[/"note=say #quot;hi#quot;"/]' in text
    parse_mermaid(text)


# ------------------------------------------------------------------------------ referral, determinism


def test_referral_graph_contains_the_referral_nodes(plans):
    plan = plans["red_flag"]
    dot_nodes, dot_edges = parse_dot(to_dot(plan))
    assert ("octagon", "swelling") in dot_nodes.values()
    assert ("octagon", "locking_or_giving_way") in dot_nodes.values()
    assert ("answer_red_flags_swelling", "referral_swelling", "triage.swelling (1.0)") in dot_edges
    mermaid = to_mermaid(plan)
    assert '  referral_swelling{{"swelling"}}' in mermaid.splitlines()
    assert '  answer_red_flags_swelling -->|"triage.swelling (1.0)"| referral_swelling' \
        in mermaid.splitlines()
    # a referral has no exercises
    assert not any(shape == SHAPES["exercise"] for shape, _ in dot_nodes.values())


@pytest.mark.parametrize("fmt", FORMATS)
def test_graph_output_is_deterministic(planner, fmt):
    answers = load(EXAMPLES / "desk_runner.yaml")
    first = render_graph(planner.trace(answers)["plan"], fmt)
    assert render_graph(planner.trace(answers)["plan"], fmt) == first
    assert render_graph(json.loads(json.dumps(planner.plan(answers))), fmt) == first


def test_render_graph_picks_the_format(plans):
    plan = plans["itb_trail_runner"]
    assert render_graph(plan, "dot") == to_dot(plan)
    assert render_graph(plan, "mermaid") == to_mermaid(plan)
    assert FORMATS == ("dot", "mermaid")


def test_edges_lists_nodes_in_kind_order_and_edges_in_plan_order(plans):
    nodes, found = edges(plans["desk_runner"])
    kinds = [kind for kind, _ in nodes]
    assert kinds == sorted(kinds, key=list(SHAPES).index)
    assert len(set(nodes)) == len(nodes)
    # the first symptom's first support comes first
    symptom = plans["desk_runner"]["symptoms"][0]
    assert found[0][1] == ("symptom", symptom["id"])
    assert found[0][2] == f"{symptom['because'][0]['rule']} ({symptom['because'][0]['confidence']})"
