"""The benchmarks still run: ``python -m benchmarks --quick`` at tiny sizes, in a subprocess.

No timing is asserted here (budgets are checked by the benchmarks themselves, at full
size, never by timed unit tests); this only keeps the six benchmarks and the data generator from
rotting. The browser benchmark (5) runs too when Chromium and app.py are there; it takes about
15 of the run's ~25 seconds.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a top-level package of the checkout, not installed
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--data-dir", str(tmp), "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return json.loads(out.read_text()), proc.stdout


def test_every_benchmark_reports(quick_run):
    results, stdout = quick_run
    benches = {row["bench"] for row in results["rows"]}
    skipped_browser = any(n.startswith("Benchmark 5 skipped") for n in results["notes"])
    expected = {"1", "2", "3", "4", "6", "7", "8"} | (set() if skipped_browser else {"5"})
    assert expected <= benches, stdout
    assert not [n for n in results["notes"] if "failed" in n.lower()], results["notes"]
    assert "| # | case | ThresholdLab | baseline | ratio | budget | met |" in stdout


def test_quick_rows_are_exact_and_judge_no_budget(quick_run):
    results, _ = quick_run
    rows = results["rows"]
    assert results["quick"] and all(row["ok"] is None for row in rows)
    # Benchmark 1 compares counts with scikit-learn's in the same run: they must be identical.
    versus = [r for r in rows if r["bench"] == "1" and "vs scikit-learn" in r["case"]]
    assert versus and all("identical to scikit-learn's: True" in r["note"] for r in versus)
    # Benchmark 6: the plotted curves keep the budgets even at tiny size.
    points = [r["value"] for r in rows if r["bench"] == "6" and "points" in r["case"]]
    errors = [r["value"] for r in rows if r["bench"] == "6" and "AP(plotted)" in r["case"]]
    assert points and max(points) <= 2000
    assert errors and max(errors) <= 1e-3


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_make_data_files_load_as_their_task(tmp_path, task, fmt):
    from benchmarks.make_data import main
    from thresholdlab.loading import load

    path = tmp_path / f"{task}.{fmt}"
    assert main(["--task", task, "--rows", "500", "--classes", "5", "-o", str(path)]) == 0
    predictions = load(path)
    assert predictions.task == task
    assert predictions.n_rows == 500
    assert predictions.n_classes == (1 if task == "binary" else 5)
    assert predictions.score_kind == "probability"
