"""Charts that stay alive in the browser: plotly figures drawn once, then only their markers move.

``st.plotly_chart`` draws a chart from scratch whenever its figure changes, so a slider move
used to tear down and rebuild every chart on the page, and a zoomed chart lost its zoom. This
component (Streamlit components v2) keeps the plotly charts and, on each move, restyles only the
traces that changed. The curves of a class go to the browser once per data set, rule and class
(``curves_id``); a move sends a few numbers per chart.

Props (the ``data`` of the mount), a small documented dict:

``curves_id``
    Identity of the curves drawn: when it changes, the figures are drawn again.
``figures``
    ``{name: plotly JSON}`` (``Figure.to_json()``, typed arrays included), or None when the
    browser already holds the figures of ``curves_id``.
``moves``
    ``{name: {"trace": TRACE NAME, "x": [...], "y": [...], "hovertemplate": str,
    "line": float | None}}``: new points of one trace per chart, and where the chart's dashed
    vertical line (its first shape) goes, if it has one.
``order``
    Chart names, left to right.

plotly.js is the installed plotly package's own ``plotly.min.js``, served from this folder
(the component's ``asset_dir``), never from a CDN.
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


def _serve_plotly_js() -> None:
    """Put the installed plotly's ``plotly.min.js`` beside the component's JavaScript.

    Streamlit serves a component's files from its ``asset_dir`` only and refuses links that
    lead out of it, so the file is copied, and copied again when plotly is upgraded.
    """
    served = HERE / "plotly.min.js"
    if not served.exists() or not filecmp.cmp(PLOTLY_JS, served, shallow=False):
        partial = served.with_suffix(".partial")
        shutil.copyfile(PLOTLY_JS, partial)
        partial.replace(served)


_serve_plotly_js()
_component = st.components.v2.component(
    NAME, js="live_charts.js", css="live_charts.css", isolate_styles=False
)


def _sent_key(key: str) -> str:
    return f"{key}__curves_sent"


def _on_missing(key: str) -> None:
    # The browser has no figures for what it was told to move (the charts were mounted
    # afresh, e.g. after another page): send them again on this run.
    st.session_state[_sent_key(key)] = None


def live_charts(
    key: str,
    curves_id: str,
    figures: Callable[[], dict[str, go.Figure]],
    moves: dict[str, dict],
) -> None:
    """Draw the charts of ``figures()`` side by side, or move their markers in place.

    ``figures`` is called only when the browser needs the curves (``curves_id`` new to this
    session's charts), so a move builds no figure. ``moves``: see the module docstring.
    """
    ss = st.session_state
    sent = _sent_key(key)
    payload = None
    if ss.get(sent) != curves_id:
        payload = {name: fig.to_json() for name, fig in figures().items()}
        ss[sent] = curves_id
    _component(
        key=key,
        data={"curves_id": curves_id, "figures": payload, "moves": moves, "order": list(moves)},
        on_missing_change=lambda: _on_missing(key),
    )
