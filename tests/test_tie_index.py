"""The bilateral tie index (mart_dyad_ties) and the staged checks of the alignment sources, on
tiny given rows whose expected values are worked out here by hand."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.settings import REPO_ROOT
from tests.model_fixtures import given, replace, run

SQL = REPO_ROOT / "sql"


def _build(db: Path) -> None:
    """mart_dyad_ties built by dbt over given rows of the models it reads (its inputs' columns as
    built on an empty lake)."""
    events = [  # source, month, a, b, direction, realized events, planned, cooperation C, conflict K
        ("all", date(2022, 3, 1), "IR", "RU", "both", 4, 1, 30.0, 0.0),
        ("all", date(2022, 9, 1), "IR", "RU", "both", 1, 0, 8.3, 2.0),
        ("all", date(2022, 5, 1), "RU", "US", "both", 3, 0, 2.0, 18.0),
    ]
    replace(db, "mart_dyad_events_monthly", [
        {"source": source, "month": month, "country_a": a, "country_b": b, "direction": direction,
         "events": realized + planned, "realized_events": realized, "planned_events": planned, "alleged_events": 0,
         "denied_events": 0, "cooperation": coop, "conflict": conflict}
        for source, month, a, b, direction, realized, planned, coop, conflict in events])
    sanctions = [  # component, a, b, designation, edge key, evidence date
        ("linked_to_both", "IR", "RU", "d1", None, date(2021, 6, 1)),
        ("linked_to_both", "IR", "RU", "d2", None, date(2022, 11, 5)),
        ("a_under_b_programs", "IR", "RU", "d3", None, date(2023, 1, 1)),  # after 2022: not in force in 2022
        ("relation_edge", "IR", "RU", "d1", "k1~k2", date(2021, 6, 1)),
    ]
    replace(db, "int_dyad_sanctions_evidence", [
        {"authority": "us_ofac", "country_a": a, "country_b": b, "component": component, "designation_id": designation,
         "entity_key": "e", "primary_name": "n", "detail": "d", "edge_key": edge, "evidence_date": day}
        for component, a, b, designation, edge, day in sanctions])
    votes = [("IR", "RU", 0.8, 0.3), ("RU", "US", 0.3, -0.1), ("KP", "RU", 0.9, 0.5)]
    replace(db, "mart_unga_agreement", [
        {"period_type": "year", "period": 2022, "country_a": a, "country_b": b, "common_votes": 40,
         "min_common_votes": 10, "agreement": agreement, "kappa": kappa, "s_score": 2 * agreement - 1}
        for a, b, agreement, kappa in votes])
    run(db, "mart_dyad_ties")


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """Every model mart_dyad_ties reads built on an empty lake, then replaced by given rows."""
    path = given(tmp_path_factory.mktemp("ties"))
    run(path, "+mart_dyad_ties")
    _build(path)
    return path


@pytest.fixture
def con(db: Path):
    connection = duckdb.connect(str(db), read_only=True)
    yield connection
    connection.close()


def _ties(con, period_type: str = "year", period: str = "2022") -> pd.DataFrame:
    return con.execute("select * from mart_dyad_ties where period_type = ? and period = ? order by country_a, "
                       "country_b", [period_type, period]).df().set_index(["country_a", "country_b"])


def test_components_on_their_own(con):
    ties = _ties(con)
    ir_ru = ties.loc[("IR", "RU")]
    assert ir_ru["realized_events"] == 5 and ir_ru["planned_events"] == 1
    assert ir_ru["events_cooperation"] == pytest.approx(38.3)
    assert ir_ru["events_net_cooperation"] == pytest.approx((38.3 - 2.0) / (38.3 + 2.0))
    # in force at the end of 2022: d1 and d2 tied to both, the 2021 edge; d3 (2023) not yet
    assert (ir_ru["sanctions_linked_to_both"], ir_ru["sanctions_cross_program"], ir_ru["sanctions_relation_edges"]) \
        == (2, 0, 1)
    assert ir_ru["unga_agreement"] == pytest.approx(0.8)
    assert ties.loc[("RU", "US")]["events_net_cooperation"] == pytest.approx(-0.8)
    assert math.isnan(ties.loc[("KP", "RU")]["events_net_cooperation"])


def test_composite_index_is_the_weighted_mean_of_standardized_components(con):
    ties = _ties(con)

    def z(values: dict) -> dict:
        mean = sum(values.values()) / len(values)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values.values()) / len(values))
        return {k: (v - mean) / sd if sd > 1e-12 else 0.0 for k, v in values.items()}

    ir, us, kp = ("IR", "RU"), ("RU", "US"), ("KP", "RU")
    components = {  # component: {pair: transformed value}, only the pairs that have it in 2022
        "events_cooperation": {ir: math.log1p(38.3), us: math.log1p(2.0)},
        "events_net_cooperation": {ir: 36.3 / 40.3, us: -0.8},
        "sanctions_linked_to_both": {ir: math.log1p(2)},
        "sanctions_cross_program": {ir: math.log1p(0)},
        "sanctions_relation_edges": {ir: math.log1p(1)},
        "unga_agreement": {ir: 0.8, us: 0.3, kp: 0.9},
        "unga_kappa": {ir: 0.3, us: -0.1, kp: 0.5},
    }
    scores: dict = {}
    for values in components.values():
        for pair, value in z(values).items():
            scores.setdefault(pair, []).append(value)
    expected = {pair: sum(v) / len(v) for pair, v in scores.items()}  # default weights are all 1
    for pair, value in expected.items():
        assert ties.loc[pair]["tie_index"] == pytest.approx(value, abs=1e-8)
        assert ties.loc[pair]["index_components"] == len(scores[pair])
    ranked = sorted(expected, key=lambda p: -expected[p])
    assert [ties.loc[p]["tie_rank"] for p in ranked] == [1, 2, 3]


def test_weights_are_data(db: Path):
    """A zero weight takes a component out of the index (ref.tie_index_weights is the CSV)."""

    def weights(sql: str) -> None:
        connection = duckdb.connect(str(db))
        try:
            connection.execute(sql)
        finally:
            connection.close()

    weights("create or replace table ref.tie_index_weights_backup as select * from ref.tie_index_weights")
    try:
        weights("update ref.tie_index_weights set weight = '0' where component not like 'unga_%'")
        run(db, "mart_dyad_ties")
        connection = duckdb.connect(str(db), read_only=True)
        try:
            ties = _ties(connection)
        finally:
            connection.close()
        assert set(ties["index_components"]) == {2}
        assert ties.loc[("KP", "RU")]["tie_rank"] == 1
    finally:
        weights("create or replace table ref.tie_index_weights as select * from ref.tie_index_weights_backup")
        run(db, "mart_dyad_ties")


def test_month_periods_carry_events_and_sanctions_but_no_votes(con):
    march = _ties(con, "month", "2022-03")
    assert list(march.index) == [("IR", "RU")]
    assert march.iloc[0]["realized_events"] == 4 and math.isnan(march.iloc[0]["unga_agreement"])


def test_alignment_staged_suites_pass_and_fail(tmp_path: Path):
    """The staged suites of GDELT, articles and votes on real demo rows, then on broken rows."""
    from expectations.staged_alignment import alignment_suites, prepare
    from pipeline.parse import parse_files
    from pipeline.validation import validate_stage

    demo = REPO_ROOT / "data" / "demo"
    cases = {
        "gdelt_events": (sorted((demo / "gdelt_events").glob("*.CSV")), ["gdelt_events"]),
        "articles": (sorted(p for p in (demo / "articles").iterdir() if p.suffix in (".md", ".jsonl")),
                     ["article_events", "articles", "article_claims"]),
        "unga_votes": (sorted((demo / "unga_votes").glob("*.csv")), ["unga_votes", "unga_rollcalls"]),
    }
    for source, (paths, tables) in cases.items():
        result = parse_files(source, paths, tmp_path / source)
        frames = {}
        for table in tables:
            part = tmp_path / source / table / f"source={source}" / f"snapshot_date={result.snapshot_date}"
            frames[table] = prepare(table, pd.read_parquet(part))
        suites = alignment_suites(tables, tables[0], 1, 10**6)
        assert all(r.success for r in validate_stage("staged", frames, suites))
        broken = frames[tables[0]].copy()
        if source == "gdelt_events":
            broken.loc[broken.index[0], "goldstein"] = 9.9  # not the codebook's value
        elif source == "articles":
            broken.loc[broken.index[0], "actor2_iso3"] = broken.loc[broken.index[0], "actor1_iso3"]
        else:
            broken.loc[broken.index[0], "vote_code"] = 5
        with pytest.raises(Exception, match="critical"):
            validate_stage("staged", {**frames, tables[0]: prepare(tables[0], broken)}, suites)
