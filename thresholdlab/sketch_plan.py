"""What an engine must aggregate to sketch a table, and how its answer becomes a :class:`Sketch`.

DuckDB (:mod:`thresholdlab.sketch_duckdb`) and Spark (:mod:`thresholdlab.spark`) both work in
three steps, so their sketches of the same rows are identical:

1. :func:`plan_from_head`: the column roles, task and classes, detected by the same loader as a
   prediction file (:func:`thresholdlab.loading.load`) on the table's first rows.
2. One aggregation in the engine, grouped by the raw value of the label column (binary and
   multi-class; a handful of groups) or over the whole table (multi-label), returning per class
   the counts per bin (:func:`thresholdlab.sketch.bin_index`'s formula) and, multi-class, the
   argmax rows' counts per (class, bin), plus row counts, bad-value counts and the score range.
3. :func:`map_labels` turns the distinct raw labels into classes (again by the loader, so
   1-based, text and 0/1 labels read exactly as in a prediction file) and :func:`assemble`
   adds the groups into a :class:`Sketch`.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from thresholdlab.predictions import PROBABILITY_SLACK, DataError
from thresholdlab.sketch import Sketch

HEAD_ROWS = 5000
"""Rows read to detect column roles (the rest is only aggregated)."""


@dataclass(frozen=True)
class Plan:
    """What to aggregate: the detected (or given) roles of a table's columns.

    task, classes : as the loader detects them on the first rows
    scores : score columns, one per class, in class order
    label : the label column (binary, multi-class), else None
    labels : multi-label 0/1 truth columns, one per class, else ()
    score_kind : "probability" or "logit" when given by the user, else None (decided from the
        whole table's score range after the aggregation)
    """

    file: str
    task: str
    classes: tuple[str, ...]
    scores: tuple[str, ...]
    label: str | None = None
    labels: tuple[str, ...] = ()
    score_kind: str | None = None
    columns: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    label_mapping: dict = field(default_factory=dict)  # multi-label: truth column -> class

    def activation(self, score_kind: str) -> str:
        if score_kind == "probability":
            return "none"
        return "softmax" if self.task == "multiclass" else "sigmoid"


def _parquet_bytes(frame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), out)
    return out.getvalue()


_SCORE_KIND_NOTES = re.compile(
    r"^(All scores lie in \[0, 1\]|Scores lie outside \[0, 1\]|Scores are read as"
    r"|One score lies outside \[0, 1\]|\d+ scores lie outside \[0, 1\])"
)
"""The loader's sentences about the score kind: made again from the whole table's range."""


def plan_from_head(head, file: str, *, label_col=None, label_cols=None, score_cols=None,
                   task=None, score_kind=None) -> Plan:
    """Detect roles on ``head`` (a pandas DataFrame of the table's first rows) as the loader
    does for a prediction file; the overrides are the command line's."""
    from thresholdlab.loading import load

    if head is None or len(head) == 0:
        raise DataError(f"{file!r} has no data rows; a sketch needs at least one.")
    # The loader reads the format its name says: the head goes as Parquet, named like it.
    shown = file if file.lower().endswith((".parquet", ".pq")) else f"{file} (first rows).parquet"
    try:
        pset = load(_parquet_bytes(head), name=shown, label_col=label_col, label_cols=label_cols,
                    score_cols=score_cols, task=task, score_kind=score_kind)
    except DataError as e:
        raise DataError(str(e).replace(repr(shown), repr(file))) from None
    cols = dict(pset.columns or {})
    scores = tuple(cols.get("scores") or ())
    spread = [c for c in (*scores, *(cols.get("labels") or ())) if c not in head.columns]
    if spread:
        raise DataError(
            f"{file!r} holds its scores or labels as one vector per row (read as {spread[0]} and "
            "so on), which a sketch cannot count; save one column per class, or load the file "
            "itself (exact mode)."
        )
    if pset.task == "multilabel" and not cols.get("labels"):
        raise DataError(
            f"{file!r} holds each row's classes as tag sets in column {cols.get('label')!r}, "
            "which a sketch cannot count; save one 0/1 truth column per class, or load the "
            "file itself (exact mode)."
        )
    if len(scores) != pset.n_classes:
        raise DataError(
            f"{file!r}: the scores of its {pset.n_classes} classes do not come one per column, "
            "which a sketch needs; name them with --score-cols."
        )
    plan = Plan(
        file=file,
        task=pset.task,
        classes=tuple(pset.classes),
        scores=scores,
        label=cols.get("label"),
        labels=tuple(cols.get("labels") or ()),
        score_kind=score_kind,
        columns=cols,
        label_mapping=dict(pset.label_mapping or {}) if pset.task == "multilabel" else {},
    )
    # Sentences about the labels and the score kind are made again from the whole table: drop
    # the head's (the label ones are those the head's own distinct labels give).
    drop = set()
    if plan.label is not None:
        drop = set(map_labels(plan, list(dict.fromkeys(head[plan.label].tolist())))[2])
    notes = tuple(n for n in pset.notes if n not in drop and not _SCORE_KIND_NOTES.match(n))
    return replace(plan, notes=notes)


def plan_data(read_head, file: str, **overrides) -> Plan:
    """Column roles of an engine's table: ``read_head(n)`` returns its first ``n`` rows as a
    pandas DataFrame (``n`` = :data:`HEAD_ROWS`), on which :func:`plan_from_head` detects them."""
    return plan_from_head(read_head(HEAD_ROWS), file, **overrides)


def map_labels(plan: Plan, raw_values: list) -> tuple[np.ndarray, dict, tuple[str, ...]]:
    """Class ids for the distinct raw labels of the whole table, by the loader's own rules.

    Returns (ids, label_mapping, notes): multi-class int64 class ids; binary 0/1 (positive).
    """
    import pandas as pd

    from thresholdlab.loading import load

    if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in raw_values):
        raise DataError(
            f"{plan.file!r}, column {plan.label!r}: some rows have no label; every row needs one "
            "(drop or fill them before sketching)."
        )
    frame = pd.DataFrame({plan.label: pd.Series(list(raw_values))})
    for name in plan.scores:
        frame[name] = 0.5
    try:
        pset = load(_parquet_bytes(frame), name="labels.parquet", label_col=plan.label,
                    score_cols=list(plan.scores), task=plan.task, score_kind="probability")
    except DataError as e:
        # The rows of this little table are not the file's: say which label, not which row.
        text = re.sub(r", row \d+", "", str(e)).replace("'labels.parquet'", repr(plan.file))
        raise DataError(text) from None
    ids = pset.labels.reshape(len(raw_values), -1)[:, 0] if plan.task != "multiclass" else pset.labels
    # The stand-in scores' kind is not the table's: that note comes from the whole range.
    notes = tuple(n for n in pset.notes if not _SCORE_KIND_NOTES.match(n))
    return np.asarray(ids, dtype=np.int64), dict(pset.label_mapping or {}), notes


def shown_name(paths) -> str:
    """How messages name the files of a sketch: the first one's name, and how many more."""
    first = Path(paths[0]).name
    return first if len(paths) == 1 else f"{first} and {len(paths) - 1} more"


def decide_score_kind(plan: Plan, low: float, high: float) -> tuple[str, str | None]:
    """(score kind, note) from the whole table's score range, unless the user gave it."""
    if plan.score_kind:
        return plan.score_kind, None
    if low >= -PROBABILITY_SLACK and high <= 1 + PROBABILITY_SLACK:
        return "probability", "All scores lie in [0, 1], so they are read as probabilities."
    how = "softmax" if plan.task == "multiclass" else "sigmoid"
    return "logit", (f"Scores range from {low:.4g} to {high:.4g}, outside [0, 1], so they are "
                     f"read as logits ({how} turns them into probabilities).")


def check_bad_values(plan: Plan, bad: list[int]) -> None:
    """DataError naming the first score (or truth) column with missing or non-finite values."""
    names = list(plan.scores) + list(plan.labels)
    for name, count in zip(names, bad):
        if count:
            role = "score" if name in plan.scores else "0/1 truth"
            what = ("missing, non-numeric or infinite" if role == "score"
                    else "missing or other than 0 and 1")
            raise DataError(
                f"{plan.file!r}, {role} column {name!r}: {count:,} rows have {what} values; fix "
                "them (or choose other columns with --score-cols / --label-cols) and sketch again."
            )


def assemble(plan: Plan, n_bins: int, score_kind: str, *, groups=None, multilabel=None,
             notes=(), sources=()) -> Sketch:
    """A :class:`Sketch` from an engine's aggregated answer.

    groups (binary, multi-class): list of (raw label, per-class [(bins, counts)], top
        (keys, counts) or None), where ``top`` keys are ``argmax * (n_bins + 1) + bin``.
    multilabel: per class (keys, counts) with key ``bin * 2 + truth``.
    """
    k = len(plan.classes)
    width = n_bins + 1
    positive = np.zeros((k, width), dtype=np.int64)
    negative = np.zeros((k, width), dtype=np.int64)
    top = None
    mapping: dict = dict(plan.label_mapping)
    label_notes: tuple[str, ...] = ()
    if plan.task == "multilabel":
        for c, (keys, counts) in enumerate(multilabel):
            keys = np.asarray(keys, dtype=np.int64)
            counts = np.asarray(counts, dtype=np.int64)
            np.add.at(positive[c], keys[keys % 2 == 1] // 2, counts[keys % 2 == 1])
            np.add.at(negative[c], keys[keys % 2 == 0] // 2, counts[keys % 2 == 0])
    else:
        ids, mapping, label_notes = map_labels(plan, [g[0] for g in groups])
        if plan.task == "multiclass":
            top = np.zeros((k, width, k), dtype=np.int64)
        for (raw, per_class, top_hist), y in zip(groups, ids):
            for c, (bins, counts) in enumerate(per_class):
                truth = (y == c) if plan.task == "multiclass" else bool(y)
                target = positive if truth else negative
                np.add.at(target[c], np.asarray(bins, dtype=np.int64), np.asarray(counts, dtype=np.int64))
            if top is not None:
                keys = np.asarray(top_hist[0], dtype=np.int64)
                np.add.at(top[:, :, y], (keys // width, keys % width), np.asarray(top_hist[1], dtype=np.int64))
    return Sketch(
        task=plan.task,
        classes=plan.classes,
        n_bins=n_bins,
        positive=positive,
        negative=negative,
        top=top,
        score_kind=score_kind,
        activation=plan.activation(score_kind),
        file=plan.file,
        columns=plan.columns,
        label_mapping=mapping,
        notes=tuple(dict.fromkeys((*label_notes, *plan.notes, *notes))),
        warnings=_warnings(plan.classes, positive, negative),
        sources=tuple(sources),
    )


def _warnings(classes, positive, negative) -> tuple[str, ...]:
    from thresholdlab.loading.labels import balance_warnings

    # Every row is binned once per class, so any class's bins hold all the rows.
    n = int(positive[0].sum() + negative[0].sum()) if len(classes) else 0
    return tuple(balance_warnings(classes, positive.sum(axis=1), n))
