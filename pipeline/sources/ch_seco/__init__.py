"""Switzerland's sanctions list (SECO, State Secretariat for Economic Affairs) -> staged tables.

One layout: the ``swiss-sanctions-list`` XML (:mod:`.swiss_xml`), the complete list SECO
publishes (``Gesamtliste``, every target with its modification history) and, in the same schema,
the amendment files (the changes of one date). The file is sniffed by its root element before
anything is parsed (an HTML error page, another list's file or a DTD is refused by name). One
target is one designation (:mod:`.record`); whether it is in force and since when comes from its
modifications (:mod:`.history`). Vocabularies are data in ``lookups/`` (:mod:`.vocab`).
"""

from __future__ import annotations

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.ch_seco.swiss_xml import parse_swiss_xml


def parse(files: list[InputFile], ctx: ParseContext) -> None:
    """Parse one snapshot of the list (one file)."""
    if len(files) != 1:
        raise SourceError(ctx.source, ", ".join(f.name for f in files) or "(none)", "one file per snapshot",
                          f"the list is one file; {len(files)} were given")
    for f in files:
        ctx.start_file(f)
        parse_swiss_xml(f, ctx)
