"""Export page: the JSON config (pure function and page), restoring it, per-row decisions."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st_

from apptest_support import (
    BY_TASK, MULTICLASS, MULTILABEL, SPARSE, Core, errors, open_app, thresholds_in_state, upload,
)
from thresholdlab.decisions import decide, decisions_frame
from thresholdlab.predictions import DataError
from thresholdlab.ui import export
from thresholdlab.ui.data import Dataset, Overrides, Source


def dataset_of(stem: str, rule=None, no_prediction=None) -> Dataset:
    core = Core(stem, rule, no_prediction)
    return Dataset(Source.sample(stem), Overrides(), core.rule, core.pset, core.index, core.ranking)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_config_json_parses_holds_the_thresholds_and_round_trips(task):
    ds = dataset_of(BY_TASK[task])
    rng = np.random.default_rng(3)
    thresholds = rng.random(len(ds.classes))
    text = export.config_json(ds, thresholds, objective="manual", beta=2.0)
    doc = json.loads(text)
    assert doc["schema_version"] == 1 and doc["task"] == task
    assert doc["classes"] == list(ds.classes)
    assert [doc["thresholds"][c] for c in ds.classes] == thresholds.tolist()
    assert doc["data"]["sha256"] == ds.predictions.sha256
    report = Core(BY_TASK[task]).evaluate(thresholds, beta=2.0)
    assert doc["metrics"]["macro"] == report.to_dict()["macro"]
    restored = export.restore(text.encode(), "x.json", ds)
    assert restored.thresholds.tobytes() == thresholds.tobytes()  # bit for bit
    assert restored.rule == ds.rule and not restored.notes


@settings(max_examples=40, deadline=None)
@given(st_.lists(st_.floats(0, 1, allow_nan=False), min_size=3, max_size=3))
def test_export_then_import_is_identity(values):
    ds = _WINE
    thresholds = np.array(values)
    restored = export.restore(export.config_json(ds, thresholds), "t.json", ds)
    assert restored.thresholds.tobytes() == thresholds.tobytes()


_WINE = dataset_of(MULTICLASS)


def test_sigmoid_logit_thresholds_from_the_optimiser_are_kept():
    ds = dataset_of(SPARSE)
    from thresholdlab.optimise import optimise

    best = optimise(ds.index, "f1")
    doc = json.loads(export.config_json(ds, best.thresholds, objective="f1",
                                        logit_thresholds=best.logit_thresholds))
    assert doc["objective"] == "f1"
    assert [doc["logit_thresholds"][c] for c in ds.classes] == best.logit_thresholds.tolist()


def test_restore_explains_mismatches():
    wine, digits = dataset_of(MULTICLASS), dataset_of(MULTILABEL)
    with pytest.raises(DataError, match="multiclass data but the data is multilabel"):
        export.restore(export.config_json(wine, [0.1, 0.2, 0.3]), "w.json", digits)
    other = json.loads(export.config_json(wine, [0.1, 0.2, 0.3]))
    other["classes"][2] = "nebbiolo"
    other["thresholds"] = {"barolo": 0.1, "grignolino": 0.2, "nebbiolo": 0.3}
    with pytest.raises(DataError, match="missing from the config: 'barbera'; not in the data: "
                                         "'nebbiolo'"):
        export.restore(json.dumps(other), "w.json", wine)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_decisions_csv_equals_the_core(task):
    ds = dataset_of(BY_TASK[task])
    thresholds = np.full(len(ds.classes), 0.55)
    got = pd.read_csv(io.BytesIO(export.decisions_csv(ds, thresholds)), keep_default_na=False)
    decisions = decide(ds.predictions.probabilities, thresholds, ds.rule)
    want = decisions_frame(ds.predictions, decisions)
    assert list(got.columns) == list(want.columns)
    assert len(got) == ds.predictions.n_rows
    for column in want.columns:
        assert got[column].astype(str).tolist() == want[column].astype(str).tolist()


def config_upload(at, name, text):
    return upload(at, "config_upload", name, text.encode() if isinstance(text, str) else text,
                  "application/json")


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_page_offers_the_json_and_restores_every_slider(task):
    stem = BY_TASK[task]
    at = open_app(stem)
    k = len(at.session_state["dataset"].classes)
    wanted = np.round(np.linspace(0.15, 0.85, k), 6) + 1e-9
    at.switch_page("pages/export.py").run()
    assert not at.exception
    ds = at.session_state["dataset"]
    config_upload(at, "mine.json", export.config_json(ds, wanted))
    assert not errors(at)
    assert any("Restored" in s.value for s in at.success)
    np.testing.assert_array_equal(thresholds_in_state(at), wanted)
    at.switch_page("pages/thresholds.py").run()
    for c in range(k):
        assert at.slider(key=f"thr_{c}_slider").value == wanted[c]
        assert at.number_input(key=f"thr_{c}_number").value == wanted[c]


MARKUP = "see [the fix](http://evil.example/login) ![x](http://evil.example/t.png)"


@pytest.mark.parametrize("objective, kept", [
    ("fbeta:2", "fbeta:2"), ("F1", "f1"), ("cost:per_class", "cost:per_class"),
    (MARKUP, None), ("fbeta:0", None), ("precision>=2", None), ("x" * 100_000, None),
])
def test_a_config_s_objective_is_restored_only_when_thresholdlab_writes_it(objective, kept):
    """A shared config is anyone's to write: text that is no objective never reaches a page."""
    at = open_app(MULTICLASS)
    at.switch_page("pages/export.py").run()
    ds = at.session_state["dataset"]
    doc = json.loads(export.config_json(ds, [0.2, 0.3, 0.4]))
    doc["objective"] = objective
    doc["data"] = {**doc["data"], "sha256": "0" * 64, "file": MARKUP}
    config_upload(at, "shared.json", json.dumps(doc))
    assert not at.exception and not errors(at)
    said = " ".join(s.value for s in at.success)
    assert at.session_state["objective"] == (kept or "manual")
    assert ("is not one ThresholdLab writes" in said) == (kept is None)
    assert "evil.example" not in said and "'another file'" in said
    at.run()
    shown = " ".join(e.value for kind in (at.caption, at.markdown, at.success, at.info)
                     for e in kind)
    assert "evil.example" not in shown


def test_page_download_buttons_and_json_preview():
    at = open_app(MULTICLASS)
    at.slider(key="thr_2_slider").set_value(0.45).run()
    at.switch_page("pages/export.py").run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download thresholds (JSON)", "Download decisions (CSV)"]
    shown = json.loads(at.code[0].value)
    assert shown["thresholds"] == {"barolo": 0.0, "grignolino": 0.0, "barbera": 0.45}


def test_restoring_brings_back_the_rule_and_global_mode():
    ds = dataset_of(MULTICLASS, "threshold_argmax", "fallback_argmax")
    text = export.config_json(ds, [0.7, 0.7, 0.7])
    at = open_app(MULTICLASS, page="pages/export.py")
    config_upload(at, "rule.json", text)
    rule = at.session_state["dataset"].rule
    assert (rule.rule, rule.no_prediction) == ("threshold_argmax", "fallback_argmax")
    assert at.session_state["mode"] == "global"
    assert at.selectbox(key="rule_widget").value == "threshold_argmax"


@pytest.mark.parametrize("name,content,fragment", [
    ("digits.json", None, "The config's classes do not match the data"),
    ("broken.json", "{not json", "is not valid JSON"),
    ("empty.json", "", "is not valid JSON"),
    ("binary.bin", b"\xff\xfe\x00garbage", "is not UTF-8"),
    ("schema.json", '{"schema_version": 1}', "missing the required field"),
])
def test_bad_config_upload_shows_one_error_and_keeps_the_sliders(name, content, fragment):
    at = open_app(MULTILABEL)
    at.slider(key="thr_0_slider").set_value(0.33).run()
    before = thresholds_in_state(at)
    at.switch_page("pages/export.py").run()
    if content is None:
        sparse = dataset_of(SPARSE)
        content = export.config_json(sparse, np.full(30, 0.5))
    config_upload(at, name, content)
    assert not at.exception
    assert len(at.error) == 1 and fragment in at.error[0].value, errors(at)
    np.testing.assert_array_equal(thresholds_in_state(at), before)
