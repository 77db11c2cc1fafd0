"""``make airflow``: the Airflow UI on the embedded home, on 127.0.0.1 only.

Starts ``airflow api-server`` (UI, REST API and the Execution API), ``airflow scheduler`` and
``airflow dag-processor`` on the project-local ``AIRFLOW_HOME`` (``var/airflow``, SQLite, the
LocalExecutor) that ``pipeline run`` records its runs in, so the UI shows those runs, their task
logs and the assets. Each component's output goes to ``var/airflow/logs/ui-<component>.log``.

Login: user ``admin`` with a password generated at each start and printed once. Airflow's simple
auth manager reads passwords from a plaintext JSON file; that file lives in a private temporary
folder (mode 0700) outside the checkout and the pipeline home, and is deleted when this command
stops. One JWT secret, also generated per start and never written, is shared by the components
(the scheduler signs the task tokens the api-server checks).

The per-source and publish DAGs are paused at creation on this home: nothing runs until you unpause
a DAG or trigger one in the UI. Ctrl-C (or SIGTERM) stops every component.

    python -m pipeline.airflow_ui [--port 8080]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import closing
from pathlib import Path

from pipeline.settings import Settings

HOST = "127.0.0.1"
USER = "admin"
COMPONENTS = {
    "api-server": ["api-server", "--host", HOST, "--port", "{port}", "--workers", "1"],
    # the log server binds every interface; the api-server reads the task logs from the local files
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
}
STOP_GRACE_SECONDS = 20.0
READY_DEADLINE_SECONDS = float(os.environ.get("PIPELINE_AIRFLOW_UI_DEADLINE", "300"))


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _port_free(port: int) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def ui_env(settings: Settings, port: int, passwords_file: Path, jwt_secret: str) -> dict[str, str]:
    """The embedded mode's environment (:func:`pipeline.airflow_run.airflow_env`) for the UI."""
    from pipeline.airflow_run import airflow_env

    env = airflow_env(settings)
    env.update({
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://{HOST}:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{HOST}:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": jwt_secret,
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
        # the log servers of the scheduler's task processes: free local ports, never 0.0.0.0 defaults in use
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "PYTHONUNBUFFERED": "1",
    })
    return env


class Component:
    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._fh = open(log_path, "ab")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen([sys.executable, "-m", "airflow", *args], env=env,  # noqa: S603
                                     stdout=self._fh, stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> None:
        self._fh.close()


def stop(components: list[Component], grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM every component's process group, wait up to ``grace`` seconds, then SIGKILL."""
    for c in components:
        c.signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(c.alive() for c in components):
        time.sleep(0.2)
    for c in components:
        c.signal(signal.SIGKILL)  # what is left of the group (uvicorn workers, task processes)
        try:
            c.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        c.close()


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/api/v2/monitor/health", timeout=10) as resp:
            return resp.status == 200 and json.loads(resp.read()).get("metadatabase", {}).get("status") == "healthy"
    except Exception:  # noqa: BLE001 - not up yet
        return False


def serve(settings: Settings, port: int, out=sys.stdout) -> int:
    """Run the UI until SIGINT/SIGTERM or a component exits; returns the exit code."""
    from pipeline import locking
    from pipeline.airflow_run import ensure_metadata_db, lock_timeout

    if not _port_free(port):
        print(f"port {port} on {HOST} is in use: choose another with PORT=<n> (make airflow PORT=8081)",
              file=sys.stderr)
        return 2
    private = Path(tempfile.mkdtemp(prefix="pipeline-airflow-ui-"))  # mode 0700, outside the checkout
    passwords_file = private / "passwords.json"
    password = secrets.token_urlsafe(18)
    fd = os.open(passwords_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({USER: password}, fh)
    components: list[Component] = []
    stopping: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stopping.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        env = ui_env(settings, port, passwords_file, secrets.token_urlsafe(48))
        if not (settings.airflow_home / ".migrated").exists():
            with locking.run_lock(settings, lock_timeout(), notify=lambda msg: print(msg, file=sys.stderr)):
                ensure_metadata_db(settings, env)
        logs = settings.airflow_home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for name, args in COMPONENTS.items():
            components.append(Component(name, [a.format(port=port) for a in args], env, logs / f"ui-{name}.log"))
        print(f"Starting Airflow on http://{HOST}:{port} (api-server, scheduler, dag-processor; "
              f"logs in {logs}/ui-*.log)", file=out, flush=True)
        deadline = time.monotonic() + READY_DEADLINE_SECONDS
        ready = False
        while not stopping:
            dead = [c for c in components if not c.alive()]
            if dead:
                print(f"{dead[0].name} exited with {dead[0].proc.returncode}; its log: {dead[0].log_path}",
                      file=sys.stderr, flush=True)
                return 1
            if not ready and _healthy(port):
                ready = True
                print(f"\nAirflow UI: http://{HOST}:{port}\n  user:     {USER}\n  password: {password}\n"
                      "  (generated for this session, shown only here; Ctrl-C stops Airflow)\n", file=out, flush=True)
            elif not ready and time.monotonic() > deadline:
                print(f"the api-server did not answer within {READY_DEADLINE_SECONDS:.0f}s; its log: "
                      f"{components[0].log_path}", file=sys.stderr, flush=True)
                return 1
            time.sleep(0.5)
        print(f"{signal.Signals(stopping[0]).name} received: stopping Airflow...", file=out, flush=True)
        return 0
    finally:
        stop(components)
        shutil.rmtree(private, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    from pipeline import settings as settings_mod

    parser = argparse.ArgumentParser(prog="python -m pipeline.airflow_ui", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PIPELINE_AIRFLOW_PORT") or 8080),
                        help="port on 127.0.0.1 (default 8080, or PIPELINE_AIRFLOW_PORT)")
    args = parser.parse_args(argv)
    return serve(settings_mod.load(), args.port)


if __name__ == "__main__":
    sys.exit(main())
