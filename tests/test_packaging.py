"""What the project says about itself: the supported Pythons agree everywhere they are written."""

from __future__ import annotations

import re
import tomllib

from packaging.specifiers import SpecifierSet

from conftest import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_requires_python_the_classifiers_and_the_makefile_name_the_same_versions():
    requires = SpecifierSet(PROJECT["requires-python"])
    admitted = [f"3.{minor}" for minor in range(30) if f"3.{minor}" in requires]
    classified = [c.rsplit(" :: ", 1)[1] for c in PROJECT["classifiers"]
                  if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    makefile = re.search(r"^PYTHONS := (.+)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert makefile is not None
    assert admitted == sorted(classified, key=lambda v: int(v.split(".")[1]))
    assert makefile.group(1).split() == admitted[::-1]  # the Makefile tries the newest first


def test_the_licence_is_an_spdx_expression_with_its_text_shipped():
    assert PROJECT["license"] == "MIT"
    assert not any(c.startswith("License ::") for c in PROJECT["classifiers"])
    assert PROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
