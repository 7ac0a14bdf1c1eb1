"""Binned sketches against exact mode: equal at bin edges, mergeable, round-trip through a file."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from thresholdlab.curves import CurveIndex
from thresholdlab.decisions import DecisionRule
from thresholdlab.metrics import evaluate as exact_evaluate
from thresholdlab.optimise import Objective
from thresholdlab.predictions import DataError, PredictionSet, from_arrays
from thresholdlab.sketch import (
    Sketch,
    SketchIndex,
    bin_index,
    edges_of,
    evaluate,
    is_sketch,
    open_data,
    optimise,
    read_sketch,
)
from thresholdlab.synthetic import random_predictions

CASES = [
    # (task, rule, no_prediction, every class on its own threshold)
    ("binary", "threshold", "none", True),
    ("multilabel", "threshold", "none", True),
    ("multiclass", "argmax", "abstain", True),
    ("multiclass", "argmax", "fallback_argmax", True),
    ("multiclass", "threshold_argmax", "abstain", False),
    ("multiclass", "threshold_argmax", "fallback_argmax", False),
]


def data(task, decimals, seed=0, n=600, k=4, logits=False):
    return random_predictions(task, n, k, seed=seed, decimals=decimals, logits=logits)


def edge_thresholds(sketch, k, rng, per_class: bool, count=30):
    """Thresholds on edges: random per class (or one for all), plus the ends of the grid."""
    edges = sketch.edges
    out = [np.full(k, edges[0]), np.full(k, edges[-1])]
    for _ in range(count):
        if per_class:
            out.append(rng.choice(edges, size=k))
        else:
            out.append(np.full(k, rng.choice(edges)))
    return out


def assert_same_counts(a, b):
    for name in ("tp", "fp", "fn", "tn"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.n_rows == b.n_rows
    if a.confusion is not None or b.confusion is not None:
        np.testing.assert_array_equal(a.confusion, b.confusion)


@pytest.mark.parametrize("task,rule,option,per_class", CASES)
@pytest.mark.parametrize("decimals,n_bins", [(None, 10_000), (2, 100), (2, 50), (1, 7), (3, 1000)])
def test_counts_and_metrics_equal_exact_mode_at_edges(task, rule, option, per_class, decimals,
                                                      n_bins):
    # Rounded scores sit on (or next to) the edges: every tie and edge case of the bin rule.
    predictions = data(task, decimals, seed=n_bins)
    decision_rule = DecisionRule(task, rule, option)
    exact = CurveIndex.build(predictions, decision_rule)
    sketch = Sketch.from_predictions(predictions, n_bins)
    index = SketchIndex.build(sketch, decision_rule)
    rng = np.random.default_rng(n_bins)
    for t in edge_thresholds(sketch, predictions.n_classes, rng, per_class):
        assert_same_counts(index.counts_at(t), exact.counts_at(t))
        got = evaluate(index, t).to_dict()
        want = exact_evaluate(exact, t, sample_based_metrics=False).to_dict()
        for name, row in want["per_class"].items():
            for metric in ("tp", "fp", "fn", "tn", "precision", "recall", "f1", "fbeta",
                           "specificity", "fpr", "mcc", "precision_ci", "recall_ci"):
                assert got["per_class"][name][metric] == row[metric], (name, metric)
        for key in ("macro", "micro", "weighted", "accuracy", "accuracy_covered", "coverage",
                    "hamming_loss"):
            assert got.get(key) == want.get(key), key


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("decimals,n_bins", [(None, 10_000), (2, 100), (None, 13)])
def test_ranking_equals_sklearn_on_scores_rounded_down_to_their_bin(task, decimals, n_bins):
    predictions = data(task, decimals, seed=3)
    index = SketchIndex.build(Sketch.from_predictions(predictions, n_bins))
    report = evaluate(index, np.full(predictions.n_classes, 0.5))
    edges = edges_of(n_bins)
    for c, name in enumerate(predictions.classes):
        binned = edges[bin_index(predictions.probabilities[:, c], n_bins)]
        truth = predictions.truth[:, c]
        row = report.to_dict()["per_class"][name]
        assert row["average_precision"] == pytest.approx(
            average_precision_score(truth, binned), abs=1e-12)
        assert row["roc_auc"] == pytest.approx(roc_auc_score(truth, binned), abs=1e-12)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_curves_are_exact_mode_counts_at_their_edges(task):
    predictions = data(task, 2, seed=5)
    exact = CurveIndex.build(predictions)
    index = SketchIndex.build(Sketch.from_predictions(predictions, 100))
    for c in range(predictions.n_classes):
        curve = index.curve(c)
        assert np.all(np.diff(curve.thresholds) < 0)
        for t, tp, fp in zip(curve.thresholds, curve.tp, curve.fp):
            at = np.ones(predictions.n_classes) * 2.0  # other classes predict nothing
            at[c] = t
            counts = exact.counts_at(at)
            assert (tp, fp) == (counts.tp[c], counts.fp[c])
        assert curve.positives == predictions.positives[c]


def test_between_edges_counts_are_the_next_edge_up_and_within_one_bin():
    predictions = data("binary", None, seed=11, n=2000)
    exact = CurveIndex.build(predictions)
    sketch = Sketch.from_predictions(predictions, 20)
    index = SketchIndex.build(sketch)
    for t in np.linspace(0.001, 0.999, 57):
        got = index.counts_at([t])
        up = exact.counts_at([np.ceil(t * 20) / 20])
        assert_same_counts(got, up)
        truth = exact.counts_at([t])
        b = int(np.floor(t * 20))
        assert 0 <= truth.tp[0] - got.tp[0] <= sketch.positive[0, b]
        assert 0 <= truth.fp[0] - got.fp[0] <= sketch.negative[0, b]
    np.testing.assert_array_equal(index.snap([0.0, 0.051, 1.0, 1.5]), [0.0, 0.1, 1.0, 1.5])


def test_edges_and_bins_agree_with_the_comparison_bit_for_bit():
    rng = np.random.default_rng(0)
    for n_bins in (3, 7, 10, 100, 997, 10_000):
        edges = edges_of(n_bins)
        # Edges, their float neighbours, and random values.
        p = np.concatenate((edges, np.nextafter(edges, -1), np.nextafter(edges, 2), rng.random(500)))
        p = np.clip(p, 0, 1)
        b = bin_index(p, n_bins)
        for i in range(n_bins + 1):
            np.testing.assert_array_equal(b >= i, p >= edges[i])


@pytest.mark.parametrize("task,rule,option,per_class", CASES[:3])
@pytest.mark.parametrize("objective", ["f1", "fbeta:2", "youden", "cost:1:5", "precision>=0.8",
                                       "recall>=0.9", "precision>=0.999"])
@pytest.mark.parametrize("mode", ["per_class", "global"])
def test_optimum_is_the_best_edge(task, rule, option, per_class, objective, mode):
    predictions = data(task, 2, seed=9, n=400)
    decision_rule = DecisionRule(task, rule, option)
    exact = CurveIndex.build(predictions, decision_rule)
    index = SketchIndex.build(Sketch.from_predictions(predictions, 50), decision_rule)
    best = optimise(index, objective, mode=mode)
    edges = index.edges
    assert np.isin(best.thresholds, edges).all()
    obj = Objective.parse(objective)
    k = predictions.n_classes
    positives = predictions.positives.astype(float)
    negatives = predictions.n_rows - positives

    def per_class_value(t):
        counts = exact.counts_at(t)
        v = obj.score(counts.tp, counts.fp, positives, negatives)
        return counts, v

    # Brute force over every edge (all classes at once: per class they do not interact).
    values = np.array([per_class_value(np.full(k, e))[1] for e in edges])  # (edges, K)
    counts, got = per_class_value(best.thresholds)
    if obj.constrained:
        return _check_constrained(obj, exact, best, edges, mode, positives)
    if mode == "per_class" and decision_rule.per_class:
        np.testing.assert_allclose(got, values.max(axis=0), rtol=0, atol=1e-12)
    elif mode == "global":
        total = values.sum(axis=1)
        assert got.sum() == pytest.approx(total.max(), abs=1e-9)


def _check_constrained(obj, exact, best, edges, mode, positives):
    k = len(positives)
    for c in range(k):
        if mode != "per_class" or exact.predictions.classes[c] in best.infeasible:
            continue
        counts = exact.counts_at(best.thresholds)
        tp, fp = counts.tp[c], counts.fp[c]
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / positives[c]
        feasible_rate = precision if obj.kind == "precision>=" else recall
        assert feasible_rate >= obj.target
        goal = recall if obj.kind == "precision>=" else precision
        for e in edges:
            t = best.thresholds.copy()
            t[c] = e
            other = exact.counts_at(t)
            tp2, fp2 = other.tp[c], other.fp[c]
            p2 = tp2 / (tp2 + fp2) if tp2 + fp2 else 0.0
            r2 = tp2 / positives[c]
            if (p2 if obj.kind == "precision>=" else r2) >= obj.target:
                assert (r2 if obj.kind == "precision>=" else p2) <= goal + 1e-12


def test_optimum_threshold_sits_mid_way_among_equivalent_edges():
    # Scores 0.2 (negative, bin [0.2, 0.3)) and 0.8 (positive): every edge from 0.3 to 0.8
    # separates them on the sketch; the middle one of those six is returned.
    predictions = from_arrays(np.array([0.2, 0.8]), np.array([0, 1]), task="binary")
    index = SketchIndex.build(Sketch.from_predictions(predictions, 10))
    best = optimise(index, "f1")
    assert best.thresholds[0] == 0.6
    assert best.values[0] == 1.0


def test_logit_tasks_keep_logit_thresholds_on_the_edges():
    predictions = data("multilabel", None, seed=2, logits=True)
    assert predictions.activation == "sigmoid"
    index = SketchIndex.build(Sketch.from_predictions(predictions, 100))
    best = optimise(index, "f1")
    np.testing.assert_allclose(1 / (1 + np.exp(-best.logit_thresholds)), best.thresholds)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("decimals", [None, 2])
def test_merged_partitions_equal_the_whole(task, decimals):
    whole = data(task, decimals, seed=21, n=900)
    cuts = [0, 100, 101, 555, 900]
    parts = [_rows(whole, a, b) for a, b in zip(cuts[:-1], cuts[1:])]
    sketches = [Sketch.from_predictions(p, 64) for p in parts]
    merged = sketches[0]
    for s in sketches[1:]:
        merged = merged + s
    assert merged.equals(Sketch.from_predictions(whole, 64))
    assert merged.n_rows == whole.n_rows


def _rows(p: PredictionSet, a: int, b: int) -> PredictionSet:
    return PredictionSet(task=p.task, classes=p.classes, scores=p.scores[a:b],
                         probabilities=p.probabilities[a:b], labels=p.labels[a:b],
                         score_kind=p.score_kind, activation=p.activation)


def test_merge_refuses_different_grids_or_classes():
    a = Sketch.from_predictions(data("binary", None), 100)
    with pytest.raises(DataError, match="n bins differs"):
        a + Sketch.from_predictions(data("binary", None), 50)
    with pytest.raises(DataError, match="task differs"):
        a + Sketch.from_predictions(data("multilabel", None), 100)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_file_round_trip(task, tmp_path):
    predictions = data(task, 2, seed=4, logits=task != "binary")
    sketch = Sketch.from_predictions(predictions, 300)
    path = tmp_path / "s.parquet"
    sketch.save(path)
    assert is_sketch(path) and is_sketch(path.read_bytes())
    back = read_sketch(path)
    assert back.equals(sketch)
    assert (back.task, back.classes, back.n_bins, back.score_kind, back.activation) == (
        sketch.task, sketch.classes, 300, sketch.score_kind, sketch.activation)
    assert back.file == "s.parquet" and len(back.sha256) == 64
    assert open_data(path).equals(sketch)
    import pyarrow.parquet as pq
    import json
    header = json.loads(pq.read_schema(path).metadata[b"thresholdlab.sketch"])
    assert header["schema_version"] == 1
    assert header["grid"] == {"kind": "uniform", "low": 0.0, "high": 1.0, "n_bins": 300,
                              "last_bin": "p >= 1"}


def test_prediction_files_are_not_sketches(tmp_path):
    csv = tmp_path / "p.csv"
    csv.write_text("label,p_a,p_b\na,0.2,0.8\nb,0.6,0.4\n")
    assert not is_sketch(csv)
    pset = open_data(csv)
    assert isinstance(pset, PredictionSet) and pset.n_rows == 2


def test_overrides_on_a_sketch_say_they_cannot_apply(tmp_path):
    path = tmp_path / "s.parquet"
    Sketch.from_predictions(data("binary", None), 10).save(path)
    with pytest.raises(DataError, match="--label-col cannot change them"):
        open_data(path, label_col="y")


def test_other_schema_versions_are_refused(tmp_path):
    import pyarrow.parquet as pq
    import json
    path = tmp_path / "s.parquet"
    Sketch.from_predictions(data("binary", None), 10).save(path)
    table = pq.read_table(path)
    header = json.loads(table.schema.metadata[b"thresholdlab.sketch"])
    header["schema_version"] = 99
    pq.write_table(table.replace_schema_metadata({b"thresholdlab.sketch": json.dumps(header)}), path)
    with pytest.raises(DataError, match="schema version 99"):
        read_sketch(path)


def test_rules_a_sketch_cannot_count_say_so():
    mc = SketchIndex.build(Sketch.from_predictions(data("multiclass", None), 10),
                           DecisionRule("multiclass", "threshold_argmax", "abstain"))
    mc.counts_at(np.full(4, 0.3))  # one threshold for all: fine
    with pytest.raises(DataError, match="cannot tell how many rows are in both"):
        mc.counts_at(np.array([0.3, 0.4, 0.3, 0.3]))
    ml = SketchIndex.build(Sketch.from_predictions(data("multilabel", None), 10),
                           DecisionRule("multilabel", "threshold", "at_least_one"))
    with pytest.raises(DataError, match="at least one label per row"):
        ml.counts_at(np.full(4, 0.5))
