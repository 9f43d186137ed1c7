"""The journal: written whole or not at all, read back only when it is a journal."""

from __future__ import annotations

import json

import pytest

from hipcoach.errors import ProgrammeError
from hipcoach.programme import journal as journal_module
from hipcoach.programme.journal import dumps, read_journal, write_journal
from hipcoach.programme.programme import Checkin

ANSWERS = {"knee_pain": "front", "minutes": 25, "equipment": ["mat"]}


@pytest.fixture
def started(programme):
    return programme.start(ANSWERS, "2026-03-02", 6, ("mon", "wed", "sat"))[1]


def test_a_journal_reads_back_as_written(tmp_path, started):
    path = tmp_path / "j.json"
    write_journal(path, started)
    assert read_journal(path) == started
    assert path.read_text(encoding="utf-8") == dumps(started)


def test_a_killed_write_leaves_the_old_journal_intact(tmp_path, programme, started, monkeypatch):
    path = tmp_path / "j.json"
    write_journal(path, started)
    before = path.read_bytes()
    updated = programme.checkin(started, Checkin("2026-03-08", 2, "same", 5))[0]
    text = dumps(updated)

    class Killed(Exception):
        pass

    def half_then_die(target, write):
        """What a crash half-way through writing does: some of the text, then nothing more."""
        def partial(stream):
            stream.write(text[: len(text) // 2])
            raise Killed
        return real_write(target, partial)

    real_write = journal_module.write_atomic
    monkeypatch.setattr(journal_module, "write_atomic", half_then_die)
    with pytest.raises(Killed):
        write_journal(path, updated)
    assert path.read_bytes() == before
    assert read_journal(path) == started
    assert [p.name for p in tmp_path.iterdir()] == ["j.json"]  # no half-written file left


@pytest.mark.parametrize(("text", "problem"), [
    ("", "not JSON"),
    ("{", "not JSON"),
    ("[]", "the top level must be an object"),
    ('{"version": 2}', "missing provenance, answers"),
    ('{"version": 1}', "written by an older hipcoach"),
])
def test_what_is_not_a_journal_is_one_error_naming_the_file(tmp_path, text, problem):
    path = tmp_path / "j.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProgrammeError, match=problem) as caught:
        read_journal(path)
    assert str(path) in str(caught.value)


def test_a_journal_with_a_wrong_value_names_where(tmp_path, started):
    broken = json.loads(dumps(started))
    broken["programme"][0]["days"][0]["items"][0]["step"] = "two"
    path = tmp_path / "j.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(ProgrammeError, match=r"programme\[0\]\.days\[0\]\.items\[0\]\.step must be integer"):
        read_journal(path)


def test_a_journal_of_another_version_is_refused(tmp_path, started):
    path = tmp_path / "j.json"
    path.write_text(json.dumps({**started, "version": 3}), encoding="utf-8")
    with pytest.raises(ProgrammeError, match="version 3 is not 2"):
        read_journal(path)


def test_a_missing_journal_is_one_error(tmp_path):
    with pytest.raises(ProgrammeError, match="file not found"):
        read_journal(tmp_path / "none.json")
