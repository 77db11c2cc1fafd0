"""What an error says was kept depends on who ran the failing step: a pipeline run says nothing
was published, ``pipeline parse`` says nothing was written to its output folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import KEPT, SourceError, ValidationFailed, parse_kept
from tests.conftest import DEMO, REPO


def _truncated_error() -> SourceError:
    return SourceError("un_sc", "consolidated.xml", "well-formed XML", "no element found", record="6907999")


def test_a_pipeline_step_says_nothing_was_published():
    assert str(_truncated_error()) == (
        "[un_sc] file 'consolidated.xml': record 6907999: rule 'well-formed XML' failed: no element found. " + KEPT)


def test_the_caller_says_what_was_kept():
    error = _truncated_error()
    error.kept = parse_kept("staged/")
    assert str(error).endswith("failed: no element found. Nothing was written to staged/.")
    assert "published" not in str(error)
    error.kept = None
    assert str(error).endswith("failed: no element found.")


def test_validation_failure_ends_with_its_data_docs():
    error = ValidationFailed("staged.designations", ["rows >= 12000"], data_docs="/x/index.html")
    assert str(error).splitlines()[-2:] == [KEPT, "Data Docs: /x/index.html"]
    error.kept = None
    assert str(error).splitlines()[-1] == "Data Docs: /x/index.html"


@pytest.mark.integration
def test_parse_command_failure_says_nothing_was_written_and_writes_nothing(tmp_path: Path):
    out = tmp_path / "out"

    def parse(path: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pipeline.cli", "parse", "un_sc", str(path), "--out", str(out)],
                              capture_output=True, text=True, cwd=REPO, env=dict(os.environ), timeout=120)

    assert parse(DEMO / "un_sc" / "consolidated.xml").returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    truncated = tmp_path / "consolidated.xml"
    truncated.write_bytes((DEMO / "un_sc" / "consolidated.xml").read_bytes()[:3000])
    done = parse(truncated)
    assert done.returncode == 1
    assert "rule 'well-formed XML' failed" in done.stderr
    assert done.stderr.rstrip().endswith(f"Nothing was written to {out}.")
    assert "published" not in done.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no scratch folder left
