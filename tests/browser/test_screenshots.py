"""A screenshot of each page for the README, taken from the real app (docs/screenshots/)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser_support import open_page, wait_idle

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# `make screenshots` writes the README's pictures; a plain test run keeps the checkout clean.
UPDATE_DOCS = os.environ.get("THRESHOLDLAB_SCREENSHOTS") == "docs"
VIEW = "?sample=multiclass_wine_logits&t=0.62,0.55,0.6&mode=per_class&class=grignolino"


CONTENT_BOTTOM = """() => Math.max(...[...document.querySelectorAll(
    '[data-testid=stMainBlockContainer] [data-testid=stElementContainer]')]
    .map(e => e.getBoundingClientRect().bottom + document.querySelector(
        '[data-testid=stMain]').scrollTop))"""


@pytest.fixture
def shots(tmp_path) -> Path:
    return DOCS if UPDATE_DOCS else tmp_path


def shoot(page, name: str, shots: Path) -> Path:
    """Resize the window to the page's content (Streamlit scrolls inside its main block, so a
    full-page screenshot would cut it) and save the picture."""
    wait_idle(page)
    page.wait_for_timeout(600)  # plotly's first layout pass
    bottom = page.evaluate(CONTENT_BOTTOM)
    page.set_viewport_size({"width": 1440, "height": int(min(3200, max(900, bottom + 48)))})
    page.wait_for_timeout(600)
    shots.mkdir(parents=True, exist_ok=True)
    path = shots / f"{name}.png"
    page.screenshot(path=str(path))
    assert not page.get_by_test_id("stException").count()
    return path


@pytest.mark.parametrize("name,charts", [
    ("thresholds", 3), ("confusion", 2), ("calibration", 2), ("export", 0),
])
def test_screenshot(page, name, charts, shots):
    open_page(page, "" if name == "thresholds" else name, VIEW)
    if charts:
        expect(page.locator(".js-plotly-plot .main-svg").nth(charts - 1)).to_be_attached()
    else:
        expect(page.get_by_test_id("stDownloadButton").last).to_be_visible()
    assert shoot(page, name, shots).stat().st_size > 20_000
