"""Evaluation page: held-out figures, bootstrap intervals and the optimum's band equal the
core's, per task; a second file as evaluation data; errors in one sentence."""

import numpy as np
import pandas as pd
import pytest

from apptest_support import BY_TASK, SAMPLES, Core, charts, errors, metric_values, open_app, table, trace
from thresholdlab import evaluation as ev

PAGE = "pages/evaluation.py"


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_held_out_table_chart_and_band_equal_the_core(task):
    stem = BY_TASK[task]
    at = open_app(stem, page=PAGE)
    at.number_input(key="ev_seed").set_value(3).run()
    at.number_input(key="ev_resamples").set_value(500).run()
    assert not at.exception, at.exception
    core = Core(stem)
    split = ev.stratified_split(core.pset, 0.3, 3)
    expected = ev.held_out(split.tuning, split.evaluation, "f1", rule=core.rule, n_resamples=500, seed=3)
    frame = table(at, "F1 held-out")
    np.testing.assert_array_equal(frame["threshold"], expected.optimum.thresholds)
    np.testing.assert_array_equal(frame["F1 tuning"], expected.tuning.per_class.f1)
    np.testing.assert_array_equal(frame["F1 held-out"], expected.evaluation.per_class.f1)
    np.testing.assert_array_equal(frame["F1 drop"], expected.drop["f1"])
    low, high = expected.intervals.per_class["f1"][0]
    assert frame["F1 95% bootstrap"].iloc[0] == f"{low:.3f} – {high:.3f}"
    shown = metric_values(at)
    assert shown["Macro-F1, held out"] == f"{expected.evaluation.aggregates.macro['f1']:.3f}"
    bars = trace(charts(at)["ev_chart"], "held-out, 95% bootstrap interval")
    np.testing.assert_allclose(bars["y"], expected.evaluation.per_class.f1, rtol=1e-6)

    import thresholdlab as tl
    spread = ev.optimum_spread(tl.CurveIndex.build(split.tuning, core.rule), "f1", n_resamples=200, seed=3)
    band = table(at, "band width")
    np.testing.assert_array_equal(band["band width"], spread.width)
    shape = charts(at)["ev_band_chart"]["layout"]["shapes"][0]
    assert (shape["x0"], shape["x1"]) == pytest.approx(tuple(spread.band[0]))


def test_seed_and_share_change_the_split():
    at = open_app(BY_TASK["multiclass"], page=PAGE)
    first = table(at, "F1 held-out")["F1 held-out"].tolist()
    at.slider(key="ev_share").set_value(0.5).run()
    assert "share 0.5, seed 0" in " ".join(c.value for c in at.caption)
    assert table(at, "F1 held-out")["F1 held-out"].tolist() != first


def test_second_file_is_the_evaluation_data(tmp_path):
    at = open_app(BY_TASK["multiclass"], page=PAGE)
    at.button_group(key="ev_source").set_value("A second file").run()
    frame = pd.read_csv(SAMPLES / f"{BY_TASK['multiclass']}.csv")
    raw = frame.iloc[::2].to_csv(index=False).encode()
    at.file_uploader(key="ev_upload").set_value(("test_half.csv", raw, "text/csv")).run()
    assert not at.exception, at.exception
    core = Core(BY_TASK["multiclass"])
    import thresholdlab as tl
    other = tl.load(raw, name="test_half.csv")
    expected = ev.held_out(core.pset, other, "f1", rule=core.rule, n_resamples=1000, seed=0)
    np.testing.assert_array_equal(table(at, "F1 held-out")["F1 held-out"], expected.evaluation.per_class.f1)


def test_second_file_with_other_classes_is_one_sentence():
    at = open_app(BY_TASK["multiclass"], page=PAGE)
    at.button_group(key="ev_source").set_value("A second file").run()
    raw = (SAMPLES / f"{BY_TASK['binary']}.csv").read_bytes()
    at.file_uploader(key="ev_upload").set_value(("other.csv", raw, "text/csv")).run()
    assert not at.exception
    (message,) = errors(at)
    assert "binary data" in message and "\n" not in message


def test_bad_objective_is_one_sentence():
    at = open_app(BY_TASK["binary"], page=PAGE)
    at.text_input(key="ev_objective").input("best").run()
    assert not at.exception
    assert any("unknown objective" in e for e in errors(at))


def test_use_these_thresholds_sets_the_sliders():
    at = open_app(BY_TASK["binary"], page=PAGE)
    expected = table(at, "F1 held-out")["threshold"].to_numpy()
    at.button(key="ev_use").click().run()
    np.testing.assert_array_equal(np.array(at.session_state["thresholds"]), expected)


def test_second_file_goes_through_the_calibration_in_use():
    """Thresholds chosen on calibrated scores are measured on the second file's calibrated
    scores (the same fitted map), not on its raw ones."""
    import thresholdlab as tl
    from thresholdlab.calibration_fit import calibrate, fit_calibration
    from thresholdlab.ui import calibrated

    at = open_app(BY_TASK["multiclass"], page="pages/calibration.py")
    at.selectbox(key=calibrated.W_METHOD).select("temperature").run()
    at.toggle(key=calibrated.W_USE).set_value(True).run()
    at.switch_page(PAGE).run()
    at.button_group(key="ev_source").set_value("A second file").run()
    frame = pd.read_csv(SAMPLES / f"{BY_TASK['multiclass']}.csv")
    raw = frame.iloc[::2].to_csv(index=False).encode()
    at.file_uploader(key="ev_upload").set_value(("test_half.csv", raw, "text/csv")).run()
    assert not at.exception, at.exception
    core = Core(BY_TASK["multiclass"])
    fitted = fit_calibration(core.pset, "temperature")
    other = calibrate(tl.load(raw, name="test_half.csv"), fitted)
    expected = ev.held_out(calibrate(core.pset, fitted), other, "f1", rule=core.rule,
                           n_resamples=1000, seed=0)
    np.testing.assert_array_equal(table(at, "F1 held-out")["F1 held-out"], expected.evaluation.per_class.f1)


def _count_builds(monkeypatch) -> list[int]:
    """Row counts of every CurveIndex built from now on."""
    from thresholdlab.curves import CurveIndex

    built: list[int] = []
    build = CurveIndex.build.__func__

    def counted(cls, predictions, *args, **kwargs):
        built.append(predictions.n_rows)
        return build(cls, predictions, *args, **kwargs)

    monkeypatch.setattr(CurveIndex, "build", classmethod(counted))
    return built


@pytest.mark.parametrize("task", ["binary", "multilabel"])
def test_the_tuning_rows_are_indexed_once(task, monkeypatch):
    """The held-out report and the optimum's spread share one index of the tuning rows."""
    tuning_rows = ev.stratified_split(Core(BY_TASK[task]).pset, 0.3, 0).tuning.n_rows
    built = _count_builds(monkeypatch)
    at = open_app(BY_TASK[task], page=PAGE)
    assert not at.exception, at.exception
    assert built.count(tuning_rows) == 1, built
    at.number_input(key="ev_spread_resamples").set_value(40).run()
    assert built.count(tuning_rows) == 1, built


def test_a_second_file_uses_the_loaded_datas_index(monkeypatch):
    built = _count_builds(monkeypatch)
    at = open_app(BY_TASK["multiclass"], page=PAGE)
    at.button_group(key="ev_source").set_value("A second file").run()
    frame = pd.read_csv(SAMPLES / f"{BY_TASK['multiclass']}.csv")
    at.file_uploader(key="ev_upload").set_value(
        ("test_half.csv", frame.iloc[::2].to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception, at.exception
    assert built.count(len(frame)) == 1, built  # the loaded data's own, built when it loaded
