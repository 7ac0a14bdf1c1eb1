"""What a set of thresholds does to each row.

Thresholds live in probability space, one per class, compared as ``p >= t``. This module is the
row-by-row reference for every rule; the curve index (``curves.py``) answers the same question in
O(K log n) for the rules that allow it, and tests hold the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NO_PREDICTION = -1
"""Class id that multi-class decisions use for "no prediction" (abstain)."""

RULES = {
    "binary": ("threshold",),
    "multilabel": ("threshold",),
    "multiclass": ("argmax", "threshold_argmax"),
}
NO_PREDICTION_OPTIONS = {
    "binary": ("none",),
    "multilabel": ("none", "at_least_one"),
    "multiclass": ("abstain", "fallback_argmax"),
}
RULE_NAMES = {
    "argmax": "Argmax, if it passes its threshold",
    "threshold_argmax": "Most probable class passing its threshold",
    "threshold": "Each class on its own threshold",
}
"""Each decision rule in the words the dashboard offers it."""
NO_PREDICTION_NAMES = {
    "abstain": "Abstain (no prediction)",
    "fallback_argmax": "Fall back to the argmax",
    "none": "Predict every label that passes",
    "at_least_one": "At least one label per row (top label)",
}
"""What happens to a row that no class passes, in the dashboard's words."""


@dataclass(frozen=True)
class DecisionRule:
    """How thresholds turn probabilities into predictions.

    rule : "threshold" (binary, multi-label), "argmax" or "threshold_argmax" (multi-class)
    no_prediction : "none" (binary, multi-label), "at_least_one" (multi-label: a row with no label
        passing gets its top label), "abstain" or "fallback_argmax" (multi-class: predict the
        argmax instead of abstaining)
    """

    task: str
    rule: str
    no_prediction: str

    def __post_init__(self):
        if self.task not in RULES:
            raise ValueError(f"unknown task {self.task!r}; expected one of {sorted(RULES)}")
        if self.rule not in RULES[self.task]:
            raise ValueError(
                f"decision rule {self.rule!r} does not apply to {self.task} data; "
                f"use one of {', '.join(RULES[self.task])}"
            )
        if self.no_prediction not in NO_PREDICTION_OPTIONS[self.task]:
            raise ValueError(
                f"no-prediction option {self.no_prediction!r} does not apply to {self.task} data; "
                f"use one of {', '.join(NO_PREDICTION_OPTIONS[self.task])}"
            )

    @classmethod
    def default(cls, task: str, rule: str | None = None, no_prediction: str | None = None):
        return cls(
            task=task,
            rule=rule or RULES[task][0],
            no_prediction=no_prediction or NO_PREDICTION_OPTIONS[task][0],
        )

    @property
    def per_class(self) -> bool:
        """True when class c's one-vs-rest decisions depend on t_c alone (the fast index path)."""
        if self.task == "multiclass":
            return self.rule == "argmax" and self.no_prediction == "abstain"
        return self.no_prediction == "none"

    def ignores_thresholds(self, n_classes: int) -> bool:
        """True when every row gets the same decisions whatever the thresholds.

        Multi-class ``argmax`` with ``fallback_argmax``: a row whose top class misses its
        threshold falls back to that same top class, so every row gets its argmax. Multi-label
        ``at_least_one`` with a single label: a row with no label passing gets its top label,
        the only one, so every row gets it. Every other rule and option of SPEC §3 moves
        decisions with the thresholds (binary and multi-label ``threshold``: each class on its
        own; ``abstain``: rows below their threshold get none; ``threshold_argmax`` with
        ``fallback_argmax``: a less probable class that passes wins over a top class that misses).
        """
        if self.task == "multiclass":
            return self.rule == "argmax" and self.no_prediction == "fallback_argmax"
        return self.no_prediction == "at_least_one" and n_classes == 1


def decide(probabilities: np.ndarray, thresholds: np.ndarray, rule: DecisionRule) -> np.ndarray:
    """Decisions for every row.

    Parameters
    ----------
    probabilities : ndarray, shape (n, K)
    thresholds : ndarray, shape (K,)
    rule : DecisionRule

    Returns
    -------
    ndarray
        Multi-class: int64 shape (n,), the predicted class id or ``NO_PREDICTION`` (-1).
        Binary and multi-label: bool shape (n, K), True where the class is predicted.
    """
    # No float64 copy of float32 probabilities: numpy compares float32 with float64 thresholds
    # exactly (it promotes each value, losslessly), and their argmax picks the same class.
    p = np.asarray(probabilities)
    t = np.asarray(thresholds, dtype=np.float64).reshape(1, -1)
    passing = p >= t
    if rule.task != "multiclass":
        if rule.no_prediction == "at_least_one":
            empty = ~passing.any(axis=1)
            # np.argmax breaks ties towards the lowest class index, as documented.
            top = np.argmax(p, axis=1)
            passing[np.flatnonzero(empty), top[empty]] = True
        return passing

    top = np.argmax(p, axis=1)
    rows = np.arange(p.shape[0])
    if rule.rule == "argmax":
        chosen = np.where(passing[rows, top], top, NO_PREDICTION)
    else:  # threshold_argmax: the most probable class among those passing their threshold
        masked = np.where(passing, p, -np.inf)
        best = np.argmax(masked, axis=1)
        chosen = np.where(passing.any(axis=1), best, NO_PREDICTION)
    if rule.no_prediction == "fallback_argmax":
        chosen = np.where(chosen == NO_PREDICTION, top, chosen)
    return chosen.astype(np.int64)


def decisions_frame(predictions, decisions: np.ndarray):
    """Per-row decisions as a table, in input order (what ``thresholdlab apply`` writes).

    First column: the file's id column when it has one, else ``row`` counting from 0. Then a
    ``prediction`` column of class names (empty for no prediction) for multi-class data, or one
    0/1 column ``pred_<class>`` per class for binary and multi-label data.
    """
    import pandas as pd

    id_name = (predictions.columns or {}).get("id")
    if predictions.ids is not None and id_name:
        out = pd.DataFrame({id_name: predictions.ids})
    else:
        out = pd.DataFrame({"row": np.arange(predictions.n_rows)})
    if decisions.ndim == 1:
        names = np.array([*predictions.classes, ""], dtype=object)
        out["prediction"] = names[np.where(decisions == NO_PREDICTION, len(predictions.classes), decisions)]
    else:
        for c, name in enumerate(predictions.classes):
            out[f"pred_{name}"] = decisions[:, c].astype(np.int8)
    return out
