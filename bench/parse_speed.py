"""Parser speed against a baseline measured in the same run (issue 17), with peak memory.

For each parser the project's own parse of a file scaled up from a real or demo file is timed in a
fresh interpreter, and so is the baseline on the same file:

- XML (OFAC advanced, UN consolidated): ``pipeline.parse.parse_files`` against an lxml
  ``iterparse`` that only walks the elements and clears them (no DTD, no entities);
- GDELT events: ``parse_files('gdelt_events')`` against DuckDB's own
  ``COPY (select * from read_csv(...)) TO '...parquet'``;
- UN votes (Voeten's layout): ``parse_files('unga_votes')`` against the same DuckDB copy;
- the UN agreement mart: the project's models (``int_unga_dyad_vote_counts`` then
  ``mart_unga_agreement``, rendered from ``sql/models`` and materialized as dbt does: the intermediate
  model a view, the mart a table) against one DuckDB query computing the same scores from the same votes.

Each measurement runs in its own subprocess, which reports its wall time for the work alone (not
start-up or imports) and its peak RSS (``VmHWM``, so native memory counts; ``ru_maxrss`` is printed
too). Every parser is measured at two sizes, so a streaming parser's peak can be seen to stay flat.
Inputs go under ``var/bench/parse_speed`` (``--keep`` keeps them). Prints ratios; exits non-zero only
when a measurement breaks, never because a ratio misses its target.

    .venv/bin/python bench/parse_speed.py                 # OFAC 16/33 MB, GDELT 0.5M/1M rows, 1.2M/2.5M votes
    .venv/bin/python bench/parse_speed.py --scale 0.4     # the same at 0.4 times the sizes
    .venv/bin/python bench/parse_speed.py --small         # a quick smoke run (a few MB)
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import make_corpus  # noqa: E402
import parse_memory  # noqa: E402

PYTHON = sys.executable
SAMPLES = ROOT.parent / "shared" / "data" / "samples"
GDELT_SAMPLE = SAMPLES / "gdelt" / "20191024143000.export.CSV"
VOETEN_SAMPLE = SAMPLES / "unga" / "voeten_UNVotesPublished_session68.csv"
WORK = ROOT / "var" / "bench" / "parse_speed"
MB = 1024 * 1024

_HWM = """
import resource
def _mem():
    hwm = 0
    with open('/proc/self/status') as fh:
        for line in fh:
            if line.startswith('VmHWM:'):
                hwm = int(line.split()[1])
    return {"hwm_kb": hwm, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
"""

CHILD_PARSE = _HWM + """
import json, sys, time
from pathlib import Path
from pipeline.parse import parse_files
t0, c0 = time.perf_counter(), time.process_time()
result = parse_files(sys.argv[1], [Path(sys.argv[2])], Path(sys.argv[3]), max_bytes=1 << 40)
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"seconds": seconds, "cpu": cpu, **_mem(), "counts": result.counts}))
"""

CHILD_LXML = _HWM + """
import json, sys, time
from lxml import etree
t0, c0 = time.perf_counter(), time.process_time()
n = 0
for _, elem in etree.iterparse(sys.argv[1], events=("end",), resolve_entities=False, no_network=True,
                               load_dtd=False, huge_tree=True):
    n += 1
    elem.clear(keep_tail=True)
    while elem.getprevious() is not None:
        del elem.getparent()[0]
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"seconds": seconds, "cpu": cpu, **_mem(), "elements": n}))
"""

CHILD_COPY = _HWM + """
import json, sys, time
import duckdb
con = duckdb.connect()
con.execute("set threads = 2")
t0, c0 = time.perf_counter(), time.process_time()
con.execute(f"copy (select * from read_csv('{sys.argv[1]}', delim='{sys.argv[3]}', header={sys.argv[4]})) "
            f"to '{sys.argv[2]}' (format parquet, compression zstd)")
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
rows = con.execute(f"select count(*) from '{sys.argv[2]}'").fetchone()[0]
print(json.dumps({"seconds": seconds, "cpu": cpu, **_mem(), "rows": rows}))
"""

# The votes the agreement models read (int_unga_votes), from the staged sample, repeated over
# ``sessions`` sessions with distinct roll-call ids.
VOTES_SETUP = """
create table int_unga_votes as
with v as (select * from read_parquet('{staged}/unga_votes/**/*.parquet')),
r as (select * from read_parquet('{staged}/unga_rollcalls/**/*.parquet')),
tally as (select rcid, count(distinct vote_code) filter (where vote_code between 1 and 3) > 1 as is_contested
          from v group by rcid),
k as (select range as k from range({sessions}))
select cast(v.rcid as bigint) + k.k * 1000000 as rcid, cast(r.session as integer) + cast(k.k as integer) as session,
       cast(year(r.vote_date) as integer) + cast(k.k as integer) as vote_year, r.vote_date, tally.is_contested,
       v.country_iso2, v.country_code_raw, cast(v.vote_code as integer) as vote_code
from v join r using (rcid) join tally using (rcid) cross join k;
create table stg_ref__countries as
select distinct country_iso2, country_iso2 || ' name' as country_name from int_unga_votes
where country_iso2 is not null;
"""

ONE_QUERY = """
create table agreement_one_query as
with v as (
    select rcid, session, vote_year, country_iso2 as c, vote_code as x from int_unga_votes
    where is_contested and country_iso2 is not null and vote_code between 1 and 3
),
counted as (
    select case when grouping(a.session) = 0 then 'session' else 'year' end as period_type,
           case when grouping(a.session) = 0 then a.session else a.vote_year end as period,
           a.c as country_a, b.c as country_b, count(*) as n,
           count(*) filter (where a.x = b.x) as same, sum(abs(a.x - b.x)) as dist,
           count(*) filter (where a.x = 1) as a1, count(*) filter (where a.x = 2) as a2,
           count(*) filter (where a.x = 3) as a3, count(*) filter (where b.x = 1) as b1,
           count(*) filter (where b.x = 2) as b2, count(*) filter (where b.x = 3) as b3
    from v as a join v as b on a.rcid = b.rcid and a.c < b.c
    group by grouping sets ((a.session, a.c, b.c), (a.vote_year, a.c, b.c))
)
select period_type, period, country_a, country_b, n as common_votes,
       case when n >= 10 then same / n end as pct_identical,
       case when n >= 10 then 1 - dist / (2.0 * n) end as agreement,
       case when n >= 10 then 1 - 2 * dist / (2.0 * n) end as s_score,
       case when n >= 10 then 1 - (dist / (2.0 * n))
            / nullif((a1 * b2 + a2 * b1 + a2 * b3 + a3 * b2 + 2 * (a1 * b3 + a3 * b1)) / (2.0 * n * n), 0) end
           as kappa
from counted
"""

CHILD_MART = _HWM + """
import json, sys, time
import duckdb
con = duckdb.connect(sys.argv[1])
con.execute("set threads = 2")
statements = json.loads(sys.argv[2])
t0, c0 = time.perf_counter(), time.process_time()
for sql in statements:
    con.execute(sql)
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
rows = con.execute(f"select count(*) from {sys.argv[3]}").fetchone()[0]
for table in sys.argv[3:]:
    kind = con.execute("select count(*) from duckdb_views() where view_name = ?", [table]).fetchone()[0]
    con.execute(f"drop {'view' if kind else 'table'} {table}")
print(json.dumps({"seconds": seconds, "cpu": cpu, **_mem(), "rows": rows}))
"""

_REF = re.compile(r"\{\{\s*ref\('([a-z0-9_]+)'\)\s*\}\}")


def model_sql(name: str) -> str:
    """A model of sql/models as plain SQL: its refs become the relations of the same name. As dbt builds it
    (sql/dbt_project.yml): an intermediate model is a view, a mart a table."""
    path = next((ROOT / "sql" / "models").rglob(f"{name}.sql"))
    text = _REF.sub(r"\1", path.read_text(encoding="utf-8"))
    if "{{" in text or "{%" in text:
        raise SystemExit(f"parse_speed: {path} uses Jinja beyond ref(); render it another way")
    kind = "view" if path.parent.name == "intermediate" else "table"
    return f"create {kind} {name} as {text}"


def run_child(code: str, *args: str, cwd: Path = ROOT) -> dict:
    """``code`` in a fresh interpreter run from ``cwd`` (its ``pipeline`` package is the one imported)."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run([PYTHON, "-c", code, *args], capture_output=True, text=True, cwd=cwd, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"parse_speed: child in {cwd} failed (exit {proc.returncode}): {' '.join(args)[:300]}\n"
                         f"{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


@dataclass
class Result:
    name: str
    size: str
    input_mb: float
    seconds: float
    base_seconds: float
    cpu_ratio: float
    rss_mb: float
    base_rss_mb: float
    maxrss_mb: float
    detail: str

    @property
    def ratio(self) -> float:
        return self.seconds / self.base_seconds


def write_chunks(dest: Path, chunks) -> float:
    with open(dest, "w", encoding="utf-8", newline="") as out:
        for chunk in chunks:
            out.write(chunk)
    return dest.stat().st_size / MB


#: Another copy of the project (e.g. ``git archive <rev> | tar -x -C /tmp/before``) whose XML parsers
#: also parse each XML file, in the same run: the before/after comparison of a parser change.
BEFORE_ENV = "PARSE_SPEED_XML_BEFORE"


def bench_xml(source_id: str, copies: int, work: Path) -> Result:
    """The project's parse of a scaled XML file against an lxml walk of it; with ``PARSE_SPEED_XML_BEFORE``
    set, the other copy's parse of the same file too (its ratios go in the detail column)."""
    source = parse_memory.SOURCES[source_id]
    text = source.template.read_text(encoding="utf-8")
    path = work / f"{source_id}-{copies}x.xml"
    parse_memory.generate(source, text, copies, path)
    mb = path.stat().st_size / MB
    out = Path(tempfile.mkdtemp(dir=work))
    ours = run_child(CHILD_PARSE, source_id, str(path), str(out))
    base = run_child(CHILD_LXML, str(path))
    before = None
    if os.environ.get(BEFORE_ENV):
        shutil.rmtree(out)
        out.mkdir()
        before = run_child(CHILD_PARSE, source_id, str(path), str(out), cwd=Path(os.environ[BEFORE_ENV]))
        if before["counts"] != ours["counts"]:
            print(f"  note: {source_id}: the before code staged {before['counts']}, this one {ours['counts']}",
                  file=sys.stderr)
    shutil.rmtree(out)
    rows = sum(v for k, v in ours["counts"].items() if k != "parse_audit")
    detail = f"{rows} rows, {base['elements']} elements"
    if before is not None:
        detail += (f"; before: {before['seconds']:.2f} s, cpu {before['cpu']:.2f} s "
                   f"(ratio {before['cpu'] / base['cpu']:.2f}), {before['hwm_kb'] / 1024:.0f} MB; "
                   f"cpu after {ours['cpu']:.2f} s, base {base['cpu']:.2f} s")
    return Result(f"XML {source_id}", f"{copies} copies", mb, ours["seconds"], base["seconds"],
                  ours["cpu"] / base["cpu"],
                  ours["hwm_kb"] / 1024, base["hwm_kb"] / 1024, ours["maxrss_kb"] / 1024, detail)


def bench_csv(source_id: str, sample: Path, copies: int, work: Path, delim: str, header: bool) -> Result:
    text = sample.read_text(encoding="utf-8")
    path = work / f"{source_id}-{copies}x{sample.suffix.lower()}"
    if source_id == "gdelt_events":
        mb = write_chunks(path, make_corpus.gdelt_chunks(text, copies))
    else:
        rcids = [int(r["rcid"]) for r in csv.DictReader(io.StringIO(text))]
        mb = write_chunks(path, make_corpus.csv_chunks(text, copies, make_corpus._offset(rcids)))
    out = Path(tempfile.mkdtemp(dir=work))
    ours = run_child(CHILD_PARSE, source_id, str(path), str(out))
    base = run_child(CHILD_COPY, str(path), str(out / "copy.parquet"), "\\t" if delim == "\t" else delim,
                     "true" if header else "false")
    shutil.rmtree(out)
    rows = max(v for k, v in ours["counts"].items() if k != "parse_audit")
    if rows != base["rows"]:
        print(f"  note: {source_id} staged {rows} rows, DuckDB's copy {base['rows']}", file=sys.stderr)
    return Result(f"{source_id} parse", f"{copies} copies", mb, ours["seconds"], base["seconds"],
                  ours["cpu"] / base["cpu"],
                  ours["hwm_kb"] / 1024, base["hwm_kb"] / 1024, ours["maxrss_kb"] / 1024, f"{rows} rows")


def bench_mart(sessions: int, work: Path) -> Result:
    staged = work / "unga-staged"
    if not staged.exists():
        run_child(CHILD_PARSE, "unga_votes", str(VOETEN_SAMPLE), str(staged))
    db = work / f"unga-{sessions}.duckdb"
    db.unlink(missing_ok=True)
    import duckdb

    with duckdb.connect(str(db)) as con:
        con.execute(VOTES_SETUP.format(staged=staged.as_posix(), sessions=sessions))
        votes = con.execute("select count(*) from int_unga_votes").fetchone()[0]
    project = [model_sql("int_unga_dyad_vote_counts"), model_sql("mart_unga_agreement")]
    ours = run_child(CHILD_MART, str(db), json.dumps(project), "mart_unga_agreement", "int_unga_dyad_vote_counts")
    base = run_child(CHILD_MART, str(db), json.dumps([ONE_QUERY]), "agreement_one_query")
    if ours["rows"] != base["rows"]:
        print(f"  note: the mart has {ours['rows']} rows, the one query {base['rows']}", file=sys.stderr)
    db.unlink()
    return Result("agreement mart", f"{sessions} sessions", 0.0, ours["seconds"], base["seconds"],
                  ours["cpu"] / base["cpu"],
                  ours["hwm_kb"] / 1024, base["hwm_kb"] / 1024, ours["maxrss_kb"] / 1024,
                  f"{votes} votes, {ours['rows']} rows")


TARGETS = {"XML us_ofac_sdn": 2.0, "XML un_sc": 2.0, "gdelt_events parse": 1.3, "unga_votes parse": 2.0,
           "agreement mart": 1.5}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", action="store_true", help="a quick smoke run on small inputs")
    ap.add_argument("--only", default="", help="comma-separated: xml,gdelt,unga,mart (default all)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every size by this (e.g. 0.5 on a busy machine)")
    ap.add_argument("--keep", action="store_true", help="keep the generated inputs under var/bench/parse_speed")
    args = ap.parse_args(argv)
    only = set(filter(None, args.only.split(","))) or {"xml", "gdelt", "unga", "mart"}
    # (OFAC copies, UN copies, GDELT copies, UN votes copies, sessions) at two sizes
    sizes = [(2, 20, 10, 10, 10), (4, 40, 20, 20, 20)] if args.small else \
        [(25, 250, 250, 100, 40), (50, 500, 500, 200, 80)]
    sizes = [tuple(max(1, round(n * args.scale)) for n in size) for size in sizes]
    WORK.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=WORK))
    results: list[Result] = []
    try:
        for ofac, un, gdelt, unga, sessions in sizes:
            if "xml" in only:
                results.append(bench_xml("us_ofac_sdn", ofac, work))
                results.append(bench_xml("un_sc", un, work))
            if "gdelt" in only:
                results.append(bench_csv("gdelt_events", GDELT_SAMPLE, gdelt, work, "\t", False))
            if "unga" in only:
                results.append(bench_csv("unga_votes", VOETEN_SAMPLE, unga, work, ",", True))
            if "mart" in only:
                results.append(bench_mart(sessions, work))
            for path in work.glob("*.*"):
                if path.is_file() and not args.keep:
                    path.unlink()
            print(f"  measured {results[-1].size} ...", file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"parse_speed: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    print(f"{'what':20} {'size':>13} {'MB':>7} {'ours s':>8} {'base s':>8} {'ratio':>6} {'cpu':>6} {'target':>6} "
          f"{'ours MB':>8} {'base MB':>8} {'maxrss':>7}  detail")
    for r in results:
        target = TARGETS.get(r.name)
        print(f"{r.name:20} {r.size:>13} {r.input_mb:7.1f} {r.seconds:8.2f} {r.base_seconds:8.2f} "
              f"{r.ratio:6.2f} {r.cpu_ratio:6.2f} {target or 0:6.1f} "
              f"{r.rss_mb:8.0f} {r.base_rss_mb:8.0f} {r.maxrss_mb:7.0f}  {r.detail}")
    print("ratio = ours / baseline wall time (same file, same run); cpu = the same for CPU time (all threads), "
          "steadier on a loaded machine; MB = peak RSS (VmHWM) of the child; "
          "a streaming parser's peak should not grow from the first size to the second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
