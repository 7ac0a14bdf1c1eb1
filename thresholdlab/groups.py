"""Per-slice thresholds: the config's optional ``groups`` section.

Binary and multi-label configs may carry thresholds per value of one slice column::

    "groups": {"version": 1, "column": "region", "objective": "equal_recall",
               "thresholds": {"EU": {"fraud": 0.41}, "US": {"fraud": 0.37}}}

A row whose slice value is listed is decided with that value's thresholds; any other row (and
every row when no slice values are given) with the config's top-level ``thresholds``. So a
config with ``groups`` still works, unchanged, for code that knows nothing of slices, and a
config without it behaves exactly as before. Multi-class configs cannot have groups: under a
multi-class rule a row's decision depends on every class's threshold at once.

``thresholdlab.apply(config, scores, groups=values)`` and ``thresholdlab.torch.ThresholdHead``
(``head(scores, slices)``, slices as codes: positions in :func:`group_codes`) take each row's
slice value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

GROUPS_VERSION = 1


def normalise_groups(groups, classes: tuple[str, ...], task: str, no_prediction: str) -> dict:
    """The ``groups`` section in canonical form; ValueError (the detail of one sentence) when
    it is not valid for these classes and this rule."""
    if not isinstance(groups, Mapping):
        raise ValueError(f"groups must be an object, got {type(groups).__name__}")
    extra = set(groups) - {"version", "column", "objective", "thresholds"}
    if extra:
        raise ValueError(f"groups has unknown keys {sorted(extra)}; allowed: version, column, objective, thresholds")
    version = groups.get("version")
    if version != GROUPS_VERSION or isinstance(version, bool):
        raise ValueError(f"groups.version must be {GROUPS_VERSION} (the only version this thresholdlab reads), got {version!r}")
    if task == "multiclass":
        raise ValueError(
            "groups (per-slice thresholds) are only for binary and multilabel configs; under a "
            "multiclass rule a row's decision depends on every class's threshold"
        )
    if no_prediction != "none":
        raise ValueError(
            f"groups need each label decided on its own; remove them or set no_prediction to 'none' "
            f"(got {no_prediction!r})"
        )
    column = groups.get("column")
    if not isinstance(column, str) or not column:
        raise ValueError(f"groups.column must name the slice column, got {column!r}")
    objective = groups.get("objective", "manual")
    if not isinstance(objective, str) or not objective:
        raise ValueError(f"groups.objective must be a non-empty string, got {objective!r}")
    table = groups.get("thresholds")
    if not isinstance(table, Mapping) or not table:
        raise ValueError("groups.thresholds must map at least one slice value to its thresholds")
    out: dict[str, dict[str, float]] = {}
    for value, per_class in table.items():
        where = f"groups.thresholds[{str(value)!r}]"
        if not isinstance(per_class, Mapping):
            raise ValueError(f"{where} must map each class to its threshold")
        names = tuple(str(c) for c in per_class)
        if set(names) != set(classes):
            missing = [c for c in classes if c not in names]
            unknown = [c for c in names if c not in classes]
            detail = "; ".join(part for part in (
                f"missing {missing}" if missing else "", f"unknown {unknown}" if unknown else "") if part)
            raise ValueError(f"{where} must give a threshold for every class ({detail})")
        row = {}
        for c in classes:
            v = per_class[c]
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) \
                    or not math.isfinite(float(v)) or not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"{where}[{c!r}] must be a number between 0 and 1, got {v!r}")
            row[c] = float(v)
        out[str(value)] = row
    return {"version": GROUPS_VERSION, "column": column, "objective": objective, "thresholds": out}


def make_groups(column: str, values_to_thresholds: Mapping, classes, *, objective: str = "manual") -> dict:
    """A ``groups`` section from slice value -> thresholds (array (K,) in ``classes`` order)."""
    classes = tuple(classes)
    return {
        "version": GROUPS_VERSION,
        "column": str(column),
        "objective": objective,
        "thresholds": {
            str(v): dict(zip(classes, np.asarray(t, dtype=np.float64).tolist()))
            for v, t in values_to_thresholds.items()
        },
    }


def group_values(config) -> tuple[str, ...]:
    """The slice values a config lists, in its order (their codes are the positions)."""
    return tuple((config.groups or {}).get("thresholds", {}))


def group_codes(config, values) -> np.ndarray:
    """int64 (n,): each row's position in :func:`group_values`, -1 for a value not listed."""
    listed = {v: i for i, v in enumerate(group_values(config))}
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"slice values must be one per row (1-D), got shape {values.shape}")
    return np.array([listed.get(str(v), -1) for v in values.tolist()], dtype=np.int64)


def threshold_rows(config, values, classes=None) -> np.ndarray:
    """float64 (n, K): the thresholds each row is decided with, columns in ``classes`` order
    (the data's class order; the config's own when None)."""
    classes = tuple(config.classes if classes is None else classes)
    table = np.array(
        [[config.groups["thresholds"][v][c] for c in classes] for v in group_values(config)]
        + [[config.thresholds[c] for c in classes]],
        dtype=np.float64,
    )
    return table[group_codes(config, values)]  # code -1 picks the last row: the top level


def decide_with_groups(config, probabilities: np.ndarray, values, classes=None) -> np.ndarray:
    """bool (n, K): ``p >= t`` with each row's own thresholds (binary and multi-label);
    ``probabilities`` has its columns in ``classes`` order (the config's when None)."""
    t = threshold_rows(config, values, classes)
    if t.shape[0] != probabilities.shape[0]:
        raise ValueError(
            f"slice values must give one value per row: {t.shape[0]} values for "
            f"{probabilities.shape[0]} rows of scores."
        )
    return np.asarray(probabilities) >= t
