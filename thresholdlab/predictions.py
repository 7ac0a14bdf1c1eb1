"""The clean, validated form of a prediction file that everything downstream trusts.

Loading (the ``thresholdlab.loading`` package) turns a user's file into a
:class:`PredictionSet` or raises :class:`DataError`; nothing after it re-checks the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

import numpy as np

Task = Literal["binary", "multiclass", "multilabel"]
ScoreKind = Literal["probability", "logit"]
Activation = Literal["none", "softmax", "sigmoid"]

TASKS: tuple[str, ...] = ("binary", "multiclass", "multilabel")


class DataError(ValueError):
    """Input the user must fix: one sentence naming the file, column and row where it applies.

    The command line prints it on one line and exits with code 2; the dashboard shows it in one
    ``st.error`` and keeps the previous data.
    """


class SectionError(ValueError):
    """An invalid config section; the message is the sentence without the "Config 'x':" prefix."""


@dataclass(frozen=True, eq=False)
class PredictionSet:
    """Scores and true labels of one validation set, ready for thresholding.

    Attributes
    ----------
    task : {"binary", "multiclass", "multilabel"}
    classes : tuple of str, length K
        Class names. Binary data has K = 1: the positive class.
    scores : ndarray of float64, shape (n, K)
        Scores as the file gives them (probabilities or logits), finite. float32 instead when
        the input is float32 probabilities (see :func:`from_arrays`): the same numbers in half
        the memory; every comparison with a float64 threshold gives what float64 would.
    probabilities : ndarray of float64 (or float32, as ``scores``), shape (n, K)
        Scores after ``activation``; thresholds live in this space.
    labels : ndarray
        Multi-class: int64 class ids in ``0..K-1``, shape (n,).
        Binary and multi-label: bool, shape (n, K), True where the class is present.
    score_kind : {"probability", "logit"}
    activation : {"none", "softmax", "sigmoid"}
    file : str
        Name of the file the data came from (for messages and configs).
    digest : str or callable
        The file's sha256 (hex), or a function returning it when first asked for: read it as
        :attr:`sha256`.
    ids : ndarray or None, shape (n,)
        Values of the file's id column, when it has one.
    columns : dict
        Column roles: ``{"id", "label", "labels", "scores", "ignored"}`` (the command-line ``inspect``).
    label_mapping : dict of str to str
        Label as spelled in the file -> class name.
    notes, warnings : tuple of str
        One sentence per inference made while loading / per degenerate-but-valid finding.
    """

    task: Task
    classes: tuple[str, ...]
    scores: np.ndarray
    probabilities: np.ndarray
    labels: np.ndarray
    score_kind: ScoreKind = "probability"
    activation: Activation = "none"
    file: str = "<memory>"
    digest: str | Callable[[], str] = field(default="", repr=False)
    ids: np.ndarray | None = None
    columns: dict = field(default_factory=dict)
    label_mapping: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def sha256(self) -> str:
        """Hex digest of the file's bytes ("" for arrays); configs record it, caches key on it.

        A file on disk is hashed when this is first read, not while it loads (see
        :class:`~thresholdlab.loading.source.FileDigest`); that first read raises DataError
        when the file is gone or has changed since it was loaded."""
        return self.digest if isinstance(self.digest, str) else self.digest()

    @property
    def n_rows(self) -> int:
        return int(self.scores.shape[0])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def truth(self) -> np.ndarray:
        """bool array (n, K): True where row i belongs to class k, for every task."""
        if self.task == "multiclass":
            return self.labels[:, None] == np.arange(self.n_classes)[None, :]
        return self.labels

    @property
    def positives(self) -> np.ndarray:
        """int64 array (K,): rows that belong to each class."""
        if self.task == "multiclass":
            return np.bincount(self.labels, minlength=self.n_classes).astype(np.int64)
        return self.labels.sum(axis=0).astype(np.int64)


PROBABILITY_SLACK = 1e-6
"""Scores this far outside [0, 1] are probabilities with rounding error (clipped), not logits."""


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64, shifted by the row max so large logits do not overflow."""
    # C order fixes the summation order, so the same logits always give the same bits.
    z = np.ascontiguousarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Element-wise logistic function in float64, stable for large |logit|."""
    x = np.asarray(logits, dtype=np.float64)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def logit(p: np.ndarray | float) -> np.ndarray | float:
    """Inverse of :func:`sigmoid`; +-inf at 1 and 0."""
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore"):
        out = np.log(p) - np.log1p(-p)
    return out if out.ndim else float(out)


def from_arrays(
    scores: np.ndarray,
    labels: np.ndarray,
    *,
    task: Task,
    classes: list[str] | tuple[str, ...] | None = None,
    score_kind: ScoreKind | None = None,
    file: str = "<memory>",
) -> PredictionSet:
    """Build a PredictionSet from clean arrays (tests, notebooks, the torch collector).

    ``scores`` is (n, K) (or (n,) for binary); ``labels`` is (n,) class ids for multi-class,
    (n,) 0/1 for binary or (n, K) 0/1 for multi-label. No file-level detection is done.

    float32 probabilities stay float32 (C-contiguous), since the float32 values are the data:
    a float64 copy would hold the same numbers at twice the memory. Anything else, and every
    logit input (whose softmax / sigmoid runs in float64), becomes float64.
    """
    given = np.asarray(scores)
    keep32 = given.dtype == np.float32 and score_kind != "logit"
    scores = np.ascontiguousarray(given, dtype=np.float32 if keep32 else np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    k = scores.shape[1]
    if classes is None:
        classes = ("positive",) if task == "binary" else tuple(f"class_{i}" for i in range(k))
    labels = np.asarray(labels)
    if task == "multiclass":
        labels = labels.astype(np.int64, copy=False)
    else:
        labels = labels.reshape(scores.shape[0], k).astype(bool, copy=False)
    if score_kind is None:
        # min/max instead of ((scores >= 0) & (scores <= 1)).all(): no (n, K) temporaries.
        inside = scores.size == 0 or (scores.min() >= 0 and scores.max() <= 1)
        score_kind = "probability" if inside else "logit"
    if score_kind == "logit" and scores.dtype != np.float64:
        scores = scores.astype(np.float64)
    if score_kind == "probability":
        activation, probabilities = "none", scores
    elif task == "multiclass":
        activation, probabilities = "softmax", softmax(scores)
    else:
        activation, probabilities = "sigmoid", sigmoid(scores)
    return PredictionSet(
        task=task,
        classes=tuple(str(c) for c in classes),
        scores=scores,
        probabilities=probabilities,
        labels=labels,
        score_kind=score_kind,
        activation=activation,
        file=file,
    )
