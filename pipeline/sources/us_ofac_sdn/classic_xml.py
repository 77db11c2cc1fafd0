"""OFAC classic XML (``SDN.XML`` / ``CONSOLIDATED.XML``, root ``sdnList``) -> staged tables.

The namespace changed between 2020 and 2024, so every name is matched namespace-agnostically.
The layout carries no listing date. The file is streamed record by record; element names the
parser does not know (``lookups/xml_elements.yml``) are audited, never silently dropped. The
remarks are free text apart from ``(Linked To: NAME)`` (read by :mod:`.remarks`); ``idType``
values go through the same phrase table as the CSV remarks.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.us_ofac_sdn.lists import file_list
from pipeline.sources.us_ofac_sdn.remarks import Record, phrase_kind, read_remarks
from pipeline.sources.us_ofac_sdn.vocab import known_elements, mapping
from pipeline.xmlsafe import expect_root, iter_records, local, text

ROOT = "sdnList"
LAYOUT = "classic_xml"
ENTITY_TYPES = mapping("entity_types.yml", LAYOUT)
ALIAS_TYPES = mapping("alias_types.yml", LAYOUT)
ALIAS_QUALITY = mapping("alias_types.yml", "classic_xml_quality")
KNOWN_XML = {ROOT, "sdnEntry"} | known_elements(LAYOUT)


class _RecordTags(set):
    """The elements :func:`iter_records` hands back: the entries and the header, plus any element
    whose name the parser does not know (so it is audited and detached, keeping memory flat)."""

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name) or name not in KNOWN_XML


def parse_classic_xml(f: InputFile, ctx: ParseContext) -> None:
    """Stream one classic ``sdnList`` file (SDN.XML or CONSOLIDATED.XML) into the staged tables."""
    ctx.start_file(f)
    expect_root(f.path, ctx.source, (ROOT,), ctx.max_bytes, name=f.name)
    ctx.list_code = file_list(f)
    record_count: int | None = None
    entries = 0
    pending: list[str] = []  # unknown fields met inside the entry being read
    tags = _RecordTags({"sdnEntry", "publshInformation"})
    for parents, elem in iter_records(f.path, ctx.source, tags, lambda: ctx.record, name=f.name):
        name = local(elem.tag)
        path = parents.split("/")
        if name not in KNOWN_XML:
            if all(p in KNOWN_XML for p in path):  # audit the outermost unknown element only
                if "sdnEntry" in path:
                    inner = path[path.index("sdnEntry") + 1 :]
                    pending.append("/".join([*inner, name]))
                else:  # outside any entry: no record to name as the example
                    last, ctx.record = ctx.record, None
                    ctx.audit("unknown_field", "/".join([*path, name]), None)
                    ctx.record = last
            continue
        if name == "publshInformation":
            record_count = _header(elem, f, ctx)
            continue
        entries += 1
        _classic_entry(elem, f, ctx, pending)
        pending = []
    ctx.record = None
    if entries == 0:
        raise SourceError(ctx.source, f.name, "has records", "no sdnEntry element")
    if record_count is None:
        ctx.audit("missing_field", "publshInformation/Record_Count", None)
    elif record_count != entries:
        ctx.violation(
            "Record_Count matches entries",
            f"the header announces {record_count} entries but the file holds {entries} "
            "(truncated or incomplete file)",
        )


def _header(elem: ET.Element, f: InputFile, ctx: ParseContext) -> int | None:
    published = count = None
    for child in elem:
        tag = local(child.tag)
        if tag == "Publish_Date":
            published = text(child)
        elif tag == "Record_Count":
            count = text(child)
    if published:
        try:
            ctx.set_snapshot(_mdy(published))
        except ValueError:
            raise SourceError(
                ctx.source, f.name, "Publish_Date is MM/DD/YYYY", f"Publish_Date is {published!r}"
            ) from None
    else:
        ctx.audit("missing_field", "publshInformation/Publish_Date", None)
    if count is None:
        return None
    if not count.isdigit():
        raise SourceError(ctx.source, f.name, "numeric Record_Count", f"Record_Count is {count!r}")
    return int(count)


def _mdy(value: str) -> date:
    return datetime.strptime(value.strip(), "%m/%d/%Y").date()


def _children(elem: ET.Element) -> dict[str, list[ET.Element]]:
    out: dict[str, list[ET.Element]] = {}
    for child in elem:
        out.setdefault(local(child.tag), []).append(child)
    return out


def _first(kids: dict[str, list[ET.Element]], name: str) -> str | None:
    found = kids.get(name)
    return text(found[0]) if found else None


def _display(last: str | None, first: str | None) -> str | None:
    """OFAC's display form: ``LASTNAME, Firstname`` (entities: the whole name is the last name)."""
    if last and first:
        return f"{last}, {first}"
    return last or first


def _classic_entry(elem: ET.Element, f: InputFile, ctx: ParseContext, unknown: list[str]) -> None:
    kids = _children(elem)
    uid = _first(kids, "uid")
    if uid is None or not uid.isdigit():
        raise SourceError(
            ctx.source,
            f.name,
            "numeric uid",
            f"sdnEntry uid is {uid!r}",
            record=f"after {ctx.record}" if ctx.record else None,
        )
    ctx.record = uid
    ctx.tick()
    for field_name in unknown:
        ctx.audit("unknown_field", field_name, None)
    rec = Record(ctx, uid)

    raw_type = _first(kids, "sdnType")
    entity_type = ENTITY_TYPES.get(raw_type or "")
    if entity_type is None:
        ctx.audit("unknown_value", "sdnType", raw_type)
        entity_type = "other"
    primary = _display(_first(kids, "lastName"), _first(kids, "firstName"))
    if not primary:
        raise SourceError(ctx.source, f.name, "has a name", "sdnEntry without lastName", record=uid)
    programs = [p for lst in kids.get("programList", []) for c in lst if (p := text(c))]
    remarks = _first(kids, "remarks")
    rec.designation(entity_type, primary, programs, remarks)

    for lst in kids.get("akaList", []):
        for aka in lst:
            a = _children(aka)
            raw_alias = _first(a, "type")
            name_type = ALIAS_TYPES.get(raw_alias or "")
            if name_type is None:
                ctx.audit("unknown_value", "aka/type", raw_alias)
                name_type = "aka"
            category = _first(a, "category")
            quality = ALIAS_QUALITY.get(category or "")
            if category and quality is None:
                ctx.audit("unknown_value", "aka/category", category)
            rec.name(_display(_first(a, "lastName"), _first(a, "firstName")), name_type, quality)

    for lst in kids.get("addressList", []):
        for address in lst:
            rec.link("address", _first(_children(address), "country"))
    for list_name, item, link_type in (
        ("nationalityList", "country", "nationality"),
        ("citizenshipList", "country", "citizenship"),
    ):
        for lst in kids.get(list_name, []):
            for node in lst:
                rec.link(link_type, _first(_children(node), item))
    for lst in kids.get("dateOfBirthList", []):
        for node in lst:
            rec.birth_date(_first(_children(node), "dateOfBirth"), "dateOfBirth")
    for lst in kids.get("placeOfBirthList", []):
        for node in lst:
            rec.birth(_first(_children(node), "placeOfBirth"), "placeOfBirth")
    for vessel in kids.get("vesselInfo", []):
        v = _children(vessel)
        rec.link("flag", _first(v, "vesselFlag"))
        call_sign = _first(v, "callSign")
        if call_sign:
            rec.identifier("call_sign", call_sign, "Call Sign", None)

    for lst in kids.get("idList", []):
        for node in lst:
            _classic_id(rec, _children(node))

    read_remarks(rec, remarks, relations_only=True)


def _classic_id(rec: Record, d: dict[str, list[ET.Element]]) -> None:
    raw_type = _first(d, "idType") or ""
    number = _first(d, "idNumber")
    country = _first(d, "idCountry")
    _size, action, arg = phrase_kind(raw_type) or (0, "unknown", "")
    if action == "country":  # "Nationality of Registration": the number is the country
        rec.link(arg, number or country)
    elif action == "id":
        rec.identifier(arg, number, raw_type, country)
    elif action == "id_prefix":
        rec.identifier(arg, number, raw_type, country)
    elif action == "ignore":
        return
    else:  # unknown type, or a remark-only kind (POB, Linked To:) filed as an id
        rec.ctx.audit("unknown_id_type", "idType", raw_type or None)
        rec.identifier("other", number, raw_type or "", country)
