"""Writing output files whole or not at all (hipcoach.atomic)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hipcoach.atomic import AtomicFiles, write_atomic


def leftovers(folder: Path) -> list[str]:
    """Temporary files AtomicFiles may have left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_success_writes_every_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.json"
    with AtomicFiles(a, b) as (first, second):
        first.write("one\n")
        second.write("two\n")
    assert a.read_text(encoding="utf-8") == "one\n"
    assert b.read_text(encoding="utf-8") == "two\n"
    assert leftovers(tmp_path) == []


def test_targets_are_untouched_until_the_block_ends(tmp_path: Path) -> None:
    target = tmp_path / "plans.csv"
    target.write_text("old\n", encoding="utf-8")
    with AtomicFiles(target) as (stream,):
        stream.write("new\n")
        stream.flush()
        assert target.read_text(encoding="utf-8") == "old\n"
        # the temporary sits beside its target (same file system, so the rename is atomic)
        temporary = leftovers(tmp_path)
        assert len(temporary) == 1 and temporary[0].startswith(".plans.csv.")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert leftovers(tmp_path) == []


def test_an_error_in_the_block_keeps_every_old_file_and_removes_the_temporaries(
        tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    a.write_text("old a\n", encoding="utf-8")
    b.write_text("old b\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="half-way"):
        with AtomicFiles(a, b, c) as streams:
            for stream in streams:
                stream.write("new\n")
            raise RuntimeError("half-way")
    assert a.read_text(encoding="utf-8") == "old a\n"
    assert b.read_text(encoding="utf-8") == "old b\n"
    assert not c.exists()
    assert leftovers(tmp_path) == []


def test_keyboard_interrupt_also_discards(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    with pytest.raises(KeyboardInterrupt):
        with AtomicFiles(target) as (stream,):
            stream.write("{")
            raise KeyboardInterrupt
    assert not target.exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("existed", [True, False], ids=["old-file", "no-file"])
def test_a_failed_rename_restores_the_files_already_replaced(tmp_path: Path, existed: bool) -> None:
    good = tmp_path / "good.csv"
    if existed:
        good.write_text("old good\n", encoding="utf-8")
    blocked = tmp_path / "blocked.csv"
    blocked.mkdir()  # a folder where a file should go: the rename over it fails
    (blocked / "keep").write_text("x", encoding="utf-8")
    with pytest.raises(OSError):
        with AtomicFiles(good, blocked) as (first, second):
            first.write("good\n")
            second.write("blocked\n")
    if existed:  # the first file was replaced before the second rename failed: it is back
        assert good.read_text(encoding="utf-8") == "old good\n"
    else:
        assert not good.exists()
    assert blocked.is_dir() and (blocked / "keep").exists()
    assert leftovers(tmp_path) == []


def test_a_failed_later_rename_restores_every_earlier_file(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [tmp_path / f"{name}.csv" for name in "abcd"]
    for path in paths[:3]:
        path.write_text(f"old {path.name}\n", encoding="utf-8")
    real = os.replace
    calls = []

    def replace(source: str, target: str) -> None:
        calls.append(target)
        if len(calls) == 3:  # the third of four renames: the disk filled up
            raise OSError(28, "No space left on device")
        real(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="No space"):
        with AtomicFiles(*paths) as streams:
            for stream in streams:
                stream.write("new\n")
    monkeypatch.setattr(os, "replace", real)
    assert [p.read_text(encoding="utf-8") for p in paths[:3]] == [f"old {p.name}\n" for p in paths[:3]]
    assert not paths[3].exists()
    assert leftovers(tmp_path) == []


def test_success_leaves_no_backup(tmp_path: Path) -> None:
    target = tmp_path / "a.csv"
    target.write_text("old\n", encoding="utf-8")
    with AtomicFiles(target) as (stream,):
        stream.write("new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


def test_a_missing_folder_fails_before_anything_is_written(tmp_path: Path) -> None:
    here = tmp_path / "here.csv"
    with pytest.raises(OSError):
        with AtomicFiles(here, tmp_path / "missing" / "there.csv"):
            pytest.fail("the block must not run")
    assert not here.exists()
    assert leftovers(tmp_path) == []


def test_text_is_utf8_and_newlines_are_written_as_given(tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    with AtomicFiles(target) as (stream,):
        stream.write("Zoë\n\u2265 8\r\n")
    assert target.read_bytes() == "Zoë\n\u2265 8\r\n".encode("utf-8")


def test_write_atomic_replaces_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "traces.jsonl"
    write_atomic(target, lambda stream: stream.write("first\n"))
    assert target.read_text(encoding="utf-8") == "first\n"

    def broken(stream):  # type: ignore[no-untyped-def]
        stream.write("partial")
        raise ValueError("boom")

    with pytest.raises(ValueError):
        write_atomic(target, broken)
    assert target.read_text(encoding="utf-8") == "first\n"
    assert leftovers(tmp_path) == []


def test_written_files_honour_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with AtomicFiles(tmp_path / "plans.csv") as (stream,):
            stream.write("x\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "plans.csv").stat().st_mode) == 0o644
