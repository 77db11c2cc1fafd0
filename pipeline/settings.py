"""Configuration, read once from the environment, with defaults that run offline.

Every path the pipeline writes lives under ``PIPELINE_HOME`` (default: ``<repo>/var``):

- ``lake/raw/``      raw files exactly as fetched, content-addressed, plus ``manifest.jsonl``
- ``lake/staged/``   normalized staged tables, hive-partitioned Parquet
- ``build/``         scratch space for a run (staged candidates, the DuckDB file being built)
- ``publish/``       releases; ``publish/current`` points at the last good one
- ``airflow/``       the project-local ``AIRFLOW_HOME`` (SQLite metadata) for the embedded mode
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _env_date(name: str) -> date | None:
    value = os.environ.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be a date YYYY-MM-DD, got {value!r}") from None


def _env_pair(name: str, default: tuple[str, str]) -> tuple[str, str]:
    return _pair(name, os.environ.get(name), default)


def _pair(name: str, value: str | None, default: tuple[str, str]) -> tuple[str, str]:
    if not value:
        return default
    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    if len(codes) != 2 or not all(len(c) == 2 and c.isalpha() for c in codes) or codes[0] == codes[1]:
        raise ValueError(f"{name} must be two different ISO alpha-2 codes such as RU,IR; got {value!r}")
    return codes[0], codes[1]


_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)\s*$", re.I)


def memory_size(value: str, name: str) -> str:
    """``value`` if it is a DuckDB memory size such as ``2GB`` or ``512MiB``; ValueError naming ``name`` otherwise."""
    if not _SIZE.match(value):
        raise ValueError(f"{name} must be a memory size such as 2GB or 512MiB, got {value!r}")
    return value.strip()


def _lake_url() -> str | None:
    """``PIPELINE_LAKE`` when it is an object-store URL. A value without a scheme is the dbt
    profile's own (the staged folder of a standalone ``dbt build``, sql/profiles.yml): the
    pipeline's lake stays ``<PIPELINE_HOME>/lake``."""
    value = (os.environ.get("PIPELINE_LAKE") or "").strip()
    if "://" not in value:
        return None
    scheme, _, rest = value.partition("://")
    if scheme == "file":
        raise ValueError(f"PIPELINE_LAKE={value!r}: a local lake is <PIPELINE_HOME>/lake; set PIPELINE_HOME instead")
    if not rest.strip("/") or any(c in value for c in ",'\"\\"):
        raise ValueError(f"PIPELINE_LAKE must be an object-store URL such as s3://bucket/prefix, got {value!r}")
    return value.rstrip("/")


def _skip_unchanged() -> bool:
    """``PIPELINE_SKIP_UNCHANGED``: on unless 0/false/no/off; another value is an error naming it."""
    value = os.environ.get("PIPELINE_SKIP_UNCHANGED", "").strip().lower()
    if value in ("", "1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"PIPELINE_SKIP_UNCHANGED must be 1 (the default: skip what is unchanged) or 0, got {value!r}")


def _env_seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0 or seconds == float("inf"):
        raise ValueError(f"{name} must be a number of seconds, 0 for no limit; got {value!r}")
    return seconds


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build one with :func:`load`."""

    home: Path
    demo_dir: Path
    sql_dir: Path
    sources: tuple[str, ...]
    max_raw_bytes: int
    keep_releases: int
    storage_version: str
    source_inputs: dict[str, str] = field(default_factory=dict)
    snapshot_date: date | None = None
    #: ``pipeline query``: seconds before a statement is interrupted (0: no limit).
    query_timeout: float = 60.0
    #: ``pipeline query``: DuckDB's memory limit for the query (it never spills to disk).
    query_memory_limit: str = "2GB"
    #: ``pipeline query``: fetching stops once the rows fetched take this many bytes.
    query_max_result_bytes: int = 256 << 20
    accept_small_lists: bool = False
    #: The lake on an object store (``PIPELINE_LAKE``, e.g. ``s3://bucket/prefix``; pipeline/lakefs.py).
    #: None: the lake is the folder ``<home>/lake``. Set, that folder is this node's cache of it.
    lake_url: str | None = None
    #: The S3 endpoint of a store that is not AWS (MinIO, moto); else AWS_ENDPOINT_URL or AWS's own.
    s3_endpoint_url: str | None = None
    #: A writer's lease on the store's lake older than this is taken over (a killed node).
    lake_lease_seconds: float = 3600.0
    #: How long a writer waits for another's lease before it fails.
    lake_lease_wait: float = 600.0
    #: ``PIPELINE_HEADLINE_PAIR`` as given; read (and checked) by :attr:`headline_pair` only where the
    #: headline needs it, so a bad value fails the report, not the ingest of every source.
    headline_pair_value: str | None = None
    live: bool = False
    #: On by default (``PIPELINE_SKIP_UNCHANGED=0`` turns it off): a source whose files are those of its
    #: lake snapshot is not parsed again, and a run where nothing changed keeps the current release
    #: without starting Airflow (pipeline/rerun.py). Off, every run parses and publishes, and no code
    #: fingerprint is computed.
    skip_unchanged: bool = True
    #: An archive member may inflate to at most this many times its compressed size.
    max_unzip_ratio: int = 200
    #: A text line (one CSV row) may hold at most this many bytes.
    max_line_bytes: int = 64 << 10
    #: Reviewed matching judgements (same / not same) that override the matcher (pipeline/matching).
    match_judgements: Path | None = None
    #: Live mode: URLs that replace a source's official ``urls`` (``PIPELINE_URL_<ID>``, ``;``-separated).
    source_urls: dict[str, str] = field(default_factory=dict)
    #: A download fails (transiently) when one read waits longer than this many seconds: the limit
    #: is per read, not for the whole body, so a slow server that keeps sending is never cut off.
    fetch_timeout: float = 120.0
    #: Tries of one download, a transient failure waiting ``fetch_backoff`` seconds, doubled each time.
    fetch_attempts: int = 3
    fetch_backoff: float = 2.0

    @property
    def headline_pair(self) -> tuple[str, str]:
        """The country pair the headline reports (``PIPELINE_HEADLINE_PAIR``, default RU,IR); a bad value
        raises :class:`~pipeline.errors.PipelineError` naming the variable, here, in the step that needs it."""
        from pipeline.errors import PipelineError

        try:
            return _pair("PIPELINE_HEADLINE_PAIR", self.headline_pair_value, ("RU", "IR"))
        except ValueError as exc:
            raise PipelineError(str(exc)) from None

    @property
    def lake_dir(self) -> Path:
        return self.home / "lake"

    @property
    def raw_dir(self) -> Path:
        return self.lake_dir / "raw"

    @property
    def manifest_path(self) -> Path:
        return self.raw_dir / "manifest.jsonl"

    @property
    def fetch_state_path(self) -> Path:
        """Per-URL validators (ETag, Last-Modified, sha256) of what the lake last published."""
        return self.raw_dir / "fetch_state.json"

    @property
    def fetch_log_path(self) -> Path:
        """Every check of every input (fetched, unchanged, copied) and every snapshot published."""
        return self.raw_dir / "fetch_log.jsonl"

    @property
    def staged_dir(self) -> Path:
        return self.lake_dir / "staged"

    @property
    def build_dir(self) -> Path:
        return self.home / "build"

    @property
    def publish_dir(self) -> Path:
        return self.home / "publish"

    @property
    def current_release(self) -> Path:
        return self.publish_dir / "current"

    @property
    def published_db(self) -> Path:
        return self.current_release / "sanctions.duckdb"

    @property
    def gx_dir(self) -> Path:
        return self.home / "gx"

    @property
    def matching_dir(self) -> Path:
        """The last published matching (target ids carried into the next run)."""
        return self.lake_dir / "matching"

    @property
    def judgements_path(self) -> Path:
        return self.match_judgements or self.home / "matching" / "judgements.csv"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"


def load() -> Settings:
    """Read the environment.

    ``PIPELINE_HOME``          where everything is written (default ``<repo>/var``)
    ``PIPELINE_SOURCES``       comma-separated source ids to run (default: every source whose
                               ``source.yml`` says ``default: true``)
    ``PIPELINE_INPUT_<ID>``    input for one source: local paths or ``http(s)://`` URLs,
                               ``;``-separated (default: the demo files shipped in ``data/demo``,
                               or in live mode the official URLs of the source's ``source.yml``)
    ``PIPELINE_LIVE``          ``1``: production; sources without an input fetch their official URLs,
                               conditionally (an unchanged file is not parsed again; docs/production.md)
    ``PIPELINE_URL_<ID>``      live mode: URLs that replace the source's official ``urls`` (``;``-separated;
                               e.g. a mirror, or a local test server)
    ``PIPELINE_FETCH_TIMEOUT`` seconds one read of a download may wait (default 120; per read, not per file)
    ``PIPELINE_FETCH_ATTEMPTS`` tries of a download on transient failures (default 3)
    ``PIPELINE_FETCH_BACKOFF`` seconds before the second try, doubled each time (default 2; or the server's
                               Retry-After, up to a minute)
    ``PIPELINE_MAX_RAW_BYTES`` refuse raw files larger than this (default 1 GiB); a zipped file's
                               inflated member counts, not the zip
    ``PIPELINE_MAX_UNZIP_RATIO`` refuse an archive member that inflates to more than this many
                               times its compressed size (default 200; checked past its first MiB)
    ``PIPELINE_MAX_LINE_BYTES`` refuse a GDELT event file with a line longer than this (default 64 KiB)
    ``PIPELINE_KEEP_RELEASES`` how many old releases to keep beside ``current`` (default 3)
    ``PIPELINE_SNAPSHOT_DATE`` snapshot date (YYYY-MM-DD) for files whose layout carries none
                               (OFAC CSV set; default: the day the files were landed)
    ``PIPELINE_ACCEPT_SMALL_LISTS`` ``1``: deliberate subsets; the production row-count floors
                               only warn (the check against the previous snapshot stays)
    ``PIPELINE_HEADLINE_PAIR`` the country pair the headline reports (default ``RU,IR``)
    ``PIPELINE_LAKE``          the lake on an object store, ``s3://bucket/prefix`` (default: the
                               folder ``<PIPELINE_HOME>/lake``; docs/production.md)
    ``PIPELINE_S3_ENDPOINT_URL`` the S3 endpoint of a store that is not AWS (default
                               ``AWS_ENDPOINT_URL``, else AWS); credentials as boto reads them
    ``PIPELINE_LAKE_LEASE_SECONDS`` a writer's lease on that lake older than this is taken over
                               (default 3600); ``PIPELINE_LAKE_LEASE_WAIT``: seconds a writer waits
                               for another's (default 600)
    ``PIPELINE_QUERY_TIMEOUT`` ``pipeline query`` interrupts a statement after this many seconds
                               (default 60; 0: no limit)
    ``PIPELINE_QUERY_MEMORY_LIMIT`` DuckDB memory limit of ``pipeline query`` (default ``2GB``)
    ``PIPELINE_QUERY_MAX_RESULT_BYTES`` ``pipeline query`` stops fetching rows past this many bytes
                               (default 256 MiB)
    ``PIPELINE_MATCH_JUDGEMENTS`` reviewed matching judgements, a CSV (default
                               ``<PIPELINE_HOME>/matching/judgements.csv``; docs/matching.md)
    """
    from pipeline.sources import default_sources, load_meta

    live = os.environ.get("PIPELINE_LIVE", "") in ("1", "true", "yes")
    configured = os.environ.get("PIPELINE_SOURCES", "")
    sources = tuple(s.strip() for s in configured.split(",") if s.strip()) or default_sources(live)
    for sid in sources:  # an unknown id in PIPELINE_SOURCES is refused here, naming the known ones
        try:
            load_meta(sid)
        except KeyError as exc:
            raise ValueError(f"PIPELINE_SOURCES: {exc}") from None
    inputs = {
        sid: os.environ[f"PIPELINE_INPUT_{sid.upper()}"]
        for sid in sources
        if os.environ.get(f"PIPELINE_INPUT_{sid.upper()}")
    }
    urls = {
        sid: os.environ[f"PIPELINE_URL_{sid.upper()}"]
        for sid in sources
        if os.environ.get(f"PIPELINE_URL_{sid.upper()}")
    }
    attempts = _env_int("PIPELINE_FETCH_ATTEMPTS", 3)
    if attempts < 1:
        raise ValueError(f"PIPELINE_FETCH_ATTEMPTS must be at least 1, got {attempts}")
    fetch_timeout = _env_seconds("PIPELINE_FETCH_TIMEOUT", 120.0)
    if fetch_timeout == 0:  # a read that never times out would hang the land task on a stalled server
        raise ValueError("PIPELINE_FETCH_TIMEOUT must be a number of seconds above 0")
    return Settings(
        home=_env_path("PIPELINE_HOME", REPO_ROOT / "var"),
        demo_dir=_env_path("PIPELINE_DEMO_DIR", REPO_ROOT / "data" / "demo"),
        sql_dir=_env_path("PIPELINE_SQL_DIR", REPO_ROOT / "sql"),
        sources=sources,
        max_raw_bytes=_env_int("PIPELINE_MAX_RAW_BYTES", 1 << 30),
        keep_releases=_env_int("PIPELINE_KEEP_RELEASES", 3),
        # Files written in this storage format open in DuckDB 1.2+ CLIs and BI drivers too.
        storage_version=os.environ.get("PIPELINE_DUCKDB_STORAGE_VERSION", "v1.2.0"),
        source_inputs=inputs,
        snapshot_date=_env_date("PIPELINE_SNAPSHOT_DATE"),
        query_timeout=_env_seconds("PIPELINE_QUERY_TIMEOUT", 60.0),
        query_memory_limit=memory_size(os.environ.get("PIPELINE_QUERY_MEMORY_LIMIT") or "2GB",
                                       "PIPELINE_QUERY_MEMORY_LIMIT"),
        query_max_result_bytes=_env_int("PIPELINE_QUERY_MAX_RESULT_BYTES", 256 << 20),
        accept_small_lists=os.environ.get("PIPELINE_ACCEPT_SMALL_LISTS", "") in ("1", "true", "yes"),
        lake_url=_lake_url(),
        s3_endpoint_url=os.environ.get("PIPELINE_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL") or None,
        lake_lease_seconds=_env_seconds("PIPELINE_LAKE_LEASE_SECONDS", 3600.0),
        lake_lease_wait=_env_seconds("PIPELINE_LAKE_LEASE_WAIT", 600.0),
        headline_pair_value=os.environ.get("PIPELINE_HEADLINE_PAIR"),
        live=live,
        skip_unchanged=_skip_unchanged(),
        max_unzip_ratio=_env_int("PIPELINE_MAX_UNZIP_RATIO", 200),
        max_line_bytes=_env_int("PIPELINE_MAX_LINE_BYTES", 64 << 10),
        match_judgements=_env_path("PIPELINE_MATCH_JUDGEMENTS", None),
        source_urls=urls,
        fetch_timeout=fetch_timeout,
        fetch_attempts=attempts,
        fetch_backoff=_env_seconds("PIPELINE_FETCH_BACKOFF", 2.0),
    )
