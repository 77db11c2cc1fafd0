"""UN Security Council Consolidated List -> staged tables. One layout, ``consolidated.xml``,
parsed by :mod:`.consolidated_xml`; its vocabularies are data in ``lookups/``."""

from __future__ import annotations

from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.un_sc.consolidated_xml import parse_consolidated_xml


def parse(files: list[InputFile], ctx: ParseContext) -> None:
    for f in files:
        ctx.start_file(f)
        parse_consolidated_xml(f, ctx)
