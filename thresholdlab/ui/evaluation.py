"""Held-out evaluation, comparison and slices for the dashboard: cached core calls, tables and
figures (the Evaluation and Compare pages, and the slice panels of Thresholds and Confusion).

Caches are keyed by plain strings (the data set's key, the file's sha256, the parameters); the
big objects ride in ``_``-prefixed arguments, as in ``thresholdlab.ui.data``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from thresholdlab import evaluation as core
from thresholdlab import slices as core_slices
from thresholdlab.calibration_fit import calibrate
from thresholdlab.curves import CurveIndex, downsample
from thresholdlab.optimise import optimise
from thresholdlab.predictions import DataError, PredictionSet
from thresholdlab.sketch import is_binned
from thresholdlab.ui import data
from thresholdlab.ui.data import MAX_PLOT_POINTS, Dataset, Source, load_predictions
from thresholdlab.ui.figures import POINT, _base_layout, _f32
from thresholdlab.ui.tables import interval_text

MODEL_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
TUNING, HELD_OUT, BAND = "#9aa0a6", "#1f77b4", "rgba(255,127,14,0.18)"


# ------------------------------------------------------------------------------- held out
# The tuning rows' CurveIndex is built once (a split's tuning rows) or not at all (a second
# file: the loaded data's own index), and shared by the held-out report and the optimum's spread.
def split_key(dataset: Dataset, share: float, seed: int) -> str:
    """Cache identity of a split's tuning rows."""
    return f"{dataset.key}|split|{float(share)}|{int(seed)}"


@st.cache_resource(max_entries=8, show_spinner="Splitting…")
def _split(key: str, share: float, seed: int, _dataset: Dataset):
    return core.stratified_split(_dataset.predictions, share, seed)


@st.cache_resource(max_entries=16, show_spinner="Evaluating…")
def _held_out(key: str, evaluation_key: str, objective: str, mode: str, resamples: int, seed: int,
              _index: CurveIndex, _evaluation: PredictionSet):
    # core.held_out, on an index already built.
    optimum = optimise(_index, objective, mode=mode)
    return core.held_out_at(_index, _evaluation, optimum, n_resamples=resamples, seed=seed)


def held_out_split(dataset: Dataset, share: float, seed: int, objective: str, mode: str,
                   resamples: int):
    """(Split, HeldOut) of the loaded file; raises DataError / ValueError."""
    split = _split(dataset.key, float(share), int(seed), dataset)
    key = split_key(dataset, share, seed)
    index = tuning_index(key, split.tuning, dataset)
    return split, _held_out(key, "split", objective, mode, int(resamples), int(seed), index,
                            split.evaluation)


def other_file(dataset: Dataset, name: str, raw: bytes) -> PredictionSet:
    """A second prediction file, read with the loaded file's overrides; raises DataError,
    also for a sketch: measuring and comparing here rank and resample rows."""
    other = load_predictions(Source.upload(name, raw), dataset.overrides)
    if is_binned(other):
        raise DataError(f"'{name}' is a sketch: its bins keep counts, not rows, which this "
                        "page needs; upload the prediction file it was made from.")
    return other


def held_out_file(dataset: Dataset, other: PredictionSet, objective: str, mode: str,
                  resamples: int, seed: int):
    """Thresholds chosen on the loaded data, measured on ``other``: with calibrated scores in
    use, ``other`` goes through the same fitted calibration, so both sides are on one scale."""
    if dataset.calibration is not None:
        other = _calibrated(dataset.key, other.sha256, other, dataset.calibration)
    index = tuning_index(dataset.key, dataset.predictions, dataset)
    return _held_out(dataset.key, other.sha256, objective, mode, int(resamples), int(seed),
                     index, other)


@st.cache_resource(max_entries=4, show_spinner=False)
def _calibrated(key: str, other_sha: str, _other: PredictionSet, _calibration) -> PredictionSet:
    return calibrate(_other, _calibration)


@st.cache_resource(max_entries=8, show_spinner="Re-optimising on bootstrap resamples…")
def _spread(key: str, rows: int, objective: str, resamples: int, seed: int, _index: CurveIndex):
    return core.optimum_spread(_index, objective, n_resamples=resamples, seed=seed)


def optimum_spread(key: str, index: CurveIndex, objective: str, resamples: int, seed: int):
    """The optimum's spread on ``index`` (cached by ``key``, the tuning data's identity)."""
    return _spread(key, index.n_rows, objective, int(resamples), int(seed), index)


@st.cache_resource(max_entries=8, show_spinner=False)
def _tuning_index(key: str, _predictions: PredictionSet, _dataset: Dataset) -> CurveIndex:
    return CurveIndex.build(_predictions, _dataset.rule)


def tuning_index(key: str, predictions: PredictionSet, dataset: Dataset) -> CurveIndex:
    """The tuning rows' index: ``key`` is :func:`split_key` for a split's tuning rows, or the
    data set's key for the loaded data itself (whose index exists already)."""
    if key == dataset.key and not dataset.binned:
        return dataset.index
    return _tuning_index(key, predictions, dataset)


def use_thresholds(thresholds: tuple, objective: str) -> None:
    """Button callback: every slider to the tuning optimum (the optimise panel's message, which
    describes an optimum on the whole file, is cleared)."""
    from thresholdlab.ui import state

    state.set_thresholds(thresholds, objective=objective)
    st.session_state[state.OPTIMUM] = None


def held_out_frame(result) -> pd.DataFrame:
    """One row per class: threshold, tuning and held-out F1 / precision / recall, the drop, and
    the held-out intervals (bootstrap beside Wilson)."""
    t, e, ci = result.tuning.per_class, result.evaluation.per_class, result.intervals.per_class
    return pd.DataFrame({
        "class": list(result.tuning.classes),
        "threshold": result.optimum.thresholds,
        "F1 tuning": t.f1,
        "F1 held-out": e.f1,
        "F1 drop": result.drop["f1"],
        "F1 95% bootstrap": [interval_text(p) for p in ci["f1"]],
        "precision held-out": e.precision,
        "precision 95% bootstrap": [interval_text(p) for p in ci["precision"]],
        "precision 95% Wilson": [interval_text(p) for p in e.precision_ci],
        "recall held-out": e.recall,
        "recall 95% bootstrap": [interval_text(p) for p in ci["recall"]],
        "recall 95% Wilson": [interval_text(p) for p in e.recall_ci],
        "support held-out": result.evaluation.counts.support,
    })


def spread_frame(spread, classes) -> pd.DataFrame:
    return pd.DataFrame({
        "class": list(classes),
        "threshold": spread.optimum.thresholds,
        "band low": spread.band[:, 0],
        "band high": spread.band[:, 1],
        "band width": spread.width,
        "binned": ~spread.exact,
    })


def held_out_figure(result) -> go.Figure:
    """F1 per class on the tuning and the held-out data, held-out bootstrap interval as error bars."""
    classes = list(result.tuning.classes)
    f1 = result.evaluation.per_class.f1
    ci = result.intervals.per_class["f1"]
    upper = np.where(np.isfinite(ci[:, 1]), ci[:, 1] - f1, 0)
    lower = np.where(np.isfinite(ci[:, 0]), f1 - ci[:, 0], 0)
    return go.Figure({
        "data": [
            {"type": "bar", "name": "tuning (where thresholds were chosen)", "x": classes,
             "y": _f32(result.tuning.per_class.f1), "marker": {"color": TUNING}},
            {"type": "bar", "name": "held-out, 95% bootstrap interval", "x": classes,
             "y": _f32(f1), "marker": {"color": HELD_OUT},
             "error_y": {"type": "data", "array": _f32(upper), "arrayminus": _f32(lower),
                         "visible": True}},
        ],
        "layout": {**_base_layout("F1 at the tuning optimum", 360), "barmode": "group",
                   "yaxis": {"title": {"text": "F1"}, "range": [0, 1.05]}},
    })


def band_figure(curve, spread, c: int, name: str) -> go.Figure:
    """F1 against the threshold on the tuning data, the optimum marked and the band of optima
    over bootstrap resamples shaded."""
    shown = downsample(curve, MAX_PLOT_POINTS)
    low, high = (float(x) for x in spread.band[c])
    best = float(spread.optimum.thresholds[c])
    f1 = shown.f1
    return go.Figure({
        "data": [
            {"type": "scatter", "mode": "lines", "name": "F1 (tuning)", "x": _f32(shown.thresholds),
             "y": _f32(f1), "line": {"color": HELD_OUT, "width": 2}},
            {"type": "scatter", "mode": "markers", "name": "optimum", "x": [best],
             "y": [float(np.interp(best, shown.thresholds[::-1], f1[::-1])) if len(f1) else 0.0],
             "marker": {"size": 12, "color": POINT}},
        ],
        "layout": {
            **_base_layout(f"{name}: where the optimum lands on {spread.n_resamples} resamples", 360),
            "shapes": [{"type": "rect", "xref": "x", "yref": "paper", "x0": low, "x1": high,
                        "y0": 0, "y1": 1, "fillcolor": BAND, "line": {"width": 0}}],
            "xaxis": {"title": {"text": "threshold"}, "range": [0, 1]},
            "yaxis": {"title": {"text": "F1"}, "range": [0, 1.05]},
        },
    })


# ------------------------------------------------------------------------------ compare
@st.cache_resource(max_entries=4, show_spinner="Comparing…")
def _comparison(key: str, shas: tuple, names: tuple, objective: str, resamples: int, seed: int,
                _sets: tuple, _dataset: Dataset):
    # Every model under the loaded data's decision rule (the key includes it).
    return core.compare(list(_sets), objective=objective, names=list(names), rule=_dataset.rule,
                        n_resamples=resamples, seed=seed)


def comparison(dataset: Dataset, others: list[tuple[str, PredictionSet]], objective: str,
               resamples: int, seed: int):
    # Every model on its own raw scores: a calibration fitted to the loaded model is not the
    # other models' calibration.
    base = dataset.uncalibrated or dataset
    names = (base.source.file_name, *(n for n, _ in others))
    sets = (base.predictions, *(p for _, p in others))
    # The loaded data is in the key already; a file on disk is not hashed for it.
    return _comparison(base.key, tuple(p.sha256 for _, p in others), names, objective,
                       int(resamples), int(seed), sets, base)


def comparison_frame(result) -> pd.DataFrame:
    classes = list(result.models[0].predictions.classes)
    frame = {"class": [*classes, "macro"]}
    for m in result.models:
        frame[f"F1 {m.name}"] = [*m.report.per_class.f1, m.report.aggregates.macro["f1"]]
    for m in result.models:
        frame[f"threshold {m.name}"] = [*m.thresholds, math.nan]
    for m in result.models:
        frame[f"recall {m.name}"] = [*m.report.per_class.recall, m.report.aggregates.macro["recall"]]
        frame[f"precision {m.name}"] = [*m.report.per_class.precision,
                                        m.report.aggregates.macro["precision"]]
    return pd.DataFrame(frame)


def compare_pr_figure(result, c: int) -> go.Figure:
    """PR curves of class ``c`` for every model, each with its operating point."""
    traces = []
    for j, m in enumerate(result.models):
        colour = MODEL_COLOURS[j % len(MODEL_COLOURS)]
        curve = downsample(m.index.curve(c), MAX_PLOT_POINTS)
        traces.append({"type": "scatter", "mode": "lines", "name": m.name, "x": _f32(curve.recall),
                       "y": _f32(curve.precision), "line": {"color": colour, "width": 2}})
        traces.append({"type": "scatter", "mode": "markers", "name": f"{m.name} operating point",
                       "x": _f32([m.report.per_class.recall[c]]),
                       "y": _f32([m.report.per_class.precision[c]]), "showlegend": False,
                       "marker": {"size": 12, "color": colour, "line": {"width": 2, "color": "white"}}})
    name = result.models[0].predictions.classes[c]
    return go.Figure({"data": traces, "layout": {
        **_base_layout(f"{name}: precision-recall, every model", 420),
        "xaxis": {"title": {"text": "recall"}, "range": [0, 1.02]},
        "yaxis": {"title": {"text": "precision"}, "range": [0, 1.05]},
    }})


def difference_figure(diff, first: str, second: str) -> go.Figure:
    low, high = (float(x) for x in diff.interval)
    return go.Figure({"data": [
        {"type": "histogram", "x": _f32(diff.draws), "nbinsx": 40, "name": "resamples",
         "marker": {"color": TUNING}},
    ], "layout": {
        **_base_layout(f"macro-F1 {first} − {second} over {diff.n_resamples} resamples", 300),
        "shapes": [
            {"type": "rect", "xref": "x", "yref": "paper", "x0": low, "x1": high, "y0": 0, "y1": 1,
             "fillcolor": BAND, "line": {"width": 0}},
            {"type": "line", "xref": "x", "yref": "paper", "x0": 0, "x1": 0, "y0": 0, "y1": 1,
             "line": {"color": POINT, "dash": "dot"}},
        ],
        "xaxis": {"title": {"text": "difference in macro-F1"}},
        "yaxis": {"title": {"text": "resamples"}},
    }})


# ------------------------------------------------------------------------------- slices
@st.cache_resource(max_entries=8, show_spinner=False)
def _slice_columns(sha: str, overrides: str, name: str, _raw, _predictions: PredictionSet):
    return core_slices.slice_columns(data._Lazy.of(_raw), _predictions, name=name)


def slice_columns(dataset: Dataset) -> dict:
    """Extra columns of the loaded file usable as slices (empty when it has none)."""
    return _slice_columns(dataset.source.sha256, dataset.overrides.key, dataset.source.file_name,
                          data.lazy_bytes(dataset.source), dataset.predictions)


@st.cache_resource(max_entries=16, show_spinner=False)
def _slice_indices(key: str, column: str, _dataset: Dataset, _values: np.ndarray):
    """:func:`thresholdlab.slices.slice_indices`, built once, so a threshold change stays cheap."""
    return core_slices.slice_indices(_dataset.predictions, _values, _dataset.rule)


def slice_report(dataset: Dataset, column: str, values: np.ndarray, thresholds,
                 group_thresholds: dict | None = None) -> core_slices.SliceReport:
    """:func:`thresholdlab.slices.slice_metrics` on cached per-slice indices."""
    return core_slices.slice_metrics(
        dataset.predictions, values, thresholds, dataset.rule, column=column,
        group_thresholds=group_thresholds, sample_based_metrics=False,
        indices=_slice_indices(dataset.key, column, dataset, values))


def slice_frame(report: core_slices.SliceReport, classes, *, max_classes: int = 6) -> pd.DataFrame:
    """One row per slice; the worst (lowest macro-F1) marked."""
    frame = pd.DataFrame(report.table(classes))
    keep = ["slice", "rows", "macro F1", "macro precision", "macro recall"]
    for name in list(classes)[:max_classes]:
        keep += [f"F1 {name}", f"recall {name}"]
    frame = frame[keep + ["worst"]]
    frame["worst"] = np.where(frame["worst"], "← worst", "")
    if len(report.thresholds) and report.thresholds.shape[1] <= max_classes:
        for c, name in enumerate(list(classes)[:max_classes]):
            frame[f"threshold {name}"] = report.thresholds[:, c]
    return frame


def highlight_worst(frame: pd.DataFrame):
    """The table with the worst slice's row tinted."""
    return frame.style.apply(
        lambda row: ["background-color: #fde2e1" if row["worst"] else "" for _ in row], axis=1)
