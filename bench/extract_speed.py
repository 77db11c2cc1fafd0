r"""Speed of the article event extractor, each figure against a baseline measured in the same run.

1. Throughput: articles per second over N articles built by replicating the demo articles, against a
   baseline that matches the gazetteer with one regex per surface form (a naive per-pattern loop)
   instead of the trie-compiled regexes; and the same articles read by the rules alone, without the
   learned component (`pipeline/extract/learned.py`).
2. Text without sentence ends (issue 11, point 3): the demo articles' text with `.`, `!` and `?`
   removed, on one line, at 10 KB, 40 KB, 80 KB and 2 MB: one sentence, read in pieces of at most
   `MAX_SENTENCE_CHARS`. The baseline is a plain regex tokenisation (`\w+|[^\w\s]`) of the same text; the
   ratio extractor/tokenisation stays flat when the work is linear in the length. The same 2 MB with its
   sentence ends is timed too.

    .venv/bin/python bench/extract_speed.py [N] [--sizes 10000,40000,80000,2000000]   # the defaults
"""

from __future__ import annotations

import dataclasses
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pipeline.extract.extractor as extractor
from pipeline.extract import MAX_SENTENCE_CHARS, Article, SentenceCut, extract, read_articles
from pipeline.extract.extractor import DEFAULT_MODEL
from pipeline.extract.lexicon import lexicon

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


def _run(corpus: list[Article], model: object = DEFAULT_MODEL) -> tuple[float, int]:
    started = time.perf_counter()
    events = sum(len(extract(a, None, model)[0]) for a in corpus)
    return time.perf_counter() - started, events


_TOKEN = re.compile(r"\w+|[^\w\s]")


def _timed(article: Article) -> tuple[float, int, int]:
    """Seconds, events and sentence cuts of one article."""
    cuts: list[SentenceCut] = []
    started = time.perf_counter()
    events, _ = extract(article, cuts)
    return time.perf_counter() - started, len(events), sum(c.pieces for c in cuts)


def _long_text(sizes: list[int]) -> None:
    articles, _ = read_articles([DEMO])
    body = " ".join(a.text.replace("\n", " ") for a in articles)
    flat = re.sub(r"\s+", " ", re.sub(r"[.!?]", "", body))
    template = articles[0]
    print(f"\ntext without sentence ends (demo articles, '.', '!' and '?' removed, one line; pieces of at most "
          f"{MAX_SENTENCE_CHARS:,} characters)")
    print(f"{'size':>10} {'extractor':>11} {'s per MB':>9} {'pieces':>7} {'events':>7} {'tokenise':>10} {'ratio':>7}")
    for size in sizes:
        text = (flat * (size // len(flat) + 1))[:size]
        article = dataclasses.replace(template, article_id=f"long-{size}", text=text)
        seconds, events, pieces = _timed(article)
        repeats = max(1, 1_000_000 // size)  # a small text is tokenised several times for a stable figure
        started = time.perf_counter()
        for _ in range(repeats):
            _TOKEN.findall(text)
        tokenise = (time.perf_counter() - started) / repeats
        print(f"{size / 1000:>7,.0f} KB {seconds:>9.2f} s {seconds / size * 1e6:>9.2f} {pieces:>7} {events:>7} "
              f"{tokenise:>8.4f} s {seconds / tokenise:>6.0f}x")
    size = max(sizes)
    with_stops = (re.sub(r"\s+", " ", body) * (size // len(body) + 1))[:size]
    seconds, events, _ = _timed(dataclasses.replace(template, article_id="stops", text=with_stops))
    print(f"same demo text with its sentence ends, {size / 1000:,.0f} KB: {seconds:.2f} s "
          f"({seconds / size * 1e6:.2f} s per MB, {events} events)")


def main(argv: list[str]) -> int:
    sizes = [10_000, 40_000, 80_000, 2_000_000]
    if "--sizes" in argv:
        at = argv.index("--sizes")
        sizes = [int(x) for x in argv[at + 1].split(",")]
        argv = argv[:at] + argv[at + 2 :]
    n = int(argv[1]) if len(argv) > 1 else 1000
    corpus = _corpus(n)
    lex = lexicon()
    extract(corpus[0])  # compile once, outside the timings
    fast_seconds, fast_events = _run(corpus)
    rules_seconds, rules_events = _run(corpus, None)
    naive = dataclasses.replace(
        lex,
        ci_regex=_NaiveGazetteer(sorted(lex.ci_lookup, key=len, reverse=True), re.I),  # type: ignore[arg-type]
        cs_regex=_NaiveGazetteer(sorted(set(lex.cs_lookup) | set(lex.leaders), key=len, reverse=True), 0),  # type: ignore[arg-type]
    )
    original = extractor.lexicon  # the name extract() reads the lexicon through
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
    print(f"the rules alone (no learned component): {rules_seconds:.2f} s, {n / rules_seconds:,.0f} articles/s, "
          f"{rules_events} events; the learned component costs {fast_seconds / rules_seconds:.2f}x")
    _long_text(sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
