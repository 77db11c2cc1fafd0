"""OFAC advanced XML (``SDN_ADVANCED.XML`` / ``CONS_ADVANCED.XML``) -> staged tables.

The layout is normalised: a party's country links point into ``Locations`` (earlier in the
file), its identity documents sit in ``IDRegDocuments`` (earlier, keyed by identity), and its
listing date and programmes sit in ``SanctionsEntries`` (later, keyed by profile). To keep memory
flat whatever the file size, every section is streamed once and the cross-references are written
to a scratch DuckDB database, then joined there (out of core) at the end. Only the reference
vocabularies (``ReferenceValueSets``: countries, feature types...) are held in memory.
"""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.birth_dates import BirthDate, RecordBirthDates, from_interval
from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.us_ofac_sdn.lists import consolidated_list, list_codes
from pipeline.sources.us_ofac_sdn.vocab import feature_rule, id_types, known_elements, mapping, read_yaml
from pipeline.staged import rows_table
from pipeline.xmlsafe import (
    children_by_name,
    descendants_named,
    expect_root,
    first_child,
    iter_records,
    local,
    text,
)

ROOT = "Sanctions"
_NONE = (None,)
LAYOUT = "advanced_xml"
ALIAS_TYPES = mapping("alias_types.yml", LAYOUT)
PARTY_TYPES = mapping("entity_types.yml", LAYOUT)
ID_DOC_TYPES = id_types(LAYOUT)
RELATION_TYPES = read_yaml("relation_types.yml")
LIST_CODES = list_codes(LAYOUT)
KNOWN_PARTY_TAGS = known_elements(LAYOUT)

# Scratch tables: name -> Arrow schema.
SPILL = {
    "loc": pa.schema([("location_id", pa.int64()), ("country_id", pa.int64()), ("area_code_id", pa.int64())]),
    "feat": pa.schema([("fixed_ref", pa.string()), ("link_type", pa.string()), ("location_id", pa.int64())]),
    "idreg": pa.schema([("identity_id", pa.int64()), ("doc_type", pa.string()), ("number", pa.string()),
                        ("country_id", pa.int64())]),
    "ident": pa.schema([("identity_id", pa.int64()), ("fixed_ref", pa.string())]),
    "party": pa.schema([("profile_id", pa.int64()), ("fixed_ref", pa.string()), ("entity_type", pa.string()),
                        ("primary_name", pa.string()), ("remarks", pa.string())]),
    "entry": pa.schema([("entry_id", pa.int64()), ("profile_id", pa.int64()), ("list_name", pa.string()),
                        ("listed_on", pa.date32()), ("programs", pa.list_(pa.string()))]),
    "rel": pa.schema([("from_profile", pa.int64()), ("to_profile", pa.int64()), ("relation", pa.string())]),
}


class _Spill:
    """Append-only scratch tables in an on-disk DuckDB database, filled in Arrow batches."""

    def __init__(self, folder: Path, batch_rows: int = 20_000) -> None:
        self.con = duckdb.connect(str(folder / "spill.duckdb"))
        self.con.execute("set preserve_insertion_order = false")
        self.con.execute("set memory_limit = '256MB'")
        self.batch_rows = batch_rows
        self.buffers: dict[str, list[dict]] = defaultdict(list)
        for name, schema in SPILL.items():
            cols = ", ".join(f'"{f.name}" {_duck_type(f.type)}' for f in schema)
            self.con.execute(f"create table {name} ({cols})")

    def add(self, table: str, row: dict) -> None:
        buf = self.buffers[table]
        buf.append(row)
        if len(buf) >= self.batch_rows:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self.buffers):
            rows = self.buffers[name]
            if rows:
                batch = rows_table(rows, SPILL[name])  # noqa: F841 - scanned by DuckDB
                self.con.execute(f"insert into {name} select * from batch")
                rows.clear()

    def query(self, sql: str, chunk: int = 10_000):
        """Yield result rows as dicts, fetched in chunks (the result is never held whole)."""
        self.flush()
        cur = self.con.execute(sql)
        cols = [d[0] for d in cur.description]
        while rows := cur.fetchmany(chunk):
            for row in rows:
                yield dict(zip(cols, row, strict=True))

    def close(self) -> None:
        self.con.close()


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _duck_type(t: pa.DataType) -> str:
    if pa.types.is_int64(t):
        return "bigint"
    if pa.types.is_date32(t):
        return "date"
    if pa.types.is_list(t):
        return "varchar[]"
    return "varchar"


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def _ymd(elem: ET.Element | None) -> date | None:
    if elem is None:
        return None
    parts: dict[str, ET.Element] = {}
    for child in elem:  # the first Year, Month and Day child, as find("{*}Year") ...
        parts.setdefault(local(child.tag), child)
    try:
        return date(int(text(parts.get("Year"))), int(text(parts.get("Month")) or 1),
                    int(text(parts.get("Day")) or 1))
    except (TypeError, ValueError):
        return None


def _date_period(period: ET.Element) -> tuple[str, BirthDate | None]:
    """A ``DatePeriod`` (a birth date): the days from ``Start/From`` to ``End/To``, approximate when
    ``Start`` or ``End`` says so; and the raw value, its fields written out."""
    def iso(day: date | None) -> str:
        return day.isoformat() if day else "?"

    sides = children_by_name(period)
    start, end = (sides.get("Start") or _NONE)[0], (sides.get("End") or _NONE)[0]

    def bound(side: str, name: str) -> date | None:
        # find("{*}Start/{*}From"): the first From child of any Start child, in document order
        return _ymd(next((point for outer in sides.get(side, ()) for point in outer
                          if local(point.tag) == name), None))

    points = {"start_from": bound("Start", "From"), "start_to": bound("Start", "To"),
              "end_from": bound("End", "From"), "end_to": bound("End", "To")}
    approximate = any(e is not None and e.get("Approximate") == "true" for e in (start, end))
    raw = (f"Start={iso(points['start_from'])}..{iso(points['start_to'])}; "
           f"End={iso(points['end_from'])}..{iso(points['end_to'])}" + ("; Approximate=true" if approximate else ""))
    first = points["start_from"] or points["start_to"]
    last = points["end_to"] or points["end_from"] or first
    if first is None or last is None:
        return raw, None
    return raw, from_interval(first, last, approximate)


class _Refs:
    """The ReferenceValueSets vocabularies, id -> value (bounded: they do not grow with parties)."""

    def __init__(self) -> None:
        self.values: dict[str, dict[int, str]] = defaultdict(dict)
        self.country_iso2: dict[int, str | None] = {}
        self.area_country: dict[int, int | None] = {}
        self.party_subtype: dict[int, tuple[int, str]] = {}

    def load(self, elem: ET.Element) -> None:
        for value_set in elem:
            for item in value_set:
                tag = local(item.tag)
                ident = _int(item.get("ID"))
                if ident is None:
                    continue
                self.values[tag][ident] = (item.text or "").strip()
                if tag == "Country":
                    self.country_iso2[ident] = item.get("ISO2")
                elif tag == "AreaCode":
                    self.area_country[ident] = _int(item.get("CountryID"))
                elif tag == "PartySubType":
                    self.party_subtype[ident] = (_int(item.get("PartyTypeID")) or 0, (item.text or "").strip())

    def name(self, kind: str, ident: str | int | None) -> str | None:
        return self.values[kind].get(int(ident)) if ident not in (None, "") else None


def parse_advanced_xml(f: InputFile, ctx: ParseContext) -> None:
    expect_root(f.path, ctx.source, (ROOT,), ctx.max_bytes, name=f.name)
    refs = _Refs()
    with tempfile.TemporaryDirectory(prefix="ofac-adv-") as tmp:
        spill = _Spill(Path(tmp))
        try:
            record_tags = {"DateOfIssue", "ReferenceValueSets", "Location", "IDRegDocument",
                           "DistinctParty", "ProfileRelationship", "SanctionsEntry"}
            for _parents, elem in iter_records(f.path, ctx.source, record_tags, lambda: ctx.record, name=f.name):
                tag = local(elem.tag)
                if tag == "DateOfIssue":
                    issued = _ymd(elem)
                    if issued is None:
                        raise SourceError(ctx.source, f.name, "DateOfIssue", "no valid issue date")
                    ctx.set_snapshot(issued)
                elif tag == "ReferenceValueSets":
                    refs.load(elem)
                elif tag == "Location":
                    _location(elem, spill)
                elif tag == "IDRegDocument":
                    _id_document(elem, refs, spill)
                elif tag == "DistinctParty":
                    _party(elem, refs, spill, ctx)
                elif tag == "ProfileRelationship":
                    spill.add("rel", {"from_profile": _int(elem.get("From-ProfileID")),
                                      "to_profile": _int(elem.get("To-ProfileID")),
                                      "relation": refs.name("RelationType", elem.get("RelationTypeID"))})
                elif tag == "SanctionsEntry":
                    _entry(elem, refs, spill, ctx)
            _finalize(spill, refs, ctx, f)
        finally:
            spill.close()


def _location(elem: ET.Element, spill: _Spill) -> None:
    country = first_child(elem, "LocationCountry")
    area = first_child(elem, "LocationAreaCode")
    spill.add("loc", {
        "location_id": _int(elem.get("ID")),
        "country_id": _int(country.get("CountryID")) if country is not None else None,
        "area_code_id": _int(area.get("AreaCodeID")) if area is not None else None,
    })


def _id_document(elem: ET.Element, refs: _Refs, spill: _Spill) -> None:
    number = text(first_child(elem, "IDRegistrationNo"))
    if not number:
        return
    spill.add("idreg", {
        "identity_id": _int(elem.get("IdentityID")),
        "doc_type": refs.name("IDRegDocType", elem.get("IDRegDocTypeID")) or "Unknown",
        "number": number,
        "country_id": _int(elem.get("IssuedBy-CountryID")),
    })


def _display_name(alias: ET.Element, group_types: dict[int, str]) -> tuple[str, list[str]]:
    """The alias's Latin-script name in OFAC's display form ('LAST, First' for people) and any
    names in other scripts."""
    latin, others = "", []
    for doc_name in alias:
        if local(doc_name.tag) != "DocumentedName":
            continue
        parts = defaultdict(list)
        script_latin = True
        for value in descendants_named(doc_name, "NamePartValue"):
            part = text(value)
            if not part:
                continue
            script_latin = script_latin and value.get("ScriptID") in (None, "215")
            parts[group_types.get(_int(value.get("NamePartGroupID")) or 0, "")].append(part)
        last = " ".join(parts.pop("Last Name", []))
        rest = " ".join(p for key in ("First Name", "Middle Name", "Patronymic", "Matronymic")
                        for p in parts.pop(key, []))
        others_parts = " ".join(p for ps in parts.values() for p in ps)
        full = f"{last}, {' '.join(x for x in (rest, others_parts) if x)}" if last and (rest or others_parts) \
            else " ".join(x for x in (last, rest, others_parts) if x)
        if not full:
            continue
        if script_latin and not latin:
            latin = full
        else:
            others.append(full)
    return latin, others


def _party(elem: ET.Element, refs: _Refs, spill: _Spill, ctx: ParseContext) -> None:
    fixed_ref = elem.get("FixedRef")
    ctx.record = fixed_ref
    ctx.tick()
    for node in elem.iter():
        name = local(node.tag)
        if name not in KNOWN_PARTY_TAGS:
            ctx.audit("unknown_field", name, None)
    party = children_by_name(elem)
    profile = (party.get("Profile") or _NONE)[0]
    if fixed_ref is None or profile is None:
        raise ctx.error("DistinctParty has FixedRef and Profile", "missing FixedRef or Profile",
                        record=f"after {ctx.record}")
    key = ctx.key(fixed_ref)
    subtype = refs.party_subtype.get(_int(profile.get("PartySubTypeID")) or -1)
    if subtype is None:
        ctx.audit("unknown_value", "PartySubTypeID", profile.get("PartySubTypeID"))
        entity_type = "other"
    else:
        party_type = refs.name("PartyType", subtype[0]) or ""
        entity_type = PARTY_TYPES.get(subtype[1]) or PARTY_TYPES.get(party_type, "other")
    primary_name = ""
    sections = children_by_name(profile)
    for identity in sections.get("Identity", ()):
        spill.add("ident", {"identity_id": _int(identity.get("ID")), "fixed_ref": fixed_ref})
        group_types = {
            _int(g.get("ID")) or 0: refs.name("NamePartType", g.get("NamePartTypeID")) or ""
            for g in descendants_named(identity, "NamePartGroup")
        }
        for alias in identity:
            if local(alias.tag) != "Alias":
                continue
            latin, others = _display_name(alias, group_types)
            alias_type = refs.name("AliasType", alias.get("AliasTypeID")) or "A.K.A."
            is_primary = alias.get("Primary") == "true" and identity.get("Primary") == "true"
            quality = "weak" if alias.get("LowQuality") == "true" else "strong"
            if latin:
                if is_primary and not primary_name:
                    primary_name = latin
                ctx.add("names", {"entity_key": key, "source_record_id": fixed_ref, "name": latin,
                                  "name_type": "primary" if is_primary else ALIAS_TYPES.get(alias_type, "aka"),
                                  "quality": quality})
            for other in others:
                ctx.add("names", {"entity_key": key, "source_record_id": fixed_ref, "name": other,
                                  "name_type": "original_script", "quality": quality})
    if not primary_name:
        raise ctx.error("has a primary name", "no primary Latin name", fixed_ref)

    births = RecordBirthDates(ctx, key, fixed_ref)
    for feature in sections.get("Feature", ()):
        feature_name = refs.name("FeatureType", feature.get("FeatureTypeID")) or f"#{feature.get('FeatureTypeID')}"
        version = first_child(feature, "FeatureVersion")
        if version is None:
            continue
        parts = children_by_name(version)
        detail = text((parts.get("VersionDetail") or _NONE)[0])
        location = (parts.get("VersionLocation") or _NONE)[0]
        rule = feature_rule(LAYOUT, feature_name)
        if rule is not None and rule.action == "birth_date":
            for period in parts.get("DatePeriod", ()):
                raw, found = _date_period(period)
                births.add(raw, found, feature_name)
            continue
        link_type = rule.value if rule and rule.action in ("country", "place") else None
        id_type = rule.value if rule and rule.action == "id" else None
        if link_type and location is not None:
            spill.add("feat", {"fixed_ref": fixed_ref, "link_type": link_type,
                               "location_id": _int(location.get("LocationID"))})
        elif link_type and detail:
            # Free text (e.g. a place of birth "Shati" or "Tehran, Iran"): the country, if any,
            # is the last comma-separated part; text that names no country is audited, not linked.
            candidate = detail.rsplit(",", 1)[-1].strip()
            if ctx.countries.resolve(candidate).matched:
                ctx.link_country(fixed_ref, link_type, candidate)
            else:
                ctx.audit("unplaced_text", feature_name, detail)
        elif id_type and detail:
            ctx.add("identifiers", {"entity_key": key, "source_record_id": fixed_ref, "id_type": id_type,
                                    "id_value": detail.removeprefix("IMO ").strip(), "country_iso2": None,
                                    "raw_type": feature_name})
        elif rule is None:
            ctx.audit("unknown_feature", feature_name, None)

    spill.add("party", {"profile_id": _int(profile.get("ID")), "fixed_ref": fixed_ref,
                        "entity_type": entity_type, "primary_name": primary_name,
                        "remarks": text((party.get("Comment") or _NONE)[0])})


def _entry(elem: ET.Element, refs: _Refs, spill: _Spill, ctx: ParseContext) -> None:
    ctx.record = f"SanctionsEntry {elem.get('ID')}"
    listed = None
    parts = children_by_name(elem)
    for event in parts.get("EntryEvent", ()):
        if refs.name("EntryEventType", event.get("EntryEventTypeID")) in ("Created", None):
            listed = _ymd(first_child(event, "Date")) or listed
    programs = []
    for measure in parts.get("SanctionsMeasure", ()):
        if refs.name("SanctionsType", measure.get("SanctionsTypeID")) == "Program":
            tag = text(first_child(measure, "Comment"))
            if tag and tag not in programs:
                programs.append(tag)
    spill.add("entry", {"entry_id": _int(elem.get("ID")), "profile_id": _int(elem.get("ProfileID")),
                        "list_name": refs.name("List", elem.get("ListID")) or f"List {elem.get('ListID')}",
                        "listed_on": listed, "programs": programs})


def _finalize(spill: _Spill, refs: _Refs, ctx: ParseContext, f: InputFile) -> None:
    """Join the scratch tables into designations, country links, identifiers and relations."""
    ctx.record = None
    entries = 0
    # CONS_ADVANCED.XML files every party once more on the "Consolidated List" umbrella beside
    # its real list (SSI, NS-PLC, ...): that entry is a grouping, not a listing, and is counted
    # only for a party that has no other entry.
    umbrella = ", ".join(_sql_str(name) for name, code in LIST_CODES.items() if code == consolidated_list())
    is_umbrella_dup = f"""e.list_name in ({umbrella}) and exists (
            select 1 from entry as other
            where other.profile_id = e.profile_id and other.list_name not in ({umbrella}))"""
    for row in spill.query(f"select count(*) as n from entry as e where {is_umbrella_dup}"):
        if row["n"]:
            ctx.audit("umbrella_entry_not_counted", "SanctionsEntry/ListID", "Consolidated List", row["n"])
    for row in spill.query(f"""
        select e.*, p.fixed_ref, p.entity_type, p.primary_name, p.remarks
        from entry as e left join party as p on p.profile_id = e.profile_id
        where not ({is_umbrella_dup})
        order by e.entry_id"""):
        if row["fixed_ref"] is None:
            ctx.audit("orphan_row", "SanctionsEntry/ProfileID", str(row["profile_id"]))
            continue
        entries += 1
        list_code = LIST_CODES.get(row["list_name"], row["list_name"])
        if list_code not in LIST_CODES.values():
            ctx.audit("unknown_value", "List", row["list_name"])
        ctx.add("designations", {
            "designation_id": f"{ctx.source}:{list_code}:{row['fixed_ref']}",
            "authority": ctx.meta.authority, "list": list_code,
            "source_record_id": row["fixed_ref"], "entity_key": ctx.key(row["fixed_ref"]),
            "entity_type": row["entity_type"], "primary_name": row["primary_name"],
            "programs": list(row["programs"] or []), "listed_on": row["listed_on"],
            "reference_number": None, "remarks": row["remarks"],
        })
    if entries == 0:
        raise SourceError(ctx.source, f.name, "has SanctionsEntries", "no SanctionsEntry references a party")

    for row in spill.query("""
        select f.fixed_ref, f.link_type, f.location_id, l.country_id, l.area_code_id
        from feat as f left join loc as l on l.location_id = f.location_id"""):
        country_id = row["country_id"] or refs.area_country.get(row["area_code_id"] or -1)
        if country_id is None:
            ctx.audit("orphan_row", "VersionLocation/LocationID", str(row["location_id"]))
            continue
        ctx.link_country(row["fixed_ref"], row["link_type"], refs.name("Country", country_id),
                         iso2=refs.country_iso2.get(country_id))

    for row in spill.query("""
        select i.fixed_ref, d.doc_type, d.number, d.country_id
        from idreg as d join ident as i on i.identity_id = d.identity_id"""):
        id_type = ID_DOC_TYPES.get(row["doc_type"])
        if id_type is None:
            ctx.audit("unknown_value", "IDRegDocType", row["doc_type"])
        iso2 = refs.country_iso2.get(row["country_id"]) if row["country_id"] else None
        ctx.add("identifiers", {"entity_key": ctx.key(row["fixed_ref"]), "source_record_id": row["fixed_ref"],
                                "id_type": id_type or "other", "id_value": row["number"],
                                "country_iso2": iso2, "raw_type": row["doc_type"]})
        if id_type == "registration" and row["country_id"]:
            ctx.link_country(row["fixed_ref"], "registration", refs.name("Country", row["country_id"]), iso2=iso2)

    for row in spill.query("""
        select pf.fixed_ref as from_ref, pt.fixed_ref as to_ref, pt.primary_name as to_name, r.relation
        from rel as r
        left join party as pf on pf.profile_id = r.from_profile
        left join party as pt on pt.profile_id = r.to_profile"""):
        if row["from_ref"] is None:
            ctx.audit("orphan_row", "ProfileRelationship/From-ProfileID", None)
            continue
        relation = RELATION_TYPES.get(row["relation"] or "")
        if relation is None:
            ctx.audit("unknown_value", "RelationType", row["relation"])
        ctx.add("relations", {"entity_key": ctx.key(row["from_ref"]), "source_record_id": row["from_ref"],
                              "related_entity_key": ctx.key(row["to_ref"]) if row["to_ref"] else None,
                              "related_name": row["to_name"], "relation_type": relation or "other",
                              "raw_relation": row["relation"]})
