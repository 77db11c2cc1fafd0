"""Stage 3, triggers and roles: the relation a clause reports and who did what to whom. Trigger words
(`data/triggers.yaml`) give the relation type and CAMEO code (transfer verbs take theirs from the nearest
object class); the trigger's role finds the actors: the subject before it and the target after it
(forward, visit), the recipient before and the source after "from" (reverse), joint acts (symmetric),
the possessive or demonym right before a noun trigger (adjacent), passives ("delivered to Y by X")."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from pipeline.extract.actors import Mention, usable
from pipeline.extract.lexicon import Lexicon

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


def _tail_start(text: str, end: int, runs: int) -> int:
    """Start of the `runs`-th whitespace-separated run of characters before `end` (0 if there are fewer)."""
    i = end
    for _ in range(runs):
        while i > 0 and text[i - 1].isspace():
            i -= 1
        while i > 0 and not text[i - 1].isspace():
            i -= 1
    return i


@dataclass
class Candidate:
    """A trigger match with its relation, CAMEO codes and the actor pairs its role gives."""

    trigger: str
    start: int
    end: int
    relation: str
    code: str
    planned_code: str
    pairs: list[tuple[Mention, Mention, bool]] = field(default_factory=list)
    explicit: bool = True


class Clause:
    """One clause with what every trigger in it looks up, computed once (so the work per clause stays in
    proportion to its length): its mentions with their starts and ends, the object classes, complementizers
    and force words."""

    def __init__(self, clause: str, offset: int, mentions: list[Mention], lex: Lexicon) -> None:
        self.text, self.offset, self.mentions, self.lex = clause, offset, mentions, lex
        # the act an object-relative clause comments on ("..., a deal Azerbaijan condemned"; "..., which Baghdad
        # condemned as aggression"): the main clause's subject, the target of a criticism without one
        self.commented: list[Mention] = []
        # the article's most salient countries, for the author of an act criticised without a name ("condemned
        # the launch")
        self.implicit: list[str] = []
        self.starts = [m.start for m in mentions]
        self.ends = [m.end for m in mentions]
        self.between = [m for m in mentions if m.prep in ("between", "among") and usable(m)]
        self.complementizers = list(_COMPLEMENTIZER.finditer(clause))
        self._complementizer_ends = [c.end() for c in self.complementizers]
        self._complementizer_starts = [c.start() for c in self.complementizers]
        self._objects: dict[str, list[int]] = {}
        self._force: bool | None = None

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


def _first(mentions: Iterable[Mention], keep: Any) -> list[Mention]:
    """The first mention satisfying `keep`, as a list of at most one."""
    for m in mentions:
        if keep(m):
            return [m]
    return []


_OBJECT_POSITION = re.compile(
    r"\b(?!(?:and|or|but|while|as|that|which|then|also|said|says|when|after|before|since|if|because)\b)[a-z]+\s+$"
)
_APPOSITION = re.compile(r",\s+(?:a|an|the)\s+(?:[\w-]+\s+){0,2}$", re.I)


def _subject(
    before: list[Mention], text: str = "", offset: int = 0, until: int | None = None
) -> tuple[list[Mention], bool]:
    """The subject before a trigger (with its conjuncts) and whether it was found without a fallback. A country
    inside an apposition ("Japan, a US treaty ally, has ...") is passed over for the head before it."""
    chosen, explicit = -1, True
    for i in range(len(before) - 1, -1, -1):
        if usable(before[i]) and before[i].prep == "":
            if text and i > 0 and before[i].possessive and _OBJECT_POSITION.search(
                text, max(0, before[i].start - offset - 30), before[i].start - offset
            ):
                continue  # "refused to condemn Russia's invasion and remains ...": an object, not the subject
            chosen = i
            break
    at = before[chosen].start - offset if chosen > 0 else 0
    closed = text and until is not None and "," in text[before[chosen].end - offset : until] if chosen > 0 else False
    if chosen > 0 and closed and _APPOSITION.search(text, max(0, at - 40), at):
        for i in range(chosen - 1, -1, -1):
            if usable(before[i]) and before[i].prep == "" and not before[i].conj_prev:
                if text[before[i].end - offset : before[chosen].start - offset].count(",") == 1:
                    chosen = i
                break
    if chosen < 0:
        for i in range(len(before) - 1, -1, -1):
            m = before[i]
            if usable(m) and m.prep in ("with", "between", "among") and m.kind != "pronoun":
                chosen, explicit = i, False
                break
    if chosen < 0:
        return [], False
    group = [before[chosen]]
    index = chosen
    while group[0].conj_prev:
        index -= 1
        while index >= 0 and not usable(before[index]):
            index -= 1
        if index < 0:
            break
        group.insert(0, before[index])
    return group, explicit


IMPLICIT_ACT = re.compile(
    r"\s+(?:the|this|that|its|their|his|her)\s+(?:[\w-]+\s+){0,2}?(?:launch|missile\s+test|nuclear\s+test|test|attack|"
    r"strikes?|invasion|annexation|incursion|seizure|downing|shelling|bombing|raid|coup|crackdown|blockade|execution|"
    r"killing|detention|arrest)\b(?!\s+(?:on|against|by|in|of|at)\b)",
    re.I,
)
_RECIPROCAL = re.compile(r"\s+(?:\w+\s+){0,2}?(?:each\s+other|one\s+another)\b", re.I)


def _group_before(before: list[Mention], preps: tuple[str, ...]) -> list[Mention]:
    """The last conjoined group of usable mentions before a trigger whose head follows one of `preps`."""
    for i in range(len(before) - 1, -1, -1):
        m = before[i]
        if not usable(m) or m.conj_prev:
            continue
        if m.prep in preps:
            group = [m]
            for following in before[i + 1 :]:
                if not following.conj_prev or not usable(following):
                    break
                group.append(following)
            return group
    return []


def _possessor(before: list[Mention], clause: str, offset: int, start: int) -> Mention | None:
    """The possessive right before a noun trigger ("one of Turkey's biggest trading partners"), if any."""
    for m in reversed(before):
        if usable(m) and m.possessive and _ADJACENT_GAP.fullmatch(clause, m.end - offset, start):
            return m
        break
    return None


def _first_target(
    after: list[Mention],
    preps: frozenset[str],
    skip_by: bool = False,
    not_of: frozenset[str] = frozenset(),
    inside_end: int = -1,
) -> list[Mention]:
    """The first possible target after a trigger, with the conjuncts that follow it ('to Syria and Iraq'); a
    mention of the subject's own country inside the trigger's words (`not_of`, `inside_end`: "froze the US
    assets of Russian officials") is passed over."""
    rest = (m for m in after if m.prep != "by") if skip_by else iter(after)
    for m in rest:
        if m.iso3 in not_of and (m.start < inside_end or m.kind == "anaphor"):
            continue
        if usable(m) and m.kind != "pronoun" and not m.speaker and m.prep in preps:
            group = [m]
            for following in rest:
                if not (following.conj_prev and following.kind != "pronoun"):
                    break
                group.append(following)
            return group
    return []


def _object_pronoun(
    after: list[Mention], before: list[Mention], subjects: list[Mention], preps: frozenset[str]
) -> list[Mention]:
    """An object 'it' right after the trigger ("severed relations with Qatar, accusing it of ..."; "backed
    Azerbaijan and supplied it with drones") stands for the last country named before the trigger that is not
    its subject, not for the subject the sentence-wide pronoun rule would give."""
    first = next((m for m in after if usable(m) and not m.speaker and m.prep in preps), None)
    if first is None or first.kind != "pronoun" or first.text.lower() != "it" or not subjects:
        return []
    taken = {m.iso3 for m in subjects}
    for m in reversed(before):
        if usable(m) and m.kind not in ("pronoun", "anaphor") and m.iso3 not in taken and not m.speaker:
            return [m]
    return []


def _object_class(ctx: Clause, start: int, end: int, allowed: dict[str, str]) -> str | None:
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


def _candidate(trig: dict[str, Any], match: re.Match[str], ctx: Clause) -> Candidate | None:
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
    if floor is not None and not before and _relative_head(clause, floor, start):
        # "Chinese companies that supply drone engines to Russia": the relative's antecedent is the subject
        head = ctx.mentions[bisect_right(ctx.starts, floor_abs - 60) : bisect_right(ctx.ends, floor_abs)]
        before = [m for m in head if usable(m) and (m.kind == "demonym" or m.possessive or m.prep == "")][-1:]
    cand = Candidate(trig["name"], abs_start, abs_end, relation, code, planned_code)
    role = trig["role"]
    passive = ctx.passive_before(start) and not match.group(0).split()[0].lower().endswith("ing")

    if trig.get("source") == "adjacent":
        sources: list[Mention] = []
        for m in reversed(before):
            if (
                usable(m)
                and (m.possessive or m.kind == "demonym")
                and _ADJACENT_GAP.fullmatch(clause, m.end - offset, start)
            ):
                sources = [m]
                break
        if not sources:
            sources = _first(after, lambda m: m.prep == "by")
        if not sources and relation == "use_of_force":
            # "Russian forces pressed towards Kyiv on the second day of a full-scale invasion of Ukraine"
            subjects, _ = _subject(before, clause, offset, start)
            sources = [m for m in subjects[-1:] if m.actor_type == "MIL"]
        targets = _first_target(after, frozenset(trig.get("target_preps", _TARGET_PREPS)), skip_by=True)
        cand.pairs = [(s, t, True) for s in sources for t in targets]
        return cand

    if role == "symmetric" or role == "symmetric_or_forward":
        between = [m for m in ctx.between if (floor_abs < m.start and m.end <= abs_start) or m.start >= after_from]
        if len({m.iso3 for m in between}) >= 2:
            cand.pairs = _all_pairs(between)
            return cand
        subjects, explicit = _subject(before, clause, offset, start)
        cand.explicit = explicit
        partner = _possessor(before, clause, offset, start) if trig.get("possessive_target") else None
        if partner is not None:
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
        elif not subjects:
            # "Warships from the two countries were holding joint exercises": a joint act of a group named
            # after "from" or "of" before the trigger
            group = _group_before(before, ("from", "of"))
            if len({m.iso3 for m in group}) >= 2:
                cand.pairs, cand.explicit = _all_pairs(group), False
        return cand

    if role == "signed_by":
        # "The pact was signed by Crown Prince Mohammed bin Salman and Pakistani Prime Minister Shehbaz Sharif";
        # "signed in Prague by Presidents Obama and Medvedev": the signatories after "by" are the parties
        group: list[Mention] = []
        for m in after:
            if m.prep == "by" or (group and m.conj_prev):
                if usable(m) and not m.speaker:
                    group.append(m)
            elif group:
                break
        if len({m.iso3 for m in group}) >= 2:
            cand.pairs = _all_pairs(group)
        return cand

    if role == "reverse":
        recipients, explicit = _subject(before, clause, offset, start)
        cand.explicit = explicit
        if trig.get("source_preps"):
            # "intercepted with the help of the United States, Britain, France and Jordan"
            sources = _first_target(after, frozenset(trig["source_preps"]))
            cand.pairs = [(s, r, True) for s in sources for r in recipients]
            return cand
        sources = _first(after, lambda m: m.prep == "from" and usable(m))
        if not sources:
            sources = _first(
                after, lambda m: m.prep in ("", "of") and (m.kind == "demonym" or m.possessive) and usable(m)
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
        sources = _first(after, lambda m: m.prep == "by" and usable(m))
        targets = _first(after, lambda m: m.prep == "to" and usable(m))
        if not targets:
            targets, _ = _subject(before)
        cand.pairs = [(s, t, True) for s in sources for t in targets]
        return cand
    subjects, explicit = _subject(before, clause, offset, start)
    cand.explicit = explicit
    if len({m.iso3 for m in subjects}) >= 2 and _RECIPROCAL.match(clause, end):
        cand.pairs = _all_pairs(subjects)  # "both sides accused each other of ..."
        return cand
    target = _possessor(before, clause, offset, start) if trig.get("possessive_target") else None
    if target is not None and len(before) >= 2:
        rest, _ = _subject([m for m in before if m is not target and m.iso3 != target.iso3])
        cand.pairs = [(s, target, True) for s in rest]
        return cand
    if relation == "criticism" and ctx.implicit and subjects and not _first_target(after, preps):
        act = IMPLICIT_ACT.match(clause, end)
        taken = {m.iso3 for m in subjects}
        author = next((c for c in ctx.implicit if c not in taken), None)
        if act is not None and author is not None:
            implicit = Mention(abs_end, abs_end, author, "", "anaphor", "GOV")
            cand.pairs, cand.explicit = [(s, implicit, True) for s in subjects], False
            return cand
    if relation == "criticism" and ctx.commented and subjects and not _first_target(after, preps):
        cand.pairs = [(s, t, True) for s in subjects for t in ctx.commented if s.iso3 != t.iso3]
        return cand
    targets = _object_pronoun(after, before, subjects, preps) or _first_target(
        after, preps, not_of=frozenset(m.iso3 for m in subjects), inside_end=abs_end
    )
    if "objects" in trig and targets and role == "forward":
        # "approved the delivery to Ukraine of launchers from the Netherlands and howitzers from Estonia": the
        # countries the goods come from are the sources, not the approver
        taken = {m.iso3 for m in subjects} | {m.iso3 for m in targets}
        origins = [
            m for m in after if m.prep == "from" and usable(m) and m.kind != "pronoun" and m.iso3 not in taken
        ]
        if origins and all(m.start > targets[0].start for m in origins):
            subjects, cand.explicit = origins, False
    if not subjects and "objects" in trig:
        origin = _first(
            chain(before, after), lambda m: m.compound == "origin" or (m.kind == "demonym" and m.prep == "")
        )
        if origin:
            subjects, cand.explicit = origin, False
    if not targets and trig.get("group_pairs") and len({m.iso3 for m in subjects}) >= 2:
        cand.pairs = _all_pairs(subjects)  # "Mr Trump and Mr Putin met for nearly three hours"
        return cand
    cand.pairs = [(s, t, True) for s in subjects for t in targets]
    return cand


_RELATIVE_NOUN = re.compile(
    r"\b(?:companies|company|firms?|entities|entity|banks?|businesses|suppliers?|exporters?|manufacturers?|"
    r"individuals|networks?|traders?|shippers?|vessels|tankers|ships|refiner(?:y|ies)|makers?|producers?)\s*,?\s*$",
    re.I,
)


def _relative_head(clause: str, comp_start: int, trigger_start: int) -> bool:
    """'that'/'which'/'who' opening a relative clause on a business noun, the trigger within three words."""
    word = clause[comp_start : comp_start + 6].lower()
    if not word.startswith(("that", "which", "who")):
        return False
    gap = clause[comp_start:trigger_start].split()
    return len(gap) <= 4 and _RELATIVE_NOUN.search(clause, max(0, comp_start - 40), comp_start) is not None


def _all_pairs(group: list[Mention]) -> list[tuple[Mention, Mention, bool]]:
    unique: list[Mention] = []
    seen: set[str] = set()
    for m in group:
        if m.iso3 not in seen:
            seen.add(m.iso3)
            unique.append(m)
    return [(a, b, False) for i, a in enumerate(unique) for b in unique[i + 1 :]]


# Polarity: a transfer, trade or support trigger under a ban, sanction, embargo or designation is the
# coercive act's object ("banned imports of Turkish goods", "export controls on chips to China"), never a
# cooperation tie. A relative clause opened after the cue states a tie of its own ("designated Chinese firms
# that supply drone engines to Russia": Chinese -> Russia supply), so the cue does not reach past it.
COOPERATION = frozenset(
    ["arms_transfer", "military_cooperation", "technology_transfer", "financial_integration",
     "economic_cooperation", "energy_cooperation", "diplomatic_support", "bloc_alignment"]
)
_COERCION_CUE = re.compile(
    r"\b(?:ban(?:s|ned|ning)?|bar(?:s|red|ring)?|embargo\w*|sanction\w*|blacklist\w*|designat\w*|restrict\w*|"
    r"curb\w*|tariffs?|duties|export\s+controls|controls\s+on|boycott\w*|prohibit\w*|anti-dumping|entity\s+list|"
    r"penalt\w+|punish\w*|retaliat\w*|abus\w+|block\w*|suppress\w*|clos(?:e|es|ed|ing)|stop\s+selling)\b",
    re.I,
)
_LIFTED = re.compile(
    r"\b(?:paus\w*|suspend\w*|lift\w*|eas(?:e|es|ed|ing)|end(?:s|ed|ing)?|scrap\w*|remov\w*|halv\w*|roll\w*\s+back|"
    r"revok\w*|waiv\w*)\s+(?:[\w-]+\s+){0,5}?$",
    re.I,
)
_THREATENED = re.compile(r"\bthreat(?:en|ens|ened|ening)\s+to\b(?:(?!\bbut\b)[^;.])*$", re.I)
_RELATIVE = re.compile(r"\b(?:that|which|who)\b", re.I)
_COERCION_REACH = 120


_COERCION_NEXT = re.compile(
    r"\s+(?:blacklists?|bans?|controls|restrictions|curbs|embargo\w*|licen[cs]es?|licen[cs]ing|caps?)\b", re.I
)


def _under_coercion(ctx: Clause, cand: Candidate) -> bool:
    start = cand.start - ctx.offset
    if _COERCION_NEXT.match(ctx.text, cand.end - ctx.offset):
        return True  # "its export blacklist", "export controls": the trigger word names the coercive act
    window = ctx.text[max(0, start - _COERCION_REACH) : cand.end - ctx.offset]
    cues = list(_COERCION_CUE.finditer(window))
    if not cues:
        after = ctx.text[cand.end - ctx.offset : cand.end - ctx.offset + 40]
        return re.match(r"\s+(?:\w+\s+){0,4}?(?:were|was|are|is|be|been)\s+(?:\w+ly\s+)?(?:banned|barred|"
                        r"restricted|blocked|sanctioned|prohibited|embargoed)\b", after, re.I) is not None
    if _LIFTED.search(window, max(0, cues[-1].start() - 40), cues[-1].start()):
        return False  # "pause its restrictions on rare earth exports and resume buying American soybeans"
    return _RELATIVE.search(window, cues[-1].end()) is None


def candidates_in_clause(ctx: Clause) -> list[Candidate]:
    """The triggers of one clause that name two different countries in their roles, in order; of triggers
    that overlap, the one starting first (then the longest) is kept."""
    candidates: list[Candidate] = []
    for trig in ctx.lex.triggers:
        for match in trig["regex"].finditer(ctx.text):
            cand = _candidate(trig, match, ctx)
            if cand is not None and any(a.iso3 != b.iso3 for a, b, _ in cand.pairs):
                if cand.relation in COOPERATION and _under_coercion(ctx, cand):
                    continue
                if cand.relation in ("sanctions", "use_of_force") and _THREATENED.search(
                    ctx.text, max(0, cand.start - ctx.offset - 100), cand.start - ctx.offset
                ):
                    continue  # "threatened to suspend relations", "... and to impose sanctions": the threat is the tie
                candidates.append(cand)
    candidates.sort(key=lambda c: (c.start, -(c.end - c.start)))
    kept: list[Candidate] = []
    for cand in candidates:
        # kept spans are sorted and disjoint, so only the last one can reach this start
        if kept and cand.start < kept[-1].end:
            continue
        kept.append(cand)
    return kept
