"""One EU FSF sanction entity as both layouts read it, and the staged rows it becomes.

The XML reader (:mod:`.fsf_xml`) and the CSV reader (:mod:`.fsf_csv`) both hand an
:class:`EntityRecord` to :class:`Stager`, keyed by the XML 1.1 attribute names (the CSV columns are
mapped onto them by ``lookups/csv_columns.csv``), so the two layouts stage the same rows.

What one record becomes (docs: ``source.yml`` notes):

- one ``designations`` row per ``sanctionEntity`` (``logicalId``); its ``entity_key`` is the
  ``euReferenceNumber`` (else the ``logicalId``), so the several records the EU keeps for one
  target under several regimes are several designations of one target;
- ``listed_on``: ``designationDate``, else the earliest ``entryIntoForceDate`` of the record's
  regulations; never a publication date (an amending act published years later would date an old
  listing to the amendment);
- ``entity_type`` from ``subjectType`` (person, enterprise); an enterprise whose record says it is
  a ship (an IMO ship number, "vessel"...: ``lookups/vessel_markers.csv``, ``id_types.csv``) is a
  vessel;
- country links: ``citizenship``, ``birth``, ``address``, ``registration`` (an enterprise's
  registration or tax number), ``flag`` (a vessel's "Flag:" text), ``other`` (a lost citizenship);
  ``countryIso2Code="00"``/``UNKNOWN`` and withdrawn codes (``CS``) are no country;
- ``birth_dates``: each ``birthdate`` that gives a date (``birthdate``, else ``year`` with
  ``monthOfYear``/``dayOfMonth``, else ``yearRangeFrom``/``yearRangeTo``; ``circa``), the
  attributes it was read from as the raw value;
- a record whose ``delistingDate`` is on or before the file's date is not staged (audited).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from pipeline.birth_dates import BirthDate, RecordBirthDates, from_parts, from_years, parse_text
from pipeline.sources.base import ParseContext
from pipeline.sources.eu_fsf.vocab import flag_patterns, id_rule, imo_check_digit, subject_types, vessel_markers

#: The repeatable details of a sanction entity (XML element names).
DETAILS = ("nameAlias", "citizenship", "birthdate", "address", "identification")
#: Dates outside [this, the file's date] are not believed (the staged suite wants listed_on in it).
EARLIEST_DATE = date(1945, 1, 1)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DMY_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
#: The attributes of a ``birthdate`` that say when (the others say where).
BIRTH_DATE_ATTRIBUTES = ("birthdate", "dayOfMonth", "monthOfYear", "year", "yearRangeFrom", "yearRangeTo", "circa",
                         "calendarType")


@dataclass
class EntityRecord:
    """One ``sanctionEntity``: its attributes, remarks, regulations, subject type and details, each
    detail a mapping of XML attribute names to values (blank values left out)."""

    where: str  # where the record starts, for messages: "line 12", "sanctionEntity 5"
    attrs: dict[str, str] = field(default_factory=dict)
    remarks: list[str] = field(default_factory=list)
    regulations: list[dict[str, str]] = field(default_factory=list)
    subject: dict[str, str] = field(default_factory=dict)
    details: dict[str, list[dict[str, str]]] = field(default_factory=lambda: {d: [] for d in DETAILS})
    #: Free texts besides the remarks that may say what the record is (additionalInformation).
    extra_texts: list[tuple[str, str]] = field(default_factory=list)


def clean(value: str | None) -> str | None:
    """A value with its whitespace collapsed; None when blank."""
    if value is None:
        return None
    text = " ".join(value.split())
    return text or None


def parse_date(value: str | None) -> date | None:
    """An FSF date: ISO ``YYYY-MM-DD`` (an ``xs:date`` may carry a time zone, a CSV cell a time) or
    the CSV's ``DD/MM/YYYY``. None when blank; ``ValueError`` when not a calendar date."""
    text = (value or "").strip()
    if not text:
        return None
    iso = _ISO_DATE.match(text)
    if iso:
        return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    dmy = _DMY_DATE.fullmatch(text.split(" ")[0])
    if dmy:
        return date(int(dmy.group(3)), int(dmy.group(2)), int(dmy.group(1)))
    raise ValueError(f"not a date: {text!r}")


def birth_date(detail: dict[str, str]) -> tuple[str, BirthDate | list[BirthDate] | None]:
    """One ``birthdate`` detail: its date attributes written ``name=value`` (empty when it gives no
    date, only a place) and what they say. A calendar other than the Gregorian is not read."""
    values = {a: v for a in BIRTH_DATE_ATTRIBUTES if (v := clean(detail.get(a)))}
    raw = "; ".join(f"{a}={v}" for a, v in values.items())
    if not set(values) - {"circa", "calendarType"}:
        return "", None
    if values.get("calendarType", "GREGORIAN").upper() != "GREGORIAN":
        return raw, None
    approximate = values.get("circa", "").lower() in ("true", "1", "yes")

    def number(name: str) -> int | None:
        value = values.get(name, "")
        return int(value) if value.isdigit() else None

    if values.get("birthdate"):
        found = parse_text(values["birthdate"])
        if found is None:
            return raw, None
        return raw, [from_parts(b.year_from, b.month, b.day, approximate) or b if approximate else b for b in found]
    if number("year") is not None:
        return raw, from_parts(number("year"), number("monthOfYear"), number("dayOfMonth"), approximate)
    start, end = number("yearRangeFrom"), number("yearRangeTo")
    if start is not None or end is not None:
        return raw, from_years(start or end or 0, end or start or 0, approximate)
    return raw, None


def _lines(texts: list[str]) -> list[str]:
    """Remarks line by line: the XML gives one element per remark, the CSV one cell with them all."""
    return [line for text in texts for line in text.splitlines() if line.strip()]


@functools.cache
def _latin_letter(ch: str) -> bool:
    return not ch.isalpha() or unicodedata.name(ch, "").startswith("LATIN")


def _latin(text: str) -> bool:
    """Whether a name is written in Latin letters (else it is staged as original_script)."""
    return text.isascii() or all(map(_latin_letter, text))


@dataclass(frozen=True)
class _Place:
    iso2: str | None
    region: str | None
    status: str  # mapped | non_country | unknown
    raw: str


class Stager:
    """Writes :class:`EntityRecord` s into the shared staged tables through a :class:`ParseContext`.
    One per parse: it also refuses a ``logicalId`` seen twice (in one file or across files)."""

    def __init__(self, ctx: ParseContext) -> None:
        self.ctx = ctx
        self._seen: set[str] = set()

    # ------------------------------------------------------------------ values
    def _date(self, field_name: str, value: str | None, latest: date | None) -> date | None:
        """A date of the record; None (audited) when it is not a date or falls outside
        [1945-01-01, ``latest``] (``latest`` None: no upper bound, for dates that may lie ahead)."""
        try:
            found = parse_date(value)
        except ValueError:
            self.ctx.audit("invalid_date", field_name, value)
            return None
        if found is not None and not (EARLIEST_DATE <= found and (latest is None or found <= latest)):
            self.ctx.audit("implausible_date", field_name, found.isoformat())
            return None
        return found

    def _place(self, field_name: str, detail: dict[str, str]) -> _Place | None:
        """The country of a detail: its ISO code, else its description (audited when they disagree
        or the code is not a country); None when it names none."""
        code, desc = clean(detail.get("countryIso2Code")), clean(detail.get("countryDescription"))
        if not code and not desc:
            return None
        countries = self.ctx.countries
        by_code = countries.resolve_iso2(code) if code else None
        by_desc = countries.resolve(desc) if desc else None
        raw = desc or code or ""
        if by_code is not None and by_code.iso2:
            match = by_code
            if by_desc is not None and by_desc.iso2 and by_desc.iso2 != by_code.iso2:
                self.ctx.audit("country_mismatch", field_name, f"{code} / {desc}")
            elif by_desc is not None and by_desc.iso2 == by_code.iso2 and by_desc.region:
                match = by_desc
        elif by_desc is not None and by_desc.iso2:
            match = by_desc
            if code:
                self.ctx.audit("country_from_description", field_name, f"{code} / {desc}")
        else:
            known = all(m is None or m.matched for m in (by_code, by_desc))
            self.ctx.audit("non_country" if known else "unmapped_country", field_name, raw)
            return _Place(None, None, "non_country" if known else "unknown", raw)
        region = match.region
        area = clean(detail.get("region"))
        if area and region is None:
            by_area = countries.resolve(area)
            if by_area.iso2 == match.iso2 and by_area.region:
                region = by_area.region
        return _Place(match.iso2, region, "mapped", raw)

    # ------------------------------------------------------------------ the record
    def stage(self, rec: EntityRecord, snapshot: date) -> bool:
        """Write one record; False when it is not staged (delisted on or before ``snapshot``)."""
        ctx = self.ctx
        lid = clean(rec.attrs.get("logicalId"))
        if lid is None:
            raise ctx.error("logicalId present", f"the sanctionEntity at {rec.where} has no logicalId",
                            record=f"after {ctx.record}" if ctx.record else None)
        ctx.record = lid
        ctx.tick()
        if lid in self._seen:
            ctx.violation("unique logicalId", f"logicalId {lid} ({rec.where}) was already read: the later "
                          "record is left out")
            return False
        self._seen.add(lid)
        delisted = self._date("sanctionEntity@delistingDate", rec.attrs.get("delistingDate"), None)
        if delisted is not None and delisted <= snapshot:
            ctx.audit("delisted", "sanctionEntity@delistingDate", delisted.isoformat())
            return False
        if delisted is not None:
            ctx.audit("delisting_scheduled", "sanctionEntity@delistingDate", delisted.isoformat())

        reference = clean(rec.attrs.get("euReferenceNumber"))
        key = ctx.key(reference or lid)
        entity_type = self._entity_type(rec)
        identifications = self._identifications(rec, entity_type)
        vessel_evidence = self._vessel_evidence(rec, identifications) if entity_type == "organization" else []
        if vessel_evidence:
            entity_type = "vessel"
            for marker, value in vessel_evidence:
                ctx.audit("typed_as_vessel", marker, value)
        names = self._names(rec)
        if names:
            primary = names[0][0]
        else:
            primary = f"EU {reference or lid}"
            ctx.audit("no_name", "nameAlias", primary)
        programs = sorted({p for r in rec.regulations if (p := clean(r.get("programme")))})
        if not programs:
            ctx.audit("no_programme", "regulation@programme", None)
        remarks = [t for t in [clean(rec.attrs.get("designationDetails")), *map(clean, _lines(rec.remarks))] if t]
        ctx.add("designations", {
            "designation_id": f"{ctx.source}:{ctx.meta.list}:{lid}",
            "authority": ctx.meta.authority,
            "list": ctx.meta.list,
            "source_record_id": lid,
            "entity_key": key,
            "entity_type": entity_type,
            "primary_name": primary,
            "programs": programs,
            "listed_on": self._listed_on(rec, snapshot),
            "reference_number": reference,
            "remarks": "\n".join(dict.fromkeys(remarks)) or None,
        })
        for name, name_type, quality in names:
            ctx.add("names", {"entity_key": key, "source_record_id": lid, "name": name,
                              "name_type": name_type, "quality": quality})
        self._identifiers(rec, key, lid, reference, identifications, vessel_evidence)
        self._links(rec, key, lid, entity_type, identifications, snapshot)
        births = RecordBirthDates(ctx, key, lid)
        for detail in rec.details["birthdate"]:
            raw, found = birth_date(detail)
            births.add(raw, found, "birthdate")
        return True

    def _listed_on(self, rec: EntityRecord, snapshot: date) -> date | None:
        designated = self._date("sanctionEntity@designationDate", rec.attrs.get("designationDate"), snapshot)
        if designated is not None:
            return designated
        in_force = [d for r in rec.regulations
                    if (d := self._date("regulation@entryIntoForceDate", r.get("entryIntoForceDate"), snapshot))]
        self.ctx.audit("no_designation_date", "sanctionEntity@designationDate",
                       "dated by its regulation's entry into force" if in_force else "no date")
        return min(in_force) if in_force else None

    def _entity_type(self, rec: EntityRecord) -> str:
        table = subject_types()
        if not rec.subject:
            self.ctx.audit("no_subject_type", "subjectType", None)
        found: list[str] = []
        for attr in ("code", "classificationCode"):
            value = clean(rec.subject.get(attr))
            if value is None:
                continue
            if value.casefold() in table:
                found.append(table[value.casefold()])
            else:
                self.ctx.audit("unknown_value", f"subjectType@{attr}", value)
        if len(set(found)) > 1:
            self.ctx.audit("conflicting_value", "subjectType", " / ".join(rec.subject.get(a, "") for a in
                                                                           ("code", "classificationCode")))
        return found[0] if found else "other"

    def _names(self, rec: EntityRecord) -> list[tuple[str, str, str | None]]:
        """(name, name_type, quality) of the record, the primary first: the first alias not marked
        weak in the original language ('') or English, else the first not weak, else the first."""
        aliases = []
        for alias in rec.details["nameAlias"]:
            name = clean(alias.get("wholeName")) or clean(" ".join(
                alias.get(part) or "" for part in ("firstName", "middleName", "lastName")))
            if not name:
                continue
            strong = (alias.get("strong") or "").strip().lower()
            quality = {"true": "strong", "1": "strong", "false": "weak", "0": "weak"}.get(strong)
            language = (alias.get("nameLanguage") or "").strip().upper()
            aliases.append((name, quality, language))
        if not aliases:
            return []
        candidates = ([a for a in aliases if a[1] != "weak" and a[2] in ("", "EN")]
                      or [a for a in aliases if a[1] != "weak"] or aliases)
        primary = candidates[0]
        out = [(primary[0], "primary", primary[1])]
        seen = {primary[0]}
        for name, quality, _language in aliases:
            if name in seen:
                continue
            seen.add(name)
            out.append((name, "aka" if _latin(name) else "original_script", quality))
        return out

    # ------------------------------------------------------------------ identifiers and vessels
    def _identifications(self, rec: EntityRecord, entity_type: str) -> list[tuple[dict[str, str], str, bool, bool]]:
        """(detail, id_type, is a registration number of an enterprise, is a ship number) per identification."""
        out = []
        for detail in rec.details["identification"]:
            code = clean(detail.get("identificationTypeCode"))
            desc = clean(detail.get("identificationTypeDescription"))
            rule = id_rule(code, desc)
            if rule is None:
                self.ctx.audit("unknown_value", "identification@identificationTypeCode", f"{code} / {desc}")
                out.append((detail, "other", False, False))
                continue
            out.append((detail, rule.id_type, rule.registration_link and entity_type == "organization", rule.vessel))
        return out

    def _texts(self, rec: EntityRecord) -> list[tuple[str, str]]:
        texts = [("remark", t) for t in _lines(rec.remarks)]
        if rec.attrs.get("designationDetails"):
            texts.append(("designationDetails", rec.attrs["designationDetails"]))
        texts += [("nameAlias@function", a["function"]) for a in rec.details["nameAlias"] if a.get("function")]
        return texts + rec.extra_texts

    def _vessel_evidence(self, rec: EntityRecord, identifications) -> list[tuple[str, str]]:
        """(marker, value) for each thing the record says that makes this enterprise a ship."""
        evidence = [("imo_identification", clean(d.get("number")) or clean(d.get("latinNumber")) or "")
                    for d, _t, _r, vessel in identifications if vessel]
        for _where, text in self._texts(rec):
            for marker in vessel_markers():
                found = marker.find(text)
                if found is not None:
                    evidence.append((marker.name, found.group(1) if found.groups() else found.group(0).strip()))
        return evidence

    def _identifiers(self, rec, key, lid, reference, identifications, vessel_evidence) -> None:
        rows: dict[tuple[str, str], dict] = {}

        def add(id_type: str, value: str | None, iso2: str | None, raw_type: str | None) -> None:
            if value and (id_type, value) not in rows:
                rows[id_type, value] = {"entity_key": key, "source_record_id": lid, "id_type": id_type,
                                        "id_value": value, "country_iso2": iso2, "raw_type": raw_type}

        add("eu_reference", reference, None, "euReferenceNumber")
        add("un_reference", clean(rec.attrs.get("unitedNationId")), None, "unitedNationId")
        for detail, id_type, _registration, _vessel in identifications:
            value = clean(detail.get("number")) or clean(detail.get("latinNumber"))
            if value is None:
                self.ctx.audit("no_value", "identification@number", clean(detail.get("identificationTypeCode")))
                continue
            if id_type == "imo" and not imo_check_digit(re.sub(r"\D", "", value)):
                self.ctx.audit("invalid_check_digit", "identification@number", value)
            place = self._place("identification", detail)
            add(id_type, value, place.iso2 if place else None,
                clean(detail.get("identificationTypeDescription")) or clean(detail.get("identificationTypeCode")))
        for marker, value in vessel_evidence:
            if marker == "imo_in_text":
                add("imo", value, None, "IMO number in text")
        for row in rows.values():
            self.ctx.add("identifiers", row)

    # ------------------------------------------------------------------ countries
    def _links(self, rec, key, lid, entity_type, identifications, snapshot) -> None:
        written: set[tuple] = set()

        def link(link_type: str, place: _Place | None) -> None:
            if place is None:
                return
            ident = (link_type, place.iso2 or place.raw, place.region)
            if ident in written:
                return
            written.add(ident)
            self.ctx.add("country_links", {
                "entity_key": key, "source_record_id": lid, "link_type": link_type, "country_iso2": place.iso2,
                "region": place.region, "country_status": place.status, "raw_value": place.raw,
            })

        for detail in rec.details["citizenship"]:
            lost = self._date("citizenship@disenfranchisementDate", detail.get("disenfranchisementDate"), None)
            if lost is not None and lost <= snapshot:
                self.ctx.audit("former_citizenship", "citizenship@disenfranchisementDate", lost.isoformat())
                link("other", self._place("other", detail))
            else:
                link("citizenship", self._place("citizenship", detail))
        for detail in rec.details["birthdate"]:
            link("birth", self._place("birth", detail))
        for detail in rec.details["address"]:
            link("address", self._place("address", detail))
        for detail, _id_type, registration, _vessel in identifications:
            if registration:
                link("registration", self._place("registration", detail))
        if entity_type == "vessel":
            for _where, text in self._texts(rec):
                for pattern in flag_patterns():
                    for found in pattern.finditer(text):
                        link("flag", self._place("flag", {"countryDescription": found.group(1)}))
