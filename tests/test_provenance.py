"""The fingerprint says which files made an output, and nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

from hipcoach import Planner, __version__
from hipcoach.kb.provenance import Provenance, fingerprint
from test_handout import _print, needs_browser


def test_same_files_anywhere_give_the_same_fingerprint(data_copy: tuple[Path, Path], planner: Planner):
    assert fingerprint(*data_copy) == planner.provenance.fingerprint
    assert len(planner.provenance.fingerprint) == 64


def test_an_edit_an_added_and_a_removed_file_each_change_it(data_copy: tuple[Path, Path]):
    knowledge, rules = data_copy
    seen = {fingerprint(knowledge, rules)}
    with (rules / "advice.yaml").open("a", encoding="utf-8") as f:
        f.write("\n# a comment is an edit too\n")
    seen.add(fingerprint(knowledge, rules))
    shutil.copy(knowledge / "phases.yaml", knowledge / "extra.yaml")
    seen.add(fingerprint(knowledge, rules))
    (knowledge / "ladders.yaml").unlink()
    seen.add(fingerprint(knowledge, rules))
    assert len(seen) == 4


def test_a_file_moved_between_the_folders_changes_it(tmp_path: Path, data_copy: tuple[Path, Path]):
    knowledge, rules = data_copy
    before = fingerprint(knowledge, rules)
    shutil.move(knowledge / "phases.yaml", rules / "phases.yaml")
    assert fingerprint(knowledge, rules) != before


def test_provenance_names_the_version_and_a_short_fingerprint(planner: Planner):
    prov = planner.provenance
    assert prov == Provenance(__version__, prov.fingerprint)
    assert prov.as_json() == {"hipcoach": __version__, "fingerprint": prov.fingerprint}
    assert prov.describe() == f"hipcoach {__version__}, knowledge and rules {prov.fingerprint[:12]}"


# ------------------------------------------------------------------ every output carries it

DESK = Path(__file__).resolve().parent.parent / "examples" / "desk_runner.yaml"
RED_FLAG = DESK.with_name("red_flag.yaml")
SURVEYS = DESK.parent / "surveys"


def test_a_plan_a_referral_and_a_trace_carry_the_base_that_made_them(planner: Planner):
    import yaml

    for example in (DESK, RED_FLAG):
        answers = yaml.safe_load(example.read_text(encoding="utf-8"))
        assert planner.plan(answers)["provenance"] == planner.provenance.as_json()
        assert planner.trace(answers)["plan"]["provenance"] == planner.provenance.as_json()


def test_every_plan_format_ends_saying_which_base_made_it(planner: Planner, data_copy):
    import json

    from clirunner import invoke, ok

    made = f"Made by {planner.provenance.describe()}."
    for example in (DESK, RED_FLAG):
        text = ok(invoke("plan", example)).stdout
        assert text.splitlines()[-1] == made
        assert ok(invoke("plan", example, "--explain")).stdout.splitlines()[-1] == made
        assert ok(invoke("plan", example, "--format", "markdown")).stdout.splitlines()[-1] == f"_{made}_"
        page = ok(invoke("plan", example, "--format", "html")).stdout
        assert f'<footer class="small made-by">{made}</footer>' in page
        plan = json.loads(ok(invoke("plan", example, "--format", "json")).stdout)
        assert plan["provenance"] == planner.provenance.as_json()
    knowledge, rules = data_copy
    (rules / "plan.yaml").write_text((rules / "plan.yaml").read_text(encoding="utf-8") + "# edit\n",
                                     encoding="utf-8")
    edited = ok(invoke("plan", DESK, "--kb", knowledge, "--rules", rules)).stdout.splitlines()[-1]
    assert edited == f"Made by {Provenance.of(knowledge, rules).describe()}." != made


def test_the_programme_handout_and_calendar_say_which_base_made_them(planner: Planner, tmp_path):
    from clirunner import invoke, ok

    journal = tmp_path / "journal.json"
    ok(invoke("programme", "start", DESK, "--journal", journal, "--start", "2026-03-02"))
    page = ok(invoke("programme", "show", journal, "--format", "html")).stdout
    assert f"Made by {planner.provenance.describe()}." in page
    calendar = ok(invoke("programme", "show", journal, "--format", "ics")).stdout
    lines = calendar.replace("\n ", "").splitlines()  # unfolded
    assert f"X-HIPCOACH-VERSION:{__version__}" in lines
    assert f"X-HIPCOACH-FINGERPRINT:{planner.provenance.fingerprint}" in lines[:12]


def test_a_summary_names_its_input_its_options_and_its_base(planner: Planner, data_copy, tmp_path):
    import hashlib
    import json

    from clirunner import invoke, ok

    survey, mapping = SURVEYS / "google.csv", SURVEYS / "google_mapping.yaml"
    ok(invoke("score", survey, "--mapping", mapping, "--out", tmp_path / "a"))
    summary = json.loads((tmp_path / "a" / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"] == {"bytes": survey.stat().st_size,
                                "sha256": hashlib.sha256(survey.read_bytes()).hexdigest()}
    assert summary["options"]["mapping"] == {
        "name": mapping.name, "sha256": hashlib.sha256(mapping.read_bytes()).hexdigest()}
    assert summary["options"]["layout"] is None and summary["options"]["encoding"]
    assert summary["provenance"] == planner.provenance.as_json()
    knowledge, rules = data_copy
    (rules / "advice.yaml").write_text(
        (rules / "advice.yaml").read_text(encoding="utf-8") + "# edit\n", encoding="utf-8")
    ok(invoke("score", survey, "--mapping", mapping, "--out", tmp_path / "b",
              "--kb", knowledge, "--rules", rules))
    other = json.loads((tmp_path / "b" / "summary.json").read_text(encoding="utf-8"))
    assert other["provenance"]["fingerprint"] == fingerprint(knowledge, rules) != \
        summary["provenance"]["fingerprint"]
    assert (tmp_path / "a" / "plans.csv").read_bytes() == (tmp_path / "b" / "plans.csv").read_bytes()


@needs_browser
def test_the_printed_handout_ends_with_the_footer_on_its_last_page(planner: Planner, tmp_path):
    """In a real browser: the footer prints, on the last sheet, without a page of its own."""
    import yaml

    from hipcoach.present.handout import plan_html
    from hipcoach.present.labels import Labels

    labels = Labels.of(planner.kb, planner.rulebase)
    made = f"Made by {planner.provenance.describe()}."
    for example in (DESK, RED_FLAG):
        plan = planner.plan(yaml.safe_load(example.read_text(encoding="utf-8")))
        pages = _print(plan_html(plan, labels), tmp_path / example.stem, "A4")["pages"]
        assert made in pages[-1] and made not in " ".join(pages[:-1])
        assert pages[-1] != made  # it shares the last sheet with the plan or the log
