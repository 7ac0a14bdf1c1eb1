"""What the Export page hands out and takes back, as pure functions (tests call them directly).

- :func:`config_json`: the threshold config for the current thresholds, with the metrics at them.
- :func:`restore`: a config file's thresholds lined up with the loaded data's classes.
- :func:`decisions_csv`: one row per input row with its decision (what ``thresholdlab apply`` writes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresholdlab.config import ThresholdConfig
from thresholdlab.decisions import DecisionRule, decide, decisions_frame
from thresholdlab.spreadsheet_safety import safe_csv
from thresholdlab.optimise import Objective
from thresholdlab.ui import sketch_rules, state
from thresholdlab.ui.data import Dataset, index_under, report


def file_stem(dataset: Dataset) -> str:
    return dataset.stem or "predictions"


def config_json(
    dataset: Dataset,
    thresholds,
    *,
    objective: str = "manual",
    logit_thresholds=None,
    beta: float = 1.0,
    costs=None,
) -> str:
    """The threshold config users download, metrics at ``thresholds`` included.

    ``logit_thresholds``: the optimiser's midpoints on raw logits (sigmoid tasks given logits);
    None derives them from the probability thresholds.
    """
    thresholds = np.asarray(thresholds, dtype=np.float64)
    metrics = report(dataset, thresholds, beta).to_dict()
    use_logits = dataset.predictions.activation == "sigmoid" and logit_thresholds is not None
    # With calibrated scores in use: the raw data's kind and activation, and the calibration.
    raw = dataset.uncalibrated or dataset
    config = ThresholdConfig.from_choice(
        raw.predictions,
        thresholds,
        dataset.rule,
        objective=objective,
        metrics=metrics,
        logit_thresholds=np.asarray(logit_thresholds, dtype=np.float64) if use_logits else None,
        calibration=dataset.calibration,
        costs=costs,
    )
    return config.to_json() + "\n"


@dataclass(frozen=True)
class Restored:
    """A config's choices, in the data's class order."""

    thresholds: np.ndarray
    rule: DecisionRule
    objective: str
    logit_thresholds: np.ndarray | None
    notes: tuple[str, ...]
    calibration_method: str | None = None


def restore(text: bytes | str, name: str, dataset: Dataset) -> Restored:
    """Read a config and line it up with ``dataset``; raises DataError in one sentence
    (invalid JSON, schema problems, another task, classes that differ: named; on a sketch,
    thresholds whose decisions its bins cannot tell under the config's rule: the core's)."""
    config = ThresholdConfig.from_json(text, source=name)
    config.check_matches(dataset.predictions)
    if config.cost_matrix is not None:
        from thresholdlab.predictions import DataError

        raise DataError(
            f"Config {name!r} decides by a cost matrix; enter its costs on the Calibration page "
            "(the sliders set thresholds)."
        )
    classes = dataset.classes
    notes = []
    data = config.data or {}
    if data.get("sha256") and data["sha256"] != dataset.predictions.sha256:
        made_on = data.get("file")
        if not isinstance(made_on, str) or not made_on or state.has_markup(made_on):
            made_on = "another file"  # a config is anyone's to write: no stranger's links shown
        notes.append(
            f"The config was made on {made_on!r}, not on this data, so the metrics here differ "
            "from those stored in it."
        )
    if config.score_kind != dataset.predictions.score_kind:
        notes.append(
            f"The config expects {config.score_kind}s but this data holds "
            f"{dataset.predictions.score_kind}s; the thresholds apply to probabilities either way."
        )
    thresholds = config.thresholds_for(classes)
    refused = dataset.binned and sketch_rules.refusal(index_under(dataset, config.rule), thresholds)
    if refused:
        from thresholdlab.predictions import DataError

        raise DataError(f"{refused} The thresholds of {name!r} were not restored.")
    logits = None
    if config.logit_thresholds is not None and dataset.predictions.activation == "sigmoid":
        logits = np.array([config.logit_thresholds[c] for c in classes], dtype=np.float64)
    objective = known_objective(config.objective)
    if objective is None:
        objective = "manual"
        notes.append("Its objective is not one ThresholdLab writes, so the thresholds count as "
                     "set by hand.")
    return Restored(
        thresholds=thresholds,
        rule=config.rule,
        objective=objective,
        logit_thresholds=logits,
        notes=tuple(notes),
        calibration_method=None if config.calibration is None else config.calibration.method,
    )


def known_objective(text: str) -> str | None:
    """A config's ``objective`` as the dashboard shows and writes it, when it is one the
    dashboard or the command line writes (by hand, the optimiser's ``f1``, ``fbeta:2``, ...,
    least cost per class, equal recall); None for any other text, which is anyone's to write
    and is never shown."""
    if text in ("manual", "cost:per_class", "equal_recall"):
        return text
    try:
        return Objective.parse(text).text
    except ValueError:
        return None


def decisions_csv(dataset: Dataset, thresholds) -> bytes:
    """Per-row decisions at ``thresholds`` as CSV bytes, in input order; text cells that a
    spreadsheet would run as formulas are neutralised (see ``thresholdlab.spreadsheet_safety``)."""
    p = dataset.predictions
    decisions = decide(p.probabilities, np.asarray(thresholds, dtype=np.float64), dataset.rule)
    return safe_csv(decisions_frame(p, decisions)).encode("utf-8")
