"""Where the fixed cost of a demo ``pipeline run`` goes: the run's wall time minus its steps' own time
(issue 17, "Airflow, imports, bookkeeping").

Each measured run is a real ``pipeline run --force`` (Airflow embedded: one DagRun of the real DAG with
``dag.test()``) on a fresh ``PIPELINE_HOME`` whose metadata database was migrated just before (a
first-run-only cost, timed apart). Prints per run: wall and CPU seconds of the whole process tree
(``RUSAGE_CHILDREN``: the CLI, its Airflow child and whatever they waited for), the steps' own
seconds (their progress lines), the overhead (wall - steps), and a timeline from the progress file
(``pipeline run`` and its child mark their phases there: see :func:`pipeline.progress.mark`):

- CLI start -> child started: the CLI's imports, the lock, the sweep, the metadata check;
- child start -> first step: the child's imports, the DagBag parse, the run's set-up in dag.test();
- between steps: dag.test()'s per-task work (task instances, XComs, log handlers, SQLite commits)
  plus each task's own imports before its step's clock starts;
- last step -> CLI exit: the DagRun's end, the child's exit, the CLI's summary (headline).

    .venv/bin/python bench/airflow_overhead.py [--repeat 2] [--keep DIR]
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STEP = re.compile(r"^\[(\d+)/(\d+)\] (\S+)(?::| (\S+?):) .* in ([\d.]+) s$")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _env(home: Path, repo: Path = REPO) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_")}
    env.update(PIPELINE_HOME=str(home), DBT_SEND_ANONYMOUS_USAGE_STATS="false", PYTHONPATH=str(repo))
    return env


def migrate(home: Path, repo: Path = REPO) -> float:
    """Migrate the home's metadata database (what the first run does once); returns its wall seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from pipeline import settings; from pipeline.airflow_run import "
                    "airflow_env, ensure_metadata_db; s = settings.load(); ensure_metadata_db(s, airflow_env(s))"],
                   env=_env(home, repo), cwd=repo, check=True, capture_output=True)
    return time.perf_counter() - started


def timeline(home: Path, t0: float, t_end: float) -> list[tuple[str, float]]:
    """Segments of the run from its progress file (epoch seconds ``at`` on every record)."""
    files = sorted((home / "airflow" / "logs").glob("pipeline-run-*.progress.jsonl"))
    if not files:
        return []
    records = [json.loads(line) for line in files[-1].read_text().splitlines() if line.strip()]
    marks = {r["mark"]: r["at"] for r in records if "mark" in r}
    cpu = {r["mark"]: r["cpu"] for r in records if "mark" in r and "cpu" in r}
    segments: list[tuple[str, float]] = []
    first_start = next((r["at"] for r in records if "started" in r), None)
    child = marks.get("child_start")
    if child is not None:
        segments.append(("CLI start -> child process started (CLI imports, lock, sweep, DB check)",
                         marks.get("child_spawn", child) - t0))
        if "child_spawn" in marks:
            segments.append(("child spawned -> child's first line of Python (interpreter start)",
                             child - marks["child_spawn"]))
        order = ["child_start", "imports_done", "dagbag_loaded", "execution_api_ready", "dag_test_start"]
        names = {"imports_done": "child: Airflow imports", "dagbag_loaded": "child: DagBag parse of dags/",
                 "execution_api_ready": "child: metadata clean-up, in-process Execution API built",
                 "dag_test_start": "child: GX preload started, log processor, watcher"}
        prev, prev_key = child, "child_start"
        for key in order[1:]:
            if key in marks:
                used = f" [CPU {cpu[key] - cpu[prev_key]:.2f} s]" if key in cpu and prev_key in cpu else ""
                segments.append((names[key] + used, marks[key] - prev))
                prev, prev_key = marks[key], key
        if first_start is not None:
            segments.append(("dag.test() start -> first step starts (DagRun set-up, first task's imports)",
                             first_start - prev))
    elif first_start is not None:
        segments.append(("CLI start -> first step starts (everything before it)", first_start - t0))
    gap, last_end = 0.0, None
    for r in records:
        if "started" in r and last_end is not None:
            gap += max(0.0, r["at"] - last_end)
        if "seconds" in r and "step" in r:
            last_end = r["at"]
    segments.append(("between steps: a step's end -> the next one's start (summed)", gap))
    if last_end is not None:
        if "dag_test_end" in marks:
            segments.append(("last step ends -> dag.test() returns", marks["dag_test_end"] - last_end))
            if "child_exit" in marks:
                segments.append(("dag.test() returns -> child exits", marks["child_exit"] - marks["dag_test_end"]))
                segments.append(("child exits -> CLI exits (headline, shutdown)", t_end - marks["child_exit"]))
            else:
                segments.append(("dag.test() returns -> CLI exits", t_end - marks["dag_test_end"]))
        else:
            segments.append(("last step ends -> CLI exits", t_end - last_end))
    return segments


def one_run(work: Path, index: int, repo: Path = REPO) -> dict:
    home = work / f"home-{index}"
    migrated = migrate(home, repo)
    cpu0, t0, w0 = _children_cpu(), time.time(), time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--force"], env=_env(home, repo), cwd=repo,
                          capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - w0, _children_cpu() - cpu0
    t_end = t0 + wall
    if proc.returncode != 0:
        sys.exit(f"pipeline run failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    steps = [float(m.group(5)) for m in map(STEP.match, proc.stdout.splitlines()) if m]
    return {"migrate": migrated, "wall": wall, "cpu": cpu, "steps": sum(steps), "n_steps": len(steps),
            "timeline": timeline(home, t0, t_end)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", help="keep the homes in this folder")
    parser.add_argument("--code", type=Path, default=REPO,
                        help="run the code of this copy of the project (e.g. a copy taken before a change)")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-airflow-overhead-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        runs = []
        for i in range(args.repeat):
            runs.append(one_run(work, i, args.code.resolve()))
            r = runs[-1]
            print(f"run {i + 1}: wall {r['wall']:.1f} s, CPU {r['cpu']:.1f} s, steps {r['steps']:.1f} s "
                  f"({r['n_steps']} lines), overhead (wall - steps) {r['wall'] - r['steps']:.1f} s; "
                  f"migration before it {r['migrate']:.1f} s; load {os.getloadavg()[0]:.1f}", flush=True)
            for name, seconds in r["timeline"]:
                print(f"    {seconds:6.2f}  {name}")
        walls = [r["wall"] for r in runs]
        over = [r["wall"] - r["steps"] for r in runs]
        print(f"median wall {sorted(walls)[len(walls) // 2]:.1f} s, overhead {sorted(over)[len(over) // 2]:.1f} s, "
              f"CPU {sorted(r['cpu'] for r in runs)[len(runs) // 2]:.1f} s")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
