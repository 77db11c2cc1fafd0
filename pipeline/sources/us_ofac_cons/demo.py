"""Write the offline demo file of OFAC's consolidated (non-SDN) lists from public facts.

Reads ``demo_facts.yml`` (real entries of the SSI, NS-MBS, NS-CMIC, FSE, CAPTA and NS-PLC lists,
each with the date it was put on each of its lists and a ``source_note``) and writes
``cons_advanced.xml`` in the layout of OFAC's ``CONS_ADVANCED.XML`` (the SDN advanced XML layout,
valid against OFAC's ``sdn_advanced.xsd``) into ``data/demo/us_ofac_cons/``. As in OFAC's file,
every party has one ``SanctionsEntry`` per list it is on, the SDN list included for a party also
designated there, plus one on the umbrella "Consolidated List".

The writer and OFAC's reference values are those of the SDN demo (``us_ofac_sdn/demo.py`` and
``demo_vocab.yml``); ``demo_vocab.yml`` here adds the lists, sanctions types and values of the
consolidated lists. An entry marked ``details_from: us_ofac_sdn`` takes its published details
(names, addresses, identifiers, features) from the SDN demo facts, so the two files agree.

The output is byte-for-byte deterministic (no clock, no network)::

    .venv/bin/python -m pipeline.sources.us_ofac_cons.demo            # write into data/demo/us_ofac_cons
    .venv/bin/python -m pipeline.sources.us_ofac_cons.demo --out DIR
"""

from __future__ import annotations

from pathlib import Path

import yaml

from pipeline.sources.base import demo_main
from pipeline.sources.us_ofac_sdn import demo as sdn_demo

HERE = Path(__file__).resolve().parent
FACTS = HERE / "demo_facts.yml"
VOCAB = HERE / "demo_vocab.yml"
DEFAULT_OUT = HERE.parents[2] / "data" / "demo" / "us_ofac_cons"
FILE_NAME = "cons_advanced.xml"
# What an entry taken from the SDN demo facts keeps of them: its published details, not its SDN
# listing (``listed``) nor the note on it.
SDN_DETAILS = ("type", "name", "last", "first", "title", "programs", "aliases", "addresses", "features", "ids",
               "dob", "pob", "nationality", "citizenship")


def resolve(entries: list[dict]) -> list[dict]:
    """Entries with ``details_from: us_ofac_sdn`` completed from the SDN demo facts."""
    sdn = {e["uid"]: e for e in yaml.safe_load(sdn_demo.FACTS.read_text(encoding="utf-8"))["entries"]}
    out = []
    for entry in entries:
        source = entry.get("details_from")
        if source is None:
            out.append(entry)
            continue
        if source != "us_ofac_sdn" or entry["uid"] not in sdn:
            raise SystemExit(f"{FACTS.name}: uid {entry['uid']}: no entry {entry['uid']} in the {source} demo facts")
        base = {key: sdn[entry["uid"]][key] for key in SDN_DETAILS if key in sdn[entry["uid"]]}
        out.append({**base, **{k: v for k, v in entry.items() if k != "details_from"}})
    return out


def render() -> bytes:
    """The bytes of ``cons_advanced.xml``."""
    vocab = sdn_demo.load_vocab(sdn_demo.VOCAB, VOCAB)
    facts = yaml.safe_load(FACTS.read_text(encoding="utf-8"))
    snapshot, entries = sdn_demo.check_entries({**facts, "entries": resolve(facts["entries"])}, vocab, FACTS)
    return sdn_demo.build_advanced(entries, sdn_demo.make_plan(entries), vocab, snapshot)


def build(out_dir: Path) -> list[Path]:
    """Write the demo file into ``out_dir`` (the source's folder under ``data/demo``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILE_NAME
    path.write_bytes(render())
    return [path]


def main() -> None:
    demo_main(build, DEFAULT_OUT, __doc__)


if __name__ == "__main__":
    main()
