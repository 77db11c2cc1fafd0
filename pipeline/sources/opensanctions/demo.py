"""Write the offline demo file of the OpenSanctions source from public facts.

Reads ``demo_facts.yml`` (real designations by the US, EU, UK, UN and Canada, with the
OpenSanctions programme key of each) and writes ``data/demo/opensanctions/entities.ftm.json`` in
the FollowTheMoney JSON-lines layout of an OpenSanctions export: one target entity per designated
person, company or vessel (``"target": true``), one Sanction entity per listing (``entity`` -> the
target, ``programId``, ``listingDate``, ``country`` = the sanctioning country), Address entities,
and Family and Ownership relations; lines sorted by id, as OpenSanctions sorts its exports. The
entity ids (``os-demo-...``) are the project's: this is not a copy of OpenSanctions data.

The source is off by default (the data is CC BY-NC 4.0): the file serves the tests and users who
opt in. Deterministic (no clock, no network)::

    .venv/bin/python -m pipeline.sources.opensanctions.demo            # into data/demo/opensanctions
    .venv/bin/python -m pipeline.sources.opensanctions.demo --out DIR
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from pipeline.sources.base import demo_main

HERE = Path(__file__).resolve().parent
FACTS = HERE / "demo_facts.yml"
DEFAULT_OUT = HERE.parents[2] / "data" / "demo" / "opensanctions"
FILE_NAME = "entities.ftm.json"
PREFIX = "os-demo-"


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _entity(ident: str, schema: str, caption: str, properties: dict[str, list[str]], datasets: list[str],
            seen: str, target: bool) -> dict[str, Any]:
    return {"id": ident, "caption": caption, "schema": schema,
            "properties": {k: v for k, v in properties.items() if v},
            "referents": [], "datasets": sorted(set(datasets)), "first_seen": seen, "last_seen": seen,
            "last_change": seen, "target": target}


def entities(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """Every entity of the demo export, sorted by id."""
    seen = str(facts["snapshot"])
    lists = facts["lists"]
    out: dict[str, dict[str, Any]] = {}
    used_addresses: dict[str, set[str]] = {}
    for fact in facts["targets"]:
        ident = PREFIX + fact["id"]
        datasets = [lists[item["list"]]["dataset"] for item in fact["listings"]]
        props: dict[str, list[str]] = {
            "name": [fact["name"]],
            "alias": list(fact.get("aliases", ())),
            "previousName": list(fact.get("previous_names", ())),
            "nationality": list(fact.get("nationality", ())),
            "country": list(fact.get("country", ())),
            "birthCountry": list(fact.get("birth_country", ())),
            "flag": list(fact.get("flag", ())),
            "imoNumber": [fact["imo"]] if fact.get("imo") else [],
            "topics": ["sanction"],
        }
        if fact.get("address"):
            address_id = f"{PREFIX}addr-{fact['address'].replace('_', '-')}"
            props["addressEntity"] = [address_id]
            used_addresses.setdefault(fact["address"], set()).update(datasets)
        out[ident] = _entity(ident, fact["schema"], fact["name"], props, datasets, seen, True)
        for item in fact["listings"]:
            authority = lists[item["list"]]
            sanction_id = f"{ident}-sanction-{item['list']}"
            sanction = {
                "entity": [ident],
                "authority": [authority["authority"]],
                "country": [authority["country"]],
                "programId": [item["program"]],
                "program": [item["regime"]] if item.get("regime") else [],
                "listingDate": [_iso(item["listed"])],
                "unscId": [item["unsc"]] if item.get("unsc") else [],
                "summary": [item["source_note"]],
            }
            out[sanction_id] = _entity(sanction_id, "Sanction", item["program"], sanction, [authority["dataset"]],
                                       seen, False)
        for owner in fact.get("owners", ()):
            link_id = f"{ident}-owned-by-{owner}"
            out[link_id] = _entity(link_id, "Ownership", "Ownership",
                                   {"asset": [ident], "owner": [PREFIX + owner], "role": ["shareholder"]},
                                   datasets, seen, False)
        for relative in fact.get("relatives", ()):
            link_id = f"{PREFIX}{relative['id']}-family-{fact['id']}"
            out[link_id] = _entity(link_id, "Family", "Family",
                                   {"person": [PREFIX + relative["id"]], "relative": [ident],
                                    "relationship": [relative["relationship"]]}, datasets, seen, False)
    for key, datasets in used_addresses.items():
        address = facts["addresses"][key]
        ident = f"{PREFIX}addr-{key.replace('_', '-')}"
        out[ident] = _entity(ident, "Address", address["full"],
                             {"full": [address["full"]], "city": [address["city"]], "country": [address["country"]]},
                             sorted(datasets), seen, False)
    return [out[k] for k in sorted(out)]


def build(out_dir: Path = DEFAULT_OUT) -> list[Path]:
    """Write the demo export into ``out_dir``; returns the files written."""
    facts = yaml.safe_load(FACTS.read_text(encoding="utf-8"))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILE_NAME
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for entity in entities(facts):
            fh.write(json.dumps(entity, ensure_ascii=False, sort_keys=False) + "\n")
    return [path]


def main() -> None:
    demo_main(build, DEFAULT_OUT, __doc__)


if __name__ == "__main__":
    main()
