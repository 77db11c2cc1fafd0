"""OFAC legacy layouts -> staged tables: the classic XML and the legacy CSV set.

Called by :mod:`pipeline.sources.us_ofac_sdn`, which sniffs every file first:

- :func:`parse_classic_xml` for ``SDN.XML`` / ``CONSOLIDATED.XML`` (root ``sdnList``; the
  namespace changed between 2020 and 2024, so every name is matched namespace-agnostically).
- :func:`parse_csv_set` for ``sdn.csv`` + ``add.csv`` + ``alt.csv`` + ``sdn_comments.csv`` (or
  the ``cons_*.csv`` set). No header row: each file is recognised by its column count.

Both layouts carry no listing date. In the CSV set nationality, citizenship, place of birth,
identity documents, weak aliases and "Linked To:" relations live only in the free-text
``Remarks``; they are read with the phrase table :data:`REMARK_KINDS` and every phrase kind the
table does not know is audited (``unknown_remark_kind``), never silently dropped.

Memory stays bounded whatever the file size: the XML is streamed record by record, the CSV
files are each read as one stream and written as they are read. Only two small things are held:
the ``ent_num``s of the main file (to audit orphan alias/address rows) and the remarks overflow
of ``sdn_comments.csv`` (a few hundred rows, needed before the remarks are parsed).
"""

from __future__ import annotations

import csv
import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import yaml

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.xmlsafe import expect_root, iter_records, local, text

ROOT = "sdnList"
LISTS_YML = Path(__file__).resolve().parent / "ofac_lists.yml"


@functools.cache
def _lists() -> dict:
    return yaml.safe_load(LISTS_YML.read_text(encoding="utf-8"))


def file_list(f: InputFile) -> str:
    """The list a classic XML or CSV file holds (``ofac_lists.yml``): by its published name,
    else by a programme tag only the non-SDN lists carry (a byte scan, no parse)."""
    lists = _lists()
    name = Path(f.name).name.lower()
    if name.startswith(tuple(lists["consolidated_name_prefixes"])):
        return lists["consolidated_list"]
    if name.startswith(tuple(lists["sdn_name_prefixes"])):
        return lists["sdn_list"]
    needles = [tag.encode() for tag in lists["non_sdn_program_lists"]]
    tail = b""
    with open(f.path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            window = tail + chunk
            if any(n in window for n in needles):
                return lists["consolidated_list"]
            tail = window[-64:]
    return lists["sdn_list"]


def row_list(file_list_code: str, programs: list[str]) -> str:
    """A consolidated file's row belongs to the non-SDN list its programme tags name, if one."""
    lists = _lists()
    if file_list_code != lists["consolidated_list"]:
        return file_list_code
    named = {lists["non_sdn_program_lists"][p] for p in programs if p in lists["non_sdn_program_lists"]}
    return named.pop() if len(named) == 1 else file_list_code

# ---------------------------------------------------------------------------------------------
# Vocabularies (data, not if-chains)
# ---------------------------------------------------------------------------------------------

XML_ENTITY_TYPES = {
    "Individual": "person",
    "Entity": "organization",
    "Vessel": "vessel",
    "Aircraft": "aircraft",
}
# CSV SDN_Type: entities carry the null marker (None here).
CSV_ENTITY_TYPES = {
    "individual": "person",
    "vessel": "vessel",
    "aircraft": "aircraft",
    None: "organization",
}
ALIAS_TYPES = {
    "a.k.a.": "aka",
    "f.k.a.": "fka",
    "n.k.a.": "nka",
    "aka": "aka",
    "fka": "fka",
    "nka": "nka",
}
ALIAS_QUALITY = {"strong": "strong", "weak": "weak"}

# Identifier kinds: classic ``idType`` values and the same words opening a CSV remark phrase
# (``Passport P0017003 (Belize)``). Aligned with the advanced-XML parser's id types.
ID_TYPES: dict[str, str] = {
    # travel documents
    "Passport": "passport",
    "Diplomatic Passport": "passport",
    "British National Overseas Passport": "passport",
    # personal identity numbers
    "National ID No.": "national_id",
    "Identification Number": "national_id",
    "Cedula No.": "national_id",
    "D.N.I.": "national_id",
    "SSN": "national_id",
    "C.U.R.P. #": "national_id",
    "C.U.R.P.": "national_id",
    "Personal ID Card": "national_id",
    "Turkish Identification Number": "national_id",
    "National Foreign ID Number": "national_id",
    "Moroccan Personal ID No.": "national_id",
    "Bosnian Personal ID No.": "national_id",
    "Kenyan ID No.": "national_id",
    "Residency Number": "national_id",
    # vessels
    "Vessel Registration Identification": "imo",
    # company registers
    "Registration ID": "registration",
    "Registration Number": "registration",
    "Business Registration Number": "registration",
    "Business Registration Document #": "registration",
    "Commercial Registry Number": "registration",
    "Public Registration Number": "registration",
    "Company Number": "registration",
    "UK Company Number": "registration",
    "C.R. No.": "registration",
    "Certificate of Incorporation Number": "registration",
    "Government Gazette Number": "registration",
    "GovernmentGazette Number": "registration",  # sic, in the 2025 consolidated list
    "Dubai Chamber of Commerce Membership No.": "registration",
    "Unified Social Credit Code (USCC)": "registration",
    "Matricula Mercantil No": "registration",
    "Matricula Mercantil No.": "registration",
    "Folio Mercantil No.": "registration",
    "Registered Charity No.": "registration",
    "Chamber of Commerce Number": "registration",
    "Trade License No.": "registration",
    # tax numbers
    "Tax ID No.": "tax_id",
    "V.A.T. Number": "tax_id",
    "NIT #": "tax_id",
    "RUC #": "tax_id",
    "R.F.C. #": "tax_id",
    "R.F.C.": "tax_id",
    "RFC": "tax_id",
    "US FEIN": "tax_id",
    "Italian Fiscal Code": "tax_id",
    "C.U.I.T.": "tax_id",
    "Numero Unico de Identificacao Tributaria (NUIT)": "tax_id",
    "Fiscal Code": "tax_id",
    # finance and contact
    "SWIFT/BIC": "swift",
    "Website": "website",
    "Email Address": "email",
    "Driver's License No.": "driving_licence",
    "License": "license",
    "Aircraft Manufacturer's Serial Number (MSN)": "aircraft_msn",
    "Aircraft Tail Number": "aircraft_tail",
    "Vessel Call Sign": "call_sign",
    # known identifiers without a dedicated type: kept as 'other' (raw_type says which), not audited
    "MMSI": "other",
    "ISIN": "other",
    "Equity Ticker": "other",
    "Legal Entity Number": "other",
    "BIK (RU)": "other",
    "Electoral Registry No.": "other",
    "Credencial electoral": "other",
    "Travel Document Number": "other",
    "Cartilla de Servicio Militar Nacional": "other",
    "LE Number": "other",
    "Public Security and Immigration No.": "other",
    "Serial No.": "other",
    "Immigration No.": "other",
    "Stateless Person ID Card": "other",
}
# Identifier kinds named by a prefix: the rest of the type is a sub-kind (the currency code).
ID_TYPE_PREFIXES = {"Digital Currency Address - ": "crypto_wallet"}

# Facts OFAC files under idType (classic) or as remark phrases that are not identifiers and have
# no staged column: known, deliberately not staged, not audited. Matched as prefixes.
INFO_KINDS = (
    "DOB",
    "Gender",
    "Title",
    "Alternate Title",
    "ethnicity",
    "Tribe:",
    "Additional Sanctions Information -",
    "Secondary sanctions risk:",
    "Transactions Prohibited For Persons Owned or Controlled By U.S. Financial Institutions:",
    "Executive Order",
    "For more information",
    "All offices worldwide",
    "and all other offices worldwide",
    "Listing Date",
    "Effective Date",
    "Purchase/Sales For Divestment Date",
    "Target Type",
    "Issuer Name",
    "Organization Established Date",
    "Organization Type:",
    "CAATSA Section 235 Information:",
    "IFCA Determination -",
    "Aircraft Manufacture Date",
    "Aircraft Model",
    "Aircraft Operator",
    "Aircraft Mode S Transponder Code",
    "Aircraft Construction Number",
    "Previous Aircraft Tail Number",
    "Former Vessel Flag",
    "Other Vessel Flag",
    "Other Vessel Type",
    "Other Vessel Call Sign",
    "Vessel Year of Build",
    "Telephone No.",
    "Telephone",
    "Phone Number",
    "Phone No.",
    "Phone",
    "Fax No.",
    "Fax",
)

# Country ties stated in remark phrases / classic idType: kind -> link_type.
COUNTRY_KINDS = {
    "nationality": "nationality",
    "citizen": "citizenship",
    "citizenship": "citizenship",
    "Nationality of Registration": "registration",
}
BIRTH_KIND = "POB"  # "POB City, Province, Country": the country is the part after the last comma
RELATION_KINDS = {"Linked To:": "linked_to"}
ALIAS_KINDS = {"a.k.a.": "aka", "f.k.a.": "fka", "n.k.a.": "nka"}


def _build_remark_kinds() -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for prefix, id_type in ID_TYPES.items():
        table[prefix] = ("id", id_type)
    for prefix, id_type in ID_TYPE_PREFIXES.items():
        table[prefix.strip()] = ("id_prefix", id_type)
    for prefix in INFO_KINDS:
        table[prefix] = ("ignore", "")
    for prefix, link_type in COUNTRY_KINDS.items():
        table[prefix] = ("country", link_type)
    table[BIRTH_KIND] = ("birth", "birth")
    for prefix, relation in RELATION_KINDS.items():
        table[prefix] = ("relation", relation)
    for prefix, name_type in ALIAS_KINDS.items():
        table[prefix] = ("alias", name_type)
    return table


# Remark phrase kind (how the phrase starts) -> (action, argument).
REMARK_KINDS: dict[str, tuple[str, str]] = _build_remark_kinds()


def _index(kinds: dict[str, tuple[str, str]]) -> dict[str, list[tuple[str, str, str]]]:
    """Prefixes grouped by their lower-cased first word, longest first (longest match wins)."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for prefix, (action, arg) in kinds.items():
        out.setdefault(prefix.split()[0].lower(), []).append((prefix.lower(), action, arg))
    for entries in out.values():
        entries.sort(key=lambda e: -len(e[0]))
    return out


_KIND_INDEX = _index(REMARK_KINDS)

# Classic XML: every element name the parser reads or deliberately skips.
ENTRY_FIELDS = {
    "uid",
    "firstName",
    "lastName",
    "title",
    "sdnType",
    "remarks",
    "programList",
    "idList",
    "akaList",
    "addressList",
    "nationalityList",
    "citizenshipList",
    "dateOfBirthList",
    "placeOfBirthList",
    "vesselInfo",
}
SUB_FIELDS = {
    "program",
    "id",
    "idType",
    "idNumber",
    "idCountry",
    "issueDate",
    "expirationDate",
    "aka",
    "type",
    "category",
    "address",
    "address1",
    "address2",
    "address3",
    "city",
    "stateOrProvince",
    "postalCode",
    "country",
    "nationality",
    "citizenship",
    "mainEntry",
    "dateOfBirthItem",
    "dateOfBirth",
    "placeOfBirthItem",
    "placeOfBirth",
    "callSign",
    "vesselType",
    "vesselFlag",
    "vesselOwner",
    "tonnage",
    "grossRegisteredTonnage",
}
HEADER_FIELDS = {"publshInformation", "Publish_Date", "Record_Count"}
KNOWN_XML = {ROOT, "sdnEntry"} | ENTRY_FIELDS | SUB_FIELDS | HEADER_FIELDS

# CSV layouts, recognised by the column count of their first row.
CSV_LAYOUTS = {12: "main", 6: "address", 5: "alias", 2: "comments"}
CSV_NULL = "-0-"
_ABBREVIATIONS = {"LTD", "LTDA", "INC", "CORP", "CO", "BHD", "JR", "SR"}
_ISSUED = re.compile(r"(?:^|\s+|,\s*)(?:issued|expires)\b.*$", re.IGNORECASE)
_TRAILING_PAREN = re.compile(r"\s*\(([^()]*)\)\s*$")
_IMO = re.compile(r"^IMO\s*(\d{7})$", re.IGNORECASE)
_SPLIT = re.compile(r";\s*")


# ---------------------------------------------------------------------------------------------
# Shared writers
# ---------------------------------------------------------------------------------------------


class _Record:
    """Writes the rows of one OFAC record, de-duplicating its country links."""

    def __init__(self, ctx: ParseContext, record_id: str) -> None:
        self.ctx = ctx
        self.rid = record_id
        self.key = ctx.key(record_id)
        self._links: set[tuple[str, str]] = set()

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


def _kind(phrase: str) -> tuple[int, str, str] | None:
    """(prefix length, action, argument) of the :data:`REMARK_KINDS` entry a remark phrase or a
    classic idType starts with (case-insensitive, longest prefix wins), None when unknown."""
    words = phrase.split()
    if not words:
        return None
    low = phrase.lower()
    for prefix, action, arg in _KIND_INDEX.get(words[0].lower(), []):
        if low.startswith(prefix) and (
            len(low) == len(prefix) or not prefix[-1].isalnum() or not low[len(prefix)].isalnum()
        ):
            return len(prefix), action, arg
    return None


def _split_value(rest: str) -> tuple[str, str | None]:
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


def _remark_phrases(rec: _Record, remarks: str | None, *, relations_only: bool = False) -> None:
    """Read the '; '-separated phrases of a Remarks text through :data:`REMARK_KINDS`.

    ``relations_only``: the classic XML, whose structured elements carry everything else and
    whose remarks are free text apart from ``(Linked To: NAME)``."""
    if not remarks:
        return
    ctx = rec.ctx
    for phrase in _phrases(remarks):
        body = phrase[5:].strip() if phrase.lower().startswith("alt. ") else phrase
        kind = _kind(body)
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
        elif action == "alias":
            rec.name(rest.strip("'\" ") or None, arg, "weak")
        elif action == "id":
            value, country = _split_value(rest)
            rec.identifier(arg, value, label, country)
        elif action == "id_prefix":  # "Digital Currency Address - XBT 1abc...": XBT is the sub-kind
            sub, _, tail = rest.partition(" ")
            value, _country = _split_value(tail)
            rec.identifier(arg, value, f"{label} {sub}".strip(), None)


# ---------------------------------------------------------------------------------------------
# Classic XML
# ---------------------------------------------------------------------------------------------


class _RecordTags(set):
    """The elements :func:`iter_records` hands back: the entries and the header, plus any element
    whose name the parser does not know (so it is audited and detached, keeping memory flat)."""

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name) or name not in KNOWN_XML


def parse_classic_xml(f: InputFile, ctx: ParseContext) -> None:
    """Stream one classic ``sdnList`` file (SDN.XML or CONSOLIDATED.XML) into the staged tables."""
    ctx.start_file(f)
    expect_root(f.path, ctx.source, (ROOT,), ctx.max_bytes, name=f.name)
    ctx.list_code = file_list(f)
    record_count: int | None = None
    entries = 0
    pending: list[str] = []  # unknown fields met inside the entry being read
    tags = _RecordTags({"sdnEntry", "publshInformation"})
    for parents, elem in iter_records(f.path, ctx.source, tags, lambda: ctx.record, name=f.name):
        name = local(elem.tag)
        path = parents.split("/")
        if name not in KNOWN_XML:
            if all(p in KNOWN_XML for p in path):  # audit the outermost unknown element only
                if "sdnEntry" in path:
                    inner = path[path.index("sdnEntry") + 1 :]
                    pending.append("/".join([*inner, name]))
                else:  # outside any entry: no record to name as the example
                    last, ctx.record = ctx.record, None
                    ctx.audit("unknown_field", "/".join([*path, name]), None)
                    ctx.record = last
            continue
        if name == "publshInformation":
            record_count = _header(elem, f, ctx)
            continue
        entries += 1
        _classic_entry(elem, f, ctx, pending)
        pending = []
    ctx.record = None
    if entries == 0:
        raise SourceError(ctx.source, f.name, "has records", "no sdnEntry element")
    if record_count is None:
        ctx.audit("missing_field", "publshInformation/Record_Count", None)
    elif record_count != entries:
        ctx.violation(
            "Record_Count matches entries",
            f"the header announces {record_count} entries but the file holds {entries} "
            "(truncated or incomplete file)",
        )


def _header(elem: ET.Element, f: InputFile, ctx: ParseContext) -> int | None:
    published = count = None
    for child in elem:
        tag = local(child.tag)
        if tag == "Publish_Date":
            published = text(child)
        elif tag == "Record_Count":
            count = text(child)
    if published:
        try:
            ctx.set_snapshot(_mdy(published))
        except ValueError:
            raise SourceError(
                ctx.source, f.name, "Publish_Date is MM/DD/YYYY", f"Publish_Date is {published!r}"
            ) from None
    else:
        ctx.audit("missing_field", "publshInformation/Publish_Date", None)
    if count is None:
        return None
    if not count.isdigit():
        raise SourceError(ctx.source, f.name, "numeric Record_Count", f"Record_Count is {count!r}")
    return int(count)


def _mdy(value: str) -> date:
    return datetime.strptime(value.strip(), "%m/%d/%Y").date()


def _children(elem: ET.Element) -> dict[str, list[ET.Element]]:
    out: dict[str, list[ET.Element]] = {}
    for child in elem:
        out.setdefault(local(child.tag), []).append(child)
    return out


def _first(kids: dict[str, list[ET.Element]], name: str) -> str | None:
    found = kids.get(name)
    return text(found[0]) if found else None


def _display(last: str | None, first: str | None) -> str | None:
    """OFAC's display form: ``LASTNAME, Firstname`` (entities: the whole name is the last name)."""
    if last and first:
        return f"{last}, {first}"
    return last or first


def _classic_entry(elem: ET.Element, f: InputFile, ctx: ParseContext, unknown: list[str]) -> None:
    kids = _children(elem)
    uid = _first(kids, "uid")
    if uid is None or not uid.isdigit():
        raise SourceError(
            ctx.source,
            f.name,
            "numeric uid",
            f"sdnEntry uid is {uid!r}",
            record=f"after {ctx.record}" if ctx.record else None,
        )
    ctx.record = uid
    ctx.tick()
    for field_name in unknown:
        ctx.audit("unknown_field", field_name, None)
    rec = _Record(ctx, uid)

    raw_type = _first(kids, "sdnType")
    entity_type = XML_ENTITY_TYPES.get(raw_type or "")
    if entity_type is None:
        ctx.audit("unknown_value", "sdnType", raw_type)
        entity_type = "other"
    primary = _display(_first(kids, "lastName"), _first(kids, "firstName"))
    if not primary:
        raise SourceError(ctx.source, f.name, "has a name", "sdnEntry without lastName", record=uid)
    programs = [p for lst in kids.get("programList", []) for c in lst if (p := text(c))]
    remarks = _first(kids, "remarks")
    rec.designation(entity_type, primary, programs, remarks)

    for lst in kids.get("akaList", []):
        for aka in lst:
            a = _children(aka)
            raw_alias = _first(a, "type")
            name_type = ALIAS_TYPES.get(raw_alias or "")
            if name_type is None:
                ctx.audit("unknown_value", "aka/type", raw_alias)
                name_type = "aka"
            category = _first(a, "category")
            quality = ALIAS_QUALITY.get(category or "")
            if category and quality is None:
                ctx.audit("unknown_value", "aka/category", category)
            rec.name(_display(_first(a, "lastName"), _first(a, "firstName")), name_type, quality)

    for lst in kids.get("addressList", []):
        for address in lst:
            rec.link("address", _first(_children(address), "country"))
    for list_name, item, link_type in (
        ("nationalityList", "country", "nationality"),
        ("citizenshipList", "country", "citizenship"),
    ):
        for lst in kids.get(list_name, []):
            for node in lst:
                rec.link(link_type, _first(_children(node), item))
    for lst in kids.get("placeOfBirthList", []):
        for node in lst:
            rec.birth(_first(_children(node), "placeOfBirth"), "placeOfBirth")
    for vessel in kids.get("vesselInfo", []):
        v = _children(vessel)
        rec.link("flag", _first(v, "vesselFlag"))
        call_sign = _first(v, "callSign")
        if call_sign:
            rec.identifier("call_sign", call_sign, "Call Sign", None)

    for lst in kids.get("idList", []):
        for node in lst:
            _classic_id(rec, _children(node))

    _remark_phrases(rec, remarks, relations_only=True)


def _classic_id(rec: _Record, d: dict[str, list[ET.Element]]) -> None:
    raw_type = _first(d, "idType") or ""
    number = _first(d, "idNumber")
    country = _first(d, "idCountry")
    _size, action, arg = _kind(raw_type) or (0, "unknown", "")
    if action == "country":  # "Nationality of Registration": the number is the country
        rec.link(arg, number or country)
    elif action == "id":
        rec.identifier(arg, number, raw_type, country)
    elif action == "id_prefix":
        rec.identifier(arg, number, raw_type, country)
    elif action == "ignore":
        return
    else:  # unknown type, or a remark-only kind (POB, Linked To:) filed as an id
        rec.ctx.audit("unknown_id_type", "idType", raw_type or None)
        rec.identifier("other", number, raw_type or "", country)


# ---------------------------------------------------------------------------------------------
# Legacy CSV set
# ---------------------------------------------------------------------------------------------


def _lines(f: InputFile, ctx: ParseContext) -> Iterator[str]:
    """Decoded lines of a legacy CSV file: UTF-8 (a line that is not is read as Windows-1252 and
    audited), without the BOM or the trailing DOS end-of-file byte (0x1A)."""
    with open(f.path, "rb") as fh:
        first = True
        for raw in fh:
            if first:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
                first = False
            if b"\x1a" in raw:
                raw = raw.replace(b"\x1a", b"")
                if not raw.strip():
                    continue
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                ctx.audit("non_utf8_text", f.name, None)
                yield raw.decode("cp1252", errors="replace")


def _cell(value: str, raw: bool = False) -> str | None:
    """A CSV value: None for the null marker ``-0- ``; stripped unless ``raw`` (the remarks and
    their overflow are cut at a fixed width, so their edge spaces belong to the text)."""
    if value.strip() in (CSV_NULL, ""):
        return None
    return value if raw else value.strip()


def _rows(
    f: InputFile, ctx: ParseContext, width: int, raw_last: bool = False
) -> Iterator[tuple[int, list[str | None]]]:
    """(row number, cells) of one CSV file; nulls as None; checks width and ent_num."""
    reader = csv.reader(_lines(f, ctx))
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            ent = row[0].strip()
            if len(row) != width:
                raise SourceError(
                    ctx.source,
                    f.name,
                    "column count",
                    f"row {reader.line_num} (ent_num {ent}) has {len(row)} columns, "
                    f"expected {width}",
                    record=ent or None,
                )
            if not ent.isdigit():
                raise SourceError(
                    ctx.source,
                    f.name,
                    "numeric ent_num",
                    f"row {reader.line_num} has ent_num {ent!r}",
                    record=ent or None,
                )
            cells = [_cell(c) for c in row[1:-1]] + [_cell(row[-1], raw=raw_last)]
            yield reader.line_num, [ent, *cells]
    except csv.Error as exc:
        raise SourceError(
            ctx.source, f.name, "readable CSV", f"row {reader.line_num}: {exc}", record=ctx.record
        ) from None


def _layout(f: InputFile, ctx: ParseContext) -> str:
    reader = csv.reader(_lines(f, ctx))
    try:
        for row in reader:
            if row and not (len(row) == 1 and not row[0].strip()):
                layout = CSV_LAYOUTS.get(len(row))
                if layout is None:
                    raise SourceError(
                        ctx.source,
                        f.name,
                        "known OFAC CSV layout",
                        f"first row has {len(row)} columns; expected "
                        + ", ".join(f"{n} ({kind})" for n, kind in CSV_LAYOUTS.items()),
                    )
                return layout
    except csv.Error as exc:
        raise SourceError(ctx.source, f.name, "readable CSV", str(exc)) from None
    raise SourceError(ctx.source, f.name, "known OFAC CSV layout", "the file has no rows")


def parse_csv_set(files: list[InputFile], ctx: ParseContext) -> None:
    """Parse one legacy CSV set: main file(s) (12 columns), addresses (6), aliases (5) and the
    remarks overflow (2). Files are recognised by their first row, not by their name."""
    by_layout: dict[str, list[InputFile]] = {kind: [] for kind in CSV_LAYOUTS.values()}
    for f in files:
        by_layout[_layout(f, ctx)].append(f)

    # 1. The remarks overflow: small, and needed before a main row's remarks are parsed.
    overflow: dict[str, str] = {}
    origin: dict[str, InputFile] = {}
    for f in by_layout["comments"]:
        ctx.start_file(f)
        for _n, (ent, extension) in _rows(f, ctx, 2, raw_last=True):
            overflow[ent] = overflow.get(ent, "") + (extension or "")
            origin[ent] = f

    # 2. The main file(s).
    ent_nums: set[int] = set()
    for f in by_layout["main"]:
        ctx.start_file(f)
        ctx.list_code = file_list(f)
        for _n, row in _rows(f, ctx, 12, raw_last=True):
            ent_nums.add(int(row[0]))
            _csv_main(row, overflow.pop(row[0], None), f, ctx)

    ctx.record = None
    for ent, f in origin.items():  # overflow rows of records absent from the main file
        if ent in overflow:
            ctx.writer.set_lineage(f.sha256, f.name)
            ctx.record = ent
            ctx.audit("orphan_row", "comments/ent_num", ent)

    # 3. Aliases and addresses, streamed and written as read.
    for f in by_layout["alias"]:
        ctx.start_file(f)
        for _n, (ent, _alt_num, alt_type, alt_name, _alt_remarks) in _rows(f, ctx, 5):
            ctx.record = ent
            if int(ent) not in ent_nums:
                ctx.audit("orphan_row", "alias/ent_num", ent)
            name_type = ALIAS_TYPES.get((alt_type or "").lower())
            if name_type is None:
                ctx.audit("unknown_value", "alt_type", alt_type)
                name_type = "aka"
            if not alt_name:
                ctx.audit("missing_field", "alt_name", None)
                continue
            _Record(ctx, ent).name(alt_name, name_type, None)

    for f in by_layout["address"]:
        ctx.start_file(f)
        rec: _Record | None = None
        for _n, (ent, _add_num, _address, _city, country, _add_remarks) in _rows(f, ctx, 6):
            ctx.record = ent
            if int(ent) not in ent_nums:
                ctx.audit("orphan_row", "address/ent_num", ent)
            if rec is None or rec.rid != ent:
                rec = _Record(ctx, ent)  # de-duplicates consecutive rows of one ent_num
            rec.link("address", country)
    ctx.record = None


def _programs(value: str | None) -> list[str]:
    """``NPWMD] [IFSR] [IRAN-CON-ARMS-EO`` -> ``['NPWMD', 'IFSR', 'IRAN-CON-ARMS-EO']``."""
    if not value:
        return []
    return [p for part in value.split("] [") if (p := part.strip().strip("[]").strip())]


def _csv_main(row: list[str | None], overflow: str | None, f: InputFile, ctx: ParseContext) -> None:
    (
        ent,
        name,
        sdn_type,
        program,
        _title,
        call_sign,
        _vess_type,
        _tonnage,
        _grt,
        vess_flag,
        _vess_owner,
        remarks,
    ) = row
    assert ent is not None
    ctx.record = ent
    ctx.tick()
    rec = _Record(ctx, ent)
    key = sdn_type.lower() if sdn_type else None
    entity_type = CSV_ENTITY_TYPES.get(key)
    if entity_type is None:
        ctx.audit("unknown_value", "SDN_Type", sdn_type)
        entity_type = "other"
    if not name:
        raise SourceError(ctx.source, f.name, "has a name", "SDN_Name is empty", record=ent)
    if overflow:
        remarks = (remarks or "") + overflow
    remarks = remarks.strip() if remarks else None
    rec.designation(entity_type, name, _programs(program), remarks)
    rec.link("flag", vess_flag)
    if call_sign:
        rec.identifier("call_sign", call_sign, "Call_Sign", None)
    _remark_phrases(rec, remarks)
