"""Rule-based extraction of dyadic events and monadic claims from one news article.

`extract(article)` returns `(events, claims)`: `Event` rows for `article_events` (a country pair, a
relation type, its CAMEO code, QuadClass and Goldstein value from the lookup, the modality, the event
date and the evidence sentence) and `Claim` rows for `article_claims` (rankings such as "the most
sanctioned country", comparisons, bloc membership). No model is downloaded: sentences are split with
regexes, countries are found with one trie-compiled gazetteer regex (names, demonyms, capitals,
metonyms, date-bounded leaders), and relations come from the trigger lexicon in `data/triggers.yaml`.
All lookups live in `pipeline/extract/data/`.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import hashlib
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

import yaml

from pipeline.extract.articles import Article

EXTRACTOR_VERSION = "0.1.0"
EXTRACTION_METHOD = "rules"
DATA = Path(__file__).resolve().parent / "data"
EVIDENCE_MAX = 300
# Longest sentence read as one: a longer one (a page without full stops) is read in pieces of at most this
# many characters, cut at clause breaks, and each cut is reported (`SentenceCut`). It bounds the work per
# sentence, so an article costs time in proportion to its length whatever its punctuation.
MAX_SENTENCE_CHARS = 2000

RELATION_TYPES = (
    "arms_transfer",
    "military_cooperation",
    "technology_transfer",
    "financial_integration",
    "economic_cooperation",
    "energy_cooperation",
    "agreement",
    "diplomatic_support",
    "sanctions",
    "criticism",
    "threat",
    "use_of_force",
    "bloc_alignment",
)
MODALITIES = ("realized", "planned", "alleged", "denied")
DATE_PRECISIONS = ("day", "month", "year", "article")

EVENT_COLUMNS = (
    "record_id",
    "article_id",
    "sentence_idx",
    "char_start",
    "char_end",
    "evidence_text",
    "actor1_text",
    "actor2_text",
    "actor1_iso3",
    "actor2_iso3",
    "actor1_type",
    "actor2_type",
    "directed",
    "relation_type",
    "cameo_code",
    "cameo_root",
    "quad_class",
    "goldstein",
    "modality",
    "event_date",
    "date_precision",
    "confidence",
    "n_mentions",
    "extraction_method",
    "extractor_version",
)
CLAIM_COLUMNS = (
    "claim_id",
    "article_id",
    "claim_type",
    "subject_iso3",
    "object_iso3",
    "members",
    "metric",
    "value",
    "as_of",
    "as_of_precision",
    "evidence_text",
    "confidence",
    "modality",
    "extractor_version",
)


@dataclass
class Event:
    record_id: str
    article_id: str
    sentence_idx: int
    char_start: int
    char_end: int
    evidence_text: str
    actor1_text: str
    actor2_text: str
    actor1_iso3: str
    actor2_iso3: str
    actor1_type: str | None
    actor2_type: str | None
    directed: bool
    relation_type: str
    cameo_code: str
    cameo_root: str
    quad_class: int
    goldstein: float
    modality: str
    event_date: dt.date
    date_precision: str
    confidence: float
    n_mentions: int
    extraction_method: str
    extractor_version: str = EXTRACTOR_VERSION


@dataclass
class Claim:
    claim_id: str
    article_id: str
    claim_type: str
    subject_iso3: str | None
    object_iso3: str | None
    members: list[str]
    metric: str | None
    value: str | None
    as_of: dt.date
    as_of_precision: str
    evidence_text: str
    confidence: float
    modality: str
    extractor_version: str = EXTRACTOR_VERSION


@dataclass(frozen=True)
class SentenceCut:
    """A sentence longer than `MAX_SENTENCE_CHARS`, read in pieces: relations across a cut are not found."""

    article_id: str
    file: str
    line: int | None
    sentence_idx: int
    char_start: int
    char_end: int
    pieces: int
    rule: str = "sentence_length_cap"

    @property
    def length(self) -> int:
        return self.char_end - self.char_start

    def __str__(self) -> str:
        where = f"file '{self.file}'" + (f" line {self.line}" if self.line is not None else "")
        return (
            f"[articles] {where}: sentence {self.sentence_idx} (characters {self.char_start}-{self.char_end}, "
            f"{self.length:,} long): rule '{self.rule}' (at most {MAX_SENTENCE_CHARS:,} characters): read as "
            f"{self.pieces} pieces cut at clause breaks; a relation spanning a cut is not found"
        )


@dataclass
class Mention:
    start: int
    end: int
    iso3: str
    text: str
    kind: str  # name, code, demonym, capital, metonym, leader, pronoun
    actor_type: str | None
    prep: str = ""
    conj_prev: bool = False
    possessive: bool = False
    compound: str = ""  # "origin" for "Iranian-made", "other" for "US-led"; such mentions are not actors
    speaker: bool = False  # "..., Kyiv said": the source of the report, not a party to the event


@dataclass
class _Candidate:
    trigger: str
    start: int
    end: int
    relation: str
    code: str
    planned_code: str
    pairs: list[tuple[Mention, Mention, bool]] = field(default_factory=list)
    explicit: bool = True


# ---------------------------------------------------------------------------------------------- lookups


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
    )


def quad_class_for(cameo_code: str) -> int:
    """QuadClass from the CAMEO root as GDELT assigns it: 01-05 -> 1, 06-09 -> 2, 10-14 -> 3, 15-20 -> 4."""
    root = int(cameo_code[:2])
    return 1 if root <= 5 else 2 if root <= 9 else 3 if root <= 14 else 4


# ---------------------------------------------------------------------------------------------- sentences

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9])")
_ABBREV = re.compile(
    r"(?:\b[A-Z]\.|\b(?:[A-Za-z]\.){2,}|\b(?:Mr|Mrs|Ms|Dr|St|Gen|Lt|Col|Sgt|Capt|Adm|Gov|Sen|Rep|No|vs|etc|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Inc|Ltd|Co|Corp|approx)\.)$"
)


# An abbreviation before a sentence end spans at most 8 characters ("approx." and the one before it; a run
# of initials "U.S.A." matches from its last two), so only that tail is read, not the sentence so far.
_ABBREV_SPAN = 8


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of sentences; lines are split first, then sentence ends inside a line."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        base, chunk = line.start(), line.group(0)
        start = 0
        for boundary in _SENTENCE_END.finditer(chunk):
            if _ABBREV.search(chunk, max(start, boundary.start() - _ABBREV_SPAN), boundary.start()):
                continue
            spans.append((base + start, base + boundary.start()))
            start = boundary.end()
        spans.append((base + start, base + len(chunk)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


# ---------------------------------------------------------------------------------------------- mentions

_PREPS = frozenset(
    "in at to from with for on of by into onto against near inside outside around across via through between among "
    "over under toward towards within throughout beyond despite about amid after before during".split()
)
_WORD_BEFORE = re.compile(r"([A-Za-z]+)\s+(?:(?:the|a|an|its|their)\s+)?$")
_CONJ_GAP = re.compile(r"^\s*(?:,|,?\s+(?:and|or|as\s+well\s+as|and\s+then|&))\s*(?:(?:the|then)\s+)?$", re.I)
# The right-context patterns below are applied with `.match(sentence, position)`, which anchors them there
# without copying the rest of the sentence.
_COMPOUND = re.compile(
    r"-(?:made|built|designed|supplied|produced|manufactured|origin|developed)\b"
    r"|-(led|dominated|backed|brokered|based|owned|sponsored|style|friendly|centric|aligned|allied|controlled|occupied"
    r"|held|annexed|installed|funded|trained|armed|leaning|registered|flagged|listed)\b",
    re.I,
)
_POSSESSIVE = re.compile(r"(?:['’]s\b|['’](?=\s))")
_LIST_GOES_ON = re.compile(r"(?:['’]s)?\s*,|(?:['’]s)?\s+(?:and|or)\s", re.I)
_SPEAKER = re.compile(
    r"(?:['’]s)?\s+(?:\w+\s+){0,3}?(?:said|says|told|claimed|claims|insisted|reported|stated|added)\b", re.I
)
_PRONOUN = re.compile(r"\b(?:it|its|they|their)\b", re.I)
_PRONOUN_STOP = re.compile(
    r"\s+(?:is|was|has|had|would|will)\s+(?:\w+\s+)?(?:clear|likely|unclear|possible|expected|time|important)\b", re.I
)


def find_mentions(sentence: str, published: dt.date, lex: Lexicon) -> list[Mention]:
    """Country mentions of one sentence, overlap-resolved (longest first), with their grammatical context."""
    raw: list[Mention] = []
    for match in lex.ci_regex.finditer(sentence):
        iso3, kind, typ = lex.ci_lookup[match.group(0).lower()]
        raw.append(Mention(match.start(), match.end(), iso3, match.group(0), kind, typ))
    for match in lex.cs_regex.finditer(sentence):
        surface = match.group(0)
        if surface in lex.cs_lookup:
            iso3, kind, typ = lex.cs_lookup[surface]
            raw.append(Mention(match.start(), match.end(), iso3, surface, kind, typ))
        for iso3, start, end in lex.leaders.get(surface, ()):
            if start <= published and (end is None or published < end):
                raw.append(Mention(match.start(), match.end(), iso3, surface, "leader", "GOV"))
                break
    raw.sort(key=lambda m: (m.start, -(m.end - m.start)))
    mentions: list[Mention] = []
    last_end = -1
    whole_rejects: dict[str, bool] = {}  # a sentence-wide guard gives the same answer for every match of a surface
    for m in raw:
        if m.start < last_end:
            continue
        guard = lex.guards.get(m.text)
        if guard is not None:
            left, right, whole = guard
            if whole and m.text not in whole_rejects:
                whole_rejects[m.text] = whole.search(sentence) is not None
            if (
                (left and left.search(sentence, 0, m.start))
                or (right and right.search(sentence[m.end :]))
                or (whole and whole_rejects[m.text])
            ):
                continue
        mentions.append(m)
        last_end = m.end
    mentions = _merge_adjacent(mentions, sentence)
    _annotate(mentions, sentence, lex)
    # Mentions are sorted and do not overlap, so their starts and ends are both ascending.
    starts = [m.start for m in mentions]
    antecedents = _Antecedents(mentions)
    pronouns = []
    for pronoun in _PRONOUN.finditer(sentence):
        at = bisect_right(starts, pronoun.start()) - 1
        if (at >= 0 and pronoun.start() < mentions[at].end) or _PRONOUN_STOP.match(sentence, pronoun.end()):
            continue
        antecedent = antecedents.before(pronoun.start())
        if antecedent is not None:
            pronouns.append(
                Mention(
                    pronoun.start(), pronoun.end(), antecedent.iso3, pronoun.group(0), "pronoun", antecedent.actor_type
                )
            )
    if pronouns:
        mentions = sorted(mentions + pronouns, key=lambda m: m.start)
        _annotate(mentions, sentence, lex)
    return mentions


def _annotate(mentions: list[Mention], sentence: str, lex: Lexicon) -> None:
    previous: Mention | None = None
    for m in mentions:
        compound = _COMPOUND.match(sentence, m.end)
        m.compound = ("other" if compound.group(1) else "origin") if compound else ""
        m.possessive = bool(_POSSESSIVE.match(sentence, m.end)) or m.text.lower() in ("its", "their")
        m.speaker = bool(_SPEAKER.match(sentence, m.end))
        if m.actor_type is None and not m.text.endswith("s"):
            for code, regex in lex.actor_type_regex:
                if regex.match(sentence, m.end):
                    m.actor_type = code
                    break
        gap = sentence[previous.end : m.start] if previous is not None else ""
        comma_list = "," in gap and (
            previous is not None and previous.conj_prev
            if re.search(r"\b(?:and|or)\b", gap)
            else bool(_LIST_GOES_ON.match(sentence, m.end))
        )
        if previous is not None and _CONJ_GAP.match(gap) and ("," not in gap or comma_list):
            m.conj_prev, m.prep = True, previous.prep
        else:
            word = _WORD_BEFORE.search(sentence[max(0, m.start - 40) : m.start])
            m.conj_prev = False
            m.prep = word.group(1).lower() if word and word.group(1).lower() in _PREPS else ""
        previous = m


def _merge_adjacent(mentions: list[Mention], sentence: str) -> list[Mention]:
    """'Iranian President Ebrahim Raisi' and "Russia's foreign minister Sergei Lavrov" are one actor."""
    merged: list[Mention] = []
    for m in mentions:
        if merged and merged[-1].iso3 == m.iso3:
            gap = sentence[merged[-1].end : m.start]
            if re.fullmatch(r"(?:['’]s)?\s+(?:[A-Za-z]+\s+){0,3}", gap) and not re.search(
                r"\b(?:and|or|to|with|from)\b", gap
            ):
                keep = merged[-1]
                keep.end, keep.text = m.end, sentence[keep.start : m.end]
                if m.kind == "leader" or keep.kind == "demonym":
                    keep.kind, keep.actor_type = m.kind, m.actor_type or keep.actor_type
                continue
        merged.append(m)
    return merged


class _Antecedents:
    """A pronoun stands for the nearest earlier country that is not a prepositional object (else the nearest
    earlier country). Built once per sentence from sorted, non-overlapping mentions; each lookup is a bisection."""

    def __init__(self, mentions: list[Mention]) -> None:
        self.mentions = mentions
        self.ends = [m.end for m in mentions]
        # nearest[i] / subject[i]: index of the last eligible mention (and of the last one whose preposition is
        # none or "by") among mentions[:i], or -1.
        self.nearest, self.subject = [-1], [-1]
        for i, m in enumerate(mentions):
            eligible = m.kind != "pronoun" and not m.compound
            self.nearest.append(i if eligible else self.nearest[-1])
            self.subject.append(i if eligible and m.prep in ("", "by") else self.subject[-1])

    def before(self, position: int) -> Mention | None:
        count = bisect_right(self.ends, position)
        index = self.subject[count] if self.subject[count] >= 0 else self.nearest[count]
        return self.mentions[index] if index >= 0 else None


# ---------------------------------------------------------------------------------------------- clauses

_CLAUSE_ALWAYS = re.compile(
    r"\s*;\s*|,?\s+(?:but|while|whereas|although|though|yet)\s+|,\s+(?:which|who|where|when)\s+|\s+[–—]\s+|\s+--\s+",
    re.I,
)
_CLAUSE_IF_SUBJECT = re.compile(r",?\s+(?:since|after|before|because|when|as|once|until|and|so)\s+", re.I)
_LEAD_IN = re.compile(r"(?:the\s+)?", re.I)
_LEADING_SUBORDINATE = re.compile(
    r"^\s*(?:As|While|After|Since|When|Although|Though|Because|If|Once|Before|Despite)\b[^,]{0,200},"
)


def split_clauses(sentence: str, mentions: list[Mention]) -> list[tuple[int, int]]:
    cuts: set[int] = set()
    lead = _LEADING_SUBORDINATE.match(sentence)
    if lead:
        cuts.add(lead.end())
    for match in _CLAUSE_ALWAYS.finditer(sentence):
        cuts.add(match.start())
    starts = {m.start for m in mentions if not m.compound}
    for match in _CLAUSE_IF_SUBJECT.finditer(sentence):
        rest = match.end()
        if _LEAD_IN.match(sentence, rest).end() in starts:
            if match.group(0).strip().lower() == "and" and "," not in match.group(0):
                continue
            cuts.add(match.start())
    bounds = sorted(c for c in cuts if 0 < c < len(sentence))
    spans, start = [], 0
    for cut in bounds:
        spans.append((start, cut))
        start = cut
    spans.append((start, len(sentence)))
    return spans


# ---------------------------------------------------------------------------------------------- dates

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH_RX = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_DAY_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RX})\s*,?\s+(\d{{4}})\b")
_DAY_MDY = re.compile(rf"\b({_MONTH_RX})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b")
_MONTH_YEAR = re.compile(rf"\b({_MONTH_RX})\s+(?:of\s+)?(\d{{4}})\b")
_YEAR = re.compile(
    r"\b(?:in|since|during|by|from|until|through|throughout|of|early|late|mid-?)\s+((?:19|20)\d{2})\b", re.I
)
_MONTH_ONLY = re.compile(
    rf"\b(?:in|since|during|by|from|early|late|mid-?|last|this|until|on)\s+({_MONTH_RX})\b(?!\s+\d)"
)
_RELATIVE = re.compile(
    r"\b(last|this|next)\s+(year|month|week)\b|\b(yesterday|today)\b|\b(?:on|last)\s+(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|\b(a|one|two|three)\s+(years?|months?)\s+ago\b",
    re.I,
)
_NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3}


def _month_shift(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def resolve_date(text: str, published: dt.date) -> tuple[dt.date, str]:
    """The event date named in a clause, resolved against the publication date, with its precision."""
    for regex, order in ((_DAY_DMY, "dmy"), (_DAY_MDY, "mdy")):
        match = regex.search(text)
        if match:
            day_s, month_s, year_s = (
                (match.group(1), match.group(2), match.group(3))
                if order == "dmy"
                else (match.group(2), match.group(1), match.group(3))
            )
            try:
                return dt.date(int(year_s), _MONTHS[month_s.rstrip(".").lower()], int(day_s)), "day"
            except ValueError:
                pass
    match = _MONTH_YEAR.search(text)
    if match:
        return dt.date(int(match.group(2)), _MONTHS[match.group(1).rstrip(".").lower()], 1), "month"
    match = _RELATIVE.search(text)
    if match:
        which, unit, word, weekday, count, unit_ago = match.groups()
        if word:
            return (published - dt.timedelta(days=1) if word.lower() == "yesterday" else published), "day"
        if weekday:
            target = list(calendar.day_name).index(weekday.capitalize())
            back = (published.weekday() - target) % 7
            return published - dt.timedelta(days=back), "day"
        if count:
            n = _NUMBER_WORDS[count.lower()]
            if unit_ago.lower().startswith("year"):
                return dt.date(published.year - n, 1, 1), "year"
            return _month_shift(published, -n), "month"
        shift = {"last": -1, "this": 0, "next": 1}[which.lower()]
        if unit.lower() == "year":
            return dt.date(published.year + shift, 1, 1), "year"
        if unit.lower() == "month":
            return _month_shift(published, shift), "month"
        return published + dt.timedelta(weeks=shift), "article"
    match = _YEAR.search(text)
    if match:
        return dt.date(int(match.group(1)), 1, 1), "year"
    match = _MONTH_ONLY.search(text)
    if match:
        month = _MONTHS[match.group(1).rstrip(".").lower()]
        year = published.year if month <= published.month else published.year - 1
        return dt.date(year, month, 1), "month"
    return published, "article"


# ---------------------------------------------------------------------------------------------- events

_COMPLEMENTIZER = re.compile(r"\b(?:that|whether)\b", re.I)
_PASSIVE_BEFORE = re.compile(r"\b(?:was|were|been|being|is|are|be|get|got)\s+(?:\w+ly\s+)?$", re.I)
_OPENER = re.compile(r"\s*(?:the\s+)?")
_ADJACENT_GAP = re.compile(r"(?:['’]s)?\s*(?:[\w-]+\s+){0,2}")
_TARGET_PREPS = frozenset(["", "to", "with", "for", "on", "against", "at", "into", "toward", "towards", "over"])
_VISIT_PREPS = frozenset(["", "to", "in", "of"])
_SYMMETRIC_PREPS = frozenset(["", "with", "to", "and"])
_FORCE_WORDS = re.compile(
    r"\b(?:military|force|strike|attack|nuclear|retaliat\w*|war|invasion|missiles?|targets?)\b", re.I
)
_AERIAL = re.compile(
    r"\b(?:air\s?strikes?|drone\s+strikes?|missile\s+strikes?|bomb\w*|missiles?|drones?|rockets?)\b", re.I
)


def _usable(m: Mention) -> bool:
    return not m.compound


def _tail_start(text: str, end: int, runs: int) -> int:
    """Start of the `runs`-th whitespace-separated run of characters before `end` (0 if there are fewer)."""
    i = end
    for _ in range(runs):
        while i > 0 and text[i - 1].isspace():
            i -= 1
        while i > 0 and not text[i - 1].isspace():
            i -= 1
    return i


class _SentenceCues:
    """Sentence-wide lookups shared by every trigger of one sentence: where mentions end (for the speaker of a
    cue) and the attribution tails (", officials said"), each searched once."""

    def __init__(self, sentence: str, mentions: list[Mention], lex: Lexicon) -> None:
        self.sentence, self.mentions, self.lex = sentence, mentions, lex
        self.ends = [m.end for m in mentions]
        self._tails: list[tuple[int, frozenset[str]] | None] | None = None

    def last_before(self, position: int) -> Mention | None:
        """The last mention that ends at or before `position`."""
        index = bisect_right(self.ends, position) - 1
        return self.mentions[index] if index >= 0 else None

    def tails(self) -> list[tuple[int, frozenset[str]] | None]:
        """Per sentence-level alleged pattern: its first match's start and the countries that match names."""
        if self._tails is None:
            self._tails = []
            for regex in self.lex.modality_sentence["alleged"]:
                hit = regex.search(self.sentence)
                if hit is None:
                    self._tails.append(None)
                    continue
                starts = [m.start for m in self.mentions]
                inside = self.mentions[bisect_left(starts, hit.start()) : bisect_left(starts, hit.end())]
                speakers = frozenset(m.iso3 for m in inside)
                self._tails.append((hit.start(), speakers))
        return self._tails


class _CuePattern:
    """The matches of one modality cue pattern in one clause, found once. `any_before(end, source)` says
    whether the pattern matches in the clause cut at `end` (the trigger's start), as a search of that prefix
    would: matches ending before it are taken as found; the last one, when it reaches `end`, is read again
    with the clause cut there. Alleged cues spoken by the event's own source do not count."""

    def __init__(self, regex: re.Pattern[str], clause: str, offset: int, cues: _SentenceCues, alleged: bool) -> None:
        self.regex, self.clause, self.offset, self.cues, self.alleged = regex, clause, offset, cues, alleged
        self.hits = list(regex.finditer(clause))
        self.starts = [h.start() for h in self.hits]
        self.blockers: list[str | None] = []
        self.first_other = len(self.hits)  # index of the first hit whose blocker differs from the first one's
        if alleged:
            self.blockers = [self._blocker(h) for h in self.hits]
            self.first_other = next(
                (i for i, b in enumerate(self.blockers) if b != self.blockers[0]), len(self.hits)
            )

    def _blocker(self, hit: re.Match[str]) -> str | None:
        """The country whose own statement this cue is ('Iran said it had sent ...'), else None."""
        if not self.cues.lex.self_attribution.search(hit.group(0)):
            return None
        speaker = self.cues.last_before(self.offset + hit.start())
        return speaker.iso3 if speaker is not None else None

    def any_before(self, end: int, source: Mention) -> bool:
        count = bisect_left(self.starts, end)
        if count == 0:
            return False
        extra: list[re.Match[str]] = []
        if self.hits[count - 1].end() >= end:
            count -= 1
            extra = list(self.regex.finditer(self.clause, self.hits[count].start(), end))
        if not self.alleged:
            return count > 0 or bool(extra)
        if count > 0 and (self.blockers[0] != source.iso3 or self.first_other < count):
            return True
        return any(self._blocker(hit) != source.iso3 for hit in extra)


class _Clause:
    """One clause with what every trigger in it looks up, computed once (so the work per clause stays in
    proportion to its length): its mentions with their starts and ends, the object classes, complementizers,
    force words and modality cues."""

    def __init__(
        self, clause: str, offset: int, mentions: list[Mention], cues: _SentenceCues, lex: Lexicon
    ) -> None:
        self.text, self.offset, self.mentions, self.cues, self.lex = clause, offset, mentions, cues, lex
        self.starts = [m.start for m in mentions]
        self.ends = [m.end for m in mentions]
        self.between = [m for m in mentions if m.prep in ("between", "among") and _usable(m)]
        self.complementizers = list(_COMPLEMENTIZER.finditer(clause))
        self._complementizer_ends = [c.end() for c in self.complementizers]
        self._complementizer_starts = [c.start() for c in self.complementizers]
        self._objects: dict[str, list[int]] = {}
        self._force: bool | None = None
        self._modality: dict[str, list[_CuePattern]] | None = None

    def object_after(self, name: str, position: int) -> int | None:
        """Start of the first match of an object class at or after `position`, as `regex.search(clause,
        position)` gives it. The clause's matches are found once; a scan tries every position between one
        match's end and the next match's start, so only positions inside a match are tried again here."""
        regex = self.lex.object_classes[name]
        spans = self._objects.get(name)
        if spans is None:
            spans = self._objects[name] = [m.span() for m in regex.finditer(self.text)]
        index = bisect_right(spans, (position, len(self.text) + 1)) - 1
        if index >= 0 and position < spans[index][1]:
            if spans[index][0] == position:
                return position
            if spans[index][0] == spans[index][1]:  # an empty match: fall back to a plain search
                hit = regex.search(self.text, position)
                return hit.start() if hit else None
            for start in range(position, spans[index][1]):
                if regex.match(self.text, start):
                    return start
        return spans[index + 1][0] if index + 1 < len(spans) else None

    def force_words(self) -> bool:
        if self._force is None:
            self._force = _FORCE_WORDS.search(self.text) is not None
        return self._force

    def complementizer_before(self, position: int) -> int | None:
        """Start of the last 'that'/'whether' in the clause cut at `position`."""
        tail = _COMPLEMENTIZER.search(self.text, max(0, position - 8), position)
        if tail is not None and tail.end() == position:
            return tail.start()
        index = bisect_right(self._complementizer_ends, position) - 1
        return self.complementizers[index].start() if index >= 0 else None

    def complementizer_from(self, position: int) -> re.Match[str] | None:
        index = bisect_left(self._complementizer_starts, position)
        return self.complementizers[index] if index < len(self.complementizers) else None

    def passive_before(self, position: int) -> bool:
        """An auxiliary ('was', 'were', 'been', ...) right before `position`, at most one -ly adverb between."""
        return _PASSIVE_BEFORE.search(self.text, _tail_start(self.text, position, 2), position) is not None

    def modality_cues(self) -> dict[str, list[_CuePattern]]:
        if self._modality is None:
            self._modality = {
                name: [_CuePattern(rx, self.text, self.offset, self.cues, name == "alleged") for rx in patterns]
                for name, patterns in self.lex.modality_before.items()
            }
        return self._modality



def _first(mentions: Iterable[Mention], keep: Any) -> list[Mention]:
    """The first mention satisfying `keep`, as a list of at most one."""
    for m in mentions:
        if keep(m):
            return [m]
    return []


def _subject(before: list[Mention]) -> tuple[list[Mention], bool]:
    """The subject before a trigger (with its conjuncts) and whether it was found without a fallback."""
    chosen, explicit = -1, True
    for i in range(len(before) - 1, -1, -1):
        if _usable(before[i]) and before[i].prep == "":
            chosen = i
            break
    if chosen < 0:
        for i in range(len(before) - 1, -1, -1):
            m = before[i]
            if _usable(m) and m.prep in ("with", "between", "among") and m.kind != "pronoun":
                chosen, explicit = i, False
                break
    if chosen < 0:
        return [], False
    group = [before[chosen]]
    index = chosen
    while group[0].conj_prev:
        index -= 1
        while index >= 0 and not _usable(before[index]):
            index -= 1
        if index < 0:
            break
        group.insert(0, before[index])
    return group, explicit


def _first_target(after: list[Mention], preps: frozenset[str], skip_by: bool = False) -> list[Mention]:
    """The first possible target after a trigger, with the conjuncts that follow it ('to Syria and Iraq')."""
    rest = (m for m in after if m.prep != "by") if skip_by else iter(after)
    for m in rest:
        if _usable(m) and m.kind != "pronoun" and not m.speaker and m.prep in preps:
            group = [m]
            for following in rest:
                if not (following.conj_prev and following.kind != "pronoun"):
                    break
                group.append(following)
            return group
    return []


def _object_class(ctx: _Clause, start: int, end: int, allowed: dict[str, str]) -> str | None:
    """The relation given by the object class nearest to the trigger (inside it, after it, or just before it)."""
    best: tuple[int, str] | None = None
    for name, relation in allowed.items():
        regex = ctx.lex.object_classes[name]
        if regex.search(ctx.text, start, end):
            return relation
        hit = ctx.object_after(name, end)
        if hit is not None:
            distance = hit - end
            if best is None or distance < best[0]:
                best = (distance, relation)
        window_start = max(0, start - 60)
        for found in regex.finditer(ctx.text, window_start, start):
            distance = start - found.end() + 5
            if best is None or distance < best[0]:
                best = (distance, relation)
    return best[1] if best else None


def _candidate(trig: dict[str, Any], match: re.Match[str], ctx: _Clause) -> _Candidate | None:
    clause, offset, lex = ctx.text, ctx.offset, ctx.lex
    start, end = match.start(), match.end()
    relation = trig.get("relation")
    for skip in trig.get("skip_if_objects", ()):
        hit = ctx.object_after(skip, end)
        if hit is not None and hit - end < 60:
            return None
    if "objects" in trig:
        relation = _object_class(ctx, start, end, trig["objects"]) or trig.get("default_relation")
        if relation is None:
            return None
    codes = lex.relations[relation]
    code, planned_code = trig.get("code", codes["code"]), trig.get("planned_code", codes["planned"])
    if trig.get("force_code") and ctx.force_words():
        code = trig["force_code"]
    if trig.get("aerial_code") and _AERIAL.search(match.group(0) + " " + clause[end : end + 60]):
        code = trig["aerial_code"]
    abs_start, abs_end = start + offset, end + offset
    head_end = abs_start + len(re.match(r"\S+", match.group(0)).group(0))
    # Mentions are sorted and disjoint: `before` (ending by the trigger) and `after` are index ranges.
    after_from = abs_end if trig.get("targets_after_match") else head_end
    after_index = bisect_left(ctx.starts, after_from)
    after = ctx.mentions[after_index:]
    # A subject is not looked for across a complementizer: in "Russia warned that Western deliveries to
    # Ukraine ...", Russia is not the supplier.
    floor = ctx.complementizer_before(start)
    floor_abs = -1 if floor is None else floor + offset
    before = ctx.mentions[bisect_right(ctx.starts, floor_abs) : bisect_right(ctx.ends, abs_start)]
    cand = _Candidate(trig["name"], abs_start, abs_end, relation, code, planned_code)
    role = trig["role"]
    passive = ctx.passive_before(start) and not match.group(0).split()[0].lower().endswith("ing")

    if trig.get("source") == "adjacent":
        sources: list[Mention] = []
        for m in reversed(before):
            if (
                _usable(m)
                and (m.possessive or m.kind == "demonym")
                and _ADJACENT_GAP.fullmatch(clause, m.end - offset, start)
            ):
                sources = [m]
                break
        if not sources:
            sources = _first(after, lambda m: m.prep == "by")
        targets = _first_target(after, frozenset(trig.get("target_preps", _TARGET_PREPS)), skip_by=True)
        cand.pairs = [(s, t, True) for s in sources for t in targets]
        return cand

    if role == "symmetric" or role == "symmetric_or_forward":
        between = [m for m in ctx.between if (floor_abs < m.start and m.end <= abs_start) or m.start >= after_from]
        if len({m.iso3 for m in between}) >= 2:
            cand.pairs = _all_pairs(between)
            return cand
        subjects, explicit = _subject(before)
        cand.explicit = explicit
        if trig.get("possessive_target") and subjects and subjects[-1].possessive:
            partner = subjects[-1]
            rest, _ = _subject([m for m in before if m is not partner and m.iso3 != partner.iso3])
            cand.pairs = [(s, partner, False) for s in rest]
            return cand
        partners = _first_target(
            after, _SYMMETRIC_PREPS | frozenset(["in"] if role == "symmetric_or_forward" else [])
        )
        if not subjects and partners:
            subjects, partners = partners[:1], partners[1:]
        if subjects and partners:
            directed = role == "symmetric_or_forward"
            cand.pairs = [(s, p, directed) for s in subjects for p in partners]
        elif len(subjects) >= 2:
            cand.pairs = _all_pairs(subjects)
        return cand

    if role == "reverse":
        recipients, explicit = _subject(before)
        cand.explicit = explicit
        sources = _first(after, lambda m: m.prep == "from" and _usable(m))
        if not sources:
            sources = _first(
                after, lambda m: m.prep in ("", "of") and (m.kind == "demonym" or m.possessive) and _usable(m)
            )
        cand.pairs = [(s, r, True) for s in sources for r in recipients]
        return cand

    # forward and visit: a target after a complementizer must open its clause ("warned that Israel would ...")
    following = ctx.complementizer_from(end)
    if following:
        cut = following.start() + offset
        first = _OPENER.match(clause, following.end()).end() + offset
        after = ctx.mentions[after_index : max(after_index, bisect_left(ctx.starts, cut))]
        opening = bisect_left(ctx.starts, first)
        if opening < len(ctx.starts) and ctx.starts[opening] == first:
            after.append(ctx.mentions[opening])
    preps = _VISIT_PREPS if role == "visit" else frozenset(trig.get("target_preps", _TARGET_PREPS))
    if passive:
        sources = _first(after, lambda m: m.prep == "by" and _usable(m))
        targets = _first(after, lambda m: m.prep == "to" and _usable(m))
        if not targets:
            targets, _ = _subject(before)
        cand.pairs = [(s, t, True) for s in sources for t in targets]
        return cand
    subjects, explicit = _subject(before)
    cand.explicit = explicit
    if trig.get("possessive_target") and subjects and subjects[-1].possessive and len(before) >= 2:
        target = subjects[-1]
        rest, _ = _subject([m for m in before if m is not target and m.iso3 != target.iso3])
        cand.pairs = [(s, target, True) for s in rest]
        return cand
    targets = _first_target(after, preps)
    if not subjects and "objects" in trig:
        origin = _first(
            chain(before, after), lambda m: m.compound == "origin" or (m.kind == "demonym" and m.prep == "")
        )
        if origin:
            subjects, cand.explicit = origin, False
    cand.pairs = [(s, t, True) for s in subjects for t in targets]
    return cand


def _all_pairs(group: list[Mention]) -> list[tuple[Mention, Mention, bool]]:
    unique: list[Mention] = []
    seen: set[str] = set()
    for m in group:
        if m.iso3 not in seen:
            seen.add(m.iso3)
            unique.append(m)
    return [(a, b, False) for i, a in enumerate(unique) for b in unique[i + 1 :]]


def _modality(ctx: _Clause, trigger_start: int, source: Mention) -> str:
    """realized, unless a cue before the trigger in its clause (or an attribution tail after it) says
    denied, planned or alleged; the first of those in `modality.yaml`'s priority wins."""
    lex = ctx.lex
    found = {
        name
        for name, patterns in ctx.modality_cues().items()
        if any(pattern.any_before(trigger_start, source) for pattern in patterns)
    }
    position = ctx.offset + trigger_start
    for tail in ctx.cues.tails():
        if tail is not None and tail[0] >= position and source.iso3 not in tail[1]:
            found.add("alleged")
    for name in lex.modality_priority:
        if name in found:
            return name
    return "realized"


def _sha1(*parts: object) -> str:
    return hashlib.sha1("|".join("" if p is None else str(p) for p in parts).encode("utf-8")).hexdigest()


def _confidence(cand: _Candidate, a: Mention, b: Mention, modality: str, precision: str) -> float:
    score = 0.5 + (0.2 if cand.explicit else 0.0)
    score += 0.1 if {a.kind, b.kind} <= {"name", "code", "leader", "capital", "metonym"} else 0.0
    score += 0.05 if precision != "article" else 0.0
    score += 0.1 if modality in ("realized", "planned") else 0.0
    return round(min(score, 0.95), 2)


def _events_in_sentence(
    article: Article, index: int, s_start: int, sentence: str, mentions: list[Mention], lex: Lexicon
) -> list[Event]:
    events: list[Event] = []
    cues = _SentenceCues(sentence, mentions, lex)
    starts, ends = [m.start for m in mentions], cues.ends
    for c_start, c_end in split_clauses(sentence, mentions):
        # Mentions are sorted and do not overlap: those inside the clause are one contiguous run.
        in_clause = mentions[bisect_left(starts, c_start) : bisect_right(ends, c_end)]
        if len({m.iso3 for m in in_clause}) < 2:
            continue
        ctx = _Clause(sentence[c_start:c_end], c_start, in_clause, cues, lex)
        candidates: list[_Candidate] = []
        for trig in lex.triggers:
            for match in trig["regex"].finditer(ctx.text):
                cand = _candidate(trig, match, ctx)
                if cand is not None and any(a.iso3 != b.iso3 for a, b, _ in cand.pairs):
                    candidates.append(cand)
        candidates.sort(key=lambda c: (c.start, -(c.end - c.start)))
        kept: list[_Candidate] = []
        for cand in candidates:
            # kept spans are sorted and disjoint, so only the last one can reach this start
            if kept and cand.start < kept[-1].end:
                continue
            kept.append(cand)
        if not kept:
            continue
        event_date, precision = resolve_date(ctx.text, article.published_at)
        for cand in kept:
            for a, b, directed in cand.pairs:
                if a.iso3 == b.iso3:
                    continue
                modality = _modality(ctx, cand.start - c_start, a)
                code = cand.planned_code if modality == "planned" else cand.code
                label_goldstein = lex.cameo[code]
                events.append(
                    Event(
                        record_id="",
                        article_id=article.article_id,
                        sentence_idx=index,
                        char_start=s_start,
                        char_end=s_start + len(sentence),
                        evidence_text=sentence[:EVIDENCE_MAX],
                        actor1_text=a.text,
                        actor2_text=b.text,
                        actor1_iso3=a.iso3,
                        actor2_iso3=b.iso3,
                        actor1_type=a.actor_type,
                        actor2_type=b.actor_type,
                        directed=directed,
                        relation_type=cand.relation,
                        cameo_code=code,
                        cameo_root=code[:2],
                        quad_class=quad_class_for(code),
                        goldstein=label_goldstein[1],
                        modality=modality,
                        event_date=event_date,
                        date_precision=precision,
                        confidence=_confidence(cand, a, b, modality, precision),
                        n_mentions=1,
                        extraction_method=f"{EXTRACTION_METHOD}/{cand.trigger}",
                    )
                )
    return events


# ---------------------------------------------------------------------------------------------- claims


def _claims_in_sentence(
    article: Article, index: int, sentence: str, mentions: list[Mention], lex: Lexicon
) -> list[Claim]:
    spec = lex.claims
    claims: list[Claim] = []
    actors = [m for m in mentions if _usable(m)]
    as_of, precision = resolve_date(sentence, article.published_at)
    evidence = sentence[:EVIDENCE_MAX]

    def add(
        claim_type: str,
        subject: str | None,
        obj: str | None,
        members: list[str],
        metric: str | None,
        value: str | None,
        confidence: float,
    ) -> None:
        claims.append(
            Claim(
                claim_id=_sha1(article.article_id, index, claim_type, subject, obj, ",".join(members), metric),
                article_id=article.article_id,
                claim_type=claim_type,
                subject_iso3=subject,
                object_iso3=obj,
                members=members,
                metric=metric,
                value=value,
                as_of=as_of,
                as_of_precision=precision,
                evidence_text=evidence,
                confidence=confidence,
                modality="realized",
            )
        )

    rank = re.search(spec["ranking"]["phrase"], sentence, re.I)
    if rank:
        metric = spec["ranking"]["metrics"][rank.group("metric").lower()]
        value = next(str(v) for k, v in spec["ranking"]["ordinals"].items() if re.fullmatch(k, rank.group("ord"), re.I))
        prefix = sentence[: rank.start()]
        verbs = list(re.finditer(spec["ranking"]["overtake_verbs"], prefix, re.I))
        if verbs:
            verb = verbs[-1]
            subj = [m for m in actors if m.end <= verb.start()]
            obj = [m for m in actors if verb.end() <= m.start and m.end <= rank.start()]
            if subj:
                add("ranking", subj[-1].iso3, obj[0].iso3 if obj else None, [], metric, value, 0.85)
        else:
            bes = list(re.finditer(spec["ranking"]["be_verbs"], prefix, re.I))
            subj = [m for m in actors if bes and m.end <= bes[-1].start()]
            if subj:
                add("ranking", subj[-1].iso3, None, [], metric, value, 0.75)
    comparison = re.search(spec["comparison"]["phrase"], sentence, re.I)
    if comparison:
        subj = [m for m in actors if m.end <= comparison.start()]
        obj = [m for m in actors if m.start >= comparison.end()]
        if subj and obj and subj[-1].iso3 != obj[0].iso3:
            direction = (comparison.group("dir") or "more").lower()
            add("comparison", subj[-1].iso3, obj[0].iso3, [], spec["comparison"]["metric"], direction, 0.7)
    bloc = spec["bloc"]
    cue = re.search(bloc["cue"], sentence, re.I)
    if cue:
        lead = _LEADING_SUBORDINATE.match(sentence)
        scope = lead.end() if lead and lead.end() <= cue.start() else 0
        members: list[str] = []
        for m in actors:
            if m.start < scope or lex.bloc_exclude.search(sentence, scope, m.start):
                continue
            if m.iso3 not in members:
                members.append(m.iso3)
        if len(members) >= bloc["min_members"]:
            add("bloc_membership", None, None, members, "bloc_membership", None, 0.7)
    return claims


# ---------------------------------------------------------------------------------------------- entry point


_PIECE_BREAKS = (re.compile(r"[;:]\s+|\s+[–—]\s+|\s+--\s+"), re.compile(r",\s+"), re.compile(r"\s+"))


def sentence_pieces(text: str, start: int, end: int, limit: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """A sentence span cut into pieces of at most `limit` characters: at the last clause break (`;`, `:`, a
    dash) in the second half of each piece, else the last comma, else the last space, else at the limit."""
    pieces: list[tuple[int, int]] = []
    while end - start > limit:
        low, high = start + limit // 2, start + limit
        cut = None
        for pattern in _PIECE_BREAKS:
            for match in pattern.finditer(text, low, high):
                cut = match
            if cut is not None:
                break
        if cut is None:
            pieces.append((start, high))
            start = high
        else:
            pieces.append((start, cut.start()))
            start = cut.end()
    pieces.append((start, end))
    return [(s, e) for s, e in pieces if text[s:e].strip()]


def extract(article: Article, cuts: list[SentenceCut] | None = None) -> tuple[list[Event], list[Claim]]:
    """Events and claims of one article, deduplicated per sentence, with mention counts per article.

    A sentence longer than `MAX_SENTENCE_CHARS` is read in pieces (the events keep its index); each such
    sentence is appended to `cuts` when given, so the caller can report it."""
    lex = lexicon()
    events: list[Event] = []
    claims: list[Claim] = []
    text = article.text
    for index, (s_start, s_end) in enumerate(split_sentences(text)):
        pieces = [(s_start, s_end)]
        if s_end - s_start > MAX_SENTENCE_CHARS:
            pieces = sentence_pieces(text, s_start, s_end)
            if cuts is not None:
                cuts.append(
                    SentenceCut(article.article_id, article.file, article.line, index, s_start, s_end, len(pieces))
                )
        for start, end in pieces:
            sentence = text[start:end]
            # Cheapest test first: the gazetteer costs a fraction of the trigger lexicon per character.
            mentions = find_mentions(sentence, article.published_at, lex)
            if not mentions:
                continue
            if len({m.iso3 for m in mentions}) >= 2 and lex.any_trigger.search(sentence) is not None:
                events.extend(_events_in_sentence(article, index, start, sentence, mentions, lex))
            if lex.claim_hint.search(sentence) is not None:
                claims.extend(_claims_in_sentence(article, index, sentence, mentions, lex))
    unique: dict[tuple[Any, ...], Event] = {}
    for event in events:
        a, b = event.actor1_iso3, event.actor2_iso3
        pair = (a, b) if event.directed else tuple(sorted((a, b)))
        key = (event.sentence_idx, pair, event.relation_type, event.modality)
        if key not in unique:
            unique[key] = event
    counts = Counter(
        (
            (e.actor1_iso3, e.actor2_iso3) if e.directed else tuple(sorted((e.actor1_iso3, e.actor2_iso3))),
            e.relation_type,
            e.modality,
        )
        for e in unique.values()
    )
    result = []
    for event in unique.values():
        pair = (
            (event.actor1_iso3, event.actor2_iso3)
            if event.directed
            else tuple(sorted((event.actor1_iso3, event.actor2_iso3)))
        )
        event.n_mentions = counts[(pair, event.relation_type, event.modality)]
        event.record_id = _sha1(
            event.article_id,
            event.sentence_idx,
            event.actor1_iso3,
            event.actor2_iso3,
            event.cameo_code,
            event.relation_type,
            event.modality,
        )
        result.append(event)
    seen_claims: dict[str, Claim] = {}
    for claim in claims:
        seen_claims.setdefault(claim.claim_id, claim)
    return result, list(seen_claims.values())
