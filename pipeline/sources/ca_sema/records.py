"""What the two layouts of ``sema-lmes.xml`` share: reading a ``<record>`` by the role of each
element (``lookups/elements.csv``), and writing it into the staged tables.

One ``<record>`` is one listing under one regime -> one ``designations`` row:

- ``entity_type``: ``person`` when it has a ``LastName`` or ``GivenName``, ``vessel`` when it has a
  ``ShipIMONumber``, else ``organization``.
- ``programs``: the regime's programme code (``lookups/regimes.csv``, matched on the English half
  of the bilingual ``Country`` label); ``list``: the Act (``SEMA`` or ``JVCFOA``). ``Country`` is
  the regime, never the target's nationality: it writes **no** ``country_links`` row. Its target
  country comes from the programme (``programs.csv``, authority ``ca``) in the models.
- ``source_record_id`` / ``entity_key``: derived from the record's content (:mod:`.identity`).
- ``reference_number``: the list's own key within the file, ``<Country>|<Schedule>|<Item>``.
- ``listed_on``: ``DateOfListing`` when it is one full date (current layout only).
- ``remarks``: the title of a person (``Title: ...``) or the type of a vessel (``Vessel type: ...``).
- ``names``: the primary name (given name first for people) and each alias (:mod:`.aliases`).
- ``identifiers``: ``imo`` (check digit verified, a wrong one audited), ``birth_date`` of a
  person and ``build_date`` of a vessel as ISO 8601 values at the precision the text gives
  (:mod:`.dates`); a date the parser cannot read is audited (``unparsed_date``) with its raw text.
- ``birth_dates``: a person's date of birth, one row per alternative (``1963 or 1964``), read by
  the shared grammar (:mod:`pipeline.birth_dates`: ``Sep-99`` against the listing year,
  ``born in the early 1970s`` as 1970-1973); a vessel's build date is no birth date.
"""

from __future__ import annotations

import csv
import functools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from pipeline.birth_dates import RecordBirthDates
from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.ca_sema.aliases import is_original_script, split_aliases
from pipeline.sources.ca_sema.dates import FreeDate, parse_free_date
from pipeline.sources.ca_sema.identity import RecordIds, identity
from pipeline.xmlsafe import iter_records, local, text

ROOT = "data-set"
RECORD = "record"
LOOKUPS = Path(__file__).resolve().parent / "lookups"
LAYOUTS = ("legacy_xml", "current_xml")


@functools.cache
def _csv(name: str) -> tuple[dict[str, str], ...]:
    with open(LOOKUPS / name, encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


@functools.cache
def roles(layout: str) -> dict[str, str]:
    """Element name -> role, for the elements ``layout`` has."""
    return {row["element"]: row["role"] for row in _csv("elements.csv") if layout in row["layouts"].split()}


@functools.cache
def only_in(layout: str) -> frozenset[str]:
    """The elements that only ``layout`` has (what tells the layouts apart)."""
    others = {e for other in LAYOUTS if other != layout for e in roles(other)}
    return frozenset(set(roles(layout)) - others)


@dataclass(frozen=True)
class Regime:
    program: str
    act: str


@functools.cache
def _regimes() -> dict[str, Regime]:
    return {row["label"].casefold(): Regime(row["program"], row["act"]) for row in _csv("regimes.csv")}


def english_label(label: str) -> str:
    """The English half of a bilingual label: ``Russia / Russie`` -> ``Russia``."""
    return label.split(" / ", 1)[0].strip()


def imo_check_digit_ok(number: str) -> bool:
    """IMO ship numbers: 7 digits, the last the sum of the first six weighted 7..2, modulo 10."""
    if not re.fullmatch(r"\d{7}", number):
        return False
    digits = [int(c) for c in number]
    return sum(d * w for d, w in zip(digits[:6], range(7, 1, -1), strict=True)) % 10 == digits[6]


@dataclass
class FileState:
    """What one snapshot's parse remembers across records: ids handed out, official keys seen."""

    ids: RecordIds
    keys: dict[tuple[str, str, str], str]


def parse_layout(f: InputFile, ctx: ParseContext, layout: str, state: FileState) -> int:
    """Stream one file of ``layout`` into the staged tables; returns the number of records."""
    own = roles(layout)
    foreign = {e for other in LAYOUTS if other != layout for e in only_in(other)}
    seen = 0
    records = iter_records(f.path, ctx.source, {RECORD}, lambda: ctx.record, name=f.name)
    for parents, elem in records:
        seen += 1
        ctx.record = f"record {seen}"
        if parents != ROOT:
            raise ctx.error("record under data-set", f"a <record> sits under <{parents}>, not under <{ROOT}>")
        _write(_read(elem, ctx, own, foreign, layout, seen), ctx, state)
    if seen == 0:
        raise SourceError(ctx.source, f.name, "has records", f"no <{RECORD}> element under <{ROOT}>")
    return seen


@dataclass
class Record:
    """One ``<record>``: its values and element names by role, and its position in the file."""

    position: int
    values: dict[str, str]
    elements: dict[str, str]

    def get(self, role: str) -> str | None:
        return self.values.get(role)


def _read(elem: ET.Element, ctx: ParseContext, own: dict[str, str], foreign: set[str], layout: str,
          position: int) -> Record:
    """The record's values by role; unknown elements audited, another layout's refused."""
    record = Record(position, {}, {})
    for child in elem:
        tag = local(child.tag)
        for sub in child:
            ctx.audit("unknown_field", f"{tag}/{local(sub.tag)}", text(sub))
        role = own.get(tag)
        if role is None:
            if tag in foreign:
                raise ctx.error("one layout per file", f"<{tag}> belongs to another layout than this file's "
                                f"({layout}, from its first records)")
            ctx.audit("unknown_field", tag, text(child))
            continue
        value = text(child)
        if value is None:
            continue
        if role in record.values:
            ctx.audit("repeated_field", tag, value)
            continue
        record.values[role] = value
        record.elements[role] = tag
    return record


def _free_date(ctx: ParseContext, element: str, raw: str, not_after: int | None) -> FreeDate:
    parsed = parse_free_date(raw, not_after)
    if not parsed.parsed:
        ctx.audit("unparsed_date", element, raw)
    return parsed


def _check_key(rec: Record, ctx: ParseContext, state: FileState) -> str:
    """The list's own key ``Country|Schedule|Item``, checked unique in the file."""
    label, schedule, item = rec.get("regime"), rec.get("schedule"), rec.get("item")
    official = f"{label or ''}|{schedule or ''}|{item or ''}"
    ctx.record = f"record {rec.position} ({official})"
    if label is None:
        raise ctx.error("Country present", "the record names no regime (<Country> is empty or missing)")
    if item is None:
        ctx.audit("missing_field", "Item", None)
    key = (label, schedule or "", item or "")
    if key in state.keys:
        ctx.violation("Country|Schedule|Item unique", f"the key {official!r} is also the key of {state.keys[key]}")
    state.keys.setdefault(key, f"record {rec.position}")
    return official


def _regime(rec: Record, ctx: ParseContext) -> Regime:
    label = rec.values["regime"]
    regime = _regimes().get(english_label(label).casefold())
    if regime is None:
        ctx.audit("unknown_value", rec.elements["regime"], label)
        return Regime(english_label(label), ctx.meta.list)
    return regime


def _kind(rec: Record, ctx: ParseContext) -> tuple[str, str]:
    """The entity type and primary name: a person if it has names, a vessel if an IMO number."""
    person = " ".join(p for p in (rec.get("given_name"), rec.get("last_name")) if p)
    if person:
        for role in ("entity_name", "imo"):
            if role in rec.values:
                ctx.audit("unplaced_value", rec.elements[role], rec.values[role])
        return "person", person
    if entity := rec.get("entity_name"):
        return ("vessel" if rec.get("imo") else "organization"), entity
    raise ctx.error("has a name", "the record has no LastName, GivenName or entity name")


def _write(rec: Record, ctx: ParseContext, state: FileState) -> None:
    official = _check_key(rec, ctx, state)
    ctx.tick()
    regime = _regime(rec, ctx)
    kind, primary = _kind(rec, ctx)

    listing = _free_date(ctx, rec.elements["listed_on"], rec.values["listed_on"], None) \
        if "listed_on" in rec.values else None
    listed_on = listing.full_date() if listing else None
    if listing and listing.parsed and listed_on is None:
        ctx.audit("imprecise_date", rec.elements["listed_on"], listing.raw)
    birth = None
    if "birth_date" in rec.values:
        if kind == "organization":
            ctx.audit("unplaced_value", rec.elements["birth_date"], rec.values["birth_date"])
        else:
            birth = _free_date(ctx, rec.elements["birth_date"], rec.values["birth_date"],
                               listed_on.year if listed_on else None)
    imo = rec.get("imo") if kind == "vessel" else None
    imo_number = re.sub(r"(?i)^imo\s*", "", imo).replace(" ", "") if imo else None

    names = " ".join(p for p in (rec.get("last_name"), rec.get("given_name")) if p)
    ident = identity(imo=imo_number, person_name=names if kind == "person" else None,
                     entity_name=rec.get("entity_name"))
    birth_token = birth.token() if birth and kind == "person" else None
    record_id, clash = state.ids.assign(regime.program, ident, birth_token, rec.get("schedule"), rec.get("item"))
    if clash:
        ctx.violation("record id unique", f"{record_id!r}: the file repeats this record's regime, name, date "
                      "of birth, schedule and item")
    entity_key = ctx.key(f"{ident}/{birth_token}" if birth_token else ident)

    remarks = None
    if title := rec.get("title"):
        remarks = f"Vessel type: {title}" if kind == "vessel" else f"Title: {title}"
    ctx.add("designations", {
        "designation_id": f"{ctx.source}:{regime.act}:{record_id}",
        "authority": ctx.meta.authority,
        "list": regime.act,
        "source_record_id": record_id,
        "entity_key": entity_key,
        "entity_type": kind,
        "primary_name": primary,
        "programs": [regime.program],
        "listed_on": listed_on,
        "reference_number": official,
        "remarks": remarks,
    })
    row = {"entity_key": entity_key, "source_record_id": record_id}
    ctx.add("names", {**row, "name": primary, "name_type": "primary", "quality": None})
    for alias in split_aliases(rec.get("aliases") or ""):
        if alias != primary:
            ctx.add("names", {**row, "name": alias, "quality": None,
                              "name_type": "original_script" if is_original_script(alias) else "aka"})
    if imo_number:
        if not imo_check_digit_ok(imo_number):
            ctx.audit("invalid_imo", rec.elements["imo"], imo)
        ctx.add("identifiers", {**row, "id_type": "imo", "id_value": imo_number, "country_iso2": None,
                                "raw_type": rec.elements["imo"]})
    if kind == "person" and "birth_date" in rec.values:
        RecordBirthDates(ctx, entity_key, record_id).text(rec.values["birth_date"], rec.elements["birth_date"],
                                                          listed_on.year if listed_on else None)
    for value in birth.values if birth else ():
        ctx.add("identifiers", {**row, "id_type": "build_date" if kind == "vessel" else "birth_date",
                                "id_value": value, "country_iso2": None, "raw_type": rec.elements["birth_date"]})
