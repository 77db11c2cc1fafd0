"""Render sanction entities (plain mappings keyed by the XML 1.1 attribute names) as an FSF XML 1.1
file and the equivalent CSV 1.1 file. Used by :mod:`.demo` (the offline demo files) and by the
tests (varied files checked against the EU's XSD).

An entity is a mapping such as::

    {"logicalId": 135909, "euReferenceNumber": "EU.xxxx.yy", "designationDate": "2022-02-25",
     "remarks": ["..."], "additionalInformation": [{"key": "k", "value": "v"}],
     "regulation": {"programme": "UKR", "entryIntoForceDate": "2022-02-25", ...},  # or "regulations": [...]
     "subjectType": "person",                                                    # or "enterprise", or a mapping
     "nameAlias": [{"wholeName": "...", "strong": "true"}], "citizenship": [{"countryIso2Code": "RU"}],
     "birthdate": [...], "address": [...], "identification": [...]}

What the schema requires and the mapping leaves out is filled in: every element's ``logicalId``
(numbered from the entity's), a country (``00``/``UNKNOWN`` when none is given, as the EU writes
it), ``regulationLanguage`` ``en``, each detail's ``regulationSummary``
(the entity's regulation), ``countryDescription`` (the EU's upper-case English name; ``00`` is
``UNKNOWN``), ``calendarType`` ``GREGORIAN``, the identification type description. Element and
attribute order follow the XSD, so a file written from valid mappings validates against it. The
CSV has one row per combination of the entity's regulations, aliases, addresses, birth dates,
identifications and citizenships, as the EU writes it (``Entity_SubjectType`` holds ``P``/``E`` and
``Entity_SubjectType_ClassificationCode`` ``person``/``enterprise``, as in the real files).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from pipeline.sources.eu_fsf.vocab import csv_columns

NAMESPACE = "http://eu.europa.ec/fpi/fsd/export"
DETAILS = ("nameAlias", "citizenship", "birthdate", "address", "identification")
#: Keys of a detail mapping that are child elements or lists, not attributes.
_NESTED = {"remarks", "additionalInformation", "regulationSummary", "contactInfo", "corrigendum"}
#: The EU's country descriptions (upper-case English) for the codes the demo and tests use.
COUNTRY_DESCRIPTIONS = {
    "00": "UNKNOWN", "AE": "UNITED ARAB EMIRATES", "AM": "ARMENIA", "BY": "BELARUS", "CH": "SWITZERLAND",
    "CN": "CHINA", "CS": "SERBIA AND MONTENEGRO", "CY": "CYPRUS", "DE": "GERMANY", "FI": "FINLAND",
    "GB": "UNITED KINGDOM",
    "IL": "ISRAEL", "IR": "IRAN (ISLAMIC REPUBLIC OF)", "KP": "KOREA (DEMOCRATIC PEOPLE'S REPUBLIC OF)",
    "LB": "LEBANON", "LY": "LIBYA", "MD": "MOLDOVA, REPUBLIC OF", "MT": "MALTA", "PA": "PANAMA", "PT": "PORTUGAL",
    "RU": "RUSSIAN FEDERATION", "SY": "SYRIAN ARAB REPUBLIC", "TR": "TÜRKIYE", "UA": "UKRAINE",
    "UZ": "UZBEKISTAN", "VE": "VENEZUELA", "CM": "CAMEROON", "KM": "COMOROS", "SL": "SIERRA LEONE",
}
ID_DESCRIPTIONS = {
    "passport": "National passport", "id": "National identification card", "regnumber": "Registration Number",
    "fiscalcode": "Tax identification number", "swiftbic": "SWIFT BIC", "imo": "IMO number",
    "other": "Other identification number", "ssn": "Social Security Number",
}


def _attrs(values: Mapping[str, Any]) -> str:
    return "".join(f" {name}={quoteattr(str(value))}" for name, value in values.items()
                   if value is not None and name not in _NESTED)


def _country(detail: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(detail)
    if "countryIso2Code" in out or "countryDescription" in out:
        code = out.get("countryIso2Code", "")
        out.setdefault("countryIso2Code", code)
        out.setdefault("countryDescription", COUNTRY_DESCRIPTIONS.get(code, code))
    return out


class _Ids:
    """Deterministic logicalIds for the elements of one entity."""

    def __init__(self, base: int) -> None:
        self._next = base * 100

    def __call__(self, given: Any) -> Any:
        if given is not None:
            return given
        self._next += 1
        return self._next


def regulations(entity: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = entity.get("regulations") or ([entity["regulation"]] if entity.get("regulation") else [])
    return [dict(r) for r in found]


def subject(entity: Mapping[str, Any]) -> dict[str, str]:
    given = entity.get("subjectType", "person")
    if isinstance(given, Mapping):
        return dict(given)
    return {"code": given, "classificationCode": {"person": "P", "enterprise": "E"}.get(given, "E")}


def _summary(entity: Mapping[str, Any], detail: Mapping[str, Any]) -> dict[str, Any]:
    if detail.get("regulationSummary"):
        return dict(detail["regulationSummary"])
    given = (regulations(entity) or [{"entryIntoForceDate": "2000-01-01"}])[0]
    first = regulation_attrs(given)
    return {"regulationType": first["regulationType"], "publicationDate": first["publicationDate"],
            "numberTitle": first["numberTitle"], "publicationUrl": given.get("publicationUrl")}


def _detail(element: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    out = _country(detail)
    if element != "nameAlias" and "countryIso2Code" not in out:  # the schema requires a country
        out.update(countryIso2Code="00", countryDescription="UNKNOWN")
    out.setdefault("regulationLanguage", "en")
    if element == "birthdate":
        out.setdefault("calendarType", "GREGORIAN")
    if element == "identification":
        code = out.setdefault("identificationTypeCode", "other")
        out.setdefault("identificationTypeDescription", ID_DESCRIPTIONS.get(code, code))
    return out


def _remarks_and_info(item: Mapping[str, Any], pad: str, p: str) -> list[str]:
    lines = [f"{pad}<{p}remark>{escape(str(r))}</{p}remark>" for r in item.get("remarks", ())]
    lines += [f"{pad}<{p}additionalInformation{_attrs(i)}/>" for i in item.get("additionalInformation", ())]
    return lines


def regulation_attrs(regulation: Mapping[str, Any]) -> dict[str, Any]:
    """A regulation's attributes with the schema's required ones filled in."""
    entry = regulation.get("entryIntoForceDate")
    return {"regulationType": regulation.get("regulationType") or "regulation",
            "organisationType": regulation.get("organisationType") or "council",
            "publicationDate": regulation.get("publicationDate") or entry,
            "entryIntoForceDate": entry, "numberTitle": regulation.get("numberTitle") or "",
            "programme": regulation.get("programme") or "", "logicalId": regulation.get("logicalId")}


def entity_xml(entity: Mapping[str, Any], prefix: str = "") -> str:
    """One ``sanctionEntity`` element in schema order (``prefix`` is a namespace prefix, or '')."""
    p = f"{prefix}:" if prefix else ""
    ids = _Ids(int(entity["logicalId"]))
    head = {k: entity.get(k) for k in ("designationDate", "designationDetails", "unitedNationId",
                                       "euReferenceNumber", "delistingDate", "logicalId")}
    lines = [f"  <{p}sanctionEntity{_attrs(head)}>", *_remarks_and_info(entity, "    ", p)]
    for regulation in regulations(entity):
        regulation["logicalId"] = ids(regulation.get("logicalId"))
        inner = _remarks_and_info(regulation, "      ", p)
        if regulation.get("publicationUrl"):
            inner.append(f"      <{p}publicationUrl>{escape(regulation['publicationUrl'])}</{p}publicationUrl>")
        inner += [f"      <{p}corrigendum{_attrs(c)}/>" for c in regulation.get("corrigendum", ())]
        attrs = _attrs(regulation_attrs(regulation))
        lines += ([f"    <{p}regulation{attrs}>", *inner, f"    </{p}regulation>"] if inner
                  else [f"    <{p}regulation{attrs}/>"])
    lines.append(f"    <{p}subjectType{_attrs(subject(entity))}/>")
    for element in DETAILS:
        for given in entity.get(element, ()):
            detail = _detail(element, given)
            detail["logicalId"] = ids(detail.get("logicalId"))
            inner = _remarks_and_info(given, "      ", p)
            inner.append(f"      <{p}regulationSummary{_attrs(_summary(entity, given))}/>")
            inner += [f"      <{p}contactInfo{_attrs(c)}/>" for c in given.get("contactInfo", ())]
            lines += [f"    <{p}{element}{_attrs(detail)}>", *inner, f"    </{p}{element}>"]
    lines.append(f"  </{p}sanctionEntity>")
    return "\n".join(lines)


def write_xml(entities: Iterable[Mapping[str, Any]], path: Path, generated: datetime, global_file_id: int = 1,
              prefix: str = "", namespace: str | None = NAMESPACE) -> Path:
    """Write an FSF XML 1.1 file. ``prefix`` writes a prefixed namespace (``fsd:export``);
    ``namespace=None`` writes a file without one (not valid against the XSD: a reader test)."""
    p = f"{prefix}:" if prefix else ""
    xmlns = "" if namespace is None else f' xmlns{":" + prefix if prefix else ""}="{namespace}"'
    body = "\n".join(entity_xml(e, prefix) for e in entities)
    stamp = generated.isoformat(timespec="milliseconds")
    text = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<{p}export{xmlns} generationDate="{stamp}" globalFileId="{global_file_id}">\n{body}\n</{p}export>\n')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- CSV
_CSV_GROUPS = {"sanctionEntity": None, "regulation": None, **{d: d for d in DETAILS}}


def _csv_detail(entity: Mapping[str, Any], element: str, given: Mapping[str, Any], ids: _Ids) -> dict[str, str]:
    detail = _detail(element, given)
    detail["logicalId"] = ids(detail.get("logicalId"))
    if given.get("remarks"):
        detail["remark"] = "\n".join(given["remarks"])
    if given.get("contactInfo"):
        detail["contactInfo"] = "; ".join(f"{c['key']}: {c['value']}" for c in given["contactInfo"])
    for key, value in _summary(entity, given).items():
        detail[f"regulationSummary/{key}"] = value
    return {k: "" if v is None else str(v) for k, v in detail.items()}


def entity_rows(entity: Mapping[str, Any], generated: datetime) -> list[list[str]]:
    """The CSV 1.1 rows of one entity: the product of its regulations and details."""
    columns = csv_columns()
    ids = _Ids(int(entity["logicalId"]))
    regs = []
    for regulation in regulations(entity):
        regulation["logicalId"] = ids(regulation.get("logicalId"))
        values = {**regulation_attrs(regulation), "publicationUrl": regulation.get("publicationUrl")}
        regs.append({k: "" if v is None else str(v) for k, v in values.items()})
    kind = subject(entity)
    base = {("export", "generationDate"): generated.strftime("%d/%m/%Y"),
            ("subjectType", "code"): kind["classificationCode"],  # the real files swap the two columns
            ("subjectType", "classificationCode"): kind["code"],
            ("sanctionEntity", "remark"): "\n".join(entity.get("remarks", ()))}
    for attr in ("logicalId", "euReferenceNumber", "unitedNationId", "designationDate", "designationDetails"):
        if entity.get(attr) is not None:
            base["sanctionEntity", attr] = str(entity[attr])
    factors = [[("regulation", r) for r in regs] or [None]]
    for element in DETAILS:
        factors.append([(element, _csv_detail(entity, element, d, ids)) for d in entity.get(element, ())] or [None])
    rows = []
    for combination in itertools.product(*factors):
        cells = dict(base)
        for part in combination:
            if part is not None:
                element, values = part
                cells.update({(element, k): v for k, v in values.items()})
        rows.append([cells.get(target, "") for target in columns.values()])
    return rows


def write_csv(entities: Iterable[Mapping[str, Any]], path: Path, generated: datetime) -> Path:
    """Write an FSF CSV 1.1 file: BOM, ``;``, the 118-column header, one row per combination."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(list(csv_columns()))
    for entity in entities:
        writer.writerows(entity_rows(entity, generated))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    return path
