"""Tests of the reference tables (pipeline/reference/*.csv), of the country resolver and of the
crosswalk's agreement with its maintained sources: ``pycountry`` (ISO 3166-1) and OpenSanctions'
programme metadata.

The sample tests read the real files under ``<workspace>/shared/data/samples`` and fail when that
folder is absent.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pycountry
import pytest

import pipeline.reference as reference
from pipeline.reference import (
    COUNTRIES_CSV,
    COUNTRY_NAMES_CSV,
    PROGRAM_COLUMNS,
    REFERENCE_DIR,
    SOURCES_DIR,
    CountryMatch,
    CountryResolver,
    library_names,
    normalize_country_name,
    program_csvs,
    read_programs,
)
from pipeline.sources import load_meta

REPO = Path(__file__).resolve().parents[1]
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples"
needs_samples = pytest.mark.usefixtures("samples")  # fails, not skips, when they are missing

SOURCE_TAGS = {"iso", "ofac", "un", "eu", "uk", "cameo", "cow", "common"}

# Values from the samples that are free text rather than a country name. The tables leave them
# out on purpose (normalisation is strict), so they must stay unmatched and get reported.
FREE_TEXT = {
    # UN consolidated list
    "Bahrain (citizenship revoked in Jan. 2015)",
    "Indonesia (as at Dec. 2003)",
    "Kuwaiti citizenship withdrawn in 2002",
    "Possibly Ethiopian",
    "Sudanese by birth",
    "United States. Also believed to hold Syrian nationality",
    "USSR (until 1991)",
    "Branch Office 11: Iran",
    "Libya (in custody)",
    "Sudan/South Sudan",
    "Sudan/or South Sudan",
    "Iran / unknown",
    "Indonesian passport",
    "Tunisian passport",
    # OFAC remarks
    "possibly Palestinian",
}
# Last comma-separated part of OFAC "POB ..." remarks that is a sub-national place or free text,
# not a country (e.g. "POB Culiacan, Sinaloa" has no country).
POB_NOT_COUNTRY = {
    "(Medina) Saudi Arabia",
    "Antioquia",
    "Baja California Norte",
    "Coahuila",
    "Cordoba",
    "Durango",
    "Guerrero",
    "Hebron",
    "Hidalgo",
    "Indiana USA",
    "Jalisco",
    "Kigali",
    "Michoacan",
    "New Mexico",
    "Nuevo Leon",
    "Puebla",
    "Sinaloa",
    "Tamaulipas",
    "Valle",
    "Valle Colombia",
    "Valle del Cauca",
    "Veracruz",
    "Vitez",
    "Vladicin Han municipality",
    "Zacatecas",
}


@pytest.fixture(scope="module")
def resolver() -> CountryResolver:
    return CountryResolver.load()


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# ----------------------------------------------------------------------------- tables
def test_files_live_in_reference_dir() -> None:
    for path in (COUNTRIES_CSV, COUNTRY_NAMES_CSV):
        assert path.parent == REFERENCE_DIR and path.is_file()
    # the programme table lives with the sources: one programs.csv per source folder that has programmes
    assert not (REFERENCE_DIR / "programs.csv").exists()
    assert {p.parent.name for p in program_csvs()} >= {"us_ofac_sdn", "un_sc", "eu_fsf", "gb_hmt", "ca_sema",
                                                        "ch_seco", "opensanctions"}
    assert all(p.parent.parent == SOURCES_DIR for p in program_csvs())


def test_countries_keys_unique_and_well_formed() -> None:
    rows = read_rows(COUNTRIES_CSV)
    assert list(rows[0]) == [
        "iso2",
        "iso3",
        "iso_numeric",
        "name",
        "cow_code",
        "cow_abbr",
        "cameo",
        "fips",
        "kind",
    ]
    assert 245 <= len(rows) <= 260
    for column in ("iso2", "iso3", "name"):
        values = [r[column] for r in rows]
        assert len(values) == len(set(values)), (
            f"duplicate {column}: {Counter(values).most_common(3)}"
        )
    for column in ("iso_numeric", "cow_code", "cow_abbr", "cameo", "fips"):
        values = [r[column] for r in rows if r[column]]
        assert len(values) == len(set(values)), (
            f"duplicate {column}: {Counter(values).most_common(3)}"
        )
    for r in rows:
        assert re.fullmatch(r"[A-Z]{2}", r["iso2"]), r
        assert re.fullmatch(r"[A-Z]{3}", r["iso3"]), r
        assert r["iso_numeric"] == "" or re.fullmatch(r"\d{3}", r["iso_numeric"]), r
        assert r["kind"] in {"state", "territory"}, r
        assert r["cow_code"] == "" or r["cow_code"].isdigit(), r
        assert bool(r["cow_code"]) == bool(r["cow_abbr"]), r
    kosovo = next(r for r in rows if r["iso2"] == "XK")
    assert (kosovo["iso3"], kosovo["iso_numeric"], kosovo["cow_code"]) == ("XKX", "", "347")
    states = [r for r in rows if r["kind"] == "state"]
    assert 193 <= len(states) <= 200


def test_country_codes_of_key_countries() -> None:
    by_iso2 = {r["iso2"]: r for r in read_rows(COUNTRIES_CSV)}
    expected = {  # iso2: (iso3, numeric, name, cow, cow_abbr, cameo, fips)
        "RU": ("RUS", "643", "Russia", "365", "RUS", "RUS", "RS"),
        "IR": ("IRN", "364", "Iran", "630", "IRN", "IRN", "IR"),
        "KP": ("PRK", "408", "North Korea", "731", "PRK", "PRK", "KN"),
        "KR": ("KOR", "410", "South Korea", "732", "ROK", "KOR", "KS"),
        "SY": ("SYR", "760", "Syria", "652", "SYR", "SYR", "SY"),
        "VE": ("VEN", "862", "Venezuela", "101", "VEN", "VEN", "VE"),
        "US": ("USA", "840", "United States", "2", "USA", "USA", "US"),
        "BY": ("BLR", "112", "Belarus", "370", "BLR", "BLR", "BO"),
        "DE": ("DEU", "276", "Germany", "255", "GMY", "DEU", "GM"),
        "GB": ("GBR", "826", "United Kingdom", "200", "UKG", "GBR", "UK"),
        "CN": ("CHN", "156", "China", "710", "CHN", "CHN", "CH"),
        "RS": ("SRB", "688", "Serbia", "345", "YUG", "SRB", "RI"),
        "RO": ("ROU", "642", "Romania", "360", "ROM", "ROM", "RO"),
        "TL": ("TLS", "626", "Timor-Leste", "860", "ETM", "TMP", "TT"),
        "ME": ("MNE", "499", "Montenegro", "341", "MNG", "MTN", "MJ"),
    }
    for iso2, values in expected.items():
        r = by_iso2[iso2]
        got = (
            r["iso3"],
            r["iso_numeric"],
            r["name"],
            r["cow_code"],
            r["cow_abbr"],
            r["cameo"],
            r["fips"],
        )
        assert got == values, iso2
    assert by_iso2["IM"]["cameo"] == "IMY"
    assert by_iso2["PS"]["kind"] == "state" and by_iso2["HK"]["kind"] == "territory"


def test_country_names_table() -> None:
    country_codes = {r["iso2"] for r in read_rows(COUNTRIES_CSV)}
    rows = read_rows(COUNTRY_NAMES_CSV)
    assert list(rows[0]) == ["name", "iso2", "region", "sources", "note"]
    keys = [normalize_country_name(r["name"]) for r in rows]
    dupes = [k for k, n in Counter(keys).items() if n > 1]
    assert not dupes, f"spellings listed twice after normalisation: {dupes}"
    for r in rows:
        assert r["name"] == r["name"].strip() and r["name"], r
        assert r["iso2"] == "" or r["iso2"] in country_codes, f"unknown iso2 in {r}"
        assert r["sources"] and set(r["sources"].split(";")) <= SOURCE_TAGS, r
        assert r["region"] == "" or re.fullmatch(r"[a-z_]+", r["region"]), r
        if not r["iso2"]:
            assert r["note"], f"a deliberately unmapped value needs a note: {r}"


def test_three_letter_spellings_agree_with_iso3(resolver: CountryResolver) -> None:
    iso3 = {c.iso3: c.iso2 for c in resolver.countries}
    for r in read_rows(COUNTRY_NAMES_CSV):
        if re.fullmatch(r"[A-Za-z]{3}", r["name"]) and r["name"].upper() in iso3:
            assert iso3[r["name"].upper()] == r["iso2"], r


def test_programs_table() -> None:
    country_codes = {r["iso2"] for r in read_rows(COUNTRIES_CSV)}
    rows = read_programs()
    for path in program_csvs():
        assert tuple(read_rows(path)[0]) == PROGRAM_COLUMNS, path
    keys = [(r["authority"], r["program"], r["target_iso2"]) for r in rows]
    assert len(keys) == len(set(keys)), Counter(keys).most_common(3)
    for r in rows:
        # a source's rows are its own authority's programmes
        assert r["authority"] == load_meta(r["defined_in"]).authority, r
        assert r["program"] and r["description"], r
        if r["kind"] == "thematic":
            assert r["target_iso2"] == "" and r["region"] == "", r
        else:
            assert r["kind"] in {"country", "regional"} and r["target_iso2"] in country_codes, r
    kinds = {}
    for r in rows:
        kinds.setdefault((r["authority"], r["program"]), set()).add(r["kind"])
    assert all(len(k) == 1 for k in kinds.values()), "a programme is either thematic or country"
    assert ("us_ofac", "UKRAINE-EO13685", "UA", "crimea") in {
        (r["authority"], r["program"], r["target_iso2"], r["region"]) for r in rows
    }


def program_table() -> dict[tuple[str, str], set[str]]:
    """(authority, programme tag) -> target ISO alpha-2 codes, as the SQL models join them (exact tag)."""
    table: dict[tuple[str, str], set[str]] = {}
    for r in read_programs():
        targets = table.setdefault((r["authority"], r["program"]), set())
        if r["target_iso2"]:
            targets.add(r["target_iso2"])
    return table


def test_program_targets() -> None:
    table = program_table()
    assert table["us_ofac", "RUSSIA-EO14024"] == {"RU"}
    assert table["us_ofac", "CAATSA - RUSSIA"] == {"RU"}
    assert table["us_ofac", "UKRAINE-EO13685"] == {"UA"}
    assert table["us_ofac", "ETHIOPIA-EO14046"] == {"ET", "ER"}
    assert table["us_ofac", "SDGT"] == table["us_ofac", "NPWMD"] == set()
    assert table["un_sc", "GB"] == {"GW"}
    assert table["un_sc", "Taliban"] == {"AF"}
    assert table["un_sc", "Al-Qaida"] == set()


# ----------------------------------------------------------------------------- the library (pycountry)
def load_build_script():
    spec = importlib.util.spec_from_file_location("build_countries", REPO / "scripts" / "build_countries.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_countries_csv_iso_part_is_pycountry() -> None:
    """countries.csv is what scripts/build_countries.py writes from the installed pycountry: every ISO
    3166-1 entry with pycountry's alpha-3 and numeric codes, plus the user-assigned XK (Kosovo)."""
    build = load_build_script()
    rows, messages = build.build(read_rows(COUNTRIES_CSV))
    assert not messages, messages
    assert build.render(rows) == COUNTRIES_CSV.read_text(encoding="utf-8"), (
        f"countries.csv differs from pycountry {pycountry.__version__}: run scripts/build_countries.py"
    )
    iso = {c.alpha_2: (c.alpha_3, c.numeric) for c in pycountry.countries}
    ours = {r["iso2"]: (r["iso3"], r["iso_numeric"]) for r in read_rows(COUNTRIES_CSV)}
    assert {k: v for k, v in ours.items() if k != "XK"} == iso
    assert ours["XK"] == ("XKX", "")


def test_library_names_are_unambiguous() -> None:
    by_key: dict[str, set[str]] = {}
    for c in pycountry.countries:
        for field in ("name", "official_name", "common_name"):
            if getattr(c, field, None):
                by_key.setdefault(normalize_country_name(getattr(c, field)), set()).add(c.alpha_2)
    assert not {k: v for k, v in by_key.items() if len(v) > 1}
    names = library_names()
    assert names["russian federation"] == "RU" and names["iran"] == "IR" and names["viet nam"] == "VN"
    assert "na" not in names and "korea" not in names


def test_country_names_keeps_only_what_the_library_lacks() -> None:
    """No row of country_names.csv restates a pycountry name (or a short name of countries.csv) with
    the same result; a row that gives a library name another result is a deliberate override."""
    base = library_names() | {normalize_country_name(r["name"]): r["iso2"] for r in read_rows(COUNTRIES_CSV)}
    redundant, overrides = [], []
    for r in read_rows(COUNTRY_NAMES_CSV):
        key = normalize_country_name(r["name"])
        if key in base:
            (redundant if (base[key], "") == (r["iso2"], r["region"]) else overrides).append(r["name"])
    assert not redundant, f"spellings pycountry or countries.csv already give: {redundant}"
    assert overrides == [], f"new overrides of a library name: {overrides} (say why in their note)"


# ----------------------------------------------------------------------------- resolver
def test_load_is_cached() -> None:
    assert CountryResolver.load() is CountryResolver.load()


def test_normalize_country_name() -> None:
    assert normalize_country_name("  Syrian  Arab\nRepublic. ") == "syrian arab republic"
    assert normalize_country_name("Democratic People\u2019s Republic of Korea") == (
        "democratic people's republic of korea"
    )
    assert normalize_country_name("RUSSIAN FEDERATION") == "russian federation"
    assert normalize_country_name("Türkiye") == "türkiye"


@pytest.mark.parametrize(
    ("value", "iso2", "region"),
    [
        ("Korea, North", "KP", None),
        ("Korea, South", "KR", None),
        ("Democratic People's Republic of Korea", "KP", None),
        ("Democratic People's Republic of Korea ", "KP", None),
        ("Democratic People\u2019s Republic of Korea", "KP", None),
        ("Iran (Islamic Republic of)", "IR", None),
        ("Iran", "IR", None),
        ("Russian Federation", "RU", None),
        ("RUSSIAN FEDERATION", "RU", None),
        ("Russia.", "RU", None),
        ("Burma", "MM", None),
        ("Region: Crimea", "UA", "crimea"),
        ("region:  crimea", "UA", "crimea"),
        ("Crimea", "UA", "crimea"),
        ("Donetsk People's Republic", "UA", "dpr"),
        ("LPR", "UA", "lpr"),
        ("Region: Kherson", "UA", "kherson"),
        ("Zaporizhzhia", "UA", "zaporizhzhia"),
        ("Abkhazia", "GE", "abkhazia"),
        ("South Ossetia", "GE", "south_ossetia"),
        ("Transnistria", "MD", "transnistria"),
        ("Region: Gaza", "PS", "gaza"),
        ("West Bank", "PS", "west_bank"),
        ("Region: Northern Mali", "ML", "northern_mali"),
        ("  Syrian Arab Republic ", "SY", None),
        ("Syria", "SY", None),
        ("Venezuela (Bolivarian Republic of)", "VE", None),
        ("United Kingdom of Great Britain and Northern\nIreland", "GB", None),
        ("Türkiye", "TR", None),
        ("Lao People's Democratic Republic", "LA", None),
        ("State of Palestine", "PS", None),
        ("Palestinian", "PS", None),
        ("Côte d'Ivoire", "CI", None),
        ("Cote d Ivoire", "CI", None),
        ("Congo, Democratic Republic of the", "CD", None),
        ("Congo", "CG", None),
        ("Bosnia and Herzegovina", "BA", None),
        ("Virgin Islands, British", "VG", None),
        ("Kosovo", "XK", None),
        ("Region: Russia", "RU", None),
        ("RU", "RU", None),
        ("rus", "RU", None),
        ("ru", "RU", None),
        ("GB", "GB", None),
        ("UK", "GB", None),
        ("USA", "US", None),
        ("Namibia", "NA", None),
        ("Russian Federation", "RU", None),  # pycountry's ISO name
        ("Iran, Islamic Republic of", "IR", None),  # pycountry's ISO name
        ("Bolivia, Plurinational State of", "BO", None),
        ("Republic of Türkiye", "TR", None),  # pycountry's official name
        ("Turkey", "TR", None),  # the project's short name
    ],
)
def test_known_spellings(
    resolver: CountryResolver, value: str, iso2: str, region: str | None
) -> None:
    assert resolver.resolve(value) == CountryMatch(iso2, region, True)


@pytest.mark.parametrize(
    "value",
    [
        "undetermined",
        "Unknown",
        "UNKNOWN",
        "00",
        "Stateless",
        "None",
        "Not known",
        "na",
        " na",
        "NA",  # in a name field, "not available"; Namibia's code NA counts only in an ISO code field
        "N/A",
        "-0- ",
        "Soviet Union",
        "USSR",
        "Yugoslavia",
        "Serbia and Montenegro",
        "ex-Yugoslavia",
        "Netherlands Antilles",
        "Czechoslovakia",
        "German Democratic Republic",
        "Korea",
        "Region: Kafia Kingi",
        None,
        "",
        "   ",
    ],
)
def test_non_countries_are_known_but_unmapped(resolver: CountryResolver, value: str | None) -> None:
    match = resolver.resolve(value)
    assert match.matched and match.iso2 is None and not match.is_country


@pytest.mark.parametrize(
    "value",
    [
        "Atlantis",
        "xyzzy",
        "Narnia Republic",
        "Indonesia (as at Dec. 2003)",
        "New Mexico",
        "ZZ",
        "QQQ",
        "Region: Nowhere",
        "Sudan/South Sudan",
    ],
)
def test_gibberish_is_unmatched(resolver: CountryResolver, value: str) -> None:
    assert resolver.resolve(value) == CountryMatch(None, None, False)


def test_resolve_iso2(resolver: CountryResolver) -> None:
    assert resolver.resolve_iso2("PS") == CountryMatch("PS", None, True)
    assert resolver.resolve_iso2("xk") == CountryMatch("XK", None, True)
    assert resolver.resolve_iso2("00") == CountryMatch(None, None, True)
    assert resolver.resolve_iso2("CS") == CountryMatch(None, None, True)
    assert resolver.resolve_iso2("UK") == CountryMatch(None, None, False)
    assert resolver.resolve_iso2("QQ") == CountryMatch(None, None, False)
    assert resolver.resolve_iso2("NA") == CountryMatch("NA", None, True)
    assert resolver.resolve_iso3("prk") == CountryMatch("KP", None, True)


def test_overrides_win_over_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """A library that maps the UN's "na" (not available) to Namibia, as rigour does, loses to
    country_names.csv; so does one that gives a historical state a successor."""
    library = dict(library_names())
    library.update({"na": "NA", "soviet union": "RU", "serbia and montenegro": "RS"})
    monkeypatch.setattr(reference, "library_names", lambda: library)
    resolver = CountryResolver.load.__wrapped__(CountryResolver)
    for value in ("na", "NA", "Soviet Union", "Serbia and Montenegro"):
        assert resolver.resolve(value) == CountryMatch(None, None, True), value
    assert resolver.resolve_iso2("NA") == CountryMatch("NA", None, True)
    assert resolver.resolve("Russian Federation") == CountryMatch("RU", None, True)


def test_cameo_cow_and_fips_codes(resolver: CountryResolver) -> None:
    cameo = {
        "ROM": "RO",
        "TMP": "TL",
        "MTN": "ME",
        "IMY": "IM",
        "IRN": "IR",
        "RUS": "RU",
        "PRK": "KP",
        "ZAF": "ZA",
        "SRB": "RS",
        "PSE": "PS",
    }
    for code, iso2 in cameo.items():
        assert resolver.resolve_cameo(code) == CountryMatch(iso2, None, True), code
    assert resolver.resolve_cameo("GZS") == CountryMatch("PS", "gaza", True)
    assert resolver.resolve_cameo("EUR") == CountryMatch(None, None, True)
    assert resolver.resolve_cameo("SAF") == CountryMatch(None, None, True)  # Southern Africa
    assert not resolver.resolve_cameo("ROU").matched

    cow = {
        365: "RU",
        "365": "RU",
        630: "IR",
        731: "KP",
        732: "KR",
        101: "VE",
        2: "US",
        345: "RS",
        347: "XK",
        255: "DE",
        713: "TW",
        "RUS": "RU",
        "UKG": "GB",
    }
    for code, iso2 in cow.items():
        assert resolver.resolve_cow(code) == CountryMatch(iso2, None, True), code
    for historical in (265, 315, 730, 817, 260):
        assert not resolver.resolve_cow(historical).matched, historical

    # FIPS 10-4 (GDELT geography) is a column of countries.csv for SQL joins; no resolver reads it.
    fips = {r["fips"]: r["iso2"] for r in read_rows(COUNTRIES_CSV) if r["fips"]}
    expected = {"RS": "RU", "IR": "IR", "KN": "KP", "KS": "KR", "BO": "BY", "GM": "DE", "UK": "GB", "CH": "CN",
                "SZ": "CH", "RI": "RS", "IZ": "IQ", "KV": "XK", "WE": "PS"}
    assert {code: fips[code] for code in expected} == expected


def test_every_country_resolves_by_its_own_name_and_codes(resolver: CountryResolver) -> None:
    for c in resolver.countries:
        assert resolver.resolve(c.name) == CountryMatch(c.iso2, None, True), c
        assert resolver.resolve_iso2(c.iso2) == CountryMatch(c.iso2, None, True), c
        if c.iso2 != "NA":  # in a name field "NA" is "not available"
            assert resolver.resolve(c.iso2) == CountryMatch(c.iso2, None, True), c
        assert resolver.resolve_iso3(c.iso3).iso2 == c.iso2
        assert resolver.country(c.iso2.lower()) == c
    assert resolver.country("KP").name == "North Korea"


# ----------------------------------------------------------------------------- sample coverage
def _csv_rows(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("utf-8", errors="replace").replace("\x1a", "")
    return list(csv.reader(text.splitlines()))


def _remark_values(remarks: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for m in re.finditer(r"\b(?:nationality|citizen)\s+([^;]+?)\s*(?=;|$)", remarks):
        found.append(("remarks nationality/citizen", m.group(1)))
    for m in re.finditer(r"\bPOB\s+([^;]+?)\s*(?=;|$)", remarks):
        if "," in m.group(1):
            found.append(("remarks POB", m.group(1).rsplit(",", 1)[1].strip()))
    return found


def ofac_country_values() -> list[tuple[str, str, str | None]]:
    """(where, value, iso2 the source gives or None) for every country value in the OFAC samples."""
    ofac = SAMPLES / "ofac"
    out: list[tuple[str, str, str | None]] = []
    for name in ("cons_classic_2024-05-06.xml", "sdn_classic_excerpt_2020-10-29.xml"):
        for el in ET.parse(ofac / name).iter():
            if local(el.tag) in ("country", "idCountry") and el.text and el.text.strip():
                out.append((f"{name} <{local(el.tag)}>", el.text, None))
    for el in ET.parse(ofac / "cons_advanced_2020-03-17_subset.xml").iter():
        if local(el.tag) == "Country" and el.text:
            out.append(("cons_advanced CountryValues/Country", el.text, el.get("ISO2")))
    for el in ET.parse(ofac / "enhanced_xml_IRGC_filter_2024-08-28.xml").iter():
        tag = local(el.tag)
        if tag == "referenceValue":
            fields = {local(child.tag): (child.text or "") for child in el}
            if fields.get("type") == "COUNTRY":
                out.append(
                    ("enhanced referenceValue", fields["value"], fields.get("isoCode") or None)
                )
        elif tag in ("country", "issuingCountry") and el.text:
            out.append((f"enhanced <{tag}>", el.text, None))
    for path in sorted(ofac.rglob("*.csv")):
        if path.name in ("add.csv", "cons_add.csv"):
            out += [
                (f"{path.parent.name}/{path.name} Country", r[4], None)
                for r in _csv_rows(path)
                if len(r) > 4
            ]
        elif path.name in ("sdn.csv", "cons_prim.csv"):
            for r in _csv_rows(path):
                if len(r) > 11:
                    out += [
                        (f"{path.parent.name}/{path.name} {w}", v, None)
                        for w, v in _remark_values(r[11])
                    ]
    return out


def un_country_values() -> list[tuple[str, str, str | None]]:
    out: list[tuple[str, str, str | None]] = []
    for path in sorted((SAMPLES / "un").glob("*.xml")):
        for el in ET.parse(path).iter():
            if el.tag == "NATIONALITY":
                out += [
                    (f"{path.name} NATIONALITY/VALUE", v.text, None)
                    for v in el.findall("VALUE")
                    if v.text
                ]
            elif el.tag in ("COUNTRY", "COUNTRY_OF_BIRTH", "ISSUING_COUNTRY", "COUNTRY_OF_ISSUE"):
                if el.text and el.text.strip():
                    out.append((f"{path.name} {el.tag}", el.text, None))
    return out


@needs_samples
@pytest.mark.parametrize("extract", [ofac_country_values, un_country_values], ids=["ofac", "un"])
def test_sample_country_values_are_covered(resolver: CountryResolver, extract) -> None:
    values = extract()
    assert len(values) > 100
    unmatched: Counter[str] = Counter()
    wrong_code: list[str] = []
    leftovers = {normalize_country_name(v) for v in FREE_TEXT | POB_NOT_COUNTRY}
    leftovers_found: set[str] = set()
    for where, value, iso2 in values:
        clean = normalize_country_name(value)
        match = resolver.resolve(value)
        if clean in leftovers:
            leftovers_found.add(clean)
            assert not match.matched, (
                f"{clean!r} is listed as free text but now resolves to {match}"
            )
            continue
        if not match.matched:
            unmatched[f"{value!r} ({where})"] += 1
        elif iso2 and match.iso2 != iso2:
            wrong_code.append(f"{value!r}: source says {iso2}, table says {match.iso2} ({where})")
    assert not unmatched, "unmatched country values:\n" + "\n".join(
        f"{n:5d}  {v}" for v, n in unmatched.most_common()
    )
    assert not wrong_code, "\n".join(wrong_code)
    assert leftovers_found, "the free-text lists no longer meet the samples; update them"


def sample_country_values() -> dict[str, set[str]]:
    """Every distinct country value of the samples, by the resolver method the pipeline uses on it:
    names (``resolve``), ISO alpha-2 code fields (``resolve_iso2``), Correlates of War numbers of the
    Voeten votes (``resolve_cow``), GDELT actor codes (``resolve_cameo``, then ``resolve_iso3``)."""
    out: dict[str, set[str]] = {m: set() for m in ("resolve", "resolve_iso2", "resolve_cow", "resolve_cameo")}
    for _where, value, iso2 in ofac_country_values() + un_country_values():
        out["resolve"].add(value)
        if iso2:
            out["resolve_iso2"].add(iso2)
    with (SAMPLES / "unga" / "unvotes_un_votes_sessions72-74.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            out["resolve"].add(row["country"])
            out["resolve_iso2"].add(row["country_code"])
    with (SAMPLES / "unga" / "voeten_UNVotesPublished_session68.csv").open(newline="", encoding="utf-8") as handle:
        out["resolve_cow"].update(row["ccode"] for row in csv.DictReader(handle))
    with (SAMPLES / "gdelt" / "20191024143000.export.CSV").open(newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            out["resolve_cameo"].update(code for code in (row[7], row[17]) if code)
    with (SAMPLES / "gdelt" / "gdelt1_georgia_aug2012.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            out["resolve_cameo"].update(c for c in (row["Actor1CountryCode"], row["Actor2CountryCode"]) if c)
    out["resolve_iso3"] = set(out["resolve_cameo"])
    return out


def outcome(match: CountryMatch) -> str:
    """``KP``, ``UA/crimea``, ``-`` (a known non-country) or ``?`` (unknown)."""
    if not match.matched:
        return "?"
    if match.iso2 is None:
        return "-"
    return match.iso2 + (f"/{match.region}" if match.region else "")


# Every distinct country value of the samples and its outcome, recorded with the resolver as it was
# before the crosswalk moved onto pycountry (countries.csv and 672 spellings of country_names.csv).
# Grouped by outcome: an ISO code (with /region), "-" a known non-country, "?" unknown.
SAMPLE_RESOLUTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "resolve": {
        "AD": ("Andorra",), "AE": ("United Arab Emirates",), "AF": ("Afghan", "Afghanistan", "Afghanistan."),
        "AG": ("Antigua & Barbuda", "Antigua and Barbuda"), "AL": ("Albania", "Albania."), "AM": ("Armenia",),
        "AO": ("Angola",), "AR": ("Argentina",), "AT": ("Austria",), "AU": ("Australia",), "AW": ("Aruba",),
        "AZ": ("Azerbaijan",),
        "BA": (
            "Bosina-Herzegovina.", "Bosnia & Herzegovina", "Bosnia and Herzegovina", "Bosnia and Herzegovina.",
            "Bosnia-Herzegovina", "Bosnia-Herzegovina.",
        ),
        "BB": ("Barbados",), "BD": ("Bangladesh",), "BE": ("Belgium",), "BF": ("Burkina Faso",), "BG": ("Bulgaria",),
        "BH": ("Bahrain",), "BI": ("Burundi",), "BJ": ("Benin",), "BM": ("Bermuda",), "BN": ("Brunei",),
        "BO": ("Bolivia",), "BR": ("Brazil",), "BS": ("Bahamas", "Bahamas, The"), "BT": ("Bhutan",),
        "BW": ("Botswana",), "BY": ("Belarus",), "BZ": ("Belize",), "CA": ("Canada",),
        "CD": (
            "Congo, Democratic Republic of the", "Congo, Democratic Republic of the.", "DRC",
            "Democratic Republic of the Congo",
        ),
        "CF": ("Central African Republic",), "CG": ("Congo", "Congo, Republic of the"), "CH": ("Switzerland",),
        "CI": ("Cote d Ivoire", "Côte d’Ivoire"), "CL": ("Chile",), "CM": ("Cameroon",), "CN": ("China",),
        "CO": ("Colombia", "Colombia."), "CR": ("Costa Rica",), "CU": ("Cuba",), "CV": ("Cabo Verde", "Cape Verde"),
        "CY": ("Cyprus",), "CZ": ("Czech Republic", "Czechia"), "DE": ("German", "Germany", "Germany."),
        "DJ": ("Djibouti",), "DK": ("Denmark",), "DM": ("Dominica",), "DO": ("Dominican Republic",),
        "DZ": ("Algeria", "Algeria.", "Algerian"), "EC": ("Ecuador",), "EE": ("Estonia",), "EG": ("Egypt", "Egypt."),
        "ER": ("Eritrea",), "ES": ("Spain",), "ET": ("Ethiopia", "Ethiopia."), "FI": ("Finland",), "FJ": ("Fiji",),
        "FM": ("Micronesia (Federated States of)",), "FR": ("France",), "GA": ("Gabon",),
        "GB": (
            "England", "United Kingdom", "United Kingdom of Great Britain and Northern\nIreland",
            "United Kingdom of Great Britain and Northern Ireland", "United Kingdom.",
        ),
        "GD": ("Grenada",), "GE": ("Georgia",), "GG": ("Guernsey",), "GH": ("Ghana",), "GI": ("Gibraltar",),
        "GM": ("Gambia", "The Gambia"), "GN": ("Guinea",), "GQ": ("Equatorial Guinea",), "GR": ("Greece",),
        "GT": ("Guatemala",), "GW": ("Guinea-Bissau",), "GY": ("Guyana",),
        "HK": ("Hong Kong", "Hong Kong Special Administrative Region"), "HN": ("Honduras",),
        "HR": ("Croatia", "Croatia."), "HT": ("Haiti",), "HU": ("Hungary",), "ID": ("Indonesia", "Indonesia."),
        "IE": ("Ireland",), "IL": ("Israel",), "IM": ("Man, Isle of",), "IN": ("India", "India."),
        "IQ": ("IRAQ", "Iraq", "Iraq."), "IR": ("Iran", "Iran ", "Iran (Islamic Republic of)", "Iran."),
        "IS": ("Iceland",), "IT": ("Italy",), "JE": ("Jersey",), "JM": ("Jamaica",), "JO": ("Jordan", "Jordan."),
        "JP": ("Japan", "Japan."), "KE": ("Kenya", "Kenya."), "KG": ("Kyrgyzstan",), "KH": ("Cambodia",),
        "KI": ("Kiribati",), "KM": ("Comoros", "Comoros Islands", "Union of the Comoros"),
        "KN": ("Saint Kitts and Nevis",),
        "KP": (
            "Democratic People's Republic of Korea", "Democratic People's Republic of Korea ", "Korea, North",
            "North Korea", "RPDC",
        ),
        "KR": ("Korea, South", "South Korea"), "KW": ("Kuwait", "Kuwait.", "Kuwaiti"), "KY": ("Cayman Islands",),
        "KZ": ("Kazakhstan",), "LA": ("Laos",), "LB": ("Lebanon", "Lebanon ", "Lebanon."), "LC": ("St. Lucia",),
        "LI": ("Liechtenstein",), "LK": ("Sri Lanka",), "LR": ("Liberia",), "LS": ("Lesotho",), "LT": ("Lithuania",),
        "LU": ("Luxembourg",), "LV": ("Latvia",), "LY": ("LIBYA", "Libya", "Libya.", "Libyan Arab Jamahiriya"),
        "MA": ("Moroccan", "Morocco", "Morocco."), "MC": ("Monaco",), "MD": ("Moldova",), "ME": ("Montenegro",),
        "MG": ("Madagascar",), "MH": ("Marshall Islands",),
        "MK": ("Macedonia.", "North Macedonia", "North Macedonia, The Republic of"), "ML": ("Mali",),
        "ML/northern_mali": ("Region: Northern Mali",), "MM": ("Burma", "Myanmar (Burma)"), "MN": ("Mongolia",),
        "MO": ("Macau",), "MR": ("Mauritania",), "MT": ("Malta",), "MU": ("Mauritius",), "MV": ("Maldives",),
        "MW": ("Malawi",), "MX": ("MEXICO", "Mexico", "Mexico."), "MY": ("Malaysia", "Malaysia."),
        "MZ": ("Mozambique",), "NA": ("Namibia",), "NE": ("Niger",), "NG": ("Nigeria", "Nigeria."),
        "NI": ("Nicaragua",), "NL": ("Netherlands", "The Netherlands"), "NO": ("Norway",), "NP": ("Nepal",),
        "NR": ("Nauru",), "NZ": ("New Zealand",), "OM": ("Oman", "Sultanate of Oman"), "PA": ("Panama",),
        "PE": ("Peru",), "PG": ("Papua New Guinea",),
        "PH": ("Philippines", "Philippines.", "Phillipines", "the Philippines"),
        "PK": ("Pakistan", "Pakistan.", "Pakistani"), "PL": ("Poland",),
        "PS": ("Palestine", "Palestinian", "Palestinian Territories", "State of Palestine"),
        "PS/gaza": ("Gaza (Palestinian Authority).", "Gaza Strip", "Gaza Strip.", "Gaza.", "Region: Gaza"),
        "PS/west_bank": ("West Bank", "West Bank (Palestinian Authority).", "West Bank."), "PT": ("Portugal",),
        "PW": ("Palau",), "PY": ("Paraguay",), "QA": ("Qatar", "Qatar."), "RO": ("Romania",),
        "RS": ("Serbia", "Serbia."), "RU": ("Russia", "Russia.", "Russian Federation"), "RW": ("Rwanda", "Rwanda."),
        "SA": ("Saudi Arabia", "Saudi Arabia ", "Saudi Arabia.", "Saudi Arabian"), "SB": ("Solomon Islands",),
        "SC": ("Seychelles",), "SD": ("Sudan",), "SE": ("Sweden", "Sweden."), "SG": ("Singapore",),
        "SI": ("Slovenia",), "SK": ("Slovakia",), "SL": ("Sierra Leone",), "SM": ("San Marino",), "SN": ("Senegal",),
        "SO": ("Somali", "Somalia", "Somalia."), "SR": ("Suriname",), "SS": ("South Sudan",), "SV": ("El Salvador",),
        "SY": ("Syria", "Syria.", "Syrian Arab Republic", "Syrian Arab Republic "), "SZ": ("Eswatini",),
        "TD": ("Chad",), "TG": ("Togo",), "TH": ("Thailand",), "TJ": ("Tajikistan",), "TL": ("Timor-Leste",),
        "TM": ("Turkmenistan",), "TN": ("Tunisia", "Tunisia.", "Tunisian"), "TO": ("Tonga",),
        "TR": ("Turkey", "Turkey.", "Türkiye"), "TT": ("Trinidad & Tobago", "Trinidad and Tobago"), "TV": ("Tuvalu",),
        "TW": ("Taiwan",), "TZ": ("Tanzania", "United Republic of Tanzania"), "UA": ("Ukraine",), "UG": ("Uganda",),
        "US": ("USA", "United States", "United States of America"), "UY": ("Uruguay",), "UZ": ("Uzbekistan",),
        "VC": ("Saint Vincent and the Grenadines",), "VE": ("Venezuela",),
        "VG": ("British Virgin Islands", "Virgin Islands, British"), "VN": ("Viet Nam", "Vietnam"),
        "VU": ("Vanuatu",), "WS": ("Samoa",), "XK": ("Kosovo",), "YE": ("Yemen", "Yemen.", "Yemeni"),
        "ZA": ("South Africa",), "ZM": ("Zambia",), "ZW": ("Zimbabwe",),
        "-": (
            " na", "-0- ", "Netherlands Antilles", "Region: Kafia Kingi", "Serbia and Montenegro",
            "Serbia and Montenegro.", "Yugoslavia", "ex-Yugoslavia", "na", "undetermined",
        ),
        "?": (
            "(Medina) Saudi Arabia", "Antioquia", "Bahrain (citizenship revoked in Jan. 2015)",
            "Baja California Norte", "Branch Office 11: Iran", "Coahuila", "Congo - Brazzaville", "Congo - Kinshasa",
            "Cordoba", "Durango", "Guerrero", "Hebron", "Hidalgo", "Indiana USA", "Indonesia (as at Dec. 2003)",
            "Indonesian passport", "Iran / unknown", "Jalisco", "Kigali", "Kuwaiti citizenship withdrawn in 2002",
            "Libya (in custody)", "Michoacan", "New Mexico", "Nuevo Leon", "Possibly Ethiopian", "Puebla", "Sinaloa",
            "St. Kitts & Nevis", "St. Vincent & Grenadines", "Sudan/South Sudan", "Sudan/or South Sudan",
            "Sudanese by birth", "São Tomé & Príncipe", "Tamaulipas", "Tunisian passport", "USSR (until 1991)",
            "United States. Also believed to hold Syrian nationality", "Valle", "Valle Colombia", "Valle del Cauca",
            "Veracruz", "Vitez", "Vladicin Han municipality.", "Zacatecas", "possibly Palestinian",
        ),
    },
    "resolve_iso2": {
        "AD": ("AD",), "AE": ("AE",), "AF": ("AF",), "AG": ("AG",), "AL": ("AL",), "AM": ("AM",), "AO": ("AO",),
        "AR": ("AR",), "AT": ("AT",), "AU": ("AU",), "AW": ("AW",), "AZ": ("AZ",), "BA": ("BA",), "BB": ("BB",),
        "BD": ("BD",), "BE": ("BE",), "BF": ("BF",), "BG": ("BG",), "BH": ("BH",), "BI": ("BI",), "BJ": ("BJ",),
        "BM": ("BM",), "BN": ("BN",), "BO": ("BO",), "BR": ("BR",), "BS": ("BS",), "BT": ("BT",), "BW": ("BW",),
        "BY": ("BY",), "BZ": ("BZ",), "CA": ("CA",), "CD": ("CD",), "CF": ("CF",), "CG": ("CG",), "CH": ("CH",),
        "CI": ("CI",), "CL": ("CL",), "CM": ("CM",), "CN": ("CN",), "CO": ("CO",), "CR": ("CR",), "CU": ("CU",),
        "CV": ("CV",), "CY": ("CY",), "CZ": ("CZ",), "DE": ("DE",), "DJ": ("DJ",), "DK": ("DK",), "DM": ("DM",),
        "DO": ("DO",), "DZ": ("DZ",), "EC": ("EC",), "EE": ("EE",), "EG": ("EG",), "ER": ("ER",), "ES": ("ES",),
        "ET": ("ET",), "FI": ("FI",), "FJ": ("FJ",), "FM": ("FM",), "FR": ("FR",), "GA": ("GA",), "GB": ("GB",),
        "GD": ("GD",), "GE": ("GE",), "GG": ("GG",), "GH": ("GH",), "GI": ("GI",), "GM": ("GM",), "GN": ("GN",),
        "GQ": ("GQ",), "GR": ("GR",), "GT": ("GT",), "GW": ("GW",), "GY": ("GY",), "HK": ("HK",), "HN": ("HN",),
        "HR": ("HR",), "HT": ("HT",), "HU": ("HU",), "ID": ("ID",), "IE": ("IE",), "IL": ("IL",), "IM": ("IM",),
        "IN": ("IN",), "IQ": ("IQ",), "IR": ("IR",), "IS": ("IS",), "IT": ("IT",), "JE": ("JE",), "JM": ("JM",),
        "JO": ("JO",), "JP": ("JP",), "KE": ("KE",), "KG": ("KG",), "KH": ("KH",), "KI": ("KI",), "KM": ("KM",),
        "KN": ("KN",), "KP": ("KP",), "KR": ("KR",), "KW": ("KW",), "KY": ("KY",), "KZ": ("KZ",), "LA": ("LA",),
        "LB": ("LB",), "LC": ("LC",), "LI": ("LI",), "LK": ("LK",), "LR": ("LR",), "LS": ("LS",), "LT": ("LT",),
        "LU": ("LU",), "LV": ("LV",), "LY": ("LY",), "MA": ("MA",), "MC": ("MC",), "MD": ("MD",), "ME": ("ME",),
        "MG": ("MG",), "MH": ("MH",), "MK": ("MK",), "ML": ("ML",), "MM": ("MM",), "MN": ("MN",), "MO": ("MO",),
        "MR": ("MR",), "MT": ("MT",), "MU": ("MU",), "MV": ("MV",), "MW": ("MW",), "MX": ("MX",), "MY": ("MY",),
        "MZ": ("MZ",), "NA": ("NA",), "NE": ("NE",), "NG": ("NG",), "NI": ("NI",), "NL": ("NL",), "NO": ("NO",),
        "NP": ("NP",), "NR": ("NR",), "NZ": ("NZ",), "OM": ("OM",), "PA": ("PA",), "PE": ("PE",), "PG": ("PG",),
        "PH": ("PH",), "PK": ("PK",), "PL": ("PL",), "PS": ("PS",), "PT": ("PT",), "PW": ("PW",), "PY": ("PY",),
        "QA": ("QA",), "RO": ("RO",), "RS": ("RS",), "RU": ("RU",), "RW": ("RW",), "SA": ("SA",), "SB": ("SB",),
        "SC": ("SC",), "SD": ("SD",), "SE": ("SE",), "SG": ("SG",), "SI": ("SI",), "SK": ("SK",), "SL": ("SL",),
        "SM": ("SM",), "SN": ("SN",), "SO": ("SO",), "SR": ("SR",), "SS": ("SS",), "ST": ("ST",), "SV": ("SV",),
        "SY": ("SY",), "SZ": ("SZ",), "TD": ("TD",), "TG": ("TG",), "TH": ("TH",), "TJ": ("TJ",), "TL": ("TL",),
        "TM": ("TM",), "TN": ("TN",), "TO": ("TO",), "TR": ("TR",), "TT": ("TT",), "TV": ("TV",), "TW": ("TW",),
        "TZ": ("TZ",), "UA": ("UA",), "UG": ("UG",), "US": ("US",), "UY": ("UY",), "UZ": ("UZ",), "VC": ("VC",),
        "VE": ("VE",), "VG": ("VG",), "VN": ("VN",), "VU": ("VU",), "WS": ("WS",), "YE": ("YE",), "ZA": ("ZA",),
        "ZM": ("ZM",), "ZW": ("ZW",), "-": ("YU",),
    },
    "resolve_cow": {
        "AD": ("232",), "AE": ("696",), "AF": ("700",), "AG": ("58",), "AL": ("339",), "AM": ("371",), "AO": ("540",),
        "AR": ("160",), "AT": ("305",), "AU": ("900",), "AZ": ("373",), "BA": ("346",), "BB": ("53",), "BD": ("771",),
        "BE": ("211",), "BF": ("439",), "BG": ("355",), "BH": ("692",), "BI": ("516",), "BJ": ("434",),
        "BN": ("835",), "BO": ("145",), "BR": ("140",), "BS": ("31",), "BT": ("760",), "BW": ("571",), "BY": ("370",),
        "BZ": ("80",), "CA": ("20",), "CD": ("490",), "CF": ("482",), "CG": ("484",), "CH": ("225",), "CI": ("437",),
        "CL": ("155",), "CM": ("471",), "CN": ("710",), "CO": ("100",), "CR": ("94",), "CU": ("40",), "CV": ("402",),
        "CY": ("352",), "CZ": ("316",), "DE": ("255",), "DJ": ("522",), "DK": ("390",), "DM": ("54",), "DO": ("42",),
        "DZ": ("615",), "EC": ("130",), "EE": ("366",), "EG": ("651",), "ER": ("531",), "ES": ("230",),
        "ET": ("530",), "FI": ("375",), "FJ": ("950",), "FM": ("987",), "FR": ("220",), "GA": ("481",),
        "GB": ("200",), "GD": ("55",), "GE": ("372",), "GH": ("452",), "GM": ("420",), "GN": ("438",), "GQ": ("411",),
        "GR": ("350",), "GT": ("90",), "GW": ("404",), "GY": ("110",), "HN": ("91",), "HR": ("344",), "HT": ("41",),
        "HU": ("310",), "ID": ("850",), "IE": ("205",), "IL": ("666",), "IN": ("750",), "IQ": ("645",),
        "IR": ("630",), "IS": ("395",), "IT": ("325",), "JM": ("51",), "JO": ("663",), "JP": ("740",), "KE": ("501",),
        "KG": ("703",), "KH": ("811",), "KI": ("946",), "KM": ("581",), "KN": ("60",), "KP": ("731",), "KR": ("732",),
        "KW": ("690",), "KZ": ("705",), "LA": ("812",), "LB": ("660",), "LC": ("56",), "LI": ("223",), "LK": ("780",),
        "LR": ("450",), "LS": ("570",), "LT": ("368",), "LU": ("212",), "LV": ("367",), "LY": ("620",),
        "MA": ("600",), "MC": ("221",), "MD": ("359",), "ME": ("341",), "MG": ("580",), "MH": ("983",),
        "MK": ("343",), "ML": ("432",), "MM": ("775",), "MN": ("712",), "MR": ("435",), "MT": ("338",),
        "MU": ("590",), "MV": ("781",), "MW": ("553",), "MX": ("70",), "MY": ("820",), "MZ": ("541",), "NA": ("565",),
        "NE": ("436",), "NG": ("475",), "NI": ("93",), "NL": ("210",), "NO": ("385",), "NP": ("790",), "NR": ("970",),
        "NZ": ("920",), "OM": ("698",), "PA": ("95",), "PE": ("135",), "PG": ("910",), "PH": ("840",), "PK": ("770",),
        "PL": ("290",), "PT": ("235",), "PW": ("986",), "PY": ("150",), "QA": ("694",), "RO": ("360",),
        "RS": ("345",), "RU": ("365",), "RW": ("517",), "SA": ("670",), "SB": ("940",), "SC": ("591",),
        "SD": ("625",), "SE": ("380",), "SG": ("830",), "SI": ("349",), "SK": ("317",), "SL": ("451",),
        "SM": ("331",), "SN": ("433",), "SO": ("520",), "SR": ("115",), "SS": ("626",), "ST": ("403",), "SV": ("92",),
        "SY": ("652",), "SZ": ("572",), "TD": ("483",), "TG": ("461",), "TH": ("800",), "TJ": ("702",),
        "TL": ("860",), "TM": ("701",), "TN": ("616",), "TO": ("955",), "TR": ("640",), "TT": ("52",), "TV": ("947",),
        "TZ": ("510",), "UA": ("369",), "UG": ("500",), "US": ("2",), "UY": ("165",), "UZ": ("704",), "VC": ("57",),
        "VE": ("101",), "VN": ("816",), "VU": ("935",), "WS": ("990",), "YE": ("679",), "ZA": ("560",),
        "ZM": ("551",), "ZW": ("552",),
    },
    "resolve_cameo": {
        "AE": ("ARE",), "AF": ("AFG",), "AL": ("ALB",), "AM": ("ARM",), "AT": ("AUT",), "AU": ("AUS",),
        "AZ": ("AZE",), "BD": ("BGD",), "BE": ("BEL",), "BG": ("BGR",), "BI": ("BDI",), "BM": ("BMU",),
        "BR": ("BRA",), "BW": ("BWA",), "BY": ("BLR",), "CA": ("CAN",), "CH": ("CHE",), "CL": ("CHL",),
        "CN": ("CHN",), "CO": ("COL",), "CY": ("CYP",), "CZ": ("CZE",), "DE": ("DEU",), "DK": ("DNK",),
        "EE": ("EST",), "EG": ("EGY",), "ES": ("ESP",), "ET": ("ETH",), "FI": ("FIN",), "FM": ("FSM",),
        "FR": ("FRA",), "GB": ("GBR",), "GE": ("GEO",), "GH": ("GHA",), "GR": ("GRC",), "GY": ("GUY",),
        "HR": ("HRV",), "HU": ("HUN",), "ID": ("IDN",), "IE": ("IRL",), "IL": ("ISR",), "IN": ("IND",),
        "IQ": ("IRQ",), "IR": ("IRN",), "IT": ("ITA",), "JM": ("JAM",), "JO": ("JOR",), "JP": ("JPN",),
        "KE": ("KEN",), "KG": ("KGZ",), "KH": ("KHM",), "KP": ("PRK",), "KR": ("KOR",), "KZ": ("KAZ",),
        "LB": ("LBN",), "LK": ("LKA",), "LT": ("LTU",), "LV": ("LVA",), "LY": ("LBY",), "MC": ("MCO",),
        "MD": ("MDA",), "MK": ("MKD",), "MM": ("MMR",), "MU": ("MUS",), "MV": ("MDV",), "MX": ("MEX",),
        "MY": ("MYS",), "MZ": ("MOZ",), "NA": ("NAM",), "NG": ("NGA",), "NL": ("NLD",), "NO": ("NOR",),
        "NR": ("NRU",), "NZ": ("NZL",), "OM": ("OMN",), "PA": ("PAN",), "PH": ("PHL",), "PK": ("PAK",),
        "PL": ("POL",), "PS": ("PSE",), "PT": ("PRT",), "RS": ("SRB",), "RU": ("RUS",), "SA": ("SAU",),
        "SE": ("SWE",), "SG": ("SGP",), "SL": ("SLE",), "SN": ("SEN",), "SO": ("SOM",), "SY": ("SYR",),
        "TH": ("THA",), "TM": ("TKM",), "TR": ("TUR",), "TT": ("TTO",), "UA": ("UKR",), "UG": ("UGA",),
        "US": ("USA",), "UY": ("URY",), "VE": ("VEN",), "VU": ("VUT",), "YE": ("YEM",), "ZA": ("ZAF",),
        "ZW": ("ZWE",), "-": ("AFR", "EUR", "SAF", "SEA", "WST"), "?": ("NA", "TWN"),
    },
    "resolve_iso3": {
        "AE": ("ARE",), "AF": ("AFG",), "AL": ("ALB",), "AM": ("ARM",), "AT": ("AUT",), "AU": ("AUS",),
        "AZ": ("AZE",), "BD": ("BGD",), "BE": ("BEL",), "BG": ("BGR",), "BI": ("BDI",), "BM": ("BMU",),
        "BR": ("BRA",), "BW": ("BWA",), "BY": ("BLR",), "CA": ("CAN",), "CH": ("CHE",), "CL": ("CHL",),
        "CN": ("CHN",), "CO": ("COL",), "CY": ("CYP",), "CZ": ("CZE",), "DE": ("DEU",), "DK": ("DNK",),
        "EE": ("EST",), "EG": ("EGY",), "ES": ("ESP",), "ET": ("ETH",), "FI": ("FIN",), "FM": ("FSM",),
        "FR": ("FRA",), "GB": ("GBR",), "GE": ("GEO",), "GH": ("GHA",), "GR": ("GRC",), "GY": ("GUY",),
        "HR": ("HRV",), "HU": ("HUN",), "ID": ("IDN",), "IE": ("IRL",), "IL": ("ISR",), "IN": ("IND",),
        "IQ": ("IRQ",), "IR": ("IRN",), "IT": ("ITA",), "JM": ("JAM",), "JO": ("JOR",), "JP": ("JPN",),
        "KE": ("KEN",), "KG": ("KGZ",), "KH": ("KHM",), "KP": ("PRK",), "KR": ("KOR",), "KZ": ("KAZ",),
        "LB": ("LBN",), "LK": ("LKA",), "LT": ("LTU",), "LV": ("LVA",), "LY": ("LBY",), "MC": ("MCO",),
        "MD": ("MDA",), "MK": ("MKD",), "MM": ("MMR",), "MU": ("MUS",), "MV": ("MDV",), "MX": ("MEX",),
        "MY": ("MYS",), "MZ": ("MOZ",), "NA": ("NAM",), "NG": ("NGA",), "NL": ("NLD",), "NO": ("NOR",),
        "NR": ("NRU",), "NZ": ("NZL",), "OM": ("OMN",), "PA": ("PAN",), "PH": ("PHL",), "PK": ("PAK",),
        "PL": ("POL",), "PS": ("PSE",), "PT": ("PRT",), "RS": ("SRB",), "RU": ("RUS",), "SA": ("SAU",),
        "SE": ("SWE",), "SG": ("SGP",), "SL": ("SLE",), "SN": ("SEN",), "SO": ("SOM",), "SY": ("SYR",),
        "TH": ("THA",), "TM": ("TKM",), "TR": ("TUR",), "TT": ("TTO",), "TW": ("TWN",), "UA": ("UKR",),
        "UG": ("UGA",), "US": ("USA",), "UY": ("URY",), "VE": ("VEN",), "VU": ("VUT",), "YE": ("YEM",),
        "ZA": ("ZAF",), "ZW": ("ZWE",), "?": ("AFR", "EUR", "NA", "SAF", "SEA", "WST"),
    },
}

# Changes since, each for the better: (method, value) -> new outcome.
IMPROVED = {
    # the unvotes tables' country names (the pipeline reads their ISO code column)
    ("resolve", "Congo - Brazzaville"): "CG",
    ("resolve", "Congo - Kinshasa"): "CD",
    ("resolve", "St. Kitts & Nevis"): "KN",
    ("resolve", "St. Vincent & Grenadines"): "VC",
    ("resolve", "São Tomé & Príncipe"): "ST",
}


@needs_samples
def test_sample_resolutions_unchanged(resolver: CountryResolver) -> None:
    values = sample_country_values()
    assert {m: len(v) for m, v in values.items()} == {
        m: sum(len(group) for group in table.values()) for m, table in SAMPLE_RESOLUTIONS.items()
    }, "the samples hold values the table does not list"
    changed = []
    for method, table in SAMPLE_RESOLUTIONS.items():
        recorded = {value: result for result, group in table.items() for value in group}
        assert set(recorded) == values[method], method
        for value, before in recorded.items():
            now = outcome(getattr(resolver, method)(value))
            if now != IMPROVED.get((method, value), before):
                changed.append(f"{method}({value!r}): {before} -> {now}")
    assert not changed, "resolutions changed:\n" + "\n".join(changed)


@needs_samples
def test_sample_programmes_are_known() -> None:
    ofac = SAMPLES / "ofac"
    tags: set[str] = set()
    for path in list(ofac.rglob("sdn.csv")) + list(ofac.rglob("cons_prim.csv")):
        for r in _csv_rows(path):
            if len(r) > 3 and r[3].strip() not in ("", "-0-"):
                tags.update(t.strip() for t in r[3].strip().strip("[]").split("] ["))
    for name in ("cons_classic_2024-05-06.xml", "sdn_classic_excerpt_2020-10-29.xml"):
        tags.update(
            el.text.strip() for el in ET.parse(ofac / name).iter() if local(el.tag) == "program"
        )
    for el in ET.parse(ofac / "cons_advanced_2020-03-17_subset.xml").iter():
        if local(el.tag) == "SanctionsMeasure" and el.get("SanctionsTypeID") == "1":
            tags.update(c.text.strip() for c in el if local(c.tag) == "Comment" and c.text)
    for el in ET.parse(ofac / "enhanced_xml_IRGC_filter_2024-08-28.xml").iter():
        if local(el.tag) == "sanctionsProgram" and el.text:
            tags.add(el.text.strip())
    assert len(tags) > 40
    table = program_table()
    unknown = sorted(t for t in tags if ("us_ofac", t) not in table)
    assert not unknown, f"OFAC programme tags missing from programs.csv: {unknown}"

    un_types: set[str] = set()
    for path in (SAMPLES / "un").glob("*.xml"):
        un_types.update(
            el.text.strip() for el in ET.parse(path).iter() if el.tag == "UN_LIST_TYPE" and el.text
        )
    unknown = sorted(t for t in un_types if ("un_sc", t) not in table)
    assert not unknown, f"UN list types missing from programs.csv: {unknown}"


# ----------------------------------------------------------------------------- OpenSanctions programmes
OPENSANCTIONS_PROGRAMS = SAMPLES / "opensanctions" / "programs_target_territories.csv"
#: OpenSanctions datasets that hold each authority's programmes.
OPENSANCTIONS_DATASETS = {"us_ofac": {"us_ofac_sdn", "us_ofac_cons"}, "un_sc": {"un_sc_sanctions"}}
#: UN list types (UN_LIST_TYPE) -> the OpenSanctions programme of the resolution that set up the regime.
UN_SC_PROGRAM_KEYS = {
    "Al-Qaida": "UN-SCISIL", "CAR": "UN-SC2127", "DPRK": "UN-SC1718", "DRC": "UN-SC1533", "GB": "UN-SC2048",
    "Haiti": "UN-SC2653", "Iran": "UN-SC1737", "Iraq": "UN-SC1518", "Libya": "UN-SC1970", "Somalia": "UN-SC2713",
    "SouthSudan": "UN-SC2206", "Sudan": "UN-SC1591", "Taliban": "UN-SC1988", "Yemen": "UN-SC2140",
}
#: Our regions in OpenSanctions' notation (``ua-cri``).
OPENSANCTIONS_REGIONS = {"crimea": "cri", "dpr": "dpr", "lpr": "lpr"}
#: Our programmes that OpenSanctions' metadata does not list (by alias or key).
NOT_IN_OPENSANCTIONS = {
    ("us_ofac", "FTO"), ("us_ofac", "HIFPAA"), ("us_ofac", "SDT"), ("us_ofac", "SYRIA-EO13894"),
    ("us_ofac", "ZIMBABWE"), ("un_sc", "Mali"),
}
_UKRAINE_RELATED = "ru;ua-cri;ua-dpr;ua-lpr"
_GROUPED = "OpenSanctions has one programme for several OFAC tags; each tag names its own target"
#: (authority, programme) -> (our targets, theirs, why), in OpenSanctions' notation (``ru``, ``ua-cri``).
DELIBERATE_DIFFERENCES = {
    ("us_ofac", "BALKANS"): (
        "al;ba;hr;me;mk;rs;si;xk", "al;ba;csxx;me;mk;rs;xk",
        "ours: the eight Western Balkans countries of EO 14033 (with Croatia and Slovenia); theirs adds csxx, "
        "Serbia and Montenegro, a historical state the crosswalk never maps to a successor"),
    ("us_ofac", "BALKANS-EO14033"): (
        "al;ba;hr;me;mk;rs;si;xk", "al;ba;csxx;me;mk;rs;xk", "as BALKANS"),
    ("us_ofac", "CAATSA - IRAN"): ("ir", "ir;ru", _GROUPED),
    ("us_ofac", "CAATSA - RUSSIA"): ("ru", "ir;ru", _GROUPED),
    ("us_ofac", "FSE-IR"): ("ir", "ir;sy", _GROUPED),
    ("us_ofac", "FSE-SY"): ("sy", "ir;sy", _GROUPED),
    ("us_ofac", "RUSSIA-EO14065"): ("ua-dpr;ua-lpr", _UKRAINE_RELATED, _GROUPED + " (EO 14065: the DNR and LNR)"),
    ("us_ofac", "SSIDES"): ("ru", _UKRAINE_RELATED, _GROUPED + " (the sectoral directives: Russia)"),
    ("us_ofac", "UKRAINE-EO13660"): ("ru", _UKRAINE_RELATED, _GROUPED + " (attributed to Russia, see README)"),
    ("us_ofac", "UKRAINE-EO13661"): ("ru", _UKRAINE_RELATED, _GROUPED + " (attributed to Russia, see README)"),
    ("us_ofac", "UKRAINE-EO13685"): ("ua-cri", _UKRAINE_RELATED, _GROUPED + " (EO 13685: Crimea)"),
    ("us_ofac", "CYBER2"): ("", "ip", "thematic here; theirs is 'ip', not an ISO 3166 country"),
    ("us_ofac", "CYBER3"): ("", "ip", "as CYBER2"),
    ("us_ofac", "CYBER4"): ("", "ip", "as CYBER2"),
    ("us_ofac", "HK-EO13936"): (
        "cn", "hk", "debatable choice (README): the EO answers the PRC's acts against Hong Kong's autonomy"),
    ("us_ofac", "IFCA"): (
        "ir", "", "theirs files the tag under non-proliferation; the Iran Freedom and Counter-Proliferation Act "
        "targets Iran"),
    ("us_ofac", "MAGNIT"): ("ru", "", "debatable choice (README): the 2012 Magnitsky Act concerns Russia"),
    ("un_sc", "DRC"): ("cd", "cg", "resolution 1533 is the DRC regime (cd); theirs gives the Republic of the Congo"),
    ("un_sc", "Somalia"): ("so", "", "theirs (resolution 2713, Al-Shabaab) names no target; the regime is Somalia's"),
}


def opensanctions_targets(authority: str, program: str, rows: list[dict[str, str]]) -> list[str] | None:
    """Target sets (``;``-joined, sorted) of the OpenSanctions programmes that carry our tag as an alias
    or as their key; ``None`` when none does. ``zz`` (a global programme) counts as no target."""
    if authority == "un_sc":
        found = [r for r in rows if r["key"] == UN_SC_PROGRAM_KEYS.get(program)]
    else:
        found = [r for r in rows if r["dataset"] in OPENSANCTIONS_DATASETS[authority]
                 and (program in {a.strip() for a in r["aliases"].split(";")} or r["key"] == f"US-{program}")]
    if not found:
        return None
    return [";".join(sorted(t for t in r["target_territories"].split(";") if t and t != "zz")) for r in found]


@needs_samples
def test_programs_agree_with_opensanctions() -> None:
    """programs.csv against OpenSanctions' programme metadata: every difference is a documented one."""
    rows = read_rows(OPENSANCTIONS_PROGRAMS)
    assert len(rows) > 200
    ours: dict[tuple[str, str], set[str]] = {}
    # OFAC's and the UN's rows; the other sources' tests cross-check their own programs.csv
    for r in (r for r in read_programs() if r["authority"] in OPENSANCTIONS_DATASETS):
        targets = ours.setdefault((r["authority"], r["program"]), set())
        # a regional programme's region (XWB) is not a sub-national area: its members are compared
        for region in r["region"].split(";") if r["region"] and r["kind"] != "regional" else [""]:
            if r["target_iso2"]:
                code = r["target_iso2"].lower()
                targets.add(f"{code}-{OPENSANCTIONS_REGIONS[region]}" if region else code)
    differences, unmatched, agreeing = {}, set(), 0
    for (authority, program), targets in sorted(ours.items()):
        theirs = opensanctions_targets(authority, program, rows)
        mine = ";".join(sorted(targets))
        if theirs is None:
            unmatched.add((authority, program))
        elif mine in theirs:
            agreeing += 1
        else:
            differences[authority, program] = (mine, " | ".join(theirs))
    assert unmatched == NOT_IN_OPENSANCTIONS
    documented = {key: (mine, theirs) for key, (mine, theirs, _why) in DELIBERATE_DIFFERENCES.items()}
    assert differences == documented, "undocumented or stale differences:\n" + "\n".join(
        f"{key}: ours {differences.get(key)}, documented {documented.get(key)}"
        for key in sorted(set(differences) | set(documented)) if differences.get(key) != documented.get(key)
    )
    assert agreeing >= 70
