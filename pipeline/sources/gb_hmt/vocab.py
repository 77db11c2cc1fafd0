"""The UK vocabularies, read once from ``lookups/`` (CSV beside the parsers).

- ``fields.csv``: every column (ConList CSV, FCDO CSV), ``Other Information`` key (ConList) and
  element (FCDO XML) the parsers know, with what it becomes: ``record`` (read by the layout module
  itself), ``name`` (read by the name reader), ``country`` (a country link of kind ``value``),
  ``id`` (an identifier of type ``value``), ``relation`` (a relation of type ``value``), ``birth_date``
  (a date of birth, ``dd/mm/yyyy`` with unknown parts ``00``: :mod:`pipeline.birth_dates`),
  ``container`` (an XML element holding others) or ``ignore`` (known, not staged). Anything else
  is audited as ``unknown_field``.
- ``regimes.csv``: the UK regimes. ``program`` is the ConList regime label (what ``programs.csv``
  and the staged ``programs`` column use), ``prefix`` the regime code of the UK Sanctions List
  reference (``RUS0251``), ``regulation`` the title the FCDO files write in ``RegimeName``.
- ``entity_types.csv``, ``name_types.csv``, ``alias_qualities.csv``: ``Group Type`` /
  ``Designation Type`` / ``IndividualEntityShip``, ``Alias Type`` / ``Name type`` and
  ``Alias Quality`` / ``Alias strength`` values, matched case- and space-insensitively.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

LOOKUPS = Path(__file__).resolve().parent / "lookups"
ACTIONS = ("record", "name", "country", "id", "relation", "birth_date", "container", "ignore")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "`": "'"})


@functools.cache
def read_csv(name: str) -> tuple[dict[str, str], ...]:
    with open(LOOKUPS / name, encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


def norm(value: str) -> str:
    """A vocabulary key: lower case, single spaces, straight apostrophes."""
    return " ".join(value.translate(_QUOTES).lower().split())


@dataclass(frozen=True)
class FieldRule:
    """What a column, key or element becomes (see the module docstring)."""

    action: str
    value: str


@functools.cache
def fields(layout: str) -> dict[str, FieldRule]:
    """The known fields of one layout (``conlist_csv``, ``conlist_info``, ``fcdo_csv``, ``fcdo_xml``,
    ``fcdo_xml_name``), by their exact name."""
    return {row["field"]: FieldRule(row["action"], row["value"]) for row in read_csv("fields.csv")
            if row["layout"] == layout}


@functools.cache
def info_keys() -> dict[str, tuple[str, FieldRule]]:
    """ConList ``Other Information`` keys by their normalised form -> (key as listed, rule)."""
    return {norm(name): (name, rule) for name, rule in fields("conlist_info").items()}


@dataclass(frozen=True)
class Regime:
    program: str
    prefix: str


@functools.cache
def regimes() -> dict[str, Regime]:
    """Regime label or regulation title (normalised) -> the regime."""
    found: dict[str, Regime] = {}
    for row in read_csv("regimes.csv"):
        regime = Regime(row["program"], row["prefix"])
        found[norm(row["program"])] = regime
        found[norm(row["regulation"])] = regime
    return found


@functools.cache
def _vocabulary(name: str, column: str) -> dict[str, str]:
    return {norm(row["value"]): row[column] for row in read_csv(name)}


def entity_type(value: str) -> str | None:
    return _vocabulary("entity_types.csv", "entity_type").get(norm(value))


def name_type(value: str) -> str | None:
    return _vocabulary("name_types.csv", "name_type").get(norm(value))


def alias_quality(value: str) -> str | None:
    return _vocabulary("alias_qualities.csv", "quality").get(norm(value).rstrip("."))
