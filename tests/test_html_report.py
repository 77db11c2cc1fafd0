"""The release's HTML report (pipeline/html_report.py) and the offline Data Docs (pipeline/validation.py).

Unit tests render the page from small DuckDB files: hostile values stay text, a missing mart or column
becomes a note, a report that cannot be written does not stop the publication. The integration test
runs ``pipeline run`` on the demo files and opens the release's report and Data Docs in headless
Chromium (Debian's ``chromium``), driven over the DevTools protocol on 127.0.0.1 with every host name
unresolvable: every chart drew an SVG with marks, no console error, no request left the file system, a
screenshot is kept (var/test-screenshots/); then a copy of the database with hostile names, sentences and links.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipeline import html_report
from tests.conftest import REPO

#: where the browser tests keep their screenshots (var/ is the project's ignored work folder; a
#: pytest tmp folder is pruned after three sessions)
SCREENSHOTS = REPO / "var" / "test-screenshots"

HOSTILE_NAME = '<script>window.__pwned = "name"</script>Ruritania'
HOSTILE_QUOTE = '"We agreed" </script><img src=x onerror="window.__pwned=\'quote\'"> <!-- said the minister'
HOSTILE_URLS = ["javascript:window.__pwned='url'", 'https://example.org/a" onmouseover="window.__pwned=1',
                "data:text/html,<script>alert(1)</script>", "//example.org/protocol-relative"]


# ------------------------------------------------------------------------------ escaping, links


def test_values_are_escaped_and_links_are_http_only():
    assert html_report.esc(HOSTILE_NAME) == "&lt;script&gt;window.__pwned = &quot;name&quot;&lt;/script&gt;Ruritania"
    assert html_report.safe_url("https://example.org/x?a=1&b=2") == "https://example.org/x?a=1&b=2"
    assert html_report.link("https://example.org/x?a=1&b=2", "src").startswith(
        '<a href="https://example.org/x?a=1&amp;b=2" rel="noopener noreferrer nofollow"')
    for url in [*HOSTILE_URLS, "HTTPS:", "ftp://example.org/f", None, 42, "https://exa mple.org/"]:
        assert html_report.safe_url(url) is None, url
        assert "<a " not in html_report.link(url, "source")
    # a JSON island cannot end its <script> element
    island = html_report._script_json({"q": "</script><!--"})
    assert "<" not in island and json.loads(island) == {"q": "</script><!--"}


# ------------------------------------------------------------------------------ small databases


def _hostile_db(path: Path) -> None:
    """The marts the report reads, with hostile values, at the grain of the real ones (few rows)."""
    con = duckdb.connect(str(path))
    con.execute("""
        create table stg_ref__countries as
        select * from (values ('RU', ?), ('IR', 'Iran')) as t(country_iso2, country_name)""", [HOSTILE_NAME])
    con.execute("""
        create table mart_country_rankings_monthly as
        select 'designations' as unit, authority, 'all' as list_code, 'program_target' as basis, month,
               iso2 as country_iso2, case iso2 when 'RU' then ? else 'Iran' end as country_name,
               n as designations, rank() over (partition by authority, month order by n desc) as rank
        from (values ('all', date '2020-01-01', 'RU', 1), ('all', date '2020-01-01', 'IR', 3),
                     ('all', date '2021-01-01', 'RU', 5), ('all', date '2021-01-01', 'IR', 3),
                     ('eu', date '2020-01-01', 'RU', 2), ('eu', date '2021-01-01', 'RU', 2))
             as t(authority, month, iso2, n)""", [HOSTILE_NAME])
    con.execute("""
        create table mart_rank_crossovers as
        select 'designations' as unit, 'all' as authority, 'all' as list_code, 'program_target' as basis,
               date '2021-01-01' as month, 'RU' as country_iso2, 'IR' as overtaken_iso2, 5 as designations,
               3 as overtaken_designations""")
    con.execute("""
        create table mart_dyad_evidence as
        select 'event' as evidence_kind, 'arms_transfer' as component, 'IR' as country_a, 'RU' as country_b,
               date '2024-01-02' as evidence_date, 'a_to_b' as direction, 'realized' as modality,
               'article' as source, 'rec-' || i as record_id, cast(null as varchar) as name,
               cast(null as varchar) as detail, url, ? as quote
        from (select unnest(?) as url, generate_subscripts(?, 1) as i)""",
                [HOSTILE_QUOTE, HOSTILE_URLS, HOSTILE_URLS])
    con.execute("""
        insert into mart_dyad_evidence (evidence_kind, component, country_a, country_b, source, record_id, name, detail)
        values ('sanctions', 'linked_to_both', 'IR', 'RU', 'eu', 'EU.1', ?, '<b>detail</b>')""", [HOSTILE_NAME])
    con.execute("""
        create table mart_dyad_ties as
        select 'year' as period_type, '2024' as period, 'IR' as country_a, 'RU' as country_b,
               'Iran' as country_a_name, ? as country_b_name, 0.8 as tie_index, 1 as tie_rank,
               'events_cooperation' as index_component_list, 0.9 as events_cooperation_score""", [HOSTILE_NAME])
    con.close()


@pytest.fixture
def hostile_release(tmp_path: Path, home) -> Path:
    release = tmp_path / "release"
    release.mkdir()
    _hostile_db(release / "sanctions.duckdb")
    return release


def test_hostile_values_stay_text(hostile_release: Path, home):
    con = duckdb.connect(str(hostile_release / "sanctions.duckdb"), read_only=True)
    try:
        page = html_report.render(con, home, hostile_release, {"run_id": '<i>"run"</i>'}, bundle="")
    finally:
        con.close()
    body = page.split('<script type="application/json" id="chart-specs">')[0]
    assert "<script" not in body and "onerror=" not in body.replace("onerror=&quot;", "")
    assert "&lt;script&gt;window.__pwned = &quot;name&quot;&lt;/script&gt;Ruritania" in body
    assert "&lt;img src=x onerror=&quot;" in body and "&lt;i&gt;&quot;run&quot;&lt;/i&gt;" in body
    hrefs = re.findall(r'href="([^"]*)"', body)
    assert all(h.startswith(("#", "https://", "data_docs/", "headline.txt")) for h in hrefs), hrefs
    assert not any("pwned" in h for h in hrefs)
    # the chart data (names in legends and tooltips) is JSON that cannot close its element
    island = page.split('<script type="application/json" id="chart-specs">')[1].split("</script>")[0]
    assert "<" not in island and json.dumps(HOSTILE_NAME) in json.dumps(json.loads(island))
    assert set(json.loads(island)) == {"chart-pair", "chart-rank", "chart-ties"}


def test_a_publication_without_some_marts_gets_notes(tmp_path: Path, home):
    """An older release, or a mart another change has not landed: notes, never an error."""
    release = tmp_path / "release"
    release.mkdir()
    con = duckdb.connect(str(release / "sanctions.duckdb"))
    con.execute("""create table mart_country_rankings_monthly as
                   select 'all' as authority, 'program_target' as basis, date '2024-01-01' as month,
                          'RU' as country_iso2, 4 as designations""")
    con.execute("create table mart_dyad_ties as select 'year' as period_type, '2024' as period")
    con.close()
    con = duckdb.connect(str(release / "sanctions.duckdb"), read_only=True)
    try:
        page = html_report.render(con, home, release, {}, bundle="")
    finally:
        con.close()
    for note in ("mart_country_rankings_monthly has no list_code column",
                 "mart_country_rankings_monthly has no unit column", "mart_rank_crossovers is not in this publication",
                 "mart_country_rankings_monthly has no rank column",
                 "mart_dyad_ties has no column country_a, country_b, tie_index",
                 "mart_dyad_evidence is not in this publication", "mart_source_freshness is not in this publication",
                 "data_docs/index.json is not in this release", "lake.parse_audit is not in this publication",
                 "mart_partial_inputs is not in this publication"):
        assert note in page, note
    assert '"chart-pair"' in page


def _build_db(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("create table int_current_snapshots as select 'un_sc' as source, date '2024-01-01' as snapshot_date")
    con.execute("create table mart_partial_inputs as select 'un_sc' as source, true as is_current where false")
    con.close()


def test_a_report_that_cannot_be_written_does_not_stop_the_publication(tmp_path: Path, home, monkeypatch):
    from pipeline.publish import current_release_info, publish

    _build_db(tmp_path / "build.duckdb")

    def broken(*_args, **_kwargs):
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr(html_report, "render", broken)
    release = publish(tmp_path / "build.duckdb", home, "run-1")
    assert home.current_release.resolve() == release.resolve() and home.published_db.is_file()
    assert not (release / "report.html").exists() and not list(release.glob(".report*"))
    assert current_release_info(home)["report_error"] == "RuntimeError: the renderer broke"
    assert "none in this release: RuntimeError: the renderer broke" in html_report.headline_line(home)

    monkeypatch.undo()
    _build_db(tmp_path / "build2.duckdb")
    release = publish(tmp_path / "build2.duckdb", home, "run-2")
    assert current_release_info(home)["report"] == "report.html"
    assert html_report.headline_line(home) == f"  HTML report   {home.current_release / 'report.html'}"
    page = (release / "report.html").read_text(encoding="utf-8")
    assert "Every current snapshot is a whole list" in page


# ------------------------------------------------------------------------------ offline Data Docs


def test_data_docs_open_offline(tmp_path: Path):
    import pandas as pd

    from expectations import gx_modules, stage_suites
    from pipeline.validation import OFFLINE_MARK, validate_stage

    _gx, gxe = gx_modules()
    suite = stage_suites("marts", {"things": [
        gxe.ExpectColumnValuesToNotBeNull(column="id"),
        gxe.ExpectTableRowCountToBeBetween(min_value=5, severity="warning")]})["things"]
    docs = tmp_path / "gx" / "data_docs"
    frame = pd.DataFrame({"id": [1, 2, 3]})
    validate_stage("marts", {"things": frame}, {"things": suite}, docs_dir=docs)
    validate_stage("marts", {"things": frame}, {"things": suite}, docs_dir=docs, run_name="second")
    pages = list(docs.rglob("*.html"))
    assert len(pages) >= 4  # index, the suite, two results
    remote = re.compile(r"""<(?:script|link|img)\b[^>]*(?:src|href)\s*=\s*["']\s*(?:https?:)?//""", re.I)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert OFFLINE_MARK in text and "<script" not in text.lower() and not remote.search(text), page
    for css in docs.rglob("*.css"):
        assert "//" not in re.sub(r"/\*.*?\*/", "", css.read_text(encoding="utf-8"), flags=re.S).replace(
            "url(none", ""), css
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert index.count(">marts.things</a>") == 3 and "2 stored result(s), 0 with a critical failure" in index
    summary = json.loads((docs / "index.json").read_text(encoding="utf-8"))
    assert [(r["suite"], r["run_name"], r["critical_failed"], r["warnings_failed"]) for r in summary["results"]] == [
        ("marts.things", "second", 0, 1), ("marts.things", None, 0, 1)]
    for r in summary["results"]:
        assert (docs / r["page"]).is_file()
    assert summary["suites"] == ["expectations/marts/things.html"]


# ------------------------------------------------------------------------------ the browser


class Chromium:
    """Headless Chromium driven over the DevTools protocol (websockets' sync client), on 127.0.0.1,
    with every host name unresolvable: a page that asks the network for anything gets nothing."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking", "--remote-debugging-address=127.0.0.1",
             "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1280,900",
             "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.events: list[dict] = []
        self._id = 0
        self.ws = None

    def start(self, stack: contextlib.ExitStack) -> Chromium:
        from websockets.sync.client import connect

        deadline = time.monotonic() + 90
        port = None
        while port is None and time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode}")
            found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            port = found and found.group(1)
        assert port, "chromium did not say where DevTools listens"
        threading_drain(self.proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as response:
            targets = json.loads(response.read())
        page = next(t for t in targets if t["type"] == "page")
        self.ws = stack.enter_context(connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=30))
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        return self

    def send(self, method: str, **params) -> dict:
        self._id += 1
        ident = self._id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=120))
            if message.get("id") == ident:
                assert "error" not in message, message
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def open(self, path: Path, ready: str = "document.readyState === 'complete'", timeout: float = 120) -> None:
        self.events.clear()
        self.send("Page.navigate", url=path.resolve().as_uri())
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"!!({ready})"):
            assert time.monotonic() < deadline, f"{path}: not ready ({ready}) after {timeout} s"
            time.sleep(0.1)  # polling a condition, with a deadline

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and any request that is not for a file or data URL."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails']}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
            elif method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith(("file:", "data:", "about:")):
                    found.append(f"network request: {url}")
        return found

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        height = min(self.evaluate("document.documentElement.scrollHeight"), 12000)
        shot = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)


def threading_drain(proc: subprocess.Popen) -> None:
    """Keep reading Chromium's stderr so a chatty browser never blocks on a full pipe."""
    import threading

    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    chromium = Chromium(binary, profile)
    try:
        with contextlib.ExitStack() as stack:
            yield chromium.start(stack)
    finally:
        chromium.close()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    """``pipeline run`` on the demo files in a fresh home; the current release folder."""
    home = tmp_path_factory.mktemp("reporthome")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_")}
    env["PIPELINE_HOME"] = str(home)
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "run"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=3600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    release = (home / "publish" / "current").resolve()
    assert f"HTML report   {home / 'publish' / 'current' / 'report.html'}" in done.stdout
    return release


CHARTS = """JSON.stringify(Array.from(document.querySelectorAll('figure.chart')).map(function (f) {
  var svg = f.querySelector('svg'); var box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return {id: f.id, drawn: f.getAttribute('data-drawn'), width: box.width, height: box.height,
          marks: svg ? svg.querySelectorAll('path, rect, line, circle').length : 0};
}))"""


@pytest.mark.integration
def test_the_report_draws_in_a_browser(demo_run: Path, browser: Chromium, tmp_path: Path):
    report = demo_run / "report.html"
    assert report.is_file()
    browser.open(report, ready="document.body && document.body.getAttribute('data-charts') === 'done'")
    charts = json.loads(browser.evaluate(CHARTS))
    assert [c["id"] for c in charts] == ["chart-pair", "chart-rank", "chart-ties"]
    for chart in charts:
        assert chart["drawn"] == "true" and chart["width"] > 100 and chart["height"] > 100, chart
        assert chart["marks"] > 20, chart
    text = browser.evaluate("document.body.innerText")
    for heading in ("The ranking over time", "The closest ties", "Russia and Iran: the evidence", "Freshness",
                    "Data quality", "What is partial", "Demo data"):
        assert heading in text, heading
    assert browser.evaluate("document.querySelectorAll('#evidence q').length") > 0
    assert browser.evaluate("document.querySelectorAll('#evidence a[href^=\"http\"]').length") > 0
    shot = browser.screenshot("report.png")
    print(f"screenshot of the report: {shot}")
    assert shot.stat().st_size > 10_000
    assert browser.problems() == []

    # the Data Docs the report links, without network
    assert browser.evaluate("document.querySelector('a[href=\"data_docs/index.html\"]') !== null")
    browser.open(demo_run / "data_docs" / "index.html")
    rows = browser.evaluate("document.querySelectorAll('#validation-results tbody tr').length")
    assert rows >= 30
    suites = browser.evaluate("Array.from(document.querySelectorAll('#expectation-suites a')).map(a => a.textContent)")
    assert {"raw.files", "staged.us_ofac_sdn", "marts.mart_country_rankings"} <= set(suites)
    assert browser.evaluate("document.getElementById('validation-results').getBoundingClientRect().height") > 200
    page = browser.evaluate("document.querySelector('#validation-results a').getAttribute('href')")
    browser.screenshot("data_docs.png")
    assert browser.problems() == []
    browser.open(demo_run / "data_docs" / page)
    assert "Expectation Validation Result" in browser.evaluate("document.body.innerText")
    assert browser.problems() == []


@pytest.mark.integration
def test_hostile_data_never_runs_in_the_browser(demo_run: Path, browser: Chromium, tmp_path: Path):
    """The published database with hostile names, sentences and links: the page shows them as text."""
    from pipeline import settings as settings_mod

    release = tmp_path / "hostile"
    release.mkdir()
    shutil.copyfile(demo_run / "sanctions.duckdb", release / "sanctions.duckdb")
    shutil.copytree(demo_run / "data_docs", release / "data_docs")
    con = duckdb.connect(str(release / "sanctions.duckdb"))
    con.execute("drop view stg_ref__countries")
    con.execute("create table stg_ref__countries as select * from (values ('RU', ?), ('IR', 'Iran')) "
                "as t(country_iso2, country_name)", [HOSTILE_NAME])
    con.execute("update mart_country_rankings_monthly set country_name = ? where country_iso2 = 'RU'", [HOSTILE_NAME])
    con.execute("update mart_dyad_ties set country_b_name = ? where country_b = 'RU'", [HOSTILE_NAME])
    con.execute("update mart_dyad_evidence set quote = ?, name = ? where country_a = 'IR' and country_b = 'RU'",
                [HOSTILE_QUOTE, HOSTILE_NAME])
    ids = [r[0] for r in con.execute("""select record_id from mart_dyad_evidence
        where country_a = 'IR' and country_b = 'RU' and evidence_kind = 'event' order by record_id""").fetchall()]
    assert len(ids) >= len(HOSTILE_URLS)
    for record, url in zip(ids, HOSTILE_URLS, strict=False):
        con.execute("update mart_dyad_evidence set url = ? where record_id = ?", [url, record])
    con.close()
    env = {"PIPELINE_HOME": str(demo_run.parent.parent.parent)}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        html_report.write_report(release, settings_mod.load(), {"run_id": HOSTILE_NAME})
    browser.open(release / "report.html", ready="document.body && document.body.getAttribute('data-charts') === 'done'")
    assert browser.evaluate("typeof window.__pwned") == "undefined"
    assert browser.evaluate("document.scripts.length") == 3  # the chart specs, the Vega bundle, the drawing
    assert browser.evaluate("""Array.from(document.querySelectorAll('body *')).filter(
        e => Array.from(e.attributes).some(a => a.name.startsWith('on'))).length""") == 0
    hrefs = browser.evaluate("Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))")
    assert all(h.startswith(("#", "https://", "http://", "data_docs/", "headline.txt")) for h in hrefs), hrefs
    assert not any("pwned" in h or h.startswith("//") for h in hrefs)
    text = browser.evaluate("document.body.innerText")
    assert HOSTILE_NAME in text and "</script><img src=x onerror=" in text
    assert all(c["drawn"] == "true" for c in json.loads(browser.evaluate(CHARTS)))
    browser.screenshot("hostile.png")
    assert browser.problems() == []
