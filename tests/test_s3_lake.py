"""The lake on an object store (PIPELINE_LAKE=s3://bucket/prefix, pipeline/lakefs.py), against a
local S3-compatible server the test starts on 127.0.0.1 (moto's server mode).

A run publishes raw files, staged parts and the release to the store, and DuckDB reads the marts
back from it through the fsspec filesystem registered on its connection; a second node (another
home, empty) builds from the store's lake, and when the store refuses its release mid-publish the
previous release stays current and readable; once the store accepts writes again it publishes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BUCKET = "lake"
PREFIX = "pipeline/demo"


class _Faults:
    """Refuses writes of keys containing ``refuse`` (None: accepts everything), like a store whose
    credentials lost write access mid-run."""

    def __init__(self, app) -> None:
        self.app = app
        self.refuse: str | None = None
        self.refused: list[str] = []

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if self.refuse and environ["REQUEST_METHOD"] in ("PUT", "POST") and self.refuse in path:
            self.refused.append(path)
            body = b"<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>refused</Message></Error>"
            start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
            return [body]
        return self.app(environ, start_response)


@pytest.fixture
def s3_server() -> Iterator[tuple[str, _Faults]]:
    """moto's S3 on a free 127.0.0.1 port, behind :class:`_Faults`."""
    from moto.moto_server.threaded_moto_server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    faults = _Faults(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, faults, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", faults
    finally:
        server.shutdown()
        thread.join(timeout=30)


def _env(home: Path, endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPELINE_", "AWS_"))}
    env.update({
        "PIPELINE_HOME": str(home),
        "PIPELINE_LAKE": f"s3://{BUCKET}/{PREFIX}",
        "PIPELINE_S3_ENDPOINT_URL": endpoint,
        "PIPELINE_SOURCES": "un_sc",
        "PIPELINE_LAKE_LEASE_WAIT": "60",
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
    })
    return env


def _run(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "run"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=1800)


def _settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    from pipeline import settings

    for key, value in env.items():
        if key.startswith(("PIPELINE_", "AWS_")):
            monkeypatch.setenv(key, value)
    return settings.load()


def _release_readable(settings, pointer: dict) -> dict:
    """Read the release ``pointer`` names from the store: its database matches its sha256, and
    DuckDB reads every mart's Parquet (through the registered fsspec filesystem) with the rows
    release.json records. Returns release.json."""
    import duckdb

    from pipeline import lakefs

    st = lakefs.store(settings)
    manifest = json.loads(st.fs.cat_file(st.path(f"{pointer['path']}/release.json")))
    database = st.fs.cat_file(st.path(pointer["database"]))
    assert hashlib.sha256(database).hexdigest() == pointer["database_sha256"] == manifest["database_sha256"]
    con = duckdb.connect()
    try:
        assert lakefs.register(con, settings) is st
        for mart, rows in manifest["mart_rows"].items():
            url = st.url_of(f"{pointer['path']}/marts/{mart}.parquet")
            assert con.execute("select count(*) from read_parquet(?)", [url]).fetchone()[0] == rows, mart
    finally:
        con.close()
    return manifest


@pytest.mark.integration
def test_the_lake_on_an_object_store(s3_server, tmp_path, monkeypatch):
    import s3fs

    from pipeline import lakefs

    endpoint, faults = s3_server
    fs = s3fs.S3FileSystem(endpoint_url=endpoint, key="test", secret="test")
    fs.mkdir(BUCKET)
    node1 = _env(tmp_path / "node1", endpoint)
    settings = _settings(node1, monkeypatch)
    assert settings.lake_url == f"s3://{BUCKET}/{PREFIX}"

    # 1. a run: raw files, manifest records, staged parts, the release and its pointer on the store
    first = _run(node1)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    st = lakefs.store(settings)
    records = lakefs.manifest_records(settings)
    assert records and {r["source"] for r in records} == {"un_sc"}
    for record in records:
        body = st.fs.cat_file(st.path(f"raw/{record['source']}/{record['sha256'][:2]}/{Path(record['path']).name}"))
        assert hashlib.sha256(body).hexdigest() == record["sha256"]
    parts = st.listing("staged")
    assert any(p.startswith("staged/designations/source=un_sc/") for p in parts)
    assert parts == {p.relative_to(settings.lake_dir).as_posix(): p.stat().st_size
                     for p in settings.staged_dir.rglob("*.parquet")}
    pointer = lakefs.current(settings)
    assert pointer is not None
    released = _release_readable(settings, pointer)
    assert released["mart_rows"]["mart_country_rankings"] > 0

    # 2. another node, its home empty, while the store refuses the release's marts: the run fails
    # mid-publish; the previous release stays current and readable, nothing of the failed one stays
    node2 = _env(tmp_path / "node2", endpoint)
    faults.refuse = "/marts/"
    failed = _run(node2)
    faults.refuse = None
    assert failed.returncode != 0
    assert faults.refused, "the store was never asked for the marts: the fault did not happen mid-publish"
    assert "object-store lake" in failed.stdout + failed.stderr
    assert lakefs.current(settings) == pointer
    assert _release_readable(settings, pointer) == released
    releases = {p.split("/")[1] for p in st.listing("releases")}
    assert releases == {pointer["release"]}, releases
    assert st.listing("staged") == parts
    assert not st.fs.exists(st.path(lakefs.LEASE)), "a failed publish left the lease behind"
    # node 2 built from the store's lake: its mirror holds the parts node 1 committed
    mirror = tmp_path / "node2" / "lake"
    assert {p.relative_to(mirror).as_posix() for p in (mirror / "staged").rglob("*.parquet")} == set(parts)

    # 3. the store accepts writes again: node 2 publishes, node 1's release is kept beside it
    second = _run(node2)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    now = lakefs.current(settings)
    assert now["release"] != pointer["release"]
    assert _release_readable(settings, now)["mart_rows"] == released["mart_rows"]
    assert _release_readable(settings, pointer) == released
