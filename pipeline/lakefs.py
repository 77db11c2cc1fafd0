"""The lake on an object store (``PIPELINE_LAKE=s3://bucket/prefix``), through fsspec.

Without ``PIPELINE_LAKE`` (the default) the lake is the folder ``<PIPELINE_HOME>/lake`` and every
function here returns at once: nothing changes and nothing is slower.

With it, the object store holds the lake every node shares, in the layout of the local folder::

    raw/<source>/<sha[:2]>/<sha256><ext>            raw files, content-addressed, written once
    raw/manifest/<fetched at>-<sha256>.json         one object per landed file (a store cannot append)
    raw/fetch_state.json, raw/fetch_log/*.jsonl     live fetch's validators and its log (pipeline/fetch.py)
    staged/<table>/source=/snapshot_date=/part-*.parquet
    superseded/, quarantine/, matching/, lost_snapshots.jsonl
    releases/<run id>/                              published releases (database, marts, release.json)
    current.json                                    the current release, written last
    locks/lake.json                                 the writer's lease

and each node's ``<PIPELINE_HOME>/lake`` is a cache of it. A raw file is uploaded as soon as it
lands (:func:`landed`) and downloaded, checked against its sha256, by a node that parses it
(:func:`raw_copy`). The build node mirrors the store's staged parts before it reads the lake
(:func:`pull_lake`: parts are immutable, named by the hash of their raw files, so a cached part of
the same size is that part; one that left the store's lake leaves the mirror), so the lake checks
and matching read local files and a part crosses the network once per node for them. The dbt
build reads the store's parts from the store: :func:`build_view` names each part of the run's view
of the lake by its URL (or, for this run's own parts, its local path), and the profile's plugin
(:data:`Plugin`) registers that view on dbt's connection as the fsspec filesystem
``pipelinelake://``.
A run's staged parts join the store's lake when it commits (:func:`push_lake`), and a release is
uploaded whole before ``current.json`` names it (:func:`publish_release`): a run that fails
mid-publish leaves the previous release current and readable.

Writers of the store's lake hold a lease (:func:`lease`): an object created with a conditional
put (``If-None-Match: *``), so two nodes never commit at once; a local file lock could not
protect a store other machines write. A lease older than ``PIPELINE_LAKE_LEASE_SECONDS`` (a
killed node) is taken over.

DuckDB reads the store through the same fsspec filesystem registered on its connection
(:func:`register`, :func:`register_view`; DuckDB 2.0's httpfs extension cannot be installed offline).
Live fetch's state and log are shared too (:func:`pull_fetch_state`, :func:`append_fetch_log`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError
from pipeline.settings import Settings

log = logging.getLogger(__name__)

POINTER = "current.json"
LEASE = "locks/lake.json"
MANIFEST = "raw/manifest"
#: Live fetch (pipeline/fetch.py): the validators of what the lake last published from each URL, and
#: the fetch log, one object per append (a store cannot append).
FETCH_STATE = "raw/fetch_state.json"
FETCH_LOG = "raw/fetch_log"
#: What the store's lake holds besides raw files and releases (relative to the lake folder).
PARTS = "staged"


class Store:
    """One object-store lake: an fsspec filesystem and the root (``bucket/prefix``) in it."""

    def __init__(self, url: str, endpoint_url: str | None = None) -> None:
        import fsspec

        protocol, _, rest = url.partition("://")
        options: dict[str, Any] = {}
        if endpoint_url and protocol in ("s3", "s3a"):
            options["endpoint_url"] = endpoint_url
        try:
            self.fs = fsspec.filesystem(protocol, **options)
        except (ImportError, ValueError) as exc:
            raise PipelineError(f"PIPELINE_LAKE={url}: no filesystem for {protocol}:// ({exc})") from None
        self.protocol = protocol
        self.url = url.rstrip("/")
        self.root = rest.strip("/")
        if not self.root:
            raise PipelineError(f"PIPELINE_LAKE={url} names no bucket")

    def path(self, rel: str | Path) -> str:
        return f"{self.root}/{Path(rel).as_posix()}".rstrip("/")

    def url_of(self, rel: str | Path) -> str:
        return f"{self.protocol}://{self.path(rel)}"

    def rel(self, path: str) -> str:
        return path.removeprefix(self.root + "/")

    def listing(self, rel: str) -> dict[str, int]:
        """``{path relative to the lake: size}`` of every object under ``rel`` (none: empty)."""
        try:
            found = self.fs.find(self.path(rel), detail=True)
        except FileNotFoundError:
            return {}
        return {self.rel(p): int(info.get("size") or 0) for p, info in found.items() if info.get("type") != "directory"}


@lru_cache(maxsize=8)
def _store(url: str, endpoint_url: str | None) -> Store:
    return Store(url, endpoint_url)


def store(settings: Settings) -> Store | None:
    """The object-store lake of ``settings`` (None: the lake is the local folder)."""
    if not settings.lake_url:
        return None
    return _store(settings.lake_url, settings.s3_endpoint_url)


def _wrap(what: str, exc: Exception) -> PipelineError:
    return PipelineError(f"the object-store lake: {what} failed: {type(exc).__name__}: {exc}")


def _download(st: Store, rel: str, local: Path) -> None:
    """Copy one object to ``local`` (written beside it, then renamed: never half a file)."""
    local.parent.mkdir(parents=True, exist_ok=True)
    tmp = local.with_name(f".pull-{uuid.uuid4().hex[:8]}-{local.name}.tmp")  # never matches a part's glob
    try:
        st.fs.get_file(st.path(rel), str(tmp))
        os.replace(tmp, local)
    finally:
        tmp.unlink(missing_ok=True)


# --- raw ----------------------------------------------------------------------------------------

def landed(settings: Settings, record: Any) -> None:
    """Upload a landed raw file (once: it is content-addressed) and its manifest record."""
    st = store(settings)
    if st is None:
        return
    local = Path(record.path)
    rel = local.relative_to(settings.lake_dir)
    try:
        if not st.fs.exists(st.path(rel)):
            st.fs.put_file(str(local), st.path(rel))
        key = f"{MANIFEST}/{record.fetched_at.replace(':', '')}-{record.sha256}-{uuid.uuid4().hex[:8]}.json"
        st.fs.pipe_file(st.path(key), json.dumps(record.to_dict(), sort_keys=True).encode("utf-8"))
    except OSError as exc:
        raise _wrap(f"storing raw file {record.name} of {record.source}", exc) from None


def manifest_records(settings: Settings) -> list[dict] | None:
    """Every manifest record of the store's raw store, oldest first (None: the lake is local)."""
    st = store(settings)
    if st is None:
        return None
    keys = sorted(st.listing(MANIFEST))
    if not keys:
        return []
    bodies = st.fs.cat([st.path(k) for k in keys], on_error="return")
    records = []
    for key in keys:
        body = bodies.get(st.path(key))
        try:
            records.append(json.loads(body))
        except (TypeError, ValueError):
            log.warning("raw manifest record %s cannot be read; skipped", st.url_of(key))
    return records


def raw_copy(settings: Settings, local: Path, sha256: str) -> Path:
    """The raw file ``local`` (a path in this node's raw store), downloaded from the store's raw
    store when this node does not have it, and checked against its sha256."""
    st = store(settings)
    if st is None or local.is_file():
        return local
    rel = local.relative_to(settings.lake_dir)
    try:
        _download(st, str(rel), local)
    except FileNotFoundError:
        return local  # the caller says the file is missing, as for a local lake
    except OSError as exc:
        raise _wrap(f"fetching raw file {st.url_of(rel)}", exc) from None
    digest = hashlib.sha256()
    with open(local, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        local.unlink()
        raise PipelineError(f"the object-store lake's raw file {st.url_of(rel)} is damaged: sha256 "
                            f"{digest.hexdigest()} is not its content address {sha256}")
    return local


# --- live fetch's state and log ----------------------------------------------------------------

def pull_fetch_state(settings: Settings) -> None:
    """Make this node's ``fetch_state.json`` the store's, when the store has one: a node's
    conditional requests then send the validators of what any node last published."""
    st = store(settings)
    if st is None:
        return
    try:
        _download(st, FETCH_STATE, settings.fetch_state_path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _wrap(f"fetching {st.url_of(FETCH_STATE)}", exc) from None


def push_fetch_state(settings: Settings) -> None:
    """Upload this node's ``fetch_state.json`` (written when its run published) to the store."""
    st = store(settings)
    if st is None or not settings.fetch_state_path.is_file():
        return
    try:
        st.fs.put_file(str(settings.fetch_state_path), st.path(FETCH_STATE))
    except OSError as exc:
        raise _wrap(f"storing {st.url_of(FETCH_STATE)}", exc) from None


def fetch_state_lease(settings: Settings) -> contextlib.AbstractContextManager:
    """Held while a node reads, merges and writes back the store's fetch state (a no-op locally)."""
    return lease(settings, "fetch state") if store(settings) is not None else contextlib.nullcontext()


def append_fetch_log(settings: Settings, events: list[dict]) -> None:
    """Store ``events`` (lines of the fetch log) as one object of the store's fetch log."""
    st = store(settings)
    if st is None or not events:
        return
    key = f"{FETCH_LOG}/{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}.jsonl"
    text = "".join(json.dumps(e, sort_keys=True) + "\n" for e in events)
    try:
        st.fs.pipe_file(st.path(key), text.encode("utf-8"))
    except OSError as exc:
        raise _wrap(f"storing fetch log events {st.url_of(key)}", exc) from None


def fetch_log_lines(settings: Settings) -> list[tuple[str, str]] | None:
    """Every line of the store's fetch log as ``(object url, line)``, oldest object first (None: the
    lake is local)."""
    st = store(settings)
    if st is None:
        return None
    try:
        keys = sorted(st.listing(FETCH_LOG))
        bodies = st.fs.cat([st.path(k) for k in keys], on_error="return") if keys else {}
    except OSError as exc:
        raise _wrap(f"reading the fetch log {st.url_of(FETCH_LOG)}", exc) from None
    lines = []
    for key in keys:
        body = bodies.get(st.path(key))
        if not isinstance(body, bytes):
            log.warning("fetch log object %s cannot be read; skipped", st.url_of(key))
            continue
        lines.extend((st.url_of(key), line) for line in body.decode("utf-8", errors="replace").splitlines())
    return lines


# --- staged parts -------------------------------------------------------------------------------

def _local_files(folder: Path) -> dict[str, int]:
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder.parent).as_posix(): p.stat().st_size
            for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")}


def pull_lake(settings: Settings) -> dict[str, int]:
    """Make this node's staged lake the store's: download the parts it lacks, drop those the
    store's lake no longer has (superseded or quarantined by another node); bring the matching
    and the list of lost snapshots too. Returns how many parts were downloaded and dropped."""
    st = store(settings)
    if st is None:
        return {}
    with lease(settings, "pull"):
        try:
            remote = st.listing(PARTS)
            local = _local_files(settings.staged_dir)
            fetched = [rel for rel, size in remote.items() if local.get(rel) != size]
            for rel in fetched:
                _download(st, rel, settings.lake_dir / rel)
            dropped = [rel for rel in local if rel not in remote]
            for rel in dropped:
                (settings.lake_dir / rel).unlink(missing_ok=True)
            others = {**st.listing("matching"), **st.listing("lost_snapshots.jsonl")}
            for rel in others:
                _download(st, rel, settings.lake_dir / rel)
        except OSError as exc:
            raise _wrap("mirroring the staged lake", exc) from None
    if fetched or dropped:
        log.info("lake mirror: %d part(s) downloaded from %s, %d dropped", len(fetched), st.url, len(dropped))
    return {"downloaded": len(fetched), "dropped": len(dropped)}


def push_lake(settings: Settings) -> dict[str, int]:
    """Apply this node's commit to the store's lake, under the lease: upload the staged parts the
    store lacks, move to ``superseded/`` or ``quarantine/`` on the store the parts this node moved
    there (and no longer holds in its lake), upload the matching and the list of lost snapshots.
    Parts are uploaded before any is moved away, so the store's lake never lacks a snapshot."""
    st = store(settings)
    if st is None:
        return {}
    with lease(settings, "commit"):
        try:
            remote = st.listing(PARTS)
            local = _local_files(settings.staged_dir)
            uploaded = [rel for rel, size in local.items() if remote.get(rel) != size]
            for rel in uploaded:
                st.fs.put_file(str(settings.lake_dir / rel), st.path(rel))
            moved = 0
            for folder in ("superseded", "quarantine"):
                kept = _local_files(settings.lake_dir / folder)
                known = st.listing(folder)
                for rel in kept:
                    # <folder>/<run or time>/<table>/source=/snapshot_date=/part-*.parquet[.reason.txt]
                    inner = "/".join(rel.split("/")[2:])
                    was = f"{PARTS}/{inner}"
                    if rel.endswith(".parquet") and was in remote and was not in local:
                        st.fs.copy(st.path(was), st.path(rel))
                        st.fs.rm_file(st.path(was))
                        moved += 1
                    elif rel not in known:
                        st.fs.put_file(str(settings.lake_dir / rel), st.path(rel))
            for rel in (*_local_files(settings.matching_dir), "lost_snapshots.jsonl"):
                if (settings.lake_dir / rel).is_file():
                    st.fs.put_file(str(settings.lake_dir / rel), st.path(rel))
        except OSError as exc:
            raise _wrap("committing staged parts", exc) from None
    log.info("lake commit: %d part(s) uploaded to %s, %d moved out of its lake", len(uploaded), st.url, moved)
    return {"uploaded": len(uploaded), "moved": moved}


# --- releases -----------------------------------------------------------------------------------

def publish_release(settings: Settings, folder: Path, name: str) -> None:
    """Upload the complete release ``folder`` to ``releases/<name>/``, then point ``current.json``
    at it, under the lease. If anything fails, the objects of this release are removed (as far as
    the store lets) and ``current.json`` still names the previous release."""
    st = store(settings)
    if st is None:
        return
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    prefix = f"releases/{name}"
    with lease(settings, f"publish {name}"):
        try:
            for path in files:
                st.fs.put_file(str(path), st.path(f"{prefix}/{path.relative_to(folder).as_posix()}"))
            manifest = json.loads((folder / "release.json").read_text(encoding="utf-8"))
            pointer = {"release": name, "path": prefix, "database": f"{prefix}/{manifest['database']}",
                       "database_sha256": manifest["database_sha256"], "published_at": manifest["published_at"]}
            # one PUT, atomic on an object store: a reader sees the old pointer or the new one
            st.fs.pipe_file(st.path(POINTER), json.dumps(pointer, indent=2, sort_keys=True).encode("utf-8"))
        except BaseException as exc:
            with contextlib.suppress(Exception):
                st.fs.rm(st.path(prefix), recursive=True)
            if isinstance(exc, OSError):
                raise _wrap(f"publishing release {name} (the current release is unchanged)", exc) from None
            raise
    log.info("release %s uploaded to %s and current", name, st.url_of(prefix))


def release_file(settings: Settings, path: Path) -> None:
    """Upload ``path``, a file written into a published release after it was made current (the
    headline, ``releases/<name>/headline.txt``), beside the release on the store."""
    st = store(settings)
    if st is None:
        return
    rel = f"releases/{path.parent.name}/{path.name}"
    try:
        st.fs.put_file(str(path), st.path(rel))
    except OSError as exc:
        raise _wrap(f"storing {rel}", exc) from None


def current(settings: Settings) -> dict | None:
    """The store's ``current.json`` (None: no release published there yet, or a local lake)."""
    st = store(settings)
    if st is None:
        return None
    try:
        return json.loads(st.fs.cat_file(st.path(POINTER)))
    except FileNotFoundError:
        return None


def pull_publication(settings: Settings) -> str | None:
    """Make the store's current release this node's current publication, when this node does not
    have it (a fresh node, or another node published since): its ``release.json`` and database,
    which the next run's checks compare with. Returns the release name pulled, if any."""
    pointer = current(settings)
    if pointer is None:
        return None
    name = pointer["release"]
    here = settings.current_release
    if (here.is_symlink() or here.exists()) and here.resolve().name == name:
        return None
    st = store(settings)
    assert st is not None
    target = settings.publish_dir / "releases" / name
    for rel in ("release.json", Path(pointer["database"]).name):
        _download(st, f"{pointer['path']}/{rel}", target / rel)
    link = settings.publish_dir / f".current-{name}"
    link.unlink(missing_ok=True)
    link.symlink_to(Path("releases") / name)
    os.replace(link, here)
    log.info("publication %s pulled from %s", name, st.url)
    return name


# --- the lease ----------------------------------------------------------------------------------

@contextlib.contextmanager
def lease(settings: Settings, what: str, wait: float | None = None) -> Iterator[None]:
    """Hold the store's lake lease while ``what`` writes it: ``locks/lake.json`` created with a
    conditional put; another holder's lease is waited for (``wait`` seconds, default
    ``settings.lake_lease_wait``), one older than ``settings.lake_lease_seconds`` taken over."""
    st = store(settings)
    if st is None:
        yield
        return
    token = uuid.uuid4().hex
    body = json.dumps({"token": token, "what": what, "host": socket.gethostname(), "pid": os.getpid(),
                       "since": datetime.now(UTC).isoformat(timespec="seconds")}).encode("utf-8")
    path = st.path(LEASE)
    deadline = time.monotonic() + (settings.lake_lease_wait if wait is None else wait)
    while True:
        try:
            st.fs.pipe_file(path, body, mode="create")
            break
        except FileExistsError:
            holder = _holder(st, path)
            age = time.time() - holder.get("_mtime", time.time())
            if age > settings.lake_lease_seconds:
                log.warning("taking over the lake lease %s held %.0fs by %s", st.url_of(LEASE), age, holder)
                with contextlib.suppress(FileNotFoundError):
                    st.fs.rm_file(path)
                continue
            if time.monotonic() > deadline:
                raise PipelineError(
                    f"the object-store lake {st.url} is being written by {holder.get('what')} on "
                    f"{holder.get('host')} (pid {holder.get('pid')}, since {holder.get('since')}): its lease "
                    f"{st.url_of(LEASE)} is held; run one writer of a lake at a time") from None
            time.sleep(0.5)
        except OSError as exc:
            raise _wrap("taking the lake lease", exc) from None
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            if _holder(st, path).get("token") == token:
                st.fs.rm_file(path)


def _holder(st: Store, path: str) -> dict:
    try:
        holder = json.loads(st.fs.cat_file(path))
        info = st.fs.info(path)
    except (FileNotFoundError, ValueError):
        return {}
    modified = info.get("LastModified") or info.get("mtime")
    holder["_mtime"] = modified.timestamp() if hasattr(modified, "timestamp") else time.time()
    return holder


# --- DuckDB -------------------------------------------------------------------------------------

def register(con: Any, settings: Settings) -> Store | None:
    """Register the store's fsspec filesystem on the DuckDB connection ``con``, so that
    ``read_parquet('s3://bucket/prefix/...')`` reads the lake (returns the store, None: local)."""
    st = store(settings)
    if st is not None:
        con.register_filesystem(st.fs)
    return st


def release_url(settings: Settings, rel: str = "") -> str | None:
    """URL of ``rel`` in the store's current release (None: no release there yet, or a local lake)."""
    pointer = current(settings)
    st = store(settings)
    if pointer is None or st is None:
        return None
    return st.url_of(f"{pointer['path']}/{rel}".rstrip("/"))


# --- the build's view of the store's lake ----------------------------------------------------------

#: The protocol of :class:`LakeView`; the dbt project's lake models read ``<VIEW_ROOT><table>/...``.
VIEW_PROTOCOL = "pipelinelake"
VIEW_ROOT = f"{VIEW_PROTOCOL}://staged/"
#: The environment variable naming the view file a build's connection registers (see :class:`Plugin`).
VIEW_ENV = "PIPELINE_LAKE_VIEW"


def build_view(settings: Settings, merged: Path) -> Path | None:
    """The staged Parquet a build reads, as a view file beside ``merged`` (the run's view of the
    lake: hard links, see :func:`pipeline.flow._merged_staged`); None for a local lake.

    A part of ``merged`` that is this node's mirror of a store part (the same file, and the store
    holds a part of that name and size) is read from the store; this run's own candidates and
    the parts it healed, not on the store yet, are read where they lie. Only the staged tables
    are in the view (``_matching/`` and ``_fetch/`` stay local files beside it)."""
    st = store(settings)
    if st is None:
        return None
    try:
        remote = st.listing(PARTS)
    except OSError as exc:
        raise _wrap("listing the staged lake for the build", exc) from None
    parts: dict[str, dict[str, Any]] = {}
    for path in sorted(merged.glob("*/source=*/snapshot_date=*/*.parquet")):
        rel = path.relative_to(merged).as_posix()
        stat = path.stat()
        mirror = settings.staged_dir / rel
        same = mirror.is_file() and os.path.samestat(mirror.stat(), stat)
        if same and remote.get(f"{PARTS}/{rel}") == stat.st_size:
            parts[rel] = {"url": st.url_of(f"{PARTS}/{rel}"), "size": stat.st_size}
        else:
            parts[rel] = {"file": str(path.resolve()), "size": stat.st_size}
    view = merged.parent / "lake_view.json"
    view.write_text(json.dumps({"lake": st.url, "endpoint_url": settings.s3_endpoint_url, "parts": parts},
                               indent=1, sort_keys=True), encoding="utf-8")
    on_store = sum("url" in p for p in parts.values())
    log.info("build view: %d staged part(s) read from %s, %d local to this run", on_store, st.url,
             len(parts) - on_store)
    return view


def _view_filesystem(view: str) -> Any:
    """An fsspec filesystem over the parts of the view file ``view``: ``pipelinelake://staged/<rel>``
    reads the store's object or this run's local file the view names (read-only)."""
    from fsspec.spec import AbstractFileSystem

    class LakeView(AbstractFileSystem):
        protocol = VIEW_PROTOCOL
        root_marker = ""
        cachable = False

        def __init__(self, spec: dict) -> None:
            super().__init__()
            self.spec = spec
            self.files = {f"staged/{rel}": entry for rel, entry in spec["parts"].items()}
            self.dirs: dict[str, set[str]] = {"": {"staged"}}
            for name in self.files:
                parts = name.split("/")
                for depth in range(1, len(parts)):
                    self.dirs.setdefault("/".join(parts[:depth]), set()).add("/".join(parts[:depth + 1]))

        @classmethod
        def _strip_protocol(cls, path):  # noqa: ANN001, ANN206 - fsspec's signature
            path = path[0] if isinstance(path, list) else path
            return str(path).removeprefix(f"{VIEW_PROTOCOL}://").strip("/")

        def info(self, path, **kwargs):  # noqa: ANN001, ANN003, ANN201
            path = self._strip_protocol(path)
            if path in self.files:
                return {"name": path, "size": self.files[path]["size"], "type": "file"}
            if path in self.dirs:
                return {"name": path, "size": 0, "type": "directory"}
            raise FileNotFoundError(f"{VIEW_PROTOCOL}://{path}")

        def ls(self, path, detail=True, **kwargs):  # noqa: ANN001, ANN003, ANN201, FBT002
            path = self._strip_protocol(path)
            if path in self.files:
                entries = [self.info(path)]
            elif path in self.dirs:
                entries = [self.info(child) for child in sorted(self.dirs[path])]
            else:
                raise FileNotFoundError(f"{VIEW_PROTOCOL}://{path}")
            return entries if detail else [e["name"] for e in entries]

        def modified(self, path):  # noqa: ANN001, ANN201
            self.info(path)
            return datetime.fromtimestamp(0, UTC)  # parts are immutable

        def _open(self, path, mode="rb", **kwargs):  # noqa: ANN001, ANN003, ANN202
            if "r" not in mode:
                raise PermissionError(f"{VIEW_PROTOCOL}:// is read-only")
            entry = self.files.get(self._strip_protocol(path))
            if entry is None:
                raise FileNotFoundError(f"{VIEW_PROTOCOL}://{path}")
            if "file" in entry:
                return open(entry["file"], "rb")  # noqa: SIM115 - the caller closes it
            st = _store(self.spec["lake"], self.spec.get("endpoint_url"))
            return st.fs.open(entry["url"].split("://", 1)[1], "rb")

    return LakeView(json.loads(Path(view).read_text(encoding="utf-8")))


def register_view(con: Any, view: str | Path | None = None) -> bool:
    """Register the build's view (``view``, else the file ``$PIPELINE_LAKE_VIEW``) on the DuckDB
    connection ``con``; False when there is none (a local lake: nothing is registered)."""
    view = view or os.environ.get(VIEW_ENV)
    if not view:
        return False
    con.register_filesystem(_view_filesystem(str(view)))
    return True


def __getattr__(name: str) -> Any:
    """``Plugin``: the dbt-duckdb plugin (sql/profiles.yml) that registers the build's view on dbt's
    connection; made on first use, so importing this module never imports dbt."""
    if name != "Plugin":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from dbt.adapters.duckdb.plugins import BasePlugin

    class Plugin(BasePlugin):
        def configure_connection(self, conn: Any) -> None:
            register_view(conn)

    globals()["Plugin"] = Plugin
    return Plugin
