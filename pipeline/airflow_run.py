"""Run the pipeline DAG with Airflow itself, in the embedded mode (SQLite metadata, no services).

``pipeline run`` takes the run lock of the pipeline home (one run at a time, see
:mod:`pipeline.locking`), removes what earlier runs left behind (:func:`pipeline.housekeeping.sweep`),
prepares a project-local ``AIRFLOW_HOME`` (``var/airflow``), migrates its SQLite metadata database
once, then runs ``python -m pipeline.airflow_run`` in a child process with that environment: it
loads ``dags/`` through Airflow's DagBag and executes one DagRun with ``dag.test()`` (every task in
order, in-process, with real task instances, XComs and asset events recorded in the metadata
database). The child runs in its own process group; SIGINT/SIGTERM to ``pipeline run`` are
forwarded to that group, and whatever is still running after a grace period is killed.

A failed run leaves ``<home>/last_error.json`` (written atomically): :func:`last_error` reads it
and never raises, whatever state a full disk or a kill left it in.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pipeline.settings import REPO_ROOT, Settings

DAG_ID = "sanctions_pipeline"
ERROR_FILE = "last_error.json"
LOCK_TIMEOUT_ENV = "PIPELINE_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 3600.0
GRACE_SECONDS = 15.0
_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_DISK_FULL_TEXT = re.compile(r"no space left on device|disk quota exceeded|errno 28\b|database or disk is full",
                             re.IGNORECASE)
_LOW_SPACE_BYTES = 16 << 20

log = logging.getLogger(__name__)


class RunStopped(SystemExit):
    """``pipeline run`` was stopped by a signal; the exit code is 128 + the signal number."""


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


# --- the child process -------------------------------------------------------------------------

def run_child(cmd: list[str], env: dict[str, str], grace: float = GRACE_SECONDS,
              on_tick: Callable[[], None] | None = None, **popen: object) -> int:
    """Run ``cmd`` in its own process group and return its exit code; ``on_tick`` is called about
    five times a second while it runs (progress lines).

    SIGINT/SIGTERM received meanwhile are forwarded to the whole group; if the group has not
    exited ``grace`` seconds later it is killed, and :class:`RunStopped` is raised.
    """
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, **popen)  # noqa: S603
    received: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            pass

    previous = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, forward)
    except ValueError:  # not the main thread: signals stay with the caller
        pass
    try:
        deadline = None
        while True:
            if received and deadline is None:
                name = signal.Signals(received[0]).name
                print(f"\n{name} received: stopping the Airflow run (process group {proc.pid})...",
                      file=sys.stderr, flush=True)
                deadline = time.monotonic() + grace
            try:
                code = proc.wait(timeout=0.2)
                if on_tick is not None:
                    on_tick()
                break
            except subprocess.TimeoutExpired:
                if on_tick is not None:
                    on_tick()
                if deadline is not None and time.monotonic() > deadline:
                    _kill_group(proc.pid)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        _kill_group(proc.pid)  # anything the child started and left behind
        name = signal.Signals(received[0]).name
        print(f"Stopped by {name}: the Airflow run was stopped too. The last good publication is unchanged "
              "unless the run had already published; the next run removes what this one left half-done.",
              file=sys.stderr, flush=True)
        raise RunStopped(128 + received[0])
    return code


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def ensure_metadata_db(settings: Settings, env: dict[str, str]) -> None:
    """Create/upgrade the SQLite metadata database (quick no-op once it is current).

    Call it holding the run lock: two first runs on one home must not migrate at once.
    """
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    marker = settings.airflow_home / ".migrated"
    if marker.exists() and (settings.airflow_home / "airflow.db").exists():
        return
    print("Preparing Airflow's metadata database (first run only)...", flush=True)
    log_path = settings.airflow_home / "db-migrate.log"
    with open(log_path, "w") as fh:
        code = run_child([sys.executable, "-m", "airflow", "db", "migrate"], env,
                         stdout=fh, stderr=subprocess.STDOUT)
    if code != 0:
        raise SystemExit(f"airflow db migrate failed (exit {code}); see {log_path}")
    marker.write_text(datetime.now().isoformat())


def lock_timeout() -> float:
    """Seconds a run waits for another run on the same home (``PIPELINE_LOCK_TIMEOUT``)."""
    value = os.environ.get(LOCK_TIMEOUT_ENV)
    return float(value) if value else DEFAULT_LOCK_TIMEOUT


def run_pipeline(settings: Settings, logical_date: str | None = None, *, wait: float | None = None,
                 quiet: bool = False) -> int:
    """Run one DagRun of the pipeline DAG; returns the child's exit code (0 = success).

    Holds the run lock for the whole run (waiting up to ``wait`` seconds, default
    :func:`lock_timeout`, then :class:`pipeline.locking.RunLocked`), sweeps the debris and the
    error record of earlier runs, migrates the metadata database if needed, and runs the DAG in a
    child process. After a failure, :func:`last_error` says why. ``quiet``: Airflow's output goes
    to a log file and the terminal gets one progress line per step (``pipeline run``).
    """
    from pipeline import housekeeping, locking, progress

    env = airflow_env(settings)
    timeout = lock_timeout() if wait is None else wait
    with locking.run_lock(settings, timeout, notify=lambda msg: print(msg, file=sys.stderr, flush=True)) as fd:
        housekeeping.sweep(settings)
        (settings.home / ERROR_FILE).unlink(missing_ok=True)  # the record of an earlier run
        if env.get("PIPELINE_AIRFLOW_EXTERNAL") != "1":
            ensure_metadata_db(settings, env)
        env[locking.HELD_ENV] = str(settings.home)
        cmd = [sys.executable, "-m", "pipeline.airflow_run"] + ([logical_date] if logical_date else [])
        if not quiet:
            # The child keeps the lock's open file: the lock holds until both processes are gone.
            return run_child(cmd, env, pass_fds=(fd,))
        # Airflow's own log lines go to a file; the terminal gets one line per step.
        stamp = time.strftime("%Y%m%dT%H%M%S")
        logs = settings.airflow_home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path, progress_path = logs / f"pipeline-run-{stamp}.log", logs / f"pipeline-run-{stamp}.progress.jsonl"
        env[progress.ENV] = str(progress_path)
        print(f"Running the {DAG_ID} DAG with Airflow; its log: {log_path}", flush=True)
        follower = progress.Follower(progress_path, sys.stdout)
        with open(log_path, "w", encoding="utf-8") as log_file:
            code = run_child(cmd, env, pass_fds=(fd,), on_tick=follower.poll, stdout=log_file,
                             stderr=subprocess.STDOUT)
        follower.poll()
        if code != 0:
            print(f"Airflow's log of this run: {log_path}", file=sys.stderr, flush=True)
        return code


# --- the error record --------------------------------------------------------------------------

def _disk_full_path(error: BaseException) -> str | None:
    """The path named by a disk-full error in ``error``'s chain ('' when it names none), else None."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _DISK_FULL_ERRNOS:
            return str(current.filename or "")
        if _DISK_FULL_TEXT.search(str(current)):
            quoted = re.search(r"""["']([^"']*/[^"']*)["']""", str(current))
            return quoted.group(1) if quoted else ""
        current = current.__cause__ or current.__context__
    return None


def disk_full_message(path: Path | str, published: bool = False) -> str:
    try:
        free = f" ({shutil.disk_usage(Path(path) if Path(path).is_dir() else Path(path).parent).free // 1024} KiB free)"
    except OSError:
        free = ""
    kept = ("the new release was published; its staged parts join the lake on the next run" if published
            else "nothing was published; the last good publication is unchanged")
    return f"disk full at {path}{free}: free space and re-run; {kept}."


def error_record(settings: Settings, run_id: str, step: str, error: BaseException | str) -> dict:
    """What ``pipeline run`` prints about a failed step; a full disk gets a plain message."""
    text = str(error)
    full = _disk_full_path(error) if isinstance(error, BaseException) else None
    if full is not None:
        from pipeline.publish import safe_run_id

        current = settings.current_release
        published = current.is_symlink() and current.resolve().name == safe_run_id(run_id)
        text = disk_full_message(full or settings.home, published)
    kind = type(error).__name__ if isinstance(error, BaseException) else "Error"
    return {"run_id": run_id, "step": step, "error": text, "type": "DiskFull" if full is not None else kind}


def write_last_error(settings: Settings, record: dict) -> None:
    """Write ``last_error.json`` atomically (tmp + rename); never raises (a full disk may refuse
    even this: the record then goes to the log, and :func:`last_error` reports the full disk)."""
    tmp = settings.home / f".last_error-{os.getpid()}.tmp"
    try:
        settings.home.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(record, indent=2))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, settings.home / ERROR_FILE)
    except OSError as exc:
        log.error("could not write %s (%s); the error was: step %s: %s",
                  settings.home / ERROR_FILE, exc, record.get("step"), record.get("error"))
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def _low_on_space(path: Path) -> bool:
    try:
        return shutil.disk_usage(path).free < _LOW_SPACE_BYTES
    except OSError:
        return False


def last_error(settings: Settings) -> dict | None:
    """The last failed step as ``{"run_id", "step", "error", "type"}``, or None when there is none.

    Never raises: an empty or damaged record (a full disk, a killed run) is reported as such.
    """
    path = settings.home / ERROR_FILE
    record = None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        pass
    except (OSError, ValueError):
        record = {}
    if isinstance(record, dict) and isinstance(record.get("step"), str) and isinstance(record.get("error"), str):
        return record
    if _low_on_space(settings.home):
        return {"run_id": None, "step": "unknown", "error": disk_full_message(settings.home), "type": "DiskFull"}
    if record is None:
        return None
    return {"run_id": None, "step": "unknown", "type": "Unknown",
            "error": f"the run's error record {path} is empty or damaged; the reason is in the log above."}


# --- the child: one DagRun with dag.test() ------------------------------------------------------

class _FailureLog:
    """A structlog processor keeping the exceptions Airflow logs while running tasks, so a task
    that fails outside the pipeline's own code (e.g. an inactive asset) still has a reason."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def __call__(self, _logger: object, method: str, event: dict) -> dict:
        if method in ("error", "exception", "critical") and event.get("exc_info"):
            exc = event["exc_info"]
            exc = exc if isinstance(exc, BaseException) else sys.exc_info()[1]
            if exc is not None:
                self.errors.append(f"{type(exc).__name__}: {exc}")
        return event

    def install(self) -> None:
        try:
            import structlog

            processors = structlog.get_config()["processors"]
            structlog.configure(processors=[self, *processors])
        except Exception:  # noqa: BLE001 - only the failure message loses detail
            pass


def _retire_moved_assets(dag: object) -> None:
    """Deactivate assets of this DAG's outlets recorded under the same name with another URI.

    What the scheduler's orphan pass does; ``dag.test()`` has no scheduler, and an asset whose URI
    changed (an older release's ``file://`` URI under a moved home) would stay active and make the
    new one inactive (``AirflowInactiveAssetInInletOrOutletException``).
    """
    from airflow.models.asset import AssetActive
    from airflow.utils.session import create_session
    from sqlalchemy import and_, delete

    outlets = {(a.name, a.uri) for task in dag.tasks for a in getattr(task, "outlets", []) if hasattr(a, "uri")}
    with create_session() as session:
        for name, uri in outlets:
            session.execute(delete(AssetActive).where(and_(AssetActive.name == name, AssetActive.uri != uri)))


def main(argv: list[str]) -> int:
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    from pipeline import settings as settings_mod

    settings = settings_mod.load()
    failures = _FailureLog()
    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    if bag.import_errors:
        for path, err in bag.import_errors.items():
            print(f"DAG import error in {path}:\n{err}", file=sys.stderr)
        write_last_error(settings, error_record(settings, "", "import", "; ".join(
            f"DAG import error in {p}: {e}" for p, e in bag.import_errors.items())))
        return 2
    dag = bag.get_dag(DAG_ID)
    if os.environ.get("PIPELINE_AIRFLOW_EXTERNAL") != "1":
        _retire_moved_assets(dag)
    failures.install()
    logical = pendulum.parse(argv[0]) if argv else pendulum.now("UTC")
    started = time.perf_counter()
    run = dag.test(logical_date=logical)
    state = str(getattr(run, "state", "unknown"))
    print(f"DagRun {run.run_id}: {state} in {time.perf_counter() - started:.1f}s", flush=True)
    if state.endswith("success"):
        return 0
    failed = sorted(ti.task_id for ti in run.get_task_instances()
                    if str(ti.state).rsplit(".", 1)[-1].lower() == "failed")
    recorded = last_error(settings)
    if not recorded or recorded.get("run_id") != run.run_id:
        reason = failures.errors[-1] if failures.errors else "no error was recorded; see the task log above"
        recorded = error_record(settings, run.run_id, ",".join(failed) or "airflow", reason)
        write_last_error(settings, recorded)
    print(f"DagRun {run.run_id} failed in task(s) {', '.join(failed) or '?'}: {recorded['error']}",
          file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":
    exit_code = main(sys.argv[1:])
    # Airflow leaves threads and atexit work behind that take seconds at interpreter shutdown;
    # everything is written and the metadata committed by now, so leave at once.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)
