"""Which hipcoach and which rule base made an output: the one place that says so.

A fingerprint is a SHA-256 over every YAML file at the top of the knowledge and the rules folders
(programme ladders, phases and progress rules included), each file's name hashed before its bytes,
in name order. Two folders with the same files give the same fingerprint wherever they lie; an
edit to any one file, or an added or removed file, gives another. Plans, traces, journals,
survey summaries, handouts and calendars carry it beside hipcoach's version, so a reader can say
exactly what produced a result, and a journal can refuse to be read by other rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from .. import formats

#: How many hex digits of the fingerprint people are shown (the JSON carries it whole).
SHORT = 12


def version() -> str:
    """hipcoach's installed version (``0.0.0`` for a source tree that was never installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("hipcoach")
    except PackageNotFoundError:
        return "0.0.0"


def fingerprint(knowledge: Path, rules: Path) -> str:
    """The SHA-256 of the knowledge and rule files in ``knowledge`` and ``rules`` (see above)."""
    import hashlib  # only when asked: a plain plan never pays for the import

    sha = hashlib.sha256()
    for label, folder in (("knowledge", Path(knowledge)), ("rules", Path(rules))):
        for path in sorted(Path(folder).glob("*.yaml")):
            sha.update(f"{label}/{path.name}\0".encode())
            sha.update(path.read_bytes())
            sha.update(b"\0")
    return sha.hexdigest()


class Provenance(NamedTuple):
    """hipcoach's version and the fingerprint of the knowledge and rule base."""

    version: str
    fingerprint: str

    @classmethod
    def of(cls, knowledge: Path, rules: Path) -> Provenance:
        return cls(version(), fingerprint(knowledge, rules))

    @classmethod
    def read(cls, value: object) -> Provenance | None:
        """The provenance an output carries (its ``provenance`` as JSON), or None for an output
        without one (written before outputs carried it, or not of this shape)."""
        if not isinstance(value, dict):
            return None
        made, print_ = value.get("hipcoach"), value.get("fingerprint")
        return cls(made, print_) if isinstance(made, str) and isinstance(print_, str) else None

    @property
    def short(self) -> str:
        """The fingerprint's first digits, for people: ``hipcoach 0.1.0, rules 1a2b3c4d5e6f``."""
        return self.fingerprint[:SHORT]

    def describe(self) -> str:
        return f"hipcoach {self.version}, knowledge and rules {self.short}"

    def footer(self) -> str:
        """The last line of a page a runner reads: ``Made by hipcoach 0.1.0, knowledge and
        rules 1a2b3c4d5e6f.``"""
        return f"Made by {self.describe()}."

    def as_json(self) -> formats.Provenance:
        return {"hipcoach": self.version, "fingerprint": self.fingerprint}
