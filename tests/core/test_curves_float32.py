"""The float32 storage of the curve index: same counts as float64 comparisons, bit for bit.

A class's sorted scores are stored in float32 only when every one of its probabilities is a
float32; a float64 threshold is then searched as the smallest float32 >= it. These tests put
thresholds exactly on, one float64 ulp either side of, and between float32 scores, where a
rounded (rather than ceiled) threshold would miscount.
"""

import numpy as np
import pytest

from thresholdlab.curves import CurveIndex, counts_from_decisions
from thresholdlab.decisions import NO_PREDICTION_OPTIONS, RULES, DecisionRule, decide
from thresholdlab.metrics import ranking_metrics
from thresholdlab.predictions import from_arrays
from thresholdlab.synthetic import synthetic_scores

ALL_RULES = [
    (task, rule, option)
    for task in RULES
    for rule in RULES[task]
    for option in NO_PREDICTION_OPTIONS[task]
]


def nasty_thresholds(p32: np.ndarray, rng, count=60):
    """Thresholds at float32 scores, one float64 ulp around them, and float32 midpoints."""
    values = np.unique(p32).astype(np.float64)
    pool = np.concatenate(
        (
            values,
            np.nextafter(values, np.inf),
            np.nextafter(values, -np.inf),
            (values[:-1] + values[1:]) / 2,
            [0.0, 1.0, -0.0, -1e-300, 1e-300, 1.5, 1e300],
        )
    )
    k = p32.shape[1]
    return [rng.choice(pool, size=k) for _ in range(count)]


@pytest.mark.parametrize("task,rule,option", ALL_RULES)
@pytest.mark.parametrize("decimals", [None, 2])
def test_float32_index_counts_equal_float64_decisions(task, rule, option, decimals):
    scores, labels = synthetic_scores(task, 3000, 4, seed=11, dtype=np.float32)
    if decimals is not None:
        scores = np.round(scores, decimals).astype(np.float32)  # heavy ties
    predictions = from_arrays(scores, labels, task=task)
    assert predictions.probabilities.dtype == np.float32
    as64 = from_arrays(scores.astype(np.float64), labels, task=task)
    assert as64.probabilities.dtype == np.float64
    decision_rule = DecisionRule(task, rule, option)
    index32 = CurveIndex.build(predictions, decision_rule)
    index64 = CurveIndex.build(as64, decision_rule)  # float64 holding float32 values: narrowed
    rng = np.random.default_rng(5)
    for t in nasty_thresholds(scores.reshape(len(scores), -1), rng):
        expected = counts_from_decisions(as64, decide(as64.probabilities, t, decision_rule), t)
        for index in (index32, index64):
            got = index.counts_at(t)
            for name in ("tp", "fp", "fn", "tn"):
                np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))
            if expected.confusion is not None:
                np.testing.assert_array_equal(got.confusion, expected.confusion)


@pytest.mark.parametrize("task", ["binary", "multilabel", "multiclass"])
def test_float32_curves_and_ranking_equal_float64(task):
    scores, labels = synthetic_scores(task, 5000, 3, seed=4, dtype=np.float32)
    a = CurveIndex.build(from_arrays(scores, labels, task=task))
    b = CurveIndex.build(from_arrays(scores.astype(np.float64), labels, task=task))
    for c in range(len(a.classes)):
        ca, cb = a.curve(c), b.curve(c)
        assert ca.thresholds.dtype == np.float64
        np.testing.assert_array_equal(ca.thresholds, cb.thresholds)
        np.testing.assert_array_equal(ca.tp, cb.tp)
        np.testing.assert_array_equal(ca.fp, cb.fp)
    ra, rb = ranking_metrics(a), ranking_metrics(b)
    np.testing.assert_array_equal(ra.average_precision, rb.average_precision)
    np.testing.assert_array_equal(ra.roc_auc, rb.roc_auc)


def test_text_decimals_stay_float64():
    # 0.1 parsed from text is no float32: narrowing it would move decisions at t in (0.1, 0.1f].
    scores = np.array([[0.1], [0.2], [0.7]] * 500)
    index = CurveIndex.build(from_arrays(scores, [0, 1, 1] * 500, task="binary"))
    assert index._classes[0].positive.dtype == np.float64
    t = float(np.float32(0.1))  # just above 0.1
    assert index.counts_at([t]).fp[0] == 0
    assert index.counts_at([0.1]).fp[0] == 500


def test_negative_zero_and_negative_scores_are_indexed():
    # -0.0 >= 0.0 holds; a user-forced "probability" column may even hold negatives.
    scores = np.array([[-0.0], [0.0], [-0.5], [0.25], [-0.0]], dtype=np.float32)
    labels = np.array([1, 0, 1, 0, 0])
    for dtype in (np.float32, np.float64):
        p = from_arrays(scores.astype(dtype), labels, task="binary", score_kind="probability")
        index = CurveIndex.build(p)
        for t in (-1.0, -0.5, -0.25, -0.0, 0.0, 1e-45, 0.25, 0.3):
            expected = counts_from_decisions(p, decide(p.probabilities, [t], index.rule), [t])
            got = index.counts_at([t])
            assert (got.tp[0], got.fp[0]) == (expected.tp[0], expected.fp[0]), (dtype, t)


def test_curve_cache_is_bounded(monkeypatch):
    scores, labels = synthetic_scores("multilabel", 2000, 20, seed=1)
    index = CurveIndex.build(from_arrays(scores, labels, task="multilabel"))
    one = index.curve(0)
    size = one.thresholds.nbytes + one.tp.nbytes + one.fp.nbytes
    monkeypatch.setattr(CurveIndex, "CURVE_CACHE_BYTES", int(size * 3.5))
    for c in range(20):
        index.curve(c)
    assert 1 <= len(index._curves) <= 4
    assert index.curve(19) is index.curve(19)
