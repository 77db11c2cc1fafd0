"""Partial inputs are named as such (issue 13, point 10), on the real OFAC samples.

A snapshot read from an incomplete file set (an OFAC CSV set without ADD.CSV / ALT.CSV /
SDN_COMMENTS.CSV) or accepted under its floor (``--accept-small-lists``) is recorded as partial with
its data (parse_audit rule ``partial_input``), listed in ``mart_partial_inputs`` with what it cannot
show, flagged in the headline, and a missing file is never read by the snapshot deltas as every
address or alias removed (before: 1,347 "countries changed" between the 2021 set and the 2024
``sdn.csv`` alone, all but 23 of them only the missing ADD.CSV).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline.parse import parse_files
from pipeline.partial import COMPONENTS, headline_lines
from tests.conftest import DEMO
from tests.model_fixtures import given, rows, run, scratch

REPO = Path(__file__).resolve().parents[1]
SDN = "us_ofac_sdn"
D1, D2 = date(2021, 4, 25), date(2021, 4, 26)
LAKE_TABLES = ("designations", "names", "country_links", "identifiers", "relations", "parse_audit")


def _set_2021(samples: Path) -> Path:
    return samples / "ofac" / "sdn_csv_2021-04-25_subset"


def _gaps(staged: Path, source: str = SDN) -> list[tuple]:
    """(reason, value, raw_file) of the partial_input rows of every snapshot parsed into ``staged``."""
    with duckdb.connect() as con:
        return con.execute(
            "select field, value, raw_file from read_parquet(?) where rule = 'partial_input' order by all",
            [str(staged / "parse_audit" / f"source={source}" / "*" / "*.parquet")]).fetchall()


# --- the parser records the gap with the snapshot --------------------------------------------------


def test_a_csv_set_without_its_side_files_is_recorded_partial(samples: Path, tmp_path: Path):
    folder = _set_2021(samples)
    result = parse_files(SDN, [folder / "sdn.csv"], tmp_path, snapshot_date=D1, strict=False)
    assert result.counts["designations"] == 2500  # the main file is read as before
    assert _gaps(tmp_path) == [
        ("incomplete_set", "addresses: ADD.CSV", "sdn.csv"),
        ("incomplete_set", "aliases: ALT.CSV", "sdn.csv"),
        ("incomplete_set", "remarks_overflow: SDN_COMMENTS.CSV", "sdn.csv"),
    ]
    assert result.audit["partial_input:incomplete_set"] == 3


def test_a_whole_set_is_not_partial(tmp_path: Path):
    folder = DEMO / "us_ofac_sdn" / "csv"
    parse_files(SDN, sorted(folder.iterdir()), tmp_path, snapshot_date=D1)
    assert _gaps(tmp_path) == []


def test_the_consolidated_set_names_its_own_members(samples: Path, tmp_path: Path):
    folder = samples / "ofac" / "cons_csv"
    parse_files("us_ofac_cons", [folder / "cons_prim.csv", folder / "cons_add.csv", folder / "cons_comments.csv"],
                tmp_path, snapshot_date=D1, strict=False)
    assert _gaps(tmp_path, "us_ofac_cons") == [("incomplete_set", "aliases: CONS_ALT.CSV", "cons_prim.csv")]


def test_a_list_under_its_floor_is_recorded_only_when_a_floor_is_given(samples: Path, tmp_path: Path):
    folder = _set_2021(samples)
    files = [folder / "sdn.csv", folder / "add.csv", folder / "alt.csv"]
    parse_files(SDN, files, tmp_path / "no_floor", snapshot_date=D1, strict=False)
    assert [g for g in _gaps(tmp_path / "no_floor") if g[0] == "below_floor"] == []
    parse_files(SDN, files, tmp_path / "floor", snapshot_date=D1, strict=False, floor=12000)
    assert [g for g in _gaps(tmp_path / "floor") if g[0] == "below_floor"] == [
        ("below_floor", "designations: 2500 designations, under the floor of 12000 of a complete list", "sdn.csv")]
    parse_files(SDN, files, tmp_path / "over", snapshot_date=D1, strict=False, floor=2500)
    assert [g for g in _gaps(tmp_path / "over") if g[0] == "below_floor"] == []


def test_archives_are_never_below_a_floor(tmp_path: Path):
    """A batch of events or votes adds to an archive: a small one is not a partial list."""
    folder = DEMO / "unga_votes"
    parse_files("unga_votes", sorted(p for p in folder.glob("*.csv")), tmp_path, floor=10**9)
    assert _gaps(tmp_path, "unga_votes") == []


def test_every_component_says_what_it_cannot_show():
    """The mart's table of what each component cannot show covers every component a parser writes."""
    sql = (REPO / "sql" / "models" / "marts" / "mart_partial_inputs.sql").read_text(encoding="utf-8")
    described = set(re.findall(r"^\s*\(\s*'([a-z_]+)',", sql, flags=re.M))
    assert described == set(COMPONENTS)


# --- the models: the mart and the deltas -------------------------------------------------------------


def _build(tmp: Path, *snapshots: tuple[list[Path], date]) -> Path:
    """Parse each (files, snapshot date) of the 2021 set, give the staged rows to the models and build
    the deltas and the partial-inputs mart with dbt."""
    staged = tmp / "staged"
    for files, day in snapshots:
        parse_files(SDN, files, staged, snapshot_date=day, strict=False)
    with duckdb.connect() as con:
        lake = {t: con.execute("select * from read_parquet(?, hive_partitioning = true)",
                               [str(staged / t / "**" / "*.parquet")]).df() for t in LAKE_TABLES}
    db = given(scratch("partial"), lake=lake)
    run(db, "+mart_snapshot_deltas", "+mart_partial_inputs")
    return db


DELTA = """select snapshot_date, added, removed, changed, names_changed, countries_changed, not_compared
           from mart_snapshot_deltas where snapshot_date = ?"""


def test_a_missing_add_csv_is_no_address_removed(samples: Path):
    """The same list twice, the second time without its ADD.CSV: nothing was removed or changed (before
    the fix: 1,785 'countries changed', every address of the list)."""
    folder = _set_2021(samples)
    db = _build(scratch("no_add"), ([folder / "sdn.csv", folder / "add.csv", folder / "alt.csv"], D1),
                ([folder / "sdn.csv", folder / "alt.csv"], D2))
    assert rows(db, DELTA, [D2]) == [(D2, 0, 0, 0, 0, 0, ["addresses", "remarks_overflow"])]
    assert rows(db, "select count(*) from mart_snapshot_delta_records where snapshot_date = ?", [D2]) == [(0,)]
    assert rows(db, """select snapshot_date, is_current, reason, component, missing from mart_partial_inputs
                       order by all""") == [
        (D1, False, "incomplete_set", "remarks_overflow", "SDN_COMMENTS.CSV"),
        (D2, True, "incomplete_set", "addresses", "ADD.CSV"),
        (D2, True, "incomplete_set", "remarks_overflow", "SDN_COMMENTS.CSV"),
    ]


def test_a_set_given_its_side_files_again_adds_none(samples: Path):
    """The other way: the set without ADD.CSV and ALT.CSV first, whole the next day: no address or alias
    is 'added' to 2,500 designations."""
    folder = _set_2021(samples)
    db = _build(scratch("add_back"), ([folder / "sdn.csv"], D1),
                ([folder / "sdn.csv", folder / "add.csv", folder / "alt.csv"], D2))
    assert rows(db, DELTA, [D2]) == [(D2, 0, 0, 0, 0, 0, ["addresses", "aliases", "remarks_overflow"])]


def test_deltas_against_a_newer_main_file_alone_count_real_changes_only(samples: Path):
    """The 2021 set, then the 2024 sdn.csv alone (the issue's 1,347 'countries changed'): the changes
    counted are those of the links both snapshots cover, recounted here from the staged rows."""
    folder = _set_2021(samples)
    d2024 = date(2024, 5, 3)
    db = _build(scratch("newer"), ([folder / "sdn.csv", folder / "add.csv", folder / "alt.csv"], D1),
                ([samples / "ofac" / "sdn_csv_2024-05-03_head" / "sdn.csv"], d2024))
    (day, added, removed, changed, names, countries, not_compared), = rows(db, DELTA, [d2024])
    assert not_compared == ["addresses", "aliases", "remarks_overflow"]
    assert (added, removed) == (589, 589)  # records are compared as before
    # an independent recount: designations in both whose non-address mapped links differ
    recount = rows(db, """
        with links as (
            select snapshot_date, source_record_id,
                   list(distinct link_type || ':' || country_iso2 order by link_type || ':' || country_iso2) as s
            from lake.country_links where country_iso2 is not null and link_type <> 'address'
            group by all),
        both_snapshots as (
            select a.source_record_id from lake.designations as a
            join lake.designations as b using (source_record_id)
            where a.snapshot_date = ? and b.snapshot_date = ?)
        select count(*) from both_snapshots
        left join links as l1 on l1.source_record_id = both_snapshots.source_record_id and l1.snapshot_date = ?
        left join links as l2 on l2.source_record_id = both_snapshots.source_record_id and l2.snapshot_date = ?
        where coalesce(l1.s, []) <> coalesce(l2.s, [])""", [D1, d2024, D1, d2024])[0][0]
    assert countries == recount < 100  # 23, where the missing ADD.CSV made 1,347
    names_moved = rows(db, """select count(*) from lake.designations as a join lake.designations as b
                              using (source_record_id)
                              where a.snapshot_date = ? and b.snapshot_date = ? and a.primary_name <> b.primary_name""",
                       [D1, d2024])[0][0]
    assert names == names_moved  # only primary names are compared without ALT.CSV (before: 916)
    assert rows(db, """select count(*) from mart_snapshot_delta_records
                       where snapshot_date = ? and (len(list_filter(country_links_added || country_links_removed,
                             lambda x: starts_with(x, 'address:'))) > 0 or not_compared <> ?)""",
                [d2024, not_compared]) == [(0,)]


def test_headline_lines_name_each_gap_of_the_current_snapshots(samples: Path, tmp_path: Path):
    """An older partial snapshot is in the mart, not in the headline: the headline counts the current one."""
    folder = _set_2021(samples)
    staged = tmp_path / "staged"
    parse_files(SDN, [folder / "sdn.csv", folder / "alt.csv"], staged, snapshot_date=D1, strict=False)
    parse_files(SDN, [samples / "ofac" / "sdn_csv_2024-05-03_head" / "sdn.csv"], staged,
                snapshot_date=date(2024, 5, 3), strict=False, floor=12000)
    with duckdb.connect() as con:
        lake = {t: con.execute("select * from read_parquet(?, hive_partitioning = true)",
                               [str(staged / t / "**" / "*.parquet")]).df() for t in LAKE_TABLES}
    db = given(scratch("headline"), lake=lake)
    run(db, "+mart_partial_inputs")
    with duckdb.connect(str(db), read_only=True) as con:
        lines = headline_lines(con)
    assert lines[0] == "" and lines[1].startswith("PARTIAL LISTS (us_ofac_sdn): ")
    assert [line.split(";")[0] for line in lines[2:]] == [
        "  us_ofac_sdn 2024-05-03: a subset under its floor, accepted as one by --accept-small-lists (2500 "
        "designations, under the floor of 12000 of a complete list)",
        "  us_ofac_sdn 2024-05-03: an incomplete file set (no ADD.CSV)",
        "  us_ofac_sdn 2024-05-03: an incomplete file set (no ALT.CSV)",
        "  us_ofac_sdn 2024-05-03: an incomplete file set (no SDN_COMMENTS.CSV)",
    ]
    assert rows(db, "select count(*) from mart_partial_inputs where snapshot_date = ?", [D1]) == [(2,)]
    with duckdb.connect() as empty:
        assert headline_lines(empty) == []  # a publication from before the mart: nothing to say


# --- a run: below the floor, accepted, and flagged in the headline -------------------------------------


@pytest.mark.integration
def test_a_small_incomplete_list_is_flagged_in_the_headline(samples: Path, tmp_path: Path):
    """``pipeline run --accept-small-lists`` on the 2024 sdn.csv alone (2,500 of 14,965 records, no
    ADD.CSV, ALT.CSV or SDN_COMMENTS.CSV): it publishes, and the headline says it is a partial list and
    what it cannot show."""
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PIPELINE_"))}
    env.update({"PIPELINE_HOME": str(home), "GX_ANALYTICS_ENABLED": "False"})
    sdn = samples / "ofac" / "sdn_csv_2024-05-03_head" / "sdn.csv"
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--input", f"{SDN}={sdn}",
                           "--snapshot-date", "2024-05-03", "--accept-small-lists"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("PARTIAL LISTS (us_ofac_sdn)"))
    flagged = [line.strip() for line in lines[start + 1:start + 5]]
    assert flagged[0].startswith("us_ofac_sdn 2024-05-03: a subset under its floor, accepted as one by "
                                 "--accept-small-lists (2500 designations, under the floor of 12000 of a complete "
                                 "list); it cannot show the designations outside the subset")
    assert flagged[1].startswith("us_ofac_sdn 2024-05-03: an incomplete file set (no ADD.CSV); it cannot show "
                                 "address countries")
    assert flagged[2].startswith("us_ofac_sdn 2024-05-03: an incomplete file set (no ALT.CSV); it cannot show aliases")
    assert flagged[3].startswith("us_ofac_sdn 2024-05-03: an incomplete file set (no SDN_COMMENTS.CSV)")
    with duckdb.connect(str(home / "publish" / "current" / "sanctions.duckdb"), read_only=True) as con:
        assert con.execute("select reason, component from mart_partial_inputs where is_current "
                           "order by all").fetchall() == [
            ("below_floor", "designations"), ("incomplete_set", "addresses"), ("incomplete_set", "aliases"),
            ("incomplete_set", "remarks_overflow")]



def test_an_amendment_is_refused_unless_partial_lists_are_accepted(samples: Path, tmp_path: Path):
    """SECO's amendment file holds the targets changed on one date, not the list: the pipeline refuses it by
    default, naming the way to accept it; accepted, it is staged and recorded as a partial list."""
    from pipeline.errors import SourceError
    from pipeline.parse import parse_files

    amendment = samples / "ch" / "seco_amendment_example_2024-01-17.xml"
    with pytest.raises(SourceError, match=r"amendment.*--accept-small-lists"):
        parse_files("ch_seco", [amendment], tmp_path / "refused")
    parse_files("ch_seco", [amendment], tmp_path / "accepted", accept_partial=True)
    gaps = duckdb.sql(f"""select field, value from read_parquet('{tmp_path}/accepted/parse_audit/**/*.parquet')
                          where rule = 'partial_input'""").fetchall()
    assert gaps == [("amendment", "designations: only the targets changed on 2024-01-17")]
    staged = duckdb.sql(f"select count(*) from read_parquet('{tmp_path}/accepted/designations/**/*.parquet')")
    assert staged.fetchall()[0][0] > 0
