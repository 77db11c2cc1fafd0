"""Country and sanctions-programme reference tables, and a strict resolver for country values.

The tables live next to this module as CSV files (see README.md in this folder):

* ``countries.csv`` -- one row per ISO 3166-1 country or territory plus Kosovo (XK), with the
  Correlates of War, CAMEO and FIPS 10-4 codes used by the event and voting sources.
* ``country_names.csv`` -- every spelling a source uses, mapped to an ISO alpha-2 code (or
  deliberately to nothing, for non-countries, historical states and ambiguous values).
* ``programs.csv`` -- sanctions programme -> target country.

Only the standard library is used. Resolution is strict: a value is looked up after
:func:`normalize_country_name`, never fuzzily; anything not in the tables comes back with
``matched=False`` so that the pipeline can report it instead of guessing a country.

Example::

    >>> r = CountryResolver.load()
    >>> r.resolve("Korea, North")
    CountryMatch(iso2='KP', region=None, matched=True)
    >>> r.resolve("Region: Crimea")
    CountryMatch(iso2='UA', region='crimea', matched=True)
    >>> r.resolve("Soviet Union")
    CountryMatch(iso2=None, region=None, matched=True)
    >>> r.resolve("Atlantis")
    CountryMatch(iso2=None, region=None, matched=False)
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CAMEO_NON_COUNTRY_CODES",
    "CAMEO_REGION_CODES",
    "COUNTRIES_CSV",
    "COUNTRY_NAMES_CSV",
    "PROGRAMS_CSV",
    "REFERENCE_DIR",
    "Country",
    "CountryMatch",
    "CountryResolver",
    "load_programs",
    "normalize_country_name",
    "program_targets",
]

REFERENCE_DIR: Path = Path(__file__).resolve().parent
COUNTRIES_CSV: Path = REFERENCE_DIR / "countries.csv"
COUNTRY_NAMES_CSV: Path = REFERENCE_DIR / "country_names.csv"
PROGRAMS_CSV: Path = REFERENCE_DIR / "programs.csv"

#: CAMEO actor codes (GDELT ``CAMEO.country.txt``) that denote a sub-national area of a country.
CAMEO_REGION_CODES: dict[str, tuple[str, str | None]] = {
    "WSB": ("PS", "west_bank"),
    "GZS": ("PS", "gaza"),
    "BAG": ("IQ", None),  # Baghdad
}
#: CAMEO codes for world regions (and the dissolved Netherlands Antilles): known, not countries.
CAMEO_NON_COUNTRY_CODES: frozenset[str] = frozenset(
    "AFR ASA BLK CRB CAU CFR CAS CEU EIN EAF EEU EUR LAM MEA MDT NAF NMR PGS SCN SAM SAS SEA SAF "
    "WAF WST ANT".split()
)

_QUOTES = str.maketrans(
    {
        "\u2018": "'",  # left single quotation mark
        "\u2019": "'",  # right single quotation mark
        "\u201a": "'",
        "\u201b": "'",
        "\u02bc": "'",  # modifier letter apostrophe
        "\u00b4": "'",  # acute accent used as apostrophe
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
    }
)
_REGION_PREFIX = "region:"
_ISO2_UPPER = re.compile(r"[A-Z]{2}")
_ALPHA2 = re.compile(r"[a-z]{2}")
_ALPHA3 = re.compile(r"[a-z]{3}")


def normalize_country_name(value: str) -> str:
    """Return the lookup key of a country value.

    Curly quotes become straight quotes, the value is case-folded, runs of whitespace
    (including newlines and non-breaking spaces) collapse to one space, the ends are trimmed
    and trailing full stops are removed. Nothing else is changed: accents, parentheses and
    qualifiers stay, so ``"Indonesia (as at Dec. 2003)"`` does not become ``"indonesia"``.
    """
    key = " ".join(value.translate(_QUOTES).split()).casefold()
    while key.endswith("."):
        key = key[:-1].rstrip()
    return key


@dataclass(frozen=True)
class CountryMatch:
    """Outcome of resolving one country value.

    * ``matched=True`` and ``iso2`` set: a country (``region`` names a sub-national area such as
      ``crimea`` or ``gaza`` when the value was one).
    * ``matched=True`` and ``iso2=None``: a value the tables know is *not* a country (unknown,
      stateless, historical state, ambiguous or disputed area, empty value).
    * ``matched=False``: a value the tables do not know; report it, do not guess.
    """

    iso2: str | None
    region: str | None
    matched: bool

    @property
    def is_country(self) -> bool:
        """True when the value resolved to a country code."""
        return self.iso2 is not None


@dataclass(frozen=True)
class Country:
    """One row of ``countries.csv``."""

    iso2: str
    iso3: str
    iso_numeric: str | None
    name: str
    cow_code: int | None
    cow_abbr: str | None
    cameo: str | None
    fips: str | None
    kind: str  # "state" or "territory"


_UNMATCHED = CountryMatch(None, None, False)
_EMPTY = CountryMatch(None, None, True)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


class CountryResolver:
    """Resolve country values from the sanctions, event and voting sources to ISO alpha-2 codes.

    Build it with :meth:`load` (cached: the CSVs are read once per process).
    """

    def __init__(self, countries: list[Country], names: dict[str, CountryMatch]) -> None:
        self._by_iso2: dict[str, Country] = {c.iso2: c for c in countries}
        self._by_iso3: dict[str, Country] = {c.iso3: c for c in countries}
        self._by_cameo: dict[str, Country] = {c.cameo: c for c in countries if c.cameo}
        self._by_cow: dict[int, Country] = {
            c.cow_code: c for c in countries if c.cow_code is not None
        }
        self._by_fips: dict[str, Country] = {c.fips: c for c in countries if c.fips}
        self._names: dict[str, CountryMatch] = names

    @classmethod
    @functools.cache
    def load(cls) -> CountryResolver:
        """Read ``countries.csv`` and ``country_names.csv`` (once) and return the resolver."""
        countries = [
            Country(
                iso2=row["iso2"],
                iso3=row["iso3"],
                iso_numeric=row["iso_numeric"] or None,
                name=row["name"],
                cow_code=int(row["cow_code"]) if row["cow_code"] else None,
                cow_abbr=row["cow_abbr"] or None,
                cameo=row["cameo"] or None,
                fips=row["fips"] or None,
                kind=row["kind"],
            )
            for row in _read_csv(COUNTRIES_CSV)
        ]
        names = {
            normalize_country_name(row["name"]): CountryMatch(
                row["iso2"] or None, row["region"] or None, True
            )
            for row in _read_csv(COUNTRY_NAMES_CSV)
        }
        return cls(countries, names)

    # ------------------------------------------------------------------ look-ups
    @property
    def countries(self) -> tuple[Country, ...]:
        """All rows of ``countries.csv``, in file order."""
        return tuple(self._by_iso2.values())

    def country(self, iso2: str) -> Country:
        """The ``countries.csv`` row of an ISO alpha-2 code (``KeyError`` if unknown)."""
        return self._by_iso2[iso2.strip().upper()]

    def name_of(self, iso2: str) -> str:
        """Short English name of an ISO alpha-2 code, e.g. ``name_of("KP") == "North Korea"``."""
        return self.country(iso2).name

    def resolve(self, value: str | None) -> CountryMatch:
        """Resolve a country value as written by a source.

        Order: a bare two-letter upper-case value is an ISO alpha-2 code (``"GB"`` is the United
        Kingdom, ``"NA"`` Namibia); then the spelling table (case-insensitive, see
        :func:`normalize_country_name`); then ``"Region: X"`` resolves ``X``; finally an ISO
        alpha-3 or alpha-2 code in any case (``"rus"``, ``"ru"``). ``None``/blank is a known
        empty value (``matched=True``, ``iso2=None``).
        """
        if value is None:
            return _EMPTY
        raw = value.strip()
        if not raw:
            return _EMPTY
        if _ISO2_UPPER.fullmatch(raw) and raw in self._by_iso2:
            return CountryMatch(raw, None, True)
        key = normalize_country_name(raw)
        hit = self._names.get(key)
        if hit is not None:
            return hit
        if key.startswith(_REGION_PREFIX):
            rest = key[len(_REGION_PREFIX) :].strip()
            if rest:
                hit = self._names.get(rest)
                if hit is not None:
                    return hit
        if _ALPHA3.fullmatch(key) and key.upper() in self._by_iso3:
            return CountryMatch(self._by_iso3[key.upper()].iso2, None, True)
        if _ALPHA2.fullmatch(key) and key.upper() in self._by_iso2:
            return CountryMatch(key.upper(), None, True)
        return _UNMATCHED

    def resolve_iso2(self, code: str | None) -> CountryMatch:
        """Resolve a code that a source gives as ISO alpha-2 (OFAC enhanced/advanced, EU, SECO).

        A code present in ``countries.csv`` is matched (any case). Known non-country codes from
        the spelling table (EU ``"00"``, withdrawn ``"CS"``, ``"YU"``, ``"SU"``, ``"AN"``, ``"DD"``)
        give ``matched=True, iso2=None``. Anything else, including the reserved ``"UK"``, is
        unmatched.
        """
        if code is None or not code.strip():
            return _EMPTY
        upper = code.strip().upper()
        if upper in self._by_iso2:
            return CountryMatch(upper, None, True)
        hit = self._names.get(normalize_country_name(code))
        if hit is not None and hit.iso2 is None:
            return hit
        return _UNMATCHED

    def resolve_iso3(self, code: str | None) -> CountryMatch:
        """Resolve an ISO alpha-3 code (any case)."""
        if code is None or not code.strip():
            return _EMPTY
        hit = self._by_iso3.get(code.strip().upper())
        return CountryMatch(hit.iso2, None, True) if hit else _UNMATCHED

    def resolve_cameo(self, code: str | None) -> CountryMatch:
        """Resolve a CAMEO / GDELT actor country code (``ROM`` -> RO, ``GZS`` -> PS + gaza).

        World-region codes (``EUR``, ``MEA``, ``AFR`` ...) are known non-countries.
        """
        if code is None or not code.strip():
            return _EMPTY
        upper = code.strip().upper()
        hit = self._by_cameo.get(upper)
        if hit is not None:
            return CountryMatch(hit.iso2, None, True)
        if upper in CAMEO_REGION_CODES:
            iso2, region = CAMEO_REGION_CODES[upper]
            return CountryMatch(iso2, region, True)
        if upper in CAMEO_NON_COUNTRY_CODES:
            return _EMPTY
        return _UNMATCHED

    def resolve_cow(self, code: int | str | None) -> CountryMatch:
        """Resolve a Correlates of War state number (``365`` -> RU) or abbreviation (``"RUS"``).

        Historical COW states without an ISO row (GDR 265, Czechoslovakia 315, Korea 730, ...) are
        unmatched. COW itself continues states through their successors: 365 is the USSR and
        Russia, 345 (YUG) is Yugoslavia and Serbia, 255 is Germany before 1945 and after 1990.
        """
        if code is None:
            return _EMPTY
        if isinstance(code, str):
            text = code.strip()
            if not text:
                return _EMPTY
            if not text.lstrip("-").isdigit():
                upper = text.upper()
                for country in self._by_cow.values():
                    if country.cow_abbr == upper:
                        return CountryMatch(country.iso2, None, True)
                return _UNMATCHED
            code = int(text)
        hit = self._by_cow.get(int(code))
        return CountryMatch(hit.iso2, None, True) if hit else _UNMATCHED

    def resolve_fips(self, code: str | None) -> CountryMatch:
        """Resolve a FIPS 10-4 country code (GDELT geography: ``RS`` -> RU, ``UK`` -> GB).

        FIPS codes look like ISO codes but often mean another country (FIPS ``RS`` is Russia,
        ISO ``RS`` is Serbia), so never pass them to :meth:`resolve`. FIPS ``GZ`` (Gaza Strip)
        and ``WE`` (West Bank) both give PS with a region.
        """
        if code is None or not code.strip():
            return _EMPTY
        upper = code.strip().upper()
        if upper == "GZ":
            return CountryMatch("PS", "gaza", True)
        if upper == "WE":
            return CountryMatch("PS", "west_bank", True)
        hit = self._by_fips.get(upper)
        return CountryMatch(hit.iso2, None, True) if hit else _UNMATCHED


# ---------------------------------------------------------------------- programmes
def _program_key(value: str) -> str:
    return " ".join(value.split()).casefold()


@functools.cache
def _programs() -> tuple[dict[str, str], ...]:
    return tuple(_read_csv(PROGRAMS_CSV))


@functools.cache
def _program_index() -> dict[tuple[str, str], tuple[str, ...]]:
    index: dict[tuple[str, str], list[str]] = {}
    for row in _programs():
        targets = index.setdefault((row["authority"], _program_key(row["program"])), [])
        if row["target_iso2"] and row["target_iso2"] not in targets:
            targets.append(row["target_iso2"])
    return {key: tuple(value) for key, value in index.items()}


def load_programs() -> list[dict[str, str]]:
    """Rows of ``programs.csv`` as dicts (fresh copies; the file is read once)."""
    return [dict(row) for row in _programs()]


def program_targets(authority: str, program: str) -> list[str] | None:
    """Target ISO alpha-2 codes of a programme tag, e.g. ``("us_ofac", "DPRK3") -> ["KP"]``.

    ``[]`` for a thematic programme (SDGT, NPWMD, ...), ``None`` for a tag the table does not
    know (report it). Matching ignores case and repeated whitespace. Target regions (e.g. UA
    ``crimea`` for ``UKRAINE-EO13685``) are in :func:`load_programs`.
    """
    targets = _program_index().get((authority.strip(), _program_key(program)))
    return None if targets is None else list(targets)
