"""Reading the UK CSV files (ConList, FCDO): one metadata line, a header, one row per name.

Lines are decoded one by one as UTF-8 without the BOM (a line that is not UTF-8 is read as
Windows-1252 and audited as ``non_utf8_text``), so memory holds one row at a time. Every row must
be as wide as the header (a truncated last line is refused with its line number); the file size
is capped before parsing (``ParseContext.max_bytes``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext

#: A first row with fewer non-empty cells than this is the metadata line, not the header.
HEADER_MIN_CELLS = 3


@dataclass(frozen=True)
class Head:
    """The first rows of a UK CSV file: the metadata line (``Last Updated,10/04/2025`` or
    ``Report Date: 08-Oct-2026``; ``None`` when the file starts with its header) and the header."""

    meta: tuple[str, ...] | None
    header: tuple[str, ...]
    header_line: int


def _lines(f: InputFile, ctx: ParseContext) -> Iterator[str]:
    with open(f.path, "rb") as fh:
        first = True
        for raw in fh:
            if first:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
                first = False
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                ctx.audit("non_utf8_text", f.name, None)
                yield raw.decode("cp1252", errors="replace")


def _blank(row: list[str]) -> bool:
    return not any(cell.strip() for cell in row)


def _reader(f: InputFile, ctx: ParseContext) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(_lines(f, ctx))
    try:
        for row in reader:
            if not _blank(row):
                yield reader.line_num, row
    except csv.Error as exc:
        raise SourceError(ctx.source, f.name, "readable CSV", f"line {reader.line_num}: {exc}",
                          record=ctx.record) from None


def read_head(f: InputFile, ctx: ParseContext) -> Head:
    """The metadata line and the header (the first row with at least three cells)."""
    meta: tuple[str, ...] | None = None
    for line, row in _reader(f, ctx):
        cells = tuple(cell.strip() for cell in row)
        if sum(1 for c in cells if c) < HEADER_MIN_CELLS:
            if meta is not None:
                raise SourceError(ctx.source, f.name, "a header on line 1 or 2",
                                  f"lines 1 to {line} hold no header row (found {list(meta)} then {list(cells)})")
            meta = tuple(c for c in cells if c)
            continue
        return Head(meta, cells, line)
    raise SourceError(ctx.source, f.name, "has a header", "the file has no header row")


def rows(f: InputFile, ctx: ParseContext, head: Head) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, cells by column name) of every data row after the header."""
    duplicates = sorted({c for c in head.header if c and head.header.count(c) > 1})
    if duplicates:
        raise SourceError(ctx.source, f.name, "unique column names", f"line {head.header_line} repeats {duplicates}")
    width = len(head.header)
    for line, row in _reader(f, ctx):
        if line <= head.header_line:
            continue
        if len(row) < width or (len(row) > width and not _blank(row[width:])):
            raise SourceError(ctx.source, f.name, "column count",
                              f"line {line} has {len(row)} cells, the header {width} (a truncated or "
                              "shifted row)", record=ctx.record)
        yield line, dict(zip(head.header, row, strict=False))
