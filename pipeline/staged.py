"""Silver layer: the normalized staged tables every source parser writes.

One schema for every authority, so a new source adds a parser and nothing downstream. Each
table is hive-partitioned Parquet::

    <staged>/<table>/source=<source id>/snapshot_date=<YYYY-MM-DD>/part-<bundle>.parquet

``bundle`` is derived from the sha256 of the raw file(s) parsed, so re-parsing the same input
overwrites the same part (idempotent), and every row also carries ``raw_sha256`` to trace it
back to its raw file.

Tables (see ``docs/data_dictionary.md`` for every column):

- ``designations``   one row per listing of an entity by one authority on one snapshot
- ``names``          one row per name of an entity (primary name and aliases)
- ``country_links``  one row per tie between an entity and a country, with its ``link_type``
- ``identifiers``    one row per identifier (IMO number, passport, registration, UN reference...)
- ``relations``      one row per link between two entities of the same source
- ``birth_dates``    one row per birth date a source gives for an entity (several for alternative dates)
- ``parse_audit``    one row per (file, rule, field, value) the parser could not place, with a count
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import tempfile
from array import array as _typed_array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.lib as _palib
import pyarrow.parquet as pq
import yaml

log = logging.getLogger(__name__)

ENTITY_TYPES = ("person", "organization", "vessel", "aircraft", "other")
LINK_TYPES = (
    "nationality",
    "citizenship",
    "registration",  # jurisdiction / country of registration or incorporation
    "flag",  # vessel or aircraft flag
    "address",
    "birth",
    "other",
)
RELATION_TYPES = (
    "owned_by",
    "associate_of",
    "family_of",
    "acting_for",
    "leader_of",
    "supports",
    "linked_to",
    "other",
)
NAME_TYPES = ("primary", "aka", "fka", "nka", "original_script")

_LINEAGE = [
    pa.field("raw_sha256", pa.string(), nullable=False),
    pa.field("raw_file", pa.string(), nullable=False),
]

SCHEMAS: dict[str, pa.Schema] = {
    "designations": pa.schema(
        [
            pa.field("designation_id", pa.string(), nullable=False),
            pa.field("authority", pa.string(), nullable=False),
            pa.field("list", pa.string(), nullable=False),
            pa.field("source_record_id", pa.string(), nullable=False),
            pa.field("entity_key", pa.string(), nullable=False),
            pa.field("entity_type", pa.string(), nullable=False),
            pa.field("primary_name", pa.string(), nullable=False),
            pa.field("programs", pa.list_(pa.string()), nullable=False),
            pa.field("listed_on", pa.date32()),
            pa.field("reference_number", pa.string()),
            pa.field("remarks", pa.string()),
            *_LINEAGE,
        ]
    ),
    "names": pa.schema(
        [
            pa.field("entity_key", pa.string(), nullable=False),
            pa.field("source_record_id", pa.string(), nullable=False),
            pa.field("name", pa.string(), nullable=False),
            pa.field("name_type", pa.string(), nullable=False),
            pa.field("quality", pa.string()),  # strong | weak | null
            *_LINEAGE,
        ]
    ),
    "country_links": pa.schema(
        [
            pa.field("entity_key", pa.string(), nullable=False),
            pa.field("source_record_id", pa.string(), nullable=False),
            pa.field("link_type", pa.string(), nullable=False),
            pa.field("country_iso2", pa.string()),  # null = the raw value could not be mapped
            pa.field("region", pa.string()),
            pa.field("country_status", pa.string()),  # mapped | non_country | unknown
            pa.field("raw_value", pa.string(), nullable=False),
            *_LINEAGE,
        ]
    ),
    "identifiers": pa.schema(
        [
            pa.field("entity_key", pa.string(), nullable=False),
            pa.field("source_record_id", pa.string(), nullable=False),
            pa.field("id_type", pa.string(), nullable=False),
            pa.field("id_value", pa.string(), nullable=False),
            pa.field("country_iso2", pa.string()),
            pa.field("raw_type", pa.string()),
            *_LINEAGE,
        ]
    ),
    "relations": pa.schema(
        [
            pa.field("entity_key", pa.string(), nullable=False),
            pa.field("source_record_id", pa.string(), nullable=False),
            pa.field("related_entity_key", pa.string()),  # null when only a name is given
            pa.field("related_name", pa.string()),
            pa.field("relation_type", pa.string(), nullable=False),
            pa.field("raw_relation", pa.string()),
            *_LINEAGE,
        ]
    ),
    "birth_dates": pa.schema(
        [
            pa.field("entity_key", pa.string(), nullable=False),
            pa.field("source_record_id", pa.string(), nullable=False),
            pa.field("birth_date", pa.date32()),  # null unless one exact day is given
            pa.field("year_from", pa.int32()),  # null (with year_to) when no year can be read
            pa.field("year_to", pa.int32()),
            pa.field("month", pa.int8()),
            pa.field("day", pa.int8()),
            pa.field("raw_value", pa.string(), nullable=False),
            pa.field("approximate", pa.bool_()),  # null when the value could not be read
            *_LINEAGE,
        ]
    ),
    "parse_audit": pa.schema(
        [
            pa.field("rule", pa.string(), nullable=False),
            pa.field("field", pa.string(), nullable=False),
            pa.field("value", pa.string()),
            pa.field("example_record", pa.string()),
            pa.field("occurrences", pa.int64(), nullable=False),
            *_LINEAGE,
        ]
    ),
}

TABLES = tuple(SCHEMAS)

# One-line descriptions of the sanctions staged tables, and of their columns by name (rendered into
# docs/data_dictionary.md, set as COMMENT ON in schema ``lake`` of the published database). Other
# sources describe their tables in ``pipeline/sources/<id>/columns_doc.yml``.
TABLE_DOCS: dict[str, str] = {
    "designations": "One row per listing of an entity by one authority on one snapshot.",
    "names": "One row per name of an entity (primary name and aliases).",
    "country_links": "One row per tie between an entity and a country, with its link_type.",
    "identifiers": "One row per identifier of an entity (IMO number, passport, registration, UN reference...).",
    "relations": "One row per link between two entities of the same source.",
    "birth_dates": "One row per birth date a list gives for an entity (several for a person with alternative "
    "dates); an unreadable value is kept raw with nulls and audited (parse_audit rule birth_date_unparsed).",
    "parse_audit": "One row per (file, rule, field, value) a parser of any source could not place, with a count.",
}
COLUMN_DOCS: dict[str, str] = {
    "designation_id": "Unique id of the listing: <source>:<list>:<record id>.",
    "authority": "Sanctioning authority: us_ofac, un_sc, ...",
    "list": "List within the authority: SDN, CONS, SSI, UN, ...",
    "source_record_id": "The record's id in the source (OFAC uid / ent_num, UN DATAID).",
    "entity_key": "The entity within its source: <source>:<record id>.",
    "entity_type": "person, organization, vessel, aircraft or other.",
    "primary_name": "Primary name as the source writes it (OFAC: 'LAST, First' for people).",
    "programs": "Programme tags of the listing (OFAC programme tags, UN regime).",
    "listed_on": "Official listing date where the layout has one (OFAC advanced XML, UN); else null.",
    "reference_number": "Authority reference (UN reference number such as KPi.033).",
    "remarks": "Free-text remarks of the record.",
    "name": "A name of the entity.",
    "name_type": "primary, aka, fka, nka or original_script.",
    "quality": "strong or weak (low-quality alias), where the source says.",
    "link_type": "nationality, citizenship, registration, flag, address, birth or other.",
    "country_iso2": "ISO 3166-1 alpha-2 code from the project's crosswalk; null when the raw value cannot be mapped.",
    "region": "Region within the country where the source names one (crimea, dpr, lpr, gaza...).",
    "raw_value": "The country value exactly as the source gives it.",
    "country_status": "mapped (an ISO code), non_country (a value the crosswalk deliberately maps to no country: "
    "'na', USSR, undetermined...) or unknown (a value the crosswalk does not know).",
    "id_type": "imo, passport, national_id, registration, tax_id, swift, un_reference, crypto_wallet, ...",
    "id_value": "The identifier.",
    "raw_type": "The source's own label for the identifier type.",
    "related_entity_key": "The other entity (same source), when the source identifies it.",
    "related_name": "The other entity's name (all the OFAC CSV 'Linked To:' remark gives).",
    "relation_type": "owned_by, associate_of, family_of, acting_for, leader_of, supports, linked_to or other.",
    "raw_relation": "The source's own label for the relation.",
    "rule": "What the parser could not place: unknown_field, unknown_value, unmapped_country, orphan_row, ...",
    "field": "The field (element, column or remark kind) concerned.",
    "value": "The value concerned, when there is one.",
    "example_record": "One record id where it happened.",
    "occurrences": "How many times it happened in the file.",
    "raw_sha256": "sha256 of the raw file the row was parsed from (lake/raw/manifest.jsonl).",
    "raw_file": "The raw file's name as published.",
    "source": "Source id (hive partition): us_ofac_sdn, un_sc, ...",
    "snapshot_date": "Date of the source snapshot (hive partition): the list's publication date; for GDELT the "
    "latest DATEADDED, for UN votes the latest vote, for articles the latest publication date.",
}

#: Descriptions of a column that means something else in one table than in COLUMN_DOCS.
TABLE_COLUMN_DOCS: dict[str, dict[str, str]] = {
    "birth_dates": {
        "birth_date": "The date of birth when the source gives one exact day; null when only part of it is known "
        "(a year, a month, a range) or the source calls it approximate.",
        "year_from": "Earliest birth year the value allows: the year itself, the start of a range ('1951 to 1953', UN "
        "BETWEEN, EU yearRangeFrom), or the year minus 1 for a single year called approximate ('circa 1970' -> "
        "1969); null when no year can be read.",
        "year_to": "Latest birth year the value allows (equal to year_from for a single year; 'circa 1970' -> 1971); "
        "null when no year can be read.",
        "month": "Month of birth (1-12) when the source gives it; else null.",
        "day": "Day of the month of birth (1-31) when the source gives it; else null.",
        "raw_value": "The birth date exactly as the source writes it (structured layouts: their fields, 'name=value' "
        "joined by '; ').",
        "approximate": "True when the source calls the date approximate (circa, APPROXIMATELY, circa=\"true\"); "
        "null when the value could not be read.",
    },
}

#: Columns of every staged table (lineage, and the partitions the lake adds), described in COLUMN_DOCS.
SHARED_COLUMNS = ("raw_sha256", "raw_file", "source", "snapshot_date")
COLUMNS_DOC_FILE = "columns_doc.yml"


@dataclass(frozen=True)
class TableDoc:
    """What a staged table holds, in one line, and the description of each of its columns."""

    description: str
    columns: dict[str, str]
    #: Where the descriptions are kept (for error messages and the data dictionary).
    origin: str


@functools.cache
def staged_docs() -> dict[str, TableDoc]:
    """The descriptions of every staged table: the sanctions tables from ``TABLE_DOCS`` and
    ``COLUMN_DOCS``, the other sources' tables from their ``columns_doc.yml``."""
    shared = {c: COLUMN_DOCS[c] for c in SHARED_COLUMNS}
    docs = {
        table: TableDoc(TABLE_DOCS.get(table, ""),
                        {**{f.name: TABLE_COLUMN_DOCS.get(table, {}).get(f.name) or COLUMN_DOCS.get(f.name, "")
                            for f in schema}, **shared},
                        "pipeline/staged.py")
        for table, schema in SCHEMAS.items()
    }
    sources = Path(__file__).resolve().parent / "sources"
    for path in sorted(sources.glob(f"*/{COLUMNS_DOC_FILE}")):
        origin = path.relative_to(sources.parent.parent).as_posix()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{origin}: not valid YAML: {exc}") from exc
        tables = data.get("tables")
        if not isinstance(tables, dict):
            raise ValueError(f"{origin}: expected a mapping 'tables: {{<table>: {{description, columns}}}}'")
        for table, entry in tables.items():
            if table in docs:
                raise ValueError(f"{origin}: table '{table}' is already described in {docs[table].origin}")
            columns = (entry or {}).get("columns")
            if not isinstance(columns, dict):
                raise ValueError(f"{origin}: table '{table}' has no 'columns' mapping")
            docs[table] = TableDoc(" ".join(str((entry or {}).get("description") or "").split()),
                                   {**shared, **{c: " ".join(str(t or "").split()) for c, t in columns.items()}},
                                   origin)
    return docs


def column_doc(table: str, column: str) -> str:
    """The description of one column of a staged table (``""`` when it has none)."""
    doc = staged_docs().get(table)
    return doc.columns.get(column, "") if doc else ""


_EPOCH = date(1970, 1, 1).toordinal()
#: Arrow integer types -> the ``array`` typecode of the same width.
_INT_CODES = {pa.int8(): "b", pa.int16(): "h", pa.int32(): "i", pa.int64(): "q"}
_StringBuilder = getattr(_palib, "StringBuilder", None)


class _Fallback(Exception):
    """A column holds a value the direct builders do not take: :func:`pa.array` converts it."""


def _validity(values: list) -> pa.Buffer | None:
    """The validity bitmap of ``values`` (None for a column without nulls)."""
    if None not in values:
        return None
    bits = bytearray((len(values) + 7) // 8)
    for i, value in enumerate(values):
        if value is not None:
            bits[i >> 3] |= 1 << (i & 7)
    return pa.py_buffer(bits)


def _strings(values: list) -> pa.Array:
    builder = _StringBuilder()
    append = builder.append
    for value in values:
        if value is not None and type(value) is not str:
            raise _Fallback
        append(value)
    return builder.finish()


def _direct_array(values: list, typ: pa.DataType) -> pa.Array:
    """``pa.array(values, type=typ)`` for the staged tables' types, built without ``pa.array``: on a
    Python list it imports pandas (``_is_array_like``), a fixed cost of about 0.3 s CPU per parse.
    Raises :class:`_Fallback` for any value it does not take exactly (the caller then uses ``pa.array``)."""
    n = len(values)
    if typ == pa.string():
        return _strings(values)
    code = _INT_CODES.get(typ)
    if code is not None:
        if any(v is not None and type(v) is not int for v in values):
            raise _Fallback
        try:
            data = _typed_array(code, [0 if v is None else v for v in values])
        except OverflowError:
            raise _Fallback from None
        return pa.Array.from_buffers(typ, n, [_validity(values), pa.py_buffer(data)])
    if typ == pa.date32():
        if any(v is not None and type(v) is not date for v in values):
            raise _Fallback
        data = _typed_array("i", [0 if v is None else v.toordinal() - _EPOCH for v in values])
        return pa.Array.from_buffers(typ, n, [_validity(values), pa.py_buffer(data)])
    if typ == pa.bool_():
        if any(v is not None and type(v) is not bool for v in values):
            raise _Fallback
        bits = bytearray((n + 7) // 8)
        for i, value in enumerate(values):
            if value:
                bits[i >> 3] |= 1 << (i & 7)
        return pa.Array.from_buffers(typ, n, [_validity(values), pa.py_buffer(bits)])
    if pa.types.is_list(typ) and typ.value_type == pa.string():
        offsets = _typed_array("i", [0])
        flat: list = []
        for value in values:
            if type(value) is not list:  # a null list, a tuple...: pa.array decides
                raise _Fallback
            flat.extend(value)
            offsets.append(len(flat))
        items = _strings(flat)
        offsets_array = pa.Array.from_buffers(pa.int32(), n + 1, [None, pa.py_buffer(offsets)])
        return pa.ListArray.from_arrays(offsets_array, items, type=typ)
    raise _Fallback


def column_array(values: list, typ: pa.DataType) -> pa.Array:
    """The Arrow array of one column's Python values, as ``pa.array(values, type=typ)`` makes it."""
    if _StringBuilder is not None:
        try:
            return _direct_array(values, typ)
        except _Fallback:
            pass
    return pa.array(values, type=typ)


def rows_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """``pa.Table.from_pylist(rows, schema=schema)`` (a missing key is a null), without importing pandas."""
    return pa.Table.from_arrays([column_array([row.get(f.name) for row in rows], f.type) for f in schema],
                                schema=schema)


def entity_key(source: str, record_id: str) -> str:
    """The key of one entity within one source: ``us_ofac_sdn:36``."""
    return f"{source}:{record_id}"


def bundle_id(sha256s: Iterable[str]) -> str:
    """Short id for a set of raw files parsed together (e.g. the four OFAC CSV files)."""
    joined = ",".join(sorted(sha256s))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


@dataclass
class StagedWriter:
    """Buffers rows per table and streams them to Parquet row groups, so memory stays bounded.

    Parts are written in a scratch folder and moved into ``out_dir`` by :meth:`commit`; on any
    error :meth:`abort` removes them, so a failed parse leaves no partial partition behind.
    """

    out_dir: Path
    source: str
    bundle: str
    #: The tables this source writes (every one gets a part, empty or not) and their schemas.
    schemas: dict[str, pa.Schema] = field(default_factory=lambda: dict(SCHEMAS))
    batch_rows: int = 20_000
    snapshot_date: date | None = None
    counts: Counter = field(default_factory=Counter)
    _buffers: dict[str, list[dict]] = field(default_factory=dict)
    _writers: dict[str, pq.ParquetWriter] = field(default_factory=dict)
    _tmp: Path | None = None
    _audit: Counter = field(default_factory=Counter)
    _audit_example: dict = field(default_factory=dict)
    _lineage: dict[str, str] = field(default_factory=dict)
    #: per table, (first buffered row, lineage) for each run of rows stamped alike: the lineage is
    #: not copied into every row dict, the flush builds its columns from these runs
    _segments: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".parse-{self.source}-", dir=self.out_dir))

    def set_lineage(self, raw_sha256: str, raw_file: str) -> None:
        """Lineage stamped on every following row: the raw file the rows come from."""
        self._lineage = {"raw_sha256": raw_sha256, "raw_file": raw_file}

    def add(self, table: str, row: dict) -> None:
        buf = self._buffers.get(table)
        if buf is None:
            buf = self._buffers[table] = []
            self._segments[table] = []
        segments = self._segments[table]
        if not segments or segments[-1][1] is not self._lineage:
            segments.append((len(buf), self._lineage))  # the lineage of the rows from here on
        buf.append(row)
        self.counts[table] += 1
        if len(buf) >= self.batch_rows:
            self._flush(table)

    def write_arrow(self, table: str, rows: pa.Table) -> None:
        """Append a whole Arrow table (bulk sources: GDELT, UN votes...), cast to the schema."""
        self._flush(table)
        schema = self.schemas[table]
        batch = rows.select(schema.names).cast(schema)
        writer = self._writer(table)
        writer.write_table(batch)
        self.counts[table] += batch.num_rows

    def audit(self, rule: str, field_name: str, value: str | None, record: str | None, count: int = 1) -> None:
        """Record something the parser met and could not place (an unknown field, an unmapped
        country value...). Aggregated per (rule, field, value) with a count and an example."""
        key = (rule, field_name, value, self._lineage.get("raw_sha256"), self._lineage.get("raw_file"))
        self._audit[key] += count
        self._audit_example.setdefault(key, record)

    @property
    def audit_counts(self) -> Counter:
        return self._audit

    def _flush(self, table: str) -> None:
        rows = self._buffers.get(table)
        if not rows:
            return
        schema = self.schemas[table]
        segments = self._segments.get(table) or [(0, {})]
        bounds = [start for start, _ in segments[1:]] + [len(rows)]
        columns = []
        for fld in schema:
            name = fld.name
            if any(name in lineage for _, lineage in segments):
                values: list = []
                for (start, lineage), end in zip(segments, bounds, strict=True):
                    if name in lineage:  # the lineage wins over a row's own value, as {**row, **lineage}
                        values.extend([lineage[name]] * (end - start))
                    else:
                        values.extend(row.get(name) for row in rows[start:end])
            else:
                values = [row.get(name) for row in rows]
            columns.append(column_array(values, fld.type))
        self._writer(table).write_table(pa.Table.from_arrays(columns, schema=schema))
        rows.clear()
        self._segments[table] = []

    def _writer(self, table: str) -> pq.ParquetWriter:
        writer = self._writers.get(table)
        if writer is None:
            assert self._tmp is not None
            writer = pq.ParquetWriter(self._tmp / f"{table}.parquet", self.schemas[table], compression="zstd")
            self._writers[table] = writer
        return writer

    def commit(self) -> dict[str, int]:
        """Write the last rows and move every table's part into its partition."""
        if self.snapshot_date is None:
            raise ValueError(f"[{self.source}] no snapshot date was set by the parser")
        audit_rows = self._buffers.setdefault("parse_audit", [])
        self._segments.setdefault("parse_audit", []).append((len(audit_rows), {}))  # rows carry their own lineage
        for (rule, fname, value, sha, rawf), n in sorted(self._audit.items(), key=str):
            audit_rows.append(
                {
                    "rule": rule,
                    "field": fname,
                    "value": value,
                    "example_record": self._audit_example[(rule, fname, value, sha, rawf)],
                    "occurrences": n,
                    "raw_sha256": sha or "",
                    "raw_file": rawf or "",
                }
            )
        self.counts["parse_audit"] = len(self._audit)
        for table in self.schemas:
            self._buffers.setdefault(table, [])
            self._flush(table)
            self._writer(table).close()  # an empty part too: every table exists for every snapshot
        assert self._tmp is not None
        for table in self.schemas:
            part_dir = partition_dir(self.out_dir, table, self.source, self.snapshot_date)
            part_dir.mkdir(parents=True, exist_ok=True)
            os.replace(self._tmp / f"{table}.parquet", part_dir / f"part-{self.bundle}.parquet")
        shutil.rmtree(self._tmp, ignore_errors=True)
        return {t: self.counts[t] for t in self.schemas}

    def abort(self) -> None:
        for writer in self._writers.values():
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - best effort cleanup
                pass
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


def partition_dir(root: Path, table: str, source: str, snapshot_date: date) -> Path:
    return root / table / f"source={source}" / f"snapshot_date={snapshot_date.isoformat()}"
