"""The EU FSF vocabularies, read once from ``lookups/`` (CSV and YAML beside the parsers).

- ``subject_types.csv``: ``subjectType`` code or classification code -> ``designations.entity_type``
- ``id_types.csv``: identification type (exact code, or a pattern on its description, tried in
  order) -> ``identifiers.id_type``, whether its country is an enterprise's registration country,
  whether it makes an enterprise a vessel
- ``vessel_markers.csv``: what, in a record's free text, says that an enterprise is a vessel
- ``flag_patterns.csv``: how a vessel's free text names its flag
- ``xml_fields.yml``: every element and attribute of the XML 1.1 schema and what the parser does
  with it (anything else is audited)
- ``csv_columns.csv``: every column of the CSV 1.1 layout and the XML element/attribute it holds
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LOOKUPS = Path(__file__).resolve().parent / "lookups"


@functools.cache
def read_csv(name: str) -> tuple[dict[str, str], ...]:
    with open(LOOKUPS / name, encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


@functools.cache
def read_yaml(name: str) -> dict[str, Any]:
    return yaml.safe_load((LOOKUPS / name).read_text(encoding="utf-8"))


@functools.cache
def subject_types() -> dict[str, str]:
    """A ``subjectType`` code or classification code (case-folded) -> entity type."""
    return {row["value"].casefold(): row["entity_type"] for row in read_csv("subject_types.csv")}


@dataclass(frozen=True)
class IdRule:
    """What an identification type means."""

    id_type: str
    registration_link: bool
    vessel: bool


@functools.cache
def _id_rules() -> tuple[tuple[str, str | re.Pattern[str], IdRule], ...]:
    rules = []
    for row in read_csv("id_types.csv"):
        rule = IdRule(row["id_type"], row["registration_link"] == "yes", row["vessel"] == "yes")
        value: str | re.Pattern[str] = (row["value"].casefold() if row["match"] == "code"
                                         else re.compile(row["value"], re.IGNORECASE))
        rules.append((row["match"], value, rule))
    return tuple(rules)


def id_rule(code: str | None, description: str | None) -> IdRule | None:
    """The rule of an identification type: the first row of ``id_types.csv`` whose exact code or
    description pattern matches; None when no row does."""
    code_key = (code or "").strip().casefold()
    text = description or ""
    for match, value, rule in _id_rules():
        if match == "code" and code_key and code_key == value:
            return rule
        if match == "description" and text and isinstance(value, re.Pattern) and value.search(text):
            return rule
    return None


@dataclass(frozen=True)
class VesselMarker:
    """A free-text pattern that says an enterprise record is a vessel (``unless`` the text speaks
    of a company that owns or runs one). The first group, when there is one, is its IMO number."""

    name: str
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None
    imo_check: bool = False

    def find(self, text: str) -> re.Match[str] | None:
        found = self.pattern.search(text)
        if found is None or (self.unless is not None and self.unless.search(text)):
            return None
        if self.imo_check and not imo_check_digit(found.group(1)):
            return None
        return found


def imo_check_digit(number: str) -> bool:
    """Whether a 7-digit IMO ship number's last digit is its check digit (the first six digits
    weighted 7 to 2, summed, modulo 10)."""
    if len(number) != 7 or not number.isdigit():
        return False
    return sum(int(d) * w for d, w in zip(number[:6], range(7, 1, -1), strict=True)) % 10 == int(number[6])


@functools.cache
def vessel_markers() -> tuple[VesselMarker, ...]:
    return tuple(
        VesselMarker(row["marker"], re.compile(row["pattern"], re.IGNORECASE),
                     re.compile(row["unless"], re.IGNORECASE) if row["unless"] else None, row["imo_check"] == "yes")
        for row in read_csv("vessel_markers.csv")
    )


@functools.cache
def flag_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(row["pattern"], re.IGNORECASE) for row in read_csv("flag_patterns.csv"))


@functools.cache
def xml_fields() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Element -> (its known attributes, its known children), from ``xml_fields.yml``."""
    return {
        element: (frozenset((spec or {}).get("attributes") or {}), frozenset((spec or {}).get("children") or {}))
        for element, spec in read_yaml("xml_fields.yml").items()
    }


@functools.cache
def csv_columns() -> dict[str, tuple[str, str]]:
    """CSV 1.1 column -> (XML element, attribute) it holds, in the layout's column order."""
    return {row["column"]: (row["element"], row["attribute"]) for row in read_csv("csv_columns.csv")}
