"""The score histogram under each slider: rows per bin equal a plain count over the rows, and the
ranges it calls dead change no decision."""

import numpy as np
import pytest

from thresholdlab.curves import CurveIndex
from thresholdlab.decisions import DecisionRule, decide
from thresholdlab.score_histogram import score_histogram
from thresholdlab.synthetic import random_predictions


def brute_force(scores, truth, bins):
    """Rows per bin by a loop over the rows: [e_j, e_j+1), the last bin closed at 1."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    pos, neg = np.zeros(bins, dtype=np.int64), np.zeros(bins, dtype=np.int64)
    for s, t in zip(scores, truth):
        j = min(bins - 1, int(np.searchsorted(edges, s, side="right")) - 1)
        (pos if t else neg)[j] += 1
    return pos, neg


@pytest.mark.parametrize("task,decimals", [
    ("binary", None), ("binary", 1), ("multilabel", 2), ("multiclass", None), ("multiclass", 1),
])
def test_rows_per_bin_equal_a_count_over_the_candidate_rows(task, decimals):
    p = random_predictions(task, 400, 4, seed=3, decimals=decimals)
    index = CurveIndex.build(p)
    probabilities = p.probabilities
    for c in range(p.n_classes):
        if task == "multiclass":  # argmax: the rows whose top class is c
            rows = np.argmax(probabilities, axis=1) == c
            truth = p.labels[rows] == c
        else:
            rows = np.ones(p.n_rows, dtype=bool)
            truth = p.labels[:, c].astype(bool)
        hist = score_histogram(index.curve(c), bins=20)
        pos, neg = brute_force(probabilities[rows, c], truth, 20)
        np.testing.assert_array_equal(hist.positives, pos)
        np.testing.assert_array_equal(hist.negatives, neg)
        assert hist.positives.sum() + hist.negatives.sum() == rows.sum()


def test_scores_on_the_edges_fall_in_the_bin_they_open():
    from thresholdlab.predictions import from_arrays

    scores = np.array([0.0, 0.5, 0.5, 1.0, 0.25, 0.75])
    labels = np.array([1, 0, 1, 1, 0, 0])
    index = CurveIndex.build(from_arrays(scores, labels, task="binary"))
    hist = score_histogram(index.curve(0), bins=4)
    np.testing.assert_array_equal(hist.positives, [1, 0, 1, 1])
    np.testing.assert_array_equal(hist.negatives, [0, 1, 1, 1])
    assert (hist.lowest, hist.highest) == (0.0, 1.0)
    assert hist.dead_ranges == ()


@pytest.mark.parametrize("task", ["binary", "multilabel", "multiclass"])
def test_a_threshold_moved_inside_a_dead_range_changes_no_decision(task):
    p = random_predictions(task, 300, 3, seed=5, decimals=2)
    rule = DecisionRule.default(task)
    index = CurveIndex.build(p, rule)
    base = np.full(p.n_classes, 0.5)
    for c in range(p.n_classes):
        hist = score_histogram(index.curve(c))
        if task == "multiclass":
            # Under argmax the top class has at least 1/K: the lower dead end reaches it.
            assert hist.lowest is None or hist.lowest >= 1 / p.n_classes
        for lo, hi in hist.dead_ranges:
            inside = np.linspace(lo, hi, 7)
            if lo > 0:  # the upper range is open at the highest score
                inside = inside[1:]
            seen = set()
            for t in inside:
                thresholds = base.copy()
                thresholds[c] = t
                seen.add(decide(p.probabilities, thresholds, rule).tobytes())
            assert len(seen) == 1, (c, lo, hi)


def test_a_class_with_no_candidate_row_is_dead_everywhere():
    from thresholdlab.predictions import from_arrays

    # Class 2 is never the argmax: its threshold can predict nothing.
    scores = np.array([[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.5, 0.3, 0.2]])
    index = CurveIndex.build(from_arrays(scores, np.array([0, 1, 2]), task="multiclass"))
    hist = score_histogram(index.curve(2))
    assert hist.lowest is None and hist.dead_ranges == ((0.0, 1.0),)
    assert hist.positives.sum() == hist.negatives.sum() == 0


@pytest.mark.parametrize("decimals,dtype", [(None, np.float64), (1, np.float64), (2, np.float32)])
def test_the_histogram_counted_from_rows_equals_the_one_read_from_a_sorted_curve(decimals, dtype):
    """The strip under the multi-class rules that are not per class: every row is a candidate
    of every class, and counting the rows gives what the curve over every row gives."""
    from thresholdlab.curves import Curve
    from thresholdlab.metrics import binary_curve
    from thresholdlab.score_histogram import rows_histogram

    p = random_predictions("multiclass", 500, 4, seed=11, decimals=decimals)
    probabilities = p.probabilities.astype(dtype)
    probabilities[:6, 0] = [0.0, 0.25, 0.5, 0.75, 1.0, 0.5]  # on the edges of 4 and 20 bins
    for bins in (4, 20, 40):
        edges = np.linspace(0.0, 1.0, bins + 1)
        for c in range(p.n_classes):
            scores, truth = probabilities[:, c], p.labels == c
            got = rows_histogram(scores, truth, bins=bins)
            thresholds, tp, fp = binary_curve(truth, scores)
            curve = Curve(thresholds, tp, fp, int(truth.sum()), int((~truth).sum()))
            sorted_ = score_histogram(curve, bins=bins)
            np.testing.assert_array_equal(got.positives, sorted_.positives)
            np.testing.assert_array_equal(got.negatives, sorted_.negatives)
            assert (got.lowest, got.highest) == (sorted_.lowest, sorted_.highest)
            # and by the definition, bin j holding edges[j] <= s < edges[j + 1] (1 in the last)
            for j in range(bins):
                inside = (scores >= edges[j]) & ((scores < edges[j + 1]) | (j == bins - 1))
                assert got.positives[j] == np.count_nonzero(inside & truth)
                assert got.negatives[j] == np.count_nonzero(inside & ~truth)


def test_no_rows_no_histogram():
    from thresholdlab.score_histogram import rows_histogram

    hist = rows_histogram(np.zeros(0), np.zeros(0, dtype=bool), bins=5)
    assert hist.positives.sum() == hist.negatives.sum() == 0
    assert hist.lowest is None and hist.dead_ranges == ((0.0, 1.0),)
