"""A config's calibration section: written, read back, and reproduced exactly by
``thresholdlab.apply``, ``thresholdlab apply`` and ``ThresholdHead`` (eager, scripted, exported)."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

import thresholdlab.torch as tt
from thresholdlab import CurveIndex, DataError, ThresholdConfig, apply, optimise
from thresholdlab.calibration_fit import calibrate, fit_calibration
from thresholdlab.decisions import DecisionRule, decide
from thresholdlab.predictions import from_arrays
from thresholdlab.synthetic import synthetic_scores

RULES = [
    ("binary", "threshold", "none"),
    ("multilabel", "threshold", "none"),
    ("multilabel", "threshold", "at_least_one"),
    ("multiclass", "argmax", "abstain"),
    ("multiclass", "threshold_argmax", "abstain"),
    ("multiclass", "threshold_argmax", "fallback_argmax"),
]
METHODS = {"logit": ("temperature", "vector", "platt", "isotonic"), "probability": ("platt", "isotonic")}
CASES = [(*rule, kind, m) for rule in RULES for kind in METHODS for m in METHODS[kind]]


def dataset(task, kind, *, n=400, seed=0):
    k = {"binary": 1, "multilabel": 4, "multiclass": 4}[task]
    scores, labels = synthetic_scores(task, n, k, seed=seed, logits=kind == "logit", separation=2.0)
    if kind == "logit":
        scores = np.round(scores * 2.0, 1)  # over-confident, with ties
    else:
        scores = np.round(scores, 2)
    return from_arrays(scores, labels, task=task, score_kind=kind)


def calibrated_config(task, rule, no_prediction, kind, method, *, seed=0):
    """(config, raw scores, calibrated data): thresholds at calibrated scores of some rows."""
    data = dataset(task, kind, seed=seed)
    calibration = fit_calibration(data, method)
    tuned = calibrate(data, calibration)
    rng = np.random.default_rng(seed)
    p = tuned.probabilities
    t = p[rng.integers(0, data.n_rows, data.n_classes), np.arange(data.n_classes)]
    rule_obj = DecisionRule(task, rule, no_prediction)
    config = ThresholdConfig.from_choice(data, t, rule_obj, calibration=calibration)
    return config, data.scores, tuned


def check(got, reference, allowed=None):
    got = np.asarray(got)
    assert got.shape == reference.shape and got.dtype == reference.dtype
    differ = (got != reference).reshape(len(reference), -1).any(axis=1)
    if allowed is None:
        assert not differ.any(), f"rows {np.flatnonzero(differ)[:10]} differ"
    else:
        assert not (differ & ~allowed).any()


@pytest.mark.parametrize("task, rule, no_prediction, kind, method", CASES)
def test_apply_and_head_reproduce_calibrated_decisions(task, rule, no_prediction, kind, method):
    config, raw, tuned = calibrated_config(task, rule, no_prediction, kind, method)
    # What the dashboard shows: the rule on the calibrated probabilities.
    expected = decide(tuned.probabilities, config.thresholds_for(tuned.classes), config.rule)
    if task == "binary":
        expected = expected.reshape(raw.shape)
    back = ThresholdConfig.from_json(config.to_json())
    assert back.to_dict() == config.to_dict()
    for cfg in (config, back):
        check(apply(cfg, raw), expected)
        check(apply(cfg, torch.from_numpy(raw)).numpy(), expected)
    head = tt.ThresholdHead(back)
    scores = torch.from_numpy(raw)
    check(head(scores).numpy(), expected)
    # Without numpy, rows whose decision hangs on exp's last bit may differ; no other row.
    allowed = None
    if head._uses_exp:
        p = head.calibrate(scores)
        probs = head._softmax(p) if head.activation == "softmax" else p
        allowed = head._unsure_rows(p, probs if task == "multiclass" else None).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated in 2.13
        scripted = torch.jit.script(head)
    check(scripted(scores).numpy(), expected, allowed)
    batch = torch.export.Dim("batch")
    exported = torch.export.export(head, (scores,), dynamic_shapes={"scores": {0: batch}}).module()
    check(exported(scores).numpy(), expected, allowed)
    check(exported(scores[:5]).numpy(), expected[:5], None if allowed is None else allowed[:5])


def test_head_keeps_calibration_float64_in_a_half_model():
    config, raw, tuned = calibrated_config("multilabel", "threshold", "none", "logit", "vector")
    head = tt.ThresholdHead(config)
    model = torch.nn.Sequential(torch.nn.Identity(), head).half()
    assert head.calibrator.scale.dtype == torch.float64
    x = torch.from_numpy(raw).half()
    check(model(x).numpy(), apply(config, x.double().numpy()))


def test_optimised_thresholds_live_in_calibrated_space():
    data = dataset("multiclass", "logit", n=600, seed=4)
    calibration = fit_calibration(data, "temperature")
    tuned = calibrate(data, calibration)
    index = CurveIndex.build(tuned)
    best = optimise(index, "f1")
    config = ThresholdConfig.from_choice(data, best.thresholds, calibration=calibration)
    np.testing.assert_array_equal(
        apply(config, data.scores), decide(tuned.probabilities, best.thresholds, index.rule)
    )


def test_configs_without_the_section_are_unchanged(tmp_path):
    data = dataset("binary", "logit")
    config = ThresholdConfig.from_choice(data, [0.3])
    assert "calibration" not in config.to_dict()
    assert ThresholdConfig.from_json(config.to_json()).calibration is None
    assert "logit_thresholds" in config.to_dict()
    calibrated = ThresholdConfig.from_choice(data, [0.3], calibration=fit_calibration(data, "platt"))
    assert "logit_thresholds" not in calibrated.to_dict()
    assert list(calibrated.to_dict())[-1] == "calibration"


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda d: d["calibration"].update(version=2), "calibration.version must be 1"),
        (lambda d: d["calibration"].update(method="beta"), "calibration.method must be"),
        (lambda d: d["calibration"].update(temperature=0), "calibration.temperature must be above 0"),
        (lambda d: d["calibration"].update(extra=1), "calibration has an unknown field 'extra'"),
        (lambda d: d.update(score_kind="probability", activation="none"),
         "calibration method 'temperature' works on logits"),
        (lambda d: d.update(logit_thresholds={"class_0": 0.0, "class_1": 0.0, "class_2": 0.0,
                                              "class_3": 0.0}),
         "logit_thresholds"),
    ],
)
def test_bad_sections_say_what_is_wrong(edit, fragment):
    config, _, _ = calibrated_config("multiclass", "argmax", "abstain", "logit", "temperature")
    doc = json.loads(config.to_json())
    edit(doc)
    with pytest.raises(DataError, match=fragment):
        ThresholdConfig.from_json(json.dumps(doc), source="x.json")


# ------------------------------------------------------------------------------- command line
def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "thresholdlab", *map(str, args)], capture_output=True, text=True
    )


@pytest.mark.parametrize(
    "task, kind, method",
    [("multiclass", "logit", "temperature"), ("multilabel", "probability", "isotonic"),
     ("binary", "logit", "platt"), ("multiclass", "probability", "platt")],
)
def test_cli_optimize_calibrated_then_apply_equals_apply(tmp_path, task, kind, method):
    data = dataset(task, kind, n=300, seed=7)
    prefix = "logit_" if kind == "logit" else "p_"
    frame = pd.DataFrame({f"{prefix}{c}": data.scores[:, j] for j, c in enumerate(data.classes)})
    if task == "multiclass":
        frame["label"] = data.labels
    elif task == "binary":
        frame["label"] = data.labels[:, 0].astype(int)
    else:
        for j, c in enumerate(data.classes):
            frame[f"y_{c}"] = data.labels[:, j].astype(int)
    path = tmp_path / "scores.csv"
    frame.to_csv(path, index=False)
    cfg = tmp_path / "cfg.json"
    done = run_cli("optimize", path, "--objective", "f1", "--calibration", method, "-o", cfg)
    assert done.returncode == 0, done.stderr
    assert f"Calibrated ({method})" in done.stderr
    config = ThresholdConfig.load(cfg)
    assert config.calibration.method == method
    out = tmp_path / "decisions.csv"
    assert run_cli("apply", path, "--thresholds", cfg, "-o", out).returncode == 0
    written = pd.read_csv(out, keep_default_na=False)
    scores = frame[[f"{prefix}{c}" for c in config.classes]].to_numpy()
    direct = apply(config, scores)
    head = tt.ThresholdHead(config)(torch.from_numpy(scores.copy())).numpy()
    if task == "multiclass":
        names = np.array([*config.classes, ""], dtype=object)
        np.testing.assert_array_equal(written["prediction"].to_numpy(), names[direct])
        np.testing.assert_array_equal(head, direct)
    else:
        direct = direct.reshape(len(frame), -1)
        got = written[[f"pred_{c}" for c in config.classes]].to_numpy().astype(bool)
        np.testing.assert_array_equal(got, direct)
        np.testing.assert_array_equal(head.reshape(len(frame), -1), direct)
    evaluated = run_cli("evaluate", path, "--thresholds", cfg, "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["per_class"] == json.loads(cfg.read_text())["metrics"]["per_class"]


def test_cli_calibrate_json_and_config(tmp_path):
    cfg = tmp_path / "cal.json"
    done = run_cli(
        "calibrate", "sample_data/multiclass_wine_logits.csv", "--method", "vector", "--json",
        "-o", cfg,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["calibration"]["method"] == "vector"
    assert set(report["per_class"]) == {"barolo", "grignolino", "barbera"}
    assert set(report["overall"]["before"]) == {"ece", "brier", "log_loss"}
    assert ThresholdConfig.load(cfg).calibration.method == "vector"
    text = run_cli("calibrate", "sample_data/multiclass_wine_logits.csv", "--method", "isotonic")
    assert text.returncode == 0 and "overall" in text.stdout


def test_cli_calibrate_refuses_scaling_of_probabilities():
    done = run_cli("calibrate", "sample_data/binary_breast_cancer.csv", "--method", "temperature")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "use 'platt' or 'isotonic'" in done.stderr
