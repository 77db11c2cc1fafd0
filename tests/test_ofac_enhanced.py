"""OFAC enhanced XML (``sanctionsData``) -> staged tables, on the real IRGC-filtered export.

The expected numbers were measured on the file independently of the parser (grep and
ElementTree), see the comment next to each assertion. Every test goes through
``parse_files("us_ofac_sdn", ...)``, i.e. through the source's dispatcher, and reads the staged
Parquet back with DuckDB.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from pipeline.errors import SourceError
from pipeline.parse import parse_files
from tests.staged_views import Staged

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared/data/samples"
OFAC = SAMPLES / "ofac"
ENHANCED = OFAC / "enhanced_xml_IRGC_filter_2024-08-28.xml"
COMMENTS = OFAC / "sdn_comments_watchman_pkg.csv"
SDN_CSV_2024 = OFAC / "sdn_csv_2024-05-03_head" / "sdn.csv"

# The shared samples are required: without them every test here fails (the `samples` fixture).
pytestmark = pytest.mark.usefixtures("samples")


@pytest.fixture(scope="module")
def irgc(tmp_path_factory) -> Staged:
    out = tmp_path_factory.mktemp("enhanced")
    return Staged(out, parse_files("us_ofac_sdn", [ENHANCED], out))


def test_snapshot_and_entity_counts(irgc: Staged):
    # <dataAsOf>2024-08-28T00:00:00</dataAsOf>
    assert irgc.result.snapshot_date == date(2024, 8, 28)
    assert irgc.rows("select distinct source, snapshot_date from designations") == [("us_ofac_sdn", date(2024, 8, 28))]
    # grep -c '<entityType refId="...">Individual|Entity|Aircraft</entityType>': 165 / 84 / 44, no Vessel
    assert irgc.rows("select entity_type, count(*) from designations group by 1 order by 1") == [
        ("aircraft", 44), ("organization", 84), ("person", 165)]
    # 293 <entity>, each on exactly one <sanctionsList> (SDN List, refId 1550)
    assert irgc.rows("select list, count(*), count(distinct designation_id), count(distinct entity_key) "
                     "from designations group by 1") == [("SDN", 293, 293, 293)]
    assert irgc.one("select count(*) from designations where designation_id <> "
                    "'us_ofac_sdn:SDN:' || source_record_id or entity_key <> 'us_ofac_sdn:' || source_record_id") == 0


def test_listing_dates(irgc: Staged):
    # sort of every datePublished: 2007-10-25 ... 2024-04-25; years 2007-2024
    assert irgc.rows("select count(*) filter (where listed_on is null), min(listed_on), max(listed_on) "
                     "from designations") == [(0, date(2007, 10, 25), date(2024, 4, 25))]
    years = {y for (y,) in irgc.rows("select distinct year(listed_on) from designations")}
    assert min(years) == 2007 and max(years) == 2024
    # every entity carries the IRGC programme (the export's filter)
    assert irgc.one("select count(*) from designations where not list_contains(programs, 'IRGC')") == 0


def test_one_person_against_the_file(irgc: Staged):
    # <entity id="10481">: SOLEIMANI, Qasem; SDN List datePublished="2007-10-25"; 5 programmes;
    # Nationality/Citizenship Country Iran (refId 11109, isoCode IR); Place of Birth "Qom, Iran";
    # Diplomatic Passport 008827 issued by Iran; 8 Latin a.k.a.
    assert irgc.rows("""select primary_name, entity_type, listed_on, programs, remarks from designations
                        where source_record_id = '10481'""") == [
        ("SOLEIMANI, Qasem", "person", date(2007, 10, 25), ["IFSR", "IRGC", "NPWMD", "SDGT", "SYRIA"], None)]
    assert irgc.rows("""select link_type, country_iso2, raw_value from country_links
                        where source_record_id = '10481' order by 1""") == [
        ("birth", "IR", "Iran"), ("citizenship", "IR", "Iran"), ("nationality", "IR", "Iran")]
    assert irgc.rows("select id_type, id_value, country_iso2, raw_type from identifiers "
                     "where source_record_id = '10481'") == [("passport", "008827", "IR", "Diplomatic Passport")]
    names = dict(irgc.rows("select name_type, list(name order by name) from names "
                           "where source_record_id = '10481' group by 1"))
    assert names["primary"] == ["SOLEIMANI, Qasem"]
    assert len(names["aka"]) == 8 and "SULAYMAN, Qasim" in names["aka"] and set(names) == {"primary", "aka"}


def test_people_use_ofac_display_form(irgc: Staged):
    # formattedFullName is "LASTNAME, First" for every individual of the file
    assert irgc.one("select count(*) from designations where entity_type = 'person' "
                    "and primary_name not like '%, %'") == 0
    # Cross-check with the legacy sdn.csv of 2024-05-03 (first 2,500 records): the uids in both
    # files carry the same SDN_Name (up to OFAC's double spaces in the CSV).
    csv_names = {}
    with SDN_CSV_2024.open(encoding="utf-8") as fh:
        for row in csv.reader(fh):
            if len(row) == 12:
                csv_names[row[0]] = " ".join(row[1].split())
    ours = dict(irgc.rows("select source_record_id, primary_name from designations"))
    shared = sorted(set(ours) & set(csv_names))
    assert len(shared) == 54
    assert [uid for uid in shared if ours[uid] != csv_names[uid]] == []


def test_names(irgc: Staged):
    # 834 <name>: 293 primary, 530 A.K.A. + 11 F.K.A.; 930 translations of which 96 are not
    # Latin (92 Arabic, 3 Cyrillic, 1 Chinese Traditional); 45 names isLowQuality=true
    assert irgc.rows("select name_type, count(*) from names group by 1 order by 1") == [
        ("aka", 530), ("fka", 11), ("original_script", 96), ("primary", 293)]
    assert irgc.one("select count(*) from names where name_type in ('aka', 'fka') and quality = 'weak'") == 45
    # right-to-left names lose OFAC's bidi embedding marks (U+202B ... U+202C)
    assert irgc.rows("select name from names where source_record_id = '26347' and name_type = 'original_script'") == [
        ("لواء فاطميون",)]
    assert irgc.one("select count(*) from names where regexp_matches(name, '[\u202a-\u202e]')") == 0


def test_country_links_all_mapped(irgc: Staged):
    assert irgc.result.unmapped_countries == {}
    assert irgc.one("select count(*) from country_links where country_iso2 is null") == 0
    links = dict(irgc.rows("select link_type || ':' || country_iso2, count(*) from country_links group by 1"))
    # 115 Nationality Country features: Iran 112, Syria, Pakistan, Indonesia; 13 Citizenship
    # Country: Iran 11, Syria, United States (each entity has at most one of each)
    assert {k: v for k, v in links.items() if k.startswith("nationality:")} == {
        "nationality:IR": 112, "nationality:SY": 1, "nationality:PK": 1, "nationality:ID": 1}
    assert {k: v for k, v in links.items() if k.startswith("citizenship:")} == {
        "citizenship:IR": 11, "citizenship:SY": 1, "citizenship:US": 1}
    # address countries come from referenceValues isoCode (Iran 11109 -> IR); 14 distinct countries
    assert irgc.one("select count(distinct country_iso2) from country_links where link_type = 'address'") == 14
    assert links["birth:IR"] > 0 and links["registration:IR"] > 0


def test_identifiers(irgc: Staged):
    ids = dict(irgc.rows("select raw_type, count(*) from identifiers group by 1"))
    # 44 "Aircraft Manufacturer’s Serial Number (MSN)" features (curly apostrophe in the file),
    # one per aircraft; 7 XBT wallets, 21 websites, 3 e-mails, 1 SWIFT/BIC; 80 passports
    assert irgc.rows("select id_type, count(*), count(distinct source_record_id) from identifiers "
                     "where id_type = 'aircraft_msn' group by 1") == [("aircraft_msn", 44, 44)]
    assert irgc.one("""select count(*) from designations d where entity_type = 'aircraft' and not exists
                       (select 1 from identifiers i where i.source_record_id = d.source_record_id)""") == 0
    assert ids["Digital Currency Address - XBT"] == 7 and ids["Website"] == 21 and ids["Email Address"] == 3
    assert ids["SWIFT/BIC"] == 1 and ids["Passport"] == 80
    assert irgc.rows("select id_type, id_value from identifiers where raw_type = 'SWIFT/BIC'") == [
        ("swift", "AIIFIQBA")]
    # <entity id="24475"> EP-PUL, IL-76, MSN 33448393
    assert irgc.rows("select id_type, id_value from identifiers where source_record_id = '24475'") == [
        ("aircraft_msn", "33448393")]


def test_relationships_resolved(irgc: Staged):
    # 229 <relationship>; every relatedEntity@entityId is an OFAC uid; 201 point at an entity of
    # this (filtered) file, 28 at 13 distinct uids outside the IRGC filter; 17 <relatedEntity/> are
    # empty (no name given): the id alone identifies the target
    assert irgc.rows("select count(*), count(related_entity_key), count(related_name) from relations") == [
        (229, 229, 212)]
    assert irgc.one("""select count(*) from relations r
                       join designations d on d.entity_key = r.related_entity_key""") == 201
    assert dict(irgc.rows("select relation_type, count(*) from relations group by 1")) == {
        "acting_for": 112, "owned_by": 67, "supports": 42, "leader_of": 7, "other": 1}
    # <entity id="24475"> EP-PUL: Owned or Controlled By 13109 POUYA AIR (an entity of the file)
    assert irgc.rows("""select r.relation_type, r.related_entity_key, r.related_name, d.primary_name
                        from relations r join designations d on d.entity_key = r.related_entity_key
                        where r.source_record_id = '24475'""") == [
        ("owned_by", "us_ofac_sdn:13109", "POUYA AIR", "POUYA AIR")]


def test_audit_reports_what_is_not_placed(irgc: Staged):
    audit = {(rule, field, value): n for rule, field, value, n in
             irgc.rows("select rule, field, value, occurrences from parse_audit")}
    # the export is filtered to one programme: said, not hidden
    assert audit[("filtered_export", "publicationInfo/filters/sanctionsProgram", "IRGC")] == 1
    # relation type 92122 is not in the relation vocabulary: staged as 'other' and audited
    assert audit[("unknown_value", "relationship/type", "Property in the interest of")] == 1
    # two places of birth whose last comma part names no country
    assert {v for (r, _f, v) in audit if r == "unplaced_text"} == {
        "Tehran Province, Central Tehran", "Zabol, Sistan and Baluchistan Province"}
    assert len([k for k in audit if k[0] == "relation_target_absent"]) == 13
    # every element and feature type of the file is known
    assert {r for (r, _f, _v) in audit} == {"filtered_export", "unknown_value", "unplaced_text",
                                            "relation_target_absent"}


def test_unknown_elements_features_and_types_are_audited(tmp_path: Path):
    ns = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ENHANCED_XML"
    xml = f"""<?xml version="1.0" encoding="utf-8"?>
<sanctionsData xmlns="{ns}">
  <publicationInfo><dataAsOf>2025-01-02T00:00:00</dataAsOf></publicationInfo>
  <newSection><item>1</item></newSection>
  <referenceValues>
    <referenceValue refId="11109"><type>COUNTRY</type><value>Iran</value><isoCode>IR</isoCode></referenceValue>
  </referenceValues>
  <entities>
    <entity id="1">
      <generalInfo><identityId>9</identityId><entityType refId="1">Spaceship</entityType></generalInfo>
      <sanctionsLists><sanctionsList refId="1" id="2" datePublished="2020-01-31">Moon List</sanctionsList>
      </sanctionsLists>
      <names><name id="3"><isPrimary>true</isPrimary><isLowQuality>false</isLowQuality><translations>
        <translation id="4"><isPrimary>true</isPrimary><script refId="20122">Latin</script>
          <formattedFullName>X-1</formattedFullName><newNamePart>?</newNamePart></translation>
      </translations></name></names>
      <features>
        <feature id="5"><type featureTypeId="999">Warp Drive Serial</type><value>W1</value></feature>
        <feature id="6"><type featureTypeId="3">Vessel Flag</type><value>Iran</value></feature>
      </features>
    </entity>
  </entities>
</sanctionsData>
"""
    path = tmp_path / "enhanced.xml"
    path.write_text(xml, encoding="utf-8")
    s = Staged(tmp_path / "out", parse_files("us_ofac_sdn", [path], tmp_path / "out"))
    assert s.result.snapshot_date == date(2025, 1, 2)
    assert s.rows("select list, entity_type, primary_name, listed_on from designations") == [
        ("Moon List", "other", "X-1", date(2020, 1, 31))]
    assert s.rows("select link_type, country_iso2 from country_links") == [("flag", "IR")]
    assert set(s.rows("select rule, field, value, example_record from parse_audit")) == {
        ("unknown_field", "newSection", None, None),
        ("unknown_field", "names/name/translations/translation/newNamePart", None, "1"),
        ("unknown_value", "entityType", "Spaceship", "1"),
        ("unknown_value", "sanctionsList", "Moon List", "1"),
        ("unknown_feature", "Warp Drive Serial", None, "1"),
    }


def test_enhanced_without_date_is_refused(tmp_path: Path):
    path = tmp_path / "enhanced.xml"
    path.write_text('<sanctionsData xmlns="x"><publicationInfo><dataAsOf>soon</dataAsOf></publicationInfo>'
                    "<entities/></sanctionsData>", encoding="utf-8")
    with pytest.raises(SourceError) as err:
        parse_files("us_ofac_sdn", [path], tmp_path / "out")
    assert err.value.rule == "dataAsOf is an ISO date"


# --- the lone remarks-overflow file -------------------------------------------------------------


def test_lone_comments_file_is_refused(tmp_path: Path):
    # sdn_comments_watchman_pkg.csv holds only remarks continuations (ent_num, Remarks_Extension):
    # no list. The CSV parser reads it as the 2-column "comments" layout, finds no main file, audits
    # every row as an orphan and the parse fails with a SourceError naming the file.
    with pytest.raises(SourceError) as err:
        parse_files("us_ofac_sdn", [COMMENTS], tmp_path)
    assert err.value.file == COMMENTS.name
    assert err.value.rule == "has records"
    assert "no designations row was found" in str(err.value)


def test_lone_comments_file_leaves_no_partition(tmp_path: Path):
    with pytest.raises(SourceError):
        parse_files("us_ofac_sdn", [COMMENTS], tmp_path)
    assert list(tmp_path.rglob("*.parquet")) == []
