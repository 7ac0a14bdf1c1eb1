"""A sketch file uploaded to the dashboard: it opens like a prediction file and says it is binned."""

import json

import numpy as np
import pytest

from apptest_support import SAMPLES, errors, metric_values, open_app, table, upload
from thresholdlab.curves import CurveIndex
from thresholdlab.loading import load
from thresholdlab.metrics import evaluate
from thresholdlab.sketch import Sketch
from thresholdlab.ui import export

SKETCHED = {
    "multiclass": "multiclass_wine_logits",
    "binary": "binary_breast_cancer",
    "multilabel": "multilabel_digits_10",
}
N_BINS = 200


def sketch_bytes(stem: str) -> bytes:
    return Sketch.from_predictions(load(SAMPLES / f"{stem}.csv"), N_BINS).to_bytes()


def open_sketch(task: str, page: str | None = None):
    at = open_app()
    upload(at, "upload_widget", f"{SKETCHED[task]}-sketch.parquet", sketch_bytes(SKETCHED[task]),
           "application/octet-stream")
    assert not at.exception and not errors(at), errors(at)
    if page is not None:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("task", list(SKETCHED))
def test_upload_a_sketch_opens_it_and_says_it_is_binned(task):
    at = open_sketch(task)
    dataset = at.session_state["dataset"]
    assert dataset.binned and dataset.task == task
    info = " ".join(i.value for i in at.sidebar.info)
    assert f"a sketch of {N_BINS} bins of width 0.005" in info
    # Metrics on the page are exact mode's at the same (edge) thresholds.
    pset = load(SAMPLES / f"{SKETCHED[task]}.csv")
    exact = evaluate(CurveIndex.build(pset, dataset.rule),
                     np.array(at.session_state["thresholds"]), sample_based_metrics=False)
    shown = table(at)
    for name, row in exact.to_dict()["per_class"].items():
        got = shown.loc[shown["class"] == name].iloc[0]
        assert got["TP"] == row["tp"] and got["FP"] == row["fp"]


def test_sliders_snap_to_bin_edges_and_counts_are_exact_there():
    at = open_sketch("binary")
    slider = at.slider(key="thr_0_slider")
    assert slider.step == pytest.approx(1 / N_BINS)
    slider.set_value(0.4123).run()
    t = at.session_state["thresholds"][0]
    assert t == round(0.4123 * N_BINS) / N_BINS == 0.41
    pset = load(SAMPLES / f"{SKETCHED['binary']}.csv")
    exact = evaluate(CurveIndex.build(pset), np.array([t]))
    assert table(at).iloc[0]["TP"] == exact.to_dict()["per_class"][pset.classes[0]]["tp"]


def test_optimise_button_sets_edges():
    at = open_sketch("multiclass")
    at.button(key="optimise_f1").click().run()
    assert not at.exception
    t = np.array(at.session_state["thresholds"])
    np.testing.assert_array_equal(np.round(t * N_BINS) / N_BINS, t)


def test_export_writes_the_same_config_format():
    at = open_sketch("multilabel", page="pages/export.py")
    dataset = at.session_state["dataset"]
    doc = json.loads(export.config_json(dataset, np.full(10, 0.5)))
    assert doc["schema_version"] == 1 and doc["task"] == "multilabel"
    assert doc["data"]["rows"] == dataset.predictions.n_rows
    assert set(doc["thresholds"]) == set(dataset.classes)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download thresholds (JSON)"]  # no per-row decisions from counts
    restored = export.restore(json.dumps(doc), "t.json", dataset)
    np.testing.assert_array_equal(restored.thresholds, np.full(10, 0.5))


@pytest.mark.parametrize("page", ["pages/confusion.py", "pages/calibration.py",
                                  "pages/evaluation.py", "pages/compare.py", "pages/export.py"])
def test_other_pages_open_on_a_sketch(page):
    at = open_sketch("multiclass", page=page)
    assert not at.exception
    if page.endswith(("calibration.py", "evaluation.py")):
        assert "This data is a sketch" in " ".join(i.value for i in at.info)


def test_a_sketch_as_the_second_file_is_refused_in_one_sentence():
    """Compare and Evaluation rank and resample the rows of the file they are given."""
    sketch = ("wine-sketch.parquet", sketch_bytes("multiclass_wine_logits"),
              "application/octet-stream")
    sentence = ("'wine-sketch.parquet' is a sketch: its bins keep counts, not rows, which this "
                "page needs; upload the prediction file it was made from.")
    at = open_app("multiclass_wine_logits", page="pages/compare.py")
    at.file_uploader(key="cmp_upload").set_value([sketch]).run()
    assert not at.exception and errors(at) == [sentence]
    at = open_app("multiclass_wine_logits", page="pages/evaluation.py")
    at.button_group(key="ev_source").set_value("A second file").run()
    at.file_uploader(key="ev_upload").set_value(sketch).run()
    assert not at.exception and errors(at) == [sentence]
