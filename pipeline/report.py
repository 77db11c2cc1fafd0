"""The headline answers, read from the published database (read-only)."""

from __future__ import annotations

import duckdb

from pipeline.errors import PipelineError
from pipeline.partial import headline_lines as partial_input_lines
from pipeline.publish import PublicationDamaged, current_release_info, publication_damage
from pipeline.settings import Settings


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def _source_snapshots(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, int, list[str]]]:
    """(source, latest snapshot, main table, its rows, raw sha256s) of every source in the lake."""
    from pipeline.sources import known_sources, load_meta

    found = []
    for source in known_sources():
        table = load_meta(source).main_table
        rows = _rows(con, f"""
            select cast(snapshot_date as varchar), count(*), list(distinct raw_sha256) from lake.{table}
            where source = ? and snapshot_date = (select max(snapshot_date) from lake.{table} where source = ?)
            group by snapshot_date""", [source, source])
        if rows and load_meta(source).archive:
            # an archive holds every snapshot it was given: report them all, not the newest file alone
            total = _rows(con, f"select count(*) from lake.{table} where source = ?", [source])[0][0]
            rows = [(day, total, shas) for day, _n, shas in rows]
        found += [(source, day, table, n, shas) for day, n, shas in rows]
    return found


def _demo_sources(snapshots: list[tuple[str, str, str, int, list[str]]], settings: Settings) -> list[str]:
    """Sources whose latest snapshot was parsed from the shipped demo files (by sha256)."""
    from pipeline.parse import sha256_of
    from pipeline.sources import load_meta

    demo = []
    for source, _day, _table, _n, shas in snapshots:
        files: list = []
        for rel in load_meta(source).demo_inputs:
            path = settings.demo_dir / rel
            files += sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        demo_shas = {sha256_of(p) for p in files if p.is_file()}
        if demo_shas and set(shas) <= demo_shas:
            demo.append(source)
    return demo


def _events_and_votes(con: duckdb.DuckDBPyConnection, pair: list[str], first: str, second: str) -> list[str]:
    """Events between the pair by relation type and modality, one quoted sentence, UN agreement
    and the tie index with its components (latest year that has it)."""
    out: list[str] = []
    by_type = _rows(con, """
        select component, modality, count(*) from mart_dyad_evidence
        where evidence_kind = 'event' and country_a = ? and country_b = ?
        group by all order by count(*) desc, component, modality""", pair)
    if by_type:
        cells = ", ".join(f"{rtype} {modality} {n}" for rtype, modality, n in by_type)
        out.append(f"  events (articles and GDELT), by relation type and modality: {cells}")
        quote = _rows(con, """
            select quote, url, evidence_date from mart_dyad_evidence
            where evidence_kind = 'event' and source = 'article' and modality = 'realized'
              and country_a = ? and country_b = ? and quote is not null
            order by evidence_date desc, record_id limit 1""", pair)
        for text, url, day in quote:
            out.append(f'    e.g. "{_clip(text, 220)}" ({url or "no url"}, {day})')
    else:
        out.append(f"  no events between {first} and {second} in the articles or GDELT files")
    votes = _rows(con, """
        select period, common_votes, agreement, kappa from mart_unga_agreement
        where period_type = 'session' and country_a = ? and country_b = ? and agreement is not null
        order by period desc limit 3""", pair)
    for session, n, agree, kappa in votes:
        out.append(f"  UN General Assembly session {session}: agreement {agree:.3f}, kappa {kappa:.3f} "
                   f"over {n} common votes")
    index = _rows(con, """
        select period, tie_index, tie_rank, index_components, index_component_list, realized_events,
               events_net_cooperation, sanctions_linked_to_both, sanctions_cross_program,
               sanctions_relation_edges, unga_agreement, unga_kappa,
               (select count(*) from mart_dyad_ties as other
                 where other.period_type = 'year' and other.period = t.period and other.tie_index is not null)
        from mart_dyad_ties as t
        where period_type = 'year' and country_a = ? and country_b = ? and tie_index is not null
        order by period desc limit 1""", pair)
    for period, tie, rank, n, used, events, nc, both, cross, edges, agree, kappa, pairs in index:
        parts = [f"realized events {events or 0}", f"net cooperation {_fmt(nc)}",
                 f"sanctions tied to both {both}", f"cross-programme {cross}", f"relationship edges {edges}",
                 f"UN agreement {_fmt(agree)}", f"kappa {_fmt(kappa)}"]
        out.append(f"  tie index {period}: {tie:+.2f} (rank {rank} of {pairs} pairs; {n} components: {used})")
        out.append("    components: " + "; ".join(parts))
    return out


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def headline(settings: Settings, top: int = 10) -> str:
    """The headline answers of the current publication; :class:`PublicationDamaged` when its
    database no longer matches the sha256 of its ``release.json``."""
    db = settings.published_db
    damage = publication_damage(settings)
    if damage:
        raise PublicationDamaged(db, damage)
    if not db.exists():
        return f"No publication yet at {db}: run `pipeline run` first."
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise PipelineError(f"cannot read the published database {db}: {exc}") from None
    try:
        return _headline(con, settings, top)
    finally:
        con.close()


def _headline(con: duckdb.DuckDBPyConnection, settings: Settings, top: int) -> str:
    out: list[str] = []
    snapshots = _source_snapshots(con)
    out.append("Sources (latest snapshot in the lake; an archive counts every snapshot it holds):")
    for source, day, table, n, _shas in snapshots:
        out.append(f"  {source:<14} {day}  {n:>7} {table.replace('_', ' ')}")
    demo = _demo_sources(snapshots, settings)
    if demo:
        out.append("")
        out.append(
            f"DEMO DATA ({', '.join(demo)}): these figures come from the small demo files shipped in data/demo "
            "(real designations and UN roll calls picked from public records, articles the project wrote from public "
            "facts, illustrative GDELT rows). They show the method and the shape of the answers (ranks, crossovers, "
            "ties with their evidence), not the real size of any list, a real ranking or a real tie index. For real "
            "figures run `pipeline run --input SOURCE=FILE` on the official files."
        )
    out += partial_input_lines(con)
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
        if not ranked:
            out.append("  no sanctions list in this home yet (run with --input us_ofac_sdn=... or un_sc=...)")
            continue
        head = f"  {'#':>3}  {'country':<34}{'all':>6}  " + "".join(f"{a:>10}" for a in authorities) + "   share"
        out.append(head)
        for rank, iso2, name, n, share in ranked:
            cells = "".join(f"{by_auth.get((iso2, a), 0):>10}" for a in authorities)
            out.append(f"  {rank:>3}  {(name + ' (' + iso2 + ')')[:33]:<34}{n:>6}  {cells}  {share:6.1%}")

    a, b = settings.headline_pair
    names = dict(_rows(con, "select country_iso2, country_name from stg_ref__countries where country_iso2 in (?, ?)",
                       [a, b]))
    name_a, name_b = names.get(a, a), names.get(b, b)
    crossovers = _rows(con, """
        select strftime(month, '%B %Y'), country_name, overtaken_name, designations, overtaken_designations
        from mart_rank_crossovers
        where authority = 'all' and basis = 'program_target'
          and ((country_iso2 = ? and overtaken_iso2 = ?) or (country_iso2 = ? and overtaken_iso2 = ?))
        order by month, country_iso2""", [a, b, b, a])
    out.append("")
    out.append(f"{name_a} and {name_b}:")
    ranks = dict(_rows(con, """
        select country_iso2, rank from mart_country_rankings
        where authority = 'all' and basis = 'program_target' and entity_type = 'all'
          and country_iso2 in (?, ?)""", [a, b]))
    out.append(f"  rank by programme target: {name_a} #{ranks.get(a, '-')}, {name_b} #{ranks.get(b, '-')}")
    for month, who, whom, n, m in crossovers:
        out.append(f"  {who} overtook {whom} in {month} ({n} vs {m} designations in force, listing dates)")
    pair = sorted((a, b))
    first, second = (name_a, name_b) if pair[0] == a else (name_b, name_a)
    ties = _rows(con, """
        select authority, linked_to_both, a_under_b_programs, b_under_a_programs, relation_edges
        from mart_dyad_sanctions_exposure where country_a = ? and country_b = ?
        order by authority = 'all' desc, authority""",
                 pair)
    if not ties:
        out.append(f"  no sanctions co-exposure found between {first} and {second}")
    for authority, both, a_under_b, b_under_a, edges in ties:
        out.append(
            f"  [{authority}] designations tied to both: {both}; {first}-linked under {second} programmes: "
            f"{a_under_b}; {second}-linked under {first} programmes: {b_under_a}; relationship edges: {edges}"
        )
    examples = _rows(con, """
        select component, name, detail from mart_dyad_evidence
        where evidence_kind = 'sanctions' and country_a = ? and country_b = ?
        order by component, name, detail limit 5""", pair)
    for component, name, detail in examples:
        out.append(f"    e.g. {component}: {name} ({detail})")

    out += _events_and_votes(con, pair, first, second)

    unmapped = dict(_rows(con, "select status, sum(occurrences) from mart_unmapped_countries group by 1"))
    unknown = _rows(con, "select coalesce(sum(designations), 0), count(*) from mart_unknown_programs")[0]
    out.append("")
    out.append(f"Data quality: {unmapped.get('unknown', 0)} country link(s) with a value the crosswalk does not know "
               f"and {unmapped.get('non_country', 0)} naming no country on purpose ('na', USSR...) "
               f"(see mart_unmapped_countries); {unknown[1]} programme tag(s) without a target table entry "
               f"on {unknown[0]} designation(s) (see mart_unknown_programs).")
    release = current_release_info(settings) or {}
    lost = release.get("lost_snapshots") or []
    if lost:
        names = ", ".join(f"{r.get('source', '?')} {r.get('snapshot_date', '?')}" for r in lost[:5])
        out.append(f"History: {len(lost)} snapshot(s) lost from the lake for good ({names}"
                   f"{', ...' if len(lost) > 5 else ''}): damaged and their raw files gone; see lost_snapshots "
                   f"in {settings.current_release / 'release.json'}.")
    current = settings.current_release
    out.append("")
    out.append("Outputs:")
    out.append(f"  database      {settings.published_db}  (release {release.get('run_id', '?')})")
    replaced = release.get("replaced_damaged")
    if replaced:
        out.append(f"                rebuilt from the lake and the raw store: the release before it "
                   f"({replaced.get('release')}) was damaged ({replaced.get('reason')})")
    out.append(f"  Parquet marts {current / 'marts'}")
    out.append(f"  Data Docs     {current / 'data_docs' / 'index.html'}")
    out.append("  query it      .venv/bin/pipeline query \"select * from mart_country_rankings limit 10\"")
    return "\n".join(out)
