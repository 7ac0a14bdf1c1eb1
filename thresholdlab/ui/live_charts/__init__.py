"""Charts and numbers that stay alive in the browser: plotly figures drawn once, then only their
markers move; HTML blocks whose changed text is written in place.

``st.plotly_chart`` draws a chart from scratch whenever its figure changes, so a slider move
used to tear down and rebuild every chart on the page, and a zoomed chart lost its zoom. This
component (Streamlit components v2) keeps the plotly charts and, on each move, moves only their
markers, which are layout shapes: plotly redraws those shapes, never the curves. The curves of
a class go to the browser once per data set, rule and class (``curves_id``); a move sends a few
numbers per chart.

The same component shows HTML blocks (the headline tiles, a class's counts, the metrics table):
Streamlit redraws every element a run sends, and a move used to send dozens (a metric and its
column per tile, a container per table), each costing the browser a render of the page. A
block is one element whose new HTML the browser lays over the old node by node, changing only
the numbers that moved.

Props (the ``data`` of the mount), a small documented dict:

``html``
    Optional HTML drawn above the charts (or alone), updated in place on each run.

``curves_id``
    Identity of the curves drawn: when it changes, the figures are drawn again.
``figures``
    ``{name: plotly JSON}`` (``Figure.to_json()``, typed arrays included), or None when the
    browser already holds the figures of ``curves_id``.
``moves``
    ``{name: {relayout key: value}}``: where each chart's markers (layout shapes with an
    invisible hover annotation each) and lines go, as ``Plotly.relayout`` keys such as
    ``"shapes[1].xanchor"`` (``figures.operating_point_moves``). The browser sends plotly only
    the keys whose values changed, and plotly redraws only those shapes and annotations.
``order``
    Chart names, left to right.

``plotly_js``
    Where ``plotly.min.js`` is, relative to the component's JavaScript. An HTML block starts
    loading it too, so that the charts mounted after it find it sooner.

plotly.js is the installed plotly package's own ``plotly.min.js``, served from plotly's own
folder (see ``_register_plotly_js``), never from a CDN.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path
from typing import Callable

import plotly
import plotly.graph_objects as go
import streamlit as st

NAME = "thresholdlab.live_charts"  # "<project>.<component>" as pyproject.toml declares it
HERE = Path(__file__).resolve().parent
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


PLOTLY_JS_NAME = "thresholdlab.plotly_js"  # serves the installed plotly's package_data


def _register_plotly_js() -> bool:
    """Serve the installed plotly's ``package_data`` folder as a component's assets, in place.

    Streamlit serves a component's files from its ``asset_dir`` only, which must lie inside
    the package that declares it, and refuses links that lead out of it. So plotly's own
    folder is registered as the assets of a second component, rooted in the plotly package:
    nothing is copied or written, and a read-only install works. This uses the component
    manager's registration from a manifest, as Streamlit does for ``pyproject.toml``; False
    when that is not available (another Streamlit version).
    """
    try:
        from streamlit.components.v2.get_bidi_component_manager import (
            get_bidi_component_manager,
        )
        from streamlit.components.v2.manifest_scanner import ComponentConfig, ComponentManifest

        manager = get_bidi_component_manager()
        if manager.get_component_path(PLOTLY_JS_NAME) is None:
            project, component = PLOTLY_JS_NAME.split(".")
            manager.register_from_manifest(
                ComponentManifest(project, plotly.__version__,
                                  [ComponentConfig(component, PLOTLY_JS.parent.name)]),
                PLOTLY_JS.parent.parent,
            )
        served = manager.get_component_path(PLOTLY_JS_NAME)
    except (ImportError, AttributeError, TypeError, ValueError, OSError):
        return False
    return served is not None and Path(served) == PLOTLY_JS.parent


def _copy_plotly_js() -> None:
    """The fallback: a copy beside the component's JavaScript, renewed when plotly changes.
    Needs a writable install."""
    served = HERE / "plotly.min.js"
    if not served.exists() or not filecmp.cmp(PLOTLY_JS, served, shallow=False):
        partial = served.with_suffix(".partial")
        shutil.copyfile(PLOTLY_JS, partial)
        partial.replace(served)


def _serve_plotly_js() -> str:
    """The URL of ``plotly.min.js``, relative to the component's JavaScript."""
    if _register_plotly_js():
        return f"../{PLOTLY_JS_NAME}/{PLOTLY_JS.name}"
    _copy_plotly_js()
    return f"./{PLOTLY_JS.name}"


PLOTLY_JS_URL = _serve_plotly_js()
_component = st.components.v2.component(
    NAME, js="live_charts.js", css="live_charts.css", isolate_styles=False
)


def _sent_key(key: str) -> str:
    return f"{key}__curves_sent"


def _on_missing(key: str) -> None:
    # The browser has no figures for what it was told to move (the charts were mounted
    # afresh, e.g. after another page): send them again on this run.
    st.session_state[_sent_key(key)] = None


def load_plotly_js(key: str) -> None:
    """An element that shows nothing and has the browser load plotly.js ahead of the charts
    (hidden by ``figures.NARROW_SCREEN_STYLE``, which lists its key)."""
    _component(key=key, data={"plotly_js": PLOTLY_JS_URL})


def live_html(key: str, html: str) -> None:
    """Show ``html`` in one element that later runs update in place (see the module docstring).
    Give each block its own ``key``: the key is what keeps the element alive between runs."""
    _component(key=key, data={"html": html, "plotly_js": PLOTLY_JS_URL})


def live_charts(
    key: str,
    curves_id: str,
    figures: Callable[[], dict[str, go.Figure]],
    moves: dict[str, dict],
    html: str | None = None,
) -> None:
    """Draw the charts of ``figures()`` side by side, or move their markers in place.

    ``figures`` is called only when the browser needs the curves (``curves_id`` new to this
    session's charts), so a move builds no figure. ``moves``: see the module docstring;
    ``html``: a block drawn above the charts, updated in place.
    """
    ss = st.session_state
    sent = _sent_key(key)
    payload = None
    if ss.get(sent) != curves_id:
        payload = {name: fig.to_json() for name, fig in figures().items()}
        ss[sent] = curves_id
    _component(
        key=key,
        data={"curves_id": curves_id, "figures": payload, "moves": moves, "order": list(moves),
              "plotly_js": PLOTLY_JS_URL, "html": html},
        on_missing_change=lambda: _on_missing(key),
    )
