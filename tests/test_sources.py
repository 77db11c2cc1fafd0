"""Sources as folders: the registry is the folders, every ``source.yml`` follows the contract,
the OFAC lookups are well-formed data, every real sample parses to the row counts it had before
the parsers moved into their folders, and ``us_ofac_cons`` parses with the SDN layout parsers."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline.parse import parse_files
from pipeline.sources import default_sources, known_sources, load_meta, source_module

REPO = Path(__file__).resolve().parents[1]
SOURCES_DIR = REPO / "pipeline" / "sources"
DEMO = REPO / "data" / "demo"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples"
OFAC_LOOKUPS = SOURCES_DIR / "us_ofac_sdn" / "lookups"

REQUIRED_KEYS = {"id", "title", "publisher", "authority", "list", "licence", "formats", "urls", "raw_kinds",
                 "demo_inputs", "expected"}


def _source_folders() -> set[str]:
    return {p.name for p in SOURCES_DIR.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}


# --- registry and metadata ----------------------------------------------------------------------


def test_registry_lists_exactly_the_source_folders():
    folders = _source_folders()
    assert set(known_sources()) == folders
    assert {"us_ofac_sdn", "us_ofac_cons", "un_sc"} <= folders
    # nothing is left of the one-module-per-source layout
    assert sorted(p.name for p in SOURCES_DIR.glob("*.py")) == ["__init__.py", "base.py"]
    assert list(SOURCES_DIR.glob("*.yml")) == []


@pytest.mark.parametrize("source_id", sorted(_source_folders()))
def test_source_yml_has_the_required_keys(source_id: str):
    path = SOURCES_DIR / source_id / "source.yml"
    assert path.is_file(), f"{source_id}: no source.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    missing = REQUIRED_KEYS - set(data)
    assert not missing, f"{path}: missing keys {sorted(missing)}"
    assert data["id"] == source_id, f"{path}: id {data['id']!r} is not the folder name"
    assert data["formats"], f"{path}: no formats"
    expected = data["expected"]
    assert {"min_rows", "min_designations"} & set(expected), f"{path}: no minimum row count"
    assert {"max_rows", "max_designations"} & set(expected), f"{path}: no maximum row count"
    meta = load_meta(source_id)
    assert meta.min_rows <= meta.max_rows
    for rel in meta.demo_inputs:
        assert (DEMO / rel).exists(), f"{path}: demo input {rel} is not in data/demo"
    if meta.default:
        assert meta.demo_inputs, f"{path}: a default source needs a demo input for the offline run"
    module = source_module(source_id)
    assert hasattr(module, "parse") or (hasattr(module, "load") and hasattr(module, "SCHEMAS")), \
        f"{source_id}: the package exposes neither parse(files, ctx) nor load(files) with SCHEMAS"


def test_default_sources_come_from_the_yaml():
    # six authorities by default; OpenSanctions only on request (CC BY-NC)
    assert set(default_sources()) >= {"us_ofac_sdn", "us_ofac_cons", "un_sc", "eu_fsf", "gb_hmt", "ca_sema", "ch_seco"}
    assert "opensanctions" not in default_sources()


# --- OFAC lookups as data -----------------------------------------------------------------------


def _csv(name: str) -> list[dict[str, str]]:
    with open(OFAC_LOOKUPS / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_ofac_lookups_are_well_formed():
    features = _csv("features.csv")
    keys = [(row["feature"], layout) for row in features for layout in row["layouts"].split()]
    assert len(keys) == len(set(keys)), "a feature is listed twice for one layout"
    for row in features:
        assert row["match"] in {"exact", "prefix"} and row["action"] in {"country", "place", "id", "birth_date",
                                                                            "ignore"}, row
        assert set(row["layouts"].split()) <= {"advanced_xml", "enhanced_xml"}, row
        assert bool(row["value"]) == (row["action"] != "ignore"), row

    id_types = _csv("id_types.csv")
    assert len({r["raw_type"] for r in id_types}) == len(id_types)
    assert all(r["id_type"] and set(r["layouts"].split()) <= {"remarks", "advanced_xml", "enhanced_xml"}
               for r in id_types)
    phrases = _csv("remark_phrases.csv")
    assert {r["action"] for r in phrases} <= {"id_prefix", "ignore", "country", "birth", "birth_date", "relation",
                                              "alias"}
    remark_ids = {r["raw_type"].lower() for r in id_types if "remarks" in r["layouts"].split()}
    assert not remark_ids & {r["phrase"].lower() for r in phrases}, "a phrase kind is both an id type and not"

    for name in ("entity_types.yml", "alias_types.yml"):
        data = yaml.safe_load((OFAC_LOOKUPS / name).read_text(encoding="utf-8"))
        assert {"classic_xml", "csv_set", "advanced_xml", "enhanced_xml"} <= set(data), name
    every_file = {p.name for p in OFAC_LOOKUPS.iterdir()}
    vocab = (SOURCES_DIR / "us_ofac_sdn" / "vocab.py").read_text(encoding="utf-8")
    layouts = "".join((SOURCES_DIR / "us_ofac_sdn" / m).read_text(encoding="utf-8")
                      for m in ("advanced_xml.py", "enhanced_xml.py", "classic_xml.py", "csv_set.py", "remarks.py",
                                "lists.py"))
    unread = {name for name in every_file if name not in vocab + layouts}
    assert not unread, f"lookup files no module reads: {sorted(unread)}"


# --- every sample parses as before the move -------------------------------------------------------

TABLES = ("designations", "names", "country_links", "identifiers", "relations", "parse_audit")

# (source, files under the samples folder, strict, snapshot date or None (CSV: the fetch date),
#  row counts of designations, names, country_links, identifiers, relations, parse_audit),
# recorded with the parsers as they were before they moved into their folders.
BEFORE = {
    "un_full_2020": ("un_sc", ["un/consolidated_2020-03-20_full.xml"], True, date(2020, 3, 20),
                     (1014, 4074, 2016, 1433, 0, 17)),
    "un_subset_2026": ("un_sc", ["un/consolidated_2026-02-27_subset.xml"], True, date(2026, 2, 27),
                       (256, 989, 463, 355, 0, 1)),
    "ofac_cons_advanced_2020": ("us_ofac_sdn", ["ofac/cons_advanced_2020-03-17_subset.xml"], True,
                                date(2020, 3, 17), (124, 391, 186, 184, 63, 8)),
    "ofac_cons_classic_2024": ("us_ofac_sdn", ["ofac/cons_classic_2024-05-06.xml"], True, date(2024, 5, 6),
                               (443, 1569, 580, 1260, 284, 8)),
    "ofac_cons_csv": ("us_ofac_sdn", ["ofac/cons_csv/*.csv"], True, None, (442, 1587, 608, 1284, 283, 12)),
    "ofac_enhanced_2024": ("us_ofac_sdn", ["ofac/enhanced_xml_IRGC_filter_2024-08-28.xml"], True,
                           date(2024, 8, 28), (293, 930, 481, 294, 229, 17)),
    # the excerpt keeps the full file's Record_Count: it parses leniently only
    "ofac_sdn_classic_2020": ("us_ofac_sdn", ["ofac/sdn_classic_excerpt_2020-10-29.xml"], False,
                              date(2020, 10, 29), (2, 4, 2, 0, 0, 1)),
    # parse_audit + 1 and + 3 since: the sets lack SDN_COMMENTS.CSV (the 2024 head also ADD.CSV and ALT.CSV),
    # recorded as partial inputs (rule partial_input, pipeline/partial.py)
    "ofac_sdn_csv_2021": ("us_ofac_sdn", ["ofac/sdn_csv_2021-04-25_subset/*.csv"], True, None,
                          (2500, 7232, 4067, 1792, 52, 276)),
    "ofac_sdn_csv_2024_head": ("us_ofac_sdn", ["ofac/sdn_csv_2024-05-03_head/*.csv"], True, None,
                               (2500, 3491, 2297, 1901, 183, 329)),
    "ofac_sdn_csv_excerpt": ("us_ofac_sdn", ["ofac/sdn_csv_excerpt/*.csv"], True, None, (17, 51, 29, 72, 11, 9)),
}


def _files(patterns: list[str]) -> list[Path]:
    found = [p for pattern in patterns for p in sorted(SAMPLES.glob(pattern))]
    assert found, f"no sample matches {patterns} under {SAMPLES}"
    return found


@pytest.mark.parametrize("case", sorted(BEFORE))
def test_samples_parse_to_the_same_counts(case: str, samples: Path, tmp_path: Path):
    source, patterns, strict, snapshot, counts = BEFORE[case]
    result = parse_files(source, _files(patterns), tmp_path, strict=strict, snapshot_date=date(2024, 1, 1))
    assert tuple(result.counts[t] for t in TABLES) == counts
    assert result.snapshot_date == (snapshot or date(2024, 1, 1))


# --- the next source: us_ofac_cons, folder + source.yml only ---------------------------------------


def test_us_ofac_cons_reuses_the_sdn_layout_parsers():
    assert source_module("us_ofac_cons").parse is source_module("us_ofac_sdn").parse
    own = sorted(p.name for p in (SOURCES_DIR / "us_ofac_cons").iterdir() if p.name != "__pycache__")
    # its own: the metadata and the demo builder with its facts; no parser of its own
    assert own == ["__init__.py", "demo.py", "demo_facts.yml", "demo_vocab.yml", "source.yml"]
    meta = load_meta("us_ofac_cons")
    assert meta.authority == "us_ofac" and meta.list == "CONS" and meta.default
    assert meta.urls == ("https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/CONS_ADVANCED.XML",)


def _rows(out: Path, table: str, sql: str) -> list[tuple]:
    con = duckdb.connect()
    con.execute(f"create view t as select * from read_parquet('{out}/{table}/**/*.parquet', hive_partitioning = true)")
    return con.execute(sql).fetchall()


def test_us_ofac_cons_advanced_sample(samples: Path, tmp_path: Path):
    result = parse_files("us_ofac_cons", [samples / "ofac" / "cons_advanced_2020-03-17_subset.xml"], tmp_path)
    assert result.snapshot_date == date(2020, 3, 17)
    assert tuple(result.counts[t] for t in TABLES) == (124, 391, 186, 184, 63, 8)
    assert result.audit["umbrella_entry_not_counted:SanctionsEntry/ListID"] == 120
    assert dict(_rows(tmp_path, "designations", "select list, count(*) from t group by 1")) == {
        "SSI": 77, "NS-PLC": 40, "SDN": 4, "FSE": 2, "CAPTA": 1}
    assert _rows(tmp_path, "designations", "select distinct source, authority from t") == [("us_ofac_cons", "us_ofac")]
    assert _rows(tmp_path, "designations", "select designation_id, entity_key from t where source_record_id = '9639'") \
        == [("us_ofac_cons:NS-PLC:9639", "us_ofac_cons:9639")]


def test_us_ofac_cons_csv_sample(samples: Path, tmp_path: Path):
    files = _files(["ofac/cons_csv/*.csv"])
    assert [f.name for f in files] == ["cons_add.csv", "cons_alt.csv", "cons_comments.csv", "cons_prim.csv"]
    result = parse_files("us_ofac_cons", files, tmp_path, snapshot_date=date(2025, 12, 19))
    assert tuple(result.counts[t] for t in TABLES) == (442, 1587, 608, 1284, 283, 12)
    assert dict(_rows(tmp_path, "designations", "select list, count(*) from t group by 1")) == {
        "CONS": 296, "NS-CMIC": 68, "NS-PLC": 78}
    assert _rows(tmp_path, "designations", "select count(*) from t where designation_id not like 'us_ofac_cons:%'") \
        == [(0,)]
