"""The pipeline's steps as plain functions; each Airflow task in ``dags/`` calls one of them.

land -> check raw -> parse (per source) -> check staged -> build models -> check marts -> publish

Everything passed between steps is JSON (Airflow XCom). A step that meets bad data raises a
:class:`~pipeline.errors.PipelineError` naming the source, file, record and rule; nothing after
it runs, so ``publish/current`` keeps the last good release. Parsed snapshots go to a run-scoped
candidate folder and join the lake only when the run publishes (``sanctions_pipeline``, what
``pipeline run`` runs), or, in the per-source DAGs (``ingest_<source>``), once the source's
staged checks pass (:func:`commit_snapshot`); the publish DAG builds from the lake.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from pipeline import lakefs, raw
from pipeline.errors import PipelineError, ValidationFailed
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
    """The inputs of a source (configured, else the official URLs in live mode, else the shipped
    demo files) and whether they are the demo files.

    A configured input may be a file, a folder (its files, in name order; not its sub-folders,
    hidden files or READMEs) or an ``http(s)://`` URL.
    """
    configured = settings.source_inputs.get(source_id)
    meta = load_meta(source_id)
    demo = not configured and not settings.live
    if configured:
        items = [i.strip() for i in configured.split(";") if i.strip()]
    elif settings.live:
        override = settings.source_urls.get(source_id)
        if not meta.live and not override:
            raise PipelineError(f"[{source_id}] live mode fetches only sources whose source.yml urls are files; "
                                f"give this one an input (PIPELINE_INPUT_{source_id.upper()})")
        items = [u.strip() for u in override.split(";") if u.strip()] if override else list(meta.urls)
    else:
        items = [str(settings.demo_dir / rel) for rel in meta.demo_inputs]
    inputs: list[str] = []
    for item in items:
        path = Path(item)
        if not item.startswith(("http://", "https://")) and path.is_dir():
            inputs.extend(str(p) for p in sorted(path.iterdir())
                          if p.is_file() and not p.name.startswith(".") and p.name.lower() != "readme.md")
        else:
            inputs.append(item)
    return inputs, demo


# --- 1. land -----------------------------------------------------------------------------------

def land_sources(settings: Settings, sources: list[str] | None = None) -> list[dict]:
    """Copy or download every configured input (of ``sources``, default every source of the run)
    into the raw store. One batch per source."""
    from pipeline.fetch import land_source
    from pipeline.locking import check_stop

    batches = []
    for source_id in settings.sources if sources is None else sources:
        check_stop("land")  # between sources: a stop request does not wait for every download
        batches.append(land_source(settings, source_id))  # live mode: conditionally (pipeline/fetch.py)
    return batches


# --- 2. raw checks ----------------------------------------------------------------------------

def raw_frame(batches: list[dict]):
    """One row per landed file: what it really is (sniffed) and what its source accepts. The
    rules that judge it live in :mod:`expectations.raw`."""
    import pandas as pd

    from expectations.raw import prepare
    from pipeline.xmlsafe import sniff

    rows = []
    for batch in batches:
        meta = load_meta(batch["source"])
        for f in batch["files"]:
            found = sniff(Path(f["path"]))
            rows.append({
                "source": batch["source"],
                "name": f["name"],
                "sha256": f["sha256"],
                "bytes": f["bytes"],
                "kind": found.kind,
                "root": found.root,
                "has_doctype": found.has_doctype,
                "accepted_kinds": ";".join(meta.raw_kinds),
                "expected_roots": ";".join(meta.raw_kinds.get("xml", ())),
            })
    return prepare(pd.DataFrame(rows))


def check_raw(batches: list[dict], settings: Settings) -> dict:
    """Validate every landed file in one GX pass. A failure names each offending file (source, name,
    sniffed kind) and, per rule, the files that broke it: GX returns the failing rows themselves."""
    from pipeline.rerun import unchanged_snapshot

    # files a lake snapshot was parsed from, by the same code (expectations/ included), passed already
    batches = [b for b in batches if not unchanged_snapshot(settings, b, _lake_snapshot(settings, b["source"]))]
    if not batches:
        return {"files": 0, "suites": []}
    from expectations.raw import INDEX_COLUMNS, offending_files, raw_files_suite
    from pipeline.validation import validate_stage

    frame = raw_frame(raw.local_batches(settings, batches))
    reports = validate_stage("raw", {"files": frame}, {"files": raw_files_suite()},
                             docs_dir=data_docs_dir(settings), index_columns=INDEX_COLUMNS, raise_on_failure=False)
    for report in reports:
        if report.failed_critical:
            raise ValidationFailed(f"{report.suite} [{offending_files(report.unexpected_rows, len(frame))}]",
                                   report.failed_critical, report.data_docs)
    return {"files": len(frame), "suites": [r.suite for r in reports]}


# --- 3. parse ---------------------------------------------------------------------------------

def parse_batch(batch: dict, settings: Settings, run_id: str) -> dict:
    """Parse one source's landed files into the run's candidate staged folder; a source unchanged
    since the lake's snapshot is not parsed again: that snapshot stays. Unchanged: every URL is what
    the lake published (live mode, :mod:`pipeline.fetch`), or the files (sha256 and names) are those
    the lake's snapshot was parsed from, by the same code and settings (:mod:`pipeline.rerun`)."""
    from pipeline import rerun
    from pipeline.fetch import record_parse
    from pipeline.parse import parse_files

    shas = sorted(f["sha256"] for f in batch["files"])
    lake_snapshot = _lake_snapshot(settings, batch["source"])
    if batch.get("unchanged") or rerun.unchanged_snapshot(settings, batch, lake_snapshot):
        record_parse(settings, run_id, batch, None)
        return {"source": batch["source"], "snapshot_date": lake_snapshot, "counts": {},
                "files": [f["name"] for f in batch["files"]], "sha256": shas, "demo": batch["demo"],
                "unchanged": True, "seconds": 0.0}
    files = [raw.RawFile.from_dict(f) for f in batch["files"]]
    fetched = min(date.fromisoformat(f.fetched_at[:10]) for f in files)
    started = time.perf_counter()
    result = parse_files(
        batch["source"],
        [raw.local_copy(settings, f) for f in files],
        candidate_dir(settings, run_id),
        names=[f.name for f in files],
        sha256s=[f.sha256 for f in files],
        snapshot_date=settings.snapshot_date or fetched,
        max_bytes=settings.max_raw_bytes,
        floor=_floor(batch["source"], batch["demo"]),
        accept_partial=settings.accept_small_lists,
    )
    out = result.to_dict()
    out["demo"] = batch["demo"]
    out["sha256"] = shas
    out["parse_fingerprint"] = rerun.parse_fingerprint(settings, batch["source"], batch["demo"])
    out["seconds"] = round(time.perf_counter() - started, 3)
    record_parse(settings, run_id, batch, out)
    return out


def _lake_snapshot(settings: Settings, source: str) -> str | None:
    """The lake's latest snapshot date of ``source`` (its main table's partitions), if any."""
    folder = settings.staged_dir / load_meta(source).main_table / f"source={source}"
    days = sorted(p.name.removeprefix("snapshot_date=") for p in folder.glob("snapshot_date=*")
                  if any(p.glob("*.parquet"))) if folder.is_dir() else []
    return days[-1] if days else None


def _floor(source: str, demo: bool) -> int:
    """The row count of a complete list of ``source`` (the demo files' own floor for them): a
    snapshot under it is recorded as partial, and stops the run unless it accepts small lists."""
    meta = load_meta(source)
    return meta.min_rows_demo if demo else meta.min_rows


# --- 4. staged checks -------------------------------------------------------------------------

def _staged_frames(con, root: Path, source: str, snapshot: str, tables: list[str]) -> dict:
    """Each staged table of one source's snapshot as a DuckDB relation on ``con`` (the checks run in
    DuckDB: nothing is read into pandas), with ``source`` and ``snapshot_date``."""
    from pipeline.validation import sql_literal

    frames = {}
    for table in tables:
        part = root / table / f"source={source}" / f"snapshot_date={snapshot}"
        frames[table] = con.read_parquet(f"{part}/*.parquet", hive_partitioning=False).query(
            "p", f"select *, {sql_literal(source)} as source, cast({sql_literal(snapshot)} as date) as snapshot_date "
                 "from p")
    return frames


def previous_rows(settings: Settings, source: str) -> int | None:
    """Rows of ``source``'s main table in the last good publication's latest snapshot of it
    (None when there is none): the base of the "a list never shrinks that much" check.

    A damaged publication (its sha256 no longer matches ``release.json``) is not read: the run
    says so, counts the lake's latest snapshot of the source instead (the publication was built
    from it) and goes on to rebuild the publication."""
    import duckdb

    from pipeline.publish import damage_message, publication_damage

    table = load_meta(source).main_table
    damage = publication_damage(settings)
    if damage:
        rows, where = _lake_rows(settings, source, table)
        _say_once(f"{damage_message(settings.published_db, damage)}: this run rebuilds the publication from the "
                  f"lake and the raw store; the check against the previous snapshot of {source} uses {where}")
        return rows
    if not settings.published_db.exists():
        return None
    try:
        con = duckdb.connect(str(settings.published_db), read_only=True)
    except duckdb.Error as exc:
        raise PipelineError(f"cannot read the published database {settings.published_db} for the previous "
                            f"snapshot of {source}: {exc}") from None
    try:
        rows = con.execute(
            f"select count(*) from lake.{table} where source = ? and snapshot_date = "
            f"(select max(snapshot_date) from lake.{table} where source = ?)", [source, source]
        ).fetchall()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return rows[0][0] or None


def _lake_rows(settings: Settings, source: str, table: str) -> tuple[int | None, str]:
    """Rows of the lake's latest snapshot of ``source`` in ``table``, and what was counted."""
    import duckdb

    folder = settings.staged_dir / table / f"source={source}"
    days = sorted(p.name.removeprefix("snapshot_date=") for p in folder.glob("snapshot_date=*")
                  if any(p.glob("*.parquet"))) if folder.is_dir() else []
    if not days:
        return None, "nothing: the lake has no snapshot of it either"
    parts = folder / f"snapshot_date={days[-1]}" / "*.parquet"
    con = duckdb.connect()
    try:
        rows = con.execute("select count(*) from read_parquet(?)", [str(parts)]).fetchall()[0][0]
    except duckdb.Error as exc:
        return None, f"nothing: the lake's snapshot {days[-1]} cannot be read ({exc}); the build checks it"
    finally:
        con.close()
    return rows or None, f"the lake's snapshot {days[-1]} ({rows} rows)"


_SAID: set[str] = set()


def _say_once(text: str) -> None:
    """A warning in the log and on the terminal of ``pipeline run``, once per process."""
    from pipeline import progress

    if text in _SAID:
        return
    _SAID.add(text)
    log.warning(text)
    progress.notice(text)


def staged_suites_for(source: str, demo: bool, snapshot: date, settings: Settings) -> dict:
    """The staged suites of one source: the sanctions suites for a list (with the check against
    the previous snapshot), the alignment suites for events, articles and votes (which come in
    batches, so a smaller batch is not a shrinking list)."""
    from expectations.staged import staged_suites
    from expectations.staged_alignment import alignment_suites

    meta = load_meta(source)
    minimum = meta.min_rows_demo if demo else meta.min_rows
    if meta.main_table == "designations":
        return staged_suites(minimum, meta.max_rows, previous_rows(settings, source), snapshot_date=snapshot,
                             accept_small_lists=settings.accept_small_lists)
    return alignment_suites(list(meta.tables), meta.main_table, minimum, meta.max_rows,
                            accept_small_lists=settings.accept_small_lists)


def check_staged(results: list[dict], settings: Settings, run_id: str) -> dict:
    import duckdb

    from expectations.staged_alignment import prepare
    from pipeline.validation import build_pending_docs, validate_stage

    lakefs.pull_publication(settings)  # an object-store lake: the current release the checks compare with
    from pipeline.rerun import unchanged_release

    release = unchanged_release(settings, results)
    if release:  # nothing to check, build or publish: the steps after this one short-circuit
        return {UNCHANGED: release}
    checked = {}
    for result in results:
        if result.get("unchanged"):  # not parsed again: the lake's snapshot was checked when it was staged
            continue
        source = result["source"]
        snapshot = date.fromisoformat(result["snapshot_date"])
        suites = staged_suites_for(source, result["demo"], snapshot, settings)
        con = duckdb.connect()
        try:
            frames = _staged_frames(con, candidate_dir(settings, run_id), source, result["snapshot_date"], list(suites))
            frames = {table: prepare(table, frame) for table, frame in frames.items()}
            reports = validate_stage("staged", frames, suites, docs_dir=data_docs_dir(settings), run_name=source,
                                     docs_later=True)
        except ValidationFailed as exc:
            raise ValidationFailed(f"{exc.suite} (source {source}, files {', '.join(result['files'])})",
                                   exc.failures, exc.data_docs) from None
        finally:
            con.close()
        checked[source] = [r.suite for r in reports]
    build_pending_docs(data_docs_dir(settings))  # one Data Docs build for every source
    return checked


#: The key naming the current release when the run changes nothing (:func:`pipeline.rerun.unchanged_release`).
UNCHANGED = "unchanged_release"


def carry_decision(results: list[dict], checked: dict) -> list[dict]:
    """The parse results, each naming the current release when ``check_staged`` found nothing changed."""
    release = checked.get(UNCHANGED) if isinstance(checked, dict) else None
    return [{**r, UNCHANGED: release} for r in results] if release else results


def unchanged_release(results: list[dict] | None) -> str | None:
    """The current release, when the run found nothing changed since it (the step short-circuits)."""
    return next((r[UNCHANGED] for r in results or [] if r.get(UNCHANGED)), None)


# --- 5. match ---------------------------------------------------------------------------------

def match(settings: Settings, run_id: str, results: list[dict] | None = None) -> dict:
    """Unique targets: match the designations of the lake with this run's snapshots laid over it
    (:mod:`pipeline.matching`); the build reads the result beside the staged tables."""
    from pipeline.matching import step

    if unchanged_release(results):
        return {UNCHANGED: unchanged_release(results)}
    return step.run(_merged_staged(settings, run_id), run_dir(settings, run_id) / "matching",
                    settings.matching_dir, settings.judgements_path)


# --- 5b. build --------------------------------------------------------------------------------

def _merged_staged(settings: Settings, run_id: str) -> Path:
    """A view of the lake with this run's candidate partitions laid over it (hard links).

    Lake parts are read in full first: a damaged one is quarantined and its snapshot re-parsed
    from the raw store (or left out with a warning), see :func:`pipeline.housekeeping.lake_view`.
    """
    with lake_lock(settings):  # an ingest DAG's commit is never seen half-done
        return _merge_staged(settings, run_id)


def _merge_staged(settings: Settings, run_id: str) -> Path:
    from pipeline.housekeeping import PART_GLOB, lake_view
    from pipeline.sources.base import is_archive

    merged = run_dir(settings, run_id) / "merged"
    shutil.rmtree(merged, ignore_errors=True)
    candidates = candidate_dir(settings, run_id)
    own = {p.relative_to(candidates): p for p in candidates.glob(PART_GLOB)} if candidates.exists() else {}
    # A list's snapshot is one list: this run's files for a (source, snapshot date) replace every part
    # the lake holds for it (another file of the same day), never merge with them. An archive's
    # snapshot keeps every file's parts: a later file adds to it (pipeline/sources/base.py is_archive).
    replaced = {rel.parent for rel in own if not is_archive(rel.parts[1].removeprefix("source="))}
    healed = run_dir(settings, run_id) / "healed"
    lake = [(rel, part) for rel, part in lake_view(settings, healed, covered=set(own)) if rel.parent not in replaced]
    for rel, part in [*lake, *own.items()]:
        target = merged / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.unlink()
        os.link(part, target)
    return merged


def build(settings: Settings, run_id: str, results: list[dict] | None = None) -> dict:
    from pipeline.models import build_database
    from pipeline.rerun import build_record

    if unchanged_release(results):
        return {UNCHANGED: unchanged_release(results), "database": str(settings.published_db), "models": 0}
    db_path = run_dir(settings, run_id) / "sanctions.duckdb"
    started = time.perf_counter()
    # dbt's target folder stays in the home between runs: its cached manifest spares the next parse
    staged = _merged_staged(settings, run_id)
    record = build_record(settings, staged, run_dir(settings, run_id) / "matching")  # release.json: rerun
    _link_matching(settings, run_id, staged)
    from pipeline.freshness import write_build_inputs

    write_build_inputs(settings, run_id, staged / "_fetch")  # lake.fetch_events, lake.source_cadence
    timings = build_database(staged, db_path, settings.sql_dir, settings.storage_version,
                             work_dir=settings.home / "dbt", view=lakefs.build_view(settings, staged))
    return {"database": str(db_path), "models": len(timings), "seconds": round(time.perf_counter() - started, 3),
            "rerun": record}


def _link_matching(settings: Settings, run_id: str, staged: Path) -> None:
    """The match step's Parquet where the dbt project's matching models read it (``_matching/``
    beside the staged tables); without it every designation is a target of its own."""
    from pipeline.matching.step import FILES

    folder = staged / "_matching"
    folder.mkdir(exist_ok=True)
    for name in FILES:
        made = run_dir(settings, run_id) / "matching" / name
        if made.exists():
            os.link(made, folder / name)


# --- 6. mart checks ---------------------------------------------------------------------------

def check_marts(db_path: str, settings: Settings, unchanged: str | None = None) -> dict:
    """Every mart's suite, evaluated in DuckDB over the built database (each mart with its helper
    columns as a relation: nothing is read into pandas); GX judges the outcome. ``unchanged``: the
    run built nothing (the current release stands, checked when it was published)."""
    if unchanged:
        return {UNCHANGED: unchanged, "suites": []}
    import duckdb

    from expectations.marts import mart_suites, prepare_relations
    from pipeline.validation import validate_stage

    suites = mart_suites()
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        frames = prepare_relations(con, list(suites))
        reports = validate_stage("marts", frames, suites, docs_dir=data_docs_dir(settings))
    finally:
        con.close()
    return {"suites": [r.suite for r in reports]}


# --- 7. publish -------------------------------------------------------------------------------

def commit_staged(settings: Settings, run_id: str) -> int:
    """Move the run's candidate partitions, and the snapshots it healed, into the lake (same file
    names: idempotent). Parts of an earlier file for the same list and snapshot date move to
    ``lake/superseded/<run>/``: kept, but no longer part of the snapshot; an archive keeps them."""
    from pipeline.fetch import commit as commit_fetch
    from pipeline.housekeeping import move_parts

    superseded = settings.lake_dir / "superseded" / safe_run_id(run_id)
    moved = sum(move_parts(run_dir(settings, run_id) / folder, settings.staged_dir,
                           superseded if folder == "staged" else None)
                for folder in ("staged", "healed") if (run_dir(settings, run_id) / folder).is_dir())
    commit_fetch(settings, run_id)  # what was fetched is now what the lake holds: the next run compares with it
    return moved


def publish(build_info: dict, results: list[dict], settings: Settings, run_id: str) -> dict:
    from pipeline.locking import commit_publish
    from pipeline.publish import publish as publish_release
    from pipeline.rerun import release_inputs

    if build_info.get(UNCHANGED):  # nothing changed: no release; the checks it made join the fetch state
        with lake_lock(settings):
            commit_staged(settings, run_id)
        shutil.rmtree(run_dir(settings, run_id), ignore_errors=True)
        return {"release": str(settings.current_release.resolve()), "database": str(settings.published_db),
                "staged_parts": 0, UNCHANGED: build_info[UNCHANGED]}
    info = {"parsed": [{k: r[k] for k in ("source", "snapshot_date", "counts", "files", "demo")} for r in results],
            "inputs": release_inputs(results), "rerun": build_info.get("rerun")}
    # The stop check that matters: atomically, just before the release is swapped in.
    release = publish_release(Path(build_info["database"]), settings, run_id,
                              data_docs=data_docs_dir(settings), info=info,
                              commit=lambda: commit_publish(safe_run_id(run_id)))
    with lake_lock(settings):
        committed = commit_staged(settings, run_id)
    from pipeline.matching.step import commit as commit_matching

    commit_matching(run_dir(settings, run_id) / "matching", settings.matching_dir)
    lakefs.push_lake(settings)  # the lake on an object store: the matching too
    shutil.rmtree(run_dir(settings, run_id), ignore_errors=True)
    return {"release": str(release), "database": str(settings.published_db), "staged_parts": committed}


@contextmanager
def lake_lock(settings: Settings) -> Iterator[None]:
    """Held while staged parts move into the lake and while a build takes its view of the lake:
    the per-source DAGs commit their snapshots while the publish DAG may be building."""
    import fcntl

    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / ".lake.lock", "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def commit_snapshot(results: list[dict], settings: Settings, run_id: str) -> dict:
    """A per-source DAG's last step: its checked snapshot joins the lake (replacing an earlier
    file's parts of the same list and date, kept under ``lake/superseded/``); what it committed
    becomes the extra of the source's asset event, which the publish DAG reads. A source found
    unchanged (live mode) commits no snapshot: ``snapshots`` is empty."""
    with lake_lock(settings):
        committed = commit_staged(settings, run_id)
    lakefs.push_lake(settings)  # the lake on an object store: the snapshot joins the store's lake
    shutil.rmtree(run_dir(settings, run_id), ignore_errors=True)
    snapshots = [{k: r[k] for k in ("source", "snapshot_date", "counts", "files", "demo")}
                 for r in results if not r.get("unchanged")]
    return {"snapshots": snapshots, "staged_parts": committed}


# --- 8. report --------------------------------------------------------------------------------

def write_headline(release: dict, settings: Settings) -> str | dict:
    """Write the headline answers of the new publication into its release (``headline.txt``); when
    nothing changed since the current release, its own headline stands (``{"unchanged_release",
    "headline"}``)."""
    from pipeline.report import headline

    path = Path(release["release"]) / "headline.txt"
    if release.get(UNCHANGED) and path.is_file():  # the current release's own headline stands
        return {UNCHANGED: release[UNCHANGED], "headline": str(path)}
    path.write_text(headline(settings) + "\n", encoding="utf-8")
    lakefs.release_file(settings, path)  # the lake on an object store: beside its release
    log.info("headline answers written to %s", path)
    return str(path)


# --- failures ---------------------------------------------------------------------------------

def record_failure(settings: Settings, run_id: str, step: str, error: BaseException) -> None:
    """Keep the last error where ``pipeline run`` can print it after Airflow's own logs (written
    atomically; a full disk is reported as such, see :func:`pipeline.airflow_run.error_record`).

    When the current publication is damaged the record never says it is unchanged: it names the
    damage instead (:func:`pipeline.publish.failure_kept`)."""
    from pipeline.airflow_run import error_record, write_last_error
    from pipeline.errors import KEPT
    from pipeline.publish import failure_kept

    record = error_record(settings, run_id, step, error)
    try:
        kept = failure_kept(settings)
    except Exception as exc:  # noqa: BLE001 - the error record must be written whatever happens
        kept = f"Nothing was published; the current publication could not be checked ({exc})."
    if kept != KEPT:
        # a PipelineError ends with KEPT; a full disk says it in lower case (disk_full_message)
        lower = kept[0].lower() + kept[1:]
        text = record["error"].replace(KEPT, kept).replace(
            "nothing was published; the last good publication is unchanged.", lower)
        record["error"] = text if kept in text or lower in text else f"{text}\n{kept}"
    write_last_error(settings, record)
