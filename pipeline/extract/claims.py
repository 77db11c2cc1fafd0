"""Claims: monadic statements of a sentence for `article_claims`: rankings ("X surpassed Y as the most
sanctioned country", "X is the second most sanctioned ..."), comparisons ("more sanctions than") and
bloc membership (a club, axis or alliance naming at least three countries, less those it opposes)."""

from __future__ import annotations

import re

from pipeline.extract.actors import Mention, usable
from pipeline.extract.articles import Article
from pipeline.extract.dates import resolve_date
from pipeline.extract.lexicon import Lexicon
from pipeline.extract.records import EVIDENCE_MAX, Claim, sha1
from pipeline.extract.sentences import LEADING_SUBORDINATE


def claims_in_sentence(
    article: Article, index: int, sentence: str, mentions: list[Mention], lex: Lexicon
) -> list[Claim]:
    """The ranking, comparison and bloc-membership claims of one sentence (or piece)."""
    spec = lex.claims
    claims: list[Claim] = []
    actors = [m for m in mentions if usable(m)]
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
                claim_id=sha1(article.article_id, index, claim_type, subject, obj, ",".join(members), metric),
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
        lead = LEADING_SUBORDINATE.match(sentence)
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
