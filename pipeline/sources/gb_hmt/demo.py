"""The UK demo files, written from the public facts in ``demo_facts.yml`` (never from a published
file), in the three layouts the source reads:

* ``UK-Sanctions-List.xml``          FCDO XML of 2024-06-28 (the demo input of the offline run)
* ``csv/UK-Sanctions-List.csv``      FCDO CSV of the same date (a ``Report Date`` line, one row per name)
* ``history/ConList.csv``            OFSI ConList CSV of 2022-03-31 (the designations of that date,
  one row per name, references in ``Other Information``): the history the FCDO records join

Byte for byte deterministic (no clock, no network). Run ``python -m pipeline.sources.gb_hmt.demo``
to rewrite ``data/demo/gb_hmt``.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import yaml

from pipeline.sources.base import demo_main
from pipeline.sources.gb_hmt import vocab

FACTS = Path(__file__).resolve().parent / "demo_facts.yml"
DEMO_DIR = Path(__file__).resolve().parents[3] / "data" / "demo" / "gb_hmt"

FCDO_CSV_HEADER = (
    "Last Updated,Unique ID,OFSI Group ID,UN Reference Number,Name 6,Name 1,Name 2,Name 3,Name 4,Name 5,Name type,"
    "Alias strength,Title,Name non-latin script,Non-latin script type,Non-latin script language,Regime Name,"
    "Designation Type,Designation source,Sanctions Imposed,Other Information,UK Statement of Reasons,Address Line 1,"
    "Address Line 2,Address Line 3,Address Line 4,Address Line 5,Address Line 6,Address Postal Code,Address Country,"
    "Phone number,Website,Email address,Date Designated,D.O.B,Nationality(/ies),National Identifier number,"
    "National Identifier additional information,Passport number,Passport additional information,Position,Gender,"
    "Town of birth,Country of birth,Type of entity,Subsidiaries,Parent company,Business registration number (s),"
    "IMO number,Current owner/operator (s),Previous owner/operator (s),Current believed flag of ship,Previous flags,"
    "Type of ship,Tonnage of ship,Length of ship,Year Built,Hull identification number (HIN)"
).split(",")
CONLIST_HEADER = (
    "Name 6,Name 1,Name 2,Name 3,Name 4,Name 5,Title,Name Non-Latin Script,Non-Latin Script Type,"
    "Non-Latin Script Language,DOB,Town of Birth,Country of Birth,Nationality,Passport Number,Passport Details,"
    "National Identification Number,National Identification Details,Position,Address 1,Address 2,Address 3,"
    "Address 4,Address 5,Address 6,Post/Zip Code,Country,Other Information,Group Type,Alias Type,Alias Quality,"
    "Regime,Listed On,UK Sanctions List Date Designated,Last Updated,Group ID"
).split(",")
# How the ConList writes the FCDO name types.
CONLIST_NAME_TYPES = {"Primary Name": "Primary name", "Primary name variation": "Primary name variation",
                      "Alias": "AKA"}
SANCTIONS = {"Individual": "Asset freeze|Travel Ban", "Entity": "Asset freeze", "Ship": "Shipping sanctions"}


def load_facts() -> dict:
    return yaml.safe_load(FACTS.read_text(encoding="utf-8"))


def regulations() -> dict[str, str]:
    """Regime label -> the regulation title the FCDO files write."""
    return {row["program"]: row["regulation"] for row in vocab.read_csv("regimes.csv")}


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _numbered(values: list[str]) -> str:
    return values[0] if len(values) == 1 else " ".join(f"({i}) {v}" for i, v in enumerate(values, 1))


def _parts(name: list[str]) -> dict[str, str]:
    """[surname or whole name, first, second, third] -> Name 6 and Name 1..3."""
    parts = {"Name 6": name[0]}
    parts.update({f"Name {i}": p for i, p in enumerate(name[1:], 1)})
    return parts


def fcdo_xml(facts: dict) -> str:
    titles = regulations()
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<Designations xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xmlns:xsd="http://www.w3.org/2001/XMLSchema">',
           f"  <DateGenerated>{_dmy(facts['fcdo_snapshot'])}</DateGenerated>"]
    for d in facts["designations"]:
        el = [f"    <LastUpdated>{_dmy(d['designated'])}</LastUpdated>",
              f"    <DateDesignated>{_dmy(d['designated'])}</DateDesignated>",
              f"    <UniqueID>{d['uid']}</UniqueID>"]
        if d.get("group"):
            el.append(f"    <OFSIGroupID>{d['group']}</OFSIGroupID>")
        if d.get("un_ref"):
            el.append(f"    <UNReferenceNumber>{d['un_ref']}</UNReferenceNumber>")
        el.append("    <Names>")
        for name, name_type in d["names"]:
            parts = _parts(name)
            inner = "".join(f"<Name{k[-1]}>{escape(v)}</Name{k[-1]}>" for k, v in sorted(parts.items()))
            el.append(f"      <Name>{inner}<NameType>{name_type}</NameType></Name>")
        el.append("    </Names>")
        el += [f"    <RegimeName>{escape(titles[d['regime']])}</RegimeName>",
               f"    <IndividualEntityShip>{d['type']}</IndividualEntityShip>",
               f"    <DesignationSource>{d['source']}</DesignationSource>",
               f"    <SanctionsImposed>{SANCTIONS[d['type']]}</SanctionsImposed>"]
        if d.get("address_country"):
            el.append("    <Addresses>" + "".join(f"<Address><AddressCountry>{escape(c)}</AddressCountry></Address>"
                                              for c in d["address_country"]) + "</Addresses>")
        if d["type"] == "Individual":
            ind = []
            if d.get("dob"):
                ind.append(f"<DOBs><DOB>{d['dob']}</DOB></DOBs>")
            if d.get("nationality"):
                ind.append("<Nationalities>" + "".join(f"<Nationality>{escape(n)}</Nationality>"
                                                       for n in d["nationality"]) + "</Nationalities>")
            if d.get("birth_country"):
                births = "".join(f"<Location><CountryOfBirth>{escape(c)}</CountryOfBirth></Location>"
                                 for c in d["birth_country"])
                ind.append(f"<BirthDetails>{births}</BirthDetails>")
            el.append(f"    <IndividualDetails><Individual>{''.join(ind)}</Individual></IndividualDetails>")
        if d.get("registration"):
            regs = "".join(f"<BusinessRegistrationNumber>{escape(r)}</BusinessRegistrationNumber>"
                           for r in d["registration"])
            el.append(f"    <EntityDetails><Entity><BusinessRegistrationNumbers>{regs}"
                      "</BusinessRegistrationNumbers></Entity></EntityDetails>")
        if d["type"] == "Ship":
            ship = [f"<IMONumbers><IMONumber>IMO{d['imo']}</IMONumber></IMONumbers>"]
            ship += [f"<CurrentOwnerOperators><CurrentOwnerOperator>{escape(o)}</CurrentOwnerOperator>"
                     "</CurrentOwnerOperators>" for o in d.get("owner", [])]
            ship += [f"<CurrentBelievedFlagOfShips><CurrentBelievedFlagOfShip>{escape(f)}</CurrentBelievedFlagOfShip>"
                     "</CurrentBelievedFlagOfShips>" for f in d.get("flag", [])]
            el.append(f"    <ShipDetails><Ship>{''.join(ship)}</Ship></ShipDetails>")
        out += ["  <Designation>", *el, "  </Designation>"]
    out.append("</Designations>")
    return "\n".join(out) + "\n"


def _csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def fcdo_csv(facts: dict) -> str:
    titles = regulations()
    rows: list[list[str]] = [[f"Report Date: {facts['fcdo_snapshot'].strftime('%d-%b-%Y')}"], FCDO_CSV_HEADER]
    for d in facts["designations"]:
        for name, name_type in d["names"]:
            cells = {
                "Last Updated": _dmy(d["designated"]), "Unique ID": d["uid"],
                "OFSI Group ID": str(d.get("group") or ""),
                "UN Reference Number": d.get("un_ref", ""), **_parts(name), "Name type": name_type,
                "Regime Name": titles[d["regime"]], "Designation Type": d["type"], "Designation source": d["source"],
                "Sanctions Imposed": SANCTIONS[d["type"]], "Address Country": _numbered(d.get("address_country", [""])),
                "Date Designated": _dmy(d["designated"]), "D.O.B": d.get("dob", ""),
                "Nationality(/ies)": _numbered(d.get("nationality", [""])),
                "Country of birth": _numbered(d.get("birth_country", [""])),
                "Business registration number (s)": _numbered(d.get("registration", [""])),
                "IMO number": f"IMO{d['imo']}" if d.get("imo") else "",
                "Current owner/operator (s)": _numbered(d.get("owner", [""])),
                "Current believed flag of ship": _numbered(d.get("flag", [""])),
            }
            rows.append([cells.get(column, "") for column in FCDO_CSV_HEADER])
    return _csv_text(rows)


def conlist_csv(facts: dict) -> str:
    """The ConList of ``conlist_snapshot``: the designations designated by then."""
    snapshot = facts["conlist_snapshot"]
    rows: list[list[str]] = [["Last Updated", _dmy(snapshot)], CONLIST_HEADER]
    for d in facts["designations"]:
        if d["designated"] > snapshot:
            continue
        info = [f"(UK Sanctions List Ref):{d['uid']}."]
        if d.get("un_ref"):
            info.append(f"(UN Ref):{d['un_ref']}.")
        if d.get("imo"):
            info.append(f"(IMO number):{d['imo']}")
        info += [f"(Current owners):{_numbered(d['owner'])}"] if d.get("owner") else []
        info += [f"(Flag of ship):{_numbered(d['flag'])}"] if d.get("flag") else []
        info += [f"(Business Reg No):{_numbered(d['registration'])}"] if d.get("registration") else []
        for name, name_type in d["names"]:
            cells = {
                **_parts(name), "DOB": d.get("dob", ""), "Country of Birth": _numbered(d.get("birth_country", [""])),
                "Nationality": _numbered(d.get("nationality", [""])),
                "Country": _numbered(d.get("address_country", [""])),
                "Other Information": " ".join(info), "Group Type": d["type"],
                "Alias Type": CONLIST_NAME_TYPES[name_type], "Regime": d.get("conlist_regime", d["regime"]),
                "Listed On": _dmy(d.get("listed", d["designated"])),
                "UK Sanctions List Date Designated": _dmy(d["designated"]),
                "Last Updated": _dmy(d["designated"]), "Group ID": str(d["group"]),
            }
            rows.append([cells.get(column, "") for column in CONLIST_HEADER])
    return _csv_text(rows)


def build(out_dir: Path) -> list[Path]:
    """Write the three demo files into ``out_dir`` and return their paths."""
    facts = load_facts()
    files = {
        out_dir / "UK-Sanctions-List.xml": fcdo_xml(facts),
        out_dir / "csv" / "UK-Sanctions-List.csv": fcdo_csv(facts),
        out_dir / "history" / "ConList.csv": conlist_csv(facts),
    }
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8"))
    return list(files)


def main() -> None:
    demo_main(build, DEMO_DIR, __doc__)


if __name__ == "__main__":
    main()
