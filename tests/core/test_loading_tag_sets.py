"""Multi-label truth as one text column of tag sets (``tech|sports``), as text-classification
datasets are often exported, beside one score column per tag."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from thresholdlab.curves import CurveIndex
from thresholdlab.loading import load
from thresholdlab.metrics import evaluate
from thresholdlab.predictions import DataError

TAGS = ["politics", "tech", "sports", "arts"]


def _multilabel(n=300, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.random((n, len(TAGS))) < 0.3
    scores = np.clip(truth * 0.4 + rng.random((n, len(TAGS))) * 0.6, 0, 1).round(4)
    return truth, scores


def _frame(truth, scores, sep="|"):
    return pd.DataFrame({
        "labels": [sep.join(t for t, on in zip(TAGS, row) if on) for row in truth],
        **{f"p_{t}": scores[:, j] for j, t in enumerate(TAGS)},
    })


@pytest.mark.parametrize("sep", ["|", ";", ","])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_tag_sets_are_multi_label_truth(tmp_path, sep, fmt):
    truth, scores = _multilabel()
    frame = _frame(truth, scores, sep)
    path = tmp_path / f"tags.{fmt}"
    frame.to_csv(path, index=False) if fmt == "csv" else frame.to_parquet(path, index=False)
    loaded = load(path)
    assert loaded.task == "multilabel" and loaded.classes == tuple(TAGS)
    np.testing.assert_array_equal(loaded.labels, truth)  # an empty cell is a row with no tag
    np.testing.assert_array_equal(loaded.scores, scores)
    assert any(note.startswith(f"Column 'labels' holds each row's classes joined by '{sep}'")
               for note in loaded.notes)


def test_metrics_of_tag_sets_equal_scikit_learns(tmp_path):
    truth, scores = _multilabel(seed=1)
    _frame(truth, scores).to_csv(tmp_path / "tags.csv", index=False)
    report = evaluate(CurveIndex.build(load(tmp_path / "tags.csv")), np.full(len(TAGS), 0.5))
    for j in range(len(TAGS)):
        assert report.per_class.f1[j] == pytest.approx(
            f1_score(truth[:, j], scores[:, j] >= 0.5, zero_division=0), abs=1e-12)


def test_one_tag_per_row_stays_one_label_per_row(tmp_path):
    """No cell joins two classes: nothing says the data is multi-label."""
    pd.DataFrame({"label": ["tech", "arts", "tech"], "p_tech": [0.7, 0.2, 0.6],
                  "p_arts": [0.3, 0.8, 0.4]}).to_csv(tmp_path / "one.csv", index=False)
    assert load(tmp_path / "one.csv").task in ("binary", "multiclass")


def test_an_unknown_tag_is_named_with_its_row(tmp_path):
    truth, scores = _multilabel(n=20)
    frame = _frame(truth, scores)
    frame.loc[3, "labels"] = "tech|cooking"
    frame.to_csv(tmp_path / "tags.csv", index=False)
    with pytest.raises(DataError, match=r"File 'tags.csv', column 'labels', row 4: 'cooking' in "
                                        r"'tech\|cooking' names no class; the classes are"):
        load(tmp_path / "tags.csv")


def test_asking_for_multi_class_reads_one_label_per_row(tmp_path):
    truth, scores = _multilabel(n=20)
    truth[:, 0] = False  # no empty cell: every row has a tag
    truth[:, 1] = True
    _frame(truth, scores).to_csv(tmp_path / "tags.csv", index=False)
    with pytest.raises(DataError, match=r"matches no class"):
        load(tmp_path / "tags.csv", task="multiclass")


def test_a_column_of_tag_sets_is_found_whatever_its_name(tmp_path):
    truth, scores = _multilabel()
    _frame(truth, scores).rename(columns={"labels": "genres"}).to_csv(tmp_path / "g.csv",
                                                                      index=False)
    loaded = load(tmp_path / "g.csv")
    assert loaded.task == "multilabel" and loaded.columns["label"] == "genres"
    np.testing.assert_array_equal(loaded.labels, truth)


def test_a_sketch_of_tag_sets_is_one_sentence(tmp_path):
    from thresholdlab.sketch_duckdb import sketch_files

    truth, scores = _multilabel()
    truth[:, 0] = True  # no row without a tag
    _frame(truth, scores).to_csv(tmp_path / "tags.csv", index=False)
    with pytest.raises(DataError, match=r"'tags.csv' holds each row's classes as tag sets in "
                                        r"column 'labels', which a sketch cannot count"):
        sketch_files([str(tmp_path / "tags.csv")], n_bins=100)
