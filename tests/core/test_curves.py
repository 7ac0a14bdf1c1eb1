"""The curve index against row-by-row decisions and scikit-learn's curves."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix_at_thresholds

from thresholdlab.curves import CurveIndex, counts_from_decisions, downsample
from thresholdlab.decisions import NO_PREDICTION_OPTIONS, RULES, DecisionRule, decide
from thresholdlab.metrics import average_precision
from thresholdlab.predictions import from_arrays
from thresholdlab.synthetic import random_predictions

ALL_RULES = [
    (task, rule, option)
    for task in RULES
    for rule in RULES[task]
    for option in NO_PREDICTION_OPTIONS[task]
]


def probe_thresholds(predictions, rng, count=40):
    """Thresholds at, between and beyond the scores: every kind of edge the index must get right."""
    p = predictions.probabilities
    k = p.shape[1]
    distinct = np.unique(p)
    between = (distinct[:-1] + distinct[1:]) / 2
    pool = np.concatenate((distinct, between, [0.0, 1.0, -0.5, 1.5, np.nextafter(1.0, 2.0)]))
    return [rng.choice(pool, size=k) for _ in range(count)] + [np.full(k, v) for v in (0.0, 1.0)]


def assert_same_counts(a, b):
    for name in ("tp", "fp", "fn", "tn"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    if a.confusion is not None or b.confusion is not None:
        np.testing.assert_array_equal(a.confusion, b.confusion)


@pytest.mark.parametrize("task,rule,option", ALL_RULES)
@pytest.mark.parametrize("decimals", [None, 2, 1])
def test_counts_equal_row_by_row_decisions(task, rule, option, decimals):
    predictions = random_predictions(task, 400, 4, seed=7, decimals=decimals)
    decision_rule = DecisionRule(task, rule, option)
    index = CurveIndex.build(predictions, decision_rule)
    rng = np.random.default_rng(1)
    for t in probe_thresholds(predictions, rng):
        expected = counts_from_decisions(
            predictions, decide(predictions.probabilities, t, decision_rule), t
        )
        assert_same_counts(index.counts_at(t), expected)


def test_counts_agree_with_sklearn_confusion_matrices():
    from sklearn.metrics import confusion_matrix, multilabel_confusion_matrix

    mc = random_predictions("multiclass", 500, 5, seed=3, decimals=2)
    index = CurveIndex.build(mc)
    t = np.array([0.3, 0.5, 0.25, 0.6, 0.41])
    decisions = decide(mc.probabilities, t, index.rule)
    counts = index.counts_at(t)
    # "no prediction" is class K for scikit-learn: the last column of our matrix.
    expected = confusion_matrix(mc.labels, np.where(decisions < 0, 5, decisions), labels=range(6))
    np.testing.assert_array_equal(counts.confusion, expected[:5])
    per_class = multilabel_confusion_matrix(mc.labels, decisions, labels=range(5))
    np.testing.assert_array_equal(per_class[:, 1, 1], counts.tp)
    np.testing.assert_array_equal(per_class[:, 0, 1], counts.fp)
    np.testing.assert_array_equal(per_class[:, 1, 0], counts.fn)
    np.testing.assert_array_equal(per_class[:, 0, 0], counts.tn)

    ml = random_predictions("multilabel", 300, 6, seed=4, decimals=1)
    index = CurveIndex.build(ml)
    t = np.linspace(0.2, 0.8, 6)
    counts = index.counts_at(t)
    per_class = multilabel_confusion_matrix(ml.labels, decide(ml.probabilities, t, index.rule))
    np.testing.assert_array_equal(per_class[:, 1, 1], counts.tp)
    np.testing.assert_array_equal(per_class[:, 0, 0], counts.tn)


@pytest.mark.parametrize("task", ["binary", "multilabel"])
@pytest.mark.parametrize("decimals", [None, 2])
def test_curve_is_sklearns_confusion_matrix_at_thresholds(task, decimals):
    predictions = random_predictions(task, 600, 3, seed=11, decimals=decimals)
    index = CurveIndex.build(predictions)
    for c in range(predictions.n_classes):
        tns, fps, fns, tps, thresholds = confusion_matrix_at_thresholds(
            predictions.truth[:, c], predictions.probabilities[:, c]
        )
        curve = index.curve(c)
        np.testing.assert_array_equal(curve.thresholds, thresholds)
        np.testing.assert_array_equal(curve.tp, tps)
        np.testing.assert_array_equal(curve.fp, fps)


def test_argmax_curve_is_what_moving_one_threshold_traces():
    predictions = random_predictions("multiclass", 300, 4, seed=5, decimals=2)
    index = CurveIndex.build(predictions)
    for c in range(4):
        curve = index.curve(c)
        top = np.argmax(predictions.probabilities, axis=1)
        assert set(curve.thresholds) == set(predictions.probabilities[top == c, c])
        for i, threshold in enumerate(curve.thresholds):
            t = np.full(4, 2.0)
            t[c] = threshold
            counts = counts_from_decisions(
                predictions, decide(predictions.probabilities, t, index.rule), t
            )
            assert (counts.tp[c], counts.fp[c]) == (curve.tp[i], curve.fp[i])


def test_argmax_ties_go_to_the_lowest_class():
    # Rows 0 and 1 tie between classes 0 and 1; numpy's argmax (and so the index) picks class 0.
    scores = np.array([[0.4, 0.4, 0.2], [0.45, 0.45, 0.1], [0.1, 0.2, 0.7]])
    predictions = from_arrays(scores, [1, 0, 2], task="multiclass")
    counts = CurveIndex.build(predictions).counts_at([0.3, 0.3, 0.3])
    np.testing.assert_array_equal(counts.confusion, [[1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0]])


def test_hand_counted_ties():
    # Three rows tie at 0.5: a threshold at 0.5 takes all three, just above it none.
    predictions = from_arrays([0.9, 0.5, 0.5, 0.5, 0.1], [1, 1, 0, 0, 1], task="binary")
    index = CurveIndex.build(predictions)
    at = index.counts_at(0.5)
    above = index.counts_at(np.nextafter(0.5, 1))
    assert (at.tp[0], at.fp[0], at.fn[0], at.tn[0]) == (2, 2, 1, 0)
    assert (above.tp[0], above.fp[0], above.fn[0], above.tn[0]) == (1, 0, 2, 2)
    curve = index.curve(0)
    np.testing.assert_array_equal(curve.thresholds, [0.9, 0.5, 0.1])
    np.testing.assert_array_equal(curve.tp, [1, 2, 3])
    np.testing.assert_array_equal(curve.fp, [0, 2, 2])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 60),
    decimals=st.sampled_from([None, 1, 2]),
    task=st.sampled_from(["binary", "multiclass", "multilabel"]),
    data=st.data(),
)
def test_property_index_matches_decisions_at_any_threshold(seed, n, decimals, task, data):
    predictions = random_predictions(task, n, 3, seed=seed, decimals=decimals)
    index = CurveIndex.build(predictions)
    k = predictions.n_classes
    scores = list(np.unique(predictions.probabilities))
    value = st.one_of(
        st.sampled_from(scores),
        st.floats(-0.5, 1.5, allow_nan=False),
        st.sampled_from(scores).map(lambda s: float(np.nextafter(s, 2.0))),
        st.sampled_from(scores).map(lambda s: float(np.nextafter(s, -1.0))),
    )
    t = np.array(data.draw(st.lists(value, min_size=k, max_size=k)))
    expected = counts_from_decisions(predictions, decide(predictions.probabilities, t, index.rule), t)
    assert_same_counts(index.counts_at(t), expected)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), decimals=st.sampled_from([None, 1, 2]))
def test_property_recall_never_rises_with_the_threshold(seed, decimals):
    predictions = random_predictions("multilabel", 80, 2, seed=seed, decimals=decimals)
    index = CurveIndex.build(predictions)
    grid = np.linspace(-0.1, 1.1, 50)
    tp = np.array([index.counts_at([t, t]).tp for t in grid])
    assert (np.diff(tp, axis=0) <= 0).all()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), times=st.integers(2, 4),
       task=st.sampled_from(["binary", "multiclass", "multilabel"]))
def test_property_duplicating_rows_changes_no_rate(seed, times, task):
    from thresholdlab.metrics import class_metrics

    base = random_predictions(task, 50, 3, seed=seed, decimals=2)
    tiled = from_arrays(
        np.tile(base.scores, (times, 1)),
        np.tile(base.labels, (times,) + (1,) * (base.labels.ndim - 1)),
        task=task,
    )
    t = np.full(base.n_classes, 0.4)
    a = class_metrics(CurveIndex.build(base).counts_at(t))
    b = class_metrics(CurveIndex.build(tiled).counts_at(t))
    for name in ("precision", "recall", "f1", "specificity", "fpr"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=1e-12)


def test_degenerate_classes_are_indexed_not_dropped():
    # Class 1 never occurs; every row is class 0.
    predictions = from_arrays([[0.8, 0.2], [0.6, 0.4], [0.3, 0.7]], [0, 0, 0], task="multiclass")
    counts = CurveIndex.build(predictions).counts_at([0.5, 0.5])
    np.testing.assert_array_equal(counts.tp, [2, 0])
    np.testing.assert_array_equal(counts.fp, [0, 1])
    np.testing.assert_array_equal(counts.support, [3, 0])
    empty = from_arrays(np.zeros((0, 2)), np.zeros((0, 2)), task="multilabel")
    np.testing.assert_array_equal(CurveIndex.build(empty).counts_at([0.5, 0.5]).tp, [0, 0])


def test_downsample_keeps_at_most_the_budget_and_the_average_precision():
    predictions = random_predictions("binary", 200_000, seed=2)
    index = CurveIndex.build(predictions)
    curve = index.curve(0)
    thin = downsample(curve, 2000)
    assert len(thin.thresholds) <= 2000 < len(curve.thresholds)
    exact = average_precision(curve.tp, curve.fp, curve.positives)
    plotted = average_precision(thin.tp, thin.fp, thin.positives)
    assert abs(exact - plotted) <= 1e-3
    assert thin.thresholds[0] == curve.thresholds[0] and thin.thresholds[-1] == curve.thresholds[-1]


def test_curve_cache_is_safe_across_threads():
    """The dashboard shares one index between sessions, each on its own thread."""
    import sys
    import threading

    rng = np.random.default_rng(0)
    n, k = 2000, 40
    pset = from_arrays(rng.random((n, k)), (rng.random((n, k)) < 0.3).astype(int), task="multilabel")
    index = CurveIndex.build(pset)
    object.__setattr__(index, "CURVE_CACHE_BYTES", 200_000)  # a few curves: constant eviction
    expected = [index._curve(c) for c in range(k)]
    errors, wrong = [], []

    def work(seed):
        r = np.random.default_rng(seed)
        try:
            for _ in range(1500):
                c = int(r.integers(k))
                if not np.array_equal(index.curve(c).tp, expected[c].tp):
                    wrong.append(c)
        except Exception as e:  # noqa: BLE001 - any failure in a thread is the finding
            errors.append(repr(e))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors and not wrong


@pytest.mark.parametrize("task", ["binary", "multilabel", "multiclass"])
def test_curve_f1_is_scikit_learns_at_every_threshold(task):
    # The curve's counts are checked against scikit-learn above; this checks F1 from them,
    # on decisions holding those counts (2-decimal scores: ties, and an empty class possible).
    from sklearn.metrics import f1_score

    raw = random_predictions(task, 300, 3, seed=11)
    pset = from_arrays(np.round(raw.probabilities, 2), raw.labels, task=task,
                       score_kind="probability")
    index = CurveIndex.build(pset)
    for c in range(pset.n_classes):
        curve = index.curve(c)
        truth = pset.truth[:, c] if task == "multiclass" else pset.labels[:, c]
        for i in range(len(curve.thresholds)):
            expected = f1_score(truth, _with_counts(truth, curve.tp[i], curve.fp[i]),
                                zero_division=0)
            assert curve.f1[i] == pytest.approx(expected, abs=1e-12)


def _with_counts(truth, tp, fp):
    """Decisions with ``tp`` true positives and ``fp`` false positives on ``truth``."""
    out = np.zeros(len(truth), dtype=bool)
    out[np.flatnonzero(truth)[:tp]] = True
    out[np.flatnonzero(~truth)[:fp]] = True
    return out
