"""ThresholdLab dashboard: choose classification thresholds with live curves and metrics.

Run with ``streamlit run app.py`` (or ``thresholdlab app``). This entry point sets up the page,
the session's defaults and the sidebar (data source, detection overrides, decision rule), then
hands over to the page the user picked.
"""

import streamlit as st

from thresholdlab.ui import shell

shell.page_config()
THRESHOLDS = st.Page("pages/thresholds.py", title="Thresholds", icon=":material/tune:",
                     default=True)
page = st.navigation(
    [
        THRESHOLDS,
        st.Page("pages/confusion.py", title="Confusion", icon=":material/grid_on:"),
        st.Page("pages/calibration.py", title="Calibration", icon=":material/straighten:"),
        st.Page("pages/evaluation.py", title="Evaluation", icon=":material/verified:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("pages/export.py", title="Export", icon=":material/download:"),
    ]
)
# The Thresholds page's charts need plotly.js: the browser fetches it while the data loads.
shell.setup(charts_ahead=page.url_path == THRESHOLDS.url_path)
try:
    page.run()
finally:
    shell.finish()
