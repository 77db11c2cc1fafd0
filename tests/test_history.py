"""Designation history, snapshot deltas and rankings "as known on" a date, on tiny given rows.

Given: two OFAC snapshots (2022-03-01, 2022-03-15) between which one record is added, one removed,
one renamed, one gets an alias, one a new programme and one a new nationality; and one UN snapshot
(2022-03-10), a source with a single snapshot.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.models import load_docs
from pipeline.query import run_query
from tests.model_fixtures import given, run

REPO = Path(__file__).resolve().parents[1]
SQL = REPO / "sql"
OFAC, UN = "us_ofac_sdn", "un_sc"
S1, S2, S_UN = date(2022, 3, 1), date(2022, 3, 15), date(2022, 3, 10)
BETWEEN = date(2022, 3, 7)
HISTORY_MODELS = {
    "int_source_snapshots", "int_snapshot_designations", "int_designation_history",
    "int_snapshot_designation_countries", "int_as_known_snapshots", "mart_designation_history",
    "mart_snapshot_deltas", "mart_snapshot_delta_records", "mart_country_rankings_as_known",
}
HISTORY_MARTS = {m for m in HISTORY_MODELS if m.startswith("mart_")}


# (source, snapshot, record id, entity type, primary name, programmes, aliases, [(link type, ISO2)])
RECORDS = [
    (OFAC, S1, "1", "person", "KEEP", ["RUSSIA-EO14024"], [], [("nationality", "RU")]),
    (OFAC, S2, "1", "person", "KEEP", ["RUSSIA-EO14024"], [], [("nationality", "RU")]),
    (OFAC, S1, "2", "organization", "TO REMOVE", ["IRAN"], [], [("address", "IR")]),
    (OFAC, S1, "3", "organization", "OLD NAME", ["RUSSIA-EO14024"], [], []),
    (OFAC, S2, "3", "organization", "NEW NAME", ["RUSSIA-EO14024"], [], []),
    (OFAC, S1, "4", "organization", "PROG", ["IRAN"], [], []),
    (OFAC, S2, "4", "organization", "PROG", ["IRAN", "RUSSIA-EO14024"], [], []),
    (OFAC, S1, "5", "person", "COUNTRY", ["SDGT"], [], [("nationality", "IR")]),
    (OFAC, S2, "5", "person", "COUNTRY", ["SDGT"], [], [("nationality", "RU")]),
    (OFAC, S2, "6", "organization", "NEW", ["RUSSIA-EO14024"], [], []),
    (OFAC, S1, "7", "person", "ALIASED", ["IRAN"], ["ALIAS A"], []),
    (OFAC, S2, "7", "person", "ALIASED", ["IRAN"], ["ALIAS A", "ALIAS B"], []),
    # a multi-country programme: 8 names one of its targets (BA) by address, 9 names none
    (OFAC, S1, "8", "organization", "BALKAN ONE", ["BALKANS"], [], [("address", "BA")]),
    (OFAC, S2, "8", "organization", "BALKAN ONE", ["BALKANS"], [], [("address", "BA")]),
    (OFAC, S1, "9", "organization", "BALKAN TWO", ["BALKANS"], [], []),
    (OFAC, S2, "9", "organization", "BALKAN TWO", ["BALKANS"], [], []),
    (UN, S_UN, "u1", "person", "KIM", ["DPRK"], [], [("nationality", "KP"), ("address", None)]),
]


def _lake(records: list[tuple]) -> dict[str, pd.DataFrame]:
    designations, names, links = [], [], []
    for source, snap, rid, etype, name, programs, aliases, ties in records:
        authority, lst = ("un_sc", "UN") if source == UN else ("us_ofac", "SDN")
        common = {"entity_key": f"{source}:{rid}", "source_record_id": rid, "source": source, "snapshot_date": snap}
        designations.append({
            "designation_id": f"{source}:{lst}:{rid}", "authority": authority, "list": lst, "entity_type": etype,
            "primary_name": name, "programs": programs, "listed_on": date(2009, 4, 24) if source == UN else None,
            "reference_number": None, "remarks": None, "raw_sha256": "0" * 64, "raw_file": "f.xml", **common})
        names.append({"name": name, "name_type": "primary", "quality": "strong", **common})
        names.extend({"name": alias, "name_type": "aka", "quality": "strong", **common} for alias in aliases)
        links.extend({"link_type": link_type, "country_iso2": iso2, "region": None,
                      "country_status": "mapped" if iso2 else "unknown", "raw_value": iso2 or "somewhere",
                      "raw_sha256": "0" * 64, "raw_file": "f.xml", **common} for link_type, iso2 in ties)
    link_columns = ["link_type", "country_iso2", "region", "country_status", "raw_value", "raw_sha256", "raw_file",
                    "entity_key", "source_record_id", "source", "snapshot_date"]
    return {"designations": pd.DataFrame(designations), "names": pd.DataFrame(names),
            "country_links": pd.DataFrame(links, columns=link_columns).astype({"snapshot_date": "datetime64[s]"})}


COUNTRIES = pd.DataFrame([("RU", "RUS", "Russia", "state"), ("IR", "IRN", "Iran", "state"),
                          ("KP", "PRK", "North Korea", "state"), ("BA", "BIH", "Bosnia and Herzegovina", "state"),
                          ("RS", "SRB", "Serbia", "state")], columns=["iso2", "iso3", "name", "kind"])
PROGRAMS = pd.DataFrame([
    ("us_ofac", "RUSSIA-EO14024", "RU", "", "country"), ("us_ofac", "IRAN", "IR", "", "country"),
    ("us_ofac", "SDGT", "", "", "thematic"), ("us_ofac", "BALKANS", "BA", "XWB", "regional"),
    ("us_ofac", "BALKANS", "RS", "XWB", "regional"), ("un_sc", "DPRK", "KP", "", "country")],
    columns=["authority", "program", "target_iso2", "region", "kind"])


def _load(folder: Path, records: list[tuple]) -> Path:
    return given(folder, lake=_lake(records), ref={"countries": COUNTRIES, "programs": PROGRAMS})


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file built by dbt from the given rows: the history marts, the current ranking and
    the as-known macro (the project's on-run-end hook, run with mart_country_rankings_as_known)."""
    path = _load(tmp_path_factory.mktemp("history"), RECORDS)
    run(path, *(f"+{m}" for m in sorted(HISTORY_MODELS | {"int_designation_countries", "mart_country_rankings",
                                                           "int_snapshot_designation_regions"})))
    return path


@pytest.fixture
def con(db: Path):
    connection = duckdb.connect(str(db), read_only=True)
    yield connection
    connection.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_deltas_between_two_snapshots(con):
    got = _rows(con, """select source, snapshot_date, previous_snapshot_date, is_first_snapshot, designations,
                               previous_designations, added, removed, changed, names_changed, programs_changed,
                               countries_changed
                        from mart_snapshot_deltas order by source, snapshot_date""")
    assert got == [
        # a source with a single snapshot: its first snapshot, everything added
        (UN, S_UN, None, True, 1, 0, 1, 0, 0, 0, 0, 0),
        # the first OFAC snapshot counts everything as added
        (OFAC, S1, None, True, 8, 0, 8, 0, 0, 0, 0, 0),
        # 6 added, 2 removed; 3 renamed and 7 given an alias, 4 a new programme, 5 a new nationality
        (OFAC, S2, S1, False, 8, 8, 1, 1, 4, 2, 1, 1),
    ]


def test_delta_records_say_what_changed(con):
    got = _rows(con, f"""select designation_id, change_type, primary_name, previous_primary_name, names_changed,
                               programs_changed, countries_changed, names_added, names_removed, programs_added,
                               programs_removed, country_links_added, country_links_removed
                        from mart_snapshot_delta_records where snapshot_date = '{S2}' order by designation_id""")
    assert got == [
        ("us_ofac_sdn:SDN:2", "removed", "TO REMOVE", "TO REMOVE", None, None, None,
         [], ["TO REMOVE"], [], ["IRAN"], [], ["address:IR"]),
        ("us_ofac_sdn:SDN:3", "changed", "NEW NAME", "OLD NAME", True, False, False,
         ["NEW NAME"], ["OLD NAME"], [], [], [], []),
        ("us_ofac_sdn:SDN:4", "changed", "PROG", "PROG", False, True, False,
         [], [], ["RUSSIA-EO14024"], [], [], []),
        ("us_ofac_sdn:SDN:5", "changed", "COUNTRY", "COUNTRY", False, False, True,
         [], [], [], [], ["nationality:RU"], ["nationality:IR"]),
        ("us_ofac_sdn:SDN:6", "added", "NEW", None, None, None, None,
         ["NEW"], [], ["RUSSIA-EO14024"], [], [], []),
        ("us_ofac_sdn:SDN:7", "changed", "ALIASED", "ALIASED", True, False, False,
         ["ALIAS B"], [], [], [], [], []),
    ]
    first = _rows(con, f"""select change_type, count(*) from mart_snapshot_delta_records
                           where source = '{OFAC}' and snapshot_date = '{S1}' group by all""")
    assert first == [("added", 8)]


def test_designation_history(con):
    got = _rows(con, """select designation_id, primary_name, listed_on, first_seen_on, last_seen_on, removed_on,
                               status, snapshots_seen, snapshots_missed
                        from mart_designation_history order by designation_id""")
    by_id = {row[0]: row[1:] for row in got}
    assert len(got) == 10  # nine OFAC designations ever seen and one UN designation
    assert by_id["us_ofac_sdn:SDN:2"] == ("TO REMOVE", None, S1, S1, S2, "removed", 1, 0)
    assert by_id["us_ofac_sdn:SDN:3"] == ("NEW NAME", None, S1, S2, None, "listed", 2, 0)
    assert by_id["us_ofac_sdn:SDN:6"] == ("NEW", None, S2, S2, None, "listed", 1, 0)
    assert by_id["un_sc:UN:u1"] == ("KIM", date(2009, 4, 24), S_UN, S_UN, None, "listed", 1, 0)
    programs = _rows(con, "select programs from mart_designation_history where designation_id = 'us_ofac_sdn:SDN:4'")
    assert programs == [(["IRAN", "RUSSIA-EO14024"],)]


def test_relisting_and_removal_date_come_from_the_snapshots(tmp_path: Path):
    s3 = date(2022, 4, 1)
    db = _load(tmp_path, [
        (OFAC, S1, "1", "person", "BACK AGAIN", ["IRAN"], [], []),
        (OFAC, S1, "2", "person", "GONE", ["IRAN"], [], []),
        (OFAC, S2, "2", "person", "GONE", ["IRAN"], [], []),
        (OFAC, s3, "1", "person", "BACK AGAIN", ["IRAN"], [], []),
    ])
    run(db, "+mart_designation_history", "+mart_snapshot_deltas")
    con = duckdb.connect(str(db), read_only=True)
    got = _rows(con, """select designation_id, first_seen_on, last_seen_on, removed_on, status, snapshots_seen,
                               snapshots_missed from mart_designation_history order by 1""")
    assert got == [("us_ofac_sdn:SDN:1", S1, s3, None, "listed", 2, 1),
                   ("us_ofac_sdn:SDN:2", S1, S2, s3, "removed", 2, 0)]
    deltas = _rows(con, "select snapshot_date, designations, added, removed from mart_snapshot_deltas order by 1")
    assert deltas == [(S1, 2, 2, 0), (S2, 1, 0, 1), (s3, 1, 1, 1)]


PROGRAM_TARGET_ALL = """select as_of_date, country_iso2, designations, rank, round(share, 4) from {table}
                        where unit = 'designations' and authority = 'all' and basis = 'program_target'
                          and entity_type = 'all'
                        order by rank, country_iso2"""


def test_as_known_mart_uses_only_what_was_published(con):
    dates = _rows(con, "select distinct as_of_date from mart_country_rankings_as_known order by 1")
    assert dates == [(S1,), (S_UN,), (S2,)]
    # on S1 only the first OFAC snapshot was out: IR 2, 4, 7 | RU 1, 3 | BA 8 (by its own link); 9 names
    # no Balkan country: counted under the region XWB, not for BA and RS; of 6 designations with a country
    on_s1 = _rows(con, PROGRAM_TARGET_ALL.format(table="mart_country_rankings_as_known"))
    assert [r for r in on_s1 if r[0] == S1] == [
        (S1, "IR", 3, 1, 0.5), (S1, "RU", 2, 2, 0.3333), (S1, "BA", 1, 3, 0.1667)]
    # on S_UN the UN list joins the first OFAC snapshot; the second is not out yet
    assert [r[1:3] for r in on_s1 if r[0] == S_UN] == [("IR", 3), ("RU", 2), ("BA", 1), ("KP", 1)]
    assert _rows(con, """select snapshot_date, region_code from int_snapshot_designation_regions
                           where designation_id = 'us_ofac_sdn:SDN:9' order by 1""") == [(S1, "XWB"), (S2, "XWB")]


def test_as_known_on_the_latest_date_is_the_current_ranking(con):
    columns = "unit, authority, basis, entity_type, country_iso2, country_name, designations, rank, share"
    current = _rows(con, f"select as_of_date, {columns} from mart_country_rankings order by all")
    as_known = _rows(con, f"select as_of_date, {columns} from mart_country_rankings_as_known "
                          f"where as_of_date = '{S2}' order by all")
    assert current == as_known
    assert len(current) > 20
    assert _describe(con, "mart_country_rankings") == _describe(con, "mart_country_rankings_as_known")


def _describe(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return [(r[0], r[1]) for r in _rows(con, f"describe {table}")]


def test_attribution_over_all_snapshots_matches_the_current_one(con):
    columns = "designation_id, source, authority, list_code, entity_key, entity_type, primary_name, listed_on, " \
              "snapshot_date, basis, country_iso2"
    current = _rows(con, f"select {columns} from int_designation_countries order by all")
    filtered = _rows(con, f"""select {columns} from int_snapshot_designation_countries
                              semi join int_current_snapshots using (source, snapshot_date) order by all""")
    assert current == filtered
    assert ("us_ofac_sdn:SDN:8", "program_target", "BA") in [(r[0], r[9], r[10]) for r in filtered]
    assert ("us_ofac_sdn:SDN:8", "program_target", "RS") not in [(r[0], r[9], r[10]) for r in filtered]


def test_macro_answers_any_date(con):
    macro = PROGRAM_TARGET_ALL.format(table="rankings_as_known_on(date '{day}')")
    # between the two OFAC snapshots and before the UN one: only the first OFAC snapshot counts
    assert _rows(con, macro.format(day=BETWEEN)) == [
        (BETWEEN, "IR", 3, 1, 0.5), (BETWEEN, "RU", 2, 2, 0.3333), (BETWEEN, "BA", 1, 3, 0.1667)]
    assert _rows(con, macro.format(day=date(2022, 2, 1))) == []  # nothing had been published
    for day in (S1, S_UN, S2, date(2030, 1, 1)):
        known_on = max(d for d in (S1, S_UN, S2) if d <= day)
        from_macro = _rows(con, f"select * exclude (as_of_date) from rankings_as_known_on(date '{day}') order by all")
        from_mart = _rows(con, f"""select * exclude (as_of_date) from mart_country_rankings_as_known
                                   where as_of_date = '{known_on}' order by all""")
        assert from_macro == from_mart and from_mart, day
    assert _describe(con, "mart_country_rankings") == [
        (r[0], r[1]) for r in _rows(con, "describe select * from rankings_as_known_on(date '2022-03-07')")]


def test_pipeline_query_runs_the_macro_read_only(db: Path):
    result = run_query(db, "select * from rankings_as_known_on(date '2022-03-07') "
                           "where basis = 'program_target' order by rank limit 10")
    assert result.columns[:7] == ["as_of_date", "unit", "authority", "list_code", "basis", "entity_type",
                                  "country_iso2"]
    assert len(result.rows) == 10
    assert {row[6] for row in result.rows} <= {"IR", "BA", "RU"}
    # the UN snapshot (2022-03-10) was not out on 2022-03-07
    assert {row[2] for row in result.rows} == {"all", "us_ofac"}
    assert all(pd.Timestamp(row[0]) == pd.Timestamp(BETWEEN) and row[4] == "program_target" for row in result.rows)


def test_history_marts_are_documented(con):
    docs = load_docs(SQL)
    for mart in sorted(HISTORY_MARTS):
        columns = [r[0] for r in _rows(con, f"describe {mart}")]
        assert set(columns) == set(docs[mart]["columns"]), mart
        commented = _rows(con, f"""select count(*) from duckdb_columns() where table_name = '{mart}'
                                   and comment is not null and comment <> ''""")[0][0]
        assert commented == len(columns), mart
    macro = _rows(con, "select comment from duckdb_functions() where function_name = 'rankings_as_known_on'")
    assert macro and "as known on" in macro[0][0]
