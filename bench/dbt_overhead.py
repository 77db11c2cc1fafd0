#!/usr/bin/env python
"""Benchmark: where the pipeline's dbt build spends the time that is not its SQL (issue 17).

On the demo lake (every default source's demo files parsed, as ``make run`` does), each build in a
fresh interpreter (so the import counts), the pipeline's own invocation (``pipeline.models.dbt`` with
``BUILD``), phases timed from dbt's events, wall and CPU (user + system of the process, DuckDB's
threads included):

- **import**: ``dbt.cli.main`` and the adapter;
- **parse**: from the invocation to dbt's manifest (``FoundStats``): a full parse in a fresh work
  dir (``cold``), the cached manifest of partial parsing in a kept one (``warm``), or the parsed
  manifest shared by every home (``shared``: the first build of a new home when another home, or an
  earlier run, parsed the same project; see ``pipeline.models.MANIFEST_CACHE``);
- **start**: from the manifest to the first node (the schemas, the relation cache, on-run-start);
- **nodes**: from the first node to the end, with dbt's own time per resource type (seeds, models,
  data tests: how many and their total) and the on-run-end hook.

Variants, each measured interleaved (cold, then a new home, then ``--repeat`` warm builds of every
variant in turn, so the machine's load falls on all alike): ``--before REV`` the pipeline package of a
git revision (its ``models.py``: before/after in one run), ``--variant NAME=ARGS`` dbt arguments added
to the pipeline's (e.g. ``--variant "logfile-info=--log-level-file info"``), ``--threads N``
PIPELINE_DBT_THREADS=N. Each variant has its own shared manifest cache, filled by its cold build. The
built databases of every variant are compared with the first's: every relation of every schema
(EXCEPT ALL both ways; the build's clock column left out), every comment of the catalog (relations
and columns, with their types) and the DuckDB macros; exits 3 when one differs, never on a threshold.

    .venv/bin/python bench/dbt_overhead.py --repeat 2 --before HEAD~1
    .venv/bin/python bench/dbt_overhead.py --repeat 3 --threads 2 --variant "logfile-info=--log-level-file info"
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQL = ROOT / "sql"
PYTHON = sys.executable
STORAGE_VERSION = "v1.2.0"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(lake: Path, db: Path, work: Path, out: Path, extra: str) -> None:
    """One pipeline build, timed by phase; writes the figures to ``out``."""
    started = time.perf_counter()
    from dbt.cli.main import dbtRunner  # noqa: F401  (timed: the import is part of what dbt costs)

    marks: dict[str, tuple[float, float]] = {"import": (time.perf_counter(), _cpu())}
    import pipeline.models as models

    assert Path(models.__file__).is_relative_to(Path(os.environ.get("PYTHONPATH") or ROOT)), models.__file__
    db.unlink(missing_ok=True)
    events: Counter = Counter()

    def first(event) -> None:
        name = event.info.name
        events[name] += 1
        marks.setdefault(name, (time.perf_counter(), _cpu()))

    args = [*models.BUILD, *shlex.split(extra)]
    invoked = (time.perf_counter(), _cpu())
    result, _ = models.dbt(SQL, db, args, work, lake=lake, storage_version=STORAGE_VERSION, callbacks=[first])
    models._close_dbt_duckdb()
    finished = (time.perf_counter(), _cpu())
    if not result.success:
        raise SystemExit(f"dbt build failed: {result.exception or result.result}")
    found = marks.get("FoundStats", finished)
    node = marks.get("NodeStart", finished)
    per_type: Counter = Counter()
    count: Counter = Counter()
    for item in result.result.results:
        kind = str(getattr(item.node.resource_type, "value", item.node.resource_type))
        per_type[kind] += item.execution_time
        count[kind] += 1
    out.write_text(json.dumps({
        "wall": {"import": marks["import"][0] - started, "parse": found[0] - invoked[0],
                 "start": node[0] - found[0], "nodes": finished[0] - node[0], "total": finished[0] - started},
        "cpu": {"import": marks["import"][1], "parse": found[1] - invoked[1], "start": node[1] - found[1],
                "nodes": finished[1] - node[1], "total": finished[1]},
        "node_seconds": dict(per_type), "node_count": dict(count),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "events": sum(events.values()),
    }))


def _run_child(*args: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run([PYTHON, __file__, "--child", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise SystemExit(f"child failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def compare(first: Path, other: Path) -> list[str]:
    """Every relation (tables and views, every schema) with EXCEPT ALL both ways, and every comment
    of the catalog (relations and columns): the differences found."""
    import duckdb

    con = duckdb.connect()
    problems: list[str] = []
    try:
        for alias, path in (("a", first), ("b", other)):
            con.execute(f"attach {_quote(str(path))} as {alias} (read_only)")
        catalog = {}
        for alias in ("a", "b"):
            catalog[alias] = {
                "relations": set(con.execute(
                    "select schema_name, table_name, 'table', comment from duckdb_tables() where database_name = ? "
                    "union all select schema_name, view_name, 'view', comment from duckdb_views() "
                    "where database_name = ? and not internal", [alias, alias]).fetchall()),
                "columns": set(con.execute(
                    "select schema_name, table_name, column_name, data_type, comment from duckdb_columns() "
                    "where database_name = ?", [alias]).fetchall()),
                "macros": set(con.execute(
                    "select schema_name, function_name, function_type from duckdb_functions() "
                    "where database_name = ? and not internal", [alias]).fetchall()),
            }
        for part in ("relations", "columns", "macros"):
            for name, x, y in (("first", "a", "b"), ("other", "b", "a")):
                for row in sorted(catalog[x][part] - catalog[y][part], key=str)[:5]:
                    problems.append(f"{part} only in the {name} build: {row}")
        for schema, name, _, _ in sorted(catalog["a"]["relations"] & catalog["b"]["relations"]):
            a, b = f'a."{schema}"."{name}"', f'b."{schema}"."{name}"'
            kept = ", ".join(f'"{c[0]}"' for c in con.execute(f"describe {a}").fetchall()
                             if not (name == "mart_source_freshness" and c[0] == "as_of"))  # the build's clock
            for x, y in ((a, b), (b, a)):
                n = con.execute(f"select count(*) from (select {kept} from {x} except all select {kept} from {y})")
                if n.fetchone()[0]:
                    problems.append(f"{schema}.{name}: rows differ")
                    break
    finally:
        con.close()
    return problems


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        lake, db, work, out = (Path(a) for a in argv[1:5])
        child(lake, db, work, out, argv[5])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=2, help="warm builds per variant (median shown)")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=ARGS",
                        help="a variant: dbt arguments added to the pipeline's")
    parser.add_argument("--threads", type=int, default=None, help="also a variant with PIPELINE_DBT_THREADS=N")
    parser.add_argument("--before", metavar="REV", default=None,
                        help="also a variant `before`: the pipeline package of git revision REV (its models.py)")
    parser.add_argument("--sql-baseline", action="store_true",
                        help="also the build's compiled SQL run node by node in one DuckDB connection "
                             "(bench/dbt_build.py's baseline), after a build of the working tree")
    parser.add_argument("--lake", type=Path, default=None, help="a staged lake (default: the demo's, parsed)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-dbt-overhead-", dir=args.workdir))
    variants: list[tuple[str, str, dict[str, str]]] = []
    if args.before:
        old = work / f"pipeline-{args.before}"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before, "pipeline"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        variants.append((f"before ({args.before})", "", {"PYTHONPATH": str(old)}))
    variants.append(("pipeline", "", {}))
    for given in args.variant:
        name, _, extra = given.partition("=")
        variants.append((name, extra, {}))
    if args.threads:
        variants.append((f"threads={args.threads}", "", {"PIPELINE_DBT_THREADS": str(args.threads)}))
    try:
        lake = args.lake
        if lake is None:
            sys.path.insert(0, str(ROOT / "bench"))
            from dbt_build import demo_lake

            lake = work / "lake"
            say(f"demo lake in {lake}: {demo_lake(lake)} designations")
        cache = work / "manifests"
        figures: dict[str, dict[str, list[dict]]] = {name: {} for name, _, _ in variants}
        load = os.getloadavg()
        # the builds: per variant a cold one (fresh work dir, nothing shared), a first one of a new
        # home that finds the shared manifest, then warm ones, interleaved across variants
        plan = [("cold", 1), ("shared", 1), ("warm", args.repeat)]
        for phase, times in plan:
            for i in range(times):
                for name, extra, env in variants:
                    folder = work / name.split()[0]
                    target = folder / ("dbt" if phase != "shared" else "dbt-new-home")
                    if phase == "shared":
                        shutil.rmtree(target, ignore_errors=True)
                    say(f"[{name}] {phase} build {i + 1}/{times}")
                    out = folder / f"{phase}-{i}.json"
                    folder.mkdir(exist_ok=True)
                    # the cold build parses and fills the variant's shared cache, the others may use it
                    _run_child(str(lake), str(folder / "sanctions.duckdb"), str(target), str(out), extra,
                               env={**env, "PIPELINE_DBT_MANIFEST_CACHE": str(cache / name)})
                    figures[name].setdefault(phase, []).append(json.loads(out.read_text()))
        print(f"\nload average at start {load[0]:.1f}, at end {os.getloadavg()[0]:.1f}; "
              f"{os.cpu_count()} cores; {args.repeat} warm build(s) per variant (median)\n")
        print("| variant | build | import | parse | start | nodes | total wall | total CPU | peak MB |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, _, _ in variants:
            for phase, _ in plan:
                runs = figures[name][phase]
                cell = {k: statistics.median(r["wall"][k] for r in runs) for k in runs[0]["wall"]}
                cpu = {k: statistics.median(r["cpu"][k] for r in runs) for k in runs[0]["cpu"]}
                print(f"| {name} | {phase} | " + " | ".join(f"{cell[k]:.1f} / {cpu[k]:.1f}" for k in
                                                           ("import", "parse", "start", "nodes"))
                      + f" | {cell['total']:.1f} | {cpu['total']:.1f} | "
                      f"{statistics.median(r['peak_mb'] for r in runs):.0f} |")
        print("\n(each phase: wall / CPU seconds)\n")
        print("| variant | seeds | models | data tests | hooks |")
        print("|---|---:|---:|---:|---:|")
        for name, _, _ in variants:
            runs = figures[name]["warm"]
            s = {k: statistics.median(r["node_seconds"].get(k, 0.0) for r in runs) for k in
                 ("seed", "model", "test", "operation")}
            n = runs[0]["node_count"]
            print(f"| {name} | {n.get('seed', 0)}: {s['seed']:.1f} s | {n.get('model', 0)}: {s['model']:.1f} s | "
                  f"{n.get('test', 0)}: {s['test']:.1f} s | {n.get('operation', 0)}: {s['operation']:.1f} s |")
        if args.sql_baseline:
            base_dir = work / "sql-baseline"
            base_dir.mkdir()
            runs = []
            for i in range(args.repeat):
                say(f"[compiled SQL] build {i + 1}/{args.repeat} and its SQL alone")
                for step in (["--child-dbt", str(lake), str(base_dir / "dbt.duckdb"), str(base_dir / "dbt"),
                              str(base_dir / "dbt.json")],
                             ["--child-sql", str(base_dir / "dbt.json"), str(lake), str(base_dir / "sql.duckdb"),
                              str(base_dir / f"sql-{i}.json")]):
                    env = {**os.environ, "PIPELINE_DBT_MANIFEST_CACHE": str(cache / "sql-baseline")}
                    done = subprocess.run([PYTHON, str(ROOT / "bench" / "dbt_build.py"), *step], capture_output=True,
                                          text=True, env=env)
                    if done.returncode:
                        raise SystemExit(f"{step[0]} failed:\n{done.stderr[-3000:]}")
                runs.append(json.loads((base_dir / f"sql-{i}.json").read_text()))
            wall, cpu = (statistics.median(r[k] for r in runs) for k in ("total", "cpu"))
            nodes = statistics.median(r["cpu"]["nodes"] for r in figures[variants[-1][0]]["warm"])
            total = statistics.median(r["cpu"]["total"] for r in figures[variants[-1][0]]["warm"])
            print(f"\ncompiled SQL alone (fresh interpreter, DuckDB import included): {wall:.1f} s wall, "
                  f"{cpu:.1f} s CPU; "
                  f"the last variant's warm build: nodes {nodes:.1f} s CPU ({nodes / cpu:.1f}x), "
                  f"whole {total:.1f} s CPU ({total / cpu:.1f}x)")
        problems = []
        base = work / variants[0][0].split()[0] / "sanctions.duckdb"
        for name, _, _ in variants[1:]:
            found = compare(base, work / name.split()[0] / "sanctions.duckdb")
            problems += [f"[{name}] {p}" for p in found]
        print("\nsame content as the first variant (every relation EXCEPT ALL both ways, every comment): "
              + ("yes" if not problems else "NO\n" + "\n".join(problems)))
        return 3 if problems else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
