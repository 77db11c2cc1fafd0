"""What an unchanged re-run may skip, decided from fingerprints kept in the lake and the release.

Two decisions, both on the safe side (anything not known to be the same is done again):

- :func:`unchanged_snapshot` (parse): a source whose landed files (sha256 and name) are those the
  lake's current snapshot of it was parsed from, by the same code with the same settings, is not
  parsed again. What a snapshot was parsed from is its ``parse`` event in the fetch log
  (:mod:`pipeline.fetch`, committed when the snapshot joins the lake), which also records the
  parse fingerprint (:func:`parse_fingerprint`); the lake must still hold that snapshot's part.
- :func:`unchanged_release` (after parse): when every source of the run is unchanged, the current
  publication is intact, and its ``release.json`` says it was built from exactly the lake the
  build would read now (its parts, by name and size), the matching the build would start from,
  and the same build fingerprint (:func:`build_fingerprint`: the code of ``pipeline/``,
  ``expectations/`` and the dbt project, the versions of the packages that compute, the settings
  that change outputs, the judgements file and the UTC day), nothing is built or published: the
  current publication stands.

- :func:`unchanged_before_run` (``pipeline run``, before Airflow starts): the same decision made
  early, from the input files alone (hashed once, no copy into the raw store), under the run
  lock: when every source's files are those its lake snapshot was parsed from and the current
  release stands on, and :func:`unchanged_release` agrees, ``pipeline run`` keeps the release
  and reprints its headline without starting Airflow. Live mode (URLs) is decided by fetching,
  in the DAG.

All of it is on by default (``PIPELINE_SKIP_UNCHANGED=0`` turns it off: then no fingerprint is
computed and every run parses and publishes). ``pipeline run --force`` (:data:`FORCE_ENV`) parses
every source and publishes for one run, and still records the fingerprints the next run compares.

The UTC day is part of the build fingerprint because ``mart_source_freshness`` measures each
source's lag in days as of the run's own checks: a publication is rebuilt at least once a day,
so its lag days and stale flags never fall behind. Within a day an unchanged re-run keeps the
release's freshness figures (its ``last_fetched_at`` is the release's run); the fetch log keeps
every check.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from pipeline.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)

#: ``pipeline run --force`` sets it for its Airflow child: nothing is skipped as unchanged this run.
FORCE_ENV = "PIPELINE_REBUILD"

#: Packages whose version can change what the pipeline computes or writes.
PACKAGES = ("sanctions-pipeline", "duckdb", "dbt-core", "dbt-duckdb", "great-expectations", "pyarrow", "lxml")
_SKIP_DIRS = {"__pycache__", "target", "logs", ".pytest_cache", ".ruff_cache"}


def _files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not _SKIP_DIRS.intersection(p.relative_to(root).parts)
                  and not p.name.startswith(".") and p.suffix not in (".pyc", ".pyo"))


@cache
def _tree_digest(root: Path) -> str:
    """sha256 over every file of ``root`` (relative name and content), caches and build output left out."""
    digest = hashlib.sha256()
    for path in _files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def code_fingerprint(settings: Settings) -> dict[str, object]:
    """The code that computes the outputs: ``pipeline/`` (parsers, reference data, matching),
    ``expectations/``, the dbt project, and the versions of the packages that compute."""
    return {"pipeline": _tree_digest(REPO_ROOT / "pipeline"), "expectations": _tree_digest(REPO_ROOT / "expectations"),
            "sql": _tree_digest(settings.sql_dir.resolve()), "packages": _versions()}


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _skipping(settings: Settings) -> bool:
    """Whether this run may skip what is unchanged (the setting is on and the run is not forced)."""
    return settings.skip_unchanged and os.environ.get(FORCE_ENV) != "1"


def parse_fingerprint(settings: Settings, source: str, demo: bool) -> str | None:
    """What, besides its files, a source's snapshot depends on: the code and the parse settings.
    None when the setting is off: nothing is compared, so the code is not hashed."""
    if not settings.skip_unchanged:
        return None
    code = {k: v for k, v in code_fingerprint(settings).items() if k != "sql"}  # the dbt project parses nothing
    return _digest({
        "code": code, "source": source, "demo": demo,
        "snapshot_date": settings.snapshot_date and settings.snapshot_date.isoformat(),
        "max_raw_bytes": settings.max_raw_bytes,
        "max_unzip_ratio": settings.max_unzip_ratio, "max_line_bytes": settings.max_line_bytes,
        "accept_small_lists": settings.accept_small_lists,
    })


def _file_sha256(path: Path) -> str | None:
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def build_fingerprint(settings: Settings, today: str | None = None) -> dict[str, object]:
    """What, besides the lake and the matching, a publication depends on (see the module docstring);
    ``digest`` is what a re-run compares."""
    parts = {
        "code": code_fingerprint(settings),
        "settings": {"sources": sorted(settings.sources), "storage_version": settings.storage_version,
                     "accept_small_lists": settings.accept_small_lists,
                     "snapshot_date": settings.snapshot_date and settings.snapshot_date.isoformat(),
                     "live": settings.live, "headline_pair": settings.headline_pair_value},
        "judgements_sha256": _file_sha256(settings.judgements_path),
        "day": today or datetime.now(UTC).date().isoformat(),
    }
    return {**parts, "digest": _digest(parts)}


def parts_digest(root: Path) -> str:
    """sha256 over the staged parts under ``root`` (relative path and size; part names carry the
    bundle id of the raw files they come from)."""
    from pipeline.housekeeping import PART_GLOB

    rows = sorted(f"{p.relative_to(root).as_posix()}\t{p.stat().st_size}" for p in root.glob(PART_GLOB)) \
        if root.is_dir() else []
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def matching_digest(folder: Path) -> str:
    """sha256 over the matching files the build starts from (:data:`pipeline.matching.step.FILES`)."""
    from pipeline.matching.step import FILES

    return _digest({name: _file_sha256(folder / name) for name in FILES})


# --- parse --------------------------------------------------------------------------------------

def _last_parse(settings: Settings, source: str) -> dict | None:
    from pipeline.fetch import read_log

    found = None
    for event in read_log(settings):
        if event.get("event") == "parse" and event.get("source") == source:
            found = event
    return found


def unchanged_snapshot(settings: Settings, batch: dict, lake_snapshot: str | None) -> str | None:
    """The date of the lake's current snapshot of ``batch``'s source when the batch is what it was
    parsed from (sha256 set and file names), by the same code with the same settings; else None."""
    if not _skipping(settings):
        return None
    from pipeline.sources import load_meta
    from pipeline.staged import bundle_id

    files = batch.get("files") or []
    event = _last_parse(settings, batch["source"])
    if not files or not event or not lake_snapshot or event.get("snapshot_date") != lake_snapshot:
        return None
    shas = sorted(f["sha256"] for f in files)
    if (event.get("sha256") != ";".join(shas) or event.get("files") != sorted(f["name"] for f in files)
            or event.get("parse_fingerprint") != parse_fingerprint(settings, batch["source"], batch["demo"])):
        return None
    meta = load_meta(batch["source"])
    part = (settings.staged_dir / meta.main_table / f"source={batch['source']}" / f"snapshot_date={lake_snapshot}"
            / f"part-{bundle_id(shas)}.parquet")
    return lake_snapshot if part.is_file() else None


# --- the release --------------------------------------------------------------------------------

def build_record(settings: Settings, merged: Path, matching: Path) -> dict:
    """What a build read, for its ``release.json`` (``rerun``): the lake's parts, the matching it
    leaves for the next run, and the build fingerprint."""
    return {"lake_parts": parts_digest(merged), "matching": matching_digest(matching),
            "build_fingerprint": build_fingerprint(settings) if settings.skip_unchanged else None}


def release_inputs(results: list[dict]) -> dict:
    """Per source of the run: the snapshot and the raw files (sha256, name) it stands on."""
    return {r["source"]: {"snapshot_date": str(r["snapshot_date"]), "files": r.get("files", []),
                          "sha256": r.get("sha256", [])} for r in results}


def unchanged_release(settings: Settings, results: list[dict]) -> str | None:
    """The current release's name when this run would publish it again (module docstring); else None."""
    from pipeline import lakefs

    if not _skipping(settings) or not results or not all(r.get("unchanged") for r in results):
        return None
    if settings.live:
        # a live run's checks are what mart_source_freshness reports (last checked, outcome, lag): the
        # unchanged sources are not parsed again, but the release is rebuilt so it shows this check
        log.info("every source is unchanged; live mode publishes this run's checks: building")
        return None
    lakefs.pull_publication(settings)
    why = _release_differs(settings, results)
    if why:
        log.info("every source is unchanged, but the current release differs in: %s; building", "; ".join(why))
        return None
    return settings.current_release.resolve().name


def _release_differs(settings: Settings, results: list[dict]) -> list[str]:
    """What differs between the current release and what this run would build from ``results``
    (every source unchanged); empty: nothing. A damaged or missing publication always differs."""
    from pipeline import lakefs
    from pipeline.publish import current_release_info, damage_message, publication_damage

    damage = publication_damage(settings)
    if damage:
        return [damage_message(settings.published_db, damage)]  # rebuilt, never kept
    if not settings.published_db.is_file():
        return ["no published database"]
    try:
        info = current_release_info(settings) or {}
    except (OSError, ValueError):
        return ["its release.json cannot be read"]
    record = info.get("rerun") or {}
    snapshots = info.get("source_snapshots") or {}
    inputs = info.get("inputs") or {}
    why = []
    if set(inputs) != {r["source"] for r in results} or any(
            inputs[r["source"]].get("snapshot_date") != str(r["snapshot_date"])
            or inputs[r["source"]].get("sha256") != r.get("sha256")
            or str(snapshots.get(r["source"], r["snapshot_date"])) != str(r["snapshot_date"]) for r in results):
        why.append("sources, snapshots or raw files")
    lakefs.pull_lake(settings)
    if record.get("lake_parts") != parts_digest(settings.staged_dir):
        why.append("lake parts")
    if record.get("matching") != matching_digest(settings.matching_dir):
        why.append("matching")
    now = build_fingerprint(settings)
    was = record.get("build_fingerprint") or {}
    if was.get("digest") != now["digest"]:
        changed = [k for k in now if k != "digest" and was.get(k) != now.get(k)]
        why.append(f"build fingerprint ({', '.join(changed)})")
    return why


# --- before Airflow starts ----------------------------------------------------------------------

def _is_url(item: str) -> bool:
    return item.startswith(("http://", "https://"))


def unchanged_before_run(settings: Settings) -> tuple[str | None, str | None]:
    """``pipeline run``'s early decision, under the run lock: ``(release, None)`` when the current
    release is what this run would publish again (every source's input files, by sha256 and name,
    are those its lake snapshot was parsed from and the release stands on; same code, settings
    and day; the release intact), else ``(None, why)``, ``why`` None when there is nothing to say
    (the setting is off, a forced run, live mode, no publication yet).

    Cheap on purpose: each input file is hashed once (the sources in order, stopping at the first
    that differs), the code only when every file is the same. Anything not known to be the same
    runs the pipeline (the DAG decides again, per source)."""
    from pipeline import lakefs
    from pipeline.flow import _lake_snapshot, source_inputs
    from pipeline.publish import current_release_info
    from pipeline.raw import stored_name

    if not _skipping(settings) or settings.live:
        return None, None
    if any(_is_url(i) for value in settings.source_inputs.values() for i in value.split(";")):
        return None, None  # a URL is decided by fetching it (pipeline/fetch.py), in the DAG
    lakefs.pull_publication(settings)
    current = settings.current_release
    if not (current.is_symlink() or current.exists()):
        return None, None
    release = current.resolve().name
    try:
        info = current_release_info(settings) or {}
    except (OSError, ValueError):
        return None, f"release {release}'s release.json cannot be read"
    inputs = info.get("inputs") or {}
    if set(inputs) != set(settings.sources):
        return None, (f"release {release} was built from the sources {', '.join(sorted(inputs)) or 'none recorded'}, "
                      f"this run's are {', '.join(sorted(settings.sources))}")
    results = []
    for source in settings.sources:
        paths, demo = source_inputs(settings, source)
        if any(_is_url(p) for p in paths):
            return None, None
        files = []
        for item in paths:
            path = Path(item)
            sha = _file_sha256(path) if path.is_file() and path.stat().st_size <= settings.max_raw_bytes else None
            if sha is None:
                return None, None  # missing or too large: the run says so, naming the file
            files.append({"name": stored_name(item), "sha256": sha})
        shas = sorted(f["sha256"] for f in files)
        if not files or inputs[source].get("sha256") != shas:
            return None, f"{source}'s input files differ from those of release {release} (sha256)"
        lake = _lake_snapshot(settings, source)
        snapshot = unchanged_snapshot(settings, {"source": source, "demo": demo, "files": files}, lake)
        if snapshot is None:
            return None, f"{source}'s lake snapshot was not parsed from these files by this code and settings"
        results.append({"source": source, "snapshot_date": snapshot, "sha256": shas, "unchanged": True})
    why = _release_differs(settings, results)
    if why:
        return None, f"the input files are those of release {release}, but it differs in: {'; '.join(why)}"
    return release, None
