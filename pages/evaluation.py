"""Evaluation: thresholds chosen on tuning data, measured on data they were not fitted to."""

import streamlit as st

from thresholdlab.optimise import OBJECTIVES_HELP
from thresholdlab.predictions import DataError
from thresholdlab.ui import controls, figures, shell, tables
from thresholdlab.ui import evaluation as ui_ev

dataset = shell.dataset()
SPLIT, SECOND = "Split this file", "A second file"
if dataset.binned:
    st.info("This data is a sketch: its bins keep counts, not rows, so it cannot be split into "
            "tuning and evaluation rows. Open the prediction file to measure thresholds on rows "
            "they were not chosen on.")
    st.stop()

st.title("Evaluation")
st.caption(
    "An optimum fitted to one file is fitted to its noise too. Here thresholds are chosen on "
    "tuning rows and measured on evaluation rows they never saw: a seeded split of this file "
    "(stratified by class), or a second file from the same model (validation vs test). The "
    "drop between the two is what the tuning data over-promised. Intervals are 95% bootstrap "
    "intervals, seeded so they repeat."
)

left, middle, right = st.columns([2, 2, 1])
with left:
    source = st.segmented_control("Evaluation data", [SPLIT, SECOND], default=SPLIT,
                                  key="ev_source", required=True) or SPLIT
with middle:
    objective = st.text_input("Objective", value="f1", key="ev_objective",
                              help=OBJECTIVES_HELP)
with right:
    seed = int(st.number_input("Seed", min_value=0, value=0, step=1, key="ev_seed"))
a, b = st.columns(2)
with a:
    resamples = int(st.number_input("Bootstrap resamples", min_value=100, max_value=10000,
                                    value=1000, step=100, key="ev_resamples"))
with b:
    share = st.slider("Share held out", 0.1, 0.5, 0.3, 0.05, key="ev_share",
                      disabled=source != SPLIT)

try:
    if source == SPLIT:
        split, result = ui_ev.held_out_split(dataset, share, seed, objective, "per_class", resamples)
        tuning = split.tuning
        tuning_key = ui_ev.split_key(dataset, share, seed)
        st.caption(split.description + ".")
        if dataset.calibration is not None:
            st.caption("The calibration in use was fitted on every row of the file, held-out "
                       "rows included, so the held-out figures lean slightly optimistic.")
    else:
        upload = st.file_uploader("Evaluation file (same classes)", key="ev_upload",
                                  type=["csv", "tsv", "parquet", "npz", "pt", "gz", "bz2", "xz", "zip"])
        if upload is None:
            st.info("Upload the same model's predictions on other rows (a test set) to measure "
                    "thresholds chosen on the loaded file.")
            st.stop()
        other = ui_ev.other_file(dataset, upload.name, upload.getvalue())
        result = ui_ev.held_out_file(dataset, other, objective, "per_class", resamples, seed)
        tuning = dataset.predictions
        tuning_key = dataset.key
        st.caption(f"Chosen on {tuning.n_rows:,} rows of {dataset.source.file_name}, "
                   f"measured on {other.n_rows:,} rows of {upload.name}.")
except (DataError, ValueError) as exc:
    st.error(str(exc))
    st.stop()

macro_t = result.tuning.aggregates.macro["f1"]
macro_e = result.evaluation.aggregates.macro["f1"]
ci = result.intervals.aggregate.get("macro_f1")
cells = st.columns(3)
cells[0].metric("Macro-F1, tuning", f"{macro_t:.3f}", border=True)
cells[1].metric("Macro-F1, held out", f"{macro_e:.3f}", delta=f"{macro_e - macro_t:+.3f}",
                border=True)
# Text, not a metric: an interval is too wide for a third of the page at 800 px and a metric
# cuts it ("0.77..."); text wraps.
with cells[2].container(border=True):
    st.markdown("Held-out 95% bootstrap", help=result.intervals.method)
    st.markdown(f"**{tables.interval_text(ci) if ci is not None else 'per label only'}**")

st.plotly_chart(ui_ev.held_out_figure(result), key="ev_chart", **figures.OPTIONS)
st.dataframe(ui_ev.held_out_frame(result), hide_index=True, key="ev_table")
st.caption(f"Bootstrap: {result.intervals.method} Wilson intervals need no resampling and "
           "assume the rows are independent draws.")
unused = controls.unused_thresholds_reason(dataset)
st.button("Use these thresholds", key="ev_use", disabled=unused is not None,
          help=unused or "Set every slider to the thresholds chosen on the tuning rows.",
          on_click=ui_ev.use_thresholds, args=(tuple(result.optimum.thresholds),
                                               result.optimum.objective.text))

st.subheader("How much the optimum itself moves")
st.caption(
    "The optimiser re-run on bootstrap resamples of the tuning rows: the shaded band holds 95% "
    "of the thresholds it chose. A wide band means the exact threshold matters little, or the "
    "data cannot pin it down."
)
x, y = st.columns([1, 2])
with x:
    spread_resamples = int(st.number_input("Resamples", min_value=20, max_value=2000, value=200,
                                           step=20, key="ev_spread_resamples"))
with y:
    c = controls.class_picker(dataset, "ev", "Class")
try:
    index = ui_ev.tuning_index(tuning_key, tuning, dataset)
    spread = ui_ev.optimum_spread(tuning_key, index, objective, spread_resamples, seed)
except (DataError, ValueError) as exc:
    st.error(str(exc))
    st.stop()
st.plotly_chart(ui_ev.band_figure(index.curve(c), spread, c, dataset.classes[c]),
                key="ev_band_chart", **figures.OPTIONS)
st.dataframe(ui_ev.spread_frame(spread, dataset.classes), hide_index=True, key="ev_spread_table")
