"""Compare: two or more models over the same classes, each at its own chosen thresholds."""

import streamlit as st

from thresholdlab.optimise import OBJECTIVES_HELP
from thresholdlab.predictions import DataError
from thresholdlab.ui import controls, figures, shell, tables
from thresholdlab.ui import evaluation as ui_ev

dataset = shell.dataset()

st.title("Compare")
st.caption(
    "The loaded file is the first model; add other models' predictions over the same classes. "
    "Each model gets its own optimal thresholds, so the comparison is of what each can do. The "
    "macro-F1 difference is bootstrapped: paired when the files share row ids (the same rows "
    "resampled for both, so what they share cancels), unpaired otherwise."
)
uploads = st.file_uploader("Other models' prediction files", accept_multiple_files=True,
                           key="cmp_upload", type=["csv", "tsv", "parquet", "npz", "pt", "gz", "bz2", "xz", "zip"])
left, middle, right = st.columns(3)
with left:
    objective = st.text_input("Objective", value="f1", key="cmp_objective",
                              help=OBJECTIVES_HELP)
with middle:
    resamples = int(st.number_input("Bootstrap resamples", min_value=100, max_value=10000,
                                    value=1000, step=100, key="cmp_resamples"))
with right:
    seed = int(st.number_input("Seed", min_value=0, value=0, step=1, key="cmp_seed"))
if not uploads:
    st.info("Upload one or more prediction files to compare with "
            f"{dataset.source.file_name}.")
    st.stop()
try:
    others = [(u.name, ui_ev.other_file(dataset, u.name, u.getvalue())) for u in uploads]
    result = ui_ev.comparison(dataset, others, objective, resamples, seed)
except (DataError, ValueError) as exc:
    st.error(str(exc))
    st.stop()

if dataset.calibration is not None:
    st.caption("Every model is compared on its own raw scores: the calibration in use was fitted "
               "to the loaded model only.")
first = result.models[0]
for m, diff in zip(result.models[1:], result.differences):
    cells = st.columns(3)
    cells[0].metric(f"Macro-F1 {first.name}", f"{first.report.aggregates.macro['f1']:.3f}", border=True)
    cells[1].metric(f"Macro-F1 {m.name}", f"{m.report.aggregates.macro['f1']:.3f}", border=True)
    cells[2].metric("Difference, 95% bootstrap", f"{diff.observed:+.3f}",
                    help=diff.note, border=True)
    st.caption(f"{first.name} − {m.name}: 95% interval {tables.interval_text(diff.interval)}; "
               f"{first.name} ahead in {diff.share_better:.0%} of {diff.n_resamples} resamples. "
               f"{diff.note}")

c = controls.class_picker(dataset, "cmp", "Class")
a, b = st.columns(2)
a.plotly_chart(ui_ev.compare_pr_figure(result, c), key="cmp_pr", **figures.OPTIONS)
b.plotly_chart(ui_ev.difference_figure(result.differences[0], first.name, result.models[1].name),
               key="cmp_difference", **figures.OPTIONS)
st.dataframe(ui_ev.comparison_frame(result), hide_index=True, key="cmp_table")
