"""What the ``trace`` commands tell people, in words: why an exercise is not in a plan (from
``trace.whynot``'s answer as JSON) and a batch's rule coverage (``trace.tracefile.coverage``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def why_not_text(answer: Mapping[str, Any]) -> str:
    """A why-not answer (``WhyNot.to_json()``) for reading: its kind and reasons, then the
    changes that bring the exercise in, end its exclusion, or that a runner chosen for it has."""
    lines = [f"{answer['exercise']}: {answer['kind'].replace('_', ' ')}"]
    lines += [f"  - {reason}" for reason in answer["reasons"]]
    if answer["kind"] in ("in_plan", "referral"):
        return "\n".join(lines)
    if answer["changes"]:
        lines.append("Changes you could make that bring it into the plan (each checked by re-planning):")
        lines += [f"  * {change['text']}" for change in answer["changes"]]
    else:
        lines.append("No change of equipment or time brings it into the plan.")
    if answer["lifts"]:
        lines.append("Changes you could make that end its exclusion (it then competes for a place):")
        lines += [f"  * {change['text']}" for change in answer["lifts"]]
    if answer["chosen_for"]:
        lines.append("It would be chosen for a runner whose answers differ like this:")
        lines += [f"  * {change['text']}" for change in answer["chosen_for"]]
    return "\n".join(lines)


def coverage_text(report: Mapping[str, Any]) -> str:
    """A coverage report for reading: statuses, each rule's firings, what never fired or was
    never chosen, and firings of rules these files do not hold."""
    statuses = ", ".join(f"{k}: {v}" for k, v in report["status"].items())
    lines = [f"{report['traces']} traces ({statuses})", f"{'rule':<52} {'firings':>8} {'traces':>7}"]
    lines += [f"{row['rule']:<52} {row['fired']:>8} {row['traces']:>7}" for row in report["rules"]]
    lines.append(f"never fired ({len(report['never_fired'])}): {', '.join(report['never_fired']) or '-'}")
    lines.append(f"never chosen ({len(report['never_chosen'])}): {', '.join(report['never_chosen']) or '-'}")
    if report["unknown_rules"]:
        lines.append(f"fired but not in these rules: {', '.join(report['unknown_rules'])}")
    return "\n".join(lines)
