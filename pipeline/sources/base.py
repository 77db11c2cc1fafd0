"""What every source shares: its metadata and the context a parser writes through.

A source is a folder ``pipeline/sources/<id>/``: ``source.yml`` (title, publisher, URLs,
formats, licence, expected row counts, staged tables), one parser module per layout and its
lookups as data (docs/adding_a_source.md). Adding a source touches that folder, a demo file and a
fixture, nothing downstream.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from pipeline.errors import SourceError

if TYPE_CHECKING:  # the DAG file reads source metadata: keep pyarrow out of its imports
    from pipeline.reference import CountryResolver
    from pipeline.staged import StagedWriter

log = logging.getLogger(__name__)

SOURCES_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class SourceMeta:
    """Metadata of one source, from its ``source.yml``."""

    id: str
    title: str
    publisher: str
    authority: str
    list: str
    licence: str
    formats: tuple[str, ...]
    urls: tuple[str, ...]
    demo_inputs: tuple[str, ...]
    #: Bounds on the main table's rows (designations for a sanctions list): a complete file has at
    #: least ``min_rows`` (an error below), at most ``max_rows`` (a warning above);
    #: ``min_rows_demo`` applies to the shipped demo files.
    min_rows: int
    max_rows: int
    min_rows_demo: int
    raw_kinds: dict[str, tuple[str, ...]] = field(default_factory=dict)
    tables: tuple[str, ...] = ()
    default: bool = True
    #: Live mode (``PIPELINE_LIVE=1``) fetches ``urls``; false when they are landing pages.
    live: bool = True
    notes: str = ""
    #: ``snapshots: archive`` in source.yml: each file adds to what the lake holds and never removes
    #: what it does not contain (GDELT, articles, UN votes), so the lake keeps every file of a
    #: snapshot date; otherwise (``snapshots: list``, the default) a snapshot is one list and a later
    #: file of the same date replaces it.
    archive: bool = False

    @property
    def main_table(self) -> str:
        return self.tables[0] if self.tables else "designations"


def _meta_path(source_id: str) -> Path | None:
    for path in (SOURCES_DIR / source_id / "source.yml", SOURCES_DIR / f"{source_id}.yml"):
        if path.exists():
            return path
    return None


@functools.cache
def load_meta(source_id: str) -> SourceMeta:
    path = _meta_path(source_id) if source_id.replace("_", "").isalnum() else None
    if path is None:
        known = sorted({p.parent.name for p in SOURCES_DIR.glob("*/source.yml")}
                       | {p.stem for p in SOURCES_DIR.glob("*.yml") if (SOURCES_DIR / f"{p.stem}.py").exists()})
        from pipeline.errors import UnknownSource

        raise UnknownSource(f"unknown source '{source_id}' (known: {', '.join(known)})")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    expected = data.get("expected", {})

    def bound(*keys: str, default: int) -> int:
        for key in keys:
            if key in expected:
                return int(expected[key])
        return default

    return SourceMeta(
        id=data["id"],
        title=data["title"],
        publisher=data["publisher"],
        authority=data["authority"],
        list=data.get("list", ""),
        licence=data["licence"],
        # an item written "layout: what it is" reads as a one-key mapping
        formats=tuple(f if isinstance(f, str) else "; ".join(f"{k}: {v}" for k, v in f.items())
                      for f in data.get("formats", [])),
        urls=tuple(data.get("urls", [])),
        demo_inputs=tuple(data.get("demo_inputs", [])),
        min_rows=bound("min_rows", "min_designations", default=1),
        max_rows=bound("max_rows", "max_designations", default=10**9),
        min_rows_demo=bound("min_rows_demo", "min_designations_demo", default=1),
        raw_kinds={k: tuple(v or ()) for k, v in (data.get("raw_kinds") or {}).items()},
        tables=tuple(data.get("tables") or ("designations", "names", "country_links", "identifiers", "relations")),
        default=bool(data.get("default", True)),
        live=bool(data.get("live", True)) and bool(data.get("urls")),
        notes=data.get("notes", ""),
        archive=_snapshot_kind(path, data.get("snapshots", "list")) == "archive",
    )


SNAPSHOT_KINDS = ("list", "archive")


def _snapshot_kind(path: Path, kind: object) -> str:
    if kind not in SNAPSHOT_KINDS:
        raise ValueError(f"{path}: snapshots is {kind!r}, not one of {', '.join(SNAPSHOT_KINDS)}")
    return str(kind)


def is_archive(source_id: str) -> bool:
    """Whether ``source_id`` is an archive (``snapshots: archive``); a source the project no longer
    knows is treated as a list (its partitions are left as they are)."""
    try:
        return load_meta(source_id).archive
    except KeyError:
        return False


#: What a parser could not place: (rule, field, value, occurrences).
AuditRow = tuple[str, str, "str | None", int]


@dataclass
class LoadResult:
    """What a bulk source's ``load(files)`` produces: its staged tables (Arrow, conforming to its
    ``SCHEMAS``, lineage filled), the data's own date when the files carry one, and the audit."""

    tables: dict
    snapshot_date: date | None
    audit: list[AuditRow] = field(default_factory=list)


@dataclass(frozen=True)
class InputFile:
    """A file handed to a parser: where it is, what it was called outside, and its hash."""

    path: Path
    name: str
    sha256: str


@dataclass
class ParseContext:
    """What a parser writes through. Keeps the current record id for error messages, resolves
    countries through the project's crosswalk and audits what it cannot place."""

    source: str
    writer: StagedWriter
    countries: CountryResolver
    max_bytes: int = 1 << 30
    strict: bool = True
    #: The run accepts partial lists (``pipeline run --accept-small-lists``): a file that is not a
    #: whole list by its own header (an amendment) is staged and recorded as partial instead of refused.
    accept_partial: bool = False
    progress_every: int = 5000
    record: str | None = None
    #: The list of the file being parsed, when the layout does not say it per record (classic
    #: XML, CSV: see ``us_ofac_sdn/lookups/lists.yml``); ``None`` means the source's own list.
    list_code: str | None = None
    _seen: int = 0
    _current_file: str = ""

    @property
    def meta(self) -> SourceMeta:
        return load_meta(self.source)

    def start_file(self, f: InputFile) -> None:
        self._current_file = f.name
        self.record = None
        self.list_code = None
        self.writer.set_lineage(f.sha256, f.name)
        log.info("[%s] parsing %s", self.source, f.name)

    def set_snapshot(self, snapshot: date) -> None:
        if self.writer.snapshot_date and self.writer.snapshot_date != snapshot:
            log.warning(
                "[%s] %s says snapshot %s, earlier file said %s; keeping the earlier one",
                self.source, self._current_file, snapshot, self.writer.snapshot_date,
            )
            return
        self.writer.snapshot_date = snapshot

    def key(self, record_id: str) -> str:
        from pipeline.staged import entity_key

        return entity_key(self.source, record_id)

    def tick(self) -> None:
        """Call once per record: logs progress on long files."""
        self._seen += 1
        if self._seen % self.progress_every == 0:
            log.info("[%s] %s: %d records parsed", self.source, self._current_file, self._seen)

    def add(self, table: str, row: dict) -> None:
        self.writer.add(table, row)

    def audit(self, rule: str, field_name: str, value: str | None, count: int = 1) -> None:
        self.writer.audit(rule, field_name, value, self.record, count)

    @property
    def unmapped(self) -> dict[str, int]:
        """Country values that could not be mapped, with counts (read from the audit)."""
        found: dict[str, int] = {}
        for (rule, _field, value, _sha, _file), n in self.writer.audit_counts.items():
            if rule == "unmapped_country":
                found[value or ""] = found.get(value or "", 0) + n
        return found

    def error(self, rule: str, detail: str, record: str | None = None) -> SourceError:
        """A :class:`SourceError` naming this source, the current file and the record."""
        return SourceError(self.source, self._current_file, rule, detail, record or self.record)

    def violation(self, rule: str, detail: str) -> None:
        """A whole-file consistency rule failed (e.g. a header count that does not match the
        records). Strict parsing (the pipeline) refuses the file; lenient parsing (``pipeline
        parse`` on a hand-cut excerpt) records it in the audit and warns."""
        if self.strict:
            raise self.error(rule, detail)
        log.warning("[%s] %s: rule '%s' failed: %s (kept: lenient parse)", self.source,
                    self._current_file, rule, detail)
        self.audit("rule_violation", rule, detail)

    def partial(self, reason: str, component: str, missing: str) -> None:
        """Record that the snapshot being written is not a whole list (:mod:`pipeline.partial`)."""
        from pipeline.partial import record_gap

        record_gap(self.writer, reason, component, missing)

    def link_country(
        self,
        record_id: str,
        link_type: str,
        raw_value: str | None,
        iso2: str | None = None,
        entity_key: str | None = None,
    ) -> None:
        """Write one country link. ``iso2`` is a code the source itself gives (checked against
        the crosswalk); otherwise ``raw_value`` is resolved by name. A value that cannot be
        mapped is still written (``country_iso2`` null, raw value kept) and audited.
        ``entity_key``: the entity's key where the source keys entities apart from records (one
        UK group listed under several regimes), so the link joins the entity's designations."""
        if not raw_value and not iso2:
            return
        match = self.countries.resolve_iso2(iso2) if iso2 else self.countries.resolve(raw_value)
        if iso2 and not match.matched and raw_value:
            match = self.countries.resolve(raw_value)
        if match.iso2 is None:
            value = raw_value or iso2 or ""
            # A value the crosswalk deliberately maps to no country ("na", USSR, undetermined)
            # is reported apart from a value it does not know.
            self.audit("unmapped_country" if not match.matched else "non_country", link_type, value)
        self.add(
            "country_links",
            {
                "entity_key": entity_key or self.key(record_id),
                "source_record_id": record_id,
                "link_type": link_type,
                "country_iso2": match.iso2,
                "region": match.region,
                "country_status": "mapped" if match.iso2 else ("non_country" if match.matched else "unknown"),
                "raw_value": raw_value or iso2 or "",
            },
        )


def demo_main(build: Callable[[Path], list[Path]], default_out: Path, doc: str | None) -> None:
    """The command line of a source's ``demo.py`` (``python -m pipeline.sources.<id>.demo [--out DIR]``):
    write the demo files with ``build`` and print their paths."""
    import argparse

    parser = argparse.ArgumentParser(description=(doc or "").strip().split("\n")[0])
    parser.add_argument("--out", type=Path, default=default_out, help="folder to write into (default: %(default)s)")
    for path in build(parser.parse_args().out):
        print(path)
