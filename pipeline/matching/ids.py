"""Target ids that last: a target keeps its id from one run (and snapshot) to the next.

The previous assignment (``designation_id -> target_id``, the last published run's) is carried
forward: a cluster takes the previous id most of its designations held (ties: the smaller id), so
a target whose source changed its own key keeps its id as long as the new listing joins the old
one (the lake keeps every snapshot, and the matcher compares them all). When a target splits, the
larger part keeps the id; a cluster with no previous id gets a new one derived from its first
designation (the same inputs give the same ids, with or without a previous assignment).
"""

from __future__ import annotations

import hashlib
from collections import Counter


def new_id(seed: str, salt: int = 0) -> str:
    digest = hashlib.sha1(f"{seed}#{salt}".encode() if salt else seed.encode()).hexdigest()
    return f"T-{digest[:12]}"


def assign(clusters: list[list[str]], previous: dict[str, str]) -> dict[str, str]:
    """``{designation_id: target_id}`` for ``clusters`` (lists of designation ids), carrying
    ``previous`` ids forward."""
    claims = [Counter(previous[d] for d in members if d in previous) for members in clusters]
    order = sorted(range(len(clusters)), key=lambda i: (-(max(claims[i].values()) if claims[i] else 0),
                                                         -len(clusters[i]), min(clusters[i])))
    taken: set[str] = set()
    retired = set(previous.values())
    out: dict[str, str] = {}
    for i in order:
        members = clusters[i]
        chosen = next((tid for tid, _ in sorted(claims[i].items(), key=lambda kv: (-kv[1], kv[0]))
                       if tid not in taken), None)
        if chosen is None:
            seed = min(members)
            salt = 0
            chosen = new_id(seed)
            while chosen in taken or chosen in retired:
                salt += 1
                chosen = new_id(seed, salt)
        taken.add(chosen)
        for did in members:
            out[did] = chosen
    return out
