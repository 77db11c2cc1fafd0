#!/usr/bin/env python
"""Where the published DuckDB file's bytes are, and what the publish step's compact copy saves.

For each input (a ``PIPELINE_HOME`` after ``pipeline run``, or a database file), in one process:

1. **the built file**: what publish receives. ``--home`` rebuilds it from the home's lake with the
   pipeline's dbt build (the staged tables hard-linked, the match step's Parquet beside them as
   ``_matching``, the fetch log as ``_fetch``: the lake view of ``pipeline/flow.py``'s build), so a
   publication already compacted is measured against the file it came from; ``--db FILE`` takes a
   built (or published) file as it is. Its blocks: used, free (left by dbt's create, drop and
   rename of tables).
2. **baselines, same run**: the staged Parquet (``<home>/lake/staged``; ``--staged DIR``), and a
   plain DuckDB copy of every staged table (one ``create table as`` each, as
   ``bench/run_vs_duckdb.py`` makes it) at DuckDB's default block size and at the published one.
3. **the copies**: the built file copied byte for byte (what publish did before), ``COPY FROM
   DATABASE`` into a fresh file at the default block size (what free blocks cost) and
   :func:`pipeline.publish.compact` at each ``--block-sizes`` (its own check included); size, wall
   and CPU seconds of this process.
4. **per table**: rows, columns, the blocks it holds in the built file and in the compact copy,
   its size alone in a fresh file (minus an empty file's size) at the published block size, and
   as Parquet (zstd).
5. **identity**: every table of the compact copy against the built file with ``EXCEPT ALL`` both
   ways (``--views``: every view too); a difference exits 1.

    .venv/bin/python bench/published_size.py --home /tmp/home-demo
    .venv/bin/python bench/published_size.py --home /tmp/home-100x --block-sizes 32768,65536 --views
    .venv/bin/python bench/published_size.py --db some.duckdb --staged lake/staged

Figures only: it never fails because a figure is high.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import publish  # noqa: E402

DEFAULT_BLOCK = 262144


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def timed(fn, *args, **kwargs) -> tuple[object, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def rebuild(home: Path, work: Path) -> Path:
    """The database the run's build step makes from the home's lake (what publish receives)."""
    os.environ["PIPELINE_HOME"] = str(home)
    from pipeline import settings as settings_mod
    from pipeline.freshness import write_build_inputs
    from pipeline.models import build_database

    settings = settings_mod.load()
    lake = work / "lake"
    shutil.copytree(home / "lake" / "staged", lake, copy_function=os.link)
    if (home / "lake" / "matching").is_dir():
        shutil.copytree(home / "lake" / "matching", lake / "_matching", copy_function=os.link)
    write_build_inputs(settings, "bench-published-size", lake / "_fetch")
    out = work / "built.duckdb"
    build_database(lake, out, settings.sql_dir, settings.storage_version, work_dir=work / "dbt")
    return out


def staged_copy(staged: Path, db: Path, block_size: int) -> int:
    """A plain DuckDB copy of every staged table, one table each; its size in bytes."""
    db.unlink(missing_ok=True)
    con = duckdb.connect()
    con.execute(f"attach '{db}' as c (storage_version 'v1.2.0', block_size {block_size})")
    for folder in sorted(p for p in staged.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
        if any(folder.rglob("*.parquet")):
            con.execute(f"create table c.\"{folder.name}\" as select * from read_parquet('{folder}/**/*.parquet', "
                        "hive_partitioning = true, union_by_name = true)")
    con.execute("checkpoint c")
    con.close()
    return db.stat().st_size


def blocks(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        name, _size, block_size, total, used, free, *_ = con.execute("pragma database_size").fetchone()
        per_table = {}
        for schema, table, rows, cols in con.execute(
                "select schema_name, table_name, estimated_size, column_count from duckdb_tables() order by 1, 2"
        ).fetchall():
            held = con.execute(f"select count(distinct block_id) filter (where block_id >= 0) "
                               f"from pragma_storage_info('{schema}.{table}')").fetchone()[0]
            per_table[f"{schema}.{table}"] = {"rows": rows, "columns": cols, "blocks": held}
    finally:
        con.close()
    return {"bytes": db.stat().st_size, "block_size": block_size, "blocks": total, "used": used, "free": free,
            "tables": per_table}


def alone_sizes(db: Path, work: Path, block_size: int) -> dict[str, dict]:
    """Each table alone in a fresh file (minus an empty file), and as Parquet zstd."""
    empty = work / "empty.duckdb"
    con = duckdb.connect()
    con.execute(f"attach '{empty}' as e (storage_version 'v1.2.0', block_size {block_size})")
    con.execute("create table e.t as select 1 as x where false")
    con.execute("detach e")
    base = empty.stat().st_size
    con.execute(f"attach '{db}' as src (read_only)")
    sizes = {}
    for schema, table in con.execute("select schema_name, table_name from duckdb_tables() "
                                     "where database_name = 'src' order by 1, 2").fetchall():
        one = work / "one.duckdb"
        one.unlink(missing_ok=True)
        con.execute(f"attach '{one}' as one (storage_version 'v1.2.0', block_size {block_size})")
        con.execute(f'create table one.t as select * from src."{schema}"."{table}"')
        con.execute("detach one")
        parquet = work / "one.parquet"
        con.execute(f"copy (select * from src.\"{schema}\".\"{table}\") to '{parquet}' "
                    "(format parquet, compression zstd)")
        sizes[f"{schema}.{table}"] = {"alone": one.stat().st_size - base, "parquet": parquet.stat().st_size}
        one.unlink()
    con.close()
    return sizes


def identity(built: Path, copy: Path, views: bool) -> tuple[list[str], int]:
    """Tables (and views) whose rows differ, EXCEPT ALL both ways."""
    con = duckdb.connect()
    con.execute(f"attach '{built}' as a (read_only)")
    con.execute(f"attach '{copy}' as b (read_only)")
    relations = con.execute("select schema_name, table_name from duckdb_tables() where database_name = 'a' "
                            "order by 1, 2").fetchall()
    if views:
        relations += con.execute("select schema_name, view_name from duckdb_views() where database_name = 'a' "
                                 "and not internal order by 1, 2").fetchall()
    differ = []
    for schema, name in relations:
        rel = f'"{schema}"."{name}"'
        n = con.execute(f"select (select count(*) from (from a.{rel} except all from b.{rel})) + "
                        f"(select count(*) from (from b.{rel} except all from a.{rel}))").fetchone()[0]
        if n:
            differ.append(f"{schema}.{name}: {n} rows differ")
    con.close()
    return differ, len(relations)


def measure(name: str, built: Path, staged: Path | None, work: Path, block_sizes: list[int], views: bool) -> dict:
    result = {"name": name, "built": blocks(built)}
    if staged is not None and staged.is_dir():
        result["staged_bytes"] = folder_bytes(staged)
        result["staged_copy"] = {bs: staged_copy(staged, work / f"staged-{bs}.duckdb", bs)
                                 for bs in sorted({DEFAULT_BLOCK, publish.PUBLISH_BLOCK_SIZE})}
    plain = work / "plain.duckdb"
    _, wall, cpu = timed(shutil.copyfile, built, plain)
    result["byte_copy"] = {"bytes": plain.stat().st_size, "wall": wall, "cpu": cpu}
    plain.unlink()

    def copy_database(out: Path) -> None:
        con = duckdb.connect()
        con.execute(f"attach '{built}' as a (read_only)")
        con.execute(f"attach '{out}' as b (storage_version 'v1.2.0')")
        con.execute("copy from database a to b")
        con.execute("detach b")
        con.close()

    fresh = work / "fresh.duckdb"
    _, wall, cpu = timed(copy_database, fresh)
    result["copy_from_database"] = {"bytes": fresh.stat().st_size, "wall": wall, "cpu": cpu}
    fresh.unlink()
    result["compact"] = {}
    for bs in block_sizes:
        out = work / f"compact-{bs}.duckdb"
        _, wall, cpu = timed(publish.compact, built, out, "v1.2.0", bs)
        result["compact"][bs] = {"bytes": out.stat().st_size, "wall": wall, "cpu": cpu}
        if bs != publish.PUBLISH_BLOCK_SIZE:
            out.unlink()
    published = work / f"compact-{publish.PUBLISH_BLOCK_SIZE}.duckdb"
    if not published.exists():
        publish.compact(built, published, "v1.2.0")
    result["published"] = blocks(published)
    result["alone"] = alone_sizes(built, work, publish.PUBLISH_BLOCK_SIZE)
    (differ, checked), wall, cpu = timed(identity, built, published, views)
    result["identity"] = {"differ": differ, "relations": checked, "wall": wall, "cpu": cpu}
    return result


def mb(n: float) -> str:
    return f"{n / 1e6:.2f}"


def report(r: dict) -> None:
    b, p = r["built"], r["published"]
    print(f"\n## {r['name']}\n")
    print(f"built file {mb(b['bytes'])} MB: {b['blocks']} blocks of {b['block_size'] // 1024} KiB, "
          f"{b['used']} used, {b['free']} free")
    print(f"published (compact, {p['block_size'] // 1024} KiB blocks) {mb(p['bytes'])} MB: {p['blocks']} blocks, "
          f"{p['free']} free\n")
    print("| copy | MB | wall s | cpu s | / built |")
    print("|---|---:|---:|---:|---:|")
    rows = [("byte copy of the built file (publish before)", r["byte_copy"]),
            ("COPY FROM DATABASE, 256 KiB blocks", r["copy_from_database"])]
    rows += [(f"compact, {bs // 1024} KiB blocks, with its check", c) for bs, c in r["compact"].items()]
    for label, c in rows:
        print(f"| {label} | {mb(c['bytes'])} | {c['wall']:.2f} | {c['cpu']:.2f} | {c['bytes'] / b['bytes']:.2f} |")
    if "staged_bytes" in r:
        s = r["staged_bytes"]
        print("\n| against | MB | built / it | published / it |")
        print("|---|---:|---:|---:|")
        print(f"| staged Parquet | {mb(s)} | {b['bytes'] / s:.1f}x | {p['bytes'] / s:.1f}x |")
        for bs, n in r["staged_copy"].items():
            print(f"| DuckDB copy of the staged tables, {bs // 1024} KiB blocks | {mb(n)} | {b['bytes'] / n:.1f}x | "
                  f"{p['bytes'] / n:.1f}x |")
    print("\n| table | rows | cols | built blocks (MB) | published blocks (MB) | alone MB | Parquet MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    order = sorted(b["tables"], key=lambda t: -r["alone"][t]["alone"])
    for t in order:
        bt, pt, a = b["tables"][t], p["tables"][t], r["alone"][t]
        print(f"| {t} | {bt['rows']:,} | {bt['columns']} | {bt['blocks']} ({mb(bt['blocks'] * b['block_size'])}) | "
              f"{pt['blocks']} ({mb(pt['blocks'] * p['block_size'])}) | {mb(a['alone'])} | {mb(a['parquet'])} |")
    held_b = sum(t["blocks"] for t in b["tables"].values()) * b["block_size"]
    held_p = sum(t["blocks"] for t in p["tables"].values()) * p["block_size"]
    print(f"| all tables | | | {mb(held_b)} | {mb(held_p)} | {mb(sum(a['alone'] for a in r['alone'].values()))} | "
          f"{mb(sum(a['parquet'] for a in r['alone'].values()))} |")
    i = r["identity"]
    print(f"\nidentity: {i['relations']} relations compared with EXCEPT ALL both ways in {i['wall']:.1f} s "
          f"(cpu {i['cpu']:.1f}): {'; '.join(i['differ']) or 'identical'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, action="append", default=[], help="a PIPELINE_HOME after a run")
    parser.add_argument("--db", type=Path, help="a built (or published) DuckDB file, measured as it is")
    parser.add_argument("--staged", type=Path, help="the staged Parquet of --db")
    parser.add_argument("--block-sizes", default="16384,32768,65536,131072,262144")
    parser.add_argument("--views", action="store_true", help="compare every view's rows too")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not args.home and not args.db:
        parser.error("give --home or --db")
    sizes = [int(x) for x in args.block_sizes.split(",")]
    load = os.getloadavg()
    print(f"# published_size  nproc {os.cpu_count()}, load {load[0]:.1f} at start", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="published-size-") as tmp:
        inputs = [(str(h), h, h / "lake" / "staged") for h in args.home]
        if args.db:
            inputs.append((str(args.db), None, args.staged))
        for i, (name, home, staged) in enumerate(inputs):
            work = Path(tmp) / str(i)
            work.mkdir()
            if home is not None:
                print(f"[{name}] rebuilding the database from the home's lake ...", file=sys.stderr, flush=True)
                built, wall, cpu = timed(rebuild, home, work)
                print(f"[{name}] built in {wall:.1f} s", file=sys.stderr, flush=True)
            else:
                built = args.db
            results.append(measure(name, built, staged, work, sizes, args.views))
            report(results[-1])
    load = os.getloadavg()
    print(f"\nload {load[0]:.1f} at end")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 1 if any(r["identity"]["differ"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
