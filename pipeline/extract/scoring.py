"""The extractor's accuracy scorecard over the labelled sentences in `pipeline/extract/labelled/`.

`score(split)` compares extracted events with the expected records of `dev.yaml` (used for tuning),
`heldout.yaml` (written before the rules and never tuned on) or both, and returns precision, recall
and F1 for: the dyad (both countries right, unordered), dyad + relation type, dyad + relation type +
modality, each relation type and each modality, plus direction accuracy on matched directed events
and modality accuracy on matched events. `python -m pipeline.extract.scoring` prints the tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.extract.articles import Article
from pipeline.extract.extractor import extract
from pipeline.extract.records import MODALITIES, RELATION_TYPES

LABELLED = Path(__file__).resolve().parent / "labelled"
SPLITS = {"dev": ("dev.yaml",), "heldout": ("heldout.yaml",), "all": ("dev.yaml", "heldout.yaml")}


@dataclass(frozen=True)
class Record:
    actor1: str
    actor2: str
    relation_type: str
    directed: bool
    modality: str

    @property
    def pair(self) -> tuple[str, str]:
        return tuple(sorted((self.actor1, self.actor2)))  # type: ignore[return-value]


@dataclass(frozen=True)
class Item:
    id: str
    published: dt.date
    text: str
    expected: tuple[Record, ...]


def _record(raw: Any, item_id: str) -> Record:
    if isinstance(raw, list | tuple):
        actor1, actor2, relation, directed, modality = raw
    else:
        actor1, actor2 = raw["actor1"], raw["actor2"]
        relation, directed, modality = raw["relation_type"], raw["directed"], raw["modality"]
    if relation not in RELATION_TYPES or modality not in MODALITIES or not isinstance(directed, bool):
        raise ValueError(f"labelled item {item_id}: bad expected record {raw!r}")
    return Record(str(actor1), str(actor2), str(relation), directed, str(modality))


def load_items(split: str = "all") -> list[Item]:
    items: list[Item] = []
    for name in SPLITS[split]:
        for raw in yaml.safe_load((LABELLED / name).read_text(encoding="utf-8")):
            items.append(
                Item(
                    id=str(raw["id"]),
                    published=raw["published"],
                    text=str(raw["text"]),
                    expected=tuple(_record(r, raw["id"]) for r in raw.get("expected") or ()),
                )
            )
    ids = [i.id for i in items]
    if len(ids) != len(set(ids)):
        raise ValueError("labelled items: duplicate ids")
    return items


def predict(item: Item) -> list[Record]:
    article = Article(
        article_id=hashlib.sha1(item.id.encode()).hexdigest(),
        url=None,
        title=item.id,
        publisher=None,
        published_at=item.published,
        text=item.text,
        text_sha256=hashlib.sha256(item.text.encode()).hexdigest(),
        file=f"{item.id}.labelled",
    )
    events, _ = extract(article)
    return [Record(e.actor1_iso3, e.actor2_iso3, e.relation_type, e.directed, e.modality) for e in events]


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float | int]:
    precision = tp / n_pred if n_pred else 1.0
    recall = tp / n_gold if n_gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "predicted": n_pred, "expected": n_gold}


def _count(gold: Iterable[Any], pred: Iterable[Any]) -> tuple[int, int, int]:
    g, p = set(gold), set(pred)
    return len(g & p), len(p), len(g)


def score(split: str = "all") -> dict[str, Any]:
    """Scorecard of one split: {'sentences', 'rows': {measure: prf}, 'direction': ..., 'modality_accuracy': ...}."""
    totals: dict[str, list[int]] = {}
    direction_right = direction_n = modality_right = modality_n = 0
    items = load_items(split)
    errors: list[str] = []

    def add(name: str, gold: Iterable[Any], pred: Iterable[Any]) -> None:
        tp, n_pred, n_gold = _count(gold, pred)
        acc = totals.setdefault(name, [0, 0, 0])
        acc[0] += tp
        acc[1] += n_pred
        acc[2] += n_gold

    for item in items:
        gold, pred = list(item.expected), predict(item)
        add("dyad", (r.pair for r in gold), (r.pair for r in pred))
        add(
            "dyad + relation type", ((r.pair, r.relation_type) for r in gold), ((r.pair, r.relation_type) for r in pred)
        )
        add(
            "dyad + relation type + modality",
            ((r.pair, r.relation_type, r.modality) for r in gold),
            ((r.pair, r.relation_type, r.modality) for r in pred),
        )
        for relation in RELATION_TYPES:
            add(
                f"relation: {relation}",
                (r.pair for r in gold if r.relation_type == relation),
                (r.pair for r in pred if r.relation_type == relation),
            )
        for modality in MODALITIES:
            add(
                f"modality: {modality}",
                ((r.pair, r.relation_type) for r in gold if r.modality == modality),
                ((r.pair, r.relation_type) for r in pred if r.modality == modality),
            )
        for g in gold:
            matches = [p for p in pred if p.pair == g.pair and p.relation_type == g.relation_type]
            if not matches:
                errors.append(f"{item.id} missed {g}")
                continue
            p = next((m for m in matches if m.modality == g.modality), matches[0])
            modality_n += 1
            modality_right += p.modality == g.modality
            if p.modality != g.modality:
                errors.append(f"{item.id} modality {p.modality} != {g.modality} for {g}")
            if g.directed and p.directed:
                direction_n += 1
                direction_right += p.actor1 == g.actor1
                if p.actor1 != g.actor1:
                    errors.append(f"{item.id} direction {p.actor1}->{p.actor2} != {g.actor1}->{g.actor2}")
        for p in pred:
            if not any(g.pair == p.pair and g.relation_type == p.relation_type for g in gold):
                errors.append(f"{item.id} spurious {p}")
    return {
        "split": split,
        "sentences": len(items),
        "expected_records": sum(len(i.expected) for i in items),
        "rows": {name: _prf(*acc) for name, acc in totals.items()},
        "direction": {"accuracy": direction_right / direction_n if direction_n else 1.0, "n": direction_n},
        "modality_accuracy": {"accuracy": modality_right / modality_n if modality_n else 1.0, "n": modality_n},
        "errors": errors,
    }


def prf_table(rows: dict[str, dict[str, Any]]) -> list[str]:
    """The Markdown lines of a precision / recall table, one row per measure that expected or predicted
    anything (the sentence scorecard and the news-article scorecard share it)."""
    lines = ["| measure | precision | recall | F1 | expected | predicted |", "|---|---:|---:|---:|---:|---:|"]
    for name, row in rows.items():
        if row["expected"] == 0 and row["predicted"] == 0:
            continue
        lines.append(f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | "
                     f"{row['expected']} | {row['predicted']} |")
    return lines


def render(result: dict[str, Any]) -> str:
    """A Markdown table of one split's scorecard (the docs embed exactly this text)."""
    lines = [
        f"### {result['split']}: {result['sentences']} sentences, {result['expected_records']} expected records",
        "",
        *prf_table(result["rows"]),
    ]
    d, m = result["direction"], result["modality_accuracy"]
    lines.append(f"| direction accuracy (matched directed events) | {d['accuracy']:.3f} |  |  | {d['n']} |  |")
    lines.append(f"| modality accuracy (matched events) | {m['accuracy']:.3f} |  |  | {m['n']} |  |")
    return "\n".join(lines)


def scorecard() -> str:
    """The full scorecard: held-out, dev and all, as printed by `python -m pipeline.extract.scoring`."""
    return "\n\n".join(render(score(split)) for split in ("heldout", "dev", "all")) + "\n"


def main(argv: list[str] | None = None) -> int:
    import sys

    args = sys.argv[1:] if argv is None else argv
    if "--errors" in args:
        for split in ("dev",) if "--dev" in args else ("heldout", "dev"):
            for line in score(split)["errors"]:
                print(line)
        return 0
    print(scorecard(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
