"""The slice panel on the Thresholds and Confusion pages: metrics per slice at the current
thresholds equal the core's (and scikit-learn's, through the core's tests), the worst slice is
marked, and per-slice thresholds (equal recall) come with a config that carries them."""


import numpy as np
import pandas as pd
import pytest

import thresholdlab as tl
from apptest_support import BY_TASK, SAMPLES, open_app, thresholds_in_state, upload
from thresholdlab import slices


def with_region(stem: str) -> tuple[bytes, np.ndarray]:
    frame = pd.read_csv(SAMPLES / f"{stem}.csv")
    region = np.random.default_rng(0).choice(["north", "south", "west"], len(frame))
    frame.insert(1, "region", region)
    return frame.to_csv(index=False).encode(), region


def slice_table(at, key):
    for df in at.dataframe:
        if df.proto.id.endswith(key) or "slice" in getattr(df.value, "columns", []):
            value = df.value
            return value.data if hasattr(value, "data") else value
    raise AssertionError("no slice table")


@pytest.mark.parametrize("task,page,prefix", [
    ("binary", "pages/thresholds.py", "thr"),
    ("multiclass", "pages/confusion.py", "cm"),
    ("multilabel", "pages/confusion.py", "cm"),
])
def test_slice_table_equals_the_core_at_the_current_thresholds(task, page, prefix):
    raw, region = with_region(BY_TASK[task])
    at = open_app(BY_TASK[task])
    upload(at, "upload_widget", "with_region.csv", raw)
    at.switch_page(page).run()
    at.toggle(key=f"{prefix}_slices_on").set_value(True).run()
    assert not at.exception, at.exception
    frame = slice_table(at, f"{prefix}_slice_table")
    pset = tl.load(raw, name="with_region.csv")
    expected = slices.slice_metrics(pset, region, thresholds_in_state(at))
    assert frame["slice"].tolist() == list(expected.values)
    np.testing.assert_array_equal(frame["macro F1"], expected.macro_f1)
    np.testing.assert_array_equal(frame["rows"], expected.rows)
    assert frame["worst"].tolist()[expected.worst] == "← worst"
    name = pset.classes[0]
    np.testing.assert_array_equal(frame[f"F1 {name}"], [r.per_class.f1[0] for r in expected.reports])


def test_equal_recall_per_slice_with_a_config_to_download():
    raw, region = with_region(BY_TASK["binary"])
    at = open_app(BY_TASK["binary"])
    upload(at, "upload_widget", "with_region.csv", raw)
    at.switch_page("pages/thresholds.py").run()
    at.toggle(key="thr_slices_on").set_value(True).run()
    at.radio(key="thr_slice_mode").set_value("equal recall across slices").run()
    assert not at.exception, at.exception
    pset = tl.load(raw, name="with_region.csv")
    table, _ = slices.equal_recall(pset, region, thresholds_in_state(at))
    frame = slice_table(at, "thr_slice_table")
    name = pset.classes[0]
    np.testing.assert_array_equal(frame[f"threshold {name}"], [table[v][0] for v in frame["slice"]])
    buttons = [b for b in at.get("download_button") if b.proto.id.endswith("thr_slice_download")]
    assert buttons


def test_a_file_without_extra_columns_says_so():
    at = open_app(BY_TASK["multiclass"], page="pages/confusion.py")
    assert not at.exception
    assert any("this file has none" in c.value for c in at.caption)


def test_per_slice_config_carries_the_calibration_in_use(monkeypatch):
    """With calibrated scores in use the sliders cut calibrated probabilities, so the per-slice
    config must carry the calibration (and the raw score kind), as the Export page's does."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    from thresholdlab.ui import calibrated

    saved = {}
    real_add = MediaFileManager.add

    def keep(self, data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        if file_name and "_by_region" in file_name:
            saved[file_name] = data
        return real_add(self, data, mimetype, coordinates, file_name, is_for_static_download)

    monkeypatch.setattr(MediaFileManager, "add", keep)
    raw, region = with_region(BY_TASK["binary"])
    at = open_app(BY_TASK["binary"])
    upload(at, "upload_widget", "with_region.csv", raw)
    at.switch_page("pages/calibration.py").run()
    at.selectbox(key=calibrated.W_METHOD).select("platt").run()
    at.toggle(key=calibrated.W_USE).set_value(True).run()
    at.switch_page("pages/thresholds.py").run()
    at.toggle(key="thr_slices_on").set_value(True).run()
    at.radio(key="thr_slice_mode").set_value("equal recall across slices").run()
    assert not at.exception, at.exception
    (payload,) = saved.values()
    config = tl.ThresholdConfig.from_json(payload if isinstance(payload, str) else payload.decode())
    assert config.calibration is not None and config.calibration.method == "platt"
    assert config.groups is not None
    # Served on raw scores with the per-slice thresholds, the config decides as the panel did.
    from thresholdlab.calibration_fit import calibrate, fit_calibration

    pset = tl.load(raw, name="with_region.csv")
    tuned = calibrate(pset, fit_calibration(pset, "platt"))
    name = pset.classes[0]
    per_row = np.array([config.groups["thresholds"][v][name] for v in region])
    expected = tuned.probabilities[:, 0] >= per_row
    np.testing.assert_array_equal(tl.apply(config, pset.scores[:, 0], groups=region), expected)
