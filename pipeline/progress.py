"""One progress line per pipeline step, for the person who ran ``pipeline run``.

The DAG's tasks call :func:`emit` when a step ends; in the embedded mode ``pipeline run`` points
``PIPELINE_PROGRESS_FILE`` at a JSON-lines file and prints each new line as it appears
(:class:`Follower`), while Airflow's own log lines go to a log file. Without that variable (a
scheduler in production) :func:`emit` does nothing: the task logs say the same.

    [3/9] parse us_ofac_sdn: 134 designations in 0.5 s

A step may also report something the person must see before the step ends (a damaged lake part
quarantined, a snapshot lost from history, a damaged publication rebuilt) with :func:`notice`;
it is printed as it happens, as ``warning: ...``. A step that waits (a download tried again, a
task Airflow retries later) says so with :func:`waiting`, naming the time of the next try:

    [1/9] land: un_sc x.xml: connection refused; trying again at 14:03:22 (attempt 2 of 3)

Each step also records when it starts (:func:`started`; not printed), so ``pipeline run`` knows
which step a stop request interrupts. ``pipeline run`` and its Airflow child also mark the phases
of the run around the steps (:func:`mark`; not printed): where the time outside the steps goes
(``bench/airflow_overhead.py``).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

ENV = "PIPELINE_PROGRESS_FILE"
STEPS = ("land", "validate_raw", "parse", "validate_staged", "match_targets", "build_models", "validate_marts",
         "publish", "report")


def summary(step: str, result: Any) -> str:
    """What a step did, in a few words, from the value its flow function returned."""
    from pipeline.sources import load_meta

    if step == "land":
        files = [f for batch in result for f in batch["files"]]
        size = sum(f["bytes"] for f in files) / 1e6
        return f"{len(files)} file(s) of {len(result)} source(s), {size:.1f} MB, kept in the raw store"
    if isinstance(result, dict) and result.get("unchanged_release"):  # pipeline/rerun.py: nothing changed
        return unchanged_line(step, result)
    if step == "validate_raw" and not result["files"]:
        return "every landed file is one a lake snapshot was parsed from: checked already"
    if step == "validate_raw":
        return f"{result['files']} raw file(s) pass {', '.join(result['suites'])}"
    if step == "parse":
        if result.get("unchanged"):  # live mode: the same files as the lake's snapshot (pipeline/fetch.py)
            return f"{result['source']}: unchanged since snapshot {result['snapshot_date']}, not parsed again"
        table = load_meta(result["source"]).main_table
        audit = result.get("audit", {})
        set_aside = sum(n for key, n in audit.items() if key.startswith("set_aside:"))
        cut = sum(n for key, n in audit.items() if key.startswith("sentence_cut:"))
        notes = []
        if set_aside:
            notes.append(f"{set_aside} file(s) set aside, each named in the log and lake.parse_audit")
        if cut:
            notes.append(f"{cut} over-long sentence(s) read in pieces (parse_audit rule sentence_cut)")
        return (f"{result['source']}: {result['counts'].get(table, 0)} {table.replace('_', ' ')} "
                f"(snapshot {result['snapshot_date']})" + "".join(f"; {n}" for n in notes))
    if step == "validate_staged":
        if not result:
            return "no source was parsed again: nothing to check"
        suites = sum(len(v) for v in result.values())
        return f"{suites} staged suite(s) pass for {', '.join(sorted(result))}"
    if step == "match_targets":
        return (f"{result['designations']} designations are {result['targets']} unique targets "
                f"({result['candidates']} uncertain pairs for review)")
    if step == "build_models":
        return f"{result['models']} dbt models built and tested"
    if step == "validate_marts":
        return f"{len(result['suites'])} mart suite(s) pass"
    if step == "publish":
        return f"release {Path(result['release']).name} is current"
    if step == "report":
        return f"headline written to {result}"
    return "done"


def unchanged_line(step: str, result: dict) -> str:
    """What a step that short-circuits says when nothing changed since the current release."""
    release = result["unchanged_release"]
    if step == "validate_staged":
        return (f"every source unchanged, and the lake, matching, code and settings are those of release {release}: "
                "nothing to check or build")
    if step == "publish":
        return f"nothing changed since release {release}: the current publication stands"
    if step == "report":
        return f"the headline of release {release} stands: {result.get('headline')}"
    return f"skipped (nothing changed since release {release})"


def emit(step: str, result: Any, seconds: float) -> None:
    """Append the step's line to the progress file, if ``pipeline run`` asked for one."""
    path = os.environ.get(ENV)
    if not path:
        return
    try:
        text = summary(step, result)
    except Exception as exc:  # noqa: BLE001 - a progress line must never fail the step
        text = f"done ({type(exc).__name__} while summarising)"
    record = {"step": step, "index": STEPS.index(step) + 1 if step in STEPS else 0, "text": text,
              "seconds": round(seconds, 1), "at": time.time()}
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def _append(record: dict) -> None:
    path = os.environ.get(ENV)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({**record, "at": time.time()}) + "\n")
    except OSError:  # a full disk: the log still has it
        pass


def _index(step: str) -> int:
    return STEPS.index(step) + 1 if step in STEPS else 0


def started(step: str) -> None:
    """Record that ``step`` starts (not printed: :attr:`Follower.current` names it)."""
    _append({"started": step, "index": _index(step)})


def mark(phase: str, path: str | os.PathLike | None = None) -> None:
    """Record that the run reached ``phase`` (e.g. ``child_start``, ``dag_test_end``); not printed.
    ``path``: the progress file, for a caller whose environment does not name it (``pipeline run``)."""
    record = {"mark": phase, "cpu": round(time.process_time(), 3)}  # this process's CPU seconds so far
    if path is None:
        _append(record)
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({**record, "at": time.time()}) + "\n")
    except OSError:
        pass


def waiting(step: str, text: str) -> None:
    """A line saying what ``step`` waits for and until when (callers log it too)."""
    _append({"waiting": text, "step": step, "index": _index(step)})


def clock(when: float) -> str:
    """A local wall-clock time (epoch seconds) as ``HH:MM:SS``, with the date when it is not today."""
    moment = time.localtime(when)
    same_day = time.strftime("%Y-%m-%d", moment) == time.strftime("%Y-%m-%d")
    return time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S", moment)


def notice(text: str) -> None:
    """Append a warning line to the progress file, if ``pipeline run`` asked for one (callers log it too)."""
    _append({"notice": text})


class Follower:
    """Prints the progress file's new lines: call :meth:`poll` while the run goes on."""

    def __init__(self, path: Path, out: Any) -> None:
        self.path = path
        self.out = out
        self._offset = 0
        self.current: str | None = None  # the step that started last

    def poll(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as fh:
                fh.seek(self._offset)
                chunk = fh.read()
        except FileNotFoundError:
            return
        complete, _, _partial = chunk.rpartition("\n")
        if not complete and not chunk.endswith("\n"):
            return
        self._offset += len(complete.encode("utf-8")) + 1
        for line in complete.splitlines():
            record = json.loads(line)
            if "notice" in record:
                print(f"warning: {record['notice']}", file=self.out, flush=True)
                continue
            if "started" in record:
                self.current = record["started"]
                continue
            if "mark" in record:
                continue
            if "waiting" in record:
                print(f"[{record['index']}/{len(STEPS)}] {record['step'].replace('_', ' ')}: {record['waiting']}",
                      file=self.out, flush=True)
                continue
            sep = " " if record["step"] == "parse" else ": "  # parse lines start with the source id
            print(f"[{record['index']}/{len(STEPS)}] {record['step'].replace('_', ' ')}{sep}{record['text']} "
                  f"in {record['seconds']} s", file=self.out, flush=True)
