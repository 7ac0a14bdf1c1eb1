"""Calibration page: reliability diagram and ECE equal the core's, per task."""

import numpy as np
import pytest

from apptest_support import BY_TASK, Core, charts, metric_values, open_app, table
from thresholdlab.calibration import class_reliability, confidence_reliability


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_reliability_and_ece(task):
    stem = BY_TASK[task]
    at = open_app(stem, page="pages/calibration.py")
    core = Core(stem)
    c = len(core.classes) - 1
    if c:
        at.selectbox(key="cal_class").select(core.classes[c]).run()
    at.slider(key="cal_bins").set_value(8).run()
    assert not at.exception
    rel = class_reliability(core.pset, c, n_bins=8)
    shown = metric_values(at)
    assert shown["ECE"] == f"{rel.ece:.3f}"
    assert shown["MCE"] == f"{rel.mce:.3f}"
    fig = charts(at)["cal_chart_class"]
    observed = next(t for t in fig["data"] if t.get("name") == "observed share")
    np.testing.assert_allclose(observed["y"], rel.observed[rel.nonempty], rtol=1e-6)
    bars = next(t for t in fig["data"] if t["type"] == "bar")
    np.testing.assert_array_equal(np.asarray(bars["y"]), rel.counts)
    if task == "multiclass":
        top = confidence_reliability(core.pset, n_bins=8)
        assert shown["Top-label ECE"] == f"{top.ece:.3f}"
        assert "cal_chart_top" in charts(at)
    if len(core.classes) > 1:
        frame = table(at, "ECE")
        assert frame["ECE"].iloc[0] == max(
            class_reliability(core.pset, i, n_bins=8).ece for i in range(len(core.classes)))


def test_quantile_bins():
    at = open_app(BY_TASK["binary"], page="pages/calibration.py")
    at.button_group(key="cal_strategy").set_value("quantile").run()
    rel = class_reliability(Core(BY_TASK["binary"]).pset, 0, n_bins=10, strategy="quantile")
    assert metric_values(at)["ECE"] == f"{rel.ece:.3f}"
