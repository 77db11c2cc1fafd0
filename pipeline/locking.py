"""The run lock: one pipeline run at a time per ``PIPELINE_HOME``.

``pipeline run`` holds an exclusive ``fcntl.flock`` on ``<home>/.run.lock`` from before the
Airflow metadata migration until its Airflow child has exited (the child inherits the open lock,
so the lock outlives a parent killed with SIGKILL). A second run on the same home waits for it,
printing who holds it, and gives up with a clear message after ``timeout`` seconds. The lock file
records the holder (pid, host, start time) for that message; it is never deleted, because
deleting a lock file lets two processes lock two different files.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.settings import Settings

LOCK_NAME = ".run.lock"
HELD_ENV = "PIPELINE_RUN_LOCK_HELD"  # set in the Airflow child: its parent holds the lock of this home
_POLL_SECONDS = 0.2


class RunLocked(PipelineError):
    """Another run holds the run lock of this home."""


def lock_path(settings: Settings) -> Path:
    return settings.home / LOCK_NAME


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict) or not info:
        return "another pipeline run"
    return f"another pipeline run (pid {info.get('pid')} on {info.get('host')}, started {info.get('started')})"


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def run_lock(settings: Settings, timeout: float, notify: Callable[[str], None] = print) -> Iterator[int]:
    """Hold the run lock of ``settings.home``; yields the locked file descriptor.

    Waits up to ``timeout`` seconds (0: do not wait) for a run that holds it, then raises
    :class:`RunLocked` naming the holder.
    """
    settings.home.mkdir(parents=True, exist_ok=True)
    path = lock_path(settings)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            holder = _holder(fd)
            deadline = time.monotonic() + timeout
            if timeout > 0:
                notify(f"{holder} is using {settings.home} (lock {path}); waiting up to {timeout:.0f}s for it "
                       "to finish...")
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    waited = f"gave up after {timeout:.0f}s" if timeout > 0 else "not waiting"
                    raise RunLocked(
                        f"{holder} is using {settings.home} (lock {path}); {waited}. Run again when it has "
                        "finished (PIPELINE_LOCK_TIMEOUT sets how long to wait). Nothing was changed by this run."
                    )
                time.sleep(_POLL_SECONDS)
        owner = {"pid": os.getpid(), "host": socket.gethostname(),
                 "started": datetime.now(UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner).encode(), 0)
        yield fd
    finally:
        os.close(fd)  # closing the last descriptor of the open file releases the flock


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
