"""Step 4b: a label column of tag sets (``Action|Comedy``) read as multi-label truth.

Multi-label datasets are often exported with each row's labels joined in one text cell, by
``|``, ``;`` or ``,`` (``"|".join(tags)``, a genres or topics column). When every part of
every cell names a score column's class, and some cell holds two or more, the column is one
0/1 truth column per class; an empty cell is a row with no label.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from thresholdlab.loading.spelling import _quoted
from thresholdlab.predictions import DataError

SEPARATORS = ("|", ";", ",")
"""What joins a row's labels, in the order they are tried."""
_HEAD_ROWS = 10_000


def tag_sets(label: pd.Series, classes: list[str], file: str = "",
             column: str = "") -> tuple[np.ndarray, str] | None:
    """(bool (n, K) truth, separator) when ``label`` holds sets of the classes joined by a
    separator; None otherwise (the column is read as one label per row). Raises DataError for
    a tag that names no class among cells that otherwise join known classes."""
    if not (pd.api.types.is_string_dtype(label) or label.dtype == object) or len(classes) < 2:
        return None
    # Tag sets join classes in many rows: none among the first rows, and a label column of
    # a million names is not factorized twice.
    head = {str(v) for v in pd.unique(label.iloc[:_HEAD_ROWS].dropna())}
    if not any(s in v for v in head for s in SEPARATORS):
        return None
    codes, uniques = pd.factorize(label, use_na_sentinel=True)
    texts = [str(u) for u in uniques]
    sep = next((s for s in SEPARATORS if any(s in t for t in texts)), None)
    if sep is None:
        return None
    index = {c.strip().lower(): j for j, c in enumerate(classes)}
    rows = np.zeros((len(texts) + 1, len(classes)), dtype=bool)  # the last: a missing cell
    joined, unknown = False, None
    for u, text in enumerate(texts):
        parts = [p.strip().lower() for p in text.split(sep) if p.strip()]
        known = [p for p in parts if p in index]
        if len(known) < len(parts):
            unknown = unknown or (u, next(p for p in parts if p not in index))
            continue
        joined |= len(parts) > 1
        rows[u, [index[p] for p in known]] = True
    if not joined:
        return None
    if unknown is not None:
        if not _mostly_known(texts, sep, index):
            return None  # text with separators in it, not sets of the classes
        u, part = unknown
        row = int(np.argmax(codes == u)) + 1
        raise DataError(
            f"File '{file}', column '{column}', row {row}: '{part}' in '{texts[u]}' names no "
            f"class; the classes are the score columns' ({_quoted(classes)}): fix the tag or "
            "add its score column, and load the file again."
        )
    return rows[codes], sep  # code -1 (a missing cell) picks the last row: no label


def _mostly_known(texts: list[str], sep: str, index: dict) -> bool:
    parts = [p.strip().lower() for t in texts for p in t.split(sep) if p.strip()]
    return sum(p in index for p in parts) * 2 > len(parts)


def tag_sets_note(column: str, sep: str, classes: list[str]) -> str:
    example = sep.join(classes[:2])
    return (f"Column '{column}' holds each row's classes joined by '{sep}' (such as "
            f"'{example}'), so the task is multi-label, with one 0/1 truth column per class "
            f"({_quoted(classes)}); an empty cell is a row with none.")
