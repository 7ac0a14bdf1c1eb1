"""The optimiser on a sketch: SPEC §5 over the bin edges (see :mod:`thresholdlab.sketch`)."""

from __future__ import annotations

import numpy as np

from thresholdlab.predictions import logit
from thresholdlab.sketch_index import SketchIndex


def optimise(index: SketchIndex, objective, *, mode: str = "per_class"):
    """Best thresholds for ``objective`` over every bin edge with a non-empty bin (SPEC §5 on a
    sketch); returns a :class:`thresholdlab.optimise.Optimum`.

    The candidates are the edges: an edge with a non-empty bin above it changes the decisions,
    exactly as a distinct score does in exact mode. The threshold returned is an edge, so its
    counts are exact: of the edges that give the chosen counts (from the chosen candidate down
    to the one just above the next non-empty bin), the middle one, for the widest margin. For a
    sigmoid task given logits, ``logit_thresholds`` is the logit of that edge.
    """
    from thresholdlab.optimise import (
        Objective,
        Optimum,
        _counts_at,
        _infeasible_sentence,
        _macro_rates,
        _pick,
        _pick_global,
        _with_predict_nothing,
    )

    if isinstance(objective, str):
        objective = Objective.parse(objective)
    if mode not in ("per_class", "global"):
        raise ValueError(f"unknown mode {mode!r}; use 'per_class' or 'global'")
    k = len(index.classes)
    positives = index.positives.astype(np.float64)
    negatives = index.n_rows - positives
    curves = [index.curve(c) for c in range(k)]
    edges = index.edges
    infeasible: dict[str, str] = {}
    chosen = np.empty(k)
    lower = np.empty(k)
    if mode == "per_class":
        for c, curve in enumerate(curves):
            candidates, tp, fp = _with_predict_nothing(curve.thresholds, curve.tp, curve.fp)
            i, ok = _pick(objective, tp, fp, positives[c], negatives[c])
            if not ok:  # the sentence is written once the threshold (an edge) is known
                infeasible[index.classes[c]] = (tp[i], fp[i])
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
                Objective("precision>=", target=0.0), tp_all[:, i:i + 1], fp_all[:, i:i + 1],
                positives)
            rate = "precision" if objective.kind == "precision>=" else "recall"
            sentence = (
                f"No single threshold gives macro {rate} >= {objective.target:g}: the best is "
                f"{(precision if rate == 'precision' else recall)[0]:.4g} (macro precision "
                f"{precision[0]:.4g}, macro recall {recall[0]:.4g}), used instead.")
            infeasible = {name: sentence for name in index.classes}
        chosen[:] = candidates[i]
        lower[:] = candidates[i + 1] if i + 1 < len(candidates) else -np.inf
    # Edge indices: the chosen candidate's edge (above every bin: the edge above the top
    # non-empty bin), and the first edge above the next lower candidate's bin.
    hi = np.empty(k, dtype=np.int64)
    for c in range(k):
        if np.isinf(chosen[c]):
            occupied = curves[c].thresholds if mode == "per_class" else union
            hi[c] = np.searchsorted(edges, occupied[0]) + 1 if len(occupied) else len(edges) - 1
        else:
            hi[c] = np.searchsorted(edges, chosen[c])
    lo = np.where(np.isinf(lower), 0, np.searchsorted(edges, np.where(np.isinf(lower), 0, lower)) + 1)
    lo = np.minimum(lo, hi)
    pick = np.minimum((lo + hi + 1) // 2, len(edges) - 1)
    thresholds = edges[pick]
    if mode == "per_class":
        for c, name in enumerate(index.classes):
            if name in infeasible:
                tp_c, fp_c = infeasible[name]
                infeasible[name] = _infeasible_sentence(
                    objective, name, tp_c, fp_c, positives[c], thresholds[c])
    logit_thresholds = logit(thresholds) if index.predictions.activation == "sigmoid" else None
    counts = index.counts_at(thresholds)
    values = objective.score(counts.tp, counts.fp, positives, negatives)
    if objective.kind == "cost":
        values = -values
    value = float(values.sum() if objective.kind == "cost" else values.mean())
    return Optimum(objective, mode, thresholds, logit_thresholds, values, value, infeasible,
                   exact=index.rule.per_class)
