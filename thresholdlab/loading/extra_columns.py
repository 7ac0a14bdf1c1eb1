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
  beside ``fold``, ``sample_weight``, ``age``), else the one whose name says score (``proba``
  beside a ``weight`` of 0.6 and 1.0); failing both, the user is asked.

Logits (any candidate outside [0, 1]) of a two-output model are left as they are.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from thresholdlab.loading.spelling import FALSE_NAMES, TRUE_NAMES, _quoted, _spell
from thresholdlab.predictions import DataError

SUMS_TO_ONE = 0.01
"""How far from 1 a row of probabilities may sum (values rounded when written)."""
_SUMMING_SHARE = 0.9
SCORE_WORDS = frozenset({"p", "prob", "probs", "proba", "probas", "probability",
                          "probabilities", "score", "scores", "logit", "logits", "conf",
                          "confidence", "likelihood", "output", "sigmoid", "softmax"})
"""Words that name a column as a score (``proba``, ``y_score``), not after a class."""


def drop_extra_columns(frame: pd.DataFrame, label: str | None, scores: list[str],
                       file: str) -> tuple[list[str], list[str], str | None]:
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
    probabilities = [c for c in scores if _holds_probabilities(frame[c])]
    if not probabilities:
        return scores, [], None  # logits, or whole numbers: left to the usual rules
    if len(probabilities) == 1:
        score, why = probabilities[0], "the one column of probabilities among them"
    else:
        worded = [c for c in probabilities if _names_a_score(c)]
        if len(worded) != 1:
            raise DataError(
                f"File '{file}': the numeric columns {_quoted(scores)} are not one model's "
                "outputs for the two labels (their rows do not sum to 1), so which one is the "
                "score is unclear; choose it with --score-cols (or in the sidebar)."
            )
        score, why = worded[0], "the column of probabilities named as a score"
    extras = [c for c in scores if c != score]
    return [score], extras, (
        f"The numeric columns {_quoted(scores)} do not sum to 1 in each row, so they are not "
        f"one model's two outputs: '{score}', {why}, is the score, and "
        f"{_quoted(extras)} {'is' if len(extras) == 1 else 'are'} not used."
    )


def top_class_columns(frame: pd.DataFrame, scores: list[str]) -> list[str]:
    """Candidates that hold, in every row, the highest of the other candidates' values: the
    top class's probability (``confidence``, ``max_prob``), which no class's score is."""
    if len(scores) < 3:
        return []
    values = np.column_stack([_numbers(frame[c]) for c in scores])
    tops = []
    for j, c in enumerate(scores):
        highest = np.fmax.reduce(np.delete(values, j, axis=1), axis=1)  # NaN-skipping max
        if np.array_equal(values[:, j], highest, equal_nan=True):
            tops.append(c)
    return tops if len(tops) < len(scores) - 1 else []


def top_class_note(tops: list[str]) -> str:
    return (f"{_columns(tops)} the highest of the other scores in every row (the top class's "
            f"probability), not a class's score, so {_it_is(tops)} not used.")


def _rows_sum_to_one(frame: pd.DataFrame, columns: list[str]) -> bool:
    """Whether most rows of ``columns`` are probabilities that sum to 1."""
    values = np.column_stack([_numbers(frame[c]) for c in columns])
    with np.errstate(invalid="ignore"):
        off = np.abs(values.sum(axis=1) - 1.0)
    return bool(np.mean(off <= SUMS_TO_ONE) >= _SUMMING_SHARE)


def _holds_probabilities(series: pd.Series) -> bool:
    """Every value within [0, 1], and some not a whole number."""
    values = _numbers(series)
    values = values[np.isfinite(values)]
    return bool(values.size and values.min() >= 0.0 and values.max() <= 1.0
                and np.any(values != np.round(values)))


def _numbers(series: pd.Series) -> np.ndarray:
    """A candidate's values as float64, NaN where a cell is no number (its load names it)."""
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        series = pd.to_numeric(series.astype(str), errors="coerce")
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _names_a_score(column: str) -> bool:
    return bool(set(re.split(r"[^a-z0-9]+", column.strip().lower())) & SCORE_WORDS)


def _columns(names: list[str]) -> str:
    return f"Column '{names[0]}' is" if len(names) == 1 else f"Columns {_quoted(names)} are"


def _it_is(names: list[str]) -> str:
    return "it is" if len(names) == 1 else "they are"
