"""Stage 5, dates: the event date a clause names ("on 24 February 2022", "in March 2022", "last month",
"in 2019"), resolved against the publication date, with its precision (day, month, year, or article
when the clause names none)."""

from __future__ import annotations

import calendar
import datetime as dt
import re

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH_RX = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_DAY_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RX})\s*,?\s+(\d{{4}})\b")
_DAY_MDY = re.compile(rf"\b({_MONTH_RX})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b")
_MONTH_YEAR = re.compile(rf"\b({_MONTH_RX})\s+(?:of\s+)?(\d{{4}})\b")
_YEAR = re.compile(
    r"\b(?:in|since|during|by|from|until|through|throughout|of|early|late|mid-?)\s+((?:19|20)\d{2})\b", re.I
)
_MONTH_ONLY = re.compile(
    rf"\b(?:in|since|during|by|from|early|late|mid-?|last|this|until|on)\s+({_MONTH_RX})\b(?!\s+\d)"
)
_RELATIVE = re.compile(
    r"\b(last|this|next)\s+(year|month|week)\b|\b(yesterday|today)\b|\b(?:on|last)\s+(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|\b(a|one|two|three)\s+(years?|months?)\s+ago\b",
    re.I,
)
_NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3}


def _month_shift(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def resolve_date(text: str, published: dt.date) -> tuple[dt.date, str]:
    """The event date named in a clause, resolved against the publication date, with its precision."""
    for regex, order in ((_DAY_DMY, "dmy"), (_DAY_MDY, "mdy")):
        match = regex.search(text)
        if match:
            day_s, month_s, year_s = (
                (match.group(1), match.group(2), match.group(3))
                if order == "dmy"
                else (match.group(2), match.group(1), match.group(3))
            )
            try:
                return dt.date(int(year_s), _MONTHS[month_s.rstrip(".").lower()], int(day_s)), "day"
            except ValueError:
                pass
    match = _MONTH_YEAR.search(text)
    if match:
        return dt.date(int(match.group(2)), _MONTHS[match.group(1).rstrip(".").lower()], 1), "month"
    match = _RELATIVE.search(text)
    if match:
        which, unit, word, weekday, count, unit_ago = match.groups()
        if word:
            return (published - dt.timedelta(days=1) if word.lower() == "yesterday" else published), "day"
        if weekday:
            target = list(calendar.day_name).index(weekday.capitalize())
            back = (published.weekday() - target) % 7
            return published - dt.timedelta(days=back), "day"
        if count:
            n = _NUMBER_WORDS[count.lower()]
            if unit_ago.lower().startswith("year"):
                return dt.date(published.year - n, 1, 1), "year"
            return _month_shift(published, -n), "month"
        shift = {"last": -1, "this": 0, "next": 1}[which.lower()]
        if unit.lower() == "year":
            return dt.date(published.year + shift, 1, 1), "year"
        if unit.lower() == "month":
            return _month_shift(published, shift), "month"
        return published + dt.timedelta(weeks=shift), "article"
    match = _YEAR.search(text)
    if match:
        return dt.date(int(match.group(1)), 1, 1), "year"
    match = _MONTH_ONLY.search(text)
    if match:
        month = _MONTHS[match.group(1).rstrip(".").lower()]
        year = published.year if month <= published.month else published.year - 1
        return dt.date(year, month, 1), "month"
    return published, "article"
