#!/usr/bin/env python
"""Benchmark: the dbt build over a lake on an object store, against the same build on a local lake.

A demo lake is made once (``pipeline run`` into a temporary home, ``--sources``). Then, in this
process, the pipeline's build (``pipeline.models.build_database`` with a kept work folder, as
``flow.build`` runs it, so dbt's parse is cached) is timed ``--repeat`` times (median) three ways:

- **local** (the baseline, measured in the same run): no view, the lake models read the folder;
- **view, local files**: the build's view (``pipelinelake://``) naming every part by its local path:
  the cost of the fsspec filesystem registered on dbt's connection alone;
- **view, S3**: the view naming every part on moto's S3 server on 127.0.0.1 (parts uploaded first):
  what a build node pays to read the store's parts on every run.

Prints seconds and the ratio to the baseline; checks the three databases hold the same lake rows.
Exits non-zero when a build fails or the rows differ, never on a threshold.

    .venv/bin/python bench/s3_lake_build.py                     # un_sc + us_ofac_sdn, repeat 3
    .venv/bin/python bench/s3_lake_build.py --sources un_sc --repeat 1
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def lake_rows(db: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'lake' order by 1").fetchall()]
        return {t: con.execute(f'select count(*) from lake."{t}"').fetchone()[0] for t in tables}
    finally:
        con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", default="un_sc,us_ofac_sdn")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from moto.moto_server.threaded_moto_server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from pipeline import lakefs
    from pipeline import settings as settings_mod
    from pipeline.models import build_database

    work = Path(tempfile.mkdtemp(prefix="s3-lake-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPELINE_", "AWS_"))}
    env.update({"PIPELINE_HOME": str(work / "home"), "PIPELINE_SOURCES": args.sources})
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "run"], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
        return 1
    staged = work / "home" / "lake" / "staged"
    parts = sorted(staged.glob("*/source=*/snapshot_date=*/*.parquet"))

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    os.environ.update({"PIPELINE_HOME": str(work / "home"), "PIPELINE_LAKE": "s3://bench/lake",
                       "PIPELINE_S3_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench",
                       "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"})
    settings = settings_mod.load()
    st = lakefs.store(settings)
    st.fs.mkdir("bench")
    for part in parts:
        st.fs.put_file(str(part), st.path(f"staged/{part.relative_to(staged).as_posix()}"))

    def view(on_store: bool) -> Path:
        entries = {}
        for part in parts:
            rel = part.relative_to(staged).as_posix()
            entry = {"url": st.url_of(f"staged/{rel}")} if on_store else {"file": str(part)}
            entries[rel] = {**entry, "size": part.stat().st_size}
        path = work / f"view-{'s3' if on_store else 'local'}.json"
        path.write_text(json.dumps({"lake": st.url, "endpoint_url": endpoint, "parts": entries}), encoding="utf-8")
        return path

    ways = {"local (baseline)": None, "view, local files": view(False), "view, S3 (moto)": view(True)}
    seconds: dict[str, list[float]] = {way: [] for way in ways}
    rows: dict[str, dict[str, int]] = {}
    for n, (way, path) in enumerate(ways.items()):
        # one warm-up first: a view sets the dbt var staged_root, and dbt parses again when vars change
        build_database(staged, work / "warm.duckdb", settings.sql_dir, settings.storage_version,
                       work_dir=work / "dbt", view=path)
        for k in range(args.repeat):
            db = work / f"{n}-{k}.duckdb"
            started = time.perf_counter()
            build_database(staged, db, settings.sql_dir, settings.storage_version, work_dir=work / "dbt", view=path)
            seconds[way].append(time.perf_counter() - started)
            rows[way] = lake_rows(db)
    server.shutdown()
    base = statistics.median(seconds["local (baseline)"])
    print(f"{len(parts)} staged parts, {sum(p.stat().st_size for p in parts) / 1e6:.1f} MB; "
          f"sources {args.sources}; median of {args.repeat}")
    for way, values in seconds.items():
        median = statistics.median(values)
        print(f"  {way:<20} {median:7.2f} s   ratio {median / base:5.2f}x")
    same = len({json.dumps(r, sort_keys=True) for r in rows.values()}) == 1
    print(f"  lake rows identical across the three: {same} ({sum(rows['local (baseline)'].values())} rows)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
