"""A traced plan's derivation as a graph: answers -> symptoms -> causes -> exercises.

Edges carry the rule id and the certainty that firing lent its conclusion. Built from the plan's
``because`` lists, so the graph shows exactly the chains the plan explains.
"""

from __future__ import annotations

import json
import re
from typing import Any

FORMATS = ("dot", "mermaid")
#: Node kinds in graph order, with the DOT shape each is drawn as.
SHAPES = {"answer": "note", "symptom": "ellipse", "cause": "box", "exercise": "box3d",
          "referral": "octagon"}

Node = tuple[str, str]  # (kind, id)
Edge = tuple[Node, Node, str]


def edges(plan: dict[str, Any]) -> tuple[list[Node], list[Edge]]:
    """Nodes (in first-seen order, grouped by kind) and labelled edges of a plan."""
    found: list[Edge] = []
    targets: list[tuple[Node, list[dict[str, Any]]]] = []
    targets += [(("symptom", s["id"]), s["because"]) for s in plan["symptoms"]]
    targets += [(("cause", c["id"]), c["because"]) for c in plan["causes"]]
    targets += [(("exercise", i["exercise"]), i["because"]) for i in plan["items"]]
    for reason in plan["reasons"]:
        targets.append((("referral", reason["id"]),
                        [{"rule": reason["rule"], "confidence": 1.0, "from": reason["from"]}]))
    for node, because in targets:
        for support in because:
            label = f"{support['rule']} ({support['confidence']})"
            for premise in support["from"]:
                found.append((_node(premise), node, label))
    nodes: list[Node] = []
    for source, target, _ in found:
        for node in (source, target):
            if node not in nodes:
                nodes.append(node)
    order = list(SHAPES)
    nodes.sort(key=lambda n: order.index(n[0]))  # stable: first-seen order within a kind
    return nodes, found


def _node(premise: dict[str, Any]) -> Node:
    if "answer" in premise:
        return ("answer", f"{premise['answer']}={json.dumps(premise['value'], ensure_ascii=False)}"
                if not isinstance(premise["value"], str) else f"{premise['answer']}={premise['value']}")
    for kind in ("symptom", "cause"):
        if kind in premise:
            return (kind, premise[kind])
    return ("exercise", premise.get("exercise") or premise["item"])


def _key(node: Node) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{node[0]}_{node[1]}")


def to_dot(plan: dict[str, Any]) -> str:
    nodes, found = edges(plan)
    lines = ["digraph hipcoach {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for node in nodes:
        lines.append(f'  {_key(node)} [label={_quote(node[1])}, shape={SHAPES[node[0]]}];')
    for source, target, label in found:
        lines.append(f"  {_key(source)} -> {_key(target)} [label={_quote(label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(plan: dict[str, Any]) -> str:
    nodes, found = edges(plan)
    brackets = {"answer": ('[/"', '"/]'), "symptom": ('(["', '"])'), "cause": ('["', '"]'),
                "exercise": ('[["', '"]]'), "referral": ('{{"', '"}}')}
    lines = ["flowchart LR"]
    for node in nodes:
        left, right = brackets[node[0]]
        lines.append(f"  {_key(node)}{left}{_mermaid_text(node[1])}{right}")
    for source, target, label in found:
        lines.append(f'  {_key(source)} -->|"{_mermaid_text(label)}"| {_key(target)}')
    return "\n".join(lines) + "\n"


def render_graph(plan: dict[str, Any], fmt: str) -> str:
    return to_dot(plan) if fmt == "dot" else to_mermaid(plan)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")
