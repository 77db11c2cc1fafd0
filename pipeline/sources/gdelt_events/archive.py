"""Unpack a zipped GDELT export (``*.export.CSV.zip`` holds one CSV) into a scratch folder.

The member is streamed to a fixed file name chosen here (a name inside the archive never becomes
a path) and the copy stops at a size cap, whatever the archive's header claims (zip bombs).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile
from pipeline.sources.gdelt_events.layout import SOURCE_ID

ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 1 << 20


def is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == ZIP_MAGIC


def unpack(f: InputFile, workdir: Path, max_bytes: int) -> Path:
    """The CSV inside the zip ``f``, written to ``workdir`` (at most ``max_bytes`` bytes)."""
    try:
        with zipfile.ZipFile(f.path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                raise SourceError(SOURCE_ID, f.name, "zip archive holds one export file",
                                  f"the archive holds {len(members)} files")
            member = members[0]
            if member.file_size > max_bytes:
                raise SourceError(SOURCE_ID, f.name, "size cap",
                                  f"the export inside is {member.file_size} bytes, more than the cap of {max_bytes}")
            target = workdir / "export.csv"
            written = 0
            with archive.open(member) as source, target.open("wb") as out:
                while chunk := source.read(CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise SourceError(SOURCE_ID, f.name, "size cap",
                                          f"the export inside unpacks to more than {max_bytes} bytes")
                    out.write(chunk)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise SourceError(SOURCE_ID, f.name, "readable zip archive", f"{type(exc).__name__}: {exc}") from exc
    return target
