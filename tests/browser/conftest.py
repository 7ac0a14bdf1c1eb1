"""A real browser against a real server: ``streamlit run app.py`` on a free localhost port,
driven by Playwright with Debian's Chromium (never a downloaded browser)."""

import sys
from pathlib import Path

import pytest

# Helpers for the tests live next to this file; pytest's import mode does not add the folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_support import app_server, launch_chromium, need_chromium  # noqa: E402


@pytest.fixture(scope="session")
def server():
    """Base URL of the dashboard, started once for the session and stopped at the end."""
    need_chromium()
    srv = app_server()
    try:
        yield srv.url
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    need_chromium()
    expect.set_options(timeout=20_000)  # two CPU cores: a rerun plus rendering can take seconds

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(30_000)
    pg = context.new_page()
    pg.base_url = server
    yield pg
    context.close()
