"""The optimum's own spread: the optimiser re-run on bootstrap resamples of the tuning rows (part
of held-out evaluation, see :mod:`thresholdlab.evaluation`, which re-exports these names)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresholdlab.bootstrap import (
    DEFAULT_SEED, DEFAULT_SPREAD_RESAMPLES, LEVEL, _pair, percentile_interval,
)
from thresholdlab.curves import CurveIndex
from thresholdlab.optimise import Objective, Optimum, _with_predict_nothing, optimise
from thresholdlab.predictions import DataError


# --------------------------------------------------------------------------- optimum spread
MAX_BINS = 1024
"""Candidate thresholds per class a resample is optimised over (all of them when fewer)."""


@dataclass(frozen=True, eq=False)
class OptimumSpread:
    """Where the optimum lands on bootstrap resamples of the tuning rows.

    Attributes
    ----------
    optimum : Optimum
        The optimum on the data itself.
    thresholds : ndarray of float64, shape (R, K)
        The optimal threshold of every class on every resample: the midpoint, in probability
        space, between the chosen candidate score and the next lower one. (For sigmoid data
        given logits the optimiser takes its midpoint on the logits, so ``optimum.thresholds``
        can sit a little apart from the same candidate's midpoint here.)
    band : ndarray (K, 2)
        Percentile interval of each class's optimal threshold.
    width : ndarray (K,)
        ``band[:, 1] - band[:, 0]``.
    exact : ndarray of bool (K,)
        True where every distinct candidate score was a candidate on the resamples (no binning).
    n_resamples, seed : int
    """

    optimum: Optimum
    thresholds: np.ndarray
    band: np.ndarray
    width: np.ndarray
    exact: np.ndarray
    n_resamples: int
    seed: int
    level: float = LEVEL

    def to_dict(self, classes) -> dict:
        return {
            "resamples": self.n_resamples,
            "seed": self.seed,
            "level": self.level,
            "per_class": {
                name: {
                    "threshold": float(self.optimum.thresholds[i]),
                    "band": _pair(self.band[i]),
                    "width": float(self.width[i]),
                    "exact": bool(self.exact[i]),
                }
                for i, name in enumerate(classes)
            },
        }


def _first_best(primary: np.ndarray, secondary: np.ndarray | None = None, feasible=None) -> np.ndarray:
    """Row-wise :func:`thresholdlab.optimise._best`: the first column maximising ``primary``
    within ``feasible``, ties broken by ``secondary`` (shape (R, m) -> (R,))."""
    p = primary if feasible is None else np.where(feasible, primary, -np.inf)
    if secondary is None:
        return np.argmax(p, axis=1)
    top = p == p.max(axis=1, keepdims=True)
    return np.argmax(np.where(top, secondary, -np.inf), axis=1)


def _pick_rows(objective: Objective, tp, fp, positives, negatives) -> np.ndarray:
    primary = objective.score(tp, fp, positives, negatives)
    if not objective.constrained:
        return _first_best(primary)
    feasible, secondary = objective.feasible_and_tiebreak(tp, fp, positives)
    chosen = _first_best(primary, secondary, feasible)
    none = ~feasible.any(axis=1)
    if none.any():
        chosen[none] = _first_best(secondary[none], primary[none])
    return chosen


def optimum_spread(
    index: CurveIndex,
    objective: Objective | str,
    *,
    n_resamples: int = DEFAULT_SPREAD_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = LEVEL,
    max_bins: int = MAX_BINS,
    optimum=None,
) -> OptimumSpread:
    """Re-optimise ``objective`` per class on bootstrap resamples of the rows of ``index``.

    A class's optimum depends only on its own counts at its candidate scores, so a row resample
    is, for that class, a multinomial draw over cells (candidate score x positive or negative,
    plus the class's positive and negative rows that are never candidates). Classes with more
    than ``max_bins`` distinct candidate scores are resampled over that many bins of equal
    candidate count, and optimised at the bin edges. ``optimum``, when the caller already has
    ``optimise(index, objective)``, is taken as it is instead of being found again.
    """
    if isinstance(objective, str):
        objective = Objective.parse(objective)
    if int(n_resamples) < 1:
        raise DataError(f"The number of bootstrap resamples must be at least 1; got {n_resamples}.")
    r = int(n_resamples)
    if optimum is None:
        optimum = optimise(index, objective)
    rng = np.random.default_rng(seed)
    k = len(index.classes)
    n = index.n_rows
    chosen = np.empty((r, k))
    exact = np.ones(k, dtype=bool)
    for c in range(k):
        curve = index.curve(c)
        candidates, tp, fp = _with_predict_nothing(curve.thresholds, curve.tp, curve.fp)
        m = len(candidates)
        if m > max_bins:
            exact[c] = False
            keep = np.unique(np.round(np.linspace(0, m - 1, max_bins)).astype(np.int64))
        else:
            keep = np.arange(m)
        below = np.append(candidates, -np.inf)[keep + 1]
        edges = candidates[keep]
        # Midpoint between a candidate and the next lower distinct score (0 below the lowest,
        # 1 above the top): the threshold that reproduces that candidate's decisions.
        top = np.where(np.isinf(edges), 1.0, edges)
        bottom = np.where(np.isinf(below), 0.0, below)
        midpoints = (top + bottom) / 2
        # Adjacent floats leave no room between them: the candidate itself keeps its decisions.
        crowded = ~((bottom < midpoints) & (midpoints <= top))
        midpoints[crowded] = top[crowded]
        kept_tp, kept_fp = tp[keep], fp[keep]
        positives, negatives = int(curve.positives), int(curve.negatives)
        cells = np.concatenate((
            np.diff(kept_tp, prepend=0),
            np.diff(kept_fp, prepend=0),
            [positives - kept_tp[-1], negatives - kept_fp[-1]],
        )).astype(np.float64)
        b = len(keep)
        if n == 0:
            chosen[:, c] = midpoints[0]
            continue
        draws = rng.multinomial(n, cells / n, size=r)
        tp_r = np.cumsum(draws[:, :b], axis=1)
        fp_r = np.cumsum(draws[:, b:2 * b], axis=1)
        pos_r = (tp_r[:, -1] + draws[:, 2 * b]).astype(np.float64)[:, None]
        i = _pick_rows(objective, tp_r, fp_r, pos_r, n - pos_r)
        chosen[:, c] = midpoints[i]
    band = percentile_interval(chosen, level)
    return OptimumSpread(
        optimum=optimum,
        thresholds=chosen,
        band=band,
        width=band[:, 1] - band[:, 0],
        exact=exact,
        n_resamples=r,
        seed=int(seed),
        level=level,
    )
