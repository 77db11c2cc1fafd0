"""Real faults: oversized inputs, failing downloads, a full disk, debris of killed runs, a damaged
lake, signals, a moved home and two runs at once. Each is produced for real (a sparse 2 GB file,
an HTTP server on 127.0.0.1, a 1 MiB tmpfs, SIGTERM to a running ``pipeline run``, truncated
Parquet) and the pipeline must refuse it, report it or recover from it."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from pipeline import flow, housekeeping, locking, raw
from pipeline.airflow_run import error_record, last_error, write_last_error
from pipeline.errors import SourceError
from pipeline.parse import parse_files
from pipeline.settings import Settings
from tests.conftest import DEMO, REPO

UN_DEMO = DEMO / "un_sc" / "consolidated.xml"
# The faults do not depend on the sources; two keep the real runs short.
RUN_SOURCES = "us_ofac_sdn,un_sc"


def _wait_for(check, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _leftovers(settings: Settings) -> list[Path]:
    return [p for p in settings.raw_dir.rglob("*") if p.is_file()] if settings.raw_dir.exists() else []


# --- 12. size cap before copying, retries only for transient failures ---------------------------

@pytest.fixture
def sparse_2gb(tmp_path: Path) -> Path:
    path = tmp_path / "consolidated.xml"
    with open(path, "wb") as fh:
        fh.truncate(2 * 1024**3)  # a sparse file: 2 GB by its size, no disk used
    return path


def test_2gb_file_is_refused_before_a_byte_is_copied(home, sparse_2gb):
    started = time.perf_counter()
    with pytest.raises(SourceError) as err:
        raw.land("un_sc", str(sparse_2gb), home)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, elapsed
    assert err.value.rule == "size cap" and err.value.file == "consolidated.xml"
    assert "2147483648 bytes" in str(err.value) and "nothing was copied" in str(err.value)
    assert _leftovers(home) == []  # no temp file, no stored copy, no manifest line


def test_missing_file_is_a_permanent_error(home, tmp_path):
    with pytest.raises(SourceError) as err:
        raw.land("un_sc", str(tmp_path / "nope.xml"), home)
    assert err.value.rule == "input exists" and not isinstance(err.value, raw.FetchError)


class _Scripted(http.server.BaseHTTPRequestHandler):
    """Answers each GET with the next scripted (status, headers, body) of its server."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        server = self.server
        server.hits.append(self.path)
        status, headers, body = server.script.pop(0) if len(server.script) > 1 else server.script[0]
        if status == "stall":
            server.release.wait(30)
            return
        self.send_response(status)
        for key, value in headers.items():
            if value is not None:  # None: leave the header out
                self.send_header(key, value)
        if "Content-Length" not in headers and body is not None:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body or b"")
        except OSError:
            pass  # the client refused the body (size cap) and closed the connection

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    server.daemon_threads = True
    server.hits, server.script, server.release = [], [], threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def _url(server, name: str = "consolidated.xml") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/{name}"


def test_http_404_is_not_retried(home, http_server):
    http_server.script = [(404, {}, b"not here"), (200, {}, UN_DEMO.read_bytes())]
    with pytest.raises(raw.FetchError) as err:
        raw.land("un_sc", _url(http_server), home, backoff=0.01)
    assert not err.value.transient and "HTTP 404" in str(err.value)
    assert len(http_server.hits) == 1
    assert _leftovers(home) == []


def test_http_503_then_200_is_retried(home, http_server):
    data = UN_DEMO.read_bytes()
    http_server.script = [(503, {"Retry-After": "0"}, b"busy"), (200, {}, data)]
    landed = raw.land("un_sc", _url(http_server), home, backoff=0.01)
    assert len(http_server.hits) == 2
    assert landed.sha256 == hashlib.sha256(data).hexdigest() and landed.bytes == len(data)
    assert Path(landed.path).read_bytes() == data
    assert [r.sha256 for r in raw.read_manifest(home)] == [landed.sha256]
    assert not list(home.raw_dir.glob(".landing-*"))


def test_transient_failures_give_up_after_the_attempts(home, http_server):
    http_server.script = [(503, {}, b"busy")]
    with pytest.raises(raw.FetchError) as err:
        raw.land("un_sc", _url(http_server), home, attempts=3, backoff=0.01)
    assert err.value.transient and len(http_server.hits) == 3


def test_a_stalled_server_times_out_as_a_transient_error(home, http_server):
    http_server.script = [("stall", {}, None)]
    with pytest.raises(raw.FetchError) as err:
        raw.land("un_sc", _url(http_server), home, timeout=0.3, attempts=2, backoff=0.01)
    assert err.value.transient and len(http_server.hits) == 2


def test_declared_content_length_over_the_cap_is_refused_before_reading(home, http_server):
    small = dataclasses.replace(home, max_raw_bytes=1000)
    http_server.script = [(200, {"Content-Length": str(2 * 1024**3)}, b"x" * 4096)]
    with pytest.raises(SourceError) as err:
        raw.land("un_sc", _url(http_server), small)
    assert err.value.rule == "size cap" and "2147483648 bytes" in str(err.value)
    assert len(http_server.hits) == 1 and _leftovers(small) == []


def test_undeclared_stream_is_capped_while_streaming(home, http_server):
    small = dataclasses.replace(home, max_raw_bytes=1000)
    http_server.script = [(200, {"Content-Length": None}, b"y" * 5000)]  # no declared length
    with pytest.raises(SourceError) as err:
        raw.land("un_sc", _url(http_server), small)
    assert err.value.rule == "size cap"
    assert _leftovers(small) == []


@pytest.mark.integration
def test_the_land_task_fails_at_once_on_a_permanent_error(airflow_db, home, sparse_2gb, monkeypatch):
    """A real DagRun: the 2 GB input fails ``land`` on its first try, with no retry scheduled."""
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("PIPELINE_SOURCES", RUN_SOURCES)
    monkeypatch.setenv("PIPELINE_INPUT_UN_SC", str(sparse_2gb))
    dag = DagBag(dag_folder=str(REPO / "dags")).get_dag("sanctions_pipeline")
    assert dag.get_task("land").retries >= 2  # transient network failures still get retried later
    started = time.perf_counter()
    run = dag.test(logical_date=pendulum.datetime(2024, 8, 1, tz="UTC"))
    elapsed = time.perf_counter() - started
    land = next(ti for ti in run.get_task_instances() if ti.task_id == "land")
    assert str(land.state).rsplit(".", 1)[-1].lower() == "failed"
    assert land.try_number == 1
    assert elapsed < 120, elapsed
    err = last_error(home)
    assert err["step"] == "land" and "size cap" in err["error"] and "consolidated.xml" in err["error"]
    assert not (home.raw_dir / "un_sc").exists() and not list(home.raw_dir.glob(".landing-*"))


# --- 13. a full disk ---------------------------------------------------------------------------

@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[tuple[Path, bool]]:
    """A 1 MiB tmpfs (real ENOSPC); ``(folder, True)``. Without the right to mount one, the
    folder is ordinary and the tests inject ``OSError(ENOSPC)`` at the write call instead."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    yield mount, done.returncode == 0
    if done.returncode == 0:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> None:
    with open(folder / "filler", "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_disk_full_while_landing_gives_a_clear_message_and_no_debris(full_disk, tmp_path, monkeypatch):
    folder, real = full_disk
    settings = dataclasses.replace(_settings_at(folder / "home"), max_raw_bytes=1 << 30)
    big = tmp_path / "consolidated.xml"
    big.write_bytes(UN_DEMO.read_bytes() * (2 * 1024 * 1024 // UN_DEMO.stat().st_size + 1))  # > 1 MiB
    if not real:
        _inject_enospc(monkeypatch)
    with pytest.raises(OSError) as err:
        raw.land("un_sc", str(big), settings)
    assert err.value.errno == errno.ENOSPC
    assert str(settings.raw_dir) in err.value.filename
    assert not list(settings.raw_dir.glob(".landing-*"))

    if real:
        _fill(folder)  # not even the error record fits now
    flow.record_failure(settings, "manual__1", "land", err.value)  # must not raise
    reported = last_error(settings)
    assert reported is not None
    if real:
        assert not (settings.home / "last_error.json").exists()
        assert not list(settings.home.glob(".last_error-*"))
    assert reported["error"].startswith("disk full at ")
    assert "free space and re-run; nothing was published" in reported["error"]


def _settings_at(home: Path) -> Settings:
    from pipeline import settings as settings_mod

    return dataclasses.replace(settings_mod.load(), home=home)


def _inject_enospc(monkeypatch: pytest.MonkeyPatch) -> None:
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fh):
            self._fh = fh

        def write(self, _data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._fh.close()

        def __getattr__(self, name):
            return getattr(self._fh, name)

    monkeypatch.setattr(raw.os, "fdopen", lambda fd, *a, **k: Full(real_fdopen(fd, *a, **k)))


def test_error_record_names_the_full_disk(home):
    err = OSError(errno.ENOSPC, "No space left on device", str(home.staged_dir / "x.parquet"))
    record = error_record(home, "manual__2", "parse", err)
    assert record["type"] == "DiskFull"
    assert record["error"].startswith(f"disk full at {home.staged_dir / 'x.parquet'}")
    assert record["error"].endswith("free space and re-run; nothing was published; the last good publication "
                                    "is unchanged.")
    # DuckDB and Arrow say it in their own words, without an errno
    duck = RuntimeError('IO Error: Could not write file "/data/build/run/sanctions.duckdb": No space left on device')
    assert error_record(home, "r", "build_models", duck)["error"].startswith(
        "disk full at /data/build/run/sanctions.duckdb")


@pytest.mark.parametrize("content", [b"", b'{"run_id": "x", "step": "pa', b"\x00\x00", b"[1, 2]"])
def test_last_error_never_raises_on_a_damaged_record(home, content):
    home.home.mkdir(parents=True)
    (home.home / "last_error.json").write_bytes(content)
    reported = last_error(home)
    assert reported["step"] == "unknown" and "empty or damaged" in reported["error"]


def test_last_error_round_trip_is_atomic(home):
    assert last_error(home) is None
    write_last_error(home, {"run_id": "r", "step": "parse", "error": "boom", "type": "SourceError"})
    assert last_error(home)["error"] == "boom"
    assert sorted(p.name for p in home.home.iterdir()) == ["last_error.json"]


# --- 13. debris and the run lock ---------------------------------------------------------------

def _debris(settings: Settings) -> dict[str, Path]:
    releases = settings.publish_dir / "releases"
    found = {
        "build": settings.build_dir / "manual__old" / "staged" / "designations" / "x.parquet",
        "release": releases / ".tmp-manual__old" / "sanctions.duckdb",
        "landing": settings.raw_dir / ".landing-abc123",
        "error_tmp": settings.home / ".last_error-99.tmp",
        "own": settings.build_dir / "manual__mine" / "sanctions.duckdb",
    }
    for path in found.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half-written")
    link = settings.publish_dir / ".current-manual__old"
    link.symlink_to(Path("releases") / "manual__old")
    found["link"] = link
    return found


def test_sweep_removes_debris_and_reclaims_a_published_run(home):
    found = _debris(home)
    # a run that published but was killed before its staged parts joined the lake
    published = home.build_dir / "manual__pub" / "staged" / "names" / "source=un_sc" / "snapshot_date=2024-06-28"
    published.mkdir(parents=True)
    (published / "part-abc.parquet").write_bytes(b"PAR1...PAR1")
    (home.publish_dir / "releases" / "manual__pub").mkdir(parents=True)

    removed = housekeeping.sweep(home, keep="manual__mine")

    for name in ("build", "release", "landing", "error_tmp", "link"):
        assert not found[name].exists() and not found[name].is_symlink(), name
    assert not (home.build_dir / "manual__old").exists() and not (home.build_dir / "manual__pub").exists()
    assert found["own"].exists()  # the calling run's own build folder stays
    assert (home.staged_dir / "names" / "source=un_sc" / "snapshot_date=2024-06-28" / "part-abc.parquet").exists()
    assert len(removed) == 6


def test_sweep_if_idle_leaves_a_live_run_alone(home):
    found = _debris(home)
    with locking.run_lock(home, timeout=0):
        assert housekeeping.sweep_if_idle(home) == []
        assert found["build"].exists()
    assert housekeeping.sweep_if_idle(home)
    assert not found["build"].exists()


def test_run_lock_waits_then_gives_up_with_a_clear_message(home):
    with locking.run_lock(home, timeout=0):
        assert not locking.is_free(home)
        with pytest.raises(locking.RunLocked) as err:
            with locking.run_lock(home, timeout=0.3, notify=lambda _m: None):
                pass
    message = str(err.value)
    assert f"pid {os.getpid()}" in message and str(home.home) in message and "PIPELINE_LOCK_TIMEOUT" in message
    assert locking.is_free(home)


def test_run_lock_waits_for_the_holder(home):
    waiting, release, acquired = threading.Event(), threading.Event(), []

    def holder():
        with locking.run_lock(home, timeout=0):
            acquired.append("holder")
            release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    _wait_for(lambda: acquired, 10, "the holder to take the lock")
    messages = []

    def notify(msg):
        messages.append(msg)
        waiting.set()
        release.set()

    with locking.run_lock(home, timeout=30, notify=notify):
        acquired.append("waiter")
    thread.join(10)
    assert acquired == ["holder", "waiter"]
    assert messages and "waiting up to 30s" in messages[0]


# --- 13. a damaged lake ------------------------------------------------------------------------

@pytest.fixture
def un_lake(home) -> tuple[Settings, Path]:
    """The demo UN list landed into the raw store and parsed into the lake, as a run leaves it."""
    landed = raw.land("un_sc", str(UN_DEMO), home)
    parse_files("un_sc", [Path(landed.path)], home.staged_dir, names=[landed.name], sha256s=[landed.sha256])
    part = next(home.staged_dir.glob("designations/source=un_sc/snapshot_date=*/part-*.parquet"))
    return home, part


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_damaged_lake_part_is_quarantined_and_healed_from_the_raw_store(un_lake, tmp_path, caplog):
    settings, part = un_lake
    rel = part.relative_to(settings.staged_dir)
    _truncate(part)
    caplog.set_level("WARNING")

    view = housekeeping.lake_view(settings, tmp_path / "healed")

    assert f"damaged Parquet in the lake: {part}" in caplog.text
    quarantined = list((settings.lake_dir / "quarantine").rglob(part.name))
    assert len(quarantined) == 1 and str(rel) in str(quarantined[0])
    assert "PAR1" in quarantined[0].with_name(part.name + ".reason.txt").read_text()
    files = dict(view)
    assert files[rel] == tmp_path / "healed" / rel and housekeeping.parquet_damage(files[rel]) is None
    assert {r.parts[0] for r in files} >= {"designations", "names", "country_links"}
    assert "re-parsed from the raw store" in caplog.text


def test_damaged_snapshot_without_its_raw_file_is_left_out(un_lake, tmp_path, caplog):
    settings, part = un_lake
    for stored in raw.read_manifest(settings):
        Path(stored.path).unlink()
    _truncate(part)
    caplog.set_level("WARNING")

    assert housekeeping.lake_view(settings, tmp_path / "healed") == []
    assert "left out of this build" in caplog.text and "gone from the raw store" in caplog.text
    assert not list(settings.staged_dir.rglob("*.parquet"))  # the lake keeps only whole snapshots
    assert len(list((settings.lake_dir / "quarantine").rglob("*.parquet"))) >= 5
    assert housekeeping.lake_view(settings, tmp_path / "healed") == []  # and the next run is quiet


def test_damaged_part_this_run_rewrites_needs_no_healing(un_lake, tmp_path):
    settings, part = un_lake
    rel = part.relative_to(settings.staged_dir)
    _truncate(part)
    view = dict(housekeeping.lake_view(settings, tmp_path / "healed", covered={rel}))
    assert rel not in view and not (tmp_path / "healed").exists()
    assert len(view) >= 4


# --- 12-14. real runs: two at once, SIGTERM, a moved home with a damaged lake ------------------

def _run_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW", "PIPELINE_INPUT_"))}  # the embedded mode sets its own
    env.update({"PIPELINE_HOME": str(home), "PIPELINE_SOURCES": RUN_SOURCES, **extra})
    return env


def _start(home: Path, log: Path, **extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run"], cwd=REPO, env=_run_env(home, **extra),
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)  # noqa: SIM115


def _finish(proc: subprocess.Popen, log: Path, timeout: float = 600) -> str:
    """What the run printed, followed by Airflow's own log of it (which `pipeline run` writes to
    the file it names, keeping the terminal to one line per step)."""
    proc.wait(timeout)
    out = log.read_text()
    named = re.search(r"its log: (\S+)", out)
    if named and Path(named.group(1)).is_file():
        out += "\n" + Path(named.group(1)).read_text()
    return out


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("faults") / "home"


@pytest.mark.integration
def test_two_runs_at_once_on_a_fresh_home_are_serialized(shared_home, tmp_path):
    first = _start(shared_home, tmp_path / "first.log")
    _wait_for(lambda: (shared_home / ".run.lock").exists(), 60, "the first run to take the lock")
    second = _start(shared_home, tmp_path / "second.log")
    impatient = _start(shared_home, tmp_path / "impatient.log", PIPELINE_LOCK_TIMEOUT="0")

    out_impatient = _finish(impatient, tmp_path / "impatient.log", 120)
    out_first = _finish(first, tmp_path / "first.log")
    out_second = _finish(second, tmp_path / "second.log")

    assert impatient.returncode == 1, out_impatient
    assert "another pipeline run (pid" in out_impatient and "Nothing was changed by this run" in out_impatient
    assert first.returncode == 0, out_first[-3000:]
    assert second.returncode == 0, out_second[-3000:]
    assert "waiting up to 3600s" in out_second
    assert out_first.count("Preparing Airflow's metadata database") + \
        out_second.count("Preparing Airflow's metadata database") == 1
    # the second run waited for the first, then, under the lock, found the same inputs published: it keeps
    # that release without starting Airflow (the re-run short-circuit, pipeline/rerun.py)
    assert "Nothing changed since release" in out_second and "Airflow was not started" in out_second, \
        out_second[-3000:]
    releases = [p for p in (shared_home / "publish" / "releases").iterdir() if not p.name.startswith(".")]
    assert len(releases) == 1 and (shared_home / "publish" / "current" / "sanctions.duckdb").exists()


@pytest.mark.integration
def test_sigterm_stops_the_airflow_child_too(shared_home, tmp_path):
    log = tmp_path / "killed.log"
    parent = _start(shared_home, log, PIPELINE_SKIP_UNCHANGED="0")  # nothing changed: a run that works anyway
    ps = psutil.Process(parent.pid)

    def child():
        kids = [k for k in ps.children(recursive=True) if "pipeline.airflow_run" in " ".join(k.cmdline())]
        return kids and (shared_home / "build").is_dir() and any((shared_home / "build").iterdir()) and kids

    try:
        kids = _wait_for(child, 180, "the Airflow child to start a task")
        family = [*kids, *(d for k in kids for d in k.children(recursive=True))]
        started = time.monotonic()
        parent.send_signal(signal.SIGTERM)
        parent.wait(60)
        stopped_in = time.monotonic() - started
    finally:
        if parent.poll() is None:
            parent.kill()
    out = log.read_text()
    assert parent.returncode == 128 + signal.SIGTERM, out[-2000:]
    assert "Stopped by SIGTERM" in out
    _wait_for(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family),
              30, "the Airflow child and its processes to exit")
    assert stopped_in < 60
    assert locking.is_free(_settings_at(shared_home))


@pytest.mark.integration
def test_moved_home_with_a_damaged_lake_still_publishes(shared_home, tmp_path):
    """The home of the runs above (with the debris of the SIGTERM) is damaged and moved; the next
    run sweeps the debris, heals the lake from the raw store and publishes under the new path."""
    settings = _settings_at(shared_home)
    un_part = next(settings.staged_dir.glob("designations/source=un_sc/snapshot_date=*/part-*.parquet"))
    rel = un_part.relative_to(settings.staged_dir)
    _truncate(un_part)
    leftover = sorted(p.name for p in settings.build_dir.iterdir()) if settings.build_dir.exists() else []
    moved = tmp_path / "moved-home"
    shutil.move(str(shared_home), moved)

    # only OFAC runs: the UN snapshot must come from the lake, healed
    log = tmp_path / "moved.log"
    proc = _start(moved, log, PIPELINE_SOURCES="us_ofac_sdn")
    out = _finish(proc, log)

    assert proc.returncode == 0, out[-4000:]
    assert f"damaged Parquet in the lake: {moved / 'lake' / 'staged' / rel}" in out
    for name in leftover:
        assert f"housekeeping: removing {moved / 'build' / name}" in out
    healed = moved / "lake" / "staged" / rel
    assert housekeeping.parquet_damage(healed) is None
    assert list((moved / "lake" / "quarantine").rglob(un_part.name))
    release = json.loads((moved / "publish" / "current" / "release.json").read_text())
    assert set(release["source_snapshots"]) == {"us_ofac_sdn", "un_sc"}
    assert not list((moved / "build").iterdir())
