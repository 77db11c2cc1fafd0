"""Birth dates, read the same way for every sanctions list -> the staged ``birth_dates`` table.

Lists give a birth date at very different precisions: a day (``1952-10-07``), a month
(``Sep 1999``), a year (``1962``), a year the list calls approximate (``circa 1970``, UN
``APPROXIMATELY``, EU ``circa="true"``), a range (``1951 to 1953``, UN ``BETWEEN``, EU
``yearRangeFrom``/``yearRangeTo``), a decade (``born in the early 1970s``) or a date with unknown
parts (UK ``00/00/1994``, ``dd/mm/1971``). Every layout reduces what it says to the days it
allows, from the earliest to the latest (:func:`from_interval`), or to its parts
(:func:`from_parts`); free text goes through one grammar (:func:`parse_text`). What is known then
becomes one row:

- ``year_from`` .. ``year_to``: the years the date allows. A single year the list calls
  approximate is widened by :data:`CIRCA_YEARS` each side (``circa 1970`` -> 1969..1971): lists
  disagree by a year often, and a matcher should not read that as a contradiction. A range the
  list states is kept as stated (``circa 1979-1982`` -> 1979..1982).
- ``month``, ``day``: as stated, null when unknown (a range over several months has no month).
- ``birth_date``: the day, only when the list gives one exact day.
- ``approximate``: the list says circa / approximately.

A value the grammar cannot read is still written (raw value kept, every parsed column null) and
audited (``birth_date_unparsed``); a date after the snapshot or before :data:`EARLIEST_YEAR` is
treated the same way (``birth_date_implausible``). A record gives one row per distinct birth date:
the same date given twice (once as a main date, once on an alias) is one row.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.sources.base import ParseContext

TABLE = "birth_dates"
#: Years added each side of a single year a list calls approximate.
CIRCA_YEARS = 1
#: A birth year before this is no birth year of a listed person (a placeholder or a typo).
EARLIEST_YEAR = 1850
LATEST_YEAR = 2100

#: Month names and abbreviations the lists use (English, and French for Canada's bilingual list),
#: case- and accent-insensitive.
MONTHS: dict[str, int] = {
    **{name: i for i, name in enumerate(("january", "february", "march", "april", "may", "june", "july",
                                          "august", "september", "october", "november", "december"), 1)},
    **{name: i for i, name in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                          "nov", "dec"), 1)},
    "sept": 9,
    **{name: i for i, name in enumerate(("janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout",
                                          "septembre", "octobre", "novembre", "decembre"), 1)},
    "janv": 1, "fevr": 2, "avr": 4, "juil": 7,
}
#: Words that make a date approximate.
_APPROXIMATE = re.compile(r"^(?:circa|ca|c|approx|approximately|about|around|abt)\b\.?\s*", re.I)
_BORN = re.compile(r"^(?:born|in|the)\b\s*", re.I)
_ALTERNATIVES = re.compile(r"\s+or\s+|\s*;\s*", re.I)
_BETWEEN = re.compile(r"^between\s+(.+?)\s+and\s+(.+)$", re.I)
_RANGE = re.compile(r"^(.+?)\s+(?:to|until|-|–|—)\s+(.+)$", re.I)
_YEAR_RANGE = re.compile(r"^(\d{4})\s*[-–/]\s*(\d{4})$")
_DECADE = re.compile(r"^(?:(early|mid|late)[\s-]*)?(\d{3})0'?s$", re.I)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]*)?(?:Z|[+-]\d{2}:?\d{2})?$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
# dd/mm/yyyy (UK, EU CSV), with unknown parts written 00, dd, mm or xx
_DMY = re.compile(r"^(\d{1,2}|dd|xx)[/.\-](\d{1,2}|mm|xx)[/.\-](\d{4})$", re.I)
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s\-/]+([^\W\d_]+)\.?,?[\s\-/]+(\d{4})$")
_MONTH_DAY_YEAR = re.compile(r"^([^\W\d_]+)\.?\s+(\d{1,2}),?\s+(\d{4})$")
_MONTH_YEAR = re.compile(r"^([^\W\d_]+)\.?[\s\-/,]+(\d{4}|\d{2})$")
_MONTH_ONLY = re.compile(r"^([^\W\d_]+)\.?$")
_DECADE_PARTS = {None: (0, 9), "early": (0, 3), "mid": (4, 6), "late": (7, 9)}


@dataclass(frozen=True)
class BirthDate:
    """What one birth date says: the years it allows, its month and day when known."""

    year_from: int
    year_to: int
    month: int | None = None
    day: int | None = None
    approximate: bool = False

    @property
    def birth_date(self) -> date | None:
        """The day, when the list gives one exact day."""
        if self.approximate or self.year_from != self.year_to or self.month is None or self.day is None:
            return None
        return date(self.year_from, self.month, self.day)

    def row(self) -> dict:
        return {"birth_date": self.birth_date, "year_from": self.year_from, "year_to": self.year_to,
                "month": self.month, "day": self.day, "approximate": self.approximate}


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def from_interval(first: date, last: date, approximate: bool = False) -> BirthDate | None:
    """The birth date that allows every day from ``first`` to ``last`` (``None`` when ``last`` is
    before ``first``): one day, one month (its first to its last day), or a range of years."""
    if last < first:
        return None
    if first == last:
        found = BirthDate(first.year, first.year, first.month, first.day, approximate)
    elif (first.year, first.month) == (last.year, last.month):
        # a whole month, or part of one (the day is then unknown)
        found = BirthDate(first.year, first.year, first.month, None, approximate)
    else:
        found = BirthDate(first.year, last.year, None, None, approximate)
    return _widen(found)


def from_parts(year: int | None, month: int | None = None, day: int | None = None,
               approximate: bool = False) -> BirthDate | None:
    """A date given by its parts, any of them unknown (``None`` or 0); ``None`` when the year is
    unknown or the parts are no calendar date (month 13, 30 February, a day without a month)."""
    if not year:
        return None
    month = month or None
    day = day or None
    if month is None and day is not None:
        return None
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None:
        try:
            date(year, month or 1, day)
        except ValueError:
            return None
    return _widen(BirthDate(year, year, month, day, approximate))


def from_years(year_from: int, year_to: int, approximate: bool = False) -> BirthDate | None:
    """A range of years as the list states it (``None`` when it runs backwards)."""
    if year_to < year_from:
        return None
    return _widen(BirthDate(year_from, year_to, None, None, approximate))


def _widen(found: BirthDate) -> BirthDate:
    if found.approximate and found.year_from == found.year_to:
        return BirthDate(found.year_from - CIRCA_YEARS, found.year_to + CIRCA_YEARS, found.month, found.day, True)
    return found


# ------------------------------------------------------------------------------------------- text
def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def month_number(name: str) -> int | None:
    """``Sep``, ``September``, ``sept.``, ``août`` -> the month's number; ``None`` when not a month."""
    folded = _fold(name).rstrip(".")
    return MONTHS.get(folded)


def _year(digits: str, not_after: int | None) -> int | None:
    """A four-digit year; a two-digit one (``Sep-99``) is the latest year ending in those digits
    that is not after ``not_after`` (the listing year), unreadable without it."""
    if len(digits) == 4:
        return int(digits)
    if not_after is None:
        return None
    return not_after - (not_after - int(digits)) % 100


def _span(text: str, not_after: int | None, default_year: int | None = None) -> tuple[date, date] | None:
    """The days one date in text allows: (first, last); ``None`` when it is not a date."""
    try:
        if m := _ISO.match(text):
            day = date(int(m[1]), int(m[2]), int(m[3]))
            return day, day
        if m := _ISO_MONTH.match(text):
            year, month = int(m[1]), int(m[2])
            return date(year, month, 1), _month_end(year, month)
        if m := _YEAR.match(text):
            year = int(m[1])
            return date(year, 1, 1), date(year, 12, 31)
        if m := _DMY.match(text):
            year = int(m[3])
            day = int(m[1]) if m[1].isdigit() else 0
            month = int(m[2]) if m[2].isdigit() else 0
            if month > 12 and 1 <= day <= 12:  # an American mm/dd/yyyy: no other reading is a date
                day, month = month, day
            if not month:
                return (date(year, 1, 1), date(year, 12, 31)) if not day else None
            if not day:
                return date(year, month, 1), _month_end(year, month)
            found = date(year, month, day)
            return found, found
        if m := _DAY_MONTH_YEAR.match(text):
            month = month_number(m[2])
            if month:
                found = date(int(m[3]), month, int(m[1]))
                return found, found
            return None
        if m := _MONTH_DAY_YEAR.match(text):
            month = month_number(m[1])
            if month:
                found = date(int(m[3]), month, int(m[2]))
                return found, found
            return None
        if m := _MONTH_YEAR.match(text):
            month, year = month_number(m[1]), _year(m[2], not_after)
            if month and year is not None:
                return date(year, month, 1), _month_end(year, month)
            return None
        if default_year is not None and (m := _MONTH_ONLY.match(text)):
            month = month_number(m[1])
            if month:
                return date(default_year, month, 1), _month_end(default_year, month)
    except ValueError:  # not a calendar date (1970-02-30, month 13)
        return None
    return None


def _strip_words(text: str) -> tuple[str, bool]:
    """The date without its leading words (``born in the``, ``circa``), and whether one of them
    made it approximate."""
    approximate = False
    while True:
        text = text.strip(" .,;:()")
        if m := _APPROXIMATE.match(text):
            approximate, text = True, text[m.end():]
        elif (m := _BORN.match(text)) and m.group(0):
            text = text[m.end():]
        else:
            return text, approximate


def _one(text: str, not_after: int | None) -> BirthDate | None:
    text, approximate = _strip_words(text)
    if not text:
        return None
    if m := _DECADE.match(text):
        low, high = _DECADE_PARTS[m[1].lower() if m[1] else None]
        decade = int(m[2]) * 10
        return from_years(decade + low, decade + high, approximate)
    if m := _YEAR_RANGE.match(text):
        return from_years(int(m[1]), int(m[2]), approximate)
    if whole := _span(text, not_after):
        return from_interval(*whole, approximate)
    if m := (_BETWEEN.match(text) or _RANGE.match(text)):
        last = _span(m[2].strip(" .,"), not_after)
        if last is None:
            return None
        first = _span(m[1].strip(" .,"), not_after, default_year=last[0].year)
        if first is None:
            return None
        return from_interval(first[0], last[1], approximate)
    return None


def parse_text(raw: str | None, not_after: int | None = None) -> list[BirthDate] | None:
    """Read a birth date written as text: one value per alternative (``1963 or 1964``,
    ``1965-07-15 OR 1969-09-28``); ``None`` when any alternative cannot be read (the raw text is
    then kept whole). ``not_after`` is the year a two-digit year may not pass (the listing year)."""
    text = " ".join((raw or "").split())
    if not text:
        return None
    found: list[BirthDate] = []
    for part in _ALTERNATIVES.split(text):
        if not part.strip():
            continue
        one = _one(part, not_after)
        if one is None:
            return None
        if one not in found:
            found.append(one)
    return found or None


# ----------------------------------------------------------------------------------------- writer
class RecordBirthDates:
    """Writes the birth dates of one record: one row per distinct date, the unreadable ones with
    their raw value and nulls (audited)."""

    def __init__(self, ctx: ParseContext, entity_key: str, record_id: str) -> None:
        self.ctx = ctx
        self.entity_key = entity_key
        self.record_id = record_id
        self._seen: set[object] = set()

    def text(self, raw: str | None, field_name: str, not_after: int | None = None) -> None:
        """A birth date written as text."""
        if raw and raw.strip():
            self.add(raw, parse_text(raw, not_after), field_name)

    def add(self, raw: str | None, found: BirthDate | Iterable[BirthDate] | None, field_name: str) -> None:
        """A birth date the list gives (``raw``: as written) and what could be read of it
        (``None``: nothing)."""
        raw = " ".join((raw or "").split())
        if not raw:
            return
        values = [found] if isinstance(found, BirthDate) else list(found or ())
        if not values:
            self.ctx.audit("birth_date_unparsed", field_name, raw[:200])
            self._write(raw, None)
            return
        for value in values:
            if not self._plausible(value):
                self.ctx.audit("birth_date_implausible", field_name, raw[:200])
                self._write(raw, None)
            else:
                self._write(raw, value)

    def _plausible(self, value: BirthDate) -> bool:
        snapshot = self.ctx.writer.snapshot_date
        if value.year_from < EARLIEST_YEAR or value.year_to > LATEST_YEAR:
            return False
        if snapshot is None:
            return True
        earliest = date(value.year_from, value.month or 1, value.day or 1) if value.year_from == value.year_to \
            else date(value.year_from, 1, 1)
        return earliest <= snapshot

    def _write(self, raw: str, value: BirthDate | None) -> None:
        marker = value if value is not None else ("raw", raw)
        if marker in self._seen:
            return
        self._seen.add(marker)
        parsed = value.row() if value is not None else {
            "birth_date": None, "year_from": None, "year_to": None, "month": None, "day": None,
            "approximate": None}
        self.ctx.add(TABLE, {"entity_key": self.entity_key, "source_record_id": self.record_id, **parsed,
                             "raw_value": raw})
