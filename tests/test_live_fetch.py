"""Live mode (PIPELINE_LIVE=1) against a local HTTP server that misbehaves, serving the real samples.

The server is started by the test on 127.0.0.1 (http.server in a thread); each source's official
URLs are replaced by the server's through PIPELINE_URL_<SOURCE>. Each path answers a script of
behaviours (500, a stall, a body cut short, an HTML page, a slow trickle), then the file itself,
with an ETag, and a 304 to a matching If-None-Match. Nothing here sleeps: the client's own timeout
ends a stall (the server waits on an event the test sets at teardown) and the slow body is paced
by the server.

The real EU file takes over a minute to produce (the Commission's server generates it per
request and trickles it out): the read timeout is per read, not for the whole body, so a slow
server that keeps sending is never cut off (test_a_slow_generator_is_not_cut_off).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipeline import fetch, flow, raw
from pipeline import settings as settings_mod
from pipeline.errors import SourceError
from tests.conftest import SAMPLES

UN_2020 = SAMPLES / "un" / "consolidated_2020-03-20_full.xml"
UN_2026 = SAMPLES / "un" / "consolidated_2026-02-27_subset.xml"
UK_CONLIST = SAMPLES / "uk" / "ofsi_conlist_2025-04-10_subset.csv"
OS_EXPORT = SAMPLES / "opensanctions" / "wd_persons_export_2024-03-10"
HTML = b"<!DOCTYPE html>\n<html><head><title>503</title></head><body>Service unavailable</body></html>\n"


@dataclass
class Route:
    body: bytes
    etag: str | None = None
    content_type: str = "application/xml"
    script: list[str] = field(default_factory=list)  # behaviours before the file is served


class _Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        site = self.server
        route = site.routes.get(self.path)
        site.hits.append((self.path, self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")))
        if route is None:
            self.send_error(404)
            return
        behaviour = route.script.pop(0) if route.script else "ok"
        if behaviour == "500":
            self._answer(500, b"internal error", "text/plain")
        elif behaviour == "stall":
            site.release.wait(60)  # the client's read timeout fires long before
        elif behaviour == "truncate":
            self.send_response(200)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body[: len(route.body) // 3])
            self.wfile.flush()
            self.close_connection = True  # HTTP/1.0: the connection is cut after the handler returns
        elif behaviour == "html":
            self._answer(200, HTML, "text/html; charset=utf-8")
        elif behaviour == "slow":
            self.send_response(200)
            self.send_header("Content-Length", str(len(route.body)))
            self.send_header("Content-Type", route.content_type)
            self.end_headers()
            pieces = 12
            step = len(route.body) // pieces + 1
            for start in range(0, len(route.body), step):
                self.wfile.write(route.body[start:start + step])
                self.wfile.flush()
                site.pauses.append(site.pace)
                site.release.wait(site.pace)  # the server producing its file slowly
        elif route.etag and self.headers.get("If-None-Match") == route.etag:
            self.send_response(304)
            self.send_header("ETag", route.etag)
            self.end_headers()
        else:
            self._answer(200, route.body, route.content_type, route.etag)

    def _answer(self, status: int, body: bytes, content_type: str, etag: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def site() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    server.daemon_threads = True
    server.routes, server.hits, server.pauses, server.pace = {}, [], [], 0.0
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def _url(server, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, site):
    """Settings of a live run of the given sources, their URLs on the local server."""

    def make(routes: dict[str, dict[str, Route]], **env: str) -> settings_mod.Settings:
        monkeypatch.setenv("PIPELINE_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("PIPELINE_LIVE", "1")
        monkeypatch.setenv("PIPELINE_SOURCES", ",".join(routes))
        monkeypatch.setenv("PIPELINE_FETCH_BACKOFF", "0.01")
        for source, paths in routes.items():
            site.routes.update(paths)
            monkeypatch.setenv(f"PIPELINE_URL_{source.upper()}", ";".join(_url(site, p) for p in paths))
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return settings_mod.load()

    return make


def _stored(settings, source: str) -> list[Path]:
    folder = settings.raw_dir / source
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _leftovers(settings) -> list[Path]:
    return list(settings.raw_dir.glob(".landing-*")) if settings.raw_dir.exists() else []


# --- transient failures ------------------------------------------------------------------------

def test_500_bursts_then_success(live, site):
    body = UN_2026.read_bytes()
    settings = live({"un_sc": {"/un.xml": Route(body, '"a"', script=["500", "500"])}})
    [batch] = flow.land_sources(settings)
    assert [h[0] for h in site.hits] == ["/un.xml"] * 3
    assert batch["fetch"][0]["outcome"] == fetch.NEW and not batch["unchanged"]
    assert Path(batch["files"][0]["path"]).read_bytes() == body
    assert [r.sha256 for r in raw.read_manifest(settings)] == [hashlib.sha256(body).hexdigest()]


def test_500_bursts_longer_than_the_attempts_fail_transiently_storing_nothing(live, site):
    settings = live({"un_sc": {"/un.xml": Route(UN_2026.read_bytes(), script=["500"] * 5)}},
                    PIPELINE_FETCH_ATTEMPTS="3")
    with pytest.raises(raw.FetchError) as err:
        flow.land_sources(settings)
    assert err.value.transient and "HTTP 500" in str(err.value) and len(site.hits) == 3
    assert _stored(settings, "un_sc") == [] and _leftovers(settings) == []
    assert not settings.fetch_state_path.exists()


def test_a_stalled_server_times_out(live, site):
    """The server answers nothing: the client's read timeout (small, configured) ends each try."""
    settings = live({"un_sc": {"/un.xml": Route(UN_2026.read_bytes(), script=["stall"] * 2)}},
                    PIPELINE_FETCH_TIMEOUT="0.3", PIPELINE_FETCH_ATTEMPTS="2")
    with pytest.raises(raw.FetchError) as err:
        flow.land_sources(settings)
    assert err.value.transient and "timed out" in str(err.value)
    assert len(site.hits) == 2 and _stored(settings, "un_sc") == []


def test_a_truncated_body_is_retried_and_nothing_partial_is_stored(live, site):
    body = UN_2026.read_bytes()
    settings = live({"un_sc": {"/un.xml": Route(body, script=["truncate"])}})
    [batch] = flow.land_sources(settings)
    assert len(site.hits) == 2
    assert [p.read_bytes() for p in _stored(settings, "un_sc")] == [body]
    assert batch["files"][0]["sha256"] == hashlib.sha256(body).hexdigest()


def test_a_body_cut_short_every_time_fails_with_nothing_stored(live, site):
    settings = live({"un_sc": {"/un.xml": Route(UN_2026.read_bytes(), script=["truncate"] * 3)}})
    with pytest.raises(raw.FetchError) as err:
        flow.land_sources(settings)
    assert err.value.transient and "cut short" in str(err.value)
    assert _stored(settings, "un_sc") == [] and _leftovers(settings) == [] and raw.read_manifest(settings) == []


def test_a_slow_generator_is_not_cut_off(live, site):
    """A body that trickles out over several times the read timeout lands whole: the timeout is per
    read (as the EU's server takes over a minute to produce its file)."""
    body = UN_2020.read_bytes()
    site.pace = 0.4
    settings = live({"un_sc": {"/un.xml": Route(body, script=["slow"])}}, PIPELINE_FETCH_TIMEOUT="1")
    [batch] = flow.land_sources(settings)
    assert sum(site.pauses) > 3 * settings.fetch_timeout  # the server took far longer than one timeout
    assert len(site.hits) == 1 and Path(batch["files"][0]["path"]).read_bytes() == body


# --- layouts --------------------------------------------------------------------------------------

def test_an_html_page_is_refused_naming_source_url_and_rule(live, site):
    settings = live({"un_sc": {"/un.xml": Route(UN_2026.read_bytes(), script=["html"])}})
    with pytest.raises(SourceError) as err:
        flow.land_sources(settings)
    text = str(err.value)
    assert err.value.source == "un_sc" and err.value.rule == "layout"
    assert _url(site, "/un.xml") in text and "HTML page" in text and "text/html" in text
    assert len(site.hits) == 1  # not transient: not tried again
    assert _stored(settings, "un_sc") == [] and _leftovers(settings) == [] and raw.read_manifest(settings) == []


def test_the_uk_csv_served_as_binary_is_recognised_by_its_first_lines(live, site):
    body = UK_CONLIST.read_bytes()
    settings = live({"gb_hmt": {"/UK-Sanctions-List.csv": Route(body, '"uk1"', "application/octet-stream")}})
    [batch] = flow.land_sources(settings)
    assert batch["fetch"][0]["content_type"] == "application/octet-stream"
    assert Path(batch["files"][0]["path"]).read_bytes() == body


def test_a_file_of_another_layout_is_refused(live, site):
    """An XML file with a root the source does not publish (the UN list served for the UK's)."""
    settings = live({"gb_hmt": {"/UK-Sanctions-List.xml": Route(UN_2026.read_bytes())}})
    with pytest.raises(SourceError) as err:
        flow.land_sources(settings)
    assert err.value.rule == "layout" and "<CONSOLIDATED_LIST>" in str(err.value) and "<Designations>" in str(err.value)


# --- conditional requests: an unchanged file is not parsed again ------------------------------------

def _run(settings, run_id: str) -> dict:
    """land -> parse -> the snapshot joins the lake (what a published run does for the source)."""
    [batch] = flow.land_sources(settings)
    result = flow.parse_batch(batch, settings, run_id)
    flow.commit_staged(settings, run_id)
    return {"batch": batch, "result": result}


def _snapshots(settings, source: str = "un_sc") -> list[str]:
    folder = settings.staged_dir / "designations" / f"source={source}"
    return sorted(p.name.removeprefix("snapshot_date=") for p in folder.glob("snapshot_date=*"))


def test_a_changed_etag_is_fetched_and_parsed_an_unchanged_one_is_not(live, site):
    route = Route(UN_2020.read_bytes(), '"2020"')
    settings = live({"un_sc": {"/un.xml": route}})
    first = _run(settings, "r1")
    assert first["batch"]["fetch"][0]["outcome"] == fetch.NEW
    assert first["result"]["snapshot_date"] == "2020-03-20" and first["result"]["counts"]["designations"] > 1000
    state = json.loads(settings.fetch_state_path.read_text())["urls"][_url(site, "/un.xml")]
    assert state["etag"] == '"2020"' and state["sha256"] == hashlib.sha256(route.body).hexdigest()

    # unchanged: the validators go out, the server answers 304, nothing is parsed
    second = _run(settings, "r2")
    assert site.hits[-1] == ("/un.xml", '"2020"', None)
    assert second["batch"]["unchanged"] and second["batch"]["fetch"][0]["outcome"] == fetch.NOT_MODIFIED
    assert second["result"]["unchanged"] and second["result"]["counts"] == {}
    assert second["result"]["snapshot_date"] == "2020-03-20"
    assert not (flow.candidate_dir(settings, "r2")).exists()  # no part was written
    assert flow.check_staged([second["result"]], settings, "r2") == {}
    assert len(raw.read_manifest(settings)) == 1  # a 304 lands nothing

    # a new ETag: fetched and parsed again
    route.body, route.etag = UN_2026.read_bytes(), '"2026"'
    third = _run(settings, "r3")
    assert third["batch"]["fetch"][0]["outcome"] == fetch.CHANGED and not third["batch"]["unchanged"]
    assert third["result"]["snapshot_date"] == "2026-02-27" and third["result"]["counts"]["designations"] == 256
    assert _snapshots(settings) == ["2020-03-20", "2026-02-27"]

    # a new ETag on the same bytes is unchanged: not parsed again
    route.etag = '"2026-again"'
    fourth = _run(settings, "r4")
    assert fourth["batch"]["fetch"][0]["outcome"] == fetch.SAME_CONTENT and fourth["result"]["unchanged"]

    checks = [e for e in fetch.read_log(settings) if e["event"] == "check"]
    assert [e["outcome"] for e in checks] == ["new", "not_modified", "changed", "same_content"]
    assert [e["changed"] for e in checks] == [True, False, True, False]
    parses = [e for e in fetch.read_log(settings) if e["event"] == "parse"]
    assert [(e["snapshot_date"], e["dated_by_file"]) for e in parses] == [("2020-03-20", True), ("2026-02-27", True)]


def test_state_is_committed_only_when_the_snapshot_joins_the_lake(live, site):
    """A run that fails after landing new content leaves the state as it was: the next run fetches
    and parses that content again instead of taking a 304 for it."""
    route = Route(UN_2020.read_bytes(), '"2020"')
    settings = live({"un_sc": {"/un.xml": route}})
    _run(settings, "r1")
    route.body, route.etag = UN_2026.read_bytes(), '"2026"'
    [batch] = flow.land_sources(settings)
    flow.parse_batch(batch, settings, "failed")  # the run fails before its snapshots join the lake
    again = _run(settings, "r2")
    assert site.hits[-1][1] == '"2020"'  # still compared with what the lake holds
    assert again["batch"]["fetch"][0]["outcome"] == fetch.CHANGED and again["result"]["counts"]["designations"] == 256
    [event] = [e for e in fetch.read_log(settings) if e["event"] == "check"][-1:]
    assert event["changed"] is False  # the content itself was first seen by the failed run
    assert event["content_since"] < event["checked_at"] or event["content_since"] == event["checked_at"]


def test_a_stored_copy_gone_from_the_raw_store_is_fetched_in_full(live, site):
    route = Route(UN_2026.read_bytes(), '"2026"')
    settings = live({"un_sc": {"/un.xml": route}})
    first = _run(settings, "r1")
    Path(first["batch"]["files"][0]["path"]).unlink()
    [batch] = flow.land_sources(settings)
    assert site.hits[-1][1] is None  # no validators for a copy the store no longer has
    assert batch["fetch"][0]["outcome"] == fetch.SAME_CONTENT and Path(batch["files"][0]["path"]).exists()


def test_opensanctions_checksums_in_the_index_skip_an_unchanged_download(live, site):
    body = (OS_EXPORT / "entities.ftm.json").read_bytes()
    index = (OS_EXPORT / "index.json").read_bytes()
    assert json.loads(index)["resources"][0]["checksum"] == hashlib.sha1(body).hexdigest()  # noqa: S324
    site.routes["/os/index.json"] = Route(index, content_type="application/json")
    settings = live({"opensanctions": {"/os/entities.ftm.json": Route(body, content_type="application/json")}})
    [first] = flow.land_sources(settings)
    assert first["fetch"][0]["outcome"] == fetch.NEW
    # the export is a PEP dataset's (the sample with a real index): its state is committed unparsed
    fetch.record_parse(settings, "r1", first, None)
    flow.commit_staged(settings, "r1")
    site.hits.clear()
    [batch] = flow.land_sources(settings)
    assert [h[0] for h in site.hits] == ["/os/index.json"]  # the export itself was not downloaded
    assert batch["unchanged"] and batch["fetch"][0]["outcome"] == fetch.SAME_CHECKSUM
    assert Path(batch["files"][0]["path"]).read_bytes() == body
    # a new checksum in the index: the export is downloaded again
    site.routes["/os/index.json"].body = index.replace(hashlib.sha1(body).hexdigest().encode(), b"0" * 40)  # noqa: S324
    site.hits.clear()
    [batch] = flow.land_sources(settings)
    assert [h[0] for h in site.hits] == ["/os/index.json", "/os/entities.ftm.json"]
    assert batch["fetch"][0]["outcome"] == fetch.SAME_CONTENT  # the same bytes after all: not parsed


def test_live_mode_uses_the_official_urls_of_source_yml(monkeypatch, tmp_path):
    from pipeline.sources import load_meta

    monkeypatch.setenv("PIPELINE_HOME", str(tmp_path))
    monkeypatch.setenv("PIPELINE_LIVE", "1")
    monkeypatch.delenv("PIPELINE_SOURCES", raising=False)
    settings = settings_mod.load()
    assert "un_sc" in settings.sources and "gdelt_events" not in settings.sources
    for source in settings.sources:
        inputs, demo = flow.source_inputs(settings, source)
        assert inputs == list(load_meta(source).urls) and not demo


def test_bad_fetch_settings_are_refused(monkeypatch):
    monkeypatch.setenv("PIPELINE_FETCH_TIMEOUT", "0")
    with pytest.raises(ValueError, match="PIPELINE_FETCH_TIMEOUT"):
        settings_mod.load()
    monkeypatch.setenv("PIPELINE_FETCH_TIMEOUT", "5")
    monkeypatch.setenv("PIPELINE_FETCH_ATTEMPTS", "0")
    with pytest.raises(ValueError, match="PIPELINE_FETCH_ATTEMPTS"):
        settings_mod.load()


# --- a whole live run, twice --------------------------------------------------------------------------

@pytest.mark.integration
def test_pipeline_run_live_twice_against_a_local_server(site, tmp_path):
    """``pipeline run --live`` on the UN list served by the local server: the first run fetches,
    parses and publishes, and names the list stale (its file is of 2020); the second gets a 304,
    does not parse it again, keeps its snapshot and publishes the check in mart_source_freshness."""
    import os
    import subprocess
    import sys

    import duckdb

    from tests.conftest import REPO

    site.routes["/un.xml"] = Route(UN_2020.read_bytes(), '"2020"')
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PIPELINE_"))}
    env.update({"PIPELINE_HOME": str(home), "GX_ANALYTICS_ENABLED": "False", "PIPELINE_SOURCES": "un_sc",
                "PIPELINE_URL_UN_SC": _url(site, "/un.xml")})
    outputs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--live"], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        outputs.append(done.stdout + done.stderr)
    assert [h[1] for h in site.hits] == [None, '"2020"']
    assert "STALE SOURCES (un_sc)" in outputs[0] and "published (file date) 2020-03-20" in outputs[0]
    assert "un_sc: unchanged since snapshot 2020-03-20, not parsed again" in outputs[1]
    with duckdb.connect(str(home / "publish" / "current" / "sanctions.duckdb"), read_only=True) as con:
        assert con.execute("select source, last_fetch_outcome, status, cast(published_on as varchar) "
                           "from mart_source_freshness").fetchall() == [
            ("un_sc", "not_modified", "stale", "2020-03-20")]
        assert con.execute("select distinct cast(snapshot_date as varchar) from lake.designations").fetchall() == [
            ("2020-03-20",)]
        assert [r[0] for r in con.execute("select outcome from lake.fetch_events where event = 'check' "
                                          "order by checked_at").fetchall()] == ["new", "not_modified"]
