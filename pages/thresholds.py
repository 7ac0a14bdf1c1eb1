"""Thresholds: a slider per class, optimise buttons, PR/ROC curves and the metrics they give.

One screen (see ``ui.thresholds_layout``): a title row with the mode and two popovers (what the
scores are, Optimise), the headline numbers, then the sliders beside the counts and charts of
the class whose slider moved last. The table, notes and slices follow below.
"""

import streamlit as st

from thresholdlab.ui import (
    calibrated, controls, data, figures, ranking_job, score_strip, shell, sketch_rules, state,
    tables,
)
from thresholdlab.ui import thresholds_layout as layout
from thresholdlab.ui.figures import OperatingPoint
from thresholdlab.ui.live_charts import live_charts, live_html
from thresholdlab.ui.slices import slice_panel

dataset = shell.dataset(partial_ranking=True)  # AP / ROC AUC of big files fill in later
p = dataset.predictions

EXPLAIN = {
    "softmax": (
        "Your scores are logits, turned into probabilities by **softmax**: the classes compete "
        "and each row's probabilities sum to 1, so the top class always has at least "
        f"1/{p.n_classes} = {1 / p.n_classes:.2f}. A threshold at or below that never abstains; "
        "above it, rows whose top class is less confident get no prediction."
    ),
    "sigmoid": (
        "Your scores are logits, turned into probabilities by **sigmoid**, one class at a time: "
        "a probability threshold t is the logit threshold log(t / (1 − t)), so 0.5 is a logit of "
        "0. Classes do not compete: a row can pass several thresholds, or none."
    ),
    "none": (
        "Scores are probabilities. A class is predicted when its probability ≥ its threshold; "
        "0.5 is the usual default (Keras' `predict(x) > 0.5`), and moving it trades precision "
        "for recall."
        if p.task != "multiclass" else
        "Scores are probabilities that sum to 1 per row: the top class is predicted when it "
        "reaches its threshold, else the row gets no prediction."
    ),
}

# Once per page run, not per move: a style element re-inserted on every move restyles the page.
# It also draws the score strips under the listed sliders.
st.html(tables.TABLE_STYLE + layout.STYLE
        + score_strip.strips_style(dataset, controls.listed_sliders(dataset, "thr")))
# One short row: the title, the mode, and what is one click away (explanations, optimising).
with st.container(key="thr_head", horizontal=True, vertical_alignment="center"):
    st.title("Thresholds")
    with st.container(key="thr_scores_line"):
        st.caption(calibrated.scores_line(dataset))
    controls.mode_picker(dataset, "thr", compact=True)
    with st.popover("About these scores", icon=":material/info:", key="thr_about"):
        st.caption(controls.rule_note(dataset) or EXPLAIN[p.activation])
        st.caption(layout.STRIP_NOTE)
    optimise_box = st.popover("Optimise", icon=":material/auto_fix_high:", key="thr_optimise")
ranking_job.progress(dataset.ranking_job)  # big files: AP / ROC AUC of every class fill in
DRAWN = "thr_drawn"  # (thresholds, beta) the live part last drew


@st.fragment
def live():
    """Everything a slider moves, and nothing else: reruns alone, the rows are never touched
    (O(K log n)), and the curves stay in the browser (only the markers move)."""
    # The sliders' callbacks ran before this run: thresholds and the class followed are current.
    thresholds = state.thresholds(dataset)
    beta = st.session_state[state.BETA]
    st.session_state[DRAWN] = (tuple(thresholds), beta)
    sketch_rules.show_refused_move(dataset, thresholds)  # a move a sketch could not count
    report = data.report(dataset, thresholds, beta)
    c = state.selected_index(dataset)

    # The numbers a move changes are HTML blocks updated in place: each Streamlit element a run
    # sends costs the browser a render of the page (see ui.live_charts).
    live_html("thr_tiles", tables.tiles_html(tables.headlines(report)))

    # Sliders beside the charts: the slider moved, its class's charts and counts, one screen.
    controls_panel, view = layout.panels("thr")
    with controls_panel:
        if len(dataset.classes) > 1:
            with st.container(key="thr_class_row", horizontal=True, vertical_alignment="bottom"):
                controls.class_picker(dataset, "thr", "Charts show")
                controls.pin_toggle(dataset, "thr")
        with st.container(key="thr_slider_list"):
            controls.threshold_sliders(
                dataset, "thr", picked=c, per_row=1, unboxed=True,
                strips=lambda i: score_strip.strip(dataset, i),
                strip_words=lambda i: score_strip.description(dataset, i),
            )
        abstains = dataset.rule.no_prediction == "abstain"
        notes = (tables.coverage_note(report, abstains), tables.sparse_labels_note(report))
        if any(notes):
            live_html("thr_notes", tables.notes_html(*notes))

    name = dataset.classes[c]
    point = OperatingPoint.of(report, c)
    curve = data.plot_curve(dataset, c)
    # While a big file's classes are being ranked, the job holds those ranked so far (the
    # report's copy was taken before it started).
    job = dataset.ranking_job
    # Under argmax, the dotted one-vs-rest curve sorts the class's whole score column: on a
    # big file it fills in with AP and ROC AUC, after the first view.
    argmax = dataset.rule.rule == "argmax"
    reference = data.one_vs_rest_curve(dataset, c) if argmax and job is None else None
    ranking = report.ranking if job is None else job.provisional()
    ap = ranking.average_precision[c]
    auc = ranking.roc_auc[c]
    f1 = float(report.per_class.f1[c])

    def class_figures():
        # Built only when the browser lacks this class's curves: a move sends the markers.
        return {
            "pr": figures.pr_figure(curve, point, name=name,
                                    average_precision=ranking_job.shown(ap, job, c),
                                    reference=reference, height=layout.CHART_HEIGHT),
            "roc": figures.roc_figure(curve, point, name=name,
                                      roc_auc=ranking_job.shown(auc, job, c), reference=reference,
                                      height=layout.CHART_HEIGHT),
            "rates": figures.threshold_figure(data.threshold_series(curve), point, f1, name=name,
                                              height=layout.CHART_HEIGHT),
        }

    with view:
        live_charts(
            "thr_charts", f"{dataset.key}|{c}|{job is None}", class_figures,
            figures.operating_point_moves(point, f1), html=tables.class_counts_html(report, c),
        )
    if argmax:
        curve_note = tables.argmax_curve_note(name, curve, ap, auc, pending=reference is None)
    elif not dataset.rule.per_class:
        curve_note = (
            "Under this rule a class's decisions also depend on the other thresholds, so the "
            "operating point can sit off the curve (drawn for this class's threshold alone)."
        )
    else:
        curve_note = None

    many = len(dataset.classes) > controls.MANY_CLASSES
    live_html("thr_table", (
        tables.notes_html(curve_note)
        + '<h3 class="tl-heading">Per class</h3>'
        + tables.metrics_html(tables.metrics_frame(report, sort_by_f1=many), report.per_class.beta)
        + tables.notes_html(
            ("Sorted by F1, weakest first. " if many else "")
            + "95% Wilson intervals for precision and recall. Precision with nothing predicted "
            "is reported as 0 and flagged below."
        )
        + tables.warnings_html(report.warnings)
    ))

    if len(dataset.classes) > 1 and st.toggle(
        "Show the PR curve of every class (small multiples)",
        **state.kept("thr_small_multiples"),
    ):
        indices = range(len(dataset.classes))
        st.plotly_chart(
            figures.small_multiples(
                [data.plot_curve(dataset, i, data.SMALL_MULTIPLE_POINTS) for i in indices],
                [OperatingPoint.of(report, i) for i in indices],
                list(dataset.classes),
                [report.ranking.average_precision[i] for i in indices],
            ),
            key="thr_small_multiples_chart", **figures.OPTIONS,
        )
    slice_panel(dataset, thresholds, "thr")
    state.sync_url(dataset)


@st.fragment
def optimise():
    """The optimise panel reruns alone too; an optimum (or a new β) redraws the page."""
    controls.optimise_panel(dataset)
    if st.session_state.get(DRAWN) != (tuple(state.thresholds(dataset)),
                                       st.session_state[state.BETA]):
        st.rerun()


# The optimise panel sits above the live part but is filled after it, so a full run sends
# the numbers first and the panel sees what the live part drew.
live()
with optimise_box:
    optimise()
