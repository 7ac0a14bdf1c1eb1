"""The config's optional ``groups`` section: per-slice thresholds through ``apply``, the CLI
and ``ThresholdHead``; configs without it behave exactly as before."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import thresholdlab as tl
from thresholdlab.cli import main
from thresholdlab.config import ThresholdConfig
from thresholdlab.groups import decide_with_groups, make_groups, threshold_rows
from thresholdlab.predictions import DataError


def sigmoid_frame(task: str, n=400, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    k = 1 if task == "binary" else 3
    names = ["fraud"] if task == "binary" else ["a", "b", "c"]
    truth = rng.random((n, k)) < 0.3
    region = rng.choice(["EU", "US", "APAC"], n)
    s = rng.normal(size=(n, k)) + np.where(region == "APAC", 0.6, 2.0)[:, None] * truth
    frame = pd.DataFrame({"id": np.arange(n), "region": region})
    for c, name in enumerate(names):
        frame[f"logit_{name}"] = s[:, c]
    if task == "binary":
        frame["label"] = truth[:, 0].astype(int)
    else:
        for c, name in enumerate(names):
            frame[f"y_{name}"] = truth[:, c].astype(int)
    return frame


@pytest.fixture(params=["binary", "multilabel"])
def case(request, tmp_path):
    frame = sigmoid_frame(request.param)
    path = tmp_path / "preds.csv"
    frame.to_csv(path, index=False)
    predictions = tl.load(path)
    base = ThresholdConfig.from_choice(predictions, np.full(predictions.n_classes, 0.5))
    rng = np.random.default_rng(1)
    table = {v: rng.uniform(0.2, 0.8, predictions.n_classes) for v in ("EU", "US")}  # APAC: top level
    config = dataclasses.replace(base, groups=make_groups("region", table, predictions.classes))
    return frame, path, predictions, config, table


def brute_force(predictions, frame, config, table):
    region = frame["region"].to_numpy(dtype=str)
    top = np.array([config.thresholds[c] for c in predictions.classes])
    out = np.empty(predictions.probabilities.shape, dtype=bool)
    for i in range(predictions.n_rows):
        t = table.get(region[i], top)
        out[i] = predictions.probabilities[i] >= t
    return out


def test_groups_round_trip_through_json_and_apply(case):
    frame, path, predictions, config, table = case
    again = ThresholdConfig.from_json(config.to_json())
    assert again.groups == config.groups
    assert json.loads(again.to_json())["groups"]["version"] == 1
    expected = brute_force(predictions, frame, config, table)
    got = tl.apply(again, predictions.scores, groups=frame["region"].to_numpy())
    np.testing.assert_array_equal(np.asarray(got).reshape(expected.shape), expected)
    # Without slice values every row gets the top-level thresholds, as a plain config.
    plain = tl.apply(again, predictions.scores)
    np.testing.assert_array_equal(plain, tl.apply(dataclasses.replace(again, groups=None), predictions.scores))


def test_cli_apply_decides_each_row_with_its_slice(case, tmp_path, capsys):
    frame, path, predictions, config, table = case
    config.save(tmp_path / "c.json")
    assert main(["apply", str(path), "--thresholds", str(tmp_path / "c.json"), "-o", str(tmp_path / "d.csv")]) == 0
    written = pd.read_csv(tmp_path / "d.csv")
    expected = brute_force(predictions, frame, config, table)
    got = written[[f"pred_{c}" for c in predictions.classes]].to_numpy().astype(bool)
    np.testing.assert_array_equal(got, expected)


def test_cli_optimize_groups_equal_recall_round_trips_through_apply(tmp_path, capsys):
    frame = sigmoid_frame("multilabel", n=900, seed=5)
    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "c.json"
    assert main(["optimize", str(path), "--objective", "f1", "--groups", "region", "-o", str(out)]) == 0
    assert "<- worst" in capsys.readouterr().out
    config = ThresholdConfig.load(out)
    assert config.groups["column"] == "region" and config.groups["objective"] == "equal_recall"
    assert set(config.groups["thresholds"]) == {"APAC", "EU", "US"}
    predictions = tl.load(path)
    from thresholdlab.slices import equal_recall
    best = tl.optimise(tl.CurveIndex.build(predictions), "f1")
    table, _ = equal_recall(predictions, frame["region"].to_numpy(dtype=str), best.thresholds)
    for value, t in table.items():
        assert [config.groups["thresholds"][value][c] for c in predictions.classes] == t.tolist()
    assert main(["apply", str(path), "--thresholds", str(out), "-o", str(tmp_path / "d.csv")]) == 0
    got = pd.read_csv(tmp_path / "d.csv")[[f"pred_{c}" for c in predictions.classes]].to_numpy().astype(bool)
    np.testing.assert_array_equal(got, brute_force(predictions, frame, config, table))


def test_group_head_equals_apply_eager_and_scripted(case):
    torch = pytest.importorskip("torch")
    from thresholdlab.torch import GroupThresholdHead

    frame, path, predictions, config, table = case
    head = GroupThresholdHead(config)
    region = frame["region"].to_numpy()
    codes = head.codes(region)
    x = torch.from_numpy(predictions.scores.copy())
    if predictions.task == "binary":
        x = x[:, 0]
    expected = tl.apply(config, x.numpy(), groups=region)
    np.testing.assert_array_equal(head(x, codes).numpy(), expected)
    np.testing.assert_array_equal(tl.apply(config, x, groups=region).numpy(), expected)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.script(head)
    np.testing.assert_array_equal(scripted(x, codes).numpy(), expected)


def test_configs_without_groups_behave_exactly_as_before(tmp_path):
    frame = sigmoid_frame("multilabel")
    frame.to_csv(tmp_path / "p.csv", index=False)
    predictions = tl.load(tmp_path / "p.csv")
    config = ThresholdConfig.from_choice(predictions, np.full(3, 0.4))
    text = config.to_json()
    assert "groups" not in json.loads(text)
    again = ThresholdConfig.from_json(text)
    assert again.groups is None and again.to_json() == text
    np.testing.assert_array_equal(tl.apply(again, predictions.scores),
                                  tl.apply(again, predictions.scores, groups=frame["region"].to_numpy()))


@pytest.mark.parametrize("change,fragment", [
    (lambda g: {**g, "version": 2}, "version must be 1"),
    (lambda g: {**g, "thresholds": {"EU": {"a": 0.5}}}, "must give a threshold for every class"),
    (lambda g: {**g, "thresholds": {"EU": {"a": 2, "b": 0.5, "c": 0.5}}}, "between 0 and 1"),
    (lambda g: {k: v for k, v in g.items() if k != "column"}, "column"),
    (lambda g: {**g, "colour": "red"}, "colour"),
])
def test_bad_groups_sections_are_one_sentence(change, fragment, tmp_path):
    frame = sigmoid_frame("multilabel")
    frame.to_csv(tmp_path / "p.csv", index=False)
    predictions = tl.load(tmp_path / "p.csv")
    doc = json.loads(ThresholdConfig.from_choice(predictions, np.full(3, 0.4)).to_json())
    doc["groups"] = change(make_groups("region", {"EU": [0.3, 0.4, 0.5]}, predictions.classes))
    with pytest.raises(DataError, match=fragment):
        ThresholdConfig.from_json(json.dumps(doc), source="c.json")


def test_multiclass_configs_refuse_groups():
    p = tl.from_arrays(np.eye(3)[[0, 1, 2, 0]], [0, 1, 2, 0], task="multiclass")
    doc = json.loads(ThresholdConfig.from_choice(p, np.zeros(3)).to_json())
    doc["groups"] = make_groups("region", {"EU": [0.3, 0.4, 0.5]}, p.classes)
    with pytest.raises(DataError, match="only for binary and multilabel"):
        ThresholdConfig.from_json(json.dumps(doc), source="c.json")


def test_threshold_rows_put_unlisted_values_on_the_top_level(case):
    frame, path, predictions, config, table = case
    rows = threshold_rows(config, ["EU", "nowhere", "US"])
    np.testing.assert_array_equal(rows[0], table["EU"])
    np.testing.assert_array_equal(rows[1], [config.thresholds[c] for c in predictions.classes])
    assert decide_with_groups(config, predictions.probabilities[:3], ["EU", "nowhere", "US"]).shape == (3, predictions.n_classes)


def test_cli_evaluate_reports_each_row_at_its_slices_thresholds(case, tmp_path, capsys):
    from sklearn.metrics import f1_score

    frame, path, predictions, config, table = case
    config.save(tmp_path / "c.json")
    assert main(["evaluate", str(path), "--thresholds", str(tmp_path / "c.json"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    decisions = brute_force(predictions, frame, config, table)
    for c, name in enumerate(predictions.classes):
        expected = f1_score(predictions.labels[:, c], decisions[:, c], zero_division=0)
        assert out["per_class"][name]["f1"] == pytest.approx(expected, abs=1e-12)


def _listed_in_reverse(config, path):
    """``config`` saved with its classes (and every per-class map) in reverse order."""
    doc = json.loads(config.to_json())
    order = list(reversed(doc["classes"]))
    doc["classes"] = order
    for key in ("thresholds", "logit_thresholds"):
        if doc.get(key):
            doc[key] = {c: doc[key][c] for c in order}
    doc["groups"]["thresholds"] = {v: {c: t[c] for c in order}
                                   for v, t in doc["groups"]["thresholds"].items()}
    path.write_text(json.dumps(doc))
    return path


def test_cli_evaluate_and_apply_follow_the_datas_class_order(tmp_path, capsys):
    from sklearn.metrics import confusion_matrix

    frame = sigmoid_frame("multilabel", seed=4)
    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False)
    predictions = tl.load(path)
    table = {"EU": np.array([0.3, 0.5, 0.7]), "US": np.array([0.6, 0.4, 0.2])}
    config = dataclasses.replace(
        ThresholdConfig.from_choice(predictions, np.array([0.35, 0.55, 0.75])),
        groups=make_groups("region", table, predictions.classes))
    reverse = _listed_in_reverse(config, tmp_path / "reverse.json")
    expected = brute_force(predictions, frame, config, table)
    assert main(["evaluate", str(path), "--thresholds", str(reverse), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for c, name in enumerate(predictions.classes):
        tn, fp, fn, tp = confusion_matrix(predictions.labels[:, c], expected[:, c], labels=[0, 1]).ravel()
        assert (out["per_class"][name]["tp"], out["per_class"][name]["fp"]) == (tp, fp)
    assert main(["apply", str(path), "--thresholds", str(reverse), "-o", str(tmp_path / "d.csv")]) == 0
    got = pd.read_csv(tmp_path / "d.csv")[[f"pred_{c}" for c in predictions.classes]].to_numpy().astype(bool)
    np.testing.assert_array_equal(got, expected)


def test_cli_apply_with_groups_decides_on_calibrated_scores(tmp_path, capsys):
    from thresholdlab.calibration_fit import calibrate

    frame = sigmoid_frame("binary", n=600, seed=6)
    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "c.json"
    assert main(["optimize", str(path), "--objective", "f1", "--calibration", "platt",
                 "--groups", "region", "-o", str(out)]) == 0
    config = ThresholdConfig.load(out)
    assert main(["apply", str(path), "--thresholds", str(out), "-o", str(tmp_path / "d.csv")]) == 0
    got = pd.read_csv(tmp_path / "d.csv")["pred_" + config.classes[0]].to_numpy().astype(bool)
    tuned = calibrate(tl.load(path), config.calibration)
    expected = decide_with_groups(config, tuned.probabilities, frame["region"].to_numpy())
    np.testing.assert_array_equal(got, expected[:, 0])
