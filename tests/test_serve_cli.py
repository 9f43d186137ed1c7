"""`hipcoach serve` (hipcoach.cli.serve_cli and hipcoach.web.server): where it listens, the
warning for another host, and a bad knowledge folder refused before anything listens."""

from __future__ import annotations

import pytest

from clirunner import invoke, ok, words
from hipcoach.web import server


@pytest.fixture
def runs(monkeypatch):
    """What uvicorn would have been asked to run, without listening."""
    calls = []
    monkeypatch.setattr(server.uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    return calls


def test_it_listens_on_127_0_0_1_by_default_without_a_warning(runs):
    result = ok(invoke("serve"))
    (args, kwargs), = runs
    assert args == (server.FACTORY,) and kwargs["factory"] is True
    assert kwargs["host"] == "127.0.0.1" and kwargs["port"] == 8000 and kwargs["workers"] == 1
    assert kwargs["access_log"] is False  # uvicorn's would write query strings
    assert "warning" not in result.output


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "club.example.org"])
def test_another_host_prints_a_one_line_warning(runs, host, monkeypatch):
    monkeypatch.setattr(server, "check_address", lambda host, port: None)  # not this machine's
    result = ok(invoke("serve", "--host", host, "--workers", 2))
    warnings = [line for line in result.output.splitlines() if line.startswith("warning")]
    assert len(warnings) == 1 and "health" in warnings[0] and host in warnings[0]
    assert runs[0][1]["workers"] == 2


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_print_no_warning(host):
    assert server.exposure_warning(host) is None


def test_a_bad_knowledge_folder_is_refused_before_listening(runs, data_copy):
    knowledge, rules = data_copy
    (knowledge / "exercises.yaml").write_text("exercises: [{id: x}]\n", encoding="utf-8")
    result = invoke("serve", "--kb", knowledge, "--rules", rules)
    assert result.exit_code == 1 and "exercises.yaml" in result.output and runs == []


def test_the_folders_reach_every_worker_through_the_environment(runs, data_copy, monkeypatch):
    knowledge, rules = data_copy
    monkeypatch.delenv(server.ENV_KB, raising=False)
    monkeypatch.delenv(server.ENV_RULES, raising=False)
    ok(invoke("serve", "--kb", knowledge, "--rules", rules))
    import os

    assert os.environ[server.ENV_KB] == str(knowledge.resolve())
    assert os.environ[server.ENV_RULES] == str(rules.resolve())


def test_help_says_what_it_does_and_what_it_keeps():
    text = words(ok(invoke("serve", "--help")).output)
    assert "Nothing a runner enters is kept" in text and "--workers" in text and "127.0.0.1" in text


def test_without_the_web_extra_it_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "hipcoach.web.server")
    result = invoke("serve")
    assert result.exit_code == 1
    assert "uvicorn is not installed" in result.output and "hipcoach[web]" in result.output


def test_a_port_in_use_is_one_error_before_anything_starts(runs):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke("serve", "--port", port)
    assert result.exit_code == 1 and runs == []
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "--port" in result.output


def test_an_unknown_host_is_one_error(runs):
    result = invoke("serve", "--host", "no-such-host.invalid")
    assert result.exit_code == 1 and "unknown host" in result.output and runs == []
