"""Publish a built database atomically, with Parquet exports of every mart.

Layout under ``publish/``::

    releases/<run id>/sanctions.duckdb      the complete database (read it read-only)
    releases/<run id>/marts/<mart>.parquet  one Parquet file per mart
    releases/<run id>/data_docs/            Great Expectations Data Docs of the run
    releases/<run id>/release.json          what was published, from which snapshots
    current -> releases/<run id>            swapped atomically (rename of a symlink)

A release folder is complete before ``current`` points at it, so a reader never sees a half-built
file; a failed run never touches ``current``; older releases are kept (``PIPELINE_KEEP_RELEASES``)
so a reader that opened one keeps reading it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

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
    """
    releases = settings.publish_dir / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    name = safe_run_id(run_id)
    final = releases / name
    staging = releases / f".tmp-{name}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        (staging / "marts").mkdir(parents=True)
        db_path = staging / "sanctions.duckdb"
        shutil.copyfile(build_db, db_path)

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
        (staging / "release.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        if commit is not None:
            commit()
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
    _prune(releases, keep=settings.keep_releases, current=final)
    return final


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
