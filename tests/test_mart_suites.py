"""Great Expectations suites of the marts (expectations/marts.py): one suite per model in sql/models/marts,
each passing on small hand-built rows that keep the mart's contract and failing, with its rule
named, on rows that break it; and every suite passing on the database built from the demo files."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from expectations.marts import (  # noqa: E402
    CHANGE_FLAGS,
    DIRECTED_EVENT_COUNTS,
    MODALITY_COUNTS,
    QUAD_CLASS_COUNTS,
    RELATION_TYPE_COUNTS,
    TIE_EVENT_COUNTS,
    contracts,
    mart_suites,
    prepare,
    prepare_all,
)
from pipeline.errors import ValidationFailed  # noqa: E402
from pipeline.validation import validate_frame, validate_stage  # noqa: E402
from tests.conftest import DEMO, REPO  # noqa: E402

SHA = "3f" * 32
D = pd.Timestamp


@pytest.fixture(scope="module")
def suites() -> dict:
    return mart_suites()


# --------------------------------------------------------------------------- good rows, by mart


def _wide(us: int = 0, eu: int = 0, un: int = 0, gb: int = 0, ca: int = 0, ch: int = 0) -> dict:
    """The columns per authority of a ranking row, "all" their sum (every authority has a column here)."""
    return {"us": us, "eu": eu, "un": un, "gb": gb, "ca": ca, "ch": ch, "all": us + eu + un + gb + ca + ch}


def rankings(as_of: list[pd.Timestamp] | None = None) -> pd.DataFrame:
    as_of = as_of or [D("2024-05-01")]
    rows = []
    for day in as_of:
        base = {"as_of_date": day, "unit": "designations", "list_code": "all"}
        rows += [
            {**base, "authority": "all", "basis": "program_target", "entity_type": "all",
             "country_iso2": "RU", "country_name": "Russia", "designations": 1200, "rank": 1, "share": 0.6,
             **_wide(us=500, eu=300, ch=400)},
            {**base, "authority": "all", "basis": "program_target", "entity_type": "all",
             "country_iso2": "IR", "country_name": "Iran", "designations": 800, "rank": 2, "share": 0.4,
             **_wide(us=600, eu=200)},
            {**base, "authority": "all", "basis": "program_target", "entity_type": "all",
             "country_iso2": "SY", "country_name": "Syria", "designations": 800, "rank": 2, "share": 0.4,
             **_wide(us=700, un=100)},
            {**base, "authority": "all", "basis": "nationality", "entity_type": "person",
             "country_iso2": "RU", "country_name": "Russia", "designations": 300, "rank": 1, "share": 1.0,
             **_wide(us=300)},
            {**base, "authority": "us_ofac", "basis": "nationality", "entity_type": "person",
             "country_iso2": "RU", "country_name": "Russia", "designations": 300, "rank": 1, "share": 1.0,
             **_wide(us=300)},
            {**base, "authority": "us_ofac", "list_code": "SDN", "basis": "nationality", "entity_type": "person",
             "country_iso2": "RU", "country_name": "Russia", "designations": 280, "rank": 1, "share": 1.0,
             **_wide(us=300)},
        ]
    return pd.DataFrame(rows)


def monthly() -> pd.DataFrame:
    rows = [  # (month, country, new, in force, rank)
        ("2022-01-01", "RU", 2, 2, 1), ("2022-01-01", "IR", 2, 2, 1),
        ("2022-02-01", "RU", 1, 3, 1), ("2022-02-01", "IR", 0, 2, 2),
        ("2022-03-01", "RU", 0, 3, 1), ("2022-03-01", "IR", 0, 2, 2),
    ]
    return pd.DataFrame([
        {"month": D(m), "unit": "designations", "authority": "all", "list_code": "all", "basis": "program_target",
         "country_iso2": c, "country_name": c, "new_designations": n, "designations": f, "rank": r,
         **_wide(us=f - 1, gb=1)} for m, c, n, f, r in rows
    ])


def crossovers() -> pd.DataFrame:
    return pd.DataFrame([{
        "unit": "designations", "authority": "all", "list_code": "all", "basis": "program_target",
        "month": D("2022-02-01"), "country_iso2": "RU", "country_name": "Russia", "overtaken_iso2": "IR",
        "overtaken_name": "Iran", "designations": 3, "overtaken_designations": 2, **_wide(us=2, gb=1),
    }])


def designations() -> pd.DataFrame:
    base = {"source": "us_ofac_sdn", "authority": "us_ofac", "list_code": "SDN", "reference_number": None,
            "snapshot_date": D("2024-05-01"), "raw_sha256": SHA, "entity_type": "organization"}
    return pd.DataFrame([
        {**base, "designation_id": "us_ofac_sdn:SDN:1", "source_record_id": "1", "entity_key": "us_ofac_sdn:1",
         "primary_name": "QODS AVIATION INDUSTRIES", "programs": ["RUSSIA-EO14024"], "listed_on": D("2022-03-02"),
         "program_target_countries": ["RU"], "nationality_countries": ["IR"], "any_countries": ["IR", "RU"]},
        {**base, "designation_id": "us_ofac_sdn:SDN:2", "source_record_id": "2", "entity_key": "us_ofac_sdn:2",
         "primary_name": "SDGT NETWORK", "programs": ["SDGT"], "listed_on": None,
         "program_target_countries": [], "nationality_countries": [], "any_countries": ["AE"]},
    ])


def history() -> pd.DataFrame:
    base = {"source": "un_sc", "authority": "un_sc", "list_code": "UN", "entity_type": "person",
            "programs": ["DPRK"], "listed_on": D("2016-03-02"), "first_seen_on": D("2024-01-01"), "snapshots_seen": 1,
            "snapshots_missed": 0}
    return pd.DataFrame([
        {**base, "designation_id": "un_sc:UN:1", "source_record_id": "1", "entity_key": "un_sc:1",
         "primary_name": "KIM", "last_seen_on": D("2024-02-01"), "removed_on": None, "status": "listed"},
        {**base, "designation_id": "un_sc:UN:2", "source_record_id": "2", "entity_key": "un_sc:2",
         "primary_name": "PAK", "last_seen_on": D("2024-01-01"), "removed_on": D("2024-02-01"), "status": "removed"},
    ])


def deltas() -> pd.DataFrame:
    return pd.DataFrame([
        {"source": "un_sc", "snapshot_date": D("2024-01-01"), "previous_snapshot_date": None,
         "is_first_snapshot": True, "designations": 3, "previous_designations": 0, "added": 3, "removed": 0,
         "changed": 0, "names_changed": 0, "programs_changed": 0, "countries_changed": 0},
        {"source": "un_sc", "snapshot_date": D("2024-02-01"), "previous_snapshot_date": D("2024-01-01"),
         "is_first_snapshot": False, "designations": 3, "previous_designations": 3, "added": 1, "removed": 1,
         "changed": 2, "names_changed": 1, "programs_changed": 1, "countries_changed": 1},
    ])


def delta_records() -> pd.DataFrame:
    base = {"source": "un_sc", "snapshot_date": D("2024-02-01"), "previous_snapshot_date": D("2024-01-01"),
            "authority": "un_sc", "list_code": "UN", "entity_type": "person", "names_added": None,
            "names_removed": None, "programs_added": None, "programs_removed": None, "country_links_added": None,
            "country_links_removed": None}
    flags = dict.fromkeys(CHANGE_FLAGS)
    return pd.DataFrame([
        {**base, **flags, "designation_id": "un_sc:UN:4", "entity_key": "un_sc:4", "change_type": "added",
         "primary_name": "NEW", "previous_primary_name": None},
        {**base, **flags, "designation_id": "un_sc:UN:2", "entity_key": "un_sc:2", "change_type": "removed",
         "primary_name": "PAK", "previous_primary_name": "PAK"},
        {**base, "designation_id": "un_sc:UN:1", "entity_key": "un_sc:1", "change_type": "changed",
         "primary_name": "KIM JONG", "previous_primary_name": "KIM", "names_changed": True,
         "programs_changed": False, "countries_changed": False, "names_added": ["KIM JONG"]},
    ])


def sanctions_exposure() -> pd.DataFrame:
    return pd.DataFrame({
        "authority": ["all", "us_ofac"], "country_a": ["IR", "CN"], "country_b": ["RU", "KP"],
        "country_a_name": ["Iran", "China"], "country_b_name": ["Russia", "North Korea"],
        "linked_to_both": [12, 3], "a_under_b_programs": [4, 0], "b_under_a_programs": [2, 1],
        "relation_edges": [7, 0],
    })


def ties() -> pd.DataFrame:
    no_events = dict.fromkeys((*TIE_EVENT_COUNTS, "events_cooperation", "events_conflict", "events_net_cooperation"))
    events = {**dict.fromkeys(TIE_EVENT_COUNTS, 0), "events": 5, "realized_events": 3, "planned_events": 1,
              "alleged_events": 1, "article_realized_events": 1, "gdelt_realized_events": 2, "arms_transfer_events": 2,
              "events_cooperation": 10.0, "events_conflict": 2.0, "events_net_cooperation": 8 / 12}
    no_unga = dict.fromkeys(("unga_common_votes", "unga_agreement", "unga_kappa", "unga_s_score"))
    unga = {"unga_common_votes": 20, "unga_agreement": 0.82, "unga_kappa": 0.339, "unga_s_score": 0.64}
    sanctions = {"sanctions_linked_to_both": 3, "sanctions_cross_program": 2, "sanctions_relation_edges": 1}
    year = {"period_type": "year", "period_start": D("2022-01-01"), "period": "2022"}
    month = {"period_type": "month", "period_start": D("2022-03-01"), "period": "2022-03"}
    return pd.DataFrame([
        {**year, "country_a": "IR", "country_b": "RU", "country_a_name": "Iran", "country_b_name": "Russia",
         **events, **sanctions, **unga, "tie_index": 0.5, "index_components": 3,
         "index_component_list": "events_cooperation,sanctions_linked_to_both,unga_agreement", "tie_rank": 1},
        {**year, "country_a": "CN", "country_b": "KP", "country_a_name": "China", "country_b_name": "North Korea",
         **no_events, **sanctions, **no_unga, "tie_index": -0.5, "index_components": 1,
         "index_component_list": "sanctions_linked_to_both", "tie_rank": 2},
        {**year, "country_a": "BY", "country_b": "CU", "country_a_name": "Belarus", "country_b_name": "Cuba",
         **no_events, **dict.fromkeys(sanctions, 0), **{**unga, "unga_common_votes": 4, "unga_agreement": None,
                                                        "unga_kappa": None, "unga_s_score": None},
         "tie_index": None, "index_components": 0, "index_component_list": None, "tie_rank": None},
        {**month, "country_a": "IR", "country_b": "RU", "country_a_name": "Iran", "country_b_name": "Russia",
         **events, **sanctions, **no_unga, "tie_index": 0.0, "index_components": 2,
         "index_component_list": "events_cooperation,sanctions_linked_to_both", "tie_rank": 1},
    ])


def ties_directed() -> pd.DataFrame:
    counts = {**dict.fromkeys(DIRECTED_EVENT_COUNTS, 0), "realized_events": 2, "arms_transfer_events": 2}
    year = {"period_type": "year", "period_start": D("2022-01-01"), "period": "2022"}
    return pd.DataFrame([
        {**year, "from_country": "IR", "to_country": "RU", "from_country_name": "Iran", "to_country_name": "Russia",
         **counts, "events_cooperation": 8.0, "events_conflict": 0.0, "events_net_cooperation": 1.0,
         "from_entities_under_to_programs": 2},
        {**year, "from_country": "RU", "to_country": "IR", "from_country_name": "Russia", "to_country_name": "Iran",
         **dict.fromkeys(DIRECTED_EVENT_COUNTS), "events_cooperation": None, "events_conflict": None,
         "events_net_cooperation": None, "from_entities_under_to_programs": 1},
    ])


def evidence() -> pd.DataFrame:
    base = {"country_a": "IR", "country_b": "RU", "modality": "realized", "entity_key": None, "url": None,
            "quote": None, "rcid": None, "vote_a": None, "vote_b": None}
    return pd.DataFrame([
        {**base, "evidence_kind": "sanctions", "component": "linked_to_both", "evidence_date": D("2022-03-02"),
         "direction": "both", "source": "us_ofac", "record_id": "us_ofac_sdn:SDN:1", "entity_key": "us_ofac_sdn:1",
         "name": "QODS AVIATION INDUSTRIES", "detail": "tied to IR and RU", "period_year": 2022,
         "period_month": D("2022-03-01")},
        {**base, "evidence_kind": "event", "component": "arms_transfer", "evidence_date": D("2022-08-20"),
         "direction": "a_to_b", "source": "article", "record_id": "a1:3", "name": "IR -> RU",
         "detail": "CAMEO 0872, Goldstein 8.3", "url": "https://example.org/a1", "quote": "Iran delivered drones.",
         "period_year": 2022, "period_month": D("2022-08-01")},
        {**base, "evidence_kind": "unga_vote", "component": "unga_vote", "evidence_date": D("2022-03-02"),
         "direction": "both", "source": "unga_votes", "record_id": "9001", "name": "A/RES/ES-11/1",
         "detail": None, "rcid": 9001, "vote_a": 2, "vote_b": 3, "period_year": 2022,  # no title (Voeten)
         "period_month": D("2022-03-01")},
    ]).astype({"rcid": "Int64", "vote_a": "Int32", "vote_b": "Int32"})


def unmapped() -> pd.DataFrame:
    return pd.DataFrame({"source": ["un_sc"], "status": ["non_country"], "link_type": ["nationality"],
                         "raw_value": ["na"], "occurrences": [2]})


def unknown_programs() -> pd.DataFrame:
    return pd.DataFrame({"authority": pd.Series([], dtype="str"), "program": pd.Series([], dtype="str"),
                         "designations": pd.Series([], dtype="int64")})


def partial_inputs() -> pd.DataFrame:
    return pd.DataFrame([{"source": "us_ofac_sdn", "snapshot_date": D("2024-05-03"), "is_current": True,
                          "reason": "incomplete_set", "component": "addresses", "missing": "ADD.CSV",
                          "cannot_show": "address countries", "raw_file": "sdn.csv"}])


def events_monthly() -> pd.DataFrame:
    zero = dict.fromkeys((*MODALITY_COUNTS, *RELATION_TYPE_COUNTS, *QUAD_CLASS_COUNTS), 0)
    base = {"source": "all", "month": D("2022-08-01"), "country_a": "IR", "country_b": "RU", "country_a_name": "Iran",
            "country_b_name": "Russia"}
    counts = {**zero, "events": 3, "realized_events": 2, "planned_events": 1, "arms_transfer_events": 1,
              "criticism_events": 1, "material_cooperation_events": 1, "verbal_conflict_events": 1}
    return pd.DataFrame([
        {**base, "direction": "both", **counts, "realized_weight": 2.0, "cooperation": 8.3, "conflict": 2.0,
         "net_cooperation": 6.3 / 10.3},
        {**base, "direction": "a_to_b", **zero, "events": 1, "planned_events": 1, "realized_weight": 0.0,
         "cooperation": 0.0, "conflict": 0.0, "net_cooperation": None},
    ])


def agreement() -> pd.DataFrame:
    base = {"period_type": "session", "period": 68, "min_common_votes": 10}
    return pd.DataFrame([
        {**base, "country_a": "IR", "country_b": "RU", "country_a_name": "Iran", "country_b_name": "Russia",
         "common_votes": 61, "pct_identical": 0.70, "agreement": 0.82, "s_score": 0.64, "kappa": 0.339,
         "scott_pi": 0.3},
        {**base, "country_a": "BY", "country_b": "CN", "country_a_name": "Belarus", "country_b_name": "China",
         "common_votes": 8, "pct_identical": None, "agreement": None, "s_score": None, "kappa": None,
         "scott_pi": None},
    ])


def partner_rankings() -> pd.DataFrame:
    base = {"period_type": "session", "period": 68, "country_iso2": "RU", "country_name": "Russia"}
    return pd.DataFrame([
        {**base, "rank": 1, "position": 1, "partner_iso2": "IR", "partner_name": "Iran", "common_votes": 61,
         "agreement": 0.82, "s_score": 0.64, "kappa": 0.339},
        {**base, "rank": 1, "position": 2, "partner_iso2": "KP", "partner_name": "North Korea", "common_votes": 40,
         "agreement": 0.82, "s_score": 0.64, "kappa": 0.5},
        {**base, "rank": 2, "position": 3, "partner_iso2": "US", "partner_name": "United States", "common_votes": 64,
         "agreement": 0.3125, "s_score": -0.375, "kappa": -0.2},
    ])


def bloc_cohesion() -> pd.DataFrame:
    return pd.DataFrame([
        {"bloc": "axis", "bloc_label": "Russia, Iran, North Korea, Venezuela", "members": "IR KP RU VE",
         "period_type": "session", "period": p, "pairs": 6, "pairs_scored": 5, "mean_agreement": mean,
         "min_agreement": 0.7, "mean_kappa": 0.5, "agreement_change": change, "min_common_votes_of_pairs": 12}
        for p, mean, change in ((68, 0.85, None), (69, 0.8, -0.05))
    ])


def targets() -> pd.DataFrame:
    base = {"entity_type": "person", "list_code": "L", "reference_number": None, "match_stage": "identifier",
            "matched_with": None, "evidence": '{"un_reference": "QDi.001"}', "snapshot_date": D("2024-05-01"),
            "target_id": "T-0123456789ab", "target_designations": 2, "target_authorities": 2,
            "match_method": "un_reference", "match_score": 1.0}
    return pd.DataFrame([
        {**base, "source": "un_sc", "source_record_id": "1", "designation_id": "un_sc:UN:1", "authority": "un_sc",
         "entity_key": "un_sc:1", "primary_name": "IVAN PETROV"},
        {**base, "source": "gb_hmt", "source_record_id": "g-9-AQD", "designation_id": "gb_hmt:UKSL:g-9-AQD",
         "authority": "gb", "entity_key": "gb_hmt:g-9", "primary_name": "PETROV, Ivan"},
    ])


def match_candidates() -> pd.DataFrame:
    return pd.DataFrame([{
        "candidate_rank": 1, "match_score": 0.8, "match_stage": "name", "match_method": "name",
        "entity_type": "person", "left_designation_id": "un_sc:UN:1", "left_source": "un_sc",
        "left_source_record_id": "1", "left_name": "ROODI SLEWA", "left_target_id": "T-a",
        "right_designation_id": "us_ofac_sdn:SDN:8", "right_source": "us_ofac_sdn", "right_source_record_id": "8",
        "right_name": "SLEWA, Roodi", "right_target_id": "T-b", "evidence": "{}"}])


def source_freshness() -> pd.DataFrame:
    base = {"as_of": D("2025-06-10 06:00"), "is_demo": False, "last_fetch_outcome": "not_modified"}
    return pd.DataFrame([
        {**base, "source": "un_sc", "authority": "un_sc", "publishes": "irregular", "max_lag_days": 60,
         "last_fetched_at": D("2025-06-10 06:00"), "last_changed_at": D("2025-04-29 06:00"),
         "snapshot_date": D("2025-04-28"), "published_on": D("2025-04-28"), "lag_reference_date": D("2025-04-28"),
         "lag_basis": "file_date", "lag_days": 43, "status": "fresh", "is_stale": False},
        {**base, "source": "us_ofac_sdn", "authority": "us_ofac", "publishes": "irregular", "max_lag_days": 30,
         "last_fetched_at": D("2025-06-10 05:00"), "last_changed_at": D("2025-03-02 06:00"),
         "snapshot_date": D("2025-03-01"), "published_on": D("2025-03-01"), "lag_reference_date": D("2025-03-01"),
         "lag_basis": "file_date", "lag_days": 101, "status": "stale", "is_stale": True},
    ])


GOOD = {
    "mart_source_freshness": source_freshness,
    "mart_targets": targets,
    "mart_match_candidates": match_candidates,
    "mart_country_rankings": rankings,
    "mart_country_rankings_as_known": lambda: rankings([D("2022-03-07"), D("2024-05-01")]),
    "mart_country_rankings_monthly": monthly,
    "mart_rank_crossovers": crossovers,
    "mart_designations": designations,
    "mart_designation_history": history,
    "mart_snapshot_deltas": deltas,
    "mart_snapshot_delta_records": delta_records,
    "mart_dyad_sanctions_exposure": sanctions_exposure,
    "mart_dyad_ties": ties,
    "mart_dyad_ties_directed": ties_directed,
    "mart_dyad_evidence": evidence,
    "mart_unmapped_countries": unmapped,
    "mart_unknown_programs": unknown_programs,
    "mart_partial_inputs": partial_inputs,
    "mart_dyad_events_monthly": events_monthly,
    "mart_unga_agreement": agreement,
    "mart_unga_partner_rankings": partner_rankings,
    "mart_unga_bloc_cohesion": bloc_cohesion,
}


def good_frames(**replace: pd.DataFrame) -> dict[str, pd.DataFrame]:
    frames = {mart: build() for mart, build in GOOD.items()}
    frames.update(replace)
    return prepare_all(frames)


def edited(mart: str, edit) -> dict[str, pd.DataFrame]:
    frame = GOOD[mart]()
    edit(frame)
    return good_frames(**{mart: frame})


def fails(frames: dict, suites: dict, mart: str, *needles: str) -> list[str]:
    """Validate only ``mart``; it must fail critically and the message must name every needle."""
    with pytest.raises(ValidationFailed) as info:
        validate_stage("marts", {mart: frames[mart]}, {mart: suites[mart]})
    message = str(info.value)
    assert f"marts.{mart}" in message
    for needle in needles:
        assert needle in message, f"{needle!r} not in:\n{message}"
    return info.value.failures


def setv(column: str, row: int, value) -> callable:
    def edit(frame: pd.DataFrame) -> None:
        frame[column] = frame[column].astype(object)
        frame.at[row, column] = value
    return edit


# --------------------------------------------------------------------------- every mart has a suite


def test_every_mart_model_has_a_suite(suites):
    models = {p.stem for p in (REPO / "sql" / "models" / "marts").glob("*.sql")}
    assert set(suites) == models
    assert set(GOOD) == models
    assert all(suite.name == f"marts.{mart}" for mart, suite in suites.items())
    for suite in suites.values():
        assert all((e.meta or {}).get("rule") for e in suite.expectations), suite.name


def test_every_suite_passes_on_good_rows(suites):
    reports = validate_stage("marts", good_frames(), suites)
    assert {r.suite for r in reports} == {f"marts.{m}" for m in GOOD}
    bad = {r.suite: r.failed_critical + r.warnings for r in reports if r.failed_critical or r.warnings}
    assert not bad


def test_empty_marts_pass_and_an_empty_ranking_only_warns(suites, caplog):
    """A run without UN votes, events or history still publishes, and so does a run on UN votes
    alone, whose rankings are empty: that only warns."""
    frames = good_frames(**{mart: build().iloc[0:0] for mart, build in GOOD.items()})
    reports = validate_stage("marts", frames, suites)
    assert all(r.success for r in reports)
    assert any("mart_country_rankings has at least one row" in w for r in reports for w in r.warnings)


# --------------------------------------------------------------------------- each suite fails on bad rows


def test_country_rankings_fail_on_rank_share_and_as_of(suites):
    frame = rankings()
    frame.loc[2, "rank"] = 3  # IR and SY tie at 800: both rank 2
    frame.loc[3, "as_of_date"] = D("2024-04-01")
    frame.loc[0, "share"] = 0.5
    failures = fails(good_frames(mart_country_rankings=frame), suites, "mart_country_rankings",
                     "expect_column_pair_values_to_be_equal(column_A='rank', column_B='expected_rank'",
                     "ties share a rank", "expect_column_unique_value_count_to_be_between", "one as-of date",
                     "share_matches_slice_total")
    assert len(failures) == 3


def test_columns_per_authority_fail_when_they_disagree(suites):
    frame = rankings()
    frame.loc[0, "eu"] = 1300  # above "all"
    frame.loc[5, "ch"] = 5  # the SDN row of Russia's slice says otherwise than its 'all' lists row
    frame.loc[1, "all"] = 799  # the 'all' row's "all" column is its designations
    failures = fails(good_frames(mart_country_rankings=frame), suites, "mart_country_rankings",
                     "authorities_within_all", "authority_columns_same_in_slice", "all_column_is_all_row")
    assert len(failures) == 3
    frame = monthly()
    frame.loc[0, "unit"] = "entities"
    fails(good_frames(mart_country_rankings_monthly=frame), suites, "mart_country_rankings_monthly",
          "unit", "designations")
    frame = crossovers()
    frame.loc[0, "us"] = -1
    fails(good_frames(mart_rank_crossovers=frame), suites, "mart_rank_crossovers", "us is at least 0")


def test_rankings_as_known_fail_on_bad_basis(suites):
    frames = edited("mart_country_rankings_as_known", setv("basis", 7, "residence"))
    fails(frames, suites, "mart_country_rankings_as_known", "basis", "'residence'")


def test_columns_and_grain_are_dbt_s_and_a_new_mart_gets_a_suite(suites, tmp_path, monkeypatch):
    """A mart's columns and grain live in its dbt YAML entry (dbt checks them: tests/test_dbt_project.py);
    no suite states them again, and a mart added as SQL and YAML alone has a suite, empty."""
    for mart, suite in suites.items():
        grain = list(contracts()[mart].grain)
        for e in suite.expectations:
            assert e.expectation_type not in ("expect_table_columns_to_match_set",
                                              "expect_table_columns_to_match_ordered_list"), mart
            keyed = getattr(e, "column_list", None) == grain or getattr(e, "column", None) == grain[0] == grain[-1]
            assert not (keyed and e.expectation_type in ("expect_compound_columns_to_be_unique",
                                                         "expect_column_values_to_be_unique")), mart
    assert set(suites) == set(contracts())
    sql = tmp_path / "sql"
    shutil.copytree(REPO / "sql" / "models" / "marts", sql / "models" / "marts")
    (sql / "models" / "marts" / "_new.yml").write_text(yaml.safe_dump({"version": 2, "models": [{
        "name": "mart_new", "description": "New.", "columns": [{"name": "x", "data_type": "integer"}],
        "data_tests": [{"grain": {"arguments": {"columns": ["x"]}}}]}]}))
    monkeypatch.setenv("PIPELINE_SQL_DIR", str(sql))
    assert contracts()["mart_new"].grain == ("x",)
    assert mart_suites()["mart_new"].expectations == []


def test_monthly_fails_on_running_total_gap_and_mid_month(suites):
    frame = monthly()
    frame.loc[2, "designations"] = 4  # RU Feb: 2 + 1 is 3
    fails(good_frames(mart_country_rankings_monthly=frame), suites, "mart_country_rankings_monthly",
          "column_A='designations', column_B='expected_designations'", "running total")
    frame = monthly().drop(index=[2, 3]).reset_index(drop=True)  # February missing
    fails(good_frames(mart_country_rankings_monthly=frame), suites, "mart_country_rankings_monthly",
          "follows_previous_month")
    frames = edited("mart_country_rankings_monthly", setv("month", 0, D("2022-01-15")))
    fails(frames, suites, "mart_country_rankings_monthly", "month_is_first_day", "first day of a month")


def test_crossover_in_the_first_month_of_the_series_fails(suites):
    frame = crossovers()
    frame.loc[0, "month"] = D("2022-01-01")
    fails(good_frames(mart_rank_crossovers=frame), suites, "mart_rank_crossovers",
          "expect_column_pair_values_a_to_be_greater_than_b(column_A='month', column_B='series_start'",
          "after the first month")
    frame = crossovers()
    frame.loc[0, ["overtaken_iso2", "overtaken_designations"]] = ["RU", 3]
    failures = fails(good_frames(mart_rank_crossovers=frame), suites, "mart_rank_crossovers",
                     "countries_differ", "never overtakes itself", "has more designations")
    assert len(failures) == 2


def test_crossover_series_start_comes_from_the_monthly_mart(caplog):
    with caplog.at_level(logging.WARNING, logger="expectations.marts"):
        alone = prepare("mart_rank_crossovers", crossovers())
    assert alone["series_start"].isna().all() and "not checked" in caplog.text
    prepared = prepare("mart_rank_crossovers", crossovers(), {"mart_country_rankings_monthly": monthly()})
    assert prepared.loc[0, "series_start"] == D("2022-01-01")


def test_designations_fail_on_fake_country_and_late_listing(suites):
    frame = designations()
    frame.at[0, "nationality_countries"] = ["IRN"]
    frame.loc[1, "listed_on"] = D("2024-06-01")
    fails(good_frames(mart_designations=frame), suites, "mart_designations", "countries_are_iso2",
          "countries_within_any", "listed on or before its snapshot date")


def test_designations_without_countries_only_warn(suites):
    frame = pd.concat([designations()] * 2, ignore_index=True)
    frame["designation_id"] = [f"us_ofac_sdn:SDN:{i}" for i in range(4)]
    for column in ("program_target_countries", "nationality_countries", "any_countries"):
        frame[column] = [frame.at[0, column], [], [], []]
    (report,) = validate_stage("marts", prepare_all({"mart_designations": frame}),
                               {"mart_designations": suites["mart_designations"]})
    assert report.success and len(report.warnings) == 1
    assert "has_country" in report.warnings[0] and "only warns" in report.warnings[0]


def test_designation_history_fails_on_removed_without_date(suites):
    frames = edited("mart_designation_history", setv("removed_on", 1, None))
    fails(frames, suites, "mart_designation_history", "removed_iff_status_removed")
    frames = edited("mart_designation_history", setv("removed_on", 1, D("2023-12-01")))
    fails(frames, suites, "mart_designation_history", "column_A='removed_on', column_B='last_seen_on'")


def test_snapshot_deltas_fail_when_counts_do_not_add_up(suites):
    frames = edited("mart_snapshot_deltas", setv("added", 1, 2))
    fails(frames, suites, "mart_snapshot_deltas", "counts_add_up",
          "designations = previous_designations + added - removed")
    frames = edited("mart_snapshot_deltas", setv("changed", 1, 4))
    fails(frames, suites, "mart_snapshot_deltas", "changed_matches_kinds")
    frames = edited("mart_snapshot_deltas", setv("previous_snapshot_date", 0, D("2023-12-01")))
    fails(frames, suites, "mart_snapshot_deltas", "first_iff_no_previous")


def test_delta_records_fail_on_unexplained_change(suites):
    frame = delta_records()
    frame.loc[2, "names_changed"] = False
    frame.loc[0, "change_type"] = "renamed"
    fails(good_frames(mart_snapshot_delta_records=frame), suites, "mart_snapshot_delta_records",
          "changed_row_says_what", "change_type", "'renamed'")
    frames = edited("mart_snapshot_delta_records", setv("programs_changed", 0, True))
    fails(frames, suites, "mart_snapshot_delta_records", "flags_only_on_changed_rows")


def test_sanctions_exposure_fails_on_unordered_pair_and_negative_count(suites):
    frame = sanctions_exposure()
    frame.loc[0, ["country_a", "country_b"]] = ["RU", "IR"]
    frame.loc[1, "relation_edges"] = -1
    failures = fails(good_frames(mart_dyad_sanctions_exposure=frame), suites, "mart_dyad_sanctions_exposure",
                     "expect_column_pair_values_a_to_be_greater_than_b", "country_a < country_b",
                     "relation_edges is at least 0")
    assert len(failures) == 2


def test_dyad_ties_fail_on_wrong_rank_and_index_without_components(suites):
    frame = ties()
    frame.loc[1, "tie_rank"] = 3  # one pair above it: a competition rank of 2
    failures = fails(good_frames(mart_dyad_ties=frame), suites, "mart_dyad_ties",
                     "column_A='tie_rank', column_B='expected_rank'")
    assert len(failures) == 1
    frame = ties()
    frame.loc[2, "tie_index"] = 0.1
    fails(good_frames(mart_dyad_ties=frame), suites, "mart_dyad_ties", "index_iff_components", "rank_iff_value")
    frames = edited("mart_dyad_ties", setv("unga_agreement", 2, 0.9))
    fails(frames, suites, "mart_dyad_ties", "unga_scored_with_enough_votes")
    frames = edited("mart_dyad_ties", setv("period", 3, "2022-3"))
    fails(frames, suites, "mart_dyad_ties", "period_label_matches")


def test_dyad_ties_directed_fail_on_self_pair_and_net_cooperation(suites):
    frame = ties_directed()
    frame.loc[0, "to_country"] = "IR"
    frame.loc[0, "events_net_cooperation"] = 0.5
    failures = fails(good_frames(mart_dyad_ties_directed=frame), suites, "mart_dyad_ties_directed",
                     "countries_differ", "net_cooperation_matches", "(C - K) / (C + K)")
    assert len(failures) == 2


def test_dyad_evidence_fails_on_vote_code_and_period(suites):
    frame = evidence()
    frame["vote_b"] = frame["vote_b"].astype("object")
    frame.loc[2, "vote_b"] = 8  # absent never counts as a common vote
    frame.loc[1, "period_month"] = D("2022-07-01")
    fails(good_frames(mart_dyad_evidence=frame), suites, "mart_dyad_evidence", "vote_b", "periods_match_date")
    frames = edited("mart_dyad_evidence", setv("rcid", 0, 9001))
    fails(frames, suites, "mart_dyad_evidence", "votes_iff_unga_vote")


def test_unmapped_countries_fail_on_status_and_warn_on_unknown(suites):
    frames = edited("mart_unmapped_countries", setv("status", 0, "lost"))
    fails(frames, suites, "mart_unmapped_countries", "status", "'lost'")
    frames = edited("mart_unmapped_countries", setv("status", 0, "unknown"))
    (report,) = validate_stage("marts", {"mart_unmapped_countries": frames["mart_unmapped_countries"]},
                               {"mart_unmapped_countries": suites["mart_unmapped_countries"]})
    assert report.success and len(report.warnings) == 1 and "country_names.csv" in report.warnings[0]


def test_unknown_programs_warn_and_fail_on_zero_designations(suites):
    frame = pd.DataFrame({"authority": ["us_ofac"], "program": ["NEWPROG"], "designations": [3]})
    report = validate_frame(suites["mart_unknown_programs"], frame)
    assert report.success and len(report.warnings) == 1 and "programs.csv" in report.warnings[0]
    frame.loc[0, "designations"] = 0
    fails({"mart_unknown_programs": frame}, suites, "mart_unknown_programs", "designations is at least 1")


def test_events_monthly_fail_on_counts_that_do_not_add_up(suites):
    frame = events_monthly()
    frame.loc[0, "arms_transfer_events"] = 2
    frame.loc[0, "direction"] = "sideways"
    frame.loc[1, "net_cooperation"] = 0.0  # C + K = 0: must be null
    failures = fails(good_frames(mart_dyad_events_monthly=frame), suites, "mart_dyad_events_monthly",
                     "relation_types_add_up", "'sideways'", "net_cooperation_matches")
    assert len(failures) == 3
    frames = edited("mart_dyad_events_monthly", setv("planned_events", 1, 0))
    fails(frames, suites, "mart_dyad_events_monthly", "modalities_add_up")


def test_agreement_fails_on_score_below_minimum_and_out_of_range(suites):
    frames = edited("mart_unga_agreement", setv("agreement", 1, 0.9))
    fails(frames, suites, "mart_unga_agreement", "scored_iff_enough_votes", "scores_null_together")
    frame = agreement()
    frame.loc[0, ["kappa", "s_score"]] = [1.5, 0.5]
    frame.loc[0, ["country_a", "country_b"]] = ["RU", "IR"]
    failures = fails(good_frames(mart_unga_agreement=frame), suites, "mart_unga_agreement",
                     "kappa is between -1 and 1", "s_score = 2 * agreement - 1", "country_a < country_b")
    assert len(failures) == 3


def test_partner_rankings_fail_on_gaps_and_inconsistent_order(suites):
    frames = edited("mart_unga_partner_rankings", setv("rank", 2, 3))
    fails(frames, suites, "mart_unga_partner_rankings", "ranks_without_gaps", "expected_rank")
    frame = partner_rankings()
    frame.loc[0, "agreement"] = 0.2  # IR now last, still ranked first
    fails(good_frames(mart_unga_partner_rankings=frame), suites, "mart_unga_partner_rankings",
          "column_A='rank', column_B='expected_rank'", "column_A='position', column_B='expected_position'")
    frames = edited("mart_unga_partner_rankings", setv("common_votes", 1, 9))
    fails(frames, suites, "mart_unga_partner_rankings", "column_A='common_votes', column_B='min_common_votes'")


def test_bloc_cohesion_fails_on_pair_count_and_means(suites):
    frame = bloc_cohesion()
    frame.loc[0, "pairs"] = 4
    frame.loc[1, "min_agreement"] = 0.9
    frame.loc[1, "min_common_votes_of_pairs"] = 9
    failures = fails(good_frames(mart_unga_bloc_cohesion=frame), suites, "mart_unga_bloc_cohesion",
                     "k (k - 1) / 2", "pairs_scored is at most pairs", "min_agreement is at most mean_agreement",
                     "at least min_common_votes")
    assert len(failures) == 4


# --------------------------------------------------------------------------- the demo database


@pytest.fixture(scope="module")
def demo_marts(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """Every mart of the database built from the demo files (all sources), as the DAG reads them."""
    import duckdb

    from pipeline import settings as settings_mod
    from pipeline.models import build_database
    from pipeline.parse import parse_files

    home = tmp_path_factory.mktemp("martshome")
    staged = home / "staged"
    demo_inputs = {
        "us_ofac_sdn": ["sdn_advanced.xml"],
        "un_sc": ["consolidated.xml"],
        "unga_votes": ["votes.csv", "roll_calls.csv", "issues.csv"],
        "gdelt_events": ["20230201000000.export.CSV"],
    }
    for source, names in demo_inputs.items():
        parse_files(source, [DEMO / source / n for n in names], staged)
    db = home / "build.duckdb"
    build_database(staged, db, REPO / "sql", settings_mod.load().storage_version)
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {m: con.execute(f"select * from {m}").df() for m in mart_suites()}
    finally:
        con.close()


@pytest.mark.integration
def test_every_suite_passes_on_the_demo_database(demo_marts, suites):
    reports = validate_stage("marts", prepare_all(demo_marts), suites)
    assert len(reports) == len(suites)
    assert all(r.success for r in reports)
    assert len(demo_marts["mart_unga_agreement"]) > 0 and len(demo_marts["mart_dyad_ties"]) > 0


@pytest.mark.integration
def test_demo_database_with_a_broken_rank_fails(demo_marts, suites):
    frame = demo_marts["mart_unga_partner_rankings"].copy()
    frame.loc[frame.index[0], "rank"] += 1
    frames = prepare_all({**demo_marts, "mart_unga_partner_rankings": frame})
    fails(frames, suites, "mart_unga_partner_rankings", "expected_rank")


def test_mart_names_are_file_stems():
    assert all(Path(m).stem == m for m in mart_suites())
