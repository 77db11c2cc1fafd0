"""Voeten's raw UNGA votes (``rcid, session, vote, ccode, member, importantvote, date, unres, me,
nu, di, hr, co, ec, year`` and, in newer releases, more columns): one vote table and one roll-call
table derived from it, in SQL.

The file has no roll-call table of its own: each roll call's session, date, resolution, flags and
issues (from the 0/1 ``me nu di hr co ec`` columns) are read from its vote rows, which must agree.
"""

from __future__ import annotations

import duckdb

from pipeline.sources.unga_votes.layout import (
    RowRule,
    SniffedFile,
    check_rows,
    date_sql,
    first_bad,
    flag_sql,
    int_sql,
    quote,
)


def _optional(src: SniffedFile, name: str, expression: str) -> str:
    return expression.format(src.col(name)) if src.has(name) else "null"


def load(con: duckdb.DuckDBPyConnection, src: SniffedFile, votes: str, rollcalls: str) -> None:
    """Check the file's rows (each failure names its lines) and write temp tables ``votes`` and
    ``rollcalls`` (the common shapes)."""
    t, c = src.table, src.col
    vote = f"try_cast(trim({c('vote')}) as integer)"
    check_rows(con, src, [
        RowRule("rcid is an integer", "rcid", f"{int_sql(c('rcid'))} is null", "is not an integer"),
        RowRule("ccode is a COW state number", "ccode", f"try_cast(trim({c('ccode')}) as integer) is null",
                "is not a number"),
        RowRule("vote code is 1, 2, 3, 8 or 9", "vote", f"coalesce({vote} not in (1, 2, 3, 8, 9), true)",
                "is not one of 1, 2, 3, 8, 9 (1 yes, 2 abstain, 3 no, 8 absent, 9 not a member)"),
        RowRule("date is M/D/YYYY or YYYY-MM-DD", "date", f"{date_sql(c('date'))} is null",
                "is not a date (M/D/YYYY or YYYY-MM-DD)"),
        RowRule("session is a number", "session", f"{int_sql(c('session'))} is null", "is not a number"),
    ])

    f = src.file
    con.execute(f"""
        create or replace temp table {votes} as
        select
            {int_sql(c('rcid'))} as rcid,
            'cow' as code_system,
            cast(try_cast(trim({c('ccode')}) as integer) as varchar) as country_code_raw,
            cast({vote} as tinyint) as vote_code,
            {date_sql(c('date'))} as vote_date,
            {quote(f.sha256)} as raw_sha256,
            {quote(f.name)} as raw_file
        from {t}
    """)

    flags = [code for code in _issue_codes(con) if src.has(code)]
    issue_list = "[" + ", ".join(f"case when bool_or({flag_sql(src.col(code))}) then '{code}' end" for code in flags)
    issue_list += "]"
    con.execute(f"""
        create or replace temp table {rollcalls} as
        select
            {int_sql(c('rcid'))} as rcid,
            cast(min({int_sql(c('session'))}) as integer) as session,
            min({date_sql(c('date'))}) as vote_date,
            min(nullif(trim({c('unres')}), '')) as unres,
            min({_optional(src, 'short', "nullif(trim({}), '')")}) as short_title,
            min({_optional(src, 'descr', "nullif(trim({}), '')")}) as description,
            bool_or({flag_sql(c('importantvote'))}) as importantvote,
            bool_or({_optional(src, 'amend', flag_sql('{}'))}) as amend,
            bool_or({_optional(src, 'para', flag_sql('{}'))}) as para,
            list_filter({issue_list}, lambda x: x is not null) as issues,
            count(distinct {int_sql(c('session'))}) as n_sessions,
            count(distinct {date_sql(c('date'))}) as n_dates,
            count(distinct nullif(trim({c('unres')}), '')) as n_unres,
            {quote(f.sha256)} as raw_sha256,
            {quote(f.name)} as raw_file
        from {t}
        group by {int_sql(c('rcid'))}
    """)
    bad = first_bad(con, f"select rcid from {rollcalls} where n_sessions > 1 or n_dates > 1 or n_unres > 1")
    if bad:
        raise src.error("one session, date and resolution per roll call",
                        "the vote rows of this roll call disagree on its session, date or resolution",
                        f"rcid {bad[0]}")
    con.execute(f"alter table {rollcalls} drop column n_sessions")
    con.execute(f"alter table {rollcalls} drop column n_dates")
    con.execute(f"alter table {rollcalls} drop column n_unres")


def _issue_codes(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute("select code from issue_codes order by position").fetchall()]
