"""The ``unvotes`` layout: ``un_votes`` (rcid, country, country_code ISO2, vote as a word),
``un_roll_calls`` (rcid, session, importantvote, date, unres, amend, para, short, descr) and
``un_roll_call_issues`` (rcid, short_name, issue), each checked and reshaped in SQL.

Absent and non-member rows are not in ``un_votes``; a vote word outside ``vote_codes.csv`` stops
the load. A country without a code is kept by its name (resolved later by name).

Each file is scanned once: ``layout.read`` stores the typed values of ``typed_*`` (the rows the
tables are made of), and the row rules are one aggregate over them.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from pipeline.sources.unga_votes.layout import RowRule, SniffedFile, check_rows, date_sql, flag_sql, int_sql, quote


def _rcid_rule(c: Callable[[str], str]) -> RowRule:
    return RowRule("rcid is an integer", "rcid", f"{int_sql(c('rcid'))} is null", "is not an integer", "rcid is null")


def _code(c: Callable[[str], str]) -> str:
    return f"nullif(nullif(trim({c('country_code')}), ''), 'NA')"


def _name(c: Callable[[str], str]) -> str:
    return f"nullif(trim({c('country')}), '')"


def typed_votes(src: SniffedFile) -> str:
    c = src.col
    return (f"{int_sql(c('rcid'))} as rcid, {_code(c)} as code, {_name(c)} as name, "
            f"lower(trim(coalesce({c('vote')}, ''))) as vote_word")


def load_votes(con: duckdb.DuckDBPyConnection, src: SniffedFile, votes: str) -> None:
    """Write temp table ``votes`` (common shape; ``vote_date`` is filled from the roll calls)."""
    t, c = src.table, src.col
    code, name = _code(c), _name(c)
    check_rows(con, src, [
        _rcid_rule(c),
        RowRule("country or country_code given", "country_code", f"{code} is null and {name} is null",
                "is blank and so is country", "code is null and name is null"),
        RowRule("vote is yes, abstain or no", "vote",
                f"lower(trim(coalesce({c('vote')}, ''))) not in (select word from vote_words)",
                "is not a vote (yes, abstain, no, or another word or code of vote_codes.csv)",
                "vote_word not in (select word from vote_words)"),
    ], typed=True)
    f = src.file
    con.execute(f"""
        create or replace temp table {votes} as
        select
            rcid,
            case when code is not null then 'iso2' else 'name' end as code_system,
            coalesce(upper(code), name) as country_code_raw,
            w.vote_code,
            cast(null as date) as vote_date,
            {quote(f.sha256)} as raw_sha256,
            {quote(f.name)} as raw_file
        from {t}
        join vote_words as w on w.word = vote_word
    """)


def typed_rollcalls(src: SniffedFile) -> str:
    c = src.col

    def text(name: str) -> str:
        return f"nullif(nullif(trim({c(name)}), ''), 'NA')" if src.has(name) else "cast(null as varchar)"

    def flag(name: str) -> str:
        return flag_sql(c(name)) if src.has(name) else "cast(null as boolean)"

    return (f"{int_sql(c('rcid'))} as rcid, {int_sql(c('session'))} as session, "
            f"{date_sql(c('date'))} as vote_date, {text('unres')} as unres, {text('short')} as short_title, "
            f"{text('descr')} as description, {flag('importantvote')} as importantvote, {flag('amend')} as amend, "
            f"{flag('para')} as para")


def load_rollcalls(con: duckdb.DuckDBPyConnection, src: SniffedFile, rollcalls: str) -> None:
    """Write temp table ``rollcalls`` (common shape; ``issues`` is filled from the issue files)."""
    t, c = src.table, src.col
    check_rows(con, src, [
        _rcid_rule(c),
        RowRule("session is a number", "session", f"{int_sql(c('session'))} is null", "is not a number",
                "session is null"),
        RowRule("date is YYYY-MM-DD or M/D/YYYY", "date", f"{date_sql(c('date'))} is null",
                "is not a date (YYYY-MM-DD or M/D/YYYY)", "vote_date is null"),
    ], typed=True)
    f = src.file
    con.execute(f"""
        create or replace temp table {rollcalls} as
        select
            rcid, cast(session as integer) as session, vote_date, unres, short_title, description,
            importantvote, amend, para,
            cast([] as varchar[]) as issues,
            {quote(f.sha256)} as raw_sha256,
            {quote(f.name)} as raw_file
        from {t}
    """)


def typed_issues(src: SniffedFile) -> str:
    c = src.col
    return f"{int_sql(c('rcid'))} as rcid, lower(trim({c('short_name')})) as short_name"


def load_issues(con: duckdb.DuckDBPyConnection, src: SniffedFile, issues: str) -> None:
    """Write temp table ``issues`` (rcid, short_name as given, raw_file)."""
    check_rows(con, src, [_rcid_rule(src.col)], typed=True)
    con.execute(f"""
        create or replace temp table {issues} as
        select rcid, short_name, {quote(src.file.name)} as raw_file
        from {src.table}
    """)
