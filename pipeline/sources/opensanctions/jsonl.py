"""Bounded reading of OpenSanctions' JSON-lines files (``entities.ftm.json``, ``targets.nested.json``,
``entities.delta.json``): one JSON object per line, or a named refusal.

A line is read with a byte cap (:data:`MAX_LINE_BYTES`), so a file without line breaks never sits
whole in memory; each line goes through :func:`pipeline.jsonsafe.loads` (nesting depth measured
before parsing, non-UTF-8 bytes and syntax errors refused with their rule). Every refusal names the
file, the line and the rule; one bad line refuses the file (an export is all or nothing).
"""

from __future__ import annotations

from collections.abc import Iterator

from pipeline import jsonsafe
from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext

#: The longest line taken: one merged entity with every name, referent and nested adjacent entity
#: (the largest real lines are a few hundred KB; targets.nested.json lines can reach a few MB).
MAX_LINE_BYTES = 32 << 20
#: FtM lines nest object -> properties -> list (3 levels); a delta wraps them once more; nested
#: exports embed adjacent entities a few levels deep.
MAX_DEPTH = 24
BOM = b"\xef\xbb\xbf"


def read_line(handle, limit: int | None = None) -> tuple[bytes, bool]:
    """The next line (without its end) and whether it fits ``limit`` bytes (default
    :data:`MAX_LINE_BYTES`)."""
    limit = limit or MAX_LINE_BYTES
    raw = handle.readline(limit + 1)
    if len(raw) > limit and not raw.endswith(b"\n"):
        return raw, False
    return raw.rstrip(b"\r\n"), True


def objects(f: InputFile, ctx: ParseContext) -> Iterator[tuple[int, int, dict]]:
    """(line number, byte offset, object) of every non-blank line of ``f``."""
    with open(f.path, "rb") as handle:
        number = 0
        while True:
            start = handle.tell()
            raw, fits = read_line(handle)
            if not raw and handle.tell() == start:
                return
            number += 1
            if fits and not raw.strip():
                continue
            yield number, start, _load(f, ctx, handle, raw, fits, number)


def objects_at(f: InputFile, ctx: ParseContext, lines: list[tuple[int, int]]) -> Iterator[tuple[int, int, dict]]:
    """(line number, byte offset, object) of the lines of ``f`` at the given (offset, line number),
    read again after a first pass found them (the second pass skips the other lines)."""
    with open(f.path, "rb") as handle:
        for start, number in lines:
            handle.seek(start)
            raw, fits = read_line(handle)
            yield number, start, _load(f, ctx, handle, raw, fits, number)


def _load(f: InputFile, ctx: ParseContext, handle, raw: bytes, fits: bool, number: int) -> dict:
    if not fits:
        raise SourceError(ctx.source, f.name, "line size cap",
                          f"line {number} is longer than {MAX_LINE_BYTES} bytes (no line break): not "
                          "one JSON object per line", record=f"line {number}")
    if number == 1:
        raw = raw.removeprefix(BOM)
    try:
        value = jsonsafe.loads(raw, max_depth=MAX_DEPTH)
    except jsonsafe.JsonRefused as refused:
        where = f" at character {refused.column}" if refused.column else ""
        last = handle.read(1) == b""
        cut = " (the last line is cut short: a truncated file?)" if last and refused.rule == "JSON" else ""
        raise SourceError(ctx.source, f.name, f"JSON lines ({refused.rule})",
                          f"line {number}{where}: {refused.detail}{cut}", record=f"line {number}") from None
    if not isinstance(value, dict):
        raise SourceError(ctx.source, f.name, "JSON lines (one object per line)",
                          f"line {number} is a JSON {type(value).__name__}, not an object",
                          record=f"line {number}")
    return value
