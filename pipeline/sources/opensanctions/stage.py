"""One OpenSanctions target as the staged tables hold it, whatever layout it came from.

A layout reader (:mod:`.entities` for FtM JSON lines and deltas, :mod:`.simple_csv` for
``targets.simple.csv``) builds a :class:`Target` and hands it to :func:`write_target`, which writes
one ``designations`` row per list (OpenSanctions dataset) the target is staged under, and the
target's names, country links, identifiers and relations once (they belong to the entity, keyed
``opensanctions:<id>``). The authority of every designation is ``opensanctions`` (an aggregator:
its rows are never added to the official lists' counts); the list is the dataset that publishes
the listing (``us_ofac_sdn``, ``eu_fsf``...), so OpenSanctions' view of one authority can be
compared with the authority's own file.

Country values are OpenSanctions' lower-case ISO 3166-1 codes plus its own codes
(``lookups/country_codes.csv``: ``zz``, ``eu``, ``ua-cri``...); free-text places (a birth place,
an address line) are read for a country only when exactly one of their comma-separated parts is a
country name the crosswalk knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from pipeline.birth_dates import RecordBirthDates
from pipeline.reference import CountryMatch
from pipeline.sources.base import ParseContext
from pipeline.sources.opensanctions import vocab

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_PARTIAL_DATE = re.compile(r"\d{4}(-\d{2})?")
_IMO = re.compile(r"(?:IMO)?\s*(\d{7})", re.IGNORECASE)
_PLACE_PARTS = re.compile(r"[,;\n()]")
#: The link type of a tie that only the 'any' basis may count (Thing.country, targets.simple.csv's
#: union of every country property, a document's issuing country): the staged schema has no 'any'
#: link type, and 'other' is the one the attribution model counts for the 'any' basis alone.
ANY_LINK = "other"
#: A part of a free-text place this short is a code or an abbreviation, not a country name.
_MIN_PLACE_PART = 4


@dataclass
class Listing:
    """One list (dataset) that lists the target: one ``designations`` row."""

    dataset: str
    programs: set[str] = field(default_factory=set)
    listed_on: date | None = None
    references: set[str] = field(default_factory=set)
    remarks: list[str] = field(default_factory=list)


@dataclass
class Target:
    """A designated entity and what the staged tables keep of it."""

    id: str
    schema: str
    entity_type: str
    caption: str
    listings: list[Listing]
    #: (name, name_type, quality)
    names: list[tuple[str, str, str | None]] = field(default_factory=list)
    #: (link_type, OpenSanctions country code)
    codes: list[tuple[str, str]] = field(default_factory=list)
    #: (link_type, free text naming a place)
    places: list[tuple[str, str]] = field(default_factory=list)
    #: (id_type, value, OpenSanctions country code or None, raw_type)
    identifiers: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    #: (related entity id, related name, relation_type, raw_relation): the target is the subject
    relations: list[tuple[str | None, str | None, str, str]] = field(default_factory=list)
    #: (date of birth as written, the property or column it came from)
    birth_dates: list[tuple[str, str]] = field(default_factory=list)


def parse_date(ctx: ParseContext, field_name: str, value: str | None) -> date | None:
    """A full ISO date (``2022-06-03``, ``2015-03-27T04:00``); a year or month alone (``2022``,
    ``2022-03``) is not a listing day: audited ``imprecise_date`` and ``None``; anything else is
    audited ``unreadable_date``."""
    if not value:
        return None
    text = value.strip()
    found = _ISO_DATE.match(text)
    if found:
        try:
            return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        except ValueError:
            pass
    elif _PARTIAL_DATE.fullmatch(text):
        ctx.audit("imprecise_date", field_name, text)
        return None
    ctx.audit("unreadable_date", field_name, text)
    return None


def imo_digits(value: str) -> str | None:
    """The seven digits of an IMO number written ``IMO9253325`` or ``9253325``; else ``None``."""
    found = _IMO.fullmatch(value.strip())
    return found.group(1) if found else None


def code_match(ctx: ParseContext, code: str) -> CountryMatch:
    """An OpenSanctions country code: ISO 3166-1 alpha-2 through the crosswalk, OpenSanctions' own
    codes through ``lookups/country_codes.csv`` (a region of a country, or no country)."""
    key = code.strip().lower()
    special = vocab.special_codes().get(key)
    if special is not None:
        return CountryMatch(special.iso2, special.region, True)
    if len(key) != 2:
        return CountryMatch(None, None, False)
    return ctx.countries.resolve_iso2(key)


def place_match(ctx: ParseContext, text: str) -> CountryMatch | None:
    """The country a free-text place names: exactly one of its parts (split at commas, semicolons,
    brackets and line breaks) is a country name the crosswalk knows; ``None`` when none or several
    countries are named."""
    found: dict[str, CountryMatch] = {}
    for part in _PLACE_PARTS.split(text):
        part = part.strip()
        if len(part) < _MIN_PLACE_PART:
            continue
        match = ctx.countries.resolve(part)
        if match.iso2:
            found.setdefault(match.iso2, match)
    return next(iter(found.values())) if len(found) == 1 else None


def _link(ctx: ParseContext, record_id: str, link_type: str, raw_value: str, match: CountryMatch) -> None:
    if match.iso2 is None:
        ctx.audit("unmapped_country" if not match.matched else "non_country", link_type, raw_value)
    ctx.add("country_links", {
        "entity_key": ctx.key(record_id),
        "source_record_id": record_id,
        "link_type": link_type,
        "country_iso2": match.iso2,
        "region": match.region,
        "country_status": "mapped" if match.iso2 else ("non_country" if match.matched else "unknown"),
        "raw_value": raw_value,
    })


def write_target(ctx: ParseContext, target: Target) -> None:
    """Write one target: a designation per listing, then its names, links, identifiers, birth dates
    and relations."""
    ctx.record = target.id
    key = ctx.key(target.id)
    for listing in sorted(target.listings, key=lambda item: item.dataset):
        remarks = "; ".join(dict.fromkeys(r for r in listing.remarks if r))
        ctx.add("designations", {
            "designation_id": f"{ctx.source}:{listing.dataset}:{target.id}",
            "authority": ctx.meta.authority,
            "list": listing.dataset,
            "source_record_id": target.id,
            "entity_key": key,
            "entity_type": target.entity_type,
            "primary_name": target.caption,
            "programs": sorted(listing.programs),
            "listed_on": listing.listed_on,
            "reference_number": "; ".join(sorted(listing.references)) or None,
            "remarks": remarks or None,
        })
    seen_names: set[str] = set()
    for name, name_type, quality in [(target.caption, "primary", None), *target.names]:
        name = " ".join(name.split())
        if not name or name in seen_names:
            continue
        seen_names.add(name)
        ctx.add("names", {"entity_key": key, "source_record_id": target.id, "name": name,
                          "name_type": name_type, "quality": quality})
    seen_links: set[tuple[str, str | None, str | None]] = set()
    for link_type, code in target.codes:
        match = code_match(ctx, code)
        marker = (link_type, match.iso2 or code.strip().lower(), match.region)
        if marker not in seen_links:
            seen_links.add(marker)
            _link(ctx, target.id, link_type, code.strip(), match)
    coded = {link_type for link_type, *_ in seen_links}
    for link_type, text in target.places:
        if link_type in coded:
            continue  # the entity has a coded country of this type: the free text adds nothing
        match = place_match(ctx, text)
        if match is None:
            ctx.audit("place_without_country", link_type, text[:200])
            continue
        marker = (link_type, match.iso2, match.region)
        if marker not in seen_links:
            seen_links.add(marker)
            _link(ctx, target.id, link_type, text, match)
    seen_ids: set[tuple[str, str]] = set()
    for id_type, value, code, raw_type in target.identifiers:
        value = value.strip()
        if id_type == "imo":
            digits = imo_digits(value)
            if digits is None:
                ctx.audit("unreadable_imo_number", raw_type, value)
                id_type = "other"
            else:
                value = digits
        if not value or (id_type, value) in seen_ids:
            continue
        seen_ids.add((id_type, value))
        country = code_match(ctx, code).iso2 if code else None
        ctx.add("identifiers", {"entity_key": key, "source_record_id": target.id, "id_type": id_type,
                                "id_value": value, "country_iso2": country, "raw_type": raw_type})
    births = RecordBirthDates(ctx, key, target.id)
    for raw, field_name in target.birth_dates:
        births.text(raw, field_name)
    for related_id, related_name, relation_type, raw in target.relations:
        ctx.add("relations", {"entity_key": key, "source_record_id": target.id,
                              "related_entity_key": ctx.key(related_id) if related_id else None,
                              "related_name": related_name, "relation_type": relation_type, "raw_relation": raw})


def staged_lists(ctx: ParseContext, names: list[str]) -> list[str]:
    """The datasets among ``names`` whose listings are staged: a dataset ``lookups/datasets.csv``
    marks as not a sanctions list (PEPs, aggregates of other lists, debarments) is left out and
    audited ``dataset_not_staged``; one it does not know is staged and audited ``unknown_dataset``."""
    kept = []
    for name in dict.fromkeys(names):
        info = vocab.datasets().get(name)
        if info is None:
            ctx.audit("unknown_dataset", "datasets", name)
        elif not info.staged:
            ctx.audit("dataset_not_staged", "datasets", name)
            continue
        kept.append(name)
    return kept


def assign_programs(ctx: ParseContext, listings: list[Listing], program_ids: list[str]) -> None:
    """Programme keys the target carries itself (``programId``, ``program_ids``): to its only listing,
    else to the listing of the programme's dataset (``lookups/program_datasets.csv``); a programme
    whose dataset is not among the listings goes to every listing (audited ``program_dataset_unknown``)."""
    if not listings:
        return
    by_dataset = {listing.dataset: listing for listing in listings}
    for program in dict.fromkeys(p.strip() for p in program_ids if p.strip()):
        if len(listings) == 1:
            listings[0].programs.add(program)
            continue
        owner = by_dataset.get(vocab.program_datasets().get(program, ""))
        if owner is not None:
            owner.programs.add(program)
        else:
            ctx.audit("program_dataset_unknown", "programId", program)
            for listing in listings:
                listing.programs.add(program)
