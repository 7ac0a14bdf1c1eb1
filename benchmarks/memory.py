"""Benchmark 4: peak memory (RSS) at 1,000,000 rows x 50 labels against the float32 matrix.

Budget: peak memory <= 3x the float32 score matrix, plus the framework's baseline. Each case
runs in a fresh Python process: the baseline is that process's peak RSS after its imports
(interpreter, numpy, pandas, pyarrow, scikit-learn, thresholdlab), subtracted from its peak after
the work, so the number is what the data costs. The score matrix itself counts inside the 3x.

Cases (multi-label, labels as in ``make_data``):
- ``arrays``: float32 scores and bool labels from ``.npy`` files -> ``from_arrays`` -> index
  -> ranking (AP, ROC AUC) -> a run of slider moves -> every class's plotted curve. This is the
  core, as a notebook or the PyTorch collector feeds it.
- ``parquet``: the same data as a float32 Parquet file through ``thresholdlab.loading.load``
  (pandas frame, validation, float64 matrix), then the same steps. This is what the dashboard
  does with an upload.
- ``csv load`` and ``parquet load``: loading alone (``load`` up to the finished
  ``PredictionSet``) of the 1,000,000 x 20 multi-class file of benchmark 3, CSV beside Parquet,
  against that file's float32 score matrix. CSV is the format users upload most.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from benchmarks.common import ROOT, Report, Row, Size, peak_rss_bytes
from benchmarks.loading import data_file

BUDGET = 3.0
LOAD_ONLY = ("csv load", "parquet load")


def arrays_files(data_dir: Path, rows: int, k: int) -> tuple[Path, Path]:
    from benchmarks.make_data import prediction_arrays

    scores_path = data_dir / f"multilabel_{rows}x{k}_seed0_scores.npy"
    labels_path = data_dir / f"multilabel_{rows}x{k}_seed0_labels.npy"
    if not (scores_path.exists() and labels_path.exists()):
        scores, labels = prediction_arrays("multilabel", rows, k, seed=0)
        np.save(scores_path, scores)
        np.save(labels_path, labels)
    return scores_path, labels_path


def child(case: str, paths: list[str], moves: int) -> dict:
    """The measured work, in this (fresh) process; returns RSS figures in bytes."""
    import pandas  # noqa: F401  (part of the baseline, as in the app)
    import pyarrow  # noqa: F401
    import sklearn.metrics  # noqa: F401

    from thresholdlab.curves import CurveIndex, downsample
    from thresholdlab.loading import load
    from thresholdlab.metrics import evaluate, ranking_metrics
    from thresholdlab.predictions import from_arrays

    baseline = peak_rss_bytes()
    steps = {}
    if case == "arrays":
        scores = np.load(paths[0])
        labels = np.load(paths[1])
        predictions = from_arrays(scores, labels, task="multilabel")
        del scores, labels
    else:
        predictions = load(paths[0])
    steps["loaded"] = peak_rss_bytes() - baseline
    if case in LOAD_ONLY:
        return {
            "baseline": baseline,
            "peak": peak_rss_bytes(),
            "steps": steps,
            "scores_dtype": str(predictions.scores.dtype),
            "matrix_bytes": predictions.n_rows * predictions.n_classes * 4,
        }
    index = CurveIndex.build(predictions)
    steps["indexed"] = peak_rss_bytes() - baseline
    ranking = ranking_metrics(index)
    steps["ranked"] = peak_rss_bytes() - baseline
    k = predictions.n_classes
    rng = np.random.default_rng(0)
    t = np.full(k, 0.5)
    for _ in range(moves):
        t[rng.integers(k)] = rng.uniform(0.05, 0.95)
        evaluate(index, t, ranking=ranking, sample_based_metrics=False)
    plotted = [downsample(index.curve(c), 2000) for c in range(k)]
    steps["moved+plotted"] = peak_rss_bytes() - baseline
    return {
        "baseline": baseline,
        "peak": peak_rss_bytes(),
        "steps": steps,
        "scores_dtype": str(predictions.probabilities.dtype),
        "index_bytes": index.nbytes,
        "matrix_bytes": predictions.n_rows * predictions.n_classes * 4,
        "points": max(len(c.thresholds) for c in plotted),
    }


def measure(case: str, paths: list[Path], moves: int) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.memory", "--child", case, "--moves", str(moves),
           *map(str, paths)]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=os.environ.copy())
    if out.returncode != 0:
        raise RuntimeError(f"memory child {case} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(report: Report, size: Size, data_dir: Path) -> None:
    rows, k = size.rows, size.multilabel_classes
    cases = {
        "arrays": list(arrays_files(data_dir, rows, k)),
        "parquet": [data_file(data_dir, "multilabel", rows, k, "parquet")],
    }
    for case, paths in cases.items():
        r = measure(case, paths, min(size.moves, 50))
        used = (r["peak"] - r["baseline"]) / 1e6
        matrix = r["matrix_bytes"] / 1e6
        ratio = used / matrix
        steps = ", ".join(f"{name} {v / 1e6:.0f}" for name, v in r["steps"].items())
        label = {"arrays": "float32 arrays -> core", "parquet": "float32 Parquet -> load() -> core"}[case]
        report.add(Row("4", f"peak RSS {rows:,} x {k}, {label}", used, "MB", baseline=matrix,
                       baseline_name="float32 matrix", ratio=ratio, budget=f"<= {BUDGET:g}x",
                       ok=ratio <= BUDGET,
                       note=f"above a {r['baseline'] / 1e6:.0f} MB import baseline; peak MB after "
                            f"{steps}; scores held as {r['scores_dtype']}, index "
                            f"{r['index_bytes'] / 1e6:.0f} MB"))
    k = size.multiclass_classes
    for fmt in ("csv", "parquet"):
        case = f"{fmt} load"
        r = measure(case, [data_file(data_dir, "multiclass", rows, k, fmt)], 0)
        used = (r["peak"] - r["baseline"]) / 1e6
        matrix = r["matrix_bytes"] / 1e6
        ratio = used / matrix
        report.add(Row("4", f"peak RSS {rows:,} x {k}, {fmt.upper()} -> load()", used, "MB",
                       baseline=matrix, baseline_name="float32 matrix", ratio=ratio,
                       budget=f"<= {BUDGET:g}x", ok=ratio <= BUDGET,
                       note=f"above a {r['baseline'] / 1e6:.0f} MB import baseline; loading "
                            f"alone; scores held as {r['scores_dtype']}"))


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=("arrays", "parquet", *LOAD_ONLY), required=True)
    parser.add_argument("--moves", type=int, default=50)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    print(json.dumps(child(args.child, args.paths, args.moves)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
