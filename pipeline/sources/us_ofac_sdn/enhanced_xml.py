"""OFAC Sanctions List Service enhanced XML (``SDN_ENHANCED.XML`` / ``ENHANCED_XML`` exports) -> staged tables.

Root ``sanctionsData``. Unlike the advanced XML, every ``entity`` is self-contained: its lists
(with the listing date ``datePublished`` per list), programmes, names, addresses (country by
reference), features and identity documents all sit inside it. The file is streamed record by
record; only the small reference vocabulary (``referenceValues``: countries with their ISO code,
alias types...) is held in memory, plus the entity ids and relationship targets (two integers a
relationship) to report relationships whose target is not in the file (a filtered export).

Vocabularies (lists, id document types, relation types, feature types) are the advanced XML's in
``lookups/``, extended with the names only this layout uses, so both layouts stage the same values.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, datetime

from pipeline.birth_dates import BirthDate, RecordBirthDates, from_interval, parse_text
from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.us_ofac_sdn.lists import list_codes
from pipeline.sources.us_ofac_sdn.vocab import feature_rule, id_types, known_elements, mapping, read_yaml
from pipeline.xmlsafe import expect_root, iter_records, local, text

ROOT = "sanctionsData"
LAYOUT = "enhanced_xml"
LATIN_SCRIPT = "Latin"
LIST_CODES = list_codes(LAYOUT)
ENTITY_TYPES = mapping("entity_types.yml", LAYOUT)  # generalInfo/entityType
ALIAS_TYPES = mapping("alias_types.yml", LAYOUT)
RELATION_TYPES = read_yaml("relation_types.yml")
DOC_TYPES = id_types(LAYOUT)
KNOWN_TAGS = {ROOT} | known_elements(LAYOUT)
RECORD_TAGS = {"publicationInfo", "referenceValue", "featureType", "entity"}

# Bidirectional formatting marks OFAC wraps right-to-left names in (U+202B ... U+202C): not part
# of the name.
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class _RecordTags(set):
    """The elements :func:`iter_records` hands back: the records, plus any element whose name the
    parser does not know (audited, then detached so memory stays flat)."""

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name) or name not in KNOWN_TAGS


class _Refs:
    """``referenceValues``: refId -> (type, value, isoCode). Bounded: it does not grow with entities."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[str, str, str | None]] = {}

    def load(self, elem: ET.Element) -> None:
        ref_id = elem.get("refId")
        kind, value = text(elem.find("{*}type")), text(elem.find("{*}value"))
        if ref_id and kind and value:
            self.values[ref_id] = (kind, value, text(elem.find("{*}isoCode")))

    def country(self, ref_id: str | None) -> tuple[str | None, str | None] | None:
        """(name, iso2) of a COUNTRY reference value, None when the refId is not a country."""
        found = self.values.get(ref_id or "")
        if found is None or found[0] != "COUNTRY":
            return None
        return found[1], found[2]


def parse_enhanced_xml(f: InputFile, ctx: ParseContext) -> None:
    """Stream one enhanced XML file (``sanctionsData``) into the staged tables."""
    expect_root(f.path, ctx.source, (ROOT,), ctx.max_bytes, name=f.name)
    refs = _Refs()
    seen: set[int] = set()  # entity ids of the file
    targets: dict[int, str] = {}  # relationship target id -> an entity pointing at it
    entities = 0
    pending: list[str] = []  # unknown elements met inside the entity being read
    snapshot = False
    for parents, elem in iter_records(f.path, ctx.source, _RecordTags(RECORD_TAGS), lambda: ctx.record,
                                      name=f.name):
        tag = local(elem.tag)
        path = parents.split("/")
        if tag not in KNOWN_TAGS:
            if all(p in KNOWN_TAGS for p in path):  # audit the outermost unknown element only
                if "entity" in path:
                    pending.append("/".join([*path[path.index("entity") + 1:], tag]))
                else:
                    last, ctx.record = ctx.record, None
                    ctx.audit("unknown_field", "/".join([*path[1:], tag]), None)
                    ctx.record = last
            continue
        if tag == "publicationInfo":
            _header(elem, f, ctx)
            snapshot = True
        elif tag == "referenceValue":
            refs.load(elem)
        elif tag == "featureType":
            pass  # the feature type names are repeated on every feature
        elif tag == "entity" and path[-1:] == ["entities"]:
            entities += 1
            _entity(elem, refs, ctx, f, pending, seen, targets)
            pending = []
    ctx.record = None
    if not snapshot:
        raise SourceError(ctx.source, f.name, "has publicationInfo/dataAsOf", "no publicationInfo element")
    if entities == 0:
        raise SourceError(ctx.source, f.name, "has records", "no entities/entity element")
    for target, origin in sorted(targets.items()):
        if target not in seen:  # legitimate in a filtered export; a gap in a full one
            ctx.record = origin
            ctx.audit("relation_target_absent", "relationship/relatedEntity", str(target))
    ctx.record = None


def _header(elem: ET.Element, f: InputFile, ctx: ParseContext) -> None:
    as_of = text(elem.find("{*}dataAsOf"))
    try:
        published = datetime.fromisoformat(as_of or "").date()
    except ValueError:
        raise SourceError(ctx.source, f.name, "dataAsOf is an ISO date", f"dataAsOf is {as_of!r}") from None
    ctx.set_snapshot(published)
    # A programme filter means the file holds part of the list only: say so in the audit.
    for program in elem.iterfind("{*}filters/{*}sanctionsPrograms/{*}sanctionsProgram"):
        ctx.audit("filtered_export", "publicationInfo/filters/sanctionsProgram", text(program))


def _iso_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    return " ".join(_BIDI.sub("", value).split()) or None


def _feature_name(value: str | None) -> str:
    return (value or "").replace("\u2019", "'")  # "Aircraft Manufacturer’s Serial Number (MSN)"


def _translation_name(tr: ET.Element) -> str | None:
    """OFAC's display form ('LASTNAME, First' for people): formattedFullName, else rebuilt."""
    full = _clean(text(tr.find("{*}formattedFullName")))
    if full:
        return full
    last, first = _clean(text(tr.find("{*}formattedLastName"))), _clean(text(tr.find("{*}formattedFirstName")))
    if last or first:
        return f"{last}, {first}" if last and first else last or first
    return _clean(" ".join(v for p in tr.iterfind("{*}nameParts/{*}namePart") if (v := text(p.find("{*}value")))))


class _Entity:
    """Writes the rows of one entity, de-duplicating its country links."""

    def __init__(self, ctx: ParseContext, uid: str) -> None:
        self.ctx = ctx
        self.uid = uid
        self.key = ctx.key(uid)
        self._links: set[tuple[str, str | None, str | None]] = set()

    def link(self, link_type: str, raw_value: str | None, iso2: str | None = None) -> None:
        if (not raw_value and not iso2) or (link_type, raw_value, iso2) in self._links:
            return
        self._links.add((link_type, raw_value, iso2))
        self.ctx.link_country(self.uid, link_type, raw_value, iso2=iso2)

    def place(self, link_type: str, value: str, field_name: str) -> None:
        """Free text such as 'Qom, Iran': linked when its last comma part names a country."""
        candidate = value.rsplit(",", 1)[-1].strip()
        if candidate and self.ctx.countries.resolve(candidate).matched:
            self.link(link_type, candidate)
        else:
            self.ctx.audit("unplaced_text", field_name, value)

    def name(self, name: str, name_type: str, quality: str) -> None:
        self.ctx.add("names", {"entity_key": self.key, "source_record_id": self.uid, "name": name,
                               "name_type": name_type, "quality": quality})

    def identifier(self, id_type: str, value: str, raw_type: str, iso2: str | None = None) -> None:
        self.ctx.add("identifiers", {"entity_key": self.key, "source_record_id": self.uid, "id_type": id_type,
                                     "id_value": value, "country_iso2": iso2, "raw_type": raw_type})


def _entity(elem: ET.Element, refs: _Refs, ctx: ParseContext, f: InputFile, unknown: list[str],
            seen: set[int], targets: dict[int, str]) -> None:
    uid = elem.get("id")
    if not uid or not uid.isdigit():
        raise SourceError(ctx.source, f.name, "numeric entity id", f"entity id is {uid!r}",
                          record=f"after {ctx.record}" if ctx.record else None)
    ctx.record = uid
    ctx.tick()
    seen.add(int(uid))
    for field_name in unknown:
        ctx.audit("unknown_field", field_name, None)
    rec = _Entity(ctx, uid)

    raw_type = text(elem.find("{*}generalInfo/{*}entityType"))
    entity_type = ENTITY_TYPES.get(raw_type or "")
    if entity_type is None:
        ctx.audit("unknown_value", "entityType", raw_type)
        entity_type = "other"

    primary_name = _names(elem, rec)
    if not primary_name:
        raise SourceError(ctx.source, f.name, "has a primary name", "no primary Latin-script name", uid)

    programs: list[str] = []
    for program in elem.iterfind("{*}sanctionsPrograms/{*}sanctionsProgram"):
        tag = text(program)
        if tag and tag not in programs:
            programs.append(tag)
    remarks = text(elem.find("{*}generalInfo/{*}remarks"))
    lists = elem.findall("{*}sanctionsLists/{*}sanctionsList")
    if not lists:
        ctx.audit("missing_field", "sanctionsLists/sanctionsList", None)
    for listing in lists:
        list_name = text(listing) or (refs.values.get(listing.get("refId") or "", ("", "", None))[1])
        list_code = LIST_CODES.get(list_name or "")
        if list_code is None:
            ctx.audit("unknown_value", "sanctionsList", list_name)
            list_code = list_name or f"List {listing.get('refId')}"
        published = listing.get("datePublished")
        listed_on = _iso_date(published)
        if published and listed_on is None:
            ctx.audit("invalid_value", "sanctionsList/@datePublished", published)
        ctx.add("designations", {
            "designation_id": f"{ctx.source}:{list_code}:{uid}",
            "authority": ctx.meta.authority, "list": list_code,
            "source_record_id": uid, "entity_key": rec.key,
            "entity_type": entity_type, "primary_name": primary_name,
            "programs": list(programs), "listed_on": listed_on,
            "reference_number": None, "remarks": remarks,
        })

    for address in elem.iterfind("{*}addresses/{*}address"):
        country = address.find("{*}country")
        if country is not None:
            _country_ref(rec, refs, "address", country.get("refId"), text(country), "address/country")
    _features(elem, refs, rec)
    _documents(elem, refs, rec)

    for relation in elem.iterfind("{*}relationships/{*}relationship"):
        raw = text(relation.find("{*}type"))
        relation_type = RELATION_TYPES.get(raw or "")
        if relation_type is None:
            ctx.audit("unknown_value", "relationship/type", raw)
        related = relation.find("{*}relatedEntity")
        target = related.get("entityId") if related is not None else None
        if target and target.isdigit():
            targets.setdefault(int(target), uid)
        elif target:
            ctx.audit("invalid_value", "relatedEntity/@entityId", target)
            target = None
        ctx.add("relations", {"entity_key": rec.key, "source_record_id": uid,
                              "related_entity_key": ctx.key(target) if target else None,
                              "related_name": text(related) if related is not None else None,
                              "relation_type": relation_type or "other", "raw_relation": raw})


def _names(elem: ET.Element, rec: _Entity) -> str | None:
    """Write every name (Latin: primary or alias type; other scripts: original_script); return the
    primary Latin name."""
    ctx = rec.ctx
    primary_name = None
    for name in elem.iterfind("{*}names/{*}name"):
        is_primary = text(name.find("{*}isPrimary")) == "true"
        low = text(name.find("{*}isLowQuality"))
        quality = "weak" if low == "true" else "strong"
        alias = name.find("{*}aliasType")
        raw_alias = text(alias) if alias is not None else None
        alias_type = ALIAS_TYPES.get(raw_alias or "A.K.A.")
        if alias_type is None:
            ctx.audit("unknown_value", "name/aliasType", raw_alias)
            alias_type = "aka"
        for tr in name.iterfind("{*}translations/{*}translation"):
            value = _translation_name(tr)
            if not value:
                ctx.audit("missing_field", "translation/formattedFullName", None)
                continue
            script = text(tr.find("{*}script")) or LATIN_SCRIPT
            if script != LATIN_SCRIPT:
                rec.name(value, "original_script", quality)
            elif is_primary and primary_name is None:
                primary_name = value
                rec.name(value, "primary", quality)
            else:
                rec.name(value, alias_type, quality)
    return primary_name


def _country_ref(rec: _Entity, refs: _Refs, link_type: str, ref_id: str | None, raw: str | None,
                 field_name: str) -> None:
    """A country given by reference (address country, nationality feature...): ISO code from
    referenceValues; a reference the file does not define falls back to the text."""
    found = refs.country(ref_id)
    if found is None:
        if ref_id:
            rec.ctx.audit("orphan_row", f"{field_name}/@refId", ref_id)
        rec.link(link_type, raw)
        return
    name, iso2 = found
    rec.link(link_type, name or raw, iso2)


def _value_date(feature: ET.Element, value: str | None) -> BirthDate | list[BirthDate] | None:
    """A birth date feature: its ``valueDate`` (the days from ``fromDateBegin`` to ``toDateEnd``,
    ``isApproximate``), else its text (``12 Feb 1970``, ``circa 1965``)."""
    when = feature.find("{*}valueDate")
    if when is not None:
        first = _iso_date(text(when.find("{*}fromDateBegin")))
        last = _iso_date(text(when.find("{*}toDateEnd"))) or _iso_date(text(when.find("{*}toDateBegin"))) or first
        if first is not None and last is not None:
            return from_interval(first, last, text(when.find("{*}isApproximate")) == "true")
    return parse_text(value)


def _features(elem: ET.Element, refs: _Refs, rec: _Entity) -> None:
    ctx = rec.ctx
    births = RecordBirthDates(ctx, rec.key, rec.uid)
    for feature in elem.iterfind("{*}features/{*}feature"):
        feature_name = _feature_name(text(feature.find("{*}type")))
        value = _clean(text(feature.find("{*}value")))
        ref_id = text(feature.find("{*}valueRefId"))
        rule = feature_rule(LAYOUT, feature_name)
        if rule is not None and rule.action == "birth_date":
            births.add(value or _clean(text(feature.find("{*}valueDate/{*}fromDateBegin"))),
                       _value_date(feature, value), feature_name)
            continue
        link_type = rule.value if rule and rule.action in ("country", "place") else None
        id_type = rule.value if rule and rule.action == "id" else None
        if link_type:
            if ref_id:
                _country_ref(rec, refs, link_type, ref_id, value, f"feature {feature_name}")
            elif value and rule.action == "place":
                rec.place(link_type, value, feature_name)
            elif value:
                rec.link(link_type, value)  # a country name, e.g. a vessel flag
        elif id_type:
            if value:
                rec.identifier(id_type, value.removeprefix("IMO ").strip() if id_type == "imo" else value,
                               feature_name)
            else:
                ctx.audit("empty_identifier", feature_name, None)
        elif rule is None:
            ctx.audit("unknown_feature", feature_name or "feature/type", None)


def _documents(elem: ET.Element, refs: _Refs, rec: _Entity) -> None:
    ctx = rec.ctx
    for doc in elem.iterfind("{*}identityDocuments/{*}identityDocument"):
        raw_type = text(doc.find("{*}type")) or ""
        number = text(doc.find("{*}documentNumber"))
        id_type = DOC_TYPES.get(raw_type)
        if id_type is None:
            ctx.audit("unknown_id_type", "identityDocument/type", raw_type or None)
            id_type = "other"
        if not number:
            ctx.audit("empty_identifier", raw_type or "identityDocument", None)
            continue
        country = doc.find("{*}issuingCountry")
        name, iso2 = None, None
        if country is not None:
            name, iso2 = refs.country(country.get("refId")) or (text(country), None)
            match = ctx.countries.resolve_iso2(iso2) if iso2 else ctx.countries.resolve(name)
            if iso2 and not match.matched:
                match = ctx.countries.resolve(name)
            if match.iso2 is None:
                ctx.audit("unmapped_country", "identityDocument/issuingCountry", name or iso2)
            iso2 = match.iso2
        rec.identifier(id_type, number, raw_type, iso2)
        if id_type == "registration" and (name or iso2):
            rec.link("registration", name, iso2)
