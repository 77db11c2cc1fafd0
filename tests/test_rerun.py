"""An unchanged re-run does little (pipeline/rerun.py, issue 17).

Unit tier: a source whose landed files are those its lake snapshot was parsed from is not parsed
again, and anything that changes its snapshot (another file, a renamed file, a parse setting)
parses it. Integration tier: real ``pipeline run``s on a copy of the code (so edits to the
checkout meanwhile do not change the code fingerprint): a second identical run publishes nothing
new, says so and does not start Airflow; a changed source file re-parses that source alone and
publishes; a changed SQL model rebuilds; ``--force`` parses and publishes anyway and the run
after it is skipped again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


# --- unit: the parse decision ---------------------------------------------------------------------

def _land_parse_commit(settings, run_id: str) -> list[dict]:
    from pipeline import flow

    results = [flow.parse_batch(b, settings, run_id) for b in flow.land_sources(settings)]
    flow.commit_staged(settings, run_id)  # what publish does: the snapshots join the lake, the log records them
    return results


def test_a_source_landed_again_unchanged_is_not_parsed_again(home):
    settings = dataclasses.replace(home, sources=("eu_fsf", "un_sc"), skip_unchanged=True)
    first = _land_parse_commit(settings, "r1")
    assert not any(r.get("unchanged") for r in first)
    again = _land_parse_commit(settings, "r2")
    assert all(r.get("unchanged") for r in again), again
    assert {r["source"]: r["snapshot_date"] for r in again} == {r["source"]: r["snapshot_date"] for r in first}


def test_a_changed_file_a_renamed_file_or_a_parse_setting_parses_again(home, tmp_path):
    from pipeline import flow

    settings = dataclasses.replace(home, sources=("eu_fsf", "un_sc"), skip_unchanged=True)
    _land_parse_commit(settings, "r1")
    eu = settings.demo_dir / "eu_fsf" / "fsf_1_1.xml"
    changed = tmp_path / "fsf_1_1.xml"
    changed.write_bytes(eu.read_bytes() + b"\n<!-- another publication -->\n")
    results = {r["source"]: r for r in _land_parse_commit(
        dataclasses.replace(settings, source_inputs={"eu_fsf": str(changed)}), "r2")}
    assert not results["eu_fsf"].get("unchanged") and results["un_sc"].get("unchanged")

    renamed = tmp_path / "renamed.xml"
    shutil.copyfile(changed, renamed)  # the same content under another name: the lineage column differs
    results = {r["source"]: r for r in _land_parse_commit(
        dataclasses.replace(settings, source_inputs={"eu_fsf": str(renamed)}), "r3")}
    assert not results["eu_fsf"].get("unchanged")

    batch = next(b for b in flow.land_sources(settings) if b["source"] == "un_sc")
    assert flow.parse_batch(batch, settings, "r4").get("unchanged")
    assert not flow.parse_batch(batch, dataclasses.replace(settings, accept_small_lists=True), "r5").get("unchanged")


def test_a_lost_lake_part_is_parsed_again(home):
    from pipeline import flow

    settings = dataclasses.replace(home, sources=("un_sc",), skip_unchanged=True)
    _land_parse_commit(settings, "r1")
    for part in (settings.staged_dir / "designations" / "source=un_sc").rglob("*.parquet"):
        part.unlink()
    batch = flow.land_sources(settings)[0]
    assert not flow.parse_batch(batch, settings, "r2").get("unchanged")


def test_the_build_fingerprint_follows_code_settings_and_day(home, tmp_path):
    from pipeline import rerun

    base = rerun.build_fingerprint(home, today="2026-01-01")
    assert rerun.build_fingerprint(home, today="2026-01-01")["digest"] == base["digest"]
    assert rerun.build_fingerprint(home, today="2026-01-02")["digest"] != base["digest"]
    assert rerun.build_fingerprint(dataclasses.replace(home, headline_pair_value="CN,RU"),
                                   today="2026-01-01")["digest"] != base["digest"]
    assert rerun.build_fingerprint(dataclasses.replace(home, accept_small_lists=True),
                                   today="2026-01-01")["digest"] != base["digest"]
    sql = tmp_path / "sql"
    shutil.copytree(home.sql_dir, sql, ignore=shutil.ignore_patterns("target", "logs"))
    copy = dataclasses.replace(home, sql_dir=sql)
    before = rerun.build_fingerprint(copy, today="2026-01-01")["digest"]
    rerun._tree_digest.cache_clear()
    model = next(sql.glob("models/marts/*.sql"))
    model.write_text(model.read_text() + "\n-- changed\n")
    assert rerun.build_fingerprint(copy, today="2026-01-01")["digest"] != before


def test_a_damaged_or_missing_publication_is_never_unchanged(home):
    from pipeline import rerun

    home = dataclasses.replace(home, skip_unchanged=True)

    results = [{"source": "un_sc", "snapshot_date": "2024-06-28", "sha256": ["x"], "unchanged": True}]
    assert rerun.unchanged_release(home, results) is None  # no publication yet
    release = home.publish_dir / "releases" / "r1"
    release.mkdir(parents=True)
    (release / "sanctions.duckdb").write_bytes(b"not the published bytes")
    (release / "release.json").write_text(json.dumps({"database": "sanctions.duckdb", "database_sha256": "0" * 64}))
    home.current_release.symlink_to(Path("releases") / "r1")
    assert rerun.unchanged_release(home, results) is None


# --- integration: real runs ----------------------------------------------------------------------

def _code_copy(into: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "target", "logs", "dbt_packages", ".user.yml")
    for name in ("pipeline", "dags", "expectations", "sql"):
        shutil.copytree(REPO / name, into / name, ignore=ignore)
    return into


def _run(code: Path, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", *args], cwd=code, env=env, capture_output=True,
                          text=True, check=False, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _current(home: Path) -> tuple[str, dict]:
    current = home / "publish" / "current"
    return current.resolve().name, json.loads((current / "release.json").read_text())


@pytest.mark.integration
def test_reruns_publish_only_what_changed(tmp_path):
    code = _code_copy(tmp_path / "code")
    demo = tmp_path / "demo"  # a copy: the third run changes one of its files (still the demo: its own floors)
    shutil.copytree(REPO / "data" / "demo", demo)
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_")}  # the default: skip unchanged
    env.update({"PYTHONPATH": str(code), "PIPELINE_HOME": str(home), "PIPELINE_DEMO_DIR": str(demo),
                "PIPELINE_SOURCES": "us_ofac_sdn,eu_fsf,un_sc"})

    first = _run(code, env)
    assert "nothing changed since release" not in first
    release, info = _current(home)
    assert set(info["inputs"]) == {"us_ofac_sdn", "eu_fsf", "un_sc"} and info["rerun"]["build_fingerprint"]["digest"]

    again = _run(code, env)  # decided before Airflow starts: nothing landed, parsed, built or published
    assert f"Nothing changed since release {release}: " in again and "Airflow was not started" in again, again
    assert "Running the DAG" not in again and "not parsed again" not in again, again
    assert "Sources (latest snapshot in the lake" in again  # the headline, printed again
    assert _current(home)[0] == release
    assert len(list((home / "publish" / "releases").iterdir())) == 1

    changed = demo / "eu_fsf" / "fsf_1_1.xml"
    changed.write_bytes(changed.read_bytes() + b"\n<!-- next -->\n")
    third = _run(code, env)
    assert "Running the pipeline: eu_fsf's input files differ from those of release" in third, third
    parsed = [line for line in third.splitlines() if line.startswith("[3/9] parse")]
    assert len(parsed) == 3 and [p for p in parsed if "not parsed again" not in p] == [
        p for p in parsed if "parse eu_fsf:" in p], parsed
    new_release, info = _current(home)
    assert new_release != release
    assert info["inputs"]["eu_fsf"]["sha256"] == [hashlib.sha256(changed.read_bytes()).hexdigest()]

    model = next((code / "sql" / "models" / "marts").glob("*.sql"))
    model.write_text(model.read_text() + "\n-- a changed model\n")
    fourth = _run(code, env)
    assert fourth.count("not parsed again") == 3
    assert "nothing changed since release" not in fourth.lower() and "dbt models built" in fourth, fourth
    assert "differs in: build fingerprint (code" in fourth, fourth  # (code, day) when the runs straddle midnight
    fourth_release = _current(home)[0]
    assert fourth_release != new_release

    forced = _run(code, env, "--force")  # nothing changed, but parsed and published anyway
    assert "not parsed again" not in forced and "nothing changed" not in forced.lower(), forced
    assert len([line for line in forced.splitlines() if line.startswith("[3/9] parse")]) == 3, forced
    forced_release = _current(home)[0]
    assert forced_release != fourth_release
    # the forced run recorded the fingerprints: the next run is skipped again
    assert f"Nothing changed since release {forced_release}: " in _run(code, env)
    assert _current(home)[0] == forced_release


def test_the_fingerprints_are_json_with_a_snapshot_date_set(tmp_path, monkeypatch):
    """release.json stores the build fingerprint: a run with PIPELINE_SNAPSHOT_DATE (a date) must still
    write it (it did not: 'Object of type date is not JSON serializable' at publish)."""
    import json

    from pipeline import rerun
    from pipeline import settings as settings_mod

    monkeypatch.setenv("PIPELINE_HOME", str(tmp_path))
    monkeypatch.setenv("PIPELINE_SNAPSHOT_DATE", "2024-05-03")
    settings = settings_mod.load()
    record = rerun.build_fingerprint(settings, today="2026-12-07")
    assert json.loads(json.dumps(record))["settings"]["snapshot_date"] == "2024-05-03"
    assert json.dumps(rerun.release_inputs([{"source": "un_sc", "snapshot_date": settings.snapshot_date}]))


def test_the_setting_is_on_by_default_and_0_turns_it_off(monkeypatch, tmp_path):
    from pipeline import settings as settings_mod

    monkeypatch.setenv("PIPELINE_HOME", str(tmp_path))
    monkeypatch.delenv("PIPELINE_SKIP_UNCHANGED", raising=False)
    assert settings_mod.load().skip_unchanged
    monkeypatch.setenv("PIPELINE_SKIP_UNCHANGED", "0")
    assert not settings_mod.load().skip_unchanged
    monkeypatch.setenv("PIPELINE_SKIP_UNCHANGED", "maybe")
    with pytest.raises(ValueError, match="PIPELINE_SKIP_UNCHANGED"):
        settings_mod.load()


def test_without_the_setting_every_run_parses_and_no_fingerprint_is_computed(home, monkeypatch):
    """PIPELINE_SKIP_UNCHANGED=0: the same files landed again are parsed again, and the code is never hashed."""
    from pipeline import flow, rerun

    def hashed(_root):
        raise AssertionError("the code was hashed with the setting off")

    monkeypatch.setattr(rerun, "_tree_digest", hashed)
    settings = dataclasses.replace(home, sources=("un_sc",), skip_unchanged=False)
    first = _land_parse_commit(settings, "r1")
    assert first[0]["parse_fingerprint"] is None
    batch = flow.land_sources(settings)[0]
    assert not flow.parse_batch(batch, settings, "r2").get("unchanged")
    assert rerun.unchanged_before_run(settings) == (None, None)
    assert rerun.build_record(settings, settings.staged_dir, settings.matching_dir)["build_fingerprint"] is None


def test_a_forced_run_parses_again(home, monkeypatch):
    from pipeline import flow, rerun

    settings = dataclasses.replace(home, sources=("un_sc",))
    _land_parse_commit(settings, "r1")
    monkeypatch.setenv(rerun.FORCE_ENV, "1")
    batch = flow.land_sources(settings)[0]
    result = flow.parse_batch(batch, settings, "r2")
    assert not result.get("unchanged") and result["parse_fingerprint"]  # still recorded for the next run
    assert rerun.unchanged_before_run(settings) == (None, None)


# --- the early decision, before Airflow starts ----------------------------------------------------

def _fake_release(settings, inputs: dict) -> None:
    release = settings.publish_dir / "releases" / "r1"
    release.mkdir(parents=True)
    (release / "sanctions.duckdb").write_bytes(b"published bytes")
    digest = hashlib.sha256(b"published bytes").hexdigest()
    (release / "release.json").write_text(json.dumps(
        {"database": "sanctions.duckdb", "database_sha256": digest, "inputs": inputs}))
    settings.current_release.symlink_to(Path("releases") / "r1")


def test_the_early_decision_names_what_changed(home, tmp_path):
    from pipeline import flow, rerun

    settings = dataclasses.replace(home, sources=("un_sc",))
    assert rerun.unchanged_before_run(settings) == (None, None)  # no publication yet
    results = _land_parse_commit(settings, "r1")
    _fake_release(settings, rerun.release_inputs(results))
    # same files, same lake snapshot: what differs is the release's own record (no build record in it)
    release, why = rerun.unchanged_before_run(settings)
    assert release is None and "the input files are those of release r1, but it differs in" in why, why
    assert "lake parts" in why and "build fingerprint" in why

    changed = tmp_path / "consolidated.xml"
    changed.write_bytes(Path(flow.source_inputs(settings, "un_sc")[0][0]).read_bytes() + b"\n<!-- next -->\n")
    release, why = rerun.unchanged_before_run(dataclasses.replace(settings, source_inputs={"un_sc": str(changed)}))
    assert release is None and why == "un_sc's input files differ from those of release r1 (sha256)"

    release, why = rerun.unchanged_before_run(dataclasses.replace(settings, sources=("un_sc", "eu_fsf")))
    assert release is None and "was built from the sources un_sc, this run's are eu_fsf, un_sc" in why
    # a URL is decided by fetching it, in the DAG; so is live mode
    url = dataclasses.replace(settings, source_inputs={"un_sc": "http://127.0.0.1:9/x.xml"})
    assert rerun.unchanged_before_run(url) == (None, None)
    assert rerun.unchanged_before_run(dataclasses.replace(settings, live=True)) == (None, None)


def test_the_early_decision_never_keeps_a_damaged_release(home):
    from pipeline import rerun

    settings = dataclasses.replace(home, sources=("un_sc",))
    results = _land_parse_commit(settings, "r1")
    _fake_release(settings, rerun.release_inputs(results))
    (settings.current_release / "sanctions.duckdb").write_bytes(b"damaged")
    release, why = rerun.unchanged_before_run(settings)
    assert release is None
    assert f"the published database {settings.published_db} is damaged (sha256 " in why, why
