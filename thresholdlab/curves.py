"""The per-class curve index: sorted scores built once, counts at any thresholds by binary search.

One counting primitive sits under everything ThresholdLab shows. For every class the index keeps
its candidate scores sorted, so the number of rows at or above a threshold is one
``np.searchsorted``; TP, FP, FN and TN of every class, the multi-class confusion matrix, the PR
and ROC curves, the optimiser and the metrics all come from it, with the same ``score >= t`` rule
as :func:`thresholdlab.decisions.decide`.

Candidate rows (SPEC §3, §5): binary and multi-label, every row; multi-class under ``argmax``,
the rows whose argmax is the class, since no other row can ever be predicted as it.

Rules whose decisions for one class depend on other classes' thresholds (``threshold_argmax``,
``fallback_argmax``, multi-label ``at_least_one``) have no per-class index; for them
:meth:`CurveIndex.counts_at` decides every row (O(n K)) and counts, exactly, just not in
O(K log n).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from thresholdlab.decisions import NO_PREDICTION, DecisionRule, decide
from thresholdlab.predictions import PredictionSet


@dataclass(frozen=True)
class Counts:
    """Confusion counts of every class at one set of thresholds.

    Attributes
    ----------
    thresholds : ndarray of float64, shape (K,)
    tp, fp, fn, tn : ndarray of int64, shape (K,)
        One-vs-rest counts per class. ``tp + fn`` is the class's support.
    n_rows : int
    confusion : ndarray of int64, shape (K, K + 1), or None
        Multi-class only: rows are true classes, columns predicted classes, the last column
        "no prediction".
    """

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray
    n_rows: int
    confusion: np.ndarray | None = None

    @property
    def support(self) -> np.ndarray:
        return self.tp + self.fn

    @property
    def predicted(self) -> np.ndarray:
        return self.tp + self.fp

    @property
    def abstained(self) -> int:
        """Rows with no prediction (multi-class); 0 for other tasks."""
        return 0 if self.confusion is None else int(self.confusion[:, -1].sum())


@dataclass(frozen=True)
class Curve:
    """Counts of one class at each of its distinct candidate scores, highest first.

    Same shape as scikit-learn's ``confusion_matrix_at_thresholds``: ``tp[i]`` and ``fp[i]`` count
    rows with score >= ``thresholds[i]``; ``positives`` and ``negatives`` are the class's totals
    over all rows (under ``argmax`` some positives are never candidates, so ``tp[-1]`` may stay
    below ``positives``).
    """

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    positives: int
    negatives: int

    @property
    def precision(self) -> np.ndarray:
        predicted = self.tp + self.fp
        return np.divide(self.tp, predicted, out=np.zeros(len(self.tp)), where=predicted > 0)

    @property
    def recall(self) -> np.ndarray:
        if self.positives == 0:
            return np.zeros(len(self.tp))
        return self.tp / self.positives

    @property
    def fpr(self) -> np.ndarray:
        if self.negatives == 0:
            return np.zeros(len(self.fp))
        return self.fp / self.negatives


@dataclass(frozen=True, eq=False)
class _ClassIndex:
    """Sorted candidate scores of one class.

    Binary / multi-label: ``positive`` and ``negative`` hold the class's scores of rows that do
    and do not belong to it, each sorted ascending; counts at t are two binary searches.
    Multi-class: ``candidates`` holds the scores of rows whose argmax is the class, ascending;
    ``true_keys`` holds ``true_class * (n_c + 1) + rank`` sorted, so the number of rows of every
    true class at or above a rank is one vectorised binary search.
    """

    positive: np.ndarray | None = None
    negative: np.ndarray | None = None
    candidates: np.ndarray | None = None
    true_keys: np.ndarray | None = None
    true_totals: np.ndarray | None = None  # candidate rows per true class, shape (K,)


@dataclass(frozen=True, eq=False)
class CurveIndex:
    """Per-class sorted index of a :class:`PredictionSet` under one decision rule.

    Build with :meth:`CurveIndex.build`; query with :meth:`counts_at` (O(K log n) for per-class
    rules) and :meth:`curve`.
    """

    predictions: PredictionSet
    rule: DecisionRule
    positives: np.ndarray
    _classes: tuple = field(repr=False, default=())
    _curves: dict = field(repr=False, default_factory=dict)

    @classmethod
    def build(
        cls,
        predictions: PredictionSet,
        rule: DecisionRule | None = None,
        *,
        workers: int | None = None,
    ) -> "CurveIndex":
        """Sort every class's candidate scores once.

        The per-class sorts run on a thread pool: numpy releases the GIL while sorting.
        """
        rule = rule or DecisionRule.default(predictions.task)
        if rule.task != predictions.task:
            raise ValueError(f"a {rule.task} decision rule cannot index {predictions.task} data")
        probabilities = predictions.probabilities
        k = predictions.n_classes
        workers = workers or min(k, os.cpu_count() or 1)

        if predictions.task == "multiclass":
            top = np.argmax(probabilities, axis=1)
            labels = predictions.labels
            # int16 class ids let numpy's stable argsort use radix sort on the true classes.
            label_dtype = np.int16 if k < 2**15 else np.int64

            def one(c: int) -> _ClassIndex:
                rows = np.flatnonzero(top == c)
                scores = probabilities[rows, c]
                order = np.argsort(scores, kind="stable")
                true = labels[rows][order].astype(label_dtype)
                n_c = len(rows)
                by_class = np.argsort(true, kind="stable")
                keys = true[by_class].astype(np.int64) * (n_c + 1) + by_class
                return _ClassIndex(
                    candidates=scores[order],
                    true_keys=keys,
                    true_totals=np.bincount(true, minlength=k).astype(np.int64),
                )
        else:
            truth = predictions.labels

            def one(c: int) -> _ClassIndex:
                column = probabilities[:, c]
                is_positive = truth[:, c]
                return _ClassIndex(
                    positive=np.sort(column[is_positive]),
                    negative=np.sort(column[~is_positive]),
                )

        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                classes = tuple(pool.map(one, range(k)))
        else:
            classes = tuple(one(c) for c in range(k))
        return cls(
            predictions=predictions,
            rule=rule,
            positives=predictions.positives,
            _classes=classes,
        )

    # ------------------------------------------------------------------ queries
    @property
    def classes(self) -> tuple[str, ...]:
        return self.predictions.classes

    @property
    def n_rows(self) -> int:
        return self.predictions.n_rows

    @property
    def task(self) -> str:
        return self.predictions.task

    def counts_at(self, thresholds) -> Counts:
        """TP, FP, FN, TN of every class (and the multi-class confusion matrix) at ``thresholds``.

        Parameters
        ----------
        thresholds : array-like of float, shape (K,), or a float for every class

        O(K log n) for per-class rules, without touching the rows; O(n K) otherwise.
        """
        k = len(self.classes)
        t = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (k,)).copy()
        if not self.rule.per_class:
            return self._counts_by_deciding(t)
        n = self.n_rows
        if self.task == "multiclass":
            confusion = np.empty((k, k + 1), dtype=np.int64)
            for c, ix in enumerate(self._classes):
                n_c = len(ix.candidates)
                below = np.searchsorted(ix.candidates, t[c], side="left")
                starts = np.arange(k, dtype=np.int64) * (n_c + 1) + below
                not_above = np.searchsorted(ix.true_keys, starts, side="left")
                # keys of true class j start after every key of classes < j, so subtracting
                # the count of smaller classes' keys leaves true-j rows ranked below the cut.
                before_j = np.concatenate(([0], np.cumsum(ix.true_totals)[:-1]))
                confusion[:, c] = ix.true_totals - (not_above - before_j)
            confusion[:, k] = self.positives - confusion[:, :k].sum(axis=1)
            tp = np.diagonal(confusion).copy()
            fp = confusion[:, :k].sum(axis=0) - tp
            fn = self.positives - tp
            tn = n - tp - fp - fn
            return Counts(t, tp, fp, fn, tn, n, confusion)

        tp = np.empty(k, dtype=np.int64)
        fp = np.empty(k, dtype=np.int64)
        for c, ix in enumerate(self._classes):
            tp[c] = len(ix.positive) - np.searchsorted(ix.positive, t[c], side="left")
            fp[c] = len(ix.negative) - np.searchsorted(ix.negative, t[c], side="left")
        fn = self.positives - tp
        tn = (n - self.positives) - fp
        return Counts(t, tp, fp, fn, tn, n)

    def _counts_by_deciding(self, t: np.ndarray) -> Counts:
        decisions = decide(self.predictions.probabilities, t, self.rule)
        return counts_from_decisions(self.predictions, decisions, t)

    def curve(self, c: int) -> Curve:
        """Counts of class ``c`` at each distinct candidate score (cached per class).

        This is the curve moving ``t_c`` alone traces under a per-class rule. For binary and
        multi-label data it equals scikit-learn's ``confusion_matrix_at_thresholds`` on the
        class's column; under ``argmax`` it covers the rows whose argmax is ``c``.
        """
        cached = self._curves.get(c)
        if cached is not None:
            return cached
        ix = self._classes[c]
        positives = int(self.positives[c])
        negatives = self.n_rows - positives
        if self.task == "multiclass":
            scores = ix.candidates
            is_c = _true_class_mask(ix, c, len(scores))
        else:
            scores = np.concatenate((ix.positive, ix.negative))
            order = np.argsort(scores, kind="stable")
            scores = scores[order]
            is_c = order < len(ix.positive)
        # Walk from the highest score down, as scikit-learn does; keep the last row of each run
        # of equal scores so tied rows enter the counts together.
        scores = scores[::-1]
        tp_all = np.cumsum(is_c[::-1], dtype=np.int64)
        last_of_run = np.flatnonzero(np.diff(scores)) if len(scores) else np.empty(0, np.int64)
        ends = np.concatenate((last_of_run, [len(scores) - 1])) if len(scores) else last_of_run
        tp = tp_all[ends]
        fp = ends + 1 - tp
        result = Curve(scores[ends].copy(), tp, fp, positives, negatives)
        self._curves[c] = result
        return result


def _true_class_mask(ix: _ClassIndex, c: int, n_c: int) -> np.ndarray:
    """bool (n_c,) in ascending-score order: True where the candidate row truly is class ``c``."""
    lo = c * (n_c + 1)
    sel = (ix.true_keys >= lo) & (ix.true_keys < lo + n_c + 1)
    mask = np.zeros(n_c, dtype=bool)
    mask[ix.true_keys[sel] - lo] = True
    return mask


def counts_from_decisions(
    predictions: PredictionSet, decisions: np.ndarray, thresholds: np.ndarray
) -> Counts:
    """Counts by looking at every row's decision: the O(n K) reference for any rule."""
    k = predictions.n_classes
    n = predictions.n_rows
    positives = predictions.positives
    if predictions.task == "multiclass":
        predicted = np.where(decisions == NO_PREDICTION, k, decisions)
        confusion = np.bincount(
            predictions.labels * (k + 1) + predicted, minlength=k * (k + 1)
        ).reshape(k, k + 1).astype(np.int64)
        tp = np.diagonal(confusion).copy()
        fp = confusion[:, :k].sum(axis=0) - tp
        fn = positives - tp
        tn = n - tp - fp - fn
        return Counts(np.asarray(thresholds, dtype=np.float64), tp, fp, fn, tn, n, confusion)
    truth = predictions.labels
    tp = (decisions & truth).sum(axis=0).astype(np.int64)
    fp = (decisions & ~truth).sum(axis=0).astype(np.int64)
    fn = positives - tp
    tn = (n - positives) - fp
    return Counts(np.asarray(thresholds, dtype=np.float64), tp, fp, fn, tn, n)


def downsample(curve: Curve, max_points: int = 2000) -> Curve:
    """At most ``max_points`` of ``curve``'s points, for plotting.

    Points are kept on an even grid in both TP and FP (hence in recall and in FPR), plus the
    first and last, so PR and ROC shapes and the step-function AP survive the thinning.
    """
    n = len(curve.thresholds)
    if n <= max_points:
        return curve
    per_axis = max(2, (max_points - 2) // 2)
    keep = np.concatenate(
        (
            [0, n - 1],
            np.searchsorted(curve.tp, np.linspace(curve.tp[0], curve.tp[-1], per_axis)),
            np.searchsorted(curve.fp, np.linspace(curve.fp[0], curve.fp[-1], per_axis)),
        )
    )
    keep = np.unique(np.clip(keep, 0, n - 1))
    return Curve(curve.thresholds[keep], curve.tp[keep], curve.fp[keep], curve.positives,
                 curve.negatives)
