#!/usr/bin/env python
"""Write k-times corpora of the demo files, laid out like ``data/demo``, for benchmarks.

``var/bench/corpus-<k>x/<source>/...`` holds every default source's demo inputs (the paths of its
``source.yml`` ``demo_inputs``, in the official layouts) with the records repeated ``k`` times, so

    .venv/bin/pipeline run --input var/bench/corpus-10x --accept-small-lists

runs it (``--accept-small-lists``: a synthetic corpus is smaller than the production floors).
Copy 0 is the demo itself; in copy k >= 1:

- every record-level id and every reference to one gets ``k * offset`` added (offset: a power of
  ten above every id of the template, shared by files that refer to each other's ids): OFAC
  ``ID``/``FixedRef``/``ProfileID``/... of the SDN and consolidated advanced files, UN ``DATAID``,
  EU ``logicalId``, UK ``UniqueID``/``OFSIGroupID``, Canada ``Item``, SECO ``ssid``/``target-id``,
  GDELT ``GLOBALEVENTID``, UNGA ``rcid`` (roll calls, votes and issues);
- UN reference numbers (``KPi.033``), wherever a list writes them, become ``KPi.<33 + 1000 k>``, the
  same in every source, so a UN designation and the UK/EU/SECO record of the same target still
  meet within a copy; IMO ship numbers become other valid IMO numbers (check digit kept), also the
  same in every source; other document numbers and EU reference numbers get ``K<k>`` appended;
- every word of three letters or more of a name (not legal forms such as ``LLC``) gets a suffix of
  letters that depends on k only (seeded), so copies of one name do not share name tokens: the
  matcher's name blocks stay the size of the demo's instead of growing k times (which would make
  matching quadratic, or merge the copies into one target); the same person in two lists of one
  copy keeps agreeing names;
- GDELT source URLs and article URLs get ``?copy=k`` (the articles' files are written once per copy,
  the JSON-lines file once with every copy's lines).

Deterministic: the same seed and k write the same bytes (``corpus.json`` beside the sources lists
each file's size and sha256; a corpus whose manifest matches is not written again). Streaming: one
copy of one template is in memory at a time.

    .venv/bin/python bench/make_corpus.py                 # 10x and 100x into var/bench
    .venv/bin/python bench/make_corpus.py --copies 10 --verify   # parse it and check the row counts
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import random
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
OUT = ROOT / "var" / "bench"
SEED = 17
VERSION = 2  # bump when the generator's output changes (a manifest of another version is rewritten)

# --- value transforms (functions of the value and the copy only, so every source agrees) --------

_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"


def _suffixes(seed: int) -> list[str]:
    """Two-syllable suffixes (consonant + vowel + consonant + vowel + consonant) in a seeded order,
    no two with the same consonants: the matcher reads words that differ only in their vowels as
    spellings of one name (Mousa / Musa), so copies must differ in a consonant to stay distinct."""
    combos = [a + v + b + w + c for a in _CONSONANTS for v in _VOWELS for b in _CONSONANTS for w in _VOWELS
              for c in _CONSONANTS[:3]]
    random.Random(seed).shuffle(combos)
    seen: set[str] = set()
    distinct = []
    for combo in combos:
        skeleton = combo[0] + combo[2] + combo[4]
        if skeleton not in seen:
            seen.add(skeleton)
            distinct.append(combo)
    return distinct


_SUFFIXES = _suffixes(SEED)
# Words left alone: legal forms and particles (the matcher strips or skips them; a suffix would
# turn them into name tokens).
_KEEP_WORDS = frozenset("""
llc ltd limited jsc pjsc ojsc cjsc ooo oao zao pao nao gmbh plc llp inc corp corporation company
fze fzco fzc fzllc and the for bin ibn bint abu abd abdul abdel von van der des del los las
joint stock public open closed
""".split())
_WORD = re.compile(r"[^\W\d_]{3,}")


def vary_name(text: str, k: int) -> str:
    """Every word of ``text`` (three letters or more, not a legal form) with copy k's suffix."""
    if k == 0:
        return text
    suffix = _SUFFIXES[k % len(_SUFFIXES)]

    def one(m: re.Match) -> str:
        word = m.group(0)
        if word.lower() in _KEEP_WORDS:
            return word
        return word + (suffix.upper() if word.isupper() else suffix)
    return _WORD.sub(one, text)


_UN_REF = re.compile(r"\b([A-Z]{2}[ie])\.(\d{3,})\b")


def vary_un_refs(text: str, k: int) -> str:
    return _UN_REF.sub(lambda m: f"{m.group(1)}.{int(m.group(2)) + 1000 * k:03d}", text) if k else text


def imo_check(six: str) -> int:
    return sum(int(d) * w for d, w in zip(six, range(7, 1, -1), strict=True)) % 10


def valid_imo(value: str) -> bool:
    return bool(re.fullmatch(r"\d{7}", value)) and imo_check(value[:6]) == int(value[6])


def vary_imo(value: str, k: int) -> str:
    """Another valid 7-digit IMO number, a function of the number and k."""
    if k == 0:
        return value
    six = f"{(int(value[:6]) - 100_000 + 7919 * k) % 900_000 + 100_000:06d}"
    return f"{six}{imo_check(six)}"


def vary_doc(value: str, k: int) -> str:
    """A document or registration number of copy k (an IMO number stays a valid IMO number; a UN
    reference is left to :func:`vary_un_refs`)."""
    if k == 0:
        return value
    bare = value.strip()
    digits = re.sub(r"^IMO\s*", "", bare)
    if valid_imo(digits):
        return value.replace(digits, vary_imo(digits, k))
    if _UN_REF.fullmatch(bare) or not bare:
        return value
    return f"{value}K{k}"


# --- XML layouts --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Xml:
    """One XML file: which parts repeat and which values change per copy.

    ``sections``: elements whose bodies repeat (OFAC, UN); ``records``: an element whose run (from
    the first to the last of them) repeats (the others). ``ids``: patterns ``(before)(digits)(after)``
    whose number gets ``k * offset``; ``names`` / ``docs``: patterns ``(before)(text)(after)``."""

    rel: str
    family: str
    ids: tuple[str, ...]
    names: tuple[str, ...] = ()
    docs: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    records: str = ""
    escape_names: bool = False  # names in attributes (a suffix holds letters only: no escaping needed)
    compiled: dict = field(default_factory=dict, compare=False, hash=False)

    def patterns(self, kind: str) -> list[re.Pattern]:
        if kind not in self.compiled:
            self.compiled[kind] = [re.compile(p, re.S) for p in getattr(self, kind)]
        return self.compiled[kind]


def _elements(*tags: str) -> str:
    return r"(<(?:" + "|".join(tags) + r")>)([^<]+)(</)"


def _attrs(*names: str) -> str:
    return r'(\s(?:' + "|".join(names) + r')=")([^"]+)(")'


OFAC_IDS = (r'(\s(?:ID|FixedRef|ProfileID|From-ProfileID|To-ProfileID|SanctionsEntryID|IdentityID|LocationID'
            r'|FeatureVersionID|DocumentedNameID|NamePartGroupID)=")(\d+)(")',)
OFAC = dict(family="ofac", ids=OFAC_IDS, names=(r"(<NamePartValue\b[^>]*>)([^<]+)(<)",),
            docs=(r"(<IDRegistrationNo\b[^>]*>)([^<]+)(<)",),
            sections=("Locations", "IDRegDocuments", "DistinctParties", "ProfileRelationships", "SanctionsEntries"))

XML_FILES: dict[str, Xml] = {
    "us_ofac_sdn": Xml("us_ofac_sdn/sdn_advanced.xml", **OFAC),
    "us_ofac_cons": Xml("us_ofac_cons/cons_advanced.xml", **OFAC),
    "un_sc": Xml("un_sc/consolidated.xml", "un", ids=(r"(<DATAID>)(\d+)(</DATAID>)",),
                 names=(_elements("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME", "ALIAS_NAME",
                                  "NAME_ORIGINAL_SCRIPT"),),
                 docs=(_elements("NUMBER"),), sections=("INDIVIDUALS", "ENTITIES")),
    "eu_fsf": Xml("eu_fsf/fsf_1_1.xml", "eu", ids=(r'(\slogicalId=")(\d+)(")',),
                  names=(_attrs("wholeName", "firstName", "middleName", "lastName"),),
                  docs=(_attrs("number", "euReferenceNumber"),), records="sanctionEntity"),
    "gb_hmt": Xml("gb_hmt/UK-Sanctions-List.xml", "gb",
                  ids=(r"(<UniqueID>[A-Za-z]*)(\d+)(</UniqueID>)", r"(<OFSIGroupID>)(\d+)(</OFSIGroupID>)"),
                  names=(_elements(*(f"Name{i}" for i in range(1, 7))),),
                  docs=(_elements("IMONumber", "BusinessRegistrationNumber", "PassportNumber",
                                  "NationalIdentifierNumber"),), records="Designation"),
    "ca_sema": Xml("ca_sema/sema-lmes.xml", "ca", ids=(r"(<Item>)(\d+)(</Item>)",),
                   names=(_elements("EntityOrShip", "LastName", "GivenName", "Aliases"),), records="record"),
    "ch_seco": Xml("ch_seco/consolidated-list.xml", "ch", ids=(r'(\s(?:ssid|target-id)=")(\d+)(")',),
                   names=(r"(<value>)([^<]+)(</value>)", r"(<spelling-variant\b[^>]*>)([^<]+)(<)"),
                   docs=(r"(<other-information\b[^>]*>IMO Number: )(\d{7})(<)",
                         r"(<identification\b[^>]*>\s*<number>)([^<]+)(<)"),
                   records="target"),
}


def split_template(text: str, spec: Xml) -> list[tuple[str, bool]]:
    """The template as pieces ``(text, repeats)``."""
    if spec.sections:
        pieces: list[tuple[str, bool]] = []
        pos = 0
        for name in spec.sections:
            m = re.compile(rf"<{name}>(.*?)</{name}>", re.S).search(text, pos)
            if m is None:
                raise ValueError(f"{spec.rel}: no <{name}>...</{name}> section")
            pieces += [(text[pos:m.start(1)], False), (m.group(1), True)]
            pos = m.end(1)
        return pieces + [(text[pos:], False)]
    first = re.search(rf"<{spec.records}[\s>]", text)
    last = text.rfind(f"</{spec.records}>")
    if first is None or last < 0:
        raise ValueError(f"{spec.rel}: no <{spec.records}> records")
    end = last + len(f"</{spec.records}>")
    body = text[first.start():end]
    rest = re.sub(rf"<{spec.records}[\s>].*?</{spec.records}>", "", body, flags=re.S)
    if rest.strip():
        raise ValueError(f"{spec.rel}: something between the <{spec.records}> records: {rest.strip()[:80]!r}")
    return [(text[:first.start()], False), (body, True), (text[end:], False)]


def _offset(numbers: list[int]) -> int:
    return 10 ** len(str(max(numbers)))


def xml_copier(spec: Xml, text: str, offset: int) -> Callable[[str, int], str]:
    def copy(body: str, k: int) -> str:
        if k == 0:
            return body
        for p in spec.patterns("ids"):
            body = p.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + k * offset}{m.group(3)}", body)
        for p in spec.patterns("names"):
            body = p.sub(lambda m: m.group(1) + vary_name(m.group(2), k) + m.group(3), body)
        for p in spec.patterns("docs"):
            body = p.sub(lambda m: m.group(1) + vary_doc(m.group(2), k) + m.group(3), body)
        return vary_un_refs(body, k)
    return copy


def xml_ids(spec: Xml, text: str) -> list[int]:
    return [int(m.group(2)) for p in spec.patterns("ids") for m in p.finditer(text)]


# --- writing ------------------------------------------------------------------------------------

class Writer:
    """Writes files under the corpus root, hashing as it goes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, dict] = {}

    def write(self, rel: str, chunks: Iterator[str]) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with open(path, "wb") as fh:
            for chunk in chunks:
                data = chunk.encode("utf-8")
                digest.update(data)
                size += len(data)
                fh.write(data)
        self.files[rel] = {"bytes": size, "sha256": digest.hexdigest()}


def xml_chunks(text: str, spec: Xml, offset: int, copies: int) -> Iterator[str]:
    copy = xml_copier(spec, text, offset)
    for piece, repeats in split_template(text, spec):
        if not repeats:
            yield piece
            continue
        for k in range(copies):
            yield copy(piece, k)


def gdelt_chunks(text: str, copies: int) -> Iterator[str]:
    lines = [line for line in text.splitlines(keepends=True) if line.strip()]
    offset = _offset([int(line.split("\t", 1)[0]) for line in lines])
    for k in range(copies):
        out = []
        for line in lines:
            cols = line.rstrip("\r\n").split("\t")
            if k:
                cols[0] = str(int(cols[0]) + k * offset)
                if cols[-1].startswith("http"):
                    cols[-1] += ("&" if "?" in cols[-1] else "?") + f"copy={k}"
            out.append("\t".join(cols) + line[len(line.rstrip("\r\n")):])
        yield "".join(out)


def csv_chunks(text: str, copies: int, offset: int, id_column: str = "rcid") -> Iterator[str]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    at = header.index(id_column)
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(header)
    yield buf.getvalue()
    for k in range(copies):
        buf.seek(0)
        buf.truncate()
        for row in body:
            row = list(row)
            row[at] = str(int(row[at]) + k * offset)
            out.writerow(row)
        yield buf.getvalue()


def _with_copy(url: str, k: int) -> str:
    return url if k == 0 else url + ("&" if "?" in url else "?") + f"copy={k}"


def write_articles(src: Path, writer: Writer, rel: str, copies: int) -> None:
    for path in sorted(p for p in src.iterdir() if p.is_file() and not p.name.startswith(".")):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            lines = [json.loads(line) for line in text.splitlines() if line.strip()]

            def lines_of(lines: list[dict] = lines) -> Iterator[str]:
                for k in range(copies):
                    yield "".join(json.dumps({**obj, "url": _with_copy(obj["url"], k)}, ensure_ascii=False) + "\n"
                                  for obj in lines)
            writer.write(f"{rel}/{path.name}", lines_of())
        elif path.suffix == ".md":
            for k in range(copies):
                name = path.name if k == 0 else f"{path.stem}.c{k:03d}{path.suffix}"
                body = re.sub(r"(?m)^(url:\s*)(\S+)\s*$", lambda m, k=k: m.group(1) + _with_copy(m.group(2), k),
                              text, count=1)
                writer.write(f"{rel}/{name}", iter([body]))


def build(copies: int, out: Path, sources: tuple[str, ...]) -> dict:
    """Write the corpus of ``copies`` copies into ``out`` (replaced); returns its manifest."""
    from pipeline.sources import load_meta

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    writer = Writer(out)
    templates = {s: (DEMO / XML_FILES[s].rel).read_text(encoding="utf-8") for s in sources if s in XML_FILES}
    offsets: dict[str, int] = {}
    for s, text in templates.items():
        family = XML_FILES[s].family
        offsets[family] = max(offsets.get(family, 1), _offset(xml_ids(XML_FILES[s], text)))
    for source in sources:
        if source in XML_FILES:
            spec = XML_FILES[source]
            writer.write(spec.rel, xml_chunks(templates[source], spec, offsets[spec.family], copies))
        elif source == "gdelt_events":
            for rel in load_meta(source).demo_inputs:
                writer.write(rel, gdelt_chunks((DEMO / rel).read_text(encoding="utf-8"), copies))
        elif source == "unga_votes":
            rels = load_meta(source).demo_inputs
            texts = {rel: (DEMO / rel).read_text(encoding="utf-8") for rel in rels}
            offset = _offset([int(r["rcid"]) for t in texts.values() for r in csv.DictReader(io.StringIO(t))])
            for rel in rels:
                writer.write(rel, csv_chunks(texts[rel], copies, offset))
        elif source == "articles":
            for rel in load_meta(source).demo_inputs:
                write_articles(DEMO / rel, writer, rel, copies)
        else:
            raise SystemExit(f"make_corpus: no generator for source {source!r}")
    manifest = {"version": VERSION, "seed": SEED, "copies": copies, "sources": list(sources),
                "files": dict(sorted(writer.files.items()))}
    (out / "corpus.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def ensure(copies: int, out_root: Path = OUT, sources: tuple[str, ...] | None = None) -> Path:
    """The corpus folder of ``copies`` copies, written unless its manifest says it is already there."""
    from pipeline.sources import default_sources

    sources = tuple(sources or default_sources())
    out = out_root / f"corpus-{copies}x"
    try:
        manifest = json.loads((out / "corpus.json").read_text())
        if (manifest.get("version"), manifest.get("seed"), manifest.get("sources")) == (VERSION, SEED, list(sources)) \
                and all((out / rel).is_file() and (out / rel).stat().st_size == f["bytes"]
                        for rel, f in manifest["files"].items()):
            return out
    except (OSError, ValueError, KeyError):
        pass
    build(copies, out, sources)
    return out


def verify(corpus: Path, copies: int) -> list[str]:
    """Parse every source of the corpus and of the demo; each staged table must hold ``copies`` times
    the demo's rows. Returns the differences (empty: the ids were renumbered consistently)."""
    from pipeline.parse import parse_files
    from pipeline.sources import load_meta

    manifest = json.loads((corpus / "corpus.json").read_text())
    problems = []
    with tempfile.TemporaryDirectory(prefix="corpus-verify-") as tmp:
        for source in manifest["sources"]:
            counts = []
            for root in (DEMO, corpus):
                files: list[Path] = []
                for rel in load_meta(source).demo_inputs:
                    p = root / rel
                    files += sorted(x for x in p.iterdir() if x.is_file() and not x.name.startswith(".")
                                    and x.name.lower() != "readme.md") if p.is_dir() else [p]
                result = parse_files(source, files, Path(tmp) / f"{source}-{root.name}", max_bytes=1 << 40)
                counts.append({t: n for t, n in result.counts.items() if t != "parse_audit"})
            demo, big = counts
            for table in sorted(set(demo) | set(big)):
                want, got = demo.get(table, 0) * copies, big.get(table, 0)
                line = f"{source}.{table}: demo {demo.get(table, 0):,} x {copies} = {want:,}, corpus {got:,}"
                print(("  " if want == got else "! ") + line, file=sys.stderr)
                if want != got:
                    problems.append(line)
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, action="append", help="k (repeatable; default 10 and 100)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the corpora (default var/bench)")
    parser.add_argument("--sources", help="comma-separated source ids (default: the default sources)")
    parser.add_argument("--force", action="store_true", help="write again even when the manifest matches")
    parser.add_argument("--verify", action="store_true",
                        help="parse each corpus and check every staged table holds k times the demo's rows")
    args = parser.parse_args(argv)
    sources = tuple(s.strip() for s in args.sources.split(",")) if args.sources else None
    failed = False
    for copies in args.copies or [10, 100]:
        if copies < 1:
            raise SystemExit("--copies takes a whole number >= 1")
        if args.force:
            shutil.rmtree(args.out / f"corpus-{copies}x", ignore_errors=True)
        out = ensure(copies, args.out, sources)
        manifest = json.loads((out / "corpus.json").read_text())
        total = sum(f["bytes"] for f in manifest["files"].values())
        print(f"{out}: {copies} copies, {len(manifest['files'])} files, {total / 1e6:.1f} MB")
        if args.verify:
            problems = verify(out, copies)
            failed = failed or bool(problems)
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
