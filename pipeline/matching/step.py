"""The matching step: staged lake in, two Parquet files out (read by the dbt project's lake models).

- ``designation_targets.parquet``: one row per designation id of the lake (every snapshot) with its
  ``target_id``, the ``match_method`` and ``match_score`` of the link that attached it to its target
  (``single`` for a target of one designation), the designation it was linked to and the evidence
  (JSON);
- ``match_candidates.parquet``: the uncertain pairs (and the links a contradiction refused), best
  first, for review.

The previous run's ``designation_targets.parquet`` (``lake/matching/``, written when a run
publishes) gives the ids carried forward (:mod:`pipeline.matching.ids`).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.matching import ids, judgements
from pipeline.matching.records import Record, load_records
from pipeline.matching.resolve import Resolution, resolve

log = logging.getLogger(__name__)

TARGETS_FILE = "designation_targets.parquet"
CANDIDATES_FILE = "match_candidates.parquet"
FILES = (TARGETS_FILE, CANDIDATES_FILE)

TARGETS_SCHEMA = pa.schema([
    ("designation_id", pa.string()), ("source", pa.string()), ("source_record_id", pa.string()),
    ("entity_key", pa.string()), ("entity_type", pa.string()), ("primary_name", pa.string()),
    ("target_id", pa.string()), ("match_method", pa.string()), ("match_stage", pa.string()),
    ("match_score", pa.float64()), ("matched_with", pa.string()), ("evidence", pa.string()),
    ("target_designations", pa.int64()),
])
CANDIDATES_SCHEMA = pa.schema([
    ("candidate_rank", pa.int64()), ("left_designation_id", pa.string()), ("right_designation_id", pa.string()),
    ("left_target_id", pa.string()), ("right_target_id", pa.string()), ("match_stage", pa.string()),
    ("match_method", pa.string()), ("match_score", pa.float64()), ("evidence", pa.string()),
])


def previous_assignment(folder: Path) -> dict[str, str]:
    """``{designation_id: target_id}`` of the last published matching (empty when there is none or
    it cannot be read: ids are then derived afresh, the same for the same inputs)."""
    path = folder / TARGETS_FILE
    if not path.exists():
        return {}
    try:
        table = pq.read_table(path, columns=["designation_id", "target_id"])
    except Exception as exc:  # noqa: BLE001 - a damaged file loses carried ids, never the run
        log.warning("previous target ids %s cannot be read (%s): ids are derived afresh", path, exc)
        return {}
    return dict(zip(table["designation_id"].to_pylist(), table["target_id"].to_pylist(), strict=True))


def match(records: list[Record], previous: dict[str, str] | None = None,
          judgement_rows: list[dict[str, str]] = (), judgements_path: Path | None = None,
          block_cap: int = 200) -> tuple[Resolution, dict[str, str]]:
    """Resolve ``records`` into targets and give each its id."""
    reviewed, unknown = judgements.resolve_judgements(list(judgement_rows), records, judgements_path or Path("-"))
    resolution = resolve(records, reviewed, block_cap=block_cap)
    resolution.stats["judgements"] = len(judgement_rows)
    resolution.stats["judgements_not_in_lake"] = unknown
    return resolution, ids.assign(resolution.clusters, previous or {})


def write(records: list[Record], resolution: Resolution, target_ids: dict[str, str], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for members in resolution.clusters:
        for did in members:
            sizes[did] = len(members)
    rows = []
    for r in records:
        link = resolution.attached.get(r.designation_id)
        partner = None if link is None else (link.right if link.left == r.designation_id else link.left)
        rows.append({
            "designation_id": r.designation_id, "source": r.source, "source_record_id": r.source_record_id,
            "entity_key": r.entity_key, "entity_type": r.entity_type, "primary_name": r.primary_name,
            "target_id": target_ids[r.designation_id],
            "match_method": link.method if link else "single", "match_stage": link.stage if link else "single",
            "match_score": link.score if link else 1.0, "matched_with": partner,
            "evidence": json.dumps(link.evidence, sort_keys=True, ensure_ascii=False) if link else None,
            "target_designations": sizes[r.designation_id],
        })
    _write(pa.Table.from_pylist(rows, schema=TARGETS_SCHEMA), out_dir / TARGETS_FILE)
    cands = [{
        "candidate_rank": i + 1, "left_designation_id": c.left, "right_designation_id": c.right,
        "left_target_id": target_ids[c.left], "right_target_id": target_ids[c.right], "match_stage": c.stage,
        "match_method": c.method, "match_score": c.score,
        "evidence": json.dumps(c.evidence, sort_keys=True, ensure_ascii=False),
    } for i, c in enumerate(resolution.candidates)]
    _write(pa.Table.from_pylist(cands, schema=CANDIDATES_SCHEMA), out_dir / CANDIDATES_FILE)


def _write(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)


def run(staged: Path, out_dir: Path, previous_dir: Path | None, judgements_path: Path | None) -> dict:
    """The step: match the staged lake ``staged`` and write the two files into ``out_dir``."""
    started = time.perf_counter()
    records = load_records(staged)
    rows = judgements.read(judgements_path) if judgements_path else []
    previous = previous_assignment(previous_dir) if previous_dir else {}
    resolution, target_ids = match(records, previous, rows, judgements_path)
    write(records, resolution, target_ids, out_dir)
    carried = sum(1 for d, t in target_ids.items() if previous.get(d) == t)
    stats = {**resolution.stats, "ids_carried": carried, "candidates": len(resolution.candidates),
             "seconds": round(time.perf_counter() - started, 3)}
    log.info("matching: %d designations -> %d targets (%d links, %d candidates for review) in %.1fs; "
             "%d name pairs compared, %d large name blocks split",
             stats.get("designations", 0), stats.get("targets", 0), stats.get("links_accepted", 0),
             stats["candidates"], stats["seconds"], stats.get("name_pairs_compared", 0),
             stats.get("name_blocks_split", 0))
    if resolution.skipped_blocks:
        log.warning("matching: %s", skipped_report(resolution))
    return stats


def skipped_report(resolution: Resolution, shown: int = 10) -> str:
    """The name blocks (or parts) too large to compare pair by pair, largest first: what the name
    stage did not look at (a pair in one of them is still compared when the names share a smaller
    block)."""
    parts = resolution.skipped_blocks
    listed = "; ".join(f"{' '.join(s.key[1:])} [{s.key[0]}, {s.part}]: {s.size} designations, e.g. {s.example!r}"
                       for s in parts[:shown])
    more = f" (and {len(parts) - shown} more)" if len(parts) > shown else ""
    return f"{len(parts)} name block parts over the cap were not compared pair by pair: {listed}{more}"


def commit(out_dir: Path, lake_matching: Path) -> int:
    """Keep a published run's matching as the previous assignment of the next run."""
    lake_matching.mkdir(parents=True, exist_ok=True)
    moved = 0
    for name in FILES:
        if (out_dir / name).exists():
            tmp = lake_matching / f".{name}.tmp"
            shutil.copyfile(out_dir / name, tmp)
            tmp.replace(lake_matching / name)
            moved += 1
    return moved
