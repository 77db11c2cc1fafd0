"""Rule-based extraction of dyadic events and monadic claims from one news article: the stages composed.

`extract(article)` returns `(events, claims)`: `Event` rows for `article_events` (a country pair, a
relation type, its CAMEO code, QuadClass and Goldstein value from the lookup, the modality, the event
date and the evidence sentence) and `Claim` rows for `article_claims` (rankings such as "the most
sanctioned country", comparisons, bloc membership). No model is downloaded. The stages, each a module
beside this one: `sentences` (sentences, pieces of long ones, clauses), `actors` (country mentions),
`triggers` (relations and roles), `modality`, `dates` and `claims`; `lexicon` loads every lookup of
`pipeline/extract/data/` once, and `records` holds the row types.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import replace
from typing import Any

from pipeline.extract.actors import Mention, find_mentions, usable
from pipeline.extract.articles import Article
from pipeline.extract.claims import claims_in_sentence
from pipeline.extract.dates import resolve_date
from pipeline.extract.learned import Model, RuleTie, SentenceView, default_model, learned_ties
from pipeline.extract.lexicon import Lexicon, lexicon, quad_class_for
from pipeline.extract.modality import ClauseModality, SentenceCues
from pipeline.extract.records import EVIDENCE_MAX, EXTRACTION_METHOD, MODEL_METHOD, Claim, Event, sha1
from pipeline.extract.sentences import (
    MAX_SENTENCE_CHARS,
    OBJECT_RELATIVE,
    RELATIVE_OPENER,
    RELATIVE_RESUME,
    SentenceCut,
    sentence_pieces,
    split_clauses,
    split_sentences,
)
from pipeline.extract.triggers import IMPLICIT_ACT, Candidate, Clause, candidates_in_clause


class _Salience:
    """The article's countries so far, most salient first: how often each was named, with a bonus for the
    first sentence naming any (a news lead names the main actors), earlier first mention breaking ties.
    Plural anaphors ("the two governments") resolve against it."""

    LEAD_BONUS = 2

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.first: dict[str, int] = {}
        self.lead: set[str] = set()
        self._ranked: list[str] | None = []

    def observe(self, mentions: list[Mention]) -> None:
        named = [m.iso3 for m in mentions if not m.compound and m.kind not in ("pronoun", "anaphor")]
        if not named:
            return
        if not self.lead:
            self.lead = set(named)
        for iso3 in named:
            self.first.setdefault(iso3, len(self.first))
        self.counts.update(named)
        self._ranked = None

    def ranked(self) -> list[str]:
        if self._ranked is None:
            self._ranked = sorted(
                self.counts, key=lambda c: (-(self.counts[c] + self.LEAD_BONUS * (c in self.lead)), self.first[c])
            )
        return self._ranked


def _confidence(cand: Candidate, a: Mention, b: Mention, modality: str, precision: str) -> float:
    """Heuristic: 0.5, +0.2 for an explicit subject, +0.1 for named actors, +0.05 for a stated date, +0.1
    when not hedged; at most 0.95."""
    score = 0.5 + (0.2 if cand.explicit else 0.0)
    score += 0.1 if {a.kind, b.kind} <= {"name", "code", "leader", "capital", "metonym"} else 0.0
    score += 0.05 if precision != "article" else 0.0
    score += 0.1 if modality in ("realized", "planned") else 0.0
    return round(min(score, 0.95), 2)


def _opens_with_country(sentence: str, c_start: int, starts: list[int]) -> bool:
    opener = OBJECT_RELATIVE.match(sentence, c_start)
    if opener is None:
        return False
    at = bisect_left(starts, opener.end())
    return at < len(starts) and starts[at] == opener.end()


def _commented_act(sentence: str, c_start: int, mentions: list[Mention], starts: list[int]) -> list[Mention]:
    """For a clause commenting on the act before it, a country opening it ("..., a deal Azerbaijan condemned";
    "..., which Venezuela's defence minister called a provocation"): the main clause's subject (the first
    country of the sentence named without a preposition, with its conjuncts)."""
    opener = OBJECT_RELATIVE.match(sentence, c_start)
    if opener is None:
        return []
    at = bisect_left(starts, opener.end())
    if at >= len(mentions) or mentions[at].start != opener.end():
        return []
    speaker = mentions[at].iso3
    for i, m in enumerate(mentions[:at]):
        if usable(m) and m.prep == "" and not m.speaker and m.kind not in ("pronoun",):
            group = [m]
            for following in mentions[i + 1 : at]:
                if not following.conj_prev:
                    break
                group.append(following)
            return [replace(g, prep="", conj_prev=False) for g in group if g.iso3 != speaker]
    return []


_ROLE_GAP = re.compile(r"(?:['’]s)?(?:\s+[a-z][\w-]*){1,3}")


def _relative_antecedent(
    sentence: str, c_start: int, mentions: list[Mention], starts: list[int], ends: list[int]
) -> list[Mention]:
    """A clause opened by ", which" / ", who" right after a country ("India, which signed its own deal with
    Russia"; "Russia and China, which ...") has that country (with its conjuncts) as its subject: copies of the
    antecedent mentions, subjects of the relative clause, placed before it."""
    if _commented_act(sentence, c_start, mentions, starts) or _opens_with_country(sentence, c_start, starts):
        return []  # ", which Baghdad condemned": the country after "which" is the subject, not the antecedent
    if RELATIVE_RESUME.match(sentence, c_start):
        # the main clause resuming after a relative clause: its subject is the relative's antecedent
        openers = [o.start() for o in RELATIVE_OPENER.finditer(sentence, 0, c_start)]
        if not openers:
            return []
        c_start = openers[-1]
    elif not RELATIVE_OPENER.match(sentence, c_start):
        return []
    index = bisect_right(ends, c_start) - 1
    if index < 0 or not usable(mentions[index]):
        return []
    gap = sentence[mentions[index].end : c_start]
    # "India, which": the country itself; "Niger's junta, which": a role of the country, not a prepositional object
    m = mentions[index]
    if gap and (m.prep or not (m.possessive or m.actor_type) or not _ROLE_GAP.fullmatch(gap)):
        return []
    group = [mentions[index]]
    while group[0].conj_prev and index > 0:
        index -= 1
        group.insert(0, mentions[index])
    if any(not usable(m) or m.kind == "pronoun" for m in group):
        return []
    copies = [replace(m, prep="", speaker=False, possessive=False) for m in group]
    for i, m in enumerate(copies):
        m.conj_prev = i > 0
    return copies


def _events_in_sentence(
    article: Article,
    index: int,
    s_start: int,
    sentence: str,
    mentions: list[Mention],
    lex: Lexicon,
    salient: list[str] | None = None,
) -> list[Event]:
    """The events of one sentence (or piece): per clause naming two countries, the kept trigger candidates,
    each actor pair with its modality and the clause's date, as `Event` rows."""
    events: list[Event] = []
    cues = SentenceCues(sentence, mentions, lex)
    starts, ends = [m.start for m in mentions], cues.ends
    for c_start, c_end in split_clauses(sentence, mentions):
        # Mentions are sorted and do not overlap: those inside the clause are one contiguous run.
        in_clause = mentions[bisect_left(starts, c_start) : bisect_right(ends, c_end)]
        in_clause = _relative_antecedent(sentence, c_start, mentions, starts, ends) + in_clause
        commented = _commented_act(sentence, c_start, mentions, starts)
        act = IMPLICIT_ACT.search(sentence, c_start, c_end) if salient else None
        if len({m.iso3 for m in in_clause + commented}) < 2 and act is None:
            continue
        ctx = Clause(sentence[c_start:c_end], c_start, in_clause, lex)
        ctx.commented = commented
        if act is not None and salient:
            # "Japan and South Korea condemned the launch": the act's author is the article's most salient
            # country not criticising it
            ctx.implicit = [iso3 for iso3 in salient[:2]]
        kept = candidates_in_clause(ctx)
        if not kept:
            continue
        event_date, precision = resolve_date(ctx.text, article.published_at)
        moods = ClauseModality(ctx.text, c_start, cues, lex)
        for cand in kept:
            for a, b, directed in cand.pairs:
                if a.iso3 == b.iso3:
                    continue
                modality = moods.of(cand.start - c_start, a, cand.relation, b)
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


DEFAULT_MODEL: Any = object()  # stands for the committed model (learned.default_model)


def extract(
    article: Article, cuts: list[SentenceCut] | None = None, model: Model | None | object = DEFAULT_MODEL
) -> tuple[list[Event], list[Claim]]:
    """Events and claims of one article, deduplicated per sentence, with mention counts per article.

    A sentence longer than `MAX_SENTENCE_CHARS` is read in pieces (the events keep its index); each such
    sentence is appended to `cuts` when given, so the caller can report it. `model`: the learned
    component (`learned.py`) that adds the ties the rules miss; the committed one by default, None for
    the rules alone."""
    chosen = default_model() if model is DEFAULT_MODEL else model
    events, claims, _ = extract_views(article, cuts, chosen)  # type: ignore[arg-type]
    return events, claims


def extract_views(
    article: Article, cuts: list[SentenceCut] | None = None, model: Model | None = None
) -> tuple[list[Event], list[Claim], list[tuple[SentenceView, list[RuleTie]]]]:
    """`extract`, also returning each sentence (or piece) naming a country with the rules' ties in it (what
    the learned component reads, and what its training script learns from)."""
    lex = lexicon()
    events: list[Event] = []
    claims: list[Claim] = []
    views: list[SentenceView] = []
    text = article.text
    salience = _Salience()
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
            salient = salience.ranked()
            mentions = find_mentions(sentence, article.published_at, lex, salient)
            salience.observe(mentions)
            if not mentions:
                continue
            views.append(SentenceView(index, start, sentence, mentions, list(salient[:4])))
            if (
                len({m.iso3 for m in mentions}) >= 2 or (salient and IMPLICIT_ACT.search(sentence) is not None)
            ) and lex.any_trigger.search(sentence) is not None:
                events.extend(_events_in_sentence(article, index, start, sentence, mentions, lex, salient))
            if lex.claim_hint.search(sentence) is not None:
                claims.extend(claims_in_sentence(article, index, sentence, mentions, lex))
    by_piece: dict[int, list[RuleTie]] = {}
    for e in events:
        by_piece.setdefault(e.char_start, []).append(
            RuleTie(e.actor1_iso3, e.actor2_iso3, e.relation_type, e.directed, e.modality)
        )
    pairs = [(view, by_piece.get(view.start, [])) for view in views]
    if model is not None:
        for view, rules in pairs:
            events.extend(_learned_events(article, view, rules, model, lex))
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
        event.record_id = sha1(
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
    return result, list(seen_claims.values()), pairs


def _learned_events(
    article: Article, view: SentenceView, rules: list[RuleTie], model: Model, lex: Lexicon
) -> list[Event]:
    """The model's added ties of one sentence as `Event` rows (an implicit party's text is empty)."""
    out: list[Event] = []
    ties = learned_ties(view, rules, model, lex)
    if not ties:
        return out
    event_date, precision = resolve_date(view.text, article.published_at)
    for t in ties:
        m1, m2 = t.first_mention, t.second_mention
        if t.actor1 != t.first:
            m1, m2 = m2, m1
        a_iso, b_iso = t.actor1, t.second if t.actor1 == t.first else t.first
        codes = lex.relations[t.relation]
        code = codes["planned"] if t.modality == "planned" else codes["code"]
        out.append(
            Event(
                record_id="",
                article_id=article.article_id,
                sentence_idx=view.index,
                char_start=view.start,
                char_end=view.start + len(view.text),
                evidence_text=view.text[:EVIDENCE_MAX],
                actor1_text=m1.text if m1 is not None else "",
                actor2_text=m2.text if m2 is not None else "",
                actor1_iso3=a_iso,
                actor2_iso3=b_iso,
                actor1_type="GOV" if m1 is None else m1.actor_type,
                actor2_type="GOV" if m2 is None else m2.actor_type,
                directed=t.directed,
                relation_type=t.relation,
                cameo_code=code,
                cameo_root=code[:2],
                quad_class=quad_class_for(code),
                goldstein=lex.cameo[code][1],
                modality=t.modality,
                event_date=event_date,
                date_precision=precision,
                confidence=round(min(0.95, 0.3 + 0.5 * t.probability), 2),
                n_mentions=1,
                extraction_method=f"{MODEL_METHOD}/{t.relation}",
            )
        )
    return out
