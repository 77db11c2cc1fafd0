"""Every staged table and column is described: in the sources' docs, in the published database
(``COMMENT ON`` in schema ``lake``) and in ``docs/data_dictionary.md``."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline.docs import DICTIONARY, render
from pipeline.models import dbt
from pipeline.parse import parse_files
from pipeline.sources import all_schemas, known_sources, schemas_for
from pipeline.sources.base import SOURCES_DIR
from pipeline.staged import COLUMN_DOCS, COLUMNS_DOC_FILE, SCHEMAS, SHARED_COLUMNS, column_doc, staged_docs

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo"
PARTITIONS = ("source", "snapshot_date")
DEMO_INPUTS = {
    "un_sc": [DEMO / "un_sc" / "consolidated.xml"],
    "gdelt_events": [DEMO / "gdelt_events" / "20230201000000.export.CSV"],
    "unga_votes": [DEMO / "unga_votes" / name for name in ("votes.csv", "roll_calls.csv", "issues.csv")],
}


@pytest.mark.parametrize("source", known_sources())
def test_every_staged_column_of_every_source_is_described(source: str) -> None:
    docs = staged_docs()
    for table, schema in schemas_for(source).items():
        assert docs[table].description.strip(), f"[{source}] table '{table}' has no description ({docs[table].origin})"
        missing = [c for c in [*schema.names, *PARTITIONS] if not column_doc(table, c).strip()]
        assert not missing, f"[{source}] table '{table}': no description for {missing} ({docs[table].origin})"
        stale = set(docs[table].columns) - set(schema.names) - set(PARTITIONS)
        assert not stale, f"[{source}] table '{table}': {sorted(stale)} described but not in the schema"


def test_each_source_describes_its_own_tables_beside_it() -> None:
    for source in known_sources():
        own = set(schemas_for(source)) - set(SCHEMAS)
        path = SOURCES_DIR / source / COLUMNS_DOC_FILE
        described = {t for t, d in staged_docs().items() if d.origin == path.relative_to(REPO).as_posix()}
        assert described == own, f"{path}: describes {sorted(described)}, the source writes {sorted(own)}"


def test_sanctions_column_docs_are_all_used() -> None:
    used = {name for schema in SCHEMAS.values() for name in schema.names} | set(SHARED_COLUMNS)
    assert set(COLUMN_DOCS) - used == set()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lake layer of the dbt project (`dbt build --select lake`) over three sources' demo files."""
    root = tmp_path_factory.mktemp("coldocs")
    staged = root / "staged"
    for source, paths in DEMO_INPUTS.items():
        parse_files(source, paths, staged)
    db = root / "sanctions.duckdb"
    result, _ = dbt(REPO / "sql", db, ["build", "--select", "lake"], root / "dbt", lake=staged,
                    storage_version="v1.2.0")
    assert result.success, result.exception
    return db


def test_published_lake_tables_and_columns_carry_their_descriptions(published: Path) -> None:
    con = duckdb.connect(str(published), read_only=True)
    try:
        tables = dict(con.execute(
            "select table_name, comment from duckdb_tables() where schema_name = 'lake'").fetchall())
        columns = con.execute(
            "select table_name, column_name, comment from duckdb_columns() where schema_name = 'lake'").fetchall()
        rows = {t: con.execute(f"select count(*) from lake.{t}").fetchone()[0] for t in tables}
    finally:
        con.close()
    docs = staged_docs()
    assert set(tables) == set(all_schemas())
    assert {t: c for t, c in tables.items()} == {t: docs[t].description for t in tables}
    undescribed = [(t, c) for t, c, comment in columns if not (comment or "").strip()]
    assert not undescribed, f"lake columns without COMMENT ON: {undescribed}"
    assert all(comment == column_doc(t, c) for t, c, comment in columns)
    assert len(columns) == sum(len(s) + len(PARTITIONS) for s in all_schemas().values())
    # tables loaded from Parquet and tables created empty (no articles parsed) are both described
    assert rows["gdelt_events"] > 0 and rows["unga_votes"] > 0 and rows["designations"] > 0
    assert rows["articles"] == 0


def test_data_dictionary_describes_every_staged_table_and_the_table_macro() -> None:
    text = render()
    for table, schema in all_schemas().items():
        assert f"#### `{table}`\n" in text
        section = text.split(f"#### `{table}`\n", 1)[1].split("\n#", 1)[0]
        for name in [*schema.names, *PARTITIONS]:
            row = next((line for line in section.splitlines() if line.startswith(f"| `{name}` |")), "")
            assert " ".join(column_doc(table, name).split()) in row, f"{table}.{name}: {row!r}"
    assert "### `rankings_as_known_on(as_of)`" in text
    assert "| `as_of_date` | From the argument: `cast(as_of as date)`. |" in text
    assert DICTIONARY.read_text(encoding="utf-8") == text, "run `pipeline docs` and commit the result"
