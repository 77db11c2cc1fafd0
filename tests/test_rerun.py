"""An unchanged re-run does little (pipeline/rerun.py, issue 17).

Unit tier: a source whose landed files are those its lake snapshot was parsed from is not parsed
again, and anything that changes its snapshot (another file, a renamed file, a parse setting)
parses it. Integration tier: real ``pipeline run``s on a copy of the code (so edits to the
checkout meanwhile do not change the code fingerprint): a second identical run publishes nothing
new and says so; a changed source file re-parses that source alone and publishes; a changed SQL
model rebuilds.
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


def _run(code: Path, env: dict[str, str]) -> str:
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run"], cwd=code, env=env, capture_output=True,
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
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_")}
    env["PIPELINE_SKIP_UNCHANGED"] = "1"
    env.update({"PYTHONPATH": str(code), "PIPELINE_HOME": str(home), "PIPELINE_DEMO_DIR": str(demo),
                "PIPELINE_SOURCES": "us_ofac_sdn,eu_fsf,un_sc"})

    first = _run(code, env)
    assert "nothing changed since release" not in first
    release, info = _current(home)
    assert set(info["inputs"]) == {"us_ofac_sdn", "eu_fsf", "un_sc"} and info["rerun"]["build_fingerprint"]["digest"]

    again = _run(code, env)
    assert f"nothing changed since release {release}: the current publication stands" in again, again
    assert again.count("not parsed again") == 3
    assert _current(home)[0] == release
    assert len(list((home / "publish" / "releases").iterdir())) == 1

    changed = demo / "eu_fsf" / "fsf_1_1.xml"
    changed.write_bytes(changed.read_bytes() + b"\n<!-- next -->\n")
    third = _run(code, env)
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
    assert "nothing changed since release" not in fourth and "dbt models built" in fourth, fourth
    assert _current(home)[0] != new_release


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


def test_without_the_setting_every_run_parses_and_publishes(home):
    """PIPELINE_SKIP_UNCHANGED is off by default: the same files landed again are parsed again."""
    from pipeline import flow

    settings = dataclasses.replace(home, sources=("un_sc",))
    _land_parse_commit(settings, "r1")
    batch = flow.land_sources(settings)[0]
    assert not flow.parse_batch(batch, settings, "r2").get("unchanged")
