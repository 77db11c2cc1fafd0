"""The staged Parquet of one parse, queried with DuckDB: what the parser tests read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


class Staged:
    """One view per staged table folder under ``out`` (``<out>/<table>/source=.../snapshot_date=...``),
    with the parse result kept beside it for the tests that check it too."""

    def __init__(self, out: Path, result: Any = None) -> None:
        self.out = out
        self.result = result
        self.con = duckdb.connect()
        for folder in sorted(p for p in Path(out).iterdir() if p.is_dir() and any(p.rglob("*.parquet"))):
            self.con.execute(f"create view {folder.name} as select * from "
                             f"read_parquet('{folder}/**/*.parquet', hive_partitioning = true)")

    def rows(self, sql: str, *params) -> list[tuple]:
        return self.con.execute(sql, list(params)).fetchall()

    def one(self, sql: str, *params):
        return self.con.execute(sql, list(params)).fetchone()[0]

    def audit(self) -> dict[tuple[str, str, str | None], int]:
        """parse_audit as {(rule, field, value): occurrences}."""
        return {(r, f, v): n for r, f, v, n in self.rows("select rule, field, value, occurrences from parse_audit")}
