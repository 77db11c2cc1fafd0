"""Publish a built database atomically, with Parquet exports of every mart.

Layout under ``publish/``::

    releases/<run id>/sanctions.duckdb      the complete database (read it read-only)
    releases/<run id>/marts/<mart>.parquet  one Parquet file per mart
    releases/<run id>/data_docs/            Great Expectations Data Docs of the run
    releases/<run id>/release.json          what was published, from which snapshots
    releases/<run id>/report.html           the HTML report (pipeline/html_report.py)
    current -> releases/<run id>            swapped atomically (rename of a symlink)

A release folder is complete before ``current`` points at it, so a reader never sees a half-built
file; a failed run never touches ``current``; older releases are kept (``PIPELINE_KEEP_RELEASES``)
so a reader that opened one keeps reading it.

Every reader of a publication (the next run's row-count check, ``pipeline report``, ``validate``,
``query``, the BI dialect) first checks the database against the sha256 its ``release.json``
recorded (:func:`ensure_intact`): a truncated, overwritten or replaced file is named as damaged,
never read. The digest is computed in full once per process and file version (same device, inode,
size, mtime and ctime), so a process that opens the file many times hashes it once. A run that
finds the current publication damaged rebuilds it from the lake and the raw store like any run
and says so when it publishes; the release records it (``replaced_damaged``), and lists the
snapshots the lake has lost for good (``lost_snapshots``, see :mod:`pipeline.housekeeping`).

The published database has 64 KiB blocks: DuckDB gives every table at least one block of its own,
and its default 256 KiB blocks left most of the file empty (the demo's 47 tables, most of a few kB,
took 14.4 MB; 5.7-6.2 MB with 64 KiB). The project's dbt profile (sql/profiles.yml) writes such
blocks, and its build is published as a plain copy. A file built with other blocks (a build from
another profile) is published as a compact copy (:func:`compact`): every schema, table, view, macro
and comment, written with 64 KiB blocks and the configured storage version (DuckDB 1.2+ readers open
it), and checked against the built file (catalog, row counts and a hash of every table's rows)
before anything else reads it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipeline import lakefs
from pipeline.errors import KEPT, PipelineError
from pipeline.settings import Settings

log = logging.getLogger(__name__)


def safe_run_id(run_id: str) -> str:
    """Airflow run ids contain ':' and '+'; keep a file-name-safe form."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id).strip("._") or "run"


def mart_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'main' and table_name like 'mart\\_%' escape '\\' order by 1"
    ).fetchall()
    return [r[0] for r in rows]


def publish(build_db: Path, settings: Settings, run_id: str, data_docs: Path | None = None,
            info: dict | None = None, commit: Callable[[], None] | None = None) -> Path:
    """Move ``build_db`` into a new release with its exports, then point ``current`` at it.

    ``commit`` is called once the release is complete, just before it is moved into place and
    swapped in; if it raises (a stop request won), nothing is published and no release is left.

    A damaged current publication is replaced like an intact one; the new release records it
    (``replaced_damaged``) and the person who ran the pipeline is told."""
    from pipeline.housekeeping import lost_snapshots

    damaged = publication_damage(settings)
    releases = settings.publish_dir / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    name = safe_run_id(run_id)
    final = releases / name
    staging = releases / f".tmp-{name}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        (staging / "marts").mkdir(parents=True)
        db_path = staging / "sanctions.duckdb"
        started = time.perf_counter()
        if block_size(build_db) == PUBLISH_BLOCK_SIZE:  # the project's dbt profile writes these blocks
            shutil.copyfile(build_db, db_path)
            log.info("copied the built database (%.2f MB, %d KiB blocks) in %.2f s", build_db.stat().st_size / 1e6,
                     PUBLISH_BLOCK_SIZE >> 10, time.perf_counter() - started)
        else:
            compact(build_db, db_path, settings.storage_version)
            log.info("compact copy of the built database: %.2f MB -> %.2f MB in %.2f s",
                     build_db.stat().st_size / 1e6, db_path.stat().st_size / 1e6, time.perf_counter() - started)

        con = duckdb.connect(str(db_path), read_only=True)
        try:
            marts = mart_names(con)
            counts = {}
            for mart in marts:
                target = staging / "marts" / f"{mart}.parquet"
                con.execute(f"copy (select * from {mart}) to '{target}' (format parquet, compression zstd)")
                counts[mart] = con.execute(f"select count(*) from {mart}").fetchall()[0][0]
            snapshots = {s: str(d) for s, d in con.execute("select * from int_current_snapshots order by 1").fetchall()}
        finally:
            con.close()
        if data_docs and data_docs.exists():
            shutil.copytree(data_docs, staging / "data_docs")
        digest = _sha256(db_path)
        manifest = {
            "run_id": run_id,
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": "sanctions.duckdb",
            "database_sha256": digest,
            "storage_version": settings.storage_version,
            "source_snapshots": snapshots,
            "mart_rows": counts,
            **(info or {}),
        }
        if damaged:
            manifest["replaced_damaged"] = {"release": settings.current_release.resolve().name, "reason": damaged}
        lost = lost_snapshots(settings)
        if lost:
            manifest["lost_snapshots"] = lost
        from pipeline.html_report import release_report  # report.html beside the database; never fails the run

        manifest.update(release_report(staging, settings, manifest))
        (staging / "release.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        if commit is not None:
            commit()
        # the lake on an object store: the release uploaded whole, then current.json names it
        lakefs.publish_release(settings, staging, name)
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    except BaseException:
        # A full disk or a kill mid-way leaves no half-written release behind.
        shutil.rmtree(staging, ignore_errors=True)
        raise

    link_tmp = settings.publish_dir / f".current-{name}"
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    try:
        link_tmp.symlink_to(Path("releases") / name)
        os.replace(link_tmp, settings.current_release)
    finally:
        if link_tmp.is_symlink():
            link_tmp.unlink()
    log.info("published release %s (%d marts) -> %s", name, len(marts), settings.current_release)
    if damaged:
        _tell(f"the published database {settings.published_db} was damaged ({damaged}): release {name} rebuilt "
              f"the publication from the lake and the raw store and is now current (the damaged release "
              f"{manifest['replaced_damaged']['release']} stays under {releases} until it is pruned)")
    _prune(releases, keep=settings.keep_releases, current=final)
    return final


#: Block size of the published file. DuckDB writes each table into blocks of its own, so a small
#: table costs a whole block: 256 KiB (the default) made most of the demo's file empty space. 64 KiB
#: gave the smallest file of 16, 32, 64, 128 and 256 KiB on the demo and on the 100x corpus
#: (smaller blocks cut the segments of the larger tables short and compress them worse; see
#: bench/published_size.py). DuckDB 1.2.0 reads files of these block sizes. (A storage version of
#: v1.3.0 or later, PIPELINE_DUCKDB_STORAGE_VERSION, compresses strings better, 100x: 44 -> 37 MB,
#: but DuckDB 1.2 cannot open it.)
PUBLISH_BLOCK_SIZE = 64 * 1024


def block_size(path: Path) -> int | None:
    """The block size of the DuckDB file ``path`` (None if DuckDB cannot open it: :func:`compact`
    then names why)."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.execute("select block_size from pragma_database_size()").fetchall()[0][0]
    except duckdb.Error:
        return None
    finally:
        con.close()


def _literal(text: str | Path) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def compact(build_db: Path, out: Path, storage_version: str, block_size: int = PUBLISH_BLOCK_SIZE) -> None:
    """Write the whole database ``build_db`` into the new file ``out`` (``COPY FROM DATABASE``:
    schemas, tables, views, macros and comments), with ``block_size`` blocks and ``storage_version``,
    then check the copy against ``build_db`` (:func:`copy_differences`); a copy that differs is
    removed and named (:class:`PipelineError`). ``build_db`` is only read."""
    wal = out.with_name(out.name + ".wal")
    for stale in (out, wal):
        stale.unlink(missing_ok=True)
    cause: duckdb.Error | None = None
    con = duckdb.connect()
    try:
        con.execute(f"attach {_literal(build_db)} as built (read_only)")
        con.execute(f"attach {_literal(out)} as compact "
                    f"(storage_version {_literal(storage_version)}, block_size {int(block_size)})")
        con.execute("copy from database built to compact")
        con.execute("checkpoint compact")
        con.execute("detach compact")
        # what a reader will open: the file alone, reopened
        con.execute(f"attach {_literal(out)} as compact (read_only)")
        problems = copy_differences(con, "built", "compact")
    except duckdb.Error as exc:  # a full disk among them: its message says so (pipeline.airflow_run)
        cause, problems = exc, [f"DuckDB could not copy it: {exc}"]
    finally:
        con.close()
    if wal.exists():
        problems.append(f"{wal} was left beside it (the copy was not checkpointed into the file)")
    if problems:
        for path in (out, wal):
            path.unlink(missing_ok=True)
        more = f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
        error = PipelineError(f"publish: the compact copy of the built database {build_db} differs from it: "
                              + "; ".join(problems[:10]) + more + ".")
        error.kept = KEPT  # raised before anything is moved into place
        raise error from cause


_CATALOG = {
    "tables": "select schema_name, table_name, comment from duckdb_tables() where database_name = ? order by all",
    "views": "select schema_name, view_name, comment from duckdb_views() "
             "where database_name = ? and not internal order by all",
    "columns": "select schema_name, table_name, column_index, column_name, data_type, comment, is_nullable, "
               "column_default from duckdb_columns() where database_name = ? order by all",
    "constraints": "select schema_name, table_name, constraint_type, constraint_text from duckdb_constraints() "
                   "where database_name = ? order by all",
    "macros": "select schema_name, function_name, function_type from duckdb_functions() "
              "where database_name = ? and not internal order by all",
    "schemas": "select schema_name, comment from duckdb_schemas() where database_name = ? order by all",
}


def copy_differences(con: duckdb.DuckDBPyConnection, old: str, new: str) -> list[str]:
    """How the database attached as ``new`` differs from ``old``: its catalog (schemas, tables,
    views, columns with types and comments, constraints, macros), and per table the row count and
    the sum of a hash of every row (order-free). Empty: the same content."""
    problems = []
    for what, query in _CATALOG.items():
        a, b = (con.execute(query, [db]).fetchall() for db in (old, new))
        if a != b:
            only_a, only_b = sorted(set(a) - set(b), key=str), sorted(set(b) - set(a), key=str)
            problems.append(f"{what}: {len(only_a)} only in the built file (first {only_a[:1]}), "
                            f"{len(only_b)} only in the copy (first {only_b[:1]})")
    listed = "select schema_name, table_name from duckdb_tables() where database_name = ? order by all"
    in_new = set(con.execute(listed, [new]).fetchall())
    for schema, table in con.execute(listed, [old]).fetchall():
        if (schema, table) not in in_new:
            continue  # named above
        name = f"{_ident(schema)}.{_ident(table)}"
        a, b = (con.execute(f"select count(*), sum(hash(_row)) from {db}.{name} as _row").fetchone()
                for db in (old, new))
        if a != b:
            problems.append(f"table {schema}.{table}: {a[0]} rows (row hash {a[1]}) in the built file, "
                            f"{b[0]} rows (row hash {b[1]}) in the copy")
    return problems


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _prune(releases: Path, keep: int, current: Path) -> None:
    done = sorted(
        (p for p in releases.iterdir() if p.is_dir() and not p.name.startswith(".") and p != current),
        key=lambda p: p.stat().st_mtime,
    )
    for old in done[: max(0, len(done) - keep)]:
        shutil.rmtree(old, ignore_errors=True)


def current_release_info(settings: Settings) -> dict | None:
    path = settings.current_release / "release.json"
    return json.loads(path.read_text()) if path.exists() else None


# --- is a publication intact? --------------------------------------------------------------------

RELEASE_FILE = "release.json"
#: What a failed run keeps when the current publication is damaged (instead of :data:`KEPT`).
REBUILT_NEXT = "the next successful `pipeline run` publishes a good release rebuilt from the lake and the raw store"

# sha256 of files already hashed in this process, by file version (see the module docstring).
_DIGESTS: dict[tuple, str] = {}


class PublicationDamaged(PipelineError):
    """A published database that does not match the sha256 its ``release.json`` recorded."""

    def __init__(self, db: Path, reason: str) -> None:
        self.db = db
        self.reason = reason
        super().__init__(damage_message(db, reason) + ".")

    kept = f"Nothing was read from it; the lake and the raw store are untouched and {REBUILT_NEXT}."


def damage_message(db: Path | str, reason: str) -> str:
    return f"the published database {db} is damaged ({reason})"


def _version(path: Path) -> tuple:
    st = path.stat()
    return (str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def file_sha256(path: Path) -> str:
    """sha256 of ``path``, hashed once per process and file version."""
    key = _version(path)
    if key not in _DIGESTS:
        _DIGESTS[key] = _sha256(path)
    return _DIGESTS[key]


def database_damage(db: Path, *, release_required: bool = False) -> str | None:
    """Why the database file ``db`` does not match its release (None: it matches).

    A database with no ``release.json`` beside it that names it is not a release and is not
    checked, unless ``release_required`` (the current publication always has one)."""
    manifest_path = db.parent / RELEASE_FILE
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{manifest_path} is missing: nothing to check it against" if release_required else None
    except (OSError, ValueError) as exc:
        return f"its {manifest_path} cannot be read: {exc}"
    if not isinstance(manifest, dict) or (manifest.get("database") != db.name and not release_required):
        return None
    expected = manifest.get("database_sha256")
    if not isinstance(expected, str):
        return f"its {manifest_path} records no database_sha256"
    try:
        if not db.is_file():
            return f"the file is missing (release.json records sha256 {expected})"
        actual = file_sha256(db)
    except OSError as exc:
        return f"it cannot be read: {exc}"
    if actual != expected:
        return f"sha256 {actual} != release.json {expected}"
    return None


def publication_damage(settings: Settings) -> str | None:
    """Why the current publication's database is damaged (None: intact, or no publication yet)."""
    current = settings.current_release
    if not (current.is_symlink() or current.exists()):
        return None
    if not current.is_dir():
        return f"{current} does not lead to a release folder"
    return database_damage(settings.published_db, release_required=True)


def ensure_intact(db: Path | str, settings: Settings | None = None) -> None:
    """Raise :class:`PublicationDamaged` if ``db`` is a published database that no longer matches
    its ``release.json``; the one check every reader of a publication makes before opening it."""
    db = Path(db)
    current = settings.published_db if settings is not None else None
    required = current is not None and (db == current or (db.exists() and current.exists()
                                                         and db.resolve() == current.resolve()))
    reason = database_damage(db, release_required=required)
    if reason:
        raise PublicationDamaged(db, reason)


def require_publication(settings: Settings) -> Path:
    """The current publication's database, checked: :class:`PublicationDamaged` if it is damaged,
    a :class:`PipelineError` if there is none yet."""
    reason = publication_damage(settings)
    if reason:
        raise PublicationDamaged(settings.published_db, reason)
    if not settings.published_db.is_file():
        raise PipelineError(f"no published database at {settings.published_db}: run `pipeline run` first")
    return settings.published_db


def failure_kept(settings: Settings) -> str:
    """What a failed run says it kept: the last good publication, unless that one is damaged."""
    reason = publication_damage(settings)
    if reason:
        return f"Nothing was published; {damage_message(settings.published_db, reason)} and {REBUILT_NEXT}."
    return KEPT


def kept_after_failure(settings: Settings) -> str:
    """The last line ``pipeline run`` prints after a failure, when a publication exists."""
    reason = publication_damage(settings)
    if reason:
        return f"The{damage_message(settings.published_db, reason)[3:]}: {REBUILT_NEXT}."
    return f"The last good publication is unchanged: {settings.published_db}"


def _tell(text: str) -> None:
    """A warning in the log and on the terminal of ``pipeline run``."""
    from pipeline import progress

    log.warning(text)
    progress.notice(text)
