"""BI tools reflect the published DuckDB file through SQLAlchemy, with the ``duckdb+readonly`` dialect.

Two files are reflected: one written by ``pipeline.models.build_database`` itself (staged tables in
``lake``, reference tables in ``ref``, a mart with its YAML descriptions as ``COMMENT ON``), and
one written the same way by hand (``ATTACH ... (STORAGE_VERSION 'v1.2.0')``) with what the
pipeline does not publish yet but BI tools ask about: a view, keys, constraints, an index and
DuckDB's nested types.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
import yaml

pytest.importorskip(
    "duckdb_engine", reason="the `bi` extra is not installed (pip install -e '.[bi]'); make test installs it"
)

from pipeline import bi  # noqa: E402  (needs duckdb_engine)

STORAGE_VERSION = "v1.2.0"
MART_SQL = """-- grain: one row per country
select * from (values
    ('RU', 'Russia', 60::bigint, 0.392::double, date '2024-06-28'),
    ('IR', 'Iran', 38::bigint, 0.248::double, date '2024-06-28')
) as t(country_iso2, country_name, designations, share, as_of_date)
"""
MART_DOCS = {
    "models": {
        "mart_country_rankings": {
            "description": "Which country is the most sanctioned: one row per country.",
            "columns": {
                "country_iso2": "ISO 3166-1 alpha-2 code of the country.",
                "country_name": "Short English name of the country.",
                "designations": "Number of designations attributed to the country.",
                "share": "designations / all designations with a country.",
                "as_of_date": "Date of the newest source snapshot.",
            },
        }
    }
}


def _storage_version(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        (tags,) = con.execute(
            "select tags from duckdb_databases() where database_name = current_database()").fetchone()
    finally:
        con.close()
    return tags["storage_version"]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database built by the pipeline's own publishing function from empty staged tables."""
    import pyarrow.parquet as pq

    from pipeline.models import build_database
    from pipeline.staged import SCHEMAS

    root = tmp_path_factory.mktemp("published")
    staged = root / "staged"
    for table, schema in SCHEMAS.items():
        part = staged / table / "source=demo" / "snapshot_date=2024-06-28"
        part.mkdir(parents=True)
        keep = [f for f in schema if f.name not in ("source", "snapshot_date")]
        pq.write_table(schema.empty_table().select([f.name for f in keep]), part / "part-0.parquet")
    from tests.model_fixtures import mini_project

    types = {"country_iso2": "varchar", "country_name": "varchar", "designations": "bigint", "share": "double",
             "as_of_date": "date"}  # a mart's contract: every column with its type
    (doc,) = [{"name": name, "description": entry["description"],
               "columns": [{"name": c, "data_type": types[c], "description": text}
                           for c, text in entry["columns"].items()]}
              for name, entry in MART_DOCS["models"].items()]
    sql_dir = mini_project(root, {"marts/mart_country_rankings.sql": MART_SQL,
                                  "marts/_marts.yml": yaml.safe_dump({"version": 2, "models": [doc]})}, lake=True)
    out = root / "sanctions.duckdb"
    build_database(staged, out, sql_dir, STORAGE_VERSION)
    return out


@pytest.fixture(scope="module")
def handmade(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database attached with the pipeline's storage version, with a view, keys and nested types."""
    out = tmp_path_factory.mktemp("handmade") / "sanctions.duckdb"
    con = duckdb.connect()
    try:
        con.execute(f"attach '{out}' as pub (storage_version '{STORAGE_VERSION}')")
        con.execute("use pub")
        con.execute("""create table countries (
            iso2 varchar primary key, name varchar not null unique, kind enum('state', 'territory'),
            check (length(iso2) = 2))""")
        con.execute("""create table designations (
            designation_id varchar primary key, iso2 varchar references countries (iso2),
            programs varchar[], amount decimal(12, 2), listed_at timestamp with time zone,
            extra struct(remark varchar, score integer), n bigint default 1)""")
        con.execute("create index designations_listed on designations (listed_at)")
        con.execute("insert into countries values ('RU', 'Russia', 'state'), ('IR', 'Iran', 'state')")
        con.execute("""insert into designations values
            ('us_ofac:SDN:1', 'RU', ['RUSSIA-EO14024'], 10.5, '2022-03-15 00:00:00+00', {'remark': 'x', 'score': 1}, 1),
            ('us_ofac:SDN:2', 'IR', ['IRAN'], null, null, null, 1)""")
        con.execute("create view designations_by_country as "
                    "select iso2, count(*) as designations from designations group by iso2")
        con.execute("comment on table countries is 'Countries of the crosswalk.'")
        con.execute("comment on column countries.iso2 is 'ISO 3166-1 alpha-2 code.'")
        con.execute("comment on view designations_by_country is 'Designations per country.'")
        con.execute("checkpoint")
    finally:
        con.close()
    return out


def _engine(path: Path, query: str = "") -> sa.Engine:
    bi.register()
    return sa.create_engine(f"duckdb+readonly:///{path}{query}")


@pytest.fixture
def engine_for() -> Iterator:
    engines: list[sa.Engine] = []

    def make(path: Path, query: str = "") -> sa.Engine:
        engines.append(_engine(path, query))
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()


def test_the_dialect_is_an_installed_entry_point():
    found = entry_points(group="sqlalchemy.dialects", name=bi.ENTRY_POINT)
    assert found, (
        f"no '{bi.ENTRY_POINT}' entry point in group sqlalchemy.dialects: "
        "pyproject.toml must declare it and the project be reinstalled (make install)"
    )
    assert next(iter(found)).load() is bi.ReadOnlyDuckDBDialect


def test_published_file_reflects_tables_columns_and_comments(published: Path, engine_for):
    from pipeline.staged import SCHEMAS

    assert _storage_version(published).startswith(STORAGE_VERSION)
    engine = engine_for(published)
    inspector = sa.inspect(engine)

    assert {"lake", "main", "ref"} <= set(inspector.get_schema_names())
    assert inspector.get_table_names() == ["mart_country_rankings"]
    assert inspector.get_view_names() == []
    assert set(SCHEMAS) <= set(inspector.get_table_names(schema="lake"))
    assert inspector.get_table_names(schema="sanctions.lake") == inspector.get_table_names(schema="lake")
    assert inspector.has_table("mart_country_rankings") and not inspector.has_table("mart_missing")

    doc = MART_DOCS["models"]["mart_country_rankings"]
    assert inspector.get_table_comment("mart_country_rankings") == {"text": doc["description"]}
    columns = inspector.get_columns("mart_country_rankings")
    assert [c["name"] for c in columns] == list(doc["columns"])
    assert {c["name"]: c["comment"] for c in columns} == doc["columns"]
    types = {c["name"]: c["type"] for c in columns}
    assert isinstance(types["country_iso2"], sa.String)
    assert isinstance(types["designations"], sa.BigInteger)
    assert isinstance(types["share"], sa.Double)
    assert isinstance(types["as_of_date"], sa.Date)

    staged_columns = [c["name"] for c in inspector.get_columns("designations", schema="lake")]
    assert "designation_id" in staged_columns and "source" in staged_columns
    assert inspector.get_pk_constraint("mart_country_rankings") == {"constrained_columns": [], "name": None}
    assert inspector.get_foreign_keys("mart_country_rankings") == []
    assert inspector.get_indexes("mart_country_rankings") == []

    table = sa.Table("mart_country_rankings", sa.MetaData(), autoload_with=engine)
    assert table.comment == doc["description"]
    assert table.c.country_iso2.comment == doc["columns"]["country_iso2"]
    with engine.connect() as con:
        rows = con.execute(sa.select(table.c.country_iso2, table.c.designations)
                           .order_by(table.c.designations.desc())).all()
        assert rows == [("RU", 60), ("IR", 38)]
        top = con.execute(sa.text("select country_name from mart_country_rankings where designations > :n"),
                          {"n": 50}).scalar_one()
        assert top == "Russia"


def test_views_keys_constraints_and_types_reflect(handmade: Path, engine_for):
    engine = engine_for(handmade)
    inspector = sa.inspect(engine)

    assert inspector.get_table_names() == ["countries", "designations"]
    assert inspector.get_view_names() == ["designations_by_country"]
    assert inspector.get_table_comment("designations_by_country") == {"text": "Designations per country."}
    assert "count_star()" in inspector.get_view_definition("designations_by_country").lower()
    assert [c["name"] for c in inspector.get_columns("designations_by_country")] == ["iso2", "designations"]
    assert inspector.get_table_comment("countries") == {"text": "Countries of the crosswalk."}
    assert inspector.get_table_comment("designations") == {"text": None}

    countries = {c["name"]: c for c in inspector.get_columns("countries")}
    assert countries["iso2"]["comment"] == "ISO 3166-1 alpha-2 code." and not countries["iso2"]["nullable"]
    assert countries["kind"]["type"].enums == ["state", "territory"]
    assert inspector.get_pk_constraint("countries")["constrained_columns"] == ["iso2"]
    assert [u["column_names"] for u in inspector.get_unique_constraints("countries")] == [["name"]]
    assert [c["sqltext"] for c in inspector.get_check_constraints("countries")] == ["(length(iso2) = 2)"]

    designations = {c["name"]: c for c in inspector.get_columns("designations")}
    assert isinstance(designations["programs"]["type"], sa.ARRAY)
    assert isinstance(designations["programs"]["type"].item_type, sa.String)
    assert (designations["amount"]["type"].precision, designations["amount"]["type"].scale) == (12, 2)
    assert designations["listed_at"]["type"].timezone is True
    assert str(designations["extra"]["type"]) == "STRUCT(remark VARCHAR, score INTEGER)"
    assert designations["n"]["default"] == "1"
    (fk,) = inspector.get_foreign_keys("designations")
    assert fk["constrained_columns"] == ["iso2"]
    assert (fk["referred_table"], fk["referred_columns"]) == ("countries", ["iso2"])
    assert inspector.get_indexes("designations") == [
        {"name": "designations_listed", "unique": False, "column_names": ["listed_at"]}]

    metadata = sa.MetaData()
    metadata.reflect(engine, views=True)
    assert set(metadata.tables) == {"countries", "designations", "designations_by_country"}
    with engine.connect() as con:
        by_country = con.execute(sa.text("select * from designations_by_country order by iso2")).all()
    assert by_country == [("IR", 1), ("RU", 1)]


def test_missing_tables_are_reported_as_such(handmade: Path, engine_for):
    inspector = sa.inspect(engine_for(handmade))
    with pytest.raises(sa.exc.NoSuchTableError, match="mart_missing"):
        inspector.get_columns("mart_missing")
    with pytest.raises(sa.exc.NoSuchTableError):
        inspector.get_table_comment("mart_missing", schema="lake")
    assert inspector.get_table_names(schema="nope") == []
    assert not inspector.has_schema("nope")


def test_connections_are_read_only_and_closed_to_other_files(handmade: Path, tmp_path: Path, engine_for):
    engine = engine_for(handmade)
    outside = tmp_path / "outside.txt"
    outside.write_text("secret", encoding="utf-8")
    refused = {
        "create table t (a int)": "read-only",
        "delete from countries": "read-only",
        f"select * from read_text('{outside}')": "disabled by configuration",
        f"copy countries to '{tmp_path / 'out.csv'}'": "disabled by configuration",
        f"attach '{tmp_path / 'other.duckdb'}' as other": "disabled by configuration",
        "set enable_external_access = true": "locked",
    }
    for statement, why in refused.items():
        with engine.connect() as con, pytest.raises(sa.exc.DBAPIError, match=why):
            con.execute(sa.text(statement))
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "other.duckdb").exists()

    with pytest.raises(sa.exc.ArgumentError, match="access_mode='read_write' is refused"):
        _engine(handmade, "?access_mode=read_write").connect()


def test_two_readers_at_once(handmade: Path, engine_for):
    engine = engine_for(handmade)
    with engine.connect() as first, engine.connect() as second:
        assert first.execute(sa.text("select count(*) from countries")).scalar_one() == 2
        assert second.execute(sa.text("select count(*) from designations")).scalar_one() == 2


@pytest.mark.parametrize(("spec", "expected"), [
    ("VARCHAR", "VARCHAR"),
    ("BIGINT", "BIGINT"),
    ("DOUBLE", "DOUBLE"),
    ("DATE", "DATE"),
    ("DECIMAL(18,3)", "NUMERIC(18, 3)"),
    ("VARCHAR[]", "VARCHAR[]"),
    ("INTEGER[3]", "INTEGER[]"),
    ("MAP(VARCHAR, INTEGER)", "MAP(VARCHAR, INTEGER)"),
    ("UNION(a INTEGER, b VARCHAR)", "UNION(a INTEGER, b VARCHAR)"),
])
def test_column_types_compile_back_for_duckdb(spec: str, expected: str):
    compiled = bi.column_type(spec).compile(dialect=bi.ReadOnlyDuckDBDialect())
    assert compiled == expected


def test_enum_values_with_quotes():
    assert bi.column_type("ENUM('a', 'it''s')").enums == ["a", "it's"]
    assert bi.column_type("TIMESTAMP WITH TIME ZONE").timezone is True
    assert isinstance(bi.column_type("TIMESTAMP_NS"), sa.TIMESTAMP)


# --- the lockdown holds whatever the URL, connect_args or engine options say ---------------------------------

def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def outside(tmp_path: Path) -> dict[str, Path]:
    """Files beside a deployment that a BI connection must not read or write: an Airflow config and a database."""
    airflow_cfg = tmp_path / "airflow.cfg"
    airflow_cfg.write_text("[database]\nsql_alchemy_conn = postgresql://airflow:secret@db/airflow\n", encoding="utf-8")
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("create table secret as select 'top' as word")
    con.close()
    return {"dir": tmp_path, "airflow_cfg": airflow_cfg, "other": other}


def test_the_issue_url_with_external_access_is_refused(published: Path, outside: dict[str, Path]):
    """?enable_external_access=true once let COPY ... TO overwrite the publication and read airflow.cfg."""
    before = _sha256(published)
    with pytest.raises(bi.ReadOnlyOptionRefused, match=r"option enable_external_access='true' is refused"):
        engine = _engine(published, "?enable_external_access=true")
        try:
            with engine.connect() as con:
                con.execute(sa.text(f"copy (select 1 as x) to '{published}' (format csv)"))
                con.execute(sa.text(f"select * from read_text('{outside['airflow_cfg']}')"))
        finally:
            engine.dispose()
    assert _sha256(published) == before


RELAXING_URL_OPTIONS = [
    "enable_external_access=true",
    "Enable_External_Access=TRUE",
    "enable_external_access=1",
    "lock_configuration=false",
    "access_mode=read_write",
    "access_mode=automatic",
    "allow_unsigned_extensions=true",
    "allow_community_extensions=true",
    "autoload_known_extensions=true",
    "autoinstall_known_extensions=true",
    "allow_extension_repositories=allowed",
    "allowed_directories=/",
    "allowed_paths=/etc/passwd",
    "allowed_configs=enable_external_access",
    "temp_directory=/tmp",
    "log_query_path=/tmp/queries.log",
    "profiling_output=/tmp/profile.json",
    "secret_directory=/tmp",
    "extension_directory=/tmp",
    "home_directory=/tmp",
    "file_search_path=/",
    "python_enable_replacements=true",
    "allow_persistent_secrets=true",
    "enable_logging=true",
    "read_only=false",
    "user=admin",
    "motherduck_token=abc",
    "threads=1&enable_external_access=true",
]


@pytest.mark.parametrize("option", RELAXING_URL_OPTIONS)
def test_url_options_that_relax_the_lockdown_are_refused_by_name(published: Path, option: str):
    before = _sha256(published)
    named = option.split("&")[-1].split("=")[0]
    with pytest.raises(bi.ReadOnlyOptionRefused, match=rf"URL .* option {re.escape(named)}=.* is refused"):
        engine = _engine(published, f"?{option}")
        try:
            engine.connect().close()
        finally:
            engine.dispose()
    assert _sha256(published) == before


RELAXING_CONNECT_ARGS = [
    ({"config": {"enable_external_access": True}}, "enable_external_access"),
    ({"config": {"lock_configuration": False}}, "lock_configuration"),
    ({"config": {"access_mode": "READ_WRITE"}}, "access_mode"),
    ({"config": {"allowed_directories": ["/"]}}, "allowed_directories"),
    ({"config": {"allowed_configs": ["enable_external_access"]}}, "allowed_configs"),
    ({"config": {"allow_unsigned_extensions": True}}, "allow_unsigned_extensions"),
    ({"config": {"temp_directory": "/tmp"}}, "temp_directory"),
    ({"config": "enable_external_access=true"}, "config"),
    ({"url_config": {"enable_external_access": "true"}}, "enable_external_access"),
    ({"read_only": False}, "read_only"),
    ({"preload_extensions": ["httpfs"]}, "preload_extensions"),
    ({"register_filesystems": ["memory"]}, "register_filesystems"),
]


@pytest.mark.parametrize(("connect_args", "named"), RELAXING_CONNECT_ARGS, ids=[n for _, n in RELAXING_CONNECT_ARGS])
def test_connect_args_that_relax_the_lockdown_are_refused_by_name(published: Path, connect_args: dict, named: str):
    bi.register()
    before = _sha256(published)
    engine = sa.create_engine(f"duckdb+readonly:///{published}", connect_args=connect_args)
    try:
        with pytest.raises(bi.ReadOnlyOptionRefused, match=rf"connect_args .*option {re.escape(named)}=.* is refused"):
            engine.connect().close()
    finally:
        engine.dispose()
    assert _sha256(published) == before


@pytest.mark.parametrize("how", ["creator read-only", "creator writable", "pool writable"])
def test_connections_made_around_the_dialect_are_refused(published: Path, how: str):
    """creator= and pool= bypass the dialect's connect(); the dialect still checks each new connection."""
    from sqlalchemy.pool import StaticPool

    bi.register()
    before = _sha256(published)
    url = f"duckdb+readonly:///{published}"
    if how == "creator read-only":
        engine = sa.create_engine(url, creator=lambda: duckdb.connect(str(published), read_only=True))
    elif how == "creator writable":
        engine = sa.create_engine(url, creator=lambda: duckdb.connect(str(published)))
    else:
        engine = sa.create_engine(url, pool=StaticPool(lambda: duckdb.connect(str(published))))
    try:
        with pytest.raises(bi.ReadOnlyOptionRefused, match="not locked read-only.*enable_external_access='true'"):
            with engine.connect() as con:
                con.execute(sa.text(f"copy (select 1 as x) to '{published}' (format csv)"))
    finally:
        engine.dispose()
    assert _sha256(published) == before
    # The refused connection was closed: the file opens locked again in this process.
    engine = _engine(published)
    try:
        with engine.connect() as con:
            assert con.execute(sa.text("select current_setting('enable_external_access')")).scalar_one() is False
    finally:
        engine.dispose()


def test_allowed_options_apply_and_are_locked_with_the_rest(published: Path, engine_for):
    engine = engine_for(published, "?threads=1&memory_limit=300MB&access_mode=read_only"
                                   "&enable_external_access=false&lock_configuration=true")
    with engine.connect() as con:
        settings = dict(con.execute(sa.text("select name, value from duckdb_settings()")).all())
        with pytest.raises(sa.exc.DBAPIError, match="locked"):
            con.execute(sa.text("set threads = 2"))
    assert settings["threads"] == "1" and settings["memory_limit"].startswith("286")
    assert settings["access_mode"] == "read_only" and settings["lock_configuration"] == "true"
    assert settings["enable_external_access"] == "false" and settings["temp_directory"] == ""
    # DuckDB allows the database file and its own WAL files, nothing else.
    assert settings["allowed_directories"] == "[]"
    assert all(path.startswith(str(published)) for path in settings["allowed_paths"].strip("[]").split(", "))
    assert settings["autoload_known_extensions"] == "false" and settings["allow_unsigned_extensions"] == "false"


# Statements a connection runs; each must fail, and the publication's bytes stay as they were.
LOCKED_OUT = [
    "copy (select 1 as x) to '{db}' (format csv)",
    "copy mart_country_rankings to '{dir}/stolen.csv'",
    "select * from read_text('{airflow_cfg}')",
    "select * from read_text('/etc/passwd')",
    "select * from read_csv('{airflow_cfg}')",
    "select * from glob('/*')",
    "select * from glob('{dir}/*')",
    "export database '{dir}/exported'",
    "attach '{other}' as other",
    "attach '{other}' as other (read_only)",
    "attach '{dir}/new.duckdb' as fresh",
    "attach ':memory:' as scratch",
    "install httpfs",
    "load httpfs",
    "force install spatial",
    "set enable_external_access = true",
    "reset enable_external_access",
    "set lock_configuration = false",
    "reset lock_configuration",
    "set allowed_directories = ['/']",
    "set allowed_paths = ['/etc/passwd']",
    "set allowed_configs = ['enable_external_access']",
    "set temp_directory = '{dir}/spill'",
    "set log_query_path = '{dir}/queries.log'",
    "set memory_limit = '100GB'",
    "set threads = 64",
    "reset memory_limit",
    "pragma enable_profiling",
    "pragma profiling_output = '{dir}/profile.json'",
    "pragma memory_limit = '100GB'",
    "pragma threads = 64",
    "select * from enable_logging()",
    "call enable_logging()",
    "create table hack as select 1 as x",
    "insert into mart_country_rankings (country_iso2) values ('XX')",
    "delete from mart_country_rankings",
    "drop table mart_country_rankings",
    "alter table mart_country_rankings add column y int",
    "comment on table mart_country_rankings is 'changed'",
    "create persistent secret s (type http, bearer_token 'x')",
]
REFUSALS = ("file system operations are disabled", "configuration has been locked", "read-only mode",
            "Loading external extensions is disabled", "Cannot launch in-memory database in read-only mode",
            "Cannot install extension", "Permission Error", "read-only", "does not exist",
            "Persistent secrets are disabled")


@pytest.mark.parametrize("statement", LOCKED_OUT, ids=[s[:45] for s in LOCKED_OUT])
def test_statements_cannot_escape_the_lockdown(published: Path, outside: dict[str, Path], engine_for,
                                               statement: str):
    before, files = _sha256(published), sorted(outside["dir"].rglob("*"))
    engine = engine_for(published, "?threads=1&memory_limit=500MB")
    sql = statement.format(db=published, **outside)
    with engine.connect() as con:
        with pytest.raises(sa.exc.DBAPIError) as refused:
            con.execute(sa.text(sql)).all()
        assert any(reason in str(refused.value) for reason in REFUSALS), refused.value
    with engine.connect() as con:  # and through the DBAPI connection underneath, past SQLAlchemy
        raw = con.connection.driver_connection
        with pytest.raises(duckdb.Error):
            raw.execute(sql).fetchall()
        settings = dict(raw.execute("select name, value from duckdb_settings()").fetchall())
    assert _sha256(published) == before
    assert sorted(outside["dir"].rglob("*")) == files
    assert not list(published.parent.glob("*.tmp")) and not list(published.parent.glob("*.wal"))
    assert settings["enable_external_access"] == "false" and settings["lock_configuration"] == "true"
    assert settings["access_mode"] == "read_only" and settings["threads"] == "1"


def test_checkpoints_and_temporary_objects_leave_the_file_alone(published: Path, engine_for):
    before = _sha256(published)
    engine = engine_for(published)
    with engine.connect() as con:
        for statement in ("checkpoint", "call checkpoint()", "create temp table scratch as select 1 as x",
                          "set variable v = 1", "use sanctions.lake"):
            con.execute(sa.text(statement))
        assert con.execute(sa.text("select x from temp.main.scratch")).scalar_one() == 1
    assert _sha256(published) == before
    assert not list(published.parent.glob("*.tmp")) and not list(published.parent.glob("*.wal"))
