"""A damaged publication and a lake that heals out loud (issue 11, points 8 and 12).

Point 8: the published database is damaged for real (truncated, bytes overwritten in the middle,
replaced by a text file). Every reader says so, naming the file and both sha256s, instead of a
traceback or, worse, answers read from a damaged file; a failed run never calls it "the last good
publication"; the next run rebuilds a good release from the lake and the raw store and says so.

Point 12: a lake part replaced by a valid Parquet file of another table, or by the same table of
another snapshot, is quarantined and re-parsed; a damaged snapshot whose raw file is gone is said
to be lost from history and recorded. Each is printed on the terminal of ``pipeline run``, not
only in Airflow's log.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline import flow, housekeeping, progress, publish, raw
from pipeline.parse import parse_files
from pipeline.settings import Settings
from pipeline.sources import all_schemas
from tests.conftest import DEMO, REPO

UN_DEMO = DEMO / "un_sc" / "consolidated.xml"
# Three sources keep the real runs short and give the lake a source of each shape (lists, votes).
BASE_SOURCES = "us_ofac_sdn,un_sc,unga_votes"
DAMAGED = re.compile(r"the published database (\S+) is damaged "
                     r"\(sha256 ([0-9a-f]{64}) != release\.json ([0-9a-f]{64})\)")


# --- damage, for real ----------------------------------------------------------------------------

def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _overwrite_middle(path: Path) -> None:
    """Same size, 64 KiB of other bytes in the middle: DuckDB opens it and may answer from it."""
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.seek(size // 2)
        fh.write(bytes((i * 7 + 3) % 256 for i in range(64 * 1024)))


def _replace_with_text(path: Path) -> None:
    path.unlink()
    path.write_text("this is not a database\n", encoding="utf-8")


DAMAGE = {"truncated": _truncate, "overwritten": _overwrite_middle, "text": _replace_with_text}


# --- real runs -----------------------------------------------------------------------------------

def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PIPELINE_"))}
    env.update({"PIPELINE_HOME": str(home), "PIPELINE_SOURCES": BASE_SOURCES, "GX_ANALYTICS_ENABLED": "False",
                **extra})
    return env


def _cli(home: Path, *args: str, timeout: float = 900, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=REPO, env=_env(home, **extra),
                          capture_output=True, text=True, timeout=timeout)


def _settings_at(home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    from pipeline import settings

    monkeypatch.setenv("PIPELINE_HOME", str(home))
    monkeypatch.setenv("PIPELINE_SOURCES", BASE_SOURCES)
    return settings.load()


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A home after one real ``pipeline run`` on the demo files of three sources."""
    home = tmp_path_factory.mktemp("published") / "home"
    done = _cli(home, "run")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return home


@pytest.fixture
def home(published: Path, tmp_path: Path) -> Path:
    """A copy of the published home for one test (``current`` is a relative link: it follows)."""
    copy = tmp_path / "home"
    shutil.copytree(published, copy, symlinks=True)
    return copy


def _release(home: Path) -> dict:
    return json.loads((home / "publish" / "current" / "release.json").read_text())


def _assert_named_damage(text: str, db: Path, expected_sha: str) -> None:
    found = DAMAGED.search(text)
    assert found, text[-3000:]
    assert Path(found.group(1)) == db
    assert found.group(3) == expected_sha and found.group(2) != expected_sha


# --- 8. readers of a damaged publication ---------------------------------------------------------

@pytest.mark.integration
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_every_reader_names_a_damaged_publication(home: Path, damage: str, monkeypatch):
    db = home / "publish" / "current" / "sanctions.duckdb"
    recorded = _release(home)["database_sha256"]
    DAMAGE[damage](db)

    for args in (["report"], ["validate"], ["query", "select count(*) from mart_country_rankings"]):
        done = _cli(home, *args, timeout=300)
        assert done.returncode == 1, (args, done.stdout[-2000:], done.stderr[-2000:])
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        _assert_named_damage(done.stderr, db, recorded)
        assert "count_star" not in done.stdout  # nothing was answered from the damaged file
    # an older release's file given with --db is checked against its own release.json too
    done = _cli(home, "query", "select 1", "--db", str(db.resolve()), timeout=300)
    assert done.returncode == 1 and "is damaged (sha256" in done.stderr, done.stderr[-2000:]

    settings = _settings_at(home, monkeypatch)
    assert publish.publication_damage(settings).startswith("sha256 ")
    with pytest.raises(publish.PublicationDamaged, match="is damaged"):
        publish.require_publication(settings)
    # the run's check against the previous snapshot counts the lake instead of the damaged file
    assert flow.previous_rows(settings, "un_sc") == 32
    assert flow.previous_rows(settings, "us_ofac_sdn") == 134


def test_an_intact_release_and_a_database_outside_any_release_pass(tmp_path: Path):
    db = tmp_path / "release" / "sanctions.duckdb"
    db.parent.mkdir()
    db.write_bytes(b"not checked: no release.json names it")
    assert publish.database_damage(db) is None
    publish.ensure_intact(db)
    (db.parent / "release.json").write_text(json.dumps(
        {"database": db.name, "database_sha256": publish.file_sha256(db)}))
    assert publish.database_damage(db) is None
    db.write_bytes(b"another content of another length")
    assert publish.database_damage(db).startswith("sha256 ")  # a new file version is hashed again
    (db.parent / "release.json").write_text("{")
    assert "cannot be read" in publish.database_damage(db)
    (db.parent / "release.json").unlink()
    assert "missing" in publish.database_damage(db, release_required=True)


# --- 8. the next run --------------------------------------------------------------------------

@pytest.mark.integration
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_next_run_says_so_and_republishes(home: Path, damage: str):
    db = home / "publish" / "current" / "sanctions.duckdb"
    before = _release(home)
    damaged_release = db.resolve().parent.name
    DAMAGE[damage](db)

    done = _cli(home, "run")

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    terminal = done.stdout + done.stderr
    assert "Traceback" not in terminal
    _assert_named_damage(terminal, db, before["database_sha256"])
    assert re.search(r"warning: the published database \S+ was damaged .*: release \S+ rebuilt the publication "
                     r"from the lake and the raw store and is now current", terminal), terminal[-4000:]
    assert "last good publication is unchanged" not in terminal
    after = _release(home)
    assert after["run_id"] != before["run_id"]
    assert after["replaced_damaged"]["release"] == damaged_release
    assert after["replaced_damaged"]["reason"].startswith("sha256 ")
    assert publish.file_sha256(db) == after["database_sha256"]
    assert after["source_snapshots"] == before["source_snapshots"]
    assert after["mart_rows"] == before["mart_rows"]
    report = _cli(home, "report", timeout=300)
    assert report.returncode == 0, report.stderr[-2000:]
    assert f"was damaged ({after['replaced_damaged']['reason']})" in report.stdout


@pytest.mark.integration
def test_a_failed_run_never_calls_a_damaged_publication_unchanged(home: Path, tmp_path: Path):
    db = home / "publish" / "current" / "sanctions.duckdb"
    recorded = _release(home)["database_sha256"]
    _truncate(db)
    html = tmp_path / "consolidated.xml"
    html.write_text("<html><body>Service unavailable</body></html>\n", encoding="utf-8")

    done = _cli(home, "run", "--input", f"un_sc={html}")

    assert done.returncode == 1, done.stdout[-3000:]
    assert "last good publication is unchanged" not in done.stdout + done.stderr
    assert "Step 'validate_raw' stopped the run" in done.stderr, done.stderr[-3000:]
    _assert_named_damage(done.stderr, db, recorded)
    assert done.stderr.rstrip().endswith("publishes a good release rebuilt from the lake and the raw store."), \
        done.stderr[-1500:]


# --- 12. a lake that heals out loud ----------------------------------------------------------------

@pytest.fixture
def un_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, Path]:
    """The demo UN list landed into the raw store and parsed into the lake, with a progress file
    as ``pipeline run`` gives the DAG's tasks."""
    from pipeline import settings as settings_mod

    monkeypatch.setenv("PIPELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(progress.ENV, str(tmp_path / "progress.jsonl"))
    settings = settings_mod.load()
    landed = raw.land("un_sc", str(UN_DEMO), settings)
    parse_files("un_sc", [Path(landed.path)], settings.staged_dir, names=[landed.name], sha256s=[landed.sha256])
    return settings, tmp_path / "progress.jsonl"


def _notices(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [r["notice"] for r in map(json.loads, path.read_text().splitlines()) if "notice" in r]


def _part(settings: Settings, table: str, source: str = "un_sc") -> Path:
    return next(settings.staged_dir.glob(f"{table}/source={source}/snapshot_date=*/part-*.parquet"))


def test_every_table_is_told_from_every_other():
    tables = all_schemas()
    for table, schema in tables.items():
        assert housekeeping.schema_mismatch(schema, table, "un_sc") is None
        for other in tables:
            if other != table:
                assert housekeeping.schema_mismatch(schema, other, "un_sc"), (table, other)


def test_a_part_written_before_a_schema_change_still_belongs_to_its_table():
    import pyarrow as pa

    names = all_schemas()["names"]
    older = pa.schema([f for f in names if f.name != "quality"] + [pa.field("script", pa.string())])
    assert housekeeping.schema_mismatch(older, "names", "un_sc") is None


def test_part_replaced_by_another_tables_parquet_is_quarantined_and_reparsed(un_lake, tmp_path):
    settings, notices = un_lake
    target = _part(settings, "designations")
    rel = target.relative_to(settings.staged_dir)
    shutil.copyfile(_part(settings, "names"), target)  # a valid Parquet file, of the wrong table
    assert housekeeping.parquet_damage(target) is None

    view = dict(housekeeping.lake_view(settings, tmp_path / "healed"))

    said = "\n".join(_notices(notices))
    assert f"quarantined {target}" in said and "not a part of table designations" in said
    assert "are those of table names" in said
    assert "un_sc" in said and "re-parsed from the raw store" in said
    healed = view[rel]
    assert healed == tmp_path / "healed" / rel
    assert "designation_id" in pq.read_schema(healed).names
    assert pq.read_metadata(healed).num_rows == 32
    quarantined = list((settings.lake_dir / "quarantine").rglob(target.name))
    assert [q.relative_to(settings.lake_dir / "quarantine").parts[1:] for q in quarantined] == [rel.parts]


def test_part_replaced_by_another_snapshots_part_of_the_same_table_is_quarantined(un_lake, tmp_path):
    settings, notices = un_lake
    other = tmp_path / "other.xml"
    other.write_text(UN_DEMO.read_text(encoding="utf-8").replace("</CONSOLIDATED_LIST>",
                                                                 "</CONSOLIDATED_LIST>\n<!-- another day -->"))
    parse_files("un_sc", [other], tmp_path / "other", names=[other.name])
    target = _part(settings, "designations")
    shutil.copyfile(next((tmp_path / "other").glob("designations/source=un_sc/*/*.parquet")), target)

    view = dict(housekeeping.lake_view(settings, tmp_path / "healed"))

    said = "\n".join(_notices(notices))
    assert f"quarantined {target}" in said and "not from this snapshot's" in said, said
    assert view[target.relative_to(settings.staged_dir)].is_relative_to(tmp_path / "healed")


def test_damaged_snapshot_whose_raw_file_is_gone_is_said_lost_and_recorded(un_lake, tmp_path):
    settings, notices = un_lake
    stored = [r for r in raw.read_manifest(settings) if r.source == "un_sc"]
    for record in stored:
        raw.stored_path(settings, record).unlink()
    target = _part(settings, "designations")
    _truncate(target)

    assert housekeeping.lake_view(settings, tmp_path / "healed") == []

    said = "\n".join(_notices(notices))
    assert "HISTORY LOST: snapshot 2024-06-28 of source un_sc" in said, said
    assert str(target) in said and stored[0].sha256 in said and "gone from the raw store" in said
    lost = housekeeping.lost_snapshots(settings)
    assert len(lost) == 1
    assert lost[0]["source"] == "un_sc" and lost[0]["snapshot_date"] == "2024-06-28"
    assert lost[0]["raw_sha256"] == [stored[0].sha256]
    assert str(target) in lost[0]["damaged_parts"] and str(target) in lost[0]["quarantined"]
    assert all(Path(q).is_file() for q in lost[0]["quarantined"].values())
    assert not list(settings.staged_dir.rglob("*.parquet"))


@pytest.mark.integration
def test_a_real_run_prints_the_healing_and_the_history_it_lost(home: Path):
    """Only OFAC runs: the UN snapshot (a part replaced by another table's file) comes from the
    lake, healed; the UN votes snapshot (a damaged part, raw file gone) is lost, out loud."""
    staged = home / "lake" / "staged"
    un_target = next(staged.glob("designations/source=un_sc/snapshot_date=*/part-*.parquet"))
    shutil.copyfile(next(staged.glob("names/source=un_sc/snapshot_date=*/part-*.parquet")), un_target)
    votes = next(staged.glob("unga_votes/source=unga_votes/snapshot_date=*/part-*.parquet"))
    _truncate(votes)
    manifest = [json.loads(line) for line in (home / "lake" / "raw" / "manifest.jsonl").read_text().splitlines()]
    gone = [r for r in manifest if r["source"] == "unga_votes"]
    for record in gone:  # the manifest's paths name the home it was copied from: find the copies here
        for stored in (home / "lake" / "raw" / "unga_votes").rglob(f"{record['sha256']}*"):
            stored.unlink()
    assert not [p for p in (home / "lake" / "raw" / "unga_votes").rglob("*") if p.is_file()]

    done = _cli(home, "run", PIPELINE_SOURCES="us_ofac_sdn")

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    terminal = done.stdout  # the progress lines only, not Airflow's log file
    assert re.search(rf"^warning: quarantined {re.escape(str(un_target))} -> .*not a part of table designations",
                     terminal, re.M), terminal
    assert re.search(r"^warning: lake snapshot un_sc \S+ .* re-parsed from the raw store", terminal, re.M), terminal
    assert re.search(r"^warning: HISTORY LOST: snapshot \S+ of source unga_votes", terminal, re.M), terminal
    assert str(votes) in terminal and all(r["sha256"] in terminal for r in gone)
    release = _release(home)
    assert set(release["source_snapshots"]) == {"us_ofac_sdn", "un_sc"}
    assert [(r["source"], r["raw_sha256"]) for r in release["lost_snapshots"]] == \
        [("unga_votes", sorted(r["sha256"] for r in gone))]
    assert housekeeping.parquet_damage(un_target) is None and "designation_id" in pq.read_schema(un_target).names
    report = _cli(home, "report", timeout=300)
    assert "History: 1 snapshot(s) lost from the lake for good (unga_votes " in report.stdout, report.stdout[-2000:]
