"""The SQL models as a dbt project that runs on its own: `dbt build` in `sql/` (the shipped profile,
pointed at a staged lake by PIPELINE_LAKE) reads the lake's Parquet and the reference CSVs (seeds)
and writes a self-contained DuckDB 1.2+ file: the staged tables copied into schema `lake`, the CSVs
in `ref`, views for what only feeds other models, tables for the marts, every description as
COMMENT ON. A staged table no source wrote builds empty with its declared columns; a lake with no
part at all is an error that names it; a failing data test stops the build and names the test;
`dbt docs generate` works offline; the generated lake layer is current."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml

from pipeline.errors import ModelError
from pipeline.models import (
    LAYERS,
    MANIFEST_CACHE_ENV,
    build_database,
    dbt,
    discover,
    lake_layer,
    lake_models,
    load_docs,
    materializations,
    seed_names,
)
from pipeline.parse import parse_files
from pipeline.reference import REFERENCE_DIR
from pipeline.sources import all_schemas
from tests.model_fixtures import mini_project

REPO = Path(__file__).resolve().parents[1]
SQL = REPO / "sql"
DEMO = REPO / "data" / "demo"
STORAGE_VERSION = "v1.2.0"
READ_BY_THE_PIPELINE = ("int_designations_current", "int_current_snapshots", "stg_ref__countries")
OLDER = "2020-01-15"  # the snapshot date of a hand-written older part (a column since added, one since dropped)


def _older_part(staged: Path) -> None:
    """An older OFAC designations part written before `remarks` existed and with a column since dropped."""
    current = next((staged / "designations" / "source=us_ofac_sdn").glob("snapshot_date=*/*.parquet"))
    table = pq.read_table(current).drop_columns(["remarks"])
    table = table.append_column("legacy_note", table.column("primary_name"))
    folder = staged / "designations" / "source=us_ofac_sdn" / f"snapshot_date={OLDER}"
    folder.mkdir(parents=True)
    pq.write_table(table, folder / "part-older.parquet")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`dbt build` run in sql/ as a dbt user runs it, over a lake of the OFAC and UN demo lists only."""
    root = tmp_path_factory.mktemp("dbt")
    staged = root / "staged"
    parse_files("us_ofac_sdn", [DEMO / "us_ofac_sdn" / "sdn_advanced.xml"], staged)
    parse_files("un_sc", [DEMO / "un_sc" / "consolidated.xml"], staged)
    _older_part(staged)
    csvs = {p: p.read_bytes() for p in REFERENCE_DIR.glob("*.csv")}
    db = root / "sanctions.duckdb"
    env = {**os.environ, "PIPELINE_LAKE": str(staged), "PIPELINE_DBT_DB": str(db),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "build", "--target-path", str(root / "target"),
         "--log-path", str(root / "logs")],
        cwd=SQL, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert {p: p.read_bytes() for p in REFERENCE_DIR.glob("*.csv")} == csvs, "the build wrote into the seeds"
    return db


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.integration
def test_build_writes_marts_as_tables_and_the_rest_as_views(built: Path):
    header = built.read_bytes()[:20]
    assert header[8:12] == b"DUCK" and struct.unpack("<Q", header[12:20])[0] == 65  # v1.2.0
    assert not built.with_name(built.name + ".wal").exists()
    tables = {r[0] for r in _rows(built, "select table_name from duckdb_tables() where schema_name = 'main'")}
    views = {r[0] for r in _rows(built, "select view_name from duckdb_views() where schema_name = 'main' "
                                        "and not internal")}
    models = discover(SQL)
    assert tables == {m for m, model in models.items() if model.layer == "marts"}
    assert views == {m for m, model in models.items() if model.layer != "marts"}
    assert set(READ_BY_THE_PIPELINE) <= views
    assert _rows(built, "select count(*) from mart_country_rankings")[0][0] > 100
    by_schema: dict[str, set[str]] = {}
    others = "select schema_name, table_name from duckdb_tables() where schema_name <> 'main'"
    for schema, table in _rows(built, others):
        by_schema.setdefault(schema, set()).add(table)
    # ref: the seeds and the programme table (models/ref/programs.sql, every source's programs.csv)
    seeds = {p.stem for p in REFERENCE_DIR.glob("*.csv")}
    # lake: the staged tables, and the run's side files (the match step's and the fetch log's, sql/models/
    # matching and fetch: tables in the lake schema, empty when the step did not run)
    side = {p.stem for folder in ("matching", "fetch") for p in (SQL / "models" / folder).glob("*.sql")}
    assert side and by_schema == {"lake": set(all_schemas()) | side, "ref": seeds | {"programs"}}


@pytest.mark.integration
def test_the_file_is_self_contained_and_opens_under_any_name(built: Path, tmp_path: Path):
    copy = tmp_path / "renamed.duckdb"
    copy.write_bytes(built.read_bytes())
    # no file outside the database can be read, and the database is named `renamed`
    con = duckdb.connect(str(copy), read_only=True, config={"enable_external_access": False})
    try:
        assert con.execute("select count(*) from int_designations_current").fetchone()[0] > 100
        views = con.execute("select view_name from duckdb_views() where not internal").fetchall()
        for (view,) in views:
            con.execute(f"select * from {view} limit 1").fetchall()
        assert len(views) > 20
    finally:
        con.close()


@pytest.mark.integration
def test_descriptions_become_comments(built: Path):
    docs = load_docs(SQL)
    commented = dict(_rows(built, "select table_name, comment from duckdb_tables()"
                                  " union all select view_name, comment from duckdb_views() where not internal"))
    for name, doc in docs.items():
        assert " ".join((commented.get(name) or "").split()) == " ".join(doc["description"].split()), name
    columns = _rows(built, """select table_name, column_name, comment from duckdb_columns()
                              where schema_name = 'lake' or table_name like 'mart\\_%' escape '\\'""")
    undocumented = [(t, c) for t, c, comment in columns if not comment]
    assert not undocumented


@pytest.mark.integration
def test_a_table_no_source_wrote_is_empty_with_its_declared_columns(built: Path):
    declared = yaml.safe_load(lake_layer()[Path("models/lake/_lake.yml")])
    unga = next(m for m in declared["models"] if m["name"] == "unga_votes")
    got = _rows(built, "select column_name, lower(data_type) from duckdb_columns() "
                       "where schema_name = 'lake' and table_name = 'unga_votes'")
    assert got == [(c["name"], c["data_type"]) for c in unga["columns"]]
    assert _rows(built, "select count(*) from lake.unga_votes") == [(0,)]
    assert _rows(built, "select count(*) from mart_unga_agreement") == [(0,)]


@pytest.mark.integration
def test_older_parts_keep_the_declared_columns(built: Path):
    """A part written before a column existed gives it as null; a column only older parts have is not kept."""
    columns = [r[0] for r in _rows(built, "select column_name from duckdb_columns() where schema_name = 'lake' "
                                          "and table_name = 'designations'")]
    assert "remarks" in columns and "legacy_note" not in columns
    older = _rows(built, f"select count(*), count(remarks) from lake.designations where snapshot_date = '{OLDER}'")
    assert older[0][0] > 100 and older[0][1] == 0
    newer = _rows(built, f"select count(remarks) from lake.designations where snapshot_date > '{OLDER}'")
    assert newer[0][0] > 0


def test_the_lake_layer_is_current():
    """`pipeline docs` writes the lake layer from the staged schemas; after adding a staged table or column, run it."""
    layer = lake_layer()
    on_disk = {p.relative_to(SQL) for p in (SQL / "models" / "lake").iterdir()}
    assert on_disk == set(layer), "run `pipeline docs` and commit sql/models/lake"
    for rel, text in layer.items():
        assert (SQL / rel).read_text(encoding="utf-8") == text, f"run `pipeline docs`: {rel} is not current"
    assert set(lake_models(SQL)) == set(all_schemas())


def test_every_model_is_documented_and_materialized_by_its_folder():
    docs = load_docs(SQL)
    for name in discover(SQL):
        assert docs.get(name, {}).get("description"), f"{name}: no description in its layer's _*.yml"
    assert materializations(SQL) == {"lake": "table", "staging": "view", "intermediate": "view", "marts": "table"}
    for layer in LAYERS:
        for path in (SQL / "models" / layer).iterdir():
            text = path.read_text(encoding="utf-8")
            assert "materialized" not in text, f"{path}: the folder sets the materialization (sql/dbt_project.yml)"
    assert seed_names(SQL) == sorted(p.stem for p in REFERENCE_DIR.glob("*.csv"))


def _mart(columns: list[tuple[str, str]], sql: str, grain: list[str], tests: list | None = None) -> dict[str, str]:
    """A mart in models/marts: its SQL and its YAML entry (columns with types, grain, other tests)."""
    return {
        "marts/mart_pairs.sql": f"-- grain: one row per pair\n{sql}\n",
        "marts/_marts.yml": yaml.safe_dump({"version": 2, "models": [{
            "name": "mart_pairs", "description": "Pairs.",
            "columns": [{"name": c, "data_type": t, "description": c} for c, t in columns],
            "data_tests": [{"grain": {"arguments": {"columns": grain}}}, *(tests or [])]}]}),
    }


PAIRS = [("country_a", "varchar"), ("country_b", "varchar")]


def test_a_failing_data_test_stops_the_build_and_names_it(tmp_path: Path):
    project = mini_project(tmp_path, _mart(
        PAIRS, "select * from (values ('RU', 'IR')) as t(country_a, country_b)", ["country_a", "country_b"],
        [{"expression_is_true": {"arguments": {"expression": "country_a < country_b"}}}]))
    staged = tmp_path / "staged"
    staged.mkdir()
    with pytest.raises(ModelError, match=r"test expression_is_true_mart_pairs.*failed: 1 failing row"):
        build_database(staged, tmp_path / "out.duckdb", project, STORAGE_VERSION)


def test_a_mart_whose_columns_differ_from_its_contract_does_not_build(tmp_path: Path):
    project = mini_project(tmp_path, _mart([("country_a", "varchar"), ("pairs", "integer")],
                                           "select 'IR' as country_a, 2.5 as pairs", ["country_a"]))
    (tmp_path / "staged").mkdir()
    with pytest.raises(ModelError, match=r"model mart_pairs .*failed.*enforced contract.*"
                                         r"pairs \| DECIMAL\(2,1\) \| INTEGER \| data type mismatch"):
        build_database(tmp_path / "staged", tmp_path / "out.duckdb", project, STORAGE_VERSION)


def test_a_mart_that_breaks_its_grain_fails_its_grain_test(tmp_path: Path):
    project = mini_project(tmp_path, _mart(
        [("country_a", "varchar"), ("country_b", "varchar")],
        "select * from (values ('IR', 'RU'), ('IR', 'RU'), ('IR', null)) as t(country_a, country_b)",
        ["country_a", "country_b"]))
    (tmp_path / "staged").mkdir()
    with pytest.raises(ModelError, match=r"test grain_mart_pairs.*failed: 2 failing row"):
        build_database(tmp_path / "staged", tmp_path / "out.duckdb", project, STORAGE_VERSION)


def test_every_mart_states_its_columns_types_and_grain():
    """The one list of a mart's columns: its YAML entry, with a type for each and a grain test."""
    for path in (SQL / "models" / "marts").glob("_*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            untyped = [c["name"] for c in model.get("columns") or [] if not c.get("data_type")]
            assert model.get("columns") and not untyped, f"{model['name']}: columns without a data_type: {untyped}"
            grains = [t["grain"] for t in model.get("data_tests") or [] if isinstance(t, dict) and "grain" in t]
            assert len(grains) == 1, f"{model['name']}: one grain test"
            assert set(grains[0]["arguments"]["columns"]) <= {c["name"] for c in model["columns"]}


def test_a_documented_column_the_model_lacks_is_an_error(tmp_path: Path):
    """(A mart's columns are its contract; a view's documented columns are checked as they are commented.)"""
    project = mini_project(tmp_path, {
        "staging/stg_pairs.sql": "-- grain: one row per pair\nselect 'IR' as country_a, 'RU' as country_b\n",
        "staging/_staging.yml": yaml.safe_dump({"version": 2, "models": [{
            "name": "stg_pairs", "description": "Pairs.",
            "columns": [{"name": "country_a", "description": "A."}, {"name": "country_c", "description": "C."}]}]}),
    })
    (tmp_path / "staged").mkdir()
    with pytest.raises(ModelError, match=r"model stg_pairs .*failed.*does not have a column with name \"?country_c"):
        build_database(tmp_path / "staged", tmp_path / "out.duckdb", project, STORAGE_VERSION)


def test_a_rebuild_in_place_replaces_each_relation_and_a_failed_one_keeps_the_old(tmp_path: Path):
    """What `dbt build` twice on one file does (a dbt user's target/sanctions.duckdb): every model
    replaced, a model that turns from view to table too; a model that fails leaves the old one."""
    models = {
        "staging/stg_a.sql": "-- grain: one row per x\nselect 1 as x\n",
        "marts/mart_a.sql": "-- grain: one row per x\nselect x from {{ ref('stg_a') }}\n",
        "marts/_marts.yml": yaml.safe_dump({"version": 2, "models": [{
            "name": "mart_a", "description": "A.", "columns": [{"name": "x", "data_type": "integer"}]}]}),
    }
    project = mini_project(tmp_path, models)
    db, work = tmp_path / "in-place.duckdb", tmp_path / "work"
    assert dbt(project, db, ["build"], work, lake=tmp_path, storage_version=STORAGE_VERSION)[0].success
    (project / "models" / "staging" / "stg_a.sql").write_text("-- grain: one row per x\nselect 2 as x\n")
    (project / "models" / "marts" / "mart_a.sql").write_text(
        "-- grain: one row per x\n{{ config(materialized='view') }}\nselect x from {{ ref('stg_a') }}\n")
    assert dbt(project, db, ["build"], work, lake=tmp_path, storage_version=STORAGE_VERSION)[0].success
    assert _rows(db, "select table_type, (select x from mart_a) from information_schema.tables "
                     "where table_name = 'mart_a'") == [("VIEW", 2)]
    # back to a table (the view is dropped in the model's transaction), failing as it is written
    (project / "models" / "marts" / "mart_a.sql").write_text(
        "-- grain: one row per x\nselect cast('no' || x as integer) as x from {{ ref('stg_a') }}\n")
    assert not dbt(project, db, ["build"], work, lake=tmp_path, storage_version=STORAGE_VERSION)[0].success
    assert _rows(db, "select table_type, (select x from mart_a) from information_schema.tables "
                     "where table_name = 'mart_a'") == [("VIEW", 2)]


def test_an_empty_lake_is_an_error_that_names_it(tmp_path: Path):
    project = mini_project(tmp_path, lake=True)
    staged = tmp_path / "staged"
    staged.mkdir()
    lake = re.escape(str(staged.resolve()))
    with pytest.raises(ModelError, match=rf"no staged Parquet under the lake folder {lake}.*PIPELINE_LAKE"):
        build_database(staged, tmp_path / "out.duckdb", project, STORAGE_VERSION)


def test_a_kept_target_folder_builds_each_lake_it_is_pointed_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The cached manifest (partial parsing) is reused from one build to the next, each on another
    lake into another folder, and never pins the lake: two builds, two lakes, two contents. (dbt's
    own partial parsing in the kept folder: no shared manifest, tests/test_dbt_manifest_cache.py.)"""
    monkeypatch.setenv(MANIFEST_CACHE_ENV, "")
    project = mini_project(tmp_path, lake=True)
    work = tmp_path / "work"
    found = []
    for source, path in (("us_ofac_sdn", DEMO / "us_ofac_sdn" / "sdn_advanced.xml"),
                         ("un_sc", DEMO / "un_sc" / "consolidated.xml")):
        staged = tmp_path / source / "staged"
        parse_files(source, [path], staged)
        db = tmp_path / source / "sanctions.duckdb"
        build_database(staged, db, project, STORAGE_VERSION, work_dir=work)
        assert (work / "target" / "partial_parse.msgpack").exists()
        found.append(_rows(db, "select distinct source from lake.designations"))
    assert found == [[("us_ofac_sdn",)], [("un_sc",)]]
    log = (work / "logs" / "dbt.log").read_text()
    assert log.count("Unable to do partial parsing") == 1, "the second build parsed the project again"
    assert not (work / "sanctions.duckdb").exists()


@pytest.mark.integration
def test_docs_generate_offline(built: Path, tmp_path: Path):
    result, _ = dbt(SQL, built, ["docs", "generate"], tmp_path)
    assert result.success, result.exception
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    assert "model.sanctions.mart_country_rankings" in catalog["nodes"]
    assert "seed.sanctions.countries" in catalog["nodes"]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert any(n["resource_type"] == "unit_test" for n in manifest["unit_tests"].values())
    assert manifest["sources"]["source.sanctions.staged.designations"]["meta"]["external_location"]
