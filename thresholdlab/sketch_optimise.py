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
    from thresholdlab.optimise import _choose, _missed_sentences, _optimum

    objective, curves, chosen, lower, missed, missed_globally = _choose(index, objective, mode)
    k = len(index.classes)
    edges = index.edges
    if mode == "global":  # the candidates of the single threshold, highest first
        union = np.unique(np.concatenate([cv.thresholds for cv in curves]))[::-1]
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
    infeasible = _missed_sentences(index, objective, missed, thresholds)
    if missed_globally is not None:
        precision, recall = missed_globally
        rate = "precision" if objective.kind == "precision>=" else "recall"
        sentence = (
            f"No single threshold gives macro {rate} >= {objective.target:g}: the best is "
            f"{(precision if rate == 'precision' else recall):.4g} (macro precision "
            f"{precision:.4g}, macro recall {recall:.4g}), used instead.")
        infeasible = {name: sentence for name in index.classes}
    logit_thresholds = logit(thresholds) if index.predictions.activation == "sigmoid" else None
    return _optimum(index, objective, mode, thresholds, logit_thresholds, infeasible)
