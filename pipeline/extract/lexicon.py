"""The extractor's lookups, loaded and compiled once per process from `pipeline/extract/data/`: the
gazetteer (one trie-compiled regex for case-insensitive surface forms, one for case-sensitive forms and
leaders), context guards, actor-type nouns, the trigger lexicon with its object classes and CAMEO codes,
modality cues, claim phrases and the CAMEO Goldstein values; and `quad_class_for` (QuadClass from a
CAMEO code)."""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data"


def _trie_pattern(words: list[str]) -> str:
    """One regex alternation compiled as a prefix trie, so matching cost does not grow with the list."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = True

    def build(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return build(trie)


@dataclass(frozen=True)
class Lexicon:
    ci_regex: re.Pattern[str]
    cs_regex: re.Pattern[str]
    ci_lookup: dict[str, tuple[str, str, str | None]]
    cs_lookup: dict[str, tuple[str, str, str | None]]
    leaders: dict[str, list[tuple[str, dt.date, dt.date | None]]]
    guards: dict[str, tuple[re.Pattern[str] | None, re.Pattern[str] | None, re.Pattern[str] | None]]
    actor_type_regex: list[tuple[str, re.Pattern[str]]]
    relations: dict[str, dict[str, str]]
    object_classes: dict[str, re.Pattern[str]]
    triggers: list[dict[str, Any]]
    modality_before: dict[str, list[re.Pattern[str]]]
    modality_sentence: dict[str, list[re.Pattern[str]]]
    modality_priority: list[str]
    self_attribution: re.Pattern[str]
    cameo: dict[str, tuple[str, float]]
    claims: dict[str, Any]
    any_trigger: re.Pattern[str]
    claim_hint: re.Pattern[str]
    bloc_exclude: re.Pattern[str]
    nominals: dict[str, tuple[str, ...]]


def _rx(pattern: str | None, flags: int = re.IGNORECASE) -> re.Pattern[str] | None:
    return re.compile(pattern, flags) if pattern else None


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """Load and compile every lookup of `pipeline/extract/data` once per process."""
    ci_lookup: dict[str, tuple[str, str, str | None]] = {}
    cs_lookup: dict[str, tuple[str, str, str | None]] = {}
    with (DATA / "gazetteer.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            entry = (row["iso3"], row["kind"], row["actor_type"] or None)
            if row["case_sensitive"] == "true":
                cs_lookup[row["surface"]] = entry
            else:
                ci_lookup[row["surface"].lower()] = entry
    leaders: dict[str, list[tuple[str, dt.date, dt.date | None]]] = {}
    for item in yaml.safe_load((DATA / "leaders.yaml").read_text(encoding="utf-8")):
        for surface in item["surfaces"]:
            leaders.setdefault(surface, []).append((item["iso3"], item["start"], item.get("end")))
    cs_words = sorted(set(cs_lookup) | set(leaders), key=len, reverse=True)
    boundary_left, boundary_right = r"(?<![\w\-’'])", r"(?![\w])"
    ci_regex = re.compile(boundary_left + "(?:" + _trie_pattern(sorted(ci_lookup)) + ")" + boundary_right, re.I)
    cs_regex = re.compile(boundary_left + "(?:" + _trie_pattern(cs_words) + ")" + boundary_right)
    guards = {
        surface: (_rx(g.get("reject_left"), 0), _rx(g.get("reject_right"), 0), _rx(g.get("reject_sentence"), 0))
        for surface, g in yaml.safe_load((DATA / "guards.yaml").read_text(encoding="utf-8")).items()
    }
    types = yaml.safe_load((DATA / "actor_types.yaml").read_text(encoding="utf-8"))
    actor_type_regex = [
        (code, re.compile(r"(?:['’]s)?\s+(?:\w+\s+)?(?:" + "|".join(map(re.escape, words)) + r")\b", re.I))
        for code, words in types.items()
    ]
    trig = yaml.safe_load((DATA / "triggers.yaml").read_text(encoding="utf-8"))
    triggers = []
    for item in trig["triggers"]:
        compiled = dict(item)
        compiled["regex"] = re.compile(item["pattern"], re.I)
        triggers.append(compiled)
    mod = yaml.safe_load((DATA / "modality.yaml").read_text(encoding="utf-8"))
    cameo: dict[str, tuple[str, float]] = {}
    with (DATA / "cameo_codes.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            cameo[row["cameo_code"]] = (row["label"], float(row["goldstein"]))
    claims = yaml.safe_load((DATA / "claims.yaml").read_text(encoding="utf-8"))
    claim_hint = re.compile(r"sanction|" + claims["bloc"]["cue"], re.I)
    return Lexicon(
        ci_regex=ci_regex,
        cs_regex=cs_regex,
        ci_lookup=ci_lookup,
        cs_lookup=cs_lookup,
        leaders=leaders,
        guards=guards,
        actor_type_regex=actor_type_regex,
        relations=trig["relations"],
        object_classes={name: re.compile(p, re.I) for name, p in trig["object_classes"].items()},
        triggers=triggers,
        modality_before={k: [re.compile(p, re.I) for p in v] for k, v in mod["before"].items()},
        modality_sentence={k: [re.compile(p, re.I) for p in v] for k, v in mod["sentence"].items()},
        modality_priority=list(mod["priority"]),
        self_attribution=re.compile(mod["self_attribution_verbs"], re.I),
        cameo=cameo,
        claims=claims,
        any_trigger=re.compile("|".join(f"(?:{t['pattern']})" for t in trig["triggers"]), re.I),
        claim_hint=claim_hint,
        bloc_exclude=re.compile(claims["bloc"]["exclude_after"], re.I),
        nominals={
            noun.lower(): tuple(codes)
            for noun, codes in yaml.safe_load((DATA / "nominals.yaml").read_text(encoding="utf-8")).items()
        },
    )


def quad_class_for(cameo_code: str) -> int:
    """QuadClass from the CAMEO root as GDELT assigns it: 01-05 -> 1, 06-09 -> 2, 10-14 -> 3, 15-20 -> 4."""
    root = int(cameo_code[:2])
    return 1 if root <= 5 else 2 if root <= 9 else 3 if root <= 14 else 4
