"""The fingerprint says which files made an output, and nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

from hipcoach import Planner, __version__
from hipcoach.kb.provenance import Provenance, fingerprint


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
