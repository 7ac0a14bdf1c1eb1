"""Step 7: decide the task and assemble the :class:`PredictionSet` from a :class:`Raw`."""

from __future__ import annotations

from typing import Callable

import numpy as np

from thresholdlab.loading.labels import (
    class_balance_warnings, label_base_warnings, map_binary_labels, map_labels,
    map_truth_columns, one_hot_labels,
)
from thresholdlab.loading.raw import Raw
from thresholdlab.loading.roles import Overrides
from thresholdlab.loading.spelling import FALSE_NAMES, TRUE_NAMES
from thresholdlab.loading.scores import (
    check_finite, decide_score_kind, percent_warnings, sum_warnings,
)
from thresholdlab.predictions import DataError, PredictionSet, sigmoid, softmax


def finish(raw: Raw, ov: Overrides, digest: str | Callable[[], str] = "") -> PredictionSet:
    """Decide the task, map labels to classes, decide the score kind; build the PredictionSet
    (``digest``: its ``PredictionSet.digest``)."""
    check_finite(raw)
    notes, warnings = raw.notes, []
    task = decide_task(raw, ov)
    if raw.classes is None and task != "binary":
        raw.classes = [f"class_{j}" for j in range(raw.scores.shape[1])]
    scores, columns = raw.scores, dict(raw.columns)
    mapping: dict[str, str]

    if task == "multilabel":
        classes = list(raw.classes)
        labels, mapping, label_notes = map_truth_columns(raw, classes)
        if labels.shape[1] > 2 and (labels.sum(axis=1) == 1).all():
            label_notes.append(
                "Every row has exactly one positive label, as one-hot multi-class labels do; "
                "use --task multiclass to read them as one class per row."
            )
    elif task == "multiclass" and raw.truth is not None:
        classes = list(raw.classes)
        labels, mapping, label_notes = one_hot_labels(raw, classes)
    elif task == "multiclass":
        classes = list(raw.classes)
        labels, mapping, label_notes = map_labels(
            raw.label, classes, file=raw.file, where=raw.label_name, arrays=raw.arrays,
            named=raw.named,
        )
        warnings += label_base_warnings(labels, mapping, classes, scores)
    else:
        two = scores.shape[1] == 2
        positive_first = two and _positive_first(raw.classes)
        if positive_first:
            _swap_two_columns(raw)
            scores, columns = raw.scores, dict(raw.columns)
        names = raw.classes if raw.classes is not None else None
        positive, labels, mapping, label_notes = map_binary_labels(
            raw.label, names, named=raw.named or (two and names is not None),
            file=raw.file, where=raw.label_name, arrays=raw.arrays,
        )
        classes = [positive]
        labels = labels[:, None]
    notes += label_notes

    kind, activation = decide_score_kind(raw, task, ov, notes)
    scores = raw.scores  # rounding just outside [0, 1] may have been clipped
    warnings += percent_warnings(raw, task, kind, ov)
    if kind == "logit":
        # Logits are held in float64, like everything computed from them: the difference of
        # two binary logit columns and the softmax / sigmoid.
        raw.scores = scores = scores.astype(np.float64, copy=False)
    if task == "binary" and scores.shape[1] == 2:
        scores, columns = _binary_from_two(raw, kind, columns, classes[0], notes,
                                           positive_first)

    if activation == "softmax":
        probabilities = softmax(scores)
    elif activation == "sigmoid":
        probabilities = sigmoid(scores)
    else:
        probabilities = scores
    warnings += class_balance_warnings(task, classes, labels)
    if task == "multiclass" and activation == "none":
        warnings += sum_warnings(scores, raw.summary)

    # float64, or float32 for float32 probabilities (from_arrays keeps those the same way).
    return PredictionSet(
        task=task,
        classes=tuple(classes),
        scores=np.ascontiguousarray(scores),
        probabilities=np.ascontiguousarray(probabilities),
        labels=labels,
        score_kind=kind,
        activation=activation,
        file=raw.file,
        digest=digest,
        ids=raw.ids,
        columns=columns,
        label_mapping=mapping,
        notes=tuple(notes),
        warnings=tuple(warnings),
    )


def decide_task(raw: Raw, ov: Overrides) -> str:
    """the input-format rules: one score column -> binary; K truth columns -> multi-label; else multi-class,
    except that two score columns with a single label column are binary on the second."""
    k = raw.scores.shape[1]
    if raw.truth is not None:
        if ov.task == "multiclass" and k > 1:
            return "multiclass"  # one-hot truth, checked in one_hot_labels
        if ov.task in ("binary", "multiclass"):
            fix = ("save one label per row" if raw.arrays
                   else "name a single label column with --label-col")
            raise DataError(
                f"File '{raw.file}' has one truth column per class, which is multi-label data; "
                f"for {ov.task} data {fix}."
            )
        if ov.task is None and k == 1:
            # One 0/1 truth column paired with one score column is plain binary data.
            raw.label, raw.label_name = raw.truth[0], raw.truth_names[0]
            raw.truth = None
            if raw.columns.get("labels"):
                raw.columns["label"], raw.columns["labels"] = raw.columns["labels"][0], None
            return "binary"
        return "multilabel"
    if ov.task == "multilabel":
        named = (f"saved as {raw.arrays} 'labels' of shape (rows, classes)" if raw.arrays
                 else "named with --label-cols")
        raise DataError(
            f"File '{raw.file}' has a single label column; multi-label data needs one 0/1 truth "
            f"column per class, {named}."
        )
    if k == 1:
        if ov.task == "multiclass":
            named = (f"saved as {raw.arrays} 'scores' of shape (rows, classes)" if raw.arrays
                     else "named with --score-cols")
            raise DataError(
                f"File '{raw.file}' has one score column; multi-class data needs one per class, "
                f"{named}."
            )
        return "binary"
    if ov.task == "multiclass":
        return "multiclass"
    if k == 2:
        return "binary"
    if ov.task == "binary":
        fix = "save only those" if raw.arrays else "choose them with --score-cols"
        raise DataError(
            f"File '{raw.file}' has {k} score columns; binary data needs one (or two, for the "
            f"negative and positive class), so {fix}."
        )
    return "multiclass"


def _positive_first(classes) -> bool:
    """Two score columns whose class names say the first is the positive one (``prob_1,
    prob_0``; ``p_yes, p_no``): binary is on the positive column, wherever it stands."""
    if classes is None or len(classes) != 2:
        return False
    first, second = (str(c).strip().lower() for c in classes)
    return first in TRUE_NAMES and second in FALSE_NAMES


def _swap_two_columns(raw: Raw) -> None:
    """Put the negative column first, as the binary rules read two columns."""
    raw.scores = np.ascontiguousarray(raw.scores[:, ::-1])
    raw.summary = None  # it described the matrix as read
    raw.classes = raw.classes[::-1]
    raw.score_names = raw.score_names[::-1]
    if raw.columns.get("scores"):
        raw.columns = {**raw.columns, "scores": raw.columns["scores"][::-1]}


def _binary_from_two(raw: Raw, kind: str, columns: dict, positive: str, notes: list[str],
                     positive_first: bool = False):
    """Binary scores from a negative and a positive column (the positive one: second in
    ``raw``, first in the file when ``positive_first``)."""
    names = raw.columns.get("scores") or []
    if len(names) == 2:
        neg_col, pos_col = names
    else:  # an array: its columns as the file holds them (a swap reversed them in raw)
        neg_col, pos_col = ("scores[:, 1]", "scores[:, 0]") if positive_first else (
            "scores[:, 0]", "scores[:, 1]")
    where = "the first, by its class name," if positive_first else "the second,"
    if kind == "logit":
        # softmax over two logits equals the sigmoid of their difference, so nothing is lost.
        scores = (raw.scores[:, 1] - raw.scores[:, 0])[:, None]
        notes.append(
            f"Two logit columns with binary labels: the task is binary on '{pos_col}' (class "
            f"'{positive}') with logit '{pos_col}' minus '{neg_col}', since softmax over two "
            "classes equals the sigmoid of that difference; use --task multiclass to keep both."
        )
        return scores, columns
    notes.append(
        f"Two score columns with binary labels: the task is binary on {where} '{pos_col}' "
        f"(class '{positive}'), and '{neg_col}' is not used; use --task multiclass to keep both."
    )
    if len(names) == 2:
        ignored = [*columns.get("ignored", []), neg_col]
        columns = {**columns, "scores": [pos_col], "ignored": ignored}
    return np.ascontiguousarray(raw.scores[:, 1:2]), columns
