"""The evidence two designations give about being one target, and the rules that weigh it.

Three kinds of evidence, strongest first:

- **hard keys**: identifiers that name one listing or one thing whatever the name: the source's own
  entity key, a UN reference, an EU reference number, an OFSI group id, a UK list reference, an
  OFAC id (OpenSanctions' referents included), a SECO id and, between two vessels only, an IMO
  ship number whose check digit holds (an IMO *company* number on a company is not a ship's);
- **document keys**: a passport, national id, registration or tax number, SWIFT code: they join two
  designations only when the names agree too (the UN lists two different people with the same two
  passport numbers);
- **names**, compared as folded token sets (:mod:`pipeline.matching.normalize`), weighed with
  birth years (a year apart is no contradiction), nationality and type.

Contradictions (:func:`conflict`) veto a merge: a person and an organization, two vessels with
different IMO numbers, two different UN references, birth years more than a year apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.matching import normalize
from pipeline.matching.records import UN_REFERENCE, Record

#: Entity types that may be one target.
TYPE_GROUP = {"person": "person", "organization": "organization", "other": "organization",
              "vessel": "vessel", "aircraft": "aircraft"}
#: Hard identifier kinds: one value names one target.
HARD = ("source_key", "ofac_id", "un_reference", "eu_reference", "ofsi_group_id", "uk_reference", "seco_id", "imo")
#: Document kinds and the entity-type group they join, with the shortest value taken.
DOCUMENTS = {"passport": ("person", 5), "national_id": ("person", 6), "registration": ("organization", 6),
             "tax_id": ("organization", 6), "swift": ("organization", 8)}
_REFERENT = (
    (re.compile(r"^ofac-(\d+)$"), "ofac_id"),
    (re.compile(r"^gb-hmt-(\d+)$"), "ofsi_group_id"),
    (re.compile(r"^gb-fcdo-([a-z]{3}\d{3,5})$"), "uk_reference"),
    (re.compile(r"^ch-seco-(\d+)$"), "seco_id"),
    (re.compile(r"^eu-fsf-(eu-[\d]+-[\d]+)$"), "eu_reference"),
)
_ALNUM = re.compile(r"[^0-9A-Z]")


def valid_imo(value: str) -> str | None:
    """A 7-digit IMO ship number whose check digit holds (``IMO 9187629`` -> ``9187629``), else None."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) != 7 or digits == "0000000":
        return None
    check = sum(int(d) * w for d, w in zip(digits[:6], range(7, 1, -1), strict=True)) % 10
    return digits if check == int(digits[6]) else None


def un_reference(value: str | None) -> str | None:
    """``QDi.430`` in one spelling (``QDi.430``), from a value that is a UN reference and nothing else."""
    m = UN_REFERENCE.match(value or "")
    if not m:
        return None
    prefix = m.group(1)
    return f"{prefix[:2].upper()}{prefix[2].lower()}.{int(m.group(2)):03d}"


def hard_keys(record: Record) -> list[tuple[str, str]]:
    """``(kind, value)`` of every hard key of a designation."""
    keys = [("source_key", record.entity_key)]
    if record.source in ("us_ofac_sdn", "us_ofac_cons"):
        keys.append(("ofac_id", record.source_record_id))
    if record.source == "ch_seco":
        keys.append(("seco_id", record.source_record_id))
    if record.source == "un_sc" and un_reference(record.reference_number):
        keys.append(("un_reference", un_reference(record.reference_number)))
    # a UN reference written where the list's own reference or a note belongs (a UK record whose
    # "UK Sanctions List Ref" is SDI.005): taken only when the field holds that reference alone
    for text in (record.remarks, record.reference_number):
        ref = un_reference(text)
        if ref and _kind_of_reference(ref) == TYPE_GROUP.get(record.entity_type):
            keys.append(("un_reference", ref))
    for id_type, value in record.identifiers:
        if id_type == "un_reference" and un_reference(value):
            keys.append(("un_reference", un_reference(value)))
        elif id_type == "uk_reference":
            ref = un_reference(value)
            keys.append(("un_reference", ref) if ref else ("uk_reference", value.strip().upper()))
        elif id_type == "eu_reference" and value.strip():
            keys.append(("eu_reference", value.strip().upper()))
        elif id_type == "ofsi_group_id" and value.strip():
            keys.append(("ofsi_group_id", value.strip()))
        elif id_type == "imo" and record.entity_type == "vessel" and valid_imo(value):
            keys.append(("imo", valid_imo(value)))
        elif id_type == "referent":
            for pattern, kind in _REFERENT:
                m = pattern.match(value.strip().lower())
                if m:
                    found = m.group(1).upper() if kind in ("uk_reference", "eu_reference") else m.group(1)
                    if kind == "eu_reference":
                        found = found.replace("-", ".")
                    keys.append((kind, found))
    return sorted(set(keys))


def _kind_of_reference(ref: str) -> str:
    return "person" if ref[2] == "i" else "organization"


def document_keys(record: Record) -> list[tuple[str, str]]:
    """``(kind, value)`` of the documents that join two designations when the names agree."""
    group = TYPE_GROUP.get(record.entity_type)
    keys = []
    for id_type, value in record.identifiers:
        rule = DOCUMENTS.get(id_type)
        if not rule or rule[0] != group:
            continue
        norm = _ALNUM.sub("", value.upper())
        if id_type == "swift":
            norm = norm[:8]
        if len(norm) >= rule[1] and len(set(norm)) > 2:
            keys.append((id_type, norm))
    return sorted(set(keys))


# --- what a designation offers for comparison ----------------------------------------------------

@dataclass
class Profile:
    """A record's comparable facts, computed once."""

    record: Record
    group: str
    names: list[tuple[str, ...]]
    keysets: list[frozenset[str]]
    imos: frozenset[str]
    un_refs: frozenset[str]
    years: list[tuple[int, int]]
    days: frozenset[str]
    nationality: frozenset[str]
    registration: frozenset[str]
    any_country: frozenset[str]
    hard: list[tuple[str, str]] = field(default_factory=list)
    documents: list[tuple[str, str]] = field(default_factory=list)


def profile(record: Record) -> Profile:
    group = TYPE_GROUP.get(record.entity_type, "organization")
    kind = "person" if group == "person" else "organization"
    strong = [n for n, q in record.names if q != "weak"] or [n for n, _ in record.names] or [record.primary_name]
    if record.primary_name and record.primary_name not in strong:
        strong.append(record.primary_name)
    sets: list[tuple[str, ...]] = []
    for name in strong:
        for variant in normalize.split_variants(name):
            toks = normalize.tokens(variant, kind)
            if toks and toks not in sets:
                sets.append(toks)
    hard = hard_keys(record)
    years = [(lo if lo is not None else hi, hi if hi is not None else lo) for lo, hi, _ in record.births
             if lo is not None or hi is not None]
    c = record.countries
    return Profile(
        record=record, group=group, names=sets,
        keysets=[frozenset(normalize.consonant_key(t) for t in toks) for toks in sets],
        imos=frozenset(v for k, v in hard if k == "imo"),
        un_refs=frozenset(v for k, v in hard if k == "un_reference"),
        years=years, days=frozenset(d for *_, d in record.births if d),
        nationality=frozenset(c.get("nationality", set()) | c.get("citizenship", set())),
        registration=frozenset(c.get("registration", set()) | c.get("flag", set())),
        any_country=frozenset(x for v in c.values() for x in v),
        hard=hard, documents=document_keys(record),
    )


def best_names(a: Profile, b: Profile) -> normalize.NameAgreement:
    """The best agreement between any name of ``a`` and any name of ``b``."""
    best = normalize.NameAgreement("none", 0.0, 0, (), ())
    rank = {"none": 0, "partial": 1, "subset": 2, "full": 3}
    for x, kx in zip(a.names, a.keysets, strict=True):
        for y, ky in zip(b.names, b.keysets, strict=True):
            # a name pair that cannot reach 'subset' is not compared token by token (one token may
            # differ in its consonants: a typo in a long word)
            if len(kx & ky) < min(len(kx), len(ky)) - 1 and best.level != "none":
                continue
            got = normalize.compare(x, y)
            if (rank[got.level], got.score, len(got.left)) > (rank[best.level], best.score, len(best.left)):
                best = got
                if got.level == "full" and len(x) >= 4:
                    return best
    return best


def births(a: Profile, b: Profile) -> str:
    """``same_day``, ``agree`` (years within one), ``conflict`` or ``unknown``."""
    if not a.years or not b.years:
        return "unknown"
    if a.days & b.days:
        return "same_day"
    for lo1, hi1 in a.years:
        for lo2, hi2 in b.years:
            if lo1 - 1 <= hi2 and lo2 - 1 <= hi1:
                return "agree"
    return "conflict"


def countries(a: frozenset[str], b: frozenset[str]) -> str:
    if not a or not b:
        return "unknown"
    return "agree" if a & b else "differ"


def distinct_in_one_list(a: Profile, b: Profile) -> bool:
    """Whether one list names ``a`` and ``b`` as two entities at the same time (a source knows its
    own records best; its rare duplicates need strong evidence)."""
    ra, rb = a.record, b.record
    return (ra.source == rb.source and ra.entity_key != rb.entity_key
            and ra.first_snapshot <= rb.last_snapshot and rb.first_snapshot <= ra.last_snapshot)


def conflict(a: Profile, b: Profile, hard: bool = False) -> str | None:
    """Why ``a`` and ``b`` cannot be one target (None when nothing says so). ``hard``: the link is a
    hard key, which outweighs a disagreement on birth years (lists copy dates with errors)."""
    if a.group != b.group:
        return f"types differ ({a.record.entity_type} / {b.record.entity_type})"
    if a.imos and b.imos and not a.imos & b.imos:
        return f"IMO numbers differ ({', '.join(sorted(a.imos))} / {', '.join(sorted(b.imos))})"
    if a.un_refs and b.un_refs and not a.un_refs & b.un_refs:
        return f"UN references differ ({', '.join(sorted(a.un_refs))} / {', '.join(sorted(b.un_refs))})"
    if not hard and a.group == "person" and births(a, b) == "conflict":
        return (f"birth years differ ({_years(a)} / {_years(b)})")
    return None


def _years(p: Profile) -> str:
    return ", ".join(sorted({str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in p.years}))


@dataclass(frozen=True)
class Decision:
    """What the rules say of one pair: ``match`` (merge), ``candidate`` (uncertain: for review) or ``no``."""

    verdict: str
    method: str
    score: float
    evidence: dict


def compare_names(a: Profile, b: Profile) -> Decision:
    """The name stage: names, birth years, nationality and type."""
    names = best_names(a, b)
    born = births(a, b)
    evidence = {"names": [" ".join(names.left), " ".join(names.right)], "name_agreement": names.level,
                "births": born}
    why = conflict(a, b)
    if why or names.level in ("none",):
        return Decision("no", "name", 0.0, {**evidence, "conflict": why})
    group = a.group
    longest = max(len(names.left), len(names.right))
    if group == "person":
        nat = countries(a.nationality, b.nationality)
        evidence["nationality"] = nat
        if names.level == "full" and born in ("agree", "same_day"):
            verdict, score = "match", 0.97 if born == "same_day" else 0.95
        elif names.level == "subset" and born in ("agree", "same_day"):
            verdict, score = "match", 0.92 if born == "same_day" else 0.9
        elif names.level == "full" and born == "unknown" and (longest >= 3 and nat != "differ"
                                                              or longest == 2 and nat == "agree"):
            verdict, score = "match", 0.88 if longest >= 3 else 0.86
        elif names.level in ("full", "subset"):
            verdict, score = "candidate", 0.8 if names.level == "full" else 0.7
        elif names.score >= 0.6 and born == "same_day":
            verdict, score = "candidate", round(names.score, 3)
        else:
            verdict, score = "no", names.score
        method = "name_birth" if born in ("agree", "same_day") else "name"
    elif group == "organization":
        reg = countries(a.registration or a.any_country, b.registration or b.any_country)
        evidence["countries"] = reg
        # a name alone is weak evidence for an organization (subsidiaries and branches share it): a
        # shared country, or a name of three words or more, must back it
        if names.level == "full" and (reg == "agree" and max(len(t) for t in names.left) >= 4
                                      or reg == "unknown" and longest >= 2):
            verdict, score = "match", 0.93 if reg == "agree" else 0.86 if longest == 2 else 0.88
        elif names.level in ("full", "subset"):
            verdict, score = "candidate", 0.8 if names.level == "full" else 0.65
        else:
            verdict, score = "no", names.score
        method = "name_country" if reg == "agree" else "name"
    else:  # vessels and aircraft: a name is not enough (two ships share a name); review it
        verdict, score = ("candidate", 0.75) if names.level == "full" else ("no", names.score)
        method = "name"
    # an organization's name never outweighs its list naming two (parents, subsidiaries, branches)
    strong = names.level == "full" and group == "person" and born in ("agree", "same_day")
    if verdict == "match" and distinct_in_one_list(a, b) and not strong:
        # one list naming two records at the same time says they are two: only strong agreement merges
        verdict, score = "candidate", min(score, 0.85)
        evidence["same_list"] = True
    return Decision(verdict, method, score, evidence)


def compare_document(a: Profile, b: Profile, kind: str, value: str) -> Decision:
    """A shared document: one target when the names agree and nothing contradicts."""
    names = best_names(a, b)
    evidence = {kind: value, "names": [" ".join(names.left), " ".join(names.right)],
                "name_agreement": names.level, "births": births(a, b)}
    why = conflict(a, b)
    if why:
        return Decision("no", kind, 0.0, {**evidence, "conflict": why})
    agree = names.level in ("full", "subset") or (
        names.level == "partial" and names.shared >= 2 and names.shared >= min(len(names.left), len(names.right)) - 1)
    if agree:
        return Decision("match", kind, 0.99 if names.level == "full" else 0.96, evidence)
    return Decision("candidate" if names.shared >= 1 else "no", kind, round(0.5 + names.score / 4, 3), evidence)
