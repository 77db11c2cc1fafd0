"""The ranking marts count every authority of the default run (US OFAC SDN and consolidated lists, EU,
UN, UK, Canada, Switzerland; OpenSanctions too, outside 'all') with a column per authority (us, eu, un,
gb, ca, ch, "all") and a list column that keeps OFAC's non-SDN lists apart from the SDN list.

The marts are built by dbt (tests/model_fixtures.py) from the staged Parquet of a parse of every
source's demo files, and recounted here from that Parquet with plain DuckDB (by nationality, whose
rule is a plain join of links, so the recount does not reuse the marts' SQL): per authority and list,
per authority over its lists (one OFAC record on two of its lists once), and over all authorities."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline.parse import parse_files
from pipeline.report import AUTHORITY_COLUMNS, _pair_by_authority, _rankings
from pipeline.sources import default_sources, load_meta
from tests.model_fixtures import declared_lake, given, rows, run, scratch

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo"
LISTS = ("us_ofac_sdn", "us_ofac_cons", "un_sc", "eu_fsf", "gb_hmt", "ca_sema", "ch_seco")
AGGREGATORS = ("opensanctions",)
WIDE = (*AUTHORITY_COLUMNS.values(), "all")
NATIONALITY_LINKS = ("nationality", "citizenship", "registration", "flag")


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every sanctions list's demo files (and OpenSanctions'), parsed into one staged folder."""
    out = tmp_path_factory.mktemp("staged")
    for source in (*LISTS, *AGGREGATORS):
        parse_files(source, [DEMO / rel for rel in load_meta(source).demo_inputs], out)
    return out


@pytest.fixture(scope="module")
def recount(staged: Path) -> duckdb.DuckDBPyConnection:
    """The staged Parquet as views, and the nationality-basis keys counted independently of the marts."""
    con = duckdb.connect()
    for folder in ("designations", "country_links"):
        con.execute(f"create view {folder} as select * from "
                    f"read_parquet('{staged / folder}/**/*.parquet', hive_partitioning = true)")
    links = ", ".join(f"'{t}'" for t in NATIONALITY_LINKS)
    con.execute(f"""
        create table keyed as
        with listed as (
            -- the SDN entries OFAC's consolidated file repeats are counted from the SDN file
            select *, case when authority = 'us_ofac' then 'us_ofac:' || source_record_id else designation_id end
                      as record_key
            from designations
            where not (source = 'us_ofac_cons' and "list" = 'SDN')
        )
        select distinct listed.authority, listed."list" as list_code, listed.designation_id, listed.record_key,
               cast(listed.listed_on as date) as listed_on, links.country_iso2
        from listed
        inner join country_links as links
            on links.source = listed.source and links.snapshot_date = listed.snapshot_date
           and links.entity_key = listed.entity_key
        where links.link_type in ({links}) and links.country_iso2 is not null""")
    yield con
    con.close()


@pytest.fixture(scope="module")
def built(staged: Path) -> Path:
    """The ranking marts (and what they read) built by dbt on the staged tables."""
    reader = duckdb.connect()
    lake = {folder.name: reader.sql(f"select * from read_parquet('{folder}/**/*.parquet', "
                                    "hive_partitioning = true)").to_arrow_table()
            for folder in staged.iterdir() if folder.name in declared_lake() and any(folder.rglob("*.parquet"))}
    reader.close()
    db = given(scratch("authority-rankings"), lake=lake)
    run(db, "+mart_rank_crossovers", "+mart_country_rankings")
    return db


def test_the_default_run_ranks_six_authorities() -> None:
    defaults = set(default_sources())
    assert set(LISTS) <= defaults
    assert not defaults & set(AGGREGATORS)  # CC BY-NC: opt in only
    assert {load_meta(s).authority for s in LISTS} == set(AUTHORITY_COLUMNS)


def test_the_column_mapping_is_the_macros() -> None:
    """report.AUTHORITY_COLUMNS mirrors sql/macros/authorities.sql authority_columns(), in order."""
    text = (REPO / "sql" / "macros" / "authorities.sql").read_text(encoding="utf-8")
    body = text[text.index("macro authority_columns()"):text.index("endmacro", text.index("macro authority_columns()"))]
    assert re.findall(r"\('(\w+)', '(\w+)'\)", body) == list(AUTHORITY_COLUMNS.items())


def _by_country(con: duckdb.DuckDBPyConnection, where: str, key: str) -> dict[str, int]:
    return dict(con.execute(f"select country_iso2, count(distinct {key}) from keyed where {where} group by 1")
                .fetchall())


def _mart(db: Path, authority: str, list_code: str, basis: str = "nationality") -> dict[str, int]:
    return dict(rows(db, """select country_iso2, designations from mart_country_rankings
                            where unit = 'designations' and authority = ? and list_code = ? and basis = ?
                              and entity_type = 'all'""", [authority, list_code, basis]))


def test_every_authority_and_list_recounted(built: Path, recount: duckdb.DuckDBPyConnection) -> None:
    lists = recount.execute("select distinct authority, list_code from keyed order by all").fetchall()
    # the Canadian list has no country but its regime; the UK demo names no nationality
    assert {"us_ofac", "eu", "un_sc", "ch", "opensanctions"} <= {a for a, _ in lists}
    for authority, list_code in lists:
        assert _mart(built, authority, list_code) == _by_country(
            recount, f"authority = '{authority}' and list_code = '{list_code}'", "designation_id"), (authority,
                                                                                                    list_code)
    for authority in {a for a, _ in lists}:
        assert _mart(built, authority, "all") == _by_country(recount, f"authority = '{authority}'", "record_key")
    # 'all' leaves the aggregator out
    assert _mart(built, "all", "all") == _by_country(recount, "authority <> 'opensanctions'", "record_key")


def test_one_ofac_record_on_two_lists_counts_once(built: Path, recount: duckdb.DuckDBPyConnection) -> None:
    """VTB, VEB, Sberbank: SDN (us_ofac_sdn) and SSI (us_ofac_cons); five parties on SSI and NS-MBS."""
    twice = recount.execute("""select count(*) from (select record_key from keyed where authority = 'us_ofac'
                               group by record_key having count(distinct list_code) > 1)""").fetchone()[0]
    assert twice >= 3
    by_list = _mart(built, "us_ofac", "SDN")
    us = _mart(built, "us_ofac", "all")
    summed = {}
    for list_code in ("SDN", "SSI", "NS-MBS", "NS-CMIC", "NS-PLC", "FSE", "CAPTA"):
        for country, n in _mart(built, "us_ofac", list_code).items():
            summed[country] = summed.get(country, 0) + n
    assert us["RU"] < summed["RU"] and by_list["RU"] < us["RU"]


def test_wide_columns_are_each_authoritys_all_lists_row(built: Path) -> None:
    for basis in ("program_target", "nationality", "any"):
        long = {}
        for authority, column in {**AUTHORITY_COLUMNS, "all": "all"}.items():
            for country, n in _mart(built, authority, "all", basis).items():
                long[(country, column)] = n
        wide = rows(built, f"""select distinct country_iso2, {", ".join(f'"{c}"' for c in WIDE)}
                               from mart_country_rankings
                               where unit = 'designations' and basis = ? and entity_type = 'all'""", [basis])
        assert len(wide) == len({r[0] for r in wide})  # the same on every row of the country
        for country, *values in wide:
            assert dict(zip(WIDE, values, strict=True)) == {c: long.get((country, c), 0) for c in WIDE}, country
            # every authority of the default run has a column: 'all' is their sum
            assert values[-1] == sum(values[:-1]), country


def test_monthly_series_recounted(built: Path, recount: duckdb.DuckDBPyConnection) -> None:
    """Designations in force at a month's end: keys first listed on or before it (listing dates only)."""
    last = rows(built, "select max(month) from mart_country_rankings_monthly")[0][0]
    for month in (date(2022, 2, 1), date(2022, 3, 1), last):
        end = f"date '{month}' + interval 1 month"
        got = {(a, lc, c): (n, *w) for a, lc, c, n, *w in rows(built, f"""
            select authority, list_code, country_iso2, designations, {", ".join(f'"{c}"' for c in WIDE)}
            from mart_country_rankings_monthly
            where unit = 'designations' and basis = 'nationality' and month = ?""", [month])}
        expected: dict[tuple[str, str, str], int] = {}
        for authority, list_code, country, n in recount.execute(f"""
                with first as (
                    select authority, list_code, country_iso2, designation_id as k, min(listed_on) as listed_on
                    from keyed where listed_on is not null group by all
                    union all
                    select authority, 'all', country_iso2, record_key, min(listed_on) from keyed
                    where listed_on is not null group by all
                    union all
                    select 'all', 'all', country_iso2, record_key, min(listed_on) from keyed
                    where listed_on is not null and authority <> 'opensanctions' group by all
                )
                select authority, list_code, country_iso2, count(distinct k) from first
                where listed_on < {end} group by all""").fetchall():
            expected[(authority, list_code, country)] = n
        assert {k: v[0] for k, v in got.items()} == expected, month
        for (_authority, _list_code, country), (_n, *wide) in got.items():
            assert wide == [expected.get((a, "all", country), 0) for a in (*AUTHORITY_COLUMNS, "all")]


def test_crossovers_per_authority(built: Path) -> None:
    crossed = rows(built, """
        select authority, strftime(month, '%Y-%m'), designations, overtaken_designations, us, eu, un, gb, ca, ch, "all"
        from mart_rank_crossovers
        where unit = 'designations' and list_code = 'all' and basis = 'program_target'
          and country_iso2 = 'RU' and overtaken_iso2 = 'IR'
        order by authority, month""")
    authorities = {r[0] for r in crossed}
    assert {"all", "us_ofac", "eu", "gb", "ca", "ch"} <= authorities and "un_sc" not in authorities
    monthly = {(a, m): (n, *w) for a, m, n, *w in rows(built, """
        select authority, strftime(month, '%Y-%m'), designations, us, eu, un, gb, ca, ch, "all"
        from mart_country_rankings_monthly
        where unit = 'designations' and list_code = 'all' and basis = 'program_target' and country_iso2 = 'RU'""")}
    for authority, month, n, m, *wide in crossed:
        assert n > m and monthly[(authority, month)] == (n, *wide)
        if authority in AGGREGATORS:
            continue
        column = {**AUTHORITY_COLUMNS, "all": "all"}[authority]
        assert wide[WIDE.index(column)] == n
    # the SDN list alone has its own series and crossovers
    assert rows(built, """select count(*) from mart_rank_crossovers where authority = 'us_ofac'
                          and list_code = 'SDN' and country_iso2 = 'RU' and overtaken_iso2 = 'IR'""")[0][0] >= 1


def test_headline_shows_russia_and_iran_per_authority(built: Path) -> None:
    con = duckdb.connect(str(built), read_only=True)
    try:
        lines = _pair_by_authority(con, "RU", "IR", "Russia", "Iran")
        table = _rankings(con, 10)
        crossed = dict(con.execute("""
            select authority, strftime(max(month), '%B %Y') from mart_rank_crossovers
            where unit = 'designations' and list_code = 'all' and basis = 'program_target'
              and country_iso2 = 'RU' and overtaken_iso2 = 'IR' group by 1""").fetchall())
        now = {(a, c): n for a, c, n in con.execute("""
            select authority, country_iso2, designations from mart_country_rankings
            where unit = 'designations' and list_code = 'all' and basis = 'program_target' and entity_type = 'all'
              and country_iso2 in ('RU', 'IR')""").fetchall()}
    finally:
        con.close()
    labels = {"all": "all", "us_ofac": "US (OFAC)", "eu": "EU", "un_sc": "UN", "gb": "UK", "ca": "Canada",
              "ch": "Switzerland"}
    for authority, label in labels.items():
        [line] = [line for line in lines if line.startswith(f"  {label:<12}")]
        assert f" {now.get((authority, 'RU'), 0)} " in line and f" {now.get((authority, 'IR'), 0)} " in line, line
        if authority in crossed:
            assert line.rstrip().split("  ")[-1].startswith(crossed[authority]), line
        else:
            assert "not crossed" in line, line
    assert "not crossed (neither listed)" in next(line for line in lines if line.startswith(f"  {'UN':<12}"))
    header = next(line for line in table if line.lstrip().startswith("#"))
    assert header.split()[2:] == ["all", "targets", *AUTHORITY_COLUMNS.values(), "share"]
    russia = next(line for line in table if "Russia (RU)" in line)
    cells = russia.split()[3:11]
    assert [cells[0], *cells[2:]] == [str(now.get((a, "RU"), 0)) for a in ("all", *AUTHORITY_COLUMNS)]
    # unique targets beside designations: never more than the designations, and the pair table's last row
    assert 0 < int(cells[1]) <= int(cells[0])
    [targets_line] = [line for line in lines if line.startswith(f"  {'all targets':<12}")]
    assert f" {cells[1]} " in targets_line
