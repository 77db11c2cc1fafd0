"""OFSI Consolidated List CSV (``ConList.csv``, retired 28 January 2026) -> staged tables.

Layout: line 1 ``Last Updated,<dd/mm/yyyy>`` (the publication date: the snapshot), line 2 the
header, then **one row per name variation** and address and date of birth of a target: the rows
of a target repeat everything else. ``Group ID`` is the target; a designation is a (``Group ID``,
``Regime``) pair (one target listed under two regimes has two designations). Multi-valued cells
are numbered (``(1) Lebanon (2) Belgium``); the UK and UN references, ship details (IMO number,
flag, owners), registration numbers and the statement of reasons are ``(key):value`` pairs inside
``Other Information``. ``Country`` is the address country.

Rows are gathered per designation in insertion order: memory holds the distinct values of the
file (its names, links and identifiers), never its rows.
"""

from __future__ import annotations

import re

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.gb_hmt import csvread, vocab
from pipeline.sources.gb_hmt.record import (
    AUDIT_CHARS,
    Designation,
    clean,
    parse_date,
    resolve_regime,
    uk_refs,
    un_ref,
    write,
)

LAYOUT = "conlist_csv"
#: Columns the layout cannot do without.
REQUIRED = ("Group ID", "Group Type", "Regime", "Name 6")
#: ``(Key):`` openings inside ``Other Information``: a short label starting with a letter (so a
#: resolution year such as ``resolution 2662 (2022):`` is text, not a key).
_INFO_KEY = re.compile(r"\(([A-Za-z][^()]{0,60})\):")
_NAME_PARTS = ("Name 1", "Name 2", "Name 3", "Name 4", "Name 5", "Name 6")


def is_layout(head: csvread.Head) -> bool:
    return {"Group ID", "Group Type"} <= set(head.header)


def parse_conlist_csv(f: InputFile, ctx: ParseContext) -> None:
    """Parse one ``ConList.csv`` into the staged tables."""
    head = csvread.read_head(f, ctx)
    missing = [c for c in REQUIRED if c not in head.header]
    if missing:
        raise SourceError(ctx.source, f.name, "ConList header", f"line {head.header_line} lacks {missing}")
    snapshot = _snapshot(head)
    if snapshot is None:
        ctx.audit("no_report_date", "Last Updated", " ".join(head.meta or ())[:AUDIT_CHARS] or None)
    else:
        ctx.set_snapshot(snapshot)
    if "UK Sanctions List Date Designated" not in head.header:
        # ConList files before the February 2022 format give only 'Listed On': no listing date is
        # taken from it (see source.yml); the history models date these designations by later files
        ctx.audit("missing_field", "UK Sanctions List Date Designated", "listing dates left empty")
    known = vocab.fields(LAYOUT)
    unknown = [c for c in head.header if c and c not in known]
    generic = [(c, rule) for c, rule in known.items() if rule.action in ("country", "id", "relation", "birth_date")]

    designations: dict[tuple[str, str], Designation] = {}
    firsts: dict[tuple[str, str], dict[str, str]] = {}  # the designation-level cells of the first row
    info_seen: dict[tuple[str, str], set[str]] = {}
    for line, row in csvread.rows(f, ctx, head):
        group = clean(row["Group ID"])
        if group is None:
            raise ctx.error("Group ID present", f"line {line} has no Group ID", record=f"line {line}")
        ctx.record = group
        regime_raw = clean(row["Regime"]) or ""
        key = (group, regime_raw)
        des = designations.get(key)
        if des is None:
            des = designations[key] = Designation(record_id="", group_id=group,
                                                  regime=resolve_regime(regime_raw or None, ctx, "Regime"))
            if not regime_raw:
                ctx.audit("missing_field", "Regime", None)
            _designation_fields(des, row, ctx)
            firsts[key] = {c: row.get(c) for c in ("UK Sanctions List Date Designated", "Group Type")}
        else:
            _check_same(des, firsts[key], row, ctx)
        _name(des, row, ctx)
        for column, rule in generic:
            if column in row:
                des.apply(rule, column, row[column])
        info = clean(row.get("Other Information"))
        if info and info not in info_seen.setdefault(key, set()):
            info_seen[key].add(info)
            _other_information(des, info, ctx)
        for column in unknown:
            if value := clean(row[column]):
                ctx.audit("unknown_field", column, value[:AUDIT_CHARS])

    used: set[str] = set()
    for (group, regime_raw), des in designations.items():
        ctx.record = group
        _reference(des, ctx)
        des.assign_id(regime_raw, used, ctx)
        write(des, ctx)
    ctx.record = None


def _snapshot(head: csvread.Head):
    if head.meta and len(head.meta) >= 2 and vocab.norm(head.meta[0]) == "last updated":
        return parse_date(head.meta[1])[0]
    return None


def _date(value: str | None, column: str, ctx: ParseContext):
    found, problem = parse_date(value)
    if problem:
        ctx.audit(problem, column, clean(value))
    return found


def _designation_fields(des: Designation, row: dict[str, str], ctx: ParseContext) -> None:
    raw_type = clean(row["Group Type"])
    des.entity_type = vocab.entity_type(raw_type or "")
    if des.entity_type is None:
        ctx.audit("unknown_value", "Group Type", raw_type)
        des.entity_type = "other"
    des.listed_on = _date(row.get("UK Sanctions List Date Designated"), "UK Sanctions List Date Designated", ctx)
    _date(row.get("Listed On"), "Listed On", ctx)


def _check_same(des: Designation, first: dict[str, str], row: dict[str, str], ctx: ParseContext) -> None:
    """The designation-level cells repeat on every row of a designation; a row that says
    otherwise is audited (the first row's value is kept)."""
    for column in ("UK Sanctions List Date Designated", "Group Type"):
        if row.get(column) != first.get(column):
            ctx.audit("conflicting_value", column, clean(row.get(column)))


def _name(des: Designation, row: dict[str, str], ctx: ParseContext) -> None:
    raw_type = clean(row.get("Alias Type")) or ""
    name_type = vocab.name_type(raw_type)
    if name_type is None:
        ctx.audit("unknown_value", "Alias Type", raw_type or None)
        name_type = "aka"
    raw_quality = clean(row.get("Alias Quality"))
    quality = vocab.alias_quality(raw_quality) if raw_quality else None
    if raw_quality and quality is None:
        ctx.audit("unknown_value", "Alias Quality", raw_quality)
    parts = [clean(row.get(p)) for p in _NAME_PARTS]
    des.name(" ".join(p for p in parts if p), name_type, quality)
    des.name(row.get("Name Non-Latin Script"), "original_script", None)


def _other_information(des: Designation, text: str, ctx: ParseContext) -> None:
    """``(UK Sanctions List Ref):RUS0184. free text (UN Ref):... (IMO number):7408873 ...``:
    each key's value goes where ``fields.csv`` (layout ``conlist_info``) says; the free text after
    the references and before the first key goes to ``remarks``."""
    keys = vocab.info_keys()
    matches = list(_INFO_KEY.finditer(text))
    des.remark(text[: matches[0].start()] if matches else text)
    for i, match in enumerate(matches):
        label = match.group(1)
        value = clean(text[match.end(): matches[i + 1].start() if i + 1 < len(matches) else len(text)])
        found = keys.get(vocab.norm(label))
        if found is None:
            ctx.audit("unknown_field", f"Other Information ({label})", (value or "")[:AUDIT_CHARS] or None)
            continue
        name, rule = found
        if name == "UK Sanctions List Ref":
            refs = uk_refs(value)
            if not refs:
                ctx.audit("unreadable_reference", "Other Information (UK Sanctions List Ref)",
                          (value or "")[:AUDIT_CHARS] or None)
            des.uk_candidates = (des.uk_candidates or []) + [r for r in refs if r not in (des.uk_candidates or [])]
            des.remark(_tail(value, refs))
        elif name == "UN Ref":
            ref = un_ref(value)
            if ref is None:
                ctx.audit("unreadable_reference", "Other Information (UN Ref)", (value or "")[:AUDIT_CHARS] or None)
            else:
                des.un_reference = des.un_reference or ref
            des.remark(_tail(value, [ref] if ref else []))
        elif rule.action in ("country", "id", "relation"):
            des.apply(rule, f"Other Information ({name})", value)


def _tail(value: str | None, refs: list[str]) -> str | None:
    """The free text after the references at the start of a value (``RUS2305. Financial
    sanctions ...`` -> ``Financial sanctions ...``)."""
    if not value:
        return None
    head, sep, rest = value.partition(". ")
    if refs and all(r in head for r in refs):
        return rest if sep else None
    return value if not refs else None


def _reference(des: Designation, ctx: ParseContext) -> None:
    """The UK Sanctions List reference of the designation (the FCDO ``Unique ID``): the one its
    ``(UK Sanctions List Ref)`` gives or, when it gives several (``BEL0047 and GHR0051``), the one
    of the designation's regime. ConList files before February 2022 have none (audited)."""
    refs = des.uk_candidates or []
    prefix = des.regime.prefix if des.regime else ""
    chosen = refs[0] if len(refs) == 1 else next((r for r in refs if prefix and r.startswith(prefix)), None)
    if chosen is not None:
        des.uk_reference = chosen
    elif des.uk_candidates is None:
        ctx.audit("missing_field", "Other Information (UK Sanctions List Ref)", None)
    elif refs:
        ctx.audit("ambiguous_reference", "Other Information (UK Sanctions List Ref)", ", ".join(refs))
