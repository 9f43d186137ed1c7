"""Scoring by codes against the plainest reading of a survey: every row translated and planned
on its own. Whatever the rows, the chunk size and the mode, both must write the same bytes."""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hipcoach.batch.score as score_module
from conftest import TRIAGE_DEFAULTS
from hipcoach import Planner
from hipcoach.batch.coverage import triage_needs
from hipcoach.batch.csvsafe import cell_texts, row_text
from hipcoach.batch.keys import Profiler
from hipcoach.batch.mapping import Translator, form_mapping
from hipcoach.batch.profiles import ID_SLOT, ITEM_COLUMNS, PLAN_COLUMNS, render
from hipcoach.batch.score import Options, score
from hipcoach.batch.survey import Header
from hipcoach.batch.survey import rows as survey_rows
from hipcoach.kb.answers import complete, should_ask
from test_properties import _PLANNER

#: Cells a form export may hold for each column: good values in several spellings, bad ones,
#: empty cells, numbers on both sides of the rules' thresholds.
CELLS = {
    "respondent_id": ["r1", "r2", "r3", "r4", "", " ", "=cmd", "a,b", 'q"t'],
    "age": ["14", "30", "64", "65", "80", "", "old"],
    "weekly_km": ["0", "10", "30", "59", "60", "-1", ""],
    "sitting_hours": ["2", "6", "9", "12", ""],
    "knee_pain": ["front", "Front", "none", "outside", "sideways", ""],
    "hip_pain": ["none", "front", "outside", "back", ""],
    "low_back": ["tight", "pain", "none", ""],
    "pain_level": ["0", "3", "4", "5", "6", "8", "11", ""],
    "squat_difficulty": ["yes", "no", "TRUE", "maybe", ""],
    "red_flags": ["", "", "", "swelling", "nothing_known"],
    "equipment": ["mat", "mat;foam_roller", "foam_roller, mat", "skis", ""],
    "minutes": ["20", "5", "15", "91", ""],
}


def scored(planner: Planner, translator: Translator, cells: tuple[str, ...]
           ) -> dict[str, object] | None:
    """A row's complete answers, or None for a row that must be rejected: a bad cell, no id, no
    answers at all, or a blank triage answer where the questionnaire asks it."""
    raw, problems = translator.row(cells)
    if problems or not cells[0].strip() or not raw:
        return None
    answers = complete(raw, planner.kb)
    for answer in triage_needs(planner.rulebase, planner.kb):
        question = planner.kb.questions[answer]
        if answer not in raw and question.type != "multi" and should_ask(question, answers):
            return None
    return answers


def reference(planner: Planner, text: str, traces: bool) -> dict[str, str]:
    """plans.csv, plan_items.csv (and traces.jsonl) as a row-by-row reading gives them."""
    header = text.splitlines()[0].split(",")
    columns = Header("plain", tuple(header), tuple(header))
    index = {name: i for i, name in enumerate(header)}
    translator = Translator(form_mapping(columns, planner.kb), index, planner.kb)
    plans, items, trace_lines = [row_text(PLAN_COLUMNS)], [row_text(ITEM_COLUMNS)], []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.csv"
        path.write_text(text, encoding="utf-8")
        for batch, _ in survey_rows(path, "plain", len(header)):
            for _, cells in batch:
                answers = scored(planner, translator, cells)
                if answers is None:
                    continue
                ident = cells[0].strip()
                rendered = render(planner, answers, traces)
                cell = row_text([ident])[:-1]
                plans.append(cell + rendered.plan_tail)
                items.extend(cell + tail for tail in rendered.item_tails)
                if rendered.trace is not None:
                    trace_lines.append('{"respondent":' + json.dumps(ident) + ","
                                       + rendered.trace[len(ID_SLOT):])
    found = {"plans.csv": "".join(plans), "plan_items.csv": "".join(items)}
    if traces:
        found["traces.jsonl"] = "".join(trace_lines)
    return found


survey_lines = st.lists(st.tuples(*(st.sampled_from(v) for v in CELLS.values())),
                        min_size=1, max_size=30)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(lines=survey_lines, chunk=st.sampled_from([1, 2, 7, 1000]), traces=st.booleans(),
       dedupe=st.booleans())
@pytest.mark.slow
def test_scoring_by_codes_writes_what_row_by_row_scoring_writes(
        monkeypatch: pytest.MonkeyPatch, lines: list[tuple[str, ...]], chunk: int, traces: bool,
        dedupe: bool) -> None:
    text = ",".join(CELLS) + "\n" + "".join(row_text(line) for line in lines)
    monkeypatch.setattr(score_module, "rows", functools.partial(survey_rows, chunk_rows=chunk))
    with tempfile.TemporaryDirectory() as folder:
        survey = Path(folder) / "s.csv"
        survey.write_text(text, encoding="utf-8")
        summary = score(survey, Path(folder) / "out", _PLANNER,
                        Options(layout="plain", traces=traces, dedupe=dedupe))
        written = {name: (Path(folder) / "out" / name).read_text(encoding="utf-8")
                   for name in reference(_PLANNER, text, traces)}
    assert written == reference(_PLANNER, text, traces)
    profiler = Profiler(_PLANNER.rulebase, _PLANNER.kb)
    header = tuple(CELLS)
    translator = Translator(form_mapping(Header("plain", header, header), _PLANNER.kb),
                            {n: i for i, n in enumerate(header)}, _PLANNER.kb)
    profiles = set()
    for line in lines:
        answers = scored(_PLANNER, translator, line)
        if answers is not None:
            profiles.add(profiler.keys(answers)[0])
    assert summary["distinct_profiles"] == len(profiles)


@given(st.lists(st.text(min_size=1, max_size=8), max_size=20))
@pytest.mark.slow
def test_id_cells_are_the_cells_the_csv_writer_writes(ids: list[str]) -> None:
    import numpy as np

    array = np.array(ids + ["x"], dtype=object)[:-1] if ids else np.zeros(0, object)
    assert cell_texts(array).tolist() == [row_text([i])[:-1] for i in ids]


def test_a_column_fed_twice_is_merged_the_way_a_row_is(tmp_path: Path) -> None:
    """Two tick-box columns feeding one list answer: the coded path unites them as
    ``Translator.row`` does, so the plan sees both ticks."""
    text = ("respondent_id,red_flags,pain_level,knee_pain,equipment,equipment_extra\n"
            "r1,,3,front,mat,foam_roller\nr2,,3,front,,foam_roller\nr3,,3,front,mat,\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("respondent_id: respondent_id\ncolumns:\n"
                       "  red_flags: {answer: red_flags}\n"
                       "  pain_level: {answer: pain_level}\n"
                       "  knee_pain: {answer: knee_pain}\n"
                       "  equipment: {answer: equipment}\n"
                       "  equipment_extra: {answer: equipment}\n", encoding="utf-8")
    survey = tmp_path / "s.csv"
    survey.write_text(text, encoding="utf-8")
    assume = {a: v for a, v in TRIAGE_DEFAULTS.items() if a in ("age", "hip_pain", "low_back")}
    score(survey, tmp_path / "out", _PLANNER, Options(mapping=mapping, layout="plain", assume=assume))
    exercises = [line.split(",")[5] for line in
                 (tmp_path / "out" / "plans.csv").read_text().splitlines()[1:]]
    both = _PLANNER.plan({"knee_pain": "front", "pain_level": 3,
                          "equipment": ["mat", "foam_roller"]})
    assert exercises[0] == ";".join(i["exercise"] for i in both["items"])
    assert exercises[0] != exercises[1] or exercises[0] != exercises[2]
