"""Benchmark 6: curves handed to the browser stay small and keep their average precision.

Budget: <= 2,000 points per class, and AP computed from the plotted points within 1e-3 of the
exact AP. Every class's curve at 1,000,000 rows goes through ``thresholdlab.curves.downsample``:
multi-label (50 labels, prevalence 30% down to 0.3%), and multi-class (20 classes) both the
reachable curve under ``argmax`` and the one-vs-rest curve over every row that the dashboard
draws beside it. The exact AP is checked against scikit-learn's ``average_precision_score`` for
one class per case. The dashboard's small multiples use 300 points; shown for information.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.metrics import average_precision_score

from benchmarks.common import Report, Row, Size
from benchmarks.make_data import prediction_arrays
from thresholdlab.curves import Curve, CurveIndex, downsample
from thresholdlab.metrics import average_precision, binary_curve
from thresholdlab.predictions import from_arrays

MAX_POINTS = 2000
SMALL_MULTIPLE_POINTS = 300
BUDGET_AP = 1e-3


def curves(task: str, k: int, size: Size):
    """(name, [Curve per class], predictions) for each kind of curve the dashboard plots."""
    scores, labels = prediction_arrays(task, size.rows, k, seed=3)
    predictions = from_arrays(scores, labels, task=task)
    del scores
    index = CurveIndex.build(predictions)
    if task == "multilabel":
        yield "multilabel", [index.curve(c) for c in range(k)], predictions
        return
    yield "multiclass argmax (reachable)", [index.curve(c) for c in range(k)], predictions
    one_vs_rest = []
    for c in range(k):
        thresholds, tp, fp = binary_curve(predictions.labels == c, predictions.probabilities[:, c])
        positives = int(predictions.positives[c])
        one_vs_rest.append(Curve(thresholds, tp, fp, positives, predictions.n_rows - positives))
    yield "multiclass one-vs-rest", one_vs_rest, predictions


def ap_error(curve: Curve, max_points: int) -> tuple[int, float, float]:
    """(points plotted, |AP(plotted) - AP(exact)|, seconds to thin)."""
    started = time.perf_counter()
    thin = downsample(curve, max_points)
    seconds = time.perf_counter() - started
    exact = average_precision(curve.tp, curve.fp, curve.positives)
    plotted = average_precision(thin.tp, thin.fp, thin.positives)
    return len(thin.thresholds), abs(plotted - exact), seconds


def run(report: Report, size: Size) -> None:
    cases = [("multilabel", size.multilabel_classes), ("multiclass", size.multiclass_classes)]
    for task, k in cases:
        for name, per_class, predictions in curves(task, k, size):
            full = max(len(c.thresholds) for c in per_class)
            results = [ap_error(c, MAX_POINTS) for c in per_class]
            points = max(r[0] for r in results)
            error = max(r[1] for r in results)
            small = max(ap_error(c, SMALL_MULTIPLE_POINTS)[1] for c in per_class)
            seconds = float(np.median([r[2] for r in results]))
            sklearn_note = ""
            if name != "multiclass argmax (reachable)":  # one-vs-rest curves are sklearn's
                c = int(np.argmin(predictions.positives))  # the sparsest class
                truth = predictions.truth[:, c]
                sk = average_precision_score(truth, predictions.probabilities[:, c])
                ours = average_precision(per_class[c].tp, per_class[c].fp, per_class[c].positives)
                sklearn_note = f"; exact AP of the sparsest class vs scikit-learn: |diff| {abs(sk - ours):.1e}"
            case = f"{name} {size.rows:,} x {k}"
            report.add(Row("6", f"{case}: points per curve", points, "points",
                           baseline=full, baseline_name="exact curve",
                           ratio_label=f"{full / points:,.0f}x fewer", budget="<= 2,000",
                           ok=points <= MAX_POINTS,
                           note=f"max over {k} classes; median {seconds * 1e3:.1f} ms to thin a curve"))
            report.add(Row("6", f"{case}: max over classes of |AP(plotted) - AP(exact)|", error, "abs",
                           budget="<= 1e-3", ok=error <= BUDGET_AP,
                           note=f"at {SMALL_MULTIPLE_POINTS} points (small multiples): {small:.1e}"
                                + sklearn_note))
