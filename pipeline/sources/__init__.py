"""Source registry: a source is a folder ``pipeline/sources/<id>/`` with a ``source.yml``.

The folder's package exposes either ``parse(files, ctx)`` (sanctions lists, written row by row
through a :class:`ParseContext`) or ``load(files) -> LoadResult`` with ``SCHEMAS`` (sources whose
rows are produced in bulk by DuckDB/Arrow: GDELT, UN votes, articles). Everything else (the
default source list, demo inputs, live URLs, row-count bounds, the staged tables a source writes)
comes from ``source.yml``; nothing downstream keeps a second list.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from pipeline.sources.base import SOURCES_DIR, InputFile, ParseContext, SourceMeta, load_meta

Parser = Callable[[list[InputFile], ParseContext], None]


def known_sources() -> tuple[str, ...]:
    """Every source id the project has: the folders holding a ``source.yml``."""
    folders = {p.parent.name for p in SOURCES_DIR.glob("*/source.yml")}
    legacy = {p.stem for p in SOURCES_DIR.glob("*.yml") if (SOURCES_DIR / f"{p.stem}.py").exists()}
    return tuple(sorted(folders | legacy))


def default_sources(live: bool = False) -> tuple[str, ...]:
    """The sources ``pipeline run`` uses when ``PIPELINE_SOURCES`` is not set (``default: true``);
    in live mode only those whose ``urls`` are files to fetch (``live``)."""
    return tuple(s for s in known_sources() if load_meta(s).default and (load_meta(s).live or not live))


def source_module(source_id: str):
    if source_id not in known_sources():
        raise KeyError(f"unknown source '{source_id}' (known: {', '.join(known_sources())})")
    return importlib.import_module(f"pipeline.sources.{source_id}")


def parser_for(source_id: str) -> Parser:
    """The ``parse(files, ctx)`` of a source; a ``load(files)`` source is adapted to it."""
    module = source_module(source_id)
    if hasattr(module, "parse"):
        return module.parse
    load = module.load

    def parse(files: list[InputFile], ctx: ParseContext) -> None:
        result = load(files)
        if result.snapshot_date is not None:
            ctx.set_snapshot(result.snapshot_date)
        for table, arrow in result.tables.items():
            ctx.writer.write_arrow(table, arrow)
        for rule, field_name, value, count in result.audit:
            ctx.writer.audit(rule, field_name, value, None, count)

    return parse


def schemas_for(source_id: str):
    """The staged table schemas a source writes (the sanctions schema unless it has its own)."""
    from pipeline.staged import SCHEMAS

    module = source_module(source_id)
    own = getattr(module, "SCHEMAS", None)
    if own is None:
        return SCHEMAS
    return {**own, "parse_audit": SCHEMAS["parse_audit"]}


def all_schemas():
    """Every staged table of every source, by table name."""
    from pipeline.staged import SCHEMAS

    found = dict(SCHEMAS)
    for source in known_sources():
        found.update(schemas_for(source))
    return found


__all__ = ["InputFile", "ParseContext", "SourceMeta", "all_schemas", "default_sources", "known_sources",
           "load_meta", "parser_for", "schemas_for", "source_module"]
