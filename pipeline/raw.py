"""Bronze layer: raw files kept exactly as fetched, content-addressed, with a manifest.

A landed file is stored once at ``lake/raw/<source>/<sha[:2]>/<sha256><ext>`` whatever it was
called outside; its origin (URL or path), fetch time, size and hash are appended to
``lake/raw/manifest.jsonl``. Names that come from outside never become paths.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import SourceError
from pipeline.settings import Settings

log = logging.getLogger(__name__)

_SAFE_SUFFIXES = {".xml", ".csv", ".json", ".zip", ".gz", ".txt", ".tsv"}
_CHUNK = 1 << 20


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


def _copy_hashing(reader, writer, cap: int, source: str, name: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := reader.read(_CHUNK):
        size += len(chunk)
        if size > cap:
            raise SourceError(source, name, "size cap", f"more than {cap} bytes")
        digest.update(chunk)
        writer.write(chunk)
        if size % (64 * _CHUNK) < _CHUNK and size > _CHUNK:
            log.info("[%s] %s: %.0f MiB fetched", source, name, size / _CHUNK)
    return digest.hexdigest(), size


def land(source: str, origin: str, settings: Settings, timeout: float = 120.0) -> RawFile:
    """Copy (local path) or download (``http(s)://`` URL) one file into the raw store."""
    is_url = origin.startswith(("http://", "https://"))
    name = os.path.basename(origin.split("?", 1)[0].rstrip("/")) or "download"
    settings.raw_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".landing-", dir=settings.raw_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            if is_url:
                log.info("[%s] downloading %s", source, origin)
                request = urllib.request.Request(origin, headers={"User-Agent": "sanctions-pipeline"})
                try:
                    with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
                        sha, size = _copy_hashing(resp, out, settings.max_raw_bytes, source, name)
                except OSError as exc:
                    raise SourceError(source, name, "fetch", f"{origin}: {exc}") from None
            else:
                src = Path(origin)
                if not src.is_file():
                    raise SourceError(source, name, "input exists", f"no such file: {origin}")
                with open(src, "rb") as fh:
                    sha, size = _copy_hashing(fh, out, settings.max_raw_bytes, source, name)
        suffix = Path(name).suffix.lower()
        suffix = suffix if suffix in _SAFE_SUFFIXES else ""
        final = settings.raw_dir / source / sha[:2] / f"{sha}{suffix}"
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
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
    with open(settings.manifest_path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record.to_dict(), sort_keys=True) + "\n")
    log.info("[%s] landed %s (%d bytes, sha256 %s)", source, name, size, sha[:12])
    return record


def read_manifest(settings: Settings) -> list[RawFile]:
    """Every file ever landed, oldest first."""
    if not settings.manifest_path.exists():
        return []
    with open(settings.manifest_path, encoding="utf-8") as fh:
        return [RawFile.from_dict(json.loads(line)) for line in fh if line.strip()]


def copy_out(raw: RawFile, dest: Path) -> Path:
    """Materialise a stored raw file under its outside name in ``dest`` (for tools that need it)."""
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / Path(raw.name).name
    shutil.copyfile(raw.path, target)
    return target
