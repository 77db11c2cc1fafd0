"""Sanctions pipeline: official lists -> raw -> staged Parquet -> DuckDB marts -> publication.

Each task calls one function of :mod:`pipeline.flow` and holds no logic of its own; heavy
imports happen inside the tasks so the dag-processor parses this file cheaply. Great Expectations
checks every stage in its own task (``validate_raw``, ``validate_staged``, ``validate_marts``);
a failed critical expectation fails that task, nothing downstream runs, and the last good
publication stays in place. ``publish`` emits the ``sanctions_published_db`` asset, which
downstream DAGs (reports, exports) schedule on.

Run it once, offline, on the shipped demo files: ``make run`` (or ``pipeline run``).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, dag, get_current_context, task

from pipeline import settings as pipeline_settings

SETTINGS = pipeline_settings.load()
# The asset's identity must not depend on where PIPELINE_HOME lives: a moved or copied home keeps
# publishing the same asset (the file is ``<PIPELINE_HOME>/publish/current/sanctions.duckdb``).
PUBLISHED_DB = Asset(
    name="sanctions_published_db",
    uri="x-sanctions-pipeline://publish/current/sanctions.duckdb",
    group="gold",
)


def _materialise(mapped) -> list[dict]:
    """Results of a mapped task as a plain list (indexing by length avoids the lazy sequence's
    probe past its end, which Airflow logs as an error)."""
    return [mapped[i] for i in range(len(mapped))]


def _run(step: str, call):
    """Run ``call(settings, run_id)`` for this run; record a failure for the CLI.

    A step does not start once the run was asked to stop (:func:`pipeline.locking.step`). The
    first step first removes what earlier runs left behind (unless a ``pipeline run`` that holds
    the run lock is live: it has done so itself).
    """
    import time

    from pipeline import flow, locking, progress

    run_id = get_current_context()["run_id"]
    settings = pipeline_settings.load()
    started = time.perf_counter()
    try:
        with locking.step(step):
            progress.started(step)
            if step == "land":
                from pipeline.housekeeping import sweep_if_idle
                from pipeline.publish import safe_run_id

                sweep_if_idle(settings, keep=safe_run_id(run_id))
            result = call(settings, run_id)
        progress.emit(step, result, time.perf_counter() - started)
        return result
    except Exception as exc:
        flow.record_failure(settings, run_id, step, exc)
        raise


@dag(
    dag_id="sanctions_pipeline",
    description="Official sanctions lists to country rankings and bilateral-tie marts",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["sanctions", "gold"],
    default_args={"owner": "data-engineering", "retries": 0},
    doc_md=__doc__,
)
def sanctions_pipeline():
    @task(retries=3, retry_delay=timedelta(minutes=5), retry_exponential_backoff=2.0,
          max_retry_delay=timedelta(minutes=30))
    def land() -> list[dict]:
        """Fetch or copy every source's inputs into the content-addressed raw store.

        Only a transient network failure (a timeout, a reset, HTTP 5xx/408/425/429, a name server
        that cannot answer now), already tried again inside ``raw.land``, is retried later, after
        5-10, 10-20 and 20-30 minutes (``pipeline run`` prints the time of each next try). Anything
        else fails at once: an address where nothing answers (connection refused, unknown host),
        HTTP 4xx, the size cap, a missing file, a full disk, a stop request."""
        from airflow.sdk.exceptions import AirflowFailException

        from pipeline import flow
        from pipeline.raw import FetchError

        try:
            return _run("land", lambda s, _r: flow.land_sources(s))
        except Exception as exc:
            if isinstance(exc, FetchError) and exc.transient:
                raise
            raise AirflowFailException(str(exc)) from exc

    @task
    def validate_raw(batches: list[dict]) -> dict:
        """Great Expectations raw suite: each file is what its source publishes (no HTML pages,
        empty files or DOCTYPE/entity declarations)."""
        from pipeline import flow

        return _run("validate_raw", lambda s, _r: flow.check_raw(batches, s))

    @task(map_index_template="{{ task.op_kwargs['batch']['source'] }}")
    def parse(batch: dict) -> dict:
        """Stream one source's files into the staged tables (one mapped task per source)."""
        from pipeline import flow

        return _run("parse", lambda s, r: flow.parse_batch(batch, s, r))

    @task
    def validate_staged(results: list[dict]) -> list[dict]:
        """Great Expectations staged suites, per source, incl. row counts against the previous run."""
        from pipeline import flow

        results = _materialise(results)
        _run("validate_staged", lambda s, r: flow.check_staged(results, s, r))
        return results

    @task
    def match_targets(results: list[dict]) -> list[dict]:
        """Unique targets: which designations, across authorities and snapshots, are one target
        (pipeline/matching: identifiers, documents, names; docs/matching.md)."""
        from pipeline import flow

        results = _materialise(results)
        _run("match_targets", flow.match)
        return results

    @task
    def build_models(results: list[dict]) -> dict:
        """Run the DuckDB SQL models (staging -> intermediate -> marts) into a new database file."""
        from pipeline import flow

        return _run("build_models", flow.build)

    @task
    def validate_marts(build_info: dict) -> dict:
        """Great Expectations mart suites on the freshly built database."""
        from pipeline import flow

        _run("validate_marts", lambda s, _r: flow.check_marts(build_info["database"], s))
        return build_info

    @task(outlets=[PUBLISHED_DB])
    def publish(build_info: dict, results: list[dict]) -> dict:
        """Swap the new release in atomically and export every mart to Parquet."""
        from pipeline import flow

        return _run("publish", lambda s, r: flow.publish(build_info, _materialise(results), s, r))

    @task
    def report(release: dict) -> str:
        """Write the headline answers of the new publication into the release (headline.txt)."""
        from pipeline import flow

        return _run("report", lambda s, _r: flow.write_headline(release, s))

    batches = land()
    raw_checked = validate_raw(batches)
    parsed = parse.expand(batch=batches)
    raw_checked >> parsed
    staged = validate_staged(parsed)
    built = build_models(match_targets(staged))
    checked = validate_marts(built)
    report(publish(checked, staged))


sanctions_pipeline()
