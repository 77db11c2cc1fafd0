"""The country crosswalk: ISO 3166-1 from ``pycountry``, the project's overrides as CSV, and a strict
resolver for country values (:class:`CountryResolver`).

The tables live next to this module as CSV files (see README.md in this folder):

* ``countries.csv`` -- one row per ISO 3166-1 country or territory plus Kosovo (XK). Its ISO
  columns (``iso2``, ``iso3``, ``iso_numeric``) and its rows are written from ``pycountry`` by
  ``scripts/build_countries.py``; the other columns (short English name, Correlates of War, CAMEO
  and FIPS 10-4 codes, kind) are the project's.
* ``country_names.csv`` -- only what ``pycountry`` lacks: the spellings sources use beyond the ISO
  names, regions (Crimea, DPR...), and values deliberately mapped to nothing (non-countries such
  as the UN's ``na``, historical states, ambiguous values). These rows win over the library.
* the programme table -- sanctions programme -> target country. Its rows live with the source that
  uses them, one ``programs.csv`` per source folder (``pipeline/sources/<source>/programs.csv``;
  ``us_ofac_cons`` uses the ``us_ofac`` rows of ``us_ofac_sdn``'s file): :func:`read_programs` reads
  their union, as the SQL models do (``ref.programs``, ``sql/models/ref/programs.sql``).

Resolution is strict: a value is looked up after :func:`normalize_country_name`, never fuzzily;
anything not in the tables comes back with ``matched=False`` so that the pipeline can report it
instead of guessing a country. The tables are read once per process (about 60 ms, most of it
importing ``pycountry``); each look-up is then a few dictionary probes (about a million values/s).

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
    "PROGRAMS_GLOB",
    "PROGRAM_COLUMNS",
    "SOURCES_DIR",
    "ProgramTableError",
    "program_csvs",
    "read_programs",
    "REFERENCE_DIR",
    "Country",
    "CountryMatch",
    "CountryResolver",
    "library_names",
    "normalize_country_name",
]

REFERENCE_DIR: Path = Path(__file__).resolve().parent
COUNTRIES_CSV: Path = REFERENCE_DIR / "countries.csv"
COUNTRY_NAMES_CSV: Path = REFERENCE_DIR / "country_names.csv"
#: The source folders; each may hold a ``programs.csv`` (:data:`PROGRAMS_GLOB` below it).
SOURCES_DIR: Path = REFERENCE_DIR.parent / "sources"
PROGRAMS_GLOB: str = "*/programs.csv"
#: The header every ``programs.csv`` has, in this order.
PROGRAM_COLUMNS: tuple[str, ...] = ("authority", "program", "target_iso2", "region", "kind", "description")

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
_ALPHA2 = re.compile(r"[a-z]{2}")
_ALPHA3 = re.compile(r"[a-z]{3}")
#: The ``pycountry`` attributes whose values are names a country is known by.
_LIBRARY_NAME_FIELDS = ("name", "official_name", "common_name")


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


def library_names() -> dict[str, str]:
    """ISO 3166-1 names from ``pycountry`` (short, official and common name), as lookup key -> alpha-2.

    For example ``"russian federation"``, ``"iran, islamic republic of"`` and ``"iran"`` -> IR.
    """
    # Imported here, not at the top: modules that only need the paths above (the DAG file, the model
    # runner, the suites) would otherwise pay its import (about 50 ms) in every process.
    import pycountry

    names: dict[str, str] = {}
    for country in pycountry.countries:
        for field in _LIBRARY_NAME_FIELDS:
            value = getattr(country, field, None)
            if value:
                names.setdefault(normalize_country_name(value), country.alpha_2)
    return names


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


class ProgramTableError(ValueError):
    """A ``programs.csv`` with another header, or a programme row given twice (in one file or two)."""


def program_csvs(sources_dir: Path = SOURCES_DIR) -> tuple[Path, ...]:
    """Every source folder's ``programs.csv``, sorted by path."""
    return tuple(sorted(sources_dir.glob(PROGRAMS_GLOB)))


def read_programs(sources_dir: Path = SOURCES_DIR) -> list[dict[str, str]]:
    """The programme table: the rows of every :func:`program_csvs` file, values stripped, each with
    ``defined_in`` (the source folder of its file), in file order.

    Raises :class:`ProgramTableError` for a file whose header is not :data:`PROGRAM_COLUMNS`, and for
    an (authority, program, target_iso2) given twice, naming both files and lines: the SQL models
    (``ref.programs``) refuse the same tables."""
    rows: list[dict[str, str]] = []
    seen: dict[tuple[str, str, str], tuple[Path, int]] = {}
    for path in program_csvs(sources_dir):
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != PROGRAM_COLUMNS:
                raise ProgramTableError(
                    f"{path}: header {reader.fieldnames} is not {', '.join(PROGRAM_COLUMNS)}; no programme read")
            for row in reader:
                clean = {k: (row.get(k) or "").strip() for k in PROGRAM_COLUMNS}
                key = (clean["authority"], clean["program"], clean["target_iso2"])
                line = reader.line_num
                if key in seen:
                    first, first_line = seen[key]
                    raise ProgramTableError(
                        f"programme row {key} is given twice: {first} line {first_line} and {path} line {line}; "
                        "each (authority, program, target_iso2) belongs in one source's programs.csv")
                seen[key] = (path, line)
                rows.append({**clean, "defined_in": path.parent.name})
    return rows


class CountryResolver:
    """Resolve country values from the sanctions, event and voting sources to ISO alpha-2 codes.

    Build it with :meth:`load` (cached: the tables are read once per process).
    """

    def __init__(self, countries: list[Country], names: dict[str, CountryMatch]) -> None:
        self._by_iso2: dict[str, Country] = {c.iso2: c for c in countries}
        self._by_iso3: dict[str, Country] = {c.iso3: c for c in countries}
        self._by_cameo: dict[str, Country] = {c.cameo: c for c in countries if c.cameo}
        self._by_cow: dict[int, Country] = {c.cow_code: c for c in countries if c.cow_code is not None}
        self._by_cow_abbr: dict[str, Country] = {c.cow_abbr: c for c in countries if c.cow_abbr}
        self._names: dict[str, CountryMatch] = names

    @classmethod
    @functools.cache
    def load(cls) -> CountryResolver:
        """Build the resolver (once): ``countries.csv``, then the names, where later sources win.

        Names: the ISO names from ``pycountry`` (:func:`library_names`), then each country's short
        name in ``countries.csv`` (``Russia``, ``Kosovo``), then ``country_names.csv``, whose rows
        override both (``na`` is the UN's "not available", never Namibia).
        """
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
        names = {key: CountryMatch(iso2, None, True) for key, iso2 in library_names().items()}
        names.update((normalize_country_name(c.name), CountryMatch(c.iso2, None, True)) for c in countries)
        names.update(
            (normalize_country_name(row["name"]), CountryMatch(row["iso2"] or None, row["region"] or None, True))
            for row in _read_csv(COUNTRY_NAMES_CSV)
        )
        return cls(countries, names)

    # ------------------------------------------------------------------ look-ups
    @property
    def countries(self) -> tuple[Country, ...]:
        """All rows of ``countries.csv``, in file order."""
        return tuple(self._by_iso2.values())

    def country(self, iso2: str) -> Country:
        """The ``countries.csv`` row of an ISO alpha-2 code (``KeyError`` if unknown)."""
        return self._by_iso2[iso2.strip().upper()]

    def resolve(self, value: str | None) -> CountryMatch:
        """Resolve a country value as written by a source (a name field, not a code field).

        Order: the names (case-insensitive, see :func:`normalize_country_name`; the project's
        spellings win over the ISO names); then ``"Region: X"`` resolves ``X``; finally an ISO
        alpha-3 or alpha-2 code in any case (``"RUS"``, ``"GB"``, ``"ru"``). So ``"na"`` and ``"NA"``
        are the UN's "not available" here; Namibia's code ``NA`` counts only in a field that a
        source gives as an ISO code (:meth:`resolve_iso2`). ``None``/blank is a known empty value
        (``matched=True``, ``iso2=None``).
        """
        if value is None:
            return _EMPTY
        key = normalize_country_name(value)
        if not key:
            return _EMPTY
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
                hit = self._by_cow_abbr.get(text.upper())
                return CountryMatch(hit.iso2, None, True) if hit else _UNMATCHED
            code = int(text)
        hit = self._by_cow.get(int(code))
        return CountryMatch(hit.iso2, None, True) if hit else _UNMATCHED
