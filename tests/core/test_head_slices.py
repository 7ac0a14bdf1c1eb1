"""Per-slice thresholds (the config's ``groups``) decide the same rows through ``apply``, the CLI
and ``ThresholdHead`` (eager, scripted, exported); a head without groups is the head it was."""

from __future__ import annotations

import dataclasses
import io
import warnings

import numpy as np
import pandas as pd
import pytest

import thresholdlab as tl
from thresholdlab.calibration_fit import calibrate
from thresholdlab.cli import main
from thresholdlab.config import ThresholdConfig
from thresholdlab.groups import make_groups
from thresholdlab.predictions import sigmoid

torch = pytest.importorskip("torch")
from thresholdlab.torch import GroupThresholdHead, ThresholdHead  # noqa: E402

CLASSES = {"binary": ["fraud"], "multilabel": ["cat", "dog", "owl"]}


def slice_file(tmp_path, task: str, kind: str, n=500, seed=0):
    """A predictions file with a text slice column ``region`` whose slices differ in scores."""
    rng = np.random.default_rng(seed)
    names = CLASSES[task]
    truth = rng.random((n, len(names))) < 0.35
    region = rng.choice(["EU", "US", "APAC", "LATAM"], n)
    shift = np.select([region == "EU", region == "US"], [2.5, 1.0], 0.4)[:, None]
    logits = np.round(rng.normal(size=truth.shape) + shift * truth, 2)  # rounding: ties
    frame = pd.DataFrame({"id": np.arange(n), "region": region})
    for c, name in enumerate(names):
        if kind == "logit":
            frame[f"logit_{name}"] = logits[:, c]
        else:
            frame[f"p_{name}"] = np.round(sigmoid(logits[:, c]), 3)
    if task == "binary":
        frame["label"] = truth[:, 0].astype(int)
    else:
        for c, name in enumerate(names):
            frame[f"y_{name}"] = truth[:, c].astype(int)
    path = tmp_path / f"{task}_{kind}.csv"
    frame.to_csv(path, index=False)
    return frame, path


def brute_force(predictions, region, thresholds_of):
    """Each row against its slice's thresholds, one row at a time."""
    out = np.empty(predictions.probabilities.shape, dtype=bool)
    for i in range(predictions.n_rows):
        out[i] = predictions.probabilities[i] >= thresholds_of(region[i])
    return out


def _scores(predictions):
    x = torch.from_numpy(predictions.scores.copy())
    return x[:, 0] if predictions.task == "binary" else x


def _every_way(config, predictions, region, path, tmp_path):
    """Decisions (n, K) from apply, the CLI, and the eager, scripted and exported heads."""
    k = predictions.n_classes
    x = _scores(predictions)
    ways = {"apply": np.asarray(tl.apply(config, predictions.scores, groups=region))}
    ways["apply on a tensor"] = tl.apply(config, x, groups=region).numpy()
    saved = tmp_path / "config.json"
    config.save(saved)
    out = tmp_path / "decisions.csv"
    assert main(["apply", str(path), "--thresholds", str(saved), "-o", str(out)]) == 0
    ways["cli"] = pd.read_csv(out)[[f"pred_{c}" for c in config.classes]].to_numpy().astype(bool)
    head = ThresholdHead(ThresholdConfig.load(saved))
    codes = head.codes(region)
    ways["eager, codes"] = head(x, codes).numpy()
    ways["eager, values"] = head(x, slices=list(region)).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.script(head)
    ways["scripted"] = scripted(x, codes).numpy()
    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer)
    buffer.seek(0)
    ways["scripted, saved"] = torch.jit.load(buffer)(x, codes).numpy()
    batch = torch.export.Dim("batch")
    program = torch.export.export(
        head, (x, codes), dynamic_shapes={"scores": {0: batch}, "slices": {0: batch}})
    ways["exported"] = program.module()(x, codes).numpy()
    ways["exported, first rows"] = np.concatenate([
        program.module()(x[:7], codes[:7]).numpy(), program.module()(x[7:], codes[7:]).numpy()])
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    buffer.seek(0)
    ways["exported, saved"] = torch.export.load(buffer).module()(x, codes).numpy()
    return {name: d.reshape(-1, k) for name, d in ways.items()}


@pytest.mark.parametrize("kind", ["logit", "probability"])
@pytest.mark.parametrize("task", ["binary", "multilabel"])
def test_slice_thresholds_decide_alike_everywhere(task, kind, tmp_path):
    frame, path = slice_file(tmp_path, task, kind)
    predictions = tl.load(path)
    region = frame["region"].to_numpy(dtype=str)
    p = predictions.probabilities
    # Thresholds on scores the file holds (rows exactly at a threshold pass), EU and US listed,
    # APAC and LATAM left to the top level.
    rng = np.random.default_rng(1)
    table = {v: p[rng.integers(0, len(p), predictions.n_classes), np.arange(predictions.n_classes)]
             for v in ("EU", "US")}
    top = p[rng.integers(0, len(p), predictions.n_classes), np.arange(predictions.n_classes)]
    config = dataclasses.replace(
        ThresholdConfig.from_choice(predictions, top),
        groups=make_groups("region", table, predictions.classes))
    expected = brute_force(predictions, region, lambda v: table.get(v, top))
    assert 0 < expected.sum() < expected.size
    on_a_threshold = (p == np.array([table.get(v, top) for v in region])).any(axis=1)
    assert on_a_threshold.sum() >= 3  # ties at the thresholds are decided too
    for name, decisions in _every_way(config, predictions, region, path, tmp_path).items():
        np.testing.assert_array_equal(decisions, expected, err_msg=name)


@pytest.mark.parametrize("task", ["binary", "multilabel"])
def test_optimised_and_calibrated_slice_thresholds_decide_alike_everywhere(task, tmp_path):
    """The config ``optimize --groups`` writes, with a calibration in front, through every path."""
    frame, path = slice_file(tmp_path, task, "logit", n=800, seed=3)
    saved = tmp_path / "optimised.json"
    assert main(["optimize", str(path), "--objective", "f1", "--calibration", "platt",
                 "--groups", "region", "-o", str(saved)]) == 0
    config = ThresholdConfig.load(saved)
    assert config.calibration is not None and set(config.groups["thresholds"]) == {
        "APAC", "EU", "LATAM", "US"}
    # One slice left out of the config: its rows fall back to the top-level thresholds.
    groups = dict(config.groups, thresholds={
        v: t for v, t in config.groups["thresholds"].items() if v != "LATAM"})
    config = dataclasses.replace(config, groups=groups)
    predictions = tl.load(path)
    region = frame["region"].to_numpy(dtype=str)
    tuned = calibrate(predictions, config.calibration)
    top = np.array([config.thresholds[c] for c in predictions.classes])
    table = {v: np.array([t[c] for c in predictions.classes]) for v, t in groups["thresholds"].items()}
    expected = brute_force(tuned, region, lambda v: table.get(v, top))
    for name, decisions in _every_way(config, predictions, region, path, tmp_path).items():
        np.testing.assert_array_equal(decisions, expected, err_msg=name)


def test_codes_out_of_range_and_unlisted_values_take_the_top_level(tmp_path):
    frame, path = slice_file(tmp_path, "multilabel", "logit", n=60)
    predictions = tl.load(path)
    top = np.full(3, 0.5)
    config = dataclasses.replace(
        ThresholdConfig.from_choice(predictions, top),
        groups=make_groups("region", {"EU": [0.1, 0.2, 0.3], "US": [0.9, 0.8, 0.7]}, predictions.classes))
    head = ThresholdHead(config)
    assert head.slice_values == ["EU", "US"]
    x = _scores(predictions)
    plain = head(x)
    for code in (-1, -7, 2, 99):
        np.testing.assert_array_equal(head(x, torch.full((60,), code)).numpy(), plain.numpy())
    np.testing.assert_array_equal(head(x, ["nowhere"] * 60).numpy(), plain.numpy())
    np.testing.assert_array_equal(head.codes(["US", "EU", "APAC", 3]).numpy(), [1, 0, -1, -1])
    with pytest.raises(ValueError, match="one slice per row"):
        head(x, torch.zeros(59, dtype=torch.long))
    with pytest.raises(ValueError, match="integer slice codes"):
        head(x, torch.zeros(60))


def test_integer_slice_values_are_compared_as_text(tmp_path):
    """A slice column of integers (age band 1..5): the config lists them as text, as apply reads them."""
    frame, path = slice_file(tmp_path, "binary", "probability", n=120)
    predictions = tl.load(path)
    band = np.random.default_rng(2).integers(1, 6, 120)
    config = dataclasses.replace(
        ThresholdConfig.from_choice(predictions, [0.5]),
        groups=make_groups("age_band", {1: [0.2], 5: [0.8]}, predictions.classes))
    head = ThresholdHead(config)
    x = _scores(predictions)
    expected = np.asarray(tl.apply(config, x.numpy(), groups=band))
    np.testing.assert_array_equal(head(x, band).numpy(), expected)
    np.testing.assert_array_equal(head(x, head.codes(band)).numpy(), expected)
    assert not np.array_equal(expected, np.asarray(tl.apply(config, x.numpy())))


# The buffers a head without groups has always saved (no slice tables among them).
PLAIN_STATE = {
    "thresholds", "logit_boundaries", "logit_exceptions", "costs", "abstain_cost",
    "calibrator.scale", "calibrator.bias", "calibrator.x_points", "calibrator.y_points",
    "calibrator.last_point",
}


@pytest.mark.parametrize("task", ["binary", "multilabel", "multiclass"])
def test_a_head_without_groups_is_the_head_it_was(task, tmp_path):
    if task == "multiclass":
        rng = np.random.default_rng(4)
        predictions = tl.from_arrays(rng.normal(size=(200, 3)), rng.integers(0, 3, 200),
                                     task="multiclass", score_kind="logit")
        region = rng.choice(["EU", "US"], 200)
    else:
        frame, path = slice_file(tmp_path, task, "logit", n=200)
        predictions = tl.load(path)
        region = frame["region"].to_numpy(dtype=str)
    config = ThresholdConfig.from_choice(predictions, np.full(predictions.n_classes, 0.45))
    assert config.groups is None
    head = ThresholdHead(config)
    assert set(head.state_dict()) == PLAIN_STATE and head.slice_values == []
    x = torch.from_numpy(predictions.scores.copy())
    if task == "binary":
        x = x[:, 0]
    expected = np.asarray(tl.apply(config, x.numpy()))
    np.testing.assert_array_equal(head(x).numpy(), expected)
    # Slices change nothing without groups, as apply(groups=) changes nothing.
    np.testing.assert_array_equal(head(x, head.codes(region)).numpy(), expected)
    np.testing.assert_array_equal(tl.apply(config, x, groups=region).numpy(), expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(torch.jit.script(head)(x).numpy(), expected)
    np.testing.assert_array_equal(torch.export.export(head, (x,)).module()(x).numpy(), expected)
    # A state_dict saved by a head without groups loads strictly.
    ThresholdHead(config).load_state_dict(head.state_dict(), strict=True)


def test_group_threshold_head_is_the_threshold_head():
    assert GroupThresholdHead is ThresholdHead


def test_an_integer_slice_column_of_a_file_without_score_prefixes(tmp_path):
    """An age band beside prefix-less scores is a slice: optimised per band by the CLI and
    decided alike by apply, the CLI and every form of the head."""
    rng = np.random.default_rng(7)
    n = 600
    band = rng.integers(1, 6, n)
    truth = rng.random(n) < 0.4
    score = np.round(1 / (1 + np.exp(-(rng.normal(size=n) + (0.5 + band / 2) * truth))), 4)
    frame = pd.DataFrame({"score": score, "label": truth.astype(int), "age_band": band})
    path = tmp_path / "plain.csv"
    frame.to_csv(path, index=False)
    saved = tmp_path / "by_band.json"
    assert main(["optimize", str(path), "--objective", "f1", "--groups", "age_band",
                 "-o", str(saved)]) == 0
    config = ThresholdConfig.load(saved)
    assert set(config.groups["thresholds"]) == {"1", "2", "3", "4", "5"}
    predictions = tl.load(path)
    assert predictions.columns["scores"] == ["score"]
    table = {int(v): np.array([t[c] for c in predictions.classes])
             for v, t in config.groups["thresholds"].items()}
    expected = brute_force(predictions, band, lambda v: table[v])
    for name, decisions in _every_way(config, predictions, band, path, tmp_path).items():
        np.testing.assert_array_equal(decisions, expected, err_msg=name)
