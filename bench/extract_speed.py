"""Throughput of the article event extractor: articles per second over N articles built by replicating
the demo articles, against a baseline measured in the same run that matches the gazetteer with one
regex per surface form (a naive per-pattern loop) instead of the trie-compiled regexes.

    .venv/bin/python bench/extract_speed.py [N]      # default N = 1000
"""

from __future__ import annotations

import dataclasses
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pipeline.extract.extractor as extractor
from pipeline.extract import Article, extract, read_articles

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "articles"


class _NaiveGazetteer:
    """Same matches as the trie regex, found by trying every surface form's own regex in turn."""

    def __init__(self, surfaces: list[str], flags: int) -> None:
        self.patterns = [re.compile(r"(?<![\w\-’'])" + re.escape(s) + r"(?![\w])", flags) for s in surfaces]

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        hits = [m for p in self.patterns for m in p.finditer(text)]
        hits.sort(key=lambda m: (m.start(), -(m.end() - m.start())))
        return iter(hits)


def _corpus(n: int) -> list[Article]:
    articles, errors = read_articles([DEMO])
    if errors or not articles:
        raise SystemExit(f"demo articles unreadable: {errors}")
    return [dataclasses.replace(articles[i % len(articles)], article_id=f"bench-{i}") for i in range(n)]


def _run(corpus: list[Article]) -> tuple[float, int]:
    started = time.perf_counter()
    events = sum(len(extract(a)[0]) for a in corpus)
    return time.perf_counter() - started, events


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 1000
    corpus = _corpus(n)
    lex = extractor.lexicon()
    extract(corpus[0])  # compile once, outside the timings
    fast_seconds, fast_events = _run(corpus)
    naive = dataclasses.replace(
        lex,
        ci_regex=_NaiveGazetteer(sorted(lex.ci_lookup, key=len, reverse=True), re.I),  # type: ignore[arg-type]
        cs_regex=_NaiveGazetteer(sorted(set(lex.cs_lookup) | set(lex.leaders), key=len, reverse=True), 0),  # type: ignore[arg-type]
    )
    original = extractor.lexicon
    extractor.lexicon = lambda: naive  # type: ignore[assignment]
    try:
        naive_seconds, naive_events = _run(corpus)
    finally:
        extractor.lexicon = original
    if naive_events != fast_events:
        raise SystemExit(f"baseline disagrees: {naive_events} vs {fast_events} events")
    chars = sum(len(a.text) for a in corpus)
    print(f"articles: {n} ({chars / 1e6:.2f} M characters, {fast_events} events)")
    print(f"extractor (trie gazetteer): {fast_seconds:.2f} s, {n / fast_seconds:,.0f} articles/s")
    print(f"baseline (regex per surface form): {naive_seconds:.2f} s, {n / naive_seconds:,.0f} articles/s")
    print(f"speed-up: {naive_seconds / fast_seconds:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
