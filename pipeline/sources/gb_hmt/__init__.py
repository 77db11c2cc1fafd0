"""UK sanctions list -> staged tables. Each file is recognised by what it is (its first bytes and
lines), never by its name or the content type it was served with (the FCDO site serves its files
as a generic binary type):

- XML with root ``Designations``: the FCDO UK Sanctions List, :mod:`.fcdo_xml`
- CSV whose header has ``Unique ID`` and ``Designation Type`` (after a ``Report Date`` line):
  the FCDO UK Sanctions List, :mod:`.fcdo_csv`
- CSV whose header has ``Group ID`` and ``Group Type`` (after a ``Last Updated`` line): the
  retired OFSI Consolidated List, :mod:`.conlist_csv` (history up to 28 January 2026)

Every layout gives a designation the same id (the UK Sanctions List reference) and its target the
same entity (the OFSI group), so the ConList history joins the FCDO records (:mod:`.record`).
One parse is one list file: each layout is a complete list, and two files would be two
publications (or the same one twice).
"""

from __future__ import annotations

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.gb_hmt import conlist_csv, csvread, fcdo_csv, fcdo_xml
from pipeline.xmlsafe import sniff

# The OFSI ConList also had an XML layout; only its CSV is read (the history the project keeps).
CONLIST_XML_ROOT = "ArrayOfFinancialSanctionsTarget"


def parse(files: list[InputFile], ctx: ParseContext) -> None:
    if len(files) > 1:
        raise SourceError(ctx.source, ", ".join(f.name for f in files), "one list file per parse",
                          f"{len(files)} files were given; each UK file (FCDO XML or CSV, ConList CSV) is a whole "
                          "list of its own date: parse them one at a time")
    for f in files:
        ctx.start_file(f)
        found = sniff(f.path)
        if found.kind == "xml":
            if found.root == CONLIST_XML_ROOT:
                raise SourceError(ctx.source, f.name, "a layout this source reads",
                                  "the file is the OFSI ConList XML; give its CSV (ConList.csv) instead")
            fcdo_xml.parse_fcdo_xml(f, ctx)
        elif found.kind in ("csv", "text"):
            head = csvread.read_head(f, ctx)
            if fcdo_csv.is_layout(head):
                fcdo_csv.parse_fcdo_csv(f, ctx)
            elif conlist_csv.is_layout(head):
                conlist_csv.parse_conlist_csv(f, ctx)
            else:
                raise SourceError(ctx.source, f.name, "a UK Sanctions List or ConList CSV header",
                                  f"line {head.header_line} is {list(head.header)[:8]}..., with neither "
                                  "'Unique ID' + 'Designation Type' (FCDO) nor 'Group ID' + 'Group Type' (ConList)")
        else:
            raise SourceError(ctx.source, f.name, "is a UK Sanctions List XML/CSV or ConList CSV",
                              f"the file is {found.describe()}")
