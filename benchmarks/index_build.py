"""Benchmark 2: building the curve index against ``np.sort`` of the same matrix.

Budget: at 1,000,000 rows x 50 classes, building the index takes <= 1.5x the time of
``np.sort(probabilities, axis=0)``. Both may use both cores (numpy's sorts release the GIL; the
index sorts classes on a thread pool, ``np.sort`` runs on one).

Cases: float32 scores (what models emit, and what Parquet / NPZ / ``.pt`` files carry: the index
stores them as float32, exactly), and the same numbers as float64 text-parsed decimals (CSV:
the index keeps float64). Build and sort are timed alternately, so load from other processes
hits both alike.
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import Report, Row, Size, interleaved
from benchmarks.make_data import prediction_arrays
from thresholdlab.curves import CurveIndex
from thresholdlab.predictions import from_arrays

BUDGET = 1.5


def run_case(report: Report, task: str, k: int, size: Size, dtype, budgeted: bool) -> None:
    scores, labels = prediction_arrays(task, size.rows, k, seed=2)
    if dtype == np.float64:
        # A CSV's decimals parse to float64 values that are no float32 (as loading gives them).
        scores = np.round(scores.astype(np.float64), 9)
    predictions = from_arrays(scores, labels, task=task)
    del scores
    p = predictions.probabilities
    build = lambda: CurveIndex.build(predictions)  # noqa: E731
    sort = lambda: np.sort(p, axis=0)  # noqa: E731
    sort_s, build_s, _, _ = interleaved(sort, build, size.repeats)
    index = build()
    stored = index._classes[0].scores_dtype
    ratio = build_s / sort_s
    name = "float32 scores" if dtype == np.float32 else "float64 decimals (CSV)"
    report.add(Row("2", f"{task} {size.rows:,} x {k}, {name}", build_s, "s", baseline=sort_s,
                   baseline_name="np.sort axis=0", ratio=ratio,
                   budget=f"<= {BUDGET}x" if budgeted else "(info)",
                   ok=(ratio <= BUDGET) if budgeted else None,
                   note=f"index stores {stored}; {index.nbytes / 1e6:.0f} MB"))


def run(report: Report, size: Size) -> None:
    run_case(report, "multilabel", size.multilabel_classes, size, np.float32, budgeted=True)
    run_case(report, "multilabel", size.multilabel_classes, size, np.float64, budgeted=True)
    run_case(report, "multiclass", size.multiclass_classes, size, np.float32, budgeted=False)
