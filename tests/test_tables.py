"""hipcoach.batch.tables, findings and outputs: findings.csv, datapackage.json (checked by the
Frictionless validator against the files it describes) and the Parquet copies of the tables."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from clirunner import invoke, ok
from conftest import EXAMPLES
from hipcoach.batch import outputs
from hipcoach.batch.score import ERROR_COLUMNS, Options
from hipcoach.batch.tables import tables
from hipcoach.errors import ExtraError

SURVEYS = EXAMPLES / "surveys"


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """The Google example, with a rejected row added, a kept column and every optional output."""
    folder = tmp_path_factory.mktemp("tables")
    lines = (SURVEYS / "google.csv").read_text(encoding="utf-8").splitlines()
    bad = lines[1].replace(",34,", ",not a number,", 1)
    survey = folder / "google.csv"
    survey.write_text("\n".join(lines + [bad]) + "\n", encoding="utf-8")
    out = folder / "out"
    ok(invoke("score", survey, "-o", out, "--mapping", SURVEYS / "google_mapping.yaml", "-q",
              "--keep", "Timestamp", "--report", "--parquet", "--traces"))
    return out


def test_the_data_package_validates_against_the_files(run):
    import frictionless

    report = frictionless.validate(run / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = json.loads((run / "datapackage.json").read_text(encoding="utf-8"))
    described = {r["path"] for r in package["resources"]}
    assert described == {p.name for p in run.iterdir()} - {"datapackage.json"}


def test_the_validator_catches_a_table_that_breaks_its_description(run, tmp_path):
    """Guards the test above: a value outside a column's allowed values fails validation."""
    import shutil

    import frictionless

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    plans = (copy / "plans.csv").read_text(encoding="utf-8")
    (copy / "plans.csv").write_text(plans.replace(",plan,", ",maybe,", 1), encoding="utf-8")
    assert not frictionless.validate(copy / "datapackage.json").valid


def test_every_table_is_described_column_by_column(run, kb, rulebase):
    package = json.loads((run / "datapackage.json").read_text(encoding="utf-8"))
    for resource in package["resources"]:
        if resource["path"].endswith(".csv"):
            header = (run / resource["path"]).read_text(encoding="utf-8").splitlines()[0].split(",")
            assert [f["name"] for f in resource["schema"]["fields"]] == header
            assert all(f["description"] for f in resource["schema"]["fields"])
    errors = next(t for t in tables(kb, rulebase) if t.path == "errors.csv")
    assert tuple(f.name for f in errors.fields) == ERROR_COLUMNS


def test_findings_are_one_row_per_respondent_and_finding(run):
    plans = {p["respondent_id"]: p for p in rows(run / "plans.csv")}
    findings = rows(run / "findings.csv")
    assert list(findings[0]) == ["respondent_id", "kind", "id", "confidence", "certainty", "urgency"]
    for ident, plan in plans.items():
        mine = [f for f in findings if f["respondent_id"] == ident]
        assert [f["id"] for f in mine if f["kind"] == "referral"] == \
            list(filter(None, plan["referral_reasons"].split(";")))
        assert [f["id"] for f in mine if f["kind"] == "symptom"] == \
            list(filter(None, plan["symptoms"].split(";")))
        assert [f"{f['id']}:{f['confidence']}" for f in mine if f["kind"] == "cause"] == \
            list(filter(None, plan["causes"].split(";")))
        assert all(f["urgency"] for f in mine if f["kind"] == "referral")
        assert all(f["certainty"] for f in mine if f["kind"] in ("symptom", "cause"))
    traced = {json.loads(line)["respondent"]: json.loads(line)["plan"]
              for line in (run / "traces.jsonl").read_text(encoding="utf-8").splitlines()}
    for ident, plan in traced.items():
        assert [f["id"] for f in findings if f["respondent_id"] == ident and f["kind"] == "advice"] \
            == [a["id"] for a in plan["advice"]]
    assert set(plans) == set(traced)


def test_parquet_holds_the_csv_tables_with_their_types(run):
    import pandas as pd

    for name in ("plans", "plan_items", "findings", "errors"):
        from_csv = pd.read_csv(run / f"{name}.csv", dtype=str, keep_default_na=False)
        parquet = pd.read_parquet(run / f"{name}.parquet")
        assert list(parquet.columns) == list(from_csv.columns)
        assert len(parquet) == len(from_csv)
        as_text = parquet.astype(object).where(parquet.notna(), "")
        for column in parquet.columns:
            shown = [str(v).lower() if isinstance(v, bool) else
                     (f"{v:g}" if isinstance(v, float) else str(v)) for v in as_text[column]]
            assert shown == [f"{float(v):g}" if v and parquet[column].dtype == float else v
                             for v in from_csv[column]], (name, column)
    assert str(pd.read_parquet(run / "plans.parquet")["balanced"].dtype) == "bool"


def test_a_run_without_the_options_removes_their_old_files(run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    ok(invoke("score", SURVEYS / "plain.csv", "-o", copy, "-q"))
    assert sorted(p.name for p in copy.iterdir()) == [
        "datapackage.json", "errors.csv", "findings.csv", "plan_items.csv", "plans.csv", "summary.json"]
    package = json.loads((copy / "datapackage.json").read_text(encoding="utf-8"))
    assert {r["path"] for r in package["resources"]} == {p.name for p in copy.iterdir()} - {"datapackage.json"}


def test_a_missing_extra_is_named_before_anything_is_read(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyarrow", None)  # what an install without it imports
    with pytest.raises(ExtraError) as caught:
        outputs.require(Options(parquet=True))
    assert caught.value.extra == "parquet" and "pip install 'hipcoach[parquet]'" in str(caught.value)
    outputs.require(Options(report=True))  # the report needs nothing more
