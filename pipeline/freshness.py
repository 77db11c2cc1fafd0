"""Source freshness: each source's cadence, the build's view of the fetch log, the headline's lines.

- :func:`cadence`: how often a source's authority publishes and how many days old its latest file
  may be (``cadence:`` in its ``source.yml``: ``publishes``, ``max_lag_days``, ``fetch``, ``note``).
- :func:`write_build_inputs`: the fetch log (:mod:`pipeline.fetch`: every check of every input, every
  snapshot that joined the lake) with this run's own snapshots, and every source's cadence, as two
  Parquet files under ``_fetch/`` beside the staged tables; the dbt models ``lake.fetch_events`` and
  ``lake.source_cadence`` read them, ``mart_source_freshness`` computes from them.
- :func:`headline_lines`: the headline's paragraph naming the stale sources.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import duckdb

from pipeline.settings import Settings

log = logging.getLogger(__name__)

#: What ``cadence.publishes`` may say.
PUBLISHES = ("daily", "weekly", "monthly", "yearly", "irregular")


@dataclass(frozen=True)
class Cadence:
    """A source's publication rhythm (``cadence:`` in its source.yml)."""

    source: str
    publishes: str
    #: Days the latest file may be behind the last check before the source is stale (None: not judged).
    max_lag_days: int | None
    fetch: str
    note: str = ""


def cadence(source: str) -> Cadence:
    """The ``cadence:`` of ``source``'s source.yml; ValueError naming the file and the key when it is
    not a mapping with a known ``publishes`` and a whole, non-negative ``max_lag_days`` (or null)."""
    import yaml

    from pipeline.sources.base import SOURCES_DIR

    path = SOURCES_DIR / source / "source.yml"
    data = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("cadence") if path.exists() else None
    if data is None:
        return Cadence(source, "irregular", None, "daily", "source.yml states no cadence: not judged")
    if not isinstance(data, dict):
        raise ValueError(f"{path}: cadence must be a mapping (publishes, max_lag_days, fetch, note), got {data!r}")
    publishes = str(data.get("publishes", "")).lower()
    if publishes not in PUBLISHES:
        raise ValueError(f"{path}: cadence.publishes is {data.get('publishes')!r}, not one of {', '.join(PUBLISHES)}")
    lag = data.get("max_lag_days")
    if lag is not None and (isinstance(lag, bool) or not isinstance(lag, int) or lag < 0):
        raise ValueError(f"{path}: cadence.max_lag_days must be a whole number of days (or null), got {lag!r}")
    note = " ".join(str(data.get("note", "")).split())
    return Cadence(source, publishes, lag, str(data.get("fetch") or "daily"), note)


# --- the build's inputs -------------------------------------------------------------------------

def _when(value: object) -> datetime | None:
    """An ISO-8601 or HTTP date as naive UTC; None when it is neither."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        found = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            found = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if found.tzinfo is not None:
        found = found.astimezone(UTC).replace(tzinfo=None)
    return found


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _events_table(events: list[dict]):
    import pyarrow as pa

    schema = pa.schema([
        ("event", pa.string()), ("source", pa.string()), ("landing_id", pa.string()), ("origin", pa.string()),
        ("name", pa.string()), ("checked_at", pa.timestamp("s")), ("outcome", pa.string()),
        ("changed", pa.bool_()), ("content_since", pa.timestamp("s")), ("http_status", pa.int32()),
        ("sha256", pa.string()), ("bytes", pa.int64()), ("etag", pa.string()),
        ("last_modified", pa.timestamp("s")), ("content_type", pa.string()), ("demo", pa.bool_()),
        ("snapshot_date", pa.date32()), ("dated_by_file", pa.bool_()),
    ])
    rows = []
    for e in events:
        if e.get("event") not in ("check", "parse") or not e.get("source") or not _when(e.get("checked_at")):
            continue
        rows.append({
            "event": e["event"], "source": str(e["source"]), "landing_id": e.get("landing_id"),
            "origin": e.get("origin"), "name": e.get("name"), "checked_at": _when(e.get("checked_at")),
            "outcome": e.get("outcome") or ("parsed" if e["event"] == "parse" else None),
            "changed": e.get("changed"), "content_since": _when(e.get("content_since")),
            "http_status": e.get("http_status") if isinstance(e.get("http_status"), int) else None,
            "sha256": e.get("sha256"), "bytes": e.get("bytes") if isinstance(e.get("bytes"), int) else None,
            "etag": e.get("etag"), "last_modified": _when(e.get("last_modified")),
            "content_type": e.get("content_type"), "demo": bool(e.get("demo")),
            "snapshot_date": _day(e.get("snapshot_date")), "dated_by_file": e.get("dated_by_file"),
        })
    return pa.Table.from_pylist(rows, schema=schema)


def _cadence_table():
    import pyarrow as pa

    from pipeline.sources import known_sources, load_meta

    rows = []
    for source in known_sources():
        meta, found = load_meta(source), cadence(source)
        rows.append({"source": source, "authority": meta.authority, "title": meta.title,
                     "publishes": found.publishes, "max_lag_days": found.max_lag_days, "fetch_schedule": found.fetch,
                     "live": meta.live, "urls": ";".join(meta.urls), "note": found.note})
    schema = pa.schema([("source", pa.string()), ("authority", pa.string()), ("title", pa.string()),
                        ("publishes", pa.string()), ("max_lag_days", pa.int32()), ("fetch_schedule", pa.string()),
                        ("live", pa.bool_()), ("urls", pa.string()), ("note", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)


def write_build_inputs(settings: Settings, run_id: str, folder: Path) -> dict[str, int]:
    """Write ``fetch_events.parquet`` (the fetch log and this run's snapshots, not yet in it) and
    ``source_cadence.parquet`` into ``folder`` (``_fetch/`` of the build's lake view)."""
    import pyarrow.parquet as pq

    from pipeline.fetch import pending_events, read_log

    folder.mkdir(parents=True, exist_ok=True)
    events = _events_table([*read_log(settings), *pending_events(settings, run_id)])
    sources = _cadence_table()
    pq.write_table(events, folder / "fetch_events.parquet")
    pq.write_table(sources, folder / "source_cadence.parquet")
    return {"fetch_events": events.num_rows, "source_cadence": sources.num_rows}


# --- the headline ---------------------------------------------------------------------------------

def headline_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The headline's paragraph on freshness: every stale source named, with how far behind it is;
    one line when every judged source is within its cadence; nothing before any check was logged."""
    try:
        rows = con.execute("""
            select source, status, cast(lag_reference_date as varchar), lag_basis, lag_days, max_lag_days,
                   strftime(last_fetched_at, '%Y-%m-%d %H:%M'), strftime(last_changed_at, '%Y-%m-%d'),
                   last_fetch_outcome
            from mart_source_freshness order by source""").fetchall()
    except duckdb.CatalogException:  # a publication built before the mart existed
        return []
    if not rows:
        return []
    stale = [r for r in rows if r[1] == "stale"]
    fetched = [r[6] for r in rows if r[6]]
    if not stale:
        judged = [r[0] for r in rows if r[1] == "fresh"]
        if not judged:
            return []
        return ["", f"Freshness: {', '.join(judged)} within their cadence (last checked {max(fetched)} UTC; "
                    "mart_source_freshness)."] if fetched else []
    out = ["", f"STALE SOURCES ({', '.join(r[0] for r in stale)}): their latest file is older than their cadence "
               "allows; the figures below count it (mart_source_freshness):"]
    for source, _status, reference, basis, lag, allowed, last_fetch, changed, outcome in stale:
        checked = (f"last checked {last_fetch} UTC ({(outcome or '').replace('_', ' ')}), content unchanged since "
                   f"{changed}") if last_fetch else "never checked by a run that logs its fetches"
        out.append(f"  {source}: {_BASIS.get(basis, basis)} {reference}, {lag} days ago (allowed {allowed}); {checked}")
    return out


#: How the headline words each ``lag_basis`` of the mart.
_BASIS = {"file_date": "published (file date)", "last_modified": "published (server Last-Modified)",
          "first_seen": "content first seen", "snapshot_date": "snapshot"}
