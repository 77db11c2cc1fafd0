"""The name stage's blocking (pipeline/matching/resolve.py ``name_blocks``): a large block is split on
a third key without losing a pair the name rules accept, the work grows with the designations and
not with the square of a common name, the parts left out are reported, and on the scorecard corpus
the split changes no target and no candidate."""

from __future__ import annotations

import gc
import itertools
from pathlib import Path

from pipeline.matching import rules, scoring, step
from pipeline.matching.records import Record, load_records
from pipeline.matching.resolve import name_blocks, resolve

_N = itertools.count(1)


def rec(source: str, name: str, kind: str = "organization", *, born: int | None = None,
        countries: dict[str, set[str]] | None = None, aliases: tuple[str, ...] = ()) -> Record:
    rid = str(next(_N))
    r = Record(designation_id=f"{source}:L:{rid}", source=source, source_record_id=rid, list_code="L",
               authority=source, entity_key=f"{source}:{rid}", entity_type=kind, primary_name=name,
               first_snapshot="2025-01-01", last_snapshot="2025-01-01")
    r.names = [(name, None), *[(a, None) for a in aliases]]
    r.births = [(born, born, None)] if born else []
    r.countries = dict(countries or {})
    return r


# Five-letter words with distinct consonant skeletons (so no two are one word spelled two ways).
_C = "bdfgklmnprstvz"
_WORDS = [f"{a.upper()}a{b}u{c}" for a in _C for b in _C for c in _C if a != b != c]


def common_block(n: int) -> list[Record]:
    """``n`` companies named ``NATIONAL TRADING <word> <word>`` (one block over ``national trading``;
    each word in two names, as a list's vocabulary grows with it) and, among them, what the rules
    must still find: one company under two lists, a long word spelled one edit apart with another
    consonant key (Organisation/Organization), and a name made of the block's words alone (a subset
    of every name of the block)."""
    out = [rec("us_ofac_sdn", f"NATIONAL TRADING {_WORDS[i]} {_WORDS[i + 1]}") for i in range(n)]
    out += [rec("us_ofac_sdn", "NATIONAL TRADING ROSNEFTEGAZ"),
            rec("eu_fsf", "ROSNEFTEGAZ NATIONAL TRADING LLC"),
            rec("gb_hmt", "NATIONAL TRADING Defence Industries Organisation"),
            rec("un_sc", "Defence Industries Organization NATIONAL TRADING"),
            rec("ca_sema", "NATIONAL TRADING")]
    return out


def accepted_pairs(records: list[Record], sub_block_at: int) -> tuple[set, set]:
    profiles = {r.designation_id: rules.profile(r) for r in records}
    pairs, _, _ = name_blocks(profiles, block_cap=10_000, sub_block_at=sub_block_at)
    found = {p for p in pairs if rules.compare_names(profiles[p[0]], profiles[p[1]]).verdict != "no"}
    return pairs, found


def test_a_split_block_keeps_every_pair_the_rules_accept():
    records = common_block(150)
    whole, want = accepted_pairs(records, sub_block_at=10**9)
    split, got = accepted_pairs(records, sub_block_at=50)
    assert len(whole) > 150 * 149 // 2  # every pair of the block compared
    assert len(split) < len(whole) / 10
    assert got == want and len(want) == 2 + 154  # ROSNEFTEGAZ, Defence..., "NATIONAL TRADING" x every name
    ids = {r.primary_name: r.designation_id for r in records}
    assert tuple(sorted((ids["NATIONAL TRADING Defence Industries Organisation"],
                         ids["Defence Industries Organization NATIONAL TRADING"]))) in got


def test_the_work_grows_with_the_designations_not_with_the_square_of_a_common_name():
    small, _ = accepted_pairs(common_block(100), sub_block_at=50)
    large, _ = accepted_pairs(common_block(400), sub_block_at=50)
    # the short name "NATIONAL TRADING" is compared with every other (n pairs), the rest meet on a
    # shared word (n pairs): 4x the designations, about 4x the pairs (the whole block: 16x)
    assert len(large) < 6 * len(small), (len(small), len(large))
    whole_small, _ = accepted_pairs(common_block(100), sub_block_at=10**9)
    whole_large, _ = accepted_pairs(common_block(400), sub_block_at=10**9)
    assert len(whole_large) > 14 * len(whole_small)


def test_parts_over_the_cap_are_skipped_and_reported():
    # 30 companies named NATIONAL TRADING alone (a name of the block's keys) in a block of 60
    firms = [rec("us_ofac_sdn", "NATIONAL TRADING") for _ in range(30)]
    firms += [rec("un_sc", f"NATIONAL TRADING {w}") for w in _WORDS[:30]]
    res = resolve(firms, block_cap=20, sub_block_at=10)
    assert res.stats["name_blocks_skipped"] == len(res.skipped_blocks) == 1
    skipped = res.skipped_blocks[0]
    assert (skipped.key, skipped.part, skipped.size) == (("organization", "ntnl", "trdng"), "short names", 30)
    assert step.skipped_report(res) == (
        "1 name block parts over the cap were not compared pair by pair: "
        "ntnl trdng [organization, short names]: 30 designations, e.g. 'NATIONAL TRADING'")
    # under the cap the same block is compared
    res = resolve(firms, block_cap=200, sub_block_at=10)
    assert res.stats["name_blocks_skipped"] == 0 and res.stats["name_blocks_split"] == 1


def test_many_persons_of_one_short_name_are_compared_within_a_birth_year():
    # 40 persons named Mohammad AHMAD alone, born 1950..1969 (two a year), in a block of 80: over the
    # cap, each is compared only with those born within a year of it, and nothing the rules accept
    # is lost
    people = [rec("us_ofac_sdn", "Mohammad AHMAD", "person", born=1950 + i // 2) for i in range(40)]
    people += [rec("un_sc", f"Mohammad AHMAD {w}", "person", born=1950 + i % 20) for i, w in enumerate(_WORDS[:40])]
    profiles = {r.designation_id: rules.profile(r) for r in people}
    whole, _, _ = name_blocks(profiles, block_cap=10**6, sub_block_at=10**9)
    split, skipped, _ = name_blocks(profiles, block_cap=20, sub_block_at=10)
    assert not skipped
    assert len(split) < len(whole) / 3
    accepted = {p for p in whole if rules.compare_names(profiles[p[0]], profiles[p[1]]).verdict != "no"}
    assert accepted and accepted <= split
    res = resolve(people, block_cap=20, sub_block_at=10)
    assert res.stats["name_blocks_skipped"] == 0
    # with no birth year at all they cannot be told apart by year: that part is skipped and named
    unknown = [rec("us_ofac_sdn", "Mohammad AHMAD", "person") for _ in range(30)]
    res = resolve(unknown + people[40:], block_cap=20, sub_block_at=10)
    assert [(s.part, s.size) for s in res.skipped_blocks] == [("short names, birth year unknown", 30)]


def test_a_part_over_the_cap_is_reported_once():
    # 60 companies NATIONAL TRADING BANKING <word>: each block of two of the three common words has
    # the third as its only shared other word (and its one-letter-deleted forms: the same part)
    records = [rec("us_ofac_sdn", f"NATIONAL TRADING BANKING {w}") for w in _WORDS[:60]]
    res = resolve(records, block_cap=20, sub_block_at=10)
    got = sorted((s.key, s.part, s.size) for s in res.skipped_blocks)
    assert got == [(("organization", "bnkng", "ntnl"), "sub-block trdng", 60),
                   (("organization", "bnkng", "trdng"), "sub-block ntnl", 60),
                   (("organization", "ntnl", "trdng"), "sub-block bnkng", 60)]
    assert res.stats["name_pairs_compared"] == 0 and res.stats["targets"] == 60


def test_resolve_restores_the_garbage_collector():
    records = common_block(5)
    assert gc.isenabled()
    resolve(records)
    assert gc.isenabled()
    gc.disable()
    try:
        resolve(records)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_split_changes_nothing_on_the_scorecard_corpus(samples, tmp_path: Path):
    """Every target and every candidate of the corpus of ``pipeline match --score`` (10,919 real and demo
    designations; its largest block holds 191) is the same with blocks split at 50 as with every
    block compared whole, and the held-out pairs score what docs/matching.md records."""
    records = load_records(scoring.build_corpus(tmp_path / "staged", samples))
    split, whole = resolve(records), resolve(records, sub_block_at=10**9)
    assert split.stats["name_blocks_split"] > 0
    assert split.stats["name_pairs_compared"] < whole.stats["name_pairs_compared"]
    assert split.clusters == whole.clusters
    assert ([(c.left, c.right, c.stage, c.method, c.score) for c in split.candidates]
            == [(c.left, c.right, c.stage, c.method, c.score) for c in whole.candidates])
    result = scoring.score(records, {"heldout": scoring.read_pairs(scoring.SETS["heldout"])})
    tally = result["heldout"]["name"]["all"]
    assert (tally.tp, tally.fp, tally.fn) == (185, 0, 13), scoring.report(result, ["heldout"], errors=True)
    assert round(tally.precision, 3) == 1.0 and round(tally.recall, 3) == 0.934
