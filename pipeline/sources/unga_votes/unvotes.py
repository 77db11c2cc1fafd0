"""The ``unvotes`` layout: ``un_votes`` (rcid, country, country_code ISO2, vote as a word),
``un_roll_calls`` (rcid, session, importantvote, date, unres, amend, para, short, descr) and
``un_roll_call_issues`` (rcid, short_name, issue), each checked and reshaped in SQL.

Absent and non-member rows are not in ``un_votes``; a vote word outside ``vote_codes.csv`` stops
the load. A country without a code is kept by its name (resolved later by name).
"""

from __future__ import annotations

import duckdb

from pipeline.sources.unga_votes.layout import SniffedFile, count, date_sql, first_bad, flag_sql, int_sql, quote


def load_votes(con: duckdb.DuckDBPyConnection, src: SniffedFile, votes: str) -> None:
    """Write temp table ``votes`` (common shape; ``vote_date`` is filled from the roll calls)."""
    t, c = src.table, src.col
    bad = first_bad(con, f"select {c('rcid')} from {t} where {int_sql(c('rcid'))} is null")
    if bad:
        raise src.error("rcid is an integer", f"rcid {bad[0]!r}")
    code = f"nullif(nullif(trim({c('country_code')}), ''), 'NA')"
    name = f"nullif(trim({c('country')}), '')"
    record = f"'rcid ' || {c('rcid')} || ', country ' || coalesce({code}, {name}, '')"
    bad = first_bad(con, f"select {record} from {t} where {code} is null and {name} is null")
    if bad:
        raise src.error("country or country_code given", "both are blank", bad[0])
    check = (
        f"select {record}, {c('vote')} from {t} left join vote_words as w on w.word = lower(trim({c('vote')})) "
        "where w.vote_code is null"
    )
    bad = first_bad(con, check)
    if bad:
        n = count(con, check)
        raise src.error("vote is yes, abstain or no", f"vote {bad[1]!r} ({n} row(s) break it)", bad[0])
    f = src.file
    con.execute(f"""
        create or replace temp table {votes} as
        select
            {int_sql(c('rcid'))} as rcid,
            case when {code} is not null then 'iso2' else 'name' end as code_system,
            coalesce(upper({code}), {name}) as country_code_raw,
            w.vote_code,
            cast(null as date) as vote_date,
            {quote(f.sha256)} as raw_sha256,
            {quote(f.name)} as raw_file
        from {t}
        join vote_words as w on w.word = lower(trim({c('vote')}))
    """)


def load_rollcalls(con: duckdb.DuckDBPyConnection, src: SniffedFile, rollcalls: str) -> None:
    """Write temp table ``rollcalls`` (common shape; ``issues`` is filled from the issue files)."""
    t, c = src.table, src.col
    bad = first_bad(con, f"select {c('rcid')} from {t} where {int_sql(c('rcid'))} is null")
    if bad:
        raise src.error("rcid is an integer", f"rcid {bad[0]!r}")
    record = f"'rcid ' || {c('rcid')}"
    bad = first_bad(con, f"select {record}, {c('session')} from {t} where {int_sql(c('session'))} is null")
    if bad:
        raise src.error("session is a number", f"session {bad[1]!r}", bad[0])
    bad = first_bad(con, f"select {record}, {c('date')} from {t} where {date_sql(c('date'))} is null")
    if bad:
        raise src.error("date is YYYY-MM-DD or M/D/YYYY", f"date {bad[1]!r}", bad[0])

    def text(name: str) -> str:
        return f"nullif(nullif(trim({c(name)}), ''), 'NA')" if src.has(name) else "cast(null as varchar)"

    def flag(name: str) -> str:
        return flag_sql(c(name)) if src.has(name) else "cast(null as boolean)"

    f = src.file
    con.execute(f"""
        create or replace temp table {rollcalls} as
        select
            {int_sql(c('rcid'))} as rcid,
            cast({int_sql(c('session'))} as integer) as session,
            {date_sql(c('date'))} as vote_date,
            {text('unres')} as unres,
            {text('short')} as short_title,
            {text('descr')} as description,
            {flag('importantvote')} as importantvote,
            {flag('amend')} as amend,
            {flag('para')} as para,
            cast([] as varchar[]) as issues,
            {quote(f.sha256)} as raw_sha256,
            {quote(f.name)} as raw_file
        from {t}
    """)


def load_issues(con: duckdb.DuckDBPyConnection, src: SniffedFile, issues: str) -> None:
    """Write temp table ``issues`` (rcid, short_name as given, raw_file)."""
    t, c = src.table, src.col
    bad = first_bad(con, f"select {c('rcid')} from {t} where {int_sql(c('rcid'))} is null")
    if bad:
        raise src.error("rcid is an integer", f"rcid {bad[0]!r}")
    con.execute(f"""
        create or replace temp table {issues} as
        select {int_sql(c('rcid'))} as rcid, lower(trim({c('short_name')})) as short_name,
            {quote(src.file.name)} as raw_file
        from {t}
    """)
