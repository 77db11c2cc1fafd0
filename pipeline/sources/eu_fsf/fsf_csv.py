"""EU FSF CSV 1.1 (``csvFullSanctionsList_1_1``) -> :class:`~.record.EntityRecord` s -> staged tables.

Layout: UTF-8 with a BOM, ``;``-separated, one header row of 118 columns
(``fileGenerationDate;Entity_LogicalId;Entity_EU_ReferenceNumber;...;Citizenship_Regulation_PublicationUrl``;
``lookups/csv_columns.csv`` maps each to the XML 1.1 element and attribute it holds), then one row
per combination of an entity's aliases, addresses, birth dates, identifications, citizenships and
regulations: an entity with three aliases and two addresses has six rows. Rows are grouped by
``Entity_LogicalId``; each detail is kept once (by its own ``*_LogicalId``, else by its values), so
the product collapses back to the entity, and a file that gives one detail per row reads the same.
Details are put back in the order of their ``*_LogicalId`` (the XML's order), so the primary name
does not depend on the order of the rows.

Memory stays bounded whatever the order of the rows: a first pass reads only the ids and notes each
entity's last row, the second pass writes each entity as soon as its last row has been read (the
real files keep an entity's rows together, so one entity is open at a time).

The layout has no ``delistingDate``, ``strong`` flag, ``additionalInformation`` or ``corrigendum``
(XML only). ``Entity_SubjectType`` and ``Entity_SubjectType_ClassificationCode`` are read
together: real files have been seen with ``P`` and ``person`` the other way round. The legacy
CSV 1.0 (``Entity_logical_id``, ``Naal_wholename``...) is refused with a named error.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from datetime import date

from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.eu_fsf.record import DETAILS, EntityRecord, Stager, parse_date
from pipeline.sources.eu_fsf.vocab import csv_columns

DELIMITER = ";"
ID_COLUMN = "Entity_LogicalId"
DATE_COLUMN = "fileGenerationDate"
NAME_COLUMNS = ("NameAlias_WholeName", "NameAlias_LastName", "NameAlias_FirstName")
#: Header cells of the legacy CSV 1.0 layout (codebook FSF-CSV-attributes csv-1.0).
LEGACY_COLUMNS = ("Entity_logical_id", "Naal_wholename", "Naal_logical_id", "Date_file")
BOM = b"\xef\xbb\xbf"


def header_kind(first_line: str) -> str:
    """``1.1`` for a CSV 1.1 header, ``1.0`` for the legacy layout, ``other`` otherwise."""
    cells = {c.strip().strip('"') for c in first_line.lstrip("\ufeff").split(DELIMITER)}
    if ID_COLUMN in cells:
        return "1.1"
    if cells & set(LEGACY_COLUMNS) or any(c in first_line for c in LEGACY_COLUMNS):
        return "1.0"
    return "other"


def first_line(f: InputFile) -> str:
    """The file's first line, decoded leniently (for sniffing), without the BOM."""
    with open(f.path, "rb") as fh:
        head = fh.readline(65536)
    return head.removeprefix(BOM).decode("utf-8", errors="replace").rstrip("\r\n")


def _lines(f: InputFile, ctx: ParseContext, audit: bool) -> Iterator[str]:
    """Decoded lines without the BOM: UTF-8; a line that is not is read as Windows-1252 (kept, audited)."""
    with open(f.path, "rb") as fh:
        first = True
        for raw in fh:
            if first:
                raw = raw.removeprefix(BOM)
                first = False
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                if audit:
                    ctx.audit("non_utf8_text", f.name, None)
                yield raw.decode("cp1252", errors="replace")


def _rows(f: InputFile, ctx: ParseContext, audit: bool) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank row, the header first; a CSV error names its line.
    Empty cells after the last header column (a trailing ``;`` on the rows only) are dropped."""
    reader = csv.reader(_lines(f, ctx, audit), delimiter=DELIMITER)
    width = None
    try:
        for row in reader:
            if not row or not any(cell.strip() for cell in row):
                continue
            if width is None:
                width = len(row)
            elif len(row) > width and not any(cell.strip() for cell in row[width:]):
                if audit:
                    ctx.audit("layout_deviation", "trailing delimiter", "empty cells past the header's last column")
                row = row[:width]
            yield reader.line_num, row
    except csv.Error as exc:
        raise ctx.error("readable CSV", f"line {reader.line_num}: {exc}") from None


class _Group:
    """The rows of one entity folded back into one record."""

    def __init__(self, where: str) -> None:
        self.rec = EntityRecord(where=where)
        self._seen: set[tuple] = set()

    def record(self) -> EntityRecord:
        """The record, each kind of detail in the order of its logicalIds (the XML's order: the
        primary name is the first alias), whatever the order of the rows."""
        for details in self.rec.details.values():
            details.sort(key=lambda d: int(d["logicalId"]) if d.get("logicalId", "").isdigit() else 1 << 62)
        return self.rec

    def _once(self, kind: str, key: tuple) -> bool:
        if (kind, key) in self._seen:
            return False
        self._seen.add((kind, key))
        return True

    def add(self, parts: dict[str, dict[str, str]], ctx: ParseContext) -> None:
        rec = self.rec
        for element, target in (("sanctionEntity", rec.attrs), ("subjectType", rec.subject)):
            for attr, value in parts.get(element, {}).items():
                if attr == "remark":
                    if value not in rec.remarks:
                        rec.remarks.append(value)
                elif attr not in target:
                    target[attr] = value
                elif target[attr] != value:
                    ctx.audit("conflicting_value", f"{element}@{attr}", f"{target[attr]} / {value}"[:500])
        regulation = parts.get("regulation")
        if regulation and self._once("regulation", tuple(sorted(regulation.items()))):
            rec.regulations.append(regulation)
        for element in DETAILS:
            detail = parts.get(element)
            if not detail:
                continue
            key = (detail["logicalId"],) if detail.get("logicalId") else tuple(sorted(detail.items()))
            if self._once(element, key):
                rec.details[element].append(detail)


def parse_fsf_csv(f: InputFile, ctx: ParseContext, stager: Stager) -> None:
    """Read one FSF CSV 1.1 file into the staged tables (two passes, see the module docstring)."""
    rows = _rows(f, ctx, audit=False)
    header_line, header = next(rows, (0, []))
    header = [cell.strip() for cell in header]
    if ID_COLUMN not in header or not set(NAME_COLUMNS) & set(header):
        raise ctx.error("CSV 1.1 header", f"line {header_line or 1} has no {ID_COLUMN} and name columns "
                        f"(found: {'; '.join(header[:6])}...)")
    width = len(header)
    id_at = header.index(ID_COLUMN)
    date_at = header.index(DATE_COLUMN) if DATE_COLUMN in header else None

    # pass 1: ids, row widths, the file's date, each entity's last row
    last_row: dict[str, int] = {}
    file_date: str | None = None
    count = 0
    for line, row in rows:
        count += 1
        lid = row[id_at].strip() if len(row) > id_at else ""
        if len(row) != width:
            raise ctx.error("column count", f"line {line} has {len(row)} columns, the header {width}",
                            record=lid or None)
        if not lid.isdigit():
            raise ctx.error("numeric Entity_LogicalId", f"line {line} has Entity_LogicalId {lid!r}",
                            record=lid or None)
        last_row[lid] = count
        if file_date is None and date_at is not None and row[date_at].strip():
            file_date = row[date_at].strip()
    if count == 0:
        raise ctx.error("has records", "the file has a header and no rows")
    snapshot = _snapshot(file_date, ctx)

    columns = csv_columns()
    mapped = [columns.get(name) for name in header]
    unknown = Counter()
    open_groups: dict[str, _Group] = {}
    number = 0
    dates: Counter = Counter()
    second = _rows(f, ctx, audit=True)
    next(second)  # the header
    for line, row in second:
        number += 1
        lid = row[id_at].strip()
        parts: dict[str, dict[str, str]] = {}
        for index, cell in enumerate(row):
            value = cell.strip()
            if not value:
                continue
            target = mapped[index]
            if target is None:
                unknown[header[index]] += 1
                continue
            element, attribute = target
            if element == "export":
                dates[value] += 1
                continue
            parts.setdefault(element, {})[attribute] = value
        group = open_groups.get(lid)
        if group is None:
            group = open_groups[lid] = _Group(f"line {line}")
        group.add(parts, ctx)
        if last_row[lid] == number:
            del open_groups[lid]
            stager.stage(group.record(), snapshot)
    for name in header:
        if columns.get(name) is None:
            ctx.audit("unknown_field", f"column {name}", f"{unknown[name]} non-empty cells", max(unknown[name], 1))
    if len(dates) > 1:
        ctx.audit("conflicting_value", DATE_COLUMN, ", ".join(sorted(dates)))


def _snapshot(value: str | None, ctx: ParseContext) -> date:
    """The file's date (``fileGenerationDate``, ``DD/MM/YYYY``), set as the snapshot; without one,
    the caller's snapshot date (``--snapshot-date``) or today applies."""
    if value is None:
        ctx.audit("no_file_date", DATE_COLUMN, None)
        return ctx.writer.snapshot_date or date.today()
    try:
        found = parse_date(value)
    except ValueError:
        raise ctx.error("fileGenerationDate", f"{value!r} is not a date") from None
    assert found is not None
    ctx.set_snapshot(found)
    return found
