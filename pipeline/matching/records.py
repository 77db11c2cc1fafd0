"""The designations to match, read from the staged lake: one :class:`Record` per designation id.

A designation id (``<source>:<list>:<record id>``) names one listing across snapshots, so a record
pools what every snapshot in the lake says of it (names, identifiers, countries, birth dates):
matching every snapshot at once is what keeps a target's id when a source's own key changes
between two snapshots (the older listing and the newer one fall in one cluster).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

#: Staged tables read (``birth_dates`` may be absent: no birth-date evidence then).
TABLES = ("designations", "names", "identifiers", "country_links", "birth_dates")
_PARTS = "source=*/snapshot_date=*/*.parquet"
#: A UN Security Council reference number (QDi.430, KPe.012, SDi.005).
UN_REFERENCE = re.compile(r"^\s*(?:UN\s*(?:Ref(?:erence)?\.?\s*(?:Number|No\.?)?)?\s*[:.]?\s*)?"
                          r"([A-Z]{2}[ie])\.\s?(\d{1,4})\.?\s*$", re.I)


@dataclass
class Record:
    """One designation, pooled over every snapshot that holds it."""

    designation_id: str
    source: str
    source_record_id: str
    list_code: str
    authority: str
    entity_key: str
    entity_type: str
    primary_name: str
    first_snapshot: str
    last_snapshot: str
    reference_number: str | None = None
    remarks: str | None = None
    names: list[tuple[str, str | None]] = field(default_factory=list)  # (name, quality)
    identifiers: list[tuple[str, str]] = field(default_factory=list)  # (id_type, id_value)
    countries: dict[str, set[str]] = field(default_factory=dict)  # link_type -> ISO codes
    births: list[tuple[int | None, int | None, str | None]] = field(default_factory=list)  # (from, to, day)

    def ids(self, id_type: str) -> set[str]:
        return {v for t, v in self.identifiers if t == id_type}


def _view(con: duckdb.DuckDBPyConnection, staged: Path, table: str) -> bool:
    folder = staged / table
    if not any(folder.glob(_PARTS)):
        return False
    glob = str(folder / _PARTS).replace("'", "''")
    con.execute(f"create or replace view {table} as select * from read_parquet('{glob}', hive_partitioning = true, "
                "union_by_name = true, hive_types = {'source': varchar, 'snapshot_date': date})")
    return True


def load_records(staged: Path, sources: tuple[str, ...] | None = None) -> list[Record]:
    """Every sanctions designation of the staged lake ``staged`` (``<table>/source=/snapshot_date=``),
    one record per designation id, in designation id order."""
    con = duckdb.connect()
    try:
        present = {t for t in TABLES if _view(con, staged, t)}
        if "designations" not in present:
            return []
        where = ""
        params: list = []
        if sources:
            where = "where source in (select unnest(?))"
            params = [list(sources)]
        # a column older parts lack (added since) reads as null
        columns = {c[0] for c in con.execute("describe designations").fetchall()}
        reference = "reference_number" if "reference_number" in columns else "null"
        remarks = "remarks" if "remarks" in columns else "null"
        rows = con.execute(f"""
            select designation_id, source, source_record_id, "list", authority, entity_key, entity_type,
                   arg_max(primary_name, snapshot_date), cast(min(snapshot_date) as varchar),
                   cast(max(snapshot_date) as varchar), arg_max({reference}, snapshot_date),
                   arg_max({remarks}, snapshot_date)
            from (select * from designations {where})
            group by all order by designation_id""", params).fetchall()
        records = {r[0]: Record(*r[:7], primary_name=r[7], first_snapshot=r[8], last_snapshot=r[9],
                                reference_number=r[10], remarks=r[11]) for r in rows}
        # Child rows name their designation by (source, snapshot, source_record_id) or entity_key.
        keyed = """(select distinct designation_id, source, snapshot_date, source_record_id
                    from designations {where}) d"""
        keyed = keyed.format(where=where)
        if "names" in present:
            q_col = "n.quality" if "quality" in {c[0] for c in con.execute("describe names").fetchall()} else "null"
            for did, name, quality in con.execute(f"""
                    select distinct d.designation_id, n.name, {q_col} from {keyed}
                    join names n using (source, snapshot_date, source_record_id)
                    where n.name is not null""", params).fetchall():
                records[did].names.append((name, quality))
        if "identifiers" in present:
            for did, id_type, value in con.execute(f"""
                    select distinct d.designation_id, i.id_type, i.id_value from {keyed}
                    join identifiers i using (source, snapshot_date, source_record_id)
                    where i.id_value is not null""", params).fetchall():
                records[did].identifiers.append((id_type, value))
        if "country_links" in present:
            for did, link_type, iso in con.execute(f"""
                    select distinct d.designation_id, c.link_type, c.country_iso2 from {keyed}
                    join country_links c using (source, snapshot_date, source_record_id)
                    where c.country_iso2 is not null""", params).fetchall():
                records[did].countries.setdefault(link_type, set()).add(iso)
        if "birth_dates" in present:
            for did, year_from, year_to, day in con.execute(f"""
                    select distinct d.designation_id, b.year_from, b.year_to, cast(b.birth_date as varchar)
                    from {keyed} join birth_dates b using (source, snapshot_date, source_record_id)
                    where b.year_from is not null or b.birth_date is not null""", params).fetchall():
                records[did].births.append((year_from, year_to, day))
    finally:
        con.close()
    for record in records.values():
        record.names.sort(key=lambda n: (n[0], n[1] or ""))
        record.identifiers.sort()
        record.births.sort(key=lambda b: (b[0] or 0, b[1] or 0, b[2] or ""))
        if not record.births:
            record.births = _births_from_identifiers(record)
    return list(records.values())


_YEAR = re.compile(r"^(\d{4})(?:-(\d{2})-(\d{2}))?$")


def _births_from_identifiers(record: Record) -> list[tuple[int | None, int | None, str | None]]:
    """Before the staged ``birth_dates`` table, a few parsers wrote birth dates as identifiers."""
    if record.entity_type != "person":
        return []
    out = []
    for value in sorted(record.ids("birth_date")):
        m = _YEAR.match(value.strip())
        if m:
            year = int(m.group(1))
            out.append((year, year, value.strip() if m.group(2) else None))
    return out
