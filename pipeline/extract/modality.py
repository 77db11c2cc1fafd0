"""Stage 4, modality: whether an event is realized, planned, alleged or denied. Cues
(`data/modality.yaml`) count when they stand before the trigger in its clause; an attribution tail
(", officials said") anywhere after it makes the event alleged unless its speaker is the event's source.
The first of denied, planned and alleged found wins; else realized."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from pipeline.extract.actors import Mention
from pipeline.extract.lexicon import Lexicon

_SPEAKER_GAP = re.compile(
    r"(?:['’]s)?(?:\s+(?!(?:when|after|before|while|as|and|but)\b)[\w-]+){0,5}(?:,\s+(?:which|who)\b[^;,]*,)?\s*"
)


_TAIL_VERB = re.compile(r"\b(?:said|say|says|told|reported|claimed|claims|alleged|according\s+to)\b", re.I)


_SCOPE_BREAK = re.compile(
    r"\band\s+(?:also\s+|still\s+|now\s+)?(?:remains?|remained|is|are|was|were|has|have|had|became|becomes|signed|"
    r"said|says|agreed|sent|supplied|delivered|hosted|held)\b",
    re.I,
)


_NO_SPEAKER = re.compile(r"[,\s\"”’]*(?:(?:and|but|also|has|have|had)\s+)*", re.I)


_APPROVAL = re.compile(
    r"\b(?:approv\w*|authori[sz]\w*|green-?lit|sign\w*\s+off\s+on)\s+(?:the\s+|a\s+)?(?:[\w-]+\s+)?$", re.I
)


class SentenceCues:
    """Sentence-wide lookups shared by every trigger of one sentence: where mentions end (for the speaker of a
    cue) and the attribution tails (", officials said"), each searched once."""

    def __init__(self, sentence: str, mentions: list[Mention], lex: Lexicon) -> None:
        self.sentence, self.mentions, self.lex = sentence, mentions, lex
        self.ends = [m.end for m in mentions]
        self._tails: dict[str, list[tuple[int, frozenset[str]] | None]] | None = None

    def last_before(self, position: int) -> Mention | None:
        """The last mention that ends at or before `position`."""
        index = bisect_right(self.ends, position) - 1
        return self.mentions[index] if index >= 0 else None

    def tails(self, name: str = "alleged") -> list[tuple[int, frozenset[str]] | None]:
        """Per sentence-level pattern of `name` (alleged: attribution tails; denied: ", a charge Turkey denies"):
        its first match's start and the countries that match names."""
        if self._tails is None:
            self._tails = {}
        if name not in self._tails:
            found: list[tuple[int, frozenset[str]] | None] = []
            starts = [m.start for m in self.mentions]
            for regex in self.lex.modality_sentence.get(name, ()):
                hit = regex.search(self.sentence)
                if hit is None:
                    found.append(None)
                    continue
                # the speaker of an attribution tail is named before its verb (", a Biden administration official
                # said on Saturday, days after a newspaper reported that Beijing ...": not Beijing)
                verb = _TAIL_VERB.search(self.sentence, hit.start(), hit.end()) if name == "alleged" else None
                until = verb.start() if verb is not None else hit.end()
                inside = self.mentions[bisect_left(starts, hit.start()) : bisect_left(starts, until)]
                if verb is not None and verb.group(0).lower().startswith("according"):
                    inside = self.mentions[bisect_left(starts, verb.end()) : bisect_left(starts, hit.end())]
                elif (
                    verb is not None
                    and not inside
                    and _NO_SPEAKER.fullmatch(self.sentence, hit.start(), verb.start())
                ):
                    # ", said China would ...", ", and said ...": the sentence's subject speaks
                    inside = [m for m in self.mentions[: bisect_left(starts, hit.start())] if m.prep == ""][:1]
                found.append((hit.start(), frozenset(m.iso3 for m in inside)))
            self._tails[name] = found
        return self._tails[name]


class _CuePattern:
    """The matches of one modality cue pattern in one clause, found once. `any_before(end, source)` says
    whether the pattern matches in the clause cut at `end` (the trigger's start), as a search of that prefix
    would: matches ending before it are taken as found; the last one, when it reaches `end`, is read again
    with the clause cut there. Alleged cues spoken by the event's own source do not count."""

    def __init__(self, regex: re.Pattern[str], clause: str, offset: int, cues: SentenceCues, alleged: bool) -> None:
        self.regex, self.clause, self.offset, self.cues, self.alleged = regex, clause, offset, cues, alleged
        self.hits = list(regex.finditer(clause))
        self.starts = [h.start() for h in self.hits]
        self.blockers: list[frozenset[str] | None] = []
        self.first_other = len(self.hits)  # index of the first hit whose blocker differs from the first one's
        if alleged:
            self.blockers = [self._blocker(h) for h in self.hits]
            self.first_other = next(
                (i for i, b in enumerate(self.blockers) if b != self.blockers[0]), len(self.hits)
            )

    def _blocker(self, hit: re.Match[str]) -> frozenset[str] | None:
        """The countries whose own statement this cue is ('Iran said it had sent ...'; 'Britain, France and
        Germany said they regretted ...': the whole conjoined group), else None."""
        if not self.cues.lex.self_attribution.search(hit.group(0)):
            return None
        speaker = self.cues.last_before(self.offset + hit.start())
        if speaker is None or not _SPEAKER_GAP.fullmatch(self.cues.sentence, speaker.end, self.offset + hit.start()):
            return None  # "..., when Gazprom's chief executive said": not the country named earlier
        group = [speaker]
        index = self.cues.mentions.index(speaker)
        while group[0].conj_prev and index > 0:
            index -= 1
            group.insert(0, self.cues.mentions[index])
        return frozenset(m.iso3 for m in group)

    def any_before(self, end: int, source: Mention, parties: frozenset[str] = frozenset()) -> bool:
        count = bisect_left(self.starts, end)
        if count == 0:
            return False
        extra: list[re.Match[str]] = []
        if self.hits[count - 1].end() >= end:
            count -= 1
            extra = list(self.regex.finditer(self.clause, self.hits[count].start(), end))
        if not self.alleged:
            if extra:
                return True
            # a negation or plan reaches no further than a coordinated finite verb ("has refused to condemn
            # Russia's invasion and remains the largest buyer of Russian weapons")
            return any(_SCOPE_BREAK.search(self.clause, self.hits[i].end(), end) is None for i in range(count))
        own = parties | {source.iso3}

        def third_party(blocker: frozenset[str] | None) -> bool:
            return not (blocker and blocker & own)

        if count > 0 and (third_party(self.blockers[0]) or self.first_other < count):
            return True
        return any(third_party(self._blocker(hit)) for hit in extra)


class ClauseModality:
    """The modality of each event of one clause. The cue patterns' matches in the clause are found once, on
    the first question, and each trigger's answer is read from them."""

    def __init__(self, clause: str, offset: int, cues: SentenceCues, lex: Lexicon) -> None:
        self.text, self.offset, self.cues, self.lex = clause, offset, cues, lex
        self._patterns: dict[str, list[_CuePattern]] | None = None

    def _cue_patterns(self) -> dict[str, list[_CuePattern]]:
        if self._patterns is None:
            self._patterns = {
                name: [_CuePattern(rx, self.text, self.offset, self.cues, name == "alleged") for rx in patterns]
                for name, patterns in self.lex.modality_before.items()
            }
        return self._patterns

    def of(self, trigger_start: int, source: Mention, relation: str = "", target: Mention | None = None) -> str:
        """realized, unless a cue before the trigger in its clause (or an attribution tail after it) says
        denied, planned or alleged; the first of those in `modality.yaml`'s priority wins. A report by either
        party ("Iran said it had sent ..."; "Russian forces launched drones at Ukraine, Ukraine's air force said")
        is not an allegation: only a third party's is."""
        lex = self.lex
        parties = frozenset([source.iso3] + ([target.iso3] if target is not None else []))
        found = {
            name
            for name, patterns in self._cue_patterns().items()
            if any(pattern.any_before(trigger_start, source, parties) for pattern in patterns)
        }
        if "planned_unless_agreement" in found and relation != "agreement":
            found.add("planned")
        if _APPROVAL.search(self.text, max(0, trigger_start - 60), trigger_start):
            found.add("planned")  # "approved the delivery to Ukraine of ...": cleared, not yet done
        position = self.offset + trigger_start
        for tail in self.cues.tails("alleged"):
            if tail is not None and tail[0] >= position and not (parties & tail[1]):
                found.add("alleged")
        # a denial after the tie, by anyone ("..., a charge Turkey denies", "..., which both governments deny")
        # (not the accusation itself: "A accused B of X, a charge B denies" keeps A's criticism realized)
        if relation != "criticism" and any(
            tail is not None and tail[0] >= position for tail in self.cues.tails("denied")
        ):
            found.add("denied")
        for name in lex.modality_priority:
            if name in found:
                return name
        return "realized"
