"""Write the offline demo file of the UN Security Council Consolidated List from public facts.

Reads ``demo_facts.yml`` (real Consolidated List entries: reference numbers, listing dates,
names, nationalities, addresses, dates and places of birth, documents; the ``comments`` are short
summaries written by the project) and writes ``consolidated.xml`` in the list's XML layout
(``CONSOLIDATED_LIST`` with ``INDIVIDUALS`` and ``ENTITIES``, empty elements as ``<TAG/>``) into
``data/demo/un_sc/``.

The output is byte-for-byte deterministic (no clock, no network)::

    .venv/bin/python -m pipeline.sources.un_sc.demo            # write into data/demo/un_sc
    .venv/bin/python -m pipeline.sources.un_sc.demo --out DIR
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from pipeline.sources.base import demo_main
from pipeline.xmlwrite import Xml

HERE = Path(__file__).resolve().parent
FACTS = HERE / "demo_facts.yml"
DEFAULT_OUT = HERE.parents[2] / "data" / "demo" / "un_sc"
FILE_NAME = "consolidated.xml"

NAME_TAGS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
ADDRESS_KEYS = ("street", "city", "state_province", "zip_code", "country", "note")
BIRTH_DATE_KEYS = ("type_of_date", "date", "year", "from_year", "to_year", "note")
BIRTH_PLACE_KEYS = ("city", "state_province", "country", "note")
DOCUMENT_KEYS = ("type_of_document", "type_of_document2", "number", "issuing_country", "date_of_issue",
                 "city_of_issue", "country_of_issue", "note")


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def load_facts(path: Path = FACTS) -> tuple[dt.date, list[dict[str, Any]]]:
    """The snapshot date and the entries, checked: nothing listed after the snapshot."""
    facts = yaml.safe_load(path.read_text(encoding="utf-8"))
    snapshot = _as_date(facts["snapshot"])
    for rec in facts["entries"]:
        if _as_date(rec["listed_on"]) > snapshot:
            raise SystemExit(f"{path.name}: {rec['reference_number']} listed after the snapshot date")
    return snapshot, facts["entries"]


def _parts(x: Xml, tag: str, record: dict, keys: tuple[str, ...]) -> None:
    """An address or place of birth: its known parts, or an empty COUNTRY when it has none."""
    x.open(tag)
    present = [k for k in keys if record.get(k)]
    for key in present:
        x.leaf(key.upper(), record[key])
    if not present:
        x.leaf("COUNTRY")
    x.close(tag)


def _record(x: Xml, rec: dict, kind: str) -> None:
    tag = kind.upper()
    x.open(tag)
    x.leaf("DATAID", rec["dataid"])
    x.leaf("VERSIONNUM", rec["versionnum"])
    for name_tag, value in zip(NAME_TAGS, rec["names"], strict=False):
        x.leaf(name_tag, value)
    x.leaf("UN_LIST_TYPE", rec["un_list_type"])
    x.leaf("REFERENCE_NUMBER", rec["reference_number"])
    x.leaf("LISTED_ON", str(rec["listed_on"]))
    if rec.get("gender"):
        x.leaf("GENDER", rec["gender"])
    x.leaf("COMMENTS1", rec.get("comments"))
    for multi in ("title", "designation", "nationality"):
        if kind == "individual" and rec.get(multi):
            x.open(multi.upper())
            for value in rec[multi]:
                x.leaf("VALUE", value)
            x.close(multi.upper())
    x.open("LIST_TYPE")
    x.leaf("VALUE", "UN List")
    x.close("LIST_TYPE")
    if rec.get("last_day_updated"):
        x.open("LAST_DAY_UPDATED")
        for value in rec["last_day_updated"]:
            x.leaf("VALUE", str(value))
        x.close("LAST_DAY_UPDATED")
    else:
        x.leaf("LAST_DAY_UPDATED")
    for alias in rec.get("aliases") or [{}]:
        x.open(f"{tag}_ALIAS")
        x.leaf("QUALITY", alias.get("quality"))
        x.leaf("ALIAS_NAME", alias.get("name"))
        x.close(f"{tag}_ALIAS")
    for addr in rec.get("addresses") or [{}]:
        _parts(x, f"{tag}_ADDRESS", addr, ADDRESS_KEYS)
    if kind == "individual":
        for dob in rec.get("dob") or []:
            x.open("INDIVIDUAL_DATE_OF_BIRTH")
            for key in BIRTH_DATE_KEYS:
                if dob.get(key):
                    x.leaf(key.upper(), dob[key])
            x.close("INDIVIDUAL_DATE_OF_BIRTH")
        if not rec.get("dob"):
            x.leaf("INDIVIDUAL_DATE_OF_BIRTH")
        for pob in rec.get("pob") or [{}]:
            _parts(x, "INDIVIDUAL_PLACE_OF_BIRTH", pob, BIRTH_PLACE_KEYS)
        docs = rec.get("documents") or []
        for doc in docs:
            x.open("INDIVIDUAL_DOCUMENT")
            for key in DOCUMENT_KEYS:
                if doc.get(key):
                    x.leaf(key.upper(), doc[key])
            x.close("INDIVIDUAL_DOCUMENT")
        if not docs:
            x.leaf("INDIVIDUAL_DOCUMENT")
    x.leaf("SORT_KEY")
    x.leaf("SORT_KEY_LAST_MOD")
    x.close(tag)


def render(snapshot: dt.date, records: list[dict[str, Any]]) -> bytes:
    """The XML bytes of the demo file: individuals then entities, each by reference number."""
    x = Xml()
    x.raw('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
    x.raw(
        '<CONSOLIDATED_LIST xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="https://www.un.org/sc/resources/sc-sanctions.xsd" '
        f'dateGenerated="{snapshot.isoformat()}T00:00:00.000Z">'
    )
    x.depth = 1
    for kind, group in (("individual", "INDIVIDUALS"), ("entity", "ENTITIES")):
        x.open(group)
        for rec in sorted((r for r in records if r["kind"] == kind), key=lambda r: r["reference_number"]):
            _record(x, rec, kind)
        x.close(group)
    x.raw("</CONSOLIDATED_LIST>")
    # the UN file writes empty elements as <TAG/>
    return x.text().replace(" />", "/>").encode("utf-8")


def build(out_dir: Path) -> list[Path]:
    """Write the demo file into ``out_dir`` (the source's folder under ``data/demo``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILE_NAME
    path.write_bytes(render(*load_facts()))
    return [path]


def main() -> None:
    demo_main(build, DEFAULT_OUT, __doc__)


if __name__ == "__main__":
    main()
