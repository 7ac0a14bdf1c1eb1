"""Step 4b: a label column of tag sets (``Action|Comedy``) read as multi-label truth.

Multi-label datasets are often exported with each row's labels joined in one text cell, by
``|``, ``;`` or ``,`` (``"|".join(tags)``, a genres or topics column). When every part of
every cell names a score column's class, and some cell holds two or more, the column is one
0/1 truth column per class; an empty cell (or ``[]``) is a row with no label. A column of
lists written as text (``['tech', 'sports']``) reads the same. Scores whose rows sum to 1
are one softmax's, so one class per row: their label column is never read as tag sets.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from thresholdlab.loading.extra_columns import rows_sum_to_one
from thresholdlab.loading.spelling import _quoted
from thresholdlab.predictions import DataError

SEPARATORS = ("|", ";", ",")
"""What joins a row's labels, in the order they are tried."""
_HEAD_ROWS = 10_000
_DECIMAL_COMMA = re.compile(r"-?\d+,\d+")
_QUOTED = r"""(?:'[^']*'|"[^"]*")"""
_ITEM = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_PYTHON_LIST = re.compile(rf"\s*\[\s*(?:{_QUOTED}\s*(?:,\s*{_QUOTED}\s*)*)?\]\s*")


def as_tags(text: str) -> str:
    """A cell as tag-set text: a Python list's text (``['tech', 'sports']``, as ``to_csv``
    writes a column of lists) joined by ``|``; any other text as it is."""
    if _PYTHON_LIST.fullmatch(text):
        return "|".join(a or b for a, b in _ITEM.findall(text))
    return text


def joins_classes(label: pd.Series) -> bool:
    """Whether the first rows of a text label column join values by a separator (a cheap
    look: a label column of a million names is not factorized twice)."""
    if not (pd.api.types.is_string_dtype(label) or label.dtype == object):
        return False
    head = {str(v) for v in pd.unique(label.iloc[:_HEAD_ROWS].dropna())}
    return any(s in v for v in head for s in SEPARATORS)


def tag_sets(label: pd.Series, classes: list[str], scores: np.ndarray, file: str = "",
             column: str = "") -> tuple[np.ndarray, str] | None:
    """(bool (n, K) truth, separator) when ``label`` holds sets of the classes joined by a
    separator beside scores that are not one softmax (their rows do not sum to 1); None
    otherwise (the column is read as one label per row). Raises DataError for a tag that names
    no class among cells that otherwise join known classes."""
    if len(classes) < 2 or not joins_classes(label) or rows_sum_to_one(scores):
        return None
    codes, uniques = pd.factorize(label, use_na_sentinel=True)
    texts = [str(u) for u in uniques]
    listed = all(_PYTHON_LIST.fullmatch(t) for t in texts)  # str(list): "['tech', 'sports']"
    if listed:
        texts = [as_tags(t) for t in texts]
    sep = next((s for s in SEPARATORS if any(s in t for t in texts)), None)
    if sep is None or (sep == "," and all(_DECIMAL_COMMA.fullmatch(t.strip()) for t in texts)):
        return None  # numbers with a decimal comma
    index = {c.strip().lower(): j for j, c in enumerate(classes)}
    rows = np.zeros((len(texts) + 1, len(classes)), dtype=bool)  # the last: a missing cell
    joined, unknown = False, None
    for u, text in enumerate(texts):
        if text.strip().lower() in index:  # a class whose name holds the separator
            rows[u, index[text.strip().lower()]] = True
            continue
        parts = [p.strip() for p in text.split(sep) if p.strip()]
        known = [p.lower() for p in parts if p.lower() in index]
        if len(known) < len(parts):
            unknown = unknown or (u, next(p for p in parts if p.lower() not in index))
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
    # code -1 (a missing cell) picks the last row: no label
    return rows[codes], ("a list" if listed else sep)


def _mostly_known(texts: list[str], sep: str, index: dict) -> bool:
    parts = [p.strip().lower() for t in texts for p in t.split(sep) if p.strip()]
    return sum(p in index for p in parts) * 2 > len(parts)


def names_classes(value: str, wanted: set[str]) -> bool:
    """Whether a cell (lower-cased) names a class or joins class names (``tech|sports``)."""
    if value in wanted:
        return True
    value = as_tags(value)
    sep = next((s for s in SEPARATORS if s in value), None)
    return sep is not None and all(p.strip() in wanted for p in value.split(sep) if p.strip())


def tag_sets_note(column: str, sep: str, classes: list[str]) -> str:
    if sep == "a list":
        how = f"as a list (such as {[str(c) for c in classes[:2]]})"
    else:
        how = f"joined by '{sep}' (such as '{sep.join(classes[:2])}')"
    return (f"Column '{column}' holds each row's classes {how}, so the task is multi-label, "
            f"with one 0/1 truth column per class ({_quoted(classes)}); an empty cell is a row "
            "with none.")
