"""Bronze layer: raw files kept exactly as fetched, content-addressed, with a manifest.

A landed file is stored once at ``lake/raw/<source>/<sha[:2]>/<sha256><ext>`` whatever it was
called outside; its origin (URL or path), fetch time, size and hash are appended to
``lake/raw/manifest.jsonl``. Names that come from outside never become paths.

A download (:func:`fetch`) may be conditional: given the validators of the copy the lake already
has (ETag, Last-Modified), an HTTP 304 lands nothing. Its first bytes are checked against the
source's layouts (``raw_kinds`` in its ``source.yml``) before a byte is written, so an HTML error
page is refused at the door whatever Content-Type it was served with. A body cut short (fewer bytes
than its Content-Length, or a connection cut) is a transient failure, tried again; nothing partial
is ever stored.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import socket
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline import lakefs
from pipeline.errors import SourceError
from pipeline.settings import Settings

log = logging.getLogger(__name__)

_SAFE_SUFFIXES = {".xml", ".csv", ".json", ".zip", ".gz", ".txt", ".tsv"}
_CHUNK = 1 << 20
_TRANSIENT_HTTP = {408, 425, 429}
_MAX_WAIT = 60.0


@dataclass(frozen=True)
class RawFile:
    """One landed file, as recorded in the manifest (JSON-serialisable for Airflow XCom)."""

    source: str
    name: str  # the file's own name outside (for messages only)
    origin: str  # URL or local path it came from
    sha256: str
    bytes: int
    fetched_at: str  # ISO-8601 UTC
    path: str  # absolute path of the stored copy

    @classmethod
    def from_dict(cls, data: dict) -> RawFile:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})

    def to_dict(self) -> dict:
        return asdict(self)


class FetchError(SourceError):
    """A download that failed; ``transient`` when trying again later may succeed (timeouts,
    connection resets, HTTP 5xx/408/429), not when it cannot (HTTP 4xx). ``unreachable``: nothing
    answered at that address (connection refused, unknown host): tried again within the task only."""

    def __init__(self, source: str, file: str, detail: str, transient: bool, retry_after: float | None = None,
                 unreachable: bool = False) -> None:
        super().__init__(source, file, "fetch", detail)
        self.transient = transient
        self.retry_after = retry_after
        self.unreachable = unreachable


class _WriteFailed(Exception):
    """Writing the local copy failed (e.g. a full disk): never a network error, never retried."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def stored_name(origin: str) -> str:
    """The name a file or URL keeps in the raw store: its last path segment, without a query."""
    return os.path.basename(origin.split("?", 1)[0].rstrip("/")) or "download"


def _too_large(source: str, name: str, size: int, cap: int) -> SourceError:
    return SourceError(source, name, "size cap",
                       f"{size} bytes is over the {cap}-byte cap (PIPELINE_MAX_RAW_BYTES); nothing was copied")


def _copy_hashing(reader, writer, cap: int, source: str, name: str, dest: Path,
                  first: Callable[[bytes], None] | None = None, sha1=None) -> tuple[str, int]:
    """Copy ``reader`` into ``writer`` under the size cap; ``first`` sees the first chunk before
    anything is written (the layout check), ``sha1`` (a hashlib object) is updated too."""
    digest = hashlib.sha256()
    size = 0
    while chunk := reader.read(_CHUNK):
        size += len(chunk)
        if size > cap:
            raise _too_large(source, name, size, cap)
        if first is not None:
            first(chunk)
            first = None
        digest.update(chunk)
        if sha1 is not None:
            sha1.update(chunk)
        try:
            writer.write(chunk)
        except OSError as exc:
            raise _WriteFailed(OSError(exc.errno, exc.strerror, str(dest))) from exc
        if size % (64 * _CHUNK) < _CHUNK and size > _CHUNK:
            log.info("[%s] %s: %.0f MiB fetched", source, name, size / _CHUNK)
    return digest.hexdigest(), size


def _retry_after(headers) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    return float(value) if value and value.strip().isdigit() else None


@dataclass(frozen=True)
class Answer:
    """What the server said besides the body: its validators, type, and whether it was a 304."""

    status: int
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    sha1: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def layout_check(source: str, name: str, origin: str, content_type: str | None = None) -> Callable[[bytes], None]:
    """A check of a download's first bytes against the layouts ``source`` publishes (``raw_kinds``
    in its source.yml, the rules of the raw suite): an HTML page, or a kind or XML root the source
    does not publish, is refused before anything is stored. The Content-Type is not trusted (the
    FCDO serves its CSV as application/octet-stream): the first lines say what the body is."""
    from expectations.raw import KIND_FAMILIES
    from pipeline.sources import load_meta
    from pipeline.xmlsafe import sniff_head

    kinds = load_meta(source).raw_kinds

    def check(head: bytes) -> None:
        if not kinds:
            return
        found = sniff_head(head)
        accepted = {KIND_FAMILIES.get(k, k) for k in kinds}
        roots = kinds.get("xml", ())
        family = KIND_FAMILIES.get(found.kind, found.kind)
        if found.kind != "html" and family in accepted and (found.kind != "xml" or found.root in roots):
            return
        layouts = ", ".join(f"XML <{'> or <'.join(kinds[k])}>" if k == "xml" and kinds[k] else k for k in kinds)
        served = f" (served as {content_type})" if content_type else ""
        raise SourceError(source, name, "layout",
                          f"{origin} answered {found.describe()}{served}, not a layout of {source} ({layouts}); "
                          "nothing was stored")

    return check


def _download(origin: str, out, dest: Path, source: str, name: str, cap: int, timeout: float,
              headers: dict[str, str] | None = None, check_layout: bool = False) -> tuple[str | None, int, Answer]:
    """One download attempt into ``out``; network failures become :class:`FetchError`. ``headers``:
    extra request headers (If-None-Match, If-Modified-Since); a 304 answer writes nothing."""
    request = urllib.request.Request(origin, headers={"User-Agent": "sanctions-pipeline", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
            declared = resp.headers.get("Content-Length")
            if declared and declared.strip().isdigit() and int(declared) > cap:
                raise _too_large(source, name, int(declared), cap)
            content_type = resp.headers.get("Content-Type")
            sha1 = hashlib.sha1(usedforsecurity=False)
            first = layout_check(source, name, origin, content_type) if check_layout else None
            sha, size = _copy_hashing(resp, out, cap, source, name, dest, first=first, sha1=sha1)
            if declared and declared.strip().isdigit() and size != int(declared):
                raise FetchError(source, name, f"{origin}: got {size} of {declared} bytes (body cut short)",
                                 transient=True)
            return sha, size, Answer(resp.status, resp.headers.get("ETag"), resp.headers.get("Last-Modified"),
                                     content_type, sha1.hexdigest())
    except urllib.error.HTTPError as exc:
        if exc.code == 304 and headers:
            answered = exc.headers
            return None, 0, Answer(304, answered.get("ETag"), answered.get("Last-Modified"))
        transient = exc.code in _TRANSIENT_HTTP or exc.code >= 500
        raise FetchError(source, name, f"{origin}: HTTP {exc.code} {exc.reason}", transient,
                         _retry_after(exc.headers)) from None
    except (OSError, http.client.HTTPException) as exc:  # timeouts, refused or reset connections, DNS
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
        raise FetchError(source, name, f"{origin}: {text}", transient=True, unreachable=_unreachable(exc)) from None


def _unreachable(exc: BaseException) -> bool:
    """Nothing answers at that address: the connection is refused, or the host name does not exist
    (a name server that cannot answer now, ``EAI_AGAIN``, is a transient failure instead)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, ConnectionRefusedError):
        return True
    no_such_host = (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME))
    return isinstance(reason, socket.gaierror) and reason.errno in no_such_host


def _wait_before_retry(delay: float) -> None:
    """Sleep ``delay`` seconds before the next attempt, stopping early if the run is stopped."""
    from pipeline.locking import check_stop

    end = time.monotonic() + delay
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(left, 0.5))
        check_stop("land")


def _store(tmp: Path, sha: str, name: str, source: str, settings: Settings) -> Path:
    suffix = Path(name).suffix.lower()
    suffix = suffix if suffix in _SAFE_SUFFIXES else ""
    final = settings.raw_dir / source / sha[:2] / f"{sha}{suffix}"
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        tmp.unlink()
    else:
        os.replace(tmp, final)
    return final


def land(source: str, origin: str, settings: Settings, timeout: float | None = None, attempts: int | None = None,
         backoff: float | None = None) -> RawFile:
    """Copy (local path) or download (``http(s)://`` URL) one file into the raw store.

    The defaults of ``timeout`` (seconds per read), ``attempts`` and ``backoff`` are the settings
    ``PIPELINE_FETCH_TIMEOUT``, ``PIPELINE_FETCH_ATTEMPTS`` and ``PIPELINE_FETCH_BACKOFF``.

    A file over ``settings.max_raw_bytes`` is refused before a byte is copied (its size, or the
    declared ``Content-Length``; a download is also capped while it streams). A transient network
    failure is tried again up to ``attempts`` times, waiting ``backoff`` seconds, doubled each time
    (or the server's ``Retry-After``, up to a minute), each wait announced with the time of the
    next try; anything else fails at once. An address where nothing answers (connection refused,
    unknown host) is not transient once the attempts are spent: trying again later will not help.
    """
    record, _answer = fetch(source, origin, settings, timeout=timeout, attempts=attempts, backoff=backoff)
    assert record is not None  # no validators were sent: never a 304
    return record


def fetch(source: str, origin: str, settings: Settings, validators: dict[str, str] | None = None,
          timeout: float | None = None, attempts: int | None = None,
          backoff: float | None = None) -> tuple[RawFile | None, Answer]:
    """:func:`land`, conditionally: ``validators`` (``etag``, ``last_modified``) of the copy the lake
    has are sent as If-None-Match / If-Modified-Since; a 304 lands nothing (``None``). A download's
    first bytes must be one of the source's layouts (:func:`layout_check`). Also returns what the
    server said (:class:`Answer`; a local copy answers status 0)."""
    from pipeline import progress

    timeout = settings.fetch_timeout if timeout is None else timeout
    attempts = settings.fetch_attempts if attempts is None else attempts
    backoff = settings.fetch_backoff if backoff is None else backoff
    headers = {}
    if validators and validators.get("etag"):
        headers["If-None-Match"] = validators["etag"]
    if validators and validators.get("last_modified"):
        headers["If-Modified-Since"] = validators["last_modified"]
    answer = Answer(0)

    is_url = origin.startswith(("http://", "https://"))
    name = stored_name(origin)
    cap = settings.max_raw_bytes
    if not is_url:
        src = Path(origin)
        if not src.is_file():
            raise SourceError(source, name, "input exists", f"no such file: {origin}")
        if src.stat().st_size > cap:
            raise _too_large(source, name, src.stat().st_size, cap)
    settings.raw_dir.mkdir(parents=True, exist_ok=True)
    attempt = 0
    first_try = time.monotonic()
    while True:
        attempt += 1
        fd, tmp_name = tempfile.mkstemp(prefix=".landing-", dir=settings.raw_dir)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                if is_url:
                    log.info("[%s] downloading %s (attempt %d of %d)", source, origin, attempt, attempts)
                    sha, size, answer = _download(origin, out, tmp, source, name, cap, timeout, headers,
                                                  check_layout=True)
                    if answer.not_modified:
                        log.info("[%s] %s: not modified since the copy the lake has (HTTP 304)", source, origin)
                        return None, answer
                else:
                    with open(src, "rb") as fh:
                        sha, size = _copy_hashing(fh, out, cap, source, name, tmp)
            final = _store(tmp, sha, name, source, settings)
            break
        except _WriteFailed as exc:
            raise exc.error from None
        except FetchError as exc:
            if exc.unreachable and attempt >= attempts:
                raise FetchError(source, name, f"{exc.detail}: nothing answered in {attempts} attempt(s) over "
                                 f"{time.monotonic() - first_try:.0f}s; check the URL and that the server is up",
                                 transient=False, unreachable=True) from None
            if not exc.transient or attempt >= attempts:
                raise
            delay = min(_MAX_WAIT, exc.retry_after if exc.retry_after is not None else backoff * 2 ** (attempt - 1))
            text = (f"{source} {name}: {exc.detail}; trying again at {progress.clock(time.time() + delay)} "
                    f"(attempt {attempt + 1} of {attempts})")
            log.warning("[%s] %s; trying again in %.1fs", source, exc.detail, delay)
            progress.waiting("land", text)
            _wait_before_retry(delay)
        finally:
            if tmp.exists():
                tmp.unlink()
    record = RawFile(
        source=source,
        name=name,
        origin=origin if is_url else str(Path(origin).resolve()),
        sha256=sha,
        bytes=size,
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        path=str(final),
    )
    _append_manifest(settings.manifest_path, record)
    lakefs.landed(settings, record)  # the lake on an object store: the file and its record, uploaded
    log.info("[%s] landed %s (%d bytes, sha256 %s)", source, name, size, sha[:12])
    return record, answer


def _append_manifest(path: Path, record: RawFile) -> None:
    line = json.dumps(record.to_dict(), sort_keys=True) + "\n"
    with open(path, "a+b") as fh:
        if fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":  # a line cut short by a full disk or a kill: start a new one
                line = "\n" + line
        try:
            fh.write(line.encode("utf-8"))
            fh.flush()
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(path)) from exc


def read_manifest(settings: Settings) -> list[RawFile]:
    """Every file ever landed, oldest first (on an object-store lake: its records, every node's)."""
    shared = lakefs.manifest_records(settings)
    if shared is not None:
        return [RawFile.from_dict(r) for r in shared]
    if not settings.manifest_path.exists():
        return []
    files = []
    with open(settings.manifest_path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                files.append(RawFile.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                log.warning("%s line %d is damaged (cut short by a full disk or a kill?); skipped",
                            settings.manifest_path, number)
    return files


def stored_path(settings: Settings, record: RawFile) -> Path:
    """Where ``record``'s file is kept in this home's raw store (the manifest's absolute ``path``
    goes stale when the home is moved or copied; the content address does not)."""
    return settings.raw_dir / record.source / record.sha256[:2] / Path(record.path).name


def local_copy(settings: Settings, record: RawFile) -> Path:
    """The path of ``record``'s file on this node: as landed; on an object-store lake, this node's
    copy in its raw store, fetched from the lake's when another node landed it."""
    if settings.lake_url is None:
        return Path(record.path)
    return lakefs.raw_copy(settings, stored_path(settings, record), record.sha256)


def local_batches(settings: Settings, batches: list[dict]) -> list[dict]:
    """``batches`` (the land step's) with every file's ``path`` on this node (:func:`local_copy`)."""
    if settings.lake_url is None:
        return batches
    return [{**b, "files": [{**f, "path": str(local_copy(settings, RawFile.from_dict(f)))} for f in b["files"]]}
            for b in batches]
