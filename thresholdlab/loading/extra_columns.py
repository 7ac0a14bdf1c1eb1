"""Step 3, for files without score prefixes: numeric columns beside the scores that are not
the model's outputs.

Without a score prefix every numeric column besides the labels is a candidate score (SPEC §2),
and exports often carry more numbers than scores: a fold or split number, a sample weight, a
threshold, a per-row uncertainty, the top class's probability (``confidence``), whether the
prediction was ``correct``. Taken as scores they become classes of their own or the positive
class of a "two-output" binary file, silently. They are told apart by the values, the names
only breaking ties:

- a candidate that holds the highest of the others in every row is the top class's
  probability (``confidence``, ``max_prob``), not a class;
- columns named after the label values whose rows sum to 1, where all candidates together do
  not, are one softmax's outputs, and any other candidate is not a class (``0, 1, 2, correct``
  with labels 0..2);
- with two label values, candidates whose rows do not sum to 1 and that are not named as the
  two classes (``neg, pos``, ``0, 1``) are not one model's outputs for the two labels: the one
  column of probabilities (within [0, 1], with fractions) among them is the score (``proba``
  beside ``fold``, ``sample_weight``, ``age``) or the one whose name says score (``proba``
  beside a ``weight`` of 0.6 and 1.0, ``logit`` beside ``weight``) is the score, and a column
  equal to max(p, 1 - p) of the other is the predicted class's probability; failing that,
  the input rules decide as before.

Logits (any candidate outside [0, 1]) of a two-output model are left as they are.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from thresholdlab.loading.spelling import FALSE_NAMES, TRUE_NAMES, _quoted, _spell

SAMPLE_ROWS = 10_000
"""Rows whose values decide what a column is, as role detection samples a column's values:
the whole column is read only to confirm a column is the top class's probability."""
_SCREEN_ROWS = 1000  # every file with several score columns is screened: a cheap look
SUMS_TO_ONE = 0.01
"""How far from 1 a row of probabilities may sum (values rounded when written)."""
_SUMMING_SHARE = 0.9
SCORE_WORDS = frozenset({"p", "prob", "probs", "proba", "probas", "probability",
                          "probabilities", "score", "scores", "logit", "logits", "conf",
                          "confidence", "likelihood", "output", "sigmoid", "softmax"})
"""Words that name a column as a score (``proba``, ``y_score``), not after a class."""


def drop_extra_columns(frame: pd.DataFrame, label: str | None,
                       scores: list[str]) -> tuple[list[str], list[str], str | None]:
    """(scores, extras, note): prefix-less candidate ``scores`` with the columns that are not
    the model's outputs left out, and the sentence that says so (None when none is)."""
    if label is None or len(scores) < 2:
        return scores, [], None
    tops = top_class_columns(frame, scores)
    if tops:
        kept = [c for c in scores if c not in tops]
        return kept, tops, top_class_note(tops)
    labels = {_spell(v).strip().lower() for v in pd.unique(frame[label].dropna())}
    named = [c for c in scores if c.strip().lower() in labels]
    if 2 <= len(named) < len(scores) and _rows_sum_to_one(frame, named) \
            and not _rows_sum_to_one(frame, scores):
        extras = [c for c in scores if c not in named]
        return named, extras, (
            f"{_columns(extras)} not {'a class' if len(extras) == 1 else 'classes'}: the "
            f"columns named after the labels ({_quoted(named)}) sum to 1 in each row without "
            f"{'it' if len(extras) == 1 else 'them'}, so {_it_is(extras)} not used."
        )
    class_words = labels | TRUE_NAMES | FALSE_NAMES
    if len(labels) > 2 or all(c.strip().lower() in class_words for c in scores) \
            or _rows_sum_to_one(frame, scores):
        return scores, [], None  # named as the two classes (neg, pos), or one softmax
    if len(scores) == 2:
        confidence = _confidence_of(frame, scores)
        if confidence is not None:
            kept = [c for c in scores if c != confidence]
            return kept, [confidence], (
                f"Column '{confidence}' is the higher of '{kept[0]}' and 1 - '{kept[0]}' in "
                "every row (the predicted class's probability), not a score, so it is not used.")
    worded = [c for c in scores if _names_a_score(c)]
    probabilities = [c for c in scores if _holds_probabilities(frame[c])]
    if len(worded) == 1:
        score, why = worded[0], "the one named as a score"
    elif len(probabilities) == 1:
        score, why = probabilities[0], "the one column of probabilities among them"
    else:
        # Logits, whole numbers, or probabilities alike: the input rules decide (SPEC: two
        # columns with binary labels are binary on the second).
        return scores, [], None
    extras = [c for c in scores if c != score]
    return [score], extras, (
        f"The numeric columns {_quoted(scores)} do not sum to 1 in each row, so they are not "
        f"one model's two outputs: '{score}', {why}, is the score, and "
        f"{_quoted(extras)} {'is' if len(extras) == 1 else 'are'} not used."
    )


def _confidence_of(frame: pd.DataFrame, scores: list[str]) -> str | None:
    """Of two candidates, the one equal to max(p, 1 - p) of the other in every first row."""
    a, b = (_numbers(frame[c]) for c in scores)
    for (c, mine), other in ((scores[0], a), b), ((scores[1], b), a):
        if np.allclose(mine, np.maximum(other, 1 - other), rtol=0, atol=1e-9, equal_nan=True) \
                and not np.allclose(mine, other, equal_nan=True):
            return c
    return None


def top_class_columns(frame: pd.DataFrame, scores: list[str]) -> list[str]:
    """Candidates that hold, in every row, the highest of the other candidates' values: the
    top class's probability (``confidence``, ``max_prob``), which no class's score is."""
    if len(scores) < 3:
        return []
    # The first rows find the candidates; the whole column must agree.
    tops = [scores[j] for j in _tops(frame, scores, _SCREEN_ROWS)]
    if tops and len(frame) > _SCREEN_ROWS:
        tops = [scores[j] for j in _tops(frame, scores, None) if scores[j] in tops]
    return tops if len(tops) < len(scores) - 1 else []


def _tops(frame: pd.DataFrame, scores: list[str], rows: int | None) -> list[int]:
    """Positions of the columns equal to the highest of the others in each of ``rows`` rows
    without a missing value (every row: None)."""
    values = np.empty((min(len(frame), rows or len(frame)), len(scores)))
    for j, c in enumerate(scores):
        values[:, j] = _numbers(frame[c], rows)
    values = values[~np.isnan(values).any(axis=1)]
    if not len(values):
        return []
    ranked = np.sort(values, axis=1)
    first, second = ranked[:, -1], ranked[:, -2]
    # The highest of the others: the second highest where the column holds the highest. A
    # constant column, or one equal to another (a prior baseline: 0.4, 0.4, 0.1, 0.1 in
    # every row), is a class's score however it compares.
    highest = np.where(values == first[:, None], second[:, None], first[:, None])
    candidates = np.flatnonzero((values == highest).all(axis=0))
    return [int(j) for j in candidates
            if np.ptp(values[:, j]) > 0
            and not any(np.array_equal(values[:, j], values[:, i])
                        for i in range(len(scores)) if i != j)]


def top_class_note(tops: list[str]) -> str:
    return (f"{_columns(tops)} the highest of the other scores in every row (the top class's "
            f"probability), not a class's score, so {_it_is(tops)} not used.")


def _rows_sum_to_one(frame: pd.DataFrame, columns: list[str]) -> bool:
    """Whether most of the first rows of ``columns`` are probabilities that sum to 1."""
    return rows_sum_to_one(np.column_stack([_numbers(frame[c]) for c in columns]))


def rows_sum_to_one(values: np.ndarray) -> bool:
    """Whether most of the first :data:`SAMPLE_ROWS` rows of ``values`` (n, K) sum to 1: one
    softmax's outputs, one class per row."""
    head = np.asarray(values[:SAMPLE_ROWS], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        off = np.abs(head.sum(axis=1) - 1.0)
    return bool(np.mean(off <= SUMS_TO_ONE) >= _SUMMING_SHARE)


def _holds_probabilities(series: pd.Series) -> bool:
    """Every one of the first values within [0, 1], and some not a whole number."""
    values = _numbers(series)
    values = values[np.isfinite(values)]
    return bool(values.size and values.min() >= 0.0 and values.max() <= 1.0
                and np.any(values != np.round(values)))


def _numbers(series: pd.Series, rows: int | None = SAMPLE_ROWS) -> np.ndarray:
    """A candidate's first ``rows`` values (every one: None) as float64, NaN where a cell is
    no number (its load names it)."""
    if rows is not None:
        series = series.iloc[:rows]
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        series = pd.to_numeric(series.astype(str), errors="coerce")
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _names_a_score(column: str) -> bool:
    return bool(set(re.split(r"[^a-z0-9]+", column.strip().lower())) & SCORE_WORDS)


def _columns(names: list[str]) -> str:
    return f"Column '{names[0]}' is" if len(names) == 1 else f"Columns {_quoted(names)} are"


def _it_is(names: list[str]) -> str:
    return "it is" if len(names) == 1 else "they are"
