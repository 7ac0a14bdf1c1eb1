"""Calibrated scores and costs in the dashboard: the choice, the cached fit, the costs entered.

The calibration choice (a method, and whether the thresholds cut calibrated scores) lives in
plain session keys, so it survives page changes, and in the URL (``&cal=METHOD&calon=1``).
With the switch on, every page gets a :class:`~thresholdlab.ui.data.Dataset` whose predictions
are the calibrated probabilities: fitted once per file, method and overrides, and indexed once
per decision rule (``st.cache_resource``), never per slider move.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from thresholdlab.calibration_fit import METHODS, calibrate, calibration_report, fit_calibration
from thresholdlab.costs import ClassCost, CostMatrix, cost_matrix_result
from thresholdlab.predictions import DataError
from thresholdlab.ui import data
from thresholdlab.ui.data import Dataset

METHOD = "calibration_method"  # one of METHODS, or None before the user picks
USE = "calibration_use"  # True: thresholds cut calibrated scores
ERROR = "calibration_error"  # one sentence when the chosen method cannot be fitted
IN_USE = "calibration_in_use"  # (raw Dataset, method, calibrated Dataset) of the last build
COSTS = "class_costs"  # class -> [fp, fn, pos_weight or None]
COSTS_REFUSED = "class_costs_refused"  # (class, sentence) for costs not taken, until the next
MATRIX = "cost_matrix_values"  # list of K lists (truth i, prediction j), for the data's classes
ABSTAIN = "cost_matrix_abstain"  # the cost of abstaining, or None

METHOD_NAMES = {
    "temperature": "Temperature scaling",
    "vector": "Vector scaling",
    "platt": "Platt scaling",
    "isotonic": "Isotonic regression",
}
LOGITS_ONLY = ("temperature", "vector")


def init() -> None:
    """Session defaults (the URL's choice first), once per session."""
    ss = st.session_state
    if METHOD in ss:
        return
    qp = st.query_params
    ss[METHOD] = qp.get("cal") if qp.get("cal") in METHODS else None
    ss[USE] = ss[METHOD] is not None and qp.get("calon") == "1"
    ss[ERROR] = None
    ss[IN_USE] = None
    ss[COSTS] = {}
    ss[MATRIX] = None
    ss[ABSTAIN] = None


def methods_for(dataset: Dataset) -> tuple[str, ...]:
    """The methods that fit this data: temperature and vector scaling rescale logits only."""
    raw = dataset.uncalibrated or dataset
    if raw.predictions.score_kind == "logit":
        return METHODS
    return tuple(m for m in METHODS if m not in LOGITS_ONLY)


def query_params() -> dict[str, str]:
    """The URL's calibration parameters (none until a method is picked)."""
    ss = st.session_state
    if ss.get(METHOD) is None:
        return {}
    out = {"cal": ss[METHOD]}
    if ss.get(USE):
        out["calon"] = "1"
    return out


# ------------------------------------------------------------------------------- the fit
@st.cache_resource(max_entries=16, show_spinner=False)
def _fit(data_key: str, method: str, _predictions):
    """(calibration, calibrated predictions, report) of one file, overrides and method."""
    calibration = fit_calibration(_predictions, method)
    calibrated = calibrate(_predictions, calibration)
    return calibration, calibrated, calibration_report(_predictions, calibration, calibrated)


def fitted(dataset: Dataset, method: str):
    """(calibration, calibrated PredictionSet, CalibrationReport) for ``dataset``; DataError."""
    raw = dataset.uncalibrated or dataset
    return _fit(raw.data_key, method, raw.predictions)


def in_use(raw: Dataset) -> Dataset:
    """``raw``, or its calibrated twin when the switch is on (built once per data and method)."""
    ss = st.session_state
    init()
    method = ss[METHOD] if ss[USE] else None
    if method is None:
        return raw
    last = ss[IN_USE]
    if last is not None and last[0] is raw and last[1] == method:
        return last[2]
    try:
        with st.spinner("Fitting the calibration and indexing the calibrated scores…"):
            calibration, calibrated, _ = fitted(raw, method)
            key = f"{raw.data_key}|calibrated:{method}"
            rule = raw.rule
            index = data._index(key, rule.rule, rule.no_prediction, calibrated)
            ranking = data._ranking(key, rule.rule, rule.no_prediction, index)
    except DataError as e:
        ss[ERROR] = str(e)
        ss[USE] = False
        return raw
    ss[ERROR] = None
    out = dataclasses.replace(
        raw, predictions=calibrated, index=index, ranking=ranking, calibration=calibration,
        uncalibrated=raw, ranking_job=None,
    )
    ss[IN_USE] = (raw, method, out)
    return out


def scores_line(dataset: Dataset) -> str:
    """One line saying which scores the threshold sliders cut."""
    if dataset.calibration is not None:
        return (
            f"The sliders cut **calibrated** probabilities "
            f"({METHOD_NAMES[dataset.calibration.method].lower()}; switch it on the "
            "Calibration page)."
        )
    kind = dataset.predictions.activation
    what = {"softmax": "the softmax of the model's logits",
            "sigmoid": "the sigmoid of the model's logits"}.get(kind, "the model's probabilities")
    return f"The sliders cut {what}, uncalibrated."


# --------------------------------------------------------------------------------- costs
def class_costs(dataset: Dataset) -> dict[str, ClassCost]:
    """The costs entered per class (1:1 where none), pos_weight translated where given."""
    from thresholdlab.costs import pos_weight_cost

    stored = st.session_state.get(COSTS, {})
    out = {}
    for c in dataset.classes:
        fp, fn, weight = stored.get(c, (1.0, 1.0, None))
        out[c] = pos_weight_cost(weight) if weight else ClassCost(float(fp), float(fn))
    return out


def cost_matrix(dataset: Dataset) -> CostMatrix:
    """The matrix entered for these classes (1 off the diagonal until edited)."""
    ss = st.session_state
    k = len(dataset.classes)
    values = ss.get(MATRIX)
    if values is None or np.shape(values) != (k, k):
        values = (np.ones((k, k)) - np.eye(k)).tolist()
        ss[MATRIX] = values
    return CostMatrix(dataset.classes, np.array(values, dtype=np.float64), ss.get(ABSTAIN))


def restore_choice(method: str | None) -> None:
    """A restored config's calibration: its method, switched on (off for a config without)."""
    ss = st.session_state
    init()
    if method is None:
        ss[USE] = False
    else:
        ss[METHOD] = method
        ss[USE] = True


# ------------------------------------------------------------------------------- widgets
W_METHOD = "cal_method_widget"
W_USE = "cal_use_widget"
W_FP, W_FN, W_WEIGHT = "cost_fp_widget", "cost_fn_widget", "cost_pos_weight_widget"
W_ABSTAIN_ON, W_ABSTAIN = "cm_abstain_on_widget", "cm_abstain_widget"
W_MATRIX = "cm_editor"


def _on_method() -> None:
    st.session_state[METHOD] = st.session_state[W_METHOD]


def _on_use() -> None:
    ss = st.session_state
    ss[USE] = bool(ss[W_USE])
    if ss[USE] and ss[METHOD] is None:
        ss[METHOD] = ss.get(W_METHOD)


def choice_controls(dataset: Dataset) -> str:
    """The method picker and the "use calibrated scores" switch; returns the method shown."""
    ss = st.session_state
    init()
    options = methods_for(dataset)
    if ss[METHOD] not in options:
        ss[METHOD] = None if ss[METHOD] is None else options[0]
    method = ss[METHOD] or options[0]
    ss[W_METHOD] = method
    ss[W_USE] = bool(ss[USE])
    left, right = st.columns([2, 3])
    left.selectbox(
        "Calibration method", options, format_func=METHOD_NAMES.get, key=W_METHOD,
        on_change=_on_method,
        help="Fitted on the loaded data. Temperature and vector scaling rescale logits (softmax "
             "or sigmoid after); Platt and isotonic map each class's score one-vs-rest "
             "(multi-class outputs divided by their row sum).",
    )
    right.toggle(
        "Use calibrated scores", key=W_USE, on_change=_on_use,
        help="The sliders, optimum, charts, export and decisions then work on calibrated "
             "probabilities; the export carries the calibration so serving reproduces it.",
    )
    if ss.get(ERROR):
        st.error(ss[ERROR])
    return method


def _on_cost(name: str) -> None:
    ss = st.session_state
    weight = ss.get(W_WEIGHT) or None
    fp, fn = float(ss[W_FP]), float(ss[W_FN])
    if not weight:
        try:
            ClassCost(fp, fn)  # the core's rule: the inputs allow no negative cost, so both 0
        except ValueError:
            # No error costs anything: every threshold would be a least-cost one.
            ss[COSTS_REFUSED] = (name, f"Both costs of class '{name}' are 0, so no threshold "
                                       "costs less than another; make at least one above 0. "
                                       "The previous costs stay.")
            return
    ss[COSTS_REFUSED] = None
    ss[COSTS][name] = (fp, fn, float(weight) if weight else None)


def cost_inputs(dataset: Dataset, c: int) -> None:
    """False-positive and false-negative cost (or a training pos_weight) of class ``c``."""
    ss = st.session_state
    init()
    name = dataset.classes[c]
    fp, fn, weight = ss[COSTS].get(name, (1.0, 1.0, None))
    for key, value in ((W_FP, fp), (W_FN, fn), (W_WEIGHT, weight or 0.0)):
        if ss.get(key) != value:
            ss[key] = float(value)
    a, b, w = st.columns(3)
    a.number_input(f"Cost of a false positive ({name})", min_value=0.0, step=1.0, key=W_FP,
                   on_change=_on_cost, args=(name,))
    b.number_input(f"Cost of a false negative ({name})", min_value=0.0, step=1.0, key=W_FN,
                   on_change=_on_cost, args=(name,))
    w.number_input(
        f"Training pos_weight ({name}, optional)", min_value=0.0, step=0.5, key=W_WEIGHT,
        on_change=_on_cost, args=(name,),
        help="The pos_weight of BCEWithLogitsLoss (or class weight) this class was trained "
             "with; 0 for none. It stands for the costs 1:pos_weight.",
    )
    refused = ss.get(COSTS_REFUSED)
    if refused and refused[0] == name:
        st.warning(refused[1])


@st.cache_resource(max_entries=8, show_spinner=False)
def _matrix_result(key: str, costs: bytes, abstain, _dataset: Dataset, _matrix: CostMatrix):
    return cost_matrix_result(_dataset.predictions, _matrix, _dataset.ranking)


def matrix_result(dataset: Dataset, matrix: CostMatrix):
    """The cost-matrix rule on the data in use (calibrated when switched on): one pass over the
    rows per data set and matrix, not per rerun."""
    return _matrix_result(dataset.key, matrix.matrix.tobytes(), matrix.abstain_cost, dataset, matrix)


def matrix_editor(dataset: Dataset) -> CostMatrix:
    """The K x K cost matrix as a small table, and the cost of abstaining; returns it."""
    import pandas as pd

    ss = st.session_state
    matrix = cost_matrix(dataset)
    frame = pd.DataFrame(matrix.matrix, index=list(dataset.classes), columns=list(dataset.classes))
    frame.index.name = "true \\ predicted"
    edited = st.data_editor(
        frame, key=W_MATRIX, width="stretch",
        column_config={c: st.column_config.NumberColumn(c, min_value=0.0, format="%g")
                       for c in dataset.classes},
    )
    values = edited.to_numpy(dtype=np.float64)
    if np.isfinite(values).all() and (values >= 0).all():
        ss[MATRIX] = values.tolist()
    ss[W_ABSTAIN_ON] = ss.get(ABSTAIN) is not None
    left, right = st.columns(2)
    left.checkbox("Allow no prediction", key=W_ABSTAIN_ON, on_change=_on_abstain_on,
                  help="Abstain where that costs less than the class of least expected cost.")
    if ss[ABSTAIN] is not None:
        ss[W_ABSTAIN] = float(ss[ABSTAIN])
        right.number_input("Cost of no prediction", min_value=0.0, step=0.1, key=W_ABSTAIN,
                           on_change=_on_abstain)
    return cost_matrix(dataset)


def _on_abstain_on() -> None:
    ss = st.session_state
    ss[ABSTAIN] = 0.5 if ss[W_ABSTAIN_ON] else None


def _on_abstain() -> None:
    st.session_state[ABSTAIN] = float(st.session_state[W_ABSTAIN])


def reliability_of(raw: Dataset, method: str, predictions, c: int, n_bins: int, strategy: str):
    """Class ``c``'s reliability after ``method`` (cached with the other reliability diagrams)."""
    per_class, _ = data._reliabilities(
        f"{raw.data_key}|calibrated:{method}", n_bins, strategy, predictions
    )
    return per_class[c]

