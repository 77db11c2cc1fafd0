#!/usr/bin/env python
"""Benchmark: what dbt costs on top of the SQL it runs, for the pipeline's build step.

Two staged lakes: the demo files (every default source parsed, as ``make run`` does) and a corpus
of about 105,000 designations (``--designations``) made from the demo's staged Parquet: the OFAC
and UN demo lists replicated with new ids, over three monthly snapshots per source (about 1% of
the records leave and 1% join each month, 2% are renamed), so the history and delta marts have
real work; the event, article and vote tables stay the demo's.

For each lake, in fresh interpreters (so imports count):

- **dbt, cold**: the pipeline's build (``pipeline.models.dbt`` with ``BUILD``, what
  ``build_database`` runs: every node but the unit tests) with an empty target folder: a full parse.
- **dbt, warm**: the same with the target folder kept from the previous build (the cached
  manifest of partial parsing), as the pipeline runs it (``PIPELINE_HOME/dbt``); ``--repeat``
  times, the median is shown.
- **compiled SQL**: the baseline, measured in the same run. The SQL dbt compiled in the last warm
  build, node by node in the order dbt ran it, executed in one DuckDB connection: the seeds
  loaded from the CSVs, each model created as its table or view with its descriptions as COMMENT
  ON, each data test counted, then the on-run-end hook. It writes the same database (checked: same
  relations, same row counts).

- **DuckDB copy**: the model build's own baseline (issue 17: model build <= 3x the copy), measured
  in the same run: every staged table copied into a new DuckDB file.

Prints, per lake: import, parse, node execution and total seconds of each dbt build, the baseline,
the ratio total/baseline and the overhead (total - baseline) / baseline; the copy against the
compiled SQL and the dbt build; the slowest nodes of the last warm build. ``--rows-unchanged-from
REV`` builds the sql/ of a git revision and the working tree's (or ``--sql``) on the corpus and
compares every mart with EXCEPT ALL both ways. ``--compare REV`` (a git revision or a dbt project
folder) times that project too, in the same run, each lake's builds of it just before the working
tree's (or ``--sql``'s), and compares the marts of both builds of each lake (EXCEPT ALL both ways):
before and after on one machine state. Exits non-zero when a build fails, the baseline's database
differs or a mart's rows changed (3), never on a threshold.

    .venv/bin/python bench/dbt_build.py                       # demo + 105k designations, repeat 3
    .venv/bin/python bench/dbt_build.py --designations 20000 --repeat 1   # quicker
    .venv/bin/python bench/dbt_build.py --repeat 1 --compare HEAD~3     # before/after, same run
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQL = ROOT / "sql"
PYTHON = sys.executable
STORAGE_VERSION = "v1.2.0"
SNAPSHOTS = (date(2024, 4, 28), date(2024, 5, 28), date(2024, 6, 28))
SANCTIONS_SOURCES = ("us_ofac_sdn", "un_sc")
# The columns that carry a record's identity in the sanctions tables: suffixed per copy.
ID_COLUMNS = ("designation_id", "source_record_id", "entity_key", "related_entity_key")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- lakes ------------------------------------------------------------------------------------

def demo_lake(out: Path) -> int:
    """Every default source's demo files parsed into ``out``; returns the designations."""
    from pipeline.parse import parse_files
    from pipeline.settings import load
    from pipeline.sources import default_sources, load_meta

    settings = load()
    designations = 0
    for source in default_sources():
        files: list[Path] = []
        for rel in load_meta(source).demo_inputs:
            path = settings.demo_dir / rel
            files += sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                            and p.name.lower() != "readme.md") if path.is_dir() else [path]
        result = parse_files(source, files, out, snapshot_date=SNAPSHOTS[-1])
        designations += result.to_dict()["counts"].get("designations", 0)
    return designations


def corpus_lake(demo: Path, out: Path, designations: int) -> int:
    """The demo lake with its sanctions tables replicated to about ``designations`` rows over
    three snapshots per source; returns the designations written."""
    import duckdb

    shutil.copytree(demo, out)
    con = duckdb.connect()
    # the tables of the lists' entities (parse_audit, which has none, stays the demo's)
    tables = [p.name for p in sorted(demo.iterdir()) if any((p / f"source={s}").is_dir() for s in SANCTIONS_SOURCES)
              and "entity_key" in _columns(con, p)]
    # the designations of the replicated lists (the other sources' stay the demo's few hundred)
    per_demo = sum(con.execute(
        f"select count(*) from read_parquet('{demo}/designations/source={source}/*/*.parquet')"
    ).fetchone()[0] for source in SANCTIONS_SOURCES)
    copies = math.ceil(designations / len(SNAPSHOTS) / per_demo)
    step = max(1, copies // 100)  # ~1% of the copies leave and ~1% join each snapshot
    for table in tables:
        for source in SANCTIONS_SOURCES:
            shutil.rmtree(out / table / f"source={source}", ignore_errors=True)
        columns = _columns(con, demo / table)
        for j, snapshot in enumerate(SNAPSHOTS):
            select = []
            for column in columns:
                if column in ID_COLUMNS:
                    select.append(f"case when {column} is null then null else {column} || '~' || k end as {column}")
                elif column == "primary_name" or (table == "names" and column == "name"):
                    # 2% of the records take a new name from the second snapshot on
                    select.append(f"{column} || ' ' || k || case when k % 50 = 0 and {j} > 0 "
                                  f"then ' (renamed {j})' else '' end as {column}")
                elif column == "listed_on":
                    select.append("listed_on - cast(k % 5000 as integer) as listed_on")
                else:
                    select.append(f'"{column}"')
            for source in SANCTIONS_SOURCES:
                folder = out / table / f"source={source}" / f"snapshot_date={snapshot.isoformat()}"
                folder.mkdir(parents=True)
                con.execute(f"""
                    copy (
                        select {', '.join(select)}
                        from read_parquet('{demo}/{table}/source={source}/*/*.parquet') as staged
                        cross join range({j * step}, {j * step + copies}) as copies (k)
                    ) to '{folder}/part-bench.parquet' (format parquet)""")
    written = con.execute(
        f"select count(*) from read_parquet('{out}/designations/*/*/*.parquet', hive_partitioning = true)"
    ).fetchone()[0]
    con.close()
    return written


def _columns(con, folder: Path) -> list[str]:
    described = con.execute(f"describe select * from read_parquet('{folder}/*/*/*.parquet', hive_partitioning = true)")
    return [r[0] for r in described.fetchall() if r[0] not in ("source", "snapshot_date")]


# --- children (fresh interpreters) ------------------------------------------------------------

def child_dbt(lake: Path, db: Path, work: Path, out: Path, sql_dir: Path = SQL) -> None:
    """One pipeline build of the project in ``sql_dir``, timed; writes the timings and the nodes dbt
    ran (in order) to ``out``."""
    started = time.perf_counter()
    from dbt.cli.main import dbtRunner  # noqa: F401  (timed: the import is part of what dbt costs)

    imported, imported_cpu = time.perf_counter(), _cpu()
    from pipeline.models import BUILD, dbt

    if db.exists():
        db.unlink()
    seen: dict[str, tuple[float, float]] = {}

    def first(event) -> None:  # when dbt has its manifest (FoundStats) and when the first node starts
        seen.setdefault(event.info.name, (time.perf_counter(), _cpu()))

    invoked, invoked_cpu = time.perf_counter(), _cpu()
    result, _ = dbt(sql_dir, db, BUILD, work, lake=lake, storage_version=STORAGE_VERSION, callbacks=[first])
    finished, finished_cpu = time.perf_counter(), _cpu()
    if not result.success:
        raise SystemExit(f"dbt build failed: {result.exception or result.result}")
    nodes = []
    for item in result.result.results:
        node = item.node
        entry = {"type": node.resource_type.value if hasattr(node.resource_type, "value") else str(node.resource_type),
                 "name": node.name, "schema": node.schema, "seconds": item.execution_time,
                 "materialized": getattr(node.config, "materialized", None),
                 "sql": getattr(node, "compiled_code", None) or "",
                 "description": getattr(node, "description", "") or "",
                 "columns": {c: info.description for c, info in (getattr(node, "columns", {}) or {}).items()
                             if info.description}}
        if entry["type"] == "seed":
            entry["path"] = str(Path(node.root_path) / node.original_file_path)
        nodes.append(entry)
    hooks = sorted((work / "target" / "run" / "sanctions").glob("**/hooks/*on-run-end*.sql"))
    out.write_text(json.dumps({
        "import": imported - started, "parse": seen.get("FoundStats", (finished,))[0] - invoked,
        "nodes_seconds": finished - seen.get("NodeStart", (finished,))[0], "total": finished - started,
        "cpu": {"import": imported_cpu, "parse": seen.get("FoundStats", (0, finished_cpu))[1] - invoked_cpu,
                "nodes_seconds": finished_cpu - seen.get("NodeStart", (0, finished_cpu))[1], "total": finished_cpu},
        "nodes": nodes,
        "hooks": [h.read_text() for h in hooks],
    }))


def _cpu() -> float:
    """CPU seconds of this process so far (user + system, every thread: DuckDB's workers too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def child_sql(nodes_file: Path, lake: Path, db: Path, out: Path) -> None:
    """The compiled SQL of a build, in dbt's order, in one DuckDB connection; timed."""
    started = time.perf_counter()
    import duckdb

    run = json.loads(nodes_file.read_text())
    if db.exists():
        db.unlink()
    con = duckdb.connect(str(db), config={"storage_compatibility_version": STORAGE_VERSION})
    con.execute(f"set file_search_path = {_quote(str(lake))}")
    con.execute("create schema if not exists lake; create schema if not exists ref")
    for node in run["nodes"]:
        relation = f'"{node["schema"]}"."{node["name"]}"'
        if node["type"] == "seed":
            header = con.execute(f"select * from read_csv({_quote(node['path'])}, header = true, all_varchar = true) "
                                 "limit 0").description
            columns = ", ".join(f'"{c[0]}" varchar' for c in header)
            con.execute(f"create table {relation} ({columns})")
            con.execute(f"copy {relation} from {_quote(node['path'])} (format csv, header true)")
            kind = "table"
        elif node["type"] == "model":
            kind = "view" if node["materialized"] == "view" else "table"
            con.execute(f"create {kind} {relation} as (\n{node['sql']}\n)")
        elif node["type"] == "test":
            con.execute(f"select count(*) as failures from (\n{node['sql']}\n) as dbt_internal_test").fetchall()
            continue
        elif node["type"] == "operation":  # an on-run-start/-end hook, listed among the results in its place
            if node["sql"].strip():
                con.execute(node["sql"])
            continue
        else:  # unit test
            con.execute(node["sql"]).fetchall()
            continue
        if node["description"]:
            con.execute(f"comment on {kind} {relation} is {_quote(node['description'])}")
        for column, text in node["columns"].items():
            con.execute(f'comment on column {relation}."{column}" is {_quote(text)}')
    for hook in run["hooks"]:
        con.execute(hook)
    con.execute("checkpoint")
    con.close()
    out.write_text(json.dumps({"total": time.perf_counter() - started, "cpu": _cpu()}))


def child_copy(lake: Path, db: Path, out: Path) -> None:
    """The baseline of the model build: a plain DuckDB copy of every staged table into a new file
    (what the build's inputs cost to read and store), timed in a fresh interpreter."""
    started = time.perf_counter()
    import duckdb

    if db.exists():
        db.unlink()
    con = duckdb.connect(str(db), config={"storage_compatibility_version": STORAGE_VERSION})
    con.execute("create schema lake")
    rows = 0
    for folder in sorted(p for p in lake.iterdir() if p.is_dir() and any(p.glob("*/*/*.parquet"))):
        con.execute(f'create table lake."{folder.name}" as select * from read_parquet('
                    f"{_quote(str(folder) + '/*/*/*.parquet')}, hive_partitioning = true, union_by_name = true)")
        rows += con.execute(f'select count(*) from lake."{folder.name}"').fetchone()[0]
    con.execute("checkpoint")
    con.close()
    out.write_text(json.dumps({"total": time.perf_counter() - started, "cpu": _cpu(), "rows": rows}))


def _child(*args: str) -> None:
    # no manifest shared between homes (pipeline/models.py): "cold" parses the project, as a new home
    # did before that cache; "warm" still reuses the build's own work dir (dbt's partial parse)
    env = {**os.environ, "PIPELINE_DBT_MANIFEST_CACHE": ""}
    done = subprocess.run([PYTHON, __file__, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:1])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def _relations(db: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        names = con.execute("select schema_name, table_name from duckdb_tables() union all "
                            "select schema_name, view_name from duckdb_views() where not internal").fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in names}
    finally:
        con.close()


# --- the bench --------------------------------------------------------------------------------

def measure(name: str, lake: Path, work: Path, repeat: int, sql_dir: Path = SQL, label: str = "") -> dict:
    """One lake's builds: dbt cold, then ``repeat`` times dbt warm, its compiled SQL and the copy.
    ``sql_dir``: the dbt project (another revision's with --compare); ``label`` names it."""
    root = work / (name + (f"@{label}" if label else ""))
    root.mkdir()
    target = root / "dbt"
    project = () if sql_dir == SQL.resolve() else (str(sql_dir),)
    name_shown = name + (f"@{label}" if label else "")
    say(f"[{name_shown}] dbt build, cold (no cached manifest)")
    _child("--child-dbt", str(lake), str(root / "dbt.duckdb"), str(target), str(root / "cold.json"), *project)
    cold = json.loads((root / "cold.json").read_text())
    warm_runs, sql_runs, copy_runs = [], [], []
    for i in range(repeat):
        say(f"[{name_shown}] dbt build, warm {i + 1}/{repeat}")
        _child("--child-dbt", str(lake), str(root / "dbt.duckdb"), str(target), str(root / "warm.json"), *project)
        warm_runs.append(json.loads((root / "warm.json").read_text()))
        say(f"[{name_shown}] compiled SQL {i + 1}/{repeat}")
        _child("--child-sql", str(root / "warm.json"), str(lake), str(root / "sql.duckdb"), str(root / "sql.json"))
        run = json.loads((root / "sql.json").read_text())
        sql_runs.append({"wall": run["total"], "cpu": run["cpu"]})
        say(f"[{name_shown}] DuckDB copy of the staged inputs {i + 1}/{repeat}")
        _child("--child-copy", str(lake), str(root / "copy.duckdb"), str(root / "copy.json"))
        run = json.loads((root / "copy.json").read_text())
        copy_runs.append({"wall": run["total"], "cpu": run["cpu"]})
    dbt_rel, sql_rel = _relations(root / "dbt.duckdb"), _relations(root / "sql.duckdb")
    if dbt_rel != sql_rel:
        diff = {k: (dbt_rel.get(k), sql_rel.get(k)) for k in sorted(set(dbt_rel) | set(sql_rel))
                if dbt_rel.get(k) != sql_rel.get(k)}
        raise SystemExit(f"[{name_shown}] the compiled SQL wrote another database than dbt: {diff}")
    nodes = warm_runs[-1]["nodes"]
    counts = {kind: sum(1 for n in nodes if n["type"] == kind) for kind in ("seed", "model", "test", "unit_test")}
    return {"name": name_shown, "lake": name, "cold": cold, "warm": warm_runs, "sql": sql_runs, "copy": copy_runs,
            "counts": counts, "db_mb": (root / "dbt.duckdb").stat().st_size / 1e6, "relations": len(dbt_rel)}


def _median(runs: list[dict], key: str, clock: str) -> float:
    return statistics.median((r["cpu"] if clock == "cpu" else r)[key] for r in runs)


def report(results: list[dict], lakes: dict[str, int]) -> None:
    """One table per clock: wall seconds (what a run waits) and CPU seconds (user + system of the
    process, every thread; steadier than wall on a shared machine)."""
    for clock in ("wall", "cpu"):
        print(f"\n{clock} seconds\n")
        print("| lake | designations | nodes (seeds/models/tests/unit) | file MB | dbt build | import | parse "
              "| nodes | total | compiled SQL | total / SQL | overhead / SQL |")
        print("|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in results:
            sql = statistics.median(s[clock] if isinstance(s, dict) else s for s in r["sql"])
            c = r["counts"]
            shape = f"{c['seed']}/{c['model']}/{c['test']}/{c['unit_test']}"
            cold = r["cold"]["cpu"] if clock == "cpu" else r["cold"]
            rows = [("cold", cold["import"], cold["parse"], cold["nodes_seconds"], cold["total"]),
                    (f"warm (median of {len(r['warm'])})", _median(r["warm"], "import", clock),
                     _median(r["warm"], "parse", clock), _median(r["warm"], "nodes_seconds", clock),
                     _median(r["warm"], "total", clock))]
            for label, imp, parse, nodes, total in rows:
                print(f"| {r['name']} | {lakes[r['lake']]:,} | {shape} | {r['db_mb']:.1f} | {label} | {imp:.2f} | "
                      f"{parse:.2f} | {nodes:.2f} | {total:.2f} | {sql:.2f} | {total / sql:.2f}x | "
                      f"{(total - sql) / sql:.2f}x |")


def report_against_copy(results: list[dict], lakes: dict[str, int], top: int = 12) -> None:
    """The model build against a DuckDB copy of its inputs (issue 17's target: <= 3x), and where the
    build spends its time: the nodes of the last warm build by seconds (dbt's own timing)."""
    for clock in ("wall", "cpu"):
        print(f"\nmodel build against a DuckDB copy of its inputs, {clock} seconds (medians)\n")
        print("| lake | designations | copy | compiled SQL | dbt build (warm) | SQL / copy | dbt / copy |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for r in results:
            copy = statistics.median(c[clock] for c in r["copy"])
            sql = statistics.median(s[clock] for s in r["sql"])
            warm = _median(r["warm"], "total", clock)
            print(f"| {r['name']} | {lakes[r['lake']]:,} | {copy:.2f} | {sql:.2f} | {warm:.2f} | {sql / copy:.2f}x | "
                  f"{warm / copy:.2f}x |")
    for r in results:
        nodes = r["warm"][-1]["nodes"]
        spent = sum(n["seconds"] for n in nodes)
        print(f"\n[{r['name']}] top nodes of the last warm build (of {spent:.2f} s in {len(nodes)} nodes)\n")
        print("| node | kind | seconds | share |")
        print("|---|---|---:|---:|")
        for n in sorted(nodes, key=lambda n: -n["seconds"])[:top]:
            kind = n["materialized"] if n["type"] == "model" else n["type"]
            print(f"| {n['name'][:70]} | {kind} | {n['seconds']:.2f} | {n['seconds'] / spent:.0%} |")


# Columns that hold the build's own clock, not data: left out of the comparison of two builds.
# mart_source_freshness.as_of is current_timestamp when the lake has no fetch checks (a bench lake).
BUILD_CLOCK = {"mart_source_freshness": ("as_of",)}


def compare_marts(before: Path, after: Path) -> list[str]:
    """Every table of schema main (the marts) in both files, compared with EXCEPT ALL both ways
    (BUILD_CLOCK's columns left out): the differences found (empty when every mart holds the same
    rows, duplicates counted)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"attach {_quote(str(before))} as before (read_only)")
    con.execute(f"attach {_quote(str(after))} as after (read_only)")
    try:
        tables = {}
        for alias in ("before", "after"):
            tables[alias] = {r[0] for r in con.execute(
                "select table_name from duckdb_tables() where database_name = ? and schema_name = 'main'",
                [alias]).fetchall()}
        problems = [f"{t}: only {a}" for a, b in (("before", "after"), ("after", "before"))
                    for t in sorted(tables[a] - tables[b])]
        for table in sorted(tables["before"] & tables["after"]):
            a, b = f'before.main."{table}"', f'after.main."{table}"'
            columns = con.execute(f"describe {a}").fetchall()
            if columns != con.execute(f"describe {b}").fetchall():
                problems.append(f"{table}: other columns or types")
                continue
            kept = ", ".join(f'"{c[0]}"' for c in columns if c[0] not in BUILD_CLOCK.get(table, ()))
            only_before = con.execute(f"select count(*) from (select {kept} from {a} except all "
                                      f"select {kept} from {b})").fetchone()[0]
            only_after = con.execute(f"select count(*) from (select {kept} from {b} except all "
                                     f"select {kept} from {a})").fetchone()[0]
            if only_before or only_after:
                problems.append(f"{table}: {only_before} rows only before, {only_after} only after")
        return problems
    finally:
        con.close()


def project_at(rev: str, work: Path) -> Path:
    """The dbt project (sql/ and the seeds of pipeline/reference) of git revision ``rev``, extracted
    under ``work``; returns its sql folder."""
    old = work / f"sql-{rev}"
    if not old.exists():
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "sql", "pipeline/reference"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    return old / "sql"


def check_rows_unchanged(rev: str, lake: Path, work: Path, sql_dir: Path = SQL) -> int:
    """Builds the project of git revision ``rev`` (its sql/ and pipeline/reference) and the one in
    ``sql_dir`` (the working tree's) on the same lake and compares every mart; returns the number of
    marts compared."""
    old = project_at(rev, work)
    for name, project in (("before", old), ("after", sql_dir)):
        say(f"[rows] dbt build of {'revision ' + rev if name == 'before' else project}")
        _child("--child-dbt", str(lake), str(work / f"{name}.duckdb"), str(work / f"{name}-dbt"),
               str(work / f"{name}.json"), str(project))
    for name in ("before", "after"):
        run = json.loads((work / f"{name}.json").read_text())
        top = sorted(run["nodes"], key=lambda n: -n["seconds"])[:8]
        print(f"[rows] {name}: dbt build {run['total']:.2f} s wall, {run['cpu']['total']:.2f} s CPU; nodes "
              f"{run['nodes_seconds']:.2f} s wall, {run['cpu']['nodes_seconds']:.2f} s CPU; slowest: "
              + ", ".join(f"{n['name'][:40]} {n['seconds']:.2f}" for n in top), flush=True)
    problems = compare_marts(work / "before.duckdb", work / "after.duckdb")
    if problems:
        raise SystemExit("the marts differ from revision " + rev + ":\n" + "\n".join(problems))
    import duckdb

    con = duckdb.connect(str(work / "after.duckdb"), read_only=True)
    marts = con.execute("select count(*) from duckdb_tables() where schema_name = 'main'").fetchone()[0]
    con.close()
    return marts


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child-dbt"]:
        child_dbt(*(Path(a) for a in argv[1:6]))
        return 0
    if argv[:1] == ["--child-sql"]:
        child_sql(*(Path(a) for a in argv[1:5]))
        return 0
    if argv[:1] == ["--child-copy"]:
        child_copy(*(Path(a) for a in argv[1:4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--designations", type=int, default=105_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the lakes and databases")
    parser.add_argument("--rows-unchanged-from", metavar="REV", default=None,
                        help="also build the sql/ of git revision REV on the corpus and check every mart holds "
                             "the same rows (EXCEPT ALL both ways); exits 3 when one differs")
    parser.add_argument("--only-rows", action="store_true", help="with --rows-unchanged-from: no timings")
    parser.add_argument("--compare", metavar="REV", default=None,
                        help="also time the sql/ of git revision REV (or a dbt project folder) in the same run, each "
                             "lake's builds of REV just before the working tree's (rows named lake@REV), and compare "
                             "every mart of both builds of each lake (EXCEPT ALL both ways; exits 3 when one differs)")
    parser.add_argument("--sql", type=Path, default=SQL,
                        help="the dbt project built and timed (default: the working tree's sql/), compared with "
                             "--rows-unchanged-from or --compare")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-dbt-", dir=args.workdir))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    try:
        say(f"lakes in {work}")
        lakes = {"demo": demo_lake(work / "demo-lake")}
        lakes["corpus"] = corpus_lake(work / "demo-lake", work / "corpus-lake", args.designations)
        say(f"designations: demo {lakes['demo']:,}, corpus {lakes['corpus']:,}")
        if args.rows_unchanged_from:
            try:
                marts = check_rows_unchanged(args.rows_unchanged_from, work / "corpus-lake", work, args.sql.resolve())
            except SystemExit as failed:
                print(failed)
                return 3
            print(f"rows unchanged: {marts} marts on the corpus hold the same rows as at {args.rows_unchanged_from} "
                  "(EXCEPT ALL both ways)")
        if not args.only_rows:
            results, differ = [], []
            for name in lakes:
                if args.compare:
                    given = Path(args.compare)
                    before = given.resolve() if given.is_dir() else project_at(args.compare, work)
                    named = given.parent if given.name == "sql" else given
                    label = named.name if given.is_dir() else args.compare
                    results.append(measure(name, work / f"{name}-lake", work, args.repeat, before, label))
                results.append(measure(name, work / f"{name}-lake", work, args.repeat, args.sql.resolve()))
                if args.compare:
                    problems = compare_marts(work / f"{name}@{label}" / "dbt.duckdb", work / name / "dbt.duckdb")
                    differ += [f"[{name}] {p}" for p in problems]
                    print(f"[{name}] marts of {label} and of {args.sql}: "
                          + ("; ".join(problems) if problems else "the same rows (EXCEPT ALL both ways)"), flush=True)
            report(results, lakes)
            report_against_copy(results, lakes)
            if differ:
                return 3
    finally:
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
