"""One metric, one name, one value: the optimiser's message, the tiles, the table and the JSON."""

from __future__ import annotations

import json
import re

import pytest
from apptest_support import BINARY, MULTICLASS, MULTILABEL, metric_values, open_app, table

from thresholdlab.ui import export


def _config(at) -> dict:
    ss = at.session_state
    return json.loads(export.config_json(
        ss["dataset"], ss["thresholds"], objective=ss["objective"],
        logit_thresholds=ss["logit_thresholds"],
    ))


def test_binary_best_f1_message_names_the_positive_class_and_agrees_with_the_json():
    at = open_app(BINARY)
    at.button(key="optimise_f1").click().run()
    message = at.success[0].value
    doc = _config(at)
    positive = doc["metrics"]["positive_class"]
    assert positive == "malignant" == doc["classes"][0]
    assert "macro" not in message
    threshold = doc["thresholds"][positive]
    assert threshold == 0.3822
    assert f"threshold {threshold!r} for {positive}, the positive class" in message
    f1 = re.search(rf"F1 of {positive} there: ([0-9]+\.[0-9]+)", message).group(1)
    assert f1 == f"{doc['metrics']['per_class'][positive]['f1']:.3f}"
    # the tile and the table show the same number under the same name
    assert metric_values(at)["F1"] == f1
    assert f"{table(at)['F1'][0]:.3f}" == f1
    # the URL carries the short threshold too
    assert at.query_params["t"] == ["0.3822"] or at.query_params["t"] == "0.3822"


@pytest.mark.parametrize("sample", [MULTICLASS, MULTILABEL])
def test_multi_class_message_names_the_macro_f1_the_json_and_the_tile_show(sample):
    at = open_app(sample)
    at.button(key="optimise_f1").click().run()
    message = at.success[0].value
    doc = _config(at)
    shown = re.search(r"macro F1 \(mean over the classes\) ([0-9]+\.[0-9]+)", message).group(1)
    assert shown == f"{doc['metrics']['macro']['f1']:.3f}" == metric_values(at)["Macro F1"]


def test_an_infeasible_target_says_which_number_is_the_threshold():
    at = open_app(MULTILABEL)  # one of its labels never reaches precision 1
    at.number_input(key="opt_precision").set_value(1.0).run()
    at.button(key="optimise_precision").click().run()
    warning = at.warning[-1].value
    assert "the closest, used instead, is the threshold " in warning
    assert "where precision is" in warning


def test_a_target_of_0_999_shows_as_0_999():
    at = open_app(MULTICLASS)
    at.number_input(key="opt_precision").set_value(0.999).run()
    box = at.number_input(key="opt_precision")
    assert box.value == 0.999 and box.format == "%.6g"
    assert at.button(key="optimise_precision").label.endswith("0.999")


def test_the_binary_sample_names_its_positive_class_not_one_class():
    at = open_app(BINARY)
    text = " ".join(m.value for m in at.sidebar.markdown)
    assert "positive class `malignant`" in text
    assert "1 class" not in text
