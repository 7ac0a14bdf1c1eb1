"""Session state: the user's choices, set once per session, and the shareable URL.

Thresholds live in plain (non-widget) keys, so they survive page changes: Streamlit drops a
widget's value when the widget is not drawn, and the sliders are drawn on one page only. Widgets
are re-seeded from these keys before they are drawn, and write back through ``on_change``. Other
choices that should outlive their page (costs, bins, toggles) do the same through :func:`kept`.

URL (query string), written after every change and read once when a session starts::

    ?sample=multiclass_wine_logits            a bundled sample (file stem), or
    ?file=preds.csv&sha=3f9a1c0b2d4e          an upload (first 12 hex of its sha256): the link
                                              restores its thresholds once that file is uploaded
    &t=0.42,0.5,0.61                          thresholds in class order, shortest round-trip floats
    &mode=per_class|global
    &class=barolo                             the class shown in the per-class charts
    &rule=threshold_argmax&nopred=abstain     decision rule, when not the task's default
    &task=..&kind=..&label_col=..&score_cols=a,b&label_cols=a,b   detection overrides, when set
"""

from __future__ import annotations

import math
import os
import re

import numpy as np
import streamlit as st

from thresholdlab.decisions import RULES, NO_PREDICTION_OPTIONS
from thresholdlab.ui.data import DEFAULT_SAMPLE, PRELOAD_ENV, Dataset, Overrides, samples
from thresholdlab.ui.data import index_under
from thresholdlab.ui import sketch_rules

# Plain keys (never widget keys).
THRESHOLDS = "thresholds"  # tuple of float, in the class order of THRESHOLD_CLASSES
THRESHOLD_CLASSES = "threshold_classes"
MODE = "mode"  # "per_class" | "global"
OBJECTIVE = "objective"  # "manual" or the optimiser's objective text
LOGIT_THRESHOLDS = "logit_thresholds"  # the optimiser's logit midpoints, or None
OPTIMUM = "optimum"  # dict describing the last optimisation, for the message under the buttons
SELECTED_CLASS = "selected_class"
BETA = "beta"
DATASET = "dataset"  # the committed Dataset
OVERRIDES = "overrides"  # the committed Overrides
LOAD_ERROR = "load_error"  # one sentence, shown under the uploader until the next good load
LOAD_REQUEST = "load_request"  # set by data-source widgets' callbacks
UPLOAD_SEEN = "upload_seen"  # file_id of the last upload tried
UPLOAD_SHOWN = "upload_shown"  # file_id of the upload whose data is shown, if any
PENDING = "pending"  # {"t", "file", "sha"}: a link's thresholds, waiting for data they fit
AWAITED_UPLOAD = "awaited_upload"  # {"name", "sha"} when the URL names an upload
URL_NOTES = "url_notes"  # sentences about a link that could not be restored in full
RESTORE_NOTE = "restore_note"  # (kind, sentence) after a config upload
SAMPLE_CHOICE = "sample_choice"  # the sample picked (the picker is re-seeded from it)
PRELOAD = "preload"  # path of the file `thresholdlab app FILE` opens first, unless a link names a sample
KEPT = "kept_widget_values"  # widget key -> value, for the widgets drawn through `kept`

# Widget keys that the app seeds from the plain keys.
W_SAMPLE = "sample_widget"
W_UPLOAD = "upload_widget"
W_RULE = "rule_widget"
W_NOPRED = "nopred_widget"
W_TASK = "override_task"
W_KIND = "override_kind"
W_LABEL_COL = "override_label_col"
W_LABEL_COLS = "override_label_cols"
W_SCORE_COLS = "override_score_cols"

# Widgets whose value outlives their page (see `kept`), and their first values. None: the page
# gives one that depends on the data, at the widget's first draw for that data.
KEPT_DEFAULTS = {
    "opt_cost_fp": 1.0,
    "opt_cost_fn": 5.0,
    "opt_precision": 0.9,
    "opt_recall": 0.8,
    "thr_all": False,
    "thr_small_multiples": False,
    "cm_all": False,
    "cm_normalise": False,
    "cm_labels": None,  # the labels with the lowest F1
    "cal_bins": 10,
    "cal_strategy": "uniform",
}

AUTO = "(detect)"
MODES = ("per_class", "global")


def init() -> None:
    """Defaults, set once per session; the URL's choices take precedence."""
    ss = st.session_state
    if "initialised" in ss:
        return
    ss.initialised = True
    ss[THRESHOLDS] = None
    ss[THRESHOLD_CLASSES] = ()
    ss[MODE] = "per_class"
    ss[OBJECTIVE] = "manual"
    ss[LOGIT_THRESHOLDS] = None
    ss[OPTIMUM] = None
    ss[SELECTED_CLASS] = None
    ss[BETA] = 1.0
    ss[DATASET] = None
    ss[OVERRIDES] = Overrides()
    ss[LOAD_ERROR] = None
    ss[LOAD_REQUEST] = None
    ss[UPLOAD_SEEN] = None
    ss[UPLOAD_SHOWN] = None
    ss[PENDING] = None
    ss[AWAITED_UPLOAD] = None
    ss[URL_NOTES] = []
    ss[RESTORE_NOTE] = None
    ss[SAMPLE_CHOICE] = DEFAULT_SAMPLE
    ss[PRELOAD] = os.environ.get(PRELOAD_ENV) or None
    ss[KEPT] = dict(KEPT_DEFAULTS)
    _restore_from_url()


# ------------------------------------------------------------------------------ kept widgets
def kept(key: str, first=None) -> dict:
    """``key``, ``on_change`` and ``args`` for a widget whose value survives page changes.

    The value lives in ``KEPT`` and is put into the widget before it is drawn, as thresholds
    are; a widget value of its own would be dropped while another page is shown. ``first`` is
    the value to start from when the default (in ``KEPT_DEFAULTS``) is None. The widget call
    gives no default value of its own.
    """
    ss = st.session_state
    values = ss[KEPT]
    if values[key] is None:
        values[key] = first
    if key not in ss or ss[key] != values[key]:
        ss[key] = values[key]
    return {"key": key, "on_change": _keep, "args": (key,)}


def _keep(key: str) -> None:
    value = st.session_state[key]
    st.session_state[KEPT][key] = list(value) if isinstance(value, list) else value


# ------------------------------------------------------------------------------ thresholds
def default_thresholds(task: str, k: int) -> tuple[float, ...]:
    """0.5 for binary and multi-label; 0 for multi-class, i.e. plain argmax, no abstention."""
    return (0.0,) * k if task == "multiclass" else (0.5,) * k


def thresholds(dataset: Dataset) -> np.ndarray:
    """float64 (K,): the current thresholds for ``dataset``'s classes."""
    ensure_thresholds(dataset)
    return np.array(st.session_state[THRESHOLDS], dtype=np.float64)


def ensure_thresholds(dataset: Dataset) -> None:
    """Keep thresholds when the classes are unchanged; else the URL's (if they fit) or defaults."""
    ss = st.session_state
    classes = dataset.classes
    pending = ss[PENDING]
    applies = pending is not None and _pending_applies(pending, dataset)
    if not applies and ss[THRESHOLDS] is not None and tuple(ss[THRESHOLD_CLASSES]) == classes:
        return
    if applies:
        values = pending["t"]
        ss[PENDING] = None
        ss[AWAITED_UPLOAD] = None
    else:
        if pending is not None and pending["file"] is None:
            ss[URL_NOTES].append(
                f"The link holds {len(pending['t'])} thresholds but the data has {len(classes)} "
                "classes, so the defaults are used."
            )
            ss[PENDING] = None
        values = default_thresholds(dataset.task, len(classes))
        ss[OBJECTIVE] = "manual"
    ss[THRESHOLDS] = tuple(float(v) for v in values)
    if tuple(ss[THRESHOLD_CLASSES]) != classes:
        # Choices that name classes (the labels shown) start over with the new classes.
        ss[KEPT].update({k: None for k, v in KEPT_DEFAULTS.items() if v is None})
    ss[THRESHOLD_CLASSES] = classes
    ss[LOGIT_THRESHOLDS] = None
    ss[OPTIMUM] = None
    if ss[SELECTED_CLASS] not in classes:
        ss[SELECTED_CLASS] = classes[0]


def _pending_applies(pending: dict, dataset: Dataset) -> bool:
    """A link's thresholds fit the data: as many classes, and the linked file if it names one
    (the same content when the link has its hash, else the same name; never a sample)."""
    if len(pending["t"]) != len(dataset.classes):
        return False
    if pending["file"] is None:
        return True
    source = dataset.source
    if source.kind == "sample":
        return False
    if pending["sha"]:
        return source.sha256.startswith(pending["sha"])
    return source.name == pending["file"]


def set_thresholds(values, *, objective: str = "manual", logit_thresholds=None,
                   rule=None) -> None:
    """Replace every threshold (clipped to [0, 1], where probabilities live).

    On a sketch, thresholds whose decisions its counts cannot tell under the rule are not
    taken: the previous ones stay, and the core's sentence shows above the numbers
    (see ``ui.sketch_rules``). ``rule``: the decision rule that comes with the thresholds when
    it is about to replace the current one (a restored config's); they are checked under it."""
    ss = st.session_state
    values = tuple(min(1.0, max(0.0, float(v))) for v in values)
    dataset = ss.get(DATASET)
    if dataset is not None and len(values) != len(dataset.classes):
        return  # thresholds of other data (a button pressed before a new file loaded)
    if dataset is not None and dataset.binned:
        index = dataset.index if rule is None else index_under(dataset, rule)
        if not sketch_rules.check_move(index, values, kept=(dataset.key, ss[THRESHOLDS])):
            return
    ss[THRESHOLDS] = values
    ss[OBJECTIVE] = objective
    ss[LOGIT_THRESHOLDS] = None if logit_thresholds is None else tuple(map(float, logit_thresholds))
    if objective == "manual":
        ss[OPTIMUM] = None


def set_least_cost(best) -> None:
    """Move every slider to its class's least-cost threshold (a button's callback); ``best`` is
    a :class:`thresholdlab.costs.CostOptimum`."""
    set_thresholds(best.thresholds, objective="cost:per_class",
                   logit_thresholds=best.logit_thresholds)


def set_threshold(i: int, value: float) -> None:
    """Change one class's threshold by hand."""
    values = list(st.session_state[THRESHOLDS])
    if i >= len(values):
        return  # a class of other data (see controls._if_current)
    values[i] = value
    set_thresholds(values)


def data_key() -> str | None:
    """The identity of the scores loaded now, None before any: ``Dataset.data_key`` of the
    loaded data set, so the same under any decision rule and with calibration on or off."""
    dataset = st.session_state.get(DATASET)
    return None if dataset is None else dataset.data_key


def selected_index(dataset: Dataset) -> int:
    ensure_thresholds(dataset)
    name = st.session_state[SELECTED_CLASS]
    return dataset.classes.index(name) if name in dataset.classes else 0


# ------------------------------------------------------------------------------------- URL
# What a link may carry in a name (file, sample, column, class, rule): anything but what would
# make Streamlit's Markdown draw a link, an image or HTML when the name is shown in a message.
# A link is anyone's to write; a page must not show a stranger's "sign in here" link or load a
# tracking image because someone followed it.
_MARKUP = re.compile(r"[\[\]<>`\\]|://|\bwww\.", re.IGNORECASE)


def has_markup(text: str) -> bool:
    """Whether ``text`` (from a link or a shared config) holds what Streamlit's Markdown would
    draw as a link, an image or HTML."""
    return bool(_MARKUP.search(text))


_NAMED_PARAMS = ("sample", "file", "sha", "task", "kind", "label_col", "label_cols", "score_cols",
                 "class", "rule", "nopred", "mode")


def _markup_free_params(qp) -> dict[str, str]:
    """The link's named parameters, without those holding markup (see _MARKUP)."""
    out = {}
    for key in _NAMED_PARAMS:
        value = qp.get(key)
        if value is not None and not has_markup(value) and len(value) <= 1000:
            out[key] = value
    return out


def _restore_from_url() -> None:
    ss = st.session_state
    raw = st.query_params
    notes = ss[URL_NOTES]
    qp = _markup_free_params(raw)
    if any(raw.get(key) is not None and key not in qp for key in _NAMED_PARAMS):
        notes.append(
            "Parts of the link hold characters that no file, column or class name here has "
            "(such as brackets, '<' or a web address), so they are ignored."
        )
    if (text := raw.get("t")) is not None:
        qp["t"] = text
    if (stem := qp.get("sample")) is not None:
        if stem in samples():
            ss[SAMPLE_CHOICE] = stem
            ss[PRELOAD] = None
        else:
            notes.append(f"The link names a sample {stem!r} that does not exist.")
    if (name := qp.get("file")) is not None:
        ss[AWAITED_UPLOAD] = {"name": name, "sha": qp.get("sha") or ""}
        if ss[PRELOAD] and os.path.basename(ss[PRELOAD]) == name:
            ss[AWAITED_UPLOAD] = None  # the file given on the command line: no upload needed
    # `thresholdlab app FILE --label-col ...` hands its overrides over for that file; a link's win.
    preset = Overrides.from_env() if ss[PRELOAD] else Overrides()
    ss[OVERRIDES] = Overrides(
        task=qp.get("task") or preset.task,
        score_kind=qp.get("kind") or preset.score_kind,
        label_col=qp.get("label_col") or preset.label_col,
        label_cols=_split(qp.get("label_cols")) or preset.label_cols,
        score_cols=_split(qp.get("score_cols")) or preset.score_cols,
    )
    if qp.get("mode") in MODES:
        ss[MODE] = qp.get("mode")
    if qp.get("class"):
        ss[SELECTED_CLASS] = qp.get("class")
    if qp.get("rule"):
        ss[W_RULE] = qp.get("rule")
    if qp.get("nopred"):
        ss[W_NOPRED] = qp.get("nopred")
    if (text := qp.get("t")) is not None:
        try:
            values = tuple(float(v) for v in text.split(","))
            if not all(math.isfinite(v) and 0 <= v <= 1 for v in values):
                raise ValueError
        except ValueError:
            notes.append(
                "The link's thresholds are not numbers between 0 and 1, so the defaults are used."
            )
        else:
            ss[PENDING] = {"t": values, "file": qp.get("file"), "sha": qp.get("sha") or None}


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(p for p in (text or "").split(",") if p)


def query_string(dataset: Dataset) -> dict[str, str]:
    """The URL's query parameters for the current view (see the module docstring)."""
    ss = st.session_state
    out: dict[str, str] = {}
    source = dataset.source
    if source.kind == "sample":
        out["sample"] = source.name
    else:
        out["file"] = source.name
        out["sha"] = source.sha256[:12]
    ov = dataset.overrides
    if ov.task:
        out["task"] = ov.task
    if ov.score_kind:
        out["kind"] = ov.score_kind
    if ov.label_col:
        out["label_col"] = ov.label_col
    if ov.label_cols:
        out["label_cols"] = ",".join(ov.label_cols)
    if ov.score_cols:
        out["score_cols"] = ",".join(ov.score_cols)
    rule = dataset.rule
    if rule.rule != RULES[rule.task][0]:
        out["rule"] = rule.rule
    if rule.no_prediction != NO_PREDICTION_OPTIONS[rule.task][0]:
        out["nopred"] = rule.no_prediction
    out["mode"] = ss[MODE]
    if ss[SELECTED_CLASS] is not None and dataset.predictions.n_classes > 1:
        out["class"] = ss[SELECTED_CLASS]
    # repr: the shortest text that reads back as the same float, so a link is exact.
    out["t"] = ",".join(repr(float(v)) for v in thresholds(dataset))
    from thresholdlab.ui import calibrated  # &cal=METHOD&calon=1

    out.update(calibrated.query_params())
    return out


def sync_url(dataset: Dataset) -> None:
    """Write the current view into the URL, only when it changed."""
    wanted = query_string(dataset)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
