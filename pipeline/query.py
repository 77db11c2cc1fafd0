"""Read-only SQL over one published DuckDB file: the engine behind ``pipeline query``.

Produces a :class:`QueryResult` (column names, DuckDB types, at most ``max_rows`` rows as a pandas
frame) for a single read-only statement, or raises :class:`QueryRefused` naming what was refused
and why. Two independent fences keep the interface read-only:

1. The connection. The database is opened ``read_only`` with file, URL and extension access off
   (``enable_external_access = false``: no ``COPY``, ``read_text``, ``read_csv``, ``glob``,
   ``ATTACH``, ``INSTALL``/``LOAD``, no Python replacement scans), no extension autoloading,
   no spilling beside the publication, and ``lock_configuration = true`` so no statement can undo
   any of it. These are given to ``duckdb.connect`` itself, so no statement ever runs unlocked.
2. The statement. Before anything runs, DuckDB's own parser splits the text; exactly one statement
   of a reading type is accepted (``SELECT``/``WITH``/``FROM``/``VALUES``/``DESCRIBE``/``SHOW``/
   ``SUMMARIZE``, ``EXPLAIN`` of such a statement, and the ``PRAGMA`` reads listed below).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.errors import PipelineError

ST = duckdb.StatementType

# Given to duckdb.connect: the instance starts with these and cannot change them afterwards.
LOCKED_CONFIG: dict[str, bool | str] = {
    "enable_external_access": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "allow_extension_repositories": "forbidden",
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "allow_persistent_secrets": False,
    "allow_unredacted_secrets": False,
    "python_enable_replacements": False,
    # No spill files: a read-only query never writes, not even into `<db>.tmp` beside the publication.
    "temp_directory": "",
    "lock_configuration": True,
}

READING_TYPES: frozenset[duckdb.StatementType] = frozenset({ST.SELECT, ST.EXPLAIN, ST.PRAGMA})

# Why each other statement type is refused. PRAGMA and EXPLAIN are checked further below.
REFUSED_TYPES: dict[duckdb.StatementType, str] = {
    ST.COPY: "COPY reads or writes files",
    ST.COPY_DATABASE: "COPY FROM DATABASE writes a database",
    ST.EXPORT: "EXPORT DATABASE writes files",
    ST.ATTACH: "ATTACH opens another database file",
    ST.DETACH: "DETACH changes the attached databases",
    ST.LOAD: "INSTALL/LOAD add extensions",
    ST.EXTENSION: "extension statements add or change extensions",
    ST.SET: "SET/RESET/USE and SET VARIABLE change settings or session state",
    ST.VARIABLE_SET: "SET VARIABLE changes session state",
    ST.CREATE: "CREATE writes to the database",
    ST.CREATE_FUNC: "CREATE FUNCTION/MACRO writes to the database",
    ST.INSERT: "INSERT writes to the database",
    ST.UPDATE: "UPDATE writes to the database",
    ST.DELETE: "DELETE writes to the database",
    ST.MERGE_INTO: "MERGE writes to the database",
    ST.DROP: "DROP/DEALLOCATE writes to the database or session",
    ST.ALTER: "ALTER/COMMENT ON writes to the database",
    ST.VACUUM: "VACUUM/ANALYZE maintain the database",
    ST.TRANSACTION: "transaction control is not needed for a single read",
    ST.PREPARE: "PREPARE changes session state",
    ST.EXECUTE: "EXECUTE runs a prepared statement the check has not seen",
    ST.CALL: "CALL runs table functions (CHECKPOINT is one); write SELECT * FROM fn(...) instead",
    ST.ANALYZE: "ANALYZE maintains the database",
    ST.LOGICAL_PLAN: "logical plans are internal",
    ST.RELATION: "relation statements are internal",
    ST.MULTI: "compound statements are not a single read",
}

# PRAGMAs that only read (each also exists as a table function, e.g. pragma_table_info('t')).
READING_PRAGMAS: frozenset[str] = frozenset({
    "table_info", "show", "show_tables", "show_tables_expanded", "show_databases", "database_list",
    "database_size", "storage_info", "metadata_info", "version", "platform", "functions", "collations",
    "user_agent",
})

ALLOWED = ("one SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN of one of those, "
           "or a reading PRAGMA such as table_info")

_LEADING_COMMENTS = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.S)
_PRAGMA_NAME = re.compile(r"\Apragma\s+([a-z_][a-z0-9_]*)\s*(?:\(|;|\Z)", re.I)
_EXPLAIN_HEAD = re.compile(r"\Aexplain\s+(?:analy[sz]e\s+)?(?:\(\s*(?:format|analy[sz]e)\b[^()]*\)\s*)?", re.I)
_ENGINE_REFUSALS = (
    ("file system operations are disabled", "it reads or writes a file, URL or directory outside the "
     "published database (file access is disabled)"),
    ("Loading external extensions is disabled", "it loads an extension (extensions are disabled)"),
    ("configuration has been locked", "it changes a setting (settings are locked)"),
    ("attached in read-only mode", "it writes to the database, which is opened read-only"),
)


class QueryRefused(PipelineError):
    """A query that the read-only interface does not run: names the statement, the rule and the database."""


@dataclass(frozen=True)
class QueryResult:
    """The first ``max_rows`` rows of one read-only statement."""

    columns: list[str]
    types: list[str]
    frame: pd.DataFrame
    truncated: bool

    @property
    def rows(self) -> list[tuple]:
        return list(self.frame.itertuples(index=False, name=None))


def _strip_comments(sql: str) -> str:
    return sql[_LEADING_COMMENTS.match(sql).end():]


def _head(sql: str, words: int = 3) -> str:
    text = " ".join(_strip_comments(sql).split()[:words])
    return text if len(text) <= 60 else text[:57] + "..."


def _refuse(db: Path | str, sql: str, why: str) -> QueryRefused:
    return QueryRefused(f"query refused on {db}: '{_head(sql)}': {why}. The query interface is read-only: "
                        f"it runs {ALLOWED} against that one database file and nothing else")


def check_statement(sql: str, db: Path | str = "the published database") -> duckdb.Statement:
    """The one parsed read-only statement in ``sql``; raise QueryRefused for anything else."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.ParserException as exc:
        raise PipelineError(f"query failed on {db}: {exc}") from None
    if not statements:
        raise _refuse(db, sql, "no statement given")
    if len(statements) > 1:
        heads = "; ".join(f"'{_head(s.query, 2)}'" for s in statements)
        raise _refuse(db, sql, f"{len(statements)} statements given ({heads}); run one statement per query")
    statement = statements[0]
    try:
        kind = statement.type
    except ValueError as exc:  # a statement type the Python enum does not know (UPDATE EXTENSIONS is one)
        raise _refuse(db, sql, f"statement of a type that is not a read ({exc})") from None
    if kind not in READING_TYPES:
        raise _refuse(db, sql, f"{kind.name} statement: {REFUSED_TYPES.get(kind, 'it is not a read')}")
    text = _strip_comments(statement.query)
    if kind == ST.PRAGMA:
        name = _PRAGMA_NAME.match(text)
        if name is None:
            raise _refuse(db, sql, "IMPORT DATABASE and COPY FROM DATABASE read files and write the database; "
                                   "other PRAGMA forms are not reads")
        if name.group(1).lower() not in READING_PRAGMAS:
            raise _refuse(db, sql, f"PRAGMA {name.group(1)} changes settings or state; only reading PRAGMAs run")
    elif kind == ST.EXPLAIN:
        head = _EXPLAIN_HEAD.match(text)
        inner = text[head.end():] if head else ""
        try:
            inner_statements = duckdb.extract_statements(inner) if inner.strip() else []
        except duckdb.ParserException:
            inner_statements = []
        if len(inner_statements) != 1:
            raise _refuse(db, sql, "EXPLAIN of something that is not one statement")
        try:
            check_statement(inner, db)
        except QueryRefused as exc:
            raise _refuse(db, sql, f"EXPLAIN of a statement that is refused itself ({_head(inner, 2)})") from exc
    return statement


def _check_database_file(db_path: Path) -> None:
    if db_path.suffix != ".duckdb":
        raise QueryRefused(f"query refused: {db_path} is not a .duckdb file; the query interface opens only a "
                           "DuckDB database file, read-only")
    if not db_path.is_file():
        raise PipelineError(f"no database at {db_path}: run `pipeline run` first (or give --db a .duckdb file)")
    with db_path.open("rb") as fh:
        magic = fh.read(12)[8:12]
    if magic != b"DUCK":
        raise QueryRefused(f"query refused: {db_path} is not a DuckDB database file (no DUCK header)")


def open_readonly(db_path: Path | str) -> duckdb.DuckDBPyConnection:
    """A connection to ``db_path`` opened read-only, without file/URL/extension access, settings locked."""
    db_path = Path(db_path)
    _check_database_file(db_path)
    try:
        con = duckdb.connect(str(db_path), read_only=True, config=dict(LOCKED_CONFIG))
    except duckdb.Error as exc:
        raise PipelineError(f"cannot open {db_path} read-only: {exc}") from None
    locked = dict(con.execute(
        "select name, value from duckdb_settings() where name in ('access_mode', 'enable_external_access', "
        "'lock_configuration')").fetchall())
    if locked != {"access_mode": "read_only", "enable_external_access": "false", "lock_configuration": "true"}:
        con.close()
        raise PipelineError(f"cannot open {db_path} locked read-only: DuckDB reports {locked} (is the file "
                            "already open in this process with other settings?)")
    return con


def run_query(db_path: Path | str, sql: str, max_rows: int = 100) -> QueryResult:
    """Run one read-only statement on ``db_path`` and return at most ``max_rows`` rows."""
    if max_rows < 0:
        raise PipelineError(f"--max-rows must be 0 or more, got {max_rows}")
    statement = check_statement(sql, db_path)
    con = open_readonly(db_path)
    try:
        rel = con.sql(statement.query)
        if rel is None:
            raise _refuse(db_path, sql, "the statement returns no result")
        frame = rel.limit(max_rows + 1).df()
        return QueryResult(columns=list(rel.columns), types=[str(t) for t in rel.types],
                           frame=frame.head(max_rows), truncated=len(frame) > max_rows)
    except duckdb.Error as exc:
        message = str(exc)
        for needle, why in _ENGINE_REFUSALS:
            if needle in message:
                raise _refuse(db_path, sql, f"{why}; DuckDB: {message}") from None
        raise PipelineError(f"query failed on {db_path}: {message}") from None
    finally:
        con.close()


def render_table(result: QueryResult, max_width: int = 60) -> str:
    """The result as aligned text, with its row count and whether more rows exist."""
    if not result.columns:
        return "(no columns)"
    shown = len(result.frame)
    if shown:
        body = result.frame.to_string(index=False, max_colwidth=max_width, na_rep="NULL")
    else:
        body = "  ".join(result.columns)
    more = ", more not shown (raise --max-rows)" if result.truncated else ""
    return f"{body}\n({shown} row{'s' if shown != 1 else ''}{more})"
