"""Every real sample parses to the same staged rows as before the parser speed work (issue 17).

The digests below were computed from the parsers as they stood before any speed change
(``python tests/test_parse_unchanged.py`` prints them). A digest covers every staged table and
partition the parse writes: its path under the staged folder, its schema and its rows, sorted, so
a faster parser that changes any value, type, row count or partition fails here, naming the table.
"""

from __future__ import annotations

import hashlib
import sys
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.errors import SourceError
from pipeline.parse import parse_files
from pipeline.xmlsafe import iter_records, prolog_kind

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples"
EU_UNSEEN = Path(__file__).resolve().parent / "data" / "eu_unseen"
SNAPSHOT = date(2024, 1, 2)  # for the files that carry no date of their own

#: (case id, source, sample paths relative to the samples folder, or absolute: the EU files in tests/data)
CASES: list[tuple[str, str, list[str]]] = [
    ("ofac_advanced", "us_ofac_sdn", ["ofac/cons_advanced_2020-03-17_subset.xml"]),
    ("ofac_classic_2024", "us_ofac_sdn", ["ofac/cons_classic_2024-05-06.xml"]),
    ("ofac_classic_2020", "us_ofac_sdn", ["ofac/sdn_classic_excerpt_2020-10-29.xml"]),
    ("ofac_enhanced", "us_ofac_sdn", ["ofac/enhanced_xml_IRGC_filter_2024-08-28.xml"]),
    ("ofac_csv_excerpt", "us_ofac_sdn", [f"ofac/sdn_csv_excerpt/{n}" for n in
                                          ("sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv")]),
    ("ofac_csv_2021", "us_ofac_sdn", [f"ofac/sdn_csv_2021-04-25_subset/{n}" for n in
                                       ("sdn.csv", "add.csv", "alt.csv")]),
    ("un_2026", "un_sc", ["un/consolidated_2026-02-27_subset.xml"]),
    ("un_2020", "un_sc", ["un/consolidated_2020-03-20_full.xml"]),
    ("ca_2025", "ca_sema", ["ca/sema-lmes_2025-05.xml"]),
    ("ca_2020", "ca_sema", ["ca/sema-lmes_2020-04.xml"]),
    ("ch_amendment", "ch_seco", ["ch/seco_amendment_example_2024-01-17.xml"]),
    ("eu_xml_2022", "eu_fsf", [str(EU_UNSEEN / "20220316-FULL-1_1(xsd).xml")]),
    ("eu_xml_2023", "eu_fsf", [str(EU_UNSEEN / "fsf_iran_syria_dprk_2023-08-01.xml")]),
    ("eu_xml_2025", "eu_fsf", [str(EU_UNSEEN / "eu_small_2025-06-20.xml")]),
    ("eu_csv_2023", "eu_fsf", [str(EU_UNSEEN / "20230801-FULL-1_1.csv")]),
    ("gb_conlist", "gb_hmt", ["uk/ofsi_conlist_2025-04-10_subset.csv"]),
    ("gdelt_v2", "gdelt_events", ["gdelt/20191024143000.export.CSV"]),
    ("gdelt_v1", "gdelt_events", ["gdelt/gdelt1_georgia_aug2012.csv"]),
    ("unga_voeten", "unga_votes", ["unga/voeten_UNVotesPublished_session68.csv"]),
    ("unga_unvotes", "unga_votes", ["unga/unvotes_un_votes_sessions72-74.csv",
                                    "unga/unvotes_un_roll_calls_sessions68-74.csv",
                                    "unga/unvotes_un_roll_call_issues.csv"]),
]

#: case id -> {table partition path: sha256 of its schema and sorted rows}, before the speed work.
EXPECTED: dict[str, dict[str, str]] = {
    "ofac_advanced": {
        "birth_dates/source=us_ofac_sdn/snapshot_date=2020-03-17": "40:12087ad7751bee7d5746",
        "country_links/source=us_ofac_sdn/snapshot_date=2020-03-17": "186:bfdb90be1afd29798ed7",
        "designations/source=us_ofac_sdn/snapshot_date=2020-03-17": "124:a4476252dcad9e81e0ff",
        "identifiers/source=us_ofac_sdn/snapshot_date=2020-03-17": "184:e40f10573cbd2ab482df",
        "names/source=us_ofac_sdn/snapshot_date=2020-03-17": "391:f7ce96d5d4edd9dfec9e",
        "parse_audit/source=us_ofac_sdn/snapshot_date=2020-03-17": "8:5e3308df67f6da93486a",
        "relations/source=us_ofac_sdn/snapshot_date=2020-03-17": "63:5d4d13eb9d564b3fdfa7",
    },
    "ofac_classic_2024": {
        "birth_dates/source=us_ofac_sdn/snapshot_date=2024-05-06": "74:36c4f9e1b3fb07646665",
        "country_links/source=us_ofac_sdn/snapshot_date=2024-05-06": "580:1742f5b34618de7896d8",
        "designations/source=us_ofac_sdn/snapshot_date=2024-05-06": "443:1cf362fd8a32b0ac22fa",
        "identifiers/source=us_ofac_sdn/snapshot_date=2024-05-06": "1260:8486d00d196536dd308c",
        "names/source=us_ofac_sdn/snapshot_date=2024-05-06": "1569:e6d003b8dc4eaa95a74c",
        "parse_audit/source=us_ofac_sdn/snapshot_date=2024-05-06": "8:866b464bc9f3764f2923",
        "relations/source=us_ofac_sdn/snapshot_date=2024-05-06": "284:a8b085ca798ad4bbfdca",
    },
    "ofac_classic_2020": {
        "birth_dates/source=us_ofac_sdn/snapshot_date=2020-10-29": "0:5ac51b3f9f5cf98cd967",
        "country_links/source=us_ofac_sdn/snapshot_date=2020-10-29": "2:28d64967b2d390d02f20",
        "designations/source=us_ofac_sdn/snapshot_date=2020-10-29": "2:9b80c3e6e7269dc32ca6",
        "identifiers/source=us_ofac_sdn/snapshot_date=2020-10-29": "0:fe3025add2d3c75b708f",
        "names/source=us_ofac_sdn/snapshot_date=2020-10-29": "4:32d3e655508e9ea01173",
        "parse_audit/source=us_ofac_sdn/snapshot_date=2020-10-29": "1:4f6263400f263bd38007",
        "relations/source=us_ofac_sdn/snapshot_date=2020-10-29": "0:7f5c9aa735df784f9444",
    },
    "ofac_enhanced": {
        "birth_dates/source=us_ofac_sdn/snapshot_date=2024-08-28": "183:5312f34775fe3cb671d7",
        "country_links/source=us_ofac_sdn/snapshot_date=2024-08-28": "481:b4f2994eb804e8175eb6",
        "designations/source=us_ofac_sdn/snapshot_date=2024-08-28": "293:676b50071f7f6809fddb",
        "identifiers/source=us_ofac_sdn/snapshot_date=2024-08-28": "294:5a86b89e726878f4d633",
        "names/source=us_ofac_sdn/snapshot_date=2024-08-28": "930:b7dd95d8835346226db0",
        "parse_audit/source=us_ofac_sdn/snapshot_date=2024-08-28": "17:e873026568d10513cde3",
        "relations/source=us_ofac_sdn/snapshot_date=2024-08-28": "229:f89ca772869846c02222",
    },
    "ofac_csv_excerpt": {
        "birth_dates/source=us_ofac_sdn/snapshot_date=2024-01-02": "4:3f28cfd4f3b3f7ed57c9",
        "country_links/source=us_ofac_sdn/snapshot_date=2024-01-02": "29:e4fc8fae9256704061d5",
        "designations/source=us_ofac_sdn/snapshot_date=2024-01-02": "17:29f36aa5a2a85d786713",
        "identifiers/source=us_ofac_sdn/snapshot_date=2024-01-02": "72:82d121d33f97a14bcf8a",
        "names/source=us_ofac_sdn/snapshot_date=2024-01-02": "51:a9ce5a62a50594eee6fd",
        "parse_audit/source=us_ofac_sdn/snapshot_date=2024-01-02": "9:e90bab741dbd87c37ede",
        "relations/source=us_ofac_sdn/snapshot_date=2024-01-02": "11:d7cdfdcbed00c1188776",
    },
    "ofac_csv_2021": {
        "birth_dates/source=us_ofac_sdn/snapshot_date=2024-01-02": "1641:519723afabd5c44e95a0",
        "country_links/source=us_ofac_sdn/snapshot_date=2024-01-02": "4067:7c381945f55b215bed42",
        "designations/source=us_ofac_sdn/snapshot_date=2024-01-02": "2500:3a36728a0757382eeb02",
        "identifiers/source=us_ofac_sdn/snapshot_date=2024-01-02": "1792:f675fc72242e1bb6a30e",
        "names/source=us_ofac_sdn/snapshot_date=2024-01-02": "7232:00b40a396faa60cba19b",
        "parse_audit/source=us_ofac_sdn/snapshot_date=2024-01-02": "276:fd0ed7d59e2e7ecf7601",
        "relations/source=us_ofac_sdn/snapshot_date=2024-01-02": "52:e41a1d7b6b594a3fb297",
    },
    "un_2026": {
        "birth_dates/source=un_sc/snapshot_date=2026-02-27": "212:2caa4e1fb4a457a4de05",
        "country_links/source=un_sc/snapshot_date=2026-02-27": "463:badb6fadc4279e5ede8f",
        "designations/source=un_sc/snapshot_date=2026-02-27": "256:de5c95559b94266abed6",
        "identifiers/source=un_sc/snapshot_date=2026-02-27": "355:5c7580e922990061de91",
        "names/source=un_sc/snapshot_date=2026-02-27": "989:f6644a6a7ebae847307d",
        "parse_audit/source=un_sc/snapshot_date=2026-02-27": "1:260a036a8e88d589de19",
        "relations/source=un_sc/snapshot_date=2026-02-27": "0:7f5c9aa735df784f9444",
    },
    "un_2020": {
        "birth_dates/source=un_sc/snapshot_date=2020-03-20": "881:d1cb4daeddbefeb13fde",
        "country_links/source=un_sc/snapshot_date=2020-03-20": "2016:8240d0198a7a5ad33373",
        "designations/source=un_sc/snapshot_date=2020-03-20": "1014:5b4262bde2e4a87c8740",
        "identifiers/source=un_sc/snapshot_date=2020-03-20": "1433:14224ddd7c1d414f60c1",
        "names/source=un_sc/snapshot_date=2020-03-20": "4074:020c258be45fe5d83b8a",
        "parse_audit/source=un_sc/snapshot_date=2020-03-20": "17:4fe98d55865c00a04c1d",
        "relations/source=un_sc/snapshot_date=2020-03-20": "0:7f5c9aa735df784f9444",
    },
    "ca_2025": {
        "birth_dates/source=ca_sema/snapshot_date=2024-01-02": "1719:6a17353fc4c0738721e4",
        "country_links/source=ca_sema/snapshot_date=2024-01-02": "0:1909773e7ca773c99cf1",
        "designations/source=ca_sema/snapshot_date=2024-01-02": "4759:d089872680de42b59c23",
        "identifiers/source=ca_sema/snapshot_date=2024-01-02": "1936:81ba32ce6d02f69dddfb",
        "names/source=ca_sema/snapshot_date=2024-01-02": "8239:4d120aba55b4b43cacf7",
        "parse_audit/source=ca_sema/snapshot_date=2024-01-02": "1:127f17db5db0e4e10dce",
        "relations/source=ca_sema/snapshot_date=2024-01-02": "0:7f5c9aa735df784f9444",
    },
    "ca_2020": {
        "birth_dates/source=ca_sema/snapshot_date=2024-01-02": "213:bbf87317cda957c0840d",
        "country_links/source=ca_sema/snapshot_date=2024-01-02": "0:1909773e7ca773c99cf1",
        "designations/source=ca_sema/snapshot_date=2024-01-02": "1369:868a2b44e05a620a26f6",
        "identifiers/source=ca_sema/snapshot_date=2024-01-02": "213:ba5497b558a33237c93c",
        "names/source=ca_sema/snapshot_date=2024-01-02": "1525:b08e3fe509d72d4e62fa",
        "parse_audit/source=ca_sema/snapshot_date=2024-01-02": "0:5df24df51f0c2603f438",
        "relations/source=ca_sema/snapshot_date=2024-01-02": "0:7f5c9aa735df784f9444",
    },
    "ch_amendment": {
        "birth_dates/source=ch_seco/snapshot_date=2024-01-17": "3:01e86267a20cd6d64fc1",
        "country_links/source=ch_seco/snapshot_date=2024-01-17": "3:9b5fed5b43ce8588d7aa",
        "designations/source=ch_seco/snapshot_date=2024-01-17": "3:4d9fc059ca18313e58ae",
        "identifiers/source=ch_seco/snapshot_date=2024-01-17": "2:279e97a54edf97be555e",
        "names/source=ch_seco/snapshot_date=2024-01-17": "3:271f483cb2dd2ca3ea3f",
        "parse_audit/source=ch_seco/snapshot_date=2024-01-17": "5:73b7a0f03b9846ceb7bd",
        "relations/source=ch_seco/snapshot_date=2024-01-17": "0:7f5c9aa735df784f9444",
    },
    "eu_xml_2022": {
        "birth_dates/source=eu_fsf/snapshot_date=2022-03-16": "23:abb012d2b9660cd99b64",
        "country_links/source=eu_fsf/snapshot_date=2022-03-16": "64:73b3dfb1abb36c862e51",
        "designations/source=eu_fsf/snapshot_date=2022-03-16": "32:d7da552ccf491baa8b13",
        "identifiers/source=eu_fsf/snapshot_date=2022-03-16": "33:85556a66eedef13e7679",
        "names/source=eu_fsf/snapshot_date=2022-03-16": "53:d3fac078d72ecdce85ff",
        "parse_audit/source=eu_fsf/snapshot_date=2022-03-16": "4:a565979cb0b6d9ce2d88",
        "relations/source=eu_fsf/snapshot_date=2022-03-16": "0:7f5c9aa735df784f9444",
    },
    "eu_xml_2023": {
        "birth_dates/source=eu_fsf/snapshot_date=2023-08-01": "11:49575be69d80508a3fc3",
        "country_links/source=eu_fsf/snapshot_date=2023-08-01": "42:58918c961e674b3bd476",
        "designations/source=eu_fsf/snapshot_date=2023-08-01": "26:97eb622b6786b63dff28",
        "identifiers/source=eu_fsf/snapshot_date=2023-08-01": "34:b6d764cf4fa9218f70ca",
        "names/source=eu_fsf/snapshot_date=2023-08-01": "37:94e4f975abad4e7c256e",
        "parse_audit/source=eu_fsf/snapshot_date=2023-08-01": "11:04422e3a319f3381f18a",
        "relations/source=eu_fsf/snapshot_date=2023-08-01": "0:7f5c9aa735df784f9444",
    },
    "eu_xml_2025": {
        "birth_dates/source=eu_fsf/snapshot_date=2025-06-20": "6:a8aaa150b0b225bc1f49",
        "country_links/source=eu_fsf/snapshot_date=2025-06-20": "23:e04621d029c8509a4d4a",
        "designations/source=eu_fsf/snapshot_date=2025-06-20": "13:ea8903f9df9aecca026e",
        "identifiers/source=eu_fsf/snapshot_date=2025-06-20": "14:4bd2e661658623266cae",
        "names/source=eu_fsf/snapshot_date=2025-06-20": "21:b45309f45caeeb71167e",
        "parse_audit/source=eu_fsf/snapshot_date=2025-06-20": "11:593dbc94260615991a66",
        "relations/source=eu_fsf/snapshot_date=2025-06-20": "0:7f5c9aa735df784f9444",
    },
    "eu_csv_2023": {
        "birth_dates/source=eu_fsf/snapshot_date=2023-08-01": "11:4af8206948d560d08c02",
        "country_links/source=eu_fsf/snapshot_date=2023-08-01": "42:c41fa1b6d9f21b6430ea",
        "designations/source=eu_fsf/snapshot_date=2023-08-01": "26:09fb4413b5ef0bce88d0",
        "identifiers/source=eu_fsf/snapshot_date=2023-08-01": "34:6608f0c8ffff024bdf2b",
        "names/source=eu_fsf/snapshot_date=2023-08-01": "37:cb6945950258fe2cb65d",
        "parse_audit/source=eu_fsf/snapshot_date=2023-08-01": "10:6ac66f833d1a2f5cdbe4",
        "relations/source=eu_fsf/snapshot_date=2023-08-01": "0:7f5c9aa735df784f9444",
    },
    "gb_conlist": {
        "birth_dates/source=gb_hmt/snapshot_date=2025-04-10": "130:273aa25603aea3e66d43",
        "country_links/source=gb_hmt/snapshot_date=2025-04-10": "336:f1c26b0b9f8991f91be5",
        "designations/source=gb_hmt/snapshot_date=2025-04-10": "209:cd1179d11d2a084f60c9",
        "identifiers/source=gb_hmt/snapshot_date=2025-04-10": "579:1bbc1640405c4bc907d2",
        "names/source=gb_hmt/snapshot_date=2025-04-10": "997:dbe5b62767505f59e04d",
        "parse_audit/source=gb_hmt/snapshot_date=2025-04-10": "2:b5383e447a1a957aeb8b",
        "relations/source=gb_hmt/snapshot_date=2025-04-10": "22:ca862abd388c48ec9184",
    },
    "gdelt_v2": {
        "gdelt_events/source=gdelt_events/snapshot_date=2019-10-24": "2111:e62b4430f4df10030356",
        "parse_audit/source=gdelt_events/snapshot_date=2019-10-24": "0:5df24df51f0c2603f438",
    },
    "gdelt_v1": {
        "gdelt_events/source=gdelt_events/snapshot_date=2013-02-05": "1255:a2fdfd9b5f67615e46b3",
        "parse_audit/source=gdelt_events/snapshot_date=2013-02-05": "0:5df24df51f0c2603f438",
    },
    "unga_voeten": {
        "parse_audit/source=unga_votes/snapshot_date=2014-09-09": "0:5df24df51f0c2603f438",
        "unga_rollcalls/source=unga_votes/snapshot_date=2014-09-09": "64:7d25f9a431790ed53c44",
        "unga_votes/source=unga_votes/snapshot_date=2014-09-09": "12352:eb88a9f5068b4fcc7c41",
    },
    "unga_unvotes": {
        "parse_audit/source=unga_votes/snapshot_date=2020-01-14": "2:dd6239eb977c4df71b79",
        "unga_rollcalls/source=unga_votes/snapshot_date=2020-01-14": "647:cd868cdb766c4995f878",
        "unga_votes/source=unga_votes/snapshot_date=2020-01-14": "55017:2f89fbfc9a0b678506b7",
    },
}


def staged_digests(out: Path) -> dict[str, str]:
    """sha256 of every staged part under ``out``: its schema and its rows, sorted."""
    digests = {}
    for part in sorted(out.rglob("*.parquet")):
        table = pq.read_table(part, partitioning=None)
        rows = sorted(repr(sorted(row.items())) for row in table.to_pylist())
        digest = hashlib.sha256(str(table.schema).encode())
        for row in rows:
            digest.update(row.encode())
            digest.update(b"\n")
        digests[part.parent.relative_to(out).as_posix()] = f"{len(rows)}:{digest.hexdigest()[:20]}"
    return digests


def parse_case(source: str, files: list[str], out: Path) -> dict[str, str]:
    parse_files(source, [SAMPLES / f for f in files], out, snapshot_date=SNAPSHOT, strict=False)
    return staged_digests(out)


@pytest.mark.parametrize(("case", "source", "files"), CASES, ids=[c[0] for c in CASES])
def test_staged_rows_unchanged(case: str, source: str, files: list[str], tmp_path: Path) -> None:
    got = parse_case(source, files, tmp_path)
    expected = EXPECTED[case]
    assert sorted(got) == sorted(expected), f"{case}: staged tables differ"
    changed = {t: (expected[t], got[t]) for t in expected if got[t] != expected[t]}
    assert not changed, f"{case}: rows changed in {changed}"


_BOMB_DTD = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
             '<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>&lol2;</FIRST_NAME>'
             '</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>')


@pytest.mark.parametrize(("case", "data"), [
    # a DOCTYPE behind a prolog longer than the sniffed head (64 KiB) or the checked one (1 MiB)
    ("long_comment", ('<?xml version="1.0"?>\n<!--' + "x" * 100_000 + "-->\n" + _BOMB_DTD).encode()),
    ("huge_prolog", ('<?xml version="1.0"?>\n' + "<!-- x -->\n" * 120_000 + _BOMB_DTD).encode()),
    # an encoding whose bytes are not ASCII: left to the defused parser, which still refuses the DTD
    ("utf16", ('<?xml version="1.0" encoding="UTF-16"?>\n' + _BOMB_DTD).encode("utf-16")),
    ("plain_then_doctype", b'<?xml version="1.0"?><!-- c --><?pi x?>\n  ' + _BOMB_DTD.encode()),
])
def test_the_fast_xml_path_still_refuses_dtds(case: str, data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "consolidated.xml"
    path.write_bytes(data)
    with pytest.raises(SourceError) as err:
        list(iter_records(path, "un_sc", {"INDIVIDUAL"}))
    assert err.value.rule == "no DTD or entity declarations", case
    assert "lollol" not in str(err.value)


def test_prolog_kinds(tmp_path: Path) -> None:
    cases = {
        b'\xef\xbb\xbf<?xml version="1.0"?>\r\n<!-- a -->\n<a:root xmlns:a="x"/>': "plain",
        b"<!DOCTYPE r>\n<r/>": "doctype",
        b"\n\n<r><x/></r>": "plain",
        "<r/>".encode("utf-16"): "unknown",
        b"<?xml version='1.0'?> <!-- unterminated": "unknown",
    }
    for i, (data, kind) in enumerate(cases.items()):
        path = tmp_path / f"{i}.xml"
        path.write_bytes(data)
        assert prolog_kind(path) == kind, data[:40]


if __name__ == "__main__":  # print EXPECTED from the parsers as they stand
    import tempfile

    print("EXPECTED: dict[str, dict[str, str]] = {")
    for case, source, files in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                got = parse_case(source, files, Path(tmp))
            except Exception as exc:  # noqa: BLE001 - report and go on
                print(f"    # {case}: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
        print(f"    {case!r}: {{")
        for key, value in got.items():
            print(f"        {key!r}: {value!r},")
        print("    },")
    print("}")
