"""The published database is a compact copy of the built one (issue 17, "Fast").

DuckDB gives every table blocks of its own, so the build's 256 KiB blocks left most of a
publication of many small tables empty. Publish writes the database anew (``COPY FROM DATABASE``)
with 64 KiB blocks and the configured storage version, and checks the copy against the built file
before anything reads it. These tests hold it to: every table, view, row, comment and macro the
same (EXCEPT ALL both ways, on real DuckDB files and on a real dbt build of the demo files), the
file smaller, readable by DuckDB 1.2+ (the storage version in the header), the built file only
read, a copy that differs or fails named and never published, and the release's sha256 that of
the file published.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import duckdb
import pytest

from pipeline import publish
from pipeline.errors import PipelineError
from tests.conftest import DEMO, REPO

STORAGE_VERSION = "v1.2.0"  # the project's default (PIPELINE_DUCKDB_STORAGE_VERSION)
SMALL_TABLES = 24


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _many_small_tables(path: Path) -> Path:
    """A database shaped like the build: many small tables in schemas, one larger grid, awkward
    values, comments on tables, columns and views, a view and a macro; written with DuckDB's
    default blocks (256 KiB), as dbt writes the build."""
    con = duckdb.connect(str(path), config={"storage_compatibility_version": STORAGE_VERSION})
    con.execute("create schema lake")
    con.execute("create schema ref")
    for i in range(SMALL_TABLES):
        con.execute(f"create table lake.t{i} as select range as id, 'name ' || range || ' ü' as name, "
                    f"date '2024-01-01' + cast(range as integer) as day from range({7 * i + 1})")
    con.execute("comment on table lake.t3 is 'the third table, with ''quotes'''")
    con.execute("comment on column lake.t3.name is 'a name'")
    con.execute("""create table ref.awkward as select * from (values
        (1, null::varchar, 'NaN'::double, -0.0::double, 170141183460469231731687303715884105727::hugeint,
         [1, 2, null], {'a': 1, 'b': 'x'}, 12.345::decimal(18, 3), '\\x00\\xff'::blob,
         timestamptz '2024-06-28 12:00:00+02'),
        (2, '', 'inf'::double, 1e-308, -1::hugeint, [], {'a': null, 'b': null}, null, ''::blob, null),
        (2, '', 'inf'::double, 1e-308, -1::hugeint, [], {'a': null, 'b': null}, null, ''::blob, null))
        as v(id, text, x, y, big, items, pair, amount, raw, stamp)""")
    con.execute("""create table main.mart_grid as
        select a.range as country_a, b.range as country_b, p.range as period,
               case when (a.range + b.range + p.range) % 97 = 0 then a.range * 1.5 end as score,
               sum(a.range)::hugeint as events
        from range(120) a, range(120) b, range(12) p group by all""")
    con.execute("comment on table main.mart_grid is 'every pair of states per period'")
    con.execute("create table main.int_current_snapshots as "
                "select 'un_sc' as source, date '2024-06-28' as snapshot_date")
    con.execute("create view main.mart_grid_top as select * exclude (score, events), score from main.mart_grid "
                "where score is not null")
    con.execute("comment on view main.mart_grid_top is 'the pairs with a score'")
    con.execute("create macro main.top_of(p) as table select * from main.mart_grid_top where period = p")
    con.close()
    return path


def _relations(con: duckdb.DuckDBPyConnection, db: str) -> list[tuple[str, str]]:
    tables = con.execute("select schema_name, table_name from duckdb_tables() where database_name = ?",
                         [db]).fetchall()
    views = con.execute("select schema_name, view_name from duckdb_views() where database_name = ? "
                        "and not internal", [db]).fetchall()
    return sorted(tables) + sorted(views)


def _assert_same_content(built: Path, published: Path) -> int:
    """Every table and view of ``published`` holds exactly the rows of ``built`` (EXCEPT ALL both
    ways, duplicates counted), with the same comments; returns the number of relations compared."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{built}' as a (read_only)")
        con.execute(f"attach '{published}' as b (read_only)")
        relations = _relations(con, "a")
        assert relations == _relations(con, "b")
        for schema, name in relations:
            rel = f'"{schema}"."{name}"'
            for x, y in (("a", "b"), ("b", "a")):
                extra = con.execute(f"select count(*) from (from {x}.{rel} except all from {y}.{rel})").fetchone()[0]
                assert extra == 0, f"{schema}.{name}: {extra} row(s) of {x} not in {y}"
        for query in ("select schema_name, table_name, comment from duckdb_tables() where database_name = ? "
                      "order by all",
                      "select schema_name, view_name, comment from duckdb_views() where database_name = ? "
                      "and not internal order by all",
                      "select schema_name, table_name, column_name, data_type, comment from duckdb_columns() "
                      "where database_name = ? order by all",
                      "select schema_name, function_name, function_type from duckdb_functions() "
                      "where database_name = ? and not internal order by all"):
            assert con.execute(query, ["a"]).fetchall() == con.execute(query, ["b"]).fetchall(), query
        return len(relations)
    finally:
        con.close()


def _header_version(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[8:12] == b"DUCK"
    return struct.unpack("<Q", header[12:20])[0]


def _block_size(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("pragma database_size").fetchone()[2]
    finally:
        con.close()


def test_compact_copy_keeps_every_row_and_comment_and_drops_the_empty_blocks(tmp_path: Path):
    built = _many_small_tables(tmp_path / "built.duckdb")
    before = _sha256(built)
    out = tmp_path / "release" / "sanctions.duckdb"
    out.parent.mkdir()
    publish.compact(built, out, STORAGE_VERSION)

    assert _sha256(built) == before, "the built file is only read"
    assert not out.with_name(out.name + ".wal").exists(), "everything is in the one file a reader opens"
    assert _assert_same_content(built, out) == SMALL_TABLES + 3 + 1  # and the view
    assert _block_size(built) == 262144 and _block_size(out) == publish.PUBLISH_BLOCK_SIZE
    # one 256 KiB block per small table before; less than half of that now
    assert out.stat().st_size < built.stat().st_size / 2, (out.stat().st_size, built.stat().st_size)
    assert _header_version(out) == 65  # STORAGE_VERSION v1.2.0: DuckDB 1.2+ opens it
    con = duckdb.connect(str(out), read_only=True)
    try:  # the macro and the view work in the copy
        assert con.execute("select count(*) from top_of(3)").fetchone()[0] == con.execute(
            "select count(*) from mart_grid where period = 3 and score is not null").fetchone()[0] > 0
    finally:
        con.close()


def test_a_compact_copy_replaces_a_stale_file_and_is_the_same_every_time(tmp_path: Path):
    built = _many_small_tables(tmp_path / "built.duckdb")
    out = tmp_path / "sanctions.duckdb"
    out.write_text("left over from a killed publish\n", encoding="utf-8")
    out.with_name(out.name + ".wal").write_text("stale\n", encoding="utf-8")
    publish.compact(built, out, STORAGE_VERSION)
    first = out.stat().st_size
    assert not out.with_name(out.name + ".wal").exists()
    publish.compact(built, out, STORAGE_VERSION)
    assert out.stat().st_size == first
    _assert_same_content(built, out)


def test_copy_differences_name_the_table_the_rows_and_the_catalog(tmp_path: Path):
    built = _many_small_tables(tmp_path / "built.duckdb")
    other = tmp_path / "other.duckdb"
    publish.compact(built, other, STORAGE_VERSION)
    con = duckdb.connect(str(other))
    con.execute("update lake.t5 set name = 'changed' where id = 3")  # same count, other rows
    con.execute("delete from ref.awkward where id = 2 and text = '' and rowid = (select max(rowid) from ref.awkward)")
    con.execute("comment on column lake.t3.name is 'another comment'")
    con.execute("drop table lake.t7")
    con.close()
    con = duckdb.connect()
    con.execute(f"attach '{built}' as built (read_only)")
    con.execute(f"attach '{other}' as other (read_only)")
    problems = publish.copy_differences(con, "built", "other")
    con.close()
    text = "\n".join(problems)
    assert any(p.startswith("table lake.t5: 36 rows") and "36 rows" in p.split(",")[1] for p in problems), text
    assert any(p.startswith("table ref.awkward: 3 rows") and "2 rows" in p for p in problems), text
    assert any(p.startswith("tables: 1 only in the built file") and "'t7'" in p for p in problems), text
    assert any(p.startswith("columns:") and "another comment" in p for p in problems), text
    con = duckdb.connect()
    con.execute(f"attach '{built}' as a (read_only)")
    con.execute(f"attach '{built}' as b (read_only)")
    assert publish.copy_differences(con, "a", "b") == []
    con.close()


def test_a_built_file_that_cannot_be_copied_is_named_and_nothing_is_left(tmp_path: Path):
    built = tmp_path / "built.duckdb"
    built.write_text("this is not a database\n", encoding="utf-8")
    out = tmp_path / "sanctions.duckdb"
    with pytest.raises(PipelineError) as err:
        publish.compact(built, out, STORAGE_VERSION)
    assert f"the compact copy of the built database {built} differs from it: DuckDB could not copy it" in str(err.value)
    assert str(err.value).endswith(". Nothing was published; the last good publication is unchanged.")
    assert not out.exists() and not out.with_name(out.name + ".wal").exists()


def _tiny_build(path: Path, country: str, block_size: int | None = None) -> Path:
    con = duckdb.connect(str(path), config={"default_block_size": str(block_size)} if block_size else {})
    con.execute("create table int_current_snapshots as select 'un_sc' as source, date '2024-06-28' as snapshot_date")
    con.execute(f"create table mart_country_rankings as select '{country}' as country, 1 as rank")
    con.close()
    return path


def test_publish_of_a_build_that_cannot_be_copied_keeps_the_last_release(home, tmp_path: Path):
    first = publish.publish(_tiny_build(tmp_path / "good.duckdb", "RU"), home, "manual__good")
    manifest = json.loads((first / "release.json").read_text())
    assert manifest["database_sha256"] == _sha256(home.published_db)
    assert _block_size(home.published_db) == publish.PUBLISH_BLOCK_SIZE
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"\0" * 4096)
    with pytest.raises(PipelineError, match="could not copy it"):
        publish.publish(bad, home, "manual__bad")
    assert home.current_release.resolve() == first.resolve()
    assert not list((home.publish_dir / "releases").glob(".tmp-*"))
    assert not (home.publish_dir / "releases" / "manual__bad").exists()
    publish.ensure_intact(home.published_db, home)


def test_a_build_with_the_publication_blocks_is_published_as_built_and_others_compacted(home, tmp_path: Path):
    small = _tiny_build(tmp_path / "small.duckdb", "RU", block_size=publish.PUBLISH_BLOCK_SIZE)
    large = _tiny_build(tmp_path / "large.duckdb", "IR")
    assert publish.block_size(large) == 262144 and publish.block_size(tmp_path / "missing.duckdb") is None
    first = publish.publish(small, home, "manual__small")
    assert (first / "sanctions.duckdb").read_bytes() == small.read_bytes()
    second = publish.publish(large, home, "manual__large")
    assert _block_size(second / "sanctions.duckdb") == publish.PUBLISH_BLOCK_SIZE
    assert (second / "sanctions.duckdb").stat().st_size < large.stat().st_size


@pytest.mark.integration
def test_publish_of_a_real_build_is_its_content_with_small_blocks(tmp_path: Path, home):
    """A real dbt build of the demo's OFAC SDN and UN files, published: every table and view the
    same rows as the built file, the release's sha256 that of the published file, a reader's
    check passes, 64 KiB blocks (the profile's) and DuckDB 1.2's storage header."""
    from pipeline.models import build_database
    from pipeline.parse import parse_files

    staged = tmp_path / "staged"
    parse_files("us_ofac_sdn", [DEMO / "us_ofac_sdn" / "sdn_advanced.xml"], staged)
    parse_files("un_sc", [DEMO / "un_sc" / "consolidated.xml"], staged)
    built = tmp_path / "build.duckdb"
    build_database(staged, built, REPO / "sql", home.storage_version)
    before = _sha256(built)

    release = publish.publish(built, home, "manual__real")
    published = release / "sanctions.duckdb"
    assert _sha256(built) == before
    assert _assert_same_content(built, published) > 60  # the lake, ref, staging, intermediate and mart layers
    manifest = json.loads((release / "release.json").read_text())
    assert manifest["database_sha256"] == _sha256(published)
    publish.ensure_intact(home.published_db, home)
    # the project's profile builds with the publication's 64 KiB blocks: the release is that file as built
    assert _block_size(built) == _block_size(published) == publish.PUBLISH_BLOCK_SIZE
    assert published.stat().st_size == built.stat().st_size
    assert 64 <= _header_version(published) <= 68
    # the marts' Parquet exports were written from the published copy: the same rows
    con = duckdb.connect(str(published), read_only=True)
    try:
        for mart, rows in manifest["mart_rows"].items():
            parquet = release / "marts" / f"{mart}.parquet"
            exported = con.execute(f"select count(*) from read_parquet('{parquet}')").fetchone()
            assert exported[0] == rows == con.execute(f"select count(*) from {mart}").fetchone()[0]
    finally:
        con.close()


def test_a_full_disk_during_the_copy_is_said_as_such_and_leaves_nothing(tmp_path: Path):
    """A real 1 MiB tmpfs: the copy cannot be written; the error names the file and the full disk
    (what ``pipeline run`` turns into its disk-full message), and no part of the copy is left."""
    import subprocess

    from pipeline.airflow_run import error_record
    from pipeline.settings import load

    built = _many_small_tables(tmp_path / "built.duckdb")
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True,
                          check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        out = mount / "sanctions.duckdb"
        with pytest.raises(PipelineError) as err:
            publish.compact(built, out, STORAGE_VERSION)
        assert "No space left on device" in str(err.value)
        assert sorted(mount.iterdir()) == []
        record = error_record(load(), "manual__full", "publish", err.value)
        assert record["error"].startswith(f"disk full at {out}"), record["error"]
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
