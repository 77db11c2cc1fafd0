"""Checks for the offline demo source files in data/demo: every source's builder
(``pipeline/sources/<id>/demo.py``, run by ``scripts/build_demo_data.py``) rebuilds its committed
files byte for byte, the OFAC advanced files validate against OFAC's XSD, the SDN demo keeps its
headline facts, and the consolidated (non-SDN) demo keeps every list apart from the SDN list."""

from __future__ import annotations

import csv
import filecmp
import importlib
import importlib.util
import io
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline.parse import parse_files
from pipeline.reference import read_programs
from pipeline.sources import load_meta

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo"
SOURCES = REPO / "pipeline" / "sources"
OFAC = DEMO / "us_ofac_sdn"
CSV_DIR = OFAC / "csv"
CONS_FILE = DEMO / "us_ofac_cons" / "cons_advanced.xml"
UN_FILE = DEMO / "un_sc" / "consolidated.xml"
XSD = Path(__file__).resolve().parents[1].parent / "shared/data/samples/ofac/sdn_advanced.xsd"
BUILDERS = sorted(p.parent.name for p in SOURCES.glob("*/demo.py"))

ADV_NS = {"s": "http://www.un.org/sanctions/1.0"}
CLASSIC_NS = {"c": "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML"}
XML_FILES = [OFAC / "sdn_advanced.xml", OFAC / "sdn.xml", CONS_FILE, UN_FILE]
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


@pytest.mark.parametrize("path", [OFAC / "sdn_advanced.xml", CONS_FILE], ids=lambda p: p.name)
def test_advanced_validates_against_official_xsd(path: Path):
    from lxml import etree  # pinned in requirements.in

    assert XSD.is_file(), f"the official XSD is missing from the shared samples: {XSD}"
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    doc = etree.parse(str(path))
    assert schema.validate(doc), "\n".join(str(e) for e in list(schema.error_log)[:10])


# --- the builders: one per source folder, byte for byte ------------------------------------------


def _script():
    """scripts/build_demo_data.py as a module (the thin loop over the builders)."""
    spec = importlib.util.spec_from_file_location("build_demo_data", REPO / "scripts" / "build_demo_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_source_with_demo_files_has_a_builder():
    assert {"us_ofac_sdn", "us_ofac_cons", "un_sc", "gdelt_events", "unga_votes", "articles"} <= set(BUILDERS)
    assert _script().builder_ids() == BUILDERS
    for folder in sorted(p for p in DEMO.iterdir() if p.is_dir()):
        assert folder.name in BUILDERS, f"data/demo/{folder.name} has no pipeline/sources/{folder.name}/demo.py"


@pytest.mark.parametrize("source_id", BUILDERS)
def test_builder_rebuilds_its_committed_files_byte_for_byte(source_id: str, tmp_path: Path):
    module = importlib.import_module(f"pipeline.sources.{source_id}.demo")
    out = tmp_path / source_id
    written = module.build(out)
    assert written and all(isinstance(p, Path) and out in p.parents for p in written), written
    rels = sorted(p.relative_to(out) for p in written)
    committed = sorted(p.relative_to(DEMO / source_id) for p in (DEMO / source_id).rglob("*")
                       if p.is_file() and p.name != "README.md")
    assert rels == committed, f"{source_id}: the builder writes {rels}, data/demo holds {committed}"
    for rel in rels:
        assert filecmp.cmp(out / rel, DEMO / source_id / rel, shallow=False), f"{source_id}/{rel} differs"
    for rel in load_meta(source_id).demo_inputs:  # a file, or a folder of files
        demo_input = Path(rel).relative_to(source_id)
        assert any(r == demo_input or demo_input in r.parents for r in rels), f"{source_id}: {rel} is not built"


def test_check_names_a_changed_a_missing_and_a_stray_file(tmp_path: Path):
    script = _script()
    shutil.copytree(DEMO / "un_sc", tmp_path / "un_sc")
    shutil.copytree(DEMO / "unga_votes", tmp_path / "unga_votes")
    assert script.check(["un_sc", "unga_votes"], tmp_path) == []
    changed = tmp_path / "un_sc" / "consolidated.xml"
    changed.write_bytes(changed.read_bytes().replace(b"KPe.001", b"KPe.999", 1))
    (tmp_path / "un_sc" / "old_copy.xml").write_bytes(b"<CONSOLIDATED_LIST/>")
    (tmp_path / "unga_votes" / "issues.csv").unlink()
    assert script.check(["un_sc", "unga_votes"], tmp_path) == [
        "un_sc/consolidated.xml: differs from what un_sc/demo.py writes",
        "un_sc/old_copy.xml: not written by un_sc/demo.py",
        "unga_votes/issues.csv: missing",
    ]
    assert script.main(["--check", "--source", "un_sc", "--out", str(tmp_path)]) == 1


def test_builder_refuses_facts_it_cannot_render(tmp_path: Path):
    from pipeline.sources.us_ofac_sdn import demo

    vocab = demo.load_vocab(demo.VOCAB)
    facts = yaml.safe_load(demo.FACTS.read_text(encoding="utf-8"))
    first = facts["entries"][0]
    for change, message in (
        ({"listed": "2024-07-01"}, f"uid {first['uid']} listed on SDN after the snapshot date"),
        ({"programs": ["NO-SUCH-PROGRAMME"]}, f"uid {first['uid']}: unknown programme NO-SUCH-PROGRAMME"),
        ({"links": [{"uid": 1, "rel": "owned_by"}]}, f"uid {first['uid']} links to unknown uid 1"),
        ({"lists": {"NO-LIST": "2020-01-01"}}, f"uid {first['uid']}: unknown list NO-LIST"),
    ):
        hostile = {**facts, "entries": [{**first, **change}, *facts["entries"][1:]]}
        with pytest.raises(SystemExit, match=message):
            demo.check_entries(hostile, vocab, tmp_path / "hostile.yml")


@pytest.mark.integration
def test_build_demo_data_script_check_passes():
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "build_demo_data.py"), "--check"],
                            capture_output=True, text=True, cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo data up to date" in result.stdout


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
    for row in read_programs():
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


# --- the consolidated (non-SDN) lists: us_ofac_cons ------------------------------------------------

# OFAC's list names -> list codes, written out here so the recount does not use the parser's lookup.
CONS_LIST_CODES = {
    "SDN List": "SDN",
    "Sectoral Sanctions Identifications List": "SSI",
    "Non-SDN Menu-Based Sanctions List": "NS-MBS",
    "Non-SDN CMIC List": "NS-CMIC",
    "FSE List": "FSE",
    "CAPTA List": "CAPTA",
    "Non-SDN Palestinian Legislative Council List": "NS-PLC",
}


def _rows(out: Path, table: str, sql: str) -> list[tuple]:
    con = duckdb.connect()
    con.execute(f"create view t as select * from read_parquet('{out}/{table}/**/*.parquet', hive_partitioning = true)")
    return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def cons_staged(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("cons")
    return parse_files("us_ofac_cons", [CONS_FILE], out), out


def test_cons_demo_keeps_every_list_apart(cons_staged):
    result, out = cons_staged
    root = ET.parse(CONS_FILE).getroot()
    names = {v.get("ID"): v.text for v in root.iterfind("s:ReferenceValueSets/s:ListValues/s:List", ADV_NS)}
    entries = [names[e.get("ListID")] for e in root.iterfind("s:SanctionsEntries/s:SanctionsEntry", ADV_NS)]
    parties = {p.get("FixedRef") for p in root.iterfind("s:DistinctParties/s:DistinctParty", ADV_NS)}
    recount = Counter(CONS_LIST_CODES[name] for name in entries if name != "Consolidated List")
    # every party is filed once more on the umbrella list, which is not counted beside its real lists
    assert entries.count("Consolidated List") == len(parties) == 37
    assert result.audit["umbrella_entry_not_counted:SanctionsEntry/ListID"] == 37
    staged = dict(_rows(out, "designations", "select list, count(*) from t group by 1"))
    assert staged == dict(recount) == {"SSI": 12, "NS-MBS": 13, "NS-CMIC": 13, "SDN": 3, "FSE": 1, "CAPTA": 1,
                                       "NS-PLC": 2}
    assert result.counts["designations"] == 45
    assert not [key for key in result.audit if key.startswith("unknown_value:List")]
    for designation_id, code, uid, key, source, authority in _rows(
            out, "designations", "select designation_id, list, source_record_id, entity_key, source, authority from t"):
        assert designation_id == f"us_ofac_cons:{code}:{uid}" and key == f"us_ofac_cons:{uid}", designation_id
        assert (source, authority) == ("us_ofac_cons", "us_ofac")
    countries = {c for (c,) in _rows(out, "country_links", "select distinct country_iso2 from t")}
    assert {"RU", "CN", "TR", "MM"} <= countries


def test_cons_demo_listing_dates_are_the_facts(cons_staged):
    from pipeline.sources.us_ofac_cons import demo

    _, out = cons_staged
    facts = yaml.safe_load(demo.FACTS.read_text(encoding="utf-8"))
    expected = {(code, str(entry["uid"])): day for entry in facts["entries"] for code, day in entry["lists"].items()}
    staged = {(code, uid): day for code, uid, day in _rows(
        out, "designations", "select list, source_record_id, listed_on from t")}
    assert staged == expected
    by_list = {code: sorted(day for (c, _), day in staged.items() if c == code) for code in {c for c, _ in staged}}
    assert by_list["SSI"][0].isoformat() == "2014-07-16"  # the first EO 13662 determinations
    assert by_list["NS-MBS"][0].isoformat() == "2020-12-14"  # the list opened with Turkey's SSB


def test_cons_sdn_entries_are_those_of_the_sdn_demo(cons_staged, tmp_path: Path):
    """A party on the SDN list and a non-SDN list keeps its SDN entry in the consolidated file: the
    same uid, date, programmes and name as in the SDN demo file, under its own source's keys."""
    _, cons = cons_staged
    parse_files("us_ofac_sdn", [OFAC / "sdn_advanced.xml"], tmp_path)
    query = "select source_record_id, listed_on, programs, primary_name, entity_key from t"
    sdn = {row[0]: row[1:4] for row in _rows(tmp_path, "designations", query)}
    cons_sdn = {row[0]: row[1:4] for row in _rows(cons, "designations", query + " where list = 'SDN'")}
    assert sorted(cons_sdn) == ["17013", "17015", "17018"]
    for uid, values in cons_sdn.items():
        assert sdn[uid] == values, uid
    sdn_keys = {row[4] for row in _rows(tmp_path, "designations", query)}
    cons_keys = {row[4] for row in _rows(cons, "designations", query)}
    assert not sdn_keys & cons_keys
    assert {code for (code,) in _rows(tmp_path, "designations", "select distinct list from t")} == {"SDN"}


def test_cons_demo_passes_the_staged_suites(cons_staged):
    """The staged Great Expectations suites of a run accept the consolidated demo as staged (its
    demo minimum from source.yml)."""
    from expectations.staged import staged_suites
    from pipeline.staged import SCHEMAS
    from pipeline.validation import validate_stage

    result, out = cons_staged
    meta = load_meta("us_ofac_cons")
    assert meta.demo_inputs == ("us_ofac_cons/cons_advanced.xml",) and meta.default
    assert meta.min_rows_demo <= result.counts["designations"] < meta.min_rows
    con = duckdb.connect()
    frames = {table: con.execute(f"select *, 'us_ofac_cons' as source, date '{result.snapshot_date}' as snapshot_date "
                                 f"from read_parquet('{out}/{table}/**/*.parquet')").df() for table in SCHEMAS}
    reports = validate_stage("staged", frames, staged_suites(meta.min_rows_demo, meta.max_rows, None,
                                                             snapshot_date=result.snapshot_date))
    assert reports and not any(r.failed_critical for r in reports)
