"""Inflate a zipped GDELT export (``*.export.CSV.zip`` holds one CSV) into a scratch folder the
caller chose, under limits that hold whatever the archive's headers claim.

The member is streamed in chunks to a fixed file name chosen here (a name inside the archive never
becomes a path). The bytes actually inflated are counted, not the sizes the headers declare, and
the copy stops as soon as they pass the raw-file cap (``PIPELINE_MAX_RAW_BYTES``), the compression
ratio cap (``PIPELINE_MAX_UNZIP_RATIO``) or hold a line longer than ``PIPELINE_MAX_LINE_BYTES``
(a zip of zeros). Archives of several files, encrypted members and archives inside the archive are
refused. Every refusal is a :class:`SourceError` naming the archive, the member, the rule and,
for a long line, its number.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile
from pipeline.sources.gdelt_events.layout import SOURCE_ID

#: A local file header, or the end record of an empty archive.
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
#: What an archive or compressed file starts with: such a member is not an export.
ARCHIVE_MAGICS = {
    b"PK\x03\x04": "zip", b"PK\x05\x06": "zip", b"\x1f\x8b": "gzip", b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz", b"7z\xbc\xaf\x27\x1c": "7z", b"Rar!\x1a\x07": "rar",
}
CHUNK = 1 << 20
#: The ratio cap applies once this much is inflated: a small file may compress very well.
RATIO_GRACE_BYTES = 1 << 20
MEMBER_FILE = "export.csv"


@dataclass(frozen=True)
class Limits:
    """What one input file may hold once inflated."""

    max_bytes: int
    max_ratio: int
    max_line_bytes: int

    @classmethod
    def from_settings(cls, max_bytes: int | None = None) -> Limits:
        """The configured limits; ``max_bytes`` (the parse context's cap) overrides the setting."""
        from pipeline import settings

        current = settings.load()
        return cls(current.max_raw_bytes if max_bytes is None else max_bytes, current.max_unzip_ratio,
                   current.max_line_bytes)


def is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) in ZIP_MAGICS


def _shown(name: str) -> str:
    """A member name as quoted in a message (names are untrusted: repr, cut to a sane length)."""
    return repr(name if len(name) <= 120 else name[:120] + "...")


def _error(f: InputFile, rule: str, detail: str, record: str | None = None) -> SourceError:
    return SourceError(SOURCE_ID, f.name, rule, detail, record)


def unpack(f: InputFile, workdir: Path, limits: Limits) -> Path:
    """The export inside the zip ``f``, inflated to ``workdir/export.csv`` within ``limits``."""
    try:
        with zipfile.ZipFile(f.path) as archive:
            member = _single_member(f, archive)
            target = workdir / MEMBER_FILE
            with archive.open(member) as source, target.open("wb") as out:
                _copy(f, member, source, out, limits, f.path.stat().st_size)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise _error(f, "readable zip archive", f"{type(exc).__name__}: {exc}") from exc
    return target


def _single_member(f: InputFile, archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) != 1:
        names = ", ".join(_shown(m.filename) for m in members[:5]) + (", ..." if len(members) > 5 else "")
        raise _error(f, "zip archive holds one export file",
                     f"the archive holds {len(members)} files" + (f" ({names})" if names else ""))
    member = members[0]
    if member.flag_bits & 0x1:
        raise _error(f, "unencrypted zip member",
                     f"the member {_shown(member.filename)} is encrypted (password-protected)")
    return member


def _copy(f: InputFile, member: zipfile.ZipInfo, source, out, limits: Limits, archive_size: int) -> None:
    """Stream ``source`` into ``out`` chunk by chunk, checking every limit on the bytes read."""
    name = _shown(member.filename)
    if member.file_size > limits.max_bytes:
        raise _error(f, "size cap", f"the member {name} declares {member.file_size} bytes, more than the "
                     f"{limits.max_bytes}-byte cap (PIPELINE_MAX_RAW_BYTES)")
    # The compressed bytes read can be no more than the header says nor than the archive holds.
    packed = max(1, min(member.compress_size, archive_size))
    inflated = 0
    lines = 0  # line breaks seen so far
    run = 0  # bytes of the current, unfinished line
    while chunk := source.read(CHUNK):
        if inflated == 0:
            kind = next((k for magic, k in ARCHIVE_MAGICS.items() if chunk.startswith(magic)), None)
            if kind:
                raise _error(f, "export is not a nested archive",
                             f"the member {name} is itself a {kind} archive: unpack it and pass the export")
        inflated += len(chunk)
        run, lines = _check_lines(f, name, chunk, run, lines, limits.max_line_bytes)
        if inflated > limits.max_bytes:
            raise _error(f, "size cap", f"the member {name} inflates to more than the {limits.max_bytes}-byte "
                         f"cap (PIPELINE_MAX_RAW_BYTES); stopped there")
        if inflated > RATIO_GRACE_BYTES and inflated > packed * limits.max_ratio:
            raise _error(f, "compression ratio cap",
                         f"the member {name} inflates to more than {limits.max_ratio} times its {packed} "
                         f"compressed bytes (PIPELINE_MAX_UNZIP_RATIO): a zip bomb, or not an export; "
                         f"stopped after {inflated} bytes")
        out.write(chunk)


def _check_lines(f: InputFile, name: str, chunk: bytes, run: int, lines: int, max_line: int) -> tuple[int, int]:
    """Carry the line count and the current line's length over ``chunk``; refuse a line longer
    than ``max_line`` bytes (not counting its line break), naming its number."""
    parts = chunk.split(b"\n")
    lengths = [run + len(parts[0]), *map(len, parts[1:-1])] if len(parts) > 1 else []
    tail = len(parts[-1]) + (run if len(parts) == 1 else 0)
    if (lengths and max(lengths) > max_line) or tail > max_line:
        too_long = next((i for i, n in enumerate(lengths) if n > max_line), len(lengths))
        raise _error(f, "line length cap",
                     f"a line of the member {name} is longer than {max_line} bytes (PIPELINE_MAX_LINE_BYTES; "
                     "GDELT rows are under 3 KB): a binary file or a zip of zeros, not an export",
                     f"line {lines + too_long + 1}")
    return tail, lines + len(lengths)
