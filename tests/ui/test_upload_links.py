"""A reload keeps an uploaded view: the server keeps recent uploads by content hash."""

from __future__ import annotations

import hashlib

import pytest
from apptest_support import MULTICLASS, SAMPLES, open_app, thresholds_in_state, upload

from thresholdlab.ui import data, uploads

RAW = (SAMPLES / f"{MULTICLASS}.csv").read_bytes()


def _uploaded_view():
    at = open_app()
    upload(at, "upload_widget", "pets_scores.csv", RAW)
    at.slider(key="thr_0_slider").set_value(0.6).run()
    at.selectbox(key="nopred_widget").set_value("fallback_argmax").run()
    at.selectbox(key="rule_widget").set_value("threshold_argmax").run()
    return at


def test_a_reload_restores_an_uploaded_view():
    at = _uploaded_view()
    query = dict(at.query_params)
    assert query["file"] == "pets_scores.csv"
    assert query["sha"] == hashlib.sha256(RAW).hexdigest()[:12]
    assert query["t"] == "0.6,0.0,0.0"
    # the session holds the name and hash, not the bytes
    assert at.session_state["dataset"].source.raw is None
    again = open_app(None, **query)  # a new session from the link
    dataset = again.session_state["dataset"]
    assert (dataset.source.kind, dataset.source.name) == ("upload", "pets_scores.csv")
    assert thresholds_in_state(again).tolist() == [0.6, 0.0, 0.0]
    assert (dataset.rule.rule, dataset.rule.no_prediction) == ("threshold_argmax",
                                                                "fallback_argmax")
    assert not again.info and not again.error
    # the sample box says that an upload is in use
    box = again.selectbox(key="sample_widget")
    assert box.value is None and "In use: pets_scores.csv (uploaded)" in box.placeholder
    # and a rule change reads the file again, from the server's copy
    data.clear_caches()
    again.selectbox(key="rule_widget").set_value("argmax").run()
    assert not again.exception and not again.error
    assert again.session_state["dataset"].rule.rule == "argmax"


def test_a_rule_change_after_the_copy_expired_is_one_sentence(monkeypatch):
    at = _uploaded_view()
    store = uploads.store()
    later = store.clock() + store.max_age_s + 1
    monkeypatch.setattr(store, "clock", lambda: later)
    data.clear_caches()
    at.selectbox(key="rule_widget").set_value("argmax").run()
    assert not at.exception
    assert at.session_state["dataset"].rule.rule == "threshold_argmax"
    assert "no longer kept on the server" in at.error[0].value


def test_after_the_copy_expires_the_page_says_so_and_asks_for_the_file(monkeypatch):
    at = _uploaded_view()
    query = dict(at.query_params)
    store = uploads.store()
    later = store.clock() + store.max_age_s + 1
    monkeypatch.setattr(store, "clock", lambda: later)
    again = open_app(None, **query)
    assert again.session_state["dataset"].source.kind == "sample"
    notes = [i.value for i in again.info]
    assert len(notes) == 1
    assert "no longer keeps it" in notes[0] and "Upload it again" in notes[0]
    upload(again, "upload_widget", "pets_scores.csv", RAW)
    assert thresholds_in_state(again).tolist() == [0.6, 0.0, 0.0]
    assert not again.info


def test_picking_a_sample_leaves_the_upload():
    at = open_app()
    upload(at, "upload_widget", "pets_scores.csv", RAW)
    at.selectbox(key="sample_widget").set_value(MULTICLASS).run()
    assert at.session_state["dataset"].source.kind == "sample"
    assert at.selectbox(key="sample_widget").value == MULTICLASS


@pytest.mark.parametrize("megabytes", ["0"])
def test_a_store_too_small_keeps_the_bytes_in_the_session(monkeypatch, megabytes):
    monkeypatch.setenv("THRESHOLDLAB_UPLOADS_MAX_MB", megabytes)
    at = open_app()
    upload(at, "upload_widget", "pets_scores.csv", RAW)
    assert at.session_state["dataset"].source.raw == RAW
    at.selectbox(key="rule_widget").set_value("threshold_argmax").run()
    assert not at.exception and not at.error
