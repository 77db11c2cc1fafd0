"""The SECO list's vocabularies, read once from ``lookups/`` (CSV and YAML beside the parsers).

- ``list_types.csv``: ``swiss-sanctions-list@list-type`` -> complete list or amendment
- ``program_keys.csv``: a programme's English ``program-key`` -> the programme code staged in
  ``designations.programs`` (the codes of the folder's ``programs.csv``); ``seen_in`` says whether a
  key was seen in a real file (``sample``, ``public_excerpt``) or follows the same pattern (``assumed``)
- ``modification_types.csv``: ``modification-type`` -> what it does to the target's status
- ``entity_types.csv``: ``individual`` / ``entity`` / ``object@object-type`` -> entity type, and
  what its ``day-month-year`` is (birth, registration or build date)
- ``name_types.csv``, ``name_qualities.csv``, ``name_parts.csv``: how names are staged
- ``document_types.csv``: ``identification-document@document-type`` -> ``identifiers.id_type``
- ``relation_types.csv``: ``relation@relation-type`` -> ``relations.relation_type``
- ``info_patterns.csv``: what ``other-information`` texts say that has a column (IMO numbers, flags)
- ``foreign_identifiers.csv``: ``foreign-identifier`` -> ``identifiers.id_type``
- ``xml_schema.yml``: every element and attribute the parser knows (anything else is audited)
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

LOOKUPS = Path(__file__).resolve().parent / "lookups"


@functools.cache
def read_csv(name: str) -> tuple[dict[str, str], ...]:
    with open(LOOKUPS / name, encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


def _table(name: str, key: str, value: str) -> dict[str, str]:
    return {row[key].casefold(): row[value] for row in read_csv(name)}


@functools.cache
def list_kinds() -> dict[str, str]:
    """``list-type`` (case-folded) -> ``complete`` or ``amendment``."""
    return _table("list_types.csv", "list_type", "kind")


@functools.cache
def program_codes() -> dict[str, str]:
    """English ``program-key`` (case-folded, whitespace collapsed) -> programme code."""
    return {" ".join(row["program_key"].split()).casefold(): row["program"] for row in read_csv("program_keys.csv")}


def program_code(key: str) -> tuple[str, bool]:
    """The programme code of a ``program-key`` and whether the table knows it. An unknown key keeps
    its own text as the code (upper case, runs of other characters as '-'), to be audited."""
    found = program_codes().get(" ".join(key.split()).casefold())
    if found is not None:
        return found, True
    return re.sub(r"[^A-Z0-9]+", "-", key.upper()).strip("-") or "UNKNOWN", False


@dataclass(frozen=True)
class ModificationType:
    status: str  # in_force | removed | '' (no effect on the status)
    precedence: int  # which of two listing events of one date counts as the later


@functools.cache
def modification_types() -> dict[str, ModificationType]:
    return {row["modification_type"].casefold(): ModificationType(row["status"], int(row["precedence"]))
            for row in read_csv("modification_types.csv")}


@dataclass(frozen=True)
class EntityType:
    entity_type: str
    date_id_type: str | None


@functools.cache
def entity_types() -> dict[tuple[str, str], EntityType]:
    """(element, object-type case-folded; '' for none) -> entity type."""
    return {(row["element"], row["object_type"].casefold()): EntityType(row["entity_type"], row["date_id_type"] or None)
            for row in read_csv("entity_types.csv")}


@functools.cache
def name_types() -> dict[str, str]:
    return _table("name_types.csv", "name_type", "staged_type")


@functools.cache
def name_qualities() -> dict[str, str]:
    return _table("name_qualities.csv", "quality", "staged_quality")


@functools.cache
def name_parts() -> dict[str, bool]:
    """``name-part-type`` (case-folded) -> whether the part is written in the whole name."""
    return {row["name_part_type"].casefold(): row["in_name"] == "yes" for row in read_csv("name_parts.csv")}


@functools.cache
def document_types() -> dict[str, str]:
    return _table("document_types.csv", "document_type", "id_type")


@functools.cache
def relation_types() -> dict[str, str]:
    return _table("relation_types.csv", "relation_type", "staged_type")


@functools.cache
def info_patterns() -> dict[str, tuple[re.Pattern[str], ...]]:
    """kind (imo, flag) -> the patterns that find it in an ``other-information`` text."""
    found: dict[str, list[re.Pattern[str]]] = {}
    for row in read_csv("info_patterns.csv"):
        found.setdefault(row["kind"], []).append(re.compile(row["pattern"], re.IGNORECASE))
    return {kind: tuple(patterns) for kind, patterns in found.items()}


@functools.cache
def _foreign_rules() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(row["pattern"]), row["id_type"]) for row in read_csv("foreign_identifiers.csv"))


def foreign_id_type(value: str) -> str:
    """The ``identifiers.id_type`` of a ``foreign-identifier`` value (first matching rule)."""
    return next(id_type for pattern, id_type in _foreign_rules() if pattern.fullmatch(value))


@dataclass(frozen=True)
class ElementRule:
    attributes: frozenset[str]
    children: frozenset[str]
    opaque_children: frozenset[str]


@functools.cache
def xml_schema() -> dict[str, ElementRule]:
    """Element name -> the attributes and children it may have (``lookups/xml_schema.yml``)."""
    data = yaml.safe_load((LOOKUPS / "xml_schema.yml").read_text(encoding="utf-8"))
    return {name: ElementRule(*(frozenset((rule or {}).get(key, ())) for key in ("attributes", "children",
                                                                               "opaque_children")))
            for name, rule in data.items()}
