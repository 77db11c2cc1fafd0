"""Gold checks: one Great Expectations suite per mart (every model in ``sql/models/marts``), named
``marts.<mart>``. A mart's columns, their types and its grain are written once, in its dbt YAML
entry (:func:`contracts` reads them), and dbt checks them as it builds (the enforced contract, the
``grain`` test); the suites check what dbt does not: codes in their sets, ISO2 codes, canonical
pair order (``country_a < country_b``), counts, shares and scores in their ranges, scores given
exactly when there are enough common votes, ranks consistent with the value they rank, rows
consistent with their partition and with other marts. A mart without rules of its own here has
an empty suite.

GX's SQL data sources do not support DuckDB, so the runner (:mod:`pipeline.validation`) evaluates
each rule in DuckDB over the mart itself and GX judges the outcome (one row per rule). Rules that
compare a row with its partition (a rank with the values it ranks, a running total with the months
before it) or with another mart (a crossover with the start of the monthly series) need helper
columns: one SELECT per mart adds them (:func:`helper_sql`; :func:`prepare_relations` on the built
database, :func:`prepare` on pandas frames), so every expectation stays a plain column rule that Data
Docs can show. Severity is critical unless a rule
says ``warning`` (soft rules: unknown programmes, crosswalk gaps, designations with no country).

Like every suite module here, importing it does not import Great Expectations.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
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

__all__ = ["MartContract", "contracts", "helper_sql", "mart_names", "mart_suites", "prepare", "prepare_all",
           "prepare_relations"]

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


# --------------------------------------------------------------------------- helper columns, in SQL
#
# Each mart's helper columns are one SELECT over the mart (window functions for ranks and running
# totals, scalar subqueries for what another mart says), built from the columns the mart has. The
# same SQL runs on the built database (the runner validates the resulting relation: nothing is read
# into pandas) and on pandas frames registered under the marts' names (:func:`prepare`, the tests).


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Helpers:
    """The helper columns of one mart: ``cols`` the mart's own columns, ``others`` every mart the
    SQL may read, with its columns. ``add`` a helper (it replaces a column of the same name)."""

    def __init__(self, mart: str, cols: Sequence[str], others: Mapping[str, Sequence[str]]) -> None:
        self.mart, self.cols, self.others = mart, set(cols), {m: set(c) for m, c in others.items()}
        self.exprs: dict[str, str] = {}

    def has(self, *columns: str) -> bool:
        return set(columns) <= self.cols

    def add(self, name: str, expr: str) -> None:
        self.exprs[name] = expr

    def sql(self) -> str | None:
        if not self.exprs:
            return None
        replaced = [f"{e} AS {_q(n)}" for n, e in self.exprs.items() if n in self.cols]
        added = [f"{e} AS {_q(n)}" for n, e in self.exprs.items() if n not in self.cols]
        star = f"* REPLACE ({', '.join(replaced)})" if replaced else "*"
        return f"SELECT {', '.join([star, *added])} FROM {_q(self.mart)} AS t"


def _cols(*columns: str) -> str:
    return ", ".join(f"t.{_q(c)}" for c in columns)


def _close_sql(a: str, b: str) -> str:
    """Equal within :data:`TOLERANCE`, or both missing."""
    return (f"(coalesce(abs(CAST({a} AS DOUBLE) - CAST({b} AS DOUBLE)) <= {TOLERANCE}, FALSE) "
            f"OR ({a} IS NULL AND {b} IS NULL))")


def _sum0(*columns: str) -> str:
    return " + ".join(f"coalesce(t.{_q(c)}, 0)" for c in columns)


def _rank_helpers(h: _Helpers, mart: str) -> None:
    partition, value, method, rank = RANKS[mart]
    if not h.has(*partition, value, rank):
        return
    p, v, r = _cols(*partition), f"t.{_q(value)}", f"t.{_q(rank)}"
    ranking = "dense_rank()" if method == "dense" else "rank()"
    h.add("expected_rank", f"CASE WHEN {v} IS NOT NULL THEN CAST({ranking} OVER (PARTITION BY {p} "
                           f"ORDER BY {v} DESC NULLS LAST) AS BIGINT) END")
    if method == "dense":
        over = f"OVER (PARTITION BY {p})"
        h.add("ranks_without_gaps", f"coalesce(count({r}) {over} = 0 OR (min({r}) {over} = 1 "
                                    f"AND count(DISTINCT {r}) {over} = max({r}) {over}), FALSE)")
    h.add("rank_iff_value", f"({r} IS NOT NULL) = ({v} IS NOT NULL)")


def _first_day_of_period(start: str, period_type: str | None = None) -> str:
    """A period start is the first day of its month (of its year for period_type 'year')."""
    year = f" AND ({period_type} IS DISTINCT FROM 'year' OR month({start}) = 1)" if period_type else ""
    return f"coalesce(day({start}) = 1{year}, FALSE)"


def _period_helpers(h: _Helpers) -> None:
    if h.has("period_type", "period_start", "period"):
        h.add("period_start_is_first_day", _first_day_of_period("t.period_start", "t.period_type"))
        h.add("period_label_matches", "coalesce(CASE WHEN t.period_type = 'year' THEN strftime(t.period_start, '%Y') "
                                      "ELSE strftime(t.period_start, '%Y-%m') END = CAST(t.period AS VARCHAR), FALSE)")


def _net_cooperation_sql(c: str, k: str, net: str, empty: str = "NULL") -> str:
    """``net`` = (C - K) / (C + K); when C + K = 0: ``empty`` (null by default; the tie marts: 0, neutral)."""
    c, k = f"t.{_q(c)}", f"t.{_q(k)}"
    expected = (f"CASE WHEN {c} + {k} > 0 THEN CAST({c} - {k} AS DOUBLE) / ({c} + {k}) "
                f"WHEN {c} + {k} IS NOT NULL THEN {empty} END")
    return _close_sql(f"t.{_q(net)}", expected)


def _min_common_votes(h: _Helpers) -> str:
    """The minimum number of common votes for a score, as mart_unga_agreement states it."""
    if "min_common_votes" not in h.others.get("mart_unga_agreement", set()):
        log.warning("mart_unga_agreement not given to prepare(): common votes of ranked pairs are only checked >= 1")
        return "1"
    return "(SELECT coalesce(CAST(max(min_common_votes) AS BIGINT), 1) FROM mart_unga_agreement)"


def _authority_column_helpers(h: _Helpers, country_slice: list[str]) -> None:
    """The wide columns (us ... ch, "all"): each at most "all", the same on every row of the country's
    slice, and "all" = designations on the rows of authority 'all'."""
    wide = [*AUTHORITY_COLUMNS, ALL_COLUMN]
    if not h.has(*wide, *country_slice, "authority", "designations"):
        return
    everything = f"t.{_q(ALL_COLUMN)}"
    h.add("authorities_within_all",
          "coalesce(" + " AND ".join(f"t.{_q(c)} <= {everything}" for c in AUTHORITY_COLUMNS) + ", FALSE)")
    over = f"OVER (PARTITION BY {_cols(*country_slice)})"
    h.add("authority_columns_same_in_slice", " AND ".join(f"count(DISTINCT t.{_q(c)}) {over} <= 1" for c in wide))
    h.add("all_column_is_all_row",
          f"coalesce(t.authority IS DISTINCT FROM 'all' OR {everything} = t.designations, FALSE)")


def _prepare_country_rankings(h: _Helpers) -> None:
    _rank_helpers(h, "mart_country_rankings")
    slice_columns = ["as_of_date", "unit", "authority", "list_code", "basis", "entity_type"]
    if h.has(*slice_columns, "designations", "share"):
        # share = designations / the slice's designations with a country: the same total on every row of a slice
        implied = "(CAST(t.designations AS DOUBLE) / CASE WHEN t.share > 0 THEN t.share END)"
        total = f"median({implied}) OVER (PARTITION BY {_cols(*slice_columns)})"
        h.add("share_matches_slice_total", f"coalesce(abs({implied} - {total}) <= 1e-6 * {total}, FALSE)")
    _authority_column_helpers(h, ["as_of_date", "unit", "basis", "entity_type", "country_iso2"])


def _prepare_monthly(h: _Helpers) -> None:
    _rank_helpers(h, "mart_country_rankings_monthly")
    series = ["unit", "authority", "list_code", "basis", "country_iso2"]
    if h.has("month", *series, "new_designations"):
        h.add("month_is_first_day", _first_day_of_period("t.month"))
        window = f"PARTITION BY {_cols(*series)} ORDER BY t.month"
        h.add("expected_designations", f"sum(t.new_designations) OVER ({window} ROWS BETWEEN UNBOUNDED PRECEDING "
                                       "AND CURRENT ROW)")
        previous = f"lag(t.month) OVER ({window})"
        h.add("follows_previous_month", f"{previous} IS NULL OR coalesce({previous} + INTERVAL 1 MONTH = t.month, "
                                        "FALSE)")
    _authority_column_helpers(h, ["month", "unit", "basis", "country_iso2"])


def _prepare_crossovers(h: _Helpers) -> None:
    if h.has("country_iso2", "overtaken_iso2"):
        h.add("countries_differ", "coalesce(t.country_iso2 <> t.overtaken_iso2, TRUE)")
    if h.has(*AUTHORITY_COLUMNS, ALL_COLUMN):
        h.add("authorities_within_all", "coalesce(" + " AND ".join(
            f"t.{_q(c)} <= t.{_q(ALL_COLUMN)}" for c in AUTHORITY_COLUMNS) + ", FALSE)")
    series = ["unit", "authority", "list_code", "basis"]
    if not h.has(*series, "month"):
        return
    if not {*series, "month"} <= h.others.get("mart_country_rankings_monthly", set()):
        log.warning("mart_country_rankings_monthly not given to prepare(): crossover months not checked against it")
        h.add("series_start", "CAST(NULL AS TIMESTAMP)")
        return
    match = " AND ".join(f"m.{_q(c)} = t.{_q(c)}" for c in series)
    h.add("series_start", f"(SELECT CAST(min(m.month) AS TIMESTAMP) FROM mart_country_rankings_monthly AS m "
                          f"WHERE {match})")


def _prepare_designations(h: _Helpers) -> None:
    lists = ("program_target_countries", "nationality_countries", "any_countries")
    if not h.has(*lists):
        return
    target, nationality, anywhere = (f"coalesce(CAST(t.{_q(c)} AS VARCHAR[]), [])" for c in lists)
    h.add("countries_are_iso2", f"coalesce(list_bool_and(list_transform({target} || {nationality} || {anywhere}, "
                                "lambda x: coalesce(regexp_full_match(x, '[A-Z]{2}'), FALSE))), TRUE)")
    h.add("countries_within_any", f"list_has_all({anywhere}, {target} || {nationality})")
    h.add("has_country", f"len({anywhere}) > 0")


def _prepare_events_monthly(h: _Helpers) -> None:
    if h.has("month"):
        h.add("month_is_first_day", _first_day_of_period("t.month"))
    if h.has("events", *MODALITY_COUNTS):
        h.add("modalities_add_up", f"coalesce({_sum0(*MODALITY_COUNTS)} = t.events, FALSE)")
    if h.has("realized_events", *RELATION_TYPE_COUNTS, *QUAD_CLASS_COUNTS):
        h.add("relation_types_add_up", f"coalesce({_sum0(*RELATION_TYPE_COUNTS)} = t.realized_events, FALSE)")
        h.add("quad_classes_within_realized", f"coalesce({_sum0(*QUAD_CLASS_COUNTS)} <= t.realized_events, FALSE)")
    if h.has("cooperation", "conflict", "net_cooperation"):
        h.add("net_cooperation_matches", _net_cooperation_sql("cooperation", "conflict", "net_cooperation"))


def _prepare_agreement(h: _Helpers) -> None:
    if not h.has("common_votes", "min_common_votes", "pct_identical", "agreement", "s_score", "kappa", "scott_pi"):
        return
    scored = "(t.agreement IS NOT NULL)"
    h.add("scored_iff_enough_votes", f"coalesce({scored} = (t.common_votes >= t.min_common_votes), FALSE)")
    h.add("scores_null_together", f"(t.pct_identical IS NOT NULL) = {scored} AND (t.s_score IS NOT NULL) = {scored} "
                                  f"AND ({scored} OR (t.kappa IS NULL AND t.scott_pi IS NULL))")
    h.add("s_score_matches", _close_sql("t.s_score", "2 * t.agreement - 1"))
    h.add("agreement_at_least_identical", f"NOT coalesce(t.agreement < t.pct_identical - {TOLERANCE}, FALSE)")


def _prepare_partner_rankings(h: _Helpers) -> None:
    _rank_helpers(h, "mart_unga_partner_rankings")
    partition = ["period_type", "period", "country_iso2"]
    if h.has(*partition, "agreement", "partner_iso2"):
        h.add("expected_position", f"row_number() OVER (PARTITION BY {_cols(*partition)} "
                                   "ORDER BY t.agreement DESC NULLS LAST, t.partner_iso2 NULLS LAST)")
        h.add("partner_differs", "coalesce(t.country_iso2 <> t.partner_iso2, TRUE)")
    h.add("min_common_votes", _min_common_votes(h))


def _prepare_bloc_cohesion(h: _Helpers) -> None:
    if h.has("members"):
        k = "len(list_filter(string_split_regex(coalesce(t.members, ''), '\\s+'), lambda x: x <> ''))"
        h.add("expected_pairs", f"CAST({k} * ({k} - 1) // 2 AS BIGINT)")
    h.add("min_common_votes", _min_common_votes(h))


def _prepare_designation_history(h: _Helpers) -> None:
    if h.has("status", "removed_on"):
        h.add("removed_iff_status_removed", "coalesce(t.status = 'removed', FALSE) = (t.removed_on IS NOT NULL)")


def _prepare_snapshot_deltas(h: _Helpers) -> None:
    counts = ("designations", "previous_designations", "added", "removed", "changed", *CHANGE_FLAGS)
    if not h.has("is_first_snapshot", "previous_snapshot_date", *counts):
        return
    first = "coalesce(CAST(t.is_first_snapshot AS BOOLEAN), FALSE)"
    h.add("first_iff_no_previous", f"{first} = (t.previous_snapshot_date IS NULL)")
    h.add("counts_add_up", "coalesce(t.previous_designations + t.added - t.removed = t.designations, FALSE)")
    h.add("first_snapshot_all_added", f"NOT {first} OR coalesce(t.added = t.designations AND t.previous_designations "
                                      "= 0 AND t.removed = 0 AND t.changed = 0, FALSE)")
    flags = _cols(*CHANGE_FLAGS)
    h.add("changed_matches_kinds", f"coalesce(greatest({flags}) <= t.changed AND t.changed <= {_sum0(*CHANGE_FLAGS)}, "
                                   "FALSE)")


def _prepare_delta_records(h: _Helpers) -> None:
    if not h.has("change_type", "previous_primary_name", *CHANGE_FLAGS):
        return
    changed = "coalesce(t.change_type = 'changed', FALSE)"
    flags = [f"CAST(t.{_q(c)} AS BOOLEAN)" for c in CHANGE_FLAGS]
    h.add("flags_only_on_changed_rows", f"{changed} OR (" + " AND ".join(f"{f} IS NULL" for f in flags) + ")")
    h.add("changed_row_says_what", f"NOT {changed} OR " + " OR ".join(f"coalesce({f}, FALSE)" for f in flags))
    h.add("added_has_no_previous_name", "t.change_type IS DISTINCT FROM 'added' OR t.previous_primary_name IS NULL")


def _prepare_dyad_ties(h: _Helpers) -> None:
    _rank_helpers(h, "mart_dyad_ties")
    _period_helpers(h)
    if h.has("events", *MODALITY_COUNTS):
        h.add("modalities_add_up", f"t.events IS NULL OR coalesce({_sum0(*MODALITY_COUNTS)} = t.events, FALSE)")
    if h.has("events_cooperation", "events_conflict", "events_net_cooperation"):
        h.add("net_cooperation_matches", _net_cooperation_sql("events_cooperation", "events_conflict",
                                                              "events_net_cooperation", empty="0.0"))
    if h.has("tie_index", "index_components", "index_component_list"):
        listed = "len(list_filter(string_split(coalesce(t.index_component_list, ''), ','), lambda x: x <> ''))"
        h.add("index_components_listed", f"coalesce({listed} = t.index_components, FALSE)")
        h.add("index_iff_components", "(t.tie_index IS NOT NULL) = coalesce(t.index_components > 0, FALSE)")
    if h.has("unga_agreement", "unga_common_votes"):
        h.add("unga_scored_with_enough_votes", f"t.unga_agreement IS NULL OR coalesce(t.unga_common_votes >= "
                                               f"{_min_common_votes(h)}, FALSE)")


def _prepare_dyad_ties_directed(h: _Helpers) -> None:
    _period_helpers(h)
    if h.has("from_country", "to_country"):
        h.add("countries_differ", "coalesce(t.from_country <> t.to_country, TRUE)")
    if h.has("events_cooperation", "events_conflict", "events_net_cooperation"):
        h.add("net_cooperation_matches", _net_cooperation_sql("events_cooperation", "events_conflict",
                                                              "events_net_cooperation", empty="0.0"))


def _prepare_dyad_evidence(h: _Helpers) -> None:
    if h.has("evidence_date", "period_year", "period_month"):
        day = "CAST(t.evidence_date AS TIMESTAMP)"
        h.add("periods_match_date", f"coalesce(year({day}) = t.period_year AND date_trunc('month', {day}) "
                                    "= CAST(t.period_month AS TIMESTAMP), FALSE)")
    if h.has("evidence_kind", "rcid", "vote_a", "vote_b", "entity_key"):
        given = ["t.rcid IS NOT NULL", "t.vote_a IS NOT NULL", "t.vote_b IS NOT NULL"]
        h.add("votes_iff_unga_vote", f"CASE WHEN t.evidence_kind = 'unga_vote' THEN {' AND '.join(given)} "
                                     f"ELSE NOT ({' OR '.join(given)}) END")
        h.add("sanctions_have_entity", "t.evidence_kind IS DISTINCT FROM 'sanctions' OR t.entity_key IS NOT NULL")


PREPARERS: dict[str, Callable[[_Helpers], None]] = {
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


def helper_sql(mart: str, columns: Sequence[str], others: Mapping[str, Sequence[str]]) -> str | None:
    """The SELECT that adds the helper columns of ``mart`` (None: it has none), given its columns
    and the marts (with their columns) the SQL may read; it reads the marts by name."""
    preparer = PREPARERS.get(mart)
    if preparer is None:
        return None
    helpers = _Helpers(mart, columns, others)
    preparer(helpers)
    return helpers.sql()


def prepare(mart: str, frame: pd.DataFrame, marts: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Return ``frame`` with the helper columns the suite of ``mart`` checks (a new frame; marts
    without helpers come back as they are), computed by the same SQL as :func:`prepare_relations`.
    ``marts`` (every mart's frame, by name) lets a rule look at another mart: crossover months start
    after the monthly series does, ranked partners have at least mart_unga_agreement's
    ``min_common_votes``. Without it those rules are logged as not checkable and pass."""
    return _prepare_frames({**(marts or {}), mart: frame}, [mart])[mart]


def prepare_all(frames: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """:func:`prepare` every mart of ``frames``, each seeing the others."""
    return _prepare_frames(frames, list(frames))


def _prepare_frames(frames: Mapping[str, pd.DataFrame], which: list[str]) -> dict[str, pd.DataFrame]:
    """The marts ``which`` of ``frames`` with their helper columns, every frame registered under its
    mart's name in one in-memory DuckDB."""
    columns = {name: list(frame.columns) for name, frame in frames.items()}
    sqls = {mart: helper_sql(mart, columns[mart], columns) for mart in which}
    if not any(sqls.values()):
        return {mart: frames[mart] for mart in which}
    import duckdb

    con = duckdb.connect()
    try:
        for name, frame in frames.items():
            con.register(name, frame)
        return {mart: con.sql(sql).df() if sql else frames[mart] for mart, sql in sqls.items()}
    finally:
        con.close()


def prepare_relations(con: Any, names: Sequence[str]) -> dict[str, Any]:
    """Every mart of ``names`` in the database of ``con`` as a DuckDB relation with its helper
    columns: what the runner validates, without reading a mart into pandas."""
    columns = {name: list(con.table(name).columns) for name in mart_names() if _exists(con, name)}
    return {name: con.sql(helper_sql(name, columns[name], columns) or f"SELECT * FROM {_q(name)}")
            for name in names if name in columns}


def _exists(con: Any, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'",
                            [name]).fetchall()[0][0] or
                con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = ? AND schema_name = 'main'",
                            [name]).fetchall()[0][0])


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
