"""Every metric against scikit-learn on the same decisions, ties included."""

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.stats import norm
from sklearn import metrics as skm

from thresholdlab.curves import CurveIndex
from thresholdlab.decisions import NO_PREDICTION_OPTIONS, RULES, DecisionRule, decide
from thresholdlab.metrics import evaluate, wilson_interval
from thresholdlab.predictions import from_arrays
from thresholdlab.synthetic import random_predictions

TOL = 1e-9


def sklearn_report(predictions, thresholds, rule, beta=2.0):
    """What scikit-learn says about the decisions ``thresholds`` make."""
    decisions = decide(predictions.probabilities, thresholds, rule)
    k = predictions.n_classes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if predictions.task == "multiclass":
            y_true, y_pred, kw = predictions.labels, decisions, {"labels": list(range(k))}
            truth = predictions.truth
            onehot = decisions[:, None] == np.arange(k)[None, :]
        elif predictions.task == "binary":
            # One positive class: scikit-learn's 1-D binary form, restricted to that class.
            y_true, y_pred, kw = predictions.labels[:, 0], decisions[:, 0], {"labels": [True]}
            truth, onehot = predictions.labels, decisions
        else:
            y_true, y_pred, kw = predictions.labels, decisions, {}
            truth, onehot = predictions.labels, decisions
        p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, zero_division=0, **kw)
        fb = skm.fbeta_score(y_true, y_pred, beta=beta, average=None, zero_division=0, **kw)
        out = {"precision": p, "recall": r, "f1": f, "support": s, "fbeta": fb}
        # Averages of a binary task are over both classes, as scikit-learn's are for 0/1 labels.
        avg_kw = {"labels": [False, True]} if predictions.task == "binary" else kw
        for avg in ("macro", "micro", "weighted"):
            p, r, f, _ = skm.precision_recall_fscore_support(
                y_true, y_pred, average=avg, zero_division=0, **avg_kw
            )
            out[avg] = {"precision": p, "recall": r, "f1": f}
        out["mcc"] = [skm.matthews_corrcoef(truth[:, c], onehot[:, c]) for c in range(k)]
        out["specificity"] = [
            skm.recall_score(~truth[:, c], ~onehot[:, c], zero_division=0) for c in range(k)
        ]
        ap, auc = [], []
        for c in range(k):
            has_both = 0 < truth[:, c].sum() < len(truth)
            ap.append(
                skm.average_precision_score(truth[:, c], predictions.probabilities[:, c])
                if truth[:, c].any() else None
            )
            auc.append(
                skm.roc_auc_score(truth[:, c], predictions.probabilities[:, c]) if has_both else None
            )
        out["average_precision"], out["roc_auc"] = ap, auc
        out["accuracy"] = skm.accuracy_score(y_true, y_pred)
        if predictions.task == "multilabel":
            out["hamming_loss"] = skm.hamming_loss(y_true, y_pred)
            out["samples_f1"] = skm.f1_score(y_true, y_pred, average="samples", zero_division=0)
        if predictions.task == "multiclass":
            covered = decisions >= 0
            out["coverage"] = covered.mean()
            out["accuracy_covered"] = (
                skm.accuracy_score(y_true[covered], y_pred[covered]) if covered.any() else None
            )
            out["confusion"] = skm.confusion_matrix(
                y_true, np.where(decisions < 0, k, decisions), labels=list(range(k + 1))
            )[:k]
    return out


def assert_report_matches_sklearn(predictions, thresholds, rule, beta=2.0):
    index = CurveIndex.build(predictions, rule)
    report = evaluate(index, thresholds, beta=beta).to_dict()
    expected = sklearn_report(predictions, thresholds, rule, beta)
    rows = [report["per_class"][c] for c in predictions.classes]
    for name in ("precision", "recall", "f1", "support", "fbeta", "mcc", "specificity"):
        np.testing.assert_allclose([r[name] for r in rows], expected[name], atol=TOL, err_msg=name)
    for name in ("average_precision", "roc_auc"):
        for got, want in zip([r[name] for r in rows], expected[name]):
            assert (got is None) == (want is None), name
            if want is not None:
                assert abs(got - want) <= TOL, name
    for avg in ("macro", "micro", "weighted"):
        for name in ("precision", "recall", "f1"):
            assert abs(report[avg][name] - expected[avg][name]) <= TOL, (avg, name)
    assert abs(report["accuracy"] - expected["accuracy"]) <= TOL
    if predictions.task == "multilabel":
        assert abs(report["hamming_loss"] - expected["hamming_loss"]) <= TOL
        assert abs(report["samples_f1"] - expected["samples_f1"]) <= TOL
        assert report["subset_accuracy"] == report["accuracy"]
    if predictions.task == "multiclass":
        assert abs(report["coverage"] - expected["coverage"]) <= TOL
        if expected["accuracy_covered"] is None:
            assert report["accuracy_covered"] is None
        else:
            assert abs(report["accuracy_covered"] - expected["accuracy_covered"]) <= TOL
        np.testing.assert_array_equal(report["confusion"]["true_by_predicted"], expected["confusion"])
    else:
        assert report["coverage"] is None and report["accuracy_covered"] is None


ALL_RULES = [
    DecisionRule(task, rule, option)
    for task in RULES
    for rule in RULES[task]
    for option in NO_PREDICTION_OPTIONS[task]
]


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: f"{r.task}-{r.rule}-{r.no_prediction}")
@pytest.mark.parametrize("decimals", [None, 2])
def test_metrics_equal_sklearn_on_random_and_tied_scores(rule, decimals):
    predictions = random_predictions(rule.task, 500, 5, seed=21, decimals=decimals)
    rng = np.random.default_rng(0)
    distinct = np.unique(predictions.probabilities)
    k = predictions.n_classes
    cases = [
        rng.choice(distinct, size=k),                    # at scores (ties sit right on them)
        rng.uniform(0.05, 0.95, size=k),                 # between scores
        np.full(k, 0.0), np.full(k, 1.0), np.full(k, 1.5),  # everything / nothing predicted
    ]
    for t in cases:
        assert_report_matches_sklearn(predictions, t, rule)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 80),
    rule=st.sampled_from(ALL_RULES),
    decimals=st.sampled_from([None, 1, 2]),
    beta=st.sampled_from([0.5, 1.0, 2.0]),
    data=st.data(),
)
def test_property_metrics_equal_sklearn(seed, n, rule, decimals, beta, data):
    predictions = random_predictions(rule.task, n, 3, seed=seed, decimals=decimals, prevalence=0.2)
    scores = sorted(set(np.unique(predictions.probabilities)) | {0.0, 1.0})
    t = np.array(data.draw(st.lists(
        st.one_of(st.sampled_from(scores), st.floats(0, 1)),
        min_size=predictions.n_classes, max_size=predictions.n_classes,
    )))
    assert_report_matches_sklearn(predictions, t, rule, beta)


def test_class_without_positives_is_kept_with_undefined_ranking_metrics():
    predictions = from_arrays(
        [[0.9, 0.1], [0.2, 0.3], [0.7, 0.6]], [[1, 0], [0, 0], [1, 0]], task="multilabel",
        classes=["cat", "dog"],
    )
    report = evaluate(CurveIndex.build(predictions), [0.5, 0.5]).to_dict()
    assert report["per_class"]["dog"]["average_precision"] is None
    assert report["per_class"]["dog"]["roc_auc"] is None
    assert report["per_class"]["dog"]["recall"] == 0.0
    assert any("'dog' has no positive rows" in w for w in report["warnings"])
    assert report["per_class"]["cat"]["roc_auc"] == 1.0


def test_wilson_interval_solves_the_score_equation():
    # Independent oracle: the Wilson bounds are the p0 where |p_hat - p0| = z sqrt(p0 (1 - p0) / n).
    z = norm.ppf(0.975)
    for k, n in [(0, 10), (3, 10), (10, 10), (47, 213), (1, 1)]:
        lo, hi = wilson_interval(np.array(k), np.array(n))
        p_hat = k / n

        def gap(p0):
            return abs(p_hat - p0) - z * np.sqrt(p0 * (1 - p0) / n)

        # The score equation also holds at p_hat = p0 in {0, 1}: bracket away from it.
        want_lo = 0.0 if k == 0 else brentq(gap, 1e-15, min(p_hat, 1 - 1e-12))
        want_hi = 1.0 if k == n else brentq(gap, max(p_hat, 1e-12), 1 - 1e-15)
        assert lo == pytest.approx(want_lo, abs=1e-9)
        assert hi == pytest.approx(want_hi, abs=1e-9)
    assert np.isnan(wilson_interval(np.array(0), np.array(0))).all()


def test_abstentions_cost_coverage_not_precision():
    # Hand-made: two confident right rows, one unconfident row that abstains.
    predictions = from_arrays(
        [[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.4, 0.35, 0.25]], [0, 1, 2], task="multiclass"
    )
    report = evaluate(CurveIndex.build(predictions), [0.5, 0.5, 0.5]).to_dict()
    assert report["coverage"] == pytest.approx(2 / 3)
    assert report["accuracy"] == pytest.approx(2 / 3)
    assert report["accuracy_covered"] == 1.0
    assert report["confusion"]["true_by_predicted"] == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]]


SAMPLES = sorted((Path(__file__).resolve().parents[2] / "sample_data").glob("*.csv"))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_every_sample_file_matches_sklearn(path):
    from thresholdlab.loading import load
    from thresholdlab.optimise import optimise

    predictions = load(path)
    rules = [r for r in ALL_RULES if r.task == predictions.task]
    rng = np.random.default_rng(0)
    for rule in rules:
        index = CurveIndex.build(predictions, rule)
        k = predictions.n_classes
        for t in (
            optimise(index, "f1").thresholds,
            rng.choice(np.unique(predictions.probabilities), size=k),
            np.full(k, 0.5),
        ):
            assert_report_matches_sklearn(predictions, t, rule)


def test_rows_without_any_label_are_flagged_in_samples_f1():
    predictions = from_arrays([[0.9, 0.1], [0.2, 0.3]], [[1, 0], [0, 0]], task="multilabel")
    report = evaluate(CurveIndex.build(predictions), [0.5, 0.5]).to_dict()
    assert report["samples_f1"] == 0.5  # the empty row counts as 0, as zero_division=0 says
    assert any(w.startswith("1 of 2 rows have no true and no predicted label") for w in report["warnings"])


def _both_classes(counts):
    """A binary task's counts as a two-class (negative, positive) one-vs-rest table."""
    from thresholdlab.curves import Counts

    tp, fp, fn, tn = counts.tp[:1], counts.fp[:1], counts.fn[:1], counts.tn[:1]
    return Counts(thresholds=np.repeat(counts.thresholds[:1], 2), tp=np.concatenate((tn, tp)),
                  fp=np.concatenate((fn, fp)), fn=np.concatenate((fp, fn)),
                  tn=np.concatenate((tp, tn)), n_rows=counts.n_rows)


def test_binary_averages_from_four_counts_equal_the_two_class_table_bit_for_bit():
    """The binary averages skip the negative class's full metrics (intervals, MCC) on every
    slider move; they must still be the very floats the two-class table gives, zeros and
    empty classes included."""
    from thresholdlab.curves import Counts
    from thresholdlab.metrics import aggregates, class_metrics

    rng = np.random.default_rng(14)
    cases = [tuple(int(v) for v in rng.integers(0, 10 ** int(rng.integers(1, 7)), 4))
             for _ in range(400)]
    cases += [(0, 0, 0, 0), (0, 0, 0, 5), (3, 0, 0, 0), (0, 4, 0, 0), (0, 0, 6, 0), (1, 1, 1, 1)]
    for tp, fp, fn, tn in cases:
        counts = Counts(thresholds=np.array([0.5]), tp=np.array([tp]), fp=np.array([fp]),
                        fn=np.array([fn]), tn=np.array([tn]), n_rows=tp + fp + fn + tn)
        got = aggregates(counts, class_metrics(counts), "binary")
        both = _both_classes(counts)
        want = aggregates(both, class_metrics(both), "multilabel")
        for average in ("macro", "micro", "weighted"):
            got_values, want_values = getattr(got, average), getattr(want, average)
            assert list(got_values) == list(want_values)
            for name in got_values:
                assert type(got_values[name]) is float
                assert np.float64(got_values[name]).tobytes() == np.float64(
                    want_values[name]).tobytes(), (average, name, (tp, fp, fn, tn))
