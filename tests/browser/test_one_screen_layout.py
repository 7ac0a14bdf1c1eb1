"""The Thresholds page's loop on one screen, and nothing cut at narrow widths, in a real browser.

At 1366 x 768 and 1920 x 1080 with the sidebar open, after a key press on a class slider, the
moved slider, its class's PR and ROC charts, its counts and a headline number lie inside the
viewport, without scrolling. At 800 and 1024 px wide no metric value, label or button text is
cut, no chart overlaps another or is narrower than 280 px, and the page does not scroll sideways.
"""

import pytest
from playwright.sync_api import expect

from browser_support import go_to, live_chart, open_optimise, open_page, wait_idle

BINARY, MULTICLASS, SPARSE = (
    "binary_breast_cancer", "multiclass_wine_logits", "multilabel_sparse_30_logits",
)
# The slider each sample's key press goes to: the last of the three wine classes (the one
# farthest down), the one slider of binary data and of the 30 labels (one at a time).
MOVED = {BINARY: "thr_0_slider", MULTICLASS: "thr_2_slider", SPARSE: "thr_picked_slider"}

BOXES = """([slider]) => {
  const box = (el) => { const b = el.getBoundingClientRect();
                        return {left: b.left, top: b.top, right: b.right, bottom: b.bottom}; };
  const q = (s) => document.querySelector(s);
  return {
    slider: box(q(`.st-key-${slider} [data-testid=stSlider]`)),
    pr: box(q(".st-key-thr_charts .tl-live-chart[data-chart=pr]")),
    roc: box(q(".st-key-thr_charts .tl-live-chart[data-chart=roc]")),
    counts: box(q(".tl-counts table")),
    headline: box(q(".st-key-thr_tiles .tl-tile-value")),
    scrolled: q("[data-testid=stMain]").scrollTop + window.scrollY,
    viewport: [window.innerWidth, window.innerHeight],
  };
}"""

CUT = """() => {
  // Text boxes whose content is wider than the box (cut or ellipsised).
  const cut = [];
  const sel = [".tl-tile-value", ".tl-tile-label", "[data-testid=stMetricValue] p",
               "[data-testid=stMetricLabel] p",
               "[data-testid=stMetricValue]", "button p", "button",
               "[data-testid=stWidgetLabel] p", ".tl-counts"];
  for (const el of document.querySelectorAll(sel.join(","))) {
    if (!el.offsetParent && el.tagName !== "BODY") continue;  // not shown
    if (el.scrollWidth > el.clientWidth + 1) cut.push(el.innerText.slice(0, 40));
  }
  // Options of a segmented control that stick out of their column.
  for (const el of document.querySelectorAll("[data-testid=stButtonGroup] button")) {
    const column = el.closest("[data-testid=stColumn]");
    if (column && el.getBoundingClientRect().right > column.getBoundingClientRect().right + 1)
      cut.push(el.innerText.slice(0, 40));
  }
  return cut;
}"""

CHARTS = """() => [...document.querySelectorAll(
    ".tl-live-chart, [data-testid=stPlotlyChart] .js-plotly-plot")]
  .filter((el) => el.offsetParent)
  .map((el) => { const b = el.getBoundingClientRect();
                 return [b.left, b.top, b.right, b.bottom]; })"""


def view(page, width: int, height: int):
    page.set_viewport_size({"width": width, "height": height})


def charts_drawn(page, count: int = 3):
    expect(page.locator(".st-key-thr_charts .tl-live-chart.js-plotly-plot")).to_have_count(count)


def inside(box, width, height) -> bool:
    return box["left"] >= 0 and box["top"] >= 0 and box["right"] <= width \
        and box["bottom"] <= height


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)], ids=["1366x768", "1920x1080"])
@pytest.mark.parametrize("sample", [BINARY, MULTICLASS, SPARSE])
def test_slider_charts_counts_and_a_headline_on_one_screen(page, sample, size):
    width, height = size
    view(page, width, height)
    open_page(page, query=f"?sample={sample}")
    charts_drawn(page)
    key = MOVED[sample]
    label = page.locator(f".st-key-{key} [data-testid=stWidgetLabel]").inner_text().strip()
    thumb = page.locator(f".st-key-{key}").get_by_role("slider")
    before = thumb.get_attribute("aria-valuetext")
    thumb.focus()
    thumb.press("ArrowRight")
    wait_idle(page)
    expect(thumb).not_to_have_attribute("aria-valuetext", before)
    # the charts follow the slider just moved, and every title names its class
    for chart in ("pr", "roc", "rates"):
        expect(live_chart(page, chart).locator(".gtitle")).to_contain_text(label)
    expect(page.locator(".tl-counts")).to_have_attribute("data-class", label)
    boxes = page.evaluate(BOXES, [key])
    assert boxes["viewport"] == [width, height]
    assert boxes["scrolled"] == 0
    for part in ("slider", "pr", "roc", "counts", "headline"):
        assert inside(boxes[part], width, height), (part, boxes[part], size)


def overlaps(a, b) -> bool:
    return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1


def assert_nothing_cut(page, where: str):
    assert page.evaluate(CUT) == [], where
    assert page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), where
    charts = page.evaluate(CHARTS)
    assert charts, where
    for n, a in enumerate(charts):
        assert a[2] - a[0] >= 280, (where, a)
        for b in charts[n + 1:]:
            assert not overlaps(a, b), (where, a, b)


@pytest.mark.parametrize("width", [800, 1024])
@pytest.mark.parametrize("sample", [BINARY, MULTICLASS, SPARSE])
def test_narrow_screens_cut_nothing(page, sample, width):
    view(page, width, 900)
    open_page(page, query=f"?sample={sample}")
    charts_drawn(page)
    page.wait_for_timeout(500)  # plotly's first layout pass
    assert_nothing_cut(page, f"{sample} at {width}")
    open_optimise(page)
    assert_nothing_cut(page, f"{sample} at {width}, optimise open")


@pytest.mark.parametrize("width", [800, 1024])
def test_other_pages_charts_are_never_squeezed(page, width):
    view(page, width, 900)
    open_page(page, query=f"?sample={MULTICLASS}")
    for title in ("Confusion", "Calibration"):
        go_to(page, title)
        expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible()
        wait_idle(page)
        page.wait_for_timeout(500)
        assert_nothing_cut(page, f"{title} at {width}")


def test_the_per_class_table_shows_every_column_and_row_at_1400(page):
    """At 1400 px the table keeps its last (interval) columns in view, and 30 labels are 30 rows
    of the page, not a few rows in a scroll box."""
    view(page, 1400, 900)
    open_page(page, query=f"?sample={SPARSE}")
    table = page.locator(".st-key-thr_table .tl-metrics")
    expect(table.locator("tbody tr")).to_have_count(30)
    sizes = table.evaluate(
        "(t) => [t.scrollWidth, t.clientWidth, t.scrollHeight, t.clientHeight]")
    assert sizes[0] <= sizes[1] and sizes[2] <= sizes[3], sizes
    for header in ("recall 95% CI", "prevalence"):
        expect(table.locator("th", has_text=header)).to_be_visible()


@pytest.mark.parametrize("sample", [BINARY, MULTICLASS])
def test_the_confusion_page_keeps_a_moved_slider_and_its_counts_in_view(page, sample):
    width, height = 1366, 768
    view(page, width, height)
    open_page(page, "confusion", f"?sample={sample}")
    key = MOVED[sample].replace("thr_", "cm_")
    thumb = page.locator(f".st-key-{key}").get_by_role("slider")
    counts = page.locator(".st-key-cm_counts")
    expect(counts).to_be_visible()
    before = counts.inner_text()
    thumb.focus()
    for _ in range(30):  # far enough for some count to change
        thumb.press("ArrowRight")
    wait_idle(page)
    expect(counts).not_to_have_text(before)
    boxes = page.evaluate("""([key]) => {
      const box = (el) => { const b = el.getBoundingClientRect();
                            return {left: b.left, top: b.top, right: b.right, bottom: b.bottom}; };
      return {slider: box(document.querySelector(`.st-key-${key} [data-testid=stSlider]`)),
              counts: box(document.querySelector(".st-key-cm_counts")),
              scrolled: document.querySelector("[data-testid=stMain]").scrollTop + window.scrollY};
    }""", [key])
    assert boxes["scrolled"] == 0
    for part in ("slider", "counts"):
        assert inside(boxes[part], width, height), (part, boxes[part])
