"""Parsers of the OFAC advanced XML and the UN consolidated XML, on the real samples in
../shared/data/samples (counts and fields checked against the files themselves)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline.parse import parse_files


def _q(out: Path, table: str, sql: str) -> list[tuple]:
    con = duckdb.connect()
    con.execute(f"create view t as select * from read_parquet('{out}/{table}/**/*.parquet', hive_partitioning = true)")
    return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def un_2026(samples: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("un2026")
    result = parse_files("un_sc", [samples / "un" / "consolidated_2026-02-27_subset.xml"], out)
    assert result.snapshot_date == date(2026, 2, 27)
    return out


def test_un_subset_records_and_types(un_2026: Path):
    # README: 180 of 730 individuals and 76 of 273 entities
    assert _q(un_2026, "designations", "select entity_type, count(*) from t group by 1 order by 1") == [
        ("organization", 76), ("person", 180)]
    assert _q(un_2026, "designations", "select count(distinct designation_id) from t") == [(256,)]
    assert _q(un_2026, "designations", "select distinct source, snapshot_date from t") == [("un_sc", date(2026, 2, 27))]


def test_un_record_fields(un_2026: Path):
    row = _q(un_2026, "designations", """select primary_name, listed_on, reference_number, programs, authority, list
                                         from t where source_record_id = '6907993'""")
    assert row == [("ERIC BADEGE", date(2012, 12, 31), "CDi.001", ["DRC"], "un_sc", "UN")]
    links = _q(un_2026, "country_links",
               "select link_type, country_iso2 from t where source_record_id = '6907993' order by 1")
    assert links == [("address", "RW"), ("nationality", "CD")]
    refs = _q(un_2026, "identifiers",
              "select id_value from t where source_record_id = '6907993' and id_type = 'un_reference'")
    assert refs == [("CDi.001",)]
    # the re-imposed Iran list is in the 2026 file, with its original listing dates
    assert _q(un_2026, "designations", "select primary_name, listed_on from t where reference_number = 'IRe.001'") == [
        ("7TH OF TIR", date(2006, 12, 23))]


def test_un_full_2020(samples: Path, tmp_path: Path):
    result = parse_files("un_sc", [samples / "un" / "consolidated_2020-03-20_full.xml"], tmp_path)
    assert result.counts["designations"] == 1014  # 709 individuals + 305 entities
    regimes = dict(_q(tmp_path, "designations", "select programs[1], count(*) from t group by 1"))
    assert regimes["Al-Qaida"] == 349 and regimes["DPRK"] == 155 and regimes["GB"] == 10
    # free text that names no single country is kept and reported, never forced into a country
    assert result.unmapped_countries["Sudan/South Sudan"] == 4
    unmapped = _q(tmp_path, "country_links", "select count(*) from t where country_status = 'unknown'")[0][0]
    assert unmapped == sum(result.unmapped_countries.values())
    assert _q(tmp_path, "country_links", "select count(*) from t where country_iso2 in ('00', 'XX', 'ZZ')") == [(0,)]


@pytest.fixture(scope="module")
def ofac_adv(samples: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ofacadv")
    result = parse_files("us_ofac_sdn", [samples / "ofac" / "cons_advanced_2020-03-17_subset.xml"], out)
    assert result.snapshot_date == date(2020, 3, 17)
    # "undetermined" is a deliberate non-country in the crosswalk: reported apart from unknown values
    assert result.unmapped_countries == {}
    assert result.audit["non_country:address"] == 18
    return out


def test_ofac_advanced_entries(ofac_adv: Path):
    # README: 120 profiles -> 244 SanctionsEntries (one profile on several lists); the 120 entries
    # on the umbrella "Consolidated List" are groupings, not listings: audited, not counted
    assert _q(ofac_adv, "designations", "select count(*), count(distinct entity_key) from t") == [(124, 120)]
    lists = dict(_q(ofac_adv, "designations", "select list, count(*) from t group by 1"))
    assert lists == {"NS-PLC": 40, "SSI": 77, "FSE": 2, "SDN": 4, "CAPTA": 1}
    assert _q(ofac_adv, "designations", "select count(*) from t where listed_on is null") == [(0,)]


def test_ofac_advanced_record(ofac_adv: Path):
    rows = _q(ofac_adv, "designations", """select list, primary_name, listed_on, programs, entity_type
                                           from t where source_record_id = '9639' order by listed_on""")
    assert rows == [("NS-PLC", "HANIYA, Ismail Abdul Salah", date(2006, 4, 12), ["NS-PLC"], "person")]
    names = _q(ofac_adv, "names", "select name, name_type from t where source_record_id = '9639' order by 1")
    assert names == [("HANIYA, Ismail", "aka"), ("HANIYA, Ismail Abdul Salah", "primary"), ("HANIYYA, Ismaeel", "aka")]


def test_ofac_advanced_links_ids_relations(ofac_adv: Path):
    links = dict(_q(ofac_adv, "country_links",
                    "select link_type || ':' || coalesce(country_iso2, '?'), count(*) from t group by 1"))
    assert links["address:RU"] == 76 and links["registration:RU"] == 22 and links["address:?"] == 18
    ids = dict(_q(ofac_adv, "identifiers", "select id_type, count(*) from t group by 1"))
    assert ids["swift"] == 29 and ids["registration"] == 61 and ids["tax_id"] == 11
    # ProfileRelationships: 63 "Owned or Controlled By" edges, all resolved to entities of the file
    assert _q(ofac_adv, "relations", "select relation_type, count(*), count(related_entity_key) from t group by 1") == [
        ("owned_by", 63, 63)]


def test_unknown_fields_are_audited(ofac_adv: Path):
    rules = dict(_q(ofac_adv, "parse_audit", "select rule, sum(occurrences) from t group by 1"))
    assert rules["non_country"] == 18 and "unmapped_country" not in rules
    assert rules["umbrella_entry_not_counted"] == 120
    assert rules["unplaced_text"] == 6  # free-text places of birth that name no country
