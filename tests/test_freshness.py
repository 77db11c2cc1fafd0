"""Source freshness: every source's cadence, mart_source_freshness built by dbt from a fetch log,
and the headline naming the stale sources."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from pipeline import fetch, freshness
from pipeline import settings as settings_mod
from pipeline.sources import known_sources, load_meta
from tests.model_fixtures import given, rows, run, scratch


def test_every_source_states_its_cadence():
    for source in known_sources():
        found = freshness.cadence(source)
        assert found.publishes in freshness.PUBLISHES and found.note, source
        if load_meta(source).live:  # an official list is judged; an archive the user loads is not
            assert found.max_lag_days is not None and found.max_lag_days > 0, source
        else:
            assert found.max_lag_days is None, source


@pytest.mark.parametrize(("cadence", "rule"), [
    ("daily", "must be a mapping"),
    ("{publishes: hourly, max_lag_days: 3}", "cadence.publishes"),
    ("{publishes: daily, max_lag_days: -1}", "cadence.max_lag_days"),
    ("{publishes: daily, max_lag_days: soon}", "cadence.max_lag_days"),
])
def test_a_bad_cadence_is_refused_naming_the_file_and_key(tmp_path, monkeypatch, cadence, rule):
    import pipeline.sources.base as base

    (tmp_path / "x_src").mkdir()
    (tmp_path / "x_src" / "source.yml").write_text(f"id: x_src\ncadence: {cadence}\n")
    monkeypatch.setattr(base, "SOURCES_DIR", tmp_path)
    with pytest.raises(ValueError, match=rule) as err:
        freshness.cadence("x_src")
    assert "x_src/source.yml" in str(err.value)


def _check(source: str, at: str, outcome: str, since: str, demo: bool = False, last_modified: str | None = None,
           landing: str | None = None) -> dict:
    return {"event": "check", "source": source, "origin": f"https://example.org/{source}", "name": "f",
            "landing_id": landing or f"{source}-{at}", "checked_at": at, "outcome": outcome, "changed": at == since,
            "content_since": since, "sha256": "ab" * 32, "bytes": 10, "demo": demo, "last_modified": last_modified,
            "http_status": 304 if outcome == "not_modified" else 200}


def _parse(source: str, at: str, snapshot: str, by_file: bool, last_modified: str | None = None) -> dict:
    return {"event": "parse", "source": source, "checked_at": at, "snapshot_date": snapshot,
            "dated_by_file": by_file, "last_modified": last_modified, "demo": False, "sha256": "ab" * 32}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """mart_source_freshness built by dbt from a fetch log written as the pipeline writes it."""
    home = tmp_path_factory.mktemp("home")
    settings = settings_mod.Settings(home=home, demo_dir=home, sql_dir=home, sources=(), max_raw_bytes=1 << 30,
                                     keep_releases=1, storage_version="v1.2.0")
    settings.raw_dir.mkdir(parents=True)
    fetch._append_log(settings, [
        # un_sc: the file dates itself 2025-04-28; unchanged since, checked 2025-06-10: 43 days, allowed 60
        _check("un_sc", "2025-04-29T06:00:00+00:00", "new", "2025-04-29T06:00:00+00:00"),
        _parse("un_sc", "2025-04-29T06:01:00+00:00", "2025-04-28", True),
        _check("un_sc", "2025-06-10T06:00:00+00:00", "not_modified", "2025-04-29T06:00:00+00:00"),
        # us_ofac_sdn: the file says 2025-03-01, still the same on 2025-06-10: 101 days, allowed 30
        _parse("us_ofac_sdn", "2025-03-02T06:00:00+00:00", "2025-03-01", True),
        _check("us_ofac_sdn", "2025-06-10T05:00:00+00:00", "same_content", "2025-03-02T06:00:00+00:00"),
        # ca_sema: no date in the file; the server's Last-Modified says 2025-06-01
        _parse("ca_sema", "2025-06-02T06:00:00+00:00", "2025-06-02", False, "2025-06-01T10:00:00+00:00"),
        _check("ca_sema", "2025-06-10T04:00:00+00:00", "not_modified", "2025-06-02T06:00:00+00:00",
               last_modified="Sun, 01 Jun 2025 10:00:00 GMT"),
        # gb_hmt: the demo files, old but not judged
        _check("gb_hmt", "2025-06-10T03:00:00+00:00", "copied", "2025-06-10T03:00:00+00:00", demo=True),
        _parse("gb_hmt", "2025-06-10T03:01:00+00:00", "2025-04-10", True),
        # gdelt_events: an archive the user loads, not judged
        _check("gdelt_events", "2025-06-10T02:00:00+00:00", "copied", "2025-06-10T02:00:00+00:00"),
        _parse("gdelt_events", "2025-06-10T02:01:00+00:00", "2019-10-24", True),
    ])
    folder = scratch("freshness")
    counts = freshness.write_build_inputs(settings, "no-run", folder / "_fetch")
    assert counts == {"fetch_events": 11, "source_cadence": len(known_sources())}
    # eu_fsf: in the lake (a snapshot of 2024-01-15) but in no log: a lake older than the log
    db = given(folder, lake={"designations": [{"designation_id": "eu_fsf:EU:1", "source": "eu_fsf", "authority": "eu",
                                               "list": "EU", "snapshot_date": date(2024, 1, 15)}]})
    run(db, "+mart_source_freshness")
    return db


def test_freshness_per_source(built):
    found = {r[0]: r[1:] for r in rows(built, """
        select source, status, lag_basis, cast(lag_reference_date as varchar), lag_days, max_lag_days,
               cast(published_on as varchar), cast(snapshot_date as varchar), last_fetch_outcome,
               strftime(last_changed_at, '%Y-%m-%d'), is_stale
        from mart_source_freshness""")}
    assert set(found) == {"un_sc", "us_ofac_sdn", "ca_sema", "gb_hmt", "gdelt_events", "eu_fsf"}
    assert found["un_sc"] == ("fresh", "file_date", "2025-04-28", 43, 60, "2025-04-28", "2025-04-28", "not_modified",
                              "2025-04-29", False)
    assert found["us_ofac_sdn"] == ("stale", "file_date", "2025-03-01", 101, 30, "2025-03-01", "2025-03-01",
                                    "same_content", "2025-03-02", True)
    assert found["ca_sema"][:6] == ("fresh", "last_modified", "2025-06-01", 9, 60, "2025-06-01")
    assert found["gb_hmt"][0] == "demo" and not found["gb_hmt"][-1]
    assert found["gdelt_events"][0] == "not_judged" and found["gdelt_events"][4] is None
    assert found["eu_fsf"][:5] == ("stale", "snapshot_date", "2024-01-15", 512, 30)
    assert found["eu_fsf"][8] is None  # never checked by a run that logs its fetches
    [(as_of,)] = rows(built, "select distinct as_of from mart_source_freshness")
    assert as_of == datetime(2025, 6, 10, 6, 0)  # the last check of any source


def test_the_headline_names_the_stale_sources(built):
    con = duckdb.connect(str(built), read_only=True)
    try:
        lines = freshness.headline_lines(con)
    finally:
        con.close()
    assert lines[1].startswith("STALE SOURCES (eu_fsf, us_ofac_sdn):")
    assert any(line.startswith("  us_ofac_sdn: published (file date) 2025-03-01, 101 days ago (allowed 30)")
               for line in lines), lines
    assert not any("un_sc" in line or "ca_sema" in line for line in lines)


def test_no_stale_source_says_so_in_one_line(built, tmp_path):
    db = tmp_path / "fresh.duckdb"
    con = duckdb.connect(str(db))
    try:
        con.execute(f"attach '{built}' as built (read_only)")
        con.execute("create table mart_source_freshness as "
                    "select * from built.mart_source_freshness where not is_stale")
        assert freshness.headline_lines(con)[1].startswith("Freshness: ca_sema, un_sc within their cadence")
        con.execute("delete from mart_source_freshness")
        assert freshness.headline_lines(con) == []
    finally:
        con.close()
