"""What errors cost: per-class costs with their Bayes thresholds, and a K x K cost matrix rule.

Per class
    A false positive of class c costs ``fp`` and a false negative ``fn``. The exact optimum
    minimises ``fp * FP + fn * FN`` over every distinct score (as ``optimise`` does for
    ``cost:CFP:CFN``), class by class with each class's own costs. Beside it stands the Bayes
    threshold ``fp / (fp + fn)``: the threshold a calibrated model would use. The further the
    two lie apart, the less the model's probabilities mean what they say.

A cost matrix (multi-class)
    ``C[i, j]`` is the cost of predicting class j when the truth is class i (zero diagonal by
    default), and ``abstain_cost``, optional, the cost of making no prediction. The Bayes
    decision predicts the class of least expected cost, ``argmin_j sum_i p_i C[i, j]``, and
    abstains when abstaining costs less than that. Expected costs are summed over i in class
    order, one multiply and one add at a time, so ``ThresholdHead`` repeats them bit for bit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thresholdlab.curves import CurveIndex, counts_from_decisions
from thresholdlab.decisions import NO_PREDICTION
from thresholdlab.predictions import DataError, PredictionSet, SectionError

__all__ = [
    "COST_MATRIX_RULE", "ClassCost", "CostMatrix", "CostOptimum", "optimise_costs",
    "parse_costs", "pos_weight_cost", "pos_weight_sentence",
]

COST_MATRIX_RULE = "cost_matrix"
COST_MATRIX_VERSION = 1
COSTS_VERSION = 1

_NUMBER = r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"


# ------------------------------------------------------------------------------ per class
@dataclass(frozen=True)
class ClassCost:
    """The cost of one false positive (``fp``) and one false negative (``fn``) of a class."""

    fp: float = 1.0
    fn: float = 1.0

    def __post_init__(self):
        for name in ("fp", "fn"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"a cost must be a finite number of at least 0, got {v!r}")
        if self.fp + self.fn <= 0:
            raise ValueError("at least one of the two costs must be above 0")

    @property
    def bayes_threshold(self) -> float:
        """``fp / (fp + fn)``: predict when the expected cost of a miss exceeds a false alarm's."""
        return self.fp / (self.fp + self.fn)

    @property
    def text(self) -> str:
        return f"{_short(self.fp)}:{_short(self.fn)}"


def _short(x: float) -> str:
    s = f"{x:g}"
    return s if float(s) == x else repr(float(x))


def parse_costs(specs, classes) -> dict[str, ClassCost]:
    """Costs per class from ``CLASS=CFP:CFN`` texts and an optional default ``CFP:CFN``.

    Classes not named get the default (1:1 when none is given). Raises ValueError, one sentence,
    for a malformed text or a class that does not exist.
    """
    classes = tuple(classes)
    default = ClassCost()
    named: dict[str, ClassCost] = {}
    for spec in specs or ():
        text = str(spec).strip()
        m = re.fullmatch(rf"(?:(.+)=)?\s*({_NUMBER})\s*:\s*({_NUMBER})", text)
        if not m:
            raise ValueError(
                f"--cost {text!r} is not CLASS=CFP:CFN or CFP:CFN (for example 'fraud=1:20')."
            )
        cost = ClassCost(float(m.group(2)), float(m.group(3)))
        if m.group(1) is None:
            default = cost
            continue
        name = m.group(1).strip()
        if name not in classes:
            raise ValueError(
                f"--cost names class {name!r}, which is not in the data; classes: "
                f"{', '.join(classes[:10])}{' ...' if len(classes) > 10 else ''}."
            )
        named[name] = cost
    return {c: named.get(c, default) for c in classes}


def pos_weight_cost(pos_weight: float) -> ClassCost:
    """The cost ratio a training ``pos_weight`` implies: a missed positive weighs ``pos_weight``
    false positives."""
    if not (math.isfinite(pos_weight) and pos_weight > 0):
        raise ValueError(f"pos_weight must be a number above 0, got {pos_weight!r}")
    return ClassCost(1.0, float(pos_weight))


def pos_weight_sentence(name: str, pos_weight: float) -> str:
    """One sentence: what a training ``pos_weight`` means for the threshold of class ``name``."""
    w = float(pos_weight)
    return (
        f"Training {name!r} with pos_weight {w:g} weighs a missed positive like {w:g} false "
        f"alarms (costs 1:{w:g}, Bayes threshold {1 / (1 + w):.3g}), and the model already "
        f"leans that way: its 0.5 acts like {1 / (1 + w):.3g} on calibrated probabilities, so "
        f"for equal costs cut its scores at {w / (1 + w):.3g} instead, and for costs 1:{w:g} "
        "keep 0.5."
    )


@dataclass(frozen=True)
class CostOptimum:
    """Per-class minimum-cost thresholds beside the Bayes thresholds.

    Attributes
    ----------
    classes : tuple of str
    cost_fp, cost_fn : ndarray (K,)
    thresholds : ndarray (K,)
        Exact minimum of ``cost_fp * FP + cost_fn * FN`` per class (midpoints, as ``optimise``).
    cost : ndarray (K,)
        Total cost at ``thresholds``.
    bayes : ndarray (K,)
        ``cost_fp / (cost_fp + cost_fn)``.
    cost_at_bayes : ndarray (K,)
        Total cost when cutting at the Bayes thresholds instead.
    n_rows : int
    """

    classes: tuple
    cost_fp: np.ndarray
    cost_fn: np.ndarray
    thresholds: np.ndarray
    logit_thresholds: np.ndarray | None
    cost: np.ndarray
    bayes: np.ndarray
    cost_at_bayes: np.ndarray
    n_rows: int


def optimise_costs(index: CurveIndex, costs: Mapping[str, ClassCost]) -> CostOptimum:
    """Each class's exact minimum-cost threshold under its own costs, and the Bayes threshold.

    Exact for the rules whose per-class decisions depend on that class's threshold alone (as
    :func:`thresholdlab.optimise`); on a sketch's index, at bin edges.
    """
    from thresholdlab.optimise import Objective, optimise as optimise_rows
    from thresholdlab.sketch_index import optimise as optimise_binned

    optimise = optimise_binned if getattr(index, "binned", False) else optimise_rows

    classes = tuple(index.classes)
    fp = np.array([costs[c].fp for c in classes], dtype=np.float64)
    fn = np.array([costs[c].fn for c in classes], dtype=np.float64)
    thresholds = np.empty(len(classes))
    logits = None
    # One optimisation per distinct cost pair (curves are cached by the index).
    for pair in dict.fromkeys(zip(fp.tolist(), fn.tolist())):
        best = optimise(index, Objective("cost", cost_fp=pair[0], cost_fn=pair[1]))
        mine = (fp == pair[0]) & (fn == pair[1])
        thresholds[mine] = best.thresholds[mine]
        if best.logit_thresholds is not None:
            logits = np.empty(len(classes)) if logits is None else logits
            logits[mine] = best.logit_thresholds[mine]
    counts = index.counts_at(thresholds)
    bayes = fp / (fp + fn)
    at_bayes = index.counts_at(bayes)
    return CostOptimum(
        classes, fp, fn, thresholds, logits, fp * counts.fp + fn * counts.fn, bayes,
        fp * at_bayes.fp + fn * at_bayes.fn, index.n_rows,
    )


def costs_section(costs: Mapping[str, ClassCost]) -> dict:
    """The config's ``costs`` section."""
    return {
        "version": COSTS_VERSION,
        "per_class": {c: {"fp": v.fp, "fn": v.fn} for c, v in costs.items()},
    }


def read_costs_section(doc, classes) -> dict[str, ClassCost]:
    """``{class: ClassCost}`` from a config's ``costs`` section; SectionError when invalid."""
    if not isinstance(doc, Mapping) or doc.get("version") != COSTS_VERSION:
        raise SectionError(
            f"costs must be an object with version {COSTS_VERSION} and per_class costs"
        )
    per_class = doc.get("per_class")
    if not isinstance(per_class, Mapping) or set(per_class) != set(classes):
        raise SectionError("costs.per_class must give every class its {\"fp\", \"fn\"} costs")
    out = {}
    for c in classes:
        entry = per_class[c]
        try:
            out[c] = ClassCost(float(entry["fp"]), float(entry["fn"]))
        except (KeyError, TypeError, ValueError) as e:
            raise SectionError(f"costs.per_class.{c}: {e}") from None
    return out


# ---------------------------------------------------------------------------- cost matrix
@dataclass(frozen=True, eq=False)
class CostMatrix:
    """Cost of predicting class j when the truth is class i, and of abstaining.

    Attributes
    ----------
    classes : tuple of str, length K
    matrix : ndarray of float64 (K, K)
        ``matrix[i, j]``: truth i, prediction j. Finite, at least 0.
    abstain_cost : float or None
        The cost of no prediction; None never abstains.
    """

    classes: tuple[str, ...]
    matrix: np.ndarray
    abstain_cost: float | None = None

    def __post_init__(self):
        m = np.array(self.matrix, dtype=np.float64)
        k = len(self.classes)
        if m.shape != (k, k):
            raise SectionError(f"the cost matrix must be {k} x {k}, one row and column per class, got {m.shape}")
        if not np.isfinite(m).all() or (m < 0).any():
            i, j = np.argwhere(~np.isfinite(m) | (m < 0))[0]
            raise SectionError(
                f"the cost of predicting {self.classes[j]!r} when the truth is "
                f"{self.classes[i]!r} must be a finite number of at least 0, got {m[i, j]!r}"
            )
        object.__setattr__(self, "matrix", m)
        object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        a = self.abstain_cost
        if a is not None:
            if isinstance(a, bool) or not isinstance(a, (int, float)) or not math.isfinite(a) or a < 0:
                raise SectionError(f"the cost of abstaining must be a number of at least 0, got {a!r}")
            object.__setattr__(self, "abstain_cost", float(a))

    @classmethod
    def zero_one(cls, classes, abstain_cost: float | None = None) -> CostMatrix:
        """1 for every mistake, 0 on the diagonal: the rule is then the plain argmax."""
        k = len(classes)
        return cls(tuple(classes), np.ones((k, k)) - np.eye(k), abstain_cost)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def expected_costs(self, probabilities: np.ndarray) -> np.ndarray:
        """float64 (n, K): the expected cost of predicting each class, ``P @ C`` summed over the
        true class in order (``ThresholdHead`` repeats this order)."""
        p = np.asarray(probabilities, dtype=np.float64)
        out = p[:, 0:1] * self.matrix[0][None, :]
        for i in range(1, self.n_classes):
            out = out + p[:, i : i + 1] * self.matrix[i][None, :]
        return out

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """int64 (n,): the class of least expected cost (ties to the lowest index), or -1 where
        abstaining costs strictly less."""
        expected = self.expected_costs(probabilities)
        best = np.argmin(expected, axis=1)
        if self.abstain_cost is None:
            return best.astype(np.int64)
        least = expected[np.arange(len(best)), best]
        return np.where(self.abstain_cost < least, NO_PREDICTION, best).astype(np.int64)

    # ----------------------------------------------------------------------------- I/O
    def to_dict(self) -> dict:
        """The config's ``cost_matrix`` section."""
        return {
            "version": COST_MATRIX_VERSION,
            "costs": {
                truth: dict(zip(self.classes, self.matrix[i].tolist()))
                for i, truth in enumerate(self.classes)
            },
            "abstain_cost": self.abstain_cost,
        }

    @classmethod
    def from_dict(cls, doc, classes) -> CostMatrix:
        classes = tuple(classes)
        if not isinstance(doc, Mapping) or doc.get("version") != COST_MATRIX_VERSION:
            raise SectionError(
                f"cost_matrix must be an object with version {COST_MATRIX_VERSION}, costs and "
                "abstain_cost"
            )
        costs = doc.get("costs")
        if not isinstance(costs, Mapping) or set(costs) != set(classes):
            raise SectionError(
                "cost_matrix.costs must have one row per true class, each mapping every "
                "predicted class to its cost"
            )
        rows = []
        for truth in classes:
            row = costs[truth]
            if not isinstance(row, Mapping) or set(row) != set(classes):
                raise SectionError(f"cost_matrix.costs.{truth} must map every class to a cost")
            for j in classes:
                v = row[j]
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise SectionError(f"cost_matrix.costs.{truth}.{j} must be a number, got {v!r}")
            rows.append([float(row[j]) for j in classes])
        return cls(classes, np.array(rows), doc.get("abstain_cost"))

    @classmethod
    def read_csv(cls, path, classes, abstain_cost: float | None = None) -> CostMatrix:
        """A cost matrix from CSV: a header of predicted class names, one row per true class
        whose first cell names it. A column named ``abstain`` (one value, the same on every
        row) gives the cost of abstaining."""
        import pandas as pd

        name = Path(path).name
        classes = tuple(classes)
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, ValueError, pd.errors.ParserError) as e:
            raise DataError(f"Cost matrix {name!r} cannot be read: {e}.") from None
        if frame.shape[1] < 2:
            raise DataError(
                f"Cost matrix {name!r} needs a header of class names and one row per true class."
            )
        truth_col = frame.columns[0]
        columns = [str(c).strip() for c in frame.columns[1:]]
        abstain = None
        if "abstain" in columns:
            values = set(frame[frame.columns[1 + columns.index("abstain")]].str.strip())
            if len(values) != 1:
                raise DataError(
                    f"Cost matrix {name!r}, column 'abstain': give one cost of abstaining, the "
                    "same on every row."
                )
            abstain = _cell(values.pop(), name, "abstain", 1)
        predicted = [c for c in columns if c != "abstain"]
        rows_named = [str(v).strip() for v in frame[truth_col]]
        for what, got in (("columns", predicted), ("rows", rows_named)):
            if sorted(got) != sorted(classes):
                missing = [c for c in classes if c not in got]
                extra = [c for c in got if c not in classes]
                raise DataError(
                    f"Cost matrix {name!r}: its {what} must name each class once"
                    + (f"; missing {', '.join(map(repr, missing))}" if missing else "")
                    + (f"; not a class: {', '.join(map(repr, extra))}" if extra else "")
                    + "."
                )
        matrix = np.empty((len(classes), len(classes)))
        for r, truth in enumerate(rows_named):
            i = classes.index(truth)
            for col, pred in zip(frame.columns[1:], columns):
                if pred == "abstain":
                    continue
                matrix[i, classes.index(pred)] = _cell(frame[col].iloc[r], name, pred, r + 1)
        try:
            return cls(classes, matrix, abstain if abstain_cost is None else abstain_cost)
        except SectionError as e:
            raise DataError(f"Cost matrix {name!r}: {e}.") from None


def _cell(text: str, name: str, column: str, row: int) -> float:
    try:
        return float(str(text).strip())
    except ValueError:
        raise DataError(
            f"Cost matrix {name!r}, column {column!r}, row {row}: {text!r} is not a number."
        ) from None


@dataclass(frozen=True)
class CostMatrixResult:
    """What the cost-matrix rule does on a data set.

    decisions : int64 (n,); confusion : int64 (K, K + 1) (last column: no prediction);
    total_cost, mean_cost : float; report : ``thresholdlab.metrics.Report`` of these decisions.
    """

    decisions: np.ndarray
    confusion: np.ndarray
    total_cost: float
    mean_cost: float
    report: object


def cost_matrix_decisions(predictions: PredictionSet, matrix: CostMatrix) -> np.ndarray:
    """int64 (n,): the rule's decisions as data class ids (-1: no prediction), whatever order
    the matrix lists the classes in."""
    if predictions.task != "multiclass":
        raise DataError("A cost matrix decides multi-class data only.")
    order = [predictions.classes.index(c) for c in matrix.classes]
    decided = matrix.decide(predictions.probabilities[:, order])
    to_data = np.array([*order, NO_PREDICTION], dtype=np.int64)
    return to_data[np.where(decided == NO_PREDICTION, len(order), decided)]


def cost_matrix_result(
    predictions: PredictionSet, matrix: CostMatrix, ranking=None
) -> CostMatrixResult:
    """The cost-matrix rule on ``predictions`` (use calibrated data for calibrated probabilities).

    ``ranking``: the data's AP / ROC AUC when already computed (else ranked here)."""
    from thresholdlab.metrics import Report, aggregates, class_metrics, ranking_metrics
    from thresholdlab.metrics import zero_division_warnings

    decisions = cost_matrix_decisions(predictions, matrix)
    thresholds = np.zeros(predictions.n_classes)
    counts = counts_from_decisions(predictions, decisions, thresholds)
    per_class = class_metrics(counts)
    report = Report(
        tuple(predictions.classes), "multiclass", counts, per_class,
        aggregates(counts, per_class, "multiclass"),
        ranking if ranking is not None else ranking_metrics(CurveIndex.build(predictions)),
        tuple(zero_division_warnings(predictions.classes, counts, per_class)),
    )
    total = decisions_cost(predictions, matrix, decisions)
    n = predictions.n_rows
    return CostMatrixResult(decisions, counts.confusion, total, total / n if n else float("nan"), report)


def confusion_cost(matrix: CostMatrix, classes, confusion: np.ndarray) -> float:
    """Total cost under ``matrix`` of the decisions a confusion matrix counts: int (K, K + 1),
    rows the truth and columns the prediction in ``classes`` order, the last column no
    prediction (costing ``abstain_cost``, 0 when the matrix has none). The counts come from the
    curve index, so no row is read; equal to :func:`decisions_cost` of the same decisions."""
    order = {c: i for i, c in enumerate(matrix.classes)}
    to_cfg = np.array([order[c] for c in classes])
    confusion = np.asarray(confusion)
    k = len(to_cfg)
    made = float((matrix.matrix[np.ix_(to_cfg, to_cfg)] * confusion[:, :k]).sum())
    return made + int(confusion[:, k].sum()) * (matrix.abstain_cost or 0.0)


def decisions_cost(predictions: PredictionSet, matrix: CostMatrix, decisions: np.ndarray) -> float:
    """Total cost under ``matrix`` of any multi-class decisions (data class ids, -1 abstain);
    an abstention costs ``abstain_cost`` (0 when the matrix has none)."""
    order = {c: i for i, c in enumerate(matrix.classes)}
    to_cfg = np.array([order[c] for c in predictions.classes])
    truth = to_cfg[predictions.labels]
    made = decisions != NO_PREDICTION
    total = float(matrix.matrix[truth[made], to_cfg[decisions[made]]].sum())
    return total + int((~made).sum()) * (matrix.abstain_cost or 0.0)


def normalise_cost_rule(config, problem):
    """Check a config's ``cost_matrix`` rule and section together; returns (rule, no_prediction,
    CostMatrix). ``problem(sentence)`` builds the exception to raise."""
    if config.decision_rule != COST_MATRIX_RULE:
        raise problem(
            f"cost_matrix is only allowed with decision_rule 'cost_matrix', got "
            f"{config.decision_rule!r}; remove it or change the rule"
        )
    if config.task != "multiclass":
        raise problem(f"decision_rule 'cost_matrix' applies to multiclass data, not {config.task}")
    value = config.cost_matrix
    if value is None:
        raise problem("decision_rule 'cost_matrix' needs a cost_matrix section")
    try:
        if isinstance(value, CostMatrix):
            if tuple(value.classes) != tuple(config.classes):
                raise SectionError("cost_matrix was made for other classes than this config's")
            matrix = value
        else:
            matrix = CostMatrix.from_dict(value, config.classes)
    except SectionError as e:
        raise problem(str(e)) from None
    expected = "none" if matrix.abstain_cost is None else "abstain"
    if config.no_prediction not in (None, expected):
        raise problem(
            f"no_prediction must be {expected!r} for the cost_matrix rule "
            f"{'without' if expected == 'none' else 'with'} a cost of abstaining, got "
            f"{config.no_prediction!r}"
        )
    return COST_MATRIX_RULE, expected, matrix


def normalise_costs(config, problem) -> dict[str, ClassCost]:
    """A config's ``costs`` (``{class: ClassCost}`` or its JSON section), checked."""
    value = config.costs
    if isinstance(value, Mapping) and all(isinstance(v, ClassCost) for v in value.values()):
        if set(value) != set(config.classes):
            raise problem("costs must give every class of the config its costs")
        return {c: value[c] for c in config.classes}
    try:
        return read_costs_section(value, config.classes)
    except SectionError as e:
        raise problem(str(e)) from None
