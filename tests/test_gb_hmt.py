"""The UK source (gb_hmt): the real OFSI ConList sample counted against an independent recount of
the file (csv module, not the parser), the FCDO XML and CSV layouts on files written here and on the
demo files, the ConList history joining the FCDO records, and hostile files refused by name."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest
from lxml import etree

from pipeline.errors import SourceError
from pipeline.parse import parse_files
from pipeline.reference import PROGRAM_COLUMNS
from pipeline.sources import load_meta
from pipeline.sources.gb_hmt import demo, vocab
from pipeline.sources.gb_hmt.record import parse_date, split_numbered
from tests.conftest import DEMO, REPO, SAMPLES
from tests.staged_views import Staged

CONLIST = SAMPLES / "uk" / "ofsi_conlist_2025-04-10_subset.csv"
SOURCE_DIR = REPO / "pipeline" / "sources" / "gb_hmt"
DEMO_XML = DEMO / "gb_hmt" / "UK-Sanctions-List.xml"
DEMO_CSV = DEMO / "gb_hmt" / "csv" / "UK-Sanctions-List.csv"
DEMO_CONLIST = DEMO / "gb_hmt" / "history" / "ConList.csv"


def _parse(path: Path, out: Path, **kwargs) -> Staged:
    return Staged(out, parse_files("gb_hmt", [path], out, **kwargs))


# --- the independent recount of the ConList sample (csv module only) ---------------------------------

def _split(cell: str) -> list[str]:
    """``(1) A. (2) B`` -> ``['A', 'B']``, written for the recount (not the parser's helper)."""
    cell = cell.strip()
    if not cell:
        return []
    if not cell.startswith("(1)"):
        return [cell]
    return [p.strip(" .,;") for p in re.split(r"\(\d+\)", cell) if p.strip(" .,;-")]


def _dmy(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").date()


@pytest.fixture(scope="module")
def recount(samples: Path) -> dict:
    with open(CONLIST, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        first = next(reader)
        header = next(reader)
        rows = [dict(zip(header, row, strict=True)) for row in reader]
    designations: dict[tuple[str, str], dict] = {}
    links: dict[tuple[str, str], set] = defaultdict(set)
    for row in rows:
        key = (row["Group ID"], row["Regime"])
        designations.setdefault(key, row)
        for column, link_type in (("Nationality", "nationality"), ("Country of Birth", "birth"),
                                  ("Country", "address")):
            links[key] |= {(link_type, v) for v in _split(row[column])}
        flag = re.search(r"\(Flag of ship\):(.*?)(?: \(|$)", row["Other Information"])
        if flag:
            links[key] |= {("flag", v) for v in _split(flag.group(1))}
    return {"first": first, "rows": rows, "designations": designations, "links": links}


@pytest.fixture(scope="module")
def conlist(samples: Path, tmp_path_factory) -> Staged:
    return _parse(CONLIST, tmp_path_factory.mktemp("conlist"))


def test_recount_of_the_sample(recount: dict):
    # the README's and the figures, from the file itself
    assert recount["first"] == ["Last Updated", "10/04/2025"]
    assert len(recount["rows"]) == 1960
    assert len({r["Group ID"] for r in recount["rows"]}) == 208
    assert len(recount["designations"]) == 209


def test_conlist_designations_and_targets(conlist: Staged, recount: dict):
    assert conlist.result.snapshot_date == date(2025, 4, 10)
    assert conlist.result.counts["designations"] == len(recount["designations"]) == 209
    assert conlist.one("select count(distinct designation_id) from designations") == 209
    assert conlist.one("select count(distinct entity_key) from designations") == 208
    assert conlist.rows("select distinct source, authority, list from designations") == [("gb_hmt", "gb", "UKSL")]
    kinds = {"Individual": "person", "Entity": "organization", "Ship": "vessel"}
    expected = Counter(kinds[row["Group Type"]] for row in recount["designations"].values())
    assert dict(conlist.rows("select entity_type, count(*) from designations group by 1")) == expected
    assert expected == {"person": 120, "organization": 79, "vessel": 10}
    regimes = Counter(regime for _group, regime in recount["designations"])
    assert dict(conlist.rows("select programs[1], count(*) from designations group by 1")) == regimes
    assert regimes["Russia"] == 8 and regimes["Iran"] == 8 and regimes["Iran (Nuclear)"] == 8


def test_conlist_listing_dates(conlist: Staged, recount: dict):
    staged = {(key.removeprefix("gb_hmt:group-"), program): listed for key, program, listed in conlist.rows(
        "select entity_key, programs[1], listed_on from designations")}
    expected = {key: _dmy(row["UK Sanctions List Date Designated"]) for key, row in recount["designations"].items()}
    assert staged == expected
    # what source.yml says about 'Listed On' against 'Date Designated', recounted
    kinds = Counter()
    for row in recount["designations"].values():
        listed, designated = _dmy(row["Listed On"]), _dmy(row["UK Sanctions List Date Designated"])
        kinds["same" if listed == designated else "eu_era" if designated == date(2020, 12, 31) and listed < designated
              else "listed_later" if listed > designated else "listed_earlier"] += 1
    assert kinds == {"same": 85, "listed_later": 70, "eu_era": 45, "listed_earlier": 9}
    assert "124 of the 209" in load_meta("gb_hmt").notes


def test_conlist_country_links_by_type(conlist: Staged, recount: dict):
    expected = Counter(link_type for pairs in recount["links"].values() for link_type, _value in pairs)
    assert dict(conlist.rows("select link_type, count(*) from country_links group by 1")) == expected
    assert expected == {"address": 142, "birth": 78, "nationality": 106, "flag": 10}
    assert conlist.one("select count(*) from country_links where country_status <> 'mapped'") == 0
    # numbered multi-values give one link each: '(1) Lebanon (2) Belgium'
    assert conlist.rows("""select distinct country_iso2 from country_links where link_type = 'nationality'
                           and raw_value in ('Lebanon', 'Belgium') order by 1""") == [("BE",), ("LB",)]
    assert conlist.one("select count(*) from country_links where raw_value like '(%'") == 0


def test_conlist_identifiers_and_references(conlist: Staged, recount: dict):
    ids = dict(conlist.rows("select id_type, count(*) from identifiers group by 1"))
    assert ids["ofsi_group_id"] == 209
    readable = [row for row in recount["designations"].values()
                if re.match(r"\(UK Sanctions List Ref\):[A-Z]{3}\d{4}", row["Other Information"])]
    assert ids["uk_reference"] == len(readable) == 208
    un = [row for row in recount["designations"].values() if "(UN Ref):" in row["Other Information"]]
    assert ids["un_reference"] == len(un)
    imo = [row for row in recount["designations"].values() if "(IMO number):" in row["Other Information"]]
    assert ids["imo"] == len(imo) == 10
    assert conlist.one("select count(*) from identifiers where id_type = 'imo' and not regexp_matches(id_value, "
                       "'^[0-9]{7}$')") == 0
    # one target, two regimes: two designations, one entity, each with the reference of its regime
    assert conlist.rows("""select designation_id, reference_number, programs[1] from designations
                           where entity_key = 'gb_hmt:group-13919' order by 1""") == [
        ("gb_hmt:UKSL:group-13919-BEL", "BEL0047", "Belarus"),
        ("gb_hmt:UKSL:group-13919-GHR", "GHR0051", "Global Human Rights")]
    # a UN reference written where the UK one belongs is kept in remarks and audited, never taken
    assert conlist.rows("""select reference_number, remarks from designations
                           where designation_id = 'gb_hmt:UKSL:group-16681-SUD'""") == [(None, "SDi.005.")]
    audit = {(r, f): v for r, f, v in conlist.rows("select rule, field, value from parse_audit")}
    assert audit == {("unreadable_reference", "Other Information (UK Sanctions List Ref)"): "SDi.005.",
                     ("no_primary_name", "name type"): "33RD SCIENTIFIC RESEARCH AND TESTING INSTITUTE"}


def test_conlist_names_and_remarks(conlist: Staged, recount: dict):
    # every row is a name variation: the distinct names of a designation, with their type
    expected = set()
    for row in recount["rows"]:
        name = " ".join(p for p in (row[f"Name {i}"].strip() for i in (1, 2, 3, 4, 5, 6)) if p)
        expected.add((row["Group ID"], row["Regime"], " ".join(name.split())))
    staged = set(conlist.rows("""select replace(n.entity_key, 'gb_hmt:group-', ''), d.programs[1], n.name
                                 from names n join designations d using (source_record_id)
                                 where n.name_type <> 'original_script'"""))
    assert staged == expected
    assert conlist.rows("select primary_name, remarks from designations where reference_number = 'RUS2305'") == [
        ("ZAPCHASTTRADE LLP", "Financial sanctions imposed in addition to an asset freeze: Trust services. "
                              "Date trust services sanctions imposed: 07/11/2024.")]
    assert conlist.one("select count(*) from names where quality = 'weak'") > 0


def test_conlist_relations(conlist: Staged):
    assert conlist.rows("""select related_name, relation_type from relations r join designations d
                           using (source_record_id) where d.reference_number = 'DPR0100'""") == [
        ("Korea Samjong Shipping", "owned_by")]


# --- the value grammar ---------------------------------------------------------------------------------

def test_numbered_values_and_dates():
    assert split_numbered("(1) Central African Republic. (2) South Sudan") == ["Central African Republic",
                                                                              "South Sudan"]
    assert split_numbered("(1) Lebanon (2) Belgium") == ["Lebanon", "Belgium"]
    assert split_numbered("(1) - (2) Certificate of nationality") == ["Certificate of nationality"]
    assert split_numbered("Russia") == ["Russia"] and split_numbered("  ") == []
    assert parse_date("09/12/2022") == (date(2022, 12, 9), None)
    assert parse_date("00/00/1994") == (None, "partial_date")
    assert parse_date("dd/mm/1971") == (None, "partial_date")
    assert parse_date("12/31/2020") == (None, "invalid_date")
    assert parse_date("2024-06-28") == (date(2024, 6, 28), None)


# --- FCDO layouts: the demo files and files written here -----------------------------------------------

def test_demo_files_are_current(tmp_path: Path):
    written = demo.build(tmp_path)
    for path in written:
        committed = DEMO / "gb_hmt" / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), f"{committed} is stale: run python -m {demo.__name__}"
    assert load_meta("gb_hmt").demo_inputs == ("gb_hmt/UK-Sanctions-List.xml",)


@pytest.fixture(scope="module")
def demo_xml(tmp_path_factory) -> Staged:
    return _parse(DEMO_XML, tmp_path_factory.mktemp("demo_xml"))


def test_demo_xml_against_lxml_recount(demo_xml: Staged):
    tree = etree.parse(str(DEMO_XML))
    designations = tree.findall("Designation")
    assert demo_xml.result.snapshot_date == date(2024, 6, 28) == _dmy(tree.findtext("DateGenerated"))
    assert demo_xml.result.counts["designations"] == len(designations) == 48
    kinds = {"Individual": "person", "Entity": "organization", "Ship": "vessel"}
    assert dict(demo_xml.rows("select entity_type, count(*) from designations group by 1")) == Counter(
        kinds[d.findtext("IndividualEntityShip")] for d in designations)
    assert demo_xml.one("select count(distinct entity_key) from designations") == len(
        {d.findtext("OFSIGroupID") for d in designations})
    links = Counter()
    for d in designations:
        for path, link_type in ((".//AddressCountry", "address"), (".//Nationality", "nationality"),
                                (".//CountryOfBirth", "birth"), (".//CurrentBelievedFlagOfShip", "flag")):
            links[link_type] += len({e.text for e in d.iterfind(path)})
    assert dict(demo_xml.rows("select link_type, count(*) from country_links group by 1")) == links
    assert demo_xml.one("select count(*) from country_links where country_status <> 'mapped'") == 0
    assert demo_xml.result.counts["parse_audit"] == 0
    # regulation titles become the regime labels programs.csv knows
    programs = {p for (p,) in demo_xml.rows("select distinct programs[1] from designations")}
    assert programs <= {row["program"] for row in _programs()}
    assert demo_xml.rows("""select primary_name, listed_on, programs from designations
                            where reference_number = 'RUS9014'""") == [
        ("Vladimir Vladimirovich PUTIN", date(2022, 2, 25), ["Russia"])]


def test_demo_ranks_russia_over_iran_after_february_2022(demo_xml: Staged):
    targets = {row["program"]: row["target_iso2"] for row in _programs()}

    def count(iso2: str, by: date) -> int:
        return sum(1 for (program, listed) in demo_xml.rows("select programs[1], listed_on from designations")
                   if targets.get(program) == iso2 and listed <= by)

    assert count("IR", date(2021, 12, 31)) > count("RU", date(2021, 12, 31))
    assert count("RU", date(2022, 3, 31)) > count("IR", date(2022, 3, 31))
    # the Russia-Iran tie: Iranians designated under the Russia regime
    assert demo_xml.one("""select count(distinct d.designation_id) from designations d join country_links c
                           using (source_record_id) where d.programs[1] = 'Russia' and c.country_iso2 = 'IR'""") == 4


def test_demo_csv_matches_the_xml(demo_xml: Staged, tmp_path: Path):
    with open(DEMO_CSV, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        assert next(reader) == ["Report Date: 28-Jun-2024"]
        header = next(reader)
        rows = [dict(zip(header, r, strict=True)) for r in reader]
    staged = _parse(DEMO_CSV, tmp_path)
    assert staged.result.snapshot_date == date(2024, 6, 28)
    assert staged.result.counts["designations"] == len({r["Unique ID"] for r in rows}) == 48
    # the same rows, but for the layout's own label of a field (raw_type, raw_relation)
    for table, own in (("designations", ""), ("names", ""), ("country_links", ""), ("identifiers", ", raw_type"),
                       ("relations", ", raw_relation")):
        sql = f"select * exclude (raw_sha256, raw_file{own}) from {table} order by all"
        assert staged.rows(sql) == demo_xml.rows(sql), table


FULL_XML = """<?xml version="1.0" encoding="utf-8"?>
<Designations xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <DateGenerated>02/02/2026</DateGenerated>
  <Designation>
    <LastUpdated>14/04/2025</LastUpdated><DateDesignated>15/03/2022</DateDesignated>
    <UniqueID>RUS0999</UniqueID><OFSIGroupID>14999</OFSIGroupID><UNReferenceNumber>XXi.001</UNReferenceNumber>
    <Names>
      <Name><Name1>Ivan</Name1><Name2>Ivanovich</Name2><Name6>TESTOV</Name6><NameType>Primary Name</NameType></Name>
      <Name><Name6>Vanya</Name6><NameType>ALias</NameType><AliasStrength>Low quality a.k.a</AliasStrength></Name>
      <Name><Name6>TESTOFF</Name6><NameType>Primary name variation</NameType></Name>
    </Names>
    <NonLatinNames><NonLatinName><NameNonLatinScript>Иван ТЕСТОВ</NameNonLatinScript>
      <NonLatinScriptType>Cyrillic</NonLatinScriptType><NonLatinScriptLanguage>Russian</NonLatinScriptLanguage>
    </NonLatinName></NonLatinNames>
    <Titles><Title>General</Title></Titles>
    <RegimeName>The Russia (Sanctions) (EU Exit) Regulations 2019</RegimeName>
    <IndividualEntityShip>Individual</IndividualEntityShip><DesignationSource>UK</DesignationSource>
    <SanctionsImposed>Asset freeze|Travel Ban</SanctionsImposed>
    <OtherInformation>Written for the test.</OtherInformation><UKStatementofReasons>None.</UKStatementofReasons>
    <Addresses><Address><AddressLine1>1 Street</AddressLine1><AddressLine6>Minsk</AddressLine6>
      <AddressPostalCode>220000</AddressPostalCode><AddressCountry>Belarus</AddressCountry></Address></Addresses>
    <PhoneNumbers><PhoneNumber>+375</PhoneNumber></PhoneNumbers><EmailAddresses><EmailAddress>a@b</EmailAddress>
    </EmailAddresses><Websites><Website>x.by</Website></Websites>
    <IndividualDetails><Individual>
      <DOBs><DOB>00/00/1960</DOB></DOBs><Nationalities><Nationality>Russia</Nationality>
      <Nationality>Iran</Nationality></Nationalities>
      <BirthDetails><Location><TownOfBirth>Omsk</TownOfBirth><CountryOfBirth>Russia</CountryOfBirth></Location>
      </BirthDetails><Positions><Position>Officer</Position></Positions><Genders><Gender>Male</Gender></Genders>
      <PassportDetails><Passport><PassportNumber>123456</PassportNumber>
        <PassportAdditionalInformation>Russian</PassportAdditionalInformation></Passport></PassportDetails>
      <NationalIdentifierDetails><NationalIdentifier><NationalIdentifierNumber>7700</NationalIdentifierNumber>
        <NationalIdentifierAdditionalInformation>INN</NationalIdentifierAdditionalInformation>
      </NationalIdentifier></NationalIdentifierDetails>
      <EyeColour>Brown</EyeColour>
    </Individual></IndividualDetails>
  </Designation>
  <Designation>
    <DateDesignated>31/07/2024</DateDesignated><UniqueID>RUS2999</UniqueID>
    <Names><Name><Name6>TEST TANKER</Name6><NameType>Primary Name</NameType></Name></Names>
    <RegimeName>The Russia (Sanctions) (EU Exit) Regulations 2019</RegimeName>
    <IndividualEntityShip>Ship</IndividualEntityShip><DesignationSource>UK</DesignationSource>
    <ShipDetails><Ship><IMONumbers><IMONumber>IMO9826902</IMONumber></IMONumbers>
      <CurrentOwnerOperators><CurrentOwnerOperator>Test Ship Management FZCO</CurrentOwnerOperator>
      </CurrentOwnerOperators><PreviousOwnerOperators><PreviousOwnerOperator>Old Owner</PreviousOwnerOperator>
      </PreviousOwnerOperators><CurrentBelievedFlagOfShips><CurrentBelievedFlagOfShip>Gabon</CurrentBelievedFlagOfShip>
      </CurrentBelievedFlagOfShips><PreviousFlags><PreviousFlag>Liberia</PreviousFlag></PreviousFlags>
      <TypeOfShipDetails><TypeOfShip>Oil Tanker</TypeOfShip></TypeOfShipDetails>
      <YearsBuilt><YearBuilt>2019</YearBuilt></YearsBuilt></Ship></ShipDetails>
  </Designation>
  <Designation>
    <DateDesignated>20/10/2022</DateDesignated><UniqueID>RUS1599</UniqueID><OFSIGroupID>15599</OFSIGroupID>
    <Names><Name><Name6>TEST DRONES LLC</Name6><NameType>Primary Name</NameType></Name></Names>
    <RegimeName>Test Sanctions Regime</RegimeName><IndividualEntityShip>Entity</IndividualEntityShip>
    <EntityDetails><Entity><TypeOfEntities><TypeOfEntity>Company</TypeOfEntity></TypeOfEntities>
      <BusinessRegistrationNumbers><BusinessRegistrationNumber>INN 7700000000</BusinessRegistrationNumber>
      </BusinessRegistrationNumbers><ParentCompanies><ParentCompany>Test Holding</ParentCompany></ParentCompanies>
      <Subsidiaries><Subsidiary>Test Branch</Subsidiary></Subsidiaries></Entity></EntityDetails>
  </Designation>
</Designations>
"""


def test_fcdo_xml_every_documented_element(tmp_path: Path):
    path = tmp_path / "UK-Sanctions-List.xml"
    path.write_text(FULL_XML, encoding="utf-8")
    staged = _parse(path, tmp_path / "out")
    assert staged.result.snapshot_date == date(2026, 2, 2)
    assert staged.rows("""select designation_id, entity_key, entity_type, primary_name, programs, listed_on,
                          reference_number, remarks from designations order by 1""") == [
        ("gb_hmt:UKSL:RUS2999", "gb_hmt:RUS2999", "vessel", "TEST TANKER", ["Russia"], date(2024, 7, 31),
         "RUS2999", None),
        ("gb_hmt:UKSL:group-14999-RUS", "gb_hmt:group-14999", "person", "Ivan Ivanovich TESTOV", ["Russia"],
         date(2022, 3, 15), "RUS0999", "Written for the test."),
        ("gb_hmt:UKSL:group-15599-Test-Sanctions-Regime", "gb_hmt:group-15599", "organization", "TEST DRONES LLC",
         ["Test Sanctions Regime"], date(2022, 10, 20), "RUS1599", None)]
    assert staged.rows("select name, name_type, quality from names where source_record_id like '%14999%' "
                       "order by 1") == [("Ivan Ivanovich TESTOV", "primary", None), ("TESTOFF", "aka", None),
                                         ("Vanya", "aka", "weak"), ("Иван ТЕСТОВ", "original_script", None)]
    assert staged.rows("select link_type, country_iso2 from country_links order by 1, 2") == [
        ("address", "BY"), ("birth", "RU"), ("flag", "GA"), ("nationality", "IR"), ("nationality", "RU")]
    assert staged.rows("select id_type, id_value from identifiers order by 1, 2") == [
        ("imo", "9826902"), ("national_id", "7700"), ("ofsi_group_id", "14999"), ("ofsi_group_id", "15599"),
        ("passport", "123456"), ("registration", "INN 7700000000"), ("uk_reference", "RUS0999"),
        ("uk_reference", "RUS1599"), ("uk_reference", "RUS2999"), ("un_reference", "XXi.001")]
    assert staged.rows("select related_name, relation_type from relations order by 1") == [
        ("Test Branch", "linked_to"), ("Test Holding", "owned_by"), ("Test Ship Management FZCO", "owned_by")]
    # what the layout does not list is reported with its path, never dropped silently
    assert set(staged.rows("select rule, field, value from parse_audit")) == {
        ("unknown_field", "IndividualDetails/Individual/EyeColour", "Brown"),
        ("unknown_value", "RegimeName", "Test Sanctions Regime")}


def _fcdo_csv_text(rows: list[dict[str, str]], header: list[str] | None = None, first: str | None = None) -> str:
    header = header or demo.FCDO_CSV_HEADER
    lines = [[first or "Report Date: 13-Feb-2026"], header] + [[r.get(c, "") for c in header] for r in rows]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(lines)
    return buf.getvalue()


def test_fcdo_csv_rows_per_name_and_unknown_columns(tmp_path: Path):
    base = {"Unique ID": "AFG0006", "OFSI Group ID": "7172", "UN Reference Number": "TAi.002",
            "Regime Name": "The Afghanistan (Sanctions) (EU Exit) Regulations 2020", "Designation Type": "Individual",
            "Date Designated": "25/01/2001", "Nationality(/ies)": "Afghanistan", "Passport number": "(1) D1 (2) D2"}
    rows = [{**base, "Name 6": "AKHUND", "Name 1": "MOHAMMAD", "Name 2": "HASSAN", "Name type": "Primary Name"},
            {**base, "Name 6": "Akhund", "Name 1": "Mohammad", "Name type": "Primary name variation",
             "Shoe size": "42"},
            {**base, "Name 6": "Haji Mohammad Hassan", "Name type": "Alias", "Alias strength": "Good quality a.k.a"}]
    header = [*demo.FCDO_CSV_HEADER, "Shoe size"]
    # the site serves the file as a generic binary type: no extension, recognised by its first lines
    path = tmp_path / "download"
    path.write_text(_fcdo_csv_text(rows, header), encoding="utf-8")
    staged = _parse(path, tmp_path / "out")
    assert staged.result.snapshot_date == date(2026, 2, 13)
    assert staged.rows("select designation_id, primary_name, programs, listed_on from designations") == [
        ("gb_hmt:UKSL:group-7172-AFG", "MOHAMMAD HASSAN AKHUND", ["Afghanistan"], date(2001, 1, 25))]
    assert staged.one("select count(*) from names") == 3
    assert staged.rows("select id_type, id_value from identifiers where id_type = 'passport' order by 2") == [
        ("passport", "D1"), ("passport", "D2")]
    assert staged.rows("select rule, field, value from parse_audit") == [("unknown_field", "Shoe size", "42")]


def test_fcdo_xml_variants(tmp_path: Path):
    # a default namespace, no DateGenerated (the caller's date is used), a Unique ID given twice
    text = DEMO_XML.read_text(encoding="utf-8")
    text = text.replace('<Designations xmlns:xsi=', '<Designations xmlns="urn:example:uksl" xmlns:xsi=', 1)
    text = re.sub(r"\s*<DateGenerated>.*?</DateGenerated>", "", text, count=1)
    first = text[text.index("  <Designation>"): text.index("  </Designation>") + len("  </Designation>\n")]
    text = text.replace("</Designations>", first + "</Designations>")
    path = tmp_path / "UK-Sanctions-List.xml"
    path.write_text(text, encoding="utf-8")
    staged = _parse(path, tmp_path / "out", snapshot_date=date(2024, 7, 1))
    assert staged.result.snapshot_date == date(2024, 7, 1)
    assert staged.result.counts["designations"] == 48
    assert staged.one("select count(*) from country_links") == 71
    assert set(staged.rows("select rule, field, value, occurrences from parse_audit")) == {
        ("duplicate_record", "UniqueID", "RUS9001", 1), ("no_report_date", "DateGenerated", None, 1)}


def test_report_date_with_a_time_and_an_old_conlist_header(tmp_path: Path):
    text = DEMO_CSV.read_text(encoding="utf-8").replace("Report Date: 28-Jun-2024", "Report Date: 28-Jun-2024 14:05", 1)
    path = tmp_path / "UK-Sanctions-List.csv"
    path.write_text(text, encoding="utf-8")
    assert _parse(path, tmp_path / "a").result.snapshot_date == date(2024, 6, 28)
    # a ConList from before the 2022 format: 'Listed On' only, no UK reference
    with open(DEMO_CONLIST, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    drop = rows[1].index("UK Sanctions List Date Designated")
    old = [rows[0]] + [r[:drop] + r[drop + 1:] for r in rows[1:]]
    path = tmp_path / "ConList.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(old)
    staged = _parse(path, tmp_path / "b")
    assert staged.one("select count(*) from designations where listed_on is null") == 37
    assert ("missing_field", "UK Sanctions List Date Designated") in {
        (r, f) for r, f in staged.rows("select rule, field from parse_audit")}


# --- the ConList history joins the FCDO records ---------------------------------------------------------

def test_conlist_history_joins_the_fcdo_records(tmp_path: Path):
    lake = tmp_path / "lake"
    parse_files("gb_hmt", [DEMO_CONLIST], lake)
    parse_files("gb_hmt", [DEMO_XML], lake)
    staged = Staged(lake)
    assert staged.rows("select snapshot_date, count(*) from designations group by 1 order by 1") == [
        (date(2022, 3, 31), 37), (date(2024, 6, 28), 48)]
    # every designation of the 2022 ConList is in the 2024 FCDO list under the same id, entity and date
    joined = staged.rows("""
        select count(*), count(f.designation_id), count(*) filter (where h.entity_key = f.entity_key
               and h.listed_on = f.listed_on and h.programs = f.programs)
        from designations h left join designations f
          on f.designation_id = h.designation_id and f.snapshot_date = date '2024-06-28'
        where h.snapshot_date = date '2022-03-31'""")
    assert joined == [(37, 37, 32)]
    # the five that differ: the Iran human rights regime became the Iran regime in December 2023
    assert staged.rows("""select h.programs, f.programs, count(*) from designations h join designations f
                          using (designation_id) where h.snapshot_date < f.snapshot_date
                          and h.programs <> f.programs group by all""") == [
        (["Iran (Human Rights)"], ["Iran"], 5)]
    # the OFSI group is staged on both lists: ConList Group ID = FCDO OFSI Group ID
    assert staged.one("""select count(distinct h.id_value) from identifiers h join identifiers f
                         on h.id_type = 'ofsi_group_id' and f.id_type = 'ofsi_group_id' and h.id_value = f.id_value
                         and h.snapshot_date = date '2022-03-31' and f.snapshot_date = date '2024-06-28'""") == 36


def test_pre_2022_conlist_without_references_still_joins(tmp_path: Path):
    text = DEMO_CONLIST.read_text(encoding="utf-8")
    old = re.sub(r"\(UK Sanctions List Ref\):[A-Z]{3}\d{4}\. ?", "", text)
    assert "UK Sanctions List Ref" not in old
    path = tmp_path / "ConList.csv"
    path.write_text(old, encoding="utf-8")
    history = _parse(path, tmp_path / "old")
    current = _parse(DEMO_XML, tmp_path / "new")
    old_ids = {d for (d,) in history.rows("select designation_id from designations")}
    new_ids = {d for (d,) in current.rows("select designation_id from designations")}
    assert len(old_ids) == 37 and old_ids <= new_ids
    assert history.one("select count(*) from designations where reference_number is not null") == 0
    assert history.rows("select rule, field, occurrences from parse_audit") == [
        ("missing_field", "Other Information (UK Sanctions List Ref)", 37)]


# --- hostile and wrong files are refused by name ---------------------------------------------------------

def _refused(tmp_path: Path, name: str, content: bytes | str, *paths: Path) -> SourceError:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    out = tmp_path / "out"
    with pytest.raises(SourceError) as caught:
        parse_files("gb_hmt", [path, *paths], out)
    assert not list(out.glob("*/source=gb_hmt/**/*.parquet")), "a refused file left staged parts"
    return caught.value


def test_hostile_xml_is_refused(tmp_path: Path):
    bomb = ('<?xml version="1.0"?><!DOCTYPE Designations [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            "<Designations><Designation><UniqueID>&b;</UniqueID></Designation></Designations>")
    error = _refused(tmp_path, "UK-Sanctions-List.xml", bomb)
    assert error.rule == "no DTD or entity declarations" and error.source == "gb_hmt"
    assert error.file == "UK-Sanctions-List.xml"


def test_truncated_xml_names_the_last_record(tmp_path: Path):
    text = DEMO_XML.read_text(encoding="utf-8")
    cut = text[: text.index("<UniqueID>RUS9014</UniqueID>")]
    error = _refused(tmp_path, "UK-Sanctions-List.xml", cut)
    assert error.rule == "well-formed XML" and "RUS9013" in error.detail


def test_truncated_csv_names_the_line(tmp_path: Path):
    text = DEMO_CONLIST.read_text(encoding="utf-8")
    cut = text[: text.rindex("LUKASHENKO") + 20]
    error = _refused(tmp_path, "ConList.csv", cut)
    assert error.rule == "column count" and f"line {cut.count(chr(10)) + 1}" in error.detail


def test_html_page_and_binary_are_refused(tmp_path: Path):
    error = _refused(tmp_path, "UK-Sanctions-List.csv", "<!DOCTYPE html><html><body>Service unavailable</body></html>")
    assert error.rule == "is a UK Sanctions List XML/CSV or ConList CSV" and "HTML page" in error.detail
    error = _refused(tmp_path, "UK-Sanctions-List.xml", b"PK\x03\x04" + bytes(200))
    assert "zip archive" in error.detail


def test_wrong_layouts_are_refused(tmp_path: Path):
    ofac = '36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
    error = _refused(tmp_path, "sdn.csv", ofac)
    assert error.rule == "a UK Sanctions List or ConList CSV header"
    un = '<?xml version="1.0"?><CONSOLIDATED_LIST dateGenerated="2024-06-28"><INDIVIDUALS/></CONSOLIDATED_LIST>'
    error = _refused(tmp_path, "consolidated.xml", un)
    assert error.rule == "expected root element" and "<CONSOLIDATED_LIST>" in error.detail
    conlist_xml = '<?xml version="1.0"?><ArrayOfFinancialSanctionsTarget></ArrayOfFinancialSanctionsTarget>'
    error = _refused(tmp_path, "ConList.xml", conlist_xml)
    assert "ConList XML" in error.detail
    missing = _fcdo_csv_text([{"Unique ID": "X"}], header=["Unique ID", "Designation Type", "Name 6", "Name type"])
    error = _refused(tmp_path, "UK-Sanctions-List.csv", missing)
    assert error.rule == "UK Sanctions List header" and "Regime Name" in error.detail


def test_two_files_are_two_publications(tmp_path: Path):
    error = _refused(tmp_path, "ConList.csv", DEMO_CONLIST.read_bytes(), DEMO_XML)
    assert error.rule == "one list file per parse" and "UK-Sanctions-List.xml" in error.file


def test_bad_dates_are_audited_not_guessed(tmp_path: Path):
    text = DEMO_CONLIST.read_text(encoding="utf-8")
    # the two Putin rows: an American-format designation date and an unknown-day one elsewhere
    text = text.replace("Russia,25/02/2022,25/02/2022", "Russia,25/02/2022,02/25/2022", 1)
    text = text.replace("Russia,10/03/2022,10/03/2022", "Russia,10/03/2022,00/03/2022", 1)
    path = tmp_path / "ConList.csv"
    path.write_text(text, encoding="utf-8")
    staged = _parse(path, tmp_path / "out")
    assert staged.one("select count(*) from designations where listed_on is null") == 2
    audit = {(r, f, v) for r, f, v in staged.rows("select rule, field, value from parse_audit")}
    assert ("invalid_date", "UK Sanctions List Date Designated", "02/25/2022") in audit
    assert ("partial_date", "UK Sanctions List Date Designated", "00/03/2022") in audit


# --- lookups and programmes as data ------------------------------------------------------------------------

def _programs() -> list[dict[str, str]]:
    with open(SOURCE_DIR / "programs.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_lookups_are_well_formed(recount: dict):
    rows = vocab.read_csv("fields.csv")
    assert len({(r["layout"], r["field"]) for r in rows}) == len(rows), "a field is listed twice for a layout"
    for row in rows:
        assert row["action"] in vocab.ACTIONS, row
        assert bool(row["value"]) == (row["action"] in ("country", "id", "relation")), row
    assert set(recount["rows"][0]) == set(vocab.fields("conlist_csv"))
    assert set(demo.FCDO_CSV_HEADER) == set(vocab.fields("fcdo_csv")), "every documented FCDO CSV column"
    regimes = vocab.read_csv("regimes.csv")
    assert len({r["program"] for r in regimes}) == len({vocab.norm(r["regulation"]) for r in regimes}) == len(regimes)
    assert {regime for _group, regime in recount["designations"]} <= {r["program"] for r in regimes}


def test_programs_csv(recount: dict):
    reference = ",".join(PROGRAM_COLUMNS)  # the header every source's programs.csv has
    assert (SOURCE_DIR / "programs.csv").read_text(encoding="utf-8").splitlines()[0] == reference
    programs = _programs()
    assert {p["authority"] for p in programs} == {"gb"}
    assert {p["program"] for p in programs} == {r["program"] for r in vocab.read_csv("regimes.csv")}
    for p in programs:
        assert p["kind"] in ("country", "thematic"), p
        assert bool(p["target_iso2"]) == (p["kind"] == "country"), p
    thematic = {p["program"] for p in programs if p["kind"] == "thematic"}
    assert {"Global Human Rights", "Global Anti-Corruption", "Cyber", "Chemical Weapons",
            "ISIL (Da'esh) and Al-Qaida", "Counter-Terrorism (International)"} <= thematic


# OpenSanctions' UK programmes by our regime label, and where we deliberately differ.
OPENSANCTIONS_KEYS = {
    "Afghanistan": "GB-AFG", "Belarus": "GB-BLR", "Bosnia and Herzegovina": "GB-BH",
    "Central African Republic": "GB-CAR", "Chemical Weapons": "GB-CW", "Counter-Terrorism (Domestic)": "GB-CT",
    "Counter-Terrorism (International)": "GB-ICT", "Cyber": "GB-CYB",
    "Democratic People's Republic of Korea": "GB-DPRK",
    "Democratic Republic of the Congo": "GB-DRC", "Global Anti-Corruption": "GB-AC", "Global Human Rights": "GB-HR",
    "Global Irregular Migration": "GB-MIGR", "Guinea": "GB-GU", "Guinea-Bissau": "GB-GNB", "Haiti": "GB-HT",
    "Iran": "GB-IRAN", "Iran (Human Rights)": "GB-IRAN", "Iran (Nuclear)": "GB-IRAN-NW", "Iraq": "GB-IRQ",
    "ISIL (Da'esh) and Al-Qaida": "GB-ISIL", "Libya": "GB-LBY", "Mali": "GB-MLI", "Myanmar": "GB-MMR",
    "Nicaragua": "GB-NIC", "Russia": "GB-RUS", "Somalia": "GB-SOM", "South Sudan": "GB-SSD", "Sudan": "GB-SDN",
    "Syria": "GB-SYR", "Venezuela": "GB-VEN", "Yemen": "GB-YEM",
}
DELIBERATE = {"Counter-Terrorism (Domestic)": "gb", "Cyber": "ip"}  # OpenSanctions' targets we do not take


def test_programs_cross_checked_with_opensanctions(samples: Path):
    with open(samples / "opensanctions" / "programs_target_territories.csv", encoding="utf-8", newline="") as handle:
        theirs = {row["key"]: row["target_territories"] for row in csv.DictReader(handle)}
    for program in _programs():
        key = OPENSANCTIONS_KEYS.get(program["program"])
        if key is None:
            assert "not in OpenSanctions" in program["description"], program
            continue
        assert key in theirs and key in program["description"], (program, key)
        their_target = "" if theirs[key] in ("zz", "") else theirs[key].upper()
        if program["program"] in DELIBERATE:
            assert theirs[key] == DELIBERATE[program["program"]] and "Deliberate difference" in program["description"]
        else:
            assert program["target_iso2"] == their_target, (program, theirs[key])


# --- the command line --------------------------------------------------------------------------------------

@pytest.mark.integration
def test_parse_command_on_the_sample(samples: Path, tmp_path: Path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "parse", "gb_hmt", str(CONLIST), "--out", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "designations       209 rows" in done.stdout
    assert list((out / "designations").glob("source=gb_hmt/snapshot_date=2025-04-10/*.parquet"))
