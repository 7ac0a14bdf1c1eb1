"""Step 4: cut the parsed file into a :class:`Raw`: the score matrix, the label values, the ids.

For a table the roles come from :func:`~thresholdlab.loading.roles.detect_roles`; for arrays
from their names (``scores``, ``labels``, ``classes``) and shapes. What the numbers mean
(task, classes, probabilities or logits) is decided later.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from thresholdlab.loading.roles import Overrides, detect_roles
from thresholdlab.loading.spelling import _NA_TEXT, _cell
from thresholdlab.loading.tag_sets import tag_sets, tag_sets_note
from thresholdlab.loading.tables import BLOCK_PER_COLUMN
from thresholdlab.predictions import DataError

_RELEASE_MAX_COLUMNS = 1000


@dataclass(frozen=True)
class ScoreSummary:
    """What a reader found about a score matrix while filling it, so that the checks of
    :mod:`~thresholdlab.loading.scores` need no pass of their own over the matrix.

    Valid only for ``scores`` itself: once :class:`Raw` holds another array (clipped, float64
    logits) the checks read that array.

    Attributes
    ----------
    scores : ndarray, shape (n, K)
        The matrix summarised.
    low, high : numpy scalar
        ``scores.min()`` and ``scores.max()``, NaN when any score is NaN.
    row_sums : ndarray, shape (n,), optional
        Each row's scores added in their own precision, in any order (what
        :func:`~thresholdlab.loading.scores.rows_off` starts from), when the reader took them.
    """

    scores: np.ndarray
    low: np.generic
    high: np.generic
    row_sums: np.ndarray | None = None


COLUMN_BLOCK_BYTES = 1 << 20
"""Scores per block of rows laid out column by column (:func:`column_block`): small enough to
stay in the processor's cache while the block is copied and read."""
_COLUMN_BLOCK_ROWS = (256, 8192)
_COLUMN_BLOCK_PAD = 16
"""Spare values after each column of a block: columns a power of two bytes apart fall in the
same cache sets, and moving a block's rows across 20 of them then takes about twice as long."""


def column_block(k: int, dtype) -> np.ndarray:
    """An empty (K, rows) block for a block of rows of a (n, K) matrix, column by column.

    numpy writes or reads a C-ordered block of rows through its transpose (``np.copyto(
    matrix[rows], block.T)``) about twice as fast as one strided column at a time, and the
    block's columns are contiguous for whole-column arithmetic.
    """
    rows = column_block_rows(k, dtype)
    return np.empty((k, rows + _COLUMN_BLOCK_PAD), dtype=dtype)[:, :rows]


def column_block_rows(k: int, dtype) -> int:
    """Rows of a :func:`column_block` of ``k`` columns."""
    itemsize = np.dtype(dtype).itemsize
    return int(np.clip(COLUMN_BLOCK_BYTES // (k * itemsize), *_COLUMN_BLOCK_ROWS))


@dataclass
class Raw:
    """What detection found, before task, label mapping and score kind are decided.

    ``score_names`` and ``label_names`` are how messages refer to each score column and label
    source (``column 'p_cat'``, ``array 'labels'``).
    """

    file: str
    scores: np.ndarray  # (n, K) as in the file, not yet checked for finiteness; float64, or
    # float32 when the file's scores are all float32 (float64 after finish if they are logits)
    score_names: list[str]
    classes: list[str] | None  # None: arrays without class names
    named: bool  # class names come from score prefixes or a classes array
    label: pd.Series | None = None
    label_name: str = ""
    truth: list[pd.Series] | None = None
    truth_names: list[str] | None = None
    truth_keys: list[str] | None = None  # how the label mapping names each truth column, when
    # not by a column of its own (a tag in a column of tag sets)
    ids: np.ndarray | None = None
    columns: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    summary: ScoreSummary | None = None  # what the reader found while filling ``scores``
    arrays: str = ""  # "array" (NPZ) or "tensor" (.pt) for a file of arrays, "" for a table


def raw_from_table(
    frame: pd.DataFrame, file: str, ov: Overrides,
    filled: tuple[np.ndarray, list[str]] | None = None,
    summary: ScoreSummary | None = None,
) -> Raw:
    """Detect roles and pull scores, labels and ids out of a parsed table.

    ``filled`` is a score matrix the reader already filled and the columns it holds (see
    :mod:`~thresholdlab.loading.streaming`); when those are the score columns detection
    finds, in the same order, it is the matrix, and no column is copied. ``summary`` is what
    the reader found about that matrix, kept when the matrix is.
    """
    roles = detect_roles(frame, file, ov)
    if filled is not None and filled[1] == roles.scores:
        scores = filled[0]
    else:
        summary = None
        # Score columns nothing else reads leave the frame as the matrix takes them in.
        kept = {roles.id, roles.label, *(roles.labels or [])}
        times = Counter(roles.scores)
        release = [c for c in roles.scores if c not in kept and times[c] == 1]
        # Taking a column out of a frame costs a pass over its blocks, so for thousands of
        # columns (short rows, little memory) the columns stay.
        if not frame.attrs.get(BLOCK_PER_COLUMN) or frame.shape[1] > _RELEASE_MAX_COLUMNS:
            release = []
        scores = score_matrix(frame, roles.scores, file, release=release)
    raw = Raw(
        file=file,
        scores=scores,
        score_names=[f"column '{c}'" for c in roles.scores],
        classes=roles.classes,
        named=roles.named,
        # A copy: a view would keep the whole pandas block the id column sits in alive (in a
        # CSV frame, every integer column, such as K truth columns).
        ids=None if roles.id is None else frame[roles.id].to_numpy(copy=True),
        columns=roles.as_dict,
        notes=roles.notes,
        summary=summary,
    )
    if roles.labels is not None:
        raw.truth = [frame[c] for c in roles.labels]
        raw.truth_names = [f"column '{c}'" for c in roles.labels]
        return raw
    sets = (tag_sets(frame[roles.label], roles.classes, scores, file, roles.label)
            if ov.task in (None, "multilabel") else None)
    if sets is not None:
        truth, sep = sets
        raw.truth = [pd.Series(truth[:, j]) for j in range(truth.shape[1])]
        raw.truth_names = [f"column '{roles.label}', class '{c}'" for c in roles.classes]
        raw.truth_keys = [f"{c} in '{roles.label}'" for c in roles.classes]
        raw.notes.append(tag_sets_note(roles.label, sep, roles.classes))
    else:
        raw.label, raw.label_name = frame[roles.label], f"column '{roles.label}'"
    return raw


def score_matrix(
    frame: pd.DataFrame, columns: list[str], file: str, release: list[str] = ()
) -> np.ndarray:
    """(n, K) C-contiguous scores, filled one column at a time.

    float32 when every score column is float32 (a model's output saved as it was), else float64.
    The first text value that is no number is an error. Columns named in ``release`` are taken
    out of ``frame`` as they are copied, so that (for a frame with a block per column) the
    scores are never held twice: the matrix grows as the frame shrinks.
    """
    # float32 values are the data: a float64 copy holds the same numbers in twice the memory.
    # Whether they are probabilities is decided later (finish); logits become float64 there.
    all32 = all(frame[c].dtype == np.float32 for c in columns)
    dtype = np.float32 if all32 else np.float64
    out = np.empty((len(frame), len(columns)), dtype=dtype)
    release = set(release)
    group: list[np.ndarray] = []  # numeric columns not yet copied, ending at column k - 1
    for k, c in enumerate(columns):
        series = frame.pop(c) if c in release else frame[c]
        if pd.api.types.is_numeric_dtype(series):
            group.append(_numbers(series))
            if len(group) == _GROUP_COLUMNS:
                _copy_columns(out, k + 1 - len(group), group)
            continue
        _copy_columns(out, k - len(group), group)
        numbers = pd.to_numeric(series, errors="coerce")
        bad = (numbers.isna() & series.notna()).to_numpy()
        if bad.any():
            # A missing-value word ("NA", "null") is a missing score, which check_finite reports.
            rows = np.flatnonzero(bad)
            missing = [isinstance(v, str) and v.strip() in _NA_TEXT for v in series.iloc[rows]]
            if not all(missing):
                row = int(rows[missing.index(False)])
                raise DataError(
                    f"File '{file}', column '{c}', row {row + 1}: '{_cell(series.iloc[row])}' is not "
                    "a number; fix the value or choose the score columns with --score-cols."
                )
        out[:, k] = numbers.to_numpy(dtype=dtype, na_value=np.nan)
    _copy_columns(out, len(columns) - len(group), group)
    return out


_GROUP_COLUMNS = 8
"""Columns copied into the matrix together (at most this many held beside it when the frame
gives its columns up as they are copied)."""
_BLOCK_ROWS = 16384


def _copy_columns(out: np.ndarray, first: int, group: list[np.ndarray]) -> None:
    """Copy ``group`` into ``out[:, first:first + len(group)]`` and empty the list.

    Row block by row block, so each block of the matrix is written whole while it is in the
    cache: writing one column at a time strides over the whole matrix once per column, which
    takes about 2.5x as long. Casting is that of assigning each column (float32 or whole
    numbers into float64), so the values are the same.
    """
    if not group:
        return
    columns = slice(first, first + len(group))
    for start in range(0, out.shape[0], _BLOCK_ROWS):
        rows = slice(start, start + _BLOCK_ROWS)
        np.stack([g[rows] for g in group], axis=1, out=out[rows, columns], casting="unsafe")
    group.clear()


def _numbers(series: pd.Series) -> np.ndarray:
    """A numeric column's values as a numpy array; missing values (nullable types) as NaN.

    A numpy-typed column is returned as it is, without a float64 copy: comparing or storing its
    values gives what their float64 conversion would, and a million-row copy per column, freed
    straight away, leaves the allocator's heap larger for what comes after loading.
    """
    if isinstance(series.dtype, np.dtype):
        return series.to_numpy()
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def raw_from_arrays(arrays: dict[str, Any], file: str, ov: Overrides, noun: str = "array") -> Raw:
    """Scores, labels and class names from an NPZ or ``.pt`` dict, shapes checked.

    ``noun`` is what messages call an entry: "array" (NPZ) or "tensor" (``.pt``).
    """
    if ov.label_col or ov.label_cols or ov.score_cols:
        raise DataError(
            f"File '{file}' holds {noun}s, not columns, so --label-col, --label-cols and "
            "--score-cols do not apply; leave them out, as the scores, labels and class names "
            "are read from the entries named 'scores', 'labels' and 'classes'."
        )
    for key in ("scores", "labels"):
        if key not in arrays:
            held = ", ".join(f"'{k}'" for k in arrays) or "nothing"
            raise DataError(
                f"File '{file}' has no {noun} '{key}' (it holds {held}); "
                "save the scores and labels under the names 'scores' and 'labels'."
            )
    # Arrays saved on a big-endian machine come back in its byte order; numbers are numbers,
    # but pandas' factorize and torch take native order only.
    scores, labels = (_native(np.asarray(arrays[key])) for key in ("scores", "labels"))
    # Labels saved as bytes (numpy's "S" strings, a list of bytes) are names like any others.
    labels = _decoded(labels, file, f"{noun} 'labels'", "labels")
    if scores.dtype.kind not in "biuf":
        raise DataError(
            f"File '{file}', {noun} 'scores' holds {scores.dtype} values, not numbers; "
            "save the scores as a float array."
        )
    if scores.ndim not in (1, 2) or labels.ndim not in (1, 2):
        bad, arr = ("scores", scores) if scores.ndim not in (1, 2) else ("labels", labels)
        raise DataError(
            f"File '{file}', {noun} '{bad}' has {arr.ndim} dimensions; "
            "save it with shape (rows,) or (rows, classes)."
        )
    if scores.shape[0] != labels.shape[0]:
        raise DataError(
            f"File '{file}': {noun} 'scores' has {scores.shape[0]} rows but {noun} 'labels' has "
            f"{labels.shape[0]}; save one score row and one label per sample."
        )
    if scores.shape[0] == 0:
        raise DataError(f"File '{file}' has no data rows; save at least one scored sample.")
    stacked = scores.ndim == 2 and scores.shape[0] < scores.shape[1]
    # float32 stays float32, as for table columns (see score_matrix).
    dtype = np.float32 if scores.dtype == np.float32 else np.float64
    scores = np.ascontiguousarray(scores.reshape(scores.shape[0], -1), dtype=dtype)
    k = scores.shape[1]
    if k == 0:
        raise DataError(
            f"File '{file}': {noun} 'scores' has no columns; save one score column per class "
            "(or one column for a binary model)."
        )
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim == 2 and labels.shape[1] != k:
        raise DataError(
            f"File '{file}': {noun} 'labels' has {labels.shape[1]} columns but 'scores' has {k}; "
            "save one 0/1 truth column per score column (multi-label) or one label per row."
        )
    classes, named = _array_classes(arrays.get("classes"), k, labels.ndim, file)
    ignored = [key for key in arrays if key not in ("scores", "labels", "classes")]
    raw = Raw(
        file=file,
        scores=scores,
        score_names=(
            [f"{noun} 'scores'"]
            if k == 1
            else [f"{noun} 'scores', column {j + 1}" for j in range(k)]
        ),
        classes=classes,
        named=named,
        columns={
            "id": None, "label": None, "labels": None, "scores": ["scores"], "ignored": ignored,
        },
        arrays=noun,
    )
    if labels.ndim == 2:
        raw.truth = [pd.Series(labels[:, j]) for j in range(k)]
        raw.truth_names = [f"{noun} 'labels', column {j + 1}" for j in range(k)]
        raw.columns["labels"] = ["labels"]
    else:
        raw.label, raw.label_name = pd.Series(labels), f"{noun} 'labels'"
        raw.columns["label"] = "labels"
    if stacked:
        # Batches stacked into one tensor (torch.stack, np.stack) read as rows of classes.
        raw.notes.append(
            f"{noun.capitalize()} 'scores' has fewer rows ({scores.shape[0]}) than columns "
            f"({k}): if it holds batches stacked one on another, save them joined instead "
            "(torch.cat, np.concatenate), one row per sample."
        )
    return raw


def _native(array: np.ndarray) -> np.ndarray:
    """``array`` in this machine's byte order (the same values)."""
    if array.dtype.isnative:
        return array
    return array.astype(array.dtype.newbyteorder("="))


def _decoded(array: np.ndarray, file: str, where: str, what: str) -> np.ndarray:
    """``array`` with its bytes values as UTF-8 text (``np.array([b"cat"])`` names class
    "cat", not "b'cat'"); anything else as it is."""
    if array.dtype.kind == "S":
        array = array.astype(object)
    elif array.dtype.kind != "O":
        return array
    try:
        return np.array(
            [v.decode("utf-8") if isinstance(v, bytes) else v for v in array.reshape(-1)],
            dtype=object,
        ).reshape(array.shape)
    except UnicodeDecodeError:
        raise DataError(
            f"File '{file}', {where} holds bytes that are not UTF-8 text; "
            f"save the {what} as UTF-8 strings (or numbers)."
        ) from None


def _array_classes(classes, k: int, label_ndim: int, file: str):
    """Class names from the optional ``classes`` array; binary may name [negative, positive]."""
    if classes is None:
        if label_ndim == 1 and k <= 2:
            return None, False  # binary: named after the positive label later
        return [f"class_{j}" for j in range(k)], False
    names = [
        str(c) for c in _decoded(np.asarray(classes, dtype=object).reshape(-1), file,
                                 "'classes'", "class names")
    ]
    twice = next((name for j, name in enumerate(names) if name in names[:j]), None)
    if twice is not None:
        raise DataError(
            f"File '{file}': 'classes' names class '{twice}' twice; "
            "give each score column its own name."
        )
    if len(names) == k:
        return names, True
    if k == 1 and len(names) == 2:
        return names[1:], True  # [negative, positive] for a single binary score
    raise DataError(
        f"File '{file}': 'classes' names {len(names)} classes but 'scores' has {k} columns; "
        "give one name per score column."
    )
