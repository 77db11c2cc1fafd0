"""Write the offline demo file of the Swiss list from public facts.

Reads ``demo_facts.yml`` (real listings of Switzerland's sanctions list: Russian listings under the
Ukraine ordinance since 2014 and 2022, Iranian listings since 2006, four Iranian targets de-listed
in 2016, Syrian listings and a DPRK vessel) and writes ``consolidated-list.xml`` in the layout of
SECO's complete list (``swiss-sanctions-list list-type="whole-list"``: the programmes with their
sanctions sets, the targets with their modification history, the places they refer to) into
``data/demo/ch_seco/``.

The output is byte-for-byte deterministic (no clock, no network)::

    .venv/bin/python -m pipeline.sources.ch_seco.demo            # write into data/demo/ch_seco
    .venv/bin/python -m pipeline.sources.ch_seco.demo --out DIR
"""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import yaml

from pipeline.sources.base import demo_main

HERE = Path(__file__).resolve().parent
FACTS = HERE / "demo_facts.yml"
DEFAULT_OUT = HERE.parents[2] / "data" / "demo" / "ch_seco"
FILE_NAME = "consolidated-list.xml"
LANGS = ("eng", "ger", "fre", "ita")
#: fact key of a name part -> SECO's name-part-type
PART_TYPES = {"title": "title", "family": "family-name", "given": "given-name", "father": "father-name",
              "whole": "whole-name"}
#: The first ssid given to the elements inside targets (identities, names, dates...).
FIRST_INNER_SSID = 80001


def load_facts(path: Path = FACTS) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _attrs(**values: Any) -> str:
    return "".join(f" {k.replace('_', '-')}={quoteattr(str(v))}" for k, v in values.items() if v is not None)


class _Writer:
    def __init__(self, facts: dict[str, Any]) -> None:
        self.facts = facts
        self.lines: list[str] = []
        self.ssids = itertools.count(FIRST_INNER_SSID)

    def put(self, depth: int, line: str) -> None:
        self.lines.append("  " * depth + line)

    def program(self, code: str, program: dict[str, Any], version: date) -> None:
        for sanctions_set in program["sets"]:
            self.put(1, f"<sanctions-program{_attrs(ssid=program['ssid'], version_date=version.isoformat())}>")
            for lang in LANGS:
                self.put(2, f"<program-key lang=\"{lang}\">{escape(program['key'][lang])}</program-key>")
            for lang in LANGS:
                self.put(2, f"<program-name lang=\"{lang}\">{escape(program['name'][lang])}</program-name>")
            for lang in LANGS:
                self.put(2, f"<sanctions-set{_attrs(ssid=sanctions_set['ssid'], lang=lang)}>"
                            f"{escape(sanctions_set['label'][lang])}</sanctions-set>")
            self.put(2, f"<origin>{escape(program['origin'])}</origin>")
            self.put(1, "</sanctions-program>")

    def name(self, depth: int, name_type: str, parts: dict[str, str], script: dict[str, str] | None = None) -> None:
        self.put(depth, f"<name{_attrs(ssid=next(self.ssids), name_type=name_type, quality='good', lang='eng')}>")
        for order, (key, value) in enumerate(parts.items(), start=1):
            variant = (script or {}).get(key)
            spelling = (f"<spelling-variant lang=\"rus\" script=\"CYRL\">{escape(variant)}</spelling-variant>"
                        if variant else "")
            self.put(depth + 1, f"<name-part{_attrs(order=order, name_part_type=PART_TYPES[key])}>"
                                f"<value>{escape(value)}</value>{spelling}</name-part>")
        self.put(depth, "</name>")

    def target(self, fact: dict[str, Any]) -> None:
        countries = self.facts["countries"]
        kind = fact["kind"]
        self.put(1, f"<target{_attrs(ssid=fact['ssid'])}>")
        self.put(2, f"<sanctions-set-id>{fact['set']}</sanctions-set-id>")
        self.put(2, f"<{kind}{_attrs(sex=fact.get('sex'), object_type=fact.get('object_type'))}>")
        self.put(3, f"<identity{_attrs(ssid=next(self.ssids), main='true')}>")
        parts = fact.get("name") or {"whole": fact["whole"]}
        self.name(4, "primary-name", parts, fact.get("script"))
        for alias in [*fact.get("aliases", []), *fact.get("script_aliases", [])]:
            self.name(4, "alias", {"whole": alias})
        born = fact.get("born")
        if born is not None:
            when = _attrs(ssid=next(self.ssids), day=born.day, month=born.month, year=born.year)
            self.put(4, f"<day-month-year{when} calendar=\"Gregorian\" quality=\"good\"/>")
        for code in fact.get("nationality", []):
            self.put(4, f"<nationality{_attrs(ssid=next(self.ssids))}><country iso-code=\"{code}\">"
                        f"{escape(countries[code])}</country></nationality>")
        for place in fact.get("address", []):
            self.put(4, f"<address{_attrs(ssid=next(self.ssids), place_id=place, quality='good')}/>")
        if fact.get("birth_place"):
            birth = _attrs(ssid=next(self.ssids), place_id=fact["birth_place"], quality="good")
            self.put(4, f"<place-of-birth{birth}/>")
        self.put(3, "</identity>")
        if fact.get("justification"):
            ssid = _attrs(ssid=next(self.ssids))
            self.put(3, f"<justification{ssid}>{escape(fact['justification'])}</justification>")
        for relation in fact.get("relations", []):
            attrs = _attrs(ssid=next(self.ssids), target_id=relation["target"], relation_type=relation["type"])
            self.put(3, f"<relation{attrs}/>")
        for info in fact.get("info", []):
            self.put(3, f"<other-information{_attrs(ssid=next(self.ssids))}>{escape(info)}</other-information>")
        self.put(2, f"</{kind}>")
        # newest first, as public copies of the complete list write the history
        for kind, key in (("de-listed", "delisted"), ("listed", "listed")):
            if fact.get(key):
                self.put(2, f"<modification{_attrs(modification_type=kind, effective_date=fact[key].isoformat())}/>")
        self.put(1, "</target>")

    def place(self, place: dict[str, Any]) -> None:
        code = place["country"]
        self.put(1, f"<place{_attrs(ssid=place['ssid'])}><location>{escape(place['location'])}</location>"
                    f"<country iso-code=\"{code}\">{escape(self.facts['countries'][code])}</country></place>")


def render(facts: dict[str, Any]) -> str:
    """The XML text of the demo file."""
    writer = _Writer(facts)
    writer.lines.append('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
    writer.lines.append(f'<swiss-sanctions-list list-type="whole-list" date="{facts["snapshot"].isoformat()}">')
    set_program = {s["ssid"]: code for code, p in facts["programs"].items() for s in p["sets"]}
    for code, program in facts["programs"].items():
        dates = [d for t in facts["targets"] if set_program[t["set"]] == code
                 for d in (t["listed"], t.get("delisted")) if d is not None]
        writer.program(code, program, max(dates))
    for fact in facts["targets"]:
        writer.target(fact)
    for place in facts["places"]:
        writer.place(place)
    writer.lines.append("</swiss-sanctions-list>")
    return "\n".join(writer.lines) + "\n"


def build(out_dir: Path) -> list[Path]:
    """Write the demo file into ``out_dir`` (the source's folder under ``data/demo``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILE_NAME
    path.write_bytes(render(load_facts()).encode("utf-8"))
    return [path]


def main() -> None:
    demo_main(build, DEFAULT_OUT, __doc__)


if __name__ == "__main__":
    main()
