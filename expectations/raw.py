"""Bronze checks: the raw files landed in one run, one row per file.

Columns of the frame the caller builds:

``source``, ``name``, ``sha256``, ``bytes`` (int), ``kind`` (sniffed: xml|csv|html|empty|gzip|
zip|binary|text), ``root`` (XML root element or null), ``has_doctype`` (bool), and what the
source's ``source.yml`` accepts: ``accepted_kinds`` and ``expected_roots`` (``;``-joined).
:func:`prepare` derives ``expected_kind`` and ``root_ok`` from them (the rules live here).

Every check is critical: an HTML error page, a truncated download or an XML file with a DOCTYPE
must never be parsed as a sanctions list. The suite runs once over all files; GX returns every
failing row named by :data:`INDEX_COLUMNS`, and :func:`offending_files` words them for the error,
so one bad file among 10,000 is found in that same pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from expectations import HEX64, gx_modules, ruled

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

SUITE_NAME = "raw.files"
MIN_BYTES = 64
COLUMNS = [
    "source",
    "name",
    "sha256",
    "bytes",
    "kind",
    "expected_kind",
    "root",
    "expected_roots",
    "root_ok",
    "has_doctype",
]


#: The columns that name a raw file in a failure: GX returns them for every row that breaks a rule.
INDEX_COLUMNS = ("source", "name", "kind")
#: At most this many offending files are named in the error's headline (each rule names its own).
MAX_FILES_NAMED = 20

#: Sniffed kinds that are one family: a tab- or comma-separated file and plain text look alike.
KIND_FAMILIES = {"csv": "text", "tsv": "text", "text": "text"}


def prepare(frame):
    """Add ``expected_kind`` (the sniffed kind when the source accepts it, else what it accepts)
    and ``root_ok`` (an XML file's root is one the source publishes) to the raw file listing."""
    if frame.empty:
        return frame.assign(expected_kind=[], root_ok=[])
    frame = frame.copy()

    def family(kind: str) -> str:
        return KIND_FAMILIES.get(kind, kind)

    accepted = [{family(k) for k in (a or "").split(";") if k} for a in frame["accepted_kinds"]]
    frame["expected_kind"] = [
        kind if family(kind) in ok else "|".join(sorted(ok)) for kind, ok in zip(frame["kind"], accepted, strict=True)
    ]
    frame["root_ok"] = [
        kind != "xml" or (root is not None and root in (roots or "").split(";"))
        for kind, root, roots in zip(frame["kind"], frame["root"], frame["expected_roots"], strict=True)
    ]
    return frame


def offending_files(unexpected_rows: list[list[Mapping[str, Any]]], total: int) -> str:
    """``2 of 10,000 files: source articles file 'x.md' (sniffed: empty); ...`` from the failing rows
    of each failed expectation (a report's ``unexpected_rows``); ``the set of files`` when only a
    table-level rule failed (no file landed, a column missing)."""
    files: dict[tuple[Any, ...], str] = {}
    for rows in unexpected_rows:
        for row in rows:
            key = tuple(row.get(col) for col in INDEX_COLUMNS)
            files.setdefault(key, f"source {row.get('source')} file '{row.get('name')}' (sniffed: {row.get('kind')})")
    if not files:
        return "the set of files"
    named = list(files.values())
    more = f"; and {len(named) - MAX_FILES_NAMED:,} more" if len(named) > MAX_FILES_NAMED else ""
    return f"{len(named):,} of {total:,} files: " + "; ".join(named[:MAX_FILES_NAMED]) + more


def raw_files_suite() -> ExpectationSuite:
    """The ``raw.files`` suite over one row per raw file landed in this run."""
    gx, gxe = gx_modules()
    expectations = [
        ruled(
            gxe.ExpectTableColumnsToMatchSet,
            "the raw file listing has every column the checks need",
            column_set=COLUMNS,
            exact_match=False,
        ),
        ruled(
            gxe.ExpectTableRowCountToBeBetween,
            "at least one raw file was landed",
            min_value=1,
        ),
        *(
            ruled(gxe.ExpectColumnValuesToNotBeNull, f"every raw file has a {col}", column=col)
            for col in ("source", "name", "sha256", "bytes", "kind", "root_ok", "has_doctype")
        ),
        ruled(
            gxe.ExpectColumnValuesToMatchRegex,
            "sha256 is 64 lowercase hex digits",
            column="sha256",
            regex=HEX64,
        ),
        ruled(
            gxe.ExpectColumnValuesToBeBetween,
            f"a raw file has at least {MIN_BYTES} bytes (less is an empty or truncated download)",
            column="bytes",
            min_value=MIN_BYTES,
        ),
        ruled(
            gxe.ExpectColumnPairValuesToBeEqual,
            "the sniffed file kind is the kind the source publishes (HTML means an error page)",
            column_A="kind",
            column_B="expected_kind",
        ),
        ruled(
            gxe.ExpectColumnValuesToBeInSet,
            "the XML root element is one the source publishes",
            column="root_ok",
            value_set=[True],
        ),
        ruled(
            gxe.ExpectColumnValuesToBeInSet,
            "no raw XML file declares a DOCTYPE",
            column="has_doctype",
            value_set=[False],
        ),
        ruled(
            gxe.ExpectCompoundColumnsToBeUnique,
            "each file content (sha256) is landed once per source",
            column_list=["source", "sha256"],
        ),
    ]
    return gx.ExpectationSuite(name=SUITE_NAME, expectations=expectations, meta={"stage": "raw"})
