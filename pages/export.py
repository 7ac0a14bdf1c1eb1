"""Export: the thresholds as a JSON config, a config back in, per-row decisions as CSV."""

import pandas as pd
import streamlit as st

from thresholdlab.predictions import DataError
from thresholdlab.ui import calibrated, controls, export, shell, state

dataset = shell.dataset()
ss = st.session_state

st.title("Export")
thresholds = state.thresholds(dataset)
stem = export.file_stem(dataset)
try:
    config_text = export.config_json(
        dataset,
        thresholds,
        objective=ss[state.OBJECTIVE],
        logit_thresholds=ss[state.LOGIT_THRESHOLDS],
        beta=ss[state.BETA],
        costs=calibrated.class_costs(dataset) if ss[state.OBJECTIVE] == "cost:per_class" else None,
    )
except DataError as e:  # the file on disk changed since it was loaded: its digest is refused
    st.error(str(e))
    st.stop()

st.subheader("Threshold config")
st.caption(
    f"The current thresholds ({ss[state.OBJECTIVE]}), decision rule and the metrics they give, "
    "as JSON that `thresholdlab.apply(config, scores)` or your serving code reads. Floats are "
    "written exactly, so importing the file restores every slider bit for bit."
)
st.download_button(
    "Download thresholds (JSON)",
    config_text,
    file_name=f"thresholds_{stem}.json",
    mime="application/json",
    key="export_json",
    on_click="ignore",
    icon=":material/download:",
    type="primary",
)
shown = pd.DataFrame({"class": list(dataset.classes), "threshold": thresholds})
if ss[state.LOGIT_THRESHOLDS] is not None and dataset.predictions.activation == "sigmoid":
    shown["logit threshold"] = ss[state.LOGIT_THRESHOLDS]
st.dataframe(
    shown, hide_index=True, key="export_thresholds", width=520,
    column_config={"threshold": st.column_config.NumberColumn("threshold", format="%.6g")},
)
with st.expander("Show the JSON"):
    st.code(config_text, language="json", height=320)
st.code(
    "from thresholdlab.config import apply\n\n"
    f"decisions = apply(\"thresholds_{stem}.json\", scores)  # numpy or torch, raw "
    f"{dataset.predictions.score_kind}s\n"
    + ("# -> class id per row, -1 for no prediction" if dataset.task == "multiclass"
       else "# -> bool per (row, class)"),
    language="python",
)

st.subheader("Restore from a config")
controls.config_uploader()

st.subheader("Per-row decisions")
if dataset.binned:
    st.caption("This data is a sketch: it holds counts per bin, not rows, so there are no "
               "per-row decisions to download. Apply the config to the rows where they live.")
    st.stop()
st.caption(
    "One row per input row, in input order: the id column (or `row`), then "
    + ("`prediction` (empty when no class passes)." if dataset.task == "multiclass"
       else "a 0/1 `pred_<class>` column per class.")
)
st.download_button(
    "Download decisions (CSV)",
    lambda: export.decisions_csv(dataset, thresholds),
    file_name=f"decisions_{stem}.csv",
    mime="text/csv",
    key="export_csv",
    on_click="ignore",
    icon=":material/table:",
)
