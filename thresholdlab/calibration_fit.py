"""Fitted calibration: temperature, vector scaling, Platt and isotonic, and what they change.

A threshold of 0.8 means "80% sure" only for a calibrated model. This module fits a map from the
model's raw scores to calibrated probabilities on the loaded (tuning) data, applies it to new
scores exactly as the config's consumers do (``thresholdlab.apply``, ``ThresholdHead``), and
reports ECE, Brier score and log-loss before and after.

Methods
-------
``temperature``
    Logits only. Multi-class: ``softmax(z / T)`` with one temperature; binary and multi-label:
    ``sigmoid(z_k / T_k)``, one per label. Fitted with torch's LBFGS on the negative
    log-likelihood, in float64.
``vector``
    Logits only. ``softmax(z * w + b)`` (multi-class) or ``sigmoid(z_k * w_k + b_k)``, a scale and
    a bias per class, fitted like ``temperature``. Multi-class biases are centred (their mean is
    0): adding one number to every bias changes no probability.
``platt``
    ``sigmoid(s_k * a_k + b_k)`` per class one-vs-rest, where ``s_k`` is the class's raw score
    (its logit, or its probability), fitted by scikit-learn's ``LogisticRegression``.
``isotonic``
    A non-decreasing, piecewise-linear map of each class's raw score, fitted by scikit-learn's
    ``IsotonicRegression`` and stored as its breakpoints.

For multi-class data the one-vs-rest outputs of ``platt`` and ``isotonic`` are divided by their
row sum, as ``sklearn.calibration.CalibratedClassifierCV`` does (a row summing to 0 becomes
uniform).

Every map is written as a fixed sequence of float64 operations (divide, multiply, add, the same
softmax / sigmoid as loading, a row sum in numpy's order), which ``thresholdlab.torch_calibration``
repeats step by step; decisions on calibrated scores are then the same in numpy and torch.
"""

from __future__ import annotations

import dataclasses
import math
import warnings as _warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from thresholdlab.calibration import reliability
from thresholdlab.metrics import _finite as _json_float
from thresholdlab.predictions import DataError, PredictionSet, SectionError, sigmoid, softmax

__all__ = [
    "CALIBRATION_VERSION", "METHODS", "Calibration", "CalibrationReport", "calibrate",
    "calibration_report", "fit_calibration",
]

METHODS = ("temperature", "vector", "platt", "isotonic")
CALIBRATION_VERSION = 1
"""The ``version`` of the config's ``calibration`` section that this module writes and reads."""

LOGIT_METHODS = ("temperature", "vector")

# Platt's logistic regression: nearly unpenalised (scikit-learn's default C=1 pulls the slope
# towards 0 noticeably on a few hundred rows), yet finite when a class is perfectly separated.
PLATT_C = 1e6
REPORT_BINS = 15
"""Equal-width bins of the ECE in the before/after report (as usually quoted for networks)."""


# ----------------------------------------------------------------------------------- the map
@dataclass(frozen=True, eq=False)
class Calibration:
    """A fitted map from raw scores to calibrated probabilities.

    Attributes
    ----------
    method : {"temperature", "vector", "platt", "isotonic"}
    task : {"binary", "multiclass", "multilabel"}
    classes : tuple of str, length K
    score_kind : {"probability", "logit"}
        What the raw scores it takes are (the config's ``score_kind``).
    scale : ndarray of float64 (K,) or None
        ``temperature``: the temperature per class (all equal for multi-class);
        ``vector``: the scale ``w``; ``platt``: the slope ``a``.
    bias : ndarray of float64 (K,) or None
        ``vector`` and ``platt``: the bias added after scaling.
    x_points, y_points : tuple of K float64 arrays, or None
        ``isotonic``: each class's breakpoints (x strictly increasing, y non-decreasing).
    notes : tuple of str
        One sentence per class that could not be fitted (no positives or no negatives) and so
        keeps an identity or constant map.
    """

    method: str
    task: str
    classes: tuple[str, ...]
    score_kind: str
    scale: np.ndarray | None = None
    bias: np.ndarray | None = None
    x_points: tuple[np.ndarray, ...] | None = None
    y_points: tuple[np.ndarray, ...] | None = None
    notes: tuple[str, ...] = ()

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def renormalises(self) -> bool:
        """True when one-vs-rest outputs are divided by their row sum (multi-class Platt, isotonic)."""
        return self.task == "multiclass" and self.method in ("platt", "isotonic")

    @property
    def output_activation(self) -> str:
        """What turns :meth:`transform`'s output into probabilities: softmax, sigmoid or none.

        ``none`` means :meth:`transform` already returns probabilities (before any row
        renormalisation)."""
        if self.method in LOGIT_METHODS:
            return "softmax" if self.task == "multiclass" else "sigmoid"
        if self.method == "platt" and self.task != "multiclass":
            return "sigmoid"
        return "none"

    def transform(self, x: np.ndarray) -> np.ndarray:
        """float64 (n, K): the calibrated logits (or, for ``output_activation == "none"``, the
        one-vs-rest probabilities before renormalisation) of raw scores ``x`` (n, K)."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        if self.method == "temperature":
            return x / self.scale[None, :]
        if self.method == "vector":
            return x * self.scale[None, :] + self.bias[None, :]
        if self.method == "platt":
            z = x * self.scale[None, :] + self.bias[None, :]
            return sigmoid(z) if self.task == "multiclass" else z
        out = np.empty_like(x)
        for k in range(self.n_classes):
            out[:, k] = interpolate(x[:, k], self.x_points[k], self.y_points[k])
        return out

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """float64 (n, K): calibrated probabilities of raw scores ``x`` (n, K), C-contiguous.

        ``x`` is what the model outputs, in ``score_kind`` (probabilities already within
        [0, 1]), columns in ``classes`` order.
        """
        z = self.transform(x)
        activation = self.output_activation
        if activation == "softmax":
            return softmax(z)
        if activation == "sigmoid":
            return sigmoid(z)
        return renormalise(z) if self.renormalises else z

    # ----------------------------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        """The config's ``calibration`` section (plain JSON values, floats exact)."""
        out: dict = {"version": CALIBRATION_VERSION, "method": self.method}
        per_class = lambda values: dict(zip(self.classes, np.asarray(values).tolist()))  # noqa: E731
        if self.method == "temperature":
            if self.task == "multiclass":
                out["temperature"] = float(self.scale[0])
            else:
                out["temperature"] = per_class(self.scale)
        elif self.method == "vector":
            out["scale"] = per_class(self.scale)
            out["bias"] = per_class(self.bias)
        elif self.method == "platt":
            out["slope"] = per_class(self.scale)
            out["intercept"] = per_class(self.bias)
        else:
            out["breakpoints"] = {
                c: {"x": xs.tolist(), "y": ys.tolist()}
                for c, xs, ys in zip(self.classes, self.x_points, self.y_points)
            }
        return out

    @classmethod
    def from_dict(cls, doc, *, task: str, classes, score_kind: str) -> Calibration:
        """Read a config's ``calibration`` section; :class:`SectionError` names what is wrong."""
        classes = tuple(classes)
        if not isinstance(doc, Mapping):
            raise SectionError("calibration must be an object with a version and a method")
        version = doc.get("version")
        if version != CALIBRATION_VERSION or isinstance(version, bool):
            raise SectionError(
                f"calibration.version must be {CALIBRATION_VERSION} (the only version this "
                f"thresholdlab reads), got {version!r}"
            )
        method = doc.get("method")
        if method not in METHODS:
            raise SectionError(
                f"calibration.method must be one of {', '.join(METHODS)}, got {method!r}"
            )
        expected = {
            "temperature": {"temperature"}, "vector": {"scale", "bias"},
            "platt": {"slope", "intercept"}, "isotonic": {"breakpoints"},
        }[method]
        given = set(doc) - {"version", "method"}
        if given != expected:
            wrong = sorted(given - expected) or sorted(expected - given)
            raise SectionError(
                f"calibration with method {method!r} needs exactly the fields "
                f"{', '.join(sorted(expected))}; check {', '.join(wrong)}"
            )
        if method in LOGIT_METHODS and score_kind != "logit":
            raise SectionError(
                f"calibration method {method!r} works on logits but score_kind is {score_kind!r}"
            )
        kw: dict = {}
        if method == "temperature":
            value = doc["temperature"]
            if task == "multiclass":
                t = _number(value, "calibration.temperature")
                kw["scale"] = np.full(len(classes), t)
            else:
                kw["scale"] = _class_numbers(value, classes, "calibration.temperature")
            bad = np.flatnonzero(~(kw["scale"] > 0))
            if bad.size:
                raise SectionError(
                    f"calibration.temperature must be above 0, got {kw['scale'][bad[0]]!r}"
                )
        elif method == "vector":
            kw["scale"] = _class_numbers(doc["scale"], classes, "calibration.scale")
            kw["bias"] = _class_numbers(doc["bias"], classes, "calibration.bias")
        elif method == "platt":
            kw["scale"] = _class_numbers(doc["slope"], classes, "calibration.slope")
            kw["bias"] = _class_numbers(doc["intercept"], classes, "calibration.intercept")
        else:
            points = doc["breakpoints"]
            if not isinstance(points, Mapping) or set(points) != set(classes):
                raise SectionError(
                    "calibration.breakpoints must map every class to its {\"x\": [...], "
                    "\"y\": [...]} breakpoints"
                )
            xs, ys = [], []
            for c in classes:
                x, y = _breakpoints(points[c], f"calibration.breakpoints.{c}")
                xs.append(x)
                ys.append(y)
            kw["x_points"], kw["y_points"] = tuple(xs), tuple(ys)
        return cls(method=method, task=task, classes=classes, score_kind=score_kind, **kw)


def interpolate(x: np.ndarray, xp: np.ndarray, yp: np.ndarray) -> np.ndarray:
    """Piecewise-linear interpolation through (xp, yp), constant beyond the ends.

    The values of ``numpy.interp`` (and scikit-learn's isotonic ``predict``), written out as
    explicit float64 operations, ``slope * (x - x0) + y0`` with
    ``slope = (y1 - y0) / (x1 - x0)``, so that torch repeats them bit for bit (a compiled
    ``interp`` may fuse the multiply and add).
    """
    x = np.asarray(x, dtype=np.float64)
    last = len(xp) - 1
    j = np.searchsorted(xp, x, side="right") - 1
    if last == 0:
        return np.full_like(x, yp[0])
    jl = np.clip(j, 0, last - 1)
    x0, x1, y0, y1 = xp[jl], xp[jl + 1], yp[jl], yp[jl + 1]
    slope = (y1 - y0) / (x1 - x0)
    out = slope * (x - x0) + y0
    out = np.where(x == x0, y0, out)
    out = np.where(j < 0, yp[0], out)
    return np.where(j >= last, yp[last], out)


def renormalise(p: np.ndarray) -> np.ndarray:
    """Rows divided by their sum (numpy's summation order); a row summing to 0 becomes uniform."""
    p = np.ascontiguousarray(p, dtype=np.float64)
    s = p.sum(axis=1, keepdims=True)
    out = np.full_like(p, 1.0 / p.shape[1])
    np.divide(p, s, out=out, where=s != 0)
    return out


# ------------------------------------------------------------------------------- fitting
def fit_calibration(predictions: PredictionSet, method: str) -> Calibration:
    """Fit ``method`` on ``predictions`` (the tuning data); see the module docstring.

    Raises
    ------
    DataError
        ``temperature`` or ``vector`` on probabilities (they rescale logits), an unknown method,
        or no rows.
    """
    if method not in METHODS:
        raise DataError(f"Unknown calibration method {method!r}; use one of {', '.join(METHODS)}.")
    if predictions.n_rows == 0:
        raise DataError(f"File {predictions.file!r} has no rows to fit a calibration on.")
    if method in LOGIT_METHODS and predictions.score_kind != "logit":
        raise DataError(
            f"Calibration {method!r} rescales logits, but {predictions.file!r} holds "
            "probabilities; use 'platt' or 'isotonic' (or give the model's logits)."
        )
    base = dict(task=predictions.task, classes=tuple(predictions.classes),
                score_kind=predictions.score_kind)
    if method in LOGIT_METHODS:
        scale, bias, notes = _fit_scaling(predictions, method)
        return Calibration(method=method, scale=scale, bias=bias, notes=notes, **base)
    if method == "platt":
        scale, bias, notes = _fit_platt(predictions)
        return Calibration(method=method, scale=scale, bias=bias, notes=notes, **base)
    xs, ys = _fit_isotonic(predictions)
    return Calibration(method=method, x_points=xs, y_points=ys, **base)


def _degenerate(predictions: PredictionSet) -> np.ndarray:
    """bool (K,): classes with no positives or no negatives (nothing to fit one-vs-rest)."""
    positives = predictions.positives
    return (positives == 0) | (positives == predictions.n_rows)


def _identity_note(predictions: PredictionSet, method: str) -> tuple[str, ...]:
    names = [c for c, d in zip(predictions.classes, _degenerate(predictions)) if d]
    if not names or predictions.task == "multiclass":
        return ()
    shown = ", ".join(repr(c) for c in names[:10]) + (" and more" if len(names) > 10 else "")
    return (
        f"{shown} {'has' if len(names) == 1 else 'have'} no positives or no negatives, so "
        f"{method} calibration leaves {'it' if len(names) == 1 else 'them'} unchanged.",
    )


# Temperature and vector scaling are fitted with torch's LBFGS, which lives in torch's own module
# (``thresholdlab.torch_calibration``); that module never imports the core, and the core never
# imports it or torch: the package root, which sits above both, registers it here, and torch is
# loaded only once such a fit is asked for.
_SCALING_FITTERS: list = []


def register_scaling_fitter(fit_scaling) -> None:
    """Have temperature / vector scaling fitted by ``fit_scaling``.

    Parameters
    ----------
    fit_scaling : callable
        ``fit_scaling(scores, labels, free, multiclass, method)`` returns ``(inverse, bias)`` as
        :func:`thresholdlab.torch_calibration.fit_scaling` does.
    """
    _SCALING_FITTERS[:] = [fit_scaling]


def _scaling_fitter():
    if not _SCALING_FITTERS:
        raise RuntimeError("no fitter for temperature / vector scaling is registered; "
                           "import thresholdlab, which registers torch's")
    return _SCALING_FITTERS[0]


def _fit_scaling(predictions: PredictionSet, method: str):
    """(scale, bias, notes) of temperature / vector scaling: LBFGS on the mean NLL, float64."""
    k = predictions.n_classes
    multiclass = predictions.task == "multiclass"
    if multiclass:
        labels = predictions.labels
        free = np.ones(k, dtype=np.float64)
    else:
        labels = predictions.labels.astype(np.float64)
        free = (~_degenerate(predictions)).astype(np.float64)
    inv, b = _scaling_fitter()(predictions.scores, labels, free, multiclass, method)
    if method == "temperature":
        if not np.all(inv > 0):
            raise DataError(
                f"Temperature scaling of {predictions.file!r} found no positive temperature: the "
                "scores rank the classes worse than chance, so there is nothing to rescale."
            )
        scale = np.broadcast_to(1.0 / inv, (k,)).copy()
        return scale, None, _identity_note(predictions, method)
    if multiclass:
        b = b - b.mean()
    return inv.copy(), b, _identity_note(predictions, method)


def _platt_model():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=PLATT_C, max_iter=1000)


def _fit_platt(predictions: PredictionSet):
    """(slope, intercept, notes): scikit-learn's logistic regression per class, one-vs-rest."""
    from sklearn.exceptions import ConvergenceWarning

    truth = predictions.truth
    k = predictions.n_classes
    slope, intercept = np.ones(k), np.zeros(k)
    notes = []
    for c in range(k):
        y = truth[:, c]
        s = np.asarray(predictions.scores[:, c], dtype=np.float64).reshape(-1, 1)
        if y.all() or not y.any():
            # Nothing to regress on: a constant at the (shrunk) base rate, never 0 or 1.
            rate = (y.sum() + 0.5) / (len(y) + 1.0)
            slope[c], intercept[c] = 0.0, math.log(rate) - math.log1p(-rate)
            notes.append(
                f"Class {predictions.classes[c]!r} has no {'negatives' if y.all() else 'positives'}"
                f"; Platt scaling gives it the constant probability {rate:.4g}."
            )
            continue
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore", ConvergenceWarning)
            model = _platt_model().fit(s, y)
        slope[c], intercept[c] = float(model.coef_[0, 0]), float(model.intercept_[0])
    return slope, intercept, tuple(notes)


def _isotonic_model():
    from sklearn.isotonic import IsotonicRegression

    return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)


def _fit_isotonic(predictions: PredictionSet):
    """(x points, y points) per class: scikit-learn's isotonic regression, one-vs-rest."""
    truth = predictions.truth
    xs, ys = [], []
    for c in range(predictions.n_classes):
        s = np.asarray(predictions.scores[:, c], dtype=np.float64)
        model = _isotonic_model().fit(s, truth[:, c].astype(np.float64))
        xs.append(np.asarray(model.X_thresholds_, dtype=np.float64).copy())
        ys.append(np.asarray(model.y_thresholds_, dtype=np.float64).copy())
    return tuple(xs), tuple(ys)


# --------------------------------------------------------------------------- calibrated data
def calibrate(predictions: PredictionSet, calibration: Calibration) -> PredictionSet:
    """``predictions`` with calibrated probabilities: the data the thresholds are chosen on.

    The scores become the calibrated probabilities (``score_kind`` "probability", activation
    "none"): thresholds then live in calibrated probability space. File, labels and ids stay.
    """
    data_classes = tuple(predictions.classes)
    if sorted(calibration.classes) != sorted(data_classes) or calibration.task != predictions.task:
        raise DataError(
            "The calibration was fitted on other classes: "
            f"{', '.join(calibration.classes)} against {', '.join(data_classes)}."
        )
    if calibration.score_kind != predictions.score_kind:
        raise DataError(
            f"The calibration takes {calibration.score_kind}s but {predictions.file!r} holds "
            f"{predictions.score_kind}s; load it with --score-kind {calibration.score_kind}."
        )
    # The calibration's columns may come in another order (a config's); line them up and back.
    order = [data_classes.index(c) for c in calibration.classes]
    if order == list(range(len(order))):
        p = calibration.probabilities(predictions.scores)
    else:
        p = np.empty((predictions.n_rows, len(order)))
        p[:, order] = calibration.probabilities(predictions.scores[:, order])
    return dataclasses.replace(
        predictions, scores=p, probabilities=p, score_kind="probability", activation="none",
        notes=(*predictions.notes, f"Scores are calibrated ({calibration.method})."),
        warnings=(*predictions.warnings, *calibration.notes),
    )


# --------------------------------------------------------------------------------- report
@dataclass(frozen=True)
class CalibrationReport:
    """ECE, Brier score and log-loss before and after calibration.

    Attributes
    ----------
    method : str
    classes : tuple of str
    before, after : dict of str to ndarray (K,)
        ``"ece"`` (15 equal-width bins, one-vs-rest), ``"brier"`` (mean squared error of the
        class's probability against its 0/1 truth) and ``"log_loss"`` (binary cross-entropy of
        the class's probability), per class.
    overall_before, overall_after : dict of str to float
        Multi-class: top-label ECE, multi-class Brier (sum over classes, mean over rows, as
        ``sklearn.metrics.brier_score_loss``) and multi-class log-loss. Binary: the class's.
        Multi-label: the mean over labels.
    """

    method: str
    classes: tuple[str, ...]
    before: dict
    after: dict
    overall_before: dict
    overall_after: dict

    def to_dict(self) -> dict:
        def plain(values):
            return {k: _json_float(v) for k, v in values.items()}

        return {
            "method": self.method,
            "per_class": {
                c: {
                    "before": {m: _json_float(v[i]) for m, v in self.before.items()},
                    "after": {m: _json_float(v[i]) for m, v in self.after.items()},
                }
                for i, c in enumerate(self.classes)
            },
            "overall": {"before": plain(self.overall_before), "after": plain(self.overall_after)},
        }


def _clipped(p: np.ndarray) -> np.ndarray:
    # As sklearn.metrics.log_loss: probabilities kept eps away from 0 and 1.
    eps = np.finfo(np.float64).eps
    return np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)


def class_losses(probabilities: np.ndarray, truth: np.ndarray) -> dict:
    """Per-class ECE, Brier score and binary log-loss (dict of (K,) float64 arrays)."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(truth, dtype=np.float64)
    ece = np.array([
        reliability(p[:, k], truth[:, k], n_bins=REPORT_BINS).ece for k in range(p.shape[1])
    ])
    brier = ((p - y) ** 2).mean(axis=0) if len(p) else np.full(p.shape[1], np.nan)
    q = _clipped(p)
    nll = -(y * np.log(q) + (1 - y) * np.log1p(-q))
    log_loss = nll.mean(axis=0) if len(p) else np.full(p.shape[1], np.nan)
    return {"ece": ece, "brier": brier, "log_loss": log_loss}


def overall_losses(predictions: PredictionSet, probabilities: np.ndarray, per_class: dict) -> dict:
    """The overall ECE / Brier / log-loss (see :class:`CalibrationReport`)."""
    if predictions.task != "multiclass":
        return {m: float(np.mean(v)) for m, v in per_class.items()}
    p = np.asarray(probabilities, dtype=np.float64)
    labels = predictions.labels
    rows = np.arange(len(labels))
    top = np.argmax(p, axis=1)
    ece = reliability(p[rows, top], top == labels, n_bins=REPORT_BINS).ece
    truth = predictions.truth
    brier = float(((p - truth) ** 2).sum(axis=1).mean())
    q = _clipped(p)  # as sklearn.metrics.log_loss, which only warns when rows do not sum to 1
    log_loss = float(-np.log(q[rows, labels]).mean())
    return {"ece": ece, "brier": brier, "log_loss": log_loss}


def calibration_report(
    predictions: PredictionSet, calibration: Calibration, calibrated: PredictionSet | None = None
) -> CalibrationReport:
    """ECE, Brier and log-loss of ``predictions`` before and after ``calibration``."""
    if calibrated is None:
        calibrated = calibrate(predictions, calibration)
    truth = predictions.truth
    before = class_losses(predictions.probabilities, truth)
    after = class_losses(calibrated.probabilities, truth)
    return CalibrationReport(
        method=calibration.method,
        classes=tuple(predictions.classes),
        before=before,
        after=after,
        overall_before=overall_losses(predictions, predictions.probabilities, before),
        overall_after=overall_losses(predictions, calibrated.probabilities, after),
    )


# ------------------------------------------------------------------------------ validation
def _number(value, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SectionError(f"{path} must be a finite number, got {value!r}")
    return float(value)


def _class_numbers(values, classes: tuple[str, ...], path: str) -> np.ndarray:
    if not isinstance(values, Mapping) or set(values) != set(classes):
        raise SectionError(f"{path} must map every class ({', '.join(classes)}) to a number")
    return np.array([_number(values[c], f"{path}.{c}") for c in classes], dtype=np.float64)


def _breakpoints(value, path: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(value, Mapping) or set(value) != {"x", "y"}:
        raise SectionError(f"{path} must be an object with lists x and y")
    xs, ys = value["x"], value["y"]
    if not isinstance(xs, list) or not isinstance(ys, list) or not xs or len(xs) != len(ys):
        raise SectionError(f"{path}.x and {path}.y must be non-empty lists of the same length")
    x = np.array([_number(v, f"{path}.x") for v in xs], dtype=np.float64)
    y = np.array([_number(v, f"{path}.y") for v in ys], dtype=np.float64)
    if np.any(np.diff(x) <= 0):
        raise SectionError(f"{path}.x must be strictly increasing")
    if np.any(np.diff(y) < 0) or y.min() < 0 or y.max() > 1:
        raise SectionError(f"{path}.y must be non-decreasing probabilities in [0, 1]")
    return x, y


def normalise_calibration(config, problem) -> Calibration:
    """A config's ``calibration`` (a :class:`Calibration` or its JSON dict) checked against the
    config's task, classes and score kind; ``problem(sentence)`` builds the exception to raise."""
    value = config.calibration
    if isinstance(value, Calibration):
        if (value.task, tuple(value.classes), value.score_kind) != (
            config.task, tuple(config.classes), config.score_kind
        ):
            raise problem(
                f"calibration was fitted on {value.task} {value.score_kind} scores of classes "
                f"{', '.join(value.classes)}, not on this config's data"
            )
        calibration = value
    else:
        try:
            calibration = Calibration.from_dict(
                value, task=config.task, classes=config.classes, score_kind=config.score_kind
            )
        except SectionError as e:
            raise problem(str(e)) from None
    if config.logit_thresholds is not None:
        raise problem(
            "logit_thresholds does not apply with a calibration section (a raw logit maps to a "
            "probability only through the calibration); remove it"
        )
    return calibration
