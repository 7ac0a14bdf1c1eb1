"""Thresholds survive page changes and live in the URL, so a link reproduces a view."""

import numpy as np

from apptest_support import (
    BINARY, MULTICLASS, MULTILABEL, SAMPLES, SPARSE, charts, open_app, thresholds_in_state,
    upload,
)


def test_moves_are_written_to_the_query_string_exactly():
    at = open_app(MULTICLASS)
    at.number_input(key="thr_1_number").set_value(0.1 + 0.2).run()  # 0.30000000000000004
    at.selectbox(key="thr_class").select("barbera").run()
    assert at.query_params["t"] == "0.0,0.30000000000000004,0.0"
    assert at.query_params["sample"] == MULTICLASS
    assert at.query_params["mode"] == "per_class"
    assert at.query_params["class"] == "barbera"


def test_a_link_reproduces_the_view():
    at = open_app(MULTILABEL, t=",".join(["0.25"] * 9 + ["0.30000000000000004"]),
                  mode="per_class", **{"class": "prime"})
    assert at.session_state["dataset"].source.name == MULTILABEL
    expected = np.array([0.25] * 9 + [0.1 + 0.2])
    np.testing.assert_array_equal(thresholds_in_state(at), expected)
    assert at.slider(key="thr_9_slider").value == 0.1 + 0.2
    assert at.selectbox(key="thr_class").value == "prime"
    assert at.selectbox(key="sample_widget").value == MULTILABEL


def test_a_link_with_rule_mode_and_overrides():
    at = open_app(MULTICLASS, t="0.6,0.6,0.6", mode="global", rule="threshold_argmax",
                  nopred="fallback_argmax")
    assert at.session_state["mode"] == "global"
    assert at.slider(key="thr_global_slider").value == 0.6
    rule = at.session_state["dataset"].rule
    assert (rule.rule, rule.no_prediction) == ("threshold_argmax", "fallback_argmax")
    at2 = open_app(MULTILABEL, kind="logit")
    assert at2.session_state["dataset"].predictions.activation == "sigmoid"


def test_thresholds_survive_page_changes():
    at = open_app(BINARY)
    at.slider(key="thr_0_slider").set_value(0.81).run()
    for page in ("pages/confusion.py", "pages/calibration.py", "pages/export.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert thresholds_in_state(at)[0] == 0.81
        assert at.query_params["t"] == "0.81"
    at.switch_page("pages/thresholds.py").run()
    assert at.slider(key="thr_0_slider").value == 0.81


def test_optimise_inputs_and_toggles_survive_page_changes():
    at = open_app(SPARSE)
    chosen = {"opt_cost_fp": 20.0, "opt_cost_fn": 3.5, "opt_precision": 0.5,
              "opt_recall": 0.65, "opt_beta": 2.5}
    for key, value in chosen.items():
        at.number_input(key=key).set_value(value)
    at.toggle(key="thr_all").set_value(True)
    at.toggle(key="thr_small_multiples").set_value(True)
    at.run()
    at.switch_page("pages/confusion.py").run()
    at.switch_page("pages/thresholds.py").run()
    assert not at.exception
    for key, value in chosen.items():
        assert at.number_input(key=key).value == value, key
    assert at.toggle(key="thr_all").value and at.toggle(key="thr_small_multiples").value
    assert at.button(key="optimise_precision").label.endswith("≥ 0.5")
    assert "thr_small_multiples_chart" in charts(at)


def test_confusion_and_calibration_choices_survive_page_changes():
    at = open_app(SPARSE, page="pages/confusion.py")
    at.multiselect(key="cm_labels").set_value(["seven", "bold_two"])
    at.toggle(key="cm_normalise").set_value(True)
    at.toggle(key="cm_all").set_value(True)
    at.run()
    at.switch_page("pages/calibration.py").run()
    at.slider(key="cal_bins").set_value(20)
    at.button_group(key="cal_strategy").set_value("quantile")
    at.run()
    at.switch_page("pages/confusion.py").run()
    assert not at.exception
    assert at.multiselect(key="cm_labels").value == ["seven", "bold_two"]
    assert at.toggle(key="cm_normalise").value and at.toggle(key="cm_all").value
    cells = [t for t in charts(at)["cm_grid"]["data"] if t["type"] == "heatmap"]
    assert len(cells) == 2
    at.switch_page("pages/calibration.py").run()
    assert at.slider(key="cal_bins").value == 20
    assert at.button_group(key="cal_strategy").value == "quantile"


def test_bad_links_fall_back_with_one_sentence():
    at = open_app(MULTICLASS, t="0.5,abc,0.2")
    assert not at.exception
    np.testing.assert_array_equal(thresholds_in_state(at), [0, 0, 0])
    assert any("not numbers between 0 and 1" in w.value for w in at.warning)

    at = open_app("no_such_sample", t="0.5")
    assert at.session_state["dataset"].source.name == MULTICLASS
    assert any("does not exist" in w.value for w in at.warning)
    assert any("1 thresholds but the data has 3 classes" in w.value for w in at.warning) or \
        thresholds_in_state(at).tolist() == [0, 0, 0]

    at = open_app(MULTICLASS, task="binary")  # an override that cannot apply
    assert not at.exception
    assert len(at.error) == 1
    assert at.session_state["dataset"].task == "multiclass"


def test_a_link_to_an_upload_waits_for_that_file():
    raw = (SAMPLES / f"{BINARY}.csv").read_bytes()
    import hashlib

    sha = hashlib.sha256(raw).hexdigest()[:12]
    at = open_app(None, file="scores.csv", sha=sha, t="0.123")
    assert any("upload it again" in i.value.lower() for i in at.info)
    upload(at, "upload_widget", "scores.csv", raw)
    assert at.session_state["dataset"].source.name == "scores.csv"
    assert thresholds_in_state(at).tolist() == [0.123]
    assert not at.info


def test_a_link_to_an_upload_without_a_hash_waits_for_a_file_of_that_name():
    raw = (SAMPLES / f"{MULTICLASS}.csv").read_bytes()  # three classes, as the link's thresholds
    at = open_app(None, file="pets_scores.csv", t="0.1,0.2,0.3")
    assert at.session_state["dataset"].source.kind == "sample"
    assert thresholds_in_state(at).tolist() == [0, 0, 0]
    assert any("upload it again" in i.value.lower() for i in at.info)
    upload(at, "upload_widget", "other.csv", raw)
    assert at.session_state["dataset"].source.name == "other.csv"
    assert thresholds_in_state(at).tolist() == [0, 0, 0]
    upload(at, "upload_widget", "pets_scores.csv", raw)
    assert at.session_state["dataset"].source.name == "pets_scores.csv"
    assert thresholds_in_state(at).tolist() == [0.1, 0.2, 0.3]
