"""Switzerland's sanctions list (``ch_seco``): the real sample (SECO's amendment example, 3 fictitious
targets), the demo file and generated files (several modifications per target, de-listed, re-listed
and amended targets, objects, places after the targets, history copies), each recounted from the raw
XML with lxml (not the parser); the programme table; hostile files refused with named errors."""

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
from pipeline.sources.ch_seco import demo
from pipeline.sources.ch_seco.history import Modification, read_history
from pipeline.sources.ch_seco.names import NamePart, whole_names
from tests.conftest import DEMO, REPO
from tests.staged_views import Staged

SOURCE = "ch_seco"
FOLDER = REPO / "pipeline" / "sources" / SOURCE
DEMO_FILE = DEMO / SOURCE / "consolidated-list.xml"
SNAPSHOT = date(2024, 6, 28)


# --- helpers ------------------------------------------------------------------------------------


class Raw:
    """The independent recount: the raw file read with lxml, the rules written out again here."""

    # The English program-keys of the files the tests read, as an analyst reads them.
    KEYS = {"PPDM": "PPDM", "Ukraine": "UKRAINE", "Iran": "IRAN", "Syria": "SYRIA", "North Korea": "DPRK",
            "Belarus": "BELARUS"}

    def __init__(self, path: Path) -> None:
        self.root = etree.parse(str(path)).getroot()
        assert self.root.tag == "swiss-sanctions-list"
        self.targets = self.root.findall("target")  # top level only: copies in modifications are history
        self.sets = {s.get("ssid"): self.KEYS.get(p.findtext("program-key[@lang='eng']"), "?")
                     for p in self.root.findall("sanctions-program") for s in p.findall("sanctions-set")}
        self.places = {p.get("ssid"): p.find("country").get("iso-code") for p in self.root.findall("place")}

    @staticmethod
    def body(target) -> etree._Element:
        return next(c for c in target if c.tag in ("individual", "entity", "object"))

    @staticmethod
    def listing_events(target) -> list[tuple[str | None, int, str]]:
        """(date, precedence, type) of the listed / de-listed modifications."""
        events = []
        for m in target.findall("modification"):
            kind = m.get("modification-type")
            if kind in ("listed", "de-listed"):
                when = m.get("effective-date") or m.get("publication-date") or m.get("enactment-date")
                events.append((when, 2 if kind == "listed" else 1, kind))
        return events

    def in_force(self, target) -> bool:
        events = self.listing_events(target)
        dated = sorted(e for e in events if e[0])
        last = dated[-1] if dated else (events[-1] if events else None)
        return last is None or last[2] == "listed"

    def listed_on(self, target) -> str | None:
        events = sorted(e for e in self.listing_events(target) if e[0] and e[2] == "listed")
        if not events:
            return None
        first = events[0][0]
        return next(m.get("effective-date") for m in target.findall("modification")
                    if m.get("modification-type") == "listed"
                    and first in (m.get("effective-date"), m.get("publication-date"), m.get("enactment-date")))

    def programs(self, target) -> list[str]:
        ids = [e.text for e in target.findall("sanctions-set-id")]
        return sorted({self.sets[i] for i in ids if i in self.sets})

    def kind(self, target) -> str:
        body = self.body(target)
        if body.tag == "object":
            return {"vessel": "vessel", "aircraft": "aircraft"}.get(body.get("object-type"), "other")
        return {"individual": "person", "entity": "organization"}[body.tag]

    def links(self, target) -> set[tuple[str, str]]:
        body, found = self.body(target), set()
        for identity in body.findall("identity"):
            found |= {("nationality", c.get("iso-code")) for c in identity.findall("nationality/country")}
            found |= {("address", self.places.get(a.get("place-id"))) for a in identity.findall("address")}
            found |= {("birth", self.places.get(b.get("place-id"))) for b in identity.findall("place-of-birth")}
        return found


def _ssid(target) -> str:
    return target.get("ssid")


@pytest.fixture(scope="module")
def sample(samples: Path) -> Path:
    return samples / "ch" / "seco_amendment_example_2024-01-17.xml"


@pytest.fixture(scope="module")
def staged_sample(sample: Path, tmp_path_factory) -> Staged:
    out = tmp_path_factory.mktemp("ch_sample")
    result = parse_files(SOURCE, [sample], out, strict=False)
    assert result.snapshot_date == date(2024, 1, 17)  # the list's own date
    assert result.unmapped_countries == {}
    return Staged(out)


@pytest.fixture(scope="module")
def staged_demo(tmp_path_factory) -> Staged:
    out = tmp_path_factory.mktemp("ch_demo")
    result = parse_files(SOURCE, [DEMO_FILE], out)
    assert result.snapshot_date == SNAPSHOT and result.unmapped_countries == {}
    return Staged(out)


# --- the real sample: SECO's amendment example ----------------------------------------------------


def test_sample_counts_match_the_raw_file(sample: Path, staged_sample: Staged):
    raw = Raw(sample)
    assert len(raw.targets) == 3 and len(raw.root.findall(".//target")) == 3
    assert Counter(raw.body(t).tag for t in raw.targets) == {"individual": 3}
    assert all(raw.in_force(t) for t in raw.targets)
    assert staged_sample.one("select count(*) from designations") == 3
    assert sorted(staged_sample.rows("select source_record_id, entity_type, primary_name, programs, authority, list "
                                     "from designations")) == sorted(
        (_ssid(t), raw.kind(t), raw.body(t).findtext("identity/name/name-part/value"), raw.programs(t), "ch", "SECO")
        for t in raw.targets)
    # the programme comes through the sanctions sets: Test A is in both sets of the one programme
    assert raw.programs(raw.targets[2]) == ["PPDM"] and len(raw.targets[2].findall("sanctions-set-id")) == 2
    assert staged_sample.one("select count(distinct entity_key) from designations") == 3


def test_sample_country_links_by_type(sample: Path, staged_sample: Staged):
    raw = Raw(sample)
    expected = Counter(link for t in raw.targets for link in raw.links(t))
    assert expected == {("nationality", "GB"): 1, ("nationality", "US"): 1, ("nationality", "CH"): 1}
    assert Counter(staged_sample.rows("select link_type, country_iso2 from country_links")) == expected
    assert staged_sample.rows("select distinct country_status from country_links") == [("mapped",)]


def test_sample_dates_names_and_audit(sample: Path, staged_sample: Staged):
    raw = Raw(sample)
    # no modification of the example carries a date: no listing date, audited once per target
    assert all(raw.listed_on(t) is None for t in raw.targets)
    assert staged_sample.one("select count(*) from designations where listed_on is not null") == 0
    births = {(_ssid(t), "{year}-{month:0>2}-{day:0>2}".format(**d.attrib)) for t in raw.targets
              for d in raw.body(t).findall("identity/day-month-year")}
    assert len(births) == 3
    # Test B's date of birth (2025-12-31) is after the list's date (2024-01-17): audited, not staged
    assert set(staged_sample.rows("select source_record_id, id_value from identifiers where id_type = 'birth_date'")) \
        == births - {("64398", "2025-12-31")}
    assert staged_sample.rows("select name, name_type, quality from names order by name") == [
        ("Test A", "primary", "strong"), ("Test B", "primary", "strong"), ("Test C", "primary", "strong")]
    assert sorted(staged_sample.rows("select rule, field, occurrences from parse_audit")) == [
        ("birth_date_implausible", "day-month-year", 1),  # its birth_dates row keeps the raw value, nulls
        ("implausible_date", "day-month-year (birth_date)", 1),
        ("no_effective_date", "modification@effective-date", 3),
        ("partial_input", "amendment", 1),  # a lenient parse stages it as a partial list
        ("rule_violation", "complete list", 1)]


def test_sample_is_an_amendment_and_a_strict_parse_refuses_it(sample: Path, tmp_path: Path):
    with pytest.raises(SourceError) as err:
        parse_files(SOURCE, [sample], tmp_path / "out")
    assert err.value.rule == "complete list" and 'list-type="amendment"' in str(err.value)
    assert not (tmp_path / "out" / "designations").exists()


@pytest.mark.integration
def test_pipeline_parse_command(sample: Path, tmp_path: Path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "parse", SOURCE, str(sample), "--out", str(out)],
                          capture_output=True, text=True, cwd=REPO, env=dict(os.environ), timeout=300)
    assert done.returncode == 0, done.stderr
    assert re.search(r"designations\s+3 rows", done.stdout)
    assert "rule 'complete list' failed" in done.stdout
    assert list((out / "designations").glob(f"source={SOURCE}/snapshot_date=2024-01-17/*.parquet"))


# --- the demo file --------------------------------------------------------------------------------


def test_demo_file_is_built_from_the_facts(tmp_path: Path):
    written = demo.build(tmp_path)
    assert [p.name for p in written] == [DEMO_FILE.name]
    assert written[0].read_bytes() == DEMO_FILE.read_bytes()


def test_demo_counts_match_the_raw_file(staged_demo: Staged):
    raw = Raw(DEMO_FILE)
    in_force = [t for t in raw.targets if raw.in_force(t)]
    assert len(raw.targets) == 48 and len(in_force) == 44
    assert staged_demo.one("select count(*) from designations") == len(in_force) >= load_meta(SOURCE).min_rows_demo
    assert dict(staged_demo.rows("select entity_type, count(*) from designations group by 1")) == \
        Counter(raw.kind(t) for t in in_force) == {"person": 33, "organization": 10, "vessel": 1}
    assert Counter(tuple(p) for (p,) in staged_demo.rows("select programs from designations")) == \
        Counter(tuple(raw.programs(t)) for t in in_force)
    assert {s: str(d) for s, d in staged_demo.rows("select source_record_id, listed_on from designations")} == \
        {_ssid(t): raw.listed_on(t) for t in in_force}
    links = Counter(link for t in in_force for link in raw.links(t))
    links[("flag", "KP")] += 1  # the vessel's "Flag:" text
    assert Counter(staged_demo.rows("select link_type, country_iso2 from country_links")) == links
    # the de-listed targets are not designations: one audit row each, naming the target
    delisted = sorted(_ssid(t) for t in raw.targets if not raw.in_force(t))
    assert delisted == ["70042", "70043", "70044", "70045"]
    assert sorted(staged_demo.rows("select example_record, value from parse_audit where rule = 'delisted'")) == [
        ("70042", "70042: de-listed 2016-01-17 (IRAN) Islamic Republic of Iran Shipping Lines"),
        ("70043", "70043: de-listed 2016-01-17 (IRAN) Bank Mellat"),
        ("70044", "70044: de-listed 2016-01-17 (IRAN) Bank Sepah"),
        ("70045", "70045: de-listed 2016-01-17 (IRAN) Atomic Energy Organisation of Iran")]
    assert staged_demo.one("select count(*) from parse_audit where rule <> 'delisted'") == 0


def test_demo_names_identifiers_relations(staged_demo: Staged):
    assert staged_demo.rows("select name, name_type from names where source_record_id = '70009' order by 2") == [
        ("Путин Владимир Владимирович", "original_script"), ("Putin Vladimir Vladimirovich", "primary")]
    # a title is a name part SECO does not write in the name
    assert staged_demo.one("select primary_name from designations where source_record_id = '70035'") == "Hosein Salimi"
    assert staged_demo.rows("select id_type, id_value from identifiers where source_record_id = '70048'") == [
        ("imo", "7937317")]
    assert staged_demo.rows("select source_record_id, related_entity_key, relation_type from relations order by 1") == [
        ("70026", "ch_seco:70009", "family_of"), ("70027", "ch_seco:70009", "family_of")]


def _programs() -> dict[str, str]:
    with open(FOLDER / "programs.csv", encoding="utf-8", newline="") as handle:
        return {r["program"]: r["target_iso2"] for r in csv.DictReader(handle)}


def test_demo_russia_overtakes_iran(staged_demo: Staged):
    targets = _programs()
    listings = staged_demo.rows("select programs[1], listed_on from designations")

    def count(iso2: str, on: date) -> int:
        return sum(1 for program, listed in listings if targets[program] == iso2 and listed <= on)

    assert count("IR", date(2022, 2, 27)) == 12 > count("RU", date(2022, 2, 27)) == 8
    assert count("RU", date(2022, 3, 1)) == 15 > count("IR", date(2022, 3, 1))
    assert count("RU", SNAPSHOT) == 29 and count("IR", SNAPSHOT) == 12
    # the tie: Iranians designated under the Ukraine ordinance (a person by nationality, an entity by address)
    assert staged_demo.rows("select d.source_record_id, c.link_type from designations d join country_links c "
                            "using (source_record_id) where d.programs = ['UKRAINE'] and c.country_iso2 = 'IR' "
                            "order by 1") == [("70028", "address"), ("70029", "nationality")]


def test_demo_passes_the_staged_suites(staged_demo: Staged, tmp_path: Path):
    from expectations.staged import staged_suites
    from pipeline.staged import SCHEMAS
    from pipeline.validation import validate_stage

    out = tmp_path / "out"
    parse_files(SOURCE, [DEMO_FILE], out)
    con = duckdb.connect()
    frames = {table: con.execute(f"select *, '{SOURCE}' as source, date '{SNAPSHOT}' as snapshot_date from "
                                 f"read_parquet('{out}/{table}/**/*.parquet')").df() for table in SCHEMAS}
    meta = load_meta(SOURCE)
    reports = validate_stage("staged", frames, staged_suites(meta.min_rows_demo, meta.max_rows, None,
                                                             snapshot_date=SNAPSHOT))
    assert reports and not any(r.failed_critical for r in reports)


# --- generated files --------------------------------------------------------------------------------

PROGRAMS = """
<sanctions-program ssid="1" version-date="2024-06-01"><program-key lang="eng">Ukraine</program-key>
  <program-key lang="ger">Ukraine</program-key><program-name lang="eng">Ukraine ordinance</program-name>
  <sanctions-set ssid="101" lang="eng">annex 8</sanctions-set>
  <sanctions-set ssid="101" lang="ger">Anhang 8</sanctions-set>
  <origin>EU</origin></sanctions-program>
<sanctions-program ssid="2" version-date="2024-06-01"><program-key lang="eng">Iran</program-key>
  <sanctions-set ssid="201" lang="eng">annex 5</sanctions-set>
  <sanctions-set ssid="202" lang="eng">annex 7</sanctions-set>
  <origin>ONU, UE</origin></sanctions-program>
<sanctions-program ssid="3"><program-key lang="eng">North Korea</program-key>
  <sanctions-set ssid="301" lang="eng">Vessel-related measures</sanctions-set></sanctions-program>
"""
PLACES = """
<place ssid="9001"><location>Moscow</location><area>Moscow</area><country iso-code="RU">Russia</country></place>
<place ssid="9002"><location>Tehran</location><country iso-code="IR">Iran</country></place>
<place ssid="9003"><location>Lviv</location><location-variant lang="ukr" script="CYRL">Львів</location-variant>
  <country iso-code="UA">Ukraine</country></place>
"""
LISTED = '<modification modification-type="listed" effective-date="2022-02-28" publication-date="2022-02-28"/>'


def _target(ssid: str, *, sets: tuple[str, ...] = ("101",), kind: str = "individual", attrs: str = "",
            names: str | None = None, identity: str = "", body: str = "", mods: str = LISTED, extra: str = "") -> str:
    names = names if names is not None else (
        f'<name name-type="primary-name" quality="good"><name-part order="1" name-part-type="whole-name">'
        f"<value>Target {ssid}</value></name-part></name>")
    set_ids = "".join(f"<sanctions-set-id>{s}</sanctions-set-id>" for s in sets)
    return (f'<target ssid="{ssid}">{set_ids}{extra}<{kind}{attrs}><identity ssid="{ssid}0" main="true">{names}'
            f"{identity}</identity>{body}</{kind}>{mods}</target>")


def _list(*targets: str, list_type: str = "whole-list", list_date: str = "2024-06-28", places: str = PLACES,
          prolog: str = "") -> str:
    # the places come after the targets, as in public copies of the complete list
    return (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<swiss-sanctions-list list-type="{list_type}" '
            f'date="{list_date}">{PROGRAMS}{"".join(targets)}{places}</swiss-sanctions-list>')


def _write(tmp_path: Path, content: str, name: str = "consolidated-list.xml") -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def _mod(kind: str, effective: str | None = None, published: str | None = None, body: str = "") -> str:
    dates = "".join(f' {a}="{v}"' for a, v in (("effective-date", effective), ("publication-date", published)) if v)
    return f'<modification modification-type="{kind}"{dates}>{body}</modification>'


HISTORY = {
    # listed, amended twice: in force since the effective date (the publication came a day later)
    "1": _mod("listed", "2014-04-02", "2014-04-03") + _mod("amended", "2015-06-01") + _mod("amended", "2022-03-04"),
    # newest first: de-listed after its listing -> not in force
    "2": _mod("de-listed", "2016-01-17", "2016-01-16") + _mod("listed", "2012-01-23"),
    # listed, de-listed, re-listed, in no order: in force, listed since the first listing
    "3": _mod("listed", "2022-03-16") + _mod("listed", "2010-08-18") + _mod("de-listed", "2016-01-17"),
    # de-listed, then amended (a correction after the de-listing): still de-listed
    "4": _mod("amended", "2019-05-02") + _mod("de-listed", "2018-03-01") + _mod("listed", "2014-07-30"),
    # de-listed and listed the same day (moved between sanctions sets): in force
    "5": _mod("listed", "2014-04-02") + _mod("de-listed", "2020-12-11") + _mod("listed", "2020-12-11"),
    # no modification: on the list, in force, no listing date
    "6": "",
    # a listing with a publication date only: no listing date (the publication is not the listing)
    "7": _mod("listed", published="2022-03-01"),
    # an effective date before 1945: not believed
    "8": _mod("listed", "1900-01-01"),
    # undated listing events: taken in file order -> de-listed
    "9": _mod("listed") + _mod("de-listed"),
}


@pytest.fixture(scope="module")
def history_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ch_history")
    return _write(folder, _list(*(_target(ssid, mods=mods) for ssid, mods in HISTORY.items())))


def test_history_rules_match_the_raw_file(history_file: Path, tmp_path: Path):
    raw = Raw(history_file)
    result = parse_files(SOURCE, [history_file], tmp_path)
    staged = Staged(tmp_path)
    in_force = {_ssid(t) for t in raw.targets if raw.in_force(t)}
    assert in_force == {"1", "3", "5", "6", "7", "8"}
    assert {s for (s,) in staged.rows("select source_record_id from designations")} == in_force
    assert dict(staged.rows("select source_record_id, listed_on from designations")) == {
        "1": date(2014, 4, 2), "3": date(2010, 8, 18), "5": date(2014, 4, 2), "6": None, "7": None, "8": None}
    assert {s: str(d) for s, d in staged.rows("select source_record_id, listed_on from designations")
            if d is not None} == {_ssid(t): raw.listed_on(t) for t in raw.targets
                                  if raw.in_force(t) and _ssid(t) in ("1", "3", "5")}
    audit = {(rule, example): value for rule, example, value in staged.rows(
        "select rule, example_record, value from parse_audit")}
    assert audit == {
        ("delisted", "2"): "2: de-listed 2016-01-17 (UKRAINE) Target 2",
        ("delisted", "4"): "4: de-listed 2018-03-01 (UKRAINE) Target 4",
        ("delisted", "9"): "9: de-listed undated (UKRAINE) Target 9",
        ("relisted", "3"): "3: listed 2010-08-18, de-listed 2016-01-17, listed 2022-03-16",
        ("same_day_listing_events", "5"): "de-listed and listed on 2020-12-11: listed counts as the later",
        ("relisted", "5"): "5: listed 2014-04-02, de-listed 2020-12-11, listed 2020-12-11",
        ("no_listing_event", "6"): "no modification",
        ("no_effective_date", "7"): "first listing: listed 2022-03-01 (publication-date)",
        ("implausible_date", "8"): "1900-01-01",
        ("undated_modification", "9"): "listing events without dates, taken in file order: listed, de-listed",
    }
    assert result.counts["designations"] == 6


@pytest.mark.parametrize("events,in_force,listed_on", [
    ([("listed", "2022-02-28")], True, date(2022, 2, 28)),
    ([("de-listed", "2016-01-17"), ("listed", "2010-08-18")], False, date(2010, 8, 18)),
    ([("listed", "2010-08-18"), ("de-listed", "2016-01-17"), ("listed", "2022-03-16")], True, date(2010, 8, 18)),
    ([("amended", "2023-01-01"), ("de-listed", "2016-01-17"), ("listed", "2010-08-18")], False, date(2010, 8, 18)),
    ([("amended", "2023-01-01")], True, None),
    ([("listed", None), ("de-listed", "2016-01-17")], False, None),  # an undated event next to dated ones is set aside
    ([("de-listed", None), ("listed", "2016-01-17")], True, date(2016, 1, 17)),
    ([("suspended", "2020-01-01"), ("listed", "2010-01-01")], True, date(2010, 1, 1)),  # an unknown type is no event
])
def test_read_history(events, in_force, listed_on):
    mods = [Modification(kind, date.fromisoformat(d) if d else None, None, None, i)
            for i, (kind, d) in enumerate(events)]
    history = read_history(mods)
    assert (history.in_force, history.listed_on) == (in_force, listed_on)


OBJECTS = [
    _target("31", sets=("301",), kind="object", attrs=' object-type="vessel"',
            body='<other-information ssid="1">IMO Number: 8405270</other-information>'
                 '<other-information ssid="2">Flag: Democratic People\'s Republic of Korea.</other-information>'),
    _target("32", sets=("202",), kind="object", attrs=' object-type="aircraft"',
            body='<other-information>Aircraft, serial number 1234, Mahan Air.</other-information>'),
    # no object-type, an IMO number in its texts: a vessel
    _target("33", sets=("301",), kind="object", body="<other-information>IMO 9066978</other-information>"),
    # an object-type the table does not know, no IMO number: other
    _target("34", sets=("301",), kind="object", attrs=' object-type="train"'),
    # a shipping company's IMO company number does not make it a vessel
    _target("35", sets=("202",), kind="entity", body="<other-information>IMO number: 5357898</other-information>"),
    # a wrong check digit is staged and audited
    _target("36", sets=("301",), kind="object", attrs=' object-type="ship"',
            body="<other-information>IMO number: 8405271</other-information>"),
]


def test_objects_are_typed_from_the_record(tmp_path: Path):
    path = _write(tmp_path, _list(*OBJECTS))
    raw = Raw(path)
    result = parse_files(SOURCE, [path], tmp_path / "out")
    staged = Staged(tmp_path / "out")
    assert Counter(raw.body(t).get("object-type") for t in raw.targets if raw.body(t).tag == "object") == {
        "vessel": 1, "aircraft": 1, None: 1, "train": 1, "ship": 1}
    assert dict(staged.rows("select source_record_id, entity_type from designations")) == {
        "31": "vessel", "32": "aircraft", "33": "vessel", "34": "other", "35": "organization", "36": "vessel"}
    assert sorted(staged.rows("select source_record_id, id_value from identifiers where id_type = 'imo'")) == [
        ("31", "8405270"), ("33", "9066978"), ("36", "8405271")]
    assert staged.rows("select source_record_id, link_type, country_iso2 from country_links") == [("31", "flag", "KP")]
    assert result.audit == {"typed_as_vessel:object@object-type": 1, "unknown_value:object@object-type": 1,
                            "invalid_imo:other-information": 1}


def test_countries_names_identifiers_relations(tmp_path: Path):
    person = (
        '<target ssid="41"><sanctions-set-id>101</sanctions-set-id>'
        '<foreign-identifier>BYi.001</foreign-identifier><foreign-identifier>140</foreign-identifier>'
        '<generic-attribute name="old reference">EU.123</generic-attribute>'
        '<individual sex="male"><identity ssid="410" main="true">'
        '<name name-type="primary-name" quality="good" lang="eng">'
        '<name-part order="1" name-part-type="family-name"><value>Lukashenka</value>'
        '<spelling-variant lang="RUS" script="LATN">Lukashenko</spelling-variant>'
        '<spelling-variant lang="rus" script="CYRL">Лукашенко</spelling-variant></name-part>'
        '<name-part order="3" name-part-type="father-name"><value>Aliaksandravich</value>'
        '<spelling-variant lang="rus" script="CYRL">Александрович</spelling-variant></name-part>'
        '<name-part order="2" name-part-type="given-name"><value>Dzmitry</value></name-part>'
        '<name-part order="0" name-part-type="title"><value>Dr</value></name-part></name>'
        '<name name-type="formerly-known-as" quality="low"><name-part order="1" name-part-type="whole-name">'
        "<value>D. Lukashenka</value></name-part></name>"
        '<day-month-year day="23" month="3" year="1980" calendar="Gregorian"/>'
        '<nationality><country iso-code="BY">Belarus</country></nationality>'
        '<address place-id="9001"><address-details>ul. Tverskaya 1</address-details></address>'
        '<address place-id="9999"/>'
        '<place-of-birth place-id="9003"/>'
        '<identification-document document-type="passport"><number>MP1234567</number>'
        "<issuer>BY</issuer><date-of-issue>2015-01-01</date-of-issue></identification-document>"
        '<identification-document document-type="id-card"><number>3230480A001PB1</number>'
        '<place-of-issue place-id="9001"/></identification-document></identity>'
        # a second identity: its name is an alias, its nationality a link, its date of birth an identifier
        '<identity ssid="411" main="false"><name name-type="primary-name">'
        '<name-part order="1" name-part-type="whole-name"><value>Dmitri Lukashenko</value></name-part></name>'
        '<nationality><country iso-code="RU">Russia</country></nationality>'
        '<day-month-year year="1980" month="3"/></identity>'
        '<relation ssid="1" target-id="42" relation-type="family-member"><remark>son</remark></relation>'
        '<relation ssid="2" target-id="42" relation-type="cousin-of"/>'
        f"</individual>{LISTED}</target>")
    company = _target("42", sets=("101", "202", "999"), kind="entity",
                      identity='<address place-id="9002"/><day-month-year year="1999"/>')
    path = _write(tmp_path, _list(person, company))
    raw = Raw(path)
    result = parse_files(SOURCE, [path], tmp_path / "out")
    staged = Staged(tmp_path / "out")
    assert staged.rows("select name, name_type, quality from names where source_record_id = '41' order by name") == [
        ("D. Lukashenka", "fka", "weak"),
        ("Dmitri Lukashenko", "aka", None),
        ("Lukashenka Dzmitry Aliaksandravich", "primary", "strong"),
        ("Lukashenko Dzmitry Aliaksandravich", "aka", "strong"),
        ("Лукашенко Dzmitry Александрович", "original_script", "strong")]
    # the second identity's nationality counts too; the unknown place is audited, not guessed
    expected = {("nationality", "BY"), ("nationality", "RU"), ("address", "RU"), ("birth", "UA")}
    assert set(staged.rows("select link_type, country_iso2 from country_links where source_record_id = '41'")) == \
        expected == {link for link in raw.links(raw.targets[0]) if link[1] is not None}
    ids = staged.rows("select id_type, id_value, country_iso2 from identifiers where source_record_id = '41'")
    assert sorted(ids) == [("birth_date", "1980-03", None), ("birth_date", "1980-03-23", None),
            ("foreign_reference", "140", None), ("national_id", "3230480A001PB1", "RU"),
            ("passport", "MP1234567", "BY"), ("un_reference", "BYi.001", None)]
    assert staged.rows("select related_entity_key, relation_type, raw_relation from relations order by 2") == [
        ("ch_seco:42", "family_of", "family-member: son"), ("ch_seco:42", "other", "cousin-of")]
    assert staged.rows("select programs from designations where source_record_id = '42'") == [(["IRAN", "UKRAINE"],)]
    assert staged.rows("select id_type, id_value from identifiers where source_record_id = '42'") == [
        ("registration_date", "1999")]
    assert result.audit == {"unknown_value:address@place-id": 1, "unknown_value:relation@relation-type": 1,
                            "unplaced_value:generic-attribute[old reference]": 1,
                            "unknown_value:target/sanctions-set-id": 1}


def test_unknown_elements_and_history_copies(tmp_path: Path):
    copy = ('<target ssid="51"><individual><identity><name name-type="primary-name"><name-part order="1" '
            'name-part-type="whole-name"><value>Old Name</value></name-part></name></identity></individual></target>')
    target = _target("51", attrs=' hair="brown"', extra="<shoe-size>44</shoe-size>",
                     mods=LISTED + _mod("amended", "2023-01-01",
                                        body=f"<removed>{copy}</removed><added>{copy}</added>"))
    content = _list(target).replace("</swiss-sanctions-list>", "<footer>x</footer></swiss-sanctions-list>")
    path = _write(tmp_path, content.replace('list-type="whole-list"', 'list-type="whole-list" version="2"'))
    raw = Raw(path)
    assert len(raw.targets) == 1 and len(raw.root.findall(".//target")) == 3
    result = parse_files(SOURCE, [path], tmp_path / "out")
    staged = Staged(tmp_path / "out")
    assert result.counts["designations"] == 1
    assert staged.rows("select name from names") == [("Target 51",)]  # the copies are history, not names
    assert result.audit == {"unknown_attribute:individual@hair": 1, "unknown_field:target/shoe-size": 1,
                            "unknown_field:swiss-sanctions-list/footer": 1,
                            "unknown_attribute:swiss-sanctions-list@version": 1}


def test_unknown_programme_key_keeps_its_own_code(tmp_path: Path):
    content = _list(_target("61", sets=("401",))).replace(
        "</origin></sanctions-program>",
        '</origin></sanctions-program><sanctions-program ssid="4"><program-key lang="eng">Atlantis (new)</program-key>'
        '<sanctions-set ssid="401" lang="eng">annex 1</sanctions-set></sanctions-program>', 1)
    result = parse_files(SOURCE, [_write(tmp_path, content)], tmp_path / "out")
    assert Staged(tmp_path / "out").rows("select programs from designations") == [(["ATLANTIS-NEW"],)]
    assert result.audit == {"unknown_value:sanctions-program/program-key": 1}


def test_whole_names():
    parts = [NamePart(1, "family-name", "Putin", {("rus", "CYRL"): "Путин"}), NamePart(2, "title", "Mr", {}),
             NamePart(3, "given-name", "Vladimir", {("rus", "CYRL"): "Владимир"})]
    assert whole_names(parts) == ["Putin Vladimir", "Путин Владимир"]
    assert whole_names([NamePart(1, "whole-name", None, {})]) == []


# --- programmes, metadata -----------------------------------------------------------------------------


def test_programs_csv_covers_every_key():
    reference_header = ",".join(PROGRAM_COLUMNS)  # the header every source's programs.csv has
    assert (FOLDER / "programs.csv").read_text(encoding="utf-8").splitlines()[0] == reference_header
    with open(FOLDER / "programs.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(FOLDER / "lookups" / "program_keys.csv", encoding="utf-8", newline="") as handle:
        keys = list(csv.DictReader(handle))
    programs = {r["program"]: r for r in rows}
    assert len(programs) == len(rows) and {r["authority"] for r in rows} == {"ch"}
    assert set(programs) == {k["program"] for k in keys}
    with open(REPO / "pipeline" / "reference" / "countries.csv", encoding="utf-8", newline="") as handle:
        isos = {r["iso2"] for r in csv.DictReader(handle)}
    for row in rows:
        assert row["kind"] in {"country", "thematic", "regional"} and row["description"], row
        assert (row["kind"] == "thematic") == (row["target_iso2"] == ""), row
        assert not row["target_iso2"] or row["target_iso2"] in isos, row
    assert {p: programs[p]["target_iso2"] for p in ("UKRAINE", "IRAN", "SYRIA", "DPRK", "BELARUS")} == {
        "UKRAINE": "RU", "IRAN": "IR", "SYRIA": "SY", "DPRK": "KP", "BELARUS": "BY"}
    assert {p for p, r in programs.items() if r["kind"] == "thematic"} == {"HAMAS", "ISIL-AQ", "PPDM"}


#: Our programme -> OpenSanctions' SECO programme, and the deliberate differences in target.
OPENSANCTIONS_KEYS = {
    "BELARUS": "SECO-BRUS", "BURUNDI": "SECO-BURUNDI", "CAR": "SECO-CAR", "DPRK": "SECO-NORTHKOREA",
    "DRC": "SECO-DRC", "GUATEMALA": "SECO-GUATEMALA", "GUINEA": "SECO-GUINEA", "GUINEA-BISSAU": "SECO-BISSAU",
    "HAITI": "SECO-HAITI", "HAMAS": "SECO-HAMAS", "IRAN": "SECO-IRAN", "IRAQ": "SECO-IRAQ", "ISIL-AQ": "SECO-ISIL",
    "LIBYA": "SECO-LIBYA", "MALI": "SECO-MALI", "MOLDOVA": "SECO-MOLDOVA", "MYANMAR": "SECO-MYANMAR",
    "NICARAGUA": "SECO-NICARAGUA", "SOMALIA": "SECO-SOMALIA", "SOUTH-SUDAN": "SECO-SOUTHSUDAN",
    "SUDAN": "SECO-SUDAN", "SYRIA": "SECO-SYRIA", "TALIBAN": "SECO-TALIBAN", "UKRAINE": "SECO-UKRAINE",
    "VENEZUELA": "SECO-VEN", "YEMEN": "SECO-YEMEN", "ZIMBABWE": "SECO-ZIM",
}
DELIBERATE_DIFFERENCES = {"HAMAS": ("", "ps")}


def test_programs_agree_with_opensanctions(samples: Path):
    with open(samples / "opensanctions" / "programs_target_territories.csv", encoding="utf-8", newline="") as handle:
        theirs = {r["key"]: r["target_territories"] for r in csv.DictReader(handle)
                  if r["dataset"] == "ch_seco_sanctions"}
    ours = _programs()
    assert set(OPENSANCTIONS_KEYS) == set(ours) - {"LEBANON", "PPDM"}  # not in their metadata
    differences = {p: (ours[p].lower(), theirs[k]) for p, k in OPENSANCTIONS_KEYS.items()
                   if ours[p].lower() != theirs[k]}
    assert differences == DELIBERATE_DIFFERENCES


def test_source_metadata():
    meta = load_meta(SOURCE)
    assert meta.authority == "ch" and meta.list == "SECO" and meta.raw_kinds["xml"] == ("swiss-sanctions-list",)
    assert meta.default and meta.demo_inputs == ("ch_seco/consolidated-list.xml",)
    assert meta.min_rows < 5500 < meta.max_rows and meta.min_rows_demo <= 44


# --- hostile and broken files ---------------------------------------------------------------------------


def _refused(path: Path | list[Path], tmp_path: Path, **kwargs) -> SourceError:
    paths = path if isinstance(path, list) else [path]
    with pytest.raises(SourceError) as err:
        parse_files(SOURCE, paths, tmp_path / "out", **kwargs)
    assert err.value.source == SOURCE
    assert not (tmp_path / "out" / "designations").exists()  # nothing half-written
    return err.value


def test_entity_declarations_are_refused(tmp_path: Path):
    bomb = '<!DOCTYPE swiss-sanctions-list [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    err = _refused(_write(tmp_path, _list(_target("1").replace("Target 1", "&b;"), prolog=bomb)), tmp_path)
    assert err.rule == "no DTD or entity declarations" and err.file == "consolidated-list.xml"


def test_truncated_file_names_the_last_record(tmp_path: Path):
    data = DEMO_FILE.read_bytes()
    bad = tmp_path / "consolidated-list.xml"
    bad.write_bytes(data[: len(data) // 2])
    err = _refused(bad, tmp_path)
    assert err.rule == "well-formed XML" and re.search(r"last complete record was 700\d\d", str(err))


def test_html_page_is_refused(tmp_path: Path):
    bad = _write(tmp_path, "<!DOCTYPE html><html><body>Die Anwendung ist nicht verfügbar</body></html>")
    assert "HTML page" in str(_refused(bad, tmp_path))


def test_another_lists_file_is_refused(samples: Path, tmp_path: Path):
    err = _refused(samples / "un" / "consolidated_2026-02-27_subset.xml", tmp_path)
    assert err.rule == "expected root element" and "<swiss-sanctions-list>" in str(err)


@pytest.mark.parametrize("target,rule,record", [
    ('<target><individual/></target>', "target ssid present", None),
    ('<target ssid="7">' + LISTED + "</target>", "has an individual, entity or object", "7"),
    ('<target ssid="7"><individual><identity/></individual><entity/></target>', "one individual, entity or object",
     "7"),
    ('<target ssid="7"><individual><identity><name name-type="primary-name"><name-part order="1">'
     "<value> </value></name-part></name></identity></individual></target>", "has a name", "7"),
])
def test_broken_targets_are_refused(tmp_path: Path, target: str, rule: str, record: str | None):
    err = _refused(_write(tmp_path, _list(target)), tmp_path)
    assert err.rule == rule and err.record == record


def test_repeated_ssid_is_refused_or_audited(tmp_path: Path):
    path = _write(tmp_path, _list(_target("1"), _target("1")))
    assert _refused(path, tmp_path).rule == "unique target ssid"
    result = parse_files(SOURCE, [path], tmp_path / "lenient", strict=False)
    assert result.counts["designations"] == 1 and result.audit == {"rule_violation:unique target ssid": 1}


def test_list_date_and_files(tmp_path: Path):
    bad_date = _write(tmp_path, _list(_target("1"), list_date="28.06.2024"))
    assert _refused(bad_date, tmp_path).rule == "list date is a date"
    assert _refused(_write(tmp_path, _list()), tmp_path).rule == "has records"
    a, b = _write(tmp_path, _list(_target("1")), "a.xml"), _write(tmp_path, _list(_target("1")), "b.xml")
    assert _refused([a, b], tmp_path).rule == "one file per snapshot"
    # no list date: the snapshot date given to the parse, audited
    content = _list(_target("1")).replace(' date="2024-06-28"', "")
    result = parse_files(SOURCE, [_write(tmp_path, content)], tmp_path / "nodate", snapshot_date=SNAPSHOT)
    assert result.snapshot_date == SNAPSHOT and result.audit == {"no_value:swiss-sanctions-list@date": 1}
