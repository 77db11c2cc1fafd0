"""The ``pipeline`` console script, the raw store and publishing, without Airflow."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline import raw
from pipeline.errors import SourceError
from pipeline.models import build_database
from pipeline.parse import parse_files
from pipeline.publish import publish
from tests.conftest import DEMO, REPO

PIPELINE = [sys.executable, "-m", "pipeline.cli"]


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*PIPELINE, *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.mark.integration
def test_parse_command_on_unseen_files(samples: Path, tmp_path: Path):
    out = tmp_path / "out"
    done = _cli("parse", "un_sc", str(samples / "un" / "consolidated_2026-02-27_subset.xml"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "designations       256 rows" in done.stdout
    parts = list((out / "designations").glob("source=un_sc/snapshot_date=2026-02-27/*.parquet"))
    assert len(parts) == 1
    csv_dir = samples / "ofac" / "sdn_csv_excerpt"
    done = _cli("parse", "us_ofac_sdn", *map(str, sorted(csv_dir.iterdir())), "--out", str(out),
                "--snapshot-date", "2025-05-16")
    assert done.returncode == 0, done.stderr
    assert "designations        17 rows" in done.stdout
    assert list((out / "names").glob("source=us_ofac_sdn/snapshot_date=2025-05-16/*.parquet"))


@pytest.mark.integration
def test_parse_command_reports_bad_file(tmp_path: Path):
    bad = tmp_path / "sdn.xml"
    bad.write_text("<html><body>Service unavailable</body></html>")
    done = _cli("parse", "us_ofac_sdn", str(bad), "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert "[us_ofac_sdn] file 'sdn.xml'" in done.stderr and "HTML page" in done.stderr


@pytest.fixture(scope="module")
def publication(tmp_path_factory):
    """A publication built from the demo files through the same functions the DAG calls."""
    from pipeline import settings as settings_mod

    home = tmp_path_factory.mktemp("pubhome")
    mp = pytest.MonkeyPatch()
    mp.setenv("PIPELINE_HOME", str(home))
    settings = settings_mod.load()
    staged = home / "staged"
    parse_files("us_ofac_sdn", [DEMO / "us_ofac_sdn" / "sdn_advanced.xml"], staged)
    parse_files("un_sc", [DEMO / "un_sc" / "consolidated.xml"], staged)
    db = home / "build.duckdb"
    build_database(staged, db, REPO / "sql", settings.storage_version)
    publish(db, settings, "test-run")
    yield settings
    mp.undo()


@pytest.mark.integration
def test_query_is_read_only_and_prints_a_table(publication):
    env = {"PIPELINE_HOME": str(publication.home)}
    done = _cli("query", "select country_iso2, designations from mart_country_rankings "
                "where unit = 'designations' and authority = 'all' and basis = 'program_target' "
                "and entity_type = 'all' order by rank limit 3",
                env=env)
    assert done.returncode == 0, done.stderr
    assert "country_iso2" in done.stdout and "designations" in done.stdout
    as_json = _cli("query", "select count(*) as n from mart_designations", "--format", "json", env=env)
    assert json.loads(as_json.stdout)[0]["n"] > 100
    write = _cli("query", "create table hack as select 1", env=env)
    assert write.returncode == 1 and "read-only" in write.stderr.lower()


@pytest.mark.integration
def test_validate_command_on_the_publication(publication):
    done = _cli("validate", env={"PIPELINE_HOME": str(publication.home)})
    assert done.returncode == 0, done.stderr
    assert "marts.mart_country_rankings" in done.stdout


@pytest.mark.integration
def test_published_file_is_readable_by_older_duckdb_storage(publication):
    import struct

    # The file header holds the storage version number after the 'DUCK' magic. DuckDB 2.0 writes
    # a version the newest CLI on PyPI (1.5.x, reads 64-68) cannot open; the publication is
    # written with STORAGE_VERSION v1.2.0 (number 65) so CLIs and BI drivers on DuckDB 1.2+ can.
    header = publication.published_db.read_bytes()[:20]
    assert header[8:12] == b"DUCK"
    assert 64 <= struct.unpack("<Q", header[12:20])[0] <= 68


def test_data_dictionary_is_current():
    from pipeline.docs import DICTIONARY, render

    assert DICTIONARY.read_text(encoding="utf-8") == render(), "run `pipeline docs` and commit the result"


def test_raw_store_is_content_addressed(home, tmp_path: Path):
    src = tmp_path / "consolidated.xml"
    src.write_bytes((DEMO / "un_sc" / "consolidated.xml").read_bytes())
    first = raw.land("un_sc", str(src), home)
    second = raw.land("un_sc", str(src), home)
    assert first.sha256 == second.sha256 and first.path == second.path
    assert Path(first.path).name == f"{first.sha256}.xml"  # outside names never become paths
    assert Path(first.path).read_bytes() == src.read_bytes()
    manifest = raw.read_manifest(home)
    assert [m.sha256 for m in manifest] == [first.sha256, first.sha256]
    assert {m.origin for m in manifest} == {str(src.resolve())}


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


def test_raw_fetch_from_a_local_server(home, tmp_path: Path):
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "consolidated.xml").write_bytes((DEMO / "un_sc" / "consolidated.xml").read_bytes())
    handler = lambda *a, **kw: _Handler(*a, directory=str(tmp_path / "www"), **kw)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/consolidated.xml"
        landed = raw.land("un_sc", url, home)
        assert landed.origin == url and landed.bytes == (tmp_path / "www" / "consolidated.xml").stat().st_size
        with pytest.raises(SourceError, match="fetch"):
            raw.land("un_sc", f"http://127.0.0.1:{server.server_port}/missing.xml", home)
    finally:
        server.shutdown()


def test_every_command_and_option_has_help_without_markup():
    """`pipeline --help` and every command's help: a text for each argument, no reST markup."""
    import argparse

    from pipeline.cli import build_parser

    missing = []

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        assert "``" not in (parser.description or ""), name
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, subparser in action.choices.items():
                    walk(subparser, f"{name} {sub}")
            elif not action.help or "``" in action.help:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "pipeline")
    assert missing == []


def test_version_and_unknown_sources_are_one_line(capsys, monkeypatch):
    from pipeline import __version__
    from pipeline.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"pipeline {__version__}"
    assert main(["parse", "no_such_source", "x.xml", "--out", "out"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: unknown source 'no_such_source' (known: articles,"), err
    monkeypatch.setenv("PIPELINE_SOURCES", "un_sc,no_such_source")
    assert main(["report"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [err[0]] and "PIPELINE_SOURCES: unknown source 'no_such_source'" in err[0], err
