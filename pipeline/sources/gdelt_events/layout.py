"""The GDELT event-file layouts and how to tell them apart from a file's first line.

Column names and which product carries them are kept as data in ``columns.csv`` (GDELT 2.0: 61
columns; GDELT 1.0: the same minus the three ``*_ADM2Code`` columns, 58 with ``SOURCEURL`` or 57
without, as in the historical backfiles). A layout is picked from the column count of the first
line; a first line that names the columns is a re-exported file (comma-separated, quoted, ``NA``).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import SourceError

SOURCE_ID = "gdelt_events"
COLUMNS_CSV = Path(__file__).resolve().parent / "columns.csv"


@dataclass(frozen=True)
class Layout:
    """One physical layout: which GDELT version, which columns in which order, how delimited."""

    gdelt_version: int
    columns: tuple[str, ...]
    delimiter: str
    header: bool

    @property
    def first_data_line(self) -> int:
        return 2 if self.header else 1


@functools.cache
def canonical_columns() -> tuple[str, ...]:
    """All 61 GDELT 2.0 column names, in file order (the staged SQL reads these names)."""
    return tuple(row["name"] for row in _rows())


@functools.cache
def columns_by_count() -> dict[int, tuple[int, tuple[str, ...]]]:
    """Column count -> (GDELT version, column names in file order)."""
    rows = _rows()
    v2 = tuple(r["name"] for r in rows if r["gdelt2"] == "1")
    v1 = tuple(r["name"] for r in rows if r["gdelt1"] == "1")
    return {len(v2): (2, v2), len(v1): (1, v1), len(v1) - 1: (1, v1[:-1])}


def _rows() -> list[dict[str, str]]:
    with COLUMNS_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def first_line(path: Path, file_name: str, max_line_bytes: int) -> bytes:
    """The first line of ``path`` without its line break; a :class:`SourceError` when it is longer
    than ``max_line_bytes`` (a binary file, a file of zeros)."""
    with path.open("rb") as handle:
        head = handle.read(max_line_bytes + 1)
    line = head.split(b"\n", 1)[0]
    if len(line) > max_line_bytes:
        raise SourceError(SOURCE_ID, file_name, "line length cap",
                          f"the first line is longer than {max_line_bytes} bytes (PIPELINE_MAX_LINE_BYTES; GDELT "
                          "rows are under 3 KB): a binary file or a file of zeros, not an export", "line 1")
    return line.rstrip(b"\r")


def sniff(path: Path, file_name: str, max_line_bytes: int) -> Layout:
    """The layout of an (unzipped) event file, or a :class:`SourceError` saying why it is none."""
    if path.stat().st_size == 0:
        raise SourceError(SOURCE_ID, file_name, "not empty", "the file has no bytes")
    line = first_line(path, file_name, max_line_bytes)
    stripped = line.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] == b"<":
        raise SourceError(SOURCE_ID, file_name, "GDELT event export, not a web page",
                          f"the file starts with markup ({stripped[:60]!r}): an HTML/XML page, "
                          "e.g. an error page served instead of the export", "line 1")
    text = line.decode("utf-8", errors="replace").lstrip("\ufeff")
    delimiter = "\t" if "\t" in text else ","
    try:
        fields = next(csv.reader([text], delimiter=delimiter)) if delimiter == "," else text.split("\t")
    except csv.Error as exc:
        raise SourceError(SOURCE_ID, file_name, "readable CSV line", str(exc), "line 1") from exc
    known = columns_by_count()
    if len(fields) not in known:
        expected = " or ".join(str(n) for n in sorted(known))
        raise SourceError(SOURCE_ID, file_name, "known column count",
                          f"the first line has {len(fields)} {_name(delimiter)}-separated fields, "
                          f"expected {expected} (GDELT 1.0 or 2.0 events)", "line 1")
    version, names = known[len(fields)]
    header = fields[0].strip().strip('"').upper() == names[0].upper()
    if header:
        found = [f.strip().strip('"') for f in fields]
        wrong = [(i + 1, got, want) for i, (got, want) in enumerate(zip(found, names, strict=True))
                 if got.casefold() != want.casefold()]
        if wrong:
            pos, got, want = wrong[0]
            raise SourceError(SOURCE_ID, file_name, "header names the GDELT columns",
                              f"column {pos} is named {got!r}, expected {want!r}", "line 1")
    elif delimiter == ",":
        raise SourceError(SOURCE_ID, file_name, "known column count",
                          "comma-separated data without a header line: official exports are "
                          "tab-separated, re-exported ones name their columns", "line 1")
    return Layout(version, names, delimiter, header)


def _name(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else "comma"
