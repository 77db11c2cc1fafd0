"""Voeten's raw UNGA votes (``rcid, session, vote, ccode, member, importantvote, date, unres, me,
nu, di, hr, co, ec, year`` and, in newer releases, more columns): one vote table and one roll-call
table derived from it, in SQL.

The file has no roll-call table of its own: each roll call's session, date, resolution, flags and
issues (from the 0/1 ``me nu di hr co ec`` columns) are read from its vote rows, which must agree.

The file is scanned once (:func:`typed`: ``layout.read`` stores these typed values, not the text);
the row rules are one aggregate over them, the votes a view of them and the roll calls one grouping.
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
    issue_codes,
    quote,
)


def _optional(src: SniffedFile, name: str, expression: str, sql_type: str) -> str:
    return expression.format(src.col(name)) if src.has(name) else f"cast(null as {sql_type})"


def _flags(src: SniffedFile) -> list[str]:
    return [code for code in issue_codes() if src.has(code)]


def typed(src: SniffedFile) -> str:
    """The select list ``layout.read`` stores for a Voeten file: each value the rules check and the
    tables need, typed once."""
    c = src.col
    text = "nullif(trim({}), '')"
    columns = [
        f"{int_sql(c('rcid'))} as rcid",
        f"try_cast(trim({c('ccode')}) as integer) as ccode",
        f"try_cast(trim({c('vote')}) as integer) as vote",
        f"{date_sql(c('date'))} as vote_date",
        f"{int_sql(c('session'))} as session",
        f"nullif(trim({c('unres')}), '') as unres",
        f"{_optional(src, 'short', text, 'varchar')} as short_title",
        f"{_optional(src, 'descr', text, 'varchar')} as description",
        f"{flag_sql(c('importantvote'))} as importantvote",
        f"{_optional(src, 'amend', flag_sql('{}'), 'boolean')} as amend",
        f"{_optional(src, 'para', flag_sql('{}'), 'boolean')} as para",
    ]
    columns += [f"{flag_sql(c(code))} as issue_{code}" for code in _flags(src)]
    return ", ".join(columns)


def load(con: duckdb.DuckDBPyConnection, src: SniffedFile, votes: str, rollcalls: str) -> None:
    """Check the file's rows (each failure names its lines) and write view ``votes`` and temp table
    ``rollcalls`` (the common shapes)."""
    t, c = src.table, src.col
    vote = f"try_cast(trim({c('vote')}) as integer)"
    check_rows(con, src, [
        RowRule("rcid is an integer", "rcid", f"{int_sql(c('rcid'))} is null", "is not an integer", "rcid is null"),
        RowRule("ccode is a COW state number", "ccode", f"try_cast(trim({c('ccode')}) as integer) is null",
                "is not a number", "ccode is null"),
        RowRule("vote code is 1, 2, 3, 8 or 9", "vote", f"coalesce({vote} not in (1, 2, 3, 8, 9), true)",
                "is not one of 1, 2, 3, 8, 9 (1 yes, 2 abstain, 3 no, 8 absent, 9 not a member)",
                "coalesce(vote not in (1, 2, 3, 8, 9), true)"),
        RowRule("date is M/D/YYYY or YYYY-MM-DD", "date", f"{date_sql(c('date'))} is null",
                "is not a date (M/D/YYYY or YYYY-MM-DD)", "vote_date is null"),
        RowRule("session is a number", "session", f"{int_sql(c('session'))} is null", "is not a number",
                "session is null"),
    ], typed=True)

    f = src.file
    con.execute(f"""
        create or replace temp view {votes} as
        select
            rcid,
            'cow' as code_system,
            cast(ccode as varchar) as country_code_raw,
            cast(vote as tinyint) as vote_code,
            vote_date,
            {quote(f.sha256)} as raw_sha256,
            {quote(f.name)} as raw_file
        from {t}
    """)

    issue_list = "[" + ", ".join(f"case when bool_or(issue_{code}) then '{code}' end" for code in _flags(src))
    issue_list += "]"
    con.execute(f"""
        create or replace temp table {rollcalls} as
        select
            rcid,
            cast(min(session) as integer) as session,
            min(vote_date) as vote_date,
            min(unres) as unres,
            min(short_title) as short_title,
            min(description) as description,
            bool_or(importantvote) as importantvote,
            bool_or(amend) as amend,
            bool_or(para) as para,
            list_filter({issue_list}, lambda x: x is not null) as issues,
            count(distinct session) as n_sessions,
            count(distinct vote_date) as n_dates,
            count(distinct unres) as n_unres,
            {quote(f.sha256)} as raw_sha256,
            {quote(f.name)} as raw_file
        from {t}
        group by rcid
    """)
    bad = first_bad(con, f"select rcid from {rollcalls} where n_sessions > 1 or n_dates > 1 or n_unres > 1")
    if bad:
        raise src.error("one session, date and resolution per roll call",
                        "the vote rows of this roll call disagree on its session, date or resolution",
                        f"rcid {bad[0]}")
    con.execute(f"alter table {rollcalls} drop column n_sessions")
    con.execute(f"alter table {rollcalls} drop column n_dates")
    con.execute(f"alter table {rollcalls} drop column n_unres")
