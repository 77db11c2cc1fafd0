"""The ``Aliases`` free text of the Canadian list -> one name per alias.

Aliases come joined in one element, written by hand: commas and semicolons separate them (a line
break does not: it wraps a long name, ``Zadna\nInternational Investments``), and a language label
may open a group (``Belarusian: Мікалай ...; Russian: Николай ...``,
also mid-text: ``... Mousa Arabic:عبدالرحيم``). The labels (``lookups/alias_labels.csv``) are
separators, not names. A comma can also sit inside one name before a legal form
(``ПЭМЗ "Молот", АО``): a piece that is only a legal form (``lookups/legal_forms.csv``) stays with
the name before it. "or" and "and", and slashes, are left inside the names: they join spelling
variants as often as they sit inside a name ("... for the Storage and Distribution of ...").

An alias written in a non-Latin script only (Cyrillic, Arabic, Hebrew...) is ``original_script``;
the others are ``aka``.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from pathlib import Path

LOOKUPS = Path(__file__).resolve().parent / "lookups"


@functools.cache
def _column(name: str, column: str) -> tuple[str, ...]:
    with open(LOOKUPS / name, encoding="utf-8", newline="") as handle:
        return tuple(row[column] for row in csv.DictReader(handle))


@functools.cache
def _label_pattern() -> re.Pattern[str]:
    labels = sorted(_column("alias_labels.csv", "label"), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(map(re.escape, labels)) + r")\s*:", re.IGNORECASE)


@functools.cache
def _legal_forms() -> frozenset[str]:
    return frozenset(form.casefold().rstrip(".") for form in _column("legal_forms.csv", "form"))


def split_aliases(raw: str) -> list[str]:
    """The names in one ``Aliases`` text, in order, without repeats."""
    text = _label_pattern().sub(";", " ".join(raw.split()))
    names: list[str] = []
    for piece in re.split(r"[;,]", text):
        name = " ".join(piece.split()).strip()
        if not name:
            continue
        if names and name.casefold().rstrip(".") in _legal_forms():
            names[-1] = f"{names[-1]}, {name}"
            continue
        names.append(name)
    unique: list[str] = []
    for name in names:
        if name not in unique:
            unique.append(name)
    return unique


def is_original_script(name: str) -> bool:
    """Whether a name has letters and none of them Latin (the name as written in its own script)."""
    if name.isascii():  # ASCII letters are all Latin
        return False
    letters = {c for c in name if c.isalpha()}
    return bool(letters) and not any(map(_is_latin, letters))


@functools.lru_cache(maxsize=8192)
def _is_latin(letter: str) -> bool:
    return unicodedata.name(letter, "").startswith("LATIN")
