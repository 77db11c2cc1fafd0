"""Canada's Consolidated Autonomous Sanctions List (SEMA and JVCFOA, ``sema-lmes.xml``) -> staged
tables.

Two layouts, told apart by the elements of the file's first records (both have the root
``<data-set>``): the older one (:mod:`.legacy_xml`: ``Entity``, ``DateOfBirth``, no listing date)
and the current one (:mod:`.current_xml`: ``EntityOrShip``, ``ShipIMONumber``,
``DateOfListing``). What they share is in :mod:`.records`; record ids, which the list does not
have, are derived from the record's content by :mod:`.identity`. The file carries no publication
date: the snapshot date is the fetch date (``--snapshot-date`` / ``PIPELINE_SNAPSHOT_DATE``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.ca_sema.current_xml import parse_current_xml
from pipeline.sources.ca_sema.identity import RecordIds
from pipeline.sources.ca_sema.legacy_xml import parse_legacy_xml
from pipeline.sources.ca_sema.records import LAYOUTS, ROOT, FileState, only_in
from pipeline.xmlsafe import expect_root

_HEAD_BYTES = 65536
_ELEMENT = re.compile(rb"<([A-Za-z_][\w.\-]*)[\s/>]")
PARSERS: dict[str, Callable[[InputFile, ParseContext, FileState], int]] = {
    "legacy_xml": parse_legacy_xml,
    "current_xml": parse_current_xml,
}


def sniff_layout(f: InputFile, ctx: ParseContext) -> str:
    """The layout of a ``sema-lmes.xml`` file, from its root and the elements of its first 64 KiB.

    A file whose first records have elements of both layouts is refused. One whose first records
    have only the elements both layouts share (people without dates of birth) is read as the
    older layout; an element of the current one further down is then refused by name."""
    expect_root(f.path, ctx.source, (ROOT,), ctx.max_bytes, name=f.name)
    with open(f.path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    names = {m.decode("ascii", "replace") for m in _ELEMENT.findall(head)}
    found = {layout: sorted(names & only_in(layout)) for layout in LAYOUTS}
    if found["legacy_xml"] and found["current_xml"]:
        raise SourceError(ctx.source, f.name, "one layout per file",
                          f"its first records mix the older layout's {', '.join(found['legacy_xml'])} and the "
                          f"current layout's {', '.join(found['current_xml'])}")
    return "current_xml" if found["current_xml"] else "legacy_xml"


def parse(files: list[InputFile], ctx: ParseContext) -> None:
    """Parse one snapshot of the list (one file)."""
    if len(files) != 1:
        raise SourceError(ctx.source, ", ".join(f.name for f in files) or "(none)", "one file per snapshot",
                          f"the list is one file; {len(files)} were given")
    state = FileState(RecordIds(), {})
    for f in files:
        ctx.start_file(f)
        PARSERS[sniff_layout(f, ctx)](f, ctx, state)
