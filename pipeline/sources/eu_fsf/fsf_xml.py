"""EU FSF XML 1.1 (``xmlFullSanctionsList_1_1``) -> :class:`~.record.EntityRecord` s -> staged tables.

Layout (``fsd_export_schema_1_1.xsd``): ``export[@generationDate, @globalFileId]/sanctionEntity*``,
namespace ``http://eu.europa.ec/fpi/fsd/export`` (default or prefixed; a file without it is read
the same way and audited). Each ``sanctionEntity`` holds ``remark*``, ``additionalInformation*``,
``regulation``, ``subjectType``, ``nameAlias+``, ``citizenship*``, ``birthdate*``, ``address*``,
``identification*``, everything in attributes. Elements are read by local name in any order, and a
record with several ``regulation`` elements (beyond the XSD) keeps them all. Every element and
attribute the schema allows is listed in ``lookups/xml_fields.yml`` with what the parser does with
it; anything else is audited (``unknown_field``), ``additionalInformation`` always
(``unplaced_value``). The file is streamed record by record (:func:`pipeline.xmlsafe.iter_records`:
DTDs and entities refused, memory flat).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.eu_fsf.record import DETAILS, EntityRecord, Stager, clean
from pipeline.sources.eu_fsf.vocab import xml_fields
from pipeline.xmlsafe import expect_root, iter_records, local, text

ROOT = "export"
RECORD = "sanctionEntity"
NAMESPACE = "http://eu.europa.ec/fpi/fsd/export"
#: Roots of layouts this parser does not read, with what they are.
OTHER_ROOTS = {"WHOLE": "the legacy FSF 1.0 XML (root <WHOLE>, ENTITY records); the EU publishes the same "
                        "list as XML 1.1 (xmlFullSanctionsList_1_1, root <export>)"}
_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
_GENERATION_DATE = re.compile(rb"""<(?:[\w.\-]+:)?export\b[^>]*?\bgenerationDate\s*=\s*["'](\d{4}-\d{2}-\d{2})""", re.S)


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def generation_date(f: InputFile, ctx: ParseContext) -> date:
    """The date part of ``export/@generationDate`` (read from the file's first 64 KiB)."""
    with open(f.path, "rb") as fh:
        head = fh.read(65536)
    found = _GENERATION_DATE.search(head)
    if found is None:
        raise ctx.error("export@generationDate", "the root element <export> has no generationDate date")
    try:
        return date.fromisoformat(found.group(1).decode())
    except ValueError:
        raise ctx.error("export@generationDate", f"generationDate {found.group(1).decode()!r} is not a date") from None


class _Reader:
    """Turns one ``sanctionEntity`` element into an :class:`EntityRecord`, auditing what the schema
    does not know."""

    def __init__(self, ctx: ParseContext) -> None:
        self.ctx = ctx
        self.fields = xml_fields()

    def attributes(self, elem: ET.Element, element: str, path: str) -> dict[str, str]:
        known = self.fields.get(element, (frozenset(), frozenset()))[0]
        out: dict[str, str] = {}
        for name, value in elem.attrib.items():
            if name in known:
                if value := value.strip():
                    out[name] = value
            elif not name.startswith(_XSI):
                self.ctx.audit("unknown_field", f"{path}@{local(name)}", clean(value))
        return out

    def additional(self, elem: ET.Element, path: str, rec: EntityRecord) -> None:
        info = self.attributes(elem, "additionalInformation", f"{path}/additionalInformation")
        key, value = info.get("key", ""), info.get("value", "")
        self.ctx.audit("unplaced_value", f"{path}/additionalInformation", f"{key}: {clean(value) or ''}"[:500])
        if value:
            rec.extra_texts.append((f"additionalInformation[{key}]", f"{key}: {value}"))

    def children(self, elem: ET.Element, element: str, path: str, rec: EntityRecord) -> list[str]:
        """Audit the unknown children of a detail or regulation; return its remark texts. Known
        children (regulationSummary, corrigendum, contactInfo, publicationUrl) are checked for
        unknown attributes and skipped (xml_fields.yml)."""
        known = self.fields.get(element, (frozenset(), frozenset()))[1]
        remarks = []
        for child in elem:
            tag = local(child.tag)
            if tag not in known:
                self.ctx.audit("unknown_field", f"{path}/{tag}", text(child))
            elif tag == "remark":
                if (value := text(child)) is not None:
                    remarks.append(value)
            elif tag == "additionalInformation":
                self.additional(child, path, rec)
            elif tag in self.fields:
                self.attributes(child, tag, f"{path}/{tag}")
        return remarks

    def record(self, elem: ET.Element, position: int) -> EntityRecord:
        rec = EntityRecord(where=f"sanctionEntity {position}")
        rec.attrs = self.attributes(elem, RECORD, RECORD)
        # the record id first: what follows is audited with it
        self.ctx.record = clean(rec.attrs.get("logicalId")) or self.ctx.record
        known = self.fields[RECORD][1]
        for child in elem:
            tag = local(child.tag)
            if tag not in known:
                self.ctx.audit("unknown_field", f"{RECORD}/{tag}", text(child))
            elif tag == "remark":
                if (value := text(child)) is not None:
                    rec.remarks.append(value)
            elif tag == "additionalInformation":
                self.additional(child, RECORD, rec)
            elif tag == "regulation":
                rec.regulations.append(self.attributes(child, tag, tag))
                self.children(child, tag, tag, rec)
            elif tag == "subjectType":
                if rec.subject:
                    self.ctx.audit("repeated_element", f"{RECORD}/subjectType", None)
                rec.subject = rec.subject or self.attributes(child, tag, tag)
                self.children(child, tag, tag, rec)
            else:  # one of DETAILS
                detail = self.attributes(child, tag, tag)
                remarks = self.children(child, tag, tag, rec)
                if remarks:
                    detail["remark"] = "\n".join(remarks)
                rec.details[tag].append(detail)
        return rec


def parse_fsf_xml(f: InputFile, ctx: ParseContext, stager: Stager) -> None:
    """Stream one FSF XML 1.1 file into the staged tables."""
    expect_root(f.path, ctx.source, (ROOT,), ctx.max_bytes, name=f.name)
    snapshot = generation_date(f, ctx)
    ctx.set_snapshot(snapshot)
    reader = _Reader(ctx)
    assert set(DETAILS) <= reader.fields[RECORD][1]
    position = 0
    for parents, elem in iter_records(f.path, ctx.source, {RECORD}, lambda: ctx.record, name=f.name):
        position += 1
        if parents != ROOT:
            raise ctx.error("sanctionEntity is a child of export",
                            f"sanctionEntity {position} sits under <{parents.replace('/', '><')}>")
        namespace = _namespace(elem.tag)
        if namespace != NAMESPACE:
            if namespace:
                raise ctx.error("FSF namespace", f"sanctionEntity {position} is in namespace {namespace!r}, "
                                f"not {NAMESPACE!r}")
            ctx.audit("layout_deviation", "namespace", "no namespace (the XSD requires " + NAMESPACE + ")")
        stager.stage(reader.record(elem, position), snapshot)
    if position == 0:
        raise ctx.error("has records", "the file holds no sanctionEntity")
