"""A sketch file uploaded in a real browser: the sidebar says it is binned, a key press on a
slider moves the threshold by one bin, and the numbers are exact mode's at that edge."""

from pathlib import Path

import numpy as np
from playwright.sync_api import expect

from browser_support import exact_value, open_page, press, slider, wait_idle
from thresholdlab.curves import CurveIndex
from thresholdlab.loading import load
from thresholdlab.metrics import evaluate
from thresholdlab.sketch import Sketch
from thresholdlab.ui.tables import headlines

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "binary_breast_cancer.csv"


def test_upload_a_sketch_and_step_a_slider_by_one_bin(page, tmp_path):
    pset = load(SAMPLE)
    path = tmp_path / "cancer-sketch.parquet"
    Sketch.from_predictions(pset, 500).save(path)

    open_page(page)
    page.locator(".st-key-upload_widget [data-testid='stFileUploaderDropzoneInput']") \
        .set_input_files(str(path))
    wait_idle(page)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("cancer-sketch.parquet")
    expect(sidebar).to_contain_text("Binned data")
    expect(sidebar).to_contain_text("500 bins of width 0.002")
    expect(slider(page, "thr_0_slider")).to_be_visible()
    assert not page.get_by_test_id("stException").count()

    press(page, "thr_0_slider", "ArrowRight", 3)
    expect(page.locator(".st-key-thr_0_number input")).to_have_value("0.506")
    t = exact_value(page, "thr_0")
    assert t == 253 / 500
    exact = evaluate(CurveIndex.build(pset), np.array([t]))
    # The headline tiles are exact mode's at that edge, formatted as the page formats them.
    for head in headlines(exact):
        if head.label in ("Precision", "Recall", "F1"):
            expect(page.locator(".tl-tile").filter(
                has=page.get_by_text(head.label, exact=True))).to_contain_text(head.text)
