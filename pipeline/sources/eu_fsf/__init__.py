"""EU consolidated financial sanctions file (FSF) -> staged tables. Picks the parser for each file
from what the file really is (sniffed, not named):

- XML 1.1 (root ``export``, namespace ``http://eu.europa.ec/fpi/fsd/export``): :mod:`.fsf_xml`
- CSV 1.1 (``;``-separated, header ``fileGenerationDate;Entity_LogicalId;...``): :mod:`.fsf_csv`

Both readers hand the same record model to :class:`.record.Stager`, which writes the shared staged
tables (one designation per ``sanctionEntity``, one target per ``euReferenceNumber``). The legacy
1.0 layouts, HTML pages and other files are refused with a named error. Vocabularies are data in
``lookups/`` (:mod:`.vocab`).
"""

from __future__ import annotations

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.eu_fsf import fsf_csv, fsf_xml
from pipeline.sources.eu_fsf.record import Stager
from pipeline.xmlsafe import sniff


def parse(files: list[InputFile], ctx: ParseContext) -> None:
    stager = Stager(ctx)
    for f in files:
        found = sniff(f.path)
        if found.kind == "xml":
            if found.root in fsf_xml.OTHER_ROOTS and not found.has_doctype:
                raise SourceError(ctx.source, f.name, "is an EU FSF XML 1.1 file",
                                  f"the file is {fsf_xml.OTHER_ROOTS[found.root]}")
            ctx.start_file(f)
            fsf_xml.parse_fsf_xml(f, ctx, stager)
        elif found.kind in ("csv", "text"):
            kind = fsf_csv.header_kind(fsf_csv.first_line(f))
            if kind != "1.1":
                detail = ("the file is the legacy FSF CSV 1.0 layout (Entity_logical_id, Naal_wholename...); "
                          "the EU publishes the same list as CSV 1.1 (csvFullSanctionsList_1_1)" if kind == "1.0"
                          else f"the first line is not the CSV 1.1 header ({fsf_csv.first_line(f)[:80]!r})")
                raise SourceError(ctx.source, f.name, "is an EU FSF CSV 1.1 file", detail)
            ctx.start_file(f)
            fsf_csv.parse_fsf_csv(f, ctx, stager)
        else:
            raise SourceError(ctx.source, f.name, "is an EU FSF XML 1.1 or CSV 1.1 file",
                              f"the file is {found.describe()}")
