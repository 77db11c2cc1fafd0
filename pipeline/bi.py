"""The ``duckdb+readonly`` SQLAlchemy dialect: BI tools reflect the published DuckDB file through it.

BI tools built on SQLAlchemy (Superset, JupySQL, pandas ``read_sql``) list tables and read their
columns through the dialect's reflection methods. duckdb-engine inherits those from the PostgreSQL
dialect, whose ``pg_catalog`` queries DuckDB cannot answer (SQLAlchemy 2.1: ``pg_collation`` not
found in a correlated subquery; 2.0.55 and later: the ``REGCLASS`` cast for keys and constraints).
:class:`ReadOnlyDuckDBDialect` keeps duckdb-engine for connecting and executing and answers every
reflection question from DuckDB's own catalog functions (``duckdb_tables()``, ``duckdb_views()``,
``duckdb_columns()``, ``duckdb_constraints()``, ``duckdb_indexes()``) instead.

It also opens the file the way a reader of a publication should, whatever the URL, ``connect_args``
or engine options say: ``access_mode=read_only``, no file, URL or extension access outside the
database (``enable_external_access=false`` and the rest of :data:`pipeline.query.LOCKED_CONFIG`),
no spill files beside the publication, and settings locked (``lock_configuration=true``) after the
few resource and display options a client may choose (:data:`ALLOWED_OPTIONS`: memory, threads,
ordering, time zone). Any other option is refused with :class:`ReadOnlyOptionRefused` naming it,
and every new connection, however it was made (``creator=``, ``pool=``), is checked to be locked
before SQLAlchemy uses it.

URL: ``duckdb+readonly:////abs/path/sanctions.duckdb`` (the package registers it as the
``duckdb.readonly`` entry point of ``sqlalchemy.dialects``; :func:`register` does it by hand).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from duckdb_engine import ConnectionWrapper
from duckdb_engine import Dialect as DuckDBEngineDialect
from duckdb_engine import __version__ as duckdb_engine_version
from duckdb_engine.datatypes import (
    HugeInteger,
    TinyInteger,
    UBigInteger,
    UHugeInteger,
    UInteger,
    USmallInteger,
    UTinyInteger,
)
from sqlalchemy import __version__ as sqlalchemy_version
from sqlalchemy import exc, text
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Connection, reflection
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.engine.url import URL
from sqlalchemy.sql.type_api import TypeEngine

from pipeline.query import LOCKED_CONFIG, NotLocked, connect_locked, unlocked_settings

ENTRY_POINT = "duckdb.readonly"

# Settings every connection gets. A URL or connect_args may repeat them with the same value
# (``?access_mode=read_only&enable_external_access=false``), never with another one.
FORCED_CONFIG: dict[str, bool | str] = {"access_mode": "read_only", **LOCKED_CONFIG}

# The only other DuckDB settings a client may choose, by lower-case name -> DuckDB's spelling. They
# change how much memory and how many threads a query uses and how results sort, and are locked
# like the rest. Every other setting is refused: many relax the lockdown (allowed_directories,
# allowed_paths, allowed_configs, ...) or write files (log_query_path, profiling_output, ...).
ALLOWED_OPTIONS: dict[str, str] = {name.lower(): name for name in (
    "memory_limit", "max_memory", "threads", "worker_threads", "default_order", "default_null_order",
    "null_order", "TimeZone", "preserve_insertion_order", "custom_user_agent",
)}

# duckdb.connect keyword arguments (and the URL query duckdb-engine passes as url_config) connect_args may hold.
_CONNECT_KEYS = frozenset({"database", "read_only", "config", "url_config"})
_REFUSED_CONNECT_KEYS: dict[str, str] = {
    "preload_extensions": "it loads extensions",
    "register_filesystems": "it registers Python file systems",
}
_TRUE, _FALSE = frozenset({"true", "1", "t", "on", "yes"}), frozenset({"false", "0", "f", "off", "no"})

# DuckDB type names (as ``duckdb_columns().data_type`` spells them) -> SQLAlchemy types.
SCALAR_TYPES: dict[str, Callable[[], TypeEngine]] = {
    "BOOLEAN": sqltypes.BOOLEAN,
    "TINYINT": TinyInteger,
    "SMALLINT": sqltypes.SMALLINT,
    "INTEGER": sqltypes.INTEGER,
    "BIGINT": sqltypes.BIGINT,
    "HUGEINT": HugeInteger,
    "UTINYINT": UTinyInteger,
    "USMALLINT": USmallInteger,
    "UINTEGER": UInteger,
    "UBIGINT": UBigInteger,
    "UHUGEINT": UHugeInteger,
    "FLOAT": sqltypes.REAL,
    "DOUBLE": sqltypes.DOUBLE,
    "DECIMAL": sqltypes.NUMERIC,
    "VARCHAR": sqltypes.VARCHAR,
    "BLOB": sqltypes.BLOB,
    "BIT": sqltypes.BLOB,
    "DATE": sqltypes.DATE,
    "TIME": sqltypes.TIME,
    "TIME_NS": sqltypes.TIME,
    "TIME WITH TIME ZONE": lambda: sqltypes.TIME(timezone=True),
    "TIMESTAMP": sqltypes.TIMESTAMP,
    "TIMESTAMP_S": sqltypes.TIMESTAMP,
    "TIMESTAMP_MS": sqltypes.TIMESTAMP,
    "TIMESTAMP_NS": sqltypes.TIMESTAMP,
    "TIMESTAMP WITH TIME ZONE": lambda: sqltypes.TIMESTAMP(timezone=True),
    "INTERVAL": sqltypes.Interval,
    "UUID": sqltypes.UUID,
    "JSON": sqltypes.JSON,
}

# Filters a catalog function's rows to the :database and :schema parameters (None: the current ones).
_IN_SCOPE = ("database_name = coalesce(:database, current_database()) "
             "and schema_name = coalesce(:schema, current_schema())")

_LIST = re.compile(r"^(?P<inner>.+)\[\d*\]$")
_DECIMAL = re.compile(r"^DECIMAL\((?P<precision>\d+),\s*(?P<scale>\d+)\)$")
_ENUM = re.compile(r"^ENUM\((?P<values>.*)\)$", re.DOTALL)
_ENUM_VALUE = re.compile(r"'((?:[^']|'')*)'")


class DuckDBTypeSpec(sqltypes.UserDefinedType):
    """A DuckDB type with no SQLAlchemy equivalent (STRUCT, MAP, UNION, ...), kept as DuckDB spells it."""

    cache_ok = True

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def get_col_spec(self, **kw: Any) -> str:
        return self.spec


def column_type(spec: str) -> TypeEngine:
    """The SQLAlchemy type for a DuckDB type as ``duckdb_columns().data_type`` spells it."""
    spec = spec.strip()
    if match := _LIST.match(spec):
        return sqltypes.ARRAY(column_type(match["inner"]))
    if match := _DECIMAL.match(spec):
        return sqltypes.NUMERIC(int(match["precision"]), int(match["scale"]))
    if match := _ENUM.match(spec):
        values = [v.replace("''", "'") for v in _ENUM_VALUE.findall(match["values"])]
        return sqltypes.Enum(*values, name=None, native_enum=False)
    factory = SCALAR_TYPES.get(spec.upper())
    return factory() if factory else DuckDBTypeSpec(spec)


class ReadOnlyOptionRefused(exc.ArgumentError):
    """An option that would open the publication writable or relax its lockdown: names the option and where it came
    from."""


def _refuse(where: str, key: str, value: Any, why: str) -> ReadOnlyOptionRefused:
    return ReadOnlyOptionRefused(
        f"duckdb+readonly: {where} option {key}={value!r} is refused: {why}. The dialect always opens the "
        "database read-only, without file, URL or extension access, with settings locked; the only options it "
        f"takes are {', '.join(sorted(ALLOWED_OPTIONS.values()))} and the locked settings at their locked values")


def _same_value(given: Any, forced: bool | str) -> bool:
    text = str(given).strip().lower()
    if isinstance(forced, bool):
        return text in (_TRUE if forced else _FALSE)
    return text == forced.lower()


def checked_options(options: dict[str, Any], where: str) -> dict[str, Any]:
    """``options`` (a URL query or a ``config`` dict) as DuckDB settings; ReadOnlyOptionRefused for any that relaxes
    the lockdown or is not one of :data:`ALLOWED_OPTIONS`."""
    if not isinstance(options, dict):
        raise _refuse(where, "config", options, "it is not a mapping of setting names to values")
    checked: dict[str, Any] = {}
    for key, value in options.items():
        name = str(key).lower()
        forced = next((v for k, v in FORCED_CONFIG.items() if k == name), None)
        if forced is not None:
            if not _same_value(value, forced):
                shown = str(forced).lower() if isinstance(forced, bool) else repr(forced)
                raise _refuse(where, str(key), value, f"this dialect only opens databases with {name}={shown}")
        elif name in ALLOWED_OPTIONS:
            checked[ALLOWED_OPTIONS[name]] = value
        else:
            raise _refuse(where, str(key), value, "it is not a setting a read-only client may choose")
    return checked


def verify_locked(dbapi_connection: Any) -> None:
    """Close ``dbapi_connection`` and raise ReadOnlyOptionRefused unless DuckDB reports it read-only and locked
    (every setting of :data:`FORCED_CONFIG` at its forced value)."""
    try:
        wrong = unlocked_settings(dbapi_connection)
    except Exception as error:  # not a DuckDB connection at all
        dbapi_connection.close()
        raise ReadOnlyOptionRefused(
            f"duckdb+readonly: the new connection is not a DuckDB connection whose settings can be checked "
            f"({type(error).__name__}: {error}); it was closed and refused") from None
    if wrong:
        dbapi_connection.close()
        raise ReadOnlyOptionRefused(
            "duckdb+readonly: the new connection is not locked read-only: DuckDB reports "
            + ", ".join(f"{name}={value!r}" for name, value in wrong.items())
            + " (was it made by a creator= or pool= engine option, or is the file already open in this process "
              "with other settings?); it was closed and refused")


class ReadOnlyDuckDBDialect(DuckDBEngineDialect):
    """duckdb-engine with read-only connections and reflection from DuckDB's catalog functions.

    A schema is named ``schema`` (in the database that was opened) or ``database.schema``;
    ``None`` is the default schema of the opened database.
    """

    driver = "readonly"
    supports_statement_cache = False

    # The PostgreSQL multi-table reflection queries fail on DuckDB; go table by table instead.
    get_multi_columns = DefaultDialect.get_multi_columns
    get_multi_pk_constraint = DefaultDialect.get_multi_pk_constraint
    get_multi_foreign_keys = DefaultDialect.get_multi_foreign_keys
    get_multi_indexes = DefaultDialect.get_multi_indexes
    get_multi_unique_constraints = DefaultDialect.get_multi_unique_constraints
    get_multi_check_constraints = DefaultDialect.get_multi_check_constraints
    get_multi_table_comment = DefaultDialect.get_multi_table_comment
    get_multi_table_options = DefaultDialect.get_multi_table_options

    def create_connect_args(self, url: URL) -> tuple[tuple, dict]:
        args, opts = super().create_connect_args(url)
        opts["url_config"] = checked_options(dict(url.query), f"URL {url.render_as_string(hide_password=True)!r}:")
        return args, opts

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        """A duckdb-engine connection opened read-only and locked; refuses ``connect_args`` that would relax it."""
        for key, why in _REFUSED_CONNECT_KEYS.items():
            if cparams.get(key):
                raise _refuse("connect_args", key, cparams[key], why)
        unknown = sorted(set(cparams) - _CONNECT_KEYS - set(_REFUSED_CONNECT_KEYS))
        if unknown:
            raise _refuse("connect_args", unknown[0], cparams[unknown[0]], "it is not a duckdb.connect argument "
                          "this dialect passes on")
        if cargs:
            raise _refuse("connect_args", "positional arguments", cargs, "only keyword arguments are passed on")
        if "read_only" in cparams and cparams["read_only"] is not True:
            raise _refuse("connect_args", "read_only", cparams["read_only"], "the database is only opened read-only")
        config = checked_options(cparams.get("config") or {}, "connect_args config")
        config.update(checked_options(cparams.get("url_config") or {}, "URL query (connect_args url_config)"))
        database = cparams.get("database", ":memory:")
        if database != ":memory:":
            from pipeline.publish import ensure_intact

            ensure_intact(database)  # a release's database must match the sha256 its release.json recorded
        agent = f"duckdb_engine/{duckdb_engine_version}(sqlalchemy/{sqlalchemy_version})"
        config["custom_user_agent"] = f"{agent} {config.get('custom_user_agent', '')}".strip()
        try:
            # The limits first, then the lock (connect_locked): lock_configuration keeps them as they are.
            return ConnectionWrapper(connect_locked(str(database), config))
        except NotLocked as error:
            raise ReadOnlyOptionRefused(f"duckdb+readonly: {error}") from None

    def on_connect(self) -> Callable[[Any], None]:
        # Runs on every new DBAPI connection, also those made by a creator= or pool= engine option.
        return verify_locked

    # --- where a name lives ------------------------------------------------------------------

    def _scope(self, schema: str | None) -> dict[str, str | None]:
        """Query parameters for a reflection call's ``schema``; the SQL fills a ``None`` with the current one."""
        database, name = self.identifier_preparer._separate(schema)
        return {"database": database, "schema": name}

    def _relation(self, connection: Connection, table_name: str, schema: str | None) -> dict[str, Any]:
        """Kind ('table' or 'view'), comment and SQL of a table or view; NoSuchTableError if absent."""
        row = connection.execute(text(f"""
            select 'table' as kind, comment, sql from duckdb_tables() where {_IN_SCOPE} and table_name = :name
            union all
            select 'view', comment, sql from duckdb_views() where {_IN_SCOPE} and view_name = :name and not internal
        """), {**self._scope(schema), "name": table_name}).mappings().first()
        if row is None:
            raise exc.NoSuchTableError(f"{schema}.{table_name}" if schema else table_name)
        return dict(row)

    def _constraints(
        self, connection: Connection, table_name: str, schema: str | None, constraint_type: str
    ) -> list[dict[str, Any]]:
        self._relation(connection, table_name, schema)
        result = connection.execute(text(f"""
            select constraint_name, constraint_column_names, expression, referenced_table, referenced_column_names
              from duckdb_constraints()
             where {_IN_SCOPE} and table_name = :name and constraint_type = :constraint_type
             order by constraint_index
        """), {**self._scope(schema), "name": table_name, "constraint_type": constraint_type})
        return [dict(row) for row in result.mappings()]

    # --- names ---------------------------------------------------------------------------------

    @reflection.cache
    def get_schema_names(self, connection: Connection, **kw: Any) -> list[str]:
        return list(connection.scalars(text(
            "select schema_name from duckdb_schemas() where database_name = current_database() order by 1")))

    def has_schema(self, connection: Connection, schema_name: str, **kw: Any) -> bool:
        database, name = self.identifier_preparer._separate(schema_name)
        return connection.scalar(text("""
            select count(*) from duckdb_schemas()
             where database_name = coalesce(:database, current_database()) and schema_name = :schema
        """), {"database": database, "schema": name}) > 0

    @reflection.cache
    def get_table_names(self, connection: Connection, schema: str | None = None, **kw: Any) -> list[str]:
        return list(connection.scalars(text(
            f"select table_name from duckdb_tables() where {_IN_SCOPE} and not temporary order by 1"),
            self._scope(schema)))

    @reflection.cache
    def get_view_names(self, connection: Connection, schema: str | None = None, **kw: Any) -> list[str]:
        return list(connection.scalars(text(
            f"select view_name from duckdb_views() where {_IN_SCOPE} and not internal and not temporary order by 1"),
            self._scope(schema)))

    def get_materialized_view_names(self, connection: Connection, schema: str | None = None, **kw: Any) -> list[str]:
        return []

    def get_temp_table_names(self, connection: Connection, schema: str | None = None, **kw: Any) -> list[str]:
        return list(connection.scalars(text("select table_name from duckdb_tables() where temporary order by 1")))

    def get_temp_view_names(self, connection: Connection, schema: str | None = None, **kw: Any) -> list[str]:
        return list(connection.scalars(text(
            "select view_name from duckdb_views() where temporary and not internal order by 1")))

    def get_sequence_names(self, connection: Connection, schema: str | None = None, **kw: Any) -> list[str]:
        return list(connection.scalars(text(
            f"select sequence_name from duckdb_sequences() where {_IN_SCOPE} order by 1"), self._scope(schema)))

    @reflection.cache
    def has_table(self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any) -> bool:
        try:
            self._relation(connection, table_name, schema)
        except exc.NoSuchTableError:
            return False
        return True

    def has_multi_table(
        self, connection: Connection, table_names: list[str], schema: str | None = None, **kw: Any
    ) -> list[tuple[tuple[str | None, str], bool]]:
        return [((schema, name), self.has_table(connection, name, schema, **kw)) for name in table_names]

    def has_sequence(self, connection: Connection, sequence_name: str, schema: str | None = None, **kw: Any) -> bool:
        return sequence_name in self.get_sequence_names(connection, schema)

    # --- one table or view -----------------------------------------------------------------------

    @reflection.cache
    def get_columns(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        self._relation(connection, table_name, schema)
        result = connection.execute(text(f"""
            select column_name, data_type, is_nullable, column_default, comment from duckdb_columns()
             where {_IN_SCOPE} and table_name = :name order by column_index
        """), {**self._scope(schema), "name": table_name})
        return [
            {"name": row.column_name, "type": column_type(row.data_type), "nullable": bool(row.is_nullable),
             "default": row.column_default, "autoincrement": False, "comment": row.comment}
            for row in result
        ]

    @reflection.cache
    def get_table_comment(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        return {"text": self._relation(connection, table_name, schema)["comment"]}

    @reflection.cache
    def get_view_definition(self, connection: Connection, view_name: str, schema: str | None = None, **kw: Any) -> str:
        relation = self._relation(connection, view_name, schema)
        if relation["kind"] != "view":
            raise exc.NoSuchTableError(view_name)
        return relation["sql"]

    def get_table_options(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        self._relation(connection, table_name, schema)
        return {}

    @reflection.cache
    def get_pk_constraint(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        keys = self._constraints(connection, table_name, schema, "PRIMARY KEY")
        if not keys:
            return {"constrained_columns": [], "name": None}
        return {"constrained_columns": list(keys[0]["constraint_column_names"]), "name": keys[0]["constraint_name"]}

    @reflection.cache
    def get_foreign_keys(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        # DuckDB foreign keys reference a table of the same schema.
        return [
            {"name": fk["constraint_name"], "constrained_columns": list(fk["constraint_column_names"]),
             "referred_schema": schema, "referred_table": fk["referenced_table"],
             "referred_columns": list(fk["referenced_column_names"]), "options": {}}
            for fk in self._constraints(connection, table_name, schema, "FOREIGN KEY")
        ]

    @reflection.cache
    def get_unique_constraints(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        return [
            {"name": uq["constraint_name"], "column_names": list(uq["constraint_column_names"])}
            for uq in self._constraints(connection, table_name, schema, "UNIQUE")
        ]

    @reflection.cache
    def get_check_constraints(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        return [
            {"name": ck["constraint_name"], "sqltext": ck["expression"]}
            for ck in self._constraints(connection, table_name, schema, "CHECK")
        ]

    @reflection.cache
    def get_indexes(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        columns = {c["name"] for c in self.get_columns(connection, table_name, schema)}
        result = connection.execute(text(f"""
            select index_name, is_unique, expressions from duckdb_indexes()
             where {_IN_SCOPE} and table_name = :name order by 1
        """), {**self._scope(schema), "name": table_name})
        indexes = []
        for row in result:
            terms = [t.strip() for t in str(row.expressions or "").strip("[]").split(",") if t.strip()]
            terms = [t[1:-1].replace('""', '"') if t.startswith('"') and t.endswith('"') else t for t in terms]
            index: dict[str, Any] = {"name": row.index_name, "unique": bool(row.is_unique),
                                     "column_names": [t if t in columns else None for t in terms]}
            if any(t not in columns for t in terms):
                index["expressions"] = terms
            indexes.append(index)
        return indexes


def register() -> None:
    """Make ``duckdb+readonly://`` resolvable without the installed entry point (e.g. a source checkout)."""
    from sqlalchemy.dialects import registry

    registry.register(ENTRY_POINT, __name__, ReadOnlyDuckDBDialect.__name__)
