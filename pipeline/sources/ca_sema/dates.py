"""Free-text dates of the Canadian list -> ISO 8601 dates at the precision the text gives.

``DateOfBirth`` / ``DateOfBirthOrShipBuildDate`` (and, in principle, ``DateOfListing``) are free
text: ``1965-04-29``, ``1972``, ``1955-11``, ``Sep-99``, ``1963-1964``, ``1963 or 1964``,
``1965-07-15 OR 1969-09-28``, ``born in the early 1970s``. :func:`parse_free_date` reads them into
ISO 8601 values of the precision written: a day (``1965-04-29``), a month (``1955-11``), a year
(``1972``) or a year interval (``1963/1964``); alternatives joined by "or" give one value each.
A day or a month is never invented, and a text it cannot read whole (``born in the early
1970s``) gives no value: the caller keeps the raw text (audited). Month names (English and
French, abbreviated or not) are data in ``lookups/months.csv``.

A two-digit year (``Sep-99``) is read as the latest year ending in those digits that is not after
``not_after`` (the listing year): ``Sep-99`` listed in 2023 is September 1999. Without a
reference year it is not read.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

LOOKUPS = Path(__file__).resolve().parent / "lookups"

_ALTERNATIVES = re.compile(r"\s+or\s+", re.IGNORECASE)
_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_YEAR = re.compile(r"(\d{4})")
_YEAR_RANGE = re.compile(r"(\d{4})\s*-\s*(\d{4})")
_MONTH_NAME_YEAR = re.compile(r"([^\W\d_]+)\.?[\s\-/]+(\d{4}|\d{2})")
_DAY_MONTH_NAME_YEAR = re.compile(r"(\d{1,2})[\s\-/]+([^\W\d_]+)\.?[\s\-/]+(\d{4})")
_MONTH_NAME_DAY_YEAR = re.compile(r"([^\W\d_]+)\.?\s+(\d{1,2}),?\s+(\d{4})")


@functools.cache
def _months() -> dict[str, int]:
    with open(LOOKUPS / "months.csv", encoding="utf-8", newline="") as handle:
        return {row["name"]: int(row["month"]) for row in csv.DictReader(handle)}


def _month(name: str) -> int | None:
    folded = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()
    return _months().get(folded)


@dataclass(frozen=True)
class FreeDate:
    """One free-text date: the raw text and what could be read from it (empty when nothing)."""

    raw: str
    values: tuple[str, ...]

    @property
    def parsed(self) -> bool:
        return bool(self.values)

    def full_date(self) -> date | None:
        """The date when the text gives exactly one day; else ``None`` (never a guessed day)."""
        if len(self.values) == 1 and len(self.values[0]) == 10:
            return date.fromisoformat(self.values[0])
        return None

    def token(self) -> str | None:
        """A compact, stable form for ids: the values ``+``-joined; ``None`` when nothing was read."""
        return "+".join(self.values) if self.values else None


def _day(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None  # not a calendar date (2023-02-30): not read


def _two_digit_year(digits: str, not_after: int | None) -> int | None:
    if len(digits) == 4:
        return int(digits)
    if not_after is None:
        return None
    year = not_after - (not_after - int(digits)) % 100
    return year


def _one(text: str, not_after: int | None) -> str | None:
    """One date in one of the forms the list uses, as ISO 8601; ``None`` when not one of them."""
    if m := _DAY.fullmatch(text):
        return _day(int(m[1]), int(m[2]), int(m[3]))
    if m := _YEAR_RANGE.fullmatch(text):
        start, end = int(m[1]), int(m[2])
        return f"{start}/{end}" if start < end else None
    if m := _MONTH.fullmatch(text):
        month = int(m[2])
        return f"{m[1]}-{month:02d}" if 1 <= month <= 12 else None
    if _YEAR.fullmatch(text):
        return text
    if m := _DAY_MONTH_NAME_YEAR.fullmatch(text):
        month = _month(m[2])
        return _day(int(m[3]), month, int(m[1])) if month else None
    if m := _MONTH_NAME_DAY_YEAR.fullmatch(text):
        month = _month(m[1])
        return _day(int(m[3]), month, int(m[2])) if month else None
    if m := _MONTH_NAME_YEAR.fullmatch(text):
        month, year = _month(m[1]), _two_digit_year(m[2], not_after)
        return f"{year:04d}-{month:02d}" if month and year is not None else None
    return None


def parse_free_date(raw: str, not_after: int | None = None) -> FreeDate:
    """Read a free-text date; every alternative must be read, or none is (the raw text stays)."""
    text = " ".join(raw.split())
    values: list[str] = []
    for part in _ALTERNATIVES.split(text):
        value = _one(part.strip(" .,;"), not_after)
        if value is None:
            return FreeDate(text, ())
        if value not in values:
            values.append(value)
    return FreeDate(text, tuple(values))
