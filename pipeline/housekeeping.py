"""Housekeeping of a pipeline home: what a killed or failed run left behind, and a checked lake.

:func:`sweep` runs at the start of a run, under the run lock (so no other run is live on the
home), and removes the debris of earlier runs: ``build/<run>`` folders, ``publish/releases/.tmp-*``
release folders, ``publish/.current-*`` links and ``lake/raw/.landing-*`` downloads. A build
folder whose run had already published but was stopped before its staged parts joined the lake
is reclaimed: its parts are moved into the lake first.

:func:`lake_view` lists the lake's staged Parquet parts for a build after reading every part in
full. A damaged part (it does not decode, its columns are another table's, or its rows come from
another snapshot's raw files) is named by its lake path and moved to ``lake/quarantine/``; its
snapshot is re-parsed from the raw store into the run's ``healed`` folder when the raw store still
has its files (the healed parts join the lake when the run publishes). Otherwise the snapshot is
lost from history: its remaining parts are quarantined too (the lake keeps only whole snapshots),
and the loss is said loudly and recorded in ``lake/lost_snapshots.jsonl`` (source, snapshot date,
parts, raw sha256s), which every later ``release.json`` lists. Each quarantine, re-parse and loss
is printed among the progress lines of ``pipeline run`` (:func:`pipeline.progress.notice`), not
only in Airflow's log.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

from pipeline.settings import Settings

log = logging.getLogger(__name__)

PART_GLOB = "*/source=*/snapshot_date=*/*.parquet"


# --- debris ------------------------------------------------------------------------------------

def move_parts(root: Path, lake: Path, superseded: Path | None = None) -> int:
    """Move every staged part under ``root`` to the same relative path under ``lake``.

    With ``superseded``, a partition (table, source, snapshot date) of a list that receives a part
    is one list: parts of other files already there are moved to ``superseded`` (kept, never
    merged). An archive's partition (``snapshots: archive``) keeps the parts of every file: a later
    file of the same date adds to it and removes nothing."""
    from pipeline.sources.base import is_archive

    moved = 0
    parts = sorted(root.glob(PART_GLOB))
    if superseded is not None:
        for partition in sorted({part.parent.relative_to(root) for part in parts}):
            if is_archive(partition.parts[1].removeprefix("source=")):
                continue
            incoming = {p.name for p in parts if p.parent.relative_to(root) == partition}
            for old in sorted((lake / partition).glob("part-*.parquet")):
                if old.name not in incoming:
                    target = superseded / partition / old.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(old, target)
                    log.info("snapshot %s replaced: earlier file's part kept at %s", partition, target)
    for part in parts:
        target = lake / part.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, target)
        moved += 1
    return moved


def _remove(path: Path, why: str) -> None:
    log.info("housekeeping: removing %s (%s)", path, why)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def sweep(settings: Settings, keep: str | None = None) -> list[Path]:
    """Remove what earlier runs left behind; call it only while holding the run lock.

    ``keep`` is the build folder name of the calling run (a retried task must keep its own).
    Returns the removed paths.
    """
    removed: list[Path] = []
    releases = settings.publish_dir / "releases"
    if settings.build_dir.is_dir():
        for folder in sorted(settings.build_dir.iterdir()):
            if folder.name == keep:
                continue
            for pending in ("staged", "healed"):
                if (releases / folder.name).is_dir() and (folder / pending).is_dir():
                    superseded = settings.lake_dir / "superseded" / folder.name if pending == "staged" else None
                    moved = move_parts(folder / pending, settings.staged_dir, superseded)
                    if moved:
                        log.warning("housekeeping: run %s had published but not committed its staged parts; "
                                    "moved %d part(s) into the lake", folder.name, moved)
                        from pipeline import lakefs

                        lakefs.push_lake(settings)
            _remove(folder, "build folder of a run that is no longer running")
            removed.append(folder)
    patterns = [
        (releases, ".tmp-*", "half-written release"),
        (settings.publish_dir, ".current-*", "unused link of an interrupted publish"),
        (settings.raw_dir, ".landing-*", "partial download or copy"),
        (settings.home, ".last_error-*.tmp", "partial error file"),
    ]
    for folder, pattern, why in patterns:
        if folder.is_dir():
            for path in sorted(folder.glob(pattern)):
                _remove(path, why)
                removed.append(path)
    return removed


def sweep_if_idle(settings: Settings, keep: str | None = None) -> list[Path]:
    """:func:`sweep` for runs started without ``pipeline run`` (a scheduler, ``dag.test()``).

    Under ``pipeline run`` the parent already swept while holding the lock; elsewhere the sweep
    happens only if the run lock is free at this moment (no ``pipeline run`` is live).
    """
    from pipeline import locking

    if os.environ.get(locking.HELD_ENV) == str(settings.home):
        return []
    try:
        with locking.run_lock(settings, timeout=0, notify=lambda _msg: None):
            return sweep(settings, keep)
    except locking.RunLocked:
        log.info("housekeeping skipped: a pipeline run holds %s", locking.lock_path(settings))
        return []


# --- a checked lake ----------------------------------------------------------------------------

#: Snapshots the lake lost for good (damaged, and their raw files gone), one JSON object a line.
LOST_FILE = "lost_snapshots.jsonl"


def _say(text: str) -> None:
    """A warning in the log and on the terminal of ``pipeline run`` (its progress lines)."""
    from pipeline import progress

    log.warning(text)
    progress.notice(text)


def _read_part(path: Path) -> tuple[str | None, object, set[str]]:
    """Read every row group of a part: (why it is damaged or None, its Arrow schema, its raw sha256s)."""
    import pyarrow.parquet as pq

    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            fh.seek(max(0, path.stat().st_size - 4))
            tail = fh.read(4)
        if head != b"PAR1" or tail != b"PAR1":
            return f"not a complete Parquet file ({path.stat().st_size} bytes, no PAR1 magic at both ends)", None, set()
        parquet = pq.ParquetFile(path)
        shas: set[str] = set()
        for index in range(parquet.num_row_groups):
            group = parquet.read_row_group(index)
            if "raw_sha256" in group.column_names:
                shas.update(v for v in group.column("raw_sha256").to_pylist() if v)
    except Exception as exc:  # noqa: BLE001 - any failure to decode is damage; the reason is reported
        return f"{type(exc).__name__}: {exc}", None, set()
    return None, parquet.schema_arrow, shas


def parquet_damage(path: Path) -> str | None:
    """Why ``path`` is not a readable Parquet file (None when every row group decodes)."""
    return _read_part(path)[0]


def schema_mismatch(schema, table: str, source: str, tables: dict | None = None) -> str | None:
    """Why a part's Arrow ``schema`` is not one of ``table``'s (None: it is).

    Tolerant of the project's own schema changes (a column added since, or dropped, as the
    build's ``union_by_name`` reads them), not of another table's file: every column the part
    shares with the table has the table's type, the table's required columns are there, and no
    other staged table's columns fit the part better. ``tables``: :func:`pipeline.sources.all_schemas`,
    when the caller has it."""
    from pipeline.sources import all_schemas, schemas_for

    tables = tables if tables is not None else all_schemas()
    try:
        expected = schemas_for(source).get(table) or tables.get(table)
    except Exception:  # noqa: BLE001 - a source removed from the project: judge by the table's name
        expected = tables.get(table)
    if expected is None:
        return None
    have = {f.name: f.type for f in schema}
    if have == {f.name: f.type for f in expected}:
        return None  # the usual case: exactly the table's columns

    def fit(other) -> float:
        names = set(other.names)
        return len(names & set(have)) / len(names | set(have))

    reasons = [f"column {f.name} is {have[f.name]}, not {f.type}" for f in expected
               if f.name in have and have[f.name] != f.type]
    required = [f.name for f in expected if not f.nullable and f.name not in have]
    if required:
        reasons.append(f"required column(s) {', '.join(required)} missing")
    better = max((name for name in tables if name != table), key=lambda name: fit(tables[name]), default=None)
    if better is not None and fit(tables[better]) > fit(expected):
        reasons.append(f"its columns ({', '.join(have)}) are those of table {better}")
    return f"not a part of table {table}: {'; '.join(reasons)}" if reasons else None


def quarantine(settings: Settings, part: Path, reason: str, quiet: bool = False) -> Path:
    """Move a lake part to ``lake/quarantine/<UTC time>/<same relative path>`` with its reason.

    Said on the terminal of ``pipeline run`` too, unless ``quiet`` (the caller says it once for
    several parts)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = settings.lake_dir / "quarantine" / stamp / part.relative_to(settings.staged_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, target)
    target.with_name(target.name + ".reason.txt").write_text(f"{part}\n{reason}\n", encoding="utf-8")
    text = f"quarantined {part} -> {target}: {reason}"
    if quiet:
        log.warning(text)
    else:
        _say(text)
    return target


def _tables(source: str, present: dict[str, Path] | None = None) -> tuple[str, ...]:
    """The staged tables every snapshot of ``source`` has (those present, for a source no longer known)."""
    from pipeline.sources import schemas_for

    try:
        return tuple(schemas_for(source))
    except Exception:  # noqa: BLE001 - a source removed from the project: judge by what is there
        return tuple(present or ())


#: The most raw files one snapshot is looked for among, in the raw manifest (:func:`_manifest_bundle`).
MAX_BUNDLE_FILES = 64


def _snapshot_shas(shas: dict[str, set[str]], bundle: str) -> set[str] | None:
    """The raw files (sha256) a snapshot was parsed from, as its parts' lineage tells: all of
    them together, or one part that names them all (None: the lineage cannot tell)."""
    from pipeline.staged import bundle_id

    union = set().union(*shas.values()) if shas else set()
    if union and bundle_id(union) == bundle:
        return union
    for found in shas.values():
        if found and bundle_id(found) == bundle:
            return found
    return None


def _manifest_bundle(settings: Settings, source: str, bundle: str, hint: set[str]) -> set[str] | None:
    """The raw files of a snapshot from the raw manifest, when its parts' lineage does not name
    them all (a file that gave no rows, damaged parts): a run lands a source's files one after
    the other, so they are a run of consecutive manifest records of the source (at most
    :data:`MAX_BUNDLE_FILES`), holding one of the files the lineage names (``hint``) if any."""
    from pipeline import raw
    from pipeline.staged import bundle_id

    blocks: list[list[str]] = []
    previous = None
    for record in raw.read_manifest(settings):
        if record.source == source:
            if previous != source:
                blocks.append([])
            blocks[-1].append(record.sha256)
        previous = record.source
    tried: set[frozenset[str]] = set()
    for block in blocks:
        for start in range(len(block)):
            window: set[str] = set()
            for sha in block[start:start + MAX_BUNDLE_FILES]:
                window.add(sha)
                key = frozenset(window)
                if key in tried or (hint and not hint & window):
                    continue
                tried.add(key)
                if bundle_id(window) == bundle:
                    return set(window)
    return None


def _foreign(shas: dict[str, set[str]], snapshot: set[str] | None) -> dict[str, str]:
    """Parts whose rows come from raw files that are not their snapshot's (another snapshot's file)."""
    if not snapshot:
        return {}
    return {table: f"its rows come from raw file(s) {', '.join(sorted(found - snapshot))}, not from this "
                   f"snapshot's ({', '.join(sorted(snapshot))})"
            for table, found in shas.items() if not found <= snapshot}


def _heal(settings: Settings, source: str, snapshot: str, bundle: str, shas: set[str] | None, out: Path) -> str | None:
    """Re-parse one snapshot from the raw store into ``out``; returns why it could not (None: healed)."""
    from pipeline import raw
    from pipeline.parse import parse_files
    from pipeline.staged import partition_dir

    if not shas:
        return ("neither its remaining parts nor the raw manifest name the raw files it was parsed from "
                f"(bundle {bundle})")
    stored = {r.sha256: r for r in raw.read_manifest(settings) if r.source == source}
    gone = [f"sha256 {sha}" + (f" ({stored[sha].name}, {raw.stored_path(settings, stored[sha])})" if sha in stored
                               else " (not in the raw manifest)")
            for sha in sorted(shas) if sha not in stored or not raw.stored_path(settings, stored[sha]).is_file()]
    if gone:
        return f"its raw file(s) are gone from the raw store: {'; '.join(gone)}"
    files = [stored[sha] for sha in sorted(shas)]
    try:
        parse_files(source, [raw.stored_path(settings, f) for f in files], out, names=[f.name for f in files],
                    sha256s=[f.sha256 for f in files], snapshot_date=date.fromisoformat(snapshot),
                    max_bytes=settings.max_raw_bytes)
    except Exception as exc:  # noqa: BLE001
        return f"re-parsing its raw files failed: {exc}"
    day = date.fromisoformat(snapshot)
    if not all((partition_dir(out, t, source, day) / f"part-{bundle}.parquet").is_file() for t in _tables(source)):
        return "re-parsing its raw files gave a different snapshot"
    return None


def _history_lost(settings: Settings, source: str, snapshot: str, bundle: str, why_not: str,
                  damaged: dict[Path, str], moved: dict[Path, Path], shas: set[str] | None) -> None:
    """Say loudly that a snapshot left the lake for good, and record it in ``lake/lost_snapshots.jsonl``."""
    record = {
        "source": source,
        "snapshot_date": snapshot,
        "bundle": bundle,
        "raw_sha256": sorted(shas or ()),
        "reason": why_not,
        "damaged_parts": {str(part): why for part, why in sorted(damaged.items())},
        "quarantined": {str(part): str(target) for part, target in sorted(moved.items())},
        "detected_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = settings.lake_dir / LOST_FILE
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")
    parts = "; ".join(f"{part} ({why})" for part, why in sorted(damaged.items()))
    raw_files = ", ".join(record["raw_sha256"]) or "unknown (no readable part names them)"
    _say(f"HISTORY LOST: snapshot {snapshot} of source {source} (part-{bundle}) is no longer in the lake and "
         f"no later build has it: damaged part(s) {parts}; it cannot be re-parsed: {why_not} (raw sha256 "
         f"{raw_files}). Its {len(moved)} part(s) are kept under {settings.lake_dir / 'quarantine'}; "
         f"recorded in {path} and in the next release.json (lost_snapshots)")


def lost_snapshots(settings: Settings) -> list[dict]:
    """Every snapshot the lake has lost for good, oldest first (see :data:`LOST_FILE`)."""
    path = settings.lake_dir / LOST_FILE
    if not path.is_file():
        return []
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            found.append(json.loads(line))
        except ValueError:
            found.append({"reason": f"{path} line {number} cannot be read", "line": line[:200]})
    return found


def lake_view(settings: Settings, healed: Path, covered: set[Path] = frozenset()) -> list[tuple[Path, Path]]:
    """Every readable lake part as ``(path relative to the lake, file)``, healing damaged snapshots.

    A part is damaged when a row group does not decode, when its columns are another table's
    (:func:`schema_mismatch`), or when its rows come from another snapshot's raw files. ``covered``
    holds relative paths this run writes itself (its candidates): a damaged lake part among them
    is quarantined and needs no healing. Healed parts are written under ``healed``. Each
    quarantine, re-parse and snapshot lost for good is said on the terminal of ``pipeline run``.
    """
    from pipeline import lakefs
    from pipeline.sources import all_schemas

    lakefs.pull_lake(settings)  # the lake on an object store: this node's mirror of its parts
    lake = settings.staged_dir
    if not lake.is_dir():
        return []
    groups: dict[tuple[str, str, str], dict[str, Path]] = defaultdict(dict)
    for part in lake.glob(PART_GLOB):
        rel = part.relative_to(lake)
        table, source_dir, snapshot_dir = rel.parts[:3]
        key = (source_dir.removeprefix("source="), snapshot_dir.removeprefix("snapshot_date="), part.stem)
        groups[key][table] = part
    view: list[tuple[Path, Path]] = []
    tables = all_schemas()
    for (source, snapshot, stem), parts in sorted(groups.items()):
        bundle = stem.removeprefix("part-")
        damaged: dict[str, str] = {}
        shas: dict[str, set[str]] = {}
        for table, part in parts.items():
            why, schema, found = _read_part(part)
            why = why or schema_mismatch(schema, table, source, tables)
            if why:
                damaged[table] = why
            else:
                shas[table] = found
        snapshot_shas = _snapshot_shas(shas, bundle)
        for table, why in _foreign(shas, snapshot_shas).items():
            damaged[table] = why
            del shas[table]
        moved: dict[Path, Path] = {}
        for table, why in damaged.items():
            log.error("damaged Parquet in the lake: %s (%s)", parts[table], why)
            moved[parts[table]] = quarantine(settings, parts[table], why)
        intact = {t: p for t, p in parts.items() if t not in damaged}
        missing = [t for t in _tables(source, parts) if t not in intact]
        if all(Path(t, f"source={source}", f"snapshot_date={snapshot}", f"{stem}.parquet") in covered
               for t in missing):
            view.extend((p.relative_to(lake), p) for p in intact.values())
            continue
        what = f"lake snapshot {source} {snapshot} ({stem}; missing or damaged: {', '.join(missing)})"
        if snapshot_shas is None:
            snapshot_shas = _manifest_bundle(settings, source, bundle, set().union(*shas.values()) if shas else set())
        why_not = _heal(settings, source, snapshot, bundle, snapshot_shas, healed)
        if why_not is None:
            _say(f"{what} re-parsed from the raw store; the healed parts join the lake when this run publishes")
            for part in healed.glob(f"*/source={source}/snapshot_date={snapshot}/{stem}.parquet"):
                view.append((part.relative_to(healed), part))
            continue
        log.warning("%s left out of this build: %s", what, why_not)
        for part in intact.values():
            moved[part] = quarantine(settings, part, f"its snapshot is incomplete ({', '.join(missing)}) and {why_not}",
                                     quiet=True)
        _history_lost(settings, source, snapshot, bundle, why_not,
                      {parts.get(t, lake / t / f"source={source}" / f"snapshot_date={snapshot}" / f"{stem}.parquet"):
                       damaged.get(t, "missing") for t in missing},
                      moved, snapshot_shas)
    return view
