"""hipcoach.web.app over HTTP (Starlette's TestClient): the questionnaire's pages, the plan and
its downloads, the check-in, and what the server refuses and never keeps."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from clirunner import invoke, ok
from conftest import EXAMPLES, ROOT
from hipcoach.kb.schema import MAX_BYTES
from hipcoach.present.render import render
from hipcoach.programme.journal import dumps as journal_text
from hipcoach.programme.programme import Checkin
from hipcoach.web.app import create_app
from webclient import QUESTIONS, Page, fields, token

PERSONAS = sorted((ROOT / "tests" / "personas").glob("*.json"))
DESK = yaml.safe_load((EXAMPLES / "desk_runner.yaml").read_text(encoding="utf-8"))
NO_FLAGS = [("red_flags", "")]
PROGRAMME = [("_start", "2026-03-02"), ("_run_days", "mon"), ("_run_days", "wed"),
             ("_run_days", "sat"), ("_weeks", "6")]


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(), base_url="http://127.0.0.1:8000") as client:
        yield client


def get_token(client: TestClient) -> str:
    return token(client.get("/").text)


def post(client: TestClient, path: str, pairs: list[tuple[str, str]], **kwargs: Any):
    return client.post(path, data=_grouped([("_csrf", get_token(client))] + pairs), **kwargs)


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def walk(client: TestClient, answers: dict[str, Any]) -> tuple[Page, list[list[str]]]:
    """Answer the pages as a person would with JavaScript off, the questions each page asks
    from ``answers`` (or the default the page fills in), until there is no question left;
    returns the last page and the questions asked on each."""
    page = Page(client.get("/").text)
    carried: list[tuple[str, str]] = []
    asked: list[list[str]] = []
    for _ in range(len(QUESTIONS) + 1):
        now = page.asked()
        if not now:
            return page, asked
        asked.append(now)
        step = {key: answers.get(key, QUESTIONS[key].default) for key in now}
        carried += fields(step)
        page = Page(post(client, "/answers", carried).text)
    raise AssertionError("the questions never ended")


# -------------------------------------------------------------------------------- the form

def test_every_field_is_named_by_its_answer_id_and_every_input_has_a_label(client):
    names: set[str] = set()
    page = Page(client.get("/").text)
    carried: list[tuple[str, str]] = []
    answers = {"knee_pain": "front", "weekly_km": 30}
    while page.asked():
        names |= page.names()
        for field in page.inputs:
            if field.get("type") in ("hidden", "submit") or field["_tag"] == "textarea":
                continue
            assert field["_in_label"] or field.get("id") in page.labelled, field
        step = {key: answers.get(key, QUESTIONS[key].default) for key in page.asked()}
        carried += fields(step)
        page = Page(post(client, "/answers", carried).text)
    assert names - {"_csrf"} == set(QUESTIONS)


def test_red_flags_are_asked_first_and_alone(client):
    page = Page(client.get("/").text)
    assert page.asked() == ["red_flags"] and page.later() == []
    for value, label in ((c.value, c.label) for c in QUESTIONS["red_flags"].choices):
        assert label in page.text
        assert any(i.get("value") == value and i.get("type") == "checkbox" for i in page.inputs)


def test_skip_logic_is_applied_step_by_step_on_the_server(client):
    _, asked = walk(client, {"knee_pain": "front"})
    assert ["pain_level"] in asked
    _, asked = walk(client, {"weekly_km": 0})
    flat = [q for step in asked for q in step]
    assert "pain_level" not in flat and "recent_load_increase" not in flat
    assert flat == [q for q in ("red_flags", *QUESTIONS) if q in flat][:1] + flat[1:]


def test_a_triage_number_starts_blank_and_required_and_a_blank_is_refused(client):
    page = Page(post(client, "/answers", NO_FLAGS + fields({"knee_pain": "front"})).text)
    pain = next(i for i in page.inputs if i.get("name") == "pain_level")
    assert pain["value"] == "" and "required" in pain
    age = next(i for i in page.inputs if i.get("name") == "age")
    assert age["value"] == "" and "required" in age  # age is read by triage too
    response = post(client, "/answers", NO_FLAGS + fields({"knee_pain": "front"}) + [("pain_level", "")])
    assert response.status_code == 400 and "pain_level" in Page(response.text).text
    screened = {"age": 35, "knee_pain": "front", "hip_pain": "none", "low_back": "none",
                "pain_level": 2}
    page = Page(post(client, "/answers", NO_FLAGS + fields(screened)).text)
    km = next(i for i in page.inputs if i.get("name") == "weekly_km")
    assert km["value"] == str(QUESTIONS["weekly_km"].default)  # others offer their default, as `ask` does


def test_the_page_script_is_given_the_questions_that_may_follow(client):
    page = Page(post(client, "/answers", NO_FLAGS).text)
    assert "pain_level" in page.later()
    later = next(f for f in page.fieldsets if f.get("data-answer") == "pain_level")
    assert "disabled" in later and "hidden" in later  # never sent without the script
    assert json.loads(str(later["data-ask-if"]))[0]["answer"] == "knee_pain"


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.stem)
def test_a_persona_posted_gets_the_plan_hipcoach_plan_gives(client, persona):
    answers = json.loads(persona.read_text(encoding="utf-8"))
    expected = ok(invoke("plan", persona, "--format", "json")).output
    response = post(client, "/download/plan", fields(answers))
    assert response.status_code == 200
    assert response.text == expected
    assert response.headers["content-disposition"] == 'attachment; filename="hip-plan.json"'


def test_the_plan_page_shows_every_exercise_with_its_dose_slot_and_why(client, planner):
    page, _ = walk(client, DESK)
    plan = planner.plan(DESK)
    assert plan["status"] == "plan"
    text = page.text
    assert text.index("Advice") < text.index(plan["schedule"][0]["label"])
    for advice in plan["advice"]:
        assert " ".join(advice["text"].split()) in text
    from hipcoach.present.render import amount

    for block in plan["schedule"]:
        assert block["label"] in text
    for item in plan["items"]:
        assert item["name"] in text and amount(item) in text
        for step in item["steps"]:
            assert " ".join(step.split()) in text
        assert f"<- {item['because'][0]['rule']}" in text  # the rules, as --explain shows them
    assert "Why this exercise?" in text
    assert "You answered “Where do you feel knee pain, if anywhere?” with: Around or behind the kneecap" in text


def test_the_answers_download_is_what_ask_save_writes(client, planner):
    from hipcoach.kb.answers import dumps, normalise

    response = post(client, "/download/answers", fields(DESK))
    assert response.text == dumps(normalise(DESK, planner.kb))
    assert ok(invoke("plan", "-", "--format", "json", input=response.text)).output == \
        ok(invoke("plan", EXAMPLES / "desk_runner.yaml", "--format", "json")).output


def test_the_handout_download_is_the_printable_handout(client, planner):
    from hipcoach.present.labels import Labels

    response = post(client, "/download/handout", fields(DESK))
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == render(planner.plan(DESK), "html",
                                   labels=Labels.of(planner.kb, planner.rulebase))


def test_the_calendar_and_journal_downloads_are_the_programmes(client, programme):
    journal = post(client, "/download/journal", fields(DESK) + PROGRAMME)
    _, expected = programme.start(DESK, "2026-03-02", 6, ["mon", "wed", "sat"])
    assert journal.text == journal_text(expected)
    calendar = post(client, "/download/calendar", fields(DESK) + PROGRAMME)
    icalendar = pytest.importorskip("icalendar")
    events = icalendar.Calendar.from_ical(calendar.text).walk("VEVENT")
    sessions = [e for e in events if not str(e["UID"]).startswith("checkin-")]
    assert len(sessions) == len({d["date"] for w in expected["programme"] for d in w["days"]})
    assert len(events) - len(sessions) == len(expected["programme"])  # a check-in each week


# ----------------------------------------------------------------------------- referrals

def _flag_for(urgency: str, rulebase) -> str:
    for rule in rulebase.layer("triage"):
        if rule.urgency == urgency:
            for pattern in rule.patterns:
                for test in pattern.tests:
                    if test.field == "red_flags":
                        return str(test.value)
    raise AssertionError(f"no red flag refers with {urgency}")


@pytest.mark.parametrize("urgency", ["emergency", "same_day", "soon"])
def test_a_ticked_red_flag_shows_the_referral_at_once_as_plan_words_it(client, planner, rulebase,
                                                                       urgency):
    flag = _flag_for(urgency, rulebase)
    response = post(client, "/answers", [("red_flags", ""), ("red_flags", flag)])
    page = Page(response.text)
    plan = planner.plan({"red_flags": [flag]})
    assert plan["urgency"] == urgency
    assert page.asked() == [] and page.later() == []  # asks nothing more
    for line in render(plan, "text").splitlines():
        assert " ".join(line.replace("  * ", "").split()) in page.text
    assert f'data-urgency="{urgency}"' in response.text


def test_a_pain_of_8_refers_on_the_page_that_asks_it(client, planner):
    pairs = NO_FLAGS + fields({"age": 35, "weekly_km": 20, "knee_pain": "front", "hip_pain": "none",
                               "low_back": "none", "pain_level": 8})
    page = Page(post(client, "/answers", pairs).text)
    heading = planner.plan({"knee_pain": "front", "pain_level": 8})["referral"]["heading"]
    assert heading in page.text and page.asked() == []


# ------------------------------------------------------------------------ refused input

def test_a_missing_or_wrong_csrf_token_is_refused(client):
    for data in ({"red_flags": ""}, {"red_flags": "", "_csrf": "not-the-token"}):
        response = client.post("/answers", data=data)
        assert response.status_code == 403
        assert "security token" in Page(response.text).text
    fresh = TestClient(client.app, base_url="http://127.0.0.1:8000")  # no cookie at all
    assert fresh.post("/answers", data={"_csrf": get_token(client)}).status_code == 403


def test_a_token_that_is_not_ascii_is_refused_not_a_crash(client):
    get_token(client)
    response = client.post("/answers", data={"_csrf": "é" * 32, "red_flags": ""})
    assert response.status_code == 403


def test_a_file_where_an_answer_belongs_is_refused(client):
    response = client.post("/answers", data={"_csrf": get_token(client)},
                           files={"age": ("age.txt", b"35", "text/plain")},
                           headers={"accept": "application/json"})
    assert response.status_code == 400 and response.json()["field"] == "age"


def test_a_form_from_another_origin_is_refused(client):
    response = post(client, "/answers", NO_FLAGS, headers={"origin": "http://evil.example"})
    assert response.status_code == 403
    assert post(client, "/answers", NO_FLAGS, headers={"sec-fetch-site": "cross-site"}
                ).status_code == 403
    for own in ("http://127.0.0.1:8000", "null"):  # "null": a page under no-referrer sends it
        assert post(client, "/answers", NO_FLAGS, headers={"origin": own}).status_code == 200


def test_a_body_over_the_limit_gets_413(client):
    big = b"red_flags=" + b"x" * (MAX_BYTES + 1)
    response = client.post("/answers", content=big,
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b"x" * (MAX_BYTES // 10)

    response = client.post("/answers", content=chunks(), headers={
        "content-type": "application/x-www-form-urlencoded", "accept": "application/json"})
    assert response.status_code == 413 and "kB" in response.json()["error"]


@pytest.mark.parametrize(("pairs", "field", "words"), [
    ([("bogus", "1")], "bogus", "unknown field"),
    ([("age", "200")], "age", "between 12 and 100"),
    ([("knee_pain", "elbow")], "knee_pain", "one of"),
    ([("minutes", "")], "minutes", "blank"),
    ([("age", "30"), ("age", "31")], "age", "more than once"),
    ([("equipment", ""), ("equipment", "sofa")], "equipment", "not allowed"),
    ([("age", "9" * 300)], "age", "longer than"),
])
def test_a_bad_field_gets_400_naming_it(client, pairs, field, words):
    response = post(client, "/answers", pairs, headers={"accept": "application/json"})
    assert response.status_code == 400
    error = response.json()
    assert error["field"] == field and words in error["error"] and field in error["error"]
    page = post(client, "/answers", pairs)
    assert page.status_code == 400 and field in Page(page.text).text
    assert "Traceback" not in page.text


def test_unknown_pages_and_methods_are_pages_not_tracebacks(client):
    assert client.get("/nowhere").status_code == 404
    assert client.get("/answers").status_code == 405
    assert post(client, "/download/nothing", []).status_code == 404


def test_an_error_nothing_caught_is_a_plain_500_and_the_log_has_its_kind_only(client, monkeypatch,
                                                                               caplog):
    from hipcoach.web import questions

    def boom(self, answers):
        raise RuntimeError(f"secret {answers}")

    monkeypatch.setattr(questions.Steps, "next", boom)
    with caplog.at_level(logging.INFO, logger="hipcoach"):
        response = post(client, "/answers", fields({"knee_pain": "front"}) + NO_FLAGS)
    assert response.status_code == 500
    assert "Traceback" not in response.text and "secret" not in response.text
    assert "RuntimeError" in caplog.text and "secret" not in caplog.text and "front" not in caplog.text


# -------------------------------------------------------------------------- the headers

def test_every_response_carries_the_strict_headers(client):
    responses = [client.get("/"), client.get("/checkin"), client.get("/nowhere"),
                 post(client, "/answers", NO_FLAGS), post(client, "/answers", [("x", "1")]),
                 post(client, "/download/plan", fields(DESK)),
                 client.post("/answers", data={"red_flags": ""}),
                 client.post("/answers", content=b"x" * (MAX_BYTES + 1))]
    assert [r.status_code for r in responses] == [200, 200, 404, 200, 400, 200, 403, 413]
    for response in responses:
        headers = response.headers
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "form-action 'self'" in policy and "unsafe-inline" not in policy
        assert "'self'" not in policy.replace("form-action 'self'", "")  # nothing else is loaded
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
    page = responses[0].text
    nonce = policy_nonce(responses[0].headers["content-security-policy"])
    assert page.count(f'nonce="{nonce}"') == 2  # the style and the script, nothing else
    assert page.count("<script") == 1 and page.count("<style") == 1
    assert not re.search(r"<[^>]*\son[a-z]+=", page), "an inline event handler"


def policy_nonce(policy: str) -> str:
    return policy.split("'nonce-")[1].split("'")[0]


def test_each_page_has_a_new_nonce_and_the_csrf_cookie_is_strict(client):
    first, second = client.get("/"), client.get("/")
    assert policy_nonce(first.headers["content-security-policy"]) != \
        policy_nonce(second.headers["content-security-policy"])
    cookie = first.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_the_access_log_has_no_bodies_or_query_strings(client, caplog):
    with caplog.at_level(logging.INFO, logger="hipcoach.web.access"):
        client.get("/?name=Alice")
        post(client, "/answers", fields({"knee_pain": "outside", "age": 47}) + NO_FLAGS)
    lines = [r.getMessage() for r in caplog.records if r.name == "hipcoach.web.access"]
    assert any(line.startswith("GET / 200") for line in lines)
    assert any(line.startswith("POST /answers 200") for line in lines)
    text = " ".join(lines)
    assert "Alice" not in text and "outside" not in text and "47" not in text.replace(".", " ").split()


# ------------------------------------------------------------------------- the programme

def test_a_checkin_returns_the_updated_journal_and_its_decision(client, programme):
    journal = post(client, "/download/journal", fields(DESK) + PROGRAMME).text
    report = [("date", "2026-03-08"), ("pain_during", "2"), ("next_morning", "same"),
              ("sessions", "5"), ("red_flags", "")]
    response = client.post("/checkin", data=_grouped([("_csrf", get_token(client))] + report),
                           files={"journal": ("me.json", journal.encode(), "application/json")})
    assert response.status_code == 200
    loaded = programme.load(io.BytesIO(journal.encode()), "j")
    updated, result, _ = programme.checkin(loaded, Checkin("2026-03-08", 2, "same", 5))
    assert result["decision"] == "progress"
    page = Page(response.text)
    assert "Move up one step" in page.text
    sent = next(i for i in page.inputs if i.get("name") == "journal")
    assert sent["_tag"] == "textarea"
    body = response.text.split('<textarea name="journal" hidden readonly>')[1].split("</textarea>")[0]
    import html

    assert html.unescape(body) == journal_text(updated)
    again = client.post("/journal/journal", files={"journal": (None, html.unescape(body))},
                        data={"_csrf": get_token(client)})
    assert again.text == journal_text(updated)
    ics = client.post("/journal/calendar", files={"journal": (None, html.unescape(body))},
                      data={"_csrf": get_token(client)})
    assert ics.text.startswith("BEGIN:VCALENDAR")


def test_a_checkin_with_a_red_flag_ends_in_a_referral(client):
    journal = post(client, "/download/journal", fields(DESK) + PROGRAMME).text
    report = [("date", "2026-03-08"), ("pain_during", "1"), ("next_morning", "same"),
              ("sessions", "5"), ("red_flags", ""), ("red_flags", "swelling")]
    response = client.post("/checkin", data=_grouped([("_csrf", get_token(client))] + report),
                           files={"journal": ("me.json", journal.encode(), "application/json")})
    assert response.status_code == 200 and "class=\"referral\"" in response.text


@pytest.mark.parametrize(("upload", "report", "words"), [
    (b"not json", [], "the journal file: not a hipcoach journal"),
    (b'{"version": 1}', [], "the journal file was written by an older hipcoach"),
    (None, [], "no journal file"),
    ("ok", [("pain_during", "eleven")], "pain_during"),
    ("ok", [("sessions", "²")], "sessions: '²' is not a whole number"),
    ("ok", [("pain_during", "11")], "pain_during 11: pain is rated 0 to 10"),
    ("ok", [("sessions", "99")], "sessions 99: 5 sessions were planned"),
    ("ok", [("date", "2026-02-01")], "date 2026-02-01: the programme starts on 2026-03-02"),
    ("ok", [("red_flags", "sore")], "red_flags sore: not a red flag"),
    ("ok", [("bogus", "1")], "bogus: unknown field"),
])
def test_a_bad_checkin_gets_400_saying_what(client, upload, report, words):
    if upload == "ok":
        upload = post(client, "/download/journal", fields(DESK) + PROGRAMME).content
    base = {"date": "2026-03-08", "pain_during": "2", "next_morning": "same", "sessions": "5"}
    pairs = [(k, v) for k, v in base.items() if k not in dict(report)] + report
    files = {"journal": ("me.json", upload, "application/json")} if upload is not None else None
    response = client.post("/checkin", data=_grouped([("_csrf", get_token(client))] + pairs),
                           files=files, headers={"accept": "application/json"})
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]


@pytest.mark.parametrize(("pairs", "field"), [
    ([("_start", "2026-02-30")], "_start"), ([("_weeks", "99")], "_weeks"),
    ([("_weeks", "-1")], "_weeks"), ([("_weeks", "²")], "_weeks"),
    ([("_run_days", "funday")], "_run_days")])
def test_a_bad_programme_field_gets_400_naming_it(client, pairs, field):
    base = [pair for pair in PROGRAMME if pair[0] not in dict(pairs)] + pairs
    response = post(client, "/download/journal", fields(DESK) + base,
                    headers={"accept": "application/json"})
    assert response.status_code == 400 and response.json()["field"] == field
    assert field in response.json()["error"] and "--" not in response.json()["error"]


def test_an_uploaded_journal_over_the_limit_gets_413(client):
    response = client.post("/checkin", data={"_csrf": get_token(client)},
                           files={"journal": ("me.json", b" " * MAX_BYTES, "application/json")})
    assert response.status_code == 413


# ---------------------------------------------------------------------- nothing is kept

def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_nothing_is_written_to_disk_while_serving(tmp_path, monkeypatch):
    """The server's working directory and temp folder are empty after a whole session of
    pages, downloads and an uploaded journal close to the limit."""
    work, temp = tmp_path / "work", tmp_path / "temp"
    work.mkdir()
    temp.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    with TestClient(create_app(), base_url="http://127.0.0.1:8000") as client:
        walk(client, DESK)
        for kind in ("handout", "plan", "answers", "journal", "calendar"):
            assert post(client, f"/download/{kind}", fields(DESK) + PROGRAMME).status_code == 200
        journal = post(client, "/download/journal", fields(DESK) + PROGRAMME).content
        padded = journal.rstrip(b"\n}") + b"}" + b" " * (MAX_BYTES - len(journal) - 2000)
        report = {"date": "2026-03-08", "pain_during": "2", "next_morning": "same", "sessions": "5"}
        for upload in (journal, padded):
            response = client.post("/checkin", data={"_csrf": get_token(client), **report},
                                   files={"journal": ("me.json", upload, "application/json")})
            assert response.status_code == 200, response.text
        assert _files(work) == [] and _files(temp) == []
    assert os.listdir(work) == [] and os.listdir(temp) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs=st.lists(st.tuples(st.sampled_from([*QUESTIONS, "_csrf", "_start", "other"]),
                                st.text(max_size=30)), max_size=8))
def test_any_posted_fields_get_a_page_or_a_400_or_403_never_an_error(client, pairs):
    response = post(client, "/answers", pairs)
    assert response.status_code in (200, 400, 403), response.text
    assert "Traceback" not in response.text
    response = post(client, "/download/journal", pairs + PROGRAMME)
    assert response.status_code in (200, 400, 403), response.text
