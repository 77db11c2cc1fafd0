"""``sema-lmes.xml`` in its current layout (the 2025 file) -> staged tables.

``<data-set><record>`` with ``Country``, ``LastName``/``GivenName`` or ``EntityOrShip``,
``TitleOrShip`` (a person's title or a vessel's type), ``ShipIMONumber``,
``DateOfBirthOrShipBuildDate`` (a person's date of birth or a vessel's build date), ``Aliases``,
``Schedule``, ``Item`` and ``DateOfListing``. The overloaded elements are read by the record's
type: a record with an IMO number is a vessel, its date a build date and its title a vessel type.
Records are read and written by :mod:`.records` with this layout's element table
(``lookups/elements.csv``, layout ``current_xml``).
"""

from __future__ import annotations

from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.ca_sema.records import FileState, parse_layout

LAYOUT = "current_xml"


def parse_current_xml(f: InputFile, ctx: ParseContext, state: FileState) -> int:
    """Stream one file of the current layout; returns its number of records."""
    return parse_layout(f, ctx, LAYOUT, state)
