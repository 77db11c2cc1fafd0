"""Issue 17, GX's fixed costs (pipeline/validation.py): one GX result per source for the staged checks,
the same verdicts as one result per table, Data Docs that still name every table and rule, and
``preload()`` / ``phase_seconds()``.

Real parts: the demo's UN consolidated list parsed by the project's parser into staged Parquet, read as
the run reads it (``flow._staged_frames``: DuckDB relations), checked with the real staged suites.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.settings import REPO_ROOT
from pipeline.validation import phase_seconds, validate_stage

SOURCE = "un_sc"


@pytest.fixture(scope="module")
def staged_un(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    from pipeline.parse import parse_files

    out = tmp_path_factory.mktemp("staged")
    result = parse_files(SOURCE, [REPO_ROOT / "data" / "demo" / "un_sc" / "consolidated.xml"], out)
    return out, result.snapshot_date.isoformat()


def _suites(snapshot: str, max_designations: int = 10**6) -> dict:
    from datetime import date

    from expectations.staged import staged_suites

    return staged_suites(1, max_designations, None, snapshot_date=date.fromisoformat(snapshot))


def _frames(con: duckdb.DuckDBPyConnection, staged: tuple[Path, str], tables: list[str]) -> dict:
    from expectations.staged_alignment import prepare
    from pipeline.flow import _staged_frames

    root, snapshot = staged
    return {t: prepare(t, f) for t, f in _staged_frames(con, root, SOURCE, snapshot, tables).items()}


def _text(page: Path) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))))


def test_one_gx_result_per_source_lists_every_table_and_rule(tmp_path: Path, staged_un: tuple[Path, str]):
    suites = _suites(staged_un[1])
    assert len(suites) > 1
    docs = tmp_path / "gx" / "data_docs"
    con = duckdb.connect()
    try:
        reports = validate_stage("staged", _frames(con, staged_un, list(suites)), suites, docs_dir=docs,
                                 run_name=SOURCE)
    finally:
        con.close()
    # one report per table, as before; each counts its own rules
    assert [r.suite for r in reports] == [s.name for s in suites.values()]
    assert all(r.success and not r.warnings for r in reports)
    assert [r.evaluated for r in reports] == [len(s.expectations) for s in suites.values()]
    # one GX result and one suite page for the source, counting every rule of every table
    rules = sum(len(s.expectations) for s in suites.values())
    summary = json.loads((docs / "index.json").read_text(encoding="utf-8"))
    assert [(r["suite"], r["run_name"], r["evaluated"], r["critical_failed"], r["warnings_failed"])
            for r in summary["results"]] == [(f"staged.{SOURCE}", SOURCE, rules, 0, 0)]
    assert summary["suites"] == [f"expectations/staged/{SOURCE}.html"]
    assert len(list((docs / "validations").rglob("*.html"))) == 1
    page = _text(docs / summary["suites"][0])
    packed = re.sub(r"\s+", "", page)
    for table, suite in suites.items():
        assert f"{table} (suite {suite.name}, {len(suite.expectations)} rules)" in page
        for i, expectation in enumerate(suite.expectations):
            rule = re.sub(r"\s+", "", expectation.meta["rule"].replace("`", ""))  # notes render as Markdown
            assert f"{table} {i}. [" in page and rule in packed, (table, i, rule)


def test_per_source_and_per_table_results_reach_the_same_verdicts(tmp_path: Path, staged_un: tuple[Path, str]):
    """A broken row in one table fails that table's report only, and a warning stays with its own table:
    the same reports, word for word, as with one GX result per table; the source's result page names
    the table and the rule."""
    con = duckdb.connect()
    try:
        frames = _frames(con, staged_un, list(_suites(staged_un[1])))
        designations = frames["designations"].df()
        names = frames["names"].df()
        names.loc[names.index[0], "name"] = None  # a name row without its name: critical in table names
        broken = {**frames, "names": names}
        suites = _suites(staged_un[1], max_designations=len(designations) - 1)  # the maximum only warns
        docs = tmp_path / "gx" / "data_docs"
        combined = validate_stage("staged", broken, suites, docs_dir=docs, run_name=SOURCE, raise_on_failure=False)
        per_table = validate_stage("staged", broken, suites, raise_on_failure=False)
    finally:
        con.close()

    def said(reports: list) -> list:
        return [(r.suite, r.success, r.evaluated, r.failed_critical, r.warnings) for r in reports]

    assert said(combined) == said(per_table)
    by_suite = {r.suite: r for r in combined}
    failed = [r.suite for r in combined if r.failed_critical]
    assert failed == ["staged.names"]
    assert any("expect_column_values_to_not_be_null(column='name')" in failure
               for failure in by_suite["staged.names"].failed_critical)
    assert [r.suite for r in combined if r.warnings] == ["staged.designations"]
    assert "at most" in by_suite["staged.designations"].warnings[0]
    (row,) = json.loads((docs / "index.json").read_text(encoding="utf-8"))["results"]
    assert (row["suite"], row["critical_failed"], row["warnings_failed"]) == (f"staged.{SOURCE}", 1, 1)
    page = _text(docs / row["page"])
    assert "names" in page and "every names row has a name" in page


def test_without_a_run_name_each_table_keeps_its_own_result(tmp_path: Path, staged_un: tuple[Path, str]):
    suites = _suites(staged_un[1])
    docs = tmp_path / "gx" / "data_docs"
    con = duckdb.connect()
    try:
        validate_stage("staged", _frames(con, staged_un, list(suites)), suites, docs_dir=docs)
    finally:
        con.close()
    summary = json.loads((docs / "index.json").read_text(encoding="utf-8"))
    assert sorted(r["suite"] for r in summary["results"]) == sorted(s.name for s in suites.values())


def test_phase_seconds_name_where_validation_time_goes(tmp_path: Path):
    from expectations import gx_modules, stage_suites

    _gx, gxe = gx_modules()
    suite = stage_suites("marts", {"things": [gxe.ExpectColumnValuesToNotBeNull(column="id")]})["things"]
    phase_seconds(reset=True)
    validate_stage("marts", {"things": pd.DataFrame({"id": [1, 2, 3]})}, {"things": suite},
                   docs_dir=tmp_path / "gx" / "data_docs")
    phases = phase_seconds(reset=True)
    assert {"rules", "gx", "docs"} <= set(phases) and all(phases[k] > 0 for k in ("rules", "gx", "docs"))
    assert phase_seconds() == {}


_PRELOAD = """
import sys
from pipeline import validation
assert 'great_expectations' not in sys.modules
thread = validation.preload()
print('thread', thread is not None and validation.preload() is thread)
from expectations import gx_modules, stage_suites  # waits for the import in progress, never imports twice
import pandas as pd
_gx, gxe = gx_modules()
suite = stage_suites('marts', {'t': [gxe.ExpectColumnValuesToNotBeNull(column='id')]})['t']
(report,) = validation.validate_stage('marts', {'t': pd.DataFrame({'id': [1, None]})}, {'t': suite},
                                      raise_on_failure=False)
print('verdict', report.success, len(report.failed_critical))
if thread is not None:
    thread.join()
print('again', validation.preload())
print('phases', sorted(validation.phase_seconds()))
"""


@pytest.mark.parametrize("preload", ["1", "0"])
def test_preload_imports_gx_in_the_background_once(preload: str):
    env = {**os.environ, "PIPELINE_GX_PRELOAD": preload}
    out = subprocess.run([sys.executable, "-c", _PRELOAD], capture_output=True, text=True, cwd=REPO_ROOT, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.strip().splitlines())
    assert lines["thread"] == ("True" if preload == "1" else "False")
    assert lines["verdict"] == "False 1"  # the null id fails, whoever imported GX
    assert lines["again"] == "None"
    assert ("'import_background'" in lines["phases"]) == (preload == "1")
    assert "'import'" in lines["phases"]  # the wait (or the import itself) on the caller's side


def test_result_name_judges_every_table_in_one_gx_result(tmp_path: Path):
    """``result_name`` (offered for the marts: one GX result instead of one per mart) reaches the same
    reports, word for word, as one result per table, and Data Docs list that one result."""
    from expectations import gx_modules, stage_suites

    _gx, gxe = gx_modules()
    suites = stage_suites("marts", {
        "first": [gxe.ExpectColumnValuesToNotBeNull(column="id", meta={"rule": "id is never null"}),
                  gxe.ExpectTableRowCountToBeBetween(min_value=5, severity="warning",
                                                     meta={"rule": "first has at least 5 rows"})],
        "second": [gxe.ExpectColumnValuesToBeBetween(column="share", min_value=0, max_value=1,
                                                     meta={"rule": "share is within [0, 1]"})],
    })
    frames = {"first": pd.DataFrame({"id": [1, 2, 3]}), "second": pd.DataFrame({"share": [0.5, 1.5, None]})}
    docs = tmp_path / "gx" / "data_docs"
    one = validate_stage("marts", frames, suites, docs_dir=docs, result_name="marts", raise_on_failure=False)
    per_table = validate_stage("marts", frames, suites, raise_on_failure=False)

    def said(reports: list) -> list:
        return [(r.suite, r.success, r.evaluated, r.failed_critical, r.warnings) for r in reports]

    assert said(one) == said(per_table)
    assert [(r.suite, bool(r.failed_critical), bool(r.warnings)) for r in one] == [
        ("marts.first", False, True), ("marts.second", True, False)]
    failure = one[1].failed_critical[0]
    assert "1 of 3 rows unexpected (50.0%), e.g. 1.5 x1 — share is within [0, 1]" in failure  # of the 2 non-null
    summary = json.loads((docs / "index.json").read_text(encoding="utf-8"))
    assert [(r["suite"], r["evaluated"], r["critical_failed"], r["warnings_failed"]) for r in summary["results"]] == [
        ("marts", 3, 1, 1)]
    assert summary["suites"] == ["expectations/marts.html"]
    page = _text(docs / summary["results"][0]["page"])
    assert "second" in page and "share is within [0, 1]" in page
