"""A sketch's index, metrics and optimum: :class:`SketchIndex` stands where
:class:`~thresholdlab.curves.CurveIndex` does for rows in memory (see :mod:`thresholdlab.sketch`
for what a sketch keeps and how accurate it is; that module re-exports these names).

Rules on a sketch. Nothing is refused before thresholds are known: every rule of SPEC §3 is
counted by :meth:`SketchIndex.counts_at` wherever the sketch's counts decide it.

A sketch keeps each class's probabilities apart (per class, and for multi-class the top
class's), never a row's probabilities together. So:

- binary, multi-label ``threshold`` and multi-class ``argmax`` (abstaining or falling
  back): each class's decisions follow from its own probability and the top class's, at
  any thresholds;
- multi-class ``threshold_argmax``: a row's decision differs from ``argmax``'s only when
  its top class misses its threshold while a less probable class k passes t_k, that is
  ``t_k <= p_k <= p_top < t_top``. The sketch counts the rows where k passes without being
  the top class, and the rows whose top class c lies in ``[t_k, t_c)``; when for every pair
  (k, c) with ``t_k < t_c`` one of the two is zero, no row can differ and the counts are
  exactly ``argmax``'s (always so with one threshold for every class). Otherwise it refuses
  with the two numbers: whether a row is in both groups is a fact about one row's
  probabilities together, which the sketch does not keep;
- multi-label ``at_least_one``: a row with no label passing gets its top label, and how
  many rows have no label passing is not a function of the per-label counts (two rows
  with labels (0.9, 0.1) and (0.1, 0.9) and two with (0.9, 0.9) and (0.1, 0.1) give the
  same counts; at 0.5 the second pair has an empty row, the first none), nor is which
  label is a row's top. It is counted where no row can be empty (a label passed by every
  row) or where the rule ignores the thresholds (one label: every row gets it), else
  refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from thresholdlab.curves import Counts, Curve, CurveIndex
from thresholdlab.decisions import DecisionRule
from thresholdlab.metrics import RankingMetrics, average_precision, roc_auc
from thresholdlab.predictions import DataError, logit

if TYPE_CHECKING:  # annotations only: the sketch module imports this one
    from thresholdlab.sketch import Sketch


@dataclass(frozen=True, eq=False)
class SketchIndex:
    """A :class:`Sketch` behind the interface of :class:`~thresholdlab.curves.CurveIndex`.

    ``counts_at``, ``curve``, ``positives``, ``classes``, ``n_rows``, ``task``, ``rule`` and
    ``predictions`` (the sketch itself, which describes the data like a PredictionSet) work as
    there, so :func:`thresholdlab.metrics.evaluate` runs on it unchanged (pass the sketch's
    :func:`ranking_metrics` and ``sample_based_metrics=False``). Thresholds are snapped up to the
    next bin edge (:meth:`snap`); on edges every count is exact.
    """

    predictions: Sketch
    rule: DecisionRule
    positives: np.ndarray
    n_rows: int
    edges: np.ndarray = field(repr=False)  # float64 (B + 1,), read-only: the sketch's edges
    _tail_positive: np.ndarray = field(repr=False)  # (K, B + 2): rows with bin >= i
    _tail_negative: np.ndarray = field(repr=False)
    _tail_top: np.ndarray | None = field(repr=False, default=None)  # (K, B + 2, K)
    _tail_top_rows: np.ndarray | None = field(repr=False, default=None)  # (K, B + 2): over truth

    binned = True

    @classmethod
    def build(cls, sketch: Sketch, rule: DecisionRule | None = None) -> "SketchIndex":
        rule = rule or DecisionRule.default(sketch.task)
        if rule.task != sketch.task:
            raise ValueError(f"a {rule.task} decision rule cannot index {sketch.task} data")
        edges = sketch.edges  # built once here: every count and curve looks thresholds up in it
        edges.setflags(write=False)
        return cls(
            predictions=sketch,
            rule=rule,
            positives=sketch.positives,
            n_rows=sketch.n_rows,
            edges=edges,
            _tail_positive=_tails(sketch.positive),
            _tail_negative=_tails(sketch.negative),
            _tail_top=None if sketch.top is None else _tails(sketch.top),
            _tail_top_rows=None if sketch.top is None else _tails(sketch.top.sum(axis=2)),
        )

    # Both indexes describe their data through ``predictions``: the same properties serve.
    classes = CurveIndex.classes
    task = CurveIndex.task

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self._tail_positive, self._tail_negative, self._tail_top)
                   if a is not None)

    def edge_index(self, thresholds) -> np.ndarray:
        """int64 (K,): the smallest edge index i with ``edges[i] >= t`` (n_bins + 1 above 1)."""
        t = np.asarray(thresholds, dtype=np.float64).reshape(-1)
        return np.searchsorted(self.edges, t, side="left").astype(np.int64)

    def snap(self, thresholds) -> np.ndarray:
        """float64 (K,): each threshold moved up to the next bin edge (unchanged on an edge;
        thresholds above 1 stay as they are, predicting nothing)."""
        t = np.asarray(thresholds, dtype=np.float64).reshape(-1)
        i = self.edge_index(t)
        edges = self.edges
        return np.where(i < len(edges), edges[np.minimum(i, len(edges) - 1)], t)

    def counts_at(self, thresholds) -> Counts:
        """Counts at ``thresholds``: exact on edges, else those of the next edge up."""
        t = np.asarray(thresholds, dtype=np.float64).reshape(-1)
        k = len(self.classes)
        if t.shape != (k,):
            raise ValueError(f"expected {k} thresholds, got {t.shape[0]}")
        i = self.edge_index(t)
        rows = np.arange(k)
        n = self.n_rows
        if self.task == "multiclass":
            if self.rule.rule == "threshold_argmax":
                self._check_threshold_argmax(i)  # then it decides every row as argmax does
            if self.rule.no_prediction == "fallback_argmax":
                i = np.zeros(k, dtype=np.int64)  # every row gets its argmax, whatever passes
            by_predicted = self._tail_top[rows, i, :]  # [c, j]: true j predicted as c
            confusion = np.empty((k, k + 1), dtype=np.int64)
            confusion[:, :k] = by_predicted.T
            tp = np.diagonal(by_predicted).copy()
            fn = self.positives - tp
            fp = by_predicted.sum(axis=1) - tp
            confusion[:, k] = self.positives - by_predicted.sum(axis=0)
            tn = n - tp - fp - fn
            return Counts(t, tp, fp, fn, tn, n, confusion)
        tp = self._tail_positive[rows, i]
        fp = self._tail_negative[rows, i]
        if self.rule.no_prediction == "at_least_one":
            if k == 1:  # a row with no label passing gets the only label: every row has it
                tp, fp = self.positives.copy(), n - self.positives
            elif not np.any(tp + fp == n):  # else some label passes on every row: none is empty
                raise DataError(_AT_LEAST_ONE_REFUSED)
        fn = self.positives - tp
        tn = (n - self.positives) - fp
        return Counts(t, tp, fp, fn, tn, n)

    def _check_threshold_argmax(self, i: np.ndarray) -> None:
        """DataError unless no row can decide otherwise under ``threshold_argmax`` than under
        ``argmax`` at the edge indices ``i`` (see the module's docstring)."""
        k = len(i)
        rows = np.arange(k)
        passing = self._tail_positive[rows, i] + self._tail_negative[rows, i]
        top_rows = self._tail_top_rows
        not_top = passing - top_rows[rows, i]  # rows passing t_k whose top class is not k
        # between[k, c]: rows whose top class c has p_c in [t_k, t_c) (zero unless t_k < t_c).
        between = np.where(i[:, None] < i[None, :], top_rows[rows[None, :], i[:, None]]
                           - top_rows[rows, i][None, :], 0)
        clash = (not_top[:, None] > 0) & (between > 0)
        if not clash.any():
            return
        a, b = map(int, np.argwhere(clash)[0])
        names, edges = self.classes, self.edges
        t_a, t_b = (f"{edges[j]:.6g}" if j < len(edges) else "above 1" for j in (i[a], i[b]))
        raise DataError(
            f"A sketch cannot count the rule 'most probable class passing its threshold' at "
            f"these thresholds: {int(not_top[a]):,} rows pass class {names[a]!r}'s threshold "
            f"{t_a} without {names[a]!r} being their most probable class, and "
            f"{int(between[a, b]):,} rows whose most probable class {names[b]!r} misses its "
            f"threshold {t_b} have that probability at {t_a} or more; a row in both groups goes "
            f"to {names[a]!r}, but a sketch keeps each class's probabilities apart, not row by "
            f"row, so it cannot tell how many rows are in both (give {names[a]!r} a threshold "
            f"of at least {t_b}, use thresholds above 0.5 or one threshold for every class, or "
            "open the prediction file)."
        )

    def curve(self, c: int) -> Curve:
        """Counts of class ``c`` at each edge whose bin holds a candidate row, highest first.

        Like :meth:`CurveIndex.curve`: under ``argmax`` only rows whose argmax is ``c``.
        """
        positives = int(self.positives[c])
        negatives = self.n_rows - positives
        if self.task == "multiclass":
            tail = self._tail_top[c]  # (B + 2, K)
            tp_all = tail[:-1, c]
            all_rows = tail[:-1].sum(axis=1)
            occupied = self.predictions.top[c].sum(axis=1) > 0
        else:
            tp_all = self._tail_positive[c, :-1]
            all_rows = tp_all + self._tail_negative[c, :-1]
            s = self.predictions
            occupied = (s.positive[c] + s.negative[c]) > 0
        at = np.flatnonzero(occupied)[::-1]
        tp = tp_all[at].astype(np.int64)
        return Curve(self.edges[at], tp, all_rows[at] - tp, positives, negatives)

    _curve = curve

    def one_vs_rest_curve(self, c: int) -> Curve:
        """Class ``c``'s curve over every row (what AP and ROC AUC rank), highest edge first."""
        positives = int(self.positives[c])
        tp_all = self._tail_positive[c, :-1]
        fp_all = self._tail_negative[c, :-1]
        s = self.predictions
        at = np.flatnonzero((s.positive[c] + s.negative[c]) > 0)[::-1]
        return Curve(self.edges[at], tp_all[at], fp_all[at], positives, self.n_rows - positives)


_AT_LEAST_ONE_REFUSED = (
    "A sketch cannot count 'at least one label per row' at these thresholds: a row with no "
    "label passing gets its top label, but a sketch counts each label's probabilities apart, "
    "not row by row, so it knows neither how many rows have no label passing nor which label "
    "is their top (use the option 'none', give some label a threshold every row passes, or "
    "open the prediction file)."
)


def _tails(counts: np.ndarray) -> np.ndarray:
    """Counts at or above each bin along axis 1, with one zero column past the end (p > 1)."""
    shape = list(counts.shape)
    shape[1] += 1
    out = np.zeros(shape, dtype=np.int64)
    out[:, :-1] = np.flip(np.cumsum(np.flip(counts, axis=1), axis=1), axis=1)
    return out


def ranking_metrics(index: SketchIndex) -> RankingMetrics:
    """AP and ROC AUC of every class at bin resolution (scores rounded down to their bin's
    lower edge, ties within a bin), and prevalence."""
    k = len(index.classes)
    n = index.n_rows
    ap = np.full(k, np.nan)
    auc = np.full(k, np.nan)
    for c in range(k):
        curve = index.one_vs_rest_curve(c)
        ap[c] = average_precision(curve.tp, curve.fp, curve.positives)
        auc[c] = roc_auc(curve.tp, curve.fp, curve.positives, curve.negatives)
    return RankingMetrics(ap, auc, index.positives / n if n else np.zeros(k))


def evaluate(index: SketchIndex, thresholds, *, beta: float = 1.0, ranking=None):
    """:func:`thresholdlab.metrics.evaluate` on a sketch (every metric that follows from counts)."""
    from thresholdlab.metrics import evaluate as evaluate_counts

    return evaluate_counts(
        index, thresholds, beta=beta,
        ranking=ranking if ranking is not None else ranking_metrics(index),
        sample_based_metrics=False,
    )


# ---------------------------------------------------------------------------------- optimum
def optimise(index: SketchIndex, objective, *, mode: str = "per_class"):
    """Best thresholds for ``objective`` over every bin edge with a non-empty bin (SPEC §5 on a
    sketch); returns a :class:`thresholdlab.optimise.Optimum`.

    The candidates are the edges: an edge with a non-empty bin above it changes the decisions,
    exactly as a distinct score does in exact mode. The threshold returned is an edge, so its
    counts are exact: of the edges that give the chosen counts (from the chosen candidate down
    to the one just above the next non-empty bin), the middle one, for the widest margin. For a
    sigmoid task given logits, ``logit_thresholds`` is the logit of that edge.
    """
    from thresholdlab.optimise import _choose, _missed_sentences, _optimum

    objective, curves, chosen, lower, missed, missed_globally = _choose(index, objective, mode)
    k = len(index.classes)
    edges = index.edges
    if mode == "global":  # each class's top candidate, highest first: the single threshold's first
        tops = np.sort(np.concatenate([cv.thresholds[:1] for cv in curves]))[::-1]
    # Edge indices: the chosen candidate's edge (above every bin: the edge above the top
    # non-empty bin), and the first edge above the next lower candidate's bin.
    hi = np.empty(k, dtype=np.int64)
    for c in range(k):
        if np.isinf(chosen[c]):
            occupied = curves[c].thresholds if mode == "per_class" else tops
            hi[c] = np.searchsorted(edges, occupied[0]) + 1 if len(occupied) else len(edges) - 1
        else:
            hi[c] = np.searchsorted(edges, chosen[c])
    lo = np.where(np.isinf(lower), 0, np.searchsorted(edges, np.where(np.isinf(lower), 0, lower)) + 1)
    lo = np.minimum(lo, hi)
    pick = np.minimum((lo + hi + 1) // 2, len(edges) - 1)
    thresholds = edges[pick]
    infeasible = _missed_sentences(index, objective, missed, missed_globally, thresholds)
    logit_thresholds = logit(thresholds) if index.predictions.activation == "sigmoid" else None
    return _optimum(index, objective, mode, thresholds, logit_thresholds, infeasible)
