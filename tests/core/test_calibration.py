"""Reliability bins and ECE against scikit-learn's calibration_curve and a brute-force loop."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from thresholdlab import from_arrays
from thresholdlab.calibration import class_reliability, confidence_reliability, reliability


def brute_force(p, y, edges):
    """Bins by looping over rows: first bin [e0, e1], then (e_i, e_i+1], as sklearn assigns them."""
    n_bins = len(edges) - 1
    members = [[] for _ in range(n_bins)]
    for pi, yi in zip(p, y):
        b = 0
        while b < n_bins - 1 and pi > edges[b + 1]:
            b += 1
        members[b].append((pi, yi))
    counts, pred, obs = [], [], []
    for rows in members:
        counts.append(len(rows))
        pred.append(sum(r[0] for r in rows) / len(rows) if rows else np.nan)
        obs.append(sum(r[1] for r in rows) / len(rows) if rows else np.nan)
    counts = np.array(counts)
    gaps = [abs(o - q) for o, q, c in zip(obs, pred, counts) if c]
    ece = sum(c / len(p) * g for c, g in zip(counts[counts > 0], gaps))
    return counts, np.array(pred), np.array(obs), ece, max(gaps)


CASES = [
    ("random", 0, 500),
    ("ties on edges", 1, 200),
    ("all one class", 2, 50),
    ("tiny", 3, 3),
]


def make(kind, seed, n):
    rng = np.random.default_rng(seed)
    if kind == "ties on edges":
        p = rng.choice(np.linspace(0, 1, 11), size=n)  # every score sits on a bin edge
    else:
        p = rng.random(n)
    y = rng.random(n) < p
    if kind == "all one class":
        y[:] = False
    return p, y


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("n_bins", [1, 5, 10, 15])
@pytest.mark.parametrize("kind,seed,n", CASES)
def test_matches_sklearn_and_brute_force(kind, seed, n, n_bins, strategy):
    p, y = make(kind, seed, n)
    rel = reliability(p, y, n_bins=n_bins, strategy=strategy)
    prob_true, prob_pred = calibration_curve(y.astype(int), p, n_bins=n_bins, strategy=strategy)
    np.testing.assert_allclose(rel.observed[rel.nonempty], prob_true, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rel.mean_predicted[rel.nonempty], prob_pred, rtol=0, atol=1e-12)

    counts, pred, obs, ece, mce = brute_force(p, y, rel.edges)
    np.testing.assert_array_equal(rel.counts, counts)
    np.testing.assert_allclose(rel.mean_predicted, pred, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(rel.observed, obs, atol=1e-12, equal_nan=True)
    assert rel.ece == pytest.approx(ece, abs=1e-12)
    assert rel.mce == pytest.approx(mce, abs=1e-12)
    assert rel.n_rows == n


@pytest.mark.parametrize("n_bins", [3, 6, 7, 12])
def test_quantile_edges_that_land_on_a_score_match_sklearn(n_bins):
    # With n_bins * m + 1 rows the quantile edges fall exactly on scores, where the rounding
    # of the percentile decides which bin the score joins.
    for seed in range(60):
        rng = np.random.default_rng(seed)
        n = n_bins * int(rng.integers(1, 4)) + 1
        p = rng.random(n)
        y = rng.random(n) < p
        rel = reliability(p, y, n_bins=n_bins, strategy="quantile")
        prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy="quantile")
        np.testing.assert_array_equal(rel.mean_predicted[rel.nonempty], prob_pred)
        np.testing.assert_array_equal(rel.observed[rel.nonempty], prob_true)
        counts, *_ = brute_force(p, y, rel.edges)
        np.testing.assert_array_equal(rel.counts, counts)


def test_perfectly_calibrated_bins_have_zero_ece():
    p = np.array([0.05] * 20 + [0.95] * 20)
    y = np.array([True] + [False] * 19 + [True] * 19 + [False])
    assert reliability(p, y, n_bins=10).ece == pytest.approx(0.0, abs=1e-12)


def test_hand_worked_example():
    # two bins: [0, 0.5] holds 0.2, 0.4 (one positive), (0.5, 1] holds 0.6, 0.8, 1.0 (all positive)
    p = np.array([0.2, 0.4, 0.6, 0.8, 1.0])
    y = np.array([False, True, True, True, True])
    rel = reliability(p, y, n_bins=2)
    np.testing.assert_array_equal(rel.counts, [2, 3])
    np.testing.assert_allclose(rel.mean_predicted, [0.3, 0.8])
    np.testing.assert_allclose(rel.observed, [0.5, 1.0])
    assert rel.ece == pytest.approx(2 / 5 * 0.2 + 3 / 5 * 0.2)
    assert rel.mce == pytest.approx(0.2)


def test_class_and_confidence_reliability_on_a_prediction_set():
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(300, 3))
    labels = rng.integers(0, 3, size=300)
    pset = from_arrays(logits, labels, task="multiclass", classes=["a", "b", "c"])
    rel = class_reliability(pset, 1, n_bins=8)
    assert rel.name == "b"
    prob_true, _ = calibration_curve(labels == 1, pset.probabilities[:, 1], n_bins=8)
    np.testing.assert_allclose(rel.observed[rel.nonempty], prob_true, atol=1e-12)

    top = confidence_reliability(pset, n_bins=8)
    conf = pset.probabilities.max(axis=1)
    correct = pset.probabilities.argmax(axis=1) == labels
    prob_true, prob_pred = calibration_curve(correct, conf, n_bins=8)
    np.testing.assert_allclose(top.observed[top.nonempty], prob_true, atol=1e-12)
    np.testing.assert_allclose(top.mean_predicted[top.nonempty], prob_pred, atol=1e-12)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="strategy"):
        reliability(np.array([0.5]), np.array([True]), strategy="kde")
    with pytest.raises(ValueError, match="n_bins"):
        reliability(np.array([0.5]), np.array([True]), n_bins=0)
    binary = from_arrays(np.array([0.2, 0.7]), np.array([0, 1]), task="binary")
    with pytest.raises(ValueError, match="multi-class"):
        confidence_reliability(binary)


def test_core_module_does_not_import_streamlit():
    code = "import sys, thresholdlab.calibration; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
