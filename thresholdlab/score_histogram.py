"""Where one class's scores lie: a histogram of positives and negatives over [0, 1], read from
the class's curve, and the thresholds that change nothing.

The curve (:meth:`thresholdlab.curves.CurveIndex.curve`) already counts, at each distinct
candidate score, the positives and negatives at or above it; rows in a bin are the difference of
two such counts, so the histogram needs no pass over the rows. Moving the threshold anywhere at
or below the lowest candidate score passes every candidate row, and anywhere above the highest
passes none: those two ends of the slider change no decision. Under ``argmax`` the candidates of
a class are the rows whose argmax it is, so the lower dead end starts at 1/K or above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresholdlab.curves import Curve

BINS = 40


@dataclass(frozen=True)
class ScoreHistogram:
    """Rows of one class per score bin, positives and negatives apart.

    Attributes
    ----------
    edges : ndarray, shape (bins + 1,)
        Bin edges from 0 to 1; bin ``j`` holds scores in ``[edges[j], edges[j + 1])``, the last
        bin also scores equal to 1.
    positives, negatives : ndarray of int64, shape (bins,)
        Candidate rows of the class (true / not true) in each bin.
    lowest, highest : float or None
        The lowest and highest candidate scores; None when the class has no candidate row.
    """

    edges: np.ndarray
    positives: np.ndarray
    negatives: np.ndarray
    lowest: float | None
    highest: float | None

    @property
    def dead_ranges(self) -> tuple[tuple[float, float], ...]:
        """Ranges of thresholds in [0, 1] where a move changes no decision of this class:
        ``[0, lowest]`` (every candidate passes) and ``(highest, 1]`` (none does); the whole
        range when the class has no candidate row."""
        if self.lowest is None:
            return ((0.0, 1.0),)
        ranges = []
        if self.lowest > 0.0:
            ranges.append((0.0, min(1.0, self.lowest)))
        if self.highest < 1.0:
            ranges.append((max(0.0, self.highest), 1.0))
        return tuple(ranges)


def _at_or_above(ascending: np.ndarray, cumulative: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Rows with score >= each edge, from counts at ascending distinct scores."""
    first = np.searchsorted(ascending, edges, side="left")  # first score >= edge
    inside = first < len(ascending)
    out = np.zeros(len(edges), dtype=np.int64)
    out[inside] = cumulative[first[inside]]
    return out


def score_histogram(curve: Curve, bins: int = BINS) -> ScoreHistogram:
    """Histogram of a class's candidate scores over ``bins`` equal bins of [0, 1].

    Parameters
    ----------
    curve : Curve
        The class's counts at each distinct candidate score, highest first.
    bins : int
        Number of equal-width bins.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    ascending = np.asarray(curve.thresholds, dtype=np.float64)[::-1]
    counts = []
    for cumulative in (curve.tp, curve.fp):
        at = _at_or_above(ascending, np.asarray(cumulative, dtype=np.int64)[::-1], edges)
        per_bin = at[:-1] - at[1:]
        per_bin[-1] += at[-1]  # scores of exactly 1 close the last bin
        counts.append(per_bin)
    if len(ascending):
        lowest, highest = float(ascending[0]), float(ascending[-1])
    else:
        lowest = highest = None
    return ScoreHistogram(edges, counts[0], counts[1], lowest, highest)


def rows_histogram(scores: np.ndarray, positive: np.ndarray, bins: int = BINS) -> ScoreHistogram:
    """The same histogram straight from a class's scores (n,) in [0, 1] and whether each row
    is positive: one pass instead of the sort a curve over every row needs (a class's curve
    over every row, under the multi-class rules whose candidates are all rows)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    scores = np.asarray(scores)
    # The bin j with edges[j] <= score < edges[j + 1]; a score of 1 closes the last bin.
    where = np.clip(np.searchsorted(edges, scores, side="right") - 1, 0, bins - 1)
    positive = np.asarray(positive, dtype=bool)
    counts = [np.bincount(where[mask], minlength=bins).astype(np.int64)
              for mask in (positive, ~positive)]
    if len(scores):
        lowest, highest = float(scores.min()), float(scores.max())
    else:
        lowest = highest = None
    return ScoreHistogram(edges, counts[0], counts[1], lowest, highest)
