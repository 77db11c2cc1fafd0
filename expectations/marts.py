"""Gold checks: the DuckDB marts, validated as DataFrames (``con.sql("from mart").df()``).

GX's SQL data sources do not support DuckDB, so the runner validates each mart through a pandas
dataframe asset. Every check is critical: a mart that fails is not published.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from expectations import ISO2, gx_modules, ruled, stage_suites
from pipeline.staged import ENTITY_TYPES

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

STAGE = "marts"
BASES = ["program_target", "nationality", "any"]
RANKING_ENTITY_TYPES = ["all", *ENTITY_TYPES]
AUTHORITY = r"^[a-z][a-z0-9_]*$"  # 'all' or a source authority such as 'us_ofac', 'un_sc'


def mart_suites() -> dict[str, ExpectationSuite]:
    """Suites for the published marts, keyed by mart table name."""
    gx, gxe = gx_modules()

    def has_columns(table: str, columns: list[str]) -> Any:
        return ruled(
            gxe.ExpectTableColumnsToMatchSet,
            f"{table} has columns {', '.join(columns)}",
            column_set=columns,
            exact_match=False,
        )

    def not_null(*columns: str) -> list[Any]:
        return [
            ruled(gxe.ExpectColumnValuesToNotBeNull, f"{c} is never null", column=c)
            for c in columns
        ]

    def at_least(column: str, minimum: int) -> Any:
        return ruled(
            gxe.ExpectColumnValuesToBeBetween,
            f"{column} is at least {minimum}",
            column=column,
            min_value=minimum,
        )

    def iso2(column: str) -> Any:
        return ruled(
            gxe.ExpectColumnValuesToMatchRegex,
            f"{column} is an ISO 3166 alpha-2 code (two capital letters)",
            column=column,
            regex=ISO2,
        )

    def authority() -> Any:
        return ruled(
            gxe.ExpectColumnValuesToMatchRegex,
            "authority is 'all' or a source authority id such as 'us_ofac'",
            column="authority",
            regex=AUTHORITY,
        )

    def non_empty(table: str) -> Any:
        return ruled(
            gxe.ExpectTableRowCountToBeBetween, f"{table} has at least one row", min_value=1
        )

    rankings_cols = [
        "as_of_date",
        "authority",
        "basis",
        "entity_type",
        "country_iso2",
        "country_name",
        "designations",
        "rank",
        "share",
    ]
    rankings = [
        has_columns("mart_country_rankings", rankings_cols),
        non_empty("mart_country_rankings"),
        *not_null(*rankings_cols),
        authority(),
        ruled(
            gxe.ExpectColumnValuesToBeInSet,
            f"basis is one of {', '.join(BASES)}",
            column="basis",
            value_set=BASES,
        ),
        ruled(
            gxe.ExpectColumnValuesToBeInSet,
            f"entity_type is one of {', '.join(RANKING_ENTITY_TYPES)}",
            column="entity_type",
            value_set=RANKING_ENTITY_TYPES,
        ),
        iso2("country_iso2"),
        at_least("designations", 1),
        at_least("rank", 1),
        ruled(
            gxe.ExpectColumnValuesToBeBetween,
            "share is a fraction in (0, 1]",
            column="share",
            min_value=0,
            strict_min=True,
            max_value=1,
        ),
        ruled(
            gxe.ExpectCompoundColumnsToBeUnique,
            "one row per (as_of_date, authority, basis, entity_type, country_iso2)",
            column_list=["as_of_date", "authority", "basis", "entity_type", "country_iso2"],
        ),
    ]

    counts = ["linked_to_both", "a_under_b_programs", "b_under_a_programs", "relation_edges"]
    ties_cols = ["authority", "country_a", "country_b", "country_a_name", "country_b_name", *counts]
    ties = [
        has_columns("mart_dyad_ties", ties_cols),
        non_empty("mart_dyad_ties"),
        *not_null(*ties_cols),
        authority(),
        iso2("country_a"),
        iso2("country_b"),
        *(at_least(c, 0) for c in counts),
        ruled(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB,
            "each pair is stored once, ordered: country_a < country_b",
            column_A="country_b",
            column_B="country_a",
            or_equal=False,
        ),
        ruled(
            gxe.ExpectCompoundColumnsToBeUnique,
            "one row per (authority, country_a, country_b)",
            column_list=["authority", "country_a", "country_b"],
        ),
    ]

    unmapped_cols = ["source", "status", "link_type", "raw_value", "occurrences"]
    unmapped = [
        has_columns("mart_unmapped_countries", unmapped_cols),
        *not_null(*unmapped_cols),
        at_least("occurrences", 1),
    ]

    tables = {
        "mart_country_rankings": rankings,
        "mart_dyad_ties": ties,
        "mart_unmapped_countries": unmapped,
    }
    return stage_suites(STAGE, tables)
