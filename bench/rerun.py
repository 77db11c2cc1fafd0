"""An unchanged re-run and a one-source change against the first run on the demo (issue 17:
an unchanged re-run < 10% of a full run; a changed source re-parses that source alone).

Three real ``pipeline run``s (Airflow embedded) on a fresh home, one after the other in this
process: the first builds and publishes; the second finds every input file, the code and the
settings unchanged and keeps the release before Airflow starts (pipeline/rerun.py); the third
runs after one file of one source (EU, ``fsf_1_1.xml``) changed and must parse that source
alone. The code and the demo files are copied first (``pipeline/``, ``dags/``,
``expectations/``, ``sql/``; ``data/demo``) so edits made to the checkout meanwhile do not change
the code fingerprint between the runs, and the third run's change stays in the copy. Prints the
wall and CPU time of each (CPU: the run's processes, the steadier figure on a busy machine), the
ratios to the first run, and the parse lines of the third run.

    .venv/bin/python bench/rerun.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CODE = ("pipeline", "dags", "expectations", "sql")
IGNORE = shutil.ignore_patterns("__pycache__", "target", "logs", "dbt_packages", ".user.yml")
CHANGED = Path("eu_fsf") / "fsf_1_1.xml"  # the file the third run changes (relative to the demo folder)


def snapshot_code(into: Path) -> Path:
    """A copy of the code a run uses, so the runs run the same code."""
    for name in CODE:
        shutil.copytree(REPO / name, into / name, ignore=IGNORE)
    return into


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(env: dict[str, str], code: Path) -> tuple[float, float, str]:
    """One ``pipeline run``: wall seconds, CPU seconds of its processes, its output."""
    cpu, started = _children_cpu(), time.perf_counter()
    # cwd: ``python -m`` puts the working folder first on the path, before PYTHONPATH
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run"], env=env, cwd=code, capture_output=True,
                          text=True, check=False)
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if proc.returncode != 0:
        sys.exit(f"pipeline run failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return seconds, cpu, proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="keep the home and the copies of the code and demo in this folder")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-rerun-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        code = snapshot_code(work / "code") if not (work / "code").exists() else work / "code"
        demo = work / "demo"
        if not demo.exists():
            shutil.copytree(REPO / "data" / "demo", demo)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_")}
        env.update({"PYTHONPATH": str(code), "PIPELINE_HOME": str(work / "home"), "PIPELINE_DEMO_DIR": str(demo)})
        # the Airflow metadata database is migrated once, before any measured run
        subprocess.run([sys.executable, "-c", "from pipeline import settings; from pipeline.airflow_run import "
                        "airflow_env, ensure_metadata_db; s = settings.load(); ensure_metadata_db(s, airflow_env(s))"],
                       env=env, cwd=code, check=True)
        first, first_cpu, _ = run(env, code)
        again, again_cpu, out = run(env, code)
        kept = [line for line in out.splitlines() if line.startswith("Nothing changed since release")]
        changed = demo / CHANGED
        changed.write_bytes(changed.read_bytes() + b"\n<!-- the next publication -->\n")
        one, one_cpu, out_one = run(env, code)
        parse_lines = [line for line in out_one.splitlines() if "] parse" in line]
        parsed = [line for line in parse_lines if "not parsed again" not in line]
        print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"{'run':<28}{'wall s':>8}{'CPU s':>8}{'wall/first':>12}{'CPU/first':>11}")
        for name, wall, cpu in (("first run", first, first_cpu), ("unchanged re-run", again, again_cpu),
                                ("one source changed (eu_fsf)", one, one_cpu)):
            print(f"{name:<28}{wall:8.1f}{cpu:8.1f}{wall / first:12.3f}{cpu / first_cpu:11.3f}")
        print(f"unchanged re-run: {kept[0][:120] + '...' if kept else 'NOT skipped'}   (target: < 0.10 of the first)")
        print("one source changed, its parse lines:")
        for line in parse_lines:
            print(f"  {line}")
        alone = len(parsed) == 1 and "parse eu_fsf:" in parsed[0]
        print(f"only the changed source parsed again: {'yes' if alone else 'NO'}")
        return 0 if kept and alone else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
