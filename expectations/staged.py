"""Silver checks: the staged tables of ONE source, as read back from Parquet.

The caller passes each table's rows (the columns of :data:`pipeline.staged.SCHEMAS` plus
``source`` and ``snapshot_date``). Row counts are per source, so a list that suddenly shrinks is
caught: ``min_designations`` and ``0.8 * previous_designations`` are critical, while
``max_designations`` only warns (a list that grows is news, not corruption).

The rules run in DuckDB over the staged Parquet (:mod:`pipeline.validation`), where a ``DATE``
column compares with the suites' datetime bounds as it is.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from expectations import HEX64, ISO2, gx_modules, ruled, stage_suites
from pipeline.birth_dates import EARLIEST_YEAR as EARLIEST_BIRTH_YEAR
from pipeline.staged import ENTITY_TYPES, LINK_TYPES, NAME_TYPES, RELATION_TYPES, SCHEMAS

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

STAGE = "staged"
MIN_LISTED_ON = datetime(1945, 1, 1)
MAX_LISTED_ON = datetime(2100, 1, 1)
SHRINK_FLOOR = 0.8
FAKE_COUNTRY_CODES = ["00", "XX", "ZZ"]
UNMAPPED_COUNTRY_TOLERANCE = 0.9
#: Share of birth dates that must be readable (the rest is kept raw and audited); below it only warns.
READ_BIRTH_DATE_TOLERANCE = 0.9


def staged_suites(
    min_designations: int,
    max_designations: int,
    previous_designations: int | None,
    *,
    snapshot_date: date | None = None,
    accept_small_lists: bool = False,
) -> dict[str, ExpectationSuite]:
    """Suites for one source's staged tables, keyed by table name.

    ``min_designations``/``max_designations`` bound the designations row count (the max only
    warns). ``previous_designations`` is the count of the last accepted snapshot: fewer than
    80% of it is critical. ``snapshot_date`` (optional) caps ``listed_on``; without it the cap is
    2100-01-01. ``accept_small_lists`` (``pipeline run --accept-small-lists``, for deliberate
    subsets) turns the minimum into a warning; the check against the previous snapshot stays.
    """
    gx, gxe = gx_modules()

    def not_null(table: str, *columns: str) -> list[Any]:
        return [
            ruled(gxe.ExpectColumnValuesToNotBeNull, f"every {table} row has a {c}", column=c)
            for c in columns
        ]

    def has_columns(table: str) -> Any:
        return ruled(
            gxe.ExpectTableColumnsToMatchSet,
            f"the {table} table has every column of the staged schema",
            column_set=list(SCHEMAS[table].names),
            exact_match=False,
        )

    max_listed = (
        datetime(snapshot_date.year, snapshot_date.month, snapshot_date.day)
        if snapshot_date is not None
        else MAX_LISTED_ON
    )

    designations = [
        has_columns("designations"),
        ruled(
            gxe.ExpectTableRowCountToBeBetween,
            f"the source has at least {min_designations} designations, the floor of a complete list "
            "(a smaller file is truncated or a subset: for a deliberate subset run "
            "`pipeline run --accept-small-lists`"
            + (", as this run does: only warns)" if accept_small_lists else ")"),
            min_value=min_designations,
            severity="warning" if accept_small_lists else "critical",
        ),
        ruled(
            gxe.ExpectTableRowCountToBeBetween,
            f"the source has at most {max_designations} designations (more only warns)",
            max_value=max_designations,
            severity="warning",
        ),
    ]
    if previous_designations is not None:
        floor = math.ceil(SHRINK_FLOOR * previous_designations)
        designations.append(
            ruled(
                gxe.ExpectTableRowCountToBeBetween,
                f"the source keeps at least 80% of the {previous_designations} designations of "
                f"the last accepted snapshot (>= {floor}): a list that shrinks that much is "
                "broken, never taken as everything was delisted",
                min_value=floor,
            )
        )
    designations += [
        ruled(
            gxe.ExpectColumnValuesToBeUnique,
            "designation_id is unique",
            column="designation_id",
        ),
        ruled(
            gxe.ExpectCompoundColumnsToBeUnique,
            "a record id is listed once per list within a snapshot (two files of one source and "
            "snapshot date never merge into one list)",
            column_list=["list", "source_record_id"],
        ),
        *not_null(
            "designations",
            "designation_id",
            "authority",
            "list",
            "source_record_id",
            "entity_key",
            "entity_type",
            "primary_name",
            "programs",
        ),
        ruled(
            gxe.ExpectColumnValuesToBeInSet,
            f"entity_type is one of {', '.join(ENTITY_TYPES)}",
            column="entity_type",
            value_set=list(ENTITY_TYPES),
        ),
        ruled(
            gxe.ExpectColumnValueLengthsToBeBetween,
            "primary_name is not empty",
            column="primary_name",
            min_value=1,
        ),
        ruled(
            gxe.ExpectColumnValuesToBeBetween,
            f"listed_on is between 1945-01-01 and {max_listed.date().isoformat()}",
            column="listed_on",
            min_value=MIN_LISTED_ON,
            max_value=max_listed,
        ),
        ruled(
            gxe.ExpectColumnValuesToMatchRegex,
            "raw_sha256 is 64 lowercase hex digits",
            column="raw_sha256",
            regex=HEX64,
        ),
    ]

    names = [
        has_columns("names"),
        *not_null("names", "entity_key", "name", "name_type"),
        ruled(
            gxe.ExpectColumnValuesToBeInSet,
            f"name_type is one of {', '.join(NAME_TYPES)}",
            column="name_type",
            value_set=list(NAME_TYPES),
        ),
    ]

    country_links = [
        has_columns("country_links"),
        *not_null("country_links", "entity_key", "link_type", "raw_value"),
        ruled(
            gxe.ExpectColumnValuesToBeInSet,
            f"link_type is one of {', '.join(LINK_TYPES)}",
            column="link_type",
            value_set=list(LINK_TYPES),
        ),
        ruled(
            gxe.ExpectColumnValuesToMatchRegex,
            "a mapped country_iso2 is two capital letters",
            column="country_iso2",
            regex=ISO2,
        ),
        ruled(
            gxe.ExpectColumnValuesToNotBeInSet,
            f"country_iso2 is never a placeholder code ({', '.join(FAKE_COUNTRY_CODES)})",
            column="country_iso2",
            value_set=FAKE_COUNTRY_CODES,
        ),
        ruled(
            gxe.ExpectColumnValuesToNotBeNull,
            "at least 90% of country values map to an ISO code (unmapped values are reported "
            "in mart_unmapped_countries; this only warns)",
            column="country_iso2",
            mostly=UNMAPPED_COUNTRY_TOLERANCE,
            severity="warning",
        ),
    ]

    identifiers = [
        has_columns("identifiers"),
        *not_null("identifiers", "entity_key", "id_type", "id_value"),
    ]

    relations = [
        has_columns("relations"),
        *not_null("relations", "entity_key", "relation_type"),
        ruled(
            gxe.ExpectColumnValuesToBeInSet,
            f"relation_type is one of {', '.join(RELATION_TYPES)}",
            column="relation_type",
            value_set=list(RELATION_TYPES),
        ),
    ]

    latest_birth_year = snapshot_date.year if snapshot_date is not None else MAX_LISTED_ON.year
    birth_dates = [
        has_columns("birth_dates"),
        *not_null("birth_dates", "entity_key", "source_record_id", "raw_value"),
        ruled(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB,
            "year_from <= year_to (a birth date's years run forwards)",
            column_A="year_to",
            column_B="year_from",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        ruled(
            gxe.ExpectColumnValuesToBeBetween,
            f"year_from is between {EARLIEST_BIRTH_YEAR} and {latest_birth_year} (no birth after the snapshot)",
            column="year_from",
            min_value=EARLIEST_BIRTH_YEAR,
            max_value=latest_birth_year,
        ),
        ruled(gxe.ExpectColumnValuesToBeBetween, "month is between 1 and 12", column="month",
              min_value=1, max_value=12),
        ruled(gxe.ExpectColumnValuesToBeBetween, "day is between 1 and 31", column="day",
              min_value=1, max_value=31),
        ruled(
            gxe.ExpectColumnValuesToNotBeNull,
            "at least 90% of birth dates are read (the others are kept raw and audited as birth_date_unparsed; "
            "this only warns)",
            column="year_from",
            mostly=READ_BIRTH_DATE_TOLERANCE,
            severity="warning",
        ),
    ]

    tables = {
        "designations": designations,
        "names": names,
        "country_links": country_links,
        "identifiers": identifiers,
        "relations": relations,
        "birth_dates": birth_dates,
    }
    return stage_suites(STAGE, tables)
