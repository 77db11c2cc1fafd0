"""Safe, streaming access to untrusted source files.

- :func:`sniff` looks at the first bytes of a file and says what it really is (XML and its root
  element, CSV, an HTML error page, an empty or compressed file), before any parser runs.
- :func:`iter_records` streams an XML file record by record with a constant memory footprint:
  each record element is handed to the caller, then detached from the tree. DTDs, entity
  declarations and external references are refused (``defusedxml``), so entity-expansion bombs
  and XXE payloads are inert.
"""

from __future__ import annotations

import contextlib
import gc
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as DET

from pipeline.errors import SourceError

_HEAD_BYTES = 65536
_ROOT_RE = re.compile(rb"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")


@dataclass(frozen=True)
class Sniff:
    """What a file looks like from its first bytes."""

    kind: str  # xml | csv | html | empty | gzip | zip | binary | text
    root: str | None = None  # local name of the XML root element
    has_doctype: bool = False

    def describe(self) -> str:
        if self.kind == "xml":
            return f"XML with root <{self.root}>"
        return {
            "html": "an HTML page (an error or login page?), not a data file",
            "empty": "an empty file",
            "gzip": "a gzip-compressed file",
            "zip": "a zip archive",
            "binary": "binary data",
        }.get(self.kind, self.kind)


def sniff(path: Path) -> Sniff:
    """Classify a file from its first 64 KiB without parsing it."""
    with open(path, "rb") as fh:
        return sniff_head(fh.read(_HEAD_BYTES))


def sniff_head(head: bytes) -> Sniff:
    """Classify data from its first bytes (up to 64 KiB are read), e.g. a download's first chunk."""
    head = head[:_HEAD_BYTES]
    body = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not body or body == b"\x1a":
        return Sniff("empty")
    if head.startswith(b"\x1f\x8b"):
        return Sniff("gzip")
    if head.startswith(b"PK\x03\x04"):
        return Sniff("zip")
    lowered = body[:2048].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered[:512]:
        return Sniff("html")
    if body.startswith(b"<"):
        has_doctype = b"<!doctype" in head.lower() or b"<!entity" in head.lower()
        prolog_free = re.sub(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(\[.*?\])?\s*>", b"", body, flags=re.S)
        match = _ROOT_RE.search(prolog_free)
        root = match.group(2).decode("ascii", "replace") if match else None
        return Sniff("xml", root=root, has_doctype=has_doctype)
    if b"\x00" in head:
        return Sniff("binary")
    return Sniff("csv" if b"," in body[:4096] else "text")


_LOCALS: dict[str, str] = {}  # tag -> local name, for the first _LOCALS_MAX distinct tags met
_LOCALS_MAX = 4096


def local(tag: str) -> str:
    """Element name without its namespace: ``{ns}Entity`` -> ``Entity``."""
    name = _LOCALS.get(tag)
    if name is None:
        name = tag.rsplit("}", 1)[-1]
        if len(_LOCALS) < _LOCALS_MAX:  # bounded: a file with ever new names does not grow it
            _LOCALS[tag] = name
    return name


def first_child(elem: ET.Element, name: str) -> ET.Element | None:
    """The first child whose local name is ``name``: ``elem.find("{*}" + name)`` without ElementPath."""
    for child in elem:
        if local(child.tag) == name:
            return child
    return None


def children_by_name(elem: ET.Element) -> dict[str, list[ET.Element]]:
    """The children by local name, each list in document order: ``elem.findall("{*}" + name)`` for
    every name at once."""
    groups: dict[str, list[ET.Element]] = {}
    for child in elem:
        name = local(child.tag)
        group = groups.get(name)
        if group is None:
            groups[name] = [child]
        else:
            group.append(child)
    return groups


def descendants_named(elem: ET.Element, name: str) -> list[ET.Element]:
    """The descendants (not ``elem`` itself) whose local name is ``name``, in document order:
    ``elem.findall(".//{*}" + name)`` without ElementPath."""
    return [node for child in elem for node in child.iter() if local(node.tag) == name]


def text(elem: ET.Element | None) -> str | None:
    """Stripped text of an element, ``None`` when absent or blank."""
    if elem is None or elem.text is None:
        return None
    value = " ".join(elem.text.split())
    return value or None


def expect_root(path: Path, source: str, roots: tuple[str, ...], max_bytes: int,
                name: str | None = None) -> Sniff:
    """Refuse a file that is too big, not XML, or XML with an unexpected root element.
    ``name`` is the file's name outside (errors name it, not the stored copy)."""
    name = name or path.name
    size = path.stat().st_size
    if size > max_bytes:
        raise SourceError(source, name, "size cap", f"{size} bytes is over the {max_bytes}-byte cap")
    found = sniff(path)
    if found.kind != "xml":
        raise SourceError(source, name, "is XML", f"the file is {found.describe()}")
    if found.has_doctype:
        raise SourceError(
            source, name, "no DTD or entity declarations",
            "the file declares a DOCTYPE/ENTITY (hostile XML is refused)",
        )
    if found.root not in roots:
        raise SourceError(
            source, name, "expected root element",
            f"root is <{found.root}>, expected one of {', '.join('<' + r + '>' for r in roots)}",
        )
    return found


_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.S)
_PROLOG_BYTES = 1 << 20
_NAME_START = re.compile(rb"<[A-Za-z_:\x80-\xff]")


def prolog_kind(path: Path) -> str:
    """What precedes the root element: ``plain`` (an XML declaration, comments, processing
    instructions, white space), ``doctype`` (a document type declaration, where entities are
    declared) or ``unknown`` (an encoding that is not ASCII-compatible, or a prolog over 1 MiB).

    XML allows a DTD only before the root element, and without one no entity but the five
    predefined ones exists (any other reference is a well-formedness error), so a file whose
    prolog is ``plain`` cannot declare or expand an entity nor reference an external one."""
    with open(path, "rb") as fh:
        head = fh.read(_PROLOG_BYTES)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if b"\x00" in head[:4]:
        return "unknown"  # UTF-16/32: leave it to the defused parser
    pos = 0
    while (match := _PROLOG_ITEM.match(head, pos)) is not None and match.end() > pos:
        pos = match.end()
    rest = head[pos:pos + 16]
    if rest.startswith(b"<!DOCTYPE"):
        return "doctype"
    return "plain" if _NAME_START.match(rest) else "unknown"


def _events(path: Path) -> Iterator[tuple[str, ET.Element]]:
    """``start``/``end`` events of the file, DTDs refused.

    A file with a plain prolog (no DTD, see :func:`prolog_kind`) goes to the C-accelerated
    ``ElementTree.iterparse``: it cannot hold a DTD further on (expat rejects one after the root
    starts), so it has no entity to expand. Any other file goes through ``defusedxml``'s parser
    (pure Python, several times slower), which refuses the DTD as it meets it."""
    kind = prolog_kind(path)
    if kind == "doctype":
        raise defusedxml.DTDForbidden(None, None, None)
    if kind == "plain":
        return ET.iterparse(str(path), events=("start", "end"))
    return DET.iterparse(str(path), events=("start", "end"), forbid_dtd=True)


_GC_LOCK = threading.Lock()
_gc_streams = 0  # files streaming now (iter_records nests: a header pass inside a parse...)
_gc_saved: tuple[int, int, int] | None = None  # the thresholds before the first of them
_GC_FULL_EVERY = 1000  # young collections between full ones while a file streams (CPython's default: 10)


@contextlib.contextmanager
def _no_full_collections() -> Iterator[None]:
    """While a file streams, the cyclic garbage collector still collects the young generations
    (where a record's short-lived garbage dies) but runs no full collection: a full one walks every
    object of the process (the imported libraries), and the elements a streaming parse creates
    trigger one every few MB (about 15% of the UN parse's CPU). Memory stays flat: nothing
    per-record waits for a full collection. The thresholds are restored when the last stream ends."""
    global _gc_streams, _gc_saved
    with _GC_LOCK:
        if _gc_streams == 0:
            _gc_saved = gc.get_threshold()
            young, middle, old = _gc_saved
            gc.set_threshold(young, middle, max(old, _GC_FULL_EVERY))
        _gc_streams += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_streams -= 1
            if _gc_streams == 0 and _gc_saved is not None:
                young, middle, _old = _gc_saved
                if gc.get_threshold()[:2] == (young, middle):  # unless someone else changed them since
                    gc.set_threshold(*_gc_saved)
                _gc_saved = None


def iter_records(
    path: Path,
    source: str,
    record_tags: set[str],
    current_record: Callable[[], str | None] = lambda: None,
    name: str | None = None,
) -> Iterator[tuple[str, ET.Element]]:
    """Yield ``(path_of_parent_local_names, element)`` for every element whose local name is in
    ``record_tags``, once it is complete; the element is removed from the tree after the caller
    resumes, so memory stays flat however large the file is.

    Parse errors become :class:`SourceError` naming the last record the caller reported through
    ``current_record``.
    """
    with _no_full_collections():
        yield from _stream(path, source, record_tags, current_record, name)


def _stream(path: Path, source: str, record_tags: set[str], current_record: Callable[[], str | None],
            name: str | None) -> Iterator[tuple[str, ET.Element]]:
    stack: list[ET.Element] = []
    names: list[str] = []  # local names of the open elements, parallel to ``stack``
    locals_: dict[str, str] = {}  # tag -> local name (a file has few distinct tags)
    try:
        for event, elem in _events(path):
            tag = elem.tag
            name_ = locals_.get(tag)
            if name_ is None:
                name_ = locals_[tag] = tag.rsplit("}", 1)[-1]
            if event == "start":
                stack.append(elem)
                names.append(name_)
                continue
            stack.pop()
            names.pop()
            if name_ in record_tags:
                yield "/".join(names), elem
                if stack:
                    stack[-1].remove(elem)
                elem.clear()
    except (defusedxml.DTDForbidden, defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden) as exc:
        raise SourceError(
            source, name or path.name, "no DTD or entity declarations",
            f"hostile XML refused ({type(exc).__name__})", current_record(),
        ) from None
    except ET.ParseError as exc:
        after = current_record()
        raise SourceError(
            source, name or path.name, "well-formed XML",
            f"{exc} (truncated or corrupt file"
            + (f"; last complete record was {after})" if after else ")"),
        ) from None
