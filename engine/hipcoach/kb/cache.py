"""The checked knowledge and rule base, kept between runs.

Loading parses about a dozen YAML files and checks every entry and rule against the others:
most of what a one-off ``hipcoach plan`` spends. What the loaders return is pickled in the
user's cache folder together with the exact bytes it came from (every file in both folders, the
loaders' own source, the Python version), and it is used again only when all of those bytes are
the same: an edit to a data file or to the code loads and checks everything afresh, so a cached
base is never a stale one. A cache that cannot be read or written is simply not used.

The folder is ``$HIPCOACH_CACHE_DIR`` if set (``off`` or an empty value turns caching off),
else ``$XDG_CACHE_HOME/hipcoach`` or ``~/.cache/hipcoach``. It is created readable by its owner
only, and a cache file is unpickled only if this user owns it and nobody else may write it.
"""

from __future__ import annotations

import os
import pickle
import stat
import sys
import zlib
from pathlib import Path
from typing import Any

from .knowledge import KnowledgeBase, load_knowledge
from .rulefile import RuleBase, load_rules

CACHE_ENV = "HIPCOACH_CACHE_DIR"
#: Cache files kept at most (one per distinct knowledge and rule base); the oldest go first.
KEEP = 8
_CODE = Path(__file__).resolve().parent  # the loaders: their checks decide what a base holds
_FORMAT = 1  # bump when what is pickled changes shape

#: What a cached base was made from: every input's name and bytes.
Inputs = tuple[tuple[str, bytes], ...]


def cache_dir() -> Path | None:
    """The cache folder, or None when caching is turned off."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return None if chosen.strip() in ("", "off") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hipcoach"


def load_bases(knowledge: Path, rules: Path, cached: bool = True) -> tuple[KnowledgeBase, RuleBase]:
    """The knowledge base of ``knowledge`` and the rule base of ``rules``, checked: from the
    cache when it holds them for exactly these bytes, else loaded (and then cached). Folders
    made for one run (``cached=False``) skip the cache: their entries would only push out the
    ones that are used again."""
    folder = cache_dir() if cached else None
    inputs = _inputs(Path(knowledge), Path(rules)) if folder is not None else None
    if folder is None or inputs is None:
        kb = load_knowledge(knowledge)
        return kb, load_rules(rules, kb)
    path = folder / f"bases-{_key(inputs):08x}.pickle"
    found = _read(path, inputs)
    if found is not None:
        return found
    kb = load_knowledge(knowledge)
    rulebase = load_rules(rules, kb)
    _write(folder, path, (_FORMAT, inputs, kb, rulebase))
    return kb, rulebase


def _inputs(knowledge: Path, rules: Path) -> Inputs | None:
    """Every byte a loaded base depends on, or None if a folder cannot be listed or read (the
    loaders then report the problem)."""
    found: list[tuple[str, bytes]] = [("python", sys.version.encode()), ("format", bytes([_FORMAT]))]
    try:
        for label, folder in (("code", _CODE), ("knowledge", knowledge), ("rules", rules)):
            found.append((label, str(folder.resolve()).encode()))
            for child in sorted(folder.iterdir()):
                if child.is_file():
                    wanted = child.suffix == ".py" if label == "code" else True
                    found.append((f"{label}/{child.name}", child.read_bytes() if wanted else b""))
                else:
                    found.append((f"{label}/{child.name}/", b""))
    except OSError:
        return None
    return tuple(found)


def _key(inputs: Inputs) -> int:
    """A short name for the inputs; files are told apart by comparing all the bytes, not this."""
    key = 0
    for name, data in inputs:
        key = zlib.crc32(data, zlib.crc32(name.encode(), key))
    return key


def _read(path: Path, inputs: Inputs) -> tuple[KnowledgeBase, RuleBase] | None:
    try:
        with open(path, "rb") as stream:
            info = os.fstat(stream.fileno())
            if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None  # someone else could have written it
            stored = pickle.load(stream)
    except Exception:  # missing, unreadable, truncated, or pickled by other code: load afresh
        return None
    if (not isinstance(stored, tuple) or len(stored) != 4 or stored[0] != _FORMAT
            or stored[1] != inputs or not isinstance(stored[2], KnowledgeBase)
            or not isinstance(stored[3], RuleBase)):
        return None
    return stored[2], stored[3]


def _write(folder: Path, path: Path, stored: tuple[Any, ...]) -> None:
    """Write ``stored`` whole (a temporary file renamed into place) and keep the folder small;
    any failure (a read-only home, a full disk) just leaves the base uncached."""
    import tempfile  # only on a miss: a cached start never needs it

    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".bases-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "wb") as stream:
                pickle.dump(stored, stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(name, path)
        except BaseException:
            os.unlink(name)
            raise
        kept = sorted(folder.glob("bases-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError):
        return
