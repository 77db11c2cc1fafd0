"""Whole names from SECO's name parts, and their spelling variants.

A ``<name>`` is a list of ``<name-part order=".." name-part-type="..">`` each with a ``<value>`` and
any number of ``<spelling-variant lang=".." script="..">``. The whole name is the values in their
``order`` (parts of a type that ``lookups/name_parts.csv`` leaves out, such as a title, are not
written). Each (language, script) of the variants gives one more name: the parts that have a
variant in it take the variant, the others keep their value (``Putin Vladimir`` with Cyrillic
variants of both parts gives ``Путин Владимир``).
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from pipeline.sources.ch_seco.vocab import name_parts
from pipeline.xmlsafe import local, text


@dataclass
class NamePart:
    order: int
    kind: str
    value: str | None
    #: (lang, script) -> variant text
    variants: dict[tuple[str, str], str] = field(default_factory=dict)


def is_latin(name: str) -> bool:
    """Whether every letter of a name is Latin (else it is an original-script name)."""
    return all(not ch.isalpha() or unicodedata.name(ch, "").startswith("LATIN") for ch in name)


def read_parts(name: ET.Element, unknown: list[str]) -> list[NamePart]:
    """The parts of a ``<name>``, in their ``order`` (document order among equal or missing orders).
    Part types the table does not know are written in the name and appended to ``unknown``."""
    parts: list[tuple[int, int, NamePart]] = []
    for position, part in enumerate(p for p in name if local(p.tag) == "name-part"):
        kind = (part.get("name-part-type") or "").strip().casefold()
        if kind not in name_parts():
            unknown.append(kind or "(none)")
        try:
            order = int(part.get("order") or "")
        except ValueError:
            order = 10**6
        value = None
        variants: dict[tuple[str, str], str] = {}
        for child in part:
            tag = local(child.tag)
            if tag == "value":
                value = value or text(child)
            elif tag == "spelling-variant" and (variant := text(child)):
                key = ((child.get("lang") or "").strip(), (child.get("script") or "").strip().upper())
                variants.setdefault(key, variant)
        parts.append((order, position, NamePart(order, kind, value, variants)))
    return [p for _o, _i, p in sorted(parts, key=lambda t: (t[0], t[1]))]


def whole_names(parts: list[NamePart]) -> list[str]:
    """The whole name first, then one name per (language, script) of the spelling variants;
    duplicates left out, an empty list when no part has a value."""
    written = [p for p in parts if name_parts().get(p.kind, True)]
    main = " ".join(p.value for p in written if p.value)
    if not main:
        return []
    out = [main]
    groups = sorted({key for p in written for key in p.variants})
    for key in groups:
        variant = " ".join(v for p in written if (v := p.variants.get(key, p.value)))
        if variant and variant not in out:
            out.append(variant)
    return out
