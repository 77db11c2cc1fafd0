#!/usr/bin/env python3
"""Build the project's offline demo source files from hand-written public facts.

Reads ``data/demo/facts/us_ofac_sdn.yaml`` and ``data/demo/facts/un_sc.yaml`` and writes, in the
official publication layouts:

* ``us_ofac_sdn/sdn_advanced.xml``  OFAC SDN advanced XML (namespace http://www.un.org/sanctions/1.0)
* ``us_ofac_sdn/sdn.xml``           OFAC classic SDN.XML
* ``us_ofac_sdn/csv/sdn.csv``, ``add.csv``, ``alt.csv``, ``sdn_comments.csv``  legacy OFAC CSV set
* ``un_sc/consolidated.xml``        UN Security Council Consolidated List XML

The output is byte-for-byte deterministic (stdlib + PyYAML only, no network, no clock).

Usage::

    python scripts/build_demo_data.py              # write into data/demo
    python scripts/build_demo_data.py --out DIR    # write into DIR
    python scripts/build_demo_data.py --check  # regenerate in a temp dir, compare with data/demo
"""

from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import sys
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import yaml

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "data" / "demo"
FACTS = REPO / "data" / "demo" / "facts"

SNAPSHOT = dt.date(2024, 6, 28)

OUTPUT_FILES = [
    "us_ofac_sdn/sdn_advanced.xml",
    "us_ofac_sdn/sdn.xml",
    "us_ofac_sdn/csv/sdn.csv",
    "us_ofac_sdn/csv/add.csv",
    "us_ofac_sdn/csv/alt.csv",
    "us_ofac_sdn/csv/sdn_comments.csv",
    "un_sc/consolidated.xml",
]

# --------------------------------------------------------------------------- reference data
# OFAC country reference values (ID, short name) as used in OFAC's own publications.
OFAC_COUNTRIES = {
    "AE": (11210, "United Arab Emirates"),
    "AM": (11036, "Armenia"),
    "AZ": (11039, "Azerbaijan"),
    "BY": (11044, "Belarus"),
    "CF": (11062, "Central African Republic"),
    "CH": (11196, "Switzerland"),
    "CN": (11065, "China"),
    "CU": (11073, "Cuba"),
    "DE": (11094, "Germany"),
    "EC": (11081, "Ecuador"),
    "FI": (11089, "Finland"),
    "GA": (11091, "Gabon"),
    "IN": (11107, "India"),
    "IR": (11109, "Iran"),
    "KP": (11120, "Korea, North"),
    "KY": (11230, "Cayman Islands"),
    "KZ": (11117, "Kazakhstan"),
    "LB": (11126, "Lebanon"),
    "MM": (11056, "Burma"),
    "PA": (11162, "Panama"),
    "RU": (11171, "Russia"),
    "SA": (11179, "Saudi Arabia"),
    "SY": (11197, "Syria"),
    "UA": (11209, "Ukraine"),
    "US": (11212, "United States"),
    "UZ": (11214, "Uzbekistan"),
    "VE": (11216, "Venezuela"),
    "VG": (11278, "Virgin Islands, British"),
}
# The legacy CSV / classic XML spell some vessel flags differently from the country reference value.
VESSEL_FLAG_NAMES = {
    "KP": "Democratic People's Republic of Korea",
    "VG": "British Virgin Islands",
}

PROGRAM_IDS = {
    "CUBA": 202,
    "FTO": 204,
    "IRAN": 205,
    "SDGT": 211,
    "SYRIA": 215,
    "NPWMD": 91031,
    "BELARUS": 91057,
    "IRGC": 91166,
    "IFSR": 91167,
    "DPRK": 91168,
    "IRAN-HR": 91169,
    "HRIT-IR": 91231,
    "MAGNIT": 91435,
    "UKRAINE-EO13660": 91493,
    "CAR": 91495,
    "UKRAINE-EO13661": 91499,
    "UKRAINE-EO13662": 91502,
    "DPRK2": 91700,
    "VENEZUELA": 91705,
    "DPRK3": 91735,
    "CYBER2": 91741,
    "DPRK4": 91744,
    "GLOMAG": 91748,
    "CAATSA - RUSSIA": 91757,
    "ELECTION-EO13848": 91807,
    "SYRIA-EO13894": 91895,
    "IRAN-CON-ARMS-EO": 92002,
    "BURMA-EO14014": 92030,
    "RUSSIA-EO14024": 92042,
    "PEESA-EO14039": 92064,
    "BELARUS-EO14038": 92069,
}

# programme -> (LegalBasis ID, text) used for the "Created" entry event
LEGAL_BASIS = {
    "UKRAINE-EO13660": (91494, "Executive Order 13660 (Ukraine)"),
    "UKRAINE-EO13661": (91498, "Executive Order 13661 (Ukraine)"),
    "UKRAINE-EO13662": (91503, "Executive Order 13662 (Ukraine)"),
    "RUSSIA-EO14024": (92049, "Executive Order 14024 (Russia)"),
    "MAGNIT": (91436, "Magnitsky"),
    "PEESA-EO14039": (92065, "Executive Order 14039"),
    "NPWMD": (1811, "Executive Order 13382 (Non-proliferation)"),
    "CYBER2": (91742, "Executive Order 13757 (Cyber)"),
    "SYRIA": (91256, "Executive Order 13338 (Syria)"),
    "SDGT": (1828, "Executive Order 13224 (Terrorism)"),
    "IRAN": (91784, "Executive Order 13846 (Iran)"),
    "DPRK": (91245, "Executive Order 13551 (North Korea)"),
    "DPRK2": (91701, "Executive Order 13687 (North Korea)"),
    "DPRK4": (91745, "Executive Order 13810 (North Korea)"),
    "VENEZUELA": (91706, "Executive Order 13692 (Venezuela)"),
    "BELARUS": (1846, "Executive Order 13405 (Belarus)"),
    "BELARUS-EO14038": (92070, "Executive Order 14038 (Belarus)"),
    "CUBA": (91707, "Cuban Assets Control Regulations (CACR)"),
    "BURMA-EO14014": (92031, "Executive Order 14014"),
    "GLOMAG": (91749, "Executive Order 13818 (Global Magnitsky)"),
    "CAR": (91500, "Executive Order 13667 (CAR)"),
    "IRGC": (1828, "Executive Order 13224 (Terrorism)"),
}

RELATIONS = {
    "owned_by": (15003, "Owned or Controlled By", "false"),
    "providing_support_to": (15001, "Providing support to", "false"),
    "acting_for": (15002, "Acting for or on behalf of", "false"),
    "associate_of": (1555, "Associate Of", "true"),
    "family_member_of": (15004, "Family member of", "true"),
    "property_of": (92122, "Property in the interest of", "false"),
}

# feature label -> (FeatureType ID, kind); kind is text | lookup | date | country
FEATURES = {
    "Vessel Call Sign": (1, "text"),
    "VESSEL TYPE": (2, "lookup"),
    "Vessel Flag": (3, "country"),
    "Vessel Tonnage": (5, "text"),
    "Vessel Gross Registered Tonnage": (6, "text"),
    "Birthdate": (8, "date"),
    "Place of Birth": (9, "text"),
    "Nationality Country": (10, "country"),
    "Citizenship Country": (11, "country"),
    "SWIFT/BIC": (13, "text"),
    "Website": (14, "text"),
    "Email Address": (21, "text"),
    "Former Vessel Flag": (24, "text"),
    "Location": (25, "location"),
    "Aircraft Manufacture Date": (45, "date"),
    "Aircraft Mode S Transponder Code": (46, "text"),
    "Aircraft Model": (47, "text"),
    "Aircraft Operator": (48, "text"),
    "Aircraft Manufacturer's Serial Number (MSN)": (50, "text"),
    "Additional Sanctions Information -": (125, "lookup"),
    "Executive Order 13662 Directive Determination -": (204, "lookup"),
    "Gender": (224, "lookup"),
    "D-U-N-S Number": (364, "text"),
    "Nationality of Registration": (365, "country"),
    "Secondary sanctions risk:": (504, "lookup"),
    "Transactions Prohibited For Persons Owned or Controlled By U.S. Financial Institutions:": (
        626,
        "lookup",
    ),
    "Target Type": (826, "lookup"),
    "Executive Order 14024 Directive Information -": (947, "lookup"),
    "Executive Order 14024 Directive Information": (948, "lookup"),
    "Listing Date (EO 14024 Directive 2):": (951, "date"),
    "Effective Date (EO 14024 Directive 2):": (952, "date"),
    "Listing Date (EO 14024 Directive 3):": (953, "date"),
    "Effective Date (EO 14024 Directive 3):": (954, "date"),
}
FEATURE_DETAIL_TYPE = {
    "text": 1432,
    "lookup": 1431,
    "date": 1430,
    "country": 1433,
    "location": 1432,
}

# (feature label, value) -> DetailReference ID, for LOOKUP features
DETAIL_REFERENCES = {
    ("Additional Sanctions Information -", "Subject to Secondary Sanctions"): 91473,
    (
        "Additional Sanctions Information -",
        "Subject to Secondary Sanctions Pursuant to the Hizballah Financial Sanctions Regulations",
    ): 91738,
    ("Executive Order 13662 Directive Determination -", "Subject to Directive 1"): 91521,
    ("Gender", "Male"): 91526,
    ("Gender", "Female"): 91527,
    (
        "Secondary sanctions risk:",
        "North Korea Sanctions Regulations, sections 510.201 and 510.210",
    ): 91762,
    (
        "Secondary sanctions risk:",
        "Ukraine-/Russia-Related Sanctions Regulations, 31 CFR 589.201 and/or 589.209",
    ): 92077,
    (
        "Secondary sanctions risk:",
        "Ukraine-/Russia-Related Sanctions Regulations, 31 CFR 589.201",
    ): 92127,
    ("Secondary sanctions risk:", "See Section 11 of Executive Order 14024."): 92764,
    (
        "Transactions Prohibited For Persons Owned or Controlled By U.S. Financial Institutions:",
        "North Korea Sanctions Regulations section 510.214",
    ): 91905,
    ("Target Type", "Financial Institution"): 92036,
    ("Target Type", "State-Owned Enterprise"): 92048,
    ("Target Type", "Government Entity"): 92062,
    (
        "Executive Order 14024 Directive Information -",
        "For more information on directives, please visit the following link: "
        "https://home.treasury.gov/policy-issues/financial-sanctions/sanctions-programs-and-"
        "country-information/russian-harmful-foreign-activities-sanctions#directives",
    ): 92097,
    (
        "Executive Order 14024 Directive Information",
        "Subject to Directive 3 - All transactions in, provision of financing for, and other "
        "dealings in new debt of longer than 14 days maturity or new equity where such new debt "
        "or new equity is issued on or after the 'Effective Date (EO 14024 Directive)' "
        "associated with this name are prohibited.",
    ): 92098,
}
VESSEL_TYPES = {
    "General Cargo": 704,
    "Crude/Oil Products Tanker": 91275,
    "Anchor Handling Vessel": 92061,
    "Yacht": 92103,
}

ID_DOC_TYPES = {
    "Cedula No.": 1570,
    "Passport": 1571,
    "National ID No.": 1584,
    "Registration ID": 1585,
    "Tax ID No.": 1596,
    "Business Registration Document #": 1581,
    "Identification Number": 1608,
    "Diplomatic Passport": 1613,
    "Vessel Registration Identification": 1626,
    "Government Gazette Number": 1636,
    "MMSI": 91264,
    "Company Number": 91412,
    "Business Registration Number": 91760,
    "Registration Number": 91761,
}

PARTY_SUBTYPE = {"vessel": 1, "aircraft": 2, "entity": 3, "individual": 4}
CLASSIC_TYPE = {
    "vessel": "Vessel",
    "aircraft": "Aircraft",
    "entity": "Entity",
    "individual": "Individual",
}
ALIAS_TYPE_IDS = {"aka": 1400, "fka": 1401, "nka": 1402}
ALIAS_LABEL = {"aka": "a.k.a.", "fka": "f.k.a.", "nka": "n.k.a."}
NAME_PART_TYPES = {
    "last": 1520,
    "first": 1521,
    "entity": 1525,
    "vessel": 1526,
    "aircraft": 1524,
}

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

CSV_NULL = "-0- "
CSV_REMARKS_WIDTH = 1000  # the legacy sdn.csv cuts Remarks here; the rest goes to sdn_comments.csv


# --------------------------------------------------------------------------- helpers
def load_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def as_date(value) -> dt.date:
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


def country_name(code: str) -> str:
    return OFAC_COUNTRIES[code][1]


def country_id(code: str) -> int:
    return OFAC_COUNTRIES[code][0]


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


def id_phrase(doc: dict) -> str:
    text = f"{doc['type']} {doc['number']}"
    if doc.get("country"):
        text += f" ({country_name(doc['country'])})"
    if doc.get("issued"):
        text += f" issued {doc['issued']}"
    if doc.get("expires"):
        text += f" expires {doc['expires']}"
    return text


def feature_phrase(label: str, value: str) -> str:
    if label == "Nationality of Registration":
        value = country_name(value)
    return f"{label} {value}"


def with_alt(phrases: list[str]) -> list[str]:
    """OFAC prefixes repeated facts of one kind with 'alt.'."""
    out, seen = [], set()
    for key, text in phrases:
        out.append(("alt. " if key in seen else "") + text)
        seen.add(key)
    return out


def remarks_for(entry: dict, by_uid: dict) -> str:
    items: list[tuple[str, str]] = []
    items += [("DOB", f"DOB {d}") for d in entry.get("dob", [])]
    items += [("POB", f"POB {p['text']}") for p in entry.get("pob", [])]
    items += [("nat", f"nationality {country_name(c)}") for c in entry.get("nationality", [])]
    items += [("cit", f"citizen {country_name(c)}") for c in entry.get("citizenship", [])]
    items += [(label, feature_phrase(label, value)) for label, value in entry.get("features", [])]
    items += [(doc["type"], id_phrase(doc)) for doc in entry.get("ids", [])]
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


def load_ofac() -> list[dict]:
    facts = load_yaml(FACTS / "us_ofac_sdn.yaml")
    entries = sorted(facts["entries"], key=lambda e: e["uid"])
    for entry in entries:
        entry["listed"] = as_date(entry["listed"])
        if entry["listed"] > SNAPSHOT:
            raise SystemExit(f"uid {entry['uid']} listed after the snapshot date")
        for prog in entry["programs"]:
            if prog not in PROGRAM_IDS:
                raise SystemExit(f"uid {entry['uid']}: unknown programme {prog}")
    return entries


# --------------------------------------------------------------------------- legacy CSV
def csv_text(value: str | None) -> str:
    if value is None or value == "":
        return CSV_NULL
    return '"' + str(value) + '"'


def csv_rows_to_bytes(rows: list[str]) -> bytes:
    return ("\r\n".join(rows) + "\r\n\x1a").encode("utf-8")


def build_csv(entries: list[dict], by_uid: dict, plan_all: dict) -> dict[str, bytes]:
    plan = plan_all["entries"]
    sdn, add, alt, comments = [], [], [], []
    for entry in entries:
        uid = entry["uid"]
        remarks = remarks_for(entry, by_uid)
        head, tail = remarks[:CSV_REMARKS_WIDTH], remarks[CSV_REMARKS_WIDTH:]
        vessel = entry.get("vessel", {})
        flag = vessel.get("flag")
        sdn_type = {"individual": "individual", "vessel": "vessel", "aircraft": "aircraft"}.get(
            entry["type"]
        )
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
            csv_text(VESSEL_FLAG_NAMES.get(flag, country_name(flag)) if flag else None),
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
            add.append(
                ",".join(
                    [
                        str(uid),
                        str(loc_id),
                        csv_text(addr.get("address")),
                        csv_text(city or None),
                        csv_text(country_name(addr["country"]) if addr.get("country") else None),
                        CSV_NULL,
                    ]
                )
            )
        for alt_id, alias in plan[uid]["aliases"]:
            if alias.get("weak"):  # weak aliases only appear in Remarks ("a.k.a. 'X'")
                continue
            alt.append(
                ",".join(
                    [
                        str(uid),
                        str(alt_id),
                        csv_text(alias["type"]),
                        csv_text(alias["name"]),
                        CSV_NULL,
                    ]
                )
            )
    return {
        "us_ofac_sdn/csv/sdn.csv": csv_rows_to_bytes(sdn),
        "us_ofac_sdn/csv/add.csv": csv_rows_to_bytes(add),
        "us_ofac_sdn/csv/alt.csv": csv_rows_to_bytes(alt),
        "us_ofac_sdn/csv/sdn_comments.csv": csv_rows_to_bytes(comments),
    }


# --------------------------------------------------------------------------- XML writer
class Xml:
    """Tiny deterministic pretty-printer (two-space indentation, like OFAC's files)."""

    def __init__(self, indent: str = "  ") -> None:
        self.lines: list[str] = []
        self.depth = 0
        self.indent = indent

    @staticmethod
    def _attrs(attrs) -> str:
        return "".join(f" {k}={quoteattr(str(v))}" for k, v in attrs if v is not None)

    def open(self, tag: str, *attrs) -> None:
        self.lines.append(f"{self.indent * self.depth}<{tag}{self._attrs(attrs)}>")
        self.depth += 1

    def close(self, tag: str) -> None:
        self.depth -= 1
        self.lines.append(f"{self.indent * self.depth}</{tag}>")

    def leaf(self, tag: str, text=None, *attrs) -> None:
        pad = self.indent * self.depth
        if text is None or text == "":
            self.lines.append(f"{pad}<{tag}{self._attrs(attrs)} />")
        else:
            self.lines.append(f"{pad}<{tag}{self._attrs(attrs)}>{escape(str(text))}</{tag}>")

    def raw(self, line: str) -> None:
        self.lines.append(line)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


# --------------------------------------------------------------------------- OFAC plan (shared IDs)
def make_plan(entries: list[dict]) -> dict:
    """Allocate every ID once so that all three OFAC layouts agree (add_num = Location ID, ...)."""
    ids = Ids()
    plan: dict[int, dict] = {}
    for entry in entries:
        uid = entry["uid"]
        p = {
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
    x.open(
        "DatePeriod",
        ("CalendarTypeID", 1),
        ("YearFixed", "false"),
        ("MonthFixed", "false"),
        ("DayFixed", "false"),
    )
    for tag, value in (("Start", start), ("End", end)):
        x.open(
            tag,
            ("Approximate", "false"),
            ("YearFixed", "false"),
            ("MonthFixed", "false"),
            ("DayFixed", "false"),
        )
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


def alias_xml(
    x: Xml, ids: Ids, groups: list, entry: dict, alias_type: int, weak: bool, doc_id: int, name: str
) -> None:
    """One Identity/Alias/DocumentedName; alias type 1403 ("Name") is the primary name."""
    uid = entry["uid"]
    primary = alias_type == 1403
    x.open(
        "Alias",
        ("FixedRef", uid),
        ("AliasTypeID", alias_type),
        ("Primary", str(primary).lower()),
        ("LowQuality", str(weak).lower()),
    )
    x.open(
        "DocumentedName",
        ("ID", doc_id),
        ("FixedRef", uid),
        ("DocNameStatusID", 1 if primary else 2),
    )
    for part_type, value in name_parts(entry["type"], name):
        npg = ids("npg")
        groups.append((npg, part_type))
        x.open("DocumentedNamePart")
        x.leaf(
            "NamePartValue",
            value,
            ("NamePartGroupID", npg),
            ("ScriptID", 215),
            ("ScriptStatusID", 1),
            ("Acronym", "false"),
        )
        x.close("DocumentedNamePart")
    x.close("DocumentedName")
    x.close("Alias")


def build_advanced(entries: list[dict], by_uid: dict, plan_all: dict) -> bytes:
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

    def feature(
        x: Xml,
        identity: int,
        label: str,
        value=None,
        loc: dict | None = None,
        loc_id: int | None = None,
        text: str | None = None,
    ) -> None:
        type_id, kind = FEATURES[label]
        fid, vid = ids("feature"), ids("version")
        x.open("Feature", ("ID", fid), ("FeatureTypeID", type_id))
        x.open("FeatureVersion", ("ID", vid), ("ReliabilityID", 1))
        x.leaf("Comment")
        if kind == "date":
            xml_date_period(x, value)
            x.leaf("VersionDetail", None, ("DetailTypeID", FEATURE_DETAIL_TYPE["date"]))
        elif kind == "lookup":
            ref = (
                DETAIL_REFERENCES.get((label, value))
                if label != "VESSEL TYPE"
                else VESSEL_TYPES[value]
            )
            x.leaf(
                "VersionDetail",
                None,
                ("DetailTypeID", FEATURE_DETAIL_TYPE["lookup"]),
                ("DetailReferenceID", ref),
            )
        elif kind == "text" and text is not None:
            x.leaf("VersionDetail", text, ("DetailTypeID", FEATURE_DETAIL_TYPE["text"]))
        elif kind == "text":
            x.leaf("VersionDetail", value, ("DetailTypeID", FEATURE_DETAIL_TYPE["text"]))
        if loc is not None:
            x.leaf("VersionLocation", None, ("LocationID", location(loc, vid, loc_id)))
        x.close("FeatureVersion")
        x.leaf(
            "IdentityReference", None, ("IdentityID", identity), ("IdentityFeatureLinkTypeID", 1)
        )
        x.close("Feature")

    for entry in entries:
        uid = entry["uid"]
        p = plan[uid]
        identity = p["identity"]
        etype = entry["type"]
        x = parties
        x.open("DistinctParty", ("FixedRef", uid))
        x.leaf("Comment")
        x.open("Profile", ("ID", uid), ("PartySubTypeID", PARTY_SUBTYPE[etype]))
        x.open(
            "Identity", ("ID", identity), ("FixedRef", uid), ("Primary", "true"), ("False", "false")
        )
        groups: list[tuple[int, int]] = []
        alias_xml(x, ids, groups, entry, 1403, False, p["primary_name"], primary_name(entry))
        for alt_id, alias in p["aliases"]:
            alias_type = ALIAS_TYPE_IDS[alias["type"]]
            weak = bool(alias.get("weak"))
            alias_xml(x, ids, groups, entry, alias_type, weak, alt_id, alias["name"])
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
            feature(
                x,
                identity,
                "Place of Birth",
                text=pob["text"],
                loc={"city": pob.get("city"), "country": pob["country"]},
            )
        for code in entry.get("nationality", []):
            feature(x, identity, "Nationality Country", loc={"country": code})
        for code in entry.get("citizenship", []):
            feature(x, identity, "Citizenship Country", loc={"country": code})
        for label, value in entry.get("features", []):
            if FEATURES[label][1] == "country":
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
        basis = next(
            (LEGAL_BASIS[prog] for prog in entry["programs"] if prog in LEGAL_BASIS), (1, "Unknown")
        )
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
    out.leaf("Year", SNAPSHOT.year)
    out.leaf("Month", SNAPSHOT.month)
    out.leaf("Day", SNAPSHOT.day)
    out.close("DateOfIssue")
    countries_used.add("US")  # referenced by OrganisationValues (the issuing state)
    write_reference_values(out, sorted(countries_used, key=country_id), programs_used, legal_used)

    out.open("Locations")
    for loc_id, parts, version_id in sorted(locations, key=lambda t: t[0]):
        out.open("Location", ("ID", loc_id))
        code = parts.get("country")
        if code:
            out.leaf("LocationAreaCode", None, ("AreaCodeID", country_id(code)))
            out.leaf(
                "LocationCountry",
                None,
                ("CountryID", country_id(code)),
                ("CountryRelevanceID", 1413),
            )
        for key, part_type in (
            ("address", 1451),
            ("city", 1454),
            ("state", 1455),
            ("postal", 1456),
        ):
            if parts.get(key):
                out.open("LocationPart", ("LocPartTypeID", part_type))
                out.open(
                    "LocationPartValue",
                    ("Primary", "true"),
                    ("LocPartValueTypeID", 1),
                    ("LocPartValueStatusID", 1),
                )
                out.leaf("Comment")
                out.leaf("Value", parts[key])
                out.close("LocationPartValue")
                out.close("LocationPart")
        out.leaf("FeatureVersionReference", None, ("FeatureVersionID", version_id))
        out.close("Location")
    out.close("Locations")

    out.open("IDRegDocuments")
    for reg_id, identity, doc, docname in idregs:
        issued_by = country_id(doc["country"]) if doc.get("country") else None
        out.open(
            "IDRegDocument",
            ("ID", reg_id),
            ("IDRegDocTypeID", ID_DOC_TYPES[doc["type"]]),
            ("IdentityID", identity),
            ("IssuedBy-CountryID", issued_by),
            ("ValidityID", 1),
        )
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
            rel_id, _, _ = RELATIONS[link["rel"]]
            out.open(
                "ProfileRelationship",
                ("ID", ids("relation")),
                ("From-ProfileID", entry["uid"]),
                ("To-ProfileID", link["uid"]),
                ("RelationTypeID", rel_id),
                ("RelationQualityID", 1),
                ("Former", "false"),
                ("SanctionsEntryID", entry["uid"]),
            )
            out.leaf("Comment")
            out.close("ProfileRelationship")
    out.close("ProfileRelationships")

    out.open("SanctionsEntries")
    for entry in entries:
        uid = entry["uid"]
        basis = next(
            (LEGAL_BASIS[prog] for prog in entry["programs"] if prog in LEGAL_BASIS), (1, "Unknown")
        )
        out.open("SanctionsEntry", ("ID", uid), ("ProfileID", uid), ("ListID", 1550))
        out.open("EntryEvent", ("ID", uid), ("EntryEventTypeID", 1), ("LegalBasisID", basis[0]))
        out.leaf("Comment")
        out.open("Date", ("CalendarTypeID", 1))
        out.leaf("Year", entry["listed"].year)
        out.leaf("Month", entry["listed"].month)
        out.leaf("Day", entry["listed"].day)
        out.close("Date")
        out.close("EntryEvent")
        out.open("SanctionsMeasure", ("ID", ids("measure")), ("SanctionsTypeID", 1705))
        out.leaf(
            "DatePeriod",
            None,
            ("CalendarTypeID", 1),
            ("YearFixed", "true"),
            ("MonthFixed", "true"),
            ("DayFixed", "true"),
        )
        out.close("SanctionsMeasure")
        for prog in entry["programs"]:
            out.open("SanctionsMeasure", ("ID", ids("measure")), ("SanctionsTypeID", 1))
            out.leaf("Comment", prog)
            out.leaf(
                "DatePeriod",
                None,
                ("CalendarTypeID", 1),
                ("YearFixed", "true"),
                ("MonthFixed", "true"),
                ("DayFixed", "true"),
            )
            out.close("SanctionsMeasure")
        out.close("SanctionsEntry")
    out.close("SanctionsEntries")
    out.leaf("SanctionsEntryLinks")
    out.raw("</Sanctions>")
    return out.text().encode("utf-8")


def write_reference_values(out: Xml, countries: list[str], programs: set, legal: dict) -> None:
    def simple(group: str, tag: str, values) -> None:
        if not values:
            out.leaf(group)
            return
        out.open(group)
        for vid, text, *attrs in values:
            out.leaf(tag, text, ("ID", vid), *attrs)
        out.close(group)

    out.open("ReferenceValueSets")
    simple(
        "AliasTypeValues",
        "AliasType",
        [(1400, "A.K.A."), (1401, "F.K.A."), (1402, "N.K.A."), (1403, "Name")],
    )
    simple(
        "AreaCodeValues",
        "AreaCode",
        [
            (
                country_id(c),
                c,
                ("CountryID", country_id(c)),
                ("Description", country_name(c)),
                ("AreaCodeTypeID", 1),
            )
            for c in countries
        ],
    )
    simple("AreaCodeTypeValues", "AreaCodeType", [(1, "ISO 3166 (2)")])
    simple("CalendarTypeValues", "CalendarType", [(1, "Gregorian")])
    simple(
        "CountryValues",
        "Country",
        [(country_id(c), country_name(c), ("ISO2", c)) for c in countries],
    )
    simple("CountryRelevanceValues", "CountryRelevance", [(1413, "PRIMARY")])
    simple(
        "DecisionMakingBodyValues",
        "DecisionMakingBody",
        [(1, "United States Treasury Department", ("OrganisationID", 1))],
    )
    detail_refs = sorted(set(DETAIL_REFERENCES.values()) | set(VESSEL_TYPES.values()))
    texts = {v: k[1] for k, v in DETAIL_REFERENCES.items()}
    texts.update({v: k for k, v in VESSEL_TYPES.items()})
    simple("DetailReferenceValues", "DetailReference", [(r, texts[r]) for r in detail_refs])
    simple(
        "DetailTypeValues",
        "DetailType",
        [(1430, "DATE"), (1431, "LOOKUP"), (1432, "TEXT"), (1433, "COUNTRY"), (1434, "LOCATION")],
    )
    simple("DocNameStatusValues", "DocNameStatus", [(1, "Primary Latin"), (2, "Others")])
    simple("EntryEventTypeValues", "EntryEventType", [(1, "Created")])
    simple("EntryLinkTypeValues", "EntryLinkType", [])
    simple("ExRefTypeValues", "ExRefType", [])
    simple(
        "FeatureTypeValues",
        "FeatureType",
        [
            (fid, label, ("FeatureTypeGroupID", 1))
            for label, (fid, _) in sorted(FEATURES.items(), key=lambda i: i[1][0])
        ],
    )
    simple("FeatureTypeGroupValues", "FeatureTypeGroup", [(1, "Unknown")])
    simple(
        "IDRegDocDateTypeValues",
        "IDRegDocDateType",
        [(1480, "Issue Date"), (1481, "Expiration Date")],
    )
    simple("IDRegDocTypeValues", "IDRegDocType", sorted((v, k) for k, v in ID_DOC_TYPES.items()))
    simple("IdentityFeatureLinkTypeValues", "IdentityFeatureLinkType", [(1, "Unknown")])
    simple(
        "LegalBasisValues",
        "LegalBasis",
        [
            (
                lid,
                text,
                ("LegalBasisShortRef", text),
                ("LegalBasisTypeID", 1),
                ("SanctionsProgramID", 1),
            )
            for lid, text in sorted(legal.items())
        ],
    )
    simple("LegalBasisTypeValues", "LegalBasisType", [(1, "Unknown")])
    simple("ListValues", "List", [(1550, "SDN List")])
    simple(
        "LocPartTypeValues",
        "LocPartType",
        [
            (1, "Unknown"),
            (1450, "REGION"),
            (1451, "ADDRESS1"),
            (1452, "ADDRESS2"),
            (1453, "ADDRESS3"),
            (1454, "CITY"),
            (1455, "STATE/PROVINCE"),
            (1456, "POSTAL CODE"),
        ],
    )
    simple("LocPartValueStatusValues", "LocPartValueStatus", [(1, "Main")])
    simple("LocPartValueTypeValues", "LocPartValueType", [(1, "Unknown")])
    simple(
        "NamePartTypeValues",
        "NamePartType",
        [
            (1520, "Last Name"),
            (1521, "First Name"),
            (1524, "Aircraft Name"),
            (1525, "Entity Name"),
            (1526, "Vessel Name"),
        ],
    )
    simple("OrganisationValues", "Organisation", [(1, "State", ("CountryID", 11212))])
    simple(
        "PartySubTypeValues",
        "PartySubType",
        [
            (1, "Vessel", ("PartyTypeID", 4)),
            (2, "Aircraft", ("PartyTypeID", 4)),
            (3, "Unknown", ("PartyTypeID", 2)),
            (4, "Unknown", ("PartyTypeID", 1)),
        ],
    )
    simple(
        "PartyTypeValues",
        "PartyType",
        [(1, "Individual"), (2, "Entity"), (3, "Location"), (4, "Transport"), (5, "Other Entity")],
    )
    simple("RelationQualityValues", "RelationQuality", [(1540, "High"), (1, "Unknown")])
    simple(
        "RelationTypeValues",
        "RelationType",
        [(rid, text, ("Symmetrical", sym)) for rid, text, sym in sorted(RELATIONS.values())],
    )
    simple("ReliabilityValues", "Reliability", [(1560, "Confirmed"), (1, "Unknown")])
    simple(
        "SanctionsProgramValues",
        "SanctionsProgram",
        [(1, "Unknown", ("SubsidiaryBodyID", 1))]
        + [
            (PROGRAM_IDS[p], p, ("SubsidiaryBodyID", 1))
            for p in sorted(programs, key=lambda p: PROGRAM_IDS[p])
        ],
    )
    simple("SanctionsTypeValues", "SanctionsType", [(1705, "Block"), (1, "Program")])
    simple("ScriptValues", "Script", [(215, "Latin", ("ScriptCode", "Latin"))])
    simple("ScriptStatusValues", "ScriptStatus", [(1, "Unknown")])
    simple(
        "SubsidiaryBodyValues",
        "SubsidiaryBody",
        [
            (
                1,
                "Office of Foreign Assets Control",
                ("Notional", "false"),
                ("DecisionMakingBodyID", 1),
            )
        ],
    )
    simple("SupInfoTypeValues", "SupInfoType", [])
    simple("TargetTypeValues", "TargetType", [])
    simple("ValidityValues", "Validity", [(1, "Valid"), (2, "Fraudulent")])
    out.close("ReferenceValueSets")


# --------------------------------------------------------------------------- classic SDN.XML
def build_classic(entries: list[dict], by_uid: dict, plan_all: dict) -> bytes:
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
    x.leaf("Publish_Date", SNAPSHOT.strftime("%m/%d/%Y"))
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
        links = [
            f"Linked To: {primary_name(by_uid[link['uid']])}" for link in entry.get("links", [])
        ]
        if links:
            x.leaf("remarks", "(" + "; ".join(links) + ")")
        x.open("programList")
        for prog in entry["programs"]:
            x.leaf("program", prog)
        x.close("programList")
        id_items = []
        for label, value in entry.get("features", []):
            if label == "Nationality of Registration":
                id_items.append((label, None, country_name(value), None, None))
            else:
                id_items.append((label, value, None, None, None))
        for doc in entry.get("ids", []):
            id_items.append(
                (
                    doc["type"],
                    doc["number"],
                    country_name(doc["country"]) if doc.get("country") else None,
                    doc.get("issued"),
                    doc.get("expires"),
                )
            )
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
                if addr.get("address"):
                    x.leaf("address1", addr["address"])
                if addr.get("city"):
                    x.leaf("city", addr["city"])
                if addr.get("state"):
                    x.leaf("stateOrProvince", addr["state"])
                if addr.get("postal"):
                    x.leaf("postalCode", addr["postal"])
                if addr.get("country"):
                    x.leaf("country", country_name(addr["country"]))
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
                    x.leaf("country", country_name(code))
                    x.leaf("mainEntry", "true" if i == 0 else "false")
                    x.close(item_tag)
                x.close(list_tag)
        for list_tag, item_tag, value_tag, values in (
            ("dateOfBirthList", "dateOfBirthItem", "dateOfBirth", entry.get("dob", [])),
            (
                "placeOfBirthList",
                "placeOfBirthItem",
                "placeOfBirth",
                [p_["text"] for p_ in entry.get("pob", [])],
            ),
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
                x.leaf(
                    "vesselFlag",
                    VESSEL_FLAG_NAMES.get(vessel["flag"], country_name(vessel["flag"])),
                )
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


# --------------------------------------------------------------------------- UN consolidated list
def build_un() -> bytes:
    facts = load_yaml(FACTS / "un_sc.yaml")
    records = facts["entries"]
    for rec in records:
        if as_date(rec["listed_on"]) > SNAPSHOT:
            raise SystemExit(f"{rec['reference_number']} listed after the snapshot date")
    x = Xml()
    x.raw('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
    x.raw(
        '<CONSOLIDATED_LIST xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="https://www.un.org/sc/resources/sc-sanctions.xsd" '
        f'dateGenerated="{SNAPSHOT.isoformat()}T00:00:00.000Z">'
    )
    x.depth = 1
    for kind, group in (("individual", "INDIVIDUALS"), ("entity", "ENTITIES")):
        tag = kind.upper()
        x.open(group)
        for rec in sorted(
            (r for r in records if r["kind"] == kind), key=lambda r: r["reference_number"]
        ):
            x.open(tag)
            x.leaf("DATAID", rec["dataid"])
            x.leaf("VERSIONNUM", rec["versionnum"])
            for name_tag, value in zip(
                ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"),
                rec["names"],
                strict=False,
            ):
                x.leaf(name_tag, value)
            x.leaf("UN_LIST_TYPE", rec["un_list_type"])
            x.leaf("REFERENCE_NUMBER", rec["reference_number"])
            x.leaf("LISTED_ON", str(rec["listed_on"]))
            if rec.get("gender"):
                x.leaf("GENDER", rec["gender"])
            x.leaf("COMMENTS1", rec.get("comments"))
            for multi in ("title", "designation", "nationality"):
                if kind == "individual" and rec.get(multi):
                    x.open(multi.upper())
                    for value in rec[multi]:
                        x.leaf("VALUE", value)
                    x.close(multi.upper())
            x.open("LIST_TYPE")
            x.leaf("VALUE", "UN List")
            x.close("LIST_TYPE")
            if rec.get("last_day_updated"):
                x.open("LAST_DAY_UPDATED")
                for value in rec["last_day_updated"]:
                    x.leaf("VALUE", str(value))
                x.close("LAST_DAY_UPDATED")
            else:
                x.leaf("LAST_DAY_UPDATED")
            aliases = rec.get("aliases") or [{}]
            for alias in aliases:
                x.open(f"{tag}_ALIAS")
                x.leaf("QUALITY", alias.get("quality"))
                x.leaf("ALIAS_NAME", alias.get("name"))
                x.close(f"{tag}_ALIAS")
            for addr in rec.get("addresses") or [{}]:
                x.open(f"{tag}_ADDRESS")
                keys = [
                    k
                    for k in ("street", "city", "state_province", "zip_code", "country", "note")
                    if addr.get(k)
                ]
                for key in keys:
                    x.leaf(key.upper(), addr[key])
                if not keys:
                    x.leaf("COUNTRY")
                x.close(f"{tag}_ADDRESS")
            if kind == "individual":
                for dob in rec.get("dob") or []:
                    x.open("INDIVIDUAL_DATE_OF_BIRTH")
                    for key in ("type_of_date", "date", "year", "from_year", "to_year", "note"):
                        if dob.get(key):
                            x.leaf(key.upper(), dob[key])
                    x.close("INDIVIDUAL_DATE_OF_BIRTH")
                if not rec.get("dob"):
                    x.leaf("INDIVIDUAL_DATE_OF_BIRTH")
                for pob in rec.get("pob") or [{}]:
                    x.open("INDIVIDUAL_PLACE_OF_BIRTH")
                    keys = [k for k in ("city", "state_province", "country", "note") if pob.get(k)]
                    for key in keys:
                        x.leaf(key.upper(), pob[key])
                    if not keys:
                        x.leaf("COUNTRY")
                    x.close("INDIVIDUAL_PLACE_OF_BIRTH")
                docs = rec.get("documents") or []
                for doc in docs:
                    x.open("INDIVIDUAL_DOCUMENT")
                    for key in (
                        "type_of_document",
                        "type_of_document2",
                        "number",
                        "issuing_country",
                        "date_of_issue",
                        "city_of_issue",
                        "country_of_issue",
                        "note",
                    ):
                        if doc.get(key):
                            x.leaf(key.upper(), doc[key])
                    x.close("INDIVIDUAL_DOCUMENT")
                if not docs:
                    x.leaf("INDIVIDUAL_DOCUMENT")
            x.leaf("SORT_KEY")
            x.leaf("SORT_KEY_LAST_MOD")
            x.close(tag)
        x.close(group)
    x.raw("</CONSOLIDATED_LIST>")
    # the UN file uses <TAG/> for empty elements
    return x.text().replace(" />", "/>").encode("utf-8")


# --------------------------------------------------------------------------- driver
def build_all() -> dict[str, bytes]:
    entries = load_ofac()
    by_uid = {e["uid"]: e for e in entries}
    for entry in entries:
        for link in entry.get("links", []):
            if link["uid"] not in by_uid:
                raise SystemExit(f"uid {entry['uid']} links to unknown uid {link['uid']}")
    plan = make_plan(entries)
    files: dict[str, bytes] = {}
    files.update(build_csv(entries, by_uid, plan))
    files["us_ofac_sdn/sdn_advanced.xml"] = build_advanced(entries, by_uid, plan)
    files["us_ofac_sdn/sdn.xml"] = build_classic(entries, by_uid, plan)
    files["un_sc/consolidated.xml"] = build_un()
    return files


def write(out: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output directory (default: data/demo)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate into a temporary directory and compare with --out",
    )
    args = parser.parse_args(argv)
    files = build_all()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            write(Path(tmp), files)
            bad = [
                rel
                for rel in OUTPUT_FILES
                if not (args.out / rel).is_file()
                or not filecmp.cmp(Path(tmp) / rel, args.out / rel, shallow=False)
            ]
        if bad:
            print("demo data out of date: " + ", ".join(bad), file=sys.stderr)
            return 1
        print(f"demo data up to date ({len(OUTPUT_FILES)} files)")
        return 0
    write(args.out, files)
    for rel in OUTPUT_FILES:
        print(f"wrote {args.out / rel} ({len(files[rel])} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
