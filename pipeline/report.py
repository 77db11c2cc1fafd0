"""The headline answers, read from the published database (read-only)."""

from __future__ import annotations

import duckdb

from pipeline.errors import PipelineError
from pipeline.freshness import headline_lines as freshness_lines
from pipeline.html_report import headline_line as html_report_line
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
        select period, tie_index, tie_rank, index_pairs, index_components, index_component_list,
               index_neutral_list, events_sources, gdelt_days, realized_events, events_net_cooperation,
               sanctions_linked_to_both, sanctions_cross_program, sanctions_relation_edges, unga_agreement, unga_kappa
        from mart_dyad_ties
        where period_type = 'year' and country_a = ? and country_b = ? and tie_index is not null
        order by period desc limit 1""", pair)
    for (period, tie, rank, pairs, n, used, neutral, sources, days, events, nc, both, cross, edges, agree,
         kappa) in index:
        parts = [f"realized events {events or 0}", f"net cooperation {_fmt(nc)}",
                 f"sanctions tied to both {_count(both)}", f"cross-programme {_count(cross)}",
                 f"relationship edges {_count(edges)}", f"UN agreement {_fmt(agree)}", f"kappa {_fmt(kappa)}"]
        out.append(f"  tie index {period}: {tie:.2f} on 0-1 (0.5 = the year's middle pair), rank {rank:,} of "
                   f"{pairs:,} pairs ({rank - 1:,} closer); {n} components: {used}")
        out.append(f"    coverage: events from {sources or 'no event source'} ({days or 0} GDELT days); "
                   f"neutral: {neutral or 'none'}")
        out.append("    components: " + "; ".join(parts))
    return out


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


#: The ranking marts' column per authority, in column order: the authority id in the data and its column
#: (the Python mirror of sql/macros/authorities.sql authority_columns(); a test keeps the two equal)
AUTHORITY_COLUMNS: dict[str, str] = {"us_ofac": "us", "eu": "eu", "un_sc": "un", "gb": "gb", "ca": "ca", "ch": "ch"}
AUTHORITY_LABELS: dict[str, str] = {"all": "all", "us": "US (OFAC)", "eu": "EU", "un": "UN", "gb": "UK",
                                    "ca": "Canada", "ch": "Switzerland", "targets": "all targets"}
#: the slice the headline reads: designations, every list of an authority
_SLICE = "unit = 'designations' and list_code = 'all'"


def _rankings(con: duckdb.DuckDBPyConnection, top: int) -> list[str]:
    """The top countries over all authorities, with a column per authority, by programme target and by
    nationality."""
    out: list[str] = []
    ranked_any = False
    columns = list(AUTHORITY_COLUMNS.values())
    for basis, label in (("program_target", "by programme target"), ("nationality", "by nationality/registration")):
        ranked = _rows(con, f"""
            select r.rank, r.country_iso2, r.country_name, r.designations, t.designations, r.share,
                   {", ".join("r." + c for c in columns)}
            from mart_country_rankings as r
            left join mart_country_rankings as t
                on t.unit = 'targets' and t.list_code = 'all' and t.authority = 'all' and t.basis = r.basis
                and t.entity_type = 'all' and t.country_iso2 = r.country_iso2
            where r.unit = 'designations' and r.list_code = 'all' and r.authority = 'all' and r.basis = ?
              and r.entity_type = 'all' and r.rank <= ?
            order by r.rank, r.country_iso2""", [basis, top])
        out.append("")
        out.append(f"Most sanctioned countries, {label} (designations, and unique targets beside them; rank and "
                   f"share of designations over all authorities):")
        if not ranked:
            out.append("  no sanctions list in this home yet (run with --input us_ofac_sdn=... or un_sc=...)")
            continue
        ranked_any = True
        out.append(f"  {'#':>3}  {'country':<34}{'all':>6}{'targets':>9}" + "".join(f"{c:>6}" for c in columns)
                   + "   share")
        for rank, iso2, name, n, targets, share, *per_authority in ranked:
            cells = "".join(f"{v:>6}" for v in per_authority)
            out.append(f"  {rank:>3}  {(name + ' (' + iso2 + ')')[:33]:<34}{n:>6}{_count(targets):>9}{cells}  "
                       f"{share:6.1%}")
    if ranked_any:
        out.append("  us: OFAC's SDN and non-SDN lists together, one OFAC record once (SDN alone: list_code 'SDN'); "
                   "all: every authority, aggregators left out")
        out.append("  targets: unique targets over all authorities (one per real-world person, organization, vessel "
                   "or aircraft, matched across lists: mart_targets); unit 'targets' in mart_country_rankings")
        others = [r[0] for r in _rows(con, f"""
            select distinct authority from mart_country_rankings
            where {_SLICE} and authority <> 'all' and authority not in ({", ".join("?" * len(AUTHORITY_COLUMNS))})
            order by 1""", list(AUTHORITY_COLUMNS))]
        if others:
            out.append(f"  also ranked on their own rows of mart_country_rankings, without a column here: "
                       f"{', '.join(others)}")
    return out


def _pair_by_authority(con: duckdb.DuckDBPyConnection, a: str, b: str, name_a: str, name_b: str) -> list[str]:
    """The headline pair (Russia and Iran) under each authority: designations and rank now (programme
    target) and the month the authority's count for the first passed the second's (listing dates); then
    the same over all authorities in the other unit, unique targets."""
    rows = [("designations", "all", "all")] + [("designations", k, v) for k, v in AUTHORITY_COLUMNS.items()]
    rows.append(("targets", "all", "targets"))
    slice_ = "unit in ('designations', 'targets') and list_code = 'all'"
    now = {(unit, authority, iso2): (n, rank) for unit, authority, iso2, n, rank in _rows(con, f"""
        select unit, authority, country_iso2, designations, rank from mart_country_rankings
        where {slice_} and basis = 'program_target' and entity_type = 'all' and country_iso2 in (?, ?)""", [a, b])}
    events: dict[tuple[str, str], list[tuple]] = {}
    for unit, authority, month, who, n, m in _rows(con, f"""
            select unit, authority, month, country_iso2, designations, overtaken_designations
            from mart_rank_crossovers
            where {slice_} and basis = 'program_target'
              and ((country_iso2 = ? and overtaken_iso2 = ?) or (country_iso2 = ? and overtaken_iso2 = ?))
            order by month""", [a, b, b, a]):
        events.setdefault((unit, authority), []).append((month, who, n, m))
    last = {(unit, authority, iso2): n for unit, authority, iso2, n in _rows(con, f"""
        select unit, authority, country_iso2, arg_max(designations, month) from mart_country_rankings_monthly
        where {slice_} and basis = 'program_target' and country_iso2 in (?, ?)
        group by all""", [a, b])}
    out = [f"{name_a} and {name_b} by authority (programme target; designations now, and the month each authority's "
           f"count for {name_a} passed {name_b}'s, from listing dates; last row: unique targets over all "
           f"authorities):"]
    width = max(len(name_a), len(name_b), 6)
    out.append(f"  {'authority':<12}{name_a:>{width}}  rank{name_b:>{width + 2}}  rank  {name_a} passed {name_b}")
    for unit, authority, column in rows:
        n_a, rank_a = now.get((unit, authority, a), (0, None))
        n_b, rank_b = now.get((unit, authority, b), (0, None))
        crossed = ("not crossed (neither listed)" if not (n_a or n_b) else
                   _crossover_text(events.get((unit, authority), []), a, name_a, name_b,
                                   last.get((unit, authority, a)), last.get((unit, authority, b))))
        out.append(f"  {AUTHORITY_LABELS[column]:<12}{n_a:>{width}}  {_rank(rank_a):>4}{n_b:>{width + 2}}  "
                   f"{_rank(rank_b):>4}  {crossed}")
    for unit, noun in (("designations", "designations"), ("targets", "unique targets")):
        for month, who, n, m in events.get((unit, "all"), []):
            winner, loser = (name_a, name_b) if who == a else (name_b, name_a)
            out.append(f"  all authorities: {winner} overtook {loser} in {month:%B %Y} ({n} vs {m} {noun} in "
                       f"force, listing dates)")
    return out


def _count(n: int | None) -> str:
    return "-" if n is None else str(n)


def _rank(rank: int | None) -> str:
    return "-" if rank is None else f"#{rank}"


def _crossover_text(events: list[tuple], a: str, name_a: str, name_b: str, last_a: int | None,
                    last_b: int | None) -> str:
    """When the first country's count passed the second's under one authority, from its crossover events
    (month, country that moved ahead, its count, the other's) and the series' last month."""
    passed = [e for e in events if e[1] == a]
    if events and events[-1][1] == a:
        month, _who, n, m = events[-1]
        return f"{month:%B %Y} ({n} vs {m})"
    if events:
        back = events[-1][0]
        since = f"; {name_a} passed it in {passed[-1][0]:%B %Y}" if passed else ""
        return f"not crossed ({name_b} back ahead since {back:%B %Y}{since})"
    if last_a is None and last_b is None:
        return "not crossed (neither has a listing date)"
    if (last_a or 0) > (last_b or 0):
        return f"not crossed (no crossover in the series; {name_a} ahead now)"
    if (last_a or 0) == (last_b or 0):
        return "not crossed (level now)"
    return f"not crossed ({name_b} ahead now)"


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
    out += freshness_lines(con)
    out += _rankings(con, top)
    a, b = settings.headline_pair
    names = dict(_rows(con, "select country_iso2, country_name from stg_ref__countries where country_iso2 in (?, ?)",
                       [a, b]))
    name_a, name_b = names.get(a, a), names.get(b, b)
    out.append("")
    out += _pair_by_authority(con, a, b, name_a, name_b)
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
    out.append(html_report_line(settings))
    out.append("  query it      .venv/bin/pipeline query \"select * from mart_country_rankings limit 10\"")
    return "\n".join(out)
