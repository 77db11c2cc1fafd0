"""EU FSF (``eu_fsf``): XML 1.1 and CSV 1.1 parsers.

No real EU export is among the shared samples (``../shared/data/samples/eu`` holds the EU's XSD, the
CSV codebook and a README), so the tests write their files: a generator of varied entities
(several regulations, entities without a designationDate, records sharing one euReferenceNumber,
vessels filed as enterprises, ``00``/UNKNOWN countries, persons with several citizenships, births
and addresses, a few hundred random entities) rendered by ``pipeline.sources.eu_fsf.writer`` as XML
(validated against the EU's XSD with lxml) and as the equivalent CSV 1.1. Counts are checked against
a recount of the files with lxml and the csv module, and both layouts must stage the same rows.
"""

from __future__ import annotations

import copy
import csv
import gzip
import io
import random
import re
import subprocess
import sys
import zlib
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
import yaml
from lxml import etree

from pipeline.errors import SourceError
from pipeline.parse import parse_files
from pipeline.sources import load_meta
from pipeline.sources.eu_fsf import demo, writer
from pipeline.sources.eu_fsf.vocab import csv_columns

REPO = Path(__file__).resolve().parents[1]
SOURCE_DIR = REPO / "pipeline" / "sources" / "eu_fsf"
SAMPLES = REPO.parent / "shared" / "data" / "samples"
XSD = SAMPLES / "eu" / "fsd_export_schema_1_1.xsd"
OPENSANCTIONS_PROGRAMS = SAMPLES / "opensanctions" / "programs_target_territories.csv"
DEMO_DIR = REPO / "data" / "demo" / "eu_fsf"
NS = {"f": writer.NAMESPACE}
XS = "{http://www.w3.org/2001/XMLSchema}"
GENERATED = datetime(2024, 6, 28, 6, 0)
SNAPSHOT = GENERATED.date()
#: Columns every staged comparison leaves out (the lineage differs by file).
LINEAGE = ("raw_sha256", "raw_file")


# ---------------------------------------------------------------------------------------------- helpers
def _q(out: Path, table: str, sql: str) -> list[tuple]:
    con = duckdb.connect()
    con.execute(f"create view t as select * from read_parquet('{out}/{table}/**/*.parquet', hive_partitioning = true)")
    return con.execute(sql).fetchall()


def _rows(out: Path, table: str, *leave_out: str) -> list[tuple]:
    return sorted(_q(out, table, f"select * exclude ({', '.join([*LINEAGE, *leave_out])}) from t"), key=repr)


def _parse(path: Path | list[Path], out: Path, **kwargs):
    return parse_files("eu_fsf", path if isinstance(path, list) else [path], out, **kwargs)


@pytest.fixture(scope="module")
def schema(samples: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def _valid(schema: etree.XMLSchema, path: Path) -> bool:
    ok = schema.validate(etree.parse(str(path)))
    assert ok, f"{path.name}: {schema.error_log}"
    return ok


# ---------------------------------------------------------------------------------------------- the generator
def _reg(programme: str, entry: str, published: str | None = None, kind: str = "amendment", **extra) -> dict:
    number = zlib.crc32(f"{programme}{entry}".encode()) % 3000
    return {"regulationType": kind, "organisationType": "council", "publicationDate": published or entry,
            "entryIntoForceDate": entry, "numberTitle": f"{entry[:4]}/{number}",
            "programme": programme, "publicationUrl": f"https://eur-lex.europa.eu/eli/{entry}",
            **extra}


def special_entities() -> list[dict]:
    """Hand-written cases, each there for one rule (all valid per the XSD, all expressible in CSV)."""
    return [
        {  # a person with several citizenships, births, addresses and identifications
            "logicalId": 1001, "euReferenceNumber": "EU.1001.11", "designationDate": "2022-02-28",
            "remarks": ["Businessman.", "Second remark line."],
            "regulation": _reg("UKR", "2022-02-28"), "subjectType": "person",
            "nameAlias": [
                {"firstName": "Ivan", "middleName": "Petrovich", "lastName": "TESTOV",
                 "wholeName": "Ivan Petrovich TESTOV", "gender": "M", "title": "Mr",
                 "function": "Chairman of the board", "nameLanguage": "", "strong": "true"},
                {"wholeName": "Иван Петрович ТЕСТОВ", "nameLanguage": "RU", "strong": "true"},
                {"wholeName": "Ivan TESTOFF", "nameLanguage": "", "strong": "false"},
            ],
            "citizenship": [{"countryIso2Code": "RU", "region": "Moscow"}, {"countryIso2Code": "CY"}],
            "birthdate": [{"birthdate": "1960-01-02", "dayOfMonth": 2, "monthOfYear": 1, "year": 1960, "city": "Moscow",
                           "zipCode": "101000", "region": "Moscow", "countryIso2Code": "RU"},
                          {"year": 1961, "circa": "true", "countryIso2Code": "RU"},
                          {"yearRangeFrom": 1959, "yearRangeTo": 1962, "place": "Kharkiv", "countryIso2Code": "UA"}],
            "address": [{"city": "Moscow", "street": "Tverskaya 1", "zipCode": "125009", "region": "Moscow Oblast",
                         "countryIso2Code": "RU", "asAtListingTime": "true",
                         "contactInfo": [{"key": "PHONE", "value": "+7 495 000 00 00"}]},
                        {"city": "Dubai", "poBox": "1234", "countryIso2Code": "AE"},
                        {"place": "unknown", "countryIso2Code": "00", "countryDescription": "UNKNOWN"}],
            "identification": [
                {"identificationTypeCode": "passport", "number": "750000001", "countryIso2Code": "RU",
                 "diplomatic": "false", "knownExpired": "false", "knownFalse": "false", "reportedLost": "false",
                 "revokedByIssuer": "false", "issueDate": "2015-01-01", "validFrom": "2015-01-01",
                 "validTo": "2025-01-01", "issuedBy": "FMS", "nameOnDocument": "IVAN TESTOV",
                 "latinNumber": "750000001", "region": "Moscow"},
                {"identificationTypeCode": "id", "number": "X-1", "countryIso2Code": "CY"}],
        },
        {  # no designationDate: the entry into force (before the publication, as for 1210/2003) dates it
            "logicalId": 1002, "euReferenceNumber": "EU.27.28", "unitedNationId": "IQi.001",
            "remarks": ["(UNSC RESOLUTION 1483)"],
            "regulation": _reg("IRQ", "2003-07-07", published="2003-07-08", kind="regulation",
                               organisationType="commission"),
            "subjectType": "person",
            "nameAlias": [{"firstName": "Saddam", "lastName": "Hussein Al-Tikriti",
                           "wholeName": "Saddam Hussein Al-Tikriti",
                           "regulationSummary": {"regulationType": "amendment", "publicationDate": "2024-02-23",
                                                 "numberTitle": "2024/999"}},
                          {"wholeName": "Abu Ali"}],
            "birthdate": [{"birthdate": "1937-04-28", "city": "al-Awja, near Tikrit", "countryIso2Code": "IQ"}],
            "citizenship": [{"countryIso2Code": "IQ"}],
        },
        {  # designated in 2022, its record's regulation an amendment of 2024: listed 2022, not 2024
            "logicalId": 1003, "euReferenceNumber": "EU.1003.33", "designationDate": "2022-04-08",
            "designationDetails": "Member of the State Duma.",
            "regulation": _reg("UKR", "2024-06-25", published="2024-06-24"), "subjectType": "person",
            "nameAlias": [{"wholeName": "Olga TESTOVA", "gender": "F", "strong": "true"}],
            "citizenship": [{"countryIso2Code": "RU"}],
        },
        {  # one target, two regimes: two sanctionEntity records sharing one euReferenceNumber
            "logicalId": 1004, "euReferenceNumber": "EU.2002.22", "designationDate": "2014-07-25",
            "regulation": _reg("UKR", "2014-07-25"), "subjectType": "person",
            "nameAlias": [{"wholeName": "Pavel Ivanovich DVOYNOV", "strong": "true"}],
            "citizenship": [{"countryIso2Code": "RU"}], "birthdate": [{"year": 1951, "countryIso2Code": "RU"}],
        },
        {
            "logicalId": 1005, "euReferenceNumber": "EU.2002.22", "designationDate": "2020-10-15",
            "regulation": _reg("CHEM", "2020-10-15"), "subjectType": "person",
            "nameAlias": [{"wholeName": "Pavel Ivanovich DVOYNOV", "strong": "true"}],
            "citizenship": [{"countryIso2Code": "RU"}], "address": [{"city": "Moscow", "countryIso2Code": "RU"}],
        },
        {  # a vessel filed as an enterprise: an IMO identification
            "logicalId": 1006, "designationDate": "2018-04-06", "regulation": _reg("PRK", "2018-04-06"),
            "subjectType": "enterprise", "nameAlias": [{"wholeName": "SEA TEST ONE"}],
            "identification": [{"identificationTypeCode": "imo", "number": "9123456",
                                "countryIso2Code": "KP"}],
        },
        {  # a vessel: an 'other' identification described as an IMO number, a remark that says so
            "logicalId": 1007, "designationDate": "2023-06-23", "remarks": ["Vessel. Flag: Panama."],
            "regulation": _reg("RUS", "2023-06-23"), "subjectType": "enterprise",
            "nameAlias": [{"wholeName": "SEA TEST TWO"}],
            "identification": [{"identificationTypeCode": "other", "identificationTypeDescription": "IMO number",
                                "number": "IMO 9234567"}],
        },
        {  # a shipping company, not a ship: its IMO company number and a remark about its vessel
            "logicalId": 1008, "designationDate": "2012-03-23",
            "remarks": ["Registered owner of the vessel IMO 9123456."],
            "regulation": _reg("IRN", "2012-03-23"), "subjectType": "enterprise",
            "nameAlias": [{"wholeName": "TEST SHIPPING LINES"}],
            "address": [{"city": "Tehran", "countryIso2Code": "IR"}],
            "identification": [{"identificationTypeCode": "other",
                                "identificationTypeDescription": "IMO company number",
                                "number": "5123456", "countryIso2Code": "IR"}],
        },
        {  # a vessel: an IMO ship number in its remarks (the check digit is right)
            "logicalId": 1014, "designationDate": "2024-02-23", "remarks": ["IMO number: 9074729. Tanker."],
            "regulation": _reg("UKR", "2024-02-23"), "subjectType": "enterprise",
            "nameAlias": [{"wholeName": "SEA TEST THREE"}],
        },
        {  # not a vessel: a seven-digit IMO number whose check digit is wrong (a company number)
            "logicalId": 1015, "designationDate": "2024-02-23", "remarks": ["IMO: 5123456."],
            "regulation": _reg("UKR", "2024-02-23"), "subjectType": "enterprise",
            "nameAlias": [{"wholeName": "TEST MARITIME LLC"}],
        },
        {  # an enterprise with registration and tax numbers: its registration country
            "logicalId": 1009, "euReferenceNumber": "EU.1009.99", "designationDate": "2022-06-03",
            "regulation": _reg("BLR", "2022-06-03"), "subjectType": "enterprise",
            "nameAlias": [{"wholeName": "OOO TEST TRADE", "strong": "true"},
                          {"wholeName": "ООО «Тест Трейд»", "nameLanguage": "RU"}],
            "address": [{"city": "Minsk", "countryIso2Code": "BY"}],
            "identification": [{"identificationTypeCode": "regnumber", "number": "190000001", "countryIso2Code": "BY"},
                               {"identificationTypeCode": "fiscalcode", "number": "UNP 190000001",
                                "countryIso2Code": "BY"}],
        },
        {  # withdrawn code CS (Serbia and Montenegro): no country
            "logicalId": 1010, "designationDate": "2011-03-14", "regulation": _reg("LBY", "2011-03-14"),
            "subjectType": "person", "nameAlias": [{"wholeName": "Marko TESTIC"}],
            "birthdate": [{"birthdate": "1970-05-05", "city": "Belgrade", "countryIso2Code": "CS"}],
            "citizenship": [{"countryIso2Code": "RS"}],
        },
        {  # a birth date in another calendar; a terrorism listing with no country at all
            "logicalId": 1011, "designationDate": "2001-12-27", "regulation": _reg("TERR", "2001-12-27"),
            "subjectType": "enterprise", "nameAlias": [{"wholeName": "TEST LIBERATION FRONT"}],
        },
        {
            "logicalId": 1012, "designationDate": "2011-04-12", "regulation": _reg("IRN", "2011-04-12"),
            "subjectType": "person", "nameAlias": [{"lastName": "TESTAVI"}],
            "birthdate": [{"year": 1340, "calendarType": "ISLAMIC", "countryIso2Code": "IR"}],
            "citizenship": [{"countryIso2Code": "IR"}],
        },
        {  # an xs:date with a time zone
            "logicalId": 1013, "designationDate": "2022-02-25+01:00", "regulation": _reg("UKR", "2022-02-25"),
            "subjectType": "person", "nameAlias": [{"wholeName": "Zone TESTOV"}],
        },
    ]


CYRILLIC = str.maketrans("abvgdeziklmnoprstufhABVGDEZIKLMNOPRSTUFH", "абвгдезиклмнопрстуфхАБВГДЕЗИКЛМНОПРСТУФХ")
SYLLABLES = ["ka", "lo", "vi", "mar", "sen", "to", "ra", "du", "nel", "bor", "sa", "ti", "gor", "lin", "pe"]
COUNTRIES = ["RU", "RU", "RU", "IR", "IR", "BY", "SY", "KP", "UA", "CN", "TR", "AE", "LY", "VE", "00", "CS", "DE"]
PROGRAMMES = ["UKR", "UKR", "UKR", "RUS", "IRN", "IRN", "SYR", "PRK", "BLR", "BLR", "LBY", "VEN", "TERR", "CHEM", "HR"]


def random_entities(count: int, seed: int = 13) -> list[dict]:
    """``count`` random entities (valid per the XSD, expressible in CSV), deterministic for a seed."""
    rng = random.Random(seed)

    def word() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()

    def countries(most: int) -> list[dict]:
        return [{"countryIso2Code": c} for c in rng.sample(COUNTRIES, rng.randint(0, most))]

    out = []
    for n in range(count):
        person = rng.random() < 0.7
        name = (f"{word()} {word()} {word().upper()}" if person
                else f"{word().upper()} {rng.choice(['LLC', 'JSC', 'PJSC'])}")
        year = rng.randint(2008, 2023)
        entry = date(year, rng.randint(1, 12), rng.randint(1, 28)).isoformat()
        entity = {
            "logicalId": 200000 + n * 7,
            "euReferenceNumber": f"EU.{5000 + n}.{n % 97:02d}" if rng.random() < 0.9 else None,
            "designationDate": entry if rng.random() < 0.8 else None,
            "regulation": _reg(rng.choice(PROGRAMMES), entry), "subjectType": "person" if person else "enterprise",
            "nameAlias": [{"wholeName": name, "nameLanguage": "", "strong": "true"}]
            + [{"wholeName": name.translate(CYRILLIC), "nameLanguage": "RU", "strong": "true"}] * rng.randint(0, 1)
            + [{"wholeName": f"{word()} {word().upper()}", "nameLanguage": "", "strong": "false"}] * rng.randint(0, 1),
            "citizenship": countries(3) if person else [],
            "birthdate": [{"year": rng.randint(1940, 1990), **c} for c in countries(2)] if person else [],
            "address": countries(2),
            "identification": [{"identificationTypeCode": rng.choice(["passport", "id"]) if person
                                else rng.choice(["regnumber", "fiscalcode", "swiftbic"]),
                                "number": str(rng.randint(10**6, 10**9)), **c} for c in countries(2)],
        }
        out.append(entity)
    return out


def corpus() -> list[dict]:
    return special_entities() + random_entities(300)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """The corpus as XML (default namespace), XML (prefixed namespace) and CSV 1.1."""
    folder = tmp_path_factory.mktemp("eu_files")
    entities = corpus()
    return {
        "xml": writer.write_xml(entities, folder / "fsf.xml", GENERATED, 7001),
        "xml_prefixed": writer.write_xml(entities, folder / "fsf_prefixed.xml", GENERATED, 7001, prefix="fsd"),
        "csv": writer.write_csv(entities, folder / "fsf.csv", GENERATED),
    }


@pytest.fixture(scope="module")
def staged(files: dict[str, Path], tmp_path_factory) -> dict[str, Path]:
    out = {}
    for kind, path in files.items():
        out[kind] = tmp_path_factory.mktemp(f"eu_{kind}")
        result = _parse(path, out[kind])
        assert result.snapshot_date == SNAPSHOT
    return out


# ---------------------------------------------------------------------------------------------- the layouts
def _xsd_fields() -> dict[str, tuple[set[str], set[str]]]:
    """Element -> (attributes, children) as the EU's XSD defines them (base types and groups resolved)."""
    root = etree.parse(str(XSD)).getroot()
    types = {t.get("name"): t for t in root.findall(f"{XS}complexType")}
    groups = {g.get("name"): g for g in root.findall(f"{XS}attributeGroup")}

    def members(name: str) -> tuple[set[str], dict[str, str]]:
        node, attrs, kids = types[name], set(), {}
        extension = node.find(f"{XS}complexContent/{XS}extension")
        if extension is not None:
            attrs, kids = members(extension.get("base").split(":")[-1])
            node = extension
        attrs = attrs | {a.get("name") for a in node.findall(f"{XS}attribute")}
        for group in node.findall(f"{XS}attributeGroup"):
            attrs |= {a.get("name") for a in groups[group.get("ref").split(":")[-1]].findall(f"{XS}attribute")}
        for element in node.iter(f"{XS}element"):
            kids[element.get("name")] = element.get("type").split(":")[-1]
        return attrs, kids

    found, todo, element_types = {}, ["export"], {"export": "ExportType"}
    while todo:
        name = todo.pop()
        attrs, kids = members(element_types[name])
        found[name] = (attrs, set(kids))
        for kid, kind in kids.items():
            if kind in types and kid not in element_types:
                element_types[kid] = kind
                todo.append(kid)
    return found


def test_xml_fields_table_is_the_xsd(samples: Path):
    """Every element and attribute the XSD allows is in lookups/xml_fields.yml (read or deliberately
    skipped), and nothing else: what a file holds beyond it is audited."""
    table = yaml.safe_load((SOURCE_DIR / "lookups" / "xml_fields.yml").read_text(encoding="utf-8"))
    mine = {name: (set(spec.get("attributes") or {}), set(spec.get("children") or {})) for name, spec in table.items()}
    assert mine == _xsd_fields()


def test_csv_columns_are_the_1_1_header():
    columns = csv_columns()
    assert len(columns) == 118
    assert list(columns)[:7] == ["fileGenerationDate", "Entity_LogicalId", "Entity_EU_ReferenceNumber",
                                 "Entity_UnitedNationId", "Entity_DesignationDate", "Entity_DesignationDetails",
                                 "Entity_Remark"]
    assert list(columns)[-1] == "Citizenship_Regulation_PublicationUrl"
    xml = yaml.safe_load((SOURCE_DIR / "lookups" / "xml_fields.yml").read_text(encoding="utf-8"))
    for column, (element, attribute) in columns.items():
        known = set(xml[element]["attributes"]) | set(xml[element]["children"] or {})
        assert attribute.split("/")[0] in known | {"regulationSummary"}, column


def test_generated_files_are_valid_against_the_xsd(schema, files):
    assert _valid(schema, files["xml"])
    assert _valid(schema, files["xml_prefixed"])
    assert _valid(schema, DEMO_DIR / demo.XML_NAME)


def test_csv_is_one_row_per_combination(files):
    """The CSV is the EU's denormalised layout: BOM, ';', one row per combination of details."""
    data = files["csv"].read_bytes()
    assert data.startswith(b"\xef\xbb\xbffileGenerationDate;Entity_LogicalId;")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    expected = 0
    for entity in corpus():
        product = max(len(writer.regulations(entity)), 1)
        for element in writer.DETAILS:
            product *= max(len(entity.get(element) or ()), 1)
        expected += product
    assert len(rows) == expected
    per_entity = Counter(r["Entity_LogicalId"] for r in rows)
    assert per_entity["1001"] == 3 * 2 * 3 * 3 * 2  # aliases x citizenships x births x addresses x ids
    assert {r["Entity_SubjectType"] for r in rows} == {"P", "E"}


# ---------------------------------------------------------------------------------------------- counts
def _recount_xml(path: Path) -> dict:
    """Counts of the XML file by lxml alone (no parser code)."""
    root = etree.parse(str(path)).getroot()
    records = root.findall("f:sanctionEntity", NS)
    types: Counter = Counter()
    links: Counter = Counter()
    non_country: Counter = Counter()
    for record in records:
        kind = record.find("f:subjectType", NS).get("classificationCode")
        ids = record.findall("f:identification", NS)
        remarks = " ".join(r.text for r in record.findall("f:remark", NS))
        ship = any(i.get("identificationTypeCode") == "imo" or i.get("identificationTypeDescription") == "IMO number"
                   for i in ids) or remarks.startswith(("Vessel", "IMO number: 9074729"))
        types["person" if kind == "P" else "vessel" if ship else "organization"] += 1
        for element, link in (("citizenship", "citizenship"), ("birthdate", "birth"), ("address", "address")):
            codes = {e.get("countryIso2Code") for e in record.findall(f"f:{element}", NS)}
            links[link] += len(codes - {"00", "CS"})
            non_country[link] += len(codes & {"00", "CS"})
        if kind == "E":
            codes = {i.get("countryIso2Code") for i in ids
                     if i.get("identificationTypeCode") in ("regnumber", "fiscalcode")}
            links["registration"] += len(codes - {"00", "CS"})
            non_country["registration"] += len(codes & {"00", "CS"})
        if ship:
            links["flag"] += len(re.findall(r"Flag: \w+", remarks))
    targets = {r.get("euReferenceNumber") or r.get("logicalId") for r in records}
    return {"designations": len(records), "targets": len(targets), "types": dict(types),
            "links": {k: v for k, v in links.items() if v}, "non_country": {k: v for k, v in non_country.items() if v}}


def test_counts_match_a_recount_of_the_xml(files, staged):
    recount = _recount_xml(files["xml"])
    out = staged["xml"]
    assert recount["designations"] == len(corpus()) == 315
    assert _q(out, "designations", "select count(*), count(distinct entity_key) from t") == [
        (recount["designations"], recount["targets"])]
    assert dict(_q(out, "designations", "select entity_type, count(*) from t group by 1")) == recount["types"]
    mapped = dict(_q(out, "country_links",
                     "select link_type, count(*) from t where country_iso2 is not null group by 1"))
    assert mapped == recount["links"]
    non_country = dict(_q(out, "country_links",
                          "select link_type, count(*) from t where country_status = 'non_country' group by 1"))
    assert non_country == recount["non_country"]
    assert _q(out, "country_links", "select count(*) from t where country_status = 'unknown'") == [(0,)]
    assert _q(out, "country_links", "select count(*) from t where country_iso2 in ('00', 'CS', 'XX')") == [(0,)]


def test_counts_match_a_recount_of_the_csv(files, staged):
    with open(files["csv"], encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    ids = {r["Entity_LogicalId"] for r in rows}
    targets = {r["Entity_EU_ReferenceNumber"] or r["Entity_LogicalId"] for r in rows}
    by_entity: dict[str, set[str]] = {}
    for r in rows:
        by_entity.setdefault(r["Entity_LogicalId"], set()).add(r["Entity_Regulation_Programme"])
    programmes = Counter(p for found in by_entity.values() for p in found)
    out = staged["csv"]
    assert _q(out, "designations", "select count(*), count(distinct entity_key) from t") == [(len(ids), len(targets))]
    assert dict(_q(out, "designations", "select unnest(programs), count(*) from t group by 1")) == dict(programmes)


def test_xml_and_csv_stage_the_same_rows(staged):
    """Both layouts of the same content give the same designations, dates, programmes, countries and
    identifiers (the CSV has no strong/weak flag: name qualities are compared apart)."""
    xml, flat = staged["xml"], staged["csv"]
    for table in ("designations", "country_links", "identifiers"):
        assert _rows(xml, table) == _rows(flat, table), table
    assert _rows(xml, "names", "quality") == _rows(flat, "names", "quality")
    assert _q(flat, "names", "select count(*) from t where quality is not null") == [(0,)]
    assert _q(xml, "names", "select count(*) from t where quality = 'weak'")[0][0] > 50


def test_a_prefixed_namespace_reads_the_same(staged):
    for table in ("designations", "names", "country_links", "identifiers"):
        assert _rows(staged["xml"], table) == _rows(staged["xml_prefixed"], table), table


def test_a_file_without_the_namespace_reads_the_same_and_is_audited(schema, staged, tmp_path):
    path = writer.write_xml(corpus(), tmp_path / "plain.xml", GENERATED, namespace=None)
    assert not schema.validate(etree.parse(str(path)))  # the XSD requires its namespace
    result = _parse(path, tmp_path / "out")
    assert result.audit == {**_parse_audit(staged["xml"]), "layout_deviation:namespace": 315}
    for table in ("designations", "country_links"):
        assert _rows(staged["xml"], table) == _rows(tmp_path / "out", table)


def _parse_audit(out: Path) -> dict[str, int]:
    return {f"{rule}:{field}": n for rule, field, n in
            _q(out, "parse_audit", "select rule, field, sum(occurrences)::int from t group by 1, 2")}


# ---------------------------------------------------------------------------------------------- the rules
def _designation(out: Path, lid: str) -> tuple:
    return _q(out, "designations", f"""select entity_key, entity_type, primary_name, programs, listed_on,
                                       reference_number, remarks from t where source_record_id = '{lid}'""")[0]


def _links(out: Path, lid: str) -> list[tuple]:
    return sorted(_q(out, "country_links", f"""select link_type, country_iso2, region, country_status, raw_value
                                               from t where source_record_id = '{lid}'"""), key=repr)


@pytest.mark.parametrize("kind", ["xml", "csv"])
def test_listing_dates(staged, kind):
    out = staged[kind]
    # designationDate
    assert _designation(out, "1001")[4] == date(2022, 2, 28)
    # no designationDate: the entry into force (2003-07-07), not the publication (2003-07-08), not the
    # 2024 amendment that added an alias (regulationSummary)
    assert _designation(out, "1002")[4] == date(2003, 7, 7)
    # designated 2022, record's regulation a 2024 amendment: 2022
    assert _designation(out, "1003")[4] == date(2022, 4, 8)
    assert _designation(out, "1013")[4] == date(2022, 2, 25)
    (first, last, undated), = _q(out, "designations", "select min(listed_on), max(listed_on), "
                                 "count(*) filter (listed_on is null) from t")
    assert (first, undated) == (date(2001, 12, 27), 0) and last <= SNAPSHOT


def test_records_without_a_designation_date_are_dated_by_their_regulation(files, staged):
    root = etree.parse(str(files["xml"])).getroot()
    undated = {r.get("logicalId"): r.find("f:regulation", NS).get("entryIntoForceDate")
               for r in root.findall("f:sanctionEntity", NS) if r.get("designationDate") is None}
    assert len(undated) > 50
    got = dict(_q(staged["xml"], "designations", "select source_record_id, listed_on::varchar from t "
                  "where source_record_id in (" + ",".join(f"'{k}'" for k in undated) + ")"))
    assert got == undated
    assert _parse_audit(staged["xml"])["no_designation_date:sanctionEntity@designationDate"] == len(undated)


def test_several_regulations_give_the_earliest_entry_into_force(tmp_path):
    """The XSD has one regulation per record; the CSV repeats the entity per regulation, and a file
    beyond the XSD may repeat the element: every regulation's programme counts, the earliest entry
    into force dates a record without designationDate."""
    entity = {"logicalId": 77,
              "regulations": [_reg("UKR", "2022-02-28"), _reg("UKR", "2014-03-17"), _reg("RUS", "2024-05-27")],
              "subjectType": "person", "nameAlias": [{"wholeName": "Many RULES"}, {"wholeName": "M. RULES"}]}
    for path in (writer.write_csv([entity], tmp_path / "many.csv", GENERATED),
                 writer.write_xml([entity], tmp_path / "many.xml", GENERATED)):
        out = tmp_path / path.suffix[1:]
        _parse(path, out)
        assert _designation(out, "77")[3:5] == (["RUS", "UKR"], date(2014, 3, 17))
        assert _q(out, "names", "select count(*) from t") == [(2,)]


@pytest.mark.parametrize("kind", ["xml", "csv"])
def test_one_target_two_designations(staged, kind):
    out = staged[kind]
    rows = _q(out, "designations", """select source_record_id, entity_key, programs, listed_on from t
                                      where reference_number = 'EU.2002.22' order by 1""")
    assert rows == [("1004", "eu_fsf:EU.2002.22", ["UKR"], date(2014, 7, 25)),
                    ("1005", "eu_fsf:EU.2002.22", ["CHEM"], date(2020, 10, 15))]
    # the links of both records belong to the one target
    assert _q(out, "country_links", "select link_type, count(*) from t where entity_key = 'eu_fsf:EU.2002.22' "
              "group by 1 order by 1") == [("address", 1), ("birth", 1), ("citizenship", 2)]
    # without a reference, the logicalId is the target
    assert _designation(out, "1006")[0] == "eu_fsf:1006"


@pytest.mark.parametrize("kind", ["xml", "csv"])
def test_vessels_filed_as_enterprises(staged, kind):
    out = staged[kind]
    assert _designation(out, "1006")[1] == "vessel"
    assert _designation(out, "1007")[1] == "vessel"
    assert _designation(out, "1008")[1] == "organization"  # a shipping company with an IMO company number
    assert _designation(out, "1014")[1] == "vessel"
    assert _designation(out, "1015")[1] == "organization"
    assert _q(out, "identifiers", "select source_record_id, id_type, id_value from t where id_type = 'imo' "
              "order by 1") == [("1006", "imo", "9123456"), ("1007", "imo", "IMO 9234567"), ("1014", "imo", "9074729")]
    assert _links(out, "1007") == [("flag", "PA", None, "mapped", "Panama")]
    audit = _parse_audit(out)
    assert audit["typed_as_vessel:imo_identification"] == 2
    assert audit["typed_as_vessel:vessel_statement"] == 1 and audit["typed_as_vessel:imo_in_text"] == 1
    assert audit["invalid_check_digit:identification@number"] == 2  # 9123456 and 9234567: kept, audited


@pytest.mark.parametrize("kind", ["xml", "csv"])
def test_countries(staged, kind):
    out = staged[kind]
    assert _links(out, "1001") == sorted([
        ("address", None, None, "non_country", "UNKNOWN"), ("address", "AE", None, "mapped", "UNITED ARAB EMIRATES"),
        ("address", "RU", None, "mapped", "RUSSIAN FEDERATION"), ("birth", "RU", None, "mapped", "RUSSIAN FEDERATION"),
        ("birth", "UA", None, "mapped", "UKRAINE"), ("citizenship", "CY", None, "mapped", "CYPRUS"),
        ("citizenship", "RU", None, "mapped", "RUSSIAN FEDERATION")], key=repr)
    assert _links(out, "1010") == sorted([("birth", None, None, "non_country", "SERBIA AND MONTENEGRO"),
                                          ("citizenship", "RS", None, "mapped", "RS")], key=repr)
    assert _links(out, "1009") == [("address", "BY", None, "mapped", "BELARUS"),
                                   ("registration", "BY", None, "mapped", "BELARUS")]
    assert _links(out, "1011") == []
    assert _q(out, "identifiers", "select id_type, id_value, country_iso2 from t where source_record_id = '1001' "
              "and id_type <> 'eu_reference' order by 1") == [("national_id", "X-1", "CY"),
                                                              ("passport", "750000001", "RU")]
    assert _q(out, "identifiers", "select id_type, id_value from t where source_record_id = '1002' order by 1") == [
        ("eu_reference", "EU.27.28"), ("un_reference", "IQi.001")]


@pytest.mark.parametrize("kind", ["xml", "csv"])
def test_names(staged, kind):
    out = staged[kind]
    names = _q(out, "names", "select name, name_type from t where source_record_id = '1001' order by name_type, name")
    assert names == [("Ivan TESTOFF", "aka"), ("Иван Петрович ТЕСТОВ", "original_script"),
                     ("Ivan Petrovich TESTOV", "primary")]
    assert _designation(out, "1012")[2] == "TESTAVI"  # a last name alone
    assert _designation(out, "1001")[6] == "Businessman.\nSecond remark line."
    assert _designation(out, "1003")[6] == "Member of the State Duma."


def test_country_code_and_description(tmp_path):
    """The code wins; a code that is no country gives way to a description that is one (audited); a
    region the crosswalk knows is kept; a value nobody knows is reported, never guessed."""
    entity = {"logicalId": 5, "designationDate": "2022-02-25", "regulation": _reg("UKR", "2022-02-25"),
              "subjectType": "person", "nameAlias": [{"wholeName": "Region TESTER"}],
              "citizenship": [{"countryIso2Code": "00", "countryDescription": "RUSSIAN FEDERATION"}],
              "address": [{"countryIso2Code": "UA", "countryDescription": "UKRAINE", "region": "Crimea"},
                          {"countryIso2Code": "XX", "countryDescription": "ATLANTIS"},
                          {"countryIso2Code": "RU", "countryDescription": "UKRAINE"}],
              "birthdate": [{"countryIso2Code": "", "countryDescription": "Iran (Islamic Republic of)"}]}
    result = _parse(writer.write_xml([entity], tmp_path / "c.xml", GENERATED), tmp_path / "out")
    assert _links(tmp_path / "out", "5") == sorted([
        ("address", None, None, "unknown", "ATLANTIS"), ("address", "RU", None, "mapped", "UKRAINE"),
        ("address", "UA", "crimea", "mapped", "UKRAINE"), ("birth", "IR", None, "mapped", "Iran (Islamic Republic of)"),
        ("citizenship", "RU", None, "mapped", "RUSSIAN FEDERATION")], key=repr)
    assert result.unmapped_countries == {"ATLANTIS": 1}
    assert result.audit["country_from_description:citizenship"] == 1
    assert result.audit["country_mismatch:address"] == 1


def xml_only_entities() -> list[dict]:
    """What the CSV cannot say: delisting dates, lost citizenships, additional information, corrigenda."""
    base = {"regulation": _reg("SYR", "2011-05-23"), "subjectType": "person", "designationDate": "2011-05-23"}
    return [
        {**base, "logicalId": 1, "delistingDate": "2024-01-15", "nameAlias": [{"wholeName": "Gone ALREADY"}]},
        {**base, "logicalId": 2, "delistingDate": "2024-12-31", "nameAlias": [{"wholeName": "Going SOON"}]},
        {**base, "logicalId": 3, "nameAlias": [{"wholeName": "Lost CITIZENSHIP"}],
         "citizenship": [{"countryIso2Code": "SY", "acquisitionDate": "1980-01-01",
                          "disenfranchisementDate": "2020-02-02"}, {"countryIso2Code": "TR"}]},
        {**base, "logicalId": 4, "subjectType": "enterprise", "nameAlias": [{"wholeName": "OCEAN TEST"}],
         "additionalInformation": [{"key": "vesselType", "value": "Vessel type: crude oil tanker"}],
         "regulation": {**_reg("SYR", "2011-05-23"), "corrigendum": [
             {"regulationType": "corrigendum", "publicationDate": "2011-06-01", "numberTitle": "C1",
              "publicationUrl": "https://eur-lex.europa.eu/eli/reg/2011/C1"}],
                        "remarks": ["regulation remark"]}},
    ]


def test_xml_only_attributes(tmp_path, schema):
    path = writer.write_xml(xml_only_entities(), tmp_path / "x.xml", GENERATED)
    assert _valid(schema, path)
    result = _parse(path, tmp_path / "out")
    out = tmp_path / "out"
    assert _q(out, "designations", "select source_record_id from t order by 1") == [("2",), ("3",), ("4",)]
    assert result.audit["delisted:sanctionEntity@delistingDate"] == 1
    assert result.audit["delisting_scheduled:sanctionEntity@delistingDate"] == 1
    assert _links(out, "3") == sorted([("citizenship", "TR", None, "mapped", "TÜRKIYE"),
                                       ("other", "SY", None, "mapped", "SYRIAN ARAB REPUBLIC")], key=repr)
    assert _designation(out, "4")[1] == "vessel"  # said in its additional information
    assert result.audit["unplaced_value:sanctionEntity/additionalInformation"] == 1
    assert result.audit["typed_as_vessel:vessel_field"] == 1


def test_every_element_and_attribute_of_the_xsd_is_read(tmp_path, schema):
    """The test files use every element and attribute the XSD allows, and the parser knows them all."""
    paths = [writer.write_xml(corpus(), tmp_path / "corpus.xml", GENERATED),
             writer.write_xml(xml_only_entities(), tmp_path / "xml_only.xml", GENERATED)]
    used: dict[str, set[str]] = {}
    for path in paths:
        assert _valid(schema, path)
        for element in etree.parse(str(path)).iter():
            used.setdefault(etree.QName(element).localname, set()).update(element.attrib)
    expected = {name: attrs for name, (attrs, _children) in _xsd_fields().items()}
    expected.update(remark=set(), publicationUrl=set())  # the two text elements
    assert used == expected
    result = _parse(paths, tmp_path / "out")
    assert not [key for key in result.audit if key.startswith("unknown_field")]


def test_every_optional_part_left_out(tmp_path, schema):
    """The least the XSD allows: a nameAlias with no name, no country anywhere, no dates."""
    bare = {"logicalId": 9, "regulation": {"programme": "", "entryIntoForceDate": "2000-01-01"},
            "subjectType": {"code": "other", "classificationCode": "E"}, "nameAlias": [{"function": "unknown"}]}
    path = writer.write_xml([bare], tmp_path / "bare.xml", GENERATED)
    assert _valid(schema, path)
    result = _parse(path, tmp_path / "out")
    assert _designation(tmp_path / "out", "9")[:5] == ("eu_fsf:9", "organization", "EU 9", [], date(2000, 1, 1))
    assert result.audit["no_name:nameAlias"] == 1 and result.audit["no_programme:regulation@programme"] == 1
    assert result.audit["unknown_value:subjectType@code"] == 1


def test_dates_that_cannot_be_listing_dates(tmp_path):
    """A designation date before 1945 or after the file's date, or no date at all (CSV), is not
    believed: audited, and the regulation's entry into force dates the record."""
    base = {"regulation": _reg("SYR", "2011-05-23"), "subjectType": "person", "nameAlias": [{"wholeName": "D"}]}
    entities = [{**base, "logicalId": 1, "designationDate": "1900-01-01"},
                {**base, "logicalId": 2, "designationDate": "2030-01-01"},
                {**base, "logicalId": 3, "designationDate": "31/02/2020"},
                {**base, "logicalId": 4, "designationDate": "25/02/2022"}]
    result = _parse(writer.write_csv(entities, tmp_path / "d.csv", GENERATED), tmp_path / "out")
    assert _q(tmp_path / "out", "designations", "select source_record_id, listed_on from t order by 1") == [
        ("1", date(2011, 5, 23)), ("2", date(2011, 5, 23)), ("3", date(2011, 5, 23)), ("4", date(2022, 2, 25))]
    assert result.audit["implausible_date:sanctionEntity@designationDate"] == 2
    assert result.audit["invalid_date:sanctionEntity@designationDate"] == 1


def test_staged_suites_pass(tmp_path):
    """The project's staged Great Expectations suites accept what the parser stages."""
    from expectations.staged import staged_suites
    from pipeline.staged import SCHEMAS
    from pipeline.validation import validate_stage

    meta = load_meta("eu_fsf")
    for name, path in (("demo", DEMO_DIR / demo.XML_NAME),
                       ("corpus", writer.write_xml(corpus(), tmp_path / "corpus.xml", GENERATED))):
        out = tmp_path / name
        _parse(path, out)
        con = duckdb.connect()
        frames = {table: con.execute(f"select *, 'eu_fsf' as source, date '{SNAPSHOT}' as snapshot_date from "
                                     f"read_parquet('{out}/{table}/**/*.parquet')").df() for table in SCHEMAS}
        reports = validate_stage("staged", frames, staged_suites(meta.min_rows_demo, meta.max_rows, None,
                                                                 snapshot_date=SNAPSHOT))
        assert reports and not any(r.failed_critical for r in reports)


def test_unknown_elements_and_attributes_are_audited(tmp_path):
    path = writer.write_xml(special_entities()[:1], tmp_path / "x.xml", GENERATED)
    text = path.read_text(encoding="utf-8")
    text = text.replace('<sanctionEntity ', '<sanctionEntity riskScore="9" ', 1)
    text = text.replace("</sanctionEntity>", "<vesselDetails flag=\"PA\">x</vesselDetails></sanctionEntity>", 1)
    text = text.replace('<nameAlias ', '<nameAlias script="Latn" ', 1)
    path.write_text(text, encoding="utf-8")
    result = _parse(path, tmp_path / "out")
    assert result.counts["designations"] == 1
    assert result.audit["unknown_field:sanctionEntity@riskScore"] == 1
    assert result.audit["unknown_field:sanctionEntity/vesselDetails"] == 1
    assert result.audit["unknown_field:nameAlias@script"] == 1


def test_csv_rows_in_any_order_and_one_detail_per_row(files, staged, tmp_path):
    """The rows of an entity need not be together, nor be a full product: each detail is kept once."""
    with open(files["csv"], encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle, delimiter=";"))
    random.Random(5).shuffle(rows)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows([header, *rows])
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    _parse(shuffled, tmp_path / "shuffled")
    sparse_rows, next_id = [], 10**9
    for entity in copy.deepcopy(corpus()):
        for element in writer.DETAILS:  # ids fixed first: each copy below holds a part of the details
            for item in entity.get(element) or []:
                next_id += 1
                item["logicalId"] = next_id
        sparse_rows += writer.entity_rows({**entity, **{d: (entity.get(d) or [])[:1] for d in writer.DETAILS}},
                                          GENERATED)
        for element in writer.DETAILS:
            for item in (entity.get(element) or [])[1:]:
                sparse_rows += writer.entity_rows({**entity, **{d: [] for d in writer.DETAILS}, element: [item]},
                                                  GENERATED)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\n").writerows([list(csv_columns()), *sparse_rows])
    sparse = tmp_path / "sparse.csv"
    sparse.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    _parse(sparse, tmp_path / "sparse")
    for table in ("designations", "country_links", "identifiers", "names"):
        assert _rows(staged["csv"], table) == _rows(tmp_path / "shuffled", table), table
        assert _rows(staged["csv"], table) == _rows(tmp_path / "sparse", table), table


# ---------------------------------------------------------------------------------------------- refused files
def _refused(path: Path, tmp_path: Path, **kwargs) -> SourceError:
    with pytest.raises(SourceError) as caught:
        _parse(path, tmp_path / "refused", **kwargs)
    assert not list((tmp_path / "refused").glob("*/source=eu_fsf/*/*.parquet"))  # nothing written
    return caught.value


def _demo_xml() -> str:
    return (DEMO_DIR / demo.XML_NAME).read_text(encoding="utf-8")


def test_hostile_xml(tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?>\n<!DOCTYPE export [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>\n'
                    f'<export xmlns="{writer.NAMESPACE}" generationDate="2024-06-28T00:00:00" globalFileId="1">'
                    '&b;</export>')
    assert _refused(bomb, tmp_path).rule == "no DTD or entity declarations"

    text = _demo_xml()
    truncated = tmp_path / "truncated.xml"
    truncated.write_text(text[: text.index("Sergey Viktorovich LAVROV")], encoding="utf-8")
    error = _refused(truncated, tmp_path)
    assert error.rule == "well-formed XML" and "last complete record was 135909" in error.detail

    html = tmp_path / "fsf.xml"
    html.write_text("<!DOCTYPE html><html><body>Service Unavailable</body></html>")
    error = _refused(html, tmp_path)
    assert error.rule == "is an EU FSF XML 1.1 or CSV 1.1 file" and "HTML page" in error.detail

    other = tmp_path / "consolidated.xml"
    other.write_text('<CONSOLIDATED_LIST dateGenerated="2024-06-28"><INDIVIDUALS/></CONSOLIDATED_LIST>')
    error = _refused(other, tmp_path)
    assert error.rule == "expected root element" and "<CONSOLIDATED_LIST>" in error.detail

    legacy = tmp_path / "legacy.xml"
    legacy.write_text('<WHOLE><ENTITY Id="13" Type="P" legal_basis="1210/2003 (OJ L169)"/></WHOLE>')
    assert "legacy FSF 1.0 XML" in _refused(legacy, tmp_path).detail

    foreign = tmp_path / "foreign.xml"
    foreign.write_text(text.replace(writer.NAMESPACE, "urn:example:other"), encoding="utf-8")
    error = _refused(foreign, tmp_path)
    assert error.rule == "FSF namespace" and "urn:example:other" in error.detail

    undated = tmp_path / "undated.xml"
    undated.write_text(re.sub(r' generationDate="[^"]+"', "", text, count=1), encoding="utf-8")
    assert _refused(undated, tmp_path).rule == "export@generationDate"

    empty = tmp_path / "empty.xml"
    empty.write_text(f'<export xmlns="{writer.NAMESPACE}" generationDate="2024-06-28T00:00:00" globalFileId="1"/>')
    assert _refused(empty, tmp_path).rule == "has records"

    packed = tmp_path / "fsf.xml.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    assert "gzip" in _refused(packed, tmp_path).detail


def test_duplicate_logical_ids(tmp_path):
    """A logicalId read twice (in one file, or an XML and a CSV of the same list parsed together)
    refuses the parse; a lenient parse keeps the first and audits."""
    entities = special_entities()[:2]
    twice = tmp_path / "twice.xml"
    writer.write_xml([*entities, entities[0]], twice, GENERATED)
    error = _refused(twice, tmp_path)
    assert error.rule == "unique logicalId" and error.record == "1001"
    result = _parse(twice, tmp_path / "lenient", strict=False)
    assert result.counts["designations"] == 2 and result.audit["rule_violation:unique logicalId"] == 1
    both = [writer.write_xml(entities, tmp_path / "a.xml", GENERATED), writer.write_csv(entities, tmp_path / "a.csv",
                                                                                        GENERATED)]
    assert _refused(both, tmp_path).rule == "unique logicalId"


def test_hostile_csv(tmp_path):
    # (special_entities()[0] has a remark with a line break: left out, so that a line is a row here)
    good = writer.write_csv(special_entities()[1:], tmp_path / "good.csv", GENERATED).read_bytes()
    lines = good.split(b"\n")

    short = tmp_path / "short.csv"
    short.write_bytes(b"\n".join([*lines[:5], lines[5][: len(lines[5]) // 2]]))  # a truncated last row
    error = _refused(short, tmp_path)
    assert error.rule == "column count" and "line 6" in error.detail

    letters = tmp_path / "letters.csv"
    letters.write_bytes(good.replace(b";1002;", b";10O2;", 1))
    error = _refused(letters, tmp_path)
    assert error.rule == "numeric Entity_LogicalId" and "'10O2'" in error.detail

    legacy = tmp_path / "legacy.csv"
    legacy.write_text("Date_file;Entity_logical_id;EU_ref_num;Subject_type;Naal_wholename\n2016-01-01;13;EU.27.28;P;X\n")
    assert "legacy FSF CSV 1.0" in _refused(legacy, tmp_path).detail

    ofac = tmp_path / "sdn.csv"
    ofac.write_text('36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n')
    error = _refused(ofac, tmp_path)
    assert error.rule == "is an EU FSF CSV 1.1 file" and "AEROCARIBBEAN" in error.detail

    header_only = tmp_path / "header.csv"
    header_only.write_bytes(lines[0] + b"\n")
    assert _refused(header_only, tmp_path).rule == "has records"

    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"\xef\xbb\xbf\n")
    assert "empty file" in _refused(blank, tmp_path).detail

    bad_date = tmp_path / "bad_date.csv"
    bad_date.write_bytes(good.replace(b"\n28/06/2024;", b"\n31/02/2024;"))
    assert _refused(bad_date, tmp_path).rule == "fileGenerationDate"

    unclosed = tmp_path / "unclosed.csv"
    unclosed.write_bytes(lines[0] + b"\n" + lines[1].replace(b";", b';"', 1) + b"x" * 140_000 + b"\n")
    error = _refused(unclosed, tmp_path)
    assert error.rule == "readable CSV" and "field larger than field limit" in error.detail


def test_csv_quirks_are_read(tmp_path):
    """CRLF line ends, a cell with the delimiter or a line break (quoted), a line that is not UTF-8
    (read as Windows-1252, audited), an unknown extra column (audited), swapped subject columns."""
    entity = {**special_entities()[0], "remarks": ["Owner; chairman.", "Second line"]}
    data = writer.write_csv([entity], tmp_path / "x.csv", GENERATED).read_bytes()
    text = data.decode("utf-8-sig").replace("\n", "\r\n").replace('"Owner; chairman.\r\nSecond line"',
                                                                 '"Owner; chairman.\nSecond line"')
    header, *rows = text.split("\r\n")
    text = "\r\n".join([header + ";Entity_RiskScore", *(r + ";7" if r else r for r in rows)])
    raw = b"\xef\xbb\xbf" + text.encode("utf-8")
    raw = raw.replace("Иван Петрович ТЕСТОВ".encode(), "Ivan Petrovi\xe8 TESTOV".encode("cp1252"), 1)
    path = tmp_path / "quirks.csv"
    path.write_bytes(raw)
    result = _parse(path, tmp_path / "out")
    assert result.counts["designations"] == 1
    assert _designation(tmp_path / "out", "1001")[6] == "Owner; chairman.\nSecond line"
    assert result.audit["non_utf8_text:quirks.csv"] >= 1
    assert result.audit["unknown_field:column Entity_RiskScore"] > 0
    assert ("Ivan Petroviè TESTOV",) in _q(tmp_path / "out", "names", "select name from t")
    # a trailing ';' on the rows but not on the header: empty cells past the last column are dropped
    header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows([header, *(row + [""] for row in rows)])
    trailing = tmp_path / "trailing.csv"
    trailing.write_text(buffer.getvalue(), encoding="utf-8")
    result = _parse(trailing, tmp_path / "trailing")
    assert result.counts["designations"] == 1 and result.audit["layout_deviation:trailing delimiter"] > 0
    assert _rows(tmp_path / "out", "country_links") == _rows(tmp_path / "trailing", "country_links")


# ---------------------------------------------------------------------------------------------- programmes
def _programs() -> list[dict[str, str]]:
    with open(SOURCE_DIR / "programs.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_programs_table():
    rows = _programs()
    assert list(rows[0]) == ["authority", "program", "target_iso2", "region", "kind", "description"]
    assert {r["authority"] for r in rows} == {"eu"}
    keys = [(r["program"], r["target_iso2"]) for r in rows]
    assert len(keys) == len(set(keys))
    for r in rows:
        assert r["description"] and r["program"] == r["program"].strip(), r
        assert (r["kind"] == "thematic") == (r["target_iso2"] == ""), r
        assert r["kind"] in ("country", "thematic", "regional"), r
    table = {r["program"]: r["target_iso2"] for r in rows}
    assert table["UKR"] == "RU" and table["RUS"] == "RU" and table["IRN"] == "IR" and table["BLR"] == "BY"
    assert table["PRK"] == "KP" and table["SYR"] == "SY" and table["TERR"] == table["CHEM"] == ""
    used = {p for e in corpus() for r in writer.regulations(e) if (p := r.get("programme"))}
    used |= {f["regulation"]["programme"] for f in yaml.safe_load(demo.FACTS.read_text(encoding="utf-8"))["entries"]}
    assert used <= set(table), used - set(table)


#: Our EU programmes whose targets differ from OpenSanctions' programme metadata, and why.
DELIBERATE_DIFFERENCES = {
    "UKR": ("ru", "ru;ua;ua-cri;ua-dpr;ua-lpr",
            "the regime answers Russia's aggression: target RU, as OFAC's UKRAINE-EO13660/13661 (README)"),
    "CYB": ("", "ip", "thematic here; theirs is 'ip', not an ISO 3166 country"),
}


def test_programs_agree_with_opensanctions(samples: Path):
    with open(OPENSANCTIONS_PROGRAMS, encoding="utf-8", newline="") as handle:
        theirs = [r for r in csv.DictReader(handle) if r["dataset"] == "eu_fsf"]
    ours: dict[str, set[str]] = {}
    for r in _programs():
        ours.setdefault(r["program"], set()).update([r["target_iso2"].lower()] if r["target_iso2"] else [])
    differences, unmatched = {}, set()
    for program, targets in ours.items():
        found = [r for r in theirs if program in {a.strip() for a in r["aliases"].split(";")}]
        if not found:
            unmatched.add(program)
            continue
        their_targets = {";".join(sorted(t for t in r["target_territories"].split(";") if t and t != "zz"))
                         for r in found}
        if ";".join(sorted(targets)) not in their_targets:
            differences[program] = (";".join(sorted(targets)), " | ".join(sorted(their_targets)))
    assert unmatched == set(), unmatched
    assert differences == {k: v[:2] for k, v in DELIBERATE_DIFFERENCES.items()}


# ---------------------------------------------------------------------------------------------- demo
def test_demo_files_are_built_from_the_facts(tmp_path, schema):
    built = demo.build(tmp_path)
    assert [p.name for p in built] == [demo.XML_NAME, demo.CSV_NAME]
    for path in built:
        assert path.read_bytes() == (DEMO_DIR / path.name).read_bytes(), f"{path.name}: run python -m {demo.__name__}"
    assert _valid(schema, built[0])
    assert load_meta("eu_fsf").demo_inputs == ("eu_fsf/fsf_1_1.xml",)


def test_demo_parses_and_russia_overtakes_iran(tmp_path):
    facts = yaml.safe_load(demo.FACTS.read_text(encoding="utf-8"))["entries"]
    for name in (demo.XML_NAME, demo.CSV_NAME):
        out = tmp_path / name
        result = _parse(DEMO_DIR / name, out)
        assert result.counts["designations"] == len(facts) == 46
        assert result.counts["designations"] >= load_meta("eu_fsf").min_rows_demo
        assert _q(out, "designations", "select count(distinct entity_key) from t") == [(45,)]
    out = tmp_path / demo.XML_NAME
    target = {r["program"]: r["target_iso2"] for r in _programs()}
    counts = _q(out, "designations", "select programs[1], listed_on from t")

    def by(country: str, day: date) -> int:
        return sum(1 for program, listed in counts if target.get(program) == country and listed <= day)

    assert by("IR", date(2013, 12, 31)) > by("RU", date(2013, 12, 31)) == 0
    assert by("RU", SNAPSHOT) > 2 * by("IR", SNAPSHOT)
    # the Iranian drone makers listed under the Russia regime: Iranian by nationality
    assert _q(out, "country_links", f"""select count(distinct c.entity_key) from t c join read_parquet(
        '{out}/designations/**/*.parquet') d using (entity_key) where c.country_iso2 = 'IR'
        and list_contains(d.programs, 'UKR')""") == [(4,)]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=300)


@pytest.mark.integration
def test_parse_command(tmp_path):
    out = tmp_path / "out"
    done = _cli("parse", "eu_fsf", str(DEMO_DIR / demo.CSV_NAME), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "designations        46 rows" in done.stdout
    assert list((out / "designations").glob("source=eu_fsf/snapshot_date=2024-06-28/*.parquet"))
    # the XML and the CSV of one list are one list: strict refuses them together, lenient warns
    both = [str(DEMO_DIR / demo.XML_NAME), str(DEMO_DIR / demo.CSV_NAME)]
    done = _cli("parse", "eu_fsf", *both, "--out", str(tmp_path / "strict"), "--strict")
    assert done.returncode == 1 and "rule 'unique logicalId' failed" in done.stderr
    assert not (tmp_path / "strict" / "designations").exists() or not list((tmp_path / "strict").rglob("*.parquet"))
    done = _cli("parse", "eu_fsf", *both, "--out", str(tmp_path / "lenient"))
    assert done.returncode == 0 and "warning: rule 'unique logicalId' failed" in done.stdout
