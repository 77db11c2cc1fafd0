"""Every staged row about an entity joins that entity's designations by entity_key.

The marts attach names, country links, identifiers and birth dates to a designation through its
entity_key: a parser that keys a link by its record instead (one UK group listed under two regimes is
two records of one entity) silently drops every count that link should give. Checked on every sanctions
source's demo files and on real samples of the sources that key entities apart from records.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.parse import parse_files
from pipeline.sources import load_meta
from tests.conftest import DEMO
from tests.staged_views import Staged

SANCTIONS = ["us_ofac_sdn", "us_ofac_cons", "un_sc", "eu_fsf", "gb_hmt", "ca_sema", "ch_seco", "opensanctions"]
CHILDREN = ["names", "country_links", "identifiers", "birth_dates"]


def _files(source: str) -> list[Path]:
    files: list[Path] = []
    for rel in load_meta(source).demo_inputs:
        path = DEMO / rel
        files += sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    return files


def _orphans(staged: Staged) -> dict[str, int]:
    tables = {name for (name,) in staged.rows("select view_name from duckdb_views() where not internal")}
    found = {}
    for table in CHILDREN:
        if table in tables:
            n = staged.one(f"select count(*) from {table} where entity_key not in "
                           "(select entity_key from designations)")
            if n:
                found[table] = n
    return found


@pytest.mark.parametrize("source", SANCTIONS)
def test_demo_rows_join_their_designations(source: str, tmp_path: Path):
    staged = Staged(tmp_path, parse_files(source, _files(source), tmp_path))
    assert staged.one("select count(*) from names") > 0
    assert _orphans(staged) == {}


def test_uk_conlist_links_join_their_groups(samples: Path, tmp_path: Path):
    """The ConList keys an entity by Group ID and a designation by (Group ID, regime): its nationality
    and address links must reach the group's designations (they did not: every UK country count was 0)."""
    staged = Staged(tmp_path, parse_files("gb_hmt", [samples / "uk" / "ofsi_conlist_2025-04-10_subset.csv"], tmp_path))
    assert _orphans(staged) == {}
    linked = staged.one("select count(distinct d.designation_id) from designations d "
                        "join country_links c using (entity_key) where c.link_type = 'nationality'")
    assert linked > 0
