"""A column holding each row's scores as one vector (``df["probs"] = list(proba)``), as
Parquet stores it (a list per row) and as ``to_csv`` writes it (numpy's or a list's text)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression

from thresholdlab.loading import load
from thresholdlab.predictions import DataError


@pytest.fixture(scope="module")
def wine():
    x, y = load_wine(return_X_y=True)
    model = LogisticRegression(max_iter=5000).fit(x[::2], y[::2])
    return y[1::2], model.predict_proba(x[1::2])


def _columns_file(tmp_path, y, proba):
    frame = pd.DataFrame({"label": y, **{f"p_{j}": proba[:, j] for j in range(proba.shape[1])}})
    frame.to_parquet(tmp_path / "columns.parquet", index=False)
    return load(tmp_path / "columns.parquet")


def _same(loaded, expected):
    assert (loaded.task, loaded.classes, loaded.columns["scores"]) == (
        expected.task, expected.classes, expected.columns["scores"])
    np.testing.assert_array_equal(loaded.labels, expected.labels)
    np.testing.assert_array_equal(loaded.scores, expected.scores)


def test_a_parquet_list_column_is_one_score_column_per_class(tmp_path, wine):
    y, proba = wine
    frame = pd.DataFrame({"label": y})
    frame["probs"] = list(proba)
    frame.to_parquet(tmp_path / "lists.parquet", index=False)
    loaded = load(tmp_path / "lists.parquet")
    _same(loaded, _columns_file(tmp_path, y, proba))
    assert ("Column 'probs' holds 3 numbers per row, read as the score columns p_0..p_2 "
            "(classes 0 to 2).") in loaded.notes


def test_a_fixed_size_list_column(tmp_path, wine):
    y, proba = wine
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(proba.reshape(-1)), 3)
    pq.write_table(pa.table({"target": y, "scores": vectors}), tmp_path / "fixed.parquet")
    loaded = load(tmp_path / "fixed.parquet")
    assert loaded.task == "multiclass" and loaded.n_rows == len(y)
    np.testing.assert_array_equal(loaded.scores, proba)


@pytest.mark.parametrize("cells", ["numpy arrays", "lists"])
def test_to_csv_text_of_vectors(tmp_path, wine, cells):
    y, proba = wine
    frame = pd.DataFrame({"label": y})
    frame["probs"] = list(proba) if cells == "numpy arrays" else [list(row) for row in proba]
    frame.to_csv(tmp_path / "vectors.csv", index=False)
    loaded = load(tmp_path / "vectors.csv")
    assert loaded.columns["scores"] == ["p_0", "p_1", "p_2"]
    # numpy's text keeps 8 digits; a list's (np.float64(...)) every digit.
    written = frame["probs"].astype(str).str.replace(r"np\.float64\(([^)]*)\)", r"\1", regex=True)
    expected = np.array([row.strip("[]").replace(",", " ").split() for row in written], dtype=float)
    np.testing.assert_array_equal(loaded.scores, expected)
    if cells == "lists":
        np.testing.assert_array_equal(loaded.scores, proba)


def test_long_numpy_vectors_wrapped_over_lines(tmp_path):
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(12), 40)
    frame = pd.DataFrame({"label": rng.integers(0, 12, 40)})
    frame["probs"] = list(proba)
    frame.to_csv(tmp_path / "wrapped.csv", index=False)
    assert "\n " in (tmp_path / "wrapped.csv").read_text()  # numpy wraps at 75 characters
    loaded = load(tmp_path / "wrapped.csv")
    assert loaded.n_rows == 40 and len(loaded.classes) == 12
    np.testing.assert_allclose(loaded.scores, proba, rtol=0, atol=5e-9)  # 8 decimals written


def test_multi_hot_label_vectors_pair_with_score_vectors(tmp_path):
    rng = np.random.default_rng(1)
    truth = (rng.random((60, 4)) < 0.3).astype(int)
    proba = rng.random((60, 4))
    frame = pd.DataFrame({"labels": list(truth), "probs": list(proba)})
    frame.to_parquet(tmp_path / "multi.parquet", index=False)
    loaded = load(tmp_path / "multi.parquet")
    assert loaded.task == "multilabel" and loaded.classes == ("0", "1", "2", "3")
    np.testing.assert_array_equal(loaded.labels, truth.astype(bool))
    np.testing.assert_array_equal(loaded.scores, proba)


@pytest.mark.parametrize("make, message", [
    (lambda y, p: {"label": y, "probs": [list(r) if i != 4 else list(r[:2]) for i, r in enumerate(p)]},
     "File 'bad.parquet', column 'probs', row 5: a vector of 2 numbers where the first row has 3"),
    (lambda y, p: {"label": y, "probs": list(p), "logits": list(np.log(p))},
     "File 'bad.parquet' has 2 columns holding a vector of scores per row ('probs', 'logits'); "
     "keep one of them"),
    (lambda y, p: {"label": y, "probs": [list(r) if i != 2 else None for i, r in enumerate(p)]},
     "File 'bad.parquet', column 'probs', row 3: the vector is missing"),
])
def test_vectors_that_cannot_be_spread_are_one_sentence(tmp_path, wine, make, message):
    y, proba = wine
    pd.DataFrame(make(y, proba)).to_parquet(tmp_path / "bad.parquet", index=False)
    with pytest.raises(DataError, match=re.escape(message)):
        load(tmp_path / "bad.parquet")


def test_a_text_vector_with_a_word_names_its_row(tmp_path):
    (tmp_path / "bad.csv").write_text('label,probs\n0,"[0.2 0.8]"\n1,"[0.7 0.3]"\n1,"[0.7 oops]"\n')
    with pytest.raises(DataError, match=r"File 'bad.csv', column 'probs', row 3: not a vector of "
                                        r"numbers like the rows above"):
        load(tmp_path / "bad.csv")


def test_a_list_of_one_number_is_that_number(tmp_path):
    pq.write_table(pa.table({"label": [1, 0, 1], "p_a": [[0.9], [0.2], [0.6]]}), tmp_path / "one.parquet")
    loaded = load(tmp_path / "one.parquet")
    assert loaded.columns["scores"] == ["p_a"]
    np.testing.assert_array_equal(loaded.scores[:, 0], [0.9, 0.2, 0.6])


@pytest.mark.parametrize("other", ["preds", "output"])
def test_a_vector_beside_score_columns_is_a_prediction_not_the_scores(tmp_path, wine, other):
    """A top-2 prediction or an embedding kept beside p_cat, p_dog, ...: the columns are the
    scores, and the list is not spread over them."""
    y, proba = wine
    frame = pd.DataFrame({"label": y, **{f"p_{j}": proba[:, j] for j in range(3)}})
    frame[other] = [list(np.argsort(-row)[:2]) for row in proba]
    frame.to_parquet(tmp_path / "side.parquet", index=False)
    frame.to_csv(tmp_path / "side.csv", index=False)
    for name in ("side.parquet", "side.csv"):
        loaded = load(tmp_path / name)
        assert loaded.columns["scores"] == ["p_0", "p_1", "p_2"]
        np.testing.assert_array_equal(loaded.scores, proba)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_lists_not_named_as_scores_or_labels_are_not_spread(tmp_path, fmt):
    """A bounding box or a list of warnings beside the score is no score vector."""
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"label": rng.integers(0, 2, 30), "score": rng.random(30).round(3)})
    frame["bbox"] = [list(rng.integers(0, 100, 4)) for _ in range(30)]
    frame["warnings"] = [[] for _ in range(30)]
    path = tmp_path / f"boxes.{fmt}"
    frame.to_csv(path, index=False) if fmt == "csv" else frame.to_parquet(path, index=False)
    loaded = load(path)
    assert loaded.task == "binary" and loaded.columns["scores"] == ["score"]


def test_a_sketch_of_score_vectors_is_one_sentence(tmp_path, wine):
    from thresholdlab.sketch_duckdb import sketch_files

    y, proba = wine
    frame = pd.DataFrame({"label": y})
    frame["probs"] = list(proba)
    frame.to_parquet(tmp_path / "lists.parquet", index=False)
    with pytest.raises(DataError, match=r"'lists.parquet' holds its scores or labels as one "
                                        r"vector per row \(read as p_0 and so on\), which a sketch "
                                        r"cannot count"):
        sketch_files([str(tmp_path / "lists.parquet")], n_bins=100)
