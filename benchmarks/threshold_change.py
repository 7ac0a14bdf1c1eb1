"""Benchmark 1: a threshold change recomputes every count, metric and confusion matrix.

Budget: at 1,000,000 rows a full recompute after a threshold change takes <= 1 ms median and is
>= 3000x faster than re-scoring with scikit-learn in the same run.

ThresholdLab's step is what the dashboard does on a slider move: ``evaluate(index, thresholds,
ranking=..., sample_based_metrics=False)``: per-class TP/FP/FN/TN (and the multi-class
confusion matrix with its no-prediction column) from the sorted index, every per-class
metric with Wilson intervals, macro/micro/weighted aggregates, accuracy/coverage or Hamming
loss, zero-division warnings. AP and ROC AUC do not depend on thresholds and are ranked once.

scikit-learn re-scores the rows: threshold them (``p >= t``, or argmax-then-threshold), then
``multilabel_confusion_matrix`` / ``confusion_matrix`` (the counts and the confusion matrix) and
``precision_recall_fscore_support(average=None)`` (the per-class rates): the fewest calls that
give what one ThresholdLab step gives (aggregates, MCC, intervals and the rest are charged to
ThresholdLab only). The table also shows each call alone, and the speed-up over the cheaper
one, as a floor no fairer accounting can go below.

Multi-label subset accuracy and samples-F1 need every row's decisions by definition (they are
per-row quantities); they are left out of the per-move path and timed on their own here.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.metrics import confusion_matrix, multilabel_confusion_matrix, precision_recall_fscore_support

from benchmarks.common import Report, Row, Size, median_seconds
from benchmarks.make_data import prediction_arrays
from thresholdlab.curves import CurveIndex
from thresholdlab.decisions import NO_PREDICTION, decide
from thresholdlab.metrics import evaluate, ranking_metrics, sample_based
from thresholdlab.predictions import from_arrays

BUDGET_SECONDS = 1e-3
BUDGET_SPEEDUP = 3000


def slider_moves(k: int, moves: int, seed: int = 0) -> list[np.ndarray]:
    """Threshold vectors as a user makes them: each move changes one class's slider."""
    rng = np.random.default_rng(seed)
    t = np.full(k, 0.5)
    out = []
    for _ in range(moves):
        t = t.copy()
        t[rng.integers(k)] = round(float(rng.uniform(0.05, 0.95)), 2)
        out.append(t)
    return out


def sklearn_decisions(predictions, t: np.ndarray):
    """Thresholded scores, as a scikit-learn user would compute them."""
    p = predictions.probabilities
    if predictions.task == "multiclass":
        top = np.argmax(p, axis=1)
        return np.where(p[np.arange(len(top)), top] >= t[top], top, NO_PREDICTION)
    return p >= t


def sklearn_counts(predictions, decisions):
    if predictions.task == "multiclass":
        k = predictions.n_classes
        return confusion_matrix(predictions.labels, decisions, labels=[*range(k), NO_PREDICTION])
    return multilabel_confusion_matrix(predictions.labels, decisions)


def sklearn_rates(predictions, decisions):
    labels = list(range(predictions.n_classes)) if predictions.task == "multiclass" else None
    return precision_recall_fscore_support(predictions.labels, decisions, labels=labels,
                                           average=None, zero_division=0)


def sklearn_rescore(predictions, t: np.ndarray) -> dict:
    """Seconds of each step of scikit-learn's re-score at ``t``, and its counts."""
    started = time.perf_counter()
    decisions = sklearn_decisions(predictions, t)
    decided = time.perf_counter()
    counts = sklearn_counts(predictions, decisions)
    counted = time.perf_counter()
    sklearn_rates(predictions, decisions)
    rated = time.perf_counter()
    return {"decide": decided - started, "counts": counted - decided, "rates": rated - counted,
            "total": rated - started, "result": counts}


def check_exact(index: CurveIndex, t: np.ndarray, sk_counts: np.ndarray) -> bool:
    """ThresholdLab's counts equal scikit-learn's at the same thresholds."""
    counts = index.counts_at(t)
    if index.task == "multiclass":  # scikit-learn adds a row for the true label "no prediction"
        k = len(index.classes)
        return bool(np.array_equal(counts.confusion, sk_counts[:k]) and not sk_counts[k:].any())
    # multilabel_confusion_matrix: [[tn, fp], [fn, tp]] per class
    return bool(
        np.array_equal(counts.tn, sk_counts[:, 0, 0]) and np.array_equal(counts.fp, sk_counts[:, 0, 1])
        and np.array_equal(counts.fn, sk_counts[:, 1, 0]) and np.array_equal(counts.tp, sk_counts[:, 1, 1])
    )


def run_case(report: Report, task: str, k: int, size: Size) -> None:
    scores, labels = prediction_arrays(task, size.rows, k, seed=1)
    predictions = from_arrays(scores, labels, task=task)
    del scores
    index = CurveIndex.build(predictions)
    ranking = ranking_metrics(index)
    case = f"{task}{' argmax' if task == 'multiclass' else ''} {size.rows:,} x {k}"
    moves = slider_moves(k, size.moves)

    # ThresholdLab: one full recompute per move, each timed on its own.
    for t in moves[:5]:
        evaluate(index, t, ranking=ranking, sample_based_metrics=False)
    times = []
    for t in moves:
        started = time.perf_counter()
        evaluate(index, t, ranking=ranking, sample_based_metrics=False)
        times.append(time.perf_counter() - started)
    ours = float(np.median(times))
    counts_only = float(np.median([_timed(index.counts_at, t) for t in moves]))

    # scikit-learn on the same moves (a few: each takes seconds at full size).
    sk = [sklearn_rescore(predictions, t) for t in moves[: size.repeats]]
    exact = all(check_exact(index, t, run["result"]) for t, run in zip(moves, sk))
    med = {step: float(np.median([run[step] for run in sk])) for step in ("decide", "counts", "rates", "total")}
    speedup = med["total"] / ours
    cheapest = med["decide"] + min(med["counts"], med["rates"])

    report.add(Row("1", f"{case}: full recompute", ours, "s", budget="<= 1 ms median",
                   ok=ours <= BUDGET_SECONDS,
                   note=f"{len(moves)} moves; p90 {np.percentile(times, 90) * 1e3:.2f} ms"))
    report.add(Row("1", f"{case}: vs scikit-learn re-score", ours, "s", baseline=med["total"],
                   baseline_name="sklearn", ratio=1 / speedup, ratio_label=f"{speedup:,.0f}x faster",
                   budget=">= 3000x faster", ok=speedup >= BUDGET_SPEEDUP and exact,
                   note=f"counts identical to scikit-learn's: {exact}; scikit-learn medians: "
                        f"threshold {med['decide']:.3f} s, confusion {med['counts']:.3f} s, "
                        f"precision_recall_fscore_support {med['rates']:.3f} s"))
    report.add(Row("1", f"{case}: vs cheapest single sklearn call", ours, "s", baseline=cheapest,
                   baseline_name="threshold + 1 call", ratio=ours / cheapest,
                   ratio_label=f"{cheapest / ours:,.0f}x faster", budget="(info)"))
    report.add(Row("1", f"{case}: counts_at alone", counts_only, "s", budget="(info)"))

    if task == "multilabel":
        t = moves[-1]

        def rows_metrics():
            return sample_based(predictions.labels, decide(predictions.probabilities, t, index.rule))

        seconds, _ = median_seconds(rows_metrics, max(1, size.repeats // 2))
        report.add(Row("1", f"{case}: subset accuracy + samples-F1 (need every row; off the "
                            "per-move path)", seconds, "s", budget="(info)"))


def _timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def run(report: Report, size: Size) -> None:
    run_case(report, "multilabel", size.multilabel_classes, size)
    run_case(report, "multiclass", size.multiclass_classes, size)
