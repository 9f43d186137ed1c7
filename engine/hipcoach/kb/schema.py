"""Reading YAML data files and checking their entries, with errors that point at the entry.

Knowledge files and rule files share this: both are lists of mappings that a person edits by
hand, and both must fail on load with the file, the entry and the problem named.

This is also the one place where every YAML or JSON document hipcoach reads (answers, survey
mappings, rule and knowledge files) is held to limits, checked before any value is built: a
file of a few hundred bytes can otherwise expand through aliases into billions of values
("billion laughs") and take all the memory of the machine, or nest deep enough to crash the
parser.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, TextIO

import yaml

from ..errors import DataFileError, excerpt

#: The largest document read, in bytes. The largest bundled file (exercises.yaml) is 23 kB.
MAX_BYTES = 1024 * 1024
#: How deep lists and mappings may nest, aliases expanded. The bundled files nest 8 deep at most.
MAX_DEPTH = 32
#: How many values (scalars, lists and mappings) a document may hold, aliases expanded. The
#: bundled files hold under 1,000 each.
MAX_VALUES = 100_000

_SAFE_BASE: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SafeLoader(_SAFE_BASE):  # type: ignore[misc]
    """PyYAML's safe loader (its C build where installed) that rejects duplicate keys.

    Plain YAML keeps the last of two equal keys without a word; in a hand-edited answers, rule
    or knowledge file that is nearly always a mistake, so it is an error here.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the base class reports it
                break
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {excerpt(key)}", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str) -> Any:
    """Parse YAML (or JSON) safely and within the limits; raises ``ValueError`` with a one-line
    message."""
    if len(text) > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES // 1024} kB")
    try:
        _check_size(text)
        return yaml.load(text, Loader=SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValueError(f"{exc.problem or exc.context}{where}") from None
    except yaml.YAMLError as exc:
        raise ValueError(" ".join(str(exc).split())[:200]) from None
    except _LimitError as exc:
        raise ValueError(str(exc)) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # a value the constructors refuse: a date like 2024-13-45, an integer of 5,000 digits
        problem = " ".join(str(exc).split()).split(";")[0][:200]
        raise ValueError(f"a value cannot be read: {problem}") from None


class _LimitError(ValueError):
    """A document over one of the limits."""


class _Open:
    """A list or mapping whose end the event walk has not reached yet."""

    __slots__ = ("anchor", "height", "start")

    def __init__(self, anchor: str | None, start: int) -> None:
        self.anchor = anchor
        self.start = start  # values counted before it
        self.height = 1  # levels of nesting inside it, itself included


def _check_size(text: str) -> None:
    """Count the values of ``text`` and their nesting, aliases expanded, from the parser's
    events alone, and refuse the document past :data:`MAX_VALUES` or :data:`MAX_DEPTH`.

    Nothing is built here and an alias costs one dictionary look-up, so a document that would
    expand to billions of values is refused after reading it once.
    """
    count = 0
    stack: list[_Open] = []
    anchored: dict[str, tuple[int, int]] = {}  # anchor -> (values, height)

    def add(values: int, height: int, event: yaml.Event) -> None:
        nonlocal count
        count += values
        if count > MAX_VALUES:
            raise _LimitError(f"more than {MAX_VALUES:,} values (aliases expanded) "
                             f"at line {_line(event)}")
        if stack:
            stack[-1].height = max(stack[-1].height, height + 1)
        if len(stack) + height > MAX_DEPTH:
            raise _LimitError(f"nested more than {MAX_DEPTH} levels deep "
                             f"at line {_line(event)}")

    for event in yaml.parse(text, Loader=SafeLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            add(1, 1, event)
            stack.append(_Open(event.anchor, count))
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            done = stack.pop()
            if done.anchor is not None:
                anchored[done.anchor] = (count - done.start + 1, done.height)
            if stack:
                stack[-1].height = max(stack[-1].height, done.height + 1)
        elif isinstance(event, yaml.ScalarEvent):
            add(1, 0, event)
            if event.anchor is not None:
                anchored[event.anchor] = (1, 0)
        elif isinstance(event, yaml.AliasEvent):
            if any(item.anchor == event.anchor for item in stack):
                raise _LimitError(f"alias *{excerpt(event.anchor)[1:-1]} refers to a value that "
                                 f"holds it at line {_line(event)}")
            values, height = anchored.get(event.anchor or "", (1, 0))  # undefined: the loader says so
            add(values, height, event)


def _line(event: yaml.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark is not None else 0


def read_limited(source: Path | TextIO | BinaryIO, limit: int = MAX_BYTES) -> str:
    """The UTF-8 text of a file or stream, at most ``limit`` bytes; raises ``ValueError`` with
    a one-line problem (not found, a folder, not UTF-8, too large) that does not repeat the
    file's name, so callers can put the name in front once."""
    try:
        if isinstance(source, Path):
            with source.open("rb") as stream:
                data: str | bytes = stream.read(limit + 1)
        else:
            data = source.read(limit + 1)
    except UnicodeDecodeError as exc:  # a text stream decodes as it reads
        raise ValueError(_not_utf8(exc)) from None
    except OSError as exc:
        raise ValueError(unreadable(exc)) from None
    if len(data) > limit:
        raise ValueError(f"larger than {limit // 1024} kB")
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(_not_utf8(exc)) from None


def unreadable(exc: OSError) -> str:
    """Why a file could not be read, in the words every input-file error uses."""
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    return f"cannot read: {exc.strerror or exc}"


def _not_utf8(exc: UnicodeDecodeError) -> str:
    return f"cannot read: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"


def load_yaml(path: Path, error: type[DataFileError]) -> Any:
    """Parse one YAML file with the safe loader, raising ``error`` naming the file on failure."""
    try:
        text = read_limited(path)
    except ValueError as exc:
        raise error(str(path), None, str(exc)) from None
    try:
        return parse_yaml(text)
    except ValueError as exc:
        raise error(str(path), None, f"not valid YAML: {exc}") from None


#: Names in a data folder that are never data: packaging and editor leftovers.
_NOT_DATA = ("__init__.py", "__pycache__")


def unknown_files(directory: Path, expected: Iterable[str], error: type[DataFileError],
                  what: str) -> None:
    """Refuse a file in ``directory`` that is none of the ``expected`` ones: the engine would
    never read it, so the rules or entries someone put there would silently do nothing."""
    if not directory.is_dir():
        return  # the first expected file then reports "file not found"
    known = sorted(expected)
    for child in sorted(directory.iterdir()):
        if child.name not in known and child.name not in _NOT_DATA and not child.name.startswith("."):
            raise error(str(child), None, f"unknown file in the {what} folder, so never read; "
                                          f"the files are {', '.join(known)}")


class Entry:
    """One mapping from a data file, with typed getters that raise errors naming the entry."""

    def __init__(self, data: Any, file: str, label: str, error: type[DataFileError]) -> None:
        self.file = file
        self.label = label
        self.error = error
        if not isinstance(data, Mapping):
            self.fail(f"must be a mapping, got {type(data).__name__}")
        self.data: Mapping[str, Any] = data

    def fail(self, problem: str) -> NoReturn:
        """Raise this entry's error naming the file, the entry and ``problem``."""
        raise self.error(self.file, self.label, problem)

    def only(self, allowed: Iterable[str]) -> None:
        """Reject keys outside ``allowed``: a misspelt key is a silent bug otherwise."""
        extra = sorted(str(key) for key in set(self.data) - set(allowed))
        if extra:
            shown = ", ".join(excerpt(key)[1:-1] for key in extra[:5]) + (" ..." if len(extra) > 5 else "")
            self.fail(f"unknown key(s) {shown}; allowed: {', '.join(sorted(allowed))}")

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
            self.fail(f"{excerpt(key)} must be {what or _names(kinds)}, got {excerpt(value)}")
        if not isinstance(value, kinds):
            self.fail(f"{excerpt(key)} must be {what or _names(kinds)}, got {excerpt(value)}")
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
                self.fail(f"{excerpt(key)} must hold non-empty strings, got {excerpt(item)}")
        return list(value)

    def choice(self, key: str, allowed: Iterable[str], default: Any = ...) -> str:
        value = self.text(key, default)
        allowed = list(allowed)
        if value is not default and value not in allowed:
            self.fail(f"{excerpt(key)} is {excerpt(value)}; allowed: {', '.join(allowed)}")
        return value

    def choices(self, key: str, allowed: Iterable[str], default: Any = ...) -> list[str]:
        values = self.strings(key, default)
        allowed = list(allowed)
        for value in values:
            if value not in allowed:
                self.fail(f"{excerpt(key)} has {excerpt(value)}; allowed: {', '.join(allowed)}")
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
            label = f"{excerpt(item['id'])} ({key}[{index}])"
        entry = Entry(item, file, label, error)
        ident = entry.text("id")
        if not ident.replace("_", "").replace("-", "").replace(".", "").isalnum():
            entry.fail(f"id {excerpt(ident)} may hold only letters, digits, '_', '-' and '.'")
        if ident in seen:
            entry.fail(f"duplicate id {excerpt(ident)}")
        seen.add(ident)
        result.append(entry)
    return result


def _as_tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _names(kinds: type | tuple[type, ...]) -> str:
    return " or ".join(kind.__name__ for kind in _as_tuple(kinds))
