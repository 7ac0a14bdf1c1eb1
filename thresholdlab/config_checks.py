"""Checking a threshold config: every field read, normalised and explained in one sentence.

:class:`thresholdlab.config.ThresholdConfig` calls :func:`_normalise` when it is built, so a
config is valid wherever it exists; a problem is raised as ``_Problem`` (one sentence, the part
after "Config 'x':") and worded by ``config.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from thresholdlab.config_json import _names, _path, _show
from thresholdlab.decisions import DecisionRule
from thresholdlab.predictions import DataError, logit, sigmoid

if TYPE_CHECKING:  # config.py builds on this module: the import points one way
    from thresholdlab.config import ThresholdConfig

SCHEMA_VERSION = 1
"""The ``schema_version`` this module writes and reads."""

# How far (relative) an explicit logit threshold's sigmoid may sit from its probability threshold.
# The optimiser derives one from the other in float64, so they agree to a few ulps; a hand edit
# of one without the other is off by far more.
_LOGIT_CONSISTENCY_TOL = 1e-9


class ConfigError(DataError):
    """A threshold config that is invalid; ``detail`` is the sentence without the source prefix."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail or message


# ------------------------------------------------------------------------------ validation
class _Problem(Exception):
    """One invalid field; ``detail`` is the sentence after "Config 'x':", without the period."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def _normalise(cfg: ThresholdConfig) -> None:
    """Check the fields together and store them in canonical types (frozen: via __setattr__)."""

    def put(name, value):
        object.__setattr__(cfg, name, value)

    if cfg.schema_version != SCHEMA_VERSION or isinstance(cfg.schema_version, bool):
        raise _Problem(
            f"schema_version must be {SCHEMA_VERSION} (the only version this thresholdlab "
            f"reads), got {_show(cfg.schema_version)}"
        )
    put("schema_version", SCHEMA_VERSION)
    if cfg.comparison != ">=":
        raise _Problem(f"comparison must be '>=', got {_show(cfg.comparison)}")
    if isinstance(cfg.classes, str):
        raise _Problem("classes must be a list of class names, not one string")
    classes = tuple(str(c) for c in cfg.classes)
    if not classes:
        raise _Problem("classes must name at least one class")
    if len(set(classes)) != len(classes):
        dup = next(c for i, c in enumerate(classes) if c in classes[:i])
        raise _Problem(f"classes lists {dup!r} more than once")
    put("classes", classes)

    if cfg.score_kind not in ("probability", "logit"):
        raise _Problem(f"score_kind must be 'probability' or 'logit', got {_show(cfg.score_kind)}")
    if not isinstance(cfg.task, str):
        raise _Problem(
            f"task must be 'binary', 'multiclass' or 'multilabel', got {_show(cfg.task)}"
        )
    if cfg.decision_rule == "cost_matrix" or cfg.cost_matrix is not None:
        from thresholdlab.costs import normalise_cost_rule

        rule_name, no_prediction, matrix = normalise_cost_rule(cfg, _Problem)
        put("cost_matrix", matrix)
    else:
        try:
            rule = DecisionRule.default(cfg.task, cfg.decision_rule, cfg.no_prediction)
        except ValueError as e:
            raise _Problem(str(e)) from None
        rule_name, no_prediction = rule.rule, rule.no_prediction
    put("decision_rule", rule_name)
    put("no_prediction", no_prediction)
    if cfg.costs is not None:
        from thresholdlab.costs import normalise_costs

        put("costs", normalise_costs(cfg, _Problem))
    if cfg.task == "binary" and len(classes) != 1:
        raise _Problem(f"binary data has one class (the positive class), got {len(classes)}")
    if cfg.task == "multiclass" and len(classes) < 2:
        raise _Problem("multiclass data needs at least two classes")
    expected = (
        "none" if cfg.score_kind == "probability"
        else "softmax" if cfg.task == "multiclass" else "sigmoid"
    )
    if cfg.activation is None:
        put("activation", expected)
    elif cfg.activation != expected:
        raise _Problem(
            f"activation must be {expected!r} for {cfg.task} data with score_kind "
            f"{cfg.score_kind!r}, got {_show(cfg.activation)}"
        )

    thresholds = _class_floats(cfg.thresholds, classes, "thresholds")
    for c, v in thresholds.items():
        if not (math.isfinite(v) and 0 <= v <= 1):
            raise _Problem(
                f"{_path(['thresholds', c])} must be a number between 0 and 1, got {v!r}"
            )
    put("thresholds", thresholds)

    if cfg.calibration is not None:
        from thresholdlab.calibration_fit import normalise_calibration

        put("calibration", normalise_calibration(cfg, _Problem))
    if cfg.activation == "sigmoid" and cfg.calibration is None:
        if cfg.logit_thresholds is None:
            t = np.array([thresholds[c] for c in classes])
            put("logit_thresholds", dict(zip(classes, np.atleast_1d(logit(t)).tolist())))
        else:
            logits = _class_floats(cfg.logit_thresholds, classes, "logit_thresholds")
            for c, v in logits.items():
                if math.isnan(v):
                    raise _Problem(f"{_path(['logit_thresholds', c])} must be a number, got nan")
                back = float(sigmoid(np.array([v]))[0])
                t = thresholds[c]
                if abs(back - t) > _LOGIT_CONSISTENCY_TOL * max(back, t) + 1e-300:
                    raise _Problem(
                        f"{_path(['logit_thresholds', c])} is {v!r}, whose sigmoid {back!r} does "
                        f"not match {_path(['thresholds', c])} {thresholds[c]!r}; change both "
                        f"together or remove logit_thresholds"
                    )
            put("logit_thresholds", logits)
    elif cfg.logit_thresholds is not None:
        raise _Problem(
            "logit_thresholds is only allowed when activation is 'sigmoid' (binary or multilabel "
            "logits); remove it"
        )

    if cfg.created_by is not None and not isinstance(cfg.created_by, str):
        raise _Problem(f"created_by must be a string, got {_show(cfg.created_by)}")
    if cfg.created_at is not None:
        try:
            datetime.fromisoformat(cfg.created_at)
        except (TypeError, ValueError):
            raise _Problem(
                f"created_at must be an ISO 8601 date and time, got {_show(cfg.created_at)}"
            ) from None
    if not isinstance(cfg.objective, str) or not cfg.objective:
        raise _Problem(f"objective must be a non-empty string, got {_show(cfg.objective)}")
    if not isinstance(cfg.metrics, Mapping):
        raise _Problem(f"metrics must be an object, got {_show(cfg.metrics)}")
    put("metrics", _plain_json(cfg.metrics))
    if cfg.data is not None:
        data = dict(cfg.data)
        if set(data) != {"file", "sha256", "rows"}:
            raise _Problem(
                f"data must have exactly the keys file, sha256 and rows, got {sorted(data)}"
            )
        rows = data["rows"]
        if isinstance(rows, bool) or not isinstance(rows, (int, np.integer, float)) or rows < 0 \
                or rows != int(rows):
            raise _Problem(f"data.rows must be a whole number of rows, got {_show(rows)}")
        put("data", {"file": str(data["file"]), "sha256": str(data["sha256"]), "rows": int(rows)})
    if cfg.groups is not None:
        from thresholdlab.groups import normalise_groups

        try:
            put("groups", normalise_groups(cfg.groups, classes, cfg.task, no_prediction))
        except ValueError as e:
            raise _Problem(str(e)) from None


def _class_floats(values, classes: tuple[str, ...], name: str) -> dict[str, float]:
    """{class: float} in ``classes`` order from a mapping with exactly those keys."""
    if not isinstance(values, Mapping):
        raise _Problem(f"{name} must map each class to a number")
    keys = [str(k) for k in values]
    # Sets built once: a config with many classes must not take quadratic time to read.
    key_set, class_set = set(keys), set(classes)
    missing = [c for c in classes if c not in key_set]
    extra = [k for k in keys if k not in class_set]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {_names(missing)}")
        if extra:
            parts.append(f"not a class: {_names(extra)}")
        raise _Problem(f"{name} must have one entry per class; {'; '.join(parts)}")
    by_key = {str(k): v for k, v in values.items()}
    out = {}
    for c in classes:
        v = by_key[c]
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise _Problem(f"{_path([name, c])} must be a number, got {_show(v)}")
        out[c] = float(v)
    return out


def _per_class(values, classes, name: str) -> dict[str, float] | Mapping:
    """Array (K,) in ``classes`` order -> dict; mappings pass through to be checked later."""
    if isinstance(values, Mapping):
        return values
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if arr.shape != (len(classes),):
        raise ConfigError(
            f"Invalid threshold config: {name} has shape {arr.shape} but the data has "
            f"{len(classes)} classes."
        )
    return dict(zip((str(c) for c in classes), arr.tolist()))


def _check_same_classes(config_classes: tuple[str, ...], data_classes: tuple[str, ...]) -> None:
    in_config = set(config_classes)
    in_data = set(data_classes)
    if in_config == in_data and len(config_classes) == len(data_classes):
        return
    missing = [c for c in data_classes if c not in in_config]
    extra = [c for c in config_classes if c not in in_data]
    parts = []
    if missing:
        parts.append(f"missing from the config: {_names(missing)}")
    if extra:
        parts.append(f"not in the data: {_names(extra)}")
    raise DataError(f"The config's classes do not match the data: {'; '.join(parts)}.")


def _null_logit(thresholds: dict, c: str, source: str) -> float | None:
    if c not in thresholds:
        return None  # not a class: the key check in ThresholdConfig says so
    t = thresholds[c]
    if t in (0, 1) and not isinstance(t, bool):
        return float(logit(float(t)))
    raise DataError(
        f"Config {source!r}: {_path(['logit_thresholds', c])} may be null only where "
        f"{_path(['thresholds', c])} is 0 or 1, got null."
    )


def _plain_json(value, path=("metrics",)):
    """``value`` as plain JSON types: NaN/inf -> None, numpy -> Python, tuples -> lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain_json(v, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return _plain_json(value.tolist(), path)
    if isinstance(value, (list, tuple)):
        return [_plain_json(v, (*path, i)) for i, v in enumerate(value)]
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    raise _Problem(f"{_path(path)} must be a JSON value, got {type(value).__name__}")
