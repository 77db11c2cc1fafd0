"""Run the pipeline DAG with Airflow itself, in the embedded mode (SQLite metadata, no services).

``pipeline run`` prepares a project-local ``AIRFLOW_HOME`` (``var/airflow``), migrates its
SQLite metadata database once, then runs ``python -m pipeline.airflow_run`` in a child process
with that environment: it loads ``dags/`` through Airflow's DagBag and executes one DagRun with
``dag.test()`` (every task in order, in-process, with real task instances, XComs and asset
events recorded in the metadata database).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime

from pipeline.settings import REPO_ROOT, Settings

DAG_ID = "sanctions_pipeline"


def airflow_env(settings: Settings) -> dict[str, str]:
    """Environment for the embedded mode; ``PIPELINE_AIRFLOW_EXTERNAL=1`` keeps the caller's own
    Airflow configuration (e.g. Postgres metadata) instead."""
    env = dict(os.environ)
    env.setdefault("GX_ANALYTICS_ENABLED", "False")
    env.setdefault("PIPELINE_HOME", str(settings.home))
    if env.get("PIPELINE_AIRFLOW_EXTERNAL") == "1":
        return env
    home = settings.airflow_home
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
    })
    return env


def ensure_metadata_db(settings: Settings, env: dict[str, str]) -> None:
    """Create/upgrade the SQLite metadata database (quick no-op once it is current)."""
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    marker = settings.airflow_home / ".migrated"
    if marker.exists() and (settings.airflow_home / "airflow.db").exists():
        return
    print("Preparing Airflow's metadata database (first run only)...", flush=True)
    log = settings.airflow_home / "db-migrate.log"
    with open(log, "w") as fh:
        proc = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env,
                              stdout=fh, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"airflow db migrate failed (exit {proc.returncode}); see {log}")
    marker.write_text(datetime.now().isoformat())


def run_pipeline(settings: Settings, logical_date: str | None = None) -> int:
    """Run one DagRun of the pipeline DAG; returns the child's exit code (0 = success)."""
    env = airflow_env(settings)
    if env.get("PIPELINE_AIRFLOW_EXTERNAL") != "1":
        ensure_metadata_db(settings, env)
    cmd = [sys.executable, "-m", "pipeline.airflow_run"] + ([logical_date] if logical_date else [])
    return subprocess.run(cmd, env=env, check=False).returncode


def main(argv: list[str]) -> int:
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    if bag.import_errors:
        for path, err in bag.import_errors.items():
            print(f"DAG import error in {path}:\n{err}", file=sys.stderr)
        return 2
    dag = bag.get_dag(DAG_ID)
    logical = pendulum.parse(argv[0]) if argv else pendulum.now("UTC")
    started = time.perf_counter()
    run = dag.test(logical_date=logical)
    state = str(getattr(run, "state", "unknown"))
    print(f"DagRun {run.run_id}: {state} in {time.perf_counter() - started:.1f}s", flush=True)
    return 0 if state.endswith("success") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
