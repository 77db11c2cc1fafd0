"""Sanctions pipeline, every source once, in order: official lists -> raw -> staged Parquet ->
DuckDB marts -> publication. What ``pipeline run`` and ``make run`` run (embedded, no services).

Each task calls one function of :mod:`pipeline.flow` and holds no logic of its own; heavy
imports happen inside the tasks so the dag-processor parses this file cheaply, and the settings
are read when a task runs (a bad setting fails that task with its message; this file still
imports). Great Expectations checks every stage in its own task (``validate_raw``,
``validate_staged``, ``validate_marts``); a failed critical expectation fails that task, nothing
downstream runs, no snapshot joins the lake and the last good publication stays in place.
``publish`` emits the ``sanctions_published_db`` asset.

It has no schedule: on a scheduler the per-source DAGs (``ingest_<source>``, dags/ingest.py) and
the asset-scheduled ``sanctions_publish`` (dags/publish.py) do the same work as each list changes.
Trigger this one by hand only on a home where those are paused (its first step removes the build
folders of runs that are not ``pipeline run``'s own).

A re-run on the inputs of the current release does little: a source whose files are those its lake
snapshot was parsed from is not parsed again, and when nothing changed since the current release
(:mod:`pipeline.rerun`), ``validate_staged`` says so and every later task short-circuits: the
current publication stands.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from pipeline.orchestration import dag_options, published_asset, run_step

PUBLISHED_DB = published_asset()


def _materialise(mapped) -> list[dict]:
    """Results of a mapped task as a plain list (indexing by length avoids the lazy sequence's
    probe past its end, which Airflow logs as an error)."""
    return [mapped[i] for i in range(len(mapped))]


def _run(step: str, call):
    """Run ``call(settings, run_id)`` for this run (:func:`pipeline.orchestration.run_step`); the
    first step first removes what earlier runs left behind (unless a ``pipeline run`` that holds the
    run lock is live: it has done so itself)."""
    return run_step(step, call, sweep=step == "land", transient_retries=step == "land")


@dag(
    dag_id="sanctions_pipeline",
    description="Official sanctions lists to country rankings and bilateral-tie marts",
    schedule=None,
    tags=["sanctions", "gold", "all-sources"],
    doc_md=__doc__,
    **dag_options(),
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
        from pipeline import flow

        return _run("land", lambda s, _r: flow.land_sources(s))

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
        checked = _run("validate_staged", lambda s, r: flow.check_staged(results, s, r))
        return flow.carry_decision(results, checked)  # nothing changed: the steps after this short-circuit

    @task
    def match_targets(results: list[dict]) -> list[dict]:
        """Unique targets: which designations, across authorities and snapshots, are one target
        (pipeline/matching: identifiers, documents, names; docs/matching.md)."""
        from pipeline import flow

        results = _materialise(results)
        _run("match_targets", lambda s, r: flow.match(s, r, results))
        return results

    @task
    def build_models(results: list[dict]) -> dict:
        """Run the DuckDB SQL models (staging -> intermediate -> marts) into a new database file."""
        from pipeline import flow

        return _run("build_models", lambda s, r: flow.build(s, r, _materialise(results)))

    @task
    def validate_marts(build_info: dict) -> dict:
        """Great Expectations mart suites on the freshly built database."""
        from pipeline import flow

        _run("validate_marts", lambda s, _r: flow.check_marts(build_info["database"], s,
                                                             build_info.get(flow.UNCHANGED)))
        return build_info

    @task(outlets=[PUBLISHED_DB])
    def publish(build_info: dict, results: list[dict]) -> dict:
        """Swap the new release in atomically and export every mart to Parquet."""
        from pipeline import flow

        return _run("publish", lambda s, r: flow.publish(build_info, _materialise(results), s, r))

    @task
    def report(release: dict) -> str | dict:
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
