"""``make airflow`` (``python -m pipeline.airflow_ui``): the Airflow UI on the embedded home.

Started on a free port of 127.0.0.1 with a temporary ``PIPELINE_HOME``: the api-server answers
its health check, the login page and the REST API with the password printed once (a wrong one and
no token are refused), lists every DAG paused (nothing runs by itself on the embedded home), listens
on 127.0.0.1 only, and the password is stored nowhere under the home or the checkout. SIGINT stops
every component and removes the private password file. Every wait polls with a generous deadline.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration

DEADLINE_S = float(os.environ.get("PIPELINE_AIRFLOW_UI_DEADLINE", "300"))


def _http(method: str, url: str, payload: dict | None = None, token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            body = resp.read()
            return resp.status, json.loads(body) if "json" in resp.headers.get("Content-Type", "") else body
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def _wait(probe, proc: subprocess.Popen, what: str, out: Path):
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"make airflow exited with {proc.returncode} while waiting for {what}\n{out.read_text()}")
        found = probe()
        if found:
            return found
        time.sleep(1)
    pytest.fail(f"timed out after {DEADLINE_S:.0f}s waiting for {what}\n{out.read_text()}")


def _listening(pids: set[int]) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp) the processes ``pids`` listen on over TCP."""
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                found.add(fields[1])
    return found


def _tree(pid: int) -> set[int]:
    import psutil

    try:
        parent = psutil.Process(pid)
        return {pid, *(c.pid for c in parent.children(recursive=True))}
    except psutil.NoSuchProcess:
        return set()


def _alive(pids: set[int]) -> set[int]:
    import psutil

    alive = set()
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.add(pid)
        except psutil.NoSuchProcess:
            continue
    return alive


def test_make_airflow_serves_the_ui_on_localhost(tmp_path: Path) -> None:
    from pipeline.airflow_ui import free_port

    port = free_port()
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PIPELINE_"))}
    env.update({"PIPELINE_HOME": str(home), "PYTHONUNBUFFERED": "1"})
    out = tmp_path / "airflow-ui.out"
    with open(out, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "pipeline.airflow_ui", "--port", str(port)], cwd=REPO,
                                env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        password = _wait(lambda: (re.findall(r"password: (\S+)", out.read_text()) or [None])[0], proc,
                         "the password line", out)
        assert _http("GET", f"{base}/api/v2/monitor/health")[0] == 200
        status, page = _http("GET", f"{base}/")
        assert status == 200 and b"<html" in page.lower()
        # authentication is on: no token and a wrong password are refused
        assert _http("GET", f"{base}/api/v2/dags")[0] == 401
        assert _http("POST", f"{base}/auth/token", {"username": "admin", "password": "wrong"})[0] == 401
        status, body = _http("POST", f"{base}/auth/token", {"username": "admin", "password": password})
        assert status == 201, body
        token = body["access_token"]

        def dags():
            code, found = _http("GET", f"{base}/api/v2/dags?limit=100", token=token)
            assert code == 200, found
            ids = {d["dag_id"]: d["is_paused"] for d in found["dags"]}
            return ids if {"sanctions_pipeline", "sanctions_publish", "ingest_un_sc"} <= set(ids) else None

        found = _wait(dags, proc, "the dag-processor to parse dags/", out)
        assert all(found.values()), f"a DAG runs by itself on the embedded home: {found}"
        # every component listens on 127.0.0.1 only
        components = _tree(proc.pid)
        addresses = _listening(components)
        assert addresses and all(a.startswith("0100007F:") for a in addresses), addresses
        # the password is printed once and stored nowhere under the home or the checkout's var/
        assert out.read_text().count(password) == 1
        for root in (home, REPO / "var"):
            for path in root.rglob("*") if root.exists() else []:
                if path.is_file() and path.stat().st_size < 50 << 20:
                    assert password.encode() not in path.read_bytes(), path
        private = [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("pipeline-airflow-ui-*")
                   if (p / "passwords.json").exists() and password in (p / "passwords.json").read_text()]
        assert len(private) == 1 and oct(private[0].stat().st_mode & 0o777) == "0o700"
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert proc.returncode == 0, out.read_text()
    assert not private[0].exists(), "the password file outlived the session"
    deadline = time.monotonic() + 60
    while _alive(components) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _alive(components), "an Airflow component outlived make airflow"
