"""``sema-lmes.xml`` in its older layout (the 2020 file) -> staged tables.

``<data-set><record>`` with ``Country``, ``LastName``/``GivenName`` or ``Entity``, ``Title``,
``DateOfBirth``, ``Aliases``, ``Schedule``, ``Item``. No vessels (no IMO number) and no listing
date: ``listed_on`` stays null, and the listing's history comes from the snapshots it is seen in.
Records are read and written by :mod:`.records` with this layout's element table
(``lookups/elements.csv``, layout ``legacy_xml``).
"""

from __future__ import annotations

from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.ca_sema.records import FileState, parse_layout

LAYOUT = "legacy_xml"


def parse_legacy_xml(f: InputFile, ctx: ParseContext, state: FileState) -> int:
    """Stream one file of the older layout; returns its number of records."""
    return parse_layout(f, ctx, LAYOUT, state)
