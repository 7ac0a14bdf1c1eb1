"""Run ThresholdLab's benchmarks: ``python -m benchmarks`` (all six) or ``make bench``.

    python -m benchmarks                 # full sizes (1,000,000 rows), about 5 minutes
    python -m benchmarks --quick         # tiny sizes, a smoke run (budgets not judged)
    python -m benchmarks --only 1,4      # some of them
    python -m benchmarks --markdown out.md --json out.json

1 threshold change vs scikit-learn   2 index build vs np.sort   3 load vs pandas
4 peak memory vs the float32 matrix   5 browser: page settled   6 curve down-sampling
7 bootstrap intervals and the optimum's spread   8 calibration fits (1,000,000 x 20 logits)

Generated data files are kept in ``--data-dir`` (default: a ``thresholdlab-bench`` folder in
the system's temp directory) and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import asdict
from pathlib import Path

from benchmarks.common import ROOT, Report, Row, Size, machine, markdown_table, versions

NAMES = {
    1: "threshold change vs scikit-learn",
    2: "index build vs np.sort",
    3: "load vs pandas",
    4: "peak memory",
    5: "browser: page settled vs a bare app and a plotly app",
    6: "curve down-sampling",
    7: "bootstrap intervals and optimum spread",
    8: "calibration fits",
}


def run_one(number: int, report: Report, size: Size, data_dir: Path) -> None:
    if number == 1:
        from benchmarks import threshold_change

        threshold_change.run(report, size)
    elif number == 2:
        from benchmarks import index_build

        index_build.run(report, size)
    elif number == 3:
        from benchmarks import loading

        loading.run(report, size, data_dir)
    elif number == 4:
        from benchmarks import memory

        memory.run(report, size, data_dir)
        run_sessions(report, size)
    elif number == 5:
        from benchmarks import browser

        missing = browser_missing()
        if missing:
            report.notes.append(f"Benchmark 5 skipped: {missing}")
            print(f"  skipped: {missing}")
            return
        browser.run(report, size, data_dir)
        if not size.quick and any(r.bench == "5" and r.ok is False for r in report.rows):
            from benchmarks.loading import data_file

            data = data_file(data_dir, "multiclass", size.rows, size.multiclass_classes, "parquet")
            report.notes.append(browser.profile_app_rerun(data))
    elif number == 6:
        from benchmarks import downsampling

        downsampling.run(report, size)
    elif number == 7:
        from benchmarks import evaluation

        evaluation.run(report, size)
    elif number == 8:
        from benchmarks import calibration_fit

        calibration_fit.run(report, size)


def run_sessions(report: Report, size: Size) -> None:
    """Benchmark 4's second part: server memory of 8 concurrent browser sessions."""
    missing = browser_missing()
    if size.quick or missing:
        # The test suite runs the same load test small (tests/browser/test_sessions.py).
        report.notes.append(f"Benchmark 4 sessions skipped: {missing or 'quick run'}")
        return
    from benchmarks import sessions

    sessions.run(report, size)


def browser_missing() -> str:
    from benchmarks.launcher import CHROMIUM, have_chromium

    if not (ROOT / "app.py").exists():
        return "app.py is not there yet"
    if not have_chromium():
        return f"no Chromium at {CHROMIUM} (make chromium installs it)"
    try:
        import playwright  # noqa: F401
        import streamlit  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install -r requirements-dev.txt)"
    return ""


def parse_only(text: str | None) -> list[int]:
    if not text:
        return list(NAMES)
    out = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        n = int(part)
        if n not in NAMES:
            raise SystemExit(f"--only: no benchmark {n}; choose from {min(NAMES)}-{max(NAMES)}")
        out.append(n)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes; budgets not judged")
    parser.add_argument("--only", help="comma-separated benchmark numbers, e.g. 1,4")
    parser.add_argument("--data-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "thresholdlab-bench")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    parser.add_argument("--json", type=Path, help="also write every row as JSON here")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a budget is missed (default: only when one fails to run)")
    parser.add_argument("--browser-moves", type=int,
                        help="key presses per app in benchmark 5 (default: 21, quick: 3)")
    parser.add_argument("--first-view-rows",
                        help="benchmark 5's first-view file sizes, comma-separated "
                             "(default: 1000000,10000000; 'none' to skip)")
    args = parser.parse_args(argv)
    size = Size.tiny() if args.quick else Size.full()
    if args.browser_moves:
        size.browser_moves = args.browser_moves
    if args.first_view_rows:
        size.first_view_rows = tuple(
            int(n) for n in args.first_view_rows.split(",") if n.strip() not in ("", "none"))
    data_dir = args.data_dir / ("quick" if args.quick else "full")
    data_dir.mkdir(parents=True, exist_ok=True)
    report = Report(quick=args.quick)

    print(f"ThresholdLab benchmarks ({'quick, tiny sizes' if args.quick else 'full sizes'})")
    print(f"machine: {machine()}")
    print(f"{versions()}\n")
    failed = []
    started_all = time.perf_counter()
    for number in parse_only(args.only):
        print(f"[{number}] {NAMES[number]}", flush=True)
        started = time.perf_counter()
        try:
            run_one(number, report, size, data_dir)
        except Exception:  # one broken benchmark must not hide the others' numbers
            failed.append(number)
            report.notes.append(f"Benchmark {number} failed:\n{traceback.format_exc()}")
            print(f"  FAILED:\n{traceback.format_exc()}", flush=True)
        print(f"  ({time.perf_counter() - started:.0f} s)\n", flush=True)

    table = markdown_table(report.rows)
    print(table)
    print(f"\n{len(report.rows)} rows in {time.perf_counter() - started_all:.0f} s.")
    missed = [r for r in report.rows if r.ok is False]
    if args.quick:
        print("Quick run: budgets are judged at full size only.")
    elif missed:
        print("Budgets missed: " + "; ".join(f"[{r.bench}] {r.case}" for r in missed))
    else:
        print("Every budget met.")
    notes = [f"[{r.bench}] {r.case}: {r.note}" for r in report.rows if r.note]
    if notes:
        print("\nNotes:\n" + "\n".join(notes))
    if report.notes:
        print("\n" + "\n\n".join(report.notes))

    if args.markdown:
        args.markdown.write_text(
            f"machine: {machine()}\n\n{versions()}\n\n{table}\n\n" + "\n".join(f"- {n}" for n in notes)
            + ("\n\n```\n" + "\n\n".join(report.notes) + "\n```\n" if report.notes else "\n")
        )
    if args.json:
        args.json.write_text(json.dumps(
            {"machine": machine(), "versions": versions(), "quick": args.quick,
             "rows": [asdict(r) for r in report.rows], "notes": report.notes}, indent=1))
    if failed:
        return 1
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
