"""Programme -> target country for every programme the parsers emit (issue 13, points 7 and 8).

* Every programme tag the project's parsers emit for every real sample and every demo file has a row in
  the programme table (pipeline/sources/*/programs.csv): a target country, or thematic/regional and why.
* The table against OpenSanctions' programme metadata: every difference is one the row documents.
* Regional programmes (the Western Balkans): a designation whose own links name none of the
  programme's countries counts under the region (XWB), never once per member; on the real 2024-05-03
  SDN sample Slovenia has none (72 before the rule), recounted from the raw file.
"""

from __future__ import annotations

import csv
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.models import build_database
from pipeline.parse import parse_files
from pipeline.reference import PROGRAM_COLUMNS, REFERENCE_DIR, CountryResolver, read_programs
from pipeline.reference.program_crosscheck import crosscheck, main, undocumented
from tests.model_fixtures import given, run

REPO = Path(__file__).resolve().parents[1]
SQL = REPO / "sql"
DEMO = REPO / "data" / "demo"
SANCTIONS_SOURCES = ("us_ofac_sdn", "us_ofac_cons", "un_sc", "eu_fsf", "gb_hmt", "ca_sema", "ch_seco", "opensanctions")
SAMPLE_FOLDERS = ("ofac", "un", "eu", "uk", "ca", "ch", "opensanctions")

#: (source, files of one snapshot, snapshot date for the layouts that carry none), paths relative to
#: the samples folder: every real sample of a sanctions list.
SAMPLE_SETS: list[tuple[str, list[str], date | None]] = [
    ("us_ofac_sdn", [f"ofac/sdn_csv_excerpt/{f}" for f in ("sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv")],
     date(2025, 5, 16)),
    ("us_ofac_sdn", [f"ofac/sdn_csv_2021-04-25_subset/{f}" for f in ("sdn.csv", "add.csv", "alt.csv")],
     date(2021, 4, 25)),
    ("us_ofac_sdn", ["ofac/sdn_csv_2024-05-03_head/sdn.csv"], date(2024, 5, 3)),
    ("us_ofac_sdn", ["ofac/sdn_classic_excerpt_2020-10-29.xml"], None),
    ("us_ofac_sdn", ["ofac/enhanced_xml_IRGC_filter_2024-08-28.xml"], None),
    ("us_ofac_cons", ["ofac/cons_advanced_2020-03-17_subset.xml"], None),
    ("us_ofac_cons", ["ofac/cons_classic_2024-05-06.xml"], None),
    ("us_ofac_cons", [f"ofac/cons_csv/{f}" for f in ("cons_prim.csv", "cons_add.csv", "cons_alt.csv",
                                                     "cons_comments.csv")], date(2025, 12, 19)),
    ("un_sc", ["un/consolidated_2020-03-20_full.xml"], None),
    ("un_sc", ["un/consolidated_2026-02-27_subset.xml"], None),
    ("gb_hmt", ["uk/ofsi_conlist_2025-04-10_subset.csv"], None),
    ("ca_sema", ["ca/sema-lmes_2020-04.xml"], None),
    ("ca_sema", ["ca/sema-lmes_2025-05.xml"], None),
    ("ch_seco", ["ch/seco_amendment_example_2024-01-17.xml"], None),
    ("opensanctions", ["opensanctions/eu_fsf_excerpt_2024.entities.ftm.json",
                       "opensanctions/sanctions_20240527194702-wnk.entities.delta.json"], None),
    ("opensanctions", ["opensanctions/ua_war_sanctions_2026-03-13_subset.targets.simple.csv"], None),
]
#: Sample files that are no list of designations, and why.
SAMPLE_SKIPPED = {
    "ofac/sdn_advanced.xsd": "a schema",
    "ofac/sdn_comments_watchman_pkg.csv": "a remarks overflow side file without its sdn.csv",
    "eu/fsd_export_schema_1_1.xsd": "a schema (no real EU file is in the samples: the demo files are)",
    "eu/FSF-CSV-attributes_csv-1.0_codebook.pdf": "a codebook",
    "opensanctions/issuers.csv": "OpenSanctions' issuer metadata",
    "opensanctions/programs_target_territories.csv": "OpenSanctions' programme metadata (cross-checked below)",
    "opensanctions/sanctions_delta_index_2024-05-28.json": "an index of delta URLs",
    "opensanctions/wd_persons_export_2024-03-10/entities.ftm.json": "a PEP dataset: no designation",
    "opensanctions/wd_persons_export_2024-03-10/targets.nested.json": "a PEP dataset: no designation",
    "opensanctions/wd_persons_export_2024-03-10/targets.simple.csv": "a PEP dataset: no designation",
    "opensanctions/wd_persons_export_2024-03-10/index.json": "export metadata",
    "opensanctions/wd_persons_export_2024-03-10/statistics.json": "export metadata",
}
#: Every demo file of a sanctions list (paths relative to data/demo), one snapshot per entry.
DEMO_SETS: list[tuple[str, list[str], date | None]] = [
    ("us_ofac_sdn", ["us_ofac_sdn/sdn_advanced.xml"], None),
    ("us_ofac_sdn", ["us_ofac_sdn/sdn.xml"], None),
    ("us_ofac_sdn", [f"us_ofac_sdn/csv/{f}" for f in ("sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv")],
     date(2024, 6, 28)),
    ("us_ofac_cons", ["us_ofac_cons/cons_advanced.xml"], None),
    ("un_sc", ["un_sc/consolidated.xml"], None),
    ("eu_fsf", ["eu_fsf/fsf_1_1.xml"], None),
    ("eu_fsf", ["eu_fsf/fsf_1_1.csv"], None),
    ("gb_hmt", ["gb_hmt/UK-Sanctions-List.xml"], None),
    ("gb_hmt", ["gb_hmt/csv/UK-Sanctions-List.csv"], None),
    ("gb_hmt", ["gb_hmt/history/ConList.csv"], None),
    ("ca_sema", ["ca_sema/sema-lmes.xml"], None),
    ("ch_seco", ["ch_seco/consolidated-list.xml"], None),
    ("opensanctions", ["opensanctions/entities.ftm.json"], None),
]
BALKANS = ("BALKANS", "BALKANS-EO14033")
WESTERN_BALKANS = {"AL", "BA", "HR", "ME", "MK", "RS", "SI", "XK"}


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != "README.md"}


def test_every_sample_and_demo_file_is_enumerated(samples: Path):
    """A new sample or demo file of a sanctions list cannot slip past the coverage test below."""
    listed = {f for _, files, _ in SAMPLE_SETS for f in files} | set(SAMPLE_SKIPPED)
    present = {f for folder in SAMPLE_FOLDERS for f in _files(samples) if f.startswith(f"{folder}/")}
    assert present == listed, (sorted(present - listed), sorted(listed - present))
    demo = {f for _, files, _ in DEMO_SETS for f in files}
    assert {f for f in _files(DEMO) if f.split("/")[0] in SANCTIONS_SOURCES} == demo


def _emitted(root: Path, sets: list[tuple[str, list[str], date | None]], out: Path) -> dict[tuple[str, str], set]:
    """(authority, programme tag) -> the files whose parse emits it, parsed by the project's parsers."""
    found: dict[tuple[str, str], set] = {}
    con = duckdb.connect()
    for i, (source, files, snapshot) in enumerate(sets):
        staged = out / str(i)
        parse_files(source, [root / f for f in files], staged, snapshot_date=snapshot, strict=False)
        rows = con.execute("select distinct authority, unnest(programs) from read_parquet(?)",
                           [str(staged / "designations" / "**" / "*.parquet")]).fetchall()
        for key in rows:
            found.setdefault(key, set()).add(files[0])
    con.close()
    return found


@pytest.fixture(scope="module")
def emitted(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], set]:
    out = tmp_path_factory.mktemp("programmes")
    found = _emitted(samples, SAMPLE_SETS, out / "samples")
    for key, files in _emitted(DEMO, DEMO_SETS, out / "demo").items():
        found.setdefault(key, set()).update(files)
    return found


def test_every_programme_the_parsers_emit_has_a_row(emitted: dict[tuple[str, str], set]):
    rows = read_programs()
    table = {(r["authority"], r["program"]) for r in rows}
    missing = {key: sorted(files) for key, files in emitted.items() if key not in table}
    assert not missing, f"programme tags without a row in any pipeline/sources/*/programs.csv: {missing}"
    # every authority's samples and demo files are in it, with their own programmes
    authorities = {a for a, _ in emitted}
    assert authorities == {"us_ofac", "un_sc", "eu", "gb", "ca", "ch", "opensanctions"}
    assert len(emitted) > 150
    kinds = {(r["authority"], r["program"]): r["kind"] for r in rows}
    assert {kinds[k] for k in emitted} == {"country", "thematic", "regional"}


def test_every_row_names_a_target_or_says_why_not():
    countries = {r["iso2"] for r in csv.DictReader((REFERENCE_DIR / "countries.csv").open(encoding="utf-8"))}
    with (REFERENCE_DIR / "program_regions.csv").open(encoding="utf-8", newline="") as handle:
        regions = {r["code"]: r for r in csv.DictReader(handle)}
    assert regions["XWB"]["name"] == "Western Balkans"
    programmes: dict[tuple[str, str], list[dict[str, str]]] = {}
    for r in read_programs():
        assert tuple(k for k in r if k != "defined_in") == PROGRAM_COLUMNS
        programmes.setdefault((r["authority"], r["program"]), []).append(r)
    for key, rows in programmes.items():
        kinds = {r["kind"] for r in rows}
        assert len(kinds) == 1 and all(r["description"].strip() for r in rows), key
        kind = kinds.pop()
        targets = {r["target_iso2"] for r in rows}
        if kind == "thematic":
            assert targets == {""} and len(rows) == 1, key
        else:
            assert targets <= countries and "" not in targets, key
        if kind == "regional":
            # a region code is no country code, names its region and lists exactly the programme's targets
            codes = {r["region"] for r in rows}
            assert len(codes) == 1, key
            code = codes.pop()
            assert code in regions and code not in countries, key
            assert set(regions[code]["members"].split(";")) == targets, key
            assert len(targets) > 1, key
    assert {k for k, rows in programmes.items() if rows[0]["kind"] == "regional"} >= {
        ("us_ofac", "BALKANS"), ("us_ofac", "BALKANS-EO14033")}


@pytest.fixture(scope="module")
def checks(samples: Path):
    return crosscheck(samples / "opensanctions" / "programs_target_territories.csv")


def test_every_difference_with_opensanctions_is_documented(checks):
    assert not undocumented(checks), "\n".join(
        f"{c.authority} {c.program}: ours {c.ours!r}, OpenSanctions {c.opensanctions_key} {c.theirs!r} ({c.verdict})"
        for c in undocumented(checks))
    by_key = {(c.authority, c.program): c for c in checks}
    assert len(by_key) == len({(r["authority"], r["program"]) for r in read_programs()})
    assert sum(c.verdict == "agree" for c in checks) > 400
    # OpenSanctions' own gaps, named in the rows: no target for Canada's SEMA regimes (one programme for
    # all), the Republic of the Congo for the UN's DRC regime
    russia = by_key["ca", "RUSSIA"]
    assert (russia.opensanctions_key, russia.ours, russia.theirs, russia.verdict) == ("CA-SEMA", "ru", "", "differs")
    drc = by_key["un_sc", "DRC"]
    assert (drc.opensanctions_key, drc.ours, drc.theirs) == ("UN-SC1533", "cd", "cg")
    assert by_key["us_ofac", "RUSSIA-EO14024"].verdict == "agree"
    assert by_key["eu", "RUS"].verdict == "agree" and by_key["gb", "Russia"].verdict == "agree"
    assert by_key["ch", "UKRAINE"].verdict == "agree"
    assert by_key["us_ofac", "BALKANS"].theirs == "al;ba;me;mk;rs;xk"  # csxx is no country


def test_an_undocumented_difference_is_caught(samples: Path, tmp_path: Path, capsys):
    """A target changed without a word in the description fails the cross-check (and its command line)."""
    metadata = samples / "opensanctions" / "programs_target_territories.csv"
    for path in sorted((REPO / "pipeline" / "sources").glob("*/programs.csv")):
        (tmp_path / path.parent.name).mkdir()
        shutil.copy(path, tmp_path / path.parent.name / "programs.csv")
    assert not undocumented(crosscheck(metadata, tmp_path))
    eu = tmp_path / "eu_fsf" / "programs.csv"
    eu.write_text(eu.read_text(encoding="utf-8").replace("eu,RUS,RU,", "eu,RUS,BY,"), encoding="utf-8")
    caught = undocumented(crosscheck(metadata, tmp_path))
    assert [(c.authority, c.program, c.ours, c.theirs) for c in caught] == [("eu", "RUS", "by", "ru")]
    assert main([str(metadata), "--differences"]) == 0  # the project's own table passes
    printed = capsys.readouterr()
    assert "un_sc,DRC,country,UN-SC1533,cd,cg,differs,yes" in printed.out and "0 without" in printed.err


# ------------------------------------------------------------------ regional programmes (point 8)
def _lake(records: list[tuple[str, list[str], list[tuple[str, str]]]]) -> dict[str, pd.DataFrame]:
    snap, source = date(2024, 6, 28), "us_ofac_sdn"
    designations, links = [], []
    for rid, programs, ties in records:
        common = {"entity_key": f"{source}:{rid}", "source_record_id": rid, "source": source, "snapshot_date": snap}
        designations.append({"designation_id": f"{source}:SDN:{rid}", "authority": "us_ofac", "list": "SDN",
                             "entity_type": "person", "primary_name": f"P{rid}", "programs": programs,
                             "listed_on": None, "raw_sha256": "0" * 64, "raw_file": "f.xml", **common})
        links.extend({"link_type": t, "country_iso2": iso2, "region": None, "country_status": "mapped",
                      "raw_value": iso2, "raw_sha256": "0" * 64, "raw_file": "f.xml", **common} for t, iso2 in ties)
    return {"designations": pd.DataFrame(designations),
            "country_links": pd.DataFrame(links).astype({"snapshot_date": "datetime64[s]"})}


def test_a_regional_designation_with_and_without_its_own_country_link(tmp_path: Path):
    """The real programme table: BALKANS lists eight countries. One designation born in Slovenia counts for
    Slovenia only; one with an address in Austria (no Balkan link) counts under XWB Western Balkans and for
    no country; a single-target programme keeps its target whatever the links say."""
    db = given(tmp_path, lake=_lake([
        ("1", ["BALKANS"], [("birth", "SI")]),
        ("2", ["BALKANS-EO14033"], [("address", "AT")]),
        ("3", ["BALKANS", "RUSSIA-EO14024"], [("nationality", "RS")]),
        ("4", ["RUSSIA-EO14024"], [("nationality", "DE")]),
    ]))
    run(db, "+int_snapshot_designation_countries", "+int_snapshot_designation_regions", "+int_designation_programs")
    con = duckdb.connect(str(db), read_only=True)
    try:
        targets = con.execute("""select source_record_id, list(country_iso2 order by country_iso2)
            from int_snapshot_designation_countries join stg_sanctions__designations using (designation_id)
            where basis = 'program_target' group by 1 order by 1""").fetchall()
        regions = con.execute("""select designation_id, region_code, region_name, basis
                                 from int_snapshot_designation_regions order by 1""").fetchall()
        attribution = con.execute("""select designation_id, program, any_value(attribution)
                                     from int_designation_programs group by all order by 1, 2""").fetchall()
    finally:
        con.close()
    assert targets == [("1", ["SI"]), ("3", ["RS", "RU"]), ("4", ["RU"])]
    assert regions == [("us_ofac_sdn:SDN:2", "XWB", "Western Balkans", "program_target")]
    assert attribution == [
        ("us_ofac_sdn:SDN:1", "BALKANS", "named_by_own_links"), ("us_ofac_sdn:SDN:2", "BALKANS-EO14033", "region"),
        ("us_ofac_sdn:SDN:3", "BALKANS", "named_by_own_links"),
        ("us_ofac_sdn:SDN:3", "RUSSIA-EO14024", "single_target"),
        ("us_ofac_sdn:SDN:4", "RUSSIA-EO14024", "single_target")]


def _recount_balkans(sdn_csv: Path) -> tuple[int, dict[str, int], int]:
    """From the raw sdn.csv, not the parsers: (Balkans designations, member -> designations whose own
    country values name it, designations that name none). Country values: the country of a place of
    birth (after its last comma), nationality, citizenship and a registration ID's country."""
    resolver = CountryResolver.load()
    total, named, unnamed = 0, dict.fromkeys(sorted(WESTERN_BALKANS), 0), 0
    with sdn_csv.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) < 12 or not {t.strip() for t in row[3].strip("[] ").split("] [")} & set(BALKANS):
                continue
            total += 1
            values = []
            for item in (i.strip().rstrip(".") for i in row[11].split(";")):
                if m := re.match(r"POB (.*)", item):
                    values.append(m.group(1).rsplit(",", 1)[-1])
                elif m := re.match(r"(?:nationality|citizen) (.*)", item):
                    values.append(m.group(1))
                elif m := re.match(r"Registration ID .*\(([^)]*)\)$", item):
                    values.append(m.group(1))
            members = {resolver.resolve(v.strip()).iso2 for v in values} & WESTERN_BALKANS
            for iso2 in members:
                named[iso2] += 1
            unnamed += not members
    return total, named, unnamed


@pytest.mark.integration
def test_slovenia_on_the_real_ofac_sample(samples: Path, tmp_path: Path):
    """The 2024-05-03 SDN sample: 167 Western Balkans designations; before the rule Slovenia got the 72 whose
    links name no Balkan country (once for each of the eight members). Now it gets those whose own links
    name it (none), the 72 count once under XWB."""
    sdn = samples / "ofac" / "sdn_csv_2024-05-03_head" / "sdn.csv"
    total, named, unnamed = _recount_balkans(sdn)
    assert (total, named["SI"], unnamed) == (167, 0, 72)
    parse_files("us_ofac_sdn", [sdn], tmp_path / "staged", snapshot_date=date(2024, 5, 3), strict=False)
    build_database(tmp_path / "staged", tmp_path / "db.duckdb", SQL, "v1.2.0")
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    try:
        by_country = dict(con.execute("""select country_iso2, count(*) from int_designation_countries
            where basis = 'program_target' and designation_id in
                (select designation_id from int_designation_programs where program in ('BALKANS', 'BALKANS-EO14033'))
            group by 1""").fetchall())
        region = con.execute("""select count(*), count(distinct designation_id) from int_snapshot_designation_regions
                                where region_code = 'XWB'""").fetchone()
        ranked = con.execute("""select count(*) from mart_country_rankings where country_iso2 = 'SI'
                                and basis = 'program_target'""").fetchone()[0]
    finally:
        con.close()
    assert {iso2: by_country.get(iso2, 0) for iso2 in WESTERN_BALKANS} == named
    assert by_country.get("SI", 0) == named["SI"] == 0 and ranked == 0
    assert region == (unnamed, unnamed)
