"""Which rules use the thresholds at all: ``DecisionRule.ignores_thresholds`` against ``decide``."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thresholdlab.decisions import NO_PREDICTION_OPTIONS, RULES, DecisionRule, decide

COMBINATIONS = [
    (task, rule, no_prediction, k)
    for task in RULES
    for rule, no_prediction in itertools.product(RULES[task], NO_PREDICTION_OPTIONS[task])
    for k in ((1,) if task == "binary" else (1, 2, 3) if task == "multilabel" else (2, 3, 5))
]


def probabilities(task: str, n: int, k: int, rng) -> np.ndarray:
    p = rng.random((n, k))
    return p / p.sum(axis=1, keepdims=True) if task == "multiclass" else p


def probe_thresholds(k: int, rng) -> list[np.ndarray]:
    """Thresholds at both ends, one class at a time at each end, and random ones."""
    probes = [np.zeros(k), np.ones(k)]
    for c in range(k):
        for value in (0.0, 1.0):
            t = np.full(k, 1.0 - value)
            t[c] = value
            probes.append(t)
    probes += [rng.random(k) for _ in range(20)]
    return probes


@pytest.mark.parametrize("task, rule, no_prediction, k", COMBINATIONS)
def test_a_rule_ignores_thresholds_exactly_when_no_threshold_changes_a_decision(
    task, rule, no_prediction, k
):
    rng = np.random.default_rng(7)
    p = probabilities(task, 200, k, rng)
    decision_rule = DecisionRule(task, rule, no_prediction)
    outcomes = {decide(p, t, decision_rule).tobytes() for t in probe_thresholds(k, rng)}
    assert decision_rule.ignores_thresholds(k) == (len(outcomes) == 1)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 6), n=st.integers(1, 40))
def test_argmax_with_fallback_is_the_argmax_whatever_the_thresholds(seed, k, n):
    rng = np.random.default_rng(seed)
    p = probabilities("multiclass", n, k, rng)
    rule = DecisionRule("multiclass", "argmax", "fallback_argmax")
    assert rule.ignores_thresholds(k)
    np.testing.assert_array_equal(decide(p, rng.random(k), rule), np.argmax(p, axis=1))


def test_the_only_no_op_combinations():
    no_ops = {(t, r, o, k) for t, r, o, k in COMBINATIONS
              if DecisionRule(t, r, o).ignores_thresholds(k)}
    assert no_ops == {
        ("multiclass", "argmax", "fallback_argmax", 2),
        ("multiclass", "argmax", "fallback_argmax", 3),
        ("multiclass", "argmax", "fallback_argmax", 5),
        ("multilabel", "threshold", "at_least_one", 1),
    }
