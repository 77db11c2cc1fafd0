"""Resolution in stages: which designations are one target.

1. ``review``: reviewed judgements (same / not same) come first and override every rule below;
2. ``identifier``: hard keys (:func:`pipeline.matching.rules.hard_keys`);
3. ``document``: passports, national ids, registration and tax numbers, SWIFT codes, with names
   that agree;
4. ``name``: pairs that share two folded name tokens (or a one-token name) are compared
   (:func:`pipeline.matching.rules.compare_names`); a block of more than ``block_cap`` designations
   (the commonest names) is left out, so the work grows with the list, not with its square.

Clustering takes the accepted links strongest first and refuses a merge that would put two
designations with a contradiction in one target (:func:`pipeline.matching.rules.conflict`: every
member of one side against every member of the other), or, for a name link, two designations whose
names do not agree: one weak link never chains two people into one. A refused link, and every pair
the rules found uncertain, is a candidate for review.
"""

from __future__ import annotations

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


@dataclass
class Resolution:
    """Clusters of designation ids, the link that attached each designation, and the candidates."""

    clusters: list[list[str]]
    attached: dict[str, Link]
    accepted: list[Link]
    candidates: list[Link]
    stats: dict[str, int]


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


def name_blocks(profiles: dict[str, rules.Profile], block_cap: int) -> tuple[set[tuple[str, str]], int]:
    """Pairs of designations that share two name tokens' consonant keys (one, for a one-token name),
    within one entity-type group; and how many blocks were too large to compare."""
    index: dict[tuple, list[str]] = defaultdict(list)
    for did, p in profiles.items():
        keys = set()
        for toks in p.names:
            ks = sorted({normalize.consonant_key(t) for t in toks})
            if len(ks) == 1:
                keys.add((p.group, ks[0]))
            else:
                keys.update((p.group, a, b) for a, b in itertools.combinations(ks[:10], 2))
        for key in keys:
            index[key].append(did)
    pairs: set[tuple[str, str]] = set()
    skipped = 0
    for members in index.values():
        if len(members) < 2:
            continue
        if len(members) > block_cap:
            skipped += 1
            continue
        members.sort()
        pairs.update(itertools.combinations(members, 2))
    return pairs, skipped


def resolve(records: list[Record], judgements: list[Judgement] = (), block_cap: int = 200,
            upto: str = "name") -> Resolution:
    """Cluster ``records`` into targets (see the module's docstring); ``upto``: the last stage run
    (the scorecard measures each stage with the ones before it)."""
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
    pairs, skipped = name_blocks(profiles, block_cap)
    stats["name_pairs_compared"] = len(pairs)
    stats["name_blocks_skipped"] = skipped
    for a, b in sorted(pairs):
        d = rules.compare_names(profiles[a], profiles[b])
        if d.verdict != "no":
            links.append(Link(a, b, "name", d.method, d.score, d.verdict, d.evidence))
    return _cluster(ids, profiles, links, not_same, dict(stats))


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
