"""Article-derived records: read news articles and extract dyadic events and monadic claims.

Public API:
- `read_articles(paths)` -> (articles, errors): `.md`/`.txt` with front matter, the seed layout, `.jsonl`;
- `extract(article, cuts=None)` -> (events, claims), rule-based, no model download; a sentence over
  `MAX_SENTENCE_CHARS` is read in pieces and reported as a `SentenceCut` in `cuts`;
- `extract_jsonl_lines(paths)`: the JSON lines `pipeline extract FILE...` prints (`kind` event/claim);
- `articles_arrow` / `events_arrow` / `claims_arrow`: pyarrow Tables with the fixed schemas in
  `ARTICLE_SCHEMAS` (tables `articles`, `article_events`, `article_claims`) for staged Parquet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.extract.articles import Article, ArticleError, read_article_file, read_articles
from pipeline.extract.extractor import extract
from pipeline.extract.records import (
    CLAIM_COLUMNS,
    EVENT_COLUMNS,
    EXTRACTOR_VERSION,
    MODALITIES,
    RELATION_TYPES,
    Claim,
    Event,
)
from pipeline.extract.sentences import MAX_SENTENCE_CHARS, SentenceCut

__all__ = [
    "read_article_file",
    "ARTICLE_SCHEMAS",
    "CLAIM_COLUMNS",
    "EVENT_COLUMNS",
    "EXTRACTOR_VERSION",
    "MAX_SENTENCE_CHARS",
    "MODALITIES",
    "RELATION_TYPES",
    "Article",
    "ArticleError",
    "Claim",
    "Event",
    "SentenceCut",
    "articles_arrow",
    "claims_arrow",
    "events_arrow",
    "extract",
    "extract_jsonl_lines",
    "read_articles",
]

ARTICLE_COLUMNS = (
    "article_id",
    "url",
    "title",
    "publisher",
    "published_at",
    "text_sha256",
    "file",
    "extractor_version",
)

ARTICLE_SCHEMAS: dict[str, pa.Schema] = {
    "articles": pa.schema(
        [
            ("article_id", pa.string()),
            ("url", pa.string()),
            ("title", pa.string()),
            ("publisher", pa.string()),
            ("published_at", pa.date32()),
            ("text_sha256", pa.string()),
            ("file", pa.string()),
            ("extractor_version", pa.string()),
        ]
    ),
    "article_events": pa.schema(
        [
            ("record_id", pa.string()),
            ("article_id", pa.string()),
            ("sentence_idx", pa.int32()),
            ("char_start", pa.int32()),
            ("char_end", pa.int32()),
            ("evidence_text", pa.string()),
            ("actor1_text", pa.string()),
            ("actor2_text", pa.string()),
            ("actor1_iso3", pa.string()),
            ("actor2_iso3", pa.string()),
            ("actor1_type", pa.string()),
            ("actor2_type", pa.string()),
            ("directed", pa.bool_()),
            ("relation_type", pa.string()),
            ("cameo_code", pa.string()),
            ("cameo_root", pa.string()),
            ("quad_class", pa.int8()),
            ("goldstein", pa.float64()),
            ("modality", pa.string()),
            ("event_date", pa.date32()),
            ("date_precision", pa.string()),
            ("confidence", pa.float64()),
            ("n_mentions", pa.int32()),
            ("extraction_method", pa.string()),
            ("extractor_version", pa.string()),
        ]
    ),
    "article_claims": pa.schema(
        [
            ("claim_id", pa.string()),
            ("article_id", pa.string()),
            ("claim_type", pa.string()),
            ("subject_iso3", pa.string()),
            ("object_iso3", pa.string()),
            ("members", pa.list_(pa.string())),
            ("metric", pa.string()),
            ("value", pa.string()),
            ("as_of", pa.date32()),
            ("as_of_precision", pa.string()),
            ("evidence_text", pa.string()),
            ("confidence", pa.float64()),
            ("modality", pa.string()),
            ("extractor_version", pa.string()),
        ]
    ),
}


def _table(rows: Iterable[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for row in rows:
        for name in schema.names:
            columns[name].append(row.get(name))
    return pa.Table.from_pydict(columns, schema=schema)


def articles_arrow(articles: Iterable[Article]) -> pa.Table:
    rows = ({**dataclasses.asdict(a), "extractor_version": EXTRACTOR_VERSION} for a in articles)
    return _table(rows, ARTICLE_SCHEMAS["articles"])


def events_arrow(events: Iterable[Event]) -> pa.Table:
    return _table((dataclasses.asdict(e) for e in events), ARTICLE_SCHEMAS["article_events"])


def claims_arrow(claims: Iterable[Claim]) -> pa.Table:
    return _table((dataclasses.asdict(c) for c in claims), ARTICLE_SCHEMAS["article_claims"])


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def extract_jsonl_lines(
    paths: Iterable[str | Path], errors: list[ArticleError] | None = None, cuts: list[SentenceCut] | None = None
) -> Iterator[str]:
    """One JSON object per event or claim of every readable article; read errors go to `errors` and
    sentences read in pieces to `cuts`, if given."""
    articles, read_errors = read_articles(paths)
    if errors is not None:
        errors.extend(read_errors)
    for article in articles:
        events, claims = extract(article, cuts)
        for kind, records, columns in (("event", events, EVENT_COLUMNS), ("claim", claims, CLAIM_COLUMNS)):
            for record in records:
                row = {"kind": kind}
                row.update({name: _jsonable(getattr(record, name)) for name in columns})
                row["url"] = article.url
                row["file"] = article.file
                yield json.dumps(row, ensure_ascii=False, sort_keys=False)
