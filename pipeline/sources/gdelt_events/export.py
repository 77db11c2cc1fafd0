"""Reading options of the official GDELT event exports (1.0 daily and backfiles, 2.0 15-minute
files): tab-separated, no header, no quoting (names may contain ``"``), empty field = missing."""

from __future__ import annotations

from pipeline.sources.gdelt_events.layout import Layout


def csv_options(layout: Layout) -> dict[str, str]:
    """``read_csv`` options (as SQL literals) for an official export of this layout."""
    return {"delim": "'\\t'", "header": "false", "quote": "''", "escape": "''", "nullstr": "''"}
