"""Binned sketches: per-class counts over a fixed probability grid, for data too big to hold.

Exact mode (:class:`~thresholdlab.curves.CurveIndex`) keeps every row. A :class:`Sketch` keeps,
for every class, how many positive and how many negative rows fall in each bin of the class's
probability over a fixed grid: ``n_bins`` equal bins on [0, 1] (10,000 by default) plus one
bin for probabilities of exactly 1. Multi-class sketches also keep, for the rows whose argmax is
each class, those rows' counts per bin split by true class, so the K x K confusion matrix and
its "no prediction" column follow under the ``argmax`` rule. Scores given as logits go through
the activation (softmax or sigmoid) before binning, as in exact mode.

A sketch is computed where the data lives: from arrays here (:meth:`Sketch.from_predictions`),
by DuckDB from Parquet or CSV files (``thresholdlab sketch``, :mod:`thresholdlab.sketch_duckdb`)
or by Apache Spark (:mod:`thresholdlab.spark`). Sketches of disjoint parts of the data add up
to the sketch of the whole (:meth:`Sketch.merge`, ``a + b``), and a sketch is saved as a Parquet
file carrying its schema version and grid (:meth:`Sketch.save`, :func:`read_sketch`).

Accuracy
--------
Edges are ``edges[i] = i / n_bins`` in float64 (i = 0 .. n_bins). Bin ``b < n_bins`` holds the
rows with ``edges[b] <= p < edges[b + 1]``, bin ``n_bins`` those with ``p >= 1``; every engine
computes the bin with the same IEEE operations (``floor(p * n_bins)``, corrected by one where
that product rounded across an edge), so the bins agree with the comparison ``p >= edges[i]``
bit for bit.

- At a threshold on an edge, every count, every §4 metric computed from counts, the confusion
  matrix and the PR/ROC points are exactly those of exact mode on the same rows.
- At a threshold t strictly between edges ``edges[i - 1] < t < edges[i]``, counts are those at
  ``edges[i]`` (the next edge up). The exact counts at t differ by at most the rows of bin
  ``i - 1``: ``0 <= TP(t) - TP(edges[i]) <= positives in that bin``, the same for FP with the
  negatives (multi-class ``argmax``: the class's argmax rows in that bin); every rate moves by
  at most that many rows over its denominator.
- Average precision and ROC AUC are those of scikit-learn on the rows' scores rounded down to
  their bin's lower edge (rows within one bin tie). Their error against the unbinned values is
  bounded by the share of positive-negative pairs that share a bin.
- The optimiser (:func:`optimise`) searches every edge with a non-empty bin: its optimum is the
  exact optimum among thresholds on edges. The unbinned optimum can be better by at most what
  one bin's rows can change.
- Scores given as logits are turned into probabilities by the engine that computes the sketch;
  its ``exp`` may differ from numpy's in the last bit, so a probability within one rounding
  step of an edge may fall on the other side of it than in exact mode.

Multi-label subset accuracy and samples-F1 need every row and are not available from a sketch.
"""

from __future__ import annotations

from pathlib import Path

from thresholdlab.decisions import DecisionRule
from thresholdlab.predictions import DataError
from thresholdlab.sketch_data import (  # noqa: F401  (the public names live here too)
    _ONE_VS_REST,
    _TOP,
    DEFAULT_BINS,
    METADATA_KEY,
    SCHEMA_VERSION,
    Sketch,
    _check_bins,
    _header,
    bin_index,
    edges_of,
    is_sketch,
    read_sketch,
    sql_bin,
)
from thresholdlab.sketch_index import (  # noqa: F401
    SketchIndex,
    _tails,
    check_rule,
    evaluate,
    ranking_metrics,
)
from thresholdlab.sketch_optimise import optimise


def open_data(source, *, name: str | None = None, load=None, **overrides):
    """A prediction file or a sketch file, whichever ``source`` is.

    Returns a :class:`Sketch` for a sketch file, else ``load(source, name=..., **overrides)``
    (by default :func:`thresholdlab.loading.load`). Column-role overrides do not apply to a
    sketch (its roles were fixed when it was computed); giving one is an error.
    """
    if is_sketch(source):
        given = [k.replace("_", "-") for k, v in overrides.items() if v]
        if given:
            raise DataError(
                f"{name or Path(str(source)).name!r} is a sketch, whose column roles were fixed "
                f"when it was computed: --{', --'.join(given)} cannot change them."
            )
        return read_sketch(source, name=name)
    if load is None:
        from thresholdlab.loading import load
    kwargs = {"name": name} if name is not None else {}
    return load(source, **kwargs, **overrides)


# ---------------------------------------------------------------------- either kind of data
def is_binned(data) -> bool:
    """True for a :class:`Sketch` or :class:`SketchIndex`, False for rows in memory."""
    return bool(getattr(data, "binned", False))


def build_index(data, rule: DecisionRule | None = None):
    """A :class:`SketchIndex` for a sketch, a :class:`~thresholdlab.curves.CurveIndex` for rows."""
    if is_binned(data):
        return SketchIndex.build(data, rule)
    from thresholdlab.curves import CurveIndex

    return CurveIndex.build(data, rule)


def evaluate_index(index, thresholds, **kwargs):
    """:func:`thresholdlab.metrics.evaluate` for rows, :func:`evaluate` for a sketch."""
    if is_binned(index):
        kwargs.pop("sample_based_metrics", None)
        return evaluate(index, thresholds, **kwargs)
    from thresholdlab.metrics import evaluate as evaluate_rows

    return evaluate_rows(index, thresholds, **kwargs)


def optimise_index(index, objective, *, mode: str = "per_class"):
    """:func:`thresholdlab.optimise.optimise` for rows, :func:`optimise` for a sketch."""
    if is_binned(index):
        return optimise(index, objective, mode=mode)
    from thresholdlab.optimise import optimise as optimise_rows

    return optimise_rows(index, objective, mode=mode)
