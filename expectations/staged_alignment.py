"""Silver checks for the alignment sources: GDELT events, article-derived records, UN votes.

One suite per staged table, named ``staged.<table>``. Rules that compare a row with a lookup
(the CAMEO code is in the codebook, Goldstein equals the codebook's value, QuadClass follows the
root code, an actor code is in the crosswalk) need the lookup value beside the row:
:func:`prepare` adds those columns to the frame before validation (``expected_*``), so the
expectation itself stays a plain column comparison that Data Docs can show.

Like every suite module here, importing it does not import Great Expectations.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from expectations import HEX64, gx_modules, ruled, stage_suites
from pipeline.reference import COUNTRIES_CSV, REFERENCE_DIR

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

STAGE = "staged"
RELATION_TYPES = (
    "arms_transfer", "military_cooperation", "technology_transfer", "financial_integration",
    "economic_cooperation", "energy_cooperation", "agreement", "diplomatic_support", "sanctions",
    "criticism", "threat", "use_of_force", "bloc_alignment",
)
MODALITIES = ("realized", "planned", "alleged", "denied")
DATE_PRECISIONS = ("day", "month", "year", "article")
VOTE_CODES = (1, 2, 3, 8, 9)
ISSUE_CODES = ("me", "nu", "di", "hr", "co", "ec")
CLAIM_TYPES = ("ranking", "bloc_membership", "comparison", "attribute")
#: The columns :func:`prepare` adds.
HELPER_COLUMNS = ("expected_goldstein", "expected_quad_class", "cameo_known", "actors_distinct")


@functools.cache
def cameo_codebook() -> dict[str, tuple[float, int]]:
    """CAMEO event code -> (Goldstein, QuadClass), from ``pipeline/reference/cameo_events.csv``."""
    with open(REFERENCE_DIR / "cameo_events.csv", encoding="utf-8") as fh:
        return {r["code"]: (float(r["goldstein"]), int(r["quad_class"])) for r in csv.DictReader(fh)}


@functools.cache
def iso3_codes() -> frozenset[str]:
    with open(COUNTRIES_CSV, encoding="utf-8") as fh:
        return frozenset(r["iso3"] for r in csv.DictReader(fh) if r["iso3"])


def quad_class_of_root(root: str | None) -> int | None:
    """QuadClass as GDELT assigns it from the root code: 01-05 -> 1, 06-09 -> 2, 10-14 -> 3,
    15-20 -> 4 (the reference's cross-tab of real files)."""
    if not root or not str(root).isdigit():
        return None
    n = int(root)
    return 1 if n <= 5 else 2 if n <= 9 else 3 if n <= 14 else 4 if n <= 20 else None


def _codebook_sql() -> str:
    """The CAMEO codebook as an inline table ``(code, goldstein)``."""
    rows = ", ".join("('" + code.replace("'", "''") + f"', {goldstein!r})"
                     for code, (goldstein, _quad) in sorted(cameo_codebook().items()))
    return f"(VALUES {rows}) AS book(code, goldstein)"


def _quad_class_of_root_sql(root: str) -> str:
    """:func:`quad_class_of_root` in SQL."""
    n = f"TRY_CAST({root} AS BIGINT)"
    return (f"CASE WHEN regexp_full_match(CAST({root} AS VARCHAR), '[0-9]+') THEN CASE WHEN {n} <= 5 THEN 1 "
            f"WHEN {n} <= 9 THEN 2 WHEN {n} <= 14 THEN 3 WHEN {n} <= 20 THEN 4 END END")


def prepare_sql(table: str, columns: Sequence[str] = ()) -> str | None:
    """The SELECT over ``t`` (whose ``columns`` are given) that adds the lookup values the suite of
    ``table`` compares rows with, computed afresh when ``t`` has them already (None: that table
    needs none)."""
    if table not in ("gdelt_events", "article_events"):
        return None
    code_col = "event_code" if table == "gdelt_events" else "cameo_code"
    root_col = "event_root_code" if table == "gdelt_events" else "cameo_root"
    added = ["book.goldstein AS expected_goldstein",
             f"{_quad_class_of_root_sql(f't.{root_col}')} AS expected_quad_class",
             "book.code IS NOT NULL AS cameo_known"]
    if table == "article_events":
        added.append("coalesce(t.actor1_iso3 <> t.actor2_iso3, TRUE) AS actors_distinct")
    again = [name for name in HELPER_COLUMNS if name in columns]
    star = f"t.* EXCLUDE ({', '.join(again)})" if again else "t.*"
    return (f"SELECT {star}, {', '.join(added)} FROM t LEFT JOIN {_codebook_sql()} "
            f"ON book.code = CAST(t.{code_col} AS VARCHAR)")


def prepare(table: str, frame: Any) -> Any:
    """Add the lookup values the suite of ``table`` compares rows with: a DuckDB relation gets
    them as a relation (nothing read into pandas), a pandas frame as a new frame."""
    sql = prepare_sql(table, list(frame.columns))
    if sql is None:
        return frame
    if not isinstance(frame, pd.DataFrame):
        return frame.query("t", sql)
    import duckdb

    con = duckdb.connect()
    try:
        return con.from_df(frame).query("t", sql).df()
    finally:
        con.close()


def _common(gxe: Any, table: str, columns: list[str]) -> list[Any]:
    return [
        ruled(gxe.ExpectTableColumnsToMatchSet, f"the {table} table has every column of its staged schema",
              column_set=columns, exact_match=False),
        ruled(gxe.ExpectColumnValuesToMatchRegex, "raw_sha256 is 64 lowercase hex digits",
              column="raw_sha256", regex=HEX64),
    ]


def _not_null(gxe: Any, table: str, *columns: str) -> list[Any]:
    return [ruled(gxe.ExpectColumnValuesToNotBeNull, f"every {table} row has a {c}", column=c) for c in columns]


def _in_set(gxe: Any, column: str, values: tuple, what: str | None = None, **kw: Any) -> Any:
    return ruled(gxe.ExpectColumnValuesToBeInSet, f"{what or column} is one of {', '.join(map(str, values))}",
                 column=column, value_set=list(values), **kw)


def _event_rules(gxe: Any, code: str, root: str) -> list[Any]:
    return [
        ruled(gxe.ExpectColumnValuesToMatchRegex, f"{code} is a CAMEO code of 2 to 4 digits",
              column=code, regex=r"^\d{2,4}$"),
        ruled(gxe.ExpectColumnValuesToBeInSet, f"{code} is in the CAMEO codebook (pipeline/reference/cameo_events.csv)",
              column="cameo_known", value_set=[True]),
        ruled(gxe.ExpectColumnPairValuesToBeEqual, f"quad_class follows the root code {root} (01-05: 1, 06-09: 2, "
              "10-14: 3, 15-20: 4)", column_A="quad_class", column_B="expected_quad_class"),
        ruled(gxe.ExpectColumnPairValuesToBeEqual, "goldstein equals the codebook value of the event code",
              column_A="goldstein", column_B="expected_goldstein"),
        ruled(gxe.ExpectColumnValuesToBeBetween, "goldstein is between -10 and 10", column="goldstein",
              min_value=-10, max_value=10),
    ]


def alignment_suites(tables: list[str], main_table: str, min_rows: int, max_rows: int,
                     accept_small_lists: bool = False) -> dict[str, ExpectationSuite]:
    """Suites for the given staged tables of one alignment source; ``main_table`` gets the row
    bounds (a minimum that fails, or only warns with ``accept_small_lists``; a maximum that warns)."""
    from pipeline.sources import all_schemas

    _, gxe = gx_modules()
    schemas = all_schemas()
    rules: dict[str, list[Any]] = {}
    for table in tables:
        columns = list(schemas[table].names)
        rules[table] = _common(gxe, table, columns)
    if "gdelt_events" in rules:
        rules["gdelt_events"] += [
            *_not_null(gxe, "gdelt_events", "global_event_id", "event_date", "event_code", "quad_class"),
            ruled(gxe.ExpectColumnValuesToBeUnique, "global_event_id is unique within a snapshot",
                  column="global_event_id"),
            *_event_rules(gxe, "event_code", "event_root_code"),
            ruled(gxe.ExpectColumnValuesToBeInSet, "a resolved actor1_iso3 is in the crosswalk",
                  column="actor1_iso3", value_set=sorted(iso3_codes())),
            ruled(gxe.ExpectColumnValuesToBeInSet, "a resolved actor2_iso3 is in the crosswalk",
                  column="actor2_iso3", value_set=sorted(iso3_codes())),
        ]
    if "article_events" in rules:
        rules["article_events"] += [
            *_not_null(gxe, "article_events", "record_id", "article_id", "actor1_iso3", "actor2_iso3",
                       "relation_type", "cameo_code", "modality", "event_date", "evidence_text"),
            ruled(gxe.ExpectColumnValuesToBeUnique, "record_id is unique", column="record_id"),
            *_event_rules(gxe, "cameo_code", "cameo_root"),
            ruled(gxe.ExpectColumnValuesToBeInSet, "actor1_iso3 is in the crosswalk", column="actor1_iso3",
                  value_set=sorted(iso3_codes())),
            ruled(gxe.ExpectColumnValuesToBeInSet, "actor2_iso3 is in the crosswalk", column="actor2_iso3",
                  value_set=sorted(iso3_codes())),
            ruled(gxe.ExpectColumnValuesToBeInSet, "the two actors of an event are different countries",
                  column="actors_distinct", value_set=[True]),
            _in_set(gxe, "relation_type", RELATION_TYPES),
            _in_set(gxe, "modality", MODALITIES),
            _in_set(gxe, "date_precision", DATE_PRECISIONS),
            ruled(gxe.ExpectColumnValuesToBeBetween, "confidence is between 0 and 1", column="confidence",
                  min_value=0, max_value=1),
        ]
    if "article_claims" in rules:
        rules["article_claims"] += [
            *_not_null(gxe, "article_claims", "claim_id", "article_id", "claim_type", "evidence_text"),
            _in_set(gxe, "claim_type", CLAIM_TYPES),
            _in_set(gxe, "modality", MODALITIES),
        ]
    if "articles" in rules:
        rules["articles"] += [
            *_not_null(gxe, "articles", "article_id", "published_at", "text_sha256"),
            ruled(gxe.ExpectColumnValuesToBeUnique, "article_id is unique within a batch", column="article_id"),
        ]
    if "unga_votes" in rules:
        rules["unga_votes"] += [
            *_not_null(gxe, "unga_votes", "rcid", "country_code_raw", "vote_code"),
            _in_set(gxe, "vote_code", VOTE_CODES, "vote_code (1 yes, 2 abstain, 3 no, 8 absent, 9 not a member)"),
            ruled(gxe.ExpectCompoundColumnsToBeUnique, "one vote per roll call and country",
                  column_list=["rcid", "country_code_raw"]),
        ]
    if "unga_rollcalls" in rules:
        rules["unga_rollcalls"] += [
            *_not_null(gxe, "unga_rollcalls", "rcid", "session", "vote_date"),
            ruled(gxe.ExpectColumnValuesToBeUnique, "rcid is unique", column="rcid"),
            ruled(gxe.ExpectColumnValuesToBeBetween, "session is between 1 and 200", column="session",
                  min_value=1, max_value=200),
        ]
    rules[main_table] += [
        ruled(gxe.ExpectTableRowCountToBeBetween,
              f"the {main_table} table has at least {min_rows} rows (a smaller file is truncated or a subset: for a "
              "deliberate subset run `pipeline run --accept-small-lists`"
              + (", as this run does: only warns)" if accept_small_lists else ")"),
              min_value=min_rows, severity="warning" if accept_small_lists else "critical"),
        ruled(gxe.ExpectTableRowCountToBeBetween, f"the {main_table} table has at most {max_rows} rows (only warns)",
              max_value=max_rows, severity="warning"),
    ]
    return stage_suites(STAGE, rules)
