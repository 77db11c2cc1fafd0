"""The labelled record pairs that measure the matcher (issue 14, point 6): pipeline/matching/labelled.

Structure checks run fast; the integration test parses every sample and demo file the pairs cite with
the project's CLI (`pipeline parse`) and checks that each side names a staged designation.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from conftest import DEMO, REPO, SAMPLES

LABELLED = REPO / "pipeline" / "matching" / "labelled"
FILES = ("pairs_dev.csv", "pairs_heldout.csv")
COLUMNS = ["pair_id", "left_source", "left_snapshot", "left_record_id", "right_source", "right_snapshot",
           "right_record_id", "label", "kind", "entity_type", "note"]
SAME_KINDS = {"identifier", "name", "snapshot", "same_reference"}
NOT_SAME_KINDS = {"trap_passport", "trap_imo_company", "trap_family", "trap_namesake", "trap_vessel_name",
                  "trap_shared_alias", "other_non_pair"}
ENTITY_TYPES = {"person", "organization", "vessel", "aircraft"}

# (source, snapshot written in the CSV) -> the files parsed together and the --snapshot-date the parse needs
# (Canada's file and OFAC's CSV carry no date; Canada's demo file is named with an empty snapshot).
INPUTS: dict[tuple[str, str], tuple[list[Path], str | None]] = {
    ("un_sc", "2020-03-20"): ([SAMPLES / "un" / "consolidated_2020-03-20_full.xml"], None),
    ("un_sc", "2026-02-27"): ([SAMPLES / "un" / "consolidated_2026-02-27_subset.xml"], None),
    ("gb_hmt", "2025-04-10"): ([SAMPLES / "uk" / "ofsi_conlist_2025-04-10_subset.csv"], None),
    ("ca_sema", "2020-04-01"): ([SAMPLES / "ca" / "sema-lmes_2020-04.xml"], "2020-04-01"),
    ("ca_sema", "2025-05-01"): ([SAMPLES / "ca" / "sema-lmes_2025-05.xml"], "2025-05-01"),
    ("us_ofac_cons", "2024-05-06"): ([SAMPLES / "ofac" / "cons_classic_2024-05-06.xml"], None),
    ("us_ofac_cons", "2020-03-17"): ([SAMPLES / "ofac" / "cons_advanced_2020-03-17_subset.xml"], None),
    ("us_ofac_sdn", "2024-08-28"): ([SAMPLES / "ofac" / "enhanced_xml_IRGC_filter_2024-08-28.xml"], None),
    ("us_ofac_sdn", "2024-05-03"): ([SAMPLES / "ofac" / "sdn_csv_2024-05-03_head" / "sdn.csv"], "2024-05-03"),
    ("us_ofac_sdn", "2021-04-25"): ([SAMPLES / "ofac" / "sdn_csv_2021-04-25_subset" / n
                                     for n in ("sdn.csv", "add.csv", "alt.csv")], "2021-04-25"),
    ("opensanctions", "2024-06-01"): ([SAMPLES / "opensanctions" / "eu_fsf_excerpt_2024.entities.ftm.json"], None),
    ("opensanctions", "2026-03-13"): (
        [SAMPLES / "opensanctions" / "ua_war_sanctions_2026-03-13_subset.targets.simple.csv"], None),
    ("un_sc", "2024-06-28"): ([DEMO / "un_sc" / "consolidated.xml"], None),
    ("us_ofac_sdn", "2024-06-28"): ([DEMO / "us_ofac_sdn" / "sdn_advanced.xml"], None),
    ("us_ofac_cons", "2024-06-28"): ([DEMO / "us_ofac_cons" / "cons_advanced.xml"], None),
    ("eu_fsf", "2024-06-28"): ([DEMO / "eu_fsf" / "fsf_1_1.xml"], None),
    ("gb_hmt", "2024-06-28"): ([DEMO / "gb_hmt" / "UK-Sanctions-List.xml"], None),
    ("gb_hmt", "2022-03-31"): ([DEMO / "gb_hmt" / "history" / "ConList.csv"], None),
    ("ca_sema", ""): ([DEMO / "ca_sema" / "sema-lmes.xml"], None),
    ("ch_seco", "2024-06-28"): ([DEMO / "ch_seco" / "consolidated-list.xml"], None),
    ("opensanctions", "2024-06-28"): ([DEMO / "opensanctions" / "entities.ftm.json"], None),
}


def _read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (LABELLED / name).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _all_rows() -> list[dict[str, str]]:
    return [row | {"file": name} for name in FILES for row in _read(name)[1]]


def _side(row: dict[str, str], side: str) -> tuple[str, str, str]:
    return row[f"{side}_source"], row[f"{side}_snapshot"], row[f"{side}_record_id"]


@pytest.mark.parametrize("name", FILES)
def test_columns_and_values(name: str) -> None:
    header, rows = _read(name)
    assert header == COLUMNS, f"{name}: columns {header}"
    assert rows, f"{name} is empty"
    for row in rows:
        where = f"{name} {row['pair_id']}"
        assert all(row[c].strip() for c in COLUMNS if c not in ("left_snapshot", "right_snapshot")), where
        assert row["label"] in ("same", "not_same"), where
        assert row["kind"] in (SAME_KINDS if row["label"] == "same" else NOT_SAME_KINDS), where
        assert row["entity_type"] in ENTITY_TYPES, where
        assert "\n" not in row["note"], where
        for side in ("left", "right"):
            assert _side(row, side)[:2] in INPUTS, f"{where}: no input file known for {_side(row, side)[:2]}"


def test_no_duplicate_pairs_and_ids() -> None:
    rows = _all_rows()
    ids = Counter(r["pair_id"] for r in rows)
    assert not [i for i, n in ids.items() if n > 1], "pair_id repeated"
    pairs = Counter(frozenset((_side(r, "left"), _side(r, "right"))) for r in rows)
    assert not [p for p, n in pairs.items() if n > 1], "a pair is labelled twice (in either order)"
    assert all(_side(r, "left") != _side(r, "right") for r in rows), "a record paired with itself"


def test_size_and_split() -> None:
    rows = _all_rows()
    cross = [r for r in rows if r["left_source"] != r["right_source"]]
    assert len(cross) >= 300, f"only {len(cross)} cross-list pairs"
    assert {r["kind"] for r in rows} >= {"identifier", "name", "snapshot", "same_reference", "trap_passport",
                                         "trap_imo_company", "trap_family", "trap_namesake", "trap_vessel_name"}
    held = sum(r["file"] == "pairs_heldout.csv" for r in rows) / len(rows)
    assert 0.35 <= held <= 0.45, f"held-out share {held:.2f}"
    for kind in {r["kind"] for r in rows}:
        of_kind = [r for r in rows if r["kind"] == kind]
        if len(of_kind) >= 5:
            share = sum(r["file"] == "pairs_heldout.csv" for r in of_kind) / len(of_kind)
            assert 0.25 <= share <= 0.55, f"{kind}: held-out share {share:.2f} (the split is stratified by kind)"


def _parse(out: Path, source: str, files: list[Path], snapshot: str | None) -> set[str]:
    args = [sys.executable, "-m", "pipeline.cli", "parse", source, *map(str, files), "--out", str(out)]
    if snapshot:
        args += ["--snapshot-date", snapshot]
    done = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=900)
    assert done.returncode == 0, f"pipeline parse {source} {files}: {done.stderr[-2000:]}"
    glob = str(out / "designations" / "**" / "*.parquet")
    return {r[0] for r in duckdb.sql(f"select distinct source_record_id from read_parquet('{glob}')").fetchall()}


@pytest.mark.integration
def test_every_record_exists_in_the_parsed_files(samples: Path, tmp_path: Path) -> None:
    rows = _all_rows()
    wanted: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        for side in ("left", "right"):
            source, snapshot, record = _side(row, side)
            wanted.setdefault((source, snapshot), set()).add(record)
    missing = []
    for i, ((source, snapshot), records) in enumerate(sorted(wanted.items())):
        files, snapshot_arg = INPUTS[(source, snapshot)]
        staged = _parse(tmp_path / f"parse{i}", source, files, snapshot_arg)
        missing += [f"{source} {snapshot or '(no date)'} {r}" for r in sorted(records - staged)]
    assert not missing, f"{len(missing)} labelled records not in the parsed files: {missing[:20]}"
