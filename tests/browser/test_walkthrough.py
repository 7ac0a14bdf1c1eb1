"""What only a browser shows: upload, keyboard on sliders, the plotted operating point,
download, and restoring sliders from the downloaded JSON."""

import json
from urllib.parse import parse_qs, urlparse

import numpy as np
from playwright.sync_api import expect

from browser_support import (
    exact_value, go_to, metric, open_optimise, open_page, operating_point, press, slider,
    wait_idle,
)


def three_class_csv(path):
    """A small upload with its own class names (text labels, probabilities)."""
    rng = np.random.default_rng(11)
    n = 240
    labels = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3)) * 1.5
    logits[np.arange(n), labels] += 2.0
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    names = np.array(["cat", "dog", "bird"])
    lines = ["row_id,p_cat,p_dog,p_bird,label"]
    lines += [f"{i},{a:.6f},{b:.6f},{c:.6f},{names[y]}" for i, ((a, b, c), y)
              in enumerate(zip(p, labels))]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_upload_keyboard_slider_download_and_restore(page, tmp_path):
    open_page(page)
    expect(page.get_by_test_id("stSlider")).to_have_count(3)
    assert not page.get_by_test_id("stException").count()

    # upload a CSV through the file input
    csv = three_class_csv(tmp_path / "pets_scores.csv")
    page.locator(".st-key-upload_widget [data-testid='stFileUploaderDropzoneInput']") \
        .set_input_files(str(csv))
    wait_idle(page)
    expect(slider(page, "thr_0_slider")).to_be_visible()
    expect(page.locator(".st-key-thr_0_slider")).to_contain_text("cat")
    expect(page.locator(".st-key-thr_2_slider")).to_contain_text("bird")
    expect(page.get_by_test_id("stSidebar")).to_contain_text("pets_scores.csv")

    # move a slider with the keyboard: metrics and the plotted operating point follow
    before_metric = metric(page, "Coverage")
    before_point = operating_point(page)
    handle = press(page, "thr_0_slider", "ArrowRight", 60)
    expect(handle).to_have_value("0.6")
    expect(page.locator(".st-key-thr_0_number input")).to_have_value("0.6")
    page.wait_for_function(
        "([label, before]) => [...document.querySelectorAll('.tl-tile')]"
        ".some(m => m.innerText.includes(label) && !m.innerText.includes(before))",
        arg=["Coverage", before_metric],
    )
    assert metric(page, "Coverage") != before_metric
    after_point = operating_point(page)
    assert after_point != before_point
    assert after_point[0] <= before_point[0]  # recall cannot rise with the threshold
    assert "t=0.6" in page.url

    # reload (a new session): the link names the upload's hash; the server still keeps the
    # file, so the view comes back without uploading it again
    page.reload()
    wait_idle(page)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("pets_scores.csv")
    expect(page.get_by_test_id("stSidebar")).not_to_contain_text("Upload it again")
    expect(slider(page, "thr_0_slider")).to_have_value("0.6")
    page.locator(".st-key-upload_widget [data-testid='stFileUploaderDropzoneInput']") \
        .set_input_files(str(csv))
    wait_idle(page)
    expect(page.locator(".st-key-thr_1_slider")).to_contain_text("dog")
    expect(slider(page, "thr_0_slider")).to_have_value("0.6")
    number = page.locator(".st-key-thr_2_number input")
    number.fill("0.4242")
    number.press("Enter")
    wait_idle(page)
    expect(slider(page, "thr_2_slider")).to_have_attribute("aria-valuetext", "0.424")
    chosen = [exact_value(page, f"thr_{i}") for i in range(3)]
    assert chosen == [0.6, 0.0, 0.4242]

    # download the JSON: it parses and holds the slider values
    go_to(page, "Export")
    with page.expect_download() as download:
        page.locator(".st-key-export_json button").click()
    config = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert download.value.suggested_filename == "thresholds_pets_scores.json"
    assert config["classes"] == ["cat", "dog", "bird"]
    assert [config["thresholds"][c] for c in ("cat", "dog", "bird")] == chosen

    # move the sliders away, then upload the JSON back: every slider is restored
    go_to(page, "Thresholds")
    for i in range(3):
        press(page, f"thr_{i}_slider", "End")
    expect(slider(page, "thr_2_slider")).to_have_value("1")
    go_to(page, "Export")
    path = tmp_path / "restored.json"
    path.write_text(json.dumps(config))
    page.locator(".st-key-config_upload [data-testid='stFileUploaderDropzoneInput']") \
        .set_input_files(str(path))
    wait_idle(page)
    expect(page.get_by_test_id("stAlert").filter(has_text="Restored 3 thresholds")).to_be_visible()
    go_to(page, "Thresholds")
    for i, value in enumerate(chosen):
        expect(slider(page, f"thr_{i}_slider")).to_have_attribute("aria-valuetext", f"{value:.3f}")
        expect(page.locator(f".st-key-thr_{i}_number input")).to_have_value(f"{value:g}")
    assert not page.get_by_test_id("stException").count()


def test_a_link_reproduces_a_view_on_any_page(page):
    open_page(page, "confusion", "?sample=multiclass_wine_logits&t=0.7,0.55,0.61&mode=per_class")
    expect(page.get_by_role("heading", name="Confusion", level=1)).to_be_visible()
    go_to(page, "Thresholds")
    for key, value in (("thr_0_slider", "0.7"), ("thr_1_slider", "0.55"), ("thr_2_slider", "0.61")):
        expect(slider(page, key)).to_have_value(value)
    expect(page.locator(".tl-tile").filter(has_text="Coverage")).not_to_contain_text("100")


def test_bad_upload_shows_one_sentence_and_no_traceback(page, tmp_path):
    open_page(page, query="?sample=binary_breast_cancer")
    bad = tmp_path / "scores.csv"
    bad.write_text("id,p_spam,y_true\n1,0.3,1\n2,oops,0\n")
    page.locator(".st-key-upload_widget [data-testid='stFileUploaderDropzoneInput']") \
        .set_input_files(str(bad))
    wait_idle(page)
    alert = page.get_by_test_id("stAlertContentError")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("scores.csv")
    expect(alert).to_contain_text("previous data and thresholds stay loaded")
    assert not page.get_by_test_id("stException").count()
    expect(page.locator(".st-key-thr_0_slider")).to_contain_text("malignant")


def test_after_an_optimum_the_value_shown_before_can_be_typed_at_once(page):
    open_page(page, query="?sample=binary_breast_cancer")
    open_optimise(page)
    page.get_by_role("button", name="Best F1", exact=True).click()
    # The optimum reruns the panel, then the page: wait for the box to leave 0.5, not for the
    # first idle moment between the two runs.
    expect(page.locator(".st-key-thr_0_number input")).not_to_have_value("0.5", timeout=30000)
    wait_idle(page)
    best = exact_value(page, "thr_0")
    assert best != 0.5
    number = page.locator(".st-key-thr_0_number input")
    number.fill("0.5")
    number.press("Enter")
    wait_idle(page)
    expect(slider(page, "thr_0_slider")).to_have_attribute("aria-valuetext", "0.500")
    assert parse_qs(urlparse(page.url).query)["t"] == ["0.5"]
    # and the slider goes on from there with the keyboard
    press(page, "thr_0_slider", "ArrowRight", 3)
    expect(number).to_have_value("0.53")
    assert parse_qs(urlparse(page.url).query)["t"] == ["0.53"]
    assert not page.get_by_test_id("stException").count()
