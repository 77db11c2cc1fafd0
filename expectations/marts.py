"""Gold checks: one Great Expectations suite per mart (every model in ``sql/models/marts``), named
``marts.<mart>``. A mart's columns, their types and its grain are written once, in its dbt YAML
entry (:func:`contracts` reads them), and dbt checks them as it builds (the enforced contract, the
``grain`` test); the suites check what dbt does not: codes in their sets, ISO2 codes, canonical
pair order (``country_a < country_b``), counts, shares and scores in their ranges, scores given
exactly when there are enough common votes, ranks consistent with the value they rank, rows
consistent with their partition and with other marts. A mart without rules of its own here has
an empty suite.

GX's SQL data sources do not support DuckDB, so the runner validates each mart as a pandas frame
(``con.sql("from mart").df()``). Rules that compare a row with its partition (a rank with the
values it ranks, a running total with the months before it) or with another mart (a crossover
with the start of the monthly series) need helper columns: :func:`prepare` adds them, so every
expectation stays a plain column rule that Data Docs can show. Severity is critical unless a rule
says ``warning`` (soft rules: unknown programmes, crosswalk gaps, designations with no country).

Like every suite module here, importing it does not import Great Expectations.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from expectations import HEX64, ISO2, gx_modules, ruled, stage_suites
from expectations.staged_alignment import RELATION_TYPES
from pipeline.staged import ENTITY_TYPES

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

log = logging.getLogger(__name__)

__all__ = ["MartContract", "contracts", "mart_names", "mart_suites", "prepare", "prepare_all"]

STAGE = "marts"
AUTHORITY = r"^[a-z][a-z0-9_]*$"  # 'all' or a source authority such as 'us_ofac', 'un_sc'
ISO2_LIST = r"^(?:[A-Z]{2}(?: [A-Z]{2})*)?$"  # space-separated ISO2 codes
TOLERANCE = 1e-9  # floating-point slack of computed scores (ranges, recomputed formulas)

# Code sets, one per coded column (the SQL models and their YAML docs name the same values).
BASES = ("program_target", "nationality", "any")
MONTHLY_BASES = ("program_target", "nationality")
UNITS = ("designations", "targets")  # what the ranking marts count (int_designation_units)
# The ranking marts' column per authority and for every authority together (sql/macros/authorities.sql,
# authority_columns: us_ofac -> us, un_sc -> un)
AUTHORITY_COLUMNS = ("us", "eu", "un", "gb", "ca", "ch")
ALL_COLUMN = "all"
RANKING_ENTITY_TYPES = ("all", *ENTITY_TYPES)
UNMAPPED_STATUSES = ("non_country", "unknown")
EVENT_SOURCES = ("gdelt", "article", "all")
DIRECTIONS = ("a_to_b", "b_to_a", "both")
PERIOD_TYPES = ("session", "year")
SANCTIONS_COMPONENTS = ("linked_to_both", "a_under_b_programs", "b_under_a_programs", "relation_edge")
MODALITY_COUNTS = ("realized_events", "planned_events", "alleged_events", "denied_events")
QUAD_CLASS_COUNTS = (
    "verbal_cooperation_events", "material_cooperation_events", "verbal_conflict_events", "material_conflict_events",
)
RELATION_TYPE_COUNTS = tuple(f"{t}_events" for t in RELATION_TYPES) + ("unclassified_events",)
SANCTIONS_COUNTS = ("linked_to_both", "a_under_b_programs", "b_under_a_programs", "relation_edges")
TIE_PERIOD_TYPES = ("year", "month")
EVIDENCE_KINDS = ("sanctions", "event", "unga_vote")
EVIDENCE_COMPONENTS = (*SANCTIONS_COMPONENTS, *RELATION_TYPES, "unclassified", "unga_vote")
MODALITIES = ("realized", "planned", "alleged", "denied")
VOTES = (1, 2, 3)  # yes, abstain, no: the only votes that count as common votes
HISTORY_STATUSES = ("listed", "removed")
CHANGE_TYPES = ("added", "removed", "changed")
CHANGE_FLAGS = ("names_changed", "programs_changed", "countries_changed")
TIE_EVENT_COUNTS = (
    "events", *MODALITY_COUNTS, "article_realized_events", "gdelt_realized_events",
    *(f"{t}_events" for t in RELATION_TYPES if t != "bloc_alignment"),
)
TIE_SANCTIONS_COUNTS = ("sanctions_linked_to_both", "sanctions_cross_program", "sanctions_relation_edges")
DIRECTED_EVENT_COUNTS = (
    *MODALITY_COUNTS, "arms_transfer_events", "military_cooperation_events", "technology_transfer_events",
    "financial_integration_events", "economic_cooperation_events", "energy_cooperation_events", "sanctions_events",
    "threat_events", "use_of_force_events",
)
#: Share of current designations that must have at least one country under basis 'any' (warning).
MIN_SHARE_WITH_COUNTRY = 0.7

# --------------------------------------------------------------------------- columns and grain (dbt's YAML)


@dataclass(frozen=True)
class MartContract:
    """A mart as its dbt YAML entry states it: its columns (in order) with their types, and its grain
    (the ``grain`` test: the columns that identify a row, and those of them that may be null)."""

    columns: tuple[str, ...]
    types: Mapping[str, str]
    grain: tuple[str, ...]
    nullable: frozenset[str]


def _marts_dir() -> Path:
    from pipeline.settings import load

    return load().sql_dir / "models" / "marts"


@functools.cache
def _contracts(folder: Path) -> dict[str, MartContract]:
    found: dict[str, MartContract] = {}
    for path in sorted(folder.glob("_*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []:
            grains = [t["grain"].get("arguments", t["grain"]) for t in model.get("data_tests") or []
                      if isinstance(t, dict) and "grain" in t]
            if len(grains) != 1:
                raise ValueError(f"{path}: mart {model['name']} needs one `grain` test (found {len(grains)})")
            columns = model.get("columns") or []
            found[model["name"]] = MartContract(
                tuple(c["name"] for c in columns), {c["name"]: c.get("data_type", "") for c in columns},
                tuple(grains[0]["columns"]), frozenset(grains[0].get("nullable") or ()))
    return found


def contracts() -> dict[str, MartContract]:
    """Every mart's columns and grain, read from ``sql/models/marts/_*.yml`` (``PIPELINE_SQL_DIR``)."""
    return _contracts(_marts_dir())


def mart_names() -> tuple[str, ...]:
    """The marts, as the dbt project declares them."""
    return tuple(contracts())


#: Ranked marts: the partition a rank is computed in, the value it ranks (highest first), how ties
#: are ranked ('min': 1, 1, 3 as SQL rank(); 'dense': 1, 1, 2 as dense_rank()) and the rank column.
RANKS: dict[str, tuple[list[str], str, str, str]] = {
    "mart_country_rankings": (
        ["as_of_date", "unit", "authority", "list_code", "basis", "entity_type"], "designations", "min", "rank"),
    "mart_country_rankings_as_known": (
        ["as_of_date", "unit", "authority", "list_code", "basis", "entity_type"], "designations", "min", "rank"),
    "mart_country_rankings_monthly": (
        ["month", "unit", "authority", "list_code", "basis"], "designations", "min", "rank"),
    "mart_dyad_ties": (["period_type", "period_start"], "tie_index", "min", "tie_rank"),
    "mart_unga_partner_rankings": (["period_type", "period", "country_iso2"], "agreement", "dense", "rank"),
}


# --------------------------------------------------------------------------- helper columns


def _has(frame: pd.DataFrame, *columns: str) -> bool:
    return set(columns) <= set(frame.columns)


def _months(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values)


def _close(a: pd.Series, b: pd.Series) -> pd.Series:
    """Equal within :data:`TOLERANCE`, or both missing."""
    a, b = a.astype("float64"), b.astype("float64")
    return ((a - b).abs() <= TOLERANCE) | (a.isna() & b.isna())


def _rank_helpers(frame: pd.DataFrame, mart: str) -> pd.DataFrame:
    partition, value, method, rank = RANKS[mart]
    if not _has(frame, *partition, value, rank):
        return frame
    groups = frame.groupby(partition, dropna=False)
    frame["expected_rank"] = groups[value].rank(method=method, ascending=False).astype("Int64")
    if method == "dense":
        frame["ranks_without_gaps"] = groups[rank].transform(
            lambda r: bool(r.isna().all() or (r.min() == 1 and r.nunique() == r.max()))).astype(bool)
    frame["rank_iff_value"] = frame[rank].notna() == frame[value].notna()
    return frame


def _first_day_of_period(starts: pd.Series, period_types: pd.Series | None = None) -> pd.Series:
    """A period start is the first day of its month (of its year for period_type 'year')."""
    start = _months(starts)
    ok = start.dt.day == 1
    if period_types is not None:
        ok &= (period_types != "year") | (start.dt.month == 1)
    return ok.fillna(False).astype(bool)


def _period_label_matches(frame: pd.DataFrame) -> pd.Series:
    """``period`` is ``period_start`` written 'YYYY' (years) or 'YYYY-MM' (months)."""
    start = _months(frame["period_start"])
    label = start.dt.strftime("%Y").where(frame["period_type"] == "year", start.dt.strftime("%Y-%m"))
    return (label == frame["period"]).fillna(False).astype(bool)


def _net_cooperation_matches(frame: pd.DataFrame, c: str, k: str, net: str, empty: float | None = None) -> pd.Series:
    """``net`` = (C - K) / (C + K); when C + K = 0: ``empty`` (null by default; the tie marts: 0, neutral)."""
    total = frame[c] + frame[k]
    return _close(frame[net], ((frame[c] - frame[k]) / total).where(total > 0, empty).where(total.notna()))


def _min_common_votes(marts: Mapping[str, pd.DataFrame] | None) -> int:
    """The minimum number of common votes for a score, as mart_unga_agreement states it."""
    agreement = (marts or {}).get("mart_unga_agreement")
    if agreement is None or "min_common_votes" not in agreement.columns:
        log.warning("mart_unga_agreement not given to prepare(): common votes of ranked pairs are only checked >= 1")
        return 1
    values = agreement["min_common_votes"].dropna()
    return int(values.max()) if not values.empty else 1


def _authority_column_helpers(frame: pd.DataFrame, country_slice: list[str]) -> pd.DataFrame:
    """The wide columns (us ... ch, "all"): each at most "all", the same on every row of the country's
    slice, and "all" = designations on the rows of authority 'all'."""
    wide = [*AUTHORITY_COLUMNS, ALL_COLUMN]
    if not _has(frame, *wide, *country_slice, "authority", "designations"):
        return frame
    frame["authorities_within_all"] = (
        frame[list(AUTHORITY_COLUMNS)].le(frame[ALL_COLUMN], axis=0).all(axis=1)).fillna(False).astype(bool)
    same = frame.groupby(country_slice, dropna=False)[wide].transform("nunique").le(1).all(axis=1)
    frame["authority_columns_same_in_slice"] = same.astype(bool)
    frame["all_column_is_all_row"] = ((frame["authority"] != "all")
                                      | (frame[ALL_COLUMN] == frame["designations"])).fillna(False).astype(bool)
    return frame


def _prepare_country_rankings(frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
    frame = _rank_helpers(frame, "mart_country_rankings")
    slice_columns = ["as_of_date", "unit", "authority", "list_code", "basis", "entity_type"]
    if _has(frame, *slice_columns, "designations", "share"):
        # share = designations / the slice's designations with a country: the same total on every row of a slice
        implied = frame["designations"] / frame["share"].where(frame["share"] > 0)
        slice_total = implied.groupby([frame[c] for c in slice_columns], dropna=False).transform("median")
        frame["share_matches_slice_total"] = ((implied - slice_total).abs() <= 1e-6 * slice_total).fillna(False)
    return _authority_column_helpers(frame, ["as_of_date", "unit", "basis", "entity_type", "country_iso2"])


def _prepare_monthly(frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
    frame = _rank_helpers(frame, "mart_country_rankings_monthly")
    if _has(frame, "month", "unit", "authority", "list_code", "basis", "country_iso2", "new_designations"):
        month = _months(frame["month"])
        frame["month_is_first_day"] = (month.dt.day == 1).fillna(False)
        ordered = frame.assign(_month=month).sort_values("_month", kind="stable")
        series = ordered.groupby(["unit", "authority", "list_code", "basis", "country_iso2"], dropna=False)
        frame["expected_designations"] = series["new_designations"].cumsum().reindex(frame.index)
        previous = series["_month"].shift(1).reindex(frame.index)
        frame["follows_previous_month"] = previous.isna() | (previous + pd.DateOffset(months=1) == month)
    return _authority_column_helpers(frame, ["month", "unit", "basis", "country_iso2"])


def _prepare_crossovers(frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
    if _has(frame, "country_iso2", "overtaken_iso2"):
        frame["countries_differ"] = (frame["country_iso2"] != frame["overtaken_iso2"]).fillna(False)
    if _has(frame, *AUTHORITY_COLUMNS, ALL_COLUMN):
        frame["authorities_within_all"] = (
            frame[list(AUTHORITY_COLUMNS)].le(frame[ALL_COLUMN], axis=0).all(axis=1)).fillna(False).astype(bool)
    monthly = (marts or {}).get("mart_country_rankings_monthly")
    series = ["unit", "authority", "list_code", "basis"]
    if not _has(frame, *series, "month"):
        return frame
    if monthly is None or not _has(monthly, *series, "month"):
        log.warning("mart_country_rankings_monthly not given to prepare(): crossover months not checked against it")
        frame["series_start"] = pd.NaT
        return frame
    starts = (monthly.assign(month=_months(monthly["month"])).groupby(series)["month"].min()
              .rename("series_start").reset_index())
    merged = frame[series].merge(starts, on=series, how="left")
    frame["series_start"] = merged["series_start"].to_numpy()
    frame["month"] = _months(frame["month"])
    return frame


def _prepare_designations(frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
    lists = ("program_target_countries", "nationality_countries", "any_countries")
    if not _has(frame, *lists):
        return frame

    def codes(value: Any) -> list[str]:
        return [] if value is None or (isinstance(value, float) and pd.isna(value)) else list(value)

    frame["countries_are_iso2"] = [
        all(isinstance(c, str) and len(c) == 2 and c.isascii() and c.isupper() for c in codes(a) + codes(b) + codes(c))
        for a, b, c in zip(*(frame[col] for col in lists), strict=True)
    ]
    frame["countries_within_any"] = [
        set(codes(p)) | set(codes(n)) <= set(codes(a))
        for p, n, a in zip(*(frame[col] for col in lists), strict=True)
    ]
    frame["has_country"] = [bool(codes(a)) for a in frame["any_countries"]]
    return frame


def _prepare_events_monthly(frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
    if _has(frame, "month"):
        frame["month_is_first_day"] = (_months(frame["month"]).dt.day == 1).fillna(False)
    if _has(frame, "events", *MODALITY_COUNTS):
        frame["modalities_add_up"] = frame[list(MODALITY_COUNTS)].sum(axis=1) == frame["events"]
    if _has(frame, "realized_events", *RELATION_TYPE_COUNTS, *QUAD_CLASS_COUNTS):
        frame["relation_types_add_up"] = frame[list(RELATION_TYPE_COUNTS)].sum(axis=1) == frame["realized_events"]
        frame["quad_classes_within_realized"] = frame[list(QUAD_CLASS_COUNTS)].sum(axis=1) <= frame["realized_events"]
    if _has(frame, "cooperation", "conflict", "net_cooperation"):
        frame["net_cooperation_matches"] = _net_cooperation_matches(frame, "cooperation", "conflict", "net_cooperation")
    return frame


def _prepare_agreement(frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
    needed = ("common_votes", "min_common_votes", "pct_identical", "agreement", "s_score", "kappa", "scott_pi")
    if not _has(frame, *needed):
        return frame
    scored = frame["agreement"].notna()
    frame["scored_iff_enough_votes"] = (scored == (frame["common_votes"] >= frame["min_common_votes"])).fillna(False)
    frame["scores_null_together"] = (
        (frame["pct_identical"].notna() == scored) & (frame["s_score"].notna() == scored)
        & (scored | (frame["kappa"].isna() & frame["scott_pi"].isna()))
    )
    frame["s_score_matches"] = _close(frame["s_score"], 2 * frame["agreement"] - 1)
    frame["agreement_at_least_identical"] = ~(frame["agreement"] < frame["pct_identical"] - TOLERANCE).fillna(False)
    return frame


def _prepare_partner_rankings(frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
    frame = _rank_helpers(frame, "mart_unga_partner_rankings")
    partition = ["period_type", "period", "country_iso2"]
    if _has(frame, *partition, "agreement", "partner_iso2"):
        ordered = frame.sort_values(["agreement", "partner_iso2"], ascending=[False, True], kind="stable")
        frame["expected_position"] = (ordered.groupby(partition, dropna=False).cumcount() + 1).reindex(frame.index)
        frame["partner_differs"] = (frame["country_iso2"] != frame["partner_iso2"]).fillna(False)
    frame["min_common_votes"] = _min_common_votes(marts)
    return frame


def _prepare_bloc_cohesion(frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
    if _has(frame, "members"):
        k = frame["members"].fillna("").str.split().str.len()
        frame["expected_pairs"] = (k * (k - 1) // 2).astype("Int64")
    frame["min_common_votes"] = _min_common_votes(marts)
    return frame


def _prepare_designation_history(frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
    if _has(frame, "status", "removed_on"):
        frame["removed_iff_status_removed"] = (frame["status"] == "removed") == frame["removed_on"].notna()
    return frame


def _prepare_snapshot_deltas(frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
    counts = ("designations", "previous_designations", "added", "removed", "changed", *CHANGE_FLAGS)
    if not _has(frame, "is_first_snapshot", "previous_snapshot_date", *counts):
        return frame
    first = frame["is_first_snapshot"].astype("boolean").fillna(False).astype(bool)
    frame["first_iff_no_previous"] = first == frame["previous_snapshot_date"].isna()
    frame["counts_add_up"] = (frame["previous_designations"] + frame["added"] - frame["removed"]
                              == frame["designations"]).fillna(False).astype(bool)
    frame["first_snapshot_all_added"] = ~first | (
        (frame["added"] == frame["designations"]) & (frame["previous_designations"] == 0)
        & (frame["removed"] == 0) & (frame["changed"] == 0))
    flags = frame[list(CHANGE_FLAGS)]
    frame["changed_matches_kinds"] = ((flags.max(axis=1) <= frame["changed"])
                                      & (frame["changed"] <= flags.sum(axis=1))).fillna(False).astype(bool)
    return frame


def _prepare_delta_records(frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
    if not _has(frame, "change_type", "previous_primary_name", *CHANGE_FLAGS):
        return frame
    changed = frame["change_type"] == "changed"
    flags = frame[list(CHANGE_FLAGS)].astype("boolean")
    frame["flags_only_on_changed_rows"] = (changed | flags.isna().all(axis=1)).fillna(False).astype(bool)
    frame["changed_row_says_what"] = (~changed | flags.fillna(False).any(axis=1)).fillna(False).astype(bool)
    frame["added_has_no_previous_name"] = (
        (frame["change_type"] != "added") | frame["previous_primary_name"].isna()).fillna(False).astype(bool)
    return frame


def _prepare_dyad_ties(frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
    frame = _rank_helpers(frame, "mart_dyad_ties")
    if _has(frame, "period_type", "period_start", "period"):
        frame["period_start_is_first_day"] = _first_day_of_period(frame["period_start"], frame["period_type"])
        frame["period_label_matches"] = _period_label_matches(frame)
    if _has(frame, "events", *MODALITY_COUNTS):
        parts = frame[list(MODALITY_COUNTS)].fillna(0).sum(axis=1)
        frame["modalities_add_up"] = (frame["events"].isna() | (parts == frame["events"])).astype(bool)
    if _has(frame, "events_cooperation", "events_conflict", "events_net_cooperation"):
        frame["net_cooperation_matches"] = _net_cooperation_matches(
            frame, "events_cooperation", "events_conflict", "events_net_cooperation", empty=0.0)
    if _has(frame, "tie_index", "index_components", "index_component_list"):
        listed = frame["index_component_list"].fillna("").str.split(",").map(lambda xs: len([x for x in xs if x]))
        frame["index_components_listed"] = (listed == frame["index_components"]).fillna(False).astype(bool)
        frame["index_iff_components"] = frame["tie_index"].notna() == (frame["index_components"] > 0)
    if _has(frame, "unga_agreement", "unga_common_votes"):
        minimum = _min_common_votes(marts)
        frame["unga_scored_with_enough_votes"] = (
            frame["unga_agreement"].isna() | (frame["unga_common_votes"] >= minimum)).fillna(False).astype(bool)
    return frame


def _prepare_dyad_ties_directed(frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
    if _has(frame, "period_type", "period_start", "period"):
        frame["period_start_is_first_day"] = _first_day_of_period(frame["period_start"], frame["period_type"])
        frame["period_label_matches"] = _period_label_matches(frame)
    if _has(frame, "from_country", "to_country"):
        frame["countries_differ"] = (frame["from_country"] != frame["to_country"]).fillna(False).astype(bool)
    if _has(frame, "events_cooperation", "events_conflict", "events_net_cooperation"):
        frame["net_cooperation_matches"] = _net_cooperation_matches(
            frame, "events_cooperation", "events_conflict", "events_net_cooperation", empty=0.0)
    return frame


def _prepare_dyad_evidence(frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
    if _has(frame, "evidence_date", "period_year", "period_month"):
        date = _months(frame["evidence_date"])
        frame["periods_match_date"] = ((date.dt.year == frame["period_year"])
                                       & (date.dt.to_period("M").dt.start_time == _months(frame["period_month"]))
                                       ).fillna(False).astype(bool)
    if _has(frame, "evidence_kind", "rcid", "vote_a", "vote_b", "entity_key"):
        kind = frame["evidence_kind"]
        given = frame[["rcid", "vote_a", "vote_b"]].notna()
        frame["votes_iff_unga_vote"] = given.all(axis=1).where(kind == "unga_vote", ~given.any(axis=1)).astype(bool)
        has_entity = (kind != "sanctions") | frame["entity_key"].notna()
        frame["sanctions_have_entity"] = has_entity.fillna(False).astype(bool)
    return frame


PREPARERS: dict[str, Callable[[pd.DataFrame, Mapping[str, pd.DataFrame] | None], pd.DataFrame]] = {
    "mart_country_rankings": _prepare_country_rankings,
    "mart_country_rankings_as_known": _prepare_country_rankings,
    "mart_country_rankings_monthly": _prepare_monthly,
    "mart_designation_history": _prepare_designation_history,
    "mart_snapshot_deltas": _prepare_snapshot_deltas,
    "mart_snapshot_delta_records": _prepare_delta_records,
    "mart_dyad_ties": _prepare_dyad_ties,
    "mart_dyad_ties_directed": _prepare_dyad_ties_directed,
    "mart_dyad_evidence": _prepare_dyad_evidence,
    "mart_rank_crossovers": _prepare_crossovers,
    "mart_designations": _prepare_designations,
    "mart_dyad_events_monthly": _prepare_events_monthly,
    "mart_unga_agreement": _prepare_agreement,
    "mart_unga_partner_rankings": _prepare_partner_rankings,
    "mart_unga_bloc_cohesion": _prepare_bloc_cohesion,
}


def prepare(mart: str, frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Return ``frame`` with the helper columns the suite of ``mart`` checks (a copy; marts without
    helpers come back as they are). ``marts`` (every mart's frame, by name) lets a rule look at
    another mart: crossover months start after the monthly series does, ranked partners have at
    least mart_unga_agreement's ``min_common_votes``. Without it those rules are logged as not
    checkable and pass."""
    preparer = PREPARERS.get(mart)
    return frame if preparer is None else preparer(frame.copy(), marts)


def prepare_all(frames: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """:func:`prepare` every mart of ``frames``, each seeing the others."""
    return {mart: prepare(mart, frame, frames) for mart, frame in frames.items()}


# --------------------------------------------------------------------------- rules


class _Rules:
    """Expectation builders that state each rule in words (``meta.rule`` and ``notes``)."""

    def __init__(self, mart: str) -> None:
        _, self.gxe = gx_modules()
        self.mart = mart

    def not_null(self, *columns: str) -> list[Any]:
        return [ruled(self.gxe.ExpectColumnValuesToNotBeNull, f"{c} is never null", column=c) for c in columns]

    def non_empty(self) -> Any:
        return ruled(self.gxe.ExpectTableRowCountToBeBetween, f"{self.mart} has at least one row", min_value=1)

    def in_set(self, column: str, values: tuple, **kw: Any) -> Any:
        return ruled(self.gxe.ExpectColumnValuesToBeInSet, f"{column} is one of {', '.join(map(str, values))}",
                     column=column, value_set=list(values), **kw)

    def iso2(self, *columns: str) -> list[Any]:
        return [ruled(self.gxe.ExpectColumnValuesToMatchRegex,
                      f"{c} is an ISO 3166 alpha-2 code (two capital letters)", column=c, regex=ISO2)
                for c in columns]

    def authority(self) -> Any:
        return ruled(self.gxe.ExpectColumnValuesToMatchRegex,
                     "authority is 'all' or a source authority id such as 'us_ofac'", column="authority",
                     regex=AUTHORITY)

    def ordered_pair(self, a: str = "country_a", b: str = "country_b") -> Any:
        return ruled(self.gxe.ExpectColumnPairValuesAToBeGreaterThanB,
                     f"each pair is stored once, ordered: {a} < {b}", column_A=b, column_B=a, or_equal=False)

    def between(self, column: str, low: float | None, high: float | None, rule: str, **kw: Any) -> Any:
        return ruled(self.gxe.ExpectColumnValuesToBeBetween, rule, column=column, min_value=low, max_value=high, **kw)

    def at_least(self, minimum: int, *columns: str) -> list[Any]:
        return [self.between(c, minimum, None, f"{c} is at least {minimum}") for c in columns]

    def fraction(self, *columns: str) -> list[Any]:
        return [self.between(c, -TOLERANCE, 1 + TOLERANCE, f"{c} is between 0 and 1 (rounding aside)") for c in columns]

    def signed_unit(self, *columns: str) -> list[Any]:
        return [self.between(c, -1 - TOLERANCE, 1 + TOLERANCE, f"{c} is between -1 and 1 (rounding aside)")
                for c in columns]

    def holds(self, helper: str, rule: str, **kw: Any) -> Any:
        """A boolean helper column added by :func:`prepare` is true on every row."""
        return ruled(self.gxe.ExpectColumnValuesToBeInSet, rule, column=helper, value_set=[True], **kw)

    def greater(self, a: str, b: str, rule: str, *, or_equal: bool = False) -> Any:
        return ruled(self.gxe.ExpectColumnPairValuesAToBeGreaterThanB, rule, column_A=a, column_B=b,
                     or_equal=or_equal, ignore_row_if="either_value_is_missing")

    def equal(self, a: str, b: str, rule: str) -> Any:
        return ruled(self.gxe.ExpectColumnPairValuesToBeEqual, rule, column_A=a, column_B=b,
                     ignore_row_if="either_value_is_missing")

    def regex(self, column: str, pattern: str, rule: str) -> Any:
        return ruled(self.gxe.ExpectColumnValuesToMatchRegex, rule, column=column, regex=pattern)

    def at_most_rows(self, maximum: int, rule: str, **kw: Any) -> Any:
        return ruled(self.gxe.ExpectTableRowCountToBeBetween, rule, max_value=maximum, **kw)


def _country_rankings(r: _Rules) -> list[Any]:
    return [
        *_ranking_rules(r),
        ruled(r.gxe.ExpectColumnUniqueValueCountToBeBetween, "one as-of date per ranking (the newest snapshot)",
              column="as_of_date", max_value=1),
    ]


def _ranking_rules(r: _Rules) -> list[Any]:
    return [
        ruled(r.gxe.ExpectTableRowCountToBeBetween, f"{r.mart} has at least one row (it is empty, and this only "
              "warns, while no sanctions list has been loaded into this home, e.g. a run on UN votes alone)",
              min_value=1, severity="warning"),
        *r.not_null("country_name", "designations", "rank", "share"), r.authority(),
        r.in_set("basis", BASES), r.in_set("entity_type", RANKING_ENTITY_TYPES), *r.iso2("country_iso2"),
        *r.at_least(1, "designations", "rank"),
        r.between("share", 0, 1, "share is a fraction in (0, 1]", strict_min=True),
        r.equal("rank", "expected_rank", "rank = 1 + the number of countries of the slice with more designations "
                "(ties share a rank)"),
        r.holds("share_matches_slice_total", "share = designations / the same slice total on every row of a slice"),
        *_authority_column_rules(r, "the country's slice (as-of date, unit, basis, entity type)"),
    ]


def _authority_column_rules(r: _Rules, slice_words: str | None) -> list[Any]:
    """The wide columns us, eu, un, gb, ca, ch and "all" (slice_words: where they must repeat)."""
    wide = (*AUTHORITY_COLUMNS, ALL_COLUMN)
    rules = [
        r.in_set("unit", UNITS), *r.not_null("list_code", *wide), *r.at_least(0, *wide),
        r.holds("authorities_within_all", "no authority's column exceeds the \"all\" column"),
    ]
    if slice_words:
        rules += [
            r.holds("authority_columns_same_in_slice", f"us, eu, un, gb, ca, ch and \"all\" are the same on every row "
                    f"of {slice_words}"),
            r.holds("all_column_is_all_row", "on a row of authority 'all' the \"all\" column equals designations"),
        ]
    return rules


def _country_rankings_monthly(r: _Rules) -> list[Any]:
    return [
        *r.not_null("country_name", "new_designations", "designations", "rank"), r.authority(),
        r.in_set("basis", MONTHLY_BASES), *r.iso2("country_iso2"), *r.at_least(0, "new_designations"),
        *r.at_least(1, "designations", "rank"),
        r.holds("month_is_first_day", "month is the first day of a month"),
        r.greater("designations", "new_designations", "designations in force include the month's new ones",
                  or_equal=True),
        r.equal("designations", "expected_designations",
                "designations in force = the running total of new_designations of the country's series"),
        r.holds("follows_previous_month", "a country's series has a row for every month once it starts"),
        r.equal("rank", "expected_rank", "rank = 1 + the number of countries with more designations that month "
                "(ties share a rank)"),
        *_authority_column_rules(r, "the country's month (unit, basis)"),
    ]


def _rank_crossovers(r: _Rules) -> list[Any]:
    return [
        *r.not_null("designations", "overtaken_designations"), r.authority(),
        r.in_set("basis", MONTHLY_BASES), *r.iso2("country_iso2", "overtaken_iso2"),
        *r.at_least(1, "overtaken_designations"),
        r.holds("countries_differ", "a country never overtakes itself"),
        r.greater("designations", "overtaken_designations", "the country that moved ahead has more designations"),
        r.greater("month", "series_start", "a crossover happens after the first month of the listing-date series "
                  "(it needs a month before it)"),
        *_authority_column_rules(r, None),
    ]


def _designations(r: _Rules) -> list[Any]:
    return [
        *r.not_null("source", "authority", "entity_key", "entity_type", "primary_name",
                                   "snapshot_date", "raw_sha256"),
        r.authority(), r.in_set("entity_type", ENTITY_TYPES),
        r.regex("raw_sha256", HEX64, "raw_sha256 is 64 lowercase hex digits"),
        r.greater("snapshot_date", "listed_on", "a designation is listed on or before its snapshot date",
                  or_equal=True),
        r.holds("countries_are_iso2", "every country in the country lists is an ISO alpha-2 code"),
        r.holds("countries_within_any", "programme-target and nationality countries are among any_countries"),
        r.holds("has_country", f"at least {MIN_SHARE_WITH_COUNTRY:.0%} of designations have a country (only warns)",
                mostly=MIN_SHARE_WITH_COUNTRY, severity="warning"),
    ]


def _designation_history(r: _Rules) -> list[Any]:
    return [
        *r.not_null("source", "authority", "entity_key", "entity_type", "primary_name",
                                   "first_seen_on", "last_seen_on", "status", "snapshots_seen", "snapshots_missed"),
        r.authority(), r.in_set("entity_type", ENTITY_TYPES), r.in_set("status", HISTORY_STATUSES),
        *r.at_least(1, "snapshots_seen"), *r.at_least(0, "snapshots_missed"),
        r.greater("last_seen_on", "first_seen_on", "first_seen_on is on or before last_seen_on", or_equal=True),
        r.greater("removed_on", "last_seen_on", "a removal is known after the last snapshot that carried it"),
        r.greater("last_seen_on", "listed_on", "a designation is listed on or before the snapshots that carry it",
                  or_equal=True),
        r.holds("removed_iff_status_removed", "removed_on is given exactly when status is 'removed'"),
    ]


def _snapshot_deltas(r: _Rules) -> list[Any]:
    counts = ("designations", "previous_designations", "added", "removed", "changed", *CHANGE_FLAGS)
    return [
        *r.not_null("is_first_snapshot", *counts), *r.at_least(0, *counts),
        r.greater("snapshot_date", "previous_snapshot_date", "the previous snapshot is older than the snapshot"),
        r.holds("first_iff_no_previous", "is_first_snapshot exactly when there is no previous snapshot"),
        r.holds("counts_add_up", "designations = previous_designations + added - removed"),
        r.holds("first_snapshot_all_added", "in a source's first snapshot every designation counts as added"),
        r.holds("changed_matches_kinds", "changed is at least each kind of change and at most their sum"),
        r.greater("designations", "added", "added is at most the designations of the snapshot", or_equal=True),
        r.greater("previous_designations", "removed", "removed is at most the previous designations", or_equal=True),
    ]


def _snapshot_delta_records(r: _Rules) -> list[Any]:
    return [
        *r.not_null("authority", "entity_key", "change_type", "primary_name"), r.authority(),
        r.in_set("change_type", CHANGE_TYPES), r.in_set("entity_type", ENTITY_TYPES),
        r.greater("snapshot_date", "previous_snapshot_date", "the previous snapshot is older than the snapshot"),
        r.holds("flags_only_on_changed_rows", "names/programs/countries_changed are given on 'changed' rows only"),
        r.holds("changed_row_says_what", "a 'changed' row says what changed (at least one flag is true)"),
        r.holds("added_has_no_previous_name", "an added designation has no previous primary name"),
    ]


def _dyad_sanctions_exposure(r: _Rules) -> list[Any]:
    return [
        *r.not_null("country_a_name", "country_b_name", *SANCTIONS_COUNTS), r.authority(),
        *r.iso2("country_a", "country_b"), r.ordered_pair(), *r.at_least(0, *SANCTIONS_COUNTS),
    ]


def _dyad_ties(r: _Rules) -> list[Any]:
    return [
        *r.not_null("period", "index_components"),
        r.in_set("period_type", TIE_PERIOD_TYPES), *r.iso2("country_a", "country_b"), r.ordered_pair(),
        r.holds("period_start_is_first_day", "period_start is the first day of its month (year: of January)"),
        r.holds("period_label_matches", "period is period_start as 'YYYY' (years) or 'YYYY-MM' (months)"),
        *r.at_least(0, *TIE_EVENT_COUNTS, "events_cooperation", "events_conflict", *TIE_SANCTIONS_COUNTS,
                    "index_components"),
        *r.at_least(1, "unga_common_votes"), *r.fraction("unga_agreement"),
        *r.signed_unit("events_net_cooperation", "unga_kappa", "unga_s_score"),
        r.holds("modalities_add_up", "events = realized + planned + alleged + denied events"),
        r.holds("net_cooperation_matches", "events_net_cooperation = (C - K) / (C + K), 0 when C + K = 0"),
        r.holds("unga_scored_with_enough_votes", "a UN agreement is given only with at least min_common_votes common "
                "votes (mart_unga_agreement)"),
        r.holds("index_iff_components", "tie_index is given exactly when the pair has at least one component"),
        r.holds("index_components_listed", "index_component_list names index_components components"),
        r.holds("rank_iff_value", "tie_rank is given exactly when tie_index is"),
        r.equal("tie_rank", "expected_rank", "tie_rank = competition rank of tie_index in the period (1 + the pairs "
                "with a higher index)"),
    ]


def _dyad_ties_directed(r: _Rules) -> list[Any]:
    return [
        *r.not_null("period"),
        r.in_set("period_type", TIE_PERIOD_TYPES), *r.iso2("from_country", "to_country"),
        r.holds("countries_differ", "a country never acts on itself"),
        r.holds("period_start_is_first_day", "period_start is the first day of its month (year: of January)"),
        r.holds("period_label_matches", "period is period_start as 'YYYY' (years) or 'YYYY-MM' (months)"),
        *r.at_least(0, *DIRECTED_EVENT_COUNTS, "events_cooperation", "events_conflict",
                    "from_entities_under_to_programs"),
        *r.signed_unit("events_net_cooperation"),
        r.holds("net_cooperation_matches", "events_net_cooperation = (C - K) / (C + K), 0 when C + K = 0"),
    ]


def _dyad_evidence(r: _Rules) -> list[Any]:
    return [
        *r.not_null("evidence_date", "modality", "period_year", "period_month"),
        r.in_set("evidence_kind", EVIDENCE_KINDS), r.in_set("component", EVIDENCE_COMPONENTS),
        r.in_set("direction", DIRECTIONS), r.in_set("modality", MODALITIES), *r.iso2("country_a", "country_b"),
        r.ordered_pair(), r.in_set("vote_a", VOTES), r.in_set("vote_b", VOTES),
        r.holds("periods_match_date", "period_year and period_month are those of evidence_date"),
        r.holds("votes_iff_unga_vote", "a roll call and both votes are given exactly on unga_vote rows"),
        r.holds("sanctions_have_entity", "sanctions evidence names its designated entity"),
    ]


def _unmapped_countries(r: _Rules) -> list[Any]:
    return [
        *r.not_null("occurrences"), *r.at_least(1, "occurrences"),
        r.in_set("status", UNMAPPED_STATUSES),
        ruled(r.gxe.ExpectColumnValuesToBeInSet, "the crosswalk knows every country value: status 'unknown' means "
              "pipeline/reference/country_names.csv lacks it (only warns)", column="status",
              value_set=["non_country"], severity="warning"),
    ]


def _unknown_programs(r: _Rules) -> list[Any]:
    return [
        *r.not_null("designations"), r.authority(), *r.at_least(1, "designations"),
        r.at_most_rows(0, "every programme tag is in its source's programs.csv (pipeline/sources/<id>/programs.csv; "
                       "only warns: such designations attribute no target country)", severity="warning"),
    ]


def _dyad_events_monthly(r: _Rules) -> list[Any]:
    counts = ("events", *MODALITY_COUNTS, *RELATION_TYPE_COUNTS, *QUAD_CLASS_COUNTS)
    return [
        *r.not_null(*counts, "realized_weight", "cooperation", "conflict"),
        r.in_set("source", EVENT_SOURCES), r.in_set("direction", DIRECTIONS), *r.iso2("country_a", "country_b"),
        r.ordered_pair(), r.holds("month_is_first_day", "month is the first day of a month"),
        *r.at_least(1, "events"), *r.at_least(0, *counts[1:], "realized_weight", "cooperation", "conflict"),
        *r.signed_unit("net_cooperation"),
        r.holds("modalities_add_up", "events = realized + planned + alleged + denied events"),
        r.holds("relation_types_add_up", "realized events = the sum of the relation-type counts (unclassified "
                "included)"),
        r.holds("quad_classes_within_realized", "the QuadClass counts add up to at most the realized events"),
        r.holds("net_cooperation_matches", "net_cooperation = (C - K) / (C + K), null when C + K = 0"),
    ]


def _unga_agreement(r: _Rules) -> list[Any]:
    return [
        *r.not_null("common_votes", "min_common_votes"), r.in_set("period_type", PERIOD_TYPES),
        *r.at_least(1, "period", "common_votes", "min_common_votes"), *r.iso2("country_a", "country_b"),
        r.ordered_pair(), *r.fraction("pct_identical", "agreement"), *r.signed_unit("s_score", "kappa", "scott_pi"),
        r.holds("scored_iff_enough_votes", "scores are given exactly when common_votes >= min_common_votes (null "
                "below it, the row kept)"),
        r.holds("scores_null_together", "pct_identical, agreement and S are null together; kappa and pi are null "
                "when the others are"),
        r.holds("s_score_matches", "s_score = 2 * agreement - 1"),
        r.holds("agreement_at_least_identical", "agreement is at least the share of identical votes"),
    ]


def _unga_partner_rankings(r: _Rules) -> list[Any]:
    return [
        *r.not_null("rank", "position", "common_votes", "agreement", "s_score"),
        r.in_set("period_type", PERIOD_TYPES), *r.at_least(1, "period", "rank", "position"),
        *r.iso2("country_iso2", "partner_iso2"), r.holds("partner_differs", "a country is never its own partner"),
        *r.fraction("agreement"), *r.signed_unit("s_score", "kappa"),
        ruled(r.gxe.ExpectCompoundColumnsToBeUnique, "one row per (period_type, period, country_iso2, position)",
              column_list=["period_type", "period", "country_iso2", "position"]),
        r.greater("common_votes", "min_common_votes", "a ranked partner has at least min_common_votes common votes "
                  "(mart_unga_agreement)", or_equal=True),
        r.holds("ranks_without_gaps", "ranks are dense: 1..k without gaps for each country and period"),
        r.equal("rank", "expected_rank", "rank = dense rank of agreement, highest first (equal agreement, equal "
                "rank)"),
        r.equal("position", "expected_position", "position = place by agreement, highest first, ties by partner "
                "code"),
        r.greater("position", "rank", "position is never above the rank", or_equal=True),
    ]


def _unga_bloc_cohesion(r: _Rules) -> list[Any]:
    return [
        *r.not_null("members", "pairs", "pairs_scored", "mean_agreement", "min_agreement"),
        r.in_set("period_type", PERIOD_TYPES), *r.at_least(1, "period", "pairs", "pairs_scored"),
        r.regex("members", ISO2_LIST, "members are ISO alpha-2 codes separated by spaces"),
        r.equal("pairs", "expected_pairs", "pairs = k (k - 1) / 2 for the bloc's k members"),
        r.greater("pairs", "pairs_scored", "pairs_scored is at most pairs", or_equal=True),
        *r.fraction("mean_agreement", "min_agreement"), *r.signed_unit("mean_kappa", "agreement_change"),
        r.greater("mean_agreement", "min_agreement", "min_agreement is at most mean_agreement", or_equal=True),
        r.greater("min_common_votes_of_pairs", "min_common_votes", "every scored pair has at least min_common_votes "
                  "common votes (mart_unga_agreement)", or_equal=True),
    ]


RULES: dict[str, Callable[[_Rules], list[Any]]] = {
    "mart_country_rankings": _country_rankings,
    "mart_country_rankings_monthly": _country_rankings_monthly,
    "mart_rank_crossovers": _rank_crossovers,
    "mart_designations": _designations,
    "mart_country_rankings_as_known": _ranking_rules,
    "mart_designation_history": _designation_history,
    "mart_snapshot_deltas": _snapshot_deltas,
    "mart_snapshot_delta_records": _snapshot_delta_records,
    "mart_dyad_sanctions_exposure": _dyad_sanctions_exposure,
    "mart_dyad_ties": _dyad_ties,
    "mart_dyad_ties_directed": _dyad_ties_directed,
    "mart_dyad_evidence": _dyad_evidence,
    "mart_unmapped_countries": _unmapped_countries,
    "mart_unknown_programs": _unknown_programs,
    "mart_dyad_events_monthly": _dyad_events_monthly,
    "mart_unga_agreement": _unga_agreement,
    "mart_unga_partner_rankings": _unga_partner_rankings,
    "mart_unga_bloc_cohesion": _unga_bloc_cohesion,
}


def mart_suites() -> dict[str, ExpectationSuite]:
    """One suite per mart of ``sql/models/marts``, keyed by mart name (validate frames from
    :func:`prepare`): its rules here, or none for a mart that has no rules of its own."""
    unknown = set(RULES) - set(mart_names())
    if unknown:
        raise ValueError(f"rules for marts the dbt project does not have: {sorted(unknown)}")
    return stage_suites(STAGE, {mart: RULES[mart](_Rules(mart)) if mart in RULES else []
                                for mart in mart_names()})
