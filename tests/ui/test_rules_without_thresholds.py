"""A rule under which thresholds do nothing greys out every control that sets them."""

from __future__ import annotations

from apptest_support import MULTICLASS, MULTILABEL, captions, open_app

from thresholdlab.ui.controls import OBJECTIVE_BUTTONS


def _threshold_widgets(at):
    sliders = [s for s in at.slider if s.key and s.key.startswith("thr_")]
    boxes = [n for n in at.number_input if n.key and n.key.startswith("thr_")]
    return sliders, boxes


def _everything_said(at) -> str:
    parts = [e.value for kind in (at.info, at.success, at.markdown) for e in kind]
    return " ".join(parts + captions(at))


def test_argmax_with_fallback_disables_sliders_boxes_and_optimise_buttons():
    at = open_app(MULTICLASS)
    at.button(key="optimise_f1").click().run()
    assert "thresholds set" in at.success[0].value
    at.selectbox(key="nopred_widget").set_value("fallback_argmax").run()
    assert not at.exception
    sliders, boxes = _threshold_widgets(at)
    assert len(sliders) == 3 and len(boxes) == 3
    assert all(w.disabled for w in sliders + boxes)
    assert all(at.button(key=f"optimise_{kind}").disabled for kind in OBJECTIVE_BUTTONS)
    # said in one line, and the greyed-out controls give the reason too
    assert len(at.info) == 1 and "every row gets its argmax" in at.info[0].value
    assert all("every row gets its argmax" in w.help for w in sliders)
    said = _everything_said(at)
    assert "thresholds set" not in said and not at.success
    assert "no prediction" not in said.replace("Abstain (no prediction)", "")
    # back to abstaining: the controls work again
    at.selectbox(key="nopred_widget").set_value("abstain").run()
    sliders, boxes = _threshold_widgets(at)
    assert not any(w.disabled for w in sliders + boxes) and not at.info
    assert not at.button(key="optimise_f1").disabled


def test_the_other_rule_with_fallback_keeps_its_sliders():
    at = open_app(MULTICLASS)
    at.selectbox(key="rule_widget").set_value("threshold_argmax").run()
    at.selectbox(key="nopred_widget").set_value("fallback_argmax").run()
    sliders, boxes = _threshold_widgets(at)
    assert sliders and not any(w.disabled for w in sliders + boxes)
    assert "get no prediction" not in _everything_said(at)


def test_multilabel_at_least_one_keeps_its_sliders():
    at = open_app(MULTILABEL)
    at.selectbox(key="nopred_widget").set_value("at_least_one").run()
    sliders, _ = _threshold_widgets(at)
    assert sliders and not any(w.disabled for w in sliders)


def test_argmax_with_fallback_disables_what_only_sets_thresholds_on_every_page():
    at = open_app(MULTICLASS)
    at.selectbox(key="nopred_widget").set_value("fallback_argmax").run()
    reason = "every row gets its argmax"
    # Thresholds page: the per class / global switch and the optimiser's costs and targets;
    # beta stays (the table's F-beta uses it).
    switch = [w for w in at.get("button_group") if w.key == "thr_mode"]
    assert switch and switch[0].disabled and reason in switch[0].help
    for key in ("opt_cost_fp", "opt_cost_fn", "opt_precision", "opt_recall"):
        assert at.number_input(key=key).disabled, key
    assert not at.number_input(key="opt_beta").disabled
    at.switch_page("pages/calibration.py").run()
    assert not at.exception
    assert at.button(key="cost_apply").disabled and reason in at.button(key="cost_apply").help
    at.switch_page("pages/evaluation.py").run()
    assert not at.exception
    assert at.button(key="ev_use").disabled and reason in at.button(key="ev_use").help
    # back to abstaining: they work again
    at.switch_page("pages/thresholds.py").run()
    at.selectbox(key="nopred_widget").set_value("abstain").run()
    assert not [w for w in at.get("button_group") if w.key == "thr_mode"][0].disabled
    assert not at.number_input(key="opt_cost_fp").disabled
