"""The OpenSanctions vocabularies, read once from ``lookups/`` (CSV beside the parsers).

- ``schemata.csv``: FtM schema -> role (``thing`` may be a target, ``sanction``, ``address``,
  ``identification``, ``relation``, ``ignore``) and ``designations.entity_type``
- ``properties.csv``: property of a thing -> what it is staged as (a name, a country link of a
  given type, a free-text place, an address reference, an identifier, a programme, a relation) or
  ignored; a row may be limited to some schemata (the first row that applies wins)
- ``helper_properties.csv``: the properties of Sanction, Address and Identification entities
- ``relations.csv``: relation schema -> subject and object properties and ``relations.relation_type``
- ``topics.csv``: which topics make an entity a designation
- ``datasets.csv``: OpenSanctions dataset -> titles, issuer, the project authority and source of
  the official list it aggregates, and whether it is staged at all
- ``country_codes.csv``: OpenSanctions' country codes beyond ISO 3166-1 (``zz``, ``eu``, ``ua-cri``...)
- ``program_refinements.csv``: an umbrella programme narrowed by the programme text of its Sanction
  entity (Canada's CA-SEMA -> CA-SEMA-RUSSIA...)
- ``program_datasets.csv``: programme key -> the dataset that issues it
- ``simple_csv_columns.csv``: the columns of ``targets.simple.csv`` and what each is
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

LOOKUPS = Path(__file__).resolve().parent / "lookups"


@functools.cache
def read_csv(name: str) -> tuple[dict[str, str], ...]:
    with open(LOOKUPS / name, encoding="utf-8", newline="") as handle:
        return tuple({k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle))


@dataclass(frozen=True)
class Schema:
    """What one FtM schema is to the parser."""

    role: str
    entity_type: str | None


@functools.cache
def schemata() -> dict[str, Schema]:
    return {row["schema"]: Schema(row["role"], row["entity_type"] or None) for row in read_csv("schemata.csv")}


@dataclass(frozen=True)
class PropertyRule:
    """What one property of a thing is staged as: ``action`` (name, country, place, address_ref,
    identifier, program, topics, relation, birth_date, ignore) and its ``value`` (name type, link type, id type,
    relation type)."""

    action: str
    value: str


@functools.cache
def _property_rows() -> dict[str, tuple[tuple[frozenset[str], PropertyRule], ...]]:
    rows: dict[str, list[tuple[frozenset[str], PropertyRule]]] = {}
    for row in read_csv("properties.csv"):
        scope = frozenset(row["schemata"].split())
        rows.setdefault(row["property"], []).append((scope, PropertyRule(row["action"], row["value"])))
    return {prop: tuple(found) for prop, found in rows.items()}


def property_rule(prop: str, schema: str) -> PropertyRule | None:
    """The rule of ``prop`` on an entity of ``schema`` (the first row whose schemata include it or
    that has none); ``None`` for a property the table does not know."""
    for scope, rule in _property_rows().get(prop, ()):
        if not scope or schema in scope:
            return rule
    return None


@functools.cache
def helper_fields() -> dict[str, dict[str, str]]:
    """role (sanction, address, identification) -> property -> field."""
    found: dict[str, dict[str, str]] = {}
    for row in read_csv("helper_properties.csv"):
        found.setdefault(row["role"], {})[row["property"]] = row["field"]
    return found


@functools.cache
def helper_props_by_field(role: str) -> dict[str, tuple[str, ...]]:
    """field -> the properties of a ``role`` entity that hold it."""
    found: dict[str, list[str]] = {}
    for prop, field_name in helper_fields()[role].items():
        found.setdefault(field_name, []).append(prop)
    return {k: tuple(v) for k, v in found.items()}


@dataclass(frozen=True)
class RelationRule:
    subject: str
    object: str
    relation_type: str
    label_property: str | None


@functools.cache
def relations() -> dict[str, RelationRule]:
    return {row["schema"]: RelationRule(row["subject"], row["object"], row["relation_type"],
                                        row["label_property"] or None)
            for row in read_csv("relations.csv")}


@functools.cache
def topics() -> dict[str, bool]:
    """topic -> whether it makes an entity a designation."""
    return {row["topic"]: row["designating"] == "yes" for row in read_csv("topics.csv")}


@dataclass(frozen=True)
class Dataset:
    """One OpenSanctions dataset (a list it aggregates)."""

    name: str
    titles: tuple[str, ...]
    issuer: str
    project_authority: str
    project_source: str
    staged: bool
    note: str


@functools.cache
def datasets() -> dict[str, Dataset]:
    return {row["dataset"]: Dataset(row["dataset"], tuple(t for t in row["titles"].split("|") if t), row["issuer"],
                                    row["project_authority"], row["project_source"], row["stage"] == "yes",
                                    row["note"])
            for row in read_csv("datasets.csv")}


@functools.cache
def dataset_by_title() -> dict[str, str]:
    """A dataset title (case-folded, spaces collapsed) -> dataset name."""
    return {" ".join(title.split()).casefold(): ds.name for ds in datasets().values() for title in ds.titles}


@dataclass(frozen=True)
class SpecialCode:
    """An OpenSanctions country code beyond ISO 3166-1: a region of a country, or no country."""

    iso2: str | None
    region: str | None


@functools.cache
def special_codes() -> dict[str, SpecialCode]:
    return {row["code"]: SpecialCode(row["iso2"] or None, row["region"] or None)
            for row in read_csv("country_codes.csv")}


@functools.cache
def program_refinements() -> dict[str, tuple[tuple[re.Pattern[str], str], ...]]:
    """programme key -> (pattern on the Sanction's programme text, refined key), tried in order."""
    found: dict[str, list[tuple[re.Pattern[str], str]]] = {}
    for row in read_csv("program_refinements.csv"):
        found.setdefault(row["program"], []).append((re.compile(row["pattern"], re.IGNORECASE), row["refined"]))
    return {key: tuple(rules) for key, rules in found.items()}


@functools.cache
def program_datasets() -> dict[str, str]:
    return {row["program"]: row["dataset"] for row in read_csv("program_datasets.csv")}


@functools.cache
def simple_csv_columns() -> dict[str, tuple[str, bool]]:
    """column -> (action, required)."""
    return {row["column"]: (row["action"], row["required"] == "yes") for row in read_csv("simple_csv_columns.csv")}
