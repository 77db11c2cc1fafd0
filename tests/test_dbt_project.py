"""The SQL models as a dbt project: `dbt build` on the demo files (models, data tests and unit tests)
writes a self-contained DuckDB 1.2+ file with views for what only feeds other models, tables for the
marts and every description as COMMENT ON; a failing data test stops the build and names the test;
`dbt docs generate` works offline; the converter from the pre-dbt style is idempotent."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline.errors import ModelError
from pipeline.models import build_database, dbt, discover, load_docs
from pipeline.parse import parse_files

REPO = Path(__file__).resolve().parents[1]
SQL = REPO / "sql"
DEMO = REPO / "data" / "demo"
STORAGE_VERSION = "v1.2.0"
READ_BY_THE_PIPELINE = ("int_designations_current", "int_current_snapshots", "stg_ref__countries")

sys.path.insert(0, str(REPO / "scripts"))
import to_dbt  # noqa: E402  (a script, not a package)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dbt")
    staged = root / "staged"
    parse_files("us_ofac_sdn", [DEMO / "us_ofac_sdn" / "sdn_advanced.xml"], staged)
    parse_files("un_sc", [DEMO / "un_sc" / "consolidated.xml"], staged)
    db = root / "sanctions.duckdb"
    timings = build_database(staged, db, SQL, STORAGE_VERSION)
    assert set(timings) == set(discover(SQL))
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
    assert header[8:12] == b"DUCK" and 64 <= struct.unpack("<Q", header[12:20])[0] <= 68
    assert not built.with_name(built.name + ".wal").exists()
    tables = {r[0] for r in _rows(built, "select table_name from duckdb_tables() where schema_name = 'main'")}
    views = {r[0] for r in _rows(built, "select view_name from duckdb_views() where schema_name = 'main' "
                                        "and not internal")}
    models = discover(SQL)
    assert tables == {m for m, model in models.items() if model.layer == "marts"}
    assert views == {m for m, model in models.items() if model.layer != "marts"}
    assert set(READ_BY_THE_PIPELINE) <= views
    assert _rows(built, "select count(*) from mart_country_rankings")[0][0] > 100
    assert {r[0] for r in _rows(built, "select schema_name from duckdb_tables() where schema_name <> 'main'")} == {
        "lake", "ref"}


@pytest.mark.integration
def test_views_name_no_database_so_the_file_opens_under_any_name(built: Path, tmp_path: Path):
    copy = tmp_path / "renamed.duckdb"
    copy.write_bytes(built.read_bytes())
    con = duckdb.connect()
    try:
        con.execute(f"attach '{copy}' as elsewhere (read_only)")
        assert con.execute("select count(*) from elsewhere.main.int_designations_current").fetchone()[0] > 100
    finally:
        con.close()


@pytest.mark.integration
def test_descriptions_become_comments(built: Path):
    docs = load_docs(SQL)
    commented = dict(_rows(built, "select table_name, comment from duckdb_tables() where schema_name = 'main' "
                                  "union all select view_name, comment from duckdb_views() where schema_name = 'main'"))
    for name, doc in docs.items():
        assert " ".join((commented.get(name) or "").split()) == " ".join(doc["description"].split()), name
    columns = _rows(built, """select table_name, column_name, comment from duckdb_columns()
                              where schema_name = 'main' and table_name like 'mart\\_%' escape '\\'""")
    undocumented = [(t, c) for t, c, comment in columns if not comment]
    assert not undocumented


def test_every_mart_is_documented_and_checked():
    models = discover(SQL)
    docs = load_docs(SQL)
    properties = {}
    for path in SQL.glob("marts/_*.yml"):
        properties.update({m["name"]: m for m in (yaml.safe_load(path.read_text()) or {}).get("models") or []})
    for name, model in models.items():
        assert docs.get(name, {}).get("description"), f"{name}: no description in its layer's _*.yml"
        if model.layer == "marts":
            assert properties[name].get("config", {}).get("materialized") == "table", name


def test_a_failing_data_test_stops_the_build_and_names_it(tmp_path: Path):
    project = tmp_path / "sql"
    (project / "marts").mkdir(parents=True)
    for name in ("dbt_project.yml", "profiles.yml"):
        (project / name).write_text((SQL / name).read_text())
    (project / "macros").mkdir()
    for macro in (SQL / "macros").glob("*.sql"):
        (project / "macros" / macro.name).write_text(macro.read_text())
    text = (project / "dbt_project.yml").read_text()
    (project / "dbt_project.yml").write_text(text.split("\non-run-end:")[0])
    (project / "marts" / "mart_pairs.sql").write_text(
        "-- grain: one row per pair\nselect * from (values ('RU', 'IR')) as t(country_a, country_b)\n")
    (project / "marts" / "_marts.yml").write_text(yaml.safe_dump({"version": 2, "models": [{
        "name": "mart_pairs", "description": "Pairs.", "config": {"materialized": "table"},
        "data_tests": [{"expression_is_true": {"arguments": {"expression": "country_a < country_b"}}}]}]}))
    staged = tmp_path / "staged"
    staged.mkdir()
    with pytest.raises(ModelError, match=r"test expression_is_true_mart_pairs.*failed: 1 failing row"):
        build_database(staged, tmp_path / "out.duckdb", project, STORAGE_VERSION)


@pytest.mark.integration
def test_docs_generate_offline(built: Path, tmp_path: Path):
    result, _ = dbt(SQL, built, ["docs", "generate"], tmp_path)
    assert result.success, result.exception
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    assert "model.sanctions.mart_country_rankings" in catalog["nodes"]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert any(n["resource_type"] == "unit_test" for n in manifest["unit_tests"].values())


def test_converter_is_idempotent_and_keeps_comments_strings_and_grain(tmp_path: Path):
    (tmp_path / "staging").mkdir()
    (tmp_path / "marts").mkdir()
    (tmp_path / "staging" / "stg_a.sql").write_text(
        "-- grain: one row per a (from lake.a)\n"
        "select 'from stg_b' as note, * from lake.a join ref.countries using (x)\n")
    (tmp_path / "marts" / "mart_b.sql").write_text(
        "-- grain: one row per b\nwith a as (\n    select * from stg_a\n)\n\nselect a.x from a\n")
    (tmp_path / "marts" / "_marts.yml").write_text(yaml.safe_dump(
        {"models": {"mart_b": {"description": "B.", "columns": {"x": "The x."}}}}))
    to_dbt.convert(tmp_path)
    assert (tmp_path / "staging" / "stg_a.sql").read_text() == (
        "-- grain: one row per a (from lake.a)\nselect 'from stg_b' as note, * from {{ source('lake', 'a') }} "
        "join {{ source('ref', 'countries') }} using (x)\n")
    assert "select * from {{ ref('stg_a') }}\n)\n\nselect a.x from a" in (tmp_path / "marts" / "mart_b.sql").read_text()
    marts = yaml.safe_load((tmp_path / "marts" / "_marts.yml").read_text())
    assert marts["models"] == [{"name": "mart_b", "description": "B.",
                                "columns": [{"name": "x", "description": "The x."}],
                                "config": {"materialized": "table"}}]
    staging = yaml.safe_load((tmp_path / "staging" / "_staging.yml").read_text())
    assert staging["models"] == [{"name": "stg_a", "description": "one row per a (from lake.a)"}]
    sources = yaml.safe_load((tmp_path / "staging" / "_sources.yml").read_text())
    assert {s["name"]: [t["name"] for t in s["tables"]] for s in sources["sources"]} == {
        "lake": ["a"], "ref": ["countries"]}
    assert to_dbt.convert(tmp_path) == []


def test_the_real_project_is_converted():
    """After merging new models in the pre-dbt style, run `scripts/to_dbt.py`; this test says so."""
    files = [p for layer in to_dbt.LAYERS for p in [*SQL.glob(f"{layer}/*.sql"), *SQL.glob(f"{layer}/_*.yml")]]
    before = {p: p.read_text() for p in files}
    models = to_dbt.model_names(SQL)
    for path, text in before.items():
        if path.suffix == ".sql":
            assert to_dbt.convert_sql(text, models - {path.stem}) == text, f"run scripts/to_dbt.py: {path}"
        else:
            assert to_dbt.convert_docs(yaml.safe_load(text) or {}) is None, f"run scripts/to_dbt.py: {path}"
