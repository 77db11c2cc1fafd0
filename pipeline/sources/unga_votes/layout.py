"""Which UN General Assembly vote layout a file is, told from its header, and the lookups the
layouts share (vote codes, issue codes, date-bounded country-code rules), loaded from the CSV
files beside this module into a DuckDB connection.

Layouts (column names are matched case-insensitively; extra columns are ignored):

* ``voeten``: Voeten's raw votes, one row per roll call and country, COW ``ccode``, votes
  1/2/3/8/9, roll-call attributes and issue flags repeated on every row.
* ``unvotes_votes``, ``unvotes_rollcalls``, ``unvotes_issues``: the three tables of the
  ``unvotes`` package (ISO alpha-2 ``country_code``, votes as words).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile

SOURCE_ID = "unga_votes"
PACKAGE_DIR = Path(__file__).resolve().parent
VOTE_CODES_CSV = PACKAGE_DIR / "vote_codes.csv"
ISSUES_CSV = PACKAGE_DIR / "issues.csv"
COUNTRY_CODES_CSV = PACKAGE_DIR / "country_codes.csv"
BLOCS_CSV = PACKAGE_DIR.parent.parent / "reference" / "unga_blocs.csv"


@dataclass(frozen=True)
class Layout:
    """A file layout: the column that identifies it and the columns it must have."""

    kind: str
    marker: str
    required: tuple[str, ...]


# Checked in order: the first layout whose marker column is in the header wins.
LAYOUTS: tuple[Layout, ...] = (
    Layout("voeten", "ccode", ("rcid", "session", "vote", "ccode", "member", "importantvote", "date", "unres",
                               "me", "nu", "di", "hr", "co", "ec", "year")),
    Layout("unvotes_votes", "country_code", ("rcid", "country", "country_code", "vote")),
    Layout("unvotes_issues", "short_name", ("rcid", "short_name")),
    Layout("unvotes_rollcalls", "session", ("rcid", "session", "date", "unres")),
)


@dataclass(frozen=True)
class SniffedFile:
    """An input file with its layout and its header (lower-case name -> name as written)."""

    file: InputFile
    layout: Layout
    columns: dict[str, str]
    table: str

    def col(self, name: str) -> str:
        """The quoted column of a lower-case name, for SQL."""
        return '"' + self.columns[name].replace('"', '""') + '"'

    def has(self, name: str) -> bool:
        return name in self.columns

    def error(self, rule: str, detail: str, record: str | None = None) -> SourceError:
        return SourceError(SOURCE_ID, self.file.name, rule, detail, record)


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def read(con: duckdb.DuckDBPyConnection, f: InputFile, table: str) -> SniffedFile:
    """Load one CSV/TSV file (all columns as text) into ``table`` and tell its layout."""
    if f.path.stat().st_size == 0:
        raise SourceError(SOURCE_ID, f.name, "non-empty file", "the file is empty (0 bytes)")
    try:
        con.execute(
            f"create or replace temp table {table} as select * from "
            f"read_csv({quote(str(f.path))}, header = true, all_varchar = true)"
        )
    except duckdb.Error as exc:
        raise SourceError(SOURCE_ID, f.name, "readable CSV", str(exc).splitlines()[0]) from exc
    names = [row[0] for row in con.execute(f"describe {table}").fetchall()]
    columns = {name.strip().lower(): name for name in names}
    layout = next((lay for lay in LAYOUTS if lay.marker in columns), None)
    if layout is None:
        raise SourceError(
            SOURCE_ID, f.name, "known layout",
            f"header {', '.join(names)[:300]} is neither Voeten's raw votes (ccode) nor an unvotes table "
            "(country_code, short_name or session)",
        )
    missing = [c for c in layout.required if c not in columns]
    if missing:
        raise SourceError(
            SOURCE_ID, f.name, "required columns",
            f"{layout.kind} layout lacks column(s) {', '.join(missing)}", "header",
        )
    if con.execute(f"select count(*) from {table}").fetchone()[0] == 0:
        raise SourceError(SOURCE_ID, f.name, "at least one record", "the file has a header but no rows")
    return SniffedFile(f, layout, columns, table)


@functools.cache
def _rows(path: Path) -> tuple[dict[str, str], ...]:
    with path.open(newline="", encoding="utf-8") as handle:
        return tuple({k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle))


def issue_codes() -> tuple[str, ...]:
    """Issue codes in file order (me, nu, di, hr, co, ec)."""
    return tuple(row["code"] for row in _rows(ISSUES_CSV))


def load_lookups(con: duckdb.DuckDBPyConnection) -> None:
    """Tables ``vote_words`` (word or code -> vote code), ``issue_codes`` and ``code_rules``."""
    con.execute("create or replace temp table vote_words (word varchar, vote_code tinyint)")
    words = []
    for row in _rows(VOTE_CODES_CSV):
        words.append((row["code"], int(row["code"])))
        words.extend((w.strip().lower(), int(row["code"])) for w in row["words"].split(";") if w.strip())
    con.executemany("insert into vote_words values (?, ?)", words)
    con.execute("create or replace temp table issue_codes (code varchar, position integer)")
    con.executemany("insert into issue_codes values (?, ?)", [(c, i) for i, c in enumerate(issue_codes())])
    con.execute(
        "create or replace temp table code_rules (code_system varchar, code varchar, valid_from date, "
        "valid_to date, iso2 varchar, name varchar)"
    )
    con.executemany(
        "insert into code_rules values (?, ?, ?, ?, ?, ?)",
        [
            (r["code_system"], r["code"], r["valid_from"] or None, r["valid_to"] or None, r["iso2"] or None,
             r["name"])
            for r in _rows(COUNTRY_CODES_CSV)
        ],
    )


def first_bad(con: duckdb.DuckDBPyConnection, sql: str) -> tuple | None:
    """The first row of a check query (None when the check passes)."""
    return con.execute(sql + " limit 1").fetchone()


def count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return con.execute(f"select count(*) from ({sql})").fetchone()[0]


# Dates are M/D/YYYY in Voeten's raw file and YYYY-MM-DD in unvotes; both are accepted anywhere.
def date_sql(column: str) -> str:
    return (
        f"coalesce(try_strptime(trim({column}), '%Y-%m-%d'), try_strptime(trim({column}), '%m/%d/%Y'))::date"
    )


def int_sql(column: str) -> str:
    """An integer from text such as ``5249`` or ``68.0``; NULL for blanks, ``NA`` and junk."""
    return f"try_cast(try_cast(nullif(trim({column}), '') as double) as bigint)"


def flag_sql(column: str) -> str:
    """A 0/1 flag as a boolean; NULL for blanks and ``NA``."""
    return f"({int_sql(column)} = 1)"
