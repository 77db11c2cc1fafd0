"""The staged ``birth_dates`` table (pipeline/birth_dates.py and every sanctions parser): on each real
sample the birth dates are recounted from the raw file with lxml / csv (the rules written out again
here, not the parser's), and the known traps are checked: OFAC ``circa`` and ``to`` ranges, UN
``TYPE_OF_DATE`` EXACT / APPROXIMATELY / BETWEEN, UK ``00/00/yyyy``, Canada's ``Sep-99`` and
``born in the early 1970s``, SECO's day-month-year, OpenSanctions' prefix dates, the EU's
birthdate attributes (no real EU file exists: generated files, XML and CSV, must agree). An
unreadable value is kept raw with nulls and audited; the staged suite passes good rows and
fails bad ones."""

from __future__ import annotations

import csv
import glob
import os
import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from lxml import etree

from pipeline.birth_dates import CIRCA_YEARS, BirthDate, parse_text
from pipeline.parse import parse_files
from tests.conftest import SAMPLES

OFAC = SAMPLES / "ofac"


def staged(tmp_path: Path, source: str, *files: str, strict: bool = False) -> tuple[list[dict], list[dict]]:
    """The birth_dates rows and the parse_audit rows of one parse of sample files."""
    paths = [Path(p) for f in files for p in sorted(glob.glob(str(SAMPLES / f)))]
    assert paths, files
    out = tmp_path / "staged"
    parse_files(source, paths, out, strict=strict)

    def read(table: str) -> list[dict]:
        parts = sorted(out.glob(f"{table}/source={source}/*/*.parquet"))
        return [row for part in parts for row in pq.read_table(part).to_pylist()]

    return read("birth_dates"), read("parse_audit")


def years(rows: list[dict]) -> Counter:
    return Counter((r["year_from"], r["year_to"], r["month"], r["day"]) for r in rows)


def by_record(rows: list[dict]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for row in rows:
        found.setdefault(row["source_record_id"], []).append(row)
    return found


def unparsed(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["year_from"] is None]


def check_shape(rows: list[dict]) -> None:
    """What every row of the table must satisfy, whatever the source."""
    for row in rows:
        assert row["entity_key"] and row["source_record_id"] and row["raw_value"], row
        assert row["raw_sha256"] and row["raw_file"], row
        if row["year_from"] is None:
            assert row["year_to"] is None and row["birth_date"] is None and row["month"] is None, row
            continue
        assert row["year_from"] <= row["year_to"], row
        assert row["month"] is None or 1 <= row["month"] <= 12, row
        assert row["day"] is None or (row["month"] is not None and 1 <= row["day"] <= 31), row
        if row["birth_date"] is not None:
            day = row["birth_date"]
            assert (row["year_from"], row["year_to"], row["month"], row["day"]) == (day.year, day.year, day.month,
                                                                                    day.day), row
            assert not row["approximate"], row


# --- the grammar ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("1962", [(1962, 1962, None, None, False)]),
    ("12 Feb 1970", [(1970, 1970, 2, 12, False)]),
    ("Feb 1970", [(1970, 1970, 2, None, False)]),
    ("circa 1970", [(1970 - CIRCA_YEARS, 1970 + CIRCA_YEARS, None, None, True)]),
    ("circa 1979-1982", [(1979, 1982, None, None, True)]),  # a range the list states is not widened
    ("1951 to 1953", [(1951, 1953, None, None, False)]),
    ("between 1951 and 1953", [(1951, 1953, None, None, False)]),
    ("21 Mar 1958 to 20 Mar 1959", [(1958, 1959, None, None, False)]),
    ("Between Aug. and Sep. 1960", [(1960, 1960, None, None, False)]),
    ("00/00/1994", [(1994, 1994, None, None, False)]),  # UK: unknown parts
    ("dd/mm/1971", [(1971, 1971, None, None, False)]),
    ("00/05/1994", [(1994, 1994, 5, None, False)]),
    ("25/12/1970", [(1970, 1970, 12, 25, False)]),  # UK order
    ("12/25/1970", [(1970, 1970, 12, 25, False)]),  # an American date: no other reading is a date
    ("born in the early 1970s", [(1970, 1973, None, None, False)]),
    ("mid-1970s", [(1974, 1976, None, None, False)]),
    ("1970s", [(1970, 1979, None, None, False)]),
    ("1970-05", [(1970, 1970, 5, None, False)]),  # OpenSanctions' prefix dates
    ("1967-03-01-05:00", [(1967, 1967, 3, 1, False)]),  # an xs:date with its time zone (UN)
    ("Nov. 1960", [(1960, 1960, 11, None, False)]),
    ("1965-07-15 OR 1969-09-28", [(1965, 1965, 7, 15, False), (1969, 1969, 9, 28, False)]),
    ("1963 or 1964", [(1963, 1963, None, None, False), (1964, 1964, None, None, False)]),
    ("approximately 1965", [(1964, 1966, None, None, True)]),
    ("août 1960", [(1960, 1960, 8, None, False)]),
])
def test_the_grammar_reads_the_forms_the_lists_use(text: str, expected: list[tuple]):
    found = parse_text(text)
    assert found is not None, text
    assert [(b.year_from, b.year_to, b.month, b.day, b.approximate) for b in found] == expected


@pytest.mark.parametrize("text", ["Sep-99", "15/00/1970", "31/02/1970", "1970-02-30", "0000", "55-60 years old",
                                  "24/06/1402 (Hijri Calendar)", "unknown", "1963 or sometime later", ""])
def test_the_grammar_reads_nothing_it_cannot_read_whole(text: str):
    assert parse_text(text) is None, text


def test_two_digit_years_need_the_listing_year():
    assert parse_text("Sep-99", not_after=2023) == [BirthDate(1999, 1999, 9, None)]
    assert parse_text("Sep-05", not_after=2023) == [BirthDate(2005, 2005, 9, None)]
    assert parse_text("Sep-25", not_after=2023) == [BirthDate(1925, 1925, 9, None)]


def test_only_an_exact_day_is_a_birth_date():
    assert BirthDate(1970, 1970, 2, 12).birth_date == date(1970, 2, 12)
    assert BirthDate(1969, 1971, 2, 12, approximate=True).birth_date is None
    assert BirthDate(1970, 1970, 2, None).birth_date is None


# --- OFAC ----------------------------------------------------------------------------------------

def _remark_dobs(path: Path, id_column: int = 0, remarks_column: int = 11) -> set[tuple[str, str]]:
    """(ent_num, date as written) for every 'DOB x' / 'alt. DOB x' phrase of the Remarks column."""
    found = set()
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) <= remarks_column:
                continue
            for phrase in row[remarks_column].split(";"):
                phrase = phrase.strip()
                phrase = phrase.removeprefix("alt. ")
                if phrase.startswith("DOB "):
                    found.add((row[id_column].strip(), phrase[4:].strip().rstrip(".")))
    return found


@pytest.mark.parametrize("folder", ["sdn_csv_2021-04-25_subset", "sdn_csv_2024-05-03_head", "sdn_csv_excerpt"])
def test_ofac_csv_remarks(tmp_path: Path, folder: str):
    rows, audit = staged(tmp_path, "us_ofac_sdn", f"ofac/{folder}/*.csv")
    check_shape(rows)
    expected = _remark_dobs(OFAC / folder / "sdn.csv")
    assert len(rows) == len(expected) > 0
    assert {(r["source_record_id"], r["raw_value"]) for r in rows} == expected
    assert not unparsed(rows)
    for row in rows:
        raw = row["raw_value"]
        if m := re.fullmatch(r"circa (\d{4})", raw):
            assert (row["year_from"], row["year_to"], row["approximate"]) == (int(m[1]) - 1, int(m[1]) + 1, True)
        elif m := re.fullmatch(r"(\d{4}) to (\d{4})", raw):
            assert (row["year_from"], row["year_to"]) == (int(m[1]), int(m[2]))
        elif m := re.fullmatch(r"circa (\d{4})-(\d{4})", raw):
            assert (row["year_from"], row["year_to"], row["approximate"]) == (int(m[1]), int(m[2]), True)
        elif re.fullmatch(r"\d{2} \w{3} \d{4}", raw):
            assert row["birth_date"] == datetime.strptime(raw, "%d %b %Y").date()


def test_ofac_classic_xml(tmp_path: Path):
    path = OFAC / "cons_classic_2024-05-06.xml"
    expected = set()
    for entry in etree.parse(str(path)).getroot().iterfind("{*}sdnEntry"):
        for dob in entry.iterfind("{*}dateOfBirthList/{*}dateOfBirthItem/{*}dateOfBirth"):
            expected.add((entry.findtext("{*}uid"), dob.text.strip()))
    rows, _audit = staged(tmp_path, "us_ofac_cons", "ofac/cons_classic_2024-05-06.xml")
    check_shape(rows)
    assert {(r["source_record_id"], r["raw_value"]) for r in rows} == expected
    assert len(rows) == 74
    four_digit = [r for r in rows if re.fullmatch(r"\d{4}", r["raw_value"])]
    assert all(r["year_from"] == r["year_to"] == int(r["raw_value"]) and r["month"] is None for r in four_digit)


def test_ofac_advanced_xml(tmp_path: Path):
    root = etree.parse(str(OFAC / "cons_advanced_2020-03-17_subset.xml")).getroot()
    birthdate = {v.get("ID") for v in root.iterfind(".//{*}FeatureType") if v.text == "Birthdate"}
    expected = Counter()
    for party in root.iterfind(".//{*}DistinctParty"):
        for feature in party.iterfind(".//{*}Feature"):
            if feature.get("FeatureTypeID") in birthdate:
                for period in feature.iterfind(".//{*}DatePeriod"):
                    first = period.find("{*}Start/{*}From")
                    last = period.find("{*}End/{*}To")
                    span = (int(first.findtext("{*}Year")), int(last.findtext("{*}Year")))
                    expected[(party.get("FixedRef"), *span)] += 1
    rows, _audit = staged(tmp_path, "us_ofac_cons", "ofac/cons_advanced_2020-03-17_subset.xml")
    check_shape(rows)
    assert Counter((r["source_record_id"], r["year_from"], r["year_to"]) for r in rows) == expected
    assert len(rows) == 40
    # every date of this subset is a whole year (1 Jan to 31 Dec): a year, no month, no day
    assert all(r["month"] is None and r["birth_date"] is None for r in rows)


def test_ofac_enhanced_xml(tmp_path: Path):
    root = etree.parse(str(OFAC / "enhanced_xml_IRGC_filter_2024-08-28.xml")).getroot()
    expected = set()
    for entity in root.iterfind(".//{*}entities/{*}entity"):
        for feature in entity.iterfind("{*}features/{*}feature"):
            if feature.findtext("{*}type") == "Birthdate":
                expected.add((entity.get("id"), feature.findtext("{*}value").strip()))
    rows, _audit = staged(tmp_path, "us_ofac_sdn", "ofac/enhanced_xml_IRGC_filter_2024-08-28.xml")
    check_shape(rows)
    assert {(r["source_record_id"], r["raw_value"]) for r in rows} == expected
    assert len(rows) == 183
    circa = [r for r in rows if r["raw_value"].startswith("circa ")]
    assert len(circa) == 12
    assert all(r["approximate"] and r["year_to"] - r["year_from"] == 2 * CIRCA_YEARS for r in circa)
    ranged = {r["raw_value"]: r for r in rows if " to " in r["raw_value"]}
    assert ranged and all(r["year_from"] <= r["year_to"] and r["birth_date"] is None for r in ranged.values())


# --- UN ------------------------------------------------------------------------------------------

def _un_dates(path: Path) -> tuple[set[tuple], Counter]:
    """(DATAID, what the date says) for every date of birth of every individual, main and alias,
    and the TYPE_OF_DATE of the main ones that give a value."""
    found, kinds = set(), Counter()
    for person in etree.parse(str(path)).getroot().iter("INDIVIDUAL"):
        dataid = person.findtext("DATAID").strip()
        for born in person.iterfind("INDIVIDUAL_DATE_OF_BIRTH"):
            values = {child.tag: child.text.strip() for child in born if child.text and child.text.strip()}
            if set(values) <= {"TYPE_OF_DATE"}:
                continue  # the list's empty placeholder
            kind = values.get("TYPE_OF_DATE", "")
            kinds[kind] += 1
            if "DATE" in values:
                found.add((dataid, "day", values["DATE"][:10], kind == "APPROXIMATELY"))
            elif "FROM_YEAR" in values:
                found.add((dataid, "years", values["FROM_YEAR"], values["TO_YEAR"]))
            elif "YEAR" in values:
                found.add((dataid, "year", values["YEAR"], values.get("NOTE"), kind == "APPROXIMATELY"))
            else:
                found.add((dataid, "note", values["NOTE"]))
        for alias in person.iterfind("INDIVIDUAL_ALIAS/DATE_OF_BIRTH"):
            value = (alias.text or "").strip()
            if len(value) == 10:
                found.add((dataid, "day", value, False))
            elif value:
                found.add((dataid, "year", value, None, False))
    return found, kinds


@pytest.mark.parametrize(("name", "count"), [("consolidated_2026-02-27_subset.xml", 212),
                                             ("consolidated_2020-03-20_full.xml", 881)])
def test_un_dates_of_birth(tmp_path: Path, name: str, count: int):
    expected, kinds = _un_dates(SAMPLES / "un" / name)
    rows, audit = staged(tmp_path, "un_sc", f"un/{name}")
    check_shape(rows)
    assert len(rows) == len(expected) == count
    assert Counter(r["source_record_id"] for r in rows) == Counter(e[0] for e in expected)
    read = [r for r in rows if r["year_from"] is not None]
    # EXACT with a DATE: the day; APPROXIMATELY with a YEAR: the year +-1; BETWEEN: FROM_YEAR..TO_YEAR
    days = {(e[0], e[2]) for e in expected if e[1] == "day" and not e[3]}
    assert {(r["source_record_id"], r["birth_date"].isoformat()) for r in read if r["birth_date"]} == days
    approximately = {(e[0], int(e[2]) - CIRCA_YEARS, int(e[2]) + CIRCA_YEARS) for e in expected
                     if e[1] == "year" and e[4]}
    assert approximately and approximately <= {(r["source_record_id"], r["year_from"], r["year_to"]) for r in read}
    between = {(e[0], int(e[2]), int(e[3])) for e in expected if e[1] == "years"}
    assert between and between <= {(r["source_record_id"], r["year_from"], r["year_to"]) for r in read}
    assert kinds["BETWEEN"] and kinds["APPROXIMATELY"] and kinds["EXACT"]
    # what no rule reads ('30-35 years old', a Hijri date) is kept raw, nulls, and audited by record
    notes = {e[0]: e[2] for e in expected if e[1] == "note"}
    missed = unparsed(rows)
    assert {r["source_record_id"] for r in missed} <= set(notes)
    for row in missed:
        assert notes[row["source_record_id"]] in row["raw_value"]
        assert any(a["rule"] == "birth_date_unparsed" and a["value"] == row["raw_value"] for a in audit)
    if "2020" in name:
        assert {r["raw_value"] for r in missed} == {"TYPE_OF_DATE=EXACT; NOTE=24/06/1402 (Hijri Calendar)",
                                                    "TYPE_OF_DATE=APPROXIMATELY; NOTE=30-35 years old",
                                                    "TYPE_OF_DATE=APPROXIMATELY; NOTE=29 years old"}
        examples = {a["example_record"] for a in audit if a["rule"] == "birth_date_unparsed"}
        assert examples == {r["source_record_id"] for r in missed}
    # a month written in NOTE beside the date ('Nov. 1973') is read
    with_month = [r for r in read if "NOTE=" in r["raw_value"] and r["month"]]
    assert with_month


# --- UK ------------------------------------------------------------------------------------------

def test_uk_conlist(tmp_path: Path):
    path = SAMPLES / "uk" / "ofsi_conlist_2025-04-10_subset.csv"
    with open(path, encoding="utf-8-sig", newline="") as handle:
        next(handle)  # 'Last Updated,...'
        expected = {(row["Group ID"].strip(), row["Regime"].strip(), row["DOB"].strip())
                    for row in csv.DictReader(handle) if row["DOB"].strip()}
    rows, _audit = staged(tmp_path, "gb_hmt", "uk/ofsi_conlist_2025-04-10_subset.csv")
    check_shape(rows)
    assert len(rows) == len(expected) == 130
    assert Counter(r["raw_value"] for r in rows) == Counter(e[2] for e in expected)
    assert not unparsed(rows)
    for row in rows:
        raw = row["raw_value"]
        if m := re.fullmatch(r"00/00/(\d{4})", raw):  # the trap: unknown day and month
            assert (row["year_from"], row["year_to"], row["month"], row["day"], row["birth_date"]) == (
                int(m[1]), int(m[1]), None, None, None)
        elif re.fullmatch(r"\d{2}/\d{2}/\d{4}", raw):
            assert row["birth_date"] == datetime.strptime(raw, "%d/%m/%Y").date()
    assert sum(1 for r in rows if r["raw_value"].startswith("00/00/")) > 20


# --- Canada --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "count"), [("sema-lmes_2020-04.xml", 213), ("sema-lmes_2025-05.xml", 1719)])
def test_canada(tmp_path: Path, name: str, count: int):
    expected = []
    for record in etree.parse(str(SAMPLES / "ca" / name)).getroot().iter("record"):
        person = any((record.findtext(t) or "").strip() for t in ("LastName", "GivenName"))
        raw = next(((record.findtext(t) or "").strip() for t in ("DateOfBirth", "DateOfBirthOrShipBuildDate")
                    if (record.findtext(t) or "").strip()), "")
        if person and raw:
            expected.extend(re.split(r"\s+or\s+", raw, flags=re.I))
    rows, audit = staged(tmp_path, "ca_sema", f"ca/{name}")
    check_shape(rows)
    assert len(rows) == len(expected) == count
    assert not unparsed(rows)
    if "2025" in name:
        trap = [r for r in rows if r["raw_value"] == "born in the early 1970s"]
        assert [(r["year_from"], r["year_to"], r["month"]) for r in trap] == [(1970, 1973, None)]
        sep = [r for r in rows if r["raw_value"] == "Sep-99"]
        assert [(r["year_from"], r["year_to"], r["month"], r["day"]) for r in sep] == [(1999, 1999, 9, None)]
        either = [r for r in rows if " or " in r["raw_value"].lower()]
        assert len(either) == 6 and all(r["year_from"] is not None for r in either)


# --- Switzerland ---------------------------------------------------------------------------------

def test_seco_amendment(tmp_path: Path):
    root = etree.parse(str(SAMPLES / "ch" / "seco_amendment_example_2024-01-17.xml")).getroot()
    expected = {t.get("ssid"): t.find(".//day-month-year") for t in root.findall("target")
                if t.find("individual") is not None and t.find(".//day-month-year") is not None}
    rows, audit = staged(tmp_path, "ch_seco", "ch/seco_amendment_example_2024-01-17.xml")
    check_shape(rows)
    assert {r["source_record_id"] for r in rows} == set(expected) and len(rows) == 3
    for row in rows:
        when = expected[row["source_record_id"]]
        day = date(int(when.get("year")), int(when.get("month")), int(when.get("day")))
        if day > date(2024, 1, 17):  # born after the list's date: kept raw, nulls, audited
            assert row["year_from"] is None
            assert any(a["rule"] == "birth_date_implausible" for a in audit)
        else:
            assert row["birth_date"] == day


# --- OpenSanctions -------------------------------------------------------------------------------

def test_opensanctions_ftm_and_simple_csv(tmp_path: Path):
    import json

    path = SAMPLES / "opensanctions" / "eu_fsf_excerpt_2024.entities.ftm.json"
    expected = {(e["id"], v) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
                for e in [json.loads(line)] for v in e.get("properties", {}).get("birthDate", [])}
    rows, _audit = staged(tmp_path / "ftm", "opensanctions", "opensanctions/eu_fsf_excerpt_2024.entities.ftm.json")
    check_shape(rows)
    assert {(r["source_record_id"], r["raw_value"]) for r in rows} == expected and len(expected) == 3

    name = "ua_war_sanctions_2026-03-13_subset.targets.simple.csv"
    with open(SAMPLES / "opensanctions" / name, encoding="utf-8", newline="") as handle:
        cells = [(row["id"], v) for row in csv.DictReader(handle) for v in row["birth_date"].split(";") if v.strip()]
    rows, _audit = staged(tmp_path / "csv", "opensanctions", f"opensanctions/{name}")
    check_shape(rows)
    assert sorted((r["source_record_id"], r["raw_value"]) for r in rows) == sorted(cells) and len(cells) == 135
    assert all(r["birth_date"] is not None for r in rows)


# --- EU (no real file: generated XML and CSV must agree) -----------------------------------------

EU_ENTITIES = [
    {"logicalId": 9001, "euReferenceNumber": "EU.1.1", "designationDate": "2022-02-25",
     "regulation": {"programme": "RUS", "entryIntoForceDate": "2022-02-25"},
     "nameAlias": [{"wholeName": "Ivan Exact", "strong": "true"}],
     "birthdate": [{"birthdate": "1952-10-07", "dayOfMonth": 7, "monthOfYear": 10, "year": 1952,
                    "countryIso2Code": "RU"},
                   {"year": 1953, "circa": "true", "countryIso2Code": "RU"}]},
    {"logicalId": 9002, "euReferenceNumber": "EU.1.2", "designationDate": "2022-02-25",
     "regulation": {"programme": "RUS", "entryIntoForceDate": "2022-02-25"},
     "nameAlias": [{"wholeName": "Petr Ranged", "strong": "true"}],
     "birthdate": [{"yearRangeFrom": 1960, "yearRangeTo": 1965, "countryIso2Code": "RU"},
                   {"year": 1970, "monthOfYear": 5, "countryIso2Code": "RU"},
                   {"city": "Minsk", "countryIso2Code": "BY"}]},  # a place of birth, no date: no row
]


def test_eu_birthdate_attributes(tmp_path: Path):
    from pipeline.sources.eu_fsf.writer import write_csv, write_xml

    generated = datetime(2024, 5, 1, 12, 0)
    xml = write_xml(EU_ENTITIES, tmp_path / "in" / "eu.xml", generated)
    csv_file = write_csv(EU_ENTITIES, tmp_path / "in" / "eu.csv", generated)
    found = {}
    for path in (xml, csv_file):
        out = tmp_path / path.suffix
        parse_files("eu_fsf", [path], out)
        rows = [row for part in out.glob("birth_dates/**/*.parquet") for row in pq.read_table(part).to_pylist()]
        check_shape(rows)
        found[path.suffix] = sorted(((r["source_record_id"], r["birth_date"], r["year_from"], r["year_to"],
                                      r["month"], r["approximate"]) for r in rows), key=str)
    assert found[".xml"] == found[".csv"] == sorted([
        ("9001", date(1952, 10, 7), 1952, 1952, 10, False),
        ("9001", None, 1953 - CIRCA_YEARS, 1953 + CIRCA_YEARS, None, True),
        ("9002", None, 1960, 1965, None, False),
        ("9002", None, 1970, 1970, 5, False),
    ], key=str)


# --- the staged suite ----------------------------------------------------------------------------

def test_the_staged_suite_passes_good_rows_and_fails_bad_ones():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import pyarrow as pa

    from expectations.staged import staged_suites
    from pipeline.staged import SCHEMAS
    from pipeline.validation import validate_frame

    def frame(rows: list[dict]):
        full = [{"entity_key": "un_sc:1", "source_record_id": "1", "birth_date": None, "year_from": None,
                 "year_to": None, "month": None, "day": None, "raw_value": "x", "approximate": None,
                 "raw_sha256": "ab" * 32, "raw_file": "consolidated.xml", **row} for row in rows]
        df = pa.Table.from_pylist(full, schema=SCHEMAS["birth_dates"]).to_pandas()
        df["source"], df["snapshot_date"] = "un_sc", date(2024, 5, 1)
        return df

    suite = staged_suites(1, 100, None, snapshot_date=date(2024, 5, 1))["birth_dates"]
    good = frame([{"birth_date": date(1970, 2, 12), "year_from": 1970, "year_to": 1970, "month": 2, "day": 12,
                   "raw_value": "12 Feb 1970", "approximate": False},
                  {"year_from": 1969, "year_to": 1971, "raw_value": "circa 1970", "approximate": True},
                  *[{"year_from": 1950 + i, "year_to": 1950 + i, "raw_value": str(1950 + i), "approximate": False}
                    for i in range(10)],
                  {"raw_value": "30-35 years old"}])
    report = validate_frame(suite, good)
    assert report.success and not report.warnings, report.failed_critical
    bad = frame([{"year_from": 1972, "year_to": 1970, "month": 13, "day": 0, "raw_value": "x", "approximate": False},
                 {"year_from": 2030, "year_to": 2030, "raw_value": "2030", "approximate": False}])
    report = validate_frame(suite, bad)
    failed = " ".join(report.failed_critical)
    assert not report.success
    for needle in ("year_from <= year_to", "month is between 1 and 12", "day is between 1 and 31",
                   "no birth after the snapshot"):
        assert needle in failed, failed
