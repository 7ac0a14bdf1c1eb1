"""A key press or a click on a control of the data shown before can reach the server after a
new file replaced that data (pressed while it loads): it is dropped, never applied to the new
data and never a crash (an IndexError for a class the new data does not have)."""

from types import SimpleNamespace

import pytest
import streamlit

from thresholdlab.ui import controls, state

OLD, NEW = "wine.csv|", "fraud.csv|"


@pytest.fixture
def session(monkeypatch):
    """Session state after a one-class file replaced a three-class one."""
    ss = {
        state.DATASET: SimpleNamespace(data_key=NEW, classes=("fraud",), binned=False),
        state.THRESHOLDS: (0.5,),
        state.OBJECTIVE: "manual",
    }
    monkeypatch.setattr(streamlit, "session_state", ss)
    return ss


def test_a_slider_of_the_old_data_is_dropped(session):
    session["thr_2_slider"] = 0.9  # the old third class's slider, pressed during the load
    controls._if_current(OLD, controls._on_threshold, 2, "thr_2_slider", "thr_2_number")
    assert session[state.THRESHOLDS] == (0.5,)


def test_a_class_the_data_does_not_have_is_not_set(session):
    state.set_threshold(2, 0.9)  # raised IndexError
    assert session[state.THRESHOLDS] == (0.5,)


def test_thresholds_of_other_data_are_not_taken(session):
    state.set_thresholds((0.1, 0.2, 0.3), objective="f1")  # a button of the old data
    assert session[state.THRESHOLDS] == (0.5,) and session[state.OBJECTIVE] == "manual"


def test_an_optimise_button_of_the_old_data_is_dropped(session):
    old = SimpleNamespace(data_key=OLD, uncalibrated=None, classes=("a", "b", "c"))
    controls._on_optimise(old, "f1")  # would optimise the old index
    assert session[state.THRESHOLDS] == (0.5,)


def test_the_widgets_of_the_data_shown_still_work(session):
    calls = []
    controls._if_current(NEW, lambda *args: calls.append(args), 0, "a", "b")
    assert calls == [(0, "a", "b")]
    state.set_thresholds((0.25,))
    assert session[state.THRESHOLDS] == (0.25,)
