"""Gold layer: the DuckDB file of the dbt project in ``sql/`` (models, seeds, data and unit tests).

``build_database`` runs ``dbt build`` in-process on the project as a dbt user would run it (``cd sql
&& dbt build``), pointing its profile at the staged lake (``PIPELINE_LAKE``) and at a new file
(``PIPELINE_DBT_DB``, written with the configured storage version so DuckDB 1.2+ readers open it).
dbt builds, in lineage order: the lake models (``lake.<table>``: each staged table's hive-partitioned
Parquet copied into the file, see :func:`lake_layer`), the seeds (``ref.<csv>``: the reference
CSVs) and ``ref.programs`` (every source's ``programs.csv``), the staging and intermediate views
and the mart tables, with every description as ``COMMENT ON`` and the data tests beside the models
(the unit tests, which check the models' logic on given rows rather than the data, are the test
suite's); a failed node raises :class:`ModelError`. Each
node logs one line (``[models 3/27] mart_x: success in 0.12s``). dbt's target folder (its cached
manifest, for partial parsing) is kept in ``work_dir`` between builds when the caller gives one, and
the parsed manifest of a project is shared by every home (:func:`manifest_cache`, keyed by
:func:`project_digest`): the first build of a new home parses nothing when the same project was
parsed before.

dbt is the only runner of the models. :func:`discover` and :func:`build_order` read the model
files as text (their grain line and the ``ref()`` they name, directly or through a project macro),
for the data dictionary; they render nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipeline.errors import ModelError
from pipeline.reference import PROGRAMS_GLOB, SOURCES_DIR
from pipeline.settings import REPO_ROOT

log = logging.getLogger(__name__)

LAYERS = ("staging", "intermediate", "marts")
MODELS = "models"  # dbt's model-paths: one folder per layer below it
LAKE = "lake"  # the generated layer of lake models (built by dbt only)
# The pipeline's dbt command. Unit tests check the models' logic on given rows, not the data: the
# test suite runs them (and `dbt build` in sql/ does); the pipeline's build leaves them out.
BUILD = ["build", "--exclude-resource-type", "unit_test"]
# A model's reference to another: ref('x') or ref("x"), in its own text or in a macro it calls.
_REF = re.compile(r"""\bref\(\s*['"](\w+)['"]\s*\)""")
_MACRO = re.compile(r"\{%-?\s*macro\s+(\w+)\s*\((.*?)\{%-?\s*endmacro\s*-?%\}", re.S)


@dataclass(frozen=True)
class Model:
    name: str
    layer: str
    path: Path
    grain: str
    depends_on: frozenset[str]


def models_root(sql_dir: Path) -> Path:
    """The folder of the layer folders: ``models/`` of a dbt project (its model-paths), or a bare
    folder of layer folders itself."""
    return sql_dir / MODELS if (sql_dir / MODELS).is_dir() else sql_dir


def seed_names(sql_dir: Path) -> list[str]:
    """The seeds of the project: every CSV in its ``seed-paths`` (the reference CSVs)."""
    project = yaml.safe_load((sql_dir / "dbt_project.yml").read_text(encoding="utf-8")) or {}
    return sorted(p.stem for folder in project.get("seed-paths") or [] for p in (sql_dir / folder).glob("*.csv"))


def lake_models(sql_dir: Path) -> list[str]:
    """The lake models (``models/lake/<table>.sql``): one per staged table, built by dbt only."""
    return sorted(p.stem for p in (models_root(sql_dir) / LAKE).glob("*.sql"))


def materializations(sql_dir: Path) -> dict[str, str]:
    """``{layer: materialization}`` as ``dbt_project.yml`` sets it per folder (dbt's default: view)."""
    project = yaml.safe_load((sql_dir / "dbt_project.yml").read_text(encoding="utf-8")) or {}
    folders = (project.get("models") or {}).get(project.get("name"), {}) or {}
    default = folders.get("+materialized", "view")
    return {layer: (folders.get(layer) or {}).get("+materialized", default) for layer in (LAKE, *LAYERS)}


def _macro_refs(sql_dir: Path) -> dict[str, set[str]]:
    """``{macro: the models it names with ref()}`` for the project's macros."""
    found: dict[str, set[str]] = {}
    for path in sorted((sql_dir / "macros").glob("*.sql")):
        for name, body in _MACRO.findall(path.read_text(encoding="utf-8")):
            found[name] = set(_REF.findall(body))
    return found


def discover(sql_dir: Path) -> dict[str, Model]:
    """Every model of the layers under ``sql_dir/models``, its grain and the models it depends on
    (the ``ref()`` in its text and in the project macros it calls)."""
    found: dict[str, tuple[str, Path, str]] = {}
    for layer in LAYERS:
        for path in sorted((models_root(sql_dir) / layer).glob("*.sql")):
            if path.stem in found:
                raise ModelError(f"two models are named {path.stem}: {found[path.stem][1]} and {path}")
            found[path.stem] = (layer, path, path.read_text(encoding="utf-8"))
    macros = {name: refs for name, refs in _macro_refs(sql_dir).items() if refs}
    models = {}
    for name, (layer, path, text) in found.items():
        first = text.lstrip().splitlines()[0] if text.strip() else ""
        grain = first.removeprefix("--").strip() if first.startswith("--") else ""
        if not grain.startswith("grain:"):
            raise ModelError(f"{path}: the first line must state the grain ('-- grain: one row per ...')")
        named = set(_REF.findall(text))
        for macro, refs in macros.items():
            if re.search(rf"\b{macro}\s*\(", text):
                named |= refs
        models[name] = Model(name, layer, path, grain, frozenset(named & set(found) - {name}))
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
    for path in sorted(models_root(sql_dir).glob("**/_*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        models = data.get("models") or {}
        if isinstance(models, dict):
            docs.update(models)
            continue
        for entry in models:
            columns = {c["name"]: c.get("description", "") for c in entry.get("columns") or []}
            docs[entry["name"]] = {"description": entry.get("description", ""), "columns": columns}
    return docs


LAKE_LAYER = Path("models") / "lake"
_LAKE_HEADER = """\
# Generated by `pipeline docs` from the staged schemas (pipeline/staged.py, each source's SCHEMAS) and
# their descriptions (pipeline/staged.py, pipeline/sources/<id>/columns_doc.yml): do not edit, a test
# keeps it current. Source `staged`: the lake's Parquet, read where it lies (dbt-duckdb external
# location, relative to the lake folder the profile names); model lake.<table>: its copy in the
# database, one per staged table, with the declared columns and types (sql/macros/staged.sql).
"""
_LAKE_MODEL = """\
-- grain: one row per row of the staged table of the same name, every source and snapshot (generated)
{{ staged_table() }}
"""
_STAGED_SOURCE = (
    "The staged (silver) tables as hive-partitioned Parquet under the lake folder (PIPELINE_LAKE): "
    "every source's normalized rows, all snapshots; `source` and `snapshot_date` come from the partition folders."
)
_STAGED_LOCATION = """\
  config:
    meta:
      formatter: template
      external_location: >-
        read_parquet('{{ var("staged_root", "") }}$name/{{ var("staged_parts") }}', hive_partitioning = true,
        union_by_name = true,
        hive_types = {'source': varchar, 'snapshot_date': date})
"""
_PARTITION_TYPES = (("source", "varchar"), ("snapshot_date", "date"))


def lake_layer() -> dict[Path, str]:
    """The generated lake layer of the dbt project: ``{path under sql/: text}``.

    One model per staged table of every registered source (``models/lake/<table>.sql``) and
    ``models/lake/_lake.yml``: the source ``staged`` (the Parquet, read through dbt-duckdb's
    ``external_location``) and each model's description and columns with their DuckDB types, so
    dbt knows every staged column without reading a file (an absent table builds empty)."""
    from pipeline.sources import all_schemas
    from pipeline.staged import staged_docs

    docs = staged_docs()
    con = duckdb.connect()
    tables, models = [], []
    try:
        for table, schema in sorted(all_schemas().items()):
            con.register("_empty_staged", schema.empty_table())
            types = [(name, kind.lower()) for name, kind, *_ in con.execute("describe _empty_staged").fetchall()]
            con.unregister("_empty_staged")
            doc = docs.get(table)
            description = doc.description if doc else ""
            tables.append({"name": table, "description": description})
            columns = [{"name": name, "data_type": kind,
                        "description": (doc.columns.get(name, "") if doc else "")}
                       for name, kind in [*types, *_PARTITION_TYPES]]
            models.append({"name": table, "description": description, "columns": columns})
    finally:
        con.close()
    sources = {"version": 2, "sources": [{"name": "staged", "description": _STAGED_SOURCE, "tables": tables}]}
    text = yaml.safe_dump(sources, sort_keys=False, allow_unicode=True, width=110)
    # the external location on one line, where a reader finds it (dbt-duckdb fills in $name)
    text = text.replace("  tables:\n", _STAGED_LOCATION + "  tables:\n", 1)
    text = _LAKE_HEADER + text + yaml.safe_dump({"models": models}, sort_keys=False, allow_unicode=True, width=110)
    layer = {LAKE_LAYER / "_lake.yml": text}
    layer.update({LAKE_LAYER / f"{t['name']}.sql": _LAKE_MODEL for t in tables})
    return layer


def write_lake_layer(sql_dir: Path) -> list[Path]:
    """Write :func:`lake_layer` into ``sql_dir`` (a lake model of a table no source writes any more
    is removed); returns the files written or removed."""
    layer = lake_layer()
    folder = sql_dir / LAKE_LAYER
    folder.mkdir(parents=True, exist_ok=True)
    changed = [folder / rel.name for rel in layer if not (sql_dir / rel).exists()
               or (sql_dir / rel).read_text(encoding="utf-8") != layer[rel]]
    for path in changed:
        path.write_text(layer[path.relative_to(sql_dir)], encoding="utf-8")
    stale = [p for p in folder.glob("*.sql") if p.relative_to(sql_dir) not in layer]
    for path in stale:
        path.unlink()
    return changed + stale


# The parsed manifests of the dbt projects, shared by every home: the first build of a new home (each
# test's, each fresh PIPELINE_HOME) parses nothing when any home built the same project before.
# PIPELINE_DBT_MANIFEST_CACHE names another folder; empty, no manifest is shared (dbt's own partial
# parsing in the work dir only).
MANIFEST_CACHE_ENV = "PIPELINE_DBT_MANIFEST_CACHE"
MANIFEST_CACHE = REPO_ROOT / "var" / "dbt-manifests"
MANIFESTS_KEPT = 12  # the most recently used; the others are removed (each test's project is one of its own)
_NOT_PROJECT = {"target", "logs", "dbt_packages"}  # dbt's output folders in a project run from its folder


def manifest_cache() -> Path | None:
    """The folder of shared parsed manifests (None: none is shared)."""
    value = os.environ.get(MANIFEST_CACHE_ENV)
    if value is None:
        return MANIFEST_CACHE
    return Path(value) if value.strip() else None


def project_digest(sql_dir: Path, dbt_vars: dict[str, str], database: str) -> str:
    """What dbt's parse of the project depends on, as one sha256: the dbt and adapter versions, the
    project's folder and every file in it (models, macros, tests, YAML, ``dbt_project.yml`` and
    ``profiles.yml``), the seeds (``seed-paths``, outside it), the ``--vars`` and the database's
    name (the nodes' ``database``: the DuckDB file's stem)."""
    from importlib.metadata import version

    digest = hashlib.sha256()

    def add(*parts: str | bytes) -> None:
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "big") + data)

    root = sql_dir.resolve()
    add(version("dbt-core"), version("dbt-duckdb"), str(root), json.dumps(dbt_vars, sort_keys=True), database)
    files = [p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] not in _NOT_PROJECT
             and not any(part.startswith(".") for part in p.relative_to(root).parts)]
    for folder in _seed_paths(root):
        files += (root / folder).glob("*.csv")
    for path in sorted(files):
        add(str(path), path.read_bytes())
    return digest.hexdigest()


def _seed_paths(sql_dir: Path) -> list[str]:
    project = yaml.safe_load((sql_dir / "dbt_project.yml").read_text(encoding="utf-8")) or {}
    return list(project.get("seed-paths") or ["seeds"])


def _load_manifest(path: Path) -> Any:
    """The parsed manifest stored at ``path`` (dbt's partial-parse file), ready for ``dbtRunner``;
    None when there is none or it cannot be read (another dbt version: the build parses)."""
    if not path.is_file():
        return None
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder

    try:
        manifest = Manifest.from_msgpack(path.read_bytes(), decoder=extended_mashumuro_decoder)
        manifest.build_parent_and_child_maps()
        manifest.build_group_map()
        manifest.build_flat_graph()
    except Exception as exc:  # a damaged or foreign file: parse instead, and say so
        log.warning("dbt: the shared manifest %s could not be read (%s); parsing the project", path, exc)
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept
    return manifest


def _store_manifest(parsed: Path, path: Path) -> None:
    """Share the work dir's partial-parse file as ``path`` (written whole, then renamed: a reader
    never sees half a file)."""
    if not parsed.is_file() or path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(parsed.read_bytes())
        os.chmod(tmp, 0o644)  # as any file the build writes (mkstemp's is the owner's only)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    kept = sorted(path.parent.glob("*.msgpack"), key=_mtime, reverse=True)
    for stale in kept[MANIFESTS_KEPT:]:
        stale.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile by another build
        return 0.0


@contextlib.contextmanager
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


def dbt(
    sql_dir: Path,
    db_path: Path,
    args: list[str],
    work_dir: Path,
    lake: Path | None = None,
    storage_version: str | None = None,
    callbacks: Sequence[Callable[[Any], None]] = (),
    manifest: Any = None,
    view: Path | None = None,
) -> tuple[Any, dict[str, float]]:
    """Invoke dbt in-process on the project in ``sql_dir`` against the DuckDB file ``db_path``.

    ``lake`` is the folder of staged tables the source ``staged`` reads (the profile's default when
    None), ``storage_version`` that of a file dbt creates. dbt's artifacts (the cached manifest of
    partial parsing, compiled SQL) and its log go to ``work_dir``; ``callbacks`` receive dbt's events
    besides the progress log; a ``manifest`` (the result of ``dbt parse``) spares parsing the project
    again, for many invocations in one process; without one, the parsed manifest of the same project
    (:func:`project_digest`) in the shared cache (:func:`manifest_cache`) is used, and a build that
    parsed stores its own there. ``view`` (a lake on an object store, see
    :func:`pipeline.lakefs.build_view`) makes the lake models read the staged Parquet through the
    view's fsspec filesystem, registered on dbt's connection by the profile's plugin; the rest of
    the lake folder (``_matching/``, ``_fetch/``) is read where it lies. Returns the runner's result
    and the seconds per model built."""
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    from dbt.cli.main import dbtRunner

    from pipeline.lakefs import VIEW_ENV, VIEW_ROOT

    values = {"PIPELINE_DBT_DB": str(db_path), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
              "DBT_VERSION_CHECK": "false", VIEW_ENV: str(view) if view is not None else ""}
    dbt_vars = {"programs_csv": str(SOURCES_DIR / PROGRAMS_GLOB)}
    if view is not None:
        dbt_vars["staged_root"] = VIEW_ROOT  # one value for every such build: the parse stays cached
    if lake is not None:
        if "," in str(lake):
            # DuckDB's file_search_path, which the profile sets to the lake, is a comma-separated list
            raise ModelError(f"the staged lake's path may not contain a comma: {lake}")
        values["PIPELINE_LAKE"] = os.path.abspath(lake)  # as given: a link stays a link
    if storage_version is not None:
        values["PIPELINE_DUCKDB_STORAGE_VERSION"] = storage_version
    progress = _Progress()
    cache, key = manifest_cache() if manifest is None else None, ""
    if cache is not None:
        key = project_digest(sql_dir, dbt_vars, Path(db_path).stem)
        manifest = _load_manifest(cache / f"{key}.msgpack")
    parsed: list[bool] = []

    def found(event: Any) -> None:  # dbt has its manifest: the parse (if any) succeeded
        if not parsed and event.info.name == "FoundStats":
            parsed.append(True)

    command = [*args, "--project-dir", str(sql_dir), "--profiles-dir", str(sql_dir),
               "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs"), "--quiet",
               *([] if "docs" in args else ["--no-write-json"]),
               # the programme table's files (sql/models/ref/programs.sql), wherever dbt runs from
               "--vars", json.dumps(dbt_vars)]
    with _environ(**values):
        try:
            result = dbtRunner(manifest=manifest, callbacks=[progress, found, *callbacks]).invoke(command)
        finally:
            _close_dbt_duckdb()
    if cache is not None and manifest is None and parsed and key == project_digest(sql_dir, dbt_vars,
                                                                                  Path(db_path).stem):
        # the project did not change while dbt parsed it: its partial-parse file is this digest's
        with contextlib.suppress(OSError):
            _store_manifest(work_dir / "target" / "partial_parse.msgpack", cache / f"{key}.msgpack")
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


def build_database(
    staged_dir: Path,
    out_path: Path,
    sql_dir: Path,
    storage_version: str,
    work_dir: Path | None = None,
    view: Path | None = None,
) -> dict[str, float]:
    """Build a complete, self-contained DuckDB file at ``out_path`` (replaced if it exists) with
    ``dbt build`` over the staged lake ``staged_dir``; returns the seconds per model.

    ``work_dir`` keeps dbt's target folder between builds (its cached manifest makes the next
    parse cheap); without one, dbt works in a temporary folder beside ``out_path``. dbt reuses its
    cached manifest only for the profile it was parsed with, the values included (the file's
    path, the lake folder), so with a ``work_dir`` the build always uses the same two names in it:
    ``lake``, a link to ``staged_dir``, and the file, moved to ``out_path`` once built. ``view``: the
    staged tables are read through it (a lake on an object store, see :func:`dbt`)."""
    if out_path.exists():
        out_path.unlink()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if not (sql_dir / "dbt_project.yml").exists():
        raise ModelError(f"{sql_dir} is not a dbt project (no dbt_project.yml)")
    with contextlib.ExitStack() as stack:
        if work_dir is None:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dbt-", dir=out_path.parent)))
            lake, db = staged_dir, out_path
        else:
            work_dir.mkdir(parents=True, exist_ok=True)
            lake, db = work_dir / "lake", work_dir / out_path.name
            if lake.is_symlink() or lake.is_file():
                lake.unlink()
            elif lake.is_dir():
                shutil.rmtree(lake)
            lake.symlink_to(staged_dir.resolve(), target_is_directory=True)
            for stale in (db, db.with_name(db.name + ".wal")):
                stale.unlink(missing_ok=True)
        result, timings = dbt(sql_dir, db, BUILD, work_dir, lake=lake, storage_version=storage_version,
                              view=view)
    if not result.success:
        if db != out_path:
            db.unlink(missing_ok=True)
        raise ModelError(_failures(result, sql_dir))
    if db != out_path:
        shutil.move(db, out_path)
    return timings
