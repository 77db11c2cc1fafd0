"""Unique targets as FollowTheMoney JSON lines, so OpenSanctions' tools (and anything reading FtM) can
read them: one entity per target (``Person``, ``Organization``, ``LegalEntity``, ``Vessel``,
``Airplane``) holding every name, country, birth date and identifier its current designations give,
and one ``Sanction`` per designation (``entity`` = the target, with authority, programmes, listing
date, the source's own record id and UN reference).

``pipeline match --export-ftm FILE`` writes it from the published database (``mart_targets`` and
the ``lake`` tables of the current snapshots); :func:`validate` reads a file back through
followthemoney's model and fails on anything it would not load.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

import duckdb

SCHEMA = {"person": "Person", "organization": "Organization", "other": "LegalEntity", "vessel": "Vessel",
          "aircraft": "Airplane"}
#: Staged identifier types -> FtM property (added only where the schema has the property).
ID_PROPS = {"imo": "imoNumber", "passport": "passportNumber", "national_id": "idNumber",
            "registration": "registrationNumber", "tax_id": "taxNumber", "swift": "swiftBic",
            "aircraft_msn": "serialNumber", "aircraft_tail": "registrationNumber"}
#: Staged link types -> FtM property.
LINK_PROPS = {"nationality": "nationality", "citizenship": "citizenship", "registration": "jurisdiction",
              "flag": "flag", "address": "country", "birth": "birthPlace", "other": "country"}


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(_rows(con, f"select 1 from duckdb_tables() where schema_name = '{schema}' and table_name = '{table}'"))


def export(db_path: Path, out: Path) -> dict[str, int]:
    """Write the FtM JSON lines of the publication ``db_path`` to ``out``; returns counts by schema."""
    from followthemoney import model

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        designations = _rows(con, """
            select t.target_id, t.designation_id, t.source, t.source_record_id, t.entity_type, t.primary_name,
                   t.authority, t.snapshot_date, d.programs, d.listed_on, d.reference_number
            from mart_targets t left join mart_designations d using (designation_id)
            order by t.target_id, t.designation_id""")
        current = """(select distinct source, snapshot_date, source_record_id, target_id from mart_targets) t"""
        names = _rows(con, f"select t.target_id, n.name from {current} join lake.names n "
                           "using (source, snapshot_date, source_record_id) order by 1, 2")
        ids = _rows(con, f"select t.target_id, i.id_type, i.id_value from {current} join lake.identifiers i "
                         "using (source, snapshot_date, source_record_id) order by 1, 2, 3")
        links = _rows(con, f"select t.target_id, c.link_type, lower(c.country_iso2) from {current} "
                           "join lake.country_links c using (source, snapshot_date, source_record_id) "
                           "where c.country_iso2 is not null order by 1, 2, 3")
        births = _rows(con, "select t.target_id, coalesce(cast(b.birth_date as varchar), cast(b.year_from as varchar)) "
                            f"from {current} join lake.birth_dates b using (source, snapshot_date, source_record_id) "
                            "where b.year_from = b.year_to or b.birth_date is not null order by 1, 2"
                       ) if _has(con, "lake", "birth_dates") else []
    finally:
        con.close()
    by_target: dict[str, list[tuple]] = defaultdict(list)
    for row in designations:
        by_target[row[0]].append(row)
    extra: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for tid, name in names:
        extra[tid].append(("alias", name))
    for tid, id_type, value in ids:
        if id_type in ID_PROPS:
            extra[tid].append((ID_PROPS[id_type], f"IMO{value}" if id_type == "imo" else value))
    for tid, link_type, iso in links:
        extra[tid].append((LINK_PROPS.get(link_type, "country"), iso))
    for tid, value in births:
        extra[tid].append(("birthDate", value))
    counts: dict[str, int] = defaultdict(int)
    tmp = out.with_name(f".{out.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for tid, rows in by_target.items():
            types = {r[4] for r in rows}
            schema = SCHEMA.get(types.pop(), "LegalEntity") if len(types) == 1 else "LegalEntity"
            entity = model.make_entity(schema)
            entity.id = tid
            primary = sorted({r[5] for r in rows if r[5]})
            entity.add("name", primary, quiet=True)
            entity.add("topics", "sanction", quiet=True)
            for prop, value in extra.get(tid, ()):
                if prop == "alias" and value in primary:
                    continue
                if entity.schema.get(prop) is not None:
                    entity.add(prop, value, quiet=True)
            fh.write(json.dumps(entity.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
            counts[schema] += 1
            for (_, did, source, record_id, _, _, authority, _, programs, listed_on, reference) in rows:
                sanction = model.make_entity("Sanction")
                sanction.id = "S-" + hashlib.sha1(did.encode()).hexdigest()[:16]
                sanction.add("entity", tid)
                sanction.add("authority", authority, quiet=True)
                sanction.add("authorityId", record_id, quiet=True)
                sanction.add("recordId", did, quiet=True)
                sanction.add("program", list(programs or []), quiet=True)
                if listed_on is not None:
                    sanction.add("listingDate", str(listed_on), quiet=True)
                if source == "un_sc" and reference:
                    sanction.add("unscId", reference, quiet=True)
                fh.write(json.dumps(sanction.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
                counts["Sanction"] += 1
    tmp.replace(out)
    return dict(counts)


def validate(path: Path) -> dict[str, int]:
    """Load every line of an FtM JSON lines file through followthemoney's model; ValueError naming the
    line on anything it does not accept (unknown schema, a property the schema lacks, a value its
    type does not keep, a Sanction pointing at an entity the file lacks)."""
    from followthemoney import model

    counts: dict[str, int] = defaultdict(int)
    ids: set[str] = set()
    pointers: list[tuple[int, str]] = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            data = json.loads(line)
            schema = model.get(data.get("schema"))
            if schema is None:
                raise ValueError(f"{path}, line {n}: unknown schema {data.get('schema')!r}")
            for prop in data.get("properties", {}):
                if schema.get(prop) is None:
                    raise ValueError(f"{path}, line {n}: {schema.name} has no property {prop!r}")
            proxy = model.get_proxy(data, cleaned=False)
            if not proxy.id:
                raise ValueError(f"{path}, line {n}: entity without an id")
            for prop, values in data.get("properties", {}).items():
                if sorted(proxy.get(prop)) != sorted(values):
                    raise ValueError(f"{path}, line {n}: {schema.name}.{prop} does not keep {values!r}")
            ids.add(proxy.id)
            pointers.extend((n, v) for v in proxy.get("entity", quiet=True))
            counts[schema.name] += 1
    for n, ref in pointers:
        if ref not in ids:
            raise ValueError(f"{path}, line {n}: Sanction.entity {ref!r} is not in the file")
    return dict(counts)
