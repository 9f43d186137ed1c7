"""Writing output files whole or not at all."""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TextIO


class AtomicFiles:
    """Temporary files beside their targets, renamed over them only if the block succeeds.

    An error or a crash half-way leaves every earlier target untouched and no partial file: each
    rename is atomic on one file system, and none happens before all the writing is done. If a
    later rename fails (a full disk, a folder in the way), the targets already replaced are put
    back as they were, from hard links to them made before any rename, so the set of files is
    replaced all together or not at all.
    ``remove`` names files that go at the same moment: outputs of an earlier run that the new
    ones would contradict.
    """

    def __init__(self, *paths: Path, remove: Iterable[Path] = ()) -> None:
        self.paths = [Path(p) for p in paths]
        self.remove = [Path(p) for p in remove]
        self.streams: list[TextIO] = []
        self._temporary: list[str] = []

    def __enter__(self) -> list[TextIO]:
        try:
            for path in self.paths:
                handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                                dir=path.parent)
                self._temporary.append(name)
                os.chmod(name, 0o666 & ~_umask())  # mkstemp makes it owner-only
                self.streams.append(os.fdopen(handle, "w", encoding="utf-8", newline=""))
        except BaseException:
            self._discard()
            raise
        return self.streams

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is not None:
            self._discard()
            return
        backups: dict[Path, str | None] = {}  # target -> a link to its old content, or None
        try:
            for stream in self.streams:
                stream.close()
            for path in self.paths:
                backups[path] = _keep(path)
            replaced: list[Path] = []
            try:
                for name, path in zip(self._temporary, self.paths):
                    os.replace(name, path)
                    replaced.append(path)
            except BaseException:
                _restore(replaced, backups)
                raise
            for path in self.remove:
                path.unlink(missing_ok=True)
        except BaseException:
            self._discard()
            raise
        finally:
            for backup in backups.values():
                if backup is not None:
                    Path(backup).unlink(missing_ok=True)

    def _discard(self) -> None:
        for stream in self.streams:
            stream.close()
        for name in self._temporary:
            Path(name).unlink(missing_ok=True)


def _keep(path: Path) -> str | None:
    """A hard link to ``path``'s current content beside it (a copy where links are not
    supported), or None when there is no file there yet."""
    if not path.is_file():
        return None
    backup = str(path.parent / f".{path.name}.{secrets.token_hex(8)}.old.tmp")
    try:
        os.link(path, backup)
    except OSError:
        shutil.copy2(path, backup)
    return backup


def _restore(replaced: list[Path], backups: dict[Path, str | None]) -> None:
    """Put each replaced target back as it was: its old content, or no file at all. A backup
    that cannot be put back is left where it is (dropped from ``backups``), never deleted."""
    for path in reversed(replaced):
        backup = backups[path]
        try:
            if backup is None:
                path.unlink(missing_ok=True)
            else:
                os.replace(backup, path)
        except OSError:
            backups[path] = None


def remove_leftovers(folder: Path, names: Iterable[str]) -> list[Path]:
    """Remove the hidden temporary files a killed run left beside ``names`` in ``folder`` (a
    crash cannot clean up after itself; the next run into the folder does). Returns them."""
    removed = []
    for name in names:
        for path in sorted(Path(folder).glob(f".{glob.escape(name)}.*.tmp")):
            try:
                path.unlink()
            except OSError:
                continue  # gone already, or not ours to remove: harmless either way
            removed.append(path)
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, write: Callable[[TextIO], object]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``."""
    with AtomicFiles(path) as (stream,):
        write(stream)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file at ``path`` for the block: a second process waits
    until the first is done. Made for a file replaced by :func:`write_atomic`, read and
    written in the block: the lock is taken on the file the name holds once the lock is
    granted (a rename while waiting means the lock is taken again on the new file), so
    whoever holds it reads what the one before wrote."""
    import fcntl  # POSIX only, and only when a file must be locked

    while True:
        handle = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if os.fstat(handle).st_ino == os.stat(path).st_ino:
                break
        except BaseException:
            os.close(handle)
            raise
        os.close(handle)  # replaced while waiting: lock the file the name holds now
    try:
        yield
    finally:
        os.close(handle)  # closing releases the lock
