"""The production topology of ``docker-compose.yml``, run natively on this machine.

Same components and the compose file's own settings (its ``x-airflow-common`` environment, the
FAB auth manager among them), no Docker: the metadata database is a fresh PostgreSQL database
(``pipeline_topo_<random>`` on 127.0.0.1:5432, dropped at the end), the Celery broker is Redis
(127.0.0.1:6379, a db number that was empty), task results go to Postgres
(``db+postgresql+psycopg2://``). ``airflow db migrate`` and the admin's creation (airflow-init's own
inline Python, read from the compose file) come first; then the five long-running services start
as subprocesses: ``api-server`` (which also serves the Execution API the tasks talk to; one JWT
secret is shared by all), ``celery worker``, ``dag-processor``, ``scheduler`` and ``triggerer``.

The dag-processor parses the per-source ingest DAGs and the publish DAG into Postgres. The run
takes three sources (``PIPELINE_SOURCES``; the others' ingest DAGs are paused at creation, so the
test stays within minutes on a loaded machine): their ingest DAGs, not paused at creation, get
their scheduled runs; each commits its snapshot and emits its asset, and the scheduler starts
``sanctions_publish`` on those asset events (``asset_triggered`` runs). Every task goes scheduler ->
Redis -> Celery worker -> Execution API -> Postgres. The test asserts those runs and their task
instances succeeded, that the current publication holds the three sources' snapshots, that the
REST API refuses anonymous calls and a wrong password, and that a publish run triggered over REST
by the admin (FAB login) succeeds too. Every wait polls its condition until a deadline
(``PIPELINE_TOPOLOGY_DEADLINE_S``, 600 s by default, per phase: a loaded 2-core machine needs
minutes to start five Airflow processes and run a dozen task processes); every process is stopped
(SIGTERM, then SIGKILL) and the database dropped, whatever happens. How long each phase took is
printed (``pytest -rA`` shows it) and recorded as user properties (``--junitxml``).

An integration test; skipped only when Postgres or Redis is not reachable on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, closing
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PG_PORT = 5432
REDIS_PORT = 6379
PUBLISH_DAG = "sanctions_publish"
SOURCES = ("un_sc", "eu_fsf", "us_ofac_sdn")
DEADLINE_S = float(os.environ.get("PIPELINE_TOPOLOGY_DEADLINE_S", "600"))  # per phase; stopping adds <= ~30 s
HTTP_TIMEOUT_S = 60  # one request to an api-server that a loaded machine may serve slowly

pytestmark = pytest.mark.integration


# ---------------------------------------------------------------------------------------------
# services: Postgres and Redis on 127.0.0.1
# ---------------------------------------------------------------------------------------------


def _pg_user() -> str:
    """A role that can create databases (trust auth): ``postgres`` or the current user."""
    import psycopg2

    errors = []
    for user in dict.fromkeys(["postgres", os.environ.get("USER") or "", _login_name()]):
        if not user:
            continue
        try:
            with closing(psycopg2.connect(host=HOST, port=PG_PORT, user=user, dbname="postgres",
                                          connect_timeout=3)):
                return user
        except Exception as exc:  # noqa: BLE001 - collected for the skip reason
            errors.append(f"{user}: {str(exc).strip()}")
    pytest.skip(f"PostgreSQL on {HOST}:{PG_PORT} is not reachable: {'; '.join(errors)}")


def _login_name() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except Exception:  # noqa: BLE001
        return ""


RESERVED = "pipeline_topo:reserved"


def _redis_db() -> int:
    """Reserve an empty Redis db number (1..15) so the broker is shared with nobody (not even a
    concurrent run of this test): SET NX a marker, and keep the db only if the marker is alone."""
    try:
        import redis
    except ImportError:
        pytest.skip("the redis client is not installed")
    try:
        client = redis.Redis(host=HOST, port=REDIS_PORT, db=0, socket_timeout=3)
        client.ping()
        databases = int(client.config_get("databases").get("databases", 16))
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"Redis on {HOST}:{REDIS_PORT} is not reachable: {exc}")
    for number in range(min(databases, 16) - 1, 0, -1):
        db = redis.Redis(host=HOST, port=REDIS_PORT, db=number, socket_timeout=3)
        if db.set(RESERVED, os.getpid(), nx=True, ex=900):
            if db.dbsize() == 1:
                return number
            db.delete(RESERVED)
    pytest.skip("no empty Redis db number for the broker")


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# processes: start, wait, stop (every wait bounded)
# ---------------------------------------------------------------------------------------------


class Proc:
    """A long-running Airflow component with its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logdir: Path):
        self.name = name
        self.log = logdir / f"{name}.log"
        self._fh = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args], env=env, cwd=str(REPO),
            stdout=self._fh, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return f"--- {self.name} (last {lines} lines of {self.log}) ---\n" + "\n".join(text[-lines:])

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM the component's process group, wait, then SIGKILL it."""
        if self.alive():
            self._signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        # children (uvicorn workers, celery pool, task supervisors) share the group; a task
        # process gets a group of its own but stays in the component's session
        self._signal(signal.SIGKILL)
        for pid in _session_members(self.popen.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._fh.close()

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _session_members(sid: int) -> list[int]:
    """Pids in session `sid` (the component was started as a session leader)."""
    members = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == sid:
                    members.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return members


def stop_all(procs: list[Proc], timeout: float = 20) -> None:
    """SIGTERM every component at once, give them `timeout` seconds together, then SIGKILL."""
    for proc in procs:
        if proc.alive():
            proc._signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(p.alive() for p in procs):
        time.sleep(0.5)
    for proc in procs:
        proc.stop(timeout=0)


def _run(args: list[str], env: dict[str, str], log: Path, timeout: float) -> subprocess.CompletedProcess:
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "airflow", *args], env=env, cwd=str(REPO),
                                stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            pytest.fail(f"`airflow {' '.join(args)}` took more than {timeout:.0f}s\n{_tail(log)}")
    return subprocess.CompletedProcess(proc.args, proc.returncode)


def _tail(log: Path, lines: int = 60) -> str:
    text = log.read_text(errors="replace").splitlines() if log.exists() else []
    text = [line[:500] for line in text if "No tasks to run" not in line]
    return f"--- {log.name} ---\n" + "\n".join(text[-lines:])


def _http(method: str, url: str, payload: dict | None = None, token: str | None = None):
    """(status, parsed JSON body) of one request to the api-server."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def _wait_http(url: str, proc: Proc, deadline: float) -> None:
    """Poll `url` until it answers 200, `proc` dies or the monotonic `deadline` passes."""
    last = None
    while time.monotonic() < deadline:
        if not proc.alive():
            pytest.fail(f"{proc.name} exited with {proc.popen.returncode}\n{proc.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                if resp.status == 200:
                    return
        except Exception as exc:  # noqa: BLE001
            last = exc
        time.sleep(1)
    pytest.fail(f"{url} not healthy by the {DEADLINE_S:.0f}s start-up deadline ({last})\n{proc.tail()}")


def _wait_log(proc: Proc, needle: str, deadline: float) -> None:
    """Poll `proc`'s log until it holds `needle`, `proc` dies or the monotonic `deadline` passes."""
    while time.monotonic() < deadline:
        if not proc.alive():
            pytest.fail(f"{proc.name} exited with {proc.popen.returncode}\n{proc.tail()}")
        if needle in proc.log.read_text(errors="replace"):
            return
        time.sleep(1)
    pytest.fail(f"{proc.name} not ready by the {DEADLINE_S:.0f}s start-up deadline (no {needle!r})\n{proc.tail()}")


# ---------------------------------------------------------------------------------------------
# the environment: the compose file's x-airflow-common environment, with 127.0.0.1 addresses
# ---------------------------------------------------------------------------------------------


def async_conn(sql_conn: str) -> str:
    """The async metadata URL Airflow 3 derives (``postgresql+asyncpg``), as in the image
    (asyncpg is pinned in requirements.lock, so the test runs the production drivers)."""
    return sql_conn.replace("postgresql+psycopg2://", "postgresql+asyncpg://", 1)


def compose_env() -> dict[str, str]:
    """The ``x-airflow-common`` environment of docker-compose.yml, with ``${VAR}`` left as is."""
    import yaml

    doc = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return {k: str(v) for k, v in doc["x-airflow-common"]["environment"].items()}


# What differs natively from the containers: addresses, secrets, paths, and the inputs (the demo
# files, offline, instead of the live official URLs). Every other setting is the compose file's.
NATIVE_OVERRIDES = {
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC",
    "AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CELERY__RESULT_BACKEND",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__DAGS_FOLDER",
    "PIPELINE_HOME", "PIPELINE_SQL_DIR",
}
# Dropped natively: the settings that make the containers fetch the official lists (live mode).
LIVE_ONLY = {"PIPELINE_LIVE"}


def topology_env(tmp: Path, sql_conn: str, result_backend: str, broker: str,
                 api_port: int) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW", "PIPELINE_", "_AIRFLOW"))}
    compose = compose_env()
    literal = {k: v for k, v in compose.items() if k not in NATIVE_OVERRIDES | LIVE_ONLY}
    assert not [v for v in literal.values() if "${" in v], "a compose setting needs a native value"
    env.update(literal)
    env.update({
        "AIRFLOW_HOME": str(tmp / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_conn,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": async_conn(sql_conn),
        "AIRFLOW__CELERY__BROKER_URL": broker,
        "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{HOST}:{api_port}/execution/",
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        # one secret shared by the JWT issuer (the executor) and validator (the api-server)
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(tmp / "airflow" / "logs"),
        "PIPELINE_HOME": str(tmp / "home"),
        "PIPELINE_SQL_DIR": str(REPO / "sql"),
        "PIPELINE_SOURCES": ",".join(SOURCES),  # the demo files of three sources, offline
        "PYTHONUNBUFFERED": "1",
    })
    dropped = set(compose) - set(env)
    assert dropped <= LIVE_ONLY, dropped  # demo files, offline
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("FabAuthManager")
    return env


def init_admin_code() -> str:
    """The inline Python with which airflow-init creates the admin (FAB) from .env."""
    import re

    import yaml

    doc = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    script = doc["services"]["airflow-init"]["command"][-1]
    found = re.search(r'python -c "\n(.*?)\n"', script, re.S)
    assert found, "airflow-init no longer creates the admin with python -c"
    return found.group(1)


# ---------------------------------------------------------------------------------------------
# the test
# ---------------------------------------------------------------------------------------------


def test_source_dags_and_asset_triggered_publish_on_celery_redis_postgres(tmp_path: Path, record_property) -> None:
    import psycopg2
    import redis

    pg_user = _pg_user()
    redis_db = _redis_db()
    dbname = f"pipeline_topo_{secrets.token_hex(4)}"
    queue = "default"  # the tasks' queue; the broker db was empty, so the queue is ours alone
    api_port = _free_port()
    base = f"http://{HOST}:{api_port}"
    logs = tmp_path / "logs"
    logs.mkdir()
    timings: dict[str, float] = {}
    started = time.monotonic()

    def admin(sql: str) -> None:
        with closing(psycopg2.connect(host=HOST, port=PG_PORT, user=pg_user, dbname="postgres")) as con:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(sql)

    def query(sql: str, *params) -> list[tuple]:
        with closing(psycopg2.connect(host=HOST, port=PG_PORT, user=pg_user, dbname=dbname)) as con:
            with con.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()

    sql_conn = f"postgresql+psycopg2://{pg_user}@{HOST}:{PG_PORT}/{dbname}"
    env = topology_env(
        tmp_path, sql_conn,
        result_backend=f"db+{sql_conn}",
        broker=f"redis://{HOST}:{REDIS_PORT}/{redis_db}",
        api_port=api_port,
    )
    # the scheduler's health server and the triggerer's log server on free local ports
    env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST"] = HOST
    env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"] = str(scheduler_port := _free_port())
    env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(_free_port())
    (tmp_path / "airflow").mkdir()

    try:
        with ExitStack() as stack:
            admin(f'CREATE DATABASE "{dbname}"')
            stack.callback(admin, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            stack.callback(_clean_redis, redis.Redis(host=HOST, port=REDIS_PORT, db=redis_db), queue)

            # airflow-init: the metadata schema in Postgres, then the admin (FAB), as the compose file does
            t0 = time.monotonic()
            migrate = _run(["db", "migrate"], env, logs / "db-migrate.log", timeout=DEADLINE_S)
            assert migrate.returncode == 0, _tail(logs / "db-migrate.log")
            password = secrets.token_urlsafe(16)
            init_env = {**env, "AIRFLOW_ADMIN_USERNAME": "admin", "AIRFLOW_ADMIN_PASSWORD": password}
            with open(logs / "init-admin.log", "wb") as fh:
                made = subprocess.run([sys.executable, "-c", init_admin_code()], env=init_env, cwd=str(REPO),
                                      stdout=fh, stderr=subprocess.STDOUT, timeout=DEADLINE_S)
            assert made.returncode == 0, _tail(logs / "init-admin.log")
            assert "created the Airflow admin admin" in (logs / "init-admin.log").read_text()
            timings["db migrate + admin"] = time.monotonic() - t0

            # the five long-running services of the compose file, healthy by one start-up deadline
            t0 = time.monotonic()
            procs: list[Proc] = []
            stack.callback(stop_all, procs)
            for name, args in [
                ("api-server", ["api-server", "--host", HOST, "--port", str(api_port), "--workers", "1"]),
                ("celery-worker", ["celery", "worker", "--queues", queue, "--concurrency", "2",
                                   "--without-mingle", "--without-gossip", "--skip-serve-logs"]),
                ("dag-processor", ["dag-processor"]),
                ("scheduler", ["scheduler"]),
                ("triggerer", ["triggerer"]),
            ]:
                procs.append(Proc(name, args, env, logs))
            api, worker = procs[0], procs[1]

            def detail() -> str:
                return "\n".join(p.tail(30) for p in procs)

            startup_deadline = t0 + DEADLINE_S
            _wait_http(f"{base}/api/v2/monitor/health", api, startup_deadline)
            _wait_http(f"http://{HOST}:{scheduler_port}/health", procs[3], startup_deadline)
            _wait_log(worker, "ready.", startup_deadline)
            timings["start-up"] = time.monotonic() - t0

            # The dag-processor parses dags/ into Postgres: the selected sources' ingest DAGs are not
            # paused at creation (the compose file's default), every other source's is.
            t0 = time.monotonic()
            ingest = [f"ingest_{source}" for source in SOURCES]

            def parsed():
                rows = dict(query("select dag_id, is_paused from dag where dag_id like 'ingest_%%' "
                                  "or dag_id = %s", PUBLISH_DAG))
                return rows if set(ingest) | {PUBLISH_DAG, "ingest_gb_hmt"} <= set(rows) else None

            paused = _wait_for(parsed, procs, "the dag-processor to parse the DAGs", DEADLINE_S)
            assert {d for d, p in paused.items() if not p} == {*ingest, PUBLISH_DAG}, paused
            timings["dags parsed"] = time.monotonic() - t0

            # Each ingest DAG gets its scheduled run; its commit emits the source's asset.
            t0 = time.monotonic()
            finished = _wait_for(
                lambda: (lambda rows: rows if len(rows) == len(ingest) else None)(query(
                    "select dag_id, run_id, state from dag_run where dag_id = any(%s) and run_type = 'scheduled' "
                    "and state in ('success', 'failed')", ingest)),
                procs, "the ingest DAGs' scheduled runs", DEADLINE_S)
            timings["ingest runs"] = time.monotonic() - t0
            assert {state for _, _, state in finished} == {"success"}, f"{finished}\n{detail()}"
            events = query("select a.name, e.source_dag_id, e.extra from asset_event e "
                           "join asset a on a.id = e.asset_id where a.name like 'staged_%%'")
            assert sorted(name for name, _, _ in events) == sorted(f"staged_{s}" for s in SOURCES), events
            for name, dag_id, extra in events:
                extra = extra if isinstance(extra, dict) else json.loads(extra)
                assert dag_id == f"ingest_{name.removeprefix('staged_')}", (name, dag_id)
                assert extra["snapshots"][0]["counts"]["designations"] > 0, extra

            # The scheduler starts the publish DAG on those asset events (AssetAny: each new snapshot
            # may start a run; snapshots landing during a run start one more). Wait until every
            # asset event was consumed and every publish run has finished.
            t0 = time.monotonic()

            def published():
                runs = query("select run_id, run_type, state from dag_run where dag_id = %s", PUBLISH_DAG)
                queued = query("select count(*) from asset_dag_run_queue where target_dag_id = %s", PUBLISH_DAG)
                done = runs and queued == [(0,)] and all(state in ("success", "failed") for _, _, state in runs)
                return runs if done else None

            runs = _wait_for(published, procs, "the asset-triggered publish runs", DEADLINE_S)
            timings["asset-triggered publish"] = time.monotonic() - t0
            assert {run_type for _, run_type, _ in runs} == {"asset_triggered"}, runs
            assert {state for _, _, state in runs} == {"success"}, f"{runs}\n{detail()}"
            consumed = query("select count(distinct e.id) from dagrun_asset_event d join asset_event e "
                             "on e.id = d.event_id join dag_run r on r.id = d.dag_run_id where r.dag_id = %s",
                             PUBLISH_DAG)
            assert consumed == [(len(SOURCES),)], consumed

            # every task instance ran on the Celery worker and succeeded (clean_up included), recorded in Postgres
            tis = query("select dag_id, task_id, state, queue, hostname from task_instance")
            assert len(tis) >= 6 * (len(SOURCES) + 1), tis
            assert {ti[2] for ti in tis} == {"success"}, tis
            assert {ti[3] for ti in tis} == {queue}, tis
            assert all(ti[4] for ti in tis), f"a task has no worker hostname: {tis}"
            assert worker.log.read_text(errors="replace").count("Executing workload in Celery") >= len(tis)
            jobs = dict(query("select job_type, state from job where state = 'running'"))
            assert {"SchedulerJob", "DagProcessorJob", "TriggererJob"} <= set(jobs), jobs

            # the publication, under the temporary PIPELINE_HOME, holds the three sources' snapshots
            current = tmp_path / "home" / "publish" / "current"
            assert (current / "sanctions.duckdb").is_file(), f"no publication at {current}\n{detail()}"
            release = json.loads((current / "release.json").read_text())
            assert set(SOURCES) <= set(release["source_snapshots"]), release["source_snapshots"]

            # The public API: authentication is on (FAB); the admin triggers a publish run over REST
            # and it succeeds through the same scheduler -> Redis -> worker path.
            t0 = time.monotonic()
            runs_url = f"{base}/api/v2/dags/{PUBLISH_DAG}/dagRuns"
            assert _http("GET", runs_url)[0] == 401
            assert _http("POST", f"{base}/auth/token", {"username": "admin", "password": "wrong"})[0] == 401
            status, body = _http("POST", f"{base}/auth/token", {"username": "admin", "password": password})
            assert status == 201, body
            token = body["access_token"]
            status, body = _http("POST", runs_url, {"logical_date": None}, token=token)
            assert status == 200, body
            run_id = body["dag_run_id"]

            def api_state():
                code, run = _http("GET", f"{runs_url}/{run_id}", token=token)
                assert code == 200, run
                return run["state"] if run["state"] in ("success", "failed") else None

            state = _wait_for(api_state, procs, "the DagRun triggered over REST", DEADLINE_S)
            timings["REST-triggered run"] = time.monotonic() - t0
            assert state == "success", detail()
    finally:
        # shown by `pytest -rA` (and with a failure's captured output), kept in --junitxml
        timings["total"] = time.monotonic() - started
        for phase, seconds in timings.items():
            record_property(f"{phase} s", round(seconds, 1))
        print("\nproduction topology timings (deadline "
              f"{DEADLINE_S:.0f}s per phase): " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))

def _wait_for(probe, procs: list[Proc], what: str, timeout: float):
    """Poll `probe()` until it returns something truthy; fail if a component dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if not proc.alive():
                pytest.fail(f"{proc.name} exited with {proc.popen.returncode} while waiting for {what}\n"
                            f"{proc.tail()}")
        result = probe()
        if result:
            return result
        time.sleep(2)
    pytest.fail(f"timed out after {timeout:.0f}s (PIPELINE_TOPOLOGY_DEADLINE_S) waiting for {what}\n"
                + "\n".join(p.tail(30) for p in procs))


def _clean_redis(client, queue: str) -> None:
    """Remove the broker keys of this run and the reservation (the db was empty before)."""
    try:
        keys = list(client.scan_iter(count=1000))
        mine = [k for k in keys if k in (queue.encode(), RESERVED.encode())
                or k.startswith((b"_kombu", b"unacked"))]
        if mine:
            client.delete(*mine)
    except Exception:  # noqa: BLE001 - cleanup must not hide the test result
        pass
