"""US OFAC SDN list: picks the parser for each file from what the file really is.

- advanced XML (root ``Sanctions``): :mod:`pipeline.sources.ofac_advanced` (preferred)
- classic XML (root ``sdnList``): :mod:`pipeline.sources.ofac_legacy`
- legacy CSV set (``sdn.csv`` + ``add.csv`` + ``alt.csv`` + ``sdn_comments.csv``): idem
"""

from __future__ import annotations

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.xmlsafe import sniff

EXPECTED_ROOTS = ("Sanctions", "sdnList", "sanctionsData")


def parse(files: list[InputFile], ctx: ParseContext) -> None:
    from pipeline.sources import ofac_advanced, ofac_enhanced, ofac_legacy

    csv_files = []
    for f in files:
        found = sniff(f.path)
        if found.kind == "xml" and found.root == "Sanctions":
            ctx.start_file(f)
            ofac_advanced.parse_advanced_xml(f, ctx)
        elif found.kind == "xml" and found.root == "sdnList":
            ctx.start_file(f)
            ofac_legacy.parse_classic_xml(f, ctx)
        elif found.kind == "xml" and found.root == "sanctionsData":
            ctx.start_file(f)
            ofac_enhanced.parse_enhanced_xml(f, ctx)
        elif found.kind in ("csv", "text"):
            csv_files.append(f)
        else:
            raise SourceError(
                ctx.source, f.name, "is an OFAC advanced/classic XML or legacy CSV file",
                f"the file is {found.describe()}",
            )
    if csv_files:
        ofac_legacy.parse_csv_set(csv_files, ctx)
