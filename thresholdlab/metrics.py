"""Metrics computed from counts, so a threshold change never touches the rows.

Every formula follows scikit-learn's definitions on the same decisions (``zero_division=0``):
per-class F-beta is ``(1 + b^2) tp / ((1 + b^2) tp + fp + b^2 fn)``, MCC is one-vs-rest, macro
averages are plain means over classes, micro sums the counts, weighted weighs by support.
Average precision and ROC AUC are threshold-free and follow ``average_precision_score`` and
``roc_auc_score`` exactly, ties included.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from thresholdlab.curves import Counts, CurveIndex
from thresholdlab.decisions import decide

WILSON_Z = 1.959963984540054
"""Normal quantile of 0.975: Wilson intervals are 95% two-sided."""


def _ratio(num: np.ndarray, den: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """num / den with 0 where den == 0, and the mask of those zero divisions."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    undefined = den == 0
    out = np.divide(num, den, out=np.zeros_like(num), where=~undefined)
    return out, undefined


def wilson_interval(successes: np.ndarray, trials: np.ndarray, z: float = WILSON_Z) -> np.ndarray:
    """Wilson score interval for a proportion, shape (..., 2); NaN where ``trials`` is 0."""
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z2 = z * z
    # With no trials, 0 / 0 is NaN and stays NaN through every step below (clipping included),
    # so the undefined case needs no mask of its own.
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1.0 + z2 / n
        centre = (p + z2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    out = np.empty(centre.shape + (2,))
    np.subtract(centre, half, out=out[..., 0])
    np.add(centre, half, out=out[..., 1])
    np.maximum(out, 0.0, out=out)
    np.minimum(out, 1.0, out=out)
    return out


@dataclass(frozen=True)
class ClassMetrics:
    """Per-class metrics at one set of thresholds; every array has shape (K,).

    ``precision_ci`` and ``recall_ci`` have shape (K, 2) (Wilson 95%, NaN when undefined).
    ``undefined`` maps a metric name to a bool (K,) mask of classes where it hit a zero division
    and is reported as 0.
    """

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    fbeta: np.ndarray
    beta: float
    specificity: np.ndarray
    fpr: np.ndarray
    mcc: np.ndarray
    precision_ci: np.ndarray
    recall_ci: np.ndarray
    undefined: dict = field(default_factory=dict)


def class_metrics(counts: Counts, beta: float = 1.0) -> ClassMetrics:
    # Every rate of every class in one (6, K) division: a slider move recomputes all of them,
    # and at K <= a few hundred the cost is numpy's per-call overhead, not arithmetic.
    # Counts are integers below 2**53, so float64 sums of them are exact, as in int64.
    k = len(counts.tp)
    tp, fp, fn, tn = np.array((counts.tp, counts.fp, counts.fn, counts.tn), dtype=np.float64)
    b2 = beta * beta
    num = np.empty((6, k))
    den = np.empty((6, k))
    num[0] = num[1] = tp
    np.multiply(tp, 2.0, out=num[2])
    np.multiply(tp, 1 + b2, out=num[3])
    num[4] = tn
    num[5] = fp
    predicted = np.add(tp, fp, out=den[0])
    support = np.add(tp, fn, out=den[1])
    den[2] = num[2] + fp + fn
    den[3] = num[3] + fp + b2 * fn
    negatives = np.add(tn, fp, out=den[4])
    den[5] = negatives
    undefined = den == 0
    rates = np.zeros((6, k))
    np.divide(num, den, out=rates, where=~undefined)
    precision, recall, f1, fbeta, specificity, fpr = rates
    mcc = _mcc_from(tp, fp, fn, tn, predicted, support, negatives)
    ci = wilson_interval(num[:2], den[:2])
    return ClassMetrics(
        precision=precision,
        recall=recall,
        f1=f1,
        fbeta=fbeta,
        beta=float(beta),
        specificity=specificity,
        fpr=fpr,
        mcc=mcc,
        precision_ci=ci[0],
        recall_ci=ci[1],
        undefined={
            "precision": undefined[0],
            "recall": undefined[1],
            "f1": undefined[2],
            "specificity": undefined[4],
        },
    )


def _mcc_from(tp, fp, fn, tn, predicted, support, negatives) -> np.ndarray:
    den = np.sqrt(predicted * support * negatives * (tn + fn))
    num = tp * tn - fp * fn
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


@dataclass(frozen=True)
class Aggregates:
    """Averages over classes and whole-row metrics; None where a value does not apply.

    macro, micro, weighted : dict with "precision", "recall", "f1"
    accuracy : multi-class (an abstained row counts as wrong) and binary share of right rows;
        multi-label subset accuracy (needs the rows; None when not computed)
    accuracy_covered, coverage : multi-class only
    hamming_loss : multi-label, from counts
    subset_accuracy, samples_f1 : multi-label, need the rows (O(n K)); None when not computed
    """

    macro: dict
    micro: dict
    weighted: dict
    accuracy: float | None = None
    accuracy_covered: float | None = None
    coverage: float | None = None
    hamming_loss: float | None = None
    subset_accuracy: float | None = None
    samples_f1: float | None = None


def _precision_recall_f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from summed counts (0 where undefined), for micro averages.

    Python ints, exact, and one IEEE division each as numpy's float64 would do.
    """
    return (tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0,
            2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0)


def aggregates(counts: Counts, per_class: ClassMetrics, task: str) -> Aggregates:
    """Every metric that follows from the counts alone (O(K)).

    Binary averages are over both classes, negative and positive, as scikit-learn's
    ``average="macro" | "micro" | "weighted"`` compute them for 0/1 labels (micro is then the
    accuracy); the positive class's own numbers are its per-class row.
    """
    if task == "binary":
        n = counts.n_rows
        macro, micro, weighted = _binary_averages(counts)
        accuracy = float((counts.tp[0] + counts.tn[0]) / n) if n else 0.0
        return Aggregates(macro, micro, weighted, accuracy=accuracy)
    names = ("precision", "recall", "f1")
    k = len(counts.tp)
    rates = np.array((per_class.precision, per_class.recall, per_class.f1))
    if k:
        macro = dict(zip(names, (np.add.reduce(rates, axis=1) / k).tolist()))
    else:
        macro = {name: float("nan") for name in names}
    tp, fp, fn = np.add.reduce(np.array((counts.tp, counts.fp, counts.fn)), axis=1).tolist()
    micro = dict(zip(names, _precision_recall_f1(tp, fp, fn)))
    total = tp + fn  # every class's support, summed
    if total > 0:
        # np.average(x, weights=support) for the three rates at once.
        support = (counts.tp + counts.fn).astype(np.float64)
        weighted = dict(zip(names, (np.add.reduce(rates * support, axis=1) / float(total)).tolist()))
    else:
        weighted = {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    n = counts.n_rows
    if task == "multiclass":
        correct = tp  # the confusion matrix's diagonal
        covered = n - counts.abstained
        return Aggregates(
            macro,
            micro,
            weighted,
            accuracy=correct / n if n else 0.0,
            accuracy_covered=correct / covered if covered else None,
            coverage=covered / n if n else 0.0,
        )
    return Aggregates(
        macro, micro, weighted, hamming_loss=float((fp + fn) / (n * k)) if n else 0.0
    )


def _binary_averages(counts: Counts) -> tuple[dict, dict, dict]:
    """(macro, micro, weighted) precision, recall and F1 over a binary task's negative and
    positive class, from its four counts alone.

    A slider move on a binary file needs only these three averages of the negative class, so
    they are worked out here with the operations the multi-class path would apply to a
    two-class table (one IEEE division per rate, a two-term sum, then the mean or the
    support-weighted mean), without building that table, its intervals and its MCC.
    """
    tp, fp, fn, tn = (int(counts.tp[0]), int(counts.fp[0]), int(counts.fn[0]),
                      int(counts.tn[0]))

    # The negative class's true positives are the positive class's true negatives, and its
    # false positives are the positive class's false negatives.
    negative, positive = _precision_recall_f1(tn, fn, fp), _precision_recall_f1(tp, fp, fn)
    names = ("precision", "recall", "f1")
    macro = {name: (a + b) / 2 for name, a, b in zip(names, negative, positive)}
    right, wrong = tp + tn, fp + fn  # micro: every row is a true positive of one class or not
    micro = dict(zip(names, _precision_recall_f1(right, wrong, wrong)))
    support_neg, support_pos, total = float(tn + fp), float(tp + fn), tp + fn + tn + fp
    if total > 0:
        weighted = {name: (a * support_neg + b * support_pos) / float(total)
                    for name, a, b in zip(names, negative, positive)}
    else:
        weighted = {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    return macro, micro, weighted


def sample_based(truth: np.ndarray, decisions: np.ndarray) -> dict:
    """Multi-label metrics that need every row: subset accuracy and samples-F1 (``zero_division=0``)."""
    exact = (decisions == truth).all(axis=1)
    both = (decisions & truth).sum(axis=1)
    sizes = decisions.sum(axis=1) + truth.sum(axis=1)
    per_row, empty = _ratio(2 * both, sizes)
    return {
        "subset_accuracy": float(exact.mean()),
        "samples_f1": float(per_row.mean()),
        "empty_rows": int(empty.sum()),
    }


@dataclass(frozen=True)
class RankingMetrics:
    """Threshold-free per-class metrics, arrays of shape (K,); NaN where undefined.

    average_precision : undefined when the class has no positives
    roc_auc : undefined when the class has no positives or no negatives
    prevalence : share of rows in the class
    """

    average_precision: np.ndarray
    roc_auc: np.ndarray
    prevalence: np.ndarray


def binary_curve(is_positive: np.ndarray, scores: np.ndarray):
    """(thresholds desc, tp, fp) at each distinct score, as scikit-learn's
    ``confusion_matrix_at_thresholds``."""
    order = np.argsort(scores, kind="stable")[::-1]
    s = scores[order]
    y = is_positive[order]
    ends = np.flatnonzero(np.append(np.diff(s) != 0, len(s) > 0))  # the last of each run
    tp = np.cumsum(y, dtype=np.int64)[ends]
    return s[ends], tp, ends + 1 - tp


def average_precision(tp: np.ndarray, fp: np.ndarray, positives: int) -> float:
    """Step-function AP from counts at descending thresholds, as ``average_precision_score``."""
    if positives == 0:
        return float("nan")
    predicted = tp + fp
    precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
    recall = tp / positives
    # scikit-learn reverses the curve and closes it at (recall 0, precision 1).
    precision = np.concatenate((precision[::-1], [1.0]))
    recall = np.concatenate((recall[::-1], [0.0]))
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def roc_points(tp: np.ndarray, fp: np.ndarray, positives: int, negatives: int):
    """(fpr, tpr) with scikit-learn's ``drop_intermediate`` and its (0, 0) start, or None when
    the class has no positives or no negatives."""
    if positives == 0 or negatives == 0:
        return None
    if len(fp) > 2:
        keep = np.concatenate(([True], np.diff(fp, 2) != 0, [True])) | np.concatenate(
            ([True], np.diff(tp, 2) != 0, [True])
        )
        tp, fp = tp[keep], fp[keep]
    fpr = np.concatenate(([0.0], fp / negatives))
    tpr = np.concatenate(([0.0], tp / positives))
    return fpr, tpr


def roc_auc(tp: np.ndarray, fp: np.ndarray, positives: int, negatives: int) -> float:
    points = roc_points(tp, fp, positives, negatives)
    if points is None:
        return float("nan")
    fpr, tpr = points
    return float(np.trapezoid(tpr, fpr))


def ranking_metrics(index: CurveIndex) -> RankingMetrics:
    """AP and ROC AUC of every class on its one-vs-rest scores over all rows.

    Binary and multi-label reuse the index's curves; multi-class curves under ``argmax`` cover
    only candidate rows, so the full column is ranked here once.
    """
    predictions = index.predictions
    k = predictions.n_classes
    n = predictions.n_rows
    ap = np.full(k, np.nan)
    auc = np.full(k, np.nan)
    for c in range(k):
        ap[c], auc[c] = class_ranking(index, c)
    return RankingMetrics(ap, auc, index.positives / n if n else np.zeros(k))


def class_ranking(index: CurveIndex, c: int) -> tuple[float, float]:
    """(AP, ROC AUC) of class ``c``, one row of :func:`ranking_metrics`; classes can be ranked
    apart (in parallel: the sort releases the GIL) and give the same numbers."""
    predictions = index.predictions
    positives = int(index.positives[c])
    if predictions.task == "multiclass":
        _, tp, fp = binary_curve(predictions.labels == c, predictions.probabilities[:, c])
    else:
        curve = index._curve(c)  # uncached: one pass over every class, a curve at a time
        tp, fp = curve.tp, curve.fp
    return (average_precision(tp, fp, positives),
            roc_auc(tp, fp, positives, predictions.n_rows - positives))


@dataclass(frozen=True)
class Report:
    """Every metric at one set of thresholds."""

    classes: tuple
    task: str
    counts: Counts
    per_class: ClassMetrics
    aggregates: Aggregates
    ranking: RankingMetrics
    warnings: tuple = ()

    def to_dict(self) -> dict:
        """The ``thresholdlab evaluate --json`` shape (null where a value does not apply or is undefined)."""
        per_class = {}
        m, c, r = self.per_class, self.counts, self.ranking
        for i, name in enumerate(self.classes):
            per_class[name] = {
                "threshold": float(c.thresholds[i]),
                "tp": int(c.tp[i]),
                "fp": int(c.fp[i]),
                "fn": int(c.fn[i]),
                "tn": int(c.tn[i]),
                "support": int(c.support[i]),
                "predicted": int(c.predicted[i]),
                "precision": float(m.precision[i]),
                "recall": float(m.recall[i]),
                "f1": float(m.f1[i]),
                "fbeta": float(m.fbeta[i]),
                "specificity": float(m.specificity[i]),
                "fpr": float(m.fpr[i]),
                "mcc": float(m.mcc[i]),
                "precision_ci": _interval(m.precision_ci[i]),
                "recall_ci": _interval(m.recall_ci[i]),
                "average_precision": _finite(r.average_precision[i]),
                "roc_auc": _finite(r.roc_auc[i]),
                "prevalence": float(r.prevalence[i]),
            }
        a = self.aggregates
        out = {
            "task": self.task,
            "classes": list(self.classes),
        }
        if self.task == "binary":
            # Its per_class entry (and the headline F1) is this class's; macro, micro and
            # weighted average it with the negative class, as scikit-learn does for 0/1 labels.
            out["positive_class"] = self.classes[0]
        out |= {
            "per_class": per_class,
            "macro": a.macro,
            "micro": a.micro,
            "weighted": a.weighted,
            "accuracy": a.accuracy,
            "accuracy_covered": a.accuracy_covered,
            "coverage": a.coverage,
            "beta": m.beta,
        }
        if self.task == "multilabel":
            out.update(
                hamming_loss=a.hamming_loss,
                subset_accuracy=a.subset_accuracy,
                samples_f1=a.samples_f1,
            )
        if self.task == "multiclass":
            out["confusion"] = {
                "true_by_predicted": c.confusion.tolist(),
                "columns": [*self.classes, "no prediction"],
            }
        out["warnings"] = list(self.warnings)
        return out


def _finite(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def _interval(pair: np.ndarray) -> list | None:
    return None if not np.isfinite(pair).all() else [float(pair[0]), float(pair[1])]


def zero_division_warnings(classes, counts: Counts, per_class: ClassMetrics) -> list[str]:
    """One sentence per class whose precision or recall hit a zero division (reported as 0)."""
    out = []
    flagged = per_class.undefined["recall"] | per_class.undefined["precision"]
    for i in np.flatnonzero(flagged):
        name = classes[i]
        if per_class.undefined["recall"][i]:
            out.append(f"Class '{name}' has no positive rows, so its recall is reported as 0.")
        if per_class.undefined["precision"][i]:
            out.append(
                f"Class '{name}' has no predicted rows at threshold "
                f"{counts.thresholds[i]:.6g}, so its precision is reported as 0."
            )
    return out


def evaluate(
    index: CurveIndex,
    thresholds,
    *,
    beta: float = 1.0,
    ranking: RankingMetrics | None = None,
    sample_based_metrics: bool = True,
) -> Report:
    """Counts, per-class metrics and aggregates at ``thresholds``.

    Pass ``ranking`` (from :func:`ranking_metrics`, computed once per data set) to keep a
    threshold change O(K log n); multi-label ``sample_based_metrics`` look at every row.
    """
    counts = index.counts_at(thresholds)
    per_class = class_metrics(counts, beta)
    agg = aggregates(counts, per_class, index.task)
    warnings = [*index.predictions.warnings, *zero_division_warnings(index.classes, counts, per_class)]
    if index.task == "multilabel" and sample_based_metrics:
        decisions = decide(index.predictions.probabilities, counts.thresholds, index.rule)
        rows = sample_based(index.predictions.labels, decisions)
        if rows["empty_rows"]:
            warnings.append(
                f"{rows['empty_rows']} of {index.n_rows} rows have no true and no predicted "
                "label; samples-F1 counts each as 0, as scikit-learn does with zero_division=0."
            )
        agg = Aggregates(
            agg.macro,
            agg.micro,
            agg.weighted,
            accuracy=rows["subset_accuracy"],
            hamming_loss=agg.hamming_loss,
            subset_accuracy=rows["subset_accuracy"],
            samples_f1=rows["samples_f1"],
        )
    if ranking is None:
        ranking = ranking_metrics(index)
    return Report(index.classes, index.task, counts, per_class, agg, ranking, tuple(warnings))
