"""Partial inputs: a staged snapshot that is not a whole list, recorded with its data and named in
the headline.

A parser (or :func:`pipeline.parse.parse_files`) records each gap as a ``parse_audit`` row of rule
``partial_input``, so the record lives in the snapshot's own partition and goes wherever it goes
(a later file of the same day replaces both):

- ``field`` is the reason: ``below_floor`` (fewer records than the floor of a complete list in the
  source's ``source.yml``; such a snapshot is published only when the run accepted it, ``pipeline run
  --accept-small-lists``) or ``incomplete_set`` (a layout of several files read without one of its
  members: an OFAC CSV set without ``ADD.CSV`` holds no address) or ``amendment`` (a file that says it
  holds the changes of one date, not the list: SECO's amendment files; staged only when the run accepts
  partial lists);
- ``value`` is ``"<component>: <what is missing>"``; the component is what the snapshot does not
  cover, one of :data:`COMPONENTS`.

``mart_partial_inputs`` lists them with what each cannot show; ``mart_snapshot_deltas`` leaves a
component out of the comparison of two snapshots when either lacks it, so a missing file is never
read as every alias or address removed. :func:`headline_lines` is the headline's paragraph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from pipeline.staged import StagedWriter

RULE = "partial_input"
BELOW_FLOOR = "below_floor"
INCOMPLETE_SET = "incomplete_set"
AMENDMENT = "amendment"
#: What a partial snapshot may not cover. ``designations``: the records outside a subset;
#: ``addresses``: address country links; ``aliases``: names besides the primary name;
#: ``remarks_overflow``: the end of remarks a layout cuts at a fixed width and continues in a
#: side file. mart_partial_inputs says what each cannot show (a test keeps the two in step).
COMPONENTS = ("designations", "addresses", "aliases", "remarks_overflow")


def record_gap(writer: StagedWriter, reason: str, component: str, missing: str) -> None:
    """Record that the snapshot being written lacks ``component`` (``missing`` says what is missing:
    a file of the set, or the count under the floor)."""
    if reason not in (BELOW_FLOOR, INCOMPLETE_SET, AMENDMENT):
        raise ValueError(f"unknown partial-input reason {reason!r}")
    if component not in COMPONENTS:
        raise ValueError(f"unknown partial-input component {component!r} (known: {', '.join(COMPONENTS)})")
    writer.audit(RULE, reason, f"{component}: {missing}", None)


def record_below_floor(writer: StagedWriter, table: str, rows: int, floor: int | None) -> bool:
    """Record a list snapshot of ``rows`` rows in its main ``table`` (``designations``) as a subset
    when it is under ``floor`` (the minimum of a complete list; None: no floor); returns whether it
    is. Batches of archives (events, votes) are never partial lists: they add to what is kept."""
    if floor is None or rows >= floor or table != "designations":
        return False
    record_gap(writer, BELOW_FLOOR, "designations",
               f"{rows} designations, under the floor of {floor} of a complete list")
    return True


_REASONS = {
    BELOW_FLOOR: "a subset under its floor, accepted as one by --accept-small-lists",
    INCOMPLETE_SET: "an incomplete file set",
    AMENDMENT: "an amendment file, the changes of one date, accepted as a partial list by --accept-small-lists",
}


def headline_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The headline's paragraph on partial lists: one line per gap of a source's current snapshot
    (the one the rankings count), with what it cannot show; empty when every list is whole."""
    import duckdb

    try:
        gaps = con.execute("""
            select source, cast(snapshot_date as varchar), reason, component, missing, cannot_show
            from mart_partial_inputs where is_current
            order by source, reason, component""").fetchall()
    except duckdb.CatalogException:  # a publication built before the mart existed
        return []
    if not gaps:
        return []
    sources = sorted({g[0] for g in gaps})
    out = ["", f"PARTIAL LISTS ({', '.join(sources)}): the figures below count what these snapshots hold, and a "
               "partial list cannot show what it lacks (mart_partial_inputs; mart_snapshot_deltas does not read a "
               "missing part as removals):"]
    for source, day, reason, _component, missing, cannot_show in gaps:
        what = f"no {missing}" if reason == INCOMPLETE_SET else missing
        out.append(f"  {source} {day}: {_REASONS.get(reason, reason)} ({what}); it cannot show {cannot_show}")
    return out
