"""Stage 10, the learned component: linear models over the rules' output, for the ties the rules miss.

For every sentence (or piece) naming a country, each candidate pair of countries is scored: the pairs of
countries the sentence names (names, demonyms, capitals, leaders, pronouns, plural anaphors), and each
named country with one of the article's two most salient countries not named in the sentence (the party
left implicit: "condemned the launch", "Mr Wang visited ..."). A candidate's features are strings:

- the sentence's words and word pairs, and five-letter stems, with every country mention replaced by
  `<C>` (computed once per sentence);
- the words between the pair's two closest mentions (at most `WINDOW` from each side), the words just
  before the first and after the second, the kind of each mention (name, leader, pronoun, implicit ...),
  the number of countries in the sentence;
- what the rules found: the relation types (and modality, direction) the rules give this pair, and those
  they give other pairs of the sentence.

Three heads, each a linear model (`pipeline/extract/data/news_relations_model.json`, built by
`scripts/train_news_relations.py` from the labelled development articles alone): `relations` (one logistic
model per relation type: is this tie stated?), `modality` (realized, planned, alleged, denied) and
`direction` (forward = the first mentioned country acts, reverse, undirected). Inference is a sum of
weights per feature: no library beyond the standard one.

How the heads are combined with the rules (`combine`): the rules' ties are kept, and a tie the
relations head scores above its threshold is added. Safety rules keep the rules' judgement where it is
the stricter one: a denial or another non-realized modality found by the rules is never overruled to
realized; a pair to which the rules give ties of one polarity (cooperation, coercion) gets no added tie of
the other polarity; an added tie whose modality the model is unsure of (realized below `REALIZED_MIN`) is
not counted as realized.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.extract.actors import Mention
from pipeline.extract.lexicon import DATA, Lexicon

MODEL_PATH = DATA / "news_relations_model.json"
WINDOW = 8  # words taken from each side of the gap between a pair's mentions, and around them
MAX_COUNTRIES = 10  # pairs are formed among at most this many countries of a sentence (its first ones)
IMPLICIT = 2  # the article's most salient countries offered as an implicit party
COERCION = frozenset(["sanctions", "criticism", "threat", "use_of_force"])
DIRECTIONS = ("forward", "reverse", "undirected")
UNDIRECTED_ALWAYS = frozenset(["agreement", "financial_integration"])

_TOKEN = re.compile(r"[A-Za-z]+(?:['’][a-z]+)?|\d+|[^\sA-Za-z\d]")


def polarity(relation: str) -> str:
    return "coercion" if relation in COERCION else "cooperation"


@dataclass
class SentenceView:
    """One sentence (or piece) as the extractor read it: its place, its mentions and the article's countries
    named before it (most salient first)."""

    index: int
    start: int
    text: str
    mentions: list[Mention]
    salient: list[str]


@dataclass(frozen=True)
class RuleTie:
    actor1: str
    actor2: str
    relation: str
    directed: bool
    modality: str

    @property
    def pair(self) -> tuple[str, str]:
        return (self.actor1, self.actor2) if self.actor1 < self.actor2 else (self.actor2, self.actor1)


@dataclass
class Candidate:
    """A pair of countries in one sentence: `first` is mentioned first (or is the named one when the other is
    implicit), with the mention of each (None for an implicit party)."""

    first: str
    second: str
    first_mention: Mention
    second_mention: Mention | None
    features: list[str] = field(default_factory=list)

    @property
    def pair(self) -> tuple[str, str]:
        return (self.first, self.second) if self.first < self.second else (self.second, self.first)


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def _masked_tokens(text: str, mentions: Sequence[Mention], start: int, end: int) -> list[str]:
    """Tokens of text[start:end] with every mention inside replaced by `<C>`."""
    out: list[str] = []
    position = start
    for m in mentions:
        if m.end <= start or m.start >= end:
            continue
        if m.start > position:
            out.extend(_tokens(text[position : m.start]))
        out.append("<C>")
        position = max(position, m.end)
    if position < end:
        out.extend(_tokens(text[position:end]))
    return out


def trigger_hits(view: SentenceView, lex: Lexicon) -> list[tuple[int, int, str]]:
    """(start, end, name) of every trigger of the rules' lexicon and every object class in the sentence, found
    even where the rules could not assign the roles: the words that name a relation, whoever its parties."""
    hits = []
    for trig in lex.triggers:
        for match in trig["regex"].finditer(view.text):
            hits.append((match.start(), match.end(), "T:" + trig["name"]))
    for name, regex in lex.object_classes.items():
        for match in regex.finditer(view.text):
            hits.append((match.start(), match.end(), "O:" + name))
    hits.sort()
    return hits


def sentence_features(view: SentenceView, hits: list[tuple[int, int, str]] | None = None) -> list[str]:
    """Features of the sentence as a whole (the same for all its candidates)."""
    words = _masked_tokens(view.text, view.mentions, 0, len(view.text))
    feats = {"bias"}
    for _, _, name in hits or ():
        feats.add(name)
    previous = "^"
    for w in words:
        feats.add("w:" + w)
        if len(w) > 5 and w.isalpha():
            feats.add("s:" + w[:5])
        feats.add("b:" + previous + "_" + w)
        previous = w
    return sorted(feats)


def _window_features(prefix: str, words: list[str]) -> Iterable[str]:
    previous = "^"
    for w in words:
        yield prefix + w
        if len(w) > 5 and w.isalpha():
            yield prefix + "s:" + w[:5]
        yield prefix + previous + "_" + w
        previous = w


def _kind(m: Mention | None) -> str:
    if m is None:
        return "implicit"
    if m.compound:
        return "compound"
    return m.kind


def _pair_features(
    view: SentenceView, cand: Candidate, rules: list[RuleTie], n_countries: int, hits: list[tuple[int, int, str]]
) -> list[str]:
    text, mentions = view.text, view.mentions
    a, b = cand.first_mention, cand.second_mention
    feats: list[str] = [f"k1:{_kind(a)}", f"k2:{_kind(b)}", f"n:{min(n_countries, 5)}"]
    # where the relation words stand against the pair: between its mentions, before, after (nearest only)
    low, high = a.start, (b.end if b is not None else a.end)
    lo_i, hi_i = bisect_left(hits, (low,)), bisect_left(hits, (high,))
    for _, _, name in hits[lo_i:hi_i]:
        feats.append("Tg:" + name)
    for _, _, name in hits[max(0, lo_i - 2) : lo_i]:
        feats.append("Tb:" + name)
    for _, _, name in hits[hi_i : hi_i + 2]:
        feats.append("Ta:" + name)
    if a.possessive:
        feats.append("pos1")
    if a.prep:
        feats.append("p1:" + a.prep)
    if a.speaker:
        feats.append("spk1")
    before = _masked_tokens(text, mentions, max(0, a.start - 80), a.start)[-3:]
    feats.extend(_window_features("l:", before))
    if b is None:
        after = _masked_tokens(text, mentions, a.end, min(len(text), a.end + 80))[:4]
        feats.extend(_window_features("ra:", after))
    else:
        if b.possessive:
            feats.append("pos2")
        if b.prep:
            feats.append("p2:" + b.prep)
        if b.speaker:
            feats.append("spk2")
        if b.conj_prev:
            feats.append("conj2")
        gap_start, gap_end = a.end, b.start
        # at most WINDOW words from each side of the gap: bounded work per candidate whatever the sentence
        head = _masked_tokens(text, mentions, gap_start, min(gap_end, gap_start + 12 * WINDOW))[:WINDOW]
        tail = _masked_tokens(text, mentions, max(gap_start, gap_end - 12 * WINDOW), gap_end)[-WINDOW:]
        n_gap = len(_masked_tokens(text, mentions, gap_start, min(gap_end, gap_start + 12 * 3 * WINDOW)))
        feats.append("gap:" + ("0" if n_gap == 0 else "1-3" if n_gap <= 3 else "4-8" if n_gap <= 8 else "far"))
        feats.extend(_window_features("g:", head))
        if tail != head:
            feats.extend(_window_features("g:", tail))
        after = _masked_tokens(text, mentions, b.end, min(len(text), b.end + 80))[:3]
        feats.extend(_window_features("r:", after))
    pair = cand.pair
    mine = [r for r in rules if r.pair == pair]
    for r in mine:
        feats.append("R:" + r.relation)
        feats.append(f"R:{r.relation}:{r.modality}")
        feats.append("Rpol:" + polarity(r.relation))
    if not mine:
        feats.append("R:none")
    for r in rules:
        if r.pair != pair:
            feats.append("RS:" + r.relation)
    return feats


def candidates(view: SentenceView, rules: list[RuleTie], hits: list[tuple[int, int, str]]) -> list[Candidate]:
    """The candidate pairs of one sentence with their features (the sentence-wide ones are kept apart)."""
    order: list[str] = []
    best: dict[str, Mention] = {}
    for m in view.mentions:
        if m.iso3 not in best:
            order.append(m.iso3)
            best[m.iso3] = m
        elif best[m.iso3].compound and not m.compound:
            best[m.iso3] = m
    order = order[:MAX_COUNTRIES]
    by_country: dict[str, list[Mention]] = {}
    for m in view.mentions:
        if m.iso3 in best:
            by_country.setdefault(m.iso3, []).append(m)
    out: list[Candidate] = []
    for i, x in enumerate(order):
        for y in order[i + 1 :]:
            mx, my = _closest(by_country[x], by_country[y])
            first, second = (mx, my) if mx.start <= my.start else (my, mx)
            out.append(Candidate(first.iso3, second.iso3, first, second))
    implicit = [c for c in view.salient if c not in best][:IMPLICIT]
    for x in order:
        for y in implicit:
            out.append(Candidate(x, y, best[x], None))
    n = len(order)
    for cand in out:
        cand.features = _pair_features(view, cand, rules, n, hits)
    return out


def _closest(xs: list[Mention], ys: list[Mention]) -> tuple[Mention, Mention]:
    """The two mentions, one of each country, nearest each other (bounded: the first 8 of each)."""
    best = (xs[0], ys[0])
    distance = math.inf
    for mx in xs[:8]:
        for my in ys[:8]:
            d = abs(mx.start - my.start)
            if d < distance:
                best, distance = (mx, my), d
    return best


# --- the linear heads ------------------------------------------------------------------------------------


@dataclass
class Head:
    classes: list[str]
    bias: list[float]
    weights: dict[str, list[list[float]]]  # feature -> [[class index, weight], ...] (the weights kept)
    kind: str  # "binary" (one logistic model per class) or "softmax" (over one-against-the-rest scores)

    def raw(self, *feature_lists: Iterable[str]) -> list[float]:
        scores = list(self.bias)
        for feats in feature_lists:
            for f in feats:
                for i, v in self.weights.get(f, ()):
                    scores[int(i)] += v
        return scores

    def probabilities(self, *feature_lists: Iterable[str]) -> dict[str, float]:
        scores = self.raw(*feature_lists)
        if self.kind == "binary":
            return {
                c: 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, s)))) for c, s in zip(self.classes, scores, strict=True)
            }
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}


@dataclass
class Model:
    relations: Head
    modality: Head
    direction: Head
    thresholds: dict[str, float]
    settings: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "thresholds": self.thresholds,
            **{
                name: {"classes": h.classes, "kind": h.kind, "bias": h.bias, "weights": h.weights}
                for name, h in self.heads().items()
            },
        }

    def heads(self) -> dict[str, Head]:
        return {"relations": self.relations, "modality": self.modality, "direction": self.direction}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Model:
        heads = {
            name: Head(list(h["classes"]), list(h["bias"]), dict(h["weights"]), h["kind"])
            for name, h in ((n, raw[n]) for n in ("relations", "modality", "direction"))
        }
        return cls(heads["relations"], heads["modality"], heads["direction"], dict(raw["thresholds"]), raw["settings"])


@lru_cache(maxsize=1)
def default_model() -> Model | None:
    """The committed model, or None when the file is absent (the rules alone then)."""
    path = Path(MODEL_PATH)
    if not path.exists():
        return None
    return Model.from_json(json.loads(path.read_text(encoding="utf-8")))


REALIZED_MIN = 0.5


@dataclass(frozen=True)
class LearnedTie:
    first: str
    second: str
    relation: str
    directed: bool
    actor1: str  # the acting country (first of the pair when undirected)
    modality: str
    probability: float
    first_mention: Mention
    second_mention: Mention | None


def sentence_hedge(text: str, lex: Lexicon) -> str:
    """The first modality (denied, planned, alleged) whose cue stands anywhere in the sentence, '' if none: an
    added tie is never realized in a sentence that denies, plans or reports. For alleged only the explicit
    hedges (reportedly, allegedly, according to ...) count, not every "said"."""
    for modality in lex.modality_priority:
        patterns = lex.modality_before.get(modality, [])
        if modality == "alleged":
            patterns = patterns[:2]
        if any(p.search(text) for p in patterns):
            return modality
    return ""


def learned_ties(view: SentenceView, rules: list[RuleTie], model: Model, lex: Lexicon) -> list[LearnedTie]:
    """The ties the model adds to one sentence, with the safety rules of the module docstring applied."""
    hits = trigger_hits(view, lex)
    sent = sentence_features(view, hits)
    out: list[LearnedTie] = []
    rule_keys = {(r.pair, r.relation) for r in rules}
    hedge = sentence_hedge(view.text, lex)
    for cand in candidates(view, rules, hits):
        probs = model.relations.probabilities(sent, cand.features)
        pair_rules = [r for r in rules if r.pair == cand.pair]
        polarities = {polarity(r.relation) for r in pair_rules}
        for relation, p in probs.items():
            if p < model.thresholds.get(relation, model.thresholds["default"]):
                continue
            if (cand.pair, relation) in rule_keys:
                continue  # the rules' own tie stands
            if polarities and polarity(relation) not in polarities:
                continue  # never invert the polarity the rules read for this pair
            rel_feats = ["rel:" + relation] + [f"{relation}|{f}" for f in cand.features if f.startswith(("g:", "l:"))]
            moods = model.modality.probabilities(sent, cand.features, rel_feats)
            modality = max(moods, key=lambda k: (moods[k], k))
            if modality == "realized" and (moods["realized"] < REALIZED_MIN or hedge):
                modality = hedge or max((k for k in moods if k != "realized"), key=lambda k: (moods[k], k))
            if relation in UNDIRECTED_ALWAYS:
                direction = "undirected"
            else:
                dirs = model.direction.probabilities(sent, cand.features, rel_feats)
                direction = max(dirs, key=lambda k: (dirs[k], k))
            actor1 = cand.second if direction == "reverse" else cand.first
            out.append(
                LearnedTie(
                    cand.first,
                    cand.second,
                    relation,
                    direction != "undirected",
                    actor1,
                    modality,
                    p,
                    cand.first_mention,
                    cand.second_mention,
                )
            )
    return out
