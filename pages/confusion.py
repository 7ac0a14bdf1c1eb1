"""Confusion: who gets mistaken for whom at the current thresholds."""

import numpy as np
import streamlit as st

from thresholdlab.ui import controls, data, figures, shell, state, tables
from thresholdlab.ui.slices import slice_panel

dataset = shell.dataset()
k = len(dataset.classes)

st.title("Confusion")
st.caption(
    {
        "binary": "True class in rows, decision in columns, at the current threshold.",
        "multiclass": "True class in rows, prediction in columns; the last column counts the "
        "rows that got no prediction (abstained). Row-normalised, the diagonal is each class's "
        "recall and the last column the share of the class left unpredicted.",
        "multilabel": "One 2 x 2 matrix per label (true in rows, prediction in columns): labels "
        "are decided independently, so there is no K x K matrix.",
    }[dataset.task]
)


@st.fragment
def live():
    with st.expander("Adjust thresholds", expanded=k <= 3):
        controls.mode_picker(dataset, "cm")
        many = k > controls.MANY_CLASSES
        picked = controls.class_picker(dataset, "cm", "Class") if many else None
        controls.threshold_sliders(dataset, "cm", picked=picked)
    report = data.report(dataset, state.thresholds(dataset), st.session_state[state.BETA])
    counts = report.counts

    if dataset.task == "multilabel":
        shown = dataset.classes
        if k > controls.MANY_CLASSES:
            weakest = tables.weakest(report, controls.MANY_CLASSES)
            shown = st.multiselect(
                "Labels shown", dataset.classes, **state.kept("cm_labels", first=weakest),
                help="At first the labels with the lowest F1 at the current thresholds. All "
                     "labels' counts are in the Thresholds page's table.",
            )
        normalise = st.toggle("Row-normalised", **state.kept("cm_normalise"),
                              help="Each row's share: the TP cell is the label's recall.")
        if shown:
            indices = [dataset.classes.index(c) for c in shown]
            st.plotly_chart(figures.multilabel_grid(report, indices, normalise=normalise),
                            key="cm_grid", **figures.OPTIONS)
        slice_panel(dataset, counts.thresholds, "cm")
        state.sync_url(dataset)
        return

    if dataset.task == "binary":
        positive = dataset.classes[0]
        matrix = [[counts.tn[0], counts.fp[0]], [counts.fn[0], counts.tp[0]]]
        rows = [f"not {positive}", positive]
        columns = rows
    else:
        matrix = counts.confusion
        rows = list(dataset.classes)
        columns = [*dataset.classes, "no prediction"]
    side_by_side = k <= 8
    cells = st.columns(2) if side_by_side else (st.container(), st.container())
    for cell, normalise, title, key in (
        (cells[0], False, "Counts", "cm_counts"),
        (cells[1], True, "Row-normalised", "cm_normalised"),
    ):
        cell.plotly_chart(
            figures.confusion_figure(np.asarray(matrix), rows, columns, normalise=normalise,
                                     title=title),
            key=key, **figures.OPTIONS,
        )
    if note := tables.coverage_note(report):
        st.caption(note)
    slice_panel(dataset, counts.thresholds, "cm")
    state.sync_url(dataset)


live()
