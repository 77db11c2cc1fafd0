"""Write the offline demo files of the OFAC SDN list from public facts.

Reads ``demo_facts.yml`` (real SDN designations, uid = OFAC entry number, each with a
``source_note``) and ``demo_vocab.yml`` (OFAC's reference value ids) and writes, in OFAC's
publication layouts, into ``data/demo/us_ofac_sdn/``:

* ``sdn_advanced.xml``  SDN advanced XML (namespace http://www.un.org/sanctions/1.0; valid against
  OFAC's ``sdn_advanced.xsd``; the demo input)
* ``sdn.xml``           classic SDN.XML
* ``csv/sdn.csv``, ``add.csv``, ``alt.csv``, ``sdn_comments.csv``  legacy CSV set

The same uids appear in the three layouts and every id is allocated once (:func:`make_plan`), so
``add.csv`` ``Add_num`` = advanced ``Location/@ID`` = classic ``address/uid``. The advanced writer
(:func:`build_advanced`) also serves the consolidated non-SDN lists (``us_ofac_cons/demo.py``):
an entry may sit on several lists, each with its own date.

The output is byte-for-byte deterministic (no clock, no network)::

    .venv/bin/python -m pipeline.sources.us_ofac_sdn.demo            # write into data/demo/us_ofac_sdn
    .venv/bin/python -m pipeline.sources.us_ofac_sdn.demo --out DIR
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.sources.base import demo_main
from pipeline.xmlwrite import Xml

HERE = Path(__file__).resolve().parent
FACTS = HERE / "demo_facts.yml"
VOCAB = HERE / "demo_vocab.yml"
DEFAULT_OUT = HERE.parents[2] / "data" / "demo" / "us_ofac_sdn"

# The advanced layout's fixed vocabulary (the ids the writer itself refers to).
PARTY_SUBTYPE = {"vessel": 1, "aircraft": 2, "entity": 3, "individual": 4}
CLASSIC_TYPE = {"vessel": "Vessel", "aircraft": "Aircraft", "entity": "Entity", "individual": "Individual"}
ALIAS_TYPE_IDS = {"aka": 1400, "fka": 1401, "nka": 1402}
ALIAS_LABEL = {"aka": "a.k.a.", "fka": "f.k.a.", "nka": "n.k.a."}
NAME_PART_TYPES = {"last": 1520, "first": 1521, "entity": 1525, "vessel": 1526, "aircraft": 1524}
FEATURE_DETAIL_TYPE = {"text": 1432, "lookup": 1431, "date": 1430, "country": 1433, "location": 1432}
PROGRAM_MEASURE = 1  # SanctionsType "Program": one measure per programme tag
ENTRY_PREFIX = 10_000_000  # SanctionsEntry ID = list prefix * ENTRY_PREFIX + uid (OFAC's scheme)

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

CSV_NULL = "-0- "
CSV_REMARKS_WIDTH = 1000  # the legacy sdn.csv cuts Remarks here; the rest goes to sdn_comments.csv


# --------------------------------------------------------------------------- reference values
@dataclass
class Vocab:
    """OFAC reference values (``demo_vocab.yml``), merged over one another in load order."""

    countries: dict[str, list] = field(default_factory=dict)
    vessel_flag_names: dict[str, str] = field(default_factory=dict)
    programs: dict[str, int] = field(default_factory=dict)
    legal_basis: dict[str, list] = field(default_factory=dict)
    relations: dict[str, list] = field(default_factory=dict)
    features: dict[str, list] = field(default_factory=dict)
    detail_references: list[list] = field(default_factory=list)
    vessel_types: dict[str, int] = field(default_factory=dict)
    id_doc_types: dict[str, int] = field(default_factory=dict)
    lists: dict[str, list] = field(default_factory=dict)
    sanctions_types: dict[int, str] = field(default_factory=dict)
    default_measures: list[str] = field(default_factory=list)
    umbrella_list: str | None = None
    umbrella_since: dt.date | None = None

    def country_name(self, code: str) -> str:
        return self.countries[code][1]

    def country_id(self, code: str) -> int:
        return self.countries[code][0]

    def detail_reference(self, label: str, value: str) -> int | None:
        return next((rid for rid, lab, val in self.detail_references if (lab, val) == (label, value)), None)

    def sanctions_type(self, name: str) -> int:
        for tid, tname in self.sanctions_types.items():
            if tname == name:
                return tid
        raise SystemExit(f"demo vocabulary: unknown sanctions type {name!r}")


def load_vocab(*paths: Path) -> Vocab:
    """Read the vocabulary files in order; a later file adds to (and may override) the earlier ones."""
    vocab = Vocab()
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key, value in data.items():
            current = getattr(vocab, key)
            if isinstance(current, dict):
                current.update(value)
            elif key == "detail_references":
                current.extend(value)
            else:
                setattr(vocab, key, value)
    return vocab


# --------------------------------------------------------------------------- helpers
def as_date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def parse_ofac_date(text: str) -> tuple[int, int | None, int | None]:
    """'09 Nov 1952' | 'Nov 1952' | '1952' -> (year, month, day)."""
    parts = str(text).split()
    if len(parts) == 3:
        return int(parts[2]), MONTHS.index(parts[1]) + 1, int(parts[0])
    if len(parts) == 2:
        return int(parts[1]), MONTHS.index(parts[0]) + 1, None
    return int(parts[0]), None, None


class Ids:
    """Deterministic ID sequences, one per kind of record."""

    def __init__(self) -> None:
        self._next = {
            "identity": 110001,
            "docname": 120001,
            "npg": 130001,
            "feature": 140001,
            "version": 150001,
            "location": 160001,
            "idreg": 170001,
            "relation": 180001,
            "measure": 190001,
            "alt": 200001,
        }

    def __call__(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] = value + 1
        return value


# --------------------------------------------------------------------------- OFAC model
def primary_name(entry: dict) -> str:
    if entry["type"] == "individual":
        return f"{entry['last']}, {entry['first']}" if entry.get("first") else entry["last"]
    return entry["name"]


def split_person(name: str) -> tuple[str, str | None]:
    if ", " in name:
        last, first = name.split(", ", 1)
        return last, first
    return name, None


def id_phrase(doc: dict, v: Vocab) -> str:
    text = f"{doc['type']} {doc['number']}"
    if doc.get("country"):
        text += f" ({v.country_name(doc['country'])})"
    if doc.get("issued"):
        text += f" issued {doc['issued']}"
    if doc.get("expires"):
        text += f" expires {doc['expires']}"
    return text


def feature_phrase(label: str, value: str, v: Vocab) -> str:
    if label == "Nationality of Registration":
        value = v.country_name(value)
    return f"{label} {value}"


def with_alt(phrases: list[tuple[str, str]]) -> list[str]:
    """OFAC prefixes repeated facts of one kind with 'alt.'."""
    out, seen = [], set()
    for key, text in phrases:
        out.append(("alt. " if key in seen else "") + text)
        seen.add(key)
    return out


def remarks_for(entry: dict, by_uid: dict, v: Vocab) -> str:
    """The Remarks text of the legacy CSV (the classic XML keeps only the links)."""
    items: list[tuple[str, str]] = []
    items += [("DOB", f"DOB {d}") for d in entry.get("dob", [])]
    items += [("POB", f"POB {p['text']}") for p in entry.get("pob", [])]
    items += [("nat", f"nationality {v.country_name(c)}") for c in entry.get("nationality", [])]
    items += [("cit", f"citizen {v.country_name(c)}") for c in entry.get("citizenship", [])]
    items += [(label, feature_phrase(label, value, v)) for label, value in entry.get("features", [])]
    items += [(doc["type"], id_phrase(doc, v)) for doc in entry.get("ids", [])]
    phrases = with_alt(items)
    if entry.get("all_offices"):
        phrases.append("All Offices Worldwide")
    if entry.get("title"):
        phrases.append(entry["title"])
    for alias in entry.get("aliases", []):
        if alias.get("weak"):
            phrases.append(f"{ALIAS_LABEL[alias['type']]} '{alias['name']}'")
    for link in entry.get("links", []):
        phrases.append(f"Linked To: {primary_name(by_uid[link['uid']])}")
    return "; ".join(phrases) + "." if phrases else ""


def entry_lists(entry: dict, v: Vocab) -> dict[str, dt.date]:
    """List code -> listing date of an entry: its ``lists`` when the facts give them (the
    consolidated lists), else the SDN list on ``listed``."""
    if "lists" in entry:
        return {code: as_date(day) for code, day in entry["lists"].items()}
    return {"SDN": as_date(entry["listed"])}


def load_entries(path: Path, v: Vocab) -> tuple[dt.date, list[dict]]:
    """The snapshot date and the entries of a facts file (see :func:`check_entries`)."""
    return check_entries(yaml.safe_load(path.read_text(encoding="utf-8")), v, path)


def check_entries(facts: dict, v: Vocab, path: Path) -> tuple[dt.date, list[dict]]:
    """The snapshot date and the entries of the facts read from ``path``, sorted by uid and
    checked: every list, programme and link is known and nothing is listed after the snapshot."""
    snapshot = as_date(facts["snapshot"])
    entries = sorted(facts["entries"], key=lambda e: e["uid"])
    by_uid = {e["uid"]: e for e in entries}
    for entry in entries:
        if "listed" in entry:
            entry["listed"] = as_date(entry["listed"])
        for code, day in entry_lists(entry, v).items():
            if code not in v.lists:
                raise SystemExit(f"{path.name}: uid {entry['uid']}: unknown list {code}")
            if day > snapshot:
                raise SystemExit(f"{path.name}: uid {entry['uid']} listed on {code} after the snapshot date")
        for prog in entry["programs"]:
            if prog not in v.programs:
                raise SystemExit(f"{path.name}: uid {entry['uid']}: unknown programme {prog}")
        for link in entry.get("links", []):
            if link["uid"] not in by_uid:
                raise SystemExit(f"{path.name}: uid {entry['uid']} links to unknown uid {link['uid']}")
    return snapshot, entries


# --------------------------------------------------------------------------- legacy CSV
def csv_text(value: str | None) -> str:
    if value is None or value == "":
        return CSV_NULL
    return '"' + str(value) + '"'


def csv_rows_to_bytes(rows: list[str]) -> bytes:
    return ("\r\n".join(rows) + "\r\n\x1a").encode("utf-8")


def build_csv(entries: list[dict], by_uid: dict, plan_all: dict, v: Vocab) -> dict[str, bytes]:
    """The legacy CSV set: sdn.csv, add.csv, alt.csv, sdn_comments.csv (relative path -> bytes)."""
    plan = plan_all["entries"]
    sdn, add, alt, comments = [], [], [], []
    for entry in entries:
        uid = entry["uid"]
        remarks = remarks_for(entry, by_uid, v)
        head, tail = remarks[:CSV_REMARKS_WIDTH], remarks[CSV_REMARKS_WIDTH:]
        vessel = entry.get("vessel", {})
        flag = vessel.get("flag")
        sdn_type = {"individual": "individual", "vessel": "vessel", "aircraft": "aircraft"}.get(entry["type"])
        row = [
            str(uid),
            csv_text(primary_name(entry)),
            csv_text(sdn_type),
            csv_text("] [".join(entry["programs"])),
            csv_text(entry.get("title")),
            csv_text(vessel.get("call_sign")),
            csv_text(vessel.get("vessel_type")),
            csv_text(vessel.get("tonnage")),
            csv_text(vessel.get("grt")),
            csv_text(v.vessel_flag_names.get(flag, v.country_name(flag)) if flag else None),
            csv_text(vessel.get("owner")),
            csv_text(head),
        ]
        sdn.append(",".join(row))
        if tail:
            comments.append(f'{uid},"{tail}"')
        locations = plan[uid]["addresses"]
        if not locations:
            add.append(",".join([str(uid), str(plan[uid]["empty_address"])] + [CSV_NULL] * 4))
        for loc_id, addr in locations:
            city = addr.get("city") or ""
            if addr.get("state"):
                city = f"{city}, {addr['state']}" if city else addr["state"]
            if addr.get("postal"):
                city = f"{city} {addr['postal']}" if city else str(addr["postal"])
            add.append(",".join([
                str(uid),
                str(loc_id),
                csv_text(addr.get("address")),
                csv_text(city or None),
                csv_text(v.country_name(addr["country"]) if addr.get("country") else None),
                CSV_NULL,
            ]))
        for alt_id, alias in plan[uid]["aliases"]:
            if alias.get("weak"):  # weak aliases only appear in Remarks ("a.k.a. 'X'")
                continue
            alt.append(",".join([str(uid), str(alt_id), csv_text(alias["type"]), csv_text(alias["name"]), CSV_NULL]))
    return {
        "csv/sdn.csv": csv_rows_to_bytes(sdn),
        "csv/add.csv": csv_rows_to_bytes(add),
        "csv/alt.csv": csv_rows_to_bytes(alt),
        "csv/sdn_comments.csv": csv_rows_to_bytes(comments),
    }


# --------------------------------------------------------------------------- shared ids
def make_plan(entries: list[dict]) -> dict:
    """Allocate every ID once so that all three OFAC layouts agree (add_num = Location ID, ...)."""
    ids = Ids()
    plan: dict[int, dict] = {}
    for entry in entries:
        uid = entry["uid"]
        p: dict[str, Any] = {
            "identity": ids("identity"),
            "primary_name": ids("docname"),
            "aliases": [],
            "addresses": [],
            "empty_address": None,
        }
        for alias in entry.get("aliases", []):
            p["aliases"].append((ids("alt"), alias))
        for addr in entry.get("addresses", []):
            p["addresses"].append((ids("location"), addr))
        if not p["addresses"]:
            p["empty_address"] = ids("location")
        plan[uid] = p
    return {"ids": ids, "entries": plan}


# --------------------------------------------------------------------------- advanced XML
def xml_date(x: Xml, tag: str, year: int, month: int, day: int) -> None:
    x.open(tag)
    x.leaf("Year", year)
    x.leaf("Month", month)
    x.leaf("Day", day)
    x.close(tag)


def xml_date_period(x: Xml, text: str) -> None:
    year, month, day = parse_ofac_date(text)
    if month is None:
        start, end = (year, 1, 1), (year, 12, 31)
    elif day is None:
        last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
        start, end = (year, month, 1), (year, month, last)
    else:
        start = end = (year, month, day)
    x.open("DatePeriod", ("CalendarTypeID", 1), ("YearFixed", "false"), ("MonthFixed", "false"),
           ("DayFixed", "false"))
    for tag, value in (("Start", start), ("End", end)):
        x.open(tag, ("Approximate", "false"), ("YearFixed", "false"), ("MonthFixed", "false"), ("DayFixed", "false"))
        xml_date(x, "From", *value)
        xml_date(x, "To", *value)
        x.close(tag)
    x.close("DatePeriod")


def name_parts(etype: str, name: str) -> list[tuple[int, str]]:
    """Split a name into (NamePartType ID, value) pairs."""
    if etype == "individual":
        last, first = split_person(name)
        out = [(NAME_PART_TYPES["last"], last)]
        if first:
            out.append((NAME_PART_TYPES["first"], first))
        return out
    return [(NAME_PART_TYPES[etype], name)]


def alias_xml(x: Xml, ids: Ids, groups: list, entry: dict, alias_type: int, weak: bool, doc_id: int,
              name: str) -> None:
    """One Identity/Alias/DocumentedName; alias type 1403 ("Name") is the primary name."""
    uid = entry["uid"]
    primary = alias_type == 1403
    x.open("Alias", ("FixedRef", uid), ("AliasTypeID", alias_type), ("Primary", str(primary).lower()),
           ("LowQuality", str(weak).lower()))
    x.open("DocumentedName", ("ID", doc_id), ("FixedRef", uid), ("DocNameStatusID", 1 if primary else 2))
    for part_type, value in name_parts(entry["type"], name):
        npg = ids("npg")
        groups.append((npg, part_type))
        x.open("DocumentedNamePart")
        x.leaf("NamePartValue", value, ("NamePartGroupID", npg), ("ScriptID", 215), ("ScriptStatusID", 1),
               ("Acronym", "false"))
        x.close("DocumentedNamePart")
    x.close("DocumentedName")
    x.close("Alias")


def legal_basis(entry: dict, v: Vocab) -> tuple[int, str]:
    """The LegalBasis of an entry's "Created" event: that of its first programme that has one."""
    return next((tuple(v.legal_basis[p]) for p in entry["programs"] if p in v.legal_basis), (1, "Unknown"))


def sanctions_entries(entry: dict, v: Vocab) -> list[tuple[str, dt.date]]:
    """(list code, date) of every SanctionsEntry of a party: the umbrella list first when the
    vocabulary has one (a consolidated file files every party once more on it), then its lists."""
    lists = entry_lists(entry, v)
    out = list(lists.items())
    if v.umbrella_list:
        non_sdn = [day for code, day in lists.items() if code != "SDN"]
        if not non_sdn:
            raise SystemExit(f"uid {entry['uid']}: a consolidated-list entry needs a non-SDN list")
        # the umbrella list dates from its start, or from the party's first non-SDN listing if later
        since = as_date(entry["consolidated_on"]) if entry.get("consolidated_on") else \
            max(v.umbrella_since or dt.date.min, min(non_sdn))
        out.insert(0, (v.umbrella_list, since))
    return out


def entry_id(entry: dict, v: Vocab, code: str | None = None) -> int:
    """The SanctionsEntry ID of a party on a list (default: its first entry, the one its
    relationships point to, as in OFAC's files)."""
    prefix = v.lists[code or sanctions_entries(entry, v)[0][0]][2]
    return prefix * ENTRY_PREFIX + entry["uid"]


def build_advanced(entries: list[dict], plan_all: dict, v: Vocab, snapshot: dt.date) -> bytes:
    """The advanced XML (``Sanctions`` root) of the entries, valid against ``sdn_advanced.xsd``."""
    ids: Ids = plan_all["ids"]
    plan = plan_all["entries"]
    locations: list[tuple[int, dict, int]] = []  # (location id, parts, feature version id)
    idregs: list[tuple[int, int, dict, int]] = []  # (id, identity id, doc, documented name id)
    parties = Xml()
    parties.depth = 2
    countries_used = set()
    programs_used = set()
    legal_used = {}

    def location(parts: dict, version_id: int, loc_id: int | None = None) -> int:
        loc_id = loc_id or ids("location")
        locations.append((loc_id, parts, version_id))
        if parts.get("country"):
            countries_used.add(parts["country"])
        return loc_id

    def feature(x: Xml, identity: int, label: str, value: Any = None, loc: dict | None = None,
                loc_id: int | None = None, text: str | None = None) -> None:
        type_id, kind = v.features[label]
        fid, vid = ids("feature"), ids("version")
        x.open("Feature", ("ID", fid), ("FeatureTypeID", type_id))
        x.open("FeatureVersion", ("ID", vid), ("ReliabilityID", 1))
        x.leaf("Comment")
        if kind == "date":
            xml_date_period(x, value)
            x.leaf("VersionDetail", None, ("DetailTypeID", FEATURE_DETAIL_TYPE["date"]))
        elif kind == "lookup":
            ref = v.detail_reference(label, value) if label != "VESSEL TYPE" else v.vessel_types[value]
            x.leaf("VersionDetail", None, ("DetailTypeID", FEATURE_DETAIL_TYPE["lookup"]), ("DetailReferenceID", ref))
        elif kind == "text" and text is not None:
            x.leaf("VersionDetail", text, ("DetailTypeID", FEATURE_DETAIL_TYPE["text"]))
        elif kind == "text":
            x.leaf("VersionDetail", value, ("DetailTypeID", FEATURE_DETAIL_TYPE["text"]))
        if loc is not None:
            x.leaf("VersionLocation", None, ("LocationID", location(loc, vid, loc_id)))
        x.close("FeatureVersion")
        x.leaf("IdentityReference", None, ("IdentityID", identity), ("IdentityFeatureLinkTypeID", 1))
        x.close("Feature")

    for entry in entries:
        uid = entry["uid"]
        p = plan[uid]
        identity = p["identity"]
        x = parties
        x.open("DistinctParty", ("FixedRef", uid))
        x.leaf("Comment")
        x.open("Profile", ("ID", uid), ("PartySubTypeID", PARTY_SUBTYPE[entry["type"]]))
        x.open("Identity", ("ID", identity), ("FixedRef", uid), ("Primary", "true"), ("False", "false"))
        groups: list[tuple[int, int]] = []
        alias_xml(x, ids, groups, entry, 1403, False, p["primary_name"], primary_name(entry))
        for alt_id, alias in p["aliases"]:
            alias_xml(x, ids, groups, entry, ALIAS_TYPE_IDS[alias["type"]], bool(alias.get("weak")), alt_id,
                      alias["name"])
        x.open("NamePartGroups")
        for npg, part_type in groups:
            x.open("MasterNamePartGroup")
            x.leaf("NamePartGroup", None, ("ID", npg), ("NamePartTypeID", part_type))
            x.close("MasterNamePartGroup")
        x.close("NamePartGroups")
        x.close("Identity")

        vessel = entry.get("vessel", {})
        if vessel.get("call_sign"):
            feature(x, identity, "Vessel Call Sign", vessel["call_sign"])
        if vessel.get("vessel_type"):
            feature(x, identity, "VESSEL TYPE", vessel["vessel_type"])
        if vessel.get("flag"):
            feature(x, identity, "Vessel Flag", loc={"country": vessel["flag"]})
        if vessel.get("tonnage"):
            feature(x, identity, "Vessel Tonnage", vessel["tonnage"])
        if vessel.get("grt"):
            feature(x, identity, "Vessel Gross Registered Tonnage", vessel["grt"])
        for dob in entry.get("dob", []):
            feature(x, identity, "Birthdate", dob)
        for pob in entry.get("pob", []):
            # a place of birth OFAC could not place in a country is text only, without a location
            loc = {"city": pob.get("city"), "country": pob["country"]} if pob.get("country") else None
            feature(x, identity, "Place of Birth", text=pob["text"], loc=loc)
        for code in entry.get("nationality", []):
            feature(x, identity, "Nationality Country", loc={"country": code})
        for code in entry.get("citizenship", []):
            feature(x, identity, "Citizenship Country", loc={"country": code})
        for label, value in entry.get("features", []):
            if v.features[label][1] == "country":
                feature(x, identity, label, loc={"country": value})
            else:
                feature(x, identity, label, value)
        for loc_id, addr in p["addresses"]:
            feature(x, identity, "Location", loc=addr, loc_id=loc_id)
        x.close("Profile")
        x.close("DistinctParty")
        for doc in entry.get("ids", []):
            idregs.append((ids("idreg"), identity, doc, p["primary_name"]))
            if doc.get("country"):
                countries_used.add(doc["country"])
        programs_used.update(entry["programs"])
        basis = legal_basis(entry, v)
        legal_used[basis[0]] = basis[1]

    out = Xml()
    out.raw('<?xml version="1.0" encoding="utf-8" standalone="yes"?>')
    out.raw(
        '<Sanctions xmlns="http://www.un.org/sanctions/1.0" Version="3" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.un.org/sanctions/1.0 '
        'http://www.treasury.gov/ofac/downloads/sanctions/1.0/sdn_advanced.xsd">'
    )
    out.depth = 1
    out.open("DateOfIssue", ("CalendarTypeID", 1))
    out.leaf("Year", snapshot.year)
    out.leaf("Month", snapshot.month)
    out.leaf("Day", snapshot.day)
    out.close("DateOfIssue")
    countries_used.add("US")  # referenced by OrganisationValues (the issuing state)
    write_reference_values(out, v, sorted(countries_used, key=v.country_id), programs_used, legal_used)

    out.open("Locations")
    for loc_id, parts, version_id in sorted(locations, key=lambda t: t[0]):
        out.open("Location", ("ID", loc_id))
        code = parts.get("country")
        if code:
            out.leaf("LocationAreaCode", None, ("AreaCodeID", v.country_id(code)))
            out.leaf("LocationCountry", None, ("CountryID", v.country_id(code)), ("CountryRelevanceID", 1413))
        for key, part_type in (("address", 1451), ("city", 1454), ("state", 1455), ("postal", 1456)):
            if parts.get(key):
                out.open("LocationPart", ("LocPartTypeID", part_type))
                out.open("LocationPartValue", ("Primary", "true"), ("LocPartValueTypeID", 1),
                         ("LocPartValueStatusID", 1))
                out.leaf("Comment")
                out.leaf("Value", parts[key])
                out.close("LocationPartValue")
                out.close("LocationPart")
        out.leaf("FeatureVersionReference", None, ("FeatureVersionID", version_id))
        out.close("Location")
    out.close("Locations")

    out.open("IDRegDocuments")
    for reg_id, identity, doc, docname in idregs:
        issued_by = v.country_id(doc["country"]) if doc.get("country") else None
        out.open("IDRegDocument", ("ID", reg_id), ("IDRegDocTypeID", v.id_doc_types[doc["type"]]),
                 ("IdentityID", identity), ("IssuedBy-CountryID", issued_by), ("ValidityID", 1))
        out.leaf("Comment")
        out.leaf("IDRegistrationNo", doc["number"])
        out.leaf("IssuingAuthority")
        for key, date_type in (("issued", 1480), ("expires", 1481)):
            if doc.get(key):
                out.open("DocumentDate", ("IDRegDocDateTypeID", date_type))
                xml_date_period(out, doc[key])
                out.close("DocumentDate")
        out.leaf("DocumentedNameReference", None, ("DocumentedNameID", docname))
        out.close("IDRegDocument")
    out.close("IDRegDocuments")

    out.open("DistinctParties")
    out.lines.extend(parties.lines)
    out.close("DistinctParties")

    out.open("ProfileRelationships")
    for entry in entries:
        for link in entry.get("links", []):
            rel_id = v.relations[link["rel"]][0]
            out.open("ProfileRelationship", ("ID", ids("relation")), ("From-ProfileID", entry["uid"]),
                     ("To-ProfileID", link["uid"]), ("RelationTypeID", rel_id), ("RelationQualityID", 1),
                     ("Former", "false"), ("SanctionsEntryID", entry_id(entry, v)))
            out.leaf("Comment")
            out.close("ProfileRelationship")
    out.close("ProfileRelationships")

    out.open("SanctionsEntries")
    for entry in entries:
        write_sanctions_entries(out, ids, entry, v)
    out.close("SanctionsEntries")
    out.leaf("SanctionsEntryLinks")
    out.raw("</Sanctions>")
    return out.text().encode("utf-8")


def write_sanctions_entries(out: Xml, ids: Ids, entry: dict, v: Vocab) -> None:
    """One SanctionsEntry per list the party is on. The measures (the party's sanctions types,
    then one "Program" measure per programme tag) are the party's, repeated on every entry under
    the list's id prefix, as OFAC's consolidated file does."""
    uid = entry["uid"]
    basis = legal_basis(entry, v)
    measures = [(ids("measure"), v.sanctions_type(name), None)
                for name in entry.get("measures", v.default_measures)]
    measures += [(ids("measure"), PROGRAM_MEASURE, prog) for prog in entry["programs"]]
    for code, day in sanctions_entries(entry, v):
        list_id, _name, prefix = v.lists[code]
        sanctions_entry_id = entry_id(entry, v, code)
        out.open("SanctionsEntry", ("ID", sanctions_entry_id), ("ProfileID", uid), ("ListID", list_id))
        out.open("EntryEvent", ("ID", sanctions_entry_id), ("EntryEventTypeID", 1), ("LegalBasisID", basis[0]))
        out.leaf("Comment")
        out.open("Date", ("CalendarTypeID", 1))
        out.leaf("Year", day.year)
        out.leaf("Month", day.month)
        out.leaf("Day", day.day)
        out.close("Date")
        out.close("EntryEvent")
        for base, type_id, prog in measures:
            out.open("SanctionsMeasure", ("ID", prefix * ENTRY_PREFIX + base), ("SanctionsTypeID", type_id))
            if prog is not None:
                out.leaf("Comment", prog)
            out.leaf("DatePeriod", None, ("CalendarTypeID", 1), ("YearFixed", "true"), ("MonthFixed", "true"),
                     ("DayFixed", "true"))
            out.close("SanctionsMeasure")
        out.close("SanctionsEntry")


def write_reference_values(out: Xml, v: Vocab, countries: list[str], programs: set, legal: dict) -> None:
    """ReferenceValueSets: the countries, programmes and legal bases the entries use, and the
    vocabulary's whole tables (feature types, detail references, document types, lists...)."""

    def simple(group: str, tag: str, values: list) -> None:
        if not values:
            out.leaf(group)
            return
        out.open(group)
        for vid, text, *attrs in values:
            out.leaf(tag, text, ("ID", vid), *attrs)
        out.close(group)

    out.open("ReferenceValueSets")
    simple("AliasTypeValues", "AliasType", [(1400, "A.K.A."), (1401, "F.K.A."), (1402, "N.K.A."), (1403, "Name")])
    simple("AreaCodeValues", "AreaCode", [
        (v.country_id(c), c, ("CountryID", v.country_id(c)), ("Description", v.country_name(c)), ("AreaCodeTypeID", 1))
        for c in countries
    ])
    simple("AreaCodeTypeValues", "AreaCodeType", [(1, "ISO 3166 (2)")])
    simple("CalendarTypeValues", "CalendarType", [(1, "Gregorian")])
    simple("CountryValues", "Country", [(v.country_id(c), v.country_name(c), ("ISO2", c)) for c in countries])
    simple("CountryRelevanceValues", "CountryRelevance", [(1413, "PRIMARY")])
    simple("DecisionMakingBodyValues", "DecisionMakingBody",
           [(1, "United States Treasury Department", ("OrganisationID", 1))])
    detail_refs = sorted({rid for rid, _, _ in v.detail_references} | set(v.vessel_types.values()))
    texts = {rid: value for rid, _, value in v.detail_references}
    texts.update({rid: name for name, rid in v.vessel_types.items()})
    simple("DetailReferenceValues", "DetailReference", [(r, texts[r]) for r in detail_refs])
    simple("DetailTypeValues", "DetailType",
           [(1430, "DATE"), (1431, "LOOKUP"), (1432, "TEXT"), (1433, "COUNTRY"), (1434, "LOCATION")])
    simple("DocNameStatusValues", "DocNameStatus", [(1, "Primary Latin"), (2, "Others")])
    simple("EntryEventTypeValues", "EntryEventType", [(1, "Created")])
    simple("EntryLinkTypeValues", "EntryLinkType", [])
    simple("ExRefTypeValues", "ExRefType", [])
    simple("FeatureTypeValues", "FeatureType", [
        (fid, label, ("FeatureTypeGroupID", 1)) for label, (fid, _) in sorted(v.features.items(), key=lambda i: i[1][0])
    ])
    simple("FeatureTypeGroupValues", "FeatureTypeGroup", [(1, "Unknown")])
    simple("IDRegDocDateTypeValues", "IDRegDocDateType", [(1480, "Issue Date"), (1481, "Expiration Date")])
    simple("IDRegDocTypeValues", "IDRegDocType", sorted((tid, name) for name, tid in v.id_doc_types.items()))
    simple("IdentityFeatureLinkTypeValues", "IdentityFeatureLinkType", [(1, "Unknown")])
    simple("LegalBasisValues", "LegalBasis", [
        (lid, text, ("LegalBasisShortRef", text), ("LegalBasisTypeID", 1), ("SanctionsProgramID", 1))
        for lid, text in sorted(legal.items())
    ])
    simple("LegalBasisTypeValues", "LegalBasisType", [(1, "Unknown")])
    simple("ListValues", "List", sorted((list_id, name) for list_id, name, _ in v.lists.values()))
    simple("LocPartTypeValues", "LocPartType", [
        (1, "Unknown"), (1450, "REGION"), (1451, "ADDRESS1"), (1452, "ADDRESS2"), (1453, "ADDRESS3"),
        (1454, "CITY"), (1455, "STATE/PROVINCE"), (1456, "POSTAL CODE"),
    ])
    simple("LocPartValueStatusValues", "LocPartValueStatus", [(1, "Main")])
    simple("LocPartValueTypeValues", "LocPartValueType", [(1, "Unknown")])
    simple("NamePartTypeValues", "NamePartType", [
        (1520, "Last Name"), (1521, "First Name"), (1524, "Aircraft Name"), (1525, "Entity Name"),
        (1526, "Vessel Name"),
    ])
    simple("OrganisationValues", "Organisation", [(1, "State", ("CountryID", v.country_id("US")))])
    simple("PartySubTypeValues", "PartySubType", [
        (1, "Vessel", ("PartyTypeID", 4)), (2, "Aircraft", ("PartyTypeID", 4)), (3, "Unknown", ("PartyTypeID", 2)),
        (4, "Unknown", ("PartyTypeID", 1)),
    ])
    simple("PartyTypeValues", "PartyType",
           [(1, "Individual"), (2, "Entity"), (3, "Location"), (4, "Transport"), (5, "Other Entity")])
    simple("RelationQualityValues", "RelationQuality", [(1540, "High"), (1, "Unknown")])
    simple("RelationTypeValues", "RelationType", [
        (rid, text, ("Symmetrical", str(sym).lower())) for rid, text, sym in sorted(v.relations.values())
    ])
    simple("ReliabilityValues", "Reliability", [(1560, "Confirmed"), (1, "Unknown")])
    simple("SanctionsProgramValues", "SanctionsProgram", [(1, "Unknown", ("SubsidiaryBodyID", 1))] + [
        (v.programs[p], p, ("SubsidiaryBodyID", 1)) for p in sorted(programs, key=lambda p: v.programs[p])
    ])
    simple("SanctionsTypeValues", "SanctionsType",
           sorted(v.sanctions_types.items()) + [(PROGRAM_MEASURE, "Program")])
    simple("ScriptValues", "Script", [(215, "Latin", ("ScriptCode", "Latin"))])
    simple("ScriptStatusValues", "ScriptStatus", [(1, "Unknown")])
    simple("SubsidiaryBodyValues", "SubsidiaryBody",
           [(1, "Office of Foreign Assets Control", ("Notional", "false"), ("DecisionMakingBodyID", 1))])
    simple("SupInfoTypeValues", "SupInfoType", [])
    simple("TargetTypeValues", "TargetType", [])
    simple("ValidityValues", "Validity", [(1, "Valid"), (2, "Fraudulent")])
    out.close("ReferenceValueSets")


# --------------------------------------------------------------------------- classic SDN.XML
def build_classic(entries: list[dict], by_uid: dict, plan_all: dict, v: Vocab, snapshot: dt.date) -> bytes:
    """The classic SDN.XML (``sdnList``, Sanctions List Service namespace), CRLF line ends."""
    plan = plan_all["entries"]
    seq = iter(range(300001, 400000))
    x = Xml()
    x.raw('<?xml version="1.0" standalone="yes"?>')
    x.raw(
        '<sdnList xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns="https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML">'
    )
    x.depth = 1
    x.open("publshInformation")
    x.leaf("Publish_Date", snapshot.strftime("%m/%d/%Y"))
    x.leaf("Record_Count", len(entries))
    x.close("publshInformation")
    for entry in entries:
        uid = entry["uid"]
        p = plan[uid]
        x.open("sdnEntry")
        x.leaf("uid", uid)
        if entry["type"] == "individual":
            if entry.get("first"):
                x.leaf("firstName", entry["first"])
            x.leaf("lastName", entry["last"])
        else:
            x.leaf("lastName", entry["name"])
        if entry.get("title"):
            x.leaf("title", entry["title"])
        x.leaf("sdnType", CLASSIC_TYPE[entry["type"]])
        links = [f"Linked To: {primary_name(by_uid[link['uid']])}" for link in entry.get("links", [])]
        if links:
            x.leaf("remarks", "(" + "; ".join(links) + ")")
        x.open("programList")
        for prog in entry["programs"]:
            x.leaf("program", prog)
        x.close("programList")
        id_items = []
        for label, value in entry.get("features", []):
            if label == "Nationality of Registration":
                id_items.append((label, None, v.country_name(value), None, None))
            else:
                id_items.append((label, value, None, None, None))
        for doc in entry.get("ids", []):
            id_items.append((doc["type"], doc["number"], v.country_name(doc["country"]) if doc.get("country") else None,
                             doc.get("issued"), doc.get("expires")))
        if id_items:
            x.open("idList")
            for id_type, number, country, issued, expires in id_items:
                x.open("id")
                x.leaf("uid", next(seq))
                x.leaf("idType", id_type)
                if number is not None:
                    x.leaf("idNumber", number)
                if country:
                    x.leaf("idCountry", country)
                if issued:
                    x.leaf("issueDate", issued)
                if expires:
                    x.leaf("expirationDate", expires)
                x.close("id")
            x.close("idList")
        if p["aliases"]:
            x.open("akaList")
            for alt_id, alias in p["aliases"]:
                x.open("aka")
                x.leaf("uid", alt_id)
                x.leaf("type", ALIAS_LABEL[alias["type"]])
                x.leaf("category", "weak" if alias.get("weak") else "strong")
                if entry["type"] == "individual" and not alias.get("weak"):
                    last, first = split_person(alias["name"])
                    x.leaf("lastName", last)
                    if first:
                        x.leaf("firstName", first)
                else:
                    x.leaf("lastName", alias["name"])
                x.close("aka")
            x.close("akaList")
        if p["addresses"]:
            x.open("addressList")
            for loc_id, addr in p["addresses"]:
                x.open("address")
                x.leaf("uid", loc_id)
                for key, tag in (("address", "address1"), ("city", "city"), ("state", "stateOrProvince"),
                                 ("postal", "postalCode")):
                    if addr.get(key):
                        x.leaf(tag, addr[key])
                if addr.get("country"):
                    x.leaf("country", v.country_name(addr["country"]))
                x.close("address")
            x.close("addressList")
        for list_tag, item_tag, values in (
            ("nationalityList", "nationality", entry.get("nationality", [])),
            ("citizenshipList", "citizenship", entry.get("citizenship", [])),
        ):
            if values:
                x.open(list_tag)
                for i, code in enumerate(values):
                    x.open(item_tag)
                    x.leaf("uid", next(seq))
                    x.leaf("country", v.country_name(code))
                    x.leaf("mainEntry", "true" if i == 0 else "false")
                    x.close(item_tag)
                x.close(list_tag)
        for list_tag, item_tag, value_tag, values in (
            ("dateOfBirthList", "dateOfBirthItem", "dateOfBirth", entry.get("dob", [])),
            ("placeOfBirthList", "placeOfBirthItem", "placeOfBirth", [p_["text"] for p_ in entry.get("pob", [])]),
        ):
            if values:
                x.open(list_tag)
                for i, value in enumerate(values):
                    x.open(item_tag)
                    x.leaf("uid", next(seq))
                    x.leaf(value_tag, value)
                    x.leaf("mainEntry", "true" if i == 0 else "false")
                    x.close(item_tag)
                x.close(list_tag)
        vessel = entry.get("vessel")
        if vessel:
            x.open("vesselInfo")
            if vessel.get("call_sign"):
                x.leaf("callSign", vessel["call_sign"])
            if vessel.get("vessel_type"):
                x.leaf("vesselType", vessel["vessel_type"])
            if vessel.get("flag"):
                x.leaf("vesselFlag", v.vessel_flag_names.get(vessel["flag"], v.country_name(vessel["flag"])))
            if vessel.get("owner"):
                x.leaf("vesselOwner", vessel["owner"])
            if vessel.get("tonnage"):
                x.leaf("tonnage", vessel["tonnage"].replace(",", ""))
            if vessel.get("grt"):
                x.leaf("grossRegisteredTonnage", vessel["grt"].replace(",", ""))
            x.close("vesselInfo")
        x.close("sdnEntry")
    x.raw("</sdnList>")
    return x.text().replace("\n", "\r\n").encode("utf-8")


# --------------------------------------------------------------------------- driver
def render() -> dict[str, bytes]:
    """Every demo file of the SDN list: path relative to the source's demo folder -> bytes."""
    vocab = load_vocab(VOCAB)
    snapshot, entries = load_entries(FACTS, vocab)
    by_uid = {e["uid"]: e for e in entries}
    plan = make_plan(entries)
    files = build_csv(entries, by_uid, plan, vocab)
    files["sdn_advanced.xml"] = build_advanced(entries, plan, vocab, snapshot)
    files["sdn.xml"] = build_classic(entries, by_uid, plan, vocab, snapshot)
    return files


def write_files(out_dir: Path, files: dict[str, bytes]) -> list[Path]:
    written = []
    for rel, data in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def build(out_dir: Path) -> list[Path]:
    """Write the demo files into ``out_dir`` (the source's folder under ``data/demo``)."""
    return write_files(out_dir, render())


def main() -> None:
    demo_main(build, DEFAULT_OUT, __doc__)


if __name__ == "__main__":
    main()
