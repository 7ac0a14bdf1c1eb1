"""Step 6: read the scores: finite, probabilities or logits, and what looks off about them.

Probabilities when every score lies in [0, 1] (rounding just outside is clipped), else logits
turned into probabilities by softmax or sigmoid; percentages and rows far from summing to 1
are told. The scores as a whole decide: a few cells outside [0, 1] among probabilities are bad
cells, reported by column and row, never a reason to read every score as a logit.
"""

from __future__ import annotations

import numpy as np

from thresholdlab.loading.raw import Raw, ScoreSummary
from thresholdlab.loading.roles import Overrides
from thresholdlab.predictions import PROBABILITY_SLACK, DataError

SUM_TOLERANCE = 1e-3
"""Multi-class probability rows further than this from 1 count as "not summing to 1"."""
SUM_ROW_SHARE = 0.01
"""Warn about row sums only when more than this share of rows is off."""
PERCENT_SUM_TOLERANCE = 1.0
"""Multi-class rows whose scores sum to 100 within this (rounded percentages) are percentages."""
_SUM_BLOCK_ROWS = 65536
PROBABILITY_SHARE = 0.95
"""Scores of which at least this share lies in [0, 1] look like probabilities as a whole, so the
few outside are bad cells, not a sign of logits: a negative logit is any probability below one
half, so logits put far more than this outside [0, 1]."""
_MIN_CELLS_TO_JUDGE = 20
"""Below this many scores a share says little: a tiny file's scores outside [0, 1] are logits."""


def score_range(raw: Raw) -> tuple[np.generic, np.generic]:
    """``(raw.scores.min(), raw.scores.max())``, from the reader's summary when it has one;
    computed once and kept otherwise, since several checks ask."""
    summary = raw.summary
    if summary is None or summary.scores is not raw.scores:
        # min and max carry any NaN or inf through without an (n, K) temporary.
        summary = ScoreSummary(raw.scores, raw.scores.min(), raw.scores.max())
        raw.summary = summary
    return summary.low, summary.high


def check_finite(raw: Raw) -> None:
    """The first missing, NaN or infinite score (row order, then column order) is an error."""
    # The boolean mask is only built on the error path.
    low, high = score_range(raw)
    if np.isfinite(low) and np.isfinite(high):
        return
    finite = np.isfinite(raw.scores)
    row = int(np.argmin(finite.all(axis=1)))
    col = int(np.argmin(finite[row]))
    value = raw.scores[row, col]
    if np.isnan(value):
        what = "missing or NaN"  # pandas reads an empty cell as NaN, so the two look alike
    else:
        what = "infinite (inf)" if value > 0 else "infinite (-inf)"
    raise DataError(
        f"File '{raw.file}', {raw.score_names[col]}, row {row + 1}: the score is {what}; "
        "every score must be a finite number, so fix or drop that row."
    )


def decide_score_kind(raw: Raw, task: str, ov: Overrides, notes: list[str]) -> tuple[str, str]:
    """(score kind, activation): probabilities when every score lies in [0, 1], else logits,
    unless the scores as a whole look like probabilities (see
    :func:`_refuse_probabilities_with_bad_cells`).

    Scores at most :data:`PROBABILITY_SLACK` outside [0, 1] are probabilities with rounding
    error (a float32 softmax writes 1.0000001); they are clipped to [0, 1] and noted, since
    reading the whole file as logits for them would turn every probability into nonsense.
    """
    low, high = (float(v) for v in score_range(raw))
    all_inside = low >= 0.0 and high <= 1.0
    if not all_inside and ov.score_kind != "logit" and (
        low >= -PROBABILITY_SLACK and high <= 1.0 + PROBABILITY_SLACK
    ):
        outside = int(np.count_nonzero((raw.scores < 0.0) | (raw.scores > 1.0)))
        raw.scores = np.clip(raw.scores, 0.0, 1.0)
        all_inside = True
        off = max(-low, high - 1.0, 0.0)
        notes.append(
            f"One score lies outside [0, 1] by {off:.2g}, as rounding leaves probabilities, so "
            "it is clipped to [0, 1]."
            if outside == 1
            else f"{outside} scores lie outside [0, 1] by at most {off:.2g}, as rounding leaves "
            "probabilities, so they are clipped to [0, 1]."
        )
    if ov.score_kind == "probability" and not all_inside:
        row, col = _first_outside(raw.scores)
        raise DataError(
            f"File '{raw.file}', {raw.score_names[col]}, row {row + 1}: score "
            f"{raw.scores[row, col]:g} lies outside [0, 1], so it cannot be a probability; "
            "use --score-kind logit."
        )
    if ov.score_kind is None and not all_inside:
        _refuse_probabilities_with_bad_cells(raw)
    kind = ov.score_kind or ("probability" if all_inside else "logit")
    if kind == "probability":
        activation = "none"
        if ov.score_kind:
            notes.append("Scores are read as probabilities, as requested.")
        else:
            notes.append("All scores lie in [0, 1], so they are read as probabilities.")
    else:
        activation = "softmax" if task == "multiclass" else "sigmoid"
        if ov.score_kind:
            notes.append(
                f"Scores are read as logits, as requested, and turned into probabilities by "
                f"{activation}."
            )
        else:
            notes.append(
                "Scores lie outside [0, 1], so they are read as logits and turned into "
                f"probabilities by {activation}."
            )
    return kind, activation


def _first_outside(scores: np.ndarray) -> tuple[int, int]:
    """(row, column) of the first score outside [0, 1], in row order, then column order."""
    inside = (scores >= 0.0) & (scores <= 1.0)
    row = int(np.argmin(inside.all(axis=1)))
    return row, int(np.argmin(inside[row]))


def _refuse_probabilities_with_bad_cells(raw: Raw) -> None:
    """Stop when the scores as a whole look like probabilities but a few cells lie outside
    [0, 1]: reading the file as logits for them would change what every score means.

    Logits are chosen only when more than ``1 - PROBABILITY_SHARE`` of the scores lie outside
    [0, 1]. Counted in blocks of rows, and given up as soon as that many are found, so a logit
    file (about half its scores negative) pays for a block or two.
    """
    cells = raw.scores.size
    if cells < _MIN_CELLS_TO_JUDGE:
        return
    allowed = int((1.0 - PROBABILITY_SHARE) * cells)
    outside = 0
    for start in range(0, raw.scores.shape[0], _SUM_BLOCK_ROWS):
        block = raw.scores[start:start + _SUM_BLOCK_ROWS]
        outside += int(np.count_nonzero((block < 0.0) | (block > 1.0)))
        if outside > allowed:
            return
    row, col = _first_outside(raw.scores)
    if outside == 1:
        what, which = "", "one cell does not make the file logits; fix that score"
    else:
        others = f"{outside - 1} other score{'s' if outside > 2 else ''}"
        what, which = f", as do {others},", "a few cells do not make the file logits; fix them"
    raise DataError(
        f"File '{raw.file}', {raw.score_names[col]}, row {row + 1}: score "
        f"{raw.scores[row, col]:g} lies outside [0, 1]{what} while {cells - outside:,} of the "
        f"{cells:,} scores lie in [0, 1] as probabilities do, so {which}, or use --score-kind "
        "logit if the scores are logits."
    )


def percent_warnings(raw: Raw, task: str, kind: str, ov: Overrides) -> list[str]:
    """Scores in [0, 100] read as logits are most likely percentages, which softmax or sigmoid
    would turn into nonsense: an error when each row of scores sums to 100 (multi-class, or a
    negative and a positive column); a warning for single columns (binary, multi-label), where
    no row sum can tell. Nothing is said when the user chose the score kind."""
    if kind != "logit" or ov.score_kind is not None:
        return []
    low, high = score_range(raw)
    if low < 0.0:
        return []  # logits nearly always include negative ones
    high = float(high)
    if high > 100.0:
        return []
    n = raw.scores.shape[0]
    if task != "multilabel" and raw.scores.shape[1] > 1:
        # Every score is finite by now (check_finite), so a row not off is near 100.
        near = n - _rows_off_float64(raw.scores, 100.0, PERCENT_SUM_TOLERANCE)
        if near >= (1.0 - SUM_ROW_SHARE) * n:
            raise DataError(
                f"File '{raw.file}': the scores of each row sum to 100, so they look like "
                "percentages, not probabilities or logits; divide them by 100 and load the file "
                "again (or use --score-kind logit if they are logits)."
            )
        return []  # several scores per row that do not sum to 100: not percentages
    return [
        f"Scores lie between 0 and {high:g} and none is negative, as percentages would; they are "
        "read as logits, so if they are percentages, divide them by 100 and load the file again."
    ]


def sum_warnings(probabilities: np.ndarray, summary: ScoreSummary | None = None) -> list[str]:
    """Multi-class probabilities need not sum to 1; say so when many rows are far from it.
    ``summary``: what the reader found about these very probabilities, if anything."""
    if summary is not None and summary.scores is probabilities:
        count = rows_off(probabilities, summary.low, summary.row_sums)
    else:
        count = rows_off(probabilities)
    if count > SUM_ROW_SHARE * probabilities.shape[0]:
        return [
            f"Scores do not sum to 1 per row ({count} of {probabilities.shape[0]} rows are off "
            f"by more than {SUM_TOLERANCE:g}); thresholds still apply to them as given."
        ]
    return []


def rows_off(probabilities: np.ndarray, low=None, row_sums: np.ndarray | None = None) -> int:
    """Rows whose sum is further than :data:`SUM_TOLERANCE` from 1, each row summed in float64
    as ``np.asarray(rows, dtype=np.float64).sum(axis=1)`` sums it (float32 input included: a
    float32 sum rounds differently).

    Non-negative scores are first summed in their own precision (one ``einsum`` per block of
    rows, no float64 copy). Adding K non-negative numbers in any order, with machine epsilon
    eps, lands within about K * eps / 2 times the sum of the exact sum, and the float64 sum is
    as close or closer, so the two differ by less than ``margin`` = 2 K eps (sum + 1), which
    also covers the rounding of ``|sum - 1|``. A row further than that from the tolerance is on
    the same side of it either way; only the rows nearer than that are summed again in float64,
    as before, so the count is the float64 count, row for row. (The tolerance alone would not
    make the order irrelevant: rows within a unit in the last place of it, which a test builds,
    are counted differently by hundreds when summed in float32, or in float64 in another order.)

    ``low`` is ``probabilities.min()`` and ``row_sums`` the first sums (in the scores' own
    precision, in any order), when a reader took them while filling the matrix.
    """
    n, k = probabilities.shape
    if low is None and probabilities.dtype.kind == "f" and n:
        low = probabilities.min()
    if probabilities.dtype.kind != "f" or not (n == 0 or low >= 0.0):
        return _rows_off_float64(probabilities)
    reach = 2 * k * float(np.finfo(probabilities.dtype).eps)
    count = 0
    # Blocks of rows, so that the few temporaries per row stay small beside the matrix.
    for start in range(0, n, _SUM_BLOCK_ROWS):
        rows = probabilities[start:start + _SUM_BLOCK_ROWS]
        if row_sums is None:
            sums = np.einsum("ij->i", rows).astype(np.float64, copy=False)
        else:
            sums = row_sums[start:start + _SUM_BLOCK_ROWS].astype(np.float64, copy=False)
        off = np.abs(sums - 1.0)
        margin = (sums + 1.0) * reach
        near = np.flatnonzero(np.abs(off - SUM_TOLERANCE) <= margin)
        count += int(np.count_nonzero(off > SUM_TOLERANCE))
        if near.size:
            count += _rows_off_float64(rows[near]) - int(np.count_nonzero(
                off[near] > SUM_TOLERANCE))
    return count


def _rows_off_float64(scores: np.ndarray, total: float = 1.0,
                      tolerance: float = SUM_TOLERANCE) -> int:
    """Rows whose float64 sum is further than ``tolerance`` from ``total``."""
    # Blocks of rows converted as a whole, so each row is summed exactly as a float64 array's
    # row would be, without a float64 copy of the whole matrix.
    count = 0
    for start in range(0, scores.shape[0], _SUM_BLOCK_ROWS):
        block = np.asarray(scores[start:start + _SUM_BLOCK_ROWS], dtype=np.float64)
        count += int((np.abs(block.sum(axis=1) - total) > tolerance).sum())
    return count
