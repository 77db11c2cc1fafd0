"""US OFAC SDN list -> staged tables. Picks the parser for each file from what the file really
is (sniffed, not named):

- advanced XML (root ``Sanctions``): :mod:`.advanced_xml` (preferred: listing dates, ISO codes)
- enhanced XML (root ``sanctionsData``): :mod:`.enhanced_xml`
- classic XML (root ``sdnList``): :mod:`.classic_xml`
- legacy CSV set (``sdn.csv`` + ``add.csv`` + ``alt.csv`` + ``sdn_comments.csv``): :mod:`.csv_set`

The classic XML and the CSV share the remarks grammar and the record writer (:mod:`.remarks`);
the list labels come from :mod:`.lists`; every vocabulary is data in ``lookups/``. The same
parsers serve the consolidated non-SDN lists (:mod:`pipeline.sources.us_ofac_cons`).
"""

from __future__ import annotations

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.us_ofac_sdn import advanced_xml, classic_xml, csv_set, enhanced_xml
from pipeline.xmlsafe import sniff

# XML root -> the layout's parser.
XML_PARSERS = {
    advanced_xml.ROOT: advanced_xml.parse_advanced_xml,
    classic_xml.ROOT: classic_xml.parse_classic_xml,
    enhanced_xml.ROOT: enhanced_xml.parse_enhanced_xml,
}


def parse(files: list[InputFile], ctx: ParseContext) -> None:
    csv_files = []
    for f in files:
        found = sniff(f.path)
        if found.kind == "xml" and found.root in XML_PARSERS:
            ctx.start_file(f)
            XML_PARSERS[found.root](f, ctx)
        elif found.kind in ("csv", "text"):
            csv_files.append(f)
        else:
            raise SourceError(
                ctx.source, f.name, "is an OFAC advanced/classic XML or legacy CSV file",
                f"the file is {found.describe()}",
            )
    if csv_files:
        csv_set.parse_csv_set(csv_files, ctx)
