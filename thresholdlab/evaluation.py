"""Held-out evaluation: thresholds chosen on tuning data, reported on evaluation data.

A threshold fitted to one file is fitted to that file's noise too. This module gives the
figures a careful reviewer asks for:

- evaluation data: a second file over the same classes, or a seeded split of one file,
  stratified per class (:func:`stratified_split`), and the report of thresholds chosen on the
  tuning part and measured on the evaluation part, with the drop between them
  (:func:`held_out`);
- bootstrap intervals for every metric at fixed thresholds (:func:`bootstrap_intervals`).
  At fixed thresholds each row falls into one confusion cell, so resampling the rows with
  replacement is the same, in distribution, as drawing the cell counts from a multinomial with
  the observed cell shares: no pass over the rows. Multi-class data resamples the whole
  K x (K + 1) confusion matrix at once (exact for every per-class and aggregate metric); binary
  data its 2 x 2 table; multi-label data each label's 2 x 2 table on its own (exact for each
  label; macro averages over labels would need the labels' joint cells, so they get no interval);
- the optimum's own spread (:func:`optimum_spread`): the optimiser re-run on bootstrap
  resamples of the tuning rows, class by class, from a multinomial over the class's candidate
  scores (exact when the class has at most ``max_bins`` distinct candidate scores, else at the
  edges of that many bins of equal row count);
- the macro-F1 difference of two models with a paired bootstrap when their rows share ids, an
  unpaired one otherwise (:func:`macro_f1_difference`).

Every random draw comes from ``numpy.random.default_rng(seed)``: the same seed gives the same
numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from thresholdlab.curves import CurveIndex
from thresholdlab.decisions import NO_PREDICTION, DecisionRule, decide
from thresholdlab.metrics import Report, evaluate
from thresholdlab.optimise import Objective, Optimum, optimise
from thresholdlab.predictions import DataError, PredictionSet

# Bootstrap intervals and the optimum's spread live in their own modules; their names are
# reachable from here too, as ``thresholdlab.evaluation.bootstrap_intervals``.
from thresholdlab.bootstrap import (  # noqa: F401
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    DEFAULT_SPREAD_RESAMPLES,
    LEVEL,
    PER_CLASS_METRICS,
    BootstrapIntervals,
    _pair,
    bootstrap_intervals,
    cell_draws,
    percentile_interval,
    rates,
)
from thresholdlab.spread import MAX_BINS, OptimumSpread, optimum_spread  # noqa: F401


# ----------------------------------------------------------------------------- evaluation data
def subset(predictions: PredictionSet, rows: np.ndarray, *, file: str | None = None) -> PredictionSet:
    """The rows ``rows`` (int indices, in the order given) of ``predictions`` as a new set."""
    rows = np.asarray(rows, dtype=np.int64)
    return replace(
        predictions,
        scores=predictions.scores[rows],
        probabilities=predictions.probabilities[rows],
        labels=predictions.labels[rows],
        ids=None if predictions.ids is None else np.asarray(predictions.ids)[rows],
        file=predictions.file if file is None else file,
    )


@dataclass(frozen=True, eq=False)
class Split:
    """A seeded split of one file into tuning and evaluation rows.

    Attributes
    ----------
    tuning, evaluation : PredictionSet
        The two parts, rows in file order.
    tuning_rows, evaluation_rows : ndarray of int64
        Row positions (from 0) in the original file.
    share : float
        Share of each stratum's rows sent to evaluation.
    seed : int
    """

    tuning: PredictionSet
    evaluation: PredictionSet
    tuning_rows: np.ndarray
    evaluation_rows: np.ndarray
    share: float
    seed: int

    @property
    def description(self) -> str:
        return (
            f"{len(self.evaluation_rows):,} of {len(self.tuning_rows) + len(self.evaluation_rows):,} "
            f"rows held out for evaluation (share {self.share:g}, seed {self.seed}, "
            "stratified by class)"
        )


def strata(predictions: PredictionSet) -> np.ndarray:
    """Stratum of every row, int64 (n,): its class (multi-class), its label (binary), and for
    multi-label data its rarest label (or "none"), so each sparse label keeps its share in
    both parts."""
    if predictions.task == "multiclass":
        return predictions.labels.astype(np.int64)
    if predictions.task == "binary":
        return predictions.labels[:, 0].astype(np.int64)
    truth = predictions.labels
    k = predictions.n_classes
    rarity = np.argsort(np.argsort(predictions.positives, kind="stable"), kind="stable")
    # Each row's rarest present label: the smallest rarity rank among its labels (k when none).
    ranked = np.where(truth, rarity[None, :], k)
    return ranked.min(axis=1).astype(np.int64) if k else np.zeros(predictions.n_rows, np.int64)


def stratified_split(predictions: PredictionSet, share: float, seed: int = DEFAULT_SEED) -> Split:
    """Hold out ``share`` of the rows of every stratum (see :func:`strata`) for evaluation.

    Raises
    ------
    DataError
        When ``share`` is not strictly between 0 and 1, or either part would be empty.
    """
    share = float(share)
    if not 0.0 < share < 1.0:
        raise DataError(f"The evaluation share must lie strictly between 0 and 1; got {share:g}.")
    rng = np.random.default_rng(seed)
    groups = strata(predictions)
    held: list[np.ndarray] = []
    for g in np.unique(groups):
        rows = np.flatnonzero(groups == g)
        take = int(np.floor(share * len(rows) + 0.5))
        held.append(rng.permutation(rows)[:take])
    mask = np.zeros(predictions.n_rows, dtype=bool)
    if held:
        mask[np.concatenate(held)] = True
    evaluation_rows = np.flatnonzero(mask)
    tuning_rows = np.flatnonzero(~mask)
    if len(evaluation_rows) == 0 or len(tuning_rows) == 0:
        raise DataError(
            f"File '{predictions.file}': a share of {share:g} of its {predictions.n_rows} rows "
            "leaves one part empty; use a share nearer 0.5 or more rows."
        )
    return Split(
        tuning=subset(predictions, tuning_rows, file=f"{predictions.file} (tuning part)"),
        evaluation=subset(predictions, evaluation_rows, file=f"{predictions.file} (evaluation part)"),
        tuning_rows=tuning_rows,
        evaluation_rows=evaluation_rows,
        share=share,
        seed=int(seed),
    )


def matching_classes(tuning: PredictionSet, evaluation: PredictionSet) -> PredictionSet:
    """``evaluation`` with its classes in ``tuning``'s order.

    Raises
    ------
    DataError
        When the task or the set of classes differs, naming the classes that differ.
    """
    if evaluation.task != tuning.task:
        raise DataError(
            f"File '{evaluation.file}' holds {evaluation.task} data but '{tuning.file}' holds "
            f"{tuning.task} data; evaluation data must come from the same kind of model."
        )
    if evaluation.classes == tuning.classes:
        return evaluation
    missing = [c for c in tuning.classes if c not in evaluation.classes]
    extra = [c for c in evaluation.classes if c not in tuning.classes]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"lacks {', '.join(repr(c) for c in missing)}")
        if extra:
            parts.append(f"has {', '.join(repr(c) for c in extra)} in addition")
        raise DataError(
            f"File '{evaluation.file}' {' and '.join(parts)} compared with '{tuning.file}'; "
            "both files must score the same classes."
        )
    order = np.array([evaluation.classes.index(c) for c in tuning.classes])
    if evaluation.task == "multiclass":
        new_id = np.empty(len(order), dtype=np.int64)
        new_id[order] = np.arange(len(order))
        labels = new_id[evaluation.labels]
    else:
        labels = evaluation.labels[:, order]
    return replace(
        evaluation,
        classes=tuning.classes,
        scores=np.ascontiguousarray(evaluation.scores[:, order]),
        probabilities=np.ascontiguousarray(evaluation.probabilities[:, order]),
        labels=labels,
    )


@dataclass(frozen=True, eq=False)
class HeldOut:
    """Thresholds chosen on tuning data and measured on both parts.

    Attributes
    ----------
    optimum : Optimum
        Chosen on the tuning data.
    tuning, evaluation : Report
        Every metric at ``optimum.thresholds`` on each part.
    drop : dict of str to ndarray (K,)
        ``"precision"``, ``"recall"``, ``"f1"``: tuning minus evaluation, per class (a positive
        drop is what the tuning data promised and the evaluation data did not give).
    macro_drop : dict of str to float
        The same for the macro averages.
    intervals : BootstrapIntervals
        Bootstrap intervals on the evaluation data.
    """

    optimum: Optimum
    tuning: Report
    evaluation: Report
    drop: dict
    macro_drop: dict
    intervals: "BootstrapIntervals"

    def to_dict(self) -> dict:
        classes = self.tuning.classes
        per_class = {}
        for i, name in enumerate(classes):
            t, e = self.tuning, self.evaluation
            per_class[name] = {
                "threshold": float(self.optimum.thresholds[i]),
                "tuning": {m: float(getattr(t.per_class, m)[i]) for m in ("precision", "recall", "f1")},
                "evaluation": {m: float(getattr(e.per_class, m)[i]) for m in ("precision", "recall", "f1")},
                "drop": {m: float(v[i]) for m, v in self.drop.items()},
                "evaluation_ci": {m: _pair(ci[i]) for m, ci in self.intervals.per_class.items()},
            }
        return {
            "objective": self.optimum.objective.text,
            "mode": self.optimum.mode,
            "tuning_rows": self.tuning.counts.n_rows,
            "evaluation_rows": self.evaluation.counts.n_rows,
            "per_class": per_class,
            "macro": {
                "tuning": dict(self.tuning.aggregates.macro),
                "evaluation": dict(self.evaluation.aggregates.macro),
                "drop": dict(self.macro_drop),
            },
            "bootstrap": {"resamples": self.intervals.n_resamples, "seed": self.intervals.seed,
                          "level": self.intervals.level},
        }


def held_out(
    tuning: PredictionSet,
    evaluation: PredictionSet,
    objective: Objective | str,
    *,
    rule: DecisionRule | None = None,
    mode: str = "per_class",
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> HeldOut:
    """Optimise ``objective`` on ``tuning``, report on both, with intervals on ``evaluation``."""
    rule = rule or DecisionRule.default(tuning.task)
    tuning_index = CurveIndex.build(tuning, rule)
    optimum = optimise(tuning_index, objective, mode=mode)
    return held_out_at(tuning_index, evaluation, optimum, n_resamples=n_resamples, seed=seed)


def held_out_at(
    tuning_index: CurveIndex,
    evaluation: PredictionSet,
    optimum: Optimum,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> HeldOut:
    """:func:`held_out` for an ``optimum`` already chosen on ``tuning_index`` (the command line
    chooses once and reports on both parts)."""
    tuning = tuning_index.predictions
    evaluation = matching_classes(tuning, evaluation)
    evaluation_index = CurveIndex.build(evaluation, tuning_index.rule)
    on_tuning = evaluate(tuning_index, optimum.thresholds)
    on_evaluation = evaluate(evaluation_index, optimum.thresholds)
    drop = {
        m: getattr(on_tuning.per_class, m) - getattr(on_evaluation.per_class, m)
        for m in ("precision", "recall", "f1")
    }
    macro_drop = {
        m: on_tuning.aggregates.macro[m] - on_evaluation.aggregates.macro[m]
        for m in ("precision", "recall", "f1")
    }
    intervals = bootstrap_intervals(on_evaluation.counts, tuning.task, n_resamples=n_resamples, seed=seed)
    return HeldOut(optimum, on_tuning, on_evaluation, drop, macro_drop, intervals)


# ------------------------------------------------------------------------------ comparison
@dataclass(frozen=True, eq=False)
class Difference:
    """Bootstrap of the macro-F1 difference between two models (first minus second).

    Attributes
    ----------
    observed : float
        Macro-F1 of the first model minus the second's, on the rows compared.
    interval : ndarray (2,)
    draws : ndarray (R,)
    paired : bool
        True when both models' rows were matched by id and resampled together.
    rows : int
        Rows compared (paired: the matched rows; unpaired: rows of the first model).
    note : str
        One sentence saying how the rows were resampled, and why not paired when not.
    share_better : float
        Share of resamples where the first model's macro-F1 is higher.
    """

    observed: float
    interval: np.ndarray
    draws: np.ndarray
    paired: bool
    rows: int
    note: str
    share_better: float
    n_resamples: int
    seed: int

    def to_dict(self) -> dict:
        return {
            "observed": self.observed,
            "interval": _pair(self.interval),
            "paired": self.paired,
            "rows": self.rows,
            "note": self.note,
            "share_better": self.share_better,
            "resamples": self.n_resamples,
            "seed": self.seed,
        }


def _row_patterns(task: str, k: int, truth_labels: np.ndarray, decision_list: list[np.ndarray]):
    """Distinct rows of (truth, decisions of each model), their counts, and per pattern the
    (tp, fp, fn) contribution of each model to each class.

    Returns
    -------
    counts : ndarray (P,)
    contributions : list of ndarray (P, 3, K), one per model
    """
    if task == "multiclass":
        base = k + 1
        code = truth_labels.astype(np.int64)
        for d in decision_list:
            code = code * base + np.where(d == NO_PREDICTION, k, d)
        codes, counts = np.unique(code, return_counts=True)
        parts = []
        rest = codes.copy()
        for _ in decision_list:
            parts.append(rest % base)
            rest //= base
        parts = parts[::-1]
        truth = rest
        contributions = []
        for predicted in parts:
            is_true = truth[:, None] == np.arange(k)[None, :]
            is_pred = predicted[:, None] == np.arange(k)[None, :]
            contributions.append(np.stack((is_true & is_pred, ~is_true & is_pred, is_true & ~is_pred), axis=1))
        return counts, contributions
    stacked = np.concatenate([truth_labels, *decision_list], axis=1).astype(bool)
    packed = np.packbits(stacked, axis=1)
    keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    rows = stacked[first]
    truth = rows[:, :k]
    contributions = []
    for j in range(len(decision_list)):
        d = rows[:, k * (j + 1): k * (j + 2)]
        contributions.append(np.stack((truth & d, ~truth & d, truth & ~d), axis=1))
    return counts, contributions


def _macro_f1_from(task: str, n: np.ndarray, tp, fp, fn) -> np.ndarray:
    """Macro-F1 from per-class counts (R, K) (both classes for binary, as the app's macro)."""
    f1 = rates(tp, fp, fn, 0 * tp)["f1"]
    if task == "binary":
        tn = n[:, None] - tp - fp - fn
        f1 = (f1 + rates(tn, fn, fp, tp)["f1"]) / 2
    return f1.mean(axis=1) if f1.shape[1] else np.zeros(len(f1))


def _resampled_macro_f1(task, counts, contributions, r, rng):
    n = int(counts.sum())
    draws = rng.multinomial(n, counts / n, size=r).astype(np.float64)
    out = []
    for contrib in contributions:
        p, _, k = contrib.shape
        cells = draws @ contrib.reshape(p, 3 * k).astype(np.float64)
        tp, fp, fn = cells[:, :k], cells[:, k:2 * k], cells[:, 2 * k:]
        out.append(_macro_f1_from(task, np.full(r, float(n)), tp, fp, fn))
    observed = []
    for contrib in contributions:
        p, _, k = contrib.shape
        cells = counts.astype(np.float64) @ contrib.reshape(p, 3 * k).astype(np.float64)
        tp, fp, fn = cells[None, :k], cells[None, k:2 * k], cells[None, 2 * k:]
        observed.append(float(_macro_f1_from(task, np.array([float(n)]), tp, fp, fn)[0]))
    return out, observed


def pairing(first: PredictionSet, second: PredictionSet):
    """Row positions matching ``first`` to ``second`` by id, or (None, reason) when the rows
    cannot be paired."""
    if first.ids is None or second.ids is None:
        return None, "the files have no shared id column, so rows were resampled separately (unpaired)"
    a = np.asarray(first.ids).astype(str)
    b = np.asarray(second.ids).astype(str)
    if len(np.unique(a)) != len(a) or len(np.unique(b)) != len(b):
        return None, "an id appears twice in a file, so rows were resampled separately (unpaired)"
    if len(a) != len(b) or not np.array_equal(np.sort(a), np.sort(b)):
        return None, "the files' ids differ, so rows were resampled separately (unpaired)"
    order_a = np.argsort(a, kind="stable")
    order_b = np.argsort(b, kind="stable")
    match = np.empty(len(a), dtype=np.int64)
    match[order_a] = order_b
    if not np.array_equal(_truth_rows(first), _truth_rows(second)[match]):
        return None, "rows with the same id have different true labels, so rows were resampled separately (unpaired)"
    return match, "rows matched by id and resampled together (paired)"


def _truth_rows(p: PredictionSet) -> np.ndarray:
    return p.labels if p.task == "multiclass" else p.labels.reshape(p.n_rows, -1)


def macro_f1_difference(
    first: PredictionSet,
    first_decisions: np.ndarray,
    second: PredictionSet,
    second_decisions: np.ndarray,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = LEVEL,
) -> Difference:
    """Bootstrap of macro-F1(first) - macro-F1(second) at each model's own decisions.

    Paired when the rows share ids (see :func:`pairing`): the same resampled rows score both
    models, so what they have in common cancels. Otherwise each model's rows are resampled on
    their own. Either way the resample is a multinomial over the distinct rows of (truth,
    decisions), the same in distribution as drawing rows with replacement.

    Parameters
    ----------
    first_decisions, second_decisions : ndarray
        From :func:`thresholdlab.decide` on each set (multi-class (n,), else (n, K) bool).
    """
    second = matching_classes(first, second)
    task, k = first.task, first.n_classes
    r = int(n_resamples)
    if r < 1:
        raise DataError(f"The number of bootstrap resamples must be at least 1; got {n_resamples}.")
    rng = np.random.default_rng(seed)
    match, note = pairing(first, second)
    if match is not None:
        counts, contributions = _row_patterns(
            task, k, _truth_rows(first), [first_decisions, np.asarray(second_decisions)[match]]
        )
        (a, b), (oa, ob) = _resampled_macro_f1(task, counts, contributions, r, rng)
        draws, observed, rows = a - b, oa - ob, first.n_rows
    else:
        ca, xa = _row_patterns(task, k, _truth_rows(first), [first_decisions])
        cb, xb = _row_patterns(task, k, _truth_rows(second), [second_decisions])
        (a,), (oa,) = _resampled_macro_f1(task, ca, xa, r, rng)
        (b,), (ob,) = _resampled_macro_f1(task, cb, xb, r, rng)
        draws, observed, rows = a - b, oa - ob, first.n_rows
    return Difference(
        observed=float(observed),
        interval=percentile_interval(draws, level),
        draws=draws,
        paired=match is not None,
        rows=int(rows),
        note=note[0].upper() + note[1:] + ".",
        share_better=float(np.mean(draws > 0)),
        n_resamples=r,
        seed=int(seed),
    )


@dataclass(frozen=True, eq=False)
class Model:
    """One model in a comparison: its data, index, thresholds and report."""

    name: str
    predictions: PredictionSet
    index: CurveIndex
    thresholds: np.ndarray
    report: Report


@dataclass(frozen=True, eq=False)
class Comparison:
    """Two or more models over the same classes, each at its own chosen thresholds.

    ``differences[j]`` compares ``models[0]`` with ``models[j + 1]``.
    """

    models: tuple
    differences: tuple
    objective: str

    def to_dict(self) -> dict:
        classes = self.models[0].predictions.classes
        return {
            "objective": self.objective,
            "classes": list(classes),
            "models": [
                {
                    "name": m.name,
                    "file": m.predictions.file,
                    "rows": m.predictions.n_rows,
                    "thresholds": dict(zip(classes, map(float, m.thresholds))),
                    "macro": dict(m.report.aggregates.macro),
                    "per_class": {
                        c: {x: float(getattr(m.report.per_class, x)[i]) for x in ("precision", "recall", "f1")}
                        for i, c in enumerate(classes)
                    },
                }
                for m in self.models
            ],
            "macro_f1_difference": [
                {"first": self.models[0].name, "second": self.models[j + 1].name, **d.to_dict()}
                for j, d in enumerate(self.differences)
            ],
        }


def compare(
    sets: list[PredictionSet],
    *,
    objective: Objective | str = "f1",
    thresholds: list | None = None,
    rule: DecisionRule | None = None,
    names: list[str] | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Comparison:
    """Compare models: each at its own thresholds (optimised for ``objective`` unless
    ``thresholds`` gives them), macro-F1 differences against the first by bootstrap."""
    if len(sets) < 2:
        raise DataError("Comparing needs two or more prediction files.")
    first = sets[0]
    sets = [first, *(matching_classes(first, s) for s in sets[1:])]
    names = names or [s.file for s in sets]
    if len(set(names)) < len(names):
        names = [f"{i + 1}: {nm}" for i, nm in enumerate(names)]
    if isinstance(objective, str):
        objective = Objective.parse(objective)
    models = []
    for j, s in enumerate(sets):
        index = CurveIndex.build(s, rule or DecisionRule.default(s.task))
        t = optimise(index, objective).thresholds if thresholds is None or thresholds[j] is None \
            else np.asarray(thresholds[j], dtype=np.float64)
        models.append(Model(names[j], s, index, t, evaluate(index, t)))
    differences = []
    base = models[0]
    da = decide(base.predictions.probabilities, base.thresholds, base.index.rule)
    for m in models[1:]:
        db = decide(m.predictions.probabilities, m.thresholds, m.index.rule)
        differences.append(
            macro_f1_difference(models[0].predictions, da, m.predictions, db,
                                n_resamples=n_resamples, seed=seed)
        )
    return Comparison(tuple(models), tuple(differences), objective.text)
