"""Landing one source's inputs with a record of every check; in live mode, conditionally.

:func:`land_source` copies or downloads a source's inputs into the raw store (:mod:`pipeline.raw`)
and returns its batch. In live mode (``PIPELINE_LIVE=1``) a URL is fetched against what the lake
last *published* from it (``lake/raw/fetch_state.json``: ETag, Last-Modified, sha256, sha1 per
URL, written atomically when a run publishes):

- the validators go out as If-None-Match / If-Modified-Since, and an HTTP 304 lands nothing;
- where the publisher lists checksums beside its files (``checksums: index.json`` in the
  source.yml: OpenSanctions' dataset index gives each resource's SHA-1), a checksum equal to the
  published copy's skips the download altogether;
- a 200 whose body has the published copy's sha256 is unchanged too.

A source whose every URL is unchanged is not parsed again: its batch says ``unchanged`` and the
lake's current snapshot of it stays. The validators are committed only when the run publishes
(:func:`commit`): a run that fails after landing new content fetches and parses it again next time.

Every check, changed or not, and every snapshot a run publishes is a line of
``lake/raw/fetch_log.jsonl`` (:func:`read_log`); :mod:`pipeline.freshness` turns the log into the
``lake.fetch_events`` table of the build, from which ``mart_source_freshness`` is computed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pipeline import lakefs, raw
from pipeline.settings import Settings

log = logging.getLogger(__name__)

#: What a check found (``outcome`` of a check event).
NEW = "new"  # first fetch of the URL (nothing published from it yet)
CHANGED = "changed"  # a body other than the published copy
NOT_MODIFIED = "not_modified"  # HTTP 304 to the published copy's validators
SAME_CONTENT = "same_content"  # HTTP 200, the published copy's sha256
SAME_CHECKSUM = "same_checksum"  # the publisher's index gives the published copy's checksum: not downloaded
COPIED = "copied"  # a local file (demo files, --input): copied, never skipped
UNCHANGED = (NOT_MODIFIED, SAME_CONTENT, SAME_CHECKSUM)

_INDEX_CAP = 16 << 20


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _is_url(origin: str) -> bool:
    return origin.startswith(("http://", "https://"))


# --- state and log ------------------------------------------------------------------------------

@contextlib.contextmanager
def _locked(settings: Settings) -> Iterator[None]:
    """Serialise read-modify-writes of the state and appends to the log (parallel land tasks)."""
    settings.raw_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(settings.raw_dir / ".fetch.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def load_state(settings: Settings) -> dict[str, dict]:
    """``{url: what the lake last published from it}``; empty when there is none or it is unreadable
    (then every URL is fetched in full: the safe side)."""
    path = settings.fetch_state_path
    lakefs.pull_fetch_state(settings)  # the lake on an object store: what any node last published
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        urls = data["urls"]
        if not isinstance(urls, dict):
            raise TypeError("urls is not a mapping")
        return urls
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("%s cannot be read (%s): every URL is fetched in full", path, exc)
        return {}


def _write_state(settings: Settings, urls: dict[str, dict]) -> None:
    path = settings.fetch_state_path
    tmp = path.with_name(f".{path.name}-{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"version": 1, "urls": urls}, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _append_log(settings: Settings, events: list[dict]) -> None:
    if not events:
        return
    text = "".join(json.dumps(e, sort_keys=True) + "\n" for e in events)
    with open(settings.fetch_log_path, "a+b") as fh:
        if fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":  # a line cut short by a kill or a full disk: start a new one
                text = "\n" + text
        fh.write(text.encode("utf-8"))
        fh.flush()
    lakefs.append_fetch_log(settings, events)  # the lake on an object store: the shared log


def read_log(settings: Settings) -> list[dict]:
    """Every event of the fetch log, oldest first (a damaged line is skipped with a warning)."""
    path = settings.fetch_log_path
    shared = lakefs.fetch_log_lines(settings)  # the lake on an object store: every node's events
    if shared is None and not path.exists():
        return []
    events = []
    with contextlib.ExitStack() as stack:
        lines = ((where, n, line) for n, (where, line) in enumerate(shared, 1)) if shared is not None else (
            (path, n, line) for n, line in enumerate(stack.enter_context(
                open(path, encoding="utf-8", errors="replace")), 1))
        for where, number, line in lines:
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                log.warning("%s line %d is damaged (cut short by a kill?); skipped", where, number)
                continue
            if isinstance(event, dict):
                events.append(event)
    return events


def _last_checks(settings: Settings) -> dict[str, dict]:
    """The latest check event of every origin."""
    return {e["origin"]: e for e in read_log(settings) if e.get("event") == "check" and e.get("origin")}


# --- one source -------------------------------------------------------------------------------

def land_source(settings: Settings, source_id: str) -> dict:
    """Land one source's inputs (:func:`pipeline.flow.source_inputs`) and log each check; returns its
    batch: ``source``, ``demo``, ``files`` (raw records), ``unchanged`` (live mode: every URL is
    what the lake published, so the source is not parsed again) and ``fetch`` (the check events,
    committed to the state when the run publishes)."""
    from pipeline.flow import source_inputs
    from pipeline.locking import check_stop

    inputs, demo = source_inputs(settings, source_id)
    with _locked(settings):
        published = load_state(settings)
        previous = _last_checks(settings)
    files, events = [], []
    landing = uuid.uuid4().hex  # the checks of this landing of the source, together
    for origin in inputs:
        check_stop("land")
        conditional = settings.live and _is_url(origin)
        record, event = _check(source_id, origin, settings, published.get(origin) if conditional else None,
                               conditional)
        before = previous.get(origin)
        event["demo"] = demo
        event["landing_id"] = landing
        event["changed"] = not (before and before.get("sha256") == event["sha256"])
        event["content_since"] = (before.get("content_since") or before.get("checked_at")
                                  if not event["changed"] else event["checked_at"])
        files.append(record.to_dict())
        events.append(event)
    with _locked(settings):
        _append_log(settings, events)
    unchanged = bool(events) and all(e["outcome"] in UNCHANGED for e in events)
    if unchanged:
        log.info("[%s] unchanged since the lake's snapshot (%s): not parsed again", source_id,
                 ", ".join(sorted({e["outcome"] for e in events})))
    return {"source": source_id, "demo": demo, "files": files, "unchanged": unchanged, "fetch": events}


def _stored(settings: Settings, source: str, published: dict | None) -> Path | None:
    """The raw store's copy of what was published from a URL, if the store still has it."""
    if not published or not published.get("sha256") or not published.get("file"):
        return None
    sha, file = str(published["sha256"]), Path(str(published["file"])).name
    path = settings.raw_dir / source / sha[:2] / file
    return path if path.is_file() and file.startswith(sha) else None


def _check(source: str, origin: str, settings: Settings, published: dict | None,
           conditional: bool) -> tuple[raw.RawFile, dict]:
    """Land ``origin`` (conditionally against ``published`` when ``conditional``): its raw record and
    the check event."""
    checked_at = _now()
    stored = _stored(settings, source, published) if conditional else None
    answer = raw.Answer(0)
    record: raw.RawFile | None = None
    outcome = None
    if stored is not None:
        checksum = _publisher_checksum(source, origin, settings)
        if checksum and checksum == published.get("sha1"):
            outcome = SAME_CHECKSUM
    if outcome is None:
        validators = published if stored is not None else None
        record, answer = raw.fetch(source, origin, settings, validators=validators)
        if record is None:
            outcome = NOT_MODIFIED
        elif not conditional:
            outcome = COPIED if not _is_url(origin) else CHANGED
        elif published and record.sha256 == published.get("sha256"):
            outcome = SAME_CONTENT
        else:
            outcome = CHANGED if published else NEW
    if record is None:  # the published copy, confirmed now
        record = raw.RawFile(source=source, name=str(published.get("name") or stored.name), origin=origin,
                             sha256=str(published["sha256"]), bytes=int(published.get("bytes") or 0),
                             fetched_at=checked_at, path=str(stored))
    event = {
        "event": "check",
        "source": source,
        "origin": origin,
        "name": record.name,
        "checked_at": checked_at,
        "outcome": outcome,
        "http_status": answer.status or None,
        "sha256": record.sha256,
        "sha1": answer.sha1 or ((published or {}).get("sha1") if outcome in UNCHANGED else None),
        "bytes": record.bytes,
        "file": Path(record.path).name,
        # a 304 need not repeat the validators: keep the published ones
        "etag": answer.etag or ((published or {}).get("etag") if outcome in UNCHANGED else None),
        "last_modified": answer.last_modified or ((published or {}).get("last_modified")
                                                  if outcome in UNCHANGED else None),
        "content_type": answer.content_type,
    }
    log.info("[%s] %s: %s", source, origin, outcome.replace("_", " "))
    return record, event


def _publisher_checksum(source: str, origin: str, settings: Settings) -> str | None:
    """The checksum the publisher lists for ``origin``'s file (``checksums: index.json`` in the
    source.yml: the JSON index beside the file, ``resources`` with ``name``/``path``/``url`` and a
    SHA-1 ``checksum``), or None when there is none or the index cannot be read (then the file is
    fetched conditionally as any other: the index only spares a download)."""
    from pipeline import jsonsafe

    index_name = fetch_options(source).get("checksums")
    if not index_name or not _is_url(origin):
        return None
    index_url = urllib.parse.urljoin(origin, str(index_name))
    request = urllib.request.Request(index_url, headers={"User-Agent": "sanctions-pipeline"})
    try:
        with urllib.request.urlopen(request, timeout=settings.fetch_timeout) as resp:  # noqa: S310
            data = resp.read(_INDEX_CAP + 1)
        if len(data) > _INDEX_CAP:
            raise ValueError(f"over {_INDEX_CAP} bytes")
        index = jsonsafe.loads(data)
    except (OSError, ValueError) as exc:
        log.warning("[%s] the checksum index %s cannot be read (%s): fetching %s conditionally", source,
                    index_url, exc, origin)
        return None
    name = os.path.basename(urllib.parse.urlsplit(origin).path)
    resources = index.get("resources") if isinstance(index, dict) else None
    for item in resources if isinstance(resources, list) else []:
        if isinstance(item, dict) and (item.get("url") == origin or name in (item.get("name"), item.get("path"))):
            checksum = item.get("checksum")
            return checksum.lower() if isinstance(checksum, str) else None
    return None


def fetch_options(source: str) -> dict:
    """The live-fetch keys of a source's ``source.yml`` (``checksums``), read as data."""
    import yaml

    from pipeline.sources.base import SOURCES_DIR

    path = SOURCES_DIR / source / "source.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {k: data[k] for k in ("checksums",) if k in (data or {})}


# --- after the run ------------------------------------------------------------------------------

def pending_dir(settings: Settings, run_id: str) -> Path:
    """Where a run keeps the snapshot events of what it parsed until it publishes."""
    from pipeline.flow import run_dir

    return run_dir(settings, run_id) / "fetch"


def record_parse(settings: Settings, run_id: str, batch: dict, result: dict | None) -> None:
    """Keep, until the run's snapshots join the lake (:func:`commit`), what a run did with ``batch``:
    its check events, and the snapshot it parsed from them (its date, and whether the file dated it;
    ``result`` None: unchanged, not parsed). The build reads them beside the log."""
    events = batch.get("fetch") or []
    pending = {"checks": events, "parse": None}
    if result is not None:
        modified = [e["last_modified"] for e in events if e.get("last_modified")]
        pending["parse"] = {
            "event": "parse",
            "source": batch["source"],
            "checked_at": _now(),
            "snapshot_date": result["snapshot_date"],
            "dated_by_file": bool(result.get("snapshot_from_file")),
            "last_modified": _latest_http_date(modified),
            "demo": bool(batch.get("demo")),
            "sha256": ";".join(sorted(f["sha256"] for f in batch["files"])),
            # what an unchanged re-run compares with (pipeline/rerun.py unchanged_snapshot)
            "files": sorted(f["name"] for f in batch["files"]),
            "parse_fingerprint": result.get("parse_fingerprint"),
        }
    folder = pending_dir(settings, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{batch['source']}.json").write_text(json.dumps(pending, sort_keys=True), encoding="utf-8")


def _pending(settings: Settings, run_id: str) -> list[dict]:
    folder = pending_dir(settings, run_id)
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def pending_events(settings: Settings, run_id: str) -> list[dict]:
    """The snapshot events of what the run parsed, not yet in the log."""
    return [p["parse"] for p in _pending(settings, run_id) if p.get("parse")]


def commit(settings: Settings, run_id: str) -> int:
    """Once the run's snapshots are in the lake (:func:`pipeline.flow.commit_staged`): the validators
    of every URL it checked become the state the next run compares with, and the snapshots it
    parsed join the log. Returns the URLs committed."""
    pending = _pending(settings, run_id)
    entries = [e for p in pending for e in p.get("checks") or [] if _is_url(e.get("origin", ""))]
    with lakefs.fetch_state_lease(settings), _locked(settings):
        state = load_state(settings)
        for e in entries:
            state[e["origin"]] = {k: e.get(k) for k in ("source", "name", "sha256", "sha1", "bytes", "file", "etag",
                                                         "last_modified", "checked_at")}
        if entries:
            _write_state(settings, state)
            lakefs.push_fetch_state(settings)  # the lake on an object store: for every node's next fetch
        _append_log(settings, [p["parse"] for p in pending if p.get("parse")])
    if pending:
        for path in pending_dir(settings, run_id).glob("*.json"):
            path.unlink()  # committed once, even when the step is run again
    return len(entries)


def _latest_http_date(values: list[str]) -> str | None:
    """The latest of HTTP dates (Last-Modified), as ISO-8601 UTC; None when none can be read."""
    from email.utils import parsedate_to_datetime

    found = []
    for value in values:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        found.append(when if when.tzinfo else when.replace(tzinfo=UTC))
    return max(found).astimezone(UTC).isoformat(timespec="seconds") if found else None
