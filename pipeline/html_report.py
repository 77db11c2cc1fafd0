"""The release's HTML report: one self-contained page beside the published database.

``releases/<run id>/report.html`` is written by :func:`pipeline.publish.publish` into the release
folder before it becomes current (a temporary file renamed into place), from the release's own
database and Data Docs. It holds:

- the ranking over time: the headline pair (Russia and Iran by default) under each authority, in
  each unit the marts count (designations, targets), with the months one passed the other marked;
  and the rank of today's top countries month by month;
- the top tie pairs of the latest year with an index, with the score of each component;
- the headline pair's evidence: events with their quoted sentence and link, sanctions ties, UN votes;
- freshness (``mart_source_freshness``, else the snapshots of ``release.json``), data quality (the
  latest Great Expectations result of every suite, ``parse_audit`` of the current snapshots,
  unmapped countries and programmes) and what is partial (``mart_partial_inputs``).

Self-contained: the charts are Altair (Vega-Lite) specs drawn in the page by the Vega bundle that
vl-convert ships, inlined once; no file or URL is loaded (a Content-Security-Policy forbids it).
Every value from the data is escaped (names, sentences and URLs come from untrusted files); a link is
made only of an http(s) URL. A mart or column the publication does not have (an older release, a
mart another change has not landed yet) becomes a note in its section, never an error.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import os
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb

from pipeline.settings import Settings

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"
DATA_DOCS_INDEX = "data_docs/index.html"
#: the machine-readable list of validation results written beside the offline Data Docs index
DATA_DOCS_SUMMARY = "data_docs/index.json"
TOP_TIES = 15
TOP_RANKED = 8
EVIDENCE_ROWS = 40

# ------------------------------------------------------------------------------------ escaping


def esc(value: Any) -> str:
    """Any value as HTML text (quotes escaped too, so it is safe in an attribute)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return html.escape(f"{value:,.3f}")
    if isinstance(value, (date, datetime)):
        return html.escape(value.isoformat())
    return html.escape(str(value), quote=True)


def safe_url(url: Any) -> str | None:
    """``url`` when it is an absolute http(s) URL without spaces or control characters, else None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or any(ord(c) < 33 or c in "\"'<>`\\" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def link(url: Any, text: Any | None = None) -> str:
    """An ``<a>`` for an http(s) URL; any other value is shown as text, never as a link."""
    good = safe_url(url)
    if good is None:
        return f'<span class="nolink" title="not an http(s) link">{esc(text if text is not None else url)}</span>'
    return f'<a href="{esc(good)}" rel="noopener noreferrer nofollow" target="_blank">{esc(text or good)}</a>'


def _script_json(value: Any) -> str:
    """JSON that cannot end the ``<script>`` element holding it (``</script>``, ``<!--``)."""
    text = json.dumps(value, default=str, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ------------------------------------------------------------------------------------ reading


class _Reader:
    """Reads the published database; knows which tables and columns it has."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        rows = con.execute("""
            select table_schema, table_name, column_name from information_schema.columns
            where table_schema in ('main', 'lake')""").fetchall()
        self.columns: dict[str, list[str]] = {}
        for schema, table, column in rows:
            name = table if schema == "main" else f"{schema}.{table}"
            self.columns.setdefault(name, []).append(column)

    def has(self, table: str, *columns: str) -> bool:
        return table in self.columns and all(c in self.columns[table] for c in columns)

    def missing(self, table: str, *columns: str) -> str | None:
        """A note naming what of ``table`` this publication lacks (None: it has it all)."""
        if table not in self.columns:
            return f"{table} is not in this publication"
        lacking = [c for c in columns if c not in self.columns[table]]
        return f"{table} has no column {', '.join(lacking)} in this publication" if lacking else None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [{name: float(v) if isinstance(v, Decimal) else v for name, v in zip(names, row, strict=True)}
                for row in cursor.fetchall()]


# ------------------------------------------------------------------------------------ charts


class _Charts:
    """The page's charts: Vega-Lite specs by element id."""

    def __init__(self) -> None:
        self.specs: dict[str, dict] = {}

    def add(self, chart_id: str, chart: Any, title: str) -> str:
        self.specs[chart_id] = chart.to_dict()
        return (f'<figure class="chart" id="{esc(chart_id)}" role="img" aria-label="{esc(title)}" '
                f'data-chart="{esc(chart_id)}"></figure>')


def _vega_bundle() -> str:
    """vega, vega-lite and vega-embed as one script (vl-convert's bundle, for Altair's Vega-Lite)."""
    import vl_convert
    from altair.utils._importers import vl_version_for_vl_convert

    bundle = vl_convert.javascript_bundle(vl_version=vl_version_for_vl_convert())
    if "</script" in bundle.lower():  # it would end the inline element early
        bundle = bundle.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")
    return bundle


_DRAW = """
(function () {
  var specs = JSON.parse(document.getElementById('chart-specs').textContent);
  var pending = Object.keys(specs).map(function (id) {
    var el = document.getElementById(id);
    return vegaEmbed(el, specs[id], {renderer: 'svg', actions: false}).then(function () {
      el.setAttribute('data-drawn', 'true');
    }).catch(function (err) {
      el.setAttribute('data-drawn', 'error');
      el.textContent = 'This chart could not be drawn: ' + err;
      console.error('chart ' + id + ': ' + err);
    });
  });
  Promise.all(pending).then(function () { document.body.setAttribute('data-charts', 'done'); });
})();
"""


# ------------------------------------------------------------------------------------ sections


def _note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """An HTML table; cells are HTML already (escape with :func:`esc` or build with :func:`link`)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return (f'<div class="scroll"><table class="{esc(cls)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return esc(f"{value:,.3f}")
    if isinstance(value, int):
        return esc(f"{value:,}")
    return esc(value)


def _authority_label(authority: str) -> str:
    from pipeline.report import AUTHORITY_COLUMNS, AUTHORITY_LABELS

    column = AUTHORITY_COLUMNS.get(authority, authority)
    return AUTHORITY_LABELS.get(column, authority)


def _authority_order(authority: str) -> int:
    from pipeline.report import AUTHORITY_COLUMNS

    order = ["all", *AUTHORITY_COLUMNS]
    return order.index(authority) if authority in order else len(order)


def _slice(db: _Reader, table: str) -> tuple[str, list[str]]:
    """The filter of the headline's slice (every list of an authority) on the columns ``table`` has,
    and notes for those it lacks."""
    parts, notes = ["true"], []
    if db.has(table, "list_code"):
        parts.append("list_code = 'all'")
    else:
        notes.append(f"{table} has no list_code column: its rows are read as they are")
    return " and ".join(parts), notes


def _units(db: _Reader, table: str) -> tuple[str, list[str]]:
    """The unit expression of ``table`` and notes (a table without ``unit`` counts designations)."""
    if not db.has(table, "unit"):
        return "'designations'", [f"{table} has no unit column: its counts are designations"]
    units = [r["unit"] for r in db.rows(f"select distinct unit from {table} order by 1")]
    notes = [] if "targets" in units else [
        "The 'targets' unit (a sanctioned person or company counted once across lists) is not in this "
        "publication: the charts show designations only."]
    return "unit", notes


def _ranking_section(db: _Reader, charts: _Charts, pair: tuple[str, str], names: dict[str, str]) -> str:
    import altair as alt
    import pandas as pd

    a, b = pair
    out = ['<section id="ranking"><h2>The ranking over time</h2>']
    lacking = db.missing("mart_country_rankings_monthly", "month", "authority", "basis", "country_iso2",
                         "designations")
    if lacking:
        return "".join([*out, _note(lacking + ": no ranking over time."), "</section>"])
    where, notes = _slice(db, "mart_country_rankings_monthly")
    unit, unit_notes = _units(db, "mart_country_rankings_monthly")
    notes += unit_notes
    series = db.rows(f"""
        select authority, {unit} as unit, cast(month as date) as month, country_iso2, designations
        from mart_country_rankings_monthly
        where {where} and basis = 'program_target' and country_iso2 in (?, ?)
        order by authority, unit, month, country_iso2""", [a, b])
    crossings: list[dict[str, Any]] = []
    if db.has("mart_rank_crossovers", "month", "authority", "basis", "country_iso2", "overtaken_iso2"):
        cwhere, _ = _slice(db, "mart_rank_crossovers")
        cunit, _ = _units(db, "mart_rank_crossovers")
        crossings = db.rows(f"""
            select authority, {cunit} as unit, cast(month as date) as month, country_iso2, overtaken_iso2,
                   designations, overtaken_designations
            from mart_rank_crossovers
            where {cwhere} and basis = 'program_target'
              and ((country_iso2 = ? and overtaken_iso2 = ?) or (country_iso2 = ? and overtaken_iso2 = ?))
            order by authority, unit, month""", [a, b, b, a])
    else:
        notes.append("mart_rank_crossovers is not in this publication: no crossover is marked")
    name_a, name_b = names.get(a, a), names.get(b, b)
    out.append(f"<p>{esc(name_a)} and {esc(name_b)}: designations in force month by month under each authority "
               "(programme target, from listing dates), one line per country and unit; a dot marks the month one "
               "country's count passed the other's.</p>")
    if series:
        label = {c: names.get(c, c) for c in (a, b)}
        points = [{"kind": "series", "authority": r["authority"], "unit": r["unit"], "month": r["month"].isoformat(),
                   "country": label[r["country_iso2"]], "designations": r["designations"], "passed": ""}
                  for r in series]
        points += [{"kind": "crossover", "authority": c["authority"], "unit": c["unit"],
                    "month": c["month"].isoformat(), "country": label[c["country_iso2"]],
                    "designations": c["designations"],
                    "passed": f"{label[c['country_iso2']]} passed {label[c['overtaken_iso2']]} "
                              f"({c['designations']} vs {c['overtaken_designations']})"} for c in crossings]
        frame = pd.DataFrame(points)
        frame["authority_label"] = frame["authority"].map(_authority_label)
        order = [_authority_label(x) for x in sorted(frame["authority"].unique(), key=_authority_order)]
        lines = alt.Chart().mark_line(interpolate="step-after").encode(
            x=alt.X("month:T", title=None),
            y=alt.Y("designations:Q", title="designations in force"),
            color=alt.Color("country:N", title="country"),
            strokeDash=alt.StrokeDash("unit:N", title="unit"),
            tooltip=["authority_label:N", "unit:N", "country:N", "month:T", "designations:Q"],
        ).transform_filter(alt.datum.kind == "series")
        marks = alt.Chart().mark_point(size=90, filled=True, shape="diamond").encode(
            x="month:T", y="designations:Q", color=alt.Color("country:N"),
            tooltip=["authority_label:N", "unit:N", "month:T", "passed:N"],
        ).transform_filter(alt.datum.kind == "crossover")
        chart = alt.layer(lines, marks, data=frame).properties(width=230, height=150).facet(
            facet=alt.Facet("authority_label:N", title=None, sort=order), columns=4
        ).resolve_scale(y="independent")
        out.append(charts.add("chart-pair", chart, f"{name_a} and {name_b} by authority over time"))
    else:
        out.append(_note(f"Neither {name_a} nor {name_b} is a programme target in this publication."))
    if crossings:
        rows = [(esc(_authority_label(c["authority"])), esc(c["unit"]), esc(f"{c['month']:%B %Y}"),
                 esc(f"{names.get(c['country_iso2'], c['country_iso2'])} passed "
                     f"{names.get(c['overtaken_iso2'], c['overtaken_iso2'])}"),
                 _num(c["designations"]), _num(c["overtaken_designations"])) for c in crossings]
        out.append(_table(["authority", "unit", "month", "crossover", "count", "the other's count"], rows,
                          "crossovers"))
    elif series:
        out.append(_note(f"No month where {name_a}'s count passed {name_b}'s or the reverse under any authority."))
    out.append(_rank_chart(db, charts, where, unit))
    out += [_note(n) for n in notes]
    out.append("</section>")
    return "".join(out)


def _rank_chart(db: _Reader, charts: _Charts, where: str, unit: str) -> str:
    """The rank, month by month, of today's top countries over all authorities (a line per unit)."""
    import altair as alt
    import pandas as pd

    if not db.has("mart_country_rankings_monthly", "rank", "country_name"):
        return _note("mart_country_rankings_monthly has no rank column in this publication: no rank chart.")
    rows = db.rows(f"""
        with monthly as (
            select {unit} as unit, cast(month as date) as month, country_iso2, country_name, rank, designations
            from mart_country_rankings_monthly
            where {where} and authority = 'all' and basis = 'program_target'
        ),
        top as (
            select unit, country_iso2 from monthly
            where month = (select max(month) from monthly) and rank <= ?
        )
        select monthly.* from monthly
        inner join top on monthly.unit = top.unit and monthly.country_iso2 = top.country_iso2
        where monthly.month >= (select max(month) from monthly) - interval 15 year
        order by unit, country_iso2, month""", [TOP_RANKED])
    if not rows:
        return _note("No country is ranked over all authorities in this publication.")
    frame = pd.DataFrame(rows)
    frame["month"] = frame["month"].map(lambda d: d.isoformat())
    chart = alt.Chart(frame).mark_line(interpolate="step-after").encode(
        x=alt.X("month:T", title=None),
        y=alt.Y("rank:Q", title="rank (1 = most designations in force)", scale=alt.Scale(reverse=True, zero=False)),
        color=alt.Color("country_name:N", title="country"),
        strokeDash=alt.StrokeDash("unit:N", title="unit"),
        tooltip=["unit:N", "country_name:N", "month:T", "rank:Q", "designations:Q"],
    ).properties(width=760, height=260, title=f"Rank over the last 15 years of today's top {TOP_RANKED} "
                                              "(all authorities, programme target)")
    return charts.add("chart-rank", chart, "rank over time of today's top countries")


def _ties_section(db: _Reader, charts: _Charts) -> str:
    import altair as alt
    import pandas as pd

    out = ['<section id="ties"><h2>The closest ties</h2>']
    lacking = db.missing("mart_dyad_ties", "period_type", "period", "country_a", "country_b", "tie_index")
    if lacking:
        return "".join([*out, _note(lacking + ": no tie index."), "</section>"])
    columns = db.columns["mart_dyad_ties"]
    scores = [c for c in columns if c.endswith("_score")]
    rank = "tie_rank" if "tie_rank" in columns else "null"
    names = ("country_a_name", "country_b_name") if db.has("mart_dyad_ties", "country_a_name", "country_b_name") \
        else ("country_a", "country_b")
    used = "index_component_list" if "index_component_list" in columns else "null"
    latest = db.rows("""select max(period) as period from mart_dyad_ties
                        where period_type = 'year' and tie_index is not null""")[0]["period"]
    if latest is None:
        return "".join([*out, _note("No year has a tie index in this publication."), "</section>"])
    ties = db.rows(f"""
        select country_a, country_b, {names[0]} as name_a, {names[1]} as name_b, tie_index, {rank} as tie_rank,
               {used} as used{''.join(f', {c}' for c in scores)}
        from mart_dyad_ties
        where period_type = 'year' and period = ? and tie_index is not null
        order by tie_index desc, country_a, country_b limit ?""", [latest, TOP_TIES])
    out.append(f"<p>The {len(ties)} pairs with the highest tie index in {esc(latest)} (the latest year with an "
               "index), and the score of each component (0 to 1: the pair's percentile among all pairs that "
               "year; the index is their weighted mean, docs/tie_index.md).</p>")
    if scores:
        long = [{"pair": f"{t['name_a']} – {t['name_b']}", "component": c.removesuffix("_score"),
                 "score": t[c], "tie_index": t["tie_index"]} for t in ties for c in scores]
        frame = pd.DataFrame(long)
        order = [f"{t['name_a']} – {t['name_b']}" for t in ties]
        heat = alt.Chart(frame).mark_rect().encode(
            x=alt.X("component:N", title="component score", sort=[c.removesuffix("_score") for c in scores]),
            y=alt.Y("pair:N", title=None, sort=order),
            color=alt.Color("score:Q", scale=alt.Scale(domain=[0, 1], scheme="blues"), title="score"),
            tooltip=["pair:N", "component:N", alt.Tooltip("score:Q", format=".3f")],
        ).properties(width=40 * len(scores), height=18 * len(ties))
        bars = alt.Chart(frame.drop_duplicates("pair")).mark_bar().encode(
            x=alt.X("tie_index:Q", title="tie index", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("pair:N", title=None, sort=order, axis=None),
            tooltip=["pair:N", alt.Tooltip("tie_index:Q", format=".3f")],
        ).properties(width=200, height=18 * len(ties))
        out.append(charts.add("chart-ties", alt.hconcat(heat, bars), f"top tie pairs of {latest} with components"))
    else:
        out.append(_note("mart_dyad_ties has no component score columns (*_score) in this publication."))
    used_lists = sorted({t["used"] for t in ties if t["used"]})
    if used_lists:
        out.append("<p>Components in the index: " + "; ".join(esc(u.replace(",", ", ")) for u in used_lists)
                   + " (a component whose source does not cover the year is left out for every pair).</p>")
    headers = ["rank", "pair", "tie index", *[c.removesuffix("_score") for c in scores]]
    rows = [(_num(t["tie_rank"]), esc(f"{t['name_a']} ({t['country_a']}) – {t['name_b']} ({t['country_b']})"),
             _num(t["tie_index"]), *[_num(t[c]) for c in scores]) for t in ties]
    out.append(_table(headers, rows, "ties"))
    out.append("</section>")
    return "".join(out)


def _evidence_section(db: _Reader, pair: tuple[str, str], names: dict[str, str]) -> str:
    first, second = sorted(pair)
    title = f"{names.get(pair[0], pair[0])} and {names.get(pair[1], pair[1])}: the evidence"
    out = [f'<section id="evidence"><h2>{esc(title)}</h2>']
    lacking = db.missing("mart_dyad_evidence", "evidence_kind", "country_a", "country_b")
    if lacking:
        return "".join([*out, _note(lacking + ": no evidence."), "</section>"])
    cols = db.columns["mart_dyad_evidence"]

    def col(name: str) -> str:
        return name if name in cols else f"null as {name}"

    events = db.rows(f"""
        select {col('evidence_date')}, {col('source')}, {col('component')}, {col('modality')}, {col('direction')},
               {col('quote')}, {col('url')}, {col('record_id')}
        from mart_dyad_evidence where evidence_kind = 'event' and country_a = ? and country_b = ?
        order by quote is null, evidence_date desc, record_id limit ?""", [first, second, EVIDENCE_ROWS])
    out.append("<h3>Events (articles and GDELT)</h3>")
    if events:
        rows = []
        for e in events:
            quote = f"<q>{esc(e['quote'])}</q>" if e["quote"] else '<span class="muted">no sentence quoted</span>'
            rows.append((esc(e["evidence_date"]), esc(e["source"]), esc(e["component"]), esc(e["modality"]),
                         esc(e["direction"]), quote, link(e["url"], "source") if e["url"] else "–"))
        out.append(_table(["date", "source", "relation", "modality", "direction", "quoted sentence", "link"], rows,
                          "evidence"))
    else:
        out.append(_note("No event between the pair in the articles or GDELT files."))
    sanctions = db.rows(f"""
        select {col('source')}, {col('component')}, {col('name')}, {col('detail')}, {col('record_id')}
        from mart_dyad_evidence where evidence_kind = 'sanctions' and country_a = ? and country_b = ?
        order by source, component, name limit ?""", [first, second, EVIDENCE_ROWS])
    total = db.rows("""select count(*) as n from mart_dyad_evidence
                       where evidence_kind = 'sanctions' and country_a = ? and country_b = ?""",
                    [first, second])[0]["n"]
    out.append(f"<h3>Sanctions ties ({_num(total)})</h3>")
    if sanctions:
        out.append(_table(["authority", "tie", "designation", "detail", "record"],
                          [(esc(s["source"]), esc(s["component"]), esc(s["name"]), esc(s["detail"]),
                            esc(s["record_id"])) for s in sanctions], "evidence"))
        if total > len(sanctions):
            out.append(_note(f"The first {len(sanctions)} of {total}; every one is in mart_dyad_evidence."))
    else:
        out.append(_note("No designation ties the pair."))
    out.append("<h3>UN General Assembly</h3>")
    if db.has("mart_unga_agreement", "period_type", "period", "agreement", "common_votes"):
        kappa = "kappa" if db.has("mart_unga_agreement", "kappa") else "null as kappa"
        votes = db.rows(f"""
            select period, common_votes, agreement, {kappa} from mart_unga_agreement
            where period_type = 'session' and country_a = ? and country_b = ? and agreement is not null
            order by period desc limit 5""", [first, second])
        if votes:
            out.append(_table(["session", "common votes", "agreement", "kappa"],
                              [(esc(v["period"]), _num(v["common_votes"]), _num(v["agreement"]), _num(v["kappa"]))
                               for v in votes]))
        else:
            out.append(_note("No session with enough common votes of the pair."))
    else:
        out.append(_note("mart_unga_agreement is not in this publication."))
    out.append("</section>")
    return "".join(out)


def _generic_table(db: _Reader, table: str, where: str = "true", limit: int = 200) -> tuple[str, int]:
    rows = db.rows(f"select * from {table} where {where} limit ?", [limit])
    if not rows:
        return "", 0
    headers = list(rows[0])
    cells = [[link(r[h]) if h.endswith("url") and r[h] else _num(r[h]) for h in headers] for r in rows]
    return _table(headers, cells), len(rows)


def _freshness_section(db: _Reader, manifest: dict) -> str:
    out = ['<section id="freshness"><h2>Freshness</h2>']
    if "mart_source_freshness" in db.columns:
        cols = db.columns["mart_source_freshness"]
        stale_col = next((c for c in ("is_stale", "stale") if c in cols), None)
        table, n = _generic_table(db, "mart_source_freshness")
        if stale_col:
            stale = [r["source"] for r in db.rows(
                f"select source from mart_source_freshness where {stale_col} order by 1")] if "source" in cols else []
            out.append(f'<p class="{"warn" if stale else "ok"}">'
                       + (f"Stale: {esc(', '.join(stale))}." if stale else "No source is stale.") + "</p>")
        out.append(table or _note("mart_source_freshness is empty."))
    else:
        out.append(_note("mart_source_freshness is not in this publication: the snapshots this release was built "
                         "from are below (release.json), without fetch times or lags."))
        snaps = manifest.get("source_snapshots") or {}
        out.append(_table(["source", "snapshot"], [(esc(s), esc(d)) for s, d in sorted(snaps.items())]))
    out.append("</section>")
    return "".join(out)


def _validation_summary(release_dir: Path) -> tuple[list[dict], str | None]:
    """The latest result of every suite (per run name) from the release's offline Data Docs summary."""
    path = release_dir / DATA_DOCS_SUMMARY
    try:
        results = json.loads(path.read_text(encoding="utf-8"))["results"]
    except FileNotFoundError:
        return [], f"{DATA_DOCS_SUMMARY} is not in this release: no Great Expectations results to show"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [], f"{DATA_DOCS_SUMMARY} cannot be read: {exc}"
    latest: dict[tuple, dict] = {}
    for r in results:
        key = (r.get("suite"), r.get("run_name"))
        if key not in latest or str(r.get("run_time")) > str(latest[key].get("run_time")):
            latest[key] = r
    return sorted(latest.values(), key=lambda r: (str(r.get("suite")), str(r.get("run_name") or ""))), None


def _quality_section(db: _Reader, release_dir: Path) -> str:
    out = ['<section id="quality"><h2>Data quality</h2>',
           f'<p>Great Expectations Data Docs (offline): <a href="{esc(DATA_DOCS_INDEX)}">{esc(DATA_DOCS_INDEX)}</a>'
           "</p>"]
    results, problem = _validation_summary(release_dir)
    if problem:
        out.append(_note(problem))
    if results:
        failed = [r for r in results if r.get("critical_failed")]
        warned = [r for r in results if r.get("warnings_failed")]
        out.append(f'<p class="{"warn" if failed else "ok"}">{len(results)} suite result(s), the latest of each suite '
                   f"and run: {len(failed)} with a critical failure, {len(warned)} with warnings.</p>")
        rows = []
        for r in results:
            status = ("failed" if r.get("critical_failed") else
                      "passed with warnings" if r.get("warnings_failed") else "passed")
            page = r.get("page")
            name = (f'<a href="data_docs/{esc(page)}">{esc(r.get("suite"))}</a>'
                    if isinstance(page, str) and not page.startswith(("/", "\\")) and ".." not in page
                    and ":" not in page else esc(r.get("suite")))
            rows.append((name, esc(r.get("run_name") or ""), esc(r.get("run_time")), esc(status),
                         _num(r.get("evaluated")), _num(r.get("critical_failed")), _num(r.get("warnings_failed"))))
        out.append(_table(["suite", "run", "validated at", "status", "expectations", "critical failed",
                           "warnings"], rows, "gx"))
    out.append("<h3>Parser audit (parse_audit of the current snapshots)</h3>")
    if db.has("lake.parse_audit", "source", "rule", "occurrences"):
        current = ("where (source, snapshot_date) in (select source, snapshot_date from int_current_snapshots)"
                   if db.has("int_current_snapshots", "source", "snapshot_date")
                   and db.has("lake.parse_audit", "snapshot_date") else "")
        field = "min(field)" if db.has("lake.parse_audit", "field") else "null"
        example = "min(example_record)" if db.has("lake.parse_audit", "example_record") else "null"
        audit = db.rows(f"""
            select source, rule, count(*) as kinds, sum(occurrences) as occurrences,
                   {field} as field, {example} as example
            from lake.parse_audit {current}
            group by source, rule order by source, rule""")
        if audit:
            out.append(_table(["source", "rule", "distinct values", "occurrences", "e.g. field", "e.g. record"],
                              [(esc(a["source"]), esc(a["rule"]), _num(a["kinds"]), _num(a["occurrences"]),
                                esc(a["field"]), esc(a["example"])) for a in audit], "audit"))
        else:
            out.append(_note("The parsers recorded nothing for the current snapshots."))
    else:
        out.append(_note("lake.parse_audit is not in this publication."))
    facts = []
    if db.has("mart_unmapped_countries", "status", "occurrences"):
        unmapped = {r["status"]: r["n"] for r in db.rows(
            "select status, sum(occurrences) as n from mart_unmapped_countries group by 1")}
        facts.append(f"{unmapped.get('unknown', 0) or 0} country link(s) with a value the crosswalk does not know "
                     f"(mart_unmapped_countries)")
    if db.has("mart_unknown_programs", "designations"):
        unknown = db.rows("select count(*) as n, coalesce(sum(designations), 0) as d from mart_unknown_programs")[0]
        facts.append(f"{unknown['n']} programme tag(s) without a target on {unknown['d']} designation(s) "
                     f"(mart_unknown_programs)")
    if facts:
        out.append("<p>" + esc("; ".join(facts)) + ".</p>")
    out.append("</section>")
    return "".join(out)


def _partial_section(db: _Reader) -> str:
    out = ['<section id="partial"><h2>What is partial</h2>']
    lacking = db.missing("mart_partial_inputs", "is_current")
    if lacking:
        out.append(_note(lacking + "."))
    else:
        cols = db.columns["mart_partial_inputs"]
        wanted = [c for c in ("source", "snapshot_date", "reason", "component", "missing", "cannot_show", "raw_file")
                  if c in cols]
        gaps = db.rows(f"select {', '.join(wanted)} from mart_partial_inputs where is_current order by all")
        if gaps:
            out.append('<p class="warn">These current snapshots are not whole lists: the figures count what they '
                       "hold and cannot show what they lack.</p>")
            out.append(_table(wanted, [[esc(g[c]) for c in wanted] for g in gaps], "partial"))
        else:
            out.append('<p class="ok">Every current snapshot is a whole list (mart_partial_inputs).</p>')
    out.append("</section>")
    return "".join(out)


# ------------------------------------------------------------------------------------ the page


_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1180px;
padding:0 24px 48px;color:#1d2733;background:#fff}
header{border-bottom:2px solid #1d4f91;margin-bottom:8px}h1{font-size:26px;margin:20px 0 4px}
h2{font-size:20px;margin:32px 0 8px;border-bottom:1px solid #d5dbe3;padding-bottom:4px}
h3{font-size:16px;margin:18px 0 6px}
nav a{margin-right:14px}table{border-collapse:collapse;margin:8px 0 12px;font-size:13px;width:100%}
th,td{border:1px solid #d5dbe3;padding:4px 6px;text-align:left;vertical-align:top}th{background:#eef2f7}
td q{font-style:italic}.note{color:#5a6675;font-style:italic}.muted{color:#8a94a3}
.warn{background:#fff4e5;border-left:4px solid #e08a00;padding:6px 10px}
.ok{border-left:4px solid #2e8540;padding:6px 10px}
.demo{background:#fde8e8;border-left:4px solid #c0392b;padding:8px 12px}.chart{margin:12px 0;min-height:40px}
.meta{color:#5a6675;font-size:13px}.scroll{overflow-x:auto}
"""


def _csp(scripts: Sequence[str]) -> str:
    """No network, no file: only the page's own scripts run (by hash); Vega compiles its expressions
    with Function(), hence 'unsafe-eval'."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts)
    return (f"default-src 'none'; script-src {hashes} 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:; "
            "font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'")


def render(con: duckdb.DuckDBPyConnection, settings: Settings, release_dir: Path, manifest: dict,
           bundle: str | None = None) -> str:
    """The report page of the publication open on ``con`` (the release's own database)."""
    from pipeline.report import _demo_sources, _source_snapshots

    db = _Reader(con)
    charts = _Charts()
    pair = settings.headline_pair
    names = {}
    if db.has("stg_ref__countries", "country_iso2", "country_name"):
        names = {r["country_iso2"]: r["country_name"] for r in db.rows(
            "select country_iso2, country_name from stg_ref__countries where country_iso2 in (?, ?)", list(pair))}
    demo: list[str] = []
    try:
        demo = _demo_sources(_source_snapshots(con), settings)
    except duckdb.Error as exc:  # a lake table this publication lacks
        log.warning("report: the demo-data check could not run: %s", exc)
    sections = [
        _ranking_section(db, charts, pair, names),
        _ties_section(db, charts),
        _evidence_section(db, pair, names),
        _freshness_section(db, manifest),
        _quality_section(db, release_dir),
        _partial_section(db),
    ]
    title = "Sanctions and alignment: release report"
    banner = ""
    if demo:
        banner = (f'<p class="demo"><strong>Demo data</strong> ({esc(", ".join(demo))}): these figures come from the '
                  "small demo files shipped in data/demo. They show the method and the shape of the answers, not "
                  "the real size of any list, a real ranking or a real tie index.</p>")
    draw = _DRAW
    scripts = [bundle if bundle is not None else _vega_bundle(), draw] if charts.specs else []
    script_tags = "".join(f"<script>{s}</script>" for s in scripts)
    nav = "".join(f'<a href="#{i}">{esc(t)}</a>' for i, t in (
        ("ranking", "ranking"), ("ties", "ties"), ("evidence", "evidence"), ("freshness", "freshness"),
        ("quality", "data quality"), ("partial", "partial")))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{esc(_csp(scripts))}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{esc(title)}</h1>"
        f'<p class="meta">Release {esc(manifest.get("run_id", "?"))}, '
        f'published {esc(manifest.get("published_at", "?"))}'
        f" · database sanctions.duckdb beside this file · "
        f'<a href="{esc(DATA_DOCS_INDEX)}">Data Docs</a> · <a href="headline.txt">headline.txt</a></p>'
        f"<nav>{nav}</nav></header>{banner}"
        "<noscript><p class=\"warn\">The charts need JavaScript; the tables hold the same figures.</p></noscript>"
        + "".join(sections)
        + f'<script type="application/json" id="chart-specs">{_script_json(charts.specs)}</script>'
        + script_tags + "</body></html>\n"
    )


def write_report(release_dir: Path, settings: Settings, manifest: dict) -> Path:
    """Write ``report.html`` into ``release_dir`` (a temporary file renamed into place: a reader sees
    the whole page or none) from the release's own database."""
    db_path = release_dir / "sanctions.duckdb"
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        page = render(con, settings, release_dir, manifest)
    finally:
        con.close()
    target = release_dir / REPORT_FILE
    tmp = release_dir / f".{REPORT_FILE}.tmp"
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("HTML report written to %s (%d bytes)", target, len(page))
    return target


def headline_line(settings: Settings) -> str:
    """The headline's line for the report of the current release (or why it has none)."""
    current = settings.current_release
    path = current / REPORT_FILE
    if path.is_file():
        return f"  HTML report   {path}"
    manifest_path = current / "release.json"
    try:
        error = json.loads(manifest_path.read_text(encoding="utf-8")).get("report_error")
    except (OSError, ValueError, AttributeError):
        error = None
    return (f"  HTML report   none in this release: {error}" if error
            else "  HTML report   none in this release (published before the report existed)")


def release_report(release_dir: Path, settings: Settings, manifest: dict) -> dict:
    """Write the release's report, for :func:`pipeline.publish.publish` before the release is swapped in;
    returns what ``release.json`` records: ``{"report": "report.html"}``, or ``{"report_error": why}``.

    A report that cannot be written never stops the publication: the database, its marts and Data Docs
    passed every check and are what readers and the next run depend on, while the report is a view of
    them that can be written again from the same release (``pipeline.html_report.write_report``).
    Failing the run would keep yesterday's data current over a rendering problem. The failure is said
    on the terminal and in the log, recorded in ``release.json`` and named by the headline. A stop
    request or an interrupt (not an ``Exception``) still ends the publication."""
    try:
        write_report(release_dir, settings, manifest)
    except Exception as exc:  # noqa: BLE001 - see the docstring: the publication goes ahead without it
        from pipeline import progress

        why = f"{type(exc).__name__}: {exc}"
        log.warning("the HTML report of %s could not be written (%s); publishing without it", release_dir.name, why,
                    exc_info=True)
        progress.notice(f"the HTML report could not be written ({why}); the release is published without it")
        return {"report_error": why}
    return {"report": REPORT_FILE}
