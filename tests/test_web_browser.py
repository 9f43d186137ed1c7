"""`hipcoach serve` in a real headless browser: Debian's Chromium driven by Playwright (the
Python package only; the browser is the system's, nothing is downloaded), against a real
server started with `hipcoach serve` on a free loopback port.

A runner answers the form by clicking, typing and ticking, with JavaScript on and off, sees the
plan, opens a "why", downloads the handout and the calendar and they are parsed; each urgency's
red flag shows its referral; a programme is started and checked in through the pages; the plan
page is taken at phone width (390 px) and printed. Set HIPCOACH_SCREENSHOTS to a folder to keep
the screenshots.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HIPCOACH = Path(sys.executable).parent / "hipcoach"
try:
    from playwright.sync_api import Page, sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or sync_playwright is None,
    reason="NO BROWSER: chromium (or the playwright package) is not installed, so the web pages "
           "were NOT checked in a browser (.ci/run installs chromium; locally: apt-get install -y "
           "chromium, and make install for the test extra)")

DESK_ANSWERS = {"age": 41, "weekly_km": 30, "knee_pain": "front", "hip_pain": "none",
                "low_back": "tight", "pain_level": 3, "squat_difficulty": True,
                "getting_up_difficulty": False, "sitting_hours": 9,
                "strength_sessions_per_week": 0, "mobility_sessions_per_week": 0,
                "recent_load_increase": False, "red_flags": [], "equipment": ["foam_roller", "mat"],
                "minutes": 25}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`hipcoach serve` on a free port, in a folder of its own, until the module ends."""
    port = _free_port()
    folder = tmp_path_factory.mktemp("served")
    log = (folder.parent / "serve.log").open("w")
    process = subprocess.Popen([str(HIPCOACH), "serve", "--port", str(port)], cwd=folder,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(base + "/", timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                raise AssertionError("hipcoach serve did not start: "
                                     + (folder.parent / "serve.log").read_text()) from None
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(30)
    log.close()
    assert list(folder.iterdir()) == []  # the server wrote nothing where it ran


@pytest.fixture(scope="module")
def browser():
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


class Visit:
    """A browser tab on the server, recording every request and every console complaint."""

    def __init__(self, browser: Any, base: str, javascript: bool, width: int = 1000) -> None:
        self.context = browser.new_context(java_script_enabled=javascript, accept_downloads=True,
                                           viewport={"width": width, "height": 900})
        self.page: Page = self.context.new_page()
        self.base = base
        self.requests: list[str] = []
        self.console: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: self.console.append(message.text))

    def close(self) -> None:
        self.context.close()
        assert all(url.startswith(self.base) for url in self.requests), self.requests
        assert not [m for m in self.console if "Content Security Policy" in m], self.console

    def download(self, button: str) -> bytes:
        with self.page.expect_download() as info:
            self.page.get_by_role("button", name=button).click()
        path = info.value.path()
        return Path(path).read_bytes()


@pytest.fixture(params=[True, False], ids=["js-on", "js-off"])
def visit(request, browser, server):
    tab = Visit(browser, server, request.param)
    yield tab
    tab.close()


def answer_all(tab: Visit, answers: dict[str, Any]) -> None:
    """Fill in the questionnaire as a person does: tick, click, type, press Next, page by page
    (with JavaScript on, a question shows as soon as it applies on the same page)."""
    page = tab.page
    page.goto(tab.base + "/")
    from webclient import QUESTIONS

    done: set[str] = set()
    for _ in range(len(QUESTIONS) + 1):
        if page.locator("form#questions").count() == 0:
            return
        for key, question in QUESTIONS.items():
            fieldset = page.locator(f"fieldset#q-{key}")
            if key in done or fieldset.count() == 0 or not fieldset.is_visible():
                continue
            done.add(key)
            _answer(fieldset, question, answers.get(key, question.default))
        page.get_by_role("button", name="Next").click()
    raise AssertionError("the questions never ended")


def _answer(fieldset: Any, question: Any, value: Any) -> None:
    if question.type in ("int", "number"):
        box = fieldset.get_by_role("spinbutton")
        box.fill("")
        box.type(str(value))
    elif question.type == "bool":
        fieldset.get_by_label("Yes" if value else "No", exact=True).check()
    elif question.type == "choice":
        label = next(c.label for c in question.choices if c.value == value)
        fieldset.get_by_text(label, exact=True).click()
    else:
        for choice in question.choices:
            box = fieldset.get_by_label(choice.label, exact=True)
            if (choice.value in value) != box.is_checked():
                box.click()


def test_a_runner_answers_the_form_and_gets_the_plan_with_its_why_and_downloads(visit, planner):
    answer_all(visit, DESK_ANSWERS)
    page = visit.page
    plan = planner.plan(DESK_ANSWERS)
    assert page.locator("h1").inner_text().startswith("Your hip plan")
    for item in plan["items"]:
        assert page.locator(f"#ex-{item['exercise']} h3").inner_text() == item["name"]
    why = page.locator("details.why").first
    reasons = why.locator("ul.reasons").first
    assert not reasons.is_visible()
    why.locator("summary").first.click()
    assert reasons.is_visible() and "You answered “" in reasons.inner_text()
    rules = why.locator("details.rules")
    assert not rules.locator("pre").is_visible()
    rules.locator("summary").click()
    assert plan["items"][0]["because"][0]["rule"] in rules.locator("pre").inner_text()

    handout = visit.download("Printable handout").decode("utf-8")
    from hipcoach.present.labels import Labels
    from hipcoach.present.render import render

    assert handout == render(plan, "html", labels=Labels.of(planner.kb, planner.rulebase))

    import icalendar

    calendar = icalendar.Calendar.from_ical(visit.download("Programme calendar (.ics)"))
    events = calendar.walk("VEVENT")
    names = {item["name"] for item in plan["items"]}
    sessions = [e for e in events if not str(e["UID"]).startswith("checkin-")]
    assert sessions and all(any(n in str(e["DESCRIPTION"]) for n in names) for e in sessions)
    assert len(events) > len(sessions)  # each week ends with a check-in

    saved = json.loads(visit.download("Your answers (for hipcoach plan)"))
    assert planner.plan(saved) == plan


def test_with_javascript_a_question_appears_as_soon_as_it_applies(browser, server):
    tab = Visit(browser, server, javascript=True)
    page = tab.page
    page.goto(server + "/")
    page.get_by_role("button", name="Next").click()
    pain = page.locator("fieldset#q-pain_level")
    assert not pain.is_visible()
    page.locator("fieldset#q-hip_pain").get_by_text("Outer side of the hip", exact=True).click()
    assert pain.is_visible()
    page.locator("fieldset#q-hip_pain").get_by_text("No hip pain", exact=True).click()
    assert not pain.is_visible()
    tab.close()


def test_without_javascript_the_pain_question_comes_on_the_next_page(browser, server):
    tab = Visit(browser, server, javascript=False)
    page = tab.page
    page.goto(server + "/")
    page.get_by_role("button", name="Next").click()
    assert not page.locator("fieldset#q-pain_level").is_visible()
    from webclient import QUESTIONS

    for key, value in (("age", 35), ("hip_pain", "none"), ("low_back", "none")):  # triage: blank
        _answer(page.locator(f"fieldset#q-{key}"), QUESTIONS[key], value)
    page.locator("fieldset#q-knee_pain").get_by_text("On the outer side of the knee", exact=True).click()
    page.get_by_role("button", name="Next").click()
    assert page.locator("fieldset#q-pain_level").is_visible()
    assert page.locator("fieldset.q:visible").count() == 1
    tab.close()


@pytest.mark.parametrize(("flag", "urgency"), [
    ("bladder_or_bowel_change", "emergency"), ("fever_or_unwell", "same_day"), ("swelling", "soon")])
def test_a_ticked_red_flag_shows_the_referral_and_nothing_more(visit, planner, flag, urgency):
    page = visit.page
    page.goto(visit.base + "/")
    label = next(c.label for c in planner.kb.questions["red_flags"].choices if c.value == flag)
    page.get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Next").click()
    plan = planner.plan({"red_flags": [flag]})
    assert plan["urgency"] == urgency
    assert page.locator("h1").inner_text() == plan["referral"]["heading"]
    assert page.locator(f'section.referral[data-urgency="{urgency}"]').is_visible()
    assert page.locator("fieldset").count() == 0
    for reason in plan["reasons"]:
        assert reason["message"] in page.locator("section.referral").inner_text()


def test_a_programme_is_started_and_checked_in_through_the_pages(visit, programme, tmp_path):
    answer_all(visit, DESK_ANSWERS)
    page = visit.page
    page.locator("#f-start").fill("2026-03-02")
    journal = visit.download("Programme journal (to check in with)")
    started = json.loads(journal)
    assert started["start"] == "2026-03-02" and started["checkins"] == []
    (tmp_path / "me.json").write_bytes(journal)

    page.goto(visit.base + "/checkin")
    page.locator("#f-journal").set_input_files(str(tmp_path / "me.json"))
    page.locator("#f-date").fill("2026-03-08")
    page.get_by_label("Pain, 0 to 10").fill("2")
    page.get_by_label("Days", exact=True).fill("5")
    page.get_by_label("Same", exact=True).check()
    page.get_by_role("button", name="Check in").click()
    assert page.locator("h1").inner_text() == "Move up one step"
    assert "From the next session" in page.locator("#decision").inner_text()

    updated = json.loads(visit.download("Updated journal"))
    assert [c["decision"] for c in updated["checkins"]] == ["progress"]
    loaded = programme.load(io.BytesIO(journal), "j")
    from hipcoach.programme.programme import Checkin

    expected, _, _ = programme.checkin(loaded, Checkin("2026-03-08", 2, "same", 5))
    assert updated == expected


def test_the_plan_page_fits_a_phone_and_prints_on_its_own(browser, server, tmp_path):
    tab = Visit(browser, server, javascript=True, width=390)
    answer_all(tab, DESK_ANSWERS)
    page = tab.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing off the side
    shot = tmp_path / "plan-390.png"
    page.screenshot(path=str(shot), full_page=True)
    keep = os.environ.get("HIPCOACH_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "plan-390.png")
    assert shot.stat().st_size > 20_000
    for button in page.get_by_role("button").all():  # big enough to tap
        box = button.bounding_box()
        assert box is not None and box["height"] >= 40 and box["x"] + box["width"] <= 390

    from pypdf import PdfReader

    page.emulate_media(media="print")
    assert not page.locator("form").first.is_visible()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(page.pdf(format="A4"))).pages)
    assert "Your hip plan" in text and "Printable handout" not in text and "Next" not in text
    tab.close()


def test_the_check_in_page_fits_a_phone(browser, server):
    tab = Visit(browser, server, javascript=False, width=390)
    tab.page.goto(server + "/checkin")
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= 390
    tab.close()

