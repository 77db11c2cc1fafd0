"""FCDO UK Sanctions List XML (``UK-Sanctions-List.xml``) -> staged tables.

Layout: ``Designations`` (no default namespace) holding ``DateGenerated`` (``dd/mm/yyyy``, the
snapshot) and one ``Designation`` per designation: ``UniqueID`` (regime code + number, e.g.
``RUS0251``), ``OFSIGroupID`` (the OFSI target, = ConList ``Group ID``), ``UNReferenceNumber``,
``RegimeName`` (exactly one, the regulation's title), ``IndividualEntityShip``, ``DateDesignated``,
``LastUpdated``, ``OtherInformation``, ``Names/Name`` (``Name1``..``Name6``, ``NameType``,
``AliasStrength``), ``NonLatinNames/NonLatinName``, ``Addresses/Address``, ``IndividualDetails``,
``EntityDetails`` and ``ShipDetails`` with their lists. What each element becomes is data
(``lookups/fields.csv``, layouts ``fcdo_xml`` and ``fcdo_xml_name``); an element it does not list
is audited with its path, and its children are still read (a known element inside an unknown
wrapper is placed). Streamed record by record through :mod:`pipeline.xmlsafe` (DTDs and entities
refused, memory flat); a ``UniqueID`` seen twice keeps its first record (audited).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.gb_hmt import vocab
from pipeline.sources.gb_hmt.record import (
    AUDIT_CHARS,
    Designation,
    clean,
    parse_date,
    parse_report_date,
    resolve_regime,
    write,
)
from pipeline.xmlsafe import expect_root, iter_records, local, text

ROOT = "Designations"
LAYOUT = "fcdo_xml"
NAME_LAYOUT = "fcdo_xml_name"
_NAME_PARTS = ("Name1", "Name2", "Name3", "Name4", "Name5", "Name6")


def parse_fcdo_xml(f: InputFile, ctx: ParseContext) -> None:
    """Stream one ``UK-Sanctions-List.xml`` into the staged tables."""
    expect_root(f.path, ctx.source, (ROOT,), ctx.max_bytes, name=f.name)
    seen: set[str] = set()  # Unique IDs
    used: set[str] = set()  # designation ids
    dated = False
    records = iter_records(f.path, ctx.source, {"Designation", "DateGenerated"}, lambda: ctx.record, name=f.name)
    for parents, elem in records:
        if local(elem.tag) == "DateGenerated":
            if parents == ROOT:
                dated = _snapshot(elem, ctx) or dated
            continue
        if parents != ROOT:
            ctx.audit("unknown_field", f"{parents}/Designation", None)
            continue
        des = _designation(elem, ctx)
        if des.uk_reference in seen:
            ctx.audit("duplicate_record", "UniqueID", des.uk_reference)
            continue
        seen.add(des.uk_reference or "")
        des.assign_id(des.regime.program if des.regime else None, used, ctx)
        write(des, ctx)
        ctx.record = des.uk_reference  # errors name the file's own id
    if not seen:
        raise SourceError(ctx.source, f.name, "has records", "no Designation element")
    if not dated:
        ctx.audit("no_report_date", "DateGenerated", None)
    ctx.record = None


def _snapshot(elem: ET.Element, ctx: ParseContext) -> bool:
    found = parse_report_date(text(elem) or "")
    if found is None:
        ctx.audit("invalid_date", "DateGenerated", text(elem))
        return False
    ctx.set_snapshot(found)
    return True


def _designation(elem: ET.Element, ctx: ParseContext) -> Designation:
    children: dict[str, ET.Element] = {}  # the first child of each name, whatever its namespace
    for child in elem:
        children.setdefault(local(child.tag), child)
    uid = text(children.get("UniqueID"))
    if uid is None:
        raise ctx.error("UniqueID present", "a Designation has no UniqueID", record=f"after {ctx.record}")
    ctx.record = uid
    regimes = [t for r in elem if local(r.tag) == "RegimeName" and (t := text(r))]
    if len(regimes) != 1:
        ctx.audit("missing_field" if not regimes else "conflicting_value", "RegimeName",
                  "; ".join(regimes)[:AUDIT_CHARS] or None)
    des = Designation(record_id="", group_id=text(children.get("OFSIGroupID")),
                      regime=resolve_regime(regimes[0] if regimes else None, ctx, "RegimeName"))
    des.uk_reference = uid
    des.un_reference = text(children.get("UNReferenceNumber"))
    raw_type = text(children.get("IndividualEntityShip"))
    des.entity_type = vocab.entity_type(raw_type or "")
    if des.entity_type is None:
        ctx.audit("unknown_value", "IndividualEntityShip", raw_type)
        des.entity_type = "other"
    des.listed_on, problem = parse_date(text(children.get("DateDesignated")))
    if problem:
        ctx.audit(problem, "DateDesignated", text(children.get("DateDesignated")))
    des.remark(text(children.get("OtherInformation")))
    _walk(elem, "", des, ctx)
    return des


def _walk(elem: ET.Element, path: str, des: Designation, ctx: ParseContext) -> None:
    """Place every element below ``elem`` by ``fields.csv``; ``record`` elements are read by
    :func:`_designation` (only as children of ``Designation``)."""
    known = vocab.fields(LAYOUT)
    for child in elem:
        tag = local(child.tag)
        where = f"{path}{tag}"
        rule = known.get(tag)
        if rule is None or (rule.action in ("record", "name") and path):
            ctx.audit("unknown_field", where, (text(child) or "")[:AUDIT_CHARS] or None)
            _walk(child, f"{where}/", des, ctx)
        elif rule.action == "name":
            _names(child, where, des, ctx)
        elif rule.action == "container":
            if text(child):
                ctx.audit("unknown_field", where, (text(child) or "")[:AUDIT_CHARS])
            _walk(child, f"{where}/", des, ctx)
        elif rule.action in ("country", "id", "relation", "birth_date"):
            des.apply(rule, tag, text(child))


def _names(elem: ET.Element, path: str, des: Designation, ctx: ParseContext) -> None:
    """``Names/Name`` (the name parts, ``NameType``, ``AliasStrength``) and
    ``NonLatinNames/NonLatinName`` (``NameNonLatinScript``)."""
    known = vocab.fields(NAME_LAYOUT)
    for entry in elem:
        tag = local(entry.tag)
        if tag not in known or known[tag].action != "container":
            ctx.audit("unknown_field", f"{path}/{tag}", (text(entry) or "")[:AUDIT_CHARS] or None)
            continue
        parts: dict[str, str | None] = {}
        for sub in entry:
            sub_tag = local(sub.tag)
            if sub_tag not in known:
                ctx.audit("unknown_field", f"{path}/{tag}/{sub_tag}", (text(sub) or "")[:AUDIT_CHARS] or None)
                continue
            parts[sub_tag] = text(sub)
        if tag == "NonLatinName":
            des.name(parts.get("NameNonLatinScript"), "original_script", None)
            continue
        raw_type = parts.get("NameType") or ""
        name_type = vocab.name_type(raw_type)
        if name_type is None:
            ctx.audit("unknown_value", "NameType", raw_type or None)
            name_type = "aka"
        raw_quality = parts.get("AliasStrength")
        quality = vocab.alias_quality(raw_quality) if raw_quality else None
        if raw_quality and quality is None:
            ctx.audit("unknown_value", "AliasStrength", raw_quality)
        des.name(clean(" ".join(p for n in _NAME_PARTS if (p := parts.get(n)))), name_type, quality)
