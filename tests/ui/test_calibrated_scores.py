"""Calibration page: the method picker, the "use calibrated scores" switch (and what every page
then shows), before/after metrics, cost inputs, the cost matrix, and the export."""

import json

import numpy as np
import pytest

from apptest_support import BY_TASK, MULTICLASS, Core, errors, metric_values, open_app, table, upload
from thresholdlab import CurveIndex, ThresholdConfig, apply, evaluate
from thresholdlab.calibration_fit import calibrate, calibration_report, fit_calibration
from thresholdlab.costs import (
    CostMatrix, cost_matrix_result, optimise_costs, parse_costs, pos_weight_cost,
)
from thresholdlab.ui import calibrated, export

PAGE = "pages/calibration.py"


def calibrated_core(stem, method):
    core = Core(stem)
    fitted = fit_calibration(core.pset, method)
    tuned = calibrate(core.pset, fitted)
    return core, fitted, tuned, CurveIndex.build(tuned, core.rule)


def switch_on(at, method):
    at.selectbox(key=calibrated.W_METHOD).select(method).run()
    at.toggle(key=calibrated.W_USE).set_value(True).run()
    assert not at.exception


@pytest.mark.parametrize(
    "task, method", [("multiclass", "vector"), ("binary", "isotonic"), ("multilabel", "platt")]
)
def test_switch_rescores_every_page(task, method):
    stem = BY_TASK[task]
    at = open_app(stem, page=PAGE)
    switch_on(at, method)
    core, fitted, tuned, index = calibrated_core(stem, method)
    in_use = at.session_state[calibrated.IN_USE][2]
    np.testing.assert_array_equal(in_use.predictions.probabilities, tuned.probabilities)
    assert at.query_params["cal"] == method and at.query_params["calon"] == "1"
    at.switch_page("pages/thresholds.py").run()
    assert not at.exception
    assert any("calibrated" in c.value for c in at.caption)
    thresholds = np.array(at.session_state["thresholds"])
    want = evaluate(index, thresholds).to_dict()["per_class"]
    shown = table(at)
    for name in core.classes:
        assert shown.loc[shown["class"] == name, "F1"].iloc[0] == pytest.approx(want[name]["f1"], abs=1e-12)
    # Moving a slider reuses the calibrated index: built once, not per move.
    built = id(at.session_state[calibrated.IN_USE][2].index)
    key = next(s.key for s in at.slider if s.key and s.key.startswith("thr_"))
    at.slider(key=key).set_value(0.35).run()
    assert id(at.session_state[calibrated.IN_USE][2].index) == built
    # The export carries the calibration, and apply reproduces the page's decisions.
    at.switch_page("pages/export.py").run()
    assert not at.exception
    ds = at.session_state[calibrated.IN_USE][2]
    thresholds = np.array(at.session_state["thresholds"])
    doc = json.loads(export.config_json(ds, thresholds))
    assert doc["calibration"]["method"] == method and doc["score_kind"] == core.pset.score_kind
    config = ThresholdConfig.from_json(json.dumps(doc))
    from thresholdlab.decisions import decide

    expected = decide(tuned.probabilities, thresholds, core.rule)
    got = apply(config, core.pset.scores)
    np.testing.assert_array_equal(np.asarray(got).reshape(expected.shape), expected)


def test_switch_off_goes_back_to_raw_scores():
    at = open_app(MULTICLASS, page=PAGE)
    switch_on(at, "temperature")
    at.toggle(key=calibrated.W_USE).set_value(False).run()
    assert at.session_state["dataset"].calibration is None
    assert "calon" not in at.query_params
    at.switch_page("pages/thresholds.py").run()
    assert any("uncalibrated" in c.value for c in at.caption)


def test_before_after_table_equals_the_report():
    at = open_app(MULTICLASS, page=PAGE)
    at.selectbox(key=calibrated.W_METHOD).select("temperature").run()
    core, fitted, tuned, _ = calibrated_core(MULTICLASS, "temperature")
    report = calibration_report(core.pset, fitted, tuned)
    frame = next(df.value for df in at.dataframe if "ECE after" in df.value.columns)
    overall = frame[frame["class"] == "overall"].iloc[0]
    assert overall["log-loss after"] == pytest.approx(report.overall_after["log_loss"], rel=1e-12)
    assert overall["ECE before"] == pytest.approx(report.overall_before["ece"], rel=1e-12)
    assert "cal_chart_after" in {c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")}


def test_probabilities_offer_only_platt_and_isotonic():
    at = open_app(BY_TASK["binary"], page=PAGE)
    assert at.selectbox(key=calibrated.W_METHOD).options == ["Platt scaling", "Isotonic regression"]


def test_link_restores_the_choice():
    at = open_app(MULTICLASS, page=PAGE, cal="isotonic", calon="1")
    assert at.session_state[calibrated.USE] and at.session_state[calibrated.METHOD] == "isotonic"
    assert at.session_state[calibrated.IN_USE][2].calibration.method == "isotonic"


def test_config_upload_switches_the_calibration_on():
    core, fitted, tuned, _ = calibrated_core(MULTICLASS, "vector")
    config = ThresholdConfig.from_choice(core.pset, [0.2, 0.4, 0.4], calibration=fitted)
    at = open_app(MULTICLASS, page="pages/export.py")
    upload(at, "config_upload", "cal.json", config.to_json().encode(), "application/json")
    assert not errors(at)
    assert at.session_state[calibrated.USE] and at.session_state[calibrated.METHOD] == "vector"
    assert at.session_state["thresholds"] == (0.2, 0.4, 0.4)


def test_both_costs_at_zero_are_refused_in_one_sentence():
    at = open_app(BY_TASK["binary"], page=PAGE)
    at.number_input(key=calibrated.W_FN).set_value(3.0).run()
    at.number_input(key=calibrated.W_FP).set_value(0.0).run()
    at.number_input(key=calibrated.W_FN).set_value(0.0).run()
    assert not at.exception
    assert [w.value for w in at.warning if "Both costs" in w.value] == [
        "Both costs of class 'malignant' are 0, so no threshold costs less than another; make at "
        "least one above 0. The previous costs stay."]
    assert at.number_input(key=calibrated.W_FN).value == 3.0
    assert at.session_state[calibrated.COSTS]["malignant"] == (0.0, 3.0, None)
    # The next costs are taken, and the sentence goes.
    at.number_input(key=calibrated.W_FN).set_value(2.0).run()
    assert not [w for w in at.warning if "Both costs" in w.value]
    assert at.session_state[calibrated.COSTS]["malignant"] == (0.0, 2.0, None)


def test_cost_inputs_give_the_exact_optimum_and_the_bayes_threshold():
    stem = BY_TASK["binary"]
    at = open_app(stem, page=PAGE)
    at.number_input(key=calibrated.W_FP).set_value(1.0).run()
    at.number_input(key=calibrated.W_FN).set_value(9.0).run()
    core = Core(stem)
    best = optimise_costs(core.index, parse_costs(["1:9"], core.classes))
    frame = next(df.value for df in at.dataframe if "Bayes threshold" in df.value.columns)
    assert frame["least-cost threshold"].iloc[0] == best.thresholds[0]
    assert frame["its cost"].iloc[0] == best.cost[0]
    assert frame["Bayes threshold"].iloc[0] == 0.1
    at.button(key="cost_apply").click().run()
    assert at.session_state["thresholds"] == (best.thresholds[0],)
    assert at.session_state["objective"] == "cost:per_class"
    at.number_input(key=calibrated.W_WEIGHT).set_value(4.0).run()
    assert any("pos_weight 4" in i.value for i in at.info)
    assert at.session_state[calibrated.COSTS][core.classes[0]] == (1.0, 9.0, 4.0)
    frame = next(df.value for df in at.dataframe if "Bayes threshold" in df.value.columns)
    assert frame["CFP:CFN"].iloc[0] == "1:4"  # the pos_weight stands for the costs 1:4
    doc = json.loads(export.config_json(at.session_state["dataset"], best.thresholds,
                                        costs={core.classes[0]: pos_weight_cost(4.0)}))
    assert doc["costs"]["per_class"][core.classes[0]] == {"fp": 1.0, "fn": 4.0}


def test_cost_matrix_totals_and_confusion():
    at = open_app(MULTICLASS, page=PAGE)
    costs = [[0.0, 1.0, 5.0], [1.0, 0.0, 1.0], [10.0, 1.0, 0.0]]
    at.session_state[calibrated.MATRIX] = costs
    at.run()
    at.checkbox(key=calibrated.W_ABSTAIN_ON).check().run()
    at.number_input(key=calibrated.W_ABSTAIN).set_value(0.3).run()
    assert not at.exception
    core = Core(MULTICLASS)
    result = cost_matrix_result(core.pset, CostMatrix(core.classes, np.array(costs), 0.3))
    shown = metric_values(at)
    assert shown["Total cost, cost matrix"] == f"{result.total_cost:,.6g}"
    fig = next(n for n in at.get("plotly_chart") if n.proto.id.endswith("cm_confusion"))
    assert str(int(result.confusion[:, -1].sum())) in fig.proto.spec or result.confusion[:, -1].sum() == 0


def test_optimise_and_sliders_work_on_calibrated_scores():
    at = open_app(MULTICLASS, page=PAGE, cal="isotonic", calon="1")
    at.switch_page("pages/thresholds.py").run()
    assert at.session_state[calibrated.USE]
    before = tuple(at.session_state["thresholds"])
    at.button(key="optimise_f1").click().run()
    assert not at.exception
    assert tuple(at.session_state["thresholds"]) != before
    assert any("thresholds set" in s.value for s in at.success)
    at.slider(key="thr_0_slider").set_value(0.37).run()
    assert at.session_state["thresholds"][0] == 0.37
