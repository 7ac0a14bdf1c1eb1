"""Rules where classes weigh against each other, on a sketch: per-class thresholds under
``threshold_argmax`` and multi-label ``at_least_one``, equal to exact mode and scikit-learn
wherever the sketch answers, and a refusal only where its counts cannot decide."""

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, multilabel_confusion_matrix

from thresholdlab.curves import CurveIndex
from thresholdlab.decisions import NO_PREDICTION, DecisionRule, decide
from thresholdlab.metrics import evaluate as exact_evaluate
from thresholdlab.predictions import DataError, from_arrays
from thresholdlab.sketch import Sketch, SketchIndex, evaluate
from thresholdlab.synthetic import random_predictions


def assert_same_counts(a, b):
    for name in ("tp", "fp", "fn", "tn"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    if a.confusion is not None or b.confusion is not None:
        np.testing.assert_array_equal(a.confusion, b.confusion)


def sklearn_confusion(predictions, thresholds, rule):
    """(K, K + 1) confusion of ``rule``'s row decisions by scikit-learn, last column abstained."""
    k = predictions.n_classes
    chosen = decide(predictions.probabilities, thresholds, rule)
    chosen = np.where(chosen == NO_PREDICTION, k, chosen)
    return confusion_matrix(predictions.labels, chosen, labels=np.arange(k + 1))[:k]


def clash_in_rows(predictions, thresholds) -> bool:
    """Brute force over rows: the two groups the refusal names are both non-empty for some pair
    of classes (k passes t_k without being the top class; top class c lies in [t_k, t_c))."""
    p = predictions.probabilities
    top = np.argmax(p, axis=1)
    p_top = p[np.arange(len(p)), top]
    k = predictions.n_classes
    for a in range(k):
        not_top = np.sum((p[:, a] >= thresholds[a]) & (top != a))
        for c in range(k):
            if thresholds[a] < thresholds[c] and not_top:
                if np.any((top == c) & (p_top >= thresholds[a]) & (p_top < thresholds[c])):
                    return True
    return False


@pytest.mark.parametrize("option", ["abstain", "fallback_argmax"])
@pytest.mark.parametrize("decimals,n_bins,seed", [
    (None, 10_000, 0), (2, 100, 1), (1, 10, 2), (1, 20, 3), (3, 1000, 4), (2, 50, 5),
])
def test_threshold_argmax_per_class_equals_exact_mode_and_sklearn(option, decimals, n_bins, seed):
    # Rounded scores (decimals 1, 2) tie heavily, on edges and at 0.5 between two classes.
    predictions = random_predictions("multiclass", 800, 4, seed=seed, decimals=decimals)
    rule = DecisionRule("multiclass", "threshold_argmax", option)
    exact = CurveIndex.build(predictions, rule)
    index = SketchIndex.build(Sketch.from_predictions(predictions, n_bins), rule)
    edges = index.edges
    rng = np.random.default_rng(seed)
    answered = refused = 0
    for _ in range(120):
        low = rng.choice([0.0, 0.3, 0.45, 0.5])  # low thresholds let less probable classes pass
        t = rng.choice(edges[edges >= low], size=4)
        try:
            got = index.counts_at(t)
        except DataError as e:
            assert "cannot tell how many rows are in both" in str(e)
            assert clash_in_rows(predictions, t)
            refused += 1
            continue
        answered += 1
        assert_same_counts(got, exact.counts_at(t))
        np.testing.assert_array_equal(got.confusion, sklearn_confusion(predictions, t, rule))
        want = exact_evaluate(exact, t, sample_based_metrics=False).to_dict()
        have = evaluate(index, t).to_dict()
        for key in ("macro", "micro", "weighted", "accuracy", "accuracy_covered", "coverage"):
            assert have.get(key) == want.get(key), key
    assert answered >= 20 and refused >= 1, (answered, refused)


def test_threshold_argmax_answers_whenever_it_decides_as_argmax_on_softmax_thresholds_above_half():
    # Softmax probabilities sum to 1: above 0.5 at most one class can pass, the top one.
    predictions = random_predictions("multiclass", 500, 5, seed=8, logits=True)
    rule = DecisionRule("multiclass", "threshold_argmax", "abstain")
    exact = CurveIndex.build(predictions, rule)
    index = SketchIndex.build(Sketch.from_predictions(predictions, 64), rule)
    rng = np.random.default_rng(8)
    for _ in range(40):
        t = rng.choice(index.edges[index.edges > 0.5], size=5)
        assert_same_counts(index.counts_at(t), exact.counts_at(t))


def two_data_sets_one_sketch():
    """Two rows of true class 2, four classes, ten bins. Class 0's probability sits above 0.2
    in the row whose top class (1) misses 0.5 in ``a``, in the other row in ``b``; every class's
    bins, and the top class's, are the same in both."""
    a = np.array([[0.21, 0.45, 0.20, 0.14], [0.19, 0.55, 0.13, 0.13]])
    b = np.array([[0.19, 0.45, 0.22, 0.14], [0.21, 0.55, 0.12, 0.12]])
    labels = np.array([2, 2])
    return (from_arrays(a, labels, task="multiclass", score_kind="probability"),
            from_arrays(b, labels, task="multiclass", score_kind="probability"))


def test_threshold_argmax_refusal_is_where_two_data_sets_with_one_sketch_differ():
    a, b = two_data_sets_one_sketch()
    sketch_a, sketch_b = Sketch.from_predictions(a, 10), Sketch.from_predictions(b, 10)
    assert sketch_a.equals(sketch_b)
    rule = DecisionRule("multiclass", "threshold_argmax", "abstain")
    t = np.array([0.2, 0.5, 1.0, 1.0])
    counts_a = CurveIndex.build(a, rule).counts_at(t)
    counts_b = CurveIndex.build(b, rule).counts_at(t)
    assert counts_a.fp[0] == 1 and counts_b.fp[0] == 0  # 'a' predicts class 0 once, 'b' never
    with pytest.raises(DataError) as refused:
        SketchIndex.build(sketch_a, rule).counts_at(t)
    message = str(refused.value)
    assert message.startswith("A sketch cannot count the rule 'most probable class passing")
    assert "1 rows pass class 'class_0''s threshold 0.2" in message
    assert "1 rows whose most probable class 'class_1' misses its threshold 0.5" in message
    # What the sentence suggests works: class 0 at class 1's threshold, or one for every class.
    index = SketchIndex.build(sketch_a, rule)
    for ok in ([0.5, 0.5, 1.0, 1.0], [0.2, 0.2, 0.2, 0.2], [0.6, 0.7, 0.8, 0.9]):
        assert_same_counts(index.counts_at(ok), CurveIndex.build(a, rule).counts_at(ok))


@pytest.mark.parametrize("decimals,n_bins", [(None, 10_000), (1, 10), (2, 100)])
def test_at_least_one_with_one_label_is_every_row_predicted(decimals, n_bins):
    predictions = random_predictions("multilabel", 300, 1, seed=4, decimals=decimals)
    rule = DecisionRule("multilabel", "threshold", "at_least_one")
    exact = CurveIndex.build(predictions, rule)
    index = SketchIndex.build(Sketch.from_predictions(predictions, n_bins), rule)
    for t in index.edges[:: max(1, n_bins // 25)]:
        got = index.counts_at([t])
        assert_same_counts(got, exact.counts_at([t]))
        predicted = decide(predictions.probabilities, [t], rule)
        cm = multilabel_confusion_matrix(predictions.truth.ravel(), predicted.ravel(), labels=[1])
        assert (got.tn[0], got.fp[0], got.fn[0], got.tp[0]) == tuple(cm[0].ravel())


@pytest.mark.parametrize("decimals,n_bins", [(None, 1000), (1, 10)])
def test_at_least_one_is_counted_where_some_label_passes_on_every_row(decimals, n_bins):
    predictions = random_predictions("multilabel", 300, 3, seed=6, decimals=decimals)
    rule = DecisionRule("multilabel", "threshold", "at_least_one")
    exact = CurveIndex.build(predictions, rule)
    index = SketchIndex.build(Sketch.from_predictions(predictions, n_bins), rule)
    rng = np.random.default_rng(6)
    for _ in range(20):
        t = rng.choice(index.edges, size=3)
        t[rng.integers(3)] = 0.0  # every row passes this label: no row is left empty
        got = index.counts_at(t)
        assert_same_counts(got, exact.counts_at(t))
        cm = multilabel_confusion_matrix(predictions.truth, decide(predictions.probabilities, t, rule))
        np.testing.assert_array_equal(got.tp, cm[:, 1, 1])
        np.testing.assert_array_equal(got.fp, cm[:, 0, 1])


def test_at_least_one_refusal_is_where_two_data_sets_with_one_sketch_differ():
    # Same per-label counts: (0.9, 0.1) and (0.1, 0.9), or (0.9, 0.9) and (0.1, 0.1).
    labels = np.array([[1, 0], [1, 0]])
    a = from_arrays(np.array([[0.9, 0.1], [0.1, 0.9]]), labels, task="multilabel",
                    score_kind="probability")
    b = from_arrays(np.array([[0.9, 0.9], [0.1, 0.1]]), labels, task="multilabel",
                    score_kind="probability")
    sketch = Sketch.from_predictions(a, 10)
    assert sketch.equals(Sketch.from_predictions(b, 10))
    rule = DecisionRule("multilabel", "threshold", "at_least_one")
    t = np.array([0.5, 0.5])
    assert CurveIndex.build(a, rule).counts_at(t).tp[0] == 1
    assert CurveIndex.build(b, rule).counts_at(t).tp[0] == 2  # the empty row gets label 0
    with pytest.raises(DataError, match="knows neither how many rows have no label passing"):
        SketchIndex.build(sketch, rule).counts_at(t)
