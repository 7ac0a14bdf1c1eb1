"""``thresholdlab optimize``, ``evaluate`` and ``apply`` on the sample files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thresholdlab.cli import main
from thresholdlab.config import ThresholdConfig
from thresholdlab.curves import CurveIndex
from thresholdlab.decisions import DecisionRule, decide
from thresholdlab.loading import load
from thresholdlab.metrics import evaluate
from thresholdlab.optimise import optimise

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
WINE = SAMPLES / "multiclass_wine_logits.csv"
CANCER = SAMPLES / "binary_breast_cancer.csv"
SPARSE = SAMPLES / "multilabel_sparse_30_logits.csv"
EVALUATE_KEYS = {"task", "classes", "per_class", "macro", "micro", "weighted", "accuracy",
                 "accuracy_covered", "coverage", "warnings"}
PER_CLASS_KEYS = {"threshold", "tp", "fp", "fn", "tn", "support", "precision", "recall", "f1",
                  "average_precision", "roc_auc"}


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.csv")), ids=lambda p: p.stem)
@pytest.mark.parametrize("objective,extra", [
    ("f1", []), ("recall>=0.8", []), ("cost:1:5", ["--global"]),
])
def test_optimize_writes_the_optimisers_thresholds(path, objective, extra, tmp_path, capsys):
    out = tmp_path / "config.json"
    assert main(["optimize", str(path), "--objective", objective, *extra, "-o", str(out)]) == 0
    config = ThresholdConfig.load(out)
    predictions = load(path)
    index = CurveIndex.build(predictions)
    best = optimise(index, objective, mode="global" if extra else "per_class")
    np.testing.assert_array_equal(config.thresholds_for(predictions.classes), best.thresholds)
    assert config.objective == objective
    assert config.data["sha256"] == predictions.sha256
    assert config.metrics == json.loads(json.dumps(evaluate(index, best.thresholds).to_dict()))
    if predictions.activation == "sigmoid":
        assert list(config.logit_thresholds.values()) == list(best.logit_thresholds)
    assert f"Wrote {out}" in capsys.readouterr().out


@pytest.mark.parametrize("path,rule,exact", [
    (WINE, ["--rule", "argmax"], True),
    (WINE, ["--rule", "threshold_argmax"], False),
    (WINE, ["--rule", "argmax", "--no-prediction", "fallback_argmax"], False),
    (SPARSE, ["--no-prediction", "at_least_one"], False),
    (CANCER, [], True),
], ids=["argmax", "threshold_argmax", "fallback", "at_least_one", "binary"])
def test_optimize_says_when_the_rule_makes_classes_interact(path, rule, exact, tmp_path, capsys):
    out = tmp_path / "config.json"
    assert main(["optimize", str(path), "--objective", "f1", *rule, "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert ("not the joint optimum" in err) is not exact
    predictions = load(path)
    config = ThresholdConfig.load(out)
    assert optimise(CurveIndex.build(predictions, config.rule), "f1").exact is exact


def test_evaluate_json_has_the_spec_shape_and_the_cores_numbers(tmp_path, capsys):
    config = tmp_path / "wine.json"
    assert main(["optimize", str(WINE), "--objective", "f1", "-o", str(config)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(WINE), "--thresholds", str(config), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert EVALUATE_KEYS <= set(report)
    for name in report["classes"]:
        assert PER_CLASS_KEYS <= set(report["per_class"][name])
    predictions = load(WINE)
    thresholds = ThresholdConfig.load(config).thresholds_for(predictions.classes)
    expected = evaluate(CurveIndex.build(predictions), thresholds).to_dict()
    assert report == json.loads(json.dumps(expected))
    assert 0 < report["coverage"] <= 1


def test_evaluate_text_is_a_table(tmp_path, capsys):
    config = tmp_path / "c.json"
    main(["optimize", str(CANCER), "--objective", "youden", "-o", str(config)])
    capsys.readouterr()
    assert main(["evaluate", str(CANCER), "--thresholds", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["class", "threshold", "precision", "recall"]
    assert lines[1].startswith("malignant")


@pytest.mark.parametrize("path,rule", [
    (WINE, ["--rule", "threshold_argmax"]), (WINE, ["--no-prediction", "fallback_argmax"]),
    (CANCER, []), (SPARSE, ["--no-prediction", "at_least_one"]),
])
def test_apply_writes_one_decision_per_row_in_input_order(path, rule, tmp_path, capsys):
    config, out = tmp_path / "c.json", tmp_path / "d.csv"
    assert main(["optimize", str(path), "--objective", "f1", *rule, "-o", str(config)]) == 0
    assert main(["apply", str(path), "--thresholds", str(config), "-o", str(out)]) == 0
    written = pd.read_csv(out, keep_default_na=False)
    predictions = load(path)
    cfg = ThresholdConfig.load(config)
    decisions = decide(predictions.probabilities, cfg.thresholds_for(predictions.classes), cfg.rule)
    source = pd.read_csv(path)
    id_column = predictions.columns["id"]
    assert list(written[id_column]) == list(source[id_column])
    if predictions.task == "multiclass":
        names = [predictions.classes[d] if d >= 0 else "" for d in decisions]
        assert list(written["prediction"]) == names
    else:
        for c, name in enumerate(predictions.classes):
            assert list(written[f"pred_{name}"]) == decisions[:, c].astype(int).tolist()


def test_apply_without_an_id_column_counts_rows_from_zero(tmp_path):
    data = tmp_path / "p.csv"
    data.write_text("label,p_cat,p_dog\ncat,0.8,0.2\ndog,0.3,0.7\ncat,0.5,0.5\n")
    config, out = tmp_path / "c.json", tmp_path / "d.csv"
    assert main(["optimize", str(data), "--task", "multiclass", "--objective", "f1",
                 "-o", str(config)]) == 0
    assert main(["apply", str(data), "--task", "multiclass", "--thresholds", str(config),
                 "-o", str(out)]) == 0
    assert list(pd.read_csv(out)["row"]) == [0, 1, 2]


def test_infeasible_targets_warn_on_stderr(tmp_path, capsys):
    assert main(["optimize", str(SPARSE), "--objective", "precision>=1", "-o",
                 str(tmp_path / "c.json")]) == 0
    err = capsys.readouterr().err
    assert "thresholdlab: warning: No threshold gives precision >= 1 for" in err


@pytest.mark.parametrize("argv,fragment", [
    (["optimize", str(WINE), "--objective", "accuracy", "-o", "x.json"],
     "unknown objective 'accuracy'"),
    (["optimize", str(CANCER), "--rule", "argmax", "--objective", "f1", "-o", "x.json"],
     "decision rule 'argmax' does not apply to binary data"),
    (["evaluate", str(CANCER), "--thresholds", "WINE_CONFIG"],
     "The config is for multiclass data but the data is binary."),
    (["apply", str(WINE), "--thresholds", "BROKEN_CONFIG", "-o", "d.csv"],
     "is not valid JSON"),
    (["evaluate", str(WINE), "--thresholds", "missing.json"], "missing.json"),
])
def test_bad_commands_exit_2_with_one_line(argv, fragment, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(["optimize", str(WINE), "--objective", "f1", "-o", "wine.json"])
    (tmp_path / "broken.json").write_text("{not json")
    argv = [a.replace("WINE_CONFIG", "wine.json").replace("BROKEN_CONFIG", "broken.json")
            for a in argv]
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("thresholdlab: error: ")
    assert fragment in err
    assert "Traceback" not in err


def test_bad_input_files_exit_2_from_optimize(bad_input, tmp_path, capsys):
    path = bad_input.make(tmp_path)
    code = main(["optimize", str(path), *bad_input.cli_options(), "--objective", "f1",
                 "-o", str(tmp_path / "c.json")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and bad_input.fragment in err


def test_mismatched_classes_are_named(tmp_path, capsys):
    data = tmp_path / "p.csv"
    data.write_text("label,p_cat,p_cow\ncat,0.8,0.2\ncow,0.3,0.7\n")
    other = tmp_path / "q.csv"
    other.write_text("label,p_cat,p_dog\ncat,0.8,0.2\ndog,0.3,0.7\n")
    config = tmp_path / "c.json"
    main(["optimize", str(data), "--task", "multiclass", "--objective", "f1", "-o", str(config)])
    capsys.readouterr()
    assert main(["evaluate", str(other), "--task", "multiclass", "--thresholds", str(config)]) == 2
    err = capsys.readouterr().err
    assert "'cow'" in err and "'dog'" in err


def test_rule_default_is_argmax_with_abstention():
    assert DecisionRule.default("multiclass") == DecisionRule("multiclass", "argmax", "abstain")
