"""Unique targets (pipeline/matching): the traps of issue 14 on small synthetic records, stable ids,
reviewed judgements, the step's files read by the dbt models, the FtM export's checker, and the
precision and recall floors on the held-out labelled pairs once they exist."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.errors import PipelineError
from pipeline.matching import ids, judgements, normalize, step
from pipeline.matching.records import Record, load_records
from pipeline.matching.resolve import Judgement, resolve
from pipeline.matching.rules import un_reference, valid_imo

_N = iter(range(1, 10_000))


def rec(source: str, name: str, kind: str = "person", *, born: list[int] = (), ids_: list[tuple[str, str]] = (),
        nationality: set[str] = (), aliases: list[str] = (), snapshot: str = "2025-01-01", record_id: str = "",
        key: str = "", remarks: str | None = None, countries: dict[str, set[str]] | None = None) -> Record:
    rid = record_id or str(next(_N))
    r = Record(designation_id=f"{source}:L:{rid}", source=source, source_record_id=rid, list_code="L",
               authority=source, entity_key=key or f"{source}:{rid}", entity_type=kind, primary_name=name,
               first_snapshot=snapshot, last_snapshot=snapshot, remarks=remarks)
    r.names = [(name, None), *[(a, None) for a in aliases]]
    r.identifiers = list(ids_)
    r.births = [(y, y, None) for y in born]
    r.countries = dict(countries or {})
    if nationality:
        r.countries["nationality"] = set(nationality)
    return r


def together(records: list[Record], a: Record, b: Record, judged: list[Judgement] = ()) -> bool:
    res = resolve(records, list(judged))
    cluster = {d: i for i, members in enumerate(res.clusters) for d in members}
    return cluster[a.designation_id] == cluster[b.designation_id]


# --- names -----------------------------------------------------------------------------------------

def test_transliterations_fold_together():
    a, b = normalize.tokens("Musa Abu MARZOUK"), normalize.tokens("ABU MARZOOK, Mousa Mohammed")
    assert normalize.compare(a, b).level == "subset"
    assert normalize.tokens("Abd al-Rahman JUMA") == normalize.tokens("ABDULRAHMAN Juma")
    assert normalize.tokens("MORDASHOV, Alexey") == normalize.tokens("Алексей Мордашов")


def test_family_members_do_not_agree_by_name():
    for x, y in [("Viktor Aleksandrovich LUKASHENKO", "Dmitry Aleksandrovich LUKASHENKO"),
                 ("Barzan Ibrahim Hasan AL-TIKRITI", "Sabawi Ibrahim Hasan AL-TIKRITI"),
                 ("Aisha Muammar QADHAFI", "Hannibal Muammar QADHAFI"),
                 ("Ali Hasan MAJID", "Ali Husayn MAJID")]:
        assert normalize.compare(normalize.tokens(x), normalize.tokens(y)).level == "partial", (x, y)


def test_a_legal_form_alone_is_no_name():
    assert normalize.tokens("CORP", "organization") == ()
    corp1, corp2 = rec("us_ofac_sdn", "CORP", "organization"), rec("un_sc", "CORP", "organization")
    assert not together([corp1, corp2], corp1, corp2)


# --- must merge ------------------------------------------------------------------------------------

def test_transliterated_person_with_close_birth_years_merges():
    a = rec("un_sc", "Musa Abu MARZOUK", born=[1951])
    b = rec("us_ofac_sdn", "ABU MARZOOK, Mousa Mohammed", born=[1952])
    assert together([a, b], a, b)


def test_renamed_vessel_joins_by_imo_only():
    a = rec("gb_hmt", "OCEAN STAR", "vessel", ids_=[("imo", "9187629")])
    b = rec("ca_sema", "Sea Breeze", "vessel", ids_=[("imo", "IMO 9187629")])
    assert together([a, b], a, b)
    res = resolve([a, b])
    assert res.attached[a.designation_id].method == "imo"


def test_un_reference_in_the_wrong_field_of_a_uk_record_merges():
    un = rec("un_sc", "ABDEL RAHMAN JUMA BARKALLA", record_id="6909001")
    un.reference_number = "SDi.005"
    uk = rec("gb_hmt", "BARKALLA, Abdel Rahman", remarks="SDi.005.")
    assert together([un, uk], un, uk)
    # a note that mentions another listing's reference is not the record's own
    other = rec("gb_hmt", "Someone Else Entirely", remarks="Key operative in Al-Qaida (QDe.004).")
    qde = rec("un_sc", "AL-QAIDA", "organization", record_id="6908002")
    qde.reference_number = "QDe.004"
    assert not together([other, qde], other, qde)


def test_two_eu_records_with_one_eu_reference_merge():
    a = rec("eu_fsf", "Ivan PETROV", ids_=[("eu_reference", "EU.1234.56")])
    b = rec("eu_fsf", "Ivan Ivanovich PETROV", ids_=[("eu_reference", "EU.1234.56")])
    assert together([a, b], a, b)


def test_passport_merges_when_the_names_agree():
    a = rec("un_sc", "Ali Akbar TABATABAEI", ids_=[("passport", "9003213")])
    b = rec("gb_hmt", "TABATABAEI, Ali Akbar", ids_=[("passport", "9003213")])
    assert together([a, b], a, b)


# --- must not merge ----------------------------------------------------------------------------------

def test_two_people_with_the_same_two_passports_stay_apart():
    docs = [("passport", "9003213"), ("passport", "6620505")]
    a = rec("un_sc", "ALI AKBAR TABATABAEI", ids_=docs)
    b = rec("un_sc", "AZIM AGHAJANI", ids_=docs)
    assert not together([a, b], a, b)


def test_imo_company_numbers_on_companies_join_nothing():
    a = rec("us_ofac_sdn", "NAVIGATOR SHIPPING LLC", "organization", ids_=[("imo", "5947863")])
    b = rec("gb_hmt", "ORIENT MARITIME LTD", "organization", ids_=[("imo", "5947863")])
    ship = rec("ca_sema", "Navigator", "vessel", ids_=[("imo", "5947863")])
    assert not together([a, b, ship], a, b)
    assert not together([a, b, ship], a, ship)


def test_two_vessels_with_one_name_and_different_imo_stay_apart():
    a = rec("un_sc", "HONG LU", "vessel", ids_=[("imo", "9187629")])
    b = rec("opensanctions", "HONG LU", "vessel", ids_=[("imo", "9253325")])
    c = rec("gb_hmt", "HONG LU", "vessel")  # no IMO: could chain the two
    assert not together([a, b, c], a, b)


def test_namesakes_born_far_apart_stay_apart():
    a = rec("un_sc", "Mohammad Hassan AKHUND", born=[1955])
    b = rec("us_ofac_sdn", "AKHUND, Mohammad Hassan", born=[1978])
    assert not together([a, b], a, b)


def test_family_members_with_one_birth_year_stay_apart():
    a = rec("un_sc", "Barzan Ibrahim Hasan AL-TIKRITI", born=[1951])
    b = rec("us_ofac_sdn", "AL-TIKRITI, Sabawi Ibrahim Hasan", born=[1951])
    assert not together([a, b], a, b)


def test_no_chain_through_a_shorter_name():
    a = rec("un_sc", "Mohammad Ali HASSAN", born=[1970])
    b = rec("us_ofac_sdn", "ALI, Mohammad", born=[1970])
    c = rec("gb_hmt", "Mohammad Ali REZA", born=[1970])
    records = [a, b, c]
    assert together(records, a, b) or together(records, b, c)
    assert not together(records, a, c)


def test_one_list_naming_two_records_at_once_needs_strong_evidence():
    a = rec("us_ofac_sdn", "AL-AQSA FOUNDATION", "organization", countries={"address": {"SE"}})
    b = rec("us_ofac_sdn", "AL-AQSA FOUNDATION", "organization", countries={"address": {"BE"}})
    uk = rec("gb_hmt", "AL-AQSA FOUNDATION", "organization")
    assert not together([a, b, uk], a, b)


# --- ids across snapshots ------------------------------------------------------------------------------

def test_a_target_keeps_its_id_when_the_source_key_changes():
    old = rec("ca_sema", "Badr Lafi ALOTAIBI", born=[1973], record_id="Russia|1|15", snapshot="2020-04-01")
    first = step.match([old])[1]
    new = rec("ca_sema", "Badr Lafi ALOTAIBI", born=[1973], record_id="Russia|Part 1|15", snapshot="2025-05-01")
    second = step.match([old, new], previous=first)[1]
    assert second[new.designation_id] == second[old.designation_id] == first[old.designation_id]


def test_a_split_target_leaves_its_id_with_the_larger_part():
    previous = {"a": "T-1", "b": "T-1", "c": "T-1"}
    got = ids.assign([["a", "b"], ["c"]], previous)
    assert got["a"] == got["b"] == "T-1" and got["c"] not in ("T-1",)
    assert ids.assign([["a", "b"], ["c"]], {}) == ids.assign([["a", "b"], ["c"]], {})  # same inputs, same ids


# --- reviewed judgements ------------------------------------------------------------------------------

def test_judgements_override_the_matcher(tmp_path: Path):
    a = rec("un_sc", "Hassan Ali", born=[1960], ids_=[("un_reference", "QDi.001")])
    b = rec("gb_hmt", "H. Ali", ids_=[("un_reference", "QDi.001")])
    c = rec("us_ofac_sdn", "Someone Different", born=[1990])
    path = tmp_path / "judgements.csv"
    path.write_text("left_source,left_record_id,right_source,right_record_id,judgement,reviewer,reason\n"
                    f"un_sc,{a.source_record_id},gb_hmt,{b.source_record_id},not_same,ana,two people\n"
                    f"un_sc,{a.source_record_id},us_ofac_sdn,{c.source_record_id},same,ana,alias confirmed\n",
                    encoding="utf-8")
    records = [a, b, c]
    judged, unknown = judgements.resolve_judgements(judgements.read(path), records, path)
    assert unknown == 0
    assert together(records, a, b) and not together(records, a, b, judged)
    assert together(records, a, c, judged)


def test_a_bad_judgement_names_the_file_line_and_rule(tmp_path: Path):
    path = tmp_path / "judgements.csv"
    path.write_text("left_source,left_record_id,right_source,right_record_id,judgement,reviewer,reason\n"
                    "un_sc,1,gb_hmt,2,maybe,ana,unsure\n", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"judgements.csv, line 2: judgement 'maybe' \(rule: same or not_same\)"):
        judgements.read(path)


# --- identifiers ------------------------------------------------------------------------------------

def test_identifier_spellings():
    assert valid_imo("IMO 9187629") == "9187629" and valid_imo("9187628") is None
    assert un_reference("SDi.005.") == "SDi.005" and un_reference("UN Ref QDi.430") == "QDi.430"
    assert un_reference("Key operative in Al-Qaida (QDe.004).") is None


# --- the step's files, read by the dbt models -------------------------------------------------------

def _staged(root: Path, table: str, source: str, snapshot: str, rows: list[dict]) -> None:
    folder = root / table / f"source={source}" / f"snapshot_date={snapshot}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / "part-x.parquet")


def test_the_step_reads_the_lake_and_writes_its_files(tmp_path: Path):
    lake = tmp_path / "staged"
    base = {"authority": "un", "list": "UN", "programs": [], "raw_sha256": "x", "raw_file": "f"}
    _staged(lake, "designations", "un_sc", "2026-01-01", [
        {**base, "designation_id": "un_sc:UN:1", "source_record_id": "1", "entity_key": "un_sc:1",
         "entity_type": "person", "primary_name": "Ivan PETROV", "reference_number": "QDi.001"}])
    _staged(lake, "designations", "gb_hmt", "2026-01-02", [
        {**base, "authority": "gb", "list": "UKSL", "designation_id": "gb_hmt:UKSL:g-9-AQD",
         "source_record_id": "g-9-AQD", "entity_key": "gb_hmt:g-9", "entity_type": "person",
         "primary_name": "PETROV, Ivan", "reference_number": "AQD0001"}])
    _staged(lake, "identifiers", "gb_hmt", "2026-01-02", [
        {"entity_key": "gb_hmt:g-9", "source_record_id": "g-9-AQD", "id_type": "un_reference", "id_value": "QDi.001",
         "raw_sha256": "x", "raw_file": "f"}])
    records = load_records(lake)
    assert [r.designation_id for r in records] == ["gb_hmt:UKSL:g-9-AQD", "un_sc:UN:1"]
    stats = step.run(lake, tmp_path / "out", None, None)
    assert stats["targets"] == 1
    table = pq.read_table(tmp_path / "out" / step.TARGETS_FILE).to_pylist()
    assert {r["target_id"] for r in table} == {table[0]["target_id"]}
    assert {r["match_method"] for r in table} == {"un_reference"}
    assert json.loads(table[0]["evidence"]) == {"un_reference": "QDi.001"}


def test_mart_targets_counts_a_target_once(tmp_path: Path):
    from tests.model_fixtures import given, rows, run

    designations = [
        {"designation_id": f"{s}:L:{i}", "authority": s, "list": "L", "source_record_id": i, "entity_key": f"{s}:{i}",
         "entity_type": "person", "primary_name": n, "programs": [], "source": s, "snapshot_date": "2026-01-01",
         "raw_sha256": "x", "raw_file": "f"}
        for s, i, n in [("un_sc", "1", "Ivan PETROV"), ("gb_hmt", "9", "PETROV, Ivan"), ("eu_fsf", "7", "Olga K")]]
    db = given(tmp_path, lake={"designations": designations})
    (tmp_path / "_matching").mkdir()
    pq.write_table(pa.Table.from_pylist([
        {"designation_id": "un_sc:L:1", "target_id": "T-a", "match_method": "un_reference", "match_score": 1.0},
        {"designation_id": "gb_hmt:L:9", "target_id": "T-a", "match_method": "un_reference", "match_score": 1.0},
    ], schema=step.TARGETS_SCHEMA), tmp_path / "_matching" / step.TARGETS_FILE)
    run(db, "+mart_targets", "+mart_match_candidates")
    got = rows(db, "select designation_id, target_id, target_designations from mart_targets order by 1")
    assert got == [("eu_fsf:L:7", "D-eu_fsf:L:7", 1), ("gb_hmt:L:9", "T-a", 2), ("un_sc:L:1", "T-a", 2)]
    assert rows(db, "select count(*), count(distinct target_id) from mart_targets") == [(3, 2)]


def test_rankings_count_a_target_once_per_country(tmp_path: Path):
    """Unit 'targets' beside 'designations' (issue 14, point 5): one person listed by the UN and the UK is two
    designations and one target for Russia in 'all', one of each under each authority."""
    from tests.model_fixtures import given, rows, run

    base = {"entity_type": "person", "snapshot_date": "2026-01-01", "raw_sha256": "x", "raw_file": "f",
            "programs": [], "list": "L"}
    people = [("un_sc", "un_sc", "1", "Ivan PETROV"), ("gb_hmt", "gb", "9", "PETROV, Ivan"),
              ("eu_fsf", "eu", "7", "Olga K")]
    designations = [{**base, "designation_id": f"{s}:L:{i}", "authority": a, "source_record_id": i,
                     "entity_key": f"{s}:{i}", "primary_name": n, "source": s} for s, a, i, n in people]
    links = [{"entity_key": f"{s}:{i}", "source_record_id": i, "link_type": "nationality", "country_iso2": "RU",
              "region": None, "country_status": "mapped", "raw_value": "Russia", "source": s,
              "snapshot_date": "2026-01-01", "raw_sha256": "x", "raw_file": "f"} for s, _a, i, _n in people]
    db = given(tmp_path, lake={"designations": designations, "country_links": links})
    (tmp_path / "_matching").mkdir()
    pq.write_table(pa.Table.from_pylist([
        {"designation_id": "un_sc:L:1", "target_id": "T-a", "match_method": "un_reference", "match_score": 1.0},
        {"designation_id": "gb_hmt:L:9", "target_id": "T-a", "match_method": "un_reference", "match_score": 1.0},
    ], schema=step.TARGETS_SCHEMA), tmp_path / "_matching" / step.TARGETS_FILE)
    run(db, "+mart_country_rankings")
    got = rows(db, """select unit, authority, designations from mart_country_rankings
                      where basis = 'nationality' and entity_type = 'all' and list_code = 'all'
                        and country_iso2 = 'RU' order by 1, 2""")
    assert got == [("designations", "all", 3), ("designations", "eu", 1), ("designations", "gb", 1),
                   ("designations", "un_sc", 1), ("targets", "all", 2), ("targets", "eu", 1), ("targets", "gb", 1),
                   ("targets", "un_sc", 1)]


def test_mart_targets_names_records_by_the_sources_own_keys(tmp_path: Path):
    """Canada's records by Country|Schedule|Item and the OFSI ConList's by Group ID|regime, as the files write
    them (issue 14, point 5); other sources by their own ids; the staged id stays beside it."""
    from tests.model_fixtures import given, rows, run

    base = {"entity_type": "person", "primary_name": "X", "snapshot_date": "2026-01-01", "raw_sha256": "x",
            "raw_file": "f"}
    designations = [
        {**base, "designation_id": "ca_sema:SEMA:BURMA/air-bagan", "authority": "ca", "list": "SEMA",
         "source_record_id": "BURMA/air-bagan", "entity_key": "ca_sema:air-bagan", "programs": ["BURMA"],
         "source": "ca_sema", "reference_number": "Burma / Birmanie|2|7"},
        {**base, "designation_id": "gb_hmt:UKSL:group-15672-GHR", "authority": "gb", "list": "UKSL",
         "source_record_id": "group-15672-GHR", "entity_key": "gb_hmt:group-15672",
         "programs": ["Global Human Rights"], "source": "gb_hmt", "reference_number": "GHR0086"},
        {**base, "designation_id": "gb_hmt:UKSL:RUS1831", "authority": "gb", "list": "UKSL",
         "source_record_id": "RUS1831", "entity_key": "gb_hmt:RUS1831", "programs": ["Russia"], "source": "gb_hmt",
         "reference_number": "RUS1831"},
        {**base, "designation_id": "un_sc:UN:6909269", "authority": "un_sc", "list": "UN",
         "source_record_id": "6909269", "entity_key": "un_sc:6909269", "programs": ["SD"], "source": "un_sc",
         "reference_number": "SDi.005"},
    ]
    db = given(tmp_path, lake={"designations": designations})
    run(db, "+mart_targets")
    assert rows(db, "select source, source_record_id, staged_record_id from mart_targets order by 1, 2") == [
        ("ca_sema", "Burma / Birmanie|2|7", "BURMA/air-bagan"),
        ("gb_hmt", "15672|Global Human Rights", "group-15672-GHR"),
        ("gb_hmt", "RUS1831", "RUS1831"),
        ("un_sc", "6909269", "6909269"),
    ]


# --- FtM export checker ------------------------------------------------------------------------------

def test_the_ftm_checker_refuses_what_followthemoney_would_not_load(tmp_path: Path):
    from pipeline.matching.ftm import validate

    good = tmp_path / "good.json"
    good.write_text(json.dumps({"id": "T-1", "schema": "Person", "properties": {"name": ["Ivan Petrov"]}}) + "\n"
                    + json.dumps({"id": "S-1", "schema": "Sanction", "properties": {"entity": ["T-1"]}}) + "\n")
    assert validate(good) == {"Person": 1, "Sanction": 1}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "T-1", "schema": "Person", "properties": {"imoNumber": ["IMO9187629"]}}) + "\n")
    with pytest.raises(ValueError, match="line 1: Person has no property 'imoNumber'"):
        validate(bad)


# --- measured: the floors on the held-out pairs -----------------------------------------------------

def test_precision_and_recall_floors_on_the_heldout_pairs(samples, tmp_path: Path):
    from pipeline.matching import scoring

    assert scoring.SETS["heldout"].is_file(), "the frozen held-out labelled pairs are part of the project"
    records = load_records(scoring.build_corpus(tmp_path / "staged", samples))
    result = scoring.score(records, {"heldout": scoring.read_pairs(scoring.SETS["heldout"])})
    tally = result["heldout"]["name"]["all"]
    assert tally.precision >= 0.98, scoring.report(result, ["heldout"], errors=True)
    assert tally.recall >= 0.90, scoring.report(result, ["heldout"], errors=True)
