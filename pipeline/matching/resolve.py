"""Resolution in stages: which designations are one target.

1. ``review``: reviewed judgements (same / not same) come first and override every rule below;
2. ``identifier``: hard keys (:func:`pipeline.matching.rules.hard_keys`);
3. ``document``: passports, national ids, registration and tax numbers, SWIFT codes, with names
   that agree;
4. ``name``: pairs that share two folded name tokens (or a one-token name) are compared
   (:func:`pipeline.matching.rules.compare_names`); a block of more than ``sub_block_at``
   designations (a common pair of name words) is split on a third key, and a part of more than
   ``block_cap`` is left out and reported (:func:`name_blocks`), so the work grows with the list,
   not with its square.

Clustering takes the accepted links strongest first and refuses a merge that would put two
designations with a contradiction in one target (:func:`pipeline.matching.rules.conflict`: every
member of one side against every member of the other), or, for a name link, two designations whose
names do not agree: one weak link never chains two people into one. A refused link, and every pair
the rules found uncertain, is a candidate for review.
"""

from __future__ import annotations

import gc
import itertools
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from pipeline.matching import normalize, rules
from pipeline.matching.records import Record

log = logging.getLogger(__name__)

STAGES = ("review", "identifier", "document", "name")
#: Order of the hard keys within the identifier stage.
_HARD_ORDER = {kind: i for i, kind in enumerate(rules.HARD)}
#: A name block larger than this is split on a third key (see :func:`name_blocks`).
SUB_BLOCK_AT = 50


@dataclass(frozen=True)
class Judgement:
    """A reviewed decision on two designations (ids), ``same`` or ``not_same``."""

    left: str
    right: str
    same: bool
    reviewer: str
    reason: str


@dataclass
class Link:
    """One pair and what the matcher made of it."""

    left: str
    right: str
    stage: str
    method: str
    score: float
    verdict: str  # match | candidate
    evidence: dict = field(default_factory=dict)

    def sort_key(self) -> tuple:
        order = _HARD_ORDER.get(self.method, 0) if self.stage == "identifier" else 0
        return STAGES.index(self.stage), order, -self.score, self.left, self.right


@dataclass(frozen=True)
class SkippedBlock:
    """A name block (or the part of one) too large to compare pair by pair: its key, its size and
    why it was left out (the audit of what the name stage did not look at)."""

    key: tuple[str, ...]
    size: int
    part: str  # "block" (a one-word name's block), "sub-block <key>" or "short names"
    example: str


@dataclass
class Resolution:
    """Clusters of designation ids, the link that attached each designation, and the candidates."""

    clusters: list[list[str]]
    attached: dict[str, Link]
    accepted: list[Link]
    candidates: list[Link]
    stats: dict[str, int]
    #: the name blocks (or parts) too large to compare, largest first (:func:`name_blocks`)
    skipped_blocks: list[SkippedBlock] = field(default_factory=list)


class _Clusters:
    """Union-find over designation ids, keeping each cluster's members for the conflict checks."""

    def __init__(self, ids: list[str]) -> None:
        self.parent = {i: i for i in ids}
        self.members = {i: [i] for i in ids}

    def find(self, x: str) -> str:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if (len(self.members[ra]), rb) < (len(self.members[rb]), ra):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _blocking_keys(p: rules.Profile) -> set[tuple[str, ...]]:
    """The blocks of one designation: its names' consonant-key pairs (the first ten keys of a long
    name), a one-key name's key alone."""
    keys: set[tuple[str, ...]] = set()
    for ks in p.keysets:
        ordered = sorted(ks)
        if len(ordered) == 1:
            keys.add((p.group, ordered[0]))
        else:
            keys.update((p.group, a, b) for a, b in itertools.combinations(ordered[:10], 2))
    return keys


def _rest_keys(toks: tuple[str, ...], block: frozenset[str]) -> set[str]:
    """The keys a name's other tokens (outside the block's keys) are sub-blocked on: each token's
    consonant key (partners of the same key) and, for a long token, the token and every form of it
    with one letter deleted (two long words one edit apart share one of them: the partners whose
    consonant keys differ)."""
    out: set[str] = set()
    for t in toks:
        k = normalize.consonant_key(t)
        if k in block:
            continue
        out.add(k)
        if len(t) >= 6:
            out.add("~" + t)
            out.update("~" + t[:i] + t[i + 1:] for i in range(len(t)))
    return out


def _birth_years(p: rules.Profile) -> set[int] | None:
    """The years a person may be born in (None: unknown, or a range of more than ten years)."""
    years: set[int] = set()
    for lo, hi in p.years:
        if hi - lo > 10:
            return None
        years.update(range(lo, hi + 1))
    return years or None


def _short_by_birth_year(key: tuple[str, ...], short: list[str], members: list[str],
                         profiles: dict[str, rules.Profile], block_cap: int, pairs: set[tuple[str, str]],
                         skipped: list[SkippedBlock]) -> None:
    """More than ``block_cap`` persons named by a block's two words alone (``Mohammad AHMAD``): each is
    compared with the block's members born within a year of it, and with those of unknown birth
    (two persons born further apart are never one, :func:`pipeline.matching.rules.conflict`). A
    part still over the cap (one birth year, or the unknown ones) is skipped and reported."""
    years = {did: _birth_years(profiles[did]) for did in members}
    by_year: dict[int, list[str]] = defaultdict(list)
    for did in members:
        for y in years[did] or ():
            by_year[y].append(did)
    unknown = [did for did in members if years[did] is None]
    unknown_short = [did for did in short if years[did] is None]
    name = profiles[short[0]].record.primary_name or short[0]
    if len(unknown_short) > block_cap:
        skipped.append(SkippedBlock(key, len(unknown_short), "short names, birth year unknown", name))
    else:
        pairs.update(_pair(a, b) for a in unknown_short for b in members if a != b)
    known_short = [did for did in short if years[did] is not None]
    if len(unknown) > block_cap:
        if known_short:
            skipped.append(SkippedBlock(key, len(unknown), "names with no birth year, against short names", name))
    else:
        pairs.update(_pair(a, b) for a in known_short for b in unknown if a != b)
    over = {y for y, born in by_year.items() if len(born) > block_cap}
    for y in sorted(over):
        skipped.append(SkippedBlock(key, len(by_year[y]), f"short names born {y}", name))
    for a in known_short:
        near = {y + d for y in years[a] for d in (-1, 0, 1)} - over
        pairs.update(_pair(a, b) for y in near for b in by_year.get(y, ()) if a != b)


def name_blocks(profiles: dict[str, rules.Profile], block_cap: int,
                sub_block_at: int = SUB_BLOCK_AT) -> tuple[set[tuple[str, str]], list[SkippedBlock], dict[str, int]]:
    """Pairs of designations whose names share two consonant keys (one, for a one-key name) within
    one entity-type group; the parts of blocks left out (:class:`SkippedBlock`); and counts.

    A block of up to ``sub_block_at`` designations compares every pair. A larger one (a frequent
    pair of name words: ``joint stock``, ``Mohammad Ahmad``) is split on a third key: two of its
    designations are compared when their names share another key, or when one of them has a name
    made of the block's keys alone (``Mohammad AHMAD`` against every ``Mohammad AHMAD ...``). That
    loses nothing the name rules could accept: a full or subset agreement of a name longer than
    the block's keys needs a partner for its other tokens, and partners share a consonant key
    (long words one edit apart, whose keys may differ, share a one-letter-deleted form, which is
    a key too). More than ``block_cap`` persons of such short names are compared within a birth
    year (:func:`_short_by_birth_year`). A part (one third key, the short names of organizations,
    one birth year) larger than ``block_cap`` is skipped and reported, so the work is bounded by
    the number of designations times ``block_cap``, never by the square of a block.
    """
    index: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for did in sorted(profiles):
        for key in _blocking_keys(profiles[did]):
            index[key].append(did)
    pairs: set[tuple[str, str]] = set()
    skipped: list[SkippedBlock] = []
    counts = {"name_blocks": 0, "name_blocks_split": 0}

    def example(did: str) -> str:
        return profiles[did].record.primary_name or did

    for key, members in index.items():
        n = len(members)
        if n < 2:
            continue
        counts["name_blocks"] += 1
        if n <= sub_block_at:
            pairs.update(itertools.combinations(members, 2))  # members are in id order
            continue
        counts["name_blocks_split"] += 1
        block = frozenset(key[1:])
        short: list[str] = []
        by_rest: dict[str, list[str]] = defaultdict(list)
        for did in members:
            rest: set[str] = set()
            is_short = False
            for toks, ks in zip(profiles[did].names, profiles[did].keysets, strict=True):
                if block <= ks:
                    if ks <= block:
                        is_short = True
                    rest.update(_rest_keys(toks, block))
            if is_short:
                short.append(did)
            for k in rest:
                by_rest[k].append(did)
        if len(short) > block_cap and key[0] == "person":
            _short_by_birth_year(key, short, members, profiles, block_cap, pairs, skipped)
        elif len(short) > block_cap:
            skipped.append(SkippedBlock(key, len(short), "short names", example(short[0])))
        elif short:
            for a in short:
                for b in members:
                    if a != b:
                        pairs.add(_pair(a, b))
        oversized: dict[tuple[str, ...], str] = {}
        for k, sub in by_rest.items():
            if len(sub) < 2:
                continue
            if len(sub) > block_cap:
                # one part reported once (a long word's one-letter-deleted forms give the same part):
                # under its consonant key, else its first form
                members_of = tuple(sub)
                if members_of not in oversized or (k.startswith("~"), k) < (oversized[members_of].startswith("~"),
                                                                             oversized[members_of]):
                    oversized[members_of] = k
                continue
            pairs.update(itertools.combinations(sub, 2))
        for sub, k in oversized.items():
            skipped.append(SkippedBlock(key, len(sub), f"sub-block {k.lstrip('~')}", example(sub[0])))
    skipped.sort(key=lambda s: (-s.size, s.key, s.part))
    return pairs, skipped, counts


def resolve(records: list[Record], judgements: list[Judgement] = (), block_cap: int = 200,
            upto: str = "name", sub_block_at: int = SUB_BLOCK_AT) -> Resolution:
    """Cluster ``records`` into targets (see the module's docstring); ``upto``: the last stage run
    (the scorecard measures each stage with the ones before it).

    Python's cyclic garbage collector is paused meanwhile: the matcher makes hundreds of thousands
    of small objects that hold no cycles, and each full collection walks every live one, so the
    collector's time grew with the square of the lake (at 39,200 designations it took more than
    half of the matching's CPU time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _resolve(records, judgements, block_cap, upto, sub_block_at)
    finally:
        if enabled:
            gc.enable()


def _resolve(records: list[Record], judgements: list[Judgement], block_cap: int, upto: str,
             sub_block_at: int) -> Resolution:
    last = STAGES.index(upto)
    profiles = {r.designation_id: rules.profile(r) for r in records}
    ids = sorted(profiles)
    links: list[Link] = []
    stats: dict[str, int] = defaultdict(int)
    not_same: set[tuple[str, str]] = set()
    for j in judgements:
        if j.left not in profiles or j.right not in profiles or j.left == j.right:
            continue
        if j.same:
            links.append(Link(*_pair(j.left, j.right), "review", "review", 1.0, "match",
                              {"reviewer": j.reviewer, "reason": j.reason}))
        else:
            not_same.add(_pair(j.left, j.right))
    # identifier stage: every designation holding a hard key joins the first one (in id order)
    by_key: dict[tuple[str, str], list[str]] = defaultdict(list)
    for did in ids:
        for key in profiles[did].hard:
            by_key[key].append(did)
    for (kind, value), members in sorted(by_key.items()):
        for other in members[1:]:
            links.append(Link(members[0], other, "identifier", kind, 1.0, "match", {kind: value}))
    if last < STAGES.index("document"):
        return _cluster(ids, profiles, links, not_same, dict(stats))
    # document stage
    by_doc: dict[tuple[str, str], list[str]] = defaultdict(list)
    for did in ids:
        for key in profiles[did].documents:
            by_doc[key].append(did)
    seen: set[tuple[str, str]] = set()
    for (kind, value), members in sorted(by_doc.items()):
        if len(members) > 20:  # a placeholder number many records carry
            stats["document_values_skipped"] += 1
            continue
        for a, b in itertools.combinations(members, 2):
            if (a, b) in seen:
                continue
            seen.add((a, b))
            d = rules.compare_document(profiles[a], profiles[b], kind, value)
            if d.verdict != "no":
                links.append(Link(a, b, "document", d.method, d.score, d.verdict, d.evidence))
    if last < STAGES.index("name"):
        return _cluster(ids, profiles, links, not_same, dict(stats))
    # name stage
    pairs, skipped, counts = name_blocks(profiles, block_cap, sub_block_at)
    stats.update(counts)
    stats["name_pairs_compared"] = len(pairs)
    stats["name_blocks_skipped"] = len(skipped)
    for a, b in sorted(pairs):
        d = rules.compare_names(profiles[a], profiles[b])
        if d.verdict != "no":
            links.append(Link(a, b, "name", d.method, d.score, d.verdict, d.evidence))
    resolution = _cluster(ids, profiles, links, not_same, dict(stats))
    resolution.skipped_blocks = skipped
    return resolution


def _cluster(ids: list[str], profiles: dict[str, rules.Profile], links: list[Link],
             not_same: set[tuple[str, str]], stats: dict[str, int]) -> Resolution:
    clusters = _Clusters(ids)
    attached: dict[str, Link] = {}
    accepted: list[Link] = []
    candidates: list[Link] = []
    for link in sorted(links, key=Link.sort_key):
        if link.verdict != "match":
            candidates.append(link)
            continue
        ra, rb = clusters.find(link.left), clusters.find(link.right)
        if ra == rb:
            continue
        why = _refusal(clusters.members[ra], clusters.members[rb], link, profiles, not_same)
        if why:
            stats[f"refused_{link.stage}"] = stats.get(f"refused_{link.stage}", 0) + 1
            candidates.append(Link(link.left, link.right, link.stage, link.method, min(link.score, 0.85),
                                   "candidate", {**link.evidence, "refused": why}))
            continue
        clusters.union(link.left, link.right)
        accepted.append(link)
        for did in (link.left, link.right):
            attached.setdefault(did, link)
    groups = sorted(sorted(m) for m in clusters.members.values())
    # a candidate whose two sides ended in one target needs no review
    final = {did: i for i, members in enumerate(groups) for did in members}
    candidates = [c for c in candidates if final[c.left] != final[c.right] and _pair(c.left, c.right) not in not_same]
    best: dict[tuple[str, str], Link] = {}
    for c in candidates:
        key = _pair(c.left, c.right)
        if key not in best or (c.score, c.stage) > (best[key].score, best[key].stage):
            best[key] = c
    stats["links_accepted"] = len(accepted)
    stats["targets"] = len(groups)
    stats["designations"] = len(ids)
    return Resolution(groups, attached, accepted, sorted(best.values(), key=lambda c: (-c.score, c.left, c.right)),
                      stats)


def _refusal(left: list[str], right: list[str], link: Link, profiles: dict[str, rules.Profile],
             not_same: set[tuple[str, str]]) -> str | None:
    """Why the clusters ``left`` and ``right`` may not merge through ``link`` (None: they may)."""
    hard = link.stage in ("review", "identifier")
    for a in left:
        for b in right:
            if _pair(a, b) in not_same:
                return f"reviewed as not the same: {a} / {b}"
            if link.stage == "review":
                continue
            why = rules.conflict(profiles[a], profiles[b], hard=hard)
            if why:
                return f"{why}: {a} / {b}"
            if hard or (a, b) in ((link.left, link.right), (link.right, link.left)):
                continue
            pa, pb = profiles[a], profiles[b]
            if rules.distinct_in_one_list(pa, pb) and rules.compare_names(pa, pb).verdict != "match":
                return f"one list names them as two: {a} / {b}"
            if link.stage == "name":
                names = rules.best_names(pa, pb)
                if names.level not in ("full", "subset"):
                    return f"names do not agree: {a} / {b}"
                if pa.group != "person" and rules.countries(pa.registration or pa.any_country,
                                                            pb.registration or pb.any_country) == "differ":
                    return f"countries differ: {a} / {b}"
    return None
