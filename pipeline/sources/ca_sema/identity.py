"""Record ids for a list that has none.

The Canadian list's only key, ``Country|Schedule|Item``, is unique within a file but changes
between snapshots: the regime label is renamed (``Burma / Birmanie`` -> ``Myanmar (Burma) /
Myanmar (Birmanie)``), schedules are renumbered (``2`` -> ``1, Part 2``), items are renumbered as
records are removed. A record's history must follow the record, so its id comes from what it
says, not from where it sits:

    source_record_id = <PROGRAM>/<identity>
    identity         = imo-<IMO number>                 a vessel
                     | <normalised LastName GivenName>  a person
                     | <normalised Entity name>         an organization

``PROGRAM`` is the regime's programme code (``lookups/regimes.csv``: both Burma labels are
``BURMA``). The name is reduced to what survives the list's own edits: accents, case,
punctuation and spacing are dropped (:func:`slug`: ``LUKASHENKO, Aleksandr`` and ``Lukashenko
Aleksandr`` are one); in a person's name, so are the usual drifts of transliteration from Russian
(:func:`name_key`: ``y`` is read as ``i`` and a doubled letter as one: ``Sergei``/``Sergey``,
``Vasilievich``/``Vasilyevich``/``Vasiliyevich``). An organization's legal form is kept
(``Stroytransgaz LLC`` and ``Stroytransgaz OJSC`` are two listings); its name written
``English/French`` (``Presidential Guard/Garde présidentielle``, 2020) is keyed on its English
half, so the later ``Presidential Guard`` is the same record. The date of birth is *not* part of
the id: Canada adds dates of birth to old records (``Rotenberg Boris`` had none in 2020, has one
in 2025), and the id must survive that.

Two records of one file with the same id (the same name twice in one regime, e.g. a person
listed in two parts of a schedule): the first keeps the plain id, a later one adds its date of
birth (``RUSSIA/ivanov-sergei/1953-01-31``) or, without one, its schedule and item
(``RUSSIA/meniailo-sergei-ivanovich/1-part-1-1-item-6``). Items are numbered as they are added, so
the first in file order is usually the one listed earlier: a homonym added later does not change
the id of the record already there.

``entity_key`` groups the records of one target across regimes (a person listed under both the
Russia and the Ukraine regulations): the identity without the programme, with the date of birth
of a person when the record has one (two homonyms with different dates of birth stay apart).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

_WORD = re.compile(r"[^\W_]+")
_RUN = re.compile(r"(.)\1+", re.S)


def _words(text: str) -> list[str]:
    # ASCII text has no decomposition and no combining mark: the per-character pass is for the rest
    folded = text if text.isascii() else \
        "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _WORD.findall(folded.casefold())


def slug(text: str) -> str:
    """Lower-case words of ``text`` joined by ``-``, accents and punctuation dropped."""
    return "-".join(_words(text))


def name_key(text: str) -> str:
    """:func:`slug` with ``y`` read as ``i`` and doubled letters as one (transliteration drift)."""
    # a run of one letter becomes the letter (words never hold "-", so runs stay within a word)
    return _RUN.sub(r"\1", "-".join(_words(text)).replace("y", "i"))


def english_half(name: str) -> str:
    """``Presidential Guard/Garde présidentielle`` -> ``Presidential Guard``: an organization
    name split by one slash into two halves of two words or more; any other name as it is."""
    halves = name.split("/")
    if len(halves) == 2 and all(len(_words(half)) >= 2 for half in halves):
        return halves[0]
    return name


def identity(*, imo: str | None, person_name: str | None, entity_name: str | None) -> str:
    """The identity of a record without its regime (see the module docstring)."""
    if imo:
        return f"imo-{slug(imo)}"
    if person_name:
        return name_key(person_name)
    return slug(english_half(entity_name or ""))


@dataclass
class RecordIds:
    """Hands out the record ids of one snapshot, unique within it."""

    used: set[str] = field(default_factory=set)

    def assign(self, program: str, ident: str, birth: str | None, schedule: str | None,
               item: str | None) -> tuple[str, bool]:
        """The record's id, and whether it clashed with an earlier record even after the date of
        birth and the schedule and item were added (only when the file repeats a key)."""
        base = f"{program}/{ident}"
        candidates = [base]
        if birth:
            candidates.append(f"{base}/{birth}")
        where = " ".join(p for p in (schedule, "item", item) if p)
        candidates.append(f"{base}/{slug(where)}")
        for candidate in candidates:
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate, False
        n = 2
        while f"{candidates[-1]}-{n}" in self.used:
            n += 1
        self.used.add(f"{candidates[-1]}-{n}")
        return f"{candidates[-1]}-{n}", True
