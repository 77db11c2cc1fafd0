"""What the DAGs in ``dags/`` share: the assets, each source's schedule, and the task wrapper.

- :func:`staged_asset`: the Asset of a source's staged snapshot in the lake, the outlet of its
  ingest DAG (``ingest_<source>``); :data:`PUBLISHED_DB`: the published database, the outlet of
  the ``publish`` task. Asset identities never depend on where ``PIPELINE_HOME`` lives.
- :func:`source_schedule`: a source's schedule from the ``cadence:`` of its ``source.yml``
  (a cron expression or preset, or words such as "daily", "weekly", "every 6 hours", "fetched
  daily"); a source that states none, or one that cannot be read as a schedule, is fetched daily
  and its DAG's documentation says so.
- :func:`run_step`: runs one step of :mod:`pipeline.flow` for the current task. It reads the
  settings when the task runs, never when the DAG file is parsed: a bad setting (e.g.
  ``PIPELINE_HEADLINE_PAIR``) fails the task with the message and no retry, and the DAG files
  still import.

Nothing here imports pandas, pyarrow, duckdb or Great Expectations: the dag-processor imports it
on every parse.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

OWNER = "data-engineering"
DEFAULT_SCHEDULE = "@daily"
_SCHEME = "x-sanctions-pipeline"

# Words a cadence may use, and the schedule each one means.
_WORDS = {
    "hourly": "@hourly",
    "daily": "@daily",
    "weekly": "@weekly",
    "monthly": "@monthly",
    "yearly": "@yearly",
    "annually": "@yearly",
    "annual": "@yearly",
}
_PRESETS = {"@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly", "@annually"}
_EVERY = re.compile(r"\bevery\s+(\d+)\s*(minute|min|hour|h)s?\b", re.IGNORECASE)
_FETCHED = re.compile(r"\bfetched\s+(hourly|daily|weekly|monthly|yearly|annually)\b", re.IGNORECASE)
_WORD = re.compile(r"\b(hourly|daily|weekly|monthly|yearly|annually|annual)\b", re.IGNORECASE)


def dag_options(**overrides: Any) -> dict[str, Any]:
    """The ``@dag`` options every DAG of the project shares (start date, no catch-up, one run at a
    time, the run and step timeouts, owner, no automatic retries), with ``overrides`` on top."""
    from datetime import timedelta

    import pendulum

    options: dict[str, Any] = {
        "start_date": pendulum.datetime(2024, 1, 1, tz="UTC"),
        "catchup": False,
        "max_active_runs": 1,
        "dagrun_timeout": timedelta(hours=6),
        "default_args": {"owner": OWNER, "retries": 0, "execution_timeout": timedelta(hours=2)},
    }
    options.update(overrides)
    return options


def asset_class():
    from airflow.sdk import Asset

    return Asset


def staged_asset(source_id: str):
    """The Asset of ``source_id``'s staged snapshot (``lake/staged/<table>/source=<id>/``)."""
    return asset_class()(name=f"staged_{source_id}", uri=f"{_SCHEME}://lake/staged/{source_id}", group="silver")


def published_asset():
    """The published database (``<PIPELINE_HOME>/publish/current/sanctions.duckdb``)."""
    return asset_class()(name="sanctions_published_db", uri=f"{_SCHEME}://publish/current/sanctions.duckdb",
                         group="gold")


# --- schedules ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Schedule:
    """A source's schedule: the cron expression or preset Airflow runs it on, what its
    ``source.yml`` says (``cadence``), and why this schedule was chosen (``reason``)."""

    schedule: str
    cadence: str | None
    reason: str


def _valid_cron(expression: str) -> bool:
    from croniter import croniter

    return croniter.is_valid(expression)


def schedule_from_cadence(cadence: object) -> Schedule:
    """The schedule a ``cadence:`` value means (see the module docstring); daily by default.

    A mapping gives how often to look (``fetch:``, or ``schedule:``/``cron:``) beside the
    publisher's own rhythm (``publishes:``, used when it says nothing of fetching); a text is read
    for a cron expression, a preset, "every N minutes/hours", "fetched <word>" (how often to look,
    which wins over how often the authority publishes), then the first cadence word.
    """
    if cadence is None or cadence == "":
        return Schedule(DEFAULT_SCHEDULE, None, f"{DEFAULT_SCHEDULE} by default (source.yml states no cadence)")
    if isinstance(cadence, dict):
        publishes = f"; the authority publishes: {cadence['publishes']}" if cadence.get("publishes") else ""
        for key in ("fetch", "schedule", "cron", "publishes"):
            if cadence.get(key):
                found = _from_text(str(cadence[key]), f"cadence.{key}")
                return Schedule(found.schedule, found.cadence, found.reason + ("" if key == "publishes" else publishes))
        return Schedule(DEFAULT_SCHEDULE, None, f"{DEFAULT_SCHEDULE} by default (source.yml's cadence names no "
                                                 "fetch, schedule or publishes)")
    return _from_text(str(cadence), "cadence")


def _from_text(text: str, key: str) -> Schedule:
    text = text.strip()
    said = f"{key} {text!r} in source.yml"
    if text.lower() in _PRESETS:
        return Schedule(text.lower(), text, f"{text.lower()} ({said})")
    if len(text.split()) in (5, 6) and _valid_cron(text):
        return Schedule(text, text, f"cron {text} ({said})")
    every = _EVERY.search(text)
    if every:
        n, unit = int(every.group(1)), every.group(2).lower()
        if unit.startswith("min") and 1 <= n <= 59:
            return Schedule(f"*/{n} * * * *", text, f"every {n} minutes ({said})")
        if unit.startswith("h") and 1 <= n <= 23:
            return Schedule(f"0 */{n} * * *", text, f"every {n} hours ({said})")
    for pattern in (_FETCHED, _WORD):
        word = pattern.search(text)
        if word:
            preset = _WORDS[word.group(1).lower()]
            return Schedule(preset, text, f"{preset} ({said})")
    return Schedule(DEFAULT_SCHEDULE, text, f"{DEFAULT_SCHEDULE} by default ({said} names no schedule)")


def source_document(source_id: str) -> dict:
    """A source's ``source.yml`` as a mapping (the keys the DAG needs beside :class:`SourceMeta`)."""
    from pipeline.sources.base import _meta_path

    path = _meta_path(source_id)
    if path is None:
        raise KeyError(f"unknown source '{source_id}'")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a mapping")
    return data


def source_schedule(source_id: str) -> Schedule:
    return schedule_from_cadence(source_document(source_id).get("cadence"))


def is_selected(source_id: str) -> bool:
    """Whether a run takes ``source_id``: it is in ``PIPELINE_SOURCES``, else its ``source.yml``
    says ``default: true`` (in live mode: and it has files to fetch). Read without validating the
    other settings; an ingest DAG of a source outside the selection is paused when it is created."""
    from pipeline.sources import load_meta

    configured = [s.strip() for s in os.environ.get("PIPELINE_SOURCES", "").split(",") if s.strip()]
    if configured:
        return source_id in configured
    meta = load_meta(source_id)
    live = os.environ.get("PIPELINE_LIVE", "") in ("1", "true", "yes")
    return meta.default and (meta.live or not live)


# --- the task wrapper --------------------------------------------------------------------------

class SettingsError(Exception):
    """The pipeline's settings cannot be read (a bad environment variable)."""


def _settings_home() -> Path:
    """Where the error record goes when the settings themselves cannot be read."""
    from pipeline.settings import REPO_ROOT

    value = os.environ.get("PIPELINE_HOME")
    return Path(value).expanduser().resolve() if value else REPO_ROOT / "var"


def load_settings(step: str, run_id: str):
    """The settings, read now; a bad setting fails the task at once (no retry), naming the variable,
    and is recorded in ``last_error.json`` like any failed step."""
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline import settings as settings_mod

    try:
        return settings_mod.load()
    except (ValueError, KeyError) as exc:
        message = f"the pipeline's settings cannot be read: {exc}"
        _record_settings_error(step, run_id, message)
        raise AirflowFailException(message) from exc


def _record_settings_error(step: str, run_id: str, message: str) -> None:
    from types import SimpleNamespace

    from pipeline.airflow_run import write_last_error

    # write_last_error needs only the home, which does not depend on the setting that failed
    write_last_error(SimpleNamespace(home=_settings_home()),
                     {"run_id": run_id, "step": step, "error": message, "type": "SettingsError"})


def work_id(context: dict) -> str:
    """The key of this DagRun's work (its build folder and release name).

    The single-run DAG keeps the run id; the other DAGs prefix their DAG id, since two DAGs'
    scheduled runs share run ids and their build folders must not."""
    run_id = context["run_id"]
    dag_id = context["dag"].dag_id if context.get("dag") is not None else ""
    return run_id if dag_id in ("", "sanctions_pipeline") else f"{dag_id}__{run_id}"


def run_step(step: str, call: Callable[[Any, str], Any], *, sweep: bool = False,
             transient_retries: bool = False) -> Any:
    """Run ``call(settings, work_id)`` for this task; record a failure for ``pipeline run``.

    A step does not start once the run was asked to stop (:func:`pipeline.locking.step`).
    ``sweep``: first remove what earlier runs left behind (the single-run DAG only; per-source DAGs
    run side by side and must not remove each other's build folders). ``transient_retries``: a
    transient fetch error (:class:`pipeline.raw.FetchError` with ``transient``) is raised for
    Airflow to retry; every other error fails the task at once, whatever its retries.
    """
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline import flow, locking, progress
    from pipeline.raw import FetchError

    context = get_current_context()
    key = work_id(context)
    settings = load_settings(step, key)
    started = time.perf_counter()
    try:
        with locking.step(step):
            progress.started(step)
            if sweep:
                from pipeline.housekeeping import sweep_if_idle
                from pipeline.publish import safe_run_id

                sweep_if_idle(settings, keep=safe_run_id(key))
            result = call(settings, key)
        progress.emit(step, result, time.perf_counter() - started)
        return result
    except Exception as exc:
        flow.record_failure(settings, key, step, exc)
        if transient_retries and isinstance(exc, FetchError) and exc.transient:
            raise
        if transient_retries:
            raise AirflowFailException(str(exc)) from exc
        raise


def clean_up_run() -> None:
    """A DAG's teardown: remove this DagRun's build folder, whatever happened to the run. It needs
    no setting but ``PIPELINE_HOME``, so a bad setting that failed the run does not fail it too."""
    import shutil

    from airflow.sdk import get_current_context

    from pipeline.publish import safe_run_id

    folder = _settings_home() / "build" / safe_run_id(work_id(get_current_context()))
    shutil.rmtree(folder, ignore_errors=True)
