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


def test_a_class_whose_name_holds_the_separator_is_one_class(tmp_path):
    rng = np.random.default_rng(3)
    proba = rng.dirichlet([1, 1, 1], 60)
    names = ["cat", "dog", "cat,dog"]
    frame = pd.DataFrame(proba, columns=[f"p_{n}" for n in names])
    frame.insert(0, "label", np.array(names)[proba.argmax(axis=1)])
    frame.to_csv(tmp_path / "mixed.csv", index=False)
    loaded = load(tmp_path / "mixed.csv")
    assert loaded.task == "multiclass" and loaded.classes == tuple(names)
    np.testing.assert_array_equal(loaded.labels, proba.argmax(axis=1))


def test_labels_beside_a_softmax_are_never_tag_sets(tmp_path):
    """Scores whose rows sum to 1 give one class per row: a stray joined cell is an error."""
    rng = np.random.default_rng(4)
    proba = rng.dirichlet([1, 1, 1], 60)
    frame = pd.DataFrame(proba, columns=["p_cat", "p_dog", "p_bird"])
    frame.insert(0, "label", np.array(["cat", "dog", "bird"])[proba.argmax(axis=1)])
    frame.loc[5, "label"] = "cat,dog"
    frame.to_csv(tmp_path / "softmax.csv", index=False)
    with pytest.raises(DataError, match=r"row 6: label 'cat,dog' matches no class"):
        load(tmp_path / "softmax.csv")


def test_an_any_tag_whose_score_is_the_others_maximum_stays_a_class(tmp_path):
    rng = np.random.default_rng(5)
    p = rng.random((80, 2))
    truth = rng.random((80, 2)) < 0.4
    tags = ["|".join([t for t, on in zip(["cat", "dog"], row) if on] + (["any"] if row.any() else []))
            for row in truth]
    frame = pd.DataFrame({"label": tags, "p_cat": p[:, 0], "p_dog": p[:, 1],
                          "p_any": p.max(axis=1)})
    frame.to_csv(tmp_path / "any.csv", index=False)
    loaded = load(tmp_path / "any.csv")
    assert loaded.task == "multilabel" and loaded.classes == ("cat", "dog", "any")
    np.testing.assert_array_equal(loaded.labels[:, 2], truth.any(axis=1))


def test_a_column_of_single_class_names_is_the_label_before_one_of_tag_sets(tmp_path):
    """A predicted top-2 column ('bird,cat') before the true class's column."""
    rng = np.random.default_rng(6)
    proba = rng.dirichlet([1, 1, 1], 60)
    names = np.array(["cat", "dog", "bird"])
    frame = pd.DataFrame({"top2": [",".join(names[np.argsort(-r)[:2]]) for r in proba],
                          "animal": names[rng.integers(0, 3, 60)],
                          **{f"p_{n}": proba[:, j] for j, n in enumerate(names)}})
    frame.to_csv(tmp_path / "top2.csv", index=False)
    loaded = load(tmp_path / "top2.csv")
    assert loaded.task == "multiclass" and loaded.columns["label"] == "animal"


def test_an_unknown_tag_is_named_as_written(tmp_path):
    truth, scores = _multilabel(n=20)
    frame = _frame(truth, scores)
    frame.loc[2, "labels"] = "tech|Sprots"
    frame.to_csv(tmp_path / "tags.csv", index=False)
    with pytest.raises(DataError, match=r"row 3: 'Sprots' in 'tech\|Sprots' names no class"):
        load(tmp_path / "tags.csv")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_lists_of_tags_as_to_csv_and_to_parquet_write_them(tmp_path, fmt):
    """``df["labels"] = [[...], ...]`` (MultiLabelBinarizer.inverse_transform): Parquet keeps a
    list of text per row, ``to_csv`` writes its text (``['tech', 'sports']``, ``[]``)."""
    truth, scores = _multilabel(seed=7)
    frame = pd.DataFrame({"labels": [[t for t, on in zip(TAGS, row) if on] for row in truth],
                          **{f"p_{t}": scores[:, j] for j, t in enumerate(TAGS)}})
    path = tmp_path / f"lists.{fmt}"
    frame.to_csv(path, index=False) if fmt == "csv" else frame.to_parquet(path, index=False)
    loaded = load(path)
    assert loaded.task == "multilabel" and loaded.classes == tuple(TAGS)
    np.testing.assert_array_equal(loaded.labels, truth)
    assert any("holds each row's classes as a list (such as ['politics', 'tech'])" in note
               for note in loaded.notes)


def test_a_parquet_list_of_text_beside_the_labels_is_not_in_the_way(tmp_path):
    """A list of tokens per row used to refuse the whole file as nested values."""
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"label": rng.integers(0, 2, 30), "score": rng.random(30),
                          "tokens": [["a", "b"]] * 30})
    frame.to_parquet(tmp_path / "tokens.parquet", index=False)
    assert load(tmp_path / "tokens.parquet").columns["scores"] == ["score"]
