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
        self.reads: list[str] = []  # the paths of every GET

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] == "GET":
            self.reads.append(path)
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
    assert st.fs.exists(st.path(f"{pointer['path']}/report.html")), "the HTML report was not uploaded"
    assert st.fs.exists(st.path(f"{pointer['path']}/headline.txt")), "the headline was not uploaded"

    # 1b. dbt reads the staged Parquet from the store: the build's view, then no local part at all
    _build_from_the_store(settings, faults, tmp_path / "node1-build")

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
    second = _run({**node2, "PIPELINE_SKIP_UNCHANGED": "0"})  # the same inputs as node 1's release: publish anyway
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    now = lakefs.current(settings)
    assert now["release"] != pointer["release"]
    assert _release_readable(settings, now)["mart_rows"] == released["mart_rows"]
    assert _release_readable(settings, pointer) == released


def _build_from_the_store(settings, faults: _Faults, work: Path) -> None:
    """A build whose staged tables are the store's parts only: the view names them on the store,
    this node's mirror is then removed, and dbt reads every part through the filesystem the
    profile's plugin registers on its connection (the server saw a GET of each)."""
    import duckdb

    from pipeline import lakefs
    from pipeline.freshness import write_build_inputs
    from pipeline.models import build_database

    mirror = sorted(settings.staged_dir.rglob("*.parquet"))
    con = duckdb.connect()
    try:
        designations = [str(p) for p in mirror if p.relative_to(settings.staged_dir).parts[0] == "designations"]
        expected = con.execute("select count(*) from read_parquet(?)", [designations]).fetchone()[0]
    finally:
        con.close()
    assert expected > 0
    merged = work / "merged"
    for part in mirror:
        target = merged / part.relative_to(settings.staged_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(part, target)
    view = lakefs.build_view(settings, merged)
    spec = json.loads(view.read_text(encoding="utf-8"))
    assert spec["parts"] and all("url" in e and e["url"].startswith("s3://") for e in spec["parts"].values())
    for part in [*mirror, *merged.rglob("*.parquet")]:
        part.unlink()
    write_build_inputs(settings, "s3-view-build", merged / "_fetch")
    faults.reads.clear()
    db = work / "sanctions.duckdb"
    build_database(merged, db, settings.sql_dir, settings.storage_version, view=view)
    read = {p.split(f"/{BUCKET}/{PREFIX}/", 1)[-1] for p in faults.reads}
    assert set(spec["parts"]) <= {p.removeprefix("staged/") for p in read}, "a staged part was not read from the store"
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("select count(*) from lake.designations").fetchone()[0] == expected
    finally:
        con.close()


def test_live_fetch_state_and_log_are_shared_through_the_store(s3_server, tmp_path, monkeypatch):
    """What one node published from a URL (its validators) and its fetch log are on the store: a
    second node, its home empty, sends the first node's validators and reads its events."""
    import s3fs

    from pipeline import fetch, lakefs

    endpoint, _ = s3_server
    s3fs.S3FileSystem(endpoint_url=endpoint, key="test", secret="test").mkdir(BUCKET)
    node1 = _settings(_env(tmp_path / "node1", endpoint), monkeypatch)
    url = "http://127.0.0.1:9/un/consolidated.xml"
    check = {"event": "check", "origin": url, "source": "un_sc", "name": "consolidated.xml", "sha256": "ab" * 32,
             "sha1": None, "bytes": 10, "file": f"{'ab' * 32}.xml", "etag": '"v1"',
             "last_modified": "Mon, 01 Dec 2025 10:00:00 GMT", "checked_at": "2025-12-01T10:00:00+00:00",
             "outcome": "fetched"}
    parse = {"event": "parse", "source": "un_sc", "checked_at": "2025-12-01T10:01:00+00:00",
             "snapshot_date": "2025-12-01", "dated_by_file": True, "last_modified": None, "demo": False,
             "sha256": "ab" * 32}
    with fetch._locked(node1):  # as land_source appends
        fetch._append_log(node1, [check])
    pending = fetch.pending_dir(node1, "run-1")
    pending.mkdir(parents=True)
    (pending / "un_sc.json").write_text(json.dumps({"checks": [check], "parse": parse}), encoding="utf-8")
    assert fetch.commit(node1, "run-1") == 1
    st = lakefs.store(node1)
    assert st.fs.exists(st.path(lakefs.FETCH_STATE))
    assert not st.fs.exists(st.path(lakefs.LEASE))

    node2 = _settings(_env(tmp_path / "node2", endpoint), monkeypatch)
    assert not node2.fetch_state_path.exists()
    state = fetch.load_state(node2)
    assert state[url]["etag"] == '"v1"' and state[url]["last_modified"] == check["last_modified"]
    assert [e["event"] for e in fetch.read_log(node2)] == ["check", "parse"]
    # node 2's own events join the same log
    with fetch._locked(node2):
        fetch._append_log(node2, [{**check, "etag": '"v2"', "checked_at": "2025-12-02T10:00:00+00:00"}])
    assert [e.get("etag") for e in fetch.read_log(node1)] == ['"v1"', None, '"v2"']
