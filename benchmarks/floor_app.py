"""The framework's floor for benchmark 5: one slider and the number it shows, no data.

Whatever a slider move costs here is Streamlit's own round trip (browser -> server -> script
rerun -> delta -> render); ThresholdLab's dashboard is measured against it in the same run.
"""

import streamlit as st

value = st.slider("Threshold", 0.0, 1.0, 0.5, step=0.01, format="%.3f", key="floor_slider")
st.metric("Threshold", f"{value:.3f}")
