"""Calibration: is a probability of 0.8 right 80% of the time?"""

import streamlit as st

from thresholdlab.ui import controls, data, figures, shell, state, tables

dataset = shell.dataset()

st.title("Calibration")
st.caption(
    "A threshold is only as meaningful as the probability it cuts: 0.8 means \"right 80% of the "
    "time\" only when the model is calibrated. Each point is one bin of rows: its mean predicted "
    "probability against the share of those rows that truly belong to the class. Points below "
    "the diagonal are over-confident. ECE is the rows-weighted mean gap; MCE the largest gap."
)
if dataset.binned:
    st.info("This data is a sketch: its bins keep counts, not the mean probability of their "
            "rows, which a reliability diagram needs. Open the prediction file to see it.")
    st.stop()

left, middle, right = st.columns([2, 2, 1])
with left:
    c = controls.class_picker(dataset, "cal", "Class")
with middle:
    n_bins = st.slider("Bins", 5, 30, **state.kept("cal_bins"))
with right:
    strategy = st.segmented_control(
        "Bin edges", ["uniform", "quantile"], **state.kept("cal_strategy"),
        required=True, help="Uniform: equal widths. Quantile: equal numbers of rows.",
    ) or "uniform"

per_class, top = data.reliabilities(dataset, n_bins, strategy)
rel = per_class[c]
thresholds = state.thresholds(dataset)

cells = st.columns(4)
cells[0].metric("ECE", tables.format_value(rel.ece), help="Expected calibration error.")
cells[1].metric("MCE", tables.format_value(rel.mce), help="Largest gap of a non-empty bin.")
cells[2].metric("Rows", f"{rel.n_rows:,}")
if top is not None:
    cells[3].metric("Top-label ECE", tables.format_value(top.ece),
                    help="The argmax probability against \"the argmax is right\": the ECE "
                         "usually quoted for softmax networks.")

if top is not None:
    a, b = st.columns(2)
    a.plotly_chart(figures.reliability_figure(rel, threshold=float(thresholds[c])),
                   key="cal_chart_class", **figures.OPTIONS)
    b.plotly_chart(figures.reliability_figure(top), key="cal_chart_top", **figures.OPTIONS)
else:
    st.plotly_chart(figures.reliability_figure(rel, threshold=float(thresholds[c])),
                    key="cal_chart_class", **figures.OPTIONS)
st.caption("The dashed red line is the class's current threshold.")

if len(per_class) > 1:
    st.subheader("Every class")
    st.dataframe(
        tables.calibration_frame(per_class), hide_index=True, key="cal_table",
        column_config={
            "ECE": st.column_config.NumberColumn("ECE", format="%.4f"),
            "MCE": st.column_config.NumberColumn("MCE", format="%.4f"),
        },
    )
