"""SQL models built by dbt on tiny given rows (tests/model_fixtures.py): the build order from
``ref()``, and the marts end to end from the staged tables up.

Given/expected rows for one model at a time live beside the models as dbt unit tests
(``sql/models/*/_unit_tests.yml``), run by ``dbt build`` (tests/test_dbt_project.py)."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.errors import ModelError
from pipeline.models import build_order, discover, load_docs
from tests.model_fixtures import given, rows, run, unit_tests

REPO = Path(__file__).resolve().parents[1]
SQL = REPO / "sql"
SNAP = date(2024, 6, 28)


def test_build_order_follows_the_sql():
    models = discover(SQL)
    order = [m.name for m in build_order(models)]
    for model in models.values():
        for dep in model.depends_on:
            assert order.index(dep) < order.index(model.name), f"{dep} must build before {model.name}"
    assert models["mart_rank_crossovers"].depends_on == {"mart_country_rankings_monthly", "int_country_months"}
    assert models["int_designations_current"].depends_on == {"stg_sanctions__designations", "int_current_snapshots"}
    assert all(m.grain.startswith("grain: one row per") for m in models.values())


def test_cycle_and_missing_grain_are_errors(tmp_path: Path):
    (tmp_path / "staging").mkdir()
    (tmp_path / "staging" / "a.sql").write_text("-- grain: one row per a\nselect * from {{ ref('b') }}")
    (tmp_path / "staging" / "b.sql").write_text('-- grain: one row per b\nselect * from {{ ref( "a" ) }}')
    with pytest.raises(ModelError, match="cycle"):
        build_order(discover(tmp_path))
    (tmp_path / "staging" / "b.sql").write_text("select 1 as x")
    with pytest.raises(ModelError, match="grain"):
        discover(tmp_path)


def test_the_dbt_unit_tests_pass(built: Path):
    """The given/expected rows of sql/models/*/_unit_tests.yml, run by dbt on the built models."""
    declared = {t["name"] for path in SQL.glob("models/*/_unit_tests.yml")
                for t in yaml.safe_load(path.read_text())["unit_tests"]}
    ran, failed = unit_tests(built)
    assert failed == []
    assert ran == declared and len(ran) >= 4


def test_dbt_is_the_only_runner():
    """pipeline/models.py renders no model itself: no Jinja, no second way to build."""
    tree = ast.parse((REPO / "pipeline" / "models.py").read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom) for a in n.names} | {
        n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {m for m in imported if m and m.split(".")[0] == "jinja2"}
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert not defined & {"render", "run_models", "load_sources"}


def test_every_mart_column_is_documented(built: Path):
    docs = load_docs(SQL)
    for model in discover(SQL).values():
        if model.layer != "marts":
            continue
        columns = [r[0] for r in rows(built, f"describe {model.name}")]
        documented = docs.get(model.name, {}).get("columns", {})
        assert set(columns) == set(documented), f"{model.name}: undocumented {set(columns) - set(documented)}"
        comments = rows(built, "select count(*) from duckdb_columns() where table_name = ? and comment <> ''",
                        [model.name])[0][0]
        assert comments == len(columns)


def _designation(source, snap, rid, etype, name, programs, listed, authority="us_ofac", lst="SDN"):
    return {"designation_id": f"{source}:{lst}:{rid}", "authority": authority, "list": lst,
            "source_record_id": rid, "entity_key": f"{source}:{rid}", "entity_type": etype,
            "primary_name": name, "programs": programs, "listed_on": listed, "reference_number": None,
            "remarks": None, "raw_sha256": "0" * 64, "raw_file": "f.xml", "source": source, "snapshot_date": snap}


def _link(source, rid, link_type, iso2, raw, snap=SNAP):
    return {"entity_key": f"{source}:{rid}", "source_record_id": rid, "link_type": link_type,
            "country_iso2": iso2, "region": None, "raw_value": raw, "raw_sha256": "0" * 64,
            "raw_file": "f.xml", "source": source, "snapshot_date": snap}


def _given(folder: Path) -> Path:
    ofac, un = "us_ofac_sdn", "un_sc"
    designations = pd.DataFrame([
        _designation(ofac, date(2024, 1, 1), "1", "person", "OLD SNAPSHOT", ["RUSSIA-EO14024"], date(2022, 3, 15)),
        _designation(ofac, SNAP, "1", "person", "IVANOV, Ivan", ["RUSSIA-EO14024"], date(2022, 3, 15)),
        _designation(ofac, SNAP, "2", "organization", "SHAHED", ["RUSSIA-EO14024", "IRAN"], date(2022, 11, 15)),
        _designation(ofac, SNAP, "3", "organization", "BANK X", ["IRAN"], date(2019, 1, 1)),
        _designation(ofac, SNAP, "4", "vessel", "SHIP", ["SDGT", "NOT-IN-TABLE"], date(2020, 5, 1)),
        _designation(ofac, SNAP, "5", "organization", "RU BANK", ["UKRAINE-EO13662"], date(2022, 4, 6)),
        _designation(ofac, SNAP, "6", "organization", "RU TRADING", ["IRAN"], date(2023, 1, 10)),
        _designation(un, SNAP, "u1", "person", "KIM", ["DPRK"], date(2009, 4, 24), authority="un_sc", lst="UN"),
    ])
    links = pd.DataFrame([
        _link(ofac, "1", "nationality", "RU", "Russia"),
        _link(ofac, "2", "nationality", "IR", "Iran"),
        _link(ofac, "3", "address", "IR", "Iran"),
        _link(ofac, "4", "flag", "PA", "Panama"),
        _link(ofac, "4", "address", None, "undetermined"),
        _link(ofac, "6", "address", "RU", "Russia"),
    ])
    relations = pd.DataFrame([{
        "entity_key": f"{ofac}:1", "source_record_id": "1", "related_entity_key": f"{ofac}:2",
        "related_name": "SHAHED", "relation_type": "associate_of", "raw_relation": "Associate Of",
        "raw_sha256": "0" * 64, "source": ofac, "snapshot_date": SNAP}])
    countries = pd.DataFrame([("RU", "RUS", "Russia", "state"), ("IR", "IRN", "Iran", "state"),
                              ("KP", "PRK", "North Korea", "state"), ("PA", "PAN", "Panama", "state")],
                             columns=["iso2", "iso3", "name", "kind"])
    programs = pd.DataFrame([
        ("us_ofac", "RUSSIA-EO14024", "RU", "", "country"), ("us_ofac", "UKRAINE-EO13662", "RU", "", "country"),
        ("us_ofac", "IRAN", "IR", "", "country"), ("us_ofac", "SDGT", "", "", "thematic"),
        ("un_sc", "DPRK", "KP", "", "country")], columns=["authority", "program", "target_iso2", "region", "kind"])
    # every staged table (empty) and every reference table, then the given rows in place of some
    return given(folder, lake={"designations": designations, "country_links": links, "relations": relations},
                 ref={"countries": countries, "programs": programs})


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = _given(tmp_path_factory.mktemp("models"))
    run(db, "+marts")  # every mart and all it reads (the matching and fetch inputs too)
    return db


def _rows(db: Path, sql: str) -> list[tuple]:
    return rows(db, sql)


def test_rankings_by_basis(built):
    got = _rows(built, """select basis, country_iso2, designations, rank, round(share, 4) from mart_country_rankings
                          where unit = 'designations' and authority = 'all' and entity_type = 'all'
                          order by basis, rank, country_iso2""")
    assert got == [
        # any: RU d1 d2 d5 d6 | IR d2 d3 d6 | KP u1 | PA d4 (flag) -> 7 designations with a country
        ("any", "RU", 4, 1, 0.5714), ("any", "IR", 3, 2, 0.4286), ("any", "KP", 1, 3, 0.1429),
        ("any", "PA", 1, 3, 0.1429),
        # nationality: RU d1 | IR d2 | PA d4 (flag counts as nationality-like); d6 has an address only
        ("nationality", "IR", 1, 1, 0.3333), ("nationality", "PA", 1, 1, 0.3333), ("nationality", "RU", 1, 1, 0.3333),
        # programme target: RU d1 d2 d5 | IR d2 d3 d6 | KP u1; SDGT is thematic, NOT-IN-TABLE unknown
        ("program_target", "IR", 3, 1, 0.5), ("program_target", "RU", 3, 1, 0.5),
        ("program_target", "KP", 1, 3, 0.1667),
    ]
    assert _rows(built, "select distinct as_of_date from mart_country_rankings") == [(SNAP,)]


def test_rankings_by_authority_and_type(built):
    got = _rows(built, """select authority, entity_type, country_iso2, designations from mart_country_rankings
                          where basis = 'program_target' and authority <> 'all' order by all""")
    assert ("un_sc", "all", "KP", 1) in got
    assert ("us_ofac", "organization", "RU", 2) in got  # d2 and d5
    assert ("us_ofac", "person", "RU", 1) in got
    assert not [r for r in got if r[0] == "un_sc" and r[2] != "KP"]


def test_monthly_series_from_listing_dates(built):
    ru = _rows(built, """select month, designations from mart_country_rankings_monthly
                         where unit = 'designations' and authority = 'all' and basis = 'program_target'
                         and country_iso2 = 'RU'
                         and month in ('2022-02-01', '2022-03-01', '2022-04-01', '2022-11-01') order by month""")
    assert ru == [(date(2022, 3, 1), 1), (date(2022, 4, 1), 2), (date(2022, 11, 1), 3)]
    crossings = _rows(built, """select month, country_iso2, overtaken_iso2, designations, overtaken_designations
                                from mart_rank_crossovers where unit = 'designations' and authority = 'all'
                                and basis = 'program_target'
                                order by month, country_iso2, overtaken_iso2""")
    assert (date(2022, 4, 1), "RU", "IR", 2, 1) in crossings


def test_dyad_ties_and_evidence(built):
    got = _rows(built, """select authority, linked_to_both, a_under_b_programs, b_under_a_programs, relation_edges
                          from mart_dyad_sanctions_exposure where country_a = 'IR' and country_b = 'RU'
                          order by authority""")
    # d2 (IR nationality, RU programme) and d6 (RU address, IR programme) are tied to both; d2 is
    # an Iranian entity under a Russia programme, d6 a Russian one under an Iran programme;
    # d1 (RU) -> d2 (RU, IR) is a relationship edge across the pair.
    assert got == [("all", 2, 1, 1, 1), ("us_ofac", 2, 1, 1, 1)]
    evidence = _rows(built, """select component, record_id from mart_dyad_evidence
                               where country_a = 'IR' and country_b = 'RU' and evidence_kind = 'sanctions'
                               order by 1, 2""")
    assert evidence == [("a_under_b_programs", "us_ofac_sdn:SDN:2"), ("b_under_a_programs", "us_ofac_sdn:SDN:6"),
                        ("linked_to_both", "us_ofac_sdn:SDN:2"), ("linked_to_both", "us_ofac_sdn:SDN:6"),
                        ("relation_edge", "us_ofac_sdn:SDN:1")]


def test_unmapped_values_and_unknown_programs_are_reported(built):
    assert _rows(built, "select * from mart_unmapped_countries") == [
        ("us_ofac_sdn", "unknown", "address", "undetermined", 1)]
    assert _rows(built, "select * from mart_unknown_programs") == [("us_ofac", "NOT-IN-TABLE", 1)]
