#!/usr/bin/env python
"""Benchmark: the whole ``pipeline run`` against scripts that build the same headline marts from the
same files directly, on the demo and on 10x and 100x corpora (bench/make_corpus.py).

For each input set, in fresh processes and in this order:

1. **pipeline run** (embedded Airflow, a new temporary ``PIPELINE_HOME``): the demo as ``make run``
   runs it, a corpus as ``pipeline run --input var/bench/corpus-<k>x --accept-small-lists``. Wall
   and CPU seconds (user + system of every process the run waited for), the largest process's peak
   RSS (``ru_maxrss``) and the peak of the sum over the run's process tree (sampled every 0.2 s with
   psutil), and the run's own ``[k/n] step ... in X s`` lines (what is left is Airflow, imports and
   the run's own bookkeeping).
2. **unchanged re-run**: the same command again in the same home (the same files: the same sha256
   set as the current release).
3. **baseline "project parsers + DuckDB"**: one plain Python process that parses every source's
   files with the project's parsers (``pipeline.parse.parse_files``, as the run's parse step does)
   and builds the headline marts with one DuckDB script from the staged Parquet: country rankings
   by programme target and by nationality per authority and over all authorities (current
   snapshot of each list), GDELT events per country pair and year, UN General Assembly agreement
   per session and country pair; written to a DuckDB file.
4. **baseline "DuckDB-only"**: the same marts, with every file DuckDB can read read by DuckDB itself
   (the GDELT export and the UNGA CSVs, ``read_csv``); DuckDB cannot read XML here (no ``read_xml``),
   so the XML lists, and the articles (which need the extractor), still go through the project's
   parsers. Its figures say how much of it is parsing and how much is DuckDB.

It prints, per input set, the figures, their ratios (run / baseline, re-run / run), the published
DuckDB file against its staged Parquet and against a plain DuckDB copy of those staged tables, and
where the run's time goes (the five largest costs). With ``--model-build`` it also times, on each
corpus's staged lake (the run's ``lake/staged`` and its matching), the pipeline's dbt build and the
SQL dbt compiled, run directly (``bench/dbt_build.py``'s ``measure``), against a DuckDB copy of the
staged inputs made in the same run.

Exits non-zero when a run or a baseline fails, or when a corpus run did not stage k times the demo's
designations; never because a figure misses a target.

    .venv/bin/python bench/run_vs_duckdb.py                          # demo, 10x, 100x
    .venv/bin/python bench/run_vs_duckdb.py --sizes 1,10             # skip 100x
    .venv/bin/python bench/run_vs_duckdb.py --sizes 10,100 --model-build --json var/bench/run.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
PIPELINE = str(Path(PYTHON).with_name("pipeline"))
STEP = re.compile(r"^\[(\d+)/(\d+)\] ([^:]+): (.*) in ([\d.]+) s\s*$")
CSV_SOURCES = ("gdelt_events", "unga_votes")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- measuring a child ----------------------------------------------------------------------------

def measure(cmd: list[str], env: dict | None = None, sample: float = 0.2) -> dict:
    """Run ``cmd`` under a wrapper process; returns wall and CPU seconds, the largest process's peak
    RSS (MB) and the peak of the process tree's summed RSS (MB, sampled), stdout and stderr."""
    import psutil

    with tempfile.TemporaryDirectory(prefix="bench-measure-") as tmp:
        usage = Path(tmp) / "usage.json"
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        started = time.perf_counter()
        with open(out, "wb") as fo, open(err, "wb") as fe:
            proc = psutil.Popen([PYTHON, __file__, "--wrap", str(usage), "--", *cmd], stdout=fo, stderr=fe,
                                env=env, cwd=ROOT)
            peak = 0
            while proc.poll() is None:
                try:
                    tree = [proc, *proc.children(recursive=True)]
                except psutil.Error:
                    tree = []
                total = 0
                for p in tree:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                peak = max(peak, total)
                time.sleep(sample)
        wall = time.perf_counter() - started
        stats = json.loads(usage.read_text()) if usage.exists() else {}
        return {"wall": wall, "cpu": stats.get("cpu"), "rss_mb": stats.get("maxrss_kb", 0) / 1024,
                "tree_mb": peak / 2**20, "rc": stats.get("rc", proc.returncode),
                "stdout": out.read_text(errors="replace"), "stderr": err.read_text(errors="replace")}


def wrap(usage: Path, cmd: list[str]) -> int:
    """The wrapper: runs ``cmd`` and writes the rusage of everything it waited for."""
    rc = subprocess.call(cmd)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    usage.write_text(json.dumps({"rc": rc, "cpu": ru.ru_utime + ru.ru_stime, "maxrss_kb": ru.ru_maxrss}))
    return rc


def steps(stdout: str) -> list[dict]:
    found = []
    for line in stdout.splitlines():
        m = STEP.match(line.strip())
        if m:
            found.append({"step": m.group(3), "what": m.group(4), "seconds": float(m.group(5))})
    return found


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --- inputs -----------------------------------------------------------------------------------------

def input_files(root: Path) -> dict[str, list[Path]]:
    """Every default source's files under ``root`` (``data/demo`` or a corpus), as the run picks them."""
    from pipeline.sources import default_sources, load_meta

    files: dict[str, list[Path]] = {}
    for source in default_sources():
        found: list[Path] = []
        for rel in load_meta(source).demo_inputs:
            path = root / rel
            found += sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                            and p.name.lower() != "readme.md") if path.is_dir() else [path]
        files[source] = found
    return files


# --- the baselines (run in a fresh interpreter: --child-baseline) ---------------------------------

RANKINGS_SQL = """
create table designations as
    select * from read_parquet('{staged}/designations/*/*/*.parquet', hive_partitioning = true, union_by_name = true)
    qualify snapshot_date = max(snapshot_date) over (partition by source);
create table country_links as
    select * from read_parquet('{staged}/country_links/*/*/*.parquet', hive_partitioning = true, union_by_name = true);
create table programs as select * from read_csv({programs}, header = true, all_varchar = true, union_by_name = true);
create table mart_rank_program_target as
with targets as (
    select distinct d.authority, d.designation_id, p.target_iso2 as country_iso2
    from designations as d, unnest(d.programs) as u (program)
    join programs as p on p.authority = d.authority and p.program = u.program
    where coalesce(p.target_iso2, '') <> ''
), both_levels as (
    select authority, country_iso2, designation_id from targets
    union all select 'all', country_iso2, designation_id from targets
)
select *, rank() over (partition by authority order by designations desc) as rank
from (select authority, country_iso2, count(distinct designation_id) as designations from both_levels group by all);
create table mart_rank_nationality as
with linked as (
    select distinct d.authority, d.designation_id, l.country_iso2
    from designations as d
    join country_links as l on l.source = d.source and l.entity_key = d.entity_key and l.snapshot_date = d.snapshot_date
    where l.link_type in ('nationality', 'citizenship', 'registration', 'flag') and l.country_iso2 is not null
), both_levels as (
    select authority, country_iso2, designation_id from linked
    union all select 'all', country_iso2, designation_id from linked
)
select *, rank() over (partition by authority order by designations desc) as rank
from (select authority, country_iso2, count(distinct designation_id) as designations from both_levels group by all);
"""

# alignment marts from the project's staged tables
STAGED_ALIGNMENT_SQL = """
create table mart_gdelt_pairs as
    select year(event_date) as year, actor1_iso2 as a, actor2_iso2 as b, count(*) as events,
           avg(goldstein) as goldstein
    from read_parquet('{staged}/gdelt_events/*/*/*.parquet', hive_partitioning = true)
    where actor1_iso2 is not null and actor2_iso2 is not null and actor1_iso2 <> actor2_iso2
    group by all;
create table mart_unga_agreement as
    with v as (
        select v.rcid, r.session, v.country_iso2 as country, v.vote_code as vote
        from read_parquet('{staged}/unga_votes/*/*/*.parquet', hive_partitioning = true) as v
        join read_parquet('{staged}/unga_rollcalls/*/*/*.parquet', hive_partitioning = true) as r using (rcid)
        where v.vote_code in (1, 2, 3)
    )
    select a.session, a.country as a, b.country as b, count(*) as votes, avg((a.vote = b.vote)::int) as agreement
    from v as a join v as b on a.rcid = b.rcid and a.country < b.country
    group by all;
"""

# the same from the files themselves, read by DuckDB
CSV_ALIGNMENT_SQL = """
create table mart_gdelt_pairs as
    select year(strptime(SQLDATE, '%Y%m%d')) as year, Actor1CountryCode as a, Actor2CountryCode as b,
           count(*) as events, avg(try_cast(GoldsteinScale as double)) as goldstein
    from read_csv({gdelt}, delim = '\t', header = false, quote = '', all_varchar = true, names = {gdelt_names})
    where Actor1CountryCode <> '' and Actor2CountryCode <> '' and Actor1CountryCode <> Actor2CountryCode
    group by all;
create table mart_unga_agreement as
    with v as (
        select v.rcid, r.session, v.country_code as country, v.vote
        from read_csv({votes}, header = true, all_varchar = true) as v
        join read_csv({roll_calls}, header = true, all_varchar = true) as r using (rcid)
        where v.vote in ('yes', 'no', 'abstain')
    )
    select a.session, a.country as a, b.country as b, count(*) as votes, avg((a.vote = b.vote)::int) as agreement
    from v as a join v as b on a.rcid = b.rcid and a.country < b.country
    group by all;
"""


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def child_baseline(mode: str, root: Path, work: Path, out: Path) -> None:
    """``mode`` parsers: every source through the project's parsers; duckdb: the CSV sources read by
    DuckDB. Writes its phase timings to ``out``."""
    clock = {"start": time.perf_counter()}
    import duckdb

    from pipeline.parse import parse_files
    from pipeline.sources import load_meta

    clock["imports"] = time.perf_counter()
    files = input_files(root)
    staged = work / "staged"
    parse_seconds: dict[str, float] = {}
    for source, paths in files.items():
        if mode == "duckdb" and source in CSV_SOURCES:
            continue
        t0 = time.perf_counter()
        parse_files(source, paths, staged, max_bytes=1 << 40, accept_partial=True)
        parse_seconds[source] = time.perf_counter() - t0
    clock["parsed"] = time.perf_counter()
    db = work / "baseline.duckdb"
    con = duckdb.connect(str(db))
    programs = sorted((ROOT / "pipeline" / "sources").glob("*/programs.csv"))
    programs = [p for p in programs if p.parent.name in files]
    con.execute(RANKINGS_SQL.format(staged=staged, programs=_sql_list(programs)))
    if mode == "duckdb":
        names = [line.split(",")[0] for line in
                 (ROOT / "pipeline" / "sources" / "gdelt_events" / "columns.csv").read_text().splitlines()[1:]
                 if line.split(",")[2].strip() == "1"]
        unga = {Path(p).name: p for p in files["unga_votes"]}
        con.execute(CSV_ALIGNMENT_SQL.format(gdelt=_sql_list(files["gdelt_events"]), gdelt_names=names,
                                             votes=_sql_list([unga["votes.csv"]]),
                                             roll_calls=_sql_list([unga["roll_calls.csv"]])))
    else:
        con.execute(STAGED_ALIGNMENT_SQL.format(staged=staged))
    con.execute("checkpoint")
    rows = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for (t,) in
            con.execute("select table_name from duckdb_tables() where table_name like 'mart_%'").fetchall()}
    designations = con.execute("select count(*) from designations").fetchone()[0]
    con.close()
    clock["marts"] = time.perf_counter()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    _ = load_meta  # imported with the parsers (part of their fixed cost)
    out.write_text(json.dumps({
        "imports": clock["imports"] - clock["start"], "parse": clock["parsed"] - clock["imports"],
        "duckdb": clock["marts"] - clock["parsed"], "total": clock["marts"] - clock["start"],
        "parse_by_source": parse_seconds, "cpu": ru.ru_utime + ru.ru_stime, "rows": rows,
        "designations": designations, "db_bytes": db.stat().st_size}))


def child_copy(staged: Path, db: Path, out: Path) -> None:
    """A plain DuckDB copy of every staged table (the model build's inputs): one table each."""
    started = time.perf_counter()
    import duckdb

    if db.exists():
        db.unlink()
    con = duckdb.connect(str(db))
    tables = 0
    for folder in sorted(p for p in staged.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
        if not any(folder.rglob("*.parquet")):
            continue
        con.execute(f"create table \"{folder.name}\" as select * from read_parquet('{folder}/**/*.parquet', "
                    "hive_partitioning = true, union_by_name = true)")
        tables += 1
    con.execute("checkpoint")
    con.close()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out.write_text(json.dumps({"total": time.perf_counter() - started, "cpu": ru.ru_utime + ru.ru_stime,
                               "tables": tables, "db_bytes": db.stat().st_size}))


def baseline(mode: str, root: Path, work: Path) -> dict:
    folder = work / f"baseline-{mode}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    result = measure([PYTHON, __file__, "--child-baseline", mode, str(root), str(folder), str(folder / "out.json")])
    if result["rc"] != 0:
        raise SystemExit(f"baseline {mode} failed:\n{result['stderr'][-3000:]}")
    return {**result, **json.loads((folder / "out.json").read_text()), "stdout": "", "stderr": ""}


def duckdb_copy(staged: Path, work: Path) -> dict:
    out = work / "copy.json"
    result = measure([PYTHON, __file__, "--child-copy", str(staged), str(work / "copy.duckdb"), str(out)])
    if result["rc"] != 0:
        raise SystemExit(f"DuckDB copy failed:\n{result['stderr'][-3000:]}")
    return {**result, **json.loads(out.read_text()), "stdout": "", "stderr": ""}


# --- the pipeline run -------------------------------------------------------------------------------

def pipeline_run(home: Path, corpus: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_")}
    env.update(PIPELINE_HOME=str(home), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    cmd = [PIPELINE, "run"]
    if corpus is not None:
        cmd += ["--input", str(corpus), "--accept-small-lists"]
    result = measure(cmd, env=env)
    if result["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {result['rc']}):\n{result['stdout'][-3000:]}\n"
                         f"{result['stderr'][-3000:]}")
    result["steps"] = steps(result["stdout"])
    return result


def published(home: Path) -> dict:
    import duckdb

    db = home / "publish" / "current" / "sanctions.duckdb"
    con = duckdb.connect(str(db), read_only=True)
    try:
        designations = con.execute("select count(*) from lake.designations").fetchone()[0]
        targets = con.execute("select count(distinct target_id) from mart_targets").fetchone()[0] \
            if con.execute("select count(*) from duckdb_tables() where table_name = 'mart_targets'").fetchone()[0] \
            else None
    finally:
        con.close()
    return {"db_bytes": db.stat().st_size, "staged_bytes": folder_bytes(home / "lake" / "staged"),
            "raw_bytes": folder_bytes(home / "lake" / "raw"), "designations": designations, "targets": targets}


def model_lake(home: Path, out: Path) -> Path:
    """The run's staged lake as the build node sees it: lake/staged hard-linked, and the matching
    beside it (``_matching``)."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(home / "lake" / "staged", out, copy_function=os.link)
    matching = home / "lake" / "matching"
    if matching.is_dir():
        shutil.copytree(matching, out / "_matching", copy_function=os.link)
    return out


# --- report -----------------------------------------------------------------------------------------

def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b else "-"


def costs(run: dict) -> list[tuple[str, float]]:
    """The run's wall time split: its steps (the parses summed) and what the step lines leave out."""
    split: dict[str, float] = {}
    for s in run["steps"]:
        name = "parse (every source)" if s["step"].startswith("parse ") else s["step"]
        split[name] = split.get(name, 0.0) + s["seconds"]
    split["Airflow, imports and bookkeeping (wall - steps)"] = max(0.0, run["wall"] - sum(split.values()))
    return sorted(split.items(), key=lambda kv: -kv[1])


def report(results: list[dict], machine: dict) -> None:
    print(f"\n# run_vs_duckdb  {machine['date']}  nproc {machine['nproc']}, {machine['mem_gb']:.0f} GB, "
          f"load {machine['load_start']} at start, {machine['load_end']} at end\n")
    print("| input | designations | raw MB | run s (cpu s) | re-run s | re-run / run | parsers+DuckDB s | run / it "
          "| DuckDB-only s (of which parsing) | run / it | run peak RSS MB (tree) | baseline peak MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        run, again, bp, bd = r["run"], r["rerun"], r["parsers"], r["duckdb"]
        print(f"| {r['name']} | {r['published']['designations']:,} | {r['published']['raw_bytes'] / 1e6:.1f} | "
              f"{run['wall']:.1f} ({run['cpu']:.1f}) | {again['wall']:.1f} | {again['wall'] / run['wall']:.2f} | "
              f"{bp['wall']:.1f} | {_ratio(run['wall'], bp['wall'])} | "
              f"{bd['wall']:.1f} ({bd['imports'] + bd['parse']:.1f}) | "
              f"{_ratio(run['wall'], bd['wall'])} | {run['rss_mb']:.0f} ({run['tree_mb']:.0f}) | "
              f"{max(bp['rss_mb'], bd['rss_mb']):.0f} |")
    print("\nPublished DuckDB file against its inputs:\n")
    print("| input | staged Parquet MB | DuckDB copy of it MB | published MB | published / staged | published / copy |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        p, c = r["published"], r["copy"]
        print(f"| {r['name']} | {p['staged_bytes'] / 1e6:.2f} | {c['db_bytes'] / 1e6:.2f} | "
              f"{p['db_bytes'] / 1e6:.1f} | "
              f"{_ratio(p['db_bytes'], p['staged_bytes'])} | {_ratio(p['db_bytes'], c['db_bytes'])} |")
    print("\nBaselines, phase by phase (seconds inside the process; wall above also counts interpreter start):\n")
    print("| input | baseline | imports | parsing | DuckDB | total | cpu | peak RSS MB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        for label, b in (("project parsers + DuckDB", r["parsers"]),
                         ("DuckDB-only (XML, articles: parsers)", r["duckdb"])):
            print(f"| {r['name']} | {label} | {b['imports']:.2f} | {b['parse']:.2f} | {b['duckdb']:.2f} | "
                  f"{b['total']:.2f} | {b['cpu']:.1f} | {b['rss_mb']:.0f} |")
    print("\nWhere the run's time goes (wall seconds; the step lines the run prints, parses summed):\n")
    names = []
    for r in results:
        for name, _ in costs(r["run"]):
            if name not in names:
                names.append(name)
    print("| cost | " + " | ".join(r["name"] for r in results) + " | " +
          " | ".join(f"re-run {r['name']}" for r in results) + " |")
    print("|---|" + "---:|" * (2 * len(results)))
    split = [dict(costs(r["run"])) for r in results]
    resplit = [dict(costs(r["rerun"])) for r in results]
    for name in names:
        print(f"| {name} | " + " | ".join(f"{s.get(name, 0):.1f}" for s in split) + " | " +
              " | ".join(f"{s.get(name, 0):.1f}" for s in resplit) + " |")
    for r in results:
        top = costs(r["run"])[:5]
        print(f"\ntop 5 costs, {r['name']}: "
              + "; ".join(f"{n} {s:.1f} s ({s / r['run']['wall']:.0%})" for n, s in top))
    print("\nGreat Expectations (the three validate steps) in the run:\n")
    for r in results:
        gx = sum(s["seconds"] for s in r["run"]["steps"] if s["step"].startswith("validate"))
        print(f"- {r['name']}: {gx:.1f} s of {r['run']['wall']:.1f} s ({gx / r['run']['wall']:.0%})")
    targets(results)
    models = [r for r in results if r.get("model")]
    if models:
        print("\nModel build on the corpus lakes (wall s; dbt warm = the pipeline's build with its cached manifest):\n")
        print("| lake | DuckDB copy of the inputs | compiled SQL direct | dbt cold | dbt warm | dbt warm / copy "
              "| SQL / copy | dbt warm / SQL | copy peak RSS MB |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        import statistics
        for r in models:
            m, c = r["model"], _copy_seconds(r)
            sql = statistics.median(s["wall"] for s in m["sql"])
            warm = statistics.median(w["total"] for w in m["warm"])
            print(f"| {r['name']} | {c:.1f} | {sql:.1f} | {m['cold']['total']:.1f} | {warm:.1f} | "
                  f"{_ratio(warm, c)} | {_ratio(sql, c)} | {_ratio(warm, sql)} | {r['copy']['rss_mb']:.0f} |")
        for r in models:
            slow = sorted(r["model"]["warm"][-1]["nodes"], key=lambda n: -(n["seconds"] or 0))[:8]
            print(f"\nslowest dbt nodes, {r['name']}: " + "; ".join(f"{n['name']} {n['seconds']:.1f} s" for n in slow))


def _copy_seconds(r: dict) -> float:
    """The DuckDB copy of the model build's inputs: dbt_build.measure's own when it times one (inside
    its child, beside the dbt builds), else this script's (wall, interpreter start included)."""
    import statistics

    copies = (r.get("model") or {}).get("copy")
    return statistics.median(c["wall"] for c in copies) if copies else r["copy"]["wall"]


def targets(results: list[dict]) -> None:
    """Issue 17's targets, each against its figure of this run (informative: never an exit status)."""
    import statistics

    print("\nIssue 17's targets, this run:\n")
    print("| input | target | figure | met |")
    print("|---|---|---:|---|")
    for r in results:
        run = r["run"]["wall"]
        gx = sum(s["seconds"] for s in r["run"]["steps"] if s["step"].startswith("validate"))
        rows = [("run <= 10x the DuckDB-only script", run / r["duckdb"]["wall"], 10),
                ("run <= 10x project parsers + DuckDB", run / r["parsers"]["wall"], 10),
                ("GX < 20% of the run", gx / run, 0.2),
                ("unchanged re-run < 10% of the run", r["rerun"]["wall"] / run, 0.1),
                ("published file <= 3x its staged inputs", r["published"]["db_bytes"] / r["published"]["staged_bytes"],
                 3)]
        if r.get("model"):
            warm = statistics.median(w["total"] for w in r["model"]["warm"])
            rows.append(("model build (dbt warm) <= 3x a DuckDB copy of its inputs", warm / _copy_seconds(r), 3))
        for label, value, limit in rows:
            shown = f"{value:.0%}" if limit < 1 else f"{value:.1f}x"
            print(f"| {r['name']} | {label} | {shown} | {'yes' if value <= limit else 'no'} |")


def machine_info() -> dict:
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "nproc": os.cpu_count(),
            "mem_gb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9,
            "load_start": " ".join(f"{x:.2f}" for x in os.getloadavg()), "python": sys.version.split()[0]}


# --- main -------------------------------------------------------------------------------------------

def one(size: int, work: Path, model_build: bool, repeat: int, demo_designations: int | None) -> dict:
    from make_corpus import ensure

    name = "demo" if size == 1 else f"{size}x"
    corpus = None if size == 1 else ensure(size)
    root = ROOT / "data" / "demo" if corpus is None else corpus
    home = work / f"home-{name}"
    home.mkdir()
    say(f"[{name}] pipeline run")
    run = pipeline_run(home, corpus)
    say(f"[{name}] run {run['wall']:.1f} s; unchanged re-run")
    rerun = pipeline_run(home, corpus)
    pub = published(home)
    if demo_designations is not None and pub["designations"] != demo_designations * size:
        raise SystemExit(f"[{name}] the run staged {pub['designations']:,} designations, not {size} x "
                         f"{demo_designations:,}: the corpus's ids are not distinct")
    say(f"[{name}] baselines")
    parsers = baseline("parsers", root, work / name)
    duck = baseline("duckdb", root, work / name)
    if parsers["designations"] != pub["designations"]:
        say(f"[{name}] note: baseline designations {parsers['designations']:,} vs published {pub['designations']:,}")
    copy = duckdb_copy(home / "lake" / "staged", work / name)
    result = {"name": name, "size": size, "run": run, "rerun": rerun, "published": pub, "parsers": parsers,
              "duckdb": duck, "copy": copy}
    if model_build and size > 1:
        sys.path.insert(0, str(BENCH))
        import dbt_build

        say(f"[{name}] model build: dbt vs compiled SQL (bench/dbt_build.py)")
        lake = model_lake(home, work / name / "lake")
        mwork = work / name / "model"
        mwork.mkdir()
        result["model"] = dbt_build.measure(name, lake, mwork, repeat)
    for part in (run, rerun):
        part.pop("stderr", None)
    return result


def main(argv: list[str]) -> int:
    if argv[:1] == ["--wrap"]:
        return wrap(Path(argv[1]), argv[3:])
    if argv[:1] == ["--child-baseline"]:
        child_baseline(argv[1], Path(argv[2]), Path(argv[3]), Path(argv[4]))
        return 0
    if argv[:1] == ["--child-copy"]:
        child_copy(Path(argv[1]), Path(argv[2]), Path(argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,10,100", help="comma-separated: 1 = the demo, k = the k-times corpus")
    parser.add_argument("--model-build", action="store_true",
                        help="also time dbt build vs its compiled SQL vs a DuckDB copy on each corpus's lake")
    parser.add_argument("--repeat", type=int, default=1, help="warm dbt builds per lake with --model-build")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the homes, lakes and databases")
    parser.add_argument("--json", type=Path, help="also write every figure to this file (after each input set)")
    parser.add_argument("--from-json", type=Path, nargs="+", metavar="FILE",
                        help="print the report of earlier --json files (in order) instead of measuring")
    args = parser.parse_args(argv)
    if args.from_json:
        saved = [json.loads(p.read_text()) for p in args.from_json]
        machine = {**saved[0]["machine"], "load_end": saved[-1]["machine"].get("load_end", "?")}
        report([r for s in saved for r in s["results"]], machine)
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    sys.path.insert(0, str(BENCH))
    machine = machine_info()
    work = Path(tempfile.mkdtemp(prefix="bench-run-", dir=args.workdir))
    say(f"work folder {work}")
    results = []
    try:
        demo_designations = None
        if sizes[0] != 1:  # what one copy stages, to check the corpus's ids are distinct
            demo_designations = baseline("parsers", ROOT / "data" / "demo", work / "demo-count")["designations"]
        for size in sizes:
            result = one(size, work, args.model_build, args.repeat, demo_designations)
            if size == 1:
                demo_designations = result["published"]["designations"]
            results.append(result)
            machine["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
            if args.json:
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=1, default=str))
        report(results, machine)
    finally:
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
