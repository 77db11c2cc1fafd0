"""Checks for the offline demo source files in data/demo (written by scripts/build_demo_data.py)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo"
OFAC = DEMO / "us_ofac_sdn"
CSV_DIR = OFAC / "csv"
UN_FILE = DEMO / "un_sc" / "consolidated.xml"
XSD = Path(__file__).resolve().parents[1].parent / "shared/data/samples/ofac/sdn_advanced.xsd"
PROGRAM_TARGETS = REPO / "pipeline" / "reference" / "programs.csv"

ADV_NS = {"s": "http://www.un.org/sanctions/1.0"}
CLASSIC_NS = {"c": "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML"}
XML_FILES = [OFAC / "sdn_advanced.xml", OFAC / "sdn.xml", UN_FILE]
CSV_FILES = ["sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv"]


def read_csv(name: str) -> list[list[str]]:
    data = (CSV_DIR / name).read_bytes()
    assert data.endswith(b"\r\n\x1a")
    text = data[:-1].decode("utf-8").replace("\r\n", "\n")
    return [row for row in csv.reader(io.StringIO(text)) if row]


@pytest.fixture(scope="module")
def advanced() -> ET.Element:
    return ET.parse(OFAC / "sdn_advanced.xml").getroot()


def party_countries(root: ET.Element) -> dict[str, set[str]]:
    """Profile ID -> ISO2 codes of every country linked through a feature location."""
    iso = {
        c.get("ID"): c.get("ISO2")
        for c in root.iterfind("s:ReferenceValueSets/s:CountryValues/s:Country", ADV_NS)
    }
    loc_country = {}
    for loc in root.iterfind("s:Locations/s:Location", ADV_NS):
        country = loc.find("s:LocationCountry", ADV_NS)
        if country is not None:
            loc_country[loc.get("ID")] = iso[country.get("CountryID")]
    out: dict[str, set[str]] = {}
    for profile in root.iterfind("s:DistinctParties/s:DistinctParty/s:Profile", ADV_NS):
        codes = {
            loc_country[v.get("LocationID")]
            for v in profile.iterfind("s:Feature/s:FeatureVersion/s:VersionLocation", ADV_NS)
            if v.get("LocationID") in loc_country
        }
        out[profile.get("ID")] = codes
    return out


def test_files_exist():
    for path in XML_FILES + [CSV_DIR / name for name in CSV_FILES] + [DEMO / "README.md"]:
        assert path.is_file(), path


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: p.name)
def test_xml_well_formed(path: Path):
    ET.parse(path)


def test_advanced_validates_against_official_xsd():
    from lxml import etree  # pinned in requirements.in

    assert XSD.is_file(), f"the official XSD is missing from the shared samples: {XSD}"
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    doc = etree.parse(str(OFAC / "sdn_advanced.xml"))
    assert schema.validate(doc), "\n".join(str(e) for e in list(schema.error_log)[:10])


def test_generator_is_deterministic():
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_demo_data.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_advanced_layout(advanced):
    sections = [child.tag.split("}")[1] for child in advanced]
    assert sections == [
        "DateOfIssue",
        "ReferenceValueSets",
        "Locations",
        "IDRegDocuments",
        "DistinctParties",
        "ProfileRelationships",
        "SanctionsEntries",
        "SanctionsEntryLinks",
    ]
    issue = advanced.find("s:DateOfIssue", ADV_NS)
    assert [issue.findtext(f"s:{k}", namespaces=ADV_NS) for k in ("Year", "Month", "Day")] == [
        "2024",
        "6",
        "28",
    ]
    for party in advanced.iterfind("s:DistinctParties/s:DistinctParty", ADV_NS):
        assert party.get("FixedRef") == party.find("s:Profile", ADV_NS).get("ID")
    for entry in advanced.iterfind("s:SanctionsEntries/s:SanctionsEntry", ADV_NS):
        assert entry.get("ListID") == "1550"
        event = entry.find("s:EntryEvent", ADV_NS)
        assert event.get("EntryEventTypeID") == "1"
        year = int(event.findtext("s:Date/s:Year", namespaces=ADV_NS))
        assert 1960 <= year <= 2024
        types = [m.get("SanctionsTypeID") for m in entry.iterfind("s:SanctionsMeasure", ADV_NS)]
        assert "1705" in types and "1" in types


def test_same_uids_in_all_ofac_layouts(advanced):
    adv = {
        p.get("FixedRef") for p in advanced.iterfind("s:DistinctParties/s:DistinctParty", ADV_NS)
    }
    classic_root = ET.parse(OFAC / "sdn.xml").getroot()
    classic = {
        e.findtext("c:uid", namespaces=CLASSIC_NS)
        for e in classic_root.iterfind("c:sdnEntry", CLASSIC_NS)
    }
    legacy = {row[0] for row in read_csv("sdn.csv")}
    assert len(adv) >= 130
    assert adv == classic == legacy
    assert (
        classic_root.findtext("c:publshInformation/c:Publish_Date", namespaces=CLASSIC_NS)
        == "06/28/2024"
    )
    assert classic_root.findtext(
        "c:publshInformation/c:Record_Count", namespaces=CLASSIC_NS
    ) == str(len(classic))
    for name in ("add.csv", "alt.csv", "sdn_comments.csv"):
        assert {row[0] for row in read_csv(name)} <= legacy


def test_required_countries_and_multi_country_entries(advanced):
    countries = party_countries(advanced)
    present = set().union(*countries.values())
    assert {"RU", "IR", "KP", "SY", "VE", "BY"} <= present
    entity_profiles = {
        p.get("ID")
        for p in advanced.iterfind("s:DistinctParties/s:DistinctParty/s:Profile", ADV_NS)
        if p.get("PartySubTypeID") == "3"
    }
    assert any(len(countries[pid]) > 1 for pid in entity_profiles)


def test_russia_iran_relationship(advanced):
    countries = party_countries(advanced)
    rels = list(advanced.iterfind("s:ProfileRelationships/s:ProfileRelationship", ADV_NS))
    assert rels
    pairs = [(countries[r.get("From-ProfileID")], countries[r.get("To-ProfileID")]) for r in rels]
    assert any(("RU" in a and "IR" in b) or ("IR" in a and "RU" in b) for a, b in pairs)


def program_target_months(root: ET.Element) -> list[tuple[str, set[str]]]:
    """(listing month 'YYYY-MM', target countries of the entry's programmes) per sanctions entry."""
    targets: dict[str, set[str]] = {}
    with PROGRAM_TARGETS.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["authority"] == "us_ofac" and row["target_iso2"]:
                targets.setdefault(row["program"], set()).add(row["target_iso2"])
    out = []
    for entry in root.iterfind("s:SanctionsEntries/s:SanctionsEntry", ADV_NS):
        date = entry.find("s:EntryEvent/s:Date", ADV_NS)
        month = "{}-{:02d}".format(
            date.findtext("s:Year", namespaces=ADV_NS), int(date.findtext("s:Month", namespaces=ADV_NS))
        )
        programs = [
            m.findtext("s:Comment", namespaces=ADV_NS)
            for m in entry.iterfind("s:SanctionsMeasure", ADV_NS)
            if m.get("SanctionsTypeID") == "1"
        ]
        out.append((month, set().union(*(targets.get(p, set()) for p in programs))))
    return out


def test_russia_overtakes_iran_in_early_2022(advanced):
    """The headline fact: by programme target, Russia passes Iran in Feb/Mar 2022 and leads clearly."""
    rows = program_target_months(advanced)
    russia = sum("RU" in c for _, c in rows)
    iran = sum("IR" in c for _, c in rows)
    assert russia >= iran + 15, (russia, iran)
    cumulative = {"RU": 0, "IR": 0}
    first_lead = None
    for month in sorted({m for m, _ in rows}):
        for m, countries in rows:
            if m == month:
                for code in cumulative:
                    cumulative[code] += code in countries
        if first_lead is None and cumulative["RU"] > cumulative["IR"]:
            first_lead = month
    assert first_lead in ("2022-02", "2022-03"), first_lead


def test_several_multi_programme_entries():
    rows = read_csv("sdn.csv")
    assert sum(1 for row in rows if "] [" in row[3]) >= 10
    types = {row[2] for row in rows}
    assert {"individual", "vessel", "aircraft", "-0- "} <= types


def test_csv_quirks():
    for name in CSV_FILES:
        data = (CSV_DIR / name).read_bytes()
        assert data.endswith(b"\r\n\x1a"), name
        body = data[:-1]
        assert body.count(b"\r\n") == body.count(b"\n"), f"{name}: bare LF"
    sdn = (CSV_DIR / "sdn.csv").read_bytes()
    assert b",-0- ," in sdn
    assert not sdn.startswith(b"ent_num")
    comments = read_csv("sdn_comments.csv")
    assert comments, "expected at least one Remarks overflow row"
    remarks = {row[0]: row[11] for row in read_csv("sdn.csv")}
    for uid, extension in comments:
        assert len(remarks[uid]) == 1000
        assert extension


def test_un_list():
    root = ET.parse(UN_FILE).getroot()
    assert root.tag == "CONSOLIDATED_LIST"
    assert root.get("dateGenerated") == "2024-06-28T00:00:00.000Z"
    records = root.findall("INDIVIDUALS/INDIVIDUAL") + root.findall("ENTITIES/ENTITY")
    assert len(records) >= 30
    refs = [r.findtext("REFERENCE_NUMBER") for r in records]
    assert len(set(refs)) == len(refs)
    assert any(ref.startswith("KP") for ref in refs)
    for rec in records:
        assert rec.findtext("LISTED_ON") <= "2024-06-28"
    multi = 0
    for rec in records:
        countries = {v.text for v in rec.iterfind("NATIONALITY/VALUE")}
        countries |= {c.text for c in rec.iter("COUNTRY") if c.text}
        multi += len(countries) > 1
    assert multi >= 1
    nationalities = {v.text for v in root.iter("VALUE")}
    assert "Democratic People's Republic of Korea" in nationalities
