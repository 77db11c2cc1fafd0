"""FtM JSON lines (``entities.ftm.json``, ``targets.nested.json``) and deltas (``entities.delta.json``)
-> staged tables.

An export holds targets (``"target": true``: the sanctioned subjects) and the helper entities
around them in one file, in any order: Sanction entities (``entity`` -> the target; programme,
listing date, authority id), Address and Identification entities, and relations (Ownership,
Family, UnknownLink...). So the file is read twice, line by line:

1. an index of what the targets need from their helpers (a few short strings per helper: the
   Sanction's datasets, programme keys and dates, an Address's country, a document's number), the
   targets' topics and datasets, and every thing's caption (for relation names);
2. the targets, written with what the index holds (:func:`.stage.write_target`), and the
   relations that touch a designated target.

Memory holds the index, not the file: a few hundred bytes per helper entity, whatever the line
sizes. A ``targets.nested.json`` line is flattened first (each embedded entity becomes an entity
of its own, referenced by id).

Deltas: each ``entities.delta.json`` line is ``{"op": "ADD"|"MOD"|"DEL", "entity": {...}}``. The
deltas of a snapshot are applied, in the order given, to the full export passed in the same batch
(the previous snapshot's raw file: a parser in a pipeline run writes into the run's candidate
folder and cannot read the lake); an entity a delta adds or modifies replaces the export's, one it
deletes is left out. A delta without its full export cannot make a snapshot: strict parsing
refuses it; lenient parsing (``pipeline parse``) stages the delta's own entities and audits every
operation (``delta_op``) so they can be inspected.

Which targets are designations, and under which lists: a target is staged under each of its
datasets (and each dataset of a Sanction entity pointing at it) that ``lookups/datasets.csv`` does
not exclude, provided a Sanction entity of that dataset lists it or one of its topics designates
(``lookups/topics.csv``: ``sanction``, ``sanction.counter``) or it has no topics at all.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.opensanctions import jsonl, vocab
from pipeline.sources.opensanctions.stage import (
    ANY_LINK,
    Listing,
    Target,
    assign_programs,
    parse_date,
    staged_lists,
    write_target,
)

OPS = ("ADD", "MOD", "DEL")
#: The staged suites refuse a listing date before this day (no sanctions list is older).
EARLIEST_LISTING = date(1945, 1, 1)
_MAX_ID = 1000
#: A Sanction's reason (statement of reasons) is kept to this many characters in the index and the
#: remarks: the index holds every Sanction of the export, and the official lists carry the full text.
_MAX_REMARK = 300


@dataclass(frozen=True)
class Located:
    """An entity and where it was read (file and line), for error messages."""

    file: str
    line: int
    entity: dict
    #: byte offset of the line in its file
    offset: int = -1


@dataclass(slots=True)
class SanctionFacts:
    datasets: tuple[str, ...]
    program_ids: tuple[str, ...]
    programs: tuple[str, ...]
    listing: tuple[str, ...]
    start: tuple[str, ...]
    end: tuple[str, ...]
    authority_ids: tuple[str, ...]
    unsc_ids: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass
class Index:
    """What pass 1 learns about the whole file."""

    #: target id -> (topics, datasets)
    targets: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    #: target id -> its Sanction entities
    sanctions: dict[str, list[SanctionFacts]] = field(default_factory=dict)
    sanction_ids: set[str] = field(default_factory=set)
    #: address id -> (country codes, full text when it has no country)
    addresses: dict[str, tuple[tuple[str, ...], str | None]] = field(default_factory=dict)
    #: holder id -> [(schema, number, type, country)]
    documents: dict[str, list[tuple[str, str, str, str | None]]] = field(default_factory=dict)
    document_ids: set[str] = field(default_factory=set)
    captions: dict[str, str] = field(default_factory=dict)
    last_seen: str = ""
    #: designated target id -> the lists it is staged under
    designated: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: (byte offset, line number) of the export's lines that pass 2 reads again: targets, relations
    second_pass: set[tuple[int, int]] = field(default_factory=set)


# --- reading and checking entities ---------------------------------------------------------------


def _strings(ctx: ParseContext, where: Located, name: str, value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(ctx, where, "FtM entity", f"'{name}' is not a list of strings")
    return value


def _bad(ctx: ParseContext, where: Located, rule: str, detail: str) -> SourceError:
    ident = where.entity.get("id") if isinstance(where.entity.get("id"), str) else None
    record = f"line {where.line}" + (f" ({ident[:80]})" if ident else "")
    return SourceError(ctx.source, where.file, rule, detail, record=record)


def check(ctx: ParseContext, where: Located) -> dict:
    """The entity of ``where`` if it has the FtM envelope (``id``, ``schema``, ``properties`` whose
    values are lists of strings or of embedded entities); else a named error."""
    entity = where.entity
    ident, schema = entity.get("id"), entity.get("schema")
    if not isinstance(ident, str) or not ident.strip() or len(ident) > _MAX_ID:
        raise _bad(ctx, where, "FtM entity", "no 'id' string (or one over 1,000 characters)")
    if not isinstance(schema, str) or not schema:
        raise _bad(ctx, where, "FtM entity", "no 'schema' string")
    props = entity.get("properties", {})
    if not isinstance(props, dict):
        raise _bad(ctx, where, "FtM entity", "'properties' is not an object")
    for name, values in props.items():
        if not isinstance(values, list) or not all(isinstance(v, (str, dict)) for v in values):
            raise _bad(ctx, where, "FtM entity", f"property '{name}' is not a list of strings")
    for name in ("datasets", "referents"):
        _strings(ctx, where, name, entity.get(name))
    if "target" in entity and not isinstance(entity["target"], bool):
        raise _bad(ctx, where, "FtM entity", "'target' is not true or false")
    return entity


def flatten(ctx: ParseContext, where: Located, validate: bool = True) -> Iterator[Located]:
    """The entity and every entity embedded in its properties (``targets.nested.json``), each with
    embedded values replaced by their ids. A property of a thing that held only embedded entities
    and that ``lookups/properties.csv`` does not know is a reverse link (``sanctions``,
    ``familyPerson``...): dropped, since the embedded entity carries the forward link. ``validate``
    checks the envelope (:func:`check`; the second pass reads lines the first one checked)."""
    stack = [where]
    while stack:
        current = stack.pop()
        entity = check(ctx, current) if validate else current.entity
        props = entity.get("properties") or {}
        if not any(isinstance(v, dict) for values in props.values() for v in values):
            yield current
            continue
        role = _role(entity["schema"])
        flat: dict[str, list[str]] = {}
        for name, values in props.items():
            nested = [v for v in values if isinstance(v, dict)]
            stack.extend(Located(current.file, current.line, v, current.offset) for v in nested)
            if nested and len(nested) == len(values) and role == "thing" \
                    and vocab.property_rule(name, entity["schema"]) is None:
                continue
            flat[name] = [v["id"] if isinstance(v, dict) else v for v in values]
        yield Located(current.file, current.line, {**entity, "properties": flat}, current.offset)


def _role(schema: str) -> str | None:
    found = vocab.schemata().get(schema)
    return found.role if found else None


def _values(entity: dict, prop: str) -> list[str]:
    return [v for v in (entity.get("properties") or {}).get(prop, ()) if isinstance(v, str) and v.strip()]


# --- the entity stream: one export, with its deltas applied -------------------------------------


@dataclass
class Batch:
    """One snapshot's files: the full export (or none) and the deltas applied to it, in order."""

    base: InputFile | None
    deltas: list[InputFile]
    #: entity id -> final (op, entity, index of its delta file) after every delta
    ops: dict[str, tuple[str, Located, int]] = field(default_factory=dict)
    op_counts: Counter = field(default_factory=Counter)

    def read_deltas(self, ctx: ParseContext) -> None:
        for position, f in enumerate(self.deltas):
            ctx.start_file(f)
            for number, _offset, line in jsonl.objects(f, ctx):
                op, entity = line.get("op"), line.get("entity")
                if op not in OPS or not isinstance(entity, dict):
                    raise SourceError(ctx.source, f.name, "delta operation",
                                      f"line {number}: expected {{\"op\": ADD|MOD|DEL, \"entity\": {{...}}}}, "
                                      f"found op {str(op)[:20]!r}", record=f"line {number}")
                where = Located(f.name, number, entity)
                if op == "DEL":
                    ident = entity.get("id")
                    if not isinstance(ident, str) or not ident:
                        raise _bad(ctx, where, "delta operation", "a DEL operation without the entity's 'id'")
                else:
                    ident = check(ctx, where)["id"]
                self.ops.pop(ident, None)  # the latest operation on an entity wins, in its file's place
                self.ops[ident] = (op, where, position)
                self.op_counts[op] += 1
                ctx.audit("delta_op", op, None)

    def entities(self, ctx: ParseContext, base_hits: set[str] | None = None,
                 lines: list[tuple[int, int]] | None = None) -> Iterator[Located]:
        """Every entity of the snapshot (flattened): the export's, less those a delta replaces or
        deletes, then the deltas' added and modified ones. ``base_hits`` collects the ids of the
        export that a delta touches. ``lines`` (offset, line number): read only those lines of the
        export, already checked by a first pass."""
        if self.base is not None:
            ctx.start_file(self.base)
            found = jsonl.objects(self.base, ctx) if lines is None else jsonl.objects_at(self.base, ctx, lines)
            for number, offset, raw in found:
                for located in flatten(ctx, Located(self.base.name, number, raw, offset), validate=lines is None):
                    ident = located.entity["id"]
                    if ident in self.ops:
                        if base_hits is not None:
                            base_hits.add(ident)
                        continue
                    yield located
        current = None
        for op, where, position in sorted(self.ops.values(), key=lambda item: (item[2], item[1].line)):
            if op == "DEL":
                continue
            if position != current:
                current = position
                ctx.start_file(self.deltas[position])  # rows of the delta's entities trace back to the delta
            yield from flatten(ctx, where)


# --- pass 1: the index ---------------------------------------------------------------------------


def _sanction_facts(ctx: ParseContext, entity: dict) -> SanctionFacts:
    fields = vocab.helper_fields()["sanction"]
    props = entity.get("properties") or {}
    for name in props:
        if name not in fields:
            ctx.audit("unknown_field", f"Sanction.{name}", None)

    by_field = vocab.helper_props_by_field("sanction")

    def get(field_name: str) -> tuple[str, ...]:
        return tuple(v for prop in by_field.get(field_name, ()) for v in _values(entity, prop))

    return SanctionFacts(
        datasets=tuple(sys.intern(d) for d in entity.get("datasets") or ()),
        program_ids=tuple(sys.intern(p) for p in get("program_id")), programs=get("program"),
        listing=get("listing_date"), start=get("start_date"), end=get("end_date"),
        authority_ids=get("authority_id"), unsc_ids=get("unsc_id"),
        reasons=tuple(_cut(r) for r in get("reason")),
    )


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_REMARK else text[: _MAX_REMARK - 1] + "…"


def _helper(ctx: ParseContext, entity: dict, role: str) -> dict[str, list[str]]:
    fields = vocab.helper_fields()[role]
    found: dict[str, list[str]] = {}
    for name in (entity.get("properties") or {}):
        field_name = fields.get(name)
        if field_name is None:
            ctx.audit("unknown_field", f"{entity['schema']}.{name}", None)
        elif field_name != "ignore":
            found.setdefault(field_name, []).extend(_values(entity, name))
    return found


def build_index(ctx: ParseContext, batch: Batch) -> Index:
    index = Index()
    base_hits: set[str] = set()
    unknown_schemata: Counter = Counter()
    for located in batch.entities(ctx, base_hits):
        entity = located.entity
        ident, schema = entity["id"], entity["schema"]
        ctx.record = ident
        seen = entity.get("last_seen")
        if isinstance(seen, str) and seen > index.last_seen:
            index.last_seen = seen
        role = _role(schema)
        if role is None:
            unknown_schemata[schema] += 1
            role = "thing" if entity.get("target") else "ignore"
        if located.offset >= 0 and (role == "relation" or (role == "thing" and entity.get("target") is True)):
            index.second_pass.add((located.offset, located.line))
        if role == "thing":
            caption = entity.get("caption")
            names = _values(entity, "name")
            index.captions[ident] = caption if isinstance(caption, str) and caption.strip() else (
                names[0] if names else ident)
            if entity.get("target") is True:
                index.targets[ident] = (tuple(sys.intern(t) for t in _values(entity, "topics")),
                                        tuple(sys.intern(d) for d in entity.get("datasets") or ()))
        elif role == "sanction":
            if ident in index.sanction_ids:
                continue  # embedded twice in a nested export
            index.sanction_ids.add(ident)
            facts = _sanction_facts(ctx, entity)
            for target in _values(entity, "entity"):
                index.sanctions.setdefault(target, []).append(facts)
        elif role == "address":
            found = _helper(ctx, entity, "address")
            countries = tuple(found.get("country", ()))
            texts = found.get("text", ())
            index.addresses[ident] = (tuple(sys.intern(c) for c in countries),
                                      None if countries or not texts else texts[0])
        elif role == "identification":
            if ident in index.document_ids:
                continue
            index.document_ids.add(ident)
            found = _helper(ctx, entity, "identification")
            kind = (found.get("type") or [""])[0]
            country = (found.get("country") or [None])[0]
            for holder in found.get("holder", ()):
                for number in found.get("number", ()):
                    index.documents.setdefault(holder, []).append((schema, number, kind, country))
    for schema, n in unknown_schemata.items():
        ctx.audit("unknown_value", "schema", schema, n)
    for ident, (op, _where, _position) in batch.ops.items():
        if batch.base is None:
            continue
        if op == "DEL" and ident not in base_hits:
            ctx.audit("delta_delete_unknown", "DEL", ident)
        elif op == "MOD" and ident not in base_hits:
            ctx.audit("delta_modify_unknown", "MOD", ident)
        elif op == "ADD" and ident in base_hits:
            ctx.audit("delta_add_existing", "ADD", ident)
    _decide(ctx, index)
    return index


def _decide(ctx: ParseContext, index: Index) -> None:
    """Which targets are designations, and under which lists (module docstring)."""
    designating = vocab.topics()
    for ident, (topics, datasets) in index.targets.items():
        ctx.record = ident
        for topic in topics:
            if topic not in designating:
                ctx.audit("unknown_value", "topics", topic)
        topical = not topics or any(designating.get(t, False) for t in topics)
        listed_by = {d for s in index.sanctions.get(ident, ()) for d in s.datasets}
        kept = []
        for name in staged_lists(ctx, [*datasets, *sorted(listed_by)]):
            if name in listed_by or topical:
                kept.append(name)
            else:
                ctx.audit("not_a_sanction_listing", "topics", ";".join(topics))
        if kept:
            index.designated[ident] = tuple(kept)
        else:
            ctx.audit("target_not_staged", "datasets", ";".join(datasets) or None)


# --- pass 2: the targets and relations -----------------------------------------------------------


def _program_keys(ctx: ParseContext, facts: SanctionFacts) -> set[str]:
    keys = set()
    for key in facts.program_ids:
        rules = vocab.program_refinements().get(key)
        if rules:
            refined = next((new for pattern, new in rules for text in facts.programs if pattern.search(text)), None)
            if refined is None:
                ctx.audit("program_not_refined", key, "; ".join(facts.programs) or None)
            key = refined or key
        keys.add(key)
    if not facts.program_ids and facts.programs:
        ctx.audit("program_without_key", "Sanction.program", facts.programs[0][:200])
    return keys


def _listing(ctx: ParseContext, name: str, facts: list[SanctionFacts], snapshot: date | None) -> Listing:
    listing = Listing(name)
    listed, started = [], []
    for item in facts:
        listing.programs |= _program_keys(ctx, item)
        listing.references.update(item.authority_ids or item.unsc_ids)
        listing.remarks.extend(item.reasons)
        listed += [d for d in (parse_date(ctx, "Sanction.listingDate", v) for v in item.listing) if d]
        started += [d for d in (parse_date(ctx, "Sanction.startDate", v) for v in item.start) if d]
        ends = [d for d in (parse_date(ctx, "Sanction.endDate", v) for v in item.end) if d]
        if snapshot and ends and max(ends) <= snapshot:
            ctx.audit("sanction_ended", name, max(ends).isoformat())
    listing.listed_on = _plausible(ctx, name, min(listed or started, default=None), snapshot)
    return listing


def _plausible(ctx: ParseContext, list_name: str, day: date | None, snapshot: date | None) -> date | None:
    """A listing date no earlier than 1945 and no later than the snapshot; else audited and dropped."""
    if day is not None and (day < EARLIEST_LISTING or (snapshot is not None and day > snapshot)):
        ctx.audit("implausible_listing_date", list_name, day.isoformat())
        return None
    return day


def _target(ctx: ParseContext, entity: dict, index: Index, snapshot: date | None) -> Target:
    ident, schema = entity["id"], entity["schema"]
    found = vocab.schemata().get(schema)
    sanctions = index.sanctions.get(ident, [])
    listings = [_listing(ctx, name, [s for s in sanctions if name in s.datasets], snapshot)
                for name in index.designated[ident]]
    target = Target(ident, schema, (found.entity_type if found else None) or "other", index.captions[ident], listings)
    program_ids: list[str] = []
    for name, values in (entity.get("properties") or {}).items():
        rule = vocab.property_rule(name, schema)
        if rule is None:
            ctx.audit("unknown_field", f"{schema}.{name}", None)
            continue
        strings = [v for v in values if isinstance(v, str) and v.strip()]
        if rule.action == "name":
            name_type, _, quality = rule.value.partition(":")
            target.names.extend((v, name_type, quality or None) for v in strings)
        elif rule.action == "country":
            target.codes.extend((rule.value, v) for v in strings)
        elif rule.action == "place":
            target.places.extend((rule.value, v) for v in strings)
        elif rule.action == "address_ref":
            for ref in strings:
                address = index.addresses.get(ref)
                if address is None:
                    ctx.audit("missing_entity", name, ref)
                    continue
                countries, text = address
                target.codes.extend((rule.value, c) for c in countries)
                if text:
                    target.places.append((rule.value, text))
        elif rule.action == "identifier":
            target.identifiers.extend((rule.value, v, None, name) for v in strings)
        elif rule.action == "program":
            program_ids.extend(strings)
        elif rule.action == "birth_date":
            target.birth_dates.extend((v, name) for v in strings)
        elif rule.action == "relation":
            target.relations.extend((v, index.captions.get(v), rule.value, name) for v in strings)
    for doc_schema, number, kind, country in index.documents.get(ident, ()):
        id_type = "passport" if doc_schema == "Passport" else "other"
        target.identifiers.append((id_type, number, country, f"{doc_schema}: {kind}" if kind else doc_schema))
        if country:
            target.codes.append((ANY_LINK, country))
    for facts in sanctions:
        target.identifiers.extend(("un_reference", v, None, "Sanction.unscId") for v in facts.unsc_ids)
    target.identifiers.extend(("referent", v, None, "referents") for v in entity.get("referents") or ())
    assign_programs(ctx, target.listings, program_ids)
    if len(listings) == 1 and listings[0].listed_on is None:
        # a single-list target without a dated Sanction: the source record's date (createdAt)
        created = [d for d in (parse_date(ctx, "createdAt", v) for v in _values(entity, "createdAt")) if d]
        listings[0].listed_on = _plausible(ctx, listings[0].dataset, min(created, default=None), snapshot)
    return target


def _relations(ctx: ParseContext, entity: dict, index: Index) -> None:
    rule = vocab.relations()[entity["schema"]]
    labels = _values(entity, rule.label_property) if rule.label_property else []
    raw = entity["schema"] + (f": {labels[0]}" if labels else "")
    for subject in _values(entity, rule.subject):
        for obj in _values(entity, rule.object):
            if subject not in index.designated and obj not in index.designated:
                continue
            ctx.record = subject
            ctx.add("relations", {
                "entity_key": ctx.key(subject), "source_record_id": subject,
                "related_entity_key": ctx.key(obj), "related_name": index.captions.get(obj),
                "relation_type": rule.relation_type, "raw_relation": raw[:500],
            })


def parse_batch(ctx: ParseContext, batch: Batch) -> None:
    """Read the deltas, index the snapshot, then write its designated targets and their relations."""
    if batch.deltas:
        batch.read_deltas(ctx)
    if batch.base is None:
        names = ", ".join(f.name for f in batch.deltas)
        ctx.violation("a delta has its full export",
                      f"{names}: a delta lists changes to a previous export; pass that export "
                      "(entities.ftm.json) first in the same batch. Lenient parse: only the delta's own entities "
                      "are staged")
    index = build_index(ctx, batch)
    snapshot = _snapshot(index.last_seen)
    if snapshot is not None:
        ctx.set_snapshot(snapshot)
    written: set[str] = set()
    relations_written: set[str] = set()
    for located in batch.entities(ctx, lines=sorted(index.second_pass)):
        entity = located.entity
        ident, schema = entity["id"], entity["schema"]
        ctx.record = ident
        ctx.tick()
        role = _role(schema) or ("thing" if entity.get("target") else "ignore")
        if role == "thing" and ident in index.designated and ident not in written:
            written.add(ident)
            write_target(ctx, _target(ctx, entity, index, snapshot))
        elif role == "relation" and ident not in relations_written:
            relations_written.add(ident)
            _relations(ctx, entity, index)


def _snapshot(last_seen: str) -> date | None:
    """The export's date: the latest ``last_seen`` (every entity of a full export was seen by the
    run that exported it)."""
    try:
        return date.fromisoformat(last_seen[:10]) if last_seen else None
    except ValueError:
        return None
