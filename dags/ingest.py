"""One ingest DAG per source, generated from ``pipeline/sources/<id>/source.yml``: ``ingest_<id>``.

Each DAG lands the source's inputs in the raw store, checks them (Great Expectations raw suite),
parses them into a run-scoped candidate snapshot, checks that (staged suites, with the row count
against the previous snapshot) and, only then, commits the snapshot to the lake. The commit task's
outlet is the source's asset (``staged_<id>``, ``x-sanctions-pipeline://lake/staged/<id>``), whose
event carries the snapshot date, the files and the row counts; ``sanctions_publish``
(dags/publish.py) is scheduled on those assets, so a new list rebuilds the marts at once.

From ``source.yml``: the schedule (its ``cadence``; daily when it states none, see
:func:`pipeline.orchestration.source_schedule`), the title, publisher, licence and notes (the
DAG's documentation) and the tags. A source outside the run's selection (``PIPELINE_SOURCES``,
else the ``default: true`` sources; in live mode those with files to fetch) is paused when its DAG
is created; the others follow ``[core] dags_are_paused_at_creation`` (false in the compose file:
they run on their schedules; true on the embedded home: ``make airflow`` starts nothing by itself).
Only ``land`` retries, and only a transient fetch error (a timeout, a reset, HTTP 5xx/408/425/429);
a parse or validation error fails at once. Every task has a time limit.

A ``source.yml`` that cannot be read does not stop the other sources' DAGs: its DAG holds one task
that fails with the reason. The settings are read when a task runs, never here.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task, teardown

from pipeline.orchestration import (
    OWNER,
    clean_up_run,
    is_selected,
    run_step,
    source_document,
    source_schedule,
    staged_asset,
)

START = pendulum.datetime(2024, 1, 1, tz="UTC")
RETRIES = 3  # land only: transient fetch errors
LAND_TIMEOUT = timedelta(hours=1)  # the EU file takes over a minute to produce; retries inside land add minutes
STEP_TIMEOUT = timedelta(minutes=45)  # parse and checks of the largest lists take a few minutes on one core


def _doc(source_id: str, data: dict, why: str) -> str:
    lines = [f"# {data.get('title', source_id)}", "",
             f"Ingest DAG of source `{source_id}` (generated from `pipeline/sources/{source_id}/source.yml`).", "",
             f"- Publisher: {data.get('publisher', '?')}",
             f"- Licence: {data.get('licence', '?')}",
             f"- Schedule: {why}",
             f"- Emits: asset `staged_{source_id}` when a checked snapshot joins the lake; "
             "`sanctions_publish` rebuilds the marts on it."]
    if data.get("urls"):
        lines.append("- Official URLs: " + ", ".join(str(u) for u in data["urls"]))
    if data.get("notes"):
        lines += ["", str(data["notes"]).strip()]
    return "\n".join(lines)


def ingest_dag(source_id: str):
    data = source_document(source_id)
    # outside the selection: paused; inside: as the deployment says ([core] dags_are_paused_at_creation:
    # false in docker-compose.yml, true on the embedded home that `make airflow` serves)
    paused = None if is_selected(source_id) else True
    when = source_schedule(source_id)
    asset = staged_asset(source_id)
    kind = "alignment" if data.get("tables") else "sanctions-list"  # a list stages designations
    tags = ["sanctions", "ingest", kind, f"source:{source_id}"]
    if data.get("authority"):
        tags.append(f"authority:{data['authority']}")

    @dag(
        dag_id=f"ingest_{source_id}",
        description=f"{data.get('title', source_id)}: land, check, parse, check, commit to the lake",
        schedule=when.schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=LAND_TIMEOUT * (RETRIES + 1) + STEP_TIMEOUT * 4,
        is_paused_upon_creation=paused,
        tags=tags,
        default_args={"owner": OWNER, "retries": 0, "execution_timeout": STEP_TIMEOUT},
        doc_md=_doc(source_id, data, when.reason),
    )
    def ingest():
        @task(retries=RETRIES, retry_delay=timedelta(minutes=5), retry_exponential_backoff=2.0,
              max_retry_delay=timedelta(minutes=30), execution_timeout=LAND_TIMEOUT)
        def land() -> list[dict]:
            """Fetch or copy the source's inputs into the content-addressed raw store. Only a transient
            network failure (already tried again inside ``raw.land``) is retried later; an HTTP 4xx,
            the size cap, a missing file or a full disk fail at once."""
            from pipeline import flow

            return run_step("land", lambda s, _r: flow.land_sources(s, [source_id]), transient_retries=True)

        @task
        def validate_raw(batches: list[dict]) -> dict:
            """Great Expectations raw suite: each file is what the source publishes."""
            from pipeline import flow

            return run_step("validate_raw", lambda s, _r: flow.check_raw(batches, s))

        @task
        def parse(batches: list[dict]) -> list[dict]:
            """Stream the source's files into the run's candidate staged tables."""
            from pipeline import flow

            return [run_step("parse", lambda s, r, b=batch: flow.parse_batch(b, s, r)) for batch in batches]

        @task
        def validate_staged(results: list[dict]) -> list[dict]:
            """Great Expectations staged suites, incl. the row count against the previous snapshot."""
            from pipeline import flow

            run_step("validate_staged", lambda s, r: flow.check_staged(results, s, r))
            return results

        @task(outlets=[asset])
        def commit(results: list[dict]) -> dict:
            """The checked snapshot joins the lake; the asset event says which (snapshot date, files,
            rows). A source found unchanged (live mode) commits nothing new: the task is skipped, so
            no asset event is emitted and the marts are not rebuilt for it."""
            from airflow.sdk import get_current_context
            from airflow.sdk.exceptions import AirflowSkipException

            from pipeline import flow

            done = run_step("commit", lambda s, r: flow.commit_snapshot(results, s, r))
            if not done["snapshots"]:
                raise AirflowSkipException(f"{source_id} is unchanged since the lake's snapshot: no new snapshot")
            get_current_context()["outlet_events"][asset].extra = done
            return done

        @teardown
        def clean_up() -> None:
            """Remove this run's build folder, whatever happened (the lake and raw store keep everything)."""
            clean_up_run()

        batches = land()
        checked = validate_raw(batches)
        parsed = parse(batches)
        checked >> parsed
        committed = commit(validate_staged(parsed))
        committed >> clean_up()

    return ingest()


def broken_dag(source_id: str, error: Exception):
    """A source whose ``source.yml`` cannot be read: visible, and failing with the reason."""
    reason = f"pipeline/sources/{source_id}/source.yml cannot be read: {type(error).__name__}: {error}"

    @dag(dag_id=f"ingest_{source_id}", schedule=None, start_date=START, catchup=False, is_paused_upon_creation=True,
         tags=["sanctions", "ingest", "broken"], default_args={"owner": OWNER, "retries": 0}, doc_md=reason)
    def broken():
        @task
        def source_yml() -> None:
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(reason)

        source_yml()

    return broken()


def _known() -> tuple[str, ...]:
    from pipeline.sources import known_sources

    return known_sources()


for _source in _known():
    try:
        globals()[f"ingest_{_source}"] = ingest_dag(_source)
    except Exception as _error:  # noqa: BLE001 - one bad source.yml must not hide the other DAGs
        globals()[f"ingest_{_source}"] = broken_dag(_source, _error)
