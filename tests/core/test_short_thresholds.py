"""Written thresholds: the midpoint with the fewest decimals that keep its decisions."""

from __future__ import annotations

import decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thresholdlab.curves import CurveIndex
from thresholdlab.decisions import DecisionRule, decide
from thresholdlab.optimise import fewest_decimals, optimise
from thresholdlab.predictions import from_arrays, sigmoid
from thresholdlab.synthetic import random_predictions


def decimals(x: float) -> int:
    """Decimals of the shortest text that reads back as ``x`` (``0.3822`` -> 4)."""
    exponent = decimal.Decimal(repr(float(x))).normalize().as_tuple().exponent
    return max(0, -exponent)


def assert_fewest(x: float, lower: float, upper: float, written: float) -> None:
    # Python's round rounds the float's exact value; numpy's scales first and can differ.
    x, lower, upper, written = map(float, (x, lower, upper, written))
    assert lower < written < upper
    d = decimals(written)
    assert written == round(x, d)
    # one decimal fewer leaves the gap (or there are none to drop)
    assert d == 0 or not lower < round(x, d - 1) < upper


unit = st.floats(0.0, 1.0, allow_nan=False)


@settings(max_examples=400, deadline=None)
@given(a=unit, b=unit)
def test_the_midpoint_of_two_scores_is_written_short_and_between_them(a, b):
    lower, upper = min(a, b), max(a, b)
    mid = (lower + upper) / 2
    written = fewest_decimals(mid, lower, upper)
    if not lower < mid < upper:  # equal or adjacent floats: nothing to shorten
        assert written == mid
        return
    assert_fewest(mid, lower, upper, written)


@settings(max_examples=200, deadline=None)
@given(lo=st.floats(-40, 40), width=st.floats(1e-12, 20))
def test_logit_midpoints_are_written_short_too(lo, width):
    hi = lo + width
    mid = (lo + hi) / 2
    if not lo < mid < hi:
        return
    assert_fewest(mid, lo, hi, fewest_decimals(mid, lo, hi))


def test_the_examples_users_see():
    assert fewest_decimals(0.38220200000000004, 0.382061, 0.382343) == 0.3822
    assert fewest_decimals(0.55, 0.3, 0.8) == 0.6
    assert fewest_decimals(0.5, 0.4999999999, 0.5000000001) == 0.5
    assert fewest_decimals(0.75, 0.5, 1.0) == 0.8


def exact_midpoint(candidates: np.ndarray, written: float) -> tuple[float, float, float]:
    """(lower, upper, midpoint) of the gap between distinct candidate scores holding ``written``,
    with 0 and 1 as the ends, as the optimiser takes them."""
    ends = np.unique(np.concatenate([[0.0, 1.0], candidates]))
    upper = ends[np.searchsorted(ends, written, side="left")]
    lower = ends[np.searchsorted(ends, written, side="left") - 1]
    return lower, upper, (lower + upper) / 2


def candidate_scores(predictions, c: int, mode: str) -> np.ndarray:
    p = predictions.probabilities
    if predictions.task == "multiclass":
        top = np.argmax(p, axis=1)
        pools = [p[top == j, j] for j in range(p.shape[1])]
    else:
        pools = [p[:, j] for j in range(p.shape[1])]
    return np.concatenate(pools) if mode == "global" else pools[c]


OBJECTIVES = ["f1", "fbeta:2", "youden", "cost:1:5", "precision>=0.8", "recall>=0.9"]


@settings(max_examples=60, deadline=None)
@given(
    task=st.sampled_from(["binary", "multiclass", "multilabel"]),
    seed=st.integers(0, 10_000),
    n=st.integers(2, 60),
    rounding=st.sampled_from([None, 1, 2, 3, 6]),
    objective=st.sampled_from(OBJECTIVES),
    mode=st.sampled_from(["per_class", "global"]),
)
def test_every_written_threshold_decides_as_the_exact_midpoint(
    task, seed, n, rounding, objective, mode
):
    predictions = random_predictions(task, n, 3, seed=seed, decimals=rounding)
    index = CurveIndex.build(predictions)
    result = optimise(index, objective, mode=mode)
    p = predictions.probabilities
    exact = result.thresholds.copy()
    for c, written in enumerate(result.thresholds):
        lower, upper, mid = exact_midpoint(candidate_scores(predictions, c, mode), written)
        if lower < written < upper:
            assert_fewest(mid, lower, upper, written)
        exact[c] = mid if lower < mid < upper else written
    np.testing.assert_array_equal(
        decide(p, result.thresholds, index.rule), decide(p, exact, index.rule)
    )


@settings(max_examples=40, deadline=None)
@given(
    task=st.sampled_from(["binary", "multilabel"]),
    seed=st.integers(0, 10_000),
    n=st.integers(2, 60),
    rounding=st.sampled_from([None, 1, 2]),
    objective=st.sampled_from(OBJECTIVES),
)
def test_sigmoid_logit_midpoints_are_short_and_decide_as_the_exact_ones(
    task, seed, n, rounding, objective
):
    predictions = random_predictions(task, n, 3, seed=seed, decimals=rounding, logits=True)
    index = CurveIndex.build(predictions)
    result = optimise(index, objective)
    raw, p = predictions.scores, predictions.probabilities
    exact = result.thresholds.copy()
    for c, (t, written) in enumerate(zip(result.thresholds, result.logit_thresholds)):
        if float(sigmoid(np.array([written]))[0]) != t:
            continue  # the probability fallback (logits too close to tell apart)
        distinct = np.unique(raw[:, c])
        above = distinct[distinct > written]
        below = distinct[distinct < written]
        hi = above[0] if len(above) else below[-1] + 2.0
        lo = below[-1] if len(below) else above[0] - 2.0
        mid = (lo + hi) / 2
        mid, written = float(mid), float(written)
        assert lo < written < hi and written == round(mid, decimals(written))
        d = decimals(written)
        if d > 0:
            shorter = round(mid, d - 1)
            same = (p[:, c] >= sigmoid(np.array([shorter]))[0]) == (p[:, c] >= t)
            assert not (lo < shorter < hi and same.all())
        exact[c] = float(sigmoid(np.array([mid]))[0])
    np.testing.assert_array_equal(
        decide(p, result.thresholds, index.rule), decide(p, exact, index.rule)
    )


def test_the_binary_sample_writes_0_3822():
    from pathlib import Path

    from thresholdlab.loading import load

    path = Path(__file__).resolve().parents[2] / "sample_data" / "binary_breast_cancer.csv"
    result = optimise(CurveIndex.build(load(path)), "f1")
    assert result.thresholds.tolist() == [0.3822]


def test_a_top_score_of_one_keeps_its_rows_predicted():
    predictions = from_arrays([1.0, 1.0, 0.2], [1, 1, 0], task="binary")
    result = optimise(CurveIndex.build(predictions), "f1")
    assert result.thresholds[0] == 0.6  # between 0.2 and 1, short
    assert decide(predictions.probabilities, result.thresholds,
                  DecisionRule.default("binary")).ravel().tolist() == [True, True, False]
