"""Exact threshold optimisation over every distinct candidate score.

Each class's curve (``CurveIndex.curve``) already holds TP and FP at every distinct candidate
score, so an objective is evaluated at all of them at once and the best is picked; no grid.

Ties between equally good thresholds go to the highest one (fewest predicted rows). Constrained
objectives break ties on their other rate first: ``precision>=X`` takes the highest recall, then
the highest precision; ``recall>=X`` the highest precision, then the highest recall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from thresholdlab.curves import CurveIndex
from thresholdlab.predictions import logit, sigmoid



@dataclass(frozen=True)
class ObjectiveKind:
    """How people meet one kind of objective: what it is called, what it does, how it is typed.

    ``name`` labels a button or a message ("Best F1"; constrained kinds end before the target:
    "Best recall at precision ≥"), ``description`` is one sentence of help, ``syntax`` is how
    the command line and configs spell it (``B``, ``CFP``, ``X`` stand for its numbers), and
    ``value_name`` is the metric the optimum's :attr:`Optimum.value` is, named as the tables
    and the JSON name it (for constrained kinds, the rate maximised under the target).
    """

    kind: str
    name: str
    description: str
    syntax: str
    value_name: str


OBJECTIVE_KINDS: dict[str, ObjectiveKind] = {k.kind: k for k in (
    ObjectiveKind("f1", "Best F1", "F1, the harmonic mean of precision and recall.", "f1",
                  value_name="F1"),
    ObjectiveKind("fbeta", "Best F-β", "F-β: recall weighs β times as much as precision.",
                  "fbeta:B", value_name="F-β"),
    ObjectiveKind("youden", "Best Youden J",
                  "Youden's J: recall minus the false-positive rate.", "youden",
                  value_name="Youden J (TPR − FPR)"),
    ObjectiveKind("cost", "Lowest cost", "The lowest total cost of the errors: each false "
                  "positive and each false negative at its own cost.", "cost:CFP:CFN",
                  value_name="total cost"),
    ObjectiveKind("precision>=", "Best recall at precision ≥",
                  "The highest recall among the thresholds whose precision reaches the target.",
                  "precision>=X", value_name="recall"),
    ObjectiveKind("recall>=", "Best precision at recall ≥",
                  "The highest precision among the thresholds whose recall reaches the target.",
                  "recall>=X", value_name="precision"),
)}
"""Every kind of objective, in the order they are offered."""

OBJECTIVES_HELP = ", ".join(k.syntax for k in list(OBJECTIVE_KINDS.values())[:-1]) + (
    f" or {list(OBJECTIVE_KINDS.values())[-1].syntax}"
)
"""The objectives as typed: "f1, fbeta:B, ..., precision>=X or recall>=X"."""


@dataclass(frozen=True)
class Objective:
    """What "best" means. Build with :meth:`parse` from the text users type."""

    kind: str  # "f1" | "fbeta" | "youden" | "cost" | "precision>=" | "recall>="
    beta: float = 1.0
    cost_fp: float = 1.0
    cost_fn: float = 1.0
    target: float | None = None

    @classmethod
    def parse(cls, text: str) -> "Objective":
        t = str(text).strip().lower().replace(" ", "")
        number = r"([0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)"
        if t == "f1":
            return cls("f1")
        if t == "youden":
            return cls("youden")
        if m := re.fullmatch(rf"fbeta:{number}", t):
            beta = float(m.group(1))
            if beta <= 0:
                raise ValueError(f"objective {text!r}: beta must be above 0.")
            return cls("fbeta", beta=beta)
        if m := re.fullmatch(rf"cost:{number}:{number}", t):
            return cls("cost", cost_fp=float(m.group(1)), cost_fn=float(m.group(2)))
        if m := re.fullmatch(rf"(precision|recall)>={number}", t):
            target = float(m.group(2))
            if not 0 <= target <= 1:
                raise ValueError(f"objective {text!r}: the target must lie between 0 and 1.")
            return cls(f"{m.group(1)}>=", target=target)
        raise ValueError(f"unknown objective {text!r}; use one of {OBJECTIVES_HELP}.")

    @property
    def text(self) -> str:
        """Canonical spelling, as written into configs."""
        if self.kind == "fbeta":
            return f"fbeta:{_number(self.beta)}"
        if self.kind == "cost":
            return f"cost:{_number(self.cost_fp)}:{_number(self.cost_fn)}"
        if self.target is not None:
            return f"{self.kind}{_number(self.target)}"
        return self.kind

    @classmethod
    def of(cls, kind: str, *, beta: float = 1.0, cost_fp: float = 1.0, cost_fn: float = 1.0,
           target: float | None = None) -> "Objective":
        """The objective of ``kind`` (a key of :data:`OBJECTIVE_KINDS`) with these numbers,
        checked as :meth:`parse` checks them; numbers a kind does not use are left out."""
        if kind not in OBJECTIVE_KINDS:
            raise ValueError(f"unknown objective kind {kind!r}; use one of {OBJECTIVES_HELP}.")
        numbers = {
            "fbeta": {"beta": beta}, "cost": {"cost_fp": cost_fp, "cost_fn": cost_fn},
            "precision>=": {"target": target}, "recall>=": {"target": target},
        }.get(kind, {})
        # Through the text, so that validation and spelling have one source.
        return cls.parse(cls(kind, **numbers).text)

    @property
    def words(self) -> ObjectiveKind:
        """How people meet this kind of objective (name, description, syntax, value name)."""
        return OBJECTIVE_KINDS[self.kind]

    @property
    def name(self) -> str:
        """A label for people: "Best F1", or "Best recall at precision ≥ 0.9" with its target."""
        if self.target is None:
            return self.words.name
        return f"{self.words.name} {self.target:g}"

    @property
    def value_name(self) -> str:
        """The metric :attr:`Optimum.value` is: "F1", "F2" for ``fbeta:2``, "total cost"..."""
        if self.kind == "fbeta":
            return f"F{self.beta:g}"
        return self.words.value_name

    @property
    def constrained(self) -> bool:
        return self.target is not None

    def score(self, tp, fp, positives, negatives) -> np.ndarray:
        """The quantity to maximise, per candidate (cost is negated); float64 arrays.

        For constrained objectives this is the rate to maximise within the feasible set.
        """
        tp = np.asarray(tp, dtype=np.float64)
        fp = np.asarray(fp, dtype=np.float64)
        fn = positives - tp
        if self.kind in ("f1", "fbeta"):
            b2 = self.beta * self.beta
            den = (1 + b2) * tp + fp + b2 * fn
            return np.divide((1 + b2) * tp, den, out=np.zeros_like(tp), where=den > 0)
        if self.kind == "youden":
            tpr = tp / positives if np.all(positives) else _safe(tp, positives)
            fpr = fp / negatives if np.all(negatives) else _safe(fp, negatives)
            return tpr - fpr
        if self.kind == "cost":
            return -(self.cost_fp * fp + self.cost_fn * fn)
        precision = _safe(tp, tp + fp)
        recall = _safe(tp, positives)
        return recall if self.kind == "precision>=" else precision

    def feasible_and_tiebreak(self, tp, fp, positives):
        """(feasible mask, secondary rate) for constrained objectives."""
        tp = np.asarray(tp, dtype=np.float64)
        fp = np.asarray(fp, dtype=np.float64)
        precision = _safe(tp, tp + fp)
        recall = _safe(tp, positives)
        if self.kind == "precision>=":
            return precision >= self.target, precision
        return recall >= self.target, recall


def _safe(num, den) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.broadcast_to(np.asarray(den, dtype=np.float64), num.shape)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _number(x: float) -> str:
    """Short (``5``, ``0.9``, ``1234567``) where that reads back as the same float, else every
    digit: the text goes into configs, and optimising it again must give the same thresholds."""
    short = f"{x:g}"
    if float(short) == x:
        return short
    if float(x).is_integer() and abs(x) < 2**53:
        return str(int(x))
    return repr(float(x))


@dataclass(frozen=True)
class Optimum:
    """Thresholds that optimise an objective.

    thresholds : ndarray (K,), probability space, each the midpoint below the chosen score
    logit_thresholds : ndarray (K,) or None, for sigmoid tasks given logits (the midpoint on logits)
    values : ndarray (K,), the per-class objective at the thresholds (cost is positive here)
    value : float, the macro objective (mean over classes; total cost for ``cost``)
    infeasible : class name -> one sentence, for constrained targets no threshold meets
    exact : True when the rule decides each class on its own threshold (binary, multi-label
        without ``at_least_one``, multi-class ``argmax`` with abstention), so the optimum is
        exact; under the other rules the classes' decisions interact and each class was
        optimised on its own curve: a good start, not the joint optimum
    """

    objective: Objective
    mode: str
    thresholds: np.ndarray
    logit_thresholds: np.ndarray | None
    values: np.ndarray
    value: float
    infeasible: dict = field(default_factory=dict)
    exact: bool = True


def _best(primary: np.ndarray, secondary: np.ndarray | None = None, feasible=None) -> int:
    """First (highest-threshold) candidate maximising ``primary`` within ``feasible``, ties
    broken by ``secondary``."""
    p = primary if feasible is None else np.where(feasible, primary, -np.inf)
    best = np.flatnonzero(p == p.max())
    if secondary is None:
        return int(best[0])
    s = secondary[best]
    return int(best[np.flatnonzero(s == s.max())[0]])


def _pick(objective: Objective, tp, fp, positives, negatives) -> tuple[int, bool]:
    """Index of the best candidate (candidates ordered from highest threshold), and whether
    it meets the objective's target."""
    primary = objective.score(tp, fp, positives, negatives)
    if not objective.constrained:
        return _best(primary), True
    feasible, secondary = objective.feasible_and_tiebreak(tp, fp, positives)
    if feasible.any():
        return _best(primary, secondary, feasible), True
    # Closest to feasible: best on the constrained rate itself, then on the other one.
    return _best(secondary, primary), False


def optimise(index: CurveIndex, objective: Objective | str, *, mode: str = "per_class") -> Optimum:
    """Best thresholds for ``objective``, exactly, over every distinct candidate score.

    Parameters
    ----------
    index : CurveIndex
    objective : Objective or str (see :meth:`Objective.parse`)
    mode : "per_class" (each class on its own) or "global" (one threshold for every class,
        maximising the macro objective)
    """
    objective, _, chosen, lower, missed, missed_globally = _choose(index, objective, mode)
    thresholds, logit_thresholds = _midpoints(index, chosen, lower, mode)
    infeasible = _missed_sentences(index, objective, missed, missed_globally, thresholds)
    return _optimum(index, objective, mode, thresholds, logit_thresholds, infeasible)


def _optimum(index, objective: Objective, mode: str, thresholds, logit_thresholds, infeasible) -> Optimum:
    """The :class:`Optimum` at the chosen ``thresholds``, scored on the index's own counts."""
    positives = index.positives.astype(np.float64)
    negatives = index.n_rows - positives
    counts = index.counts_at(thresholds)
    values = objective.score(counts.tp, counts.fp, positives, negatives)
    if objective.kind == "cost":
        values = -values
    value = float(values.sum() if objective.kind == "cost" else values.mean())
    return Optimum(objective, mode, thresholds, logit_thresholds, values, value, infeasible,
                   exact=index.rule.per_class)


def _choose(index, objective: Objective | str, mode: str):
    """The best candidate of each class (or the best single one), from the index's curves.

    Returns the parsed objective, the curves, ``chosen`` and ``lower`` (float64 (K,): the
    chosen candidate and the next lower one, -inf where there is none, +inf for "predict
    nothing"), ``missed`` (class index -> (tp, fp) at the closest candidate, per class, where
    the target cannot be met) and ``missed_globally`` ((macro precision, macro recall) at the
    closest single threshold, or None). Shared by exact mode and sketches, which differ only in
    where the threshold goes.
    """
    if isinstance(objective, str):
        objective = Objective.parse(objective)
    if mode not in ("per_class", "global"):
        raise ValueError(f"unknown mode {mode!r}; use 'per_class' or 'global'")
    k = len(index.classes)
    positives = index.positives.astype(np.float64)
    negatives = index.n_rows - positives
    curves = [index.curve(c) for c in range(k)]
    missed: dict[int, tuple[float, float]] = {}  # class -> (tp, fp) at the closest candidate
    missed_globally = None  # (macro precision, macro recall) at the closest single threshold

    if mode == "per_class":
        chosen = np.empty(k)
        lower = np.empty(k)
        for c, curve in enumerate(curves):
            candidates, tp, fp = _with_predict_nothing(curve.thresholds, curve.tp, curve.fp)
            i, ok = _pick(objective, tp, fp, positives[c], negatives[c])
            if not ok:
                missed[c] = (tp[i], fp[i])
            chosen[c] = candidates[i]
            lower[c] = candidates[i + 1] if i + 1 < len(candidates) else -np.inf
    else:
        union = np.unique(np.concatenate([cv.thresholds for cv in curves]))[::-1]
        tp_all = np.empty((k, len(union)))
        fp_all = np.empty((k, len(union)))
        for c, curve in enumerate(curves):
            tp_all[c], fp_all[c] = _counts_at(curve, union)
        candidates, tp_all, fp_all = _with_predict_nothing(union, tp_all, fp_all)
        i, ok = _pick_global(objective, tp_all, fp_all, positives, negatives)
        if not ok:
            _, (recall, precision) = _macro_rates(
                Objective("precision>=", target=0.0), tp_all[:, i : i + 1], fp_all[:, i : i + 1],
                positives,
            )
            missed_globally = (precision[0], recall[0])
        chosen = np.full(k, candidates[i])
        lower = np.full(k, candidates[i + 1] if i + 1 < len(candidates) else -np.inf)
    return objective, curves, chosen, lower, missed, missed_globally


def _missed_sentences(index, objective: Objective, missed: dict, missed_globally,
                      thresholds) -> dict[str, str]:
    """Class name -> why its target is not met at its threshold: for the classes ``missed``,
    or for every class when the single threshold of global mode misses (``missed_globally``,
    as :func:`_choose` returns them)."""
    if missed_globally is not None:
        precision, recall = missed_globally
        rate = "precision" if objective.kind == "precision>=" else "recall"
        sentence = (
            f"No single threshold gives macro {rate} >= {objective.target:g}; the closest, "
            f"used instead, is the threshold {_number(float(thresholds[0]))}, where macro "
            f"precision is {precision:.4g} and macro recall {recall:.4g}."
        )
        return {name: sentence for name in index.classes}
    positives = index.positives.astype(np.float64)
    return {
        index.classes[c]: _infeasible_sentence(
            objective, index.classes[c], tp_c, fp_c, positives[c], thresholds[c]
        )
        for c, (tp_c, fp_c) in missed.items()
    }


def _with_predict_nothing(thresholds, tp, fp):
    """Prepend the "predict nothing" candidate (a threshold above every score).

    Kept as +inf here and turned into a threshold just above the top score by ``_midpoints``.
    A top score of exactly 1 leaves no probability threshold above it, so then there is none.
    """
    if len(thresholds) and thresholds[0] >= 1.0:
        return thresholds, tp, fp
    tp = np.asarray(tp)
    fp = np.asarray(fp)
    zeros = np.zeros(tp.shape[:-1] + (1,), dtype=tp.dtype)
    return (
        np.concatenate(([np.inf], thresholds)),
        np.concatenate((zeros, tp), axis=-1),
        np.concatenate((zeros, fp), axis=-1),
    )


def _counts_at(curve, thresholds_desc: np.ndarray):
    """TP and FP of one class at arbitrary thresholds: those of its lowest distinct score >= t."""
    ascending = curve.thresholds[::-1]
    above = len(ascending) - np.searchsorted(ascending, thresholds_desc, side="left")
    tp = np.where(above > 0, curve.tp[np.maximum(above - 1, 0)], 0) if len(ascending) else np.zeros(len(thresholds_desc))
    fp = np.where(above > 0, curve.fp[np.maximum(above - 1, 0)], 0) if len(ascending) else np.zeros(len(thresholds_desc))
    return tp, fp


def _macro_rates(objective: Objective, tp, fp, positives):
    precision = _safe(tp, tp + fp).mean(axis=0)
    recall = _safe(tp, positives[:, None] * np.ones_like(tp)).mean(axis=0)
    if objective.kind == "precision>=":
        return precision >= objective.target, (recall, precision)
    return recall >= objective.target, (precision, recall)


def _pick_global(objective: Objective, tp, fp, positives, negatives) -> tuple[int, bool]:
    """Best single threshold for the macro objective; tp, fp have shape (K, candidates)."""
    if not objective.constrained:
        per_class = objective.score(tp, fp, positives[:, None], negatives[:, None])
        total = per_class.sum(axis=0) if objective.kind == "cost" else per_class.mean(axis=0)
        return _best(total), True
    feasible, (primary, secondary) = _macro_rates(objective, tp, fp, positives)
    if feasible.any():
        return _best(primary, secondary, feasible), True
    return _best(secondary, primary), False


def _infeasible_sentence(objective: Objective, name: str, tp, fp, positives, threshold) -> str:
    rate = "precision" if objective.kind == "precision>=" else "recall"
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / positives if positives else 0.0
    return (
        f"No threshold gives {rate} >= {objective.target:g} for {name}; the closest, used "
        f"instead, is the threshold {_number(float(threshold))}, where precision is "
        f"{precision:.4g} and recall {recall:.4g}."
    )


def _midpoints(index: CurveIndex, chosen: np.ndarray, lower: np.ndarray, mode: str):
    """Thresholds halfway between each chosen score and the next lower candidate score.

    The midpoint keeps the optimum on this data with the widest margin either side. It is taken
    where the file's scores live: on logits for sigmoid tasks given logits (the probability
    threshold is the sigmoid of it), on probabilities otherwise. Below the lowest candidate
    the other end is 0 (or one logit unit lower); above the top one ("predict nothing") it is 1
    (or one logit unit higher).
    """
    predictions = index.predictions
    k = len(chosen)
    on_logits = predictions.activation == "sigmoid"
    thresholds = np.empty(k)
    logit_thresholds = np.empty(k) if on_logits else None
    for c in range(k):
        v, w = chosen[c], lower[c]
        if mode == "global":
            prob, raw = predictions.probabilities, predictions.scores
        else:
            prob, raw = predictions.probabilities[:, c], predictions.scores[:, c]
        if on_logits:
            hi = np.inf if np.isinf(v) else raw[prob == v].min()
            lo = -np.inf if np.isinf(w) else raw[prob == w].max()
            if np.isinf(hi):
                mid_logit = lo + 1.0
            elif np.isinf(lo):
                mid_logit = hi - 1.0
            else:
                mid_logit = (hi + lo) / 2
            # Short on the logits, where the file's scores live; its sigmoid is the probability
            # threshold, and it must still split the same two probabilities.
            short = _shortest(
                mid_logit,
                lambda x: lo < x < hi and _separates(float(sigmoid(np.array([x]))[0]), v, w),
            )
            t = float(sigmoid(np.array([short]))[0])
            if _separates(t, v, w):
                thresholds[c], logit_thresholds[c] = t, short
                continue
        top = 1.0 if np.isinf(v) else v
        bottom = 0.0 if np.isinf(w) else w
        t = fewest_decimals((top + bottom) / 2, bottom, top)
        if not _separates(t, v, w):
            # Adjacent floats (or a top score of exactly 1): the chosen score itself still
            # reproduces the optimum, with no margin.
            t = v if np.isfinite(v) else np.nextafter(top, np.inf)
        thresholds[c] = t
        if on_logits:
            logit_thresholds[c] = logit(t)
    return thresholds, logit_thresholds


def fewest_decimals(x: float, lower: float, upper: float) -> float:
    """``x`` rounded to the fewest decimals that keep it strictly between ``lower`` and ``upper``.

    A midpoint between two neighbouring distinct scores makes the same decisions as any number
    strictly between them, so it is written short (``0.3822``, not ``0.38220200000000004``):
    users read, type and paste it, and the decisions stay exactly those of the midpoint. ``x``
    itself when no rounding lies strictly between (adjacent floats) or ``x`` lies outside.
    """
    return _shortest(float(x), lambda r: lower < r < upper)


def _shortest(x: float, keeps) -> float:
    """``round(x, d)`` for the smallest ``d >= 0`` such that ``keeps(round(x, d))``; else ``x``.

    ``round`` rounds the float's exact value correctly, and 17 significant digits always
    give ``x`` back, so the search ends at ``x`` itself. (numpy's ``round`` scales by 10**d
    first and can round the other way, so ``x`` is made a Python float.)
    """
    x = float(x)
    if not np.isfinite(x) or not keeps(x):
        return x
    digits = 17 - min(0, int(np.floor(np.log10(abs(x))))) if x else 0
    for d in range(digits + 1):
        r = round(x, d)
        if keeps(r):
            return float(r)
    return x


def _separates(t: float, chosen: float, lower: float) -> bool:
    """True when ``p >= t`` holds for the chosen score and fails for the next lower one."""
    return lower < t <= chosen
