"""Time of the raw-file check (``pipeline.flow.check_raw``: sniff every landed file, one GX pass of
``raw.files``, Data Docs) on N small article files with one empty file among them, against the same
check on N all-good files, measured in the same run. It also measures what finding the bad file
used to cost (one more GX validation per file, the check before issue 11) on a few files and
scales it to N, labelled as an estimate.

    .venv/bin/python bench/raw_check.py [--files 10000] [--repeat 3] [--per-file-sample 40]

Progress goes to stderr, the report to stdout. Exits 2 when a check says something wrong (the
good batch fails, the bad batch passes, or the error does not name exactly the bad file), never
because of a figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ARTICLE = ("---\nurl: https://example.org/news/{i}\ntitle: Article {i}\npublished: 2024-05-01\n"
           "publisher: Example News\n---\nMinisters of the two countries met on {i} May to discuss trade.\n")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _land(folder: Path, n: int, settings) -> list[dict]:
    from pipeline import raw

    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"article_{i:06d}.md").write_text(ARTICLE.format(i=i), encoding="utf-8")
    return [raw.land("articles", str(p), settings).to_dict() for p in sorted(folder.iterdir())]


_passes: list[int] = []


def _count_gx_passes() -> None:
    """Count Great Expectations validations (each ValidationDefinition.run, still run for real)."""
    import great_expectations as gx

    real = gx.ValidationDefinition.run

    def counted(self, *args, **kwargs):
        _passes.append(1)
        return real(self, *args, **kwargs)

    gx.ValidationDefinition.run = counted


def _timed_check(batches: list[dict], settings) -> tuple[float, float, int, str | None]:
    """(seconds of the check, seconds of a separate sniffing pass (raw_frame) over the same files,
    GX validations the check ran, the error or None)."""
    from pipeline import flow
    from pipeline.errors import ValidationFailed

    started = time.perf_counter()
    flow.raw_frame(batches)
    frame_seconds = time.perf_counter() - started
    before = len(_passes)
    started = time.perf_counter()
    try:
        flow.check_raw(batches, settings)
        error = None
    except ValidationFailed as exc:
        error = str(exc)
    return time.perf_counter() - started, frame_seconds, len(_passes) - before, error


def _per_file_seconds(batches: list[dict], sample: int) -> float:
    """Seconds of one extra single-file validation, the cost the old check paid per landed file."""
    from expectations.raw import raw_files_suite
    from pipeline import flow
    from pipeline.validation import validate_stage

    frame = flow.raw_frame(batches).head(sample)
    started = time.perf_counter()
    for index in frame.index:
        validate_stage("raw", {"files": frame.loc[[index]]}, {"files": raw_files_suite()}, raise_on_failure=False)
    return (time.perf_counter() - started) / len(frame)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--per-file-sample", type=int, default=40)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-raw-check-"))
    os.environ["PIPELINE_HOME"] = str(work / "home")
    try:
        return _bench(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bench(args: argparse.Namespace, work: Path) -> int:
    from pipeline import raw
    from pipeline import settings as settings_module

    n = args.files
    settings = settings_module.load()
    _say(f"landing {n:,} article files in {work} ...")
    started = time.perf_counter()
    good_files = _land(work / "articles", n, settings)
    land_seconds = time.perf_counter() - started
    empty = work / "bad" / f"article_{n // 2:06d}.md"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    bad_files = list(good_files)
    bad_files[n // 2] = raw.land("articles", str(empty), settings).to_dict()
    good = [{"source": "articles", "demo": False, "files": good_files}]
    bad = [{"source": "articles", "demo": False, "files": bad_files}]

    _say("importing Great Expectations and warming up (not timed) ...")
    _count_gx_passes()
    _timed_check([{"source": "articles", "demo": False, "files": good_files[:2]}], settings)

    runs: dict[str, list[tuple[float, float, int]]] = {"all good": [], "one empty file": []}
    broken = False
    for r in range(args.repeat):
        for label, batches in (("all good", good), ("one empty file", bad)):
            seconds, frame_seconds, passes, error = _timed_check(batches, settings)
            _say(f"run {r + 1}/{args.repeat} {label}: {seconds:.2f}s, {passes} GX validation(s)")
            runs[label].append((seconds, frame_seconds, passes))
            if label == "all good" and error is not None:
                _say(f"the all-good batch failed:\n{error}")
                broken = True
            if label == "one empty file":
                expected = f"1 of {n:,} files: source articles file '{empty.name}' (sniffed: empty)"
                if error is None or expected not in error:
                    _say(f"the bad batch did not name exactly {empty.name}:\n{error}")
                    broken = True
    _say(f"timing one single-file validation on {args.per_file_sample} files ...")
    per_file = _per_file_seconds(good, args.per_file_sample)

    print(f"raw check (pipeline.flow.check_raw) on {n:,} small article files; median of {args.repeat} runs")
    print(f"landing the {n:,} files (not part of the check): {land_seconds:.1f}s")
    print()
    print("| batch | check seconds | sniffing the files alone (raw_frame) | GX validations per check |")
    print("|---|---:|---:|---:|")
    for label, timings in runs.items():
        total = statistics.median(t for t, _, _ in timings)
        frame = statistics.median(f for _, f, _ in timings)
        passes = "/".join(sorted({str(p) for _, _, p in timings}))
        print(f"| {n:,} files, {label} | {total:.2f} | {frame:.2f} | {passes} |")
    good_s = statistics.median(t for t, _, _ in runs["all good"])
    bad_s = statistics.median(t for t, _, _ in runs["one empty file"])
    print()
    print(f"one empty file among {n:,} costs {bad_s - good_s:+.2f}s over the all-good check ({bad_s / good_s:.2f}x)")
    print(f"before (estimate): one more validation per file to find it, {per_file:.3f}s each measured on "
          f"{args.per_file_sample} files, about {per_file * n / 60:.1f} min for {n:,} files on top of the check")
    return 2 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
