"""The threshold config of a cost matrix rule (its own module: :mod:`thresholdlab.config` reads
and writes the ``cost_matrix`` section through :mod:`thresholdlab.costs`, so ``costs`` cannot
import ``config`` back)."""

from __future__ import annotations

from thresholdlab.config import ThresholdConfig
from thresholdlab.costs import COST_MATRIX_RULE, CostMatrix
from thresholdlab.predictions import PredictionSet


def cost_matrix_config(predictions: PredictionSet, matrix: CostMatrix, *, calibration=None,
                       metrics=None) -> ThresholdConfig:
    """The threshold config whose rule is ``matrix`` (thresholds 0: they play no part)."""
    if metrics is not None and hasattr(metrics, "to_dict"):
        metrics = metrics.to_dict()
    return ThresholdConfig(
        task=predictions.task, classes=tuple(predictions.classes),
        score_kind=predictions.score_kind, activation=predictions.activation,
        decision_rule=COST_MATRIX_RULE,
        no_prediction="none" if matrix.abstain_cost is None else "abstain",
        thresholds=dict.fromkeys(predictions.classes, 0.0), objective="cost_matrix",
        metrics=metrics or {}, calibration=calibration, cost_matrix=matrix,
        data={"file": str(predictions.file), "sha256": str(predictions.sha256),
              "rows": predictions.n_rows},
    )
