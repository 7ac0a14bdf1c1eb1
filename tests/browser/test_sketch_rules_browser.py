"""A sketch under ``threshold_argmax`` in a real browser (where a slider move reruns only the
live part of the page): a key press the bins cannot count is not taken, the page says why above
the numbers, the slider goes back to the last counted threshold, and the next press clears it."""

import hashlib

import numpy as np
from playwright.sync_api import expect

from browser_support import exact_value, open_page, press, wait_idle
from thresholdlab.decisions import DecisionRule
from thresholdlab.predictions import DataError
from thresholdlab.sketch import Sketch, SketchIndex
from thresholdlab.synthetic import random_predictions

N_BINS = 20
STEP = 1 / N_BINS


def test_a_key_press_the_sketch_cannot_count_is_not_taken_and_said(page, tmp_path):
    sketch = Sketch.from_predictions(random_predictions("multiclass", 600, 3, seed=1), N_BINS)
    raw = sketch.to_bytes()
    path = tmp_path / "scores-sketch.parquet"
    path.write_bytes(raw)
    # Class 0 stepped down from 0.6 one bin at a time: the last edge the sketch counts, and the
    # first it cannot (the core decides; the test only walks).
    index = SketchIndex.build(sketch, DecisionRule("multiclass", "threshold_argmax", "abstain"))
    steps, counted = 0, 0.6
    while True:
        t = round(0.6 - (steps + 1) * STEP, 10)
        try:
            index.counts_at(np.array([t, 0.7, 0.8]))
        except DataError:
            break
        steps, counted = steps + 1, t
    assert counted > 0.1

    # A link to this view of the file, then the file: it opens under that rule and thresholds.
    sha = hashlib.sha256(raw).hexdigest()[:12]
    open_page(page, query=f"?file={path.name}&sha={sha}&t=0.6,0.7,0.8&rule=threshold_argmax")
    page.locator(".st-key-upload_widget [data-testid='stFileUploaderDropzoneInput']") \
        .set_input_files(str(path))
    wait_idle(page)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("Binned data")
    expect(sidebar.get_by_role("combobox", name="Rule")).to_have_value(
        "Most probable class passing its threshold")
    # The link's thresholds are taken in the run the file loads in; the box may be drawn later.
    expect(page.locator(".st-key-thr_0_number input")).to_have_value("0.6")

    main = page.get_by_test_id("stMain")
    refusal = main.get_by_test_id("stAlert").filter(has_text="A sketch cannot count the rule")
    for _ in range(steps):
        press(page, "thr_0_slider", "ArrowLeft")
    assert exact_value(page, "thr_0") == counted
    expect(refusal).to_have_count(0)

    press(page, "thr_0_slider", "ArrowLeft")  # one bin further: the bins cannot tell
    expect(refusal).to_have_count(1)
    expect(refusal).to_contain_text("The thresholds stay at the last ones it could count.")
    expect(page.locator(".st-key-thr_0_number input")).to_have_value(f"{counted:g}")
    assert not page.get_by_test_id("stException").count()

    press(page, "thr_0_slider", "ArrowRight")  # a counted move: taken, the sentence gone
    expect(page.locator(".st-key-thr_0_number input")).to_have_value(f"{counted + STEP:g}")
    expect(refusal).to_have_count(0)
