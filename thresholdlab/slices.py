"""Slices: metrics per value of an extra column (region, device, age band).

A model can look fine overall and fail one slice. Extra columns of the prediction file that
hold a handful of values (:func:`slice_columns`) split the rows; :func:`slice_metrics` gives
every metric per slice at the current thresholds and names the worst slice, and for binary and
multi-label data :func:`per_slice_thresholds` chooses thresholds per slice (the slice's own
optimum, or :func:`equal_recall` to give every slice the same recall). Such thresholds travel
in the config's optional ``groups`` section (see ``thresholdlab.groups``).

Loading keeps only scores, labels and ids; the extra columns are read here, from the same file,
by name (``PredictionSet.columns["ignored"]``), with the loader's own format, delimiter and NPZ
readers.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thresholdlab.curves import CurveIndex
from thresholdlab.decisions import DecisionRule
from thresholdlab.metrics import Report, evaluate
from thresholdlab.optimise import Objective, _with_predict_nothing, optimise
from thresholdlab.loading import DEFAULT_MAX_BYTES, file_format
from thresholdlab.loading.source import compression, unpacked_bytes
from thresholdlab.predictions import DataError, PredictionSet

MAX_LEVELS = 20
"""A column with more distinct values than this is not a slice (an id, a number, free text)."""

MISSING = "(missing)"
"""Slice value of a row whose cell is empty."""


# ------------------------------------------------------------------------------ reading
def slice_candidates(predictions: PredictionSet) -> list[str]:
    """Names of the extra columns loading left aside (the id column excepted): what
    :func:`slice_columns` reads."""
    columns = predictions.columns or {}
    return [c for c in columns.get("ignored") or [] if c != columns.get("id")]


def slice_columns(
    source: str | os.PathLike | bytes,
    predictions: PredictionSet,
    *,
    name: str | None = None,
    max_levels: int | None = MAX_LEVELS,
    only: list[str] | None = None,
) -> dict[str, np.ndarray]:
    """Extra columns of a prediction file that can slice its rows.

    Parameters
    ----------
    source : path or bytes
        The file ``predictions`` was loaded from (CSV, TSV, Parquet or NPZ).
    predictions : PredictionSet
        Its loaded form: the columns it lists as ignored, except the id column, are candidates.
    name : str, optional
        File name, for the format, when ``source`` is bytes.
    max_levels : int or None
        Columns with 2 to ``max_levels`` distinct values are kept (None: every column).
    only : list of str, optional
        Read just these columns (any used by the loader or not listed raises DataError).

    Returns
    -------
    dict of str to ndarray of str, shape (n,)
        Column name -> each row's value as text (``"(missing)"`` for an empty cell), in file
        order. Empty when the format has no extra columns.

    Raises
    ------
    DataError
        When the extra columns do not line up with the loaded rows.
    """
    candidates = slice_candidates(predictions)
    name = name or (Path(source).name if not isinstance(source, (bytes, bytearray)) else predictions.file)
    if only is not None:
        absent = [c for c in only if c not in candidates]
        if absent:
            raise DataError(
                f"File '{name}' has no extra column '{absent[0]}' to take slice values from; "
                "name a column that is neither a score, a label nor the id."
            )
        candidates = list(only)
    if not candidates:
        return {}
    fmt = file_format(str(name))
    if fmt == "pt":
        return {}
    raw = bytes(source) if isinstance(source, (bytes, bytearray)) else None
    if compression(str(name)) is not None:  # read as loading reads it: decompressed
        raw = unpacked_bytes(raw if raw is not None else Path(source).read_bytes(), str(name),
                             DEFAULT_MAX_BYTES)
    import pandas as pd

    try:
        frame = _extra_columns(source, raw, str(name), fmt, candidates)
    except DataError:
        raise  # already one sentence from the loader's own reader
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"File '{name}': its extra columns could not be read as slices ({exc}).") from None
    if len(frame) != predictions.n_rows:
        raise DataError(
            f"File '{name}': its extra columns have {len(frame)} rows but the scores have "
            f"{predictions.n_rows}; slices need one value per scored row."
        )
    out = {}
    for c in frame.columns:
        values = frame[c].astype(str).to_numpy(dtype=object)
        values = np.where(pd.isna(frame[c]).to_numpy() | (values == ""), MISSING, values)
        levels = np.unique(values)
        if max_levels is None or 2 <= len(levels) <= max_levels:
            out[str(c)] = values.astype(str)
    return out


def _extra_columns(source, raw: bytes | None, name: str, fmt: str, candidates: list[str]):
    """The ``candidates`` columns of the file as a frame of text, read as loading reads it (the
    format by extension, Excel's ``sep=`` line, the sniffed delimiter, UTF-16, NPZ arrays)."""
    import pandas as pd

    # The loader's own readers; the private ones are the pieces of read_table that matter here.
    from thresholdlab.loading import read_npz
    from thresholdlab.loading.tables import _from_utf16, _strip_sep_line
    from thresholdlab.loading.text_layout import text_layout

    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        handle = (lambda: pa.BufferReader(raw)) if raw is not None else (lambda: str(source))
        present = [c for c in candidates if c in pq.read_schema(handle()).names]
        return pq.read_table(handle(), columns=present).to_pandas()
    data = raw if raw is not None else Path(source).read_bytes()
    if fmt == "npz":
        arrays = read_npz(data, name)
        return pd.DataFrame({c: arrays[c] for c in candidates
                             if c in arrays and np.ndim(arrays[c]) == 1})
    data, _ = _from_utf16(data, name)
    data, declared = _strip_sep_line(data)
    head = data[:65536].decode("utf-8-sig", errors="replace")
    layout = text_layout(head, name, sep=declared or ("\t" if fmt == "tsv" else None))
    text = layout.text(data).decode("utf-8-sig", errors="replace")
    wanted = set(candidates)
    # Only the candidate columns are parsed: the scores stay with the loader.
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                        usecols=lambda c: c in wanted, **layout.pandas_options())
    return layout.row_names_kept(frame)


# ------------------------------------------------------------------------------ metrics
@dataclass(frozen=True, eq=False)
class SliceReport:
    """Every metric per slice.

    Attributes
    ----------
    column : str
    values : tuple of str
        Slice values, sorted.
    rows : ndarray of int64 (S,)
    reports : tuple of Report
        One per slice, in ``values`` order, each at that slice's thresholds.
    thresholds : ndarray (S, K)
        The thresholds each slice was decided with.
    worst : int
        Position in ``values`` of the slice with the lowest macro-F1.
    """

    column: str
    values: tuple
    rows: np.ndarray
    reports: tuple
    thresholds: np.ndarray
    worst: int

    @property
    def macro_f1(self) -> np.ndarray:
        return np.array([r.aggregates.macro["f1"] for r in self.reports])

    def table(self, classes) -> list[dict]:
        """One row per slice: value, rows, macro precision / recall / F1 and each class's F1."""
        out = []
        for s, (value, report) in enumerate(zip(self.values, self.reports)):
            row = {
                "slice": value,
                "rows": int(self.rows[s]),
                "macro precision": report.aggregates.macro["precision"],
                "macro recall": report.aggregates.macro["recall"],
                "macro F1": report.aggregates.macro["f1"],
            }
            for c, name in enumerate(classes):
                row[f"F1 {name}"] = float(report.per_class.f1[c])
                row[f"recall {name}"] = float(report.per_class.recall[c])
            row["worst"] = s == self.worst
            out.append(row)
        return out


def _slice_rows(values: np.ndarray, n: int) -> tuple[np.ndarray, list[np.ndarray]]:
    values = np.asarray(values).astype(str)
    if values.shape != (n,):
        raise DataError(f"Slice values must give one value per row ({n}); got {values.shape[0]}.")
    levels, inverse = np.unique(values, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(levels) + 1))
    return levels, [order[bounds[i]:bounds[i + 1]] for i in range(len(levels))]


def slice_indices(predictions: PredictionSet, values: np.ndarray, rule: DecisionRule | None = None):
    """(slice values, each slice's rows, each slice's CurveIndex): built once and handed to
    :func:`slice_metrics`, :func:`equal_recall` and :func:`per_slice_thresholds` as ``indices``
    when more than one of them runs on the same slices."""
    from thresholdlab.evaluation import subset

    rule = rule or DecisionRule.default(predictions.task)
    levels, members = _slice_rows(values, predictions.n_rows)
    return levels, members, [CurveIndex.build(subset(predictions, rows), rule) for rows in members]


def slice_metrics(
    predictions: PredictionSet,
    values: np.ndarray,
    thresholds,
    rule: DecisionRule | None = None,
    *,
    column: str = "slice",
    group_thresholds: dict | None = None,
    indices=None,
    sample_based_metrics: bool = True,
) -> SliceReport:
    """Metrics of every slice at ``thresholds`` (or at a slice's own entry of ``group_thresholds``).

    Parameters
    ----------
    values : array (n,)
        Each row's slice value (compared as text).
    thresholds : array (K,)
    group_thresholds : dict of str to array (K,), optional
        Per-slice thresholds; slices not in it use ``thresholds``.
    indices : optional
        :func:`slice_indices` of the same data, values and rule, when the caller has them.
    sample_based_metrics : bool, default True
        Multi-label: the per-row figures (samples-F1, subset accuracy), which look at every
        row of every slice; the dashboard's table shows none of them, so it skips them to keep
        a slider move cheap.
    """
    levels, members, indices = indices or slice_indices(predictions, values, rule)
    base = np.asarray(thresholds, dtype=np.float64)
    group_thresholds = group_thresholds or {}
    reports: list[Report] = []
    used = np.empty((len(levels), predictions.n_classes))
    for s, (value, index) in enumerate(zip(levels, indices)):
        t = np.asarray(group_thresholds.get(str(value), base), dtype=np.float64)
        used[s] = t
        reports.append(evaluate(index, t, sample_based_metrics=sample_based_metrics))
    macro = np.array([r.aggregates.macro["f1"] for r in reports])
    return SliceReport(
        column=column,
        values=tuple(str(v) for v in levels),
        rows=np.array([len(m) for m in members], dtype=np.int64),
        reports=tuple(reports),
        thresholds=used,
        worst=int(np.argmin(macro)) if len(macro) else -1,
    )


# ------------------------------------------------------------------- per-slice thresholds
def _threshold_below(candidates: np.ndarray, i: int) -> float:
    """Midpoint between candidate ``i`` and the next lower one (0 below the lowest, 1 above
    the top): the threshold that keeps candidate ``i``'s decisions with the widest margin."""
    top = 1.0 if np.isinf(candidates[i]) else float(candidates[i])
    bottom = float(candidates[i + 1]) if i + 1 < len(candidates) else 0.0
    mid = (top + bottom) / 2
    return mid if bottom < mid <= top else top


def _per_slice_rule(predictions: PredictionSet, rule: DecisionRule | None) -> DecisionRule:
    if predictions.task == "multiclass":
        raise DataError(
            "Per-slice thresholds are for binary and multi-label data; under a multi-class rule "
            "a row's decision depends on every class's threshold."
        )
    rule = rule or DecisionRule.default(predictions.task)
    if not rule.per_class:
        raise DataError(
            f"Per-slice thresholds need each label decided on its own; the no-prediction option "
            f"'{rule.no_prediction}' makes labels depend on each other."
        )
    return rule


def per_slice_thresholds(
    predictions: PredictionSet,
    values: np.ndarray,
    objective: Objective | str,
    rule: DecisionRule | None = None,
    *,
    indices=None,
) -> dict[str, np.ndarray]:
    """Each slice's own optimum for ``objective`` (binary and multi-label data); ``indices`` as
    in :func:`slice_metrics`."""
    rule = _per_slice_rule(predictions, rule)
    levels, _, indices = indices or slice_indices(predictions, values, rule)
    return {str(value): optimise(index, objective).thresholds for value, index in zip(levels, indices)}


def equal_recall(
    predictions: PredictionSet,
    values: np.ndarray,
    thresholds,
    rule: DecisionRule | None = None,
    *,
    target=None,
    indices=None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-slice thresholds that give every slice the same recall, per class.

    For each class the target is ``target`` (a float or one per class), by default the recall
    the class has overall at ``thresholds``. Each slice gets the highest threshold whose recall
    on that slice reaches the target, so its recall is the nearest to the target from above. A slice
    where the class has no positive rows keeps ``thresholds``. ``indices`` as in
    :func:`slice_metrics`.

    Returns
    -------
    group_thresholds : dict of str to ndarray (K,)
    targets : ndarray (K,)
    """
    rule = _per_slice_rule(predictions, rule)
    base = np.asarray(thresholds, dtype=np.float64)
    k = predictions.n_classes
    if target is None:
        overall = CurveIndex.build(predictions, rule).counts_at(base)
        targets = np.divide(overall.tp, overall.tp + overall.fn, out=np.zeros(k),
                            where=(overall.tp + overall.fn) > 0)
    else:
        targets = np.broadcast_to(np.asarray(target, dtype=np.float64), (k,)).copy()
    levels, _, indices = indices or slice_indices(predictions, values, rule)
    out = {}
    for value, index in zip(levels, indices):
        t = base.copy()
        for c in range(k):
            positives = int(index.positives[c])
            if positives == 0:
                continue
            curve = index.curve(c)
            candidates, tp, fp = _with_predict_nothing(curve.thresholds, curve.tp, curve.fp)
            # Recall only grows as the threshold falls: the first candidate (from the top) that
            # reaches the target gives the recall nearest to it from above.
            reached = np.flatnonzero(tp / positives >= targets[c])
            t[c] = _threshold_below(candidates, int(reached[0]) if len(reached) else len(candidates) - 1)
        out[str(value)] = t
    return out, targets


def grouped_report(index: CurveIndex, config, values) -> Report:
    """Every metric when each row is decided with its slice's thresholds (a config's ``groups``).

    Counts come from the rows' decisions (``p >= t_row``); threshold-free metrics (AP, ROC AUC)
    are the index's own. ``counts.thresholds`` holds the top-level thresholds.
    """
    from thresholdlab.curves import counts_from_decisions
    from thresholdlab.groups import decide_with_groups
    from thresholdlab.metrics import aggregates, class_metrics, ranking_metrics, zero_division_warnings

    predictions = index.predictions
    decisions = decide_with_groups(config, predictions.probabilities, values, predictions.classes)
    top = config.thresholds_for(predictions.classes)
    counts = counts_from_decisions(predictions, decisions, top)
    per_class = class_metrics(counts)
    agg = aggregates(counts, per_class, predictions.task)
    warnings = [*predictions.warnings, *zero_division_warnings(predictions.classes, counts, per_class)]
    return Report(predictions.classes, predictions.task, counts, per_class, agg,
                  ranking_metrics(index), tuple(warnings))
