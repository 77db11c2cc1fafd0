"""Tests of the reference tables (pipeline/reference/*.csv) and of the country resolver.

The coverage tests read the real sample files under ``<workspace>/shared/data/samples`` and fail
when that folder is absent.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from pipeline.reference import (
    COUNTRIES_CSV,
    COUNTRY_NAMES_CSV,
    PROGRAMS_CSV,
    REFERENCE_DIR,
    CountryMatch,
    CountryResolver,
    load_programs,
    normalize_country_name,
    program_targets,
)

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared/data/samples"
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
    for path in (COUNTRIES_CSV, COUNTRY_NAMES_CSV, PROGRAMS_CSV):
        assert path.parent == REFERENCE_DIR and path.is_file()


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
    rows = read_rows(PROGRAMS_CSV)
    assert list(rows[0]) == ["authority", "program", "target_iso2", "region", "kind", "description"]
    keys = [(r["authority"], r["program"], r["target_iso2"]) for r in rows]
    assert len(keys) == len(set(keys)), Counter(keys).most_common(3)
    for r in rows:
        assert r["authority"] in {"us_ofac", "un_sc"}, r
        assert r["program"] == r["program"].strip() and r["description"], r
        if r["kind"] == "thematic":
            assert r["target_iso2"] == "" and r["region"] == "", r
        else:
            assert r["kind"] == "country" and r["target_iso2"] in country_codes, r
    kinds = {}
    for r in rows:
        kinds.setdefault((r["authority"], r["program"]), set()).add(r["kind"])
    assert all(len(k) == 1 for k in kinds.values()), "a programme is either thematic or country"
    assert load_programs() == rows


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
        ("NA", "NA", None),
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
    assert resolver.resolve_iso3("prk") == CountryMatch("KP", None, True)


def test_cameo_cow_fips(resolver: CountryResolver) -> None:
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

    fips = {
        "RS": "RU",
        "IR": "IR",
        "KN": "KP",
        "KS": "KR",
        "SY": "SY",
        "VE": "VE",
        "BO": "BY",
        "GM": "DE",
        "UK": "GB",
        "CH": "CN",
        "SZ": "CH",
        "RI": "RS",
        "IZ": "IQ",
        "KV": "XK",
    }
    for code, iso2 in fips.items():
        assert resolver.resolve_fips(code) == CountryMatch(iso2, None, True), code
    assert resolver.resolve_fips("GZ") == CountryMatch("PS", "gaza", True)


def test_every_country_resolves_by_its_own_name_and_codes(resolver: CountryResolver) -> None:
    for c in resolver.countries:
        assert resolver.resolve(c.name) == CountryMatch(c.iso2, None, True), c
        assert resolver.resolve(c.iso2) == CountryMatch(c.iso2, None, True), c
        assert resolver.resolve_iso3(c.iso3).iso2 == c.iso2
        assert resolver.name_of(c.iso2) == c.name
    assert resolver.name_of("KP") == "North Korea"
    assert resolver.name_of("ir") == "Iran"


def test_program_targets() -> None:
    assert program_targets("us_ofac", "RUSSIA-EO14024") == ["RU"]
    assert program_targets("us_ofac", "CAATSA  - RUSSIA") == ["RU"]
    assert program_targets("us_ofac", "UKRAINE-EO13685") == ["UA"]
    assert program_targets("us_ofac", "IRGC") == ["IR"]
    assert program_targets("us_ofac", "ETHIOPIA-EO14046") == ["ET", "ER"]
    assert program_targets("us_ofac", "SDGT") == []
    assert program_targets("us_ofac", "NPWMD") == []
    assert program_targets("us_ofac", "NO-SUCH-TAG") is None
    assert program_targets("un_sc", "GB") == ["GW"]
    assert program_targets("un_sc", "Taliban") == ["AF"]
    assert program_targets("un_sc", "Al-Qaida") == []
    crimea = [r for r in load_programs() if r["program"] == "UKRAINE-EO13685"]
    assert [(r["target_iso2"], r["region"]) for r in crimea] == [("UA", "crimea")]


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
    unknown = sorted(t for t in tags if program_targets("us_ofac", t) is None)
    assert not unknown, f"OFAC programme tags missing from programs.csv: {unknown}"

    un_types: set[str] = set()
    for path in (SAMPLES / "un").glob("*.xml"):
        un_types.update(
            el.text.strip() for el in ET.parse(path).iter() if el.tag == "UN_LIST_TYPE" and el.text
        )
    unknown = sorted(t for t in un_types if program_targets("un_sc", t) is None)
    assert not unknown, f"UN list types missing from programs.csv: {unknown}"
