"""Reliability diagrams and expected calibration error (the dashboard's Calibration page).

A threshold is only as meaningful as the probability it cuts: "0.8" means 80% only when the
model is calibrated. A reliability diagram bins the predicted probabilities of one class and
compares each bin's mean prediction with the share of rows that truly belong to the class.

Binning follows ``sklearn.calibration.calibration_curve`` exactly (a score on a bin edge falls in
the lower bin; the first bin is closed at 0), so the non-empty bins here equal its output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresholdlab.predictions import PredictionSet

STRATEGIES = ("uniform", "quantile")


@dataclass(frozen=True)
class Reliability:
    """Binned calibration of one class's probabilities, one-vs-rest.

    Attributes
    ----------
    name : str
        Class name (or ``"top label"`` for multi-class confidence).
    edges : ndarray of float64, shape (n_bins + 1,)
        Bin edges in probability space, ascending, from 0 to 1 for ``uniform``.
    counts : ndarray of int64, shape (n_bins,)
        Rows in each bin.
    mean_predicted : ndarray of float64, shape (n_bins,)
        Mean predicted probability per bin; NaN for an empty bin.
    observed : ndarray of float64, shape (n_bins,)
        Share of the bin's rows that belong to the class; NaN for an empty bin.
    ece : float
        Expected calibration error: ``sum(counts / n * |observed - mean_predicted|)`` over
        non-empty bins. NaN when there are no rows.
    mce : float
        Maximum calibration error: the largest ``|observed - mean_predicted|`` of a non-empty bin.
    """

    name: str
    edges: np.ndarray
    counts: np.ndarray
    mean_predicted: np.ndarray
    observed: np.ndarray
    ece: float
    mce: float

    @property
    def nonempty(self) -> np.ndarray:
        """bool (n_bins,): bins holding at least one row."""
        return self.counts > 0

    @property
    def n_rows(self) -> int:
        return int(self.counts.sum())


def reliability(
    probabilities: np.ndarray,
    truth: np.ndarray,
    *,
    n_bins: int = 10,
    strategy: str = "uniform",
    name: str = "",
) -> Reliability:
    """Reliability diagram of one class.

    Parameters
    ----------
    probabilities : ndarray, shape (n,)
        Predicted probability of the class, in [0, 1].
    truth : ndarray of bool, shape (n,)
        True where the row belongs to the class.
    n_bins : int
        Number of bins (``uniform``: equal width; ``quantile``: equal counts, ties permitting).
    strategy : {"uniform", "quantile"}
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown binning strategy {strategy!r}; use one of {STRATEGIES}")
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    y = np.asarray(truth, dtype=bool).ravel()
    if strategy == "quantile" and len(p):
        # Percentiles spelled as sklearn spells them: linspace(0, 100, ...) rounds some of them
        # differently (16.666666666666668 against 16.666666666666664), which moves an edge
        # onto or off a score and that score into another bin.
        edges = np.percentile(p, np.linspace(0, 1, n_bins + 1) * 100)
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Inner edges with side="left": a score equal to an edge joins the lower bin, as sklearn.
    bin_ids = np.searchsorted(edges[1:-1], p)
    counts = np.bincount(bin_ids, minlength=n_bins).astype(np.int64)
    sums = np.bincount(bin_ids, weights=p, minlength=n_bins)
    hits = np.bincount(bin_ids, weights=y, minlength=n_bins)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_predicted = np.where(counts > 0, sums / counts, np.nan)
        observed = np.where(counts > 0, hits / counts, np.nan)
    n = counts.sum()
    gaps = np.abs(observed - mean_predicted)[counts > 0]
    ece = float((counts[counts > 0] / n * gaps).sum()) if n else float("nan")
    mce = float(gaps.max()) if n else float("nan")
    return Reliability(str(name), edges, counts, mean_predicted, observed, ece, mce)


def class_reliability(
    predictions: PredictionSet, c: int, *, n_bins: int = 10, strategy: str = "uniform"
) -> Reliability:
    """One-vs-rest reliability of class ``c`` over every row (its probability column)."""
    return reliability(
        predictions.probabilities[:, c],
        predictions.truth[:, c],
        n_bins=n_bins,
        strategy=strategy,
        name=predictions.classes[c],
    )


def confidence_reliability(
    predictions: PredictionSet, *, n_bins: int = 10, strategy: str = "uniform"
) -> Reliability:
    """Multi-class top-label calibration: the argmax probability against "the argmax is right".

    This is the ECE usually quoted for softmax networks (Guo et al., 2017).
    """
    if predictions.task != "multiclass":
        raise ValueError("top-label calibration applies to multi-class data only")
    p = predictions.probabilities
    top = np.argmax(p, axis=1)
    confidence = p[np.arange(len(top)), top]
    return reliability(
        confidence, top == predictions.labels, n_bins=n_bins, strategy=strategy, name="top label"
    )

