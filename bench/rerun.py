"""An unchanged re-run against the first run on the demo (issue 17: < 10% of a full run).

Both runs are real ``pipeline run``s (Airflow embedded) on a fresh home, measured in the same
process one after the other: the first builds and publishes, the second lands the same files and
finds nothing changed (pipeline/rerun.py). The code is copied first (``pipeline/``, ``dags/``,
``expectations/``, ``sql/``) so edits made to the checkout meanwhile do not change the code
fingerprint between the two runs. Prints both times and the ratio.

    .venv/bin/python bench/rerun.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CODE = ("pipeline", "dags", "expectations", "sql")
IGNORE = shutil.ignore_patterns("__pycache__", "target", "logs", "dbt_packages", ".user.yml")


def snapshot_code(into: Path) -> Path:
    """A copy of the code a run uses, so the two runs run the same code."""
    for name in CODE:
        shutil.copytree(REPO / name, into / name, ignore=IGNORE)
    return into


def run(env: dict[str, str], code: Path) -> tuple[float, str]:
    started = time.perf_counter()
    # cwd: ``python -m`` puts the working folder first on the path, before PYTHONPATH
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run"], env=env, cwd=code, capture_output=True,
                          text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"pipeline run failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return seconds, proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="keep the home and the code copy in this folder")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-rerun-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        code = snapshot_code(work / "code") if not (work / "code").exists() else work / "code"
        env = {**os.environ, "PYTHONPATH": str(code), "PIPELINE_HOME": str(work / "home"),
               "PIPELINE_DEMO_DIR": str(REPO / "data" / "demo")}
        env.pop("PIPELINE_PROGRESS_FILE", None)
        # the Airflow metadata database is migrated once, before either measured run
        subprocess.run([sys.executable, "-c", "from pipeline import settings; from pipeline.airflow_run import "
                        "airflow_env, ensure_metadata_db; s = settings.load(); ensure_metadata_db(s, airflow_env(s))"],
                       env=env, cwd=code, check=True)
        first, _ = run(env, code)
        again, out = run(env, code)
        said = [line for line in out.splitlines() if "nothing changed since release" in line]
        print(f"first run          {first:7.1f} s")
        print(f"unchanged re-run   {again:7.1f} s   ({'unchanged: ' + said[-1].strip() if said else 'NOT skipped'})")
        print(f"ratio re-run/first {again / first:7.3f}   (target < 0.10)")
        return 0 if said else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
