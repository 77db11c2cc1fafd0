"""Reading options of re-exported GDELT event files (e.g. written by R's ``write.csv``): a header
line naming the GDELT columns, comma- (or tab-) separated, double-quoted text, ``NA`` for missing."""

from __future__ import annotations

from pipeline.sources.gdelt_events.layout import Layout


def csv_options(layout: Layout) -> dict[str, str]:
    """``read_csv`` options (as SQL literals) for a re-exported file of this layout."""
    delim = "'\\t'" if layout.delimiter == "\t" else "','"
    return {"delim": delim, "header": "true", "quote": "'\"'", "escape": "'\"'", "nullstr": "['NA', '']"}
