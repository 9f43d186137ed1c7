"""hipcoach.web.engine: one planner in its own process, one request at a time, and a lost
engine process is a clear 503 and a new process, never a hang."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.testclient import TestClient

from hipcoach.errors import HipcoachError
from hipcoach.web.app import create_app
from hipcoach.web.engine import EngineLost, EngineProcess, Refused
from webclient import fields, token


@pytest.fixture
def engine():
    engine = EngineProcess(timeout=3)
    yield engine
    engine.close()


def call(engine: EngineProcess, kind: str, *args):
    return engine.executor.submit(engine.call, kind, *args).result(timeout=60)


def test_the_engine_plans_as_the_planner_does(engine, planner):
    answers = {"knee_pain": "front", "equipment": ["mat"]}
    assert call(engine, "plan", answers) == planner.plan(answers)
    assert engine.about.questions == planner.kb.questions
    assert engine.about.triage == {"age", "red_flags", "knee_pain", "hip_pain", "low_back", "pain_level"}
    assert engine.about.decisive == {"red_flags", "pain_level"}


def test_a_refused_answer_names_its_field(engine):
    with pytest.raises(Refused) as caught:
        call(engine, "plan", {"age": 500})
    assert caught.value.field == "age" and "between 12 and 100" in str(caught.value)


def test_a_hung_engine_is_lost_after_the_timeout_and_replaced(engine):
    first = engine.pid
    os.kill(first, signal.SIGSTOP)
    with pytest.raises(EngineLost, match="did not answer in time"):
        call(engine, "plan", {})
    assert call(engine, "plan", {})["status"] == "plan"
    assert engine.pid != first


def test_an_engine_killed_mid_request_is_lost_at_once_and_replaced(engine):
    first = engine.pid
    os.kill(first, signal.SIGSTOP)  # it takes the request but never answers ...
    timer = threading.Timer(0.5, os.kill, (first, signal.SIGKILL))  # ... then dies
    timer.start()
    began = time.monotonic()
    with pytest.raises(EngineLost, match="stopped"):
        call(engine, "plan", {})
    timer.join()
    assert time.monotonic() - began < engine.timeout  # told when it died, not at the timeout
    assert call(engine, "plan", {"knee_pain": "front"})["status"] == "plan"
    assert engine.pid != first


def test_an_engine_that_died_between_requests_is_replaced_before_the_next(engine):
    first = engine.pid
    os.kill(first, signal.SIGKILL)
    time.sleep(0.2)
    assert call(engine, "plan", {})["status"] == "plan" and engine.pid != first


def test_a_bad_knowledge_folder_is_one_error_at_start(data_copy):
    knowledge, rules = data_copy
    (knowledge / "questionnaire.yaml").write_text("questions: 7\n", encoding="utf-8")
    with pytest.raises(HipcoachError, match=r"questionnaire\.yaml"):
        EngineProcess(knowledge, rules)


def test_a_lost_engine_is_a_503_page_and_the_next_request_is_served():
    with TestClient(create_app(), base_url="http://127.0.0.1:8000") as client:
        engine = client.app.state.engine
        engine.timeout = 2
        os.kill(engine.pid, signal.SIGSTOP)
        csrf = token(client.get("/").text)
        data = {"_csrf": csrf, "red_flags": [""]}
        response = client.post("/answers", data=data)
        assert response.status_code == 503 and "restarted" in response.text
        assert "Traceback" not in response.text
        assert client.post("/answers", data=data).status_code == 200


def test_concurrent_requests_all_get_their_own_right_plan(planner):
    answers = [{"knee_pain": k, "minutes": m} for k in ("none", "front", "outside")
               for m in (10, 20, 30)] * 3
    with TestClient(create_app(), base_url="http://127.0.0.1:8000") as client:
        csrf = token(client.get("/").text)

        def plan(answer):
            data = {"_csrf": csrf, **dict(fields(answer))}
            return client.post("/download/plan", data=data).json()

        with ThreadPoolExecutor(max_workers=9) as pool:
            got = list(pool.map(plan, answers))
    assert got == [planner.plan(a) for a in answers]
