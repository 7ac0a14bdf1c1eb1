"""The slice panel of the Thresholds and Confusion pages: metrics per value of an extra column
at the current thresholds, the worst slice marked, and for binary and multi-label data
per-slice thresholds (equal recall across slices, or each slice's own optimum) with a config
that carries them (its ``groups`` section).

Nothing is computed unless the panel's toggle is on, so slider moves cost what they did.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from thresholdlab import slices as core_slices
from thresholdlab.config import ThresholdConfig
from thresholdlab.groups import make_groups
from thresholdlab.predictions import DataError
from thresholdlab.ui import evaluation as ui_ev
from thresholdlab.ui.data import Dataset

SAME, EQUAL_RECALL, OWN_F1 = "same thresholds", "equal recall across slices", "each slice's F1 optimum"


@st.cache_resource(max_entries=16, show_spinner="Choosing per-slice thresholds…")
def _group_thresholds(key: str, column: str, mode: str, thresholds: tuple, _dataset: Dataset,
                      _values: np.ndarray) -> dict:
    p = _dataset.predictions
    if mode == EQUAL_RECALL:
        table, _ = core_slices.equal_recall(p, _values, np.array(thresholds), _dataset.rule)
        return table
    return core_slices.per_slice_thresholds(p, _values, "f1", _dataset.rule)


def slice_panel(dataset: Dataset, thresholds, prefix: str) -> None:
    """Draw the panel; ``prefix`` keeps its widget keys apart per page."""
    none = ("Slices come from extra columns with a few distinct values (region, device, age "
            "band); this file has none beside its scores, labels and id.")
    with st.expander("Slices", expanded=False):
        if not core_slices.slice_candidates(dataset.predictions):
            st.caption(none)
            return
        if not st.toggle("Metrics per slice", key=f"{prefix}_slices_on",
                         help="Every metric per value of an extra column, at the current "
                              "thresholds; the slice with the lowest macro-F1 is marked."):
            return
        try:
            columns = ui_ev.slice_columns(dataset)
        except DataError as exc:
            st.error(str(exc))
            return
        if not columns:
            st.caption(none)
            return
        column = st.selectbox("Slice by", list(columns), key=f"{prefix}_slice_col")
        values = columns[column]
        group_thresholds = None
        mode = SAME
        if dataset.task != "multiclass" and dataset.rule.per_class:
            mode = st.radio("Thresholds per slice", [SAME, EQUAL_RECALL, OWN_F1], horizontal=True,
                            key=f"{prefix}_slice_mode",
                            help="Equal recall: each slice gets the highest thresholds that reach "
                                 "the recall the current thresholds give overall.")
            if mode != SAME:
                # Each slice's own optimum does not depend on the sliders: one entry, not one
                # per move.
                moved = tuple(map(float, thresholds)) if mode == EQUAL_RECALL else ()
                group_thresholds = _group_thresholds(
                    dataset.key, column, mode, moved, dataset, values)
        report = ui_ev.slice_report(dataset, column, values, thresholds, group_thresholds)
        frame = ui_ev.slice_frame(report, dataset.classes)
        st.dataframe(ui_ev.highlight_worst(frame), hide_index=True, key=f"{prefix}_slice_table")
        worst = report.values[report.worst]
        st.caption(
            f"Worst slice: {column} = {worst} (macro-F1 {report.macro_f1[report.worst]:.3f} on "
            f"{report.rows[report.worst]:,} rows)."
        )
        if group_thresholds is not None:
            # The raw data's kind and activation, and the calibration in use, as the Export
            # page writes them: serving code cuts calibrated scores only through it.
            base = ThresholdConfig.from_choice(
                (dataset.uncalibrated or dataset).predictions, thresholds, dataset.rule,
                calibration=dataset.calibration)
            config = dataclasses.replace(base, groups=make_groups(
                column, group_thresholds, dataset.classes,
                objective="equal_recall" if mode == EQUAL_RECALL else "f1"))
            st.download_button(
                "Download thresholds with per-slice thresholds (JSON)", config.to_json() + "\n",
                file_name=f"thresholds_{dataset.stem or 'predictions'}_by_{column}.json",
                mime="application/json", key=f"{prefix}_slice_download", on_click="ignore",
                icon=":material/download:",
            )
            st.caption(
                "`thresholdlab.apply(config, scores, groups=values)` and `thresholdlab apply` "
                "decide each row with its slice's thresholds; rows of other slices use the "
                "top-level ones."
            )
