"""What checking a publication's sha256 before reading it costs, against opening and querying it.

Every reader of a publication (``pipeline report``, ``validate``, ``query``, the BI dialect, the
run's row-count check) hashes the database in full once per process and file version
(:func:`pipeline.publish.ensure_intact`). This script builds DuckDB files of the given sizes in a
temporary folder, each with a ``release.json`` like a release's, and prints for each:

- the full check in a fresh process's first call (sha256 of the whole file),
- the same check again in that process (the file version is unchanged: no hashing),
- the baseline, measured in the same run: opening the file read-only and counting a table's rows.

    .venv/bin/python bench/publication_check.py                 # 10, 100 and 300 MB
    .venv/bin/python bench/publication_check.py --sizes 10,50   # a quick run

Figures only: it never fails because a figure is high.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import publish  # noqa: E402


def build(folder: Path, megabytes: int) -> Path:
    """A DuckDB file of about ``megabytes`` MB (incompressible text), with its release.json."""
    db = folder / f"{megabytes}mb" / "sanctions.duckdb"
    db.parent.mkdir(parents=True)
    con = duckdb.connect(str(db))
    rows = megabytes * 1024 * 1024 // 36  # DuckDB stores a row of this table in about 36 bytes
    con.execute("create table filler as select i, md5(i::varchar) || md5((i * 7)::varchar) as text "
                f"from range({rows}) t(i)")
    con.close()
    (db.parent / "release.json").write_text(json.dumps({"database": db.name,
                                                        "database_sha256": publish._sha256(db)}))
    return db


def timed(call, repeat: int = 3) -> float:
    """Median seconds of ``call`` over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def open_and_count(db: Path) -> None:
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("select count(*) from filler").fetchall()
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100,300", help="database sizes in MB, comma-separated")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"{'size MB':>8} {'full check s':>13} {'MB/s':>7} {'memo hit ms':>12} {'open+count s':>13} "
          f"{'check/open':>11}")
    with tempfile.TemporaryDirectory(prefix="bench-publication-") as tmp:
        for size in sizes:
            db = build(Path(tmp), size)
            actual = db.stat().st_size / 1e6

            def cold(db: Path = db) -> None:
                publish._DIGESTS.clear()  # what a fresh process does
                publish.ensure_intact(db)

            full = timed(cold)
            publish.ensure_intact(db)
            memo = timed(lambda db=db: publish.ensure_intact(db), repeat=20)
            baseline = timed(lambda db=db: open_and_count(db))
            print(f"{actual:8.0f} {full:13.3f} {actual / full:7.0f} {memo * 1000:12.2f} {baseline:13.3f} "
                  f"{full / baseline:10.1f}x", flush=True)
            db.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
