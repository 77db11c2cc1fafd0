"""What the three UK layouts share: one designation gathered from its rows or element, the value
grammar of the UK files, and the writer of the staged rows.

A UK designation is one target under one regime: a ConList (``Group ID``, ``Regime``) pair, an
FCDO ``Unique ID``. The target is the OFSI group (ConList ``Group ID`` = FCDO ``OFSI Group ID``),
and both layouts name a designation by it: ``group-<Group ID>-<regime code>`` (``group-13226-RUS``;
the code is the regime's prefix in the UK references, ``lookups/regimes.csv``). So a designation
keeps its id from the first ConList (every ConList has ``Group ID``; only those from February 2022
on carry the UK reference) into the FCDO list, its designations share one ``entity_key``
(``gb_hmt:group-<Group ID>``), and each carries an ``ofsi_group_id`` identifier. The FCDO
``Unique ID`` (ConList ``(UK Sanctions List Ref)``) is the ``reference_number`` and a
``uk_reference`` identifier. An FCDO designation without an OFSI group (a specified ship, a travel
ban) is named and keyed by its ``Unique ID``.

The listing date is ``Date Designated`` (ConList ``UK Sanctions List Date Designated``): see the
``notes`` of ``source.yml`` for why, not ConList ``Listed On``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from pipeline.birth_dates import RecordBirthDates
from pipeline.sources.base import ParseContext
from pipeline.sources.gb_hmt import vocab

_NUMBERED = re.compile(r"\(\d{1,3}\)\s*")
_DMY = re.compile(r"(\d{1,2}|dd)/(\d{1,2}|mm)/(\d{4})")
_REF = re.compile(r"\b([A-Z]{3}\d{3,5})\b")
_UN_REF = re.compile(r"\b([A-Z]{2}[a-z]\.\d{1,4})\b")
_IMO = re.compile(r"^(?:IMO)?\s*(\d{7})$", re.IGNORECASE)
_LABEL = re.compile(r"^\s*[A-Za-z][A-Za-z ]*:\s*")
_REPORT_DATE_FORMATS = ("%d-%b-%Y", "%d/%m/%Y", "%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%d-%B-%Y")
#: Audit values are cut to this many characters.
AUDIT_CHARS = 200


def clean(value: str | None) -> str | None:
    """A cell or element text: single spaces, ``None`` when blank."""
    if not value or value.isspace():
        return None
    return " ".join(value.split())


def split_numbered(value: str | None) -> list[str]:
    """``(1) Lebanon (2) Belgium`` -> ``['Lebanon', 'Belgium']``; ``(1) Central African Republic.
    (2) South Sudan`` likewise (numbering separators and their trailing full stops go); a value
    without numbering is one value. Empty parts (``(1) - (2) x``) are dropped."""
    value = clean(value)
    if value is None:
        return []
    if not value.startswith("(1)"):
        return [value]
    parts = [p.strip().rstrip(".,;").strip() for p in _NUMBERED.split(value)]
    return [p for p in parts if p and p != "-"]


def parse_date(value: str | None) -> tuple[date | None, str | None]:
    """A UK date (``dd/mm/yyyy``; ISO ``yyyy-mm-dd`` is read too) -> (date, problem). Unknown
    parts (``00/00/1994``, ``dd/mm/1971``) give ``partial_date``; anything else unreadable,
    including an American ``mm/dd/yyyy`` that is no valid day/month, gives ``invalid_date``."""
    value = clean(value)
    if value is None:
        return None, None
    match = _DMY.fullmatch(value)
    if match:
        day, month, year = match.groups()
        if not day.isdigit() or not month.isdigit() or int(day) == 0 or int(month) == 0:
            return None, "partial_date"
        try:
            return date(int(year), int(month), int(day)), None
        except ValueError:
            return None, "invalid_date"
    try:
        return date.fromisoformat(value), None
    except ValueError:
        return None, "invalid_date"


def parse_report_date(text: str) -> date | None:
    """The publication date in a first line such as ``Report Date: 08-Oct-2026`` (a time after
    the date is ignored) or a ``DateGenerated`` element (``02/09/2026``)."""
    value = clean(_LABEL.sub("", text, count=1))
    if value is None:
        return None
    for candidate in (value.strip(" ,"), value.split()[0].strip(" ,")):
        for fmt in _REPORT_DATE_FORMATS:
            try:
                return datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
    return None


def resolve_regime(raw: str | None, ctx: ParseContext, field_name: str) -> vocab.Regime | None:
    """The regime of a label (``Russia``) or regulation title; an unknown one is audited and kept
    as written (``programs`` then holds the raw text, reported by the programme marts)."""
    if raw is None:
        return None
    regime = vocab.regimes().get(vocab.norm(raw))
    if regime is None:
        ctx.audit("unknown_value", field_name, raw[:AUDIT_CHARS])
        return vocab.Regime(raw, "")
    return regime


def uk_refs(text: str | None) -> list[str]:
    """The UK Sanctions List references at the start of a ``(UK Sanctions List Ref)`` value:
    ``RUS2305. Financial sanctions ...`` -> ``['RUS2305']``; ``BEL0047 and GHR0051. Listed under
    ...`` -> both. A UN reference written there instead (``SDi.005``) is not one."""
    if not text:
        return []
    head = re.split(r"\.\s|\.$", text, maxsplit=1)[0]
    return _REF.findall(head)


def un_ref(text: str | None) -> str | None:
    """The UN reference at the start of a ``(UN Ref)`` value (``SOi.023. Listed pursuant ...``)."""
    if not text:
        return None
    match = _UN_REF.match(text.strip())
    return match.group(1) if match else None


def imo_number(value: str) -> str:
    """``IMO9826902`` / ``9826902`` -> ``9826902``; anything else as written."""
    match = _IMO.match(value.strip())
    return match.group(1) if match else value.strip()


@dataclass
class Designation:
    """One UK designation gathered from its rows (CSV) or element (XML)."""

    record_id: str
    group_id: str | None
    regime: vocab.Regime | None
    entity_type: str | None = None
    listed_on: date | None = None
    primary_name: str | None = None
    un_reference: str | None = None
    uk_reference: str | None = None
    #: ConList: the references its ``(UK Sanctions List Ref)`` gives (one is chosen at the end);
    #: ``None`` when it has no such key
    uk_candidates: list[str] | None = None
    remarks: list[str] = field(default_factory=list)
    #: (name, name_type) -> quality, in order of appearance
    names: dict[tuple[str, str], str | None] = field(default_factory=dict)
    links: dict[tuple[str, str], None] = field(default_factory=dict)
    ids: dict[tuple[str, str], str] = field(default_factory=dict)
    relations: dict[tuple[str, str], str] = field(default_factory=dict)
    #: date of birth as written -> the field it came from, in order of appearance
    birth_dates: dict[str, str] = field(default_factory=dict)
    first_name: str | None = None

    def name(self, name: str | None, name_type: str, quality: str | None) -> None:
        name = clean(name)
        if name is None:
            return
        if self.first_name is None:
            self.first_name = name
        if name_type == "primary" and self.primary_name is None:
            self.primary_name = name
        self.names.setdefault((name, name_type), quality)

    def remark(self, text: str | None) -> None:
        text = clean(text)
        if text and text not in self.remarks:
            self.remarks.append(text)

    def apply(self, rule: vocab.FieldRule, field_name: str, raw: str | None) -> None:
        """Place a generic field (``country``, ``id``, ``relation``, ``birth_date``) by its rule;
        numbered multi-values become one link, identifier, relation or birth date each."""
        for value in split_numbered(raw):
            if rule.action == "country":
                self.links.setdefault((rule.value, value), None)
            elif rule.action == "id":
                self.ids.setdefault((rule.value, imo_number(value) if rule.value == "imo" else value), field_name)
            elif rule.action == "relation":
                self.relations.setdefault((value, rule.value), field_name)
            elif rule.action == "birth_date":
                self.birth_dates.setdefault(value, field_name)

    @property
    def entity_id(self) -> str:
        return f"group-{self.group_id}" if self.group_id else self.record_id

    def assign_id(self, label: str | None, used: set[str], ctx: ParseContext) -> str:
        """Set and return the designation's id (see the module docstring): the group and regime
        code, else the UK reference; an id another designation of the file already has is audited
        (``duplicate_record``) and made unique with the UK reference or a counter."""
        code = (self.regime.prefix if self.regime else "") or _slug(label or "")
        candidates = ([f"group-{self.group_id}-{code}"] if self.group_id and code else []) + (
            [self.uk_reference] if self.uk_reference else []) or [f"group-{self.group_id}"]
        chosen = next((c for c in candidates if c not in used), None)
        if chosen != candidates[0]:
            ctx.audit("duplicate_record", "designation id", candidates[0])
        if chosen is None:
            chosen = next(f"{candidates[0]}-{n}" for n in range(2, len(used) + 3) if f"{candidates[0]}-{n}" not in used)
        self.record_id = chosen
        used.add(chosen)
        return chosen


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", label).strip("-")


def write(des: Designation, ctx: ParseContext) -> None:
    """Write one designation and its names, country links, identifiers and relations."""
    rid = des.record_id
    ctx.record = rid
    key = ctx.key(des.entity_id)
    if des.entity_type is None:
        raise ctx.error("known entity type", "the designation has no Individual/Entity/Ship type", rid)
    primary = des.primary_name or des.first_name
    if primary is None:
        raise ctx.error("has a name", "the designation has no name (Name 1-6 all empty)", rid)
    if des.primary_name is None:
        ctx.audit("no_primary_name", "name type", primary[:AUDIT_CHARS])
    ctx.add("designations", {
        "designation_id": f"{ctx.source}:{ctx.meta.list}:{rid}",
        "authority": ctx.meta.authority,
        "list": ctx.meta.list,
        "source_record_id": rid,
        "entity_key": key,
        "entity_type": des.entity_type,
        "primary_name": primary,
        "programs": [des.regime.program] if des.regime else [],
        "listed_on": des.listed_on,
        "reference_number": des.uk_reference,
        "remarks": " ".join(des.remarks) or None,
    })
    if des.primary_name is None:
        des.names = {(primary, "primary"): None, **des.names}
    for (name, name_type), quality in des.names.items():
        ctx.add("names", {"entity_key": key, "source_record_id": rid, "name": name, "name_type": name_type,
                          "quality": quality})
    for link_type, raw_value in des.links:
        ctx.link_country(rid, link_type, raw_value, entity_key=key)
    identifiers = {}
    if des.group_id:
        identifiers[("ofsi_group_id", des.group_id)] = "OFSI Group ID"
    if des.uk_reference:
        identifiers[("uk_reference", des.uk_reference)] = "UK Sanctions List Ref"
    if des.un_reference:
        identifiers[("un_reference", des.un_reference)] = "UN Reference Number"
    identifiers.update(des.ids)
    for (id_type, id_value), raw_type in identifiers.items():
        ctx.add("identifiers", {"entity_key": key, "source_record_id": rid, "id_type": id_type, "id_value": id_value,
                                "country_iso2": None, "raw_type": raw_type})
    births = RecordBirthDates(ctx, key, rid)
    for raw_date, field_name in des.birth_dates.items():
        births.text(raw_date, field_name)
    for (related_name, relation_type), raw_relation in des.relations.items():
        ctx.add("relations", {"entity_key": key, "source_record_id": rid, "related_entity_key": None,
                              "related_name": related_name, "relation_type": relation_type,
                              "raw_relation": raw_relation})
    ctx.tick()
