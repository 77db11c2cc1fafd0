"""The OFAC vocabularies, read once from ``lookups/`` (YAML and CSV beside the parsers).

Every layout module asks for its own view of a table by its name (``classic_xml``, ``csv_set``,
``advanced_xml``, ``enhanced_xml``; ``remarks`` for the remark grammar shared by the classic XML
``idType`` and the CSV remarks). CSV tables say in a ``layouts`` column which layouts know a row.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LOOKUPS = Path(__file__).resolve().parent / "lookups"


#: libyaml's safe loader where PyYAML was built with it (the same objects, parsed in C), else PyYAML's own.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def read_yaml(name: str) -> dict[str, Any]:
    return yaml.load((LOOKUPS / name).read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader


@functools.cache
def read_csv(name: str) -> tuple[dict[str, str], ...]:
    with open(LOOKUPS / name, encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


def rows_for(name: str, layout: str) -> list[dict[str, str]]:
    """The rows of a CSV table whose ``layouts`` cell names ``layout``."""
    return [row for row in read_csv(name) if layout in row["layouts"].split()]


def mapping(name: str, layout: str) -> dict[str, str]:
    """One layout's map from a per-layout YAML table (``entity_types.yml``, ``alias_types.yml``)."""
    return dict(read_yaml(name)[layout])


def id_types(layout: str) -> dict[str, str]:
    """Identifier type names as ``layout`` writes them -> identifiers.id_type (``id_types.csv``)."""
    return {row["raw_type"]: row["id_type"] for row in rows_for("id_types.csv", layout)}


def known_elements(layout: str) -> frozenset[str]:
    """Every element name ``layout`` reads or deliberately skips (``xml_elements.yml``)."""
    return frozenset(name for names in read_yaml("xml_elements.yml")[layout].values() for name in names)


@dataclass(frozen=True)
class FeatureRule:
    """What a feature type means: ``country``/``place`` (a country link of kind ``value``; a place
    is free text whose last comma part may name the country), ``id`` (an identifier of type
    ``value``) or ``ignore`` (known, not staged)."""

    action: str
    value: str


@functools.cache
def _features(layout: str) -> tuple[dict[str, FeatureRule], tuple[tuple[str, FeatureRule], ...]]:
    exact: dict[str, FeatureRule] = {}
    prefixes: list[tuple[str, FeatureRule]] = []
    for row in rows_for("features.csv", layout):
        rule = FeatureRule(row["action"], row["value"])
        if row["match"] == "prefix":
            prefixes.append((row["feature"], rule))
        else:
            exact[row["feature"]] = rule
    return exact, tuple(prefixes)


@functools.lru_cache(maxsize=4096)  # feature type names are a file's vocabulary: few, asked once per feature
def feature_rule(layout: str, feature_name: str) -> FeatureRule | None:
    """The rule of a feature type (exact name first, then the first matching prefix); None when
    ``features.csv`` does not know it."""
    exact, prefixes = _features(layout)
    found = exact.get(feature_name)
    if found is not None:
        return found
    return next((rule for prefix, rule in prefixes if feature_name.startswith(prefix)), None)
