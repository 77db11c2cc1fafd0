"""News articles as a source: the staged tables ``articles`` (one row per article),
``article_events`` (one row per dyadic event a sentence reports) and ``article_claims`` (ranking
and bloc statements), produced by the project's rule-based extractor (:mod:`pipeline.extract`).

A file that cannot be read as an article (no ``published`` date, a broken front matter, a bad
JSON line) is reported in the parse audit and the log, naming the file, line and field; the
rest of the batch goes on. A batch in which no article can be read is an error. Names from front
matter or JSON are data, never paths.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile

log = logging.getLogger(__name__)

SOURCE_ID = "articles"
_LINEAGE = [pa.field("raw_sha256", pa.string(), nullable=False), pa.field("raw_file", pa.string(), nullable=False)]

SCHEMAS: dict[str, pa.Schema] = {
    "article_events": pa.schema([
        pa.field("record_id", pa.string(), nullable=False),
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("sentence_idx", pa.int32()),
        pa.field("char_start", pa.int32()),
        pa.field("char_end", pa.int32()),
        pa.field("evidence_text", pa.string()),
        pa.field("actor1_text", pa.string()),
        pa.field("actor2_text", pa.string()),
        pa.field("actor1_iso3", pa.string()),
        pa.field("actor2_iso3", pa.string()),
        pa.field("actor1_type", pa.string()),
        pa.field("actor2_type", pa.string()),
        pa.field("directed", pa.bool_()),
        pa.field("relation_type", pa.string()),
        pa.field("cameo_code", pa.string()),
        pa.field("cameo_root", pa.string()),
        pa.field("quad_class", pa.int8()),
        pa.field("goldstein", pa.float64()),
        pa.field("modality", pa.string()),
        pa.field("event_date", pa.date32()),
        pa.field("date_precision", pa.string()),
        pa.field("confidence", pa.float64()),
        pa.field("n_mentions", pa.int32()),
        pa.field("extraction_method", pa.string()),
        pa.field("extractor_version", pa.string()),
        *_LINEAGE,
    ]),
    "articles": pa.schema([
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("title", pa.string()),
        pa.field("publisher", pa.string()),
        pa.field("published_at", pa.date32()),
        pa.field("text_sha256", pa.string()),
        pa.field("file", pa.string()),
        *_LINEAGE,
    ]),
    "article_claims": pa.schema([
        pa.field("claim_id", pa.string(), nullable=False),
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("claim_type", pa.string()),
        pa.field("subject_iso3", pa.string()),
        pa.field("object_iso3", pa.string()),
        pa.field("members", pa.list_(pa.string())),
        pa.field("metric", pa.string()),
        pa.field("value", pa.string()),
        pa.field("as_of", pa.date32()),
        pa.field("as_of_precision", pa.string()),
        pa.field("evidence_text", pa.string()),
        pa.field("confidence", pa.float64()),
        pa.field("modality", pa.string()),
        pa.field("extractor_version", pa.string()),
        *_LINEAGE,
    ]),
}


@dataclass
class LoadResult:
    tables: dict[str, pa.Table]
    snapshot_date: date | None
    audit: list[tuple[str, str, str | None, int]] = field(default_factory=list)


def _with_lineage(table: str, rows: list[dict], lineage: dict[str, str]) -> list[dict]:
    return [{**row, **lineage} for row in rows]


def load(files: list[InputFile]) -> LoadResult:
    """Read and extract every article file of one batch."""
    from pipeline.extract import extract, read_article_file

    out: dict[str, list[dict]] = {t: [] for t in SCHEMAS}
    audit: list[tuple[str, str, str | None, int]] = []
    latest: date | None = None
    for f in files:
        lineage = {"raw_sha256": f.sha256, "raw_file": f.name}
        articles, errors = read_article_file(f.path, f.name)
        for err in errors:
            log.warning("%s (the rest of the batch goes on)", err)
            audit.append(("unreadable_article", err.field or "file", str(err), 1))
        for article in articles:
            events, claims = extract(article)
            out["articles"].append({**article.__dict__, **lineage})
            out["article_events"] += _with_lineage("article_events", [e.__dict__ for e in events], lineage)
            out["article_claims"] += _with_lineage("article_claims", [c.__dict__ for c in claims], lineage)
            latest = max(latest, article.published_at) if latest else article.published_at
    if not out["articles"]:
        names = ", ".join(f.name for f in files)
        raise SourceError(SOURCE_ID, names, "has readable articles",
                          "no file could be read as an article (see the errors above)")
    tables = {
        table: pa.Table.from_pylist([{k: row.get(k) for k in schema.names} for row in rows], schema=schema)
        for table, rows in ((t, out[t]) for t in SCHEMAS) for schema in [SCHEMAS[table]]
    }
    return LoadResult(tables=tables, snapshot_date=latest, audit=audit)
