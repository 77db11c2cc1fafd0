"""Write the offline demo files of the EU FSF source from public facts.

Reads ``demo_facts.yml`` (real EU designations: Russian, Belarusian, Iranian and Syrian listings
with their regimes and listing dates, each with a ``source_note``) and writes, in the EU's
publication layouts, into ``data/demo/eu_fsf/``:

* ``fsf_1_1.xml``  FSF XML 1.1 (valid against ``fsd_export_schema_1_1.xsd``; the demo input)
* ``fsf_1_1.csv``  the same entries as FSF CSV 1.1 (one row per combination of details)

The output is byte-for-byte deterministic (no clock, no network)::

    .venv/bin/python -m pipeline.sources.eu_fsf.demo            # write into data/demo/eu_fsf
    .venv/bin/python -m pipeline.sources.eu_fsf.demo --out DIR
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from pipeline.sources.base import demo_main
from pipeline.sources.eu_fsf.writer import write_csv, write_xml

HERE = Path(__file__).resolve().parent
FACTS = HERE / "demo_facts.yml"
DEFAULT_OUT = HERE.parents[2] / "data" / "demo" / "eu_fsf"
XML_NAME = "fsf_1_1.xml"
CSV_NAME = "fsf_1_1.csv"
#: globalFileId of the demo file (an xs:long the EU increments per export; any value will do).
GLOBAL_FILE_ID = 20240628


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def entity(fact: dict[str, Any]) -> dict[str, Any]:
    """One fact entry -> the writer's entity mapping (XML 1.1 attribute names)."""
    regulation = fact["regulation"]
    when = _iso(regulation["date"])
    out: dict[str, Any] = {
        "logicalId": fact["lid"],
        "euReferenceNumber": fact.get("ref"),
        "designationDate": _iso(fact["listed"]) if fact.get("listed") else None,
        "remarks": list(fact.get("remarks", ())),
        "regulation": {"regulationType": regulation.get("type", "amendment"), "organisationType": "council",
                       "publicationDate": when, "entryIntoForceDate": when, "numberTitle": regulation["number"],
                       "programme": regulation["programme"]},
        "subjectType": fact["type"],
        "nameAlias": [{"wholeName": fact["name"], "function": fact.get("function"), "nameLanguage": "",
                       "strong": "true"}]
        + [{"wholeName": a["name"], "nameLanguage": a.get("lang", ""), "strong": "true"}
           for a in fact.get("aliases", ())],
        "citizenship": [{"countryIso2Code": code} for code in fact.get("citizenship", ())],
        "birthdate": [],
        "address": [{"city": a.get("city"), "street": a.get("street"), "countryIso2Code": a["country"]}
                    for a in fact.get("addresses", ())],
        "identification": [{"identificationTypeCode": i["code"], "identificationTypeDescription": i.get("description"),
                            "number": i["number"], "countryIso2Code": i["country"]} for i in fact.get("ids", ())],
    }
    for birth in fact.get("birth", ()):
        born = birth["date"]
        out["birthdate"].append({"birthdate": _iso(born), "dayOfMonth": born.day, "monthOfYear": born.month,
                                 "year": born.year, "city": birth.get("city"), "countryIso2Code": birth["country"]})
    return out


def load_facts(path: Path = FACTS) -> tuple[date, list[dict[str, Any]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data["snapshot"], [entity(fact) for fact in data["entries"]]


def build(out_dir: Path) -> list[Path]:
    """Write the demo files into ``out_dir`` (the source's folder under ``data/demo``)."""
    snapshot, entities = load_facts()
    generated = datetime(snapshot.year, snapshot.month, snapshot.day, 6, 0)
    return [
        write_xml(entities, out_dir / XML_NAME, generated, GLOBAL_FILE_ID),
        write_csv(entities, out_dir / CSV_NAME, generated),
    ]


def main() -> None:
    demo_main(build, DEFAULT_OUT, __doc__)


if __name__ == "__main__":
    main()
