"""What the classic XML and the legacy CSV layouts share: the record writer and the grammar of
OFAC's free-text ``Remarks``.

In the CSV set nationality, citizenship, place of birth, identity documents, weak aliases and
"Linked To:" relations live only in the remarks: ``; ``-separated phrases, each opening with a
kind (``Passport P0017003 (Belize)``, ``nationality Iran``, ``Linked To: NAME``). The kinds are
data: the identifier types of ``lookups/id_types.csv`` (layout ``remarks``) and the other phrase
kinds of ``lookups/remark_phrases.csv``; the classic XML's ``idType`` values are read through the
same table. A phrase kind the table does not know is audited (``unknown_remark_kind``), never
silently dropped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from pipeline.birth_dates import RecordBirthDates
from pipeline.sources.base import ParseContext
from pipeline.sources.us_ofac_sdn.lists import row_list
from pipeline.sources.us_ofac_sdn.vocab import id_types, read_csv

# A final period belongs to the value when it ends in one of these (``... LTD.``).
_ABBREVIATIONS = {"LTD", "LTDA", "INC", "CORP", "CO", "BHD", "JR", "SR"}
_ISSUED = re.compile(r"(?:^|\s+|,\s*)(?:issued|expires)\b.*$", re.IGNORECASE)
_TRAILING_PAREN = re.compile(r"\s*\(([^()]*)\)\s*$")
_IMO = re.compile(r"^IMO\s*(\d{7})$", re.IGNORECASE)
_SPLIT = re.compile(r";\s*")


@functools.cache
def remark_kinds() -> dict[str, tuple[str, str]]:
    """Remark phrase kind (how the phrase starts) -> (action, argument): ``id`` (identifier type),
    ``id_prefix``, ``ignore``, ``country`` (link type), ``birth`` (place of birth), ``birth_date``, ``relation``,
    ``alias``."""
    table: dict[str, tuple[str, str]] = {raw: ("id", id_type) for raw, id_type in id_types("remarks").items()}
    for row in read_csv("remark_phrases.csv"):
        table[row["phrase"]] = (row["action"], row["value"])
    return table


@functools.cache
def _kind_index() -> dict[str, list[tuple[str, str, str]]]:
    """Prefixes grouped by their lower-cased first word, longest first (longest match wins)."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for prefix, (action, arg) in remark_kinds().items():
        out.setdefault(prefix.split()[0].lower(), []).append((prefix.lower(), action, arg))
    for entries in out.values():
        entries.sort(key=lambda e: -len(e[0]))
    return out


def phrase_kind(phrase: str) -> tuple[int, str, str] | None:
    """(prefix length, action, argument) of the kind a remark phrase or a classic idType starts
    with (case-insensitive, longest prefix wins), None when unknown."""
    words = phrase.split()
    if not words:
        return None
    low = phrase.lower()
    for prefix, action, arg in _kind_index().get(words[0].lower(), []):
        if low.startswith(prefix) and (
            len(low) == len(prefix) or not prefix[-1].isalnum() or not low[len(prefix)].isalnum()
        ):
            return len(prefix), action, arg
    return None


class Record:
    """Writes the rows of one OFAC record, de-duplicating its country links."""

    def __init__(self, ctx: ParseContext, record_id: str) -> None:
        self.ctx = ctx
        self.rid = record_id
        self.key = ctx.key(record_id)
        self._links: set[tuple[str, str]] = set()
        self._births: RecordBirthDates | None = None

    def birth_date(self, raw: str | None, field: str) -> None:
        """A date of birth as OFAC writes it (``12 Feb 1970``, ``circa 1965``, ``1951 to 1953``)."""
        if self._births is None:
            self._births = RecordBirthDates(self.ctx, self.key, self.rid)
        self._births.text(raw, field)

    def link(self, link_type: str, raw_value: str | None) -> None:
        if not raw_value or (link_type, raw_value) in self._links:
            return
        self._links.add((link_type, raw_value))
        self.ctx.link_country(self.rid, link_type, raw_value)

    def birth(self, place: str | None, field: str) -> None:
        """A place of birth ties to a country only when its last comma part names one."""
        if not place:
            return
        candidate = place.rsplit(",", 1)[-1].strip()
        if candidate and self.ctx.countries.resolve(candidate).matched:
            self.link("birth", candidate)
        else:
            self.ctx.audit("unplaced_text", field, place)

    def name(self, name: str | None, name_type: str, quality: str | None = None) -> None:
        if name:
            self.ctx.add(
                "names",
                {
                    "entity_key": self.key,
                    "source_record_id": self.rid,
                    "name": name,
                    "name_type": name_type,
                    "quality": quality,
                },
            )

    def identifier(
        self, id_type: str, value: str | None, raw_type: str, country: str | None
    ) -> None:
        if not value:
            self.ctx.audit("empty_identifier", raw_type, None)
            return
        imo = _IMO.match(value)
        if imo:  # also "Identification Number IMO 9339301"
            id_type, value = "imo", imo.group(1)
        elif id_type == "imo":
            value = value.removeprefix("IMO ").strip()
        iso2 = None
        if country:
            match = self.ctx.countries.resolve(country)
            iso2 = match.iso2
            if iso2 is None:
                self.ctx.audit("unmapped_country", "identifier", country)
        self.ctx.add(
            "identifiers",
            {
                "entity_key": self.key,
                "source_record_id": self.rid,
                "id_type": id_type,
                "id_value": value,
                "country_iso2": iso2,
                "raw_type": raw_type,
            },
        )
        if id_type == "registration" and country and iso2:
            self.link("registration", country)

    def relation(self, relation_type: str, related_name: str | None, raw: str) -> None:
        if related_name:
            self.ctx.add(
                "relations",
                {
                    "entity_key": self.key,
                    "source_record_id": self.rid,
                    "related_entity_key": None,
                    "related_name": related_name,
                    "relation_type": relation_type,
                    "raw_relation": raw,
                },
            )

    def designation(
        self, entity_type: str, primary_name: str, programs: list[str], remarks: str | None
    ) -> None:
        ctx = self.ctx
        list_code = row_list(ctx.list_code, programs) if ctx.list_code else ctx.meta.list
        ctx.add(
            "designations",
            {
                "designation_id": f"{ctx.source}:{list_code}:{self.rid}",
                "authority": ctx.meta.authority,
                "list": list_code,
                "source_record_id": self.rid,
                "entity_key": self.key,
                "entity_type": entity_type,
                "primary_name": primary_name,
                "programs": programs,
                "listed_on": None,
                "reference_number": None,
                "remarks": remarks,
            },
        )
        self.name(primary_name, "primary")


def split_value(rest: str) -> tuple[str, str | None]:
    """``P0017003 (Belize) issued 2001`` -> (``P0017003``, ``Belize``): the country is the last
    trailing parenthesised group; earlier groups (a US state...) are dropped from the value."""
    rest = _ISSUED.sub("", rest).strip(" ,:")
    country = None
    while match := _TRAILING_PAREN.search(rest):
        if match.start() == 0:
            break
        if country is None:
            country = match.group(1).strip() or None
        rest = rest[: match.start()].rstrip()
    return rest.strip(" ,:"), country


def _strip_final_period(phrase: str) -> str:
    """Remarks end with '.', which is not part of the last value, unless that value ends with an
    abbreviation (``... S.A. DE C.V.``, ``... LTD.``): OFAC does not double the period."""
    if not phrase.endswith("."):
        return phrase
    core = phrase[:-1].rstrip()
    last = core.rsplit(" ", 1)[-1]
    if "." in last or last.upper() in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
        return phrase
    return core


def _phrases(remarks: str) -> Iterator[str]:
    parts = [p.strip() for p in _SPLIT.split(remarks.strip())]
    parts = [p for p in parts if p]
    if parts:
        parts[-1] = _strip_final_period(parts[-1])
    for part in parts:
        if part.startswith("(") and part.endswith(")"):
            part = part[1:-1].strip()
        if part:
            yield part


def read_remarks(rec: Record, remarks: str | None, *, relations_only: bool = False) -> None:
    """Read the '; '-separated phrases of a Remarks text through :func:`remark_kinds`.

    ``relations_only``: the classic XML, whose structured elements carry everything else and
    whose remarks are free text apart from ``(Linked To: NAME)``."""
    if not remarks:
        return
    ctx = rec.ctx
    for phrase in _phrases(remarks):
        body = phrase[5:].strip() if phrase.lower().startswith("alt. ") else phrase
        kind = phrase_kind(body)
        if kind is None:
            if not relations_only:
                ctx.audit("unknown_remark_kind", " ".join(body.split()[:2]), None)
            continue
        size, action, arg = kind
        label, rest = body[:size].strip(), body[size:].strip()
        if action == "relation":
            rec.relation(arg, rest.strip(" :") or None, label.rstrip(":"))
        elif relations_only or action == "ignore":
            continue
        elif action == "country":
            rec.link(arg, rest.removeprefix("possibly ").strip() or None)
        elif action == "birth":
            rec.birth(rest, "POB")
        elif action == "birth_date":
            rec.birth_date(rest, label)
        elif action == "alias":
            rec.name(rest.strip("'\" ") or None, arg, "weak")
        elif action == "id":
            value, country = split_value(rest)
            rec.identifier(arg, value, label, country)
        elif action == "id_prefix":  # "Digital Currency Address - XBT 1abc...": XBT is the sub-kind
            sub, _, tail = rest.partition(" ")
            value, _country = split_value(tail)
            rec.identifier(arg, value, f"{label} {sub}".strip(), None)
