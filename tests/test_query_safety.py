"""The query interface is read-only for real, and its CSV output cannot open as spreadsheet formulas.

Each attack runs against a real DuckDB file built in tmp_path; the test asserts the refusal names what
was refused and that no file changed or appeared. Engine-level fences are also tried on their own,
without the statement check, so either fence alone stops file access, extensions and settings.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.csvsafe import neutralize_cell, neutralize_frame, write_csv
from pipeline.errors import PipelineError
from pipeline.query import (
    QueryLimits,
    QueryRefused,
    QueryTimeout,
    check_statement,
    open_readonly,
    render_table,
    run_query,
)
from tests.conftest import REPO

HOSTILE = ['=HYPERLINK("http://127.0.0.1/x","click")', "+1", "-2", "@SUM(A1)", "\tTAB", "\rCR", "plain", "a=b"]


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    """A database to query, and files outside it the queries must not reach."""
    db = tmp_path / "pub" / "sanctions.duckdb"
    db.parent.mkdir()
    con = duckdb.connect(str(db))
    con.execute("create table designations (id integer, name varchar, score double)")
    con.executemany("insert into designations values (?, ?, ?)",
                    [(i, name, -3.5 + i) for i, name in enumerate(HOSTILE)])
    con.execute("create table extra as select range as n from range(50)")
    con.execute("comment on table designations is 'one row per designation'")
    con.close()
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("create table secret as select 'top' as word")
    con.close()
    outside_csv = tmp_path / "outside.csv"
    outside_csv.write_text("word\nsecret\n")
    outside_parquet = tmp_path / "outside.parquet"
    pd.DataFrame({"word": ["secret"]}).to_parquet(outside_parquet)
    return {"db": db, "other": other, "csv": outside_csv, "parquet": outside_parquet, "dir": tmp_path}


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


ATTACKS = [
    ("copy designations to '{dir}/stolen.csv'", "COPY"),
    ("copy (select 1) to '{db}'", "COPY"),
    ("copy designations from '{csv}'", "COPY"),
    ("select * from read_text('/etc/passwd')", "file"),
    ("select * from read_blob('/etc/passwd')", "file"),
    ("select * from read_csv('{csv}')", "file"),
    ("select * from '{csv}'", "file"),
    ("select * from read_parquet('{parquet}')", "file"),
    ("select * from read_json('{csv}')", "file"),
    ("select * from glob('/*')", "file"),
    ("select * from glob('{dir}/*')", "file"),
    ("select * from read_text('http://127.0.0.1:9/x')", "file"),
    ("attach '{other}' as other", "ATTACH"),
    ("attach '{other}' as other (read_only)", "ATTACH"),
    ("attach '{dir}/new.duckdb' as fresh", "ATTACH"),
    ("detach sanctions", "DETACH"),
    ("install httpfs", "INSTALL/LOAD"),
    ("load httpfs", "INSTALL/LOAD"),
    ("force install spatial", "INSTALL/LOAD"),
    ("update extensions", "not a read"),
    ("set enable_external_access = true", "SET"),
    ("reset enable_external_access", "SET"),
    ("set lock_configuration = false", "SET"),
    ("set variable x = 1", "SET"),
    ("use main", "SET"),
    ("pragma enable_profiling", "PRAGMA enable_profiling"),
    ("pragma memory_limit = '1GB'", "SET"),
    ("pragma threads = 1", "SET"),
    ("pragma force_checkpoint", "PRAGMA force_checkpoint"),
    ("checkpoint", "CALL"),
    ("call pragma_table_info('designations')", "CALL"),
    ("create table hack as select 1", "CREATE"),
    ("create temp table hack as select 1", "CREATE"),
    ("create macro m() as 1", "CREATE"),
    ("create secret s (type s3, key_id 'k', secret 'v')", "CREATE"),
    ("insert into designations values (99, 'x', 0)", "INSERT"),
    ("update designations set name = 'x'", "UPDATE"),
    ("delete from designations", "DELETE"),
    ("drop table designations", "DROP"),
    ("alter table designations add column y int", "ALTER"),
    ("comment on table designations is 'x'", "ALTER"),
    ("vacuum", "VACUUM"),
    ("begin transaction", "TRANSACTION"),
    ("prepare p as select 1", "PREPARE"),
    ("select 1; copy designations to '{dir}/stolen.csv'", "2 statements"),
    ("select 1; select 2", "2 statements"),
    ("export database '{dir}/exported'", "EXPORT"),
    ("import database '{dir}'", "IMPORT DATABASE"),
    ("explain analyze copy designations to '{dir}/stolen.csv'", "EXPLAIN of a statement that is refused"),
    ("explain analyze create table hack as select 1", "EXPLAIN of a statement that is refused"),
    ("with x as (insert into designations values (1, 'a', 0) returning *) select * from x", "read-only"),
    ("", "no statement"),
    (" ; ", "no statement"),
]


@pytest.mark.parametrize(("sql", "named"), ATTACKS, ids=[a[0][:40] for a in ATTACKS])
def test_attack_is_refused_and_changes_nothing(world: dict[str, Path], sql: str, named: str):
    before = _snapshot(world["dir"])
    with pytest.raises(QueryRefused) as refused:
        run_query(world["db"], sql.format(**world))
    message = str(refused.value)
    assert named in message, message
    assert "read-only" in message and str(world["db"]) in message
    assert _snapshot(world["dir"]) == before


ENGINE_ONLY = [
    "copy designations to '{dir}/stolen.csv'",
    "copy (select 1) to '{db}'",
    "select * from read_text('/etc/passwd')",
    "select * from read_csv('{csv}')",
    "select * from read_parquet('{parquet}')",
    "select * from glob('/*')",
    "attach '{other}' as other",
    "attach '{other}' as other (read_only)",
    "install httpfs",
    "load httpfs",
    "set enable_external_access = true",
    "reset enable_external_access",
    "set lock_configuration = false",
    "set allowed_directories = ['/']",
    "pragma enable_profiling",
    "select * from enable_logging()",
    "create table hack as select 1",
    "insert into designations values (99, 'x', 0)",
    "export database '{dir}/exported'",
]


@pytest.mark.parametrize("sql", ENGINE_ONLY, ids=[s[:40] for s in ENGINE_ONLY])
def test_the_locked_connection_refuses_without_the_statement_check(world: dict[str, Path], sql: str):
    before = _snapshot(world["dir"])
    con = open_readonly(world["db"])
    try:
        with pytest.raises(duckdb.Error) as refused:
            con.execute(sql.format(**world)).fetchall()
        assert any(reason in str(refused.value) for reason in (
            "file system operations are disabled", "configuration has been locked", "read-only mode",
            "Loading external extensions is disabled")), refused.value
        settings = dict(con.execute("select name, value from duckdb_settings()").fetchall())
    finally:
        con.close()
    assert settings["enable_external_access"] == "false" and settings["lock_configuration"] == "true"
    assert settings["autoload_known_extensions"] == "false" and settings["autoinstall_known_extensions"] == "false"
    assert settings["allow_community_extensions"] == "false" and settings["access_mode"] == "read_only"
    assert _snapshot(world["dir"]) == before


def test_python_objects_are_not_scanned(world: dict[str, Path]):
    secret_frame = pd.DataFrame({"word": ["secret"]})  # noqa: F841  (what a replacement scan would find)
    with pytest.raises(PipelineError) as failed:
        run_query(world["db"], "select * from secret_frame")
    assert "secret_frame" in str(failed.value) and "does not exist" in str(failed.value)


READS = [
    ("select id, name from designations order by id", len(HOSTILE)),
    ("with hostile as (select * from designations where name like '=%') select count(*) as n from hostile", 1),
    ("from designations select name where id = 2", 1),
    ("-- the names\n/* block comment */ select name from designations -- trailing\n", len(HOSTILE)),
    ("select 1 as a;", 1),
    ("values (1, 'a'), (2, 'b')", 2),
    ("describe designations", 3),
    ("describe select 1 as x", 1),
    ("show tables", 2),
    ("summarize designations", 3),
    ("select table_name, comment from duckdb_tables() order by table_name", 2),
    ("select * from duckdb_columns() where table_name = 'designations'", 3),
    ("pragma table_info('designations')", 3),
    ("select * from pragma_table_info('designations')", 3),
    ("pragma show_tables", 2),
    ("explain select * from designations", 1),
    ("explain analyze select count(*) from designations", 1),
    ("select current_setting('enable_external_access') as access", 1),
]


@pytest.mark.parametrize(("sql", "rows"), READS, ids=[r[0][:40] for r in READS])
def test_reads_run(world: dict[str, Path], sql: str, rows: int):
    before = _snapshot(world["dir"])
    result = run_query(world["db"], sql, max_rows=100)
    assert len(result.rows) == rows
    assert not result.truncated and len(result.columns) == len(result.types)
    assert _snapshot(world["dir"]) == before


def test_rows_are_capped_and_nothing_is_written_beside_the_database(world: dict[str, Path]):
    result = run_query(world["db"], "select * from extra order by n", max_rows=10)
    assert [r[0] for r in result.rows] == list(range(10)) and result.truncated
    assert run_query(world["db"], "select * from extra", max_rows=50).truncated is False
    assert sorted(p.name for p in world["db"].parent.iterdir()) == ["sanctions.duckdb"]


def test_only_a_duckdb_file_is_opened(world: dict[str, Path]):
    with pytest.raises(QueryRefused, match="not a .duckdb file"):
        run_query(world["csv"], "select 1")
    fake = world["dir"] / "fake.duckdb"
    fake.write_text("not a database at all")
    with pytest.raises(QueryRefused, match="not a DuckDB database file"):
        run_query(fake, "select 1")
    with pytest.raises(PipelineError, match="no database at"):
        run_query(world["dir"] / "missing.duckdb", "select 1")


def test_statement_check_uses_the_parser_not_the_text():
    assert check_statement("select 'copy t to x; attach y' as s").query.startswith("select")
    with pytest.raises(QueryRefused, match="COPY"):
        check_statement("/* select */ copy t to 'x.csv'")
    with pytest.raises(PipelineError, match="Parser Error"):
        check_statement("selec 1")


def test_neutralize_cells_per_owasp():
    assert [neutralize_cell(v) for v in HOSTILE] == [
        '\'=HYPERLINK("http://127.0.0.1/x","click")', "'+1", "'-2", "'@SUM(A1)", "'\tTAB", "'\rCR", "plain", "a=b"]
    assert neutralize_cell("\0x") == "'\0x"
    assert neutralize_cell(-3.5) == -3.5 and neutralize_cell(-2) == -2 and neutralize_cell(None) is None
    assert neutralize_cell("'already quoted") == "'already quoted"


def test_csv_neutralizes_text_and_keeps_numbers(world: dict[str, Path]):
    result = run_query(world["db"], "select id, name, score, -7 as neg, '-7' as neg_text, "
                       "interval '-1 day' as back, date '2024-01-02' as day, null::varchar as nothing, "
                       "['=x'] as list, 'a'::enum('a', '=b') as kind, 1 as \"=col\" from designations order by id",
                       max_rows=100)
    buffer = io.StringIO()
    write_csv(result.frame, buffer)
    text = buffer.getvalue()
    assert text.endswith("\r\n") and '"\'\rCR"' in text  # a carriage return in a cell is quoted, never bare
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["id", "name", "score", "neg", "neg_text", "back", "day", "nothing", "list", "kind", "'=col"]
    names = [r[1] for r in rows[1:]]
    assert names == ['\'=HYPERLINK("http://127.0.0.1/x","click")', "'+1", "'-2", "'@SUM(A1)", "'\tTAB", "'\rCR",
                     "plain", "a=b"]
    assert [r[2] for r in rows[1:3]] == ["-3.5", "-2.5"]
    assert {r[3] for r in rows[1:]} == {"-7"} and {r[4] for r in rows[1:]} == {"'-7"}
    assert rows[1][5].startswith("'-1 days") and rows[1][6] == "2024-01-02" and rows[1][7] == ""
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not cell.startswith("-") or float(cell) < 0
    # The frame itself keeps true values: only the CSV copy is changed.
    assert result.frame["name"].iloc[0].startswith("=") and neutralize_frame(result.frame) is not result.frame


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "query", *args], capture_output=True, text=True,
                          cwd=REPO, env=dict(os.environ), timeout=120)


@pytest.mark.integration
def test_cli_formats_and_refusals(world: dict[str, Path]):
    db = str(world["db"])
    sql = "select id, name, score from designations order by id"
    as_csv = _cli(sql, "--db", db, "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[1] == ["0", '\'=HYPERLINK("http://127.0.0.1/x","click")', "-3.5"] and rows[3][1] == "'-2"
    as_json = _cli(sql, "--db", db, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert [r["name"] for r in json.loads(as_json.stdout)] == HOSTILE
    table = _cli(sql, "--db", db, "--max-rows", "3")
    assert table.returncode == 0 and "HYPERLINK" in table.stdout and "more not shown" in table.stdout
    before = _snapshot(world["dir"])
    overwrite = _cli(f"copy (select 1) to '{db}'", "--db", db)
    assert overwrite.returncode == 1 and "COPY" in overwrite.stderr and "read-only" in overwrite.stderr
    shadow = _cli("select * from read_text('/etc/shadow')", "--db", db)
    assert shadow.returncode == 1 and "file access is disabled" in shadow.stderr
    not_duckdb = _cli("select 1", "--db", str(world["csv"]))
    assert not_duckdb.returncode == 1 and "not a .duckdb file" in not_duckdb.stderr
    assert _snapshot(world["dir"]) == before


# --- limits: time, memory, result size, Ctrl-C -------------------------------------------------------------------

FOR_HOURS = "select sum(hash(range)) from range(1000000000000)"
HUNGRY = "select list(range) as numbers from range(100000000)"


def test_a_query_that_would_run_for_hours_stops_at_the_time_limit(world: dict[str, Path],
                                                                   monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PIPELINE_QUERY_TIMEOUT", "2")
    before = _snapshot(world["dir"])
    with pytest.raises(QueryTimeout) as stopped:
        run_query(world["db"], FOR_HOURS)
    message = str(stopped.value)
    assert "time limit of 2 s" in message and "PIPELINE_QUERY_TIMEOUT" in message, message
    assert str(world["db"]) in message and "select sum(hash(range))" in message
    assert _snapshot(world["dir"]) == before
    # The connection was closed: the next query opens the file again and runs.
    assert run_query(world["db"], "select count(*) from extra").rows == [(50,)]


def test_a_memory_hungry_query_fails_with_duckdbs_out_of_memory_error(world: dict[str, Path],
                                                                       monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PIPELINE_QUERY_MEMORY_LIMIT", "64MB")
    before = _snapshot(world["dir"])
    with pytest.raises(PipelineError) as failed:
        run_query(world["db"], HUNGRY)
    message = str(failed.value)
    assert "needs more memory than the limit of 64MB" in message and "PIPELINE_QUERY_MEMORY_LIMIT" in message
    assert "Out of Memory Error" in message and str(world["db"]) in message, message
    assert _snapshot(world["dir"]) == before  # nothing spilled beside the database


def test_the_limits_are_given_to_duckdb_and_locked(world: dict[str, Path]):
    con = open_readonly(world["db"], memory_limit="300MB")
    try:
        settings = dict(con.execute("select name, value from duckdb_settings()").fetchall())
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("set memory_limit = '100GB'")
    finally:
        con.close()
    assert settings["memory_limit"].startswith("286") and settings["lock_configuration"] == "true"
    assert settings["temp_directory"] == "" and settings["enable_progress_bar"] == "false"


def test_fetching_stops_past_the_result_byte_limit(world: dict[str, Path]):
    limits = QueryLimits(timeout=60, memory_limit="1GB", max_result_bytes=1_000_000)
    result = run_query(world["db"], "select repeat('x', 10000) as s from range(5000)", max_rows=5000, limits=limits)
    assert result.truncated and 0 < len(result.rows) < 5000
    assert result.frame.memory_usage(deep=True, index=False).sum() <= 1_000_000
    assert "PIPELINE_QUERY_MAX_RESULT_BYTES" in result.note
    assert "PIPELINE_QUERY_MAX_RESULT_BYTES" in render_table(result)
    small = run_query(world["db"], "select repeat('x', 10) as s from range(100)", max_rows=1000, limits=limits)
    assert not small.truncated and len(small.rows) == 100 and small.note == ""


def test_statements_end_with_semicolons_and_comments(world: dict[str, Path]):
    for sql in ("select 1 as a; -- done", "select 1 as a -- done\n;", "select ';' as a ; /* done */",
                "select 1 as a;;"):
        assert len(run_query(world["db"], sql).rows) == 1, sql


@pytest.mark.parametrize(("name", "value"), [
    ("PIPELINE_QUERY_TIMEOUT", "soon"), ("PIPELINE_QUERY_TIMEOUT", "-1"), ("PIPELINE_QUERY_TIMEOUT", "nan"),
    ("PIPELINE_QUERY_MEMORY_LIMIT", "lots"), ("PIPELINE_QUERY_MEMORY_LIMIT", "2GB; set threads=1"),
])
def test_bad_limit_settings_are_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str):
    from pipeline import settings

    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        settings.load()


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _holds_open(pid: int, path: Path) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == str(path) for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def _wait_for(condition, what: str, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.05)


@pytest.mark.integration
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see the running query")
def test_ctrl_c_interrupts_a_running_query_and_exits_130(world: dict[str, Path]):
    env = {**os.environ, "PIPELINE_QUERY_TIMEOUT": "0"}  # no time limit: only Ctrl-C can end this query
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "query", FOR_HOURS, "--db", str(world["db"])], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell's background jobs start with SIGINT ignored; Python only turns SIGINT into Ctrl-C when it is not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        _wait_for(lambda: _holds_open(proc.pid, world["db"]) or proc.poll() is not None, "the database to be opened")
        assert proc.poll() is None, proc.communicate()
        opened = _cpu_ticks(proc.pid)
        ticks = os.sysconf("SC_CLK_TCK")
        _wait_for(lambda: _cpu_ticks(proc.pid) > opened + ticks, "a second of query CPU time")  # it is running
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "query interrupted (Ctrl-C)" in err and str(world["db"]) in err and "Traceback" not in err
    assert out == ""


@pytest.mark.integration
def test_cli_reports_the_time_and_memory_limits(world: dict[str, Path]):
    db = str(world["db"])
    before = _snapshot(world["dir"])
    slow = subprocess.run([sys.executable, "-m", "pipeline.cli", "query", FOR_HOURS, "--db", db, "--format", "csv"],
                          capture_output=True, text=True, cwd=REPO, env={**os.environ, "PIPELINE_QUERY_TIMEOUT": "3"},
                          timeout=120)
    assert slow.returncode == 1 and "ran past the time limit of 3 s" in slow.stderr, slow.stderr
    assert slow.stdout == ""  # no progress bar in the CSV output while the query ran
    hungry = subprocess.run([sys.executable, "-m", "pipeline.cli", "query", HUNGRY, "--db", db],
                            capture_output=True, text=True, cwd=REPO,
                            env={**os.environ, "PIPELINE_QUERY_MEMORY_LIMIT": "64MB"}, timeout=120)
    assert hungry.returncode == 1 and "needs more memory than the limit of 64MB" in hungry.stderr, hungry.stderr
    assert "Out of Memory Error" in hungry.stderr and "Traceback" not in hungry.stderr
    flag = _cli(HUNGRY, "--db", db, "--memory-limit", "64MB")
    assert flag.returncode == 1 and "limit of 64MB" in flag.stderr
    bad = _cli("select 1", "--db", db, "--memory-limit", "plenty")
    assert bad.returncode == 1 and "--memory-limit must be a memory size" in bad.stderr
    assert _snapshot(world["dir"]) == before
