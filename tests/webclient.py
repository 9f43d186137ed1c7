"""Driving ``hipcoach serve``'s pages in tests: form fields from answers, the CSRF token, the
questions a page asks, and a page's text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from hipcoach.kb.bundled import knowledge_dir
from hipcoach.kb.knowledge import load_knowledge

QUESTIONS = load_knowledge(knowledge_dir()).questions


def fields(answers: dict[str, Any]) -> list[tuple[str, str]]:
    """Answers as a browser posts them: true/false as yes/no, a list as one field per ticked
    box after the empty marker, numbers as typed."""
    posted = []
    for key, value in answers.items():
        if isinstance(value, bool):
            posted.append((key, "yes" if value else "no"))
        elif isinstance(value, list):
            posted += [(key, "")] + [(key, str(v)) for v in value]
        else:
            posted.append((key, str(value)))
    return posted


def token(html: str) -> str:
    found = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


class Page(HTMLParser):
    """A page's text (without its style and script), its inputs and its labels."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.inputs: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()  # ids of inputs a <label for> names
        self.fieldsets: list[dict[str, str | None]] = []
        self._skip = 0
        self._label_depth = 0
        self._stack: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("style", "script"):
            self._skip += 1
        if tag == "label":
            self._label_depth += 1
            if found.get("for"):
                self.labelled.add(str(found["for"]))
        if tag == "fieldset":
            self.fieldsets.append(found)
        if tag in ("input", "textarea", "select"):
            self.inputs.append({**found, "_in_label": "yes" if self._label_depth else None,
                                "_tag": tag})

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1
        if tag == "label":
            self._label_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.texts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())

    def asked(self) -> list[str]:
        """The answer ids of the questions the page shows now (not those its script may show)."""
        return [str(f["data-answer"]) for f in self.fieldsets
                if f.get("data-answer") and "data-later" not in f]

    def later(self) -> list[str]:
        return [str(f["data-answer"]) for f in self.fieldsets if "data-later" in f]

    def names(self) -> set[str]:
        return {str(i["name"]) for i in self.inputs if i.get("name")}
