"""Test environment: a throwaway PIPELINE_HOME and AIRFLOW_HOME (SQLite), set before Airflow
is imported anywhere, and fixtures for the shared real samples and an initialised Airflow DB."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "data" / "samples"
DEMO = REPO / "data" / "demo"

_TMP = Path(tempfile.mkdtemp(prefix="pipeline-tests-"))
os.environ.update({
    "AIRFLOW_HOME": str(_TMP / "airflow"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_TMP / 'airflow' / 'airflow.db'}",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    "PIPELINE_HOME": str(_TMP / "home"),
    "GX_ANALYTICS_ENABLED": "False",
})
(_TMP / "airflow").mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def samples() -> Path:
    """The real sample files beside the project (CI has ../shared too)."""
    assert SAMPLES.is_dir(), f"the shared samples are missing: {SAMPLES}"
    return SAMPLES


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's metadata database, migrated once per test session."""
    from airflow.utils import db

    db.initdb()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Fresh pipeline settings rooted in a temporary PIPELINE_HOME."""
    from pipeline import settings

    monkeypatch.setenv("PIPELINE_HOME", str(tmp_path / "home"))
    for key in list(os.environ):
        if key.startswith("PIPELINE_INPUT_"):
            monkeypatch.delenv(key)
    return settings.load()
