"""Matching speed as the lists grow: the corpus of `pipeline match --score` (samples and demo files)
resolved as it is, then copied 10 times (each copy a separate source key, names unchanged: the name
blocks grow tenfold, the worst case for blocking). Prints seconds and the ratio to the corpus run
measured in the same process.

    .venv/bin/python bench/matching.py [--copies 10]
"""

from __future__ import annotations

import argparse
import copy
import logging
import tempfile
import time
from pathlib import Path

from pipeline.matching.records import load_records
from pipeline.matching.resolve import resolve
from pipeline.matching.scoring import build_corpus


def copies(records: list, n: int) -> list:
    out = []
    for k in range(n):
        for r in records:
            c = copy.copy(r)
            c.designation_id = f"{r.designation_id}#{k}"
            c.source_record_id = f"{r.source_record_id}#{k}"
            c.entity_key = f"{r.entity_key}#{k}"
            c.identifiers = [(t, f"{v}#{k}") for t, v in r.identifiers]
            out.append(c)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        records = load_records(build_corpus(Path(tmp) / "staged"))
    started = time.perf_counter()
    base = resolve(records)
    t1 = time.perf_counter() - started
    print(f"corpus: {len(records)} designations -> {base.stats['targets']} targets in {t1:.1f}s "
          f"({base.stats['name_pairs_compared']} name pairs compared)")
    big = copies(records, args.copies)
    started = time.perf_counter()
    res = resolve(big)
    t2 = time.perf_counter() - started
    print(f"x{args.copies}: {len(big)} designations -> {res.stats['targets']} targets in {t2:.1f}s "
          f"({res.stats['name_pairs_compared']} name pairs, {res.stats['name_blocks_skipped']} blocks skipped); "
          f"time ratio {t2 / t1:.1f} for {args.copies}x the designations")


if __name__ == "__main__":
    main()
