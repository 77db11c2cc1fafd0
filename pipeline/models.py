"""Gold layer: run the DuckDB SQL models in ``sql/`` in the order their SQL implies.

Every ``sql/<layer>/<name>.sql`` file is one model, materialised as a table named after the
file. A model depends on every other model whose name appears in its SQL (comments and string
literals aside), so the build order comes from the models themselves, never from a hand-kept
list; a cycle is an error. Sources are the staged Parquet tables (schema ``lake``) and the
project's reference CSVs (schema ``ref``), copied into the database so the published file is
self-contained. Descriptions in ``sql/<layer>/_<layer>.yml`` become ``COMMENT ON`` statements.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from pipeline.errors import ModelError
from pipeline.reference import REFERENCE_DIR

log = logging.getLogger(__name__)

LAYERS = ("staging", "intermediate", "marts")
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")
_IDENT = re.compile(r"\b[a-z_][a-z0-9_]*\b", re.I)


@dataclass(frozen=True)
class Model:
    name: str
    layer: str
    path: Path
    sql: str
    grain: str
    depends_on: frozenset[str]


def discover(sql_dir: Path) -> dict[str, Model]:
    """Every model under ``sql_dir``, with the models it depends on."""
    found: dict[str, tuple[str, Path, str]] = {}
    for layer in LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            if path.stem in found:
                raise ModelError(f"two models are named {path.stem}: {found[path.stem][1]} and {path}")
            found[path.stem] = (layer, path, path.read_text(encoding="utf-8"))
    models = {}
    for name, (layer, path, sql) in found.items():
        code = _STRING.sub("''", _COMMENT.sub(" ", sql))
        deps = {tok.lower() for tok in _IDENT.findall(code)} & set(found) - {name}
        first = sql.lstrip().splitlines()[0] if sql.strip() else ""
        grain = first.removeprefix("--").strip() if first.startswith("--") else ""
        if not grain.startswith("grain:"):
            raise ModelError(f"{path}: the first line must state the grain ('-- grain: one row per ...')")
        models[name] = Model(name, layer, path, sql, grain, frozenset(deps))
    return models


def build_order(models: dict[str, Model]) -> list[Model]:
    """Topological order (alphabetical among equals, so builds are reproducible)."""
    remaining = {name: set(m.depends_on) for name, m in models.items()}
    ordered: list[Model] = []
    while remaining:
        ready = sorted(n for n, deps in remaining.items() if not deps)
        if not ready:
            raise ModelError(f"the models depend on each other in a cycle: {', '.join(sorted(remaining))}")
        for name in ready:
            ordered.append(models[name])
            del remaining[name]
        for deps in remaining.values():
            deps.difference_update(ready)
    return ordered


def load_docs(sql_dir: Path) -> dict[str, dict]:
    docs: dict[str, dict] = {}
    for path in sorted(sql_dir.glob("*/_*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        docs.update(data.get("models", {}))
    return docs


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def load_sources(con: duckdb.DuckDBPyConnection, staged_dir: Path, reference_dir: Path = REFERENCE_DIR) -> None:
    """Copy the staged Parquet tables into schema ``lake`` and the reference CSVs into ``ref``.

    Every staged table of every registered source exists in ``lake``: one with no Parquet yet
    (a source never run in this home) is created empty with its schema, so models over it
    build and yield no rows."""
    from pipeline.sources import all_schemas

    con.execute("create schema if not exists lake")
    con.execute("create schema if not exists ref")
    for table, schema in sorted(all_schemas().items()):
        files = sorted((staged_dir / table).glob("source=*/snapshot_date=*/*.parquet"))
        if not files:
            con.register("_empty_staged", schema.empty_table())
            con.execute(f"create or replace table lake.{table} as select *, cast(null as varchar) as source, "
                        "cast(null as date) as snapshot_date from _empty_staged")
            con.unregister("_empty_staged")
            continue
        file_list = "[" + ", ".join(_quote(str(f)) for f in files) + "]"
        con.execute(
            f"create or replace table lake.{table} as select * from read_parquet({file_list}, "
            "hive_partitioning = true, union_by_name = true, "
            "hive_types = {'source': varchar, 'snapshot_date': date})"
        )
    for path in sorted(reference_dir.glob("*.csv")):
        con.execute(
            f"create or replace table ref.{path.stem} as select * from read_csv({_quote(str(path))}, "
            "header = true, all_varchar = true)"
        )


def run_models(
    con: duckdb.DuckDBPyConnection,
    sql_dir: Path,
    only: set[str] | None = None,
) -> dict[str, float]:
    """Build every model (or the ``only`` ones) in dependency order; returns seconds per model."""
    models = discover(sql_dir)
    docs = load_docs(sql_dir)
    timings: dict[str, float] = {}
    order = [m for m in build_order(models) if only is None or m.name in only]
    for i, model in enumerate(order, 1):
        started = time.perf_counter()
        try:
            con.execute(f"create or replace table {model.name} as\n{model.sql}")
        except duckdb.Error as exc:
            raise ModelError(f"model {model.name} ({model.path}) failed: {exc}") from exc
        _comment(con, model, docs.get(model.name, {}))
        timings[model.name] = time.perf_counter() - started
        rows = con.execute(f"select count(*) from {model.name}").fetchall()[0][0]
        log.info("[models %d/%d] %s: %d rows in %.2fs", i, len(order), model.name, rows, timings[model.name])
    return timings


def _comment(con: duckdb.DuckDBPyConnection, model: Model, doc: dict) -> None:
    description = doc.get("description") or model.grain
    con.execute(f"comment on table {model.name} is {_quote(description.strip())}")
    columns = {r[0] for r in con.execute(f"describe {model.name}").fetchall()}
    for column, text in (doc.get("columns") or {}).items():
        if column not in columns:
            raise ModelError(f"{model.name}: documented column '{column}' does not exist")
        con.execute(f'comment on column {model.name}."{column}" is {_quote(str(text).strip())}')


def build_database(staged_dir: Path, out_path: Path, sql_dir: Path, storage_version: str) -> dict[str, float]:
    """Build a complete, self-contained DuckDB file at ``out_path`` (which must not exist)."""
    if out_path.exists():
        out_path.unlink()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"attach {_quote(str(out_path))} as pub (storage_version {_quote(storage_version)})")
        con.execute("use pub")
        load_sources(con, staged_dir)
        timings = run_models(con, sql_dir)
        con.execute("checkpoint")
    finally:
        con.close()
    return timings
