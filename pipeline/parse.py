"""Parse source files into the staged tables (no Airflow needed).

``parse_files("us_ofac_sdn", [Path("sdn_advanced.xml")], out_dir)`` writes
``out_dir/<table>/source=us_ofac_sdn/snapshot_date=<date>/part-<bundle>.parquet`` for every
staged table and returns the row counts. Used by the DAG and by ``pipeline parse``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.errors import SourceError
from pipeline.partial import record_below_floor
from pipeline.reference import CountryResolver
from pipeline.sources import InputFile, ParseContext, load_meta, parser_for, schemas_for
from pipeline.staged import StagedWriter, bundle_id

log = logging.getLogger(__name__)


@dataclass
class ParseResult:
    source: str
    snapshot_date: date
    counts: dict[str, int]
    files: list[str]
    unmapped_countries: dict[str, int] = field(default_factory=dict)
    audit: dict[str, int] = field(default_factory=dict)
    #: Whether the files dated the snapshot themselves (the authority's publication date), not the
    #: ``snapshot_date`` given for files that carry none (mart_source_freshness reads it).
    snapshot_from_file: bool = False

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "snapshot_date": self.snapshot_date.isoformat(),
            "counts": self.counts,
            "files": self.files,
            "unmapped_countries": self.unmapped_countries,
            "audit": self.audit,
            "snapshot_from_file": self.snapshot_from_file,
        }


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def parse_files(
    source_id: str,
    paths: list[Path],
    out_dir: Path,
    *,
    names: list[str] | None = None,
    sha256s: list[str] | None = None,
    snapshot_date: date | None = None,
    max_bytes: int = 1 << 30,
    strict: bool = True,
    floor: int | None = None,
    accept_partial: bool = False,
) -> ParseResult:
    """Parse the files of one source snapshot into ``out_dir``.

    ``names`` are the files' outside names (default: their own names), ``sha256s`` their hashes
    when already known (from the raw manifest). ``snapshot_date`` is used when the files carry
    no publication date of their own (the OFAC CSV set). ``strict=False`` turns whole-file
    consistency failures (a header record count that does not match) into audited warnings.
    ``floor``: the row count of a complete list (source.yml); a list snapshot under it is recorded
    as a partial input (:mod:`pipeline.partial`), which the run publishes only when it accepts
    small lists. ``accept_partial``: the run accepts partial lists, so a file that says it is not a
    whole list (an amendment) is staged as a partial input instead of refused.
    """
    meta = load_meta(source_id)  # fail fast on an unknown source
    parse = parser_for(source_id)
    names = names or [p.name for p in paths]
    for path, name in zip(paths, names, strict=True):
        if not path.is_file():
            raise SourceError(source_id, name, "input exists", f"no such file: {path}")
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(source_id, name, "size cap", f"{size} bytes is over the {max_bytes}-byte cap")
    sha256s = sha256s or [sha256_of(p) for p in paths]
    files = [InputFile(p, n, s) for p, n, s in zip(paths, names, sha256s, strict=True)]
    writer = StagedWriter(out_dir=out_dir, source=source_id, bundle=bundle_id(sha256s), schemas=schemas_for(source_id))
    ctx = ParseContext(source=source_id, writer=writer, countries=CountryResolver.load(), max_bytes=max_bytes,
                       strict=strict, accept_partial=accept_partial)
    try:
        parse(files, ctx)
        if writer.counts[meta.main_table] == 0:
            hint = ""
            if meta.main_table == "designations" and writer.counts["names"] + writer.counts["country_links"] == 0:
                hint = " (a side file alone, such as sdn_comments.csv, is not a list: pass the main file too)"
            raise SourceError(source_id, ", ".join(names), "has records",
                              f"no {meta.main_table} row was found in the file(s)" + hint)
        from_file = writer.snapshot_date is not None
        if writer.snapshot_date is None:
            writer.snapshot_date = snapshot_date or date.today()
        if floor is not None and not meta.archive:
            writer.set_lineage(files[0].sha256, files[0].name)
            record_below_floor(writer, meta.main_table, writer.counts[meta.main_table], floor)
        counts = writer.commit()
    except BaseException:
        writer.abort()
        raise
    audit: dict[str, int] = {}
    for (rule, fname, _value, _sha, _file), n in writer.audit_counts.items():
        audit[f"{rule}:{fname}"] = audit.get(f"{rule}:{fname}", 0) + n
    log.info(
        "[%s] snapshot %s: %s", source_id, writer.snapshot_date,
        ", ".join(f"{t} {n}" for t, n in counts.items()),
    )
    unmapped = ctx.unmapped
    if unmapped:
        log.warning(
            "[%s] %d country value(s) could not be mapped: %s", source_id, len(unmapped),
            ", ".join(f"{v!r} x{n}" for v, n in sorted(unmapped.items())),
        )
    return ParseResult(
        source=source_id,
        snapshot_date=writer.snapshot_date,
        counts=counts,
        files=names,
        unmapped_countries=unmapped,
        audit=audit,
        snapshot_from_file=from_file,
    )
