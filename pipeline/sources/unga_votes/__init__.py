"""UN General Assembly roll-call votes as a source: produces the staged tables ``unga_votes``
(one row per roll call and voting country, vote coded 1 yes, 2 abstain, 3 no, 8 absent,
9 not a member) and ``unga_rollcalls`` (one row per roll call: session, date, resolution, titles,
flags and issue codes).

Two layouts, told apart by their headers (``layout.py``), in any order and mix:

* Voeten's raw votes file (COW ``ccode``, codes 1/2/3/8/9; the roll calls come from its rows);
* the ``unvotes`` tables: votes, roll calls and issues (ISO alpha-2 codes, votes as words).

The files are an archive (``snapshots: archive`` in ``source.yml``): a roll call stated by several
files (Voeten's vote rows and an ``unvotes`` roll-call table) is one roll call with the attributes
the files state (they must agree) and every issue any of them gives; its votes are those of whichever
files hold them, the same vote in two files being one. Two files that disagree on a roll call's
attribute or on a vote are refused, the error naming the roll call, both values and both files.
Across runs the lake keeps every file and the models take the union (``int_unga_rollcalls``,
``int_unga_votes``).

Everything row-wise runs in DuckDB SQL. Country codes go through the project's crosswalk
(``pipeline.reference``) and the date-bounded rules of ``country_codes.csv`` (Yugoslavia, Serbia
and Montenegro, the two Germanies and Yemens...). A vote whose country is a historical state or
an unknown code keeps its raw code with ``country_iso2`` NULL and is counted in the audit; it is
never dropped and never given a successor's code. Bad input raises
:class:`~pipeline.errors.SourceError` naming the file, the lines (the first few and how many), the
column and the rule; one bad line refuses the file (``layout.py`` says why).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from pipeline.errors import SourceError
from pipeline.reference import CountryResolver
from pipeline.sources.base import AuditRow, InputFile, LoadResult
from pipeline.sources.unga_votes import unvotes, voeten
from pipeline.sources.unga_votes.layout import (
    BLOCS_CSV,
    SOURCE_ID,
    SniffedFile,
    first_bad,
    load_lookups,
    quote,
    read,
)

__all__ = ["BLOCS_CSV", "SCHEMAS", "SOURCE_ID", "AuditRow", "LoadResult", "load"]

_LINEAGE = [
    pa.field("raw_sha256", pa.string(), nullable=False),
    pa.field("raw_file", pa.string(), nullable=False),
]

SCHEMAS: dict[str, pa.Schema] = {
    "unga_votes": pa.schema([
        pa.field("rcid", pa.int64(), nullable=False),
        pa.field("country_iso2", pa.string()),
        pa.field("country_code_raw", pa.string(), nullable=False),
        pa.field("vote_code", pa.int8(), nullable=False),
        *_LINEAGE,
    ]),
    "unga_rollcalls": pa.schema([
        pa.field("rcid", pa.int64(), nullable=False),
        pa.field("session", pa.int32(), nullable=False),
        pa.field("vote_date", pa.date32(), nullable=False),
        pa.field("unres", pa.string()),
        pa.field("short_title", pa.string()),
        pa.field("description", pa.string()),
        pa.field("importantvote", pa.bool_()),
        pa.field("amend", pa.bool_()),
        pa.field("para", pa.bool_()),
        pa.field("issues", pa.list_(pa.string()), nullable=False),
        *_LINEAGE,
    ]),
}

_AUDIT_FIELD = {"cow": "ccode", "iso2": "country_code", "name": "country"}




def load(files: list[InputFile]) -> LoadResult:
    """Parse UNGA vote files of either layout into ``unga_votes`` and ``unga_rollcalls``."""
    if not files:
        raise SourceError(SOURCE_ID, "(no file)", "input files given", "no vote files were given")
    con = duckdb.connect()
    try:
        load_lookups(con)
        sniffed = [read(con, f, f"src_{i}", _typed) for i, f in enumerate(files)]
        votes, rollcalls, issues = _by_layout(con, sniffed)
        audit = _combine(con, votes, rollcalls, issues)
        vote_files = [s.file for s in sniffed if s.layout.kind in ("voeten", "unvotes_votes")]
        # one vote file: its lineage is the same on every vote, added as the sorted rows leave (not
        # carried through the mapping and the sort)
        one = vote_files[0] if len(vote_files) == 1 else None
        _map_countries(con, with_sha256=one is None)
        audit += _dedupe_votes(con, len(votes))
        audit += _country_audit(con)
        if one is None:
            votes_sql = ("select rcid, country_iso2, country_code_raw, vote_code, raw_sha256, raw_file "
                         "from mapped_votes order by rcid, country_code_raw")
        else:
            votes_sql = (f"select *, {quote(one.sha256)} as raw_sha256, {quote(one.name)} as raw_file from ("
                         "select rcid, country_iso2, country_code_raw, vote_code "
                         "from mapped_votes order by rcid, country_code_raw)")
        tables = {
            "unga_votes": _arrow(con, votes_sql, "unga_votes"),
            "unga_rollcalls": _arrow(con, "select rcid, session, vote_date, unres, short_title, description, "
                                          "importantvote, amend, para, issues, raw_sha256, raw_file "
                                          "from all_rollcalls order by rcid", "unga_rollcalls"),
        }
        snapshot = con.execute(
            "select max(vote_date) from all_rollcalls where rcid in (select rcid from all_votes)"
        ).fetchone()[0]
    finally:
        con.close()
    return LoadResult(tables, snapshot, sorted(audit, key=lambda row: (row[0], row[1], str(row[2]))))


def _typed(src: SniffedFile) -> str:
    """The typed select list each layout's file is read with (one scan of the file)."""
    return {"voeten": voeten.typed, "unvotes_votes": unvotes.typed_votes, "unvotes_rollcalls": unvotes.typed_rollcalls,
            "unvotes_issues": unvotes.typed_issues}[src.layout.kind](src)


def _by_layout(con: duckdb.DuckDBPyConnection, sniffed: list[SniffedFile]) -> tuple[list[str], list[str], list[str]]:
    votes: list[str] = []
    rollcalls: list[str] = []
    issues: list[str] = []
    for i, src in enumerate(sniffed):
        kind = src.layout.kind
        if kind == "voeten":
            voeten.load(con, src, f"votes_{i}", f"rollcalls_{i}")
            votes.append(f"votes_{i}")
            rollcalls.append(f"rollcalls_{i}")
        elif kind == "unvotes_votes":
            unvotes.load_votes(con, src, f"votes_{i}")
            votes.append(f"votes_{i}")
        elif kind == "unvotes_rollcalls":
            unvotes.load_rollcalls(con, src, f"rollcalls_{i}")
            rollcalls.append(f"rollcalls_{i}")
        else:
            unvotes.load_issues(con, src, f"issues_{i}")
            issues.append(f"issues_{i}")
    kinds = {s.layout.kind for s in sniffed}
    if "unvotes_votes" in kinds and "unvotes_rollcalls" not in kinds:
        first = next(s for s in sniffed if s.layout.kind == "unvotes_votes")
        raise first.error("roll calls file given",
                          "an unvotes votes file needs its roll calls file (rcid, session, date, ...) "
                          "in the same input")
    if not votes:
        raise sniffed[0].error("votes file given",
                               "no votes file among the inputs (a Voeten raw file or an unvotes votes file)")
    return votes, rollcalls, issues


def _union(tables: list[str]) -> str:
    return " union all by name ".join(f"select * from {t}" for t in tables)


#: The attributes of a roll call that two files stating it must agree on (NULL: the file does not
#: state it, e.g. Voeten's raw file has no titles); issues are tags and are pooled instead.
ROLLCALL_ATTRIBUTES = ("session", "vote_date", "unres", "short_title", "description", "importantvote", "amend",
                       "para")


def _combine(
    con: duckdb.DuckDBPyConnection, votes: list[str], rollcalls: list[str], issues: list[str]
) -> list[AuditRow]:
    """Union the files into ``all_votes`` and ``all_rollcalls`` (one row per roll call); attach issues
    and vote dates.

    The files are an archive, in any order and mix: a roll call stated by several files (Voeten's
    vote rows and an ``unvotes`` roll-call table) is one roll call, whose attributes are those the
    files state (they must agree where both state one) and whose issues are every issue any file
    gives it; its votes are those of whichever files hold them (:func:`_dedupe_votes`)."""
    audit: list[AuditRow] = []
    con.execute(f"create or replace temp table stated_rollcalls as {_union(rollcalls)}")
    _check_rollcalls_agree(con)
    attributes = ", ".join(f"max({name}) as {name}" for name in ROLLCALL_ATTRIBUTES)
    con.execute(f"""
        create or replace temp table all_rollcalls as
        select rcid, {attributes}, cast([] as varchar[]) as issues,
            arg_min(raw_sha256, raw_file) as raw_sha256, min(raw_file) as raw_file
        from stated_rollcalls
        group by rcid
    """)
    audit += con.execute("""
        select 'rollcall_in_several_files', 'rcid', null, count(*)::integer
        from (select rcid from stated_rollcalls group by rcid having count(*) > 1)
        having count(*) > 0
    """).fetchall()
    tagged = ["select rcid, unnest(issues) as short_name from stated_rollcalls"]
    if issues:
        con.execute(f"create or replace temp table all_issues as {_union(issues)}")
        audit += con.execute("""
            select 'unknown_issue', 'short_name', short_name, count(*)::integer from all_issues
            where short_name not in (select code from issue_codes) group by short_name
        """).fetchall()
        audit += con.execute("""
            select 'issue_without_rollcall', 'rcid', null, count(*)::integer from all_issues
            where rcid not in (select rcid from all_rollcalls) having count(*) > 0
        """).fetchall()
        tagged.append("select rcid, short_name from all_issues")
    con.execute(f"""
        create or replace temp table rollcall_issues as
        select rcid, list(short_name order by position) as issues
        from (
            select distinct t.rcid, t.short_name, c.position
            from ({" union all ".join(tagged)}) as t join issue_codes as c on c.code = t.short_name
        )
        group by rcid
    """)
    con.execute("""
        update all_rollcalls as r set issues = i.issues
        from rollcall_issues as i where i.rcid = r.rcid
    """)
    if all(_dated(con, table) for table in votes):
        # Voeten's vote rows carry their dates: the votes are the files' rows as they are
        con.execute(f"create or replace temp view all_votes as {_union(votes)}")
    else:
        # unvotes vote rows take the date of their roll call
        con.execute(f"""
            create or replace temp table all_votes as
            select v.* replace (coalesce(v.vote_date, r.vote_date) as vote_date)
            from ({_union(votes)}) as v left join all_rollcalls as r on r.rcid = v.rcid
        """)
    audit += con.execute("""
        select 'vote_without_rollcall', 'rcid', cast(rcid as varchar), count(*)::integer from all_votes
        where rcid not in (select rcid from all_rollcalls) group by rcid
    """).fetchall()
    return audit


def _dated(con: duckdb.DuckDBPyConnection, votes: str) -> bool:
    """Whether every vote row of ``votes`` has its date (a Voeten file's do)."""
    return con.execute(f"select count(*) from {votes} where vote_date is null").fetchone()[0] == 0


def _check_rollcalls_agree(con: duckdb.DuckDBPyConnection) -> None:
    """Refuse two files that state different values of one attribute of the same roll call, naming
    the roll call, the attribute, both values and both files (a file never states a roll call twice:
    Voeten's rows of one roll call are checked to agree by ``voeten.load``)."""
    bad = first_bad(con, """
        select rcid, count(*) as n, min(raw_file), max(raw_file) from stated_rollcalls
        group by rcid, raw_file having count(*) > 1 order by rcid
    """)
    if bad:
        raise SourceError(SOURCE_ID, bad[2], "one row per roll call",
                          f"roll call {bad[0]} is stated {bad[1]} times in this file", f"rcid {bad[0]}")
    checks = " union all ".join(
        f"select rcid, '{name}' as attribute, {position} as position, "
        f"min(cast({name} as varchar)) as low, max(cast({name} as varchar)) as high, "
        f"arg_min(raw_file, cast({name} as varchar)) as low_file, "
        f"arg_max(raw_file, cast({name} as varchar)) as high_file "
        f"from stated_rollcalls where {name} is not null group by rcid having count(distinct {name}) > 1"
        for position, name in enumerate(ROLLCALL_ATTRIBUTES))
    bad = first_bad(con, f"select * from ({checks}) order by rcid, position")
    if bad:
        rcid, attribute, _position, low, high, low_file, high_file = bad
        raise SourceError(SOURCE_ID, high_file, "the files agree on each roll call",
                          f"roll call {rcid}: {attribute} is '{high}' in '{high_file}' but '{low}' in '{low_file}'; "
                          "files that disagree on a roll call are not loaded together (load the newer one "
                          "in a later run: the lake keeps both, the newer snapshot's value is shown)",
                          f"rcid {rcid}")


def _map_countries(con: duckdb.DuckDBPyConnection, with_sha256: bool = True) -> None:
    """``mapped_votes``: every vote with ``country_iso2`` from the crosswalk and the dated rules
    (without ``raw_sha256`` unless ``with_sha256``)."""
    resolver = CountryResolver.load()
    resolve = {"cow": resolver.resolve_cow, "iso2": resolver.resolve_iso2, "name": resolver.resolve}
    codes = con.execute("select distinct code_system, country_code_raw from all_votes").fetchall()
    con.execute("create or replace temp table code_map (code_system varchar, country_code_raw varchar, "
                "iso2 varchar, known boolean)")
    rows = []
    for system, code in codes:
        match = resolve[system](code)
        rows.append((system, code, match.iso2, match.matched))
    if rows:
        columns = list(zip(*rows, strict=True))
        con.register("code_rows", pa.table([pa.array(c, type=t) for c, t in
                                             zip(columns, (pa.string(), pa.string(), pa.string(), pa.bool_()),
                                                 strict=True)],
                                            names=["code_system", "country_code_raw", "iso2", "known"]))
        con.execute("insert into code_map select * from code_rows")
        con.unregister("code_rows")
    columns = "v.*" if with_sha256 else "v.* exclude (raw_sha256)"
    con.execute(f"""
        create or replace temp table mapped_votes as
        select
            {columns},
            case when r.code is not null then r.iso2 else m.iso2 end as country_iso2,
            case
                when r.code is not null and r.iso2 is null then 'historical_state'
                when r.code is not null and r.iso2 is distinct from m.iso2 then 'recoded_country'
                when r.code is not null then null
                when m.iso2 is null and m.known then 'historical_state'
                when m.iso2 is null then 'unmapped_country'
            end as audit_rule
        from all_votes as v
        join code_map as m using (code_system, country_code_raw)
        left join code_rules as r
            on r.code_system = v.code_system
            and r.code = v.country_code_raw
            and v.vote_date >= coalesce(r.valid_from, date '0001-01-01')
            and v.vote_date <= coalesce(r.valid_to, date '9999-12-31')
    """)


#: The country of a vote across layouts: its ISO code, else its raw code in its code system.
_COUNTRY_KEY = "coalesce(country_iso2, code_system || ':' || country_code_raw)"


def _dedupe_votes(con: duckdb.DuckDBPyConnection, vote_files: int) -> list[AuditRow]:
    """One vote per roll call and country in ``mapped_votes``: a country votes once per roll call in
    a file; the same vote in two files (a Voeten file and an ``unvotes`` file of the same session)
    is one vote, kept from the first file by name; two files giving the country different votes on
    one roll call are refused, naming both. With one vote file there is nothing to merge: the checks
    between files and the de-duplication are skipped (a file's own repeats are refused first)."""
    for key in ("country_code_raw", "country_iso2"):
        if key == "country_iso2" and not _codes_share_a_country(con):
            # a file's two votes with one ISO code on a roll call have one raw code (refused just above)
            # unless two codes can map to one country
            continue
        bad = first_bad(con, f"""
            select rcid, {key}, raw_file from mapped_votes where {key} is not null
            group by rcid, {key}, raw_file having count(*) > 1 order by rcid
        """)
        if bad:
            raise SourceError(SOURCE_ID, bad[2], "one vote per country and roll call",
                              f"country {bad[1]} votes more than once on roll call {bad[0]}",
                              f"rcid {bad[0]}, country {bad[1]}")
    if vote_files == 1:
        return []
    bad = first_bad(con, f"""
        select rcid, {_COUNTRY_KEY} as country,
            arg_min(vote_code, raw_file), min(raw_file), arg_max(vote_code, raw_file), max(raw_file)
        from mapped_votes
        group by rcid, {_COUNTRY_KEY} having count(distinct vote_code) > 1 order by rcid, country
    """)
    if bad:
        rcid, country, first_vote, first_file, other_vote, other_file = bad
        raise SourceError(SOURCE_ID, other_file, "the files agree on each vote",
                          f"on roll call {rcid} country {country} votes {other_vote} in '{other_file}' but "
                          f"{first_vote} in '{first_file}' (1 yes, 2 abstain, 3 no, 8 absent, 9 not a member); "
                          "files that disagree on a vote are not loaded together",
                          f"rcid {rcid}, country {country}")
    merged = con.execute(f"""
        select count(*)::integer from (
            select 1 from mapped_votes group by rcid, {_COUNTRY_KEY} having count(*) > 1
        )
    """).fetchone()[0]
    con.execute(f"""
        create or replace temp table mapped_votes as
        select * from mapped_votes
        qualify row_number() over (partition by rcid, {_COUNTRY_KEY} order by raw_file, country_code_raw) = 1
    """)
    return [("vote_in_several_files", "rcid", None, merged)] if merged else []


def _codes_share_a_country(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether two of the votes' country codes can map to one ISO code (by the crosswalk or by a dated rule)."""
    return first_bad(con, """
        select iso2 from (
            select code_system, country_code_raw, iso2 from code_map where iso2 is not null
            union
            select m.code_system, m.country_code_raw, r.iso2 from code_map as m
            join code_rules as r on r.code_system = m.code_system and r.code = m.country_code_raw
            where r.iso2 is not null
        ) group by iso2 having count(*) > 1
    """) is not None


def _country_audit(con: duckdb.DuckDBPyConnection) -> list[AuditRow]:
    """Historical, recoded and unmapped country codes among the kept votes, with counts."""
    found = con.execute("""
        select audit_rule, code_system, country_code_raw, count(*)::integer from mapped_votes
        where audit_rule is not null group by all
    """).fetchall()
    return [(rule, _AUDIT_FIELD[system], code, n) for rule, system, code, n in found]


def _arrow(con: duckdb.DuckDBPyConnection, sql: str, table: str) -> pa.Table:
    return con.sql(sql).to_arrow_table().cast(SCHEMAS[table])
