"""GDELT events from zip archives: hostile archives (bombs over the raw cap or the ratio cap, a zip
of zeros, lying headers, several members, path-traversal names, nested, encrypted) are refused
with errors that name the source, the file, the rule (and the line), and the real samples zipped
still load exactly, through the pipeline's streaming path. Hostile zips are written in tmp_path,
the big ones by streaming, so no test holds them in memory."""

from __future__ import annotations

import hashlib
import struct
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import pipeline.sources.gdelt_events as gdelt
from pipeline import settings
from pipeline.errors import SourceError
from pipeline.parse import parse_files
from pipeline.sources.base import InputFile
from pipeline.sources.gdelt_events import Limits, load, staged_batches

GDELT_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples" / "gdelt"
V2_SAMPLE = GDELT_SAMPLES / "20191024143000.export.CSV"
V1_SAMPLE = GDELT_SAMPLES / "gdelt1_georgia_aug2012.csv"
MB = 1 << 20


def _input(path: Path) -> InputFile:
    return InputFile(path, path.name, hashlib.sha256(path.read_bytes()).hexdigest())


def _zip(path: Path, chunks: Iterable[bytes], member: str = "20191024143000.export.CSV") -> Path:
    """A deflated zip of one member written chunk by chunk (never held whole in memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open(member, "w") as out:
        for chunk in chunks:
            out.write(chunk)
    return path


def _patch(path: Path, local: tuple[int, str, int], central: tuple[int, str, int]) -> None:
    """Overwrite one field of the (only) member's local header and central directory entry:
    (offset in the record, struct format, value)."""
    data = bytearray(path.read_bytes())
    for start, (offset, fmt, value) in ((data.find(b"PK\x03\x04"), local), (data.rfind(b"PK\x01\x02"), central)):
        struct.pack_into(fmt, data, start + offset, value)
    path.write_bytes(bytes(data))


def _refused(path: Path, limits: Limits | None = None) -> SourceError:
    with pytest.raises(SourceError) as info:
        load([_input(path)], limits, path.parent / "scratch")
    err = info.value
    assert err.source == "gdelt_events" and err.file == path.name
    assert f"[gdelt_events] file '{path.name}'" in str(err) and f"rule '{err.rule}' failed" in str(err)
    assert "Nothing was published" in str(err)
    assert not any((path.parent / "scratch").iterdir()), "the scratch folder was left behind"
    return err


def _limits(**changes: int) -> Limits:
    return Limits(**{"max_bytes": 1 << 30, "max_ratio": 200, "max_line_bytes": 64 << 10, **changes})


# ------------------------------------------------------------------------------ size and ratio caps
def test_inflated_size_over_the_raw_cap_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    copies = 4
    archive = _zip(tmp_path / "20191024143000.export.CSV.zip", (V2_SAMPLE.read_bytes() for _ in range(copies)))
    inflated = copies * V2_SAMPLE.stat().st_size
    cap = inflated // 2
    assert archive.stat().st_size < cap < inflated  # the zip itself passes the raw-file cap
    monkeypatch.setenv("PIPELINE_MAX_RAW_BYTES", str(cap))
    out = tmp_path / "out"
    with pytest.raises(SourceError) as info:  # the pipeline's path: flow.parse_batch passes the setting
        parse_files("gdelt_events", [archive], out, max_bytes=settings.load().max_raw_bytes)
    err = info.value
    assert (err.source, err.file, err.rule) == ("gdelt_events", archive.name, "size cap")
    assert f"more than the {cap}-byte cap (PIPELINE_MAX_RAW_BYTES)" in err.detail
    assert "'20191024143000.export.CSV'" in err.detail  # the member, by name
    assert list(out.rglob("*")) == [], "a refused archive left files in the output folder"
    # load() reads the same setting; under a larger cap the same archive loads exactly
    assert _refused(archive).rule == "size cap"
    monkeypatch.setenv("PIPELINE_MAX_RAW_BYTES", str(inflated))
    result = load([_input(archive)], scratch_dir=tmp_path / "scratch")
    assert result.tables["gdelt_events"].num_rows == 2111
    assert ("duplicate_event", "GLOBALEVENTID", None, (copies - 1) * 2111) in result.audit


def test_a_header_that_understates_the_size_does_not_let_more_through(tmp_path: Path):
    row = V2_SAMPLE.read_bytes().split(b"\n", 1)[0] + b"\n"
    archive = _zip(tmp_path / "small_header.zip", (row * 2000 for _ in range(10)))
    _patch(archive, (22, "<I", 1000), (24, "<I", 1000))  # uncompressed size: 1000 bytes
    with zipfile.ZipFile(archive) as z:
        assert z.infolist()[0].file_size == 1000
    err = _refused(archive, _limits(max_bytes=1 << 20))
    assert err.rule == "readable zip archive" and "CRC" in err.detail


def test_a_header_that_overstates_the_size_is_refused_before_inflating(tmp_path: Path):
    archive = _zip(tmp_path / "big_header.zip", [V2_SAMPLE.read_bytes()])
    _patch(archive, (22, "<I", 0xFFFF_FFF0), (24, "<I", 0xFFFF_FFF0))
    err = _refused(archive)
    assert err.rule == "size cap" and f"declares {0xFFFF_FFF0} bytes" in err.detail


def test_ratio_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    row = V2_SAMPLE.read_bytes().split(b"\n", 1)[0] + b"\n"
    archive = _zip(tmp_path / "one_row_many_times.zip", (row * 5000 for _ in range(4)))
    inflated = 4 * 5000 * len(row)
    with zipfile.ZipFile(archive) as z:
        ratio = inflated / z.infolist()[0].compress_size
    assert 200 < ratio < 2000, ratio
    err = _refused(archive)  # the default cap, 200:1
    assert err.rule == "compression ratio cap" and "more than 200 times" in err.detail
    assert "PIPELINE_MAX_UNZIP_RATIO" in err.detail
    monkeypatch.setenv("PIPELINE_MAX_UNZIP_RATIO", "2000")
    result = load([_input(archive)], scratch_dir=tmp_path / "scratch")
    assert result.tables["gdelt_events"].num_rows == 1
    assert ("duplicate_event", "GLOBALEVENTID", None, 4 * 5000 - 1) in result.audit


# ------------------------------------------------------------------------------ line length
def test_zip_of_zeros_is_refused_on_its_first_line(tmp_path: Path):
    archive = _zip(tmp_path / "zeros.export.CSV.zip", (bytes(MB) for _ in range(64)))
    assert archive.stat().st_size < 200_000
    err = _refused(archive)
    assert err.rule == "line length cap" and err.record == "line 1" and "65536 bytes" in err.detail
    assert "field larger than field limit" not in str(err)


def test_zeros_after_good_lines_name_the_line(tmp_path: Path):
    lines = V2_SAMPLE.read_bytes().split(b"\n")
    head = b"\n".join(lines[:3]) + b"\n"
    archive = _zip(tmp_path / "zeros_late.zip", [head, *(bytes(MB) for _ in range(8))])
    err = _refused(archive)
    assert err.rule == "line length cap" and err.record == "line 4"


def test_plain_files_with_a_long_line_are_refused(tmp_path: Path):
    zeros = tmp_path / "zeros.CSV"
    with zeros.open("wb") as out:
        for _ in range(3):
            out.write(bytes(MB))
    err = _refused(zeros)
    assert err.rule == "line length cap" and err.record == "line 1"
    assert "field larger than field limit" not in str(err)
    lines = V2_SAMPLE.read_bytes().split(b"\n")[:10]
    lines[6] = lines[6].replace(b"\thttp", b"\thttp://example.org/" + b"a" * 70_000, 1)
    long_url = tmp_path / "long_url.CSV"
    long_url.write_bytes(b"\n".join(lines) + b"\n")
    err = _refused(long_url)
    assert err.rule == "line length cap" and err.record == "line 7" and "PIPELINE_MAX_LINE_BYTES" in err.detail


def test_a_wide_first_field_is_a_named_error_not_a_csv_module_error(tmp_path: Path):
    wide = tmp_path / "wide.csv"
    wide.write_bytes(b'"' + b"x" * 140_000 + b'",b\n1,2\n')
    err = _refused(wide, _limits(max_line_bytes=1 << 20))
    assert err.rule == "readable CSV line" and err.record == "line 1"


# ------------------------------------------------------------------------------ archive shapes
def test_member_names_never_become_paths(tmp_path: Path):
    planted = tmp_path / "planted" / "20191024143000.export.CSV"
    plain = load([_input(V2_SAMPLE)], scratch_dir=tmp_path / "scratch").tables["gdelt_events"]
    lineage = ["raw_sha256", "raw_file"]
    for name in ("../../escape/20191024143000.export.CSV", str(planted), "..\\..\\win\\x.CSV"):
        archive = _zip(tmp_path / "sample.zip", [V2_SAMPLE.read_bytes()], member=name)
        work = tmp_path / "work"
        table = load([_input(archive)], scratch_dir=work).tables["gdelt_events"]
        assert table.drop_columns(lineage).equals(plain.drop_columns(lineage))
        assert list(work.iterdir()) == []
    assert not planted.exists() and not (tmp_path.parent / "escape").exists()
    assert {p.name for p in tmp_path.iterdir()} == {"scratch", "work", "sample.zip"}


def test_several_members_and_an_empty_archive_are_refused(tmp_path: Path):
    several = tmp_path / "several.zip"
    with zipfile.ZipFile(several, "w") as z:
        for i in range(7):
            z.writestr(f"part{i}.CSV", V2_SAMPLE.read_bytes()[:1000])
    err = _refused(several)
    assert err.rule == "zip archive holds one export file"
    assert "holds 7 files ('part0.CSV', 'part1.CSV'" in err.detail and err.detail.endswith(", ...)")
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    assert _refused(empty).rule == "zip archive holds one export file"


def test_nested_archive_is_refused(tmp_path: Path):
    inner = _zip(tmp_path / "inner.zip", [V2_SAMPLE.read_bytes()])
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(inner, "20191024143000.export.CSV")
    err = _refused(outer)
    assert err.rule == "export is not a nested archive" and "zip archive" in err.detail


def test_encrypted_member_is_refused(tmp_path: Path):
    archive = _zip(tmp_path / "locked.zip", [V2_SAMPLE.read_bytes()])
    _patch(archive, (6, "<H", 0x1), (8, "<H", 0x1))  # general purpose flag bit 0: encrypted
    err = _refused(archive)
    assert err.rule == "unencrypted zip member" and "encrypted" in err.detail


def test_corrupt_archive_is_refused(tmp_path: Path):
    archive = _zip(tmp_path / "corrupt.zip", [V2_SAMPLE.read_bytes()])
    data = bytearray(archive.read_bytes())
    data[200:260] = bytes(60)  # inside the deflated stream
    archive.write_bytes(bytes(data))
    assert _refused(archive).rule == "readable zip archive"


# ------------------------------------------------------------------------------ valid archives
@pytest.mark.parametrize("sample, rows", [(V2_SAMPLE, 2111), (V1_SAMPLE, 1255)])
def test_real_samples_zipped_load_exactly_through_the_pipeline_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample: Path, rows: int):
    expected = load([_input(sample)], scratch_dir=tmp_path / "scratch").tables["gdelt_events"]
    archive = _zip(tmp_path / f"{sample.name}.zip", [sample.read_bytes()], member=sample.name)
    monkeypatch.setattr(gdelt, "BATCH_ROWS", 500)  # several batches, as on a big file
    system_tmp = tmp_path / "system_tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    out = tmp_path / "out"
    result = parse_files("gdelt_events", [archive], out)
    assert result.counts["gdelt_events"] == rows == expected.num_rows
    (part,) = (out / "gdelt_events").rglob("*.parquet")
    assert pq.ParquetFile(part).num_row_groups == -(-rows // 500)
    lineage = ["raw_sha256", "raw_file"]
    assert pq.read_table(part).drop_columns(lineage).equals(expected.drop_columns(lineage))
    assert list(system_tmp.iterdir()) == [] and not list(out.glob(".*"))


def test_scratch_is_in_the_folder_given_never_the_system_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    system_tmp = tmp_path / "system_tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    archive = _zip(tmp_path / "sample.zip", [V2_SAMPLE.read_bytes()])
    home = tmp_path / "home" / "build"
    with staged_batches([_input(archive)], _limits(), home) as (batches, _snapshot, _audit):
        (scratch,) = home.iterdir()
        assert scratch.name.startswith(".gdelt-scratch-") and (scratch / "load.duckdb").is_file()
        assert sum(b.num_rows for b in batches) == 2111
        assert list(system_tmp.iterdir()) == []
    assert list(home.iterdir()) == []
