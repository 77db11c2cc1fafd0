"""The pipeline's steps as plain functions; each Airflow task in ``dags/`` calls one of them.

land -> check raw -> parse (per source) -> check staged -> build models -> check marts -> publish

Everything passed between steps is JSON (Airflow XCom). A step that meets bad data raises a
:class:`~pipeline.errors.PipelineError` naming the source, file, record and rule; nothing after
it runs, so ``publish/current`` keeps the last good release. Parsed snapshots go to a run-scoped
candidate folder and join the lake only when the run publishes.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from datetime import date
from pathlib import Path

from pipeline import raw
from pipeline.errors import ValidationFailed
from pipeline.publish import safe_run_id
from pipeline.settings import Settings
from pipeline.sources import load_meta

log = logging.getLogger(__name__)


def run_dir(settings: Settings, run_id: str) -> Path:
    return settings.build_dir / safe_run_id(run_id)


def candidate_dir(settings: Settings, run_id: str) -> Path:
    return run_dir(settings, run_id) / "staged"


def data_docs_dir(settings: Settings) -> Path:
    return settings.gx_dir / "data_docs"


def source_inputs(settings: Settings, source_id: str) -> tuple[list[str], bool]:
    """The inputs configured for a source and whether they are the shipped demo files.

    A configured input may be a file, a folder (all its files) or an ``http(s)://`` URL.
    """
    configured = settings.source_inputs.get(source_id)
    if not configured:
        meta = load_meta(source_id)
        return [str(settings.demo_dir / rel) for rel in meta.demo_inputs], True
    inputs: list[str] = []
    for item in (i.strip() for i in configured.split(";") if i.strip()):
        path = Path(item)
        if not item.startswith(("http://", "https://")) and path.is_dir():
            inputs.extend(str(p) for p in sorted(path.iterdir()) if p.is_file())
        else:
            inputs.append(item)
    return inputs, False


# --- 1. land -----------------------------------------------------------------------------------

def land_sources(settings: Settings) -> list[dict]:
    """Copy or download every configured input into the raw store. One batch per source."""
    batches = []
    for source_id in settings.sources:
        inputs, demo = source_inputs(settings, source_id)
        files = [raw.land(source_id, origin, settings).to_dict() for origin in inputs]
        batches.append({"source": source_id, "demo": demo, "files": files})
    return batches


# --- 2. raw checks ----------------------------------------------------------------------------

def raw_frame(batches: list[dict]):
    """One row per landed file with what it really is (sniffed) and what its source accepts."""
    import pandas as pd

    from pipeline.xmlsafe import sniff

    rows = []
    for batch in batches:
        meta = load_meta(batch["source"])
        for f in batch["files"]:
            found = sniff(Path(f["path"]))
            accepted = meta.raw_kinds
            roots = accepted.get("xml", ())
            rows.append({
                "source": batch["source"],
                "name": f["name"],
                "sha256": f["sha256"],
                "bytes": f["bytes"],
                "kind": found.kind,
                "expected_kind": found.kind if found.kind in accepted else "|".join(accepted),
                "root": found.root,
                "expected_roots": ";".join(roots),
                "root_ok": found.kind == "csv" or (found.kind == "xml" and found.root in roots),
                "has_doctype": found.has_doctype,
            })
    return pd.DataFrame(rows)


def check_raw(batches: list[dict], settings: Settings) -> dict:
    from expectations.raw import raw_files_suite
    from pipeline.validation import validate_stage

    frame = raw_frame(batches)
    try:
        reports = validate_stage("raw", {"files": frame}, {"files": raw_files_suite()},
                                 docs_dir=data_docs_dir(settings))
    except ValidationFailed as exc:
        # Name the files that break the suite: re-check each file on its own.
        bad = []
        for index, row in frame.iterrows():
            try:
                validate_stage("raw", {"files": frame.loc[[index]]}, {"files": raw_files_suite()})
            except ValidationFailed:
                bad.append(f"source {row['source']} file '{row['name']}' (sniffed: {row['kind']})")
        raise ValidationFailed(f"{exc.suite} [{'; '.join(bad) or 'the set of files'}]",
                               exc.failures, exc.data_docs) from None
    return {"files": len(frame), "suites": [r.suite for r in reports]}


# --- 3. parse ---------------------------------------------------------------------------------

def parse_batch(batch: dict, settings: Settings, run_id: str) -> dict:
    """Parse one source's landed files into the run's candidate staged folder."""
    from pipeline.parse import parse_files

    files = [raw.RawFile.from_dict(f) for f in batch["files"]]
    fetched = min(date.fromisoformat(f.fetched_at[:10]) for f in files)
    started = time.perf_counter()
    result = parse_files(
        batch["source"],
        [Path(f.path) for f in files],
        candidate_dir(settings, run_id),
        names=[f.name for f in files],
        sha256s=[f.sha256 for f in files],
        snapshot_date=settings.snapshot_date or fetched,
        max_bytes=settings.max_raw_bytes,
    )
    out = result.to_dict()
    out["demo"] = batch["demo"]
    out["seconds"] = round(time.perf_counter() - started, 3)
    return out


# --- 4. staged checks -------------------------------------------------------------------------

def _staged_frames(root: Path, source: str, snapshot: str):
    import duckdb

    from pipeline.staged import TABLES

    frames = {}
    con = duckdb.connect()
    try:
        for table in TABLES:
            if table == "parse_audit":
                continue
            part = root / table / f"source={source}" / f"snapshot_date={snapshot}"
            frame = con.execute(
                f"select *, '{source}' as source, date '{snapshot}' as snapshot_date "
                f"from read_parquet('{part}/*.parquet')"
            ).df()
            frames[table] = frame
    finally:
        con.close()
    return frames


def previous_designations(settings: Settings, source: str) -> int | None:
    """Designations of ``source`` in the last good publication (None when there is none)."""
    import duckdb

    if not settings.published_db.exists():
        return None
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        rows = con.execute(
            "select count(*) from int_designations_current where source = ?", [source]
        ).fetchall()
    finally:
        con.close()
    return rows[0][0] or None


def check_staged(results: list[dict], settings: Settings, run_id: str) -> dict:
    from expectations.staged import staged_suites
    from pipeline.validation import validate_stage

    checked = {}
    for result in results:
        source = result["source"]
        meta = load_meta(source)
        minimum = meta.min_designations_demo if result["demo"] else meta.min_designations
        snapshot = date.fromisoformat(result["snapshot_date"])
        suites = staged_suites(minimum, meta.max_designations, previous_designations(settings, source),
                               snapshot_date=snapshot, accept_small_lists=settings.accept_small_lists)
        frames = _staged_frames(candidate_dir(settings, run_id), source, result["snapshot_date"])
        try:
            reports = validate_stage("staged", frames, suites, docs_dir=data_docs_dir(settings), run_name=source)
        except ValidationFailed as exc:
            raise ValidationFailed(f"{exc.suite} (source {source}, files {', '.join(result['files'])})",
                                   exc.failures, exc.data_docs) from None
        checked[source] = [r.suite for r in reports]
    return checked


# --- 5. build ---------------------------------------------------------------------------------

def _merged_staged(settings: Settings, run_id: str) -> Path:
    """A view of the lake with this run's candidate partitions laid over it (hard links)."""
    merged = run_dir(settings, run_id) / "merged"
    shutil.rmtree(merged, ignore_errors=True)
    for root in (settings.staged_dir, candidate_dir(settings, run_id)):
        if not root.exists():
            continue
        for part in root.glob("*/source=*/snapshot_date=*/*.parquet"):
            target = merged / part.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                target.unlink()
            os.link(part, target)
    return merged


def build(settings: Settings, run_id: str) -> dict:
    from pipeline.models import build_database

    db_path = run_dir(settings, run_id) / "sanctions.duckdb"
    started = time.perf_counter()
    timings = build_database(_merged_staged(settings, run_id), db_path, settings.sql_dir, settings.storage_version)
    return {"database": str(db_path), "models": len(timings), "seconds": round(time.perf_counter() - started, 3)}


# --- 6. mart checks ---------------------------------------------------------------------------

def mart_frames(db_path: Path, names: list[str]):
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {name: con.execute(f"select * from {name}").df() for name in names}
    finally:
        con.close()


def check_marts(db_path: str, settings: Settings) -> dict:
    from expectations.marts import mart_suites
    from pipeline.validation import validate_stage

    suites = mart_suites()
    reports = validate_stage("marts", mart_frames(Path(db_path), list(suites)), suites,
                             docs_dir=data_docs_dir(settings))
    return {"suites": [r.suite for r in reports]}


# --- 7. publish -------------------------------------------------------------------------------

def commit_staged(settings: Settings, run_id: str) -> int:
    """Move the run's candidate partitions into the lake (same file names: idempotent)."""
    moved = 0
    candidates = candidate_dir(settings, run_id)
    for part in candidates.glob("*/source=*/snapshot_date=*/*.parquet"):
        target = settings.staged_dir / part.relative_to(candidates)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, target)
        moved += 1
    return moved


def publish(build_info: dict, results: list[dict], settings: Settings, run_id: str) -> dict:
    from pipeline.publish import publish as publish_release

    info = {"parsed": [{k: r[k] for k in ("source", "snapshot_date", "counts", "files", "demo")} for r in results]}
    release = publish_release(Path(build_info["database"]), settings, run_id,
                              data_docs=data_docs_dir(settings), info=info)
    committed = commit_staged(settings, run_id)
    shutil.rmtree(run_dir(settings, run_id), ignore_errors=True)
    return {"release": str(release), "database": str(settings.published_db), "staged_parts": committed}


# --- failures ---------------------------------------------------------------------------------

def record_failure(settings: Settings, run_id: str, step: str, error: BaseException) -> None:
    """Keep the last error where ``pipeline run`` can print it after Airflow's own logs."""
    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / "last_error.json").write_text(json.dumps(
        {"run_id": run_id, "step": step, "error": str(error), "type": type(error).__name__}, indent=2))
