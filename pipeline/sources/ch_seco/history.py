"""A target's modification history: whether it is in force, and since when it is listed.

Each ``<modification>`` of a target is one event: ``listed``, ``amended`` or ``de-listed``, with
up to three dates: ``enactment-date`` (when the Federal Council or the EAER decided it),
``publication-date`` (when SECO published the change) and ``effective-date`` (when it took legal
effect for the target). Rules (``lookups/modification_types.csv``):

- **In force**: the target's last *listing event* (``listed`` or ``de-listed``; ``amended`` changes
  the record, not its status) is ``listed``. Events are ordered by their date (effective, else
  publication, else enactment), never by their place in the file (public copies of the complete
  list write the newest first); two listing events of one date are ordered by the table's
  ``precedence`` (a ``listed`` of the same day as a ``de-listed`` wins: the target is in the list
  with a listing of that day). Undated events count only when no listing event has a date, and
  then in file order (audited). A target with no listing event at all is in the list, hence in
  force (audited ``no_listing_event``).
- **Listed on**: the ``effective-date`` of the first ``listed`` event. Not its publication date:
  SECO publishes a change on or around the day it applies, but it may publish ahead of the entry
  into force or after it (an ordinance amended in the evening, published the next day), and a
  listing counts from the day the measures apply to the target, the rule the EU source follows
  (entry into force, never the publication of an act). A re-listed target keeps its first listing
  date; the de-listing and re-listing are audited (``relisted``) so the gap is not lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from pipeline.sources.ch_seco.vocab import modification_types

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:$|[T Z+\-])")


def parse_date(value: str | None) -> date | None:
    """An ``xs:date`` (``YYYY-MM-DD``, a time zone allowed): None when blank, ``ValueError`` when
    not a calendar date."""
    text = (value or "").strip()
    if not text:
        return None
    found = _ISO_DATE.match(text)
    if not found:
        raise ValueError(f"not a date: {text!r}")
    return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))


@dataclass(frozen=True)
class Modification:
    """One ``<modification>``: its type (case-folded) and dates, and its place in the record."""

    kind: str
    effective: date | None
    published: date | None
    enacted: date | None
    position: int

    @property
    def when(self) -> date | None:
        return self.effective or self.published or self.enacted

    @property
    def status(self) -> str:
        found = modification_types().get(self.kind)
        return found.status if found else ""

    @property
    def precedence(self) -> int:
        found = modification_types().get(self.kind)
        return found.precedence if found else 0

    def describe(self) -> str:
        return f"{self.kind} {self.when.isoformat() if self.when else 'undated'}"


@dataclass(frozen=True)
class History:
    """What a target's modifications say."""

    in_force: bool
    #: The effective date of the first listing (None when it has none).
    listed_on: date | None
    #: The first listing event (None when there is none).
    first_listing: Modification | None
    #: The last listing event: ``de-listed`` for a target no longer in force.
    last_event: Modification | None
    #: Listing events in the order they happened.
    events: tuple[Modification, ...]
    #: What the rules had to assume: (audit rule, value) pairs.
    notes: tuple[tuple[str, str], ...]

    @property
    def relisted(self) -> bool:
        """A ``listed`` event follows a ``de-listed`` one."""
        kinds = [e.status for e in self.events]
        return any(a == "removed" and b == "in_force" for a, b in zip(kinds, kinds[1:], strict=False))


def read_history(mods: list[Modification]) -> History:
    """The status and listing date of a target from its modifications (rules: module docstring)."""
    notes: list[tuple[str, str]] = []
    listing = [m for m in mods if m.status]
    dated = [m for m in listing if m.when is not None]
    undated = [m for m in listing if m.when is None]
    if dated:
        events = sorted(dated, key=lambda m: (m.when, m.precedence))
        for m in undated:
            notes.append(("undated_modification", m.kind))
        last = events[-1]
        same_day = [m for m in events if m.when == last.when]
        if len({m.status for m in same_day}) > 1:
            kinds = " and ".join(sorted({m.kind for m in same_day}))
            notes.append(("same_day_listing_events",
                          f"{kinds} on {last.when.isoformat()}: {last.kind} counts as the later"))
    else:
        events = sorted(undated, key=lambda m: m.position)
        if len({m.status for m in events}) > 1:
            notes.append(("undated_modification", "listing events without dates, taken in file order: "
                                                  + ", ".join(m.kind for m in events)))
    last_event = events[-1] if events else None
    if last_event is None:
        notes.append(("no_listing_event", ", ".join(m.kind for m in mods) or "no modification"))
    in_force = last_event is None or last_event.status == "in_force"
    listings = [m for m in events if m.status == "in_force"]
    first = listings[0] if listings else None
    return History(in_force, first.effective if first else None, first, last_event, tuple(events), tuple(notes))
