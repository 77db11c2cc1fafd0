"""UN Security Council Consolidated List (``consolidated.xml``) -> staged tables.

Layout: ``CONSOLIDATED_LIST[@dateGenerated]/INDIVIDUALS/INDIVIDUAL*`` and ``ENTITIES/ENTITY*``,
no namespace. Countries are English names only; ``UN_LIST_TYPE`` is the regime (the programme).
Empty placeholder elements and padded values are common and handled by ``xmlsafe.text``. The
vocabularies (document types, alias qualities, known element names) are data in ``lookups/``.
"""

from __future__ import annotations

import csv
import functools
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import yaml

from pipeline.birth_dates import BirthDate, RecordBirthDates, from_parts, from_years, parse_text
from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.xmlsafe import expect_root, iter_records, local, text

ROOT = "CONSOLIDATED_LIST"
# The record elements -> designations.entity_type.
ENTITY_TYPE = {"INDIVIDUAL": "person", "ENTITY": "organization"}
LOOKUPS = Path(__file__).resolve().parent / "lookups"
#: INDIVIDUAL_DATE_OF_BIRTH/TYPE_OF_DATE values.
DATE_TYPES = ("EXACT", "APPROXIMATELY", "BETWEEN")
_DATE_GENERATED = re.compile(rb'dateGenerated\s*=\s*["\'](\d{4}-\d{2}-\d{2})')


@functools.cache
def _csv(name: str) -> tuple[dict[str, str], ...]:
    with open(LOOKUPS / name, encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


@functools.cache
def _elements() -> dict[str, frozenset[str]]:
    data = yaml.safe_load((LOOKUPS / "xml_elements.yml").read_text(encoding="utf-8"))
    return {group: frozenset(names) for group, names in data.items()}


# TYPE_OF_DOCUMENT values, lower-cased (the English list carries some French and Spanish labels).
DOCUMENT_TYPES = {row["type_of_document"]: row["id_type"] for row in _csv("document_types.csv")}
# ALIAS/QUALITY, lower-cased -> (names.name_type, names.quality).
ALIAS_QUALITY = {row["quality"]: (row["name_type"], row["name_quality"] or None) for row in _csv("alias_qualities.csv")}
# Record fields we read or deliberately skip; anything else is audited as unknown.
KNOWN_FIELDS = _elements()["fields"]
KNOWN_SUBFIELDS = _elements()["subfields"]


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _snapshot(f: InputFile) -> date | None:
    with open(f.path, "rb") as fh:
        head = fh.read(4096)
    match = _DATE_GENERATED.search(head)
    return date.fromisoformat(match.group(1).decode()) if match else None


def parse_consolidated_xml(f: InputFile, ctx: ParseContext) -> None:
    """Stream one ``consolidated.xml`` into the staged tables."""
    expect_root(f.path, ctx.source, (ROOT,), ctx.max_bytes, name=f.name)
    snapshot = _snapshot(f)
    if snapshot is None:
        raise SourceError(ctx.source, f.name, "dateGenerated", "the root element has no dateGenerated date")
    ctx.set_snapshot(snapshot)
    seen = 0
    records = iter_records(f.path, ctx.source, set(ENTITY_TYPE), lambda: ctx.record, name=f.name)
    for _parents, elem in records:
        _record(elem, ctx)
        seen += 1
    if seen == 0:
        raise SourceError(ctx.source, f.name, "has records", "no INDIVIDUAL or ENTITY element")


_NONE = (None,)


def _record(elem: ET.Element, ctx: ParseContext) -> None:
    kind = local(elem.tag)
    # One pass over the record's children: the fields by tag (what ``find``/``findall`` of a plain
    # tag return, in document order) and the element names the lookups do not know.
    groups: dict[str, list[ET.Element]] = {}
    unknown: list[tuple[str, str | None]] = []
    for child in elem:
        tag = child.tag
        group = groups.get(tag)
        if group is None:
            groups[tag] = [child]
        else:
            group.append(child)
        if tag not in KNOWN_FIELDS and local(tag) not in KNOWN_FIELDS:
            unknown.append((local(tag), text(child)))
        for sub in child:
            sub_tag = sub.tag
            if sub_tag not in KNOWN_SUBFIELDS and local(sub_tag) not in KNOWN_SUBFIELDS:
                unknown.append((f"{local(tag)}/{local(sub_tag)}", text(sub)))
    get = groups.get
    dataid = text(get("DATAID", _NONE)[0])
    if dataid is None:
        raise ctx.error("DATAID present", "a record has no DATAID", record=f"after {ctx.record}")
    ctx.record = dataid
    ctx.tick()
    for field_name, value in unknown:
        ctx.audit("unknown_field", field_name, value)

    parts = [text(get(t, _NONE)[0]) for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
    name = " ".join(p for p in parts if p)
    if not name:
        raise ctx.error("has a name", "FIRST_NAME is empty", dataid)
    regime = text(get("UN_LIST_TYPE", _NONE)[0])
    reference = text(get("REFERENCE_NUMBER", _NONE)[0])
    key = ctx.key(dataid)
    add = ctx.add
    add("designations", {
        "designation_id": f"{ctx.source}:{ctx.meta.list}:{dataid}",
        "authority": ctx.meta.authority,
        "list": ctx.meta.list,
        "source_record_id": dataid,
        "entity_key": key,
        "entity_type": ENTITY_TYPE[kind],
        "primary_name": name,
        "programs": [regime] if regime else [],
        "listed_on": _date(text(get("LISTED_ON", _NONE)[0])),
        "reference_number": reference,
        "remarks": text(get("COMMENTS1", _NONE)[0]),
    })
    add("names", {"entity_key": key, "source_record_id": dataid, "name": name,
                  "name_type": "primary", "quality": "strong"})
    original = text(get("NAME_ORIGINAL_SCRIPT", _NONE)[0])
    if original:
        add("names", {"entity_key": key, "source_record_id": dataid, "name": original,
                      "name_type": "original_script", "quality": "strong"})
    aliases = get(f"{kind}_ALIAS", ())
    for alias in aliases:
        alias_name = text(alias.find("ALIAS_NAME"))
        if not alias_name:
            continue
        quality = (text(alias.find("QUALITY")) or "").lower()
        name_type, strength = ALIAS_QUALITY.get(quality, ("aka", None))
        if quality and quality not in ALIAS_QUALITY:
            ctx.audit("unknown_value", "ALIAS/QUALITY", quality)
        add("names", {"entity_key": key, "source_record_id": dataid, "name": alias_name,
                      "name_type": name_type, "quality": strength})
    if reference:
        add("identifiers", {"entity_key": key, "source_record_id": dataid, "id_type": "un_reference",
                            "id_value": reference, "country_iso2": None, "raw_type": "REFERENCE_NUMBER"})

    for nationality in get("NATIONALITY", ()):
        for value in nationality:
            if value.tag == "VALUE" and (v := text(value)):
                ctx.link_country(dataid, "nationality", v)
    for address in get(f"{kind}_ADDRESS", ()):
        ctx.link_country(dataid, "address", text(address.find("COUNTRY")))
    for place in get("INDIVIDUAL_PLACE_OF_BIRTH", ()):
        ctx.link_country(dataid, "birth", text(place.find("COUNTRY")))
    born_list = get("INDIVIDUAL_DATE_OF_BIRTH", ())
    if born_list or aliases:
        births = RecordBirthDates(ctx, key, dataid)
        for born in born_list:
            raw, found = _date_of_birth(born, ctx)
            births.add(raw, found, "INDIVIDUAL_DATE_OF_BIRTH")
        for alias in aliases:
            births.text(text(alias.find("DATE_OF_BIRTH")), f"{kind}_ALIAS/DATE_OF_BIRTH")
    for doc in get("INDIVIDUAL_DOCUMENT", ()):
        number = text(doc.find("NUMBER"))
        if not number:
            continue
        raw_type = text(doc.find("TYPE_OF_DOCUMENT")) or "unknown"
        id_type = DOCUMENT_TYPES.get(raw_type.lower(), "other")
        if id_type == "other":
            ctx.audit("unknown_value", "INDIVIDUAL_DOCUMENT/TYPE_OF_DOCUMENT", raw_type)
        issuer = text(doc.find("ISSUING_COUNTRY")) or text(doc.find("COUNTRY_OF_ISSUE"))
        add("identifiers", {
            "entity_key": key, "source_record_id": dataid, "id_type": id_type, "id_value": number,
            "country_iso2": ctx.countries.resolve(issuer).iso2 if issuer else None, "raw_type": raw_type,
        })


def _date_of_birth(born: ET.Element, ctx: ParseContext) -> tuple[str, BirthDate | list[BirthDate] | None]:
    """One ``INDIVIDUAL_DATE_OF_BIRTH``: its raw value (the fields written ``NAME=value``) and what
    it says. ``TYPE_OF_DATE`` EXACT or APPROXIMATELY with a ``DATE`` or a ``YEAR``, BETWEEN with
    ``FROM_YEAR``/``TO_YEAR``; a ``NOTE`` alone is read as text (``Nov. 1960``), a ``NOTE`` beside a
    ``YEAR`` adds its month when it names one (``Sep.``). An element with no value at all (the
    list's empty placeholder) gives nothing."""
    fields = {local(child.tag): value for child in born if (value := text(child))}
    raw = "; ".join(f"{name}={value}" for name, value in fields.items())
    kind = (fields.get("TYPE_OF_DATE") or "").upper()
    if kind and kind not in DATE_TYPES:
        ctx.audit("unknown_value", "INDIVIDUAL_DATE_OF_BIRTH/TYPE_OF_DATE", kind)
    approximate = kind == "APPROXIMATELY" or "approximately" in (fields.get("NOTE") or "").lower()
    note = fields.get("NOTE")
    if "DATE" in fields:
        found = parse_text(fields["DATE"])
        return raw, [_approximately(b, approximate) for b in found] if found else None
    if "FROM_YEAR" in fields or "TO_YEAR" in fields:
        try:
            start = int(fields.get("FROM_YEAR") or fields["TO_YEAR"])
            end = int(fields.get("TO_YEAR") or start)
        except ValueError:
            return raw, None
        return raw, from_years(start, end, approximate)
    if "YEAR" in fields:
        if not fields["YEAR"].isdigit():
            return raw, None
        year = int(fields["YEAR"])
        if note:
            with_note = parse_text(f"{note} {year}")
            if with_note and all(b.year_from == b.year_to == year for b in with_note):
                return raw, [_approximately(b, approximate) for b in with_note]
        return raw, from_parts(year, approximate=approximate)
    if note:
        return raw, parse_text(note)
    return "", None


def _approximately(found: BirthDate, approximate: bool) -> BirthDate:
    if not approximate or found.approximate:
        return found
    return from_parts(found.year_from, found.month, found.day, approximate=True) or found
