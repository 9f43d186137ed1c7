"""hipcoach.batch.report and hipcoach.present.report: ``hipcoach score --report`` (with --keep,
--group-by and the small-cell rule), checked against the tables the same run wrote, counted
again here, and printed for real in headless Chromium."""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter
from html import unescape as html_unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clirunner import invoke, ok
from conftest import EXAMPLES
from hipcoach.batch.keys import Profiler
from hipcoach.batch.report import FEWER, Bands
from hipcoach.kb.ops import holds
from test_handout import _colours, _print, needs_browser

SURVEYS = EXAMPLES / "surveys"
LAYOUTS = ("plain", "google", "surveymonkey", "qualtrics")
HOSTILE = '<script>alert(1)</script>$5k&'


class _Report(HTMLParser):
    """A report page's tables: ``tables[id][key]`` is the list of a row's cell texts, and its
    text, SVG elements and the text inside them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, dict[str, list[str]]] = {}
        self.texts: list[str] = []
        self.svg_texts: list[str] = []
        self.svgs = 0
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_svg = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "svg":
            self.svgs += 1
            self._in_svg += 1
        elif tag == "table" and found.get("data-table"):
            self._table = found["data-table"]
            self.tables[self._table] = {}
        elif tag == "tr" and self._table and found.get("data-key") is not None:
            self._row = self.tables[self._table].setdefault(found["data-key"] or "", [])
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._in_svg -= 1
        elif tag == "td" and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._in_svg:
            self.svg_texts.append(data)
        else:
            self.texts.append(data)
        if self._cell is not None:
            self._cell.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def scored(survey: Path, out: Path, *args: Any) -> Path:
    mapping = [] if survey.stem == "plain" or survey.parent != SURVEYS else \
        ["--mapping", SURVEYS / f"{survey.stem}_mapping.yaml"]
    ok(invoke("score", survey, "-o", out, "--report", "-q", *mapping, *args))
    return out


def club_survey(folder: Path, clubs: dict[str, int]) -> Path:
    """plain.csv's respondents again and again, each row with a club: ``clubs`` says how many
    rows each club has."""
    source = rows(SURVEYS / "plain.csv")
    header = ["respondent_id", "club", *[k for k in source[0] if k != "respondent_id"]]
    lines = [header]
    number = 0
    for club, many in clubs.items():
        for _ in range(many):
            row = source[number % len(source)]
            number += 1
            lines.append([f"p{number:03}", club] + [row[k] for k in header[2:]])
    path = folder / "club.csv"
    with open(path, "w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(lines)
    return path


def contacts(report: Path) -> dict[str, str]:
    """Each respondent the report's contact list names, with the urgency they are listed under."""
    html = report.read_text(encoding="utf-8")
    found = {}
    for part in html.split('data-table="contact-')[1:]:
        urgency, body = part.split('"', 1)
        for ident in re.findall(r'data-respondent="([^"]*)"', body.split("</table>")[0]):
            found[html_unescape(ident)] = urgency
    return found


def number(cell: str) -> int:
    return int(cell.split()[0])


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Path:
    return scored(SURVEYS / "plain.csv", tmp_path_factory.mktemp("plain"))


# ------------------------------------------------------------------ the figures are the tables'

@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_report_counts_what_the_tables_hold(tmp_path, layout):
    out = scored(SURVEYS / f"{layout}.csv", tmp_path)
    page = _Report((out / "report.html").read_text(encoding="utf-8"))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    plans = rows(out / "plans.csv")
    findings = rows(out / "findings.csv")
    items = rows(out / "plan_items.csv")
    # counted again from the long tables, independently of the summary and of the report
    symptoms = Counter(s for p in plans for s in set(filter(None, p["symptoms"].split(";"))))
    causes = Counter(c.split(":")[0] for p in plans for c in filter(None, p["causes"].split(";")))
    assert symptoms == Counter(f["id"] for f in findings if f["kind"] == "symptom")
    assert causes == Counter(f["id"] for f in findings if f["kind"] == "cause")
    categories = Counter(c for _, c in {(i["respondent_id"], i["category"]) for i in items})
    exercises = Counter(i["exercise"] for i in items)
    for kind, counted in (("symptoms", symptoms), ("causes", causes)):
        shown = {key: number(cells[1]) for key, cells in page.tables[kind].items()}
        assert shown == dict(counted) == summary[kind]
        likely = Counter(f["id"] for f in findings if f["kind"] == kind[:-1] and f["certainty"] == "likely")
        assert {key: number(cells[3]) for key, cells in page.tables[kind].items()} == \
            {key: likely[key] for key in counted}
    assert {k: number(c[1]) for k, c in page.tables["categories"].items()} == dict(categories) == \
        summary["categories"]
    assert {k: number(c[2]) for k, c in page.tables["exercises"].items()} == dict(exercises) == \
        summary["exercises"]
    made = [p for p in plans if p["status"] == "plan"]
    balance = page.tables["balance"]
    assert number(balance["plans"][1]) == len(made) == summary["status"].get("plan", 0)
    assert number(balance["balanced"][1]) == sum(p["balanced"] == "true" for p in made)
    used = sum(float(p["total_minutes"]) for p in made)
    assert balance["minutes"][1].split(" / ")[0] == f"{used:g}"
    # who to contact first: exactly the referred respondents, each under their urgency
    referred = {p["respondent_id"] for p in plans if p["status"] == "refer"}
    urgency = {f["respondent_id"]: f["urgency"] for f in findings if f["kind"] == "referral"}
    listed = contacts(out / "report.html")
    assert set(listed) == referred and referred
    assert listed == {ident: urgency[ident] for ident in referred}
    run = page.text
    for figure in (f"Rows in {summary['rows_in']}", f"Scored {summary['scored']}",
                   f"Rejected {summary['rejected']}"):
        assert figure in run


def test_the_run_names_hipcoach_and_the_rule_base(plain, planner):
    page = _Report((plain / "report.html").read_text(encoding="utf-8"))
    assert f"hipcoach {planner.provenance.version}" in page.text
    assert planner.provenance.fingerprint in page.text
    package = json.loads((plain / "datapackage.json").read_text(encoding="utf-8"))
    assert package["hipcoach"] == planner.provenance.as_json()


def test_the_most_urgent_come_first(tmp_path, rulebase):
    survey = tmp_path / "urgent.csv"
    source = (SURVEYS / "plain.csv").read_text(encoding="utf-8").splitlines()
    header, first = source[0], source[1].split(",")
    flags = {"s1": "swelling", "e1": "bladder_or_bowel_change", "d1": "fever_or_unwell"}
    lines = [header] + [",".join([ident, *first[1:3], flag, *first[4:]]) for ident, flag in flags.items()]
    survey.write_text("\n".join(lines) + "\n", encoding="utf-8")
    html = (scored(survey, tmp_path / "out") / "report.html").read_text(encoding="utf-8")
    order = [u.id for u in rulebase.urgencies]
    shown = [u for u in order if f'data-table="contact-{u}"' in html]
    assert len(shown) >= 2
    assert [html.index(f'data-table="contact-{u}"') for u in shown] == \
        sorted(html.index(f'data-table="contact-{u}"') for u in shown)


def test_rule_coverage_lists_the_rules_that_never_fired(tmp_path, rulebase):
    out = tmp_path / "out"
    ok(invoke("score", SURVEYS / "plain.csv", "-o", out, "--report", "--traces", "-q"))
    page = _Report((out / "report.html").read_text(encoding="utf-8"))
    fired = set()
    for line in (out / "traces.jsonl").read_text(encoding="utf-8").splitlines():
        fired |= {e["rule"] for e in json.loads(line)["events"] if e["event"] == "fire"}
    assert set(page.tables["never_fired"]) == {r.id for r in rulebase.rules} - fired
    # what plans left out, and why, as the traced plans hold it
    dropped = Counter()
    for line in (out / "traces.jsonl").read_text(encoding="utf-8").splitlines():
        dropped.update({d["kind"] for d in json.loads(line)["plan"]["dropped"]})
    assert {k: number(c[1]) for k, c in page.tables["dropped_by_reason"].items()} == dict(dropped)
    assert fired  # and a traced run counts as an untraced one
    untraced = _Report((scored(SURVEYS / "plain.csv", tmp_path / "plain") / "report.html")
                       .read_text(encoding="utf-8"))
    assert untraced.tables["never_fired"] == page.tables["never_fired"]


def test_the_report_is_the_same_byte_for_byte(plain, tmp_path):
    again = scored(SURVEYS / "plain.csv", tmp_path)
    for name in ("report.html", "datapackage.json", "findings.csv"):
        assert (again / name).read_bytes() == (plain / name).read_bytes()


def test_charts_are_inline_svg_with_words_and_their_numbers(plain):
    html = (plain / "report.html").read_text(encoding="utf-8")
    page = _Report(html)
    assert page.svgs >= 4 and html.count("<figure>") == page.svgs
    assert html.count('<svg role="img"') == page.svgs
    assert html.count("<desc>") == page.svgs and html.count("<figcaption>") == page.svgs
    assert "Hip stiffness" in page.svg_texts or any("Hip stiffness" in t for t in page.svg_texts)
    assert "xlink:href=\"http" not in html and "<script" not in html and "<img" not in html
    assert 'content="default-src \'none\'; style-src \'unsafe-inline\'"' in html


# ------------------------------------------------------------------------------------- groups

def test_groups_under_five_are_masked(tmp_path):
    survey = club_survey(tmp_path, {"Harriers": 7, "Striders": 3, "Joggers": 5})
    out = scored(survey, tmp_path / "out", "--group-by", "club")
    page = _Report((out / "report.html").read_text(encoding="utf-8"))
    groups = page.tables["groups"]
    assert groups["Striders"][1:] == [FEWER] * 4
    assert groups["Harriers"][1] == "7" and groups["Joggers"][1] == "5"
    for table in ("symptoms_by_group", "causes_by_group"):
        # columns in name order: Harriers, Joggers, Striders
        assert all(cells[3] == FEWER for cells in page.tables[table].values())
        assert all(FEWER not in cells[1:3] for cells in page.tables[table].values())
    assert "Striders" not in " ".join(page.svg_texts)  # left out of the charts too
    assert "Harriers" in " ".join(page.svg_texts)
    # the group's respondents are still counted in the whole survey's figures
    assert sum(number(c[1]) for c in groups.values() if c[1] != FEWER) == 12
    assert json.loads((out / "summary.json").read_text())["scored"] == 15
    kept = rows(out / "plans.csv")
    assert list(kept[0])[:2] == ["respondent_id", "club"]
    assert Counter(r["club"] for r in kept) == {"Harriers": 7, "Striders": 3, "Joggers": 5}


def test_the_small_cell_rule_can_be_turned_off(tmp_path):
    survey = club_survey(tmp_path, {"Harriers": 7, "Striders": 3})
    out = scored(survey, tmp_path / "out", "--group-by", "club", "--no-small-cell-rule")
    page = _Report((out / "report.html").read_text(encoding="utf-8"))
    assert page.tables["groups"]["Striders"][1] == "3"
    assert FEWER not in page.text
    assert "Striders" in " ".join(page.svg_texts)


def test_a_group_counts_what_its_rows_hold(tmp_path):
    survey = club_survey(tmp_path, {"Harriers": 8, "Striders": 6})
    out = scored(survey, tmp_path / "out", "--group-by", "club")
    page = _Report((out / "report.html").read_text(encoding="utf-8"))
    plans = rows(out / "plans.csv")
    for position, club in enumerate(("Harriers", "Striders"), start=1):
        mine = [p for p in plans if p["club"] == club]
        counted = Counter(s for p in mine for s in filter(None, p["symptoms"].split(";")))
        for key, cells in page.tables["symptoms_by_group"].items():
            assert number(cells[position]) == counted[key]
        referred = sum(p["status"] == "refer" for p in mine)
        assert number(page.tables["groups"][club][2]) == referred
        items = [i for i in rows(out / "plan_items.csv") if i["respondent_id"] in {p["respondent_id"] for p in mine}]
        per_category = Counter(c for _, c in {(i["respondent_id"], i["category"]) for i in items})
        assert {k: number(c[position]) for k, c in page.tables["categories_by_group"].items()} == \
            dict(per_category)


def test_numbers_are_grouped_in_the_bands_the_rules_tell_apart(tmp_path, kb, rulebase):
    out = scored(SURVEYS / "plain.csv", tmp_path, "--group-by", "age", "--no-small-cell-rule")
    page = _Report((out / "report.html").read_text(encoding="utf-8"))
    # the rules compare age at 16 and 18 (triage, advice), 40 (symptoms) and 65: the survey's
    # runners, 23 to 52, fall in two of those bands
    assert list(page.tables["groups"]) == ["18–39", "40–64"]
    compared = Profiler(rulebase, kb).compared
    assert Bands(kb.questions["age"], compared["age"]).labels == \
        ["12–15", "16–17", "18–39", "40–64", "65–100"]
    km = Bands(kb.questions["weekly_km"], compared["weekly_km"])
    assert km.labels[:2] == ["0", "over 0 to under 30"] and km.labels[-1] == "60 to 300"
    assert [km.label(v) for v in (0, 0.5, 29.9, 30, 59, 60, 300)] == \
        ["0", "over 0 to under 30", "over 0 to under 30", "30 to under 60", "30 to under 60",
         "60 to 300", "60 to 300"]


def test_hostile_group_names_are_escaped_and_stay_words(tmp_path):
    survey = club_survey(tmp_path, {HOSTILE: 6, "=HYPERLINK(\"http://x\")": 5})
    out = scored(survey, tmp_path / "out", "--group-by", "club")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;$5k&amp;" in html
    assert HOSTILE in " ".join(_Report(html).svg_texts)  # not read as mathematics
    assert {r["club"] for r in rows(out / "plans.csv")} == {HOSTILE, "'=HYPERLINK(\"http://x\")"}


def test_keep_carries_columns_and_says_which_are_missing(tmp_path):
    survey = club_survey(tmp_path, {"Harriers": 2})
    out = tmp_path / "out"
    warned = ok(invoke("score", survey, "-o", out, "--keep", "club", "--keep", "age")).stderr
    assert "ignoring" not in warned  # a kept column is not ignored
    assert list(rows(out / "plans.csv")[0])[:3] == ["respondent_id", "club", "age"]
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert [f["name"] for f in package["resources"][0]["schema"]["fields"]][:3] == \
        ["respondent_id", "club", "age"]
    result = invoke("score", survey, "-o", tmp_path / "x", "--keep", "team")
    assert result.exit_code == 2 and "--keep" in result.stderr and "'club'" in result.stderr
    result = invoke("score", survey, "-o", tmp_path / "x", "--group-by", "status")
    assert result.exit_code == 2 and "--group-by" in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("args,needle", [
    (["-o", "-", "--report"], "--report needs an output folder"),
    (["-o", "-", "--parquet"], "--parquet needs an output folder"),
    (["-o", "OUT", "--no-small-cell-rule"], "--no-small-cell-rule needs --group-by"),
])
def test_options_that_need_others(tmp_path, args, needle):
    args = [str(tmp_path / "o") if a == "OUT" else a for a in args]
    result = invoke("score", SURVEYS / "plain.csv", *args)
    assert result.exit_code == 2 and needle in result.stderr


# ------------------------------------------------------------------------------ nothing scored

def test_a_report_of_a_survey_with_every_row_rejected_says_so(tmp_path):
    source = (SURVEYS / "plain.csv").read_text(encoding="utf-8").splitlines()
    bad = [line.replace(",front,", ",banana,").replace(",none,", ",banana,", 1) for line in source[1:]]
    survey = tmp_path / "bad.csv"
    survey.write_text("\n".join([source[0], *bad]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("score", survey, "-o", out, "--report", "-q")
    assert result.exit_code == 1  # a run that scores no row fails, with its outputs written
    assert "scored 0 of 6 rows: every row was rejected; see errors.csv" in result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scored"] == 0 and summary["rejected"] == 6
    page = _Report((out / "report.html").read_text(encoding="utf-8"))
    assert "No respondent could be scored: all 6 rows were rejected" in page.text
    assert "errors.csv" in page.text and page.svgs == 0


# ------------------------------------------------------------------------ printed in Chromium

@needs_browser
@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_report_prints_with_every_referral(tmp_path, layout):
    out = scored(SURVEYS / f"{layout}.csv", tmp_path / "out")
    printed = _print((out / "report.html").read_text(encoding="utf-8"), tmp_path / "print")
    assert printed["requested"] == []
    assert len(printed["png"]) > 20_000 and _colours(printed["png"]) > 10
    pages = [unicodedata.normalize("NFKC", page) for page in printed["pages"]]  # ligatures: ﬁ
    text = " ".join(pages)
    referred = [p["respondent_id"] for p in rows(out / "plans.csv") if p["status"] == "refer"]
    assert referred and all(ident in text for ident in referred)
    assert "Who to contact first" in pages[0]
    assert "Rule coverage" in text


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_band_is_exactly_a_class_of_values_the_rules_tell_apart(kb, rulebase, data):
    """Two answers fall in one band exactly when every comparison the rules make of them comes
    out the same: the bands are the classes that can change a plan, named."""
    compared = Profiler(rulebase, kb).compared
    answer = data.draw(st.sampled_from(sorted(compared)))
    question = kb.questions[answer]
    values = st.integers(int(question.min), int(question.max)) if question.type == "int" else \
        st.floats(question.min, question.max, allow_nan=False)
    first, second = data.draw(values), data.draw(values)
    bands = Bands(question, compared[answer])
    same_class = all(holds(op, first, t) == holds(op, second, t) for op, t in compared[answer])
    assert (bands.label(first) == bands.label(second)) == same_class
