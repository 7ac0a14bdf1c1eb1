"""Compare page: each model at its own optimum, side by side, PR curves overlaid, and the
paired (shared ids) or unpaired bootstrap of the macro-F1 difference, as the core gives them."""

import numpy as np
import pandas as pd
import pytest

import thresholdlab as tl
from apptest_support import BY_TASK, SAMPLES, charts, errors, metric_values, open_app, table
from thresholdlab import evaluation as ev

PAGE = "pages/compare.py"


def noisy_copy(stem: str, seed: int = 0, drop_ids: bool = False) -> bytes:
    frame = pd.read_csv(SAMPLES / f"{stem}.csv")
    rng = np.random.default_rng(seed)
    scores = [c for c in frame.columns if c.split("_")[0] in ("p", "logit", "prob")]
    noise = rng.normal(scale=0.8, size=(len(frame), len(scores)))
    if frame[scores].min().min() >= 0:  # probabilities: stay inside [0, 1]
        frame[scores] = np.clip(frame[scores] + 0.2 * noise, 0, 1)
    else:
        frame[scores] = frame[scores] + noise
    frame = frame.sample(frac=1.0, random_state=seed)
    if drop_ids:
        frame = frame.drop(columns=[c for c in frame.columns if c in ("id", "sample_id")])
    return frame.to_csv(index=False).encode()


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_side_by_side_equals_the_core(task):
    stem = BY_TASK[task]
    at = open_app(stem, page=PAGE)
    raw = noisy_copy(stem)
    at.file_uploader(key="cmp_upload").set_value([("model_b.csv", raw, "text/csv")]).run()
    assert not at.exception, at.exception
    a = tl.load(SAMPLES / f"{stem}.csv")
    b = tl.load(raw, name="model_b.csv")
    expected = ev.compare([a, b], objective="f1", names=[f"{stem}.csv", "model_b.csv"], n_resamples=1000)
    frame = table(at, f"F1 model_b.csv")
    np.testing.assert_array_equal(frame["F1 model_b.csv"].iloc[:-1], expected.models[1].report.per_class.f1)
    assert frame["F1 model_b.csv"].iloc[-1] == expected.models[1].report.aggregates.macro["f1"]
    diff = expected.differences[0]
    assert metric_values(at)["Difference, 95% bootstrap"] == f"{diff.observed:+.3f}"
    assert diff.paired == (a.ids is not None)
    names = {t["name"] for t in charts(at)["cmp_pr"]["data"]}
    assert {f"{stem}.csv", "model_b.csv"} <= names


def test_without_shared_ids_the_bootstrap_is_unpaired_and_says_so():
    stem = BY_TASK["multiclass"]
    at = open_app(stem, page=PAGE)
    at.file_uploader(key="cmp_upload").set_value(
        [("no_ids.csv", noisy_copy(stem, drop_ids=True), "text/csv")]).run()
    text = " ".join(c.value for c in at.caption)
    assert "(unpaired)" in text


def test_a_file_with_other_classes_is_one_sentence():
    at = open_app(BY_TASK["multiclass"], page=PAGE)
    raw = (SAMPLES / f"{BY_TASK['multilabel']}.csv").read_bytes()
    at.file_uploader(key="cmp_upload").set_value([("other.csv", raw, "text/csv")]).run()
    assert not at.exception
    (message,) = errors(at)
    assert "multilabel data" in message
