"""Writing output files whole or not at all."""

from __future__ import annotations

import ctypes
import errno
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

from .errors import OutputError


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


class FolderSet:
    """A folder of output files replaced all together or not at all, even by a crash.

    The new set is written into a fresh hidden folder beside the target (``.NAME.TOKEN.new``,
    returned by ``with``), then swapped in with one rename: on Linux an atomic exchange of the
    two folders (``renameat2(RENAME_EXCHANGE)``), so a reader sees the old set or the new one,
    never a mix; elsewhere two renames, between which there is briefly no folder at all (still
    never a mix; a run that finds the old set stranded puts it back first). Files of the target
    that are not of the set (``names``) are carried into the new folder by hard links, so they
    survive; a target holding sub-folders, or the current folder, is refused
    (:class:`OutputError`): swapping it would take them away. A failure before the swap (a full
    disk, an error) removes the hidden folder: the target and the folder beside it are as they
    were. Hidden folders a killed run left are removed by the next run into the same target.
    """

    def __init__(self, folder: Path, names: Iterable[str]) -> None:
        self.folder = Path(folder)
        self.names = set(names)
        self.staging: Path | None = None

    def __enter__(self) -> Path:
        folder = self.folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        _recover(folder)
        if folder.exists():
            if not folder.is_dir():
                raise OutputError(f"cannot write to {folder}: it is a file, not a folder")
            if Path.cwd().resolve().is_relative_to(folder.resolve()):
                raise OutputError(f"cannot write to {folder}: it is the current folder (or holds "
                                  f"it); the outputs "
                                  f"replace their folder as a whole, so give them a folder of "
                                  f"their own, such as -o scored/")
            folders = sorted(entry.name for entry in folder.iterdir() if entry.is_dir())
            if folders:
                raise OutputError(f"cannot write to {folder}: it holds folders "
                                  f"({', '.join(folders[:5])}); the "
                                  f"outputs replace their folder as a whole, so give them a "
                                  f"folder of their own, such as -o scored/")
        self.staging = folder.parent / f".{folder.name}.{secrets.token_hex(8)}.new"
        self.staging.mkdir()
        return self.staging

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        assert self.staging is not None
        staging, folder = self.staging, self.folder
        if kind is not None:
            shutil.rmtree(staging, ignore_errors=True)
            return
        try:
            if folder.is_dir():
                os.chmod(staging, folder.stat().st_mode & 0o7777)
                for entry in folder.iterdir():
                    if entry.name not in self.names and not _ours(entry.name, self.names) \
                            and not (staging / entry.name).exists():
                        try:
                            os.link(entry, staging / entry.name)
                        except OSError:
                            shutil.copy2(entry, staging / entry.name)
            else:
                os.chmod(staging, 0o777 & ~_umask())
            if not folder.exists():
                os.rename(staging, folder)
                return
            if not _exchange(staging, folder):
                old = folder.parent / f".{folder.name}.{secrets.token_hex(8)}.old"
                os.rename(folder, old)
                os.rename(staging, folder)
                staging = old
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(staging, ignore_errors=True)  # now the old set


def _ours(name: str, names: set[str]) -> bool:
    """A hidden temporary file an earlier way of writing the set left beside its files."""
    return name.startswith(".") and name.endswith(".tmp") and \
        any(name.startswith(f".{target}.") for target in names)


def _recover(folder: Path) -> None:
    """Put back a set a killed two-rename swap left hidden, and remove the hidden folders of
    killed runs."""
    pattern = glob.escape(f".{folder.name}.")
    stranded = sorted(folder.parent.glob(f"{pattern}*.old"))
    if stranded and not folder.exists():
        os.rename(stranded.pop(), folder)
    for leftover in stranded + sorted(folder.parent.glob(f"{pattern}*.new")):
        shutil.rmtree(leftover, ignore_errors=True)


#: ``renameat2`` and its flag, on Linux: swap two paths in one step.
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap folders ``a`` and ``b`` atomically; False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # a file system without the exchange: two renames then
    raise OSError(code, os.strerror(code), str(b))


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
