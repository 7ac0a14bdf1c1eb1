"""``evaluate --bootstrap``, ``optimize --holdout / --split / --spread`` and ``compare``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thresholdlab import evaluation as ev
from thresholdlab.cli import main
from thresholdlab.config import ThresholdConfig
from thresholdlab.curves import CurveIndex
from thresholdlab.loading import load
from thresholdlab.metrics import evaluate
from thresholdlab.optimise import optimise

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
WINE = SAMPLES / "multiclass_wine_logits.csv"
CANCER = SAMPLES / "binary_breast_cancer.csv"
SPARSE = SAMPLES / "multilabel_sparse_30_logits.csv"


@pytest.mark.parametrize("path", [WINE, CANCER, SPARSE], ids=lambda p: p.stem)
def test_evaluate_bootstrap_json_adds_intervals_and_keeps_the_rest(path, tmp_path, capsys):
    config = tmp_path / "c.json"
    assert main(["optimize", str(path), "--objective", "f1", "-o", str(config)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(path), "--thresholds", str(config), "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main(["evaluate", str(path), "--thresholds", str(config), "--json",
                 "--bootstrap", "300", "--seed", "4"]) == 0
    out = json.loads(capsys.readouterr().out)
    boot = out.pop("bootstrap")
    assert out == plain
    predictions = load(path)
    index = CurveIndex.build(predictions)
    counts = index.counts_at(ThresholdConfig.load(config).thresholds_for(predictions.classes))
    expected = ev.bootstrap_intervals(counts, predictions.task, n_resamples=300, seed=4)
    assert boot == json.loads(json.dumps(expected.to_dict(predictions.classes)))
    assert boot["resamples"] == 300 and boot["seed"] == 4


def test_evaluate_bootstrap_text_shows_bootstrap_beside_wilson(tmp_path, capsys):
    config = tmp_path / "c.json"
    main(["optimize", str(WINE), "--objective", "f1", "-o", str(config)])
    capsys.readouterr()
    assert main(["evaluate", str(WINE), "--thresholds", str(config), "--bootstrap", "200"]) == 0
    text = capsys.readouterr().out
    assert "bootstrap 95%" in text and "Wilson 95%" in text and "200 resamples, seed 0" in text


def test_optimize_split_chooses_on_the_tuning_part_and_stores_share_and_seed(tmp_path, capsys):
    out = tmp_path / "c.json"
    assert main(["optimize", str(WINE), "--objective", "f1", "--split", "0.3", "--seed", "5",
                 "--bootstrap", "100", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "share 0.3, seed 5" in text and "F1 held-out" in text
    predictions = load(WINE)
    split = ev.stratified_split(predictions, 0.3, 5)
    best = optimise(CurveIndex.build(split.tuning), "f1")
    config = ThresholdConfig.load(out)
    np.testing.assert_array_equal(config.thresholds_for(predictions.classes), best.thresholds)
    held = config.metrics["held_out"]
    assert held["share"] == 0.3 and held["seed"] == 5
    assert held["evaluation_rows"] == len(split.evaluation_rows)
    on_evaluation = evaluate(CurveIndex.build(split.evaluation), best.thresholds)
    assert config.metrics["macro"] == json.loads(json.dumps(on_evaluation.aggregates.macro))
    assert config.data["rows"] == len(split.tuning_rows)


def test_optimize_holdout_reports_on_the_second_file(tmp_path, capsys):
    frame = pd.read_csv(WINE)
    frame.iloc[:100].to_csv(tmp_path / "valid.csv", index=False)
    frame.iloc[100:].to_csv(tmp_path / "test.csv", index=False)
    out = tmp_path / "c.json"
    assert main(["optimize", str(tmp_path / "valid.csv"), "--objective", "f1",
                 "--holdout", str(tmp_path / "test.csv"), "-o", str(out)]) == 0
    assert "test.csv" in capsys.readouterr().out
    config = ThresholdConfig.load(out)
    tuning, held = load(tmp_path / "valid.csv"), load(tmp_path / "test.csv")
    best = optimise(CurveIndex.build(tuning), "f1")
    np.testing.assert_array_equal(config.thresholds_for(tuning.classes), best.thresholds)
    report = evaluate(CurveIndex.build(held), best.thresholds)
    assert config.metrics["per_class"]["barolo"]["f1"] == report.per_class.f1[0]
    assert config.metrics["held_out"]["holdout_rows"] == held.n_rows


def test_optimize_spread_stores_the_band(tmp_path, capsys):
    out = tmp_path / "c.json"
    assert main(["optimize", str(CANCER), "--objective", "f1", "--spread", "50", "-o", str(out)]) == 0
    assert "band over 50 resamples" in capsys.readouterr().out
    spread = ThresholdConfig.load(out).metrics["optimum_spread"]
    assert spread["resamples"] == 50
    (entry,) = spread["per_class"].values()
    assert entry["band"][0] <= entry["band"][1]


@pytest.mark.parametrize("argv,fragment", [
    (["optimize", str(WINE), "--objective", "f1", "--split", "2", "-o", "x.json"], "strictly between 0 and 1"),
    (["optimize", str(WINE), "--objective", "f1", "--split", "0.3", "--holdout", str(WINE), "-o", "x.json"],
     "not allowed with argument"),
    (["optimize", str(WINE), "--objective", "f1", "--holdout", str(CANCER), "-o", "x.json"], "binary data"),
    (["compare", str(WINE), str(CANCER)], "binary data"),
    (["compare", str(WINE)], "two or more"),
    (["evaluate", str(WINE), "--thresholds", "x.json", "--bootstrap", "0"], "at least 1"),
])
def test_bad_held_out_arguments_exit_2_with_one_line(argv, fragment, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err


def test_compare_json_side_by_side_with_a_paired_difference(tmp_path, capsys):
    frame = pd.read_csv(WINE)
    other = frame.copy()
    rng = np.random.default_rng(0)
    logits = [c for c in frame.columns if c.startswith("logit_")]
    other[logits] = other[logits] + rng.normal(scale=1.5, size=(len(frame), len(logits)))
    other = other.sample(frac=1.0, random_state=1)  # same ids, another order
    frame.to_csv(tmp_path / "a.csv", index=False)
    other.to_csv(tmp_path / "b.csv", index=False)
    assert main(["compare", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--json",
                 "--bootstrap", "200"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [m["name"] for m in out["models"]] == ["a.csv", "b.csv"]
    (diff,) = out["macro_f1_difference"]
    assert diff["paired"] is True and diff["resamples"] == 200
    a, b = load(tmp_path / "a.csv"), load(tmp_path / "b.csv")
    f1 = [evaluate(ix, optimise(ix, "f1").thresholds).aggregates.macro["f1"]
          for ix in (CurveIndex.build(a), CurveIndex.build(b))]
    assert out["models"][0]["macro"]["f1"] == f1[0]
    assert diff["observed"] == pytest.approx(f1[0] - f1[1], abs=1e-12)
    assert main(["compare", str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]) == 0
    assert "(paired)" in capsys.readouterr().out


def _regions_file(tmp_path) -> Path:
    frame = pd.read_csv(CANCER)
    frame["region"] = np.random.default_rng(2).choice(["EU", "US"], len(frame))
    path = tmp_path / "regions.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("extra", [["--split", "0.3"], ["--groups", "region"], ["--spread", "20"]],
                         ids=["split", "groups", "spread"])
def test_optimize_calibrates_before_held_out_spread_and_groups(extra, tmp_path, capsys):
    from thresholdlab.calibration_fit import calibrate, fit_calibration

    path, out = _regions_file(tmp_path), tmp_path / "c.json"
    assert main(["optimize", str(path), "--objective", "f1", "--calibration", "platt", *extra,
                 "-o", str(out)]) == 0
    assert "Calibrated (platt)" in capsys.readouterr().err
    config = ThresholdConfig.load(out)
    assert config.calibration is not None
    predictions = load(path)
    tuning = ev.stratified_split(predictions, 0.3, 0).tuning if extra[0] == "--split" else predictions
    fitted = fit_calibration(tuning, "platt")
    best = optimise(CurveIndex.build(calibrate(tuning, fitted)), "f1")
    np.testing.assert_array_equal(config.thresholds_for(predictions.classes), best.thresholds)


def test_optimize_on_a_sketch_refuses_row_options_and_takes_costs(tmp_path, capsys):
    from thresholdlab import sketch as sk
    from thresholdlab.optimise import Objective

    path = tmp_path / "s.parquet"
    sk.Sketch.from_predictions(load(CANCER), n_bins=500).save(path)
    for extra in (["--objective", "f1", "--spread", "20"], ["--objective", "f1", "--split", "0.3"],
                  ["--objective", "f1", "--calibration", "platt"]):
        assert main(["optimize", str(path), *extra, "-o", str(tmp_path / "x.json")]) == 2
        err = capsys.readouterr().err
        assert "is a sketch" in err and "internal error" not in err and err.count("\n") == 1
    out = tmp_path / "c.json"
    assert main(["optimize", str(path), "--cost", "1:5", "-o", str(out)]) == 0
    best = sk.optimise(sk.build_index(sk.read_sketch(path)), Objective("cost", cost_fp=1, cost_fn=5))
    config = ThresholdConfig.load(out)
    np.testing.assert_array_equal(config.thresholds_for(config.classes), best.thresholds)
    assert config.objective == "cost:1:5"


def test_optimize_costs_with_groups_and_refuses_costs_with_a_split(tmp_path, capsys):
    path, out = _regions_file(tmp_path), tmp_path / "c.json"
    assert main(["optimize", str(path), "--cost", "1:5", "--groups", "region", "-o", str(out)]) == 0
    config = ThresholdConfig.load(out)
    assert config.objective == "cost:1:5" and set(config.groups["thresholds"]) == {"EU", "US"}
    capsys.readouterr()
    assert main(["optimize", str(path), "--cost", "1:5", "--split", "0.3", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "give --objective" in err and err.count("\n") == 1
