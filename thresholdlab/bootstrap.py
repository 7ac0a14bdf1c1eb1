"""Bootstrap intervals for every metric at fixed thresholds (part of held-out evaluation, see
:mod:`thresholdlab.evaluation`, which re-exports these names).

At fixed thresholds each row falls into one confusion cell, so resampling the rows with
replacement is the same, in distribution, as drawing the cell counts from a multinomial with the
observed cell shares: no pass over the rows. Every random draw comes from
``numpy.random.default_rng(seed)``: the same seed gives the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresholdlab.curves import Counts
# _pair: an interval as JSON (None unless both ends are finite); spread and evaluation use it too.
from thresholdlab.metrics import _interval as _pair, _mcc_from, _ratio
from thresholdlab.predictions import DataError

LEVEL = 0.95
"""Two-sided confidence level of every interval here."""

DEFAULT_RESAMPLES = 1000
DEFAULT_SPREAD_RESAMPLES = 200
DEFAULT_SEED = 0


# ----------------------------------------------------------------------- bootstrap intervals
PER_CLASS_METRICS = ("precision", "recall", "f1", "specificity", "fpr", "mcc")


@dataclass(frozen=True, eq=False)
class BootstrapIntervals:
    """Percentile bootstrap intervals at fixed thresholds.

    Attributes
    ----------
    per_class : dict of str to ndarray (K, 2)
        ``precision``, ``recall``, ``f1``, ``specificity``, ``fpr``, ``mcc``: low and high ends.
    aggregate : dict of str to ndarray (2,)
        ``macro_f1``, ``macro_precision``, ``macro_recall``, ``micro_f1`` and ``accuracy``
        (multi-class, binary); empty for multi-label data (see the module docstring).
    n_resamples, seed : int
    level : float
    method : str
        One sentence on what was resampled.
    """

    per_class: dict
    aggregate: dict
    n_resamples: int
    seed: int
    level: float = LEVEL
    method: str = ""

    def to_dict(self, classes) -> dict:
        return {
            "resamples": self.n_resamples,
            "seed": self.seed,
            "level": self.level,
            "method": self.method,
            "per_class": {
                name: {m: _pair(ci[i]) for m, ci in self.per_class.items()}
                for i, name in enumerate(classes)
            },
            "aggregate": {m: _pair(ci) for m, ci in self.aggregate.items()},
        }


def cell_draws(counts: Counts, task: str, n_resamples: int, rng: np.random.Generator):
    """Bootstrap draws of the confusion counts, as a row resample would give them.

    Returns
    -------
    tp, fp, fn, tn : ndarray of float64, shape (R, K)
    """
    n = counts.n_rows
    k = len(counts.tp)
    r = int(n_resamples)
    if n == 0 or k == 0:
        zeros = np.zeros((r, k))
        return zeros, zeros, zeros, zeros
    if task == "multiclass":
        cells = counts.confusion.ravel().astype(np.float64)
        draws = rng.multinomial(n, cells / n, size=r).reshape(r, k, k + 1).astype(np.float64)
        tp = np.diagonal(draws[:, :, :k], axis1=1, axis2=2).copy()
        fp = draws[:, :, :k].sum(axis=1) - tp
        fn = draws.sum(axis=2) - tp
        tn = n - tp - fp - fn
        return tp, fp, fn, tn
    tp = np.empty((r, k))
    fp = np.empty((r, k))
    fn = np.empty((r, k))
    for c in range(k):
        cells = np.array((counts.tp[c], counts.fp[c], counts.fn[c], counts.tn[c]), dtype=np.float64)
        draws = rng.multinomial(n, cells / n, size=r)
        tp[:, c], fp[:, c], fn[:, c] = draws[:, 0], draws[:, 1], draws[:, 2]
    tn = n - tp - fp - fn
    return tp, fp, fn, tn


def rates(tp, fp, fn, tn) -> dict:
    """Per-class rates from counts of any shape (``zero_division=0``, as scikit-learn), by the
    formulas of :mod:`thresholdlab.metrics`."""
    tp, fp, fn, tn = (np.asarray(a, dtype=np.float64) for a in (tp, fp, fn, tn))
    predicted, support, negatives = tp + fp, tp + fn, tn + fp
    return {
        "precision": _ratio(tp, predicted)[0],
        "recall": _ratio(tp, support)[0],
        "f1": _ratio(2 * tp, 2 * tp + fp + fn)[0],
        "specificity": _ratio(tn, negatives)[0],
        "fpr": _ratio(fp, negatives)[0],
        "mcc": _mcc_from(tp, fp, fn, tn, predicted, support, negatives),
    }


def _aggregate_draws(task: str, tp, fp, fn, tn, per_class: dict) -> dict:
    if task == "multilabel":
        return {}
    if task == "binary":
        # Averages over the negative and the positive class, as the app's macro figures.
        negative = rates(tn, fn, fp, tp)
        both = {m: (per_class[m] + negative[m]) / 2 for m in ("precision", "recall", "f1")}
        n = tp + fp + fn + tn
        accuracy = ((tp + tn) / n)[:, 0]
        return {
            "macro_precision": both["precision"][:, 0],
            "macro_recall": both["recall"][:, 0],
            "macro_f1": both["f1"][:, 0],
            "micro_f1": accuracy,
            "accuracy": accuracy,
        }
    n = (tp + fp + fn + tn)[:, 0]
    stp, sfp, sfn = tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1)
    den = 2 * stp + sfp + sfn
    return {
        "macro_precision": per_class["precision"].mean(axis=1),
        "macro_recall": per_class["recall"].mean(axis=1),
        "macro_f1": per_class["f1"].mean(axis=1),
        "micro_f1": np.divide(2 * stp, den, out=np.zeros_like(den), where=den > 0),
        "accuracy": np.divide(stp, n, out=np.zeros_like(n), where=n > 0),
    }


def percentile_interval(draws: np.ndarray, level: float = LEVEL, axis: int = 0) -> np.ndarray:
    """Low and high percentiles of ``draws`` along ``axis``, moved to the last axis (..., 2)."""
    alpha = (1.0 - level) / 2
    q = np.quantile(draws, (alpha, 1.0 - alpha), axis=axis)
    return np.moveaxis(q, 0, -1)


def bootstrap_intervals(
    counts: Counts,
    task: str,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = LEVEL,
) -> BootstrapIntervals:
    """Percentile bootstrap intervals for every metric at the thresholds ``counts`` were taken at.

    Parameters
    ----------
    counts : Counts
        From :meth:`CurveIndex.counts_at` (multi-class needs its confusion matrix).
    task : {"binary", "multiclass", "multilabel"}
    n_resamples : int
    seed : int
    """
    if int(n_resamples) < 1:
        raise DataError(f"The number of bootstrap resamples must be at least 1; got {n_resamples}.")
    rng = np.random.default_rng(seed)
    tp, fp, fn, tn = cell_draws(counts, task, n_resamples, rng)
    per_class = rates(tp, fp, fn, tn)
    aggregate = _aggregate_draws(task, tp, fp, fn, tn, per_class)
    method = {
        "multiclass": "the confusion matrix's cells drawn from a multinomial (a row resample)",
        "binary": "the 2 x 2 table's cells drawn from a multinomial (a row resample)",
        "multilabel": "each label's 2 x 2 cells drawn from a multinomial on its own; "
                      "averages over labels get no interval",
    }[task]
    return BootstrapIntervals(
        per_class={m: percentile_interval(v, level) for m, v in per_class.items()},
        aggregate={m: percentile_interval(v, level) for m, v in aggregate.items()},
        n_resamples=int(n_resamples),
        seed=int(seed),
        level=level,
        method=f"{int(n_resamples):,} resamples, seed {seed}: {method}.",
    )
