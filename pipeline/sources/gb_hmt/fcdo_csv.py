"""FCDO UK Sanctions List CSV (``UK-Sanctions-List.csv``) -> staged tables.

Layout: line 1 a report-date line (``Report Date: 08-Oct-2026``: the snapshot), line 2 the
header (58 columns, ``Last Updated,Unique ID,OFSI Group ID,UN Reference Number,Name 6,...``), then
one row per name (and address) of a designation: the rows of one ``Unique ID`` repeat everything
else. One ``Unique ID`` is one designation under exactly one regime; ``Regime Name`` is the
regulation's title (``The Russia (Sanctions) (EU Exit) Regulations 2019``), mapped to the regime
label by ``lookups/regimes.csv``. The site serves the file as a generic binary type: it is
recognised by its first lines, never by its name or content type. Columns the layout does not
list (``lookups/fields.csv``) are audited, never dropped silently.
"""

from __future__ import annotations

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.gb_hmt import csvread, vocab
from pipeline.sources.gb_hmt.record import (
    AUDIT_CHARS,
    Designation,
    clean,
    parse_date,
    parse_report_date,
    resolve_regime,
    write,
)

LAYOUT = "fcdo_csv"
REQUIRED = ("Unique ID", "Regime Name", "Designation Type", "Name 6")
_NAME_PARTS = ("Name 1", "Name 2", "Name 3", "Name 4", "Name 5", "Name 6")


def is_layout(head: csvread.Head) -> bool:
    return {"Unique ID", "Designation Type"} <= set(head.header)


def parse_fcdo_csv(f: InputFile, ctx: ParseContext) -> None:
    """Parse one ``UK-Sanctions-List.csv`` into the staged tables."""
    head = csvread.read_head(f, ctx)
    missing = [c for c in REQUIRED if c not in head.header]
    if missing:
        raise SourceError(ctx.source, f.name, "UK Sanctions List header", f"line {head.header_line} lacks {missing}")
    snapshot = parse_report_date(" ".join(head.meta)) if head.meta else None
    if snapshot is None:
        ctx.audit("no_report_date", "Report Date", " ".join(head.meta or ())[:AUDIT_CHARS] or None)
    else:
        ctx.set_snapshot(snapshot)
    known = vocab.fields(LAYOUT)
    unknown = [c for c in head.header if c and c not in known]
    generic = [(c, rule) for c, rule in known.items() if rule.action in ("country", "id", "relation", "birth_date")]

    designations: dict[str, Designation] = {}
    for line, row in csvread.rows(f, ctx, head):
        uid = clean(row["Unique ID"])
        if uid is None:
            raise ctx.error("Unique ID present", f"line {line} has no Unique ID", record=f"line {line}")
        ctx.record = uid
        des = designations.get(uid)
        if des is None:
            des = designations[uid] = _designation(uid, row, ctx)
        else:
            _check_same(des, row, ctx)
        _name(des, row, ctx)
        for column, rule in generic:
            if column in row:
                des.apply(rule, column, row[column])
        des.remark(row.get("Other Information"))
        for column in unknown:
            if value := clean(row[column]):
                ctx.audit("unknown_field", column, value[:AUDIT_CHARS])
    used: set[str] = set()
    for des in designations.values():
        ctx.record = des.uk_reference
        des.assign_id(des.regime.program if des.regime else None, used, ctx)
        write(des, ctx)
    ctx.record = None


def _designation(uid: str, row: dict[str, str], ctx: ParseContext) -> Designation:
    des = Designation(record_id="", group_id=clean(row.get("OFSI Group ID")),
                      regime=resolve_regime(clean(row["Regime Name"]), ctx, "Regime Name"))
    des.uk_reference = uid
    des.un_reference = clean(row.get("UN Reference Number"))
    raw_type = clean(row["Designation Type"])
    des.entity_type = vocab.entity_type(raw_type or "")
    if des.entity_type is None:
        ctx.audit("unknown_value", "Designation Type", raw_type)
        des.entity_type = "other"
    des.listed_on, problem = parse_date(row.get("Date Designated"))
    if problem:
        ctx.audit(problem, "Date Designated", clean(row.get("Date Designated")))
    return des


def _check_same(des: Designation, row: dict[str, str], ctx: ParseContext) -> None:
    """Designation-level cells repeat on every row of a ``Unique ID``; a row that says otherwise
    is audited (the first row's value is kept)."""
    regime = vocab.regimes().get(vocab.norm(clean(row["Regime Name"]) or ""))
    if des.regime and regime and regime.program != des.regime.program:
        ctx.audit("conflicting_value", "Regime Name", clean(row["Regime Name"]))
    if clean(row.get("OFSI Group ID")) not in (None, des.group_id):
        ctx.audit("conflicting_value", "OFSI Group ID", clean(row.get("OFSI Group ID")))


def _name(des: Designation, row: dict[str, str], ctx: ParseContext) -> None:
    raw_type = clean(row.get("Name type")) or ""
    name_type = vocab.name_type(raw_type)
    if name_type is None:
        ctx.audit("unknown_value", "Name type", raw_type or None)
        name_type = "aka"
    raw_quality = clean(row.get("Alias strength"))
    quality = vocab.alias_quality(raw_quality) if raw_quality else None
    if raw_quality and quality is None:
        ctx.audit("unknown_value", "Alias strength", raw_quality)
    parts = [clean(row.get(p)) for p in _NAME_PARTS]
    des.name(" ".join(p for p in parts if p), name_type, quality)
    des.name(row.get("Name non-latin script"), "original_script", None)
