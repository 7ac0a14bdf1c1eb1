"""Fitted calibration against reference fits: scipy.optimize on the same NLL, scikit-learn's
fitted models applied directly, and sklearn.metrics for the before/after report."""

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, log_softmax
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss

from thresholdlab import DataError, from_arrays
from thresholdlab.calibration import reliability
from thresholdlab.calibration_fit import (
    PLATT_C, REPORT_BINS, Calibration, SectionError, calibrate, calibration_report,
    fit_calibration, interpolate,
)
from thresholdlab.synthetic import synthetic_scores


def overconfident(task, n=3000, k=4, seed=0, logits=True):
    """Logits of an over-confident model (scaled up by 2.5), as networks trained long give."""
    scores, labels = synthetic_scores(task, n, k, seed=seed, logits=True, separation=2.0)
    scores = scores * 2.5 + (0.7 if task != "multiclass" else 0.0)
    if not logits:
        from thresholdlab.predictions import sigmoid, softmax

        scores = softmax(scores) if task == "multiclass" else sigmoid(scores)
    return from_arrays(scores, labels, task=task, score_kind="logit" if logits else "probability")


def scipy_fit(fun, x0):
    result = minimize(fun, x0, method="BFGS", options={"gtol": 1e-11, "maxiter": 10000})
    return result.x


def multiclass_nll(z, labels):
    return -log_softmax(z, axis=1)[np.arange(len(labels)), labels].mean()


def binary_nll(z, y):
    return np.mean(np.logaddexp(0, z) - y * z)


# ------------------------------------------------------------------------ temperature, vector
def test_temperature_multiclass_equals_scipy():
    data = overconfident("multiclass")
    fitted = fit_calibration(data, "temperature")
    z, y = data.scores, data.labels
    t_ref = scipy_fit(lambda t: multiclass_nll(z / t[0], y), np.array([1.0]))[0]
    assert fitted.scale == pytest.approx(np.full(4, t_ref), abs=1e-4)
    assert t_ref > 1.5  # the data is over-confident: the fit cools it


@pytest.mark.parametrize("task", ["binary", "multilabel"])
def test_temperature_per_label_equals_scipy(task):
    data = overconfident(task)
    fitted = fit_calibration(data, "temperature")
    for k in range(data.n_classes):
        z, y = data.scores[:, k], data.labels[:, k].astype(float)
        t_ref = scipy_fit(lambda t: binary_nll(z / t[0], y), np.array([1.0]))[0]
        assert fitted.scale[k] == pytest.approx(t_ref, abs=1e-4)


def test_vector_multiclass_equals_scipy():
    data = overconfident("multiclass")
    fitted = fit_calibration(data, "vector")
    z, y = data.scores, data.labels
    k = data.n_classes
    ref = scipy_fit(
        lambda v: multiclass_nll(z * v[:k] + v[k:], y), np.r_[np.ones(k), np.zeros(k)]
    )
    w, b = ref[:k], ref[k:] - ref[k:].mean()  # biases are fixed up to a shared constant
    assert fitted.scale == pytest.approx(w, abs=1e-4)
    assert fitted.bias == pytest.approx(b, abs=1e-4)
    assert fitted.bias.mean() == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("task", ["binary", "multilabel"])
def test_vector_per_label_equals_scipy(task):
    data = overconfident(task)
    fitted = fit_calibration(data, "vector")
    for k in range(data.n_classes):
        z, y = data.scores[:, k], data.labels[:, k].astype(float)
        w, b = scipy_fit(lambda v: binary_nll(z * v[0] + v[1], y), np.array([1.0, 0.0]))
        assert fitted.scale[k] == pytest.approx(w, abs=1e-4)
        assert fitted.bias[k] == pytest.approx(b, abs=1e-4)


@pytest.mark.parametrize("method", ["temperature", "vector"])
def test_scaling_needs_logits(method):
    data = overconfident("multiclass", logits=False)
    with pytest.raises(DataError, match="rescales logits.*use 'platt' or 'isotonic'"):
        fit_calibration(data, method)


def test_unknown_method():
    with pytest.raises(DataError, match="Unknown calibration method 'beta'"):
        fit_calibration(overconfident("binary"), "beta")


def test_label_without_positives_stays_unchanged():
    scores, labels = synthetic_scores("multilabel", 500, 3, seed=4, logits=True)
    labels[:, 1] = False
    data = from_arrays(scores, labels, task="multilabel", score_kind="logit")
    fitted = fit_calibration(data, "temperature")
    assert fitted.scale[1] == 1.0
    assert any("'class_1'" in note for note in fitted.notes)


# ----------------------------------------------------------------------------- Platt, isotonic
def sklearn_platt(data):
    """scikit-learn's models fitted and applied directly, renormalised as CalibratedClassifierCV."""
    out = np.empty((data.n_rows, data.n_classes))
    for k in range(data.n_classes):
        s = data.scores[:, k : k + 1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = LogisticRegression(C=PLATT_C, max_iter=1000).fit(s, data.truth[:, k])
        out[:, k] = model.predict_proba(s)[:, 1]
    return out


def sklearn_isotonic(data):
    out = np.empty((data.n_rows, data.n_classes))
    for k in range(data.n_classes):
        s = data.scores[:, k]
        model = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
        out[:, k] = model.fit(s, data.truth[:, k]).predict(s)
    return out


def renormalised(p):
    s = p.sum(axis=1, keepdims=True)
    return np.divide(p, s, out=np.full_like(p, 1 / p.shape[1]), where=s != 0)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("logits", [True, False])
@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_platt_and_isotonic_equal_sklearn(task, logits, method):
    data = overconfident(task, n=1500, logits=logits, seed=2)
    fitted = fit_calibration(data, method)
    expected = (sklearn_platt if method == "platt" else sklearn_isotonic)(data)
    if task == "multiclass":
        expected = renormalised(expected)
    got = calibrate(data, fitted).probabilities
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    # Applied to new scores too (isotonic: clipped beyond the fitted range).
    new = overconfident(task, n=400, logits=logits, seed=9)
    fresh = fitted.probabilities(new.scores)
    if method == "isotonic":
        ref = np.column_stack([
            IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
            .fit(data.scores[:, k], data.truth[:, k]).predict(new.scores[:, k])
            for k in range(data.n_classes)
        ])
        if task == "multiclass":
            ref = renormalised(ref)
        np.testing.assert_allclose(fresh, ref, rtol=1e-12, atol=1e-15)


def test_interpolate_equals_numpy_interp():
    rng = np.random.default_rng(0)
    xp = np.sort(rng.choice(np.linspace(-3, 3, 400), 60, replace=False))
    yp = np.sort(rng.random(60))
    x = np.r_[rng.uniform(-4, 4, 5000), xp, xp[0] - 1, xp[-1] + 1]
    np.testing.assert_allclose(interpolate(x, xp, yp), np.interp(x, xp, yp), rtol=1e-15, atol=0)
    assert interpolate(np.array([0.3, 7.0]), np.array([1.0]), np.array([0.25])).tolist() == [0.25, 0.25]


# ------------------------------------------------------------------------------ the report
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_report_equals_sklearn_metrics(task):
    data = overconfident(task, n=1200, seed=5)
    fitted = fit_calibration(data, "temperature")
    calibrated = calibrate(data, fitted)
    report = calibration_report(data, fitted, calibrated)
    for when, p in (("before", data.probabilities), ("after", calibrated.probabilities)):
        per = getattr(report, when)
        for k in range(data.n_classes):
            y = data.truth[:, k]
            assert per["brier"][k] == pytest.approx(brier_score_loss(y, p[:, k]), rel=1e-12)
            assert per["log_loss"][k] == pytest.approx(
                log_loss(y, p[:, k], labels=[False, True]), rel=1e-9
            )
            assert per["ece"][k] == reliability(p[:, k], y, n_bins=REPORT_BINS).ece
        overall = getattr(report, f"overall_{when}")
        if task == "multiclass":
            labels = data.labels
            assert overall["brier"] == pytest.approx(
                brier_score_loss(labels, p, labels=list(range(data.n_classes))), rel=1e-12
            )
            assert overall["log_loss"] == pytest.approx(log_loss(labels, p), rel=1e-9)
            top = p.argmax(axis=1)
            conf = p[np.arange(len(top)), top]
            # Direct ECE: rows-weighted |accuracy - confidence| over 15 equal-width bins.
            bins = np.clip(np.ceil(conf * REPORT_BINS).astype(int) - 1, 0, REPORT_BINS - 1)
            ece = sum(
                (bins == b).mean() * abs((top == labels)[bins == b].mean() - conf[bins == b].mean())
                for b in range(REPORT_BINS) if (bins == b).any()
            )
            assert overall["ece"] == pytest.approx(ece, rel=1e-9)
        else:
            assert overall["brier"] == pytest.approx(per["brier"].mean(), rel=1e-12)
    # Calibration on the data it was fitted on lowers the log-loss it minimised.
    assert report.overall_after["log_loss"] < report.overall_before["log_loss"]
    d = report.to_dict()
    assert set(d["per_class"]) == set(data.classes)


# ----------------------------------------------------------------------------- the section
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("method", ["temperature", "vector", "platt", "isotonic"])
def test_section_round_trip_is_exact(task, method):
    data = overconfident(task, n=600, seed=3)
    fitted = fit_calibration(data, method)
    import json

    doc = json.loads(json.dumps(fitted.to_dict()))
    back = Calibration.from_dict(doc, task=task, classes=data.classes, score_kind="logit")
    assert np.array_equal(back.probabilities(data.scores), fitted.probabilities(data.scores))


@pytest.mark.parametrize(
    "doc, fragment",
    [
        ({"version": 2, "method": "temperature", "temperature": 1.0}, "calibration.version must be 1"),
        ({"version": 1, "method": "beta"}, "calibration.method must be one of"),
        ({"version": 1, "method": "temperature", "temperature": -1.0}, "must be above 0"),
        ({"version": 1, "method": "temperature"}, "needs exactly the fields temperature"),
        ({"version": 1, "method": "vector", "scale": {"a": 1}, "bias": {"a": 0}}, "must map every class"),
        ({"version": 1, "method": "isotonic", "breakpoints": {"a": {"x": [1, 0], "y": [0, 1]},
          "b": {"x": [0], "y": [0]}, "c": {"x": [0], "y": [0]}}}, "strictly increasing"),
    ],
)
def test_section_errors(doc, fragment):
    with pytest.raises(SectionError, match=fragment):
        Calibration.from_dict(doc, task="multiclass", classes=("a", "b", "c"), score_kind="logit")


def test_scaling_is_fitted_by_torch_only_once_asked():
    """Loading the fitting module loads no torch; the first temperature fit reaches torch's
    fitter through the package root, in a fresh interpreter that never names it."""
    pytest.importorskip("torch")
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys\n"
        "from thresholdlab.calibration_fit import fit_calibration\n"
        "from thresholdlab.synthetic import synthetic_scores\n"
        "from thresholdlab import from_arrays\n"
        "assert 'torch' not in sys.modules\n"
        "s, y = synthetic_scores('multiclass', 500, 3, seed=1, logits=True, separation=2.0)\n"
        "cal = fit_calibration(from_arrays(s * 2.5, y, task='multiclass', score_kind='logit'),\n"
        "                      'temperature')\n"
        "assert 'thresholdlab.torch_calibration' in sys.modules\n"
        "assert cal.scale[0] > 1, cal.scale\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], timeout=180)
    assert result.returncode == 0, result.stderr
