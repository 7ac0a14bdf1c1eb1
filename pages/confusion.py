"""Confusion: who gets mistaken for whom at the current thresholds."""

import numpy as np
import streamlit as st

from thresholdlab.ui import controls, data, figures, shell, sketch_rules, state, tables
from thresholdlab.ui import thresholds_layout as layout
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


# Up to eight classes, the sliders sit beside the matrix, as on the Thresholds page, so that a
# move keeps both in view; more classes and the grid of labels need the page's whole width.
BESIDE = dataset.task != "multilabel" and k <= 8
if BESIDE:
    st.html(f"<style>{layout.COMPACT_PAGE}{layout.panels_style('cm')}</style>")


@st.fragment
def live():
    if BESIDE:
        controls_panel, view = layout.panels("cm")
    else:
        controls_panel = st.expander("Adjust thresholds", expanded=k <= 3)
        view = st.container()
    with controls_panel:
        controls.mode_picker(dataset, "cm")
        many = k > controls.MANY_CLASSES
        picked = controls.class_picker(dataset, "cm", "Class") if many else None
        if BESIDE:
            with st.container(key="cm_slider_list"):
                controls.threshold_sliders(dataset, "cm", picked=picked, per_row=1,
                                           unboxed=True)
        else:
            controls.threshold_sliders(dataset, "cm", picked=picked)
    thresholds = state.thresholds(dataset)
    report = data.report(dataset, thresholds, st.session_state[state.BETA])
    with view:
        sketch_rules.show_refused_move(dataset, thresholds)  # above the numbers it kept
        _matrices(report)
    slice_panel(dataset, report.counts.thresholds, "cm")
    state.sync_url(dataset)


def _matrices(report):
    """The matrices at the current thresholds: 2 x 2 (binary), K x K and no prediction
    (multi-class), counts and row-normalised; a grid of 2 x 2, one per label (multi-label)."""
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
    # Counts first, in view beside the sliders; the row-normalised matrix under them.
    for normalise, title, key in ((False, "Counts", "cm_counts"),
                                  (True, "Row-normalised", "cm_normalised")):
        st.plotly_chart(
            figures.confusion_figure(np.asarray(matrix), rows, columns, normalise=normalise,
                                     title=title),
            key=key, **figures.OPTIONS,
        )
    if note := tables.coverage_note(report):
        st.caption(note)


live()
