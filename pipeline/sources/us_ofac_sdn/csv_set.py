"""OFAC legacy CSV set -> staged tables: ``sdn.csv`` + ``add.csv`` + ``alt.csv`` +
``sdn_comments.csv`` (or the ``cons_*.csv`` set of the consolidated non-SDN lists).

No header row: each file is recognised by its column count. The layout carries no listing date;
nationality, citizenship, place of birth, identity documents, weak aliases and "Linked To:"
relations live only in the free-text ``Remarks`` (read by :mod:`.remarks`). A set read without one
of its side files (``lookups/csv_set.yml``) is parsed and recorded as partial, naming the component
it cannot cover (:mod:`pipeline.partial`): no ``add.csv``, no address is not every address removed.

Memory stays bounded whatever the file size: each file is read as one stream and written as it
is read. Only two small things are held: the ``ent_num``s of the main file (to audit orphan
alias/address rows) and the remarks overflow of ``sdn_comments.csv`` (a few hundred rows, needed
before the remarks are parsed).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from pipeline.errors import SourceError
from pipeline.partial import INCOMPLETE_SET, record_gap
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.us_ofac_sdn.lists import file_list
from pipeline.sources.us_ofac_sdn.remarks import Record, read_remarks
from pipeline.sources.us_ofac_sdn.vocab import mapping, read_yaml

LAYOUT = "csv_set"
# The files of a set, recognised by the column count of their first row.
CSV_LAYOUTS = {12: "main", 6: "address", 5: "alias", 2: "comments"}
CSV_NULL = "-0-"
ENTITY_TYPES = mapping("entity_types.yml", LAYOUT)
ALIAS_TYPES = mapping("alias_types.yml", LAYOUT)


def _lines(f: InputFile, ctx: ParseContext) -> Iterator[str]:
    """Decoded lines of a legacy CSV file: UTF-8 (a line that is not is read as Windows-1252 and
    audited), without the BOM or the trailing DOS end-of-file byte (0x1A)."""
    with open(f.path, "rb") as fh:
        first = True
        for raw in fh:
            if first:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
                first = False
            if b"\x1a" in raw:
                raw = raw.replace(b"\x1a", b"")
                if not raw.strip():
                    continue
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                ctx.audit("non_utf8_text", f.name, None)
                yield raw.decode("cp1252", errors="replace")


def _cell(value: str, raw: bool = False) -> str | None:
    """A CSV value: None for the null marker ``-0- ``; stripped unless ``raw`` (the remarks and
    their overflow are cut at a fixed width, so their edge spaces belong to the text)."""
    if value.strip() in (CSV_NULL, ""):
        return None
    return value if raw else value.strip()


def _rows(
    f: InputFile, ctx: ParseContext, width: int, raw_last: bool = False
) -> Iterator[tuple[int, list[str | None]]]:
    """(row number, cells) of one CSV file; nulls as None; checks width and ent_num."""
    reader = csv.reader(_lines(f, ctx))
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            ent = row[0].strip()
            if len(row) != width:
                raise SourceError(
                    ctx.source,
                    f.name,
                    "column count",
                    f"row {reader.line_num} (ent_num {ent}) has {len(row)} columns, "
                    f"expected {width}",
                    record=ent or None,
                )
            if not ent.isdigit():
                raise SourceError(
                    ctx.source,
                    f.name,
                    "numeric ent_num",
                    f"row {reader.line_num} has ent_num {ent!r}",
                    record=ent or None,
                )
            cells = [_cell(c) for c in row[1:-1]] + [_cell(row[-1], raw=raw_last)]
            yield reader.line_num, [ent, *cells]
    except csv.Error as exc:
        raise SourceError(
            ctx.source, f.name, "readable CSV", f"row {reader.line_num}: {exc}", record=ctx.record
        ) from None


def _layout(f: InputFile, ctx: ParseContext) -> str:
    reader = csv.reader(_lines(f, ctx))
    try:
        for row in reader:
            if row and not (len(row) == 1 and not row[0].strip()):
                layout = CSV_LAYOUTS.get(len(row))
                if layout is None:
                    raise SourceError(
                        ctx.source,
                        f.name,
                        "known OFAC CSV layout",
                        f"first row has {len(row)} columns; expected "
                        + ", ".join(f"{n} ({kind})" for n, kind in CSV_LAYOUTS.items()),
                    )
                return layout
    except csv.Error as exc:
        raise SourceError(ctx.source, f.name, "readable CSV", str(exc)) from None
    raise SourceError(ctx.source, f.name, "known OFAC CSV layout", "the file has no rows")


def parse_csv_set(files: list[InputFile], ctx: ParseContext) -> None:
    """Parse one legacy CSV set: main file(s) (12 columns), addresses (6), aliases (5) and the
    remarks overflow (2). Files are recognised by their first row, not by their name."""
    by_layout: dict[str, list[InputFile]] = {kind: [] for kind in CSV_LAYOUTS.values()}
    for f in files:
        by_layout[_layout(f, ctx)].append(f)

    # 1. The remarks overflow: small, and needed before a main row's remarks are parsed.
    overflow: dict[str, str] = {}
    origin: dict[str, InputFile] = {}
    for f in by_layout["comments"]:
        ctx.start_file(f)
        for _n, (ent, extension) in _rows(f, ctx, 2, raw_last=True):
            overflow[ent] = overflow.get(ent, "") + (extension or "")
            origin[ent] = f

    # 2. The main file(s).
    ent_nums: set[int] = set()
    main_lists: list[str] = []
    for f in by_layout["main"]:
        ctx.start_file(f)
        ctx.list_code = file_list(f)
        main_lists.append(ctx.list_code)
        for _n, row in _rows(f, ctx, 12, raw_last=True):
            ent_nums.add(int(row[0]))
            _csv_main(row, overflow.pop(row[0], None), f, ctx)
    _record_missing_members(by_layout, main_lists, ctx)

    ctx.record = None
    for ent, f in origin.items():  # overflow rows of records absent from the main file
        if ent in overflow:
            ctx.writer.set_lineage(f.sha256, f.name)
            ctx.record = ent
            ctx.audit("orphan_row", "comments/ent_num", ent)

    # 3. Aliases and addresses, streamed and written as read.
    for f in by_layout["alias"]:
        ctx.start_file(f)
        for _n, (ent, _alt_num, alt_type, alt_name, _alt_remarks) in _rows(f, ctx, 5):
            ctx.record = ent
            if int(ent) not in ent_nums:
                ctx.audit("orphan_row", "alias/ent_num", ent)
            name_type = ALIAS_TYPES.get((alt_type or "").lower())
            if name_type is None:
                ctx.audit("unknown_value", "alt_type", alt_type)
                name_type = "aka"
            if not alt_name:
                ctx.audit("missing_field", "alt_name", None)
                continue
            Record(ctx, ent).name(alt_name, name_type, None)

    for f in by_layout["address"]:
        ctx.start_file(f)
        rec: Record | None = None
        for _n, (ent, _add_num, _address, _city, country, _add_remarks) in _rows(f, ctx, 6):
            ctx.record = ent
            if int(ent) not in ent_nums:
                ctx.audit("orphan_row", "address/ent_num", ent)
            if rec is None or rec.rid != ent:
                rec = Record(ctx, ent)  # de-duplicates consecutive rows of one ent_num
            rec.link("address", country)
    ctx.record = None


def _record_missing_members(by_layout: dict[str, list[InputFile]], main_lists: list[str], ctx: ParseContext) -> None:
    """A set with fewer address, alias or comments files than main files is incomplete: record the
    component it cannot cover, naming the member(s) OFAC publishes for the main file's list (with
    the lineage of the first main file). Several main files and fewer members: which main file lacks
    its member cannot be told (members are recognised by their columns), so every candidate is named."""
    if not by_layout["main"]:
        return
    ctx.writer.set_lineage(by_layout["main"][0].sha256, by_layout["main"][0].name)
    for kind, member in read_yaml("csv_set.yml")["members"].items():
        if len(by_layout[kind]) >= len(by_layout["main"]):
            continue
        names = sorted({member["names"].get(code, f"the {kind} file of list {code}") for code in main_lists})
        record_gap(ctx.writer, INCOMPLETE_SET, member["component"], " or ".join(names))


def _programs(value: str | None) -> list[str]:
    """``NPWMD] [IFSR] [IRAN-CON-ARMS-EO`` -> ``['NPWMD', 'IFSR', 'IRAN-CON-ARMS-EO']``."""
    if not value:
        return []
    return [p for part in value.split("] [") if (p := part.strip().strip("[]").strip())]


def _csv_main(row: list[str | None], overflow: str | None, f: InputFile, ctx: ParseContext) -> None:
    (
        ent,
        name,
        sdn_type,
        program,
        _title,
        call_sign,
        _vess_type,
        _tonnage,
        _grt,
        vess_flag,
        _vess_owner,
        remarks,
    ) = row
    assert ent is not None
    ctx.record = ent
    ctx.tick()
    rec = Record(ctx, ent)
    entity_type = ENTITY_TYPES.get(sdn_type.lower() if sdn_type else CSV_NULL)
    if entity_type is None:
        ctx.audit("unknown_value", "SDN_Type", sdn_type)
        entity_type = "other"
    if not name:
        raise SourceError(ctx.source, f.name, "has a name", "SDN_Name is empty", record=ent)
    if overflow:
        remarks = (remarks or "") + overflow
    remarks = remarks.strip() if remarks else None
    rec.designation(entity_type, name, _programs(program), remarks)
    rec.link("flag", vess_flag)
    if call_sign:
        rec.identifier("call_sign", call_sign, "Call_Sign", None)
    read_remarks(rec, remarks)
