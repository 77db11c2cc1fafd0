"""``targets.simple.csv`` -> staged tables.

One row per target, already deduplicated, every cell quoted; multi-valued cells are themselves
``;``-joined CSV (a value holding ``;`` or a quote is quoted inside the cell). What the layout
cannot say, and how it is staged:

- no Sanction detail: the programmes are the row's ``program_ids`` (absent before 2025), the
  remarks its ``sanctions`` texts; there is no listing date (``first_seen`` is when OpenSanctions
  first saw the entity, not a listing date), so ``listed_on`` stays empty;
- ``countries`` is the union of every country-typed property (nationality, flag, address,
  Canada's regime country...): it is staged as link type ``other``, which only the ``any`` basis
  counts;
- ``identifiers`` are untyped: ``IMO`` + 7 digits on a vessel is its IMO number, on a company an
  IMO company number (``registration``); the rest is ``other``;
- ``dataset`` holds dataset titles: they name the lists through ``lookups/datasets.csv``.

Lines are read with a byte cap and decoded as UTF-8 (BOM dropped); a row wider or narrower than
the header (a truncated or shifted row) refuses the file with its line number.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.opensanctions import jsonl, vocab
from pipeline.sources.opensanctions.stage import (
    ANY_LINK,
    Listing,
    Target,
    assign_programs,
    imo_digits,
    staged_lists,
    write_target,
)

_SLUG = re.compile(r"[^a-z0-9]+")


def _lines(f: InputFile, ctx: ParseContext) -> Iterator[str]:
    with open(f.path, "rb") as handle:
        number = 0
        while True:
            start = handle.tell()
            raw, fits = jsonl.read_line(handle)
            if not raw and handle.tell() == start:
                return
            number += 1
            if not fits:
                raise SourceError(ctx.source, f.name, "line size cap",
                                  f"line {number} is longer than {jsonl.MAX_LINE_BYTES} bytes", record=f"line {number}")
            if number == 1:
                raw = raw.removeprefix(jsonl.BOM)
            try:
                yield raw.decode("utf-8") + "\n"
            except UnicodeDecodeError as exc:
                raise SourceError(ctx.source, f.name, "UTF-8 text",
                                  f"line {number} is not UTF-8 ({exc.reason} at byte {exc.start})",
                                  record=f"line {number}") from None


def split_cell(text: str) -> list[str]:
    """The values of a multi-valued cell (``;``-joined CSV), empty values dropped."""
    if not text:
        return []
    return [v for row in csv.reader(io.StringIO(text), delimiter=";") for v in row if v.strip()]


def _list_name(ctx: ParseContext, title: str) -> str:
    name = vocab.dataset_by_title().get(" ".join(title.split()).casefold())
    if name is None:
        name = _SLUG.sub("_", title.casefold()).strip("_")[:60] or "unknown"
        ctx.audit("unknown_dataset_title", "dataset", title)
    return name


def parse_simple_csv(f: InputFile, ctx: ParseContext) -> None:
    columns = vocab.simple_csv_columns()
    reader = csv.reader(_lines(f, ctx))
    try:
        header = [c.strip() for c in next(reader)]
    except StopIteration:
        raise SourceError(ctx.source, f.name, "has a header", "the file is empty") from None
    except csv.Error as exc:
        raise SourceError(ctx.source, f.name, "readable CSV", f"line 1: {exc}") from None
    missing = [c for c, (_action, required) in columns.items() if required and c not in header]
    if missing:
        raise SourceError(ctx.source, f.name, "targets.simple.csv columns",
                          f"the header lacks {', '.join(missing)} (found {', '.join(header)[:200]})")
    for name in header:
        if name not in columns:
            ctx.audit("unknown_field", name, None)
    width = len(header)
    last_seen = ""
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != width:
                raise SourceError(ctx.source, f.name, "column count",
                                  f"line {line} has {len(row)} cells, the header {width} (a truncated or shifted row)",
                                  record=f"line {line}")
            cells = dict(zip(header, row, strict=True))
            ctx.record = cells["id"] or f"line {line}"
            ctx.tick()
            last_seen = max(last_seen, cells["last_seen"])
            target = _target(ctx, cells, line, f)
            if target is not None:
                write_target(ctx, target)
    except csv.Error as exc:
        raise SourceError(ctx.source, f.name, "readable CSV", f"line {reader.line_num}: {exc}",
                          record=f"line {reader.line_num}") from None
    if last_seen:
        try:
            ctx.set_snapshot(date.fromisoformat(last_seen[:10]))
        except ValueError:
            ctx.audit("unreadable_date", "last_seen", last_seen)


def _target(ctx: ParseContext, cells: dict[str, str], line: int, f: InputFile) -> Target | None:
    ident, schema = cells["id"].strip(), cells["schema"].strip()
    if not ident or not schema:
        raise SourceError(ctx.source, f.name, "targets.simple.csv row", f"line {line} has no id or no schema",
                          record=f"line {line}")
    found = vocab.schemata().get(schema)
    if found is None or found.role != "thing":
        ctx.audit("unknown_value", "schema", schema)
    lists = staged_lists(ctx, [_list_name(ctx, t) for t in split_cell(cells["dataset"])])
    if not lists:
        ctx.audit("target_not_staged", "dataset", cells["dataset"][:200] or None)
        return None
    remarks = split_cell(cells.get("sanctions", ""))
    listings = [Listing(name, remarks=list(remarks)) for name in lists]
    assign_programs(ctx, listings, split_cell(cells.get("program_ids", "")))
    for listing in listings:
        for program in listing.programs:
            if vocab.program_refinements().get(program):
                ctx.audit("program_not_refined", program, None)
    entity_type = (found.entity_type if found and found.role == "thing" else None) or "other"
    target = Target(ident, schema, entity_type, cells["name"].strip() or ident, listings)
    target.names.extend((name, "aka", None) for name in split_cell(cells["aliases"]))
    target.codes.extend((ANY_LINK, code) for code in split_cell(cells["countries"]))
    target.birth_dates.extend((value, "birth_date") for value in split_cell(cells.get("birth_date", "")))
    for value in split_cell(cells["identifiers"]):
        if imo_digits(value) and value.strip().upper().startswith("IMO"):
            if schema == "Vessel":
                target.identifiers.append(("imo", value, None, "identifiers (IMO ship number)"))
            else:
                target.identifiers.append(("registration", value, None, "identifiers (IMO company number)"))
        else:
            target.identifiers.append(("other", value, None, "identifiers"))
    return target
