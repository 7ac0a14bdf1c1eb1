"""No dead ends: a file with undetected roles, a config on the data uploader, a typed value
out of range."""

from __future__ import annotations

import json

from apptest_support import BINARY, MULTICLASS, errors, open_app, thresholds_in_state, upload

from thresholdlab.ui import export

UNDETECTED = b"a,b,outcome\n0.9,0.1,1\n0.2,0.8,0\n0.7,0.3,1\n0.4,0.6,0\n0.6,0.4,0\n"


def test_a_file_with_undetected_roles_loads_through_the_column_mapper():
    at = open_app(MULTICLASS)
    upload(at, "upload_widget", "scores.csv", UNDETECTED)
    assert not at.exception
    assert at.session_state["dataset"].source.name == MULTICLASS  # the old data stays
    assert any("scores.csv" in e for e in errors(at))
    label = at.selectbox(key="override_label_col")
    assert "outcome" in label.options and set(at.multiselect(key="override_score_cols").options) \
        == {"a", "b", "outcome"}
    label.set_value("outcome").run()
    assert not at.exception and not errors(at)
    dataset = at.session_state["dataset"]
    assert dataset.source.name == "scores.csv" and dataset.predictions.n_rows == 5
    assert at.selectbox(key="override_label_col").value == "outcome"
    # the mapper is gone; the usual one shows the loaded file's columns
    assert "outcome" in at.selectbox(key="override_label_col").options
    assert not [b for b in at.button if b.key == "pending_cancel"]


def test_a_wrong_choice_in_the_mapper_keeps_the_file_waiting_and_cancel_drops_it():
    at = open_app(MULTICLASS)
    upload(at, "upload_widget", "scores.csv", UNDETECTED)
    at.selectbox(key="override_label_col").set_value("a").run()
    assert not at.exception and errors(at)
    assert at.selectbox(key="override_label_col").value == "a"  # the try is kept to refine
    assert "outcome" in at.selectbox(key="override_label_col").options
    at.button(key="pending_cancel").click().run()
    assert not errors(at) and at.session_state["dataset"].source.name == MULTICLASS
    assert "outcome" not in at.selectbox(key="override_label_col").options


def test_a_config_dropped_on_the_data_uploader_is_offered_for_restore():
    at = open_app(BINARY)
    config = export.config_json(at.session_state["dataset"], [0.3822]).encode()
    upload(at, "upload_widget", "thresholds.json", config, "application/json")
    assert not at.exception and not errors(at)
    assert any("threshold config" in i.value for i in at.sidebar.info)
    at.button(key="dropped_config_restore").click().run()
    assert thresholds_in_state(at).tolist() == [0.3822]
    assert any("Restored 1 thresholds" in s.value for s in at.sidebar.success)
    assert at.session_state["dataset"].source.name == BINARY


def test_a_config_dropped_on_the_data_uploader_is_restored_in_one_sentence_on_export():
    at = open_app(BINARY, page="pages/export.py")
    config = export.config_json(at.session_state["dataset"], [0.3822]).encode()
    upload(at, "upload_widget", "thresholds.json", config, "application/json")
    at.button(key="dropped_config_restore").click().run()
    assert not at.exception
    assert len([s for s in at.success if "Restored 1 thresholds" in s.value]) == 1


def test_a_json_that_is_not_a_config_gets_the_usual_sentence():
    at = open_app(BINARY)
    upload(at, "upload_widget", "other.json", json.dumps([1, 2]).encode(), "application/json")
    assert any("other.json" in e for e in errors(at))
    assert not [b for b in at.button if b.key == "dropped_config_restore"]


def test_a_typed_threshold_out_of_range_says_the_range_and_keeps_the_old_value():
    at = open_app(MULTICLASS)
    before = thresholds_in_state(at).tolist()
    at.number_input(key="thr_0_number").set_value(1.7).run()
    assert not at.exception
    assert thresholds_in_state(at).tolist() == before
    assert at.number_input(key="thr_0_number").value == before[0]
    notes = [c.value for c in at.caption if "outside 0 – 1" in c.value]
    assert len(notes) == 1 and "1.7" in notes[0]
    at.number_input(key="thr_0_number").set_value(0.25).run()
    assert thresholds_in_state(at)[0] == 0.25
    assert not [c for c in at.caption if "outside 0 – 1" in c.value]


def test_a_file_opened_through_the_column_mapper_goes_when_removed_from_the_uploader():
    at = open_app(MULTICLASS)
    upload(at, "upload_widget", "scores.csv", UNDETECTED)
    at.selectbox(key="override_label_col").set_value("outcome").run()
    assert at.session_state["dataset"].source.name == "scores.csv"
    at.file_uploader(key="upload_widget").set_value(None).run()
    assert not at.exception
    assert at.session_state["dataset"].source.kind == "sample"


def test_a_gzipped_upload_loads_and_its_columns_can_be_mapped():
    import gzip

    at = open_app(MULTICLASS)
    upload(at, "upload_widget", "scores.csv.gz", gzip.compress(UNDETECTED))
    assert not at.exception
    assert any("scores.csv.gz" in e for e in errors(at))
    at.selectbox(key="override_label_col").set_value("outcome").run()
    assert not at.exception and not errors(at)
    dataset = at.session_state["dataset"]
    assert dataset.source.name == "scores.csv.gz" and dataset.predictions.n_rows == 5


def test_a_file_of_score_vectors_loads_and_its_spread_columns_can_be_mapped():
    import io

    import pandas as pd

    frame = pd.DataFrame({"outcome": [0, 1, 2, 1, 0, 2]})
    frame["probs"] = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.3, 0.5, 0.2],
                      [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]]
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    at = open_app(MULTICLASS)
    upload(at, "upload_widget", "vectors.parquet", buffer.getvalue())
    assert not at.exception and any("vectors.parquet" in e for e in errors(at))
    assert {"p_0", "p_1", "p_2"} <= set(at.multiselect(key="override_score_cols").options)
    at.selectbox(key="override_label_col").set_value("outcome").run()
    assert not at.exception and not errors(at)
    dataset = at.session_state["dataset"]
    assert dataset.source.name == "vectors.parquet" and dataset.predictions.classes == ("0", "1", "2")
