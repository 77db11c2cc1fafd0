"""The pipeline DAG: import and policy checks, then real Airflow runs (``dag.test()``, SQLite
metadata) on the shipped demo files and on bad inputs that must stop the run before publish."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pendulum
import pytest

from tests.conftest import DEMO, REPO

DAG_ID = "sanctions_pipeline"


@pytest.fixture(scope="module")
def dag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.get_dag(DAG_ID)


@pytest.mark.parametrize("dag_file", ["sanctions_pipeline.py", "ingest.py", "publish.py"])
def test_dag_imports_without_heavy_modules(dag_file):
    code = (f"import runpy, sys; runpy.run_path('dags/{dag_file}'); "
            "print(sorted(m for m in ('great_expectations', 'duckdb', 'pandas', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_dag_policy(dag):
    assert dag.tags and "sanctions" in dag.tags
    assert dag.max_active_runs == 1 and not dag.catchup
    ids = {t.task_id for t in dag.tasks}
    assert {"land", "validate_raw", "parse", "validate_staged", "build_models", "validate_marts",
            "publish", "report"} <= ids
    for t in dag.tasks:
        assert t.owner == "data-engineering", t.task_id
        assert t.doc_md or t.doc or (t.python_callable.__doc__ if hasattr(t, "python_callable") else None), t.task_id
    # only the network step retries; parsing and checks are deterministic and fail at once
    assert dag.get_task("land").retries >= 2
    assert all(t.retries == 0 for t in dag.tasks if t.task_id != "land")
    # every expectation stage is its own task, upstream of publish
    upstream = dag.get_task("publish").get_flat_relative_ids(upstream=True)
    assert {"validate_raw", "validate_staged", "validate_marts"} <= upstream
    assert [o.name for o in dag.get_task("publish").outlets] == ["sanctions_published_db"]


# --- the per-source ingest DAGs and the asset-scheduled publish DAG --------------------------------


@pytest.fixture(scope="module")
def bag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    found = DagBag(dag_folder=str(REPO / "dags"))
    assert found.import_errors == {}
    return found


def _sources() -> tuple[str, ...]:
    from pipeline.sources import known_sources

    return known_sources()


def test_one_ingest_dag_per_source(bag):
    import yaml

    from pipeline.orchestration import source_schedule, staged_asset

    assert {d for d in bag.dag_ids if d.startswith("ingest_")} == {f"ingest_{s}" for s in _sources()}
    for source in _sources():
        dag = bag.get_dag(f"ingest_{source}")
        meta = yaml.safe_load((REPO / "pipeline" / "sources" / source / "source.yml").read_text())
        assert dag.max_active_runs == 1 and not dag.catchup, source
        assert dag.schedule == source_schedule(source).schedule, source
        assert {"ingest", f"source:{source}"} <= set(dag.tags), source
        assert meta["title"] in dag.doc_md and "Schedule:" in dag.doc_md, source
        assert dag.dagrun_timeout is not None, source
        assert [t.task_id for t in dag.topological_sort()][:5] == [
            "land", "validate_raw", "parse", "validate_staged", "commit"], source
        for t in dag.tasks:
            assert t.owner == "data-engineering", (source, t.task_id)
            assert t.execution_timeout is not None, (source, t.task_id)
            # only the fetch retries; parsing and checks are deterministic and fail at once
            assert t.retries == (3 if t.task_id == "land" else 0), (source, t.task_id)
        assert dag.get_task("clean_up").is_teardown, source
        assert [(a.name, a.uri) for a in dag.get_task("commit").outlets] == [
            (staged_asset(source).name, staged_asset(source).uri)], source
    # a source outside the default selection (OpenSanctions: CC BY-NC) is paused when created
    assert bag.get_dag("ingest_opensanctions").is_paused_upon_creation is True
    assert bag.get_dag("ingest_un_sc").is_paused_upon_creation is None  # the deployment's default


def test_publish_dag_runs_on_any_new_snapshot(bag):
    from airflow.sdk import AssetAny

    dag = bag.get_dag("sanctions_publish")
    assert isinstance(dag.schedule, AssetAny)  # any one new list rebuilds the marts, not all of them
    assert sorted(a.name for a in dag.schedule.objects) == sorted(f"staged_{s}" for s in _sources())
    assert dag.max_active_runs == 1 and not dag.catchup
    assert [o.name for o in dag.get_task("publish").outlets] == ["sanctions_published_db"]
    assert {"match_targets", "build_models", "validate_marts"} <= dag.get_task("publish").get_flat_relative_ids(
        upstream=True)
    assert all(t.retries == 0 and t.execution_timeout is not None for t in dag.tasks)
    # what `pipeline run` runs: every source once, in order; it has no schedule of its own
    assert bag.get_dag(DAG_ID).schedule is None


@pytest.mark.parametrize(("cadence", "schedule"), [
    (None, "@daily"),
    ("irregular", "@daily"),
    ("irregular, with each amendment of the regulations; fetched daily", "@daily"),
    ({"publishes": "irregular", "max_lag_days": 60, "fetch": "daily"}, "@daily"),
    ({"publishes": "yearly", "fetch": "weekly"}, "@weekly"),
    ({"publishes": "monthly"}, "@monthly"),
    ({"max_lag_days": 3}, "@daily"),
    ("every 15 minutes", "*/15 * * * *"),
    ({"fetch": "every 6 hours"}, "0 */6 * * *"),
    ("0 6 * * 1-5", "0 6 * * 1-5"),
    ({"fetch": "61 * * * *"}, "@daily"),  # not a cron expression: the default, said in the reason
])
def test_schedule_from_cadence(cadence, schedule):
    from pipeline.orchestration import schedule_from_cadence

    found = schedule_from_cadence(cadence)
    assert found.schedule == schedule
    assert ("by default" in found.reason) == (schedule == "@daily" and "daily" not in str(cadence))


def test_dags_import_with_a_bad_setting(airflow_db, monkeypatch):
    """A bad setting is the task's failure, not the DAG files': every DAG still imports."""
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("PIPELINE_HEADLINE_PAIR", "RU,RU")
    monkeypatch.setenv("PIPELINE_QUERY_MEMORY_LIMIT", "lots")
    found = DagBag(dag_folder=str(REPO / "dags"))
    assert found.import_errors == {}
    assert {DAG_ID, "sanctions_publish", "ingest_un_sc", "ingest_eu_fsf"} <= set(found.dag_ids)


@pytest.mark.integration
def test_a_bad_setting_fails_the_task_with_its_message(bag, tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PIPELINE_QUERY_MEMORY_LIMIT", "lots")
    run = bag.get_dag("sanctions_publish").test(logical_date=pendulum.datetime(2024, 7, 3, tz="UTC"))
    assert _state(run) == "failed"
    states = {ti.task_id: str(ti.state).rsplit(".", 1)[-1].lower() for ti in run.get_task_instances()}
    # a setting every step reads fails the first task; nothing runs on after it
    assert states["match_targets"] == "failed" and states["publish"] != "success"
    err = json.loads((tmp_path / "home" / "last_error.json").read_text())
    assert err["step"] == "match_targets" and err["type"] == "SettingsError"
    assert "PIPELINE_QUERY_MEMORY_LIMIT" in err["error"]


def _asset_events(name: str) -> list[dict]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return [dict(e.extra or {}) for e in session.scalars(
            select(AssetEvent).join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetModel.name == name).order_by(AssetEvent.id))]


@pytest.mark.integration
def test_ingest_dags_then_publish_dag(bag, tmp_path_factory, monkeypatch):
    """Embedded: two sources' ingest DAGs commit their snapshots and emit their assets; the publish
    DAG builds the marts from the lake; a bad file fails only its source's DAG before the commit."""
    home = tmp_path_factory.mktemp("sources-home")
    monkeypatch.setenv("PIPELINE_HOME", str(home))
    day = pendulum.datetime(2024, 8, 1, tz="UTC")
    before = {s: len(_asset_events(f"staged_{s}")) for s in ("un_sc", "us_ofac_sdn")}
    for source in ("un_sc", "us_ofac_sdn"):
        assert _state(bag.get_dag(f"ingest_{source}").test(logical_date=day)) == "success", source
        events = _asset_events(f"staged_{source}")
        assert len(events) == before[source] + 1, source
        (snapshot,) = events[-1]["snapshots"]
        assert snapshot["source"] == source and snapshot["counts"]["designations"] > 0, snapshot
        parts = list((home / "lake" / "staged" / "designations" / f"source={source}").glob("*/*.parquet"))
        assert parts, f"{source}: no snapshot in the lake"
    assert not (home / "build").exists() or not list((home / "build").iterdir()), "a build folder was left"

    run = bag.get_dag("sanctions_publish").test(logical_date=day)
    assert _state(run) == "success"
    db = home / "publish" / "current" / "sanctions.duckdb"
    totals = dict(_q(db, "select source, count(*) from mart_designations group by 1"))
    assert set(totals) == {"un_sc", "us_ofac_sdn"} and min(totals.values()) > 0
    assert (home / "publish" / "current" / "headline.txt").exists()

    # a bad file: the source's DAG stops at the raw check, commits nothing and emits no asset event
    bad = tmp_path_factory.mktemp("bad") / "consolidated.xml"
    bad.write_bytes(b"<!DOCTYPE html><html><body>503 Service Unavailable</body></html>")
    monkeypatch.setenv("PIPELINE_INPUT_UN_SC", str(bad))
    lake_before = sorted(p.relative_to(home) for p in (home / "lake" / "staged").rglob("*.parquet"))
    run = bag.get_dag("ingest_un_sc").test(logical_date=day.add(days=1))
    assert _state(run) == "failed"
    states = {ti.task_id: (str(ti.state).rsplit(".", 1)[-1].lower(), ti.try_number) for ti in run.get_task_instances()}
    assert states["validate_raw"] == ("failed", 1) and states["commit"][0] != "success", states
    assert states["clean_up"][0] == "success", states
    assert len(_asset_events("staged_un_sc")) == before["un_sc"] + 1
    assert sorted(p.relative_to(home) for p in (home / "lake" / "staged").rglob("*.parquet")) == lake_before
    assert not (home / "build").exists() or not list((home / "build").iterdir())
    err = json.loads((home / "last_error.json").read_text())
    assert err["step"] == "validate_raw" and "source un_sc file 'consolidated.xml'" in err["error"]

    # a missing file is no transient error: land fails at once, no retry
    monkeypatch.setenv("PIPELINE_INPUT_UN_SC", str(tmp_path_factory.mktemp("none") / "missing.xml"))
    run = bag.get_dag("ingest_un_sc").test(logical_date=day.add(days=2))
    states = {ti.task_id: (str(ti.state).rsplit(".", 1)[-1].lower(), ti.try_number) for ti in run.get_task_instances()}
    assert _state(run) == "failed" and states["land"] == ("failed", 1), states


def _run(dag, day: int):
    return dag.test(logical_date=pendulum.datetime(2024, 7, day, tz="UTC"))


def _state(run) -> str:
    return str(run.state).rsplit(".", 1)[-1].lower()


@pytest.fixture(scope="module")
def published(dag, tmp_path_factory):
    """One good run on the demo files; returns the settings of that pipeline home."""
    from pipeline import settings

    mp = pytest.MonkeyPatch()
    mp.setenv("PIPELINE_HOME", str(tmp_path_factory.mktemp("home")))
    run = _run(dag, 1)
    assert _state(run) == "success"
    yield settings.load()
    mp.undo()


def _q(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.integration
def test_demo_run_publishes_marts(published):
    db = published.published_db
    assert db.exists() and published.current_release.is_symlink()
    top = _q(db, """select unit, country_iso2 from mart_country_rankings
                    where authority = 'all' and basis = 'program_target' and entity_type = 'all' and rank = 1
                    order by unit""")
    assert top == [("designations", "RU"), ("targets", "RU")]
    authorities = {r[0] for r in _q(db, "select distinct authority from mart_country_rankings")}
    assert authorities == {"all", "us_ofac", "un_sc", "eu", "gb", "ca", "ch"}
    # a column per authority; the consolidated (non-SDN) lists keep their own rows beside the SDN list's
    us, eu, un, gb, ca, ch, every = _q(db, """select us, eu, un, gb, ca, ch, "all" from mart_country_rankings
                                            where unit = 'designations' and authority = 'all'
                                            and basis = 'program_target' and entity_type = 'all'
                                            and country_iso2 = 'RU'""")[0]
    assert min(us, eu, gb, ca, ch) > 0 and un == 0 and every == us + eu + un + gb + ca + ch
    lists = {r[0] for r in _q(db, "select distinct list_code from mart_country_rankings where authority = 'us_ofac'")}
    assert {"all", "SDN", "SSI"} <= lists
    countries = {r[0] for r in _q(db, """select country_iso2 from mart_country_rankings
                                         where authority = 'all' and basis = 'program_target'
                                         and entity_type = 'all'""")}
    assert {"RU", "IR", "KP", "SY", "VE", "BY"} <= countries
    totals = dict(_q(db, "select source, count(*) from mart_designations group by 1"))
    assert totals["us_ofac_sdn"] >= 70 and totals["un_sc"] >= 30
    assert min(totals[s] for s in ("us_ofac_cons", "eu_fsf", "gb_hmt", "ca_sema", "ch_seco")) >= 30
    ties = _q(db, """select linked_to_both, a_under_b_programs, relation_edges from mart_dyad_sanctions_exposure
                     where authority = 'all' and country_a = 'IR' and country_b = 'RU'""")
    assert ties and ties[0][0] >= 1 and ties[0][1] >= 1 and ties[0][2] >= 1
    # the Russia-Iran tie index has components from sanctions, events and UN votes, with evidence for each
    index = _q(db, """select realized_events, sanctions_linked_to_both, unga_agreement, tie_index from mart_dyad_ties
                      where period_type = 'year' and period = '2022' and country_a = 'IR' and country_b = 'RU'""")
    assert index and index[0][0] > 0 and index[0][1] > 0 and index[0][2] is not None and index[0][3] is not None
    kinds = dict(_q(db, """select evidence_kind, count(*) from mart_dyad_evidence
                           where country_a = 'IR' and country_b = 'RU' group by 1"""))
    assert kinds.keys() == {"sanctions", "event", "unga_vote"} and min(kinds.values()) >= 1
    # every mart is exported to Parquet with the same rows
    marts = published.current_release / "marts"
    for (name,) in _q(db, "select table_name from duckdb_tables() where table_name like 'mart_%'"):
        exported = duckdb.connect().execute(f"select count(*) from '{marts / (name + '.parquet')}'").fetchall()[0][0]
        assert exported == _q(db, f"select count(*) from {name}")[0][0], name
    assert (published.current_release / "data_docs" / "index.html").exists()
    headline = (published.current_release / "headline.txt").read_text()
    assert "all authorities: Russia overtook Iran in February 2022" in headline
    for label in ("US (OFAC)", "EU", "UN", "UK", "Canada", "Switzerland"):
        assert any(line.startswith(f"  {label:<12}") for line in headline.splitlines()), label
    release = json.loads((published.current_release / "release.json").read_text())
    assert set(release["source_snapshots"]) == {"us_ofac_sdn", "us_ofac_cons", "un_sc", "eu_fsf", "gb_hmt",
                                                "ca_sema", "ch_seco"}


@pytest.mark.integration
def test_published_file_opens_read_only_from_another_process(published):
    code = ("import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
            "print(con.execute('select count(*) from mart_country_rankings').fetchall()[0][0])")
    out = subprocess.run([sys.executable, "-c", code, str(published.published_db)],
                         capture_output=True, text=True, check=True)
    assert int(out.stdout.strip()) > 0


@pytest.mark.integration
def test_rerun_of_same_inputs_gives_same_marts(dag, published):
    before = _q(published.published_db, "select * from mart_country_rankings order by all")
    assert _state(_run(dag, 2)) == "success"
    assert _q(published.published_db, "select * from mart_country_rankings order by all") == before


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<CONSOLIDATED_LIST dateGenerated="2024-06-28T00:00:00Z"><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID>
<FIRST_NAME>&lol3;</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<CONSOLIDATED_LIST dateGenerated="2024-06-28T00:00:00Z"><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID>
<FIRST_NAME>&xxe;</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"""


def _truncated() -> bytes:
    data = (DEMO / "un_sc" / "consolidated.xml").read_bytes()
    return data[: len(data) * 2 // 3]


BAD_INPUTS = {
    # name: (file content, step that must stop the run, words the error must contain)
    "html_page": (b"<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
                  b"<body>The service is temporarily unavailable. Please try again later.</body></html>",
                  "validate_raw", ["raw.files", "kind"]),
    "empty_file": (b"", "validate_raw", ["raw.files", "bytes"]),
    "truncated_xml": (_truncated(), "parse", ["[un_sc]", "well-formed XML", "truncated"]),
    "entity_bomb": (BOMB.encode(), "validate_raw", ["raw.files", "has_doctype"]),
    "external_entity": (XXE.encode(), "validate_raw", ["raw.files", "has_doctype"]),
}


@pytest.mark.integration
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_stops_before_publish(case, dag, published, tmp_path, monkeypatch):
    content, step, words = BAD_INPUTS[case]
    bad = tmp_path / "consolidated.xml"
    bad.write_bytes(content)
    monkeypatch.setenv("PIPELINE_INPUT_UN_SC", str(bad))
    release_before = published.current_release.resolve()
    marts_before = _q(published.published_db, "select * from mart_country_rankings order by all")
    error_file = published.home / "last_error.json"
    error_file.unlink(missing_ok=True)

    run = _run(dag, 10 + list(BAD_INPUTS).index(case))

    assert _state(run) == "failed"
    err = json.loads(error_file.read_text())
    assert err["step"] == step
    for word in words + ["consolidated.xml"] if step == "parse" else words:
        assert word in err["error"], (word, err["error"])
    if step == "validate_raw":
        assert "source un_sc file 'consolidated.xml'" in err["error"]
    assert "last good publication is unchanged" in err["error"]
    states = {ti.task_id: str(ti.state).rsplit(".", 1)[-1].lower() for ti in run.get_task_instances()}
    assert states["publish"] != "success"
    # the last good publication is untouched and readable
    assert published.current_release.resolve() == release_before
    assert _q(published.published_db, "select * from mart_country_rankings order by all") == marts_before
    # the bad file was kept as fetched, content-addressed
    import hashlib

    kept = [json.loads(line) for line in published.manifest_path.read_text().splitlines()]
    assert any(k["sha256"] == hashlib.sha256(content).hexdigest() and Path(k["path"]).exists() for k in kept)
