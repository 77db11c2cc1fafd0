"""Housekeeping of a pipeline home: what a killed or failed run left behind, and a checked lake.

:func:`sweep` runs at the start of a run, under the run lock (so no other run is live on the
home), and removes the debris of earlier runs: ``build/<run>`` folders, ``publish/releases/.tmp-*``
release folders, ``publish/.current-*`` links and ``lake/raw/.landing-*`` downloads. A build
folder whose run had already published but was stopped before its staged parts joined the lake
is reclaimed: its parts are moved into the lake first.

:func:`lake_view` lists the lake's staged Parquet parts for a build after reading every part in
full. A damaged part is named by its lake path and moved to ``lake/quarantine/``; its snapshot is
re-parsed from the raw store into the run's ``healed`` folder when the raw manifest still has its
files (the healed parts join the lake when the run publishes), or else left out of the build with
a warning (its remaining parts are quarantined too, so the lake keeps only whole snapshots).
"""

from __future__ import annotations

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

    With ``superseded``, a partition (table, source, snapshot date) that receives a part is one
    list: parts of other files already there are moved to ``superseded`` (kept, never merged)."""
    moved = 0
    parts = sorted(root.glob(PART_GLOB))
    if superseded is not None:
        for partition in sorted({part.parent.relative_to(root) for part in parts}):
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

def parquet_damage(path: Path) -> str | None:
    """Why ``path`` is not a readable Parquet file (None when every row group decodes)."""
    import pyarrow.parquet as pq

    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            fh.seek(max(0, path.stat().st_size - 4))
            tail = fh.read(4)
        if head != b"PAR1" or tail != b"PAR1":
            return f"not a complete Parquet file ({path.stat().st_size} bytes, no PAR1 magic at both ends)"
        parquet = pq.ParquetFile(path)
        for index in range(parquet.num_row_groups):
            parquet.read_row_group(index)
    except Exception as exc:  # noqa: BLE001 - any failure to decode is damage; the reason is reported
        return f"{type(exc).__name__}: {exc}"
    return None


def quarantine(settings: Settings, part: Path, reason: str) -> Path:
    """Move a lake part to ``lake/quarantine/<UTC time>/<same relative path>`` with its reason."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = settings.lake_dir / "quarantine" / stamp / part.relative_to(settings.staged_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, target)
    target.with_name(target.name + ".reason.txt").write_text(f"{part}\n{reason}\n", encoding="utf-8")
    log.warning("quarantined %s -> %s: %s", part, target, reason)
    return target


def _tables(source: str, present: dict[str, Path] | None = None) -> tuple[str, ...]:
    """The staged tables every snapshot of ``source`` has (those present, for a source no longer known)."""
    from pipeline.sources import schemas_for

    try:
        return tuple(schemas_for(source))
    except Exception:  # noqa: BLE001 - a source removed from the project: judge by what is there
        return tuple(present or ())


def _raw_sha256s(parts: list[Path]) -> set[str]:
    import pyarrow.parquet as pq

    shas: set[str] = set()
    for part in parts:
        column = pq.read_table(part, columns=["raw_sha256"]).column("raw_sha256")
        shas.update(v for v in column.to_pylist() if v)
    return shas


def _heal(settings: Settings, source: str, snapshot: str, bundle: str, readable: list[Path], out: Path) -> str | None:
    """Re-parse one snapshot from the raw store into ``out``; returns why it could not (None: healed)."""
    from pipeline import raw
    from pipeline.parse import parse_files
    from pipeline.staged import bundle_id, partition_dir

    try:
        shas = _raw_sha256s(readable)
    except Exception as exc:  # noqa: BLE001
        return f"its other parts cannot tell which raw files it came from ({exc})"
    if not shas or bundle_id(shas) != bundle:
        return "its remaining parts do not name all the raw files it was parsed from"
    stored = {r.sha256: r for r in raw.read_manifest(settings) if r.source == source}
    files = [stored.get(sha) for sha in sorted(shas)]
    if any(f is None or not raw.stored_path(settings, f).is_file() for f in files):
        return "the raw manifest no longer has all its raw files"
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


def lake_view(settings: Settings, healed: Path, covered: set[Path] = frozenset()) -> list[tuple[Path, Path]]:
    """Every readable lake part as ``(path relative to the lake, file)``, healing damaged snapshots.

    ``covered`` holds relative paths this run writes itself (its candidates): a damaged lake part
    among them is quarantined and needs no healing. Healed parts are written under ``healed``.
    """
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
    for (source, snapshot, stem), parts in sorted(groups.items()):
        damaged = {t: why for t, p in parts.items() if (why := parquet_damage(p))}
        for table, why in damaged.items():
            log.error("damaged Parquet in the lake: %s (%s)", parts[table], why)
            quarantine(settings, parts[table], why)
        intact = {t: p for t, p in parts.items() if t not in damaged}
        missing = [t for t in _tables(source, parts) if t not in intact]
        if all(Path(t, f"source={source}", f"snapshot_date={snapshot}", f"{stem}.parquet") in covered
               for t in missing):
            view.extend((p.relative_to(lake), p) for p in intact.values())
            continue
        what = f"lake snapshot {source} {snapshot} ({stem}; missing or damaged: {', '.join(missing)})"
        why_not = _heal(settings, source, snapshot, stem.removeprefix("part-"), list(intact.values()), healed)
        if why_not is None:
            log.warning("%s re-parsed from the raw store; the healed parts join the lake when this run publishes",
                        what)
            for part in healed.glob(f"*/source={source}/snapshot_date={snapshot}/{stem}.parquet"):
                view.append((part.relative_to(healed), part))
            continue
        log.warning("%s left out of this build: %s", what, why_not)
        for part in intact.values():
            quarantine(settings, part, f"its snapshot is incomplete ({', '.join(missing)}) and {why_not}")
    return view
