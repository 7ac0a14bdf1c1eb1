"""Columns beside the scores that are not the model's outputs, in files as users' code writes
them: a Keras output saved as ``pd.DataFrame(model.predict(x))``, ``clf.predict`` next to
``clf.predict_proba``, a fold, a weight, the top class's probability, a ``correct`` flag.

The scores are a scikit-learn model's on a bundled dataset, so each test can say which column
is the score and check what the loaded file scores against it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from thresholdlab.loading import load
from thresholdlab.predictions import DataError


@pytest.fixture(scope="module")
def binary():
    x, y = load_breast_cancer(return_X_y=True)
    model = LogisticRegression(max_iter=5000).fit(x[::2], y[::2])
    return y[1::2], model.predict_proba(x[1::2])[:, 1], model.predict(x[1::2])


@pytest.fixture(scope="module")
def iris():
    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=2000).fit(x[::2], y[::2])
    return y[1::2], model.predict_proba(x[1::2]), model.predict(x[1::2])


def _load(tmp_path, frame, name="preds.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return load(path)


def _scores_as(loaded, truth, probability):
    """The loaded file scores the positive class with ``probability``, truth as given."""
    assert loaded.task == "binary" and loaded.classes == ("1",)
    np.testing.assert_array_equal(loaded.labels[:, 0], truth == 1)
    np.testing.assert_allclose(loaded.probabilities[:, 0], probability, rtol=1e-15)
    assert roc_auc_score(loaded.labels[:, 0], loaded.probabilities[:, 0]) == roc_auc_score(
        truth, probability)


def test_a_lone_output_column_named_0_scores_label_1(tmp_path, binary):
    """``pd.DataFrame(model.predict(x))`` names its one column 0: a position, not label 0."""
    y, p, _ = binary
    frame = pd.DataFrame(p.reshape(-1, 1))
    frame["label"] = y
    _scores_as(_load(tmp_path, frame), y, p)


@pytest.mark.parametrize("names", [
    ("y_true", "y_prob", "y_pred"), ("label", "score", "predicted_label"),
    ("label", "probability", "predicted_class"), ("y_true", "y_pred_prob", "y_pred_label"),
    ("y", "y_pred_proba", "y_pred"), ("target", "y_proba", "y_hat"), ("label", "proba", "pred_class"),
])
@pytest.mark.parametrize("predicted_first", [False, True])
def test_predicted_labels_beside_the_probability_are_left_out(tmp_path, binary, names,
                                                              predicted_first):
    y, p, hard = binary
    truth, score, predicted = names
    order = [truth, predicted, score] if predicted_first else [truth, score, predicted]
    frame = pd.DataFrame({truth: y, score: p, predicted: hard})[order]
    loaded = _load(tmp_path, frame)
    _scores_as(loaded, y, p)
    assert loaded.columns["scores"] == [score]
    assert any(note.startswith(f"Column '{predicted}' holds predicted labels") for note in loaded.notes)


def test_a_0_1_column_of_the_same_class_as_a_probability_is_its_prediction(tmp_path, binary):
    y, p, hard = binary
    loaded = _load(tmp_path, pd.DataFrame({"label": y, "p_malignant": p, "pred_malignant": hard}))
    assert loaded.columns["scores"] == ["p_malignant"] and loaded.classes == ("malignant",)
    np.testing.assert_allclose(loaded.probabilities[:, 0], p, rtol=1e-15)


@pytest.mark.parametrize("extra", ["fold", "is_test", "sample_weight", "age", "weight", "threshold",
                                   "uncertainty"])
def test_numbers_beside_one_probability_are_not_a_second_output(tmp_path, binary, extra):
    y, p, _ = binary
    rng = np.random.default_rng(0)
    values = {
        "fold": np.arange(len(y)) % 2, "is_test": rng.integers(0, 2, len(y)),
        "sample_weight": rng.uniform(0.5, 3.0, len(y)).round(3), "age": rng.integers(18, 90, len(y)),
        "weight": np.where(y == 1, 1.0, 0.6),  # a class weight: the label itself
        "threshold": np.full(len(y), 0.5), "uncertainty": rng.uniform(0, 0.2, len(y)).round(4),
    }[extra]
    loaded = _load(tmp_path, pd.DataFrame({"label": y, "proba": p, extra: values}))
    _scores_as(loaded, y, p)
    assert loaded.columns["scores"] == ["proba"]
    assert (f"The numeric columns 'proba', '{extra}' do not sum to 1 in each row, so they are not "
            "one model's two outputs: 'proba',") in " ".join(loaded.notes)


def test_two_probabilities_alike_stay_binary_on_the_second(tmp_path, binary):
    """Two sigmoid heads, neither named as the score: the input rules decide, as before."""
    y, p, _ = binary
    loaded = _load(tmp_path, pd.DataFrame({"label": y, "head_a": p, "head_b": (1 - p) ** 2}))
    assert loaded.task == "binary" and loaded.columns["scores"] == ["head_b"]


def test_a_logit_beside_a_weight_is_the_score(tmp_path, binary):
    y, p, _ = binary
    logit = np.log(p) - np.log1p(-p)
    loaded = _load(tmp_path, pd.DataFrame({"label": y, "logit": logit,
                                           "weight": np.where(y == 1, 1.0, 0.6)}))
    assert loaded.columns["scores"] == ["logit"] and loaded.score_kind == "logit"


def test_the_predicted_class_probability_beside_the_score_is_left_out(tmp_path, binary):
    y, p, _ = binary
    loaded = _load(tmp_path, pd.DataFrame({"label": y, "prob": p,
                                           "confidence": np.maximum(p, 1 - p)}))
    _scores_as(loaded, y, p)
    assert any(note.startswith("Column 'confidence' is the higher of 'prob' and 1 - 'prob'")
               for note in loaded.notes)


def test_a_multi_label_any_label_keeps_its_score(tmp_path):
    """The score of an "any" label is the others' maximum, and it is a label's score."""
    rng = np.random.default_rng(4)
    p = rng.random((200, 2))
    truth = rng.random((200, 2)) < 0.3
    frame = pd.DataFrame({"y_cat": truth[:, 0], "y_dog": truth[:, 1], "y_any": truth.any(axis=1),
                          "p_cat": p[:, 0], "p_dog": p[:, 1], "p_any": p.max(axis=1)})
    loaded = _load(tmp_path, frame.astype({c: int for c in ("y_cat", "y_dog", "y_any")}))
    assert loaded.task == "multilabel" and loaded.classes == ("cat", "dog", "any")


@pytest.mark.parametrize("names, classes", [
    ([f"p_{c}" for c in "ABCP"], ("A", "B", "C", "P")),
    (["p_n", "p_y"], ("y",)),
])
def test_one_letter_classes_keep_their_prefix(tmp_path, names, classes):
    rng = np.random.default_rng(5)
    proba = rng.dirichlet(np.ones(len(names)), 40)
    labels = (np.array([n[2:] for n in names])[proba.argmax(axis=1)] if len(names) > 2
              else np.where(proba[:, 1] > 0.5, "y", "n"))
    frame = pd.DataFrame(proba, columns=names)
    frame["label"] = labels
    assert _load(tmp_path, frame).classes == classes


@pytest.mark.parametrize("kind", ["probabilities", "logits"])
def test_a_two_output_model_stays_binary_on_its_second_output(tmp_path, binary, kind):
    y, p, _ = binary
    pair = np.column_stack([1 - p, p])
    if kind == "logits":
        pair = np.column_stack([np.zeros_like(p), np.log(p) - np.log1p(-p)])
    frame = pd.DataFrame(pair)
    frame["label"] = y
    loaded = _load(tmp_path, frame)
    # Two logits: the positive class's probability is the sigmoid of their difference.
    assert loaded.task == "binary"
    assert loaded.columns["scores"] == (["1"] if kind == "probabilities" else ["0", "1"])
    np.testing.assert_allclose(loaded.probabilities[:, 0], p, rtol=1e-9)


def test_a_correct_flag_beside_a_softmax_is_not_a_class(tmp_path, iris):
    """``pd.DataFrame(model.predict_proba(x))`` with the truth, the prediction and whether it
    was right: the flag would win every argmax it is 1 in."""
    y, proba, hard = iris
    frame = pd.DataFrame(proba)
    frame["y_true"], frame["y_pred"], frame["correct"] = y, hard, (y == hard).astype(int)
    loaded = _load(tmp_path, frame)
    assert loaded.classes == ("0", "1", "2") and loaded.columns["scores"] == ["0", "1", "2"]
    np.testing.assert_array_equal(loaded.probabilities.argmax(axis=1), proba.argmax(axis=1))
    assert any(note.startswith("Column 'correct' is not a class") for note in loaded.notes)


@pytest.mark.parametrize("prefix, extra", [("", "confidence"), ("", "max_prob"),
                                           ("prob_", "pred_confidence")])
def test_the_top_class_probability_is_not_a_class(tmp_path, iris, prefix, extra):
    y, proba, _ = iris
    names = ["setosa", "versicolor", "virginica"]
    frame = pd.DataFrame(proba, columns=[prefix + n for n in names])
    frame["label"], frame[extra] = np.array(names)[y], proba.max(axis=1)
    loaded = _load(tmp_path, frame)
    assert loaded.classes == tuple(names) and extra in loaded.columns["ignored"]
    if not prefix:
        assert any(note.startswith(f"Column '{extra}' is the highest of the other scores")
                   for note in loaded.notes)


def test_a_class_absent_from_the_labels_stays_a_class(tmp_path, iris):
    """Columns not named after a label are kept when the named ones alone do not sum to 1."""
    y, proba, _ = iris
    frame = pd.DataFrame(np.column_stack([proba * 0.9, np.full(len(y), 0.1)]),
                         columns=["cat", "dog", "fox", "owl"])
    frame["label"] = np.array(["cat", "dog", "fox"])[y]
    assert _load(tmp_path, frame).classes == ("cat", "dog", "fox", "owl")


def test_the_top_class_rule_looks_at_every_row_before_it_drops_a_column():
    """The first rows only find candidates: a column that is the row maximum there but not
    further down is a score."""
    from thresholdlab.loading.extra_columns import top_class_columns

    rng = np.random.default_rng(3)
    proba = rng.dirichlet([1, 1, 1], 5000)
    frame = pd.DataFrame(proba, columns=["a", "b", "c"])
    frame["top"] = proba.max(axis=1)
    assert top_class_columns(frame, ["a", "b", "c", "top"]) == ["top"]
    frame.loc[4000, "top"] = 0.0
    assert top_class_columns(frame, ["a", "b", "c", "top"]) == []


def test_a_prior_baseline_keeps_every_class(tmp_path):
    """DummyClassifier(strategy="prior"): the same 0.4, 0.4, 0.1, 0.1 in every row. Two
    columns tie for the top, and no column is the others' maximum."""
    frame = pd.DataFrame({"label": [0, 2, 1, 3, 0, 1] * 5, "p_0": 0.4, "p_1": 0.4, "p_2": 0.1,
                          "p_3": 0.1})
    assert _load(tmp_path, frame).classes == ("0", "1", "2", "3")
