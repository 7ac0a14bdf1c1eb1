"""Nothing a user chose is lost: a failed upload, a bad config import or a bad number entry
keeps the previous data, thresholds and URL; export -> import -> export gives the same bytes."""

from datetime import datetime, timezone

import numpy as np
import pytest
from hypothesis import given, strategies as st_

import thresholdlab.config
from apptest_support import (
    BY_TASK, MULTICLASS, MULTILABEL, SAMPLES, Core, errors, open_app,
    thresholds_in_state, upload,
)
from thresholdlab.ui import export

FROZEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture
def frozen_clock(monkeypatch):
    """``created_at`` is the only field of an export that depends on when it is made."""

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return FROZEN

    monkeypatch.setattr(thresholdlab.config, "datetime", Clock)


def snapshot(at):
    """What must survive: the data set, the thresholds, the rule, the mode and the URL."""
    ds = at.session_state["dataset"]
    return {
        "data": (ds.source.kind, ds.source.name, ds.predictions.sha256),
        "thresholds": thresholds_in_state(at).tobytes(),
        "rule": ds.rule,
        "mode": at.session_state["mode"],
        "url": dict(at.query_params.items()) if hasattr(at.query_params, "items") else None,
    }


def chosen_state(stem=MULTICLASS):
    """An app where the user has chosen something: an upload, moved sliders, a picked class."""
    at = open_app()
    upload(at, "upload_widget", "mine.csv", (SAMPLES / f"{stem}.csv").read_bytes())
    at.slider(key="thr_1_slider").set_value(0.37).run()
    at.number_input(key="thr_2_number").set_value(0.123456789).run()
    assert not errors(at) and not at.exception
    return at


BAD_FILES = [
    ("garbage.csv", bytes(range(256)) * 4),
    ("empty.csv", b""),
    ("nolabels.csv", b"p_a,p_b\n0.1,0.9\n"),
    ("bad.parquet", b"PAR1 nope"),
    ("bad.npz", b"PK\x03\x04 nope"),
    ("evil.pt", b"PK\x03\x04 nope"),
    ("wrong.xlsx", b"PK\x03\x04"),
]


@pytest.mark.parametrize("name,content", BAD_FILES, ids=[n for n, _ in BAD_FILES])
def test_a_failed_upload_keeps_data_thresholds_and_url(name, content):
    at = chosen_state()
    before = snapshot(at)
    upload(at, "upload_widget", name, content)
    assert not at.exception
    assert len(errors(at)) == 1 and name in errors(at)[0]
    assert snapshot(at) == before
    # and the next move still works on the kept data
    at.slider(key="thr_0_slider").set_value(0.5).run()
    assert thresholds_in_state(at)[0] == 0.5 and at.query_params["file"] == "mine.csv"


@pytest.mark.parametrize("name,content", [BAD_FILES[0], BAD_FILES[1], ("thresholds.json", None)],
                         ids=["garbage", "empty", "config"])
def test_removing_a_refused_file_from_the_uploader_keeps_the_data_shown(name, content):
    at = chosen_state()
    if content is None:  # a threshold config dropped on the data uploader
        content = export.config_json(at.session_state["dataset"], [0.2, 0.3, 0.4]).encode()
    upload(at, "upload_widget", name, content)
    before = snapshot(at)
    at.file_uploader(key="upload_widget").set_value(None).run()  # the x on the refused file
    assert not at.exception and not errors(at)
    assert snapshot(at) == before


def test_removing_the_file_shown_goes_back_to_the_sample():
    at = chosen_state()
    at.file_uploader(key="upload_widget").set_value(None).run()
    assert not at.exception
    assert at.session_state["dataset"].source.kind == "sample"


BAD_CONFIGS = [
    ("broken.json", b"{not json"),
    ("deep.json", b"[" * 100_000),
    ("range.json", None),  # a threshold of 1.5
    ("other-classes.json", None),
    ("version.json", None),
]


def _bad_config(name, ds):
    import json

    doc = json.loads(export.config_json(ds, [0.2, 0.3, 0.4]))
    if name == "range.json":
        doc["thresholds"]["barolo"] = 1.5
    elif name == "other-classes.json":
        doc["classes"][0] = "merlot"
        doc["thresholds"] = {"merlot": 0.2, "grignolino": 0.3, "barbera": 0.4}
    elif name == "version.json":
        doc["schema_version"] = 99
    return json.dumps(doc).encode()


@pytest.mark.parametrize("name,content", BAD_CONFIGS, ids=[n for n, _ in BAD_CONFIGS])
def test_a_bad_config_import_keeps_data_thresholds_and_url(name, content):
    at = chosen_state()
    at.switch_page("pages/export.py").run()
    before = snapshot(at)
    content = content or _bad_config(name, at.session_state["dataset"])
    upload(at, "config_upload", name, content, "application/json")
    assert not at.exception
    assert len(errors(at)) == 1 and ("config" in errors(at)[0].lower()), errors(at)
    assert snapshot(at) == before


@pytest.mark.parametrize("value", [1.5, -0.25, 1e300, -1e-12])
def test_a_bad_number_entry_keeps_data_thresholds_and_url(value):
    """The number box takes [0, 1] only; a value outside changes nothing at all."""
    at = chosen_state()
    before = snapshot(at)
    at.number_input(key="thr_0_number").set_value(value).run()
    assert not at.exception and not errors(at)
    assert snapshot(at) == before


@pytest.mark.parametrize("field,value", [("opt_cost_fp", -3.0), ("opt_precision", 1.7),
                                         ("opt_beta", 0.0)])
def test_a_bad_optimiser_input_keeps_the_thresholds(field, value):
    at = chosen_state()
    before = snapshot(at)
    try:
        at.number_input(key=field).set_value(value).run()
    except Exception:  # noqa: BLE001 - refused before it reaches the app
        pass
    assert snapshot(at)["thresholds"] == before["thresholds"]
    assert snapshot(at)["data"] == before["data"]


def test_a_bad_link_keeps_the_defaults_and_says_so():
    at = open_app(MULTICLASS, t="abc,1e999,-1", mode="sideways", rule="nope")
    assert not at.exception
    got = thresholds_in_state(at)
    assert got.shape == (3,) and ((got >= 0) & (got <= 1)).all()


# ----------------------------------------------------------- export -> import -> export
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_export_import_export_is_byte_identical_in_the_app(task, frozen_clock):
    at = open_app(BY_TASK[task])
    k = len(at.session_state["dataset"].classes)
    at.number_input(key="thr_0_number").set_value(0.1 + 0.2).run()  # 0.30000000000000004
    at.switch_page("pages/export.py").run()
    first = at.code[0].value
    # Another value in between, so the import has something to undo.
    at.switch_page("pages/thresholds.py").run()
    at.slider(key="thr_0_slider").set_value(0.9).run()
    at.switch_page("pages/export.py").run()
    assert at.code[0].value != first
    upload(at, "config_upload", "first.json", first.encode(), "application/json")
    assert not errors(at), errors(at)
    second = at.code[0].value
    assert second == first
    assert thresholds_in_state(at)[0] == 0.1 + 0.2 and len(thresholds_in_state(at)) == k


_DATASETS = {}


def _dataset(task):
    if task not in _DATASETS:
        from thresholdlab.ui.data import Dataset, Overrides, Source

        core = Core(BY_TASK[task])
        _DATASETS[task] = Dataset(Source.sample(BY_TASK[task]), Overrides(), core.rule,
                                  core.pset, core.index, core.ranking)
    return _DATASETS[task]


@pytest.mark.usefixtures("frozen_clock")
@given(st_.sampled_from(["binary", "multiclass", "multilabel"]), st_.data())
def test_export_import_export_is_byte_identical(task, data):
    ds = _dataset(task)
    k = len(ds.classes)
    values = data.draw(st_.lists(
        st_.one_of(st_.floats(0, 1), st_.sampled_from([0.0, 1.0, 5e-324, 1 - 2**-53])),
        min_size=k, max_size=k,
    ))
    first = export.config_json(ds, values)
    restored = export.restore(first.encode(), "t.json", ds)
    second = export.config_json(ds, restored.thresholds, objective=restored.objective,
                                logit_thresholds=restored.logit_thresholds)
    assert second.encode() == first.encode()


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_decisions_download_of_ordinary_names_is_unchanged_by_the_safety_pass(task):
    from thresholdlab.decisions import decide, decisions_frame

    ds = _dataset(task)
    thresholds = np.full(len(ds.classes), 0.5)
    plain = decisions_frame(ds.predictions, decide(ds.predictions.probabilities, thresholds,
                                                   ds.rule)).to_csv(index=False)
    assert export.decisions_csv(ds, thresholds) == plain.encode()
