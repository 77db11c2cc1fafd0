"""Run the pipeline DAG with Airflow itself, in the embedded mode (SQLite metadata, no services).

``pipeline run`` takes the run lock of the pipeline home (one run at a time, see
:mod:`pipeline.locking`), removes what earlier runs left behind (:func:`pipeline.housekeeping.sweep`),
prepares a project-local ``AIRFLOW_HOME`` (``var/airflow``), migrates its SQLite metadata database
once, then runs ``python -m pipeline.airflow_run`` in a child process with that environment: it
loads ``dags/`` through Airflow's DagBag and executes one DagRun with ``dag.test()`` (every task in
order, in-process, with real task instances, XComs and asset events recorded in the metadata
database). The child runs in its own process group.

The child's fixed cost is kept small (``bench/airflow_overhead.py`` times each phase): its
SQLite metadata database runs in WAL mode with ``synchronous=NORMAL``; ``dag.test()`` reuses the
child's own parse of ``dags/``; the in-process Execution API that ``dag.test()`` runs its tasks
against serves only the API versions the child's Task SDK speaks and is built before the first
task; Great Expectations starts importing in the background. Every phase is marked in the run's
progress file (:func:`pipeline.progress.mark`).

A stop (SIGINT/SIGTERM to ``pipeline run``) publishes nothing: ``pipeline run`` records the stop
in the run's decision file (:mod:`pipeline.locking`), no step starts after it, and ``publish``
checks it atomically before it swaps the release in. The child interrupts the step that runs (or
its wait for an Airflow retry), marks its DagRun failed and records why; ``pipeline run`` exits
128 + the signal number. If the child has not exited ``GRACE_SECONDS`` later, or on a second
signal, its process group is killed. A child whose ``pipeline run`` is killed (SIGKILL) stops
the same way, at once or at its next step.

A failed run leaves ``<home>/last_error.json`` (written atomically): :func:`last_error` reads it
and never raises, whatever state a full disk or a kill left it in.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from pipeline.settings import REPO_ROOT, Settings

DAG_ID = "sanctions_pipeline"
ERROR_FILE = "last_error.json"
LOCK_TIMEOUT_ENV = "PIPELINE_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 3600.0
GRACE_SECONDS = 30.0  # after a stop request: time for the running step to end before the child is killed
IDLE_BEFORE_INTERRUPT = 2.0  # after a stop request: a child waiting this long between steps is interrupted
_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_DISK_FULL_TEXT = re.compile(r"no space left on device|disk quota exceeded|errno 28\b|database or disk is full",
                             re.IGNORECASE)
_LOW_SPACE_BYTES = 16 << 20

log = logging.getLogger(__name__)


class RunStopped(SystemExit):
    """``pipeline run`` was stopped by a signal; the exit code is 128 + the signal number.
    ``killed``: the child did not stop by itself and its process group was killed."""

    def __init__(self, signum: int, killed: bool = False) -> None:
        super().__init__(128 + signum)
        self.signum = signum
        self.killed = killed


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
        # `pipeline run` runs its DAG with dag.test(), paused or not; paused at creation, the per-source
        # and publish DAGs stay still when `make airflow` starts a scheduler on this home (unpause them there)
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
    })
    return env


# --- the child process -------------------------------------------------------------------------

def run_child(cmd: list[str], env: dict[str, str], grace: float = GRACE_SECONDS,
              on_tick: Callable[[], None] | None = None, on_start: Callable[[subprocess.Popen], None] | None = None,
              on_stop: Callable[[int, float], bool] | None = None, **popen: object) -> int:
    """Run ``cmd`` in its own process group and return its exit code; ``on_tick`` is called about
    five times a second while it runs (progress lines), ``on_start`` once it is started.

    On SIGINT/SIGTERM meanwhile, ``on_stop(signum, grace)`` is called once: it asks the child to
    stop by itself and returns True when it could. Without ``on_stop`` (or when it returns False)
    the signal is forwarded to the child's process group. If the child has not exited ``grace``
    seconds later, or on a second signal, the group is killed. Once the child is gone,
    :class:`RunStopped` is raised.
    """
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, **popen)  # noqa: S603
    received: list[int] = []

    def note(signum: int, _frame: object) -> None:
        received.append(signum)

    previous = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, note)
    except ValueError:  # not the main thread: signals stay with the caller
        pass
    try:
        if on_start is not None:
            on_start(proc)
        deadline, handled, killed = None, 0, False
        while True:
            if len(received) > handled:
                name = signal.Signals(received[handled]).name
                if handled == 0:
                    deadline = time.monotonic() + grace
                    if on_stop is None or not on_stop(received[0], grace):
                        print(f"\n{name} received: stopping the Airflow run (process group {proc.pid})...",
                              file=sys.stderr, flush=True)
                        _signal_group(proc.pid, received[0])
                elif not killed:
                    print(f"{name} received again: killing the Airflow run (process group {proc.pid}) now.",
                          file=sys.stderr, flush=True)
                    _kill_group(proc.pid)
                    killed = True
                handled = len(received)
            try:
                code = proc.wait(timeout=0.2)
                if on_tick is not None:
                    on_tick()
                break
            except subprocess.TimeoutExpired:
                if on_tick is not None:
                    on_tick()
                if deadline is not None and time.monotonic() > deadline and not killed:
                    print(f"The Airflow run did not stop within {grace:.0f}s: killing it (process group {proc.pid}).",
                          file=sys.stderr, flush=True)
                    _kill_group(proc.pid)
                    killed = True
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        _kill_group(proc.pid)  # anything the child started and left behind
        if on_stop is None:
            name = signal.Signals(received[0]).name
            print(f"Stopped by {name}: the Airflow run was stopped too.", file=sys.stderr, flush=True)
        raise RunStopped(received[0], killed=killed)
    return code


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


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
                 quiet: bool = False, before_airflow: Callable[[], bool] | None = None) -> int:
    """Run one DagRun of the pipeline DAG; returns the child's exit code (0 = success).

    Holds the run lock for the whole run (waiting up to ``wait`` seconds, default
    :func:`lock_timeout`, then :class:`pipeline.locking.RunLocked`), sweeps the debris and the
    error record of earlier runs, migrates the metadata database if needed, and runs the DAG in a
    child process. After a failure, :func:`last_error` says why; after SIGINT/SIGTERM, it says
    where the run stopped and :class:`RunStopped` is raised. ``quiet``: Airflow's output goes to
    a log file and the terminal gets one progress line per step (``pipeline run``).
    ``before_airflow`` is called holding the lock, once the sweep is done: when it returns True
    the run ends there (0) and Airflow is not started (an unchanged re-run, :mod:`pipeline.rerun`).
    """
    from pipeline import housekeeping, locking, progress

    env = airflow_env(settings)
    timeout = lock_timeout() if wait is None else wait
    with locking.run_lock(settings, timeout, notify=lambda msg: print(msg, file=sys.stderr, flush=True)) as fd:
        housekeeping.sweep(settings)
        for stale in settings.home.glob(locking.DECISION_GLOB):  # decision files of killed runs
            stale.unlink(missing_ok=True)
        (settings.home / ERROR_FILE).unlink(missing_ok=True)  # the record of an earlier run
        if before_airflow is not None and before_airflow():
            return 0
        if env.get("PIPELINE_AIRFLOW_EXTERNAL") != "1":
            ensure_metadata_db(settings, env)
        decision = locking.decision_path(settings)
        env.update({locking.HELD_ENV: str(settings.home), locking.STOP_FILE_ENV: str(decision),
                    locking.PARENT_PID_ENV: str(os.getpid())})
        cmd = [sys.executable, "-m", "pipeline.airflow_run"] + ([logical_date] if logical_date else [])
        # The child keeps the lock's open file: the lock holds until both processes are gone. The
        # lock file names the child too, for a run that waits while a killed command's child finishes.
        child = {"pass_fds": (fd,), "on_start": lambda proc: locking.record_holder(fd, child=proc.pid)}
        follower = None
        try:
            if not quiet:
                stop = _Stop(settings, decision, lambda: None)
                return run_child(cmd, env, on_stop=stop.request, **child)
            # Airflow's own log lines go to a file; the terminal gets one line per step.
            stamp = time.strftime("%Y%m%dT%H%M%S")
            logs = settings.airflow_home / "logs"
            logs.mkdir(parents=True, exist_ok=True)
            log_path = logs / f"pipeline-run-{stamp}.log"
            progress_path = logs / f"pipeline-run-{stamp}.progress.jsonl"
            env[progress.ENV] = str(progress_path)
            child["on_start"] = lambda proc: (locking.record_holder(fd, child=proc.pid),
                                              progress.mark("child_spawn", progress_path))
            print(f"Running the {DAG_ID} DAG with Airflow; its log: {log_path}", flush=True)
            follower = progress.Follower(progress_path, sys.stdout)
            stop = _Stop(settings, decision, lambda: follower.current)
            with open(log_path, "w", encoding="utf-8") as log_file:
                code = run_child(cmd, env, on_tick=follower.poll, on_stop=stop.request, stdout=log_file,
                                 stderr=subprocess.STDOUT, **child)
            follower.poll()
            if code != 0:
                print(f"Airflow's log of this run: {log_path}", file=sys.stderr, flush=True)
            return code
        except RunStopped as stopped:
            if follower is not None:
                follower.poll()
            stop.finish(stopped)
            raise
        finally:
            decision.unlink(missing_ok=True)


class _Stop:
    """What ``pipeline run`` does on SIGINT/SIGTERM: record the stop for its Airflow child, say
    what happens next, and, once the child is gone, say where the run stopped and what was kept."""

    def __init__(self, settings: Settings, decision: Path, current_step: Callable[[], str | None]) -> None:
        self.settings = settings
        self.decision = decision
        self.current_step = current_step
        self.step_at_stop: str | None = None

    def request(self, signum: int, grace: float) -> bool:
        from pipeline import locking

        name = signal.Signals(signum).name
        self.step_at_stop = self.current_step()
        try:
            record = locking.decide(self.decision, "stop", why=f"{name} to `pipeline run` (pid {os.getpid()})")
        except OSError as exc:  # e.g. a full disk: stop the child the hard way
            print(f"\n{name} received; the stop request could not be recorded ({exc}).", file=sys.stderr, flush=True)
            return False
        again = "Ctrl-C again" if signum == signal.SIGINT else "a second signal"
        where = f"in step '{self.step_at_stop}'" if self.step_at_stop else "starting"
        if record["decision"] == "stop":
            print(f"\n{name} received: stopping the run ({where}); it publishes nothing. If it has not "
                  f"stopped within {grace:.0f}s it is killed; {again} kills it at once...", file=sys.stderr, flush=True)
        else:
            print(f"\n{name} received, but the run had already committed release {record.get('release')}: it "
                  "finishes publishing it...", file=sys.stderr, flush=True)
        return True

    def finish(self, stopped: RunStopped) -> None:
        """Say where the run stopped; record it when the child could not (it was killed)."""
        from pipeline import locking
        from pipeline.errors import KEPT

        name = signal.Signals(stopped.signum).name
        record = locking.read_decision(self.decision) or {}
        current = self.settings.current_release
        if (record.get("decision") == "publish" and current.is_symlink()
                and current.resolve().name == record.get("release")):
            print(f"Stopped by {name} after the run had published release {record['release']} (the stop came "
                  "after the release was committed): it is the current publication.", file=sys.stderr, flush=True)
            return
        err = last_error(self.settings)
        if not (err and err.get("type") == "StopRequested"):
            step = self.step_at_stop or "unknown"
            how = "was killed" if stopped.killed else "ended"
            err = {"run_id": None, "step": step, "type": "StopRequested",
                   "error": f"the Airflow run {how} in step '{step}' after {name} to `pipeline run` (pid "
                            f"{os.getpid()}). {KEPT}"}
            write_last_error(self.settings, err)
        lines = [f"Stopped by {name}: {err['error']}"]
        if self.settings.published_db.exists():
            from pipeline.publish import kept_after_failure

            lines.append(kept_after_failure(self.settings))
        if stopped.killed:
            lines.append("The next run removes what this one left half-done.")
        print("\n".join(lines), file=sys.stderr, flush=True)


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


_ACTIVE_TI_STATES = ("running", "queued", "scheduled", "up_for_retry", "up_for_reschedule", "deferred", "restarting")


def _fail_running_runs(logical: object = None) -> tuple[list[str], list[str]]:
    """Mark this DAG's running DagRuns failed (only the one at ``logical`` when given), with their
    unfinished task instances; returns the run ids and the task ids that were running or waiting.

    At the child's start (embedded mode, under the run lock) a running DagRun is one a killed run
    left behind; after a stop it is this run's own."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, TaskInstanceState
    from sqlalchemy import select

    now = datetime.now().astimezone()
    with create_session() as session:
        query = select(DagRun).where(DagRun.dag_id == DAG_ID, DagRun.state == DagRunState.RUNNING)
        if logical is not None:
            query = query.where(DagRun.logical_date == logical)
        runs = list(session.scalars(query))
        active = []
        for run in runs:
            for ti in session.scalars(select(TaskInstance).where(TaskInstance.dag_id == DAG_ID,
                                                                 TaskInstance.run_id == run.run_id)):
                if str(ti.state or "").rsplit(".", 1)[-1].lower() in _ACTIVE_TI_STATES:
                    active.append(ti.task_id)
                    ti.state = TaskInstanceState.FAILED
                    ti.end_date = now
            run.state = DagRunState.FAILED
            run.end_date = now
        return [r.run_id for r in runs], sorted(set(active))


class _Watcher(threading.Thread):
    """In the Airflow child, beside ``dag.test()``: says on the terminal when a task waits for an
    Airflow retry (and until when), and, once the run must stop, interrupts the step that runs
    (it fails with :class:`pipeline.locking.StopRequested`) or the wait for a retry. Safe at any
    point: after a stop, ``publish`` cannot swap its release in, and a run that committed its
    release is never told to stop."""

    def __init__(self, dag: object) -> None:
        super().__init__(name="pipeline-run-watcher", daemon=True)
        self.dag = dag
        self.armed = True
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._announced: set[tuple] = set()
        self._interrupted_at = 0.0
        self._interrupted_steps: set[str | None] = set()
        self._scheduler_dag = None

    def run(self) -> None:
        from pipeline import locking

        ticks = 0
        while not self._done.wait(0.5):
            ticks += 1
            try:
                why = locking.stop_reason()
                if why is None:
                    if ticks % 4 == 0:  # every 2 s: a retry wait lasts minutes
                        self._announce_retries()
                    continue
                now, running = time.monotonic(), locking.running_step()
                # A step that just ended is left alone (the next one refuses to start); a running
                # step is interrupted once, a wait (an Airflow retry) every few seconds until it ends.
                due = (running not in self._interrupted_steps if running
                       else locking.idle_for() >= IDLE_BEFORE_INTERRUPT and now - self._interrupted_at > 5)
                with self._lock:
                    if self.armed and due:
                        self._interrupted_at = now
                        self._interrupted_steps.add(running)
                        log.warning("stopping the run %s: %s", f"in step {running}" if running else "while it waits",
                                    why)
                        _interrupt_main()
            except Exception as exc:  # noqa: BLE001 - the watcher must never take the run down
                log.debug("watcher: %s", exc)

    def disarm(self) -> None:
        """No interruption from now on (the run is over)."""
        with self._lock:
            self.armed = False
        self._done.set()

    def _announce_retries(self) -> None:
        from airflow.models.dagrun import DagRun
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from airflow.utils.state import DagRunState, TaskInstanceState
        from sqlalchemy import select

        from pipeline import progress
        from pipeline import settings as settings_mod

        with create_session() as session:
            waiting = list(session.scalars(
                select(TaskInstance).join(DagRun, (DagRun.dag_id == TaskInstance.dag_id)
                                          & (DagRun.run_id == TaskInstance.run_id))
                .where(TaskInstance.dag_id == DAG_ID, TaskInstance.state == TaskInstanceState.UP_FOR_RETRY,
                       DagRun.state == DagRunState.RUNNING)))
            for ti in waiting:
                key = (ti.run_id, ti.task_id, ti.map_index, ti.try_number)
                if key in self._announced:
                    continue
                self._announced.add(key)
                ti.task = self._scheduler_task(ti.task_id)
                when = ti.next_retry_datetime().timestamp()
                err = last_error(settings_mod.load())
                reason = f": {err['error']}" if err and err.get("step") == ti.task_id else ""
                text = (f"try {ti.try_number} of {ti.max_tries + 1} failed; Airflow tries again at "
                        f"{progress.clock(when)} (Ctrl-C stops the run){reason}")
                log.warning("%s %s", ti.task_id, text)
                progress.waiting(ti.task_id, text)

    def _scheduler_task(self, task_id: str) -> object:
        """The task as the scheduler sees it (its serialized form: the retry settings it applies)."""
        if self._scheduler_dag is None:
            from airflow.serialization.serialized_objects import DagSerialization

            self._scheduler_dag = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(self.dag))
        return self._scheduler_dag.get_task(task_id)


def _interrupt_main() -> None:
    import _thread

    _thread.interrupt_main(signal.SIGINT)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def tune_metadata_db() -> bool:
    """Embedded mode: the SQLite metadata database in WAL mode with ``synchronous=NORMAL``.

    ``dag.test()`` commits many small transactions per task (states, XComs, asset events); in
    SQLite's default rollback-journal mode with ``synchronous=FULL`` each one waits for several
    fsyncs. WAL with NORMAL syncs only at checkpoints and stays consistent when the process is
    killed (a committed transaction is kept; only a power loss may drop the last ones, and the
    run then fails or re-runs). Returns True when the database was tuned."""
    if os.environ.get("PIPELINE_AIRFLOW_EXTERNAL") == "1":
        return False
    try:
        from airflow import settings as airflow_settings
        from sqlalchemy import event

        async_engine = getattr(airflow_settings, "async_engine", None)
        engines = [airflow_settings.engine, getattr(async_engine, "sync_engine", None)]
        tuned = False
        for engine in engines:
            if engine is None or engine.dialect.name != "sqlite":
                continue
            if not event.contains(engine, "connect", _sqlite_pragmas):
                event.listen(engine, "connect", _sqlite_pragmas)
            engine.dispose()  # connections opened before the listener reconnect with it
            tuned = True
        return tuned
    except Exception as exc:  # noqa: BLE001 - the defaults work, only slower
        log.warning("could not tune the metadata database (%s): it keeps SQLite's defaults", exc)
        return False


def _warm_execution_api(bundle: object | None) -> None:
    """Build ``dag.test()``'s in-process Execution API (with ``bundle`` as its API versions, or
    Airflow's own) and answer one request: Cadwyn generates its versioned routes on the first."""
    from airflow.api_fastapi.execution_api import versions
    from airflow.sdk.execution_time import supervisor

    if bundle is not None:
        versions.bundle = bundle
    supervisor.in_process_api_server.cache_clear()
    api = supervisor.in_process_api_server()
    import httpx

    with httpx.Client(transport=api.transport, base_url="http://in-process.invalid./") as client:
        client.get("/execution/health")


def trim_execution_api() -> bool:
    """``dag.test()`` runs each task against an in-process Execution API; at its first request
    Cadwyn generates the routes and schemas of every API version Airflow still serves (nine in
    Airflow 3.3, most of the child's start). The only client here is this process's own Task SDK,
    which speaks the newest version: serve that one and the fewest older ones Cadwyn accepts (a
    route kept for older clients must exist in one of them), and build it now. Anything unexpected
    (another Airflow version, a Task SDK that speaks an older version): Airflow's own versions.
    Returns True when trimmed."""
    try:
        from airflow.api_fastapi.execution_api import versions
        from airflow.sdk.api.datamodels._generated import API_VERSION
        from cadwyn import Version, VersionBundle
    except Exception as exc:  # noqa: BLE001 - Airflow's defaults work, only slower
        log.info("in-process Execution API kept as it is (%s)", exc)
        return False
    full = versions.bundle
    if not full.versions or full.versions[0].value != API_VERSION:
        return False

    def bind(bundle: object | None) -> None:
        for version in full.versions:
            for change in version.changes:
                change._bound_version_bundle = bundle

    # a route kept for older clients only is restored by an "existed" instruction: keep its version
    restoring = [i + 1 for i, v in enumerate(full.versions) for change in v.changes
                 for step in getattr(change, "alter_endpoint_instructions", ())
                 if type(step).__name__ == "EndpointExistedInstruction"]
    first = max(restoring, default=1)
    for keep in range(first, min(first + 2, len(full.versions))):
        try:
            bind(None)
            kept = [Version(v.value, *v.changes) for v in full.versions[:keep]]
            trimmed = VersionBundle(full.head_version, *kept, Version(full.versions[keep].value),
                                    api_version_var=full.api_version_var)
            _warm_execution_api(trimmed)
            return True
        except Exception as exc:  # noqa: BLE001 - try one more version, then Airflow's own
            log.debug("in-process Execution API with %d version(s): %s", keep + 1, exc)
    bind(full)
    versions.bundle = full
    try:
        from airflow.sdk.execution_time import supervisor

        supervisor.in_process_api_server.cache_clear()
    except Exception:  # noqa: BLE001
        pass
    log.info("in-process Execution API: Airflow's own API versions")
    return False


_BUNDLE = "dags-folder"  # Airflow's default bundle: its DAGS_FOLDER, dags/ in the embedded mode


def _load_dags(dagbag_class: type) -> object:
    """Parse ``dags/``; in the embedded mode as the bundle ``dag.test()`` parses again (see
    :func:`_parsed_once`)."""
    folder = REPO_ROOT / "dags"
    if os.environ.get("PIPELINE_AIRFLOW_EXTERNAL") == "1":
        return dagbag_class(dag_folder=str(folder))
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(dag_folder=folder, bundle_path=folder, bundle_name=_BUNDLE)


@contextlib.contextmanager
def _parsed_once(bag: object) -> Iterator[None]:
    """``dag.test()`` parses its DAG's bundle again to record every DAG of it in the metadata
    database; in the embedded mode that bundle is ``dags/``, which this process has just parsed
    (``bag``, import errors checked): hand it that bag instead of a second parse of the same files.
    Any other bundle or folder is parsed as Airflow does."""
    if getattr(bag, "bundle_name", None) != _BUNDLE or not getattr(bag, "bundle_path", None):
        yield
        return
    from airflow.dag_processing import dagbag as dagbag_mod

    original = dagbag_mod.BundleDagBag
    folder = Path(bag.bundle_path).resolve()

    def reuse(*args: object, **kwargs: object) -> object:
        same = (not args and Path(str(kwargs.get("dag_folder"))).resolve() == folder
                and Path(str(kwargs.get("bundle_path"))).resolve() == folder and kwargs.get("bundle_name") == _BUNDLE)
        return bag if same else original(*args, **kwargs)

    dagbag_mod.BundleDagBag = reuse
    try:
        yield
    finally:
        dagbag_mod.BundleDagBag = original


def _preload_validation() -> None:
    """Start importing Great Expectations in the background (:func:`pipeline.validation.preload`):
    the import overlaps the run's waits before its first validation. Harmless when it fails."""
    try:
        from pipeline import validation

        validation.preload()
    except Exception as exc:  # noqa: BLE001 - the first validation imports it (and says why it cannot)
        log.debug("no Great Expectations preload: %s", exc)


def main(argv: list[str]) -> int:
    from pipeline import progress

    progress.mark("child_start")
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    from pipeline import locking
    from pipeline import settings as settings_mod
    from pipeline.errors import KEPT

    progress.mark("imports_done")
    locking.watch_parent()
    settings = settings_mod.load()
    failures = _FailureLog()
    tune_metadata_db()
    bag = _load_dags(DagBag)
    progress.mark("dagbag_loaded")
    if bag.import_errors:
        for path, err in bag.import_errors.items():
            print(f"DAG import error in {path}:\n{err}", file=sys.stderr)
        write_last_error(settings, error_record(settings, "", "import", "; ".join(
            f"DAG import error in {p}: {e}" for p, e in bag.import_errors.items())))
        return 2
    dag = bag.get_dag(DAG_ID)
    if os.environ.get("PIPELINE_AIRFLOW_EXTERNAL") != "1":
        _retire_moved_assets(dag)
        left, _ = _fail_running_runs()
        if left:
            print(f"DagRun(s) {', '.join(left)} left running by a stopped or killed run: marked failed",
                  file=sys.stderr, flush=True)
    trim_execution_api()
    progress.mark("execution_api_ready")
    _preload_validation()
    failures.install()
    logical = pendulum.parse(argv[0]) if argv else pendulum.now("UTC")
    started = time.perf_counter()
    watcher = _Watcher(dag)

    def interrupted(_signum: int, _frame: object) -> None:
        if watcher.armed:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupted)
    try:
        watcher.start()
        progress.mark("dag_test_start")
        with _parsed_once(bag):
            run = dag.test(logical_date=logical)
        progress.mark("dag_test_end")
    except KeyboardInterrupt:
        watcher.disarm()
        why = locking.stop_reason() or "SIGINT to the Airflow run itself"
        try:
            from airflow import settings as airflow_settings

            airflow_settings.Session.remove()  # the interrupted session may hold an open transaction
            runs, waiting = _fail_running_runs(logical)
        except Exception as exc:  # noqa: BLE001 - the next run marks it failed at its start
            log.error("could not mark the stopped DagRun failed: %s", exc)
            runs, waiting = [], []
        step = ",".join(waiting) or "between steps"
        where = f"while step '{step}' waited for its next try" if waiting else "between steps"
        record = {"run_id": runs[0] if runs else None, "step": step, "type": "StopRequested",
                  "error": f"the run was stopped {where}: {why}; the run is marked failed. {KEPT}"}
        write_last_error(settings, record)
        print(f"DagRun {', '.join(runs) or '?'} stopped: {record['error']}", file=sys.stderr, flush=True)
        return 1
    finally:
        watcher.disarm()
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
    from pipeline import progress as _progress

    _progress.mark("child_exit")
    # Airflow leaves threads and atexit work behind that take seconds at interpreter shutdown;
    # everything is written and the metadata committed by now, so leave at once.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)
