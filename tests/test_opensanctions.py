"""OpenSanctions exports (``opensanctions``): the real samples parsed and recounted from the raw files
with the json and csv modules (not the parser), deltas applied to a full export, nested exports
flattened, the programme table cross-checked with OpenSanctions' programme metadata, the demo file,
and hostile files refused with named errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from pipeline.errors import SourceError
from pipeline.parse import parse_files
from pipeline.reference import PROGRAM_COLUMNS
from pipeline.sources import load_meta
from pipeline.sources.opensanctions import demo, jsonl, vocab
from pipeline.staged import ENTITY_TYPES, LINK_TYPES, NAME_TYPES, RELATION_TYPES
from tests.conftest import DEMO, REPO, SAMPLES
from tests.staged_views import Staged

SOURCE = "opensanctions"
FOLDER = REPO / "pipeline" / "sources" / SOURCE
OS = SAMPLES / "opensanctions"
EXCERPT = OS / "eu_fsf_excerpt_2024.entities.ftm.json"
DELTA = OS / "sanctions_20240527194702-wnk.entities.delta.json"
SIMPLE = OS / "ua_war_sanctions_2026-03-13_subset.targets.simple.csv"
WD = OS / "wd_persons_export_2024-03-10"
PROGRAM_META = OS / "programs_target_territories.csv"

#: FtM schema -> entity type, as an analyst reads the FtM model (independent of lookups/schemata.csv).
SCHEMA_TYPES = {"Person": "person", "Organization": "organization", "Company": "organization",
                "LegalEntity": "organization", "PublicBody": "organization", "Vessel": "vessel",
                "Airplane": "aircraft"}
#: FtM country property -> link type (the brief's mapping; Thing.country is only an 'any' tie).
COUNTRY_PROPS = {"nationality": "nationality", "citizenship": "citizenship", "jurisdiction": "registration",
                 "flag": "flag", "birthCountry": "birth", "country": "other", "mainCountry": "other",
                 "pastFlags": "other"}


# --- helpers ------------------------------------------------------------------------------------


def parse(paths: list[Path], out: Path, strict: bool = True) -> tuple[Staged, object]:
    result = parse_files(SOURCE, paths, out, strict=strict)
    return Staged(out), result


def raw_lines(path: Path) -> list[dict]:
    """Every JSON line of a file, read with the json module (the independent recount)."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def not_staged_datasets() -> set[str]:
    with open(FOLDER / "lookups" / "datasets.csv", encoding="utf-8", newline="") as fh:
        return {r["dataset"] for r in csv.DictReader(fh) if r["stage"] == "no"}


def expected_designations(entities: list[dict]) -> Counter:
    """(list, entity type) of every designation a file holds: each target once per staged dataset."""
    skip = not_staged_datasets()
    found: Counter = Counter()
    for e in entities:
        if e.get("target"):
            for ds in set(e["datasets"]) - skip:
                found[ds, SCHEMA_TYPES.get(e["schema"], "other")] += 1
    return found


def expected_links(entities: list[dict]) -> Counter:
    """(link type, ISO2) of the coded country properties of every target (one per distinct value)."""
    found: Counter = Counter()
    for e in entities:
        if not e.get("target"):
            continue
        seen = {(COUNTRY_PROPS[p], v.upper()) for p, values in e["properties"].items() if p in COUNTRY_PROPS
                for v in values}
        found.update(seen)
    return found


def write_lines(path: Path, entities: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entities), encoding="utf-8")
    return path


# --- the real samples ----------------------------------------------------------------------------


def test_eu_fsf_excerpt_counts_match_a_recount(tmp_path: Path):
    entities = raw_lines(EXCERPT)
    staged, result = parse([EXCERPT], tmp_path / "out")
    assert result.snapshot_date == date(2024, 6, 1)  # the latest last_seen
    assert max(e["last_seen"] for e in entities)[:10] == "2024-06-01"
    by_kind = Counter({(ls, et): n for ls, et, n in staged.rows(
        "select list, entity_type, count(*) from designations group by all")})
    assert by_kind == expected_designations(entities) == Counter({("eu_fsf", "person"): 4,
                                                                  ("eu_fsf", "organization"): 2})
    assert staged.one("select count(*) from designations") == 6
    assert staged.one("select count(distinct authority) from designations") == 1
    assert staged.one("select any_value(authority) from designations") == "opensanctions"
    # the Address entity is a helper, not a designation
    assert sum(1 for e in entities if e["target"]) == 6 and len(entities) == 7
    # coded country links, recounted; plus Soyko's birth place "BELARUS, Komsomolskaya" (no birthCountry)
    links = Counter({(t, c): n for t, c, n in staged.rows(
        "select link_type, country_iso2, count(*) from country_links where link_type <> 'birth' group by all")})
    assert links == expected_links(entities) == Counter({("nationality", "BY"): 2, ("nationality", "RU"): 1,
                                                          ("other", "BY"): 2, ("other", "IR"): 1})
    assert staged.rows("select raw_value, country_iso2 from country_links where link_type = 'birth'") == [
        ("BELARUS, Komsomolskaya", "BY")]
    # listing dates: one list per target and no Sanction entity -> the record's createdAt
    created = {e["id"]: e["properties"]["createdAt"][0] for e in entities if e["target"]}
    assert {i: d.isoformat() for i, d in staged.rows("select source_record_id, listed_on from designations")} == created
    # names: the caption and every name, once each
    expected_names = sum(len({e["caption"], *e["properties"].get("name", [])}) for e in entities if e["target"])
    assert staged.one("select count(*) from names") == expected_names == 35
    # identifiers: registration and tax numbers, and every referent
    ids = Counter(dict(staged.rows("select id_type, count(*) from identifiers group by 1")))
    assert ids == {"registration": 1, "tax_id": 1,
                   "referent": sum(len(e["referents"]) for e in entities if e["target"])}
    # the two addressEntity references point at addresses the excerpt does not hold
    assert staged.audit() == {("missing_entity", "addressEntity", "addr-125caec37c3486d3a71de8ae943eec47f420b38a"): 1,
                              ("missing_entity", "addressEntity", "addr-9bdb8d404e2618cfce08d3b3d400c1433c634849"): 1}


def test_simple_csv_counts_match_a_recount(tmp_path: Path):
    with open(SIMPLE, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))

    def cell(text: str) -> list[str]:
        return [v for r in csv.reader(io.StringIO(text), delimiter=";") for v in r if v.strip()]

    staged, result = parse([SIMPLE], tmp_path / "out")
    assert result.snapshot_date == date(2026, 3, 13)
    assert len(rows) == 600
    assert staged.one("select count(*) from designations") == 600
    assert dict(staged.rows("select entity_type, count(*) from designations group by 1")) == dict(
        Counter(SCHEMA_TYPES[r["schema"]] for r in rows)) == {"organization": 300, "person": 150, "vessel": 150}
    assert staged.rows("select distinct list from designations") == [("ua_war_sanctions",)]
    # no listing date in this layout
    assert staged.one("select count(listed_on) from designations") == 0
    # countries: every code of the union column, as 'other' links only (the 'any' basis)
    assert staged.rows("select distinct link_type from country_links") == [("other",)]
    expected = Counter(c.upper() for r in rows for c in set(cell(r["countries"])))
    assert Counter(dict(staged.rows("select country_iso2, count(*) from country_links group by 1"))) == expected
    assert staged.one("select count(*) from country_links") == 850
    # programmes per row
    programs = Counter(p for r in rows for p in cell(r["program_ids"]))
    staged_programs = Counter(p for (ps,) in staged.rows("select programs from designations") for p in ps)
    assert staged_programs == programs and programs["UA-WS-MARE"] == 204
    # IMO numbers: a vessel's is its IMO number, a company's an IMO company number
    imo = Counter((r["schema"] == "Vessel", v.startswith("IMO")) for r in rows for v in cell(r["identifiers"]))
    ids = dict(staged.rows("select id_type, count(*) from identifiers group by 1"))
    assert ids["imo"] == imo[True, True] == 150
    assert ids["registration"] == imo[False, True] == 150
    assert staged.one("select count(*) from identifiers where id_type = 'imo' and length(id_value) <> 7") == 0
    names = sum(len({r["name"], *cell(r["aliases"])}) for r in rows)
    assert staged.one("select count(*) from names") == names
    assert staged.audit() == {}


def test_delta_alone_is_refused_strict_and_inspected_lenient(tmp_path: Path):
    with pytest.raises(SourceError) as err:
        parse([DELTA], tmp_path / "strict")
    assert err.value.rule == "a delta has its full export"
    assert not (tmp_path / "strict" / "designations").exists()
    ops = raw_lines(DELTA)
    staged, result = parse([DELTA], tmp_path / "lenient", strict=False)
    entities = [op["entity"] for op in ops]
    assert Counter(op["op"] for op in ops) == {"ADD": 2}
    assert staged.one("select count(*) from designations") == sum(expected_designations(entities).values()) == 38
    audit = staged.audit()
    assert audit[("delta_op", "ADD", None)] == 2
    assert audit[("dataset_not_staged", "datasets", "us_trade_csl")] == 1
    assert audit[("dataset_not_staged", "datasets", "bg_omnio_poi")] == 2
    assert ("rule_violation", "a delta has its full export") in {(r, f) for r, f, _ in audit}
    links = Counter({(t, c): n for t, c, n in staged.rows(
        "select link_type, country_iso2, count(*) from country_links group by all")})
    assert links == expected_links(entities)


def test_delta_applies_to_the_full_export(tmp_path: Path):
    base = raw_lines(EXCERPT)
    kuzmenko = next(e for e in base if e["caption"] == "Vitaly Yurievich KUZMENKO")
    tobacco = next(e for e in base if e["schema"] == "Organization" and "by" in e["properties"]["country"])
    modified = {**kuzmenko, "properties": {**kuzmenko["properties"], "nationality": ["ua"]}}
    delta = write_lines(tmp_path / "entities.delta.json", [
        {"op": "MOD", "entity": modified},
        {"op": "DEL", "entity": {"id": tobacco["id"]}},
        {"op": "DEL", "entity": {"id": "NK-not-in-the-export"}},
        *raw_lines(DELTA),
    ])
    staged, result = parse([EXCERPT, delta], tmp_path / "out")
    ids = {i for (i,) in staged.rows("select source_record_id from designations")}
    assert tobacco["id"] not in ids and kuzmenko["id"] in ids
    assert len(ids) == 6 - 1 + 2
    assert staged.one("select count(*) from designations") == 5 + 38
    assert staged.rows(f"select country_iso2 from country_links where source_record_id = '{kuzmenko['id']}'") == [
        ("UA",)]
    # rows trace back to the file their entity came from: the delta's added and modified entities to the delta
    from_delta = {op["entity"]["id"] for op in raw_lines(DELTA)} | {kuzmenko["id"]}
    lineage = dict(staged.rows("select source_record_id, any_value(raw_file) from designations group by 1"))
    assert {i for i, f in lineage.items() if f == delta.name} == from_delta
    assert {f for i, f in lineage.items() if i not in from_delta} == {EXCERPT.name}
    audit = staged.audit()
    assert audit[("delta_delete_unknown", "DEL", "NK-not-in-the-export")] == 1
    assert {op: audit[("delta_op", op, None)] for op in ("ADD", "MOD", "DEL")} == {"ADD": 2, "MOD": 1, "DEL": 2}
    # the export comes first: a delta given before it is refused
    with pytest.raises(SourceError) as err:
        parse([delta, EXCERPT], tmp_path / "wrong_order")
    assert err.value.rule == "the full export comes first"


def test_wd_persons_export_is_not_a_sanctions_list(tmp_path: Path):
    """A PEP dataset: its targets are not designations (lookups/datasets.csv), so nothing is staged."""
    for name in ("entities.ftm.json", "targets.nested.json", "targets.simple.csv"):
        with pytest.raises(SourceError) as err:
            parse([WD / name], tmp_path / name)
        assert err.value.rule == "has records", name


def test_nested_export_is_flattened_to_the_same_rows(tmp_path: Path):
    """targets.nested.json embeds the adjacent entities: flattened, it stages what entities.ftm.json does.
    The PEP dataset is renamed to a list the lookups do not know, so its targets are staged (audited)."""
    outputs = {}
    for name in ("entities.ftm.json", "targets.nested.json"):
        text = (WD / name).read_text(encoding="utf-8").replace('"wd_persons"', '"zz_test_list"')
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        staged, _ = parse([path], tmp_path / f"out-{name}")
        outputs[name] = {
            table: sorted(staged.rows(f"select * exclude (raw_sha256, raw_file, snapshot_date, source) from {table}"))
            for table in ("designations", "names", "country_links", "relations")
        }
        assert staged.audit()[("unknown_dataset", "datasets", "zz_test_list")] == 5
    assert outputs["entities.ftm.json"] == outputs["targets.nested.json"]
    entities = raw_lines(WD / "entities.ftm.json")
    assert len(outputs["entities.ftm.json"]["designations"]) == sum(1 for e in entities if e["target"]) == 5
    nationality = Counter(v.upper() for e in entities if e["target"] for v in set(e["properties"]["nationality"]))
    staged_nat = Counter(c for _k, _r, t, c, *_ in outputs["entities.ftm.json"]["country_links"] if t == "nationality")
    assert staged_nat == nationality
    # Family relations touching a target (Saad Hariri's four), with the relative's caption
    families = [e for e in entities if e["schema"] == "Family"]
    assert len(outputs["entities.ftm.json"]["relations"]) == len(families) == 4
    assert {r[4] for r in outputs["entities.ftm.json"]["relations"]} == {"family_of"}


@pytest.mark.parametrize("name, what", [
    ("index.json", "index.json"), ("statistics.json", "statistics.json"),
])
def test_metadata_files_are_refused_by_name(name: str, what: str, tmp_path: Path):
    with pytest.raises(SourceError) as err:
        parse([WD / name], tmp_path / "out")
    assert what in err.value.detail and "export" in err.value.rule


def test_the_delta_index_is_refused_by_name(tmp_path: Path):
    with pytest.raises(SourceError) as err:
        parse([OS / "sanctions_delta_index_2024-05-28.json"], tmp_path / "out")
    assert "delta index" in err.value.detail


# --- the demo file ------------------------------------------------------------------------------


def test_demo_file_is_built_from_the_facts_and_parses(tmp_path: Path):
    built = demo.build(tmp_path / "demo")
    committed = DEMO / SOURCE / demo.FILE_NAME
    assert [p.name for p in built] == [demo.FILE_NAME]
    assert built[0].read_bytes() == committed.read_bytes(), "data/demo/opensanctions is stale: run the demo module"
    assert load_meta(SOURCE).demo_inputs == (f"{SOURCE}/{demo.FILE_NAME}",)
    entities = raw_lines(committed)
    staged, result = parse([committed], tmp_path / "out")
    assert result.snapshot_date == date(2024, 6, 28)
    sanctions = [e for e in entities if e["schema"] == "Sanction"]
    assert staged.one("select count(*) from designations") == len(sanctions) == 81
    assert staged.one("select count(*) from designations") >= load_meta(SOURCE).min_rows_demo
    by_list = Counter(s["datasets"][0] for s in sanctions)
    assert dict(staged.rows("select list, count(*) from designations group by 1")) == dict(by_list)
    # every designation dated by its Sanction's listingDate, programmes as keyed (CA-SEMA refined)
    dated = {(s["properties"]["entity"][0], s["datasets"][0]): s["properties"]["listingDate"][0] for s in sanctions}
    assert {(i, ls): d.isoformat() for i, ls, d in staged.rows(
        "select source_record_id, list, listed_on from designations")} == dated
    assert staged.one("select count(*) from designations where list = 'ca_dfatd_sema_sanctions' and "
                      "not starts_with(programs[1], 'CA-SEMA-')") == 0
    assert staged.audit() == {}
    # Iran leads until 2021; Russia leads once the February 2022 listings are in (by own links)
    lead = staged.rows("""
        select y, count(*) filter (where c = 'RU') as ru, count(*) filter (where c = 'IR') as ir from (
            select distinct d.designation_id, l.country_iso2 as c, cutoff as y
            from designations d join country_links l using (entity_key)
            cross join (values (date '2021-12-31'), (date '2022-03-31')) t(cutoff)
            where d.listed_on <= cutoff) group by y order by y""")
    (_, ru_2021, ir_2021), (_, ru_2022, ir_2022) = lead
    assert ir_2021 > ru_2021 and ru_2022 > ir_2022
    # the Crimean official's address is Ukraine with the region, his programme's targets RU and UA
    assert staged.rows("select country_iso2, region from country_links where source_record_id = "
                       "'os-demo-aksyonov' and link_type = 'address'") == [("UA", "crimea")]
    assert staged.one("select count(*) from relations") == 3


@pytest.mark.parametrize("path, demo_file", [(DEMO / SOURCE / "entities.ftm.json", True), (SIMPLE, False)])
def test_staged_rows_pass_the_staged_suites(path: Path, demo_file: bool, tmp_path: Path):
    """The pipeline's own Great Expectations suites for staged sanctions tables, on real parses."""
    from expectations.staged import staged_suites
    from pipeline.validation import validate_stage

    staged, result = parse([path], tmp_path / "out")
    meta = load_meta(SOURCE)
    suites = staged_suites(meta.min_rows_demo if demo_file else 1, meta.max_rows, None,
                           snapshot_date=result.snapshot_date)
    frames = {table: staged.con.execute(f"select * from {table}").df() for table in suites}  # hive: source, date
    assert set(frames["designations"].columns) >= {"source", "snapshot_date"}
    reports = validate_stage("staged", frames, suites)
    assert all(r.success for r in reports), [r.failed_critical for r in reports]


def test_the_demo_file_stages_the_same_rows_in_any_line_order(tmp_path: Path):
    """Targets and their Sanction, Address and relation entities may come in any order in a file."""
    lines = (DEMO / SOURCE / demo.FILE_NAME).read_text(encoding="utf-8").splitlines(keepends=True)
    reordered = tmp_path / "entities.ftm.json"
    reordered.write_text("".join(reversed(lines)), encoding="utf-8")
    results = []
    for i, path in enumerate((DEMO / SOURCE / demo.FILE_NAME, reordered)):
        staged, _ = parse([path], tmp_path / f"out{i}")
        results.append({t: sorted(staged.rows(f"select * exclude (raw_sha256, raw_file) from {t}"))
                        for t in ("designations", "names", "country_links", "identifiers", "relations")})
    assert results[0] == results[1]


# --- what decides a designation ------------------------------------------------------------------


def _entity(ident: str, schema: str = "Person", target: bool = True, datasets=("eu_fsf",), **props) -> dict:
    return {"id": ident, "caption": ident, "schema": schema, "properties": {"name": [ident], **props},
            "referents": [], "datasets": list(datasets), "last_seen": "2024-06-01T00:00:00", "target": target}


def test_topics_datasets_and_sanctions_decide_the_designations(tmp_path: Path):
    path = write_lines(tmp_path / "entities.ftm.json", [
        _entity("pep", topics=["role.pep"]),                                     # no designating topic
        _entity("sanctioned", topics=["sanction"], datasets=["eu_fsf", "wd_peps_unknown", "us_trade_csl"]),
        _entity("debarred", topics=["debarment"], datasets=["us_ofac_sdn"]),     # listed by a Sanction entity
        {"id": "s1", "schema": "Sanction", "datasets": ["us_ofac_sdn"], "target": False,
         "properties": {"entity": ["debarred"], "programId": ["CA-SEMA"], "program": ["Russia / Russie"],
                        "listingDate": ["2022-02"], "startDate": ["2022-03-01"], "endDate": ["2023-01-01"],
                        "country": ["us"], "authorityId": ["12345"], "reason": ["a reason"]}},
        _entity("helper", target=False, topics=["sanction"]),                    # not a target
        _entity("typo", topics=["sanction"], createdAt=["2202-01-05"]),          # a date after the snapshot
    ])
    staged, _ = parse([path], tmp_path / "out")
    rows = staged.rows("select source_record_id, list, programs, listed_on, reference_number, remarks "
                       "from designations order by all")
    assert rows == [
        ("debarred", "us_ofac_sdn", ["CA-SEMA-RUSSIA"], date(2022, 3, 1), "12345", "a reason"),
        ("sanctioned", "eu_fsf", [], None, None, None),
        ("sanctioned", "wd_peps_unknown", [], None, None, None),
        ("typo", "eu_fsf", [], None, None, None),
    ]
    audit = staged.audit()
    assert audit[("not_a_sanction_listing", "topics", "role.pep")] == 1
    assert audit[("target_not_staged", "datasets", "eu_fsf")] == 1
    assert audit[("unknown_dataset", "datasets", "wd_peps_unknown")] == 1
    assert audit[("dataset_not_staged", "datasets", "us_trade_csl")] == 1
    assert audit[("imprecise_date", "Sanction.listingDate", "2022-02")] == 1
    assert audit[("sanction_ended", "us_ofac_sdn", "2023-01-01")] == 1
    assert audit[("implausible_listing_date", "eu_fsf", "2202-01-05")] == 1
    # Sanction.country is the sanctioning country: never a link of the target
    assert staged.one("select count(*) from country_links") == 0


def test_country_codes_beyond_iso_and_free_text_places(tmp_path: Path):
    path = write_lines(tmp_path / "entities.ftm.json", [
        _entity("a", topics=["sanction"], country=["ua-cri", "zz", "eu", "suhh", "xx"], nationality=["ru", "RU"],
                citizenship=["md-pmr"], birthPlace=["Tirin Kot city, AFGHANISTAN"], address=["Georgia, Tbilisi"]),
        _entity("b", topics=["sanction"], birthCountry=["af"], birthPlace=["Moscow, Russia"],
                address=["Moscow, Russia; Minsk, Belarus"], schema="Vessel", flag=["pa"], pastFlags=["lr"],
                imoNumber=["IMO 9253325", "IMO12"]),
        _entity("c", topics=["sanction"], address=["Sukhumi, Abkhazia; Georgia", "Tbilisi, Georgia"]),
    ])
    staged, _ = parse([path], tmp_path / "out")
    links = staged.rows("select source_record_id, link_type, country_iso2, region, country_status, raw_value "
                        "from country_links")
    assert sorted(links, key=str) == sorted([
        ("a", "address", "GE", None, "mapped", "Georgia, Tbilisi"),
        ("a", "birth", "AF", None, "mapped", "Tirin Kot city, AFGHANISTAN"),
        ("a", "citizenship", "MD", "transnistria", "mapped", "md-pmr"),
        ("a", "nationality", "RU", None, "mapped", "ru"),
        ("a", "other", None, None, "non_country", "suhh"),
        ("a", "other", None, None, "non_country", "zz"),
        ("a", "other", None, None, "non_country", "eu"),
        ("a", "other", None, None, "unknown", "xx"),
        ("a", "other", "UA", "crimea", "mapped", "ua-cri"),
        ("b", "birth", "AF", None, "mapped", "af"),          # birthCountry wins over the birth place
        ("b", "flag", "PA", None, "mapped", "pa"),
        ("b", "other", "LR", None, "mapped", "lr"),
        ("c", "address", "GE", "abkhazia", "mapped", "Sukhumi, Abkhazia; Georgia"),  # both parts name Georgia
        ("c", "address", "GE", None, "mapped", "Tbilisi, Georgia"),
    ], key=str)
    audit = staged.audit()
    assert audit[("unmapped_country", "other", "xx")] == 1
    assert audit[("place_without_country", "address", "Moscow, Russia; Minsk, Belarus")] == 1  # two countries
    assert audit[("unreadable_imo_number", "imoNumber", "IMO12")] == 1
    assert staged.rows("select id_type, id_value from identifiers order by all") == [
        ("imo", "9253325"), ("other", "IMO12")]


def test_unknown_properties_and_schemata_are_audited(tmp_path: Path):
    path = write_lines(tmp_path / "entities.ftm.json", [
        _entity("a", topics=["sanction", "brand.new.topic"], shoeSize=["44"]),
        _entity("b", schema="Spaceship", topics=["sanction"]),
    ])
    staged, _ = parse([path], tmp_path / "out")
    audit = staged.audit()
    assert audit[("unknown_field", "Person.shoeSize", None)] == 1
    assert audit[("unknown_value", "topics", "brand.new.topic")] == 1
    assert audit[("unknown_value", "schema", "Spaceship")] == 1
    assert dict(staged.rows("select source_record_id, entity_type from designations")) == {
        "a": "person", "b": "other"}


# --- hostile files -------------------------------------------------------------------------------


def _refused(path: Path, tmp_path: Path) -> SourceError:
    with pytest.raises(SourceError) as err:
        parse([path], tmp_path / "out")
    assert not (tmp_path / "out" / "designations").exists()
    return err.value


def test_truncated_export_is_refused_by_line(tmp_path: Path):
    data = EXCERPT.read_bytes()
    cut = tmp_path / "entities.ftm.json"
    cut.write_bytes(data[: len(data) - 300])
    err = _refused(cut, tmp_path)
    assert err.rule == "JSON lines (JSON)" and "line 7" in err.detail and "truncated" in err.detail


def test_hostile_json_lines_are_refused(tmp_path: Path):
    good = EXCERPT.read_text(encoding="utf-8").splitlines()
    cases = {
        "deep": (good[0] + "\n" + '{"id": "x", "schema": "Person", "properties": {"a": ' + "[" * 100
                 + "]" * 100 + "}}\n", "JSON lines (depth cap)", "line 2"),
        "not_utf8": (None, "JSON lines (UTF-8)", "line 2"),
        "array_line": (good[0] + "\n[1, 2]\n", "JSON lines (one object per line)", "line 2"),
        "bad_values": (good[0] + '\n{"id": "x", "schema": "Person", "properties": {"name": "Bob"}}\n',
                       "FtM entity", "'name'"),
        "no_id": (good[0] + '\n{"schema": "Person", "properties": {}}\n', "FtM entity", "'id'"),
    }
    for name, (text, rule, where) in cases.items():
        path = tmp_path / f"{name}.json"
        if text is None:
            path.write_bytes(good[0].encode() + b'\n{"id": "x\xff", "schema": "Person"}\n')
        else:
            path.write_text(text, encoding="utf-8")
        err = _refused(path, tmp_path / name)
        assert err.rule == rule, (name, str(err))
        assert where in (err.detail + (err.record or "")), (name, str(err))
        assert err.file == path.name


def test_a_line_without_end_is_refused_by_the_line_cap(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(jsonl, "MAX_LINE_BYTES", 4096)
    path = tmp_path / "entities.ftm.json"
    path.write_text('{"id": "x", "schema": "Person", "properties": {"name": ["' + "a" * 10000 + '"]}}\n')
    err = _refused(path, tmp_path)
    assert err.rule == "line size cap" and "line 1" in err.detail


def test_bad_delta_operations_are_refused(tmp_path: Path):
    path = write_lines(tmp_path / "entities.delta.json", [{"op": "UPSERT", "entity": {"id": "x"}}])
    err = _refused(path, tmp_path)
    assert err.rule == "delta operation" and "line 1" in err.detail


@pytest.mark.parametrize("content, says", [
    (b"<!DOCTYPE html><html><body>503 Service Unavailable</body></html>", "HTML page"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><export/>', "XML"),
    (b"", "empty"),
    (b'[{"id": "x"}]', "JSON array"),
    (b"fileGenerationDate;Entity_LogicalId;Entity_EU_ReferenceNumber\n", "targets.simple.csv header"),
    (b'{"versions": {"1": "https://example.org/x"},\n "updated_at": "2024-05-28"}\n', "delta index"),
])
def test_wrong_files_are_refused_with_what_they_are(content: bytes, says: str, tmp_path: Path):
    path = tmp_path / "download.bin"
    path.write_bytes(content)
    err = _refused(path, tmp_path)
    assert "OpenSanctions export" in err.rule and says in err.detail


def test_hostile_simple_csv_files_are_refused(tmp_path: Path):
    data = SIMPLE.read_text(encoding="utf-8")
    lines = data.splitlines(keepends=True)
    truncated = tmp_path / "truncated.csv"
    truncated.write_text("".join(lines[:3]) + lines[3][:60], encoding="utf-8")
    assert _refused(truncated, tmp_path / "t").rule in ("column count", "readable CSV")
    missing = tmp_path / "missing.csv"
    missing.write_text(lines[0].replace(',"dataset"', "") + lines[1], encoding="utf-8")
    err = _refused(missing, tmp_path / "m")
    assert err.rule == "targets.simple.csv columns" and "dataset" in err.detail
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(lines[0].encode() + lines[1].encode().replace(b"Sun Science", b"Sun Sci\xe9nce"))
    assert _refused(bad, tmp_path / "b").rule == "UTF-8 text"
    # one snapshot: a targets.simple.csv is parsed alone
    with pytest.raises(SourceError) as err_mix:
        parse([SIMPLE, EXCERPT], tmp_path / "mix")
    assert err_mix.value.rule == "one export per snapshot"


def test_another_sources_file_is_refused(tmp_path: Path):
    un = next((SAMPLES / "un").glob("*.xml"))
    err = _refused(un, tmp_path)
    assert "XML" in err.detail


# --- the tables ----------------------------------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_lookups_use_the_staged_vocabularies():
    for row in _rows(FOLDER / "lookups" / "properties.csv"):
        action, value = row["action"], row["value"]
        assert action in {"name", "country", "place", "address_ref", "identifier", "program", "topics", "relation",
                          "birth_date", "ignore"}, row
        if action == "name":
            assert value.split(":")[0] in NAME_TYPES
        if action in ("country", "place", "address_ref"):
            assert value in LINK_TYPES, row
        if action == "relation":
            assert value in RELATION_TYPES
        if action == "identifier":
            assert value
    for schema, found in vocab.schemata().items():
        assert found.role in {"thing", "sanction", "address", "identification", "relation", "ignore"}
        if found.role == "thing":
            assert found.entity_type in ENTITY_TYPES, schema
        if found.role == "relation":
            assert schema in vocab.relations(), f"{schema} has no row in relations.csv"
    assert {r.relation_type for r in vocab.relations().values()} <= set(RELATION_TYPES)
    assert set(vocab.program_datasets().values()) <= set(vocab.datasets()), "program_datasets names unknown datasets"
    for code, special in vocab.special_codes().items():
        assert special.iso2 is None or len(special.iso2) == 2, code


OS_REGIONS = {"crimea": "ua-cri", "dpr": "ua-dpr", "lpr": "ua-lpr", "transnistria": "md-pmr"}
#: programme key -> (ours, theirs) in OpenSanctions' notation: the documented differences (programs.csv
#: descriptions say why); theirs drops zz, ip, eu and the historical codes, which are no target here either.
DIFFERENCES = {
    "UN-SC1533": ("cd", "cg"),
    "UN-SC2713": ("so", ""),
    "UN-SC1636": ("lb", ""),
    "US-BALKANS": ("al;ba;hr;me;mk;rs;si;xk", "al;ba;me;mk;rs;xk"),
    "EU-UKR": ("ru", "ru;ua;ua-cri;ua-dpr;ua-lpr"),
    "SECO-HAMAS": ("", "ps"),
}
NOT_TARGETS = {"zz", "ip", "eu", "yucs", "csxx"}


def test_programs_table_against_opensanctions_metadata():
    ours = _rows(FOLDER / "programs.csv")
    assert tuple(ours[0]) == PROGRAM_COLUMNS, "columns differ from the other sources' programs.csv"
    assert {r["authority"] for r in ours} == {"opensanctions"}
    assert {r["kind"] for r in ours} <= {"country", "thematic", "regional"}
    targets: dict[str, set[str]] = {}
    for r in ours:
        found = targets.setdefault(r["program"], set())
        if r["target_iso2"]:
            regions = r["region"].split(";") if r["region"] and r["kind"] != "regional" else []
            found.update(OS_REGIONS[g] for g in regions) if regions else found.add(r["target_iso2"].lower())
        if r["kind"] == "thematic":
            assert not r["target_iso2"], r
    theirs = {r["key"]: ";".join(sorted(t for t in r["target_territories"].split(";") if t and t not in NOT_TARGETS))
              for r in _rows(PROGRAM_META)}
    assert len(theirs) == 261
    differences = {}
    for key, value in theirs.items():
        assert key in targets, f"OpenSanctions programme {key} missing from programs.csv"
        mine = ";".join(sorted(targets[key]))
        if mine != value:
            differences[key] = (mine, value)
    assert differences == DIFFERENCES
    for key in DIFFERENCES:
        assert any("Deliberate difference" in r["description"] for r in ours if r["program"] == key), key
    # the rows that are not OpenSanctions keys: Canada's SEMA regimes, refining CA-SEMA
    extra = set(targets) - set(theirs)
    refined = {new for rules in vocab.program_refinements().values() for _pattern, new in rules}
    assert extra == refined and all(k.startswith("CA-SEMA-") for k in extra)


def test_every_programme_of_the_samples_and_demo_is_in_the_table(tmp_path: Path):
    keys = {r["program"] for r in _rows(FOLDER / "programs.csv")}
    used = set()
    with open(SIMPLE, encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            used.update(p for p in r["program_ids"].split(";") if p)
    staged, _ = parse([DEMO / SOURCE / demo.FILE_NAME], tmp_path / "demo")
    used.update(p for (ps,) in staged.rows("select programs from designations") for p in ps)
    assert used and used <= keys, sorted(used - keys)


def test_source_yml_keeps_the_source_off_and_apart():
    meta = load_meta(SOURCE)
    assert meta.default is False and "CC BY-NC" in meta.licence
    assert meta.authority == "opensanctions"
    assert "never added" in meta.notes.lower() or "NEVER added" in meta.notes


# --- the command line ----------------------------------------------------------------------------


@pytest.mark.integration
def test_pipeline_parse_command_on_a_sample(tmp_path: Path):
    out = tmp_path / "staged"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "parse", SOURCE, str(EXCERPT), "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "snapshot 2024-06-01" in proc.stdout
    assert "designations         6 rows" in proc.stdout
    part = out / "designations" / f"source={SOURCE}" / "snapshot_date=2024-06-01"
    assert len(list(part.glob("*.parquet"))) == 1
    bad = tmp_path / "page.html"
    bad.write_text("<html><body>Error</body></html>")
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "parse", SOURCE, str(bad), "--out", str(out / "x")],
                          cwd=REPO, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode != 0 and "page.html" in proc.stderr and "HTML page" in proc.stderr
