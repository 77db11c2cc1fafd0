"""The bilateral tie index (mart_dyad_ties, docs/tie_index.md) and the staged checks of the alignment
sources: on tiny given rows whose expected values are worked out here by hand, and on the real samples
(the GDELT 2.0 export of 2019-10-24 14:30 and the unvotes files of sessions 72-74), where issue 15
(part 3) measured what misled a user: two more cooperative GDELT events lowered China-Russia 2019,
17,995 of 18,336 pairs of 2019 were scored on their UN components alone, components were standardized
over the few pairs that had them, and "rank 3184" was a dense rank while 5,560 pairs scored higher.
The index's properties on generated rows are in tests/test_tie_properties.py."""

from __future__ import annotations

import csv
import hashlib
import math
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pipeline.reference import REFERENCE_DIR
from pipeline.settings import REPO_ROOT
from tests.model_fixtures import given, replace, run

SQL = REPO_ROOT / "sql"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples"
GDELT_SAMPLE = SAMPLES / "gdelt" / "20191024143000.export.CSV"
UNVOTES = [SAMPLES / "unga" / name for name in ("unvotes_un_votes_sessions72-74.csv",
                                                 "unvotes_un_roll_calls_sessions68-74.csv",
                                                 "unvotes_un_roll_call_issues.csv")]
COMPONENTS = ("events_cooperation", "events_net_cooperation", "sanctions_linked_to_both", "sanctions_cross_program",
              "sanctions_relation_edges", "unga_agreement", "unga_kappa")


def _states() -> int:
    with (REFERENCE_DIR / "countries.csv").open(newline="", encoding="utf-8") as handle:
        return sum(1 for row in csv.DictReader(handle) if row["kind"] == "state")


STATES = _states()
PAIRS = STATES * (STATES - 1) // 2  # every pair of states: the rows of a period with an index


def _article(article_id: str, published: date) -> dict:
    return {"article_id": article_id, "url": f"https://example.org/{article_id}", "title": "t", "publisher": "p",
            "published_at": published, "text_sha256": "1" * 64, "raw_sha256": "0" * 64, "raw_file": "a.md",
            "source": "articles", "snapshot_date": date(2022, 10, 1)}


def _article_event(record_id: str, a1: str, a2: str, directed: bool) -> dict:
    return {"record_id": record_id, "article_id": "art-03", "sentence_idx": 0, "char_start": 0, "char_end": 40,
            "evidence_text": f"sentence of {record_id}", "actor1_text": a1, "actor2_text": a2, "actor1_iso3": a1,
            "actor2_iso3": a2, "actor1_type": "GOV", "actor2_type": "GOV", "directed": directed,
            "relation_type": "financial_integration", "cameo_code": "061", "cameo_root": "06", "quad_class": 2,
            "goldstein": 6.4, "modality": "realized", "event_date": date(2022, 3, 10), "date_precision": "day",
            "confidence": 0.9, "n_mentions": 1, "extraction_method": "rules", "extractor_version": "1",
            "raw_sha256": "0" * 64, "raw_file": "a.md", "source": "articles", "snapshot_date": date(2022, 10, 1)}


def _build(db: Path) -> None:
    """The tie marts built by dbt over given rows of the models they read (their columns as built on
    the given lake: articles read in March, May and September 2022, one sanctions list snapshot of
    2024-01-01, two article events of March 2022)."""
    events = [  # source, month, a, b, direction, realized events, planned, cooperation C, conflict K
        ("all", date(2022, 3, 1), "IR", "RU", "both", 4, 1, 30.0, 0.0),
        ("all", date(2022, 3, 1), "IR", "RU", "a_to_b", 2, 0, 16.6, 0.0),
        ("all", date(2022, 9, 1), "IR", "RU", "both", 1, 0, 8.3, 2.0),
        ("all", date(2022, 5, 1), "RU", "US", "both", 3, 0, 2.0, 18.0),
        ("all", date(2021, 12, 1), "IR", "RU", "both", 1, 0, 5.0, 0.0),  # a month no event source covers
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
        ("b_under_a_programs", "IR", "RU", "d4", None, date(2022, 2, 1)),  # a Russian entity, Iran programme
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
    run(db, "mart_dyad_ties", "mart_dyad_ties_directed")


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """Every model the tie marts read built on the given lake, then replaced by given rows."""
    lake = {
        "articles": [_article("art-03", date(2022, 3, 2)), _article("art-05", date(2022, 5, 10)),
                     _article("art-09", date(2022, 9, 20))],
        "designations": [{"designation_id": "x", "source": "us_ofac_sdn", "authority": "us_ofac",
                          "snapshot_date": date(2024, 1, 1)}],
        "article_events": [_article_event("r1", "IRN", "RUS", True), _article_event("r2", "RUS", "IRN", False)],
    }
    path = given(tmp_path_factory.mktemp("ties"), lake=lake)
    run(path, "+mart_dyad_ties", "+mart_dyad_ties_directed", "+mart_dyad_evidence")
    _build(path)
    return path


@pytest.fixture
def con(db: Path):
    connection = duckdb.connect(str(db), read_only=True)
    yield connection
    connection.close()


def _ties(con, period_type: str = "year", period: str = "2022", mart: str = "mart_dyad_ties") -> pd.DataFrame:
    keys = ["country_a", "country_b"] if mart == "mart_dyad_ties" else ["from_country", "to_country"]
    return con.execute(f"select * from {mart} where period_type = ? and period = ? order by all",
                       [period_type, period]).df().set_index(keys)


def _mid(below: int, equal: int, n: int = PAIRS) -> float:
    """A mid-rank percentile worked out by hand: (pairs below + (pairs equal - 1) / 2) / (pairs - 1)."""
    return (below + (equal - 1) / 2) / (n - 1)


IR, US, KP, DE = ("IR", "RU"), ("RU", "US"), ("KP", "RU"), ("DE", "FR")


def test_components_on_their_own_and_absence_is_a_zero(con):
    ties = _ties(con)
    ir_ru = ties.loc[IR]
    assert ir_ru["realized_events"] == 5 and ir_ru["planned_events"] == 1
    assert ir_ru["events_cooperation"] == pytest.approx(38.3)
    assert ir_ru["events_net_cooperation"] == pytest.approx((38.3 - 2.0) / (38.3 + 2.0))
    # in force at the end of 2022: d1 and d2 tied to both, d4 (a Russian entity under an Iran programme),
    # the 2021 edge; d3 (2023) not yet
    assert (ir_ru["sanctions_linked_to_both"], ir_ru["sanctions_cross_program"], ir_ru["sanctions_relation_edges"]) \
        == (2, 1, 1)
    assert ir_ru["unga_agreement"] == pytest.approx(0.8)
    assert ties.loc[US]["events_net_cooperation"] == pytest.approx(-0.8)
    # the sources cover 2022, so a pair without events or designations has zeros, not missing values
    for pair in (KP, DE):
        row = ties.loc[pair]
        assert (row["events"], row["realized_events"], row["events_cooperation"], row["events_net_cooperation"]) \
            == (0, 0, 0, 0)
        assert (row["sanctions_linked_to_both"], row["sanctions_cross_program"], row["sanctions_relation_edges"]) \
            == (0, 0, 0)
    assert math.isnan(ties.loc[DE]["unga_agreement"])  # no common votes: no UN score


def test_a_covered_source_covers_every_pair_of_states_and_each_row_says_what_it_used(con):
    ties = _ties(con)
    assert len(ties) == PAIRS
    assert ties[["realized_events", "events_cooperation", "events_net_cooperation", "sanctions_linked_to_both",
                 "sanctions_cross_program", "sanctions_relation_edges"]].notna().all().all()
    assert set(ties["index_component_list"]) == {",".join(COMPONENTS)}
    assert set(ties["index_components"]) == {7} and set(ties["index_pairs"]) == {PAIRS}
    coverage = ties[["events_sources", "articles_read", "gdelt_days", "sanctions_as_of", "unga_rollcalls"]]
    assert len(coverage.drop_duplicates()) == 1  # the period's coverage, the same on every row
    assert (coverage.iloc[0]["events_sources"], coverage.iloc[0]["articles_read"], coverage.iloc[0]["gdelt_days"]) \
        == ("article", 3, 0)
    assert coverage.iloc[0]["sanctions_as_of"] == pd.Timestamp(2024, 1, 1)
    assert ties.loc[DE]["index_neutral_list"] == "unga_agreement,unga_kappa"
    assert pd.isna(ties.loc[IR]["index_neutral_list"])


def test_scores_index_and_competition_ranks_worked_out_by_hand(con):
    n = PAIRS
    expected = {  # component: {pair: mid-rank percentile among the period's pairs}
        "events_cooperation": {IR: _mid(n - 1, 1), US: _mid(n - 2, 1), KP: _mid(0, n - 2), DE: _mid(0, n - 2)},
        "events_net_cooperation": {IR: _mid(n - 1, 1), US: _mid(0, 1), KP: _mid(1, n - 2), DE: _mid(1, n - 2)},
        **{c: {IR: _mid(n - 1, 1), US: _mid(0, n - 1), KP: _mid(0, n - 1), DE: _mid(0, n - 1)}
           for c in ("sanctions_linked_to_both", "sanctions_cross_program", "sanctions_relation_edges")},
        # three pairs have UN scores; a pair without one is neutral (0.5)
        **{c: {IR: _mid(1, 1, 3), US: _mid(0, 1, 3), KP: _mid(2, 1, 3), DE: 0.5} for c in ("unga_agreement",
                                                                                          "unga_kappa")},
    }
    ties = _ties(con)
    for component, scores in expected.items():
        for pair, score in scores.items():
            assert ties.loc[pair][f"{component}_score"] == pytest.approx(score, abs=1e-12), (component, pair)
    for pair in (IR, US, KP, DE):  # default weights are all 1
        assert ties.loc[pair]["tie_index"] == pytest.approx(sum(s[pair] for s in expected.values()) / 7, abs=1e-11)
    # competition ranks: Iran-Russia first, North Korea-Russia second, the n - 3 pairs without evidence
    # share rank 3, and Russia-United States (mostly conflict, the lowest UN scores) is last, rank n
    assert [ties.loc[p]["tie_rank"] for p in (IR, KP, DE, US)] == [1, 2, 3, n]
    assert (ties["tie_rank"] == 3).sum() == n - 3
    assert ((1 + ties["tie_index"].map(lambda v: (ties["tie_index"] > v).sum())) == ties["tie_rank"]).all()


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
        assert set(ties["index_component_list"]) == {"unga_agreement,unga_kappa"}
        assert ties.loc[KP]["tie_rank"] == 1
        # Iran-Russia's UN scores are the middle ones: level with every unscored (neutral) pair
        assert ties.loc[IR]["tie_index"] == ties.loc[DE]["tie_index"] == 0.5 and ties.loc[IR]["tie_rank"] == 2
        assert ties.loc[US]["tie_rank"] == PAIRS
    finally:
        weights("create or replace table ref.tie_index_weights as select * from ref.tie_index_weights_backup")
        run(db, "mart_dyad_ties")


def test_month_periods_carry_events_and_sanctions_but_no_votes(con):
    march = _ties(con, "month", "2022-03")
    assert len(march) == PAIRS
    ir_ru = march.loc[IR]
    assert ir_ru["realized_events"] == 4 and math.isnan(ir_ru["unga_agreement"])
    assert math.isnan(ir_ru["unga_agreement_score"]) and ir_ru["index_components"] == 5
    # in force at the end of March 2022: d1, d4 and the edge
    assert (ir_ru["sanctions_linked_to_both"], ir_ru["sanctions_cross_program"], ir_ru["sanctions_relation_edges"]) \
        == (1, 1, 1)
    assert ir_ru["tie_index"] == 1.0 and ir_ru["tie_rank"] == 1


def test_a_period_no_event_source_or_vote_covers_has_no_index(con):
    """An event dated December 2021, a month no article was published in and no GDELT export was loaded:
    counted, but nothing covers the period, so no pair is ranked in it (and none is made up)."""
    for period_type, period in (("month", "2021-12"), ("year", "2021")):
        rows = _ties(con, period_type, period)
        assert list(rows.index) == [IR]
        row = rows.iloc[0]
        assert row["realized_events"] == 1 and pd.isna(row["events_sources"])
        assert pd.isna(row["tie_index"]) and pd.isna(row["tie_rank"])
        assert row["index_components"] == 0 and row["index_pairs"] == 0


def test_directed_side_reads_the_same_components(con):
    march = _ties(con, "month", "2022-03", "mart_dyad_ties_directed")
    assert march.loc[("IR", "RU")]["realized_events"] == 2
    assert march.loc[("IR", "RU")]["from_entities_under_to_programs"] == 0  # d3 is listed in 2023
    russian = march.loc[("RU", "IR")]  # d4: a Russian entity listed under an Iran programme, no event
    assert russian["from_entities_under_to_programs"] == 1 and pd.isna(russian["realized_events"])
    assert sorted(march.index) == [("IR", "RU"), ("RU", "IR")]


def test_evidence_of_a_mutual_event_is_not_named_as_directed(con):
    rows = con.execute("select record_id, direction, name from mart_dyad_evidence where evidence_kind = 'event' "
                       "order by record_id").fetchall()
    assert rows == [("r1", "a_to_b", "IR -> RU"), ("r2", "both", "IR and RU (mutual)")]


# ------------------------------------------------------------------------------------------ real samples
def _input(path: Path):
    from pipeline.sources.base import InputFile

    assert path.is_file(), f"the shared sample is missing: {path}"
    return InputFile(path, path.name, hashlib.sha256(path.read_bytes()).hexdigest())


def _lake(tables: dict[str, pa.Table], source: str, snapshot: date) -> dict[str, pa.Table]:
    return {name: t.append_column("source", pa.array([source] * t.num_rows, pa.string()))
            .append_column("snapshot_date", pa.array([snapshot] * t.num_rows, pa.date32()))
            for name, t in tables.items()}


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> dict[str, Path]:
    """The tie marts on the real samples, twice: 'without' the GDELT sample's two China-Russia events
    (both cooperative: CAMEO 013, Goldstein +0.4), and 'with' them, added to the same lake and the
    marts rebuilt: the experiment of issue 15."""
    from pipeline.sources.gdelt_events import load as load_gdelt
    from pipeline.sources.unga_votes import load as load_unga

    gdelt = load_gdelt([_input(GDELT_SAMPLE)])
    unga = load_unga([_input(path) for path in UNVOTES])
    events = gdelt.tables["gdelt_events"]
    pair = pc.and_(pc.and_(pc.is_in(events["actor1_iso2"], pa.array(["CN", "RU"])),
                           pc.is_in(events["actor2_iso2"], pa.array(["CN", "RU"]))),
                   pc.not_equal(events["actor1_iso2"], events["actor2_iso2"]))
    china_russia = events.filter(pc.fill_null(pair, False))
    assert china_russia.num_rows == 2 and min(china_russia["goldstein"].to_pylist()) > 0
    others = events.filter(pc.invert(pc.fill_null(pair, False)))
    lake = {**_lake({"gdelt_events": others}, "gdelt_events", gdelt.snapshot_date),
            **_lake(unga.tables, "unga_votes", unga.snapshot_date)}
    without = given(tmp_path_factory.mktemp("real-without"), lake=lake)
    run(without, "+mart_dyad_ties")
    with_events = tmp_path_factory.mktemp("real-with") / without.name
    shutil.copy(without, with_events)
    con = duckdb.connect(str(with_events))
    try:
        con.register("_added", _lake({"gdelt_events": china_russia}, "gdelt_events", gdelt.snapshot_date)
                     ["gdelt_events"])
        con.execute("insert into lake.gdelt_events by name select * from _added")
    finally:
        con.close()
    run(with_events, "mart_dyad_events_monthly", "mart_dyad_ties")
    return {"without": without, "with": with_events}


def _read(db: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).df()
    finally:
        con.close()


def _pair(db: Path, a: str, b: str, period: str) -> pd.Series:
    rows = _read(db, "select * from mart_dyad_ties where country_a = ? and country_b = ? and period = ?",
                 [a, b, period])
    assert len(rows) == 1, (a, b, period)
    return rows.iloc[0]


def test_real_two_more_cooperative_events_never_lower_china_russia(real):
    """Issue 15 measured China-Russia 2019 falling from 0.83 to 0.59 when the two cooperative GDELT
    events of the sample were added (before the redesign, on these two lakes: 0.949 to 0.470, rank
    1,798 to 3,439): the pair went from 'scored on its UN votes alone' to 'also scored on events,
    standardized over the few pairs that had events'. Now both lakes score every pair on the same
    components and the two events raise the pair."""
    for period in ("2019", "2019-10"):
        before, after = _pair(real["without"], "CN", "RU", period), _pair(real["with"], "CN", "RU", period)
        assert after["tie_index"] > before["tie_index"], period
        assert after["tie_rank"] < before["tie_rank"], period
        assert (before["realized_events"], after["realized_events"]) == (0, 2)
        assert before["index_component_list"] == after["index_component_list"]
        assert after["index_pairs"] == before["index_pairs"]


def test_real_every_pair_of_2019_is_scored_on_the_same_components(real):
    """Before: 18,139 of the 18,336 scored pairs of 2019 on their two UN components alone (the issue
    counted 17,995 with its sanctions samples), the top of the ranking small states that voted alike.
    Now GDELT covers 2019 (one export loaded, gdelt_days 1), so every pair has its event components,
    zero without events."""
    ties = _read(real["with"], "select * from mart_dyad_ties where period_type = 'year' and period = '2019'")
    assert len(ties) == PAIRS and set(ties["index_pairs"]) == {PAIRS}
    assert set(ties["index_component_list"]) == {"events_cooperation,events_net_cooperation,unga_agreement,unga_kappa"}
    assert ties["realized_events"].notna().all() and (ties["realized_events"] > 0).sum() > 100
    assert set(ties["gdelt_days"]) == {1} and set(ties["events_sources"]) == {"gdelt"}
    # the pairs the 2019 votes cannot score (a state that did not vote, such as Taiwan or Kosovo; kappa
    # alone when two countries always voted alike) are neutral on them, and say so
    neutral = ties["index_neutral_list"].fillna("")
    assert set(neutral) == {"", "unga_agreement,unga_kappa", "unga_kappa"}
    for component in ("unga_agreement", "unga_kappa"):
        assert (ties[component].isna() == neutral.str.contains(component)).all()
        assert (ties.loc[ties[component].isna(), f"{component}_score"] == 0.5).all()
    assert ties["unga_agreement"].notna().sum() == 18334
    # the top of the ranking is no longer small states that voted alike: the first 32 pairs have
    # cooperative events as well as high agreement
    assert (ties.nsmallest(32, "tie_rank")["events_cooperation"] > 0).all()


def _recompute(ties: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """Scores, index and competition ranks of one period, from its component columns alone (pandas'
    average rank: the mid-rank percentile is (average rank - 1) / (n - 1))."""
    out = pd.DataFrame(index=ties.index)
    used = [c for c in COMPONENTS if ties[f"{c}_score"].notna().all() and weights[c] > 0]
    for c in used:
        values = ties[c].astype("float64").round(9)
        n = values.notna().sum()
        out[c] = ((values.rank(method="average") - 1) / (n - 1)).fillna(0.5) if n > 1 else 0.5
    out["tie_index"] = sum(weights[c] * out[c] for c in used) / sum(weights[c] for c in used)
    out["tie_rank"] = out["tie_index"].round(11).rank(method="min", ascending=False).astype(int)
    return out


@pytest.mark.parametrize("period", ["2019", "2019-10", "2017"])
def test_real_scores_and_competition_ranks_recomputed_from_the_component_columns(real, period):
    """How the issue will check it: the index and ranks recomputed independently from the component
    columns. 'rank 3184' was a dense rank while 5,560 pairs scored higher: now rank X is 1 + the pairs
    with a higher index, of index_pairs."""
    with (REFERENCE_DIR / "tie_index_weights.csv").open(newline="", encoding="utf-8") as handle:
        weights = {row["component"]: float(row["weight"]) for row in csv.DictReader(handle)}
    ties = _read(real["with"], "select * from mart_dyad_ties where period = ?", [period])
    expected = _recompute(ties, weights)
    for c in expected.columns.drop(["tie_index", "tie_rank"]):
        assert (ties[f"{c}_score"] - expected[c]).abs().max() < 1e-12, c
    assert (ties["tie_index"] - expected["tie_index"]).abs().max() < 1e-11
    assert (ties["tie_rank"] == expected["tie_rank"]).all()
    higher = ties["tie_index"].map(lambda v: int((ties["tie_index"] > v).sum()))
    assert (ties["tie_rank"] == 1 + higher).all()
    assert set(ties["index_pairs"]) == {len(ties)}


def test_real_coverage_says_which_periods_each_source_covers(real):
    """The export of 2019-10-24 covers October 2019 and the year 2019; the events it reports dated
    2018-10 and 2019-09 are counted but cover nothing; the UN votes cover 2017-2019 (2020 has one
    roll call and no pair with enough common votes)."""
    coverage = _read(real["with"], "select period_type, strftime(period_start, '%Y-%m') as start, gdelt_days, "
                     "coalesce(events_sources, 'none') as events_sources, unga_rollcalls from int_tie_coverage")
    rows = {(r.period_type, r.start): (r.gdelt_days, r.events_sources, r.unga_rollcalls)
            for r in coverage.itertuples()}
    assert rows[("month", "2019-10")][:2] == (1, "gdelt") and rows[("year", "2019-01")][:2] == (1, "gdelt")
    assert rows[("month", "2018-10")][:2] == (0, "none") and rows[("month", "2019-09")][:2] == (0, "none")
    ties = _read(real["with"], "select period, count(tie_index) as ranked, coalesce(string_agg(distinct "
                 "index_component_list, ' | '), '') as used from mart_dyad_ties group by all")
    ranked = {r.period: (r.ranked, r.used) for r in ties.itertuples()}
    assert ranked["2018"] == (PAIRS, "unga_agreement,unga_kappa")  # votes only: GDELT saw no day of 2018
    assert ranked["2018-10"] == (0, "") and ranked["2020"] == (0, "")


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
