"""A stop publishes nothing, and a run that waits says until when.

Real faults on real ``pipeline run`` subprocesses: SIGINT and SIGTERM while the models build,
SIGKILL to ``pipeline run`` while its Airflow child builds, SIGINT while a task waits for an
Airflow retry (an HTTP server on 127.0.0.1 answering 503), and a URL on 127.0.0.1 where nothing
listens (connection refused). Every wait is on a condition (a progress record, a line of output,
a process state) with a generous deadline.
"""

from __future__ import annotations

import http.server
import json
import multiprocessing
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psutil
import pytest

from pipeline import locking, progress
from pipeline.airflow_run import last_error
from pipeline.publish import publish, safe_run_id
from pipeline.settings import Settings
from tests.conftest import REPO

# The stop does not depend on the sources; two keep the real runs short.
RUN_SOURCES = "us_ofac_sdn,un_sc"
RUN_DEADLINE = 900  # seconds a whole run may take on a busy machine
CLOCK = r"\d\d:\d\d:\d\d"


def _wait_for(check, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _settings(home: Path) -> Settings:
    import dataclasses

    from pipeline import settings as settings_mod

    return dataclasses.replace(settings_mod.load(), home=home)


class Run:
    """One ``pipeline run`` subprocess, its output in a file."""

    def __init__(self, home: Path, log: Path, *args: str, **env: str) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PIPELINE_"))}
        base.update({"PIPELINE_HOME": str(home), "GX_ANALYTICS_ENABLED": "False", **env})
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", *args], cwd=REPO, env=base,
                                     stdout=open(log, "w"), stderr=subprocess.STDOUT)  # noqa: SIM115

    def output(self) -> str:
        return self.log.read_text()

    def airflow_log(self) -> Path | None:
        named = re.search(r"its log: (\S+\.log)", self.output())
        return Path(named.group(1)) if named else None

    def progress(self) -> list[dict]:
        log = self.airflow_log()
        path = log.with_name(log.name.removesuffix(".log") + ".progress.jsonl") if log else None
        if path is None or not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]

    def started(self, step: str) -> bool:
        return any(r.get("started") == step for r in self.progress())

    def finish(self, timeout: float = RUN_DEADLINE) -> str:
        """Wait for the run; its output followed by Airflow's log of it."""
        self.proc.wait(timeout)
        out = self.output()
        log = self.airflow_log()
        return out + ("\n" + log.read_text() if log and log.is_file() else "")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


def _publication(home: Path) -> tuple:
    """What a reader sees: where ``current`` leads, its release record, and every release kept."""
    current = home / "publish" / "current"
    releases = home / "publish" / "releases"
    return (os.readlink(current) if current.is_symlink() else None,
            (current / "release.json").read_text() if (current / "release.json").exists() else None,
            sorted(p.name for p in releases.iterdir()) if releases.is_dir() else [])


def _dag_runs(home: Path) -> dict[str, str]:
    with sqlite3.connect(home / "airflow" / "airflow.db") as con:
        return dict(con.execute("select run_id, state from dag_run where dag_id = 'sanctions_pipeline'"))


def _task(home: Path, run_id: str, task_id: str) -> tuple[str, int]:
    with sqlite3.connect(home / "airflow" / "airflow.db") as con:
        return con.execute("select state, try_number from task_instance where run_id = ? and task_id = ?",
                           [run_id, task_id]).fetchone()


def _run_id(out: str) -> str:
    return re.search(r"DagRun (manual__\S+?):? ", out).group(1)


def _child_pid(home: Path) -> int:
    return json.loads((home / ".run.lock").read_text())["child"]


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture(scope="module")
def published_home(tmp_path_factory) -> Path:
    """A home with one good publication (the one every stop must leave as it is)."""
    home = tmp_path_factory.mktemp("stop") / "home"
    run = Run(home, home.parent / "first.log", PIPELINE_SOURCES=RUN_SOURCES)
    out = run.finish()
    assert run.proc.returncode == 0, out[-4000:]
    return home


# --- SIGINT / SIGTERM while the models build ----------------------------------------------------

@pytest.mark.integration
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_during_the_build_publishes_nothing_and_fails_the_run(published_home, tmp_path, signum):
    home, name = published_home, signal.Signals(signum).name
    before = _publication(home)
    # nothing changed since the publication: --force, so the run builds (and is stopped while it does)
    run = Run(home, tmp_path / "stopped.log", "--force", PIPELINE_SOURCES=RUN_SOURCES)
    try:
        _wait_for(lambda: run.started("build_models"), RUN_DEADLINE, "the model build to start")
        child = _child_pid(home)
        run.proc.send_signal(signum)
        out = run.finish(300)
    finally:
        run.kill()

    assert run.proc.returncode == 128 + signum, out[-4000:]
    assert f"{name} received: stopping the run" in out
    assert re.search(rf"Stopped by {name}: the run was stopped (in|before) step '\w+': {name} to `pipeline run` "
                     rf"\(pid {run.proc.pid}\) at {CLOCK}; the run is marked failed\. Nothing was published", out), \
        out[-4000:]
    assert f"The last good publication is unchanged: {home / 'publish' / 'current' / 'sanctions.duckdb'}" in out
    assert _publication(home) == before  # same release current, same releases kept, none added
    assert "published release" not in out
    err = last_error(_settings(home))
    assert err["type"] == "StopRequested" and "Nothing was published" in err["error"]
    runs = _dag_runs(home)
    assert runs[_run_id(out)] == "failed" and "running" not in runs.values()
    _wait_for(lambda: _gone(child), 60, "the Airflow child to exit")
    assert locking.is_free(_settings(home))
    assert not list(home.glob(locking.DECISION_GLOB))


# --- SIGKILL to pipeline run: its child stops by itself; a waiting run names it -------------------

@pytest.mark.integration
def test_a_killed_pipeline_run_leaves_a_child_that_stops_and_a_waiter_that_names_it(published_home, tmp_path):
    home = published_home
    before = _publication(home)
    killed = Run(home, tmp_path / "killed.log", "--force", PIPELINE_SOURCES=RUN_SOURCES)  # builds: nothing changed
    waiter = None
    child = None
    try:
        _wait_for(lambda: killed.started("build_models"), RUN_DEADLINE, "the model build to start")
        child = _child_pid(home)
        # Freeze the child while its command is killed and the next run starts waiting, so the
        # waiter surely finds it holding the lock; it resumes below, with its command gone.
        os.kill(child, signal.SIGSTOP)
        killed.proc.send_signal(signal.SIGKILL)
        killed.proc.wait(60)
        waiter = Run(home, tmp_path / "waiter.log", "--force", PIPELINE_SOURCES=RUN_SOURCES)
        line = _wait_for(lambda: next((x for x in waiter.output().splitlines() if "waiting up to" in x), None),
                         120, "the next run to wait for the lock")
        os.kill(child, signal.SIGCONT)
        _wait_for(lambda: _gone(child), 300, "the orphaned Airflow child to stop")
        out = waiter.finish()
    finally:
        if child is not None and not _gone(child):
            os.kill(child, signal.SIGCONT)
        killed.kill()
        if waiter is not None:
            waiter.kill()

    assert f"the Airflow run (pid {child} on " in line
    assert f"a pipeline run that is gone (pid {killed.proc.pid}," in line
    assert "the Airflow run stops without publishing" in line and "waiting up to 3600s (until " in line
    orphan = killed.airflow_log().read_text()
    assert re.search(rf"the run was stopped (in|before) step '\w+': its `pipeline run` \(pid {killed.proc.pid}\) is "
                     rf"gone \(killed\?\) at {CLOCK}; the run is marked failed", orphan), orphan[-4000:]
    assert _dag_runs(home)[_run_id(orphan)] == "failed"
    # the waiter published; the orphaned run did not
    assert waiter.proc.returncode == 0, out[-4000:]
    after = _publication(home)
    assert after[0] != before[0]
    assert set(after[2]) - set(before[2]) == {Path(after[0]).name}
    assert safe_run_id(_run_id(orphan)) not in after[2]


# --- an Airflow retry: the terminal says when; a stop does not wait for it ----------------------

class _Busy(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        self.server.hits.append(self.path)
        self.send_response(503)
        self.send_header("Retry-After", "0")
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"busy")

    def log_message(self, *args):
        pass


@pytest.fixture
def busy_server() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    server.daemon_threads = True
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.integration
def test_a_retry_wait_is_announced_and_a_stop_ends_it(published_home, tmp_path, busy_server):
    home = published_home
    before = _publication(home)
    url = f"http://127.0.0.1:{busy_server.server_address[1]}/consolidated.xml"
    run = Run(home, tmp_path / "retry.log", "--input", f"un_sc={url}")
    try:
        line = _wait_for(lambda: next((x for x in run.output().splitlines() if "Airflow tries again" in x), None),
                         RUN_DEADLINE, "the run to announce the Airflow retry")
        run.proc.send_signal(signal.SIGINT)
        out = run.finish(300)
    finally:
        run.kill()

    assert re.search(rf"^\[1/9\] land: un_sc consolidated\.xml: {re.escape(url)}: HTTP 503 Service Unavailable; "
                     rf"trying again at {CLOCK} \(attempt 2 of 3\)$", out, re.MULTILINE), out[:3000]
    assert re.fullmatch(rf"\[1/9\] land: try 1 of 4 failed; Airflow tries again at {CLOCK} \(Ctrl-C stops the run\): "
                        rf"\[un_sc\] file 'consolidated\.xml': rule 'fetch' failed: .*HTTP 503.*", line), line
    assert len(busy_server.hits) == 3  # the in-task attempts; the Airflow retry never came
    assert run.proc.returncode == 128 + signal.SIGINT, out[-4000:]
    assert re.search(rf"Stopped by SIGINT: the run was stopped while step 'land' waited for its next try: SIGINT to "
                     rf"`pipeline run` \(pid {run.proc.pid}\) at {CLOCK}; the run is marked failed", out), out[-4000:]
    assert "killing it" not in out  # it stopped by itself, it was not killed
    run_id = _run_id(out)
    assert _dag_runs(home)[run_id] == "failed"
    assert _task(home, run_id, "land") == ("failed", 1)
    assert _publication(home) == before


# --- a URL where nothing listens ------------------------------------------------------------------

@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound, never listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


@pytest.mark.integration
def test_an_unreachable_url_fails_the_run_after_the_in_task_retries(published_home, tmp_path, refusing_port):
    home = published_home
    before = _publication(home)
    url = f"http://127.0.0.1:{refusing_port}/x.xml"
    run = Run(home, tmp_path / "refused.log", "--input", f"un_sc={url}")
    try:
        out = run.finish()
    finally:
        run.kill()

    assert run.proc.returncode == 1, out[-4000:]
    waits = re.findall(rf"^\[1/9\] land: un_sc x\.xml: {re.escape(url)}: Connection refused; trying again at {CLOCK} "
                       rf"\(attempt (\d) of 3\)$", out, re.MULTILINE)
    assert waits == ["2", "3"], out[:3000]
    assert "Step 'land' stopped the run:" in out
    assert (f"[un_sc] file 'x.xml': rule 'fetch' failed: {url}: Connection refused: nothing answered in 3 "
            "attempt(s) over") in out
    assert "Airflow tries again" not in out
    run_id = _run_id(out)
    assert _dag_runs(home)[run_id] == "failed"
    assert _task(home, run_id, "land") == ("failed", 1)  # no Airflow retry
    assert _publication(home) == before


# --- the decision itself, without Airflow ----------------------------------------------------------

def _decide_in_process(path: str, decision: str, queue) -> None:
    queue.put(locking.decide(Path(path), decision, who=str(os.getpid()))["who"])


def test_the_stop_or_publish_decision_is_won_exactly_once(tmp_path):
    """Processes racing to decide: one record stands, and every one of them reads the same."""
    path = tmp_path / ".run-1.decision"
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_decide_in_process, args=(str(path), ("stop", "publish")[i % 2], queue))
             for i in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    winners = {queue.get(timeout=10) for _ in procs}
    assert len(winners) == 1
    assert locking.read_decision(path)["who"] in winners
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


@pytest.fixture
def tiny_build(tmp_path) -> Path:
    db = tmp_path / "build.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table int_current_snapshots as select 'un_sc' as source, date '2024-06-28' as snapshot_date")
    con.execute("create table mart_country_rankings as select 'RU' as country, 1 as rank")
    con.close()
    return db


def test_publish_after_a_stop_swaps_nothing_in(home, tiny_build, monkeypatch):
    decision = locking.decision_path(home, 1)
    monkeypatch.setenv(locking.STOP_FILE_ENV, str(decision))
    publish(tiny_build, home, "manual__good", commit=lambda: locking.commit_publish("manual__good"))
    before = _publication(home.home)
    decision.unlink()

    locking.decide(decision, "stop", why="SIGINT to `pipeline run` (pid 1)")
    with pytest.raises(locking.StopRequested) as err:
        publish(tiny_build, home, "manual__late", commit=lambda: locking.commit_publish("manual__late"))
    assert "stopped before release manual__late was swapped in: SIGINT to `pipeline run` (pid 1) at" in str(err.value)
    assert str(err.value).endswith("Nothing was published; the last good publication is unchanged.")
    assert _publication(home.home) == before
    assert not list((home.publish_dir / "releases").glob(".tmp-*"))


def test_a_stop_after_the_commit_cannot_undo_it(home, tiny_build, monkeypatch):
    decision = locking.decision_path(home, 2)
    monkeypatch.setenv(locking.STOP_FILE_ENV, str(decision))
    publish(tiny_build, home, "manual__first", commit=lambda: locking.commit_publish("manual__first"))
    record = locking.decide(decision, "stop", why="SIGTERM to `pipeline run` (pid 2)")
    assert record["decision"] == "publish" and record["release"] == "manual__first"
    assert locking.stop_reason() is None
    locking.check_stop("report")  # the run finishes what it committed to


def test_no_step_starts_after_a_stop(home, monkeypatch):
    decision = locking.decision_path(home, 3)
    monkeypatch.setenv(locking.STOP_FILE_ENV, str(decision))
    with locking.step("parse"):
        pass
    locking.decide(decision, "stop", why="SIGINT to `pipeline run` (pid 3)")
    ran = []
    with pytest.raises(locking.StopRequested) as err:
        with locking.step("build_models"):
            ran.append(True)
    assert not ran and "the run was stopped before step 'build_models': SIGINT" in str(err.value)


def test_an_error_a_stop_caused_inside_a_step_is_said_as_the_stop(home, monkeypatch):
    """The interrupt can land in code that then fails on its own (rmtree on a closed descriptor):
    after a stop that error is the stop's; without a stop it stays what it is."""
    decision = locking.decision_path(home, 4)
    monkeypatch.setenv(locking.STOP_FILE_ENV, str(decision))
    with pytest.raises(OSError, match="Bad file descriptor"):
        with locking.step("parse"):
            raise OSError(9, "Bad file descriptor")
    with pytest.raises(locking.StopRequested) as err:
        with locking.step("merge"):
            locking.decide(decision, "stop", why="SIGTERM to `pipeline run` (pid 4)")
            raise OSError(9, "Bad file descriptor")
    assert "the run was stopped in step 'merge': SIGTERM to `pipeline run` (pid 4)" in str(err.value)
    assert "(the step ended with OSError: [Errno 9] Bad file descriptor)" in str(err.value)


def test_the_terminal_shows_waits_and_not_step_starts(tmp_path, monkeypatch, capsys):
    path = tmp_path / "run.progress.jsonl"
    monkeypatch.setenv(progress.ENV, str(path))
    progress.started("land")
    progress.waiting("land", "un_sc x.xml: Connection refused; trying again at 12:00:02 (attempt 2 of 3)")
    follower = progress.Follower(path, sys.stdout)
    follower.poll()
    assert capsys.readouterr().out == ("[1/9] land: un_sc x.xml: Connection refused; trying again at 12:00:02 "
                                       "(attempt 2 of 3)\n")
    assert follower.current == "land"
