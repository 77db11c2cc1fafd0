"""OpenSanctions exports (FollowTheMoney) -> staged tables. Off by default: the data is licensed
CC BY-NC 4.0 (commercial use needs OpenSanctions' licence).

OpenSanctions aggregates the official lists this project also loads, so its rows carry the
authority ``opensanctions`` and must never be added to the official lists' counts ('all'
authorities); each designation keeps, as its ``list``, the OpenSanctions dataset that publishes
it (``us_ofac_sdn``, ``eu_fsf``, ``gb_fcdo_sanctions``...), so OpenSanctions' view of an authority
can be set beside the authority's own file.

Each file's layout is sniffed from its first bytes (:mod:`.sniff`) and handed to its reader:

- ``entities.ftm.json`` / ``targets.nested.json`` (FtM JSON lines) and ``entities.delta.json``
  (ADD/MOD/DEL operations): :mod:`.entities` -- a snapshot is one full export, optionally followed
  by the deltas to apply to it, in the order given
- ``targets.simple.csv``: :mod:`.simple_csv` -- one file per snapshot

Both write through :mod:`.stage`; vocabularies are data in ``lookups/`` (:mod:`.vocab`); the
programme keys' target countries are in ``programs.csv``.
"""

from __future__ import annotations

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile, ParseContext
from pipeline.sources.opensanctions.entities import Batch, parse_batch
from pipeline.sources.opensanctions.simple_csv import parse_simple_csv
from pipeline.sources.opensanctions.sniff import DELTA, ENTITIES, SIMPLE_CSV, sniff


def parse(files: list[InputFile], ctx: ParseContext) -> None:
    layouts = [(f, sniff(f, ctx)) for f in files]
    exports = [f for f, layout in layouts if layout == ENTITIES]
    deltas = [f for f, layout in layouts if layout == DELTA]
    tables = [f for f, layout in layouts if layout == SIMPLE_CSV]
    names = ", ".join(f.name for f in files)
    if tables:
        if len(files) > 1:
            raise SourceError(ctx.source, names, "one export per snapshot",
                              "targets.simple.csv is a whole snapshot on its own: parse it alone, not with "
                              f"{len(files) - 1} other file(s)")
        ctx.start_file(tables[0])
        parse_simple_csv(tables[0], ctx)
        return
    if len(exports) > 1:
        raise SourceError(ctx.source, names, "one export per snapshot",
                          f"{len(exports)} full exports ({', '.join(f.name for f in exports)}); a snapshot is one "
                          "entities.ftm.json, optionally followed by its deltas")
    if exports and deltas and files.index(exports[0]) > files.index(deltas[0]):
        raise SourceError(ctx.source, names, "the full export comes first",
                          f"{deltas[0].name} is given before {exports[0].name}: deltas apply to the export, in order")
    parse_batch(ctx, Batch(exports[0] if exports else None, deltas))
