"""Archive sources (``snapshots: archive`` in source.yml: GDELT, articles, UN votes): every loaded file adds
to the lake and none removes what it does not contain, whatever the order and the mix of runs.

The lake keeps every file's parts of an archive's snapshot date (a list's later file of the same date
replaces the earlier one, as before), and the UN vote models take the union of every snapshot. The
integration tests load the real UN vote samples (Voeten session 68, ``unvotes`` roll calls 68-74 and votes
72-74) with ``pipeline run`` in every order and compare the published ``mart_unga_agreement``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline import flow
from pipeline.housekeeping import move_parts
from pipeline.parse import parse_files
from pipeline.sources.base import is_archive, load_meta
from tests.conftest import DEMO, REPO, SAMPLES

UNGA = SAMPLES / "unga"
VOETEN = UNGA / "voeten_UNVotesPublished_session68.csv"
UNVOTES = tuple(UNGA / name for name in ("unvotes_un_votes_sessions72-74.csv",
                                         "unvotes_un_roll_calls_sessions68-74.csv",
                                         "unvotes_un_roll_call_issues.csv"))
#: Russia-Iran common votes per session (tests/test_unga.py recounts them from the files).
RU_IR = {68: 61, 72: 115, 73: 92, 74: 84}
SNAPSHOT = "2020-01-14"  # the latest vote of the unvotes files: the four files together and the three alone


def _partition(root: Path, table: str, source: str, day: str) -> list[Path]:
    return sorted((root / table / f"source={source}" / f"snapshot_date={day}").glob("*.parquet"))


def _rows(parts: list[Path]) -> int:
    return duckdb.sql(f"select count(*) from read_parquet({[str(p) for p in parts]})").fetchall()[0][0]


def test_source_yml_says_which_sources_are_archives():
    assert {s for s in ("gdelt_events", "articles", "unga_votes", "us_ofac_sdn", "un_sc", "eu_fsf")
            if is_archive(s)} == {"gdelt_events", "articles", "unga_votes"}
    assert not is_archive("no_such_source")
    assert "archive" in load_meta("unga_votes").notes


def test_an_archive_partition_keeps_every_file_a_list_partition_the_last(tmp_path: Path):
    """Two unga_votes parses of the same snapshot date (the four files, then the three unvotes files without
    session 68's votes) both stay in the lake; two un_sc files of the same date: the later one replaces the
    earlier (moved to superseded, as before)."""
    lake, superseded = tmp_path / "lake", tmp_path / "superseded"
    first = parse_files("unga_votes", [VOETEN, *UNVOTES], tmp_path / "run1")
    second = parse_files("unga_votes", list(UNVOTES), tmp_path / "run2")
    assert str(first.snapshot_date) == str(second.snapshot_date) == SNAPSHOT
    move_parts(tmp_path / "run1", lake, superseded)
    move_parts(tmp_path / "run2", lake, superseded)
    kept = _partition(lake, "unga_votes", "unga_votes", SNAPSHOT)
    assert len(kept) == 2 and _rows(kept) == (12352 + 55017) + 55017
    assert not superseded.exists()

    xml = (DEMO / "un_sc" / "consolidated.xml").read_bytes()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "consolidated.xml").write_bytes(xml)
    (tmp_path / "b" / "consolidated.xml").write_bytes(xml + b"\n")  # another file, the same list date
    one = parse_files("un_sc", [tmp_path / "a" / "consolidated.xml"], tmp_path / "run3")
    two = parse_files("un_sc", [tmp_path / "b" / "consolidated.xml"], tmp_path / "run4")
    assert one.snapshot_date == two.snapshot_date
    move_parts(tmp_path / "run3", lake, superseded)
    move_parts(tmp_path / "run4", lake, superseded)
    day = one.snapshot_date.isoformat()
    assert len(_partition(lake, "designations", "un_sc", day)) == 1
    assert len(_partition(superseded, "designations", "un_sc", day)) == 1


def test_a_build_sees_the_lake_parts_of_an_archive_beside_its_own(home, tmp_path: Path):
    """The merged view a run builds from: this run's parts of an archive's snapshot date join those the lake
    holds; for a list they replace them."""
    parse_files("unga_votes", [VOETEN, *UNVOTES], tmp_path / "earlier")
    move_parts(tmp_path / "earlier", home.staged_dir)
    parse_files("unga_votes", list(UNVOTES), flow.candidate_dir(home, "r2"))
    merged = flow._merged_staged(home, "r2")
    parts = _partition(merged, "unga_votes", "unga_votes", SNAPSHOT)
    assert len(parts) == 2
    assert duckdb.sql(f"select count(*) from read_parquet({[str(p) for p in parts]}) "
                      "where rcid between 5249 and 5312").fetchall()[0][0] == 12352  # session 68's votes are there


# --- real runs ---------------------------------------------------------------------------------


def _run(home: Path, *files: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PIPELINE_"))}
    env.update({"PIPELINE_HOME": str(home), "GX_ANALYTICS_ENABLED": "False"})
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--input",
                           "unga_votes=" + ";".join(str(f) for f in files)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _published(home: Path) -> tuple[list[tuple], dict[int, tuple]]:
    """The published mart_unga_agreement (every row, sorted) and Russia-Iran's (n, agreement) per session."""
    with duckdb.connect(str(home / "publish" / "current" / "sanctions.duckdb"), read_only=True) as db:
        rows = db.sql("select * from mart_unga_agreement order by all").fetchall()
        ru_ir = {r[0]: r[1:] for r in db.sql(
            "select period, common_votes, round(agreement, 3) from mart_unga_agreement "
            "where period_type = 'session' and country_a = 'IR' and country_b = 'RU'").fetchall()}
    return rows, ru_ir


def _digest(rows: list[tuple]) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.fixture(scope="module")
def at_once(tmp_path_factory) -> tuple[Path, list[tuple]]:
    """A home after one ``pipeline run`` of the four files together, and its published agreement."""
    home = tmp_path_factory.mktemp("at_once") / "home"
    _run(home, VOETEN, *UNVOTES)
    rows, ru_ir = _published(home)
    assert {period: n for period, (n, _agreement) in ru_ir.items()} == RU_IR
    assert ru_ir[68][1] == pytest.approx(0.820)
    return home, rows


@pytest.mark.integration
@pytest.mark.parametrize("order", ["voeten_then_unvotes", "unvotes_then_voeten"])
def test_two_runs_in_either_order_publish_what_one_run_does(order: str, at_once, tmp_path: Path):
    """The issue's fault: Voeten session 68, then the unvotes files (whose roll-call table lists session 68
    without its votes), dropped session 68 (18,528 pair rows, the years 2013-14, Russia-Iran's 61 roll calls)."""
    home = tmp_path / "home"
    runs = [[VOETEN], list(UNVOTES)]
    for files in runs if order == "voeten_then_unvotes" else runs[::-1]:
        _run(home, *files)
    rows, ru_ir = _published(home)
    assert {period: n for period, (n, _agreement) in ru_ir.items()} == RU_IR
    assert len([r for r in rows if r[0] == "session" and r[1] == 68]) == 18528
    assert {r[1] for r in rows if r[0] == "year"} >= {2013, 2014}
    assert _digest(rows) == _digest(at_once[1])
    # the headline counts the whole archive (12,352 Voeten + 55,017 unvotes votes), not the newest file alone
    headline = (home / "publish" / "current" / "headline.txt").read_text(encoding="utf-8")
    assert f"unga_votes     {SNAPSHOT}    67369 unga votes" in headline, headline[:600]


@pytest.mark.integration
def test_a_newer_file_without_session_68_votes_keeps_them(at_once):
    """After the four files, the three unvotes files again (the same snapshot date, another file set, session 68
    listed without votes): nothing is removed and nothing moves to lake/superseded."""
    home, reference = at_once
    _run(home, *UNVOTES)
    rows, ru_ir = _published(home)
    assert ru_ir[68][0] == 61
    assert _digest(rows) == _digest(reference)
    staged = home / "lake" / "staged"
    assert len(_partition(staged, "unga_votes", "unga_votes", SNAPSHOT)) == 2
    assert not list((home / "lake").glob("superseded/*/unga_votes/**/*.parquet"))
