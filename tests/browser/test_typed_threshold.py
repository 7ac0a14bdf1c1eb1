"""A threshold typed outside [0, 1], in a real browser: the range is said beside the box, the
old value stays, and the box is not left invalid (red, waiting for Enter)."""

from playwright.sync_api import expect

from browser_support import exact_value, open_page, wait_idle


def test_a_typed_threshold_out_of_range_says_the_range_and_keeps_the_old_value(page):
    open_page(page, "", "?sample=multiclass_wine_logits&t=0.2,0.3,0.4")
    box = page.locator(".st-key-thr_0_number input")
    box.fill("1.7")
    box.press("Enter")
    wait_idle(page)
    expect(page.get_by_text("1.7 is outside 0 – 1")).to_be_visible()
    expect(box).to_have_value("0.2")
    assert exact_value(page, "thr_0") == 0.2
    assert not box.evaluate("el => el.matches(':invalid')")
    assert "t=0.2%2C0.3%2C0.4" in page.url or "t=0.2,0.3,0.4" in page.url
