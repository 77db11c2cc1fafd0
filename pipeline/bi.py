"""The ``duckdb+readonly`` SQLAlchemy dialect: BI tools reflect the published DuckDB file through it.

BI tools built on SQLAlchemy (Superset, JupySQL, pandas ``read_sql``) list tables and read their
columns through the dialect's reflection methods. duckdb-engine inherits those from the PostgreSQL
dialect, whose ``pg_catalog`` queries DuckDB cannot answer (SQLAlchemy 2.1: ``pg_collation`` not
found in a correlated subquery; 2.0.55 and later: the ``REGCLASS`` cast for keys and constraints).
:class:`ReadOnlyDuckDBDialect` keeps duckdb-engine for connecting and executing and answers every
reflection question from DuckDB's own catalog functions (``duckdb_tables()``, ``duckdb_views()``,
``duckdb_columns()``, ``duckdb_constraints()``, ``duckdb_indexes()``) instead.

It also opens the file the way a reader of a publication should: always ``access_mode=read_only``,
and by default with file access outside the database disabled (``enable_external_access=false``)
and settings locked (``lock_configuration=true``); URL query parameters may relax the last two.

URL: ``duckdb+readonly:////abs/path/sanctions.duckdb`` (the package registers it as the
``duckdb.readonly`` entry point of ``sqlalchemy.dialects``; :func:`register` does it by hand).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from duckdb_engine import Dialect as DuckDBEngineDialect
from duckdb_engine.datatypes import (
    HugeInteger,
    TinyInteger,
    UBigInteger,
    UHugeInteger,
    UInteger,
    USmallInteger,
    UTinyInteger,
)
from sqlalchemy import exc, text
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Connection, reflection
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.engine.url import URL
from sqlalchemy.sql.type_api import TypeEngine

ENTRY_POINT = "duckdb.readonly"

# Settings the dialect always applies, and those it applies unless the URL says otherwise.
FORCED_CONFIG: dict[str, str] = {"access_mode": "read_only"}
DEFAULT_CONFIG: dict[str, str] = {"enable_external_access": "false", "lock_configuration": "true"}

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
        config = opts["url_config"]
        for key, value in FORCED_CONFIG.items():
            given = str(config.get(key, value)).lower()
            if given != value:
                raise exc.ArgumentError(
                    f"duckdb+readonly: URL {url.render_as_string(hide_password=True)!r}: "
                    f"{key}={given!r} is refused: this dialect only opens databases with {key}={value}"
                )
        opts["url_config"] = {**DEFAULT_CONFIG, **config, **FORCED_CONFIG}
        return args, opts

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
