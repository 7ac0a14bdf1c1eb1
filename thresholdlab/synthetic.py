"""Synthetic prediction sets of any task and size, for tests, benchmarks and demos.

Scores come from an informative but imperfect model: the true class gets a fixed boost over
Gaussian noise, so curves have shape, and rounding (``decimals``) makes heavy ties on purpose.
"""

from __future__ import annotations

import numpy as np

from thresholdlab.predictions import PredictionSet, from_arrays


def synthetic_scores(task: str, n: int, k: int, *, seed: int = 0, logits: bool = False,
                     prevalence: float | np.ndarray = 0.3, separation: float = 1.5,
                     dtype=np.float64):
    """(scores (n, K), labels) of ``task``; binary has K = 1.

    labels: int class ids (n,) for multi-class, bool (n, K) otherwise. ``prevalence`` (scalar or
    per class) applies to binary and multi-label data.
    """
    rng = np.random.default_rng(seed)
    if task == "binary":
        k = 1
    raw = rng.standard_normal(size=(n, k), dtype=np.float32 if dtype == np.float32 else np.float64)
    raw *= 2
    if task == "multiclass":
        labels = rng.integers(0, k, n)
        raw[np.arange(n), labels] += separation
        if not logits:
            raw -= raw.max(axis=1, keepdims=True)
            np.exp(raw, out=raw)
            raw /= raw.sum(axis=1, keepdims=True)
    else:
        labels = rng.random((n, k), dtype=np.float32) < np.asarray(prevalence, dtype=np.float32)
        raw += labels * np.asarray(separation, dtype=raw.dtype)
        if not logits:
            np.negative(raw, out=raw)
            np.exp(raw, out=raw)
            raw += 1
            np.reciprocal(raw, out=raw)
    return raw.astype(dtype, copy=False), labels


def random_predictions(task: str, n: int, k: int = 3, *, seed: int = 0,
                       decimals: int | None = None, logits: bool = False,
                       prevalence: float = 0.3) -> PredictionSet:
    """A PredictionSet of ``task``; ``decimals`` rounds scores to make heavy ties."""
    scores, labels = synthetic_scores(task, n, k, seed=seed, logits=logits, prevalence=prevalence)
    if decimals is not None:
        scores = np.round(scores, decimals)
    return from_arrays(scores, labels, task=task, score_kind="logit" if logits else "probability")
