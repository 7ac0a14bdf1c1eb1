"""Per-class costs against brute force, the cost-matrix rule against argmin(P @ C), and both
carried through the config, ``apply``, the command line and ``ThresholdHead``."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

import thresholdlab.torch as tt
from thresholdlab import CurveIndex, DataError, ThresholdConfig, apply, from_arrays
from thresholdlab.calibration_fit import calibrate, fit_calibration
from thresholdlab.cost_config import cost_matrix_config
from thresholdlab.costs import (
    ClassCost, CostMatrix, cost_matrix_result, optimise_costs, parse_costs,
    pos_weight_cost, pos_weight_sentence,
)
from thresholdlab.decisions import DecisionRule, decide
from thresholdlab.predictions import softmax
from thresholdlab.synthetic import random_predictions, synthetic_scores


# ----------------------------------------------------------------------------- per class
def test_parse_costs():
    costs = parse_costs(["a=1:20", "2:3", " c = 0.5 : 1e1 "], ["a", "b", "c"])
    assert costs == {"a": ClassCost(1, 20), "b": ClassCost(2, 3), "c": ClassCost(0.5, 10)}
    assert costs["a"].bayes_threshold == 1 / 21
    assert parse_costs(None, ["a"]) == {"a": ClassCost(1, 1)}


@pytest.mark.parametrize(
    "spec, fragment",
    [("a=1", "is not CLASS=CFP:CFN"), ("zebra=1:2", "names class 'zebra', which is not in the data"),
     ("a=0:0", "at least one of the two costs"), ("-1:2", "is not CLASS=CFP:CFN")],
)
def test_parse_costs_errors(spec, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_costs([spec], ["a", "b"])


def test_pos_weight_means_a_cost_ratio():
    assert pos_weight_cost(4) == ClassCost(1, 4)
    sentence = pos_weight_sentence("fraud", 4)
    assert "costs 1:4" in sentence and "0.2" in sentence and "0.8" in sentence
    assert ". " not in sentence and sentence.endswith(".")  # one sentence


def brute_force_cost(data, rule, c, cfp, cfn):
    """Least cost of class c over every candidate threshold, deciding every row each time."""
    p = data.probabilities
    # Every distinct score, and "predict nothing" where a probability threshold can lie above
    # the top score (none can above 1.0).
    candidates = np.unique(p[:, c])
    if candidates[-1] < 1:
        candidates = np.r_[candidates, np.nextafter(candidates[-1], 2)]
    others = np.zeros(data.n_classes)
    best = np.inf
    for t in candidates:
        thresholds = others.copy()
        thresholds[c] = t
        decisions = decide(p, thresholds, rule)
        predicted = decisions == c if data.task == "multiclass" else decisions[:, c]
        truth = data.truth[:, c]
        cost = cfp * (predicted & ~truth).sum() + cfn * (~predicted & truth).sum()
        best = min(best, cost)
    return best


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("decimals", [None, 1])
def test_per_class_cost_optimum_equals_brute_force(task, decimals):
    data = random_predictions(task, 150, 3, seed=11, decimals=decimals)
    index = CurveIndex.build(data)
    costs = parse_costs([f"{data.classes[0]}=1:7", "3:2"], data.classes)
    best = optimise_costs(index, costs)
    counts = index.counts_at(best.thresholds)
    for c, name in enumerate(data.classes):
        cfp, cfn = costs[name].fp, costs[name].fn
        assert best.cost[c] == cfp * counts.fp[c] + cfn * counts.fn[c]
        assert best.cost[c] == pytest.approx(brute_force_cost(data, index.rule, c, cfp, cfn))
        assert best.bayes[c] == cfp / (cfp + cfn)
        at_bayes = np.zeros(data.n_classes)
        at_bayes[c] = best.bayes[c]
        d = decide(data.probabilities, at_bayes, index.rule)
        predicted = d == c if task == "multiclass" else d[:, c]
        truth = data.truth[:, c]
        assert best.cost_at_bayes[c] == cfp * (predicted & ~truth).sum() + cfn * (~predicted & truth).sum()


def test_costs_section_round_trip():
    data = random_predictions("multilabel", 100, 3, seed=1)
    costs = parse_costs(["class_1=1:9"], data.classes)
    best = optimise_costs(CurveIndex.build(data), costs)
    config = ThresholdConfig.from_choice(data, best.thresholds, costs=costs, objective="cost:per_class")
    doc = json.loads(config.to_json())
    assert doc["costs"] == {"version": 1, "per_class": {
        "class_0": {"fp": 1.0, "fn": 1.0}, "class_1": {"fp": 1.0, "fn": 9.0},
        "class_2": {"fp": 1.0, "fn": 1.0}}}
    assert ThresholdConfig.from_json(config.to_json()).costs == costs
    doc["costs"]["per_class"]["class_1"]["fn"] = -1
    with pytest.raises(DataError, match="costs.per_class.class_1.fn must be a number of at least 0"):
        ThresholdConfig.from_json(json.dumps(doc), source="x.json")


# ---------------------------------------------------------------------------- cost matrix
def reference(p, c, abstain=None):
    expected = p @ c
    choice = np.argmin(expected, axis=1)
    if abstain is not None:
        choice = np.where(abstain < expected.min(axis=1), -1, choice)
    return choice


@pytest.mark.parametrize("abstain", [None, 0.25, 0.0])
def test_cost_matrix_rule_equals_argmin_of_p_times_c(abstain):
    rng = np.random.default_rng(0)
    for k in (2, 3, 7):
        p = softmax(rng.normal(0, 2, (2000, k)))
        c = rng.uniform(0, 5, (k, k))
        np.fill_diagonal(c, 0)
        matrix = CostMatrix(tuple(f"c{j}" for j in range(k)), c, abstain)
        np.testing.assert_array_equal(matrix.decide(p), reference(p, c, abstain))
        np.testing.assert_allclose(matrix.expected_costs(p), p @ c, rtol=1e-12)


def test_cost_matrix_ties_written_out():
    zero_one = CostMatrix.zero_one(("a", "b", "c"))
    p = np.array([[0.5, 0.5, 0.0], [0.2, 0.4, 0.4], [0.1, 0.2, 0.7]])
    assert zero_one.decide(p).tolist() == [0, 1, 2]  # ties go to the lowest class index
    # Abstaining exactly as costly as the best class: predict (abstain only when it costs less).
    assert CostMatrix.zero_one(("a", "b", "c"), 0.5).decide(p).tolist() == [0, -1, 2]
    assert CostMatrix.zero_one(("a", "b", "c"), 0.49).decide(p).tolist() == [-1, -1, 2]


def test_zero_one_matrix_is_the_argmax():
    data = random_predictions("multiclass", 500, 4, seed=3)
    matrix = CostMatrix.zero_one(data.classes)
    argmax = decide(data.probabilities, np.zeros(4), DecisionRule.default("multiclass"))
    np.testing.assert_array_equal(matrix.decide(data.probabilities), argmax)


def test_cost_matrix_result_counts_and_total():
    data = random_predictions("multiclass", 300, 3, seed=5)
    c = np.array([[0, 1, 4], [2, 0, 1], [8, 1, 0]], dtype=float)
    matrix = CostMatrix(data.classes, c, 0.4)
    result = cost_matrix_result(data, matrix)
    d = reference(data.probabilities, c, 0.4)
    np.testing.assert_array_equal(result.decisions, d)
    total = sum(0.4 if di == -1 else c[yi, di] for yi, di in zip(data.labels, d))
    assert result.total_cost == pytest.approx(total)
    from sklearn.metrics import confusion_matrix

    full = confusion_matrix(data.labels, np.where(d == -1, 3, d), labels=[0, 1, 2, 3])
    np.testing.assert_array_equal(result.confusion, full[:3])


CSV = "truth,a,b,c,abstain\na,0,1,5,0.3\nb,1,0,1,0.3\nc,10,1,0,0.3\n"


def test_read_csv(tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text("truth,c,b,a,abstain\nc,0,1,10,0.3\na,5,1,0,0.3\nb,1,0,1,0.3\n")
    matrix = CostMatrix.read_csv(path, ("a", "b", "c"))
    np.testing.assert_array_equal(matrix.matrix, [[0, 1, 5], [1, 0, 1], [10, 1, 0]])
    assert matrix.abstain_cost == 0.3
    assert CostMatrix.read_csv(path, ("a", "b", "c"), abstain_cost=2.0).abstain_cost == 2.0


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("truth,a,b\na,0,1\nb,1,0\n", "its columns must name each class once; missing 'c'"),
        ("truth,a,b,c\na,0,1,x\nb,1,0,1\nc,1,1,0\n", "column 'c', row 1: 'x' is not a number"),
        ("truth,a,b,c\na,0,1,1\nb,1,0,1\nc,1,-1,0\n", "must be a finite number of at least 0"),
        ("truth,a,b,c,abstain\na,0,1,1,1\nb,1,0,1,2\nc,1,1,0,1\n", "column 'abstain'"),
    ],
)
def test_read_csv_errors(tmp_path, text, fragment):
    path = tmp_path / "m.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=fragment):
        CostMatrix.read_csv(path, ("a", "b", "c"))


def matrix_case(kind, calibration, seed=0, abstain=0.35):
    scores, labels = synthetic_scores("multiclass", 300, 4, seed=seed, logits=kind == "logit")
    scores = np.round(scores, 1 if kind == "logit" else 2)
    data = from_arrays(scores, labels, task="multiclass", score_kind=kind)
    cal = fit_calibration(data, calibration) if calibration else None
    rng = np.random.default_rng(seed)
    c = np.round(rng.uniform(0, 3, (4, 4)), 1)
    np.fill_diagonal(c, 0)
    config = cost_matrix_config(data, CostMatrix(data.classes, c, abstain), calibration=cal)
    tuned = calibrate(data, cal) if cal else data
    return config, data, reference(tuned.probabilities, c, abstain)


@pytest.mark.parametrize(
    "kind, calibration",
    [("logit", None), ("probability", None), ("logit", "temperature"), ("logit", "vector"),
     ("probability", "isotonic"), ("probability", "platt")],
)
def test_cost_matrix_config_apply_and_head(kind, calibration):
    config, data, expected = matrix_case(kind, calibration)
    back = ThresholdConfig.from_json(config.to_json())
    assert back.decision_rule == "cost_matrix" and back.no_prediction == "abstain"
    assert back.to_dict() == config.to_dict()
    np.testing.assert_array_equal(apply(back, data.scores), expected)
    scores = torch.from_numpy(data.scores.copy())
    np.testing.assert_array_equal(apply(back, scores).numpy(), expected)
    head = tt.ThresholdHead(back)
    np.testing.assert_array_equal(head(scores).numpy(), expected)
    allowed = np.zeros(len(expected), dtype=bool)
    if head._uses_exp:
        x = head.calibrate(scores)
        p = head._softmax(x) if head.activation == "softmax" else x
        allowed = head._unsure_rows(x, p).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(head)
    exported = torch.export.export(
        head, (scores,), dynamic_shapes={"scores": {0: torch.export.Dim("batch")}}
    ).module()
    for module in (scripted, exported):
        differ = module(scores).numpy() != expected
        assert not (differ & ~allowed).any()


def test_cost_matrix_without_abstaining():
    config, data, expected = matrix_case("logit", None, abstain=None)
    assert config.no_prediction == "none"
    assert (expected >= 0).all()
    np.testing.assert_array_equal(apply(config, data.scores), expected)
    np.testing.assert_array_equal(tt.ThresholdHead(config)(torch.from_numpy(data.scores.copy())).numpy(), expected)


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda d: d.update(decision_rule="argmax"), "cost_matrix is only allowed with decision_rule 'cost_matrix'"),
        (lambda d: d.pop("cost_matrix"), "missing the required field 'cost_matrix'"),
        (lambda d: d["cost_matrix"]["costs"].pop("class_0"), "one row per true class"),
        (lambda d: d.update(no_prediction="none"), "no_prediction must be 'abstain'"),
        (lambda d: d["cost_matrix"].update(version=3), "cost_matrix.version must be 1"),
    ],
)
def test_bad_cost_matrix_sections(edit, fragment):
    config, _, _ = matrix_case("logit", None)
    doc = json.loads(config.to_json())
    edit(doc)
    with pytest.raises(DataError, match=fragment):
        ThresholdConfig.from_json(json.dumps(doc), source="x.json")


# ------------------------------------------------------------------------------ command line
def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "thresholdlab", *map(str, args)], capture_output=True, text=True
    )


def test_cli_cost_matrix_optimize_apply_evaluate(tmp_path):
    data_path = "sample_data/multiclass_wine_logits.csv"
    matrix = tmp_path / "m.csv"
    matrix.write_text(
        "truth,barolo,grignolino,barbera,abstain\nbarolo,0,1,5,0.3\ngrignolino,1,0,1,0.3\n"
        "barbera,10,1,0,0.3\n"
    )
    cfg = tmp_path / "cfg.json"
    done = run_cli("optimize", data_path, "--cost-matrix", matrix, "--calibration", "temperature", "-o", cfg)
    assert done.returncode == 0, done.stderr
    assert "Total cost" in done.stdout and "the plain argmax costs" in done.stdout
    config = ThresholdConfig.load(cfg)
    assert config.decision_rule == "cost_matrix" and config.calibration.method == "temperature"
    out = tmp_path / "d.csv"
    assert run_cli("apply", data_path, "--thresholds", cfg, "-o", out).returncode == 0
    frame = pd.read_csv(data_path)
    scores = frame[[f"logit_{c}" for c in config.classes]].to_numpy()
    direct = apply(config, scores)
    names = np.array([*config.classes, ""], dtype=object)
    written = pd.read_csv(out, keep_default_na=False)["prediction"].to_numpy()
    np.testing.assert_array_equal(written, names[direct])
    np.testing.assert_array_equal(tt.ThresholdHead(config)(torch.from_numpy(scores.copy())).numpy(), direct)
    evaluated = json.loads(run_cli("evaluate", data_path, "--thresholds", cfg, "--json").stdout)
    assert evaluated["total_cost"] == config.metrics["total_cost"]
    assert evaluated["coverage"] == pytest.approx((direct >= 0).mean())


def test_cli_per_class_costs(tmp_path):
    cfg = tmp_path / "cfg.json"
    done = run_cli(
        "optimize", "sample_data/multilabel_digits_10.csv", "--cost", "even=1:9", "--cost", "2:1",
        "--pos-weight", "prime=4", "-o", cfg,
    )
    assert done.returncode == 0, done.stderr
    assert "Bayes" in done.stdout and "pos_weight 4" in done.stderr
    config = ThresholdConfig.load(cfg)
    assert config.costs["even"] == ClassCost(1, 9) and config.costs["prime"] == ClassCost(1, 4)
    assert config.objective == "cost:per_class"
    bad = run_cli("optimize", "sample_data/multilabel_digits_10.csv", "--cost", "zebra=1:2", "-o", cfg)
    assert bad.returncode == 2 and "zebra" in bad.stderr and bad.stderr.count("\n") == 1
    none = run_cli("optimize", "sample_data/multilabel_digits_10.csv", "-o", cfg)
    assert none.returncode == 2 and "needs --objective" in none.stderr


@pytest.mark.parametrize("rule", ["argmax", "threshold_argmax"])
@pytest.mark.parametrize("no_prediction", ["abstain", "fallback_argmax"])
def test_cost_of_a_confusion_matrix_equals_the_cost_of_its_decisions(rule, no_prediction):
    """The dashboard prices the sliders' decisions from the index's confusion counts; that
    equals pricing every row's decision (the matrix listed in another class order, too)."""
    from thresholdlab import evaluate
    from thresholdlab.costs import confusion_cost, decisions_cost

    data = random_predictions("multiclass", 400, 4, seed=5, decimals=2)
    rng = np.random.default_rng(5)
    order = list(reversed(data.classes))
    matrix = CostMatrix(tuple(order), rng.integers(0, 9, (4, 4)) * (1 - np.eye(4)), 0.5)
    decision_rule = DecisionRule.default("multiclass", rule, no_prediction)
    index = CurveIndex.build(data, decision_rule)
    for thresholds in (np.zeros(4), rng.random(4), np.full(4, 0.6)):
        confusion = evaluate(index, thresholds).counts.confusion
        rows = decide(data.probabilities, thresholds, decision_rule)
        assert confusion_cost(matrix, data.classes, confusion) == decisions_cost(data, matrix, rows)
