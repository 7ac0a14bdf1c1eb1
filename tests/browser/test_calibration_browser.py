"""In a real browser: pick a calibration, switch calibrated scores on, enter costs, take the
least-cost thresholds, and download a config that carries the calibration and the costs."""

import json
from urllib.parse import parse_qs, urlparse

import numpy as np
from playwright.sync_api import expect

from browser_support import ROOT, go_to, open_page, wait_idle
from thresholdlab import CurveIndex, ThresholdConfig, apply, load
from thresholdlab.calibration_fit import calibrate, fit_calibration
from thresholdlab.costs import optimise_costs, parse_costs
from thresholdlab.decisions import decide


def fill(page, key, text):
    box = page.locator(f".st-key-{key} input")
    box.fill(text)
    box.press("Enter")
    wait_idle(page)


def test_calibrate_switch_costs_and_download(page):
    open_page(page, "calibration", "?sample=multiclass_wine_logits")
    expect(page.get_by_role("heading", name="Calibration", level=1)).to_be_visible()

    # the method picker, then the switch
    page.locator(".st-key-cal_method_widget").get_by_role("combobox").click()
    page.get_by_role("option", name="Vector scaling").click()
    wait_idle(page)
    page.locator(".st-key-cal_use_widget").get_by_text("Use calibrated scores").click()
    wait_idle(page)
    query = parse_qs(urlparse(page.url).query)
    assert query["cal"] == ["vector"] and query["calon"] == ["1"]
    expect(page.get_by_text("The sliders cut calibrated probabilities")).to_be_visible()
    expect(page.locator(".st-key-cal_chart_after .js-plotly-plot")).to_be_attached()

    # costs of the first class: a false negative costs 7 false positives
    fill(page, "cost_fp_widget", "1")
    fill(page, "cost_fn_widget", "7")
    page.locator(".st-key-cost_apply button").click()
    wait_idle(page)

    # the Thresholds page says which scores its sliders cut
    go_to(page, "Thresholds")
    expect(page.get_by_text("The sliders cut calibrated probabilities")).to_be_visible()

    go_to(page, "Export")
    with page.expect_download() as download:
        page.locator(".st-key-export_json button").click()
    config_text = open(download.value.path(), encoding="utf-8").read()
    doc = json.loads(config_text)
    assert doc["calibration"]["method"] == "vector"
    assert doc["score_kind"] == "logit" and doc["objective"] == "cost:per_class"
    assert doc["costs"]["per_class"]["barolo"] == {"fp": 1.0, "fn": 7.0}
    assert doc["costs"]["per_class"]["grignolino"] == {"fp": 1.0, "fn": 1.0}

    # The downloaded thresholds are the exact least-cost ones on the calibrated scores, and
    # apply reproduces the dashboard's decisions from the raw logits.
    data = load(ROOT / "sample_data" / "multiclass_wine_logits.csv")
    tuned = calibrate(data, fit_calibration(data, "vector"))
    index = CurveIndex.build(tuned)
    best = optimise_costs(index, parse_costs(["barolo=1:7"], data.classes))
    assert [doc["thresholds"][c] for c in data.classes] == best.thresholds.tolist()
    config = ThresholdConfig.from_json(config_text)
    np.testing.assert_array_equal(
        apply(config, data.scores), decide(tuned.probabilities, best.thresholds, index.rule)
    )
    assert not page.get_by_test_id("stException").count()
