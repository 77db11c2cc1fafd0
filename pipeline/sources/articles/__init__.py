"""News articles as a source: the staged tables ``articles`` (one row per article),
``article_events`` (one row per dyadic event a sentence reports) and ``article_claims`` (ranking
and bloc statements), produced by the project's rule-based extractor (:mod:`pipeline.extract`).

A file that cannot be read as an article (no ``published`` date or an impossible one, a broken,
oversized or aliased front matter, a bad or too deeply nested JSON line) is set aside: the log
and the parse audit (rule ``set_aside``, the article field, and the message naming the file,
line and rule that failed) say so, the file is left as given (in a run, in the raw store), and
the rest of the batch goes on. A batch in which no article can be read is an error. Names from
front matter or JSON are data, never paths.
"""

from __future__ import annotations

import logging
from datetime import date

import pyarrow as pa

from pipeline.errors import SourceError
from pipeline.extract import ARTICLE_SCHEMAS
from pipeline.sources.base import InputFile, LoadResult

log = logging.getLogger(__name__)

SOURCE_ID = "articles"
_LINEAGE = [pa.field("raw_sha256", pa.string(), nullable=False), pa.field("raw_file", pa.string(), nullable=False)]

def _with_lineage(schema: pa.Schema) -> pa.Schema:
    return pa.schema([*schema, *_LINEAGE])


# The extractor's own table schemas, plus the raw file each row comes from.
SCHEMAS: dict[str, pa.Schema] = {table: _with_lineage(ARTICLE_SCHEMAS[table])
                                 for table in ("article_events", "articles", "article_claims")}




def load(files: list[InputFile]) -> LoadResult:
    """Read and extract every article file of one batch."""
    from pipeline.extract import articles_arrow, claims_arrow, events_arrow, extract, read_article_file

    parts: dict[str, list[pa.Table]] = {t: [] for t in SCHEMAS}
    audit: list[tuple[str, str, str | None, int]] = []
    latest: date | None = None
    for f in files:
        articles, errors = read_article_file(f.path, f.name)
        for err in errors:
            log.warning("%s; set aside (the file is left as given), the rest of the batch goes on", err)
            audit.append(("set_aside", err.field or ("line" if err.line is not None else "file"), str(err), 1))
        if not articles:
            continue
        events, claims = [], []
        for article in articles:
            cuts: list = []
            found_events, found_claims = extract(article, cuts)
            for cut in cuts:
                log.warning("%s", cut)
                audit.append(("sentence_cut", "text", str(cut), 1))
            events += found_events
            claims += found_claims
            latest = max(latest, article.published_at) if latest else article.published_at
        for table, arrow in (("articles", articles_arrow(articles)), ("article_events", events_arrow(events)),
                             ("article_claims", claims_arrow(claims))):
            n = arrow.num_rows
            arrow = arrow.append_column("raw_sha256", pa.array([f.sha256] * n, pa.string()))
            parts[table].append(arrow.append_column("raw_file", pa.array([f.name] * n, pa.string())))
    if not parts["articles"]:
        names = ", ".join(f.name for f in files)
        raise SourceError(SOURCE_ID, names, "has readable articles",
                          "no file could be read as an article (see the errors above)")
    tables = {table: pa.concat_tables(chunks).cast(SCHEMAS[table]) for table, chunks in parts.items()}
    return LoadResult(tables=tables, snapshot_date=latest, audit=audit)
