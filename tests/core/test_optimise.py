"""The optimiser against brute force over every distinct threshold, and the midpoint rule."""

import numpy as np
import pytest

from thresholdlab.curves import CurveIndex, counts_from_decisions
from thresholdlab.decisions import decide
from thresholdlab.optimise import Objective, optimise
from thresholdlab.predictions import from_arrays, sigmoid
from thresholdlab.synthetic import random_predictions

OBJECTIVES = [
    "f1", "fbeta:2", "fbeta:0.5", "youden", "cost:1:5", "cost:5:1",
    "precision>=0.7", "recall>=0.8", "precision>=0.999", "recall>=1",
]


def brute_counts(predictions, rule, t):
    return counts_from_decisions(predictions, decide(predictions.probabilities, t, rule), t)


def objective_values(objective, tp, fp, fn, tn):
    """The objective written out plainly, one candidate at a time."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    if objective.kind in ("f1", "fbeta"):
        b2 = objective.beta**2
        den = (1 + b2) * tp + fp + b2 * fn
        return ((1 + b2) * tp / den if den else 0.0), None
    if objective.kind == "youden":
        return r - (fp / (fp + tn) if fp + tn else 0.0), None
    if objective.kind == "cost":
        return -(objective.cost_fp * fp + objective.cost_fn * fn), None
    if objective.kind == "precision>=":
        return (r, p) if p >= objective.target else (None, (p, r))
    return (p, r) if r >= objective.target else (None, (r, p))


def best_by_brute_force(objective, candidates):
    """candidates: list of (threshold, value, fallback) from the highest threshold down."""
    feasible = [(t, v) for t, v, _ in candidates if v is not None]
    if feasible:
        top = max(v for _, v in feasible)
        return next(t for t, v in feasible if v == top), True
    top = max(f for _, _, f in candidates)
    return next(t for t, _, f in candidates if f == top), False


def candidate_thresholds(predictions, c=None):
    p = predictions.probabilities
    if predictions.task == "multiclass":
        top = np.argmax(p, axis=1)
        pools = [p[top == j, j] for j in range(p.shape[1])]
    else:
        pools = [p[:, j] for j in range(p.shape[1])]
    values = pools[c] if c is not None else np.concatenate(pools)
    distinct = sorted(set(values.tolist()), reverse=True)
    # "Predict nothing" is a candidate unless a score of exactly 1 leaves no room above it.
    return ([np.inf] if distinct and distinct[0] < 1 else []) + distinct


def check_against_brute_force(predictions, objective_text, mode):
    objective = Objective.parse(objective_text)
    index = CurveIndex.build(predictions)
    result = optimise(index, objective, mode=mode)
    got = index.counts_at(result.thresholds)
    k = predictions.n_classes
    if mode == "per_class":
        for c in range(k):
            rows = []
            for v in candidate_thresholds(predictions, c):
                t = np.full(k, 0.5)
                t[c] = v
                cnt = brute_counts(predictions, index.rule, t)
                value, fallback = objective_values(objective, cnt.tp[c], cnt.fp[c], cnt.fn[c], cnt.tn[c])
                rows.append((v, value, (fallback, cnt.tp[c], cnt.fp[c])))
            best, ok = best_by_brute_force(objective, [(t, v, f[0]) for t, v, f in rows])
            want = next(f for t, _, f in rows if t == best)
            assert (got.tp[c], got.fp[c]) == (want[1], want[2]), (objective_text, c)
            assert (predictions.classes[c] not in result.infeasible) == ok
    else:
        rows = []
        for v in candidate_thresholds(predictions):
            cnt = brute_counts(predictions, index.rule, np.full(k, v))
            per_class = [objective_values(objective, *(x[c] for x in (cnt.tp, cnt.fp, cnt.fn, cnt.tn)))
                         for c in range(k)]
            if objective.constrained:
                p = np.mean([cnt.tp[c] / (cnt.tp[c] + cnt.fp[c]) if cnt.tp[c] + cnt.fp[c] else 0.0 for c in range(k)])
                r = np.mean([cnt.tp[c] / (cnt.tp[c] + cnt.fn[c]) if cnt.tp[c] + cnt.fn[c] else 0.0 for c in range(k)])
                if objective.kind == "precision>=":
                    value, fallback = ((r, p) if p >= objective.target else None), (p, r)
                else:
                    value, fallback = ((p, r) if r >= objective.target else None), (r, p)
            else:
                values = [v_ for v_, _ in per_class]
                value = float(np.sum(values) if objective.kind == "cost" else np.mean(values))
                fallback = None
            rows.append((v, value, fallback, cnt))
        best, _ = best_by_brute_force(objective, [(t, v, f) for t, v, f, _ in rows])
        want = next(cnt for t, *_, cnt in rows if t == best)
        np.testing.assert_array_equal(got.tp, want.tp)
        np.testing.assert_array_equal(got.fp, want.fp)
    return result


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("mode", ["per_class", "global"])
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("logits,decimals", [(False, None), (False, 1), (True, 1)])
def test_optimum_equals_brute_force(objective, mode, task, logits, decimals):
    predictions = random_predictions(task, 90, 3, seed=31, decimals=decimals, logits=logits)
    check_against_brute_force(predictions, objective, mode)


def test_threshold_is_the_midpoint_below_the_chosen_score():
    predictions = from_arrays([0.9, 0.8, 0.3, 0.2], [1, 1, 0, 0], task="binary")
    result = optimise(CurveIndex.build(predictions), "f1")
    # the midpoint 0.55, written with the fewest decimals that keep it between 0.3 and 0.8
    assert result.thresholds[0] == 0.6
    assert result.values[0] == 1.0
    assert result.logit_thresholds is None


def test_lowest_score_goes_halfway_to_zero():
    # Every row is positive: the best F1 predicts all, below the lowest score 0.4.
    predictions = from_arrays([0.9, 0.4, 0.6], [1, 1, 1], task="binary")
    assert optimise(CurveIndex.build(predictions), "f1").thresholds[0] == pytest.approx(0.2)


def test_sigmoid_logits_take_the_midpoint_on_logits():
    predictions = from_arrays([2.0, 1.0, -1.0, -3.0], [1, 1, 0, 0], task="binary", score_kind="logit")
    result = optimise(CurveIndex.build(predictions), "f1")
    assert result.logit_thresholds[0] == 0.0
    assert result.thresholds[0] == 0.5
    lowest = from_arrays([2.0, 1.0], [1, 1], task="binary", score_kind="logit")
    result = optimise(CurveIndex.build(lowest), "f1")
    assert result.logit_thresholds[0] == 0.0  # one logit unit below the lowest score
    assert result.thresholds[0] == pytest.approx(float(sigmoid(np.array([0.0]))[0]))


def test_predicting_nothing_is_a_candidate():
    # Positives are rare and expensive to find: a high false-positive cost says predict none.
    predictions = from_arrays([0.9, 0.8, 0.7, 0.2], [0, 0, 1, 0], task="binary")
    result = optimise(CurveIndex.build(predictions), "cost:10:1")
    assert result.thresholds[0] == pytest.approx((0.9 + 1.0) / 2)
    assert CurveIndex.build(predictions).counts_at(result.thresholds).predicted[0] == 0


def test_infeasible_target_is_reported_per_class():
    predictions = from_arrays(
        [[0.9, 0.9], [0.8, 0.2], [0.7, 0.6]], [[0, 1], [1, 0], [1, 1]], task="multilabel",
        classes=["cat", "dog"],
    )
    result = optimise(CurveIndex.build(predictions), "precision>=1")
    assert "cat" in result.infeasible and "dog" not in result.infeasible
    assert result.infeasible["cat"].startswith("No threshold gives precision >= 1 for cat")


@pytest.mark.parametrize("text,fragment", [
    ("accuracy", "unknown objective 'accuracy'"),
    ("fbeta:0", "beta must be above 0"),
    ("precision>=1.5", "target must lie between 0 and 1"),
    ("cost:1", "unknown objective 'cost:1'"),
])
def test_bad_objectives_say_what_is_wrong(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        Objective.parse(text)


def test_objective_text_round_trips():
    for text in OBJECTIVES:
        assert Objective.parse(Objective.parse(text).text) == Objective.parse(text)


@pytest.mark.parametrize("text", ["f1", "fbeta:2", "fbeta:0.5", "cost:1:5", "precision>=0.9",
                                  "recall>=0.75", "cost:1234567:1234568", "fbeta:1.2345678",
                                  "precision>=0.123456789"])
def test_objective_text_reads_back_as_the_same_objective(text):
    objective = Objective.parse(text)
    assert Objective.parse(objective.text) == objective
    assert objective.text == text  # short where short is exact, every digit otherwise


# --------------------------------------------------------------------------------------------
# Words: what people see of an objective comes from the core
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["f1", "fbeta:2", "youden", "cost:1234567:1234568",
                                  "precision>=0.9", "recall>=0.123456789"])
def test_an_objective_built_from_its_numbers_is_the_one_its_text_parses_to(text):
    parsed = Objective.parse(text)
    built = Objective.of(parsed.kind, beta=parsed.beta, cost_fp=parsed.cost_fp,
                         cost_fn=parsed.cost_fn, target=parsed.target)
    assert built == parsed and built.text == text


def test_objective_of_checks_its_numbers_as_parse_does():
    with pytest.raises(ValueError, match="beta must be above 0"):
        Objective.of("fbeta", beta=0.0)
    with pytest.raises(ValueError, match="target must lie between 0 and 1"):
        Objective.of("recall>=", target=1.5)
    with pytest.raises(ValueError, match="unknown objective kind 'auc'"):
        Objective.of("auc")


def test_every_objective_kind_has_its_words():
    from thresholdlab.optimise import OBJECTIVE_KINDS, OBJECTIVES_HELP

    for kind, words in OBJECTIVE_KINDS.items():
        assert words.kind == kind and words.name and words.description.endswith(".")
        assert words.syntax in OBJECTIVES_HELP
    assert Objective.parse("precision>=0.9").name == "Best recall at precision ≥ 0.9"
    assert Objective.parse("f1").name == "Best F1"
    assert Objective.parse("cost:1:5").words.value_name == "total cost"
    assert Objective.parse("youden").value_name == "Youden J (TPR − FPR)"
    assert Objective.parse("fbeta:2").value_name == "F2"
    assert Objective.parse("precision>=0.9").value_name == "recall"
