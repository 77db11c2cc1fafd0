"""Which OFAC list a file, a row or an entry belongs to, from ``lookups/lists.yml``.

The advanced and enhanced XML name the list of every entry (:func:`list_codes`); the classic XML
and the legacy CSV do not, so the file's published name or its programme tags decide
(:func:`file_list`, :func:`row_list`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.sources.base import InputFile
from pipeline.sources.us_ofac_sdn.vocab import read_yaml


def _lists() -> dict[str, Any]:
    return read_yaml("lists.yml")


def consolidated_list() -> str:
    """The generic code of the consolidated non-SDN lists (``CONS``)."""
    return _lists()["consolidated_list"]


def list_codes(layout: str) -> dict[str, str]:
    """List names as the advanced (``advanced_xml``) or enhanced (``enhanced_xml``) XML writes
    them -> the short list code."""
    lists = _lists()
    if layout == "enhanced_xml":
        return {**lists["list_names"], **lists["enhanced_list_names"]}
    return dict(lists["list_names"])


def file_list(f: InputFile) -> str:
    """The list a classic XML or CSV file holds: by its published name, else by a programme tag
    only the non-SDN lists carry (a byte scan, no parse)."""
    lists = _lists()
    name = Path(f.name).name.lower()
    if name.startswith(tuple(lists["consolidated_name_prefixes"])):
        return lists["consolidated_list"]
    if name.startswith(tuple(lists["sdn_name_prefixes"])):
        return lists["sdn_list"]
    needles = [tag.encode() for tag in lists["non_sdn_program_lists"]]
    tail = b""
    with open(f.path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            window = tail + chunk
            if any(n in window for n in needles):
                return lists["consolidated_list"]
            tail = window[-64:]
    return lists["sdn_list"]


def row_list(file_list_code: str, programs: list[str]) -> str:
    """A consolidated file's row belongs to the non-SDN list its programme tags name, if one."""
    lists = _lists()
    if file_list_code != lists["consolidated_list"]:
        return file_list_code
    named = {lists["non_sdn_program_lists"][p] for p in programs if p in lists["non_sdn_program_lists"]}
    return named.pop() if len(named) == 1 else file_list_code
