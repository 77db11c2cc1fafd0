"""Gold layer: build the DuckDB file of the SQL models in ``sql/`` (a dbt project) and their tests.

``build_database`` creates the file with the configured storage version (so DuckDB 1.2+ readers
open it; DuckDB keeps an existing file's version), copies the staged Parquet tables into schema
``lake`` and the reference CSVs into schema ``ref`` (the dbt sources, so the published file is
self-contained), then runs ``dbt build`` in-process on that file: every model in dependency order
(``ref()``/``source()`` lineage), its descriptions as ``COMMENT ON`` (persist_docs), and the data
and unit tests beside the models; a failed model or test raises :class:`ModelError`. Each model
and test logs one progress line (``[models 3/27] mart_x: success in 0.12s``).

``run_models`` is the light runner for tests of individual models on an in-memory connection: it
renders each model's Jinja minimally (``ref('x')`` -> ``x``, ``source('a', 'b')`` -> ``a.b``,
``config()`` -> nothing, ``var('x', d)`` -> ``d``, the project's macros) and creates the models as
tables, in the order their references imply.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import yaml

from pipeline.errors import ModelError
from pipeline.reference import REFERENCE_DIR

log = logging.getLogger(__name__)

LAYERS = ("staging", "intermediate", "marts")
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")
_IDENT = re.compile(r"\b[a-z_][a-z0-9_]*\b", re.I)
# ref() and source() are the renderer's own functions: the project's overrides of them (for dbt) are
# skipped, and so are generic data tests, which only dbt runs.
_DBT_ONLY = re.compile(r"\{%-?\s*macro\s+(ref|source)\s*\(.*?\{%-?\s*endmacro\s*-?%\}"
                       r"|\{%-?\s*test\s.*?\{%-?\s*endtest\s*-?%\}", re.S)


@dataclass(frozen=True)
class Model:
    name: str
    layer: str
    path: Path
    sql: str
    grain: str
    depends_on: frozenset[str]


def _macros(sql_dir: Path) -> str:
    return "".join(_DBT_ONLY.sub("", p.read_text(encoding="utf-8"))
                   for p in sorted((sql_dir / "macros").glob("*.sql")))


def render(sql: str, macros: str = "", name: str = "model") -> str:
    """A model's SQL with its Jinja rendered minimally (see the module docstring)."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"])
    env.globals.update(
        ref=lambda *parts, **_: parts[-1],
        source=lambda source, table: f"{source}.{table}",
        config=lambda *_, **__: "",
        var=lambda _name, default=None: default,
        is_incremental=lambda: False,
        this=name,
    )
    try:
        return env.from_string(macros + sql).render()
    except jinja2.TemplateError as exc:
        raise ModelError(f"model {name}: its Jinja cannot be rendered outside dbt: {exc}") from exc


def discover(sql_dir: Path) -> dict[str, Model]:
    """Every model under ``sql_dir`` (rendered SQL), with the models it depends on."""
    found: dict[str, tuple[str, Path, str]] = {}
    for layer in LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            if path.stem in found:
                raise ModelError(f"two models are named {path.stem}: {found[path.stem][1]} and {path}")
            found[path.stem] = (layer, path, path.read_text(encoding="utf-8"))
    macros = _macros(sql_dir)
    models = {}
    for name, (layer, path, text) in found.items():
        first = text.lstrip().splitlines()[0] if text.strip() else ""
        grain = first.removeprefix("--").strip() if first.startswith("--") else ""
        if not grain.startswith("grain:"):
            raise ModelError(f"{path}: the first line must state the grain ('-- grain: one row per ...')")
        sql = render(text, macros, name)
        # rendered, a ref() is a bare name, so models still written with bare names order the same way
        code = _STRING.sub("''", _COMMENT.sub(" ", sql))
        deps = {tok.lower() for tok in _IDENT.findall(code)} & set(found) - {name}
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
    """``{model: {"description": ..., "columns": {column: description}}}`` from the ``_*.yml`` files.

    Reads dbt's shape (``models: [{name, description, columns: [{name, description}]}]``) and the
    pre-dbt shape (``models: {name: {description, columns: {column: text}}}``)."""
    docs: dict[str, dict] = {}
    for path in sorted(sql_dir.glob("*/_*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        models = data.get("models") or {}
        if isinstance(models, dict):
            docs.update(models)
            continue
        for entry in models:
            columns = {c["name"]: c.get("description", "") for c in entry.get("columns") or []}
            docs[entry["name"]] = {"description": entry.get("description", ""), "columns": columns}
    return docs


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def load_sources(con: duckdb.DuckDBPyConnection, staged_dir: Path, reference_dir: Path = REFERENCE_DIR) -> None:
    """Copy the staged Parquet tables into schema ``lake`` and the reference CSVs into ``ref``.

    Every staged table of every registered source exists in ``lake``: one with no Parquet yet
    (a source never run in this home) is created empty with its schema, so models over it
    build and yield no rows. Each table and column carries its description (``pipeline.staged.
    staged_docs``) as ``COMMENT ON``, so ``duckdb_columns()`` and BI tools show it."""
    from pipeline.sources import all_schemas
    from pipeline.staged import staged_docs

    con.execute("create schema if not exists lake")
    con.execute("create schema if not exists ref")
    docs = staged_docs()
    for table, schema in sorted(all_schemas().items()):
        files = sorted((staged_dir / table).glob("source=*/snapshot_date=*/*.parquet"))
        if not files:
            con.register("_empty_staged", schema.empty_table())
            con.execute(f"create or replace table lake.{table} as select *, cast(null as varchar) as source, "
                        "cast(null as date) as snapshot_date from _empty_staged")
            con.unregister("_empty_staged")
        else:
            file_list = "[" + ", ".join(_quote(str(f)) for f in files) + "]"
            con.execute(
                f"create or replace table lake.{table} as select * from read_parquet({file_list}, "
                "hive_partitioning = true, union_by_name = true, "
                "hive_types = {'source': varchar, 'snapshot_date': date})"
            )
        doc = docs.get(table)
        if doc is None:
            continue
        if doc.description:
            con.execute(f"comment on table lake.{table} is {_quote(doc.description)}")
        # a column only older Parquet parts still have (union_by_name) is left undescribed
        for (column,) in con.execute(f"select column_name from (describe lake.{table})").fetchall():
            if doc.columns.get(column):
                con.execute(f'comment on column lake.{table}."{column}" is {_quote(doc.columns[column])}')
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
    """Build every model (or the ``only`` ones) as tables in dependency order; returns seconds per model."""
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


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class _Progress:
    """dbt event callback: one log line per finished model or test."""

    def __init__(self) -> None:
        self.total = 0
        self.done = 0
        self.timings: dict[str, float] = {}

    def __call__(self, event: Any) -> None:
        name = event.info.name
        if name == "LogStartLine":
            self.total = max(self.total, event.data.total)
        elif name == "NodeFinished":
            node, result = event.data.node_info, event.data.run_result
            self.done += 1
            if node.resource_type == "model":
                self.timings[node.node_name] = result.execution_time
            log.info("[models %d/%d] %s: %s in %.2fs", self.done, max(self.total, self.done), node.node_name,
                     result.status, result.execution_time)


def dbt(sql_dir: Path, db_path: Path, args: list[str], work_dir: Path) -> tuple[Any, dict[str, float]]:
    """Invoke dbt in-process on the project in ``sql_dir`` against the DuckDB file ``db_path``.

    dbt's artifacts (manifest, catalog, run results) and its log go to ``work_dir``; returns the
    runner's result and the seconds per model built."""
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    from dbt.cli.main import dbtRunner

    progress = _Progress()
    command = [*args, "--project-dir", str(sql_dir), "--profiles-dir", str(sql_dir),
               "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs"), "--quiet",
               *([] if "docs" in args else ["--no-write-json"])]
    with _environ(PIPELINE_DBT_DB=str(db_path), DBT_SEND_ANONYMOUS_USAGE_STATS="false", DBT_VERSION_CHECK="false"):
        try:
            result = dbtRunner(callbacks=[progress]).invoke(command)
        finally:
            _close_dbt_duckdb()
    return result, progress.timings


def _close_dbt_duckdb() -> None:
    """Close the database dbt-duckdb keeps open for the life of the process, so the file can be
    reopened (read-only by the checks, copied by publish) and the next build starts afresh."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


def _failures(result: Any, sql_dir: Path) -> str:
    if result.exception is not None:
        return f"dbt could not run the project in {sql_dir}: {result.exception}"
    lines = []
    for item in getattr(result.result, "results", None) or []:
        status = str(item.status).lower().split(".")[-1]
        if status in ("error", "fail", "runtime error"):
            node = item.node
            what = f"{node.resource_type} {node.name} ({node.original_file_path})"
            detail = " ".join(str(item.message or "").split())
            if item.failures:
                detail = f"{item.failures} failing row(s): {detail}"
            lines.append(f"{what} failed: {detail}")
    return "\n".join(lines) or f"dbt build failed in {sql_dir}"


def build_database(staged_dir: Path, out_path: Path, sql_dir: Path, storage_version: str) -> dict[str, float]:
    """Build a complete, self-contained DuckDB file at ``out_path`` (replaced if it exists).

    A ``sql_dir`` without ``dbt_project.yml`` (a bare folder of models) is built by ``run_models``."""
    if out_path.exists():
        out_path.unlink()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"attach {_quote(str(out_path))} as pub (storage_version {_quote(storage_version)})")
        con.execute("use pub")
        load_sources(con, staged_dir)
        if not (sql_dir / "dbt_project.yml").exists():
            timings = run_models(con, sql_dir)
        con.execute("checkpoint")
    finally:
        con.close()
    if (sql_dir / "dbt_project.yml").exists():
        with tempfile.TemporaryDirectory(prefix="dbt-", dir=out_path.parent) as work:
            result, timings = dbt(sql_dir, out_path, ["build"], Path(work))
            if not result.success:
                raise ModelError(_failures(result, sql_dir))
    return timings
