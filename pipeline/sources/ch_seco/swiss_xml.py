"""SECO's sanctions list XML (root ``swiss-sanctions-list``) -> staged tables.

Layout: ``swiss-sanctions-list[@list-type, @date]`` holding ``sanctions-program`` s (programme key
and name in four languages, its ``sanctions-set`` s, origin), ``place`` s (location, area, country
with ``iso-code``) and ``target`` s (``sanctions-set-id`` s, ``individual`` / ``entity`` /
``object``, each with identities, justifications, relations and other information, and the target's
``modification`` history). The complete list (``list-type="whole-list"``) keeps de-listed targets
with their history; an amendment file (``list-type="amendment"``, SECO's format example) holds the
changes of one date and is refused as a snapshot of the list by a strict parse.

The file is read twice, streaming both times (memory stays flat): first the programmes, places
and the list's own attributes, which targets refer to and which may come after them; then the
targets, each handed to :class:`.record.Stager`. A target inside a modification's ``added`` /
``removed`` block is a copy of an earlier state of the record: it is not read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pipeline.partial import AMENDMENT
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.ch_seco.history import parse_date
from pipeline.sources.ch_seco.record import Header, Place, SanctionsSet, Stager
from pipeline.sources.ch_seco.schema import audit_unknown, clip
from pipeline.sources.ch_seco.vocab import list_kinds, program_code
from pipeline.xmlsafe import expect_root, iter_records, local, text

ROOT = "swiss-sanctions-list"
TOP_LEVEL = frozenset({"sanctions-program", "place", "target"})


def _by_lang(elem: ET.Element, tag: str) -> dict[str, str]:
    """lang -> text of the ``tag`` children (the first of each language)."""
    found: dict[str, str] = {}
    for child in elem:
        if local(child.tag) == tag and (value := text(child)):
            found.setdefault((child.get("lang") or "").strip().lower(), value)
    return found


def _english(values: dict[str, str]) -> str | None:
    return values.get("eng") or values.get("en") or next(iter(values.values()), None)


def _program(elem: ET.Element, header: Header, ctx: ParseContext) -> None:
    """Record the sanctions sets of one ``sanctions-program``."""
    audit_unknown(elem, ctx)
    key = _english(_by_lang(elem, "program-key"))
    name = _english(_by_lang(elem, "program-name"))
    if key is None:
        ctx.audit("no_value", "sanctions-program/program-key", name)
    code, known = program_code(key or name or "")
    if not known:
        ctx.audit("unknown_value", "sanctions-program/program-key", clip(key or name))
    origin = text(next((c for c in elem if local(c.tag) == "origin"), None))
    labels: dict[str, dict[str, str]] = {}
    for child in elem:
        if local(child.tag) != "sanctions-set":
            continue
        set_id = (child.get("ssid") or "").strip()
        if not set_id:
            ctx.audit("no_value", "sanctions-set@ssid", clip(text(child)))
            continue
        if (value := text(child)) is not None:
            labels.setdefault(set_id, {}).setdefault((child.get("lang") or "").strip().lower(), value)
        else:
            labels.setdefault(set_id, {})
    if not labels:
        ctx.audit("no_sanctions_set", "sanctions-program", f"{elem.get('ssid')}: {key or name}")
    for set_id, by_lang in labels.items():
        known_set = header.sets.get(set_id)
        if known_set is not None and known_set.program != code:
            ctx.audit("conflicting_value", "sanctions-set@ssid",
                      f"{set_id} is in programmes {known_set.program} and {code}: {known_set.program} kept")
            continue
        header.sets.setdefault(set_id, SanctionsSet(set_id, code, key or name or "", _english(by_lang), origin))


def _place(elem: ET.Element, header: Header, ctx: ParseContext) -> None:
    audit_unknown(elem, ctx)
    place_id = (elem.get("ssid") or "").strip()
    if not place_id:
        ctx.audit("no_value", "place@ssid", clip(text(next((c for c in elem if local(c.tag) == "location"), None))))
        return
    country = next((c for c in elem if local(c.tag) == "country"), None)
    location = text(next((c for c in elem if local(c.tag) == "location"), None))
    header.places[place_id] = Place(place_id, country.get("iso-code") if country is not None else None,
                                    text(country), location)


def _root(elem: ET.Element, header: Header, ctx: ParseContext) -> None:
    """The list's own attributes (read when the root closes: its known children are gone by then,
    so what is left are elements the parser does not know, audited)."""
    audit_unknown(elem, ctx)
    list_type = " ".join((elem.get("list-type") or "").split())
    header.list_type = list_type or None
    if not list_type:
        ctx.audit("no_value", f"{ROOT}@list-type", None)
    elif list_type.casefold() not in list_kinds():
        ctx.audit("unknown_value", f"{ROOT}@list-type", list_type)
    header.kind = list_kinds().get(list_type.casefold(), "complete")
    raw_date = elem.get("date")
    try:
        header.list_date = parse_date(raw_date)
    except ValueError:
        raise ctx.error("list date is a date", f"{ROOT}@date is {raw_date!r}, not a date (YYYY-MM-DD)") from None
    if header.list_date is None:
        ctx.audit("no_value", f"{ROOT}@date", "no list date: the snapshot date is the one given to the parse")


def read_header(f: InputFile, ctx: ParseContext) -> Header:
    """First pass: programmes, sets, places and the list's attributes; counts the targets."""
    header = Header()
    tags = set(TOP_LEVEL | {ROOT})
    for parents, elem in iter_records(f.path, ctx.source, tags, lambda: ctx.record, name=f.name):
        tag = local(elem.tag)
        if tag == ROOT and not parents:
            _root(elem, header, ctx)
        elif parents != ROOT:
            continue  # a copy inside a modification's history
        elif tag == "target":
            header.targets += 1
            ctx.record = " ".join((elem.get("ssid") or "").split()) or ctx.record
        elif tag == "sanctions-program":
            _program(elem, header, ctx)
        elif tag == "place":
            _place(elem, header, ctx)
    ctx.record = None
    return header


def parse_swiss_xml(f: InputFile, ctx: ParseContext) -> Stager:
    """Stream one ``swiss-sanctions-list`` file into the staged tables."""
    expect_root(f.path, ctx.source, (ROOT,), ctx.max_bytes, name=f.name)
    header = read_header(f, ctx)
    if header.targets == 0:
        raise ctx.error("has records", f"no <target> in <{ROOT}>")
    if header.kind == "amendment":
        day = header.list_date or "undated"
        if not ctx.accept_partial:
            ctx.violation("complete list", f"the file is an amendment (list-type=\"{header.list_type}\", {day}): it "
                          "holds the changes published that day, not the list (run with --accept-small-lists to "
                          "stage its targets as a partial list)")
        ctx.partial(AMENDMENT, "designations", f"only the targets changed on {day}")
    if header.list_date is not None:
        ctx.set_snapshot(header.list_date)
    stager = Stager(ctx, header)
    for parents, elem in iter_records(f.path, ctx.source, set(TOP_LEVEL), lambda: ctx.record, name=f.name):
        if local(elem.tag) == "target" and parents == ROOT:
            stager.stage(elem)
    return stager
