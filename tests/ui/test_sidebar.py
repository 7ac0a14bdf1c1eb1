"""Sidebar: sample picker, uploads (good and bad), detection overrides, decision rule."""

import numpy as np
import pytest

from streamlit.testing.v1 import AppTest

from apptest_support import (
    APP, TIMEOUT, BINARY, MULTICLASS, MULTILABEL, SAMPLES, SPARSE, Core, errors, metric_values, open_app,
    table, thresholds_in_state, upload, widget_keys,
)
from thresholdlab.ui import state
from thresholdlab.ui.tables import headlines


def test_sample_picker_lists_every_sample_with_friendly_names():
    at = open_app()
    picker = at.selectbox(key="sample_widget")
    assert set(picker.options) >= {
        "Wine cultivars: 3 classes, softmax logits",
        "Breast cancer: binary, probabilities",
        "Digit properties: 10 labels, probabilities",
        "Digit styles: 30 sparse labels, logits",
    }
    assert len(picker.options) == len(list(SAMPLES.glob("*.csv")))


@pytest.mark.parametrize("stem,task", [(BINARY, "binary"), (MULTILABEL, "multilabel"),
                                       (SPARSE, "multilabel")])
def test_picking_a_sample_loads_it(stem, task):
    at = open_app()
    at.selectbox(key="sample_widget").set_value(stem).run()
    assert not at.exception and not errors(at)
    dataset = at.session_state["dataset"]
    assert dataset.source.name == stem and dataset.task == task
    # detected roles and the loader's sentences are shown in place
    sidebar_text = " ".join(m.value for m in [*at.sidebar.markdown, *at.sidebar.caption])
    for sentence in dataset.predictions.notes:
        assert sentence in sidebar_text
    assert f"{dataset.predictions.n_rows:,} rows" in sidebar_text


def _moved(at):
    at.slider(key="thr_1_slider").set_value(0.61).run()
    return thresholds_in_state(at)


@pytest.mark.uploads
def test_bad_upload_shows_one_error_and_keeps_data_and_thresholds(bad_input, tmp_path):
    at = open_app(MULTICLASS)
    before = _moved(at)
    before_metrics = metric_values(at)
    data = bad_input.make(tmp_path).read_bytes()
    upload(at, "upload_widget", bad_input.name, data)
    assert not at.exception
    assert len(at.error) == 1
    assert bad_input.fragment in at.error[0].value
    assert "previous data and thresholds stay loaded" in at.error[0].value
    assert at.session_state["dataset"].source.name == MULTICLASS
    np.testing.assert_array_equal(thresholds_in_state(at), before)
    assert metric_values(at) == before_metrics
    # a later rerun still shows the same (one) error and the same data
    at.slider(key="thr_0_slider").set_value(0.2).run()
    assert len(at.error) == 1 and at.session_state["dataset"].source.name == MULTICLASS


def test_unexpected_loader_failure_is_one_sentence_not_a_traceback(monkeypatch):
    import thresholdlab.loading

    at = open_app()

    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line of detail")

    monkeypatch.setattr(thresholdlab.loading, "load", broken)
    upload(at, "upload_widget", "odd.csv", b"label,p_a\n1,0.5\n")
    assert not at.exception
    assert errors(at) == [
        "Could not read 'odd.csv': boom. The previous data and thresholds stay loaded."
    ]
    assert at.session_state["dataset"].source.name == MULTICLASS


def test_good_upload_replaces_the_data_and_picking_a_sample_goes_back():
    at = open_app()
    raw = (SAMPLES / f"{BINARY}.csv").read_bytes()
    upload(at, "upload_widget", "my_scores.csv", raw)
    assert not errors(at)
    dataset = at.session_state["dataset"]
    assert dataset.source.kind == "upload" and dataset.source.name == "my_scores.csv"
    assert dataset.task == "binary" and dataset.classes == ("malignant",)
    assert at.query_params["file"] == "my_scores.csv"
    at.slider(key="thr_0_slider").set_value(0.35).run()
    report = Core(BINARY).evaluate([0.35])
    assert table(at)["F1"].iloc[0] == report.per_class.f1[0]

    # (AppTest forgets an upload after its run, so removing it is left to the browser test)
    at.selectbox(key="sample_widget").set_value(MULTILABEL).run()
    assert at.session_state["dataset"].source.name == MULTILABEL
    assert at.query_params["sample"] == MULTILABEL and "file" not in at.query_params


def test_a_bad_upload_after_a_good_one_keeps_the_good_one():
    at = open_app()
    upload(at, "upload_widget", "good.csv", (SAMPLES / f"{BINARY}.csv").read_bytes())
    at.slider(key="thr_0_slider").set_value(0.35).run()
    upload(at, "upload_widget", "bad.csv", b"y_true,p_x\n1,high\n")
    assert len(at.error) == 1 and "bad.csv" in at.error[0].value
    assert at.session_state["dataset"].source.name == "good.csv"
    assert thresholds_in_state(at)[0] == 0.35


def test_score_kind_override_reloads_and_a_failing_override_is_undone():
    at = open_app(MULTILABEL)
    at.selectbox(key="override_kind").set_value("logit").run()
    assert not errors(at)
    p = at.session_state["dataset"].predictions
    assert p.score_kind == "logit" and p.activation == "sigmoid"
    assert at.query_params["kind"] == "logit"

    # wine holds logits outside [0, 1]: reading them as probabilities must fail, cleanly
    at.selectbox(key="sample_widget").set_value(MULTICLASS).run()
    assert at.selectbox(key="override_kind").value == "(detect)"
    at.slider(key="thr_0_slider").set_value(0.4).run()
    at.selectbox(key="override_kind").set_value("probability").run()
    assert not at.exception
    assert len(at.error) == 1
    assert at.selectbox(key="override_kind").value == "(detect)"  # back to what is in effect
    assert at.session_state["dataset"].predictions.score_kind == "logit"
    assert thresholds_in_state(at)[0] == 0.4


def test_task_and_column_overrides():
    at = open_app(MULTICLASS)
    at.selectbox(key="override_label_col").set_value("label").run()
    assert not errors(at)
    assert at.session_state["dataset"].overrides.label_col == "label"
    at.multiselect(key="override_score_cols").set_value(
        ["logit_barolo", "logit_grignolino"]).run()
    assert not at.exception
    dataset = at.session_state["dataset"]
    if errors(at):  # labels 3 has no score column: the loader says so, data unchanged
        assert len(at.error) == 1 and dataset.predictions.n_classes == 3
    else:
        assert dataset.predictions.n_classes == 2


@pytest.mark.parametrize("rule,no_prediction", [
    ("threshold_argmax", "abstain"), ("argmax", "fallback_argmax"),
    ("threshold_argmax", "fallback_argmax"),
])
def test_multiclass_decision_rules(rule, no_prediction):
    at = open_app(MULTICLASS)
    at.slider(key="thr_0_slider").set_value(0.7).run()
    at.slider(key="thr_1_slider").set_value(0.8).run()
    at.selectbox(key="rule_widget").set_value(rule).run()
    at.selectbox(key="nopred_widget").set_value(no_prediction).run()
    assert not at.exception
    core = Core(MULTICLASS, rule, no_prediction)
    thresholds = thresholds_in_state(at)
    report = core.evaluate(thresholds)
    shown = metric_values(at)
    for h in headlines(report):
        assert shown[h.label] == h.text
    np.testing.assert_array_equal(table(at)["TP"].to_numpy(), report.counts.tp)
    assert at.query_params.get("rule", "argmax") == rule
    assert at.query_params.get("nopred", "abstain") == no_prediction


def test_multilabel_at_least_one():
    at = open_app(MULTILABEL)
    at.slider(key="thr_0_slider").set_value(0.95).run()
    at.selectbox(key="nopred_widget").set_value("at_least_one").run()
    core = Core(MULTILABEL, "threshold", "at_least_one")
    report = core.evaluate(thresholds_in_state(at))
    np.testing.assert_array_equal(table(at)["FP"].to_numpy(), report.counts.fp)
    assert metric_values(at)["Samples F1"] == f"{report.aggregates.samples_f1:.3f}"


def test_the_file_given_to_thresholdlab_app_opens_first(monkeypatch, tmp_path):
    path = tmp_path / "val_scores.csv"
    path.write_bytes((SAMPLES / f"{BINARY}.csv").read_bytes())
    monkeypatch.setenv("THRESHOLDLAB_FILE", str(path))
    at = open_app()
    dataset = at.session_state["dataset"]
    assert (dataset.source.kind, dataset.source.name, dataset.task) == ("file", "val_scores.csv",
                                                                        "binary")
    at.slider(key="thr_0_slider").set_value(0.4).run()
    query = dict(at.query_params)
    assert query["file"] == "val_scores.csv" and query["t"] == "0.4"
    # the link reopens the same file with its thresholds (a new session)
    again = open_app(None, **query)
    assert thresholds_in_state(again).tolist() == [0.4] and not again.info
    # a link naming a sample wins over the file
    assert open_app(MULTILABEL).session_state["dataset"].source.name == MULTILABEL
    monkeypatch.setenv("THRESHOLDLAB_FILE", str(tmp_path / "gone.csv"))
    at = open_app()
    assert at.session_state["dataset"].source.name == MULTICLASS
    assert len(at.error) == 1 and "gone.csv" in at.error[0].value


def test_thresholdlab_app_hands_its_overrides_to_the_dashboard(monkeypatch, tmp_path):
    import json as _json

    from thresholdlab.cli import build_parser

    # Two score columns with binary labels load as binary unless told "multiclass".
    path = tmp_path / "two.csv"
    path.write_text("label,p_cat,p_dog\n0,0.8,0.2\n1,0.3,0.7\n0,0.6,0.4\n")
    args = build_parser().parse_args(["app", str(path), "--task", "multiclass"])
    captured = {}
    monkeypatch.setattr("subprocess.call", lambda command, env: captured.update(env) or 0)
    assert args.func(args) == 0
    assert _json.loads(captured["THRESHOLDLAB_OVERRIDES"])["task"] == "multiclass"
    monkeypatch.setenv("THRESHOLDLAB_FILE", captured["THRESHOLDLAB_FILE"])
    monkeypatch.setenv("THRESHOLDLAB_OVERRIDES", captured["THRESHOLDLAB_OVERRIDES"])
    dataset = open_app().session_state["dataset"]
    assert (dataset.source.name, dataset.task, dataset.classes) == ("two.csv", "multiclass",
                                                                    ("cat", "dog"))


def test_no_readable_data_at_all_is_one_sentence_not_a_traceback(monkeypatch, tmp_path):
    import thresholdlab.loading
    from thresholdlab.predictions import DataError
    from thresholdlab.ui import data

    def unreadable(source, *args, name=None, **kwargs):
        raise DataError(f"File '{name}' is unreadable.")

    bad = tmp_path / "scores.csv"
    bad.write_text("label,p_a\n1,0.5\n")
    monkeypatch.setenv("THRESHOLDLAB_FILE", str(bad))
    monkeypatch.setattr(thresholdlab.loading, "load", unreadable)
    data.clear_caches()  # the bundled sample must really be read again
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    data.clear_caches()
    assert not at.exception
    assert len(at.error) == 1
    assert "The bundled sample could not be read either" in at.error[0].value
    assert "scores.csv" in at.error[0].value


def test_every_widget_key_that_state_names_is_drawn():
    """The widget keys ``state`` seeds from its plain keys are the ones the app draws."""
    at = open_app(MULTICLASS)
    named = {value for name, value in vars(state).items() if name.startswith("W_")}
    assert named, "state names the sidebar's widget keys"
    assert named <= widget_keys(at), named - widget_keys(at)


def test_many_warnings_show_three_boxes_and_list_the_rest_folded():
    """A multi-label file with ten labels that never occur: a warning each, not ten boxes."""
    rng = np.random.default_rng(1)
    n, k = 60, 12
    truth = np.zeros((n, k), dtype=int)
    truth[:, :2] = rng.integers(0, 2, (n, 2))
    header = ",".join([f"y_{j}" for j in range(k)] + [f"p_{j}" for j in range(k)])
    rows = [",".join(map(str, truth[i])) + "," + ",".join(f"{v:.3f}" for v in rng.random(k))
            for i in range(n)]
    at = open_app()
    upload(at, "upload_widget", "sparse.csv", ("\n".join([header, *rows]) + "\n").encode())
    assert not at.exception
    boxes = [w.value for w in at.sidebar.warning]
    assert len(boxes) == 3 and all("has no positive rows" in w for w in boxes)
    folded = [e for e in at.sidebar.expander if e.label == "7 more warnings"]
    assert len(folded) == 1
    listed = folded[0].markdown[0].value.splitlines()
    assert len(listed) == 7 and listed[-1] == ("- Class '11' has no positive rows, so its "
                                               "average precision and ROC AUC are undefined.")


def test_an_error_naming_command_line_options_says_where_they_are_in_the_sidebar():
    at = open_app()
    percent = "label,p_a,p_b\n" + "".join(f"{i % 2},{30 + i},{70 - i}\n" for i in range(20))
    upload(at, "upload_widget", "pct.csv", percent.encode())
    assert not at.exception
    [error] = errors(at)
    assert "--score-kind logit" in error
    assert ("Here the same choices are under “Columns and detection” in the sidebar."
            in error)
    # A sentence that already says where stays as it is.
    upload(at, "upload_widget", "nolabels.csv", b"p_a,p_b\n0.1,0.9\n")
    [error] = errors(at)
    assert "(or in the sidebar)" in error and "Here the same choices" not in error
