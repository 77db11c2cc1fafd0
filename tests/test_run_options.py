"""``pipeline run`` on a user's own files: ``--input DIR``, ``--input SOURCE=PATH``,
``--snapshot-date``, ``--accept-small-lists``, and the settings the headline reads."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.errors import PipelineError
from tests.conftest import DEMO


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch):
    for key in list(os.environ):
        if key.startswith("PIPELINE_INPUT_") or key in (
            "PIPELINE_SOURCES", "PIPELINE_SNAPSHOT_DATE", "PIPELINE_ACCEPT_SMALL_LISTS", "PIPELINE_HEADLINE_PAIR"):
            monkeypatch.delenv(key)
    return monkeypatch


def _args(*inputs: str, snapshot: str | None = None, small: bool = False) -> argparse.Namespace:
    return argparse.Namespace(input=list(inputs), snapshot_date=snapshot, accept_small_lists=small)


def test_a_folder_laid_out_like_demo_takes_any_subset_of_sources(tmp_path: Path, clean_env, capsys):
    folder = tmp_path / "mine"
    shutil.copytree(DEMO / "un_sc", folder / "un_sc")
    shutil.copytree(DEMO / "us_ofac_sdn", folder / "us_ofac_sdn")  # three layouts: the demo layout is used
    (folder / "notes").mkdir()
    cli._apply_run_options(_args(str(folder)))
    assert os.environ["PIPELINE_SOURCES"] == "un_sc,us_ofac_sdn"
    assert os.environ["PIPELINE_INPUT_UN_SC"] == str(folder / "un_sc" / "consolidated.xml")
    assert os.environ["PIPELINE_INPUT_US_OFAC_SDN"] == str(folder / "us_ofac_sdn" / "sdn_advanced.xml")
    assert "notes is not a source id" in capsys.readouterr().err


def test_a_folder_without_source_folders_is_refused(tmp_path: Path, clean_env):
    with pytest.raises(PipelineError, match="no sub-folder named after a source id"):
        cli._apply_run_options(_args(str(tmp_path)))


def test_source_inputs_snapshot_date_and_small_lists(tmp_path: Path, clean_env):
    cli._apply_run_options(_args("us_ofac_sdn=a.csv;b.csv", snapshot="2021-04-25", small=True))
    from pipeline import settings

    loaded = settings.load()
    assert loaded.sources == ("us_ofac_sdn",)
    assert loaded.source_inputs == {"us_ofac_sdn": "a.csv;b.csv"}
    assert str(loaded.snapshot_date) == "2021-04-25" and loaded.accept_small_lists


@pytest.mark.parametrize("bad, message", [
    ("nosuch=a.csv", "unknown source 'nosuch'"),
    ("un_sc=", "takes SOURCE=PATH"),
    ("/no/such/folder", "neither"),
])
def test_bad_inputs_are_refused_with_a_clear_message(bad: str, message: str, clean_env):
    with pytest.raises(PipelineError, match=message):
        cli._apply_run_options(_args(bad))


def test_bad_snapshot_date_is_refused(clean_env):
    with pytest.raises(PipelineError, match="--snapshot-date takes YYYY-MM-DD"):
        cli._apply_run_options(_args(snapshot="03/05/2024"))


def test_headline_pair_comes_from_settings(clean_env):
    from pipeline import settings

    clean_env.setenv("PIPELINE_HEADLINE_PAIR", "kp,ru")
    assert settings.load().headline_pair == ("KP", "RU")
    clean_env.setenv("PIPELINE_HEADLINE_PAIR", "RU")
    loaded = settings.load()  # read where the headline needs it, so a bad value fails only that step
    with pytest.raises(PipelineError, match="PIPELINE_HEADLINE_PAIR must be two different ISO alpha-2 codes"):
        _ = loaded.headline_pair


def test_a_failed_floor_says_what_to_do(clean_env):
    """The production floor's rule names the option; with it the floor only warns."""
    from expectations.staged import staged_suites

    def floor(suites):
        return next(e for e in suites["designations"].expectations if "floor of a complete list" in e.meta["rule"])

    strict = floor(staged_suites(12000, 30000, None))
    assert "pipeline run --accept-small-lists" in strict.meta["rule"]
    assert str(strict.severity).lower().endswith("critical")
    assert str(floor(staged_suites(12000, 30000, None, accept_small_lists=True)).severity).lower().endswith("warning")
    # the shrink check against the previous snapshot stays critical either way
    shrink = [e for e in staged_suites(12000, 30000, 20000, accept_small_lists=True)["designations"].expectations
              if "last accepted snapshot" in e.meta["rule"]]
    assert shrink and str(shrink[0].severity).lower().endswith("critical")
