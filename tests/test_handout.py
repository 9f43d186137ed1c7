"""hipcoach.present.handout: the printable HTML handout of a plan and of a programme journal.

The page is read back with the standard library's HTML parser (its text, its attributes, its
CSS), and then printed for real in headless Chromium, where the PDF's pages and text and the
browser's own network log are checked.
"""

from __future__ import annotations

import copy
import io
import json
import re
import shutil
import subprocess
import sys
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import EXAMPLES, ROOT
from hipcoach.present.handout import plan_html, programme_html
from journals import CHECKINS, LABELS, describe_from, journal_from

DESK = yaml.safe_load((EXAMPLES / "desk_runner.yaml").read_text(encoding="utf-8"))
RED_FLAG = yaml.safe_load((EXAMPLES / "red_flag.yaml").read_text(encoding="utf-8"))
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;"


class _Page(HTMLParser):
    """A page's text, its tags with their attributes, and its CSS."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.css = ""
        self._in_style = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.css += data
        else:
            self.texts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())

    def count(self, tag: str, cls: str) -> int:
        return sum(1 for t, attrs in self.tags if t == tag and cls in (attrs.get("class") or "").split())


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def desk_plan(planner) -> dict[str, Any]:
    return planner.plan(DESK)


@pytest.fixture(scope="module")
def referral(planner) -> dict[str, Any]:
    return planner.plan(RED_FLAG)


@pytest.fixture(scope="module")
def describe(kb):
    return describe_from(kb)


@pytest.fixture(scope="module")
def journal(desk_plan) -> dict[str, Any]:
    return journal_from(desk_plan, DESK)


# ------------------------------------------------------------------------------------ the plan


def test_the_plan_handout_is_one_html_page_ending_in_one_newline(desk_plan):
    html = plan_html(desk_plan, LABELS)
    assert html.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert html.endswith("</html>\n") and not html.endswith("\n\n")
    assert html.count("<html") == 1


def test_the_plan_handout_is_byte_identical_each_time(desk_plan, planner):
    assert plan_html(desk_plan, LABELS) == plan_html(copy.deepcopy(desk_plan), LABELS) == plan_html(planner.plan(DESK), LABELS)


def test_advice_comes_first_then_exercises_schedule_and_the_log(desk_plan):
    text = _Page(plan_html(desk_plan, LABELS)).text
    places = [text.index(words(desk_plan["advice"][0]["text"])),
              text.index(desk_plan["items"][0]["name"]), text.index("Your week"), text.index("Week 1")]
    assert places == sorted(places)
    assert text.count("not a diagnosis") == 1


def test_every_exercise_has_its_steps_cautions_dose_and_cue(desk_plan):
    text = _Page(plan_html(desk_plan, LABELS)).text
    for item in desk_plan["items"]:
        start = text.index(item["name"] + " ")
        card = text[start:text.index("Why:", start)]
        assert item["dose"] in card
        for step in item["steps"]:
            assert words(step) in card
        for caution in item["cautions"]:
            assert words(caution[1:]) in card
        assert words(item["cue"]) in card


def test_the_schedule_lists_each_block_with_its_exercises(desk_plan):
    text = _Page(plan_html(desk_plan, LABELS)).text
    schedule = text[text.index("Your week"):text.index("Week 1")]
    names = {item["exercise"]: item["name"] for item in desk_plan["items"]}
    for block in desk_plan["schedule"]:
        assert f"{block['label']} {words(block['frequency'])}" in schedule
        for exercise in block["exercises"]:
            assert names[exercise] in schedule


@pytest.mark.parametrize("weeks", [1, 6, 7])
def test_the_log_has_a_week_of_tick_boxes_per_week(desk_plan, weeks):
    page = _Page(plan_html(desk_plan, LABELS, weeks=weeks))
    assert page.count("section", "week") == weeks
    assert max(int(n) for n in re.findall(r"Week (\d+)", page.text)) == weeks
    per_week = sum(item["per_day"] for item in desk_plan["items"]) * 7
    assert page.count("span", "box") == per_week * weeks
    assert page.count("div", "sheet") == -(-weeks // 2)  # two weeks to a printed sheet


def test_an_exercise_done_twice_a_day_has_two_boxes_a_day(planner):
    plan = planner.plan({"knee_pain": "outside", "low_back": "tight", "minutes": 30})
    twice = [item for item in plan["items"] if item["per_day"] > 1]
    assert twice, "guards the test: some plan must hold an exercise done twice a day"
    html = plan_html(plan, LABELS, weeks=1)
    row = html[html.index(f'<td class="name">{twice[0]["name"]}'):]
    row = row[:row.index("</tr>")]
    assert row.count('<td class="tick">') == 7
    assert row.count('class="box"') == 7 * twice[0]["per_day"]


def test_a_referral_is_the_referral_alone(referral):
    html = plan_html(referral, LABELS)
    page = _Page(html)
    assert page.texts and referral["referral"]["heading"] in page.text
    assert page.text.index(referral["referral"]["heading"]) < page.text.index(referral["referral"]["advice"])
    for reason in referral["reasons"]:
        assert words(reason["message"]) in page.text
    assert page.count("section", "referral") == 1
    for absent in ("exercise", "week", "box", "sheet"):
        assert f'class="{absent}"' not in html
    assert "Week 1" not in page.text


def test_hostile_plan_text_is_escaped(desk_plan):
    plan = copy.deepcopy(desk_plan)
    plan["items"][0]["name"] = HOSTILE
    plan["items"][0]["steps"][0] = HOSTILE
    plan["advice"][0]["text"] = HOSTILE
    plan["causes"][0]["name"] = HOSTILE
    plan["schedule"][0]["label"] = HOSTILE
    html = plan_html(plan, LABELS)
    assert "<script" not in html and "<img" not in html
    assert html.count(ESCAPED) >= 5
    referral = {**plan, "status": "refer", "referral": {"heading": HOSTILE, "advice": HOSTILE},
                "reasons": [{"message": HOSTILE}]}
    html = plan_html(referral, LABELS)
    assert "<script" not in html and "<img" not in html and ESCAPED in html


# ------------------------------------------------------------------------------- self-contained


@pytest.mark.parametrize("which", ["plan", "referral", "programme"])
def test_the_page_is_self_contained_and_forbids_every_request(which, desk_plan, referral, journal,
                                                              describe):
    html = {"plan": lambda: plan_html(desk_plan, LABELS), "referral": lambda: plan_html(referral, LABELS),
            "programme": lambda: programme_html(journal, describe, LABELS)}[which]()
    assert not re.search(r"(?:https?:)?//", html.replace('http-equiv="Content-Security-Policy"', ""))
    page = _Page(html)
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "base", "form"}
    for tag, attrs in page.tags:
        assert not set(attrs) & {"src", "href", "srcset", "action", "style"}, (tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
    assert "url(" not in page.css and "@import" not in page.css and "@font-face" not in page.css
    policy = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert policy == ["default-src 'none'; style-src 'unsafe-inline'"]


def test_the_page_is_set_for_print(desk_plan):
    css = _Page(plan_html(desk_plan, LABELS)).css
    assert "@page" in css and "@media print" in css
    assert ".sheet { break-before: page;" in css  # the log starts on a fresh sheet
    assert ".exercise {" in css and "break-inside: avoid" in css[css.index(".exercise {"):][:300]


def test_jinja2_loads_only_for_a_handout(tmp_path):
    """`hipcoach plan` start-up is measured: text output must not import jinja2."""
    code = ("import sys; from hipcoach.cli import cli\n"
            "for fmt in sys.argv[2:]:\n"
            "    try:\n        cli(['plan', sys.argv[1], '--format', fmt], prog_name='hipcoach')\n"
            "    except SystemExit:\n        pass\n"
            "    print('jinja2' in sys.modules, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code, str(EXAMPLES / "desk_runner.yaml"), "text",
                             "markdown", "json", "html"], capture_output=True, text=True, check=True)
    assert result.stderr.split() == ["False", "False", "False", "True"]


def test_the_wheel_carries_every_template():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert data["hipcoach.present"] == ["templates/*.html.j2"]
    names = [p.name for p in (ROOT / "engine" / "hipcoach" / "present" / "templates").iterdir()]
    assert names and all(name.endswith(".html.j2") for name in names), names


# ------------------------------------------------------------------------------- the programme


def test_the_programme_handout_describes_each_exercise_at_each_rung(journal, describe, kb):
    text = _Page(programme_html(journal, describe, LABELS)).text
    rungs = {(i["exercise"], i["step"]) for week in journal["programme"] for d in week["days"]
             for i in d["items"]}
    assert any(step > 1 for _, step in rungs), "guards the test: some exercise moves up a rung"
    for exercise, step in sorted(rungs):
        about = describe(exercise, step)
        assert about["name"] in text
        start = text.index(about["name"] + " ")
        for line in about["steps"] + about["cautions"]:
            assert words(line[1:]) in text[start:]


def test_the_programme_gives_the_dose_week_by_week(journal, describe, desk_plan):
    text = _Page(programme_html(journal, describe, LABELS)).text
    strength = next(i for i in desk_plan["items"] if i["category"] == "strength")
    stretch = next(i for i in desk_plan["items"] if i["category"] == "stretch")
    start = text.index(strength["name"] + " ")
    assert text[start:].startswith(f"{strength['name']} strength Week Dose When Weeks 1–2 (Settle in) "
                                   f"{strength['dose']} {LABELS.slot_label(strength['when'])}")
    level_2 = text.index(f"{strength['name']} (level 2) ")
    assert (f"Weeks 3–4 (Build) {strength['dose']}, plus 1 more set {LABELS.slot_label(strength['when'])}"
            in text[level_2:])
    start = text.index(stretch["name"] + " ")
    assert f"Weeks 1–6 {stretch['dose']} {LABELS.slot_label(stretch['when'])}" in text[start:]


def test_the_programme_log_has_the_actual_dated_sessions(journal, describe):
    html = programme_html(journal, describe, LABELS)
    page = _Page(html)
    assert page.count("section", "week") == len(journal["programme"])
    week_1 = html[html.index("<h2>Week 1: Settle in</h2>"):html.index("<h2>Week 2: Settle in</h2>")]
    dates = sorted({d["date"] for d in journal["programme"][0]["days"]})
    assert _Page(week_1).count("th", "day") == len(dates)
    assert "Mon<br>5 Jan" in week_1 and "Thu<br>8 Jan" not in week_1  # no session on Thursdays
    sessions = sum(len(d["items"]) for d in journal["programme"][0]["days"])
    assert week_1.count('class="box"') == sessions
    assert '<td class="tick off">' in week_1  # a strength exercise has no box on a run day


def test_a_programme_week_without_sessions_says_so(journal, describe):
    resting = copy.deepcopy(journal)
    resting["programme"][1]["days"] = []
    text = _Page(programme_html(resting, describe, LABELS)).text
    assert "Week 2: Settle in No sessions are planned this week." in text
    assert "Week 3: Build Exercise" in text


def test_the_programme_shows_the_check_ins_so_far(journal, describe):
    text = _Page(programme_html(journal, describe, LABELS)).text
    assert "Check-ins so far" in text
    assert "Sun 11 Jan 2 1 9 none progress Pain stayed at 3/10" in text
    assert CHECKINS[1]["because"][0] + ", " + CHECKINS[1]["because"][1] in text
    fresh = {**journal, "checkins": []}
    assert "Check-ins" not in _Page(programme_html(fresh, describe, LABELS)).text


def test_the_programme_handout_is_deterministic_and_asks_describe_once_per_rung(journal, describe):
    asked: list[tuple[str, int]] = []

    def counting(exercise: str, step: int) -> dict[str, Any]:
        asked.append((exercise, step))
        return describe(exercise, step)

    first = programme_html(journal, counting, LABELS)
    assert len(asked) == len(set(asked))
    assert first == programme_html(copy.deepcopy(journal), describe, LABELS)
    assert first.endswith("</html>\n") and not first.endswith("\n\n")


def test_hostile_programme_text_is_escaped(journal, describe):
    hostile = copy.deepcopy(journal)
    hostile["programme"][0]["phase"] = HOSTILE
    hostile["programme"][0]["days"][0]["items"][0]["dose"] = HOSTILE
    hostile["run_days"] = [HOSTILE]
    hostile["answers"] = {"knee_pain": HOSTILE}
    hostile["checkins"] = [{**CHECKINS[0], "decision": HOSTILE, "because": [HOSTILE]}]

    def describe_hostile(exercise: str, step: int) -> dict[str, Any]:
        return {**describe(exercise, step), "name": HOSTILE, "steps": [HOSTILE], "cautions": [HOSTILE]}

    html = programme_html(hostile, describe_hostile, LABELS)
    assert "<script" not in html and "<img" not in html
    assert html.count(ESCAPED) >= 6


# -------------------------------------------------------------------------- printed in Chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None,
    reason="NO BROWSER: chromium is not installed, so the printed handout was NOT checked "
           "(.ci/run installs it; locally: apt-get install -y chromium)")
PAPER = {"A4": (595, 842), "letter": (612, 792)}  # PDF points


def _print(html: str, folder: Path, paper: str | None = None) -> dict[str, Any]:
    """``html`` printed by headless Chromium from a file: its screenshot, its PDF, and the URL
    requests the page itself made (the browser's own background requests have no origin)."""
    from pypdf import PdfReader

    if paper is not None:  # what a printer set to this paper asks for
        html = html.replace("</style>", f"@page {{ size: {paper}; }}\n</style>", 1)
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "handout.html"
    page.write_text(html, encoding="utf-8")
    png, pdf, netlog = folder / "shot.png", folder / "print.pdf", folder / "net.json"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-quic", f"--user-data-dir={folder / 'profile'}",
                    "--host-resolver-rules=MAP * ~NOTFOUND", f"--log-net-log={netlog}",
                    "--window-size=900,1400", "--no-pdf-header-footer", f"--screenshot={png}",
                    f"--print-to-pdf={pdf}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    events = json.loads(netlog.read_text(encoding="utf-8"))
    kinds = {number: name for name, number in events["constants"]["logEventTypes"].items()}
    requested = [e["params"]["url"] for e in events["events"]
                 if kinds[e["type"]] == "URL_REQUEST_START_JOB" and "url" in e.get("params", {})
                 and e["params"].get("initiator") != "not an origin"]
    reader = PdfReader(pdf)
    return {"png": png.read_bytes(), "requested": requested,
            "pages": [words(p.extract_text()) for p in reader.pages],
            "size": tuple(round(float(v)) for v in reader.pages[0].mediabox[2:])}


def _colours(png: bytes) -> int:
    """How many distinct colours a screenshot holds: a blank or failed render has one."""
    import matplotlib.image
    import numpy

    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    return len(numpy.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0))


def _log_pages(pages: list[str]) -> list[list[int]]:
    """The week numbers on each printed page of the log (pages with a tick-box table)."""
    return [[int(n) for n in re.findall(r"Week (\d+)(?::| Exercise)", page)]
            for page in pages if "Next morning (0–10)" in page]


def test_ci_installs_the_browser_before_the_tests():
    """Where a browser can be installed, CI must not quietly skip the printed checks."""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    install = script.index("apt-get install -y chromium")
    assert script.index("command -v chromium") < install < script.rindex("make test")
    assert script.rstrip().endswith("make test")


@needs_browser
@pytest.mark.slow
def test_the_detector_sees_a_page_that_calls_out(tmp_path):
    """Guards the network check below: a page that asks for remote files is caught."""
    canary = ('<!DOCTYPE html><html><head><style>body { background: url(https://bg.canary.test/b.png) }'
              '</style></head><body><img src="http://canary.test/x.png"><p>hello</p></body></html>')
    printed = _print(canary, tmp_path)
    assert sorted(printed["requested"]) == ["http://canary.test/x.png", "https://bg.canary.test/b.png"]


@needs_browser
@pytest.mark.parametrize("paper", ["A4", "letter"])
@pytest.mark.slow
def test_the_plan_prints_whole_on_a4_and_letter(tmp_path, desk_plan, paper):
    printed = _print(plan_html(desk_plan, LABELS), tmp_path, paper)
    assert printed["size"] == PAPER[paper]
    assert printed["requested"] == []
    assert len(printed["png"]) > 20_000 and _colours(printed["png"]) > 10
    pages = printed["pages"]
    assert all(pages), "no blank pages"
    text = " ".join(pages)
    for item in desk_plan["items"]:
        assert item["name"] in text
    # the log: two whole weeks to a page, each on a fresh page after the plan
    log = _log_pages(pages)
    assert log == [[1, 2], [3, 4], [5, 6]]
    assert len(pages) == next(i for i, p in enumerate(pages) if "Next morning (0–10)" in p) + 3
    for page in pages[-3:]:
        assert page.count("Next morning (0–10)") == 2  # no week cut off at the foot of a page


@needs_browser
@pytest.mark.slow
def test_a_referral_prints_on_one_page(tmp_path, referral):
    printed = _print(plan_html(referral, LABELS), tmp_path, "A4")
    assert printed["requested"] == []
    assert len(printed["pages"]) == 1
    assert words(referral["referral"]["heading"]) in printed["pages"][0]
    assert "Week 1" not in printed["pages"][0]


@needs_browser
@pytest.mark.parametrize("paper", ["A4", "letter"])
@pytest.mark.slow
def test_the_programme_prints_whole(tmp_path, journal, describe, paper):
    printed = _print(programme_html(journal, describe, LABELS), tmp_path, paper)
    assert printed["size"] == PAPER[paper]
    assert printed["requested"] == []
    assert len(printed["png"]) > 20_000 and _colours(printed["png"]) > 10
    pages = printed["pages"]
    assert all(pages)
    text = " ".join(pages)
    for week in journal["programme"]:
        for entry in week["days"]:
            for item in entry["items"]:
                assert words(describe(item["exercise"], item["step"])["name"]) in text
    assert "Check-ins so far" in text
    assert _log_pages(pages) == [[1, 2], [3, 4], [5, 6]]
    assert len(pages) == next(i for i, p in enumerate(pages) if "Next morning (0–10)" in p) + 3
