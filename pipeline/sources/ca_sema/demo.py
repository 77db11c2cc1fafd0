"""Write the offline demo file of the Canadian list from public facts.

Reads ``demo_facts.yml`` (real listings of Canada's Consolidated Autonomous Sanctions List: Iranian
and Russian listings with their regimes, schedules, items and listing dates, and a few of other
regimes) and writes ``sema-lmes.xml`` in the list's current layout (``<data-set><record>`` with
``EntityOrShip``, ``DateOfBirthOrShipBuildDate``, ``DateOfListing``...) into
``data/demo/ca_sema/``.

The output is byte-for-byte deterministic (no clock, no network)::

    .venv/bin/python -m pipeline.sources.ca_sema.demo            # write into data/demo/ca_sema
    .venv/bin/python -m pipeline.sources.ca_sema.demo --out DIR
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

from pipeline.sources.base import demo_main

HERE = Path(__file__).resolve().parent
FACTS = HERE / "demo_facts.yml"
DEFAULT_OUT = HERE.parents[2] / "data" / "demo" / "ca_sema"
FILE_NAME = "sema-lmes.xml"

# (fact key, element) in the order the official file writes them.
_FIELDS = (
    ("regime", "Country"),
    ("last", "LastName"),
    ("given", "GivenName"),
    ("entity", "EntityOrShip"),
    ("title", "TitleOrShip"),
    ("imo", "ShipIMONumber"),
    ("aliases", "Aliases"),
    ("born", "DateOfBirthOrShipBuildDate"),
    ("schedule", "Schedule"),
    ("item", "Item"),
    ("listed", "DateOfListing"),
)


def load_facts(path: Path = FACTS) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The regime labels and the records of the facts file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data["regimes"], data["records"]


def _value(fact: dict[str, Any], key: str, regimes: dict[str, str]) -> str | None:
    value = fact.get(key)
    if value is None:
        return None
    if key == "regime":
        return regimes[value]
    return value.isoformat() if isinstance(value, date) else str(value)


def render(regimes: dict[str, str], records: list[dict[str, Any]]) -> str:
    """The XML text of the demo file."""
    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
             '<data-set xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">']
    for fact in records:
        lines.append("\t<record>")
        for key, element in _FIELDS:
            value = _value(fact, key, regimes)
            if value is not None:
                lines.append(f"\t\t<{element}>{escape(value)}</{element}>")
        lines.append("\t</record>")
    lines.append("</data-set>")
    return "\n".join(lines) + "\n"


def build(out_dir: Path) -> list[Path]:
    """Write the demo file into ``out_dir`` (the source's folder under ``data/demo``)."""
    regimes, records = load_facts()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILE_NAME
    path.write_bytes(render(regimes, records).encode("utf-8"))
    return [path]


def main() -> None:
    demo_main(build, DEFAULT_OUT, __doc__)


if __name__ == "__main__":
    main()
