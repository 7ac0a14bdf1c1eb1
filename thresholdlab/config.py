"""The threshold config users download, re-import and serve with.

A :class:`ThresholdConfig` is the chosen thresholds plus everything needed to apply them to raw
model outputs: task, classes, score kind, activation and decision rule. It is written as JSON
(``to_json`` / ``save``), validated against ``config_schema.json`` (shipped in the package) when
read back (``from_json`` / ``load``), and applied to new scores by :func:`apply`.

Floats round-trip bit for bit: Python's ``json`` writes floats with ``repr``, the shortest text
that reads back as the same float64, and nothing here rounds them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from thresholdlab.array_types import decider_for
from thresholdlab.config_checks import (
    SCHEMA_VERSION, ConfigError, _Problem, _normalise, _per_class, _check_same_classes, _null_logit,
)
from thresholdlab.config_json import (
    _names, _parse, _validate_document, config_schema,
)
from thresholdlab.decisions import DecisionRule, decide
from thresholdlab.version import __version__
from thresholdlab.predictions import (
    PROBABILITY_SLACK, DataError, PredictionSet, sigmoid, softmax,
)

__all__ = ["SCHEMA_VERSION", "ConfigError", "ThresholdConfig", "apply", "config_schema"]


# Order of the keys in the written JSON.
_KEY_ORDER = (
    "schema_version", "created_by", "created_at", "task", "classes", "score_kind", "activation",
    "decision_rule", "comparison", "no_prediction", "thresholds", "logit_thresholds", "objective",
    "metrics", "data", "groups", "calibration", "cost_matrix", "costs",
)



def _created_by() -> str:
    return f"thresholdlab {__version__}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True, kw_only=True)
class ThresholdConfig:
    """Chosen thresholds and how to apply them; fields in the JSON's order.

    Construct with :meth:`from_choice` (from a loaded data set), :meth:`from_json` / :meth:`load`
    (from a file), or directly with keywords; every path validates and normalises the fields.

    Attributes
    ----------
    schema_version : int
        Always 1.
    created_by, created_at : str or None
        ``"thresholdlab X.Y.Z"`` and an ISO 8601 UTC timestamp; None when a loaded file omits them.
    task : {"binary", "multiclass", "multilabel"}
    classes : tuple of str, length K
        In the order of the score columns; binary has one class, the positive class.
    score_kind : {"probability", "logit"}
        What the model's raw outputs are, and so what :func:`apply` expects.
    activation : {"none", "softmax", "sigmoid"}
        Derived from ``task`` and ``score_kind`` when not given.
    decision_rule, no_prediction : str
        As in :class:`~thresholdlab.decisions.DecisionRule`; defaults for the task when not given.
    comparison : str
        Always ``">="``.
    thresholds : dict of str to float
        Class -> threshold on the probability, in [0, 1], in ``classes`` order.
    logit_thresholds : dict of str to float, or None
        Sigmoid tasks only (``activation == "sigmoid"``): class -> threshold on the raw logit,
        ``logit(thresholds[c])`` unless given explicitly (the optimiser passes its logit
        midpoints). +-inf where the threshold is 1 or 0 (written as ``null``). None otherwise.
    objective : str
        ``"manual"`` or the optimiser's objective (``"f1"``, ``"fbeta:2"``, ...).
    metrics : dict
        Metrics at these thresholds, plain JSON values; undefined ones are None.
    data : dict or None
        ``{"file", "sha256", "rows"}`` of the data set the thresholds were chosen on.
    calibration : Calibration or None
        A fitted map from raw scores to calibrated probabilities (optional, versioned section;
        see :mod:`thresholdlab.calibration_fit`). When present it replaces ``activation`` and
        the thresholds live in calibrated probability space; ``logit_thresholds`` is then left
        out (a raw logit no longer maps to one probability without the calibration).
    cost_matrix : CostMatrix or None
        With ``decision_rule == "cost_matrix"`` (multi-class) only: the cost of predicting j
        when the truth is i and of abstaining; see :mod:`thresholdlab.costs`. The thresholds
        then play no part in the decisions.
    costs : dict of str to ClassCost, or None
        The false-positive and false-negative cost per class the thresholds were chosen for.

    Treat the dicts as read-only: the dataclass is frozen, their contents are not.
    """

    schema_version: int = SCHEMA_VERSION
    created_by: str | None = field(default_factory=_created_by)
    created_at: str | None = field(default_factory=_now)
    task: str
    classes: tuple[str, ...]
    score_kind: str = "probability"
    activation: str | None = None
    decision_rule: str | None = None
    comparison: str = ">="
    no_prediction: str | None = None
    thresholds: Mapping[str, float]
    logit_thresholds: Mapping[str, float] | None = None
    objective: str = "manual"
    metrics: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] | None = None
    groups: Mapping[str, Any] | None = None  # optional per-slice thresholds (thresholdlab.groups)
    calibration: Any = None
    cost_matrix: Any = None
    costs: Any = None

    def __post_init__(self):
        try:
            _normalise(self)
        except _Problem as problem:
            message = f"Invalid threshold config: {problem.detail}."
            raise ConfigError(message, problem.detail) from None

    # ----------------------------------------------------------------------------- building
    @classmethod
    def from_choice(
        cls,
        pset: PredictionSet,
        thresholds,
        rule: DecisionRule | None = None,
        *,
        objective: str = "manual",
        metrics: Mapping[str, Any] | None = None,
        logit_thresholds=None,
        calibration=None,
        costs=None,
    ) -> ThresholdConfig:
        """The config for thresholds chosen on ``pset``.

        Parameters
        ----------
        pset : PredictionSet
        thresholds : array-like, shape (K,), in ``pset.classes`` order, or dict class -> float
            Probability thresholds.
        rule : DecisionRule, optional
            Defaults to the task's default rule.
        objective : str
        metrics : dict, optional
            Metrics at these thresholds (any JSON-like mapping, or a dataclass); NaN and inf
            become None, numpy scalars and arrays become plain numbers and lists.
        logit_thresholds : array-like (K,) or dict, optional
            Sigmoid tasks only; defaults to ``logit(thresholds)``.
        calibration : Calibration, optional
            Fitted on ``pset`` (raw scores); ``thresholds`` are then calibrated probabilities.
        costs : dict of class to ClassCost, optional
            The per-class costs the thresholds were chosen to minimise.
        """
        rule = rule if rule is not None else DecisionRule.default(pset.task)
        if rule.task != pset.task:
            raise ConfigError(
                f"Invalid threshold config: the decision rule is for {rule.task} data "
                f"but the data is {pset.task}."
            )
        if metrics is not None and not isinstance(metrics, Mapping):
            if dataclasses.is_dataclass(metrics):
                metrics = dataclasses.asdict(metrics)
            elif hasattr(metrics, "to_dict"):
                metrics = metrics.to_dict()
        return cls(
            task=pset.task,
            classes=tuple(pset.classes),
            score_kind=pset.score_kind,
            activation=pset.activation,
            decision_rule=rule.rule,
            no_prediction=rule.no_prediction,
            thresholds=_per_class(thresholds, pset.classes, "thresholds"),
            logit_thresholds=(
                None if logit_thresholds is None
                else _per_class(logit_thresholds, pset.classes, "logit_thresholds")
            ),
            objective=objective,
            metrics=metrics if metrics is not None else {},
            data={"file": str(pset.file), "sha256": str(pset.sha256), "rows": pset.n_rows},
            calibration=calibration,
            costs=costs,
        )

    # ------------------------------------------------------------------------------ queries
    @property
    def rule(self) -> DecisionRule:
        return DecisionRule(self.task, self.decision_rule, self.no_prediction)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def thresholds_for(self, classes) -> np.ndarray:
        """float64 array (K,): the thresholds in the order of ``classes`` (e.g. the data's).

        Raises DataError naming the differing classes when ``classes`` is not the config's set.
        """
        classes = tuple(str(c) for c in classes)
        _check_same_classes(self.classes, classes)
        return np.array([self.thresholds[c] for c in classes], dtype=np.float64)

    def check_matches(self, pset: PredictionSet) -> None:
        """Raise DataError unless this config can be used on ``pset``: same task, same classes.

        The classes may come in another order; use :meth:`thresholds_for` to line them up.
        """
        if self.task != pset.task:
            raise DataError(f"The config is for {self.task} data but the data is {pset.task}.")
        _check_same_classes(self.classes, tuple(pset.classes))

    # --------------------------------------------------------------------------- writing
    def to_dict(self) -> dict:
        """Plain JSON-ready dict, keys in documented order; infinite logit thresholds -> None."""
        out: dict[str, Any] = {}
        for key in _KEY_ORDER:
            value = getattr(self, key)
            if key in ("created_by", "created_at", "groups") and value is None:
                continue
            if key == "calibration":
                if value is None:
                    continue
                value = value.to_dict()
            elif key in ("cost_matrix", "costs"):
                if value is None:
                    continue
                if key == "cost_matrix":
                    value = value.to_dict()
                else:
                    from thresholdlab.costs import costs_section

                    value = costs_section(value)
            elif key == "logit_thresholds":
                if self.activation != "sigmoid" or value is None:
                    continue
                value = {c: (v if math.isfinite(v) else None) for c, v in value.items()}
            elif key == "classes":
                value = list(value)
            elif key in ("thresholds", "data", "metrics") and value is not None:
                value = dict(value)
            out[key] = value
        return out

    def to_json(self) -> str:
        """The config as JSON text (indent 2, documented key order, UTF-8 class names as is).

        Class names and file names come from user files and may hold anything: quotes and
        control characters are escaped by ``json``; lone surrogates (which UTF-8 cannot encode),
        line and paragraph separators and bidirectional-text controls (which make an editor
        show the text in another order than it is read) are written as ``\\uXXXX`` escapes.
        Reading the file back gives the same strings.
        """
        # allow_nan=False: non-finite values were turned into null above; never write NaN.
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
        # Outside strings the JSON is ASCII, so every match is inside a string.
        return _UNSAFE_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)

    def save(self, path: str | os.PathLike) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    # --------------------------------------------------------------------------- reading
    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "config") -> ThresholdConfig:
        """Parse and validate config JSON; any problem raises DataError in one sentence.

        ``source`` names the file in messages ("Config 'x.json': ...").
        """
        if isinstance(text, (bytes, bytearray)):
            try:
                text = bytes(text).decode("utf-8-sig")
            except UnicodeDecodeError as e:
                raise DataError(
                    f"Config {source!r} is not UTF-8 text: byte 0x{text[e.start]:02x} at "
                    f"position {e.start} cannot be decoded."
                ) from None
        elif text.startswith("\ufeff"):
            text = text[1:]
        doc = _parse(text, source)
        _validate_document(doc, source)
        logits = doc.get("logit_thresholds")
        if logits is not None:
            # null stands for the infinite logit of a threshold of exactly 0 or 1.
            logits = {
                c: (float(v) if v is not None else _null_logit(doc["thresholds"], c, source))
                for c, v in logits.items()
            }
        try:
            return cls(
                schema_version=doc["schema_version"],
                created_by=doc.get("created_by"),
                created_at=doc.get("created_at"),
                task=doc["task"],
                classes=tuple(doc["classes"]),
                score_kind=doc["score_kind"],
                activation=doc["activation"],
                decision_rule=doc["decision_rule"],
                comparison=doc.get("comparison", ">="),
                no_prediction=doc["no_prediction"],
                thresholds=doc["thresholds"],
                logit_thresholds=logits,
                objective=doc.get("objective", "manual"),
                metrics=doc.get("metrics", {}),
                data=doc.get("data"),
                groups=doc.get("groups"),
                calibration=doc.get("calibration"),
                cost_matrix=doc.get("cost_matrix"),
                costs=doc.get("costs"),
            )
        except ConfigError as e:
            raise DataError(f"Config {source!r}: {e.detail}.") from None

    @classmethod
    def load(cls, path: str | os.PathLike) -> ThresholdConfig:
        """Read and validate a config file; DataError (one sentence) when it is unusable."""
        name = Path(path).name
        try:
            raw = Path(path).read_bytes()
        except OSError as e:
            raise DataError(f"Cannot read config {name!r}: {e.strerror or e}.") from None
        return cls.from_json(raw, source=name)


_UNSAFE_TEXT = re.compile(
    "[\ud800-\udfff\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]"
)
"""Characters :meth:`ThresholdConfig.to_json` writes as escapes: surrogates, C1 controls, zero-width,
bidirectional controls, line/paragraph separators, byte order mark."""


# ---------------------------------------------------------------------------------- apply
def apply(config: ThresholdConfig | str | os.PathLike, scores, *, groups=None):
    """Decisions of ``config`` on raw model outputs.

    Parameters
    ----------
    config : ThresholdConfig, or the path of a config file
    scores : numpy array (or array-like) or torch tensor
        Raw outputs in the config's ``score_kind`` (logits are passed through the config's
        activation, in float64), columns in ``config.classes`` order. Multi-class and
        multi-label: shape (n, K). Binary: shape (n,) or (n, 1).
    groups : array-like of str, shape (n,), optional
        Each row's slice value, for a config with per-slice thresholds (its ``groups``
        section): rows whose value it lists use that value's thresholds, all others (and every
        row when ``groups`` is not given) the top-level ``thresholds``.

    Returns
    -------
    ndarray or torch tensor (same device as ``scores``)
        Multi-class: int64 / torch.long, shape (n,), class id or -1 (no prediction).
        Multi-label: bool, shape (n, K). Binary: bool, the shape of ``scores``.

    A config's ``calibration`` turns the raw scores into calibrated probabilities first (in
    place of the activation), and the ``cost_matrix`` rule decides by least expected cost
    instead of thresholds (multi-class: class id, or -1 where abstaining costs less).

    Decisions equal ``decide(probabilities, thresholds, rule)`` exactly, for numpy and torch
    input alike: probabilities are compared with ``thresholds`` (``>=``), never logits with
    ``logit_thresholds``, so ``apply`` agrees with what the dashboard showed for the same data.
    Tensors are decided on their own device (MPS: on the CPU) by the eager
    :class:`thresholdlab.torch.ThresholdHead`, which hands to numpy the rare rows where torch's
    last bit of ``exp`` could change a decision.
    """
    if not isinstance(config, ThresholdConfig):
        config = ThresholdConfig.load(config)
    with_groups = groups is not None and bool(config.groups)
    decide_array = decider_for(scores)  # tensors: thresholdlab.torch (see array_types)
    if decide_array is not None:
        return decide_array(config, scores, groups=groups if with_groups else None)
    x = np.asarray(scores)
    shape = _check_shape(config, x.shape)
    # C order: numpy's row sums (inside softmax) add in another order for Fortran-ordered input.
    x = np.ascontiguousarray(x, dtype=np.float64).reshape(shape)
    _check_values(config, x, bool(np.isfinite(x).all()), lambda: x.min(), lambda: x.max())
    if config.score_kind == "probability":
        # Rounding just outside [0, 1] is clipped, as loading clips it (a new array: never the
        # caller's).
        x = np.clip(x, 0.0, 1.0)
    if config.cost_matrix is not None:
        return config.cost_matrix.decide(_probabilities(config, x))
    if with_groups:  # each row by its slice's thresholds
        from thresholdlab.groups import decide_with_groups

        decisions = decide_with_groups(config, _probabilities(config, x), groups)
    else:
        decisions = decide(_probabilities(config, x), _thresholds(config), config.rule)
    return decisions.reshape(np.shape(scores)) if config.task == "binary" else decisions


def _probabilities(config: ThresholdConfig, x: np.ndarray) -> np.ndarray:
    """float64 (n, K): the same functions loading uses, so decisions match the dashboard."""
    if config.calibration is not None:
        return config.calibration.probabilities(x)
    if config.activation == "softmax":
        return softmax(x)
    if config.activation == "sigmoid":
        return sigmoid(x)
    return x


def _thresholds(config: ThresholdConfig) -> np.ndarray:
    return np.array([config.thresholds[c] for c in config.classes], dtype=np.float64)


def _check_shape(config: ThresholdConfig, shape: tuple[int, ...]) -> tuple[int, int]:
    """(n, K) the scores are read as; ValueError when ``shape`` does not fit the config."""
    shape = tuple(int(s) for s in shape)
    k = config.n_classes
    if config.task == "binary":
        if len(shape) == 1 or (len(shape) == 2 and shape[1] == 1):
            return (shape[0], 1)
        raise ValueError(
            f"scores for a binary config must have shape (n,) or (n, 1), got {shape}; pass the "
            f"positive class {config.classes[0]!r}'s column only (e.g. scores[:, 1])."
        )
    if len(shape) != 2:
        raise ValueError(
            f"scores for a {config.task} config must be 2-D (rows, classes), got shape {shape}."
        )
    if shape[1] != k:
        raise ValueError(
            f"scores have {shape[1]} columns but the config has {k} classes "
            f"({_names(config.classes)}); pass one column per class, in the config's order."
        )
    return shape


def _check_values(config: ThresholdConfig, x, finite: bool, lo, hi) -> None:
    if not finite:
        raise ValueError("scores contain NaN or infinite values; decisions need finite scores.")
    if config.score_kind == "probability" and x.shape[0]:
        low, high = float(lo()), float(hi())
        if low < -PROBABILITY_SLACK or high > 1 + PROBABILITY_SLACK:
            bad = low if low < 0 else high
            raise ValueError(
                f"the config expects probabilities (score_kind 'probability') but the scores "
                f"include {bad!r}, outside [0, 1]; pass probabilities, or use a config made "
                f"from logits."
            )
