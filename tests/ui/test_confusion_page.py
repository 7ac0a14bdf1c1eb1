"""Confusion page: matrices at the current thresholds equal the core's counts."""

import numpy as np
import pytest

from apptest_support import (
    BINARY, MULTICLASS, MULTILABEL, SPARSE, Core, charts, open_app, thresholds_in_state,
)


def heatmap(figure):
    (trace,) = [t for t in figure["data"] if t["type"] == "heatmap"]
    return trace


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_matrix_counts_and_row_normalised(task):
    stem = BINARY if task == "binary" else MULTICLASS
    at = open_app(stem, page="pages/confusion.py")
    at.slider(key="cm_0_slider").set_value(0.66).run()
    assert not at.exception
    core = Core(stem)
    counts = core.evaluate(thresholds_in_state(at)).counts
    if task == "binary":
        expected = np.array([[counts.tn[0], counts.fp[0]], [counts.fn[0], counts.tp[0]]])
        labels = ["not malignant", "malignant"]
    else:
        expected = counts.confusion
        labels = [*core.classes, "no prediction"]
        assert expected[:, -1].sum() > 0, "0.66 on barolo should abstain on some rows"
    figs = charts(at)
    shown = heatmap(figs["cm_counts"])
    np.testing.assert_array_equal(np.asarray(shown["z"]).reshape(expected.shape), expected)
    assert list(shown["x"]) == labels
    share = np.asarray(heatmap(figs["cm_normalised"])["z"]).reshape(expected.shape)
    np.testing.assert_allclose(share, expected / expected.sum(axis=1, keepdims=True), rtol=1e-6)
    assert thresholds_in_state(at)[0] == 0.66


def test_multilabel_grid_of_two_by_two():
    at = open_app(MULTILABEL, page="pages/confusion.py")
    at.slider(key="cm_3_slider").set_value(0.2).run()
    core = Core(MULTILABEL)
    counts = core.evaluate(thresholds_in_state(at)).counts
    grid = charts(at)["cm_grid"]
    cells = [t for t in grid["data"] if t["type"] == "heatmap"]
    assert len(cells) == 10
    c = 3
    shown = np.asarray(cells[c]["customdata"]).reshape(2, 2)
    np.testing.assert_array_equal(
        shown, [[counts.tn[c], counts.fp[c]], [counts.fn[c], counts.tp[c]]])
    at.toggle(key="cm_normalise").set_value(True).run()
    assert "0." in str(charts(at)["cm_grid"]["data"][0]["text"])


def test_many_labels_use_a_picker():
    at = open_app(SPARSE, page="pages/confusion.py")
    picker = at.multiselect(key="cm_labels")
    assert len(picker.value) == 12
    picker.set_value(["seven", "bold_two"]).run()
    cells = [t for t in charts(at)["cm_grid"]["data"] if t["type"] == "heatmap"]
    assert len(cells) == 2
    # the picked class's slider is there without opening all 30
    at.selectbox(key="cm_class").select("bold_two").run()
    assert at.slider(key="cm_picked_slider").label == "bold_two"


def test_global_mode_on_the_confusion_page():
    at = open_app(MULTICLASS, page="pages/confusion.py")
    at.button_group(key="cm_mode").set_value("global").run()
    at.slider(key="cm_global_slider").set_value(0.9).run()
    assert thresholds_in_state(at).tolist() == [0.9, 0.9, 0.9]
    counts = Core(MULTICLASS).evaluate([0.9] * 3).counts
    shown = heatmap(charts(at)["cm_counts"])
    np.testing.assert_array_equal(np.asarray(shown["z"]).reshape(3, 4), counts.confusion)
