"""What the parser does not know in a record: elements and attributes that ``lookups/xml_schema.yml``
does not list are audited (``unknown_field`` / ``unknown_attribute``), never dropped silently."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pipeline.sources.base import ParseContext
from pipeline.sources.ch_seco.vocab import xml_schema
from pipeline.xmlsafe import text

_MAX_VALUE = 200


def clip(value: str | None) -> str | None:
    """An audited value, cut to a readable length."""
    if value is None or len(value) <= _MAX_VALUE:
        return value
    return value[: _MAX_VALUE - 1] + "…"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if tag[0] == "{" else tag


def audit_unknown(elem: ET.Element, ctx: ParseContext) -> None:
    """Walk ``elem`` and audit each element or attribute the schema does not list (the content of
    an unknown element is audited as a whole; opaque children, history copies, are not walked)."""
    schema = xml_schema()
    stack = [elem]
    while stack:
        node = stack.pop()
        name = _local(node.tag)
        rule = schema[name]
        for attr, value in node.attrib.items():
            if attr not in rule.attributes and _local(attr) not in rule.attributes:
                ctx.audit("unknown_attribute", f"{name}@{_local(attr)}", clip(value))
        for child in node:
            tag = _local(child.tag)
            if tag in rule.opaque_children:
                continue
            if tag not in rule.children or tag not in schema:
                value = text(child) or ("(has content)" if len(child) else None)
                ctx.audit("unknown_field", f"{name}/{tag}", clip(value))
            else:
                stack.append(child)
