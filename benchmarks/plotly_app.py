"""The hand-written chart app of benchmark 5: one slider moving a marker on two plotly charts of
2,000 points each, as a user would write it with ``st.plotly_chart`` and Streamlit's defaults.

ThresholdLab's Thresholds page is held to be no slower than this, measured in the same run.
"""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

POINTS = 2000
x = np.linspace(0.0, 1.0, POINTS)
curves = {"Precision-recall": 1.0 - x**3, "ROC": np.sqrt(x)}

value = st.slider("Threshold", 0.0, 1.0, 0.5, step=0.01, format="%.3f", key="plotly_slider")
st.metric("Threshold", f"{value:.3f}")
i = min(POINTS - 1, int(round(value * (POINTS - 1))))
for column, (title, y) in zip(st.columns(2), curves.items()):
    fig = go.Figure([
        go.Scatter(x=x, y=y, mode="lines", name="curve"),
        go.Scatter(x=[x[i]], y=[y[i]], mode="markers", name="operating point",
                   marker={"size": 12}),
    ])
    fig.update_layout(title=title, height=380)
    column.plotly_chart(fig, key=f"chart_{title}")
