"""Stage 1, sentences and clauses: sentence spans of an article (lines, then sentence ends, not after
abbreviations); a sentence over `MAX_SENTENCE_CHARS` cut into pieces at clause breaks and reported as a
`SentenceCut`; and the clauses of a sentence (cut at `;`, dashes, contrastive and relative conjunctions,
a leading subordinate clause, and conjunctions a country follows)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.extract.actors import Mention

# Longest sentence read as one: a longer one (a page without full stops) is read in pieces of at most this
# many characters, cut at clause breaks, and each cut is reported (`SentenceCut`). It bounds the work per
# sentence, so an article costs time in proportion to its length whatever its punctuation.
MAX_SENTENCE_CHARS = 2000

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


_CLAUSE_ALWAYS = re.compile(
    r"\s*;\s*|(?<!\ball)(?<!\bnothing)(?<!\banything)(?<!\beveryone)(?<!\blast),?\s+(?:but|while|whereas|although|though|yet)\s+|,\s+(?:which|who|where|when)\s+|\s+[–—]\s+|\s+--\s+"
    # ", and Defence Secretary Ashton Carter said ...": a new speaker opens a new clause
    r"|,\s+and\s+(?=(?:(?-i:[A-Z])[\w.'’-]*\s+){1,5}(?:said|says|told|added|warned)\b)",
    re.I,
)
RELATIVE_OPENER = re.compile(r",\s+(?:which|who)\s+", re.I)
RELATIVE_RESUME = re.compile(
    r",\s+(?=(?:has|have|had|is|are|was|were|will|would|said|says|also|then|now)\b)(?![^,;]*,\s+(?:which|who)\s)",
    re.I,
)
# ", a deal Azerbaijan condemned", ", which Baghdad condemned as aggression": a clause commenting on the act
# before it, cut when a country opens it
OBJECT_RELATIVE = re.compile(
    r",\s+(?:which|(?:a|an|the)\s+(?:[\w-]+\s+){0,2}?(?:decision|deal|move|moves|step|agreement|plan|charge|attack|"
    r"strike|launch|measures?|policy|act|test|actions?|visit|contract|sale|purchase|exercises|drills)(?:\s+that)?)\s+"
    r"(?:the\s+)?",
    re.I,
)
_CLAUSE_IF_SUBJECT = re.compile(r",?\s+(?:since|after|before|because|when|as|once|until|and|so)\s+", re.I)
_LEAD_IN = re.compile(r"(?:the\s+)?", re.I)
LEADING_SUBORDINATE = re.compile(
    r"^\s*(?:As|While|After|Since|When|Although|Though|Because|If|Once|Before|Despite)\b[^,]{0,200},"
)


def split_clauses(sentence: str, mentions: list[Mention]) -> list[tuple[int, int]]:
    cuts: set[int] = set()
    lead = LEADING_SUBORDINATE.match(sentence)
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
    # "Zelensky, who was not invited to the talks, is due to meet Mr Trump": the relative clause ends at the
    # comma before the main clause's verb, so its cues ("not") do not reach the main clause.
    for match in _CLAUSE_ALWAYS.finditer(sentence):
        if RELATIVE_OPENER.match(sentence, match.start()):
            resume = RELATIVE_RESUME.search(sentence, match.end())
            if resume is not None:
                cuts.add(resume.start())
    for match in OBJECT_RELATIVE.finditer(sentence):
        if match.end() in starts:
            cuts.add(match.start())
    bounds = sorted(c for c in cuts if 0 < c < len(sentence))
    spans, start = [], 0
    for cut in bounds:
        spans.append((start, cut))
        start = cut
    spans.append((start, len(sentence)))
    return spans
