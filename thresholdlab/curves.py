"""The per-class curve index: sorted scores built once, counts at any thresholds by binary search.

One counting primitive sits under everything ThresholdLab shows. For every class the index keeps
its candidate scores sorted, so the number of rows at or above a threshold is one
``np.searchsorted``; TP, FP, FN and TN of every class, the multi-class confusion matrix, the PR
and ROC curves, the optimiser and the metrics all come from it, with the same ``score >= t`` rule
as :func:`thresholdlab.decisions.decide`.

Candidate rows: binary and multi-label, every row; multi-class under ``argmax``,
the rows whose argmax is the class, since no other row can ever be predicted as it.

Rules whose decisions for one class depend on other classes' thresholds (``threshold_argmax``,
``fallback_argmax``, multi-label ``at_least_one``) have no per-class index; for them
:meth:`CurveIndex.counts_at` decides every row (O(n K)) and counts, exactly, just not in
O(K log n).

Storage: a class's sorted scores are kept in float32 when every one of its probabilities is
exactly a float32 (float32 model outputs, Parquet/NPZ/``.pt`` float32 columns), else in float64.
Queries turn a float64 threshold t into the smallest float32 >= t; for a float32 score p,
``p >= t`` holds exactly when ``p >= that float32``, so the counts are those of the float64
comparison the data defines, bit for bit, at half the memory and with faster sorts.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
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

    @property
    def f1(self) -> np.ndarray:
        """2 TP / (2 TP + FP + FN) at each threshold, 0 where undefined (``zero_division=0``)."""
        tp = self.tp.astype(np.float64)
        den = 2 * tp + self.fp + (self.positives - tp)
        return np.divide(2 * tp, den, out=np.zeros_like(tp), where=den > 0)


_BLOCK = 8
"""Classes sorted together by one worker (8 float64 or float32 scores of a row share a cache
line's worth of memory traffic)."""


@dataclass(frozen=True, eq=False)
class _ClassIndex:
    """Sorted candidate scores of one class.

    Binary / multi-label: ``positive`` and ``negative`` hold the class's scores of rows that do
    and do not belong to it, each sorted ascending; counts at t are two binary searches.
    Multi-class: ``candidates`` holds the scores of rows whose argmax is the class, ascending;
    ``true_keys`` holds ``true_class * (n_c + 1) + rank`` sorted, so the number of rows of every
    true class at or above a rank is one vectorised binary search.

    Scores are float32 when that is exact for the class (see the module docstring), else float64.
    """

    positive: np.ndarray | None = None
    negative: np.ndarray | None = None
    candidates: np.ndarray | None = None
    true_keys: np.ndarray | None = None
    true_totals: np.ndarray | None = None  # candidate rows per true class, shape (K,)

    @property
    def scores_dtype(self) -> np.dtype:
        return (self.candidates if self.candidates is not None else self.positive).dtype


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
    _curves: OrderedDict = field(repr=False, default_factory=OrderedDict)
    _argmax: "_ArgmaxIndex | None" = field(repr=False, default=None)
    # The dashboard shares one index between every browser session (each on its own thread).
    _curves_lock: threading.Lock = field(repr=False, default_factory=threading.Lock)

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
        Binary / multi-label classes are sorted once each, positives and negatives together: the
        label rides in the sign bit of the score's bit pattern (see :func:`_split_sorted`).
        """
        rule = rule or DecisionRule.default(predictions.task)
        if rule.task != predictions.task:
            raise ValueError(f"a {rule.task} decision rule cannot index {predictions.task} data")
        probabilities = predictions.probabilities
        k = predictions.n_classes
        workers = workers or min(k, os.cpu_count() or 1)
        positives = predictions.positives

        if predictions.task == "multiclass":
            top = np.argmax(probabilities, axis=1)
            labels = predictions.labels
            # int16 class ids let numpy's stable argsort use radix sort on the true classes.
            label_dtype = np.int16 if k < 2**15 else np.int64

            def one_class(c: int) -> _ClassIndex:
                rows = np.flatnonzero(top == c)
                scores = _narrowed(probabilities[rows, c])
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

            def one(block: tuple[int, int]) -> list[_ClassIndex]:
                return [one_class(c) for c in range(*block)]

            jobs = [(c, c + 1) for c in range(k)]
        else:
            truth = predictions.labels

            def one(block: tuple[int, int]) -> list[_ClassIndex]:
                start, stop = block
                return [
                    _ClassIndex(positive=positive, negative=negative)
                    for negative, positive in _split_sorted(
                        probabilities[:, start:stop], truth[:, start:stop], positives[start:stop]
                    )
                ]

            # Classes go in blocks of columns: copying a block out of the row-major matrix reads
            # each cache line once, where one column at a time would read every line K times.
            jobs = [(c, min(c + _BLOCK, k)) for c in range(0, k, _BLOCK)]

        if workers > 1 and len(jobs) > 1:
            with ThreadPoolExecutor(min(workers, len(jobs))) as pool:
                classes = tuple(ix for done in pool.map(one, jobs) for ix in done)
        else:
            classes = tuple(ix for job in jobs for ix in one(job))
        return cls(
            predictions=predictions,
            rule=rule,
            positives=positives,
            _classes=classes,
            _argmax=_ArgmaxIndex.build(classes) if predictions.task == "multiclass" else None,
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

    @property
    def nbytes(self) -> int:
        """Bytes held by the sorted arrays (the index's own memory, not the PredictionSet's)."""
        arrays = [a for ix in self._classes
                  for a in (ix.positive, ix.negative, ix.candidates, ix.true_keys, ix.true_totals)]
        if self._argmax is not None:
            arrays += [self._argmax.keys, self._argmax.candidate_keys]
        buffers = {}
        for a in arrays:
            if a is not None:
                base = a if a.base is None else a.base
                buffers[id(base)] = base.nbytes
        return sum(buffers.values())

    def counts_at(self, thresholds) -> Counts:
        """TP, FP, FN, TN of every class (and the multi-class confusion matrix) at ``thresholds``.

        Parameters
        ----------
        thresholds : array-like of float, shape (K,), or a float for every class

        O(K log n) for per-class rules, without touching the rows; O(n K) otherwise.
        """
        k = len(self.classes)
        t = np.array(thresholds, dtype=np.float64)  # a copy: Counts keeps it
        if t.shape != (k,):
            t = np.broadcast_to(t, (k,)).copy()
        if not self.rule.per_class:
            return self._counts_by_deciding(t)
        n = self.n_rows
        if self.task == "multiclass":
            flat = self._argmax
            if flat.candidate_keys is not None:
                below = flat.candidates_below(t)
            else:
                keys = self._search_keys(t)
                below = np.array(
                    [np.searchsorted(ix.candidates, keys[c]) for c, ix in enumerate(self._classes)],
                    dtype=np.int64,
                )
            by_predicted = flat.predicted_by_true(below)  # [c, j]: true j predicted as c
            confusion = np.empty((k, k + 1), dtype=np.int64)
            confusion[:, :k] = by_predicted.T
            tp = np.diagonal(by_predicted).copy()
            fn = self.positives - tp
            fp = np.add.reduce(by_predicted, axis=1) - tp
            # Rows of class j neither predicted as j nor as another class were abstained on.
            confusion[:, k] = self.positives - np.add.reduce(by_predicted, axis=0)
            tn = n - tp - fp - fn
            return Counts(t, tp, fp, fn, tn, n, confusion)

        keys = self._search_keys(t)
        tp = np.empty(k, dtype=np.int64)
        fp = np.empty(k, dtype=np.int64)
        for c, ix in enumerate(self._classes):
            tp[c] = len(ix.positive) - np.searchsorted(ix.positive, keys[c], side="left")
            fp[c] = len(ix.negative) - np.searchsorted(ix.negative, keys[c], side="left")
        fn = self.positives - tp
        tn = (n - self.positives) - fp
        return Counts(t, tp, fp, fn, tn, n)

    def _search_keys(self, t: np.ndarray) -> list:
        """Per class, ``t[c]`` in the dtype of its sorted scores: searching a float32 array with
        a float64 key would copy the array to float64 (about 150 us per million rows)."""
        as32 = _ceil_float32(t)
        return [
            as32[c] if ix.scores_dtype == np.float32 else t[c] for c, ix in enumerate(self._classes)
        ]

    def _counts_by_deciding(self, t: np.ndarray) -> Counts:
        decisions = decide(self.predictions.probabilities, t, self.rule)
        return counts_from_decisions(self.predictions, decisions, t)

    CURVE_CACHE_BYTES = 32 * 1024**2
    """Memory for cached curves (least recently used dropped first; the latest curve is always
    kept). A curve costs 24 bytes per distinct score, about 24 MB per class at a million rows:
    caching every class of a wide data set would outgrow the data itself."""

    def curve(self, c: int) -> Curve:
        """Counts of class ``c`` at each distinct candidate score (recent classes cached).

        This is the curve moving ``t_c`` alone traces under a per-class rule. For binary and
        multi-label data it equals scikit-learn's ``confusion_matrix_at_thresholds`` on the
        class's column; under ``argmax`` it covers the rows whose argmax is ``c``.
        ``thresholds`` are float64 whatever the index stores.
        """
        with self._curves_lock:
            cached = self._curves.get(c)
            if cached is not None:
                self._curves.move_to_end(c)
                return cached
            # Make room before building: the new curve and the ones it will evict need not
            # all be held at once. 24 bytes per candidate row bound its size.
            self._evict(self.CURVE_CACHE_BYTES - 24 * self._candidate_rows(c), keep=0)
        result = self._curve(c)  # outside the lock: other sessions' cached curves stay quick
        with self._curves_lock:
            self._curves[c] = result
            self._curves.move_to_end(c)
            self._evict(self.CURVE_CACHE_BYTES, keep=1)
        return result

    def _evict(self, room: int, keep: int) -> None:
        """Drop least recently used curves until they fit in ``room`` bytes, keeping at least
        ``keep`` (the latest). Call with the lock held."""
        held = sum(_curve_bytes(v) for v in self._curves.values())
        while len(self._curves) > keep and held > room:
            _, dropped = self._curves.popitem(last=False)
            held -= _curve_bytes(dropped)

    def _candidate_rows(self, c: int) -> int:
        ix = self._classes[c]
        if ix.candidates is not None:
            return len(ix.candidates)
        return len(ix.positive) + len(ix.negative)

    def _curve(self, c: int) -> Curve:
        """:meth:`curve` without the cache (for one pass over every class, e.g. ranking)."""
        ix = self._classes[c]
        positives = int(self.positives[c])
        negatives = self.n_rows - positives
        if self.task == "multiclass":
            scores = ix.candidates
            is_c = _true_class_mask(ix, c, len(scores))
        else:
            scores, is_c = _merge_sorted(ix.negative, ix.positive)
        # Walk from the highest score down, as scikit-learn does; keep the last row of each run
        # of equal scores so tied rows enter the counts together. Temporaries are kept few and
        # narrow: at a million rows each int64 array is 8 MB, and this runs for every class.
        scores = scores[::-1]
        n = len(scores)
        run_ends = np.empty(n, dtype=bool)
        np.not_equal(scores[1:], scores[:-1], out=run_ends[:-1])
        run_ends[-1:] = True
        ends = np.flatnonzero(run_ends)
        del run_ends
        rank_dtype = np.int32 if n < 2**31 else np.int64
        tp = np.cumsum(is_c[::-1], dtype=rank_dtype)[ends].astype(np.int64)
        fp = ends + 1
        fp -= tp
        return Curve(scores[ends].astype(np.float64), tp, fp, positives, negatives)


def _curve_bytes(curve: Curve) -> int:
    return curve.thresholds.nbytes + curve.tp.nbytes + curve.fp.nbytes


def _narrowed(scores: np.ndarray) -> np.ndarray:
    """``scores`` as float32 when every value is exactly a float32, else as float64."""
    if _exactly_float32(scores):
        return scores.astype(np.float32, copy=False)
    return np.asarray(scores, dtype=np.float64)


def _ceil_float32(t: np.ndarray) -> np.ndarray:
    """The smallest float32 >= each float64 in ``t``: for any float32 p, ``p >= t`` exactly
    when ``p >= _ceil_float32(t)``."""
    with np.errstate(over="ignore"):
        out = t.astype(np.float32)
    # float32 against float64 compares exactly (numpy widens the float32 values losslessly).
    np.nextafter(out, np.float32(np.inf), out=out, where=out < t)
    return out


def _split_sorted(scores: np.ndarray, truth: np.ndarray, positives: np.ndarray):
    """[(negative, positive), ...] for a block of B classes: each class's scores of rows without
    and with the label, each sorted ascending, as two contiguous views of one row of a (B, n)
    buffer.

    ``scores`` (n, B) and ``truth`` (n, B) bool are column blocks of the data; ``positives``
    (B,) counts the True rows per column.

    For scores >= 0 (every probability), the IEEE bit pattern read as an unsigned integer sorts
    like the number, and its sign bit is free: the label goes there, one integer sort puts the
    negatives first and the positives after, each in score order, and clearing the bit gives the
    positives' scores back. -0.0 is stored as +0.0 (equal under every ``>=``). A column with
    negative scores (only when the user insists they are probabilities) takes two masked sorts.
    """
    n, width = scores.shape
    dtype = np.float32 if _exactly_float32(scores) else np.float64
    uint = np.uint32 if dtype == np.float32 else np.uint64
    sign = np.dtype(uint).itemsize * 8 - 1
    clear = uint((1 << sign) - 1)
    values = np.array(scores.T, dtype=dtype, order="C")  # (B, n); the one pass over the block
    labels = np.ascontiguousarray(truth.T)
    out = []
    for i in range(width):
        row, is_positive = values[i], labels[i]
        row += 0.0  # -0.0 -> +0.0
        if n and row.min() < 0:
            out.append((np.sort(row[~is_positive]), np.sort(row[is_positive])))
            continue
        bits = row.view(uint)
        bits |= np.left_shift(is_positive, sign, dtype=uint)
        bits.sort()
        n_negative = n - int(positives[i])
        bits[n_negative:] &= clear
        out.append((row[:n_negative], row[n_negative:]))
    return out


def _exactly_float32(scores: np.ndarray) -> bool:
    """True when every score is a float32 (float32 storage of them is then exact)."""
    if scores.dtype == np.float32:
        return True
    head = scores[:1024]  # text-parsed decimals fail here at once, without a full pass
    if not np.array_equal(head.astype(np.float32), head):
        return False
    return bool(np.array_equal(scores.astype(np.float32), scores))


def _merge_sorted(negative: np.ndarray, positive: np.ndarray):
    """(scores, is_positive): the two sorted arrays merged into one ascending array."""
    n = len(negative) + len(positive)
    # Each positive lands after the negatives below or equal to it; tied rows form one run
    # either way, so their order inside it does not matter.
    at = np.searchsorted(negative, positive, side="right") + np.arange(len(positive))
    is_positive = np.zeros(n, dtype=bool)
    is_positive[at] = True
    scores = np.empty(n, dtype=np.result_type(negative, positive))
    scores[at] = positive
    scores[~is_positive] = negative
    return scores, is_positive


@dataclass(frozen=True, eq=False)
class _ArgmaxIndex:
    """Every class's multi-class index in flat arrays, so a query for all K thresholds is two
    vectorised binary searches instead of a Python loop over the classes.

    ``keys`` concatenates the classes' ``true_keys``, each shifted by ``offsets[c]`` so the
    whole array stays sorted; ``segments[c]`` is where class c's keys start in it (and, as
    every candidate row has one key, where its candidates start in ``candidate_keys``).
    ``totals[c, j]`` counts class c's candidate rows of true class j, ``before[c, j]`` those of
    true classes below j. ``candidate_keys`` holds ``c << 32 | bits(score)`` for float32
    scores >= 0 (an unsigned 32-bit float pattern sorts like the number), else None.
    """

    keys: np.ndarray
    offsets: np.ndarray
    sizes: np.ndarray
    segments: np.ndarray
    totals: np.ndarray
    before: np.ndarray
    candidate_keys: np.ndarray | None
    key_starts: np.ndarray  # (K, K): offsets[c] + j * (sizes[c] + 1), the first key of [c, j]
    class_bits: np.ndarray  # (K,) uint64: c << 32

    @classmethod
    def build(cls, classes: tuple) -> "_ArgmaxIndex":
        k = len(classes)
        sizes = np.array([len(ix.candidates) for ix in classes], dtype=np.int64)
        segments = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        span = k * (sizes + 1)  # a class's keys lie in [0, k * (n_c + 1))
        offsets = np.concatenate(([0], np.cumsum(span)[:-1])).astype(np.int64)
        keys = np.concatenate(
            [ix.true_keys + off for ix, off in zip(classes, offsets)] or [np.empty(0, np.int64)]
        )
        totals = np.stack([ix.true_totals for ix in classes]) if k else np.zeros((0, 0), np.int64)
        before = np.cumsum(totals, axis=1) - totals
        candidate_keys = None
        if all(ix.candidates.dtype == np.float32 for ix in classes) and all(
            not len(ix.candidates) or ix.candidates[0] >= 0 for ix in classes
        ):
            candidate_keys = np.concatenate(
                [
                    (np.uint64(c) << np.uint64(32))
                    | (ix.candidates + np.float32(0.0)).view(np.uint32).astype(np.uint64)
                    for c, ix in enumerate(classes)
                ]
                or [np.empty(0, np.uint64)]
            )
        key_starts = offsets[:, None] + np.arange(k, dtype=np.int64)[None, :] * (sizes[:, None] + 1)
        class_bits = np.arange(k, dtype=np.uint64) << np.uint64(32)
        return cls(keys, offsets, sizes, segments, totals, before, candidate_keys, key_starts,
                   class_bits)

    def candidates_below(self, t: np.ndarray) -> np.ndarray:
        """int64 (K,): class c's candidates with score < t[c] (float32 scores >= 0 only)."""
        # Every score is >= +0.0, so a threshold <= 0 passes them all: search from +0.0.
        # _ceil_float32 keeps the comparison exact; "+ 0" turns -0.0 into +0.0.
        cut = _ceil_float32(np.maximum(t, 0.0)) + np.float32(0.0)
        query = self.class_bits | cut.view(np.uint32)
        return np.searchsorted(self.candidate_keys, query, side="left") - self.segments

    def predicted_by_true(self, below: np.ndarray) -> np.ndarray:
        """int64 (K, K) ``[c, j]``: rows of true class j predicted as c, given each class's
        count of candidates below its threshold."""
        k = len(below)
        starts = self.key_starts + below[:, None]
        not_above = np.searchsorted(self.keys, starts.ravel(), side="left").reshape(k, k)
        # Keys of true class j start after every key of classes < j, so subtracting those
        # leaves class c's true-j rows ranked below the cut.
        return self.totals - (not_above - self.segments[:, None] - self.before)


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

    Points are kept on an even grid in both TP and FP (hence in recall and in FPR), on a
    geometric grid in TP (dense at the top of the ranking, where precision swings most), plus
    the first and last, so PR and ROC shapes and the step-function AP survive the thinning.
    """
    n = len(curve.thresholds)
    if n <= max_points:
        return curve
    per_grid = max(2, (max_points - 2) // 3)
    tp, fp = curve.tp, curve.fp
    first_tp = max(int(tp[0]), 1)
    top_tp = max(int(tp[-1]), first_tp)
    keep = np.concatenate(
        (
            [0, n - 1],
            np.searchsorted(tp, np.linspace(tp[0], tp[-1], per_grid)),
            np.searchsorted(tp, np.geomspace(first_tp, top_tp, per_grid)),
            np.searchsorted(fp, np.linspace(fp[0], fp[-1], per_grid)),
        )
    )
    keep = np.unique(np.clip(keep, 0, n - 1))
    return Curve(curve.thresholds[keep], tp[keep], fp[keep], curve.positives, curve.negatives)
