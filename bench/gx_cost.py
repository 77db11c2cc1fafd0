#!/usr/bin/env python
"""Benchmark: what Great Expectations costs in a ``pipeline run`` (issue 17: GX < 20% of a run).

1. **Import.** Fresh interpreters: ``import pipeline.validation`` (must not import GX: it is
   imported on the first validation, once per process) and ``import great_expectations``.
2. **The run.** ``pipeline run`` (embedded Airflow) in a new temporary ``PIPELINE_HOME``, with the
   arguments after ``--`` (none: the demo). Wall seconds, the run's ``[k/n] step ... in X s`` lines
   and the GX share: (validate raw + validate staged + validate marts) / the run's wall time. The
   first validation of the run (raw) carries the GX import.
3. **Same run, same tables: the checks against the way they were made before.** On the run's
   outputs (the published database's marts; each source's current snapshot of the lake), in this
   process, after one GX import:

   - *now*: the stage as the run checks it: each table a DuckDB relation (marts with their helper
     columns from ``expectations.marts.prepare_relations``), every rule evaluated in DuckDB, GX
     judging one row per rule (``pipeline.validation.validate_stage``);
   - *baseline "whole tables in pandas"*: every table read into pandas (``con.sql(...).df()``), the
     helper columns added to the frames, and GX validating the suite's own expectations on each whole
     frame (``ValidationDefinition.run``, result format SUMMARY), as ``pipeline.validation`` did
     before.

   Both without Data Docs. It prints seconds, the ratio now / baseline, and the rows moved into
   pandas (baseline: every row of every table; now: one row per rule). Both must reach the same
   verdict (a suite passes or fails the same way), or the benchmark exits 1.
   *now* also prints its phases (``pipeline.validation.phase_seconds``; empty with older code).
4. **Where the run's GX seconds go.** The ``validated <stage>`` lines of the run's log
   (``<home>/airflow/logs/pipeline-run-*.log``): per stage, the seconds of each phase (``rules`` in
   DuckDB, ``gx`` verdicts, ``docs`` Data Docs, ``context``), and the GX import line.
5. **``preload()``** (``--preload N``, default 2 pairs): fresh interpreters that do what the run's
   process does before its first validation (import Airflow, parse the DAG folder with ``DagBag``),
   then validate one small suite; with ``pipeline.validation.preload()`` called first and without,
   alternated. Seconds to the end of the first validation (wall and CPU), and the ratio.
6. **``preload()`` in a run** (``--preload-run``): the same ``pipeline run`` again in a new home, its
   Airflow process calling ``preload()`` once the DAG folder is parsed (before ``dag.test``); its
   wall time, its ``validate raw`` step (which carries the GX import) and its GX share against the
   first run's, and the import line. Compare the runs' wall times: the GX steps shrink because the
   import moves out of them, into Airflow's start-up.

Exits non-zero when the run or a check fails, never because a figure misses a target.

    .venv/bin/python bench/gx_cost.py                      # the demo
    .venv/bin/python bench/gx_cost.py -- --accept-small-lists \\
        --input us_ofac_sdn=../shared/data/samples/ofac/sdn_csv_2024-05-03_head \\
        --input ca_sema=../shared/data/samples/ca/sema-lmes_2025-05.xml \\
        --input un_sc=../shared/data/samples/un/consolidated_2020-03-20_full.xml
    .venv/bin/python bench/gx_cost.py --home var/bench/gx-home --keep      # keep the run's home
    .venv/bin/python bench/gx_cost.py --preload 0                          # skip part 5
    .venv/bin/python bench/gx_cost.py --preload 0 --preload-run            # part 6, not 5
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
PIPELINE = str(Path(PYTHON).with_name("pipeline"))
STEP = re.compile(r"^\[(\d+)/(\d+)\] ([^:]+): (.*) in ([\d.]+) s\s*$")
GX_STEPS = ("validate raw", "validate staged", "validate marts")
VALIDATED = re.compile(r"validated (raw|staged|marts)(?: \(([^)]*)\))?: (\d+) suite\(s\).* in ([\d.]+)s \(([^)]*)\)")
IMPORTED = re.compile(r"(imported Great Expectations in|waited) ([\d.]+)s")


def _import_seconds(statement: str) -> tuple[float, bool]:
    """Seconds a fresh interpreter takes to run ``statement``, and whether GX got imported."""
    code = (f"import sys, time; t = time.perf_counter(); {statement}; "
            "print(time.perf_counter() - t, 'great_expectations' in sys.modules)")
    out = subprocess.run([PYTHON, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "GX_ANALYTICS_ENABLED": "False"})
    seconds, imported = out.stdout.split()
    return float(seconds), imported == "True"


#: ``pipeline run`` whose Airflow process calls ``pipeline.validation.preload()`` once its DAG folder is
#: parsed (right before ``dag.test``): what a call in ``pipeline.airflow_run.main`` would do.
_RUN_WITH_PRELOAD = '''
import sys
from pipeline import airflow_run

CHILD = """
from airflow.dag_processing import dagbag as _dagbag
_init = _dagbag.DagBag.__init__
def _parsed_then_preload(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    from pipeline import validation
    validation.preload()
_dagbag.DagBag.__init__ = _parsed_then_preload
import runpy
runpy.run_module("pipeline.airflow_run", run_name="__main__", alter_sys=True)
"""
_run_child = airflow_run.run_child
def run_child(cmd, env, **kwargs):
    if list(cmd[1:3]) == ["-m", "pipeline.airflow_run"]:
        cmd = [cmd[0], "-c", CHILD, *cmd[3:]]
    return _run_child(cmd, env, **kwargs)
airflow_run.run_child = run_child
from pipeline.cli import main
sys.exit(main(sys.argv[1:]))
'''


def _run(home: Path, args: list[str], preload: bool = False) -> tuple[float, dict[str, float], str]:
    env = {**os.environ, "PIPELINE_HOME": str(home), "GX_ANALYTICS_ENABLED": "False"}
    started = time.perf_counter()
    cmd = [PYTHON, "-c", _RUN_WITH_PRELOAD] if preload else [PIPELINE]
    proc = subprocess.run([*cmd, "run", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        print(proc.stdout[-4000:], proc.stderr[-4000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"pipeline run failed (exit {proc.returncode})")
    steps: dict[str, float] = {}
    for line in proc.stdout.splitlines():
        m = STEP.match(line.strip())
        if m:
            steps[m.group(3)] = steps.get(m.group(3), 0.0) + float(m.group(5))
    return wall, steps, proc.stdout


# --------------------------------------------------------------------------- the baseline: whole frames in GX


def _dates_as_datetimes(df):
    """What the runner did before: object columns of ``datetime.date`` become ``datetime64``."""
    import pandas as pd

    converted = {}
    for col in df.columns:
        values = df[col].dropna() if df[col].dtype == object else None
        if values is None or values.empty:
            continue
        if all(isinstance(v, date) and not isinstance(v, datetime) for v in values):
            converted[col] = pd.to_datetime(df[col])
    return df.assign(**converted) if converted else df


class WholeFrames:
    """GX validating a suite's own expectations on a whole pandas frame (the baseline)."""

    def __init__(self) -> None:
        from pipeline.validation import DATASOURCE, _context, _gx

        self.gx = _gx().gx
        self.ctx = _context(None)  # in memory, no progress bars: as the runner's
        self.source = self.ctx.data_sources.get(DATASOURCE)
        self.n = 0

    def validate(self, suite, frame) -> bool:
        self.n += 1
        name = f"b{self.n}.{suite.name}"
        batch = self.source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe("whole")
        copy = self.gx.ExpectationSuite(name=name, expectations=[e.configuration.to_domain_obj()
                                                                 for e in suite.expectations])
        stored = self.ctx.suites.add(copy)
        definition = self.ctx.validation_definitions.add(
            self.gx.ValidationDefinition(name=name, data=batch, suite=stored))
        result = definition.run(batch_parameters={"dataframe": _dates_as_datetimes(frame)}, result_format="SUMMARY")
        critical = [r for r in result.results if not r.success and (
            str(getattr(r.expectation_config.severity, "value", r.expectation_config.severity)) == "critical"
            or r.exception_info.get("raised_exception"))]
        return not critical


def phase_seconds(reset: bool = False) -> dict[str, float]:
    """``pipeline.validation.phase_seconds`` (empty with the code before issue 17's phases)."""
    from pipeline import validation

    own = getattr(validation, "phase_seconds", None)
    return own(reset=reset) if own else {}


def _marts(db: Path) -> tuple[dict, dict]:
    """(now, baseline) on the published database's marts."""
    import duckdb

    from expectations.marts import mart_suites, prepare_all, prepare_relations
    from pipeline.validation import validate_stage

    suites = mart_suites()
    con = duckdb.connect(str(db), read_only=True)
    try:
        started = time.perf_counter()
        phase_seconds(reset=True)
        reports = validate_stage("marts", prepare_relations(con, list(suites)), suites, raise_on_failure=False)
        now = {"seconds": time.perf_counter() - started, "suites": len(reports), "phases": phase_seconds(),
               "pandas_rows": sum(r.evaluated for r in reports),
               "verdict": {r.suite: r.success for r in reports}}
        started = time.perf_counter()
        frames = {m: con.sql(f"select * from {m}").df() for m in suites}
        rows = sum(len(f) for f in frames.values())
        frames = prepare_all(frames)
        runner = WholeFrames()
        verdict = {suite.name: runner.validate(suite, frames[m]) for m, suite in suites.items()}
        base = {"seconds": time.perf_counter() - started, "suites": len(verdict), "pandas_rows": rows,
                "verdict": verdict}
    finally:
        con.close()
    return now, base


def _staged(home: Path) -> tuple[dict, dict]:
    """(now, baseline) on each source's current snapshot of the run's lake."""
    import duckdb

    from expectations.staged_alignment import prepare
    from pipeline import flow
    from pipeline.settings import load
    from pipeline.validation import validate_stage

    os.environ["PIPELINE_HOME"] = str(home)
    if "--accept-small-lists" in sys.argv:  # as the run read its suites
        os.environ["PIPELINE_ACCEPT_SMALL_LISTS"] = "1"
    settings = load()
    lake = settings.staged_dir
    sources = sorted({p.name.removeprefix("source=") for p in lake.glob("*/source=*")})
    now = {"seconds": 0.0, "suites": 0, "pandas_rows": 0, "verdict": {}}
    base = {"seconds": 0.0, "suites": 0, "pandas_rows": 0, "verdict": {}}
    runner = WholeFrames()
    phase_seconds(reset=True)
    for source in sources:
        snapshot = sorted({p.name.removeprefix("snapshot_date=")
                           for p in lake.glob(f"*/source={source}/snapshot_date=*")})[-1]
        demo = not any(a.startswith(f"{source}=") for a in sys.argv)
        suites = flow.staged_suites_for(source, demo, date.fromisoformat(snapshot), settings)
        con = duckdb.connect()
        try:
            started = time.perf_counter()
            relations = flow._staged_frames(con, lake, source, snapshot, list(suites))
            frames = {t: prepare(t, f) for t, f in relations.items()}
            reports = validate_stage("staged", frames, suites, run_name=source, raise_on_failure=False)
            now["seconds"] += time.perf_counter() - started
            now["phases"] = phase_seconds()
            now["suites"] += len(reports)
            now["pandas_rows"] += sum(r.evaluated for r in reports)
            now["verdict"].update({f"{source}:{r.suite}": r.success for r in reports})
            started = time.perf_counter()
            whole = {t: prepare(t, rel.df()) for t, rel in flow._staged_frames(con, lake, source, snapshot,
                                                                              list(suites)).items()}
            base["pandas_rows"] += sum(len(f) for f in whole.values())
            for table, suite in suites.items():
                base["verdict"][f"{source}:{suite.name}"] = runner.validate(suite, whole[table])
            base["seconds"] += time.perf_counter() - started
            base["suites"] += len(suites)
        finally:
            con.close()
    return now, base


def _run_phases(home: Path) -> tuple[dict[str, dict[str, float]], dict[str, int], list[str]]:
    """Per stage, the seconds of each validation phase, from the ``validated`` lines of the run's log;
    the GX results written per stage; the GX import lines."""
    phases: dict[str, dict[str, float]] = {}
    results: dict[str, int] = {}
    imports: list[str] = []
    for log_file in sorted((home / "airflow" / "logs").glob("pipeline-run-*.log")):
        for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
            m = VALIDATED.search(line)
            if m:
                stage = m.group(1)
                results[stage] = results.get(stage, 0) + 1
                into = phases.setdefault(stage, {})
                into["total"] = into.get("total", 0.0) + float(m.group(4))
                for part in filter(None, (p.strip() for p in m.group(5).split(","))):
                    name, _, value = part.rpartition(" ")
                    into[name] = into.get(name, 0.0) + float(value.rstrip("s"))
            elif (m := IMPORTED.search(line)) and "Great Expectations" in line:
                imports.append(f"{m.group(1)} {m.group(2)} s")
    return phases, results, imports


_PRELOAD_CHILD = """
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import pandas as pd
from pipeline import validation
if sys.argv[1] == "1":
    validation.preload()
from airflow.dag_processing.dagbag import DagBag  # what pipeline.airflow_run does before its first task
bag = DagBag(dag_folder=sys.argv[2])
assert not bag.import_errors, bag.import_errors
t1 = time.perf_counter()
from expectations import gx_modules, stage_suites
_gx, gxe = gx_modules()
suite = stage_suites("marts", {"things": [gxe.ExpectColumnValuesToNotBeNull(column="id")]})["things"]
(report,) = validation.validate_stage("marts", {"things": pd.DataFrame({"id": [1, 2, 3]})}, {"things": suite})
assert report.success
print(json.dumps({"airflow": t1 - t0, "first_validation": time.perf_counter() - t1,
                  "total": time.perf_counter() - t0, "cpu": time.process_time() - c0}))
"""


def _preload_pairs(home: Path, pairs: int) -> None:
    """Fresh processes: Airflow's start, then a first validation, with and without ``preload()``."""
    from pipeline.airflow_run import airflow_env
    from pipeline.settings import load

    os.environ["PIPELINE_HOME"] = str(home)
    env = airflow_env(load())
    runs: dict[str, list[dict]] = {"without": [], "with": []}
    for _ in range(pairs):
        for label, flag in (("without", "0"), ("with", "1")):
            out = subprocess.run([PYTHON, "-c", _PRELOAD_CHILD, flag, str(ROOT / "dags")], cwd=ROOT, env=env,
                                 capture_output=True, text=True)
            if out.returncode != 0:
                print(out.stderr[-3000:], file=sys.stderr)
                raise SystemExit("the preload benchmark's child failed")
            runs[label].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"\npreload() (fresh processes: import Airflow + DagBag, then a first validation; {pairs} pair(s), "
          f"load {os.getloadavg()[0]:.1f})")
    mean = {k: {f: sum(r[f] for r in v) / len(v) for f in v[0]} for k, v in runs.items()}
    for label in ("without", "with"):
        m = mean[label]
        print(f"  {label:<8} Airflow start {m['airflow']:6.2f} s   first validation {m['first_validation']:6.2f} s   "
              f"total {m['total']:6.2f} s wall, {m['cpu']:6.2f} s CPU")
    first = mean["with"]["first_validation"] / mean["without"]["first_validation"]
    print(f"  first validation with / without {first:.2f}x; total with / without "
          f"{mean['with']['total'] / mean['without']['total']:.2f}x")


def _preload_run(run_args: list[str], wall: float, steps: dict[str, float]) -> None:
    """The same run again, in a new home, with ``preload()`` in its Airflow process (part 6)."""
    other = Path(tempfile.mkdtemp(prefix="gx-cost-preload-"))
    try:
        wall2, steps2, _out = _run(other, run_args, preload=True)
        _phases, _results, imports = _run_phases(other)
    finally:
        shutil.rmtree(other, ignore_errors=True)
    gx, gx2 = (sum(s.get(k, 0.0) for k in GX_STEPS) for s in (steps, steps2))
    print(f"\npreload() in the run's Airflow process (after its DagBag, before dag.test; "
          f"load {os.getloadavg()[0]:.1f})")
    print(f"  {'':<10} {'run':>8} {'validate raw':>13} {'GX steps':>9} {'GX share':>9}")
    for label, w, st, g in (("without", wall, steps, gx), ("with", wall2, steps2, gx2)):
        print(f"  {label:<10} {w:7.1f}s {st.get('validate raw', 0.0):12.1f}s {g:8.1f}s {100 * g / w:8.1f}%")
    raw = steps2.get("validate raw", 0.0) / max(steps.get("validate raw", 0.0), 1e-9)
    print(f"  with / without: run {wall2 / wall:.2f}x, validate raw {raw:.2f}x; the GX import in the run with "
          f"preload(): {'; '.join(imports) or 'no line'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, help="the run's PIPELINE_HOME (default: a new temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the run's home")
    parser.add_argument("--preload", type=int, default=2, metavar="N",
                        help="pairs of fresh processes measuring preload() (0: skip)")
    parser.add_argument("--preload-run", action="store_true",
                        help="run the pipeline a second time with preload() in its Airflow process")
    parser.add_argument("run_args", nargs="*", help="arguments of `pipeline run` (after --)")
    args = parser.parse_args()

    print(f"# bench/gx_cost.py  {datetime.now().isoformat(timespec='seconds')}  {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}  pipeline run {' '.join(args.run_args) or '(demo)'}")
    lazy, lazy_gx = _import_seconds("import pipeline.validation")
    gx_import, _ = _import_seconds("import great_expectations")
    print(f"import pipeline.validation     {lazy:6.2f} s  (imports GX: {'yes' if lazy_gx else 'no'})")
    print(f"import great_expectations      {gx_import:6.2f} s  (once per process, on the first validation)")

    home = args.home or Path(tempfile.mkdtemp(prefix="gx-cost-"))
    try:
        wall, steps, _out = _run(home, args.run_args)
        gx = sum(steps.get(s, 0.0) for s in GX_STEPS)
        print(f"\npipeline run                   {wall:6.1f} s wall")
        for step, seconds in steps.items():
            print(f"  {step:<28} {seconds:6.1f} s  {100 * seconds / wall:5.1f}%")
        print(f"GX share of the run            {gx:6.1f} s  {100 * gx / wall:5.1f}%  (validate raw + staged + marts, "
              "the GX import included)")
        phases, results, imports = _run_phases(home)
        print(f"\nthe run's validations, by phase (its log): {'; '.join(imports) or 'no GX import line'}")
        names = sorted({k for v in phases.values() for k in v} - {"total"})
        print(f"  {'stage':<8} {'calls':>7} {'total':>8}" + "".join(f" {n:>8}" for n in names))
        for stage, into in phases.items():
            print(f"  {stage:<8} {results[stage]:7d} {into['total']:7.2f}s"
                  + "".join(f" {into.get(n, 0.0):7.2f}s" for n in names))

        from pipeline.validation import _gx

        _gx()
        db = home / "publish" / "current" / "sanctions.duckdb"
        failed = False
        print("\nsame tables, same run            now      baseline   now/baseline   rows into pandas (now / baseline)")
        for stage, (now, base) in (("staged", _staged(home)), ("marts", _marts(db))):
            print(f"  {stage:<8} {now['suites']:3d} suites   {now['seconds']:7.2f} s  {base['seconds']:7.2f} s"
                  f"   {now['seconds'] / base['seconds']:8.2f}x      {now['pandas_rows']:,} / {base['pandas_rows']:,}")
            print("           now by phase: " + ", ".join(f"{k} {v:.2f} s" for k, v in now.get("phases", {}).items()))
            differ = {k: (v, base["verdict"].get(k)) for k, v in now["verdict"].items() if base["verdict"].get(k) != v}
            if differ:
                failed = True
                print(f"  VERDICTS DIFFER ({stage}): {differ}", file=sys.stderr)
        if args.preload > 0:
            _preload_pairs(home, args.preload)
        if args.preload_run:
            _preload_run(args.run_args, wall, steps)
        return 1 if failed else 0
    finally:
        if args.keep or args.home:
            print(f"\nhome kept: {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
