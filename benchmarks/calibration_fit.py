"""Benchmark 8: fitting each calibration method on 1,000,000 x 20 multi-class logits.

Temperature and vector scaling run torch's LBFGS on the full negative log-likelihood in float64;
Platt and isotonic fit scikit-learn's models once per class, one-vs-rest. Beside each fit, the
time to apply the fitted map to the same matrix (what ``thresholdlab.apply`` and the dashboard's
switch pay once). Budget: temperature scaling takes a few seconds at most (<= 5 s) on the 2-core
machine; the other methods are reported for information.

    python -m benchmarks --only 8
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import Report, Row, Size
from thresholdlab.calibration_fit import METHODS, fit_calibration
from thresholdlab.predictions import from_arrays
from thresholdlab.synthetic import synthetic_scores

TEMPERATURE_BUDGET_S = 5.0


def over_confident_logits(rows: int, k: int, seed: int = 7):
    """Logits of an over-confident network (informative, then scaled up by 2.5)."""
    scores, labels = synthetic_scores("multiclass", rows, k, seed=seed, logits=True,
                                      separation=2.0)
    scores *= 2.5
    return from_arrays(scores, labels, task="multiclass", score_kind="logit")


def run(report: Report, size: Size) -> None:
    k = size.multiclass_classes
    data = over_confident_logits(size.rows, k)
    # The slow fits (per-class scikit-learn) run once; the torch fits take the median of 3.
    for method in METHODS:
        repeats = 3 if method in ("temperature", "vector") else 1
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            fitted = fit_calibration(data, method)
            times.append(time.perf_counter() - started)
        fit_s = float(np.median(times))
        started = time.perf_counter()
        fitted.probabilities(data.scores)
        apply_s = time.perf_counter() - started
        budgeted = method == "temperature"
        detail = (
            f"T = {fitted.scale[0]:.4f}" if method == "temperature"
            else f"{sum(len(x) for x in fitted.x_points):,} breakpoints" if method == "isotonic"
            else f"{2 * k} parameters"
        )
        report.add(Row(
            "8", f"fit {method}, multiclass {size.rows:,} x {k} logits", fit_s, "s",
            baseline=apply_s, baseline_name="applying the fitted map",
            budget=f"<= {TEMPERATURE_BUDGET_S:g} s" if budgeted else "(info)",
            ok=(fit_s <= TEMPERATURE_BUDGET_S) if budgeted and not size.quick else None,
            note=f"{detail}; median of {repeats}" if repeats > 1 else detail,
        ))
