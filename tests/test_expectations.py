"""Great Expectations suites (expectations/*) and the runner (pipeline/validation.py).

Every suite runs once on a frame that must pass and once on one that must fail, and the failure
must name the suite, the expectation type and the column. The mart suites are tested in
tests/test_mart_suites.py.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import date

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pytest  # noqa: E402

from expectations.raw import INDEX_COLUMNS, MAX_FILES_NAMED, offending_files, raw_files_suite  # noqa: E402
from expectations.staged import staged_suites  # noqa: E402
from pipeline.errors import ValidationFailed  # noqa: E402
from pipeline.staged import SCHEMAS  # noqa: E402
from pipeline.validation import (  # noqa: E402
    SuiteReport,
    check,
    validate_frame,
    validate_stage,
)

SHA_A = "3f" * 32
SHA_B = "0a" * 32
SNAPSHOT = date(2024, 5, 1)


# --------------------------------------------------------------------------- frames


def raw_files(**overrides: list) -> pd.DataFrame:
    rows = {
        "source": ["us_ofac_sdn", "un_sc"],
        "name": ["sdn.csv", "consolidated.xml"],
        "sha256": [SHA_A, SHA_B],
        "bytes": [1_234_567, 2_345_678],
        "kind": ["csv", "xml"],
        "expected_kind": ["csv", "xml"],
        "root": [None, "CONSOLIDATED_LIST"],
        "expected_roots": ["", "CONSOLIDATED_LIST"],
        "root_ok": [True, True],
        "has_doctype": [False, False],
    }
    rows.update(overrides)
    return pd.DataFrame(rows)


def staged_table(table: str, rows: list[dict]) -> pd.DataFrame:
    """Rows as they come back from the staged Parquet (pyarrow types), plus source/snapshot."""
    lineage = {"raw_sha256": SHA_A, "raw_file": "sdn.csv"}
    full = [{**lineage, **r} for r in rows]
    df = pa.Table.from_pylist(full, schema=SCHEMAS[table]).to_pandas()
    df["source"] = "us_ofac_sdn"
    df["snapshot_date"] = SNAPSHOT
    return df


def designation(i: int, **overrides) -> dict:
    row = {
        "designation_id": f"us_ofac_sdn:{i}:2024-05-01",
        "authority": "us_ofac",
        "list": "SDN",
        "source_record_id": str(i),
        "entity_key": f"us_ofac_sdn:{i}",
        "entity_type": "organization",
        "primary_name": f"AEROCARIBBEAN AIRLINES {i}",
        "programs": ["CUBA"],
        "listed_on": date(2001, 9, 23),
        "reference_number": None,
        "remarks": None,
    }
    row.update(overrides)
    return row


def designations(n: int = 3, **overrides) -> pd.DataFrame:
    rows = [designation(i) for i in range(1, n + 1)]
    rows[0].update(overrides)
    return staged_table("designations", rows)


def staged_frames(**replace: pd.DataFrame) -> dict[str, pd.DataFrame]:
    frames = {
        "designations": designations(),
        "names": staged_table(
            "names",
            [
                {
                    "entity_key": "us_ofac_sdn:1",
                    "source_record_id": "1",
                    "name": "AEROCARIBBEAN AIRLINES",
                    "name_type": "primary",
                    "quality": None,
                },
                {
                    "entity_key": "us_ofac_sdn:1",
                    "source_record_id": "1",
                    "name": "AERO-CARIBBEAN",
                    "name_type": "aka",
                    "quality": "strong",
                },
            ],
        ),
        "country_links": country_links(["CU", "CU"]),
        "identifiers": staged_table(
            "identifiers",
            [
                {
                    "entity_key": "us_ofac_sdn:2",
                    "source_record_id": "2",
                    "id_type": "imo",
                    "id_value": "9187629",
                    "country_iso2": None,
                    "raw_type": "Vessel Registration",
                }
            ],
        ),
        "relations": staged_table(
            "relations",
            [
                {
                    "entity_key": "us_ofac_sdn:2",
                    "source_record_id": "2",
                    "related_entity_key": "us_ofac_sdn:1",
                    "related_name": None,
                    "relation_type": "owned_by",
                    "raw_relation": "Linked To",
                }
            ],
        ),
        "birth_dates": staged_table(
            "birth_dates",
            [
                {
                    "entity_key": "us_ofac_sdn:3",
                    "source_record_id": "3",
                    "birth_date": None,
                    "year_from": 1969,
                    "year_to": 1971,
                    "month": None,
                    "day": None,
                    "raw_value": "circa 1970",
                    "approximate": True,
                }
            ],
        ),
        "parse_audit": pd.DataFrame({"rule": ["unknown_field"], "occurrences": [1]}),
    }
    frames.update(replace)
    return frames


def country_links(codes: list[str | None]) -> pd.DataFrame:
    return staged_table(
        "country_links",
        [
            {
                "entity_key": f"us_ofac_sdn:{i}",
                "source_record_id": str(i),
                "link_type": "nationality",
                "country_iso2": code,
                "region": None,
                "raw_value": code or "Atlantis",
            }
            for i, code in enumerate(codes, start=1)
        ],
    )


def suites(**kw) -> dict:
    params = {"min_designations": 1, "max_designations": 100, "previous_designations": None}
    params.update(kw)
    return staged_suites(**params)


def fails(stage: str, frames: dict, suite_map: dict, *needles: str) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        validate_stage(stage, frames, suite_map)
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in:\n{message}"
    return info.value


# --------------------------------------------------------------------------- raw


def test_raw_suite_passes_on_good_files():
    (report,) = validate_stage("raw", {"files": raw_files()}, {"files": raw_files_suite()})
    assert report.suite == "raw.files"
    assert report.success and not report.failed_critical and not report.warnings
    assert report.evaluated >= 10


def test_raw_suite_fails_on_html_error_page():
    df = raw_files(kind=["csv", "html"], root=[None, "html"], root_ok=[True, False])
    err = fails(
        "raw",
        {"files": df},
        {"files": raw_files_suite()},
        "raw.files",
        "expect_column_pair_values_to_be_equal",
        "'kind'",
        "root_ok",
        "'html'",
    )
    assert len(err.failures) == 2


def test_raw_suite_fails_on_doctype():
    df = raw_files(has_doctype=[False, True])
    err = fails(
        "raw",
        {"files": df},
        {"files": raw_files_suite()},
        "raw.files",
        "expect_column_values_to_be_in_set",
        "has_doctype",
        "no raw XML file declares a DOCTYPE",
    )
    assert len(err.failures) == 1


def test_raw_suite_fails_on_bad_hash_tiny_file_duplicate_and_no_rows():
    df = raw_files(sha256=["NOT-A-HASH", SHA_B], bytes=[10, 2_345_678])
    fails(
        "raw",
        {"files": df},
        {"files": raw_files_suite()},
        "expect_column_values_to_match_regex",
        "sha256",
        "expect_column_values_to_be_between",
        "bytes",
    )
    dup = raw_files(source=["un_sc", "un_sc"], sha256=[SHA_B, SHA_B])
    fails(
        "raw", {"files": dup}, {"files": raw_files_suite()}, "expect_compound_columns_to_be_unique"
    )
    fails(
        "raw",
        {"files": raw_files().iloc[0:0]},
        {"files": raw_files_suite()},
        "expect_table_row_count_to_be_between",
        "observed 0",
    )


def test_raw_failure_names_the_failing_rows_from_one_report():
    df = raw_files(source=["un_sc", "un_sc"], sha256=[SHA_B, SHA_B], bytes=[10, 2_345_678])
    (report,) = validate_stage("raw", {"files": df}, {"files": raw_files_suite()}, index_columns=INDEX_COLUMNS,
                               raise_on_failure=False)
    assert not report.success and len(report.unexpected_rows) == len(report.failed_critical) == 2
    tiny, dup = report.failed_critical
    assert "bytes" in tiny and "failing rows: source='un_sc' name='sdn.csv' kind='csv'" in tiny
    assert "consolidated.xml" not in tiny
    assert report.unexpected_rows[0] == [{"source": "un_sc", "name": "sdn.csv", "kind": "csv"}]
    assert "expect_compound_columns_to_be_unique" in dup and "name='sdn.csv'" in dup and "consolidated.xml" in dup
    assert offending_files(report.unexpected_rows, len(df)) == (
        "2 of 2 files: source un_sc file 'sdn.csv' (sniffed: csv); source un_sc file 'consolidated.xml' (sniffed: xml)")
    # a table-level failure has no rows to name
    (empty,) = validate_stage("raw", {"files": raw_files().iloc[0:0]}, {"files": raw_files_suite()},
                              index_columns=INDEX_COLUMNS, raise_on_failure=False)
    assert empty.unexpected_rows == [[]] and offending_files(empty.unexpected_rows, 0) == "the set of files"


def test_raw_failure_headline_is_capped_but_counts_every_file():
    n = MAX_FILES_NAMED + 7
    rows = [[{"source": "articles", "name": f"a{i}.md", "kind": "empty"} for i in range(n)]]
    text = offending_files(rows + rows, 10_000)  # a file breaking two rules is named once
    assert text.startswith(f"{n} of 10,000 files: source articles file 'a0.md' (sniffed: empty); ")
    assert text.count("source articles file") == MAX_FILES_NAMED and text.endswith("; and 7 more")


ARTICLE = ("---\nurl: https://example.org/{i}\ntitle: Article {i}\npublished: 2024-05-01\npublisher: Example\n"
           "---\n{body}\n")
HTML_PAGE = ("<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
             "<body>The service is temporarily unavailable.</body></html>")


def _land_articles(home, folder, n: int, bad: dict[int, str]) -> list[dict]:
    """Land ``n`` small article files (the ones in ``bad`` replaced by that content) as one batch."""
    from pipeline import raw

    folder.mkdir()
    for i in range(n):
        text = bad.get(i, ARTICLE.format(i=i, body=f"Ministers met on {i} May to discuss trade."))
        (folder / f"article_{i:05d}.md").write_text(text, encoding="utf-8")
    files = [raw.land("articles", str(p), home).to_dict() for p in sorted(folder.iterdir())]
    return [{"source": "articles", "demo": False, "files": files}]


@pytest.fixture
def gx_passes(monkeypatch):
    """How many times Great Expectations validated a batch (its ValidationDefinition.run, still run)."""
    import great_expectations as gx

    calls: list[int] = []
    real = gx.ValidationDefinition.run

    def counted(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(gx.ValidationDefinition, "run", counted)
    return calls


def test_raw_check_finds_the_bad_files_among_2000_in_one_pass(home, tmp_path, gx_passes):
    from pipeline import flow

    batches = _land_articles(home, tmp_path / "articles", 2000, {137: "", 1642: HTML_PAGE})
    with pytest.raises(ValidationFailed) as info:
        flow.check_raw(batches, home)
    assert len(gx_passes) == 1  # one validation of all 2,000 files, no re-check file by file
    err = info.value
    assert err.suite == ("raw.files [2 of 2,000 files: source articles file 'article_00137.md' (sniffed: empty); "
                         "source articles file 'article_01642.md' (sniffed: html)]")
    named = {m for f in err.failures for m in re.findall(r"name='([^']+)'", f)}
    assert named == {"article_00137.md", "article_01642.md"}
    tiny, kind = err.failures
    assert "a raw file has at least 64 bytes" in tiny and "article_00137.md" in tiny and "article_01642" not in tiny
    assert "1 of 2000 rows unexpected (0.05%)" in tiny
    assert "the sniffed file kind is the kind the source publishes" in kind
    assert "name='article_00137.md' kind='empty'" in kind and "name='article_01642.md' kind='html'" in kind
    assert err.data_docs and "last good publication is unchanged" in str(err)


def test_raw_check_passes_2000_good_files_in_one_pass(home, tmp_path, gx_passes):
    from pipeline import flow

    batches = _land_articles(home, tmp_path / "articles", 2000, {})
    assert flow.check_raw(batches, home) == {"files": 2000, "suites": ["raw.files"]}
    assert len(gx_passes) == 1


# --------------------------------------------------------------------------- staged


def test_staged_suites_pass_on_good_tables():
    reports = validate_stage("staged", staged_frames(), suites(snapshot_date=SNAPSHOT))
    assert [r.suite for r in reports] == [
        "staged.designations",
        "staged.names",
        "staged.country_links",
        "staged.identifiers",
        "staged.relations",
        "staged.birth_dates",
    ]
    assert all(r.success and not r.warnings for r in reports)


def test_staged_designations_accepts_duckdb_style_datetime_dates():
    df = designations()
    df["listed_on"] = pd.to_datetime(df["listed_on"])
    report = validate_frame(suites()["designations"], df)
    assert report.success, report.failed_critical


def test_staged_designations_fails_on_unknown_entity_type():
    frames = staged_frames(designations=designations(entity_type="ship"))
    err = fails(
        "staged",
        frames,
        suites(),
        "staged.designations",
        "expect_column_values_to_be_in_set",
        "entity_type",
        "'ship'",
    )
    assert err.suite == "staged.designations"
    assert len(err.failures) == 1


def test_staged_designations_fails_on_each_row_rule():
    df = designations(
        designation_id="us_ofac_sdn:2:2024-05-01",
        primary_name="",
        listed_on=date(1900, 1, 1),
        authority=None,
    )
    df.loc[2, "raw_sha256"] = "deadbeef"
    err = fails(
        "staged",
        staged_frames(designations=df),
        suites(),
        "expect_column_values_to_be_unique",
        "designation_id",
        "expect_column_values_to_not_be_null",
        "authority",
        "expect_column_value_lengths_to_be_between",
        "primary_name",
        "expect_column_values_to_be_between",
        "listed_on",
        "1900-01-01",
        "expect_column_values_to_match_regex",
        "raw_sha256",
    )
    assert len(err.failures) == 5


def test_staged_listed_on_after_snapshot_fails():
    df = designations(listed_on=date(2024, 6, 1))
    fails(
        "staged",
        staged_frames(designations=df),
        suites(snapshot_date=SNAPSHOT),
        "listed_on",
        "max_value=2024-05-01",
    )


def test_max_designations_breach_only_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="pipeline.validation"):
        reports = validate_stage("staged", staged_frames(), suites(max_designations=2))
    (report,) = [r for r in reports if r.suite == "staged.designations"]
    assert report.success and not report.failed_critical
    assert len(report.warnings) == 1
    assert "expect_table_row_count_to_be_between(max_value=2): observed 3" in report.warnings[0]
    assert any(
        rec.levelno == logging.WARNING and "max_value=2" in rec.getMessage()
        for rec in caplog.records
    )


def test_too_few_designations_fails_critically():
    fails(
        "staged",
        staged_frames(),
        suites(min_designations=10),
        "staged.designations",
        "min_value=10",
        "observed 3",
    )


def test_list_shrinking_below_80_percent_of_previous_fails():
    frames = staged_frames(designations=designations(100))
    err = fails(
        "staged",
        frames,
        suites(previous_designations=300),
        "staged.designations",
        "expect_table_row_count_to_be_between",
        "min_value=240",
        "observed 100",
        "never taken as everything was delisted",
    )
    assert len(err.failures) == 1
    # 80% of the previous count is still fine.
    validate_stage(
        "staged",
        staged_frames(designations=designations(240)),
        suites(previous_designations=300, max_designations=1000),
    )


def test_staged_names_fail_on_unknown_name_type():
    df = staged_table(
        "names",
        [
            {
                "entity_key": "us_ofac_sdn:1",
                "source_record_id": "1",
                "name": "AERO",
                "name_type": "nickname",
                "quality": None,
            }
        ],
    )
    fails(
        "staged",
        staged_frames(names=df),
        suites(),
        "staged.names",
        "expect_column_values_to_be_in_set",
        "name_type",
        "'nickname'",
    )


def test_fake_country_code_fails():
    err = fails(
        "staged",
        staged_frames(country_links=country_links(["CU", "00"])),
        suites(),
        "staged.country_links",
        "expect_column_values_to_not_be_in_set",
        "country_iso2",
        "'00'",
    )
    assert len(err.failures) == 2  # '00' is not two letters either
    err = fails(
        "staged",
        staged_frames(country_links=country_links(["CU", "XX"])),
        suites(),
        "expect_column_values_to_not_be_in_set",
        "'XX'",
    )
    assert len(err.failures) == 1  # 'XX' looks like a code: only the placeholder rule catches it
    fails(
        "staged",
        staged_frames(country_links=country_links(["CU", "usa"])),
        suites(),
        "expect_column_values_to_match_regex",
        "country_iso2",
        "'usa'",
    )


def test_unmapped_countries_only_warn():
    codes = ["CU"] * 8 + [None] * 2  # 80% mapped < mostly=0.9
    reports = validate_stage("staged", staged_frames(country_links=country_links(codes)), suites())
    (report,) = [r for r in reports if r.suite == "staged.country_links"]
    assert report.success
    assert len(report.warnings) == 1
    assert "expect_column_values_to_not_be_null" in report.warnings[0]
    assert "2 of 10 rows are null" in report.warnings[0]


def test_staged_identifiers_fail_on_missing_value():
    df = staged_frames()["identifiers"]
    df.loc[0, "id_value"] = None
    fails(
        "staged",
        staged_frames(identifiers=df),
        suites(),
        "staged.identifiers",
        "expect_column_values_to_not_be_null",
        "id_value",
    )


def test_staged_relations_fail_on_unknown_relation_type():
    df = staged_frames()["relations"]
    df.loc[0, "relation_type"] = "friend_of"
    fails(
        "staged",
        staged_frames(relations=df),
        suites(),
        "staged.relations",
        "expect_column_values_to_be_in_set",
        "relation_type",
        "'friend_of'",
    )


def test_missing_table_or_column_is_critical():
    frames = staged_frames()
    del frames["relations"]
    fails("staged", frames, suites(), "staged.relations", "was not provided")
    names = staged_frames()["names"].drop(columns=["name_type"])
    fails(
        "staged",
        staged_frames(names=names),
        suites(),
        "staged.names",
        "expect_table_columns_to_match_set",
        "missing columns ['name_type']",
    )


def test_suite_names_must_match_stage_and_table():
    with pytest.raises(ValueError, match="expected 'marts.designations'"):
        validate_stage("marts", staged_frames(), suites())


# --------------------------------------------------------------------------- runner


def test_failure_message_format_and_check():
    report = validate_frame(suites()["designations"], designations(entity_type="ship"))
    assert not report.success
    (line,) = report.failed_critical
    assert line.startswith("expect_column_values_to_be_in_set(column='entity_type', value_set=[")
    assert "batch_id" not in line
    assert "1 of 3 rows unexpected" in line and "'ship'" in line
    assert line.endswith("— entity_type is one of person, organization, vessel, aircraft, other")
    check([SuiteReport("ok", True, 3, [], ["a warning"])])  # warnings never raise
    with pytest.raises(ValidationFailed, match="staged.designations"):
        check([SuiteReport("ok", True, 3), report])


def test_same_suite_runs_twice_in_one_process():
    for _ in range(2):
        validate_stage("staged", staged_frames(), suites())
    assert not validate_frame(suites()["designations"], designations(entity_type="ship")).success
    assert validate_frame(suites()["designations"], designations()).success


def test_validation_is_quiet(capsys):
    validate_frame(raw_files_suite(), raw_files())
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_data_docs_are_built(tmp_path):
    docs = tmp_path / "docs"
    reports = validate_stage("staged", staged_frames(), suites(), docs_dir=docs)
    index = docs / "index.html"
    assert index.is_file()
    assert all(r.data_docs == str(index.resolve()) for r in reports)
    assert list((docs / "validations").rglob("*.html"))
    # A failing run links its Data Docs from the error.
    with pytest.raises(ValidationFailed) as info:
        validate_stage(
            "raw",
            {"files": raw_files(has_doctype=[True, False])},
            {"files": raw_files_suite()},
            docs_dir=docs,
        )
    assert info.value.data_docs == str(index.resolve())
    assert "Data Docs: " in str(info.value)
    assert "raw.files" in index.read_text()


# --------------------------------------------------------------------------- rules in DuckDB, verdict in GX


def test_a_duckdb_relation_is_checked_without_reading_it_into_pandas(tmp_path):
    """A staged table as the run passes it (a DuckDB relation over Parquet) fails naming the table,
    column, rule and offending values, and GX's result names the failing rule."""
    import duckdb

    path = tmp_path / "designations.parquet"
    designations(entity_type="ship").drop(columns=["source", "snapshot_date"]).to_parquet(path)
    con = duckdb.connect()
    rel = con.read_parquet(str(path)).query("p", "select *, 'us_ofac_sdn' as source from p")
    report = validate_frame(suites()["designations"], rel)
    assert not report.success and report.evaluated == len(suites()["designations"].expectations)
    (line,) = report.failed_critical
    assert line.startswith("expect_column_values_to_be_in_set(column='entity_type'") and "'ship' x1" in line
    good = con.read_parquet(str(path)).query("p", "select * replace ('person' as entity_type) from p")
    assert validate_frame(suites()["designations"], good).success


def test_many_offending_rows_are_counted_in_full_and_shown_by_their_most_frequent_values():
    df = designations(n=2000)
    df.loc[df.index[:1500], "entity_type"] = "ship"
    df.loc[df.index[1500:1510], "entity_type"] = "boat"
    (line,) = validate_frame(suites(max_designations=10_000)["designations"], df).failed_critical
    assert "1510 of 2000 rows unexpected (75.5%), e.g. 'ship' x1500, 'boat' x10" in line


def test_mostly_is_read_as_gx_reads_it():
    """At exactly 90% mapped the 'mostly 0.9' warning holds; one fewer and it warns."""
    for codes, warns in ((["CU"] * 9 + [None], False), (["CU"] * 8 + [None] * 2, True)):
        reports = validate_stage("staged", staged_frames(country_links=country_links(codes)), suites())
        (report,) = [r for r in reports if r.suite == "staged.country_links"]
        assert report.success and bool(report.warnings) == warns, report.warnings


def test_an_expectation_with_no_sql_form_is_still_evaluated_by_gx():
    from expectations import gx_modules, stage_suites

    _gx, gxe = gx_modules()
    suite = stage_suites("marts", {"things": [
        gxe.ExpectColumnMeanToBeBetween(column="n", min_value=0, max_value=10, meta={"rule": "n averages 0-10"}),
    ]})["things"]
    assert validate_stage("marts", {"things": pd.DataFrame({"n": [1, 2, 3]})}, {"things": suite})[0].success
    fails("marts", {"things": pd.DataFrame({"n": [100, 200]})}, {"things": suite},
          "expect_column_mean_to_be_between", "n averages 0-10")


def test_importing_the_runner_does_not_import_great_expectations():
    import subprocess
    import sys

    code = "import sys, pipeline.validation; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_data_docs_name_the_failing_rule(tmp_path):
    docs = tmp_path / "docs"
    validate_stage("staged", staged_frames(designations=designations(entity_type="ship")), suites(), docs_dir=docs,
                   raise_on_failure=False)
    (page,) = [p for p in (docs / "validations").rglob("*.html") if "designations" in str(p)]
    text = page.read_text(encoding="utf-8")
    assert "entity_type is one of person, organization, vessel, aircraft, other" in text and "ship" in text
    (suite_page,) = [p for p in (docs / "expectations").rglob("*.html") if "designations" in str(p)]
    assert "designation_id is unique" in suite_page.read_text(encoding="utf-8")  # every rule is listed
    summary = json.loads((docs / "index.json").read_text(encoding="utf-8"))
    (row,) = [r for r in summary["results"] if r["suite"] == "staged.designations"]
    assert row["critical_failed"] == 1 and row["evaluated"] == len(suites()["designations"].expectations)
