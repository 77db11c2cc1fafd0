"""Model and publish, on the sources' assets: ``sanctions_publish``.

Scheduled on ``AssetAny`` of every source's staged asset (``staged_<id>``, the outlet of its
ingest DAG, dags/ingest.py): any one new snapshot (a new EU list) rebuilds the marts at once, with
the lake's latest snapshot of every other source; waiting for all of them (``AssetAll``, or a
plain list) would hold a new list back until the slowest source changed. Snapshots that land
while a build runs start one more run after it (``max_active_runs=1``), which takes them all.

The tasks: unique targets (matching) -> dbt models into a new database -> Great Expectations mart
suites -> publish (the ``sanctions_published_db`` asset; ``release.json`` names the snapshots
whose events started the run) -> the headline. A failed check publishes nothing and the last good
publication stays in place. Each task calls one function of :mod:`pipeline.flow`; the settings
are read when a task runs (a bad ``PIPELINE_HEADLINE_PAIR`` fails a task with its message; this
file still imports).
"""

from __future__ import annotations

from airflow.sdk import AssetAny, dag, task, teardown

from pipeline.orchestration import clean_up_run, dag_options, published_asset, run_step, staged_asset

PUBLISHED_DB = published_asset()


def _sources() -> tuple[str, ...]:
    from pipeline.sources import known_sources

    return known_sources()


STAGED = [staged_asset(source) for source in _sources()]


@dag(
    dag_id="sanctions_publish",
    description="Country rankings and bilateral-tie marts from the lake, rebuilt when any source's snapshot changes",
    schedule=AssetAny(*STAGED),
    tags=["sanctions", "gold", "publish"],
    doc_md=__doc__,
    **dag_options(),
)
def sanctions_publish():
    @task
    def match_targets() -> dict:
        """Unique targets: which designations, across authorities and snapshots, are one target."""
        from pipeline import flow

        return run_step("match_targets", flow.match)

    @task
    def build_models(_matched: dict) -> dict:
        """Run the dbt models (staging -> intermediate -> marts) over the lake into a new database file."""
        from pipeline import flow

        return run_step("build_models", flow.build)

    @task
    def validate_marts(build_info: dict) -> dict:
        """Great Expectations mart suites on the freshly built database."""
        from pipeline import flow

        run_step("validate_marts", lambda s, _r: flow.check_marts(build_info["database"], s))
        return build_info

    @task(outlets=[PUBLISHED_DB])
    def publish(build_info: dict) -> dict:
        """Swap the new release in atomically and export every mart to Parquet; the release names
        the snapshots whose asset events started this run."""
        from airflow.sdk import get_current_context

        from pipeline import flow

        events = get_current_context().get("triggering_asset_events") or {}
        snapshots = [snap for found in events.values() for event in found
                     for snap in (event.extra or {}).get("snapshots", [])]
        return run_step("publish", lambda s, r: flow.publish(build_info, snapshots, s, r))

    @task
    def report(release: dict) -> str:
        """Write the headline answers of the new publication into the release (headline.txt)."""
        from pipeline import flow

        return run_step("report", lambda s, _r: flow.write_headline(release, s))

    @teardown
    def clean_up() -> None:
        """Remove this run's build folder, whatever happened (a published release is kept)."""
        clean_up_run()

    built = build_models(match_targets())
    done = report(publish(validate_marts(built)))
    done >> clean_up()


sanctions_publish()
