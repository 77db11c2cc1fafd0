"""The numbers a user gets from the official files: each rule of the counting (issue "Correct and
safe on real files") checked on the real samples in ../shared/data/samples, against counts taken
from the raw files by other means (regular expressions over the raw text, not the parsers)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline.models import build_database
from pipeline.parse import parse_files
from pipeline.settings import REPO_ROOT

SQL = REPO_ROOT / "sql"


def _build(tmp: Path, *inputs: tuple[str, list[Path], date | None]) -> duckdb.DuckDBPyConnection:
    staged = tmp / "staged"
    for source, paths, snapshot in inputs:
        parse_files(source, paths, staged, snapshot_date=snapshot, strict=False)
    db = tmp / "db.duckdb"
    build_database(staged, db, SQL, "v1.2.0")
    return duckdb.connect(str(db), read_only=True)


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def advanced(samples: Path, tmp_path_factory) -> duckdb.DuckDBPyConnection:
    path = samples / "ofac" / "cons_advanced_2020-03-17_subset.xml"
    return _build(tmp_path_factory.mktemp("adv"), ("us_ofac_sdn", [path], None))


@pytest.mark.integration
def test_umbrella_entries_are_not_counted(advanced, samples: Path):
    raw = (samples / "ofac" / "cons_advanced_2020-03-17_subset.xml").read_text(encoding="utf-8")
    entries = re.findall(r'<SanctionsEntry ID="\d+" ProfileID="(\d+)" ListID="(\d+)"', raw)
    umbrella = re.search(r'<List ID="(\d+)"[^>]*>Consolidated List</List>', raw).group(1)
    real = {(profile, lst) for profile, lst in entries if lst != umbrella}
    assert len(entries) == 244 and len(real) == 124  # 120 umbrella entries beside the real lists
    assert _one(advanced, "select count(*) from int_designations_current")[0][0] == len(real)
    assert _one(advanced, "select count(*) from int_designations_current where list_code = 'CONS'")[0][0] == 0
    ssi = _one(advanced, """select count(*), count(distinct entity_key) from int_designations_current
                            where list_contains(programs, 'UKRAINE-EO13662')""")[0]
    assert ssi[0] <= ssi[1] + 1 and ssi[1] == 77  # once per party and real list, not 155 for 77
    # no spurious crossover from umbrella duplicates
    assert _one(advanced, """select count(*) from mart_rank_crossovers where authority = 'all'
                             and country_iso2 = 'RU' and overtaken_iso2 = 'IR'""")[0][0] == 0


@pytest.fixture(scope="module")
def sdn_2024(samples: Path, tmp_path_factory) -> duckdb.DuckDBPyConnection:
    path = samples / "ofac" / "sdn_csv_2024-05-03_head" / "sdn.csv"
    return _build(tmp_path_factory.mktemp("sdn24"), ("us_ofac_sdn", [path], date(2024, 5, 3)))


@pytest.mark.integration
def test_multi_country_programme_counts_only_named_targets(sdn_2024):
    rows = dict(_one(sdn_2024, """
        with balkans as (
            select designation_id from int_designation_programs where program = 'BALKANS' group by 1
        ),
        unnamed as (
            select designation_id from balkans
            where designation_id not in (
                select designation_id from int_designation_entity_links as links
                where country_iso2 in (select target_iso2 from stg_ref__program_targets where program = 'BALKANS')
            )
        )
        select 'all', count(*) from balkans
        union all select 'unnamed', count(*) from unnamed
        union all select 'SI', count(*) from int_designation_countries
            where basis = 'program_target' and country_iso2 = 'SI'
        union all select 'SI named', count(distinct designation_id) from int_designation_entity_links
            where country_iso2 = 'SI' and designation_id in (select designation_id from balkans)
        union all select 'XWB', count(*) from int_snapshot_designation_regions where region_code = 'XWB'
    """))
    # Slovenia only gets the designations whose own links name it; the ones whose links name none of the
    # programme's countries count once, under the region (XWB Western Balkans), not once per member
    assert rows["SI"] == rows["SI named"] and rows["XWB"] == rows["unnamed"] < rows["all"]
    top = [c for (c,) in _one(sdn_2024, """select country_iso2 from mart_country_rankings where authority = 'all'
                 and basis = 'program_target' and entity_type = 'all' order by rank, country_iso2 limit 3""")]
    assert "SI" not in top and "XK" not in top


@pytest.mark.integration
def test_linked_to_remarks_resolve_to_listed_entities(sdn_2024, samples: Path):
    raw = (samples / "ofac" / "sdn_csv_2024-05-03_head" / "sdn.csv").read_text(encoding="utf-8")
    names = {m.group(1).strip() for m in re.finditer(r'^\d+,"([^"]*)"', raw, re.M)}
    linked = [name.strip() for name in re.findall(r"Linked To: ([^;\"]+?)\.?(?:;|\"|$)", raw)]
    # the remark's closing period may belong to the name ("HERJEZ LTDA.")
    exact = sum(1 for name in linked if name in names or f"{name}." in names)
    assert len(linked) == 183 and exact == 82
    resolved = _one(sdn_2024, "select count(*) from int_relations_resolved where resolved_by = 'primary_name'")[0][0]
    assert resolved == exact


def test_relation_edges_count_once_and_never_across_a_programme(tmp_path: Path):
    """Two Iranian entities linked to each other, one also on a Russia programme and on two
    lists: not an Iran-Russia edge; a Russian-Iranian edge listed twice counts once."""
    from tests.model_fixtures import given, run

    db = given(tmp_path)
    con = duckdb.connect(str(db))
    snap = "2024-01-01"
    con.execute(f"""
        insert into lake.designations (designation_id, authority, list, source_record_id, entity_key, entity_type,
            primary_name, programs, listed_on, reference_number, remarks, raw_sha256, raw_file, source, snapshot_date)
        values
        ('s:SDN:1', 'us_ofac', 'SDN', '1', 's:1', 'organization', 'IR ONE', ['IRAN', 'RUSSIA-EO14024'], null, null,
         null, 'x', 'f', 's', '{snap}'),
        ('s:SSI:1', 'us_ofac', 'SSI', '1', 's:1', 'organization', 'IR ONE', ['UKRAINE-EO13662'], null, null,
         null, 'x', 'f', 's', '{snap}'),
        ('s:SDN:2', 'us_ofac', 'SDN', '2', 's:2', 'organization', 'IR TWO', ['IRAN'], null, null, null, 'x', 'f',
         's', '{snap}'),
        ('s:SDN:3', 'us_ofac', 'SDN', '3', 's:3', 'organization', 'RU THREE', ['RUSSIA-EO14024'], null, null, null,
         'x', 'f', 's', '{snap}')""")
    con.execute(f"""
        insert into lake.country_links (entity_key, source_record_id, link_type, country_iso2, region,
            country_status, raw_value, raw_sha256, raw_file, source, snapshot_date)
        values ('s:1', '1', 'address', 'IR', null, 'mapped', 'Iran', 'x', 'f', 's', '{snap}'),
               ('s:2', '2', 'address', 'IR', null, 'mapped', 'Iran', 'x', 'f', 's', '{snap}'),
               ('s:3', '3', 'address', 'RU', null, 'mapped', 'Russia', 'x', 'f', 's', '{snap}')""")
    con.execute(f"""
        insert into lake.relations (entity_key, source_record_id, related_entity_key, related_name, relation_type,
            raw_relation, raw_sha256, raw_file, source, snapshot_date)
        values ('s:1', '1', 's:2', 'IR TWO', 'owned_by', 'Owned By', 'x', 'f', 's', '{snap}'),
               ('s:3', '3', 's:1', 'IR ONE', 'linked_to', 'Linked To', 'x', 'f', 's', '{snap}'),
               ('s:1', '1', 's:3', 'RU THREE', 'linked_to', 'Linked To', 'x', 'f', 's', '{snap}')""")
    con.close()
    run(db, "+mart_dyad_sanctions_exposure")
    con = duckdb.connect(str(db), read_only=True)
    edges = _one(con, """select relation_edges from mart_dyad_sanctions_exposure
                         where authority = 'all' and country_a = 'IR' and country_b = 'RU'""")
    assert edges == [(1,)]  # s:1 ~ s:3 once (stated both ways); s:1 ~ s:2 is Iran-Iran


@pytest.mark.integration
def test_marts_are_byte_identical_across_builds(samples: Path, tmp_path: Path):
    inputs = ("us_ofac_sdn", [samples / "ofac" / "sdn_csv_2024-05-03_head" / "sdn.csv"], date(2024, 5, 3))
    digests = []
    for run in ("a", "b"):
        con = _build(tmp_path / run, inputs)
        out = tmp_path / run / "rankings.parquet"
        con.execute(f"copy (select * from mart_country_rankings) to '{out}' (format parquet)")
        con.close()
        digests.append(out.read_bytes())
    assert digests[0] == digests[1]


@pytest.mark.integration
def test_unmapped_values_separate_deliberate_non_countries(samples: Path, tmp_path: Path):
    con = _build(tmp_path, ("un_sc", [samples / "un" / "consolidated_2020-03-20_full.xml"], None))
    status = dict(_one(con, "select status, count(*) from mart_unmapped_countries group by 1"))
    na = _one(con, "select status from mart_unmapped_countries where lower(raw_value) = 'na' limit 1")
    assert na == [("non_country",)]
    assert set(status) <= {"non_country", "unknown"}


@pytest.mark.integration
def test_same_source_and_date_replace_not_merge(samples: Path, home, monkeypatch):
    """Two OFAC CSV files landed for the same snapshot date: the newer one is the snapshot."""
    from pipeline import flow

    newer = samples / "ofac" / "sdn_csv_2021-04-25_subset"
    older = samples / "ofac" / "sdn_csv_2024-05-03_head" / "sdn.csv"
    monkeypatch.setenv("PIPELINE_SNAPSHOT_DATE", "2024-05-03")
    monkeypatch.setenv("PIPELINE_ACCEPT_SMALL_LISTS", "1")
    for run, value in (("run_1", str(older)), ("run_2", ";".join(str(p) for p in sorted(newer.iterdir())))):
        monkeypatch.setenv("PIPELINE_SOURCES", "us_ofac_sdn")
        monkeypatch.setenv("PIPELINE_INPUT_US_OFAC_SDN", value)
        from pipeline import settings as settings_mod

        settings = settings_mod.load()
        batches = flow.land_sources(settings)
        results = [flow.parse_batch(b, settings, run) for b in batches]
        built = flow.build(settings, run)
        flow.publish(built, results, settings, run)
    con = duckdb.connect(str(settings.published_db), read_only=True)
    total, distinct = _one(con, "select count(*), count(distinct source_record_id) from int_designations_current")[0]
    assert total == distinct == 2500
