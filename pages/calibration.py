"""Calibration: is a probability of 0.8 right 80% of the time? Fit it, switch it on, and
see what errors cost."""

import streamlit as st

from thresholdlab.cost_config import cost_matrix_config
from thresholdlab.costs import confusion_cost, optimise_costs, pos_weight_sentence
from thresholdlab.predictions import DataError
from thresholdlab.ui import calibrated, controls, data, export, figures, shell, state, tables

dataset = shell.dataset()
raw = dataset.uncalibrated or dataset

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

method = calibrated.choice_controls(dataset)
st.caption(calibrated.scores_line(dataset))

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

# ------------------------------------------------------------------- before and after the fit
st.subheader(f"Before and after: {calibrated.METHOD_NAMES[method].lower()}")
try:
    fitted, calibrated_predictions, fit_report = calibrated.fitted(dataset, method)
except ValueError as e:  # DataError: this method does not fit these scores
    st.error(str(e))
else:
    for note in fitted.notes:
        st.warning(note)
    before, after = data.reliabilities(raw, n_bins, strategy)[0][c], calibrated.reliability_of(
        raw, method, calibrated_predictions, c, n_bins, strategy)
    a, b = st.columns(2)
    a.plotly_chart(figures.reliability_figure(before), key="cal_chart_before", **figures.OPTIONS)
    b.plotly_chart(figures.reliability_figure(after), key="cal_chart_after", **figures.OPTIONS)
    st.dataframe(tables.calibration_report_frame(fit_report), hide_index=True,
                 key="cal_fit_table")

# ------------------------------------------------------------------------------------ costs
st.subheader("What errors cost")
st.caption(
    "Per class, the cost of a false positive and of a false negative. The exact optimum "
    "minimises the total cost over every distinct score; the Bayes threshold CFP / (CFP + CFN) "
    "is where a calibrated model would cut. The further apart they lie, the less the scores "
    "mean what they say."
)
calibrated.cost_inputs(dataset, c)
costs = calibrated.class_costs(dataset)
weight = st.session_state[calibrated.COSTS].get(dataset.classes[c], (1, 1, None))[2]
if weight:
    st.info(pos_weight_sentence(dataset.classes[c], weight))
best = optimise_costs(dataset.index, costs)
current = dataset.index.counts_at(thresholds)
st.dataframe(
    tables.costs_frame(best, current), hide_index=True, key="cost_table",
)
unused = controls.unused_thresholds_reason(dataset)
st.button("Set the thresholds to the least cost", key="cost_apply", icon=":material/savings:",
          on_click=state.set_least_cost, args=(best,), disabled=unused is not None, help=unused)

# ------------------------------------------------------------------------------ cost matrix
if dataset.task == "multiclass":
    st.subheader("Decide by a cost matrix")
    st.caption(
        "The cost of predicting each column's class when the truth is the row's. Each row is "
        "given the class of least expected cost under the "
        + ("calibrated " if dataset.calibration is not None else "")
        + "probabilities, or no prediction where that costs less."
    )
    matrix = calibrated.matrix_editor(dataset)
    result = calibrated.matrix_result(dataset, matrix)
    # Every multi-class rule at thresholds 0 is the plain argmax; the counts come from the index.
    by_thresholds = data.report(dataset, thresholds).counts.confusion
    argmax = data.report(dataset, [0.0] * len(dataset.classes)).counts.confusion
    cells = st.columns(3)
    cells[0].metric("Total cost, cost matrix", f"{result.total_cost:,.6g}",
                    help=f"{result.mean_cost:.4g} a row.")
    cells[1].metric("Total cost, current thresholds",
                    f"{confusion_cost(matrix, dataset.classes, by_thresholds):,.6g}",
                    help="The sliders' decisions under the same costs (no prediction costs "
                         "the cost of abstaining, 0 when none is set).")
    cells[2].metric("Total cost, plain argmax",
                    f"{confusion_cost(matrix, dataset.classes, argmax):,.6g}")
    st.plotly_chart(
        figures.confusion_figure(result.confusion, list(dataset.classes),
                                 [*dataset.classes, "no prediction"], normalise=False,
                                 title="Confusion under the cost matrix"),
        key="cm_confusion", **figures.OPTIONS,
    )
    try:
        config = cost_matrix_config(raw.predictions, matrix, calibration=dataset.calibration,
                                    metrics={**result.report.to_dict(),
                                             "total_cost": result.total_cost})
    except DataError as e:  # the file on disk changed since it was loaded: its digest is refused
        st.error(str(e))
    else:
        st.download_button(
            "Download the cost-matrix config (JSON)", config.to_json() + "\n",
            file_name=f"cost_matrix_{export.file_stem(dataset)}.json", mime="application/json",
            key="cm_download", on_click="ignore", icon=":material/download:",
        )
