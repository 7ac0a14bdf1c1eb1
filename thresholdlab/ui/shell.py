"""What every page shares: page config, session defaults, the sidebar, the URL.

``app.py`` runs :func:`setup` before ``st.navigation`` hands over to a page. A page may also be
run on its own: Streamlit runs a ``pages/`` script directly (the folder's old multipage mode)
until the first ``st.navigation`` call of the server process, so when a process's first request
is a link to a page; and AppTest does so on every rerun of a page. Pages therefore start with
:func:`dataset`: on a server it switches the process to ``st.navigation`` and starts the run
over; under AppTest it runs the setup itself.
"""

from __future__ import annotations

import gc
import sys

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from thresholdlab.ui import calibrated, data, figures, live_charts, sidebar, state
from thresholdlab.ui.data import Dataset

# Per session, the cursors of the run in which setup() ran, until that run ends (finish()).
# Streamlit gives each run a new ``cursors`` dict, so a later run never matches. A flag in
# session state cannot say this: what a run writes after a page stops early (st.stop) is
# lost, finish()'s reset included, and the next run, a page run on its own under AppTest,
# took the setup as done (no sidebar, the data set of the run before).
_SET_UP: dict[str, dict] = {}


def _set_up_this_run() -> bool:
    ctx = get_script_run_ctx()
    return ctx is not None and _SET_UP.get(ctx.session_id) is ctx.cursors


def _mark_set_up(done: bool) -> None:
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    if done:
        _SET_UP[ctx.session_id] = ctx.cursors
    else:
        _SET_UP.pop(ctx.session_id, None)


def page_config() -> None:
    """Title, icon and width of the page. Before ``st.navigation``: else the page's menu icon
    becomes the tab's icon, an image fetched from Google's servers."""
    st.set_page_config(page_title="ThresholdLab", page_icon="🎚️", layout="wide")


def setup(charts_ahead: bool = False) -> Dataset:
    """Page config, defaults, sidebar (loading included) and the URL, once per script run;
    ``charts_ahead``: the page draws live charts, whose plotly.js the browser starts loading
    now, while the data loads (a big file's first view would wait for it otherwise)."""
    page_config()
    state.init()
    with st.sidebar:
        st.html(figures.NARROW_SCREEN_STYLE)
        if charts_ahead:
            live_charts.load_plotly_js("plotly_ahead")
        dataset = sidebar.load_requested()
        # A whole-data ranking that finished since the last run replaces the partial one.
        dataset = st.session_state[state.DATASET] = data.with_ranking(dataset)
        sidebar.draw(dataset)
    dataset = calibrated.in_use(dataset)  # the calibrated twin when the switch is on
    state.sync_url(dataset)
    _mark_set_up(True)
    return dataset


def finish() -> None:
    """End of app.py's run (also after a page stops or reruns early)."""
    _mark_set_up(False)
    _freeze_imported()


_modules_frozen = 0  # len(sys.modules) at the last freeze, per server process


def _freeze_imported() -> None:
    """Take what the app has imported out of the garbage collector's full passes.

    Streamlit runs a full collection (``gc.collect(2)``) after every script run, fragments
    included, to keep memory down. With pandas, scikit-learn, plotly and torch imported, that
    walks ~170,000 long-lived objects: ~80 ms holding the interpreter lock after each slider
    move, during which the run's last messages wait. After a run that imported new modules,
    one collection then ``gc.freeze()`` moves everything alive into a permanent generation
    that later passes skip. Frozen objects are still freed when their last reference goes;
    only reference cycles among them that become garbage later are never collected (the
    sessions alive at that moment could leave some). A freeze happens only after a run that
    imported modules, a few times in a server's life (each page's first visit), so what can
    stay is bounded.
    """
    global _modules_frozen
    if len(sys.modules) > _modules_frozen:
        gc.collect()
        gc.freeze()
        _modules_frozen = len(sys.modules)


def dataset(*, partial_ranking: bool = False) -> Dataset:
    """The loaded data set, running the shared setup first when the page runs on its own.

    Its whole-data ranking (AP, ROC AUC) is complete, waited for if it still runs, unless
    the page can show a partial one (``partial_ranking``; ``Dataset.ranking_job`` then says
    whether it is).
    """
    if not _set_up_this_run():
        if not st.get_option("global.appTest"):
            # What st.navigation itself sets; without it, every page link opened before
            # anyone opens "/" would run its page alone, with the old folder-based menu.
            PagesManager.uses_pages_directory = False
            st.rerun()
        loaded = setup_standalone()
    else:
        loaded = calibrated.in_use(st.session_state[state.DATASET])
    if loaded.ranking_job is not None and not partial_ranking:
        with st.spinner("Ranking every class (average precision, ROC AUC)…"):
            loaded = data.with_ranking(loaded, wait=True)
    return loaded


def setup_standalone() -> Dataset:
    try:
        return setup()
    finally:
        _mark_set_up(False)
