"""Reviewed judgements: decisions a person made on a pair, which override the matcher.

A CSV (``PIPELINE_MATCH_JUDGEMENTS``, default ``<PIPELINE_HOME>/matching/judgements.csv``; no file,
no judgements) with the header::

    left_source,left_record_id,right_source,right_record_id,judgement,reviewer,reason

``judgement`` is ``same`` or ``not_same``; records are named as the sources write them (the staged
``source_record_id``, as ``mart_targets`` and ``mart_match_candidates`` show them). A ``same``
pair is merged whatever the rules say; a ``not_same`` pair is never put in one target, even
through a shared identifier. The file is untrusted input: a bad row stops the step naming the
file, the line and the rule; a pair whose records are no longer listed is reported and skipped.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.matching.records import Record
from pipeline.matching.resolve import Judgement

log = logging.getLogger(__name__)

COLUMNS = ("left_source", "left_record_id", "right_source", "right_record_id", "judgement", "reviewer", "reason")
VALUES = {"same": True, "not_same": False}
MAX_BYTES = 16 << 20


def read(path: Path) -> list[dict[str, str]]:
    """The rows of a judgements file, checked; [] when there is no file."""
    if not path.exists():
        return []
    if path.stat().st_size > MAX_BYTES:
        raise PipelineError(f"judgements file {path}: larger than {MAX_BYTES >> 20} MiB (rule: size cap)")
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = tuple(reader.fieldnames or ())
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise PipelineError(f"judgements file {path}: missing column(s) {', '.join(missing)} "
                                f"(rule: header {','.join(COLUMNS)})")
        for row in reader:
            line = reader.line_num
            values = {c: (row.get(c) or "").strip() for c in COLUMNS}
            empty = [c for c, v in values.items() if not v]
            if empty:
                raise PipelineError(f"judgements file {path}, line {line}: empty {', '.join(empty)} "
                                    "(rule: every judgement names both records, a judgement, a reviewer and a reason)")
            if values["judgement"] not in VALUES:
                raise PipelineError(f"judgements file {path}, line {line}: judgement {values['judgement']!r} "
                                    "(rule: same or not_same)")
            rows.append({**values, "line": str(line)})
    return rows


def resolve_judgements(rows: list[dict[str, str]], records: list[Record], path: Path) -> tuple[list[Judgement], int]:
    """Judgements on designation ids (a record id on several lists of one source names each of its
    designations), and how many rows name a record the lake does not hold."""
    by_record: dict[tuple[str, str], list[str]] = {}
    for r in records:
        by_record.setdefault((r.source, r.source_record_id), []).append(r.designation_id)
    out: list[Judgement] = []
    unknown = 0
    for row in rows:
        left = by_record.get((row["left_source"], row["left_record_id"]))
        right = by_record.get((row["right_source"], row["right_record_id"]))
        if not left or not right:
            unknown += 1
            log.warning("judgements file %s, line %s: %s not in the lake; skipped", path, row["line"],
                        f"{row['left_source']} {row['left_record_id']}" if not left
                        else f"{row['right_source']} {row['right_record_id']}")
            continue
        for a in left:
            for b in right:
                out.append(Judgement(a, b, VALUES[row["judgement"]], row["reviewer"], row["reason"]))
    return out, unknown
