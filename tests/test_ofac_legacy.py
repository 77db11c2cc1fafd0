"""OFAC legacy layouts (classic XML, legacy CSV set) -> staged tables, on real OFAC files.

The samples are read where they are shared (never copied into the project); the expected
numbers were measured on the files independently of the parser (grep/awk/csv), see the
comment next to each assertion. Every test goes through ``parse_files("us_ofac_sdn", ...)``,
i.e. through the source's dispatcher, and reads the staged Parquet back with DuckDB.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from pipeline.errors import SourceError
from pipeline.parse import parse_files
from tests.staged_views import Staged

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples" / "ofac"
EXCERPT = SAMPLES / "sdn_csv_excerpt"
SUBSET_2021 = SAMPLES / "sdn_csv_2021-04-25_subset"
HEAD_2024 = SAMPLES / "sdn_csv_2024-05-03_head"
CONS_CSV = SAMPLES / "cons_csv"
CLASSIC_2020 = SAMPLES / "sdn_classic_excerpt_2020-10-29.xml"
CLASSIC_2024 = SAMPLES / "cons_classic_2024-05-06.xml"
FETCHED = date(2024, 5, 3)  # the CSV set carries no date: the caller supplies the fetch date

# The shared samples are required: without them every test here fails (the `samples` fixture).
pytestmark = pytest.mark.usefixtures("samples")


def _parse(out: Path, paths: list[Path], snapshot: date | None = FETCHED) -> Staged:
    result = parse_files("us_ofac_sdn", paths, out, snapshot_date=snapshot)
    return Staged(out, result)


@pytest.fixture(scope="module")
def excerpt(tmp_path_factory) -> Staged:
    return _parse(tmp_path_factory.mktemp("excerpt"), sorted(EXCERPT.glob("*.csv")))


@pytest.fixture(scope="module")
def subset_2021(tmp_path_factory) -> Staged:
    return _parse(tmp_path_factory.mktemp("s2021"), sorted(SUBSET_2021.glob("*.csv")))


@pytest.fixture(scope="module")
def head_2024(tmp_path_factory) -> Staged:
    return _parse(tmp_path_factory.mktemp("h2024"), [HEAD_2024 / "sdn.csv"])


@pytest.fixture(scope="module")
def cons_csv(tmp_path_factory) -> Staged:
    return _parse(tmp_path_factory.mktemp("cons"), sorted(CONS_CSV.glob("*.csv")))


@pytest.fixture(scope="module")
def classic_2024(tmp_path_factory) -> Staged:
    return _parse(tmp_path_factory.mktemp("c2024"), [CLASSIC_2024], snapshot=None)


def _classic_2020_fixed(folder: Path) -> Path:
    """The 2020 classic excerpt is hand-trimmed to 2 entries but keeps the full file's header
    (Record_Count 8497); a copy whose header matches its content, written to a temp folder."""
    fixed = folder / "SDN.XML"
    fixed.write_bytes(
        CLASSIC_2020.read_bytes().replace(b"<Record_Count>8497<", b"<Record_Count>2<")
    )
    return fixed


# --------------------------------------------------------------------------------------------
# Legacy CSV: the watchman excerpt (17 sdn rows, 28 add rows, 18 alt rows, 1 comments row)
# --------------------------------------------------------------------------------------------


def test_excerpt_designations(excerpt: Staged) -> None:
    assert excerpt.result.snapshot_date == FETCHED
    assert excerpt.result.counts["designations"] == 17
    # SDN_Type column: 4 "individual", 4 "vessel", 2 "aircraft", 7 "-0- " (entities)
    assert dict(excerpt.rows("select entity_type, count(*) from designations group by 1")) == {
        "person": 4,
        "organization": 7,
        "vessel": 4,
        "aircraft": 2,
    }
    row = excerpt.rows(
        "select designation_id, authority, list, entity_key, entity_type, primary_name, programs,"
        " listed_on, reference_number from designations where source_record_id = '10278'"
    )
    assert row == [
        (
            "us_ofac_sdn:SDN:10278",
            "us_ofac",
            "SDN",
            "us_ofac_sdn:10278",
            "person",
            "LOGAN MOREY, Elvis Angus",
            ["SDNT"],
            None,
            None,
        )
    ]
    programs = dict(excerpt.rows("select source_record_id, programs from designations"))
    assert programs["11195"] == ["NPWMD", "IFSR", "IRAN-CON-ARMS-EO"]
    assert programs["48727"] == ["SDGT", "NPWMD", "IRGC", "IFSR"]
    # 6 Program fields contain "] [" (grep)
    assert excerpt.one("select count(*) from designations where len(programs) > 1") == 6
    assert excerpt.rows(
        "select entity_type, primary_name from designations where source_record_id = '20540'"
    ) == [("aircraft", "P-532")]


def test_excerpt_comments_overflow_is_concatenated(excerpt: Staged) -> None:
    # sdn.csv cuts 33151's Remarks at "...XBT 1B64QRxf"; sdn_comments.csv continues "aa35MVkf7s..."
    remarks = excerpt.one("select remarks from designations where source_record_id = '33151'")
    assert "alt. Digital Currency Address - XBT 1B64QRxfaa35MVkf7sDjuGUYAP5izQt7Qi; " in remarks
    assert remarks.endswith("a.k.a. 'SUCCESSFUL EXCHANGE'.")
    ids = excerpt.rows(
        "select id_type, id_value, country_iso2, raw_type from identifiers"
        " where source_record_id = '33151'"
    )
    assert (
        "crypto_wallet",
        "1B64QRxfaa35MVkf7sDjuGUYAP5izQt7Qi",
        None,
        "Digital Currency Address - XBT",
    ) in ids
    assert (
        "crypto_wallet",
        "0x2f389ce8bd8ff92de3402ffce4691d17fc4f6535",
        None,
        "Digital Currency Address - ETH",
    ) in ids
    assert ("registration", "07486049", "CZ", "Company Number") in ids
    # The continuation's alias phrase is read too.
    assert excerpt.rows(
        "select name, name_type, quality from names where source_record_id = '33151'"
        " and name_type <> 'primary'"
    ) == [("SUCCESSFUL EXCHANGE", "aka", "weak")]


def test_excerpt_names_and_orphan_rows(excerpt: Staged) -> None:
    # 17 primary names, 18 alt.csv rows (all aka), 16 "a.k.a. '...'" phrases in the remarks
    assert dict(
        excerpt.rows(
            "select coalesce(quality, '-') || '/' || name_type, count(*) from names group by 1"
        )
    ) == {
        "-/primary": 17,
        "-/aka": 18,
        "weak/aka": 16,
    }
    # alt.csv ent_nums 10416, 11935, 18820, 29445, 30221 and add.csv ent_nums 12562, 21765,
    # 33723, 33997 are not in the sdn.csv excerpt: written, and audited.
    orphans = excerpt.rows(
        "select field, value from parse_audit where rule = 'orphan_row' order by 1, 2"
    )
    assert orphans == [
        ("address/ent_num", "12562"),
        ("address/ent_num", "21765"),
        ("address/ent_num", "33723"),
        ("address/ent_num", "33997"),
        ("alias/ent_num", "10416"),
        ("alias/ent_num", "11935"),
        ("alias/ent_num", "18820"),
        ("alias/ent_num", "29445"),
        ("alias/ent_num", "30221"),
    ]
    assert excerpt.rows(
        "select name, name_type, quality from names where source_record_id = '10416'"
    ) == [("KARADH AL-HASSAN", "aka", None)]
    assert excerpt.rows(
        "select name from names where source_record_id = '48603' and name_type = 'aka'"
        " and quality is null order by name"
    ) == [
        ("KHOROSHEV, Dmitrii Yuryevich",),
        ("KHOROSHEV, Dmitriy Yurevich",),
        ("YURIEVICH, Dmitry",),
    ]
    # every remark phrase kind of the excerpt is in the phrase table
    assert excerpt.one("select count(*) from parse_audit where rule = 'unknown_remark_kind'") == 0


def test_excerpt_countries_identifiers_relations(excerpt: Staged) -> None:
    links = excerpt.rows(
        "select source_record_id, link_type, country_iso2, raw_value"
        " from country_links order by all"
    )
    assert ("48603", "nationality", "RU", "Russia") in links
    assert ("48603", "citizenship", "RU", "Russia") in links
    assert ("48603", "birth", "RU", "Russian Federation") in links  # "POB Russian Federation"
    assert ("10278", "birth", "BZ", "Belize") in links  # "POB Toledo District, Belize"
    assert ("40716", "flag", "IR", "Iran") in links  # Vess_flag
    assert ("11195", "address", "IR", "Iran") in links  # add.csv: 5 rows, all Iran -> one tie
    assert ("11195", "registration", "IR", "Iran") in links  # "Registration Number 26740 (Iran)"
    assert (
        excerpt.one(
            "select count(*) from country_links where source_record_id = '11195'"
            " and link_type = 'address'"
        )
        == 1
    )
    ids = excerpt.rows("select source_record_id, id_type, id_value, country_iso2 from identifiers")
    assert ("10278", "passport", "P0017003", "BZ") in ids
    assert ("11195", "national_id", "10100722073", "IR") in ids
    assert (
        "40716",
        "imo",
        "9486910",
        None,
    ) in ids  # Vessel Registration Identification IMO 9486910
    assert ("47371", "imo", "9339301", None) in ids  # Identification Number IMO 9339301
    assert ("47371", "call_sign", "A8LU7", None) in ids  # Call_Sign column
    assert (
        "44525",
        "registration",
        "0582030",
        "US",
    ) in ids  # "... 0582030 (Connecticut) (United States)"
    assert ("44525", "tax_id", "52-2083095", "US") in ids
    assert ("12685", "registration", "CH-660.0.699.004-7", "CH") in ids
    # 11 "Linked To: " phrases (grep), names without the closing period of the remarks
    rels = excerpt.rows(
        "select source_record_id, related_name, relation_type, related_entity_key from relations"
    )
    assert len(rels) == 11
    assert ("19709", "MAHAN AIR", "linked_to", None) in rels
    assert ("15102", "D'S SUPERMARKET COMPANY LTD.", "linked_to", None) in rels
    assert ("11195", "ISLAMIC REVOLUTIONARY GUARD CORPS", "linked_to", None) in rels


def test_csv_files_are_recognised_by_columns_not_names(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    renamed = []
    for i, name in enumerate(["alt.csv", "sdn_comments.csv", "add.csv", "sdn.csv"]):
        renamed.append(src / f"file{i}.txt")
        shutil.copyfile(EXCERPT / name, renamed[-1])
    staged = _parse(tmp_path / "out", renamed)
    assert staged.result.counts["designations"] == 17
    assert staged.one("select count(*) from names") == 51
    assert "1B64QRxfaa35MVkf7sDjuGUYAP5izQt7Qi" in staged.one(
        "select remarks from designations where source_record_id = '33151'"
    )


# --------------------------------------------------------------------------------------------
# Legacy CSV: larger real files
# --------------------------------------------------------------------------------------------


def test_sdn_2021_subset(subset_2021: Staged) -> None:
    s = subset_2021
    assert s.result.counts["designations"] == 2500
    # SDN_Type: 1512 individual, 4 vessel, 984 "-0- " (grep)
    assert dict(s.rows("select entity_type, count(*) from designations group by 1")) == {
        "person": 1512,
        "organization": 984,
        "vessel": 4,
    }
    # add.csv: 4,788 rows, 4,074 with a Country, 2,077 distinct (ent_num, Country) over 1,789
    # ent_nums (csv module); the file is sorted by ent_num so consecutive duplicates collapse.
    assert s.rows(
        "select count(*), count(distinct entity_key) from country_links where link_type = 'address'"
    ) == [(2077, 1789)]
    assert (
        s.one(
            "select count(distinct entity_key) from country_links where link_type = 'address'"
            " and country_iso2 = 'CO'"
        )
        == 604
    )
    assert (
        s.one(
            "select count(distinct entity_key) from country_links where link_type = 'address'"
            " and country_iso2 = 'MX'"
        )
        == 288
    )
    # alt.csv: 3,852 rows: 3,776 aka, 68 fka, 8 nka; the subset is joinable: no orphan
    assert dict(
        s.rows(
            "select name_type, count(*) from names where quality is null and name_type <> 'primary'"
            " group by 1"
        )
    ) == {"aka": 3776, "fka": 68, "nka": 8}
    assert s.one("select count(*) from parse_audit where rule = 'orphan_row'") == 0
    assert s.one("select count(*) from designations where len(programs) > 1") == 137


def test_sdn_2024_head(head_2024: Staged) -> None:
    s = head_2024
    assert s.result.counts["designations"] == 2500
    # SDN_Type: 1450 individual, 53 vessel, 0 aircraft, 997 "-0- " (grep)
    assert dict(s.rows("select entity_type, count(*) from designations group by 1")) == {
        "person": 1450,
        "organization": 997,
        "vessel": 53,
    }
    assert s.one("select count(*) from designations where entity_type = 'aircraft'") == 0
    assert s.one("select count(*) from designations where len(programs) > 1") == 243
    # grep -cE '(; |")(alt\. )?nationality ' -> 628 rows; '... citizen ' -> 339 rows
    assert (
        s.one(
            "select count(distinct entity_key) from country_links where link_type = 'nationality'"
        )
        == 628
    )
    assert (
        s.one(
            "select count(distinct entity_key) from country_links where link_type = 'citizenship'"
        )
        == 339
    )
    by_country = dict(
        s.rows(
            "select country_iso2, count(distinct entity_key) from country_links"
            " where link_type = 'nationality' group by 1"
        )
    )
    assert by_country["MX"] == 174  # "nationality Mexico" (grep | uniq -c)
    assert by_country["IQ"] == 104
    assert by_country["IR"] == 20
    # only sdn.csv: no address file, so no address link
    assert s.one("select count(*) from country_links where link_type = 'address'") == 0
    assert s.one("select count(*) from identifiers where id_type = 'imo'") == 52
    # free-text phrases (titles, family ties...) are audited by kind, never dropped silently
    kinds = dict(
        s.rows("select field, occurrences from parse_audit where rule = 'unknown_remark_kind'")
    )
    assert kinds["ICTY indictee"] == 69
    assert "DOB 01" not in kinds and "Passport" not in kinds


def test_cons_csv(cons_csv: Staged) -> None:
    s = cons_csv
    assert s.result.counts["designations"] == 442  # cons_prim.csv rows (ends with 0x1A)
    # a consolidated file: each row gets the non-SDN list its programme tags name, else CONS
    assert dict(s.rows("select list, count(*) from designations group by 1")) == {
        "CONS": 296,
        "NS-CMIC": 68,
        "NS-PLC": 78,
    }
    assert dict(s.rows("select entity_type, count(*) from designations group by 1")) == {
        "person": 79,
        "organization": 363,
    }
    assert (
        s.one("select count(*) from names where name_type <> 'primary' and quality is null") == 1073
    )
    assert (
        s.one("select count(*) from parse_audit where rule = 'orphan_row'") == 0
    )  # all 10 comments used
    # 30930's remarks are cut after "(USCC) 91110000710934369E " (trailing space kept) and
    # cons_comments.csv goes on with "(China); a.k.a. 'CCCC'."
    assert ("registration", "91110000710934369E", "CN") in s.rows(
        "select id_type, id_value, country_iso2 from identifiers where source_record_id = '30930'"
    )
    assert s.rows(
        "select name from names where source_record_id = '30930' and quality = 'weak'"
    ) == [("CCCC",)]
    # 17254 is cut inside "Government| Gazette Number" (leading space of the continuation kept)
    assert s.one("select count(*) from parse_audit where field like 'GovernmentGazette%'") == 0
    assert s.one("select count(*) from relations") == 283  # grep -o 'Linked To: ' prim+comments


# --------------------------------------------------------------------------------------------
# Classic XML
# --------------------------------------------------------------------------------------------


def test_classic_2020_excerpt_as_shipped_fails_record_count(tmp_path: Path) -> None:
    # The real excerpt keeps the full file's header: Record_Count 8497 for 2 entries.
    with pytest.raises(SourceError) as err:
        parse_files("us_ofac_sdn", [CLASSIC_2020], tmp_path / "out")
    assert err.value.rule == "Record_Count matches entries"
    assert "8497" in str(err.value) and "2" in err.value.detail
    assert err.value.file == CLASSIC_2020.name


def test_classic_2020_excerpt(tmp_path: Path) -> None:
    s = _parse(tmp_path / "out", [_classic_2020_fixed(tmp_path)], snapshot=None)
    assert s.result.snapshot_date == date(2020, 10, 29)  # Publish_Date 10/29/2020
    assert s.rows(
        "select source_record_id, entity_type, primary_name, programs from designations order by 1"
    ) == [
        ("173", "organization", "ANGLO-CARIBBEAN CO., LTD.", ["CUBA"]),
        ("36", "organization", "AEROCARIBBEAN AIRLINES", ["CUBA"]),
    ]
    assert s.rows(
        "select name, name_type, quality from names where source_record_id = '36' order by 2 desc"
    ) == [
        ("AEROCARIBBEAN AIRLINES", "primary", None),
        ("AERO-CARIBBEAN", "aka", "strong"),
    ]
    assert s.rows(
        "select link_type, country_iso2, raw_value from country_links where source_record_id = '36'"
    ) == [("address", "CU", "Cuba")]
    assert s.one("select count(*) from parse_audit") == 0


def test_classic_2024_consolidated(classic_2024: Staged) -> None:
    s = classic_2024
    assert s.result.snapshot_date == date(2024, 5, 6)  # Publish_Date 05/06/2024
    assert s.result.counts["designations"] == 443  # Record_Count 443, grep -c '<sdnEntry>'
    # grep '<sdnType>': 364 Entity, 79 Individual
    assert dict(s.rows("select entity_type, count(*) from designations group by 1")) == {
        "organization": 364,
        "person": 79,
    }
    assert s.rows(
        "select primary_name, programs from designations where source_record_id = '9639'"
    ) == [("HANIYA, Ismail Abdul Salah", ["NS-PLC"])]
    # one <nationality> (uid 9647, Palestinian) and one <citizenship> (26182, Turkey)
    assert s.rows(
        "select source_record_id, link_type, country_iso2, raw_value from country_links"
        " where link_type in ('nationality', 'citizenship') order by 2"
    ) == [
        ("26182", "citizenship", "TR", "Turkey"),
        ("9647", "nationality", "PS", "Palestinian"),
    ]
    # 2,366 <id>: 1,260 of identifier kinds (Tax ID 211, Registration ID 209, Website 177, ISIN 165,
    # Government Gazette 154, Email 126, ...); the rest are directives, dates, "Secondary
    # sanctions risk:" etc. (not identifiers) and 12 "Nationality of Registration" (-> links)
    assert s.result.counts["identifiers"] == 1260
    ids = dict(s.rows("select id_type, count(*) from identifiers group by 1"))
    assert ids["swift"] == 33 and ids["passport"] == 1 and ids["tax_id"] == 212  # 211 + 1 V.A.T.
    assert s.rows(
        "select source_record_id, id_value, country_iso2 from identifiers"
        " where id_type = 'passport'"
    ) == [("26182", "U00242309", "TR")]
    assert s.one("select count(*) from parse_audit where rule = 'unknown_id_type'") == 0
    assert s.one("select count(*) from parse_audit where rule = 'unknown_field'") == 0
    # registration links: distinct (uid, idCountry) of registration-type ids (Registration ID,
    # Registration Number, Government Gazette Number, USCC, ...) plus the 12 "Nationality of
    # Registration" ids: 173 ties, 103 to Russia, 59 to China (ElementTree, outside the parser)
    reg = dict(
        s.rows(
            "select country_iso2, count(*) from country_links"
            " where link_type = 'registration' group by 1"
        )
    )
    assert sum(reg.values()) == 173 and reg["RU"] == 103 and reg["CN"] == 59
    # 284 "(Linked To: NAME)" in remarks (grep)
    assert s.one("select count(*) from relations") == 284
    gazprom = "PUBLIC JOINT STOCK COMPANY GAZPROM"
    assert s.one("select count(*) from relations where related_name = ?", gazprom) == 51
    assert s.one("select count(*) from relations where related_name similar to '[(].*|.*[)]'") == 0


def test_classic_unknown_elements_are_audited(tmp_path: Path) -> None:
    xml = CLASSIC_2020.read_text(encoding="utf-8")
    xml = xml.replace("<Record_Count>8497</Record_Count>", "<Record_Count>2</Record_Count>")
    xml = xml.replace(
        "<sdnType>Entity</sdnType>", "<sdnType>Entity</sdnType><riskScore>9</riskScore>", 1
    )
    xml = xml.replace("<city>Havana</city>", "<city>Havana</city><geo><lat>23.1</lat></geo>")
    xml = xml.replace("</sdnList>", "<footer><signed>x</signed></footer></sdnList>")
    path = tmp_path / "sdn.xml"
    path.write_text(xml, encoding="utf-8")
    s = _parse(tmp_path / "out", [path], snapshot=None)
    assert s.rows(
        "select field, example_record from parse_audit where rule = 'unknown_field' order by 1"
    ) == [
        ("addressList/address/geo", "36"),
        ("riskScore", "36"),
        ("sdnList/footer", None),
    ]
    assert s.result.counts["designations"] == 2


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def test_truncated_classic_xml_is_refused(tmp_path: Path) -> None:
    data = CLASSIC_2024.read_bytes()
    path = tmp_path / "CONSOLIDATED.XML"
    path.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    with pytest.raises(SourceError) as err:
        parse_files("us_ofac_sdn", [path], out)
    assert "well-formed" in str(err.value) and "CONSOLIDATED.XML" in str(err.value)
    assert not any(out.glob("designations/**/*.parquet"))  # nothing half-written


def test_record_count_mismatch_is_refused(tmp_path: Path) -> None:
    # Well-formed but incomplete: the last sdnEntry removed, the header still says 443.
    xml = CLASSIC_2024.read_text(encoding="utf-8")
    cut = xml.rindex("<sdnEntry>")
    path = tmp_path / "CONSOLIDATED.XML"
    path.write_text(xml[:cut] + "</sdnList>\n", encoding="utf-8")
    with pytest.raises(SourceError) as err:
        parse_files("us_ofac_sdn", [path], tmp_path / "out")
    assert err.value.rule == "Record_Count matches entries"
    assert "443" in err.value.detail and "442" in err.value.detail


def test_csv_row_with_wrong_column_count_is_refused(tmp_path: Path) -> None:
    lines = (EXCERPT / "sdn.csv").read_bytes().split(b"\r\n")
    lines[4] = b'15102,"MORENO, Daniel","individual","SDNTK",-0- ,-0- ,-0- '  # 7 columns
    path = tmp_path / "sdn.csv"
    path.write_bytes(b"\r\n".join(lines))
    with pytest.raises(SourceError) as err:
        parse_files("us_ofac_sdn", [path], tmp_path / "out", snapshot_date=FETCHED)
    assert err.value.rule == "column count"
    assert err.value.record == "15102"
    assert "row 5" in err.value.detail and "7 columns" in err.value.detail
    assert "sdn.csv" in str(err.value)


def test_csv_non_numeric_ent_num_is_refused(tmp_path: Path) -> None:
    data = (EXCERPT / "sdn.csv").read_bytes().replace(b"12685,", b"12685A,", 1)
    path = tmp_path / "sdn.csv"
    path.write_bytes(data)
    with pytest.raises(SourceError) as err:
        parse_files("us_ofac_sdn", [path], tmp_path / "out", snapshot_date=FETCHED)
    assert err.value.rule == "numeric ent_num"
    assert "row 3" in err.value.detail


def test_csv_unknown_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("1,a,b\r\n2,c,d\r\n", encoding="utf-8")
    with pytest.raises(SourceError) as err:
        parse_files(
            "us_ofac_sdn", [EXCERPT / "sdn.csv", path], tmp_path / "out", snapshot_date=FETCHED
        )
    assert err.value.rule == "known OFAC CSV layout"
    assert err.value.file == "other.csv"
