"""tools/build_durable.py: durable-rules 2.0.28 with its one C API fix, on the Pythons that need it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from conftest import ROOT

_spec = importlib.util.spec_from_file_location("build_durable", ROOT / "tools" / "build_durable.py")
assert _spec is not None and _spec.loader is not None
build_durable = importlib.util.module_from_spec(_spec)
sys.modules["build_durable"] = build_durable
_spec.loader.exec_module(build_durable)

#: The shape of each of the five calls in durable-rules 2.0.28's src/rulespy/rules.c.
CALL = "    result = PyEval_CallObject(callback, arglist);\n"


def test_the_fix_is_needed_from_3_13_on():
    assert not build_durable.needed((3, 11)) and not build_durable.needed((3, 12))
    assert build_durable.needed((3, 13)) and build_durable.needed((3, 14))


def test_each_removed_call_becomes_the_documented_replacement():
    text = "static PyObject *f() {\n" + CALL * 5 + "    Py_XDECREF(arglist);\n}\n"
    patched = build_durable.patch(text)
    assert "PyEval_CallObject" not in patched
    assert patched == text.replace("PyEval_CallObject(", "PyObject_CallObject(")
    assert patched.count("    result = PyObject_CallObject(callback, arglist);\n") == 5


@pytest.mark.parametrize("calls", [0, 4, 6])
def test_a_source_with_another_number_of_calls_is_refused(calls):
    with pytest.raises(build_durable.BuildError, match=f"expected 5 calls of PyEval_CallObject, found {calls}"):
        build_durable.patch(CALL * calls)


def test_an_archive_that_is_not_the_published_one_is_refused(tmp_path: Path):
    archive = tmp_path / "durable_rules-2.0.28.tar.gz"
    archive.write_bytes(b"not the published file")
    with pytest.raises(build_durable.BuildError, match=r"durable_rules-2\.0\.28\.tar\.gz: SHA-256 [0-9a-f]{64}, "
                                                      r"but the published file's is 053b26f5"):
        build_durable.check_archive(archive)


def test_a_wheel_built_before_for_this_python_is_kept(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setattr(build_durable, "needed", lambda: True)
    wheel = tmp_path / f"durable_rules-2.0.28-{build_durable.wheel_tag()}-linux_x86_64.whl"
    wheel.write_bytes(b"")
    (tmp_path / "durable_rules-2.0.28-cp310-cp310-linux_x86_64.whl").write_bytes(b"")
    assert build_durable.main(["--wheel-dir", str(tmp_path)]) == 0
    assert f"using {wheel}, built before" in capsys.readouterr().out


def test_nothing_is_built_where_the_published_source_works(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setattr(build_durable, "needed", lambda: False)
    assert build_durable.main(["--wheel-dir", str(tmp_path / "wheels")]) == 0
    assert "builds as published; nothing to do" in capsys.readouterr().out
    assert list((tmp_path / "wheels").iterdir()) == []  # the folder exists, for pip --find-links
