"""Stage 2, actors: the country mentions of one sentence. Gazetteer matches (names, codes, demonyms,
capitals, metonyms, leaders in office on the publication date), overlap-resolved and guarded against
ambiguous words; adjacent mentions of one country merged ("Iranian President Ebrahim Raisi"); each
annotated with its grammatical context (preposition before it, conjunction with the previous one,
possessive, compound such as "Iranian-made", speaker of a report, actor type); pronouns resolved to
the nearest earlier country that is not a prepositional object."""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from dataclasses import dataclass

from pipeline.extract.lexicon import Lexicon


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


def usable(m: Mention) -> bool:
    """A mention that can be a party to an event: not a compound such as "Iranian-made" or "US-led"."""
    return not m.compound


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
# "from the United States, the European Union, Australia, Canada and Norway": a list goes on past items that
# are not countries (names of blocs or organisations, capitalised)
_LIST_OTHER_ITEMS = re.compile(
    r"\s*,\s*(?:(?:the\s+)?(?-i:[A-Z])[\w.&-]*(?:\s+(?:of\s+)?(?-i:[A-Z])[\w.&-]*){0,3}\s*,\s*){1,2}(?:and\s+)?(?:the\s+)?"
)
_POSSESSIVE = re.compile(r"(?:['’]s\b|['’](?=\s))")
_LIST_GOES_ON = re.compile(r"(?:['’]s)?\s*,|(?:['’]s)?\s+(?:and|or)\s", re.I)
_SPEAKER = re.compile(
    r"(?:['’]s)?\s+(?:(?!(?:and|or|but)\b)\w+\s+){0,3}?(?:said|says|told|claimed|claims|insisted|reported|stated|added)\b",
    re.I,
)
_PRONOUN = re.compile(r"\b(?:it|its|they|their)\b", re.I)
# "the presidents of Russia and China signed ...": a country after "<role noun> of" is the head of the phrase,
# so it takes the phrase's place in the clause (a subject or a target) rather than being a prepositional object.
_ROLE_OF = re.compile(
    r"\b(?:presidents?|leaders?|heads?\s+of\s+state|(?:prime|foreign|defen[cs]e|trade|finance|energy|interior)?\s*"
    r"ministers?|ministr(?:y|ies)|governments?|officials|delegations?|envoys?|ambassadors?|armies|army|"
    r"armed\s+forces|forces|troops|navies|navy|militar(?:y|ies)|authorities|parliaments?|kings?|emirs?|"
    r"chancellors?|premiers?|rulers?|regimes?|administrations?|embass(?:y|ies)|(?:central\s+)?banks)\s+of\s+(?:the\s+)?$",
    re.I,
)
# A plural anaphor standing for countries named earlier in the article: "the two governments", "both sides",
# "the three countries". Group 1 is the number (a word), group 2 the noun.
_PLURAL_ANAPHOR = re.compile(
    r"\b(?:the\s+(two|three|four)|(both))\s+(?:\w+\s+)?(countries|governments|nations|sides|leaders|presidents|"
    r"capitals|neighbou?rs|states|allies|powers|armies|militaries|navies|foreign\s+ministers|ministers|"
    r"delegations|rivals|partners|heads\s+of\s+state|administrations)\b",
    re.I,
)
_NUMBERS = {"two": 2, "both": 2, "three": 3, "four": 4}
_PRONOUN_STOP = re.compile(
    r"\s+(?:is|was|has|had|would|will)\s+(?:\w+\s+)?(?:clear|likely|unclear|possible|expected|time|important)\b", re.I
)


def find_mentions(
    sentence: str, published: dt.date, lex: Lexicon, salient: list[str] | None = None
) -> list[Mention]:
    """Country mentions of one sentence, overlap-resolved (longest first), with their grammatical context.

    `salient`: the article's countries so far, most salient first; a plural anaphor ("the two governments")
    then stands for the first ones not named in this sentence, as a conjoined group of mentions."""
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
    if salient is not None or mentions:
        mentions = _nominal_anaphors(sentence, mentions, salient or [], lex)
    groups = _anaphor_groups(sentence, mentions, salient) if salient is not None else []
    if groups:
        mentions = sorted(mentions + [m for g in groups for m in g], key=lambda m: m.start)
    _annotate(mentions, sentence, lex)
    _join_groups(groups)
    # Mentions are sorted and do not overlap, so their starts and ends are both ascending.
    starts = [m.start for m in mentions]
    antecedents = _Antecedents(mentions)
    pronouns = []
    for pronoun in _PRONOUN.finditer(sentence):
        at = bisect_right(starts, pronoun.start()) - 1
        if (at >= 0 and pronoun.start() < mentions[at].end) or _PRONOUN_STOP.match(sentence, pronoun.end()):
            continue
        antecedent = antecedents.before(pronoun.start(), pronoun.group(0).lower() in ("it", "its"))
        members = _conjoined(mentions, antecedent) if pronoun.group(0).lower() in ("they", "their") else []
        if len(members) >= 2 and len(members) <= pronoun.end() - pronoun.start():
            # "Hungary and Slovakia have said they will keep buying Russian gas": the whole group
            group = [
                Mention(
                    pronoun.start() + i,
                    pronoun.start() + i + 1 if i < len(members) - 1 else pronoun.end(),
                    m.iso3,
                    pronoun.group(0),
                    "anaphor",
                    m.actor_type,
                )
                for i, m in enumerate(members)
            ]
            pronouns.extend(group)
            groups.append(group)
        elif antecedent is not None:
            pronouns.append(
                Mention(
                    pronoun.start(), pronoun.end(), antecedent.iso3, pronoun.group(0), "pronoun", antecedent.actor_type
                )
            )
    if pronouns:
        mentions = sorted(mentions + pronouns, key=lambda m: m.start)
        _annotate(mentions, sentence, lex)
        _join_groups(groups)
    return mentions


_NOMINAL = re.compile(r"\bthe\s+(kingdom|emirate|sultanate|island)\b(?!\s+of\b)", re.I)


def _nominal_anaphors(sentence: str, mentions: list[Mention], salient: list[str], lex: Lexicon) -> list[Mention]:
    """'the kingdom', 'the emirate', 'the island': the last country of that kind named before it in the sentence,
    else the article's most salient one so far (`data/nominals.yaml`)."""
    added: list[Mention] = []
    for match in _NOMINAL.finditer(sentence):
        if any(m.start < match.end() and match.start() < m.end for m in mentions):
            continue
        kinds = lex.nominals.get(match.group(1).lower(), ())
        earlier = [m.iso3 for m in mentions if m.end <= match.start() and not m.compound and m.iso3 in kinds]
        chosen = earlier[-1] if earlier else next((c for c in salient if c in kinds), None)
        if chosen is not None:
            added.append(Mention(match.start(), match.end(), chosen, match.group(0), "anaphor", "GOV"))
    return sorted(mentions + added, key=lambda m: m.start) if added else mentions


def _conjoined(mentions: list[Mention], head: Mention | None) -> list[Mention]:
    """The countries of the conjoined group `head` belongs to ("Hungary and Slovakia"), one per country; [] when
    it stands alone."""
    if head is None or head.kind in ("pronoun", "anaphor"):
        return []
    index = next((i for i, m in enumerate(mentions) if m is head), None)
    if index is None:
        return []
    first = index
    while first > 0 and mentions[first].conj_prev:
        first -= 1
    last = index
    while last + 1 < len(mentions) and mentions[last + 1].conj_prev:
        last += 1
    members: list[Mention] = []
    for m in mentions[first : last + 1]:
        if m.compound or m.kind in ("pronoun", "anaphor") or any(o.iso3 == m.iso3 for o in members):
            continue
        members.append(m)
    return members if len(members) >= 2 else []


def _anaphor_groups(sentence: str, mentions: list[Mention], salient: list[str]) -> list[list[Mention]]:
    """Mentions for the plural anaphors of a sentence: "the two countries" is the two most salient countries
    of the article not named in the sentence, one mention per country, splitting the anaphor's span."""
    groups: list[list[Mention]] = []
    for match in _PLURAL_ANAPHOR.finditer(sentence):
        if any(m.start < match.end() and match.start() < m.end for m in mentions):
            continue
        # a country named after the anaphor ("the two governments signed agreements ... in Ulaanbaatar") may be
        # one of the two; one named before it ("China accused the three countries") is not
        named = {m.iso3 for m in mentions if m.end <= match.start()}
        n = _NUMBERS[(match.group(1) or match.group(2)).lower()]
        # "Lula met Xi in Beijing, and the two governments signed ...": the countries just named, when there are
        # as many; else the article's most salient ones not named in this sentence ("China accused the three
        # countries": not China)
        earlier: list[str] = []
        for m in mentions:
            if m.end <= match.start() and not m.compound and m.iso3 not in earlier:
                earlier.append(m.iso3)
        chosen = earlier[-n:] if len(earlier) == n else [iso3 for iso3 in salient if iso3 not in named][:n]
        if len(chosen) < n or match.end() - match.start() < n:
            continue
        start, end = match.start(), match.end()
        group = []
        for i, iso3 in enumerate(chosen):
            s_i = start + i
            e_i = start + i + 1 if i < n - 1 else end
            group.append(Mention(s_i, e_i, iso3, match.group(0), "anaphor", "GOV"))
        groups.append(group)
    return groups


def _join_groups(groups: list[list[Mention]]) -> None:
    """The mentions of one anaphor form a conjoined group with the context of its first."""
    for group in groups:
        head = group[0]
        for m in group[1:]:
            m.conj_prev, m.prep, m.speaker = True, head.prep, head.speaker
            head.possessive, head.compound = group[-1].possessive, group[-1].compound


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
        if previous is not None and (
            (_CONJ_GAP.match(gap) and ("," not in gap or comma_list)) or _LIST_OTHER_ITEMS.fullmatch(gap)
        ):
            m.conj_prev, m.prep = True, previous.prep
        else:
            word = _WORD_BEFORE.search(sentence[max(0, m.start - 40) : m.start])
            m.conj_prev = False
            m.prep = word.group(1).lower() if word and word.group(1).lower() in _PREPS else ""
            if m.prep == "of" and _ROLE_OF.search(sentence, max(0, m.start - 60), m.start):
                m.prep = ""
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
        # "it"/"its" never stands for a bare adjective on a thing ("stopped buying Russian gas for its own use")
        self.singular = [-1]
        for i, m in enumerate(mentions):
            eligible = m.kind != "pronoun" and not m.compound and not (m.kind == "demonym" and m.actor_type is None)
            self.singular.append(i if eligible and m.prep in ("", "by") else self.singular[-1])

    def before(self, position: int, singular: bool = False) -> Mention | None:
        count = bisect_right(self.ends, position)
        index = self.subject[count] if self.subject[count] >= 0 else self.nearest[count]
        chosen = self.mentions[index] if index >= 0 else None
        if singular and chosen is not None and chosen.kind == "demonym" and chosen.actor_type is None:
            index = self.singular[count] if self.singular[count] >= 0 else index
        return self.mentions[index] if index >= 0 else None
