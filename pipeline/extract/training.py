"""Training and cross-validating the learned component (`learned.py`) on a labelled news corpus.

Only the development corpus (`labelled/news_dev.yaml`) is trained on. Each article is read by the rules
alone (`extract_views`), each sentence naming a country gives its candidate pairs (`learned.candidates`),
and each candidate is labelled from the labelled sentence holding it: the relation types the sentence states
for that pair, the modality and the direction of each. Three heads are fitted with scikit-learn's
logistic regression (liblinear, one model per class, fixed settings: deterministic) and written as plain weights.

`cross_validate` splits the articles into folds (article i of the sorted ids goes to fold i mod k), trains on
the other folds and reads each article with the model of its own fold, so every figure it gives comes from
articles the model did not see. scikit-learn is imported only here.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.extract.extractor import extract_views
from pipeline.extract.learned import (
    DIRECTIONS,
    MODEL_PATH,
    Candidate,
    Head,
    Model,
    candidates,
    sentence_features,
    trigger_hits,
)
from pipeline.extract.lexicon import lexicon
from pipeline.extract.news_scoring import NEWS_CORPORA, NewsArticle, as_article, load_corpus, score_corpus
from pipeline.extract.records import MODALITIES, RELATION_TYPES

SETTINGS: dict[str, Any] = {
    "C_relations": 1.0,
    "C_modality": 1.0,
    "C_direction": 1.0,
    "min_count": 2,
    "threshold": 0.8,
    "prune": 0.15,
}


@dataclass
class Example:
    article: str
    sentence: list[str]
    cand: Candidate
    gold: dict[str, list[tuple[str, bool, str]]]  # relation -> [(actor1, directed, modality)]


def examples_of(articles: list[NewsArticle]) -> list[Example]:
    """Every candidate pair of every sentence naming a country, with its labels."""
    out: list[Example] = []
    lex = lexicon()
    for article in articles:
        _, _, views = extract_views(as_article(article), None, None)
        starts = [s.start for s in article.sentences]
        for view, rules in views:
            labelled = article.sentences[max(0, bisect_right(starts, view.start) - 1)]
            hits = trigger_hits(view, lex)
            sent = sentence_features(view, hits)
            for cand in candidates(view, rules, hits):
                gold: dict[str, list[tuple[str, bool, str]]] = {}
                for r in labelled.expected:
                    if r.pair == cand.pair:
                        gold.setdefault(r.relation_type, []).append((r.actor1, r.directed, r.modality))
                out.append(Example(article.id, sent, cand, gold))
    return out


def _rel_feats(relation: str, cand: Candidate) -> list[str]:
    return ["rel:" + relation] + [f"{relation}|{f}" for f in cand.features if f.startswith(("g:", "l:"))]


def _matrix(rows: list[list[str]], vocab: dict[str, int]) -> Any:
    from scipy.sparse import csr_matrix

    indptr, indices = [0], []
    for feats in rows:
        seen = sorted({vocab[f] for f in feats if f in vocab})
        indices.extend(seen)
        indptr.append(len(indices))
    return csr_matrix(([1.0] * len(indices), indices, indptr), shape=(len(rows), len(vocab)))


def _vocab(rows: list[list[str]], min_count: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for feats in rows:
        for f in set(feats):
            counts[f] = counts.get(f, 0) + 1
    kept = sorted(f for f, n in counts.items() if n >= min_count)
    return {f: i for i, f in enumerate(kept)}


def _export(vocab: dict[str, int], coef: Any, intercept: Any, classes: list[str], kind: str, prune: float) -> Head:
    """Plain weights, rounded to 3 decimals; a weight under `prune` in size is dropped (a small file, and the
    scores move by less than the sum of the dropped weights)."""
    weights: dict[str, list[list[float]]] = {}
    for f, i in vocab.items():
        kept = [[k, round(float(coef[k][i]), 3)] for k in range(len(classes)) if abs(float(coef[k][i])) >= prune]
        if kept:
            weights[f] = kept
    return Head(classes, [round(float(b), 3) for b in intercept], weights, kind)


def _binary(x: Any, y: list[int], c_value: float, n_features: int) -> tuple[list[float], float]:
    """One logistic model (liblinear: deterministic for a given input); a class never seen scores -30."""
    from sklearn.linear_model import LogisticRegression

    if not any(y) or all(y):
        return [0.0] * n_features, (-30.0 if not any(y) else 30.0)
    clf = LogisticRegression(C=c_value, solver="liblinear", max_iter=1000)
    clf.fit(x, y)
    return list(clf.coef_[0]), float(clf.intercept_[0])


def fit(examples: list[Example], settings: dict[str, Any] | None = None) -> Model:
    """The three heads fitted on the examples (deterministic: fixed solvers, no random state used)."""
    settings = dict(SETTINGS, **(settings or {}))
    rows = [ex.sentence + ex.cand.features for ex in examples]
    vocab = _vocab(rows, settings["min_count"])
    x = _matrix(rows, vocab)
    coefs, intercepts = [], []
    for relation in RELATION_TYPES:
        w, b = _binary(x, [1 if relation in ex.gold else 0 for ex in examples], settings["C_relations"], len(vocab))
        coefs.append(w)
        intercepts.append(b)
    relations = _export(vocab, coefs, intercepts, list(RELATION_TYPES), "binary", settings["prune"])

    # modality and direction: one row per labelled tie among the candidates
    mod_rows, mod_y, dir_rows, dir_y = [], [], [], []
    for ex in examples:
        for relation, labels in ex.gold.items():
            feats = ex.sentence + ex.cand.features + _rel_feats(relation, ex.cand)
            modalities = {m for _, _, m in labels}
            mod_rows.append(feats)
            mod_y.append("denied" if "denied" in modalities else sorted(modalities)[0])
            actor1, directed, _ = labels[0]
            dir_rows.append(feats)
            dir_y.append("undirected" if not directed else "forward" if actor1 == ex.cand.first else "reverse")
    heads = []
    for rows_h, y_h, classes, c_value in (
        (mod_rows, mod_y, list(MODALITIES), settings["C_modality"]),
        (dir_rows, dir_y, list(DIRECTIONS), settings["C_direction"]),
    ):
        vocab_h = _vocab(rows_h, settings["min_count"])
        x_h = _matrix(rows_h, vocab_h)
        coef_h, bias_h = [], []
        for c in classes:
            w, b = _binary(x_h, [1 if label == c else 0 for label in y_h], c_value, len(vocab_h))
            coef_h.append(w)
            bias_h.append(b)
        heads.append(_export(vocab_h, coef_h, bias_h, classes, "softmax", settings["prune"]))
    thresholds = {"default": settings["threshold"]}
    thresholds.update(settings.get("thresholds", {}))
    return Model(relations, heads[0], heads[1], thresholds, {k: v for k, v in settings.items() if k != "thresholds"})


def folds_of(articles: list[NewsArticle], k: int) -> dict[str, int]:
    return {a.id: i % k for i, a in enumerate(sorted(articles, key=lambda a: a.id))}


def cross_validate(
    path: str | Path = NEWS_CORPORA["dev"], k: int = 5, settings: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The scorecard of `path` where each article is read with a model trained on the other folds only."""
    articles = load_corpus(path)
    examples = examples_of(articles)
    fold = folds_of(articles, k)
    models = {i: fit([ex for ex in examples if fold[ex.article] != i], settings) for i in range(k)}
    name = f"{Path(path).stem.removeprefix('news_')}, rules and learned component, {k}-fold cross-validated"
    return score_corpus(path, name, lambda a: models[fold[a.id]])


def corpus_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def train(path: str | Path = NEWS_CORPORA["dev"], settings: dict[str, Any] | None = None) -> Model:
    """The model trained on the whole corpus (the development articles), stamped with the corpus' digest."""
    model = fit(examples_of(load_corpus(path)), settings)
    model.settings["trained_on"] = Path(path).name
    model.settings["corpus_sha256"] = corpus_digest(path)
    return model


def model_text(model: Model) -> str:
    """The model file: JSON, one line per head's feature, sorted (readable diffs between two trainings)."""
    raw = model.to_json()
    lines = ["{"]
    lines.append(f'"settings": {json.dumps(raw["settings"], sort_keys=True)},')
    lines.append(f'"thresholds": {json.dumps(raw["thresholds"], sort_keys=True)},')
    for n_head, name in enumerate(("relations", "modality", "direction")):
        head = raw[name]
        lines.append(
            f'"{name}": {{"classes": {json.dumps(head["classes"])}, "kind": "{head["kind"]}", '
            f'"bias": {json.dumps(head["bias"])}, "weights": {{'
        )
        items = sorted(head["weights"].items())
        for i, (feature, w) in enumerate(items):
            lines.append(f"{json.dumps(feature)}: {json.dumps(w)}" + ("," if i < len(items) - 1 else ""))
        lines.append("}}" + ("," if n_head < 2 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_model(model: Model, path: str | Path = MODEL_PATH) -> Path:
    path = Path(path)
    path.write_text(model_text(model), encoding="utf-8")
    return path
