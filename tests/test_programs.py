"""The programme table is the union of every source folder's programs.csv (pipeline/sources/<id>/
programs.csv), read the same way by Python (``read_programs``) and by the dbt model ``ref.programs``;
a row given twice is an error naming both files. Built on the demo files of us_ofac_sdn, us_ofac_cons
and opensanctions: OpenSanctions keeps its own per-authority rows but never counts in the 'all
authorities' rollups, and the SDN entries OFAC's consolidated file repeats (VTB, VEB, Sberbank) count
once, from us_ofac_sdn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.models import build_database
from pipeline.parse import parse_files
from pipeline.reference import PROGRAM_COLUMNS, SOURCES_DIR, ProgramTableError, read_programs

REPO = Path(__file__).resolve().parents[1]
SQL = REPO / "sql"
DEMO = REPO / "data" / "demo"
HEADER = ",".join(PROGRAM_COLUMNS) + "\n"


def _folder(root: Path, source: str, rows: str) -> Path:
    path = root / source / "programs.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_the_union_of_every_source_folder() -> None:
    rows = read_programs()
    by_folder = {r["defined_in"] for r in rows}
    assert {"us_ofac_sdn", "un_sc", "eu_fsf", "gb_hmt", "ca_sema", "ch_seco", "opensanctions"} <= by_folder
    # us_ofac_cons shares the OFAC rows of us_ofac_sdn's file: no second copy
    assert not (SOURCES_DIR / "us_ofac_cons" / "programs.csv").exists()
    assert {r["defined_in"] for r in rows if r["authority"] == "us_ofac"} == {"us_ofac_sdn"}
    assert {r["defined_in"] for r in rows if r["authority"] == "un_sc"} == {"un_sc"}
    assert ("us_ofac", "RUSSIA-EO14024", "RU") in {(r["authority"], r["program"], r["target_iso2"]) for r in rows}


def test_a_row_in_two_files_is_an_error_naming_both(tmp_path: Path) -> None:
    first = _folder(tmp_path, "a_src", "x,P1,RU,,country,one\nx,P2,,,thematic,two\n")
    second = _folder(tmp_path, "b_src", "x,P3,IR,,country,three\nx,P1,RU,,country,again\n")
    with pytest.raises(ProgramTableError) as err:
        read_programs(tmp_path)
    message = str(err.value)
    assert f"{first} line 2" in message and f"{second} line 3" in message and "'P1'" in message
    # the same programme with another target is a second row, not a duplicate
    _folder(tmp_path, "b_src", "x,P1,UA,crimea,country,another target\n")
    assert len(read_programs(tmp_path)) == 3


def test_a_file_with_another_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c_src" / "programs.csv"
    path.parent.mkdir()
    path.write_text("authority,program,target\nx,P,RU\n", encoding="utf-8")
    with pytest.raises(ProgramTableError, match=r"c_src/programs.csv: header .* no programme read"):
        read_programs(tmp_path)


def _dbt_programs(tmp_path: Path, glob: str) -> subprocess.CompletedProcess:
    """`dbt build --select programs` in sql/ (as a dbt user runs it), reading the programme files ``glob``."""
    env = {**os.environ, "PIPELINE_DBT_DB": str(tmp_path / "p.duckdb"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "build", "--select", "programs",
         "--vars", json.dumps({"programs_csv": glob}),
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=SQL, env=env, capture_output=True, text=True, timeout=1800)


@pytest.mark.integration
def test_the_dbt_model_is_the_same_union(tmp_path: Path) -> None:
    """Without the var, the model reads the sources beside the project; it equals read_programs()."""
    env = {**os.environ, "PIPELINE_DBT_DB": str(tmp_path / "p.duckdb"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "build", "--select", "programs",
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=SQL, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:]
    con = duckdb.connect(str(tmp_path / "p.duckdb"), read_only=True)
    try:
        built = con.execute("select authority, program, coalesce(target_iso2, ''), coalesce(region, ''), kind, "
                            "description, defined_in from ref.programs").fetchall()
    finally:
        con.close()
    assert sorted(built) == sorted(tuple(r.values()) for r in read_programs())


@pytest.mark.integration
def test_the_dbt_model_refuses_a_row_in_two_files(tmp_path: Path) -> None:
    folders = tmp_path / "sources"
    first = _folder(folders, "a_src", 'x,P1,RU,,country,"one, quoted ""twice"""\n')
    second = _folder(folders, "b_src", "x,P1,RU,,country,again\n")
    done = _dbt_programs(tmp_path, str(folders / "*" / "programs.csv"))
    assert done.returncode != 0
    assert f"programme row (x, P1, RU) is given more than once: in {first} and {second}" in done.stdout
    # apart, the same files build (a quoted description with quotes included)
    second.write_text(HEADER + "x,P2,,,thematic,two\n", encoding="utf-8")
    assert _dbt_programs(tmp_path, str(folders / "*" / "programs.csv")).returncode == 0


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """The pipeline's dbt build over the demo files of us_ofac_sdn, us_ofac_cons and opensanctions."""
    root = tmp_path_factory.mktemp("programs")
    staged = root / "staged"
    parse_files("us_ofac_sdn", [DEMO / "us_ofac_sdn" / "sdn_advanced.xml"], staged)
    parse_files("us_ofac_cons", [DEMO / "us_ofac_cons" / "cons_advanced.xml"], staged)
    parse_files("opensanctions", [DEMO / "opensanctions" / "entities.ftm.json"], staged)
    db = root / "sanctions.duckdb"
    build_database(staged, db, SQL, "v1.2.0", work_dir=root / "dbt")
    con = duckdb.connect(str(db), read_only=True)
    yield con
    con.close()


def _mismatches(con: duckdb.DuckDBPyConnection, mart: str, keys: str, value: str) -> tuple[int, list[tuple]]:
    """(rows of authority opensanctions, 'all' rows that differ from the sum over the other authorities)."""
    own = con.execute(f"select count(*) from {mart} where authority = 'opensanctions'").fetchone()[0]
    # each authority over all its lists (list_code 'all'): one OFAC record on two lists is one there
    # in unit 'designations' ('all' is the sum over the authorities; a target several list counts once in 'all')
    lists = "and list_code = 'all' and unit = 'designations'" if mart.startswith("mart_country_rankings") else ""
    differ = con.execute(f"""
        with others as (
            select {keys}, sum({value}) as expected from {mart}
            where authority not in ('all', 'opensanctions') {lists} group by all
        ),
        rollup as (select {keys}, {value} as got from {mart} where authority = 'all' {lists})
        select * from rollup full join others using ({keys})
        where coalesce(got, 0) <> coalesce(expected, 0)
    """).fetchall()
    return own, differ


@pytest.mark.integration
def test_opensanctions_never_counts_in_all(published: duckdb.DuckDBPyConnection) -> None:
    # the current ranking (and every as-of date): designations are per authority listing, so 'all' is the sum
    own, differ = _mismatches(published, "mart_country_rankings_as_known",
                              "as_of_date, basis, entity_type, country_iso2", "designations")
    assert own > 0 and differ == []
    # OpenSanctions lists countries the official lists here do not: those have no 'all' row at all
    only_os = published.execute("""
        select count(*) from mart_country_rankings r
        where authority = 'opensanctions' and not exists (
            select 1 from mart_country_rankings o where o.authority not in ('opensanctions', 'all')
            and (o.basis, o.entity_type, o.country_iso2) = (r.basis, r.entity_type, r.country_iso2))
        and exists (select 1 from mart_country_rankings a where a.authority = 'all'
            and (a.basis, a.entity_type, a.country_iso2) = (r.basis, r.entity_type, r.country_iso2))
    """).fetchone()[0]
    assert only_os == 0
    own, differ = _mismatches(published, "mart_country_rankings_monthly", "month, basis, country_iso2",
                              "designations")
    assert own > 0 and differ == []
    own, _ = _mismatches(published, "mart_dyad_sanctions_exposure", "country_a, country_b", "linked_to_both")
    assert own > 0
    # exposure counts distinct designations, and a designation has one authority: 'all' is the sum too
    _, differ = _mismatches(published, "mart_dyad_sanctions_exposure", "country_a, country_b", "linked_to_both")
    assert differ == []


@pytest.mark.integration
def test_the_sdn_entries_the_consolidated_file_repeats_count_once(published: duckdb.DuckDBPyConnection) -> None:
    repeated = published.execute("""
        select primary_name from lake.designations where source = 'us_ofac_cons' and list = 'SDN'
    """).fetchall()
    names = {n for (n,) in repeated}
    assert any("VTB" in n for n in names) and any("SBERBANK" in n.upper() for n in names), names
    counted = published.execute("""
        select primary_name, list_code, count(*) from int_designations_current
        where primary_name in (select primary_name from lake.designations
                               where source = 'us_ofac_cons' and list = 'SDN')
          and list_code = 'SDN'
        group by all
    """).fetchall()
    assert {n for n, _, _ in counted} == names and all(count == 1 for _, _, count in counted)
    # the parties' non-SDN listings from the consolidated file still count
    assert published.execute("""
        select count(*) from int_designations_current
        where source = 'us_ofac_cons' and list_code <> 'SDN'
    """).fetchone()[0] > 0
    assert published.execute("""
        select count(*) from int_designations_current where source = 'us_ofac_cons' and list_code = 'SDN'
    """).fetchone()[0] == 0
