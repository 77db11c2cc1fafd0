"""Which OpenSanctions export a file is, from its first bytes (never from its name).

- ``entities``: FtM JSON lines, one entity per line (``entities.ftm.json``; also
  ``targets.nested.json``, whose lines are entities with their adjacent entities embedded)
- ``delta``: ``{"op": "ADD"|"MOD"|"DEL", "entity": {...}}`` per line (``entities.delta.json``)
- ``simple_csv``: ``targets.simple.csv`` (header ``id,schema,name,aliases,...``)

The dataset's metadata files (``index.json``, ``statistics.json``), the delta index
(``delta.json``), JSON arrays, HTML pages and other CSV files are refused with a named error
saying what the file is.
"""

from __future__ import annotations

import csv

from pipeline import jsonsafe
from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.opensanctions import jsonl

ENTITIES, DELTA, SIMPLE_CSV = "entities", "delta", "simple_csv"
RULE = "is an OpenSanctions export (entities.ftm.json, entities.delta.json or targets.simple.csv)"
#: A whole JSON document (not JSON lines) is read to say what it is only up to this size.
_DOCUMENT_BYTES = 1 << 20
_HEAD_BYTES = 4096
#: What a JSON object that is not an entity line is, by the keys it has.
_METADATA = (
    ({"versions"}, "the delta index (delta.json): it lists the URLs of entities.delta.json files; pass those "
                   "files, after the full export they apply to"),
    ({"resources"}, "a dataset's index.json (metadata and download links), not its entities"),
    ({"targets", "things"}, "a dataset's statistics.json (counts), not its entities"),
)


def _describe_object(value: dict) -> str | None:
    for keys, what in _METADATA:
        if keys <= set(value):
            return what
    return None


def sniff(f: InputFile, ctx: ParseContext) -> str:
    """The layout of ``f``, or a :class:`SourceError` saying what the file is instead."""
    with open(f.path, "rb") as handle:
        head = handle.read(_HEAD_BYTES).removeprefix(jsonl.BOM)
    start = head.lstrip()
    if not start:
        raise SourceError(ctx.source, f.name, RULE, "the file is empty")
    if start[:1] == b"<":
        kind = "an HTML page" if b"html" in start[:512].lower() else "an XML or HTML document"
        raise SourceError(ctx.source, f.name, RULE, f"the file is {kind}, not an OpenSanctions export")
    if start[:1] == b"[":
        raise SourceError(ctx.source, f.name, RULE, "the file is a JSON array, not JSON lines (one entity per line)")
    if start[:1] == b"{":
        return _sniff_json(f, ctx)
    return _sniff_csv(f, ctx, head)


def _sniff_json(f: InputFile, ctx: ParseContext) -> str:
    with open(f.path, "rb") as handle:
        raw, fits = jsonl.read_line(handle)
    if not fits:
        raise SourceError(ctx.source, f.name, "line size cap",
                          f"line 1 is longer than {jsonl.MAX_LINE_BYTES} bytes (no line break): not one JSON "
                          "object per line", record="line 1")
    raw = raw.removeprefix(jsonl.BOM)
    try:
        value = jsonsafe.loads(raw, max_depth=jsonl.MAX_DEPTH)
    except jsonsafe.JsonRefused:
        value = None
    if value is None:
        # not one object on the first line: a pretty-printed JSON document, or broken
        if f.path.stat().st_size <= _DOCUMENT_BYTES:
            try:
                document = jsonsafe.loads(f.path.read_bytes(), max_depth=jsonl.MAX_DEPTH)
            except jsonsafe.JsonRefused as refused:
                raise SourceError(ctx.source, f.name, RULE, f"line 1 is not a JSON object ({refused.detail})") from None
            what = _describe_object(document) if isinstance(document, dict) else None
            raise SourceError(ctx.source, f.name, RULE,
                              f"the file is {what}" if what else "the file is one JSON document, not JSON lines")
        raise SourceError(ctx.source, f.name, RULE, "line 1 is not one JSON object (not JSON lines)")
    if isinstance(value, dict):
        if "op" in value and "entity" in value:
            return DELTA
        if "id" in value and "schema" in value:
            return ENTITIES
        what = _describe_object(value)
        if what:
            raise SourceError(ctx.source, f.name, RULE, f"the file is {what}")
    keys = ", ".join(sorted(value)[:8]) if isinstance(value, dict) else type(value).__name__
    raise SourceError(ctx.source, f.name, RULE,
                      "line 1 is not an FtM entity (no 'id' and 'schema') nor a delta operation ('op', 'entity'): "
                      f"{keys}")


def _sniff_csv(f: InputFile, ctx: ParseContext, head: bytes) -> str:
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError(ctx.source, f.name, RULE, "the file is neither JSON lines nor UTF-8 CSV text") from None
    header = next(csv.reader([text]), [])
    if {"id", "schema", "name"} <= {cell.strip() for cell in header}:
        return SIMPLE_CSV
    raise SourceError(ctx.source, f.name, RULE,
                      f"the first line is not the targets.simple.csv header (id,schema,name,...): {text[:80]!r}")
