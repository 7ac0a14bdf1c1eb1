"""Slices: extra columns read from the file, metrics per slice against scikit-learn, and
per-slice thresholds (each slice's optimum, equal recall across slices)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

import thresholdlab as tl
from thresholdlab import slices
from thresholdlab.predictions import DataError


def make_frame(task: str, n=600, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    region = rng.choice(["EU", "US", "APAC"], n, p=[0.5, 0.3, 0.2])
    device = rng.choice(["phone", "desktop"], n)
    frame = pd.DataFrame({"id": np.arange(n), "region": region, "device": device,
                          "free_text": [f"note {i}" for i in range(n)]})
    hard = region == "APAC"  # the model is worse there
    if task == "multiclass":
        y = rng.integers(0, 3, n)
        s = rng.normal(size=(n, 3))
        s[np.arange(n), y] += np.where(hard, 0.5, 2.0)
        for c in range(3):
            frame[f"logit_c{c}"] = s[:, c]
        frame["label"] = y
    else:
        k = 1 if task == "binary" else 3
        truth = rng.random((n, k)) < 0.3
        s = rng.normal(size=(n, k)) + np.where(hard, 0.5, 2.0)[:, None] * truth
        names = ["fraud"] if task == "binary" else ["a", "b", "c"]
        for c, name in enumerate(names):
            frame[f"logit_{name}"] = s[:, c]
        if task == "binary":
            frame["label"] = truth[:, 0].astype(int)
        else:
            for c, name in enumerate(names):
                frame[f"y_{name}"] = truth[:, c].astype(int)
    return frame


@pytest.fixture(params=["binary", "multiclass", "multilabel"])
def loaded(request, tmp_path):
    frame = make_frame(request.param)
    frame.loc[3, "device"] = ""
    path = tmp_path / "preds.csv"
    frame.to_csv(path, index=False)
    return request.param, frame, path, tl.load(path)


def test_low_cardinality_extra_columns_become_slices(loaded):
    task, frame, path, predictions = loaded
    columns = slices.slice_columns(path, predictions)
    assert set(columns) == {"region", "device"}
    np.testing.assert_array_equal(columns["region"], frame["region"].to_numpy(dtype=str))
    assert columns["device"][3] == slices.MISSING
    assert slices.slice_columns(path.read_bytes(), predictions, name="preds.csv").keys() == columns.keys()


def test_parquet_and_semicolon_files_give_the_same_slices(tmp_path):
    frame = make_frame("binary")
    frame.to_parquet(tmp_path / "p.parquet", index=False)
    frame.to_csv(tmp_path / "p.csv", sep=";", index=False)
    for name in ("p.parquet", "p.csv"):
        columns = slices.slice_columns(tmp_path / name, tl.load(tmp_path / name))
        np.testing.assert_array_equal(columns["region"], frame["region"].to_numpy(dtype=str))


def test_per_slice_metrics_equal_sklearn_on_each_slice(loaded):
    task, frame, path, predictions = loaded
    region = slices.slice_columns(path, predictions)["region"]
    t = np.full(predictions.n_classes, 0.4)
    report = slices.slice_metrics(predictions, region, t, column="region")
    assert report.values == ("APAC", "EU", "US")
    decisions = tl.decide(predictions.probabilities, t, tl.DecisionRule.default(task))
    for s, value in enumerate(report.values):
        rows = region == value
        assert report.rows[s] == rows.sum()
        per_class = report.reports[s].per_class
        if task == "multiclass":
            y, yhat, labels = predictions.labels[rows], decisions[rows], [0, 1, 2]
            kw = {"labels": labels, "average": None, "zero_division": 0}
            np.testing.assert_allclose(per_class.f1, f1_score(y, yhat, **kw), atol=1e-12)
            np.testing.assert_allclose(per_class.recall, recall_score(y, yhat, **kw), atol=1e-12)
            np.testing.assert_allclose(per_class.precision, precision_score(y, yhat, **kw), atol=1e-12)
            macro = f1_score(y, yhat, labels=labels, average="macro", zero_division=0)
        else:
            y, yhat = predictions.labels[rows], decisions[rows]
            for c in range(predictions.n_classes):
                assert per_class.f1[c] == pytest.approx(f1_score(y[:, c], yhat[:, c], zero_division=0), abs=1e-12)
                assert per_class.recall[c] == pytest.approx(recall_score(y[:, c], yhat[:, c], zero_division=0), abs=1e-12)
            macro = (f1_score(y[:, 0], yhat[:, 0], average="macro", zero_division=0) if task == "binary"
                     else f1_score(y, yhat, average="macro", zero_division=0))
        assert report.macro_f1[s] == pytest.approx(macro, abs=1e-12)
    assert report.values[report.worst] == "APAC"
    table = report.table(predictions.classes)
    assert [row["worst"] for row in table] == [True, False, False]


def test_equal_recall_gives_every_slice_the_target_with_the_highest_threshold():
    frame = make_frame("multilabel", n=1500, seed=3)
    predictions = tl.from_arrays(frame[["logit_a", "logit_b", "logit_c"]].to_numpy(),
                                 frame[["y_a", "y_b", "y_c"]].to_numpy(), task="multilabel")
    region = frame["region"].to_numpy(dtype=str)
    groups, targets = slices.equal_recall(predictions, region, np.full(3, 0.6))
    truth, p = predictions.labels, predictions.probabilities
    overall = (p >= 0.6)
    np.testing.assert_allclose(targets, (overall & truth).sum(0) / truth.sum(0))
    for value, t in groups.items():
        rows = region == value
        for c in range(3):
            y = truth[rows, c]
            recall = np.sum((p[rows, c] >= t[c]) & y) / y.sum()
            assert recall >= targets[c]
            # Brute force: no slice score above the chosen threshold keeps the target.
            higher = np.unique(p[rows, c][p[rows, c] >= t[c]])
            better = [s for s in higher[1:] if np.sum((p[rows, c] >= s) & y) / y.sum() >= targets[c]]
            assert better == []


def test_per_slice_thresholds_are_each_slices_optimum():
    frame = make_frame("binary", n=800, seed=4)
    predictions = tl.from_arrays(frame[["logit_fraud"]].to_numpy(), frame["label"].to_numpy(), task="binary")
    region = frame["region"].to_numpy(dtype=str)
    groups = slices.per_slice_thresholds(predictions, region, "f1")
    from thresholdlab.evaluation import subset
    for value, t in groups.items():
        rows = np.flatnonzero(region == value)
        expected = tl.optimise(tl.CurveIndex.build(subset(predictions, rows)), "f1").thresholds
        np.testing.assert_array_equal(t, expected)
    report = slices.slice_metrics(predictions, region, np.array([0.5]), group_thresholds=groups)
    np.testing.assert_array_equal(report.thresholds[report.values.index("EU")], groups["EU"])


def test_per_slice_thresholds_refuse_multiclass_in_one_sentence():
    frame = make_frame("multiclass")
    predictions = tl.from_arrays(frame[["logit_c0", "logit_c1", "logit_c2"]].to_numpy(),
                                 frame["label"].to_numpy(), task="multiclass")
    with pytest.raises(DataError, match="binary and multi-label data"):
        slices.equal_recall(predictions, frame["region"].to_numpy(dtype=str), np.zeros(3))


def test_slice_columns_that_do_not_line_up_say_so(tmp_path):
    frame = make_frame("binary")
    frame.to_csv(tmp_path / "p.csv", index=False)
    predictions = tl.load(tmp_path / "p.csv")
    frame.iloc[:10].to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(DataError, match="slices need one value per scored row"):
        slices.slice_columns(tmp_path / "short.csv", predictions)


def test_slices_read_every_table_form_that_load_reads(tmp_path):
    frame = make_frame("binary", n=200)
    frame.to_parquet(tmp_path / "p.pq", index=False)
    (tmp_path / "excel.csv").write_text("sep=;\n" + frame.to_csv(sep=";", index=False))
    (tmp_path / "wide.csv").write_bytes(frame.to_csv(index=False).encode("utf-16"))
    np.savez(tmp_path / "a.npz", scores=frame["logit_fraud"].to_numpy(), labels=frame["label"].to_numpy(),
             region=frame["region"].to_numpy(dtype=str))
    for name in ("p.pq", "excel.csv", "wide.csv", "a.npz"):
        predictions = tl.load(tmp_path / name)
        columns = slices.slice_columns(tmp_path / name, predictions, only=["region"])
        np.testing.assert_array_equal(columns["region"], frame["region"].to_numpy(dtype=str))
        again = slices.slice_columns((tmp_path / name).read_bytes(), predictions, name=name, only=["region"])
        np.testing.assert_array_equal(again["region"], columns["region"])


def test_slice_metrics_without_per_row_figures_keep_every_other_number(loaded):
    """The dashboard's slice table skips the multi-label per-row figures; the rest is equal."""
    task, frame, path, predictions = loaded
    region = slices.slice_columns(path, predictions)["region"]
    t = np.full(predictions.n_classes, 0.4)
    full = slices.slice_metrics(predictions, region, t)
    light = slices.slice_metrics(predictions, region, t, sample_based_metrics=False)
    assert light.table(predictions.classes) == full.table(predictions.classes)
    np.testing.assert_array_equal(light.thresholds, full.thresholds)
    for a, b in zip(light.reports, full.reports):
        assert a.aggregates.macro == b.aggregates.macro and a.aggregates.micro == b.aggregates.micro
