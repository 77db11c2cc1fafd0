"""The run lock and the stop request: one pipeline run at a time per ``PIPELINE_HOME``, and a stop
that publishes nothing.

``pipeline run`` holds an exclusive ``fcntl.flock`` on ``<home>/.run.lock`` from before the
Airflow metadata migration until its Airflow child has exited (the child inherits the open lock,
so the lock outlives a parent killed with SIGKILL). A second run on the same home waits for it,
printing who holds it, and gives up with a clear message after ``timeout`` seconds. The lock file
records the holder (the command's pid and its Airflow child's, host, start time) so the message
names the process that is still alive; it is never deleted, because deleting a lock file lets
two processes lock two different files.

A stop is decided once per run, in a decision file ``pipeline run`` names to its Airflow child
(``PIPELINE_STOP_FILE``). The file is created atomically and never rewritten, so exactly one of
two things wins: ``pipeline run`` receiving SIGINT/SIGTERM (or the child finding its
``pipeline run`` gone) records ``stop``, or the ``publish`` step, just before it swaps the new
release in, records ``publish`` (:func:`commit_publish`). Every step checks the decision before
it starts (:func:`step`): after ``stop`` no step starts and nothing is published (the Airflow
child also interrupts the step that runs, see :mod:`pipeline.airflow_run`); after ``publish``
the run finishes publishing what it had committed to.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import KEPT, PipelineError
from pipeline.settings import Settings

LOCK_NAME = ".run.lock"
HELD_ENV = "PIPELINE_RUN_LOCK_HELD"  # set in the Airflow child: its parent holds the lock of this home
STOP_FILE_ENV = "PIPELINE_STOP_FILE"  # set in the Airflow child: the run's decision file
PARENT_PID_ENV = "PIPELINE_PARENT_PID"  # set in the Airflow child: the pid of its `pipeline run`
DECISION_GLOB = ".run-*.decision"
_POLL_SECONDS = 0.2
_HOLDER_RECHECK_SECONDS = 2.0


class RunLocked(PipelineError):
    """Another run holds the run lock of this home."""


class StopRequested(PipelineError):
    """The run was asked to stop (or its ``pipeline run`` is gone): the step does not start."""

    kept = KEPT


def lock_path(settings: Settings) -> Path:
    return settings.home / LOCK_NAME


# --- the lock ----------------------------------------------------------------------------------

def _alive(pid: object) -> bool:
    """Whether process ``pid`` runs on this host (a zombie is not alive)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _holder(fd: int) -> str:
    """Who holds the lock, naming the live process: the command, or its Airflow child when the
    command is gone (killed) and the child still finishes its step."""
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict) or not info:
        return "another pipeline run"
    pid, child, host, started = info.get("pid"), info.get("child"), info.get("host"), info.get("started")
    if host == socket.gethostname() and not _alive(pid) and _alive(child):
        return (f"the Airflow run (pid {child} on {host}) of a pipeline run that is gone (pid {pid}, started "
                f"{started}; the Airflow run stops without publishing)")
    return f"another pipeline run (pid {pid} on {host}, started {started})"


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _clock(seconds_from_now: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(time.time() + seconds_from_now))


@contextmanager
def run_lock(settings: Settings, timeout: float, notify: Callable[[str], None] = print) -> Iterator[int]:
    """Hold the run lock of ``settings.home``; yields the locked file descriptor.

    Waits up to ``timeout`` seconds (0: do not wait) for a run that holds it, saying so (again
    when the live holder changes), then raises :class:`RunLocked` naming the holder.
    """
    settings.home.mkdir(parents=True, exist_ok=True)
    path = lock_path(settings)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            holder = _holder(fd)
            deadline = time.monotonic() + timeout
            if timeout > 0:
                notify(f"{holder} is using {settings.home} (lock {path}); waiting up to {timeout:.0f}s (until "
                       f"{_clock(timeout)}) for it to finish...")
            recheck = time.monotonic() + _HOLDER_RECHECK_SECONDS
            while not _try_lock(fd):
                now = time.monotonic()
                if now >= deadline:
                    waited = f"gave up after {timeout:.0f}s" if timeout > 0 else "not waiting"
                    raise RunLocked(
                        f"{_holder(fd)} is using {settings.home} (lock {path}); {waited}. Run again when it has "
                        "finished (PIPELINE_LOCK_TIMEOUT sets how long to wait). Nothing was changed by this run."
                    )
                if now >= recheck:
                    recheck = now + _HOLDER_RECHECK_SECONDS
                    current = _holder(fd)
                    if current != holder:
                        holder = current
                        notify(f"now {holder} holds {path}; still waiting, until {_clock(deadline - now)}...")
                time.sleep(_POLL_SECONDS)
        record_holder(fd)
        yield fd
    finally:
        os.close(fd)  # closing the last descriptor of the open file releases the flock


def record_holder(fd: int, **extra: object) -> None:
    """Write who holds the lock into the locked file (this process, plus ``extra``, e.g. ``child=pid``)."""
    owner = {"pid": os.getpid(), "host": socket.gethostname(),
             "started": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        previous = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        previous = {}
    if isinstance(previous, dict) and previous.get("pid") == owner["pid"] and extra:
        owner["started"] = previous.get("started", owner["started"])
    owner.update(extra)
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(owner).encode(), 0)


def is_free(settings: Settings) -> bool:
    """True when no run holds the lock of this home right now (checked without waiting)."""
    path = lock_path(settings)
    if not path.exists():
        return True
    fd = os.open(path, os.O_RDWR)
    try:
        if not _try_lock(fd):
            return False
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


# --- the stop decision -------------------------------------------------------------------------

def decision_path(settings: Settings, pid: int | None = None) -> Path:
    """The decision file of the ``pipeline run`` with ``pid`` (default: this process)."""
    return settings.home / f".run-{pid or os.getpid()}.decision"


def read_decision(path: Path) -> dict | None:
    """The decision recorded in ``path`` (``{"decision": "stop"|"publish", ...}``), None when none is."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("decision") in ("stop", "publish") else None


def decide(path: Path, decision: str, **details: str) -> dict:
    """Record ``decision`` in ``path`` unless a decision is recorded already; returns the one that
    stands. The file appears complete or not at all (written aside, then hard-linked into place,
    which fails if it exists), so two processes deciding at once cannot both win."""
    record = {"decision": decision, "at": datetime.now().astimezone().isoformat(timespec="seconds"),
              "pid": os.getpid(), **details}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".decision-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(record))
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
        return record
    except FileExistsError:
        return read_decision(path) or record
    finally:
        os.unlink(tmp)


# What the Airflow child knows about its run: (its own pid, its pipeline run's pid), and the step
# that is running in it (the DAG's tasks run in this process under ``dag.test()``).
_parent: tuple[int, int] | None = None
_running: list[str] = []
_idle_since = time.monotonic()


def watch_parent() -> None:
    """In the Airflow child: remember the pid of the ``pipeline run`` that started it, so a step
    can tell the command is gone (killed with SIGKILL). Processes this one starts do not inherit it."""
    global _parent
    value = os.environ.pop(PARENT_PID_ENV, "")
    if value.isdigit() and os.getppid() == int(value):
        _parent = (os.getpid(), int(value))


def stop_reason() -> str | None:
    """Why this run must stop (None: it goes on). Only in a run started by ``pipeline run``.

    Finding the ``pipeline run`` gone records the stop itself, so ``publish`` cannot commit after it.
    """
    value = os.environ.get(STOP_FILE_ENV)
    if not value:
        return None
    path = Path(value)
    if _parent is not None and os.getpid() == _parent[0] and os.getppid() != _parent[1]:
        decide(path, "stop", why=f"its `pipeline run` (pid {_parent[1]}) is gone (killed?)")
    record = read_decision(path)
    if record and record["decision"] == "stop":
        return _why(record)
    return None


def _why(record: dict) -> str:
    try:
        at = datetime.fromisoformat(record["at"]).strftime("%H:%M:%S")
    except (KeyError, TypeError, ValueError):
        at = "?"
    return f"{record.get('why', 'a stop was requested')} at {at}"


def check_stop(step: str) -> None:
    """Raise :class:`StopRequested` if the run must stop before ``step``."""
    why = stop_reason()
    if why:
        raise StopRequested(f"the run was stopped before step '{step}': {why}; the run is marked failed.")


@contextmanager
def step(name: str) -> Iterator[None]:
    """Around one step of the run: it does not start after a stop, and a step the Airflow child
    interrupts after a stop (KeyboardInterrupt) fails with :class:`StopRequested`."""
    global _idle_since
    check_stop(name)
    _running.append(name)
    try:
        yield
    except KeyboardInterrupt:
        why = stop_reason()
        if why is None:
            raise
        raise StopRequested(f"the run was stopped in step '{name}': {why}; the run is marked failed.") from None
    except Exception as exc:
        # the interrupt can land inside code that then fails on its own (shutil.rmtree with a closed
        # descriptor: OSError EBADF); after a stop request that error is the stop's, and said as such
        why = stop_reason()
        if why is None or isinstance(exc, StopRequested):
            raise
        raise StopRequested(f"the run was stopped in step '{name}': {why}; the run is marked failed "
                            f"(the step ended with {type(exc).__name__}: {exc}).") from exc
    finally:
        _running.remove(name)
        if not _running:
            _idle_since = time.monotonic()


def running_step() -> str | None:
    """The step running in this process, if any."""
    return _running[-1] if _running else None


def idle_for() -> float:
    """Seconds since the last step of this process ended (0 while one runs)."""
    return 0.0 if _running else time.monotonic() - _idle_since


def commit_publish(release: str) -> None:
    """Called by ``publish`` just before the new release is swapped in: record ``publish`` as the
    run's decision, or raise :class:`StopRequested` if ``stop`` was recorded first."""
    if not os.environ.get(STOP_FILE_ENV):
        return
    stop_reason()  # records the stop if the pipeline run is gone
    record = decide(Path(os.environ[STOP_FILE_ENV]), "publish", release=release)
    if record["decision"] != "publish":
        raise StopRequested(f"the run was stopped before release {release} was swapped in: {_why(record)}; "
                            "the run is marked failed.")
