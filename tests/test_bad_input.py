"""Hostile and broken files are refused by the parsers themselves (defence in depth: the raw
expectation suite catches most of them first) with an error naming source, file and rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import SourceError
from pipeline.parse import parse_files
from pipeline.xmlsafe import iter_records, sniff
from tests.conftest import DEMO
from tests.test_dag import BOMB, XXE


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("source,name", [("un_sc", "consolidated.xml"), ("us_ofac_sdn", "sdn_advanced.xml")])
def test_html_page_instead_of_xml(tmp_path, source, name):
    bad = _write(tmp_path, name, b"<!DOCTYPE html>\n<html><body><h1>502 Bad Gateway</h1></body></html>")
    with pytest.raises(SourceError) as err:
        parse_files(source, [bad], tmp_path / "out")
    assert err.value.source == source and err.value.file == name
    assert "HTML page" in str(err.value)
    assert not (tmp_path / "out" / "designations").exists()  # nothing half-written


def test_empty_file(tmp_path):
    with pytest.raises(SourceError, match="empty file"):
        parse_files("un_sc", [_write(tmp_path, "consolidated.xml", b"")], tmp_path / "out")


@pytest.mark.parametrize("payload", [BOMB, XXE], ids=["entity_bomb", "external_entity"])
def test_entities_and_dtds_are_refused(tmp_path, payload):
    bad = _write(tmp_path, "consolidated.xml", payload.encode())
    with pytest.raises(SourceError) as err:
        parse_files("un_sc", [bad], tmp_path / "out")
    assert err.value.rule == "no DTD or entity declarations"
    # even when the prolog check is bypassed, the streaming parser refuses to expand anything
    with pytest.raises(SourceError) as err2:
        list(iter_records(bad, "un_sc", {"INDIVIDUAL"}, name="consolidated.xml"))
    assert err2.value.rule == "no DTD or entity declarations"
    assert "root:" not in str(err2.value)  # /etc/passwd was never read into the message


def test_truncated_xml_names_last_good_record(tmp_path):
    data = (DEMO / "un_sc" / "consolidated.xml").read_bytes()
    bad = _write(tmp_path, "consolidated.xml", data[: len(data) // 2])
    with pytest.raises(SourceError) as err:
        parse_files("un_sc", [bad], tmp_path / "out", names=["consolidated.xml"])
    assert err.value.rule == "well-formed XML"
    assert "last complete record was" in str(err.value)
    assert err.value.file == "consolidated.xml"


def test_wrong_root_element(tmp_path):
    bad = _write(tmp_path, "consolidated.xml", (DEMO / "us_ofac_sdn" / "sdn_advanced.xml").read_bytes())
    with pytest.raises(SourceError, match="expected root element"):
        parse_files("un_sc", [bad], tmp_path / "out")


def test_size_cap(tmp_path):
    bad = _write(tmp_path, "consolidated.xml", (DEMO / "un_sc" / "consolidated.xml").read_bytes())
    with pytest.raises(SourceError, match="size cap"):
        parse_files("un_sc", [bad], tmp_path / "out", max_bytes=1000)


def test_sniff_kinds(tmp_path):
    xml = b"\xef\xbb\xbf<?xml version='1.0'?>\n<!-- c -->\n<Sanctions x='1'/>"
    assert sniff(_write(tmp_path, "a", xml)).root == "Sanctions"
    assert sniff(_write(tmp_path, "b", b"   \n")).kind == "empty"
    assert sniff(_write(tmp_path, "c", b"\x1f\x8b\x08\x00")).kind == "gzip"
    assert sniff(_write(tmp_path, "d", b'36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA"\r\n')).kind == "csv"
    found = sniff(_write(tmp_path, "e", BOMB.encode()))
    assert found.kind == "xml" and found.has_doctype and found.root == "CONSOLIDATED_LIST"
