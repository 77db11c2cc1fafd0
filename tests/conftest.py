"""Test environment: a throwaway PIPELINE_HOME and AIRFLOW_HOME (SQLite), set before Airflow
is imported anywhere, and fixtures for the shared real samples and an initialised Airflow DB.

The real samples live in ``../shared/data/samples`` beside the repository (CI checks them out
there). Every test that reads them, through the ``samples`` fixture or a module-level path under
``../shared``, first goes through one session-scoped check: when the folder is missing those
tests fail, naming it; they are never skipped. Tests that need no samples still run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLES = SHARED / "data" / "samples"
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


def pytest_report_header(config: pytest.Config) -> str:
    state = "" if SAMPLES.is_dir() else "  MISSING: the tests that read them fail"
    return f"shared samples: {SAMPLES}{state}"


def _reads_samples(item: pytest.Item) -> bool:
    """Whether a test reads the shared samples: it asks for them, or its module names a path there."""
    if "samples" in getattr(item, "fixturenames", ()):
        return True
    module = getattr(item, "module", None)
    return any(isinstance(value, Path) and (value == SHARED or SHARED in value.parents)
               for value in vars(module).values()) if module else False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the session-scoped `samples` check first in every test that reads the samples."""
    for item in items:
        if _reads_samples(item):
            names = item.fixturenames  # the fixtures set up for the test, in this order
            if "samples" in names:
                names.remove("samples")
            names.insert(0, "samples")


@pytest.fixture(scope="session")
def samples() -> Path:
    """The real sample files beside the project; a test that needs them fails (not skips) without them."""
    if not SAMPLES.is_dir():
        pytest.fail(f"the shared samples are missing: {SAMPLES} (tests read the real files from "
                    "../shared/data/samples beside the repository; CI checks them out there)", pytrace=False)
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
