"""Names as comparable tokens: transliterated, spelling-folded, order-free.

``Musa Abu MARZOUK`` and ``ABU MARZOOK, Mousa Mohammed`` must compare as the same person while
``Viktor Aleksandrovich LUKASHENKO`` and ``Dmitry Aleksandrovich LUKASHENKO`` must not, so a name
becomes a set of tokens, each in two forms:

- ``form``: ASCII (ICU transliteration through ``normality``), lower case, with the spellings
  that transliterations of Arabic, Persian and Cyrillic names vary on folded together
  (``ou``/``oo``/``u``, ``q``/``k``, ``kh``/``h``, ``y``/``i``, doubled letters...);
- ``key``: the form without its vowels after the first letter (``mhmd`` for every Muhammad),
  used to find candidate tokens, never alone to decide.

Connectors and particles (``al``, ``bin``, ``ibn``, ``de``...) and honorifics are dropped;
``Abd al-Rahman``, ``Abdul Rahman`` and ``Abdulrahman`` become one token. For organizations and
vessels the legal forms (LLC, OOO, PJSC, Limited...) are removed through ``rigour``'s table and a
small list of our own: a name left with no token (``CORP``) never matches anything.
"""

from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass

from normality import ascii_text
from rapidfuzz.distance import JaroWinkler, Levenshtein

# Tokens that carry no identity: Arabic and European particles, honorifics, ranks.
PERSON_STOPWORDS = frozenset(
    "al el ul bin ibn bint ben bn b ould wuld de del della der di da dos das du la le van von y e "
    "mr mrs ms dr haji hajji alhaj alhaji sheikh shaykh shaikh mullah mulla maulavi mawlawi maulvi "
    "qari sayed sayyid syed sayid general colonel lieutenant major brigadier".split()
)
# Legal forms and filler words of organization and vessel names, after rigour's own table.
ORG_STOPWORDS = frozenset(
    "the of and for in a an et und llc ooo oao zao pao ao jsc pjsc cjsc ojsc ojs cjs ip tov pat prat "
    "inc corp corporation co company cie ltd limited plc llp lp gmbh ag sa sarl sas spa srl bv nv "
    "fze fzco fzc fz llc. est establishment group holding holdings mv m v".split()
)
_APOSTROPHE = re.compile(r"(?<=[a-z])['`\u2018\u2019\u02bb\u02bf\u02be](?=[a-z])")
_AH = re.compile(r"(?<=[a-z]{2})ah$")
_ABD = re.compile(r"^(abdul|abdel|abdal|abdoul|abdoel|abdu|abdol|abd)(?=[a-z]{3})")
_SPLIT = re.compile(r"[^a-z0-9]+")
# Folded spellings, applied in this order (digraphs before single letters).
_FOLDS = (
    ("sch", "s"), ("tch", "c"), ("dzh", "j"), ("dj", "j"), ("zh", "j"), ("kh", "h"), ("gh", "g"),
    ("sh", "s"), ("ch", "c"), ("ph", "f"), ("th", "t"), ("dh", "d"), ("ck", "k"), ("ts", "c"),
    ("q", "k"), ("w", "v"), ("x", "ks"), ("ou", "u"), ("oo", "u"), ("ee", "i"), ("ey", "i"), ("ay", "ai"),
    ("y", "i"), ("ie", "i"), ("ei", "i"), ("e", "i"), ("o", "u"),
)
# Cyrillic й transliterated as j after a vowel (Aleksej, Sergej): a vowel, as Alexey writes it.
_J_VOWEL = re.compile(r"(?<=[aeiouy])j(?=[^aeiouy]|$)")
_VOWELS = re.compile(r"[aeiou]")
_REPEAT = re.compile(r"(.)\1+")
# the repeated letter once (a C-level callable: a "\1" template is expanded in Python at each match)
_FIRST = operator.itemgetter(1)


@functools.lru_cache(maxsize=1 << 18)
def fold(token: str) -> str:
    """One token in its spelling-folded form (``marzouk``, ``marzook``, ``marzuq`` -> ``marzuk``)."""
    text = _REPEAT.sub(_FIRST, _J_VOWEL.sub("i", token))
    for old, new in _FOLDS:
        text = text.replace(old, new)
    return _REPEAT.sub(_FIRST, text)


@functools.lru_cache(maxsize=1 << 18)
def consonant_key(form: str) -> str:
    """The folded form without its vowels after the first letter (``muhamad`` -> ``mhmd``)."""
    return form[:1] + _REPEAT.sub(_FIRST, _VOWELS.sub("", form[1:]))


@functools.lru_cache(maxsize=1 << 16)
def _ascii(text: str) -> str:
    return (ascii_text(text) or "").lower()


def _org_stripped(text: str) -> str:
    from rigour.names import replace_org_types_compare

    try:
        return replace_org_types_compare(text)
    except Exception:  # noqa: BLE001 - rigour's table is a help, not a requirement
        return text


@dataclass(frozen=True)
class NameTokens:
    """One name, compared as a set of folded tokens."""

    raw: str
    forms: tuple[str, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(consonant_key(f) for f in self.forms)


@functools.lru_cache(maxsize=1 << 18)
def tokens(name: str, kind: str = "person") -> tuple[str, ...]:
    """The folded tokens of one name, sorted, without duplicates. ``kind`` is ``person`` or any other
    entity type (legal forms removed)."""
    text = name
    if kind != "person":
        text = _org_stripped(text)
    # an apostrophe or okina inside a word joins it (QA'IDA, Sa'd); a final -ah is -a (Jemaah, Hamzah)
    raw = [_AH.sub("a", t) for t in _SPLIT.split(_APOSTROPHE.sub("", _ascii(text))) if t]
    stop = PERSON_STOPWORDS if kind == "person" else ORG_STOPWORDS
    out: list[str] = []
    i = 0
    while i < len(raw):
        token = raw[i]
        if token in ("abd", "abdul", "abdel", "abdal", "abdoul", "abdu", "abdol"):
            # "Abd al-Rahman", "Abdul Rahman" -> one token "abdrahman"
            j = i + 1
            while j < len(raw) and raw[j] in ("al", "el", "ul", "ar", "ur", "as", "an", "ad", "az"):
                j += 1
            if j < len(raw):
                token = "abd" + raw[j]
                i = j
        token = _ABD.sub("abd", token)
        i += 1
        if token in stop or (kind != "person" and token.isdigit() and len(token) < 2):
            continue
        out.append(fold(token))
    return tuple(sorted(set(t for t in out if t)))


_PARENS = re.compile(r"\s*\([^()]*\)\s*")


def split_variants(name: str) -> list[str]:
    """A name field that holds several names (``Azim Adhajani; Azim Agha-Jani``, ``HARAKAT UL-MUJAHIDIN /
    HUM``) as its names; a name with a part in brackets (``ARMAMENT INDUSTRIES GROUP (AIG)``) also
    without it."""
    parts = [p.strip() for p in re.split(r";|\s/\s", name) if p.strip()] or [name]
    out = []
    for part in parts:
        out.append(part)
        bare = _PARENS.sub(" ", part).strip()
        if bare and bare != part:
            out.append(bare)
    return out


@functools.lru_cache(maxsize=1 << 20)
def token_match(a: str, b: str) -> bool:
    """Whether two folded tokens are the same word written two ways (whole tokens only: an initial
    or a joined name is no match)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if la <= 2 or lb <= 2:
        return False
    if consonant_key(a) == consonant_key(b):
        return JaroWinkler.similarity(a, b) >= 0.8
    return la >= 6 and lb >= 6 and -1 <= la - lb <= 1 and Levenshtein.distance(a, b) <= 1


def coverage(short: tuple[str, ...], long: tuple[str, ...]) -> int:
    """How many tokens of ``short`` have a distinct partner in ``long`` (exact partners first)."""
    left = [t for t in long if t not in short]
    pending = [t for t in short if t not in long]
    matched = len(short) - len(pending)
    for token in pending:
        for i, other in enumerate(left):
            if token_match(token, other):
                del left[i]
                matched += 1
                break
    return matched


@dataclass(frozen=True)
class NameAgreement:
    """How two names agree: ``full`` (every token of each has a partner in the other), ``subset``
    (every token of the shorter, at least two, has a partner), else ``partial``; ``score`` in 0..1."""

    level: str
    score: float
    shared: int
    left: tuple[str, ...]
    right: tuple[str, ...]


@functools.lru_cache(maxsize=1 << 20)
def compare(a: tuple[str, ...], b: tuple[str, ...]) -> NameAgreement:
    """Compare two token sets (see :func:`tokens`; both sorted, without duplicates)."""
    if not a or not b:
        return NameAgreement("none", 0.0, 0, a, b)
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    shared = coverage(short, long)
    if shared == len(short) == len(long):
        return NameAgreement("full", 1.0, shared, a, b)
    if shared == len(short) and len(short) >= 2:
        return NameAgreement("subset", round(0.9 - 0.02 * min(len(long) - len(short), 3), 4), shared, a, b)
    return NameAgreement("partial", round(0.8 * shared / len(long), 4), shared, a, b)
