"""One SECO ``<target>`` and the staged rows it becomes.

What a target becomes (docs: ``source.yml`` notes):

- one ``designations`` row per target in force (``target@ssid``: ``source_record_id``,
  ``reference_number``, ``entity_key`` ``ch_seco:<ssid>``); a target whose last listing event is
  ``de-listed`` is not staged and is audited (``delisted``, one row per target naming its ssid, the
  de-listing and its programmes) so that history can show the removal (:mod:`.history`);
- ``programs``: through the target's ``sanctions-set-id`` s to the sanctions sets of the
  ``sanctions-program`` s, whose English ``program-key`` gives the code (``lookups/program_keys.csv``);
- ``entity_type`` from the element (``individual``, ``entity``, ``object@object-type``); an object
  of no known type whose texts give an IMO number is a vessel (audited ``typed_as_vessel``);
- ``listed_on``: the effective date of the first ``listed`` modification (:mod:`.history`);
- ``names``: every name of every identity, the main identity's first ``primary-name`` primary, the
  spelling variants as more names (:mod:`.names`);
- ``country_links``: ``nationality`` (``nationality/country@iso-code``), ``address`` and ``birth``
  (the country of the ``place`` an address or a place of birth refers to), ``flag`` (a vessel's
  ``other-information``);
- ``identifiers``: identification documents, ``foreign-identifier`` (a UN reference), IMO numbers,
  the ``day-month-year`` of the identity (``birth_date``, ``registration_date``, ``build_date``);
- ``birth_dates``: the ``day-month-year`` of each identity of an individual, at the precision
  given (its attributes as the raw value; a non-Gregorian calendar is kept raw, unread);
- ``relations``: ``relation@target-id`` -> the other target's entity key;
- ``remarks``: the ``justification`` and ``other-information`` texts.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, timedelta

from pipeline.birth_dates import BirthDate, RecordBirthDates, from_parts
from pipeline.sources.base import ParseContext
from pipeline.sources.ch_seco.history import Modification, parse_date, read_history
from pipeline.sources.ch_seco.names import is_latin, read_parts, whole_names
from pipeline.sources.ch_seco.schema import audit_unknown, clip
from pipeline.sources.ch_seco.vocab import (
    EntityType,
    document_types,
    entity_types,
    foreign_id_type,
    info_patterns,
    modification_types,
    name_qualities,
    name_types,
    relation_types,
)
from pipeline.xmlsafe import local, text

BODIES = ("individual", "entity", "object")
#: Listing dates outside [this, list date + a year] are not believed (the staged suite wants >= 1945).
EARLIEST_DATE = date(1945, 1, 1)


@dataclass(frozen=True)
class SanctionsSet:
    """One ``sanctions-set`` of a ``sanctions-program``: what a target's ``sanctions-set-id`` names."""

    ssid: str
    program: str
    program_key: str
    label: str | None
    origin: str | None


@dataclass(frozen=True)
class Place:
    """One ``place``: what an address, a place of birth or a place of issue refers to."""

    ssid: str
    iso_code: str | None
    country: str | None
    location: str | None


@dataclass
class Header:
    """What the file says before (or after) its targets: list type and date, sets and places."""

    list_type: str | None = None
    kind: str = "complete"
    list_date: date | None = None
    sets: dict[str, SanctionsSet] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)
    targets: int = 0


def _groups(elem: ET.Element) -> dict[str, list[ET.Element]]:
    """The children of an element by local name."""
    found: dict[str, list[ET.Element]] = {}
    for child in elem:
        tag = child.tag
        found.setdefault(tag.rsplit("}", 1)[-1] if tag[0] == "{" else tag, []).append(child)
    return found


def _first(elem: ET.Element, tag: str) -> ET.Element | None:
    return next((c for c in elem if local(c.tag) == tag), None)


@dataclass
class _Name:
    name: str
    name_type: str
    quality: str | None
    main_identity: bool
    primary_type: bool
    variant: bool


class Stager:
    """Writes the targets of one file into the staged tables through a :class:`ParseContext`."""

    def __init__(self, ctx: ParseContext, header: Header) -> None:
        self.ctx = ctx
        self.header = header
        self._seen: set[str] = set()
        #: The children by name of the elements of the current target (id(element) -> groups).
        self._kids: dict[int, dict[str, list[ET.Element]]] = {}
        self._identity_list: list[tuple[ET.Element, bool]] | None = None
        self.staged = 0
        self.delisted = 0

    # ------------------------------------------------------------------ the target
    def stage(self, target: ET.Element) -> bool:
        """Write one top-level ``<target>``; False when it is not staged (de-listed, repeated)."""
        ctx = self.ctx
        ssid = " ".join((target.get("ssid") or "").split())
        if not ssid:
            raise ctx.error("target ssid present", "a <target> has no ssid",
                            record=f"after {ctx.record}" if ctx.record else None)
        ctx.record = ssid
        ctx.tick()
        self._kids.clear()
        self._identity_list = None
        if ssid in self._seen:
            ctx.violation("unique target ssid", f"target {ssid} was already read: the later one is left out")
            return False
        self._seen.add(ssid)
        audit_unknown(target, ctx)
        body, kind = self._body(target)
        programs = self._programs(target)
        history = read_history(self._modifications(target))
        for rule, value in history.notes:
            ctx.audit(rule, "modification", value)
        names = self._names(body)
        if not history.in_force:
            self.delisted += 1
            last = history.last_event.describe() if history.last_event else "de-listed"
            value = f"{ssid}: {last} ({', '.join(programs) or 'no programme'})" + (f" {names[0][0]}" if names else "")
            ctx.audit("delisted", "modification@effective-date", clip(value))
            return False
        if not names:
            raise ctx.error("has a name", f"target {ssid} has no name with a value in its identities")
        if history.relisted:
            ctx.audit("relisted", "modification", f"{ssid}: " + ", ".join(e.describe() for e in history.events))
        entity_type = self._entity_type(body, kind)
        key = ctx.key(ssid)
        ctx.add("designations", {
            "designation_id": f"{ctx.source}:{ctx.meta.list}:{ssid}",
            "authority": ctx.meta.authority,
            "list": ctx.meta.list,
            "source_record_id": ssid,
            "entity_key": key,
            "entity_type": entity_type.entity_type,
            "primary_name": names[0][0],
            "programs": programs,
            "listed_on": self._listed_on(history),
            "reference_number": ssid,
            "remarks": "\n".join(dict.fromkeys(self._texts(body))) or None,
        })
        for name, name_type, quality in names:
            ctx.add("names", {"entity_key": key, "source_record_id": ssid, "name": name,
                              "name_type": name_type, "quality": quality})
        self._identifiers(target, body, key, ssid, entity_type)
        if entity_type.date_id_type == "birth_date":
            births = RecordBirthDates(ctx, key, ssid)
            for identity, _main in self._identities(body):
                for when in self._children(identity, "day-month-year"):
                    births.add(*_birth_date(when), "day-month-year")
        self._links(body, ssid, entity_type)
        self._relations(body, key, ssid)
        self.staged += 1
        return True

    def _children(self, elem: ET.Element, tag: str) -> list[ET.Element]:
        groups = self._kids.get(id(elem))
        if groups is None:
            groups = self._kids[id(elem)] = _groups(elem)
        return groups.get(tag, [])

    def _body(self, target: ET.Element) -> tuple[ET.Element, str]:
        bodies = [c for c in target if local(c.tag) in BODIES]
        if not bodies:
            raise self.ctx.error("has an individual, entity or object",
                                 f"target {self.ctx.record} has none of <{'>, <'.join(BODIES)}>")
        if len(bodies) > 1:
            raise self.ctx.error("one individual, entity or object",
                                 f"target {self.ctx.record} has {', '.join('<' + local(b.tag) + '>' for b in bodies)}")
        return bodies[0], local(bodies[0].tag)

    def _entity_type(self, body: ET.Element, kind: str) -> EntityType:
        table = entity_types()
        object_type = " ".join((body.get("object-type") or "").split()).casefold() if kind == "object" else ""
        found = table.get((kind, object_type))
        if found is None:
            self.ctx.audit("unknown_value", f"{kind}@object-type", object_type)
            found = table[(kind, "")]
        if found.entity_type == "other" and self._imo_numbers(body):
            self.ctx.audit("typed_as_vessel", f"{kind}@object-type",
                           object_type or "(none): IMO number in other-information")
            return table[("object", "vessel")]
        return found

    def _programs(self, target: ET.Element) -> list[str]:
        ids = (target.get("sanctions-set-id") or "").split()
        ids += [v for c in self._children(target, "sanctions-set-id") if (v := text(c))]
        programs: set[str] = set()
        for set_id in dict.fromkeys(ids):
            found = self.header.sets.get(set_id)
            if found is None:
                self.ctx.audit("unknown_value", "target/sanctions-set-id", set_id)
            else:
                programs.add(found.program)
        if not programs:
            self.ctx.audit("no_programme", "target/sanctions-set-id", ", ".join(ids) or None)
        return sorted(programs)

    def _modifications(self, target: ET.Element) -> list[Modification]:
        mods = []
        for position, mod in enumerate(self._children(target, "modification")):
            kind = " ".join((mod.get("modification-type") or "").split()).casefold()
            if not kind:
                self.ctx.audit("no_value", "modification@modification-type", None)
            elif kind not in modification_types():
                self.ctx.audit("unknown_value", "modification@modification-type", kind)
            dates = [self._date(f"modification@{attr}", mod.get(attr))
                     for attr in ("effective-date", "publication-date", "enactment-date")]
            mods.append(Modification(kind, dates[0], dates[1], dates[2], position))
        return mods

    def _date(self, field_name: str, value: str | None) -> date | None:
        try:
            return parse_date(value)
        except ValueError:
            self.ctx.audit("invalid_date", field_name, clip(value))
            return None

    def _listed_on(self, history) -> date | None:
        first = history.first_listing
        if first is None:
            return None
        if first.effective is None:
            self.ctx.audit("no_effective_date", "modification@effective-date",
                           f"first listing: {first.describe()}" + (" (publication-date)" if first.published else ""))
            return None
        latest = self.header.list_date + timedelta(days=366) if self.header.list_date else None
        if first.effective < EARLIEST_DATE or (latest is not None and first.effective > latest):
            self.ctx.audit("implausible_date", "modification@effective-date", first.effective.isoformat())
            return None
        return first.effective

    # ------------------------------------------------------------------ names
    def _identities(self, body: ET.Element) -> list[tuple[ET.Element, bool]]:
        """(identity, is the main identity), the main identity first."""
        if self._identity_list is not None:
            return self._identity_list
        identities = self._children(body, "identity")
        main = next((i for i in identities if (i.get("main") or "").strip().lower() == "true"), None)
        if main is None and identities:
            self.ctx.audit("no_main_identity", "identity@main",
                           f"{len(identities)} identities: the first is the main one")
            main = identities[0]
        self._identity_list = [(i, i is main) for i in sorted(identities, key=lambda i: i is not main)]
        return self._identity_list

    def _names(self, body: ET.Element) -> list[tuple[str, str, str | None]]:
        """(name, name_type, quality), the primary name first; duplicates left out."""
        found: list[_Name] = []
        for identity, is_main in self._identities(body):
            for name in self._children(identity, "name"):
                unknown_parts: list[str] = []
                wholes = whole_names(read_parts(name, unknown_parts))
                for part in unknown_parts:
                    self.ctx.audit("unknown_value", "name-part@name-part-type", part)
                raw_type = " ".join((name.get("name-type") or "").split()).casefold()
                staged_type = name_types().get(raw_type)
                if staged_type is None:
                    self.ctx.audit("unknown_value", "name@name-type", raw_type or None)
                    staged_type = "aka"
                raw_quality = " ".join((name.get("quality") or "").split()).casefold()
                quality = name_qualities().get(raw_quality)
                if raw_quality and quality is None:
                    self.ctx.audit("unknown_value", "name@quality", raw_quality)
                if not wholes:
                    self.ctx.audit("empty_name", "name", name.get("ssid"))
                for index, whole in enumerate(wholes):
                    found.append(_Name(whole, staged_type, quality, is_main, raw_type == "primary-name", index > 0))
        if not found:
            return []
        primary = (next((n for n in found if n.main_identity and n.primary_type and not n.variant), None)
                   or next((n for n in found if not n.variant), found[0]))
        if not primary.primary_type:
            self.ctx.audit("no_primary_name", "name@name-type", primary.name_type)
        out = [(primary.name, "primary", primary.quality)]
        seen = {primary.name}
        for n in found:
            if n.name in seen:
                continue
            seen.add(n.name)
            name_type = "aka" if n.name_type == "primary" else n.name_type
            if not is_latin(n.name):
                name_type = "original_script"
            out.append((n.name, name_type, n.quality))
        return out

    # ------------------------------------------------------------------ texts, identifiers
    def _texts(self, body: ET.Element) -> list[str]:
        return [t for tag in ("justification", "other-information") for c in self._children(body, tag)
                if (t := text(c))]

    def _infos(self, body: ET.Element) -> list[str]:
        return [t for c in self._children(body, "other-information") if (t := text(c))]

    def _imo_numbers(self, body: ET.Element) -> list[str]:
        if local(body.tag) != "object":
            return []
        patterns = info_patterns().get("imo", ())
        found = [m.group(1) for info in self._infos(body) for p in patterns for m in p.finditer(info)]
        return list(dict.fromkeys(found))

    def _identifiers(self, target: ET.Element, body: ET.Element, key: str, ssid: str, entity_type: EntityType) -> None:
        rows: dict[tuple[str, str], dict] = {}

        def add(id_type: str, value: str | None, iso2: str | None, raw_type: str) -> None:
            if value and (id_type, value) not in rows:
                rows[id_type, value] = {"entity_key": key, "source_record_id": ssid, "id_type": id_type,
                                        "id_value": value, "country_iso2": iso2, "raw_type": raw_type}

        for foreign in self._children(target, "foreign-identifier"):
            value = text(foreign)
            if value:
                add(foreign_id_type(value), value, None, "foreign-identifier")
        for attribute in self._children(target, "generic-attribute"):
            self.ctx.audit("unplaced_value", f"generic-attribute[{attribute.get('name') or ''}]", clip(text(attribute)))
        for imo in self._imo_numbers(body):
            if not imo_check_digit_ok(imo):
                self.ctx.audit("invalid_imo", "other-information", imo)
            add("imo", imo, None, "other-information")
        for identity, _main in self._identities(body):
            for doc in self._children(identity, "identification-document"):
                self._document(doc, add)
            for when in self._children(identity, "day-month-year"):
                value = self._day_month_year(when, entity_type)
                if value is None:
                    continue
                if entity_type.date_id_type is None:
                    self.ctx.audit("unplaced_value", "day-month-year", value)
                    continue
                add(entity_type.date_id_type, value, None, "day-month-year")
        for row in rows.values():
            self.ctx.add("identifiers", row)

    def _document(self, doc: ET.Element, add) -> None:
        raw_type = " ".join((doc.get("document-type") or "").split())
        id_type = document_types().get(raw_type.casefold())
        if id_type is None:
            self.ctx.audit("unknown_value", "identification-document@document-type", raw_type or None)
            id_type = "other"
        number = text(_first(doc, "number"))
        if number is None:
            self.ctx.audit("no_value", "identification-document/number", raw_type or None)
            return
        issuer = _first(doc, "issuer")
        iso2 = None
        if issuer is not None:
            code, name = issuer.get("iso-code"), text(issuer)
            match = self.ctx.countries.resolve_iso2(code) if code else self.ctx.countries.resolve(name)
            if not match.iso2 and code and name:
                match = self.ctx.countries.resolve(name)
            iso2 = match.iso2
            if iso2 is None and (code or name):
                self.ctx.audit("unmapped_country" if not match.matched else "non_country",
                               "identification-document/issuer", code or name)
        if iso2 is None:
            issue = _first(doc, "place-of-issue")
            place = self._place(issue, "place-of-issue") if issue is not None else None
            if place is not None and place.iso_code:
                iso2 = self.ctx.countries.resolve_iso2(place.iso_code).iso2
        add(id_type, number, iso2, raw_type or "identification-document")

    def _day_month_year(self, when: ET.Element, entity_type: EntityType) -> str | None:
        """The date at the precision given (``1952``, ``1952-10``, ``1952-10-07``), or None."""
        calendar = (when.get("calendar") or "gregorian").strip().casefold()
        raw = "-".join(when.get(a) or "" for a in ("year", "month", "day")).strip("-")
        if calendar != "gregorian":
            self.ctx.audit("unknown_value", "day-month-year@calendar", f"{when.get('calendar')}: {raw}")
            return None
        try:
            year = int(when.get("year") or "")
            month = int(when.get("month")) if when.get("month") else None
            day = int(when.get("day")) if when.get("day") else None
            if day is not None and month is None:
                raise ValueError("a day without a month")
            found = date(year, month or 1, day or 1)
        except (TypeError, ValueError):
            self.ctx.audit("invalid_date", "day-month-year", raw or None)
            return None
        value = found.isoformat()[: 10 if day else 7 if month else 4]
        if self.header.list_date is not None and found > self.header.list_date:
            self.ctx.audit("implausible_date", f"day-month-year ({entity_type.date_id_type or 'date'})", value)
            return None
        return value

    # ------------------------------------------------------------------ countries, relations
    def _place(self, elem: ET.Element, field_name: str) -> Place | None:
        """The place an element refers to (``place-id``), else a place written inside it."""
        place_id = (elem.get("place-id") or "").strip()
        if place_id:
            found = self.header.places.get(place_id)
            if found is None:
                self.ctx.audit("unknown_value", f"{field_name}@place-id", place_id)
            else:
                return found
        country = _first(elem, "country")
        if country is not None:
            return Place("", country.get("iso-code"), text(country), text(_first(elem, "location")))
        return None

    def _links(self, body: ET.Element, ssid: str, entity_type: EntityType) -> None:
        written: set[tuple[str, str]] = set()

        def link(link_type: str, iso_code: str | None, raw: str | None) -> None:
            iso_code = (iso_code or "").strip() or None
            ident = (link_type, (iso_code or "").upper() or (raw or ""))
            if ident == (link_type, "") or ident in written:
                return
            written.add(ident)
            self.ctx.link_country(ssid, link_type, raw or iso_code, iso2=iso_code)

        for identity, _main in self._identities(body):
            for nationality in self._children(identity, "nationality"):
                country = _first(nationality, "country")
                if country is not None:
                    link("nationality", country.get("iso-code"), text(country))
            for address in self._children(identity, "address"):
                place = self._place(address, "address")
                if place is not None:
                    link("address", place.iso_code, place.country)
            for birth in self._children(identity, "place-of-birth"):
                place = self._place(birth, "place-of-birth")
                if place is not None:
                    link("birth", place.iso_code, place.country)
        if entity_type.entity_type == "vessel":
            for info in self._infos(body):
                for pattern in info_patterns().get("flag", ()):
                    for found in pattern.finditer(info):
                        link("flag", None, found.group(1).strip())

    def _relations(self, body: ET.Element, key: str, ssid: str) -> None:
        for relation in self._children(body, "relation"):
            raw = " ".join((relation.get("relation-type") or "").split())
            staged = relation_types().get(raw.casefold())
            if staged is None:
                self.ctx.audit("unknown_value", "relation@relation-type", raw or None)
                staged = "other"
            other = (relation.get("target-id") or "").strip()
            remark = text(_first(relation, "remark"))
            self.ctx.add("relations", {
                "entity_key": key, "source_record_id": ssid,
                "related_entity_key": self.ctx.key(other) if other else None, "related_name": None,
                "relation_type": staged, "raw_relation": f"{raw}: {remark}" if remark else (raw or None),
            })


def _birth_date(when: ET.Element) -> tuple[str, BirthDate | None]:
    """A ``day-month-year`` as a birth date: its attributes written ``name=value`` and the date at
    the precision given (a ``quality`` that says approximate makes it approximate)."""
    values = {a: v for a in ("day", "month", "year", "calendar", "quality")
              if (v := " ".join((when.get(a) or "").split()))}
    raw = "; ".join(f"{a}={v}" for a, v in values.items()) if set(values) & {"day", "month", "year"} else ""
    if values.get("calendar", "gregorian").casefold() != "gregorian":
        return raw, None

    def number(name: str) -> int | None:
        value = values.get(name, "")
        return int(value) if value.isdigit() else None

    approximate = "approx" in values.get("quality", "").casefold()
    return raw, from_parts(number("year"), number("month"), number("day"), approximate)


def imo_check_digit_ok(number: str) -> bool:
    """IMO ship numbers: 7 digits, the last the sum of the first six weighted 7..2, modulo 10."""
    if len(number) != 7 or not number.isdigit():
        return False
    return sum(int(d) * w for d, w in zip(number[:6], range(7, 1, -1), strict=True)) % 10 == int(number[6])
