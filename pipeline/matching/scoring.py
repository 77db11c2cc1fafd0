"""The matcher's scorecard on the labelled pairs: precision and recall per stage and per entity type.

``pipeline match --score`` parses the files the pairs were drawn from (``corpus.yml``: the real
samples and the demo files) into a scratch lake, resolves it once per stage (identifiers; then with
documents; then with names, the full matcher) and looks each labelled pair up: a pair is predicted
``same`` when its two records share a target. The development set (``pairs_dev.csv``) is the one
rules are tuned on; the held-out set (``pairs_heldout.csv``) is only ever measured. A labelled record
the lake does not hold is reported, not scored.
"""

from __future__ import annotations

import csv
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from pipeline.matching.records import Record, load_records
from pipeline.matching.resolve import STAGES, resolve

HERE = Path(__file__).resolve().parent
LABELLED = HERE / "labelled"
SETS = {"dev": LABELLED / "pairs_dev.csv", "heldout": LABELLED / "pairs_heldout.csv"}
REPO = HERE.parent.parent
SAMPLES = REPO.parent / "shared" / "data" / "samples"
#: Stages measured, each with the ones before it.
MEASURED = ("identifier", "document", "name")


@dataclass
class Pair:
    pair_id: str
    left: tuple[str, str]
    right: tuple[str, str]
    same: bool
    kind: str
    entity_type: str


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def add(self, truth: bool, predicted: bool, what: str) -> None:
        if truth and predicted:
            self.tp += 1
        elif truth:
            self.fn += 1
            self.errors.append(f"missed: {what}")
        elif predicted:
            self.fp += 1
            self.errors.append(f"FALSE MERGE: {what}")
        else:
            self.tn += 1


def read_pairs(path: Path) -> list[Pair]:
    pairs = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            label = (row.get("label") or "").strip()
            if label not in ("same", "not_same"):
                raise ValueError(f"{path}, pair {row.get('pair_id')}: label {label!r} (rule: same or not_same)")
            pairs.append(Pair(row["pair_id"], (row["left_source"].strip(), row["left_record_id"].strip()),
                              (row["right_source"].strip(), row["right_record_id"].strip()), label == "same",
                              (row.get("kind") or "").strip(), (row.get("entity_type") or "").strip()))
    return pairs


def build_corpus(out: Path, samples: Path = SAMPLES) -> Path:
    """Parse the corpus files into the staged lake ``out``; returns it."""
    from pipeline.parse import parse_files
    from pipeline.settings import REPO_ROOT
    from pipeline.sources import load_meta

    spec = yaml.safe_load((HERE / "corpus.yml").read_text(encoding="utf-8"))
    for item in spec["samples"]:
        snapshot = item.get("snapshot_date")
        parse_files(item["source"], [samples / f for f in item["files"]], out,
                    snapshot_date=date.fromisoformat(str(snapshot)) if snapshot else None, strict=False)
    for source in spec["demo"]:
        files = [REPO_ROOT / "data" / "demo" / rel for rel in load_meta(source).demo_inputs]
        parse_files(source, files, out, strict=False)
    return out


def score(records: list[Record], pairs: dict[str, list[Pair]]) -> dict:
    """``{set: {stage: {entity type or 'all': Tally}}}`` and the labelled records not found."""
    by_record: dict[tuple[str, str], list[str]] = defaultdict(list)
    names = {}
    for r in records:
        by_record[(r.source, r.source_record_id)].append(r.designation_id)
        names[(r.source, r.source_record_id)] = r.primary_name
    out: dict = {"missing": {}}
    for stage in MEASURED:
        resolution = resolve(records, upto=stage)
        target = {d: i for i, members in enumerate(resolution.clusters) for d in members}
        for name, labelled in pairs.items():
            tallies = out.setdefault(name, {}).setdefault(stage, defaultdict(Tally))
            missing = []
            for p in labelled:
                left, right = by_record.get(p.left), by_record.get(p.right)
                if not left or not right:
                    missing.append(f"{p.pair_id} ({' '.join(p.left if not left else p.right)})")
                    continue
                predicted = bool({target[d] for d in left} & {target[d] for d in right})
                what = (f"{p.pair_id} {p.kind}: {p.left[0]} {p.left[1]} ({names[p.left]}) / "
                        f"{p.right[0]} {p.right[1]} ({names[p.right]})")
                for key in ("all", p.entity_type or "unknown"):
                    tallies[key].add(p.same, predicted, what)
            out["missing"][name] = missing
    return out


def report(result: dict, sets: list[str], errors: bool = False) -> str:
    lines = []
    for name in sets:
        if name not in result:
            continue
        lines.append(f"\n== {name} ({SETS[name].name}) ==")
        lines.append(f"{'stage':<12}{'entity type':<14}{'pairs':>6}{'same':>6}{'TP':>5}{'FP':>5}{'FN':>5}"
                     f"{'precision':>11}{'recall':>8}")
        for stage in MEASURED:
            tallies = result[name][stage]
            for key in ["all", *sorted(k for k in tallies if k != "all")]:
                t = tallies[key]
                lines.append(f"{('+' if stage != 'identifier' else '') + stage:<12}{key:<14}"
                             f"{t.tp + t.fp + t.fn + t.tn:>6}{t.tp + t.fn:>6}{t.tp:>5}{t.fp:>5}{t.fn:>5}"
                             f"{t.precision:>11.3f}{t.recall:>8.3f}")
        missing = result["missing"].get(name) or []
        if missing:
            lines.append(f"pairs whose records the corpus does not hold (not scored): {len(missing)}: "
                         + ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else ""))
        if errors:
            for e in result[name]["name"]["all"].errors:
                lines.append("  " + e)
    return "\n".join(lines)


def main(sets: list[str] | None = None, errors: bool = False, staged: Path | None = None) -> int:
    wanted = [s for s in (sets or list(SETS)) if SETS[s].exists()]
    if not wanted:
        print(f"no labelled pairs yet ({', '.join(str(p) for p in SETS.values())})")
        return 1
    pairs = {s: read_pairs(SETS[s]) for s in wanted}
    with tempfile.TemporaryDirectory(prefix="match-score-") as tmp:
        lake = staged or build_corpus(Path(tmp) / "staged")
        records = load_records(lake)
    result = score(records, pairs)
    print(f"matcher scorecard: {len(records)} designations of the corpus (pipeline/matching/corpus.yml); "
          f"stages {', '.join(STAGES[1:])}, each with the ones before it")
    print(report(result, wanted, errors))
    return 0
