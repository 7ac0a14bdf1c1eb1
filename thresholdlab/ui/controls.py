"""Threshold controls: mode, class picker, a slider per class with exact entry, optimise buttons.

Every control is re-seeded from the plain session-state keys of ``state`` just before it is
drawn and writes back through ``on_change``; so a slider, its number box, the optimiser, a
restored config and the URL all move the same thresholds, and they survive page changes.
"""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from thresholdlab.decisions import NO_PREDICTION_NAMES, RULE_NAMES
from thresholdlab.optimise import Objective
from thresholdlab.sketch import optimise_index
from thresholdlab.ui import state
from thresholdlab.ui.data import Dataset
from thresholdlab.ui.tables import format_value

MODE_NAMES = {"per_class": "Per class", "global": "Global"}
MANY_CLASSES = 12  # above this, one slider follows the class picker; the rest on request
SLIDER_STEP = 0.01
NUMBER_STEP = 0.001


def unused_thresholds_reason(dataset: Dataset) -> str | None:
    """One sentence when the decision rule makes every threshold do nothing; else None."""
    rule = dataset.rule
    if not rule.ignores_thresholds(len(dataset.classes)):
        return None
    if dataset.task == "multiclass":
        return (
            f"Thresholds do nothing under “{RULE_NAMES[rule.rule]}” with “"
            f"{NO_PREDICTION_NAMES[rule.no_prediction]}”: a row whose top class misses its "
            "threshold falls back to that same class, so every row gets its argmax. Choose "
            f"“{NO_PREDICTION_NAMES['abstain']}” or the other rule in the sidebar to use them."
        )
    return (
        f"The threshold does nothing with one label and “"
        f"{NO_PREDICTION_NAMES[rule.no_prediction]}”: every row gets that label. Choose "
        f"“{NO_PREDICTION_NAMES['none']}” in the sidebar to use it."
    )


def rule_note(dataset: Dataset) -> str | None:
    """What the thresholds do under a rule that never leaves a row without a prediction (the
    page's usual explanation speaks of rows that get none); None for the other rules."""
    if dataset.rule.no_prediction != "fallback_argmax":
        return None
    if dataset.rule.rule == "argmax":
        return (
            "Every row gets its most probable class: a row whose top class misses its "
            "threshold falls back to that same class."
        )
    return (
        "A row gets the most probable class that passes its threshold; a row where no "
        "class passes falls back to its argmax, so every row gets a prediction."
    )


PUSHED = "pushed_widget_values"  # widget key -> [(time, replaced, value)] the app pushed recently
ECHO_WINDOW_S = 1.5


def _seed(key: str, value) -> None:
    """Show ``value`` in widget ``key``.

    Only when it differs: assigning a widget's state makes the browser take the value, which
    would undo key presses still in flight. Until the browser has taken it, every rerun request
    carries the widget's old value, which the server reads as a user's change; and once taken,
    the browser may report it back. :func:`_user_value` tells those reports from the user's
    own moves, which would otherwise move the threshold back: a slider held down would stutter
    and lose steps.

    Each push keeps the value it replaced: every request sets the state of each widget it
    reports, so that is what the browser showed last, and goes on reporting until it takes
    the push. A request showing the widget at the value pushed (no callback, so its state
    still holds it) proves the browser took the push: from then on, its pushes are forgotten
    and a report of the replaced value is the user's choice. A request showing an older
    value runs the callback, which sets the state to it, so the push is made again here.
    """
    ss = st.session_state
    replaced = ss[key] if key in ss else None
    if key in ss and replaced == value:
        ss.get(PUSHED, {}).pop(key, None)
        return
    ss[key] = value
    now = time.monotonic()
    ss.setdefault(PUSHED, {})[key] = [*_recent(key, now), (now, replaced, value)]


def _recent(key: str, now: float) -> list[tuple[float, object, object]]:
    pushes = st.session_state.get(PUSHED, {}).get(key, [])
    return [push for push in pushes if now - push[0] < ECHO_WINDOW_S]


def _user_value(key: str, partner: str):
    """The value widget ``key`` reports, or None when the browser, not the user, reports it.

    ``partner`` is the other widget showing the same threshold (a slider's number box, and
    back); the app always pushes the same value into both. Soon after a push, until a request
    shows the browser took it (see :func:`_seed`), a report is the user's only when the same
    request shows the partner holding the value pushed: the user moves one widget at a time,
    so a partner that differs means the request was sent by the partner's own move (a slider
    held down, carrying the number box's old value) or before the browser took the push (an
    optimum, another class in the picked slider). A report of the pushed value itself is the
    browser showing it.

    A report of the value the push replaced is the browser still showing what it showed
    before, unless the request proves the browser has taken the push. A partner holding a
    value the app pushed into it is that proof: both got their values in the same run (after
    an optimum, typing the value shown before counts at once). A partner whose value is the
    user's own proves nothing: the user moved it, then another widget (of another class, say)
    before the browser took the push, and taking the old value would undo the move.

    Once a report is taken, the widget's pushes are forgotten: the user has moved on from them.
    """
    ss = st.session_state
    value = ss[key]
    if value is None:
        return None
    now = time.monotonic()
    recent = _recent(key, now)
    if recent:
        _, replaced, pushed = recent[-1]
        if value == pushed or ss.get(partner) != pushed:
            return None
        if value == replaced and not _recent(partner, now):
            return None
    ss.get(PUSHED, {}).pop(key, None)
    return value


# ----------------------------------------------------------------------------- mode and class
def _on_mode(key: str) -> None:
    ss = st.session_state
    mode = ss[key] or ss[state.MODE]
    if mode == ss[state.MODE]:
        return
    ss[state.MODE] = mode
    if mode == "global":
        values = np.asarray(ss[state.THRESHOLDS], dtype=np.float64)
        state.set_thresholds(np.full(len(values), float(values.mean())))


def mode_picker(dataset: Dataset, prefix: str, compact: bool = False) -> str:
    """Per-class / global toggle (not shown for binary data, where they are the same);
    ``compact``: without its label line (its help moves to the options' tooltip)."""
    ss = st.session_state
    values = state.thresholds(dataset)
    if ss[state.MODE] == "global" and np.ptp(values) > 0:
        ss[state.MODE] = "per_class"  # e.g. a link or config with unequal thresholds
    if len(dataset.classes) == 1:
        return ss[state.MODE]
    key = f"{prefix}_mode"
    _seed(key, ss[state.MODE])
    unused = unused_thresholds_reason(dataset)
    st.segmented_control(
        "Thresholds",
        list(MODE_NAMES),
        format_func=MODE_NAMES.get,
        key=key,
        on_change=_on_mode,
        args=(key,),
        disabled=unused is not None,
        help=unused or (
            "Global: one threshold for every class (the optimiser maximises the macro "
            "objective). Per class: a threshold each (the optimiser treats classes one by one)."
        ),
        label_visibility="collapsed" if compact else "visible",
    )
    return ss[state.MODE]


def _on_class(key: str) -> None:
    st.session_state[state.SELECTED_CLASS] = st.session_state[key]


def class_picker(dataset: Dataset, prefix: str, label: str = "Class shown in the charts") -> int:
    """Select the class whose curves are drawn; returns its index."""
    i = state.selected_index(dataset)
    if len(dataset.classes) == 1:
        return 0
    key = f"{prefix}_class"
    _seed(key, dataset.classes[i])
    st.selectbox(
        label, dataset.classes, key=key, on_change=_on_class, args=(key,),
        help="Type to search." if len(dataset.classes) > MANY_CLASSES else None,
    )
    return state.selected_index(dataset)


# ------------------------------------------------------------------------------------ sliders
OUT_OF_RANGE = "thresholds_typed_out_of_range"  # number-box key -> the value typed outside [0, 1]


def _in_range(key: str, value: float) -> bool:
    """A typed threshold outside [0, 1] is not applied; its box says why, beside it."""
    typed = st.session_state.setdefault(OUT_OF_RANGE, {})
    if 0.0 <= value <= 1.0:
        typed.pop(key, None)
        return True
    typed[key] = value
    return False


def _snapped(value: float) -> float:
    """On binned data (a sketch), the nearest bin edge ``i / n_bins``, where every count is
    exact; the value itself otherwise. Slider steps are floats, so they land next to edges."""
    dataset = st.session_state.get(state.DATASET)
    if dataset is None or not dataset.binned:
        return value
    n_bins = dataset.predictions.n_bins
    return round(float(value) * n_bins) / n_bins


PINNED = "charts_pinned"  # True: the charts stay on the picked class when another slider moves


def _if_current(drawn_for: str | None, callback, *args) -> None:
    """Run a threshold widget's ``callback`` only while the scores it was drawn for are loaded
    (``drawn_for``: :func:`state.data_key` when drawn; a new rule or calibration keeps it).

    A key press on a slider can reach the server after other data replaced the data it showed
    (pressed while a new file loads): its class and value belong to data no longer shown, so
    the press is dropped."""
    if state.data_key() == drawn_for:
        callback(*args)


def _on_threshold(i: int, key: str, partner: str) -> None:
    value = _user_value(key, partner)
    if value is not None and _in_range(key, value):
        state.set_threshold(i, _snapped(value))
        _follow(i)


def _follow(i: int) -> None:
    """The charts follow the slider the user moved last, unless pinned to a class."""
    ss = st.session_state
    dataset = ss.get(state.DATASET)
    if dataset is not None and not ss.get(PINNED, False) and i < len(dataset.classes):
        ss[state.SELECTED_CLASS] = dataset.classes[i]


def _on_pin(key: str) -> None:
    st.session_state[PINNED] = bool(st.session_state[key])


def pin_toggle(dataset: Dataset, prefix: str) -> None:
    """"Pin this class": the charts stay on the picked class whichever slider moves."""
    if len(dataset.classes) == 1:
        return
    key = f"{prefix}_pin"
    _seed(key, bool(st.session_state.get(PINNED, False)))
    st.toggle(
        "Pin this class", key=key, on_change=_on_pin, args=(key,),
        help="Off: the charts follow the slider you moved last. On: they stay on this class.",
    )


def _on_global(key: str, partner: str) -> None:
    value = _user_value(key, partner)
    if value is not None and _in_range(key, value):
        value = _snapped(value)
        k = len(st.session_state[state.THRESHOLDS])
        state.set_thresholds([value] * k)


def _steps() -> tuple[float, float, str]:
    """(slider step, number box step, slider format): one bin on binned data."""
    dataset = st.session_state.get(state.DATASET)
    if dataset is None or not dataset.binned:
        return SLIDER_STEP, NUMBER_STEP, "%.3f"
    width = dataset.predictions.bin_width
    digits = max(3, len(f"{width:.10f}".rstrip("0").split(".")[1]))
    return width, width, f"%.{digits}f"


def _slider_pair(label: str, value: float, prefix: str, on_change, args, help=None,
                 disabled: str | None = None, below: str | None = None, unboxed: bool = False):
    """A slider with an exact number box beside it, both showing ``value``; ``disabled``: the
    reason they are greyed out, shown as their help; ``unboxed``: slider, number box and
    ``below`` (HTML: the class's score strip) go straight into the current container, in that
    order, for the page's style to place (no columns: each element a run sends costs the
    browser a render of the page)."""
    slider_key, number_key = f"{prefix}_slider", f"{prefix}_number"
    # The callbacks run only on the data the widgets were drawn for (see _if_current).
    args = (state.data_key(), on_change, *args)
    on_change = _if_current
    _seed(slider_key, float(value))
    _seed(number_key, float(value))
    slider_step, number_step, shown = _steps()

    def slider():
        st.slider(
            label, 0.0, 1.0, step=slider_step, format=shown, key=slider_key,
            on_change=on_change, args=(*args, slider_key, number_key), help=disabled or help,
            disabled=disabled is not None,
        )

    def number_box():
        # No min/max: the browser would paint a value out of range red and keep it; the
        # callback refuses it instead, and the range is said beside the box.
        st.number_input(
            f"{label}, exact", step=number_step, format="%.6g", key=number_key,
            on_change=on_change, args=(*args, number_key, slider_key),
            label_visibility="collapsed", disabled=disabled is not None,
            help=disabled or "The exact threshold, between 0 and 1.",
        )

    if unboxed:
        slider()
        number_box()
        if below:
            st.html(below)
    else:
        left, right = st.columns([4, 1.3], vertical_alignment="bottom")
        with left:
            slider()
        with right:
            number_box()
    typed = st.session_state.get(OUT_OF_RANGE, {}).get(number_key)
    if typed is not None:
        st.caption(f":red[{typed:g} is outside 0 – 1, where probabilities live; the threshold "
                   f"stays {float(value):.6g}.]")


def listed_sliders(dataset: Dataset, prefix: str) -> dict[int, str]:
    """Class -> key of its own slider when :func:`threshold_sliders` lists one per class
    (per-class mode, up to :data:`MANY_CLASSES`); empty otherwise."""
    classes = dataset.classes
    if len(classes) > MANY_CLASSES or (st.session_state[state.MODE] == "global"
                                       and len(classes) > 1):
        return {}
    return {c: f"{prefix}_{c}_slider" for c in range(len(classes))}


def threshold_sliders(dataset: Dataset, prefix: str, *, picked: int | None = None,
                      strips=None, strip_words=None, per_row: int | None = None,
                      unboxed: bool = False) -> None:
    """One slider per class (label: the class name) in per-class mode, one in global mode.

    With many classes only the picked class's slider is drawn; the full grid follows a toggle
    (``<prefix>_all``). Every widget drawn is re-sent on each move, hidden or not, so a grid
    nobody looks at would cost more than the rest of the page. ``strips``: class index -> HTML
    drawn under the picked class's lone slider when ``unboxed`` (see ``ui.score_strip``);
    ``per_row``: sliders per row
    (default: one up to four classes, else two); ``unboxed``: with one per row, each slider
    and its number box go straight into the current container (see :func:`_slider_pair`), and
    the page's style draws the strips (``score_strip.strips_style`` for :func:`listed_sliders`)
    while ``strip_words`` (class index -> text) gives each slider the strip's words as help.
    """
    below = strips or (lambda c: None)
    ss = st.session_state
    values = state.thresholds(dataset)
    classes = dataset.classes
    # Under a rule where thresholds do nothing, say so once and grey every slider out.
    unused = unused_thresholds_reason(dataset)
    if unused:
        st.info(unused)
    if ss[state.MODE] == "global" and len(classes) > 1:
        _slider_pair(
            "Every class", values[0], f"{prefix}_global", _on_global, (),
            help="One threshold for every class.", disabled=unused, unboxed=unboxed,
        )
        return
    if len(classes) > MANY_CLASSES:
        c = 0 if picked is None else picked
        _slider_pair(classes[c], values[c], f"{prefix}_picked", _on_threshold, (c,),
                     disabled=unused, below=below(c), unboxed=unboxed)
        if st.toggle(f"Show all {len(classes)} sliders", **state.kept(f"{prefix}_all")):
            with st.container(border=True, key=f"{prefix}_all_sliders"):
                _grid(classes, values, prefix, per_row=per_row or 3, disabled=unused)
        return
    per_row = per_row or (1 if len(classes) <= 4 else 2)
    if unboxed and per_row == 1:
        words = strip_words or (lambda c: None)
        for c in range(len(classes)):
            _slider_pair(classes[c], values[c], f"{prefix}_{c}", _on_threshold, (c,),
                         help=words(c), disabled=unused, unboxed=True)
        return
    _grid(classes, values, prefix, per_row=per_row, disabled=unused)


def _grid(classes, values, prefix: str, per_row: int, disabled: str | None = None) -> None:
    for start in range(0, len(classes), per_row):
        cells = st.columns(per_row, gap="medium") if per_row > 1 else [st.container()]
        for cell, c in zip(cells, range(start, min(start + per_row, len(classes)))):
            with cell:
                _slider_pair(classes[c], values[c], f"{prefix}_{c}", _on_threshold, (c,),
                             disabled=disabled)


# ----------------------------------------------------------------------------------- optimise
# Button and input keys (optimise_<key>, opt_<key> for a target) -> the core's objective kinds;
# names, help and spelling come from the core (Objective, OBJECTIVE_KINDS).
OBJECTIVE_BUTTONS = {
    "f1": "f1", "fbeta": "fbeta", "youden": "youden", "cost": "cost",
    "precision": "precision>=", "recall": "recall>=",
}


def objective_for(key: str) -> Objective:
    """The objective a button optimises, from the inputs beside the buttons (exactly as typed)."""
    ss = st.session_state
    target = ss[f"opt_{key}"] if key in ("precision", "recall") else None
    return Objective.of(
        OBJECTIVE_BUTTONS[key], beta=float(ss["opt_beta"]), cost_fp=float(ss["opt_cost_fp"]),
        cost_fn=float(ss["opt_cost_fn"]), target=None if target is None else float(target),
    )


def _on_optimise(dataset: Dataset, kind: str) -> None:
    ss = st.session_state
    if state.data_key() != (dataset.uncalibrated or dataset).data_key:
        return  # a button of the data shown before a new file loaded (see _if_current)
    mode = ss[state.MODE] if len(dataset.classes) > 1 else "per_class"
    try:
        result = optimise_index(dataset.index, objective_for(kind), mode=mode)
    except ValueError as e:
        ss[state.OPTIMUM] = {"error": str(e)}
        return
    state.set_thresholds(
        result.thresholds, objective=result.objective.text, logit_thresholds=result.logit_thresholds
    )
    ss[state.OPTIMUM] = {
        "label": result.objective.name,
        "objective": result.objective.text,
        "mode": mode,
        "value": result.value,
        "infeasible": dict(result.infeasible),
        "task": dataset.task,
        "classes": dataset.classes,
        "thresholds": tuple(float(t) for t in result.thresholds),
    }


def _on_beta() -> None:
    st.session_state[state.BETA] = st.session_state["opt_beta"]


def optimise_panel(dataset: Dataset) -> None:
    """Inputs for beta, costs and targets, and one button per objective."""
    ss = st.session_state
    _seed("opt_beta", float(ss[state.BETA]))
    # Keyed containers: the page's style lets their columns wrap on narrow screens.
    a, b, c, d, e = st.container(key="opt_inputs").columns(5)
    a.number_input("β (F-β)", 0.05, 20.0, step=0.5, format="%.6g", key="opt_beta",
                   on_change=_on_beta,
                   help="β > 1 weighs recall more, β < 1 precision; the table's F-β uses it.")
    # The cost and targets only feed the optimiser (beta also feeds the table's F-beta).
    unused = unused_thresholds_reason(dataset)
    off = {"disabled": unused is not None}
    b.number_input("Cost of a false positive", 0.0, 1e9, step=1.0, format="%.6g",
                   **state.kept("opt_cost_fp"), **off)
    c.number_input("Cost of a false negative", 0.0, 1e9, step=1.0, format="%.6g",
                   **state.kept("opt_cost_fn"), **off,
                   help="With class weights or pos_weight in training, use the same ratio here.")
    # %g: a target of 0.999 shows as 0.999, not rounded to the step's two decimals
    d.number_input("Target precision", 0.0, 1.0, step=0.05, format="%.6g",
                   **state.kept("opt_precision"), **off)
    e.number_input("Target recall", 0.0, 1.0, step=0.05, format="%.6g",
                   **state.kept("opt_recall"), **off)

    box = st.container(key="opt_buttons")
    buttons = box.columns(3) + box.columns(3)
    for cell, kind in zip(buttons, OBJECTIVE_BUTTONS):
        objective = objective_for(kind)
        cell.button(
            objective.name, key=f"optimise_{kind}", on_click=_on_optimise, args=(dataset, kind),
            use_container_width=True, disabled=unused is not None,
            help=unused or f"{objective.words.description} Objective `{objective.text}`.",
        )
    if unused:
        st.caption("Optimising is off: the thresholds do nothing under this rule (see above).")
        return
    scope = (
        "one threshold for every class, maximising the macro objective"
        if ss[state.MODE] == "global" and len(dataset.classes) > 1
        else "each class on its own"
    )
    how = (
        f"Exact over every bin edge, {scope}. The threshold is the middle one of the edges that "
        "give the best counts, so it keeps the optimum with the widest margin."
        if dataset.binned else
        f"Exact over every distinct score, {scope}. The threshold lands midway between the best "
        "score and the next lower one, so it keeps the optimum with the widest margin."
    )
    st.caption(
        how
        + ("" if dataset.rule.per_class else
           " Under the chosen rule a class's counts also depend on other thresholds, so this is "
           "the per-class optimum of the argmax/independent rule: a good start, not exact.")
    )
    _optimum_message()


def _optimum_message() -> None:
    info = st.session_state[state.OPTIMUM]
    if not info:
        return
    if "error" in info:
        st.error(info["error"])
        return
    st.success(optimum_sentence(info))
    if info["infeasible"]:
        sentences = list(dict.fromkeys(info["infeasible"].values()))
        st.warning("\n".join(f"- {s}" for s in sentences))


def optimum_sentence(info: dict) -> str:
    """The optimiser's result in one sentence: which number is the threshold, which metric the
    value is (the positive class's for binary data, the macro mean otherwise), printed as the
    tiles and the table print it."""
    objective = Objective.parse(info["objective"])
    name = objective.value_name
    value = info["value"]
    shown = f"{value:,.6g}" if objective.kind == "cost" else format_value(value)
    head = f"{info['label']} (`{info['objective']}`"
    if info["task"] == "binary":
        positive = info["classes"][0]
        return (
            f"{head}): threshold {info['thresholds'][0]!r} for {positive}, the positive class; "
            + (f"total cost there: {shown}." if objective.kind == "cost"
               else f"{name} of {positive} there: {shown}.")
        )
    what = name if objective.kind == "cost" else f"macro {name} (mean over the classes)"
    return f"{head}, {MODE_NAMES[info['mode']].lower()}): thresholds set; {what} {shown}."


# ------------------------------------------------------------------------------ config upload
CONFIG_UPLOAD = "config_upload"


def _on_config_upload() -> None:
    """Restore every slider (and the decision rule) from an uploaded config."""
    ss = st.session_state
    upload = ss[CONFIG_UPLOAD]
    if upload is None:
        ss[state.RESTORE_NOTE] = None
        return
    restore_config(upload.getvalue(), upload.name)


def restore_config(raw: bytes, name: str) -> None:
    """Restore every slider (and the decision rule) from config file ``name``'s bytes; the
    outcome, one sentence, goes to ``RESTORE_NOTE``."""
    from thresholdlab.predictions import DataError
    from thresholdlab.ui.export import restore

    ss = st.session_state
    dataset: Dataset = ss[state.DATASET]
    try:
        restored = restore(raw, name, dataset)
    except DataError as e:
        ss[state.RESTORE_NOTE] = ("error", str(e))
        return
    except Exception as e:  # noqa: BLE001 - never a traceback for a user's file
        ss[state.RESTORE_NOTE] = ("error", f"Could not read config {name!r}: {e}.")
        return
    state.set_thresholds(
        restored.thresholds, objective=restored.objective,
        logit_thresholds=restored.logit_thresholds, rule=restored.rule,
    )
    values = restored.thresholds
    ss[state.MODE] = "global" if len(values) > 1 and np.ptp(values) == 0 else "per_class"
    ss[state.OPTIMUM] = None
    if restored.rule != dataset.rule:
        ss[state.W_RULE] = restored.rule.rule
        ss[state.W_NOPRED] = restored.rule.no_prediction
    from thresholdlab.ui import calibrated

    calibrated.restore_choice(restored.calibration_method)
    sentence = f"Restored {len(values)} thresholds from {name!r}"
    if restored.rule != dataset.rule:
        sentence += f", with the decision rule {restored.rule.rule} / {restored.rule.no_prediction}"
    ss[state.RESTORE_NOTE] = ("success", " ".join([sentence + ".", *restored.notes]))


def config_uploader() -> None:
    st.file_uploader(
        "Threshold config (JSON)", key=CONFIG_UPLOAD, on_change=_on_config_upload,
        max_upload_size=5,
        help="A file downloaded here (or written by `thresholdlab optimize`). Its classes must "
             "match the loaded data's.",
    )
    note = st.session_state[state.RESTORE_NOTE]
    if note:
        kind, sentence = note
        (st.error if kind == "error" else st.success)(sentence)
