"""Ladders and phases load from the bundled files, and broken ones fail naming the file, the
entry and the problem (and `kb check` reports them)."""

from __future__ import annotations

import pytest
import yaml

from hipcoach.errors import KnowledgeError
from hipcoach.kb.checks import check
from hipcoach.kb.knowledge import load_knowledge
from hipcoach.kb.ladders import load_programme_knowledge


def test_bundled_ladders_run_from_easier_to_harder_around_the_exercise(programme):
    ladders = programme.knowledge.ladders
    side_plank = ladders["side_plank"]
    hip = ["clamshell", "banded_clamshell", "side_lying_hip_abduction",
           "side_lying_hip_abduction_3x12", "knee_side_plank", "side_plank", "side_plank_leg_lift"]
    assert [r.id for r in side_plank.rungs] == hip
    assert side_plank.at(0).id == "side_plank" and side_plank.at(-1).id == "knee_side_plank"
    assert side_plank.at(2) is None and side_plank.at(-6) is None
    assert [r.id for r in ladders["clamshell"].rungs] == hip and ladders["clamshell"].origin == 0
    knee = ["quads_isometric", "quads_isometric_8", "shallow_wall_squat", "deeper_wall_squat",
            "low_step_down", "high_step_down"]
    assert [r.id for r in ladders["shallow_wall_squat"].rungs] == knee
    assert [r.id for r in ladders["quads_isometric"].rungs] == knee


def test_every_exercise_has_a_ladder_of_one_category(programme, kb):
    assert set(programme.knowledge.ladders) == set(kb.exercises)
    for exercise, ladder in programme.knowledge.ladders.items():
        assert {r.category for r in ladder.rungs} == {kb.exercises[exercise].category}
        assert ladder.at(0).id == exercise


def test_a_dose_rung_keeps_its_exercise_name_and_steps(programme, kb):
    rung = programme.knowledge.ladders["ninety_ninety_stretch"].at(2)
    base = kb.exercises["ninety_ninety_stretch"]
    assert (rung.name, rung.steps, rung.equipment) == (base.name, base.steps, base.equipment)
    assert rung.per_day == 2 and rung.day_minutes == 2 * rung.minutes


def test_a_dose_rung_makes_its_exercise_demands_and_other_rungs_their_own(programme, kb):
    ladder = programme.knowledge.ladders["quads_isometric"]
    assert ladder.at(1).demands == kb.exercises["quads_isometric"].demands
    assert programme.knowledge.ladders["shallow_wall_squat"].at(2).demands == ("single_leg_stance",)


def test_rungs_are_not_plannable_exercises(programme, kb):
    rung_ids = {r.id for ladder in programme.knowledge.ladders.values() for r in ladder.rungs}
    assert rung_ids - set(kb.exercises)  # there are inline rungs...
    assert not (rung_ids - set(kb.exercises)) & set(kb.exercises)  # ...and none is an exercise


def test_phases_cover_six_weeks_and_later_weeks_keep_the_last(programme):
    knowledge = programme.knowledge
    assert [knowledge.phase(w).id for w in range(1, 8)] == \
        ["control", "control", "load", "load", "single_leg", "single_leg", "single_leg"]
    assert all(1 <= p.strength_days <= 3 for p in knowledge.phases)


def _edit(path, change):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _link(data, ident):
    return next(link for link in data["links"] if link["id"] == ident)


def _rung(data, ident):
    return next(rung for rung in data["rungs"] if rung["id"] == ident)


BROKEN_LADDERS = [
    ("cycle", lambda d: d["links"].append({"id": "single_leg_bridge_hold", "harder": "glute_bridge",
                                           "source": "physio_practice"}),
     "glute_bridge", "round in a circle: glute_bridge -> single_leg_bridge -> single_leg_bridge_hold -> glute_bridge"),
    ("fork", lambda d: d["links"].append({"id": "single_leg_bridge_hold", "easier": "glute_bridge",
                                          "source": "physio_practice"}),
     "single_leg_bridge_hold", "glute_bridge gets two harder variants: single_leg_bridge and single_leg_bridge_hold"),
    ("category", lambda d: _link(d, "clamshell").update(harder="ninety_ninety_3x30"),
     "clamshell", "a ladder keeps to one category"),
    ("missing variant", lambda d: _link(d, "glute_bridge").update(harder="flying_bridge"),
     "glute_bridge", "'flying_bridge' is neither an exercise nor a rung"),
    ("missing equipment", lambda d: _rung(d, "banded_clamshell").pop("equipment"),
     "banded_clamshell", "missing required key 'equipment'"),
    ("unknown equipment", lambda d: _rung(d, "banded_clamshell").update(equipment=["kettlebell"]),
     "banded_clamshell", "'kettlebell'"),
    ("missing demands", lambda d: _rung(d, "low_step_down").pop("demands"),
     "low_step_down", "missing required key 'demands'"),
    ("unknown demand", lambda d: _rung(d, "low_step_down").update(demands=["hopping"]),
     "low_step_down", "'hopping'"),
    ("demand twice", lambda d: _rung(d, "low_step_down").update(
        demands=["single_leg_stance", "single_leg_stance"]),
     "low_step_down", "'demands' lists a demand twice"),
    ("rung named like an exercise", lambda d: _rung(d, "banded_clamshell").update(id="clamshell"),
     "clamshell", "a rung needs an id of its own"),
    ("self", lambda d: _link(d, "clamshell").update(harder="clamshell"),
     "clamshell", "is the entry itself"),
    ("unknown source", lambda d: _link(d, "clamshell").update(source="a_blog"),
     "clamshell", "source 'a_blog'"),
]


@pytest.mark.parametrize(("change", "entry", "problem"), [c[1:] for c in BROKEN_LADDERS],
                         ids=[c[0] for c in BROKEN_LADDERS])
def test_a_broken_ladder_fails_naming_file_entry_and_problem(data_copy, change, entry, problem):
    knowledge, rules = data_copy
    _edit(knowledge / "ladders.yaml", change)
    kb = load_knowledge(knowledge)
    with pytest.raises(KnowledgeError) as caught:
        load_programme_knowledge(knowledge, kb)
    assert caught.value.file.endswith("ladders.yaml")
    assert entry in (caught.value.entry or "")
    assert problem in caught.value.problem
    findings = check(knowledge, rules)  # `kb check` reports the same, as its one finding
    assert [(f.check, f.entry) for f in findings] == [("load", caught.value.entry)]


def test_a_ladder_that_joins_back_into_itself_is_refused(data_copy):
    knowledge, _ = data_copy

    def circle(data):
        data["rungs"].append({"id": "bridge_march", "name": "Bridge march", "category": "strength",
                              "equipment": [], "demands": [], "dose": "2 × 10", "minutes": 3,
                              "steps": ["Bridge, then march."], "source": "physio_practice"})
        data["links"].append({"id": "single_leg_bridge_hold", "harder": "bridge_march",
                              "source": "physio_practice"})
        data["links"].append({"id": "bridge_march", "harder": "single_leg_bridge",
                              "source": "physio_practice"})

    _edit(knowledge / "ladders.yaml", circle)
    with pytest.raises(KnowledgeError, match="single_leg_bridge gets two easier variants: glute_bridge and bridge_march"):
        load_programme_knowledge(knowledge, load_knowledge(knowledge))


def test_a_pure_circle_is_named_as_one(data_copy):
    knowledge, _ = data_copy

    def circle(data):
        data["rungs"] = [{"id": f"r{i}", "name": f"R{i}", "category": "strength", "equipment": [],
                          "demands": [],
                          "dose": "2 × 10", "minutes": 3, "steps": ["Do it."],
                          "source": "physio_practice"} for i in range(3)]
        data["links"] = [{"id": f"r{i}", "harder": f"r{(i + 1) % 3}", "source": "physio_practice"}
                         for i in range(3)]

    _edit(knowledge / "ladders.yaml", circle)
    with pytest.raises(KnowledgeError) as caught:
        load_programme_knowledge(knowledge, load_knowledge(knowledge))
    assert "round in a circle: r0 -> r1 -> r2 -> r0" in caught.value.problem


BROKEN_PHASES = [
    ("gap", lambda d: d["phases"][1].update(weeks=[4, 4]), "load", "must start at week 3"),
    ("too many strength days", lambda d: d["phases"][0].update(strength_days=4), "control",
     "never two days running"),
    ("unknown category cue", lambda d: d["phases"][0]["cues"].update(yoga="flow"), "control",
     "'yoga'"),
]


@pytest.mark.parametrize(("change", "entry", "problem"), [c[1:] for c in BROKEN_PHASES],
                         ids=[c[0] for c in BROKEN_PHASES])
def test_broken_phases_fail_naming_file_entry_and_problem(data_copy, change, entry, problem):
    knowledge, _ = data_copy
    _edit(knowledge / "phases.yaml", change)
    with pytest.raises(KnowledgeError) as caught:
        load_programme_knowledge(knowledge, load_knowledge(knowledge))
    assert caught.value.file.endswith("phases.yaml")
    assert entry in (caught.value.entry or "") and problem in caught.value.problem


def test_a_source_cited_only_by_the_programme_files_counts_as_cited(data_copy):
    knowledge, rules = data_copy
    assert not [f for f in check(knowledge, rules) if "acsm_2009_progression" in (f.entry or "")]
    (knowledge / "phases.yaml").unlink()
    (knowledge / "ladders.yaml").unlink()
    (rules / "progress.yaml").unlink()
    flagged = [f.entry for f in check(knowledge, rules) if f.check == "sources"]
    assert "acsm_2009_progression" in flagged
