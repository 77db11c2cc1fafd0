"""The extractor's scorecard on labelled news articles (`labelled/news_dev.yaml`, `labelled/news_heldout.yaml`).

Each labelled article is run through `extract` whole (paragraphs joined by blank lines, sentences by a
space), so a reference across sentences ("the two governments") can be resolved; each event is then
assigned to the labelled sentence holding its offset and compared, sentence by sentence, with that
sentence's expected ties. Measures:

- (pair, relation type): precision, recall, F1, overall and per relation type; also with the modality;
- the confusion between relation types: per sentence and unordered pair, an expected relation matched by
  none and a predicted one matched by none are paired up (a confusion), the rest is a miss (`none`
  predicted) or a spurious tie (`none` expected);
- false realized ties: a predicted realized tie whose (pair, relation type) is labelled planned, alleged
  or denied in that sentence, and, apart, spurious realized ties (labelled nowhere in the sentence);
- polarity inversions: a predicted tie of one polarity (cooperation: the transfers, cooperation,
  agreement, support and alignment types; coercion: sanctions, criticism, threat, use of force) for a
  pair the sentence labels only with ties of the other polarity;
- denial marking: of the labelled denied ties found with their relation type, the share marked denied;
- direction accuracy on matched directed ties.

`python -m pipeline.extract.news_scoring [FILE...] [--errors]` prints the tables (the two corpora by
default); `pipeline extract --score FILE` does the same for one corpus file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.extract.articles import Article
from pipeline.extract.extractor import DEFAULT_MODEL, extract
from pipeline.extract.records import MODALITIES, RELATION_TYPES
from pipeline.extract.scoring import LABELLED, Record, _prf, _record, prf_table

NEWS_CORPORA = {"dev": LABELLED / "news_dev.yaml", "heldout": LABELLED / "news_heldout.yaml"}
COERCION = frozenset(["sanctions", "criticism", "threat", "use_of_force"])
NONE = "none"


def polarity(relation: str) -> str:
    return "coercion" if relation in COERCION else "cooperation"


@dataclass(frozen=True)
class NewsSentence:
    index: int  # position in the article
    start: int  # offsets in the article text
    end: int
    text: str
    expected: tuple[Record, ...]


@dataclass(frozen=True)
class NewsArticle:
    id: str
    published: dt.date
    title: str
    text: str
    sentences: tuple[NewsSentence, ...]


def load_corpus(path: str | Path) -> list[NewsArticle]:
    """The articles of a labelled news corpus, each with its text rebuilt and its sentences' offsets."""
    path = Path(path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ValueError(f"{path}: a labelled news corpus is a list of articles")
    articles: list[NewsArticle] = []
    seen: set[str] = set()
    for item in raw:
        art_id = str(item["id"])
        if art_id in seen:
            raise ValueError(f"{path}: article {art_id} given twice")
        seen.add(art_id)
        published = item["published"]
        if isinstance(published, str):
            published = dt.date.fromisoformat(published)
        parts: list[str] = []
        sentences: list[NewsSentence] = []
        position = 0
        for p_index, paragraph in enumerate(item["paragraphs"]):
            if p_index:
                parts.append("\n\n")
                position += 2
            for s_index, sentence in enumerate(paragraph):
                if s_index:
                    parts.append(" ")
                    position += 1
                text = str(sentence["text"]).strip()
                where = f"{art_id} sentence {len(sentences)}"
                expected = tuple(_record(r, where) for r in sentence.get("expected") or ())
                sentences.append(NewsSentence(len(sentences), position, position + len(text), text, expected))
                parts.append(text)
                position += len(text)
        articles.append(NewsArticle(art_id, published, str(item.get("title") or ""), "".join(parts), tuple(sentences)))
    return articles


def as_article(article: NewsArticle) -> Article:
    """The labelled article as the extractor's input."""
    return Article(
        article_id=hashlib.sha1(article.id.encode()).hexdigest(),
        url=None,
        title=article.title,
        publisher=None,
        published_at=article.published,
        text=article.text,
        text_sha256=hashlib.sha256(article.text.encode()).hexdigest(),
        file=f"{article.id}.labelled",
    )


def predict_article(article: NewsArticle, model: Any = DEFAULT_MODEL) -> list[list[Record]]:
    """The extractor's ties per labelled sentence of one article (an event goes to the sentence holding its
    start offset). `model`: the learned component to use (the committed one by default, None for the rules
    alone)."""
    events, _ = extract(as_article(article), None, model)
    starts = [s.start for s in article.sentences]
    per_sentence: list[list[Record]] = [[] for _ in article.sentences]
    for e in events:
        index = max(0, bisect_right(starts, e.char_start) - 1)
        record = Record(e.actor1_iso3, e.actor2_iso3, e.relation_type, e.directed, e.modality)
        if record not in per_sentence[index]:
            per_sentence[index].append(record)
    return per_sentence


def score_corpus(
    path: str | Path, name: str | None = None, model_for: Callable[[NewsArticle], Any] | None = None
) -> dict[str, Any]:
    """The scorecard of one labelled news corpus (see the module docstring). `model_for(article)`: the learned
    component to read each article with (cross-validation gives each article the model of its fold); the
    committed one by default."""
    articles = load_corpus(path)
    totals: dict[str, list[int]] = {}
    confusion: Counter[tuple[str, str]] = Counter()
    errors: list[str] = []
    false_realized: list[str] = []
    spurious_realized = 0
    inversions: list[str] = []
    denied_found = denied_marked = 0
    direction_right = direction_n = 0
    n_sentences = n_expected = 0

    def add(key: str, gold: set[Any], pred: set[Any]) -> None:
        acc = totals.setdefault(key, [0, 0, 0])
        acc[0] += len(gold & pred)
        acc[1] += len(pred)
        acc[2] += len(gold)

    for article in articles:
        model = model_for(article) if model_for is not None else DEFAULT_MODEL
        for sentence, pred in zip(article.sentences, predict_article(article, model), strict=True):
            n_sentences += 1
            gold = list(sentence.expected)
            n_expected += len(gold)
            where = f"{article.id}#{sentence.index}"
            g_rel = {(r.pair, r.relation_type) for r in gold}
            p_rel = {(r.pair, r.relation_type) for r in pred}
            add("pair + relation type", g_rel, p_rel)
            add(
                "pair + relation type + modality",
                {(r.pair, r.relation_type, r.modality) for r in gold},
                {(r.pair, r.relation_type, r.modality) for r in pred},
            )
            add("pair", {r.pair for r in gold}, {r.pair for r in pred})
            for relation in RELATION_TYPES:
                add(
                    f"relation: {relation}",
                    {k for k in g_rel if k[1] == relation},
                    {k for k in p_rel if k[1] == relation},
                )
            for modality in MODALITIES:
                add(
                    f"modality: {modality}",
                    {(r.pair, r.relation_type) for r in gold if r.modality == modality},
                    {(r.pair, r.relation_type) for r in pred if r.modality == modality},
                )
            # confusion between relation types, per pair
            for pair in {k[0] for k in g_rel | p_rel}:
                g_only = sorted(k[1] for k in g_rel - p_rel if k[0] == pair)
                p_only = sorted(k[1] for k in p_rel - g_rel if k[0] == pair)
                for k in g_rel & p_rel:
                    if k[0] == pair:
                        confusion[(k[1], k[1])] += 1
                while g_only and p_only:
                    g, p = g_only.pop(0), p_only.pop(0)
                    confusion[(g, p)] += 1
                    errors.append(f"{where} confused {pair} expected {g}, got {p}: {sentence.text[:160]}")
                for g in g_only:
                    confusion[(g, NONE)] += 1
                    errors.append(f"{where} missed {pair} {g}: {sentence.text[:160]}")
                for p in p_only:
                    confusion[(NONE, p)] += 1
                    errors.append(f"{where} spurious {pair} {p}: {sentence.text[:160]}")
                g_pol = {polarity(k[1]) for k in g_rel if k[0] == pair}
                for p in {k[1] for k in p_rel if k[0] == pair}:
                    if g_pol and polarity(p) not in g_pol:
                        inversions.append(f"{where} {pair} read as {p}, labelled {sorted(g_pol)}")
            for p in pred:
                labels = [g for g in gold if g.pair == p.pair and g.relation_type == p.relation_type]
                if p.modality == "realized":
                    if not labels:
                        spurious_realized += 1
                    elif all(g.modality != "realized" for g in labels):
                        false_realized.append(
                            f"{where} {p.pair} {p.relation_type} realized, labelled {labels[0].modality}: "
                            f"{sentence.text[:160]}"
                        )
            for g in gold:
                matches = [p for p in pred if p.pair == g.pair and p.relation_type == g.relation_type]
                if not matches:
                    continue
                if g.modality == "denied":
                    denied_found += 1
                    denied_marked += any(p.modality == "denied" for p in matches)
                if not any(p.modality == g.modality for p in matches):
                    errors.append(
                        f"{where} modality {matches[0].modality} != {g.modality} for {g.pair} {g.relation_type}: "
                        f"{sentence.text[:160]}"
                    )
                best = next((p for p in matches if p.modality == g.modality), matches[0])
                if g.directed and best.directed:
                    direction_n += 1
                    direction_right += best.actor1 == g.actor1
                    if best.actor1 != g.actor1:
                        errors.append(f"{where} direction {best.actor1}->{best.actor2} != {g.actor1}->{g.actor2}")
    return {
        "name": name or Path(path).stem,
        "articles": len(articles),
        "sentences": n_sentences,
        "expected": n_expected,
        "rows": {key: _prf(*acc) for key, acc in totals.items()},
        "confusion": dict(confusion),
        "false_realized": false_realized,
        "spurious_realized": spurious_realized,
        "inversions": inversions,
        "denials": {"found": denied_found, "marked": denied_marked},
        "direction": {"accuracy": direction_right / direction_n if direction_n else 1.0, "n": direction_n},
        "errors": errors,
    }


def render(result: dict[str, Any]) -> str:
    """Markdown: the per-class scorecard, then the checks (false realized, inversions, denials, direction)."""
    lines = [
        f"#### {result['name']}: {result['articles']} articles, {result['sentences']} sentences, "
        f"{result['expected']} expected ties",
        "",
        *prf_table(result["rows"]),
    ]
    d, den = result["direction"], result["denials"]
    lines += [
        "",
        f"- false realized ties (labelled planned, alleged or denied, predicted realized): "
        f"{len(result['false_realized'])}; spurious realized ties (not labelled at all): "
        f"{result['spurious_realized']}",
        f"- polarity inversions (cooperation read as coercion or the reverse): {len(result['inversions'])}",
        f"- denials marked: {den['marked']} of {den['found']} labelled denied ties found",
        f"- direction accuracy on matched directed ties: {d['accuracy']:.3f} ({d['n']})",
    ]
    return "\n".join(lines)


def render_confusion(result: dict[str, Any]) -> str:
    """Markdown confusion table: rows the labelled relation type, columns the predicted one."""
    labels = [r for r in RELATION_TYPES] + [NONE]
    short = {r: r.replace("_cooperation", "_coop").replace("_transfer", "").replace("_", " ") for r in labels}
    lines = [
        "| expected \\ predicted | " + " | ".join(short[r] for r in labels) + " |",
        "|---|" + "---:|" * len(labels),
    ]
    for g in labels:
        if g == NONE and not any(result["confusion"].get((NONE, p)) for p in labels):
            continue
        cells = [str(result["confusion"].get((g, p), "")) if g != p or g != NONE else "" for p in labels]
        lines.append(f"| {short[g]} | " + " | ".join(c or "." for c in cells) + " |")
    return "\n".join(lines)


def news_scorecard() -> str:
    """The block docs/extractor.md embeds: the development articles read by the rules alone, then by the rules
    and the learned component with 5-fold cross-validation (each article read by a model that never saw it),
    then the held-out articles read by the committed extractor (rules and the model trained on all the
    development articles); each with its per-class scorecard and confusion table."""
    from pipeline.extract.training import cross_validate

    results = [
        score_corpus(NEWS_CORPORA["dev"], "dev, the rules alone", lambda a: None),
        cross_validate(NEWS_CORPORA["dev"], 5),
        score_corpus(NEWS_CORPORA["heldout"], "heldout, rules and learned component"),
    ]
    return "\n\n".join(render(r) + "\n\n" + render_confusion(r) for r in results) + "\n"


def main(argv: list[str]) -> int:
    show_errors = "--errors" in argv
    files = [a for a in argv if not a.startswith("--")]
    targets = [(Path(f), None) for f in files] or [(p, n) for n, p in NEWS_CORPORA.items()]
    for path, name in targets:
        result = score_corpus(path, name)
        print(render(result))
        print()
        print(render_confusion(result))
        print()
        if show_errors:
            for line in result["false_realized"]:
                print(f"false realized: {line}")
            for line in result["inversions"]:
                print(f"inversion: {line}")
            for line in result["errors"]:
                print(line)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
