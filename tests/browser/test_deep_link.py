"""A fresh server whose first request is a link to a page (not "/") still runs the app."""

from playwright.sync_api import expect

from browser_support import ROOT, app_server, need_chromium, slider, wait_idle

PAGES = (ROOT / "app.py").read_text().count("st.Page(")


def test_first_request_to_a_fresh_server_is_a_page_link(browser):
    need_chromium()
    srv = app_server("streamlit-deep-link.log")
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"{srv.url}/confusion?sample=binary_breast_cancer&t=0.3")
        wait_idle(page)
        expect(page.get_by_role("heading", name="Confusion", level=1)).to_be_visible()
        # the app's own menu (st.navigation), not one made from the pages/ folder
        links = page.get_by_test_id("stSidebarNavLink")
        expect(links).to_have_count(PAGES)
        expect(links.first).to_contain_text("Thresholds")
        expect(slider(page, "cm_0_slider")).to_have_attribute("aria-valuetext", "0.300")
        assert not page.get_by_test_id("stException").count()
        context.close()
    finally:
        srv.stop()
