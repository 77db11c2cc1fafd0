"""GDELT events as a source: produces the staged table ``gdelt_events``, one row per GDELT event
(GLOBALEVENTID), with both actors' CAMEO country codes resolved to ISO codes.

Reads GDELT 1.0 (57 or 58 columns) and 2.0 (61 columns) event exports, zipped or not, and
re-exported files with a header line (see ``layout.py``), entirely with DuckDB's CSV reader and
SQL (``staged.sql``): no Python loop over rows. Every value the rows depend on is checked first,
and a file that breaks a rule raises :class:`~pipeline.errors.SourceError` naming the file, the
line and the rule. CAMEO country codes resolve through the project's crosswalk: ISO alpha-3 for
most, ``ROM``/``TMP``/``MTN``/``IMY`` for Romania, Timor-Leste, Montenegro and the Isle of Man,
sub-national codes to their state plus a region (``WSB``, ``GZS``, ``BAG``), world regions
(``EUR``, ``AFR``, ``SAF`` = Southern Africa ...) to no country. Those rows stay in the table;
``is_state_dyad`` says which rows tie two different countries.

Memory does not grow with the input: a zip is inflated within the raw-file, ratio and line-length
caps (``archive.py``) into a scratch folder the caller chose (never the system temp folder), the
rows go through an on-disk DuckDB database with a memory limit and leave it in Arrow batches.
"""

from __future__ import annotations

import codecs
import contextlib
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.errors import SourceError
from pipeline.reference import REFERENCE_DIR, CountryResolver
from pipeline.sources.base import AuditRow, InputFile, LoadResult, ParseContext
from pipeline.sources.gdelt_events import export, reexport
from pipeline.sources.gdelt_events.archive import Limits, is_zip, unpack
from pipeline.sources.gdelt_events.layout import SOURCE_ID, Layout, canonical_columns, sniff

__all__ = ["CAMEO_EVENTS_CSV", "SCHEMAS", "SOURCE_ID", "Limits", "LoadResult", "load", "parse", "staged_batches"]

PACKAGE_DIR = Path(__file__).resolve().parent
STAGED_SQL = PACKAGE_DIR / "staged.sql"
CAMEO_EVENTS_CSV = REFERENCE_DIR / "cameo_events.csv"

_LINEAGE = [
    pa.field("raw_sha256", pa.string(), nullable=False),
    pa.field("raw_file", pa.string(), nullable=False),
]


def _actor(n: int) -> list[pa.Field]:
    return [
        pa.field(f"actor{n}_code", pa.string()),
        pa.field(f"actor{n}_name", pa.string()),
        pa.field(f"actor{n}_country_code", pa.string()),
        pa.field(f"actor{n}_type1_code", pa.string()),
        pa.field(f"actor{n}_iso3", pa.string()),
        pa.field(f"actor{n}_iso2", pa.string()),
        pa.field(f"actor{n}_region", pa.string()),
    ]


SCHEMAS: dict[str, pa.Schema] = {
    "gdelt_events": pa.schema([
        pa.field("global_event_id", pa.int64(), nullable=False),
        pa.field("event_date", pa.date32(), nullable=False),
        pa.field("date_added", pa.timestamp("us")),
        pa.field("gdelt_version", pa.int8(), nullable=False),
        *_actor(1),
        *_actor(2),
        pa.field("is_state_dyad", pa.bool_(), nullable=False),
        pa.field("is_root_event", pa.bool_()),
        pa.field("event_code", pa.string(), nullable=False),
        pa.field("event_base_code", pa.string()),
        pa.field("event_root_code", pa.string(), nullable=False),
        pa.field("quad_class", pa.int8(), nullable=False),
        pa.field("goldstein", pa.float64(), nullable=False),
        pa.field("num_mentions", pa.int32()),
        pa.field("num_sources", pa.int32()),
        pa.field("num_articles", pa.int32()),
        pa.field("avg_tone", pa.float64()),
        pa.field("action_geo_country_code", pa.string()),
        pa.field("source_url", pa.string()),
        *_LINEAGE,
    ]),
}

#: Checks on the raw text, run per file before any cast: (rule, column, SQL true for a bad row).
VALUE_RULES: tuple[tuple[str, str, str], ...] = (
    ("GLOBALEVENTID is an integer", "GLOBALEVENTID", "try_cast(trim(GLOBALEVENTID) as bigint) is null"),
    ("SQLDATE is a date (YYYYMMDD)", "SQLDATE", "try_strptime(trim(SQLDATE), '%Y%m%d') is null"),
    ("EventCode is a CAMEO code (2-4 digits)", "EventCode",
     "not regexp_full_match(coalesce(trim(EventCode), ''), '[0-9]{2,4}')"),
    ("EventRootCode is a CAMEO root (01-20)", "EventRootCode",
     "coalesce(try_cast(trim(EventRootCode) as integer) not between 1 and 20, true)"),
    ("EventBaseCode is a CAMEO code (2-4 digits)", "EventBaseCode",
     "EventBaseCode is not null and not regexp_full_match(trim(EventBaseCode), '[0-9]{2,4}')"),
    ("QuadClass is 1, 2, 3 or 4", "QuadClass",
     "coalesce(try_cast(trim(QuadClass) as integer) not between 1 and 4, true)"),
    ("GoldsteinScale is a number from -10 to 10", "GoldsteinScale",
     "coalesce(try_cast(trim(GoldsteinScale) as double) not between -10 and 10, true)"),
    ("IsRootEvent is 0 or 1", "IsRootEvent", "IsRootEvent is not null and trim(IsRootEvent) not in ('0', '1')"),
    ("NumMentions is an integer", "NumMentions",
     "NumMentions is not null and try_cast(trim(NumMentions) as integer) is null"),
    ("NumSources is an integer", "NumSources",
     "NumSources is not null and try_cast(trim(NumSources) as integer) is null"),
    ("NumArticles is an integer", "NumArticles",
     "NumArticles is not null and try_cast(trim(NumArticles) as integer) is null"),
    ("AvgTone is a number", "AvgTone", "AvgTone is not null and try_cast(trim(AvgTone) as double) is null"),
    ("DATEADDED is YYYYMMDD or YYYYMMDDHHMMSS", "DATEADDED",
     "DATEADDED is not null and (length(trim(DATEADDED)) not in (8, 14) or "
     "try_strptime(trim(DATEADDED), ['%Y%m%d%H%M%S', '%Y%m%d']) is null)"),
)

#: DuckDB CSV reject types -> the rule a rejected line breaks.
REJECT_RULES: dict[str, str] = {
    "MISSING COLUMNS": "consistent column count",
    "TOO MANY COLUMNS": "consistent column count",
    "INVALID ENCODING": "UTF-8 text",
    "INVALID UNICODE": "UTF-8 text",
    "LINE SIZE OVER MAXIMUM": "line length cap",
}

_LAYOUT_READERS = {False: export, True: reexport}

#: Rows per Arrow batch handed on: what is held in Python at a time, whatever the file's size.
BATCH_ROWS = 100_000
#: DuckDB's working memory for one load; past it, DuckDB spills to the scratch folder.
DUCKDB_MEMORY_LIMIT = "256MB"


def parse(files: list[InputFile], ctx: ParseContext) -> None:
    """The pipeline's entry point: stage ``files`` into ``ctx``'s writer batch by batch. Zips
    inflate within the configured limits (``ctx.max_bytes`` is the raw cap) into a scratch folder
    beside the writer's output (under ``PIPELINE_HOME`` in a pipeline run), removed afterwards."""
    limits = Limits.from_settings(ctx.max_bytes)
    with staged_batches(files, limits, ctx.writer.out_dir) as (batches, snapshot, audit):
        if snapshot is not None:
            ctx.set_snapshot(snapshot)
        for batch in batches:
            ctx.writer.write_arrow("gdelt_events", pa.Table.from_batches([batch]))
    for rule, field_name, value, count in audit:
        ctx.writer.audit(rule, field_name, value, None, count)


def load(files: list[InputFile], limits: Limits | None = None, scratch_dir: Path | None = None) -> LoadResult:
    """The staged table ``gdelt_events`` of ``files`` as one Arrow table in memory (for small
    files and tests; the pipeline streams through :func:`parse`). ``limits`` default to the
    settings, ``scratch_dir`` to ``PIPELINE_HOME/build``."""
    if scratch_dir is None:
        from pipeline import settings

        scratch_dir = settings.load().build_dir
    with staged_batches(files, limits or Limits.from_settings(), scratch_dir) as (batches, snapshot, audit):
        table = batches.read_all()
    return LoadResult({"gdelt_events": table.cast(SCHEMAS["gdelt_events"])}, snapshot, audit)


@contextlib.contextmanager
def staged_batches(
    files: list[InputFile], limits: Limits, scratch_dir: Path
) -> Iterator[tuple[pa.RecordBatchReader, date | None, list[AuditRow]]]:
    """Load GDELT event files into the staged table ``gdelt_events`` (deduplicated on
    GLOBALEVENTID, first occurrence in file order kept) in an on-disk DuckDB database in a
    scratch folder made in ``scratch_dir``; yield its rows in file order as Arrow batches of
    :data:`BATCH_ROWS`, the data's date and the audit. The folder is removed on exit."""
    if not files:
        raise ValueError("gdelt_events: no input files")
    scratch_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".gdelt-scratch-", dir=scratch_dir) as tmp:
        scratch = Path(tmp)
        con = duckdb.connect(str(scratch / "load.duckdb"), config={
            "temp_directory": str(scratch / "spill"), "memory_limit": DUCKDB_MEMORY_LIMIT})
        try:
            con.execute("set enable_progress_bar = false")
            for idx, f in enumerate(files):
                path = unpack(f, scratch, limits) if is_zip(f.path) else f.path
                try:
                    _read_file(con, path, f, idx, limits.max_line_bytes)
                finally:
                    if path != f.path:
                        path.unlink(missing_ok=True)
            query, snapshot, audit = _stage(con, len(files))
            reader = con.sql(query).to_arrow_reader(BATCH_ROWS)
            yield reader, snapshot, audit
        finally:
            con.close()


#: The staged columns, in order; the actors' ISO codes and regions are looked up by the macros
#: ``cameo_iso3``/``cameo_iso2``/``cameo_region`` (:func:`_resolve_countries`), not joined.
_OUTPUT = """
    e.global_event_id, e.event_date, e.date_added, e.gdelt_version,
    e.actor1_code, e.actor1_name, e.actor1_country_code, e.actor1_type1_code,
    cameo_iso3(e.actor1_country_code) as actor1_iso3, cameo_iso2(e.actor1_country_code) as actor1_iso2,
    cameo_region(e.actor1_country_code) as actor1_region,
    e.actor2_code, e.actor2_name, e.actor2_country_code, e.actor2_type1_code,
    cameo_iso3(e.actor2_country_code) as actor2_iso3, cameo_iso2(e.actor2_country_code) as actor2_iso2,
    cameo_region(e.actor2_country_code) as actor2_region,
    coalesce(cameo_iso2(e.actor1_country_code) <> cameo_iso2(e.actor2_country_code), false) as is_state_dyad,
    e.is_root_event, e.event_code, e.event_base_code, e.event_root_code, e.quad_class, e.goldstein,
    e.num_mentions, e.num_sources, e.num_articles, e.avg_tone, e.action_geo_country_code, e.source_url,
    e.raw_sha256, e.raw_file
"""


def _stage(con: duckdb.DuckDBPyConnection, n_files: int) -> tuple[str, date | None, list[AuditRow]]:
    """Resolve countries and deduplicate; the query of the staged rows, the data's date and the audit.

    The typed rows of the files (``events``) are the staged rows unless an event repeats: only then
    is a de-duplicated copy made (first occurrence in file order kept, in file order). The query
    scans one of them with a projection, no join or sort: its rows leave in file order (table scans
    and ``union all`` keep insertion order) and stream, whatever the input's size."""
    con.execute("create view events as " + " union all ".join(f"select * from typed_{i}" for i in range(n_files)))
    audit = _resolve_countries(con)
    rows, distinct = con.execute("select count(*), count(distinct global_event_id) from events").fetchone()
    kept = "events"
    if distinct < rows:
        con.execute("create table staged as select * from events "
                    "qualify row_number() over (partition by global_event_id order by file_idx, line_no) = 1 "
                    "order by file_idx, line_no")
        kept = "staged"
        audit.append(("duplicate_event", "GLOBALEVENTID", None, rows - distinct))
    audit += _unknown_event_codes(con, kept)
    snapshot = con.execute(f"select cast(max(date_added) as date) from {kept}").fetchall()[0][0]
    return f"select {_OUTPUT} from {kept} as e", snapshot, audit


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _read_file(con: duckdb.DuckDBPyConnection, path: Path, f: InputFile, idx: int, max_line_bytes: int) -> None:
    """Read one unzipped file in one scan into table ``file_<idx>``: its typed rows (``staged.sql``) and
    whether each breaks a value rule; view ``typed_<idx>`` adds ``file_idx``, ``line_no``,
    ``gdelt_version`` and lineage. Only a file that breaks a rule is read again as text
    (:func:`_refuse_values`), to name the rule, the line and the value."""
    layout = sniff(path, f.name, max_line_bytes)
    _check_last_line(path, f.name)
    options = _LAYOUT_READERS[layout.header].csv_options(layout)
    columns = "{" + ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in layout.columns) + "}"
    option_sql = ", ".join(f"{k} = {v}" for k, v in options.items())
    rejects = f"rejects_{idx}"
    present = set(layout.columns)
    # the CSV reader only decodes (and checks) the columns a query uses: unless the whole file is clean
    # text, a flag uses them all, so a bad byte in a column the staged table leaves out is refused as before
    every = "true" if _clean_text(path) else " and ".join(f"{c} is null" for c in layout.columns)
    broken = " or ".join(f"({bad_when})" for _, _, bad_when in VALUE_RULES)

    def raw(rejects: str) -> str:
        """The file's rows as text under the canonical names (absent ones null)."""
        names = ", ".join(c if c in present else f"cast(null as varchar) as {c}" for c in canonical_columns())
        return (f"select {names} from read_csv({_literal(str(path))}, {option_sql}, columns = {columns}, "
                f"auto_detect = false, strict_mode = true, max_line_size = {max_line_bytes}, store_rejects = true, "
                f"rejects_table = {_literal(rejects)}, rejects_scan = {_literal(rejects + '_scan')})")

    typed = STAGED_SQL.read_text(encoding="utf-8").rstrip().removesuffix("from raw").rstrip()
    con.execute(f"create table file_{idx} as {typed}, ({broken}) as breaks_a_rule, ({every}) as all_columns_read "
                f"from ({raw(rejects)}) as raw")
    _raise_on_rejects(con, rejects, f, layout)
    if con.execute(f"select coalesce(bool_or(breaks_a_rule), false) from file_{idx}").fetchone()[0]:
        _refuse_values(con, raw(f"rejects_text_{idx}"), f, idx, layout)
    con.execute(
        f"create view typed_{idx} as select * exclude (breaks_a_rule, all_columns_read), {idx} as file_idx, "
        f"cast(rowid + {layout.first_data_line} as bigint) as line_no, "
        f"cast({layout.gdelt_version} as tinyint) as gdelt_version, "
        f"{_literal(f.sha256)} as raw_sha256, {_literal(f.name)} as raw_file from file_{idx}"
    )
    if con.execute(f"select count(*) from file_{idx}").fetchone()[0] == 0:
        raise SourceError(SOURCE_ID, f.name, "at least one event", "the file has a header but no event rows")


def _clean_text(path: Path) -> bool:
    """Whether the file is UTF-8 throughout, without NUL bytes: then no column holds a byte the CSV
    reader refuses (a file that is not is read with every column decoded, to name the line)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                if b"\x00" in chunk:
                    return False
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _refuse_values(con: duckdb.DuckDBPyConnection, raw: str, f: InputFile, idx: int, layout: Layout) -> None:
    """The file breaks a value rule: read it again as text and raise the first rule's error."""
    con.execute(f"create table text_{idx} as {raw}")
    con.execute(f"create view raw_{idx} as select cast(rowid + {layout.first_data_line} as bigint) as line_no, * "
                f"from text_{idx}")
    _check_values(con, f"raw_{idx}", f)
    raise AssertionError(f"{f.name}: a value rule is broken in the typed rows but not in the text")


def _check_last_line(path: Path, file_name: str) -> None:
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        if handle.read(1) != b"\n":
            raise SourceError(SOURCE_ID, file_name, "complete last line",
                              "the file does not end with a line break: truncated download or copy", "last line")


def _raise_on_rejects(con: duckdb.DuckDBPyConnection, rejects: str, f: InputFile, layout: Layout) -> None:
    bad = con.execute(
        f"select line, error_type, error_message from {rejects} order by line, column_idx limit 1"
    ).fetchone()
    if bad is None:
        return
    line, error_type, message = bad
    rule = REJECT_RULES.get(str(error_type), "readable CSV line")
    detail = f"{message} (GDELT {layout.gdelt_version}.0 layout, {len(layout.columns)} columns)"
    if "MISSING" in str(error_type):
        detail += ": truncated or cut line"
    elif rule == REJECT_RULES["LINE SIZE OVER MAXIMUM"]:
        detail += ": the cap is PIPELINE_MAX_LINE_BYTES; GDELT rows are under 3 KB"
    raise SourceError(SOURCE_ID, f.name, rule, detail, f"line {line}")


def _check_values(con: duckdb.DuckDBPyConnection, table: str, f: InputFile) -> None:
    # one scan tells whether any rule is broken; only then is each rule looked at, in order
    broken = con.execute(
        "select " + ", ".join(f"coalesce(bool_or({bad_when}), false)" for _, _, bad_when in VALUE_RULES)
        + f" from {table}"
    ).fetchone()
    for (rule, column, bad_when), is_broken in zip(VALUE_RULES, broken, strict=True):
        if not is_broken:
            continue
        bad = con.execute(
            f"select line_no, GLOBALEVENTID, {column} from {table} where {bad_when} order by line_no limit 1"
        ).fetchone()
        if bad is not None:
            line, event_id, value = bad
            raise SourceError(SOURCE_ID, f.name, rule, f"{column} is {value!r}",
                              f"line {line} (GLOBALEVENTID {event_id})")


def _resolve_countries(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None, int]]:
    """Build the macros ``cameo_iso2``, ``cameo_iso3`` and ``cameo_region`` (code -> value) for the
    distinct actor country codes (a few hundred at most) and return audit rows for the codes the
    crosswalk does not know."""
    resolver = CountryResolver.load()
    counts = con.execute(
        "select field, code, count(*) from ("
        " select 'Actor1CountryCode' as field, actor1_country_code as code from events"
        " union all select 'Actor2CountryCode', actor2_country_code from events"
        ") where code is not null and code <> '' group by all order by all"
    ).fetchall()
    mapping: dict[str, tuple[str | None, str | None, str | None]] = {}
    unmatched: set[str] = set()
    audit: list[tuple[str, str, str | None, int]] = []
    for field_name, code, n in counts:
        if code not in mapping:
            match = resolver.resolve_cameo(code)
            if not match.matched:
                # CAMEO is ISO alpha-3 apart from its listed exceptions; its list lacks e.g. TWN and SSD
                match = resolver.resolve_iso3(code)
            if not match.matched:
                unmatched.add(code)
            iso3 = resolver.country(match.iso2).iso3 if match.iso2 else None
            mapping[code] = (match.iso2, iso3, match.region)
        if code in unmatched:
            audit.append(("unmapped_country", field_name, code, n))
    codes = sorted(mapping)
    # code -> value by position: the codes are an ENUM type (a hashed lookup per row, no join, so the
    # rows keep their order), each column a constant list indexed by the code's position
    if codes:
        con.execute(f"create type cameo_code as enum ({', '.join(_literal(c) for c in codes)})")
    for i, name in enumerate(("iso2", "iso3", "region")):
        if codes:
            values = ", ".join("null" if mapping[c][i] is None else _literal(mapping[c][i]) for c in codes)
            body = f"([{values}]::varchar[])[enum_code(cast(code as cameo_code)) + 1]"
        else:
            body = "cast(null as varchar)"
        con.execute(f"create macro cameo_{name}(code) as {body}")
    return audit


def _unknown_event_codes(con: duckdb.DuckDBPyConnection, kept: str) -> list[tuple[str, str, str | None, int]]:
    rows = con.execute(
        f"select event_code, count(*) from {kept} where event_code not in "
        f"(select code from read_csv({_literal(str(CAMEO_EVENTS_CSV))}, header = true, all_varchar = true)) "
        "group by all order by all"
    ).fetchall()
    return [("unknown_cameo_code", "EventCode", code, n) for code, n in rows]
