"""The SQL models built by dbt on small given rows: how the unit tier tests a chain of models.

A test writes its rows into a DuckDB file where the project's inputs would be (:func:`given`):
every lake table with its declared columns (``sql/models/lake/_lake.yml``), empty or holding the
given rows, and every reference table (the seeds' CSVs as text, or given rows). Then :func:`run`
builds the selected models with dbt itself (``dbt run --select ...`` in-process, the inputs left
out of the run) and the test reads the file. :func:`replace` swaps a built relation for a table of
the same columns holding given rows, to test one model on rows given to the models it reads.

The project is parsed once per test session (``dbt parse``) and every run reuses that manifest,
so a run costs dbt's import once and then only its nodes.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import yaml

from pipeline.errors import ModelError
from pipeline.models import dbt, lake_layer, seed_names
from pipeline.reference import REFERENCE_DIR

REPO = Path(__file__).resolve().parents[1]
SQL = REPO / "sql"
STORAGE_VERSION = "v1.2.0"
DB_NAME = "sanctions.duckdb"
# What the given rows stand in for: never rebuilt by a run.
INPUTS = ("lake", "resource_type:seed")

_WORK: Path | None = None
_MANIFEST: Any = None


def _work() -> Path:
    global _WORK
    if _WORK is None:
        _WORK = Path(tempfile.mkdtemp(prefix="dbt-model-tests-"))
        atexit.register(shutil.rmtree, _WORK, True)
    return _WORK


def _manifest() -> Any:
    """The project parsed once per test session (``dbt parse``); every run reuses it."""
    global _MANIFEST
    if _MANIFEST is None:
        result, _ = dbt(SQL, _work() / DB_NAME, ["parse"], _work())
        if not result.success:
            raise ModelError(f"dbt parse failed: {result.exception}")
        _MANIFEST = result.result
    return _MANIFEST


def declared_lake() -> dict[str, list[tuple[str, str]]]:
    """``{table: [(column, DuckDB type)]}`` of every lake model, as its YAML declares it."""
    data = yaml.safe_load((SQL / "models" / "lake" / "_lake.yml").read_text(encoding="utf-8"))
    return {m["name"]: [(c["name"], c["data_type"]) for c in m["columns"]] for m in data["models"]}


Rows = pd.DataFrame | pa.Table | list[dict[str, Any]]


def _frame(rows: Rows) -> pd.DataFrame | pa.Table:
    return rows if isinstance(rows, pd.DataFrame | pa.Table) else pd.DataFrame(rows)


def scratch(name: str = "models") -> Path:
    """A new folder for a test's database, removed when the test session ends."""
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_work()))


def given(folder: Path, lake: dict[str, Rows] | None = None, ref: dict[str, Rows] | None = None) -> Path:
    """A new DuckDB file in ``folder`` holding the models' inputs: the lake tables (the given rows,
    by column name, cast to the declared types; the others empty) and the reference tables (the
    given rows, else the CSV as text, as the seeds load it). Returns its path, always named
    ``sanctions.duckdb``: dbt names the database after the file, and the parsed manifest every run
    reuses names it too."""
    lake, ref = lake or {}, ref or {}
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / DB_NAME
    declared = declared_lake()
    unknown = set(lake) - set(declared)
    if unknown:
        raise ValueError(f"not lake tables: {sorted(unknown)} (known: {sorted(declared)})")
    if db.exists():
        db.unlink()
    con = duckdb.connect(str(db), config={"storage_compatibility_version": STORAGE_VERSION})
    try:
        con.execute("create schema lake; create schema ref")
        for table, columns in declared.items():
            con.execute(f"create table lake.{table} ({', '.join(f'{_q(c)} {t}' for c, t in columns)})")
            if table in lake:
                con.register("_given", _frame(lake[table]))
                con.execute(f"insert into lake.{table} by name select * from _given")
                con.unregister("_given")
        csvs = {p.stem: p for folder in _seed_folders() for p in folder.glob("*.csv")}
        for name in seed_names(SQL):
            if name in ref:
                con.register("_given", _frame(ref[name]))
                con.execute(f"create table ref.{name} as select * from _given")
                con.unregister("_given")
            else:
                con.execute(f"create table ref.{name} as select * from read_csv(?, header = true, "
                            "all_varchar = true)", [str(csvs[name])])
        for name in set(ref) - set(seed_names(SQL)):  # a reference table a model builds (models/ref)
            con.register("_given", _frame(ref[name]))
            con.execute(f"create table ref.{name} as select * from _given")
            con.unregister("_given")
    finally:
        con.close()
    return db


def _seed_folders() -> list[Path]:
    project = yaml.safe_load((SQL / "dbt_project.yml").read_text(encoding="utf-8"))
    return [SQL / folder for folder in project.get("seed-paths") or []]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def run(db: Path, *select: str) -> None:
    """``dbt run --select <select>`` on ``db``: the selected models (dbt's syntax: ``+mart_x`` is
    the mart and every model it reads), never the inputs :func:`given` wrote (the lake, the seeds
    and a reference model whose rows were given); raises :class:`ModelError` naming a model that
    fails."""
    ref_models = {p.stem for p in (SQL / "models" / "ref").glob("*.sql")}
    present = {r[0] for r in rows(db, "select table_name from duckdb_tables() where schema_name = 'ref'")}
    # a reference model neither given nor built yet is built from its files first, whatever is selected
    select = (*select, *sorted(ref_models - present))
    result, _ = dbt(SQL, db, ["run", "--select", *select, "--exclude", *INPUTS, *sorted(ref_models & present)],
                    _work(), lake=db.parent, storage_version=STORAGE_VERSION, manifest=_manifest())
    if not result.success:
        failed = [f"{r.node.name}: {' '.join(str(r.message).split())}" for r in result.result.results
                  if str(r.status).lower().endswith("error")] if result.result else [str(result.exception)]
        raise ModelError(f"dbt run --select {' '.join(select)} failed: {'; '.join(failed)}")


def unit_tests(db: Path) -> tuple[set[str], list[str]]:
    """Run the project's dbt unit tests (``_unit_tests.yml``) against ``db``, whose models must be
    built (their columns are the inputs' columns); returns the names of those that ran and, for
    those that did not pass, the name and why."""
    result, _ = dbt(SQL, db, ["test", "--select", "test_type:unit"], _work(), lake=db.parent,
                    storage_version=STORAGE_VERSION, manifest=_manifest())
    if result.result is None:
        return set(), [f"dbt test did not run: {result.exception}"]
    tests = [r for r in result.result.results if str(r.node.resource_type).endswith("unit_test")]
    ran = {r.node.name for r in tests}
    failed = [f"{r.node.name}: {' '.join(str(r.message).split())}" for r in tests
              if not str(r.status).lower().endswith("pass")]
    return ran, failed


def replace(db: Path, relation: str, given_rows: Rows) -> None:
    """Swap the built ``relation`` (a table or a view of schema main) for a table with the same
    columns, in the same order and of the same types, holding ``given_rows`` (by column name; the
    others null)."""
    con = duckdb.connect(str(db))
    try:
        con.register("_given", _frame(given_rows))
        con.execute(f"create temp table _shape as select * from {relation} limit 0")
        views = con.execute("select count(*) from duckdb_views() where view_name = ? and schema_name = 'main'",
                            [relation]).fetchone()[0]
        con.execute(f"drop {'view' if views else 'table'} {relation}")
        con.execute(f"create table {relation} as select * from _shape")
        con.execute(f"insert into {relation} by name select * from _given")
    finally:
        con.close()


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def frame(db: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def mini_project(root: Path, models: dict[str, str] | None = None, lake: bool = False) -> Path:
    """A dbt project in ``root/sql`` with the project's settings, profile and macros, the seeds,
    the given models (path under ``models/`` -> text) and, with ``lake``, the lake layer."""
    project = root / "sql"
    shutil.copytree(SQL / "macros", project / "macros")
    (project / "profiles.yml").write_text((SQL / "profiles.yml").read_text())
    # the CSVs copied beside it: dbt writes a seed's SQL to <target>/run/<project>/<seed path>, which an
    # absolute seed path (or one climbing out of the project) would turn into the CSV itself
    shutil.copytree(REFERENCE_DIR, project / "seeds", ignore=shutil.ignore_patterns("*.py", "*.md", "__pycache__"))
    text = (SQL / "dbt_project.yml").read_text().split("\non-run-end:")[0]
    (project / "dbt_project.yml").write_text(text.replace('"../pipeline/reference"', '"seeds"'))
    files = {f"lake/{p.name}": t for p, t in lake_layer().items()} if lake else {}
    for rel, body in {**files, **(models or {})}.items():
        (project / "models" / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / "models" / rel).write_text(body)
    return project
