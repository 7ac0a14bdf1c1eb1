"""Thresholds page: sliders, exact entry, global mode, optimise buttons, charts and tables,
for each task type, against the core's own answers."""

import numpy as np
import pytest

from apptest_support import captions as small_print
from apptest_support import (
    BINARY, BY_TASK, MULTICLASS, MULTILABEL, SPARSE, Core, charts, errors, metric_values,
    open_app, table, thresholds_in_state, trace,
)
from thresholdlab.optimise import optimise
from thresholdlab.ui import controls
from thresholdlab.ui.tables import format_value, headlines


def assert_page_matches_core(at, core: Core, thresholds, beta: float = 1.0):
    """Table, headline numbers and the plotted operating point all equal the core's."""
    report = core.evaluate(thresholds, beta)
    frame = table(at)
    assert list(frame["class"]) == list(core.classes) or len(core.classes) > 12
    frame = frame.set_index("class").loc[list(core.classes)]
    m, c = report.per_class, report.counts
    np.testing.assert_array_equal(frame["threshold"].to_numpy(), np.asarray(thresholds))
    for column, expected in (("TP", c.tp), ("FP", c.fp), ("FN", c.fn), ("TN", c.tn),
                             ("support", c.support), ("predicted", c.predicted)):
        np.testing.assert_array_equal(frame[column].to_numpy(), expected)
    for column, expected in (("precision", m.precision), ("recall", m.recall), ("F1", m.f1),
                             ("MCC", m.mcc), ("specificity", m.specificity)):
        np.testing.assert_array_equal(frame[column].to_numpy(), expected)
    np.testing.assert_array_equal(
        frame["AP"].to_numpy(), np.where(np.isfinite(report.ranking.average_precision),
                                         report.ranking.average_precision, np.nan))
    shown = metric_values(at)
    for h in headlines(report):
        assert shown[h.label] == h.text, h.label
    c0 = core.classes.index(at.session_state["selected_class"])
    point = trace(charts(at)["thr_pr"], "operating point")
    assert point["x"][0] == m.recall[c0]  # exact, not float32
    assert point["y"][0] == m.precision[c0]
    return report


def test_opens_on_the_wine_sample_with_no_file():
    at = open_app()
    core = Core(MULTICLASS)
    assert not errors(at)
    assert [s.label for s in at.slider] == list(core.classes)
    assert at.session_state["dataset"].source.name == MULTICLASS
    assert_page_matches_core(at, core, np.zeros(3))
    # the softmax explanation and the abstention trade-off are on the page
    captions = " ".join(small_print(at))
    assert "softmax" in captions and "coverage" in captions


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_moving_a_slider_changes_the_metrics_to_the_cores(task):
    stem = BY_TASK[task]
    at = open_app(stem)
    core = Core(stem)
    before = metric_values(at)
    k = len(core.classes)
    c = k - 1
    at.slider(key=f"thr_{c}_slider").set_value(0.73).run()
    expected = thresholds_in_state(at)
    assert expected[c] == 0.73
    assert at.number_input(key=f"thr_{c}_number").value == 0.73
    assert_page_matches_core(at, core, expected)
    assert metric_values(at) != before


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_number_entry_is_exact_and_moves_the_slider(task):
    stem = BY_TASK[task]
    at = open_app(stem)
    at.number_input(key="thr_0_number").set_value(0.4237191).run()
    assert thresholds_in_state(at)[0] == 0.4237191
    assert at.slider(key="thr_0_slider").value == 0.4237191
    assert_page_matches_core(at, Core(stem), thresholds_in_state(at))


@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_global_mode_sets_every_class(task):
    stem = BY_TASK[task]
    at = open_app(stem)
    at.button_group(key="thr_mode").set_value("global").run()
    assert at.session_state["mode"] == "global"
    at.slider(key="thr_global_slider").set_value(0.62).run()
    core = Core(stem)
    expected = np.full(len(core.classes), 0.62)
    np.testing.assert_array_equal(thresholds_in_state(at), expected)
    assert_page_matches_core(at, core, expected)


OBJECTIVES = {
    "f1": "f1",
    "fbeta": "fbeta:2",
    "youden": "youden",
    "cost": "cost:1:5",
    "precision": "precision>=0.9",
    "recall": "recall>=0.8",
}


@pytest.mark.parametrize("kind", list(OBJECTIVES))
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_optimise_buttons_set_the_cores_optimum(task, kind):
    stem = BY_TASK[task]
    at = open_app(stem)
    at.number_input(key="opt_beta").set_value(2.0)
    at.button(key=f"optimise_{kind}").click().run()
    assert not at.exception
    core = Core(stem)
    best = optimise(core.index, OBJECTIVES[kind], mode="per_class")
    expected = np.clip(best.thresholds, 0, 1)
    np.testing.assert_array_equal(thresholds_in_state(at), expected)
    for c in range(len(core.classes)):
        assert at.number_input(key=f"thr_{c}_number").value == expected[c]
    assert at.session_state["objective"] == best.objective.text
    assert_page_matches_core(at, core, expected, beta=2.0)
    assert any(best.objective.text in s.value for s in at.success)


def test_global_optimise_and_infeasible_targets_are_explained():
    at = open_app(MULTILABEL)
    at.button_group(key="thr_mode").set_value("global").run()
    at.button(key="optimise_f1").click().run()
    core = Core(MULTILABEL)
    best = optimise(core.index, "f1", mode="global")
    np.testing.assert_array_equal(thresholds_in_state(at), best.thresholds)

    at.button_group(key="thr_mode").set_value("per_class").run()
    at.number_input(key="opt_precision").set_value(1.0).run()
    at.button(key="optimise_precision").click().run()
    best = optimise(core.index, "precision>=1", mode="per_class")
    assert best.infeasible, "the sample should have a class that cannot reach precision 1"
    np.testing.assert_array_equal(thresholds_in_state(at), best.thresholds)
    warning = " ".join(w.value for w in at.warning)
    for sentence in best.infeasible.values():
        assert sentence in warning


def test_the_optimised_costs_are_the_typed_ones():
    at = open_app(MULTICLASS)
    at.number_input(key="opt_cost_fp").set_value(1234567.0)
    at.number_input(key="opt_cost_fn").set_value(1234568.0)
    at.run()
    assert "`cost:1234567:1234568`" in at.button(key="optimise_cost").help
    at.button(key="optimise_cost").click().run()
    core = Core(MULTICLASS)
    exact = optimise(core.index, "cost:1234567:1234568", mode="per_class")
    # six significant digits would weigh both errors alike, which moves barbera's optimum
    rounded = optimise(core.index, "cost:1.23457e+06:1.23457e+06", mode="per_class")
    assert not np.array_equal(exact.thresholds, rounded.thresholds)
    np.testing.assert_array_equal(thresholds_in_state(at), exact.thresholds)


@pytest.fixture
def long_echo_window(monkeypatch):
    """Every value the app pushed counts as recent, so the rule decides, not the test's pace."""
    monkeypatch.setattr(controls, "ECHO_WINDOW_S", 3600.0)


def test_typing_the_value_shown_before_an_optimum_is_taken_at_once(long_echo_window):
    at = open_app(BINARY)
    at.button(key="optimise_f1").click().run()
    best = thresholds_in_state(at)[0]
    assert best != 0.5
    at.number_input(key="thr_0_number").set_value(0.5).run()
    assert thresholds_in_state(at)[0] == 0.5
    assert at.slider(key="thr_0_slider").value == 0.5
    at.number_input(key="thr_0_number").set_value(best).run()
    assert thresholds_in_state(at)[0] == best
    assert at.slider(key="thr_0_slider").value == best


def test_reports_from_a_browser_behind_the_app_move_nothing(long_echo_window):
    """A rerun request carries every widget's value as the browser shows it, which lags what
    the app pushed by a round trip."""
    at = open_app(BINARY)
    at.button(key="optimise_f1").click().run()
    best = thresholds_in_state(at)[0]
    # sent before the optimum reached the browser: both widgets still show the old value
    at.slider(key="thr_0_slider").set_value(0.5)
    at.number_input(key="thr_0_number").set_value(0.5)
    at.run()
    assert thresholds_in_state(at)[0] == best
    # then the browser shows the optimum: that is no move by the user
    at.slider(key="thr_0_slider").set_value(best)
    at.number_input(key="thr_0_number").set_value(best)
    at.run()
    assert thresholds_in_state(at)[0] == best
    assert at.session_state["objective"] == "f1"
    # a slider held down: the number box reports the value from before the last step
    at.slider(key="thr_0_slider").set_value(0.51).run()
    at.slider(key="thr_0_slider").set_value(0.52)
    at.number_input(key="thr_0_number").set_value(best)
    at.run()
    assert thresholds_in_state(at)[0] == 0.52
    assert at.number_input(key="thr_0_number").value == 0.52


def test_the_picked_slider_follows_the_class_not_the_previous_one(long_echo_window):
    at = open_app(SPARSE)
    classes = Core(SPARSE).classes
    a, b = classes.index("seven"), classes.index("bold_two")
    at.selectbox(key="thr_class").select("seven").run()
    at.slider(key="thr_picked_slider").set_value(0.2).run()
    at.selectbox(key="thr_class").select("bold_two").run()
    assert at.slider(key="thr_picked_slider").value == 0.5
    # sent before the browser showed bold_two's slider: a move of seven's, not bold_two's
    at.slider(key="thr_picked_slider").set_value(0.3)
    at.number_input(key="thr_picked_number").set_value(0.2)
    at.run()
    assert thresholds_in_state(at)[[a, b]].tolist() == [0.2, 0.5]
    # moving bold_two's slider to seven's value is the user's choice
    at.slider(key="thr_picked_slider").set_value(0.2).run()
    assert thresholds_in_state(at)[[a, b]].tolist() == [0.2, 0.2]
    at.selectbox(key="thr_class").select("seven").run()
    at.number_input(key="thr_picked_number").set_value(0.5).run()
    assert thresholds_in_state(at)[[a, b]].tolist() == [0.5, 0.2]


def test_a_move_stays_when_the_next_request_carries_its_number_box_from_before(long_echo_window):
    """The user moves a slider, then another class's before the browser showed the first
    class's number box at the new value: that request still carries the box's old value."""
    at = open_app(MULTILABEL)
    before = thresholds_in_state(at)[0]
    assert before != 0.3
    at.slider(key="thr_0_slider").set_value(0.3).run()
    assert thresholds_in_state(at)[0] == 0.3
    at.number_input(key="thr_0_number").set_value(float(before))
    at.slider(key="thr_1_slider").set_value(0.7)
    at.run()
    assert thresholds_in_state(at)[:2].tolist() == [0.3, 0.7]
    assert at.number_input(key="thr_0_number").value == 0.3
    # once a request shows the box at 0.3, typing the old value back is the user's choice
    at.slider(key="thr_1_slider").set_value(0.8).run()
    at.number_input(key="thr_0_number").set_value(float(before)).run()
    assert thresholds_in_state(at)[:2].tolist() == [before, 0.8]
    assert at.slider(key="thr_0_slider").value == before


def test_a_typed_value_stays_when_the_next_request_carries_its_slider_from_before(long_echo_window):
    at = open_app(MULTILABEL)
    before = thresholds_in_state(at)[0]
    at.number_input(key="thr_0_number").set_value(0.123).run()
    assert thresholds_in_state(at)[0] == 0.123
    at.slider(key="thr_0_slider").set_value(float(before))
    at.slider(key="thr_1_slider").set_value(0.7)
    at.run()
    assert thresholds_in_state(at)[:2].tolist() == [0.123, 0.7]
    assert at.slider(key="thr_0_slider").value == 0.123


def test_a_manual_move_after_optimising_marks_the_thresholds_manual():
    at = open_app(BINARY)
    at.button(key="optimise_f1").click().run()
    assert at.session_state["objective"] == "f1"
    at.slider(key="thr_0_slider").set_value(0.3).run()
    assert at.session_state["objective"] == "manual"
    assert not at.success


def test_class_picker_and_multiclass_reachable_curve():
    at = open_app(MULTICLASS)
    at.selectbox(key="thr_class").select("barbera").run()
    core = Core(MULTICLASS)
    figs = charts(at)
    assert "barbera" in figs["thr_pr"]["layout"]["title"]["text"]
    names = [t.get("name") for t in figs["thr_pr"]["data"]]
    assert "one-vs-rest, all rows" in names and "reachable by its threshold" in names
    ap = core.ranking.average_precision[2]
    assert f"AP {ap:.3f}" in figs["thr_pr"]["layout"]["title"]["text"]
    assert f"AUC {core.ranking.roc_auc[2]:.3f}" in figs["thr_roc"]["layout"]["title"]["text"]
    assert any("Under argmax only rows whose top class is barbera" in c for c in small_print(at))
    assert_page_matches_core(at, core, np.zeros(3))


def test_beta_changes_the_fbeta_column():
    at = open_app(BINARY)
    at.number_input(key="opt_beta").set_value(0.5).run()
    frame = table(at)
    assert "F0.5" in frame.columns
    report = Core(BINARY).evaluate([0.5], beta=0.5)
    assert frame["F0.5"].iloc[0] == report.per_class.fbeta[0]


def test_thirty_sparse_labels_stay_usable():
    at = open_app(SPARSE)
    core = Core(SPARSE)
    assert len(core.classes) == 30
    # the picked class's slider; all 30 only on request (nothing hidden is drawn on each move)
    def grid_sliders():
        return [s for s in at.slider if s.key.startswith("thr_") and s.key[4:-7].isdigit()]

    assert at.slider(key="thr_picked_slider").label == core.classes[0]
    assert grid_sliders() == []
    at.toggle(key="thr_all").set_value(True).run()
    assert [s.label for s in grid_sliders()] == list(core.classes)
    frame = table(at)
    assert list(frame["F1"]) == sorted(frame["F1"])  # weakest first
    at.selectbox(key="thr_class").select("bold_two").run()
    assert at.slider(key="thr_picked_slider").label == "bold_two"
    at.slider(key="thr_picked_slider").set_value(0.2).run()
    c = core.classes.index("bold_two")
    assert thresholds_in_state(at)[c] == 0.2
    assert at.slider(key=f"thr_{c}_slider").value == 0.2
    assert at.number_input(key=f"thr_{c}_number").value == 0.2
    assert_page_matches_core(at, core, thresholds_in_state(at))
    # a slider of the full grid moves that class's threshold, and the picked slider follows
    other = core.classes.index("bold_one")
    at.selectbox(key="thr_class").select("bold_one").run()
    at.slider(key=f"thr_{other}_slider").set_value(0.35).run()
    assert thresholds_in_state(at)[other] == 0.35
    assert at.slider(key="thr_picked_slider").value == 0.35
    assert_page_matches_core(at, core, thresholds_in_state(at))
    at.toggle(key="thr_all").set_value(False).run()
    assert grid_sliders() == []
    assert thresholds_in_state(at)[other] == 0.35  # hiding the grid keeps every threshold
    captions = " ".join(small_print(at))
    assert "predicting no label at all" in captions and "sigmoid" in captions
    # small multiples on demand: one SVG scatter pair per class
    at.toggle(key="thr_small_multiples").set_value(True).run()
    grid = charts(at)["thr_small_multiples_chart"]
    assert sum(t.get("name") == "operating point" for t in grid["data"]) == 30
    assert all(t["type"] == "scatter" for t in grid["data"])


def test_plotted_curves_are_float32_and_at_most_2000_points():
    at = open_app(SPARSE)
    for name in ("thr_pr", "thr_roc", "thr_vs_threshold"):
        for t in charts(at)[name]["data"]:
            x = t.get("x")
            if isinstance(x, np.ndarray):
                assert x.dtype == np.float32
                assert len(x) <= 2001


def test_headline_formatting():
    assert format_value(None) == "n/a"
    assert format_value(float("nan")) == "n/a"
    assert format_value(0.5, percent=True) == "50.0%"
    assert format_value(0.12345) == "0.123"


def test_large_multilabel_data_leaves_out_the_row_metrics_and_says_why(monkeypatch):
    from thresholdlab.ui import data

    monkeypatch.setattr(data, "SAMPLE_BASED_LIMIT", 10)  # every sample is "large" now
    at = open_app(MULTILABEL)
    shown = tiles(at)
    for label in ("Samples F1", "Subset accuracy"):
        assert shown[label][0] == "n/a"
        assert "Not computed for data this large" in shown[label][1]
    monkeypatch.undo()
    at = open_app(MULTILABEL)
    shown = tiles(at)
    assert shown["Samples F1"][0] != "n/a"
    assert "Not computed" not in shown["Samples F1"][1]


def tiles(at) -> dict[str, tuple[str, str]]:
    """The Thresholds page's headline tiles: label -> (value, help)."""
    import html
    import re

    from apptest_support import html_bodies

    return {
        html.unescape(label): (html.unescape(value), html.unescape(help_))
        for body in html_bodies(at)
        for label, value, help_ in re.findall(
            r'<div class="tl-tile-label">(.*?)</div><div class="tl-tile-value">(.*?)</div>'
            r'<div class="tl-tile-help" role="tooltip">(.*?)</div>', body)
    }
