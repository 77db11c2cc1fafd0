"""Formula-safe CSV: frames written so that no cell opens as a spreadsheet formula.

Produces CSV text (RFC 4180 quoting and CRLF line ends, via pandas) in which every text cell that starts with a
character spreadsheets read as the start of a formula gets a leading single quote, as the OWASP
CSV-injection guidance and ASVS 1.2.10 recommend: ``=``, ``+``, ``-``, ``@``, tab, carriage
return and NUL. ``=HYPERLINK("x")`` is written ``'=HYPERLINK("x")``.

The rule applies to text, not to numbers: a value of a numeric or boolean column (``-3.5``,
``-2``) is a number that a spreadsheet reads as a number, and is written unchanged. Text that
merely looks numeric (``'-2'`` in a VARCHAR column, a phone number ``+44...``) is still text and is
prefixed, since the writer cannot tell it from a formula such as ``-2+cmd|...``. Column names are
cells too and follow the same rule. Only CSV output is changed; JSON and Parquet keep true values.
"""

from __future__ import annotations

import numbers
from typing import TextIO

import pandas as pd
from pandas.api import types as ptypes

FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\0")
PREFIX = "'"


def neutralize_text(text: str) -> str:
    """``text`` with a leading single quote if a spreadsheet would read it as a formula."""
    return PREFIX + text if text.startswith(FORMULA_TRIGGERS) else text


def neutralize_cell(value: object) -> object:
    """A cell as it may be written: numbers and nulls as they are, other values made formula-safe."""
    if value is None or isinstance(value, numbers.Number) or value is pd.NA:
        return value
    if not isinstance(value, str):
        text = str(value)
        return PREFIX + text if text.startswith(FORMULA_TRIGGERS) else value
    return neutralize_text(value)


def _is_number_column(column: pd.Series) -> bool:
    dtype = column.dtype
    return ptypes.is_numeric_dtype(dtype) and not ptypes.is_timedelta64_dtype(dtype)


def _dates_are_safe(column: pd.Series) -> bool:
    # ISO dates start with a digit unless the year is negative (DuckDB allows BC dates).
    return ptypes.is_datetime64_any_dtype(column.dtype) and not bool((column.dt.year < 0).any())


def neutralize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot open as formulas."""
    safe = frame.copy()
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if _is_number_column(column) or _dates_are_safe(column):
            continue
        if ptypes.is_timedelta64_dtype(column.dtype) or ptypes.is_datetime64_any_dtype(column.dtype):
            column = column.astype(str).where(column.notna(), None)
        safe.isetitem(position, column.astype(object).map(neutralize_cell))
    safe.columns = [neutralize_text(str(name)) for name in frame.columns]
    return safe


def write_csv(frame: pd.DataFrame, fh: TextIO) -> None:
    """Write ``frame`` to ``fh`` as formula-safe CSV, without the index, with RFC 4180 CRLF line ends.

    CRLF is also what makes Python's csv writer quote a cell holding a lone carriage return; with
    ``\n`` line ends such a cell is written bare and splits the row in every reader.
    """
    neutralize_frame(frame).to_csv(fh, index=False, lineterminator="\r\n")
