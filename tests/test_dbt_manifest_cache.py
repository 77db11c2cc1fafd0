"""The parsed manifest shared by every home (pipeline.models.manifest_cache): the first build of a new
work dir parses nothing when the same project was parsed before, builds the same database, runs
the same data tests (a failing one still stops the build), and any change to the project, its
seeds or the build's vars is a new digest: parsed again, never built from a stale manifest."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline.errors import ModelError
from pipeline.models import MANIFEST_CACHE_ENV, build_database, dbt, project_digest
from tests.model_fixtures import mini_project

STORAGE_VERSION = "v1.2.0"
# dbt's events of a parse: the reading of the saved manifest (or its absence) and the parse's own timing
PARSE_EVENTS = {"UnableToPartialParse", "PartialParsingEnabled", "ParseCmdPerfInfoPath", "PartialParsingSkipParsing",
                "StateCheckVarsHash"}


def _models(value: int) -> dict[str, str]:
    """stg_a (a view of one row, x = value) and mart_a with its grain test and a test that x < 10."""
    test = {"expression_is_true": {"arguments": {"expression": "x < 10"}}}
    return {
        "staging/stg_a.sql": f"-- grain: one row per x\nselect {value} as x\n",
        "marts/mart_a.sql": "-- grain: one row per x\nselect x from {{ ref('stg_a') }}\n",
        "marts/_marts.yml": yaml.safe_dump({"version": 2, "models": [{
            "name": "mart_a", "description": "A.", "columns": [{"name": "x", "data_type": "integer",
                                                                "description": "The x."}],
            "data_tests": [{"grain": {"arguments": {"columns": ["x"]}}}, test]}]}),
    }


def _build(project: Path, work: Path, db: Path) -> tuple[bool, set[str], list]:
    """One build in ``work``: (success, dbt's parse events seen, the node results)."""
    seen: set[str] = set()
    db.parent.mkdir(parents=True, exist_ok=True)
    result, _ = dbt(project, db, ["build"], work, lake=project.parent, storage_version=STORAGE_VERSION,
                    callbacks=[lambda e: seen.add(e.info.name)])
    results = list(getattr(result.result, "results", None) or [])
    return result.success, seen & PARSE_EVENTS, results


def _content(db: Path) -> tuple[list, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return (con.execute("select * from mart_a").fetchall(),
                con.execute("select table_name, column_name, comment from duckdb_columns() "
                            "where schema_name = 'main' order by all").fetchall())
    finally:
        con.close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "manifests"
    monkeypatch.setenv(MANIFEST_CACHE_ENV, str(folder))
    return folder


def test_a_new_home_reuses_the_parsed_manifest_and_builds_the_same(tmp_path: Path, cache: Path):
    project = mini_project(tmp_path, _models(1))
    ok, parsed, first = _build(project, tmp_path / "home-1", tmp_path / "one" / "sanctions.duckdb")
    assert ok and "UnableToPartialParse" in parsed  # a full parse, stored
    assert len(list(cache.glob("*.msgpack"))) == 1
    ok, parsed, second = _build(project, tmp_path / "home-2", tmp_path / "two" / "sanctions.duckdb")
    assert ok and not parsed, f"the new home parsed the project again: {parsed}"
    assert not (tmp_path / "home-2" / "target" / "partial_parse.msgpack").exists()
    # the same nodes ran (the data tests too) and the same content was written
    assert sorted(r.node.unique_id for r in second) == sorted(r.node.unique_id for r in first)
    assert sum(r.node.resource_type == "test" for r in second) == 2
    assert _content(tmp_path / "two" / "sanctions.duckdb") == _content(tmp_path / "one" / "sanctions.duckdb")


def test_a_changed_model_is_parsed_again_never_built_stale(tmp_path: Path, cache: Path):
    project = mini_project(tmp_path, _models(1))
    assert _build(project, tmp_path / "home-1", tmp_path / "one" / "sanctions.duckdb")[0]
    (project / "models" / "staging" / "stg_a.sql").write_text("-- grain: one row per x\nselect 2 as x\n")
    ok, parsed, _ = _build(project, tmp_path / "home-2", tmp_path / "two" / "sanctions.duckdb")
    assert ok and parsed
    assert _content(tmp_path / "two" / "sanctions.duckdb")[0] == [(2,)]
    assert len(list(cache.glob("*.msgpack"))) == 2


def test_the_digest_covers_the_project_seeds_vars_and_database(tmp_path: Path):
    project = mini_project(tmp_path, _models(1))
    base = project_digest(project, {"v": "1"}, "sanctions")
    assert project_digest(project, {"v": "1"}, "sanctions") == base
    assert project_digest(project, {"v": "2"}, "sanctions") != base
    assert project_digest(project, {"v": "1"}, "other") != base
    seed = next((project / "seeds").glob("*.csv"))
    seed.write_text(seed.read_text() + "\n")
    assert project_digest(project, {"v": "1"}, "sanctions") != base
    (project / "target").mkdir()
    (project / "target" / "anything.json").write_text("{}")  # dbt's output of a build run in the folder
    changed = project_digest(project, {"v": "1"}, "sanctions")
    (project / "macros" / "extra.sql").write_text("{% macro extra() %}1{% endmacro %}\n")
    assert project_digest(project, {"v": "1"}, "sanctions") != changed


def test_a_failing_data_test_still_stops_a_build_from_the_shared_manifest(tmp_path: Path, cache: Path):
    project = mini_project(tmp_path, _models(12))
    staged = tmp_path / "staged"
    staged.mkdir()
    for n in (1, 2):
        with pytest.raises(ModelError, match=r"test expression_is_true_mart_a.*failed: 1 failing row"):
            build_database(staged, tmp_path / f"out-{n}" / "sanctions.duckdb", project, STORAGE_VERSION,
                           work_dir=tmp_path / f"home-{n}")
    assert len(list(cache.glob("*.msgpack"))) == 1  # the second build used it
    assert not (tmp_path / "home-2" / "target" / "partial_parse.msgpack").exists()


def test_a_damaged_shared_manifest_is_parsed_again(tmp_path: Path, cache: Path):
    project = mini_project(tmp_path, _models(1))
    assert _build(project, tmp_path / "home-1", tmp_path / "one" / "sanctions.duckdb")[0]
    stored = next(cache.glob("*.msgpack"))
    stored.write_bytes(b"not a manifest")
    ok, parsed, _ = _build(project, tmp_path / "home-2", tmp_path / "two" / "sanctions.duckdb")
    assert ok and parsed
    assert _content(tmp_path / "two" / "sanctions.duckdb")[0] == [(1,)]


def test_no_cache_when_switched_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(MANIFEST_CACHE_ENV, "")
    project = mini_project(tmp_path, _models(1))
    for n in (1, 2):
        ok, parsed, _ = _build(project, tmp_path / f"home-{n}", tmp_path / f"db-{n}" / "sanctions.duckdb")
        assert ok and "UnableToPartialParse" in parsed
