"""Reading YAML data files and checking their entries, with errors that point at the entry.

Knowledge files and rule files share this: both are lists of mappings that a person edits by
hand, and both must fail on load with the file, the entry and the problem named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from .errors import DataFileError

_SAFE_BASE: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SafeLoader(_SAFE_BASE):  # type: ignore[misc, valid-type]
    """PyYAML's safe loader (its C build where installed) that rejects duplicate keys.

    Plain YAML keeps the last of two equal keys without a word; in a hand-edited answers, rule
    or knowledge file that is nearly always a mistake, so it is an error here.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the base class reports it
                break
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str) -> Any:
    """Parse YAML (or JSON) safely; raises ``ValueError`` with a one-line message."""
    try:
        return yaml.load(text, Loader=SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValueError(f"{exc.problem or exc.context}{where}") from None
    except yaml.YAMLError as exc:
        raise ValueError(" ".join(str(exc).split())) from None


def load_yaml(path: Path, error: type[DataFileError]) -> Any:
    """Parse one YAML file with the safe loader, raising ``error`` naming the file on failure."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(str(path), None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(str(path), None, f"cannot read file: {exc}") from None
    try:
        return parse_yaml(text)
    except ValueError as exc:
        raise error(str(path), None, f"not valid YAML: {exc}") from None


class Entry:
    """One mapping from a data file, with typed getters that raise errors naming the entry."""

    def __init__(self, data: Any, file: str, label: str, error: type[DataFileError]) -> None:
        self.file = file
        self.label = label
        self.error = error
        if not isinstance(data, Mapping):
            self.fail(f"must be a mapping, got {type(data).__name__}")
        self.data: Mapping[str, Any] = data

    def fail(self, problem: str) -> DataFileError:
        """Raise this entry's error; typed as returning so callers can write ``raise e.fail()``."""
        raise self.error(self.file, self.label, problem)

    def only(self, allowed: Iterable[str]) -> None:
        """Reject keys outside ``allowed``: a misspelt key is a silent bug otherwise."""
        extra = sorted(set(self.data) - set(allowed))
        if extra:
            self.fail(f"unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, kinds: type | tuple[type, ...], default: Any = ..., what: str = "") -> Any:
        """Return ``data[key]`` checked against ``kinds``; missing keys need a default."""
        if key not in self.data:
            if default is ...:
                self.fail(f"missing required key {key!r}")
            return default
        value = self.data[key]
        # bool is an int in Python; a YAML `yes` must not pass as a number.
        if isinstance(value, bool) and bool not in _as_tuple(kinds):
            self.fail(f"{key!r} must be {what or _names(kinds)}, got {value!r}")
        if not isinstance(value, kinds):
            self.fail(f"{key!r} must be {what or _names(kinds)}, got {value!r}")
        return value

    def text(self, key: str, default: Any = ...) -> str:
        value = self.get(key, str, default, "a non-empty string")
        if value is not default and not str(value).strip():
            self.fail(f"{key!r} must not be empty")
        return value

    def number(self, key: str, default: Any = ...) -> float | int:
        return self.get(key, (int, float), default, "a number")

    def strings(self, key: str, default: Any = ...) -> list[str]:
        value = self.get(key, list, default, "a list of strings")
        for item in value:
            if not isinstance(item, str) or not item.strip():
                self.fail(f"{key!r} must hold non-empty strings, got {item!r}")
        return list(value)

    def choice(self, key: str, allowed: Iterable[str], default: Any = ...) -> str:
        value = self.text(key, default)
        allowed = list(allowed)
        if value is not default and value not in allowed:
            self.fail(f"{key!r} is {value!r}; allowed: {', '.join(allowed)}")
        return value

    def choices(self, key: str, allowed: Iterable[str], default: Any = ...) -> list[str]:
        values = self.strings(key, default)
        allowed = list(allowed)
        for value in values:
            if value not in allowed:
                self.fail(f"{key!r} has {value!r}; allowed: {', '.join(allowed)}")
        return values


def entries(data: Any, key: str, file: str, error: type[DataFileError]) -> list[Entry]:
    """The list under top-level ``key`` of a file, each item wrapped as an :class:`Entry`.

    Entries are labelled by their ``id`` when they have one, else by position, and duplicate ids
    are rejected here so that every file gets the check.
    """
    if not isinstance(data, Mapping) or key not in data:
        raise error(file, None, f"must be a mapping with a top-level {key!r} list")
    items = data[key]
    if not isinstance(items, list):
        raise error(file, None, f"{key!r} must be a list")
    seen: set[str] = set()
    result = []
    for index, item in enumerate(items, start=1):
        label = f"{key}[{index}]"
        if isinstance(item, Mapping) and isinstance(item.get("id"), str):
            label = f"{item['id']!r} ({key}[{index}])"
        entry = Entry(item, file, label, error)
        ident = entry.text("id")
        if not ident.replace("_", "").replace("-", "").replace(".", "").isalnum():
            entry.fail(f"id {ident!r} may hold only letters, digits, '_', '-' and '.'")
        if ident in seen:
            entry.fail(f"duplicate id {ident!r}")
        seen.add(ident)
        result.append(entry)
    return result


def _as_tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _names(kinds: type | tuple[type, ...]) -> str:
    return " or ".join(kind.__name__ for kind in _as_tuple(kinds))
