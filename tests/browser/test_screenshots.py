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


SCREEN = {"width": 1366, "height": 768}  # the most common laptop screen


def shoot(page, name: str, shots: Path, whole: bool = True) -> Path:
    """Save the picture: the screen as a 1366 x 768 laptop shows it, or (``whole``) the page's
    whole content, the window grown to fit it (Streamlit scrolls inside its main block, so a
    full-page screenshot would cut it)."""
    wait_idle(page)
    page.wait_for_timeout(600)  # plotly's first layout pass
    if whole:
        bottom = page.evaluate(CONTENT_BOTTOM)
        page.set_viewport_size({"width": SCREEN["width"],
                                "height": int(min(3200, max(SCREEN["height"], bottom + 48)))})
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
    page.set_viewport_size(SCREEN)
    open_page(page, "" if name == "thresholds" else name, VIEW)
    if charts:
        expect(page.locator(".js-plotly-plot .main-svg").nth(charts - 1)).to_be_attached()
    else:
        expect(page.get_by_test_id("stDownloadButton").last).to_be_visible()
    # The Thresholds page as it opens: the whole loop on one screen.
    assert shoot(page, name, shots, whole=name != "thresholds").stat().st_size > 20_000
