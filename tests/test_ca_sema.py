"""Canada's Consolidated Autonomous Sanctions List (``ca_sema``): both real samples parsed and
recounted from the raw XML with lxml (not the parser), the record ids followed from the 2020 file
to the 2025 one, the free-text dates, the programme table, the demo file, and hostile files
refused with named errors."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest
from lxml import etree

from pipeline.errors import SourceError
from pipeline.parse import parse_files
from pipeline.reference import PROGRAM_COLUMNS
from pipeline.sources import load_meta
from pipeline.sources.ca_sema import demo
from pipeline.sources.ca_sema.aliases import is_original_script, split_aliases
from pipeline.sources.ca_sema.dates import parse_free_date
from pipeline.sources.ca_sema.identity import RecordIds, identity, name_key
from tests.conftest import DEMO, REPO
from tests.staged_views import Staged

SOURCE = "ca_sema"
FOLDER = REPO / "pipeline" / "sources" / SOURCE
SNAPSHOT_2020 = date(2020, 4, 30)
SNAPSHOT_2025 = date(2025, 5, 1)


# --- helpers ------------------------------------------------------------------------------------


def _records(path: Path) -> list[etree._Element]:
    """The raw records, read with lxml (the independent recount)."""
    root = etree.parse(str(path)).getroot()
    assert root.tag == "data-set"
    return [r for r in root if r.tag == "record"]


def _value(record: etree._Element, *tags: str) -> str | None:
    for tag in tags:
        found = record.find(tag)
        if found is not None and found.text and found.text.strip():
            return " ".join(found.text.split())
    return None


def _raw_kind(record: etree._Element) -> str:
    if _value(record, "LastName", "GivenName"):
        return "person"
    return "vessel" if _value(record, "ShipIMONumber") else "organization"


# The regime labels of the samples, as an analyst reads them (independent of lookups/regimes.csv).
LABEL_PROGRAM = {
    "Belarus / Bélarus": "BELARUS", "Burma / Birmanie": "BURMA", "Myanmar (Burma) / Myanmar (Birmanie)": "BURMA",
    "China / Chine": "CHINA", "Extremist Settler Violence / Violence extrémiste des colons": "SETTLER-VIOLENCE",
    "Guatemala": "GUATEMALA", "Haiti / Haïti": "HAITI",
    "Hamas Terrorist Attacks / Attaques terroristes du Hamas": "HAMAS",
    "Iran": "IRAN", "Moldova": "MOLDOVA", "Nicaragua": "NICARAGUA", "Russia / Russie": "RUSSIA",
    "South Sudan / Soudan du sud": "SOUTH-SUDAN", "Sri Lanka": "SRI-LANKA", "Sudan / Soudan": "SUDAN",
    "Syria / Syrie": "SYRIA", "Ukraine": "UKRAINE", "Venezuela": "VENEZUELA", "Zimbabwe": "ZIMBABWE",
}


def _program_of(label: str) -> str:
    return "JVCFOR" if label.startswith("Justice for Victims of Corrupt Foreign Officials") else LABEL_PROGRAM[label]


@pytest.fixture(scope="module")
def file_2025(samples: Path) -> Path:
    return samples / "ca" / "sema-lmes_2025-05.xml"


@pytest.fixture(scope="module")
def file_2020(samples: Path) -> Path:
    return samples / "ca" / "sema-lmes_2020-04.xml"


@pytest.fixture(scope="module")
def staged_2025(file_2025: Path, tmp_path_factory) -> Staged:
    out = tmp_path_factory.mktemp("ca2025")
    result = parse_files(SOURCE, [file_2025], out, snapshot_date=SNAPSHOT_2025)
    assert result.snapshot_date == SNAPSHOT_2025  # the file carries no date of its own
    assert result.unmapped_countries == {}
    return Staged(out)


@pytest.fixture(scope="module")
def staged_2020(file_2020: Path, tmp_path_factory) -> Staged:
    out = tmp_path_factory.mktemp("ca2020")
    parse_files(SOURCE, [file_2020], out, snapshot_date=SNAPSHOT_2020)
    return Staged(out)


# --- the 2025 file (current layout) -----------------------------------------------------------


def test_2025_counts_match_the_raw_file(file_2025: Path, staged_2025: Staged):
    raw = _records(file_2025)
    kinds = Counter(_raw_kind(r) for r in raw)
    assert len(raw) == 4759 and kinds == {"person": 3334, "organization": 1316, "vessel": 109}
    assert staged_2025.one("select count(*) from designations") == len(raw)
    assert dict(staged_2025.rows("select entity_type, count(*) from designations group by 1")) == kinds
    assert staged_2025.one("select count(distinct designation_id) from designations") == len(raw)
    assert staged_2025.rows("select distinct authority, source from designations") == [("ca", SOURCE)]
    # one programme per record, counted per regime label of the raw file
    programs = Counter(_program_of(_value(r, "Country")) for r in raw)
    assert dict(staged_2025.rows("select programs[1], count(*) from designations "
                                 "where len(programs) = 1 group by 1")) == programs
    assert programs["RUSSIA"] == 2426 and programs["IRAN"] == 460 and programs["JVCFOR"] == 80
    assert dict(staged_2025.rows("select list, count(*) from designations group by 1")) == {
        "SEMA": len(raw) - programs["JVCFOR"], "JVCFOA": programs["JVCFOR"]}
    # the official key is kept, unique in the file
    keys = {f"{_value(r, 'Country')}|{_value(r, 'Schedule') or ''}|{_value(r, 'Item')}" for r in raw}
    assert len(keys) == len(raw)
    assert {k for (k,) in staged_2025.rows("select reference_number from designations")} == keys


def test_2025_country_is_the_regime_never_a_country_link(staged_2025: Staged):
    # Country is the regime: no nationality (or any other) country link is written
    assert staged_2025.one("select count(*) from country_links") == 0
    assert staged_2025.one("select count(*) from parse_audit where rule like '%country%'") == 0


def test_2025_listing_dates(file_2025: Path, staged_2025: Staged):
    raw = [_value(r, "DateOfListing") for r in _records(file_2025)]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v or "") for v in raw)
    assert staged_2025.one("select count(*) from designations where listed_on is null") == 0
    assert staged_2025.rows("select min(listed_on), max(listed_on) from designations") == [
        (date.fromisoformat(min(raw)), date.fromisoformat(max(raw)))]
    by_month = Counter(v[:7] for v in raw)
    assert dict(staged_2025.rows("select strftime(listed_on, '%Y-%m'), count(*) from designations group by 1")) == \
        by_month
    assert by_month["2022-02"] == 429  # the invasion listings (425 under the Russia regulations)


def test_2025_names_and_identifiers(file_2025: Path, staged_2025: Staged):
    raw = _records(file_2025)
    assert staged_2025.one("select count(*) from names where name_type = 'primary'") == len(raw)
    imos = sorted(_value(r, "ShipIMONumber") for r in raw if _value(r, "ShipIMONumber"))
    assert [v for (v,) in staged_2025.rows("select id_value from identifiers where id_type = 'imo' order by 1")] == imos
    # a vessel's date is its build year, a person's its date of birth; organizations have none
    builds = sum(1 for r in raw if _raw_kind(r) == "vessel" and _value(r, "DateOfBirthOrShipBuildDate"))
    assert staged_2025.one("select count(*) from identifiers where id_type = 'build_date'") == builds == 109
    births = [_value(r, "DateOfBirthOrShipBuildDate") for r in raw if _raw_kind(r) == "person"]
    births = [b for b in births if b]
    simple = [b for b in births if re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", b)]
    assert len(births) == 1716 and len(simple) == 1710
    # every plain ISO date, year-month or year is staged as written
    staged = Counter(v for (v,) in staged_2025.rows("select id_value from identifiers where id_type = 'birth_date'"))
    assert all(staged[b] >= n for b, n in Counter(simple).items())
    # the six free-text dates: five read (a year interval, a month, three with two alternatives each),
    # one kept raw in the audit
    assert staged_2025.one("select count(*) from identifiers where id_type = 'birth_date'") == 1710 + 1 + 1 + 3 * 2
    vessel = staged_2025.rows("select d.primary_name, d.remarks, i.id_value from designations d join identifiers i "
                              "using (source_record_id) where i.id_type = 'build_date' and i.entity_key = d.entity_key "
                              "and d.source_record_id = 'RUSSIA/imo-7612448'")
    assert vessel == [("Balitiyskiy III", "Vessel type: General Cargo / Multi Purpose", "1980")]


@pytest.mark.parametrize("primary_name,expected", [
    ("Habib Shahsavari", ["1963/1964"]),                       # 1963-1964
    ("Siamak Rahpeik", ["1963", "1964"]),                      # 1963 or 1964
    ("Mansour Othman ABAHUSSAIN", ["1972-08-10", "1972-08-11"]),
    ("Douglas Arnoldo RICO GONZALEZ", ["1965-07-15", "1969-09-28"]),  # ... OR ...
    ("Kirill Alekseevich MORDASHOV", ["1999-09"]),             # Sep-99, listed 2023
    ("Quanguo Chen", ["1955-11"]),
    ("Abdelrahim Hamdan Dagalo", []),                          # born in the early 1970s
])
def test_2025_free_text_dates(staged_2025: Staged, primary_name: str, expected: list[str]):
    values = staged_2025.rows("select i.id_value from designations d left join identifiers i on "
                              "i.source_record_id = d.source_record_id and i.id_type = 'birth_date' "
                              f"where d.primary_name = '{primary_name}' order by 1")
    assert [v for (v,) in values if v is not None] == expected


def test_2025_unreadable_date_is_kept_raw_in_the_audit(staged_2025: Staged):
    assert staged_2025.rows("select rule, field, value, example_record, occurrences from parse_audit") == [
        ("unparsed_date", "DateOfBirthOrShipBuildDate", "born in the early 1970s",
         "record 3704 (Sudan / Soudan|Part 1|1)", 1)]


def test_2025_aliases(staged_2025: Staged):
    names = staged_2025.rows("select name, name_type from names where source_record_id = 'RUSSIA/sberbank' "
                             "and name_type <> 'primary' order by name")
    assert names == [("Sber", "aka"), ("Sberbank of Russia", "aka"), ("Сбер", "original_script"),
                     ("Сбербанк", "original_script")]
    # language labels separate aliases and are not names
    assert staged_2025.one("select count(*) from names where name ilike '%russian:%' or name ilike '%arabic:%' "
                           "or name ilike '%belarus%:%'") == 0


def test_2025_record_ids_are_unique_and_readable(staged_2025: Staged):
    assert staged_2025.rows("select source_record_id, reference_number from designations "
                            "where source_record_id like '%/%/%'") == [
        ("RUSSIA/meniailo-sergei-ivanovich/1-part-1-1-item-6", "Russia / Russie|1, Part 1.1|6")]
    assert staged_2025.one("select designation_id from designations where primary_name = 'Vladimir Vladimirovich PUTIN'"
                           ) == "ca_sema:SEMA:RUSSIA/putin-vladimir-vladimirovich"
    # one target under two regimes shares its entity key (Maduro: Venezuela and JVCFOR)
    assert staged_2025.rows("select list(programs[1] order by programs[1]) from designations "
                            "where entity_key = 'ca_sema:maduro-moros-nicolas'") == [(["JVCFOR", "VENEZUELA"],)]


# --- the 2020 file (older layout) and the record ids across snapshots ---------------------------


def test_2020_counts_match_the_raw_file(file_2020: Path, staged_2020: Staged):
    raw = _records(file_2020)
    kinds = Counter(_raw_kind(r) for r in raw)
    assert len(raw) == 1369 and kinds == {"person": 985, "organization": 384}
    assert dict(staged_2020.rows("select entity_type, count(*) from designations group by 1")) == kinds
    programs = Counter(_program_of(_value(r, "Country")) for r in raw)
    assert dict(staged_2020.rows("select programs[1], count(*) from designations group by 1")) == programs
    assert programs["BURMA"] == 89 and programs["RUSSIA"] == 197
    # no listing date in this layout: listed_on stays null (history comes from the snapshots)
    assert staged_2020.one("select count(*) from designations where listed_on is not null") == 0
    dobs = [_value(r, "DateOfBirth") for r in raw if _value(r, "DateOfBirth")]
    assert len(dobs) == 212
    assert staged_2020.one("select count(*) from identifiers where id_type = 'birth_date'") == len(dobs) + 1  # one "or"
    assert staged_2020.one("select count(*) from country_links") == 0
    assert staged_2020.one("select count(*) from parse_audit") == 0
    assert staged_2020.one("select count(*) from designations where remarks like 'Title: %'") == \
        sum(1 for r in raw if _value(r, "Title"))


def test_record_ids_follow_the_record_across_snapshots(file_2020: Path, staged_2020: Staged,
                                                       staged_2025: Staged, tmp_path: Path):
    """The figure for the issue: how many 2020 records are found again in 2025 under another key."""
    con = duckdb.connect()
    old = staged_2020.rows("select designation_id, reference_number, programs[1] from designations")
    new = dict(staged_2025.rows("select designation_id, reference_number from designations"))
    con.execute("create table old (designation_id varchar, reference_number varchar, program varchar)")
    con.executemany("insert into old values (?, ?, ?)", old)
    found = [(k, ref, program) for k, ref, program in old if k in new]
    moved = [(k, ref) for k, ref, _ in found if new[k] != ref]
    assert len(found) == 1262 and len(moved) == 1150
    # every Burma record is found under its renamed regime label
    burma = [k for k, ref, program in found if program == "BURMA"]
    assert len(burma) == 89 and all(new[k].startswith("Myanmar (Burma) / Myanmar (Birmanie)|") for k in burma)
    # schedule renumbering: Iran|1|1 is Iran|1, Part 1|1 in 2025
    assert new[dict((ref, k) for k, ref, _ in old)["Iran|1|1"]] == "Iran|1, Part 1|1"
    # transliteration drift (Vasilievich -> Vasilyevich) and the dropped French half are followed
    assert any("zolotov-viktor-vasilievich" in k for k, _, _ in found)
    assert "ca_sema:SEMA:SYRIA/presidential-guard" in new
    # what is not found: the Zimbabwe delistings and seven renamed records
    lost = Counter(program for k, _, program in old if k not in new)
    assert lost == {"ZIMBABWE": 100, "RUSSIA": 6, "UKRAINE": 1}


# --- the parts on their own ---------------------------------------------------------------------


@pytest.mark.parametrize("raw,not_after,values", [
    ("1965-04-29", None, ("1965-04-29",)),
    (" 1965-04-29  ", None, ("1965-04-29",)),
    ("1955-11", None, ("1955-11",)),
    ("1972", None, ("1972",)),
    ("1963-1964", None, ("1963/1964",)),
    ("1963 or 1964", None, ("1963", "1964")),
    ("1965-07-15 OR 1969-09-28", None, ("1965-07-15", "1969-09-28")),
    ("Sep-99", 2023, ("1999-09",)),
    ("Sep-23", 2023, ("2023-09",)),
    ("Sep-99", None, ()),                     # a two-digit year needs the listing year
    ("September 1999", None, ("1999-09",)),
    ("12 Sept 1999", None, ("1999-09-12",)),
    ("février 1960", None, ("1960-02",)),
    ("2023-02-30", None, ()),                 # not a calendar date
    ("1964-1963", None, ()),
    ("1972-13", None, ()),
    ("born in the early 1970s", None, ()),
    ("1963 or about 1964", None, ()),         # every alternative must be read, or none is
    ("circa 1970", None, ()),
])
def test_free_dates(raw: str, not_after: int | None, values: tuple[str, ...]):
    parsed = parse_free_date(raw, not_after)
    assert parsed.values == values
    assert parsed.raw == " ".join(raw.split())
    assert (parsed.full_date() is not None) == (len(values) == 1 and len(values[0]) == 10)


def test_aliases_split():
    assert split_aliases("Mikalay Alyaksandravich Lukashenka, Kolya Lukashenko, Belarusian: Мікалай Лукашэнка; "
                         "Russian: Николай Лукашенко") == [
        "Mikalay Alyaksandravich Lukashenka", "Kolya Lukashenko", "Мікалай Лукашэнка", "Николай Лукашенко"]
    assert split_aliases("Dagalo Mousa Arabic:عبدالرحيم دقلو") == ["Dagalo Mousa", "عبدالرحيم دقلو"]
    assert split_aliases('ПЭМЗ "Молот", АО; Zadna\nInternational Investments') == [
        'ПЭМЗ "Молот", АО', "Zadna International Investments"]
    assert split_aliases("A, A; ") == ["A"]
    assert is_original_script("Сбербанк") and not is_original_script("Газпромбанк AO")


def test_identity_keys():
    assert name_key("LUKASHENKO, Aleksandr") == name_key("Lukashenko Aleksandr") == "lukashenko-aleksandr"
    assert name_key("Vasilyevich") == name_key("Vasilievich") == name_key("Vasiliyevich")
    assert identity(imo="7612448", person_name=None, entity_name="Balitiyskiy III") == "imo-7612448"
    assert identity(imo=None, person_name=None, entity_name="Presidential Guard/Garde présidentielle") == \
        "presidential-guard"
    assert identity(imo=None, person_name=None, entity_name="Maersk A/S") == "maersk-a-s"
    ids = RecordIds()
    assert ids.assign("RUSSIA", "ivanov-sergei", None, "1, Part 1", "9") == ("RUSSIA/ivanov-sergei", False)
    assert ids.assign("RUSSIA", "ivanov-sergei", "1953-01-31", "1, Part 1", "90") == \
        ("RUSSIA/ivanov-sergei/1953-01-31", False)
    assert ids.assign("RUSSIA", "ivanov-sergei", None, "1, Part 1", "91") == ("RUSSIA/ivanov-sergei/1-part-1-item-91",
                                                                             False)
    assert ids.assign("RUSSIA", "ivanov-sergei", None, "1, Part 1", "91")[1] is True


# --- programmes, metadata, demo ----------------------------------------------------------------


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_programs_csv_covers_every_regime():
    reference_header = ",".join(PROGRAM_COLUMNS)  # the header every source's programs.csv has
    assert (FOLDER / "programs.csv").read_text(encoding="utf-8").splitlines()[0] == reference_header
    rows = _csv(FOLDER / "programs.csv")
    programs = {r["program"]: r for r in rows}
    assert len(programs) == len(rows) and all(r["authority"] == "ca" for r in rows)
    assert set(programs) == {r["program"] for r in _csv(FOLDER / "lookups" / "regimes.csv")}
    isos = {r["iso2"] for r in _csv(REPO / "pipeline" / "reference" / "countries.csv")}
    for row in rows:
        assert row["kind"] in {"country", "thematic", "regional"} and row["description"], row
        assert (row["kind"] == "thematic") == (row["target_iso2"] == ""), row
        assert not row["target_iso2"] or row["target_iso2"] in isos, row
    assert {p: programs[p]["target_iso2"] for p in ("RUSSIA", "UKRAINE", "IRAN", "BURMA", "BELARUS")} == {
        "RUSSIA": "RU", "UKRAINE": "RU", "IRAN": "IR", "BURMA": "MM", "BELARUS": "BY"}
    assert {p for p, r in programs.items() if r["kind"] == "thematic"} == {"JVCFOR", "HAMAS", "SETTLER-VIOLENCE"}


def test_source_metadata():
    meta = load_meta(SOURCE)
    assert meta.authority == "ca" and meta.raw_kinds["xml"] == ("data-set",)
    assert meta.default and meta.demo_inputs == ("ca_sema/sema-lmes.xml",)
    assert meta.min_rows < 4759 < meta.max_rows and meta.min_rows >= 0.8 * 4759


def test_demo_file_is_built_from_the_facts(tmp_path: Path):
    written = demo.build(tmp_path)
    assert [p.name for p in written] == ["sema-lmes.xml"]
    assert written[0].read_bytes() == (DEMO / SOURCE / "sema-lmes.xml").read_bytes()


def test_demo_file_parses_and_russia_overtakes_iran(tmp_path: Path):
    raw = _records(DEMO / SOURCE / "sema-lmes.xml")
    result = parse_files(SOURCE, [DEMO / SOURCE / "sema-lmes.xml"], tmp_path, snapshot_date=date(2024, 6, 28))
    assert result.counts["designations"] == len(raw) == 43
    assert result.counts["designations"] >= load_meta(SOURCE).min_rows_demo
    staged = Staged(tmp_path)
    assert staged.one("select max(listed_on) from designations") <= date(2024, 6, 28)
    targets = {r["program"]: r["target_iso2"] for r in _csv(FOLDER / "programs.csv")}
    listings = staged.rows("select programs[1], listed_on from designations")
    by_target: dict[str, list[date]] = {}
    for program, listed in listings:
        by_target.setdefault(targets[program], []).append(listed)

    def count(iso2: str, on: date) -> int:
        return sum(1 for d in by_target[iso2] if d <= on)

    assert count("IR", date(2022, 2, 1)) > count("RU", date(2022, 2, 1))
    assert count("RU", date(2022, 3, 1)) > count("IR", date(2022, 3, 1))
    assert count("RU", date(2024, 6, 28)) > count("IR", date(2024, 6, 28))
    assert set(staged.rows("select entity_type from designations")) == {("person",), ("organization",)}
    assert staged.rows("select value from parse_audit where rule = 'unparsed_date'") == [("born in the early 1970s",)]


# --- hostile and broken files -------------------------------------------------------------------

GOOD_RECORD = ("<record><Country>Russia / Russie</Country><LastName>PUTIN</LastName><GivenName>Vladimir</GivenName>"
               "<Schedule>1, Part 1</Schedule><Item>503</Item><DateOfListing>2022-02-28</DateOfListing></record>")


def _file(tmp_path: Path, body: str, name: str = "sema-lmes.xml", prolog: str = "") -> Path:
    path = tmp_path / name
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<data-set>{body}</data-set>', encoding="utf-8")
    return path


def _refused(path: Path, tmp_path: Path, **kwargs) -> SourceError:
    with pytest.raises(SourceError) as err:
        parse_files(SOURCE, [path], tmp_path / "out", snapshot_date=SNAPSHOT_2025, **kwargs)
    assert err.value.source == SOURCE and err.value.file == path.name
    assert not (tmp_path / "out" / "designations").exists()  # nothing half-written
    return err.value


def test_entity_declarations_are_refused(tmp_path: Path):
    bomb = ('<!DOCTYPE data-set [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>')
    err = _refused(_file(tmp_path, GOOD_RECORD.replace("PUTIN", "&b;"), prolog=bomb), tmp_path)
    assert err.rule == "no DTD or entity declarations"


def test_truncated_file_names_the_last_record(tmp_path: Path):
    data = (DEMO / SOURCE / "sema-lmes.xml").read_bytes()
    bad = tmp_path / "sema-lmes.xml"
    bad.write_bytes(data[: len(data) // 2])
    err = _refused(bad, tmp_path)
    assert err.rule == "well-formed XML" and "last complete record was record" in str(err)


def test_html_page_is_refused(tmp_path: Path):
    bad = tmp_path / "sema-lmes.xml"
    bad.write_text("<!DOCTYPE html><html><body>Page not found / Page introuvable</body></html>")
    assert "HTML page" in str(_refused(bad, tmp_path))


def test_another_lists_file_is_refused(samples: Path, tmp_path: Path):
    with pytest.raises(SourceError) as err:
        parse_files(SOURCE, [samples / "un" / "consolidated_2026-02-27_subset.xml"], tmp_path / "out")
    assert err.value.rule == "expected root element" and "<data-set>" in str(err.value)


def test_mixed_layouts_are_refused(tmp_path: Path):
    legacy = "<record><Country>Iran</Country><Entity>Mahan Air</Entity><Schedule>1</Schedule><Item>1</Item></record>"
    err = _refused(_file(tmp_path, legacy + GOOD_RECORD), tmp_path)
    assert err.rule == "one layout per file" and "Entity" in str(err) and "DateOfListing" in str(err)
    # a current-layout element far down a file read as the older layout is refused by name
    people = "".join(f"<record><Country>Iran</Country><LastName>N{i}</LastName><GivenName>G</GivenName>"
                     f"<Schedule>1</Schedule><Item>{i}</Item></record>" for i in range(1, 800))
    err = _refused(_file(tmp_path, people + GOOD_RECORD), tmp_path)
    assert err.rule == "one layout per file" and err.record == "record 800"


@pytest.mark.parametrize("record,rule", [
    ("<record><LastName>X</LastName><Item>1</Item><DateOfListing>2022-01-01</DateOfListing></record>",
     "Country present"),
    ("<record><Country>Iran</Country><Item>1</Item><DateOfListing>2022-01-01</DateOfListing></record>", "has a name"),
])
def test_records_without_a_regime_or_a_name_are_refused(tmp_path: Path, record: str, rule: str):
    err = _refused(_file(tmp_path, GOOD_RECORD + record), tmp_path)
    assert err.rule == rule and err.record.startswith("record 2")


def test_repeated_key_is_refused_or_audited(tmp_path: Path):
    path = _file(tmp_path, GOOD_RECORD + GOOD_RECORD.replace("PUTIN", "PUTINA"))
    err = _refused(path, tmp_path)
    assert err.rule == "Country|Schedule|Item unique" and "record 1" in str(err)
    result = parse_files(SOURCE, [path], tmp_path / "lenient", snapshot_date=SNAPSHOT_2025, strict=False)
    assert result.counts["designations"] == 2 and result.audit == {"rule_violation:Country|Schedule|Item unique": 1}


def test_unknown_fields_and_regimes_are_audited_not_dropped(tmp_path: Path):
    body = ("<record><Country>Atlantis / Atlantide</Country><EntityOrShip>Poseidon Trading</EntityOrShip>"
            "<Nationality>Atlantean</Nationality><DateOfBirthOrShipBuildDate>1999</DateOfBirthOrShipBuildDate>"
            "<Item>1</Item><DateOfListing>2024-02</DateOfListing></record>")
    out = tmp_path / "out"
    result = parse_files(SOURCE, [_file(tmp_path, GOOD_RECORD + body)], out, snapshot_date=SNAPSHOT_2025)
    assert result.audit == {"unknown_value:Country": 1, "unknown_field:Nationality": 1,
                            "unplaced_value:DateOfBirthOrShipBuildDate": 1, "imprecise_date:DateOfListing": 1}
    staged = Staged(out)
    assert staged.rows("select programs, list, listed_on from designations where entity_type = 'organization'") == [
        (["Atlantis"], "SEMA", None)]


def test_wrong_imo_check_digit_is_audited(tmp_path: Path):
    vessel = ("<record><Country>Russia / Russie</Country><EntityOrShip>Bad Digit</EntityOrShip>"
              "<ShipIMONumber>7612449</ShipIMONumber><Schedule>1.1</Schedule><Item>1</Item>"
              "<DateOfListing>2025-02-21</DateOfListing></record>")
    result = parse_files(SOURCE, [_file(tmp_path, vessel)], tmp_path / "out", snapshot_date=SNAPSHOT_2025)
    assert result.audit == {"invalid_imo:ShipIMONumber": 1}
    assert Staged(tmp_path / "out").rows("select entity_type, source_record_id from designations") == [
        ("vessel", "RUSSIA/imo-7612449")]


def test_one_file_per_snapshot(tmp_path: Path):
    a, b = _file(tmp_path, GOOD_RECORD, "a.xml"), _file(tmp_path, GOOD_RECORD, "b.xml")
    with pytest.raises(SourceError) as err:
        parse_files(SOURCE, [a, b], tmp_path / "out", snapshot_date=SNAPSHOT_2025)
    assert err.value.rule == "one file per snapshot"


@pytest.mark.integration
def test_pipeline_parse_command(file_2025: Path, tmp_path: Path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "parse", SOURCE, str(file_2025), "--out", str(out),
                           "--snapshot-date", "2025-05-01"], capture_output=True, text=True, cwd=REPO,
                          env=dict(os.environ), timeout=300)
    assert done.returncode == 0, done.stderr
    assert re.search(r"designations\s+4759 rows", done.stdout)
    assert list((out / "designations").glob(f"source={SOURCE}/snapshot_date=2025-05-01/*.parquet"))
