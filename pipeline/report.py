"""The headline answers, read from the published database (read-only)."""

from __future__ import annotations

import duckdb

from pipeline.publish import current_release_info
from pipeline.settings import Settings

PAIR = ("IR", "RU")  # the seed article's pair: Russia and Iran


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def headline(settings: Settings, top: int = 10) -> str:
    db = settings.published_db
    if not db.exists():
        return f"No publication yet at {db}: run `pipeline run` first."
    con = duckdb.connect(str(db), read_only=True)
    try:
        return _headline(con, settings, top)
    finally:
        con.close()


def _headline(con: duckdb.DuckDBPyConnection, settings: Settings, top: int) -> str:
    out: list[str] = []
    snapshots = _rows(con, "select source, snapshot_date from int_current_snapshots order by 1")
    totals = dict(_rows(con, "select source, count(*) from int_designations_current group by 1"))
    out.append("Sources: " + "; ".join(f"{s} snapshot {d} ({totals.get(s, 0)} designations)" for s, d in snapshots))
    authorities = [r[0] for r in _rows(
        con, "select distinct authority from mart_country_rankings where authority <> 'all' order by 1")]
    for basis, label in (("program_target", "by programme target"), ("nationality", "by nationality/registration")):
        ranked = _rows(con, """
            select rank, country_iso2, country_name, designations, share
            from mart_country_rankings
            where authority = 'all' and basis = ? and entity_type = 'all' and rank <= ?
            order by rank, country_iso2""", [basis, top])
        by_auth = {(c, a): n for c, a, n in _rows(con, """
            select country_iso2, authority, designations from mart_country_rankings
            where authority <> 'all' and basis = ? and entity_type = 'all'""", [basis])}
        out.append("")
        out.append(f"Most sanctioned countries, {label} (unit: designations, all authorities):")
        head = f"  {'#':>3}  {'country':<34}{'all':>6}  " + "".join(f"{a:>10}" for a in authorities) + "   share"
        out.append(head)
        for rank, iso2, name, n, share in ranked:
            cells = "".join(f"{by_auth.get((iso2, a), 0):>10}" for a in authorities)
            out.append(f"  {rank:>3}  {(name + ' (' + iso2 + ')')[:33]:<34}{n:>6}  {cells}  {share:6.1%}")

    crossovers = _rows(con, """
        select strftime(month, '%B %Y'), country_name, overtaken_name, designations, overtaken_designations
        from mart_rank_crossovers
        where authority = 'all' and basis = 'program_target' and country_iso2 = 'RU' and overtaken_iso2 = 'IR'
        order by month""")
    out.append("")
    out.append("Russia and Iran:")
    ranks = dict(_rows(con, """
        select country_iso2, rank from mart_country_rankings
        where authority = 'all' and basis = 'program_target' and entity_type = 'all'
          and country_iso2 in ('RU', 'IR')"""))
    out.append(f"  rank by programme target: Russia #{ranks.get('RU', '-')}, Iran #{ranks.get('IR', '-')}")
    for month, who, whom, n, m in crossovers:
        out.append(f"  {who} overtook {whom} in {month} ({n} vs {m} designations in force, listing dates)")
    ties = _rows(con, """
        select authority, linked_to_both, a_under_b_programs, b_under_a_programs, relation_edges
        from mart_dyad_ties where country_a = ? and country_b = ? order by authority = 'all' desc, authority""",
                 list(PAIR))
    if not ties:
        out.append("  no sanctions co-exposure found between Iran and Russia")
    for authority, both, ir_under_ru, ru_under_ir, edges in ties:
        out.append(
            f"  [{authority}] designations tied to both: {both}; Iran-linked under Russia programmes: "
            f"{ir_under_ru}; Russia-linked under Iran programmes: {ru_under_ir}; relationship edges: {edges}"
        )
    examples = _rows(con, """
        select component, primary_name, detail from mart_dyad_evidence
        where country_a = ? and country_b = ? order by component, primary_name limit 5""", list(PAIR))
    for component, name, detail in examples:
        out.append(f"    e.g. {component}: {name} ({detail})")

    unmapped = _rows(con, "select coalesce(sum(occurrences), 0), count(*) from mart_unmapped_countries")[0]
    unknown = _rows(con, "select coalesce(sum(designations), 0), count(*) from mart_unknown_programs")[0]
    out.append("")
    out.append(f"Data quality: {unmapped[0]} country link(s) with {unmapped[1]} unmapped value(s) "
               f"(see mart_unmapped_countries); {unknown[1]} programme tag(s) without a target table entry "
               f"on {unknown[0]} designation(s) (see mart_unknown_programs).")
    release = current_release_info(settings) or {}
    current = settings.current_release
    out.append("")
    out.append("Outputs:")
    out.append(f"  database      {settings.published_db}  (release {release.get('run_id', '?')})")
    out.append(f"  Parquet marts {current / 'marts'}")
    out.append(f"  Data Docs     {current / 'data_docs' / 'index.html'}")
    out.append("  query it      .venv/bin/pipeline query \"select * from mart_country_rankings limit 10\"")
    return "\n".join(out)
