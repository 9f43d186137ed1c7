"""Writing output files whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TextIO


class AtomicFiles:
    """Temporary files beside their targets, renamed over them only if the block succeeds.

    An error or a crash half-way leaves every earlier target untouched and no partial file: each
    rename is atomic on one file system, and none happens before all the writing is done.
    """

    def __init__(self, *paths: Path) -> None:
        self.paths = [Path(p) for p in paths]
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
        try:
            for stream in self.streams:
                stream.close()
            for name, path in zip(self._temporary, self.paths):
                os.replace(name, path)
        except BaseException:
            self._discard()
            raise

    def _discard(self) -> None:
        for stream in self.streams:
            stream.close()
        for name in self._temporary:
            Path(name).unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, write: Callable[[TextIO], None]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``."""
    with AtomicFiles(path) as (stream,):
        write(stream)
