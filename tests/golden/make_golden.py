"""Write the golden answer sets and the digests of their plans and traces.

Run it (``make golden``) only after a change that is meant to change plans or traces, and say so in
the commit: ``test_golden.py`` then holds every later change to byte-identical output.

Outputs carry the fingerprint of the rule base that made them, which any edit of a rule or
knowledge file changes (a comment included). The digests are taken with that fingerprint (and
hipcoach's version) written as placeholders, so they move only when what a plan says moves:
the fingerprint itself is tested in ``test_provenance.py``.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

from hipcoach import Planner
from hipcoach.kb.knowledge import Question
from hipcoach.present.render import to_json
from hipcoach.trace.tracefile import dump

HERE = Path(__file__).resolve().parent
ANSWERS = HERE / "answers.jsonl"
DIGESTS = HERE / "digests.json"
SURVEY_DIGESTS = HERE / "surveys.json"
SURVEYS = HERE.parent.parent / "examples" / "surveys"
OUTPUTS = ("plans.csv", "plan_items.csv", "errors.csv", "summary.json", "traces.jsonl")
COUNT = 300
SEED = 20261125


def value(question: Question, rng: random.Random) -> Any:
    if question.type == "bool":
        return rng.random() < 0.5
    if question.type == "int":
        return rng.randint(int(question.min or 0), int(question.max or 0))
    if question.type == "number":
        return round(rng.uniform(question.min or 0, question.max or 0), 1)
    if question.type == "choice":
        return rng.choice(question.values)
    if question.id == "red_flags" and rng.random() < 0.85:
        return []
    return sorted(rng.sample(question.values, rng.randint(0, len(question.values))),
                  key=question.values.index)


def answer_sets(planner: Planner) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    return [{q.id: value(q, rng) for q in planner.kb.questions.values() if rng.random() < 0.75}
            for _ in range(COUNT)]


def neutral(text: str, planner: Planner) -> bytes:
    """``text`` with this rule base's fingerprint (whole, then short) and hipcoach's version as
    fixed placeholders."""
    made = planner.provenance
    for real, placeholder in ((made.fingerprint, "FINGERPRINT"), (made.short, "FINGERPRINT"),
                              (f'"hipcoach": "{made.version}"', '"hipcoach": "VERSION"')):
        text = text.replace(real, placeholder)
    return text.encode()


def digests(planner: Planner, sets: list[dict[str, Any]]) -> list[dict[str, str]]:
    """sha256 of each set's JSON plan and of its trace line, as the CLI writes them."""
    out = []
    for answers in sets:
        record = planner.trace(answers)
        out.append({"plan": hashlib.sha256(neutral(to_json(record["plan"]), planner)).hexdigest(),
                    "trace": hashlib.sha256(neutral(dump(record), planner)).hexdigest()})
    return out


def survey_digests(planner: Planner, out: Path) -> dict[str, dict[str, str]]:
    """sha256 of every file ``score --traces`` writes for each example survey (with its mapping
    where it has one)."""
    from hipcoach.batch.score import Options, score

    found = {}
    for survey in sorted(SURVEYS.glob("*.csv")):
        mapping = survey.with_name(f"{survey.stem}_mapping.yaml")
        folder = out / survey.stem
        score(survey, folder, planner, Options(mapping if mapping.exists() else None, traces=True))
        found[survey.name] = {
            name: hashlib.sha256(neutral((folder / name).read_text(encoding="utf-8"), planner)).hexdigest()
            for name in OUTPUTS}
    return found


def main() -> int:
    planner = Planner()
    sets = answer_sets(planner)
    ANSWERS.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in sets), encoding="utf-8")
    DIGESTS.write_text(json.dumps(digests(planner, sets), indent=1) + "\n", encoding="utf-8")
    with tempfile.TemporaryDirectory() as out:
        SURVEY_DIGESTS.write_text(json.dumps(survey_digests(planner, Path(out)), indent=1) + "\n",
                                  encoding="utf-8")
    print(f"wrote {len(sets)} answer sets and their digests to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
