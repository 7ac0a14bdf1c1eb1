"""Held-out evaluation, bootstrap intervals, the optimum's spread and model comparison.

Oracles: scikit-learn on the rows, and direct row-resampling loops written out here.
"""

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import f1_score, precision_score, recall_score

import thresholdlab as tl
from thresholdlab import evaluation as ev
from thresholdlab.curves import counts_from_decisions
from thresholdlab.predictions import DataError


def multiclass_set(n=600, k=4, seed=0, shift=1.5, ids=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    s = rng.normal(size=(n, k))
    s[np.arange(n), y] += shift
    p = tl.from_arrays(s, y, task="multiclass")
    if ids:
        from dataclasses import replace
        p = replace(p, ids=np.arange(n) + 1000, columns={"id": "id"})
    return p


def sigmoid_set(task, n=600, k=3, seed=0):
    rng = np.random.default_rng(seed)
    if task == "binary":
        k = 1
    truth = rng.random((n, k)) < np.linspace(0.1, 0.4, k)
    s = rng.normal(size=(n, k)) + 1.2 * truth
    return tl.from_arrays(s, truth, task=task)


# --------------------------------------------------------------------------- split
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_split_is_stratified_disjoint_and_seeded(task):
    p = multiclass_set() if task == "multiclass" else sigmoid_set(task)
    split = ev.stratified_split(p, 0.25, seed=3)
    rows = np.concatenate((split.tuning_rows, split.evaluation_rows))
    assert sorted(rows.tolist()) == list(range(p.n_rows))
    groups = ev.strata(p)
    for g in np.unique(groups):
        in_group = np.sum(groups == g)
        held = np.sum(groups[split.evaluation_rows] == g)
        assert held == int(np.floor(0.25 * in_group + 0.5))
    np.testing.assert_array_equal(split.evaluation.probabilities, p.probabilities[split.evaluation_rows])
    again = ev.stratified_split(p, 0.25, seed=3)
    np.testing.assert_array_equal(again.evaluation_rows, split.evaluation_rows)
    other = ev.stratified_split(p, 0.25, seed=4)
    assert not np.array_equal(other.evaluation_rows, split.evaluation_rows)


@pytest.mark.parametrize("share", [0.0, 1.0, -0.1, 1.5])
def test_split_share_out_of_range_is_one_sentence(share):
    with pytest.raises(DataError, match="strictly between 0 and 1"):
        ev.stratified_split(multiclass_set(), share)


def test_split_leaving_a_part_empty_says_so():
    with pytest.raises(DataError, match="leaves one part empty"):
        ev.stratified_split(multiclass_set(n=3), 0.1)


def test_evaluation_file_with_other_classes_names_them():
    a = multiclass_set()
    b = tl.from_arrays(a.scores, a.labels, task="multiclass", classes=["class_0", "class_1", "class_2", "dog"])
    with pytest.raises(DataError, match=r"lacks 'class_3' and has 'dog' in addition"):
        ev.matching_classes(a, b)


def test_evaluation_file_with_classes_in_another_order_is_reordered():
    a = multiclass_set()
    order = [2, 0, 3, 1]
    names = [a.classes[i] for i in order]
    inverse = np.argsort(order)
    b = tl.from_arrays(a.scores[:, order], inverse[a.labels], task="multiclass", classes=names)
    same = ev.matching_classes(a, b)
    np.testing.assert_array_equal(same.scores, a.scores)
    np.testing.assert_array_equal(same.probabilities, b.probabilities[:, inverse])
    np.testing.assert_array_equal(same.labels, a.labels)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_held_out_reports_tuning_thresholds_on_evaluation_rows_as_sklearn(task):
    p = multiclass_set() if task == "multiclass" else sigmoid_set(task)
    split = ev.stratified_split(p, 0.4, seed=1)
    result = ev.held_out(split.tuning, split.evaluation, "f1", n_resamples=50)
    t = result.optimum.thresholds
    assert np.array_equal(t, tl.optimise(tl.CurveIndex.build(split.tuning), "f1").thresholds)
    rule = tl.DecisionRule.default(task)
    for part, report in ((split.tuning, result.tuning), (split.evaluation, result.evaluation)):
        d = tl.decide(part.probabilities, t, rule)
        for c in range(p.n_classes):
            if task == "multiclass":
                y, yhat = part.labels == c, d == c
            else:
                y, yhat = part.labels[:, c], d[:, c]
            assert report.per_class.f1[c] == pytest.approx(f1_score(y, yhat, zero_division=0), abs=1e-12)
            assert report.per_class.recall[c] == pytest.approx(recall_score(y, yhat, zero_division=0), abs=1e-12)
            assert report.per_class.precision[c] == pytest.approx(
                precision_score(y, yhat, zero_division=0), abs=1e-12)
    np.testing.assert_allclose(result.drop["f1"], result.tuning.per_class.f1 - result.evaluation.per_class.f1)
    assert result.macro_drop["f1"] == pytest.approx(
        result.tuning.aggregates.macro["f1"] - result.evaluation.aggregates.macro["f1"])


# ---------------------------------------------------------------- bootstrap at fixed thresholds
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_bootstrap_intervals_repeat_for_a_seed(task):
    p = multiclass_set() if task == "multiclass" else sigmoid_set(task)
    counts = tl.CurveIndex.build(p).counts_at(np.full(p.n_classes, 0.4))
    a = ev.bootstrap_intervals(counts, task, n_resamples=200, seed=7)
    b = ev.bootstrap_intervals(counts, task, n_resamples=200, seed=7)
    c = ev.bootstrap_intervals(counts, task, n_resamples=200, seed=8)
    for m in ev.PER_CLASS_METRICS:
        np.testing.assert_array_equal(a.per_class[m], b.per_class[m])
    assert not np.array_equal(a.per_class["f1"], c.per_class["f1"])
    assert (task == "multilabel") == (a.aggregate == {})


def test_bootstrap_intervals_cover_the_true_value_in_90_to_99_percent_of_200_draws():
    """Binary scores: positives N(1, 1), negatives N(0, 1), prevalence 0.3, threshold 0.6 on
    the score. The population precision, recall and F1 at that threshold are known exactly."""
    prevalence, t, n = 0.3, 0.6, 400
    tpr, fpr = norm.sf(t - 1.0), norm.sf(t)
    truth = {
        "recall": tpr,
        "precision": prevalence * tpr / (prevalence * tpr + (1 - prevalence) * fpr),
        "f1": 2 * prevalence * tpr / (2 * prevalence * tpr + (1 - prevalence) * fpr + prevalence * (1 - tpr)),
    }
    rng = np.random.default_rng(2024)
    covered = {m: 0 for m in truth}
    for draw in range(200):
        y = rng.random(n) < prevalence
        s = rng.normal(size=n) + y
        p = tl.from_arrays(s, y, task="binary", score_kind="probability")
        counts = tl.CurveIndex.build(p).counts_at([t])
        ci = ev.bootstrap_intervals(counts, "binary", n_resamples=1000, seed=draw)
        for m, value in truth.items():
            low, high = ci.per_class[m][0]
            covered[m] += low <= value <= high
    for m, hits in covered.items():
        assert 180 <= hits <= 198, (m, hits)


def test_multinomial_cells_equal_a_row_resample_in_distribution():
    p = multiclass_set(n=300, k=3, seed=5)
    index = tl.CurveIndex.build(p)
    t = np.array([0.4, 0.5, 0.3])
    counts = index.counts_at(t)
    decisions = tl.decide(p.probabilities, t, index.rule)
    rng = np.random.default_rng(11)
    r = 4000
    by_rows = {"f1": [], "precision": [], "macro_f1": []}
    for _ in range(r):
        idx = rng.integers(0, p.n_rows, p.n_rows)
        part = ev.subset(p, idx)
        c = counts_from_decisions(part, decisions[idx], t)
        rt = ev.rates(c.tp, c.fp, c.fn, c.tn)
        by_rows["f1"].append(rt["f1"])
        by_rows["precision"].append(rt["precision"])
        by_rows["macro_f1"].append(rt["f1"].mean())
    tp, fp, fn, tn = ev.cell_draws(counts, "multiclass", r, np.random.default_rng(12))
    by_cells = ev.rates(tp, fp, fn, tn)
    by_cells["macro_f1"] = by_cells["f1"].mean(axis=1)
    for m in by_rows:
        rows = np.asarray(by_rows[m])
        cells = by_cells[m]
        sd = rows.std(axis=0)
        assert np.all(np.abs(rows.mean(axis=0) - cells.mean(axis=0)) < 0.1 * sd), m
        assert np.all(np.abs(cells.std(axis=0) / sd - 1) < 0.1), m


# -------------------------------------------------------------------------- optimum spread
def test_optimum_spread_repeats_and_matches_re_optimising_row_resamples():
    rng = np.random.default_rng(3)
    n = 250
    y = rng.random(n) < 0.35
    s = np.round(np.clip(0.2 + 0.35 * y + rng.normal(scale=0.2, size=n), 0, 1), 1)  # ties
    p = tl.from_arrays(s, y, task="binary")
    index = tl.CurveIndex.build(p)
    spread = ev.optimum_spread(index, "f1", n_resamples=1500, seed=1)
    again = ev.optimum_spread(index, "f1", n_resamples=1500, seed=1)
    np.testing.assert_array_equal(spread.thresholds, again.thresholds)
    assert spread.exact.all()
    direct = []
    for _ in range(1500):
        idx = rng.integers(0, n, n)
        direct.append(tl.optimise(tl.CurveIndex.build(ev.subset(p, idx)), "f1").thresholds[0])
    # Thresholds are midpoints between neighbouring distinct scores of the resample; compare
    # which score each keeps (the lowest score at or above the threshold, same on both sides).
    grid = np.unique(s)

    def kept(t):
        return grid[np.searchsorted(grid, np.asarray(t), side="left").clip(max=len(grid) - 1)]

    values = np.unique(np.concatenate((kept(direct), kept(spread.thresholds[:, 0]))))
    f_direct = np.array([np.mean(kept(direct) == v) for v in values])
    f_cells = np.array([np.mean(kept(spread.thresholds[:, 0]) == v) for v in values])
    assert 0.5 * np.abs(f_direct - f_cells).sum() < 0.08


def test_optimum_spread_bins_many_distinct_scores_and_keeps_the_optimum_inside():
    p = multiclass_set(n=3000, k=3, seed=9)
    index = tl.CurveIndex.build(p)
    spread = ev.optimum_spread(index, "f1", n_resamples=100, seed=0, max_bins=64)
    assert not spread.exact.any()
    assert spread.thresholds.shape == (100, 3)
    assert np.all(spread.width >= 0)
    opt = spread.optimum.thresholds
    assert np.all((spread.band[:, 0] - 0.05 <= opt) & (opt <= spread.band[:, 1] + 0.05))


@pytest.mark.parametrize("objective", ["precision>=0.8", "recall>=0.9", "youden", "cost:1:5"])
def test_optimum_spread_handles_every_objective(objective):
    p = sigmoid_set("multilabel", n=400)
    spread = ev.optimum_spread(tl.CurveIndex.build(p), objective, n_resamples=50, seed=2)
    assert np.all((spread.thresholds >= 0) & (spread.thresholds <= 1))


# ------------------------------------------------------------------------------ comparison
def direct_paired(a, da, b, db, labels_of, r, seed):
    """The textbook paired bootstrap: draw row indices, score both models on them."""
    rng = np.random.default_rng(seed)
    n = len(da)
    out = []
    for _ in range(r):
        idx = rng.integers(0, n, n)
        out.append(labels_of(a, da, idx) - labels_of(b, db, idx))
    return np.asarray(out)


def macro_f1_multiclass(p, d, idx):
    """Macro-F1 of the rows ``idx`` (repeats counted), by counting per class; checked against
    scikit-learn below (scikit-learn itself is too slow for thousands of resamples)."""
    y, yhat = p.labels[idx], d[idx]
    f1 = []
    for c in range(p.n_classes):
        tp = np.sum((y == c) & (yhat == c))
        wrong = np.sum((y == c) != (yhat == c))
        f1.append(2 * tp / (2 * tp + wrong) if 2 * tp + wrong else 0.0)
    return float(np.mean(f1))


def test_direct_macro_f1_equals_sklearn():
    p = multiclass_set(n=200, k=3, seed=8)
    d = tl.decide(p.probabilities, np.full(3, 0.5), tl.DecisionRule.default("multiclass"))
    idx = np.random.default_rng(0).integers(0, 200, 200)
    expected = f1_score(p.labels[idx], d[idx], labels=[0, 1, 2], average="macro", zero_division=0)
    assert macro_f1_multiclass(p, d, idx) == pytest.approx(expected, abs=1e-12)


def test_paired_bootstrap_equals_a_direct_implementation():
    a = multiclass_set(n=120, k=3, seed=1, ids=True)
    rng = np.random.default_rng(0)
    from dataclasses import replace
    noisy = a.scores + rng.normal(scale=1.0, size=a.scores.shape)
    b = replace(tl.from_arrays(noisy, a.labels, task="multiclass"), ids=a.ids, columns={"id": "id"})
    rule = tl.DecisionRule.default("multiclass")
    da = tl.decide(a.probabilities, np.full(3, 0.4), rule)
    db = tl.decide(b.probabilities, np.full(3, 0.4), rule)
    result = ev.macro_f1_difference(a, da, b, db, n_resamples=4000, seed=3)
    assert result.paired
    all_rows = np.arange(a.n_rows)
    assert result.observed == pytest.approx(
        macro_f1_multiclass(a, da, all_rows) - macro_f1_multiclass(b, db, all_rows), abs=1e-12)
    direct = direct_paired(a, da, b, db, macro_f1_multiclass, 4000, seed=4)
    sd = direct.std()
    assert abs(direct.mean() - result.draws.mean()) < 0.08 * sd
    assert abs(result.draws.std() / sd - 1) < 0.08
    for q in (0.025, 0.5, 0.975):
        assert abs(np.quantile(direct, q) - np.quantile(result.draws, q)) < 0.15 * sd


def test_paired_rows_are_matched_by_id_whatever_their_order():
    a = multiclass_set(n=200, k=3, seed=2, ids=True)
    from dataclasses import replace
    rng = np.random.default_rng(1)
    b = replace(tl.from_arrays(a.scores + rng.normal(size=a.scores.shape), a.labels, task="multiclass"),
                ids=a.ids, columns={"id": "id"})
    order = rng.permutation(a.n_rows)
    shuffled = ev.subset(b, order)
    rule = tl.DecisionRule.default("multiclass")
    da = tl.decide(a.probabilities, np.zeros(3), rule)
    db = tl.decide(b.probabilities, np.zeros(3), rule)
    one = ev.macro_f1_difference(a, da, b, db, n_resamples=300, seed=5)
    two = ev.macro_f1_difference(a, da, shuffled, db[order], n_resamples=300, seed=5)
    assert one.paired and two.paired
    np.testing.assert_array_equal(one.draws, two.draws)


def test_paired_is_tighter_than_unpaired_on_correlated_models_and_says_which():
    a = multiclass_set(n=300, k=3, seed=3, ids=True)
    from dataclasses import replace
    rng = np.random.default_rng(2)
    b_scores = a.scores + rng.normal(scale=0.3, size=a.scores.shape)
    paired_b = replace(tl.from_arrays(b_scores, a.labels, task="multiclass"), ids=a.ids, columns={"id": "id"})
    unpaired_b = tl.from_arrays(b_scores, a.labels, task="multiclass")
    rule = tl.DecisionRule.default("multiclass")
    da = tl.decide(a.probabilities, np.zeros(3), rule)
    db = tl.decide(paired_b.probabilities, np.zeros(3), rule)
    paired = ev.macro_f1_difference(a, da, paired_b, db, n_resamples=1000, seed=0)
    unpaired = ev.macro_f1_difference(a, da, unpaired_b, db, n_resamples=1000, seed=0)
    assert paired.paired and "(paired)" in paired.note
    assert not unpaired.paired and "unpaired" in unpaired.note
    assert paired.observed == pytest.approx(unpaired.observed)
    assert paired.draws.std() < unpaired.draws.std()


@pytest.mark.parametrize("task", ["binary", "multilabel"])
def test_macro_f1_difference_observed_equals_sklearn(task):
    a = sigmoid_set(task, n=300, seed=4)
    b = tl.from_arrays(a.scores + np.random.default_rng(0).normal(size=a.scores.shape), a.labels, task=task)
    rule = tl.DecisionRule.default(task)
    t = np.full(a.n_classes, 0.5)
    da, db = tl.decide(a.probabilities, t, rule), tl.decide(b.probabilities, t, rule)
    result = ev.macro_f1_difference(a, da, b, db, n_resamples=100, seed=0)
    if task == "binary":
        expected = (f1_score(a.labels[:, 0], da[:, 0], average="macro", zero_division=0)
                    - f1_score(a.labels[:, 0], db[:, 0], average="macro", zero_division=0))
    else:
        expected = (f1_score(a.labels, da, average="macro", zero_division=0)
                    - f1_score(a.labels, db, average="macro", zero_division=0))
    assert result.observed == pytest.approx(expected, abs=1e-12)


def test_compare_puts_each_model_at_its_own_optimum():
    a = multiclass_set(n=300, k=3, seed=6)
    b = multiclass_set(n=300, k=3, seed=7, shift=0.8)
    result = ev.compare([a, b], objective="f1", names=["A", "B"], n_resamples=200)
    for m, data in zip(result.models, (a, b)):
        np.testing.assert_array_equal(m.thresholds, tl.optimise(tl.CurveIndex.build(data), "f1").thresholds)
    out = result.to_dict()
    assert [m["name"] for m in out["models"]] == ["A", "B"]
    assert out["macro_f1_difference"][0]["paired"] is False


def test_compare_needs_two_files():
    with pytest.raises(DataError, match="two or more"):
        ev.compare([multiclass_set()])


def test_the_new_core_modules_import_neither_streamlit_nor_torch():
    import subprocess
    import sys

    code = ("import sys, thresholdlab.evaluation, thresholdlab.slices, thresholdlab.groups, "
            "thresholdlab.evaluation_cli; "
            "print(sorted(m for m in ('streamlit', 'plotly', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
