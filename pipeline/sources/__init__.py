"""Source registry: one module (and one ``<id>.yml``) per source."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from pipeline.sources.base import InputFile, ParseContext, SourceMeta, load_meta

SOURCE_IDS = ("us_ofac_sdn", "un_sc")

Parser = Callable[[list[InputFile], ParseContext], None]


def known_sources() -> tuple[str, ...]:
    """Every source id the project has."""
    return SOURCE_IDS


def parser_for(source_id: str) -> Parser:
    """The ``parse(files, ctx)`` function of a source."""
    if source_id not in SOURCE_IDS:
        raise KeyError(f"unknown source '{source_id}' (known: {', '.join(SOURCE_IDS)})")
    module = importlib.import_module(f"pipeline.sources.{source_id}")
    return module.parse


__all__ = ["SOURCE_IDS", "known_sources", "InputFile", "ParseContext", "SourceMeta", "load_meta", "parser_for"]
