"""Starting the server, and reading and driving the dashboard in a real browser."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a top-level package of the checkout
    sys.path.insert(0, str(ROOT))

from benchmarks.launcher import (  # noqa: E402  (one launcher for benchmarks and tests)
    CHROMIUM, IDLE, Server, have_chromium, launch_chromium,
)

def app_server(log_name: str = "streamlit-browser-test.log") -> Server:
    """``streamlit run app.py`` on a free port, its output in ``.pytest_cache/<log_name>``."""
    cache = ROOT / ".pytest_cache"
    cache.mkdir(exist_ok=True)
    return Server("app.py", log=cache / log_name)


def need_chromium() -> None:
    if not have_chromium():
        pytest.skip(f"no Chromium at {CHROMIUM} (`make chromium` installs Debian's)")


def open_page(page: Page, path: str = "", query: str = "") -> None:
    page.goto(f"{page.base_url}/{path}{query}")
    wait_idle(page)
    expect(page.get_by_role("heading", level=1).first).to_be_visible()


def wait_idle(page: Page) -> None:
    """Until the script run the last action started has finished."""
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE)


def slider(page: Page, key: str):
    """The slider's thumb: an ``<input type=range>`` (implicit ARIA role "slider")."""
    return page.locator(f".st-key-{key}").get_by_role("slider")


def press(page: Page, key: str, keys: str, times: int = 1):
    """Focus slider ``key``, press ``keys`` ``times`` times, wait for the app; the thumb."""
    handle = slider(page, key)
    handle.focus()
    for _ in range(times):
        handle.press(keys)
    wait_idle(page)
    return handle


def exact_value(page: Page, prefix: str) -> float:
    """A threshold as its exact number box shows it (``<prefix>_number``); the slider's own
    ``<input type=range>`` snaps its DOM value to the step."""
    return float(page.locator(f".st-key-{prefix}_number input").input_value())


def metric(page: Page, label: str) -> str:
    """A headline number: the Thresholds page's tiles, or an ``st.metric`` on other pages."""
    box = page.locator(".tl-tile, [data-testid=stMetric]").filter(
        has=page.get_by_text(label, exact=True))
    return box.locator(".tl-tile-value, [data-testid=stMetricValue]").inner_text()


def live_chart(page: Page, chart: str = "pr"):
    """One of the Thresholds page's live charts: "pr", "roc" or "rates" (its plotly div)."""
    return page.locator(f".st-key-thr_charts .tl-live-chart[data-chart={chart}]")


def operating_point(page: Page, chart: str = "pr", name: str = "operating point"):
    """(x, y) of the plotted operating point, read from plotly's own layout in the page
    (``_fullLayout``: what plotly draws). The marker is a layout shape anchored at the point."""
    plot = live_chart(page, chart)
    expect(plot).to_have_class(re.compile("js-plotly-plot"))
    return tuple(plot.evaluate(
        "(el, name) => { const s = el._fullLayout.shapes.find(d => d.name === name);"
        " return [s.xanchor, s.yanchor]; }", name
    ))


def open_optimise(page: Page) -> None:
    """Open the Thresholds page's Optimise panel (a popover beside the title)."""
    page.locator(".st-key-thr_optimise button").first.click()
    expect(page.get_by_role("button", name="Best F1", exact=True)).to_be_visible()


def go_to(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNavLink").filter(has_text=title).click()
    wait_idle(page)
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
