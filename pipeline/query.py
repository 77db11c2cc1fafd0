"""Read-only SQL over one published DuckDB file: the engine behind ``pipeline query``.

Produces a :class:`QueryResult` (column names, DuckDB types, at most ``max_rows`` rows as a pandas
frame) for a single read-only statement, or raises :class:`QueryRefused` naming what was refused
and why. Two independent fences keep the interface read-only:

1. The connection (:func:`connect_locked`, also used by the ``duckdb+readonly`` BI dialect). The
   database is opened ``read_only`` with file, URL and extension access off
   (``enable_external_access = false``: no ``COPY``, ``read_text``, ``read_csv``, ``glob``,
   ``ATTACH``, ``INSTALL``/``LOAD``, no Python replacement scans), no extension autoloading,
   no spilling beside the publication, and ``lock_configuration = true`` so no statement can undo
   any of it. The lock is set before any caller's statement runs, and DuckDB's own report of the
   settings is checked before the connection is handed out.
2. The statement. Before anything runs, DuckDB's own parser splits the text; exactly one statement
   of a reading type is accepted (``SELECT``/``WITH``/``FROM``/``VALUES``/``DESCRIBE``/``SHOW``/
   ``SUMMARIZE``, ``EXPLAIN`` of such a statement, and the ``PRAGMA`` reads listed below).

A statement also runs within limits (:class:`QueryLimits`, from ``PIPELINE_QUERY_*`` settings): a
time limit (the connection is interrupted, :class:`QueryTimeout`), DuckDB's memory limit (no
spilling, so a query that needs more fails with DuckDB's out-of-memory error, reported as such), and
a bound on what is fetched: rows are fetched in chunks and fetching stops past ``max_rows`` rows or
past the result byte limit. Ctrl-C (``KeyboardInterrupt``) interrupts the running statement too.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipeline.errors import PipelineError
from pipeline.settings import Settings, memory_size

ST = duckdb.StatementType

# Every read-only connection has these settings, and cannot change them afterwards.
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
# Set by the first statements on a new connection rather than given to duckdb.connect: DuckDB applies
# a config mapping in no fixed order, and once external access is off it refuses to set temp_directory.
_SET_AFTER_START = ("enable_external_access", "lock_configuration")

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
    ("containing a data-modifying statement", "it writes to the database (INSERT/UPDATE/DELETE inside WITH), "
     "which is opened read-only"),
)


class QueryRefused(PipelineError):
    """A query that the read-only interface does not run: names the statement, the rule and the database."""


class QueryTimeout(PipelineError):
    """A statement that ran past the time limit and was interrupted."""


class NotLocked(PipelineError):
    """A connection that DuckDB does not report as read-only and locked."""


@dataclass(frozen=True)
class QueryLimits:
    """How long a statement may run, how much memory DuckDB may use for it, how many bytes are fetched."""

    timeout: float  # seconds; 0: no limit
    memory_limit: str  # a DuckDB size such as '2GB'
    max_result_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        return cls(settings.query_timeout, settings.query_memory_limit, settings.query_max_result_bytes)


@dataclass(frozen=True)
class QueryResult:
    """The first rows of one read-only statement: at most ``max_rows``, and fewer if they passed the byte limit."""

    columns: list[str]
    types: list[str]
    frame: pd.DataFrame
    truncated: bool
    #: Why rows were left out, for the user ("raise --max-rows", ...); empty when nothing was.
    note: str = ""

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


def unlocked_settings(con: Any) -> dict[str, str | None]:
    """The settings of :data:`LOCKED_CONFIG` (and ``access_mode``) that DuckDB reports at another value on ``con``
    (a DuckDB connection or a DBAPI connection to one); empty when the connection is locked read-only."""
    expected: dict[str, bool | str] = {"access_mode": "read_only", **LOCKED_CONFIG}
    names = ", ".join(f"'{name}'" for name in expected)
    cursor = con.cursor()
    cursor.execute(f"select name, value from duckdb_settings() where name in ({names})")
    actual = dict(cursor.fetchall())

    def same(value: str | None, wanted: bool | str) -> bool:
        return value is not None and value.lower() == (str(wanted).lower() if isinstance(wanted, bool) else wanted)

    return {name: actual.get(name) for name, wanted in expected.items() if not same(actual.get(name), wanted)}


def connect_locked(database: str, options: Mapping[str, Any] | None = None,
                   session: Mapping[str, str] | None = None) -> duckdb.DuckDBPyConnection:
    """``database`` opened read-only with :data:`LOCKED_CONFIG`; raise NotLocked unless DuckDB reports it locked.

    ``options`` are further DuckDB settings for the instance (memory_limit, threads, ...) and ``session``
    settings of this connection (enable_progress_bar, ...); both are set before the lock, which keeps them.
    """
    startup = {**(options or {}), **{k: v for k, v in LOCKED_CONFIG.items() if k not in _SET_AFTER_START}}
    con = duckdb.connect(database, read_only=True, config=startup)
    try:
        # DuckDB hands out one instance per file and process: a second connection finds it locked already.
        if not unlocked_settings(con).keys() <= set(_SET_AFTER_START):
            raise NotLocked(f"cannot open {database} locked read-only: the file is already open in this process "
                            f"with other settings ({unlocked_settings(con)})")
        if unlocked_settings(con):
            for name, value in (session or {}).items():
                con.execute(f"set {name} = {value}")
            con.execute("set enable_external_access = false")
            con.execute("set lock_configuration = true")
        wrong = unlocked_settings(con)
        if wrong:
            raise NotLocked(f"cannot open {database} locked read-only: DuckDB reports {wrong}")
    except BaseException:
        con.close()
        raise
    return con


def open_readonly(db_path: Path | str, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A connection to ``db_path`` opened read-only, without file/URL/extension access, settings locked."""
    from pipeline.publish import ensure_intact

    db_path = Path(db_path)
    _check_database_file(db_path)
    ensure_intact(db_path)  # a release's database must match the sha256 its release.json recorded
    options = {"memory_limit": memory_limit} if memory_limit else {}
    try:
        return connect_locked(str(db_path), options, session={"enable_progress_bar": "false"})
    except duckdb.Error as exc:
        raise PipelineError(f"cannot open {db_path} read-only: {exc}") from None


class _NoResult(Exception):
    """The statement ran but returns no rows to fetch."""


class _Run:
    """One statement running on a worker thread, so that the calling thread can time it and take Ctrl-C."""

    def __init__(self, con: duckdb.DuckDBPyConnection, query: str, max_rows: int, max_bytes: int) -> None:
        self.con, self.query, self.max_rows, self.max_bytes = con, query, max_rows, max_bytes
        self.done = threading.Event()
        self.stopping = False
        self.result: QueryResult | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="pipeline-query", daemon=True)

    def _work(self) -> None:
        try:
            self.result = self._fetch()
        except BaseException as exc:  # handed to the calling thread
            self.error = exc
        finally:
            self.done.set()

    def _fetch(self) -> QueryResult:
        if self.stopping:
            raise _NoResult()
        self.con.execute(self.query)
        if self.con.description is None:
            raise _NoResult()
        columns = [d[0] for d in self.con.description]
        types = [str(d[1]) for d in self.con.description]
        frames: list[pd.DataFrame] = []
        rows = size = 0
        note = ""
        while not self.stopping:
            chunk = self.con.fetch_df_chunk(1)
            if chunk.empty:
                if not frames:
                    frames.append(chunk)
                break
            chunk_bytes = int(chunk.memory_usage(deep=True, index=False).sum())
            if size + chunk_bytes > self.max_bytes:
                keep = _rows_within(chunk, self.max_bytes - size)
                frames.append(chunk.iloc[:keep])
                rows += keep
                note = (f"fetching stopped: the rows passed {_size(self.max_bytes)} "
                        "(PIPELINE_QUERY_MAX_RESULT_BYTES); select fewer rows or columns")
                break
            frames.append(chunk)
            rows += len(chunk)
            size += chunk_bytes
            if rows > self.max_rows:
                note = "more not shown (raise --max-rows)"
                break
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return QueryResult(columns=columns, types=types, frame=frame.head(self.max_rows).reset_index(drop=True),
                           truncated=bool(note), note=note)

    def stop(self, grace: float = 30.0) -> None:
        """Interrupt the statement until the worker has finished (an interrupt can land between two calls)."""
        self.stopping = True
        deadline = time.monotonic() + grace
        while self.thread.is_alive() and time.monotonic() < deadline:
            self.con.interrupt()
            self.thread.join(0.05)


def _without_final_semicolons(sql: str) -> str:
    """``sql`` up to its last token that is neither a comment nor a ``;`` (found by DuckDB's tokenizer)."""
    end = len(sql)
    for position, kind in reversed(duckdb.tokenize(sql)):
        if kind == duckdb.token_type.comment:
            continue
        if kind == duckdb.token_type.operator and sql[position] == ";":
            end = position
            continue
        break
    return sql[:end]


def _rows_within(chunk: pd.DataFrame, budget: int) -> int:
    """How many leading rows of ``chunk`` fit in ``budget`` bytes (pandas' deep memory estimate)."""
    low, high = 0, len(chunk)
    while low < high:
        mid = (low + high + 1) // 2
        if int(chunk.iloc[:mid].memory_usage(deep=True, index=False).sum()) <= budget:
            low = mid
        else:
            high = mid - 1
    return low


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
    return str(n)


def run_query(db_path: Path | str, sql: str, max_rows: int = 100, limits: QueryLimits | None = None) -> QueryResult:
    """Run one read-only statement on ``db_path`` within ``limits`` (default: the settings) and return at most
    ``max_rows`` rows. Raise QueryTimeout past the time limit; re-raise KeyboardInterrupt after interrupting."""
    if max_rows < 0:
        raise PipelineError(f"--max-rows must be 0 or more, got {max_rows}")
    if limits is None:
        from pipeline import settings

        limits = QueryLimits.from_settings(settings.load())
    if limits.timeout < 0:
        raise PipelineError(f"the query time limit must be 0 (none) or more seconds, got {limits.timeout:g}")
    try:
        memory_size(limits.memory_limit, "the query memory limit")
    except ValueError as exc:
        raise PipelineError(str(exc)) from None
    statement = check_statement(sql, db_path)
    query = statement.query
    if statement.type == ST.SELECT:
        # LIMIT outside the statement lets DuckDB stop early (and sort top-N); the newline ends a trailing comment.
        query = f"select * from (\n{_without_final_semicolons(query)}\n) limit {max_rows + 1}"
    con = open_readonly(db_path, limits.memory_limit)
    run = _Run(con, query, max_rows, limits.max_result_bytes)
    started = time.monotonic()
    timed_out = False
    try:
        try:
            run.thread.start()
            # The calling thread only waits (Ctrl-C reaches it here, not inside DuckDB) and keeps the time.
            while not run.done.wait(0.1):
                if limits.timeout and time.monotonic() - started >= limits.timeout:
                    timed_out = True
                    run.stop()
                    break
        except KeyboardInterrupt:
            run.stop()
            raise
        if timed_out:
            raise QueryTimeout(
                f"query stopped on {db_path} after {time.monotonic() - started:.1f} s: '{_head(sql)}' ran past "
                f"the time limit of {limits.timeout:g} s (PIPELINE_QUERY_TIMEOUT or --timeout; 0: no limit). "
                "Nothing was changed")
        if run.error is not None:
            raise _failure(db_path, sql, run.error, limits) from None
        assert run.result is not None
        return run.result
    finally:
        if not run.thread.is_alive():  # a worker that did not stop within its grace keeps its connection
            con.close()


def _failure(db_path: Path | str, sql: str, error: BaseException, limits: QueryLimits) -> BaseException:
    """The error to report for a statement that failed on the worker thread."""
    if isinstance(error, _NoResult):
        return _refuse(db_path, sql, "the statement returns no result")
    if not isinstance(error, duckdb.Error):
        return error
    message = str(error)
    if isinstance(error, duckdb.OutOfMemoryException):
        return PipelineError(
            f"query failed on {db_path}: '{_head(sql)}' needs more memory than the limit of {limits.memory_limit} "
            "(PIPELINE_QUERY_MEMORY_LIMIT or --memory-limit; the query interface never spills to disk): aggregate "
            f"or filter first, or raise the limit. DuckDB: {message.splitlines()[0]}")
    for needle, why in _ENGINE_REFUSALS:
        if needle in message:
            return _refuse(db_path, sql, f"{why}; DuckDB: {message}")
    return PipelineError(f"query failed on {db_path}: {message}")


def render_table(result: QueryResult, max_width: int = 60) -> str:
    """The result as aligned text, with its row count and whether more rows exist."""
    if not result.columns:
        return "(no columns)"
    shown = len(result.frame)
    if shown:
        body = result.frame.to_string(index=False, max_colwidth=max_width, na_rep="NULL")
    else:
        body = "  ".join(result.columns)
    more = f", {result.note}" if result.note else ""
    return f"{body}\n({shown} row{'s' if shown != 1 else ''}{more})"
